"""Every format check holds to the whole text: Python's ``$`` also matches before a final newline, so
each pattern ends in ``\\Z`` (a value with a trailing "\\n" is not the value). Where a dialect strips
the text before it checks it (esim-v1's e-mail, ICCIDs), the stripped value is the one kept."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orderhub.domain.accesses import ONAPI_ID
from orderhub.domain.catalog import currency_valid, product_id_valid
from orderhub.domain.customers import email_valid
from orderhub.domain.identifiers import eid_valid, luhn_valid, matching_id_valid, smdp_host_valid
from orderhub.services.partners import _PARTNER_ID


def _onapi_id(text: str) -> bool:
    return ONAPI_ID.match(text) is not None


def partner_id_valid(text: str) -> bool:
    return _PARTNER_ID.match(text) is not None


CHECKS: list[tuple[Callable[[str], bool], str]] = [
    (_onapi_id, "8732c2f065e2490babce820e94b1011a"),
    (email_valid, "anna@example.se"),
    (currency_valid, "SEK"),
    (product_id_valid, "fiber-internet"),
    (luhn_valid, "79927398713"),
    (matching_id_valid, "QR-G-5C-1LS-1W1Z9P7"),
    (smdp_host_valid, "smdp.example.com"),
    (partner_id_valid, "demo-co-acme"),
]


@pytest.mark.parametrize(("check", "valid"), CHECKS, ids=[check.__name__ for check, _ in CHECKS])
def test_a_valid_value_with_a_trailing_newline_is_not_valid(check: Callable[[str], bool], valid: str) -> None:
    assert check(valid)
    assert not check(valid + "\n")


def test_an_eid_with_a_trailing_newline_is_not_valid() -> None:
    eid = "89049032123451234512345678901235"
    assert eid_valid(eid)
    assert not eid_valid(eid[:-1] + "\n")
