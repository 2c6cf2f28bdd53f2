"""The comparison engine: scenarios worked out by hand to the cent, then properties of the arithmetic.

Prices used below (USD per 1M tokens, from pricing/openai/):
  gpt-3.5-turbo-0613   input 1.50, output 2.00; fine-tuned: training 8.00, input 12.00 / output 16.00
                       from 2023-08-22, input 3.00 / output 6.00 from 2023-11-06
  gpt-3.5-turbo-0125   input 0.50, output 1.50, batch 0.25 / 0.75; fine-tuned 3.00 / 6.00, training 8.00
                       (the gpt-3.5-turbo alias points to it from the 2024-05-13 sheet)
  gpt-4-0613           input 30.00, output 60.00
  gpt-4o-mini          input 0.15, cached input 0.075, output 0.60 (2024-10-01 sheet)
  text-embedding-ada-002  input 0.10
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import functools
from decimal import Decimal, localcontext

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from costcalc.compare import PRECISION, compare
from costcalc.pricing import load_pricebook
from costcalc.errors import ScenarioError
from costcalc.render import json_default
from costcalc.scenario import add_months, load_scenario, read_scenario
from costcalc.sensitivity import sensitivity_grid

from .conftest import FOUR_STRATEGIES

D = Decimal
CENT = D("0.01")

NEVER_PAYS = """\
schema_version = 1

[traffic]
requests_per_month = 100_000
start_month = "2025-01"
horizon_months = 12
prompt_tokens = 800
completion_tokens = 150

[strategies.Base]
type = "base"
model = "gpt-3.5-turbo"

