"""Merging what Feishu's metric library holds into catalog.yaml, as text: never a re-dump.

The user's catalog is theirs: comments, aliases, order, quoting and spacing stay exactly as written.
Entries are matched by ID; those already present are left alone (differences are reported as notes), and
only new entries are added, as new lines in the file's own style (its indentation step, flow mappings for
fields, quoted IDs), placed with the line numbers the loader keeps: after the last line of the mapping they
belong to. Pure: text in, text out.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from syncer.edit.lines import TextEdits
from syncer.errors import ConfigError, LoadError
from syncer.feishu.records import Semester
from syncer.fieldtypes import FIELD_TYPES
from syncer.load.catalog import ANY_RAW_ID, SEMESTER_ID
from syncer.load.yamlnodes import MapNode, Node, Scalar
from syncer.load.yamlparse import parse
from syncer.text import slug

INPUT_SETTINGS = ("admin", "data_source_inputter", "reviewee")
WEIGHT_FIELD_ID = "2"  # the built-in weight field (docs/feishu-api.md; UNCONFIRMED today)
#: syncer's short aliases for Feishu's built-in fields, by their IDs (docs/feishu-api.md; UNCONFIRMED today).
BUILTIN_FIELD_ALIASES = {"2": "weight", "3": "unit", "4": "target", "5": "actual", "7": "note"}
SECTIONS = ("semesters", "metrics", "people")
_NULL_LINE = re.compile(r"^(?P<head>\s*[^#\s][^#]*?:)\s*(?:~|null|Null|NULL)?\s*(?P<comment>#.*)?$")


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
    """What Feishu says: its semesters and its metric library with each field's type and input setting."""

    semesters: tuple[Semester, ...]
    metrics: tuple[PulledMetric, ...]


@dataclass(frozen=True, slots=True)
class Addition:
    kind: Literal["semester", "metric", "field"]
    alias: str
    id: str
    metric: str | None = None  # the metric alias of a field


@dataclass(frozen=True, slots=True)
class MergeResult:
    text: str
    additions: tuple[Addition, ...]
    notes: tuple[str, ...]


# --- aliases ----------------------------------------------------------------------------------------------


def _names(name: Mapping[str, str] | str | None) -> list[str]:
    if name is None:
        return []
    if isinstance(name, str):
        return [name]
    return [name[k] for k in ("en_us", "zh_cn") if name.get(k)] + [
        v for k, v in sorted(name.items()) if k not in ("en_us", "zh_cn") and v
    ]


def new_alias(names: Iterable[str], *, taken: set[str], fallback: str, sep: str, keep_case: bool = False) -> str:
    """The first name that slugs to a usable alias (else `fallback`), made unique against `taken`."""
    base = ""
    for n in names:
        base = slug(n, sep=sep, keep_case=keep_case)
        if base:
            break
    if not base:
        base = fallback
    elif SEMESTER_ID.match(base):  # an alias must not look like an ID
        base = f"{fallback}{sep}{base}" if not fallback.endswith(base) else fallback
    if ANY_RAW_ID.match(base):
        base = f"x{sep}{base}"
    alias = base
    suffix = 2
    while alias in taken:
        alias = f"{base}{sep}{suffix}"
        suffix += 1
    taken.add(alias)
    return alias


def field_alias(f: PulledField, *, known: Mapping[str, str], taken: set[str]) -> str:
    """A new field's alias: the one the catalog already gives this field ID in another metric, else
    syncer's short alias of a built-in field, else a slug of Feishu's name; unique within its metric."""
    for candidate in (known.get(f.field_id), BUILTIN_FIELD_ALIASES.get(f.field_id)):
        if candidate and candidate not in taken:
            taken.add(candidate)
            return candidate
    return new_alias(_names(f.name), taken=taken, fallback=f"field_{f.field_id[-6:]}", sep="_")


