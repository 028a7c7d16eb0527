"""orders: an index on the externalId a TMF622 partner gave its order, for `GET /productOrder?externalId=`
and `orderhub order list --external-id` (a partner's own id for an order it quotes)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07

"""

# Renumbering (another change taking 0025 first): change revision, down_revision and the file's name,
# and the mentions of 0025 in README ("Upgrading") and in store/order_search.py.

from collections.abc import Sequence

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


def upgrade() -> None:
    # Built in the migration's transaction, as every index before it: writes to orders wait meanwhile
    # (README, Upgrading). It reads the request of each TMF order once.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE INDEX {_INDEX} ON orders ({_SQLITE}) WHERE {_WHERE}")
    else:
        op.execute(f"CREATE INDEX {_INDEX} ON orders ({_POSTGRESQL}) WHERE {_WHERE}")


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="orders")
