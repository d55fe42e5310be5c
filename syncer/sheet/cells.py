"""Reading one cell's value without guessing.

A workbook holds numbers as binary floating point, turns what looks like a date into a date, shows a
percentage cell's 0.4 as 40%, and keeps a formula's last result. A cell is read into the text a YAML value
would hold, by fixed rules; what cannot be read that way is an error that says what to type instead:

- text cells are their text (line breaks normalised to `\\n`); outside text fields, leading and trailing
  spaces are dropped (aliases, IDs, numbers and percentages never hold them);
- a number is its exact decimal: 1310000.0 is `1310000`, 4.7 is `4.7`. A float whose shortest decimal has
  more than 15 significant digits (Excel's precision: 0.1+0.2 gives 0.30000000000000004) is an error;
- a number with a percent format is the percentage it shows: 0.45 is `45%`, in percentage fields only
  (elsewhere it is an error: 45 or 0.45 would both be a guess);
- in text fields and key columns a number is read only under the General or Text format (another format
  shows other text than the cell holds);
- dates, times, logical values (TRUE/FALSE), error values (#N/A) and formulas without a saved result are
  errors, in every column.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal

from syncer.fieldtypes import CellKind
from syncer.sheet.model import Cell

#: Significant decimal digits a workbook's number holds (IEEE doubles as Excel shows them).
DIGITS = 15

_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


@dataclass(frozen=True, slots=True)
class Read:
    """A cell's text. `composed`: syncer wrote the text from a number the file holds (how it was typed is
    lost), so the file's own style may be kept (e.g. `40%` or `40`)."""

    text: str
    composed: bool = False


class Unreadable(Exception):
    """A cell that cannot be read without guessing: `message` says what to type (`{value}`: the cell's;
    `{detail}`: advice that tells the value, left out when values are redacted)."""

    def __init__(self, code: str, message: str, value: str | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.value = value
        self.detail = detail


def format_kind(number_format: str) -> Literal["general", "text", "percent", "number"]:
    """What a workbook's number format does to a number: nothing (General), text (@), percent, other."""
    fmt = (number_format or "General").strip()
    if fmt.lower() == "general" or not fmt:
        return "general"
    if fmt == "@":
        return "text"
    bare = _QUOTED.sub("", fmt)
    if "%" in bare:
        return "percent"
    return "number"


def decimal_of(value: float | int) -> Decimal:
    """The exact decimal a number cell holds; refuses float noise (more than 15 significant digits)."""
    if isinstance(value, int):
        return Decimal(value)
    if not math.isfinite(value):
        raise Unreadable("sheet-number", "the cell holds no finite number; type the value as text")
    d = Decimal(repr(value))
    if len(d.normalize().as_tuple().digits) > DIGITS:
        close = format(Decimal(format(value, f".{DIGITS}g")).normalize(), "f")
        raise Unreadable(
            "sheet-float",
            "the cell holds {value}, a binary float that is no decimal Excel can show (the noise of a formula "
            "or a conversion): type the value you mean as text{detail}",
            _plain(format(d, "f")),
            f", e.g. {_plain(close)}",
        )
    return d


def _plain(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def number_text(value: float | int) -> str:
    """A number cell as a YAML number: `1310000.0` -> `1310000`, `4.70` -> `4.7`."""
    return _plain(format(decimal_of(value), "f"))


def read_cell(cell: Cell, kind: CellKind) -> Read | None:
    """The text of `cell` for a column of `kind`, or None when it is blank (nothing, or only spaces)."""
    value = cell.value
    if cell.error:
        raise Unreadable(
            "sheet-error", "the cell holds the error {value}; fix its formula or type the value", str(value)
        )
    if cell.formula and value is None:
        raise Unreadable(
            "sheet-formula",
            "a formula with no saved result (the file was written by a program that does not compute "
            "formulas): open and save it in Excel or LibreOffice, or type the value",
        )
    if value is None:
        return None
    if isinstance(value, str):
        text = value.replace("\r\n", "\n").replace("\r", "\n")
        if not text.strip():
            return None
        return Read(text if kind == "text" else text.strip())
    if isinstance(value, bool):
        raise Unreadable(
            "sheet-boolean",
            "the workbook read this cell as the logical value {value}: format the cell as Text and type it again",
            "TRUE" if value else "FALSE",
        )
    if isinstance(value, datetime | date | time | timedelta):
        raise Unreadable(
            "sheet-date",
            "the workbook turned what was typed into a date or time ({value}): format the cell as Text "
            "and type the value again",
            value.isoformat() if not isinstance(value, timedelta) else str(value),
        )
    fmt = format_kind(cell.number_format)
    if kind == "percentage":
        if fmt == "percent":
            return Read(_plain(format(decimal_of(value) * 100, "f")) + "%", composed=True)
        return Read(number_text(value), composed=True)
    if fmt == "percent":
        shown = _plain(format(decimal_of(value) * 100, "f")) + "%"
        raise Unreadable(
            "sheet-format",
            "the cell is formatted as a percentage (it shows {value}) in a column that is not a percentage: "
            "format the cell as Text and type the value{detail}",
            shown,
            f" (e.g. {number_text(value)} or {shown.rstrip('%')})",
        )
    if kind == "number" or fmt in ("general", "text"):
        return Read(number_text(value), composed=True)
    raise Unreadable(
        "sheet-format",
        f"the cell holds the number {{value}} under the format {cell.number_format!r}, which shows other text "
        "than it holds: format the cell as Text and type the value as it should read",
        number_text(value),
    )
