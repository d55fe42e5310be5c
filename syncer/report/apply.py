"""Renderers of an apply's outcome: the final summary (text), the GitHub step summary (Markdown), the JSON
apply report (`syncer apply --report FILE`) and progress lines. Rejected rows name no values: only their
row, file:line, code, meaning and remedy. Counts use the plan's units: value changes (create, update,
repair), values sent (every managed field of a changed row), rows and import requests."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from syncer.apply.outcome import ApplyReport, Progress, RejectedRow
from syncer.plan.model import Counts, Names
from syncer.report.markdown import md
from syncer.text import duration, inert_lines, plural, safe

#: Import record IDs listed one by one up to this many; above, a count and the range.
RECORDS_LISTED = 3


def row_label(r: RejectedRow, names: Names) -> str:
    return f"{names.semester(r.row.semester)} / {names.person(r.row.reviewee)} / {names.metric(r.row.metric)}"


def render_progress(p: Progress) -> str:
    """One plain line for a progress event (for logs and non-terminals)."""
    if p.kind != "batch":
        return safe(p.message)
    left = f", {plural(p.requests_left, 'request')} left, ETA {duration(p.eta_seconds)}" if p.requests_left else ""
    return f"rows {p.rows_done}/{p.rows_total} done{left}"


def records_line(ids: Sequence[str]) -> str:
    """`import record 7300...12`, `import records 7300...1, 7300...2`, or `412 import records, 7300...1 to ...`."""
    if not ids:
        return ""
    if len(ids) <= RECORDS_LISTED:
        return f"import record{'s' if len(ids) != 1 else ''} {', '.join(ids)}"
    return f"{len(ids)} import records, {ids[0]} to {ids[-1]}"


def _changes(counts: Counts) -> str:
    parts = [
        (counts.values_to_create, "create"),
        (counts.values_to_update, "update"),
        (counts.values_to_repair, "repair"),
    ]
    return ", ".join(f"{n} {what}" for n, what in parts if n)


def headline(report: ApplyReport, counts: Counts | None) -> str:
    """The first line of the summary: what was applied, in the plan's units, and what it cost."""
    planned = counts.values_changed - counts.values_to_forget if counts is not None else report.changes_applied
    requests = report.requests - report.settle_requests  # the journal's re-sends are told on their own line
    accepted = report.requests_accepted - sum(1 for _, o in report.settled if o == "accepted")
    if requests == 0 and not report.plan_batches:
        what = "Nothing was sent" if not report.settled else "Nothing else was sent"
    elif report.changes_applied == planned and counts is not None and planned:
        what = f"Applied {plural(planned, 'value change')} ({_changes(counts)}) in {plural(report.rows_applied, 'row')}"
    else:
        what = (
            f"Applied {report.changes_applied} of {plural(planned, 'value change')} in "
            f"{plural(report.rows_applied, 'row')}"
        )
    if requests or report.plan_batches:
        what += (
            f": {plural(report.values_applied, 'value')} sent as whole rows with "
            f"{plural(requests, 'import request')} ({accepted} accepted) in "
            f"{duration(report.seconds)}"
        )
    records = records_line([b.import_record_id for b in report.plan_batches if b.import_record_id])
    return what + (f"; {records}." if records else ".")


