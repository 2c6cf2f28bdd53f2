"""Scenarios: how much traffic to expect, and which ways of serving it to price.

A scenario file (TOML, `schema_version = 1`) keeps the usage apart from what is priced, as
infracost's usage file does:

* `[traffic]`: requests per month (or per day), monthly growth, the months to cover, tokens per
  request (given, or measured from a sample of requests), and the shares of traffic sent through
  the Batch API and of input served from the prompt cache;
* `[strategies."<name>"]`: any number of named strategies: `base` (a model with the full prompt),
  `fine-tuned` (a fine-tuned model with a shorter prompt, a training fee and upkeep) and
  `retrieval` (embeddings, retrieved context and a vector database).

Every value can be set or overridden from the command line (`Override`), and every problem is
reported at once with the file and key (`scenario.toml: traffic.batch_share: must be between 0
and 1, not 1.5`) or the flag it came from (`--batch-share: ...`). Loading does no pricing: model
names are checked against the price sheets by `costcalc.compare`, which knows the dates.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from ._schema import Checker, KeyPath, Raw, did_you_mean, display_path, is_whole, key_path, read_toml, show_value
from .errors import CostCalcError, DatasetError, Problem, ScenarioError, ScenarioUsageError, UsageError, closest_names
from .atomic import write_text
from .months import add_months, days_in_month, month_label, parse_month
from .training import MAX_EPOCHS

SCHEMA_VERSION = 1
STRATEGY_TYPES = ("base", "fine-tuned", "retrieval")
PRESETS = ("small", "medium", "large", "2026")
CUSTOMERS = ("new", "existing")  # who asks: a team that never fine-tuned, or one with fine-tuned models
MAX_HORIZON_MONTHS = 120
MAX_TRAINING_HOURS = 10_000  # hours of one training run
MAX_DEPLOYMENTS = 10_000
# Plausible bounds: far beyond any real deployment, low enough that every figure stays exact and
# readable. Traffic: a trillion requests a month; tokens: ten million per request (the longest
# context windows are about a million); fixed costs: a billion USD a month; growth: 1,000% a month.
MAX_REQUESTS = 10**12
MAX_TOKENS_PER_REQUEST = 10**7
MAX_TOKENS = 10**13  # a training file or a retrieval corpus
MAX_USD_PER_MONTH = 10**9
MAX_GROWTH_PCT = 1000
LAST_MONTH = dt.date(9999, 12, 1)  # the last month a date can hold

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
EXAMPLE_SCENARIO = EXAMPLES_DIR / "example-scenario.toml"
EXAMPLE_DATASET = EXAMPLES_DIR / "example-train.jsonl"
# The bundled examples: the question costcalc was built for (GPT-3.5 Turbo, 2023), and a team deciding
# in December 2026 (the "2026" preset of `scenario init`).
EXAMPLES = {"2023": EXAMPLE_SCENARIO, "2026": EXAMPLES_DIR / "presets" / "2026.toml"}

_TOP_KEYS = ("schema_version", "title", "baseline", "fine_tuning_customer", "traffic", "strategies")
_TRAFFIC_KEYS = (
    "requests_per_month", "requests_per_day", "monthly_growth_pct", "start_month", "horizon_months",
    "prompt_tokens", "completion_tokens", "sample_file", "batch_share", "flex_share", "priority_share",
    "cached_share",
)
_COMMON_KEYS = ("type", "model", "prompt_tokens", "completion_tokens", "sample_file", "cached_share", "deployment",
                "migrate_to", "migrate_month")
_STRATEGY_KEYS = {
    "base": _COMMON_KEYS,
    "fine-tuned": (*_COMMON_KEYS, "training_file", "training_tokens", "training_hours", "epochs",
                   "retrain_every_months", "upkeep_usd_per_month", "deployments", "hosting_hours_per_month"),
    "retrieval": (*_COMMON_KEYS, "embedding_model", "corpus_tokens", "refresh_every_months", "query_tokens",
                  "context_tokens", "vector_db_usd_per_month"),
}
_ALL_STRATEGY_KEYS = tuple(dict.fromkeys(k for keys in _STRATEGY_KEYS.values() for k in keys))

# --- the nouns -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Traffic:
    """The requests to serve, month by month, and what one request looks like.

    Exactly one of `requests_per_month` and `requests_per_day` is set; either is the volume of the
    first month, and each later month has `monthly_growth_pct` % more (compounding). Tokens are
    per request; `prompt_tokens`/`completion_tokens` are None when measured from `sample_file`.
    """

    start: dt.date  # the first day of the first month
    horizon_months: int
    requests_per_month: Decimal | None = None
    requests_per_day: Decimal | None = None
    monthly_growth_pct: Decimal = Decimal(0)
    prompt_tokens: Decimal | None = None
    completion_tokens: Decimal | None = None
    sample_file: Path | None = None
    batch_share: Decimal = Decimal(0)  # of requests, 0..1
    flex_share: Decimal = Decimal(0)  # of requests at the Flex tier's prices, 0..1
    priority_share: Decimal = Decimal(0)  # of requests at the Priority tier's prices, 0..1
    # Of the prompt tokens the cache can serve (OpenAI: prompts of 1,024+ tokens, in 128-token
    # increments), the share served from it, 0..1; a strategy may set its own.
    cached_share: Decimal = Decimal(0)

    @property
    def start_month(self) -> str:
        return month_label(self.start)

    def months(self) -> list[dt.date]:
        """The first day of every month of the horizon."""
        return [add_months(self.start, i) for i in range(self.horizon_months)]

    def growth(self, index: int) -> Decimal:
        """How many times the first month's rate the `index`-th month (0-based) has: compounding."""
        return (1 + self.monthly_growth_pct / 100) ** index

    def requests(self, month: dt.date, index: int) -> Decimal:
        """Requests in `month`, the `index`-th (0-based) of the horizon."""
        if self.requests_per_day is not None:
            return self.requests_per_day * days_in_month(month) * self.growth(index)
        assert self.requests_per_month is not None  # the loader demands one of the two
        return self.requests_per_month * self.growth(index)

    def weight(self, index: int) -> Decimal:
        """Requests in the `index`-th month per request in the first: growth, and days for a daily rate."""
        if self.requests_per_day is not None:
            days = Decimal(days_in_month(add_months(self.start, index))) / days_in_month(self.start)
            return days * self.growth(index)
        return self.growth(index)


