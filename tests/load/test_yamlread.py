"""Reading a file's bytes before parsing (syncer.load.yamlread): UTF-8 with or without a BOM, nothing else,
and no bigger than max_file_bytes; links are named, never followed."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from syncer.errors import LoadError
from syncer.load.yamlnodes import to_plain
from syncer.load.yamlparse import parse
from syncer.load.yamlread import read_text_bytes, read_tree_bytes


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    p = tmp_path / "bom.yaml"
    p.write_bytes(codecs.BOM_UTF8 + "名字: 值\n".encode())
    assert to_plain(parse(read_text_bytes(p, "bom.yaml", max_bytes=1000), "bom.yaml")) == {"名字": "值"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (codecs.BOM_UTF16_LE + "a: 1\n".encode("utf-16-le"), "UTF-16"),
        (codecs.BOM_UTF32_BE + "a: 1\n".encode("utf-32-be"), "UTF-32"),
    ],
)
def test_other_encodings_are_refused(tmp_path: Path, data: bytes, message: str) -> None:
    p = tmp_path / "x.yaml"
    p.write_bytes(data)
    with pytest.raises(LoadError, match=message):
        read_text_bytes(p, "x.yaml", max_bytes=1000)


def test_invalid_utf8_is_located(tmp_path: Path) -> None:
    p = tmp_path / "x.yaml"
    p.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(LoadError) as exc:
        read_text_bytes(p, "x.yaml", max_bytes=1000)
    assert exc.value.source is not None
    assert (exc.value.source.line, exc.value.source.col) == (2, 7)
    assert "not valid UTF-8" in exc.value.message


def test_max_file_bytes(tmp_path: Path) -> None:
    p = tmp_path / "big.yaml"
    p.write_bytes(b"a: " + b"x" * 200 + b"\n")
    with pytest.raises(LoadError, match="more than max_file_bytes"):
        read_text_bytes(p, "big.yaml", max_bytes=100)
    assert parse(read_text_bytes(p, "big.yaml", max_bytes=1000), "big.yaml") is not None


def test_read_tree_bytes_gives_the_bytes_without_a_bom(tmp_path: Path) -> None:
    p = tmp_path / "a.yaml"
    p.write_bytes(codecs.BOM_UTF8 + b"a: 1\n")
    assert read_tree_bytes(p, "a.yaml", max_bytes=1000) == b"a: 1\n"


def test_read_tree_bytes_gives_what_keeps_a_file_from_being_read_as_a_problem(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * 200 + b"\n")
    too_big = read_tree_bytes(big, "big.yaml", max_bytes=100)
    assert not isinstance(too_big, bytes)
    assert (too_big.file, too_big.line, too_big.col, too_big.severity) == ("big.yaml", 1, 1, "error")
    assert "more than max_file_bytes" in too_big.message
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: 1\nb: caf\xe9\n")
    not_utf8 = read_tree_bytes(bad, "bad.yaml", max_bytes=1000)
    assert not isinstance(not_utf8, bytes)
    assert (not_utf8.line, not_utf8.col) == (2, 7)


def test_a_link_is_never_followed_and_named(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_bytes(b"a: 1\n")
    link = tmp_path / "link.yaml"
    os.symlink(tmp_path / "real.yaml", link)
    problem = read_tree_bytes(link, "link.yaml", max_bytes=1000)
    assert not isinstance(problem, bytes)
    assert (problem.file, problem.code) == ("link.yaml", "symlink")
    assert "symbolic link" in problem.message
