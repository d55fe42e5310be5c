"""`syncer catalog pull`: Feishu's semesters, metric library (with each field's type and input setting) and
metric templates (weight rule, dimensions) merged into catalog.yaml without touching what the user wrote
(syncer.live.merge does the text).

Requests: v1 semesters (1, at 10 a minute), metric_libs/query and metric_templates/query (one per page of
50 each), metric_fields/query (one per 50 field IDs of the library), each paced at its quota by `LiveReader`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from syncer.feishu.client import METRIC_FIELDS_QUERY, METRIC_LIBS_QUERY, METRIC_TEMPLATES_QUERY, SEMESTERS_LIST
from syncer.fsio import atomic_write
from syncer.live.merge import merge_catalog
from syncer.live.pulled import Addition, PulledCatalog, PulledField, PulledMetric
from syncer.live.reader import PAGE_SIZE, LiveReader, requests_for
from syncer.load.catalog import catalog_from_text
from syncer.load.files import CATALOG_FILE, display_path
from syncer.load.settings import Settings
from syncer.load.yamlread import read_text_bytes
from syncer.model import UserIdType
from syncer.problems import Problem


def _id_key(fid: str) -> tuple[int, str]:
    return (int(fid), fid) if fid.isdigit() else (1 << 64, fid)


def fetch_catalog(reader: LiveReader, *, user_id_type: UserIdType) -> PulledCatalog:
    """Read the semesters, the metric library (every page) and the library's field definitions."""
    reader.expect(SEMESTERS_LIST, 1)
    reader.expect(METRIC_LIBS_QUERY, 1)
    reader.expect(METRIC_TEMPLATES_QUERY, 1)
    client = reader.client
    semesters = client.list_semesters(user_id_type=user_id_type)
    library = client.query_metric_libs(user_id_type=user_id_type, page_size=PAGE_SIZE)
    templates = client.query_metric_templates(user_id_type=user_id_type, page_size=PAGE_SIZE)
    ids = sorted({f.field_id for m in library for f in m.fields}, key=_id_key)
    types: dict[str, tuple[dict[str, str], str]] = {}
    if ids:
        reader.expect(METRIC_FIELDS_QUERY, requests_for(len(ids)))
        for info in client.query_metric_fields(field_ids=ids):
            types[info.field_id] = (dict(info.name), info.type)
    metrics = tuple(
        PulledMetric(
            metric_id=m.metric_id,
            name=m.name,
            is_active=m.is_active,
            fields=tuple(
                PulledField(
                    field_id=f.field_id,
                    name=types.get(f.field_id, ({}, ""))[0],
                    type=types[f.field_id][1] if f.field_id in types else None,
                    input_setting=f.input_setting,
                )
                for f in m.fields
            ),
        )
        for m in library
    )
    return PulledCatalog(semesters=tuple(semesters), metrics=metrics, templates=tuple(templates))


@dataclass(frozen=True, slots=True)
class PullResult:
    path: Path
    display: str
    old_text: str | None  # None: there was no catalog.yaml
    new_text: str
    additions: tuple[Addition, ...]
    notes: tuple[str, ...]
    new_problems: tuple[Problem, ...]  # errors the merged text has that the old one did not

    @property
    def changed(self) -> bool:
        return self.new_text != (self.old_text or "")

    def diff(self) -> str:
        """A unified diff of catalog.yaml (empty when nothing changes)."""
        if not self.changed:
            return ""
        old = (self.old_text or "").splitlines(keepends=True)
        new = self.new_text.splitlines(keepends=True)
        lines = difflib.unified_diff(
            old, new, fromfile="/dev/null" if self.old_text is None else f"a/{self.display}", tofile=f"b/{self.display}"
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _errors(text: str, display: str, settings: Settings) -> set[tuple[str, str, str | None]]:
    _, problems = catalog_from_text(text, display, settings)
    return {(p.code, p.message, p.value) for p in problems if p.severity == "error"}


def merge_into_root(
    root: Path, root_display: str, settings: Settings, pulled: PulledCatalog, *, now_ms: int | None = None
) -> PullResult:
    """What catalog.yaml of `root` becomes with `pulled` merged in (nothing is written); semesters that
    ended before `now_ms` (default: now) are added closed."""
    path = root / CATALOG_FILE
    display = display_path(root_display, CATALOG_FILE)
    old = read_text_bytes(path, display, max_bytes=settings.max_file_bytes).decode("utf-8") if path.is_file() else None
    merged = merge_catalog(old, pulled, display=display, now_ms=now_ms)
    before = _errors(old, display, settings) if old is not None else set()
    _, after = catalog_from_text(merged.text, display, settings)
    new = tuple(p for p in after if p.severity == "error" and (p.code, p.message, p.value) not in before)
    return PullResult(path, display, old, merged.text, merged.additions, merged.notes, new)


def write_catalog(result: PullResult) -> None:
    """Replace catalog.yaml atomically with the merged text."""
    result.path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(result.path, result.new_text)
