"""How `orderhub order show` shows the request an order kept (cli.shown_requests): the customer's identity
data masked as its customer line masks the record's, whatever the API; the rest as sent."""

from __future__ import annotations

from datetime import UTC, datetime

from orderhub.cli.shown_requests import masked_value, shown_request
from orderhub.domain.customers import Customer, Identity
from orderhub.domain.erasure import Mentions
from orderhub.observability import mask_identity

NOW = datetime(2026, 12, 9, tzinfo=UTC)


def customer(email: str | None = None, identity: Identity | None = None) -> Customer:
    return Customer(id="c1", partner_id="p", email=email, created_at=NOW, name="Jane Doe", identity=identity)


def test_a_tmf_customers_passport_is_masked_wherever_the_request_holds_it() -> None:
    # The customer line shows "Passport *******91"; the request showed the number itself.
    request = {"order": {
        "relatedParty": [
            {"id": "QX7734491", "role": "Customer", "name": "Jane Doe",
             "characteristic": [{"name": "identificationType", "value": "Passport"}]},
            {"id": "shop-7", "role": "Seller", "name": "Corner shop"},
        ],
        "note": [{"text": "checked passport qx7734491 at the desk"}],
        "productOrderItem": [
            {"id": "1", "product": {"productCharacteristic": [{"name": "MSISDN", "value": "69877689"}]}}
        ],
    }}  # fmt: skip
    shown = shown_request(request, customer(identity=Identity("Passport", "QX7734491")))
    parties = shown["order"]["relatedParty"]
    assert parties[0] == {**request["order"]["relatedParty"][0], "id": "*******91"}  # type: ignore[index]
    assert parties[0]["id"] == mask_identity("QX7734491")  # as the customer line shows it
    assert parties[1] == request["order"]["relatedParty"][1]  # type: ignore[index]
    assert shown["order"]["note"] == [{"text": "checked passport *******91 at the desk"}]
    assert shown["order"]["productOrderItem"] == request["order"]["productOrderItem"]  # an MSISDN: the line's


def test_onapi_customer_details_identifying_fields_are_masked_and_names_stay() -> None:
    details = {
        "identifiedCustomer": True, "personalIdentityNumber": "19850709-3477", "customerFirstname": "Jane",
        "customerLastName": "Doe", "customerPhone": "+46701112233", "customerMobilePhone": "+46709998877",
        "customerEmail": "Jane.Doe@Example.org", "invoiceDetails": {"streetName": "Main", "postalCode": "12345"},
    }  # fmt: skip
    request = {"coId": "Acme", "customerDetails": details, "comment": "call +46709998877 or Jane.Doe@Example.org"}
    shown = shown_request(request, customer(identity=Identity("personalIdentityNumber", "198507093477")))
    assert shown["customerDetails"] == {
        **details, "personalIdentityNumber": "***********77", "customerPhone": "**********33",
        "customerMobilePhone": "**********77", "customerEmail": "J***@Example.org",
    }  # fmt: skip
    # Elsewhere, as the logs mask it: the e-mail; a phone number there is the partner's words, as sent.
    assert shown["comment"] == "call +46709998877 or J***@Example.org"


def test_the_customers_email_is_masked_in_any_case_and_a_short_id_only_where_it_stands_whole() -> None:
    request = {
        "input": {"customer": {"email": "JANE@DOE"}, "ref": "AB123", "other": "AB1234", "reason": "for jane@doe"}
    }
    shown = shown_request(request, customer(email="jane@doe", identity=Identity("NationalId", "AB123")))
    # "jane@doe" is no e-mail to the logs' pattern (no dot in its domain): masked as the record's all the same.
    assert shown == {"input": {"customer": {"email": "******OE"}, "ref": "***23", "other": "AB1234",
                               "reason": "for ******oe"}}  # fmt: skip


def test_no_customer_record_leaves_what_the_logs_mask() -> None:
    request = {"a": "x@example.com", "b": "19121212-1212", "c": "QX7734491", "d": [1, True, None]}
    assert shown_request(request, None) == {"a": "x***@example.com", "b": "********-****", "c": "QX7734491",
                                            "d": [1, True, None]}  # fmt: skip


def test_masked_values_are_shown_as_the_customer_line_shows_the_record() -> None:
    assert masked_value("john@doe.com") == "j***@doe.com"
    assert masked_value("+46701234567") == "**********67"
    assert Mentions(["QX7734491"]).masked_in({"QX7734491": ["x QX7734491 y", 7]}, masked_value) == {
        "QX7734491": ["x *******91 y", 7]
    }  # names of members are the API's
