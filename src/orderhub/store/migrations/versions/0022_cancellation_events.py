"""order_events.cancellation_id: the cancellation request a note of an order's history is about, so that
TMF622 listeners hear of the request itself (CancelProductOrderCreateEvent, ...StateChangeEvent)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

"""

# Renumbering (another change taking 0022 first): change revision, down_revision and the file's name,
# and the mentions of 0022 in README ("Upgrading to 0022") and in the comments that name it.

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONSTRAINT = "fk_order_events_cancellation_id_cancellations"


def upgrade() -> None:
    # Nullable, no default: every event stored before, and every event but a cancellation's notes, has
    # none, and the previous release's inserts leave it out. Adding it rewrites no row. No ON DELETE, as
    # the cancellations' own keys: nothing deletes a cancellation, and one that still has notes (events a
    # listener may be owed) is refused rather than taking them with it.
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with a foreign key in place (batch mode would copy the whole table).
        op.execute(
            f"ALTER TABLE order_events ADD COLUMN cancellation_id VARCHAR(36) CONSTRAINT {_CONSTRAINT}"
            " REFERENCES cancellations (id)"
        )
        return
    op.add_column("order_events", sa.Column("cancellation_id", sa.String(36), nullable=True))
    # NOT VALID, then VALIDATE: checking the (all NULL) existing rows then takes a lock that lets writes
    # to order_events go on, where a plain ADD CONSTRAINT would hold them for the whole scan.
    op.execute(
        f"ALTER TABLE order_events ADD CONSTRAINT {_CONSTRAINT} FOREIGN KEY (cancellation_id)"
        " REFERENCES cancellations (id) NOT VALID"
    )
    op.execute(f"ALTER TABLE order_events VALIDATE CONSTRAINT {_CONSTRAINT}")


def downgrade() -> None:
    # SQLite drops no column a foreign key names in place: batch mode copies the table without it.
    with op.batch_alter_table("order_events") as batch:
        if op.get_bind().dialect.name != "sqlite":
            batch.drop_constraint(_CONSTRAINT, type_="foreignkey")
        batch.drop_column("cancellation_id")
