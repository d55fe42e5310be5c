"""The read cache of decoded state shards: a state loaded through it is the state its files hold, whatever
the cache holds (an entry of other bytes, a damaged one, one of another version), and writers never use it."""

from __future__ import annotations

import marshal
from pathlib import Path

from syncer.fsio import read_sealed, write_sealed
from syncer.state import use_read_cache
from syncer.state.local.store import LocalStateStore
from syncer.state.readcache import ENTRY_MAGIC, ShardCache
from tests.state.gitrepo import Repo
from tests.state.test_git import _git_env, seed_state, store_of  # noqa: F401 - _git_env: autouse
from tests.state.test_local import IDENT, NPS, REV, SEM, SEM2, batch, clock

ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
BOB = "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def two_semesters(path: Path) -> LocalStateStore:
    """A compacted state of two semesters (two shards), and a row whose fields came in two batches."""
    store = LocalStateStore(path, clock=clock)
    with store.locked():
        store.create(IDENT)
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "40", "4": "1000"}}, token="t1"))
        store.record_batch(batch({(SEM, ALICE, REV): {"5": "900"}, (SEM, BOB, NPS): {"2": "60"}}, token="t2"))
        store.record_batch(batch({(SEM2, BOB, REV): {"2": '名前 "quoted"'}}, token="t3", sem=SEM2))
        store.compact()
    return store


def reader(path: Path, cache_dir: Path) -> LocalStateStore:
    store = LocalStateStore(path, clock=clock)
    use_read_cache(store, cache_dir)
    assert store.read_cache is not None
    return store


def test_a_state_read_through_the_cache_is_the_state_its_files_hold(tmp_path: Path) -> None:
    two_semesters(tmp_path / "state")
    plain = LocalStateStore(tmp_path / "state").load()
    first = reader(tmp_path / "state", tmp_path / "cache")
    cold = first.load()
    second = reader(tmp_path / "state", tmp_path / "cache")
    warm = second.load()
    assert plain is not None and cold == plain and warm == plain
    assert warm.rows == plain.rows and warm.per_semester == plain.per_semester == {SEM: 4, SEM2: 1}
    assert warm.get((SEM, ALICE, REV, "5")) == ("900", 2)  # per-field batches survive the round trip
    assert first.read_cache is not None and (first.read_cache.hits, first.read_cache.misses) == (0, 2)
    assert second.read_cache is not None and (second.read_cache.hits, second.read_cache.misses) == (2, 0)


def test_a_shard_rewritten_by_an_apply_is_decoded_again_never_served_stale(tmp_path: Path) -> None:
    store = two_semesters(tmp_path / "state")
    reader(tmp_path / "state", tmp_path / "cache").load()
    with store.locked():
        store.record_batch(batch({(SEM, ALICE, REV): {"2": "45"}}, token="t4"))
        store.compact()
    again = reader(tmp_path / "state", tmp_path / "cache")
    state = again.load()
    assert state is not None and state.get((SEM, ALICE, REV, "2")) == ("45", 4)
    assert again.read_cache is not None and (again.read_cache.hits, again.read_cache.misses) == (1, 1)
    assert state == LocalStateStore(tmp_path / "state").load()


def test_an_entry_that_is_damaged_or_of_another_version_is_a_miss(tmp_path: Path) -> None:
    two_semesters(tmp_path / "state")
    truth = LocalStateStore(tmp_path / "state").load()
    reader(tmp_path / "state", tmp_path / "cache").load()
    entries = sorted((tmp_path / "cache" / "state").glob("*/*.entry"))
    assert len(entries) == 2
    torn = entries[0]
    torn.write_bytes(torn.read_bytes()[:-7])  # torn: its digest no longer matches
    other = entries[1]
    payload = read_sealed(other, ENTRY_MAGIC)
    assert payload is not None
    doc = marshal.loads(payload)
    doc["version"] = "0.0.1 cpython-311 4"
    doc["rows"] = {(SEM2, BOB, REV): ({"2": "forged"}, 3)}
    write_sealed(other, ENTRY_MAGIC, marshal.dumps(doc))
    store = reader(tmp_path / "state", tmp_path / "cache")
    assert store.load() == truth
    assert store.read_cache is not None and (store.read_cache.hits, store.read_cache.misses) == (0, 2)


