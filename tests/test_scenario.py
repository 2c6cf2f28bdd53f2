"""Scenario files: the bundled example and presets, validation messages, command-line overrides."""

from __future__ import annotations

import datetime as dt
import re
import sys
from decimal import Decimal

import pytest

from costcalc.cli import flag_override, parse_set
from costcalc.errors import Problem, ScenarioError, UsageError
from costcalc.scenario import (
    EXAMPLE_DATASET,
    EXAMPLE_SCENARIO,
    EXAMPLES_DIR,
    PRESETS,
    load_scenario,
    parse_value,
    preset_text,
    write_scenario,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# The 2023 example and its three sizes; every bundled scenario, the 2026 example included.
SCENARIO_FILES = [EXAMPLE_SCENARIO, *(EXAMPLES_DIR / "presets" / f"{p}.toml" for p in PRESETS if p != "2026")]
ALL_SCENARIO_FILES = [EXAMPLE_SCENARIO, *(EXAMPLES_DIR / "presets" / f"{p}.toml" for p in PRESETS)]

MINIMAL = """\
schema_version = 1

[traffic]
requests_per_month = 1000
start_month = "2024-01"
horizon_months = 6
prompt_tokens = 500
completion_tokens = 100

[strategies.Base]
type = "base"
model = "gpt-3.5-turbo"

[strategies."Fine-tuned GPT-3.5"]
type = "fine-tuned"
model = "gpt-3.5-turbo"
prompt_tokens = 100
training_tokens = 50_000
"""


@pytest.fixture
def scenario_file(scenario_file):
    """conftest's scenario_file, writing MINIMAL unless given a text."""
    return lambda text=MINIMAL: scenario_file(text)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_bundled_scenarios_load(path):
    scenario = load_scenario(path)
    assert scenario.names() == ["Base GPT-3.5 Turbo", "Fine-tuned GPT-3.5", "GPT-4", "Retrieval (RAG)"]
    assert scenario.baseline == "Base GPT-3.5 Turbo"
    assert [s.type for s in scenario.strategies] == ["base", "fine-tuned", "base", "retrieval"]
    assert scenario.traffic.start == dt.date(2023, 9, 1) and scenario.traffic.horizon_months == 12


@pytest.mark.parametrize("path", ALL_SCENARIO_FILES, ids=lambda p: p.stem)
def test_every_key_has_a_comment(path):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "[")):
            assert re.search(r"\S\s+#\s+\S", line), f"{path.name}:{number}: key without a comment: {line}"


def test_presets_have_the_same_keys_and_grow():
    def keys(table, prefix=()):
        for key, value in table.items():
            yield from keys(value, (*prefix, key)) if isinstance(value, dict) else [(*prefix, key)]

    sized = ("small", "medium", "large")  # the 2023 question at three sizes; "2026" is another question
    assert [p for p in PRESETS if p not in sized] == ["2026"]
    parsed = {p: tomllib.loads(preset_text(p)) for p in sized}
    assert len({frozenset(keys(t)) for t in parsed.values()}) == 1
    assert [parsed[p]["traffic"]["requests_per_month"] for p in sized] == [10_000, 100_000, 1_000_000]


def test_the_example_points_at_the_bundled_training_file():
    scenario = load_scenario()
    assert scenario.path == EXAMPLE_SCENARIO
    assert scenario.strategy("Fine-tuned GPT-3.5").training_file == EXAMPLE_DATASET
    assert len(EXAMPLE_DATASET.read_text().splitlines()) == 60


