"""Field types: what each `type` of a catalog field (text, number, percentage, person) means, in one place.

A type decides how its value is written in a data file (the grammar, with validate's messages), what syncer
compares and keeps in the state (the canonical form), what an import request sends (the wire form), how a
value Feishu answers becomes canonical (the live-read form), how a spreadsheet cell of it is read and its
exported column checked, and how the check cache stores it (a fixed code, never a position in a list).

The YAML reader and the live reader share one grammar: a value read back from Feishu is canonical in the
same way as the value the YAML holds, so the two are equal when they mean the same (else `plan --refresh`
would show drift that never goes away).

Adding a type is one entry in FIELD_TYPES, plus its tests; `schemas/catalog.schema.json` lists the same
names in its enum (a test keeps the two equal). Everything here is pure; nothing imports a stage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

#: How a spreadsheet cell of the type is read (syncer.sheet.cells): "key" an alias or an ID (spaces
#: dropped, a number Excel made of `007` read back as text), "text" as typed, "number" and "percentage"
#: their number (a percentage cell's 0.4 as 40%).
CellKind = Literal["key", "text", "number", "percentage"]
#: The data validation an exported column of the type gets (syncer.sheet.xlsx).
SheetColumn = Literal["person", "text", "number", "percentage"]

#: How percentages go on the wire (`target.percentage_format`): "40%" or "40".
PERCENTAGE_FORMATS = ("40%", "40")

_DECIMAL = r"-?[0-9]+(?:\.[0-9]+)?"
#: A number as a data file writes it (and Feishu answers it): digits, an optional minus sign and decimal point.
NUMBER = re.compile(rf"({_DECIMAL})\Z")
#: A percentage: a number with or without its `%` (`40%` and `40` are one value, canonical `40`).
PERCENTAGE = re.compile(rf"({_DECIMAL})%?\Z")


#: Characters no value may hold, whatever its type: the C0 controls other than tab, LF and CR (U+0000 among
#: them), and lone surrogates. Feishu takes them, but a backend of the state cannot record every one of them
#: (PostgreSQL's text refuses U+0000, UTF-8 cannot encode a lone surrogate), and a value sent that cannot be
#: recorded would block every later apply.
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """None when `text` may be sent and recorded; else the first character it may not hold, named for a message
    (`a control character (U+0000)`, `a lone surrogate (U+D800)`)."""
    m = UNSTORABLE.search(text)
    if m is None:
        return None
    code = ord(m.group())
    return f"{'a lone surrogate' if code >= 0xD800 else 'a control character'} (U+{code:04X})"


def normalise_text(text: str) -> str:
    """Line breaks as the YAML loader gives them: `\\r\\n` and `\\r` become `\\n`."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a text is not a value of a type: a problem code and its message. In the messages of a data
    file's value, `{value}` marks where the value goes (it is redactable), and `{detail}` where `detail` goes
    (more that would tell the value, left out with the value)."""

    code: str
    message: str
    detail: str = ""


def unstorable_refusal(text: str, *, what: str) -> Refusal | None:
    """The `bad-character` refusal of a text that holds a character no value may hold (`what` says whose
    text it is: "'note'"); None when it holds none. `{value}` marks the (redactable) text, `{detail}` the
    character's code point."""
    m = UNSTORABLE.search(text)
    if m is None:
        return None
    code = ord(m.group())
    kind = "a lone surrogate" if code >= 0xD800 else "a control character"
    return Refusal(
        "bad-character",
        f"{{value}} in {what} holds {kind}{{detail}}: Feishu would take it, but syncer could not record it; "
        "remove the character (tab and line breaks are fine)",
        f" (U+{code:04X})",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldTypeDef:
    """One field type, as facts: the methods read the grammar and messages; callers ask the flags (`person`,
    `numeric`, `percent`, `limited`) and the sheet's forms (`cell`, `column`), never the name."""

    name: str  # as the catalog writes it
    code: str  # the check cache's code: fixed forever, never reused for another type
    feishu_names: tuple[str, ...]  # how Feishu's metric_fields/query names it (lowercase)
    #: The grammar of a written value, group 1 being its canonical form; None: any text is a value.
    grammar: re.Pattern[str] | None = None
    #: The problem when a data file's text does not match: `{alias}` is the field's alias (quoted),
    #: `{{value}}` the text. Its code is `bad-` and the type's name.
    refusal: str = ""
    #: Why a value Feishu answers that does not match cannot be written in a data file.
    live_refusal: str = ""
    limited: bool = False  # a value may not be longer than the field's max_length
    numeric: bool = False  # a decimal: values compare by their number (`1310000.0` is `1310000`); may be a weight
    percent: bool = False  # written with or without `%`, sent per target.percentage_format
    #: A person: written as an alias of the catalog's people or a raw user ID, canonical as the user ID (the
    #: caller resolves it: the grammar takes any text), sent in `field_value_person` too, read from
    #: Feishu's person object, not its text.
    person: bool = False
    cell: CellKind = "text"
    column: SheetColumn = "text"

    def parse(self, text: str, *, alias: str, max_length: int) -> str | Refusal:
        """The canonical form of a data file's text for a field `alias` of this type, or why it is not one."""
        bad = unstorable_refusal(text, what=repr(alias))
        if bad is not None:
            return bad
        if self.grammar is not None:
            m = self.grammar.match(text)
            if m is None:
                return Refusal(f"bad-{self.name}", self.refusal.format(alias=repr(alias)))
            return m.group(1)
        if self.limited and len(text) > max_length:
            return Refusal(
                "too-long",
                f"{alias!r} is {len(text)} characters long, more than its max_length {max_length}; shorten it",
            )
        return text

    def live(self, text: str) -> str | Refusal:
        """The canonical form of a (non-empty) value Feishu answers, or why a data file cannot hold it.
        Line breaks are the YAML loader's, so a text read live equals the same text read from YAML."""
        if self.grammar is not None:
            m = self.grammar.match(text)
            return Refusal(f"bad-{self.name}", self.live_refusal) if m is None else m.group(1)
        return normalise_text(text)

    def wire(self, canonical: str, *, percentage_format: str) -> str:
        """What an import request sends as `field_value`: percentages per `target.percentage_format`, the rest
        as is (a person's value is the user ID)."""
        if not self.percent:
            return canonical
        bare = canonical.removesuffix("%")
        return bare + "%" if percentage_format == "40%" else bare

    def written(self, canonical: str) -> str:
        """The text `live import` writes into a data file for a canonical value (a percentage with its `%`)."""
        return canonical + "%" if self.percent else canonical


class UnknownFieldType(ValueError):
    """A type name that is not in FIELD_TYPES."""


def _registry(*types: FieldTypeDef) -> Mapping[str, FieldTypeDef]:
    for attr in ("name", "code"):
        seen = [getattr(t, attr) for t in types]
        if len(set(seen)) != len(seen):
            raise ValueError(f"two field types share a {attr}: {seen}")
    feishu = [n for t in types for n in t.feishu_names]
    if len(set(feishu)) != len(feishu):
        raise ValueError(f"two field types share a name of Feishu's: {feishu}")
    return MappingProxyType({t.name: t for t in types})


#: Every type, by name, in the order the catalog schema lists them.
FIELD_TYPES: Mapping[str, FieldTypeDef] = _registry(
    FieldTypeDef(name="text", code="t", feishu_names=("text",), limited=True),
    FieldTypeDef(
        name="number",
        code="n",
        feishu_names=("number",),
        grammar=NUMBER,
        refusal="{{value}} is not a number for {alias}: write digits with an optional minus sign and decimal "
        "point, e.g. 1200000 or -3.5",
        live_refusal="not a number syncer can write (digits, optional minus sign and decimal point)",
        numeric=True,
        cell="number",
        column="number",
    ),
    FieldTypeDef(
        name="percentage",
        code="p",
        feishu_names=("percentage", "pencentage"),  # the platform's spelling, as it sends it
        grammar=PERCENTAGE,
        refusal="{{value}} is not a percentage for {alias}: write e.g. 40% or 40 (the same value)",
        live_refusal="not a percentage syncer can write (e.g. 40% or 40)",
        numeric=True,
        percent=True,
        cell="percentage",
        column="percentage",
    ),
    FieldTypeDef(name="person", code="u", feishu_names=("person",), person=True, cell="key", column="person"),
)

_BY_FEISHU_NAME = {n: t.name for t in FIELD_TYPES.values() for n in t.feishu_names}


def _unknown(name: str) -> UnknownFieldType:
    return UnknownFieldType(f"unknown field type {name!r}: syncer knows {', '.join(FIELD_TYPES)}")


def field_type(name: str) -> FieldTypeDef:
    """The type called `name`; UnknownFieldType, naming the known ones, for any other name."""
    found = FIELD_TYPES.get(name)
    if found is None:
        raise _unknown(name)
    return found


def feishu_type_name(raw: str) -> str:
    """The catalog's name of a type as Feishu's metric_fields/query names it (any case); a type syncer does
    not know is given back lowercased, for the caller to report."""
    lowered = raw.lower()
    return _BY_FEISHU_NAME.get(lowered, lowered)


def render_value(value: str, *, field_type: str, percentage_format: str) -> str:
    """The wire form of a canonical value of the type named `field_type` (see FieldTypeDef.wire)."""
    found = FIELD_TYPES.get(field_type)
    if found is None:
        raise _unknown(field_type)
    return found.wire(value, percentage_format=percentage_format)
