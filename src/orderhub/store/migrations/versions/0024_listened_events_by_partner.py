"""order_events.partner_id: the events listeners hear of, found by their partner, so that a TMF622 listener's
pending events cost what is pending, not the partner's whole order history

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07

"""

# Renumbering (another change taking 0024 first): change revision, down_revision and the file's name,
# and the mentions of 0024 in README ("Upgrading to 0024") and in the comments that name it.

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The operations whose orders listeners hear about when this was written (domain LISTENED_OPERATIONS).
_LISTENED = "('LINE_PRODUCTS')"
_INDEX = "ix_order_events_listened"
_TRIGGER = "order_events_listened_partner"


def upgrade() -> None:
    # Nullable: the events no listener hears of (esim-v1's hot path, onapi-order's) keep none, and their
    # inserts stay as they were; the partial index holds the listened events alone.
    op.add_column("order_events", sa.Column("partner_id", sa.String(36), nullable=True))
    op.execute(
        "UPDATE order_events SET partner_id = (SELECT o.partner_id FROM orders o WHERE o.id = order_events.order_id)"
        f" WHERE order_id IN (SELECT id FROM orders WHERE operation IN {_LISTENED})"
    )
    op.create_index(
        _INDEX,
        "order_events",
        ["partner_id", "id"],
        sqlite_where=sa.text("partner_id IS NOT NULL"),
        postgresql_where=sa.text("partner_id IS NOT NULL"),
    )
    # While an older release serves beside this one, its inserts leave the column out: each event that
    # keeps a snapshot (a listened order's, from 0013 on) is given its order's partner by the database.
    # A later release drops the trigger once no such release can be serving.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE TRIGGER {_TRIGGER} AFTER INSERT ON order_events"
            " WHEN NEW.partner_id IS NULL AND NEW.snapshot IS NOT NULL BEGIN"
            " UPDATE order_events SET partner_id = (SELECT partner_id FROM orders WHERE id = NEW.order_id)"
            " WHERE id = NEW.id; END"
        )
        return
    op.execute(
        f"CREATE FUNCTION {_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " NEW.partner_id := (SELECT partner_id FROM orders WHERE id = NEW.order_id); RETURN NEW; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {_TRIGGER} BEFORE INSERT ON order_events FOR EACH ROW"
        f" WHEN (NEW.partner_id IS NULL AND NEW.snapshot IS NOT NULL) EXECUTE FUNCTION {_TRIGGER}()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER} ON order_events")
        op.execute(f"DROP FUNCTION IF EXISTS {_TRIGGER}()")
    op.drop_index(_INDEX, table_name="order_events")
    with op.batch_alter_table("order_events") as batch:
        batch.drop_column("partner_id")