[strategies."Fine-tuned"]
type = "fine-tuned"
model = "gpt-3.5-turbo"
prompt_tokens = 200
training_tokens = 1_000_000
epochs = 3
"""


@pytest.fixture
def priced(book, scenario_file):
    """Compare a scenario given as TOML text (with optional overrides)."""

    def run(text: str, overrides=()):
        return compare(load_scenario(scenario_file(text), overrides), book)

    return run


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


# --- worked by hand ------------------------------------------------------------------------------


def test_a_horizon_across_the_devday_price_cut(priced):
    # 30,000 requests a month, October to December 2023. The 2023-11-06 sheet cuts fine-tuned
    # gpt-3.5-turbo usage from $12/$16 to $3/$6 per 1M; base gpt-3.5-turbo-0613 stays $1.50/$2.00.
    c = priced(FOUR_STRATEGIES)
    base, ft, gpt4, rag = (c.strategy(n) for n in ("Base", "Fine-tuned", "GPT-4", "Retrieval"))

    # November is split by days: 1-5 at the 2023-08-22 sheet, 6-30 at the 2023-11-06 sheet.
    november = c.assumptions.price_sheets[1]
    assert november.month == dt.date(2023, 11, 1)
    assert [(s.effective.isoformat(), s.file, s.first_day, s.days) for s in november.spans] == [
        ("2023-08-22", "2023-08-22.toml", 1, 5), ("2023-11-06", "2023-11-06.toml", 6, 25)]

    # Base: 2,000 × $1.50 + 200 × $2.00 = $0.0034 a request; × 30,000 = $90.00 + $12.00 = $102.00 a month.
    assert [(m.input_usd, m.output_usd, m.total_usd) for m in base.months] == [(D("90"), D("12"), D("102"))] * 3
    assert [m.cumulative_usd for m in base.months] == [D("102"), D("204"), D("306")]

    # Fine-tuned, October: 100 × $12 + 200 × $16 = $0.0044 a request → 30,000 × = $36.00 + $96.00 = $132.00,
    # plus training 100,000 tokens × 3 epochs × $8 / 1M = $2.40 (OpenAI's own worked example) → $134.40.
    october, nov, december = ft.months
    assert (october.input_usd, october.output_usd, october.training_usd, october.total_usd) == (
        D("36"), D("96"), D("2.4"), D("134.4"))
    # November: 30,000 × 5/30 = 5,000 requests at the old prices, 25,000 at the new ones.
    #   input  5,000 × 100 × $12 / 1M = $6.00  + 25,000 × 100 × $3 / 1M = $7.50  → $13.50
    #   output 5,000 × 200 × $16 / 1M = $16.00 + 25,000 × 200 × $6 / 1M = $30.00 → $46.00
    assert (nov.requests, nov.input_usd, nov.output_usd, nov.total_usd) == (D(30000), D("13.5"), D("46"), D("59.5"))
    # December: 100 × $3 + 200 × $6 = $0.0015 a request → $9.00 + $36.00 = $45.00.
    assert (december.input_usd, december.output_usd, december.total_usd) == (D("9"), D("36"), D("45"))
    # Cumulative 134.40, 193.90, 238.90 vs the base 102, 204, 306: caught up in November.
    assert [m.cumulative_usd for m in ft.months] == [D("134.4"), D("193.9"), D("238.9")]
    assert ft.total_usd == D("238.9") and ft.vs_baseline_usd == D("-67.1")
    assert ft.trainings[0].billed_tokens == 300_000 and ft.trainings[0].snapshot == "gpt-3.5-turbo-0613"

    be = c.break_even
    assert (be.month, be.month_number, be.saving_usd) == (dt.date(2023, 11, 1), 2, D("67.1"))
    # Break-even traffic R: R × Σ(saving per request, by month) = $2.40 of training.
    #   October  0.0034 − 0.0044                        = −0.001
    #   November 0.0034 − (5 × 0.0044 + 25 × 0.0015)/30 = 0.0034 − 0.0019833… = 0.0014166…
    #   December 0.0034 − 0.0015                        = 0.0019
    #   Σ = 0.0023166…; 2.40 / 0.0023166… = 1,035.97… → 1,036 requests a month.
    assert be.monthly_requests == 1036

    # GPT-4: 2,000 × $30 + 200 × $60 = $0.072 a request → $2,160.00 a month, never cheaper.
    assert gpt4.total_usd == D("6480")
    assert (gpt4.break_even.month, gpt4.break_even.monthly_requests) == (None, None)

    # Retrieval: (300 + 700) × $1.50 + 200 × $2.00 = $0.0019 a request → $57.00 a month; queries
    # 30,000 × 50 × $0.10 / 1M = $0.15; the corpus once, 1,000,000 × $0.10 / 1M = $0.10; vector DB $20.
    assert [(m.input_usd, m.output_usd, m.retrieval_usd, m.fixed_usd, m.total_usd) for m in rag.months] == [
        (D("45"), D("12"), D("0.25"), D("20"), D("77.25")),
        (D("45"), D("12"), D("0.15"), D("20"), D("77.15")),
        (D("45"), D("12"), D("0.15"), D("20"), D("77.15")),
    ]
    assert rag.total_usd == D("231.55")

    # Per 1,000 requests: the total over 90,000 requests.
    assert base.per_1k_requests_usd == D("3.4") and cents(ft.per_1k_requests_usd) == D("2.65")
    assert c.answer() == (
        "Fine-tuning gpt-3.5-turbo breaks even in 2023-11 (month 2) and saves $67.10 over 3 months vs Base; "
        "GPT-4 costs 21.2× as much and Retrieval 24% less. Cheapest over 3 months: Retrieval ($231.55).")


def test_fine_tuning_that_never_pays(priced):
    # 2025: gpt-3.5-turbo means 0125 ($0.50/$1.50); fine-tuned 0125 costs $3/$6.
    #   base        800 × $0.50 + 150 × $1.50 = $0.000625 a request → $62.50 a month
    #   fine-tuned  200 × $3.00 + 150 × $6.00 = $0.0015 a request   → $150.00 a month
    # so a shorter prompt never makes up for the 6× input price: no traffic repays the training.
    c = priced(NEVER_PAYS)
    base, ft = c.strategy("Base"), c.strategy("Fine-tuned")
    assert base.total_usd == D("750")  # 12 × $62.50
    # 12 × $150 + training 1,000,000 × 3 × $8 / 1M = $24
    assert ft.total_usd == D("1824")
    be = c.break_even
    assert (be.month, be.month_number, be.monthly_requests) == (None, None, None)
    assert be.saving_usd == D("-1074")
    assert be.reason == ("a fine-tuned request costs $0.0015 vs $0.000625 for the baseline, "
                         "so no traffic repays the training fee")
    assert c.answer().startswith(
        "Fine-tuning gpt-3.5-turbo never pays off vs Base: a fine-tuned request costs $0.0015 vs $0.000625")
    # April 2025 is split by the 2025-04-14 and 2025-04-16 sheets (13 + 2 + 15 days) at unchanged prices.
    april = c.assumptions.price_sheets[3]
    assert [(s.effective.isoformat(), s.days) for s in april.spans] == [
        ("2024-10-01", 13), ("2025-04-14", 2), ("2025-04-16", 15)]
    assert base.months[3].total_usd == D("62.5")


def test_not_within_the_horizon_reports_the_traffic_needed(priced):
    # The four-strategy scenario at 1,000 requests a month: below the 1,036 that repay the training.
    c = priced(FOUR_STRATEGIES, overrides=[_override("traffic.requests_per_month=1000")])
    be = c.break_even
    assert (be.month, be.monthly_requests) == (None, 1036)
    assert c.answer().startswith("Fine-tuning gpt-3.5-turbo does not break even within 3 months at 1,000 "
                                 "requests a month (it needs 1,036) and costs $0.0833 more than Base")
    # 1,000 × 0.0023166… − $2.40 of training = −$0.083333…


def test_batch_and_cache_shares(priced):
    # June 2024, gpt-3.5-turbo = 0125: half the requests at batch prices ($0.25/$0.75 vs $0.50/$1.50).
    # gpt-3.5-turbo has no cached-input price, so the cached share is billed as ordinary input.
    #   input  10,000 × 1,000 × (0.5 × $0.50 + 0.5 × $0.25) / 1M = $3.75
    #   output 10,000 ×   100 × (0.5 × $1.50 + 0.5 × $0.75) / 1M = $1.125
    c = priced(_single("gpt-3.5-turbo", start="2024-06", batch="0.5", cached="0.5"))
    month = c.strategy("Base").months[0]
    assert (month.input_usd, month.output_usd, month.cached_input_tokens) == (D("3.75"), D("1.125"), 0)
    # gpt-4o-mini in October 2024 has a cached price ($0.075 vs $0.15), but a 1,000-token prompt
    # cannot be cached (OpenAI caches prompts of 1,024 tokens or more): all of it at $0.15.
    #   input  10,000 × 1,000 × $0.15 / 1M = $1.50
    #   output 10,000 ×   100 × $0.60 / 1M = $0.60
    c = priced(_single("gpt-4o-mini", start="2024-10", cached="0.5"))
    month = c.strategy("Base").months[0]
    assert (month.input_usd, month.output_usd, month.cached_input_tokens) == (D("1.5"), D("0.6"), 0)


def test_only_the_cacheable_prefix_of_a_long_prompt_is_cached(priced):
    # A 2,500-token prompt: the cache serves whole 128-token increments, 19 × 128 = 2,432 tokens.
    # Half the requests hit the cache: 0.5 × 2,432 = 1,216 cached tokens, 1,284 uncached.
    #   input  10,000 × (1,284 × $0.15 + 1,216 × $0.075) / 1M = 10,000 × $0.0002838 = $2.838
    c = priced(_single("gpt-4o-mini", start="2024-10", cached="0.5").replace("prompt_tokens = 1_000",
                                                                             "prompt_tokens = 2_500"))
    base = c.strategy("Base")
    assert (base.tokens.cacheable, base.tokens.cached) == (2432, 1216)
    assert (base.months[0].input_usd, base.months[0].cached_input_tokens) == (D("2.838"), 12_160_000)


def test_a_strategy_sets_its_own_cached_share(priced):
    # The fine-tuned model's 1,100-token prompt caches 1,024 tokens (8 × 128); its own share is 1:
    # every request serves them at ft gpt-4o-mini's cached price ($0.15 vs $0.30 per 1M).
    #   input  10,000 × (76 × $0.30 + 1,024 × $0.15) / 1M = 10,000 × $0.0001764 = $1.764
    # The base strategy keeps the traffic's share, 0: 10,000 × 2,500 × $0.15 / 1M = $3.75.
    scenario = _single("gpt-4o-mini", start="2024-10").replace("prompt_tokens = 1_000", "prompt_tokens = 2_500")
    scenario += """
