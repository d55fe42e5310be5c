"""read_csv: csv files as people's programs write them (UTF-8 with or without a BOM, GB18030 from Chinese
Excel and WPS, UTF-16 "Unicode text"; commas, semicolons or tabs) read the same, what was detected said in
one line; a file that could be read more than one way, or no way, is refused once, with how to save it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from syncer.errors import SyncerError
from syncer.sheet.csvfile import SAVE_UTF8, Detected, read_csv
from tests.example import copy_example
from tests.sheet.helpers import export, run, snapshot

NOTE = '第一行：客户续约, 含逗号; 和分号\n第二行 "引号"\n'  # a Chinese note over lines, with every separator
COLUMNS = frozenset({"semester", "file", "reviewee", "metric", "actual", "note"})


def _rows(root: Path, out: Path) -> list[list[str]]:
    """The open semester of the example exported as csv, alice's revenue note made NOTE."""
    path = export(root, out, "--semester", "2026-H2")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    note, reviewee, metric = (rows[0].index(c) for c in ("note", "reviewee", "metric"))
    [row] = [r for r in rows if r[reviewee] == "alice" and r[metric] == "revenue"]
    row[note] = NOTE
    return rows


def _write(path: Path, rows: list[list[str]], encoding: str, sep: str) -> Path:
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def _import(root: Path, path: Path) -> str:
    r = run("sheet", "import", path.name, "--root", str(root))  # the working directory is the file's
    assert r.exit_code == 0, r.output
    return r.output


@pytest.mark.parametrize(
    ("encoding", "sep", "shown"),
    [
        ("utf-8-sig", ";", "UTF-8, separated by ';'"),  # Excel's CSV UTF-8 in a locale whose list separator is ;
        ("utf-8", "\t", "UTF-8, separated by tabs"),
        ("gb18030", ",", "GB18030, separated by ','"),  # Chinese Excel and WPS: the system code page
        ("gb18030", ";", "GB18030, separated by ';'"),
        ("gb18030", "\t", "GB18030, separated by tabs"),
        ("utf-16", "\t", "UTF-16, separated by tabs"),  # Excel's "Unicode text"
        ("utf-16", ";", "UTF-16, separated by ';'"),
    ],
)
def test_each_encoding_and_separator_imports_as_the_comma_utf8_file_does(
    root: Path, tmp_path: Path, encoding: str, sep: str, shown: str
) -> None:
    rows = _rows(root, tmp_path / "export.csv")
    twin = copy_example(tmp_path / "twin")
    out = _import(twin, _write(tmp_path / "plain.csv", rows, "utf-8", ","))
    assert "read plain.csv as UTF-8, separated by ','" in out
    assert "第二行" in (twin / "teams" / "sales.yaml").read_text(encoding="utf-8")
    theirs = _write(tmp_path / "theirs.csv", rows, encoding, sep)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            theirs.read_bytes().decode("utf-8")  # the note makes it a file only GB18030 reads
    out = _import(root, theirs)
    assert f"read theirs.csv as {shown}\n" in out
    assert snapshot(root) == snapshot(twin)


def test_the_separator_is_the_headers_not_the_one_a_multiline_note_is_full_of() -> None:
    note = '"' + ",".join("abcdefgh") + "\n" + ",".join("ijklmn") + '"'
    data = f"reviewee;metric;note\r\nalice;revenue;{note}\r\n".encode()
    book, detected = read_csv(data, "f.csv", columns=COLUMNS)
    assert detected == Detected("UTF-8", ";")
    assert [c.value for c in book.tables[0].rows[0]] == ["alice", "revenue", note.strip('"')]


def test_the_header_is_matched_as_import_matches_it_case_and_spaces_aside() -> None:
    _, detected = read_csv(b"Reviewee ; METRIC ; Note\r\nalice;revenue;a, b\r\n", "f.csv", columns=COLUMNS)
    assert detected == Detected("UTF-8", ";")


def test_a_header_named_only_in_utf8_is_utf8_though_gb18030_reads_the_bytes_too() -> None:
    data = "reviewee,metric,目标\r\nalice,revenue,1\r\n".encode()
    assert data.decode("gb18030")  # other text, naming fewer columns
    _, detected = read_csv(data, "f.csv", columns=COLUMNS | {"目标"})
    assert detected == Detected("UTF-8", ",")


def test_a_header_named_only_in_gb18030_is_gb18030_though_the_bytes_are_utf8_too() -> None:
    data = "reviewee,metric,专业\r\nalice,revenue,1\r\n".encode("gb18030")
    assert data.decode("utf-8")  # other text (רҵ), naming fewer columns
    _, detected = read_csv(data, "f.csv", columns=COLUMNS | {"专业"})
    assert detected == Detected("GB18030", ",")


