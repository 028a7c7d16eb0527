"""eSIM inventory use cases: importing profile batches, stock levels, SIM state."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from orderhub.domain.errors import InvalidInput, SimNotFound
from orderhub.domain.esim import ProfileState, Subscription, profile_report_problem
from orderhub.domain.identifiers import Iccid, matching_id_valid, smdp_host_valid
from orderhub.domain.partners import Principal
from orderhub.services.clock import Clock, utc_now
from orderhub.services.ports import UnitOfWork, UnitOfWorkFactory
from orderhub.services.records import StoredProfile, nameable

IMPORT_CHUNK = 500


@dataclass(frozen=True)
class ProfileRow:
    line: int
    iccid: str
    matching_id: str
    smdp_address: str


@dataclass
class ProfileImportReport:
    accepted: int = 0
    not_luhn_valid: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    # Everything read so far, so a repeat is called a duplicate even across import chunks.
    seen_iccids: set[str] = field(default_factory=set, repr=False)
    seen_matching_ids: set[str] = field(default_factory=set, repr=False)


@dataclass(frozen=True)
class SimView:
    iccid: str
    state: ProfileState
    smdp_address: str
    subscriptions: list[Subscription]
    now: datetime


class InventoryService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock = utc_now) -> None:
        self._uow = uow_factory
        self._clock = clock

    def import_profiles(
        self,
        rows: Iterable[ProfileRow],
        *,
        batch: str | None = None,
        progress: Callable[[int], None] = lambda _n: None,
    ) -> ProfileImportReport:
        """Import profiles in chunks; bad or duplicate rows are reported, the rest are kept."""
        report = ProfileImportReport()
        chunk: list[ProfileRow] = []
        counted_at = 0  # profiles this import had added when the store last counted the inventory
        for row in rows:
            chunk.append(row)
            if len(chunk) >= IMPORT_CHUNK:
                self._import_chunk(chunk, batch, report)
                progress(len(chunk))
                chunk = []
                # Each chunk looks its rows up among those already stored. A query plan made while
                # the inventory was small stays in use after it has grown (PostgreSQL keeps a prepared
                # statement's plan) and turns each look-up into a scan of the whole table: counted
                # again each time the import has doubled what it added, a few times in all.
                if report.accepted >= 2 * counted_at + IMPORT_CHUNK:
                    counted_at = report.accepted
                    with self._uow() as uow:
                        uow.profiles.refresh_statistics()
                        uow.commit()
        if chunk:
            self._import_chunk(chunk, batch, report)
            progress(len(chunk))
        return report

    def _import_chunk(self, chunk: list[ProfileRow], batch: str | None, report: ProfileImportReport) -> None:
        valid: list[tuple[ProfileRow, Iccid]] = []
        seen_iccids, seen_matching = report.seen_iccids, report.seen_matching_ids
        for row in chunk:
            problem, iccid = _check_row(row)
            if problem is None and iccid is not None:
                if iccid.value in seen_iccids or row.matching_id in seen_matching:
                    problem = "duplicate of an earlier row in this file"
                else:
                    seen_iccids.add(iccid.value)
                    seen_matching.add(row.matching_id)
                    valid.append((row, iccid))
                    continue
            report.rejected.append((row.line, problem or "unreadable row"))
        with self._uow() as uow:
            known_iccids, known_matching = uow.profiles.existing(
                [i.value for _, i in valid], [r.matching_id for r, _ in valid]
            )
            fresh = []
            for row, iccid in valid:
                if iccid.value in known_iccids:
                    report.rejected.append((row.line, f"ICCID {iccid} is already in inventory"))
                elif row.matching_id in known_matching:
                    report.rejected.append((row.line, f"matching ID {row.matching_id} is already in inventory"))
                else:
                    fresh.append(
                        {
                            "iccid": iccid.value,
                            "matching_id": row.matching_id,
                            "smdp_address": row.smdp_address,
                            "luhn_ok": iccid.luhn_ok,
                            "batch": batch,
                        }
                    )
                    report.not_luhn_valid += 0 if iccid.luhn_ok else 1
            if fresh:
                uow.profiles.add_many(fresh, self._clock())
            uow.commit()
        report.accepted += len(fresh)

    def levels(self) -> dict[str, int]:
        with self._uow(read_only=True) as uow:
            counts = uow.profiles.count_by_state()
        return {state.value: counts.get(state.value, 0) for state in ProfileState}

    def set_profile_state(self, iccid: str, state: ProfileState) -> None:
        """Record what the SM-DP+ reported (download, installation) for a released profile."""
        with self._uow() as uow:
            profile = uow.profiles.get(iccid)
            if profile is None:
                raise SimNotFound(f"no eSIM profile {iccid}", field="iccid")
            problem = profile_report_problem(profile.state, state)
            if problem is not None:
                raise InvalidInput(problem, field="state")
            if profile.state != state:
                uow.profiles.set_state(iccid, state, self._clock())
                uow.commit()

    def sim_for(self, principal: Principal, iccid: str) -> SimView:
        with self._uow(read_only=True) as uow:
            profile = uow.profiles.get(iccid) if nameable(iccid) else None
            owner = _owner_of(uow, profile) if profile is not None else None
            # Unknown and someone else's look the same, so ICCIDs cannot be probed.
            if profile is None or owner is None or not principal.can_see(owner):
                raise SimNotFound(f"no eSIM {iccid}", field="iccid")
            subscriptions = uow.subscriptions.of_iccid(iccid)
        return SimView(iccid, profile.state, profile.smdp_address, subscriptions, self._clock())


def _owner_of(uow: UnitOfWork, profile: StoredProfile) -> str | None:
    """The partner whose order received the profile; of one handed to its customer outside any order
    (the demo's seed eSIM), the customer's partner."""
    if profile.order_id is not None:
        order = uow.orders.get(profile.order_id)
        return order.partner_id if order is not None else None
    customer = uow.partners.get_customer(profile.customer_id) if profile.customer_id else None
    return customer.partner_id if customer is not None else None


def _check_row(row: ProfileRow) -> tuple[str | None, Iccid | None]:
    try:
        iccid = Iccid.parse(row.iccid)
    except ValueError as exc:
        return f"bad ICCID {row.iccid!r}: {exc}", None
    if not matching_id_valid(row.matching_id):
        return f"bad matching ID {row.matching_id!r}: upper-case 0-9, A-Z and '-' only", None
    if not smdp_host_valid(row.smdp_address):
        return f"bad SM-DP+ address {row.smdp_address!r}: a bare host name is expected", None
    return None, iccid
