"""The data generators of benchmarks/dataset_scan.py, run at a tiny size (the benchmark itself is not)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "dataset_scan.py"


@pytest.fixture
def bench(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("dataset_scan_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "DATA_DIR", tmp_path / "_data")
    return module


def test_corpus_mix_interleaves_the_files_bytes_as_they_are_until_the_size(bench, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.jsonl").write_bytes(b"A1\r\nA2\r\nA3\r\nA4\r\n")  # CRLF kept
    (corpus / "b.jsonl").write_bytes(b"B1\nB2")  # no final newline: one is added
    (corpus / "notes.md").write_text("not a training file")
    # One pass sorts lines by their position within their file: A at 1/8, 3/8, 5/8, 7/8 and
    # B at 1/4, 3/4. The pass is 4 + 3 + 4 + 4 + 3 + 4 = 22 bytes; for a 30-byte target it
    # repeats, A1 (26) B1 (29) A2 (33), and stops at the line that crosses the target.
    one_pass = b"A1\r\nB1\nA2\r\nA3\r\nB2\nA4\r\n"
    path = bench.generate_corpus_mix(corpus, 30 / 1e6)
    assert path.read_bytes() == one_pass + b"A1\r\nB1\nA2\r\n"
    assert path.parent == tmp_path / "_data"


def test_unique_lines_are_distinct_short_chat_examples(bench):
    path = bench.generate_unique(1000)
    lines = path.read_text().splitlines()
    assert len(lines) == len(set(lines)) == 1000
    assert json.loads(lines[0]) == {"messages": [
        {"role": "user", "content": "question 1 about model"},  # WORDS["en"][1]
        {"role": "assistant", "content": "answer 7919"}]}  # 1 * 7919
    assert len({json.loads(line)["messages"][1]["content"] for line in lines}) == 1000


@pytest.mark.parametrize("line, parsed", [
    ('{"messages": [{"role": "user", "content": "hi"}]}\r\n', [{"role": "user", "content": "hi"}]),
    ('{\n', None),  # a pretty-printed file's first line
    ('{"prompt": "x"}\n', None),
    ('{"messages": "hi"}\n', None),
    ('{"messages": ["hi"]}\n', None),
    ('[1]\n', None),
])
def test_cookbook_and_ceiling_skip_lines_that_do_not_parse(bench, line, parsed):
    assert bench.messages_of(line) == parsed
