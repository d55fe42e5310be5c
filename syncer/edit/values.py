"""Editing the values of a data file in place: a value replaced where it is written (in its own quoting
style where it can be), a field added after a metric's last field, a metric after a reviewee's last
metric, a reviewee after the last one; everything else of the file (comments, order, spacing, line
endings) stays byte for byte. Positions come from libyaml's event marks, so quoted, multi-line and block
values are replaced whole. Values written with anchors or aliases (`&a`, `*a`: shared by several places)
and mappings in flow style (`{...}`) that would need new entries are refused, never edited around.

Whoever uses this should load the result back and compare (as `syncer sheet import` does)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass

import yaml

from syncer.edit.lines import TextEdits, is_content
from syncer.edit.scalars import digits, double_quoted, fmt_key, fmt_value, misread, plain_in, scalar
from syncer.load.yamlnodes import MapNode, Scalar

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class NotEditable(ValueError):
    """The file writes this place in a way syncer does not edit; the message says what to do by hand."""


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    style: str | None  # None: plain; '"', "'", '|', '>'
    flow: bool  # inside a flow collection


class DataFileEditor:
    """Edits of one data file's text, collected and applied at once by `render`."""

    def __init__(self, text: str, *, person_fields: Collection[tuple[str, str]] = ()) -> None:
        """`person_fields`: (metric alias, field alias) of the catalog's fields of people, whose raw IDs of
        digits are quoted as `syncer fmt` quotes them."""
        self.text = text
        self.person_fields = frozenset(person_fields)
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self._lines = TextEdits(text)
        self._starts = _line_starts(text)
        self._scalars: dict[tuple[int, int], _Span] = {}
        self._flow_maps: set[tuple[int, int]] = set()
        self._anchored: set[tuple[int, int]] = set()
        self._scan()
        self._edits: list[tuple[int, int, int, str]] = []  # (start, end, order, new text)

    def _scan(self) -> None:
        flow_depth = 0
        for event in yaml.parse(self.text, Loader=_Loader):
            m, end = event.start_mark, event.end_mark
            assert m is not None and end is not None
            where = (m.line + 1, m.column + 1)
            if isinstance(event, yaml.ScalarEvent):
                self._scalars[where] = _Span(m.index, end.index, event.style or None, flow_depth > 0)
                if event.anchor is not None:
                    self._anchored.add(where)
            elif isinstance(event, yaml.CollectionStartEvent):
                if event.anchor is not None:
                    self._anchored.add(where)
                if event.flow_style or flow_depth:
                    flow_depth += 1
                    if isinstance(event, yaml.MappingStartEvent):
                        self._flow_maps.add(where)
            elif isinstance(event, yaml.CollectionEndEvent) and flow_depth:
                flow_depth -= 1

    # --- checks ------------------------------------------------------------------------------------------

    def _shared(self, *nodes: Scalar | MapNode) -> None:
        for node in nodes:
            if (node.line, node.col) in self._anchored:
                raise NotEditable(
                    f"line {node.line} is written with a YAML anchor (&name), shared by every alias (*name) of "
                    "it; edit this value in the data file by hand"
                )

    def _block(self, node: MapNode, what: str) -> None:
        if (node.line, node.col) in self._flow_maps:
            raise NotEditable(
                f"{what} at line {node.line} is written in flow style ({{...}}); add the entry in the data file "
                "by hand, or write the mapping in block style"
            )

    # --- edits -------------------------------------------------------------------------------------------

    def set_value(
        self,
        value: Scalar,
        field_key: Scalar,
        text: str,
        *,
        parents: Sequence[MapNode] = (),
        metric: str | None = None,
    ) -> None:
        """Replace the value `value` (of `field_key`, of the metric `metric`) by `text`, in its own quoting
        style when it can be."""
        self._shared(value, *parents)
        span = self._scalars.get((value.line, value.col))
        if span is None or value.text is None:  # pragma: no cover - the loader and the scan see one file
            raise NotEditable(f"the value at line {value.line} could not be found in the file's text")
        id_field = (metric, field_key.text) in self.person_fields
        new = self._render(text, span, indent=field_key.col - 1, id_field=id_field)
        old = self.text[span.start : span.end]
        if old.endswith(("\n", "\r")):  # a block scalar's span takes its last line break
            new += self.newline
        self._edit(span.start, span.end, new)

    def _render(self, text: str, span: _Span, *, indent: int, id_field: bool) -> str:
        if span.style == "'" and "\n" not in text and all(ch.isprintable() for ch in text):
            return "'" + text.replace("'", "''") + "'"
        if span.style == '"':
            if not span.flow and "\n" in text:  # as `syncer fmt` writes it: a literal block where one can be
                written = scalar(text, indent=indent)
                if written.startswith("|"):
                    return written.replace("\n", self.newline)
            return double_quoted(text)
        if span.flow:
            if plain_in(text, flow=True) and not misread(text) and not (id_field and digits(text)):
                return text
            return double_quoted(text)
        return fmt_value(text, indent=indent, id_field=id_field).replace("\n", self.newline)

    def add_field(
        self,
        metric_key: Scalar,
        metric: MapNode,
        alias: str,
        text: str,
        *,
        parents: Sequence[MapNode] = (),
        order: Sequence[str] = (),
    ) -> None:
        """A new `alias: text` line among the metric's fields: where `order` (the catalog's order of the
        metric's fields, which `syncer fmt` keeps) puts it, before the comments and blank lines of the field
        it goes before; after the last field when `order` does not say."""
        self._shared(metric, *parents)
        self._block(metric, f"metric {metric_key.text!r}")
        indent = metric.items[0][0].col - 1 if metric.items else metric_key.col + 1
        line = _field_line(indent, alias, text, id_field=(metric_key.text, alias) in self.person_fields)
        rank = {a: i for i, a in enumerate(order)}
        after = [k for k, _ in metric.items if alias in rank and rank.get(k.text or "", -1) > rank[alias]]
        if not after:
            self._insert_lines(metric_key.line, metric, indent, [line])
            return
        index = after[0].line - 1  # the line of the field it goes before (0-based)
        while index > metric_key.line and not is_content(self._lines.lines[index - 1]):
            index -= 1  # its own comments and blank lines stay with it
        self._edit(self._starts[index], self._starts[index], line + self.newline)

    def add_metric(
        self,
        reviewee_key: Scalar,
        reviewee: MapNode,
        alias: str,
        fields: MappingOf[str, str],
        *,
        parents: Sequence[MapNode] = (),
    ) -> None:
        """A new metric with its fields after the reviewee's last metric, indented like its others."""
        self._shared(reviewee, *parents)
        self._block(reviewee, f"reviewee {reviewee_key.text!r}")
        indent = reviewee.items[0][0].col - 1
        step = _step(reviewee.items[0][1], indent)
        self._insert_lines(
            reviewee_key.line, reviewee, indent, _metric_lines(indent, step, alias, fields, self.person_fields)
        )

    def add_reviewee(
        self,
        reviewees_key: Scalar,
        reviewees: MapNode,
        reviewee: str,
        metrics: Sequence[tuple[str, MappingOf[str, str]]],
    ) -> None:
        """A new reviewee with its metrics after the last reviewee, indented like the others."""
        self._shared(reviewees)
        self._block(reviewees, "reviewees:")
        indent = reviewees.items[0][0].col - 1
        first = reviewees.items[0][1]
        step = _step(first, indent)
        lines = [" " * indent + f"{fmt_key(reviewee)}:"]
        for alias, fields in metrics:
            lines += _metric_lines(indent + step, step, alias, fields, self.person_fields)
        self._insert_lines(reviewees_key.line, reviewees, indent, lines)

    def _insert_lines(self, start_line: int, node: MapNode, indent: int, lines: list[str]) -> None:
        index = self._lines.end_of_block(start_line, node, indent)
        offset = self._starts[index] if index < len(self._starts) else len(self.text)
        body = "\n".join(lines) + "\n"
        if self.newline != "\n":
            body = body.replace("\n", self.newline)
        if offset == len(self.text) and self.text and not self.text.endswith(("\n", "\r")):
            body = self.newline + body
        self._edit(offset, offset, body)

    def _edit(self, start: int, end: int, new: str) -> None:
        self._edits.append((start, end, len(self._edits), new))

    @property
    def changed(self) -> bool:
        return bool(self._edits)

    def render(self) -> str:
        out: list[str] = []
        pos = 0
        for start, end, _, new in sorted(self._edits):
            if start < pos:  # pragma: no cover - edits of one file never overlap
                raise NotEditable("two edits of one place")
            out.append(self.text[pos:start])
            out.append(new)
            pos = end
        out.append(self.text[pos:])
        return "".join(out)


def _line_starts(text: str) -> list[int]:
    """The offset of each line as `str.splitlines` (and so TextEdits) numbers them."""
    starts = []
    pos = 0
    for line in text.splitlines(keepends=True):
        starts.append(pos)
        pos += len(line)
    return starts


def _step(metric_or_fields: object, indent: int) -> int:
    """The indentation step the file uses below `indent` (2 when it cannot be seen)."""
    if isinstance(metric_or_fields, MapNode) and metric_or_fields.items:
        col = metric_or_fields.items[0][0].col - 1
        if col > indent:
            return col - indent
    return 2


def _field_line(indent: int, alias: str, text: str, *, id_field: bool) -> str:
    return " " * indent + f"{fmt_key(alias)}: {fmt_value(text, indent=indent, id_field=id_field)}"


def _metric_lines(
    indent: int, step: int, alias: str, fields: MappingOf[str, str], person_fields: Collection[tuple[str, str]]
) -> list[str]:
    lines = [" " * indent + f"{fmt_key(alias)}:"]
    lines += [_field_line(indent + step, f, t, id_field=(alias, f) in person_fields) for f, t in fields.items()]
    return lines
