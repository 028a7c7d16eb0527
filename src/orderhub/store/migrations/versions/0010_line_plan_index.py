"""line_products: a line's products indexed by type and start, so its current plan is one lookup

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Before, every order on a line read and sorted all of the line's products to find its plan.
    op.create_index("ix_line_products_line_plans", "line_products", ["line_id", "plan_type", "starts_at"])
    op.drop_index("ix_line_products_line_id", table_name="line_products")


def downgrade() -> None:
    op.create_index("ix_line_products_line_id", "line_products", ["line_id"])
    op.drop_index("ix_line_products_line_plans", table_name="line_products")
