"""Hostile, huge and international input: one clear message, never a traceback (issue 9)."""

from __future__ import annotations

import io
import json

import pytest

import costcalc
from costcalc.errors import DatasetError, PricingError
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


# --- scenario and price-sheet files that are not what they claim -----------------------------------


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfes\x00c\x00", "not UTF-8 text: it is UTF-16 (save it as UTF-8)"),
    (b"\xef\xbb\xbfschema_version = 1\n", "starts with a UTF-8 byte-order mark, which TOML does not allow "
                                          "(save it as UTF-8 without one)"),
    # 19 bytes of the first line, 12 of 'title = "caf': the Latin-1 é is byte 31 (0-based).
    (b"schema_version = 1\ntitle = \"caf\xe9\"\n", "not UTF-8 text (byte 31)"),
    (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "not valid TOML: nested too deeply"),
])
def test_a_scenario_that_is_not_utf8_toml_is_one_line(run, tmp_path, data, message):
    path = tmp_path / "s.toml"
    path.write_bytes(data)
    result = run("compare", str(path))
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: {path}: {message}\n")


def test_a_price_sheet_that_is_not_utf8_names_the_file(run, pricing_folder):
    folder = pricing_folder()
    (folder / "2024-02-01.toml").write_bytes(b"\xff\xfe\x00\x00")
    result = run("prices", "validate", str(folder))
    assert result.exit_code == 1
    assert result.stderr.endswith("2024-02-01.toml: not UTF-8 text: it is UTF-16 (save it as UTF-8)\n")


def test_a_symlink_loop_is_cannot_read(run, tmp_path):
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    result = run("compare", str(tmp_path / "a.toml"))
    assert (result.exit_code, result.stderr) == (1, f"Error: {tmp_path / 'a.toml'}: cannot read: "
                                                    "Too many levels of symbolic links\n")


def test_a_pricing_folder_that_links_to_itself_loads_once(run, pricing_folder):
    folder = pricing_folder()
    (folder / "again").symlink_to(folder)
    result = run("--pricing-dir", str(folder), "prices", "validate", "--format", "json")
    assert result.exit_code == 0, result.output


# --- magnitudes: a range error naming the flag or key, or a readable result ----------------------


