"""Packaging promises: light imports, a stable public API, help on every command, README coverage."""

from __future__ import annotations

import doctest
import subprocess
import sys
import types

import click

import costcalc
from costcalc.cli import cli

from .conftest import REPO


HEAVY = ('pandas', 'matplotlib', 'numpy', 'tiktoken', 'splintr', 'orjson')


def heavy_modules_after(invocations: str) -> str:
    """Which of HEAVY a fresh interpreter has loaded after running `invocations` (lines of Python
    that may use `CliRunner` and `cli`), printed as a sorted list."""
    code = (
        "import sys, costcalc\n"
        "from click.testing import CliRunner\n"
        "from costcalc.cli import cli\n"
        f"{invocations}"
        f"print(sorted(m for m in {HEAVY} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_and_help_do_not_load_pandas_or_matplotlib():
    # Nor numpy or any encoder: they load when a count or a chart is needed.
    assert heavy_modules_after(
        "CliRunner().invoke(cli, ['--help'])\n"
        "for name in ('compare', 'dataset', 'report', 'prices', 'scenario', 'tokens', 'usage'):\n"
        "    CliRunner().invoke(cli, [name, '--help'])\n"
    ) == "[]"


def test_compare_builds_only_the_encoder_that_counts():
    # The bundled example's training file is read by orjson and counted by splintr alone:
    # tiktoken's encoder (its import, its 100,000-rank table) and numpy (for duplicates in big
    # files) are not loaded.
    assert heavy_modules_after(
        "result = CliRunner().invoke(cli, ['compare'])\n"
        "assert result.exit_code == 0, result.output\n"
    ) == "['orjson', 'splintr']"


def test_all_is_exactly_the_public_names_sorted():
    # Both ways, as httpx's tests/test_exported_members.py: a name imported into the package but not
    # exported fails, and so does an exported name the package lacks. Submodules (costcalc.charts,
    # costcalc.report, ...) are public as modules, not as names of `from costcalc import *`; they
    # join the namespace whenever anything imports them, so they are left out here.
    public = [name for name, value in vars(costcalc).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)]
    assert costcalc.__all__ == sorted(public)


def test_the_package_docstring_example_prints_what_it_says(monkeypatch):
    monkeypatch.delenv("COSTCALC_PRICING_DIR", raising=False)  # the bundled sheets, as a user has them
    # 9 examples: the imports, the 0613 snapshot, the $2.40 fee, the 2023-12 break-even, the four totals.
    assert doctest.testmod(costcalc, report=True) == (0, 9)


def all_commands(group=cli, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


def test_every_command_has_help_with_an_example(run):
    for path, _command in all_commands():
        result = run(*path, "--help")
        assert result.exit_code == 0, path
        assert "Examples:" in result.output, f"costcalc {' '.join(path)} --help shows no example"
        assert f"costcalc {path[0]}" in result.output.split("Examples:")[1], path


def test_every_command_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for path, command in all_commands():
        if not isinstance(command, click.Group):
            assert f"costcalc {' '.join(path)}" in readme, f"README does not mention costcalc {' '.join(path)}"


def test_python_dash_m_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "costcalc", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"costcalc, version {costcalc.__version__}"
