"""customers: ON-API's personal identity numbers kept in their canonical 12 digits YYYYMMDDXXXX

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

"""

# Renumbering (another change taking 0014 first): change revision, down_revision and the file's name;
# nothing else here depends on the number.

import re
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KIND = "personalIdentityNumber"
_DIALECT = "onapi-order"
_LONG = re.compile(r"(\d{2})(\d{2})(\d{2})(\d{2})-?(\d{4})")
_SHORT = re.compile(r"(\d{2})(\d{2})(\d{2})([-+]?)(\d{4})")


def _canonical(text: str, today: date) -> str | None:
    """domain.identifiers.personal_identity_number as this revision ships it, spelt out: a migration
    must not change when the domain does. ``today`` is the day the customer was stored, the day its
    number was validated: its century is the one the order meant then."""
    full = _LONG.fullmatch(text)
    if full is not None:
        century, year, month, day, serial = full.groups()
        born_year = int(century + year)
        sign = ""
    else:
        short = _SHORT.fullmatch(text)
        if short is None:
            return None
        year, month, day, sign, serial = short.groups()
        born_year = today.year - ((today.year - int(year)) % 100) - (100 if sign == "+" else 0)
    real_day = int(day) - 60 if int(day) > 60 else int(day)
    try:
        born = date(born_year, int(month), real_day)
        if full is None and sign != "+" and born > today:
            born = date(born_year - 100, int(month), real_day)
    except ValueError:
        return None
    if born > today or not _luhn_valid(f"{year}{month}{day}{serial}"):
        return None
    return f"{born.year:04d}{month}{day}{serial}"


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def upgrade() -> None:
    connection = op.get_bind()
    customers = sa.table(
        "customers",
        sa.column("id"),
        sa.column("partner_id"),
        sa.column("identity_type"),
        sa.column("identity_value"),
        sa.column("created_at", sa.DateTime()),
    )
    orders = sa.table("orders", sa.column("customer_id"), sa.column("dialect"))
    # Only ON-API's customers: identified by a personal identity number and ordered for by onapi-order
    # alone (a TMF partner's identification type may bear the same name: its customers keep their
    # numbers as the partner spells them, as TMF finds them). Those whose number is not its 12 digits
    # already: all the others are (12 characters without a dash are YYYYMMDDXXXX). One pass over the
    # orders (orders.customer_id has no index), and only the customers to rewrite are read.
    only_onapi = sa.func.min(sa.case((orders.c.dialect == _DIALECT, 1), else_=0))
    spelt = connection.execute(
        sa.select(customers.c.id, customers.c.partner_id, customers.c.identity_value, customers.c.created_at)
        .join(orders, orders.c.customer_id == customers.c.id)
        .where(
            customers.c.identity_type == _KIND,
            sa.or_(sa.func.length(customers.c.identity_value) != 12, customers.c.identity_value.contains("-")),
        )
        .group_by(customers.c.id, customers.c.partner_id, customers.c.identity_value, customers.c.created_at)
        .having(only_onapi == 1)
    ).all()
    # Oldest first: of two customers whose numbers are one, the one already canonical, else the older,
    # takes the canonical number (uq_customers_identity). The other keeps its spelling and its orders,
    # and is no longer found: the next order for that person finds the one with the canonical number.
    for id_, partner, number, created in sorted(spelt, key=lambda row: (row[3], row[0])):
        # The century as validation resolved it when the customer was stored (its first order's day).
        canonical = _canonical(number, created.date())
        if canonical is None or canonical == number:
            continue  # stored before numbers were validated as they are now: left as it is
        taken = connection.execute(
            sa.select(customers.c.id).where(
                customers.c.partner_id == partner,
                customers.c.identity_type == _KIND,
                customers.c.identity_value == canonical,
            )
        ).first()
        if taken is None:
            connection.execute(customers.update().where(customers.c.id == id_).values(identity_value=canonical))


def downgrade() -> None:
    pass  # the spellings are not kept: the older code finds a customer by the canonical number as sent
