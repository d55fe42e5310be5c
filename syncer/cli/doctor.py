"""`syncer doctor`: the live tenant checked for everything an apply needs, reads only."""

from __future__ import annotations

from pathlib import Path

import click

from syncer.cli.main import cli
from syncer.cli.options import base_url_option, redact_option, root_display, root_option
from syncer.report.doctor import DOCTOR_FORMATS


@cli.command("doctor")
@root_option
@base_url_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(DOCTOR_FORMATS),
    default="text",
    show_default=True,
    help="text for people, json for tools.",
)
@redact_option
def doctor(root: Path, base_url: str | None, fmt: str, redact: bool) -> int:
    """Check the tenant an apply would write to, with the credentials an apply would use, reading only.

    Checks the tenant token (a wrong app ID, a wrong secret, an unreachable host), each permission scope a
    command needs (by a minimal read of each endpoint: performance:semester:read, performance:metric_lib:read,
    performance:semester_user:read, performance:semester_activity:read, performance:metric:read,
    contact:user.id:readonly, and contact:user.employee_id:readonly under user_id; performance:metric:write
    cannot be checked without writing), the data scope (the reviewees of each open semester the data files
    name that the app cannot see, counted and listed), the projects not started (named, with the reviewees
    they block), target.user_id_type against the catalog's IDs, and the catalog's semesters, metrics and
    fields against Feishu's (missing, other types, admin-owned). The percentage format cannot be told without
    writing.

    Requests, each paced at its endpoint's quota: 1 token, 1 v1 semesters (2 under user_id), 1
    metric_libs/query per 50 library metrics, 1 metric_templates/query per 50 templates, 1
    metric_fields/query per 50 catalog field IDs, 1 reviewees/query per 50 reviewees an open semester's data
    files name, 1 activity/query per open semester whose visible reviewees are in projects, 1
    metric_details/query, and 1 users/batch_get_id when someone is given by email: 7 to 9 for a small root.
    Exit 0 when an apply could run (warnings allowed), 1 otherwise; a line per problem says what to do.
    """
    from syncer.cli.context import StateOpener
    from syncer.cli.progress import Printer
    from syncer.doctor.run import inputs_from, run_doctor
    from syncer.errors import RefusedError
    from syncer.feishu.auth import credentials_from_env
    from syncer.live.reader import LiveReader
    from syncer.load.settings import load_settings
    from syncer.load.validate import validate_root
    from syncer.report.doctor import render_doctor
    from syncer.report.problems import render_text
    from syncer.urls import resolve_base_url

    shown = root_display(root)
    settings, problems = load_settings(root, shown)
    errors = [p for p in problems if p.severity == "error"]
    if errors:  # without valid settings there is no target to check
        click.echo(render_text(errors, redact=redact), err=True)
        raise RefusedError(f"{shown}/syncer.yaml is invalid: fix it first")
    url = resolve_base_url(flag=base_url, settings_base_url=settings.target.base_url)
    inputs = inputs_from(validate_root(root, root_display=shown, people=StateOpener(root, None).people), base_url=url)
    printer = Printer()

    def reader() -> LiveReader:
        return LiveReader(base_url=url, credentials=credentials_from_env(), progress=printer.read_event, redact=redact)

    report = run_doctor(inputs, reader)
    printer.close()
    click.echo(render_doctor(report, "json" if fmt == "json" else "text", redact=redact), nl=False)
    return 0 if report.ok else 1