[strategies.FT]
type = "fine-tuned"
model = "gpt-4o-mini"
prompt_tokens = 1_100
training_tokens = 1_000
cached_share = 1
"""
    c = priced(scenario)
    assert c.strategy("FT").months[0].input_usd == D("1.764")
    assert c.strategy("Base").months[0].input_usd == D("3.75")


def test_a_missing_batch_price_is_an_error_not_zero(priced):
    # The Batch API arrived in 2024: the 2023-08-22 sheet has no batch price for gpt-3.5-turbo-0613.
    # The error names the setting that asked for batch prices as well as model, price and date.
    with pytest.raises(ScenarioError) as error:
        priced(_single("gpt-3.5-turbo", start="2023-10", batch="0.1"))
    assert str(error.value) == (
        "scenario.toml: traffic.batch_share: no batch input price for gpt-3.5-turbo-0613 in the price sheet "
        "effective 2023-08-22 (the Batch API opened in April 2024: start the horizon later or set the share to 0)")


def test_growth_and_requests_per_day(priced):
    c = priced(_single("gpt-3.5-turbo", start="2024-02", months=3, growth="10"))
    assert [m.requests for m in c.strategies[0].months] == [D(10_000), D(11_000), D(12_100)]
    # 1,000 a day: February 2024 has 29 days, March 31, April 30.
    c = priced(_single("gpt-3.5-turbo", start="2024-02", months=3).replace(
        "requests_per_month = 10_000", "requests_per_day = 1_000"))
    assert [m.requests for m in c.strategies[0].months] == [D(29_000), D(31_000), D(30_000)]
    assert c.assumptions.first_month_requests == D(29_000)


def test_a_fine_tuned_model_keeps_its_snapshot_until_retrained(priced):
    # The alias gpt-3.5-turbo moves from 0613 to 0125 on 2024-02-16; 0125 has fine-tuning prices from
    # the 2024-05-13 sheet. Trained in January (0613) and again in June (every 5 months): February to
    # May stay on 0613 at fine-tuned prices, June moves to 0125.
    text = NEVER_PAYS.replace('start_month = "2025-01"', 'start_month = "2024-01"').replace(
        "horizon_months = 12", "horizon_months = 6").replace("epochs = 3", "epochs = 3\nretrain_every_months = 5")
    c = priced(text)
    ft, base = c.strategy("Fine-tuned"), c.strategy("Base")
    assert [m.snapshots for m in ft.months] == [("gpt-3.5-turbo-0613",)] * 5 + [("gpt-3.5-turbo-0125",)]
    assert [(r.month, r.snapshot, r.sheet_effective.isoformat()) for r in ft.trainings] == [
        (dt.date(2024, 1, 1), "gpt-3.5-turbo-0613", "2023-11-06"),
        (dt.date(2024, 6, 1), "gpt-3.5-turbo-0125", "2024-05-13")]
    assert [m.training_usd for m in ft.months] == [D(24), D(0), D(0), D(0), D(0), D(24)]
    # The base model follows the alias day by day: February = 15 days of 0613, 14 of 0125.
    assert base.months[1].snapshots == ("gpt-3.5-turbo-0613", "gpt-3.5-turbo-0125")


def test_an_alias_moving_mid_month_splits_the_month_by_days(priced):
    # Base gpt-3.5-turbo in February 2024 (29 days), 1,000 prompt + 100 completion tokens a request:
    # 0613 at $1.50 / $2.00 per 1M until 2024-02-15: 0.0015 + 0.0002 = $0.0017 a request, 15 days;
    # 0125 at $0.50 / $1.50 per 1M from 2024-02-16: 0.0005 + 0.00015 = $0.00065 a request, 14 days.
    # 29,000 requests = 1,000 a day: 15,000 × 0.0017 + 14,000 × 0.00065 = 25.50 + 9.10 = $34.60.
    c = priced(_single("gpt-3.5-turbo", start="2024-02").replace(
        "requests_per_month = 10_000", "requests_per_month = 29_000"))
    month = c.strategies[0].months[0]
    assert month.snapshots == ("gpt-3.5-turbo-0613", "gpt-3.5-turbo-0125")
    assert round(month.total_usd, 10) == D("34.60")


def test_tokens_measured_from_a_sample(priced, tmp_path):
    # Cookbook rule: 3 per message + its strings, + 3 to prime the reply (cl100k_base tokens in quotes).
    # Line 1: system "Be" " brief" "." (3 + 1 + 3) + user "Hi" (3 + 1 + 1) + priming 3 = 15 prompt tokens;
    #   the last assistant message "Hello" " there" = 2 completion tokens.
    # Line 2, with an earlier assistant turn: user "Hi" (5) + assistant "Hello" (3 + 1 + 1) + user "By" "e"
    #   (3 + 1 + 2) + 3 = 19 prompt tokens; the last assistant message "Good" "bye" = 2 completion tokens.
    # Means: (15 + 19) / 2 = 17 prompt, (2 + 2) / 2 = 2 completion.
    lines = [
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                      {"role": "assistant", "content": "Hello there"}]},
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
                      {"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Goodbye"}]},
    ]
    (tmp_path / "requests.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    text = _single("gpt-3.5-turbo", start="2024-06").replace(
        "prompt_tokens = 1_000\ncompletion_tokens = 100", 'sample_file = "requests.jsonl"')
    c = priced(text)
    tokens = c.strategies[0].tokens
    assert (tokens.prompt, tokens.completion, tokens.encoding) == (D(17), D(2), "cl100k_base")
    assert tokens.source == "measured from requests.jsonl (2 requests, mean)"


def test_a_model_without_fine_tuning_prices_names_the_key(book, scenario_file):
    path = scenario_file(NEVER_PAYS.replace('model = "gpt-3.5-turbo"\nprompt_tokens = 200',
                                            'model = "gpt-4"\nprompt_tokens = 200'))
    with pytest.raises(ScenarioError) as error:
        compare(load_scenario(path), book)
    assert str(error.value) == ("scenario.toml: strategies.Fine-tuned.model: gpt-4 (gpt-4-0613) has no "
                                "fine-tuning prices in the price sheet effective 2024-10-01 (in force on 2025-01-01)")


def test_an_alias_that_moved_to_a_snapshot_not_yet_fine_tunable_names_the_ones_that_were(book, scenario_file):
    # On 2024-03-01 gpt-3.5-turbo means 0125 (from 2024-02-16), whose fine-tuning prices start 2024-05-13.
    path = scenario_file(NEVER_PAYS.replace('start_month = "2025-01"', 'start_month = "2024-03"'))
    with pytest.raises(ScenarioError) as error:
        compare(load_scenario(path), book)
    assert str(error.value) == (
        "scenario.toml: strategies.Fine-tuned.model: gpt-3.5-turbo (gpt-3.5-turbo-0125) has no fine-tuning prices "
        "in the price sheet effective 2024-01-25 (in force on 2024-03-01); name a snapshot that could be "
        "fine-tuned then: gpt-3.5-turbo-0613, gpt-3.5-turbo-1106")


def test_json_contract_and_frame(priced):
    c = priced(FOUR_STRATEGIES)
    data = json.loads(json.dumps(c.to_dict(), default=json_default))
    assert data["schema_version"] == 1
    assert {"traffic", "price_sheets", "tokenizer", "epochs", "proration"} <= set(data["assumptions"])
    assert data["assumptions"]["epochs"] == {"Fine-tuned": {"epochs": 3, "rule": "as given",
                                                           "training_source": "training_tokens = 100,000"}}
    ft = data["strategies"][1]
    assert (ft["name"], ft["total_usd"], ft["per_1k_requests_usd"][:6]) == ("Fine-tuned", "238.9", "2.6544")
    assert set(ft["months"][0]) >= {"month", "requests", "usage_usd", "training_usd", "fixed_usd", "total_usd",
                                    "cumulative_usd"}
    assert ft["months"][1]["usage_usd"] == "59.5"
    assert data["break_even"] == {
        "strategy": "Fine-tuned", "baseline": "Base", "month": "2023-11", "month_number": 2,
        "monthly_requests": 1036, "saving_usd": "67.1", "request_usd": ft["request_usd"],
        "baseline_request_usd": "0.0034", "extra_fixed_usd": "2.4", "reason": c.break_even.reason}

    frame = c.to_frame()
    assert len(frame) == 12 and str(frame["month"].dtype) == "period[M]"
    assert frame["total_usd"].dtype == "float64" and frame["month_number"].dtype == "int64"
    assert frame.loc[(frame["strategy"] == "Fine-tuned") & (frame["month"] == "2023-11"), "usage_usd"].item() == 59.5


# --- properties ----------------------------------------------------------------------------------

MONTHS = st.integers(0, 30).map(lambda i: add_months(_date(2023, 9), i))
# Exactness: every step is a Decimal product or sum (exact) except the division of a month's price by
# its 28-31 days, rounded at PRECISION digits. A handful of such roundings bound the relative error
# by ~10 × 10^-PRECISION; 10^-(PRECISION - 10) leaves a wide margin and still catches any real slip.
TOLERANCE = D(10) ** -(PRECISION - 10)


@settings(max_examples=40, deadline=None)
@given(start=MONTHS, horizon=st.integers(1, 18), requests=st.integers(0, 5_000_000), factor=st.integers(2, 1000),
       prompt=st.integers(0, 4000), completion=st.integers(0, 1000),
       cached=st.sampled_from(["0", "0.25", "1"]))
def test_costs_scale_linearly_with_traffic(start, horizon, requests, factor, prompt, completion, cached):
    # Growth 0 and no fixed costs: every month's cost is proportional to the requests.
    def run(n):
        raw = _scenario_dict(start, horizon, n, prompt, completion, cached)
        return compare(read_scenario(raw), _book())

    one, many = run(requests), run(requests * factor)
    with localcontext() as context:
        context.prec = PRECISION  # so the expected value is not rounded to 28 digits here
        for a, b in zip(one.strategies, many.strategies):
            for m, n in zip(a.months, b.months):
                for field in ("input_usd", "output_usd", "retrieval_usd", "usage_usd", "total_usd", "cumulative_usd"):
                    expected = getattr(m, field) * factor
                    assert abs(getattr(n, field) - expected) <= TOLERANCE * max(abs(expected), 1), (
                        a.name, m.month, field)


@settings(max_examples=40, deadline=None)
@given(start=MONTHS, horizon=st.integers(1, 15), requests=st.integers(0, 400_000), growth=st.integers(-5, 20),
       base_prompt=st.integers(100, 4000), ft_prompt=st.integers(0, 400), upkeep=st.integers(0, 300),
       training=st.integers(10_000, 3_000_000), retrain=st.integers(0, 4))
def test_break_even_agrees_with_the_cumulative_series(start, horizon, requests, growth, base_prompt, ft_prompt,
                                                      upkeep, training, retrain):
    # gpt-3.5-turbo means 0125 from 2024-02-16, and 0125 has fine-tuning prices only from 2024-05-13:
    # a training on the 1st of 2024-03, -04 or -05 is an error (tested on its own), not a case here.
    runs = [add_months(start, k) for k in range(0, horizon, retrain or horizon)]
    assume(not any(_date(2024, 3) <= month <= _date(2024, 5) for month in runs))

    def run(n):
        raw = _scenario_dict(start, horizon, n, base_prompt, 150, "0", growth=growth)
        raw["strategies"]["Fine-tuned"] = {
            "type": "fine-tuned", "model": "gpt-3.5-turbo", "prompt_tokens": ft_prompt, "training_tokens": training,
            "epochs": 3, "upkeep_usd_per_month": upkeep, "retrain_every_months": retrain}
        return compare(read_scenario(raw), _book())

    c = run(requests)
    base, ft, be = c.strategy("Base"), c.strategy("Fine-tuned"), c.break_even
    first = next((i for i, (f, b) in enumerate(zip(ft.months, base.months)) if f.cumulative_usd <= b.cumulative_usd),
                 None)
    assert be.month_number == (None if first is None else first + 1)
    assert be.month == (None if first is None else ft.months[first].month)
    with localcontext() as context:
        context.prec = PRECISION
        assert be.saving_usd == base.months[-1].cumulative_usd - ft.months[-1].cumulative_usd
    # The break-even traffic is the least first-month traffic whose horizon total is at or below the baseline's.
    if be.monthly_requests:
        at = run(be.monthly_requests)
        assert at.strategy("Fine-tuned").total_usd <= at.strategy("Base").total_usd
        below = run(be.monthly_requests - 1)
        assert below.strategy("Fine-tuned").total_usd > below.strategy("Base").total_usd


# --- sensitivity ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cached", [None, "0.6"])
def test_sensitivity_grid_agrees_with_the_exact_comparison(book, scenario_file, cached):
    text = FOUR_STRATEGIES.replace("horizon_months = 3", "horizon_months = 6")
    if cached:  # gpt-4o-mini from 2024-10 has cached prices; what is cached is a step function of the prompt
        text = (text.replace('start_month = "2023-10"', 'start_month = "2024-10"')
                .replace('"gpt-3.5-turbo"', '"gpt-4o-mini"').replace("[traffic]", f"[traffic]\ncached_share = {cached}"))
    scenario = load_scenario(scenario_file(text))
    c = compare(scenario, book)
    traffic = [500, 1_000, 5_000, 30_000, 200_000]
    reductions = [0.0, 0.45, 0.5, 0.95, 1.0]
    grid = sensitivity_grid(c, traffic, reductions)
    assert grid.break_even_month.shape == (5, 5) and grid.months[0] == (dt.date(2024, 10, 1) if cached else dt.date(2023, 10, 1))
    for i, requests in enumerate(traffic):
        for j, reduction in enumerate(reductions):
            ft_prompt = D(2000) * (1 - D(str(reduction)))  # whole tokens at these points
            exact = compare(_with(scenario, requests, ft_prompt), book).break_even
            assert grid.break_even_month[i, j] == (exact.month_number or 0), (requests, reduction)
            assert grid.saving_usd[i, j] == pytest.approx(float(exact.saving_usd), rel=1e-9, abs=1e-9)
    frame = grid.to_frame()
    assert len(frame) == 25 and str(frame["break_even_month"].dtype) == "period[M]"


# --- helpers -------------------------------------------------------------------------------------


@functools.cache
def _book():
    """The bundled price book for property tests (a fixture would be re-shown in every example)."""
    from .conftest import PRICING_DIR

    return load_pricebook(PRICING_DIR)


def _override(text):
    from costcalc.cli import parse_set

    return parse_set(text)


def _date(year, month):
    import datetime as dt

    return dt.date(year, month, 1)


def _single(model, start, months=1, batch="0", cached="0", growth="0"):
    return f"""\
