"""`costcalc prices ...` and the lifecycle: what could be used on a date, who could start a fine-tuning
job, the prices carried forward past the newest sheet, and every provider of the folder.

The bundled sheets answer the issue's done-when checks; a small folder of three providers (OpenAI,
Azure, Mistral) written here pins the exact messages. `today()` is monkeypatched: no test depends on
the day it runs.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

import costcalc.months

OPENAI_SOURCES = """\
schema_version = "2.0"
provider = "openai"

[sources]
O1 = { title = "Pricing page", url = "https://example.com/openai" }
"""

OPENAI_MODELS = """\
schema_version = "2.0"
provider = "openai"

[fine_tuning_wind_down]
sources = ["O1"]

[[fine_tuning_wind_down.steps]]
on = 2024-05-01
jobs = "existing customers only"
wording = "Only organizations that fine-tuned before may create jobs."

[[fine_tuning_wind_down.steps]]
on = 2024-09-01
jobs = "closed"
wording = "No one may create new fine-tuning jobs."

[models."old-1"]
kind = "chat"
tokenizer = "tiktoken:cl100k_base"
released = 2024-01-01
deprecation_notice = 2024-02-01
shutdown = 2024-04-01
sources = ["O1"]

[models."new-1"]
kind = "chat"
tokenizer = "tiktoken:o200k_base"
released = 2024-01-01
sources = ["O1"]

[models."new-1".fine_tuning]
methods = ["sft"]
sources = ["O1"]

[aliases]
"new" = [ { from = 2024-01-01, to = "new-1", sources = ["O1"] } ]
"""

# 2024-01-01 prices both models; 2024-03-01 lists only what changed (new-1's input), so old-1 carries
# forward with its own date.
OPENAI_2024_01 = """\
schema_version = "2.0"
provider = "openai"
effective = 2024-01-01
currency = "USD"
checked = 2024-01-02

[models."old-1"]
sources = ["O1"]
[models."old-1".standard]
input_per_1m = 1.00
output_per_1m = 2.00

[models."new-1"]
sources = ["O1"]
[models."new-1".standard]
input_per_1m = 3.00
output_per_1m = 6.00
[models."new-1".fine_tuning]
training_per_1m = 25.00
sources = ["O1"]
[models."new-1".fine_tuned.standard]
input_per_1m = 4.00
output_per_1m = 8.00
"""

OPENAI_2024_03 = """\
schema_version = "2.0"
provider = "openai"
effective = 2024-03-01
currency = "USD"
checked = 2024-03-02

[models."new-1"]
sources = ["O1"]
[models."new-1".standard]
input_per_1m = 2.00
output_per_1m = 6.00
[models."new-1".fine_tuning]
training_per_1m = 25.00
sources = ["O1"]
[models."new-1".fine_tuned.standard]
input_per_1m = 4.00
output_per_1m = 8.00
"""

AZURE_SOURCES = """\
schema_version = "2.0"
provider = "azure"

[sources]
A1 = { title = "Azure pricing", url = "https://example.com/azure" }
"""

AZURE_MODELS = """\
schema_version = "2.0"
provider = "azure"

[models."mini-1"]
kind = "chat"
tokenizer = "tiktoken:o200k_base"
released = 2024-02-01
sources = ["A1"]
"""

# Azure bills by deployment type (the loader's default type is tested on a ModelPrice below).
AZURE_2024_02 = """\
schema_version = "2.0"
provider = "azure"
effective = 2024-02-01
currency = "USD"
checked = 2024-02-02

[models."mini-1"]
sources = ["A1"]
[models."mini-1".standard]
input_per_1m = 0.40
output_per_1m = 1.60
[models."mini-1".regional]
input_per_1m = 0.44
output_per_1m = 1.76
"""

MISTRAL_SOURCES = """\
schema_version = "2.0"
provider = "mistral"

[sources]
M1 = { title = "Mistral pricing", url = "https://example.com/mistral" }
"""

MISTRAL_MODELS = """\
schema_version = "2.0"
provider = "mistral"

[models."small-1"]
kind = "chat"
tokenizer = "mistral:tekken"
released = 2024-01-01
sources = ["M1"]

[models."small-1".fine_tuning]
methods = ["sft"]
sources = ["M1"]
"""

MISTRAL_2024_01 = """\
schema_version = "2.0"
provider = "mistral"
effective = 2024-01-01
currency = "USD"
checked = 2024-01-02