def ended(s: Semester, now_ms: int) -> str | None:
    """The day (UTC) a semester Feishu lists ended, when that is before `now_ms`; else None."""
    end = s.end_time
    if end is None or not end.isdigit() or int(end) >= now_ms:
        return None
    return datetime.fromtimestamp(int(end) / 1000, UTC).date().isoformat()


def _comment(names: Iterable[str], extra: str = "") -> str:
    seen: list[str] = []
    for n in names:
        clean = " ".join("".join(c if c.isprintable() else " " for c in n).split())
        if clean and clean not in seen:
            seen.append(clean)
    text = " / ".join(seen)[:100] + extra
    return f"   # {text}" if text else ""


# --- reading the existing file ---------------------------------------------------------------------------


def _ids(node: Node | None) -> str | None:
    if isinstance(node, Scalar):
        return node.text
    if isinstance(node, MapNode):
        inner = node.get("id")
        return inner.text if isinstance(inner, Scalar) else None
    return None


# --- the merge --------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """What to add, before it is placed in the text."""

    now_ms: int
    semesters: list[tuple[str, Semester]] = field(default_factory=list)
    metrics: list[tuple[str, PulledMetric, list[tuple[str, PulledField]]]] = field(default_factory=list)
    fields: dict[str, list[tuple[str, PulledField]]] = field(default_factory=dict)  # existing metric alias ->
    notes: list[str] = field(default_factory=list)
    additions: dict[str, list[Addition]] = field(default_factory=dict)  # by group: semesters, metrics, a metric

    def add(self, group: str, addition: Addition) -> None:
        self.additions.setdefault(group, []).append(addition)


def merge_catalog(
    text: str | None, pulled: PulledCatalog, *, display: str = "catalog.yaml", now_ms: int | None = None
) -> MergeResult:
    """`text` (None: no catalog yet) with what `pulled` adds. Existing entries keep every character.
    Semesters that ended before `now_ms` (default: now) are added closed."""
    source = text or ""
    duplicates: list[LoadError] = []
    tree = parse(source, display, duplicates=duplicates)
    if duplicates:
        raise ConfigError(f"{duplicates[0]}; fix the duplicate keys of {display} before pulling")
    if tree is not None and not isinstance(tree, MapNode):
        raise ConfigError(f"{display} must be a mapping with semesters:, metrics: and people:; fix it first")
    plan = _decide(tree, pulled, now_ms=now_ms if now_ms is not None else int(time.time() * 1000))
    doc = TextEdits(source)
    _place(doc, tree, plan)
    additions = tuple(a for group in plan.additions.values() for a in group)
    new_text = doc.render() if doc.inserts else source
    return MergeResult(new_text, additions, tuple(plan.notes))


def _section(tree: MapNode | None, name: str) -> tuple[Scalar | None, Node | None]:
    if tree is None:
        return None, None
    return tree.key(name), tree.get(name)


def _items(node: Node | None) -> list[tuple[Scalar, Node]]:
    return node.items if isinstance(node, MapNode) else []


def _usable_fields(metric: PulledMetric, notes: list[str], label: str) -> list[PulledField]:
    out = []
    for f in metric.fields:
        if f.type not in FIELD_TYPES:
            why = "its type is unknown" if f.type is None else f"its type {f.type!r} is not one syncer writes"
            notes.append(f"{label}: field {f.field_id} left out: {why}")
            continue
        out.append(f)
    return out


def _known_field_aliases(met_node: Node | None) -> dict[str, str]:
    """Field ID -> the alias the catalog gives it (its first metric's, in the file's order)."""
    known: dict[str, str] = {}
    for _, v in _items(met_node):
        fnode = v.get("fields") if isinstance(v, MapNode) else None
        for k, fdef in _items(fnode):
            fid = _ids(fdef)
            if fid is not None and k.text:
                known.setdefault(fid, k.text)
    return known