@dataclass(frozen=True)
class Strategy:
    """One way of serving the traffic. Token counts are per request; None = the traffic's value.

    `base`: `model` with the full prompt. `fine-tuned`: the fine-tuned `model`, trained on
    `training_file` (or `training_tokens` × `epochs`) in the first month and again every
    `retrain_every_months` (0 = never), plus `upkeep_usd_per_month`. `retrieval`: `model` with
    `context_tokens` of retrieved text added to each prompt, `query_tokens` embedded per request,
    `corpus_tokens` embedded in the first month and every `refresh_every_months`, plus
    `vector_db_usd_per_month`.
    """

    name: str
    type: str
    model: str
    prompt_tokens: Decimal | None = None
    completion_tokens: Decimal | None = None
    sample_file: Path | None = None
    training_file: Path | None = None
    training_tokens: int | None = None
    epochs: int | str = "auto"
    retrain_every_months: int = 0
    upkeep_usd_per_month: Decimal = Decimal(0)
    embedding_model: str = "text-embedding-ada-002"
    corpus_tokens: int = 0
    refresh_every_months: int = 0
    query_tokens: Decimal = Decimal(0)
    context_tokens: Decimal = Decimal(0)
    vector_db_usd_per_month: Decimal = Decimal(0)
    cached_share: Decimal | None = None  # None: the traffic's
    # The provider's deployment type (Azure: "global", "regional", "developer"); None: its default.
    deployment: str | None = None
    # From `migrate_month` (default: the first month the model cannot serve), serve with
    # `migrate_to` instead; a fine-tuned strategy trains again on it.
    migrate_to: str | None = None
    migrate_month: dt.date | None = None
    # Fine-tuning billed per training hour (reinforcement fine-tuning): hours of one run.
    training_hours: Decimal | None = None
    deployments: int = 1  # fine-tuned models deployed at once, each billed per hour where hosting is
    hosting_hours_per_month: Decimal | None = None  # None: every hour of the month


@dataclass(frozen=True)
class Scenario:
    """Traffic and strategies, with where each value came from (for error messages).

    `source` is the scenario file as shown in messages; `origins` maps the key paths set from the
    command line to the flag that set them.
    """

    traffic: Traffic
    strategies: tuple[Strategy, ...]
    baseline: str
    title: str = ""
    path: Path | None = None
    source: str = "scenario"
    fine_tuning_customer: str = "new"
    origins: Mapping[KeyPath, str] = field(default_factory=dict, compare=False)

    def strategy(self, name: str) -> Strategy:
        for strategy in self.strategies:
            if strategy.name == name:
                return strategy
        raise UsageError(no_strategy_message(name, self.names(), self.source))

    def names(self) -> list[str]:
        return [s.name for s in self.strategies]

    def where(self, path: KeyPath) -> str:
        """Where a value came from: `--flag` or `file: key.path`."""
        file, key, _ = _locate(self.source, self.origins, path)
        return f"{file}: {key}" if key else file

    def error(self, path: KeyPath, message: str) -> CostCalcError:
        """The error for a bad value: a UsageError (exit 2) for a flag, a ScenarioError for the file."""
        file, key, from_flag = _locate(self.source, self.origins, path)
        return (ScenarioUsageError if from_flag else ScenarioError)([Problem(file, key, message)])


