"""The check cache (syncer.load.cache): a run that reuses it gives exactly what a cold run gives (problems,
desired state, plan and its checksum), whatever changed; what it keeps is keyed by each file's bytes and by
everything that gives them meaning; a damaged, foreign or shared entry is never trusted."""

from __future__ import annotations

import hashlib
import marshal
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.gitinfo import NO_GIT
from syncer.load.cache import ENTRY_MAGIC, cache_base
from syncer.load.settings import Safety
from syncer.load.validate import ValidationResult, validate_root
from syncer.model import Identity
from syncer.plan.diff import make_plan
from syncer.plan.model import PlanOptions
from tests.example import copy_example

DATA = ("teams/sales.yaml", "teams/support.yaml", "teams/engineering.yaml", "archive/2026-H1-sales.yaml")
TARGET = Identity("open.feishu.cn", "cli_test", "open_id")


def outcome(result: ValidationResult) -> tuple[object, ...]:
    """Everything a run gives that later stages use, with the plan's checksum when it is valid."""
    checksum = None
    if result.desired is not None:
        plan = make_plan(
            result.desired, None, PlanOptions(safety=Safety(), git=NO_GIT, target=TARGET, state_location="s")
        )
        checksum = plan.checksum
    desired = (result.desired.values, result.desired.rows, result.desired.files) if result.desired is not None else None
    return (result.problems, desired, result.files, result.value_count, result.closed_value_count, checksum)


def cold(root: Path) -> ValidationResult:
    return validate_root(root, root_display="m")


def cached(root: Path, cache: Path) -> ValidationResult:
    return validate_root(root, root_display="m", cache_dir=cache)


# Edits as a reviewer would make them, good and bad: a value retyped, a row copied to another file (a
# duplicate across files), weights pushed over 100, an alias that does not exist, a broken file.
REPLACEMENTS = ["1200000", "abc", "150%", "~", "40", "grace.lead", "nobody", "'x'", "[1, 2]", "99%"]


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[str, str, int, str]]:
    out = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["value", "copy-row", "break", "delete-line"]))
        out.append(
            (kind, draw(st.sampled_from(DATA)), draw(st.integers(0, 10_000)), draw(st.sampled_from(REPLACEMENTS)))
        )
    return out


def apply_edit(root: Path, kind: str, rel: str, n: int, text: str) -> None:
    path = root / rel
    lines = path.read_text(encoding="utf-8").splitlines()
    values = [i for i, line in enumerate(lines) if line.startswith("      ") and ": " in line]
    if kind == "value" and values:
        i = values[n % len(values)]
        lines[i] = lines[i].split(": ")[0] + ": " + text
    elif kind == "copy-row":  # the first reviewee of another file, appended here: the same rows twice
        other = (root / DATA[n % len(DATA)]).read_text(encoding="utf-8").splitlines()
        start = next(i for i, line in enumerate(other) if line.startswith("  ") and not line.startswith("   "))
        end = next(
            (i for i in range(start + 1, len(other)) if other[i].startswith("  ") and not other[i].startswith("   ")),
            len(other),
        )
        lines += other[start:end]
    elif kind == "break":
        lines.insert(n % (len(lines) + 1), "  : : [")
    elif kind == "delete-line" and values:
        del lines[values[n % len(values)]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=edits(), after=edits())
def test_a_cached_run_gives_what_a_cold_run_gives(tmp_path_factory: pytest.TempPathFactory, before, after) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("prop")
    root, cache = copy_example(tmp / "m"), tmp / "cache"
    for e in before:
        apply_edit(root, *e)
    assert outcome(cached(root, cache)) == outcome(cold(root))  # a cold cache, filled
    for e in after:
        apply_edit(root, *e)
    edited = cached(root, cache)  # some files from the cache, the edited ones checked again
    assert outcome(edited) == outcome(cold(root))
    again = cached(root, cache)  # every file from the cache
    assert again.cached_files == len(again.files) - sum(1 for f in again.files if not cache_entry_possible(root, f))
    assert outcome(again) == outcome(cold(root))


def cache_entry_possible(root: Path, display: str) -> bool:
    """A file that does not load is not kept (its problem is found again at once)."""
    from syncer.errors import LoadError
    from syncer.load.yamlparse import parse

    try:
        parse((root / display.removeprefix("m/")).read_bytes(), display, duplicates=[])
    except LoadError:
        return False
    return True


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_example(tmp_path / "m")


