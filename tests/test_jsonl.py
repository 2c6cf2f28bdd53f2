"""Opening what users hand to costcalc: one pair of messages for every reader, byte offsets in the file."""

from __future__ import annotations

import io

import pytest

from costcalc import jsonl
from costcalc.dataset import scan_dataset
from costcalc.errors import DatasetError
from costcalc.scenario import measure_sample

from .conftest import terse_line

# 9,000 bytes of "a", a newline, then 0xE9 (latin-1 "é", never valid alone in UTF-8) at offset 9,001.
# Python's text-mode reader decodes in blocks of 8,192 bytes and would say "byte 809", the offset in
# its block; a user's hex editor shows 9001.
FAR_BAD_BYTE = b"a" * 9000 + b"\n" + b"\xe9\n"


def test_numbered_lines_skip_blank_lines_but_count_them(tmp_path):
    path = tmp_path / "sample.jsonl"
    path.write_bytes(jsonl.BOM + b'{"a": 1}\r\n\n   \n{"b": 2}')  # no newline at the end
    assert list(jsonl.numbered_lines(path)) == [(1, '{"a": 1}'), (4, '{"b": 2}')]


@pytest.mark.parametrize("content, byte", [
    (b"caf\xe9", 3),
    (jsonl.BOM + b"caf\xe9", 6),  # the BOM is three bytes of the file
    (FAR_BAD_BYTE, 9001),
])
def test_not_utf8_names_the_byte_offset_in_the_file(tmp_path, monkeypatch, content, byte):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.txt").write_bytes(content)
    message = f"in.txt: not UTF-8 text (byte {byte})"
    with pytest.raises(DatasetError) as whole:
        jsonl.read_text("in.txt")
    with pytest.raises(DatasetError) as lines:
        list(jsonl.numbered_lines("in.txt"))
    assert str(whole.value) == str(lines.value) == message


def test_a_request_sample_reports_the_byte_in_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    good = (terse_line(4) + "\n").encode() * 100  # 100 requests of 148 bytes: 14,800 bytes
    assert len(good) == 14_800
    (tmp_path / "requests.jsonl").write_bytes(good + b'{"messages": "caf\xe9"}\n')  # 0xE9 is byte 17 of the line
    with pytest.raises(DatasetError) as error:
        measure_sample(tmp_path / "requests.jsonl", "cl100k_base")
    assert str(error.value) == "requests.jsonl: not UTF-8 text (byte 14817)"  # shown relative to the cwd


def test_a_request_sample_is_measured_line_by_line(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text(f"{terse_line(4)}\n\n{terse_line(7)}\n")
    sample = measure_sample(path, "cl100k_base")
    # Each request: prompt = system 8 + user 11 + 3 priming = 22; completion "4" (or "7") = 1 token.
    assert (sample.requests, sample.prompt_tokens, sample.completion_tokens) == (2, 22, 1)
    path.write_text(f"{terse_line(4)}\n\n{{oops\n")
    with pytest.raises(DatasetError, match=r": line 3: not valid JSON$"):
        measure_sample(path, "cl100k_base")


@pytest.mark.parametrize("make, reason", [
    (lambda folder: folder / "missing.jsonl", "No such file or directory"),
    (lambda folder: folder, "Is a directory"),
])
def test_every_reader_says_cannot_read_alike(tmp_path, make, reason):
    path = make(tmp_path)
    expected = f"{path}: cannot read: {reason}"
    readers = [
        lambda: jsonl.read_text(path),
        lambda: list(jsonl.numbered_lines(path)),
        lambda: scan_dataset(path, model_price=_chat_model(), workers=1),
    ]
    for read in readers:
        with pytest.raises(DatasetError) as error:
            read()
        assert str(error.value) == expected


def test_stdin_is_dash(monkeypatch):
    stdin = io.TextIOWrapper(io.BytesIO(jsonl.BOM + b"from stdin \xe2\x9c\x93"), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", stdin)
    assert jsonl.read_text("-") == "from stdin ✓"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"caf\xe9"), encoding="utf-8"))
    with pytest.raises(DatasetError, match=r"^-: not UTF-8 text \(byte 3\)$"):
        jsonl.read_text("-")
    monkeypatch.setattr("sys.stdin", io.StringIO("already text"))  # a notebook's stdin has no bytes
    assert jsonl.read_text("-") == "already text"


def test_open_input_knows_the_size_of_a_regular_file_only(tmp_path, monkeypatch):
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"x" * 1234)
    opened = jsonl.open_input(path)
    try:
        assert (opened.name, opened.size, opened.stream.read(3)) == (str(path), 1234, b"xxx")
    finally:
        opened.close()
    assert opened.stream.closed
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"piped")))
    piped = jsonl.open_input("-")
    assert (piped.name, piped.size, piped.stream.read()) == ("-", None, b"piped")
    piped.close()
    assert not piped.stream.closed  # stdin is not ours to close


def _chat_model():
    import datetime as dt
    from decimal import Decimal

    from costcalc.pricing import FineTuningPrice, ModelPrice

    return ModelPrice(name="chat-1", kind="chat", effective=dt.date(2024, 1, 1), encoding="cl100k_base",
                      fine_tuning=FineTuningPrice(training_per_1m=Decimal("8"), max_tokens_per_example=4096))


@pytest.mark.parametrize("content, kind", [
    ("{}".encode("utf-16"), "UTF-16"),  # BOM first, as Windows' Notepad saves "Unicode"
    ('{"a": 1}'.encode("utf-16-le"), "UTF-16"),  # no BOM: a NUL beside each ASCII byte
    ('{"a": 1}'.encode("utf-16-be"), "UTF-16"),
    ("{}".encode("utf-32"), "UTF-32"),
    (__import__("gzip").compress(b'{"a": 1}\n', mtime=0), "gzip-compressed"),  # mtime 0: the same id on every worker
])
def test_every_reader_names_a_file_that_is_not_utf8_by_what_it_is(tmp_path, monkeypatch, content, kind):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_bytes(content)
    remedy = "decompress it first" if kind == "gzip-compressed" else "save it as UTF-8"
    message = f"in.jsonl: not UTF-8 text: it is {kind} ({remedy})"
    for read in (lambda: jsonl.read_text("in.jsonl"), lambda: list(jsonl.numbered_lines("in.jsonl")),
                 lambda: measure_sample(tmp_path / "in.jsonl", "cl100k_base")):
        with pytest.raises(DatasetError) as error:
            read()
        assert str(error.value) == message


@pytest.mark.parametrize("content", [b"", b"{", b'{"a": 1}\n', "{\"é\": 1}".encode(), jsonl.BOM + b"{}"])
def test_utf8_and_short_files_say_nothing(content):
    assert jsonl.sniff(content[: jsonl.SNIFF_BYTES]) is None


def test_peek_gives_the_first_bytes_back_to_any_stream():
    class ReadOnly:  # a stream that can neither peek nor seek
        def __init__(self, data: bytes):
            self._data = io.BytesIO(data)

        def read(self, n: int = -1) -> bytes:
            return self._data.read(n)

    for stream in (ReadOnly(b"abc\ndef\n"), io.BytesIO(b"abc\ndef\n"), io.BufferedReader(io.BytesIO(b"abc\ndef\n"))):
        head, rest = jsonl.peek(stream)  # type: ignore[arg-type]
        assert (head, rest.readline(), rest.read()) == (b"abc\n", b"abc\n", b"def\n")
