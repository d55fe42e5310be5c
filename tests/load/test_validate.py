from __future__ import annotations

from pathlib import Path

from syncer.load.validate import validate_root
from syncer.model import RowKey, ValueKey
from tests.example import copy_example
from tests.paths import REPO

ALICE = "ou_3245842393d09e9428ad4655da6e30b3"
BOB = "ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
H2, H1 = "7293040702907514899", "7250000000000000001"
REVENUE = "7272580325522276372"


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text, encoding="utf-8")


def test_example_metrics_root_is_valid() -> None:
    result = validate_root(REPO / "metrics", root_display="metrics")
    assert result.problems == []
    assert result.desired is not None
    assert result.value_count > 200
    assert result.closed_value_count > 0
    assert len({k.reviewee for k in result.desired.values}) >= 20


def test_desired_state_is_keyed_by_resolved_ids_with_sources(fixture_root: Path) -> None:
    write(
        fixture_root,
        "t/a.yaml",
        "semester: 2026-H2\nreviewees:\n  alice:\n    revenue:\n"
        '      weight: 40%\n      owner: bob\n      note: "  x"\n',
    )
    result = validate_root(fixture_root, root_display="m")
    assert result.desired is not None
    values = result.desired.values
    w = values[ValueKey(H2, ALICE, REVENUE, "2")]
    assert (w.value, w.type, w.file, w.line, w.col) == ("40", "percentage", "m/t/a.yaml", 5, 15)
    assert values[ValueKey(H2, ALICE, REVENUE, "7283776005142675476")].value == BOB
    assert values[ValueKey(H2, ALICE, REVENUE, "7")].value == "  x"
    assert result.desired.rows[RowKey(H2, ALICE, REVENUE)].line == 4


def test_percentages_with_and_without_sign_are_one_value(fixture_root: Path) -> None:
    write(
        fixture_root,
        "a.yaml",
        "semester: 2026-H2\nreviewees:\n  alice: {revenue: {weight: 40%}}\n  bob: {revenue: {weight: '40'}}\n",
    )
    result = validate_root(fixture_root)
    assert result.desired is not None
    assert {v.value for v in result.desired.values.values()} == {"40"}


def test_renaming_an_alias_changes_no_key(fixture_root: Path) -> None:
    data = "semester: {s}\nreviewees:\n  {p}:\n    {m}: {{target: 5, owner: {o}}}\n"
    write(fixture_root, "a.yaml", data.format(s="2026-H2", p="alice", m="revenue", o="bob"))
    before = validate_root(fixture_root).desired
    cat = (fixture_root / "catalog.yaml").read_text()
    cat = cat.replace("2026-H2:", "second-half:").replace("  alice:", "  alice.w:").replace("  bob:", "  robert:")
    cat = cat.replace("  revenue:", "  income:")
    (fixture_root / "catalog.yaml").write_text(cat)
    write(fixture_root, "a.yaml", data.format(s="second-half", p="alice.w", m="income", o="robert"))
    after = validate_root(fixture_root).desired
    assert before is not None and after is not None
    assert {k: v.value for k, v in before.values.items()} == {k: v.value for k, v in after.values.items()}


def test_duplicate_row_across_files_names_both(fixture_root: Path) -> None:
    write(fixture_root, "a.yaml", "semester: 2026-H2\nreviewees:\n  alice:\n    revenue: {target: 1}\n")
    write(fixture_root, "b/b.yaml", f"semester: '{H2}'\nreviewees:\n  {ALICE}:\n    revenue: {{actual: 1}}\n")
    result = validate_root(fixture_root, root_display="m")
    [p] = result.problems
    assert (p.file, p.line, p.col, p.code) == ("m/b/b.yaml", 4, 5, "duplicate-row")
    assert "also written at m/a.yaml:4" in p.text(redact=False)


def test_same_row_in_two_semesters_is_fine(fixture_root: Path) -> None:
    write(fixture_root, "a.yaml", "semester: 2026-H2\nreviewees:\n  alice:\n    revenue: {target: 1}\n")
    write(fixture_root, "b.yaml", "semester: 2026-H1\nreviewees:\n  alice:\n    revenue: {target: 1}\n")
    result = validate_root(fixture_root)
    assert result.ok and result.desired is not None
    assert result.closed_value_count == 1
    assert list(result.desired.open_values()) == [ValueKey(H2, ALICE, REVENUE, "4")]


