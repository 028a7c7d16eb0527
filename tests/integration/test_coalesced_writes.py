"""A connection's writes go out once per turn of the event loop (web.coalesced_writes): on real sockets
and event loops, and through a real `orderhub serve`."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import uvloop

from orderhub.web.coalesced_writes import FLUSH_AT_BYTES, CoalescedWrites
from tests.integration.support import HOST, OrderhubProcesses

pytestmark = pytest.mark.integration

LOOPS = {"asyncio": asyncio.run, "uvloop": uvloop.run}


def _on_a_socket_pair(test: Callable[[CoalescedWrites, socket.socket], Awaitable[None]]) -> Callable[[str], None]:
    def run(loop_name: str) -> None:
        async def main() -> None:
            ours, peer = socket.socketpair()
            peer.setblocking(False)
            transport, _protocol = await asyncio.get_running_loop().connect_accepted_socket(asyncio.Protocol, ours)
            try:
                await test(CoalescedWrites(transport, asyncio.get_running_loop()), peer)  # type: ignore[arg-type]
            finally:
                transport.abort()
                peer.close()

        LOOPS[loop_name](main())

    return run


def _received(peer: socket.socket) -> bytes:
    try:
        return peer.recv(1 << 20)
    except BlockingIOError:
        return b""


async def _turns(count: int = 3) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


@pytest.mark.parametrize("loop_name", list(LOOPS))
def test_writes_of_one_turn_go_out_together_when_the_turn_ends(loop_name: str) -> None:
    async def check(writes: CoalescedWrites, peer: socket.socket) -> None:
        writes.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        writes.write(b"{}")
        assert _received(peer) == b""  # nothing sent yet: the turn is not over
        await _turns()
        assert _received(peer) == b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"
        writes.write(b"next")
        await _turns()
        assert _received(peer) == b"next"

    _on_a_socket_pair(check)(loop_name)


@pytest.mark.parametrize("loop_name", list(LOOPS))
def test_closing_sends_what_is_pending_first_and_aborting_drops_it(loop_name: str) -> None:
    async def check(writes: CoalescedWrites, peer: socket.socket) -> None:
        writes.write(b"last answer")
        writes.close()
        assert writes.is_closing()  # the transport's own state
        await _turns()
        assert _received(peer) == b"last answer"
        assert _received(peer) == b""  # and then the end of the stream

    _on_a_socket_pair(check)(loop_name)

    async def check_abort(writes: CoalescedWrites, peer: socket.socket) -> None:
        writes.write(b"never sent")
        writes.abort()
        await _turns()
        assert _received(peer) == b""

    _on_a_socket_pair(check_abort)(loop_name)


@pytest.mark.parametrize("loop_name", list(LOOPS))
def test_a_large_write_goes_out_at_once(loop_name: str) -> None:
    async def check(writes: CoalescedWrites, peer: socket.socket) -> None:
        writes.write(b"x" * FLUSH_AT_BYTES)
        assert writes.get_write_buffer_size() < FLUSH_AT_BYTES  # handed to the transport already
        got = b""
        for _ in range(100):
            got += _received(peer)
            if len(got) == FLUSH_AT_BYTES:
                break
            await asyncio.sleep(0.01)
        assert got == b"x" * FLUSH_AT_BYTES

    _on_a_socket_pair(check)(loop_name)


def test_pipelined_requests_and_a_closing_request_get_whole_answers(
    orderhub_procs: OrderhubProcesses, tmp_path: Path
) -> None:
    server = orderhub_procs.serve(tmp_path / "writes.db")
    assert server.port is not None
    with socket.create_connection((HOST, server.port), timeout=10) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
        answers = b""
        while answers.count(b"HTTP/1.1 200") < 3 or not answers.endswith(b"}"):
            chunk = connection.recv(65536)
            assert chunk, f"connection closed early: {answers!r}"
            answers += chunk
        assert answers.count(b"HTTP/1.1 200 OK") == 3
    with socket.create_connection((HOST, server.port), timeout=10) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK")
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
        assert len(body) == length  # whole, then the end of the stream
