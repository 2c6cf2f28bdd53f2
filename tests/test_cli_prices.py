"""The `prices` and `estimate` commands as a user runs them: output, JSON contract, errors, exit codes."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

PRICE_KEYS = ["input_per_1m", "output_per_1m", "cached_input_per_1m", "batch_input_per_1m",
              "batch_output_per_1m", "training_per_1m", "ft_input_per_1m", "ft_cached_input_per_1m",
              "ft_output_per_1m"]


def test_show_json_contract(run):
    result = run("prices", "show", "gpt-3.5-turbo", "--as-of", "2023-09-01", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["model"] == "gpt-3.5-turbo-0613"
    assert data["effective"] == "2023-08-22"
    assert {k: data[k] for k in PRICE_KEYS} == {
        "input_per_1m": "1.5", "output_per_1m": "2", "cached_input_per_1m": None,
        "batch_input_per_1m": None, "batch_output_per_1m": None, "training_per_1m": "8",
        "ft_input_per_1m": "12", "ft_cached_input_per_1m": None, "ft_output_per_1m": "16",
    }


def test_show_table_names_snapshot_and_sources(run):
    result = run("prices", "show", "ft:gpt-3.5-turbo-0613:acme::abc123", "--as-of", "2023-11-06")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == ("gpt-3.5-turbo-0613 in the price sheet effective 2023-11-06 (USD per 1M tokens); "
                        "'ft:gpt-3.5-turbo-0613:acme::abc123' resolves to gpt-3.5-turbo-0613")
    assert "ft input                      $3.00" in lines
    assert any(line.startswith("source S1: OpenAI blog: GPT-3.5 Turbo fine-tuning") for line in lines)


def test_list_csv_parses_and_has_every_model(run, book):
    result = run("prices", "list", "--as-of", "2023-08-22", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["model"] for r in rows] == sorted(book.revision("2023-08-22").models)
    babbage = next(r for r in rows if r["model"] == "babbage-002")
    assert (babbage["input"], babbage["FT training"], babbage["FT input"]) == ("0.4", "0.4", "1.6")


def test_list_markdown(run):
    result = run("prices", "list", "--as-of", "2023-08-22", "--format", "markdown")
    assert result.output.startswith("### OpenAI prices in force from 2023-08-22")
    assert "| gpt-3.5-turbo-0613 " in result.output


def test_history_json(run):
    data = json.loads(run("prices", "history", "gpt-3.5-turbo-0613", "--format", "json").output)
    ft_inputs = [(h["effective"], h["ft_input_per_1m"]) for h in data["history"]][:3]
    assert ft_inputs == [("2023-06-13", None), ("2023-08-22", "12"), ("2023-11-06", "3")]


def test_diff_table(run):
    result = run("prices", "diff", "2023-08-22", "2023-11-06")
    assert result.exit_code == 0
    assert "gpt-3.5-turbo-0613  ft_input         $12.00         $3.00  -75.0%" in result.output
    assert "Added: gpt-3.5-turbo-1106, gpt-4-1106-preview" in result.output


def test_validate_bundled(run):
    result = run("prices", "validate")
    assert result.exit_code == 0 and "All 35 price sheets in " in result.output

    # 27 OpenAI sheets (10 to 2025-04-14, 17 after), 7 Azure sheets, 1 Mistral sheet: 27 + 7 + 1 = 35.
    assert "\nmistral     2024-07-24.toml  2024-07-24" in result.output

@pytest.fixture
def two_problems(pricing_folder, monkeypatch):
    """A pricing folder ./prices whose one sheet has a bad kind and a boolean price."""
    from .conftest import MINIMAL_SHEET

    folder = pricing_folder({"2024-01-01.toml": MINIMAL_SHEET.replace("input = 1.00", "input = true")
                             .replace('kind = "chat"', 'kind = "chatbot"')})
    monkeypatch.chdir(folder.parent)
    return folder


def test_validate_reports_every_problem(run, two_problems):
    result = run("prices", "validate", "prices")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", (
        "Error: 2 problems in price sheets:\n"
        "  prices/2024-01-01.toml: models.chat-1.kind: must be one of chat, completion, embedding, "
        "moderation, not 'chatbot'\n"
        "  prices/2024-01-01.toml: models.chat-1.input: must be a number (USD per 1M tokens), not true (a boolean)\n"
    ))


def test_validate_json_prints_the_problems_as_data(run, two_problems):
    result = run("prices", "validate", "prices", "--format", "json")
    assert (result.exit_code, result.stderr) == (1, "")
    assert json.loads(result.stdout) == {"valid": False, "problems": [
        {"file": "prices/2024-01-01.toml", "key": "models.chat-1.kind",
         "message": "must be one of chat, completion, embedding, moderation, not 'chatbot'"},
        {"file": "prices/2024-01-01.toml", "key": "models.chat-1.input",
         "message": "must be a number (USD per 1M tokens), not true (a boolean)"},
    ]}


def test_validate_json_of_a_missing_folder_is_a_file_level_problem(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("prices", "validate", "nope", "--format", "json")
    assert (result.exit_code, result.stderr) == (1, "")
    assert json.loads(result.stdout) == {"valid": False, "problems": [
        {"file": "nope", "key": "", "message": "pricing folder not found"}]}


def test_validate_json_of_valid_sheets(run, pricing_folder):
    folder = pricing_folder()
    result = run("prices", "validate", str(folder), "--format", "json")
    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "valid": True, "problems": [], "warnings": [], "directory": str(folder), "providers": ["acme"],
        "sheets": [{"effective": "2024-01-01", "file": "2024-01-01.toml", "provider": "acme", "checked": "2024-01-02"}],
    }


def test_pricing_dir_env_var(run, pricing_folder, monkeypatch):
    monkeypatch.setenv("COSTCALC_PRICING_DIR", str(pricing_folder()))
    data = json.loads(run("prices", "show", "chat", "--format", "json").output)
    assert (data["model"], data["training_per_1m"]) == ("chat-1", "5")


def test_estimate_training_example(run):
    result = run("estimate", "gpt-3.5-turbo", "--training-tokens", "100000", "--epochs", "3",
                 "--as-of", "2023-08-22", "--format", "json")
    data = json.loads(result.output)
    assert (data["training_usd"], data["total_usd"], data["fine_tuned"]) == ("2.4", "2.4", True)


def test_estimate_usage(run):
    # 100,000 requests x (800 in, 150 out) at $1.50/$2.00 per 1M = 120 + 30.
    result = run("estimate", "gpt-3.5-turbo", "--input-tokens", "800", "--output-tokens", "150",
                 "--requests", "100000", "--as-of", "2023-09-01")
    assert result.exit_code == 0
    total = next(line for line in result.output.splitlines() if line.startswith("total"))
    assert total.split()[-1] == "$150.00"
    assert "Per request: $0.0015 (usage only)" in result.output


def test_estimate_without_training_has_a_decimal_string_fee(run):
    data = json.loads(run("estimate", "gpt-3.5-turbo", "--input-tokens", "10", "--format", "json").output)
    assert (data["training"], data["training_usd"]) == (None, "0")


def test_estimate_fine_tuned_json(run):
    data = json.loads(run("estimate", "ft:gpt-3.5-turbo-0613:acme::x", "--input-tokens", "1000000",
                          "--output-tokens", "1000000", "--as-of", "2023-09-01", "--format", "json").output)
    assert (data["input_usd"], data["output_usd"], data["total_usd"]) == ("12", "16", "28")
    assert Decimal(data["total_usd"]) == Decimal("28.00")


@pytest.mark.parametrize("args, code, message", [
    # An unknown model named on the command line is bad usage, as for every command.
    (("prices", "show", "gpt-5-turbo", "--as-of", "2025-04-14"), 2,
     "Error: unknown model 'gpt-5-turbo' in the price sheet effective 2025-04-14; did you mean gpt-3.5-turbo, "
     "gpt-4-turbo, gpt-3.5-turbo-16k?\n"),
    (("prices", "history", "gpt-5000"), 2,
     "Error: unknown model 'gpt-5000' in any price sheet; did you mean gpt-5, gpt-5.5, gpt-5.4?\n"),
    (("estimate", "gpt-5000", "--as-of", "2023-09-01"), 2,
     "Error: unknown model 'gpt-5000' in the price sheet effective 2023-08-22; did you mean gpt-4?\n"),
    (("prices", "show", "gpt-4", "--as-of", "2023-01-01"), 2,
     "Error: no price sheet in force on 2023-01-01: the first sheet is effective 2023-06-13\n"),
    (("prices", "list", "--as-of", "2023-13-01"), 2,
     "Error: Invalid value for '--as-of': '2023-13-01' is not a date in the form YYYY-MM-DD\n"),
    (("estimate", "gpt-4", "--input-tokens", "-5"), 2,
     "Error: Invalid value for '--input-tokens': -5 is not in the range 0<=x<=10000000.\n"),
    (("estimate", "gpt-4", "--input-tokens", "1.5"), 2,
     "Error: Invalid value for '--input-tokens': '1.5' is not a valid integer range.\n"),
    (("estimate", "gpt-3.5-turbo", "--input-tokens", "10", "--batch", "--as-of", "2023-09-01"), 1,
     "Error: no batch input price for gpt-3.5-turbo-0613 in the price sheet effective 2023-08-22\n"),
    # A model that cannot be fine-tuned is refused as dataset and compare refuse it (a bad value: exit 2).
    (("estimate", "gpt-4", "--training-tokens", "1000", "--as-of", "2023-09-01"), 2,
     "Error: gpt-4 (gpt-4-0613) has no fine-tuning prices in the price sheet effective 2023-08-22 "
     "(in force on 2023-09-01)\n"),
    (("estimate", "gpt-4o-mini", "--as-of", "2023-09-01"), 2,
     "Error: gpt-4o-mini is not in the price sheet effective 2023-08-22: it first appears in the sheet "
     "effective 2024-07-18\n"),
    (("prices", "list", "--format", "yaml"), 2,
     "Error: Invalid value for '--format': 'yaml' is not one of 'table', 'json', 'csv', 'markdown'.\n"),
])
def test_errors_are_one_line_with_exit_code(run, args, code, message):
    result = run(*args)
    assert result.exit_code == code
    assert result.output == message  # one line, whatever failed: the error of a flag too
    assert "Traceback" not in result.output


def test_invalid_sheet_is_an_error_naming_file_and_key(run, pricing_folder, monkeypatch):
    from .conftest import MINIMAL_SHEET

    folder = pricing_folder({"2024-01-01.toml": MINIMAL_SHEET.replace("schema_version = 1", "schema_version = 7")})
    monkeypatch.chdir(folder.parent)
    result = run("--pricing-dir", "prices", "prices", "list")
    assert result.exit_code == 1
    assert result.output == ("Error: prices/2024-01-01.toml: schema_version: unknown schema version 7 "
                             "(this costcalc reads schema_version = 1)\n")