def _decide(tree: MapNode | None, pulled: PulledCatalog, *, now_ms: int) -> _Plan:
    plan = _Plan(now_ms=now_ms)
    _, sem_node = _section(tree, "semesters")
    sem_taken = {k.text or "" for k, _ in _items(sem_node)}
    sem_ids = {sid: k.text or "" for k, v in _items(sem_node) if (sid := _ids(v)) is not None}
    remote_sems = {s.id for s in pulled.semesters}
    for s in pulled.semesters:
        if s.id in sem_ids:
            continue
        alias = new_alias(_names(s.name), taken=sem_taken, fallback=f"semester-{s.id[-6:]}", sep="-", keep_case=True)
        plan.semesters.append((alias, s))
        plan.add("semesters", Addition("semester", alias, s.id))
    for sid, sem_alias in sem_ids.items():
        if sid not in remote_sems:
            plan.notes.append(f"semester {sem_alias!r} ({sid}) is not among the semesters Feishu lists; kept as is")
    closed = {sid for k, v in _items(sem_node) if (sid := _ids(v)) is not None and _is_closed(v)}
    for s in pulled.semesters:
        day = ended(s, now_ms)
        if s.id in sem_ids and s.id not in closed and day is not None:
            plan.notes.append(
                f"semester {sem_ids[s.id]!r} ({s.id}) ended on {day} in Feishu: once its input deadline has "
                "passed, mark it `closed: true` (no API gives the deadline)"
            )

    _, met_node = _section(tree, "metrics")
    known_fields = _known_field_aliases(met_node)
    met_taken = {k.text or "" for k, _ in _items(met_node)}
    existing: dict[str, tuple[str, Node]] = {}
    for k, v in _items(met_node):
        mid = _ids(v)
        if mid is not None and k.text is not None:
            existing[mid] = (k.text, v)
    remote_metrics = {m.metric_id for m in pulled.metrics}
    for m in pulled.metrics:
        label = f"metric {m.name or m.metric_id!r} ({m.metric_id})"
        if m.metric_id in existing:
            alias, node = existing[m.metric_id]
            _existing_fields(plan, alias, node, m, known_fields)
            continue
        usable = _usable_fields(m, plan.notes, label)
        if not usable:
            plan.notes.append(f"{label} left out: none of its fields has a type syncer writes")
            continue
        alias = new_alias(_names(m.name), taken=met_taken, fallback=f"metric_{m.metric_id[-6:]}", sep="_")
        taken: set[str] = set()
        fields = [(field_alias(f, known=known_fields, taken=taken), f) for f in usable]
        plan.metrics.append((alias, m, fields))
        plan.add("metrics", Addition("metric", alias, m.metric_id))
        for fa, f in fields:
            plan.add("metrics", Addition("field", fa, f.field_id, alias))
    for mid, (alias, _) in sorted(existing.items(), key=lambda kv: kv[1][0]):
        if mid not in remote_metrics:
            plan.notes.append(
                f"metric {alias!r} ({mid}) is not in Feishu's metric library (old-version metrics "
                "are left out of it); kept as is"
            )
    return plan


def _existing_fields(
    plan: _Plan, alias: str, node: Node, metric: PulledMetric, known_fields: Mapping[str, str]
) -> None:
    fnode = node.get("fields") if isinstance(node, MapNode) else None
    known: dict[str, tuple[str, Node]] = {}
    for k, v in _items(fnode):
        fid = _ids(v)
        if fid is not None and k.text is not None:
            known[fid] = (k.text, v)
    taken = set(known_alias for known_alias, _ in known.values())
    new: list[tuple[str, PulledField]] = []
    for f in metric.fields:
        if f.field_id in known:
            falias, fdef = known[f.field_id]
            _compare(plan.notes, alias, falias, fdef, f)
            continue
        if f.type not in FIELD_TYPES:
            why = "its type is unknown" if f.type is None else f"its type {f.type!r} is not one syncer writes"
            plan.notes.append(f"metric {alias!r}: field {f.field_id} left out: {why}")
            continue
        falias = field_alias(f, known=known_fields, taken=taken)
        new.append((falias, f))
        plan.add(f"metric:{alias}", Addition("field", falias, f.field_id, alias))
    if new:
        plan.fields[alias] = new
    remote = {f.field_id for f in metric.fields}
    for fid, (falias, _) in sorted(known.items()):
        if fid not in remote:
            plan.notes.append(
                f"field {alias}.{falias} ({fid}) is not a field of this metric in Feishu's library; kept as is"
            )


