"""Products that can be sold, with their prices per currency."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from orderhub.domain.countries import country_code_valid

_CURRENCY = re.compile(r"^[A-Z]{3}\Z")
# No currency has a finer minor unit than this (ISO 4217 exponents are 0 to 4).
MAX_PRICE_DECIMALS = 4
# The largest price esim-v1 takes from a partner (14 digits, 4 of them decimals): a catalog price must be
# one a partner can send back, and one that esim-v1 shows without an exponent ("1E+30").
MAX_PRICE_DIGITS = 14
# A price as text: plain ASCII decimal digits. Decimal() would also read "1e3", "1_0", " 10 " and
# Arabic-Indic digits, which no partner means as a price.
_PRICE_LIMIT = Decimal(10) ** (MAX_PRICE_DIGITS - MAX_PRICE_DECIMALS)
PRICE_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_PRODUCT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}\Z")


class ProductKind(StrEnum):
    ESIM_DATA = "esim_data"
    # Sold on mobile lines by business units (as a Plan, DataPlan or Addon: domain.lines.Offering).
    LINE_OFFERING = "line_offering"
    # A service on a network access (open-access fibre), ordered as one of its offerings.
    NETWORK_SERVICE = "network_service"


def currency_valid(code: str) -> bool:
    return bool(_CURRENCY.match(code))


def product_id_valid(product_id: str) -> bool:
    return bool(_PRODUCT_ID.match(product_id))


NOT_ONE_LINE = "name must be one line of text (no newline, tab or other control character)"


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a newline, a tab, an escape or another control character: a name shown in
    lists and logs one line a thing, and on an operator's terminal, has none."""
    return any(unicodedata.category(char) == "Cc" for char in text)


def price_problem(amount: Decimal) -> str | None:
    """What keeps ``amount`` from being a price (None when it is one), as esim-v1 reads prices."""
    if not amount.is_finite():
        return "must be a number"
    if amount < 0:
        return "must not be negative"
    exponent = amount.as_tuple().exponent  # an int for every finite amount
    if isinstance(exponent, int) and exponent < -MAX_PRICE_DECIMALS:
        return f"has more than {MAX_PRICE_DECIMALS} decimals"
    # Compared by value, not by digits: 0E+20 is a price of zero.
    if amount >= _PRICE_LIMIT:
        return f"must be less than {_PRICE_LIMIT}"
    return None


# What the store's columns hold (32-bit integers) and what a subscription's end can be computed from
# (a validity of millions of days would pass the calendar's end when an order is fulfilled).
MAX_DATA_MB = 2**31 - 1
MAX_VALIDITY_DAYS = 36_500
# The store's column (PostgreSQL refuses a longer name, SQLite would keep it): refused alike on both.
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    kind: ProductKind = ProductKind.ESIM_DATA
    description: str = ""
    data_mb: int | None = None
    validity_days: int | None = None
    footprint: tuple[str, ...] = ()
    prices: dict[str, Decimal] = field(default_factory=dict)

    def validate(self) -> list[str]:
        """Problems that keep this product out of the catalog (empty when it is fine)."""
        problems = []
        if not product_id_valid(self.id):
            problems.append("id must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', ':', '-'")
        if not self.name.strip():
            problems.append("name is required")
        elif len(self.name) > MAX_NAME_LENGTH:
            problems.append(f"name must be at most {MAX_NAME_LENGTH} characters")
        elif has_control_characters(self.name):
            problems.append(NOT_ONE_LINE)
        if self.data_mb is not None and self.data_mb < 0:
            problems.append("data_mb must not be negative")
        elif self.data_mb is not None and self.data_mb > MAX_DATA_MB:
            problems.append(f"data_mb must be at most {MAX_DATA_MB}")
        if self.validity_days is not None and self.validity_days <= 0:
            problems.append("validity_days must be positive")
        elif self.validity_days is not None and self.validity_days > MAX_VALIDITY_DAYS:
            problems.append(f"validity_days must be at most {MAX_VALIDITY_DAYS}")
        # esim-v1 checks a partner's country codes against the same list (domain.countries).
        not_countries = [code for code in self.footprint if not country_code_valid(code)]
        if not_countries:
            codes = ", ".join(repr(code) for code in not_countries)
            problems.append(f"footprint holds what is no ISO 3166-1 alpha-2 country code (such as PT): {codes}")
        for currency, amount in self.prices.items():
            if not currency_valid(currency):
                problems.append(f"currency {currency!r} is not an ISO 4217 code")
            problem = price_problem(amount)
            if problem is not None:
                problems.append(f"price in {currency} {problem}")
        return problems
