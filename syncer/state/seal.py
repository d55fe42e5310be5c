"""Checksums of the state's text files (format 2, docs/state.md "Checksums"): a changed byte is damage, never a
different state.

- Every line of a JSON Lines file is its record, a tab, and the CRC-32 of the record's UTF-8 bytes as eight
  lowercase hex digits (`SEALED`). The record is compact JSON, which never holds a raw tab.
- A compacted file (a shard, batches, rejections, journal) ends with the line `#end<TAB>CRC`, the CRC-32 of
  every byte before it: a line removed, added or moved, or a file cut short, is damage too, and a shard whose
  bytes match needs no line-by-line check (one pass over the file, then the seals cut off in one more).
- The log is appended to, so it has no end line: each line is checked on its own. A last line without its
  newline is a write torn by a crash, ignored as before, but only when it could be the start of a line syncer
  writes: a whole line followed by anything but a newline is damage.
- `meta.json` carries `"crc32"`, last, over its own text without that member.

Files of a state whose meta.json says format 1 (written before checksums) have none: their lines are read as
they are (a sealed line among them is checked), and the next compaction writes every file anew, sealed.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

from syncer.errors import StateDamaged

#: The first format whose files carry checksums.
SEALED = 2
END = "#end"
_HEX = frozenset("0123456789abcdef")
_SEALS = re.compile(r"\t[0-9a-f]{8}$", re.MULTILINE)
_META_CRC = re.compile(r',\n  "crc32": "([0-9a-f]{8})"\n}\n\Z')


def crc(text: str) -> str:
    return f"{zlib.crc32(text.encode('utf-8')):08x}"


def seal(record: str) -> str:
    """One line: the record, a tab, its checksum, a newline."""
    return f"{record}\t{crc(record)}\n"


def seal_file(records: Iterator[str] | list[str]) -> str:
    """A compacted file: its records sealed, then the end line."""
    body = "".join(seal(r) for r in records)
    return f"{body}{END}\t{crc(body)}\n"


def _changed(where: str, n: int) -> StateDamaged:
    return StateDamaged(f"{where}:{n}", "the line does not match its checksum (changed since syncer wrote it)")


def unseal(line: str, *, where: str, n: int) -> str | None:
    """A line's record, its checksum checked; None for a line with no checksum."""
    record, tab, check = line.rpartition("\t")
    if not tab:
        return None
    if crc(record) != check:
        raise _changed(where, n)
    return record


def _split_end(text: str, *, where: str) -> tuple[str, str | None]:
    """A compacted file's body and its end line's checksum (None: no end line)."""
    start = 0 if text.startswith(END + "\t") else text.rfind("\n" + END + "\t") + 1
    if start == 0 and not text.startswith(END + "\t"):
        return text, None
    body, end = text[:start], text[start + len(END) + 1 :]
    if len(end) != 9 or end[8] != "\n" or not _HEX.issuperset(end[:8]):
        raise StateDamaged(f"{where}:{body.count(chr(10)) + 1}", "the end line is not one syncer writes")
    return body, end[:8]


def records(text: str, *, where: str, sealed: bool) -> list[str]:
    """A compacted file's records, one per line of the file (an empty line: ""), every checksum checked.
    `sealed`: the state's format has checksums, so a line or an end line without one is damage."""
    body, end = _split_end(text, where=where)
    lines = body.split("\n")
    if lines[-1] == "":
        lines.pop()
    out = []
    for n, line in enumerate(lines, 1):
        record = unseal(line, where=where, n=n) if line else ""
        if record is None:
            if sealed:
                raise StateDamaged(f"{where}:{n}", "a line without its checksum")
            record = line
        out.append(record)
    if end is None:
        if sealed:
            raise StateDamaged(f"{where}:{len(lines) + 1}", "the end line is missing (the file was cut short?)")
    elif crc(body) != end:
        raise StateDamaged(
            f"{where}:{len(lines) + 1}", "the file does not match its checksum (a line removed, added or moved?)"
        )
    return out


def record_text(text: str, *, where: str, sealed: bool) -> str:
    """A compacted file's records as text, a line each (what `records` gives, joined), fast: when the whole
    file matches its end line, the seals are cut off in one pass without checking line by line."""
    body, end = _split_end(text, where=where)
    if end is not None and crc(body) == end:
        bare, seals = _SEALS.subn("", body)
        if seals == body.count("\n"):
            return bare
    elif end is None and not sealed and "\t" not in body:
        return body  # a file of a state before checksums (none anywhere): as `records` would give it, faster
    return "".join(r + "\n" for r in records(text, where=where, sealed=sealed))


def torn_tail(tail: str) -> bool:
    """Whether the text after a log's last newline can be a line syncer was writing when it was killed: the
    start of a record, of its checksum, or a whole line missing only its newline."""
    _record, tab, check = tail.rpartition("\t")
    return not tab or (len(check) <= 8 and _HEX.issuperset(check) and (len(check) < 8 or crc(_record) == check))


def seal_meta(text: str) -> str:
    """meta.json's text (a JSON object, indented, ending in "}\\n") with its checksum added as its last member."""
    return f'{text[:-3]},\n  "crc32": "{crc(text)}"\n}}\n'


def unseal_meta(text: str, *, where: str) -> tuple[str, bool]:
    """meta.json's text without its checksum, and whether it had one (checked)."""
    found = _META_CRC.search(text)
    if found is None:
        return text, False
    bare = text[: found.start()] + "\n}\n"
    if crc(bare) != found.group(1):
        raise StateDamaged(
            f"{where}:{text.count(chr(10), 0, found.start()) + 2}",
            "the metadata does not match its checksum (changed since syncer wrote it)",
        )
    return bare, True
