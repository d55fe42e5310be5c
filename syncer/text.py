"""Words for output: counts with their units. Every message that counts something says it through here."""

from __future__ import annotations


def plural(n: int, unit: str, many: str | None = None) -> str:
    """`1 value`, `2 values`; `many` for units whose plural is not `unit + "s"` (`batches`, `addresses`)."""
    return f"{n} {unit if n == 1 else many or unit + 's'}"


def duration(seconds: float) -> str:
    """`4.2 s` under a minute, else `3 min 07 s`."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(seconds + 0.5), 60)
    return f"{minutes} min {sec:02d} s"
