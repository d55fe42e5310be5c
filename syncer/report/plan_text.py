"""The `text` rendering of a plan: for terminals, grouped by semester and reviewee, ANSI colour when asked,
in pieces so that a plan of a million values is never one string."""

from __future__ import annotations

from collections.abc import Iterator

from syncer.perf import paused_gc
from syncer.plan.model import FORGET_MEANING, Change, Plan
from syncer.plan.summary import summary_line, targeting_line
from syncer.problems import REDACTED
from syncer.report.plan_parts import RETRY_HINT, SYMBOL, batch_note, groups
from syncer.text import encode_json_str, plural, safe

_COLOR = {"create": "32", "update": "33", "repair": "36", "forget": "35"}


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
        self.symbols = {action: style(symbol, _COLOR[action]) for action, symbol in SYMBOL.items()}
        self.names: dict[tuple[str, str], str] = {}
        self.files: dict[str, str] = {}

    def shown(self, value: str | None, unit: str = "") -> str:
        """A value as text (a percentage with its `%`); a person ID is followed by its alias when the
        catalog knows it."""
        if value is None:
            return ""
        if self.redact:
            return REDACTED
        if unit:
            return safe(encode_json_str(value + unit))
        text = safe(encode_json_str(value))  # json.dumps(value, ensure_ascii=False), without its overhead
        alias = self.people.get(value)
        return text if alias is None else f"{text} ({safe(alias)})"

    def __call__(self, c: Change) -> str:
        action, k, old, new, source, batch = c
        mf = (k[2], k[3])
        name = self.names.get(mf)
        if name is None:
            name = self.names[mf] = f"{self.plan.names.metric(k[2])}.{self.plan.names.field(k[2], k[3])}"
        unit = self.plan.names.unit(*mf)
        shown = self.shown
        if action == "create":
            body = f"{name} = {shown(new, unit)}"
        elif action == "update":
            body = f"{name}: {shown(old, unit)} -> {shown(new, unit)}"
        elif action == "repair":
            live = "cleared" if old is None else shown(old, unit)
            body = f"{name}: {live} in Feishu -> {shown(new, unit)} (repair: changed outside syncer)"
        else:
            body = f"{name} = {shown(old, unit)} (forget: stays in Feishu, no longer managed)"
        if source:
            file = self.files.get(source[0])
            if file is None:
                file = self.files[source[0]] = safe(source[0])
            where = f"  {self.style(f'{file}:{source[1]}:{source[2]}', '2')}"
        elif batch is not None:
            where = f"  {self.style(safe(batch_note(self.plan, batch)), '2')}"
        else:
            where = ""
        return f"    {self.symbols[action]} {body}{where}"


def _summary_lines(plan: Plan, style: _Style, *, redact: bool) -> list[str]:
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
    if plan.findings:
        lines.append("")
        denied = "; apply will refuse this plan (change the values, or the rule in this change)" if plan.denied else ""
        lines.append(style(f"Rules: {plural(len(plan.findings), 'finding')}{denied}:", "1;31" if plan.denied else "1"))
        found = (f.problem for f in plan.findings)
        lines.extend(f"  {p.location}: {p.severity}: {p.text(redact=redact)}" for p in found)
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
        for (sem, rev), changes in groups(plan):
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
    lines.extend(_summary_lines(plan, style, redact=redact))
    lines.append("")
    lines.append(style(summary_line(plan), "1"))
    yield "\n".join(lines) + "\n"
