"""syncer.yaml's settings as read from a file found valid, kept between runs beside the check cache
(syncer.load.cache), so that a command whose syncer.yaml did not change neither parses it nor checks it
against its schema: with the check cache and the built catalog warm, that parse was the only reason
`validate` imported the YAML parser, a tenth of the run of a pre-commit hook.

An entry is used only for the same bytes of syncer.yaml, the same settings schema and the same syncer
(version, this format, Python's marshal and bytecode tags): the settings are a pure function of those, so
a run that uses the entry has the settings a cold run reads. Only settings without problems are kept.

Where: a file per metrics root (by absolute path) in the cache's top directory, used only when that
directory is private (0700, this user's) as the check cache's are; the entry is stdlib `marshal` data
behind a sha256 seal (syncer.fsio.read_sealed). Like CheckCache, this never raises: anything wrong makes
the run parse syncer.yaml again.
"""

from __future__ import annotations

import hashlib
from dataclasses import astuple
from pathlib import Path
from typing import Any

from syncer.load.schema import schema_bytes
from syncer.load.sealedentry import SealedEntry, entry_key
from syncer.load.settings import NotifySettings, Safety, Settings, StateSettings, Target

#: Bump when Settings, or its encoding here, changes in a way the version would not show.
SETTINGS_FORMAT = 1
SETTINGS_MAGIC = b"syncer-settings\n"


def settings_path(base: Path, root: Path) -> Path:
    """The entry of one metrics root (by absolute path) in the cache's top directory, beside the check
    cache's directories (which are per target too: the settings name the target, so cannot be found there)."""
    where = f"syncer-settings\0{root.resolve()}"
    return base / (hashlib.sha256(where.encode("utf-8", "surrogatepass")).hexdigest()[:24] + ".settings")


class SettingsCache(SealedEntry):
    """The settings read from one metrics root's syncer.yaml (a file in the cache's top directory)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SETTINGS_MAGIC)

    @staticmethod
    def key(data: bytes) -> str:
        """What the settings read from `data` depend on besides syncer's code."""
        return entry_key("settings", SETTINGS_FORMAT, schema_bytes("syncer"), data)

    def get(self, data: bytes) -> Settings | None:
        doc = self.read(self.key(data))
        if doc is None:
            return None
        try:
            return _decode(doc["settings"])
        except (ValueError, KeyError, TypeError):
            return None  # damaged or foreign: syncer.yaml is parsed again and the entry rewritten

    def put(self, data: bytes, settings: Settings) -> None:
        self.write(self.key(data), {"settings": astuple(settings)})


def _decode(t: Any) -> Settings:
    target, name, exclude, max_bytes, state, safety, notify, language, has_rules = t
    if not (type(target) is type(state) is type(safety) is type(notify) is tuple and type(exclude) is tuple):
        raise TypeError("not an entry of this format")
    webhook_env, secret_env, chat_id, events, timeout = notify
    return Settings(
        target=Target(*target),
        import_record_name=name,
        exclude=exclude,
        max_file_bytes=max_bytes,
        state=StateSettings(*state),
        safety=Safety(*safety),
        notify=NotifySettings(webhook_env, secret_env, chat_id, tuple(events), timeout),
        language=language,
        has_rules=has_rules,
    )
