"""How an exported workbook looks, as plain data (syncer.sheet.xlsx applies it through openpyxl): the font,
column widths and row heights by display width, which values are written as numbers and how the others
show, and the cell checks that hold typed text to the import's grammar.

The font is Calibri 11 (Excel's default; where it is missing LibreOffice draws Carlito, made with its
metrics, or another sans-serif), and a cell holding East Asian wide characters is in Microsoft YaHei 11,
which Windows and Office for Mac ship; where a program lacks it, it substitutes a CJK font of the system
(LibreOffice on Linux: e.g. Noto Sans CJK). docs/workbook.md has the facts behind each choice.

The ignoredErrors element that turns off Excel's "number stored as text" mark has no setting in openpyxl:
syncer.sheet.styles writes it into the sheet's XML as the sheet is written.

A number becomes a number cell only when the workbook gives it back as the same text: its canonical
decimal, at most 11 characters long (the General format shows it whole; a double holds 15 significant
digits exactly, and syncer.sheet.cells reads it back so). A percentage is a text
cell with its `%` (`30` as `30%`), aligned right like a number: a fraction under a percent format (0.3
shown 30%) would be read as 0.3 % wherever the format is lost (values pasted into a new sheet, a program
that drops it), while the text survives any copy. Everything else stays a text cell, as typed in the YAML."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from syncer.fieldtypes import NUMBER
from syncer.sheet.table import ColumnKind

FONT = "Calibri"
CJK_FONT = "Microsoft YaHei"
FONT_SIZE = 11
#: Points per line of a row: Calibri 11's default row height, and Microsoft YaHei 11's (a taller line).
LINE_POINTS = 15.0
CJK_LINE_POINTS = 18.0
MAX_WIDTH = 60  # characters; longer lines wrap
GENERAL_DIGITS = 11  # characters the General format shows of a number before it turns to 1E+11
FORMULA_LIMIT = 255  # characters Excel allows in a data validation formula


def wide(ch: str) -> bool:
    """An East Asian wide or full-width character: two columns of a fixed-width grid."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def display_width(line: str) -> int:
    """Columns `line` takes: East Asian wide and full-width characters count two."""
    if line.isascii():  # none is wide: the common case, without a lookup per character
        return len(line)
    return sum(2 if wide(ch) else 1 for ch in line)


def has_wide(text: str) -> bool:
    return not text.isascii() and any(wide(ch) for ch in text)


def column_width(texts: list[str]) -> int:
    """A column's width in characters: its widest line plus a margin, at most MAX_WIDTH (longer lines wrap)."""
    widest = max((display_width(line) for text in texts for line in text.split("\n")), default=0)
    return min(widest + 2, MAX_WIDTH)


def line_count(text: str, width: int) -> int:
    """Lines `text` takes wrapped in a column `width` characters wide (a margin of 1 each side)."""
    room = max(width - 2, 1)
    return sum(max(1, -(-display_width(line) // room)) for line in text.split("\n"))


def row_height(texts: list[tuple[str, int]]) -> float | None:
    """The height in points of a row of (text, its column's width) that shows every line of every cell;
    None when one line is enough (the program's default)."""
    lines = max((line_count(t, w) for t, w in texts), default=1)
    if lines <= 1:
        return None
    per = CJK_LINE_POINTS if any(has_wide(t) for t, _ in texts) else LINE_POINTS
    return lines * per


def number_cell(text: str, kind: ColumnKind) -> int | float | None:
    """The number a number column's cell holds for `text` when it reads back as exactly `text`, else None:
    the value stays a text cell (not canonical, like `0012` or `1.50`; longer than the General format shows
    whole). At most 11 characters are at most 11 digits, which a double gives back exactly (15)."""
    m = NUMBER.match(text) if kind == "number" else None
    if m is None or len(text) > GENERAL_DIGITS:
        return None
    d = Decimal(text)
    if _plain(d) != text:
        return None
    return int(d) if d == d.to_integral_value() else float(d)


def shown(text: str, kind: ColumnKind) -> str:
    """The text cell of a value: a percentage with its `%` (`30` as `30%`, one value: the import leaves
    the file's `30` as it is), every other value as the YAML writes it."""
    if kind == "percentage" and not text.endswith("%"):
        return text + "%"
    return text


def _plain(d: Decimal) -> str:
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def check_formula(ref: str, kind: ColumnKind) -> str | None:
    """A custom data validation formula for the cell `ref` (the top left cell of the range, relative) that
    is true for a number, and for text only in the import's grammar (`-?digits(.digits)?`, and a trailing
    `%` for a percentage): `40 %`, `1,200`, `12O0`, `1e3`, `.5` and `5.` are refused. None when it would be
    longer than Excel's 255 characters (a column past ZZ): the column then has no check.

    Written without regular expressions, array constants or LET (Excel's checks refuse array constants;
    the others are recent): the first dot taken out, what is left must be what TEXT writes for its own
    value under a format of as many zeros (and `%`), which only digits after an optional minus sign (and
    before an optional `%`) are, in every locale; the dot must stand between digits. Stricter than the
    import: spaces around the text, a minus zero (`-0`) and more than 15 digits are refused (the number a
    program makes of them loses them); a date typed into a number cell passes (it is a number), and the
    import refuses it."""
    z = f'SUBSTITUTE({ref},".","",1)'
    if kind == "percentage":
        shape = f'REPT(0,LEN({z})-(LEFT({ref})="-")-(RIGHT({ref})="%"))&IF(RIGHT({ref})="%","%","")'
        end = f'SUBSTITUTE({ref},"%","")'
    else:
        shape = f'REPT(0,LEN({z})-(LEFT({ref})="-"))'
        end = ref
    formula = (
        f'OR(ISNUMBER({ref}),AND(TEXT(VALUE({z}),{shape})={z},LEFT(SUBSTITUTE({ref},"-",""))<>".",RIGHT({end})<>"."))'
    )
    return formula if len(formula) <= FORMULA_LIMIT else None
