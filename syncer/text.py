"""Words for output: counts with their units (every message that counts says it through here), durations,
and ASCII aliases made from display names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable


def plural(n: int, unit: str, many: str | None = None) -> str:
    """`1 value`, `2 values`; `many` for units whose plural is not `unit + "s"` (`batches`, `addresses`)."""
    return f"{n} {unit if n == 1 else many or unit + 's'}"


def duration(seconds: float) -> str:
    """`4.2 s` under a minute, else `3 min 07 s`."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(seconds + 0.5), 60)
    return f"{minutes} min {sec:02d} s"


def slug(name: str, *, sep: str, keep_case: bool = False) -> str:
    """An ASCII alias from a display name: accents dropped, other runs of non-alphanumerics become `sep`."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    if not keep_case:
        text = text.lower()
    return re.sub(r"[^A-Za-z0-9]+", sep, text).strip(sep)


# Characters that must never reach output raw from a path, an alias, a value or a server's message: C0 and
# C1 controls and DEL (line breaks, carriage returns, terminal escapes), the Unicode line and paragraph
# separators, zero-width characters and the bidirectional overrides that make text read other than it is.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(m: re.Match[str]) -> str:
    ch = m.group()
    code = ord(ch)
    return _NAMED.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def safe(text: str) -> str:
    """Untrusted text (from a file name, the YAML, the state or Feishu) made one inert line: every control,
    separator, zero-width and bidi character is written as an escape (`\\n`, `\\x1b`, `\\u202e`)."""
    return text if text.isprintable() else _UNSAFE.sub(_escaped, text)


def inert_document(text: str) -> str:
    """A document made of lines (a rendered page), every character `safe` escapes written as its escape but
    its own line breaks and tabs: what came from files or Feishu reads as it is, in any viewer."""
    return _UNSAFE.sub(lambda m: m.group() if m.group() in "\n\t" else _escaped(m), text)


def inert_lines(lines: Iterable[str]) -> str:
    """Lines of a renderer, each made one inert line (`safe`), joined and ended with a newline. A line may
    start with newlines of its own, which stay: they are the renderer's blank lines."""
    out = []
    for line in lines:
        body = line.lstrip("\n")
        out.append(line[: len(line) - len(body)] + safe(body))
    return "\n".join(out) + "\n"


# GitHub's runner reads a workflow command from a line that starts with `::` once leading whitespace is
# trimmed, and a legacy `##[command]` from anywhere in a line; it breaks lines at LF and at a lone CR.
WORKFLOW_COMMAND_LINE = re.compile(r"\A::(error|warning|notice)( [a-z]+=[^\r\n:,]*(,[a-z]+=[^\r\n:,]*)*)?::[^\r\n]*\Z")
# Characters no renderer of syncer writes that make text read other than it is (C1 controls, separators,
# zero-width and bidi characters): the guard writes them as `\uXXXX`, which in JSON output is the same JSON.
INVISIBLE = re.compile("[\x80-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff]")


def json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


LEGACY_COMMAND = "##["
LEGACY_COMMAND_INERT = "##\\u005b"  # also a valid JSON escape, so JSON output stays the same JSON
LINE_BREAKS = re.compile(r"(\r\n|\r|\n)")


def inert_line_start(segment: str) -> str:
    """A line (or the start of one) that cannot open a workflow command: a backslash goes before a leading
    `::`, and before a lone leading `:` that a later write could complete."""
    stripped = segment.lstrip()
    if stripped.startswith("::") or stripped == ":":
        cut = len(segment) - len(stripped)
        return segment[:cut] + "\\" + stripped
    return segment


#: A string as JSON writes it (quoted, escaped, non-ASCII kept): json.dumps(s, ensure_ascii=False) without
#: its per-call overhead, for the plans' millions of values. Taken from json's C accelerator directly, as
#: json.encoder does: this module is imported by every command's start-up, which need not import json.
encode_json_str: Callable[[str], str]
try:
    import _json

    encode_json_str = _json.encode_basestring
except ImportError:  # pragma: no cover - a Python without the accelerator
    import json.encoder

    encode_json_str = json.encoder.py_encode_basestring