def test_a_header_of_one_column_is_read_as_commas() -> None:
    book, detected = read_csv(b"reviewee\r\nalice;revenue\r\n", "f.csv", columns=COLUMNS)
    assert detected == Detected("UTF-8", ",")
    assert [c.value for c in book.tables[0].rows[0]] == ["alice;revenue"]


def _refused(data: bytes, columns: frozenset[str] = COLUMNS) -> str:
    with pytest.raises(SyncerError) as err:
        read_csv(data, "f.csv", columns=columns)
    text = str(err.value)
    assert text.count("f.csv") == 1, text  # one location
    return text


def test_bytes_whose_utf8_and_gb18030_headers_name_different_columns_are_ambiguous() -> None:
    data = "reviewee,metric,目标\r\n".encode()
    other = data.decode("gb18030").split(",")[2].strip()  # the same bytes as GB18030: 鐩爣
    text = _refused(data, COLUMNS | {"目标", other})
    assert text.startswith(
        f"f.csv:1:1: the header names other columns read as UTF-8 (目标) than read as GB18030 ({other})"
    )
    assert text.endswith(SAVE_UTF8)


def test_a_header_that_names_columns_split_two_ways_is_ambiguous() -> None:
    text = _refused(b"reviewee;note,metric\r\nalice;x,revenue\r\n")
    assert text.startswith("f.csv:1:1: the header names as many columns split at ',' as at ';'")


@pytest.mark.parametrize(
    "data",
    [
        "名字,指标\r\n".encode("gb18030"),  # no column syncer knows, in any encoding
        "reviewee,metric\r\n".encode("utf-16-le"),  # UTF-16 without its BOM
        b'"' + b"x" * 200_000 + b'",reviewee\r\n',  # a header cell larger than a csv field may be
    ],
)
def test_a_header_that_names_no_column_any_way_is_refused(data: bytes) -> None:
    text = _refused(data)
    assert text.startswith("f.csv:1:1: the header (row 1) names no column syncer knows (semester, file, reviewee,")
    assert "in the Text Import dialog" in text and text.endswith(SAVE_UTF8)


def test_bytes_neither_utf8_nor_gb18030_are_refused_at_the_first_bad_byte() -> None:
    text = _refused(b"reviewee,metric\r\nab\xff\r\n")
    assert text == f"f.csv:2:3: the file is neither UTF-8 nor GB18030 (byte 0xff): {SAVE_UTF8}"


def test_a_byte_order_mark_decides_the_encoding() -> None:
    gbk = "reviewee,metric,note\r\nalice,revenue,张三\r\n".encode("gb18030")
    assert read_csv(gbk, "f.csv", columns=COLUMNS)[1] == Detected("GB18030", ",")
    text = _refused(b"\xef\xbb\xbf" + gbk)  # a UTF-8 BOM: UTF-8 or nothing
    assert text == f"f.csv:2:15: the file is not UTF-8 (byte 0xd5): {SAVE_UTF8}"
    text = _refused(b"\xff\xfer\x00\x00\xd8")  # a UTF-16 BOM, then a lone surrogate
    assert text == f"f.csv:1:2: the file is not UTF-16 (byte 0x00): {SAVE_UTF8}"
    assert _refused(b"\xff\xfe\x00\x00r\x00\x00\x00") == f"f.csv:1:1: the file is UTF-32: {SAVE_UTF8}"


def test_a_quote_left_open_is_refused_at_its_line_with_the_separator() -> None:
    text = _refused(b'reviewee;metric;note\r\nalice;revenue;"a\r\nb"\r\nbob;"nps"x\r\n')
    assert text.startswith("f.csv:3:1: not a readable csv file read as UTF-8, separated by ';' (")  # row 3


def test_a_refused_csv_file_shows_its_location_once(root: Path, tmp_path: Path) -> None:
    before = snapshot(root)
    path = tmp_path / "book.csv"
    path.write_bytes(b"semester,file,reviewee,metric\r\n2026-H2,x.yaml,\x80\r\n")
    r = run("sheet", "import", str(path), "--root", str(root))
    assert r.exit_code == 1
    assert (
        r.output == f"error: {path.as_posix()}:2:16: the file is neither UTF-8 nor GB18030 (byte 0x80): {SAVE_UTF8}\n"
    )
    assert snapshot(root) == before


def test_a_header_of_key_columns_in_chinese_alone_is_read(root: Path, tmp_path: Path) -> None:
    """A csv file whose header names only the key columns, in Chinese (as a Chinese workbook names them),
    is known by them: its encoding and separator are found, and it imports as nothing to change."""
    rows = _rows(root, tmp_path / "export.csv")
    keys = [rows[0].index(c) for c in ("semester", "file", "reviewee", "metric")]
    chinese = [["周期", "文件", "被评估人", "指标"]] + [[r[i] for i in keys] for r in rows[1:]]
    out = _import(root, _write(tmp_path / "keys.csv", chinese, "gb18030", ";"))
    assert "read keys.csv as GB18030, separated by ';'" in out and "nothing to change" in out, out
