"""`costcalc compare` and `costcalc scenario init` as a user runs them: output, exit codes, messages."""

from __future__ import annotations

import csv
import io
import json

import pytest

from costcalc.scenario import PRESETS, preset_text

from .conftest import FOUR_STRATEGIES, terse_line

EXAMPLE_ANSWER = (
    "Fine-tuning gpt-3.5-turbo-0613 breaks even in 2023-12 (month 4) and saves $215.43 over 12 months vs "
    "Base GPT-3.5 Turbo; GPT-4 costs 33.9× as much and Retrieval (RAG) 14% less. "
    "Cheapest over 12 months: Retrieval (RAG) ($3,378.55)."
)


@pytest.fixture
def scenario(scenario_file):
    """Write scenario.toml (FOUR_STRATEGIES, or `text`) in the working directory; its name for the CLI."""
    return lambda text=FOUR_STRATEGIES: scenario_file(text).name


def test_compare_without_arguments_runs_the_bundled_example(run):
    result = run("compare")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == EXAMPLE_ANSWER
    assert lines[1].split() == ["strategy", "type", "model", "total", "per", "1K", "requests", "vs", "baseline",
                                "break-even"]
    assert lines[4].split() == ["Fine-tuned", "GPT-3.5", "fine-tuned", "gpt-3.5-turbo-0613", "$3,725.18", "$2.34",
                                "-$215.43", "2023-12", "(month", "4)"]
    for expected in ("Assumptions", "price sheet 2023-11-06        2023-11-06 to 2024-01-24 (2023-11-06.toml)",
                     "scenario                      the bundled example (example-scenario.toml): Support bot",
                     "example-train.jsonl (60 examples, cl100k_base), 3 epochs",
                     "100,000 requests in 2023-09, growing 5% a month", "proration"):
        assert expected in result.output
    assert "Month by month" not in result.output


def test_monthly_adds_the_month_by_month_table(run):
    result = run("compare", "--monthly")
    assert "Month by month (USD)" in result.output
    row = next(line for line in result.output.splitlines() if line.startswith("Fine-tuned GPT-3.5  2023-11"))
    assert row.split()[3:6] == ["110,250", "$99.23", "$126.79"]


