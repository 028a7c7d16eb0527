"""`orderhub order list`, run as the operator runs it, on a SQLite file holding orders of three partners
and the four APIs (listed_orders.py): which orders each option selects, newest first, how many match,
the JSON, and the one line a wrong option gets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderhub.bootstrap import build_services
from orderhub.settings import Settings
from tests.integration.correlated_orders import SHARED, VENDOR_ID, place_correlated_orders
from tests.integration.listed_orders import (
    CUSTOMER_EMAIL,
    CUSTOMER_NAME,
    CUSTOMER_PIN,
    EXTERNAL_ID,
    FAILURE,
    ICCID,
    LISTED,
    add_orders,
)
from tests.integration.support import OrderhubProcesses, run_cli, sqlite_url

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The orders' database (read only by the tests), and a directory to run the command in."""
    where = tmp_path_factory.mktemp("order-list")
    url = sqlite_url(where / "orders.db")
    services = build_services(Settings(database_url=url))
    services.migrate()
    add_orders(services)
    services.close()
    yield url, where


def order_list(database: tuple[str, Path], *options: str) -> tuple[int, str, str]:
    url, where = database
    result = run_cli("order", "list", *options, "--db", url, cwd=where)
    return result.returncode, result.stdout, result.stderr


def listed_ids(database: tuple[str, Path], *options: str) -> list[str]:
    code, out, err = order_list(database, *options, "--json")
    assert code == 0, err
    return [order["id"] for order in json.loads(out)["orders"]]


def test_the_table_lists_every_partners_orders_newest_first_without_personal_data(
    database: tuple[str, Path],
) -> None:
    code, out, err = order_list(database)

    assert (code, err) == (0, "")
    lines = out.splitlines()
    rows = {order_id: next(line for line in lines if f" {order_id} " in line) for order_id in LISTED}
    assert [lines.index(rows[order_id]) for order_id in LISTED] == sorted(lines.index(row) for row in rows.values())
    assert "line-deleted" not in out
    header = next(line for line in lines if " number " in line)
    for column in ("id", "number", "partner", "api", "operation", "state", "subject", "due", "created", "failure"):
        assert f" {column} " in header
    # What each acts on as the other commands take it; the times to the second, as --since takes them.
    assert all(f" {part} " in rows["line-scheduled"] for part in (
        "ORD-20260302100000-0001", "shop", "tmf-productorder", "LINE_PRODUCTS", "scheduled", "line GT 50210001",
        "2026-03-10T00:00:00+00:00", "2026-03-02T10:00:00+00:00",
    ))  # fmt: skip
    assert " access access-4711 " in rows["access-open"] and " onapi-order " in rows["access-open"]
    assert f" esim {ICCID} " in rows["esim-done"] and " completed " in rows["esim-done"]
    # The failure cut short, the e-mail it quotes masked; the customer nowhere.
    assert " no profile for j***@example.com: the inventory of batch 202… " in rows["esim-failed"]
    assert " the line is barred " in rows["line-failed"]
    for personal in (CUSTOMER_EMAIL, CUSTOMER_NAME, CUSTOMER_PIN, "jane"):
        assert personal not in out
    assert lines[-1] == "5 orders match, all shown"


