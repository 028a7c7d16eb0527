"""The floor under a durable order: the bare app plus the least that keeps an order.

Each POST's body is parsed and stored by ``FLOOR_STATEMENTS`` plain INSERTs (default 1; the first
stores the body, the others a short row in a table of their own), committed with group commit as
orderhub commits (the batch runs on the event loop, only the COMMIT in a thread; WAL,
``synchronous=FULL``). Keys are time-ordered unless ``FLOOR_RANDOM_KEYS=1``. No validation, no
authentication, no answer worth the name: what a given number of statements per order costs on this
server stack and this disk, and so how far orderhub's accept could go with that many (bench/README.md).

    FLOOR_STATEMENTS=15 .venv/bin/python -m uvicorn bench.floor_app:app --port 8099 \
        --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

_STATEMENTS = int(os.environ.get("FLOOR_STATEMENTS", "1"))
_RANDOM_KEYS = os.environ.get("FLOOR_RANDOM_KEYS") == "1"
_ANSWER = b'{"status":"ACCEPTED"}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_ANSWER)).encode())]


class _Store:
    def __init__(self, path: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._inserts = []
        for table in range(_STATEMENTS):
            self._db.execute(f"CREATE TABLE t{table} (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
            self._inserts.append(f"INSERT INTO t{table} VALUES (?, ?)")
        self._committer = ThreadPoolExecutor(1)
        self._pending: list[tuple[str, asyncio.Future[None]]] = []
        self._busy = False

    async def keep(self, body: str) -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._pending.append((body, done))
        if not self._busy:
            self._busy = True
            loop.call_soon(self._run, loop)
        await done

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._pending = self._pending, []
        self._db.execute("BEGIN IMMEDIATE")
        for body, _ in batch:
            key = str(uuid.uuid4()) if _RANDOM_KEYS else f"{time.time_ns():020d}{uuid.uuid4().hex[:8]}"
            self._db.execute(self._inserts[0], (key, body))
            for insert in self._inserts[1:]:
                self._db.execute(insert, (key, "small"))

        def committed(_: object) -> None:
            for _body, done in batch:
                done.set_result(None)
            if self._pending:
                loop.call_soon(self._run, loop)
            else:
                self._busy = False

        commit = loop.run_in_executor(self._committer, self._db.execute, "COMMIT")
        commit.add_done_callback(committed)


_store: _Store | None = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _store
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _store = _Store(os.environ.get("FLOOR_DB", "/tmp/orderhub-floor.db"))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    status = 200
    if scope["method"] == "POST" and _store is not None:
        await _store.keep(orjson.dumps(orjson.loads(body)).decode())
        status = 201
    await send({"type": "http.response.start", "status": status, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _ANSWER})
