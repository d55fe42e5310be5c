"""Refusals of the operating system (a full disk, a read-only file system, ...) injected into a test: the
nth call of os.open, os.write, os.fsync or os.replace on the files a predicate picks fails with an errno."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


class Refuse:
    """Makes the `nth` call of `call` (open, write, fsync or replace) on a file that `hit` picks fail with
    `err`: os.open by the path opened, os.write and os.fsync by the path their descriptor was opened on (a
    temporary file's own name), os.replace by its target."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, err: int, call: str, hit: Callable[[Path], bool], nth: int):
        self.err, self.call, self.hit, self.nth = err, call, hit, nth
        self.seen = 0
        self.refused: list[Path] = []
        self._paths: dict[int, Path] = {}
        real = {name: getattr(os, name) for name in ("open", "write", "fsync", "replace")}

        def opened(path: Any, *args: Any, **kw: Any) -> int:
            self._check("open", Path(path))
            fd: int = real["open"](path, *args, **kw)
            self._paths[fd] = Path(path)
            return fd

        def write(fd: int, data: Any) -> int:
            self._check("write", self._paths.get(fd))
            n: int = real["write"](fd, data)
            return n

        def fsync(fd: int) -> None:
            self._check("fsync", self._paths.get(fd))
            real["fsync"](fd)

        def replace(src: Any, dst: Any, **kw: Any) -> None:
            self._check("replace", Path(dst))
            real["replace"](src, dst, **kw)

        for name, fake in (("open", opened), ("write", write), ("fsync", fsync), ("replace", replace)):
            monkeypatch.setattr(os, name, fake)

    def _check(self, call: str, path: Path | None) -> None:
        if call == self.call and path is not None and self.hit(path):
            self.seen += 1
            if self.seen == self.nth:
                self.refused.append(path)
                raise OSError(self.err, os.strerror(self.err))