def test_weights_sum_across_files_in_exact_decimals(fixture_root: Path) -> None:
    write(fixture_root, "a.yaml", "semester: 2026-H2\nreviewees:\n  alice:\n    revenue: {weight: 33.3}\n")
    write(fixture_root, "b.yaml", "semester: 2026-H2\nreviewees:\n  alice:\n    nps: {weight: 66.7%, target: 1}\n")
    assert validate_root(fixture_root).ok  # 33.3 + 66.7 == 100 exactly (floats would say 100.00000000000001)
    write(fixture_root, "b.yaml", "semester: 2026-H2\nreviewees:\n  alice:\n    nps: {weight: 66.71%, target: 1}\n")
    result = validate_root(fixture_root, root_display="m")
    [p] = result.problems
    assert p.code == "weights-over-100" and (p.file, p.line) == ("m/a.yaml", 4)
    assert "100.01%" in p.text(redact=False) and "m/b.yaml:4" in p.text(redact=False)
    assert "100.01" not in p.text(redact=True)


def test_every_problem_is_reported_not_just_the_first(fixture_root: Path) -> None:
    for i in range(3):
        write(
            fixture_root,
            f"f{i}.yaml",
            "semester: 2026-H2\nreviewees:\n  alice:\n    revenue: {target: x}\n  nobody:\n    revenue: {target: 1}\n",
        )
    result = validate_root(fixture_root)
    codes = sorted(p.code for p in result.problems)
    assert codes.count("bad-number") == 3 and codes.count("unknown-person") == 3


def test_people_must_be_aliases_with_user_id(fixture_root: Path) -> None:
    write(fixture_root, "syncer.yaml", "target: {user_id_type: user_id}\n")
    cat = (
        (fixture_root / "catalog.yaml")
        .read_text()
        .replace("ou_3245842393d09e9428ad4655da6e30b3", "u123")
        .replace("ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9", "u456")
    )
    (fixture_root / "catalog.yaml").write_text(cat)
    write(
        fixture_root,
        "a.yaml",
        "semester: 2026-H2\nreviewees:\n  alice: {revenue: {owner: bob}}\n  u123: {revenue: {owner: u456}}\n",
    )
    result = validate_root(fixture_root)
    assert [(p.line, p.code) for p in result.problems] == [(4, "unknown-person"), (4, "unknown-person")]
    assert "raw IDs can't be told apart" in result.problems[0].text(redact=False)
    assert result.problems[1].line == 4 and result.problems[1].col == 27


def test_missing_root_and_catalog_are_problems_not_crashes(tmp_path: Path) -> None:
    result = validate_root(tmp_path / "nope", root_display="nope")
    assert [p.code for p in result.problems] == ["missing-root"]
    result = validate_root(tmp_path)
    assert [p.code for p in result.problems] == ["missing-catalog"]


def test_invalid_catalog_skips_data_checks_but_still_loads_files(fixture_root: Path) -> None:
    (fixture_root / "catalog.yaml").write_text("semesters: {}\n")
    write(fixture_root, "a.yaml", "semester: x\nreviewees:\n  a: {b: {c: 1}}\n  a: {}\n")
    codes = [p.code for p in validate_root(fixture_root).problems]
    assert "duplicate-key" in codes and "schema" in codes and "unknown-person" not in codes


def test_init_output_validates(tmp_path: Path) -> None:
    from syncer.scaffold import init_root

    init_root(tmp_path / "new")
    result = validate_root(tmp_path / "new")
    assert result.problems == [] and result.value_count == 5


def test_copy_of_example_with_a_break_reports_file_line_col(tmp_path: Path) -> None:
    root = tmp_path / "metrics"
    copy_example(root)
    sales = root / "teams" / "sales.yaml"
    sales.write_text(sales.read_text().replace("weight: 60%", "weight: 60 percent", 1))
    result = validate_root(root, root_display="metrics")
    [p] = result.problems
    assert p.file == "metrics/teams/sales.yaml" and p.code == "bad-percentage" and p.line > 3


def test_aliases_may_be_chinese_names(fixture_root: Path) -> None:
    cat = (fixture_root / "catalog.yaml").read_text().replace("  alice:", "  张三:")
    (fixture_root / "catalog.yaml").write_text(cat)
    write(fixture_root, "a.yaml", "semester: 2026-H2\nreviewees:\n  张三:\n    revenue: {owner: bob, note: 完成}\n")
    result = validate_root(fixture_root)
    assert result.problems == [] and result.desired is not None
    assert ValueKey(H2, ALICE, REVENUE, "7") in result.desired.values
