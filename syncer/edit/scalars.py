"""Writing YAML scalars that syncer's loader (syncer.load.yamlparse) reads back as exactly the same text.

The loader takes every plain scalar as its text (no implicit typing), except the null words and the empty
scalar. So a value is written plain when nothing in it could change how it is read, as a literal block
(`|`, `|-`) when it has line breaks and nothing else special, and double-quoted with escapes otherwise.
Whoever writes a file with these should still load it back and compare (`syncer import` does).
"""

from __future__ import annotations

import functools
import re

from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from syncer.load.yamlparse import NULL_PLAIN

_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\t": "\\t",
    "\x00": "\\0",
    "\x07": "\\a",
    "\x08": "\\b",
    "\x1b": "\\e",
    "\x0c": "\\f",
    "\x0b": "\\v",
    "\r": "\\r",
    "\x85": "\\N",
    "\u2028": "\\L",
    "\u2029": "\\P",
}
_PLAIN_SAFE = re.compile(r"[^\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]*\Z")
# Text that is plain-safe at a glance (most keys and values): a letter, digit or `_` first and last, none of
# the indicators `:` or `#`, no blank but spaces inside. Only a shortcut: plain_ok decides the rest.
_PLAIN_AT_A_GLANCE = re.compile(r"[0-9A-Za-z_](?:[0-9A-Za-z_.%/@+ -]*[0-9A-Za-z_.%/@+-])?")
# Text that double-quotes as itself: printable ASCII without `"` or `\`.
_QUOTES_AS_IS = re.compile(r"[ !#-\[\]-~]*")


class Unwritable(ValueError):
    """A text YAML cannot hold (e.g. a lone surrogate)."""


def _printable(ch: str) -> bool:
    """YAML's printable set, minus the byte order mark (best escaped)."""
    o = ord(ch)
    return (
        0x20 <= o <= 0x7E or o in (0x85,) or 0xA0 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or 0x10000 <= o <= 0x10FFFF
    ) and o != 0xFEFF


def plain_ok(text: str) -> bool:
    """Whether `text` reads back unchanged as a plain scalar, in a block mapping, as a key or a value."""
    if _PLAIN_AT_A_GLANCE.fullmatch(text) is not None:
        return text not in NULL_PLAIN
    return _plain_ok(text)


def _plain_ok(text: str) -> bool:
    """plain_ok, every rule spelled out (the shortcut aside)."""
    if not text or text in NULL_PLAIN or text != text.strip(" ") or not _PLAIN_SAFE.match(text):
        return False
    if any(ch.isspace() and ch != " " for ch in text):
        return False
    first = text[0]
    if first in _INDICATORS and not (first == "-" and len(text) > 1 and text[1].isdigit()):
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    return not text.startswith(("---", "..."))


def plain_in(text: str, *, flow: bool) -> bool:
    """Plain is safe where it goes: it reads back as `text` (in a flow collection, with none of the
    indicators `syncer fmt` quotes there)."""
    return plain_ok(text) and not (flow and any(ch in ",[]{}:#" for ch in text))


def double_quoted(text: str) -> str:
    if _QUOTES_AS_IS.fullmatch(text) is not None:
        return f'"{text}"'
    return _double_quoted(text)


def _double_quoted(text: str) -> str:
    """double_quoted, character by character (the shortcut aside)."""
    out = []
    for ch in text:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif _printable(ch):
            out.append(ch)
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            raise Unwritable("the text holds a lone surrogate, which UTF-8 cannot encode")
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02X}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(f"\\U{ord(ch):08X}")
    return '"' + "".join(out) + '"'


def _literal_ok(text: str) -> bool:
    if "\n" not in text or text.endswith("\n\n") or text.startswith((" ", "\n")):
        return False
    body = text[:-1] if text.endswith("\n") else text
    for line in body.split("\n"):
        if line != line.rstrip() or not all(_printable(ch) and ch not in "\t\x85\u2028\u2029" for ch in line):
            return False
    return True


def scalar(text: str, *, indent: int) -> str:
    """The text of a scalar value after `key: ` at a line indented by `indent` spaces (a literal block's
    lines go two spaces deeper, each on its own line)."""
    if plain_ok(text):
        return text
    if _literal_ok(text):
        chomp = "" if text.endswith("\n") else "-"
        body = text[:-1] if text.endswith("\n") else text
        pad = " " * (indent + 2)
        return f"|{chomp}\n" + "\n".join(pad + line if line else "" for line in body.split("\n"))
    return double_quoted(text)


def key(text: str) -> str:
    """A mapping key (never a block scalar)."""
    return text if plain_ok(text) else double_quoted(text)


# YAML 1.2's core schema, for the readers (and editors) that follow it rather than YAML 1.1.
_CORE_12 = re.compile(
    r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
    r"|true|True|TRUE|false|False|FALSE|null|Null|NULL|~"
)
# A number every YAML reader gets back digit for digit: no sign but minus, no leading zero, no exponent or
# underscore, and few enough digits for a double.
_FAITHFUL_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
_RESOLVER = Resolver()


@functools.lru_cache(maxsize=4096)  # the same words come back again and again: keys, `20%`, `yes`
def misread(text: str) -> bool:
    """Whether another YAML reader would take this plain scalar for something other than its text: YAML 1.1
    (PyYAML, most editors' linters) reads `no`/`on` as booleans, `0123` as octal, `12:30` as 750, `1_000`
    and `+5` as numbers, `2026-01-01` as a date; YAML 1.2 reads `1e3` as 1000. syncer reads them all as
    the text typed; quoting them makes every reader agree. Plain decimal numbers stay plain."""
    if _FAITHFUL_NUMBER.fullmatch(text) and len(text.replace("-", "").replace(".", "").lstrip("0")) <= 15:
        return False
    if _CORE_12.fullmatch(text):
        return True
    tag: str = _RESOLVER.resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag != "tag:yaml.org,2002:str"


_DIGITS = re.compile(r"[0-9]+")


def digits(text: str) -> bool:
    """Made of digits only: an ID that other YAML readers would take for a number, so `syncer fmt` quotes it."""
    return _DIGITS.fullmatch(text) is not None


def key_needs_quotes(text: str) -> bool:
    """Whether `syncer fmt` writes a mapping key quoted: made of digits (an ID) or misread by other readers."""
    return digits(text) or misread(text)


def fmt_key(text: str) -> str:
    """A mapping key as `syncer fmt` writes it (what every writer of data files uses, so that `fmt --check`
    passes on what they wrote)."""
    return double_quoted(text) if key_needs_quotes(text) else key(text)


def fmt_value(text: str, *, indent: int, id_field: bool = False) -> str:
    """A value after `key: ` as `syncer fmt` writes it: quoted when another YAML reader would misread it
    plain, and, in a field of people (`id_field`), when made of digits (a raw user ID)."""
    if (id_field and digits(text)) or (plain_ok(text) and misread(text)):
        return double_quoted(text)
    return scalar(text, indent=indent)
