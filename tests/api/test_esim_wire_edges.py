"""esim-v1 wire edges found by an audit: deprecation signals, strict field formats, answers of last resort."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.support import SEED_PRODUCT, new_esim_body, place, unique_email


@pytest.mark.parametrize(
    "spelling",
    [
        {"allowanceId": SEED_PRODUCT, "product_id": SEED_PRODUCT, "id": None},
        {"allowanceId": SEED_PRODUCT, "product_id": SEED_PRODUCT},
        {"allowanceId": SEED_PRODUCT},
    ],
    ids=["with-product_id", "with-product_id-and-id", "with-id"],
)
def test_allowance_id_is_signalled_whenever_sent(client: httpx.Client, reseller: str, spelling: dict[str, Any]) -> None:
    answer = place(client, reseller, new_esim_body(unique_email(), **spelling))
    assert answer.status_code == 201, answer.text
    assert answer.headers["Deprecation"] == "@1704067200"
    assert answer.headers["X-Deprecated-Fields"] == "subscriptions.allowanceId"


def test_a_null_allowance_id_is_not_signalled(client: httpx.Client, reseller: str) -> None:
    answer = place(client, reseller, new_esim_body(unique_email(), allowanceId=None))
    assert answer.status_code == 201, answer.text
    assert "Deprecation" not in answer.headers
