"""Which event ids the dispatcher may send (services.settled_events), from the marks the store reads."""

from __future__ import annotations

from orderhub.services.records import CommitMarks
from orderhub.services.settled_events import SettledEvents


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def marks(
    newest: int, in_progress: str, *, idle: bool = False, checked: str | None = None, ended: bool = False
) -> CommitMarks:
    return CommitMarks(newest, in_progress, idle=idle, checked=checked, earlier_ended=ended)


def test_events_read_while_transactions_run_are_sent_once_those_transactions_ended() -> None:
    settled = SettledEvents(clock=Clock())
    settled.observe(marks(10, "s1"))
    assert settled.up_to == 0 and settled.waiting_on == "s1"
    settled.observe(marks(14, "s2", checked="s1", ended=False))
    assert settled.up_to == 0  # still waiting on s1's transactions; 14 is not marked meanwhile
    settled.observe(marks(15, "s3", checked="s1", ended=True))
    assert settled.up_to == 10 and settled.waiting_on == "s3"


def test_events_read_while_no_transaction_runs_are_sent_at_once() -> None:
    settled = SettledEvents(clock=Clock())
    settled.observe(marks(10, "s1"))
    settled.observe(marks(12, "s2", idle=True, checked="s1", ended=True))
    assert settled.up_to == 12 and settled.waiting_on is None


def test_a_transaction_that_runs_for_longer_than_any_of_orderhub_is_not_waited_for_for_good() -> None:
    clock = Clock()
    settled = SettledEvents(wait_at_most=60, clock=clock)
    settled.observe(marks(10, "s1"))
    clock.now = 59
    settled.observe(marks(11, "s2", checked="s1"))
    assert settled.up_to == 0
    clock.now = 60
    settled.observe(marks(12, "s3", checked="s1"))
    assert settled.up_to == 10 and settled.waiting_on == "s3"


def test_where_events_commit_in_the_order_of_their_ids_every_one_read_is_sent() -> None:
    settled = SettledEvents(clock=Clock())
    settled.observe(CommitMarks(7, None, idle=True, checked=None, earlier_ended=True))
    assert settled.up_to is None
