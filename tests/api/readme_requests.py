"""The curl requests of the README's API sections ("Try it" to the onapi-order API), run in order against a
server as a reader would paste them: the shell variables they set (a token, a date, an order's id) are set
from the answers, as the README's ``$(curl … | python3 -c …)`` lines set them."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

README = Path(__file__).resolve().parents[2] / "README.md"
README_ORIGIN = "http://127.0.0.1:8080"
_PYTHON = re.compile(r"\$\(python3 -c '([^']*)'\)")
_COMMAND = re.compile(r"\$\([^()]*\)")
_ASSIGNED = re.compile(r"^(\w+)=\$\((.*)\)$", re.S)
_PIPED = re.compile(r"^(curl .*?)\s*\|\s*python3 -c '([^']*)'$", re.S)
_KEYS = re.compile(r'\["(\w+)"\]')


def api_sections() -> str:
    text = README.read_text()
    return text[text.index("## Try it") : text.index("## Running on PostgreSQL")]


def commands(text: str) -> Iterator[str]:
    """Each shell command of the text's bash blocks: continuation lines joined, quoted newlines kept."""
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        pending = ""
        for line in block.splitlines():
            if not pending and line.lstrip().startswith("#"):
                continue
            pending += line + "\n"
            if pending.endswith("\\\n"):
                pending = pending[:-2] + " "
            elif pending.count("'") % 2 == 0:  # not within a single-quoted string
                if pending.strip():
                    yield pending.strip()
                pending = ""


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30)
    return done.stdout.strip()


@dataclass
class ReadmeSession:
    """Runs the README's commands against ``http`` (a server of the demo data), keeping their variables."""

    http: httpx.Client
    variables: dict[str, str] = field(default_factory=dict)
    answers: list[httpx.Response] = field(default_factory=list)

    def run(self, command: str) -> None:
        assigned = _ASSIGNED.match(command)
        if assigned is None:
            if command.startswith("curl "):
                self.answers.append(self.request(command))
            return
        name, value = assigned.groups()
        piped = _PIPED.match(value)
        if value.startswith("python3 -c '"):
            self.variables[name] = _python(value.removeprefix("python3 -c '").removesuffix("'"))
        elif piped is not None:
            self.variables[name] = self._read(piped.group(1), _KEYS.findall(piped.group(2)))

    def _read(self, curl: str, keys: list[str]) -> str:
        """What ``curl | python3 -c 'print(json.load(sys.stdin)[k]…)'`` prints; polled for a few seconds
        while the answer has no such value yet (an order's output, once fulfilled)."""
        deadline = time.monotonic() + 10
        while True:
            answer = self.request(curl)
            self.answers.append(answer)
            value: Any = answer.json()
            for key in keys:
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None or time.monotonic() > deadline:
                assert value is not None, (curl, answer.text)
                return str(value)
            time.sleep(0.1)

    def _expand(self, command: str) -> str:
        command = _PYTHON.sub(lambda found: _python(found.group(1)), command)
        command = _COMMAND.sub(lambda _found: uuid.uuid4().hex, command)
        for name in sorted(self.variables, key=len, reverse=True):
            command = command.replace(f"${name}", self.variables[name])
        return command.replace(README_ORIGIN, str(self.http.base_url).rstrip("/"))

    def request(self, command: str) -> httpx.Response:
        words = iter(shlex.split(self._expand(command))[1:])
        method, url, headers, data, auth = None, "", {}, [], None
        for word in words:
            if word == "|":  # what the shell does with the answer (grep)
                break
            if word in ("-X", "--request"):
                method = next(words)
            elif word in ("-H", "--header"):
                name, _, value = next(words).partition(":")
                headers[name.strip()] = value.strip()
            elif word in ("-d", "--data", "--data-raw"):
                data.append(next(words))
            elif word == "-u":
                user, _, password = next(words).partition(":")
                auth = (user, password)
            elif word == "-o":
                next(words)
            elif word.startswith("http"):
                url = word
        if data and not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/x-www-form-urlencoded"  # curl's, for -d
        content = "&".join(data).encode() if data else None
        return self.http.request(
            method or ("POST" if data else "GET"), url, headers=headers, content=content, auth=auth
        )
