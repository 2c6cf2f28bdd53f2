"""Compare strategies month by month: the exact cost of serving a scenario's traffic each way.

`compare(scenario, book)` prices every strategy of a `Scenario` over its horizon and returns one
`Comparison`, the result every output (table, JSON, CSV, Markdown, DataFrame, charts) renders from.

How a month is priced
---------------------
* Requests are spread evenly over the days of a month. Where a price sheet takes effect or an
  alias moves mid-month, the month is split by days and each part is priced on its own (November
  2023: 5 days at the 2023-08-22 sheet, 25 days at the 2023-11-06 sheet; February 2024: 15 days of
  `gpt-3.5-turbo` as 0613, 14 as 0125, which it means from 2024-02-16).
* A fine-tuned model keeps the snapshot its name meant at the latest training. Training is charged
  in the first month and every `retrain_every_months`, at the sheet in force on the 1st of the
  month: billing tokens × epochs × training price.
* `batch_share` of the requests are priced at the sheet's Batch API prices (a missing batch price
  is a MissingPriceError, never $0); `cached_share` of the input tokens at the cached-input price
  (the input price where the model has no caching discount, as `cost.usage_cost` does).
* Retrieval embeds the corpus in the first month and every `refresh_every_months`, and each
  query, at the embedding model's standard price; its retrieved context is added to each prompt.

All arithmetic is Decimal with a local precision of `PRECISION` digits, so no float ever touches a
dollar; rounding happens once, in the renderer.

Because every cost is either proportional to the requests or independent of them, each month is
stored as rates (`MonthRates`): that is what makes the break-even traffic a closed form, and what
`costcalc.sensitivity` evaluates over a grid.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, Decimal, localcontext
from typing import TYPE_CHECKING

from .cost import cacheable_tokens, mode_prices, per_token, tokens_cost
from .errors import MissingPriceError, UnknownModelError, UsageError
from .inputs import Inputs, ScanProgress, due, given_tokens, read_inputs, sample_need, training_months
from .pricing import (DEFAULT_PROVIDER, PROVIDER_NAMES, FineTuningPrice, JobsClosed, ModelPrice, PriceBook, PriceSheet, Source,
                      batch_mode, not_priced_yet, split_fine_tuned)
from .render import decimal_string as plain_number

Money = Callable[[Decimal], str]  # formats an amount in USD for a sentence (prose.py's default: USD)
from .months import days_in_month, month_end, month_label, months_phrase
from .scenario import KeyPath, Scenario, Strategy
from .training import bill_tokens

if TYPE_CHECKING:
    from .dataset import DatasetReport

SCHEMA_VERSION = 1
PRECISION = 60  # digits; a month split by days divides by 28-31, the only inexact step
PRORATION_RULE = (
    "requests are spread evenly over the days of a month; where a price sheet takes effect or an alias "
    "moves mid-month, the month is split by days and each part is priced with its own sheet and snapshot"
)
ZERO = Decimal(0)


# --- the result ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetSpan:
    """Days of a month priced with one price sheet."""

    effective: dt.date
    file: str  # "2023-08-22.toml"; another provider's "azure/2025-05-01.toml"
    first_day: int
    days: int
    checked: dt.date | None = None  # when the sheet's prices were last checked against the sources
    provider: str = DEFAULT_PROVIDER


# The codes of StrategyWarning: what a reader must know about a strategy's numbers.
WARNING_CODES = ("fine_tuning_closed", "model_shut_down", "migrated", "prices_carried_forward")


@dataclass(frozen=True)
class StrategyWarning:
    """Something about a strategy the totals alone do not say: a training that cannot happen, a month
    the model cannot serve, a migration, prices carried forward past their last check."""

    code: str  # one of WARNING_CODES
    month: dt.date | None  # the first month it concerns (None: the whole horizon)
    message: str
    sources: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"code": self.code, "month": month_label(self.month) if self.month else None,
                "message": self.message, "sources": list(self.sources)}


@dataclass(frozen=True)
class LifecycleEvent:
    """A day within the horizon on which what a strategy may use changes (for the lifecycle chart)."""

    day: dt.date
    kind: str  # "shutdown", "fine_tuning_closed", "migrated"
    label: str


@dataclass(frozen=True)
class CitedSource:
    """A source of prices the comparison applied, and the sheets (by revision) that cite it for them."""

    key: str
    title: str
    url: str
    sheets: tuple[str, ...]


@dataclass(frozen=True)
class MonthSheets:
    """The price sheets in force in one month of the horizon."""

    month: dt.date
    days: int
    spans: tuple[SheetSpan, ...]


@dataclass(frozen=True)
class RequestTokens:
    """Tokens of one request under a strategy: the prompt, retrieved context, answer and query.

    `cacheable` is the part of the input the provider's prompt cache can serve (OpenAI: prompts of
    1,024 tokens or more, in 128-token increments); `cached` = `cached_share` × `cacheable` is the
    part billed at the cached-input price.
    """

    prompt: Decimal
    completion: Decimal
    context: Decimal = ZERO
    query: Decimal = ZERO  # embedded per request (retrieval)
    encoding: str | None = None
    source: str = "given"  # where prompt and completion came from
    cacheable: Decimal = ZERO
    cached: Decimal = ZERO
    cached_share: Decimal = ZERO

    @property
    def input(self) -> Decimal:
        return self.prompt + self.context


@dataclass(frozen=True)
class TrainingRun:
    """One fine-tuning job: billing tokens × epochs at the training price of the month's sheet."""

    month: dt.date
    snapshot: str
    sheet_effective: dt.date
    training_tokens: int  # billing tokens of one pass over the training data
    epochs: int
    billed_tokens: int
    training_per_1m: Decimal | None
    training_usd: Decimal
    # The scan of the training file this run was priced from (None for a given token count), so a
    # report can show the file's statistics without reading it again.
    dataset: DatasetReport | None = field(default=None, repr=False, compare=False)
    # Billed per training hour instead (reinforcement fine-tuning): hours × price per hour.
    training_hours: Decimal | None = None
    training_per_hour: Decimal | None = None
    # The provider's floor or cap, where it changed the fee: "minimum" or "maximum", and the amount.
    bound: str | None = None
    bound_usd: Decimal | None = None


@dataclass(frozen=True)
class MonthRates:
    """What one request costs in a month, and the costs that do not depend on traffic.

    The per-token rates (USD) are blended over the month's days (each sheet for its days) and the
    Batch share. A month costs requests × (uncached input tokens × input rate + cached input
    tokens × cached rate + output tokens × output rate + query tokens × embedding rate) +
    training + corpus + fixed.
    """

    weight: Decimal  # requests this month per request in the first month (growth, days)
    input_usd_per_token: Decimal  # uncached input
    cached_input_usd_per_token: Decimal
    output_usd_per_token: Decimal
    embedding_usd_per_token: Decimal
    training_usd: Decimal
    corpus_usd: Decimal  # embedding the retrieval corpus
    fixed_usd: Decimal  # upkeep or vector database, hosting and storage
    snapshots: tuple[str, ...]
    # What a cache write costs above the input price, per token (0: the model has no write price):
    # the cacheable tokens of a request not served from the cache are written to it.
    cache_write_extra_usd_per_token: Decimal = ZERO
    hosting_usd: Decimal = ZERO  # deployed fine-tuned models, per hour (in fixed_usd)
    storage_usd: Decimal = ZERO  # stored fine-tuned models, per month (in fixed_usd)
    days: int = 0  # of the month
    served_days: int = 0  # days the strategy's model could serve (the rates count only these)

    def input_usd(self, tokens: RequestTokens) -> Decimal:
        """Input cost of one request: the uncached tokens at the input rate, the cached at theirs, and
        the surcharge on the tokens written to the cache where the model has one."""
        cost = (tokens.input - tokens.cached) * self.input_usd_per_token + tokens.cached * self.cached_input_usd_per_token
        if self.cache_write_extra_usd_per_token:
            cost += (tokens.cacheable - tokens.cached) * self.cache_write_extra_usd_per_token
        return cost

    def request_usd(self, tokens: RequestTokens) -> Decimal:
        """Usage cost of one request this month."""
        return (self.input_usd(tokens) + tokens.completion * self.output_usd_per_token
                + tokens.query * self.embedding_usd_per_token)

    @property
    def traffic_free_usd(self) -> Decimal:
        """Training, corpus embedding and fixed costs: what the month costs with no traffic."""
        return self.training_usd + self.corpus_usd + self.fixed_usd


