"""Placing a catalog pull's additions in catalog.yaml's text: new lines in the file's own style (its
indentation step, flow mappings for fields, quoted IDs), after the last line of the mapping they belong to, or
a new section where the file has none. What syncer will not edit (a flow-style or scalar section) becomes a note
asking for the lines to be added by hand."""

from __future__ import annotations

import re

from syncer.edit.lines import TextEdits
from syncer.live.pulled import (
    INPUT_SETTINGS,
    SECTIONS,
    WEIGHT_FIELD_ID,
    MergePlan,
    PulledField,
    ended,
    feishu_names,
    items,
    names_comment,
    section,
)
from syncer.load.yamlnodes import MapNode, Node, Scalar

_NULL_LINE = re.compile(r"^(?P<head>\s*[^#\s][^#]*?:)\s*(?:~|null|Null|NULL)?\s*(?P<comment>#.*)?$")


def _step(tree: MapNode | None) -> int:
    for name in SECTIONS:
        key, node = section(tree, name)
        if key is not None and isinstance(node, MapNode) and node.items:
            first = node.items[0][0]
            if first.line > key.line and first.col > key.col:
                return first.col - key.col
    return 2


def _semester_lines(plan: MergePlan) -> list[tuple[int, str]]:
    lines = []
    for alias, s in plan.semesters:
        day = ended(s, plan.now_ms)
        if day is None:
            lines.append((0, f'{alias}: "{s.id}"{names_comment(feishu_names(s.name))}'))
        else:
            why = f": ended {day} in Feishu, so closed (left out of plans; remove `closed` while input is open)"
            lines.append((0, f'{alias}: {{id: "{s.id}", closed: true}}{names_comment(feishu_names(s.name), why)}'))
    return lines


def _field_line(alias: str, f: PulledField, width: int = 0) -> str:
    parts = [f'id: "{f.field_id}"', f"type: {f.type}"]
    if f.field_id == WEIGHT_FIELD_ID and f.type == "percentage":
        parts.append("role: weight")
    if f.input_setting in INPUT_SETTINGS:
        parts.append(f"input_setting: {f.input_setting}")
    return f"{(alias + ':').ljust(width)} {{{', '.join(parts)}}}{names_comment(feishu_names(f.name))}"


def _metric_lines(plan: MergePlan) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for alias, m, fields in plan.metrics:
        extra = " (inactive in the library)" if m.is_active is False else ""
        out.append((0, f"{alias}:{names_comment(feishu_names(m.name), extra)}"))
        out.append((1, f'id: "{m.metric_id}"'))
        out.append((1, "fields:"))
        width = max(len(a) + 1 for a, _ in fields)
        out += [(2, _field_line(a, f, width)) for a, f in fields]
    return out


def place(doc: TextEdits, tree: MapNode | None, plan: MergePlan) -> None:
    step = _step(tree)
    top = tree.items[0][0].col - 1 if tree is not None and tree.items else 0
    wanted = {"semesters": _semester_lines(plan), "metrics": _metric_lines(plan), "templates": plan.templates}
    for name in ("semesters", "metrics", "templates"):
        if wanted[name]:
            key, node = section(tree, name)
            if key is None:
                _new_section(doc, tree, name, wanted[name], top=top, step=step)
            else:
                _into(doc, key, node, wanted[name], step=step, plan=plan, what=name, group=name)
    _, met_node = section(tree, "metrics")
    for k, v in items(met_node):
        new = plan.fields.get(k.text or "")
        if not new:
            continue
        fkey = v.key("fields") if isinstance(v, MapNode) else None
        lines = [(0, _field_line(a, f)) for a, f in new]
        group = f"metric:{k.text}"
        if fkey is None or not isinstance(v, MapNode) or _is_flow(doc, v):
            _manual(plan, f"metric {k.text!r}", lines, group)
            continue
        _into(doc, fkey, v.get("fields"), lines, step=step, plan=plan, what=f"metric {k.text!r}", group=group)


def _is_flow(doc: TextEdits, node: MapNode) -> bool:
    return doc.char_at(node.line, node.col) == "{"


def _manual(plan: MergePlan, what: str, lines: list[tuple[int, str]], group: str) -> None:
    shown = "; ".join(text.split("   #")[0] for depth, text in lines if depth == 0)
    plan.notes.append(
        f"{what} is written in a style syncer does not edit (flow style or a scalar): add by hand: {shown}"
    )
    plan.additions.pop(group, None)


def _render(lines: list[tuple[int, str]], indent: int, step: int) -> list[str]:
    return [" " * (indent + depth * step) + text for depth, text in lines]


def _into(
    doc: TextEdits,
    key: Scalar,
    node: Node | None,
    lines: list[tuple[int, str]],
    *,
    step: int,
    plan: MergePlan,
    what: str,
    group: str,
) -> None:
    """Append items to the mapping that is the value of `key`."""
    if isinstance(node, MapNode) and node.items and not _is_flow(doc, node):
        indent = node.items[0][0].col - 1
        doc.insert(doc.end_of_block(key.line, node, indent), _render(lines, indent, step))
        return
    indent = key.col - 1 + step
    line = doc.lines[key.line - 1]
    if isinstance(node, MapNode) and not node.items and _is_flow(doc, node) and node.line == key.line:
        start = node.col - 1
        close = line.find("}", start)
        if close != -1 and not line[start + 1 : close].strip():
            doc.replaced[key.line - 1] = (line[:start].rstrip() + line[close + 1 :]).rstrip()
            doc.insert(key.line, _render(lines, indent, step))
            return
    if isinstance(node, Scalar) and node.text is None:
        m = _NULL_LINE.match(line)
        if m:
            comment = m.group("comment")
            doc.replaced[key.line - 1] = m.group("head") + (f"  {comment}" if comment else "")
            doc.insert(key.line, _render(lines, indent, step))
            return
    _manual(plan, what, lines, group)


def _new_section(
    doc: TextEdits, tree: MapNode | None, name: str, lines: list[tuple[int, str]], *, top: int, step: int
) -> None:
    block = [" " * top + f"{name}:", *_render(lines, top + step, step)]
    later = [k for n in SECTIONS[SECTIONS.index(name) + 1 :] if (k := section(tree, n)[0]) is not None]
    if later:
        index = min(k.line for k in later) - 1
        while index > 0 and doc.lines[index - 1].lstrip().startswith("#"):
            index -= 1
        doc.insert(index, [*block, ""])
        return
    index = len(doc.lines)
    while index > 0 and not doc.lines[index - 1].strip():
        index -= 1
    if tree is None:  # nothing but comments (or nothing): append after them
        doc.insert(len(doc.lines), ["", *block] if doc.lines or doc.inserts else block)
        return
    doc.insert(index, ["", *block])
