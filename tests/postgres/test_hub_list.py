"""`orderhub hub list` on PostgreSQL: the events each listener waits for, counted as on SQLite."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_hub_list import (
    hub_list_counts_a_cancellation_requests_events,
    hub_list_counts_what_each_listener_would_still_be_sent,
)


def test_hub_list_counts_the_events_each_listener_would_still_be_sent(tmp_path: Path) -> None:
    hub_list_counts_what_each_listener_would_still_be_sent(tmp_path)


def test_hub_list_counts_a_cancellation_requests_events_as_they_are_sent(tmp_path: Path) -> None:
    hub_list_counts_a_cancellation_requests_events(tmp_path)
