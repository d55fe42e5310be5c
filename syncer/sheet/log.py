"""The problems of one sheet import, collected in the order they are found, each at its cell of the book:
every step adds to one log, and the import writes nothing while it holds an error."""

from __future__ import annotations

from dataclasses import dataclass, field

from syncer.problems import Severity
from syncer.sheet.cells import Unreadable
from syncer.sheet.model import Cell, SheetProblem


@dataclass(slots=True)
class ProblemLog:
    book: str  # the book's name as messages give it
    problems: list[SheetProblem] = field(default_factory=list)
    refused: set[tuple[str | None, int]] = field(default_factory=set)  # (sheet, row) of the rows refused

    def add(
        self,
        sheet: str | None,
        row: int,
        col: int,
        code: str,
        message: str,
        value: str | None = None,
        severity: Severity = "error",
        detail: str = "",
    ) -> None:
        """A problem at a cell of the book (row and column 0: the sheet as a whole)."""
        self.problems.append(SheetProblem(self.book, sheet, row, col, severity, code, message, value, detail))

    def refuse(self, sheet: str | None, row: int, col: int, message: str) -> None:
        """An edit of a cell the sheet may not change (syncer.sheet.protect): an error at the cell, and its
        row counted as refused."""
        self.add(sheet, row, col, "sheet-protected", message)
        self.refused.add((sheet, row))

    def unreadable(self, sheet: str | None, cell: Cell, exc: Unreadable) -> None:
        """A cell syncer.sheet.cells would not read, at the cell."""
        self.add(sheet, cell.row, cell.col, exc.code, exc.message, exc.value, detail=exc.detail)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)
