"""Feishu's words with the values of the request they answer masked out: the one place `--redact-values`
reaches what Feishu says (its `msg`, the gateway's `field_violations`), used by the session as an answer
is received, so that no later output can show a value Feishu repeated (docs/state.md, "Redaction").

What counts as an echo of a value (each occurrence becomes `(redacted)`):

- the value's text anywhere, in any letter case, in NFC or NFD, however short: a value is personal data
  however short, so a one-letter grade is masked in every word it stands in (the message may read badly;
  the code's meaning and remedy are syncer's own words and stay); only a value of nothing but spaces is
  not looked for (it tells nothing, and would mask every space);
- the value written with JSON string escapes (`\\"`, `\\\\`, `\\n`, `\\uXXXX` in either case, surrogate
  pairs), escaped once or twice, as a server repeating a request body writes it;
- a number (`95`, `-3.5`, `40%`) wherever a number of the same size stands as a number (`95.0`, `9.5e1`,
  `1,055,000`; a percentage also as its fraction, `0.4`), but not the digits inside a longer number or an
  ID (`1958`, `ou_95ab` and `field_95` do not tell `95`). A number equal to an ID Feishu quotes (a field ID
  `2` and a value `2`) is masked all the same: the two cannot be told apart;
- a value cut across the parts of one text (consecutive `field_violations`), read as one text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import NamedTuple

from syncer.problems import REDACTED

_NUMBER_VALUE = re.compile(r"\s*-?[0-9]+(?:\.[0-9]+)?\s*(%?)\s*")
_NUMBER_IN_TEXT = re.compile(  # a number standing as one: not in a run of ASCII letters, digits and `_` (an ID)
    r"(?<![0-9A-Za-z_.])-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![0-9A-Za-z_])"
)
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_DECODINGS = 2  # a body quoted in a message quoted in JSON: escaped twice at most


def mask_echoes(parts: Sequence[str], values: Collection[str]) -> tuple[str, ...]:
    """`parts` (one text cut in pieces, or a single text) with every echo of `values` replaced by
    `(redacted)`; parts and values may be anything Feishu or the YAML holds."""
    if not values or not parts:
        return tuple(parts)
    words, numbers = _forms(values)
    joined = "".join(parts)
    masked = [False] * len(joined)
    starts, offset = [], 0
    for part in parts:
        starts.append(offset)
        offset += len(part)
    for start, part in zip(starts, parts, strict=True):  # a number is also read in each part alone
        for a, b in _numbers_in(part, numbers):
            masked[start + a : start + b] = [True] * (b - a)
    view: _View | None = _View(joined, [(i, i + 1) for i in range(len(joined))])
    for _ in range(_DECODINGS + 1):
        if view is None:
            break
        for a, b in _words_in(view.text, words) + _numbers_in(view.text, numbers):
            for i in range(view.spans[a][0], view.spans[b - 1][1]):
                masked[i] = True
        view = _decoded(view)
    return tuple(_replace(joined[s : s + len(p)], masked[s : s + len(p)]) for s, p in zip(starts, parts, strict=True))


def _forms(values: Collection[str]) -> tuple[re.Pattern[str] | None, frozenset[Decimal]]:
    """The words to find (longest first, so that the longest echo wins where several start) and the
    sizes of the numbers among the values."""
    texts: set[str] = set()
    numbers: set[Decimal] = set()
    for value in values:
        number = _NUMBER_VALUE.fullmatch(value)
        if number is not None:
            size = Decimal(value.strip().rstrip("%").strip()).copy_abs()
            numbers.update({size, size / 100} if number.group(1) else {size})
            continue
        for text in {value, unicodedata.normalize("NFC", value), unicodedata.normalize("NFD", value)}:
            if text.strip():  # and in JSON's ASCII escapes: a stray backslash before them breaks the reading
                texts.update({text, _ascii_escaped(text)})
    if not texts:
        return None, frozenset(numbers)
    alternatives = "|".join(re.escape(t) for t in sorted(texts, key=len, reverse=True))
    return re.compile(f"(?=({alternatives}))", re.IGNORECASE), frozenset(numbers)


def _ascii_escaped(text: str) -> str:
    return json.dumps(text)[1:-1]


def _words_in(text: str, words: re.Pattern[str] | None) -> list[tuple[int, int]]:
    """Every occurrence, overlapping ones too (`aa` twice in `aaa`)."""
    return [m.span(1) for m in words.finditer(text)] if words is not None else []


def _numbers_in(text: str, numbers: frozenset[Decimal]) -> list[tuple[int, int]]:
    if not numbers:
        return []
    found = []
    for m in _NUMBER_IN_TEXT.finditer(text):
        if Decimal(m.group().replace(",", "")).copy_abs() in numbers:  # no context: `1e9999999` is no overflow
            found.append(m.span())
    return found


class _View(NamedTuple):
    """A reading of the joined text: for each of its characters, the span of the original it stands for."""

    text: str
    spans: list[tuple[int, int]]


def _decoded(view: _View) -> _View | None:
    """The view with its JSON string escapes read; None when it has none (no further reading)."""
    text, out, spans, i = view.text, [], [], 0
    while i < len(text):
        end = _escape_end(text, i)
        if end == i + 1:
            out.append(text[i])
        else:
            out.append(_unescape(text[i:end]))
        spans.append((view.spans[i][0], view.spans[end - 1][1]))
        i = end
    decoded = "".join(out)
    return _View(decoded, spans) if len(decoded) != len(text) else None


def _escape_end(text: str, i: int) -> int:
    """Where the escape at `i` ends (i + 1: none there)."""
    if text[i] != "\\" or i + 1 >= len(text):
        return i + 1
    if text[i + 1] in _ESCAPES:
        return i + 2
    if text[i + 1] == "u" and _HEX4.fullmatch(text, i + 2, i + 6):
        high, low = int(text[i + 2 : i + 6], 16), _low_surrogate(text, i + 6)
        return i + 12 if 0xD800 <= high < 0xDC00 and low is not None else i + 6
    return i + 1


def _low_surrogate(text: str, i: int) -> int | None:
    """The low surrogate escaped at `i` (`\\uDC00` to `\\uDFFF`), if one is."""
    if not (text.startswith("\\u", i) and _HEX4.fullmatch(text, i + 2, i + 6)):
        return None
    code = int(text[i + 2 : i + 6], 16)
    return code if 0xDC00 <= code < 0xE000 else None


def _unescape(escape: str) -> str:
    if escape[1] != "u":
        return _ESCAPES[escape[1]]
    code = int(escape[2:6], 16)
    if len(escape) == 12:
        code = 0x10000 + ((code - 0xD800) << 10) + (int(escape[8:12], 16) - 0xDC00)
    return chr(code)


def _replace(text: str, masked: list[bool]) -> str:
    """Each run of masked characters as one `(redacted)`."""
    out, i = [], 0
    while i < len(text):
        if not masked[i]:
            out.append(text[i])
            i += 1
            continue
        while i < len(text) and masked[i]:
            i += 1
        out.append(REDACTED)
    return "".join(out)
