"""The rendered-orders cache (services.rendered_orders) has a bound, and what it keeps of an esim-v1
order costs about its answer's length: orjson's bytes keep the buffer they were written into, several
times longer, which made the cache's 20,000 answers take some hundred MB where a few tens were meant."""

import tracemalloc
from datetime import UTC, datetime

from orderhub.dialects.esim_v1.hot_routes import rendered_order
from orderhub.domain.orders import Operation, Order, OrderItem
from orderhub.domain.results import EsimResult
from orderhub.services.order_commands import OrderView
from orderhub.services.rendered_orders import RenderedOrders

NOW = datetime(2030, 1, 1, tzinfo=UTC)
KEPT = 2_000


def completed_esim_order(number: int) -> OrderView:
    order = Order.accept(
        now=NOW,
        id=f"01a2{number:032d}",
        partner_id="demo-reseller-1",
        dialect="esim-v1",
        operation=Operation.NEW_ESIM,
        customer_id="customer-1",
        items=[OrderItem(seq=1, product_id="a3u3z000000PZBhAAO")],
        request={
            "input": {
                "operationType": "NEW_ESIM",
                "countryCode": "PT",
                "customer": {"email": f"customer-{number}@example.com", "countryOfResidence": "US"},
                "device": {"product_id": "123456789", "model": "iPhone", "type": "ios"},
                "subscriptions": [{"id": "a3u3z000000PZBhAAO", "activationDate": "2030-02-01T12:00:00Z"}],
            }
        },
    )
    order.start(NOW)
    order.finish(EsimResult(f"89351{number:014d}", "smdp.example.com", (f"sub-{number}",), f"M-{number}"), {}, NOW)
    return OrderView(order, order.new_events)


def test_the_cache_keeps_no_more_orders_than_its_bound() -> None:
    rendered: RenderedOrders[int, str] = RenderedOrders(str, max_entries=100)
    for number in range(1_000):
        rendered.put(f"order-{number}", 1, rendered.render(number))
    kept = [number for number in range(1_000) if rendered.get(f"order-{number}", 1) is not None]
    assert kept == list(range(900, 1_000))  # the most recently rendered, the others gone


def test_a_kept_esim_order_costs_about_the_length_of_its_answer() -> None:
    views = [completed_esim_order(number) for number in range(KEPT)]
    answer_length = len(rendered_order(views[0]).body)
    assert 700 < answer_length < 1_500  # an order as a partner polls it (no long history)
    rendered = RenderedOrders(rendered_order, max_entries=KEPT)
    tracemalloc.start()
    try:
        before, _peak = tracemalloc.get_traced_memory()
        for view in views:
            rendered.put(view.order.id, 1, rendered.render(view))
        after, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per_order = (after - before) / KEPT
    # The answer, the Response around it (its headers) and the cache's entry; 4 KB and more before.
    assert per_order < answer_length + 1_024, f"{per_order:.0f} bytes kept per order of {answer_length}"
