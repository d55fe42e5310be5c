"""Projects not started (syncer.apply.projects) and the diagnosis of a 1580306 they explain."""

from __future__ import annotations

from syncer.apply.diagnose import likely_cause
from syncer.apply.projects import activity_problems, blocking_project
from syncer.feishu.setup_records import Activity

H2 = "7293040702907514899"


def _act(aid: str, progress: str | None, semester: str | None = H2, name: str = "H2 review") -> Activity:
    return Activity(aid, {"en_us": name, "zh_cn": "下半年"}, semester, progress)


def test_initiating_configurable_and_unable_projects_are_not_started() -> None:
    acts = [
        _act(str(i), p)
        for i, p in enumerate(["initiating", "configurable", "unable", "enabled", "finished", None, "new"])
    ]
    assert [(p.activity_id, p.progress) for p in activity_problems(acts, semester_id=H2)] == [
        ("0", "initiating"),
        ("1", "configurable"),
        ("2", "unable"),
    ]


def test_projects_of_another_semester_are_left_out() -> None:
    assert activity_problems([_act("1", "initiating", semester="1")], semester_id=H2) == []


def test_the_message_names_the_project_says_what_to_do_and_is_one_inert_line() -> None:
    [p] = activity_problems([_act("71", "initiating", name="Q3\n\x1b[31mreview")], semester_id=H2)
    assert p.message == (
        "the project 'Q3\\n\\x1b[31mreview' ('71') is not started (Feishu: initiating): a Performance admin starts "
        "it in Feishu, then apply again"
    )


def test_a_project_is_named_in_english_then_chinese_then_any_language_then_by_its_id() -> None:
    names = [
        {"ja_jp": "日本語", "zh_cn": "下半年", "en_us": "H2 review"},
        {"ja_jp": "日本語", "zh_cn": "下半年"},
        {"ja_jp": "日本語", "en_us": ""},
        {"zh_cn": "", "en_us": ""},
    ]
    acts = [Activity(str(i), n, H2, "initiating") for i, n in enumerate(names)]
    assert [p.name for p in activity_problems(acts, semester_id=H2)] == ["H2 review", "下半年", "日本語", "3"]


def test_a_reviewee_is_blocked_only_when_every_one_of_their_projects_is_not_started() -> None:
    problems = activity_problems([_act("1", "initiating"), _act("2", "enabled"), _act("3", "unable")], semester_id=H2)
    assert blocking_project(("1", "3"), problems) == problems[0]
    assert blocking_project(("3", "1"), problems) == problems[1]
    assert blocking_project(("1", "2"), problems) is None
    assert blocking_project((), problems) is None


def test_a_shared_1580306_names_the_projects_not_started_else_keeps_the_general_advice() -> None:
    assert likely_cause(1580306, [], percentage_format="40%", not_started=["a", "b"]) == "a; b"
    assert "check the semester" in likely_cause(1580306, [], percentage_format="40%")
