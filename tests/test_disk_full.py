"""A full disk while a report is written: one line naming the file, exit 1, nothing left behind.

matplotlib's PDF writer hides the disk-full OSError behind a zlib.error ("inconsistent stream
state") as it cleans up; the atomic writer reports the OSError either way.
"""

from __future__ import annotations

import errno
import io
import os
import zlib

import matplotlib.cbook
import pytest

from costcalc import CostCalcError
from costcalc.atomic import atomic_path, write_bytes

SCENARIO = """\
schema_version = 1
baseline = "Base"

[traffic]
requests_per_month = 30_000
start_month = "2024-02"
horizon_months = 3
prompt_tokens = 1_000
completion_tokens = 100

[strategies."Base"]
type = "base"
model = "gpt-3.5-turbo"
"""


class FullDisk(io.FileIO):
    """A real file on a disk that fills up after 4 KB: later writes fail as the system fails them."""

    def write(self, data) -> int:
        if self.tell() + len(data) > 4096:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


@pytest.fixture
def full_disk(monkeypatch):
    """Every file matplotlib opens by name for writing is on the full disk (not its in-memory files),
    and so is every file written by `Path.write_bytes` (the PDF, once its parts are joined)."""

    def write_bytes(self, data) -> int:
        with FullDisk(self, "wb") as handle:
            return handle.write(data)

    monkeypatch.setattr("pathlib.Path.write_bytes", write_bytes)
    original = matplotlib.cbook.to_filehandle

    def to_filehandle(name, flag="r", return_opened=False, encoding=None):
        if not isinstance(name, (str, os.PathLike)) or "w" not in flag:
            return original(name, flag, return_opened, encoding)
        handle = FullDisk(name, "wb")
        return (handle, True) if return_opened else handle

    monkeypatch.setattr(matplotlib.cbook, "to_filehandle", to_filehandle)


def test_report_on_a_full_disk_is_one_line_exit_1_and_leaves_nothing(run, tmp_path, monkeypatch, full_disk):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SCENARIO)
    result = run("report", "s.toml", "-o", "out/x.pdf")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", "Error: out/x.pdf: cannot write: No space left on device\n")
    assert list((tmp_path / "out").iterdir()) == []  # no x.pdf, no .x.pdf.*.tmp


def test_a_zlib_error_alone_is_a_failed_write_too(tmp_path):
    with pytest.raises(CostCalcError) as err, atomic_path(tmp_path / "x.pdf") as temp:
        temp.write_bytes(b"%PDF-1.4\n")
        raise zlib.error("Error -2 while flushing: inconsistent stream state")
    assert str(err.value) == f"{tmp_path / 'x.pdf'}: cannot write: Error -2 while flushing: inconsistent stream state"
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "report.md"
    target.write_text("old")

    def fail(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pathlib.Path.write_bytes", fail)
    with pytest.raises(CostCalcError) as err:
        write_bytes(target, b"new")
    assert str(err.value) == f"{target}: cannot write: No space left on device"
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]
