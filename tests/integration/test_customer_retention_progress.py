"""What an operator sees of a long `orderhub customer erase --inactive-since DATE` run from cron or a pipe
(stdout and stderr no terminal): stdout keeps its one summary line; stderr says what was selected and then,
every 1,000 customers (or 10 s), how many were erased so far. A run killed outright keeps what it erased,
and its last line said at least that much; one stopped by SIGTERM stops between two customers and says
on stdout exactly how many it erased. The customers here have no orders (inactive by the selection's
rule), written straight into the database (SQLite, or PostgreSQL when the tests run there): thousands of
them, for a run that lasts long enough to be stopped."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from orderhub.store.database import create_engine
from orderhub.store.tables import customers
from tests.demo_databases import demo_database_url
from tests.integration.support import CLI_TERMINAL, INVENTORY_SIZE, base_env, run_cli, wait_until
from tests.integration.test_customer_retention import LONG_AGO, SINCE

pytestmark = pytest.mark.integration

CUSTOMERS = 3000
SELECTED = re.compile(rf"(\d+) customers \(of every partner\) inactive since {SINCE} selected in [0-9.]+ s; "
                      r"erasing them one at a time")  # fmt: skip
SO_FAR = re.compile(r"erased (\d+) of (\d+) customers so far, in [0-9.]+ s")


def add_long_inactive_customers(url: str, count: int) -> None:
    rows = [
        {"id": str(uuid.uuid4()), "partner_id": "demo-reseller-1", "email": f"retained-{n}@example.org",
         "country_of_residence": "SE", "created_at": LONG_AGO}
        for n in range(count)
    ]  # fmt: skip
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(customers), rows)
    finally:
        engine.dispose()


def erased_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            erased = customers.c.erased_at.is_not(None)
            # An erased customer is erased whole (one transaction): no e-mail left beside erased_at.
            assert connection.scalar(sa.select(sa.func.count()).where(erased, customers.c.email.is_not(None))) == 0
            return int(connection.scalar(sa.select(sa.func.count()).where(erased)) or 0)
    finally:
        engine.dispose()


class Run:
    """`customer erase --inactive-since SINCE` as cron runs it: stdout and stderr to files, no terminal."""

    def __init__(self, tmp_path: Path, url: str, name: str) -> None:
        self.out, self.err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "orderhub", "customer", "erase", "--inactive-since", SINCE, "--db", url],
                cwd=tmp_path, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=base_env(CLI_TERMINAL),
            )  # fmt: skip

    def lines(self) -> list[str]:
        return self.err.read_text().splitlines()

    def first_line(self) -> str:
        """Waits for it, or for the run to end (before progress was shown: without it)."""
        wait_until(lambda: self.lines() or self.popen.poll() is not None, timeout=60, message="the selection")
        return (self.lines() or [f"(nothing on stderr; exit {self.popen.poll()})"])[0]

    def erased_so_far(self) -> int:
        """The count of the last progress line on stderr; waits for the first one."""
        said = wait_until(lambda: [m for line in self.lines() if (m := SO_FAR.fullmatch(line))], timeout=60,
                          interval=0.05, message="a progress line on stderr")  # fmt: skip
        return int(said[-1].group(1))

    def stop(self, signum: signal.Signals) -> int:
        self.popen.send_signal(signum)
        return self.popen.wait(timeout=30)


def test_a_run_says_on_stderr_how_far_it_got_and_a_stopped_run_keeps_and_counts_its_erasures(tmp_path: Path) -> None:
    db_path = tmp_path / "orderhub.db"
    url = demo_database_url(db_path, INVENTORY_SIZE)
    add_long_inactive_customers(url, CUSTOMERS)

    # Killed outright (SIGKILL: no handler runs) once it said how many it erased: those stay erased, at least
    # as many as its last line said; stdout had nothing yet.
    killed = Run(tmp_path, url, "killed")
    selected = SELECTED.fullmatch(killed.first_line())
    assert selected is not None, killed.first_line()
    assert int(selected.group(1)) == CUSTOMERS
    said = killed.erased_so_far()
    assert killed.stop(signal.SIGKILL) == -signal.SIGKILL
    assert killed.out.read_text() == ""
    first = erased_count(url)
    assert 0 < said <= first < CUSTOMERS, (said, first)

    # SIGTERM (cron's `timeout`, a `kill`): the run stops between two customers and says on stdout exactly
    # how many it erased, exit 143 as a shell reports it.
    stopped = Run(tmp_path, url, "stopped")
    assert stopped.erased_so_far() > 0
    assert stopped.stop(signal.SIGTERM) == 143
    second = erased_count(url) - first
    assert 0 < second < CUSTOMERS - first
    out = stopped.out.read_text()
    assert out.count("\n") == 1, out
    assert out.strip() == (
        f"stopped by SIGTERM after {second} of {CUSTOMERS - first} customers: {second} customers erased (of every "
        f"partner), inactive since {SINCE}: their data in 0 orders, 0 event snapshots and 0 reasons given with "
        "changes; run again to erase the rest"
    )

    # Run again: it erases the rest, with its one line on stdout as ever, and its progress on stderr.
    rest = CUSTOMERS - first - second
    done = run_cli("customer", "erase", "--inactive-since", SINCE, "--db", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"{rest} customers erased (of every partner), inactive since {SINCE}: their data in 0 orders, 0 event "
        "snapshots and 0 reasons given with changes\n"
    )
    lines = done.stderr.splitlines()
    selected = SELECTED.fullmatch(lines[0])
    assert selected is not None and selected.group(1) == str(rest), lines
    counts = [(int(m.group(1)), int(m.group(2))) for line in lines[1:] if (m := SO_FAR.fullmatch(line))]
    assert len(counts) == len(lines) - 1, lines  # nothing else on stderr
    assert all(total == rest for _, total in counts) and [n for n, _ in counts] == sorted({n for n, _ in counts})
    assert erased_count(url) == CUSTOMERS

    # A dry run says nothing more than its one line: nothing to follow, it changes nothing.
    dry = run_cli("customer", "erase", "--inactive-since", SINCE, "--dry-run", "--db", url, cwd=tmp_path)
    assert (dry.returncode, dry.stderr) == (0, ""), dry.stderr
    assert dry.stdout == f"dry run, nothing changed: no customer inactive since {SINCE} (of every partner)\n"
