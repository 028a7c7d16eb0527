"""orders: an index on the externalId a TMF622 partner gave its order, for `GET /productOrder?externalId=`
and `orderhub order list --external-id` (a partner's own id for an order it quotes)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07

"""

# Renumbering (another change taking 0025 first): change revision, down_revision and the file's name,
# and the mentions of 0025 in README ("Upgrading") and in store/order_search.py.

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_orders_external_id"
# On the request the order keeps, as the database reads it: no column to fill, so an older release
# serving beside this one (its inserts and PATCHes) keeps the index right too. Partial: the orders of
# the TMF APIs alone (their stored request is {"businessId", "order"}), so that no other order's insert
# reads its JSON. store/order_search.py asks with the same expressions, or the index goes unused.
_SQLITE = "json_extract(request, '$.order.externalId')"
# Its MD5 on PostgreSQL: an externalId has no length limit, and a B-tree refuses entries over ~2.7 kB (a
# hash index would take them, but not a list of values to look up).
_POSTGRESQL = "md5(request -> 'order' ->> 'externalId')"
_WHERE = "operation = 'LINE_PRODUCTS'"
# How JSON text spells NUL. Releases before 2026-12-06 kept one in a TMF order's request (any string or
# member name of the body); PostgreSQL reads no JSON holding it as text (22P05), and the index reads
# every line order's request: with one such order the migration failed, and the upgrade with it.
_NUL_IN_JSON = "\\u0000"
_NUL_REPLACED_BY = "\ufffd"


def upgrade() -> None:
    # Built in the migration's transaction, as every index before it: writes to orders wait meanwhile
    # (README, Upgrading). It reads the request of each TMF order once.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE INDEX {_INDEX} ON orders ({_SQLITE}) WHERE {_WHERE}")
    else:
        _replace_nul_in_line_orders(op.get_bind())
        op.execute(f"CREATE INDEX {_INDEX} ON orders ({_POSTGRESQL}) WHERE {_WHERE}")


def _replace_nul_in_line_orders(connection: sa.Connection) -> None:
    """The requests of line orders that hold a NUL hold U+FFFD in its place (README, Upgrading to 0025).
    Only rows whose text spells it are read (a spelling after an escaped backslash is no NUL: such a
    request reads back unchanged and is left as it is); their version moves, as what APIs show changes."""
    found = connection.execute(
        sa.text(
            f"SELECT id, CAST(request AS text) FROM orders WHERE {_WHERE} AND strpos(CAST(request AS text), :nul) > 0"
        ),
        {"nul": _NUL_IN_JSON},
    ).all()
    for order_id, text in found:
        request = json.loads(text)
        kept = _without_nul(request)
        if kept != request:
            connection.execute(
                sa.text("UPDATE orders SET request = CAST(:request AS json), version = version + 1 WHERE id = :id"),
                {"request": json.dumps(kept, ensure_ascii=False, separators=(",", ":")), "id": order_id},
            )


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", _NUL_REPLACED_BY)
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(name): _without_nul(item) for name, item in value.items()}
    return value


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="orders")
