"""request path: config version for caches; indexes for allocation and the work queue

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_version")),
    )
    op.execute("INSERT INTO config_version (id, version) VALUES (1, 1)")
    # The allocator takes the oldest available profile: without this it scans every profile.
    op.create_index("ix_esim_profiles_allocation", "esim_profiles", ["state", "created_at", "iccid"])
    op.drop_index("ix_esim_profiles_state", table_name="esim_profiles")


def downgrade() -> None:
    op.create_index("ix_esim_profiles_state", "esim_profiles", ["state"])
    op.drop_index("ix_esim_profiles_allocation", table_name="esim_profiles")
    op.drop_table("config_version")
