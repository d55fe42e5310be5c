"""Performance helpers shared by the stages that build millions of small objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building large acyclic structures.

    Loading a million values creates millions of long-lived objects; each generation-2 collection walks all
    of them, which more than doubles the time of a validate. Our trees and records hold no reference cycles
    (aliases to enclosing nodes are refused), so reference counting frees them all. Nested use is safe."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
