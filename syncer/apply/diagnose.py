"""What to change when Feishu refuses every row of a batch alike (syncer.apply.isolate.SharedRefusal): the
YAML is most likely right and a setting or the catalog is not. Pure: the code and the fields sent in,
one sentence out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from syncer.fieldtypes import field_type
from syncer.model import FieldDef, MetricDef


def sent_fields(metrics: Iterable[tuple[MetricDef, Iterable[str]]]) -> list[tuple[MetricDef, FieldDef]]:
    """The (metric, field) definitions of the field IDs sent, once each, in catalog order."""
    out: list[tuple[MetricDef, FieldDef]] = []
    seen: set[tuple[str, str]] = set()
    for metric, field_ids in metrics:
        for fid in field_ids:
            f = metric.field_by_id(fid)
            if f is not None and (metric.id, f.id) not in seen:
                seen.add((metric.id, f.id))
                out.append((metric, f))
    return out


def _names(fields: Iterable[tuple[MetricDef, FieldDef]]) -> str:
    shown = [f"{m.alias}.{f.alias} ({f.id}, {f.type})" for m, f in fields]
    return ", ".join(shown[:6]) + (f" and {len(shown) - 6} more" if len(shown) > 6 else "")


def likely_cause(
    code: int, fields: list[tuple[MetricDef, FieldDef]], *, percentage_format: str, not_started: Sequence[str] = ()
) -> str:
    """The setting or catalog entry most likely behind a refusal that every row shares. `not_started`: what
    to say of the semester's projects that are not started (syncer.apply.projects), the cause of a 1580306
    when there are any."""
    percentages = [(m, f) for m, f in fields if field_type(f.type).percent]
    metrics = sorted({m.alias for m, _ in fields})
    if code == 1580301:
        if percentages:
            other = "40" if percentage_format == "40%" else "40%"
            sent = "with" if percentage_format == "40%" else "without"
            return (
                f"the percentage fields {_names(percentages)} were sent {sent} a % sign "
                f'(target.percentage_format "{percentage_format}"): if Feishu wants them the other way, set '
                f'target.percentage_format: "{other}" in syncer.yaml'
            )
        return (
            f"a field type in catalog.yaml differs from Feishu's ({_names(fields)}): compare with `syncer catalog pull`"
        )
    if code == 1580305:
        return (
            f"the field IDs catalog.yaml gives metrics {', '.join(metrics)} are not the metrics' fields in Feishu: "
            "compare with `syncer catalog pull`"
        )
    if code == 1580311:
        return (
            f"these fields are entered by admins in Feishu ({_names(fields)}): mark the admin-owned ones "
            "`input_setting: admin` in catalog.yaml and take them out of the data files"
        )
    if code == 1580112:
        return "the app's data scope does not cover these reviewees: widen it in Feishu's developer console"
    if code == 1580302:
        return "a field Feishu requires is not set: add it to the data files (catalog.yaml can mark it required: true)"
    if code == 1580303:
        return "values are longer than Feishu allows: lower max_length in catalog.yaml to Feishu's limit"
    if code == 1580304:
        return "weights Feishu holds outside the YAML push these reviewees over 100%: check their metric templates"
    if code == 1580306:
        if not_started:
            return "; ".join(not_started)
        return "the reviewees are not in this semester's evaluation, or its project has not started: check the semester"
    if code == 1580312:
        return (
            f"Feishu finds no metric {', '.join(metrics)} for these reviewees: check the metric IDs in catalog.yaml "
            "(compare with `syncer catalog pull`) and the reviewees' metric templates"
        )
    return "see the code's meaning"
