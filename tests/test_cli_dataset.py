"""The `dataset` and `tokens` commands as a user runs them: output, JSON, exit codes, messages."""

from __future__ import annotations

import json

import pytest

from .conftest import terse_line as terse  # one JSONL line, 27 tokens (cl100k_base)


@pytest.fixture
def train(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("".join(terse(d) + "\n" for d in range(10)))
    return path


@pytest.fixture
def broken(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text("{oops\n" + "".join(terse(d) + "\n" for d in range(10)))
    return path


def test_dataset_json(run, train):
    result = run("dataset", str(train), "--as-of", "2023-09-01", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    # gpt-3.5-turbo meant gpt-3.5-turbo-0613 on 2023-09-01: 4,096 tokens per example, $8 per 1M.
    assert (data["model"], data["encoding"], data["max_tokens_per_example"]) == ("gpt-3.5-turbo-0613", "cl100k_base", 4096)
    assert data["price_sheet"]["effective"] == "2023-08-22"
    assert data["price_sheet"]["file"].endswith("2023-08-22.toml")
    # 10 × 27 = 270 tokens, 10 epochs (min(25, 100 // 10)), 2,700 billed × $8 / 1M = $0.0216
    assert (data["examples"], data["billing_tokens"], data["epochs"], data["billed_training_tokens"]) == (10, 270, 10, 2700)
    assert data["training_usd"] == "0.0216"
    assert data["errors"] == {}


def test_dataset_table(run, train):
    result = run("dataset", str(train), "--as-of", "2023-09-01", "--epochs", "3")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"Dataset {train}"
    assert "billing tokens           270" in result.output
    assert "epochs                   3" in result.output
    assert "training fee             $0.00648" in result.output  # 810 × $8 / 1M


def test_dataset_model_option_picks_encoding_and_limit(run, train):
    data = json.loads(run("dataset", str(train), "--model", "gpt-4o-mini", "--format", "json").output)
    assert (data["model"], data["encoding"], data["max_tokens_per_example"]) == ("gpt-4o-mini-2024-07-18", "o200k_base", 65536)


def test_errors_are_reported_with_exit_0(run, broken):
    result = run("dataset", str(broken), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output)["errors"] == {"invalid_json": {
        "count": 1, "lines": [1], "message": "line is not valid JSON (each line must hold one complete JSON object)"}}


def test_strict_prints_the_report_then_exits_1(run, broken):
    result = run("dataset", str(broken), "--strict")
    assert result.exit_code == 1
    assert "invalid_json" in result.stdout and "Dataset " in result.stdout
    assert result.stderr == f"Error: {broken} has errors: invalid_json (1)\n"


def test_strict_with_a_clean_file_exits_0(run, train):
    assert run("dataset", str(train), "--strict").exit_code == 0


def test_unreadable_file_exits_1_with_one_line(run, tmp_path):
    missing = tmp_path / "missing.jsonl"
    result = run("dataset", str(missing))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {missing}: cannot read: No such file or directory\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args, message",
    [
        (["--epochs", "0"], "Error: Invalid value for '--epochs': '0' is not auto or a whole number from 1 to 50\n"),
        (["--as-of", "2020-01-01"], "Error: no price sheet in force on 2020-01-01: the first sheet is "
                                    "effective 2023-06-13\n"),
    ],
)
def test_bad_usage_exits_2(run, train, args, message):
    result = run("dataset", str(train), *args)
    assert result.exit_code == 2
    assert result.stderr == message  # one line: no usage block before it


def test_unknown_model_is_bad_usage_exit_2(run, train):
    # The same exit code as an unknown model in `compare --set ...model=` (tests/test_cli_compare.py).
    result = run("dataset", str(train), "--model", "gpt-5000", "--as-of", "2025-04-14")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "Error: unknown model 'gpt-5000' in the price sheet effective 2025-04-14; did you mean gpt-4?\n")


def test_dataset_from_stdin(run):
    content = "".join(terse(d) + "\n" for d in range(10))
    result = run("dataset", "-", "--format", "json", input=content)
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert (data["file"], data["total_tokens"]) == ("-", 270)


def test_dataset_csv_and_markdown(run, train):
    csv_out = run("dataset", str(train), "--format", "csv").output
    assert csv_out.splitlines()[0] == "section,name,value,note"
    assert "summary,billing tokens,270," in csv_out
    assert run("dataset", str(train), "--format", "markdown").output.startswith(f"### Dataset {train}")


def test_legacy_model_reads_prompt_completion(run, tmp_path):
    path = tmp_path / "legacy.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"Say {i}", "completion": "Hi there"}) + "\n" for i in range(10)))
    # On a day babbage-002 could still be fine-tuned (OpenAI stopped taking its jobs on 2024-10-28).
    data = json.loads(run("dataset", str(path), "--model", "babbage-002", "--as-of", "2024-01-01",
                          "--format", "json").output)
    assert (data["format"], data["examples"], data["errors"]) == ("completion", 10, {})
    assert data["assistant_tokens"] == 20  # "Hi there" is 2 tokens
    assert data["max_tokens_per_example"] is None
    assert data["warnings"] == ["no per-example token limit is known for babbage-002: examples are not "
                                "truncated in this estimate"]


@pytest.mark.parametrize(
    "args, tokens",
    [
        (["hello world"], 2),
        (['[{"role": "user", "content": "Hi"}]'], 8),  # 3 + 1 + 1 + 3
    ],
)
def test_tokens(run, args, tokens):
    result = run("tokens", *args, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output)["tokens"] == tokens


def test_tokens_from_file_and_stdin(run, tmp_path):
    path = tmp_path / "prompt.txt"
    path.write_text("こんにちは世界")
    assert json.loads(run("tokens", str(path), "--format", "json").output)["tokens"] == 4
    assert json.loads(run("tokens", str(path), "--model", "gpt-4o", "--format", "json").output)["tokens"] == 2
    result = run("tokens", "-", "--format", "json", input='{"messages": [{"role": "assistant", "content": "Hello!"}]}')
    data = json.loads(result.output)
    assert (data["kind"], data["tokens"], data["assistant_tokens"]) == ("messages", 3 + 1 + 2 + 3, 2)


def test_tokens_table(run):
    result = run("tokens", "hello world", "--model", "gpt-4o")
    assert result.exit_code == 0
    assert result.output.splitlines()[2:] == [
        "model       gpt-4o-2024-08-06",
        "encoding    o200k_base",
        "input       text",
        "characters  11",
        "tokens      2",
    ]


def test_tokens_reads_a_file_without_its_bom_and_rejects_one_that_is_not_utf8(run, tmp_path):
    path = tmp_path / "prompt.txt"
    path.write_bytes(b"\xef\xbb\xbfhello world")
    assert json.loads(run("tokens", str(path), "--format", "json").output)["characters"] == 11  # no BOM
    assert json.loads(run("tokens", "no such file", "--format", "json").output)["characters"] == 12  # the text
    path.write_bytes(b"caf\xe9")
    result = run("tokens", str(path))
    assert (result.exit_code, result.stderr) == (1, f"Error: {path}: not UTF-8 text (byte 3)\n")


@pytest.mark.parametrize("args", [
    ["prices", "list"],
    ["prices", "show", "gpt-4"],
    ["prices", "history", "gpt-4"],
    ["prices", "diff", "2023-08-22", "2023-11-06"],
    ["estimate", "gpt-3.5-turbo", "--input-tokens", "10"],
    ["tokens", "hello world"],
    ["dataset", "EXAMPLE"],
    ["compare", "--months", "1"],
])
def test_every_commands_json_starts_with_its_schema_version(run, args):
    from costcalc.scenario import EXAMPLE_DATASET

    args = [str(EXAMPLE_DATASET) if a == "EXAMPLE" else a for a in args]
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    assert next(iter(json.loads(result.output).items())) == ("schema_version", 1)


# --- issue 9: messages that mislead -----------------------------------------------------------------


def test_dataset_refuses_a_model_with_no_fine_tuning_prices_as_compare_does(run, train):
    # compare's words (tests/test_cli_compare.py), from the one function in costcalc/training.py.
    result = run("dataset", str(train), "--model", "gpt-4", "--as-of", "2025-04-14")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "Error: gpt-4 (gpt-4-0613) has no fine-tuning prices in the price sheet effective 2025-04-14 "
               "(in force on 2025-04-14)\n")
    result = run("dataset", str(train), "--model", "gpt-4-0613", "--as-of", "2024-01-01")
    assert (result.exit_code, result.stderr) == (
        2, "Error: gpt-4-0613 has no fine-tuning prices in the price sheet effective 2023-11-06 "
           "(in force on 2024-01-01)\n")
    # Before fine-tuning of gpt-3.5-turbo was announced (2023-08-22) it could not be fine-tuned either.
    result = run("dataset", str(train), "--as-of", "2023-07-01")
    assert (result.exit_code, result.stderr) == (
        2, "Error: gpt-3.5-turbo (gpt-3.5-turbo-0613) has no fine-tuning prices in the price sheet effective "
           "2023-06-13 (in force on 2023-07-01)\n")


