"""Fixes found by a new user's check of the price catalogue: alias moves in history, misspelt price
keys, newer minor versions, the carried-forward note, provider prefixes and the env var's name."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from costcalc.cli import cli
from costcalc.errors import PricingError
from costcalc.pricing import load_pricebook

SOURCES = """\
schema_version = "2.0"
provider = "own-gpus"

[sources]
G1 = { title = "Our cloud invoice" }
"""

MODELS = """\
schema_version = "2.0"
provider = "own-gpus"

[models."x"]
kind = "chat"
tokenizer = "hf:meta-llama/Llama-3.1-8B-Instruct"
sources = ["G1"]
[models."x".fine_tuning]
methods = ["sft"]
sources = ["G1"]
"""


def own_gpus(tmp_path: Path, version: str, *, standard: str, fine_tuning: str) -> Path:
    """A one-sheet folder my-pricing/own-gpus/ with the model "x"; its sheet's tables are given."""
    folder = tmp_path / "my-pricing" / "own-gpus"
    folder.mkdir(parents=True)
    (folder / "sources.toml").write_text(SOURCES)
    (folder / "models.toml").write_text(MODELS)
    sheet = f"""\
        schema_version = "{version}"
        provider = "own-gpus"
        effective = 2026-11-01
        currency = "USD"
        checked = 2026-12-01

        [models."x"]
        sources = ["G1"]
        [models."x".standard]
        {standard}
        [models."x".fine_tuning]
        sources = ["G1"]
        {fine_tuning}
        [models."x".fine_tuned.standard]
        input_per_1m = 0
        output_per_1m = 0
        """
    (folder / "2026-11-01.toml").write_text(textwrap.dedent(sheet))
    return folder.parent


GOOD_STANDARD = "input_per_1m = 0\n        output_per_1m = 0"
GOOD_FT = "training_per_hour = 2.40\n        hosting_per_hour = 2.40"


def problems_of(root: Path) -> list[str]:
    with pytest.raises(PricingError) as caught:
        load_pricebook(root)
    return [str(p) for p in caught.value.problems]


# --- 2: a misspelt price key with a unit is an error, not a lost price -----------------------------

FT = "models.x.fine_tuning"  # a bare key: x needs no quotes


@pytest.mark.parametrize("line, expected", [
    ("hostng_per_hour = 2.40", f"{FT}.hostng_per_hour: unknown key (did you mean 'hosting_per_hour'?)"),
    ("maximun_per_job = 9", f"{FT}.maximun_per_job: unknown key (did you mean 'maximum_per_job'?)"),
    ("setup_fee_per_job = 1.00", f"{FT}.setup_fee_per_job: unknown key"),
])
def test_misspelt_unit_key_in_fine_tuning_is_an_error(monkeypatch, tmp_path, line, expected):
    monkeypatch.chdir(tmp_path)
    root = own_gpus(tmp_path, "2.0", standard=GOOD_STANDARD, fine_tuning=f"{GOOD_FT}\n        {line}")
    assert problems_of(root) == [f"my-pricing/own-gpus/2026-11-01.toml: {expected}"]