def _compare(notes: list[str], alias: str, falias: str, fdef: Node, f: PulledField) -> None:
    if not isinstance(fdef, MapNode):
        return
    ftype = _ids(fdef.get("type"))
    if f.type in FIELD_TYPES and ftype is not None and ftype != f.type:
        notes.append(
            f"field {alias}.{falias}: the catalog says type {ftype}, Feishu's library {f.type}: a field has "
            "one type in every metric, the library's; change the catalog by hand"
        )
    setting = fdef.get("input_setting")
    have = setting.text if isinstance(setting, Scalar) else None
    if f.input_setting in INPUT_SETTINGS and have != f.input_setting and (have or f.input_setting == "admin"):
        notes.append(
            f"field {alias}.{falias}: Feishu's input_setting is {f.input_setting}, the catalog says "
            f"{have or 'nothing'}; set `input_setting: {f.input_setting}` by hand"
            + (" (admins enter it: Feishu refuses to overwrite it, 1580311)" if f.input_setting == "admin" else "")
        )


# --- placing the additions in the text --------------------------------------------------------------------


def _step(tree: MapNode | None) -> int:
    for name in SECTIONS:
        key, node = _section(tree, name)
        if key is not None and isinstance(node, MapNode) and node.items:
            first = node.items[0][0]
            if first.line > key.line and first.col > key.col:
                return first.col - key.col
    return 2


def _is_closed(node: Node) -> bool:
    flag = node.get("closed") if isinstance(node, MapNode) else None
    return isinstance(flag, Scalar) and flag.text in ("true", "True", "TRUE")


def _semester_lines(plan: _Plan) -> list[tuple[int, str]]:
    lines = []
    for alias, s in plan.semesters:
        day = ended(s, plan.now_ms)
        if day is None:
            lines.append((0, f'{alias}: "{s.id}"{_comment(_names(s.name))}'))
        else:
            why = f": ended {day} in Feishu, so closed (left out of plans; remove `closed` while input is open)"
            lines.append((0, f'{alias}: {{id: "{s.id}", closed: true}}{_comment(_names(s.name), why)}'))
    return lines


def _field_line(alias: str, f: PulledField, width: int = 0) -> str:
    parts = [f'id: "{f.field_id}"', f"type: {f.type}"]
    if f.field_id == WEIGHT_FIELD_ID and f.type == "percentage":
        parts.append("role: weight")
    if f.input_setting in INPUT_SETTINGS:
        parts.append(f"input_setting: {f.input_setting}")
    return f"{(alias + ':').ljust(width)} {{{', '.join(parts)}}}{_comment(_names(f.name))}"


def _metric_lines(plan: _Plan) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for alias, m, fields in plan.metrics:
        extra = " (inactive in the library)" if m.is_active is False else ""
        out.append((0, f"{alias}:{_comment(_names(m.name), extra)}"))
        out.append((1, f'id: "{m.metric_id}"'))
        out.append((1, "fields:"))
        width = max(len(a) + 1 for a, _ in fields)
        out += [(2, _field_line(a, f, width)) for a, f in fields]
    return out


