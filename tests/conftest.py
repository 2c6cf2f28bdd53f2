"""Shared fixtures: the project's own price book and example, a CLI runner, hand-made pricing folders,
scenarios and training examples.

Token figures are worked out by hand with cl100k_base (see tests/test_tokens.py): "You are terse." is
4 tokens, "What is 2+2?" 7, a role name 1, a one-digit answer 1.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import costcalc

REPO = Path(__file__).resolve().parent.parent
PRICING_DIR = REPO / "pricing" / "openai"


@pytest.fixture(scope="session")
def book():
    """The bundled OpenAI price book, as a user gets it."""
    return costcalc.load_pricebook(PRICING_DIR)


@pytest.fixture(scope="session")
def example_report(book):
    """The report of the bundled example (scenario and training file), computed once per run: the
    comparison, the training file's scan and the break-even grid."""
    from costcalc import report

    return report.report_for(costcalc.load_scenario(), book)


@pytest.fixture(scope="session")
def example_comparison(example_report):
    """The bundled example: base, fine-tuned, GPT-4 and retrieval over 12 months from 2023-09."""
    return example_report.comparison


@pytest.fixture
def runner(monkeypatch):
    # Tests never depend on a developer's own pricing folder.
    monkeypatch.delenv("COSTCALC_PRICING_DIR", raising=False)
    return CliRunner()


@pytest.fixture
def run(runner):
    """Invoke the CLI; returns the click Result (exit_code, output, stderr)."""
    from costcalc.cli import cli

    def invoke(*args, input=None):
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


MINIMAL_SHEET = """\
schema_version = 1
provider = "acme"
effective = 2024-01-01
currency = "USD"
unit = "per_1m_tokens"
checked = 2024-01-02
summary = "Negotiated rates."

[sources]
C1 = { title = "Our contract", url = "https://example.com/contract" }

[aliases]
"chat" = "chat-1"

[models."chat-1"]
kind = "chat"
encoding = "cl100k_base"
input = 1.00
output = 2.00
sources = ["C1"]

[models."chat-1".fine_tuning]
training = 5.00
input = 4.00
output = 6.00
max_tokens_per_example = 1000
sources = ["C1"]
"""


@pytest.fixture
def pricing_folder(tmp_path):
    """Write {file name: TOML text} into a fresh pricing folder and return its path."""

    def make(files: dict[str, str] | None = None) -> Path:
        folder = tmp_path / "prices"
        folder.mkdir(exist_ok=True)
        for name, text in (files or {"2024-01-01.toml": MINIMAL_SHEET}).items():
            (folder / name).write_text(textwrap.dedent(text))
        return folder

    return make


# --- scenarios ---------------------------------------------------------------------------------------

# Three months across the DevDay price cut (2023-11-06), four strategies; tests/test_compare.py works
# its costs out to the cent.
FOUR_STRATEGIES = """\
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

[strategies."Fine-tuned"]
type = "fine-tuned"
model = "gpt-3.5-turbo"
prompt_tokens = 100
training_tokens = 100_000
epochs = 3

[strategies."GPT-4"]
type = "base"
model = "gpt-4"

[strategies.Retrieval]
type = "retrieval"
model = "gpt-3.5-turbo"
prompt_tokens = 300
context_tokens = 700
query_tokens = 50
corpus_tokens = 1_000_000
vector_db_usd_per_month = 20
"""


@pytest.fixture
def scenario_file(tmp_path, monkeypatch):
    """Write scenario TOML text (FOUR_STRATEGIES unless given) as scenario.toml in a fresh working
    directory, and return its path."""
    monkeypatch.chdir(tmp_path)

    def write(text: str = FOUR_STRATEGIES) -> Path:
        path = tmp_path / "scenario.toml"
        path.write_text(textwrap.dedent(text))
        return path

    return write


# --- training examples -------------------------------------------------------------------------------


def terse(answer: int | str = 4) -> dict:
    """A chat example of 27 tokens, 1 of them the assistant's when `answer` is one digit:
    system 3 + 1 + 4 ("You are terse.") = 8, user 3 + 1 + 7 ("What is 2+2?") = 11,
    assistant 3 + 1 + 1 = 5, and 3 that prime the reply."""
    return {"messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": str(answer)},
    ]}


def terse_line(answer: int | str = 4) -> str:
    """terse(answer) as one line of a JSONL file (without the newline)."""
    return json.dumps(terse(answer))


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city."},
                "unit": {"type": "string", "description": "Unit", "enum": ["celsius", "fahrenheit"]},
            },
        },
    },
}
# cl100k: func_init 10 + "get_weather:Get the weather" 5 + prop_init 3
#   + city: prop_key 3 + "city:string:The city" 4
#   + unit: prop_key 3 + enum_init -3 + (3 + "celsius" 2) + (3 + "fahrenheit" 2) + "unit:string:Unit" 4
#   + func_end 12 = 51. o200k: func_init 7, so 48.
