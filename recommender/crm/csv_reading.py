"""Streaming CSV reading for CRM exports: rows with their line numbers, or a reason per bad row.

Files are read as UTF-8 (a byte-order mark is tolerated). A row holding bytes that are not
UTF-8 is rejected with the offending byte named; a UTF-16 file or a header that is not UTF-8
rejects the whole file. Nothing is ever loaded whole: rows are yielded one at a time.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from recommender.domain import normalize_name, utc_naive
from recommender.errors import ValidationError

# Fields may be long (deal notes); the stdlib default of 128 KiB is too tight for some exports.
csv.field_size_limit(16 * 1024 * 1024)


@dataclass(frozen=True)
class RowError:
    """A rejected row (or a rejected file, ``line`` 0 or 1): where it is and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


Row = dict[str, str]


def _bad_byte(cells: Iterable[str], header: list[str] | None = None) -> str | None:
    """Return a reason when a decoded cell holds undecodable bytes (surrogate escapes)."""
    cells = list(cells)
    if "".join(cells).isascii():
        return None
    for i, cell in enumerate(cells):
        try:
            cell.encode("utf-8")
        except UnicodeEncodeError as exc:
            byte = ord(exc.object[exc.start]) - 0xDC00
            where = f" in column {header[i]!r}" if header and i < len(header) else ""
            hint = " (looks like Latin-1 / Windows-1252)" if 0x80 <= byte <= 0xFF else ""
            return (
                f"not valid UTF-8: byte 0x{byte:02X}{where}{hint}; save the file as UTF-8"
            )
    return None


def _utf16_bom(path: Path) -> bool:
    with path.open("rb") as fh:
        start = fh.read(2)
    return start in (b"\xff\xfe", b"\xfe\xff")


def read_header(path: str | Path) -> list[str] | None:
    """Return the normalised column names of a CSV file, or None when it has no usable header."""
    p = Path(path)
    try:
        if _utf16_bom(p):
            return None
        with p.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            header = next(csv.reader(fh), None)
    except (OSError, csv.Error):
        return None
    if not header or _bad_byte(header):
        return None
    return [normalize_name(h) for h in header]


def iter_csv(
    path: str | Path,
    required: Iterable[str] = (),
    file_label: str | None = None,
    skip: Callable[[list[str]], bool] | None = None,
) -> Iterator[tuple[int, Row] | RowError]:
    """Yield ``(line, row)`` for each data row of a CSV file, or a ``RowError`` per bad row.

    Parameters
    ----------
    path : the CSV file (UTF-8, header row, a BOM tolerated).
    required : normalised column names (see ``normalize_name``) the header must carry;
        a missing one rejects the whole file (one ``RowError`` on line 1).
    file_label : how the file is named in errors (default: the path as given).
    skip : rows (raw cells) for which this returns True are skipped, e.g. report footers.

    Yields
    ------
    ``(line, row)`` where ``line`` is the 1-based line the record starts on and ``row`` maps
    each normalised column name to its raw text; or ``RowError(file, line, reason)``. Blank
    rows are skipped.
    """
    p = Path(path)
    name = file_label or str(path)
    try:
        if _utf16_bom(p):
            yield RowError(name, 1, "file is UTF-16 encoded; save it as UTF-8 (CSV UTF-8)")
            return
        fh = p.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as exc:
        yield RowError(name, 0, f"cannot read file: {exc.strerror or exc}")
        return
    with fh:
        reader = csv.reader(fh)
        header = _checked_header(reader, name, required)
        if isinstance(header, RowError):
            yield header
            return
        yield from _data_rows(reader, header, name, skip)


def _checked_header(reader, name: str, required: Iterable[str]) -> list[str] | RowError:
    """Read the header row: normalised column names, or why the whole file is rejected."""
    try:
        raw_header = next(reader)
    except StopIteration:
        return RowError(name, 1, "empty file: no header row")
    except csv.Error as exc:
        return RowError(name, 1, f"malformed CSV header: {exc}")
    bad = _bad_byte(raw_header)
    if bad:
        return RowError(name, 1, f"header row is {bad}")
    header = [normalize_name(h) for h in raw_header]
    missing = [c for c in required if c not in header]
    if missing:
        return RowError(
            name, 1, f"missing column(s) {', '.join(missing)}; header has {', '.join(header)}"
        )
    return header


