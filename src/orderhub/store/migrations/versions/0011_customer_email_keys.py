"""customers: e-mails stored lower-cased (domain.customers.email_key), found whatever their case

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PAGE = 10_000


def upgrade() -> None:
    # Lower-cased in Python, as domain.customers.email_key does (str.lower): the databases' own lower()
    # differ from it, and from each other, beyond ASCII. Spelt out here: a migration must not change.
    connection = op.get_bind()
    customers = sa.table(
        "customers", sa.column("id"), sa.column("partner_id"), sa.column("email"), sa.column("created_at")
    )
    spelt: list[tuple[str, str, str, object]] = []  # e-mails with capitals: (id, partner, e-mail, created)
    last = ""
    while True:  # in pages by id, so that no cursor stays open across the updates below
        page = connection.execute(
            sa.select(customers.c.id, customers.c.partner_id, customers.c.email, customers.c.created_at)
            .where(customers.c.email.is_not(None), customers.c.id > last)
            .order_by(customers.c.id)
            .limit(_PAGE)
        ).all()
        if not page:
            break
        spelt += [(id_, partner, email, created) for id_, partner, email, created in page if email != email.lower()]
        last = page[-1][0]
    # Oldest first: of two customers whose e-mails differ only in case, the older one takes the key.
    # A customer whose key is taken keeps its spelling and is no longer found by e-mail (its orders and
    # eSIMs stay its own).
    for id_, partner, email, _created in sorted(spelt, key=lambda row: (str(row[3]), row[0])):
        key = email.lower()
        taken = connection.execute(
            sa.select(customers.c.id).where(customers.c.partner_id == partner, customers.c.email == key)
        ).first()
        if taken is None:
            connection.execute(customers.update().where(customers.c.id == id_).values(email=key))


def downgrade() -> None:
    pass  # the spellings are not kept: an e-mail stays lower-cased, which the older code finds as sent