schema_version = 1

[traffic]
requests_per_month = 10_000
monthly_growth_pct = {growth}
start_month = "{start}"
horizon_months = {months}
prompt_tokens = 1_000
completion_tokens = 100
batch_share = {batch}
cached_share = {cached}

[strategies.Base]
type = "base"
model = "{model}"
"""


def _scenario_dict(start, horizon, requests, prompt, completion, cached, growth=0):
    """Base GPT-3.5, GPT-4 and retrieval without fixed costs, as parsed TOML."""
    return {
        "schema_version": 1,
        "traffic": {"requests_per_month": requests, "monthly_growth_pct": growth,
                    "start_month": f"{start.year}-{start.month:02d}", "horizon_months": horizon,
                    "prompt_tokens": prompt, "completion_tokens": completion, "cached_share": D(cached)},
        "strategies": {
            "Base": {"type": "base", "model": "gpt-3.5-turbo"},
            "GPT-4": {"type": "base", "model": "gpt-4"},
            "Retrieval": {"type": "retrieval", "model": "gpt-3.5-turbo", "prompt_tokens": prompt // 2,
                          "context_tokens": 500, "query_tokens": 30},
        },
    }


def _with(scenario, requests, ft_prompt):
    traffic = dataclasses.replace(scenario.traffic, requests_per_month=D(requests))
    strategies = tuple(dataclasses.replace(s, prompt_tokens=ft_prompt) if s.type == "fine-tuned" else s
                       for s in scenario.strategies)
    return dataclasses.replace(scenario, traffic=traffic, strategies=strategies)


# --- the engine's former wrong answers -----------------------------------------------------------


def test_a_base_strategy_on_an_ft_name_is_priced_at_fine_tuned_rates(priced):
    # 100,000 requests of 1,000 prompt + 100 completion tokens in 2023-09. An ft: name is a model
    # already trained: fine-tuned prices, no training fee.
    #   base gpt-3.5-turbo-0613:  100,000 × (1,000 × $1.50 + 100 × $2.00) / 1M  =   $170
    #   ft:gpt-3.5-turbo-0613:…:  100,000 × (1,000 × $12.00 + 100 × $16.00) / 1M = $1,360
    scenario = _single("gpt-3.5-turbo", start="2023-09").replace("10_000", "100_000") + """
