"""`syncer validate`, `syncer init`, `syncer schema export`: offline, file-level commands."""

from __future__ import annotations

from pathlib import Path

import click

from syncer.cli.context import StateOpener
from syncer.cli.main import cli
from syncer.cli.options import cache_option, check_cache_dir, default_format, redact_option, root_display, root_option
from syncer.cli.output import emit, say
from syncer.report.formats import format_names
from syncer.text import plural


@cli.command()
@root_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(format_names("problems")),
    default=None,
    help="Output format: text, json, github (annotations), gitlab (a Code Quality report: JSON on stdout, "
    "the verdict on stderr). Default: github under GitHub Actions (GITHUB_ACTIONS=true), else text.",
)
@redact_option
@cache_option
def validate(root: Path, fmt: str | None, redact: bool, no_cache: bool) -> int:
    """Load and check the metrics root, offline.

    Checks the settings, the catalog and every data file against the schemas and the rules of Feishu
    (types, aliases, IDs, lengths, duplicates across files, weight sums). Every problem is listed with its
    file:line:col. Exits 0 when valid (warnings allowed), 1 otherwise.
    """
    from syncer.load.validate import validate_root
    from syncer.report.problems import counts_line, render_json, render_problems
    from syncer.rules.check import with_rules

    fmt = fmt or default_format(format_names("problems"))
    result = validate_root(
        root,
        root_display=root_display(root),
        people=StateOpener(root, None).people,
        cache_dir=check_cache_dir(no_cache),
    )
    result = with_rules(result, root_display=root_display(root), judge_values=True)[0]
    if result.cache_trouble:  # the result is whole: the cache only saves time
        say(f"warning: {result.cache_trouble}", err=True)
    summary = f"{plural(len(result.files), 'data file')}, {plural(result.value_count, 'value')}" + (
        f" ({result.closed_value_count} in closed semesters, left out of plans)" if result.closed_value_count else ""
    )
    if fmt == "json":
        click.echo(
            render_json(
                result.problems,
                redact=redact,
                extra={
                    "root": root_display(root),
                    "files": list(result.files),
                    "values": result.value_count,
                    "closed_values": result.closed_value_count,
                },
            )
        )
    elif fmt == "gitlab":  # stdout is the report file's: the verdict goes to stderr
        click.echo(render_problems(result.problems, "gitlab", redact=redact))
        verdict = "valid" if result.ok else "INVALID"
        say(f"{root_display(root)}: {verdict}: {summary}; {counts_line(result.problems)}", err=True)
    else:
        if result.problems:
            emit(render_problems(result.problems, "github" if fmt == "github" else "text", redact=redact))
        verdict = "valid" if result.ok else "INVALID"
        say(f"{root_display(root)}: {verdict}: {summary}; {counts_line(result.problems)}")
        if fmt == "text":
            from syncer.cli.hints import after_validate

            say(after_validate(ok=result.ok, root=root_display(root)))
    return 0 if result.ok else 1


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("metrics"))
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init(directory: Path, force: bool) -> int:
    """Scaffold a new metrics root in DIRECTORY (default: ./metrics).

    Writes syncer.yaml, a catalog.yaml skeleton, one data file under teams/, the JSON Schemas under
    .schemas/ (the files point at them for VS Code's YAML extension) and a .gitignore for local state.
    """
    from syncer.scaffold import init_root

    written = init_root(directory, force=force)
    for path in written:
        say(f"wrote {path.as_posix()}")
    click.echo()
    say(
        f"Next: replace the example IDs in {directory.as_posix()}/catalog.yaml with your tenant's, "
        f"then run: syncer validate --root {directory.as_posix()}"
    )
    return 0


@cli.group()
def schema() -> None:
    """The JSON Schemas of syncer's files (for editors and other tools)."""


@schema.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def schema_export(directory: Path) -> int:
    """Write the JSON Schemas (settings, catalog, data files, ...) into DIRECTORY."""
    from syncer.scaffold import export_schemas

    for path in export_schemas(directory):
        say(f"wrote {path.as_posix()}")
    return 0
