"""One family of errors, so the CLI can turn every user mistake into a one-line message.

Each error says what went wrong and where: the pricing file and key path, the dataset line,
the scenario key, the flag. `cli.py` converts them in one place (exit 1 for a failed run,
exit 2 for bad usage); the library just raises.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


class CostCalcError(Exception):
    """Base class of every error costcalc raises on purpose."""

    exit_code = 1


class UsageError(CostCalcError):
    """A bad argument or option value (the CLI exits 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, as data: the file (or the flag), the key path, the message.

    `key` is "" for a problem of the whole file (not valid TOML, cannot be read); `file` is the
    flag for a value set from the command line (`--batch-share`).
    """

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return ": ".join(part for part in (self.file, self.key, self.message) if part)

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "key": self.key, "message": self.message}


class _ProblemsError(CostCalcError):
    """Every problem found in one reading of the inputs, each in `problems`.

    A plain string is taken as one problem whose message already says where it is.
    """

    heading = "problems"  # "3 problems in <heading>:"

    def __init__(self, problems: Iterable[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem("", "", problems)]
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = str(self.problems[0])
        else:
            message = f"{len(self.problems)} problems in {self.heading}:\n" + "\n".join(
                f"  {p}" for p in self.problems
            )
        super().__init__(message)


class PricingError(_ProblemsError):
    """One or more problems in price sheets; `problems` holds every one, each with file and key."""

    heading = "price sheets"


class UnknownModelError(CostCalcError, KeyError):
    """A model name no price sheet (or not the one in force) knows.

    Bad usage (exit 2): the name comes from an argument or a flag. A name written in a scenario
    file is reported as that file's key instead (`compare` turns this into a ScenarioError).
    """

    exit_code = 2

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
        return str(self.args[0])


class MissingPriceError(CostCalcError):
    """A price the computation needs is not in the sheet: never priced as $0."""

    def __init__(self, model: str, price: str, effective: object):
        self.model = model
        self.price = price
        self.effective = effective
        super().__init__(f"no {price} price for {model} in the price sheet effective {effective}")


class DatasetError(CostCalcError):
    """A training or sample file that cannot be read at all."""


class ScenarioError(_ProblemsError):
    """A scenario file with bad keys or values; `problems` holds every one, each with file and key."""

    heading = "the scenario"


class ScenarioUsageError(_ProblemsError, UsageError):
    """Scenario problems of which a flag caused at least one: bad usage (exit 2), not a bad file.

    A UsageError, not a ScenarioError, as before; `problems` holds the flags' problems first.
    """

    heading = "the scenario"


def closest_names(name: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """The known names most like `name`, best first (for 'did you mean' hints)."""
    known = sorted(set(known))
    matches = difflib.get_close_matches(name, known, n=limit, cutoff=0.6)
    if not matches:
        # A prefix is a strong hint too: 'gpt-4.1' should suggest 'gpt-4.1-2025-04-14'.
        matches = [k for k in known if k.startswith(name) or name.startswith(k)][:limit]
    return matches
