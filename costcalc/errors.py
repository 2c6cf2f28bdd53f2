"""One family of errors, so the CLI can turn every user mistake into a one-line message.

Each error says what went wrong and where: the pricing file and key path, the dataset line,
the scenario key, the flag. `cli.py` converts them in one place (exit 1 for a failed run,
exit 2 for bad usage); the library just raises.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CostCalcError(Exception):
    """Base class of every error costcalc raises on purpose."""

    exit_code = 1


class UsageError(CostCalcError):
    """A bad argument or option value (the CLI exits 2)."""

    exit_code = 2


class PricingError(CostCalcError):
    """One or more problems in price sheets; `problems` holds every one, each with file and key."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems in price sheets:\n" + "\n".join(
                f"  {p}" for p in self.problems
            )
        super().__init__(message)


class UnknownModelError(CostCalcError, KeyError):
    """A model name no price sheet (or not the one in force) knows."""

    def __init__(self, name: str, known: Iterable[str], where: str = ""):
        self.name = name
        self.suggestions = closest_names(name, known)
        message = f"unknown model {name!r}"
        if where:
            message += f" {where}"
        if self.suggestions:
            message += "; did you mean " + ", ".join(self.suggestions) + "?"
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would otherwise wrap the message in quotes
        return self.args[0]


class MissingPriceError(CostCalcError):
    """A price the computation needs is not in the sheet: never priced as $0."""

    def __init__(self, model: str, price: str, effective: object):
        self.model = model
        self.price = price
        self.effective = effective
        super().__init__(f"no {price} price for {model} in the price sheet effective {effective}")


class DatasetError(CostCalcError):
    """A training or sample file that cannot be read at all."""


class ScenarioError(CostCalcError):
    """A scenario file or override with a bad key or value; the message names the key."""


def closest_names(name: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """The known names most like `name`, best first (for 'did you mean' hints)."""
    known = sorted(set(known))
    matches = difflib.get_close_matches(name, known, n=limit, cutoff=0.6)
    if not matches:
        # A prefix is a strong hint too: 'gpt-4.1' should suggest 'gpt-4.1-2025-04-14'.
        matches = [k for k in known if k.startswith(name) or name.startswith(k)][:limit]
    return matches
