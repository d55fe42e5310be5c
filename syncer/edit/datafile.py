"""The data files `syncer import` writes: rendered in syncer's format, loaded back and compared before
anything is written, then written (never over an existing file) and checked with the whole root."""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from syncer.edit.scalars import fmt_key, fmt_value
from syncer.errors import RefusedError, SyncerError
from syncer.fieldtypes import field_type
from syncer.fsio import atomic_write
from syncer.load.data import DataChecker
from syncer.load.files import display_path
from syncer.load.validate import PeopleSourceFactory, ValidationResult, validate_root
from syncer.load.yamlparse import parse
from syncer.model import Catalog, RowKey
from syncer.problems import Problem
from syncer.text import slug

DEFAULT_OUT_DIR = "imported"
#: The comment that points an editor (the YAML language server) at a file's JSON Schema, as `syncer init`
#: writes it on the first line.
SCHEMA_COMMENT = re.compile(r"\A(?:\ufeff)?#\s*yaml-language-server:\s*\$schema=(\S+)[ \t]*$", re.M)


def schema_comment(root: Path, out_dir: Path, neighbours: Iterable[tuple[Path, str]] = ()) -> str | None:
    """The `yaml-language-server: $schema=` comment (without its `# `) for a new data file in `out_dir`: at
    the schema the first of `neighbours` (data files of the root: path, text) that opens with such a line
    points at, when that file exists, made relative to `out_dir`; else at the
    root's `.schemas/data.schema.json` (where `syncer init` puts it) when it exists; else None."""
    for path, text in neighbours:
        m = SCHEMA_COMMENT.match(text)
        if m is None:
            continue
        schema = path.parent / m.group(1)
        if schema.is_file():
            return f"yaml-language-server: $schema={Path(_relpath(schema, out_dir)).as_posix()}"
    schema = root / ".schemas" / "data.schema.json"
    if schema.is_file():
        return f"yaml-language-server: $schema={Path(_relpath(schema, out_dir)).as_posix()}"
    return None


class ImportInvalid(RefusedError):
    """The written files made the root invalid; they were removed again."""

    def __init__(self, problems: Sequence[Problem], message: str) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


def _reviewee_key(rid: str, catalog: Catalog) -> str:
    for a, p in sorted(catalog.people.items()):
        if p.id == rid:
            return a
    return rid


def person_fields(catalog: Catalog) -> frozenset[tuple[str, str]]:
    """(metric alias, field alias) of the catalog's fields of people: where `syncer fmt` quotes a raw ID of
    digits, so every writer does."""
    return frozenset(
        (m.alias, a) for m in catalog.metrics.values() for a, f in m.fields.items() if field_type(f.type).person
    )


def render_file(
    *,
    semester_label: str,
    reviewees: Sequence[tuple[str, Sequence[tuple[str, Mapping[str, str]]]]],
    header: Sequence[str],
    person_fields: Collection[tuple[str, str]] = (),
) -> str:
    """A data file: `reviewees` is [(reviewee key, [(metric alias, {field alias: text})])], in order;
    `person_fields` the (metric alias, field alias) of fields of people (see `person_fields`)."""
    lines = [f"# {h}" for h in header]
    lines.append(f"semester: {fmt_key(semester_label)}")
    lines.append("reviewees:")
    for rkey, metrics in reviewees:
        lines.append(f"  {fmt_key(rkey)}:")
        for malias, fields in metrics:
            lines.append(f"    {fmt_key(malias)}:")
            for falias, text in fields.items():
                value = fmt_value(text, indent=6, id_field=(malias, falias) in person_fields)
                lines.append(f"      {fmt_key(falias)}: {value}")
    return "\n".join(lines) + "\n"


def verify_file(
    text: str, display: str, result: ValidationResult, expected: Mapping[RowKey, Mapping[str, str]]
) -> None:
    """Load a file back with the validator's own checks: it must hold exactly the expected values."""
    checker = DataChecker(settings=result.settings, catalog=result.catalog)
    checker.check_file(parse(text, display), display)
    errors = [p for p in checker.problems if p.severity == "error"]
    got: dict[RowKey, dict[str, str]] = {}
    for k, dv in checker.values.items():
        got.setdefault(RowKey(k[0], k[1], k[2]), {})[k[3]] = dv.value
    if errors or got != {r: dict(v) for r, v in expected.items()}:
        first = errors[0].text(redact=True) if errors else "the values read back differ"
        raise SyncerError(
            f"internal error: the data file {display} would not read back as written ({first}); "
            "nothing was written. This is a bug in syncer: please report it"
        )


