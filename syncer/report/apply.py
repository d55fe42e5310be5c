"""Renderers of an apply's outcome: the final summary (text), the GitHub step summary (Markdown), and
progress lines. Rejected rows name no values: only their row, file:line, code, meaning and remedy."""

from __future__ import annotations

from syncer.apply.outcome import ApplyReport, Progress, RejectedRow
from syncer.plan.model import Names
from syncer.report.markdown import md
from syncer.text import duration, plural


def row_label(r: RejectedRow, names: Names) -> str:
    return f"{names.semester(r.row.semester)} / {names.person(r.row.reviewee)} / {names.metric(r.row.metric)}"


def render_progress(p: Progress) -> str:
    """One plain line for a progress event (for logs and non-terminals)."""
    if p.kind in ("settle", "forget", "stop", "split", "rejected"):
        return p.message
    left = f", {plural(p.requests_left, 'request')} left, ETA {duration(p.eta_seconds)}" if p.requests_left else ""
    return f"rows {p.rows_done}/{p.rows_total} done{left}"


def render_summary(report: ApplyReport, names: Names) -> str:
    lines = []
    records = [r for _, r, _ in report.accepted_batches if r]
    lines.append(
        f"Applied {plural(report.values_applied, 'value')} in {plural(report.rows_applied, 'row')} with "
        f"{plural(report.requests, 'import request')} in "
        f"{duration(report.seconds)}." + (f" Import records: {', '.join(records)}." if records else "")
    )
    if report.settled:
        lines.append(
            f"Settled {plural(len(report.settled), 'batch', 'batches')} left open "
            f"by an interrupted apply: {', '.join(o for _, o in report.settled)}."
        )
    if report.values_forgotten:
        lines.append(
            f"Stopped managing {plural(report.values_forgotten, 'value')} removed from "
            "the YAML (they stay in Feishu as they are)."
        )
    new = report.new_rejections
    old = [r for r in report.rejected if not r.new]
    if new:
        lines.append(
            f"\nFeishu rejected {plural(len(new), 'row')} in this run (quarantined: not sent again "
            "until their values change, or with --retry-rejected):"
        )
        lines += [_rejected_line(r, names) for r in new]
    if old:
        lines.append(f"\n{plural(len(old), 'row')} rejected earlier and unchanged since, not sent:")
        lines += [_rejected_line(r, names) for r in old]
    for semester, why in report.failures:
        lines.append(f"\nSTOPPED {names.semester(semester)}: {why}")
    if report.stopped_early:
        lines.append(
            f"\nStopped before --max-duration with {plural(report.rows_left, 'row')} left: "
            "run apply again to continue (the state is consistent)."
        )
    return "\n".join(lines) + "\n"


def _rejected_line(r: RejectedRow, names: Names) -> str:
    where = f"{r.source.file}:{r.source.line}" if r.source else "(not in the YAML)"
    return f"  {where}: {row_label(r, names)}: {r.code} {r.meaning}. {r.remedy}"


def render_step_summary(report: ApplyReport, names: Names, *, limit: int = 1_000_000) -> str:
    """The GitHub step summary (Markdown), cut to stay well under GitHub's 1 MiB per step."""
    status = {
        0: "applied",
        1: "FAILED",
        3: "stopped at --max-duration (a follow-up run continues)",
        4: "applied, with rejected rows",
    }[report.exit_code]
    if report.exit_code in (1, 3) and report.new_rejections:
        status += f"; {len(report.new_rejections)} rows rejected in this run"
    out = [
        f"### syncer apply: {status}",
        "",
        f"- values applied: {report.values_applied} in {report.rows_applied} rows",
        f"- import requests: {report.requests}",
        f"- time: {duration(report.seconds)}",
    ]
    if report.values_forgotten:
        out.append(f"- values no longer managed: {report.values_forgotten}")
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
    text = "\n".join(out) + "\n"
    if len(text.encode()) > limit:
        cut = text.encode()[: limit - 200].decode("utf-8", "ignore")
        text = cut.rsplit("\n", 1)[0] + "\n\n(cut: the full list is in the job log)\n"
    return text