[models."small-1"]
sources = ["M1"]
[models."small-1".standard]
input_per_1m = 0.20
output_per_1m = 0.60
[models."small-1".fine_tuning]
training_per_1m = 1.00
storage_per_month = 2
minimum_per_job = 4
sources = ["M1"]
[models."small-1".fine_tuned.standard]
input_per_1m = 0.20
output_per_1m = 0.60
"""


def set_today(monkeypatch, day: str) -> None:
    monkeypatch.setattr(costcalc.months, "today", lambda: dt.date.fromisoformat(day))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A pricing folder of three providers (see the sheets above), used through $COSTCALC_PRICING_DIR."""
    files = {
        "openai": {"sources.toml": OPENAI_SOURCES, "models.toml": OPENAI_MODELS,
                   "2024-01-01.toml": OPENAI_2024_01, "2024-03-01.toml": OPENAI_2024_03},
        "azure": {"sources.toml": AZURE_SOURCES, "models.toml": AZURE_MODELS, "2024-02-01.toml": AZURE_2024_02},
        "mistral": {"sources.toml": MISTRAL_SOURCES, "models.toml": MISTRAL_MODELS,
                    "2024-01-01.toml": MISTRAL_2024_01},
    }
    root = tmp_path / "pricing"
    for provider, texts in files.items():
        (root / provider).mkdir(parents=True)
        for name, text in texts.items():
            (root / provider / name).write_text(textwrap.dedent(text))
    monkeypatch.chdir(tmp_path)
    return root


@pytest.fixture
def cli(run, folder):
    def invoke(*args):
        return run("--pricing-dir", str(folder), *args)

    return invoke


def show_json(invoke, *args) -> dict:
    result = invoke("prices", "show", *args, "--format", "json")
    assert (result.exit_code, result.stderr) == (0, "")
    return json.loads(result.stdout)


# --- the done-when checks, on the bundled sheets ---------------------------------------------


def test_gpt_35_turbo_0125_was_shut_down_on_2026_10_23(run):
    # models.toml: shutdown = 2026-10-23 (PRICING_FACTS_2025_2026 §4, S25, S26)
    result = run("prices", "show", "gpt-3.5-turbo-0125", "--as-of", "2026-12-01")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].endswith("; on 2026-12-01 it is shut down: these prices cannot be used then")
    assert "status on 2026-12-01: shut down on 2026-10-23" in lines
    data = json.loads(run("prices", "show", "gpt-3.5-turbo-0125", "--as-of", "2026-12-01", "--format", "json").stdout)
    assert (data["status"], data["shutdown_on"], data["fine_tuning_jobs"]) == ("shut down", "2026-10-23", "closed")


def test_gpt_41_mini_takes_no_fine_tuning_jobs_in_2027(run):
    # The wind-down's last step: no new fine-tuning jobs from anyone after 2027-01-06 (S25, S26)
    result = run("prices", "show", "gpt-4.1-mini", "--as-of", "2027-02-01")
    assert result.exit_code == 0
    assert any(line.startswith("fine-tuning jobs on 2027-02-01: closed") for line in result.stdout.splitlines())
    data = json.loads(run("prices", "show", "gpt-4.1-mini", "--as-of", "2027-02-01", "--format", "json").stdout)
    assert data["fine_tuning_jobs"] == "closed"


# --- prices show --------------------------------------------------------------------------------------


def test_show_json_adds_the_contract_keys(cli):
    data = show_json(cli, "mistral/small-1", "--as-of", "2024-02-01")
    assert {k: data[k] for k in ("provider", "status", "shutdown_on", "fine_tuning_jobs", "training_per_hour",
                                 "hosting_per_hour", "storage_per_month", "minimum_per_job",
                                 "carried_forward_from")} == {
        "provider": "mistral", "status": "available", "shutdown_on": None, "fine_tuning_jobs": "open",
        "training_per_hour": None, "hosting_per_hour": None, "storage_per_month": "2", "minimum_per_job": "4",
        "carried_forward_from": "2024-01-01",
    }
    assert (data["model"], data["input_per_1m"], data["training_per_1m"]) == ("small-1", "0.2", "1")


def test_show_table_of_a_fee_per_month_and_per_job(cli):
    result = cli("prices", "show", "mistral/small-1", "--as-of", "2024-01-01")
    lines = result.stdout.splitlines()
    assert lines[0] == "mistral/small-1 in the price sheet effective 2024-01-01 (USD per 1M tokens)"
    assert "per month of storage (USD)         $2.00" in lines
    assert "minimum per job (USD)              $4.00" in lines
    assert result.stderr == ""


