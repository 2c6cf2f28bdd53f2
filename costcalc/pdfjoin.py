"""The pages of PDFs that matplotlib wrote, put together in one PDF.

The report's pages are drawn as two PDFs by two processes at once (`costcalc.report.write_pdf`);
this joins them. It is not a general PDF library: it reads what matplotlib's PDF backend writes
(one cross-reference table, every object written whole, no object streams, no incremental
updates) and raises `ValueError` on anything else. Each object is copied as it is, renumbered:
only the references in its dictionary change, never a byte of its stream. A general reader
(pypdf) took a tenth of a second to import, read and write the report's halves; this takes
a few milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# "12 0 R": a reference to object 12. Not the end of a longer number ("112 0 R", "0.12 0 R").
_REFERENCE = re.compile(rb"(?<![\d.])(\d+) 0 R\b")
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_TRAILER_KEY = re.compile(rb"/(Root|Info) (\d+) 0 R")
_KIDS = re.compile(rb"/Kids \[([^\]]*)\]")
# Where an object's dictionary ends and its stream starts: past here, bytes are copied untouched.
_STREAM = re.compile(rb">>\s*stream\r?\n")


@dataclass(frozen=True)
class _Part:
    """One PDF: its objects (number -> the bytes from "N 0 obj" to "endobj"), its catalog, page
    tree and information dictionary, and its pages in order."""

    header: bytes  # "%PDF-1.4" and the comment of binary bytes that says the file is binary
    objects: dict[int, bytes]
    catalog: int
    pages: int
    info: int | None
    kids: list[int]


def join(parts: Sequence[bytes], order: Sequence[tuple[int, int]], metadata: dict[str, str]) -> bytes:
    """One PDF of the pages of `parts`, in `order`: (part, page of that part) pairs, 0-based.
    `metadata` is its information dictionary ({"/Title": ...}); every part's own is dropped."""
    read = [_read(part) for part in parts]
    numbers: dict[tuple[int, int], int] = {}  # (part, number there) -> number here
    for k, part in enumerate(read):
        for number in part.objects:
            # One catalog and one page tree (the first part's) for all; an information dictionary of its own.
            if number not in (part.catalog, part.info) and (k == 0 or number != part.pages):
                numbers[(k, number)] = len(numbers) + 1
    catalog, info = len(numbers) + 1, len(numbers) + 2
    pages = numbers[(0, read[0].pages)]
    for k, part in enumerate(read):
        numbers[(k, part.pages)] = pages  # each part's pages hang from the one page tree

    objects: dict[int, bytes] = {}
    for k, part in enumerate(read):
        for number, body in part.objects.items():
            if number not in (part.catalog, part.info, part.pages):
                objects[numbers[(k, number)]] = _renumbered(body, lambda old, k=k: numbers[(k, old)])
    kids = b" ".join(b"%d 0 R" % numbers[(k, read[k].kids[page])] for k, page in order)
    objects[pages] = b"%d 0 obj\n<< /Type /Pages /Kids [ %s ] /Count %d >>\nendobj\n" % (pages, kids, len(order))
    objects[catalog] = b"%d 0 obj\n<< /Type /Catalog /Pages %d 0 R >>\nendobj\n" % (catalog, pages)
    entries = b" ".join(b"/%s %s" % (key.lstrip("/").encode("ascii"), _text(value)) for key, value in metadata.items())
    objects[info] = b"%d 0 obj\n<< %s >>\nendobj\n" % (info, entries)
    return _write(read[0].header, objects, catalog, info)


def _read(pdf: bytes) -> _Part:
    try:
        return _parse(pdf)
    except (IndexError, KeyError, AttributeError, TypeError, ValueError) as error:
        raise ValueError(f"not a PDF as matplotlib writes one: {error}") from None


def _parse(pdf: bytes) -> _Part:
    found = _STARTXREF.search(pdf)
    if found is None or not pdf.startswith(b"%PDF-"):
        raise ValueError("not a PDF ending in a cross-reference table")
    xref = int(found.group(1))
    head, _, rest = pdf[xref:].partition(b"trailer")
    lines = head.split(b"\n")
    if lines[0].strip() != b"xref":
        raise ValueError("no cross-reference table where startxref points")
    first, count = (int(n) for n in lines[1].split())
    if first != 0 or len(lines) < 2 + count:
        raise ValueError("a cross-reference table in more than one section")
    offsets: dict[int, int] = {}
    for number, entry in enumerate(lines[2:2 + count], start=first):
        position, _generation, kind = entry.split()
        if kind == b"n":
            offsets[number] = int(position)
    # Objects are written one after another: each ends where the next one (or the table) starts.
    starts = sorted(offsets.values())
    end_of = dict(zip(starts, starts[1:] + [xref]))
    objects = {}
    for number, offset in offsets.items():
        body = pdf[offset:end_of[offset]]
        if not body.startswith(b"%d 0 obj" % number) or not body.rstrip().endswith(b"endobj"):
            raise ValueError(f"object {number} is not where the cross-reference table says")
        objects[number] = body.rstrip() + b"\n"
    trailer = dict((key, int(number)) for key, number in _TRAILER_KEY.findall(rest.partition(b">>")[0]))
    if b"Root" not in trailer:
        raise ValueError("no catalog")
    catalog = trailer[b"Root"]
    pages = int(_REFERENCE.search(objects[catalog].partition(b"/Pages")[2]).group(1))  # type: ignore[union-attr]
    kids = _KIDS.search(objects[pages])
    if kids is None:
        raise ValueError("no page list")
    return _Part(pdf[:min(offsets.values())], objects, catalog, pages, trailer.get(b"Info"),
                 [int(n) for n in _REFERENCE.findall(kids.group(1))])


def _renumbered(body: bytes, new_number) -> bytes:
    """The object with its number and the references in its dictionary replaced, its stream as it was."""
    number, _, rest = body.partition(b" 0 obj")
    stream = _STREAM.search(rest)
    dictionary, data = (rest[:stream.start()], rest[stream.start():]) if stream else (rest, b"")
    dictionary = _REFERENCE.sub(lambda m: b"%d 0 R" % new_number(int(m.group(1))), dictionary)
    return b"%d 0 obj%s%s" % (new_number(int(number)), dictionary, data)


def _text(value: str) -> bytes:
    """A PDF text string: (literal) when it is printable ASCII, else UTF-16 with its byte order mark."""
    if value.isascii() and value.isprintable():
        return b"(" + value.encode("ascii").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"
    return b"<" + ("\ufeff" + value).encode("utf-16-be", "replace").hex().upper().encode("ascii") + b">"


def _write(header: bytes, objects: dict[int, bytes], catalog: int, info: int) -> bytes:
    out = bytearray(header)
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += objects[number]
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, catalog, info, xref)
    return bytes(out)