def test_an_embedding_model_is_still_named_as_one(run, train):
    result = run("dataset", str(train), "--model", "text-embedding-3-small")
    assert (result.exit_code, result.stderr) == (
        2, "Error: text-embedding-3-small is an embedding model: fine-tuning files are for chat or completion "
           "models\n")


def test_dataset_reads_a_gzip_file_and_stdin_and_says_to_decompress_it(run, train, tmp_path):
    import gzip

    packed = tmp_path / "train.jsonl.gz"
    packed.write_bytes(gzip.compress(train.read_bytes()))
    note = "the file is gzip-compressed: costcalc read it, but OpenAI's upload needs plain JSONL (decompress it first)"
    for args, stdin in (([str(packed)], None), (["-"], packed.read_bytes())):
        result = run("dataset", *args, "--format", "json", input=stdin)
        assert result.exit_code == 0
        data = json.loads(result.output)
        assert (data["examples"], data["total_tokens"], data["errors"]) == (10, 270, {})  # 10 × 27
        assert data["warnings"][0] == note


def test_dataset_names_a_utf16_file(run, train, tmp_path):
    utf16 = tmp_path / "train16.jsonl"
    utf16.write_bytes(train.read_text().encode("utf-16"))  # with its BOM, as Windows editors save it
    result = run("dataset", str(utf16))
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", f"Error: {utf16}: not UTF-8 text: it is UTF-16 (save it as UTF-8)\n")


