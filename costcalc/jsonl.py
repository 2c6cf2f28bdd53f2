"""Reading the files users hand to costcalc: a path or "-" for stdin, and one set of messages.

Training files (`dataset`, read in binary chunks by worker processes), request samples (`--sample`,
read line by line) and `costcalc tokens` input (read whole) all open their file here, so whichever
command reads it a user sees the same two messages:

    train.jsonl: cannot read: No such file or directory
    train.jsonl: not UTF-8 text (byte 9001)

The byte is the offset of the first undecodable byte in the file, counted from 0 as a hex editor
shows it (a leading BOM counts: it is three bytes of the file). A file whose first bytes say what
it is instead (gzip, UTF-16, UTF-32) is named, rather than blamed for one bad byte:

    train.jsonl: not UTF-8 text: it is UTF-16 (save it as UTF-8)
"""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Union

from .errors import DatasetError

STDIN = "-"
BOM = b"\xef\xbb\xbf"  # editors on Windows start UTF-8 files with it; it is not part of the text
GZIP = "gzip-compressed"
GZIP_MAGIC = b"\x1f\x8b"
SNIFF_BYTES = 4  # enough for every signature below
# How each kind of file that is not UTF-8 text is named, and what to do about it.
REMEDIES = {GZIP: "decompress it first", "UTF-16": "save it as UTF-8", "UTF-32": "save it as UTF-8"}

PathArg = Union[str, os.PathLike[str]]


def cannot_read(name: str, error: OSError) -> DatasetError:
    """FILE: cannot read: REASON, with the operating system's words for the reason."""
    return DatasetError(f"{name}: cannot read: {error.strerror or error}")


def not_utf8(name: str, byte: int) -> DatasetError:
    """FILE: not UTF-8 text (byte N), N the file offset of the first byte that does not decode."""
    return DatasetError(f"{name}: not UTF-8 text (byte {byte})")


def wrong_encoding(name: str, kind: str) -> DatasetError:
    """FILE: not UTF-8 text: it is KIND (what to do), for a kind `sniff` recognised."""
    return DatasetError(f"{name}: not UTF-8 text: it is {kind} ({REMEDIES[kind]})")


def sniff(head: bytes) -> str | None:
    """What a file's first bytes say it is when it is not UTF-8 text: GZIP, "UTF-16" or "UTF-32";
    None for anything else (UTF-8, or bytes that say nothing, left to the decoder).

    A UTF-16 file saved by an editor starts with its BOM; without one, text that starts with two
    ASCII characters (a JSON line starts with '{"') has a NUL byte beside each, which UTF-8 JSON
    never holds (a control character in a JSON string must be escaped).
    """
    if head.startswith(GZIP_MAGIC):
        return GZIP
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # before UTF-16's, which is its prefix
        return "UTF-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    if len(head) >= 4 and head[0] and head[2] and not head[1] and not head[3]:  # "{\0"\0": UTF-16-LE
        return "UTF-16"
    if len(head) >= 4 and not head[0] and not head[2] and head[1] and head[3]:  # "\0{\0"": UTF-16-BE
        return "UTF-16"
    return None


def peek(stream: IO[bytes], n: int = SNIFF_BYTES) -> tuple[bytes, IO[bytes]]:
    """(up to `n` first bytes, a stream that still starts with them). A buffered file or stdin
    peeks; a seekable stream seeks back; any other stream is wrapped to give the bytes back."""
    if hasattr(stream, "peek"):  # a BufferedReader, a GzipFile: no rewinding (stdin cannot)
        return stream.peek(n)[:n], stream
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        position = stream.tell()
        head = stream.read(n)
        stream.seek(position)
        return head, stream
    head = stream.read(n)
    return head, io.BufferedReader(_Replayed(head, stream))


class _Replayed(io.RawIOBase):
    """A stream whose first bytes were read to sniff it: gives them back, then reads on."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:  # a writable buffer: bytearray, memoryview
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@dataclass(frozen=True)
class Input:
    """An opened file or stdin, as bytes."""

    stream: BinaryIO
    name: str  # as messages show it: the path as given, or "-" for stdin
    size: int | None  # in bytes; None when unknown (stdin, a pipe, /dev/stdin)
    owned: bool  # False for stdin, which is not ours to close

    def close(self) -> None:
        if self.owned:
            self.stream.close()


def open_input(source: PathArg, name: str | None = None) -> Input:
    """Open a file, or stdin for "-", for reading bytes; `name` is what messages call it (default:
    the path as given). A file that cannot be opened is a DatasetError ("cannot read")."""
    if source == STDIN:
        return Input(sys.stdin.buffer, name or STDIN, None, owned=False)
    path = Path(source)
    shown = name or str(path)
    try:
        stream = open(path, "rb")  # noqa: SIM115 - Input.close closes it
    except OSError as exc:
        raise cannot_read(shown, exc) from None
    try:
        info = os.fstat(stream.fileno())
    except OSError as exc:
        stream.close()
        raise cannot_read(shown, exc) from None
    size = info.st_size if stat.S_ISREG(info.st_mode) else None  # a FIFO or /dev/stdin: unknown
    return Input(stream, shown, size, owned=True)


def read_text(source: PathArg, name: str | None = None) -> str:
    """The whole text of a UTF-8 file, or of stdin for "-"; a leading BOM is dropped."""
    if source == STDIN and not hasattr(sys.stdin, "buffer"):
        return sys.stdin.read()  # already text (a StringIO in a notebook or a test)
    opened = open_input(source, name)
    try:
        data = opened.stream.read()
    except OSError as exc:
        raise cannot_read(opened.name, exc) from None
    finally:
        opened.close()
    kind = sniff(data[:SNIFF_BYTES])
    if kind is not None:
        raise wrong_encoding(opened.name, kind)
    start = len(BOM) if data.startswith(BOM) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(opened.name, start + exc.start) from None


def numbered_lines(source: PathArg, name: str | None = None) -> Iterator[tuple[int, str]]:
    """(line number, text without its line break) of every non-blank line of a UTF-8 file or
    stdin. Lines are numbered from 1 and blank lines count, as in an editor and in `costcalc
    dataset`'s reports; lines end at "\\n" (a "\\r" before it is dropped), as JSON Lines says."""
    opened = open_input(source, name)
    offset = 0  # of the current line in the file, for "byte N"
    try:
        for number, raw in enumerate(opened.stream, 1):
            if number == 1:
                kind = sniff(raw[:SNIFF_BYTES])
                if kind is not None:
                    raise wrong_encoding(opened.name, kind)
            start = len(BOM) if number == 1 and raw.startswith(BOM) else 0
            try:
                text = raw[start:].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise not_utf8(opened.name, offset + start + exc.start) from None
            offset += len(raw)
            if text.strip():
                yield number, text.rstrip("\r\n")
    except OSError as exc:
        raise cannot_read(opened.name, exc) from None
    finally:
        opened.close()


__all__ = [
    "BOM",
    "GZIP",
    "STDIN",
    "Input",
    "cannot_read",
    "not_utf8",
    "numbered_lines",
    "open_input",
    "peek",
    "read_text",
    "sniff",
    "wrong_encoding",
]