def _origin(origins: Mapping[KeyPath, str], path: KeyPath) -> tuple[str | None, KeyPath]:
    """The flag that set `path` or the nearest table above it."""
    for n in range(len(path), 0, -1):
        if path[:n] in origins:
            return origins[path[:n]], path[:n]
    return None, ()


def no_strategy_message(name: str, known: Sequence[str], where: str | None = None) -> str:
    """"no strategy 'GPT4' in scenario.toml (did you mean 'GPT-4'?); strategies are: Base, GPT-4"."""
    hint = closest_names(name, known, limit=1)
    return (f"no strategy {name!r}" + (f" in {where}" if where else "")
            + (f" (did you mean {hint[0]!r}?)" if hint else "") + "; strategies are: " + ", ".join(known))


# --- months --------------------------------------------------------------------------------------




# --- overrides from the command line ---------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    """A value set from the command line: key path, value (as TOML would read it) and the flag."""

    path: KeyPath
    value: object
    origin: str


def split_assignment(text: str) -> tuple[str, str] | None:
    """'KEY=VALUE' -> (KEY, VALUE) split at the first '=' outside double or single quotes, both
    stripped; None without an '=' or with an empty KEY."""
    quote = None
    for i, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "=":
            key, value = text[:i].strip(), text[i + 1:].strip()
            return (key, value) if key else None
    return None


def parse_key_path(text: str) -> KeyPath:
    """A dotted key as TOML writes it: 'strategies."My bot".model' -> ('strategies', 'My bot', 'model');
    ValueError if TOML would not read it as a key."""
    try:
        parsed = tomllib.loads(f"{text} = 0")
    except tomllib.TOMLDecodeError:
        raise ValueError(text) from None
    path = []
    while isinstance(parsed, dict):
        (name, parsed), = parsed.items()
        path.append(name)
    return tuple(path)


MAX_AMOUNT = Decimal(10) ** 12  # an exchange rate or a budget beyond this is a typo


def parse_amount(text: str, origin: str, *, positive: bool = False) -> Decimal:
    """A plain decimal given as text (an exchange rate, a budget), exact: >= 0, or > 0 with
    `positive`, and at most a trillion; a UsageError naming `origin` (the flag, for the CLI) otherwise."""
    number = parse_plain_number(text)
    if isinstance(number, str) or number < 0 or (positive and number == 0):
        raise UsageError(f"{origin}: must be a number {'> 0' if positive else '>= 0'}, not {text!r}")
    if number > MAX_AMOUNT:
        raise UsageError(f"{origin}: must be at most {MAX_AMOUNT:,}, not {text}")
    return Decimal(number)


_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")


def parse_plain_number(text: str) -> int | Decimal | str:
    """A flag's number as a person writes it: 12 -> 12, 0.5 -> Decimal('0.5'), 1e3 -> Decimal('1E+3').
    Anything else stays text, for the loader to report: '0x10', '1_000' and 'inf' are not numbers here,
    although TOML would read the first two."""
    text = text.strip()
    if not _PLAIN_NUMBER.fullmatch(text):
        return text
    return int(text) if text.lstrip("+-").isdigit() else Decimal(text)


def parse_value(text: str) -> object:
    """A value as TOML reads it (numbers exact, as Decimal); anything TOML rejects is a string."""
    try:
        return tomllib.loads(f"v = {text}", parse_float=Decimal)["v"]
    except tomllib.TOMLDecodeError:
        return text


def dataset_overrides(raw_strategies: object, path: str, origin: str = "dataset") -> list[Override]:
    """The training file of every fine-tuned strategy (replacing training_tokens); `origin` names
    where the file came from in messages (the CLI passes its flag)."""
    strategies = raw_strategies if isinstance(raw_strategies, dict) else {}
    names = [name for name, body in strategies.items() if isinstance(body, dict) and body.get("type") == "fine-tuned"]
    if not names:
        raise UsageError(f"{origin}: the scenario has no fine-tuned strategy to train on it")
    return [Override(("strategies", name, "training_file"), path, origin) for name in names]


