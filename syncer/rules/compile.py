"""Rule conditions compiled once per run with CEL (Google's Common Expression Language, through
`cel-expr-python`, the binding of Google's C++ implementation: the `rules` extra). CEL is not Turing-complete:
no loops but bounded comprehensions, a recursion limit of 32 and an iteration budget, so a hostile condition
fails to compile or fails on a value, and never runs away.

The variables are declared with types, so a condition that names an unknown variable or compares a date with
a number is an error when the rules are loaded, at the rule's line, not a finding on every value."""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any, Protocol

#: How to get the CEL library (one line, said when rules exist and it is missing).
INSTALL_HINT = "pip install 'feishu-syncer[rules]'"


class Program(Protocol):
    """A compiled condition: `holds(variables)` is True, False, or the text of a runtime error. The caller
    hands it exactly the variables in `names` (converting a value for CEL is most of an evaluation's cost)."""

    def holds(self, variables: dict[str, object]) -> bool | str: ...

    @property
    def names(self) -> tuple[str, ...]:
        """The variables the condition names (a superset of those it reads)."""
        ...

    @property
    def row_keys(self) -> frozenset[str] | None:
        """The keys of `row` the condition reads (`row.target`); None: it may read the whole map."""
        ...

    @property
    def without_old(self) -> bool | None:
        """The verdict on every value whose `old` is null, when nothing else can change it; else None."""
        ...

    @property
    def condition(self) -> str:
        """The condition's CEL source."""
        ...

    def joined(self, others: tuple[Program, ...]) -> Any | None:
        """This condition and `others` compiled as one list of their verdicts (None: that does not compile)."""
        ...


class CompileError(Exception):
    """A condition that does not parse or type-check; the message is CEL's, on one line."""


class MissingLibrary(Exception):
    """The rules need the CEL library and it is not installed."""


def _cel() -> ModuleType:
    try:
        from cel_expr_python import cel
    except ImportError as exc:  # an optional extra: a repo with rules and no library fails, never passes
        raise MissingLibrary(f"the rules need the CEL library, which is not installed: {INSTALL_HINT}") from exc
    module: ModuleType = cel
    return module


#: The variables a condition may use (docs/rules.md), each with its CEL type below.
VARIABLES = ("new", "old", "field", "row", "metric", "reviewee", "semester", "today", "file")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Compiler:
    """The CEL environment, made once: the variables a condition may use, with their types."""

    def __init__(self) -> None:
        cel = _cel()
        t = cel.Type
        text_map = t.Map(t.STRING, t.STRING)
        types = {"new": t.DYN, "old": t.DYN, "field": text_map, "row": t.Map(t.STRING, t.DYN), "metric": t.STRING}
        types |= {"reviewee": t.STRING, "semester": t.Map(t.STRING, t.DYN), "today": t.STRING, "file": t.STRING}
        assert tuple(types) == VARIABLES
        self._env: Any = cel.NewEnv(variables=types)
        self._bool = (t.BOOL, t.DYN)
        self._kinds = (t.ERROR, t.NULL)  # what a result that is neither true nor false may be (_Compiled.holds)

    def compile(self, condition: str) -> Program:
        try:
            expr = self._env.compile(condition)
        except RuntimeError as exc:
            raise CompileError(_one_line(str(exc))) from None
        kind = expr.return_type()
        if kind not in self._bool:
            raise CompileError(f"the condition must be true or false; this one gives {kind.name()}")
        # Only the variables a condition names are handed to it. Every name in the text counts (in a string
        # literal too): never one too few.
        words = set(_NAME.findall(condition))
        named = tuple(v for v in VARIABLES if v in words)
        program = _Compiled(self._env, condition, expr, self._kinds, named, _row_keys(condition))
        if not words & _MACROS:
            program.without_old = _fixed(program.holds({"old": None}))
        return program


#: CEL's macros: the only loops, bounded by an iteration budget (see `_fixed`).
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
#: `row`, the name it selects, and the call's parenthesis when it is a method (`row.exists(...)`): CEL skips
#: spaces and comments between a name and its `(` (`row.size // fields\n()` is `size(row)`).
_ROW = re.compile(r"\brow\b(?:\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\b((?:\s|//[^\n]*)*+\()?)?")


