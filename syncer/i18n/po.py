"""A gettext catalogue's text (.po) read into its entries, and compiled in memory into the binary form (.mo)
that the standard library's `gettext.GNUTranslations` reads, so that plural forms follow the catalogue's
`Plural-Forms` header exactly as gettext has them.

Why the .po is read when syncer runs, not compiled into a committed .mo: the .po is the one copy, reviewed
as text, and nothing can drift from it; reading ours (a few hundred entries) takes well under a
millisecond. The subset read is what `msgfmt` accepts from translators: comments (`#, fuzzy` entries are
left out, as msgfmt leaves them, but for a fuzzy header, which msgfmt keeps), `msgctxt`, `msgid`,
`msgid_plural`, `msgstr`, `msgstr[N]`, strings continued over lines, C escapes (\\n, \\t, \\", \\\\). Entries
whose translation is empty are left out, so gettext falls back to the English message.
tests/i18n holds it to GNU msgfmt where that is installed."""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass, field

CONTEXT_SEP = "\x04"  # between a context and its message in a compiled catalogue (gettext's convention)


@dataclass(slots=True)
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)  # one string, or one per plural form
    fuzzy: bool = False
    line: int = 0  # where the entry starts, for messages

    @property
    def key(self) -> str:
        """The entry's key in a compiled catalogue: its context and message."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}{CONTEXT_SEP}{self.msgid}"


class PoError(ValueError):
    def __init__(self, line: int, what: str) -> None:
        super().__init__(f"line {line}: {what}")


def _string(text: str, line: int) -> str:
    if not (len(text) >= 2 and text.startswith('"') and text.endswith('"')):
        raise PoError(line, f"expected a quoted string, found {text[:40]!r}")
    try:
        value = json.loads(text)  # a .po string's escapes are a subset of JSON's
    except ValueError:
        raise PoError(line, f"a string gettext would not read: {text[:40]!r}") from None
    assert isinstance(value, str)
    return value


def read_po(text: str) -> list[Entry]:
    """The entries of a .po file's text, in order (the header, msgid "", first when the file has one)."""
    entries: list[Entry] = []
    entry = Entry()
    current: tuple[str, int] | None = None  # the field being continued: ("msgid", -1), ("msgstr", 0), ...

    def finish() -> None:
        nonlocal entry, current
        if current is not None:
            entries.append(entry)
        entry, current = Entry(), None

    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if current is not None and current[0] == "msgstr":
                finish()
            if line.startswith("#,") and "fuzzy" in (f.strip() for f in line[2:].split(",")):
                entry.fuzzy = True
            continue
        if line.startswith('"'):
            if current is None:
                raise PoError(n, "a string continues no keyword")
            _append(entry, current, _string(line, n))
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and current is not None and current[0] == "msgstr":
            finish()
        if current is None:
            entry.line = n
        value = _string(rest.strip(), n)
        if keyword == "msgctxt":
            entry.msgctxt, current = value, ("msgctxt", -1)
        elif keyword == "msgid":
            entry.msgid, current = value, ("msgid", -1)
        elif keyword == "msgid_plural":
            entry.msgid_plural, current = value, ("msgid_plural", -1)
        elif keyword == "msgstr" or (keyword.startswith("msgstr[") and keyword.endswith("]")):
            index = 0 if keyword == "msgstr" else int(keyword[7:-1])
            if index != len(entry.msgstr):
                raise PoError(n, f"{keyword} out of order")
            entry.msgstr.append(value)
            current = ("msgstr", index)
        else:
            raise PoError(n, f"unknown keyword {keyword!r}")
    finish()
    return entries


def _append(entry: Entry, current: tuple[str, int], more: str) -> None:
    name, index = current
    if name == "msgstr":
        entry.msgstr[index] += more
    elif name == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + more
    elif name == "msgctxt":
        entry.msgctxt = (entry.msgctxt or "") + more
    else:
        entry.msgid += more


def compile_mo(entries: list[Entry]) -> io.BytesIO:
    """The binary catalogue of `entries` (GNU .mo, little-endian, no hash table), translated ones only."""
    pairs: dict[bytes, bytes] = {}
    for e in entries:
        header = e.msgid == "" and e.msgctxt is None  # kept when fuzzy, as msgfmt keeps it (its charset, plurals)
        if (e.fuzzy and not header) or not e.msgstr or not all(e.msgstr):
            continue
        key = e.key if e.msgid_plural is None else f"{e.key}\x00{e.msgid_plural}"
        pairs[key.encode("utf-8")] = "\x00".join(e.msgstr).encode("utf-8")
    keys = sorted(pairs)
    header_size = 7 * 4
    ids_at, strs_at = header_size, header_size + 8 * len(keys)
    data_at = strs_at + 8 * len(keys)
    ids, strs, blob = [], [], b""
    for k in keys:
        ids.append((len(k), data_at + len(blob)))
        blob += k + b"\x00"
    for k in keys:
        strs.append((len(pairs[k]), data_at + len(blob)))
        blob += pairs[k] + b"\x00"
    out = struct.pack("<7I", 0x950412DE, 0, len(keys), ids_at, strs_at, 0, data_at)
    out += b"".join(struct.pack("<2I", *p) for p in ids + strs)
    return io.BytesIO(out + blob)