def out_dir_in_root(root: Path, out_dir: Path | None) -> tuple[Path, str]:
    """The directory to write in (inside the root, outside dot-directories) and its path from the root."""
    target = out_dir if out_dir is not None else root / DEFAULT_OUT_DIR
    try:
        rel = target.resolve().relative_to(root.resolve())
    except ValueError:
        raise SyncerError(
            f"--out-dir {target} is outside the metrics root {root}: data files must be below it"
        ) from None
    if any(part.startswith(".") for part in rel.parts):
        raise SyncerError(f"--out-dir {target} is inside a dot-directory, where syncer reads no data files")
    return target, rel.as_posix()


@dataclass(frozen=True, slots=True)
class DataFile:
    path: Path
    display: str
    text: str
    rows: Mapping[RowKey, Mapping[str, str]]  # canonical values


def plan_files(
    to_write: Sequence[RowKey],
    *,
    written: Mapping[RowKey, Mapping[str, str]],
    canonical: Mapping[RowKey, Mapping[str, str]],
    result: ValidationResult,
    root: Path,
    root_display: str,
    out_dir: Path,
    out_rel: str,
    semester_label: str,
    per_file: int,
    now: datetime,
) -> list[DataFile]:
    """The data files to write: reviewees in a stable order (aliases, then raw IDs), `per_file` a file,
    metrics and fields in catalog order, under names that do not exist yet."""
    catalog = result.catalog
    by_reviewee: dict[str, list[RowKey]] = {}
    for r in to_write:
        by_reviewee.setdefault(r.reviewee, []).append(r)
    keys = {rid: _reviewee_key(rid, catalog) for rid in by_reviewee}
    order = sorted(by_reviewee, key=lambda rid: (keys[rid] == rid, keys[rid]))
    metric_order = {m.id: i for i, m in enumerate(catalog.metrics.values())}
    metrics = {m.id: m for m in catalog.metrics.values()}
    people = person_fields(catalog)
    stem = slug(semester_label, sep="-", keep_case=True) or "semester"
    files: list[DataFile] = []
    number = 0
    total = len(order)
    for start in range(0, total, per_file):
        chunk = order[start : start + per_file]
        number += 1
        while (out_dir / f"{stem}-{number:03d}.yaml").exists():
            number += 1
        path = out_dir / f"{stem}-{number:03d}.yaml"
        header = []
        comment = schema_comment(root, out_dir)
        if comment is not None:
            header.append(comment)
        header += [
            f"Imported from Feishu by `syncer import` on {now:%Y-%m-%d}: semester {semester_label}, "
            f"reviewees {start + 1}-{start + len(chunk)} of {total}.",
            "syncer manages these values now: edit them here, review `syncer plan`, then apply.",
        ]
        body: list[tuple[str, list[tuple[str, dict[str, str]]]]] = []
        expected: dict[RowKey, Mapping[str, str]] = {}
        for rid in chunk:
            entries = []
            for r in sorted(by_reviewee[rid], key=lambda r: metric_order.get(r.metric, 1 << 30)):
                metric = metrics[r.metric]
                texts = written[r]
                entries.append((metric.alias, {a: texts[a] for a in metric.fields if a in texts}))
                expected[r] = canonical[r]
            body.append((keys[rid], entries))
        display = display_path(root_display, f"{out_rel}/{path.name}" if out_rel not in ("", ".") else path.name)
        text = render_file(semester_label=semester_label, reviewees=body, header=header, person_fields=people)
        files.append(DataFile(path, display, text, expected))
    return files


def _relpath(target: Path, start: Path) -> str:
    return os.path.relpath(target.resolve(), start.resolve())


def write_and_check(
    files: Sequence[DataFile],
    *,
    root: Path,
    root_display: str,
    people: PeopleSourceFactory | None,
    out_dir: Path,
) -> None:
    """Write the files, then validate the whole root; on any failure remove them again."""
    created_dir = not out_dir.exists()
    written: list[Path] = []
    try:
        for f in files:
            if f.path.exists():
                raise RefusedError(f"{f.display} appeared while importing; nothing was written")
            f.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(f.path, f.text)
            written.append(f.path)
        if not files:
            return
        check = validate_root(root, root_display=root_display, people=people)
        unread = [f.display for f in files if f.display not in check.files]
        if unread:
            raise RefusedError(
                f"{', '.join(unread)} would not be read as data files (exclude: of syncer.yaml?): "
                "choose another --out-dir; nothing was written"
            )
        if not check.ok:
            raise ImportInvalid(
                check.errors,
                "with the imported files the metrics root is invalid (the problems "
                "are listed above); they were removed again and nothing was recorded",
            )
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        if created_dir and out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()
        raise