def test_misspelt_unit_key_in_a_mode_is_an_error(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    root = own_gpus(tmp_path, "2.0", standard=f"{GOOD_STANDARD}\n        cached_inptu_per_1m = 0", fine_tuning=GOOD_FT)
    assert problems_of(root) == [
        "my-pricing/own-gpus/2026-11-01.toml: models.x.standard.cached_inptu_per_1m: unknown key "
        "(did you mean 'cached_input_per_1m'?)"]


def test_misspelt_required_price_is_named_as_unknown_too(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    root = own_gpus(tmp_path, "2.0", standard="inptu_per_1m = 1\n        output_per_1m = 2", fine_tuning=GOOD_FT)
    found = problems_of(root)
    assert ("my-pricing/own-gpus/2026-11-01.toml: models.x.standard.inptu_per_1m: unknown key "
            "(did you mean 'input_per_1m'?)") in found


# --- 3: in a newer minor version, unknown keys are warnings ----------------------------------------


def test_newer_minor_version_warns_of_unknown_price_keys(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    root = own_gpus(tmp_path, "2.9", standard=f"{GOOD_STANDARD}\n        audio_input_per_1m = 40",
                    fine_tuning=f"{GOOD_FT}\n        setup_fee_per_job = 1.00\n        colour = \"red\"")
    book = load_pricebook(root)
    warnings = [str(w) for w in book.warnings]
    sheet = "my-pricing/own-gpus/2026-11-01.toml"
    assert warnings[0].startswith(f"{sheet}: schema_version: '2.9' is newer than this costcalc")
    assert warnings[1:] == [
        f"{sheet}: models.x.standard.audio_input_per_1m: unknown key (did you mean 'cached_input_per_1m'?)",
        f"{sheet}: {FT}.colour: unknown key",
        f"{sheet}: {FT}.setup_fee_per_job: unknown key",
    ]
    # The prices it knows are read as written.
    assert str(book.as_of("2026-11-01").models["x"].fine_tuning.hosting_per_hour) == "2.40"
    result = CliRunner().invoke(cli, ["--pricing-dir", str(root), "prices", "validate"])
    assert result.exit_code == 0, result.output
    assert f"warning: {sheet}: {FT}.setup_fee_per_job: unknown key" in result.output


# --- 1: history has a row for the day an alias moved -------------------------------------------------


@pytest.fixture(autouse=True)
def bundled_sheets(monkeypatch):
    monkeypatch.delenv("COSTCALC_PRICING_DIR", raising=False)


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def history_rows(*args: str) -> list[tuple[str, str, str]]:
    result = run("prices", "history", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return [(h["effective"], h["model"], h["price_sheet"]) for h in json.loads(result.stdout)["history"]]


def test_history_has_the_day_gpt35_turbo_moved_to_0125():
    # gpt-3.5-turbo means 0125 from 2024-02-16, inside the 2024-01-25 sheet (models.toml [aliases]).
    assert history_rows("gpt-3.5-turbo", "--as-of", "2024-06-01") == [
        ("2023-06-13", "gpt-3.5-turbo-0613", "2023-06-13.toml"),
        ("2023-08-22", "gpt-3.5-turbo-0613", "2023-08-22.toml"),
        ("2023-11-06", "gpt-3.5-turbo-0613", "2023-11-06.toml"),
        ("2024-02-16", "gpt-3.5-turbo-0125", "2024-01-25.toml"),
        ("2024-05-13", "gpt-3.5-turbo-0125", "2024-05-13.toml"),
    ]


def test_history_as_of_stops_before_and_after_the_move():
    assert history_rows("gpt-3.5-turbo", "--as-of", "2024-02-15")[-1] == (
        "2023-11-06", "gpt-3.5-turbo-0613", "2023-11-06.toml")
    assert history_rows("gpt-3.5-turbo", "--as-of", "2024-02-16")[-1] == (
        "2024-02-16", "gpt-3.5-turbo-0125", "2024-01-25.toml")


def test_history_table_of_gpt4o_moving_to_2024_08_06():
    result = run("prices", "history", "gpt-4o", "--as-of", "2024-12-01")
    assert result.exit_code == 0, result.output
    rows = [line.split()[:4] for line in result.stdout.splitlines()[3:]]
    assert rows == [["2024-05-13", "gpt-4o-2024-05-13", "$5.00", "-"],
                    ["2024-10-02", "gpt-4o-2024-08-06", "$2.50", "$1.25"]]


# --- 4: the carried-forward note where a date is priced ---------------------------------------------

# The newest OpenAI sheet is 2026-11-22, its prices checked 2026-12-02: 2026-12-23 is past that.
OPENAI_NOTE = ("Note: 2026-12-23 is after the day the OpenAI prices were last checked (2026-12-02): "
               "the newest sheet, 2026-11-22, is carried forward.\n")


@pytest.mark.parametrize("args", [
    ("estimate", "gpt-4o-mini", "--input-tokens", "100", "--as-of", "2026-12-23"),
    ("prices", "history", "gpt-4o-mini", "--as-of", "2026-12-23"),
    ("prices", "diff", "2026-01-01", "2026-12-23"),
])
def test_carried_forward_note_on_stderr(args):
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert result.stderr == OPENAI_NOTE
    assert "carried forward" not in result.stdout


@pytest.mark.parametrize("args", [
    ("estimate", "gpt-4o-mini", "--input-tokens", "100", "--as-of", "2026-12-23"),
    ("prices", "history", "gpt-4o-mini", "--as-of", "2026-12-23"),
])
def test_carried_forward_keys_in_json(args):
    result = run(*args, "--format", "json")
    data = json.loads(result.stdout)
    assert (data["carried_forward_from"], data["prices_checked"]) == ("2026-11-22", "2026-12-02")
    assert result.stderr == ""


def test_no_note_up_to_the_checked_day():
    result = run("estimate", "gpt-4o-mini", "--input-tokens", "100", "--as-of", "2026-12-02", "--format", "json")
    assert (result.stderr, json.loads(result.stdout)["carried_forward_from"]) == ("", None)


# --- 5: a provider's alias targets carry the prefix too -------------------------------------------


def test_mistral_aliases_are_listed_with_their_prefix():
    result = run("prices", "list", "--provider", "mistral", "--as-of", "2024-08-01")
    assert "Aliases: mistral/codestral-latest → mistral/codestral-2405, " in result.stdout


# --- 6: an unknown model of another provider is named as written ----------------------------------


def test_unknown_azure_model_is_named_as_written():
    result = run("prices", "show", "azure/nosuch", "--as-of", "2026-06-01")
    assert (result.exit_code, result.stderr) == (
        2, "Error: unknown model 'azure/nosuch' in the Azure OpenAI price sheet effective 2026-05-01\n")


def test_unknown_azure_model_suggests_close_names():
    result = run("prices", "show", "azure/gpt-4o-minii", "--as-of", "2026-06-01")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: unknown model 'azure/gpt-4o-minii' in the Azure OpenAI price sheet effective 2026-05-01; "
        "did you mean azure/gpt-4o-mini-2024-07-18")


def test_unknown_mistral_model_in_history():
    result = run("prices", "history", "mistral/codestral-lates")
    assert result.stderr.startswith("Error: unknown model 'mistral/codestral-lates' in any Mistral price sheet; "
                                    "did you mean mistral/codestral-latest")


# --- 7: the pricing folder from the environment is named as such -----------------------------------


def test_missing_pricing_dir_from_the_environment(monkeypatch):
    monkeypatch.setenv("COSTCALC_PRICING_DIR", "nonexist")
    result = run("prices", "list")
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        2, "Error: Invalid value for $COSTCALC_PRICING_DIR: Directory 'nonexist' does not exist.")


def test_missing_pricing_dir_from_the_flag_is_named_as_the_flag(monkeypatch):
    monkeypatch.delenv("COSTCALC_PRICING_DIR", raising=False)
    result = run("--pricing-dir", "nonexist", "prices", "list")
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        2, "Error: Invalid value for '--pricing-dir': Directory 'nonexist' does not exist.")


# --- 8: estimate names the sheet in force, and where the price was set ----------------------------


def test_estimate_names_the_sheet_in_force_and_the_price_date():
    result = run("estimate", "gpt-4o-mini", "--input-tokens", "100", "--as-of", "2026-11-22")
    assert result.stdout.splitlines()[0] == ("gpt-4o-mini-2024-07-18, standard pricing, sheet in force 2026-11-22 "
                                             "(price set by the sheet of 2025-04-14): 1 request")
    data = json.loads(run("estimate", "gpt-4o-mini", "--input-tokens", "100", "--as-of", "2026-11-22",
                          "--format", "json").stdout)
    assert (data["effective"], data["price_effective"], data["price_sheet"]["file"]) == (
        "2026-11-22", "2025-04-14", "2026-11-22.toml")


def test_estimate_on_the_price_own_sheet_says_it_once():
    result = run("estimate", "gpt-3.5-turbo", "--input-tokens", "100", "--as-of", "2023-08-22")
    assert result.stdout.splitlines()[0] == "gpt-3.5-turbo-0613, standard pricing, sheet in force 2023-08-22: 1 request"
