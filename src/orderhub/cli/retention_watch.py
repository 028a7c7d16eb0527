"""What `customer erase --inactive-since` shows while it runs, and how it is stopped.

A run may take many minutes (a few milliseconds a customer), often from cron. On a terminal, stderr shows
a progress bar (as `inventory import` does). Otherwise (cron's mail, a pipe, a log collector) stdout keeps
the one summary line scripts read, and stderr gets a line after the selection and then every
LINE_EVERY_CUSTOMERS customers or LINE_EVERY_SECONDS, whichever comes first, with the counts so far: a run
killed outright (SIGKILL, the machine lost) has said how far it got, to within those bounds.

SIGINT (Ctrl-C) and SIGTERM (cron's `timeout`, a `kill`) stop the run between two customers, never within
one's transaction, so that the summary counts exactly what was erased; a second one stops it at once.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from orderhub.cli.base import counted, err
from orderhub.services.customer_retention import Retention, shown_since

LINE_EVERY_CUSTOMERS = 1000
LINE_EVERY_SECONDS = 10.0
_STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _StopRequest:
    """The first SIGINT or SIGTERM, noted for the run to stop at its next customer."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None
        self.handled: list[signal.Signals] = []

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.signal = signal.Signals(signum)
        # A second one is not waited on: the selection may take seconds before the next customer.
        for handled in self.handled:
            signal.signal(handled, signal.default_int_handler if handled == signal.SIGINT else signal.SIG_DFL)


class RunWatch:
    """What the run shows (subclasses), and what it did so far (``done``) should it end in an error."""

    def __init__(self, stop: _StopRequest) -> None:
        self._stop = stop
        self.started = time.monotonic()
        self.done: Retention | None = None  # once selected

    @property
    def stopped_by(self) -> signal.Signals | None:
        return self._stop.signal

    def stop_requested(self) -> bool:
        return self._stop.signal is not None

    def selected(self, done: Retention) -> None:
        self.done = done

    def went_through(self, done: Retention) -> None:
        pass


class _ProgressBar(RunWatch):
    def __init__(self, stop: _StopRequest, progress: Progress, since: str) -> None:
        super().__init__(stop)
        self._progress = progress
        # No total yet: a bar that pulses while the selection reads every order.
        self._task = progress.add_task(f"selecting customers inactive since {since}", total=None)

    def selected(self, done: Retention) -> None:
        super().selected(done)
        if not done.dry_run:
            self._progress.update(self._task, description="erasing customers", total=done.selected, completed=0)

    def went_through(self, done: Retention) -> None:
        skipped = f" ({done.skipped} skipped)" if done.skipped else ""
        self._progress.update(self._task, completed=done.gone_through, description=f"erasing customers{skipped}")


class _ProgressLines(RunWatch):
    def __init__(self, stop: _StopRequest) -> None:
        super().__init__(stop)
        self._last_line = self.started

    def selected(self, done: Retention) -> None:
        super().selected(done)
        if done.dry_run:
            return  # its one line on stdout says it all, at once
        self._last_line = time.monotonic()
        kept = f"; {done.kept} kept: orders not final" if done.kept else ""
        scope = f"of {done.partner_id}" if done.partner_id else "of every partner"
        _line(f"{counted(done.selected, 'customer')} ({scope}) inactive since {shown_since(done.since)} selected in "
              f"{self._elapsed()}{kept}; erasing them one at a time")  # fmt: skip

    def went_through(self, done: Retention) -> None:
        now = time.monotonic()
        if done.gone_through % LINE_EVERY_CUSTOMERS and now - self._last_line < LINE_EVERY_SECONDS:
            return
        self._last_line = now
        skipped = f", {done.skipped} skipped" if done.skipped else ""
        _line(f"erased {len(done.customers)} of {done.selected} customers so far{skipped}, in {self._elapsed()}")

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"


def _line(text: str) -> None:
    err.print(escape(text), soft_wrap=True, highlight=False)


@contextmanager
def watched_run(since: str) -> Iterator[RunWatch]:
    """The watch to give CustomerRetention, for the time of the run."""
    stop = _StopRequest()
    # One ignored stays ignored: a shell starts a command run in the background with SIGINT ignored, so
    # that the Ctrl-C meant for the foreground stops it not.
    before = {signum: signal.getsignal(signum) for signum in _STOPPING_SIGNALS}
    stop.handled = [signum for signum, handler in before.items() if handler is not signal.SIG_IGN]
    for signum in stop.handled:
        signal.signal(signum, stop)
    try:
        if not err.is_terminal:
            yield _ProgressLines(stop)
            return
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        # Transient: once the run ends (or is refused), its summary or error line says it all.
        with Progress(*columns, TimeRemainingColumn(), console=err, transient=True) as progress:
            yield _ProgressBar(stop, progress, since)
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def stopped_exit_code(stopped_by: signal.Signals) -> int:
    """As a shell reports a command a signal ended: 128 and its number (130 for Ctrl-C, 143 for SIGTERM)."""
    return 128 + int(stopped_by)