@dataclass(frozen=True)
class MonthCost:
    """One strategy in one month. Tokens and requests may be fractional (growth, day splits)."""

    month: dt.date  # the first day of the month
    number: int  # 1 for the first month of the horizon
    requests: Decimal
    input_tokens: Decimal  # cached ones included
    cached_input_tokens: Decimal
    output_tokens: Decimal
    input_usd: Decimal
    output_usd: Decimal
    retrieval_usd: Decimal  # embedding the corpus and the queries
    usage_usd: Decimal  # input + output + retrieval
    training_usd: Decimal
    fixed_usd: Decimal  # upkeep, vector database, hosting, storage
    total_usd: Decimal
    cumulative_usd: Decimal
    snapshots: tuple[str, ...]  # the model snapshots priced (two when an alias moves mid-month)
    hosting_usd: Decimal = ZERO  # in fixed_usd
    storage_usd: Decimal = ZERO  # in fixed_usd
    served_days: int = 0  # days of the month the strategy could be served
    days: int = 0
    # For a fine-tuned strategy, whether a training job could be started on the 1st (None: it does
    # not train); what the lifecycle chart draws.
    training_open: bool | None = None

    @property
    def served(self) -> bool:
        """Whether the strategy could be served every day of the month."""
        return self.served_days == self.days

    def to_dict(self) -> dict:
        return {
            "month": month_label(self.month), "month_number": self.number, "requests": self.requests,
            "input_tokens": self.input_tokens, "cached_input_tokens": self.cached_input_tokens,
            "output_tokens": self.output_tokens, "input_usd": self.input_usd, "output_usd": self.output_usd,
            "retrieval_usd": self.retrieval_usd, "usage_usd": self.usage_usd, "training_usd": self.training_usd,
            "fixed_usd": self.fixed_usd, "hosting_usd": self.hosting_usd, "storage_usd": self.storage_usd,
            "total_usd": self.total_usd, "cumulative_usd": self.cumulative_usd,
            "served_days": self.served_days, "snapshots": list(self.snapshots),
        }