def render_summary(report: ApplyReport, names: Names, counts: Counts | None = None) -> str:
    lines = [headline(report, counts)]
    if report.settled:
        outcomes = ", ".join(f"{n} {o}" for o, n in _tally(o for _, o in report.settled))
        landed = [b for b in report.batches if b.settled]
        recorded = (
            f" ({plural(sum(b.rows for b in landed), 'row')}, {plural(sum(b.values for b in landed), 'value')} "
            f"recorded, with {plural(report.settle_requests, 'request')})"
            if landed or report.settle_requests
            else ""
        )
        lines.append(
            f"Settled {plural(len(report.settled), 'batch', 'batches')} an interrupted apply left open: "
            f"{outcomes}{recorded}."
        )
    if report.values_forgotten:
        lines.append(
            f"Stopped managing {plural(report.values_forgotten, 'value')} removed from "
            "the YAML (they stay in Feishu as they are)."
        )
    lines += [f"Note: {n}" for n in report.notes]
    new = report.new_rejections
    old = [r for r in report.rejected if not r.new and not r.unrecorded]
    if report.unrecorded:
        lines.append(
            f"\n{plural(len(report.unrecorded), 'row')} landed in Feishu but could not be recorded in the state (set "
            "aside: not recorded as applied, not sent again until its values change; apply exits 1 until then):"
        )
        lines += [_set_aside_line(r, names) for r in report.unrecorded]
    if new:
        lines.append(
            f"\nFeishu rejected {plural(len(new), 'row')} in this run (held back: not sent again until what "
            "would be sent changes, or with --retry-rejected):"
        )
        lines += [_rejected_line(r, names) for r in new]
    if old:
        lines.append(f"\n{plural(len(old), 'row')} rejected earlier and unchanged since, not sent:")
        lines += [_rejected_line(r, names) for r in old]
    if report.held:
        lines.append(
            f"\nThe pre-flight held back {plural(len(report.held), 'row')} (not sent and not recorded: Feishu refused "
            "none of them; the next apply asks again, exit 4 until then):"
        )
        lines += [_held_line(r, names) for r in report.held]
    for s in report.shared:
        lines.append(
            f"\nSTOPPED {names.semester(s.semester)} after {plural(s.requests, 'request')}: Feishu refused every "
            f"part of a batch alike with {s.code} ({s.meaning}), so the YAML is most likely right and this is "
            f"not: {s.cause}. {plural(s.rows_rejected, 'row')} refused on their own held back (listed above); "
            f"{plural(s.rows_pending + s.rows_unsent, 'row')} pending: neither applied nor rejected, sent again "
            "by the next apply (exit 4 until every row is applied or refused on its own)."
        )
    for semester, why in report.failures:
        lines.append(f"\nSTOPPED {names.semester(semester)}: {why}")
    if report.interrupted:
        left = (
            f"{plural(report.rows_left, 'row')} left. The state is consistent: run `syncer apply` again to continue."
            if report.rows_left
            else "nothing was left to send."
        )
        lines.append(f"\nInterrupted by {report.interrupted} after the request in flight was recorded: {left}")
    if report.aborted:
        lines.append(
            f"\nSTOPPED: {report.aborted}. Everything above was recorded; "
            f"{plural(report.rows_left, 'row')} not sent. Run `syncer apply` again once it is fixed: it goes on "
            "from the state."
        )
    if report.stopped_early:
        lines.append(
            f"\nStopped before --max-duration with {plural(report.rows_left, 'row')} left: "
            "run apply again to continue (the state is consistent)."
        )
    return inert_lines(lines)


def _tally(items: Any) -> list[tuple[str, int]]:
    out: dict[str, int] = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return list(out.items())


def _rejected_line(r: RejectedRow, names: Names) -> str:
    where = f"{r.source.file}:{r.source.line}" if r.source else "(not in the YAML)"
    return f"  {where}: {row_label(r, names)}: {r.code} {r.meaning}. {r.remedy}"


def _held_line(r: RejectedRow, names: Names) -> str:
    where = f"{r.source.file}:{r.source.line}" if r.source else "(not in the YAML)"
    why = r.message.removeprefix("pre-flight: ")
    return f"  {where}: {row_label(r, names)}: {why}{'' if r.remedy in why else '. ' + r.remedy}"


def _set_aside_line(r: RejectedRow, names: Names) -> str:
    where = f"{r.source.file}:{r.source.line}" if r.source else "(not in the YAML)"
    return f"  {where}: {row_label(r, names)}: {r.message}. Change the value to one the state can hold"


