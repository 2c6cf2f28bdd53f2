"""The type hints are checked, not hoped: mypy over costcalc/ with the settings in pyproject.toml.

`check_untyped_defs` makes mypy read every function body, so an `X | None` used in arithmetic, or
a value of the wrong type handed to a constructor, fails the suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_passes_on_the_package():
    result = subprocess.run([sys.executable, "-m", "mypy", "costcalc"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Success: no issues found")
