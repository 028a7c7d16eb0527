"""Reading the files operators import: CSV rows, and product records from JSON or CSV.

A record is read as it was written or refused with a reason naming the field: nothing is rounded or
coerced (JSON's true is no 1, 3.9 no 3), so that what is imported is what the file says.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from orderhub.domain.catalog import PRICE_TEXT, Product

_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


class UnreadableFile(Exception):
    """The file as a whole cannot be imported (not UTF-8, not the expected format): nothing is."""


class BadValue(Exception):
    """A field of one record that is not what it must be; the message names the field."""


class _Object(dict[str, Any]):
    """A JSON object, with the keys it holds more than once (json keeps the last value silently)."""

    repeated: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, Any]]) -> _Object:
    found = _Object(pairs)
    if len(found) < len(pairs):
        keys = [key for key, _ in pairs]
        found.repeated = tuple(sorted({key for key in keys if keys.count(key) > 1}))
    return found


def _repeated(value: dict[str, Any]) -> tuple[str, ...]:
    return value.repeated if isinstance(value, _Object) else ()


def text(path: Path) -> str:
    try:
        # utf-8-sig: spreadsheet exports and some editors start with a byte-order mark; JSON too.
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    except FileNotFoundError:
        raise UnreadableFile(f"{path} does not exist") from None
    except IsADirectoryError:
        raise UnreadableFile(f"{path} is a directory, not a file to import") from None
    except OSError as exc:
        raise UnreadableFile(f"{path} cannot be read: {exc.strerror}") from None


class _CountedLines:
    """The file's lines as the CSV reader takes them, counted: the reader's own count leaves out the
    line it fails on (a field over the size limit on line 6 was reported on line 5)."""

    def __init__(self, content: str) -> None:
        self._lines = io.StringIO(content, newline="")
        self.read = 0

    def __iter__(self) -> _CountedLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.read += 1
        return line


def csv_records(
    path: Path, required: tuple[tuple[str, ...], ...], content: str | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a CSV file (``content``: its text, read already) whose header holds one of each group
    of ``required`` column names, each with the number of its (last) line."""
    lines = _CountedLines(text(path) if content is None else content)
    reader = csv.DictReader(lines)
    try:
        columns = set(reader.fieldnames or [])
        missing = [names[0] for names in required if not columns & set(names)]
        if missing:
            raise UnreadableFile(f"{path} lacks the column(s) {', '.join(missing)}: not a file for this import")
        for record in reader:
            yield lines.read, record
    except csv.Error as exc:
        raise UnreadableFile(f"{path} line {lines.read}: {exc}") from None


def product_records(path: Path) -> Iterator[tuple[int, Product | str]]:
    """Each record of a JSON list (numbered from 1) or CSV file (by line): a product, or why it is none.
    A file named *.json is JSON; so is one of another name (a pipe: /dev/fd/63) but *.csv that starts as
    JSON does, with [ or {, which no header of the columns a CSV file needs starts with."""
    content = text(path)
    suffix = path.suffix.lower()
    if suffix == ".json" or (suffix != ".csv" and content.lstrip()[:1] in ("[", "{")):
        try:
            # Decimal: a price or size is read as written, not as the nearest binary fraction.
            records = json.loads(content, parse_float=Decimal, object_pairs_hook=_json_object)
        except json.JSONDecodeError as exc:
            raise UnreadableFile(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(records, list | dict):
            raise UnreadableFile(f"{path} holds no product records (a JSON list of objects is expected)")
        for number, record in enumerate(records if isinstance(records, list) else [records], start=1):
            yield number, _record(record) if isinstance(record, dict) else "not an object"
        return
    for line, record in csv_records(path, (("id",), ("name",)), content):
        yield line, _record(record)


def _record(data: dict[str, Any]) -> Product | str:
    try:
        return _product(data)
    except BadValue as exc:
        return str(exc)


def _product(data: dict[str, Any]) -> Product:
    if _repeated(data):
        raise BadValue(f"field(s) {', '.join(_repeated(data))} given more than once")
    for required in ("id", "name"):
        if data.get(required) is None:  # absent or null (an empty one is the validation's to name)
            raise BadValue(f"missing field '{required}'")
    return Product(
        id=_string(data, "id").strip(),
        name=_string(data, "name").strip(),
        description=_string(data, "description"),
        data_mb=_whole_number(data, "data_mb"),
        validity_days=_whole_number(data, "validity_days"),
        footprint=_footprint(data.get("footprint")),
        prices=_prices(data.get("prices")),
    )


def _string(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadValue(f"{name} must be text, not {_shown(value)}")
    return value


def _whole_number(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    # bool is an int to Python: JSON's true would be stored as 1.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        return int(value.strip())
    raise BadValue(f"{name} must be a whole number, not {_shown(value)}")


def _footprint(value: object) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):  # CSV: "PT;ES"
        codes: list[object] = [code for code in value.split(";") if code.strip()]
    elif isinstance(value, list):
        codes = value
    else:
        raise BadValue('footprint must be a list of country codes such as ["PT", "ES"] (CSV: PT;ES)')
    not_text = [code for code in codes if not isinstance(code, str)]
    if not_text:
        raise BadValue(
            f"footprint must hold country codes such as PT, not {', '.join(_shown(code) for code in not_text)}"
        )
    # Whether each is a country code is the product's own rule (Product.validate).
    return tuple(str(code).strip().upper() for code in codes)


def _prices(value: object) -> dict[str, Decimal]:
    if value is None or value == "":
        return {}
    if isinstance(value, str):  # CSV: "USD=10;EUR=9.50"
        pairs = []
        for part in (part.strip() for part in value.split(";")):
            if not part:
                continue
            currency, equals, amount = part.partition("=")
            if not equals or not currency.strip() or not amount.strip():
                raise BadValue(f"prices: {part!r} is not CURRENCY=AMOUNT, such as USD=9.50")
            pairs.append((currency, amount))
        currencies = [currency.strip().upper() for currency, _ in pairs]
        twice = sorted({currency for currency in currencies if currencies.count(currency) > 1})
        if twice:
            raise BadValue(f"prices: {', '.join(twice)} given more than once")
    elif isinstance(value, dict):
        if _repeated(value):
            raise BadValue(f"prices: {', '.join(_repeated(value))} given more than once")
        pairs = list(value.items())
    else:
        raise BadValue('prices must be an object of currency and amount, such as {"USD": "9.50"}')
    return {str(currency).strip().upper(): _amount(str(currency).strip().upper(), a) for currency, a in pairs}


def _amount(currency: str, value: object) -> Decimal:
    # The same text esim-v1 takes for a price: no exponent ("1e30"), no "NaN", no "1_000".
    if isinstance(value, str) and PRICE_TEXT.fullmatch(value.strip()):
        return Decimal(value.strip())
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return Decimal(value)  # how large and how precise it may be is the product's rule
    raise BadValue(f"price in {currency} must be a decimal number such as 9.50, not {_shown(value)}")


def _shown(value: object) -> str:
    """A value as the file wrote it (a JSON number read as a Decimal without the quotes of a string)."""
    return str(value) if isinstance(value, Decimal) else json.dumps(value)
