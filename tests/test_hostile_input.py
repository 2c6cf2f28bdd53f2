"""Hostile, huge and international input: one clear message, never a traceback (issue 9)."""

from __future__ import annotations

import io
import json

import pytest

import costcalc
from costcalc.errors import DatasetError
from costcalc.scenario import measure_sample

GOOD = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'


def test_deeply_nested_json_is_one_invalid_line_and_the_scan_goes_on(book):
    # 100,000 '[' on one line, and 50,000-deep lists inside a message's content: both deeper than
    # Python's recursion limit. Each is one invalid_json line, reported with its number.
    nested_content = (b'{"messages": [{"role": "user", "content": ' + b"[" * 50_000 + b"]" * 50_000
                      + b'}, {"role": "assistant", "content": "x"}]}\n')
    data = GOOD + b"[" * 100_000 + b"\n" + nested_content + GOOD.replace(b"yo", b"ok")
    model = book.as_of(None).model("gpt-4o-mini")
    report = costcalc.scan_dataset(io.BytesIO(data), model_price=model, workers=1)
    assert report.examples == 2
    assert report.error("invalid_json") is not None
    assert (report.error("invalid_json").count, report.error("invalid_json").lines) == (2, (2, 3))


DEEP = "[" * 100_000  # deeper than Python's recursion limit: json.loads raises RecursionError


def test_deeply_nested_json_in_tokens_input_is_counted_as_text(run, tmp_path):
    # '[[' is one cl100k token, so 100,000 '[' are 50,000 tokens of text (and, from a file, the
    # newline makes one more character and one more token).
    result = run("tokens", DEEP, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert (data["kind"], data["characters"], data["tokens"]) == ("text", 100_000, 50_000)
    path = tmp_path / "deep.json"
    path.write_text(DEEP + "\n")
    data = json.loads(run("tokens", str(path), "--format", "json").output)
    assert (data["kind"], data["characters"], data["tokens"]) == ("text", 100_001, 50_001)


def test_deeply_nested_json_in_a_sample_is_not_valid_json_on_its_line(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sample.jsonl").write_text(GOOD.decode() + DEEP + "\n")
    with pytest.raises(DatasetError) as error:
        measure_sample(tmp_path / "sample.jsonl", "cl100k_base")
    assert str(error.value) == "sample.jsonl: line 2: not valid JSON"
    result = run("compare", "--sample", "sample.jsonl", "--months", "1")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "Error: --sample: sample.jsonl: line 2: not valid JSON\n")


def test_tool_definitions_that_are_not_a_list_are_an_error_not_a_crash(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    conversation = '{"messages": [{"role": "user", "content": "Hi"}], "tools": 5}'
    result = run("tokens", conversation)
    assert (result.exit_code, result.stderr) == (1, 'Error: "tools" must be a list of definitions\n')
    (tmp_path / "sample.jsonl").write_text(
        '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}], "functions": 1}\n')
    with pytest.raises(DatasetError) as error:
        measure_sample(tmp_path / "sample.jsonl", "cl100k_base")
    assert str(error.value) == 'sample.jsonl: line 1: "functions" must be a list of definitions'
