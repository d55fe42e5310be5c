"""A unified diff of data files with the values hidden, for `--redact-values`: what a dry run may print
where values must not show (a CI log), keeping which keys and files change."""

from __future__ import annotations

import re

from syncer.problems import REDACTED

_VALUE_LINE = re.compile(r"^(?P<head>[ +-]\s*(?:-\s+)?[^#\s][^#]*?:)(?P<value>\s+\S.*)$")


def redact_diff(diff: str) -> str:
    """A diff with every value hidden: what follows `key:` on a line, and lines that are a value's
    continuation, become `(redacted)`; keys, comments and file names stay."""
    out = []
    for line in diff.split("\n"):
        if line.startswith(("---", "+++", "@@", "\\")) or not line:
            out.append(line)
            continue
        body = line[1:]
        stripped = body.strip()
        if not stripped or stripped.startswith("#"):
            out.append(line)
            continue
        m = _VALUE_LINE.match(line)
        if m:
            out.append(f"{m.group('head')} {REDACTED}")
        elif stripped.endswith(":"):
            out.append(line)
        else:
            out.append(f"{line[0]}{body[: len(body) - len(body.lstrip())]}{REDACTED}")
    return "\n".join(out)
