"""ISO 3166-1 alpha-2 country codes: the list the IANA time zone database keeps (shipped with tzdata,
a dependency), so that "ZZ" or "XX" is refused and a new country arrives with tzdata's updates."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def country_codes() -> frozenset[str]:
    table = files("tzdata.zoneinfo").joinpath("iso3166.tab").read_text(encoding="utf-8")
    return frozenset(line.split("\t", 1)[0] for line in table.splitlines() if line and not line.startswith("#"))


def country_code_valid(code: str) -> bool:
    return code in country_codes()
