"""Shared fixtures: the project's own price book, a CLI runner, and tiny hand-made pricing folders."""

from __future__ import annotations

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