def _row_keys(condition: str) -> frozenset[str] | None:
    """The keys of `row` a condition reads when every `row` in its text selects one (`row.target`,
    `has(row.note)`): a map with only those keys gives the same result. Any other use (`size(row)`, `row[k]`,
    `row.exists(...)`, `row == {...}`, a macro's variable named row, the word in a string literal) may read it
    all: None."""
    keys: set[str] = set()
    for m in _ROW.finditer(condition):
        if m.group(1) is None or m.group(2) is not None:
            return None
        keys.add(m.group(1))
    return frozenset(keys)


def _fixed(verdict: bool | str) -> bool | None:
    """A condition's verdict with only `old` bound (to null), when that decides it. CEL's `&&`, `||` and `?:`
    absorb the error of an unbound variable only where the other side decides the result whatever that
    variable holds (`old != null && ...` is false), and every other operation passes the error on: a true or
    false here is the verdict on every value without an old one. Not for a condition with a macro: bound, a
    variable could make a loop run out of CEL's iteration budget (a finding) where unbound it stopped at once."""
    return verdict if isinstance(verdict, bool) else None


class _Compiled:
    __slots__ = ("_env", "_error", "_expr", "_named", "_null", "_row_keys", "condition", "without_old")

    def __init__(
        self,
        env: Any,
        condition: str,
        expr: Any,
        kinds: tuple[Any, Any],
        named: tuple[str, ...],
        row_keys: frozenset[str] | None,
    ) -> None:
        self._env, self.condition, self._expr, (self._error, self._null) = env, condition, expr, kinds
        self._named, self._row_keys = named, row_keys
        self.without_old: bool | None = None

    def joined(self, others: tuple[Program, ...]) -> Any | None:
        """This condition and `others` compiled as one list of their verdicts (None: that does not compile,
        as when the list's nesting is over CEL's recursion limit). Each stays on lines of its own: a comment
        (`// ...`) ends with its line. Each is `(...) ? true : false`: a verdict that is neither true nor false
        (a null `old`) fails the list rather than landing in it (see `holds`: a null never reaches Python)."""
        text = "[(\n" + "\n) ? true : false, (\n".join(p.condition for p in (self, *others)) + "\n) ? true : false]"
        try:
            return self._env.compile(text)
        except RuntimeError:
            return None

    @property
    def names(self) -> tuple[str, ...]:
        return self._named

    @property
    def row_keys(self) -> frozenset[str] | None:
        return self._row_keys

    def holds(self, variables: dict[str, object]) -> bool | str:
        try:
            result = self._expr.eval(data=variables)
        except RuntimeError as exc:  # the iteration budget, a value CEL cannot take
            return _one_line(str(exc))
        kind = result.type()
        if kind == self._null:  # never value(): cel-expr-python 0.1.3 returns None without its own reference
            return _NEITHER  # to it, and enough nulls free None: Python 3.11 aborts (a fatal error, exit 134)
        value = result.value()
        if value is True or value is False:
            return bool(value)
        if kind == self._error:
            return _one_line(str(value))
        return _NEITHER


_NEITHER = "the condition gave neither true nor false"


class Bundle:
    """Programs that judge the same values and name the same variables, evaluated in one CEL call on one dict
    of them (their conditions as one list: each value converted once, not once per program). When that call
    gives anything but a list of true and false (a condition fails on the value, their loops together run out
    of the iteration budget), each program is evaluated alone: every verdict is the one it gives alone."""

    __slots__ = ("_joined", "_programs")

    def __init__(self, programs: tuple[Program, ...]) -> None:
        self._programs = programs
        self._joined = programs[0].joined(programs[1:]) if len(programs) > 1 else None

    def verdicts(self, variables: dict[str, object]) -> tuple[bool | str, ...] | list[bool]:
        """Each program's verdict on `variables`, in order: True, False or the text of a runtime error."""
        if self._joined is not None:
            try:
                together = self._joined.eval(data=variables).plain_value()
            except RuntimeError:
                together = None
            if type(together) is list and all(v is True or v is False for v in together):
                return together
        return tuple(p.holds(variables) for p in self._programs)


def _one_line(text: str) -> str:  # CEL's own words: never a value (its errors name types and keys)
    """CEL's message without its status prefix and caret drawing: its first line, bounded."""
    first = text.strip().splitlines()[0] if text.strip() else "error"
    for prefix in ("INVALID_ARGUMENT: ", "NOT_FOUND: ", "UNKNOWN: ", "INTERNAL: ", "CANCELLED: ", "ERROR: "):
        first = first.removeprefix(prefix)
    first = first.removesuffix(" [INVALID_ARGUMENT]").removesuffix(" [CANCELLED]").removesuffix(" [INTERNAL]")
    return first[:200]
