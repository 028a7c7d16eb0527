"""MSISDN patterns whose match could backtrack for minutes are told apart from those that cannot."""

from __future__ import annotations

import pytest

from orderhub.domain.lines import MAX_MSISDN_LENGTH, BusinessUnit
from orderhub.domain.msisdn_patterns import nested_repetition


@pytest.mark.parametrize(
    "pattern",
    [
        "[0-9]{8}",
        r"(\+506)?[0-9]{8}",
        r"(\+?506)?[0-9]{8}",
        "(5[0-9]{7})|(6[0-9]{7})",
        r"(\d{2})+",  # repeats what does not vary: one way to match
        r"(\d+)(\d+)",  # side by side, not nested
        r"[(a+)]+",  # a character class, not a group
        r"\(a+\)+",  # escaped parentheses
        "[]a+]+",
        "(a{1,1})+",
        "(a{2}){3}",
        r"(?:\d{4}){2}",  # a group's kind is no quantifier
        r"(?:[0-9]{2})+",
        r"(?:\+506|00506)?[0-9]{8}",  # alternatives, not repeated
        "(?=6)[0-9]{8}",
    ],
)
def test_patterns_that_match_in_one_way_are_kept(pattern: str) -> None:
    assert nested_repetition(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "named"),
    [
        ("(a+)+$", "(a+)+"),
        ("((a+)+)+$", "(a+)+"),
        ("([0-9]*)*", "([0-9]*)*"),
        ("(a?a?)+$", "(a?a?)+"),  # optional parts vary too
        (r"(\d+){2}", r"(\d+){2}"),
        ("(?:a|b+)*", "(?:a|b+)*"),
        ("(a{,3})+", "(a{,3})+"),
        ("(a++)+", "(a++)+"),  # possessive and lazy forms are still quantifiers
        ("(a+?)*?", "(a+?)*?"),
        (r"((\d+))+", r"((\d+))+"),
        ("(1|1|1|1)+", "(1|1|1|1)+"),  # alternatives that match the same text
        (r"(?P<n>\d+)+", r"(?P<n>\d+)+"),
    ],
)
def test_a_group_that_repeats_a_varying_repetition_is_named(pattern: str, named: str) -> None:
    assert nested_repetition(pattern) == named


def test_a_number_longer_than_any_msisdn_is_refused_before_the_pattern_runs() -> None:
    unit = BusinessUnit("CR", "Costa Rica", "America/Costa_Rica", "[0-9]+", "digits")
    assert unit.msisdn_valid("6" * MAX_MSISDN_LENGTH)
    assert not unit.msisdn_valid("6" * (MAX_MSISDN_LENGTH + 1))
    assert "varies in length" in " ".join(
        BusinessUnit("CR", "Costa Rica", "America/Costa_Rica", "(a+)+", "").problems()
    )
