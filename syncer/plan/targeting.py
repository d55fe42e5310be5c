"""Targeting (`--semester`, `--path`): a plan of part of the root, like Terraform's `-target`.

The rule, per row (semester, reviewee, metric) since a row is what an import sends:

- a row of the YAML is in the target when its semester is targeted (or no `--semester` was given) and
  the data file that writes it now matches a `--path` glob (or no `--path` was given);
- a row of the state is in the target by the same test on where the YAML writes it now. A row moved from a
  targeted file to another is judged by the file it is in now; a row that is in no file any more (its
  values would be forgotten) has no file to match, so with `--path` it is left out: its forgets wait for a
  plan without `--path` (with `--semester` alone they are planned, the semester being part of the key).

What is left out is not compared with the state, not forgotten, not counted by the safety thresholds (they
judge the targeted part alone) and stays in the state exactly as it is. Validation is not targeted: rules
across files (duplicate rows, weight sums) need the whole root.

`resolve` turns the command line's aliases and globs into a `Targeting` (user mistakes are errors);
`restrict` is pure and gives a plan its inputs for the target and the counts of what it left out.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import cast

from syncer.errors import SyncerError
from syncer.load.catalog import SEMESTER_ID
from syncer.load.files import glob_matches, relative_path
from syncer.model import Catalog, DesiredState, DesiredValue, RowKey, Source, ValueKey
from syncer.plan.model import Targeting, TargetingSummary
from syncer.state.model import RKey, Row, State


def resolve(
    desired: DesiredState, *, semesters: Sequence[str] = (), paths: Sequence[str] = (), root: str = ""
) -> Targeting | None:
    """The targeting the command line asks for, or None when it asks for none. A semester is a catalog
    alias or a raw ID; a closed one is refused (it is out of every plan). A glob is relative to the root and
    must match at least one data file (a typo would otherwise plan nothing and say so only in a count)."""
    if not semesters and not paths:
        return None
    ids = {_semester_id(desired.catalog, s) for s in semesters}
    globs = [_glob(p) for p in paths]
    rel = [relative_path(root, f) for f in desired.files]
    for pattern, given in zip(globs, paths, strict=True):
        if not any(glob_matches(r, pattern) for r in rel):
            where = f"under {root}/" if root not in ("", ".") else "under the root"
            raise SyncerError(
                f"--path {given!r} matches no data file {where}: globs are relative to the root "
                "(e.g. --path 'teams/sales.yaml' or --path 'teams/**')"
            )
    return Targeting.of(ids, globs)


def _semester_id(catalog: Catalog, text: str) -> str:
    by_alias = {a: s for a, s in catalog.semesters.items()}
    found = by_alias.get(text) or next((s for s in catalog.semesters.values() if s.id == text), None)
    if found is not None:
        if found.closed:
            raise SyncerError(
                f"--semester {text!r}: the semester is closed in catalog.yaml, and closed semesters are in no "
                "plan; target an open one"
            )
        return found.id
    if SEMESTER_ID.match(text):
        return text
    close = difflib.get_close_matches(text, list(by_alias), n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise SyncerError(
        f"--semester {text!r}: unknown semester{hint}; give an alias of catalog.yaml semesters: or a raw "
        "semester ID (digits, up to 19)"
    )


def _glob(text: str) -> str:
    pattern = text.replace("\\", "/").removeprefix("./")
    if not pattern or pattern.startswith("/") or ".." in pattern.split("/"):
        raise SyncerError(f"--path {text!r}: give a glob relative to the root, without '..' (e.g. 'teams/*.yaml')")
    return pattern


@dataclass(frozen=True, slots=True)
class Restricted:
    """A plan's inputs, cut to the target: the YAML's values and the state (rows and counts) in it."""

    values: Mapping[ValueKey, DesiredValue]
    state: State | None
    summary: TargetingSummary


def restrict(
    targeting: Targeting,
    values: Mapping[ValueKey, DesiredValue],
    rows: Mapping[RowKey, Source],
    state: State | None,
    *,
    closed: frozenset[str],
    root: str = "",
) -> Restricted:
    """The open `values` of the YAML and the open rows of the state that are in the target (see the
    module), with counts of what is left out. `rows` says where the YAML writes each row."""
    sems, globs = targeting.semesters, targeting.paths
    written_in = cast("Mapping[RKey, Source]", rows)  # RowKey is a tuple: looked up by the state's plain keys
    file_in: dict[str, bool] = {}

    def in_file(file: str) -> bool:
        hit = file_in.get(file)
        if hit is None:
            rel = relative_path(root, file)
            hit = file_in[file] = not globs or any(glob_matches(rel, g) for g in globs)
        return hit

    kept: dict[ValueKey, DesiredValue] = {}
    files_out: set[str] = set()
    sems_seen: set[str] = set()
    sems_in: set[str] = set(sems)
    for k, dv in values.items():
        sems_seen.add(k[0])
        if (not sems or k[0] in sems) and in_file(dv.file):
            kept[k] = dv
            sems_in.add(k[0])
        else:
            files_out.add(dv.file)

    restricted = None
    managed_out = forgets_out = 0
    if state is not None:
        state_rows: dict[RKey, Row] = {}
        per_semester: dict[str, int] = {}
        for rk, r in state.rows.items():
            sem = rk[0]
            if sem in closed:
                continue
            sems_seen.add(sem)
            written = written_in.get(rk)
            if (not sems or sem in sems) and (not globs or (written is not None and in_file(written.file))):
                state_rows[rk] = r
                per_semester[sem] = per_semester.get(sem, 0) + len(r[0])
                sems_in.add(sem)
                continue
            managed_out += len(r[0])
            forgets_out += sum(1 for f in r[0] if (sem, rk[1], rk[2], f) not in values)
        restricted = replace(state, rows=state_rows, per_semester=per_semester)
    summary = TargetingSummary(
        targeting=targeting,
        semesters_left_out=len(sems_seen - sems_in),
        files_left_out=len(files_out),
        values_left_out=len(values) - len(kept),
        values_managed_left_out=managed_out,
        forgets_left_out=forgets_out,
    )
    return Restricted(kept, restricted, summary)


def flags(targeting: Targeting, semester_names: Mapping[str, str] | None = None) -> str:
    """The targeting as command-line flags (semesters by alias when known), for messages and hints."""
    names = semester_names or {}
    parts = [
        f"--semester {_shell(names.get(s, s))}" for s in sorted(targeting.semesters, key=lambda s: names.get(s, s))
    ]
    parts += [f"--path {_shell(p)}" for p in targeting.paths]
    return " ".join(parts)


def _shell(text: str) -> str:
    import shlex

    return shlex.quote(text)


def from_document(doc: object) -> Targeting | None:
    """The targeting a saved plan (`plan --out`) was made with: None when it was not targeted. The shape is
    checked by the caller (syncer.apply.run.read_saved_plan)."""
    if not isinstance(doc, dict):
        return None
    sems: Iterable[str] = doc.get("semesters") or ()
    paths: Iterable[str] = doc.get("paths") or ()
    t = Targeting.of(sems, paths)
    return t if t else None