@pytest.mark.parametrize("old, new, message", [
    ("requests_per_month = 1000", "requests_per_mont = 1000",
     "traffic.requests_per_mont: unknown key (did you mean 'requests_per_month'?)"),
    ("requests_per_month = 1000", "requests_per_month = -5", "traffic.requests_per_month: must be 0 or more, not -5"),
    ("requests_per_month = 1000", 'requests_per_month = "lots"',
     "traffic.requests_per_month: must be a number, not 'lots' (a string)"),
    ("horizon_months = 6", "horizon_months = 0",
     "traffic.horizon_months: must be a whole number of months from 1 to 120, not 0"),
    ("horizon_months = 6", "horizon_months = 6\nbatch_share = 1.5",
     "traffic.batch_share: must be between 0 and 1, not 1.5"),
    ("horizon_months = 6", "horizon_months = 6\ncached_share = -0.1",
     "traffic.cached_share: must be between 0 and 1, not -0.1"),
    ('start_month = "2024-01"', 'start_month = "January"',
     'traffic.start_month: must be a month as "YYYY-MM", not \'January\''),
    ("requests_per_month = 1000", "requests_per_month = 1000\nrequests_per_day = 30",
     "traffic.requests_per_day: give requests_per_month or requests_per_day, not both"),
    ('type = "base"', 'type = "bass"',
     "strategies.Base.type: must be one of base, fine-tuned, retrieval, not 'bass' (did you mean 'base'?)"),
    ('model = "gpt-3.5-turbo"\n\n', 'model = "gpt-3.5-turbo"\ncorpus_tokens = 5\n\n',
     "strategies.Base.corpus_tokens: not a key of a base strategy (it belongs to another type)"),
    ("training_tokens = 50_000", 'training_tokens = 50_000\nepochs = 60',
     'strategies."Fine-tuned GPT-3.5".epochs: must be "auto" or a whole number from 1 to 50, not 60'),
    ("training_tokens = 50_000", "upkeep_usd_per_month = 10",
     'strategies."Fine-tuned GPT-3.5".training_file: missing (give training_file, a JSONL file of training '
     "examples, training_tokens, or training_hours for a job billed per training hour)"),
    ("schema_version = 1", "schema_version = 2",
     "schema_version: unknown schema version 2 (this costcalc reads schema_version = 1)"),
])
def test_file_problems_name_the_file_and_key(scenario_file, old, new, message):
    assert old in MINIMAL
    with pytest.raises(ScenarioError) as error:
        load_scenario(scenario_file(MINIMAL.replace(old, new, 1)))
    assert str(error.value) == f"scenario.toml: {message}"
    assert error.value.exit_code == 1


def test_every_problem_is_reported_at_once(scenario_file):
    text = MINIMAL.replace("horizon_months = 6", "horizon_months = 0\nbatch_share = 2")
    with pytest.raises(ScenarioError) as error:
        load_scenario(scenario_file(text))
    assert str(error.value) == (
        "2 problems in the scenario:\n"
        "  scenario.toml: traffic.horizon_months: must be a whole number of months from 1 to 120, not 0\n"
        "  scenario.toml: traffic.batch_share: must be between 0 and 1, not 2")


def test_problems_are_data_with_file_and_key(scenario_file):
    text = MINIMAL.replace("horizon_months = 6", "horizon_months = 0").replace(
        '[strategies.Base]\ntype = "base"\nmodel = "gpt-3.5-turbo"', '[strategies."Café"]\ntype = "base"')
    with pytest.raises(ScenarioError) as error:
        load_scenario(scenario_file(text))
    assert error.value.problems == [
        Problem("scenario.toml", "traffic.horizon_months", "must be a whole number of months from 1 to 120, not 0"),
        Problem("scenario.toml", 'strategies."Café".model', "missing"),  # quoted, and written as it is
    ]


def test_a_flag_at_fault_makes_the_whole_error_bad_usage_flag_first(scenario_file):
    path = scenario_file(MINIMAL.replace("horizon_months = 6", "horizon_months = 0"))
    with pytest.raises(UsageError) as error:
        load_scenario(path, [flag_override("--batch-share", "1.5")])
    assert not isinstance(error.value, ScenarioError) and error.value.exit_code == 2
    assert error.value.problems == [
        Problem("--batch-share", "", "must be between 0 and 1, not 1.5"),
        Problem("scenario.toml", "traffic.horizon_months", "must be a whole number of months from 1 to 120, not 0"),
    ]
    assert str(error.value) == (
        "2 problems in the scenario:\n"
        "  --batch-share: must be between 0 and 1, not 1.5\n"
        "  scenario.toml: traffic.horizon_months: must be a whole number of months from 1 to 120, not 0")


def test_unreadable_and_invalid_files(scenario_file, tmp_path):
    with pytest.raises(ScenarioError, match=r"^missing\.toml: cannot read: No such file or directory$"):
        load_scenario(tmp_path / "missing.toml")
    with pytest.raises(ScenarioError, match=r"^scenario\.toml: not valid TOML: "):
        load_scenario(scenario_file("traffic = [\n"))