[strategies.Trained]
type = "base"
model = "ft:gpt-3.5-turbo-0613:acme::abc"

[strategies."Trained in 2023"]
type = "base"
model = "ft:gpt-3.5-turbo:acme:bot:xyz"
"""
    c = priced(scenario)
    assert c.strategy("Base").total_usd == 170
    trained = c.strategy("Trained")
    assert (trained.total_usd, trained.months[0].training_usd, trained.trainings) == (1360, 0, ())
    # OpenAI's 2023 names carry the alias; it means the snapshot of the first month, fixed from then.
    assert c.strategy("Trained in 2023").months[0].snapshots == ("gpt-3.5-turbo-0613",)
    assert c.strategy("Trained in 2023").total_usd == 1360
    from costcalc import views

    rows = {row[0]: row[1] for row in views.comparison(c, monthly=False).table("assumptions").rows}
    assert rows["models: Trained"] == ("gpt-3.5-turbo-0613 (2023-09) at fine-tuned rates "
                                       "(an ft: model is already trained: no training fee)")
    assert [s["fine_tuned_rates"] for s in c.to_dict()["strategies"]] == [False, True, True]


def _training_file(path):
    """Nine 13-token examples and one of 6,012 tokens (cookbook rule, cl100k_base):
    each message 3 + role (1) + content; 3 more to prime the reply.
        short: (3 + 1 + 1) + (3 + 1 + 1) + 3 = 13       long: (3 + 1 + 6,000) + (3 + 1 + 1) + 3 = 6,012"""
    short = json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hi"}]})
    long = json.dumps({"messages": [{"role": "user", "content": "hello" + " hello" * 5999},
                                    {"role": "assistant", "content": "hi"}]})
    path.write_text("\n".join([short] * 9 + [long]) + "\n")
    return path


def test_a_retraining_on_a_new_snapshot_reuses_the_scan(priced, tmp_path, monkeypatch):
    # Trained in 2024-01 (sheet 2023-11-06: gpt-3.5-turbo = 0613, 4,096 tokens per example) and
    # again in 2024-06 (sheet 2024-05-13: 0125, 16,385). Both cl100k_base: one scan of the file.
    #   2024-01: 9 × 13 + min(6,012, 4,096)  = 4,213 tokens × 10 epochs (auto, 10 examples) × $8/1M = $0.33704
    #   2024-06: 9 × 13 + min(6,012, 16,385) = 6,129 tokens × 10 epochs × $8/1M                  = $0.49032
    from costcalc import dataset

    _training_file(tmp_path / "train.jsonl")
    scans = []
    real_scan = dataset.scan_dataset
    monkeypatch.setattr(dataset, "scan_dataset", lambda *args, **kwargs: scans.append(args) or real_scan(
        *args, **kwargs, workers=1))
    c = priced(_single("gpt-3.5-turbo", start="2024-01", months=6) + """
