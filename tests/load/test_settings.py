"""syncer.yaml's `notify:` (syncer.load.settings): off by default, read as written, and a webhook URL written
where the name of its variable belongs is refused by the schema (the URL is a credential: never in a file)."""

from __future__ import annotations

from pathlib import Path

from syncer.load.settings import NotifySettings, load_settings


def settings_of(tmp_path: Path, text: str) -> tuple[NotifySettings, list[str]]:
    (tmp_path / "syncer.yaml").write_text(text, encoding="utf-8")
    s, problems = load_settings(tmp_path, "m")
    return s.notify, [f"{p.line}:{p.col} {p.code}" for p in problems]


def test_notify_is_off_unless_a_transport_is_set(tmp_path: Path) -> None:
    assert not settings_of(tmp_path, "import_record_name: x\n")[0].enabled
    assert not settings_of(tmp_path, "notify:\n  events: [apply]\n")[0].enabled
    assert settings_of(tmp_path, "notify:\n  chat_id: oc_abc\n")[0].enabled


def test_notify_is_read_as_written(tmp_path: Path) -> None:
    text = (
        "notify:\n  webhook_env: HR_HOOK\n  secret_env: HR_HOOK_SECRET\n  chat_id: oc_abc\n"
        "  events: [drift]\n  timeout_seconds: 2.5\n"
    )
    assert settings_of(tmp_path, text) == (
        NotifySettings("HR_HOOK", "HR_HOOK_SECRET", "oc_abc", frozenset({"drift"}), 2.5),
        [],
    )


def test_a_url_where_a_variable_name_belongs_is_refused(tmp_path: Path) -> None:
    notify, problems = settings_of(tmp_path, "notify:\n  webhook_env: https://open.feishu.cn/open-apis/bot/v2/hook/x\n")
    assert problems and not notify.enabled
    assert settings_of(tmp_path, "notify:\n  events: [plan]\n")[1]


def test_language_is_auto_unless_set_and_only_what_syncer_speaks(tmp_path: Path) -> None:
    """`language:` picks the readers' language (syncer.i18n.language_from): auto by default, zh-CN or en."""
    assert load_settings(tmp_path, "m")[0].language == "auto"
    for text, language, problems in (
        ("language: zh-CN\n", "zh-CN", 0),
        ("language: en\n", "en", 0),
        ("language: zh_CN\n", "auto", 1),  # the setting's spelling is the schema's: zh-CN
        ("language: fr\n", "auto", 1),
    ):
        (tmp_path / "syncer.yaml").write_text(text, encoding="utf-8")
        s, found = load_settings(tmp_path, "m")
        assert (s.language, len(found)) == (language, problems), text
