"""What erasing a customer takes out of the requests each API keeps (domain.erasure and the dialects'
erasure modules), and how the note it leaves in an order's history is shown to TMF622 listeners."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from orderhub.dialects.esim_v1.erasure import erase_customer as erase_esim_customer
from orderhub.dialects.onapi.erasure import erase_customer as erase_onapi_customer
from orderhub.dialects.tmf622.mapping import event_envelope
from orderhub.dialects.tmf_productorder.erasure import erase_customer as erase_line_customer
from orderhub.domain.erasure import ERASED, ERASURE_REASON, Mentions, erased, id_eraser, note_erasure
from orderhub.domain.order_states import OrderState
from orderhub.domain.orders import Operation, Order, OrderItem
from orderhub.services.hub import PendingEvent

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)


def test_erased_keeps_the_shape_and_the_members_named() -> None:
    value = {"a": "x", "b": [1, 2.5, True, None, {"c": "y", "keep": "z"}], "keep": "k", "d": {}}
    assert erased(value, keep=("keep",)) == {
        "a": ERASED, "b": [ERASED, ERASED, True, None, {"c": ERASED, "keep": "z"}], "keep": "k", "d": {}
    }  # fmt: skip


def test_mentions_take_texts_that_name_the_customer_and_leave_the_rest() -> None:
    mentions = Mentions(["Jane.Doe@Example.com", "Jane Doe", "198507093477", "Jane", "Stockholm", "12345", ERASED])
    request = {
        "note": [{"text": "JANE DOE called", "author": "Shop"}, {"text": "mail jane.doe@example.com"}],
        "id": "ref-198507093477",
        "city": "Stockholm",  # a word alone: not distinctive
        "postal": "12345",  # five digits: not distinctive
        "first": "Jane",
        "kept": ERASED,
        "number": 198507093477,  # numbers are the API's
    }
    assert mentions.erase_in(request) == {
        "note": [{"text": ERASED, "author": "Shop"}, {"text": ERASED}], "id": ERASED, "city": "Stockholm",
        "postal": "12345", "first": "Jane", "kept": ERASED, "number": 198507093477,
    }  # fmt: skip
    assert not Mentions(["Jane", ERASED, "SE"])


def test_esim_v1_erases_the_customer_object_whole() -> None:
    customer = {"email": "jane@doe.com", "countryOfResidence": "SE", "extra": {"phone": "+4670"}}
    request = {"input": {"operationType": "NEW_ESIM", "esim": {"iccid": "8935"}, "customer": customer}}
    kept, found = erase_esim_customer(request)
    erased_customer = {"email": ERASED, "countryOfResidence": ERASED, "extra": {"phone": ERASED}}
    assert kept == {"input": {**request["input"], "customer": erased_customer}}
    assert found == ["jane@doe.com", "SE", "+4670"]
    assert erase_esim_customer({"input": {}}) == ({"input": {}}, [])


def test_onapi_erases_the_customer_details_but_whether_they_are_identified() -> None:
    details = {"identifiedCustomer": True, "personalIdentityNumber": "19850709-3477", "customerFirstname": "Jane",
               "invoiceDetails": {"streetName": "Main", "postalCode": "12345"}}  # fmt: skip
    kept, found = erase_onapi_customer({"coId": "Acme", "customerDetails": details})
    assert kept == {"coId": "Acme", "customerDetails": {
        "identifiedCustomer": True, "personalIdentityNumber": ERASED, "customerFirstname": ERASED,
        "invoiceDetails": {"streetName": ERASED, "postalCode": ERASED},
    }}  # fmt: skip
    assert found == ["19850709-3477", "Jane", "Main", "12345"]


def test_line_orders_erase_the_customer_party_and_keep_the_seller_and_the_characteristics_names() -> None:
    customer = {"id": "QX1", "role": "Customer", "name": "Jane Doe", "@referredType": "Individual", "href": "https://crm/jane",
                "characteristic": [{"name": "identificationType", "value": "Passport"}]}  # fmt: skip
    seller = {"id": "shop-7", "role": "Seller", "name": "Corner shop"}
    request = {"businessId": "CR", "order": {"category": "x", "relatedParty": [seller, customer]}}
    kept, found = erase_line_customer(request)
    assert kept == {"businessId": "CR", "order": {"category": "x", "relatedParty": [seller, {
        "id": ERASED, "role": "Customer", "name": ERASED, "@referredType": "Individual", "href": ERASED,
        "characteristic": [{"name": "identificationType", "value": ERASED}],
    }]}}  # fmt: skip
    assert found == ["QX1", "Jane Doe", "https://crm/jane", "Passport"]
    assert erase_line_customer({"businessId": "CR", "order": {}}) == ({"businessId": "CR", "order": {}}, [])


def test_the_note_of_an_erasure_changes_no_state_nor_date_and_tmf622_listeners_hear_of_a_changed_order() -> None:
    created = NOW - timedelta(days=30)
    order = Order.accept(now=created, id="o-1", partner_id="shop", dialect="tmf622", operation=Operation.LINE_PRODUCTS,
                         customer_id="c-1", items=[OrderItem(seq=1, product_id="OFFER-DP-001")], reference="ORD-1",
                         request={"order": {"relatedParty": [{"id": "QX1", "role": "Customer"}]}})  # fmt: skip
    order.start(created)
    order.complete(None, created)  # type: ignore[arg-type]
    order.new_events.clear()
    request = {"order": {"relatedParty": [{"id": ERASED, "role": "Customer"}]}}

    note_erasure(order, request, NOW)

    (note,) = order.new_events
    assert (note.from_state, note.to_state, note.reason, note.at) == (
        OrderState.COMPLETED, OrderState.COMPLETED, ERASURE_REASON, NOW
    )  # fmt: skip
    assert note.snapshot is not None and note.snapshot.request == request and order.request == request
    shown = order.as_at(note)
    assert (shown.state, shown.updated_at) == (OrderState.COMPLETED, created)  # its completion date stays
    envelope = event_envelope(PendingEvent(shown, note, 7), "https://orderhub.example")
    assert envelope["eventType"] == "ProductOrderAttributeValueChangeEvent"
    assert envelope["event"]["productOrder"]["relatedParty"] == [{"id": ERASED, "role": "Customer"}]
    assert envelope["event"]["productOrder"]["completionDate"] == "2026-11-09T10:00:00.000Z"


def test_an_erased_id_is_an_id_still_and_tells_nothing_of_what_it_was() -> None:
    erased_id = id_eraser()
    first, again, other = erased_id("jane@doe.com"), erased_id("jane@doe.com"), erased_id("JANE@doe.com")
    assert re.fullmatch(r"erased-[0-9a-f]{32}", first) and first == again != other  # unique keys stay unique
    assert id_eraser()("jane@doe.com") != first  # keyed anew each erasure: no hash of a guess finds it
    assert Mentions(["jane@doe.com"]).holds("corr-JANE@DOE.COM") and not Mentions(["jane@doe.com"]).holds(first)
