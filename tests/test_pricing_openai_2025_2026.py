"""OpenAI from 2025-04-15 to 2026-12-02: one sheet per dated revision, each checked on hand-picked prices.

Each expected price quotes the fact it comes from (PRICING_FACTS_2025_2026.md, by source key).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from costcalc.pricing import load_pricebook

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def book():
    return load_pricebook(REPO / "pricing")


def rate(book, date, name, kind, mode="standard", **kw):
    return book.as_of(date).model(name).rate(kind, mode, **kw)


# (date, model as a user names it, kind, mode, price). One block per revision of facts §6.
REVISIONS = [
    # 2025-04-16: o3 launched at "$10.00 / $2.50 cached / $40.00" (S40, S18; UNCONFIRMED primary)
    ("2025-04-16", "o3", "input", "standard", "10.00"),
    ("2025-04-16", "o3", "cached_input", "standard", "2.50"),
    ("2025-04-16", "o3", "output", "standard", "40.00"),
    # o4-mini "$1.10 / $0.275 / $4.40" (S24, S40); Batch "$0.55 / — / $2.20" (S24)
    ("2025-04-16", "o4-mini", "cached_input", "standard", "0.275"),
    ("2025-04-16", "o4-mini", "output", "batch", "2.20"),
    # 2025-05-08: RFT opens on o4-mini; its base prices are unchanged ("No change found after launch")
    ("2025-05-08", "o4-mini-2025-04-16", "input", "standard", "1.10"),
    # 2025-06-10: "o3 $2.00 $0.50 $8.00" (S24), Priority "$3.50 / $0.875 / $14.00" (S24)
    ("2025-06-10", "o3", "input", "standard", "2.00"),
    ("2025-06-10", "o3", "output", "standard", "8.00"),
    ("2025-06-10", "o3", "cached_input", "priority", "0.875"),
    # "o3-pro $20.00 - $80.00" (S24); Batch "$10.00 / — / $40.00"
    ("2025-06-10", "o3-pro", "output", "standard", "80.00"),
    ("2025-06-10", "o3-pro", "input", "batch", "10.00"),
    # 2025-06-26: o3-deep-research $10.00 / $2.50 / $40.00, o4-mini-deep-research $2.00 / $0.50 / $8.00 (S24)
    ("2025-06-26", "o3-deep-research", "output", "standard", "40.00"),
    ("2025-06-26", "o4-mini-deep-research", "input", "standard", "2.00"),
    # 2025-08-07: gpt-5 $1.25 / $0.125 / $10.00; Batch $0.625 / $0.0625 / $5.00; Priority $2.50 / $0.25 / $20.00
    ("2025-08-07", "gpt-5", "input", "standard", "1.25"),
    ("2025-08-07", "gpt-5", "cached_input", "batch", "0.0625"),
    ("2025-08-07", "gpt-5", "output", "priority", "20.00"),
    # gpt-5-mini $0.25 / $0.025 / $2.00, Priority $0.45 / $0.045 / $3.60 (S24, S31)
    ("2025-08-07", "gpt-5-mini", "output", "standard", "2.00"),
    ("2025-08-07", "gpt-5-mini", "input", "priority", "0.45"),
    # gpt-5-nano "Input $0.05 / Cached input $0.005 / Output $0.4" (S28); Flex $0.025 / $0.0025 / $0.20
    ("2025-08-07", "gpt-5-nano", "cached_input", "standard", "0.005"),
    ("2025-08-07", "gpt-5-nano", "output", "flex", "0.20"),
    # 2025-10-06: gpt-5-pro $15.00 / $120.00, Batch $7.50 / $60.00 (S24)
    ("2025-10-06", "gpt-5-pro", "output", "standard", "120.00"),
    ("2025-10-06", "gpt-5-pro", "output", "batch", "60.00"),
    # 2025-11-13: gpt-5.1 at gpt-5's prices (S24); gpt-5.1-codex-mini $0.25 / $0.025 / $2.00
    ("2025-11-13", "gpt-5.1", "output", "standard", "10.00"),
    ("2025-11-13", "gpt-5.1", "input", "flex", "0.625"),
    ("2025-11-13", "gpt-5.1-codex-mini", "input", "standard", "0.25"),
    # 2025-12-11: gpt-5.2 $1.75 / $0.175 / $14.00; Priority "GPT-5.2 $3.50 $0.350 $28.00" (S31); pro $21 / $168
    ("2025-12-11", "gpt-5.2", "output", "standard", "14.00"),
    ("2025-12-11", "gpt-5.2", "output", "priority", "28.00"),
    ("2025-12-11", "gpt-5.2-pro", "input", "standard", "21.00"),
    # 2026-02-05 (UNCONFIRMED day): gpt-5.3-codex $1.75 / $0.175 / $14.00 (S32, S33)
    ("2026-02-05", "gpt-5.3-codex", "cached_input", "standard", "0.175"),
    # 2026-03-05: gpt-5.4 $2.50 / $0.25 / $15.00 (S32, S33); Priority $5.00 / $0.50 / $30.00 (S31)
    ("2026-03-05", "gpt-5.4", "input", "standard", "2.50"),
    ("2026-03-05", "gpt-5.4", "output", "priority", "30.00"),
    ("2026-03-05", "gpt-5.4-pro", "output", "standard", "180.00"),
    # 2026-03-17: gpt-5.4-mini $0.75 / $0.075 / $4.50; gpt-5.4-nano $0.20 / $0.02 / $1.25 (S32, S33)
    ("2026-03-17", "gpt-5.4-mini", "output", "standard", "4.50"),
    ("2026-03-17", "gpt-5.4-mini", "output", "batch", "2.25"),
    ("2026-03-17", "gpt-5.4-nano", "output", "standard", "1.25"),
    # 2026-04-23: gpt-5.5 $5.00 / $0.50 / $30.00; Priority "GPT-5.5 ... $12.50 $1.250 $75.00" (S31)
    ("2026-04-23", "gpt-5.5", "output", "standard", "30.00"),
    ("2026-04-23", "gpt-5.5", "input", "priority", "12.50"),
    ("2026-04-23", "gpt-5.5-pro", "input", "standard", "30.00"),
    # ~2026-07-09: sol $5.00 / $0.50 (cache write $6.25) / $30.00; terra $2.50 / $0.25 / $15.00; luna $1.00 / $0.10 / $6.00
    ("2026-07-09", "gpt-5.6-sol", "cache_write", "standard", "6.25"),
    ("2026-07-09", "gpt-5.6-terra", "output", "standard", "15.00"),
    ("2026-07-09", "gpt-5.6-luna", "input", "standard", "1.00"),
    # 2026-07-30: luna -80% "$0.20 / $0.02 / $1.20" (S28), terra -20% $2.00 / $0.20 / $12.00 (S33); sol unchanged
    ("2026-07-30", "gpt-5.6-luna", "output", "standard", "1.20"),
    ("2026-07-30", "gpt-5.6-luna", "cache_write", "standard", "0.25"),
    ("2026-07-30", "gpt-5.6-terra", "input", "standard", "2.00"),
    ("2026-07-30", "gpt-5.6-sol", "input", "standard", "5.00"),
    # 2026-08-21: sol promotion "$4/$20 short context" and "$0.40 cache read" (S41)
    ("2026-08-21", "gpt-5.6-sol", "input", "standard", "4.00"),
    ("2026-08-21", "gpt-5.6-sol", "cached_input", "standard", "0.40"),
    ("2026-08-21", "gpt-5.6-sol", "output", "standard", "20.00"),
    # 2026-09-22: gpt-6-luna "入力 $0.10, Cached input $0.01, Cache writes $0.125, 出力 $0.50" (S28); Fast 2x
    ("2026-09-22", "gpt-6-luna", "input", "standard", "0.10"),
    ("2026-09-22", "gpt-6-luna", "cache_write", "standard", "0.125"),
    ("2026-09-22", "gpt-6-luna", "output", "batch", "0.25"),
    ("2026-09-22", "gpt-6-luna", "output", "priority", "1.00"),
    # 2026-11-22: the promotion ran "through at least 2026-11-21" (S41): sol back at $5.00 / $30.00
    ("2026-11-22", "gpt-5.6-sol", "input", "standard", "5.00"),
    ("2026-11-22", "gpt-5.6-sol", "output", "standard", "30.00"),
]


@pytest.mark.parametrize("date, name, kind, mode, price", REVISIONS)
def test_each_revision_prices_as_the_facts_say(book, date, name, kind, mode, price):
    assert rate(book, date, name, kind, mode) == Decimal(price)


def test_there_is_one_sheet_per_dated_revision_after_2025_04_14(book):
    after = [s.revision for s in book.sheets if s.effective > dt.date(2025, 4, 14)]
    assert after == [
        "2025-04-16", "2025-05-08", "2025-06-10", "2025-06-26", "2025-08-07", "2025-10-06", "2025-11-13",
        "2025-12-11", "2026-02-05", "2026-03-05", "2026-03-17", "2026-04-23", "2026-07-09", "2026-07-30",
        "2026-08-21", "2026-09-22", "2026-11-22",
    ]


def test_o3_before_the_cut_is_the_launch_price_the_day_before(book):
    # facts §7: $10 / $2.50 / $40 before 2025-06-10, $2 / $0.50 / $8 from then
    assert rate(book, "2025-06-09", "o3", "input") == Decimal("10.00")
    assert rate(book, "2025-06-10", "o3", "input") == Decimal("2.00")


def test_a_model_not_listed_by_a_later_sheet_carries_its_price_forward(book):
    # o4-mini: "No change found after launch" (S24); still $4.40 on the newest sheet
    assert rate(book, "2026-12-02", "o4-mini-2025-04-16", "output") == Decimal("4.40")
    assert book.as_of("2026-12-02").model("o4-mini-2025-04-16").effective == dt.date(2025, 5, 8)


@pytest.mark.parametrize("name, date, kind, tokens, price", [
    # gpt-5.4: ">272K: $5.00 / $0.50 / $22.50" (S32 input_cost_per_token_above_272k_tokens 5e-06, output 2.25e-05)
    ("gpt-5.4", "2026-03-05", "input", 272_000, "2.50"),
    ("gpt-5.4", "2026-03-05", "input", 272_001, "5.00"),
    ("gpt-5.4", "2026-03-05", "output", 300_000, "22.50"),
    # gpt-5.5: ">272K $10 / $1 / $45" (S32)
    ("gpt-5.5", "2026-04-23", "cached_input", 500_000, "1.00"),
    ("gpt-5.5", "2026-04-23", "output", 500_000, "45.00"),
    # gpt-5.6-sol promotion: "$8/$30 long context" (S41)
    ("gpt-5.6-sol", "2026-08-21", "input", 400_000, "8.00"),
    ("gpt-5.6-sol", "2026-08-21", "output", 400_000, "30.00"),
])
def test_the_long_context_tier_applies_above_272k_input_tokens(book, name, date, kind, tokens, price):
    assert rate(book, date, name, kind, input_tokens=tokens) == Decimal(price)


def test_o4_mini_rft_is_billed_per_training_hour_with_a_data_sharing_discount(book):
    model = book.as_of("2025-05-08").model("o4-mini-2025-04-16")
    # "$100 per hour of wall-clock time spent in the core training loop for o4-mini-2025-04-16" (S30)
    assert model.fine_tuning.training_per_hour == Decimal("100.00")
    assert model.fine_tuning.training_per_1m is None
    # S24: fine-tuned o4-mini $4.00 / $1.00 / $16.00, Batch $2.00 / $0.50 / $8.00
    assert model.rate("output", fine_tuned=True) == Decimal("16.00")
    assert model.rate("input", "batch", fine_tuned=True) == Decimal("2.00")
    # "with data sharing": $2.00 / $0.50 / $8.00, Batch $1.00 / $0.25 / $4.00 (S24)
    assert model.rate("input", "data_sharing", fine_tuned=True) == Decimal("2.00")
    assert model.rate("output", "data_sharing", fine_tuned=True) == Decimal("8.00")
    assert model.rate("cached_input", "data_sharing_batch", fine_tuned=True) == Decimal("0.25")
    assert book.facts("o4-mini-2025-04-16", "2025-05-08").fine_tuning.methods == ("rft",)
    assert book.fine_tuning_jobs("o4-mini", "2025-05-08") == "open"
    assert book.fine_tuning_jobs("o4-mini", "2025-05-07") == "closed"  # before RFT opened (S37, UNCONFIRMED day)


@pytest.mark.parametrize("name, date, status", [
    ("gpt-3.5-turbo-0125", "2026-12-01", "shut down"),  # shut down 2026-10-23 (S25, S26)
    ("o4-mini", "2026-10-23", "shut down"),  # 2026-10-23 (S25, S26, S32)
    ("o3", "2026-12-02", "deprecated"),  # notice 2026-06-11, shutdown 2026-12-11 (S25)
    ("gpt-5", "2026-12-11", "shut down"),  # "removal from the API on December 11, 2026" (S25)
    ("gpt-5-chat-latest", "2026-07-23", "shut down"),  # 2026-07-23 (S25, S43)
    ("gpt-5.6-sol", "2026-12-02", "available"),
    ("gpt-6-luna", "2026-09-21", "not released"),
])
def test_lifecycle(book, name, date, status):
    assert book.status(name, date) == status


def test_fine_tuning_jobs_are_closed_for_gpt_4_1_mini_in_2027(book):
    # wind-down step 3, 2027-01-06 (S25, S26); base shut down 2027-01-14 (S36, S32; UNCONFIRMED primary)
    assert book.fine_tuning_jobs("gpt-4.1-mini", dt.date(2027, 2, 1)) == "closed"


def test_the_gpt_5_family_is_not_fine_tunable(book):
    assert book.fine_tuning_jobs("gpt-5-nano", "2025-09-01") is None  # "fine-tuning not supported" (S28)


@pytest.mark.parametrize("alias, date, snapshot", [
    ("gpt-5", "2025-08-07", "gpt-5-2025-08-07"),
    ("gpt-5-mini", "2025-08-07", "gpt-5-mini-2025-08-07"),
    ("gpt-5.4-nano", "2026-03-17", "gpt-5.4-nano-2026-03-17"),
    ("o3-pro", "2025-06-10", "o3-pro-2025-06-10"),
])
def test_new_aliases_point_at_their_snapshots(book, alias, date, snapshot):
    assert book.as_of(date).resolve(alias) == snapshot


def test_every_price_cites_a_source_defined_in_sources_toml(book):
    defined = set(book.catalogues["openai"].sources)
    for sheet in book.sheets:
        if sheet.effective <= dt.date(2025, 4, 14):
            continue
        for name, model in sheet.models.items():
            assert model.sources, (sheet.revision, name)
            cited = set(model.sources) | set(model.fine_tuning.sources if model.fine_tuning else ())
            assert cited <= defined, (sheet.revision, name, cited - defined)
    for name, facts in book.catalogues["openai"].models.items():
        assert set(facts.sources) <= defined, name
        assert set(facts.fine_tuning.sources if facts.fine_tuning else ()) <= defined, name
