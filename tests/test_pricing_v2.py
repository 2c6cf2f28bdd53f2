"""Schema v2: the migrated bundled sheets price exactly as the v1 sheets did, and the v2 loader's rules."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

import costcalc
from costcalc.errors import MissingPriceError, PricingError, UnknownModelError
from costcalc.pricing import UnknownProviderError, load_pricebook

REPO = Path(__file__).resolve().parent.parent
V1_COPY = Path(__file__).resolve().parent / "data" / "pricing_v1"  # the bundled sheets as they were in v1


@pytest.fixture(scope="module")
def v1():
    return load_pricebook(V1_COPY)


@pytest.fixture(scope="module")
def v2():
    return load_pricebook(REPO / "pricing")


def test_every_v1_price_comes_out_identical_from_the_v2_sheets(v1, v2):
    # The v1 copy ends at 2025-04-14; the sheets after it are v2 only (tests/test_pricing_openai_2025_2026.py).
    migrated = v2.sheets[:len(v1.sheets)]
    assert [s.revision for s in v1.sheets] == [s.revision for s in migrated]
    compared = 0
    for old, new in zip(v1.sheets, migrated):
        assert old.schema_version == 1 and new.schema_version == "2.0"
        assert set(old.models) == set(new.models), old.revision
        assert list(old.sources) == list(new.sources), old.revision
        for name, before in old.models.items():
            after = new.models[name]
            assert after.prices() == before.prices(), (old.revision, name)
            assert (after.encoding, after.kind, after.sources, after.note) == \
                   (before.encoding, before.kind, before.sources, before.note), (old.revision, name)
            assert after.fine_tuning == before.fine_tuning, (old.revision, name)
            compared += 1
    assert compared == 147  # every model on every sheet: 6 + 8 + 10 + 14 + 16 + 17 + 18 + 18 + 18 + 22


def test_v2_models_carry_provider_and_tokenizer(v2):
    model = v2.as_of("2024-10-01").model("gpt-4o-mini")
    assert (model.provider, model.tokenizer, model.encoding) == ("openai", "tiktoken:o200k_base", "o200k_base")
    assert model.rate("cached_input") == Decimal("0.075")
    assert model.rate("input", "batch", fine_tuned=True) == Decimal("0.15")
    with pytest.raises(MissingPriceError, match="no fine-tuned flex input price for gpt-4o-mini-2024-07-18"):
        model.rate("input", "flex", fine_tuned=True)


@pytest.mark.parametrize("name, date, status, shutdown", [
    ("gpt-3.5-turbo-0125", "2026-12-01", "shut down", dt.date(2026, 10, 23)),    # the example
    ("gpt-3.5-turbo-0125", "2026-04-22", "deprecated", dt.date(2026, 10, 23)),   # the notice day
    ("gpt-3.5-turbo-0125", "2026-04-21", "available", dt.date(2026, 10, 23)),
    ("gpt-3.5-turbo-0613", "2024-09-13", "shut down", dt.date(2024, 9, 13)),
    # its fine-tunes outlived it by two years (S25), and their removal was announced on 2026-04-22
    ("ft:gpt-3.5-turbo-0613:acme::abc", "2025-01-01", "available", dt.date(2026, 10, 23)),
    ("ft:gpt-3.5-turbo-0613:acme::abc", "2026-05-01", "deprecated", dt.date(2026, 10, 23)),
    ("ft:babbage-002:acme::abc", "2026-10-01", "deprecated", dt.date(2026, 10, 23)),  # base gone 2026-09-28
    ("babbage-002", "2026-10-01", "shut down", dt.date(2026, 9, 28)),
    ("gpt-4.1", "2023-07-01", "not released", None),   # no sheet knows it yet
    ("text-embedding-3-small", "2026-12-01", "available", None),
])
def test_status_and_shutdown(v2, name, date, status, shutdown):
    assert v2.status(name, date) == status
    if status != "not released":
        assert v2.shutdown_on(name, date) == shutdown


@pytest.mark.parametrize("name, date, jobs", [
    ("gpt-4.1-mini", "2025-06-01", "open"),
    ("gpt-4.1-mini", "2026-05-07", "existing customers only"),   # wind-down step 1
    ("gpt-4.1-mini", "2026-07-02", "existing customers only"),   # step 2 narrows who counts as existing
    ("gpt-4.1-mini", "2027-02-01", "closed"),                    # step 3, 2027-01-06
    ("babbage-002", "2024-10-28", "closed"),                     # its training ended that day (S25)
    ("babbage-002", "2024-10-27", "open"),
    ("gpt-3.5-turbo-0613", "2024-09-13", "closed"),              # no new fine-tunes after its shutdown
    ("gpt-4o-2024-08-06", "2024-08-19", "closed"),               # opened 2024-08-20 (S7)
    ("gpt-4o-2024-08-06", "2024-08-20", "open"),
    ("gpt-4-0613", "2024-01-01", None),                          # no fine-tuning prices: never priced
    ("text-embedding-3-small", "2025-01-01", None),
])
def test_fine_tuning_jobs(v2, name, date, jobs):
    assert v2.fine_tuning_jobs(name, date) == jobs


def test_a_model_past_its_shutdown_still_has_its_history(v2):
    # Prices stay readable for any date (history); the status is what the engine refuses on.
    model = v2.as_of("2026-12-01").model("gpt-3.5-turbo-0125")
    assert model.input_per_1m == Decimal("0.50")
    assert v2.status("gpt-3.5-turbo-0125", "2026-12-01") == "shut down"


def test_a_provider_prefix_names_the_provider(v2):
    sheet = v2.as_of("2024-10-01")
    assert sheet.model("openai/gpt-4o-mini") == sheet.model("gpt-4o-mini")
    assert sheet.model("openai/ft:gpt-4o-mini-2024-07-18:acme::x").name == "gpt-4o-mini-2024-07-18"
    with pytest.raises(UnknownModelError) as err:
        sheet.model("azure/gpt-4o-mini")
    assert isinstance(err.value, UnknownProviderError)
    assert str(err.value) == "unknown provider 'azure' in 'azure/gpt-4o-mini'; the price sheets are of: openai"
    assert err.value.exit_code == 2


# --- the v2 loader's rules, on a small provider folder ------------------------------------------

SOURCES = """\
schema_version = "2.0"
provider = "acme"

