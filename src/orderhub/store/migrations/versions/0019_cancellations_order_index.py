"""cancellations: an index on order_id, for the cancellation that cancelled an order (a TMF622
cancellation asked again) and for a customer's erasure, which reads their orders' cancellations

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

"""

# Renumbering (another change taking 0019 first): change revision, down_revision and the file's name;
# nothing else here depends on the number.

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Without it both read every partner's cancellations. An index only: the previous release ignores it.
    op.create_index("ix_cancellations_order_id", "cancellations", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_cancellations_order_id", table_name="cancellations")
