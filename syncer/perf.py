"""Performance helpers shared by the stages that build millions of small objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Set by the command line's entry point (a process that ends with its command): what a paused section
#: built is then frozen (gc.freeze) instead of walked by the next full collection. Libraries and tests,
#: which live on, leave it off: a frozen object that later became cyclic garbage would never be collected.
freeze_after_pause = False


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
            if freeze_after_pause:  # a million values would cost a full collection (a quarter second) each
                gc.freeze()
            gc.enable()
