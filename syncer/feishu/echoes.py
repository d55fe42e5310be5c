"""Feishu's words with the values of the request they answer masked out: the one place `--redact-values`
reaches what Feishu says (its `msg`, the gateway's `field_violations`), used by the session as an answer
is received, so that no later output can show a value Feishu repeated (docs/state.md, "Feishu's own
words"). Linear in the text for each value: about a second for the largest import (50 rows of 99 fields)
echoed whole, once per failed call and only when redacting.

What counts as an echo of a value (each occurrence becomes `(redacted)`):

- the value's text anywhere, in any letter case, in NFC or NFD, however short: a value is personal data
  however short, so a one-letter grade is masked in every word it stands in (the message may read badly;
  the code's meaning and remedy are syncer's own words and stay); only a value of nothing but spaces is
  not looked for (it tells nothing, and would mask every space);
- the value written with JSON string escapes (`\\"`, `\\\\`, `\\/`, `\\n`, `\\uXXXX` in either case,
  surrogate pairs), escaped once or twice or mixed, as a server repeating a request body writes it;
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
_RUN = re.compile(b"\x01+")
_ESCAPE = re.compile(  # a surrogate pair first (one character), then any other JSON escape
    r"\\u(?P<pair>(?P<high>[dD][89abAB][0-9a-fA-F]{2})\\u(?P<low>[dD][c-fC-F][0-9a-fA-F]{2}))"
    r"|\\u(?P<code>[0-9a-fA-F]{4})|\\(?P<char>[\"\\/bfnrt])"
)
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_DECODINGS = 2  # a body quoted in a message quoted in JSON: escaped twice at most


def mask_echoes(parts: Sequence[str], values: Collection[str]) -> tuple[str, ...]:
    """`parts` (one text cut in pieces, or a single text) with every echo of `values` replaced by
    `(redacted)`; parts and values may be anything Feishu or the YAML holds."""
    if not values or not parts:
        return tuple(parts)
    words, numbers = _forms(values)
    joined = "".join(parts)
    masked = bytearray(len(joined))  # 1: a character of an echo
    starts, offset = [], 0
    for part in parts:
        starts.append(offset)
        offset += len(part)
    for start, part in zip(starts, parts, strict=True):  # a number is also read in each part alone
        for a, b in _numbers_in(part, numbers):
            masked[start + a : start + b] = b"\x01" * (b - a)
    view: _View | None = _View(joined, [(i, i + 1) for i in range(len(joined))])
    for _ in range(_DECODINGS + 1):
        if view is None:
            break
        for a, b in _words_in(view.text, words) + _numbers_in(view.text, numbers):
            first, end = view.spans[a][0], view.spans[b - 1][1]
            masked[first:end] = b"\x01" * (end - first)
        view = _decoded(view)
    return tuple(_replace(joined[s : s + len(p)], masked[s : s + len(p)]) for s, p in zip(starts, parts, strict=True))


def _forms(values: Collection[str]) -> tuple[frozenset[str], frozenset[Decimal]]:
    """The texts to find (in lower case) and the sizes of the numbers among the values."""
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
                texts.update({_lower(text), _lower(_ascii_escaped(text))})
    return frozenset(texts), frozenset(numbers)


def _ascii_escaped(text: str) -> str:
    return json.dumps(text)[1:-1]


def _lower(text: str) -> str:
    """Lower case, character for character (a character whose lower case is longer is kept as it is)."""
    low = text.lower()
    return low if len(low) == len(text) else "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _words_in(text: str, words: frozenset[str]) -> list[tuple[int, int]]:
    """Every occurrence in any letter case, overlapping ones too (`aa` twice in `aaa`)."""
    low, found = _lower(text), []
    for word in words:
        at = low.find(word)
        while at != -1:
            found.append((at, at + len(word)))
            at = low.find(word, at + 1)
    return found


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
    """The view with its JSON string escapes read, left to right; None when it has none (no further reading)."""
    text, out, spans, last = view.text, [], [], 0
    for m in _ESCAPE.finditer(text):
        out.append(text[last : m.start()])
        spans += view.spans[last : m.start()]
        out.append(_unescape(m))
        spans.append((view.spans[m.start()][0], view.spans[m.end() - 1][1]))
        last = m.end()
    if not out:
        return None
    out.append(text[last:])
    spans += view.spans[last:]
    return _View("".join(out), spans)


def _unescape(m: re.Match[str]) -> str:
    if m.group("pair"):
        high, low = int(m.group("high"), 16), int(m.group("low"), 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    if m.group("code"):
        return chr(int(m.group("code"), 16))
    return _ESCAPES[m.group("char")]


def _replace(text: str, masked: bytearray) -> str:
    """Each run of masked characters as one `(redacted)`."""
    out, last = [], 0
    for run in _RUN.finditer(masked):
        out += [text[last : run.start()], REDACTED]
        last = run.end()
    return "".join([*out, text[last:]])