# --- overrides -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, path, value", [
    ("traffic.requests_per_month=50000", ("traffic", "requests_per_month"), 50000),
    ('strategies."Fine-tuned GPT-3.5".prompt_tokens=300', ("strategies", "Fine-tuned GPT-3.5", "prompt_tokens"), 300),
    ("traffic.batch_share=0.25", ("traffic", "batch_share"), Decimal("0.25")),
    ('strategies.GPT-4.model="gpt-4-32k"', ("strategies", "GPT-4", "model"), "gpt-4-32k"),
    ("strategies.GPT-4.model=gpt-4-32k", ("strategies", "GPT-4", "model"), "gpt-4-32k"),  # bare text is a string
    ('strategies."a=b".model = gpt-4', ("strategies", "a=b", "model"), "gpt-4"),  # '=' inside quotes
    ('strategies."Fine-tuned GPT-3.5".epochs="auto"', ("strategies", "Fine-tuned GPT-3.5", "epochs"), "auto"),
])
def test_parse_set(text, path, value):
    override = parse_set(text)
    assert (override.path, override.value) == (path, value)
    assert type(override.value) is type(value)


@pytest.mark.parametrize("text, message", [
    ("traffic.batch_share",
     "--set traffic.batch_share: expected KEY=VALUE, e.g. --set traffic.requests_per_month=50000"),
    ("traffic..x=1", "--set traffic..x=1: 'traffic..x' is not a key path like traffic.batch_share or "
                     'strategies."My strategy".model'),
])
def test_parse_set_errors(text, message):
    with pytest.raises(UsageError) as error:
        parse_set(text)
    assert str(error.value) == message


def test_parse_value_keeps_numbers_exact():
    assert parse_value("0.1") == Decimal("0.1") and isinstance(parse_value("0.1"), Decimal)
    assert parse_value("1_000") == 1000 and parse_value("2023-09") == "2023-09"


def test_overrides_win_and_name_the_flag_in_errors(scenario_file):
    path = scenario_file()
    scenario = load_scenario(path, [flag_override("--requests-per-day", "300"),
                                    parse_set('strategies."Fine-tuned GPT-3.5".prompt_tokens=300'),
                                    flag_override("--start-month", "2024-03")])
    # --requests-per-day replaces the file's requests_per_month instead of clashing with it.
    assert (scenario.traffic.requests_per_day, scenario.traffic.requests_per_month) == (Decimal(300), None)
    assert scenario.strategy("Fine-tuned GPT-3.5").prompt_tokens == 300
    assert scenario.traffic.start == dt.date(2024, 3, 1)

    with pytest.raises(UsageError) as error:
        load_scenario(path, [flag_override("--batch-share", "1.5")])
    assert str(error.value) == "--batch-share: must be between 0 and 1, not 1.5"
    with pytest.raises(UsageError) as error:
        load_scenario(path, [parse_set("traffic.horizon_months=0")])
    assert str(error.value) == "--set traffic.horizon_months: must be a whole number of months from 1 to 120, not 0"
    with pytest.raises(UsageError) as error:
        load_scenario(path, [parse_set('strategies."Fine-tuned GPT-3.5".prompt_token=3')])
    assert str(error.value) == ('--set strategies."Fine-tuned GPT-3.5".prompt_token: unknown key '
                                "(did you mean 'prompt_tokens'?)")
    # A strategy created from the command line: its missing keys are blamed on the flag.
    with pytest.raises(UsageError) as error:
        load_scenario(path, [parse_set('strategies."GPT-4o mini".type="base"')])
    assert str(error.value) == '--set strategies."GPT-4o mini".type: strategies."GPT-4o mini".model: missing'


def test_dataset_override_sets_every_fine_tuned_training_file(scenario_file, tmp_path):
    scenario = load_scenario(scenario_file(), dataset="train.jsonl")
    strategy = scenario.strategy("Fine-tuned GPT-3.5")
    # Relative to the working directory (a path written in the file is relative to the file).
    assert (strategy.training_file, strategy.training_tokens) == (tmp_path / "train.jsonl", None)
    with pytest.raises(UsageError, match=r"^dataset: the scenario has no fine-tuned strategy to train on it$"):
        load_scenario(scenario_file(MINIMAL.split('[strategies."Fine-tuned')[0]), dataset="train.jsonl")


# --- writing -------------------------------------------------------------------------------------


def test_write_scenario(tmp_path):
    target = write_scenario(tmp_path / "s.toml", "small")
    assert target.read_text() == preset_text("small")
    assert load_scenario(target).traffic.requests_per_month == 10_000
    with pytest.raises(UsageError) as error:
        write_scenario(target, "large")
    assert str(error.value) == f"{target}: already exists (force=True overwrites it)"
    write_scenario(target, "large", force=True)
    assert load_scenario(target).traffic.requests_per_month == 1_000_000
    with pytest.raises(UsageError, match="^unknown preset 'huge'; presets are small, medium, large, 2026$"):
        preset_text("huge")