@pytest.mark.parametrize("args, message", [
    (["compare", "--growth", "100", "--months", "84"],
     "--growth: 100% a month for 84 months would reach more than 1,000,000,000,000,000 requests a month"),
    (["compare", "--currency", "EUR", "--fx-rate", "1e30"], "--fx-rate: must be at most 1,000,000,000,000, not 1e30"),
    (["compare", "--requests-per-month", "1e400"],
     "--requests-per-month: must be at most 1,000,000,000,000 requests, not 1.000E+400"),
    (["compare", "--prompt-tokens", "1e300"], "--prompt-tokens: must be at most 10,000,000 tokens, not 1.000E+300"),
    (["compare", "--growth", "0x10"], "--growth: must be a number (%), not '0x10' (a string)"),
    (["compare", "--start-month", "9999-06"],
     "--start-month: 9999-06 leaves no room for 12 months (horizon_months): 9999-12 is the last month a date can hold"),
    (["compare", "--set", "traffic.horizon_months=8.0"],
     "--set traffic.horizon_months: must be a whole number of months from 1 to 120, not 8.0 (a float, not a whole number)"),
    (["compare", "--set", 'strategies."GPT-4".model=""'], '--set strategies."GPT-4".model: is empty'),
])
def test_out_of_range_values_name_the_flag(run, args, message):
    result = run(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {message}\n")


def test_a_41_digit_token_count_is_out_of_range(run):
    result = run("estimate", "gpt-4o", "--input-tokens", "1" * 41)
    assert result.exit_code == 2
    assert result.stderr == (f"Error: Invalid value for '--input-tokens': {'1' * 41} is not in the range "
                             "0<=x<=10000000.\n")


def test_a_huge_but_plausible_result_prints_every_digit(run):
    # 100,000 requests doubling every month for 30 months: 2^29 × 100,000 ≈ 5.4e13 in the last month.
    result = run("compare", "--growth", "100", "--months", "30")
    assert result.exit_code == 0, result.output
    assert "$9,019,431,313,200.00" in result.stdout  # GPT-4's total, to the cent


def test_a_price_beyond_a_million_per_1m_tokens_is_a_problem(pricing_folder):
    from .conftest import MINIMAL_SHEET

    folder = pricing_folder({"2024-01-01.toml": MINIMAL_SHEET.replace("input = 1.00", "input = 1e300", 1)})
    with pytest.raises(PricingError) as error:
        costcalc.load_pricebook(folder)
    assert [p.message for p in error.value.problems] == [
        "must be at most 1,000,000 (USD per 1M tokens), not 1.000E+300"]


# --- nothing lost ----------------------------------------------------------------------------------


def test_scenario_init_on_a_full_disk_leaves_nothing_and_force_keeps_the_old_file(run, tmp_path, monkeypatch):
    import errno
    from pathlib import Path

    target = tmp_path / "s.toml"

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    result = run("scenario", "init", str(target))
    assert (result.exit_code, result.stderr) == (1, f"Error: {target}: cannot write: No space left on device\n")
    assert list(tmp_path.iterdir()) == []  # no 0-byte file, no temporary
    monkeypatch.undo()
    target.write_text("old")
    monkeypatch.setattr(Path, "write_bytes", full)
    assert run("scenario", "init", "--force", str(target)).exit_code == 1
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_every_file_is_written_through_a_symlink(run, tmp_path):
    # One behaviour for every file costcalc writes: the link stays a link, its target is replaced.
    real = tmp_path / "real.toml"
    link = tmp_path / "link.toml"
    link.symlink_to(real)  # dangling until written
    assert run("scenario", "init", str(link)).exit_code == 0
    assert link.is_symlink() and real.read_text().startswith("#")
    pdf = tmp_path / "real.md"
    (tmp_path / "link.md").symlink_to(pdf)
    assert run("report", "--months", "1", "-o", str(tmp_path / "link.md")).exit_code == 0
    assert (tmp_path / "link.md").is_symlink() and pdf.read_text().startswith("# ")
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


def test_a_right_to_left_override_in_a_name_never_reorders_a_table(run, scenario_file):
    # U+202E would print "$3,725.18" as "81.527,3$"; control and format characters are dropped or
    # made spaces in every table, as in the charts and the PDF (text.one_line).
    from .conftest import FOUR_STRATEGIES

    text = FOUR_STRATEGIES.replace('[strategies."GPT-4"]', '[strategies."GPT\\u202e-4\\u200b\\nnew"]')
    result = run("compare", str(scenario_file(text)), "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert "\u202e" not in result.output and "\u200b" not in result.output
    assert "| GPT-4 new " in result.output


def test_a_copy_of_the_openai_folder_under_any_name_loads_and_reports_every_problem(run, tmp_path):
    import shutil

    from costcalc.pricing import default_pricing_dir

    copy = tmp_path / "my-prices"
    shutil.copytree(default_pricing_dir() / "openai", copy)
    assert run("prices", "validate", str(copy)).exit_code == 0
    # A problem in models.toml and one in a sheet: both reported at once.
    models = copy / "models.toml"
    models.write_text(models.read_text().replace("[aliases", "bogus_key = 1\n\n[aliases", 1))
    sheet = copy / "2023-11-06.toml"
    text = sheet.read_text()
    sheet.write_text(text.replace("input_per_1m = ", 'input_per_1m = "cheap" #', 1))
    result = run("prices", "validate", str(copy), "--format", "json")
    problems = json.loads(result.stdout)["problems"]
    assert result.exit_code == 1
    assert {p["file"].rsplit("/", 1)[-1] for p in problems} == {"models.toml", "2023-11-06.toml"}


def test_a_pricing_dir_that_is_missing_or_a_file_is_a_bad_flag(run, tmp_path):
    result = run("--pricing-dir", str(tmp_path / "nope"), "prices", "list")
    assert (result.exit_code, result.stderr) == (
        2, f"Error: Invalid value for '--pricing-dir': Directory '{tmp_path / 'nope'}' does not exist.\n")
    assert run("--pricing-dir", __file__, "prices", "list").exit_code == 2


def test_costcalc_alone_shows_the_help_and_exits_0(run):
    result = run()
    assert result.exit_code == 0 and "Should we fine-tune" in result.output


def test_one_request_and_one_month_are_singular(run):
    result = run("compare", "--months", "1", "--requests-per-month", "1")
    assert result.exit_code == 0
    assert "1 requests" not in result.output and "1 months" not in result.output
    assert "1 request in 2023-09" in result.output


def test_the_markdown_report_answer_has_no_invisible_characters(run, scenario_file, tmp_path):
    from .conftest import FOUR_STRATEGIES

    text = FOUR_STRATEGIES.replace('[strategies.Retrieval]', '[strategies."Retrieval\\u202eevil"]')
    out = tmp_path / "r.md"
    assert run("report", str(scenario_file(text)), "-o", str(out)).exit_code == 0
    assert "\u202e" not in out.read_text()
