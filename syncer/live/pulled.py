"""What a catalog pull found in Feishu and what it will add to catalog.yaml: the pulled records, the plan of
additions (decided by syncer.live.merge, placed in the text by syncer.live.placement), and the small readers of
the catalog's tree and of Feishu's names that both steps share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from syncer.feishu.records import Semester
from syncer.feishu.setup_records import MetricTemplateInfo
from syncer.load.yamlnodes import MapNode, Node, Scalar

INPUT_SETTINGS = ("admin", "data_source_inputter", "reviewee")
WEIGHT_FIELD_ID = "2"  # the built-in weight field (docs/feishu-api.md; UNCONFIRMED today)
#: syncer's short aliases for Feishu's built-in fields, by their IDs (docs/feishu-api.md; UNCONFIRMED today).
BUILTIN_FIELD_ALIASES = {"2": "weight", "3": "unit", "4": "target", "5": "actual", "7": "note"}
SECTIONS = ("semesters", "metrics", "templates", "people")


@dataclass(frozen=True, slots=True)
class PulledField:
    field_id: str
    name: Mapping[str, str]
    type: str | None  # as syncer.feishu.records names it; None when metric_fields/query did not say
    input_setting: str | None


@dataclass(frozen=True, slots=True)
class PulledMetric:
    metric_id: str
    name: str | None
    is_active: bool | None
    fields: tuple[PulledField, ...]


@dataclass(frozen=True, slots=True)
class PulledCatalog:
    """What Feishu says: its semesters, its metric library with each field's type and input setting, and its
    metric templates."""

    semesters: tuple[Semester, ...]
    metrics: tuple[PulledMetric, ...]
    templates: tuple[MetricTemplateInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class Addition:
    kind: Literal["semester", "metric", "field", "template"]
    alias: str
    id: str
    metric: str | None = None  # the metric alias of a field


@dataclass(frozen=True, slots=True)
class MergeResult:
    text: str
    additions: tuple[Addition, ...]
    notes: tuple[str, ...]


@dataclass
class MergePlan:
    """What to add, before it is placed in the text."""

    now_ms: int
    semesters: list[tuple[str, Semester]] = field(default_factory=list)
    metrics: list[tuple[str, PulledMetric, list[tuple[str, PulledField]]]] = field(default_factory=list)
    fields: dict[str, list[tuple[str, PulledField]]] = field(default_factory=dict)  # existing metric alias ->
    templates: list[tuple[int, str]] = field(default_factory=list)  # the new templates' lines (depth, text)
    notes: list[str] = field(default_factory=list)
    additions: dict[str, list[Addition]] = field(default_factory=dict)  # by group: semesters, metrics, a metric

    def add(self, group: str, addition: Addition) -> None:
        self.additions.setdefault(group, []).append(addition)


def feishu_names(name: Mapping[str, str] | str | None) -> list[str]:
    if name is None:
        return []
    if isinstance(name, str):
        return [name]
    return [name[k] for k in ("en_us", "zh_cn") if name.get(k)] + [
        v for k, v in sorted(name.items()) if k not in ("en_us", "zh_cn") and v
    ]


def names_comment(names: Iterable[str], extra: str = "") -> str:
    seen: list[str] = []
    for n in names:
        clean = " ".join("".join(c if c.isprintable() else " " for c in n).split())
        if clean and clean not in seen:
            seen.append(clean)
    text = " / ".join(seen)[:100] + extra
    return f"   # {text}" if text else ""


def ended(s: Semester, now_ms: int) -> str | None:
    """The day (UTC) a semester Feishu lists ended, when that is before `now_ms`; else None."""
    end = s.end_time
    if end is None or not end.isdigit() or int(end) >= now_ms:
        return None
    return datetime.fromtimestamp(int(end) / 1000, UTC).date().isoformat()


def section(tree: MapNode | None, name: str) -> tuple[Scalar | None, Node | None]:
    if tree is None:
        return None, None
    return tree.key(name), tree.get(name)


def items(node: Node | None) -> list[tuple[Scalar, Node]]:
    return node.items if isinstance(node, MapNode) else []


def is_closed(node: Node) -> bool:
    flag = node.get("closed") if isinstance(node, MapNode) else None
    return isinstance(flag, Scalar) and flag.text in ("true", "True", "TRUE")
