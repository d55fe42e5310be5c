"""A catalog pull's metric templates: which of Feishu's templates to add to catalog.yaml (by ID, as new
entries under `templates:`), with their weight rule, dimensions (metric aliases), the input settings that
differ from the library's and the score bounds; and their lines. A template set per group of people becomes
one entry per group (a reviewee is in one group, whose dimensions and metrics are theirs). Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from syncer.feishu.setup_records import MetricTemplateInfo
from syncer.live.pulled import INPUT_SETTINGS, MergePlan, PulledCatalog, feishu_names, items, names_comment, section
from syncer.load.yamlnodes import MapNode, Node, Scalar

#: Feishu's metric_weight_method of the per-dimension rule; any other reads as one total (docs/feishu-api.md).
PER_DIMENSION_METHOD = "sum_of_metric_weights_for_each_dimension_equals_1"
_PLAIN = re.compile(r"[\w.-]+\Z")
#: Makes a new alias: (Feishu's names, the aliases taken, a fallback) -> a unique alias (syncer.live.merge).
AliasMaker = Callable[[Iterable[str], set[str], str], str]


def _flow(text: str) -> str:
    """A key or scalar as it can stand in a flow mapping or sequence: quoted unless plainly safe."""
    return text if _PLAIN.match(text) else json.dumps(text, ensure_ascii=False)


@dataclass
class NewTemplate:
    alias: str
    info: MetricTemplateInfo
    group: str | None  # the group's name, for a template set per group
    rule: str
    dimensions: list[tuple[str, str, str | None, list[str]]]  # alias, ID, weight, metric aliases
    input_settings: dict[str, dict[str, str]] = field(default_factory=dict)  # metric alias -> field alias ->
    scores: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)  # metric alias -> (min, max)


def _text(node: Node | None) -> str | None:
    if isinstance(node, MapNode):
        node = node.get("id")
    return node.text if isinstance(node, Scalar) else None


def decide_templates(
    plan: MergePlan,
    tree: MapNode | None,
    pulled: PulledCatalog,
    metric_aliases: Mapping[str, tuple[str, Mapping[str, str]]],
    alias_of: AliasMaker,
) -> list[NewTemplate]:
    """The templates to add. `metric_aliases`: metric ID -> (alias, field ID -> alias), for the catalog's
    metrics and those this pull adds; template metrics outside them are left out, with a note."""
    _, node = section(tree, "templates")
    have = {tid for _, v in items(node) if (tid := _text(v)) is not None}
    _compare(plan, node, pulled)
    taken = {k.text or "" for k, _ in items(node)}
    library = {m.metric_id: {f.field_id: f.input_setting for f in m.fields} for m in pulled.metrics}
    out: list[NewTemplate] = []
    for info in pulled.templates:
        if info.id in have:
            continue
        groups: list[tuple[str | None, str | None]] = [(g, n) for g, n in info.groups.items()] or [(None, None)]
        for group_id, group_name in groups:
            names = [f"{n} {group_name}" if group_name else n for n in feishu_names(info.name)]
            alias = alias_of(names, taken, f"template_{info.id[-6:]}")
            new = NewTemplate(
                alias, info, group_name, "per_dimension" if info.weight_method == PER_DIMENSION_METHOD else "total", []
            )
            dim_taken: set[str] = set()
            dims = [d for d in info.dimensions if d.group_id == group_id] or [
                d for d in info.dimensions if not d.group_id
            ]
            members: dict[str | None, list[str]] = {}
            for m in info.metrics:
                if m.group_id != group_id and group_id is not None:
                    continue
                known = metric_aliases.get(m.metric_id)
                if known is None:
                    plan.notes.append(
                        f"template {alias!r}: metric {m.metric_id} left out: it is not in the catalog (not in the "
                        "library, or none of its fields has a type syncer writes)"
                    )
                    continue
                malias, field_aliases = known
                members.setdefault(m.dimension_id if any(d.id == m.dimension_id for d in dims) else None, []).append(
                    malias
                )
                lib = library.get(m.metric_id, {})
                for fid, setting in sorted(m.input_settings.items()):
                    falias = field_aliases.get(fid)
                    if falias is not None and setting in INPUT_SETTINGS and lib.get(fid) != setting:
                        new.input_settings.setdefault(malias, {})[falias] = setting
                if m.score_min is not None or m.score_max is not None:
                    new.scores[malias] = (m.score_min, m.score_max)
            for d in dims:
                dalias = alias_of(feishu_names(d.name), dim_taken, f"dimension_{d.id[-6:]}")
                new.dimensions.append((dalias, d.id, d.weight, members.get(d.id, [])))
            if members.get(None):
                dalias = alias_of(["metrics"], dim_taken, "metrics")
                new.dimensions.append((dalias, "", None, members[None]))
            if not any(m for *_, m in new.dimensions):
                plan.notes.append(f"template {alias!r} ({info.id}) left out: none of its metrics is in the catalog")
                taken.discard(alias)
                continue
            out.append(new)
    return out


def _compare(plan: MergePlan, node: Node | None, pulled: PulledCatalog) -> None:
    """Notes on the catalog's templates where Feishu says otherwise: another weight rule, or no such template."""
    remote = {t.id: t for t in pulled.templates}
    for k, v in items(node):
        tid = _text(v)
        if tid is None:
            continue
        info = remote.get(tid)
        if info is None:
            plan.notes.append(f"template {k.text!r} ({tid}) is not among Feishu's metric templates; kept as is")
            continue
        rule = "per_dimension" if info.weight_method == PER_DIMENSION_METHOD else "total"
        have = _text(v.get("weight_rule")) if isinstance(v, MapNode) else None
        if have is not None and have != rule:
            plan.notes.append(
                f"template {k.text!r}: Feishu's weight rule is {rule}, the catalog says {have}; "
                f"set `weight_rule: {rule}` by hand"
            )


def template_lines(templates: list[NewTemplate]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for t in templates:
        group = [f"group {t.group}"] if t.group else []
        out.append((0, f"{t.alias}:{names_comment([*feishu_names(t.info.name), *group])}"))
        out.append((1, f'id: "{t.info.id}"'))
        out.append((1, f"weight_rule: {t.rule}"))
        out.append((1, "dimensions:"))
        width = max(len(a) + 1 for a, *_ in t.dimensions)
        for dalias, did, weight, metrics in t.dimensions:
            parts = ([f'id: "{did}"'] if did else []) + ([f"weight: {json.dumps(weight)}"] if weight else [])
            parts.append(f"metrics: [{', '.join(_flow(m) for m in metrics)}]")
            out.append((2, f"{(dalias + ':').ljust(width)} {{{', '.join(parts)}}}"))
        if t.input_settings:
            out.append((1, "input_settings:"))
            for malias, fields in t.input_settings.items():
                shown = ", ".join(f"{_flow(k)}: {_flow(v)}" for k, v in fields.items())
                out.append((2, f"{_flow(malias)}: {{{shown}}}"))
        if t.scores:
            out.append((1, "scores:"))
            for malias, (lo, hi) in t.scores.items():
                parts = ([f"min: {json.dumps(lo)}"] if lo is not None else []) + (
                    [f"max: {json.dumps(hi)}"] if hi is not None else []
                )
                out.append((2, f"{_flow(malias)}: {{{', '.join(parts)}}}"))
    return out
