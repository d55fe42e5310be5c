"""syncer.yaml: the settings of a metrics root as frozen data (every key has a default), and their loading:
schema checks, then the rules the schema cannot say (plain http only to loopback)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from syncer.errors import InsecureBaseURLError
from syncer.load.files import SETTINGS_FILE, display_path
from syncer.load.yamlnodes import MapNode, Scalar, SeqNode, text_of
from syncer.load.yamlread import read_tree_bytes
from syncer.model import UserIdType
from syncer.problems import Problem
from syncer.urls import check_base_url

if TYPE_CHECKING:
    from syncer.load.settingscache import SettingsCache

DEFAULT_BASE_URL = "https://open.feishu.cn"
DEFAULT_MAX_FILE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Target:
    base_url: str = DEFAULT_BASE_URL
    user_id_type: UserIdType = "open_id"
    import_per_minute: int = 10
    percentage_format: str = "40%"  # "40%" or "40"


@dataclass(frozen=True, slots=True)
class StateSettings:
    backend: str = "local"  # local | git | postgres
    path: str = ".syncer/state"
    branch: str = "syncer-state"
    remote: str = "origin"
    lock_lease: int = 900  # git backend: seconds a lock lasts unless its holder renews it (as it writes)
    name: str = ""  # postgres backend: which state of the database (required there)
    dsn_env: str = "SYNCER_PG_DSN"  # postgres backend: the variable holding the DSN


@dataclass(frozen=True, slots=True)
class Safety:
    max_update_ratio: float = 0.3
    max_forget_ratio: float = 0.3
    min_existing: int = 10


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """`notify:`: where cards go. The webhook URL and its secret are read from the environment variables named
    here, never from a file (syncer.notify.send); off when neither transport is set."""

    webhook_env: str = ""  # the variable holding the custom bot's webhook URL
    secret_env: str = ""  # the variable holding its signing secret (optional)
    chat_id: str = ""  # the app bot posts to this group
    events: tuple[str, ...] = ("apply", "drift")  # sorted, once each: a repr the same in every process
    timeout_seconds: float = 5.0

    @property
    def enabled(self) -> bool:
        return bool(self.webhook_env or self.chat_id)


@dataclass(frozen=True, slots=True)
class Settings:
    target: Target = field(default_factory=Target)
    import_record_name: str = "syncer {short_sha}"
    exclude: tuple[str, ...] = ()
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    state: StateSettings = field(default_factory=StateSettings)
    safety: Safety = field(default_factory=Safety)
    notify: NotifySettings = field(default_factory=NotifySettings)
    language: str = "auto"  # the readers' language: auto (the locale) | zh-CN | en (syncer.i18n.language_from)
    #: syncer.yaml has a `rules:` key (syncer.rules.load reads the file for them only then).
    has_rules: bool = False


def _int(text: str) -> int:
    """A whole number as an editor reads it (10, 10.0, 1e1); the schema has already refused fractions."""
    from decimal import Decimal

    return int(Decimal(text))


def load_settings(
    root: Path, root_display: str, *, cache: SettingsCache | None = None
) -> tuple[Settings, list[Problem]]:
    """syncer.yaml (optional). Problems leave the defaults in place for what they concern. With `cache`
    (syncer.load.settingscache), settings read from the same bytes before, without problems, are reused."""
    path = root / SETTINGS_FILE
    display = display_path(root_display, SETTINGS_FILE)
    if not path.is_file() and not path.is_symlink():
        return Settings(), []
    data = read_tree_bytes(path, display, max_bytes=DEFAULT_MAX_FILE_BYTES)
    if isinstance(data, Problem):
        return Settings(), [data]
    cached = cache.get(data) if cache is not None else None
    if cached is not None:
        return cached, []
    settings, problems = _read(data, display)
    if cache is not None and not problems:
        cache.put(data, settings)
    return settings, problems


def _read(data: bytes, display: str) -> tuple[Settings, list[Problem]]:
    from syncer.load.schema import check  # with the YAML parser: not on a run the cache answers for
    from syncer.load.yamlparse import parse_tree

    tree, problems = parse_tree(data, display)
    if problems or tree is None:
        return Settings(), problems
    problems = check("syncer", tree, display)
    if problems or not isinstance(tree, MapNode):
        return Settings(), problems
    s = Settings(has_rules=tree.get("rules") is not None)
    target = tree.get("target")
    if isinstance(target, MapNode):
        t = s.target
        base_url = text_of(target.get("base_url"))
        if base_url is not None:
            try:
                check_base_url(base_url, origin="target.base_url")
            except InsecureBaseURLError as exc:
                node = target.get("base_url")
                assert node is not None
                problems.append(
                    Problem(
                        display, node.line, node.col, "error", "insecure-url" if exc.insecure else "bad-url", str(exc)
                    )
                )
            t = replace(t, base_url=base_url.rstrip("/"))
        if (v := text_of(target.get("user_id_type"))) is not None:
            t = replace(t, user_id_type=cast(UserIdType, v))
        if (v := text_of(target.get("import_per_minute"))) is not None:
            t = replace(t, import_per_minute=_int(v))
        if (v := text_of(target.get("percentage_format"))) is not None:
            t = replace(t, percentage_format=v)
        s = replace(s, target=t)
    if (v := text_of(tree.get("import_record_name"))) is not None:
        s = replace(s, import_record_name=v)
    exclude = tree.get("exclude")
    if isinstance(exclude, SeqNode):
        s = replace(s, exclude=tuple(n.text for n in exclude.items if isinstance(n, Scalar) and n.text))
    if (v := text_of(tree.get("language"))) is not None:
        s = replace(s, language=v)
    if (v := text_of(tree.get("max_file_bytes"))) is not None:
        s = replace(s, max_file_bytes=_int(v))
    state = tree.get("state")
    if isinstance(state, MapNode):
        st = StateSettings()
        texts = {
            key: v
            for key in ("backend", "path", "branch", "remote", "name", "dsn_env")
            if (v := text_of(state.get(key))) is not None
        }
        st = replace(
            st,
            backend=texts.get("backend", st.backend),
            path=texts.get("path", st.path),
            branch=texts.get("branch", st.branch),
            remote=texts.get("remote", st.remote),
            name=texts.get("name", st.name),
            dsn_env=texts.get("dsn_env", st.dsn_env),
        )
        if (v := text_of(state.get("lock_lease"))) is not None:
            st = replace(st, lock_lease=_int(v))
        s = replace(s, state=st)
    safety = tree.get("safety")
    if isinstance(safety, MapNode):
        sa = Safety()
        if (v := text_of(safety.get("max_update_ratio"))) is not None:
            sa = replace(sa, max_update_ratio=float(v))
        if (v := text_of(safety.get("max_forget_ratio"))) is not None:
            sa = replace(sa, max_forget_ratio=float(v))
        if (v := text_of(safety.get("min_existing"))) is not None:
            sa = replace(sa, min_existing=_int(v))
        s = replace(s, safety=sa)
    notify = tree.get("notify")
    if isinstance(notify, MapNode):
        s = replace(s, notify=_notify(notify))
    return s, problems


def _notify(node: MapNode) -> NotifySettings:
    n = NotifySettings()
    texts = {key: v for key in ("webhook_env", "secret_env", "chat_id") if (v := text_of(node.get(key))) is not None}
    n = replace(n, webhook_env=texts.get("webhook_env", ""), secret_env=texts.get("secret_env", ""))
    n = replace(n, chat_id=texts.get("chat_id", ""))
    events = node.get("events")
    if isinstance(events, SeqNode):
        n = replace(n, events=tuple(sorted({i.text for i in events.items if isinstance(i, Scalar) and i.text})))
    if (v := text_of(node.get("timeout_seconds"))) is not None:
        n = replace(n, timeout_seconds=float(v))
    return n