[sources]
C1 = { title = "Our contract", url = "https://example.com/contract" }
"""

MODELS = """\
schema_version = "2.0"
provider = "acme"

[models."chat-1"]
kind = "chat"
tokenizer = "tiktoken:o200k_base"
context_window = 400000
released = 2024-01-01
deprecation_notice = 2024-06-01
shutdown = 2025-01-01
sources = ["C1"]

[models."chat-1".fine_tuning]
methods = ["sft", "rft"]
max_tokens_per_example = 1000
training_opens = 2024-01-01
sources = ["C1"]

[aliases]
"chat" = [ { from = 2024-01-01, to = "chat-1", sources = ["C1"] } ]
"""

SHEET = """\
schema_version = "2.0"
provider = "acme"
effective = 2024-01-01
currency = "USD"
checked = 2024-01-02

[models."chat-1"]
sources = ["C1"]
[models."chat-1".standard]
input_per_1m = 2.50
output_per_1m = 15.00
[[models."chat-1".standard.tiers]]
above_input_tokens = 272000
input_per_1m = 5.00
output_per_1m = 22.50
[models."chat-1".batch]
input_per_1m = 1.25
output_per_1m = 7.50
[models."chat-1".fine_tuning]
training_per_1m = 5.00
training_per_hour = 100
hosting_per_hour = 1.70
storage_per_month = 2
minimum_per_job = 4
sources = ["C1"]
[models."chat-1".fine_tuned.standard]
input_per_1m = 4.00
output_per_1m = 6.00
"""


@pytest.fixture
def acme(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # messages name files relative to the working directory

    def make(sheet: str = SHEET, models: str = MODELS, sources: str = SOURCES) -> Path:
        folder = tmp_path / "pricing" / "acme"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in (("2024-01-01.toml", sheet), ("models.toml", models), ("sources.toml", sources)):
            (folder / name).write_text(textwrap.dedent(text))
        return tmp_path / "pricing"

    return make


def test_a_v2_folder_loads_with_every_kind_of_price(acme):
    book = load_pricebook(acme())
    model = book.as_of("2024-03-01").model("acme/chat")
    ft = model.fine_tuning
    assert ft is not None
    assert (ft.training_per_1m, ft.training_per_hour, ft.hosting_per_hour, ft.storage_per_month,
            ft.minimum_per_job, ft.max_tokens_per_example) == (
        Decimal("5.00"), 100, Decimal("1.70"), 2, 4, 1000)
    assert book.catalogues["acme"].models["chat-1"].fine_tuning.methods == ("sft", "rft")
    assert book.warnings == ()


@pytest.mark.parametrize("input_tokens, rate", [
    (272_000, Decimal("2.50")),   # at the threshold: the standard price
    (272_001, Decimal("5.00")),   # above it: the tier's
])
def test_a_tier_replaces_the_price_above_its_input_tokens(acme, input_tokens, rate):
    model = load_pricebook(acme()).as_of("2024-01-01").model("chat-1")
    assert model.rate("input", input_tokens=input_tokens) == rate
    assert model.input_per_1m == Decimal("2.50")


def test_every_v2_problem_is_reported_at_once_with_file_and_key(acme):
    sheet = (SHEET.replace("input_per_1m = 2.50", "input = 2.50\ninput_per_1m = 2.50")
             .replace("output_per_1m = 15.00", 'output_per_1m = "15"')
             .replace('[models."chat-1".batch]', '[models."chat-1".bacth]')
             .replace('sources = ["C1"]\n[models."chat-1".standard]', 'sources = ["C9"]\n[models."chat-1".standard]'))
    models = (MODELS.replace("shutdown = 2025-01-01", "shutdown = 2023-01-01")
              .replace('to = "chat-1"', 'to = "chat-2"'))
    with pytest.raises(PricingError) as err:
        load_pricebook(acme(sheet=sheet, models=models))
    sheet_problems = [
        "pricing/acme/2024-01-01.toml: models.chat-1.bacth: unknown key (did you mean 'batch'?)",
        "pricing/acme/2024-01-01.toml: models.chat-1.standard.input: a price key needs its unit in the name "
        "(did you mean 'input_per_1m'?)",
        "pricing/acme/2024-01-01.toml: models.chat-1.standard.output_per_1m: must be a number (in the sheet's "
        "currency), not '15' (a string)",
        "pricing/acme/2024-01-01.toml: models.chat-1.sources: 'C9' is not defined in sources.toml",
    ]
    # All at once: the catalogue's problems, then the sheet's, checked against the catalogue as read.
    assert [str(p) for p in err.value.problems] == [
        "pricing/acme/models.toml: models.chat-1.shutdown: 2023-01-01 is before deprecation_notice 2024-06-01",
        "pricing/acme/models.toml: aliases.chat.0.to: points to 'chat-2', which is not a model in models.toml "
        "(did you mean 'chat-1'?)",
        *sheet_problems,
    ]
    with pytest.raises(PricingError) as err:
        load_pricebook(acme(sheet=sheet))
    assert [str(p) for p in err.value.problems] == sheet_problems


@pytest.mark.parametrize("version, problem", [
    ('"3.0"', "unknown major version '3.0' (this costcalc reads schema_version = \"2.0\" (or 1))"),
    ('"2"', "must be \"MAJOR.MINOR\" such as \"2.0\", not '2'"),
])
def test_an_unknown_major_version_is_an_error(acme, version, problem):
    with pytest.raises(PricingError) as err:
        load_pricebook(acme(sheet=SHEET.replace('"2.0"', version, 1)))
    assert [str(p) for p in err.value.problems] == [f"pricing/acme/2024-01-01.toml: schema_version: {problem}"]


def test_a_newer_minor_version_is_a_warning_and_its_new_keys_too(acme):
    sheet = SHEET.replace('"2.0"', '"2.3"', 1).replace('currency = "USD"', 'currency = "USD"\nregion = "eu"')
    book = load_pricebook(acme(sheet=sheet))
    assert [str(w) for w in book.warnings] == [
        "pricing/acme/2024-01-01.toml: schema_version: '2.3' is newer than this costcalc (this costcalc reads "
        "schema_version = \"2.0\" (or 1)): keys it does not know are ignored; upgrade costcalc to use them",
        "pricing/acme/2024-01-01.toml: region: unknown key",
    ]
    assert book.as_of("2024-01-01").model("chat").input_per_1m == Decimal("2.50")


def test_a_v2_sheet_without_its_catalogue_says_what_is_missing(acme):
    folder = acme()
    (folder / "acme" / "models.toml").unlink()
    with pytest.raises(PricingError) as err:
        costcalc.load_pricebook(folder)
    assert str(err.value) == ("pricing/acme/models.toml: missing: a folder of v2 price sheets needs models.toml "
                              "beside them")


@pytest.mark.parametrize("date, snapshot, input_", [
    ("2024-10-01", "gpt-4o-2024-05-13", Decimal("5.00")),   # the 2024-10-01 sheet, the day before the move
    ("2024-10-02", "gpt-4o-2024-08-06", Decimal("2.50")),   # the same sheet, after it (OpenAI's email, S45)
])
def test_an_alias_moves_on_its_own_day_not_with_a_sheet(v2, date, snapshot, input_):
    sheet = v2.as_of(date)
    assert sheet.revision == "2024-10-01"
    model = sheet.model("gpt-4o")
    assert (model.name, model.input_per_1m) == (snapshot, input_)
    assert v2.as_of("2024-10-01").aliases["gpt-4o"] == "gpt-4o-2024-05-13"  # the sheet itself keeps its day's


def test_the_pricing_readme_lifecycle_example_says_what_it_prints(v2):
    text = (REPO / "pricing" / "README.md").read_text()
    assert 'book.status("gpt-3.5-turbo-0125", "2026-12-01")      # "shut down"' in text
    assert v2.status("gpt-3.5-turbo-0125", "2026-12-01") == "shut down"
    assert v2.shutdown_on("ft:gpt-3.5-turbo-0613:acme::x1") == dt.date(2026, 10, 23)
    assert v2.fine_tuning_jobs("gpt-4.1-mini", "2027-02-01") == "closed"
    assert v2.as_of("2025-05-01").model("gpt-4.1").rate("input", "batch", fine_tuned=True) == Decimal("1.50")


# --- a sheet lists what its revision changed; a folder holds several providers ---------------------

CUT = """\
schema_version = "2.0"
provider = "acme"
effective = 2024-07-01
currency = "USD"
checked = 2024-07-02
summary = "A cut on chat-1's output price only."

