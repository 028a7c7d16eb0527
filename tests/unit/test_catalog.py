"""Product validation: what keeps a product out of the catalog."""

from decimal import Decimal

import pytest

from orderhub.domain.catalog import Product, currency_valid, product_id_valid

GOOD = Product(
    id="esim.eu-10gb_30d:v1",
    name="Europe 10 GB / 30 days",
    data_mb=10240,
    validity_days=30,
    footprint=("SE", "DE"),
    prices={"EUR": Decimal("19.90"), "SEK": Decimal("0")},
)


def product(**fields) -> Product:
    base = {
        "id": GOOD.id,
        "name": GOOD.name,
        "data_mb": GOOD.data_mb,
        "validity_days": GOOD.validity_days,
        "prices": dict(GOOD.prices),
    }
    return Product(**{**base, **fields})


def test_good_product_has_no_problems():
    assert GOOD.validate() == []


def test_minimal_product_has_no_problems():
    assert Product(id="P1", name="x").validate() == []


@pytest.mark.parametrize("product_id", ["", "has space", "x" * 65, "slash/id", "ümlaut"])
def test_bad_id_is_a_problem(product_id):
    assert not product_id_valid(product_id)
    problems = product(id=product_id).validate()
    assert len(problems) == 1
    assert problems[0].startswith("id ")


def test_id_of_64_characters_is_fine():
    assert product(id="x" * 64).validate() == []


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_empty_name_is_a_problem(name):
    assert product(name=name).validate() == ["name is required"]


@pytest.mark.parametrize("amount", [Decimal("-0.01"), Decimal("-100")])
def test_negative_price_is_a_problem(amount):
    problems = product(prices={"EUR": amount}).validate()
    assert len(problems) == 1
    assert "EUR" in problems[0]
    assert "negative" in problems[0]


def test_zero_price_is_fine():
    assert product(prices={"EUR": Decimal("0")}).validate() == []


@pytest.mark.parametrize("currency", ["eur", "EURO", "EU", "E1R", ""])
def test_non_iso_currency_is_a_problem(currency):
    assert not currency_valid(currency)
    problems = product(prices={currency: Decimal("1")}).validate()
    assert len(problems) == 1
    assert "ISO 4217" in problems[0]


@pytest.mark.parametrize("days", [0, -1])
def test_non_positive_validity_is_a_problem(days):
    assert product(validity_days=days).validate() == ["validity_days must be positive"]


def test_values_beyond_what_the_store_and_the_calendar_hold_are_problems():
    # 3,000,000 days would end a subscription after the year 9999: a 500 at fulfilment, not at import.
    assert product(validity_days=3_000_000).validate() == ["validity_days must be at most 36500"]
    assert product(data_mb=2**31).validate() == ["data_mb must be at most 2147483647"]
    assert product(validity_days=36_500, data_mb=2**31 - 1).validate() == []


def test_negative_data_volume_is_a_problem():
    assert product(data_mb=-1).validate() == ["data_mb must not be negative"]


def test_every_problem_is_reported():
    bad = Product(id="", name="", data_mb=-1, validity_days=0, prices={"eur": Decimal("-1")})
    assert len(bad.validate()) == 6


@pytest.mark.parametrize(
    ("amount", "problem"),
    [("Infinity", "must be a number"), ("NaN", "must be a number"), ("-Infinity", "must be a number"),
     ("1.00001", "more than 4 decimals")],
)  # fmt: skip
def test_money_is_finite_and_has_a_currencys_decimals(amount: str, problem: str) -> None:
    assert any(problem in p for p in product(prices={"USD": Decimal(amount)}).validate())
