"""The processes a benchmark run starts: the baseline app and orderhub, on loopback only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def orderhub_env(src: Path | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORDERHUB_")}
    # At the default log level, as partners' traffic is served: an access line per request included.
    env["PYTHONUNBUFFERED"] = "1"
    if src is not None:  # benchmark another checkout's code (bench/README.md: before and after)
        env["PYTHONPATH"] = f"{src}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return env


def orderhub_cli(*args: str, src: Path | None = None, extra_env: dict[str, str] | None = None) -> None:
    env = {**orderhub_env(src), **(extra_env or {})}
    subprocess.run([sys.executable, "-m", "orderhub", *args], check=True, env=env, capture_output=True, cwd=REPO)


@dataclass
class Server:
    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log_path: Path
    rss_samples: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, path: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + path, timeout=2, trust_env=False).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready:\n{self.log_path.read_text()[-3000:]}")

    def sample_rss(self, every: float = 0.5) -> None:
        """Samples the process's resident memory in the background until stop()."""

        def run() -> None:
            status = Path(f"/proc/{self.popen.pid}/status")
            while not self._stop.wait(every):
                try:
                    for line in status.read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            self.rss_samples.append((time.monotonic(), int(line.split()[1]) * 1024))
                except OSError:
                    return

        threading.Thread(target=run, name=f"rss-{self.name}", daemon=True).start()

    def rss_between(self, start: float, end: float) -> list[int]:
        return [rss for at, rss in self.rss_samples if start <= at <= end]

    def stop(self) -> None:
        self._stop.set()
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def start_baseline(workdir: Path) -> Server:
    port = free_port()
    log_path = workdir / "baseline.log"
    argv = [sys.executable, "-m", "bench.baseline_app", str(port)]
    with log_path.open("wb") as log:
        popen = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Server("baseline", popen, port, log_path)
    server.wait_ready("/")
    return server


def start_orderhub(db_path: Path, workdir: Path, *, src: Path | None = None) -> Server:
    port = free_port()
    log_path = workdir / f"orderhub-{port}.log"
    argv = [sys.executable, "-m", "orderhub", "serve", "--db", f"sqlite:///{db_path}", "--host", HOST]
    argv += ["--port", str(port)]
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=orderhub_env(src)
        )
    server = Server("orderhub", popen, port, log_path)
    server.wait_ready("/readyz")
    server.sample_rss()
    return server