[models."chat-1"]
sources = ["C1"]
[models."chat-1".standard]
input_per_1m = 2.50
output_per_1m = 10.00
"""

EMBED_MODELS = MODELS.replace("[aliases]", """\
[models."embed-1"]
kind = "embedding"
tokenizer = "tiktoken:cl100k_base"
released = 2024-01-01
sources = ["C1"]

[aliases]""")

EMBED_SHEET = SHEET + """
[models."embed-1"]
sources = ["C1"]
[models."embed-1".standard]
input_per_1m = 0.02
"""


def test_a_model_a_later_sheet_does_not_list_keeps_its_price_date_and_sources(acme):
    folder = acme(sheet=EMBED_SHEET, models=EMBED_MODELS)
    (folder / "acme" / "2024-07-01.toml").write_text(CUT)
    book = load_pricebook(folder)
    after = book.as_of("2024-08-01")
    assert after.effective == dt.date(2024, 7, 1)
    # chat-1 is repriced by the cut: $15.00 -> $10.00 output; its 2024-01-01 tier and batch are not
    # carried into the new entry, since the sheet restates the model as a whole.
    assert after.model("chat-1").output_per_1m == Decimal("10.00")
    assert after.model("chat-1").batch_output_per_1m is None
    # embed-1 is not in the cut's sheet: it keeps its 2024-01-01 price, and says so.
    embed = after.model("embed-1")
    assert (embed.input_per_1m, embed.effective, embed.sources) == (Decimal("0.02"), dt.date(2024, 1, 1), ("C1",))
    assert sorted(after.models) == ["chat-1", "embed-1"]
    assert after.aliases == {"chat": "chat-1"}


def test_a_folder_with_two_providers_keeps_a_timeline_each(acme):
    folder = acme()
    beta = folder / "beta"
    beta.mkdir()
    for name, text in (("2024-03-01.toml", SHEET.replace("2024-01-01", "2024-03-01")), ("models.toml", MODELS),
                       ("sources.toml", SOURCES)):
        (beta / name).write_text(text.replace('provider = "acme"', 'provider = "beta"'))
    book = load_pricebook(folder)
    assert book.providers == ["acme", "beta"]
    assert [s.provider for s in book.all_sheets] == ["acme", "beta"]
    # A bare name is the book's own provider's (acme: there is no openai folder here); beta/ reads beta's.
    assert book.model_on("chat", "2024-02-01")[1].provider == "acme"
    sheet, model = book.model_on("beta/chat-1", "2024-03-15")
    assert (sheet.provider, sheet.effective, model.provider) == ("beta", dt.date(2024, 3, 1), "beta")
    with pytest.raises(UnknownModelError) as err:
        book.model_on("gamma/chat-1", "2024-03-15")
    assert str(err.value) == "unknown provider 'gamma' in 'gamma/chat-1'; the price sheets are of: acme, beta"
    # beta's first sheet is 2024-03-01: before it, beta has no price, whatever acme has.
    assert book.status("beta/chat-1", "2024-02-01") == "not released"
