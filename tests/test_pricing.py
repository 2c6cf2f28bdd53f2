"""The price catalogue: every bundled sheet validates, and the figures match OpenAI's announcements."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import costcalc
from costcalc import pricing
from costcalc.errors import PricingError, Problem, UnknownModelError, UsageError
from costcalc.pricing import PRICING_DIR_ENV, default_pricing_dir

from .conftest import MINIMAL_SHEET, REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

D = Decimal
REVISIONS = ["2023-06-13", "2023-08-22", "2023-11-06", "2024-01-25", "2024-05-13", "2024-07-18",
             "2024-08-06", "2024-08-20", "2024-10-01", "2025-04-14",
             # PRICING_FACTS_2025_2026 §6: one sheet per dated price revision, and the sol promotion's end
             "2025-04-16", "2025-05-08", "2025-06-10", "2025-06-26", "2025-08-07", "2025-10-06", "2025-11-13",
             "2025-12-11", "2026-02-05", "2026-03-05", "2026-03-17", "2026-04-23", "2026-07-09", "2026-07-30",
             "2026-08-21", "2026-09-22", "2026-11-22"]


def test_every_bundled_sheet_validates(book):
    # Loading validates (currency, unit, every price's sources); this pins which sheets there are.
    assert [s.revision for s in book.sheets] == REVISIONS


def _sheet_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.toml"))}


def test_without_a_path_costcalc_reads_the_repository_sheets(monkeypatch):
    # From a checkout this is pricing/ itself; from an installed wheel, the copy the wheel bundles,
    # which must not have gone stale.
    monkeypatch.delenv(PRICING_DIR_ENV, raising=False)
    assert _sheet_files(default_pricing_dir()) == _sheet_files(REPO / "pricing")
    assert len(costcalc.load_pricebook().sheets) == len(REVISIONS)


def test_an_installed_wheel_reads_the_sheets_it_bundles(tmp_path, monkeypatch):
    # pyproject.toml copies pricing/ into the wheel; default_pricing_dir must look where the copy lands.
    with (REPO / "pyproject.toml").open("rb") as f:
        wheel = tomllib.load(f)["tool"]["hatch"]["build"]["targets"]["wheel"]
    installed = tmp_path / "site-packages"
    bundle = installed / wheel["force-include"]["pricing"]  # costcalc/data/pricing
    shutil.copytree(REPO / "pricing", bundle)
    monkeypatch.setattr(pricing, "__file__", str(installed / "costcalc" / "pricing.py"))
    monkeypatch.delenv(PRICING_DIR_ENV, raising=False)
    assert default_pricing_dir() == bundle
    monkeypatch.setenv(PRICING_DIR_ENV, str(tmp_path / "mine"))  # the variable wins over the bundle
    assert default_pricing_dir() == tmp_path / "mine"


@pytest.mark.parametrize("date, snapshot, input_, output", [
    # The base gpt-3.5-turbo price in August 2023 was $0.0015/$0.002 per 1K (S3), not the
    # $0.0004 a widely read article gave (that is babbage-002's price).
    ("2023-08-22", "gpt-3.5-turbo-0613", "1.50", "2.00"),
    ("2024-01-25", "gpt-3.5-turbo-0613", "1.50", "2.00"),  # alias not yet moved to 0125
    ("2024-05-13", "gpt-3.5-turbo-0125", "0.50", "1.50"),
])
def test_gpt35_alias_means_the_snapshot_of_its_date(book, date, snapshot, input_, output):
    model = book.as_of(dt.date.fromisoformat(date)).model("gpt-3.5-turbo")
    assert (model.name, model.input_per_1m, model.output_per_1m) == (snapshot, D(input_), D(output))


def test_babbage_is_the_0_0004_per_1k_model(book):
    babbage = book.as_of(dt.date(2023, 8, 22)).model("babbage-002")
    assert (babbage.input_per_1m, babbage.fine_tuning.training_per_1m) == (D("0.40"), D("0.40"))


@pytest.mark.parametrize("date, ft_input, ft_output", [
    ("2023-08-22", "12.00", "16.00"),  # launch (S1)
    ("2023-11-05", "12.00", "16.00"),
    ("2023-11-06", "3.00", "6.00"),  # DevDay cut, which also applies to fine-tuned 0613 models (S2)
])
def test_fine_tuned_gpt35_usage_price_before_and_after_devday(book, date, ft_input, ft_output):
    model = book.as_of(dt.date.fromisoformat(date)).model("ft:gpt-3.5-turbo-0613:acme::abc123")
    assert model.name == "gpt-3.5-turbo-0613"
    assert (model.fine_tuning.input_per_1m, model.fine_tuning.output_per_1m) == (D(ft_input), D(ft_output))
    assert model.fine_tuning.training_per_1m == D("8.00")


def test_as_of_picks_newest_sheet_on_or_before_the_date(book):
    assert book.as_of(dt.date(2023, 11, 5)).revision == "2023-08-22"
    assert book.as_of(dt.date(2023, 11, 6)).revision == "2023-11-06"
    assert book.as_of(None).revision == "2026-11-22"
    assert book.revision("2024-10-01").effective == dt.date(2024, 10, 1)


@pytest.mark.parametrize("date, revision", [
    ("2023-11-05", "2023-08-22"),
    ("2023-11-06", "2023-11-06"),
    (dt.datetime(2023, 11, 6, 23, 59), "2023-11-06"),  # a datetime is a date: its day counts
])
def test_as_of_takes_an_iso_string_or_a_datetime(book, date, revision):
    assert book.as_of(date).revision == revision


@pytest.mark.parametrize("date, message", [
    ("2023-13-01", "'2023-13-01' is not a date in the form YYYY-MM-DD"),
    ("20231106", "'20231106' is not a date in the form YYYY-MM-DD"),  # fromisoformat would take it
    ("2023-11-06T00:00", "'2023-11-06T00:00' is not a date in the form YYYY-MM-DD"),
    (20231106, 'expected a date or a "YYYY-MM-DD" string, not an integer'),
    (["2023-11-06"], 'expected a date or a "YYYY-MM-DD" string, not an array'),
])
def test_as_of_anything_else_is_a_usage_error(book, date, message):
    with pytest.raises(UsageError) as err:
        book.as_of(date)
    assert (str(err.value), err.value.exit_code) == (message, 2)
    assert isinstance(err.value, costcalc.CostCalcError)


def test_date_before_first_sheet_is_an_error(book):
    with pytest.raises(UsageError) as err:
        book.as_of(dt.date(2023, 1, 1))
    assert str(err.value) == "no price sheet in force on 2023-01-01: the first sheet is effective 2023-06-13"


def test_unknown_model_lists_closest_names(book):
    with pytest.raises(UnknownModelError) as err:
        book.as_of(dt.date(2023, 9, 1)).model("gpt-3.5-turbo-0614")
    assert str(err.value) == (
        "unknown model 'gpt-3.5-turbo-0614' in the price sheet effective 2023-08-22; "
        "did you mean gpt-3.5-turbo-0613, gpt-3.5-turbo-16k, gpt-3.5-turbo-16k-0613?"
    )


def test_ft_name_with_alias_base_resolves(book):
    assert book.as_of(dt.date(2024, 6, 1)).model("ft:gpt-3.5-turbo:acme::x1").name == "gpt-3.5-turbo-0125"


def test_gpt41_fine_tuned_names_use_o200k(book):
    # tiktoken maps ft:gpt-4.1-* to cl100k_base by prefix (PRICING_FACTS §7b); the sheet must not.
    model = book.as_of(None).model("ft:gpt-4.1-mini-2025-04-14:acme::abc")
    assert model.encoding == "o200k_base"


def test_history_follows_the_alias(book):
    history = book.history("gpt-3.5-turbo")
    # The alias moves to 0125 on 2024-02-16, inside the 2024-01-25 sheet: an entry of its own.
    assert [(e.effective.isoformat(), e.sheet.revision, e.model.name) for e in history][:6] == [
        ("2023-06-13", "2023-06-13", "gpt-3.5-turbo-0613"), ("2023-08-22", "2023-08-22", "gpt-3.5-turbo-0613"),
        ("2023-11-06", "2023-11-06", "gpt-3.5-turbo-0613"), ("2024-01-25", "2024-01-25", "gpt-3.5-turbo-0613"),
        ("2024-02-16", "2024-01-25", "gpt-3.5-turbo-0125"), ("2024-05-13", "2024-05-13", "gpt-3.5-turbo-0125"),
    ]


def test_diff_of_devday(book):
    diff = book.diff(book.revision("2023-08-22"), book.revision("2023-11-06"))
    assert [(c.model, c.price, c.old, c.new) for c in diff.changed_prices] == [
        ("gpt-3.5-turbo-0613", "ft_input_per_1m", D("12.00"), D("3.00")),
        ("gpt-3.5-turbo-0613", "ft_output_per_1m", D("16.00"), D("6.00")),
    ]
    assert "gpt-3.5-turbo-1106" in diff.added_models and diff.removed_models == ()


def test_prices_are_exact_decimals_not_floats(book):
    model = book.as_of(dt.date(2024, 10, 1)).model("gpt-4o-mini")
    assert model.cached_input_per_1m == D("0.075") and isinstance(model.cached_input_per_1m, Decimal)


# --- validation: every problem at once, each with file and key path --------------------------------


def test_user_pricing_folder_loads(pricing_folder):
    book = costcalc.load_pricebook(pricing_folder())
    assert book.as_of(dt.date(2024, 5, 1)).model("chat").fine_tuning.training_per_1m == D("5.00")


def test_every_problem_is_reported_with_file_and_key(pricing_folder, monkeypatch):
    folder = pricing_folder({"2024-01-01.toml": MINIMAL_SHEET
                             .replace("input = 1.00", 'input = "1.00"')
                             .replace('currency = "USD"\n', "")
                             .replace("training = 5.00", "trainng = 5.00")})
    monkeypatch.chdir(folder.parent)
    with pytest.raises(PricingError) as err:
        costcalc.load_pricebook(folder)
    file = "prices/2024-01-01.toml"
    assert err.value.problems == [
        Problem(file, "currency", "missing"),
        Problem(file, "models.chat-1.input", "must be a number (USD per 1M tokens), not '1.00' (a string)"),
        Problem(file, "models.chat-1.fine_tuning.trainng", "unknown key (did you mean 'training'?)"),
        Problem(file, "models.chat-1.fine_tuning.training",
                "missing (a fine_tuning table needs training, input and output prices)"),
    ]
    assert str(err.value) == (
        "4 problems in price sheets:\n"
        "  prices/2024-01-01.toml: currency: missing\n"
        "  prices/2024-01-01.toml: models.chat-1.input: must be a number (USD per 1M tokens), not '1.00' (a string)\n"
        "  prices/2024-01-01.toml: models.chat-1.fine_tuning.trainng: unknown key (did you mean 'training'?)\n"
        "  prices/2024-01-01.toml: models.chat-1.fine_tuning.training: missing (a fine_tuning table needs "
        "training, input and output prices)")


@pytest.mark.parametrize("edit, problem", [
    (("schema_version = 1", "schema_version = 2"),
     "schema_version: unknown schema version 2 (this costcalc reads schema_version = 1)"),
    (('"chat" = "chat-1"', '"chat" = "chat-9"'),
     'aliases.chat: points to \'chat-9\', which is not a model in this sheet'),
    (('sources = ["C1"]\n\n[models."chat-1".fine_tuning]', 'sources = ["C9"]\n\n[models."chat-1".fine_tuning]'),
     'models.chat-1.sources: \'C9\' is not defined in [sources]'),
    (("output = 2.00", "output = -2.00"), 'models.chat-1.output: must be a finite number >= 0, not -2.00'),
    (("effective = 2024-01-01", "effective = 2024-02-01"),
     "effective: 2024-02-01 does not match the file name 2024-01-01.toml"),
    (("output = 2.00\n", ""), 'models.chat-1.output: missing (a chat model needs an output price)'),
    (('encoding = "cl100k_base"\n', ""), 'models.chat-1.encoding: missing (a chat model needs its tiktoken encoding)'),
    (("training = 5.00\n", ""),
     'models.chat-1.fine_tuning.training: missing (a fine_tuning table needs training, input and output prices)'),
    (("schema_version = 1", "schema_version = true"),  # True == 1 in Python; a boolean is no version
     "schema_version: unknown schema version True (this costcalc reads schema_version = 1)"),
    (("checked = 2024-01-02", "checked = 2024-01-02T10:00:00"),
     "checked: must be a date (YYYY-MM-DD), not 2024-01-02 10:00:00 (a date-time)"),
    (('provider = "acme"', "provider = 2024-01-01"), "provider: must be a non-empty string, not 2024-01-01 (a date)"),
    (("max_tokens_per_example = 1000", "max_tokens_per_example = 1.5"),
     "models.chat-1.fine_tuning.max_tokens_per_example: must be a whole number of tokens >= 1, not 1.5 (a float, not a whole number)"),
])
def test_single_problems(pricing_folder, monkeypatch, edit, problem):
    folder = pricing_folder({"2024-01-01.toml": MINIMAL_SHEET.replace(*edit)})
    monkeypatch.chdir(folder.parent)
    with pytest.raises(PricingError) as err:
        costcalc.load_pricebook(folder)
    assert str(err.value) == f"prices/2024-01-01.toml: {problem}"


def test_a_fine_tuning_that_is_not_a_table(pricing_folder, monkeypatch):
    without_ft = MINIMAL_SHEET.split('[models."chat-1".fine_tuning]')[0]
    sheet = without_ft.replace('sources = ["C1"]\n\n', 'sources = ["C1"]\nfine_tuning = 5\n')
    folder = pricing_folder({"2024-01-01.toml": sheet})
    monkeypatch.chdir(folder.parent)
    with pytest.raises(PricingError) as err:
        costcalc.load_pricebook(folder)
    assert str(err.value) == "prices/2024-01-01.toml: models.chat-1.fine_tuning: must be a table, not 5 (an integer)"


def test_a_model_name_with_a_dot_is_quoted_in_its_key_path(pricing_folder, monkeypatch):
    # TOML reads models.chat-1.5 as three keys, so the path quotes that part (and only that part).
    folder = pricing_folder({"2024-01-01.toml": MINIMAL_SHEET.replace("chat-1", "chat-1.5")
                             .replace("output = 2.00", "output = inf")})
    monkeypatch.chdir(folder.parent)
    with pytest.raises(PricingError) as err:
        costcalc.load_pricebook(folder)
    assert err.value.problems == [
        Problem("prices/2024-01-01.toml", 'models."chat-1.5".output', "must be a finite number >= 0, not Infinity")]


def test_invalid_toml_names_the_file(pricing_folder, monkeypatch):
    folder = pricing_folder({"2024-01-01.toml": "schema_version = = 1\n"})
    monkeypatch.chdir(folder.parent)
    with pytest.raises(PricingError) as err:
        costcalc.load_pricebook(folder)
    assert str(err.value).startswith("prices/2024-01-01.toml: not valid TOML: ")


def test_missing_folder(tmp_path):
    with pytest.raises(PricingError) as err:
        costcalc.load_pricebook(tmp_path / "nope")
    assert str(err.value) == f"{tmp_path / 'nope'}: pricing folder not found"


def test_provider_must_match_its_folder(pricing_folder, monkeypatch):
    folder = pricing_folder({"2024-01-01.toml": MINIMAL_SHEET})
    (folder / "openai").mkdir()
    (folder / "2024-01-01.toml").rename(folder / "openai" / "2024-01-01.toml")
    monkeypatch.chdir(folder.parent)
    with pytest.raises(PricingError) as err:
        costcalc.load_pricebook(folder)
    assert str(err.value) == "prices/openai/2024-01-01.toml: provider: 'acme' does not match its folder 'openai'"