def _data_rows(reader, header: list[str], name: str,
               skip: Callable[[list[str]], bool] | None) -> Iterator[tuple[int, Row] | RowError]:
    """Yield the data rows after the header (see ``iter_csv``)."""
    width = len(header)
    previous = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield RowError(name, previous + 1, f"malformed CSV: {exc}")
            previous = reader.line_num
            continue
        line = previous + 1
        previous = reader.line_num
        joined = "".join(cells)
        if not joined or joined.isspace():
            continue
        if skip is not None and skip(cells):
            continue
        if not joined.isascii():
            bad = _bad_byte(cells, header)
            if bad:
                yield RowError(name, line, bad)
                continue
        if len(cells) != width:
            # Trailing empty cells beyond the header are harmless (spreadsheet exports).
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                cells = cells[:width]
            else:
                yield RowError(name, line, f"{len(cells)} fields but the header has {width}")
                continue
        yield line, dict(zip(header, cells, strict=True))


# --- value parsers: blank -> None, bad -> ValidationError naming the column -------------------

_US_DATE = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ ,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$"
)
_BASIC_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


def parse_datetime(value: str | None, column: str) -> datetime | None:
    """Parse an ISO 8601 / Salesforce / HubSpot time to naive UTC; blank gives None.

    Accepted: ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS]``, ``YYYY-MM-DDTHH:MM:SS[.fff][Z|+HHMM|
    +HH:MM]`` and the US report form ``M/D/YYYY [h:mm [AM|PM]]``. Offsets convert to UTC.
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        if text[-1] == "Z":  # the common UTC form: skip the timezone round trip
            return datetime.fromisoformat(text[:-1])
        return utc_naive(datetime.fromisoformat(text))
    except ValueError:
        pass
    fixed = _BASIC_OFFSET.sub(r"\1:\2", text) if "T" in text else text
    try:
        return utc_naive(datetime.fromisoformat(fixed))
    except ValueError:
        pass
    m = _US_DATE.match(text)
    if m:
        month, day, year, hour, minute, second, ampm = m.groups()
        h = int(hour or 0)
        if ampm:
            if not 1 <= h <= 12:
                h = 99  # invalid; falls to the error below
            h = h % 12 + (12 if ampm.lower() == "pm" else 0)
        try:
            return datetime(int(year), int(month), int(day), h, int(minute or 0),
                            int(second or 0))
        except ValueError:
            pass
    raise ValidationError(
        f"bad date in {column}: {text!r}; expected ISO 8601 such as 2026-03-31 or "
        "2026-03-31T14:05:00Z"
    )


_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def parse_bool(value: str | None, column: str) -> bool | None:
    """Parse ``0/1/true/false/yes/no`` (any case); blank gives None."""
    text = (value or "").strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(f"bad boolean in {column}: {value!r}; expected 0/1 or true/false")


_CURRENCY = re.compile(r"^(?:[A-Z]{3}\s*|[$€£¥]\s*)")


def parse_amount(value: str | None, column: str) -> float | None:
    """Parse a non-negative amount (``1234.5``, ``1,234.50``, ``USD 1,234.50``); blank → None."""
    text = (value or "").strip()
    if not text:
        return None
    cleaned = _CURRENCY.sub("", text).replace(",", "").replace(" ", "")
    try:
        amount = float(cleaned)
    except ValueError:
        raise ValidationError(f"bad amount in {column}: {text!r} is not a number") from None
    if not math.isfinite(amount):
        raise ValidationError(f"bad amount in {column}: {text!r} is not a finite number")
    if amount < 0:
        raise ValidationError(f"bad amount in {column}: {text!r} is negative")
    return amount


def parse_probability(value: str | None, column: str) -> float | None:
    """Parse a propensity in (0, 1]; blank gives None."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        p = float(text)
    except ValueError:
        raise ValidationError(f"bad {column}: {text!r} is not a number") from None
    if not (0.0 < p <= 1.0):
        raise ValidationError(f"bad {column}: {text!r} is not in (0, 1]")
    return p


def split_list(value: str | None) -> list[str]:
    """Split a ``;``- or ``,``-separated cell into trimmed, non-empty items."""
    text = (value or "").strip()
    if not text:
        return []
    sep = ";" if ";" in text else ","
    return [item.strip() for item in text.split(sep) if item.strip()]


def first(row: Row, *columns: str) -> str:
    """Return the first non-blank value among ``columns`` (normalised names), trimmed."""
    for column in columns:
        value = row.get(column)
        if value is not None and value.strip():
            return value.strip()
    return ""
