"""Azure OpenAI and Mistral in the v2 catalogue: prices by deployment type, the provider's default
mode, rules that are not prices, and lifecycle answers (facts: PROVIDERS_FACTS §1 and §3)."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costcalc.errors import CostCalcError, PricingError
from costcalc.pricing import Rule, load_pricebook

REPO = Path(__file__).resolve().parent.parent
TODAY = "2026-12-02"


@pytest.fixture(scope="module")
def book():
    return load_pricebook(REPO / "pricing")


def azure(book, name, date=TODAY):
    provider_book, bare = book.for_name(f"azure/{name}")
    return provider_book.as_of(date).model(bare)


def test_azure_gpt_4_1_mini_prices_by_deployment_type(book):
    model = azure(book, "gpt-4.1-mini-2025-04-14")
    assert model.provider == "azure"
    assert model.default_mode == "global"
    # Plain prices are Global Standard's: base global meters $0.0004 / $0.0001 / $0.0016 per 1K (P5).
    assert (model.input_per_1m, model.cached_input_per_1m, model.output_per_1m) == (
        Decimal("0.40"), Decimal("0.10"), Decimal("1.60"))
    assert model.rate("input") == Decimal("0.40")
    by_mode = model.fine_tuning_by_mode
    assert set(by_mode) == {"global", "regional", "developer"}
    assert model.fine_tuning is by_mode["global"]
    # Training $0.005/1K global, $5.50 regional (US), $0.0025/1K developer (P5 §1b).
    assert [by_mode[m].training_per_1m for m in ("global", "regional", "developer")] == [
        Decimal("5.00"), Decimal("5.50"), Decimal("2.50")]
    # Hosting $1.70/hour global and regional (P5, P1); Developer Tier "Hourly Rate ... None" (P1, P3).
    assert [by_mode[m].hosting_per_hour for m in ("global", "regional", "developer")] == [
        Decimal("1.70"), Decimal("1.70"), Decimal("0")]
    # Fine-tuned inference at base-model rates: global $0.40 / $0.10 / $1.60 per 1M (P5 §1d, P1).
    ft = model.fine_tuning
    assert (ft.input_per_1m, ft.cached_input_per_1m, ft.output_per_1m) == (
        Decimal("0.40"), Decimal("0.10"), Decimal("1.60"))
    # Regional (US) fine-tuned inference $0.44 / $0.11 / $1.76 per 1M (P5 §1d).
    assert model.rate("output", "regional", fine_tuned=True) == Decimal("1.76")
    assert by_mode["regional"].output_per_1m == Decimal("1.76")
    # Developer Tier tokens "Same as Global Standard" (P1, P5).
    assert by_mode["developer"].input_per_1m == Decimal("0.40")
    assert by_mode["developer"].sources == ("P5", "P1", "P3")


def test_azure_o4_mini_rft_is_billed_per_hour_with_a_5000_cap(book):
    ft = azure(book, "o4-mini-2025-04-16", "2026-06-01").fine_tuning_by_mode
    # "$100 per hour of core training time for o4-mini-2025-04-16" (P1; P5 global meter).
    assert ft["global"].training_per_hour == Decimal("100.00")
    assert ft["global"].training_per_1m is None  # never silently $0
    # "per-job billing is capped at $5,000" (P1).
    assert ft["global"].maximum_per_job == Decimal("5000")
    # Regional $110/h, Developer $50/h (2025-12-01), Data Zone $110/h (2026-05-01) (P5).
    assert (ft["regional"].training_per_hour, ft["developer"].training_per_hour,
            ft["data_zone"].training_per_hour) == (Decimal("110.00"), Decimal("50.00"), Decimal("110.00"))
    # Fine-tuned o4-mini at base rates: $1.10 in, $4.40 out per 1M (P1, P5).
    assert (ft["global"].input_per_1m, ft["global"].output_per_1m) == (Decimal("1.10"), Decimal("4.40"))


def test_a_sheet_lists_only_what_its_meters_changed(book):
    # gpt-4.1-mini regional hosting starts 2025-05-01 (P5), developer training 2025-12-01 (P5).
    before = azure(book, "gpt-4.1-mini-2025-04-14", "2025-04-30").fine_tuning_by_mode
    assert before["regional"].hosting_per_hour is None and "developer" not in before
    mid = azure(book, "gpt-4.1-mini-2025-04-14", "2025-06-01").fine_tuning_by_mode
    assert mid["regional"].hosting_per_hour == Decimal("1.70") and mid["developer"].training_per_1m is None
    # Today's prices carry forward from 2025-12-01, the last meter that changed this model.
    assert azure(book, "gpt-4.1-mini-2025-04-14").effective == dt.date(2025, 12, 1)
    # gpt-4o-mini's first meters were regional (2024-09-01): $3.30 training; global from 2024-12-01 at $3.00.
    first = azure(book, "gpt-4o-mini-2024-07-18", "2024-10-01")
    assert first.fine_tuning_by_mode["regional"].training_per_1m == Decimal("3.30")
    assert first.fine_tuning.training_per_1m is None and first.input_per_1m is None
    assert azure(book, "gpt-4o-mini-2024-07-18", "2025-01-01").fine_tuning.training_per_1m == Decimal("3.00")


def test_azure_non_openai_models_have_their_own_tokenizer(book):
    # Llama 3.3 70B: hosting $0.30/h, inference $0.71/$0.71 (2025-11-01), training $4.50 (2025-12-01) (P5 §1h).
    llama = azure(book, "llama-3.3-70b-instruct")
    assert (llama.fine_tuning.training_per_1m, llama.fine_tuning.hosting_per_hour,
            llama.fine_tuning.input_per_1m, llama.fine_tuning.output_per_1m) == (
        Decimal("4.50"), Decimal("0.30"), Decimal("0.71"), Decimal("0.71"))
    assert llama.tokenizer == "hf:meta-llama/Llama-3.3-70B-Instruct"
    assert llama.encoding is None and llama.input_per_1m is None
    assert book.facts("azure/llama-3.3-70b-instruct").encoding is None
    # Ministral 3B: training $1.00/1M, hosting $0.65/h, $0.05 / $0.15 per 1M (P5 §1h).
    ministral = azure(book, "ministral-3b").fine_tuning
    assert (ministral.training_per_1m, ministral.hosting_per_hour, ministral.output_per_1m) == (
        Decimal("1.00"), Decimal("0.65"), Decimal("0.15"))
    # GPT-OSS-20b Data Zone training $4.00 (2026-05-01) (P5 §1h).
    assert azure(book, "gpt-oss-20b").fine_tuning_by_mode["data_zone"].training_per_1m == Decimal("4.00")
    assert azure(book, "gpt-oss-20b", "2026-04-30").fine_tuning_by_mode.keys() == {"global"}


def test_azure_rules_that_are_not_prices(book):
    rules = {rule.key: rule for rule in book.catalogues["azure"].rules}
    # "remains inactive for more than 15 days, the deployment is deleted" (P4).
    assert (rules["idle_deletion"].value, rules["idle_deletion"].unit) == (15, "days")
    assert "inactive for more than 15 days" in rules["idle_deletion"].wording
    # Developer Tier: "fixed lifetime of 24 hours" (P3).
    assert (rules["developer_lifetime"].value, rules["developer_lifetime"].unit) == (24, "hours")
    assert isinstance(rules["developer_lifetime"], Rule) and rules["developer_lifetime"].sources == ("P3", "P1")
    assert book.catalogues["openai"].rules == () and book.catalogues["openai"].default_mode == "standard"


@pytest.mark.parametrize("name, date, jobs, status", [
    # o4-mini: base retires 2026-10-16; training "No earlier than 2027-04-16", existing customers
    # only; "Otherwise, training retirement occurs at base model retirement" (P6).
    ("o4-mini-2025-04-16", "2026-10-15", "open", "available"),
    ("o4-mini-2025-04-16", "2026-12-02", "existing customers only", "shut down"),
    ("o4-mini-2025-04-16", "2027-04-16", "closed", "shut down"),
    # gpt-4.1-mini: training and base both retire 2027-04-14 (P6).
    ("gpt-4.1-mini-2025-04-14", "2027-04-13", "open", "available"),
    ("gpt-4.1-mini-2025-04-14", "2027-04-14", "closed", "shut down"),
    # gpt-4o-mini: "No earlier than 2027-04-01" for existing customers, others at the base's 2027-04-14 (P6).
    ("gpt-4o-mini-2024-07-18", "2027-04-02", "open", "available"),
    ("gpt-4o-mini-2024-07-18", "2027-04-14", "closed", "shut down"),
])
def test_azure_lifecycle(book, name, date, jobs, status):
    assert book.fine_tuning_jobs(f"azure/{name}", date) == jobs
    assert book.status(f"azure/{name}", date) == status


@pytest.mark.parametrize("name, shutdown", [
    ("azure/ft:o4-mini-2025-04-16:acme::x", dt.date(2027, 10, 16)),  # deployment retirement (P6)
    ("azure/ft:gpt-4.1-mini-2025-04-14:acme::x", dt.date(2027, 10, 14)),
    ("azure/o4-mini-2025-04-16", dt.date(2026, 10, 16)),
])
def test_a_fine_tuned_azure_deployment_outlives_its_base(book, name, shutdown):
    assert book.shutdown_on(name, TODAY) == shutdown
    if "ft:" in name:
        assert book.status(name, TODAY) == "available"


def test_openai_answers_are_unchanged(book):
    assert book.fine_tuning_jobs("gpt-4.1-mini", "2027-02-01") == "closed"
    assert book.fine_tuning_jobs("gpt-4.1-mini", "2026-06-01") == "existing customers only"
    model = book.as_of("2025-04-14").model("gpt-4.1-mini")
    assert model.default_mode == "standard" and model.fine_tuning_by_mode == {"standard": model.fine_tuning}


def test_mistral_minimum_and_storage(book):
    mistral, bare = book.for_name("mistral/mistral-small-latest")
    model = mistral.as_of(TODAY).model(bare)
    assert model.name == "mistral-small-2402"
    # "a minimum fee of $4" per job; "a monthly storage fee of $2 for each model" (P11).
    assert (model.fine_tuning.minimum_per_job, model.fine_tuning.storage_per_month) == (Decimal("4"), Decimal("2"))
    assert model.fine_tuning.training_per_1m is None  # UNCONFIRMED from a primary source: not listed
    # Deprecated on 2026-04-17, "no longer actively supported" (P11), but not closed.
    steps = book.catalogues["mistral"].wind_down
    assert [(s.on, s.jobs) for s in steps] == [(dt.date(2026, 4, 17), "open")]
    assert "deprecated" in steps[0].wording
    assert book.fine_tuning_jobs("mistral/open-mistral-7b", TODAY) == "open"


# --- bad input in the new keys --------------------------------------------------------------------

SOURCES = """\
schema_version = "2.0"
provider = "cloud"