def test_json_contract(run, scenario):
    result = run("compare", scenario(), "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["schema_version"] == 1
    assert {"price_sheets", "tokenizer", "epochs", "traffic"} <= set(data["assumptions"])
    assert data["assumptions"]["traffic"]["requests_per_month"] == "30000"
    assert data["assumptions"]["tokenizer"]["encodings"]["Fine-tuned"] == "cl100k_base"
    names = [(s["name"], s["total_usd"]) for s in data["strategies"]]
    assert names == [("Base", "306"), ("Fine-tuned", "238.9"), ("GPT-4", "6480"), ("Retrieval", "231.55")]
    month = data["strategies"][1]["months"][1]
    assert {k: month[k] for k in ("month", "requests", "usage_usd", "training_usd", "fixed_usd", "total_usd",
                                  "cumulative_usd")} == {
        "month": "2023-11", "requests": "30000", "usage_usd": "59.5", "training_usd": "0", "fixed_usd": "0",
        "total_usd": "59.5", "cumulative_usd": "193.9"}
    assert data["strategies"][0]["per_1k_requests_usd"] == "3.4"
    assert (data["break_even"]["month"], data["break_even"]["monthly_requests"]) == ("2023-11", 1036)
    assert data["break_even"]["reason"].startswith("cumulative cost at or below the baseline's from 2023-11")


def test_csv_and_markdown(run, scenario):
    rows = list(csv.reader(io.StringIO(run("compare", scenario(), "--format", "csv").output)))
    assert rows[0] == ["strategy", "type", "model", "total", "per 1K requests", "vs baseline", "break-even"]
    assert rows[2][:6] == ["Fine-tuned", "fine-tuned", "gpt-3.5-turbo", "238.9", rows[2][4], "-67.1"]
    monthly = list(csv.reader(io.StringIO(run("compare", scenario(), "--format", "csv", "--monthly").output)))
    assert monthly[0][:3] == ["strategy", "month", "requests"] and len(monthly) == 1 + 4 * 3
    markdown = run("compare", scenario(), "--format", "markdown").output
    assert markdown.startswith("### Fine-tuning gpt-3.5-turbo breaks even in 2023-11 (month 2)")


def test_flags_override_the_file(run, scenario):
    data = json.loads(run("compare", scenario(), "--requests-per-month", "1000", "--months", "2", "--format", "json",
                          "--set", 'strategies."Fine-tuned".prompt_tokens=300').output)
    assert data["assumptions"]["traffic"]["requests_per_month"] == "1000"
    assert data["assumptions"]["months"] == ["2023-10", "2023-11"]
    assert data["strategies"][1]["tokens_per_request"]["prompt"] == "300"


def test_dataset_flag_counts_the_training_file(run, scenario, tmp_path):
    line = terse_line(4)
    (tmp_path / "train.jsonl").write_text((line + "\n") * 10)  # 27 tokens each (see tests/conftest.py)
    data = json.loads(run("compare", scenario(), "--dataset", "train.jsonl", "--format", "json").output)
    training = data["strategies"][1]["training"]
    # The scenario says epochs = 3: 10 × 27 = 270 billing tokens × 3 × $8 / 1M = $0.00648.
    assert (training["epochs"], training["runs"][0]["billed_tokens"], training["runs"][0]["training_usd"]) == (
        3, 810, "0.00648")
    assert training["source"] == "train.jsonl (10 examples, cl100k_base)"
    assert training["runs"][0]["training_tokens"] == 270
    # With epochs auto, the cookbook's rule for 10 examples: min(25, 100 // 10) = 10 epochs → $0.0216.
    data = json.loads(run("compare", scenario(), "--dataset", "train.jsonl", "--format", "json",
                          "--set", 'strategies.Fine-tuned.epochs="auto"').output)
    training = data["strategies"][1]["training"]
    assert (training["epochs"], training["runs"][0]["billed_tokens"], training["runs"][0]["training_usd"]) == (
        10, 2700, "0.0216")


def test_currency_shows_converted_amounts_and_keeps_usd_in_json(run, scenario):
    result = run("compare", scenario(), "--currency", "EUR", "--fx-rate", "0.5")
    assert result.exit_code == 0
    assert "€119.45" in result.output  # the fine-tuned total, $238.90 × 0.5
    assert "Amounts in EUR at 0.5 EUR per USD" in result.output
    data = json.loads(run("compare", scenario(), "--currency", "eur", "--fx-rate", "0.5", "--format", "json").output)
    assert data["strategies"][1]["total_usd"] == "238.9"
    assert data["display_currency"]["code"] == "EUR" and data["display_currency"]["fx_rate"] == "0.5"
    assert data["display_currency"]["total"]["Fine-tuned"] == "119.45"


def test_budget_gate(run, scenario):
    # The cheapest strategy, Retrieval, is projected at $231.55 over the 3 months.
    assert run("compare", scenario(), "--budget", "300").exit_code == 0
    result = run("compare", scenario(), "--budget", "200")
    assert result.exit_code == 3
    assert result.stderr == ("Error: over budget: Retrieval (the cheapest strategy) is projected to cost $231.55 "
                             "over 3 months (2023-10 to 2023-12), above the budget of $200.00\n")
    assert result.stdout.startswith("Fine-tuning gpt-3.5-turbo breaks even")  # the comparison is still printed
    result = run("compare", scenario(), "--budget", "300", "--budget-strategy", "Fine-tuned", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["budget"] == {"strategy": "Fine-tuned", "cheapest": False, "budget_usd": "300",
                                                   "total_usd": "238.9", "over": False}


BAD_FILES = [
    ("requests_per_month = 30_000", "requests_per_mont = 30_000",
     "Error: scenario.toml: traffic.requests_per_mont: unknown key (did you mean 'requests_per_month'?)"),
    ("horizon_months = 3", "horizon_months = 3\nbatch_share = 1.5",
     "Error: scenario.toml: traffic.batch_share: must be between 0 and 1, not 1.5"),
    ("horizon_months = 3", "horizon_months = 0",
     "Error: scenario.toml: traffic.horizon_months: must be a whole number of months from 1 to 120, not 0"),
    ('model = "gpt-4"', 'model = "gpt-5000"',
     "Error: scenario.toml: strategies.GPT-4.model: unknown model 'gpt-5000' in the price sheet effective 2023-08-22; "
     "did you mean gpt-4?"),
    ('model = "gpt-3.5-turbo"\nprompt_tokens = 100', 'model = "gpt-4"\nprompt_tokens = 100',
     "Error: scenario.toml: strategies.Fine-tuned.model: gpt-4 (gpt-4-0613) has no fine-tuning prices in the price "
     "sheet effective 2023-08-22 (in force on 2023-10-01)"),
    ('start_month = "2023-10"', 'start_month = "2023-01"',
     "Error: scenario.toml: traffic.start_month: no price sheet in force on 2023-01-01: the first sheet is "
     "effective 2023-06-13"),
]


@pytest.mark.parametrize("old, new, message", BAD_FILES, ids=["unknown key", "share", "zero horizon", "unknown model",
                                                               "not fine-tunable", "before the first sheet"])
def test_bad_scenario_files_exit_1_with_one_line(run, scenario, old, new, message):
    assert old in FOUR_STRATEGIES
    result = run("compare", scenario(FOUR_STRATEGIES.replace(old, new, 1)))
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message + "\n")


@pytest.mark.parametrize("args, message", [
    (["--batch-share", "1.5"], "Error: --batch-share: must be between 0 and 1, not 1.5"),
    (["--months", "0"], "Error: --months: must be a whole number of months from 1 to 120, not 0"),
    (["--requests-per-month", "-1"], "Error: --requests-per-month: must be 0 or more, not -1"),
    (["--start-month", "2023/10"], "Error: --start-month: must be a month as \"YYYY-MM\", not '2023/10'"),
    (["--set", "traffic.batch_shar=0.5"], "Error: --set traffic.batch_shar: unknown key (did you mean 'batch_share'?)"),
    (["--set", "traffic.batch_share"],
     "Error: --set traffic.batch_share: expected KEY=VALUE, e.g. --set traffic.requests_per_month=50000"),
    (["--set", "traffic..x=1"], "Error: --set traffic..x=1: 'traffic..x' is not a key path like traffic.batch_share "
                                'or strategies."My strategy".model'),
    (["--set", 'strategies.GPT-4.model="gpt-5000"'],
     "Error: --set strategies.GPT-4.model: unknown model 'gpt-5000' in the price sheet effective 2023-08-22; "
     "did you mean gpt-4?"),
    (["--currency", "EUR"], "Error: --currency and --fx-rate go together: --currency EUR --fx-rate 0.92 "
                            "(EUR per 1 USD)"),
    (["--currency", "EURO", "--fx-rate", "1"], "Error: --currency: expected a 3-letter currency code such as EUR, "
                                               "not 'EURO'"),
    (["--currency", "EUR", "--fx-rate", "0"], "Error: --fx-rate: must be a number > 0, not '0'"),
    (["--budget", "lots"], "Error: --budget: must be a number >= 0, not 'lots'"),
    (["--budget", "5", "--budget-strategy", "GPT4"],
     "Error: --budget-strategy: no strategy 'GPT4' in the scenario (did you mean 'GPT-4'?); strategies are: "
     "Base, Fine-tuned, GPT-4, Retrieval"),
    (["--dataset", "missing.jsonl"], "Error: --dataset: missing.jsonl: cannot read: No such file or directory"),
])
def test_bad_flags_exit_2_with_one_line(run, scenario, args, message):
    result = run("compare", scenario(), *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message + "\n")


def test_a_batch_share_before_the_batch_api_is_a_missing_price(run, scenario):
    result = run("compare", scenario(), "--batch-share", "0.5")
    assert (result.exit_code, result.stderr) == (
        2, "Error: --batch-share: no batch input price for gpt-3.5-turbo-0613 in the price sheet effective "
           "2023-08-22 (the Batch API opened in April 2024: start the horizon later or set the share to 0)\n")


# --- scenario init -------------------------------------------------------------------------------


def test_scenario_init_writes_a_scenario_that_compare_runs(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("scenario", "init")
    assert (result.exit_code, result.output) == (
        0, "Wrote scenario.toml (medium preset). Edit it, then run: costcalc compare scenario.toml\n")
    assert (tmp_path / "scenario.toml").read_text() == preset_text("medium")
    compared = run("compare", "scenario.toml")
    assert compared.exit_code == 0 and compared.output.startswith("Fine-tuning gpt-3.5-turbo-0613 ")

    again = run("scenario", "init")
    assert (again.exit_code, again.stderr) == (
        2, "Error: scenario.toml: already exists (give another path, or --force to overwrite it)\n")
    assert run("scenario", "init", "--preset", "large", "--force").exit_code == 0
    assert "requests_per_month = 1_000_000" in (tmp_path / "scenario.toml").read_text()


def test_scenario_init_to_stdout_and_every_preset(run):
    for preset in PRESETS:
        assert run("scenario", "init", "--preset", preset, "-").output == preset_text(preset)
    assert run("scenario", "init", "--preset", "huge", "-").exit_code == 2


def test_cli_presets_match_the_library(run):
    from costcalc.cli import cli

    option = next(p for p in cli.commands["scenario"].commands["init"].params if p.name == "preset")
    assert tuple(option.type.choices) == PRESETS


def test_monthly_csv_has_plain_numbers_for_scripts(run):
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(run("compare", "--monthly", "--format", "csv").output)))
    november = next(r for r in rows if r["strategy"] == "Fine-tuned GPT-3.5" and r["month"] == "2023-11")
    # 100,000 requests growing 5% a month: 110,250 in the third month; no thousands separators.
    assert (november["requests"], november["input"], november["output"]) == ("110250", "99.225", "126.7875")


