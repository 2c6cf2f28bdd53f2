"""`costcalc usage` and `compare --usage` on the usage example shipped with the package, as the README
shows them. The example's figures: three months of daily Usage API buckets on gpt-4o-mini-2024-07-18
(31,000, 33,000 and 37,510 requests; 1,200 input tokens a request of which 512 cached; 300 output; 10%
of requests through the Batch API) and the Costs API pages that billed them.
"""

from __future__ import annotations

import json
import re
import shlex
from decimal import Decimal as D

import pytest

from costcalc.scenario import EXAMPLES_DIR

from .conftest import REPO

USAGE = EXAMPLES_DIR / "usage"


@pytest.fixture
def cli(runner, monkeypatch):
    from costcalc.cli import cli as command

    monkeypatch.chdir(REPO)  # the README's commands name the example by its path in the repository
    monkeypatch.setenv("COSTCALC_PRICING_DIR", str(REPO / "pricing"))
    return lambda *args: runner.invoke(command, list(args), catch_exceptions=False)


def test_usage_replays_each_month_and_reconciles_with_the_costs_file(cli):
    result = cli("usage", str(USAGE / "usage-completions.json"), str(USAGE / "costs.json"), "--format", "json")
    data = json.loads(result.stdout)
    october = data["rows"][0]
    assert {k: october[k] for k in ("month", "model", "requests", "input_tokens", "cached_input_tokens",
                                    "output_tokens", "batch_requests")} == {
        "month": "2024-10", "model": "gpt-4o-mini-2024-07-18", "requests": 31000, "input_tokens": 37_200_000,
        "cached_input_tokens": 15_872_000, "output_tokens": 9_300_000, "batch_requests": 3100}
    # The example's Costs pages bill each month what the replay prices (tests/test_usage.py works the
    # replay out by hand on smaller histories): no difference, no line item named.
    assert D(october["cost_usd"]) == D(data["billed_usd"]["2024-10"])
    assert data["difference_usd"] == {"2024-10": "0", "2024-11": "0", "2024-12": "0"}
    assert D(data["total_usd"]) == sum(D(v) for v in data["billed_usd"].values())
    table = cli("usage", str(USAGE / "usage-completions.json"), str(USAGE / "costs.json")).stdout
    assert "Replayed beside what OpenAI billed (Costs API)" in table and "Every line item agrees." in table


def test_usage_draws_the_monthly_cost_chart(cli, tmp_path):
    target = tmp_path / "monthly.png"
    result = cli("usage", str(USAGE / "usage-completions.json"), "-o", str(target))
    assert result.exit_code == 0 and f"Wrote {target}" in result.stdout
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = cli("usage", str(USAGE / "usage-completions.json"), "-o", str(tmp_path / "x.pdf"))
    assert (bad.exit_code, bad.stderr) == (2, f"Error: -o {tmp_path / 'x.pdf'}: the chart is a PNG: give a path "
                                              "ending in .png\n")


def test_compare_with_usage_takes_its_traffic_from_the_history(cli):
    result = cli("compare", str(USAGE / "scenario.toml"), "--usage", str(USAGE / "usage-completions.json"),
                 "--format", "json")
    data = json.loads(result.stdout)
    traffic, measured = data["assumptions"]["traffic"], data["assumptions"]["measured_traffic"]
    # The last full month is 2024-12 (37,510 requests); growth fitted on 31,000, 33,000, 37,510: 10.00%;
    # the forecast's first month, 2025-01, is one month of it on: 37,510 × 1.10 = 41,261.
    assert (traffic["requests_per_month"], traffic["start_month"], traffic["prompt_tokens"],
            traffic["completion_tokens"], traffic["batch_share"]) == ("41261", "2025-01", "1200", "300", "0.1")
    assert traffic["monthly_growth_pct"] == measured["monthly_growth_pct"] == "10"
    # 512 of 1,200 input tokens a request are cached (42.67%); the cache can serve 1,152 of a
    # 1,200-token prompt (1,024 + one 128-token step), so 512 / 1,152 = 0.4444 of cacheable prompts.
    assert traffic["cached_share"] == "0.4444"
    assert [f["requests"] for f in measured["fit"]] == [31000, 33000, 37510]


def test_flags_still_override_the_measured_traffic(cli):
    data = json.loads(cli("compare", str(USAGE / "scenario.toml"), "--usage", str(USAGE / "usage-completions.json"),
                          "--growth", "2", "--format", "json").stdout)
    assert data["assumptions"]["traffic"]["monthly_growth_pct"] == "2"


