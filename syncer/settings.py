"""Settings of a metrics root (syncer.yaml) as frozen data, with the defaults of design.md."""

from __future__ import annotations

from dataclasses import dataclass, field

from syncer.model import UserIdType

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
    backend: str = "local"  # local | git
    path: str = ".syncer/state"
    branch: str = "syncer-state"
    remote: str = "origin"


@dataclass(frozen=True, slots=True)
class Safety:
    max_update_ratio: float = 0.3
    max_forget_ratio: float = 0.3
    min_existing: int = 10


@dataclass(frozen=True, slots=True)
class Settings:
    target: Target = field(default_factory=Target)
    import_record_name: str = "syncer {short_sha}"
    exclude: tuple[str, ...] = ()
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    state: StateSettings = field(default_factory=StateSettings)
    safety: Safety = field(default_factory=Safety)