def test_other_currency_amounts_stay_numbers_aligned_right(run):
    result = run("compare", "--currency", "EUR", "--fx-rate", "0.92")
    base = next(line for line in result.output.splitlines() if line.startswith("Base GPT-3.5 Turbo  base"))
    # $3,940.61 x 0.92 = €3,625.36 (and $2.48 per 1K = €2.28), right-aligned under its header like the USD table.
    assert base.split()[-4:-2] == ["€3,625.36", "€2.28"]
    header = result.output.splitlines()[1]
    assert header.index("total") + len("total") == base.index("€3,625.36") + len("€3,625.36")


def test_sample_flag_replaces_the_files_token_numbers(run, scenario, tmp_path):
    # One request: user "Hi" answered "Hello there". Prompt by the cookbook rule: 3 per message +
    # "user" (1) + "Hi" (1) = 5, + 3 reply priming = 8; completion: "Hello there" = 2 tokens.
    (tmp_path / "requests.jsonl").write_text(
        '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there"}]}\n')
    data = json.loads(run("compare", scenario(), "--sample", "requests.jsonl", "--format", "json").output)
    base = next(s for s in data["strategies"] if s["name"] == "Base")
    assert (base["tokens_per_request"]["prompt"], base["tokens_per_request"]["completion"]) == ("8", "2")
    assert base["tokens_per_request"]["source"].startswith("measured from requests.jsonl")


