"""How a background loop waits out a database it cannot use (fulfilment.database_outage): longer each
time up to a bound, told once at the start, again every minute, and once at its end."""

from __future__ import annotations

import logging

import pytest

from orderhub.fulfilment.database_outage import LONGEST_WAIT_SECONDS, DatabaseOutage


def test_an_outage_waits_longer_each_try_and_is_told_at_its_start_every_minute_and_at_its_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    outage = DatabaseOutage("worker", logging.getLogger("orderhub.test"), clock=lambda: now[0])
    caplog.set_level(logging.INFO, "orderhub.test")
    outage.answered()  # no outage: nothing to tell
    waits = []
    for _ in range(40):
        waits.append(outage.failed("connection refused"))
        now[0] += waits[-1]
    assert waits[:4] == [0.25, 0.5, 1.0, 2.0] and max(waits) == waits[-1] == LONGEST_WAIT_SECONDS
    outage.answered()
    outage.answered()
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "worker waits for the database: connection refused",
        "worker still waits for the database (for 63 s, trying every 5 s): connection refused",
        "worker still waits for the database (for 123 s, trying every 5 s): connection refused",
        "worker: the database answers again, after 182.8 s",
    ], messages
    # The next outage starts over, with a short wait.
    assert outage.failed("connection refused") == 0.25
