"""Swedish personal identity numbers as ON-API asks for them."""

from __future__ import annotations

from datetime import date

import pytest

from orderhub.domain.identifiers import luhn_check_digit, personal_identity_number_valid

TODAY = date(2026, 11, 24)


def with_check_digit(first_nine: str) -> str:
    """YYMMDDNNN -> YYMMDDNNNC."""
    return first_nine + str(luhn_check_digit(first_nine))


@pytest.mark.parametrize(
    "number",
    [
        "19121212-1212",  # the well-known test number
        "191212121212",  # without the dash
        "121212-1212",  # short form, under 100
        "121212+1212",  # short form, 100 or older
        "1212121212",  # short form without a separator: as with "-"
        with_check_digit("121272121"),  # a coordination number in that form
        "19" + with_check_digit("121272121")[:6] + "-" + with_check_digit("121272121")[6:],  # coordination number
        "20" + with_check_digit("240229123")[:6] + "-" + with_check_digit("240229123")[6:],  # 29 February 2024
    ],
)
def test_valid_numbers(number: str) -> None:
    assert personal_identity_number_valid(number, TODAY)


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("19121212-1213", "wrong check digit"),
        ("1212121213", "wrong check digit, 10 digits"),
        (with_check_digit("990230123"), "30 February, 10 digits"),
        (with_check_digit("121332121"), "month 13, 10 digits"),
        ("121212121", "9 digits"),
        ("12121212121", "11 digits"),
        ("string", "not a number"),
        ("", "empty"),
        ("1912121-21212", "dash misplaced"),
        ("19" + with_check_digit("990230123")[:6] + "-" + with_check_digit("990230123")[6:], "30 February"),
        ("20" + with_check_digit("230229123")[:6] + "-" + with_check_digit("230229123")[6:], "29 February 2023"),
        ("19" + with_check_digit("121332121")[:6] + "-" + with_check_digit("121332121")[6:], "month 13"),
        ("20" + with_check_digit("301212121")[:6] + "-" + with_check_digit("301212121")[6:], "born in 2030"),
        ("19" + with_check_digit("121292121")[:6] + "-" + with_check_digit("121292121")[6:], "day 92"),
    ],
)
def test_invalid_numbers(number: str, why: str) -> None:
    assert not personal_identity_number_valid(number, TODAY), why


def test_the_short_form_takes_the_century_that_makes_the_person_younger_than_100() -> None:
    # Born 2012 ("-"): valid; the same digits with "+" mean 1912, also valid; a date later this year
    # in the short form means a century ago (not a birth in the future).
    assert personal_identity_number_valid("121212-1212", TODAY)
    later_this_year = with_check_digit("261224123")
    assert personal_identity_number_valid(f"{later_this_year[:6]}-{later_this_year[6:]}", TODAY)
    # Without a separator the short form reads as with "-": a date later this year is a century ago too.
    assert personal_identity_number_valid(later_this_year, TODAY)
