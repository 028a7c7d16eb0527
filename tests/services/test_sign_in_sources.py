"""Failed sign-ins counted per client id at a source (services.sign_ins): guessing from one source does
not lock the holder out at another, while the client id's failures from every source stay bounded."""

from __future__ import annotations

from datetime import timedelta

from orderhub.domain.errors import NotAuthenticated, TooManyAttempts
from orderhub.domain.partners import Principal
from orderhub.services.sign_ins import FAILURES_PER_CLIENT, FAILURES_PER_CLIENT_AND_SOURCE, pair_key
from tests.clocks import MovableClock
from tests.services.test_sign_ins import CLIENT, RIGHT, START, bursts, hashes, service, store, verify

__all__ = ["hashes"]  # the fixture, used by name


def test_guessing_at_one_source_does_not_lock_the_holder_out_at_another(hashes: list[str]) -> None:
    uow, clock = store(), MovableClock(START)
    first, _ = service(uow, clock)
    second, _ = service(uow, clock)  # the holder's sign-ins reach another process
    for _ in range(FAILURES_PER_CLIENT_AND_SOURCE):
        assert isinstance(verify(first, "wrong", source="203.0.113.9"), NotAuthenticated)
    assert isinstance(verify(first, RIGHT, source="203.0.113.9"), TooManyAttempts)
    assert isinstance(verify(second, RIGHT, source="198.51.100.7"), Principal)
    assert isinstance(verify(second, "wrong", source="203.0.113.9"), TooManyAttempts)  # still refused there


def test_a_client_id_guessed_from_many_sources_is_locked_out_past_its_own_limit(hashes: list[str]) -> None:
    """Each source stays within its limits; the client id's failures from every source together are
    bounded, which bounds the hashes a guess spread over sources costs."""
    uow, clock = store(), MovableClock(START)
    auth_service, _ = service(uow, clock)
    sources = FAILURES_PER_CLIENT // FAILURES_PER_CLIENT_AND_SOURCE
    for index in range(sources):
        for _ in range(FAILURES_PER_CLIENT_AND_SOURCE):
            assert isinstance(verify(auth_service, "wrong", source=f"192.0.2.{index}"), NotAuthenticated)
    assert len(hashes) == FAILURES_PER_CLIENT
    refused = verify(auth_service, RIGHT, source="198.51.100.7")
    assert isinstance(refused, TooManyAttempts) and refused.retry_after == 60
    assert len(hashes) == FAILURES_PER_CLIENT
    assert isinstance(verify(auth_service, RIGHT, client_id="channel-2", source="198.51.100.7"), Principal)


def test_a_client_id_at_a_source_is_one_key_per_pair_whatever_either_holds() -> None:
    assert pair_key("demo-channel-1", "127.0.0.2") == "pair:9:127.0.0.2 demo-channel-1"
    assert pair_key("demo-channel-1", None) == pair_key("demo-channel-1", "") == "pair:0: demo-channel-1"
    pairs = [("b c", "a"), ("c", "a b"), ("x" * 80, "2001:db8::1"), ("x" * 80, "2001:db8::2"), ("a", None)]
    keys = [pair_key(client_id, source) for client_id, source in pairs]
    assert len(set(keys)) == len(pairs) and all(len(key) <= 80 for key in keys)


def test_a_burst_from_many_sources_over_processes_hashes_no_more_than_the_client_ids_limit(hashes: list[str]) -> None:
    uow, clock = store(), MovableClock(START)
    processes = [service(uow, clock)[0] for _ in range(4)]
    sources = 2 * FAILURES_PER_CLIENT // FAILURES_PER_CLIENT_AND_SOURCE  # each within its own limits
    answers = bursts(
        processes,
        sources * FAILURES_PER_CLIENT_AND_SOURCE,
        client_id=lambda _n: CLIENT,
        source=lambda n: f"192.0.2.{n % sources}",
    )
    assert len(hashes) == FAILURES_PER_CLIENT
    assert sum(isinstance(answer, NotAuthenticated) for answer in answers) == FAILURES_PER_CLIENT
    assert isinstance(verify(processes[0], RIGHT, source="198.51.100.7"), TooManyAttempts)


def test_a_known_source_signs_in_past_its_client_ids_limit_which_still_bounds_a_guessers_hashes(
    hashes: list[str],
) -> None:
    """A guesser spread over sources gets the client id's limit of hashes, no more, whether or not the
    holder has sources known; the holder's known source is not refused for them, a new one is."""
    uow, clock = store(), MovableClock(START)
    assert isinstance(verify(service(uow, clock)[0], RIGHT, source="198.51.100.7"), Principal)
    guesser, _ = service(uow, clock)
    sources = FAILURES_PER_CLIENT // FAILURES_PER_CLIENT_AND_SOURCE + 5
    for index in range(sources):
        for _ in range(FAILURES_PER_CLIENT_AND_SOURCE):
            verify(guesser, "wrong", source=f"192.0.2.{index}")
    assert hashes.count("wrong") == FAILURES_PER_CLIENT
    assert isinstance(verify(service(uow, clock)[0], RIGHT, source="198.51.100.7"), Principal)
    assert isinstance(verify(service(uow, clock)[0], RIGHT, source="198.51.100.8"), TooManyAttempts)
    # At the known source: its own limits, the client id's there and the source's across client ids.
    for _ in range(FAILURES_PER_CLIENT_AND_SOURCE):
        assert isinstance(verify(guesser, "wrong", source="198.51.100.7"), NotAuthenticated)
    assert isinstance(verify(service(uow, clock)[0], RIGHT, source="198.51.100.7"), TooManyAttempts)
    assert hashes.count("wrong") == FAILURES_PER_CLIENT + FAILURES_PER_CLIENT_AND_SOURCE


def test_a_source_is_known_for_its_client_id_alone_and_for_30_days(hashes: list[str]) -> None:
    uow, clock = store(), MovableClock(START)
    assert isinstance(verify(service(uow, clock)[0], RIGHT, source="198.51.100.7"), Principal)
    clock.now = START + timedelta(days=30, minutes=-5)
    guesser, _ = service(uow, clock)
    for index in range(FAILURES_PER_CLIENT // FAILURES_PER_CLIENT_AND_SOURCE):
        for client_id in (CLIENT, "channel-2"):
            for _ in range(FAILURES_PER_CLIENT_AND_SOURCE):
                verify(guesser, "wrong", client_id=client_id, source=f"192.0.2.{index}")
    assert isinstance(verify(service(uow, clock)[0], RIGHT, source="198.51.100.7"), Principal)
    # The other client id never signed in there (the same partner's or not): refused.
    refused = verify(service(uow, clock)[0], RIGHT, client_id="channel-2", source="198.51.100.7")
    assert isinstance(refused, TooManyAttempts)
    # The sign-in just now made it known for 30 days more; once they have passed, it is not.
    clock.now += timedelta(days=30, seconds=1)
    for index in range(FAILURES_PER_CLIENT // FAILURES_PER_CLIENT_AND_SOURCE):
        for _ in range(FAILURES_PER_CLIENT_AND_SOURCE):
            verify(guesser, "wrong", source=f"192.0.2.{index}")
    assert isinstance(verify(service(uow, clock)[0], RIGHT, source="198.51.100.7"), TooManyAttempts)
    assert uow.sign_ins.sources == {}, "forgotten as failures were recorded"