def measured_overrides(measured, origin: str = "--usage") -> list[Override]:
    """The [traffic] values a usage history gives (a `usage.MeasuredTraffic`), as overrides: the last
    full month's requests grown by one month of the fitted growth, that growth, the next month as start,
    tokens per request, and the
    batch and cached shares. The scenario's cached_share is of cacheable prompts, so the measured
    share of cached input tokens is divided by what the cache could serve of a mean prompt."""
    from .cost import cacheable_tokens

    cacheable = cacheable_tokens(measured.prompt_tokens)
    cached_tokens = measured.cached_share * measured.prompt_tokens
    cached_share = min(Decimal(1), cached_tokens / cacheable) if cacheable else Decimal(0)
    # The forecast's first month is the one after the last measured: one month of the fitted growth on.
    first = (Decimal(measured.requests_per_month) * (1 + measured.monthly_growth_pct / 100)).to_integral_value()
    values = {
        "requests_per_month": int(first),
        "monthly_growth_pct": measured.monthly_growth_pct,
        "start_month": month_label(measured.start),
        "prompt_tokens": measured.prompt_tokens,
        "completion_tokens": measured.completion_tokens,
        "batch_share": measured.batch_share.quantize(Decimal("0.0001")),
        "cached_share": cached_share.quantize(Decimal("0.0001")),
    }
    return [Override(("traffic", key), value, origin) for key, value in values.items()]


def apply_overrides(raw: dict, overrides: Iterable[Override]) -> dict[KeyPath, str]:
    """Set each override in the parsed TOML (in place); returns key path -> flag."""
    origins: dict[KeyPath, str] = {}
    for override in overrides:
        table = raw
        for i, name in enumerate(override.path[:-1]):
            if name not in table:  # a table the flag creates (a new strategy) is the flag's
                table[name] = {}
                origins.setdefault(override.path[:i + 1], override.origin)
            table = table[name]
            if not isinstance(table, dict):
                raise UsageError(f"{override.origin}: {key_path(override.path[:i + 1])} is not a table")
        leaf = override.path[-1]
        table[leaf] = override.value
        origins[override.path] = override.origin
        # A flag for one of two alternatives replaces the other one the file gives.
        if override.path == ("traffic", "requests_per_month"):
            _drop(table, "requests_per_day", origins, override.path[:-1])
        elif override.path == ("traffic", "requests_per_day"):
            _drop(table, "requests_per_month", origins, override.path[:-1])
        elif len(override.path) == 3 and override.path[0] == "strategies" and leaf == "training_file":
            _drop(table, "training_tokens", origins, override.path[:-1])
        elif len(override.path) == 3 and override.path[0] == "strategies" and leaf == "training_tokens":
            _drop(table, "training_file", origins, override.path[:-1])
        elif leaf == "sample_file":
            # A sample given by flag is there to be measured: it replaces the numbers the file gives.
            _drop(table, "prompt_tokens", origins, override.path[:-1])
            _drop(table, "completion_tokens", origins, override.path[:-1])
    return origins


def _drop(table: dict, key: str, origins: dict, parent: KeyPath) -> None:
    if (*parent, key) not in origins:
        table.pop(key, None)


# --- loading -------------------------------------------------------------------------------------


def load_scenario(
    path: str | os.PathLike[str] | None = None,
    overrides: Iterable[Override] = (),
    dataset: str | os.PathLike[str] | None = None,
    dataset_origin: str = "dataset",
    example: str | None = None,
) -> Scenario:
    """Read a scenario file (a bundled example when `path` is None: `example` "2023", the default, or
    "2026"), apply the command-line overrides and `dataset` (the training file of every fine-tuned
    strategy; messages name it `dataset_origin`), and validate it all; every problem is reported at once."""
    if example is not None and example not in EXAMPLES:
        raise UsageError(f"unknown example {example!r}; the examples are {', '.join(EXAMPLES)}")
    bundled = EXAMPLES[example or "2023"]
    file = Path(path) if path is not None else bundled
    # The bundled example lives wherever pip put costcalc: name it, not its site-packages path,
    # in reports people forward.
    shown = display_path(file) if path is not None else f"the bundled example ({bundled.name})"
    raw, problem = read_toml(file, shown)
    if raw is None:
        assert problem is not None
        raise ScenarioError([problem])
    overrides = list(overrides)
    origins = apply_overrides(raw, overrides)
    if dataset is not None:
        origins.update(apply_overrides(raw, dataset_overrides(raw.get("strategies"), os.fspath(dataset),
                                                            dataset_origin)))
    return read_scenario(raw, source=shown, path=file, origins=origins)


def read_scenario(raw: dict, *, source: str = "scenario", path: Path | None = None,
                  origins: Mapping[KeyPath, str] | None = None) -> Scenario:
    """Validate parsed TOML into a Scenario; ScenarioError (or a UsageError, when a flag is at
    fault) lists every problem."""
    check = _Checker(source, path, dict(origins or {}))
    scenario = check.scenario(raw)
    if check.problems:
        flags = set(check.origins.values())
        flag_problems = [p for p in check.problems if p.file in flags]
        file_problems = [p for p in check.problems if p.file not in flags]
        # A flag at fault is bad usage (exit 2), whatever else is wrong; its problems come first.
        raise (ScenarioUsageError if flag_problems else ScenarioError)(flag_problems + file_problems)
    assert scenario is not None
    return scenario


