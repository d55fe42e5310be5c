"""`syncer init` and `syncer schema export`: write a new metrics root, or just the JSON Schemas."""

from __future__ import annotations

import os
from pathlib import Path

from syncer.errors import SyncerError
from syncer.load.schema import schema_files

SCHEMA_SUBDIR = ".schemas"

SETTINGS_TEMPLATE = """\
# yaml-language-server: $schema={schemas}/syncer.schema.json
# Settings of this metrics root. Every key is optional; the values below are the defaults.
target:
  base_url: https://open.feishu.cn   # https://open.larksuite.com for Lark
  user_id_type: open_id              # open_id | union_id | user_id | people_admin_id
  import_per_minute: 10              # the tenant's quota for metric_details/import
  percentage_format: "40%"           # how percentages are sent: "40%" or "40"
import_record_name: "syncer {{short_sha}}"
language: auto                       # cards, workbooks, HTML reports: auto (the locale), zh-CN or en
exclude: []                          # globs of YAML files below this root that are not data
state:
  backend: local                     # local, or git (state on a branch: for CI)
  path: .syncer/state
safety:
  max_update_ratio: 0.3
  max_forget_ratio: 0.3
  min_existing: 10
"""

CATALOG_TEMPLATE = """\
# yaml-language-server: $schema={schemas}/catalog.schema.json
# What the aliases in the data files mean in Feishu. Replace the IDs with your tenant's.
semesters:
  2026-H2: "7293040702907514899"                       # alias: semester ID (周期 ID)
  # 2026-H1: {{id: "7250000000000000001", closed: true}}  # closed: left out of every plan

metrics:
  revenue:
    id: "7272580325522276372"                          # the metric's ID in the metric library
    fields:
      weight: {{id: "2", type: percentage, role: weight}}
      target: {{id: "4", type: number}}
      actual: {{id: "5", type: number}}
      note:   {{id: "7", type: text, max_length: 500}}
      owner:  {{id: "7283776005142675476", type: person}}

people:
  alice: ou_3245842393d09e9428ad4655da6e30b3            # alias: user ID (of target.user_id_type)
  bob: {{id: ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9, email: bob@example.com}}
"""

DATA_TEMPLATE = """\
# yaml-language-server: $schema={schemas}/data.schema.json
# One semester's key-metric values. Values are read as the text you type: 40% and 40 are the same weight.
semester: 2026-H2
reviewees:
  alice:
    revenue:
      weight: 40%
      target: 1200000
      actual: 1310000
      note: "Closed the two largest renewals early."
      owner: bob
"""

GITIGNORE = "# syncer's local state and lock (use the git backend to share state in CI)\n.syncer/\n"


def example_root() -> Path:
    """The example metrics root: shipped in the wheel as syncer/example_metrics, at the top of a checkout."""
    from importlib import resources

    packaged = resources.files("syncer") / "example_metrics"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "metrics"


def export_schemas(dest: Path) -> list[Path]:
    """Copy every shipped JSON Schema into `dest`. Returns the files written."""
    written = []
    for src in schema_files():
        target = dest / src.name
        _write(target, src.read_text(encoding="utf-8"))
        written.append(target)
    return written


def init_root(dest: Path, *, force: bool = False) -> list[Path]:
    """Scaffold a metrics root in `dest`: settings, a catalog skeleton, one data file, the schemas under
    `.schemas/` and a .gitignore for the local state. Refuses to overwrite files unless `force`."""
    files = {
        dest / "syncer.yaml": SETTINGS_TEMPLATE.format(schemas=SCHEMA_SUBDIR),
        dest / "catalog.yaml": CATALOG_TEMPLATE.format(schemas=SCHEMA_SUBDIR),
        dest / "teams" / "example.yaml": DATA_TEMPLATE.format(schemas=f"../{SCHEMA_SUBDIR}"),
        dest / ".gitignore": GITIGNORE,
    }
    if dest.exists() and not dest.is_dir():
        raise SyncerError(f"{dest.as_posix()} exists and is not a directory")
    existing = [p for p in files if p.exists()]
    if existing and not force:
        names = ", ".join(p.as_posix() for p in existing)
        raise SyncerError(f"{names} already exist(s); choose an empty directory or pass --force to overwrite")
    written = []
    for path, text in files.items():
        _write(path, text)
        written.append(path)
    written += export_schemas(dest / SCHEMA_SUBDIR)
    return written


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise SyncerError(f"cannot write {path.as_posix()}: {exc.strerror or exc}") from exc
