"""The writer's refusals in the log: one line when they start, a summary at most every few seconds
while they last, one line when writes succeed again (a full disk refused a batch every few
milliseconds, and logged each)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import pytest

from orderhub.services.ports import DatabaseUnavailable
from orderhub.store.write_health import SUMMARY_EVERY_SECONDS, WriteHealth

FULL = DatabaseUnavailable("database unavailable: database or disk is full")


def test_a_run_of_refusals_is_logged_once_then_summarised_then_its_end(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    health = WriteHealth(None, clock=lambda: now[0])
    caplog.set_level(logging.WARNING, "orderhub.store.writer")

    for _ in range(1000):  # a thousand refused batches of 3 writes within a second
        health.record(FULL, 3)
        now[0] += 0.001
    assert [record.getMessage() for record in caplog.records] == [
        "writes refused: database unavailable: database or disk is full"
    ]

    now[0] += SUMMARY_EVERY_SECONDS
    health.record(FULL, 2)
    health.record(FULL, 2)  # within the next few seconds: counted, not logged
    now[0] += 0.5
    health.record(None, 4)
    health.record(None, 4)  # writes going on as usual: nothing more to say
    assert [record.getMessage() for record in caplog.records][1:] == [
        "writes still refused: database unavailable: database or disk is full (2999 more in the last 6 s)",
        "writes succeed again after 6.5 s; 3004 writes were refused meanwhile",
    ]

    caplog.clear()
    health.record(FULL, 1)  # a new run starts with a line of its own
    assert [record.getMessage() for record in caplog.records] == [
        "writes refused: database unavailable: database or disk is full"
    ]


def test_once_a_test_write_fits_again_the_probes_stop_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a full disk, a probe writes a scratch file beside the database to see whether it fits; once it
    does, the next probes need not, though no order has come since (a node not ready gets none)."""
    health = WriteHealth(tmp_path / "orderhub.db")
    health.record(FULL, 1)
    scratch_files = []
    real = tempfile.TemporaryFile

    def counted(*args: Any, **kwargs: Any) -> Any:
        scratch_files.append(kwargs.get("dir"))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", counted)
    assert [health.room_problem() for _ in range(3)] == [None, None, None]
    assert scratch_files == [tmp_path]