def test_an_empty_file_says_no_examples_not_zero_epochs(run, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    table = run("dataset", str(empty)).output
    assert [line.split() for line in table.splitlines() if line.startswith("epochs ")] == [
        ["epochs", "-", "no", "examples"]]
    assert "0 epochs" not in table and "for 0 examples" not in table
    data = json.loads(run("dataset", str(empty), "--format", "json").output)
    # The JSON keeps a number, documented on DatasetReport: 0 epochs, and the rule says why.
    assert (data["epochs"], data["epochs_rule"], data["training_usd"]) == (0, "auto: no examples to train on", "0")


def test_tokens_refuses_a_typo_of_a_file_name_and_a_folder(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hint = "(to count text that looks like a path, pass it with --text)"
    for argument in ("trian.jsonl", "prompts/system", "notes.TXT"):
        result = run("tokens", argument)
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: {argument}: no such file {hint}\n")
    (tmp_path / "prompts").mkdir()
    result = run("tokens", "prompts")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: prompts: is a folder, not a file {hint}\n")
    # Asked for, it is text: "trian.jsonl" is 4 cl100k tokens of 11 characters.
    data = json.loads(run("tokens", "--text", "trian.jsonl", "--format", "json").output)
    assert (data["kind"], data["characters"], data["tokens"]) == ("text", 11, 4)


@pytest.mark.parametrize("text, tokens", [
    ("How many tokens is this?", 6),  # the README's example
    ("is 1/2 a half?", 8),  # a slash between spaces is text
    ("no such file", 3),
])
def test_tokens_counts_text_that_does_not_look_like_a_path(run, tmp_path, monkeypatch, text, tokens):
    monkeypatch.chdir(tmp_path)
    result = run("tokens", text, "--format", "json")
    assert (result.exit_code, json.loads(result.output)["tokens"]) == (0, tokens)


def test_tokens_names_binary_stdin_and_a_utf16_file(run, tmp_path):
    result = run("tokens", "-", input=b"caf\xe9 au lait")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "Error: -: not UTF-8 text (byte 3)\n")
    path = tmp_path / "prompt.txt"
    path.write_bytes("こんにちは世界".encode("utf-16"))
    result = run("tokens", str(path))
    assert (result.exit_code, result.stderr) == (1, f"Error: {path}: not UTF-8 text: it is UTF-16 (save it as UTF-8)\n")


def test_dataset_csv_holds_the_errors_and_warnings_too(run, tmp_path):
    # CSV is one table: the summary rows, then each error and warning, told apart by a section column.
    import csv
    import io

    path = tmp_path / "t.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]}\n'
                    "not json\n")
    result = run("dataset", str(path), "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["section", "name", "value", "note"]
    assert rows[1][:3] == ["summary", "file", str(path)]
    assert ["error", "invalid_json", "1",
            "first lines 2: line is not valid JSON (each line must hold one complete JSON object)"] in rows
    assert ["warning", "", "", "1 example has no system message"] in rows


def test_tokens_of_an_empty_text_and_of_a_broken_link(run, tmp_path):
    assert json.loads(run("tokens", "", "--format", "json").output)["tokens"] == 0
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    result = run("tokens", str(tmp_path / "a.txt"))
    assert (result.exit_code, result.stderr) == (1, f"Error: {tmp_path / 'a.txt'}: cannot read: the link leads to no file\n")


# --- a fee for a job that cannot start -------------------------------------------------------------

SHUT_DOWN = ("no fine-tuning job can start on gpt-3.5-turbo on 2026-12-01 (gpt-3.5-turbo-0125 is shut down "
             "from 2026-10-23): the training fee is what the job cost at these prices, not one that can be "
             "paid then; give --as-of for a day it could start, or another model")


def test_a_fee_on_a_shut_down_model_is_marked_as_one_that_cannot_be_paid(run, train):
    # gpt-3.5-turbo meant 0125 from 2024-02-16, and 0125 shut down on 2026-10-23: the file is still
    # checked and counted (270 tokens), its fee ($0.0216 at $8 per 1M × 10 epochs) says it cannot be paid.
    result = run("dataset", str(train), "--as-of", "2026-12-01", "--format", "json")
    data = json.loads(result.output)
    assert (result.exit_code, data["billing_tokens"], data["training_usd"]) == (0, 270, "0.0216")
    assert data["warnings"][-1] == SHUT_DOWN  # after the file's own warnings
    assert SHUT_DOWN in run("dataset", str(train), "--as-of", "2026-12-01").output
    # On 2023-09-01 a job could start: no such warning.
    before = json.loads(run("dataset", str(train), "--as-of", "2023-09-01", "--format", "json").output)
    assert not [w for w in before["warnings"] if "no fine-tuning job can start" in w]


def test_openai_wind_down_closes_fine_tuning_to_new_customers(run, train):
    # gpt-4.1-mini is not shut down on 2026-12-01, but from 2026-05-07 OpenAI takes fine-tuning
    # jobs only from existing customers (a user of costcalc is taken to be new, as in compare).
    data = json.loads(run("dataset", str(train), "--model", "gpt-4.1-mini", "--as-of", "2026-12-01",
                          "--format", "json").output)
    assert data["warnings"][-1].startswith("no fine-tuning job can start on gpt-4.1-mini on 2026-12-01 (")

    def closed(day: str) -> list[str]:
        out = run("dataset", str(train), "--model", "gpt-4.1-mini", "--fine-tuning-customer", "existing",
                  "--as-of", day, "--format", "json").output
        return [w for w in json.loads(out)["warnings"] if w.startswith("no fine-tuning job can start")]

    # An existing customer could still train on 2026-12-01, and no one can from 2027-01-06.
    assert closed("2026-12-01") == []
    assert len(closed("2027-01-10")) == 1


def test_estimate_marks_a_training_fee_that_cannot_be_paid(run):
    args = ("estimate", "gpt-3.5-turbo", "--training-tokens", "100000", "--epochs", "3", "--format", "json")
    # OpenAI's own example: 100,000 tokens × 3 epochs × $8 per 1M = $2.40, payable on 2023-08-22.
    then = json.loads(run(*args, "--as-of", "2023-08-22").output)["training"]
    assert (then["training_usd"], then["warning"]) == ("2.4", None)
    now = json.loads(run(*args, "--as-of", "2026-12-01").output)["training"]
    assert now["warning"] == SHUT_DOWN
    assert f"Warning: {SHUT_DOWN}" in run(*args[:-2], "--as-of", "2026-12-01").output


def test_a_scan_worker_leaves_ctrl_c_to_the_parent():
    # Ctrl-C reaches every process of the command; a worker building its encoder or counting a
    # chunk goes on (the parent stops the scan) instead of printing a traceback of its own.
    import subprocess
    import sys

    code = ("import os, signal\n"
            "from costcalc import dataset\n"
            "dataset._start_worker('cl100k_base')\n"
            "os.kill(os.getpid(), signal.SIGINT)\n"
            "print('still counting')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (0, "still counting\n", "")


@pytest.mark.skipif(not hasattr(__import__("os"), "killpg"), reason="process groups: POSIX")
def test_ctrl_c_in_the_middle_of_a_parallel_scan_is_one_line_and_leaves_nothing_running(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    import gzip

    # 600 MB of lines in a 2 MB file (gzip members one after another read as one stream): seconds
    # to scan on any number of cores.
    path = tmp_path / "big.jsonl.gz"
    line = (terse("a longer answer about the weather in Lisbon " * 20) + "\n").encode()
    path.write_bytes(gzip.compress(line * (1_000_000 // len(line)), compresslevel=9) * 600)
    scan = subprocess.Popen([sys.executable, "-m", "costcalc", "dataset", str(path), "--model", "gpt-4o-mini"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    for _ in range(300):  # the pool's workers started, and past building their encoders
        if subprocess.run(["pgrep", "-P", str(scan.pid)], capture_output=True).stdout:
            break
        time.sleep(0.02)
    time.sleep(0.3)
    os.killpg(scan.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
    out, err = scan.communicate(timeout=30)
    assert (scan.returncode, out, err) == (1, "", "\nAborted!\n")  # click's own line, nothing else
    assert subprocess.run(["pgrep", "-g", str(scan.pid)], capture_output=True).stdout == b""
