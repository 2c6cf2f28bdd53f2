"""pricing/README.md's worked example is real: its files load, and its commands print what it shows.

The example is a user's own provider ("own-gpus", GPUs billed by the hour). Each ```toml block whose
first line is `# my-pricing/...` is a file of it; each ```console block is commands (`$ ...`) followed
by what they print. A change to the schema, the loader or the CLI that breaks the guide fails here.
"""

from __future__ import annotations

import re
import shlex
from decimal import Decimal
from pathlib import Path

import pytest

import costcalc

REPO = Path(__file__).resolve().parent.parent
GUIDE = (REPO / "pricing" / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def example_files() -> dict[str, str]:
    """Path -> text of every file of the worked example."""
    files = {}
    for lang, body in BLOCK.findall(GUIDE):
        first = body.splitlines()[0]
        if lang == "toml" and first.startswith("# my-pricing/"):
            files[first.removeprefix("# ")] = body
    return files


def console_blocks() -> list[list[tuple[str, str]]]:
    """Each console block as (command, expected output) pairs."""
    blocks = []
    for lang, body in BLOCK.findall(GUIDE):
        if lang != "console":
            continue
        pairs: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                pairs.append((line[2:], []))
            else:
                pairs[-1][1].append(line)
        blocks.append([(command, "\n".join(out) + "\n") for command, out in pairs])
    return blocks


@pytest.fixture
def folder(tmp_path, monkeypatch):
    for path, text in example_files().items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "my-pricing"


def invoke(run, command: str):
    args = shlex.split(command)
    assert args[0] == "costcalc"
    return run(*args[1:])


def test_the_guide_has_the_four_files_and_two_console_blocks():
    assert sorted(example_files()) == [
        "my-pricing/own-gpus/2026-11-01.toml", "my-pricing/own-gpus/2027-01-01.toml",
        "my-pricing/own-gpus/models.toml", "my-pricing/own-gpus/sources.toml"]
    assert [len(block) for block in console_blocks()] == [2, 1]


def test_the_example_loads_with_its_hourly_prices(folder):
    book = costcalc.load_pricebook(folder)
    assert (book.provider, [s.revision for s in book.sheets], book.warnings) == (
        "own-gpus", ["2026-11-01", "2027-01-01"], ())
    before = book.as_of("2026-12-31").model("llama-3.1-8b-instruct").fine_tuning
    after = book.as_of("2027-01-01").model("llama-3.1-8b-instruct").fine_tuning
    assert before is not None and after is not None
    assert (before.training_per_hour, before.hosting_per_hour, before.storage_per_month, before.minimum_per_job) == (
        Decimal("2.40"), Decimal("2.40"), Decimal("0.32"), Decimal("2.40"))
    assert (after.training_per_hour, after.hosting_per_hour, after.minimum_per_job) == (
        Decimal("2.10"), Decimal("2.10"), Decimal("2.10"))
    # A month of the always-on GPU, as the deployment rule says: 730 h × $2.10 = $1,533.00.
    (rule,) = book.catalogues["own-gpus"].rules
    assert (rule.key, rule.unit) == ("always_on", "hours per month")
    assert rule.value * after.hosting_per_hour == Decimal("1533.00")
    # The sheet's `checked` day bounds what is known: past it, the newest sheet is carried forward.
    assert book.carried_forward("2026-12-16") is None
    assert book.carried_forward("2027-01-15").revision == "2027-01-01"


def test_the_commands_print_what_the_guide_shows(folder, run):
    for command, expected in console_blocks()[0]:
        result = invoke(run, command)
        assert (result.exit_code, result.stdout + result.stderr) == (0, expected), command


def test_the_mistakes_the_guide_describes_give_the_errors_it_shows(folder, run):
    first, second = folder / "own-gpus" / "2026-11-01.toml", folder / "own-gpus" / "2027-01-01.toml"
    first.write_text(first.read_text().replace("hosting_per_hour = 2.40", 'hosting_per_hour = "2.40"'))
    second.write_text(second.read_text().replace("hosting_per_hour = 2.10", "hosting = 2.10"))
    ((command, expected),) = console_blocks()[1]
    result = invoke(run, command)
    assert (result.exit_code, result.stdout + result.stderr) == (1, expected)
