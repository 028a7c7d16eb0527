"""A server process with no file descriptor left: what it answers, and what a start with too few says.

Running out is made deterministic, not raced for with many connections: the server runs behind an
audit hook that, once the test sends SIGUSR1, refuses every file the process opens from Python (modules,
data files, time zones) with EMFILE, as a process at its descriptor limit sees it. Whatever a request
would load lazily then fails as it did in production (500s, and for tmf-productorder after the order
was stored); what start-up loaded answers.
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.support import (
    HOST,
    OrderhubProcess,
    base_env,
    client,
    free_port,
    get_token,
    new_esim_body,
    run_cli,
    sqlite_url,
    wait_ready,
)

_WRAPPER = """
import errno, signal, sys
armed = False
def refuse_files(event, args):
    if armed and event == "open":
        raise OSError(errno.EMFILE, "Too many open files", args[0] if args else None)
sys.addaudithook(refuse_files)
def arm(*_):
    global armed
    armed = True
signal.signal(signal.SIGUSR1, arm)
from orderhub.cli import main
sys.argv = ["orderhub", *sys.argv[1:]]
main()
"""


@pytest.fixture
def exhausted(tmp_path: Path) -> Iterator[OrderhubProcess]:
    """A demo server, started normally and then out of file descriptors for anything it opens."""
    db = tmp_path / "orderhub.db"
    assert run_cli("demo-data", "--db", sqlite_url(db), cwd=tmp_path).returncode == 0
    wrapper = tmp_path / "refusing_files.py"
    wrapper.write_text(_WRAPPER)
    port = free_port()
    log = tmp_path / "serve.log"
    argv = [sys.executable, str(wrapper), "serve", "--db", sqlite_url(db), "--host", HOST, "--port", str(port)]
    with log.open("wb") as out:
        popen = subprocess.Popen(argv, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, env=base_env())
    process = OrderhubProcess(argv, popen, log, port)
    try:
        assert wait_ready(process), process.log()
        popen.send_signal(signal.SIGUSR1)
        yield process
    finally:
        process.kill()


def test_an_exhausted_server_answers_its_probes(exhausted: OrderhubProcess) -> None:
    with client(exhausted.base_url) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get("/metrics").status_code == 200


def test_the_first_esim_order_of_an_exhausted_server_is_accepted(exhausted: OrderhubProcess) -> None:
    reseller = get_token(exhausted.base_url)
    with client(exhausted.base_url) as http:
        esim = http.post(
            "/esim/v1/order",
            json=new_esim_body("first@example.com"),
            headers={"Authorization": f"Bearer {reseller}", "X-Correlation-ID": str(uuid.uuid4())},
        )
    assert esim.status_code == 201, esim.text


def test_a_line_order_of_an_exhausted_server_is_answered_as_stored(exhausted: OrderhubProcess) -> None:
    with client(exhausted.base_url) as http:
        line = http.post(
            "/emida-ux-lcr/emida-ux/v1/CR/productOrder",
            json=_line_order("Addon"),
            headers={"X-Correlation-ID": str(uuid.uuid4()), "client_id": "demo-channel-1",
                     "client_secret": "demo-channel-1-secret"},
        )  # fmt: skip
    assert line.status_code == 201, line.text
    assert line.json()["state"] == "completed"
    assert line.json()["orderDate"].endswith("-06:00")  # Costa Rica's time: its zone was read at start-up


def test_tmf622_and_onapi_orders_of_an_exhausted_server_are_accepted(exhausted: OrderhubProcess) -> None:
    base = exhausted.base_url
    channel = get_token(base, "demo-channel-1", "demo-channel-1-secret")
    with client(base) as http:
        tmf622 = http.post(
            "/tmf-api/productOrderingManagement/v4/productOrder",
            json={"productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "OFFER-DP-001"},
                  "product": _line_order("Addon")["productOrderItem"][0]["product"]}]},
            headers={"Authorization": f"Bearer {channel}"},
        )  # fmt: skip
        assert tmf622.status_code == 201, tmf622.text
        onapi = http.post("/2.5/sp_spec/order/", json=_access_order(), auth=("demo-co-acme", "demo-co-acme-secret"))
    assert onapi.status_code == 200, onapi.text
    assert onapi.json()["status"] in ("ACTIVATED", "RECEIVED"), onapi.text


def _line_order(plan_type: str) -> dict[str, object]:
    characteristics = [{"name": "MSISDN", "value": "69877689"}, {"name": "planType", "value": plan_type}]
    product = {"isBundle": False, "@type": "Product", "productOffering": {"id": "OFFER-DP-001"},
               "productCharacteristic": characteristics}  # fmt: skip
    return {"category": "esimPrepaid", "productOrderItem": [{"id": "1", "action": "add", "product": product}]}


def _access_order() -> dict[str, object]:
    when = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "coId": "Acme", "coAccessId": "access-free-5", "operation": "ACTIVATE",
        "orderDateTime": "2021-05-03T20:31:15Z", "requestedDateTime": when,
        "products": [{"productId": "fiber-internet", "offeringId": "1000-1000"}],
        "customerDetails": {
            "identifiedCustomer": True, "personalIdentityNumber": "19121212-1212", "customerFirstname": "Anna",
            "customerLastName": "Berg", "customerPhone": "+46812345678", "customerMobilePhone": "+46701234567",
            "customerEmail": "anna@example.se",
            "invoiceDetails": {"postalCode": "12345", "city": "Stockholm", "streetName": "Storgatan"},
        },
    }  # fmt: skip


def test_a_start_with_too_few_file_descriptors_says_so_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "orderhub.db"
    assert run_cli("demo-data", "--db", sqlite_url(db), cwd=tmp_path).returncode == 0

    def few_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))

    done = subprocess.run(
        [sys.executable, "-m", "orderhub", "serve", "--db", sqlite_url(db), "--host", HOST, "--port", str(free_port())],
        cwd=tmp_path, env=base_env({"COLUMNS": "80"}), capture_output=True, text=True, timeout=60,
        preexec_fn=few_descriptors,
    )  # fmt: skip
    assert done.returncode == 1
    # The log's JSON lines aside (its start), one line: the cause and what to do.
    said = [line for line in done.stderr.splitlines() if not line.startswith('{"ts"')]
    assert said == [
        "error: too many open files: this process may open 16; raise the limit (`ulimit -n 65536`) and start again"
    ], done.stderr


@pytest.mark.parametrize("command", [["serve", "--host", HOST], ["worker"]])
def test_a_limit_start_up_gets_through_but_serving_would_not_is_refused_at_start(
    tmp_path: Path, command: list[str]
) -> None:
    # With 28 descriptors a server used to start, and then refused partners' connections and answered
    # its probes 503 (its connections to the database could not be opened): it said nothing at start.
    db = tmp_path / "orderhub.db"
    assert run_cli("demo-data", "--db", sqlite_url(db), cwd=tmp_path).returncode == 0

    def few_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (28, 28))

    done = subprocess.run(
        [sys.executable, "-m", "orderhub", *command, "--db", sqlite_url(db), "--port", str(free_port())],
        cwd=tmp_path, env=base_env({"COLUMNS": "80"}), capture_output=True, text=True, timeout=10,
        preexec_fn=few_descriptors,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    said = [line for line in done.stderr.splitlines() if not line.startswith('{"ts"')]
    assert said == [
        "error: too many open files: this process may open 28; raise the limit (`ulimit -n 65536`) and start again"
    ], done.stderr