def test_one_changed_file_is_the_only_one_checked_again(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = cached(root, cache)
    assert first.ok and first.cached_files == 0 and len(first.files) == len(DATA)
    sales = root / "teams/sales.yaml"
    sales.write_text(sales.read_text(encoding="utf-8").replace("actual: 1055000", "actual: 1056000"), encoding="utf-8")
    second = cached(root, cache)
    assert second.cached_files == len(DATA) - 1
    assert outcome(second) == outcome(cold(root))


def test_a_row_written_again_in_a_changed_file_is_a_duplicate_of_a_cached_one(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert cached(root, cache).ok
    apply_edit(root, "copy-row", "teams/support.yaml", 0, "")  # sales' first reviewee, also in support
    result = cached(root, cache)
    assert result.cached_files == len(DATA) - 1
    assert [p.code for p in result.errors][:1] == ["duplicate-row"]
    assert outcome(result) == outcome(cold(root))


@pytest.mark.parametrize(
    "edit",
    [
        ("catalog.yaml", 'weight: {id: "2", type: percentage, role: weight}', 'weight: {id: "2", type: number}'),
        ("catalog.yaml", "alice: ou_3245842393d09e9428ad4655da6e30b3", "alice: ou_3245842393d09e9428ad4655da6e30b4"),
        ("syncer.yaml", "import_per_minute: 10", "import_per_minute: 9"),
    ],
)
def test_a_change_to_the_catalog_or_the_settings_is_a_change_of_every_file(
    root: Path, tmp_path: Path, edit: tuple[str, str, str]
) -> None:
    cache = tmp_path / "cache"
    assert cached(root, cache).cached_files == 0
    name, old, new = edit
    text = (root / name).read_text(encoding="utf-8")
    assert old in text
    (root / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    result = cached(root, cache)
    assert result.cached_files == 0
    assert outcome(result) == outcome(cold(root))


def test_syncers_version_is_part_of_the_key(root: Path) -> None:
    result = cold(root)
    from syncer.load.cache import context_digest
    from syncer.load.people import EmailPeople

    a = context_digest(result.settings, "catalog", EmailPeople(), version="1.0.0")
    b = context_digest(result.settings, "catalog", EmailPeople(), version="1.0.1")
    assert a != b and a == context_digest(result.settings, "catalog", EmailPeople(), version="1.0.0")


def test_two_targets_never_share_entries(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cached(root, cache)
    settings = root / "syncer.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("https://open.feishu.cn", "https://open.larksuite.com", 1), encoding="utf-8")
    assert cold(root).settings.target.base_url == "https://open.larksuite.com"
    result = cached(root, cache)
    assert result.cached_files == 0
    assert len([d for d in cache.iterdir() if d.is_dir()]) == 2


@pytest.mark.parametrize(
    "damage",
    [
        "truncate",
        "garbage",
        "flipped",
        "wrong-shape",
        "other-file",
        "ragged",
        "bad-index",
        "negative-index",
        "bad-sum",
        "nan-sum",
    ],
)
def test_a_damaged_entry_is_ignored_and_rewritten(root: Path, tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    want = outcome(cached(root, cache))
    (entries,) = [d for d in cache.iterdir() if d.is_dir()]
    paths = sorted(entries.glob("*.entry"))
    assert len(paths) == len(DATA)
    for path in paths:
        blob = path.read_bytes()
        head, payload = blob[: len(ENTRY_MAGIC) + 32], blob[len(ENTRY_MAGIC) + 32 :]
        doc = marshal.loads(payload)
        if damage == "truncate":
            path.write_bytes(blob[:-100])
            continue
        if damage == "garbage":
            path.write_bytes(b"\xff\x00not an entry")
            continue
        if damage == "flipped":  # the digest no longer matches: the payload is never read
            path.write_bytes(head + payload[:-1] + bytes([payload[-1] ^ 1]))
            continue
        if damage == "wrong-shape":
            doc["values"] = "nothing"
        elif damage == "other-file":
            doc["file"] = "m/elsewhere.yaml"
        elif damage == "ragged":
            doc["values"]["value"].pop()
        elif damage == "bad-index":
            doc["values"]["row"] = [10**6 for _ in doc["values"]["row"]]
        elif damage == "negative-index":  # a row counted from the end is no row of this entry either
            doc["values"]["row"] = [-1 - i for i in doc["values"]["row"]]
        elif damage in ("bad-sum", "nan-sum"):
            doc["weights"]["sum"] = ["x" if damage == "bad-sum" else "NaN" for _ in doc["weights"]["sum"]]
            if not doc["weights"]["sum"]:
                doc["values"] = None
        payload = marshal.dumps(doc)
        path.write_bytes(ENTRY_MAGIC + hashlib.sha256(payload).digest() + payload)
    result = cached(root, cache)
    assert result.cached_files == 0
    assert outcome(result) == want
    assert cached(root, cache).cached_files == len(DATA)  # rewritten


def test_an_entry_for_other_bytes_is_not_used(root: Path, tmp_path: Path) -> None:
    """The key is the content, not the time: a file changed and changed back within the same second, or
    restored by git with an old mtime, is judged by its bytes."""
    cache = tmp_path / "cache"
    cached(root, cache)
    sales = root / "teams/sales.yaml"
    original = sales.read_bytes()
    stat = sales.stat()
    sales.write_bytes(original.replace(b"actual: 1055000", b"actual: nonsense"))
    os.utime(sales, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = cached(root, cache)
    assert [p.code for p in result.errors] == ["bad-number"]


def test_a_directory_others_may_write_to_is_not_used(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cached(root, cache)
    (entries,) = [d for d in cache.iterdir() if d.is_dir()]
    entries.chmod(0o777)
    assert cached(root, cache).cached_files == 0
    entries.chmod(0o700)
    assert cached(root, cache).cached_files == len(DATA)


def test_entries_of_deleted_files_are_removed(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cached(root, cache)
    (root / "archive/2026-H1-sales.yaml").unlink()
    cached(root, cache)
    (entries,) = [d for d in cache.iterdir() if d.is_dir()]
    assert len(list(entries.glob("*.entry"))) == len(DATA) - 1


def test_deleting_the_cache_at_any_time_is_safe(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    want = outcome(cached(root, cache))
    shutil.rmtree(cache)
    assert outcome(cached(root, cache)) == want


def test_entries_are_private_to_their_user(root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cached(root, cache)
    (entries,) = [d for d in cache.iterdir() if d.is_dir()]
    assert entries.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in entries.glob("*.entry")} == {0o600}


def test_where_the_cache_lives() -> None:
    assert cache_base({"HOME": "/home/a"}) == Path("/home/a/.cache/syncer")
    assert cache_base({"HOME": "/home/a", "XDG_CACHE_HOME": "/x"}) == Path("/x/syncer")
    assert cache_base({"HOME": "/home/a", "SYNCER_CACHE_DIR": "/c"}) == Path("/c")
    assert cache_base({"HOME": "/home/a", "SYNCER_CACHE": "0"}) is None
    assert cache_base({}) is None


def test_the_cli_keeps_the_cache_outside_the_root_and_can_do_without(root: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from syncer.cli import cli

    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    cache = tmp_path / "cli-cache"
    env = {"SYNCER_CACHE_DIR": str(cache)}
    for args in (["validate"], ["plan"]):
        result = CliRunner().invoke(cli, [*args, "--root", str(root)], env=env)
        assert result.exit_code == 0, result.output
    assert len(list(cache.glob("*/*.entry"))) == len(DATA)
    assert sorted(p.relative_to(root) for p in root.rglob("*") if ".syncer" not in p.parts) == [
        p for p in before if ".syncer" not in p.parts
    ]
    shutil.rmtree(cache)
    for extra, env2 in ((["--no-cache"], env), ([], {**env, "SYNCER_CACHE": "0"})):
        result = CliRunner().invoke(cli, ["validate", "--root", str(root), *extra], env=env2)
        assert result.exit_code == 0 and not cache.exists()


def _entries(cache: Path) -> list[Path]:
    (entries,) = [d for d in cache.iterdir() if d.is_dir()]
    return sorted(entries.glob("*.entry"))


def _rewrite(path: Path, doc: dict[str, object]) -> None:
    payload = marshal.dumps(doc)
    path.write_bytes(ENTRY_MAGIC + hashlib.sha256(payload).digest() + payload)


def test_an_entry_stores_each_values_type_by_its_fixed_code(root: Path, tmp_path: Path) -> None:
    from syncer.fieldtypes import FIELD_TYPES

    cache = tmp_path / "cache"
    cached(root, cache)
    codes = {t.code for t in FIELD_TYPES.values()}
    for path in _entries(cache):
        doc = marshal.loads(path.read_bytes()[len(ENTRY_MAGIC) + 32 :])
        assert set(doc["values"]["type"]) <= codes


@pytest.mark.parametrize("types", ["list-index", "unknown-code"])
def test_an_entry_whose_types_are_not_codes_is_ignored_not_misread(root: Path, tmp_path: Path, types: str) -> None:
    """Format 1 stored a type by its index in a list (0 text, 1 number...): such an entry, or one with a code
    no type has, is checked again, never read as some other type."""
    cache = tmp_path / "cache"
    want = outcome(cached(root, cache))
    for path in _entries(cache):
        doc = marshal.loads(path.read_bytes()[len(ENTRY_MAGIC) + 32 :])
        doc["values"]["type"] = [1 if types == "list-index" else "?" for _ in doc["values"]["type"]]
        if not doc["values"]["type"]:
            doc["values"] = None
        _rewrite(path, doc)
    result = cached(root, cache)
    assert result.cached_files == 0
    assert outcome(result) == want


def test_the_cache_format_is_part_of_the_key(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from syncer.load import cache
    from syncer.load.people import EmailPeople

    result = cold(root)
    now = cache.context_digest(result.settings, "catalog", EmailPeople())
    monkeypatch.setattr(cache, "CACHE_FORMAT", cache.CACHE_FORMAT - 1)
    assert cache.context_digest(result.settings, "catalog", EmailPeople()) != now
