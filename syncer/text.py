"""Words for output: counts with their units (every message that counts says it through here), durations,
and ASCII aliases made from display names."""

from __future__ import annotations

import re
import unicodedata


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
