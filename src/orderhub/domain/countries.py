"""ISO 3166-1 alpha-2 country codes: the list the IANA time zone database keeps (shipped with tzdata,
a dependency), so that "ZZ" or "XX" is refused and a new country arrives with tzdata's updates."""

from __future__ import annotations

from importlib.resources import files


def _read_country_codes() -> frozenset[str]:
    table = files("tzdata.zoneinfo").joinpath("iso3166.tab").read_text(encoding="utf-8")
    return frozenset(line.split("\t", 1)[0] for line in table.splitlines() if line and not line.startswith("#"))


# Read when the module is imported (the service imports it before it listens), not on the first order:
# a process out of file descriptors then failed that order with a 500 and stored nothing, and every
# order after it that found the list still unread.
_COUNTRY_CODES = _read_country_codes()


def country_codes() -> frozenset[str]:
    return _COUNTRY_CODES


def country_code_valid(code: str) -> bool:
    return code in _COUNTRY_CODES
