"""CSV that is safe to open in a spreadsheet: every CSV Wardflow writes goes through here.

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is taken by
Excel, LibreOffice and Google Sheets as a formula (CSV or formula injection: a provider
name typed as `=HYPERLINK(...)` runs when a director opens the export). Such a cell is
written with a leading apostrophe, OWASP's rule, which the spreadsheet shows as text.
Numbers stay numbers: an int or float, or text that is exactly a number (`-0.1`, `+44`,
`1e3`), is written as it is, so a longitude west of Greenwich is still data.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def cell(value: Any) -> Any:
    """The value as it may go into a CSV cell."""
    if not isinstance(value, str) or not value.startswith(TRIGGERS):
        return value
    if _NUMBER.fullmatch(value):
        return value
    return "'" + value


class SafeWriter:
    """`csv.writer` with every cell neutralised (the same rows and quoting otherwise)."""

    def __init__(self, out: _Writable, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: _Writable, **options: Any) -> SafeWriter:
    return SafeWriter(out, **options)