def _place(doc: TextEdits, tree: MapNode | None, plan: _Plan) -> None:
    step = _step(tree)
    top = tree.items[0][0].col - 1 if tree is not None and tree.items else 0
    wanted = {"semesters": _semester_lines(plan), "metrics": _metric_lines(plan)}
    for name in ("semesters", "metrics"):
        if wanted[name]:
            key, node = _section(tree, name)
            if key is None:
                _new_section(doc, tree, name, wanted[name], top=top, step=step)
            else:
                _into(doc, key, node, wanted[name], step=step, plan=plan, what=name, group=name)
    _, met_node = _section(tree, "metrics")
    for k, v in _items(met_node):
        new = plan.fields.get(k.text or "")
        if not new:
            continue
        fkey = v.key("fields") if isinstance(v, MapNode) else None
        lines = [(0, _field_line(a, f)) for a, f in new]
        group = f"metric:{k.text}"
        if fkey is None or not isinstance(v, MapNode) or _is_flow(doc, v):
            _manual(plan, f"metric {k.text!r}", lines, group)
            continue
        _into(doc, fkey, v.get("fields"), lines, step=step, plan=plan, what=f"metric {k.text!r}", group=group)


def _is_flow(doc: TextEdits, node: MapNode) -> bool:
    return doc.char_at(node.line, node.col) == "{"


def _manual(plan: _Plan, what: str, lines: list[tuple[int, str]], group: str) -> None:
    shown = "; ".join(text.split("   #")[0] for depth, text in lines if depth == 0)
    plan.notes.append(
        f"{what} is written in a style syncer does not edit (flow style or a scalar): add by hand: {shown}"
    )
    plan.additions.pop(group, None)


def _render(lines: list[tuple[int, str]], indent: int, step: int) -> list[str]:
    return [" " * (indent + depth * step) + text for depth, text in lines]


def _into(
    doc: TextEdits,
    key: Scalar,
    node: Node | None,
    lines: list[tuple[int, str]],
    *,
    step: int,
    plan: _Plan,
    what: str,
    group: str,
) -> None:
    """Append items to the mapping that is the value of `key`."""
    if isinstance(node, MapNode) and node.items and not _is_flow(doc, node):
        indent = node.items[0][0].col - 1
        doc.insert(doc.end_of_block(key.line, node, indent), _render(lines, indent, step))
        return
    indent = key.col - 1 + step
    line = doc.lines[key.line - 1]
    if isinstance(node, MapNode) and not node.items and _is_flow(doc, node) and node.line == key.line:
        start = node.col - 1
        close = line.find("}", start)
        if close != -1 and not line[start + 1 : close].strip():
            doc.replaced[key.line - 1] = (line[:start].rstrip() + line[close + 1 :]).rstrip()
            doc.insert(key.line, _render(lines, indent, step))
            return
    if isinstance(node, Scalar) and node.text is None:
        m = _NULL_LINE.match(line)
        if m:
            comment = m.group("comment")
            doc.replaced[key.line - 1] = m.group("head") + (f"  {comment}" if comment else "")
            doc.insert(key.line, _render(lines, indent, step))
            return
    _manual(plan, what, lines, group)


def _new_section(
    doc: TextEdits, tree: MapNode | None, name: str, lines: list[tuple[int, str]], *, top: int, step: int
) -> None:
    block = [" " * top + f"{name}:", *_render(lines, top + step, step)]
    later = [k for n in SECTIONS[SECTIONS.index(name) + 1 :] if (k := _section(tree, n)[0]) is not None]
    if later:
        index = min(k.line for k in later) - 1
        while index > 0 and doc.lines[index - 1].lstrip().startswith("#"):
            index -= 1
        doc.insert(index, [*block, ""])
        return
    index = len(doc.lines)
    while index > 0 and not doc.lines[index - 1].strip():
        index -= 1
    if tree is None:  # nothing but comments (or nothing): append after them
        doc.insert(len(doc.lines), ["", *block] if doc.lines or doc.inserts else block)
        return
    doc.insert(index, ["", *block])
