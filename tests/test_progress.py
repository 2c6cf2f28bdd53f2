"""The progress bar of long scans: drawn on a terminal only, for large files only, in one line."""

from __future__ import annotations

import io

from costcalc.progress import ProgressBar, progress_bar


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal():
    assert progress_bar(stream=io.StringIO()) is None
    assert isinstance(progress_bar(stream=Terminal()), ProgressBar)


def test_progress_bar_draws_for_large_files_only():
    stream = Terminal()
    bar = ProgressBar(stream=stream, min_bytes=1000, interval=0)
    bar(10, 999)  # a small file: quiet
    assert stream.getvalue() == ""
    bar(500, 1000)
    assert stream.getvalue().startswith("\rscanning  50% |" + "█" * 12 + " " * 12 + "| 0.0/0.0 MB")
    bar.close()
    assert stream.getvalue().endswith("\r\x1b[K")


def test_progress_bar_line():
    bar = ProgressBar(width=10)
    assert bar.line(50_000_000, 200_000_000, 5.0) == \
        "scanning  25% |██        | 50.0/200.0 MB  10.0 MB/s  0:15 left"
    assert bar.line(30_000_000, None, 3.0) == "scanning  30.0 MB  10.0 MB/s"