def test_sample_flag_naming_a_missing_file_is_an_error(run, scenario):
    result = run("compare", scenario(), "--sample", "nope.jsonl")
    assert (result.exit_code, result.stderr) == (2, "Error: --sample: nope.jsonl: cannot read: No such file or directory\n")


def test_a_sample_file_that_would_never_be_read_is_an_error(run, scenario):
    text = FOUR_STRATEGIES.replace("completion_tokens = 200\n", 'completion_tokens = 200\nsample_file = "x.jsonl"\n', 1)
    result = run("compare", scenario(text))
    assert (result.exit_code, result.stderr) == (
        1, "Error: scenario.toml: traffic.sample_file: is never used: prompt_tokens and completion_tokens are both "
           "given here (remove them to measure them from the sample)\n")


def test_each_training_run_states_its_own_billing_tokens(run, scenario, tmp_path):
    # One example of about 5,000 tokens: truncated to 4,096 on gpt-3.5-turbo-0613, whole on -0125
    # (16,385), so the 2024-01 run (0613) and the 2024-06 run (0125) bill different token counts.
    short = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    long = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "hello " * 5000}]}
    lines = [json.dumps(short)] * 9 + [json.dumps(long)]
    (tmp_path / "train.jsonl").write_text("\n".join(lines) + "\n")
    args = ("compare", scenario(), "--dataset", "train.jsonl", "--start-month", "2024-01", "--months", "6",
            "--set", "strategies.Fine-tuned.retrain_every_months=5")
    runs = json.loads(run(*args, "--format", "json").output)["strategies"][1]["training"]["runs"]
    assert [(r["month"], r["snapshot"]) for r in runs] == [("2024-01", "gpt-3.5-turbo-0613"),
                                                          ("2024-06", "gpt-3.5-turbo-0125")]
    assert runs[0]["training_tokens"] < runs[1]["training_tokens"]
    text = " ".join(run(*args).output.split())  # the assumptions column wraps; compare words
    for r in runs:
        assert (f"{r['month']} on {r['snapshot']}: {r['training_tokens']:,} billing tokens × 3 epochs = "
                f"{r['billed_tokens']:,} billed") in text