def test_json_has_each_order_whole_and_the_total(database: tuple[str, Path]) -> None:
    code, out, err = order_list(database, "--json")

    assert code == 0, err
    listing = json.loads(out)
    assert listing["total"] == 5
    assert [order["id"] for order in listing["orders"]] == LISTED
    by_id = {order["id"]: order for order in listing["orders"]}
    assert by_id["esim-failed"] == {
        "id": "esim-failed",
        "reference": None,
        "partner": "travel",
        "dialect": "esim-v1",
        "operation": "NEW_ESIM",
        "state": "failed",
        "subject": None,
        "due": "2026-03-02T09:00:00+00:00",
        "created": "2026-03-02T09:00:00+00:00",
        "failure": FAILURE.replace(CUSTOMER_EMAIL, "j***@example.com"),
    }
    assert by_id["line-scheduled"]["reference"] == "ORD-20260302100000-0001"
    assert by_id["line-scheduled"]["subject"] == "line GT 50210001"
    assert by_id["access-open"]["subject"] == "access access-4711"
    assert by_id["esim-done"]["subject"] == f"esim {ICCID}"
    for personal in (CUSTOMER_EMAIL, CUSTOMER_NAME, CUSTOMER_PIN, "jane"):
        assert personal not in out


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--partner", "shop"], ["line-failed", "line-scheduled"]),
        (["--state", "failed"], ["line-failed", "esim-failed"]),
        (["--state", "failed", "--state", "scheduled"], ["line-failed", "line-scheduled", "esim-failed"]),
        (["--api", "esim-v1"], ["esim-failed", "esim-done"]),
        (["--api", "tmf622"], ["line-failed"]),
        (["--api", "onapi-order"], ["access-open"]),
        (["--since", "2026-03-02"], ["access-open", "line-failed", "line-scheduled", "esim-failed"]),
        (["--until", "2026-03-02"], ["line-scheduled", "esim-failed", "esim-done"]),  # the whole day
        (["--until", "2026-03-02T10:00"], ["esim-failed", "esim-done"]),  # UTC; created before then
        (["--until", "9999-12-31"], ["access-open", "line-failed", "line-scheduled", "esim-failed", "esim-done"]),
        (["--since", "2026-03-02T09:30:00Z", "--until", "2026-03-03T07:00+06:00"], ["line-failed", "line-scheduled"]),
        (["--open"], ["access-open", "line-scheduled"]),
        (["--open", "--state", "scheduled", "--state", "failed"], ["line-scheduled"]),
        (["--partner", "shop", "--state", "failed"], ["line-failed"]),
        (["--open", "--api", "tmf-productorder"], ["line-scheduled"]),
        (["--partner", "travel", "--state", "failed", "--api", "esim-v1", "--since", "2026-03-02"], ["esim-failed"]),
        (["--partner", "nordnet", "--state", "failed"], []),
        (["--subject", "line GT 50210001"], ["line-failed", "line-scheduled"]),
        (["--subject", "line  GT   50210001 ", "--state", "failed"], ["line-failed"]),
        (["--subject", "access access-4711"], ["access-open"]),
        (["--subject", f"esim {ICCID}"], ["esim-done"]),
        (["--subject", "access access-4711", "--partner", "shop"], []),
        (["--external-id", EXTERNAL_ID], ["line-failed"]),  # not the deleted one with it too
        (["--external-id", EXTERNAL_ID, "--partner", "shop", "--state", "failed"], ["line-failed"]),
        (["--external-id", EXTERNAL_ID, "--state", "completed"], []),
        (["--external-id", EXTERNAL_ID[:-1]], []),  # compared whole
    ],
)
def test_each_option_and_their_combinations_select_the_orders_all_of_them_match(
    database: tuple[str, Path], options: list[str], expected: list[str]
) -> None:
    assert listed_ids(database, *options) == expected


