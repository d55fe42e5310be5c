"""The data files of a valid root as the sheet commands see them: each file's text and tree, and every row
(semester, reviewee, metric) with the nodes it is written with, so that an export reads the text typed and
an import edits it in place."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

from syncer.load.catalog import RAW_ID, SEMESTER_ID
from syncer.load.files import NOT_DATA, display_path, walk_files
from syncer.load.validate import ValidationResult
from syncer.load.yamlnodes import MapNode, Scalar
from syncer.load.yamlparse import parse
from syncer.load.yamlread import check_utf8
from syncer.model import Catalog, MetricDef, RowKey


@dataclass(slots=True)
class DataFileInfo:
    path: Path
    rel: str  # relative to the root, POSIX: what the sheet's file column holds
    display: str
    text: str
    bom: bool
    tree: MapNode
    semester_id: str
    reviewees: MapNode
    rows: list[RowInfo] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RowInfo:
    key: RowKey
    file: DataFileInfo
    reviewee_key: Scalar
    reviewee_node: MapNode
    metric_key: Scalar
    metric_node: MapNode
    metric: MetricDef

    def value(self, alias: str) -> Scalar | None:
        node = self.metric_node.get(alias)
        return node if isinstance(node, Scalar) else None


@dataclass(frozen=True, slots=True)
class RootIndex:
    files: dict[str, DataFileInfo]  # by rel
    rows: dict[RowKey, RowInfo]


class Resolver:
    """Aliases and raw IDs to IDs, as validation resolves them."""

    def __init__(self, catalog: Catalog, user_id_type: str) -> None:
        self.catalog = catalog
        self.semesters = {a: s.id for a, s in catalog.semesters.items()}
        self.semester_ids = {s.id for s in catalog.semesters.values()}
        self.people = {a: p.id for a, p in catalog.people.items() if p.id}
        self.raw = RAW_ID.get(user_id_type)

    def semester(self, text: str) -> str | None:
        sid = self.semesters.get(text)
        if sid is not None:
            return sid
        return text if SEMESTER_ID.match(text) else None  # as validation reads a raw semester ID

    def semester_label(self, sid: str) -> str:
        for a, s in self.catalog.semesters.items():
            if s.id == sid:
                return a
        return sid

    def person(self, text: str) -> str | None:
        pid = self.people.get(text)
        if pid is not None:
            return pid
        if self.raw is not None and self.raw.match(text):
            return text
        return None


def index_root(root: Path, root_display: str, result: ValidationResult) -> RootIndex:
    """Every data file of a root that validated (`result.ok`), read again with its text; its tree the one
    validation parsed when it kept it (validate_root's keep_parsed) for the same bytes, else parsed again."""
    settings, catalog = result.settings, result.catalog
    resolve = Resolver(catalog, settings.target.user_id_type)
    paths, _ = walk_files(root, exclude=settings.exclude, skip=NOT_DATA)
    files: dict[str, DataFileInfo] = {}
    rows: dict[RowKey, RowInfo] = {}
    for path in paths:
        rel = path.relative_to(root).as_posix()
        display = display_path(root_display, rel)
        raw = path.read_bytes()  # once: the root was just validated, sizes and links included
        data = check_utf8(raw, display)
        text = data.decode("utf-8")
        kept = result.parsed.get(path)
        tree = kept[1] if kept is not None and kept[0] == data else parse(text, display)
        assert isinstance(tree, MapNode), "a valid data file is a mapping"
        sem, rev = tree.get("semester"), tree.get("reviewees")
        assert isinstance(sem, Scalar) and sem.text is not None and isinstance(rev, MapNode)
        sid = resolve.semester(sem.text)
        assert sid is not None
        info = DataFileInfo(path, rel, display, text, raw.startswith(codecs.BOM_UTF8), tree, sid, rev)
        files[rel] = info
        for rkey, rnode in rev.items:
            assert rkey.text is not None and isinstance(rnode, MapNode)
            pid = resolve.person(rkey.text)
            assert pid is not None
            for mkey, mnode in rnode.items:
                assert mkey.text is not None and isinstance(mnode, MapNode)
                metric = catalog.metrics[mkey.text]
                key = RowKey(sid, pid, metric.id)
                row = RowInfo(key, info, rkey, rnode, mkey, mnode, metric)
                info.rows.append(row)
                rows[key] = row
    return RootIndex(files, rows)
