"""Packaging promises: light imports, a stable public API, help on every command, README coverage."""

from __future__ import annotations

import subprocess
import sys

import click

import costcalc
from costcalc.cli import cli

from .conftest import REPO


def test_import_and_help_do_not_load_pandas_or_matplotlib():
    code = (
        "import sys, costcalc\n"
        "from click.testing import CliRunner\n"
        "from costcalc.cli import cli\n"
        "CliRunner().invoke(cli, ['--help'])\n"
        "for name in ('compare', 'dataset', 'report', 'prices', 'scenario', 'tokens'):\n"
        "    CliRunner().invoke(cli, [name, '--help'])\n"
        "print(sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_api_does_not_drift():
    assert set(costcalc.__all__) <= set(dir(costcalc))
    for name in ("load_pricebook", "usage_cost", "training_cost", "CostCalcError"):
        assert name in costcalc.__all__


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