def test_the_last_line_says_how_many_match_and_how_to_see_the_others(database: tuple[str, Path]) -> None:
    code, out, err = order_list(database, "--limit", "2")
    assert code == 0, err
    assert " access-open " in out and " line-failed " in out and " line-scheduled " not in out
    assert out.splitlines()[-1] == "5 orders match, the newest 2 shown: --limit 5 shows them all"

    code, out, err = order_list(database, "--limit", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["total"] == 5 and [o["id"] for o in json.loads(out)["orders"]] == LISTED[:2]

    assert order_list(database, "--partner", "nordnet")[1].splitlines()[-1] == "1 order matches, all shown"
    code, out, _ = order_list(database, "--partner", "nordnet", "--state", "failed")
    assert (code, out) == (0, "no order matches\n")


STATES = "accepted, scheduled, held, in_progress, completed, partial, failed, rejected, assessing_cancellation, " \
         "pending_cancellation, cancelled"  # fmt: skip
NOT_A_TIME = "expected an ISO-8601 date or date-time, e.g. 2026-01-15 or 2026-01-15T08:00Z"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (["--state", "shipped"], f"unknown state 'shipped': the states are {STATES}"),
        (["--api", "tmf"], "unknown API 'tmf': the APIs are esim-v1, tmf-productorder, tmf622, onapi-order"),
        (["--since", "yesterday"], f"--since 'yesterday': {NOT_A_TIME}"),
        (["--until", "2026-13-01"], f"--until '2026-13-01': {NOT_A_TIME}"),
        # An instant before year 1 or after 9999 once in UTC: an OverflowError's traceback before.
        (["--since", "0001-01-01T00:00+01:00"],
         "--since '0001-01-01T00:00+01:00': out of range, in UTC before year 1 or after 9999"),
        (["--until", "9999-12-31T23:30-01:00"],
         "--until '9999-12-31T23:30-01:00': out of range, in UTC before year 1 or after 9999"),
        (["--since", "2026-03-03", "--until", "2026-03-02"], "--since must be before --until"),
        (["--limit", "0"], "--limit '0': expected a whole number from 1 to 1000"),
        (["--limit", "1001"], "--limit '1001': expected a whole number from 1 to 1000"),
        (["--limit", "ten"], "--limit 'ten': expected a whole number from 1 to 1000"),
        (["--partner", "nobody"], "no partner nobody"),
        (["--subject", "line GT 50219999"], "no line 50219999 in business unit GT"),
        (["--subject", "access access-9"], "no access access-9"),
        (["--subject", "line 50210001"], "subject 'line 50210001': expected esim <ICCID>, line <business unit> "
                                         "<MSISDN> or access <coAccessId>"),
        (["--subject", "order-1"], "subject 'order-1': expected esim <ICCID>, line <business unit> <MSISDN> "
                                   "or access <coAccessId>"),
        (["--open", "--state", "failed", "--state", "completed"],
         "--open leaves out final states, and every --state given is one (completed, failed)"),
        (["--correlation-id", " "],
         "--correlation-id is blank: give a request's X-Correlation-ID, 1 to 200 characters"),
        (["--correlation-id", "x" * 201],
         "--correlation-id is 201 characters long: an X-Correlation-ID has at most 200"),
        # Bytes that are no UTF-8 (a Latin-1 terminal's "ÿ"): a traceback before.
        (["--external-id", "PO-\udcff"], "an argument is not UTF-8 text: 'PO-\\udcff'"),
        (["--partner", "\udcff"], "an argument is not UTF-8 text: '\\udcff'"),
    ],
)  # fmt: skip
def test_a_wrong_option_is_refused_in_one_line(database: tuple[str, Path], options: list[str], error: str) -> None:
    code, out, err = order_list(database, *options)
    assert (code, out, err) == (1, "", f"error: {error}\n")


def test_a_correlation_id_selects_the_orders_its_request_placed_through_any_api(
    tmp_path: Path, orderhub_procs: OrderhubProcesses
) -> None:
    db_path = tmp_path / "orderhub.db"
    placed = place_correlated_orders(orderhub_procs.serve(db_path))
    database = (sqlite_url(db_path), tmp_path)

    def listed(*options: str) -> list[tuple[str, str]]:
        code, out, err = order_list(database, *options, "--json")
        assert code == 0, err
        # Each by its number where its API shows one (as tmf-productorder answered it), else by its id.
        return [(order["dialect"], order["reference"] or order["id"]) for order in json.loads(out)["orders"]]

    shared = listed("--correlation-id", SHARED)
    # Newest first: the onapi-order order (its answer names none) after the esim-v1 one; not the
    # tmf-productorder order, whose id only begins with SHARED.
    assert [dialect for dialect, _ in shared] == ["onapi-order", "esim-v1"] and shared[1][1] == placed.esim
    assert listed("--correlation-id", f"  {SHARED} ") == shared  # as copied with blanks around it
    assert listed("--correlation-id", VENDOR_ID) == [("tmf-productorder", placed.vendor)]
    assert [dialect for dialect, _ in listed("--correlation-id", placed.generated)] == ["onapi-order"]
    # With the other options, as they combine with each other.
    assert listed("--correlation-id", SHARED, "--api", "esim-v1") == [("esim-v1", placed.esim)]
    assert listed("--correlation-id", SHARED, "--partner", "demo-co-acme") == shared[:1]
    assert listed("--correlation-id", SHARED, "--partner", "demo-channel-1") == []
    # Compared whole and as written.
    for other in (SHARED.upper(), SHARED[:-1], f"{SHARED}-", "no-such-request"):
        assert order_list(database, "--correlation-id", other)[:2] == (0, "no order matches\n"), other
