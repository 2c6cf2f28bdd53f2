"""What `costcalc compare` shows in every format when the input is unusual: another currency, two
fine-tuned strategies, a newline in a name, no traffic, a title of a million characters (issue 9)."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from decimal import Decimal
from pathlib import Path

import pytest

import costcalc

from .conftest import FOUR_STRATEGIES

EXAMPLE_ANSWER = (
    "Fine-tuning gpt-3.5-turbo-0613 breaks even in 2023-12 (month 4) and saves $215.43 over 12 months vs "
    "Base GPT-3.5 Turbo; GPT-4 costs 33.9× as much and Retrieval (RAG) 14% less. "
    "Cheapest over 12 months: Retrieval (RAG) ($3,378.55)."
)

# Two fine-tuned strategies of the same model, 30,000 requests a month from 2023-10 for 3 months.
TWO_FINE_TUNED = """\
schema_version = 1
baseline = "Base"

[traffic]
requests_per_month = 30_000
start_month = "2023-10"
horizon_months = 3
prompt_tokens = 2_000
completion_tokens = 200

[strategies.Base]
type = "base"
model = "gpt-3.5-turbo"

[strategies."Short prompt"]
type = "fine-tuned"
model = "gpt-3.5-turbo"
prompt_tokens = 100
training_tokens = 100_000
epochs = 3

[strategies."Long prompt"]
type = "fine-tuned"
model = "gpt-3.5-turbo"
prompt_tokens = 1_900
training_tokens = 100_000
epochs = 3

