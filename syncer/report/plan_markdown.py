"""The `markdown` rendering of a plan, for pull-request comments: the summary line first, details in
`<details>`, a table per reviewee, everything from the YAML escaped, cut to fit `max_chars` with a note
(counts stay exact); and the comment that stands in for a plan when the YAML is invalid."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from syncer.plan.model import FORGET_MEANING, Plan
from syncer.plan.summary import summary_line, targeting_line
from syncer.problems import REDACTED, Problem
from syncer.report.markdown import code, md
from syncer.report.plan_parts import RETRY_HINT, SYMBOL, batch_note, groups
from syncer.report.problems import counts_line
from syncer.report.renderer import MAX_COMMENT_CHARS
from syncer.text import plural

MARKER = "<!-- syncer:plan -->"
MAX_MD_VALUE = 300


def _md_value(plan: Plan, value: str | None, *, redact: bool, unit: str = "") -> str:
    if value is None:
        return ""
    if redact:
        return f"*{REDACTED}*"
    value += unit  # a percentage with its `%`
    cut = value if len(value) <= MAX_MD_VALUE else value[:MAX_MD_VALUE] + "…"
    text = md(json.dumps(cut, ensure_ascii=False)) if cut != cut.strip() or not cut else md(cut)
    alias = plan.names.alias(value)
    return f"{text} ({md(alias)})" if alias else text


def _md_summary_table(plan: Plan) -> list[str]:
    repairs = bool(plan.counts.values_to_repair)
    rows = [
        "| semester | managed | create | update | " + ("repair | " if repairs else "") + "forget | rows to send | "
        "requests (min) | held back |",
        "|---|---:|---:|---:|" + ("---:|" if repairs else "") + "---:|---:|---:|---:|",
    ]
    for s in plan.semesters:
        rows.append(
            f"| {md(plan.names.semester(s.semester))} | {s.values_managed} | {s.values_to_create} | "
            f"{s.values_to_update} | " + (f"{s.values_to_repair} | " if repairs else "") + f"{s.values_to_forget} | "
            f"{s.rows_to_send} | {s.requests_min} | {s.rows_quarantined} |"
        )
    return rows


#: Findings listed in the comment (all are counted; the rest are in `syncer plan`'s output).
MAX_MD_FINDINGS = 50


def _md_rules(plan: Plan, *, redact: bool) -> list[str]:
    """The rules' section: each finding at its file:line:col with its rule's name, the text escaped."""
    if not plan.findings:
        return [f"Rules: {plural(len(plan.rules), 'rule')} checked, no findings.", ""] if plan.rules else []
    denied = sum(1 for f in plan.findings if f.denies)
    lines = ["> [!CAUTION]" if denied else "> [!WARNING]"]
    lines.append(
        f"> **Rules: {plural(denied, 'value')} denied, {plural(len(plan.findings) - denied, 'warning')}**"
        + (": apply will refuse this plan." if denied else ".")
    )
    for f in plan.findings[:MAX_MD_FINDINGS]:
        p = f.problem
        mark = "⛔ deny" if f.denies else "⚠️ warn"
        lines.append(f"> - {mark} {code(p.location)} **{md(f.rule)}**: {md(p.text(redact=redact))}")
    if len(plan.findings) > MAX_MD_FINDINGS:
        lines.append(f"> - … {len(plan.findings) - MAX_MD_FINDINGS} more: run `syncer plan`")
    if denied:
        lines.append("> \n> To proceed, change the values, or the rule in this pull request (`--force` does not).")
    return [*lines, ""]


def _md_groups(plan: Plan, *, redact: bool) -> Iterator[tuple[str, int]]:
    """One block per (semester, reviewee): its text and how many changes it shows."""
    for (sem, rev), changes in groups(plan):
        alias = plan.names.alias(rev)
        title = f"{md(alias)} {code(rev)}" if alias else code(rev)
        lines = [
            f"#### {title} · {md(plan.names.semester(sem))}",
            "",
            "| | metric | field | last applied | new | source |",
            "|---|---|---|---|---|---|",
        ]
        for c in changes:
            src = code(str(c.source)) if c.source else md(batch_note(plan, c.batch))
            unit = plan.names.unit(c.key.metric, c.key.field)
            old = _md_value(plan, c.old, redact=redact, unit=unit)
            if c.action == "repair":  # the old cell holds what Feishu holds now, not what was last applied
                old = f"in Feishu: {old}" if c.old is not None else "cleared in Feishu"
            lines.append(
                f"| {SYMBOL[c.action]} {c.action} | {md(plan.names.metric(c.key.metric))} | "
                f"{md(plan.names.field(c.key.metric, c.key.field))} | "
                f"{old} | {_md_value(plan, c.new, redact=redact, unit=unit)} | {src} |"
            )
        yield "\n".join(lines) + "\n", len(changes)


def render_markdown(plan: Plan, *, redact: bool, max_chars: int = MAX_COMMENT_CHARS) -> str:
    c = plan.counts
    head = [MARKER, f"### {'⛔ ' if plan.refused else ''}syncer plan", "", f"**{summary_line(plan)}**", ""]
    st = plan.state
    state = f"state serial {st.serial} (lineage {code(st.lineage[:8])})" if st.exists and st.lineage else "no state yet"
    head.append(
        f"Base commit {code(plan.git.short)}{' (dirty)' if plan.git.dirty else ''} · {state} · "
        f"checksum `{plan.checksum.removeprefix('sha256:')[:12]}`"
        f"{' · values redacted' if redact else ''}"
    )
    head.append("")
    targeted = targeting_line(plan)
    if targeted is not None:
        head.extend([f"> [!NOTE]\n> {md(targeted)}", ""])
    if plan.breaches:
        head.append("> [!CAUTION]" if not plan.forced else "> [!WARNING]")
        head.append(
            "> **Safety threshold passed**" + (" (--force given)." if plan.forced else ": apply will refuse this plan.")
        )
        for b in plan.breaches:
            head.append(
                f"> - {md(plan.names.semester(b.semester))}: {b.kind}s {b.values} of {b.values_managed} "
                f"managed values ({b.ratio:.1%}), over the limit {b.limit:g}"
            )
        if not plan.forced:
            head.append(
                "> \n> To proceed, apply with `--force`, or raise `safety.max_update_ratio` / "
                "`safety.max_forget_ratio` in syncer.yaml in this pull request."
            )
        head.append("")
    head += _md_rules(plan, redact=redact)
    if plan.semesters:
        head.extend(_md_summary_table(plan))
        head.append("")
    if c.values_to_forget:
        head.append(f"*{md(FORGET_MEANING)}.*")
        head.append("")
    for n in plan.notes:
        head.append(f"- {md(n)}")
    if plan.notes:
        head.append("")
    tail: list[str] = []
    if plan.quarantined:
        tail.append(
            f"<details><summary>{plural(c.rows_quarantined, 'rejected row')} held back "
            f"({plural(c.values_quarantined, 'value change')} not sent)</summary>"
        )
        tail.append("")
        for q in plan.quarantined:
            tail.append(
                f"- {md(plan.names.person(q.row.reviewee))} · {md(plan.names.metric(q.row.metric))} · "
                f"{md(plan.names.semester(q.row.semester))}: rejected on {q.date} with {q.code}"
                f"{' (' + md(q.message) + ')' if q.message else ''}"
                f"{' · `' + md(str(q.source)) + '`' if q.source else ''}"
            )
        tail.extend(["", md(RETRY_HINT), "", "</details>", ""])
    text = "\n".join(head) + "\n"
    tail_text = "\n".join(tail) + ("\n" if tail else "")
    if plan.changes:
        text += _md_details(plan, redact=redact, budget=max_chars - len(text) - len(tail_text), max_chars=max_chars)
    text += tail_text
    if len(text) > max_chars:  # a pathological head or tail: cut hard, but keep the summary line
        note = "\n\n*(cut to fit a comment; run `syncer plan` for the full plan)*\n"
        text = text[: max_chars - len(note)] + note
    return text


def _md_details(plan: Plan, *, redact: bool, budget: int, max_chars: int) -> str:
    opening = f"<details><summary>Changes by reviewee ({plan.counts.values_changed} values)</summary>\n\n"
    closing = "</details>\n\n"
    reserve = 400  # for the note saying what was cut
    parts: list[str] = []
    used = len(opening) + len(closing)
    shown_groups = shown_changes = 0
    groups: Sequence[tuple[str, int]] = list(_md_groups(plan, redact=redact))
    for block, n in groups:
        if used + len(block) + 1 + reserve > budget:
            break
        parts.append(block)
        used += len(block) + 1
        shown_groups += 1
        shown_changes += n
    note = ""
    if shown_groups < len(groups):
        cut_groups = len(groups) - shown_groups
        cut_changes = plan.counts.values_changed - shown_changes
        note = (
            f"**Cut to fit a {max_chars:,}-character comment: {plural(cut_groups, 'more reviewee')} "
            f"({plural(cut_changes, 'value change')}) not shown.** The counts above are exact; the full plan is "
            "in the JSON plan (the workflow's artifact, or `syncer plan --format json`).\n\n"
        )
    return opening + "\n".join(parts) + ("\n" if parts else "") + note + closing


def render_markdown_problems(problems: Sequence[Problem], *, redact: bool, max_chars: int = MAX_COMMENT_CHARS) -> str:
    """The PR comment when the YAML is invalid: no plan, the problems instead."""
    head = [
        MARKER,
        "### ❌ syncer plan: the YAML is invalid",
        "",
        f"**{counts_line(problems)}: no plan until they are fixed.**",
        "",
        f"<details><summary>Problems ({len(problems)})</summary>",
        "",
    ]
    closing = ["", "</details>", ""]
    text = "\n".join(head) + "\n"
    budget = max_chars - len(text) - 200
    shown = 0
    for p in problems:
        line = f"- {code(p.location)} **{p.severity}**: {md(p.text(redact=redact))} ({md(p.code)})\n"
        if budget - len(line) < 0:
            break
        text += line
        budget -= len(line)
        shown += 1
    if shown < len(problems):
        text += f"\n*{len(problems) - shown} more problems not shown: run `syncer validate`.*\n"
    return text + "\n".join(closing)