def test_usage_of_another_model_than_the_baseline_is_named(cli):
    result = cli("compare", "--usage", str(USAGE / "usage-completions.json"))
    assert (result.exit_code, result.stderr) == (
        2, "Error: --usage: no traffic of the baseline's model gpt-3.5-turbo in the usage files; they have "
           "gpt-4o-mini-2024-07-18 (choose one with --usage-model)\n")


def test_the_readme_usage_commands_run_as_written(cli):
    text = (REPO / "README.md").read_text()
    section = text.split("## Real traffic: your usage exports")[1].split("\n## ")[0]
    commands = [line.split("  #")[0].strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)
                for line in block.splitlines() if line.startswith("costcalc ")]
    assert len(commands) >= 3
    for command in commands:
        args = shlex.split(command)[1:]
        result = cli(*args)
        assert result.exit_code == 0, (command, result.stderr)


def test_the_cumulative_chart_shows_the_history_before_the_projection(cli, tmp_path):
    import costcalc
    from costcalc import charts
    from costcalc.scenario import load_scenario

    history = costcalc.read_usage([USAGE / "usage-completions.json"])
    past = [(r.month, r.cost_usd) for r in history.rows]  # 2024-10, -11, -12 of one model
    comparison = costcalc.compare(load_scenario(USAGE / "scenario.toml"), costcalc.load_pricebook(REPO / "pricing"))
    figure = charts.plot_cumulative(comparison, history=past)
    (grey,) = [line for line in figure.axes[0].get_lines() if line.get_label().startswith("history")]
    # Three months before the first projected month (x = 1): at x = -2, -1, 0, cumulated.
    assert list(grey.get_xdata()) == [-2, -1, 0]
    total = sum(cost for _, cost in past)
    assert grey.get_ydata()[-1] == pytest.approx(float(total))
    assert grey.get_label() == f"history (replayed): {charts.money_text(total)}"
    result = cli("report", str(USAGE / "scenario.toml"), "--usage", str(USAGE / "usage-completions.json"),
                 "-o", str(tmp_path / "cumulative.png"))
    assert result.exit_code == 0 and (tmp_path / "cumulative.png").exists()


CSV_HEADER = "date,model,requests,input_tokens,cached_input_tokens,output_tokens,batch\n"


def test_an_alias_and_its_snapshot_are_one_models_traffic(cli, tmp_path):
    # October 10,000 requests as gpt-4o-mini-2024-07-18; November 10,000 under the alias and 12,000 under
    # the snapshot: 22,000 of one model. The history runs from 2024-10-01 to 2024-12-31: three full months.
    (tmp_path / "mixed.csv").write_text(CSV_HEADER + "2024-10-01,gpt-4o-mini-2024-07-18,10000,1000000,0,100000,false\n"
                                        "2024-11-15,gpt-4o-mini,10000,1000000,0,100000,false\n"
                                        "2024-11-15,gpt-4o-mini-2024-07-18,12000,1200000,0,120000,false\n"
                                        "2024-12-31,gpt-4o-mini,1,100,0,10,false\n")
    import costcalc

    history = costcalc.read_usage([tmp_path / "mixed.csv"], book=costcalc.load_pricebook(REPO / "pricing"))
    measured = history.traffic("gpt-4o-mini-2024-07-18", fit_months=3)
    assert [n for _, n in measured.fit] == [10000, 22000, 1] and measured.requests_per_month == 1


def test_csv_output_sends_the_problems_to_stderr_and_nothing_read_is_an_error(cli, tmp_path):
    (tmp_path / "bad.csv").write_text(CSV_HEADER + "2024-10-15,gpt-4o-mini,-5,100,0,10,false\n")
    result = cli("usage", str(tmp_path / "bad.csv"), "--format", "csv")
    assert result.exit_code == 2
    assert "requests is negative (-5)" in result.stderr
    assert result.stderr.rstrip().endswith(f"Error: no usage could be read from {tmp_path / 'bad.csv'}: see the "
                                           "problems above")


def test_a_page_that_says_the_export_goes_on_is_a_warning(cli, tmp_path):
    page = {"object": "page", "has_more": True, "next_page": "page_abc", "data": [
        {"object": "bucket", "start_time": 1730419200, "end_time": 1730505600, "results": [
            {"object": "organization.usage.completions.result", "input_tokens": 1000, "input_cached_tokens": 0,
             "output_tokens": 100, "num_model_requests": 1, "model": "gpt-4o-mini-2024-07-18", "batch": False}]}]}
    (tmp_path / "page.json").write_text(json.dumps(page))
    text = cli("usage", str(tmp_path / "page.json")).stdout
    assert "warning: the last page says has_more: true (next_page 'page_abc'): the export continues past this " \
           "file; fetch and add the following pages" in text