@dataclass(frozen=True)
class BreakEven:
    """When and at what traffic a strategy becomes cheaper than the baseline.

    `month` is the first month whose cumulative cost is at or below the baseline's (None: not
    within the horizon). `monthly_requests` is the first-month traffic from which the per-request
    saving repays the extra training and fixed costs within the horizon (0: any traffic; None: no
    traffic does). Per-request costs are usage only, averaged over the horizon by requests.
    """

    strategy: str
    strategy_type: str
    baseline: str
    month: dt.date | None
    month_number: int | None
    monthly_requests: int | None
    saving_usd: Decimal  # baseline total − strategy total over the horizon
    request_usd: Decimal
    baseline_request_usd: Decimal
    extra_fixed_usd: Decimal  # training, corpus and fixed costs above the baseline's
    first_month_requests: Decimal
    horizon_months: int
    final_gap_usd: Decimal  # strategy cumulative − baseline cumulative at the end

    @property
    def reason(self) -> str:
        return self.describe()

    def describe(self, money: Money | None = None) -> str:
        """Why it breaks even when it does, or why not, in one sentence (amounts by `money`)."""
        from .prose import break_even_reason

        return break_even_reason(self, money) if money else break_even_reason(self)

    def to_dict(self) -> dict:
        return {
            "strategy": self.strategy, "baseline": self.baseline,
            "month": month_label(self.month) if self.month else None,
            "month_number": self.month_number, "monthly_requests": self.monthly_requests,
            "saving_usd": self.saving_usd, "request_usd": self.request_usd,
            "baseline_request_usd": self.baseline_request_usd, "extra_fixed_usd": self.extra_fixed_usd,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class StrategyResult:
    """One strategy over the horizon: month by month, totals, and how it compares to the baseline."""

    name: str
    type: str
    model: str
    is_baseline: bool
    tokens: RequestTokens
    months: tuple[MonthCost, ...]
    rates: tuple[MonthRates, ...]
    total_usd: Decimal
    requests: Decimal
    per_1k_requests_usd: Decimal | None  # total (training and fixed included) per 1,000 requests
    vs_baseline_usd: Decimal  # total − the baseline's total (negative = cheaper)
    break_even: BreakEven | None  # None for the baseline
    trainings: tuple[TrainingRun, ...] = ()
    training_source: str | None = None
    epochs: int | None = None
    epochs_rule: str | None = None
    embedding_model: str | None = None
    notes: tuple[str, ...] = ()
    warnings: tuple[StrategyWarning, ...] = ()
    events: tuple[LifecycleEvent, ...] = ()
    deployment: str | None = None  # the mode its requests are priced in (Azure: global, ...)
    # Lines the assumptions state about this strategy: hosting hours, a provider's deployment rules.
    billing: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        """Whether the strategy can be served as planned for the whole horizon: every month served and
        every training run possible."""
        return not any(w.code in ("fine_tuning_closed", "model_shut_down") for w in self.warnings)

    @property
    def unavailable_reasons(self) -> tuple[str, ...]:
        """Why it is not available (empty when it is), earliest first."""
        return tuple(w.message for w in self.warnings if w.code in ("fine_tuning_closed", "model_shut_down"))

    @property
    def unavailable_reason(self) -> str:
        """The first reason it is not available, for a sentence ("" when it is)."""
        return next(iter(self.unavailable_reasons), "")

    @property
    def fine_tuned_rates(self) -> bool:
        """Whether requests are priced at the fine-tuned model's rates: a fine-tuned strategy, or
        any strategy whose model is an `ft:` name (a model already trained)."""
        return self.type == "fine-tuned" or split_fine_tuned(self.model)[1]

    @property
    def request_usd(self) -> Decimal:
        """Usage cost of one request, averaged over the horizon by requests."""
        return _average_request_usd(self.rates, self.tokens)

    def _break_even_dict(self) -> dict | None:
        if self.break_even is None:
            return None
        if self.available:
            return self.break_even.to_dict()
        # Its totals are of the days it could be served: no break-even month or traffic means anything.
        return {**self.break_even.to_dict(), "month": None, "month_number": None, "monthly_requests": None,
                "reason": "cannot be bought for the whole horizon: " + "; and ".join(self.unavailable_reasons)}

    def to_dict(self) -> dict:
        training = None
        if self.type == "fine-tuned":
            training = {
                "source": self.training_source, "epochs": self.epochs, "epochs_rule": self.epochs_rule,
                "runs": [{"month": month_label(r.month), "snapshot": r.snapshot, "price_sheet": r.sheet_effective.isoformat(),
                          "training_tokens": r.training_tokens, "epochs": r.epochs,
                          "billed_tokens": r.billed_tokens, "training_per_1m": r.training_per_1m,
                          "training_hours": r.training_hours, "training_per_hour": r.training_per_hour,
                          "bound": r.bound, "bound_usd": r.bound_usd,
                          "training_usd": r.training_usd} for r in self.trainings],
            }
        return {
            "name": self.name,
            "type": self.type,
            "model": self.model,
            "baseline": self.is_baseline,
            "fine_tuned_rates": self.fine_tuned_rates,
            "tokens_per_request": _tokens_dict(self.tokens),
            "embedding_model": self.embedding_model,
            "training": training,
            "total_usd": self.total_usd,
            "requests": self.requests,
            "per_1k_requests_usd": self.per_1k_requests_usd,
            "request_usd": self.request_usd,
            "vs_baseline_usd": self.vs_baseline_usd,
            "break_even": self._break_even_dict(),
            "available": self.available,
            "warnings": [w.to_dict() for w in self.warnings],
            "deployment": self.deployment,
            "notes": list(self.notes),
            "months": [m.to_dict() for m in self.months],
        }


@dataclass(frozen=True)
class Assumptions:
    """Every input the numbers rest on, for the reader of a report."""

    scenario: str
    title: str
    start_month: dt.date
    end_month: dt.date
    horizon_months: int
    months: tuple[dt.date, ...]
    requests_per_month: Decimal | None
    requests_per_day: Decimal | None
    first_month_requests: Decimal
    monthly_growth_pct: Decimal
    prompt_tokens: Decimal | None
    completion_tokens: Decimal | None
    sample_file: str | None
    batch_share: Decimal
    cached_share: Decimal
    price_sheets: tuple[MonthSheets, ...]
    pricing_dir: str
    sources: tuple[CitedSource, ...] = ()  # of the prices applied, in the order first applied
    proration: str = PRORATION_RULE
    counting_rule: str = ""


@dataclass(frozen=True)
class BudgetCheck:
    """The projected total of one strategy against a budget (for CI budget gates)."""

    strategy: str
    cheapest: bool
    total_usd: Decimal
    budget_usd: Decimal
    horizon: str

    @property
    def over(self) -> bool:
        return self.total_usd > self.budget_usd

    def describe(self, money: Money | None = None) -> str:
        """The total against the budget, in one sentence (amounts by `money`)."""
        from .prose import budget_sentence

        return budget_sentence(self, money) if money else budget_sentence(self)


@dataclass(frozen=True)
class Comparison:
    """Every strategy of a scenario priced month by month: the one result every output renders from.

    `strategies` keep the scenario's order; `baseline` names the one the others are compared
    with; `break_even` is that of the first fine-tuned strategy (None if there is none).
    """

    assumptions: Assumptions
    strategies: tuple[StrategyResult, ...]
    baseline: str
    break_even: BreakEven | None
    schema_version: int = SCHEMA_VERSION

    def strategy(self, name: str) -> StrategyResult:
        for result in self.strategies:
            if result.name == name:
                return result
        from .scenario import no_strategy_message

        raise UsageError(no_strategy_message(name, [s.name for s in self.strategies]))

    @property
    def baseline_result(self) -> StrategyResult:
        return self.strategy(self.baseline)

    @property
    def cheapest(self) -> StrategyResult:
        """The cheapest strategy that can be served for the whole horizon (of all, when none can)."""
        available = [s for s in self.strategies if s.available]
        return min(available or self.strategies, key=lambda s: s.total_usd)

    @property
    def warnings(self) -> tuple[tuple[str, StrategyWarning], ...]:
        """Every strategy's warnings, with the strategy's name."""
        return tuple((s.name, w) for s in self.strategies for w in s.warnings)

    @property
    def focus(self) -> StrategyResult | None:
        """The first fine-tuned strategy that can be bought for the whole horizon (the first fine-tuned
        one when none can): the one the question is about."""
        return _focus(self.strategies)

    @property
    def horizon(self) -> str:
        a = self.assumptions
        months = months_phrase(a.horizon_months)
        if a.horizon_months == 1:
            return f"{months} ({month_label(a.start_month)})"
        return f"{months} ({month_label(a.start_month)} to {month_label(a.end_month)})"

    def answer(self, money: Money | None = None) -> str:
        """The answer in one sentence, then the cheapest strategy (amounts by `money`)."""
        from .prose import answer

        return answer(self, money) if money else answer(self)

    def check_budget(self, budget_usd: Decimal, strategy: str | None = None) -> BudgetCheck:
        """The cheapest strategy's (or `strategy`'s) projected total against `budget_usd`."""
        result = self.strategy(strategy) if strategy else self.cheapest
        return BudgetCheck(result.name, strategy is None, result.total_usd, Decimal(budget_usd), self.horizon)

    def to_dict(self) -> dict:
        """The JSON contract (schema_version 1). Amounts stay Decimal: render them with
        `render.json_default`, which writes exact decimal strings."""
        a = self.assumptions
        traffic = {
            "requests_per_month": a.requests_per_month, "requests_per_day": a.requests_per_day,
            "first_month_requests": a.first_month_requests, "monthly_growth_pct": a.monthly_growth_pct,
            "start_month": month_label(a.start_month), "horizon_months": a.horizon_months, "prompt_tokens": a.prompt_tokens,
            "completion_tokens": a.completion_tokens, "sample_file": a.sample_file,
            "batch_share": a.batch_share, "cached_share": a.cached_share,
        }
        sheets = [{"month": month_label(m.month), "days": m.days,
                   "sheets": [{"effective": s.effective.isoformat(), "file": s.file, "first_day": s.first_day,
                               "days": s.days} for s in m.spans]} for m in a.price_sheets]
        return {
            "schema_version": self.schema_version,
            "title": a.title,
            "scenario": a.scenario,
            "answer": self.answer(),
            "baseline": self.baseline,
            "assumptions": {
                "traffic": traffic,
                "months": [month_label(m) for m in a.months],
                "price_sheets": sheets,
                "pricing_dir": a.pricing_dir,
                "proration": a.proration,
                "tokenizer": {"counting_rule": a.counting_rule,
                              "encodings": {s.name: s.tokens.encoding for s in self.strategies}},
                "tokens_per_request": {s.name: _tokens_dict(s.tokens) for s in self.strategies},
                "epochs": {s.name: {"epochs": s.epochs, "rule": s.epochs_rule, "training_source": s.training_source}
                           for s in self.strategies if s.type == "fine-tuned"},
            },
            "strategies": [s.to_dict() for s in self.strategies],
            "break_even": self.break_even.to_dict() if self.break_even else None,
            "warnings": [{"strategy": name, **w.to_dict()} for name, w in self.warnings],
        }

    def to_frame(self):
        """The monthly results as a long pandas DataFrame, one row per strategy and month.

        Columns: strategy (category), type, month (Period[M]), month_number, then requests,
        tokens and the USD columns (input_usd ... cumulative_usd). Numbers are float64, for
        charts and analysis: the exact figures are the Decimals of this object and its
        `to_dict()`. pandas is imported here, not with costcalc.
        """
        import pandas as pd

        columns = ("requests", "input_tokens", "cached_input_tokens", "output_tokens", "input_usd", "output_usd",
                   "retrieval_usd", "usage_usd", "training_usd", "fixed_usd", "hosting_usd", "storage_usd",
                   "total_usd", "cumulative_usd")
        rows = [{"strategy": s.name, "type": s.type, "month": month_label(m.month), "month_number": m.number,
                 **{c: float(getattr(m, c)) for c in columns}}
                for s in self.strategies for m in s.months]
        frame = pd.DataFrame(rows, columns=["strategy", "type", "month", "month_number", *columns])
        frame["strategy"] = pd.Categorical(frame["strategy"], categories=[s.name for s in self.strategies])
        frame["month"] = pd.PeriodIndex(frame["month"], freq="M")
        frame["month_number"] = frame["month_number"].astype("int64")
        return frame.astype({c: "float64" for c in columns})


# --- computing -----------------------------------------------------------------------------------


def compare(scenario: Scenario, book: PriceBook, *, scan_progress: ScanProgress | None = None,
            inputs: Inputs | None = None) -> Comparison:
    """Price every strategy of `scenario` over its horizon with the sheets of `book`.

    Two steps: `costcalc.inputs.read_inputs` reads the sample and training files the scenario
    names (unless `inputs` already holds them), then the engine below prices every month from
    what was read, with no file I/O. Errors name the scenario key or flag at fault.
    `scan_progress(bytes_done, bytes_total)` follows the training-file scans (what
    `costcalc.progress.ProgressBar` draws).
    """
    if inputs is None:
        inputs = read_inputs(scenario, book, scan_progress=scan_progress)
    with localcontext() as context:
        context.prec = PRECISION
        return _Pricer(scenario, book, inputs).comparison()


@dataclass(frozen=True)
class _Span:
    """Days of a month priced with one sheet."""

    sheet: PriceSheet
    first_day: int
    days: int


@dataclass(frozen=True)
class _TrainingData:
    """Where a fine-tuned strategy's training tokens came from, and its epochs."""

    source: str | None = None
    epochs: int | None = None
    epochs_rule: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Priced:
    """One strategy priced month by month, before totals."""

    tokens: RequestTokens
    rates: tuple[MonthRates, ...]
    trainings: tuple[TrainingRun, ...]
    training: _TrainingData
    training_open: tuple[bool | None, ...] = ()
    warnings: tuple[StrategyWarning, ...] = ()
    events: tuple[LifecycleEvent, ...] = ()
    deployment: str | None = None
    billing: tuple[str, ...] = ()


class _StrategyPricer:
    """One strategy through the horizon: which model serves it each day, when it trains and whether it
    can, what its deployments and stored models cost, and what a reader must be told about it."""

    def __init__(self, pricer: _Pricer, strategy: Strategy):
        self.p = pricer
        self.s = strategy
        self.key: KeyPath = ("strategies", strategy.name)
        self.fine_tuned = strategy.type == "fine-tuned"
        self.customer = pricer.scenario.fine_tuning_customer
        self.book, self.bare = self.provider(strategy.model, (*self.key, "model"))
        # The fine-tuned snapshot in service: the latest training's, or the one an `ft:` name names.
        self.snapshot: str | None = None
        self.migrated = False
        self.mode = "standard"
        self.warnings: list[StrategyWarning] = []
        self.events: list[LifecycleEvent] = []
        self.billing: list[str] = []
        self.closed_runs: dict[str, tuple[JobsClosed, list[tuple[dt.date, bool]]]] = {}
        self.trained_once = False

    # --- what the strategy uses ---

    def provider(self, name: str, key: KeyPath) -> tuple[PriceBook, str]:
        try:
            return self.p.book.for_name(name)
        except UsageError as exc:
            raise self.p.scenario.error(key, str(exc)) from None

    def shown(self, name: str) -> str:
        """A model name as the user writes it: with its provider's prefix where it is not the book's own."""
        return name if self.book.provider == self.p.book.provider else f"{self.book.provider}/{name}"

    @property
    def rates_fine_tuned(self) -> bool:
        return self.fine_tuned or split_fine_tuned(self.bare)[1]

    def spans(self) -> list[list[_Span]]:
        return self.p.provider_spans(self.book)

    def deployment(self, model: ModelPrice, key: KeyPath) -> str:
        """The mode requests are priced in: the strategy's `deployment`, or the provider's default."""
        wanted = self.s.deployment or model.default_mode
        modes = model.fine_tuned_modes if self.rates_fine_tuned else model.modes
        if self.fine_tuned:
            offered = sorted(set(model.fine_tuning_by_mode) & set(modes))
        else:
            offered = sorted(m for m in modes if "batch" not in m)
        if not offered:
            raise self.p.scenario.error(key, (
                f"{self.shown(model.name)} has no prices for requests in the price sheet effective {model.effective}"
                + (": its sheet lists only fine-tuning charges" if model.fine_tuning else "")))
        if wanted not in offered:
            if self.migrated and self.s.deployment and model.default_mode in offered:
                return model.default_mode  # the deployment type was the old provider's
            what = "fine-tuned deployments" if self.fine_tuned else "deployment types"
            raise self.p.scenario.error(key, (
                f"{self.shown(model.name)} has no {wanted!r} in the price sheet effective {model.effective}; "
                f"its {what}: {', '.join(offered) or 'none'}"))
        return wanted

    def ft_table(self, model: ModelPrice) -> FineTuningPrice:
        """The fine-tuning prices of the strategy's deployment type (training, hosting, storage, bounds)."""
        table = model.fine_tuning_by_mode.get(self.mode) or model.fine_tuning
        assert table is not None  # deployment() and fine_tunable() checked it
        return table

    # --- month by month ---

    def priced(self) -> _Priced:
        p, s = self.p, self.s
        first_sheet = self.spans()[0][0].sheet
        month0 = p.months[0]
        if self.fine_tuned:
            first_model = p.fine_tunable(self.bare, (*self.key, "model"), first_sheet, month0, self.book)
        else:
            first_model = p.model(self.bare, first_sheet, (*self.key, "model"), embedding=False, book=self.book)
            if split_fine_tuned(self.bare)[1]:
                self.snapshot = first_model.name
        self.mode = self.deployment(first_model, (*self.key, "deployment" if s.deployment else "model"))
        tokens = p.tokens(s, first_model)
        due_training = set(training_months(s, p.months)) if self.fine_tuned else set()
        rates, trainings, open_months = [], [], []
        training = _TrainingData()
        for i, month in enumerate(p.months):
            migrating = self.migration_due(month)
            if migrating:
                self.migrate(month)
            training_usd = corpus_usd = ZERO
            if self.fine_tuned and (i in due_training or migrating):
                done = self.train(i, month)
                if done is not None:
                    run, training = done
                    trainings.append(run)
                    training_usd = run.training_usd
            if s.type == "retrieval" and due(i, s.refresh_every_months) and s.corpus_tokens:
                sheet, embedder = self.embedder(month)
                p.cite(sheet, embedder, fine_tuned=False)
                corpus_usd = tokens_cost(s.corpus_tokens, embedder.price("input_per_1m"))
            open_months.append(self.book.jobs_closed(self.bare, month, self.customer) is None
                               if self.fine_tuned else None)
            rates.append(self.month_rates(i, tokens, training_usd, corpus_usd))
        self.closed_warnings()
        self.carried_forward()
        self.state_billing(rates)
        order = {code: n for n, code in enumerate(WARNING_CODES)}
        self.warnings.sort(key=lambda w: (w.month or dt.date.min, order[w.code]))
        return _Priced(tokens, tuple(rates), tuple(trainings), training, tuple(open_months),
                       tuple(self.warnings), tuple(self.events), self.mode, tuple(self.billing))

    def warn(self, code: str, month: dt.date | None, message: str, sources: tuple[str, ...] = ()) -> None:
        """Record a warning once: a model that cannot serve is said for its first month only."""
        if code == "model_shut_down" and any(w.code == code for w in self.warnings):
            return
        if not any(w.code == code and w.message == message for w in self.warnings):
            self.warnings.append(StrategyWarning(code, month, message, sources))

    def training_closed(self, month: dt.date, closed: JobsClosed) -> None:
        """A run that cannot happen: one warning per reason, naming every such run."""
        self.closed_runs.setdefault(closed.reason, (closed, []))[1].append((month, self.trained_once))
        self.event(closed.since, "fine_tuning_closed", closed.reason)

    def closed_warnings(self) -> None:
        for reason, (closed, runs) in self.closed_runs.items():
            # "training" until a first run happened, "retraining" after it.
            what = "retraining" if runs[0][1] else "training"
            labels = [month_label(month) for month, _ in runs]
            named = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
            plural = "s" if len(labels) > 1 else ""
            self.warnings.append(StrategyWarning(
                "fine_tuning_closed", runs[0][0], f"{reason}; the {named} {what}{plural} cannot happen",
                closed.sources))

    def event(self, day: dt.date, kind: str, label: str) -> None:
        if self.p.months[0] <= day <= month_end(self.p.months[-1]) and not any(
                e.kind == kind and e.day == day for e in self.events):
            self.events.append(LifecycleEvent(day, kind, label))

    def current_shutdown(self, day: dt.date) -> dt.date | None:
        """When what serves the strategy stops answering: the fine-tuned model's own day, or the model's."""
        if self.rates_fine_tuned:
            if self.snapshot is None:
                return None
            return self.book.shutdown_on(f"ft:{self.snapshot}" if self.fine_tuned else self.bare, day)
        return self.book.shutdown_on(self.bare, day)

    def migration_due(self, month: dt.date) -> bool:
        if not self.s.migrate_to or self.migrated:
            return False
        if self.s.migrate_month is not None:
            return month >= self.s.migrate_month
        shutdown = self.current_shutdown(month)
        return shutdown is not None and shutdown <= month_end(month)

    def migrate(self, month: dt.date) -> None:
        """From `month`, serve with `migrate_to` (a fine-tuned strategy trains on it this month)."""
        s, key = self.s, (*self.key, "migrate_to")
        assert s.migrate_to is not None
        old, shutdown = self.shown(self.snapshot or self.bare), self.current_shutdown(month)
        self.book, self.bare = self.provider(s.migrate_to, key)
        self.migrated = True
        sheet = self.book.as_of(month) if self.book.sheets[0].effective <= month else None
        if sheet is None:
            raise self.p.scenario.error(key, f"no price sheet of {self.book.provider} is in force in "
                                             f"{month_label(month)}, when the strategy migrates")
        if self.fine_tuned:
            model = self.p.fine_tunable(self.bare, key, sheet, month, self.book)
        else:
            model = self.p.model(self.bare, sheet, key, embedding=False, book=self.book)
        status = self.book.status(self.bare, month)
        new_shutdown = self.book.shutdown_on(self.bare, month)
        if status in ("shut down", "not released") or (new_shutdown is not None and new_shutdown <= month_end(month)):
            when = f" from {new_shutdown.isoformat()}" if new_shutdown else ""
            state = "not released" if status == "not released" else "shut down"
            raise self.p.scenario.error(key, f"{s.migrate_to} is itself {state}{when}, so it cannot take over "
                                             f"in {month_label(month)}")
        self.snapshot = None if self.fine_tuned else (model.name if split_fine_tuned(self.bare)[1] else None)
        self.mode = self.deployment(model, key)
        why = (f": {old} is shut down from {shutdown.isoformat()}" if shutdown is not None and s.migrate_month is None
               else " (migrate_month)")
        trained = ", trained on it in the same month" if self.fine_tuned else ""
        self.warn("migrated", month, f"from {month_label(month)} served by {s.migrate_to}{trained}{why}")
        self.event(month, "migrated", f"to {s.migrate_to}")

    def train(self, i: int, month: dt.date) -> tuple[TrainingRun, _TrainingData] | None:
        """The run due in `month`, or None (with the reason as a warning) when no job could start."""
        sheet = self.spans()[i][0].sheet
        closed = self.book.jobs_closed(self.bare, month, self.customer)
        if closed is not None:
            self.training_closed(month, closed)
            return None
        model = self.p.fine_tunable(self.bare, (*self.key, "migrate_to" if self.migrated else "model"), sheet,
                                    month, self.book)
        if self.mode not in model.fine_tuning_by_mode:
            raise self.p.scenario.error((*self.key, "deployment"), (
                f"{self.shown(model.name)} has no fine-tuning prices for {self.mode!r} in the price sheet "
                f"effective {sheet.revision}; it has: {', '.join(sorted(model.fine_tuning_by_mode))}"))
        run, info = self.p.train(self.s, model, self.ft_table(model), sheet, month)
        self.snapshot = run.snapshot
        done = replace(run, snapshot=self.shown(run.snapshot)), info  # as the user names it: azure/...
        self.trained_once = True
        return done

    def embedder(self, day: dt.date) -> tuple[PriceSheet, ModelPrice]:
        key = (*self.key, "embedding_model")
        book, bare = self.provider(self.s.embedding_model, key)
        try:
            sheet = book.as_of(day)
        except UsageError as exc:
            raise self.p.scenario.error(key, str(exc)) from None
        return sheet, self.p.model(bare, sheet, key, embedding=True, book=book)

    def month_rates(self, i: int, tokens: RequestTokens, training_usd: Decimal, corpus_usd: Decimal) -> MonthRates:
        p, s = self.p, self.s
        month = p.months[i]
        days = days_in_month(month)
        input_rate = cached_rate = output_rate = write_extra = embedding_rate = hosting = ZERO
        served_days = 0
        snapshots = []
        model = None
        # Hours billed per day: every hour of the month, or the scenario's hours a month as given, in
        # every month (Azure's own calculator bills 730 hours a month, whatever its days).
        per_day = s.hosting_hours_per_month / days if s.hosting_hours_per_month is not None else Decimal(24)
        for span in self.spans()[i]:
            day = month.replace(day=span.first_day)
            if self.rates_fine_tuned and self.snapshot is None:
                continue  # no fine-tuned model to serve yet (its training could not happen)
            if self.rates_fine_tuned:
                assert self.snapshot is not None
                model = p.fine_tuned_snapshot(s, span.sheet, self.snapshot)
            else:
                model = p.model(self.bare, span.sheet, (*self.key, "model"), embedding=False, book=self.book)
            shutdown = self.current_shutdown(day)
            served = span.days if shutdown is None else max(0, min(span.days, (shutdown - day).days))
            if served < span.days and shutdown is not None:
                self.unserved(month, shutdown)
            if not served:
                continue
            served_days += served
            snapshots.append(self.shown(model.name))
            p.cite(span.sheet, model, fine_tuned=self.rates_fine_tuned)
            rates = p.token_rates(model, tokens, self.rates_fine_tuned, self.mode)
            input_rate += served * rates[0]
            cached_rate += served * rates[1]
            output_rate += served * rates[2]
            write_extra += served * rates[3]
            if tokens.query:
                sheet, embedder = self.embedder(day)
                p.cite(sheet, embedder, fine_tuned=False)
                embedding_rate += served * per_token(embedder.price("input_per_1m"))
            if self.rates_fine_tuned:
                price = self.ft_table(model).hosting_per_hour
                if price is not None:
                    hosting += s.deployments * served * per_day * price
        if self.rates_fine_tuned and self.snapshot is None and not self.closed_runs:
            self.warn("model_shut_down", month, f"no fine-tuned model to serve in {month_label(month)}")
        storage = ZERO
        if model is not None and self.rates_fine_tuned and served_days:
            storage = self.ft_table(model).storage_per_month or ZERO
        fixed = s.upkeep_usd_per_month if s.type == "fine-tuned" else (
            s.vector_db_usd_per_month if s.type == "retrieval" else ZERO)
        if not served_days:
            fixed = ZERO  # a month the strategy cannot be served is not priced: no upkeep, no vector database
        return MonthRates(
            weight=p.weights[i],
            input_usd_per_token=input_rate / days,
            cached_input_usd_per_token=cached_rate / days,
            output_usd_per_token=output_rate / days,
            embedding_usd_per_token=embedding_rate / days,
            training_usd=training_usd,
            corpus_usd=corpus_usd,
            fixed_usd=fixed + hosting + storage,
            snapshots=tuple(dict.fromkeys(snapshots)),
            cache_write_extra_usd_per_token=write_extra / days,
            hosting_usd=hosting,
            storage_usd=storage,
            days=days,
            served_days=served_days,
        )

    def unserved(self, month: dt.date, shutdown: dt.date) -> None:
        name = self.shown(self.snapshot or self.bare)
        what = f"the fine-tuned {name}" if self.rates_fine_tuned else name
        self.warn("model_shut_down", month, f"{what} is shut down from {shutdown.isoformat()}: the strategy "
                                            "cannot be served from that day")
        self.event(shutdown, "shutdown", f"{name} shut down")

    def carried_forward(self) -> None:
        """Months priced past the day a provider's newest sheet was last checked."""
        for book in {b.provider: b for b in self.books()}.values():
            for month in self.p.months:
                sheet = book.carried_forward(month_end(month))
                if sheet is not None:
                    who = PROVIDER_NAMES.get(book.provider, book.provider)
                    self.warn("prices_carried_forward", month, (
                        f"from {month_label(month)} the {who} prices are the newest sheet's ({sheet.revision}), "
                        f"carried forward past the day they were last checked ({sheet.checked.isoformat()})"))
                    break

    def books(self) -> list[PriceBook]:
        books = [self.p.book.for_name(self.s.model)[0]]
        if self.s.migrate_to:
            books.append(self.p.book.for_name(self.s.migrate_to)[0])
        if self.s.type == "retrieval":
            books.append(self.p.book.for_name(self.s.embedding_model)[0])
        return books

    def state_billing(self, rates: list[MonthRates]) -> None:
        """The assumptions' lines on hosting and storage, and the provider's rules on deployments."""
        s = self.s
        hosted = [r for r in rates if r.hosting_usd]
        if hosted:
            hours = ("every hour of the month" if s.hosting_hours_per_month is None
                     else f"{plain_number(s.hosting_hours_per_month)} hours a month")
            count = f"{s.deployments} deployment{'s' if s.deployments != 1 else ''}"
            self.billing.append(f"hosting: {count} of the fine-tuned model, billed {hours} it can serve, "
                                f"with or without traffic")
        if any(r.storage_usd for r in rates):
            self.billing.append("storage: one fine-tuned model stored each month it serves")
        # Keys that changed nothing are said, not silently ignored.
        if not hosted and self.fine_tuned and (s.deployments != 1 or s.hosting_hours_per_month is not None):
            who = PROVIDER_NAMES.get(self.book.provider, self.book.provider)
            self.billing.append(f"deployments and hosting_hours_per_month change nothing: {who} lists no hosting "
                                f"fee for {self.shown(self.snapshot or self.bare)}")
        if s.migrate_to and not self.migrated:
            self.billing.append(f"migrate_to {s.migrate_to}: not needed, the model serves the whole horizon")
        catalogue = self.book.catalogues.get(self.book.provider)
        if self.rates_fine_tuned and catalogue is not None:
            for rule in catalogue.rules:
                if rule.key == "developer_lifetime" and self.mode != "developer":
                    continue
                self.billing.append(f"{PROVIDER_NAMES.get(self.book.provider, self.book.provider)}: "
                                    f"{rule.wording} ({plain_number(rule.value)} {rule.unit})")


class _Pricer:
    def __init__(self, scenario: Scenario, book: PriceBook, inputs: Inputs):
        self.scenario = scenario
        self.book = book
        self.inputs = inputs
        self.traffic = scenario.traffic
        self.months = self.traffic.months()
        # Each provider's sheets, month by month, as strategies first need them (the book's own first).
        self.spans_by_provider: dict[str, list[list[_Span]]] = {}
        self.provider_spans(book)  # the book's own provider first: the assumptions list its sheets first
        self.requests = [self.traffic.requests(m, i) for i, m in enumerate(self.months)]
        self.weights = [self.traffic.weight(i) for i in range(len(self.months))]
        # The sources of every price actually applied: key -> (source, revisions of the sheets citing it).
        self.cited: dict[str, tuple[Source, list[str]]] = {}

    def comparison(self) -> Comparison:
        priced = [self.strategy(s) for s in self.scenario.strategies]
        results = [self.result(s, p) for s, p in zip(self.scenario.strategies, priced)]
        base = next(r for r in results if r.name == self.scenario.baseline)
        final = []
        for result in results:
            be = None if result.is_baseline else break_even(result, base, self.requests[0])
            final.append(replace(result, vs_baseline_usd=result.total_usd - base.total_usd, break_even=be))
        focus = _focus(final)
        return Comparison(self.assumptions(final), tuple(final), base.name, focus.break_even if focus else None)

    # --- months and sheets ---

    def provider_spans(self, book: PriceBook) -> list[list[_Span]]:
        """The parts of every month of the horizon, each priced with one of `book`'s sheets."""
        if book.provider not in self.spans_by_provider:
            self.spans_by_provider[book.provider] = [self.month_spans(m, book) for m in self.months]
        return self.spans_by_provider[book.provider]

    def month_spans(self, month: dt.date, book: PriceBook) -> list[_Span]:
        """Each part of the month priced with one of `book`'s sheets."""
        days = days_in_month(month)
        try:
            first = book.as_of(month)
        except UsageError:
            raise self.scenario.error(
                ("traffic", "start_month"),
                f"no {'' if book.provider == self.book.provider else PROVIDER_NAMES.get(book.provider, book.provider) + ' '}"
                f"price sheet in force on {month.isoformat()}: the first sheet is effective "
                f"{book.sheets[0].revision}") from None
        # A new part starts where a sheet takes effect or an alias moves: as_of gives that day's aliases.
        starts = [(first, 1)] + [(book.as_of(day), day.day)
                                 for day in book.changes_between(month, month_end(month)) if day.day > 1]
        return [_Span(sheet, day, (starts[i + 1][1] if i + 1 < len(starts) else days + 1) - day)
                for i, (sheet, day) in enumerate(starts)]

    def cite(self, sheet: PriceSheet, model: ModelPrice, fine_tuned: bool) -> None:
        """Record the sources of the prices just applied: the model's, and its fine-tuning table's."""
        keys = [*model.sources, *(model.fine_tuning.sources if fine_tuned and model.fine_tuning else ())]
        for key in dict.fromkeys(keys):
            revisions = self.cited.setdefault(key, (sheet.sources[key], []))[1]
            if sheet.revision not in revisions:
                revisions.append(sheet.revision)

    # --- one strategy ---

    def strategy(self, strategy: Strategy) -> _Priced:
        return _StrategyPricer(self, strategy).priced()

    def token_rates(self, model: ModelPrice, tokens: RequestTokens, fine_tuned: bool,
                    mode: str) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """USD per uncached input, cached input and output token, and the cache-write surcharge per
        written token, blended over the traffic's Batch, Flex and Priority shares."""
        traffic = self.traffic
        shares = ((1 - traffic.batch_share - traffic.flex_share - traffic.priority_share, mode, None),
                  (traffic.batch_share, batch_mode(mode), ("traffic", "batch_share")),
                  (traffic.flex_share, "flex", ("traffic", "flex_share")),
                  (traffic.priority_share, "priority", ("traffic", "priority_share")))
        input_rate = cached_rate = output_rate = write_extra = ZERO
        for share, in_mode, key in shares:
            if not share:
                continue
            try:
                prices = mode_prices(model, in_mode, fine_tuned=fine_tuned, input_tokens=tokens.input,
                                     needs_output=tokens.completion > 0)
            except MissingPriceError as exc:
                if key is None:
                    raise
                why = self.why_no_batch(model) if key[-1] == "batch_share" else (
                    f"the price sheets list no {key[-1].removesuffix('_share')} price for this model: set the "
                    "share to 0 or pick another model")
                raise self.scenario.error(key, f"{exc} ({why})") from None
            input_rate += share * per_token(prices.input_per_1m)
            cached_rate += share * per_token(prices.cached_input_per_1m)
            output_rate += share * per_token(prices.output_per_1m)
            write_extra += share * per_token(prices.cache_write_per_1m - prices.input_per_1m)
        return input_rate, cached_rate, output_rate, write_extra

    def why_no_batch(self, model: ModelPrice) -> str:
        """Why the sheet has no batch price for `model`: a sheet before the Batch API, or this model."""
        sheet = self.book.as_of(model.effective)
        if any(m.batch_input_per_1m is not None for m in sheet.models.values()):
            return "the price sheets list no batch price for this model: set the share to 0 or pick another model"
        return "the Batch API opened in April 2024: start the horizon later or set the share to 0"

    # --- models ---

    def model(self, name: str, sheet: PriceSheet, key: KeyPath, embedding: bool,
              book: PriceBook | None = None) -> ModelPrice:
        """What `name` (without its provider prefix) means in `sheet`, one of `book`'s (the own book's)."""
        try:
            model = sheet.model(name)
        except UnknownModelError as exc:
            later = (book or self.book).first_sheet_with(name, sheet.effective)
            if later is not None:  # a real model, just not out yet in this month
                raise self.scenario.error(key, not_priced_yet(name, sheet, later)) from None
            raise self.scenario.error(key, str(exc)) from None
        if embedding and model.kind != "embedding":
            raise self.scenario.error(key, f"{name} is a {model.kind} model, not an embedding model")
        if not embedding and model.kind in ("embedding", "moderation"):
            raise self.scenario.error(key, f"{name} is an {model.kind} model: it cannot answer requests")
        return model

    def fine_tunable(self, name: str, key: KeyPath, sheet: PriceSheet, month: dt.date,
                     book: PriceBook | None = None) -> ModelPrice:
        from .training import can_be_trained, not_fine_tunable

        model = self.model(name, sheet, key, embedding=False, book=book)
        refusal = not_fine_tunable(name, model, sheet.revision, month)
        if refusal is not None:
            # An alias may have moved to a snapshot not yet fine-tunable (gpt-3.5-turbo meant 0125 from
            # 2024-02-16; fine-tuning prices for 0125 appear on 2024-05-13): name the ones that were.
            family = sorted(n for n, m in sheet.models.items() if n.startswith(f"{name}-") and can_be_trained(m))
            if model.name != name and family:
                refusal += f"; name a snapshot that could be fine-tuned then: {', '.join(family)}"
            raise self.scenario.error(key, refusal)
        return model

    def fine_tuned_snapshot(self, strategy: Strategy, sheet: PriceSheet, snapshot: str) -> ModelPrice:
        model = sheet.models.get(snapshot)
        if model is None or model.fine_tuning is None:
            hint = ("retrain more often (retrain_every_months) to move to a newer snapshot"
                    if strategy.type == "fine-tuned" else f"{strategy.model} is a fine-tuned model")
            raise self.scenario.error(
                ("strategies", strategy.name, "model"),
                f"the fine-tuned snapshot {snapshot} has no fine-tuning prices in the price sheet effective "
                f"{sheet.revision}; {hint}")
        return model

    # --- tokens and training data ---

    def tokens(self, strategy: Strategy, model: ModelPrice) -> RequestTokens:
        traffic = self.traffic
        prompt, completion = given_tokens(strategy, traffic)
        source = "given"
        need = sample_need(strategy, traffic)
        if need is not None:
            if model.encoding is None:
                raise self.scenario.error(need.key, f"the price sheet names no tokenizer encoding for {model.name}")
            measured = self.inputs.samples[(need.path, model.encoding)]
            source = f"measured from {need.path.name} ({measured.requests:,} requests, mean)"
            if prompt is not None or completion is not None:
                source += "; " + ("prompt" if prompt is not None else "completion") + " given"
            prompt = prompt if prompt is not None else measured.prompt_tokens
            completion = completion if completion is not None else measured.completion_tokens
        assert prompt is not None and completion is not None  # the scenario loader demands them
        context = strategy.context_tokens if strategy.type == "retrieval" else ZERO
        query = strategy.query_tokens if strategy.type == "retrieval" else ZERO
        share = self.cached_share(strategy)
        cacheable = cacheable_tokens(prompt + context)
        return RequestTokens(prompt, completion, context, query, model.encoding, source,
                             cacheable=cacheable, cached=share * cacheable, cached_share=share)

    def cached_share(self, strategy: Strategy) -> Decimal:
        return strategy.cached_share if strategy.cached_share is not None else self.traffic.cached_share

    def train(self, strategy: Strategy, model: ModelPrice, ft: FineTuningPrice, sheet: PriceSheet,
              month: dt.date) -> tuple[TrainingRun, _TrainingData]:
        """One training job on `model` at `ft`'s prices (the deployment type's): per token × epochs,
        or per training hour, then the provider's minimum and cap per job."""
        self.cite(sheet, model, fine_tuned=True)
        key = ("strategies", strategy.name)
        report = None
        hours = per_hour = per_1m = None
        if strategy.training_hours is not None:
            if ft.training_per_hour is None:
                raise self.scenario.error((*key, "training_hours"), (
                    f"{model.name} is billed per training token (training_per_1m), not per hour: give "
                    "training_file or training_tokens instead"))
            hours, per_hour = strategy.training_hours, ft.training_per_hour
            tokens = epochs = billed = 0
            fee = hours * per_hour
            info = _TrainingData(f"training_hours = {plain_number(hours)} a run", None, None)
        else:
            if ft.training_per_1m is None:
                per = f" (${plain_number(ft.training_per_hour)} an hour)" if ft.training_per_hour is not None else ""
                raise self.scenario.error((*key, "training_file" if strategy.training_file else "training_tokens"), (
                    f"{model.name} is billed per training hour{per}, not per token: give training_hours, the "
                    "hours one run takes"))
            per_1m = ft.training_per_1m
            if strategy.training_file is not None:
                if model.encoding is None:
                    raise self.scenario.error((*key, "model"),
                                              f"the price sheet names no tokenizer encoding for {model.name}")
                # The scan's frequency table bills this snapshot's per-example limit at this sheet's
                # price: a retraining on another snapshot with the same tokenizer reads nothing again.
                report = self.inputs.scans[(strategy.training_file, model.encoding)].billed_for(
                    model, sheet, strategy.epochs)
                tokens, epochs, rule = report.billing_tokens, report.epochs, report.epochs_rule
                billed = report.billed_training_tokens
                name = strategy.training_file.name
                info = _TrainingData(
                    source=f"{name} ({report.examples:,} examples, {report.encoding})", epochs=epochs,
                    epochs_rule=rule, notes=tuple(_dataset_note(name, e) for e in report.errors))
            else:
                assert strategy.training_tokens is not None  # the scenario loader demands one of three
                bill = bill_tokens(model, strategy.training_tokens, strategy.epochs)
                tokens, epochs, billed = bill.billing_tokens, bill.epochs, bill.billed_tokens
                info = _TrainingData(f"training_tokens = {tokens:,}", epochs, bill.epochs_rule)
            fee = tokens_cost(billed, per_1m)
        bound = bound_usd = None
        if ft.minimum_per_job is not None and fee < ft.minimum_per_job:
            fee, bound, bound_usd = ft.minimum_per_job, "minimum", ft.minimum_per_job
        if ft.maximum_per_job is not None and fee > ft.maximum_per_job:
            fee, bound, bound_usd = ft.maximum_per_job, "maximum", ft.maximum_per_job
        run = TrainingRun(
            month=month, snapshot=model.name, sheet_effective=sheet.effective,
            training_tokens=tokens, epochs=epochs, billed_tokens=billed,
            training_per_1m=per_1m, training_usd=fee, dataset=report,
            training_hours=hours, training_per_hour=per_hour, bound=bound, bound_usd=bound_usd,
        )
        return run, info

    # --- totals ---

    def result(self, strategy: Strategy, priced: _Priced) -> StrategyResult:
        tokens, rates, training = priced.tokens, priced.rates, priced.training
        months, cumulative = [], ZERO
        for i, (month, rate) in enumerate(zip(self.months, rates)):
            requests = self.requests[i]
            input_usd = requests * rate.input_usd(tokens)
            output_usd = requests * tokens.completion * rate.output_usd_per_token
            retrieval_usd = requests * tokens.query * rate.embedding_usd_per_token + rate.corpus_usd
            usage = input_usd + output_usd + retrieval_usd
            total = usage + rate.training_usd + rate.fixed_usd
            cumulative += total
            months.append(MonthCost(
                month=month, number=i + 1, requests=requests,
                input_tokens=requests * tokens.input,
                cached_input_tokens=requests * tokens.cached,
                output_tokens=requests * tokens.completion, input_usd=input_usd, output_usd=output_usd,
                retrieval_usd=retrieval_usd, usage_usd=usage, training_usd=rate.training_usd,
                fixed_usd=rate.fixed_usd, total_usd=total, cumulative_usd=cumulative, snapshots=rate.snapshots,
                hosting_usd=rate.hosting_usd, storage_usd=rate.storage_usd, served_days=rate.served_days,
                days=rate.days, training_open=priced.training_open[i],
            ))
        requests = sum(self.requests, ZERO)
        # Per 1K requests of those served: a strategy that stops serving is not cheaper per request.
        served = sum((r * rate.served_days / rate.days for r, rate in zip(self.requests, rates) if rate.days), ZERO)
        return StrategyResult(
            name=strategy.name, type=strategy.type, model=strategy.model,
            is_baseline=strategy.name == self.scenario.baseline, tokens=tokens, months=tuple(months),
            rates=tuple(rates), total_usd=cumulative, requests=requests,
            per_1k_requests_usd=cumulative / served * 1000 if served else None,
            vs_baseline_usd=ZERO, break_even=None, trainings=priced.trainings,
            training_source=training.source, epochs=training.epochs, epochs_rule=training.epochs_rule,
            embedding_model=strategy.embedding_model if strategy.type == "retrieval" else None,
            notes=training.notes, warnings=priced.warnings, events=priced.events, deployment=priced.deployment,
            billing=priced.billing,
        )

    def assumptions(self, results: list[StrategyResult]) -> Assumptions:
        from .tokens import COUNTING_RULE

        traffic = self.traffic
        def file(sheet: PriceSheet) -> str:
            own = sheet.provider == self.book.provider
            return sheet.path.name if own else f"{sheet.provider}/{sheet.path.name}"

        # The book's own provider's sheets, then those of every other provider a strategy used.
        sheets = tuple(
            MonthSheets(m, days_in_month(m),
                        tuple(SheetSpan(s.sheet.effective, file(s.sheet), s.first_day, s.days, s.sheet.checked,
                                        s.sheet.provider)
                              for spans in self.spans_by_provider.values() for s in spans[i]))
            for i, m in enumerate(self.months))
        sources = tuple(CitedSource(source.key, source.title, source.url, tuple(sorted(revisions)))
                        for source, revisions in self.cited.values())
        measured = any(r.tokens.source.startswith("measured") for r in results)
        return Assumptions(
            scenario=self.scenario.source, title=self.scenario.title, start_month=self.months[0],
            end_month=self.months[-1], horizon_months=traffic.horizon_months,
            months=tuple(self.months), requests_per_month=traffic.requests_per_month,
            requests_per_day=traffic.requests_per_day, first_month_requests=self.requests[0],
            monthly_growth_pct=traffic.monthly_growth_pct, prompt_tokens=traffic.prompt_tokens,
            completion_tokens=traffic.completion_tokens,
            sample_file=str(traffic.sample_file) if traffic.sample_file else None,
            batch_share=traffic.batch_share, cached_share=traffic.cached_share, price_sheets=sheets,
            pricing_dir=str(self.book.directory), sources=sources,
            counting_rule=COUNTING_RULE if measured or any(r.type == "fine-tuned" for r in results) else "",
        )


def break_even(result: StrategyResult, base: StrategyResult, first_month_requests: Decimal) -> BreakEven:
    """When `result` catches up with `base`, and the traffic from which it pays back in the horizon.

    Cost is linear in traffic: a strategy's total is R × Σ weight × per-request cost + Σ traffic-free
    costs, R being the first month's requests. So the break-even traffic is the extra traffic-free
    cost divided by Σ weight × per-request saving, rounded up to a whole request.
    """
    with localcontext() as context:
        context.prec = PRECISION
        # At or below the baseline's cumulative cost; two strategies that have cost nothing yet (no
        # traffic, no fixed costs) have not broken even, they have not started.
        month = next((m for m, b in zip(result.months, base.months)
                      if m.cumulative_usd <= b.cumulative_usd and (m.cumulative_usd or b.cumulative_usd)), None)
        saving_per_unit = sum((r.weight * (b.request_usd(base.tokens) - r.request_usd(result.tokens))
                               for r, b in zip(result.rates, base.rates)), ZERO)
        extra = sum((r.traffic_free_usd - b.traffic_free_usd for r, b in zip(result.rates, base.rates)), ZERO)
        if saving_per_unit > 0:
            requests = 0 if extra <= 0 else _ceil(extra / saving_per_unit)
            if requests and (requests - 1) * saving_per_unit >= extra:  # the division rounded up
                requests -= 1
        else:
            requests = None
        return BreakEven(
            strategy=result.name, strategy_type=result.type, baseline=base.name,
            month=month.month if month else None, month_number=month.number if month else None,
            monthly_requests=requests, saving_usd=base.total_usd - result.total_usd,
            request_usd=result.request_usd, baseline_request_usd=base.request_usd, extra_fixed_usd=extra,
            first_month_requests=first_month_requests, horizon_months=len(result.months),
            final_gap_usd=result.months[-1].cumulative_usd - base.months[-1].cumulative_usd,
        )


# --- helpers -------------------------------------------------------------------------------------


def _focus(strategies) -> StrategyResult | None:
    tuned = [s for s in strategies if s.type == "fine-tuned" and not s.is_baseline]
    return next((s for s in tuned if s.available), tuned[0] if tuned else None)


def _average_request_usd(rates, tokens: RequestTokens) -> Decimal:
    with localcontext() as context:
        context.prec = PRECISION
        weights = sum((r.weight for r in rates), ZERO)
        if not weights:
            return rates[0].request_usd(tokens) if rates else ZERO
        return sum((r.weight * r.request_usd(tokens) for r in rates), ZERO) / weights


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def _tokens_dict(tokens: RequestTokens) -> dict:
    return {"prompt": tokens.prompt, "context": tokens.context, "input": tokens.input,
            "completion": tokens.completion, "query": tokens.query, "encoding": tokens.encoding,
            "source": tokens.source, "cached_share": tokens.cached_share, "cacheable_input": tokens.cacheable,
            "cached_input": tokens.cached}


__all__ = [
    "Assumptions",
    "BreakEven",
    "BudgetCheck",
    "CitedSource",
    "Comparison",
    "MonthCost",
    "MonthRates",
    "MonthSheets",
    "PRECISION",
    "PRORATION_RULE",
    "RequestTokens",
    "SheetSpan",
    "StrategyResult",
    "TrainingRun",
    "break_even",
    "compare",
]


def _dataset_note(name: str, error) -> str:
    """'train.jsonl: invalid JSON (3 lines, first 4, 9, 12)'; file-level errors have no lines."""
    if not error.lines:
        return f"{name}: {error.message}"
    first = ", ".join(str(line) for line in error.lines)
    return f"{name}: {error.message} ({error.count:,} line{'s' if error.count != 1 else ''}, first {first})"
