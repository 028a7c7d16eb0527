"""The `dev` script's own decisions, on a copy of it beside a stand-in virtualenv whose `orderhub` only
reports the directory it runs in and the arguments it got (no bootstrap: the stamp matches)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DEV = Path(__file__).resolve().parents[2] / "dev"
REPORTER = '#!/bin/sh\necho "cwd=$PWD"\nfor arg in "$@"; do echo "arg=$arg"; done\n'


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    (root / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(DEV, root / "dev")
    (root / "pyproject.toml").write_text("[project]\n")
    (root / "requirements.lock").write_text("# locked\n")
    stamp = hashlib.sha256(b"[project]\n# locked\n").hexdigest()
    (root / ".venv" / ".orderhub-installed").write_text(stamp + "\n")
    for name in ("python", "orderhub"):
        (root / ".venv" / "bin" / name).write_text(REPORTER)
        (root / ".venv" / "bin" / name).chmod(0o755)
    return root


def dev(checkout: Path, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("ORDERHUB_")}
    return subprocess.run(
        [str(checkout / "dev"), *args],
        cwd=cwd or checkout,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def arguments(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [line.removeprefix("arg=") for line in result.stdout.splitlines() if line.startswith("arg=")]


def test_serve_loads_the_demo_only_into_the_default_database(checkout: Path) -> None:
    assert arguments(dev(checkout, "serve")) == ["serve", "--demo"]
    assert arguments(dev(checkout, "serve", "--port", "9000")) == ["serve", "--demo", "--port", "9000"]
    # A database the operator names gets no demo (its secrets are public) unless asked by hand.
    production = {"ORDERHUB_DATABASE_URL": "postgresql://orderhub@db.internal/orderhub"}
    assert arguments(dev(checkout, "serve", **production)) == ["serve"]
    assert arguments(dev(checkout, "serve", "--db", "sqlite:///x.db")) == ["serve", "--db", "sqlite:///x.db"]
    assert arguments(dev(checkout, "serve", "--db=sqlite:///x.db")) == ["serve", "--db=sqlite:///x.db"]
    assert arguments(dev(checkout, "serve", "--demo", "--db", "sqlite:///x.db")) == [
        "serve", "--demo", "--db", "sqlite:///x.db",
    ]  # fmt: skip


def test_serve_and_orderhub_run_in_the_callers_directory_the_rest_in_the_checkout(
    checkout: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "operator"
    elsewhere.mkdir()

    def ran_in(result: subprocess.CompletedProcess[str]) -> str:
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()[0].removeprefix("cwd=")

    imported = dev(checkout, "orderhub", "inventory", "import", "./my-profiles.csv", cwd=elsewhere)
    assert ran_in(imported) == str(elsewhere)  # so ./my-profiles.csv is the operator's file
    assert arguments(imported) == ["inventory", "import", "./my-profiles.csv"]
    assert ran_in(dev(checkout, "serve", cwd=elsewhere)) == str(elsewhere)  # and ./orderhub.db lands there
    via_relative_path = dev(Path("..") / "checkout", "orderhub", "migrate", cwd=elsewhere)
    assert ran_in(via_relative_path) == str(elsewhere)
    assert ran_in(dev(checkout, "bench", "--smoke", cwd=elsewhere)) == str(checkout)


def test_an_unknown_command_is_named_with_the_help_and_exit_code_2(checkout: Path, tmp_path: Path) -> None:
    unknown = dev(checkout, "srve", cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stdout == ""
    first, *usage = unknown.stderr.splitlines()
    assert first == "unknown command: srve"
    assert any(line.strip().startswith("./dev serve ") for line in usage)
    assert any(line.strip().startswith("./dev orderhub ") for line in usage)
    for asked in (dev(checkout, "help"), dev(Path("checkout"), cwd=tmp_path)):  # no command: the help
        assert (asked.returncode, asked.stderr) == (0, "")
        assert asked.stdout.splitlines() == usage
