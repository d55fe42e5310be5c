"""`syncer sheet export` and `syncer sheet import`: the data files as a workbook or csv file, and back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from syncer.cli.context import StateOpener, load_root, readers_language
from syncer.cli.main import cli
from syncer.cli.options import problems_format, redact_option, root_display, root_option
from syncer.cli.output import emit, say
from syncer.text import inert_lines, plural

if TYPE_CHECKING:
    from syncer.load.validate import ValidationResult
    from syncer.rules.load import RuleSet


@cli.group()
def sheet() -> None:
    """Spreadsheets: the data files as a workbook (.xlsx) or csv file, and a sheet back into them.

    .xlsx needs the optional extra: pip install 'feishu-syncer[sheet]'. csv needs nothing.
    """


@sheet.command("export")
@root_option
@click.option("--semester", default=None, metavar="ALIAS|ID", help="Only this semester (default: every one).")
@click.option(
    "--path",
    "path_glob",
    default=None,
    metavar="GLOB",
    help="Only the data files whose path (relative to the root) matches GLOB, e.g. 'teams/*'.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "csv"]),
    default=None,
    help="The file format. Default: from the suffix of --out.",
)
@redact_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write (atomically), e.g. metrics.xlsx or metrics.csv.",
)
def sheet_export(
    root: Path, semester: str | None, path_glob: str | None, fmt: str | None, redact: bool, out: Path
) -> int:
    """Write the data files as a sheet: one row per (reviewee, metric).

    Columns: file (the data file, relative to the root), reviewee and metric (their aliases as written),
    then every field of the catalog by alias; csv puts the semester first, a workbook has a sheet per
    semester. Every value is the text the YAML holds: in a workbook, a number is a number cell where it
    reads back as exactly that text, a percentage shows its % (30 as 30%), everything else is a text cell
    (never a guessed float). A workbook has a frozen header, drop-downs for metrics and
    people, checks on the value columns that take what import takes, wrapped notes, a print setup
    (landscape, one page wide, the header on every page) and a legend sheet; its sheets are protected (no
    password): a closed semester, admin-only fields and the key cells of the rows are locked and grey. csv
    is UTF-8 with a byte order mark. With --redact-values the value cells are left blank (the structure
    alone).
    """
    from syncer.errors import SyncerError
    from syncer.fsio import write_output
    from syncer.sheet.export import default_format, export_tables, lists_of
    from syncer.sheet.index import index_root

    kind = default_format(out, fmt)
    if not out.parent.is_dir():
        raise SyncerError(f"--out {out.as_posix()}: the directory {out.parent.as_posix()} does not exist")
    result = load_root(StateOpener(root, None), redact=redact, keep_parsed=True)
    index = index_root(root, root_display(root), result)
    tables = export_tables(
        index, result, semester=semester, path_glob=path_glob, redact=redact, with_semester_column=kind == "csv"
    )
    if kind == "xlsx":
        from syncer.i18n import translations
        from syncer.sheet.xlsx import render_xlsx

        t = translations(readers_language(result.settings))
        write_output(out, render_xlsx(tables, lists_of(result.catalog), t=t))
    else:
        from syncer.sheet.csvfile import render_csv

        write_output(out, render_csv(tables))
    rows = sum(len(t.rows) for t in tables)
    where = f"{plural(len(tables), 'sheet')} ({', '.join(t.semester for t in tables)})" if kind == "xlsx" else "csv"
    say(
        f"wrote {out.as_posix()}: {plural(rows, 'row')} in {where}"
        + (" with the values left blank (--redact-values)" if redact else "")
    )
    if not redact:
        say(f"Next: edit it, then syncer sheet import {out.as_posix()} --root {root_display(root)}")
    return 0


@sheet.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@root_option
@click.option(
    "--into",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The data file (inside the root) for new rows whose file cell is blank; created when missing.",
)
@click.option(
    "--semester",
    default=None,
    metavar="ALIAS|ID",
    help="csv: the semester of a file without a semester column (one sheet of a workbook saved as csv).",
)
@click.option("--dry-run", is_flag=True, help="Print the edit (a unified diff per file) and write nothing.")
@redact_option
def sheet_import(file: Path, root: Path, into: Path | None, semester: str | None, dry_run: bool, redact: bool) -> int:
    """Write the values of a sheet (.xlsx or .csv) into the data files.

    Rows the data files hold are updated where they are written (comments and layout kept); new rows go
    to the data file their file cell names (else --into). Cells that mean what the YAML holds change
    nothing; blank cells change nothing, and are an error where the YAML has a value; rows the sheet does
    not hold are left alone (counted). Closed semesters, fields admins enter in Feishu (input_setting:
    admin) and the reviewee and metric of exported rows are protected: an edit of one is refused at its
    cell. Every problem is listed at its cell (FILE!Sheet!C12, csv FILE:12:3) with
    validate's rules, and nothing is written while any error stands. Then the root is validated.

    csv: UTF-8 (BOM or not), UTF-16 with a BOM or GB18030/GBK, separated by commas, semicolons or tabs, as
    the header shows; what was found is printed (docs/csv.md). One sheet of a workbook saved as csv has
    no semester column: name its semester with --semester.
    """
    from syncer.errors import RefusedError, SyncerError
    from syncer.perf import paused_gc
    from syncer.report.diff import redact_diff
    from syncer.report.problems import render_text
    from syncer.sheet.index import index_root
    from syncer.sheet.model import sort_sheet_problems
    from syncer.sheet.plan import plan_import
    from syncer.sheet.write import ImportInvalid, write_changes

    shown_file = file.as_posix()
    suffix = file.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".csv"):
        raise SyncerError(f"{shown_file}: syncer reads .xlsx workbooks and .csv files; save the sheet as one")
    if not file.is_file():
        raise SyncerError(f"{shown_file}: no such file")
    result = load_root(StateOpener(root, None), redact=redact, keep_parsed=True)
    shown = root_display(root)
    rules = _rules(result, shown, redact=redact)
    into_rel = None
    if into is not None:
        try:
            into_rel = into.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            raise SyncerError(f"--into {into.as_posix()} is outside the metrics root {shown}") from None
    size = file.stat().st_size
    if size > result.settings.max_file_bytes:
        raise SyncerError(f"{shown_file} is {size:,} bytes, more than max_file_bytes of syncer.yaml")
    with paused_gc():  # a workbook of a million values is millions of small acyclic objects
        if suffix == ".csv":
            from syncer.sheet.csvfile import read_csv, sheet_columns

            book, detected = read_csv(file.read_bytes(), shown_file, columns=sheet_columns(result.catalog))
            say(detected.note(shown_file), err=True)
        else:
            from syncer.sheet.xlsxread import read_xlsx

            book = read_xlsx(file.read_bytes(), shown_file, max_bytes=result.settings.max_file_bytes)
        index = index_root(root, shown, result)
        plan = plan_import(
            book,
            root=root,
            root_display=shown,
            result=result,
            index=index,
            into=into_rel,
            rules=rules,
            semester=semester,
        )
    order: dict[str | None, int] = {t.name: i for i, t in enumerate(book.tables)}
    problems = sort_sheet_problems(list(plan.problems), order)
    if problems:
        click.echo(inert_lines(p.render(redact=redact) for p in problems), err=True, nl=False)
    errors = len(plan.errors)
    if errors:
        say(f"{shown_file}: {plan.summary()}", err=True)
        raise RefusedError(f"{shown_file}: {plural(errors, 'error')} (listed above); nothing was written")
    updated = sum(c.updated for c in plan.changes)
    added = sum(c.added for c in plan.changes)
    new_rows = sum(c.rows_added for c in plan.changes)
    what = (
        f"{plural(updated, 'value')} updated, {plural(added, 'value')} added "
        f"({plural(new_rows, 'new row')}) in {plural(len(plan.changes), 'file')}"
    )
    if not plan.changes:
        say(f"{shown_file}: {plan.summary()}; nothing to change.")
        return 0
    if dry_run:
        for c in plan.changes:
            diff = c.diff()
            click.echo(inert_lines((redact_diff(diff) if redact else diff).rstrip("\n").split("\n")), nl=False)
        say(f"Dry run: {what}; {plan.summary()}. Run again without --dry-run to write.")
        return 0
    try:
        write_changes(plan.changes, root=root, root_display=shown, people=StateOpener(root, None).people)
    except ImportInvalid as exc:
        click.echo(render_text(list(exc.problems), redact=redact), err=True)
        raise
    except OSError as exc:
        raise RefusedError(f"could not write the data files ({exc}); every file was put back as it was") from exc
    for c in plan.changes:
        say(f"{'wrote' if c.old is not None else 'created'} {c.display}")
    say(f"Imported {shown_file}: {what}; {plan.summary()}. Next: syncer plan --root {shown}, then open a pull request.")
    return 0


def _rules(result: ValidationResult, shown: str, *, redact: bool) -> RuleSet:
    """The root's company rules, compiled; refused (their problems printed) when they do not compile."""
    from syncer.errors import RefusedError
    from syncer.report.problems import counts_line, render_problems
    from syncer.rules.check import with_rules

    checked, rules = with_rules(result, root_display=shown, judge_values=False)
    if not checked.ok:
        emit(render_problems(checked.errors, problems_format(), redact=redact), err=True)
        raise RefusedError(f"{shown}: the rules are invalid ({counts_line(checked.errors)}): fix them first")
    return rules
