"""Scanning fine-tuning files: hand-counted reports, every error type, billing, epochs, parallel scans.

Token figures are worked out by hand from the counts in tests/test_tokens.py (cl100k_base): a
"terse" example (tests/conftest.py: system "You are terse.", user "What is 2+2?", assistant one
digit) is 27 tokens with 1 assistant token.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from collections import Counter
from decimal import Decimal

import numpy as np
import pytest

from costcalc import dataset
from costcalc.dataset import ERROR_MESSAGES, InvalidDatasetError, scan_dataset
from costcalc.errors import DatasetError, UsageError
from costcalc.pricing import FineTuningPrice, ModelPrice
from costcalc.training import default_epochs, parse_epochs

from .conftest import WEATHER_TOOL, terse

EFFECTIVE = dt.date(2023, 8, 22)


def chat_model(limit=4096, training="8", encoding="cl100k_base", name="gpt-3.5-turbo-0613"):
    fine_tuning = FineTuningPrice(
        training_per_1m=None if training is None else Decimal(training), max_tokens_per_example=limit
    )
    return ModelPrice(name=name, kind="chat", effective=EFFECTIVE, encoding=encoding, fine_tuning=fine_tuning)


NAMED = {"messages": [{"role": "user", "name": "alice", "content": "Hi"},
                      {"role": "assistant", "content": "Hello!"}]}  # 16 tokens, assistant 2
FUNCTION_CALL = {"messages": [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "function_call": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
    {"role": "function", "name": "get_weather", "content": "Sunny"},
]}  # 29, assistant 8
TOOL_CALLS = {"messages": [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {
        "name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"},
], "tools": [WEATHER_TOOL], "parallel_tool_calls": False}  # 29 + 51 for the tool = 80, assistant 8

# 7 terse examples (27 each), NAMED 16, FUNCTION_CALL 29, TOOL_CALLS 80:
# total 7 × 27 + 16 + 29 + 80 = 314; assistant 7 + 2 + 8 + 8 = 25.
MIXED = [terse(d) for d in range(7)] + [NAMED, FUNCTION_CALL, TOOL_CALLS]


def jsonl(examples, newline="\n") -> bytes:
    return "".join(json.dumps(e, ensure_ascii=False) + newline for e in examples).encode()


@pytest.fixture
def write(tmp_path):
    def make(content: bytes | list, name="train.jsonl"):
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else jsonl(content))
        return path

    return make


# --- a hand-counted report -----------------------------------------------------------------------


def test_mixed_file_by_hand(write):
    report = scan_dataset(write(MIXED), model_price=chat_model(), workers=1)
    data = report.to_dict()
    assert report.ok and data["errors"] == {}
    assert (data["examples"], data["total_tokens"], data["assistant_tokens"]) == (10, 314, 25)
    assert data["messages_per_example"] == {"min": 2, "mean": 2.9, "max": 3}
    # sorted lengths 16, 27 × 7, 29, 80; p10 = 16 + 0.9 × 11, p90 = 29 + 0.1 × 51
    assert data["tokens_per_example"] == {"min": 16, "p10": 25.9, "median": 27.0, "mean": 31.4, "p90": 34.1, "max": 80}
    # assistant lengths 1 × 7, 2, 8, 8
    assert data["assistant_tokens_per_example"] == {"min": 1, "p10": 1.0, "median": 1.0, "mean": 2.5, "p90": 8.0, "max": 8}
    # 10 examples: 30 passes < 100, so min(25, 100 // 10) = 10 epochs
    assert (data["billing_tokens"], data["epochs"], data["billed_training_tokens"]) == (314, 10, 3140)
    assert data["training_usd"] == "0.02512"  # 3,140 × $8 / 1M
    assert data["training_per_1m"] == "8"
    assert data["warnings"] == ["3 examples have no system message"]  # NAMED, FUNCTION_CALL, TOOL_CALLS
    assert (data["model"], data["encoding"], data["format"]) == ("gpt-3.5-turbo-0613", "cl100k_base", "chat")
    assert data["price_sheet"] == {"effective": "2023-08-22", "file": None}
    assert report.tokens_histogram == ((16, 1), (27, 7), (29, 1), (80, 1))


def test_truncation_at_the_per_example_limit(write):
    report = scan_dataset(write(MIXED), model_price=chat_model(limit=28), workers=1)
    # min(28, n): 16 + 7 × 27 + 28 + 28 = 261; 29 and 80 are over; 27 ≥ 0.9 × 28 = 25.2 is near
    assert (report.billing_tokens, report.examples_over_limit, report.examples_near_limit) == (261, 2, 7)
    assert report.total_tokens == 314
    assert report.billed_training_tokens == 2610
    assert report.warnings == (
        "3 examples have no system message",
        "2 examples exceed the 28-token limit and will be truncated to it",
        "7 examples are within 10% of the 28-token limit",
    )


def test_epochs_as_given(write):
    report = scan_dataset(write(MIXED), model_price=chat_model(), epochs=3, workers=1)
    assert (report.epochs, report.epochs_rule, report.billed_training_tokens) == (3, "as given", 942)
    assert report.training_usd == Decimal("0.007536")


def test_unknown_limit_and_missing_training_price_are_warnings(write):
    report = scan_dataset(write(MIXED), model_price=chat_model(limit=None, training=None), workers=1)
    assert report.billing_tokens == 314 and report.training_usd is None
    assert report.to_dict()["training_usd"] is None
    assert report.warnings[1:] == (
        "no per-example token limit is known for gpt-3.5-turbo-0613: examples are not truncated in this estimate",
        "no training price for gpt-3.5-turbo-0613 in the price sheet effective 2023-08-22",
    )


def test_o200k_counts_tools_with_func_init_7(write):
    report = scan_dataset(write([TOOL_CALLS] * 1), model_price=chat_model(encoding="o200k_base"), workers=1)
    assert report.total_tokens == 28 + 48  # "Sunny" is one o200k token (two in cl100k)


def test_legacy_prompt_completion(write):
    babbage = ModelPrice(name="babbage-002", kind="completion", effective=EFFECTIVE, encoding="cl100k_base",
                         fine_tuning=FineTuningPrice(training_per_1m=Decimal("0.4")))
    examples = [{"prompt": "Say hi", "completion": "Hi there"}] * 2 + [  # 2 + 2 tokens
        {"prompt": "Be brief", "completion": "ab"},  # 2 + 1
        {"prompt": "Say hi"},
        {"completion": "x", "label": 1},
        {"messages": []},
    ]
    report = scan_dataset(write(examples), model_price=babbage, workers=1)
    data = report.to_dict()
    assert (data["format"], data["examples"], data["total_tokens"], data["assistant_tokens"]) == ("completion", 3, 11, 5)
    assert data["messages_per_example"] == {"min": None, "mean": None, "max": None}
    assert data["errors"] == {
        "missing_prompt": {"count": 2, "lines": [5, 6], "message": 'example has no "prompt" string'},
        "missing_completion": {"count": 2, "lines": [4, 6], "message": 'example has no "completion" string'},
        "unrecognized_key": {"count": 2, "lines": [5, 6],
                             "message": "unrecognised key (a legacy example holds prompt and completion only)"},
        "duplicate_example": {"count": 1, "lines": [2], "message": ERROR_MESSAGES["duplicate_example"]},
        "too_few_examples": {"count": 1, "lines": [],
                             "message": "fewer than 10 valid examples; OpenAI requires at least 10"},
    }
    # 3 examples: min(25, 100 // 3) = 25 epochs; 11 × 25 × $0.40 / 1M
    assert (data["epochs"], data["training_usd"]) == (25, "0.00011")


def test_embedding_models_have_no_dataset_format(write):
    embedding = ModelPrice(name="text-embedding-3-small", kind="embedding", effective=EFFECTIVE,
                           encoding="cl100k_base")
    with pytest.raises(UsageError, match="text-embedding-3-small is an embedding model: fine-tuning files"):
        scan_dataset(write(MIXED), model_price=embedding)


# --- the epoch rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "examples, epochs",
    [
        (1, 25), (3, 25), (4, 25),  # 100 // 4 = 25: the cap is reached exactly
        (5, 20), (6, 16), (10, 10),
        (33, 3),  # 99 passes < 100: min(25, 100 // 33) = 3
        (34, 3),  # 102 passes: the target
        (8333, 3),  # 24,999 passes
        (8334, 2),  # 25,002 passes > 25,000: 25,000 // 8,334 = 2
        (10000, 2), (12500, 2), (12501, 1), (25001, 1), (1_000_000, 1),
        (0, 0),  # nothing to train on
    ],
)
def test_default_epochs(examples, epochs):
    assert default_epochs(examples) == epochs


@pytest.mark.parametrize("value, expected", [("auto", "auto"), ("1", 1), ("50", 50), (7, 7)])
def test_parse_epochs(value, expected):
    assert parse_epochs(value) == expected


@pytest.mark.parametrize("value", ["0", "51", "three", "2.5", "", True, None])
def test_bad_epochs(value):
    with pytest.raises(UsageError) as err:
        parse_epochs(value)
    assert str(err.value) == f"epochs must be auto or a whole number from 1 to 50, not {value!r}"


# --- every error type ----------------------------------------------------------------------------


BAD_LINES = [
    json.dumps(terse(0)).encode(),  # 1 valid
    b"{not json",  # 2
    b"[1, 2]",  # 3
    json.dumps({"foo": 1}).encode(),  # 4 missing messages + unrecognised key
    json.dumps({"messages": [{"content": "Hi"}, {"role": "assistant", "content": "x"}]}).encode(),  # 5
    json.dumps({"messages": [{"role": "user"}, {"role": "assistant", "content": "x"}]}).encode(),  # 6
    json.dumps({"messages": [{"role": "robot", "content": "Hi"}, {"role": "assistant", "content": "x"}]}).encode(),  # 7
    json.dumps({"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "x"}]}).encode(),  # 8
    json.dumps({"messages": [{"role": "user", "content": "Hi"}]}).encode(),  # 9
    json.dumps({"messages": [{"role": "user", "content": "Hi"},
                             {"role": "assistant", "content": "x", "weight": 2}]}).encode(),  # 10
    b'{"messages": [{"role": "user", "content": "caf\xe9"}]}',  # 11: latin-1, not UTF-8
    json.dumps(terse(0)).encode(),  # 12 duplicate of line 1
    b"",  # 13 blank
    json.dumps({"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "x"}]}).encode(),  # 14
    json.dumps({"messages": [{"role": "user", "content": "Hi", "extra": 1},
                             {"role": "assistant", "content": "x"}]}).encode(),  # 15
    b"NaN",  # 16: not JSON, whatever Python's json module accepts
] + [json.dumps(terse(d)).encode() for d in range(1, 11)]  # 17-26 valid


def test_every_error_type_with_its_message_and_lines(write):
    report = scan_dataset(write(b"\n".join(BAD_LINES) + b"\n"), model_price=chat_model(), workers=1)
    assert report.to_dict()["errors"] == {
        "invalid_utf8": {"count": 1, "lines": [11], "message": "line is not valid UTF-8 text"},
        "invalid_json": {"count": 2, "lines": [2, 16],
                         "message": "line is not valid JSON (each line must hold one complete JSON object)"},
        "not_an_object": {"count": 1, "lines": [3], "message": "line is JSON but not an object"},
        "missing_messages": {"count": 1, "lines": [4],
                             "message": 'example has no "messages" list, or the list is empty'},
        "invalid_type": {"count": 1, "lines": [14], "message": (
            "a value has the wrong type (messages must be objects; role, name and tool_call_id strings; "
            "content a string or a list of content parts; function_call an object; tool_calls, tools "
            "and functions lists of objects)")},
        "missing_role": {"count": 1, "lines": [5], "message": 'a message has no "role"'},
        "unrecognized_role": {"count": 1, "lines": [7],
                              "message": "a message role is not one of system, user, assistant, tool, function"},
        "missing_content": {"count": 1, "lines": [6],
                            "message": 'a message has no "content" and no function_call or tool_calls'},
        "empty_content": {"count": 1, "lines": [8],
                          "message": "a message has empty content and no function_call or tool_calls"},
        "unrecognized_key": {"count": 2, "lines": [4, 15], "message": (
            "unrecognised key (an example holds messages, tools, functions, parallel_tool_calls; a message "
            "holds role, content, name, weight, function_call, tool_calls, tool_call_id)")},
        "invalid_weight": {"count": 1, "lines": [10], "message": '"weight" is not 0 or 1'},
        "no_assistant_message": {"count": 1, "lines": [9], "message": "example has no assistant message"},
        "duplicate_example": {"count": 1, "lines": [12], "message": (
            "example repeats an earlier line exactly (still counted: OpenAI trains on every copy)")},
    }
    assert list(report.to_dict()["errors"]) == [k for k in ERROR_MESSAGES if k in report.to_dict()["errors"]]
    # lines 1, 12 and 17-26 are valid examples (the duplicate is still one); 27 each
    assert (report.examples, report.total_tokens, report.lines) == (12, 324, 26)


def test_only_the_first_five_lines_are_kept(write):
    report = scan_dataset(write(b"x\n" * 8 + jsonl([terse(d) for d in range(10)])), model_price=chat_model(),
                          workers=1)
    assert report.error("invalid_json").count == 8
    assert report.error("invalid_json").lines == (1, 2, 3, 4, 5)


@pytest.mark.parametrize(
    "content",
    [b"", b"\n\n  \n", b"\xef\xbb\xbf", b"\r\n"],
    ids=["zero bytes", "blank lines", "BOM only", "CRLF only"],
)
def test_empty_file(write, content):
    report = scan_dataset(write(content), model_price=chat_model(), workers=1)
    data = report.to_dict()
    assert data["errors"] == {"empty_file": {
        "count": 1, "lines": [], "message": "file holds no examples (it is empty or has only blank lines)"}}
    assert (data["examples"], data["total_tokens"], data["epochs"], data["training_usd"]) == (0, 0, 0, "0")
    assert data["tokens_per_example"] == {"min": None, "p10": None, "median": None, "mean": None,
                                          "p90": None, "max": None}


def test_too_few_examples(write):
    report = scan_dataset(write([terse(d) for d in range(9)]), model_price=chat_model(), workers=1)
    assert report.to_dict()["errors"] == {"too_few_examples": {
        "count": 1, "lines": [], "message": "fewer than 10 valid examples; OpenAI requires at least 10"}}
    assert report.epochs == 11  # min(25, 100 // 9)


def test_a_file_that_is_not_utf8_at_all(write):
    latin1 = "".join(json.dumps(terse("é"), ensure_ascii=False) + "\n" for _ in range(3)).encode("latin-1")
    report = scan_dataset(write(latin1), model_price=chat_model(), workers=1)
    assert report.error("invalid_utf8").count == 3 and report.error("invalid_utf8").lines == (1, 2, 3)
    assert report.examples == 0


def test_bom_and_crlf_are_accepted(write):
    lf = scan_dataset(write(MIXED), model_price=chat_model(), workers=1).to_dict()
    crlf = scan_dataset(write(b"\xef\xbb\xbf" + jsonl(MIXED, "\r\n"), "crlf.jsonl"), model_price=chat_model(),
                        workers=1).to_dict()
    assert crlf["errors"] == {}
    for key in ("examples", "total_tokens", "billing_tokens", "tokens_per_example", "training_usd"):
        assert crlf[key] == lf[key]
    assert crlf["bytes"] == lf["bytes"] + 3 + 10


def test_a_file_whose_lines_end_in_cr_alone_is_one_error_read_no_further(write, monkeypatch):
    # No JSONL reader splits such a file: it is one line the size of the file, read whole before.
    monkeypatch.setattr(dataset, "CHUNK_BYTES", 4096)
    path = write(jsonl([terse(d) for d in range(3000)], "\r"), "mac.jsonl")  # ~400 KB
    read = []

    class Counted(io.BufferedReader):
        def read(self, size=-1):
            read.append(data := super().read(size))
            return data

        def readline(self, size=-1):
            read.append(data := super().readline(size))
            return data

    with pytest.raises(DatasetError) as error:
        scan_dataset(Counted(io.FileIO(path)), model_price=chat_model(), workers=1)
    assert str(error.value) == (f"{path}: its lines end in CR alone (classic Mac OS), so the whole file reads as "
                                "one line: JSONL lines end in LF or CRLF (convert it with `tr '\\r' '\\n' < FILE > FIXED`)")
    assert sum(map(len, read)) <= 3 * 4096 + 64 * 1024  # two chunks, and what sniffing peeks at
    # A small file too (one chunk, no megabyte-long line), and lines ending in CR after LF lines.
    for content in (jsonl([terse(d) for d in range(12)], "\r"),
                    jsonl([terse(d) for d in range(12)]) + jsonl([terse(d) for d in range(3)], "\r")):
        with pytest.raises(DatasetError, match="its lines end in CR alone"):
            scan_dataset(write(content, "small.jsonl"), model_price=chat_model(), workers=1)
    # A last line without a line end is still a line, in an LF file and in a CRLF one.
    for newline in ("\n", "\r\n"):
        report = scan_dataset(write(jsonl([terse(d) for d in range(12)], newline).rstrip(), "end.jsonl"),
                              model_price=chat_model(), workers=1)
        assert (report.examples, report.errors) == (12, ())


def test_a_long_line_in_a_crlf_file_is_one_line(write, monkeypatch):
    # Lines of many chunks (20 KB against 4 KB), their CR beside the LF, even across a chunk's end.
    monkeypatch.setattr(dataset, "CHUNK_BYTES", 4096)
    examples = [terse("word " * 4000)] + [terse(d) for d in range(12)]
    lf = scan_dataset(write(jsonl(examples)), model_price=chat_model(limit=100_000), workers=1).to_dict()
    crlf = scan_dataset(write(jsonl(examples, "\r\n"), "crlf.jsonl"), model_price=chat_model(limit=100_000),
                        workers=1).to_dict()
    assert crlf["errors"] == lf["errors"] == {}
    assert crlf["examples"] == lf["examples"] == 13
    assert crlf["total_tokens"] == lf["total_tokens"]


def test_blank_lines_are_ignored_but_counted_for_line_numbers(write):
    content = b"\n\n" + jsonl([terse(d) for d in range(10)]) + b"\n\n{broken\n"
    report = scan_dataset(write(content), model_price=chat_model(), workers=1)
    assert report.examples == 10 and report.error("invalid_json").lines == (15,)


def test_no_final_newline(write):
    content = jsonl([terse(d) for d in range(10)]).rstrip(b"\n")
    report = scan_dataset(write(content), model_price=chat_model(), workers=1)
    assert (report.examples, report.lines, report.total_tokens) == (10, 10, 270)


def test_line_separators_inside_strings_do_not_split_lines(write):
    # U+2028 and U+0085 are line breaks to str.splitlines(), not to JSONL.
    example = terse(0)
    example["messages"][1]["content"] = "a\u2028b\u0085c"
    report = scan_dataset(write([example] + [terse(d) for d in range(1, 10)]), model_price=chat_model(), workers=1)
    assert report.ok and report.lines == 10


def test_special_token_text_is_counted_as_text(write):
    example = terse(0)
    example["messages"][1]["content"] = "<|endoftext|>"  # 7 tokens instead of "What is 2+2?" (7)
    report = scan_dataset(write([example] + [terse(d) for d in range(1, 10)]), model_price=chat_model(), workers=1)
    assert report.ok and report.total_tokens == 270


def test_pretty_printed_json_is_reported_not_fatal(write):
    pretty = b"\n".join(json.dumps(terse(d), indent=4).encode() for d in range(2)) + b"\n"
    report = scan_dataset(write(pretty), model_price=chat_model(), workers=1)
    assert report.examples == 0
    assert report.error("invalid_json").lines == (1, 2, 3, 4, 5)
    assert report.warnings[0] == ('line 1 is a lone "{" or "[": this looks like pretty-printed JSON, but a '
                                  "fine-tuning file needs one example per line (JSONL)")


def test_strict_raises_with_the_report(write):
    with pytest.raises(InvalidDatasetError) as err:
        scan_dataset(write([terse(1)]), model_price=chat_model(), strict=True, workers=1)
    assert str(err.value).endswith("train.jsonl has errors: too_few_examples (1)")
    assert err.value.report.examples == 1
    assert isinstance(err.value, DatasetError)
    assert scan_dataset(write(MIXED), model_price=chat_model(), strict=True, workers=1).ok


def test_unreadable_paths(tmp_path):
    with pytest.raises(DatasetError) as err:
        scan_dataset(tmp_path / "missing.jsonl", model_price=chat_model())
    assert str(err.value) == f"{tmp_path / 'missing.jsonl'}: cannot read: No such file or directory"
    with pytest.raises(DatasetError, match="cannot read: Is a directory"):
        scan_dataset(tmp_path, model_price=chat_model())


def test_streams_and_stdin(monkeypatch):
    expected = scan_dataset(io.BytesIO(jsonl(MIXED)), model_price=chat_model(), workers=1)
    assert (expected.file, expected.total_tokens) == ("<stream>", 314)

    class Stdin(io.TextIOWrapper):
        pass

    monkeypatch.setattr(sys, "stdin", Stdin(io.BytesIO(jsonl(MIXED)), encoding="utf-8"))
    report = scan_dataset("-", model_price=chat_model(), workers=1)
    assert (report.file, report.total_tokens, report.bytes) == ("-", 314, expected.bytes)


# --- the JSON contract ---------------------------------------------------------------------------


def test_json_contract(write):
    report = scan_dataset(write(MIXED), model_price=chat_model(), workers=1)
    data = json.loads(json.dumps(report.to_dict()))  # plain JSON, no custom encoder needed
    for key in ("examples", "total_tokens", "assistant_tokens", "billing_tokens", "epochs",
                "billed_training_tokens"):
        assert type(data[key]) is int, key
    assert isinstance(data["training_usd"], str) and Decimal(data["training_usd"]) == Decimal("0.02512")
    assert set(data["tokens_per_example"]) == {"min", "p10", "median", "mean", "p90", "max"}
    assert isinstance(data["errors"], dict) and isinstance(data["warnings"], list)
    assert {"schema_version", "model", "encoding", "price_sheet", "counting_rule", "epochs_rule"} <= set(data)
    from costcalc import views

    assert views.dataset_report(report).data == report.to_dict()


def test_table_output_names_its_sources(write):
    from costcalc import views
    from costcalc.render import render

    text = render(views.dataset_report(scan_dataset(write(MIXED), model_price=chat_model(), workers=1)), "table")
    assert "training fee             $0.0251" in text
    assert "billing tokens           314" in text
    assert "price sheet effective 2023-08-22" in text


# --- streaming in parallel -----------------------------------------------------------------------


def test_parallel_scan_equals_single_process(write, monkeypatch):
    # Small chunks so a small file is cut into many: errors, duplicates and a line longer than a
    # chunk fall on chunk boundaries, and line numbers must still be exact.
    monkeypatch.setattr(dataset, "CHUNK_BYTES", 2048)
    long_answer = terse("word " * 1500)
    lines = []
    for i in range(400):
        if i % 97 == 5:
            lines.append(b"{broken")
        elif i % 50 == 7:
            lines.append(json.dumps(terse(3)).encode())  # duplicates spread over chunks
        elif i == 200:
            lines.append(json.dumps(long_answer).encode())
        elif i % 61 == 0:
            lines.append(b"")
        else:
            lines.append(json.dumps(terse(f"{i} Olá 世界 😀")).encode())
    path = write(b"\r\n".join(lines) + b"\r\n")
    single = scan_dataset(path, model_price=chat_model(limit=1000), workers=1).to_dict()
    parallel = scan_dataset(path, model_price=chat_model(limit=1000), workers=3).to_dict()
    assert parallel == single
    assert single["errors"]["invalid_json"]["lines"] == [6, 103, 200, 297, 394]
    assert single["errors"]["duplicate_example"]["lines"] == [58, 108, 158, 208, 258]
    assert single["examples_over_limit"] == 1


def test_progress_is_reported(write, monkeypatch):
    monkeypatch.setattr(dataset, "CHUNK_BYTES", 256)
    calls = []
    path = write(MIXED)
    scan_dataset(path, model_price=chat_model(), workers=1, progress=lambda done, total: calls.append((done, total)))
    size = path.stat().st_size
    assert calls[-1] == (size, size) and len(calls) > 3
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_line_numbers_past_four_billion_lines():
    from array import array

    with dataset._Totals() as totals:
        totals.lines = 0xFFFFFFFF - 2
        # Two copies of one example (the same hash) on lines 4,294,967,294 and 4,294,967,301.
        totals.merge(dataset._Chunk(lines=10, line_index=array("I", [0, 7]), tokens={5: 1, 6: 1},
                                    assistant={1: 2}, messages={2: 2}, hashes=bytearray(16),
                                    errors={"invalid_json": [1, [9]]}))
        assert totals.duplicates.result() == (1, [0xFFFFFFFF + 6])
        assert totals.errors == {"invalid_json": [1, [0xFFFFFFFF + 8]]}


def test_a_lone_surrogate_escape_is_counted_not_a_crash(write):
    # "\ud83d" alone is valid JSON but not encodable text; tiktoken counts it as U+FFFD.
    lines = [json.dumps(terse(d)).encode() for d in range(10)]
    lines[3] = lines[3].replace(b'"What is 2+2?"', b'"What is \\ud83d?"')
    report = scan_dataset(write(b"\n".join(lines)), model_price=chat_model(), workers=1)
    assert report.ok and report.examples == 10


# --- memory that does not grow with the file -----------------------------------------------------


def quantile_cases():
    rng = np.random.default_rng(20230822)
    yield "1 example", np.array([7])
    yield "2 examples", np.array([3, 10])
    yield "all equal", np.full(1001, 42)
    yield "0 and a big count", np.array([0, 2**31 - 1, 5])
    for n in (3, 10, 11, 99, 1000, 12345):
        yield f"{n} uniform", rng.integers(0, 50, n)
        yield f"{n} long tail", rng.lognormal(5, 1.5, n).astype(np.int64) + 1
        yield f"{n} wide", rng.integers(0, 4_000_000, n)


@pytest.mark.parametrize("label, values", list(quantile_cases()), ids=lambda x: x if isinstance(x, str) else "")
def test_quantiles_from_a_frequency_table_equal_numpy_on_the_full_array(label, values):
    counts = Counter(values.tolist())
    qs = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1]
    # Exactly equal floats, not approximately: the report must not change by a rounding.
    assert dataset._quantiles(dataset._pairs(counts), qs) == [float(q) for q in np.quantile(values, qs)]
    distribution = dataset.Distribution.of_counts(counts)
    assert distribution == dataset.Distribution.of(values)
    p10, median, p90 = (round(float(q), 2) for q in np.quantile(values, [0.1, 0.5, 0.9]))
    assert distribution == dataset.Distribution(int(values.min()), p10, median, round(float(values.mean()), 2),
                                                p90, int(values.max()))


def test_a_distribution_of_nothing_is_empty():
    assert dataset.Distribution.of_counts({}) == dataset.Distribution.of([]) == dataset.Distribution()
    assert dataset.Distribution.of_counts({3: 0, 5: 2}) == dataset.Distribution(5, 5.0, 5.0, 5.0, 5.0, 5)


def later_copies(hashes: list[int]) -> tuple[int, list[int]]:
    """Brute force: examples (line = position + 1) whose hash an earlier one has."""
    seen, later = set(), []
    for line, value in enumerate(hashes, 1):
        if value in seen:
            later.append(line)
        seen.add(value)
    return len(later), later[:5]


@pytest.mark.parametrize("spill_entries", [1, 3, 10, 64, 10_000])
@pytest.mark.parametrize("few_entries", [0, 500, 5_000])  # numpy from the start, from line 501, never
def test_the_duplicate_finder_is_exact_in_memory_and_spilled(monkeypatch, spill_entries, few_entries):
    from array import array

    monkeypatch.setattr(dataset, "SPILL_ENTRIES", spill_entries)
    monkeypatch.setattr(dataset, "FEW_ENTRIES", few_entries)
    rng = np.random.default_rng(spill_entries)
    # Few distinct hashes (many copies, some more than 6 in one spill), every first byte, and
    # hashes that differ only in their last bytes.
    pool = [int(h) for h in rng.integers(0, 2**64, 40, dtype=np.uint64)] + [0, 1, 256, 2**64 - 1]
    hashes = [pool[i] for i in rng.integers(0, len(pool), 3000)]
    finder = dataset._Duplicates()
    try:
        for start in range(0, len(hashes), 97):  # chunks of 97 lines
            part = hashes[start:start + 97]
            finder.add(b"".join(h.to_bytes(8, "big") for h in part), array("I", range(len(part))), start + 1)
        assert finder.spilled == (spill_entries < len(hashes))
        assert finder.result() == later_copies(hashes)
    finally:
        finder.close()


def test_a_spilled_scan_reports_exactly_what_an_in_memory_one_does(write, monkeypatch):
    monkeypatch.setattr(dataset, "CHUNK_BYTES", 2048)
    lines = []
    for i in range(600):
        if i % 97 == 5:
            lines.append(b"{broken")
        elif i % 7 == 3:
            lines.append(json.dumps(terse(i % 3)).encode())  # three examples, many copies each
        elif i % 50 == 7:
            lines.append(json.dumps(terse(f"{i % 4} again")).encode())
        else:
            lines.append(json.dumps(terse(f"{i} Olá 世界 😀")).encode())
    path = write(b"\n".join(lines) + b"\n")
    in_memory = scan_dataset(path, model_price=chat_model(), workers=1).to_dict()
    assert in_memory["errors"]["duplicate_example"]["count"] == 90
    assert in_memory["errors"]["duplicate_example"]["lines"] == [25, 32, 39, 46, 53]

    spills = []
    spill = dataset._Duplicates._spill
    monkeypatch.setattr(dataset._Duplicates, "_spill", lambda self: spills.append(1) or spill(self))
    monkeypatch.setattr(dataset, "SPILL_ENTRIES", 50)
    for workers in (1, 3):
        spills.clear()
        assert scan_dataset(path, model_price=chat_model(), workers=workers).to_dict() == in_memory
        assert len(spills) > 5


# --- files that are not plain UTF-8 JSONL --------------------------------------------------------


def test_a_gzip_file_is_read_through_gzip_in_parallel_too(write, monkeypatch):
    import gzip

    monkeypatch.setattr(dataset, "CHUNK_BYTES", 256)  # MIXED is ~2 KB: 8 chunks, so the pool runs
    plain = scan_dataset(write(MIXED), model_price=chat_model(), workers=1)
    compressed = write(gzip.compress(jsonl(MIXED)), "train.jsonl.gz")
    for workers in (1, 2):
        report = scan_dataset(compressed, model_price=chat_model(), workers=workers)
        # The same hand-counted figures as test_mixed_file_by_hand: 314 tokens, 25 the assistant's.
        assert (report.examples, report.total_tokens, report.assistant_tokens) == (10, 314, 25)
        assert report.bytes == plain.bytes  # the JSONL's bytes, not the compressed file's
        assert report.warnings == ("the file is gzip-compressed: costcalc read it, but OpenAI's upload needs "
                                   "plain JSONL (decompress it first)", *plain.warnings)


@pytest.mark.parametrize("codec, bom", [("utf-16", "BOM"), ("utf-16-le", "no BOM"), ("utf-16-be", "no BOM"),
                                        ("utf-32", "BOM")])
def test_a_utf16_file_is_named_once_not_an_invalid_line_each(write, codec, bom):
    text = jsonl(MIXED).decode()
    path = write(text.encode(codec), "train.jsonl")
    kind = codec[:6].upper()
    with pytest.raises(DatasetError) as error:
        scan_dataset(path, model_price=chat_model(), workers=1)
    assert str(error.value) == f"{path}: not UTF-8 text: it is {kind} (save it as UTF-8)"
    with pytest.raises(DatasetError) as error:  # compressed, it is still UTF-16
        scan_dataset(io.BytesIO(__import__("gzip").compress(text.encode(codec))), model_price=chat_model())
    assert str(error.value) == f"<stream>: not UTF-8 text: it is {kind} (save it as UTF-8)"


def test_a_truncated_gzip_file_is_one_error(write):
    import gzip

    data = gzip.compress(jsonl([terse(d) for d in range(200)]))
    with pytest.raises(DatasetError) as error:
        scan_dataset(io.BytesIO(data[: len(data) // 2]), model_price=chat_model(), workers=1)
    assert str(error.value) == ("<stream>: cannot read the gzip data: Compressed file ended before the "
                                "end-of-stream marker was reached")


def test_a_one_line_json_array_gets_the_json_not_jsonl_hint(write):
    report = scan_dataset(write(json.dumps(MIXED).encode() + b"\n"), model_price=chat_model(), workers=1)
    assert (report.examples, report.error("not_an_object").lines) == (0, (1,))
    assert report.warnings[0] == ("line 1 is a JSON array: this looks like a JSON file, but a fine-tuning "
                                  "file needs one example per line (JSONL)")


def test_a_file_in_the_other_format_says_which_model_reads_it(write):
    legacy = [{"prompt": f"Say {i}", "completion": "Hi there"} for i in range(12)]
    report = scan_dataset(write(legacy), model_price=chat_model(), workers=1)
    assert report.examples == 0
    assert report.warnings[0] == (
        "12 lines are in the legacy prompt/completion format (first lines 1, 2, 3, 4, 5): only babbage-002 and "
        "davinci-002 fine-tune on it; scan the file with --model babbage-002 (or davinci-002)")
    babbage = ModelPrice(name="babbage-002", kind="completion", effective=EFFECTIVE, encoding="cl100k_base",
                         fine_tuning=FineTuningPrice(training_per_1m=Decimal("0.4")))
    report = scan_dataset(write([legacy[0], terse(1)]), model_price=babbage, workers=1)
    assert report.warnings[0] == (
        '1 line is in the chat format ("messages") (line 2): babbage-002 and davinci-002 fine-tune on '
        "prompt/completion; scan the file with a chat model, e.g. --model gpt-4o-mini")


# --- what OpenAI's upload would reject or ignore: warnings with their first lines -----------------


def test_upload_problems_are_warnings_with_counts_and_lines(write):
    examples = [terse(d) for d in range(12)]
    bad_arguments = json.loads(json.dumps(TOOL_CALLS))
    bad_arguments["messages"][1]["tool_calls"][0]["function"]["arguments"] = '{"city": Paris}'
    bad_function = json.loads(json.dumps(FUNCTION_CALL))
    bad_function["messages"][1]["function_call"]["arguments"] = ""
    examples[2], examples[5] = bad_arguments, bad_function  # lines 3 and 6
    examples[3]["messages"][1]["weight"] = 1  # the user's message: line 4
    examples[4]["messages"][2]["weight"] = 0  # the assistant's: fine
    examples[7]["messages"][1]["content"] = [{"type": "text", "text": "What is this?"},
                                             {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}}]
    content = jsonl(examples).replace(b'"content": "9"', b'"content": "\\udc00 9"')  # line 10: a lone low half
    content = content.replace(b'"content": "8"', b'"content": "\\ud83d\\ude00 8"')  # line 9: a pair, an emoji
    report = scan_dataset(write(b"\xef\xbb\xbf" + content), model_price=chat_model(), workers=1)
    assert report.ok and report.examples == 12  # warnings only: every example is still counted
    assert report.warnings == (
        "the file starts with a UTF-8 byte order mark (BOM): OpenAI's upload may reject it (save the file as "
        "UTF-8 without a BOM)",
        "2 examples have no system message",  # the two call examples
        "1 example has image content parts (line 8): image tokens are not counted, and vision fine-tuning is "
        "only for some models",
        "2 examples have tool-call arguments that are not valid JSON (lines 3, 6): OpenAI's upload may reject them",
        "1 example has \"weight\" on a message that is not the assistant's (line 4): OpenAI applies weight to "
        "assistant messages only",
        "1 example has text with a lone surrogate (line 10): a \\ud800-\\udfff escape without its pair is not "
        "Unicode text, and OpenAI's upload may reject it",
    )
    assert report.to_dict()["warnings"] == list(report.warnings)  # the JSON contract: a list of strings


def test_warning_lines_are_the_first_five_across_chunks(write, monkeypatch):
    monkeypatch.setattr(dataset, "CHUNK_BYTES", 512)
    examples = [terse(d) for d in range(40)]
    for example in examples[10:]:
        example["messages"][0]["weight"] = 1  # a system message's weight, lines 11 to 40
    report = scan_dataset(write(examples), model_price=chat_model(), workers=1)
    assert report.warnings == ('30 examples have "weight" on a message that is not the assistant\'s (first lines '
                               "11, 12, 13, 14, 15): OpenAI applies weight to assistant messages only",)


# --- orjson reads the lines, the json module where they differ ------------------------------------------


def big_enum_tool(item) -> dict:
    return {"type": "function", "function": {"name": "pick", "description": "Pick one.", "parameters": {
        "type": "object", "properties": {"n": {"type": "integer", "enum": [item]}}}}}


def test_an_enum_integer_beyond_64_bits_counts_as_its_digits(write):
    # orjson would read 18446744073709551616 (2**64) as the float 1.8446744073709552e+19, and the
    # enum item is counted as its JSON text: the digits must be counted, as the json module reads it.
    import orjson

    from costcalc import tokens

    example = {**terse(), "tools": [big_enum_tool(2**64)]}
    line = json.dumps(example)
    encoding = tokens.get_encoding("cl100k_base")
    as_digits = tokens.count_messages(example["messages"], encoding, tools=example["tools"]).total
    as_float = orjson.loads(line)
    assert tokens.count_messages(as_float["messages"], encoding, tools=as_float["tools"]).total != as_digits
    report = scan_dataset(write(line.encode() + b"\n"), model_price=chat_model())
    assert report.total_tokens == as_digits


HARD_LINES = [
    json.dumps(terse()),
    '{"messages": [{"role": "user", "content": "\\ud800 lone"}, {"role": "assistant", "content": "ok"}]}',
    '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok", "weight": 1e400}]}',
    '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok", "weight": NaN}]}',
    '{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}, {"role": "assistant", '
    '"content": "x", "content": "last wins"}]}',
    '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok", '
    '"weight": 18446744073709551617}]}',
    json.dumps({**terse(), "tools": [big_enum_tool(-(2**70))]}),
    "[1, 2]",
    '{"messages": [' * 2000 + "]}" * 2000,
    '{"messages": []',
]


def test_orjson_and_the_json_module_give_the_same_report(write, monkeypatch):
    path = write(("\n".join(HARD_LINES) + "\n").encode() + b'{"messages": "\xff"}\n')
    with_orjson = scan_dataset(path, model_price=chat_model()).to_dict()
    monkeypatch.setattr(dataset, "_fast_loads", lambda: None)
    with_json_only = scan_dataset(path, model_price=chat_model()).to_dict()
    assert with_orjson == with_json_only
    # Each line's fate, as the json module decides it: 1, 2 (its lone surrogate warned), 5 (the last
    # "content" wins) and 7 (its tool counted) are examples; 1e400 (3) and 2**64 + 1 (6) are numbers
    # but not a weight of 0 or 1; NaN (4), 4,000 levels of nesting (9) and a cut-off line (10) are
    # not JSON; 8 is an array; 11 is not UTF-8.
    assert {kind: e["lines"] for kind, e in with_orjson["errors"].items() if e["lines"]} == {
        "invalid_weight": [3, 6], "invalid_json": [4, 9, 10], "not_an_object": [8], "invalid_utf8": [11]}
    assert with_orjson["examples"] == 4
    assert any("lone surrogate (line 2)" in warning for warning in with_orjson["warnings"])