def test_a_batch_share_with_a_model_the_sheets_give_no_batch_price(run):
    # The bundled example compares gpt-4-0613, for which no source gives a Batch price.
    result = run("compare", "--batch-share", "0.5", "--start-month", "2024-06", "--months", "6")
    assert (result.exit_code, result.stderr) == (
        2, "Error: --batch-share: no batch input price for gpt-4-0613 in the price sheet effective 2024-05-13 "
           "(the price sheets list no batch price for this model: set the share to 0 or pick another model)\n")


def test_a_model_not_out_yet_says_when_it_first_appears(run):
    result = run("compare", "--start-month", "2024-06", "--set", 'strategies."GPT-4".model="gpt-4o-mini"')
    assert (result.exit_code, result.stderr) == (
        2, 'Error: --set strategies."GPT-4".model: gpt-4o-mini is not in the price sheet effective 2024-05-13: '
           "it first appears in the sheet effective 2024-07-18\n")


def test_training_file_problems_become_notes_with_their_lines(run, scenario, tmp_path):
    good = json.dumps({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]})
    (tmp_path / "train.jsonl").write_text(f"{good}\nnot json\n")
    data = json.loads(run("compare", scenario(), "--dataset", "train.jsonl", "--format", "json").output)
    assert data["strategies"][1]["notes"] == [
        "train.jsonl: line is not valid JSON (each line must hold one complete JSON object) (1 line, first 2)",
        "train.jsonl: fewer than 10 valid examples; OpenAI requires at least 10",
    ]


# --- the scenario flags compare and report share ------------------------------------------------------

SCENARIO_FLAGS = ["--dataset FILE", "--requests-per-month N", "--requests-per-day N", "--growth PCT",
                  "--start-month YYYY-MM", "--months N", "--prompt-tokens N", "--completion-tokens N",
                  "--sample FILE", "--batch-share SHARE", "--cached-share SHARE", "--example [2023|2026]",
                  "--fine-tuning-customer [new|existing]", "--usage FILE", "--fit-months INTEGER RANGE",
                  "--usage-model MODEL", "--set KEY=VALUE"]


