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

from .cost import cacheable_tokens, per_token, token_prices, tokens_cost
from .errors import MissingPriceError, UnknownModelError, UsageError
from .inputs import Inputs, ScanProgress, due, given_tokens, read_inputs, sample_need, training_months
from .pricing import ModelPrice, PriceBook, PriceSheet, Source, not_priced_yet, split_fine_tuned

Money = Callable[[Decimal], str]  # formats an amount in USD for a sentence (prose.py's default: USD)
from .months import days_in_month, month_label, months_phrase
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
    file: str
    first_day: int
    days: int
    checked: dt.date | None = None  # when the sheet's prices were last checked against the sources


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
    training_per_1m: Decimal
    training_usd: Decimal
    # The scan of the training file this run was priced from (None for a given token count), so a
    # report can show the file's statistics without reading it again.
    dataset: DatasetReport | None = field(default=None, repr=False, compare=False)


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
    fixed_usd: Decimal  # upkeep or vector database
    snapshots: tuple[str, ...]

    def input_usd(self, tokens: RequestTokens) -> Decimal:
        """Input cost of one request: the uncached tokens at the input rate, the cached at theirs."""
        return (tokens.input - tokens.cached) * self.input_usd_per_token + tokens.cached * self.cached_input_usd_per_token

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
    fixed_usd: Decimal  # upkeep, vector database
    total_usd: Decimal
    cumulative_usd: Decimal
    snapshots: tuple[str, ...]  # the model snapshots priced (two when an alias moves mid-month)

    def to_dict(self) -> dict:
        return {
            "month": month_label(self.month), "month_number": self.number, "requests": self.requests,
            "input_tokens": self.input_tokens, "cached_input_tokens": self.cached_input_tokens,
            "output_tokens": self.output_tokens, "input_usd": self.input_usd, "output_usd": self.output_usd,
            "retrieval_usd": self.retrieval_usd, "usage_usd": self.usage_usd, "training_usd": self.training_usd,
            "fixed_usd": self.fixed_usd, "total_usd": self.total_usd, "cumulative_usd": self.cumulative_usd,
            "snapshots": list(self.snapshots),
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

    @property
    def fine_tuned_rates(self) -> bool:
        """Whether requests are priced at the fine-tuned model's rates: a fine-tuned strategy, or
        any strategy whose model is an `ft:` name (a model already trained)."""
        return self.type == "fine-tuned" or split_fine_tuned(self.model)[1]

    @property
    def request_usd(self) -> Decimal:
        """Usage cost of one request, averaged over the horizon by requests."""
        return _average_request_usd(self.rates, self.tokens)

    def to_dict(self) -> dict:
        training = None
        if self.type == "fine-tuned":
            training = {
                "source": self.training_source, "epochs": self.epochs, "epochs_rule": self.epochs_rule,
                "runs": [{"month": month_label(r.month), "snapshot": r.snapshot, "price_sheet": r.sheet_effective.isoformat(),
                          "training_tokens": r.training_tokens, "epochs": r.epochs,
                          "billed_tokens": r.billed_tokens, "training_per_1m": r.training_per_1m,
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
            "break_even": self.break_even.to_dict() if self.break_even else None,
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
        return min(self.strategies, key=lambda s: s.total_usd)

    @property
    def focus(self) -> StrategyResult | None:
        """The first fine-tuned strategy: the one the question is about."""
        return next((s for s in self.strategies if s.type == "fine-tuned" and not s.is_baseline), None)

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
                   "retrieval_usd", "usage_usd", "training_usd", "fixed_usd", "total_usd", "cumulative_usd")
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


class _Pricer:
    def __init__(self, scenario: Scenario, book: PriceBook, inputs: Inputs):
        self.scenario = scenario
        self.book = book
        self.inputs = inputs
        self.traffic = scenario.traffic
        self.months = self.traffic.months()
        self.spans = [self.month_spans(m) for m in self.months]
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
        focus = next((r for r in final if r.type == "fine-tuned" and not r.is_baseline), None)
        return Comparison(self.assumptions(final), tuple(final), base.name, focus.break_even if focus else None)

    # --- months and sheets ---

    def month_spans(self, month: dt.date) -> list[_Span]:
        """Each part of the month priced with one sheet."""
        days = days_in_month(month)
        try:
            first = self.book.as_of(month)
        except UsageError:
            raise self.scenario.error(
                ("traffic", "start_month"),
                f"no price sheet in force on {month.isoformat()}: the first sheet is effective "
                f"{self.book.sheets[0].revision}") from None
        # A new part starts where a sheet takes effect or an alias moves: as_of gives that day's aliases.
        last = month.replace(day=days)
        starts = [(first, 1)] + [(self.book.as_of(day), day.day)
                                 for day in self.book.changes_between(month, last) if day.day > 1]
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
        key = ("strategies", strategy.name)
        fine_tuned = strategy.type == "fine-tuned"
        first_sheet = self.spans[0][0].sheet
        trainings: list[TrainingRun] = []
        training = _TrainingData()
        # The snapshot priced at fine-tuned rates: the latest training's, or the one an `ft:` name
        # names (a model already trained: fine-tuned prices, no training fee).
        snapshot = None
        if fine_tuned:
            first_model = self.fine_tunable(strategy, first_sheet, self.months[0])
        else:
            first_model = self.model(strategy.model, first_sheet, (*key, "model"), embedding=False)
            if split_fine_tuned(strategy.model)[1]:
                snapshot = first_model.name
        tokens = self.tokens(strategy, first_model)
        due_training = set(training_months(strategy, self.months)) if fine_tuned else set()
        rates = []
        for i, month in enumerate(self.months):
            training_usd = corpus_usd = ZERO
            sheet_on_1st = self.spans[i][0].sheet
            if i in due_training:
                run, training = self.train(strategy, sheet_on_1st, month)
                trainings.append(run)
                training_usd = run.training_usd
                snapshot = run.snapshot
            if strategy.type == "retrieval" and due(i, strategy.refresh_every_months) and strategy.corpus_tokens:
                embedder = self.model(strategy.embedding_model, sheet_on_1st, (*key, "embedding_model"), embedding=True)
                self.cite(sheet_on_1st, embedder, fine_tuned=False)
                corpus_usd = tokens_cost(strategy.corpus_tokens, embedder.price("input_per_1m"))
            rates.append(self.month_rates(strategy, i, tokens, snapshot, training_usd, corpus_usd))
        return _Priced(tokens, tuple(rates), tuple(trainings), training)

    def month_rates(self, strategy: Strategy, i: int, tokens: RequestTokens, snapshot: str | None,
                    training_usd: Decimal, corpus_usd: Decimal) -> MonthRates:
        key = ("strategies", strategy.name)
        days = days_in_month(self.months[i])
        input_rate = cached_rate = output_rate = embedding_rate = ZERO
        snapshots = []
        for span in self.spans[i]:
            if snapshot is not None:
                model = self.fine_tuned_snapshot(strategy, span.sheet, snapshot)
            else:
                model = self.model(strategy.model, span.sheet, (*key, "model"), embedding=False)
            snapshots.append(model.name)
            self.cite(span.sheet, model, fine_tuned=snapshot is not None)
            span_in, span_cached, span_out = self.token_rates(model, tokens, fine_tuned=snapshot is not None)
            input_rate += span.days * span_in
            cached_rate += span.days * span_cached
            output_rate += span.days * span_out
            if tokens.query:
                embedder = self.model(strategy.embedding_model, span.sheet, (*key, "embedding_model"), embedding=True)
                self.cite(span.sheet, embedder, fine_tuned=False)
                embedding_rate += span.days * per_token(embedder.price("input_per_1m"))
        fixed = strategy.upkeep_usd_per_month if strategy.type == "fine-tuned" else (
            strategy.vector_db_usd_per_month if strategy.type == "retrieval" else ZERO)
        return MonthRates(
            weight=self.weights[i],
            input_usd_per_token=input_rate / days,
            cached_input_usd_per_token=cached_rate / days,
            output_usd_per_token=output_rate / days,
            embedding_usd_per_token=embedding_rate / days,
            training_usd=training_usd,
            corpus_usd=corpus_usd,
            fixed_usd=fixed,
            snapshots=tuple(dict.fromkeys(snapshots)),
        )

    def token_rates(self, model: ModelPrice, tokens: RequestTokens,
                    fine_tuned: bool) -> tuple[Decimal, Decimal, Decimal]:
        """USD per uncached input, cached input and output token, blended over the Batch share."""
        batch = self.traffic.batch_share
        input_rate = cached_rate = output_rate = ZERO
        for share, is_batch in ((1 - batch, False), (batch, True)):
            if not share:
                continue
            try:
                prices = token_prices(model, fine_tuned=fine_tuned, batch=is_batch,
                                      needs_input=tokens.input > 0, needs_output=tokens.completion > 0)
            except MissingPriceError as exc:
                if not is_batch:
                    raise
                raise self.scenario.error(("traffic", "batch_share"), f"{exc} ({self.why_no_batch(model)})") from None
            input_rate += share * per_token(prices.input_per_1m)
            cached_rate += share * per_token(prices.cached_input_per_1m)
            output_rate += share * per_token(prices.output_per_1m)
        return input_rate, cached_rate, output_rate

    def why_no_batch(self, model: ModelPrice) -> str:
        """Why the sheet has no batch price for `model`: a sheet before the Batch API, or this model."""
        sheet = self.book.as_of(model.effective)
        if any(m.batch_input_per_1m is not None for m in sheet.models.values()):
            return "the price sheets list no batch price for this model: set the share to 0 or pick another model"
        return "the Batch API opened in April 2024: start the horizon later or set the share to 0"

    # --- models ---

    def model(self, name: str, sheet: PriceSheet, key: KeyPath, embedding: bool) -> ModelPrice:
        try:
            model = sheet.model(name)
        except UnknownModelError as exc:
            later = self.book.first_sheet_with(name, sheet.effective)
            if later is not None:  # a real model, just not out yet in this month
                raise self.scenario.error(key, not_priced_yet(name, sheet, later)) from None
            raise self.scenario.error(key, str(exc)) from None
        if embedding and model.kind != "embedding":
            raise self.scenario.error(key, f"{name} is a {model.kind} model, not an embedding model")
        if not embedding and model.kind in ("embedding", "moderation"):
            raise self.scenario.error(key, f"{name} is an {model.kind} model: it cannot answer requests")
        return model

    def fine_tunable(self, strategy: Strategy, sheet: PriceSheet, month: dt.date) -> ModelPrice:
        from .training import not_fine_tunable, training_price

        key = ("strategies", strategy.name, "model")
        model = self.model(strategy.model, sheet, key, embedding=False)
        refusal = not_fine_tunable(strategy.model, model, sheet.revision, month)
        if refusal is not None:
            # An alias may have moved to a snapshot not yet fine-tunable (gpt-3.5-turbo meant 0125 from
            # 2024-02-16; fine-tuning prices for 0125 appear on 2024-05-13): name the ones that were.
            family = sorted(name for name, m in sheet.models.items()
                            if name.startswith(f"{strategy.model}-") and training_price(m) is not None)
            if model.name != strategy.model and family:
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

    def train(self, strategy: Strategy, sheet: PriceSheet, month: dt.date) -> tuple[TrainingRun, _TrainingData]:
        model = self.fine_tunable(strategy, sheet, month)
        self.cite(sheet, model, fine_tuned=True)
        report = None
        if strategy.training_file is not None:
            if model.encoding is None:
                raise self.scenario.error(("strategies", strategy.name, "model"),
                                          f"the price sheet names no tokenizer encoding for {model.name}")
            # The scan's frequency table bills this snapshot's per-example limit at this sheet's
            # price: a retraining on another snapshot with the same tokenizer reads nothing again.
            report = self.inputs.scans[(strategy.training_file, model.encoding)].billed_for(
                model, sheet, strategy.epochs)
            tokens, epochs, rule = report.billing_tokens, report.epochs, report.epochs_rule
            billed, training_usd = report.billed_training_tokens, report.training_usd
            name = strategy.training_file.name
            info = _TrainingData(
                source=f"{name} ({report.examples:,} examples, {report.encoding})", epochs=epochs,
                epochs_rule=rule, notes=tuple(_dataset_note(name, e) for e in report.errors))
        else:
            assert strategy.training_tokens is not None  # the scenario loader demands one of the two
            bill = bill_tokens(model, strategy.training_tokens, strategy.epochs)
            tokens, epochs, training_usd = bill.billing_tokens, bill.epochs, bill.training_usd
            billed = bill.billed_tokens
            info = _TrainingData(f"training_tokens = {tokens:,}", epochs, bill.epochs_rule)
        assert training_usd is not None  # fine_tunable checked the training price
        run = TrainingRun(
            month=month, snapshot=model.name, sheet_effective=sheet.effective,
            training_tokens=tokens, epochs=epochs, billed_tokens=billed,
            training_per_1m=model.price("training_per_1m"), training_usd=training_usd, dataset=report,
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
            ))
        requests = sum(self.requests, ZERO)
        return StrategyResult(
            name=strategy.name, type=strategy.type, model=strategy.model,
            is_baseline=strategy.name == self.scenario.baseline, tokens=tokens, months=tuple(months),
            rates=tuple(rates), total_usd=cumulative, requests=requests,
            per_1k_requests_usd=cumulative / requests * 1000 if requests else None,
            vs_baseline_usd=ZERO, break_even=None, trainings=priced.trainings,
            training_source=training.source, epochs=training.epochs, epochs_rule=training.epochs_rule,
            embedding_model=strategy.embedding_model if strategy.type == "retrieval" else None,
            notes=training.notes,
        )

    def assumptions(self, results: list[StrategyResult]) -> Assumptions:
        from .tokens import COUNTING_RULE

        traffic = self.traffic
        sheets = tuple(
            MonthSheets(m, days_in_month(m),
                        tuple(SheetSpan(s.sheet.effective, s.sheet.path.name, s.first_day, s.days, s.sheet.checked)
                              for s in spans))
            for m, spans in zip(self.months, self.spans))
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