[strategies.FT]
type = "fine-tuned"
model = "gpt-3.5-turbo"
prompt_tokens = 200
training_file = "train.jsonl"
retrain_every_months = 5
""")
    runs = c.strategy("FT").trainings
    assert len(scans) == 1
    assert [(r.month, r.snapshot, r.training_tokens, r.epochs, r.training_usd) for r in runs] == [
        (dt.date(2024, 1, 1), "gpt-3.5-turbo-0613", 4213, 10, D("0.33704")),
        (dt.date(2024, 6, 1), "gpt-3.5-turbo-0125", 6129, 10, D("0.49032")),
    ]
    # Each run's file statistics state that run's own billing and sheet.
    assert [(r.dataset.billing_tokens, r.dataset.training_usd, r.dataset.price_sheet_effective.isoformat())
            for r in runs] == [(4213, D("0.33704"), "2023-11-06"), (6129, D("0.49032"), "2024-05-13")]
    assert [r.dataset.examples_over_limit for r in runs] == [1, 0]


def test_the_assumptions_say_what_the_prompt_cache_served(priced):
    from costcalc import views

    scenario = _single("gpt-4o-mini", start="2024-10", cached="0.5").replace("prompt_tokens = 1_000",
                                                                            "prompt_tokens = 2_500")
    scenario += '\n[strategies.Short]\ntype = "base"\nmodel = "gpt-4o-mini"\nprompt_tokens = 200\n'
    assumptions = views.comparison(priced(scenario), monthly=False).tables[1]
    rows = {row[0]: row[1] for row in assumptions.rows}
    assert rows["prompt cache: Base"] == ("1,216 of 2,500 input tokens per request at the cached-input price: "
                                          "50% of the 2,432 cacheable ones")
    assert rows["prompt cache: Short"] == ("none: a 200-token prompt is below the 1,024-token minimum "
                                           "(cached_share 0.5)")


def test_no_traffic_breaks_nothing_even(priced):
    # With no requests GPT-4 and the baseline both cost $0 every month: equal, not a break-even in month 1.
    c = priced(_single("gpt-3.5-turbo", start="2023-09", months=3).replace("10_000", "0")
               + '\n[strategies."GPT-4"]\ntype = "base"\nmodel = "gpt-4"\n')
    be = c.strategy("GPT-4").break_even
    assert (c.strategy("GPT-4").total_usd, be.month, be.month_number) == (0, None, None)