def test_an_entry_for_other_bytes_is_a_miss(tmp_path: Path) -> None:
    """An entry says which bytes it was decoded from: rows claimed for another shard are not used."""
    two_semesters(tmp_path / "state")
    truth = LocalStateStore(tmp_path / "state").load()
    cache = ShardCache.under(tmp_path / "cache", str((tmp_path / "state").resolve()))
    cache.put(SEM, "0" * 64, {(SEM, ALICE, REV): ({"2": "forged"}, 1)}, 1)
    store = reader(tmp_path / "state", tmp_path / "cache")
    assert store.load() == truth


def test_a_writer_reads_the_files_never_the_cache(tmp_path: Path) -> None:
    store = two_semesters(tmp_path / "state")
    reader(tmp_path / "state", tmp_path / "cache").load()
    writer = reader(tmp_path / "state", tmp_path / "cache")
    with writer.locked():
        state = writer.load()
    assert state == store.load()
    assert writer.read_cache is not None and (writer.read_cache.hits, writer.read_cache.misses) == (0, 0)


def test_a_cache_directory_others_may_write_to_is_not_used(tmp_path: Path) -> None:
    two_semesters(tmp_path / "state")
    first = reader(tmp_path / "state", tmp_path / "cache")
    first.load()
    assert first.read_cache is not None
    first.read_cache.directory.chmod(0o777)
    store = reader(tmp_path / "state", tmp_path / "cache")
    assert store.load() == LocalStateStore(tmp_path / "state").load()
    assert store.read_cache is not None and store.read_cache.hits == 0
    first.read_cache.directory.chmod(0o700)
    entries = list(first.read_cache.directory.glob("*.entry"))
    assert entries and {p.stat().st_mode & 0o777 for p in entries} == {0o600}


def test_the_git_backend_reads_its_branch_through_the_cache(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    seed_state(repo.clone("a"))
    truth = store_of(repo.clone("b")).load()
    cached = [store_of(repo.tmp / "b" / "metrics") for _ in range(2)]
    for store in cached:
        use_read_cache(store, tmp_path / "cache")
    assert cached[0].load() == truth and cached[1].load() == truth
    assert truth is not None and truth.get((SEM, ALICE, REV, "4")) == ("1000", 1)
    assert [(s.read_cache.hits, s.read_cache.misses) for s in cached if s.read_cache] == [(0, 1), (1, 0)]


def test_line_ends_are_read_as_the_plain_reader_reads_them(tmp_path: Path) -> None:
    """A shard whose lines end in CRLF or a lone CR (an editor's doing) reads the same with the cache."""
    two_semesters(tmp_path / "state")
    for shard in (tmp_path / "state" / "semesters").glob("*.jsonl"):
        shard.write_bytes(shard.read_bytes().replace(b"\n", b"\r"))
    truth = LocalStateStore(tmp_path / "state").load()
    assert truth is not None and truth.per_semester == {SEM: 4, SEM2: 1}
    assert reader(tmp_path / "state", tmp_path / "cache").load() == truth
    assert reader(tmp_path / "state", tmp_path / "cache").load() == truth


def test_a_state_path_that_cannot_be_resolved_is_left_to_the_store(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    store = LocalStateStore(loop)
    use_read_cache(store, tmp_path / "cache")
    assert store.read_cache is None


def test_trouble_with_the_cache_is_kept_to_be_told_and_the_cache_turns_off(tmp_path: Path) -> None:
    (tmp_path / "home").write_text("a file where the cache's directory would go")
    cache = ShardCache(tmp_path / "home" / "state")
    assert cache.get("s", "d") is None and cache.trouble is not None
    assert cache.trouble.startswith(f"the state's read cache in {tmp_path / 'home' / 'state'} cannot be written (")
    assert "[ENOTDIR]" in cache.trouble and cache.trouble.endswith("SYNCER_CACHE=0 to turn it off)")
    cache.put("s", "d", {}, 0)  # nothing written, nothing raised
    assert not (tmp_path / "home" / "state").exists()
