"""Comparisons that know what can be bought: lifecycle, migrations, and every way fine-tuning is billed.

Every figure is worked out by hand from the bundled sheets (the prices are quoted in the comments), or
from a sheet the test writes. Requests are flat unless said otherwise, so a month costs requests ×
per-request cost + its fixed costs.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import costcalc
from costcalc.errors import ScenarioError
from costcalc.scenario import load_scenario, read_scenario

from .conftest import REPO


@functools.cache
def full_book():
    """Every bundled provider: OpenAI, Azure OpenAI and Mistral."""
    return costcalc.load_pricebook(REPO / "pricing")


def priced(raw: dict, book=None):
    return costcalc.compare(read_scenario({"schema_version": 1, **raw}), book or full_book())


def traffic(start: str, months: int, *, per_month=None, per_day=None, prompt=1000, completion=100) -> dict:
    volume = {"requests_per_day": per_day} if per_day is not None else {"requests_per_month": per_month}
    return {**volume, "start_month": start, "horizon_months": months, "prompt_tokens": prompt,
            "completion_tokens": completion}


def warnings(result) -> list[tuple[str, str, str]]:
    return [(w.code, w.month.isoformat()[:7] if w.month else None, w.message) for w in result.warnings]


def cents(value: D) -> D:
    return round(value, 2)


# --- hosting per hour: an Azure fine-tune -------------------------------------------------------------


def azure_hosting_scenario(requests: int) -> dict:
    # Base gpt-4.1-mini at OpenAI: $0.40 / $1.60 per 1M (2025-04-14 sheet), 2,000 prompt + 200 completion
    #   = 0.0008 + 0.00032 = $0.00112 a request.
    # Fine-tuned on Azure (global): training $5.00 per 1M, hosting $1.70 an hour, fine-tuned requests at
    #   the base model's rates $0.40 / $1.60: 200 + 200 tokens = 0.00008 + 0.00032 = $0.0004 a request.
    return {
        "baseline": "Base",
        "traffic": traffic("2025-06", 3, per_month=requests, prompt=2000, completion=200),
        "strategies": {
            "Base": {"type": "base", "model": "gpt-4.1-mini"},
            "Azure": {"type": "fine-tuned", "model": "azure/gpt-4.1-mini-2025-04-14", "prompt_tokens": 200,
                      "training_tokens": 1_000_000, "epochs": 1, "hosting_hours_per_month": 730},
        },
    }


def test_an_azure_fine_tune_pays_730_hours_of_hosting_a_month_and_its_break_even_counts_them():
    c = priced(azure_hosting_scenario(1_000_000))
    base, azure = c.strategy("Base"), c.strategy("Azure")
    # 730 h × $1.70 = $1,241.00 of hosting every month, with or without traffic, inside fixed_usd.
    assert [m.hosting_usd for m in azure.months] == [D("1241.00")] * 3
    assert [m.fixed_usd for m in azure.months] == [D("1241.00")] * 3
    # Training once: 1,000,000 tokens × 1 epoch × $5.00 per 1M = $5.00.
    assert [m.training_usd for m in azure.months] == [D(5), D(0), D(0)]
    # 1,000,000 requests a month: base 3 × $1,120.00 = $3,360.00; Azure 3 × $400.00 + $5.00 + 3 × $1,241.00
    # = $4,928.00.
    assert (cents(base.total_usd), cents(azure.total_usd)) == (D("3360.00"), D("4928.00"))
    be = azure.break_even
    assert be.month is None and be.saving_usd == D("-1568.00")
    # Saving $0.00072 a request; hosting and training to repay: $3,723.00 + $5.00 = $3,728.00 over
    # 3 months, so 3,728 / (3 × 0.00072) = 1,725,925.9 → 1,725,926 requests in the first month.
    assert (be.extra_fixed_usd, be.monthly_requests) == (D("3728.00"), 1_725_926)
    assert azure.available and azure.deployment == "global"
    assert "hosting: 1 deployment of the fine-tuned model, billed 730 hours a month it can serve, with or " \
           "without traffic" in azure.billing
    assert any("the deployment is deleted (15 days)" in line for line in azure.billing)


def test_at_the_break_even_traffic_hosting_is_repaid_and_one_request_less_it_is_not():
    at = priced(azure_hosting_scenario(1_725_926))
    below = priced(azure_hosting_scenario(1_725_925))
    assert at.strategy("Azure").total_usd <= at.strategy("Base").total_usd
    assert below.strategy("Azure").total_usd > below.strategy("Base").total_usd


def test_hosting_defaults_to_every_hour_of_the_month_and_counts_each_deployment():
    raw = azure_hosting_scenario(0)
    del raw["strategies"]["Azure"]["hosting_hours_per_month"]
    raw["strategies"]["Azure"]["deployments"] = 2
    azure = priced(raw).strategy("Azure")
    # June 30 days × 24 h = 720 h, July and August 744 h; 2 deployments × hours × $1.70.
    assert [m.hosting_usd for m in azure.months] == [D("2448.00"), D("2529.60"), D("2529.60")]


# --- training per hour, minimum and cap ---------------------------------------------------------------


def rft(model: str, hours: int, start: str = "2025-06") -> dict:
    return {
        "baseline": "Base",
        "traffic": traffic(start, 1, per_month=0),
        "strategies": {
            "Base": {"type": "base", "model": "o4-mini"},
            "RFT": {"type": "fine-tuned", "model": model, "prompt_tokens": 100, "training_hours": hours},
        },
    }


def test_a_reinforcement_fine_tuning_job_of_4_hours_at_100_dollars_an_hour():
    run = priced(rft("o4-mini", 4)).strategy("RFT").trainings[0]
    # OpenAI bills RFT on o4-mini per hour of training: 4 h × $100.00 = $400.00.
    assert (run.training_hours, run.training_per_hour, run.training_usd, run.bound) == (4, D(100), D(400), None)


def test_azure_caps_a_reinforcement_fine_tuning_job_at_5000_dollars():
    run = priced(rft("azure/o4-mini-2025-04-16", 60)).strategy("RFT").trainings[0]
    # 60 h × $100.00 = $6,000.00, over Azure's $5,000 per job: billed $5,000.00.
    assert (run.training_usd, run.bound, run.bound_usd) == (D(5000), "maximum", D(5000))


MISTRAL_SHEET = """\
schema_version = "2.0"
provider = "mistral"
effective = 2024-08-01
currency = "USD"
checked = 2024-08-01
summary = "Our invoice's prices for open-mistral-7b (a test's own sheet)."