def test_show_a_deprecated_model_gives_its_dates(cli):
    result = cli("prices", "show", "old-1", "--as-of", "2024-03-01")
    lines = result.stdout.splitlines()
    assert "status on 2024-03-01: deprecated, shutdown on 2024-04-01 (announced 2024-02-01)" in lines
    assert "released: 2024-01-01; deprecation notice: 2024-02-01; shutdown: 2024-04-01" in lines
    assert "fine-tuning: not offered for this model" in lines


def test_show_says_who_may_start_a_fine_tuning_job_in_the_providers_words(cli):
    lines = cli("prices", "show", "new", "--as-of", "2024-06-01").stdout.splitlines()
    assert ('fine-tuning jobs on 2024-06-01: existing customers only (OpenAI: "Only organizations that '
            'fine-tuned before may create jobs.")') in lines
    data = show_json(cli, "new", "--as-of", "2024-06-01")
    assert (data["fine_tuning_jobs"], data["fine_tuning_jobs_wording"]) == (
        "existing customers only", "Only organizations that fine-tuned before may create jobs.")
    assert show_json(cli, "new", "--as-of", "2024-02-01")["fine_tuning_jobs"] == "open"
    assert show_json(cli, "new", "--as-of", "2024-09-01")["fine_tuning_jobs"] == "closed"


def test_show_lists_the_other_deployment_types(cli):
    result = cli("prices", "show", "azure/mini-1", "--as-of", "2024-02-01")
    lines = result.stdout.splitlines()
    assert lines[0] == "azure/mini-1 in the price sheet effective 2024-02-01 (USD per 1M tokens)"
    assert "also regional: input 0.44, output 1.76" in lines
    data = show_json(cli, "azure/mini-1", "--as-of", "2024-02-01")
    assert (data["provider"], data["input_per_1m"], data["output_per_1m"]) == ("azure", "0.4", "1.6")
    assert data["modes"]["regional"] == {"input_per_1m": "0.44", "output_per_1m": "1.76"}


def test_prices_of_a_provider_whose_default_is_not_standard_are_those_of_its_default():
    from costcalc import views
    from costcalc.pricing import ModeRates, ModelPrice, PriceSheet

    extra = {"default_mode": "global"} if "default_mode" in ModelPrice.__dataclass_fields__ else {}
    model = ModelPrice("mini-1", "chat", dt.date(2024, 2, 1), provider="azure", **extra, modes={
        "global": ModeRates({"input_per_1m": Decimal("0.4"), "output_per_1m": Decimal("1.6")}),
        "regional": ModeRates({"input_per_1m": Decimal("0.44"), "output_per_1m": Decimal("1.76")})})
    sheet = PriceSheet(Path("2024-02-01.toml"), "azure", dt.date(2024, 2, 1), dt.date(2024, 2, 2), "USD",
                       "per_1m_tokens", "", {}, {}, {"mini-1": model})
    output = views.price_show(model, sheet, "azure/mini-1")
    assert (output.data["default_mode"], output.data["input_per_1m"], output.data["output_per_1m"]) == (
        "global", Decimal("0.4"), Decimal("1.6"))
    table = output.tables[0]
    assert table.title == "azure/mini-1 in the price sheet effective 2024-02-01 (USD per 1M tokens, global deployment)"
    assert "also regional: input 0.44, output 1.76" in table.notes


# --- --as-of: today, and past the newest sheet --------------------------------------------------------


def test_as_of_defaults_to_today(cli, monkeypatch):
    set_today(monkeypatch, "2024-02-15")
    data = show_json(cli, "new")
    assert (data["effective"], data["input_per_1m"], data["carried_forward_from"]) == ("2024-01-01", "3", None)
    set_today(monkeypatch, "2024-05-01")
    data = show_json(cli, "new")
    assert (data["effective"], data["input_per_1m"], data["carried_forward_from"]) == ("2024-03-01", "2",
                                                                                      "2024-03-01")


def test_a_date_past_the_newest_sheet_gets_a_note_on_stderr(cli, monkeypatch):
    set_today(monkeypatch, "2024-05-01")
    result = cli("prices", "show", "new")
    assert result.stderr == ("Note: 2024-05-01 is after the day the OpenAI prices were last checked (2024-03-02): the "
                             "newest sheet, 2024-03-01, is carried forward.\n")
    # Up to the day the newest sheet was checked, its prices are known, not carried forward.
    assert cli("prices", "show", "new", "--as-of", "2024-03-01").stderr == ""
    assert cli("prices", "show", "new", "--as-of", "2024-03-02").stderr == ""
    assert show_json(cli, "new", "--as-of", "2024-03-03")["prices_checked"] == "2024-03-02"


