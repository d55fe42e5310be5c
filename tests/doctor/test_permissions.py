"""docs/live-tenant.md#permissions is syncer.doctor.permissions as a table: every endpoint with its scopes
and source, every command with its endpoints and the scopes to grant (the first scope of each endpoint that
no scope already granted for the command opens)."""

from __future__ import annotations

from pathlib import Path

from syncer.doctor.permissions import COMMANDS, ENDPOINTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "live-tenant.md"


def table_after(marker: str) -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    lines = text[text.index(marker) :].splitlines()[1:]
    rows: list[list[str]] = []
    for line in lines[2:]:  # header and rule
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def scopes(items: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{s}`" for s in items)


def to_grant(command: str) -> list[str]:
    granted: list[str] = []
    for key in COMMANDS[command]:
        endpoint = ENDPOINTS[key]
        if not set(granted) & set(endpoint.scopes):
            granted.append(endpoint.scopes[0])
    return granted


def test_the_endpoint_table_is_the_code_s() -> None:
    expected = [[e.name, scopes(e.scopes), e.source] for e in ENDPOINTS.values()]
    assert table_after("<!-- endpoint-scopes -->") == expected


def test_the_command_table_is_the_code_s() -> None:
    expected = [
        [f"`{c}`", ", ".join(ENDPOINTS[k].name for k in keys), scopes(to_grant(c))] for c, keys in COMMANDS.items()
    ]
    assert table_after("<!-- command-scopes -->") == expected


def test_a_write_scope_opens_the_read_back_of_an_apply() -> None:
    assert to_grant("apply") == ["performance:metric:write"]
