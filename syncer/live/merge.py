"""Merging what Feishu's metric library and templates hold into catalog.yaml, as text: never a re-dump.

The user's catalog is theirs: comments, aliases, order, quoting and spacing stay exactly as written.
Entries are matched by ID; those already present are left alone (differences are reported as notes), and
only new entries are added, as new lines in the file's own style (its indentation step, flow mappings for
fields, quoted IDs), placed with the line numbers the loader keeps: after the last line of the mapping they
belong to (syncer.live.placement). Pure: text in, text out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from syncer.edit.lines import TextEdits
from syncer.errors import ConfigError, LoadError
from syncer.fieldtypes import FIELD_TYPES
from syncer.live.placement import place
from syncer.live.pulled import (
    BUILTIN_FIELD_ALIASES,
    INPUT_SETTINGS,
    Addition,
    MergePlan,
    MergeResult,
    PulledCatalog,
    PulledField,
    PulledMetric,
    ended,
    feishu_names,
    is_closed,
    items,
    section,
)
from syncer.live.templates import decide_templates, template_lines
from syncer.load.catalog import ANY_RAW_ID, SEMESTER_ID
from syncer.load.yamlnodes import MapNode, Node, Scalar
from syncer.load.yamlparse import parse
from syncer.text import slug

# --- aliases ----------------------------------------------------------------------------------------------


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
    return new_alias(feishu_names(f.name), taken=taken, fallback=f"field_{f.field_id[-6:]}", sep="_")


# --- reading the existing file ---------------------------------------------------------------------------


def _ids(node: Node | None) -> str | None:
    if isinstance(node, Scalar):
        return node.text
    if isinstance(node, MapNode):
        inner = node.get("id")
        return inner.text if isinstance(inner, Scalar) else None
    return None


# --- the merge --------------------------------------------------------------------------------------------


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
    place(doc, tree, plan)
    additions = tuple(a for group in plan.additions.values() for a in group)
    new_text = doc.render() if doc.inserts else source
    return MergeResult(new_text, additions, tuple(plan.notes))


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
    for _, v in items(met_node):
        fnode = v.get("fields") if isinstance(v, MapNode) else None
        for k, fdef in items(fnode):
            fid = _ids(fdef)
            if fid is not None and k.text:
                known.setdefault(fid, k.text)
    return known


def _decide(tree: MapNode | None, pulled: PulledCatalog, *, now_ms: int) -> MergePlan:
    plan = MergePlan(now_ms=now_ms)
    _, sem_node = section(tree, "semesters")
    sem_taken = {k.text or "" for k, _ in items(sem_node)}
    sem_ids = {sid: k.text or "" for k, v in items(sem_node) if (sid := _ids(v)) is not None}
    remote_sems = {s.id for s in pulled.semesters}
    for s in pulled.semesters:
        if s.id in sem_ids:
            continue
        alias = new_alias(
            feishu_names(s.name), taken=sem_taken, fallback=f"semester-{s.id[-6:]}", sep="-", keep_case=True
        )
        plan.semesters.append((alias, s))
        plan.add("semesters", Addition("semester", alias, s.id))
    for sid, sem_alias in sem_ids.items():
        if sid not in remote_sems:
            plan.notes.append(f"semester {sem_alias!r} ({sid}) is not among the semesters Feishu lists; kept as is")
    closed = {sid for k, v in items(sem_node) if (sid := _ids(v)) is not None and is_closed(v)}
    for s in pulled.semesters:
        day = ended(s, now_ms)
        if s.id in sem_ids and s.id not in closed and day is not None:
            plan.notes.append(
                f"semester {sem_ids[s.id]!r} ({s.id}) ended on {day} in Feishu: once its input deadline has "
                "passed, mark it `closed: true` (no API gives the deadline)"
            )

    _, met_node = section(tree, "metrics")
    known_fields = _known_field_aliases(met_node)
    met_taken = {k.text or "" for k, _ in items(met_node)}
    existing: dict[str, tuple[str, Node]] = {}
    for k, v in items(met_node):
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
        alias = new_alias(feishu_names(m.name), taken=met_taken, fallback=f"metric_{m.metric_id[-6:]}", sep="_")
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
    aliases: dict[str, tuple[str, dict[str, str]]] = {}
    for mid, (alias, node) in existing.items():
        fnode = node.get("fields") if isinstance(node, MapNode) else None
        known = {fid: k.text for k, v in items(fnode) if (fid := _ids(v)) is not None and k.text is not None}
        known.update((f.field_id, fa) for fa, f in plan.fields.get(alias, []))
        aliases[mid] = (alias, known)
    for alias, m, fields in plan.metrics:
        aliases[m.metric_id] = (alias, {f.field_id: fa for fa, f in fields})
    new = decide_templates(
        plan,
        tree,
        pulled,
        aliases,
        lambda names, taken, fallback: new_alias(names, taken=taken, fallback=fallback, sep="_"),
    )
    plan.templates = template_lines(new)
    for t in new:
        plan.add("templates", Addition("template", t.alias, t.info.id))
    return plan


def _existing_fields(
    plan: MergePlan, alias: str, node: Node, metric: PulledMetric, known_fields: Mapping[str, str]
) -> None:
    fnode = node.get("fields") if isinstance(node, MapNode) else None
    known: dict[str, tuple[str, Node]] = {}
    for k, v in items(fnode):
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