def test_list_notes_every_provider_carried_forward(cli):
    result = cli("prices", "list", "--as-of", "2024-05-01", "--format", "csv")
    assert result.stderr.splitlines() == [
        "Note: 2024-05-01 is after the day the OpenAI prices were last checked (2024-03-02): the newest sheet, 2024-03-01, "
        "is carried forward.",
        "Note: 2024-05-01 is after the day the Azure OpenAI prices were last checked (2024-02-02): the newest sheet, "
        "2024-02-01, is carried forward.",
        "Note: 2024-05-01 is after the day the Mistral prices were last checked (2024-01-02): the newest sheet, 2024-01-01, "
        "is carried forward.",
    ]


# --- prices list --------------------------------------------------------------------------------------


def test_list_shows_every_provider_with_its_prefix_and_leaves_out_shut_down_models(cli):
    result = cli("prices", "list", "--as-of", "2024-05-01", "--format", "json")
    data = json.loads(result.stdout)
    assert [(m["model"], m["status"]) for m in data["models"]] == [
        ("new-1", "available"), ("azure/mini-1", "available"), ("mistral/small-1", "available")]
    assert [p["provider"] for p in data["providers"]] == ["openai", "azure", "mistral"]
    assert data["carried_forward_from"] == "2024-03-01"


def test_list_include_shut_down_marks_them(cli):
    result = cli("prices", "list", "--as-of", "2024-05-01", "--provider", "openai", "--include-shut-down")
    lines = result.stdout.splitlines()
    assert lines[0] == "OpenAI prices in force from 2024-03-01 on 2024-05-01 (USD per 1M tokens; 2024-03-01.toml)"
    assert [line.split()[:3] for line in lines[3:5]] == [["new-1", "chat", "available"], ["old-1", "chat", "shut"]]


def test_list_one_provider(cli):
    data = json.loads(cli("prices", "list", "--as-of", "2024-02-01", "--provider", "azure", "--format", "json").stdout)
    assert [m["model"] for m in data["models"]] == ["azure/mini-1"]
    assert data["price_sheet"]["provider"] == "azure"


def test_list_leaves_out_a_provider_without_a_sheet_yet(cli):
    data = json.loads(cli("prices", "list", "--as-of", "2024-01-15", "--format", "json").stdout)
    assert [p["provider"] for p in data["providers"]] == ["openai", "mistral"]


def test_list_of_an_unknown_provider(cli):
    result = cli("prices", "list", "--provider", "bedrock")
    assert result.exit_code == 2
    assert result.stderr == "Error: --provider bedrock: no price sheets of 'bedrock'; the folder has: openai, azure, mistral\n"


# --- prices history and validate ----------------------------------------------------------------------


def test_history_shows_each_price_once_from_the_sheet_where_it_took_effect(cli):
    data = json.loads(cli("prices", "history", "old-1", "--format", "json").stdout)
    # 2024-03-01 carries old-1 forward unchanged: one period, not a row per sheet
    assert [(h["effective"], h["input_per_1m"]) for h in data["history"]] == [("2024-01-01", "1")]
    data = json.loads(cli("prices", "history", "new", "--format", "json").stdout)
    assert [(h["effective"], h["input_per_1m"]) for h in data["history"]] == [("2024-01-01", "3"),
                                                                           ("2024-03-01", "2")]


def test_history_of_another_providers_model(cli):
    data = json.loads(cli("prices", "history", "azure/mini-1", "--format", "json").stdout)
    assert (data["provider"], [(h["effective"], h["input_per_1m"]) for h in data["history"]]) == (
        "azure", [("2024-02-01", "0.4")])


def test_validate_lists_every_providers_sheets_and_the_warnings(cli, folder):
    sheet = folder / "mistral" / "2024-01-01.toml"
    sheet.write_text(sheet.read_text().replace('"2.0"', '"2.1"', 1))
    result = cli("prices", "validate")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"All 4 price sheets in {folder} are valid"
    assert [line.split()[:2] for line in lines[3:7]] == [
        ["openai", "2024-01-01.toml"], ["openai", "2024-03-01.toml"], ["azure", "2024-02-01.toml"],
        ["mistral", "2024-01-01.toml"]]
    assert lines[7].startswith("warning: pricing/mistral/2024-01-01.toml: schema_version: '2.1' is newer than "
                               "this costcalc")
    data = json.loads(cli("prices", "validate", "--format", "json").stdout)
    assert data["providers"] == ["openai", "azure", "mistral"]
    assert [w["file"] for w in data["warnings"]] == ["pricing/mistral/2024-01-01.toml"]
