"""Checksums of the state's files (syncer.state.seal): a changed byte anywhere in a state is damage named by its
file (and line), never a state that reads as something else; a state written before checksums still reads,
and the next compaction writes it with them."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.errors import StateDamaged, StateError
from syncer.model import Identity, RowKey, ValueKey
from syncer.state import format as files
from syncer.state.local.store import LocalStateStore
from syncer.state.model import STATE_FORMAT, BatchRecord, JournalEntry, Rejection, State
from syncer.state.seal import (
    END,
    SEALED,
    crc,
    record_text,
    records,
    seal,
    seal_file,
    seal_meta,
    torn_tail,
    unseal,
    unseal_meta,
)

SEM = "7293040702907514899"
ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
BOB = "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
REV = "7272580325522276372"
IDENT = Identity("open.feishu.cn", "cli_x", "open_id")
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return T0


def batch(rows: dict[tuple[str, str, str], dict[str, str]], *, token: str) -> BatchRecord:
    return BatchRecord(
        semester=SEM,
        client_token=token,
        import_record_id=f"rec-{token}",
        commit="c0ffee" * 6 + "c0ff",
        import_record_name="syncer c0ffee",
        time=T0,
        rows={RowKey(*r): f for r, f in rows.items()},
    )


def image(state: State | None) -> tuple[object, ...]:
    assert state is not None
    return (state.meta, dict(state.iter_values()), state.batches, state.rejections, state.journal)


def write_state(path: Path) -> None:
    """A state with every file: compacted shards, batches, rejections and journal, and a log after them."""
    store = LocalStateStore(path, clock=clock)
    with store.locked(command="apply"):
        store.create(IDENT)
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "60", "4": "1"}, (SEM, BOB, REV): {"2": "7"}}, token="a"))
        store.record_rejected([Rejection(RowKey(SEM, BOB, "m"), 1580306, "2026-05-01T12:00:00.000Z", "d" * 64)])
        store.open_journal(
            JournalEntry("tok-open", SEM, "2026-05-01T12:00:00.000Z", "{}", ((ValueKey(SEM, ALICE, REV, "2"), "61"),))
        )
        store.compact()
        store.record_batch(batch({(SEM, BOB, REV): {"2": "8"}}, token="b"))
        store.record_import_request(T0)


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sealed") / "state"
    write_state(path)
    return path


def state_files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file() and p.name != "lock")


# --- the format -------------------------------------------------------------------------------------------------


def test_a_line_is_its_record_a_tab_and_the_crc32_of_the_record() -> None:
    assert seal('["a"]') == '["a"]\t' + format(zlib.crc32(b'["a"]'), "08x") + "\n"
    assert unseal(seal('["a"]')[:-1], where="f", n=1) == '["a"]'
    assert unseal('["a"]', where="f", n=1) is None  # no checksum: for the caller to judge
    with pytest.raises(StateDamaged, match=r"^f:3: the state is damaged: the line does not match its checksum"):
        unseal('["b"]' + seal('["a"]')[5:-1], where="f", n=3)


def test_a_compacted_file_ends_with_the_checksum_of_all_before_it() -> None:
    text = seal_file(["[1]", "[2]"])
    assert text == seal("[1]") + seal("[2]") + f"{END}\t{crc(seal('[1]') + seal('[2]'))}\n"
    assert records(text, where="f", sealed=True) == ["[1]", "[2]"]
    assert record_text(text, where="f", sealed=True) == "[1]\n[2]\n"
    assert seal_file([]) == f"{END}\t00000000\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            seal("[2]") + seal("[1]") + seal_file(["[1]", "[2]"]).splitlines(True)[2],
            r"f:3: .* the file does not match its checksum \(a line removed",
        ),
        (seal("[1]"), r"f:2: .* the end line is missing"),
        (seal_file(["[1]"]) + seal("[2]"), r"f:2: .* the end line is not one syncer writes"),
        ("[1]\n" + f"{END}\t{crc('[1]' + chr(10))}\n", r"f:1: .* a line without its checksum"),
    ],
)
def test_a_sealed_file_that_is_not_whole_is_damage(text: str, message: str) -> None:
    for read in (records, record_text):
        with pytest.raises(StateDamaged, match=message):
            read(text, where="f", sealed=True)


def test_a_file_of_a_state_before_checksums_is_read_as_it_is() -> None:
    assert records("[1]\n\n[2]\n", where="f", sealed=False) == ["[1]", "", "[2]"]
    assert records("[1]\n" + seal("[2]"), where="f", sealed=False) == ["[1]", "[2]"]  # a compaction cut short
    with pytest.raises(StateDamaged, match=r"f:2: .* does not match its checksum"):
        records("[1]\n" + seal("[2]")[:-2] + "0\n", where="f", sealed=False)


def test_a_torn_tail_is_only_what_a_killed_append_can_leave() -> None:
    line = seal('{"s":3}')
    assert all(torn_tail(line[:i]) for i in range(len(line)))  # every prefix, up to a line without its newline
    assert not torn_tail(line[:-1] + "x")  # a whole line and then something else
    assert not torn_tail(line[:-2] + "g")  # a checksum that is not one
    assert not torn_tail(line[:-2] + ("0" if line[-2] != "0" else "1"))  # a whole line that does not match


def test_a_log_whose_last_newline_changed_is_damage_not_a_torn_write(original: Path, tmp_path: Path) -> None:
    path = tmp_path / "state"
    shutil.copytree(original, path)
    log = path / files.LOG
    text = log.read_text()
    log.write_text(text[:-1] + "+")
    with pytest.raises(StateDamaged, match=rf"{files.LOG}:{text.count(chr(10))}: .* the last line does not end as"):
        LocalStateStore(path).load()


def test_meta_json_carries_its_own_checksum_last() -> None:
    text = '{\n  "format": 2\n}\n'
    sealed = seal_meta(text)
    assert sealed == '{\n  "format": 2,\n  "crc32": "' + crc(text) + '"\n}\n'
    assert json.loads(sealed)["crc32"] == crc(text)
    assert unseal_meta(sealed, where="m") == (text, True)
    assert unseal_meta(text, where="m") == (text, False)
    with pytest.raises(StateDamaged, match=r"m:3: .* the metadata does not match its checksum"):
        unseal_meta(sealed.replace('"format": 2', '"format": 3'), where="m")


# --- a state ------------------------------------------------------------------------------------------------------


def test_every_file_syncer_writes_is_sealed(original: Path) -> None:
    for path in state_files(original):
        text = path.read_text()
        if path.name == files.META:
            assert unseal_meta(text, where="")[1]
            assert json.loads(text)["format"] == STATE_FORMAT >= SEALED
        elif path.name == files.LOG:
            assert text and all(unseal(line, where="", n=0) is not None for line in text.splitlines())
        else:
            assert text.endswith("\n") and text.splitlines()[-1].startswith(END + "\t"), path
            records(text, where=str(path), sealed=True)


def test_a_value_edited_by_hand_is_damage_named_by_file_and_line(original: Path, tmp_path: Path) -> None:
    path = tmp_path / "state"
    shutil.copytree(original, path)
    shard = path / files.shard_name(SEM)
    text = shard.read_text()
    assert '{"2":"60","4":"1"}' in text.splitlines()[1]
    shard.write_text(text.replace('{"2":"60"', '{"2":"61"', 1))
    with pytest.raises(
        StateDamaged, match=rf"{re.escape(str(shard))}:2: the state is damaged: the line does not match"
    ):
        LocalStateStore(path).load()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_single_bit_flip_anywhere_is_damage_named_by_its_file_never_another_state(
    original: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    path = tmp_path_factory.mktemp("flip") / "state"
    shutil.copytree(original, path)
    target = data.draw(st.sampled_from(state_files(path)))
    raw = bytearray(target.read_bytes())
    at = data.draw(st.integers(0, len(raw) - 1))
    raw[at] ^= 1 << data.draw(st.integers(0, 7))
    target.write_bytes(bytes(raw))
    try:
        state = LocalStateStore(path).load()
    except StateError as exc:
        message = str(exc)
        assert message.startswith(str(target)), message
        if target.suffix == ".jsonl" and "not UTF-8" not in message:
            assert re.match(rf"{re.escape(str(target))}:\d+: the state is damaged", message), message
        assert "restore the state directory" in message or "upgrade syncer" in message, message
    else:
        assert image(state) == image(LocalStateStore(original).load())


# --- compatibility ------------------------------------------------------------------------------------------------


def to_legacy(path: Path) -> None:
    """The state as a syncer before checksums wrote it: format 1, lines without checksums, no end lines."""
    for file in state_files(path):
        text = file.read_text()
        if file.name == files.META:
            doc = json.loads(unseal_meta(text, where="")[0])
            file.write_text(json.dumps({**doc, "format": 1}, indent=2) + "\n")
        else:
            lines = [x.rpartition("\t")[0] for x in text.splitlines() if not x.startswith(END)]
            file.write_text("".join(x + "\n" for x in lines))


def test_a_state_before_checksums_reads_and_the_next_compaction_seals_it(original: Path, tmp_path: Path) -> None:
    path = tmp_path / "state"
    shutil.copytree(original, path)
    folding = LocalStateStore(path, clock=clock)
    with folding.locked(command="apply"):
        folding.compact()  # no log left that names the semester: its shard is rewritten all the same
    to_legacy(path)
    assert "\t" not in "".join(p.read_text() for p in state_files(path))
    before = LocalStateStore(path).load()
    assert before is not None and before.meta.format == 1
    assert image(before)[1:] == image(LocalStateStore(original).load())[1:]
    store = LocalStateStore(path, clock=clock)
    with store.locked(command="apply"):
        store.record_import_request(T0)  # appended sealed, to a log of lines without
        assert loaded_values(path) == dict(before.iter_values())
        store.compact()
    for file in state_files(path):
        if file.name not in (files.LOG, files.META):
            records(file.read_text(), where=str(file), sealed=True)  # every shard rewritten, the unchanged too
    after = LocalStateStore(path).load()
    assert after is not None and after.meta.format == STATE_FORMAT
    assert dict(after.iter_values()) == dict(before.iter_values())


def loaded_values(path: Path) -> dict[ValueKey, tuple[str, int]]:
    state = LocalStateStore(path).load()
    assert state is not None
    return dict(state.iter_values())


def test_a_log_left_by_an_upgrading_compaction_is_skipped_only_where_it_was_folded(
    original: Path, tmp_path: Path
) -> None:
    path = tmp_path / "state"
    shutil.copytree(original, path)
    serial = json.loads((path / files.META).read_text())["serial"]
    log = path / files.LOG
    log.write_text("")
    folded = LocalStateStore(path).load()
    log.write_text(f'{{"s":{serial},"op":"paced","at":"2026-05-01T12:00:00.000Z"}}\n')  # folded already
    assert image(LocalStateStore(path).load()) == image(folded)
    log.write_text(f'{{"s":{serial + 1},"op":"paced","at":"2026-05-01T12:00:00.000Z"}}\n')
    with pytest.raises(StateDamaged, match=rf"{files.LOG}:1: the state is damaged: a line without its checksum"):
        LocalStateStore(path).load()


def test_a_sealed_state_whose_metadata_lost_its_checksum_is_damage_not_an_old_state(
    original: Path, tmp_path: Path
) -> None:
    path = tmp_path / "state"
    shutil.copytree(original, path)
    meta = path / files.META
    meta.write_text(unseal_meta(meta.read_text(), where="")[0])
    with pytest.raises(StateDamaged, match=r"meta\.json: the state is damaged: the metadata has lost its checksum"):
        LocalStateStore(path).load()


def test_a_state_adopted_from_before_checksums_is_written_in_the_current_format(original: Path, tmp_path: Path) -> None:
    legacy = tmp_path / "legacy"
    shutil.copytree(original, legacy)
    to_legacy(legacy)
    state = LocalStateStore(legacy).load()
    assert state is not None and state.meta.format == 1
    store = LocalStateStore(tmp_path / "adopted", clock=clock)
    with store.locked(command="migrate"):
        store.adopt(state, people=None)
    assert json.loads((tmp_path / "adopted" / files.META).read_text())["format"] == STATE_FORMAT


def test_an_adopted_state_counts_its_values_so_a_semester_file_lost_later_is_damage(
    original: Path, tmp_path: Path
) -> None:
    """A state adopted (`state migrate`) from a backend whose metadata keeps no count of values per semester (the
    postgres backend's) gets one in meta.json all the same: a semester file deleted afterwards is damage named
    by that file, not a semester with no values."""
    loaded = LocalStateStore(original).load()
    assert loaded is not None and loaded.per_semester
    state = dataclasses.replace(loaded, meta=dataclasses.replace(loaded.meta, values=None))
    store = LocalStateStore(tmp_path / "adopted", clock=clock)
    with store.locked(command="migrate"):
        store.adopt(state, people=None)
    sem = min(state.per_semester)
    (tmp_path / "adopted" / files.shard_name(sem)).unlink()
    with pytest.raises(StateDamaged, match=r"it holds 0 values, where meta\.json says the last compaction wrote"):
        LocalStateStore(tmp_path / "adopted").load()


@pytest.mark.parametrize("name", [files.BATCHES, files.REJECTIONS, files.JOURNAL])
@pytest.mark.parametrize("how", ["emptied", "deleted"])
def test_a_compacted_file_emptied_or_deleted_is_damage_not_an_empty_list(
    original: Path, tmp_path: Path, name: str, how: str
) -> None:
    """Every compaction writes batches, rejections and the journal, each with at least its end line: one emptied
    or deleted afterwards would read as no batches, no held-back rows or no open entry (an open entry lost
    means its rows go out again under a new token), so it is damage named by the file."""
    path = tmp_path / "state"
    shutil.copytree(original, path)
    if how == "emptied":
        (path / name).write_text("")
    else:
        (path / name).unlink()
    with pytest.raises(StateDamaged) as caught:
        LocalStateStore(path).load()
    assert str(caught.value).startswith(f"{path / name}: the state is damaged: missing or empty")


def test_a_new_state_never_compacted_reads_without_those_files(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / "state", clock=clock)
    with store.locked(command="apply"):
        store.create(IDENT)
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "60"}}, token="a"))
    state = LocalStateStore(tmp_path / "state").load()
    assert state is not None and [b.client_token for b in state.batches.values()] == ["a"]
