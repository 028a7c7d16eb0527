"""The baseline: a bare ASGI app on the same server stack as orderhub (uvicorn, uvloop, httptools,
and orderhub's own protocol on top: its header timeout and its writes once per loop turn).

It reads the body and answers a small JSON document: what the server stack alone costs per request.

    .venv/bin/python -m bench.baseline_app PORT
"""

from __future__ import annotations

from typing import Any

_BODY = b'{"ok":true}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    status = 201 if scope["method"] == "POST" else 200
    await send({"type": "http.response.start", "status": status, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


def main() -> None:
    import sys

    from orderhub.settings import Settings
    from orderhub.web.server import run_server

    run_server(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        header_timeout_seconds=Settings().request_header_timeout_seconds,
        keep_alive_seconds=Settings().keep_alive_seconds,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
