"""`syncer fmt`: the catalog and data files in one layout (the core is syncer.edit.fmt)."""

from __future__ import annotations

from pathlib import Path

import click

from syncer.cli.main import cli
from syncer.cli.options import root_display, root_option
from syncer.cli.output import emit, say
from syncer.text import plural, safe


@cli.command("fmt")
@root_option
@click.option("--check", is_flag=True, help="Change nothing: list the files that would change and exit 1 if any.")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def fmt_command(root: Path, check: bool, paths: tuple[Path, ...]) -> int:
    """Rewrite the catalog and the data files in syncer's one layout, comments kept.

    Two-space indentation, keys in the catalog's order, IDs quoted, and quotes around values that other
    YAML readers would misread (no, on, 0123, 12:30, 1e3); the values themselves never change. PATHS limits
    it to those files (others, such as syncer.yaml or files outside the root, are left alone). A file that
    does not load is reported with its location and nothing is written. Exits 0 when done (--check: when
    nothing would change), 1 otherwise.
    """
    from syncer.edit.fmt import format_root, write_formatted
    from syncer.report.problems import render_problems

    shown = root_display(root)
    if not root.is_dir():
        say(f"error: metrics root not found: {safe(shown)}; pass --root DIR", err=True)
        return 1
    result = format_root(root, root_display=shown, paths=list(paths) if paths else None)
    for name in result.skipped:
        say(f"{safe(name)}: not the catalog or a data file of {safe(shown)}: left alone", err=True)
    if result.problems:
        emit(render_problems(list(result.problems), "text", redact=True), err=True)
        say(f"{plural(len(result.problems), 'file')} could not be formatted; nothing was written", err=True)
        return 1
    changed = result.changed
    if check:
        for f in changed:
            say(f"would reformat {safe(f.display)}")
        unchanged = len(result.files) - len(changed)
        if changed:
            say(
                f"{plural(len(changed), 'file')} would be reformatted, {unchanged} already formatted; run: syncer fmt"
                + (f" --root {safe(shown)}" if shown != "metrics" else "")
            )
            return 1
        say(f"{plural(len(result.files), 'file')} already formatted")
        return 0
    for f in write_formatted(result):
        say(f"reformatted {safe(f.display)}")
    say(f"{plural(len(changed), 'file')} reformatted, {len(result.files) - len(changed)} already formatted")
    return 0