[strategies."GPT-4"]
type = "base"
model = "gpt-4"
"""


@pytest.fixture
def scenario(scenario_file):
    return lambda text=FOUR_STRATEGIES: scenario_file(text).name


# --- another currency: every format says which ----------------------------------------------------


def test_summary_csv_names_the_currency_in_the_money_headers(run):
    result = run("compare", "--currency", "EUR", "--fx-rate", "0.92", "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["strategy", "type", "model", "total (EUR)", "per 1K requests (EUR)", "vs baseline (EUR)",
                       "break-even"]
    usd = json.loads(run("compare", "--format", "json").output)
    # The amounts are the USD totals × 0.92 (to the 28 digits of Decimal): 3,940.61... USD is 3,625.36... EUR.
    eur = Decimal(usd["strategies"][0]["total_usd"]) * Decimal("0.92")
    assert abs(Decimal(rows[1][3]) - eur) < Decimal("1e-20") and rows[1][3].startswith("3625.3646130")
    assert rows[1][5] == "baseline"


def test_monthly_csv_names_the_currency_in_the_money_headers(run):
    result = run("compare", "--monthly", "--currency", "EUR", "--fx-rate", "0.92", "--format", "csv")
    assert result.output.splitlines()[0] == (
        "strategy,month,requests,input (EUR),output (EUR),retrieval (EUR),training (EUR),fixed (EUR),"
        "total (EUR),cumulative (EUR)")
    # 100,000 requests × 2,500 prompt tokens × $1.50 per 1M = $375.00 of input = 345 EUR at 0.92.
    assert result.output.splitlines()[1] == "Base GPT-3.5 Turbo,2023-09,100000,345,27.6,0,0,0,372.6,372.6"


def test_usd_csv_headers_are_unchanged(run):
    assert run("compare", "--format", "csv").output.splitlines()[0] == (
        "strategy,type,model,total,per 1K requests,vs baseline,break-even")
    assert run("compare", "--monthly", "--format", "csv").output.splitlines()[0] == (
        "strategy,month,requests,input,output,retrieval,training,fixed,total,cumulative")


@pytest.mark.parametrize("monthly", [(), ("--monthly",)])
def test_markdown_says_the_currency(run, monthly):
    text = run("compare", *monthly, "--currency", "EUR", "--fx-rate", "0.92", "--format", "markdown").output
    assert "Totals over 12 months (2023-09 to 2024-08) in EUR, training and fixed costs included" in text
    assert "Amounts in EUR at 0.92 EUR per USD; they are computed in USD, and the JSON output keeps USD." in text
    assert "| Base GPT-3.5 Turbo | base       | gpt-3.5-turbo      |   €3,625.36 |" in text
    assert ("### Month by month (EUR)" in text) == bool(monthly)
    assert "$" not in text.split("### Assumptions")[0]  # no amount in the summary left in USD


# --- two fine-tuned strategies ------------------------------------------------------------------------


def test_the_answer_names_each_fine_tuned_strategy(run, scenario):
    # Base: 30,000 × (2,000 × $1.50 + 200 × $2.00) / 1M = $102.00 a month, $306.00 over 3 months.
    # Short prompt: 2023-10 at $12/$16 per 1M: 30,000 × (100 × 12 + 200 × 16) / 1M = $132.00; from
    # 2023-11-06 at $3/$6: $45.00 a month, so November is 132 × 5/30 + 45 × 25/30 = $59.50; with
    # 100,000 × 3 × $8 / 1M = $2.40 of training: $238.90, $67.10 less; cumulative $193.90 ≤ $204.00
    # in month 2. Long prompt: 30,000 × (1,900 × 12 + 200 × 16) / 1M = $780.00 in October, so each
    # request costs more than the baseline's: it never pays off.
    result = run("compare", scenario(TWO_FINE_TUNED))
    assert result.output.splitlines()[0] == (
        "Short prompt (fine-tuning gpt-3.5-turbo) breaks even in 2023-11 (month 2) and saves $67.10 over "
        "3 months vs Base; Long prompt (fine-tuning gpt-3.5-turbo) never pays off vs Base: a fine-tuned "
        "request costs $0.0143 vs $0.0034 for the baseline, so no traffic repays the training fee; GPT-4 "
        "costs 21.2× as much. Cheapest over 3 months: Short prompt ($238.90).")


def test_json_has_a_break_even_per_strategy_and_the_first_at_the_top(run, scenario):
    data = json.loads(run("compare", scenario(TWO_FINE_TUNED), "--format", "json").output)
    be = {s["name"]: s["break_even"] for s in data["strategies"]}
    assert be["Base"] is None
    assert (be["Short prompt"]["strategy"], be["Short prompt"]["month"], be["Short prompt"]["saving_usd"]) == (
        "Short prompt", "2023-11", "67.1")
    assert (be["Long prompt"]["strategy"], be["Long prompt"]["month"], be["Long prompt"]["monthly_requests"]) == (
        "Long prompt", None, None)
    assert be["GPT-4"]["strategy"] == "GPT-4"
    assert data["break_even"] == be["Short prompt"]


def test_one_fine_tuned_strategy_keeps_the_sentence(run):
    assert run("compare").output.splitlines()[0] == EXAMPLE_ANSWER


# --- no traffic ----------------------------------------------------------------------------------------


def test_zero_requests_calls_nothing_free(run):
    line = run("compare", "--requests-per-month", "0").output.splitlines()[0]
    # With no requests only fixed costs remain: upkeep 12 × $50 + 4 training runs × $0.119 = $600.48,
    # vector database 12 × $70 + 12 corpus embeddings × $0.50 = $846.00; GPT-4 costs $0 as the baseline does.
    assert line == (
        "Fine-tuning gpt-3.5-turbo-0613 does not break even within 12 months at 0 requests a month (it needs "
        "73,597) and costs $600.48 more than Base GPT-3.5 Turbo; GPT-4 costs nothing more and Retrieval (RAG) "
        "$846.00 more. Cheapest over 12 months: Base GPT-3.5 Turbo ($0.00).")


# --- a control character in a name --------------------------------------------------------------------


NEWLINE_NAME = FOUR_STRATEGIES.replace('[strategies."GPT-4"]', '[strategies."GPT-4\\nlarge"]').replace(
    'baseline = "Base"', 'title = "Two\\nlines"\nbaseline = "Base"')


def test_a_newline_in_a_name_does_not_break_a_table_row(run, scenario):
    name = scenario(NEWLINE_NAME)
    table = run("compare", name, "--monthly").output.splitlines()
    assert [line.split()[:3] for line in table if line.startswith("GPT-4 large")][:2] == [
        ["GPT-4", "large", "base"], ["GPT-4", "large:", "a"]]
    assert sum(line.startswith("GPT-4 large  2023-") for line in table) == 3  # one row a month
    assert any(line.startswith("scenario ") and line.endswith("scenario.toml: Two lines") for line in table)
    markdown = run("compare", name, "--format", "markdown").output.splitlines()
    assert any(re.match(r"\| GPT-4 large +\| base +\| gpt-4 +\| +\$[\d,.]+ \|", line) for line in markdown)
    rows = run("compare", name, "--format", "csv").output.splitlines()
    assert len(rows) == 5 and rows[3].startswith("GPT-4 large,base,gpt-4,")
    monthly = run("compare", name, "--monthly", "--format", "csv").output.splitlines()
    assert len(monthly) == 1 + 4 * 3
    # The JSON keeps the name as it was written.
    data = json.loads(run("compare", name, "--format", "json").output)
    assert [s["name"] for s in data["strategies"]][2] == "GPT-4\nlarge"
    assert data["title"] == "Two\nlines"


# --- rounding --------------------------------------------------------------------------------------------


ROUNDING_NOTE = ("Each amount is rounded on its own; the components may not add up to the total, nor the "
                 "totals to the cumulative, by a cent.")


def test_the_monthly_table_says_when_rounded_amounts_do_not_add_up(run, scenario):
    lines = run("compare", "--monthly").output.splitlines()
    # 2023-11: 110,250 requests; input 110,250 × 2,500 × $1.50 / 1M = $413.4375, output 110,250 × 150 ×
    # $2 / 1M = $33.075: shown $413.44 + $33.08 = $446.52, the total $446.5125 shown $446.51.
    row = next(line for line in lines if line.startswith("Base GPT-3.5 Turbo  2023-11"))
    assert row.split()[5:8] == ["$413.44", "$33.08", "$0.00"] and row.split()[-2] == "$446.51"
    assert lines[-1] == ROUNDING_NOTE
    # Every amount of FOUR_STRATEGIES' GPT-4 ... and the others are whole cents: no note.
    assert ROUNDING_NOTE not in run("compare", scenario(TWO_FINE_TUNED), "--monthly").output


# --- paths ------------------------------------------------------------------------------------------------


def test_reports_name_no_absolute_path_into_the_installation(example_report):
    from costcalc.report import markdown

    installed = str(Path(costcalc.__file__).resolve().parent.parent)
    text = markdown(example_report, [f"{name}.png" for name in example_report.chart_names()])
    assert installed not in text
    # (The tests load the bundled sheets from pricing/openai.)
    assert re.search(r"\n\| prices from +\| the bundled price sheets \(openai\) +\|\n", text)
    assert "checked 2026-11-22; from the bundled price sheets (openai)." in text
    assert re.search(r"\n\| file +\| examples/example-train.jsonl \(bundled with costcalc\) \| 24,583 bytes", text)


# --- a huge title -----------------------------------------------------------------------------------------


def test_a_million_character_title_is_shortened_on_screen_and_kept_in_json(run, scenario):
    title = "x" * 1_000_000
    name = scenario(FOUR_STRATEGIES.replace('baseline = "Base"', f'title = "{title}"\nbaseline = "Base"'))
    start = time.perf_counter()
    table = run("compare", name).output
    seconds = time.perf_counter() - start
    assert seconds < 10  # 74 s before table cells were shortened (tabulate's wrapping is quadratic)
    assert max(len(line) for line in table.splitlines()) < 400
    # The title's cell holds 2,000 characters, wrapped at 90, the last of them "…".
    assert table.count("x") < 2_000 and "x…" in table
    markdown = run("compare", name, "--format", "markdown").output
    assert len(markdown) < 100_000  # not every row padded to a million characters
    assert json.loads(run("compare", name, "--format", "json").output)["title"] == title
