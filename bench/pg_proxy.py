"""A loopback proxy in front of PostgreSQL for the benchmarks that count or delay its answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def relay(
    port: int,
    target_port: int,
    *,
    hold: float = 0.0,
    answered: Callable[[], None] | None = None,
    listening: Callable[[], None] | None = None,
) -> None:
    """Passes bytes both ways between loopback clients on ``port`` and the server on ``target_port``, for
    good. Each chunk the server sends is held ``hold`` seconds (a server on another host) and reported to
    ``answered`` (one wait of the client for the server: tests/postgres/test_pipelined_writes.py);
    ``listening`` is called once clients may connect."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, from_server: bool) -> None:
        try:
            while data := await reader.read(65536):
                if from_server and answered is not None:
                    answered()
                if from_server and hold:
                    await asyncio.sleep(hold)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
        await asyncio.gather(pipe(reader, server_writer, False), pipe(server_reader, writer, True))

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    if listening is not None:
        listening()
    async with server:
        await server.serve_forever()