[sources]
C1 = { title = "Price list", url = "https://example.com" }
"""

MODELS = """\
schema_version = "2.0"
provider = "cloud"
default_mode = "global"

[deployment_rules.idle_deletion]
value = 15
unit = "days"
wording = "deleted after 15 idle days"
sources = ["C1"]

[models."m-1"]
kind = "chat"
tokenizer = "hf:acme/m-1"
shutdown = 2026-01-01
sources = ["C1"]

[models."m-1".fine_tuning]
existing_customers_from = 2026-01-01
training_closes = 2026-06-01
sources = ["C1"]
"""

SHEET = """\
schema_version = "2.0"
provider = "cloud"
effective = 2025-01-01
currency = "USD"
checked = 2025-01-02

[models."m-1"]
sources = ["C1"]
[models."m-1".global]
input_per_1m = 1
output_per_1m = 2
[models."m-1".fine_tuning]
training_per_hour = 100
maximum_per_job = 5000
sources = ["C1"]
[models."m-1".fine_tuning.developer]
training_per_hour = 50
hosting_per_hour = 0
[models."m-1".fine_tuned.global]
input_per_1m = 1
output_per_1m = 2
"""


@pytest.fixture
def cloud(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def make(sheet: str = SHEET, models: str = MODELS, sources: str = SOURCES) -> Path:
        folder = tmp_path / "pricing" / "cloud"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in (("2025-01-01.toml", sheet), ("models.toml", models), ("sources.toml", sources)):
            (folder / name).write_text(textwrap.dedent(text))
        return tmp_path / "pricing"

    return make


def test_the_new_keys_load(cloud):
    book = load_pricebook(cloud())
    model = book.as_of("2025-06-01").model("cloud/m-1")
    assert model.fine_tuning.maximum_per_job == 5000
    assert model.fine_tuning_by_mode["developer"].hosting_per_hour == 0
    assert model.fine_tuning_by_mode["developer"].sources == ("C1",)  # a sub-table inherits its table's sources
    assert book.fine_tuning_jobs("cloud/m-1", "2026-02-01") == "existing customers only"
    assert book.fine_tuning_jobs("cloud/m-1", "2026-06-01") == "closed"


def test_bad_new_keys_are_reported_at_once_with_file_and_key(cloud):
    models = (MODELS.replace('default_mode = "global"', 'default_mode = "globl"')
              .replace('unit = "days"\n', "")
              .replace('sources = ["C1"]\n\n[models."m-1"]', 'sources = ["C7"]\n\n[models."m-1"]')
              .replace("training_closes = 2026-06-01", "training_closes = 2025-06-01"))
    sheet = (SHEET.replace("maximum_per_job = 5000", 'maximum_per_job = "5000"')
             .replace("training_per_hour = 100", "training_per_hour = 100\nhosting = 1.70")
             .replace('[models."m-1".fine_tuning.developer]', '[models."m-1".fine_tuning.develper]'))
    with pytest.raises(PricingError) as err:
        load_pricebook(cloud(sheet=sheet, models=models))
    assert [str(p) for p in err.value.problems] == [
        "pricing/cloud/models.toml: default_mode: must be one of standard, batch, flex, priority, data_sharing, "
        "data_sharing_batch, global, global_batch, data_zone, regional, developer, not 'globl' (did you mean 'global'?)",
        "pricing/cloud/models.toml: deployment_rules.idle_deletion.unit: missing",
        "pricing/cloud/models.toml: deployment_rules.idle_deletion.sources: 'C7' is not defined in sources.toml",
        "pricing/cloud/models.toml: models.m-1.fine_tuning.training_closes: 2025-06-01 is before "
        "existing_customers_from 2026-01-01",
        "pricing/cloud/2025-01-01.toml: models.m-1.fine_tuning.develper: unknown key (did you mean 'developer'?)",
        "pricing/cloud/2025-01-01.toml: models.m-1.fine_tuning.hosting: a price key needs its unit in the name "
        "(did you mean 'hosting_per_hour'?)",
        "pricing/cloud/2025-01-01.toml: models.m-1.fine_tuning.maximum_per_job: must be a number (in the sheet's "
        "currency), not '5000' (a string)",
    ]


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
odd = st.one_of(st.booleans(), st.integers(-10**20, 10**20), st.decimals(allow_nan=True, allow_infinity=True),
                st.text(max_size=12), st.dates(), st.lists(st.integers(), max_size=2),
                st.dictionaries(st.sampled_from(["training_per_hour", "hosting", "x"]), st.integers(), max_size=2))


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, dt.date)):
        return str(value) if not isinstance(value, dt.date) else value.isoformat()
    if isinstance(value, Decimal):
        if value.is_nan():
            return "nan"
        return str(value) if value.is_finite() else ("-inf" if value < 0 else "inf")
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


@FUZZ
@given(st.data())
def test_fuzzed_new_keys_load_or_say_why(cloud, data):
    value = toml_value(data.draw(odd))
    where = data.draw(st.sampled_from(["maximum_per_job", "developer", "default_mode", "rule", "customers"]))
    sheet, models = SHEET, MODELS
    if where == "maximum_per_job":
        sheet = SHEET.replace("maximum_per_job = 5000", f"maximum_per_job = {value}")
    elif where == "developer":
        sheet = SHEET.replace("training_per_hour = 50", f"training_per_hour = {value}")
    elif where == "default_mode":
        models = MODELS.replace('default_mode = "global"', f"default_mode = {value}")
    elif where == "rule":
        models = MODELS.replace("value = 15", f"value = {value}")
    else:
        models = MODELS.replace("existing_customers_from = 2026-01-01", f"existing_customers_from = {value}")
    try:
        book = load_pricebook(cloud(sheet=sheet, models=models))
    except CostCalcError as exc:
        assert str(exc)
    else:
        model = book.as_of("2025-06-01").model("cloud/m-1")
        for ft in model.fine_tuning_by_mode.values():
            assert ft.maximum_per_job is None or isinstance(ft.maximum_per_job, Decimal)
        assert book.fine_tuning_jobs("cloud/m-1", "2026-02-01") in ("open", "existing customers only", "closed")