def _locate(source: str, origins: Mapping[KeyPath, str], path: KeyPath) -> tuple[str, str, bool]:
    """(file, key, from a flag) of the value at `path`: the flag that set it, else the scenario file.

    A value the flag named itself is just the flag (`--batch-share`); one inside a table the flag
    created keeps its key (`--set strategies."GPT-4o mini".type: strategies."GPT-4o mini".model`).
    """
    origin, origin_path = _origin(origins, path)
    if origin is None:
        return source, key_path(path), False
    return origin, "" if origin_path == path else key_path(path), True


class _Checker(Checker):
    """Reads parsed TOML into dataclasses, collecting every problem with its key path or flag."""

    def __init__(self, source: str, file: Path | None, origins: dict[KeyPath, str]):
        super().__init__(source)  # self.file: the scenario as messages name it
        self.scenario_file = file
        self.base_dir = file.parent if file is not None else Path.cwd()
        self.origins = origins
        self.suggested: set[KeyPath] = set()  # keys a misspelt key was taken for: not also "missing"

    def locate(self, path: KeyPath) -> tuple[str, str]:
        file, key, _ = _locate(self.file, self.origins, path)
        return file, key

    def missing(self, path: KeyPath, message: str = "missing") -> None:
        if path not in self.suggested:
            super().missing(path, message)

    def scenario(self, raw: Raw) -> Scenario | None:
        if not self.schema_version(raw, SCHEMA_VERSION):
            return None
        self.unknown_keys(raw, _TOP_KEYS, ())
        title = self.string(raw, ("title",), non_empty=True) or ""
        customer = self.string(raw, ("fine_tuning_customer",), non_empty=True) or "new"
        if customer not in CUSTOMERS:
            self.problem(("fine_tuning_customer",), f"must be one of {', '.join(repr(c) for c in CUSTOMERS)}, "
                                                    f"not {customer!r}{did_you_mean(customer, CUSTOMERS)}")
        traffic = self.traffic(self.table(raw, ("traffic",), required=True))
        strategies = self.strategies(self.table(raw, ("strategies",), required=True), traffic)
        baseline = self.string(raw, ("baseline",), non_empty=True)
        names = list(raw.get("strategies") or ()) if isinstance(raw.get("strategies"), dict) else []
        if baseline is None:
            baseline = next((s.name for s in strategies if s.type == "base"), names[0] if names else "")
        elif baseline not in names and names:
            self.problem(("baseline",), f"no strategy {baseline!r}{did_you_mean(baseline, names)}")
        if self.problems or traffic is None:
            return None
        return Scenario(traffic=traffic, strategies=tuple(strategies), baseline=baseline, title=title,
                        path=self.scenario_file, source=self.file, origins=dict(self.origins),
                        fine_tuning_customer=customer)

    def traffic(self, raw: Raw | None) -> Traffic | None:
        if raw is None:
            return None
        p = ("traffic",)
        self.unknown_keys(raw, _TRAFFIC_KEYS, p)
        per_month = self.quantity(raw, (*p, "requests_per_month"), maximum=MAX_REQUESTS, unit="requests")
        per_day = self.quantity(raw, (*p, "requests_per_day"), maximum=MAX_REQUESTS // 31, unit="requests")
        if "requests_per_month" not in raw and "requests_per_day" not in raw:
            self.missing((*p, "requests_per_month"), "missing (give requests_per_month or requests_per_day)")
        elif per_month is not None and per_day is not None:
            self.problem((*p, "requests_per_day"), "give requests_per_month or requests_per_day, not both")
        growth = self.quantity(raw, (*p, "monthly_growth_pct"), minimum=None, maximum=MAX_GROWTH_PCT, unit="%")
        if growth is not None and growth <= -100:
            self.problem((*p, "monthly_growth_pct"), f"must be more than -100 (%), not {show_value(growth)}")
            growth = None
        start = self.month(raw, (*p, "start_month"))
        horizon = self.integer(raw, (*p, "horizon_months"), required=True, minimum=1, unit="months",
                               maximum=MAX_HORIZON_MONTHS)
        sample = self.path(raw, (*p, "sample_file"))
        prompt = self.quantity(raw, (*p, "prompt_tokens"), maximum=MAX_TOKENS_PER_REQUEST, unit="tokens")
        completion = self.quantity(raw, (*p, "completion_tokens"), maximum=MAX_TOKENS_PER_REQUEST, unit="tokens")
        self.sample_used(raw, p)
        if sample is None:
            if "prompt_tokens" not in raw:
                self.missing((*p, "prompt_tokens"), "missing (give prompt_tokens, or a sample_file to measure them)")
            if "completion_tokens" not in raw:
                self.missing((*p, "completion_tokens"),
                             "missing (give completion_tokens, or a sample_file to measure them)")
        batch = self.share(raw, (*p, "batch_share"))
        flex = self.share(raw, (*p, "flex_share"))
        priority = self.share(raw, (*p, "priority_share"))
        if sum((s for s in (batch, flex, priority) if s is not None), Decimal(0)) > 1:
            self.problem((*p, "priority_share" if priority else "flex_share"),
                         "batch_share + flex_share + priority_share must be at most 1 (the rest is standard)")
        cached = self.share(raw, (*p, "cached_share"))
        if start is not None and horizon is not None and add_months(LAST_MONTH, 1 - horizon) < start:
            self.problem((*p, "start_month"), f"{month_label(start)} leaves no room for {horizon} months "
                                              f"(horizon_months): {month_label(LAST_MONTH)} is the last month "
                                              "a date can hold")
            horizon = None
        if start is None or horizon is None or (per_month is None and per_day is None):
            return None
        first = per_month if per_month is not None else (per_day or Decimal(0)) * 31
        if growth is not None and growth > 0 and first * (1 + growth / 100) ** (horizon - 1) > MAX_REQUESTS * 1000:
            self.problem((*p, "monthly_growth_pct"),
                         f"{show_value(growth)}% a month for {horizon} months would reach more than "
                         f"{MAX_REQUESTS * 1000:,} requests a month")
            return None
        return Traffic(
            start=start, horizon_months=horizon, requests_per_month=per_month if per_day is None else None,
            requests_per_day=per_day, monthly_growth_pct=growth if growth is not None else Decimal(0),
            prompt_tokens=prompt, completion_tokens=completion, sample_file=sample,
            batch_share=batch if batch is not None else Decimal(0),
            flex_share=flex if flex is not None else Decimal(0),
            priority_share=priority if priority is not None else Decimal(0),
            cached_share=cached if cached is not None else Decimal(0),
        )

    def strategies(self, raw: Raw | None, traffic: Traffic | None) -> list[Strategy]:
        if raw is None:
            return []
        if not raw:
            self.problem(("strategies",), 'has no strategy: add at least one [strategies."<name>"] table')
        strategies = []
        for name in raw:
            path = ("strategies", name)
            body = self.table(raw, path)
            if body is None:
                continue
            strategy = self.strategy(name, body, path)
            if strategy is not None:
                strategies.append(strategy)
        return strategies

    def strategy(self, name: str, raw: Raw, p: KeyPath) -> Strategy | None:
        kind: str | None = raw["type"] if raw.get("type") in STRATEGY_TYPES else None
        self.unknown_keys(raw, _STRATEGY_KEYS[kind] if kind else _ALL_STRATEGY_KEYS, p, kind)
        if kind is None and self.string(raw, (*p, "type"), required=True, non_empty=True) is not None:
            self.problem((*p, "type"), f"must be one of {', '.join(STRATEGY_TYPES)}, not {raw['type']!r}"
                                       f"{did_you_mean(raw['type'], STRATEGY_TYPES)}")
        model = self.string(raw, (*p, "model"), required=True, non_empty=True)
        values: dict[str, object] = {
            "prompt_tokens": self.quantity(raw, (*p, "prompt_tokens"), maximum=MAX_TOKENS_PER_REQUEST, unit="tokens"),
            "completion_tokens": self.quantity(raw, (*p, "completion_tokens"), maximum=MAX_TOKENS_PER_REQUEST,
                                               unit="tokens"),
            "sample_file": self.path(raw, (*p, "sample_file")),
            "cached_share": self.share(raw, (*p, "cached_share")),
            "deployment": self.string(raw, (*p, "deployment"), non_empty=True),
            "migrate_to": self.string(raw, (*p, "migrate_to"), non_empty=True),
        }
        if "migrate_month" in raw:
            values["migrate_month"] = self.month(raw, (*p, "migrate_month"))
            if "migrate_to" not in raw:
                self.missing((*p, "migrate_to"), "missing (migrate_month needs the model to migrate to)")
        self.sample_used(raw, p)
        if kind == "fine-tuned":
            values["training_file"] = self.path(raw, (*p, "training_file"))
            values["training_tokens"] = self.integer(raw, (*p, "training_tokens"), minimum=1, maximum=MAX_TOKENS,
                                                     unit="tokens")
            values["training_hours"] = self.quantity(raw, (*p, "training_hours"), maximum=MAX_TRAINING_HOURS,
                                                     unit="hours")
            if values["training_hours"] == 0:
                self.problem((*p, "training_hours"), "must be more than 0 (the hours one training run takes)")
            given_training = [k for k in ("training_file", "training_tokens", "training_hours") if k in raw]
            if len(given_training) > 1:
                self.problem((*p, given_training[-1]), f"give one of training_file, training_tokens and "
                                                       f"training_hours, not {' and '.join(given_training)}")
            elif not given_training:
                self.missing((*p, "training_file"),
                             "missing (give training_file, a JSONL file of training examples, training_tokens, "
                             "or training_hours for a job billed per training hour)")
            values["deployments"] = self.integer(raw, (*p, "deployments"), minimum=1, maximum=MAX_DEPLOYMENTS,
                                                 unit="deployments")
            values["hosting_hours_per_month"] = self.quantity(raw, (*p, "hosting_hours_per_month"), maximum=744,
                                                              unit="hours")
            values["epochs"] = self.epochs(raw, (*p, "epochs"))
            values["retrain_every_months"] = self.integer(raw, (*p, "retrain_every_months"), unit="months") or 0
            values["upkeep_usd_per_month"] = self.quantity(raw, (*p, "upkeep_usd_per_month"), unit="USD",
                                                           maximum=MAX_USD_PER_MONTH)
        elif kind == "retrieval":
            values["embedding_model"] = self.string(raw, (*p, "embedding_model"), non_empty=True)
            values["corpus_tokens"] = self.integer(raw, (*p, "corpus_tokens"), maximum=MAX_TOKENS, unit="tokens") or 0
            values["refresh_every_months"] = self.integer(raw, (*p, "refresh_every_months"), unit="months") or 0
            values["query_tokens"] = self.quantity(raw, (*p, "query_tokens"), maximum=MAX_TOKENS_PER_REQUEST,
                                                   unit="tokens")
            values["context_tokens"] = self.quantity(raw, (*p, "context_tokens"), maximum=MAX_TOKENS_PER_REQUEST,
                                                     unit="tokens")
            values["vector_db_usd_per_month"] = self.quantity(raw, (*p, "vector_db_usd_per_month"), unit="USD",
                                                              maximum=MAX_USD_PER_MONTH)
        if kind is None or model is None:
            return None
        given = {k: v for k, v in values.items() if v is not None}
        return Strategy(name=name, type=kind, model=model, **given)  # type: ignore[arg-type]  # typed by the getters

    # --- the scenario's own kinds of value, on the shared getters ---

    def quantity(self, raw: Raw, path: KeyPath, minimum: int | None = 0, unit: str = "",
                 maximum: int | None = None) -> Decimal | None:
        """A finite number of requests, tokens or dollars from `minimum` (None: no lower bound) to
        `maximum` (the plausible bound, said in the message)."""
        value = self.number(raw, path, expected=f"a number ({unit})" if unit in ("USD", "%") else "a number")
        if value is None:
            return None
        if not value.is_finite():
            self.problem(path, f"must be a finite number, not {value}")
            return None
        if minimum is not None and value < minimum:
            self.problem(path, f"must be {minimum} or more, not {show_value(value)}")
            return None
        if maximum is not None and value > maximum:
            what = f"{maximum:,} {unit}".rstrip() if unit != "%" else f"{maximum:,}%"
            self.problem(path, f"must be at most {what}, not {show_value(value)}")
            return None
        return value

    def share(self, raw: Raw, path: KeyPath) -> Decimal | None:
        value = self.number(raw, path, expected="a number between 0 and 1")
        if value is None:
            return None
        if not (value.is_finite() and 0 <= value <= 1):
            self.problem(path, f"must be between 0 and 1, not {show_value(value)}")
            return None
        return value

    def month(self, raw: Raw, path: KeyPath) -> dt.date | None:
        value = raw.get(path[-1])
        if value is None:
            self.missing(path, 'missing (the first month, as "YYYY-MM")')
            return None
        try:
            return parse_month(value)
        except ValueError:
            self.problem(path, f'must be a month as "YYYY-MM", not {show_value(value)}')
            return None

    def epochs(self, raw: Raw, path: KeyPath) -> int | str | None:
        value = raw.get(path[-1])
        if value is None:
            return None
        if value == "auto":
            return "auto"
        if is_whole(value) and 1 <= value <= MAX_EPOCHS:
            return value
        self.problem(path, f'must be "auto" or a whole number from 1 to {MAX_EPOCHS}, not {show_value(value)}')
        return None

    def sample_used(self, raw: Raw, table: KeyPath) -> None:
        """A sample_file beside both token numbers of its table would never be read: say so."""
        if "sample_file" in raw and "prompt_tokens" in raw and "completion_tokens" in raw:
            self.problem((*table, "sample_file"), "is never used: prompt_tokens and completion_tokens are both "
                                                  "given here (remove them to measure them from the sample)")

    def path(self, raw: Raw, path: KeyPath) -> Path | None:
        value = self.string(raw, path, non_empty=True)
        if value is None:
            return None
        file = Path(value).expanduser()
        if not file.is_absolute():
            # A path in the file is relative to the file; one from a flag to the working directory.
            origin, _ = _origin(self.origins, path)
            file = (Path.cwd() if origin else self.base_dir) / file
        return file

    def unknown_keys(self, raw: Raw, allowed: Iterable[str], path: KeyPath, kind: str | None = None) -> None:
        allowed = tuple(allowed)
        for key in raw:
            if key in allowed:
                continue
            hint = closest_names(key, allowed, limit=1)
            if hint and hint[0] not in raw:
                self.suggested.add((*path, hint[0]))
            if kind and key in _ALL_STRATEGY_KEYS:
                message = f"not a key of a {kind} strategy (it belongs to another type)"
            else:
                message = "unknown key" + did_you_mean(key, allowed)
            self.problem((*path, key), message)


# --- measuring tokens from a sample of requests ------------------------------------------------------


@dataclass(frozen=True)
class RequestSample:
    """Mean tokens per request measured from a JSONL sample of chat requests."""

    file: Path
    encoding: str
    requests: int
    prompt_tokens: Decimal  # mean
    completion_tokens: Decimal  # mean


def measure_sample(path: Path, encoding_name: str) -> RequestSample:
    """Mean prompt and completion tokens of the chat requests in a JSONL file.

    Each line is {"messages": [...]} (optionally with "tools"/"functions"). The prompt is every
    message before the last assistant message, counted by the cookbook rule including the 3 tokens
    that prime the reply; the completion is the tokens of that last assistant message.
    """
    from .jsonl import numbered_lines
    from .tokens import count_messages, get_encoding

    encoding = get_encoding(encoding_name)
    shown = display_path(path)
    prompts = completions = requests = 0
    for number, line in numbered_lines(path, shown):
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
            raise DatasetError(f"{shown}: line {number}: not valid JSON") from None
        messages = obj.get("messages") if isinstance(obj, dict) else None
        if not isinstance(messages, list) or not messages:
            raise DatasetError(f'{shown}: line {number}: expected an object with a "messages" list')
        last = max((i for i, m in enumerate(messages)
                    if isinstance(m, dict) and m.get("role") == "assistant"), default=None)
        if last is None:
            raise DatasetError(f"{shown}: line {number}: no assistant message (the completion is "
                               "measured from the last assistant message)")
        try:
            prompt = count_messages(messages[:last], encoding, tools=obj.get("tools"),
                                    functions=obj.get("functions"))
            reply = count_messages([messages[last]], encoding)
        except DatasetError as exc:
            raise DatasetError(f"{shown}: line {number}: {exc}") from None
        prompts += prompt.total
        completions += reply.assistant
        requests += 1
    if not requests:
        raise DatasetError(f"{shown}: holds no requests")
    return RequestSample(path, encoding_name, requests, Decimal(prompts) / requests, Decimal(completions) / requests)


# --- writing a new scenario ----------------------------------------------------------------------


def preset_text(preset: str = "medium") -> str:
    """The text of a preset scenario: every key with a comment giving its unit and meaning."""
    if preset not in PRESETS:
        raise UsageError(f"unknown preset {preset!r}; presets are {', '.join(PRESETS)}")
    return (EXAMPLES_DIR / "presets" / f"{preset}.toml").read_text(encoding="utf-8")


def write_scenario(path: str | os.PathLike[str], preset: str = "medium", force: bool = False) -> Path:
    """Write a preset scenario to `path`; an existing file is kept unless `force`."""
    target = Path(path)
    text = preset_text(preset)
    if target.exists() and not force:
        raise UsageError(f"{target}: already exists (force=True overwrites it)")
    # Atomically: a full disk leaves no empty file, and a failed --force keeps the old scenario.
    write_text(target, text)
    return target


__all__ = [
    "EXAMPLES",
    "measured_overrides",
    "EXAMPLE_DATASET",
    "EXAMPLE_SCENARIO",
    "Override",
    "PRESETS",
    "RequestSample",
    "STRATEGY_TYPES",
    "Scenario",
    "Strategy",
    "Traffic",
    "add_months",
    "apply_overrides",
    "days_in_month",
    "key_path",
    "load_scenario",
    "measure_sample",
    "month_label",
    "parse_month",
    "no_strategy_message",
    "parse_amount",
    "parse_key_path",
    "parse_plain_number",
    "parse_value",
    "preset_text",
    "read_scenario",
    "split_assignment",
    "write_scenario",
]
