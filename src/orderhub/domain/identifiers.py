"""Identifiers of the connectivity world: ICCID, EID, matching ID, activation code."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote

_DIGITS = re.compile(r"^[0-9]+\Z")
_MATCHING_ID = re.compile(r"^[0-9A-Z-]{1,64}\Z")
_HOST = re.compile(
    r"^(?=.{1,253}\Z)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\Z"
)


def luhn_check_digit(payload: str) -> int:
    """The digit that makes ``payload + digit`` pass the Luhn check (ISO/IEC 7812-1)."""
    if not _DIGITS.match(payload):
        raise ValueError("Luhn payload must be digits")
    total = 0
    # Walking from the right, the digit next to the (future) check digit is doubled.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def luhn_valid(number: str) -> bool:
    return bool(_DIGITS.match(number)) and len(number) >= 2 and luhn_check_digit(number[:-1]) == int(number[-1])


@dataclass(frozen=True)
class Iccid:
    """ITU-T E.118 integrated circuit card identifier: ``89`` + country + issuer + account + Luhn digit.

    Imported ICCIDs are accepted leniently (some vendors' fail the Luhn check); ``luhn_ok`` flags them.
    ``parse`` and ``generate`` hold where ICCIDs are made (inventory import, generated profiles);
    ``reference`` only checks a number that names one already stored.
    """

    value: str

    MIN_LENGTH = 18
    MAX_LENGTH = 22

    @classmethod
    def parse(cls, raw: str) -> Iccid:
        text = raw.strip()
        if not _DIGITS.match(text):
            raise ValueError("an ICCID has only digits")
        if not cls.MIN_LENGTH <= len(text) <= cls.MAX_LENGTH:
            raise ValueError(f"an ICCID has {cls.MIN_LENGTH} to {cls.MAX_LENGTH} digits")
        if not text.startswith("89"):
            raise ValueError("an ICCID starts with 89 (telecommunication industry identifier)")
        return cls(text)

    @classmethod
    def generate(cls, country_code: str = "44", issuer: str = "99", length: int = 19) -> Iccid:
        """A random ICCID with a valid Luhn digit; ``length`` counts the check digit."""
        prefix = "89" + country_code + issuer
        body_length = length - 1 - len(prefix)
        if body_length < 1:
            raise ValueError("ICCID length too short for its prefix")
        body = "".join(str(secrets.randbelow(10)) for _ in range(body_length))
        payload = prefix + body
        return cls(payload + str(luhn_check_digit(payload)))

    @classmethod
    def reference(cls, raw: str) -> str:
        """The ICCID a request names to look an eSIM up by (a top-up's): only digits, at most
        ``MAX_LENGTH``. Not ``parse``'s rules: what a partner was given is whatever orderhub stores,
        and an unknown number is a business answer (not that customer's eSIM), not a malformed one."""
        text = raw.strip()
        if not _DIGITS.match(text):
            raise ValueError("an ICCID has only digits")
        if len(text) > cls.MAX_LENGTH:
            raise ValueError(f"an ICCID has at most {cls.MAX_LENGTH} digits")
        return text

    @property
    def luhn_ok(self) -> bool:
        return luhn_valid(self.value)

    def __str__(self) -> str:
        return self.value


def eid_valid(eid: str) -> bool:
    """An eUICC identifier (GSMA SGP.29) is 32 digits whose value mod 97 is 1."""
    return len(eid) == 32 and bool(_DIGITS.match(eid)) and int(eid) % 97 == 1


def matching_id_valid(matching_id: str) -> bool:
    return bool(_MATCHING_ID.match(matching_id))


def generate_matching_id() -> str:
    """A matching ID in the usual ``XXXXX-XXXXX-XXXXX-XXXXX`` shape (upper-case alphanumerics)."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def smdp_host_valid(host: str) -> bool:
    return bool(_HOST.match(host))


@dataclass(frozen=True)
class ActivationCode:
    """The GSMA SGP.22 activation code a device scans: ``LPA:1$<SM-DP+ address>$<matching ID>``."""

    smdp_address: str
    matching_id: str

    def __post_init__(self) -> None:
        if not smdp_host_valid(self.smdp_address):
            raise ValueError("SM-DP+ address must be a bare host name")
        if not matching_id_valid(self.matching_id):
            raise ValueError("matching ID must be upper-case 0-9, A-Z and '-'")

    @property
    def lpa_string(self) -> str:
        return f"LPA:1${self.smdp_address}${self.matching_id}"

    @property
    def ios_install_url(self) -> str:
        return "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=" + quote(self.lpa_string, safe="")

    @property
    def android_install_url(self) -> str:
        return "https://esimsetup.android.com/esim_qrcode_provisioning?carddata=" + quote(self.lpa_string, safe="")


def new_id(now_ms: int | None = None) -> str:
    """A new record id: a UUIDv7 (RFC 9562), the creation time in milliseconds then 74 random bits.

    Still unguessable (the random bits), but ids made one after the other sort one after the other,
    so an index grows at its end instead of touching a random page per insert: with a million orders
    stored, random ids made every order dirty a dozen scattered pages.
    """
    millis = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    random_bits = secrets.randbits(74)
    value = (millis & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version
    value |= (random_bits >> 62) << 64  # 12 random bits
    value |= 0b10 << 62  # variant
    value |= random_bits & ((1 << 62) - 1)  # 62 random bits
    # str(uuid.UUID(int=value)), spelt out: the UUID object costs more than the rest of the id.
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def order_reference(now: datetime, number: int) -> str:
    """A partner-facing order number, ``ORD-YYYYMMDDHHMMSS-NNNN`` (UTC): ``number`` counts the orders
    numbered in that second, so it is unique as long as the store hands out each number once. Past
    9999 orders in one second it grows a digit rather than repeat."""
    return f"ORD-{now.astimezone(UTC):%Y%m%d%H%M%S}-{number:04d}"


def reference_second(text: str) -> datetime:
    """The second an order number's ``YYYYMMDDHHMMSS`` names (UTC). Read by hand: strptime imports a
    module at its first call, which a process out of file descriptors cannot open, and an order must
    still be taken then (tests/integration/test_descriptor_exhaustion.py)."""
    month, day, hour, minute, second = (int(text[at : at + 2]) for at in (4, 6, 8, 10, 12))
    return datetime(int(text[0:4]), month, day, hour, minute, second, tzinfo=UTC)


def personal_identity_number_valid(text: str, today: date) -> bool:
    """A Swedish personal identity number: ``YYYYMMDD-XXXX`` (or 12 digits without the dash), or the
    short ``YYMMDD-XXXX`` where ``-`` means under 100 years old and ``+`` 100 or older; the short form's
    10 digits without a separator (``YYMMDDXXXX``, a common spelling) read as with ``-``. The date must
    exist and not lie ahead (a coordination number adds 60 to the day); the last digit is the Luhn
    check digit of the ten digits ``YYMMDDNNNC``."""
    return personal_identity_number(text, today) is not None


def personal_identity_number(text: str, today: date) -> str | None:
    """The number ``text`` spells, as every spelling of it shares it: its 12 digits ``YYYYMMDDXXXX``,
    the century resolved as validation resolves it on ``today`` (a coordination number keeps its day
    plus 60); None when ``text`` is no valid number (personal_identity_number_valid). ``19121212-1212``,
    ``191212121212`` and ``121212+1212`` are ``191212121212``; ``121212-1212`` and ``1212121212`` are
    ``201212121212`` (born 2012, under 100)."""
    full = _PIN_LONG.fullmatch(text)
    if full is not None:
        century, year, month, day, serial = full.groups()
        born_year = int(century + year)
    else:
        short = _PIN_SHORT.fullmatch(text)
        if short is None:
            return None
        year, month, day, sign, serial = short.groups()
        # The century that puts the birth year at most 100 (or, with "+", over 100) years back.
        born_year = today.year - ((today.year - int(year)) % 100)
        if sign == "+":
            born_year -= 100
    real_day = int(day) - 60 if int(day) > 60 else int(day)
    try:
        born = date(born_year, int(month), real_day)
    except ValueError:
        return None
    if full is None and sign != "+" and born > today:
        born = date(born_year - 100, int(month), real_day)
    if born > today or not luhn_valid(f"{year}{month}{day}{serial}"):
        return None
    return f"{born.year:04d}{month}{day}{serial}"


_PIN_LONG = re.compile(r"(\d{2})(\d{2})(\d{2})(\d{2})-?(\d{4})")
_PIN_SHORT = re.compile(r"(\d{2})(\d{2})(\d{2})([-+]?)(\d{4})")
