"""Every top-level command, with the module that defines it and its short help: the group imports a
command's module only when that command runs or shows its --help, so that `syncer --version` and
`syncer --help` import none of them (start-up is paid by every pre-commit hook and editor save).

`help` is the first paragraph of the command's docstring, which `syncer --help` shortens as click would;
tests/cli/test_commands.py holds it equal to the command's own and the table equal to the commands."""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    module: str  # importing it registers the command on the group
    help: str


COMMANDS: dict[str, Entry] = {
    "apply": Entry(
        "syncer.cli.apply", "Plan, confirm, then push the changed values to Feishu and record them in the state."
    ),
    "catalog": Entry("syncer.cli.live", "The catalog (catalog.yaml) and Feishu's metric library."),
    "demo": Entry(
        "syncer.cli.apply",
        "The whole loop in a few seconds, against a built-in Feishu emulator: no credentials, no network.",
    ),
    "doctor": Entry(
        "syncer.cli.doctor",
        "Check the tenant an apply would write to, with the credentials an apply would use, reading only.",
    ),
    "emulator": Entry("syncer.cli.emulator", "Run a local Feishu emulator until Ctrl-C or SIGTERM."),
    "fmt": Entry("syncer.cli.fmt", "Rewrite the catalog and the data files in syncer's one layout, comments kept."),
    "gitlab": Entry("syncer.cli.gitlab", "GitLab CI: the plan as one sticky merge-request note."),
    "import": Entry(
        "syncer.cli.live",
        "Adopt the values Feishu already holds: write them as data files and record them as applied.",
    ),
    "init": Entry("syncer.cli.files", "Scaffold a new metrics root in DIRECTORY (default: ./metrics)."),
    "people": Entry(
        "syncer.cli.live",
        "People of the catalog given by email: their user IDs, looked up in Feishu and cached.",
    ),
    "plan": Entry("syncer.cli.plan", "Validate, then show what an apply would change: desired values minus the state."),
    "report": Entry(
        "syncer.cli.report",
        "The state as a dashboard: completion of targets per team and metric, weights, held-back rows, applies.",
    ),
    "schema": Entry("syncer.cli.files", "The JSON Schemas of syncer's files (for editors and other tools)."),
    "sheet": Entry(
        "syncer.cli.sheet",
        "Spreadsheets: the data files as a workbook (.xlsx) or csv file, and a sheet back into them.",
    ),
    "state": Entry("syncer.cli.state", "Inspect and repair the state: what syncer last applied, per target."),
    "validate": Entry("syncer.cli.files", "Load and check the metrics root, offline."),
}
