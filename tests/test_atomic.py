"""Writing reports: a path that cannot be written is a one-line error, and nothing is left behind."""

from __future__ import annotations

import os

import pytest

from costcalc import CostCalcError, atomic
from costcalc.atomic import write_text


def test_a_file_where_a_folder_must_be(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("keep me")
    with pytest.raises(CostCalcError) as err:
        write_text("afile/report.md", "# report")
    assert str(err.value) == "afile/report.md: cannot write: afile is a file, not a folder"
    assert (tmp_path / "afile").read_text() == "keep me"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old")
    with pytest.raises(ZeroDivisionError):
        from costcalc.atomic import atomic_path

        with atomic_path(target) as temp:
            temp.write_text("half")
            1 / 0
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    atomic.write_text(target, "one\n")
    atomic.write_text(target, "two\n")
    assert target.read_bytes() == b"two\n"
    assert os.listdir(target.parent) == ["out.txt"]


def test_atomic_files_get_ordinary_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        path = atomic.write_bytes(tmp_path / "x.bin", b"\x00")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_report_to_an_unwritable_path_is_one_line_exit_1(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("")
    result = run("report", "-o", "afile/x.pdf")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", "Error: afile/x.pdf: cannot write: afile is a file, not a folder\n")


def test_text_with_a_lone_surrogate_is_written_with_a_replacement_character(tmp_path):
    # "bad\udcffname": how Python reads the file name b"bad\xffname" (surrogateescape).
    write_text(tmp_path / "x.md", "dataset bad\udcffname.jsonl\n")
    assert (tmp_path / "x.md").read_bytes() == "dataset bad\ufffdname.jsonl\n".encode()


def test_markdown_report_of_a_training_file_whose_name_is_not_utf8(run, tmp_path, monkeypatch):
    from pathlib import Path

    import costcalc

    monkeypatch.chdir(tmp_path)
    example = Path(costcalc.__file__).parent / "examples" / "example-train.jsonl"
    name = os.fsdecode(b"bad\xffname.jsonl")
    (tmp_path / name).write_bytes(example.read_bytes())
    result = run("report", "--dataset", name, "-o", "r.md")
    assert result.exit_code == 0, result.stderr
    assert "bad\ufffdname.jsonl" in (tmp_path / "r.md").read_text(encoding="utf-8")


def test_checking_a_path_leaves_no_folder_it_made_and_none_that_was_there_missing(tmp_path):
    from costcalc.atomic import check_writable

    (tmp_path / "kept").mkdir()
    check_writable(tmp_path / "kept" / "new" / "deeper" / "x.pdf")
    check_writable(tmp_path / "made" / "x.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]
    assert list((tmp_path / "kept").iterdir()) == []
    (tmp_path / "afile").write_text("in the way")
    with pytest.raises(CostCalcError, match=r"afile/x.pdf: cannot write: .*afile is a file, not a folder"):
        check_writable(tmp_path / "afile" / "x.pdf")