[models."open-mistral-7b"]
sources = ["P11"]
[models."open-mistral-7b".standard]
input_per_1m = 0.25
output_per_1m = 0.25
[models."open-mistral-7b".fine_tuning]
training_per_1m = 1.00
minimum_per_job = 4
storage_per_month = 2
sources = ["P11"]
[models."open-mistral-7b".fine_tuned.standard]
input_per_1m = 0.25
output_per_1m = 0.25
"""


def test_a_mistral_job_below_its_4_dollar_minimum_is_billed_4_dollars_and_storage_monthly(tmp_path):
    folder = tmp_path / "pricing"
    shutil.copytree(REPO / "pricing", folder)
    (folder / "mistral" / "2024-08-01.toml").write_text(MISTRAL_SHEET)
    raw = {
        "baseline": "Base",
        "traffic": traffic("2024-09", 2, per_month=1000),
        "strategies": {
            "Base": {"type": "base", "model": "mistral/open-mistral-7b"},
            "FT": {"type": "fine-tuned", "model": "mistral/open-mistral-7b", "prompt_tokens": 100,
                   "training_tokens": 1_000_000, "epochs": 1},
        },
    }
    c = priced(raw, costcalc.load_pricebook(folder))
    ft = c.strategy("FT")
    run = ft.trainings[0]
    # 1,000,000 tokens × 1 epoch × $1.00 per 1M = $1.00, below Mistral's $4 minimum per job: $4.00.
    assert (run.training_usd, run.bound) == (D(4), "minimum")
    # Storage $2.00 a month; 1,000 requests × 200 tokens × $0.25 per 1M = $0.05 a month.
    assert [m.storage_usd for m in ft.months] == [D(2), D(2)]
    assert [m.total_usd for m in ft.months] == [D("6.05"), D("2.05")]
    # Base: 1,000 × 1,100 tokens × $0.25 per 1M = $0.275 a month.
    assert c.strategy("Base").total_usd == D("0.55")


def test_the_bundled_mistral_sheet_has_no_training_price_and_says_so():
    raw = {"traffic": traffic("2024-09", 1, per_month=0),
           "strategies": {"FT": {"type": "fine-tuned", "model": "mistral/open-mistral-7b",
                                 "training_tokens": 1000}}}
    with pytest.raises(ScenarioError) as error:
        priced(raw)
    assert str(error.value) == (
        "scenario: strategies.FT.model: open-mistral-7b has no training price (per token or per training hour) "
        "in the price sheet effective 2024-07-24 (in force on 2024-09-01): write your own sheet with the price "
        "you pay (see pricing/README.md)")


# --- lifecycle: shutdowns and the wind-down ------------------------------------------------------------


def crossing(customer: str) -> dict:
    # 2026-09 to 2027-02, 1,000 requests a day, 1,000 prompt + 100 completion tokens.
    return {
        "baseline": "Base",
        "fine_tuning_customer": customer,
        "traffic": traffic("2026-09", 6, per_day=1000),
        "strategies": {
            "Base": {"type": "base", "model": "gpt-5.4-mini"},
            "Old": {"type": "base", "model": "gpt-3.5-turbo-0125"},
            "FT": {"type": "fine-tuned", "model": "gpt-4.1-mini", "prompt_tokens": 100,
                   "training_tokens": 1_000_000, "epochs": 1, "retrain_every_months": 5},
        },
    }


def test_a_horizon_crossing_a_shutdown_and_the_wind_down_says_what_cannot_happen():
    c = priced(crossing("existing"))
    base, old, ft = c.strategy("Base"), c.strategy("Old"), c.strategy("FT")
    # gpt-3.5-turbo-0125 ($0.50 / $1.50: $0.00065 a request) answers until 2026-10-22: 30 days of
    # September and 22 of October, 52,000 requests × $0.00065 = $33.80; nothing after.
    assert [m.served_days for m in old.months] == [30, 22, 0, 0, 0, 0]
    assert old.total_usd == D("33.80") and not old.available
    assert warnings(old)[0] == (
        "model_shut_down", "2026-10", "gpt-3.5-turbo-0125 is shut down from 2026-10-23: the strategy cannot be "
        "served from that day")
    # Fine-tuned gpt-4.1-mini: trained in 2026-09 (an existing customer may, until 2027-01-06) for
    # 1,000,000 tokens × $5.00 per 1M = $5.00; served until its shutdown on 2027-01-14 (13 days of
    # January): 135,000 requests × (100 × $0.80 + 100 × $3.20 per 1M = $0.0004) = $54.00. The 2027-02
    # retraining cannot happen: OpenAI takes no jobs from anyone from 2027-01-06.
    assert [m.served_days for m in ft.months] == [30, 31, 30, 31, 13, 0]
    assert [m.training_usd for m in ft.months] == [D(5), 0, 0, 0, 0, 0]
    assert ft.total_usd == D("59.00") and not ft.available
    assert [m.training_open for m in ft.months] == [True, True, True, True, True, False]
    assert warnings(ft) == [
        ("prices_carried_forward", "2026-12", "from 2026-12 the OpenAI prices are the newest sheet's (2026-11-22), "
                                              "carried forward past the day they were last checked (2026-12-02)"),
        ("model_shut_down", "2027-01", "the fine-tuned gpt-4.1-mini-2025-04-14 is shut down from 2027-01-14: "
                                       "the strategy cannot be served from that day"),
        ("fine_tuning_closed", "2027-02", "OpenAI takes no new fine-tuning jobs from 2027-01-06; the 2027-02 "
                                          "retraining cannot happen"),
    ]
    assert [(e.day, e.kind) for e in ft.events] == [(dt.date(2027, 1, 14), "shutdown"),
                                                     (dt.date(2027, 1, 6), "fine_tuning_closed")]
    # The baseline, $0.75 / $4.50 per 1M ($0.0012 a request), serves all 181 days: 181,000 × 0.0012.
    assert base.total_usd == D("217.20") and base.available
    # Neither unavailable strategy is called the cheapest, though both cost less than the baseline.
    assert c.cheapest.name == "Base"
    assert c.answer().endswith("Cheapest over 6 months: Base ($217.20).")
    assert "Fine-tuning gpt-4.1-mini cannot be bought for the whole horizon: the fine-tuned " \
           "gpt-4.1-mini-2025-04-14 is shut down from 2027-01-14" in c.answer()


def test_a_new_customer_cannot_start_the_first_training_run():
    ft = priced(crossing("new")).strategy("FT")
    assert ft.trainings == () and ft.total_usd == 0 and not ft.available
    assert [m.served_days for m in ft.months] == [0] * 6
    assert [w.message for w in ft.warnings if w.code == "fine_tuning_closed"] == [
        'OpenAI takes fine-tuning jobs only from organisations that fine-tuned before, from 2026-05-07 '
        '(fine_tuning_customer = "new"); the 2026-09 training cannot happen',
        "OpenAI takes no new fine-tuning jobs from 2027-01-06; the 2027-02 training cannot happen",
    ]


def test_the_json_contract_has_availability_warnings_hosting_and_storage():
    data = json.loads(json.dumps(priced(crossing("existing")).to_dict(), default=costcalc.render.json_default))
    ft = data["strategies"][2]
    assert (ft["name"], ft["available"]) == ("FT", False)
    assert {w["code"] for w in ft["warnings"]} == {"prices_carried_forward", "model_shut_down",
                                                   "fine_tuning_closed"}
    assert {"hosting_usd", "storage_usd", "served_days"} <= set(ft["months"][0])
    assert ft["months"][0]["hosting_usd"] == "0"
    # The training run that cannot happen contributes no training_usd.
    assert [m["training_usd"] for m in ft["months"]] == ["5", "0", "0", "0", "0", "0"]
    assert [(w["strategy"], w["code"]) for w in data["warnings"]][:2] == [
        ("Base", "prices_carried_forward"), ("Old", "model_shut_down")]


# --- migrations -----------------------------------------------------------------------------------------


def test_a_base_strategy_migrates_in_the_month_its_model_shuts_down():
    raw = {"baseline": "Old", "traffic": traffic("2026-09", 3, per_day=1000),
           "strategies": {"Old": {"type": "base", "model": "gpt-3.5-turbo-0125", "migrate_to": "gpt-5.4-nano"}}}
    old = priced(raw).strategy("Old")
    # September on 0125: 30,000 × $0.00065 = $19.50; October and November on gpt-5.4-nano ($0.20 / $1.25:
    # 0.0002 + 0.000125 = $0.000325 a request): 61,000 × 0.000325 = $19.825. Total $39.325.
    assert old.total_usd == D("39.325") and old.available
    assert [m.snapshots for m in old.months] == [("gpt-3.5-turbo-0125",), ("gpt-5.4-nano-2026-03-17",),
                                                 ("gpt-5.4-nano-2026-03-17",)]
    assert warnings(old) == [("migrated", "2026-10", "from 2026-10 served by gpt-5.4-nano: gpt-3.5-turbo-0125 "
                                                     "is shut down from 2026-10-23")]


def test_a_fine_tune_migrates_to_azure_and_trains_there():
    raw = {"baseline": "FT", "fine_tuning_customer": "existing", "traffic": traffic("2026-12", 3, per_day=1000),
           "strategies": {"FT": {"type": "fine-tuned", "model": "gpt-4.1-mini", "prompt_tokens": 100,
                                 "training_tokens": 1_000_000, "epochs": 1,
                                 "migrate_to": "azure/gpt-4.1-mini-2025-04-14"}}}
    ft = priced(raw).strategy("FT")
    # December at OpenAI: training $5.00 + 31,000 × $0.0004 = $17.40.
    # January on Azure (the OpenAI model shuts down on 2027-01-14): training there 1,000,000 × $5.00 per 1M
    # = $5.00, 31,000 × (100 × $0.40 + 100 × $1.60 per 1M = $0.0002) = $6.20, hosting 744 h × $1.70
    # = $1,264.80: $1,276.00. February: 28,000 × 0.0002 = $5.60 + 672 h × $1.70 = $1,142.40: $1,148.00.
    assert [m.total_usd for m in ft.months] == [D("17.40"), D("1276.00"), D("1148.00")]
    assert [(r.month.isoformat()[:7], r.snapshot, r.training_usd) for r in ft.trainings] == [
        ("2026-12", "gpt-4.1-mini-2025-04-14", D(5)), ("2027-01", "azure/gpt-4.1-mini-2025-04-14", D(5))]
    assert ft.available
    assert ("migrated", "2027-01", "from 2027-01 served by azure/gpt-4.1-mini-2025-04-14, trained on it in the "
                                   "same month: gpt-4.1-mini-2025-04-14 is shut down from 2027-01-14") in warnings(ft)


# --- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy, message", [
    ({"type": "fine-tuned", "model": "azure/gpt-4.1-mini-2025-04-14", "deployment": "data_zone",
      "training_tokens": 1000},
     "strategies.S.deployment: azure/gpt-4.1-mini-2025-04-14 has no 'data_zone' in the price sheet effective "
     "2025-05-01; its fine-tuned deployments: developer, global, regional"),
    ({"type": "fine-tuned", "model": "gpt-4.1-mini", "training_hours": 3},
     "strategies.S.training_hours: gpt-4.1-mini-2025-04-14 is billed per training token (training_per_1m), not "
     "per hour: give training_file or training_tokens instead"),
    ({"type": "fine-tuned", "model": "o4-mini", "training_tokens": 1000},
     "strategies.S.training_tokens: o4-mini-2025-04-16 is billed per training hour ($100 an hour), not per "
     "token: give training_hours, the hours one run takes"),
    ({"type": "base", "model": "gpt-4.1-mini", "migrate_to": "gpt-3.5-turbo-0613", "migrate_month": "2025-06"},
     "strategies.S.migrate_to: gpt-3.5-turbo-0613 is itself shut down from 2024-09-13, so it cannot take over in "
     "2025-06"),
    ({"type": "base", "model": "azure/gpt-9"},
     "strategies.S.model: unknown model 'gpt-9' in the price sheet effective 2025-05-01"),
])
def test_what_cannot_be_bought_is_an_error_naming_the_key(strategy, message):
    raw = {"traffic": traffic("2025-06", 1, per_month=10), "strategies": {"S": strategy}}
    with pytest.raises(ScenarioError) as error:
        priced(raw)
    assert str(error.value).startswith("scenario: " + message)


@pytest.mark.parametrize("key, value, message", [
    ("deployments", -1, "strategies.S.deployments: must be a whole number of deployments from 1 to 10,000, not -1"),
    ("deployments", 0, "strategies.S.deployments: must be a whole number of deployments from 1 to 10,000, not 0"),
    ("hosting_hours_per_month", 745, "strategies.S.hosting_hours_per_month: must be at most 744 hours, not 745"),
    ("training_hours", -2, "strategies.S.training_hours: must be 0 or more, not -2"),
])
def test_negative_deployments_or_hours_are_refused(key, value, message):
    raw = {"traffic": traffic("2025-06", 1, per_month=10),
           "strategies": {"S": {"type": "fine-tuned", "model": "o4-mini", key: value, "training_hours": 1}
                          if key != "training_hours" else {"type": "fine-tuned", "model": "o4-mini", key: value}}}
    with pytest.raises(ScenarioError) as error:
        read_scenario({"schema_version": 1, **raw})
    assert message in str(error.value)


# --- properties -----------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(start=st.integers(0, 8), horizon=st.integers(1, 12), requests=st.integers(0, 3_000_000),
       hours=st.integers(0, 744), deployments=st.integers(1, 3), growth=st.integers(0, 10))
def test_break_even_agrees_with_the_cumulative_series_with_hosting(start, horizon, requests, hours, deployments,
                                                                   growth):
    # From 2025-05 to at most 2026-12: OpenAI gpt-4.1-mini (from 2025-04-14, shut down 2027-01-14) and Azure
    # gpt-4.1-mini (hosting priced from 2025-04-01) are both inside their lifecycle.
    year, month = divmod(4 + start, 12)
    raw = azure_hosting_scenario(requests)
    raw["traffic"].update(start_month=f"{2025 + year}-{month + 1:02d}", horizon_months=horizon,
                          monthly_growth_pct=growth)
    raw["strategies"]["Azure"].update(hosting_hours_per_month=hours, deployments=deployments)

    def run(n):
        body = dict(raw, traffic=dict(raw["traffic"], requests_per_month=n))
        return priced(body)

    c = run(requests)
    base, azure, be = c.strategy("Base"), c.strategy("Azure"), c.strategy("Azure").break_even
    first = next((i for i, (a, b) in enumerate(zip(azure.months, base.months))
                  if a.cumulative_usd <= b.cumulative_usd and (a.cumulative_usd or b.cumulative_usd)), None)
    assert be.month_number == (None if first is None else first + 1)
    assert sum(m.hosting_usd for m in azure.months) == sum(
        deployments * m.served_days * D(hours) / m.days * D("1.70") for m in azure.months)
    if be.monthly_requests:
        assert run(be.monthly_requests).strategy("Azure").total_usd <= run(be.monthly_requests).strategy("Base").total_usd
        below = run(be.monthly_requests - 1)
        assert below.strategy("Azure").total_usd > below.strategy("Base").total_usd


@settings(max_examples=25, deadline=None)
@given(start=st.integers(0, 15), horizon=st.integers(1, 12), requests=st.integers(0, 1_000_000))
def test_with_no_lifecycle_event_and_no_fixed_fee_nothing_changes(start, horizon, requests):
    # gpt-4o-mini from 2024-09 to at most 2026-12: fine-tunable throughout by an existing customer, shut
    # down only in 2027, no hosting or storage at OpenAI: every month served, no warning but prices
    # carried forward past their last check.
    year, month = divmod(8 + start, 12)
    raw = {"fine_tuning_customer": "existing",
           "traffic": traffic(f"{2024 + year}-{month + 1:02d}", horizon, per_month=requests),
           "strategies": {"Base": {"type": "base", "model": "gpt-4o-mini"},
                          "FT": {"type": "fine-tuned", "model": "gpt-4o-mini", "prompt_tokens": 100,
                                 "training_tokens": 100_000, "epochs": 1, "retrain_every_months": 6}}}
    c = priced(raw)
    for s in c.strategies:
        assert s.available and all(m.served for m in s.months)
        assert all(m.hosting_usd == m.storage_usd == 0 for m in s.months)
        assert {w.code for w in s.warnings} <= {"prices_carried_forward"}
        assert len(s.trainings) == (len(range(0, horizon, 6)) if s.type == "fine-tuned" else 0)
        # Each month is requests × its per-request cost + training: nothing else was added.
        for m, r in zip(s.months, s.rates):
            assert m.total_usd == m.requests * r.request_usd(s.tokens) + r.training_usd


def test_the_2026_example_answers_why_and_names_the_cheapest_it_can_buy():
    c = costcalc.compare(load_scenario(example="2026"), full_book())
    assert [s.name for s in c.strategies if not s.available] == [
        "Fine-tuned gpt-4.1-mini", "Fine-tuned gpt-4.1-mini, then Azure", "Fine-tuned gpt-4.1-mini on Azure"]
    assert c.cheapest.name == "Base gpt-5.6-luna"
    answer = c.answer()
    assert "Fine-tuned gpt-4.1-mini on Azure (fine-tuning azure/gpt-4.1-mini-2025-04-14) cannot be bought for " \
           "the whole horizon: Azure OpenAI takes no fine-tuning jobs on gpt-4.1-mini-2025-04-14 from 2027-04-14; " \
           "the 2027-06 and 2027-09 retrainings cannot happen" in answer
    assert answer.endswith("Cheapest over 12 months: Base gpt-5.6-luna ($1,926.09).")


# --- tiers, cache writes, flex and priority ---------------------------------------------------------------


def luna(prompt: int, cached: D = D("0.5"), **shares) -> D:
    raw = {"traffic": {**traffic("2026-08", 1, per_month=1000, prompt=prompt), "cached_share": cached, **shares},
           "strategies": {"Luna": {"type": "base", "model": "gpt-5.6-luna"}}}
    (s,) = priced(raw).strategies
    return s.total_usd


def test_cache_writes_cost_the_write_price_on_the_cacheable_tokens_not_served_from_the_cache():
    # gpt-5.6-luna (2026-07-30 sheet): input $0.20, cached $0.02, cache write $0.25, output $1.20 per 1M.
    # A 2,048-token prompt is all cacheable; half the requests hit the cache (1,024 tokens a request on
    # average at the cached price) and the other 1,024 are written at the write price:
    #   1,024 × 0.25 + 1,024 × 0.02 = 256 + 20.48 = 276.48 per 1M requests-tokens, + 100 × 1.20 = 120
    #   -> $0.00039648 a request, × 1,000 requests = $0.39648.
    assert luna(2048) == D("0.39648")


def test_a_prompt_above_272k_tokens_pays_the_long_context_tier():
    # 300,000 prompt tokens, above 272,000: input $0.40, cached $0.04, output $1.80 per 1M; the tier lists
    # no write price, so a write costs 1.25x the tier's input, $0.50. Cacheable: 300,000 (a 128-multiple
    # above 1,024: 299,904); cached 149,952, written 149,952, and 96 tokens past the last increment at input:
    #   149,952 × 0.04 + 149,952 × 0.50 + 96 × 0.40 + 100 × 1.80 = 5,998.08 + 74,976 + 38.4 + 180
    #   = 81,192.48 per 1M -> $0.08119248 a request, × 1,000 = $81.19248.
    assert luna(300_000) == D("81.19248")


def test_flex_and_priority_shares_pay_their_tiers_prices():
    # gpt-5.4 (2026-03-05 sheet): standard $2.50 / $15.00, flex $1.25 / $7.50, priority $5.00 / $30.00 per 1M;
    # 1,000 prompt + 100 completion tokens: standard $0.004, flex $0.002, priority $0.008 a request.
    # 1,000 requests, 50% flex and 25% priority: 250 × 0.004 + 500 × 0.002 + 250 × 0.008 = 1 + 1 + 2 = $4.00.
    raw = {"traffic": {**traffic("2026-04", 1, per_month=1000), "flex_share": D("0.5"), "priority_share": D("0.25")},
           "strategies": {"Sol": {"type": "base", "model": "gpt-5.4"}}}
    assert priced(raw).strategies[0].total_usd == D("4.00")


def test_a_share_of_a_tier_the_model_lacks_names_the_key():
    raw = {"traffic": {**traffic("2025-06", 1, per_month=10), "flex_share": D("0.5")},
           "strategies": {"Mini": {"type": "base", "model": "gpt-4.1-mini"}}}
    with pytest.raises(ScenarioError) as error:
        priced(raw)
    assert str(error.value) == (
        "scenario: traffic.flex_share: no flex input price for gpt-4.1-mini-2025-04-14 in the price sheet effective "
        "2025-04-14 (the price sheets list no flex price for this model: set the share to 0 or pick another model)")


def test_the_readme_quotes_the_2026_answer_as_it_is():
    text = (REPO / "README.md").read_text()
    block = text.split("costcalc scenario init --preset 2026 today.toml")[1].split("```\n")[2]
    answer = costcalc.compare(load_scenario(example="2026"), full_book()).answer()
    pieces = [piece.strip(" ;.\n") for piece in block.split("...")]
    assert len(pieces) == 3 and all(piece and piece in answer for piece in pieces)


# --- the CLI ----------------------------------------------------------------------------------------------


@pytest.fixture
def cli(runner, monkeypatch):
    from costcalc.cli import cli as command

    monkeypatch.setenv("COSTCALC_PRICING_DIR", str(REPO / "pricing"))
    return lambda *args: runner.invoke(command, list(args), catch_exceptions=False)


def test_compare_example_2026_prints_the_answer_and_the_warnings(cli):
    result = cli("compare", "--example", "2026")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Fine-tuned gpt-4.1-mini (fine-tuning gpt-4.1-mini) cannot be bought for the whole "
                               "horizon: the fine-tuned gpt-4.1-mini-2025-04-14 is shut down from 2027-01-14")
    assert "Fine-tuned gpt-4.1-mini on Azure     fine-tuned  azure/gpt-4.1-mini-2025-04-14  $15,567.81" in result.stdout
    assert "unavailable from 2027-06" in result.stdout
    assert ("Warning: Fine-tuned gpt-4.1-mini, then Azure: from 2027-01 served by azure/gpt-4.1-mini-2025-04-14, "
            "trained on it in the same month: gpt-4.1-mini-2025-04-14 is shut down from 2027-01-14.") in lines
    data = json.loads(cli("compare", "--example", "2026", "--format", "json").stdout)
    assert [s["available"] for s in data["strategies"]] == [True, True, False, False, False, True, True]


def test_a_new_customer_flag_closes_openai_training(cli):
    data = json.loads(cli("compare", "--example", "2026", "--fine-tuning-customer", "new", "--format", "json").stdout)
    ft = data["strategies"][2]
    assert ft["training"]["runs"] == [] and ft["total_usd"] == "0"
    assert ft["warnings"][0]["message"].startswith("OpenAI takes fine-tuning jobs only from organisations that "
                                                   "fine-tuned before, from 2026-05-07")


def test_the_2026_preset_is_the_example_and_an_example_with_a_file_is_refused(cli, tmp_path, monkeypatch):
    from costcalc.scenario import EXAMPLES

    assert cli("scenario", "init", "--preset", "2026", "-").stdout == EXAMPLES["2026"].read_text()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(EXAMPLES["2026"].read_text())
    result = cli("compare", "s.toml", "--example", "2026")
    assert (result.exit_code, result.stderr) == (2, "Error: --example 2026: give a SCENARIO or --example, not both\n")


def test_keys_that_change_nothing_are_said():
    raw = {"traffic": traffic("2025-06", 2, per_month=10),
           "strategies": {"FT": {"type": "fine-tuned", "model": "gpt-4.1-mini", "training_tokens": 1000,
                                 "deployments": 3, "migrate_to": "gpt-5-mini"}}}
    (ft,) = priced(raw).strategies
    # OpenAI bills no hosting, and gpt-4.1-mini serves until 2027-01-14: nothing to migrate from.
    assert ft.billing == (
        "deployments and hosting_hours_per_month change nothing: OpenAI lists no hosting fee for "
        "gpt-4.1-mini-2025-04-14",
        "migrate_to gpt-5-mini: not needed, the model serves the whole horizon")
