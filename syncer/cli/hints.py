"""The "Next:" line after validate, plan and apply in text format (as `init` and `demo` end theirs): the
command to run next, with the flags of this run that it needs (`--root`, `--state`, the targeting).

Pure functions of what the command did; the commands print the line on stdout, after their output, and
only in text format (never in json, markdown or github output, which tools and pull requests read).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from syncer.text import plural

if TYPE_CHECKING:  # validate imports this module: it must not pull in the plan and apply stacks
    from syncer.apply.run import ApplyRun
    from syncer.plan.model import Plan

DEFAULT_ROOT = "metrics"


def command(name: str, *, root: str, state: Path | None = None, extra: str = "") -> str:
    """`syncer NAME` with the options that point it at the same root and state."""
    parts = [f"syncer {name}"]
    if root != DEFAULT_ROOT:
        parts.append(f"--root {shlex.quote(root)}")
    if state is not None:
        parts.append(f"--state {shlex.quote(state.as_posix())}")
    if extra:
        parts.append(extra)
    return " ".join(parts)


def after_validate(*, ok: bool, root: str) -> str:
    if ok:
        return f"Next: `{command('plan', root=root)}` shows what an apply would change."
    return f"Next: fix the problems above, then run `{command('validate', root=root)}` again."


def after_plan(plan: Plan, *, root: str, state: Path | None, out: Path | None) -> str:
    from syncer.plan.targeting import flags as targeting_flags

    targeted = targeting_flags(plan.targeting.targeting, plan.names.semesters) if plan.targeting else ""
    if plan.denied:  # before the thresholds: --force, which they take, does not override a rule
        return (
            "Next: change the values the rules deny, or change the rule (rules.yaml, or rules: in syncer.yaml) in "
            "the same pull request, where it is reviewed with them; no flag overrides a rule."
        )
    if plan.refused:
        forced = command("apply", root=root, state=state, extra=f"{targeted} --force".strip())
        return (
            f"Next: review the changes the thresholds refuse; to apply them anyway, `{forced}`, or raise the "
            "threshold in syncer.yaml in the same pull request (or fix the YAML if they are a mistake)."
        )
    if plan.empty:
        return "Next: nothing to do: the state matches the YAML" + (" in the target." if targeted else ".")
    if out is not None:
        saved = command("apply", root=root, state=state, extra=f"--plan {shlex.quote(out.as_posix())}")
        return f"Next: `{saved}` applies exactly this plan (refused if the YAML or the state changed since)."
    return (
        f"Next: `{command('apply', root=root, state=state, extra=targeted)}` applies it (it shows the plan "
        "again and asks first)."
    )


def after_apply(run: ApplyRun, *, root: str, state: Path | None) -> str | None:
    """None when there is nothing to say: the plan was empty and nothing was settled."""
    report = run.report
    code = int(report.exit_code)
    t = run.plan.targeting
    from syncer.plan.targeting import flags as targeting_flags

    targeted = targeting_flags(t.targeting, run.plan.names.semesters) if t is not None else ""
    again = command("apply", root=root, state=state, extra=targeted)  # untargeted, it would send the rest too
    if report.interrupted or code == 3:
        return f"Next: run `{again}` again to go on; the state is consistent."
    if code == 4:
        return (
            "Next: fix the rejected rows listed above (in the YAML, or in Feishu as their remedy says), "
            f"then `{command('plan', root=root, state=state)}`."
        )
    if code != 0:
        return None
    if run.plan.empty and not report.settled:
        return None
    plan = command("plan", root=root, state=state)
    if t is not None:
        return (
            f"Next: `{plan}` plans the {plural(t.values_left_out, 'value')} this targeted apply left out; "
            f"with the same --semester/--path it should show no changes."
        )
    return f"Next: `{plan}` should now show no changes."
