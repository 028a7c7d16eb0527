"""`orderhub backup`: a copy of the SQLite database taken while a real server keeps accepting orders."""

from __future__ import annotations

import os
import re
import stat
import threading
import uuid
from pathlib import Path

import pytest

from tests.integration.support import (
    OrderhubProcesses,
    api_headers,
    client,
    db_rows,
    get_order,
    get_token,
    new_esim_body,
    place_order,
    run_cli,
    sqlite_url,
)

pytestmark = pytest.mark.integration


def test_a_backup_taken_under_load_is_one_consistent_state_that_serves_every_order_answered_before_it(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    db_path, copy_path = tmp_path / "live.db", tmp_path / "copies" / "backup.db"
    copy_path.parent.mkdir()
    # Enough profiles for every order the loop below can place while a CLI process starts and copies.
    server = orderhub_procs.serve(db_path, env={"ORDERHUB_DEMO_INVENTORY_SIZE": "5000"})
    token = get_token(server.base_url)
    answered_before = [place_order(server.base_url, token, f"before-{n}@example.com") for n in range(10)]

    # Orders keep arriving while the copy is taken.
    stop, answered_during = threading.Event(), []

    def keep_ordering() -> None:
        with client(server.base_url) as http:
            while not stop.is_set():
                body = new_esim_body(f"during-{uuid.uuid4().hex[:8]}@example.com")
                response = http.post("/esim/v1/order", json=body, headers=api_headers(token))
                assert response.status_code == 201, response.text
                answered_during.append(response.json()["id"])
                stop.wait(0.005)

    ordering = threading.Thread(target=keep_ordering)
    ordering.start()
    try:
        while len(answered_during) < 20:
            stop.wait(0.01)
        answered_before_copy = list(answered_during)  # the newest of them are still in the WAL only
        done = run_cli("backup", copy_path, "--db", sqlite_url(db_path), cwd=tmp_path)
        after = len(answered_during) + 20
        while len(answered_during) < after:  # the server kept accepting after the copy too
            stop.wait(0.01)
    finally:
        stop.set()
        ordering.join(timeout=30)

    assert done.returncode == 0, done.stderr
    assert f"backup written: {copy_path}" in done.stdout
    assert re.search(r"migration \d{4},", done.stdout), done.stdout
    # One file, for its owner only, that SQLite finds sound.
    assert stat.S_IMODE(copy_path.stat().st_mode) == 0o600
    assert sorted(p.name for p in copy_path.parent.iterdir()) == ["backup.db"]
    assert db_rows(copy_path, "PRAGMA quick_check") == [("ok",)]
    assert db_rows(copy_path, "PRAGMA journal_mode") == [("delete",)]

    # Everything answered before the copy began is in it; of what came during, a prefix in commit order.
    copied = {order_id for (order_id,) in db_rows(copy_path, "SELECT id FROM orders")}
    assert set(answered_before) <= copied
    assert set(answered_before_copy) <= copied
    assert 20 <= len(copied & set(answered_during)) < len(answered_during)
    assert len(copied) == len(answered_before) + len(copied & set(answered_during))
    # Each copied order is whole: completed at intake, its item delivered, its history in full, its eSIM.
    assert db_rows(copy_path, "SELECT DISTINCT state FROM orders") == [("completed",)]
    assert db_rows(copy_path, "SELECT DISTINCT state FROM order_items") == [("delivered",)]
    histories = db_rows(
        copy_path, "SELECT group_concat(to_state, '>') FROM (SELECT * FROM order_events ORDER BY id) GROUP BY order_id"
    )
    assert set(histories) == {("accepted>in_progress>completed",)} and len(histories) == len(copied)
    assert db_rows(copy_path, "SELECT count(*) FROM esim_assignments") == [(len(copied),)]

    # Restored, it serves those orders as they were.
    server.terminate()
    restored = orderhub_procs.serve(copy_path, demo=False)
    restored_token = get_token(restored.base_url)
    for order_id in answered_before[:3]:
        assert get_order(restored.base_url, restored_token, order_id)["status"] == "COMPLETED"

    # A database whose server has stopped copies whole too, what its WAL file still holds included.
    again = run_cli("backup", tmp_path / "again.db", "--db", sqlite_url(db_path), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    every = len(answered_before) + len(answered_during)
    assert db_rows(tmp_path / "again.db", "SELECT count(*) FROM orders") == [(every,)]


def test_backup_refuses_to_overwrite_and_never_creates_or_touches_the_source(tmp_path: Path) -> None:
    source = tmp_path / "orderhub.db"
    assert run_cli("migrate", "--db", sqlite_url(source), cwd=tmp_path).returncode == 0
    source_bytes = source.read_bytes()
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"an earlier backup")

    refused = run_cli("backup", existing, "--db", sqlite_url(source), cwd=tmp_path)
    assert refused.returncode == 1
    assert "already exists" in refused.stderr
    assert existing.read_bytes() == b"an earlier backup"

    missing = run_cli("backup", tmp_path / "x.db", "--db", sqlite_url(tmp_path / "typo.db"), cwd=tmp_path)
    assert missing.returncode == 1
    assert "no database at" in missing.stderr
    assert not (tmp_path / "typo.db").exists() and not (tmp_path / "x.db").exists()

    itself = run_cli("backup", source, "--db", sqlite_url(source), cwd=tmp_path)
    assert itself.returncode == 1
    assert source.read_bytes() == source_bytes

    postgres = run_cli("backup", tmp_path / "pg.db", "--db", "postgresql://postgres@127.0.0.1:5432/test", cwd=tmp_path)
    assert postgres.returncode == 1
    assert "pg_dump" in postgres.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.db", "orderhub.db"]


@pytest.mark.parametrize(
    "directory",
    [
        # Root may write anywhere it has a mode for; /proc and /sys take no new files, from root either.
        Path("/proc"),
        Path("/sys"),
        pytest.param(
            None, marks=pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
        ),
    ],
)
def test_a_backup_into_a_directory_it_cannot_write_is_refused_in_one_line_and_leaves_nothing(
    tmp_path: Path, directory: Path | None
) -> None:
    source = tmp_path / "orderhub.db"
    assert run_cli("migrate", "--db", sqlite_url(source), cwd=tmp_path).returncode == 0
    if directory is None:
        directory = tmp_path / "read-only"
        directory.mkdir(mode=0o500)
    result = run_cli("backup", directory / "b.db", "--db", sqlite_url(source), cwd=tmp_path)
    assert result.returncode == 1
    assert re.fullmatch(rf"error: cannot write in {re.escape(str(directory))}: [^\n]+\n", result.stderr)
    assert result.stdout == ""
    assert [path.name for path in directory.iterdir() if "b.db" in path.name] == []  # nor a partial copy