def option_help(text: str) -> dict[str, str]:
    """The Options section of `--help`: "--months N" -> its help text, wrapped lines joined (click also
    wraps after a hyphen: "--requests-per-" / "month")."""
    entries: dict[str, str] = {}
    name = None
    for line in text.split("Options:\n", 1)[1].splitlines():
        if line.startswith("  -"):
            name, _, help_text = line.strip().partition("  ")
            entries[name] = help_text.strip()
        elif name is not None and line.strip():
            entries[name] += ("" if entries[name].endswith("-") else " ") + line.strip()
    return entries


def test_compare_and_report_list_every_scenario_flag_with_the_same_help(run):
    compare_help = option_help(run("compare", "--help").output)
    report_help = option_help(run("report", "--help").output)
    assert [name for name in compare_help if name in SCENARIO_FLAGS] == SCENARIO_FLAGS
    assert [name for name in report_help if name in SCENARIO_FLAGS] == SCENARIO_FLAGS
    assert {name: report_help[name] for name in SCENARIO_FLAGS} == {name: compare_help[name] for name in SCENARIO_FLAGS}
    assert report_help["--set KEY=VALUE"] == ('Set any scenario value, with the key as in the file: '
                                              'traffic.horizon_months=24, strategies."GPT-4".model="gpt-4-32k". '
                                              'Repeatable.')
    # report's own options follow the scenario flags; compare's own options stay its own.
    assert list(report_help)[len(SCENARIO_FLAGS):] == ["-o, --output PATH", "--all-charts", "--dpi INTEGER RANGE",
                                                       "-h, --help"]
    assert "--monthly" in compare_help and "--monthly" not in report_help


def test_dataset_flag_without_a_fine_tuned_strategy(run, scenario):
    result = run("compare", scenario(FOUR_STRATEGIES.split('[strategies."Fine-tuned"]')[0]), "--dataset", "t.jsonl")
    assert (result.exit_code, result.stderr) == (
        2, "Error: --dataset: the scenario has no fine-tuned strategy to train on it\n")


@pytest.mark.parametrize("args, message", [
    (["-o", "x.pdf", "--all-charts"], "Error: --all-charts writes a folder of PNGs: give a folder, not x.pdf"),
    (["-o", "charts/", "--all-charts"], None),  # a folder: only the scenario's own problem is left
    (["-o", "x.docx"], "Error: x.docx: the output's suffix picks the format: .pdf, .png or .md "
                       "(or --all-charts and a folder)"),
])
def test_report_checks_its_output_before_comparing(run, scenario, args, message):
    # The scenario is broken too: the output's problem is found first, before any work is done.
    result = run("report", scenario(FOUR_STRATEGIES.replace("horizon_months = 3", "horizon_months = 0")), *args)
    if message is None:
        assert (result.exit_code, result.stderr) == (1, "Error: scenario.toml: traffic.horizon_months: must be a "
                                                        "whole number of months from 1 to 120, not 0\n")
    else:
        assert (result.exit_code, result.stderr) == (2, message + "\n")


@pytest.mark.parametrize("command", ["compare", "report"])
def test_a_scenario_that_cannot_be_read_exits_1(run, scenario, tmp_path, monkeypatch, command):
    # The README: "exit 1 for a failed run (... an unreadable file given as an argument)".
    (tmp_path / "folder").mkdir()
    result = run(command, "folder")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "Error: folder: cannot read: Is a directory\n")

    path = scenario()
    real_open = type(tmp_path).open

    def refuse(self, *args, **kwargs):  # tests may run as root, who can read a chmod 000 file
        if self.name == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(type(tmp_path), "open", refuse)
    result = run(command, path)
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", "Error: scenario.toml: cannot read: Permission denied\n")