def render_step_summary(
    report: ApplyReport, names: Names, counts: Counts | None = None, *, limit: int = 1_000_000
) -> str:
    """The GitHub step summary (Markdown), cut to stay well under GitHub's 1 MiB per step."""
    status = {
        0: "applied",
        1: "FAILED",
        3: "stopped at --max-duration (a follow-up run continues)",
        4: "stopped a semester, with rejected rows and rows pending (the next apply sends them)"
        if report.shared
        else "applied, with rejected rows"
        if report.new_rejections
        else "applied, with rows the pre-flight held back (the next apply asks again)",
        130: "interrupted (SIGINT)",
        143: "interrupted (SIGTERM)",
    }.get(report.exit_code, f"exit {report.exit_code}")
    if report.aborted:
        status = "STOPPED by a failure"
    if report.exit_code in (1, 3, 130, 143) and report.new_rejections:
        status += f"; {len(report.new_rejections)} rows rejected in this run"
    out = [f"### syncer apply: {status}", "", f"{md(headline(report, counts))}", ""]
    if report.values_forgotten:
        out.append(f"- values no longer managed: {report.values_forgotten}")
    for s in report.shared:
        where = md(names.semester(s.semester))
        out.append(f"- **stopped** {where}: every part of a batch refused with {s.code}: {md(s.cause)}")
    for semester, why in report.failures:
        out.append(f"- **stopped** {md(names.semester(semester))}: {md(why)}")
    if report.rejected:
        out += ["", "| row | file | code | what to do |", "|---|---|---|---|"]
        for r in report.rejected:
            where = f"{r.source.file}:{r.source.line}" if r.source else ""
            out.append(
                f"| {md(row_label(r, names))} | {md(where)} | {r.code}{'' if r.new else ' (earlier)'} "
                f"| {md(r.remedy)} |"
            )
    if report.held:
        out += ["", "| row held back by the pre-flight | file | why | what to do |", "|---|---|---|---|"]
        for r in report.held:
            where = f"{r.source.file}:{r.source.line}" if r.source else ""
            why = r.message.removeprefix("pre-flight: ")
            out.append(f"| {md(row_label(r, names))} | {md(where)} | {md(why)} | {md(r.remedy)} |")
    text = "\n".join(out) + "\n"
    if len(text.encode()) > limit:
        cut = text.encode()[: limit - 200].decode("utf-8", "ignore")
        text = cut.rsplit("\n", 1)[0] + "\n\n(cut: the full list is in the job log)\n"
    return text


def apply_document(report: ApplyReport, counts: Counts | None, *, checksum: str, redact: bool) -> dict[str, Any]:
    """The apply report as JSON data (`--report FILE`): everything the summary says, every batch with its
    import record, every rejected row. No values: with `redact` the rejection messages are left out too."""
    return {
        "exit_code": report.exit_code,
        "summary": headline(report, counts),
        "redacted": redact,
        "plan": {"checksum": checksum, "counts": counts._asdict() if counts is not None else None},
        "requests": {"answered": report.requests, "accepted": report.requests_accepted},
        "applied": {
            "value_changes": report.changes_applied,
            "values_sent": report.values_applied,
            "rows": report.rows_applied,
            "values_forgotten": report.values_forgotten,
        },
        "seconds": round(report.seconds, 3),
        "batches": [dataclasses.asdict(b) for b in report.batches],
        "settled": [{"client_token": t, "outcome": o} for t, o in report.settled],
        "rejected": [
            {
                "semester": r.row.semester,
                "reviewee": r.row.reviewee,
                "metric": r.row.metric,
                "code": r.code,
                "meaning": r.meaning,
                "remedy": r.remedy,
                "message": None if redact else r.message,
                "new": r.new,
                "source": {"file": r.source.file, "line": r.source.line, "col": r.source.col} if r.source else None,
            }
            for r in report.rejected
        ],
        "held_by_preflight": [
            {
                "semester": r.row.semester,
                "reviewee": r.row.reviewee,
                "metric": r.row.metric,
                "why": r.message,
                "remedy": r.remedy,
                "source": {"file": r.source.file, "line": r.source.line, "col": r.source.col} if r.source else None,
            }
            for r in report.held
        ],
        "stopped": [{"semester": s, "why": w} for s, w in report.failures],
        "refused_alike": [dataclasses.asdict(s) for s in report.shared],
        "interrupted": report.interrupted,
        "aborted": report.aborted,
        "stopped_early": report.stopped_early,
        "rows_left": report.rows_left,
        "notes": list(report.notes),
    }


def apply_json(report: ApplyReport, counts: Counts | None, *, checksum: str, redact: bool) -> str:
    return (
        json.dumps(apply_document(report, counts, checksum=checksum, redact=redact), ensure_ascii=False, indent=2)
        + "\n"
    )
