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


# A stand-in pytest: it says which pass it is (its database, and whether it runs the API tests or the
# rest, or the integration tests of files test_a* to test_d*) and with what arguments, waits (up to 10 s)
# for the other four passes to have started, and fails if one never did (the passes ran one after the
# other) or if FAIL_PASS names it.
PYTEST = """#!/bin/sh
if [ -n "$ORDERHUB_TEST_POSTGRES" ]; then db=postgres; else db=sqlite; fi
case " $* " in
  *" tests/api "*) tests=api ;;
  *" --ignore-glob="*) tests=rest ;;
  *" tests/integration/"*) tests=integration-a-d ;;
  *) tests=rest ;;
esac
pass=$db-$tests
echo "$pass pass: $*"
touch "$MARKS/$pass"
for other in sqlite-api sqlite-rest sqlite-integration-a-d postgres-api postgres-rest; do
  i=0
  while [ ! -e "$MARKS/$other" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  [ -e "$MARKS/$other" ] || { echo "$pass pass ran without $other"; exit 3; }
done
[ "$FAIL_PASS" = "$pass" ] && { echo "$pass pass failed"; exit 1; }
exit 0
"""


@pytest.fixture
def test_checkout(checkout: Path, tmp_path: Path) -> Path:
    for name in ("ruff", "mypy"):
        (checkout / ".venv" / "bin" / name).write_text("#!/bin/sh\nexit 0\n")
        (checkout / ".venv" / "bin" / name).chmod(0o755)
    (checkout / ".venv" / "bin" / "pytest").write_text(PYTEST)
    (checkout / ".venv" / "bin" / "pytest").chmod(0o755)
    (tmp_path / "marks").mkdir()
    return checkout


def test_the_five_passes_run_side_by_side_and_each_counts(test_checkout: Path, tmp_path: Path) -> None:
    marks = str(tmp_path / "marks")
    logs = tmp_path / "tmp"  # where the background passes' output waits for its turn
    logs.mkdir()
    done = dev(
        test_checkout, "test", MARKS=marks, TMPDIR=str(logs), ORDERHUB_TEST_POSTGRES="postgresql://pg.example/test"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [
        line for line in done.stdout.splitlines() if not line.startswith(("cwd=", "arg="))
    ]  # the reachability check
    # The SQLite pass of everything but the API tests first, then each other pass's output whole. The
    # SQLite passes run without ORDERHUB_TEST_POSTGRES, which would have moved their data to PostgreSQL.
    assert lines == [
        "sqlite-rest pass: --durations=15 --ignore=tests/api --ignore=tests/postgres --ignore=tests/bench"
        " --ignore-glob=tests/integration/test_[a-d]*.py",
        "--- the API tests on SQLite ---",
        "sqlite-api pass: -p no:cacheprovider --durations=15 tests/api",
        "--- the API tests on PostgreSQL (postgresql://pg.example/test) ---",
        "postgres-api pass: -p no:cacheprovider --durations=15 tests/api",
        "--- the PostgreSQL tests and the benchmark's smoke runs (postgresql://pg.example/test) ---",
        "postgres-rest pass: -p no:cacheprovider --durations=15 tests/postgres tests/bench",
        "--- the integration tests on SQLite, a to d ---",
        "sqlite-integration-a-d pass: -p no:cacheprovider --durations=15 tests/integration/test_[a-d]*.py",
    ]
    for failing in ("sqlite-rest", "sqlite-api", "postgres-api", "postgres-rest", "sqlite-integration-a-d"):
        for mark in Path(marks).iterdir():
            mark.unlink()
        failed = dev(
            test_checkout,
            "test",
            MARKS=marks,
            TMPDIR=str(logs),
            FAIL_PASS=failing,
            ORDERHUB_TEST_POSTGRES="postgresql://pg/t",
        )
        assert failed.returncode != 0, failing
        assert f"{failing} pass failed" in failed.stdout
        assert "postgres-rest pass: " in failed.stdout  # the other passes ran to their end and were shown
    assert not list(logs.iterdir())


def test_arguments_run_the_chosen_tests_alone_on_sqlite(test_checkout: Path, tmp_path: Path) -> None:
    # The stand-in need not wait for passes that will not come.
    for other in ("sqlite-api", "sqlite-integration-a-d", "postgres-api", "postgres-rest"):
        (tmp_path / "marks" / other).touch()
    done = dev(test_checkout, "test", "tests/unit", "-q", MARKS=str(tmp_path / "marks"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["sqlite-rest pass: tests/unit -q"]
