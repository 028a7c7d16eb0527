"""Runs the ``orderhub`` command for the tests as a process of its own, without paying its imports each time.

The suite runs the command hundreds of times, and a fresh ``python -m orderhub`` spends most of its
half second importing. A helper process (this file, run as a script) imports the command once and forks
a child for each run: the child is a real process of its own, with the run's arguments, working
directory, environment, a closed stdin and its own stdout and stderr, and it ends with the exit code
``python -m orderhub`` would (a traceback and 1 for an exception, the code of a SystemExit). What a
fresh process would do differently: modules are imported, and the command's click tree made, before
the run's environment is set, so anything read from the environment then is the helper's. The command
reads its settings when it runs (orderhub.settings), and the helper is started with the terminal
settings every run gets (support.CLI_TERMINAL).
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

MAX_REQUEST = 1 << 20


class CliForks:
    """The test side: one helper process per test session, started when first needed."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._dir = tempfile.mkdtemp(prefix="orderhub-cli-forks-")
        self._path = os.path.join(self._dir, "socket")
        self._helper = subprocess.Popen(
            [sys.executable, __file__, self._path],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=None,  # its own failures show in the test's output
        )
        atexit.register(self.close)

    def run(
        self, args: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        connection = self._connect(timeout)
        try:
            request = json.dumps({"args": list(args), "cwd": str(cwd), "env": dict(env)}).encode()
            socket.send_fds(connection, [request], [out_write, err_write])
            os.close(out_write)
            os.close(err_write)
            answers = connection.makefile("r")
            pid = int(answers.readline())
            outputs = _Outputs(out_read, err_read)
            connection.settimeout(timeout)
            try:
                status = answers.readline()
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired(["orderhub", *args], timeout) from None
            outputs.join()
        finally:
            connection.close()
        return subprocess.CompletedProcess(["orderhub", *args], int(status), outputs.stdout, outputs.stderr)

    def _connect(self, timeout: float) -> socket.socket:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        for _ in range(int(timeout * 20)):
            if self._helper.poll() is not None:
                raise RuntimeError(f"the orderhub command helper ended with {self._helper.returncode}")
            try:
                connection.connect(self._path)
                return connection
            except (FileNotFoundError, ConnectionRefusedError):
                threading.Event().wait(0.05)
        raise RuntimeError("the orderhub command helper did not start")

    def close(self) -> None:
        if self._helper.poll() is None:
            self._helper.kill()
            self._helper.wait()


class _Outputs:
    """A child's stdout and stderr, each read to its end on a thread of its own (neither pipe fills up)."""

    def __init__(self, out_fd: int, err_fd: int) -> None:
        self.stdout = self.stderr = ""
        self._threads = [
            threading.Thread(target=self._drain, args=(out_fd, "stdout"), daemon=True),
            threading.Thread(target=self._drain, args=(err_fd, "stderr"), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _drain(self, fd: int, name: str) -> None:
        with os.fdopen(fd, "rb") as stream:
            setattr(self, name, stream.read().decode(errors="replace").replace("\r\n", "\n"))

    def join(self) -> None:
        for thread in self._threads:
            thread.join()


# -- the helper ------------------------------------------------------------------------------------------


def _serve(path: str) -> None:
    import typer.main

    from orderhub.cli import app  # the imports every run would pay

    # Typer makes the command's click tree from the app's functions at every run (their signatures and
    # type hints read again): some 50 ms of a run's CPU. It is made once here, from the same app, as a
    # run would make it, and every child runs that one; what a run changes in it stays in the child.
    built = typer.main.get_command(app)
    make = typer.main.get_command
    typer.main.get_command = lambda typer_app: built if typer_app is app else make(typer_app)

    # What the imports made is never garbage: no child's collections (its exit's included) walk it again.
    gc.freeze()

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    while True:
        connection, _ = listener.accept()
        message, fds, _flags, _address = socket.recv_fds(connection, MAX_REQUEST, 2)
        request = json.loads(message)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            listener.close()
            connection.close()
            _child(request, fds)
        for fd in fds:
            os.close(fd)
        connection.sendall(f"{pid}\n".encode())
        _, status = os.waitpid(pid, 0)
        connection.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
        connection.close()


def _child(request: dict[str, object], fds: list[int]) -> NoReturn:
    os.chdir(str(request["cwd"]))
    env = request["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update(env)
    devnull = os.open(os.devnull, os.O_RDONLY)
    for fd, target in ((devnull, 0), (fds[0], 1), (fds[1], 2)):
        os.dup2(fd, target)
        os.close(fd)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    args = request["args"]
    assert isinstance(args, list)
    sys.argv = ["orderhub", *map(str, args)]
    code = 1
    try:
        # As `python -m orderhub` runs it (the command names itself from __main__'s package).
        runpy.run_module("orderhub", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    # Out through the helper's frames to the interpreter's own exit, as a fresh process ends: exit
    # functions run and what is still open is finalised (a SQLite connection closed takes its WAL files
    # along). The helper's loop has nothing to clean up on the way.
    raise SystemExit(code)


if __name__ == "__main__":
    _serve(sys.argv[1])
