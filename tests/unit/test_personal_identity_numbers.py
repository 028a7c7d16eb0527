"""Swedish personal identity numbers as ON-API asks for them."""

from __future__ import annotations

from datetime import date

import pytest

from orderhub.domain.identifiers import luhn_check_digit, personal_identity_number, personal_identity_number_valid

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


COORDINATION = with_check_digit("121272121")  # 12 December (12 + 60), 10 digits


@pytest.mark.parametrize(
    ("spellings", "canonical"),
    [
        (["19121212-1212", "191212121212", "121212+1212"], "191212121212"),  # born 1912: 100 or older
        (["20121212-1212", "201212121212", "121212-1212", "1212121212"], "201212121212"),  # born 2012
        ([COORDINATION, f"{COORDINATION[:6]}-{COORDINATION[6:]}", f"20{COORDINATION}"], f"20{COORDINATION}"),
        ([f"{COORDINATION[:6]}+{COORDINATION[6:]}", f"19{COORDINATION[:6]}-{COORDINATION[6:]}"], f"19{COORDINATION}"),
    ],
)
def test_every_spelling_of_a_number_is_one_canonical_number(spellings: list[str], canonical: str) -> None:
    assert {personal_identity_number(spelling, TODAY) for spelling in spellings} == {canonical}


def test_the_canonical_century_is_the_one_validation_takes_and_invalid_numbers_have_none() -> None:
    later_this_year = with_check_digit("261224123")  # 24 December: in the short form, a century ago
    assert personal_identity_number(later_this_year, TODAY) == "19" + later_this_year
    assert personal_identity_number(f"{later_this_year[:6]}-{later_this_year[6:]}", TODAY) == "19" + later_this_year
    # "+" takes the century before this year's: validation reads the birth as 1926 with either sign.
    assert personal_identity_number(f"{later_this_year[:6]}+{later_this_year[6:]}", TODAY) == "19" + later_this_year
    # The same short number on the day after the birthday reads as born this year.
    assert personal_identity_number(later_this_year, date(2026, 12, 24)) == "20" + later_this_year
    for number in ("19121212-1213", "1212121213", "string", "", "121212121", "20301212-1212"):
        assert personal_identity_number(number, TODAY) is None


@pytest.mark.parametrize("number", ["19121212-1212", "121212-1212", "121212+1212", "1212121212", "1212121213", "x"])
def test_a_number_is_valid_exactly_when_it_has_a_canonical_form(number: str) -> None:
    assert personal_identity_number_valid(number, TODAY) == (personal_identity_number(number, TODAY) is not None)
