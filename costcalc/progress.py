"""A one-line progress bar on stderr for long scans, without any dependency.

It draws only when stderr is a terminal and the input is large: a file of at least 20 MB, or a
stream of unknown size (stdin) still running after a second. Pipes, CI logs and tests stay quiet.
It is a callable `(bytes_done, bytes_total)`, which is what `scan_dataset(progress=...)` expects.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

MIN_BYTES = 20 * 1024 * 1024  # smaller files scan in a few seconds: no bar


class ProgressBar:
    """Redraws `label  42% |████      | 84.0/200.0 MB  11.9 MB/s  0:09 left` at most 5 times a second."""

    def __init__(self, label: str = "scanning", stream: TextIO | None = None, width: int = 24,
                 interval: float = 0.2, min_bytes: int = MIN_BYTES):
        self.label = label
        self.min_bytes = min_bytes
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.interval = interval
        self.started = time.monotonic()
        self._drawn_at = 0.0
        self._shown = False

    def __call__(self, done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if total is not None and total < self.min_bytes:
            return
        if total is None and now - self.started < 1.0:
            return
        if now - self._drawn_at < self.interval and (total is None or done < total):
            return
        self._drawn_at = now
        self.stream.write("\r" + self.line(done, total, now - self.started) + "\x1b[K")
        self.stream.flush()
        self._shown = True

    def line(self, done: int, total: int | None, elapsed: float) -> str:
        mb = done / 1e6
        rate = mb / elapsed if elapsed > 0 else 0.0
        if not total:
            return f"{self.label}  {mb:,.1f} MB  {rate:,.1f} MB/s"
        fraction = min(1.0, done / total)
        filled = int(fraction * self.width)
        bar = "█" * filled + " " * (self.width - filled)
        left = (total - done) / 1e6 / rate if rate > 0 else 0
        return (
            f"{self.label} {fraction:4.0%} |{bar}| {mb:,.1f}/{total / 1e6:,.1f} MB  "
            f"{rate:,.1f} MB/s  {_clock(left)} left"
        )

    def close(self) -> None:
        """Erase the bar so the report that follows starts on a clean line."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


def progress_bar(label: str = "scanning", stream: TextIO | None = None,
                 min_bytes: int = MIN_BYTES) -> ProgressBar | None:
    """A bar on `stream` (stderr), or None when it is not a terminal."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        return None
    return ProgressBar(label, stream, min_bytes=min_bytes)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"
