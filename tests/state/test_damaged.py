"""Damaged state files: whatever a crash, a bad merge or a hand edit leaves in a state's files, reading it
either works or stops with a StateError that names the file (and the line, for the line-based files) and
says what to do; never another exception, and never a state that fails later in plan, show or pacing.

A baseline state is built once from a real apply of the example against the emulator (compacted files),
then more writes are appended to its log. Hypothesis damages one line of one file at a time."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.apply.run import pacer_for
from syncer.cli import cli
from syncer.errors import StateError
from syncer.gitinfo import NO_GIT
from syncer.load.validate import ValidationResult, validate_root
from syncer.model import Identity, RowKey, ValueKey
from syncer.plan.diff import make_plan
from syncer.plan.model import PlanOptions
from syncer.report.state import render_state
from syncer.state.inspect import summarize
from syncer.state.local.store import LocalStateStore
from syncer.state.model import BatchRecord, JournalEntry, Rejection
from syncer.state.seal import END, seal, seal_file, seal_meta, unseal_meta
from tests.emulated import served_example
from tests.example import copy_example

ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
SEM = "7293040702907514899"
REVENUE = "7272580325522276372"
INCIDENTS = "7272580325522276403"
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Baseline(NamedTuple):
    path: Path
    result: ValidationResult

    def __repr__(self) -> str:  # hypothesis prints its arguments
        return f"Baseline({self.path})"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Baseline]:
    """The example applied (one row refused), then log writes of every kind left uncompacted."""
    root = copy_example(tmp_path_factory.mktemp("damaged") / "metrics")
    sales = root / "teams" / "sales.yaml"
    sales.write_text(sales.read_text().replace("  alice:\n", "  alice:\n    incidents: {weight: 0, target: 3}\n", 1))
    with pytest.MonkeyPatch.context() as mp, served_example(root.parent, mp, root=root):
        result = CliRunner().invoke(cli, ["apply", "--root", str(root), "--auto-approve"])
        assert result.exit_code == 4, result.output  # alice's incidents row is refused
    path = root / ".syncer" / "state"
    store = LocalStateStore(path)
    store.lock()
    store.record_import_request(T0)
    store.open_journal(
        JournalEntry(
            client_token="tok-open",
            semester=SEM,
            opened="2026-12-01T12:00:00.000Z",
            body=json.dumps({"semester_id": SEM, "imported_metrics": []}),
            values=((ValueKey(SEM, ALICE, REVENUE, "2"), "55"),),
        )
    )
    store.record_batch(
        BatchRecord(
            semester=SEM,
            client_token="tok-b",
            import_record_id="7400000000000000099",
            commit="c0ffee" * 6 + "c0ff",
            import_record_name="syncer c0ffee",
            time=T0,
            rows={RowKey(SEM, ALICE, REVENUE): {"2": "55", "3": "CNY"}},
        )
    )
    store.forget([(SEM, ALICE, REVENUE, "3")])
    store.record_rejected(
        [Rejection(RowKey(SEM, ALICE, INCIDENTS), 1580312, "2026-12-01T12:00:00.000Z", "d" * 64, "not found", "")]
    )
    store.unlock()
    assert (path / "log.jsonl").read_text().count("\n") >= 5
    yield Baseline(path, validate_root(root))


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file() and p.name != "lock" and any(_records(p)))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=4,
)
HUGE = "9" * 5000  # past Python's int-conversion limit


def _mutate(value: Any, draw: Callable[[Any], Any]) -> Any:
    """`value` with one part replaced, removed or cut (at a random depth)."""
    if isinstance(value, dict) and value and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value)))
        action = draw(st.sampled_from(["replace", "drop", "descend"]))
        copy = dict(value)
        if action == "drop":
            del copy[key]
        elif action == "replace":
            copy[key] = draw(JSON)
        else:
            copy[key] = _mutate(value[key], draw)
        return copy
    if isinstance(value, list) and value and draw(st.booleans()):
        i = draw(st.integers(0, len(value) - 1))
        action = draw(st.sampled_from(["replace", "cut", "descend"]))
        if action == "cut":
            return value[:i]
        out = list(value)
        out[i] = draw(JSON) if action == "replace" else _mutate(value[i], draw)
        return out
    return draw(JSON)


def _records(target: Path) -> list[str]:
    """A state file's records: its lines without their checksums (meta.json: the document without its own)."""
    text = target.read_text()
    if target.suffix == ".json":
        return [unseal_meta(text, where=str(target))[0]]
    return [x.rpartition("\t")[0] for x in text.split("\n") if x.strip() and not x.startswith(END)]


def _resealed(target: Path, lines: list[str]) -> str:
    """The records written back with checksums that match them: a hand edit that knows the format (bytes
    that are not UTF-8 are left as they are: no checksum is needed to refuse them)."""
    try:
        if target.suffix == ".json":
            if not lines:
                return ""
            try:
                doc = json.loads(lines[0])
            except ValueError:
                return lines[0]
            return seal_meta(json.dumps(doc, ensure_ascii=False, indent=2) + "\n") if type(doc) is dict else lines[0]
        if target.name == "log.jsonl":
            return "".join(seal(x) for x in lines)
        return seal_file(lines)
    except UnicodeEncodeError:
        return "".join(x + "\n" for x in lines)


@st.composite
def damage(draw: Callable[[Any], Any], files: list[Path]) -> tuple[Path, str]:
    """One file of the state with one record (the document, for meta.json) damaged, and the checksums made to
    match: what is behind them is read strictly too (the checksums are pinned by test_seal.py)."""
    target = draw(st.sampled_from(files))
    lines = _records(target)
    i = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(["json", "json", "json", "raw-cut", "raw-huge", "drop-line", "binary"]))
    line = lines[i]
    if kind == "json":
        lines[i] = json.dumps(_mutate(json.loads(line), draw), ensure_ascii=False)
    elif kind == "raw-cut":
        lines[i] = line[: draw(st.integers(0, max(0, len(line) - 1)))]
    elif kind == "raw-huge":
        digits = [j for j, c in enumerate(line) if c.isdigit()]
        j = draw(st.sampled_from(digits)) if digits else 0
        lines[i] = line[:j] + HUGE + line[j + 1 :]
    elif kind == "drop-line":
        del lines[i]
    else:
        lines[i] = line[:3] + "\udcff\x00" + line[3:]
    return target, _resealed(target, lines)


def _use(path: Path, result: ValidationResult) -> None:
    """What plan, show and apply's pacing do with a state."""
    state = LocalStateStore(path).load()
    summary = summarize(state, location=str(path), catalog=result.catalog)
    render_state(summary, "text")
    render_state(summary, "json")
    if state is None:
        return
    assert result.desired is not None
    make_plan(
        result.desired,
        state,
        PlanOptions(
            safety=result.settings.safety,
            git=NO_GIT,
            target=Identity("127.0.0.1", "cli_emulator", "open_id"),
            state_location=str(path),
        ),
    )
    pacer_for(result.settings, state)
    state.iter_values()
    for _ in state.iter_values():
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_state_file_is_read_or_refused_with_its_name(
    baseline: Baseline, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    original, result = baseline.path, baseline.result
    path = tmp_path_factory.mktemp("copy") / "state"
    shutil.copytree(original, path)
    target, text = data.draw(damage(_files(path)))
    target.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        _use(path, result)
    except StateError as exc:
        message = str(exc)
        assert target.name in message or str(path) in message, message
        assert "restore" in message or "syncer" in message, message  # says what to do
