"""Renderers of a plan: plain data in (syncer.plan.model.Plan), text out.

- `text`: for terminals, grouped by semester and reviewee, ANSI colour when asked.
- `markdown`: for pull-request comments: the summary line first, details in `<details>`, a table per
  reviewee, everything from the YAML escaped, cut to fit `max_chars` with a note (counts stay exact).
- `json`: the plan document itself (syncer.plan.plan_document, schemas/plan.schema.json).
- `github`: annotations for the thresholds a plan passes, then the text summary (the CLI adds the
  validation problems' annotations in front).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from typing import Literal, overload

from syncer.perf import paused_gc
from syncer.plan.model import FORGET_MEANING, Change, Plan
from syncer.plan.safety import how_to_proceed
from syncer.plan.summary import summary_line, targeting_line
from syncer.problems import REDACTED, Problem
from syncer.report.annotations import Annotated, Level, annotation
from syncer.report.markdown import code, md
from syncer.report.plan_json import plan_json
from syncer.report.problems import counts_line
from syncer.text import encode_json_str, plural, safe

PlanFormat = Literal["text", "markdown", "json", "github"]
MARKER = "<!-- syncer:plan -->"
RETRY_HINT = (
    "They are sent again by themselves once what would be sent changes (their values, their fields' types, "
    "or target.percentage_format), or now with `syncer apply --retry-rejected`."
)
MAX_COMMENT_CHARS = 60_000
MAX_MD_VALUE = 300

_SYMBOL = {"create": "+", "update": "~", "repair": "!", "forget": "-"}
_COLOR = {"create": "32", "update": "33", "repair": "36", "forget": "35"}


@overload
def render_plan(
    plan: Plan, fmt: Literal["text", "markdown", "json"], *, redact: bool, color: bool = ..., max_chars: int = ...
) -> str: ...
@overload
def render_plan(
    plan: Plan, fmt: Literal["github"], *, redact: bool, color: bool = ..., max_chars: int = ...
) -> Annotated: ...
@overload
def render_plan(
    plan: Plan, fmt: PlanFormat, *, redact: bool, color: bool = ..., max_chars: int = ...
) -> str | Annotated: ...
def render_plan(
    plan: Plan, fmt: PlanFormat, *, redact: bool, color: bool = False, max_chars: int = MAX_COMMENT_CHARS
) -> str | Annotated:
    with paused_gc():
        return _render(plan, fmt, redact=redact, color=color, max_chars=max_chars)


def _render(plan: Plan, fmt: PlanFormat, *, redact: bool, color: bool, max_chars: int) -> str | Annotated:
    if fmt == "json":
        return plan_json(plan, redact=redact)
    if fmt == "markdown":
        return render_markdown(plan, redact=redact, max_chars=max_chars)
    if fmt == "github":
        return render_github(plan, redact=redact)
    return render_text(plan, redact=redact, color=color)


# --- text -----------------------------------------------------------------------------------------------


class _Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text


def _who(plan: Plan, pid: str) -> str:
    alias = plan.names.alias(pid)
    return f"{alias} ({safe(pid)})" if alias else safe(pid)


def _sem(plan: Plan, sid: str) -> str:
    alias = plan.names.semester_alias(sid)
    return f"{alias} ({safe(sid)})" if alias else safe(sid)


def _groups(plan: Plan) -> list[tuple[tuple[str, str], list[Change]]]:
    """Changes by (semester, reviewee), for people: semesters and reviewees in the order of their names
    (the plan's own order is by ID, which no rename can change)."""
    groups = [
        (key, list(changes))
        for key, changes in itertools.groupby(plan.changes, key=lambda c: (c.key.semester, c.key.reviewee))
    ]
    n = plan.names
    groups.sort(key=lambda g: (n.semester(g[0][0]), g[0][0], n.person(g[0][1]), g[0][1]))
    return groups


def _header(plan: Plan) -> list[str]:
    st = plan.state
    state = (
        f"state {st.location} (serial {st.serial}, lineage {st.lineage[:8]})"
        if st.exists and st.lineage
        else f"no state yet at {st.location}"
    )
    t = plan.target
    where = f"at commit {plan.git.describe()}" if plan.git.in_git else "(not in git)"
    lines = [  # every part can come from a saved plan: each line is made inert as a whole
        safe(f"Plan of {plan.root or 'the YAML'} {where} against {state}."),
        safe(f"Target: {t.host}, user_id_type {t.user_id_type}" + (f", app {t.app_id}" if t.app_id else "") + "."),
    ]
    targeted = targeting_line(plan)
    if targeted is not None:
        lines.append(safe(targeted))
    return lines


class _ChangeLines:
    """The text line of a change (`    + revenue.target = "40"  data/sales.yaml:3:5`). What repeats over a
    million lines, a field's name, a file's name, a symbol, is made once."""

    def __init__(self, plan: Plan, *, redact: bool, style: _Style) -> None:
        self.plan, self.redact, self.style = plan, redact, style
        self.people = plan.names.people
        self.symbols = {action: style(symbol, _COLOR[action]) for action, symbol in _SYMBOL.items()}
        self.names: dict[tuple[str, str], str] = {}
        self.files: dict[str, str] = {}

    def shown(self, value: str | None) -> str:
        """A value as text; a person ID is followed by its alias when the catalog knows it."""
        if value is None:
            return ""
        if self.redact:
            return REDACTED
        text = safe(encode_json_str(value))  # json.dumps(value, ensure_ascii=False), without its overhead
        alias = self.people.get(value)
        return text if alias is None else f"{text} ({safe(alias)})"

    def __call__(self, c: Change) -> str:
        action, k, old, new, source, batch = c
        mf = (k[2], k[3])
        name = self.names.get(mf)
        if name is None:
            name = self.names[mf] = f"{self.plan.names.metric(k[2])}.{self.plan.names.field(k[2], k[3])}"
        shown = self.shown
        if action == "create":
            body = f"{name} = {shown(new)}"
        elif action == "update":
            body = f"{name}: {shown(old)} -> {shown(new)}"
        elif action == "repair":
            live = "cleared" if old is None else shown(old)
            body = f"{name}: {live} in Feishu -> {shown(new)} (repair: changed outside syncer)"
        else:
            body = f"{name} = {shown(old)} (forget: stays in Feishu, no longer managed)"
        if source:
            file = self.files.get(source[0])
            if file is None:
                file = self.files[source[0]] = safe(source[0])
            where = f"  {self.style(f'{file}:{source[1]}:{source[2]}', '2')}"
        elif batch is not None:
            where = f"  {self.style(safe(_batch_note(self.plan, batch)), '2')}"
        else:
            where = ""
        return f"    {self.symbols[action]} {body}{where}"


def _batch_note(plan: Plan, batch: int | None) -> str:
    b = plan.batches.get(batch) if batch is not None else None
    if b is None:
        return f"last applied in batch {batch}" if batch is not None else ""
    return f"last applied in batch {b.id} on {b.time[:10]} at {b.commit[:7]}"


def _summary_lines(plan: Plan, style: _Style) -> list[str]:
    lines = []
    for s in plan.semesters:
        if not (
            s.values_to_create or s.values_to_update or s.values_to_repair or s.values_to_forget or s.rows_quarantined
        ):
            lines.append(f"{_sem(plan, s.semester)}: no changes ({plural(s.values_managed, 'value')} managed)")
            continue
        held = f", {plural(s.rows_quarantined, 'rejected row')} held back" if s.rows_quarantined else ""
        lines.append(
            f"{_sem(plan, s.semester)}: {s.values_to_create} to create, {s.values_to_update} to update, "
            + (f"{s.values_to_repair} to repair, " if s.values_to_repair else "")
            + f"{s.values_to_forget} to forget of {plural(s.values_managed, 'managed value')}; "
            f"{plural(s.rows_to_send, 'row')} to send in at least {plural(s.requests_min, 'request')}{held}"
        )
    if plan.breaches:
        lines.append("")
        label = "Safety thresholds passed (--force given)" if plan.forced else "Safety: apply will refuse this plan"
        lines.append(style(label + ":", "1;31"))
        for b in plan.breaches:
            key = "max_update_ratio" if b.kind == "update" else "max_forget_ratio"
            lines.append(
                style(
                    f"  ! {plan.names.semester(b.semester)}: {b.kind}s {b.values} of "
                    f"{b.values_managed} managed values ({b.ratio:.1%}), over safety.{key} "
                    f"{b.limit:g}",
                    "31",
                )
            )
        if not plan.forced:
            lines.append(
                "  To proceed: apply with --force, or raise the threshold in syncer.yaml in the same pull request."
            )
    if plan.notes:
        lines.append("")
        lines.extend(f"Note: {safe(n)}" for n in plan.notes)
    return lines


def render_text(plan: Plan, *, redact: bool, color: bool = False, details: bool = True) -> str:
    return "".join(text_chunks(plan, redact=redact, color=color, details=details))


def text_chunks(plan: Plan, *, redact: bool, color: bool = False, details: bool = True) -> Iterator[str]:
    """The text plan in pieces of a few thousand lines, to be written as they come: a first plan of a
    million values is never one string. The cyclic GC is paused while it is being read."""
    with paused_gc():
        yield from _text_chunks(plan, redact=redact, color=color, details=details)


def _text_chunks(plan: Plan, *, redact: bool, color: bool, details: bool) -> Iterator[str]:
    style = _Style(color)
    lines = _header(plan)
    if details and plan.changes:
        lines.append("")
        repair = f"{style('!', _COLOR['repair'])} repair   " if plan.counts.values_to_repair else ""
        lines.append(
            f"  {style('+', _COLOR['create'])} create   {style('~', _COLOR['update'])} update   {repair}"
            f"{style('-', _COLOR['forget'])} {FORGET_MEANING}"
        )
        last_sem = None
        line = _ChangeLines(plan, redact=redact, style=style)
        for (sem, rev), changes in _groups(plan):
            if sem != last_sem:
                lines.append("")
                lines.append(style(_sem(plan, sem), "1"))
                last_sem = sem
            lines.append(f"  {_who(plan, rev)}")
            lines.extend(map(line, changes))
            if len(lines) >= 4096:
                yield "\n".join(lines) + "\n"
                lines = []
    if plan.quarantined:
        lines.append("")
        lines.append("Held back (rejected by Feishu, unchanged since; not sent, not counted):")
        for q in plan.quarantined:
            src = f"  {safe(str(q.source))}" if q.source else ""
            lines.append(
                f"  {plan.names.semester(q.row.semester)} {_who(plan, q.row.reviewee)} "
                f"{plan.names.metric(q.row.metric)}: rejected on {safe(q.date)} with {q.code}"
                f"{' (' + safe(q.message) + ')' if q.message else ''}; {plural(q.values, 'value change')} not "
                f"sent{src}"
            )
        lines.append(f"  {RETRY_HINT}")
    lines.append("")
    lines.extend(_summary_lines(plan, style))
    lines.append("")
    lines.append(style(summary_line(plan), "1"))
    yield "\n".join(lines) + "\n"


# --- github ---------------------------------------------------------------------------------------------


def render_github(plan: Plan, *, redact: bool) -> Annotated:
    """Annotations for what blocks an apply, then the text summary (no per-value details: those are in the
    PR comment and the JSON artifact)."""
    commands = []
    targeted = targeting_line(plan)
    if targeted is not None:
        commands.append(annotation("notice", targeted, title="syncer plan: targeted"))
    if plan.breaches:
        level: Level = "warning" if plan.forced else "error"
        commands.append(annotation(level, how_to_proceed(plan), title="syncer plan: safety threshold"))
    for q in plan.quarantined:
        src = q.source
        commands.append(
            annotation(
                "warning",
                f"rejected on {q.date} with {q.code}; not sent until its values change",
                title="rejected row held back",
                file=src.file if src else None,
                line=src.line if src else 0,
                col=src.col if src else 0,
            )
        )
    return Annotated(tuple(commands), render_text(plan, redact=redact, color=False, details=False))


# --- markdown -------------------------------------------------------------------------------------------


def _md_value(plan: Plan, value: str | None, *, redact: bool) -> str:
    if value is None:
        return ""
    if redact:
        return f"*{REDACTED}*"
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


def _md_groups(plan: Plan, *, redact: bool) -> Iterator[tuple[str, int]]:
    """One block per (semester, reviewee): its text and how many changes it shows."""
    for (sem, rev), changes in _groups(plan):
        alias = plan.names.alias(rev)
        title = f"{md(alias)} {code(rev)}" if alias else code(rev)
        lines = [
            f"#### {title} · {md(plan.names.semester(sem))}",
            "",
            "| | metric | field | last applied | new | source |",
            "|---|---|---|---|---|---|",
        ]
        for c in changes:
            src = code(str(c.source)) if c.source else md(_batch_note(plan, c.batch))
            old = _md_value(plan, c.old, redact=redact)
            if c.action == "repair":  # the old cell holds what Feishu holds now, not what was last applied
                old = f"in Feishu: {old}" if c.old is not None else "cleared in Feishu"
            lines.append(
                f"| {_SYMBOL[c.action]} {c.action} | {md(plan.names.metric(c.key.metric))} | "
                f"{md(plan.names.field(c.key.metric, c.key.field))} | "
                f"{old} | {_md_value(plan, c.new, redact=redact)} | {src} |"
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
