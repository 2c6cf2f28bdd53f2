"""The price catalogue: dated price sheets loaded from TOML into frozen dataclasses.

A price sheet (`pricing/<provider>/<effective-date>.toml`) lists every model in force from its
effective date, with prices in USD per 1M tokens read as exact `Decimal`s, the aliases of that
date and the sources the prices came from. A `PriceBook` holds all sheets of a folder and answers
"which prices applied on this date?", a model's history and the diff of two sheets.

Loading validates every file and reports every problem at once, each with the file and key path
(`pricing/openai/2024-05-13.toml: models.gpt-4o.input: ...`, `models."gpt-3.5-turbo-0613".input`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path


from ._schema import Checker, KeyPath, Raw, did_you_mean, read_toml, show_value, type_name
from ._schema import display_path as display_path  # re-exported: other modules import it from here
from .errors import MissingPriceError, PricingError, Problem, UnknownModelError, UsageError

SCHEMA_VERSION = 1
PRICING_DIR_ENV = "COSTCALC_PRICING_DIR"
# No model has come near: the dearest listed price is a few hundred USD per 1M tokens. A price above
# this is a typo (or an exponent), and would only make every figure after it unreadable.
MAX_PRICE = Decimal(1_000_000)

MODEL_KINDS = ("chat", "completion", "embedding", "moderation")
ENCODINGS = ("cl100k_base", "o200k_base")
FINE_TUNED_PREFIX = "ft:"

# Price keys as written in the sheets, in display order.
MODEL_PRICE_KEYS = ("input", "cached_input", "output", "batch_input", "batch_output")
FINE_TUNING_PRICE_KEYS = (
    "training",
    "input",
    "cached_input",
    "output",
    "batch_input",
    "batch_cached_input",
    "batch_output",
)
# Prices every model of a kind must list (moderation is free: input = 0 and output = 0).
REQUIRED_PRICES = {"chat": ("input", "output"), "completion": ("input", "output"), "embedding": ("input",),
                   "moderation": ("input", "output")}
_SHEET_KEYS = {
    "schema_version", "provider", "effective", "currency", "unit", "checked", "summary",
    "sources", "aliases", "models",
}
_MODEL_KEYS = {"kind", "encoding", "context_window", "sources", "note", "fine_tuning", *MODEL_PRICE_KEYS}
_FINE_TUNING_KEYS = {"max_tokens_per_example", "sources", "note", *FINE_TUNING_PRICE_KEYS}


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    url: str


@dataclass(frozen=True)
class FineTuningPrice:
    """Prices of fine-tuning a model and of using the fine-tuned model, USD per 1M tokens."""

    training_per_1m: Decimal | None = None
    input_per_1m: Decimal | None = None
    cached_input_per_1m: Decimal | None = None
    output_per_1m: Decimal | None = None
    batch_input_per_1m: Decimal | None = None
    batch_cached_input_per_1m: Decimal | None = None
    batch_output_per_1m: Decimal | None = None
    max_tokens_per_example: int | None = None
    sources: tuple[str, ...] = ()
    note: str = ""
    # Schema v2 only: prices billed by time, by storage or per job (None = not billed this way).
    training_per_hour: Decimal | None = None
    hosting_per_hour: Decimal | None = None
    storage_per_month: Decimal | None = None
    minimum_per_job: Decimal | None = None
    maximum_per_job: Decimal | None = None  # a per-job billing cap (Azure RFT: $5,000, PROVIDERS_FACTS §1a)


@dataclass(frozen=True)
class Tier:
    """Prices that replace a mode's own for a request with more than `above_input_tokens` input tokens."""

    above_input_tokens: int
    rates: dict[str, Decimal]


@dataclass(frozen=True)
class ModeRates:
    """One way of calling a model (standard, batch, flex, priority, an Azure deployment type)."""

    rates: dict[str, Decimal]  # price key (input_per_1m, ...) -> amount; absent = not offered
    tiers: tuple[Tier, ...] = ()


@dataclass(frozen=True)
class ModelPrice:
    """One model snapshot as priced by one sheet. Prices are USD per 1M tokens; None = not offered."""

    name: str
    kind: str
    effective: dt.date
    encoding: str | None = None
    context_window: int | None = None
    input_per_1m: Decimal | None = None
    cached_input_per_1m: Decimal | None = None
    output_per_1m: Decimal | None = None
    batch_input_per_1m: Decimal | None = None
    batch_output_per_1m: Decimal | None = None
    fine_tuning: FineTuningPrice | None = None
    sources: tuple[str, ...] = ()
    note: str = ""
    provider: str = "openai"
    tokenizer: str | None = None  # scheme:name, e.g. "tiktoken:o200k_base"
    # Schema v2: every mode of the base model and of the fine-tuned model, tiers included.
    modes: dict[str, ModeRates] = field(default_factory=dict)
    fine_tuned_modes: dict[str, ModeRates] = field(default_factory=dict)
    # The provider's default mode (Azure: "global"): input_per_1m, fine_tuning, ... are its prices.
    default_mode: str = "standard"
    # Fine-tuning prices by mode (Azure's deployment types), the default mode's included.
    fine_tuning_by_mode: dict[str, FineTuningPrice] = field(default_factory=dict)

    def rate(self, kind: str, mode: str | None = None, *, fine_tuned: bool = False,
             input_tokens: int | Decimal = 0) -> Decimal:
        """A price by kind (`input`, `cached_input`, `cache_write`, `output`) and mode (the provider's
        default mode when None); missing is an error.

        `input_tokens` picks the tier: the prices of the highest tier the request's input is above.
        """
        mode = mode or self.default_mode
        modes = self.fine_tuned_modes if fine_tuned else self.modes
        key = f"{kind}_per_1m"
        rates = modes.get(mode)
        value = rates.rates.get(key) if rates else None
        for tier in rates.tiers if rates else ():
            if input_tokens > tier.above_input_tokens and key in tier.rates:
                value = tier.rates[key]
        if value is None:
            what = " ".join(["fine-tuned" if fine_tuned else "", "" if mode == self.default_mode else mode,
                             kind.replace("_", " ")]).split()
            raise MissingPriceError(self.name, " ".join(what), self.effective)
        return value

    def price(self, name: str) -> Decimal:
        """A price by its JSON name (`input_per_1m`, `ft_output_per_1m`, ...); missing is an error."""
        value = self.prices().get(name)
        if value is None:
            raise MissingPriceError(self.name, _describe_price(name), self.effective)
        return value

    def prices(self) -> dict[str, Decimal | None]:
        """Every price under its stable JSON name, None where the sheet has none."""
        ft = self.fine_tuning or FineTuningPrice()
        return {
            "input_per_1m": self.input_per_1m,
            "output_per_1m": self.output_per_1m,
            "cached_input_per_1m": self.cached_input_per_1m,
            "batch_input_per_1m": self.batch_input_per_1m,
            "batch_output_per_1m": self.batch_output_per_1m,
            "training_per_1m": ft.training_per_1m,
            "ft_input_per_1m": ft.input_per_1m,
            "ft_cached_input_per_1m": ft.cached_input_per_1m,
            "ft_output_per_1m": ft.output_per_1m,
            "ft_batch_input_per_1m": ft.batch_input_per_1m,
            "ft_batch_cached_input_per_1m": ft.batch_cached_input_per_1m,
            "ft_batch_output_per_1m": ft.batch_output_per_1m,
        }


PRICE_NAMES = tuple(ModelPrice("", "chat", dt.date.min).prices())


def _describe_price(name: str) -> str:
    """'ft_batch_input_per_1m' -> 'fine-tuned batch input' (for error messages)."""
    words = name.removesuffix("_per_1m").split("_")
    if words[0] == "ft":
        words[0] = "fine-tuned"
    return " ".join(words)


@dataclass(frozen=True)
class PriceSheet:
    """All prices of one provider in force from `effective` until the next sheet."""

    path: Path
    provider: str
    effective: dt.date
    checked: dt.date
    currency: str
    unit: str
    summary: str
    sources: dict[str, Source]
    aliases: dict[str, str]
    models: dict[str, ModelPrice]
    schema_version: int | str = SCHEMA_VERSION

    @property
    def revision(self) -> str:
        return self.effective.isoformat()

    def model(self, name: str) -> ModelPrice:
        """The snapshot `name` means on this sheet: a snapshot, an alias or a fine-tuned model name."""
        return self.models[self.resolve(name)]

    def resolve(self, name: str) -> str:
        """Snapshot name for a snapshot, alias or `ft:` name; UnknownModelError lists close names."""
        base, _ = split_fine_tuned(name)
        if base in self.models:
            return base
        if base in self.aliases:
            return self.aliases[base]
        provider, bare = split_provider(base)
        if provider is not None:
            if provider != self.provider:
                raise UnknownProviderError(provider, name, [self.provider])
            return self.resolve(bare)
        raise UnknownModelError(
            name, [*self.models, *self.aliases], where=f"in the price sheet effective {self.revision}"
        )

    def names(self) -> list[str]:
        return sorted([*self.models, *self.aliases])


def split_provider(name: str) -> tuple[str | None, str]:
    """`openai/gpt-4o` -> ('openai', 'gpt-4o'); a name without a provider prefix -> (None, name)."""
    provider, slash, rest = name.partition("/")
    if slash and rest and _PROVIDER_NAME.fullmatch(provider):
        return provider, rest
    return None, name


_PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_-]*")


class UnknownProviderError(UnknownModelError):
    """A model name whose `provider/` prefix names a provider no price sheet is of (exit 2, as an unknown model)."""

    def __init__(self, provider: str, name: str, known: Iterable[str]):
        self.name = name
        self.provider = provider
        self.suggestions = sorted(set(known))
        message = f"unknown provider {provider!r} in {name!r}; the price sheets are of: {', '.join(self.suggestions)}"
        Exception.__init__(self, message)


def read_kind(check: Checker, body: Raw, p: KeyPath) -> str | None:
    """A model's `kind` (chat, completion, embedding, moderation), for a v1 sheet or models.toml."""
    kind = check.string(body, (*p, "kind"), required=True)
    if kind is not None and kind not in MODEL_KINDS:
        check.problem((*p, "kind"), f"must be one of {', '.join(MODEL_KINDS)}, not {kind!r}")
        return None
    return kind


def read_cited(check: Checker, body: Raw, p: KeyPath, sources: dict[str, Source], *, defined_in: str,
               required: bool = True) -> tuple[str, ...]:
    """The source keys a price cites (`sources = ["S1", ...]`), each one defined in `defined_in`
    (a v1 sheet's [sources], a v2 folder's sources.toml). With no sources read at all (a broken
    [sources] table, already reported) the keys are not checked one by one."""
    path = (*p, "sources")
    cited = body.get("sources")
    if cited is None:
        if required:
            check.problem(path, "missing: every price needs a source")
        return ()
    if not isinstance(cited, list) or not cited or not all(isinstance(c, str) for c in cited):
        check.problem(path, "must be a non-empty list of source keys")
        return ()
    for key in cited:
        if sources and key not in sources:
            check.problem(path, f"{key!r} is not defined in {defined_in}" + did_you_mean(key, sources))
    return tuple(cited)


def read_sources(check: Checker, table: Raw) -> dict[str, Source]:
    """The `[sources]` table of a v1 sheet or a v2 sources.toml: key -> {title, url}, every problem
    reported through `check`."""
    sources = {}
    for key, body in table.items():
        path = ("sources", key)
        if not isinstance(body, dict):
            check.problem(path, "must be a table with title and url")
            continue
        check.unknown_keys(body, ("title", "url"), path)
        title = check.string(body, (*path, "title"), required=True)
        # A URL where the source has one; a repository file at a commit may only have a title.
        url = check.string(body, (*path, "url")) or ""
        if title is not None:
            sources[key] = Source(key, title, url)
    return sources


def not_priced_yet(name: str, sheet: PriceSheet, later: PriceSheet) -> str:
    """'gpt-4o-mini is not in the price sheet effective 2023-08-22: it first appears in the sheet
    effective 2024-07-18' (one wording for every command)."""
    return (f"{name} is not in the price sheet effective {sheet.revision}: it first appears in the sheet "
            f"effective {later.revision}")


def split_fine_tuned(name: str) -> tuple[str, bool]:
    """`ft:gpt-3.5-turbo-0613:acme::abc123` -> ('gpt-3.5-turbo-0613', True); other names unchanged.

    A provider prefix before `ft:` is dropped (`openai/ft:...`): the sheet checks it when it resolves the name.
    """
    provider, rest = split_provider(name)
    if provider is not None and rest.startswith(FINE_TUNED_PREFIX):
        name = rest
    if name.startswith(FINE_TUNED_PREFIX):
        # OpenAI's fine-tuned model ids are ft:<base>:<org>:<suffix>:<id>.
        return name[len(FINE_TUNED_PREFIX):].split(":", 1)[0], True
    return name, False


# --- schema v2: what does not change with a price revision (pricing/<provider>/models.toml) -----


@dataclass(frozen=True)
class AliasMove:
    """From `on`, the alias means `target` (until its next move)."""

    on: dt.date
    target: str
    sources: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class FineTuningFacts:
    """How and when a model could be fine-tuned, and when the fine-tuned models stop answering."""

    methods: tuple[str, ...] = ()
    max_tokens_per_example: int | None = None
    training_opens: dt.date | None = None  # None: from the first sheet with its fine-tuning prices
    training_closes: dt.date | None = None  # for this model only; the provider's wind-down applies too
    # From this day only existing customers may create jobs (Azure: from the base model's retirement,
    # PROVIDERS_FACTS §1g footnote); jobs stay possible past the base model's shutdown until training_closes.
    existing_customers_from: dt.date | None = None
    fine_tuned_notice: dt.date | None = None  # the day the fine-tuned models' own shutdown was announced
    fine_tuned_shutdown: dt.date | None = None  # None: the fine-tuned models stop with the base model
    sources: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class ModelFacts:
    """One model snapshot's kind, tokenizer, limits and lifecycle."""

    name: str
    kind: str
    tokenizer: str | None = None  # scheme:name, e.g. "tiktoken:o200k_base"
    context_window: int | None = None
    max_output_tokens: int | None = None
    released: dt.date | None = None
    deprecation_notice: dt.date | None = None
    shutdown: dt.date | None = None
    fine_tuning: FineTuningFacts | None = None
    sources: tuple[str, ...] = ()
    note: str = ""

    @property
    def encoding(self) -> str | None:
        """The tiktoken encoding name, None for another tokenizer scheme."""
        scheme, _, name = (self.tokenizer or "").partition(":")
        return name if scheme == "tiktoken" else None


@dataclass(frozen=True)
class WindDownStep:
    """From `on`, who may create fine-tuning jobs with this provider (`jobs`)."""

    on: dt.date
    jobs: str  # one of FINE_TUNING_JOBS
    wording: str = ""
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobsClosed:
    """Why no fine-tuning job could be started: since when, in a sentence, and the sources."""

    since: dt.date
    reason: str  # "OpenAI takes no new fine-tuning jobs from 2027-01-06"
    sources: tuple[str, ...] = ()
    wording: str = ""  # the provider's own words, where it has them


@dataclass(frozen=True)
class Rule:
    """A provider's rule that is not a price but bounds what is billed (Azure deletes a fine-tuned
    deployment after 15 days of inactivity; a developer-tier deployment lives 24 hours)."""

    key: str
    value: Decimal
    unit: str  # "days", "hours", ...
    wording: str
    sources: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Catalogue:
    """One provider's models.toml and sources.toml."""

    provider: str
    models: dict[str, ModelFacts]
    aliases: dict[str, tuple[AliasMove, ...]]
    sources: dict[str, Source]
    wind_down: tuple[WindDownStep, ...] = ()
    default_mode: str = "standard"  # the mode a model's plain prices are of (Azure: "global")
    rules: tuple[Rule, ...] = ()

    def aliases_on(self, date: dt.date) -> dict[str, str]:
        """Alias -> the snapshot it meant on `date` (aliases not yet created are left out)."""
        meant = {}
        for alias, moves in self.aliases.items():
            in_force = [m for m in moves if m.on <= date]
            if in_force:
                meant[alias] = in_force[-1].target
        return meant


STATUSES = ("available", "deprecated", "shut down", "not released")
FINE_TUNING_JOBS = ("open", "existing customers only", "closed")
FINE_TUNING_METHODS = ("sft", "dpo", "rft", "vision")


@dataclass(frozen=True)
class PriceChange:
    """One price that differs between two sheets (None = absent)."""

    model: str
    price: str
    old: Decimal | None
    new: Decimal | None


@dataclass(frozen=True)
class SheetDiff:
    old: PriceSheet
    new: PriceSheet
    added_models: tuple[str, ...]
    removed_models: tuple[str, ...]
    changed_prices: tuple[PriceChange, ...]
    changed_aliases: tuple[tuple[str, str | None, str | None], ...]


@dataclass(frozen=True)
class HistoryEntry:
    """A model's prices on one sheet, and the snapshot the requested name meant there.

    `on` is the day this entry starts: the sheet's effective date, or the day an alias moved inside
    the sheet's period (gpt-3.5-turbo to 0125 on 2024-02-16, in the 2024-01-25 sheet)."""

    sheet: PriceSheet
    model: ModelPrice
    on: dt.date | None = None

    @property
    def effective(self) -> dt.date:
        return self.on or self.sheet.effective


DEFAULT_PROVIDER = "openai"  # what a model name without a `provider/` prefix means
# How sentences name a provider (a folder of another name is named by its folder).
PROVIDER_NAMES = {"openai": "OpenAI", "azure": "Azure OpenAI", "mistral": "Mistral", "vertex": "Vertex AI",
                  "together": "Together AI", "fireworks": "Fireworks AI", "bedrock": "Amazon Bedrock"}


@dataclass(frozen=True)
class PriceBook:
    """Every sheet of a pricing folder: one timeline per provider, oldest first.

    `sheets` is the timeline of the book's own provider (OpenAI where the folder has it); a name with
    another provider's prefix (`azure/gpt-4.1-mini-2025-04-14`) is looked up in that provider's
    timeline, through `for_name`, so every query below reads one provider's sheets at a time.
    """

    directory: Path
    sheets: tuple[PriceSheet, ...] = field(default_factory=tuple)
    # Schema v2: each provider's models.toml and sources.toml (empty for a folder of v1 sheets).
    catalogues: dict[str, Catalogue] = field(default_factory=dict)
    # Problems that do not stop loading: a sheet of a newer minor schema version, and what it says
    # that this costcalc does not know.
    warnings: tuple[Problem, ...] = ()
    # Every provider's timeline, this book's own included (empty: `sheets` is the only one).
    timelines: dict[str, tuple[PriceSheet, ...]] = field(default_factory=dict)

    @property
    def provider(self) -> str:
        return self.sheets[0].provider

    @property
    def providers(self) -> list[str]:
        """The providers this folder prices, the book's own first."""
        return [self.provider, *sorted(p for p in self.timelines if p != self.provider)]

    @property
    def all_sheets(self) -> tuple[PriceSheet, ...]:
        """Every provider's sheets, by provider (the book's own first), each oldest first."""
        return tuple(sheet for provider in self.providers for sheet in self.provider_book(provider).sheets)

    def provider_book(self, provider: str) -> PriceBook:
        """This folder as seen from `provider`: its timeline becomes `sheets`."""
        if provider == self.provider:
            return self
        if provider not in self.timelines:
            raise UnknownProviderError(provider, provider, self.providers)
        return replace(self, sheets=self.timelines[provider])

    def for_name(self, name: str) -> tuple[PriceBook, str]:
        """The book of the provider `name` names (`azure/...`), and the name without its prefix."""
        provider, bare = split_provider(name)
        if provider is None or provider == self.provider:
            return self, bare if provider is not None else name
        if provider not in self.timelines:
            raise UnknownProviderError(provider, name, self.providers)
        return self.provider_book(provider), bare

    def as_of(self, date: dt.date | str | None = None) -> PriceSheet:
        """The newest sheet effective on or before `date`, a date or "YYYY-MM-DD" (the newest sheet when None).

        Its aliases are those of `date`: an alias moves on its own day, not only with a new sheet.
        """
        if date is None:
            return self.sheets[-1]
        date = as_date(date)
        in_force = [s for s in self.sheets if s.effective <= date]
        if not in_force:
            raise UsageError(
                f"no price sheet in force on {date.isoformat()}: the first sheet is effective "
                f"{self.sheets[0].revision}"
            )
        sheet = in_force[-1]
        catalogue = self.catalogues.get(sheet.provider)
        if catalogue is None or date == sheet.effective:
            return sheet
        return replace(sheet, aliases=_aliases_in(catalogue, date, sheet.models))

    def carried_forward(self, date: dt.date | str) -> PriceSheet | None:
        """The newest sheet when `date` is after the day its prices were last checked against their
        sources: its prices are carried forward past what anyone verified. None up to that day."""
        newest = self.sheets[-1]
        return newest if as_date(date) > max(newest.checked, newest.effective) else None

    def changes_between(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """The days from `first` to `last` on which what a name costs can change: a sheet takes
        effect or an alias moves (gpt-3.5-turbo to 0125 on 2024-02-16, between two sheets)."""
        days = {s.effective for s in self.sheets}
        for catalogue in self.catalogues.values():
            if catalogue.provider == self.provider:
                days.update(m.on for moves in catalogue.aliases.values() for m in moves)
        return sorted(d for d in days if first <= d <= last)

    def model_on(self, name: str, date: dt.date | str | None = None) -> tuple[PriceSheet, ModelPrice]:
        """The sheet in force on `date` and what `name` means there. A model that a later sheet
        prices is not unknown but not out yet: the error says when it first appears."""
        book, bare = self.for_name(name)
        if book is not self:
            try:
                return book.model_on(bare, date)
            except UnknownProviderError:
                raise
            except UnknownModelError:
                raise book.unknown(name, f"price sheet effective {book.as_of(date).revision}") from None
        name = bare
        sheet = self.as_of(date)
        try:
            return sheet, sheet.model(name)
        except UnknownModelError:
            later = self.first_sheet_with(name, sheet.effective)
            if later is None:
                raise
            raise UsageError(not_priced_yet(name, sheet, later)) from None

    def unknown(self, name: str, sheet: str) -> UnknownModelError:
        """`name` (as the user wrote it, `azure/nosuch`) is not a model of this provider: the error
        names the provider and suggests this provider's names, with their prefix."""
        who = PROVIDER_NAMES.get(self.provider, self.provider)
        known = {f"{self.provider}/{n}" for s in self.sheets for n in s.names()}
        where = f"in any {who} price sheet" if sheet == "price sheet" else f"in the {who} {sheet}"
        return UnknownModelError(name, known, where=where)

    def first_sheet_with(self, name: str, after: dt.date) -> PriceSheet | None:
        """The first sheet effective after `after` that knows `name`, None if none does."""
        book, name = self.for_name(name)
        if book is not self:
            return book.first_sheet_with(name, after)
        return next((s for s in self.sheets if s.effective > after and name in s.names()), None)

    # --- lifecycle ---

    def facts(self, name: str, date: dt.date | str | None = None) -> ModelFacts | None:
        """The models.toml facts of the snapshot `name` means on `date` (None for a v1 folder)."""
        book, name = self.for_name(name)
        if book is not self:
            return book.facts(name, date)
        sheet = self.as_of(date)
        catalogue = self.catalogues.get(sheet.provider)
        if catalogue is None:
            return None
        return catalogue.models.get(sheet.resolve(name))

    def shutdown_on(self, name: str, date: dt.date | str | None = None) -> dt.date | None:
        """The day `name` (as meant on `date`) stops answering, None when none is announced.

        A fine-tuned name (`ft:...`) stops on its own shutdown day where the provider lists one, else
        with its base model (PRICING_FACTS_2025_2026 §4b).
        """
        book, name = self.for_name(name)
        if book is not self:
            return book.shutdown_on(name, date)
        facts = self.facts(name, date)
        if facts is None:
            return None
        _, fine_tuned = split_fine_tuned(name)
        if fine_tuned and facts.fine_tuning is not None and facts.fine_tuning.fine_tuned_shutdown is not None:
            return facts.fine_tuning.fine_tuned_shutdown
        return facts.shutdown

    def status(self, name: str, date: dt.date | str) -> str:
        """"available", "deprecated" (shutdown announced), "shut down" or "not released" on `date`.

        Prices stay readable for any date (`as_of`); this says whether the model could be used then.
        """
        book, name = self.for_name(name)
        if book is not self:
            return book.status(name, date)
        day = as_date(date)
        if day < self.sheets[0].effective:
            return "not released"
        sheet = self.as_of(day)
        try:
            snapshot = sheet.resolve(name)
        except UnknownModelError:
            if any(name in s.names() for s in self.sheets if s.effective > day):
                return "not released"
            raise
        facts = self.facts(name, day)
        shutdown = self.shutdown_on(name, day)
        if shutdown is not None and day >= shutdown:
            return "shut down"
        released = facts.released if facts is not None else None
        if released is not None and day < released:
            return "not released"
        notice = facts.deprecation_notice if facts is not None else None
        if facts is not None and facts.fine_tuning is not None and facts.fine_tuning.fine_tuned_shutdown is not None \
                and split_fine_tuned(name)[1]:
            notice = facts.fine_tuning.fine_tuned_notice  # a fine-tuned model outliving its base has its own notice
        if notice is not None and day >= notice:
            return "deprecated"
        if facts is None and snapshot not in sheet.models:  # pragma: no cover - resolve returns a model
            return "not released"
        return "available"

    def fine_tuning_jobs(self, name: str, date: dt.date | str) -> str | None:
        """Whether a fine-tuning job on `name` could be created on `date`: "open", "existing customers
        only", "closed", or None for a model that was never fine-tunable."""
        book, name = self.for_name(name)
        if book is not self:
            return book.fine_tuning_jobs(name, date)
        day = as_date(date)
        sheet = self.as_of(day)
        snapshot = sheet.resolve(name)
        catalogue = self.catalogues.get(sheet.provider)
        facts = catalogue.models.get(snapshot) if catalogue is not None else None
        priced_from = next((s.effective for s in self.sheets
                            if (m := s.models.get(snapshot)) is not None and m.fine_tuning is not None), None)
        if facts is None or facts.fine_tuning is None:
            if priced_from is None:
                return None
            return "open" if sheet.models[snapshot].fine_tuning is not None else "closed"
        ft = facts.fine_tuning
        opens = ft.training_opens or priced_from
        if opens is None or day < opens:
            return "closed"
        if ft.training_closes is not None and day >= ft.training_closes:
            return "closed"
        if ft.existing_customers_from is not None and day >= ft.existing_customers_from:
            return "existing customers only"
        if facts.shutdown is not None and day >= facts.shutdown:
            return "closed"
        steps = [step for step in (catalogue.wind_down if catalogue else ()) if step.on <= day]
        return steps[-1].jobs if steps else "open"

    def jobs_closed(self, name: str, date: dt.date | str, customer: str = "new") -> JobsClosed | None:
        """Why `customer` ("new": never fine-tuned with this provider; "existing") could not start a
        fine-tuning job on `name` on `date`, or None when it could (or the model was never
        fine-tunable: its missing training price says so)."""
        book, bare = self.for_name(name)
        if book is not self:
            return book.jobs_closed(bare, date, customer)
        day = as_date(date)
        jobs = self.fine_tuning_jobs(bare, day)
        if jobs in (None, "open") or (jobs == "existing customers only" and customer == "existing"):
            return None
        who = PROVIDER_NAMES.get(self.provider, self.provider)
        snapshot = self.as_of(day).resolve(bare)
        catalogue = self.catalogues.get(self.provider)
        facts = catalogue.models.get(snapshot) if catalogue is not None else None
        ft = facts.fine_tuning if facts is not None else None
        steps = [s for s in (catalogue.wind_down if catalogue else ()) if s.on <= day]
        # Every cause in force; the earliest is the reason (the 2027-01-06 wind-down before the
        # 2027-01-14 shutdown).
        causes: list[JobsClosed] = []
        if jobs == "closed":
            if ft is not None and ft.training_opens is not None and day < ft.training_opens:
                causes.append(JobsClosed(ft.training_opens, f"fine-tuning of {snapshot} opens on "
                                                            f"{ft.training_opens.isoformat()}", ft.sources))
            if ft is not None and ft.training_closes is not None and day >= ft.training_closes:
                causes.append(JobsClosed(ft.training_closes, f"{who} takes no fine-tuning jobs on {snapshot} from "
                                                             f"{ft.training_closes.isoformat()}", ft.sources))
            if facts is not None and facts.shutdown is not None and day >= facts.shutdown:
                causes.append(JobsClosed(facts.shutdown, f"{snapshot} is shut down from {facts.shutdown.isoformat()}",
                                         facts.sources))
            closed = next((s for s in steps if s.jobs == "closed"), None)
            if closed is not None:
                causes.append(JobsClosed(closed.on, f"{who} takes no new fine-tuning jobs from {closed.on.isoformat()}",
                                         closed.sources, closed.wording))
        else:  # existing customers only, and this one is new
            if ft is not None and ft.existing_customers_from is not None and day >= ft.existing_customers_from:
                causes.append(JobsClosed(ft.existing_customers_from,
                                         f"{who} takes fine-tuning jobs on {snapshot} only from existing customers "
                                         f"from {ft.existing_customers_from.isoformat()} "
                                         f"(fine_tuning_customer = \"new\")", ft.sources))
            first = next((s for s in steps if s.jobs == "existing customers only"), None)
            if first is not None:
                causes.append(JobsClosed(first.on, f"{who} takes fine-tuning jobs only from organisations that "
                                                   f"fine-tuned before, from {first.on.isoformat()} "
                                                   f"(fine_tuning_customer = \"new\")", first.sources, first.wording))
        if not causes:
            return JobsClosed(day, f"fine-tuning of {snapshot} is not open on {day.isoformat()}", ())
        return min(causes, key=lambda c: c.since)

    def revision(self, name: str) -> PriceSheet:
        """The sheet with this effective date (YYYY-MM-DD), file stem or path; `azure/2025-05-01` names
        another provider's sheet (a bare date is the book's own provider's)."""
        book, name = self.for_name(name)
        for sheet in book.sheets:
            if name in (sheet.revision, sheet.path.stem, str(sheet.path)):
                return sheet
        known = ", ".join(s.revision for s in book.sheets)
        raise UsageError(f"no price sheet {name!r}; revisions are: {known}")

    def history(self, name: str) -> list[HistoryEntry]:
        """The model's prices on every sheet that knows the name, oldest first, and on every day an
        alias moved between two sheets to another snapshot (an entry with `on` that day)."""
        book, bare = self.for_name(name)
        if book is not self:
            try:
                return book.history(bare)
            except UnknownProviderError:
                raise
            except UnknownModelError:
                raise book.unknown(name, "price sheet") from None
        name = bare
        entries: list[HistoryEntry] = []
        sheet_days = {s.effective for s in self.sheets}
        for day in self.changes_between(self.sheets[0].effective, dt.date.max):
            sheet = self.as_of(day)
            try:
                model = sheet.model(name)
            except UnknownModelError:
                continue
            if day in sheet_days:
                entries.append(HistoryEntry(sheet, model, day))
            elif not entries or entries[-1].model.name != model.name:  # the alias moved on this day
                entries.append(HistoryEntry(sheet, model, day))
        if not entries:
            known = {n for s in self.sheets for n in s.names()}
            raise UnknownModelError(name, known, where="in any price sheet")
        return entries

    def diff(self, old: PriceSheet, new: PriceSheet) -> SheetDiff:
        changes = []
        for name in sorted(set(old.models) & set(new.models)):
            before, after = old.models[name].prices(), new.models[name].prices()
            changes += [
                PriceChange(name, key, before[key], after[key])
                for key in PRICE_NAMES
                if before[key] != after[key]
            ]
        aliases = tuple(
            (alias, old.aliases.get(alias), new.aliases.get(alias))
            for alias in sorted(set(old.aliases) | set(new.aliases))
            if old.aliases.get(alias) != new.aliases.get(alias)
        )
        return SheetDiff(
            old=old,
            new=new,
            added_models=tuple(sorted(set(new.models) - set(old.models))),
            removed_models=tuple(sorted(set(old.models) - set(new.models))),
            changed_prices=tuple(changes),
            changed_aliases=aliases,
        )


def as_date(value: object) -> dt.date:
    """A date, or an ISO "YYYY-MM-DD" string as one; anything else is a UsageError."""
    if isinstance(value, dt.datetime):  # a datetime is a date, but cannot be compared with one
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            if _ISO_DATE.fullmatch(value):
                return dt.date.fromisoformat(value)
        except ValueError:
            pass
        raise UsageError(f"{value!r} is not a date in the form YYYY-MM-DD")
    raise UsageError(f"expected a date or a \"YYYY-MM-DD\" string, not {type_name(value)}")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # fromisoformat alone also takes 20230901 and 2023-W35-5


# --- loading -----------------------------------------------------------------------------------


def default_pricing_dir() -> Path:
    """$COSTCALC_PRICING_DIR, else the sheets in the installed package, else the checkout's pricing/."""
    override = os.environ.get(PRICING_DIR_ENV)
    if override:
        return Path(override)
    package = Path(__file__).resolve().parent
    bundled = package / "data" / "pricing"  # where the wheel puts the repository's pricing/
    if bundled.is_dir():
        return bundled
    return package.parent / "pricing"  # a source checkout or an editable install


CATALOGUE_FILES = ("models.toml", "sources.toml")  # a provider folder's v2 facts, not price sheets


def load_pricebook(directory: str | os.PathLike[str] | None = None) -> PriceBook:
    """Load and validate every `*.toml` sheet below `directory`; PricingError lists all problems.

    A folder with v2 sheets also holds the provider's `models.toml` and `sources.toml`; v1 sheets
    carry everything themselves, and both versions load.
    """
    root = Path(directory) if directory is not None else default_pricing_dir()
    if not root.is_dir():
        raise PricingError([Problem(str(root), "", "pricing folder not found")])
    files = sorted(p for p in root.rglob("*.toml") if p.name not in CATALOGUE_FILES)
    if not files:
        raise PricingError([Problem(str(root), "", "no price sheets (*.toml) in this folder")])
    sheets: list[PriceSheet] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    catalogues: dict[Path, Catalogue | None] = {}
    for path in files:
        raw, problem = read_toml(path, display_path(path))
        if raw is None:
            assert problem is not None
            problems.append(problem)
            continue
        if not isinstance(raw.get("schema_version"), str):  # version 1, or a wrong version that v1 reports
            sheet, file_problems = _sheet_v1(path, raw)
        else:
            folder = path.parent
            if folder not in catalogues:
                catalogue, catalogue_problems, catalogue_warnings = load_catalogue(
                    folder, named_for_provider=folder != root)
                catalogues[folder] = catalogue
                problems += catalogue_problems
                warnings += catalogue_warnings
            check = _SheetV2Checker(path, catalogues[folder])
            sheet = check.sheet(raw)
            file_problems = check.problems
            warnings += check.warnings
        problems += file_problems
        if sheet is not None and not file_problems:
            sheets.append(sheet)
    seen: dict[tuple[str, dt.date], Path] = {}
    for sheet in sheets:
        folder = sheet.path.parent
        if folder != root and folder.name != sheet.provider:
            problems.append(Problem(display_path(sheet.path), "provider",
                                    f"{sheet.provider!r} does not match its folder {folder.name!r}"))
        key = (sheet.provider, sheet.effective)
        if key in seen:
            problems.append(Problem(display_path(sheet.path), "effective",
                                    f"{sheet.revision} is also the date of {display_path(seen[key])}"))
        seen[key] = sheet.path
    if problems:
        raise PricingError(problems)
    by_provider = {c.provider: c for c in catalogues.values() if c is not None}
    timelines = {}
    for provider in sorted({s.provider for s in sheets}):
        timeline = sorted((s for s in sheets if s.provider == provider), key=lambda s: s.effective)
        timelines[provider] = _carried_forward(timeline, by_provider.get(provider))
    own = DEFAULT_PROVIDER if DEFAULT_PROVIDER in timelines else next(iter(timelines))
    return PriceBook(root, timelines[own], by_provider, tuple(warnings), timelines)


def _carried_forward(timeline: list[PriceSheet], catalogue: Catalogue | None) -> tuple[PriceSheet, ...]:
    """A provider's sheets, each v2 sheet completed with the models of the sheet before it.

    A v2 sheet lists what its revision priced (new models, changed prices); every model it does not
    list keeps the price it had, with that price's own date and sources, until a later sheet lists it
    again. Whether a model can still be used on a date is the lifecycle's answer (models.toml), not a
    sheet's silence. A v1 sheet is whole: it lists every model it prices.
    """
    composed: list[PriceSheet] = []
    for sheet in timeline:
        if composed and catalogue is not None and isinstance(sheet.schema_version, str):  # a v2 sheet
            carried = {name: model for name, model in composed[-1].models.items() if name not in sheet.models}
            models = {**carried, **sheet.models}
            sheet = replace(sheet, models=models, sources=_cited_by(models, catalogue.sources),
                            aliases=_aliases_in(catalogue, sheet.effective, models))
        composed.append(sheet)
    return tuple(composed)


def load_sheet(path: str | os.PathLike[str]) -> PriceSheet:
    """Load and validate one price sheet file (a v2 sheet with its folder's models.toml and sources.toml)."""
    book_path = Path(path)
    raw, problem = read_toml(book_path, display_path(book_path))
    if raw is None:
        assert problem is not None
        raise PricingError([problem])
    if not isinstance(raw.get("schema_version"), str):
        sheet, problems = _sheet_v1(book_path, raw)
    else:
        catalogue, problems, _ = load_catalogue(book_path.parent, named_for_provider=False)
        check = _SheetV2Checker(book_path, catalogue)
        sheet = check.sheet(raw)
        problems = problems + check.problems
    if problems or sheet is None:
        raise PricingError(problems)
    return sheet


def _sheet_v1(path: Path, raw: Raw) -> tuple[PriceSheet | None, list[Problem]]:
    check = _Checker(path)
    sheet = check.sheet(raw)
    return (sheet if not check.problems else None), check.problems


def _aliases_in(catalogue: Catalogue, date: dt.date, models: dict[str, ModelPrice]) -> dict[str, str]:
    """The aliases of `date` whose snapshot the sheet prices (one that is gone from it drops its alias)."""
    return {alias: target for alias, target in catalogue.aliases_on(date).items() if target in models}


class _Checker(Checker):
    """Reads a parsed sheet into dataclasses, collecting every problem with its key path."""

    def __init__(self, path: Path):
        super().__init__(display_path(path))
        self.path = path

    def sheet(self, raw: Raw) -> PriceSheet | None:
        if not self.schema_version(raw, SCHEMA_VERSION):
            return None
        self.unknown_keys(raw, _SHEET_KEYS, ())
        provider = self.string(raw, ("provider",), required=True, non_empty=True)
        effective = self.date(raw, ("effective",), required=True)
        checked = self.date(raw, ("checked",), required=True)
        currency = self.string(raw, ("currency",), required=True, non_empty=True)
        unit = self.string(raw, ("unit",), required=True, non_empty=True)
        summary = self.string(raw, ("summary",)) or ""
        if currency is not None and currency != "USD":
            self.problem(("currency",), f"must be \"USD\", not {currency!r}")
        if unit is not None and unit != "per_1m_tokens":
            self.problem(("unit",), f"must be \"per_1m_tokens\", not {unit!r}")
        if effective and self.path.stem != effective.isoformat():
            self.problem(("effective",), f"{effective.isoformat()} does not match the file name {self.path.name}")

        sources = self.sources(raw.get("sources"))
        aliases = self.table(raw, ("aliases",)) or {}
        models_raw = self.table(raw, ("models",), required=True) or {}
        models = {}
        for name in models_raw:
            path = ("models", name)
            body = self.table(models_raw, path)
            if body is None:
                continue
            models[name] = self.model(name, body, path, effective or dt.date.min, sources)
        for alias in aliases:
            path = ("aliases", alias)
            target = self.string(aliases, path)
            if target is None:
                continue
            if target not in models_raw:
                self.problem(path, f"points to {target!r}, which is not a model in this sheet")
            elif alias in models_raw:
                self.problem(path, "is also a model name")
        if self.problems or None in (provider, effective, checked, currency, unit):
            return None
        assert provider and effective and checked and currency and unit  # for mypy: checked just above
        return PriceSheet(
            path=self.path,
            provider=provider,
            effective=effective,
            checked=checked,
            currency=currency,
            unit=unit,
            summary=summary,
            sources=sources,
            aliases=dict(aliases),
            models=models,
            schema_version=SCHEMA_VERSION,
        )

    def sources(self, raw: object) -> dict[str, Source]:
        if raw is None:
            self.problem(("sources",), "missing: every sheet names the sources its prices come from")
            return {}
        if not isinstance(raw, dict) or not raw:
            self.problem(("sources",), "must be a non-empty table of {title, url}")
            return {}
        return read_sources(self, raw)

    def model(self, name: str, body: Raw, p: KeyPath, effective: dt.date, sources: dict[str, Source]) -> ModelPrice:
        self.unknown_keys(body, _MODEL_KEYS, p)
        kind = read_kind(self, body, p)
        encoding = self.string(body, (*p, "encoding"))
        if encoding is None and kind in ("chat", "completion", "embedding") and "encoding" not in body:
            # Token counts of datasets and samples need the model's tokenizer.
            self.problem((*p, "encoding"), f"missing (a {kind} model needs its tiktoken encoding)")
        if encoding is not None and encoding not in ENCODINGS:
            self.problem((*p, "encoding"), f"must be one of {', '.join(ENCODINGS)}, not {encoding!r}")
        context_window = self.integer(body, (*p, "context_window"), minimum=1, unit="tokens")
        prices = {key: self.price(body, (*p, key)) for key in MODEL_PRICE_KEYS}
        cited = self.cited_sources(body, p, sources)
        note = self.string(body, (*p, "note")) or ""
        # What a model of this kind is used for must have a price: a sheet that leaves one out
        # would make every later computation fail, so say so where the sheet is written.
        for key in REQUIRED_PRICES.get(kind or "", ()):
            if key not in body:
                self.problem((*p, key), f"missing (a {kind} model needs an {key} price)")
        ft_body = self.table(body, (*p, "fine_tuning"))
        fine_tuning = self.fine_tuning(ft_body, (*p, "fine_tuning"), sources) if ft_body is not None else None
        return ModelPrice(
            name=name,
            kind=kind or "chat",
            effective=effective,
            encoding=encoding,
            context_window=context_window,
            input_per_1m=prices["input"],
            cached_input_per_1m=prices["cached_input"],
            output_per_1m=prices["output"],
            batch_input_per_1m=prices["batch_input"],
            batch_output_per_1m=prices["batch_output"],
            fine_tuning=fine_tuning,
            sources=cited,
            note=note,
            tokenizer=f"tiktoken:{encoding}" if encoding else None,
            modes=_v1_modes(prices["input"], prices["cached_input"], prices["output"],
                            prices["batch_input"], None, prices["batch_output"]),
            fine_tuned_modes=_v1_modes(fine_tuning.input_per_1m, fine_tuning.cached_input_per_1m,
                                       fine_tuning.output_per_1m, fine_tuning.batch_input_per_1m,
                                       fine_tuning.batch_cached_input_per_1m, fine_tuning.batch_output_per_1m)
            if fine_tuning else {},
            fine_tuning_by_mode={"standard": fine_tuning} if fine_tuning else {},
        )

    def fine_tuning(self, body: Raw, p: KeyPath, sources: dict[str, Source]) -> FineTuningPrice:
        self.unknown_keys(body, _FINE_TUNING_KEYS, p)
        for key in ("training", "input", "output"):
            if key not in body:
                self.problem((*p, key), "missing (a fine_tuning table needs training, input and output prices)")
        prices = {key: self.price(body, (*p, key)) for key in FINE_TUNING_PRICE_KEYS}
        return FineTuningPrice(
            training_per_1m=prices["training"],
            input_per_1m=prices["input"],
            cached_input_per_1m=prices["cached_input"],
            output_per_1m=prices["output"],
            batch_input_per_1m=prices["batch_input"],
            batch_cached_input_per_1m=prices["batch_cached_input"],
            batch_output_per_1m=prices["batch_output"],
            max_tokens_per_example=self.integer(body, (*p, "max_tokens_per_example"), minimum=1, unit="tokens"),
            sources=self.cited_sources(body, p, sources),
            note=self.string(body, (*p, "note")) or "",
        )

    def cited_sources(self, body: Raw, p: KeyPath, sources: dict[str, Source]) -> tuple[str, ...]:
        return read_cited(self, body, p, sources, defined_in="[sources]")

    def price(self, body: Raw, path: KeyPath) -> Decimal | None:
        value = self.number(body, path, expected="a number (USD per 1M tokens)")
        if value is not None and (not value.is_finite() or value < 0):
            self.problem(path, f"must be a finite number >= 0, not {value}")
            return None
        if value is not None and value > MAX_PRICE:
            self.problem(path, f"must be at most {MAX_PRICE:,} (USD per 1M tokens), not {show_value(value)}")
            return None
        return value


def _v1_modes(input_: Decimal | None, cached: Decimal | None, output: Decimal | None, batch_input: Decimal | None,
              batch_cached: Decimal | None, batch_output: Decimal | None) -> dict[str, ModeRates]:
    """A v1 sheet's composed price names as v2 modes, so `ModelPrice.rate` reads both versions."""
    modes = {}
    for mode, values in (("standard", (input_, cached, output)), ("batch", (batch_input, batch_cached, batch_output))):
        rates = {key: value for key, value in zip(("input_per_1m", "cached_input_per_1m", "output_per_1m"), values)
                 if value is not None}
        if rates:
            modes[mode] = ModeRates(rates)
    return modes


# --- schema v2 ---------------------------------------------------------------------------------

SCHEMA_V2 = (2, 0)  # the major.minor version this costcalc writes and reads
# Every price key ends in its unit: per 1M tokens, per hour, per month of storage, per job.
UNIT_SUFFIXES = ("_per_1m", "_per_hour", "_per_month", "_per_job")
MODE_PRICE_KEYS = ("input_per_1m", "cached_input_per_1m", "cache_write_per_1m", "output_per_1m")
# Ways of calling a model: OpenAI's processing tiers (and, for a fine-tuned model trained with data
# sharing enabled, its discounted rates), and Azure's deployment types.
MODES = ("standard", "batch", "flex", "priority", "data_sharing", "data_sharing_batch",
         "global", "global_batch", "data_zone", "regional", "developer")
FINE_TUNING_TABLE_PRICES = ("training_per_1m", "training_per_hour", "hosting_per_hour", "storage_per_month",
                            "minimum_per_job", "maximum_per_job")
# Modes that fine-tuning prices differ by (Azure's training and deployment types, PROVIDERS_FACTS §1b).
FINE_TUNING_MODES = ("standard", "global", "regional", "developer", "data_zone")
_V2_SHEET_KEYS = ("schema_version", "provider", "effective", "currency", "checked", "summary", "models")
_V2_MODEL_KEYS = ("sources", "note", "fine_tuning", "fine_tuned", *MODES)
_V2_FINE_TUNING_KEYS = ("sources", "note", *FINE_TUNING_TABLE_PRICES)
_FACT_KEYS = ("kind", "tokenizer", "context_window", "max_output_tokens", "released", "deprecation_notice",
              "shutdown", "fine_tuning", "sources", "note")
_FT_FACT_KEYS = ("methods", "max_tokens_per_example", "training_opens", "training_closes", "existing_customers_from",
                 "fine_tuned_notice",
                 "fine_tuned_shutdown",
                 "sources", "note")
_CATALOGUE_KEYS = ("schema_version", "provider", "default_mode", "models", "aliases", "fine_tuning_wind_down",
                   "deployment_rules")
_RULE_KEYS = ("value", "unit", "wording", "sources", "note")
_TOKENIZER = re.compile(r"([a-z][a-z0-9_-]*):(\S+)")


def _parse_version(value: object) -> tuple[int, int] | None:
    """"2.0" -> (2, 0); anything that is not "MAJOR.MINOR" -> None."""
    if isinstance(value, str) and re.fullmatch(r"\d+\.\d+", value):
        major, minor = value.split(".")
        return int(major), int(minor)
    return None


class _V2Checker(Checker):
    """What the v2 files share: the version rule (a newer minor version is a warning, and the keys it
    adds are warnings too), price keys with units, cited sources, dates."""

    def __init__(self, path: Path):
        super().__init__(display_path(path))
        self.path = path
        self.warnings: list[Problem] = []
        self.newer_minor = False

    def version(self, raw: Raw) -> bool:
        value = raw.get("schema_version")
        version = _parse_version(value)
        reads = f'this costcalc reads schema_version = "{SCHEMA_V2[0]}.{SCHEMA_V2[1]}" (or 1)'
        if value is None:
            self.problem(("schema_version",), f"missing ({reads})")
            return False
        if version is None:
            self.problem(("schema_version",), f'must be "MAJOR.MINOR" such as "2.0", not {show_value(value)}')
            return False
        if version[0] != SCHEMA_V2[0]:
            self.problem(("schema_version",), f"unknown major version {value!r} ({reads})")
            return False
        if version[1] > SCHEMA_V2[1]:
            self.newer_minor = True
            self.warnings.append(Problem(self.file, "schema_version",
                                         f"{value!r} is newer than this costcalc ({reads}): keys it does "
                                         "not know are ignored; upgrade costcalc to use them"))
        return True

    def unknown_keys(self, raw: Raw, allowed: Iterable[str], path: KeyPath) -> None:
        allowed = tuple(allowed)
        for key in raw:
            if key in allowed:
                continue
            message = "unknown key" + did_you_mean(key, allowed)
            if self.newer_minor:
                self.warnings.append(Problem(self.file, _key(path, key), message))
            else:
                self.problem((*path, key), message)

    def price_keys(self, raw: Raw, allowed: tuple[str, ...], path: KeyPath) -> dict[str, Decimal]:
        """The prices among `allowed` in a table; a number under a key without a unit is its own problem."""
        prices = {}
        for key, value in raw.items():
            if key in allowed:
                amount = self.amount(raw, (*path, key))
                if amount is not None:
                    prices[key] = amount
            elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
                if key.endswith(UNIT_SUFFIXES):
                    # A misspelt price (`hostng_per_hour`) would otherwise be lost without a word; a newer
                    # minor version may add price keys, so there it is a warning (unknown_keys decides).
                    self.unknown_keys({key: value}, allowed, path)
                    continue
                hint = did_you_mean(key, allowed) or f" (one of {', '.join(allowed)})"
                self.problem((*path, key), "a price key needs its unit in the name" + hint)
        return prices

    def amount(self, raw: Raw, path: KeyPath) -> Decimal | None:
        value = self.number(raw, path, expected="a number (in the sheet's currency)")
        if value is None:
            return None
        if not value.is_finite() or value < 0:
            self.problem(path, f"must be a finite number >= 0, not {value}")
            return None
        if value > MAX_PRICE:
            self.problem(path, f"must be at most {MAX_PRICE:,}, not {show_value(value)}")
            return None
        return value

    def cited(self, body: Raw, p: KeyPath, sources: dict[str, Source], *, required: bool = True) -> tuple[str, ...]:
        return read_cited(self, body, p, sources, defined_in="sources.toml", required=required)

    def date_list(self, body: Raw, p: KeyPath, keys: tuple[str, ...]) -> dict[str, dt.date]:
        return {key: d for key in keys if (d := self.date(body, (*p, key))) is not None}

    def in_order(self, dates: dict[str, dt.date], order: tuple[str, ...], p: KeyPath) -> None:
        """Lifecycle dates must not go backwards: `shutdown` before `released` is a typo."""
        present = [key for key in order if key in dates]
        for earlier, later in zip(present, present[1:]):
            if dates[later] < dates[earlier]:
                self.problem((*p, later), f"{dates[later].isoformat()} is before {earlier} "
                                          f"{dates[earlier].isoformat()}")


def _key(path: KeyPath, key: str) -> str:
    from ._schema import key_path

    return key_path((*path, key))


def load_catalogue(folder: Path, *, named_for_provider: bool = True) -> tuple[Catalogue | None, list[Problem],
                                                                             list[Problem]]:
    """A provider folder's sources.toml and models.toml, with every problem and warning of both.

    The catalogue comes back even when it has problems (None only when a file cannot be read), so
    the sheets beside it are checked too and every problem is reported at once; the caller refuses
    a catalogue with problems. `named_for_provider`: the folder is named for its provider
    (pricing/openai/), so the files' `provider` must match it; a folder given as such (a copy
    under any name, `--pricing-dir my-prices`) may have any name."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    sources_path, models_path = folder / "sources.toml", folder / "models.toml"
    raws = {}
    for path in (sources_path, models_path):
        if not path.is_file():
            problems.append(Problem(display_path(path), "", "missing: a folder of v2 price sheets needs "
                                                            f"{path.name} beside them"))
            continue
        raw, problem = read_toml(path, display_path(path))
        if raw is None:
            assert problem is not None
            problems.append(problem)
        else:
            raws[path.name] = raw
    if problems:
        return None, problems, warnings
    folder_name = folder.name if named_for_provider else None
    check_sources = _CatalogueChecker(sources_path)
    sources = check_sources.sources_file(raws["sources.toml"], folder_name)
    check_models = _CatalogueChecker(models_path)
    catalogue = check_models.models_file(raws["models.toml"], folder_name, sources)
    problems += check_sources.problems + check_models.problems
    warnings += check_sources.warnings + check_models.warnings
    return catalogue, problems, warnings


class _CatalogueChecker(_V2Checker):
    def provider(self, raw: Raw, folder: str | None) -> str | None:
        provider = self.string(raw, ("provider",), required=True)
        if provider is not None and folder is not None and provider != folder:
            self.problem(("provider",), f"{provider!r} does not match its folder {folder!r}")
        return provider

    def sources_file(self, raw: Raw, folder: str | None) -> dict[str, Source]:
        if not self.version(raw):
            return {}
        self.unknown_keys(raw, ("schema_version", "provider", "sources"), ())
        self.provider(raw, folder)
        body = self.table(raw, ("sources",), required=True)
        if not body:
            if body is not None:
                self.problem(("sources",), "must be a non-empty table of {title, url}")
            return {}
        return read_sources(self, body)

    def models_file(self, raw: Raw, folder: str | None, sources: dict[str, Source]) -> Catalogue | None:
        if not self.version(raw):
            return None
        self.unknown_keys(raw, _CATALOGUE_KEYS, ())
        provider = self.provider(raw, folder)
        default_mode = self.string(raw, ("default_mode",)) or "standard"
        if default_mode not in MODES:
            self.problem(("default_mode",), f"must be one of {', '.join(MODES)}, not {default_mode!r}"
                         + did_you_mean(default_mode, MODES))
            default_mode = "standard"
        rules = self.rules(self.table(raw, ("deployment_rules",)), sources)
        models_raw = self.table(raw, ("models",), required=True) or {}
        models = {}
        for name in models_raw:
            body = self.table(models_raw, ("models", name))
            if body is not None:
                models[name] = self.model_facts(name, body, ("models", name), sources)
        aliases = {}
        for alias, moves_raw in (self.table(raw, ("aliases",)) or {}).items():
            aliases[alias] = self.alias(alias, moves_raw, models, sources)
        wind_down = self.wind_down(self.table(raw, ("fine_tuning_wind_down",)), sources)
        if provider is None:
            return None
        return Catalogue(provider, models, aliases, sources, wind_down, default_mode, rules)

    def rules(self, raw: Raw | None, sources: dict[str, Source]) -> tuple[Rule, ...]:
        rules = []
        for key in raw or {}:
            p = ("deployment_rules", key)
            body = self.table(raw or {}, p)
            if body is None:
                continue
            self.unknown_keys(body, _RULE_KEYS, p)
            value = self.amount(body, (*p, "value")) if "value" in body else None
            if "value" not in body:
                self.problem((*p, "value"), "missing (a rule needs its value, e.g. value = 15 with unit = \"days\")")
            unit = self.string(body, (*p, "unit"), required=True)
            wording = self.string(body, (*p, "wording"), required=True)
            cited = self.cited(body, p, sources)
            if value is not None and unit is not None and wording is not None:
                rules.append(Rule(key, value, unit, wording, cited, self.string(body, (*p, "note")) or ""))
        return tuple(rules)

    def model_facts(self, name: str, body: Raw, p: KeyPath, sources: dict[str, Source]) -> ModelFacts:
        self.unknown_keys(body, _FACT_KEYS, p)
        kind = read_kind(self, body, p)
        tokenizer = self.string(body, (*p, "tokenizer"))
        if tokenizer is None and kind in ("chat", "completion", "embedding") and "tokenizer" not in body:
            self.problem((*p, "tokenizer"), f"missing (a {kind} model needs its tokenizer, e.g. \"tiktoken:o200k_base\")")
        if tokenizer is not None:
            match = _TOKENIZER.fullmatch(tokenizer)
            if match is None:
                self.problem((*p, "tokenizer"), f"must be \"scheme:name\" such as \"tiktoken:o200k_base\", not {tokenizer!r}")
            elif match[1] == "tiktoken" and match[2] not in ENCODINGS:
                self.problem((*p, "tokenizer"), f"tiktoken encoding must be one of {', '.join(ENCODINGS)}, not {match[2]!r}")
        dates = self.date_list(body, p, ("released", "deprecation_notice", "shutdown"))
        self.in_order(dates, ("released", "deprecation_notice", "shutdown"), p)
        ft_body = self.table(body, (*p, "fine_tuning"))
        fine_tuning = None
        if ft_body is not None:
            fine_tuning = self.fine_tuning_facts(ft_body, (*p, "fine_tuning"), sources, dates)
        return ModelFacts(
            name=name, kind=kind or "chat", tokenizer=tokenizer,
            context_window=self.integer(body, (*p, "context_window"), minimum=1, unit="tokens"),
            max_output_tokens=self.integer(body, (*p, "max_output_tokens"), minimum=1, unit="tokens"),
            released=dates.get("released"), deprecation_notice=dates.get("deprecation_notice"),
            shutdown=dates.get("shutdown"), fine_tuning=fine_tuning,
            sources=self.cited(body, p, sources), note=self.string(body, (*p, "note")) or "",
        )

    def fine_tuning_facts(self, body: Raw, p: KeyPath, sources: dict[str, Source],
                          model_dates: dict[str, dt.date]) -> FineTuningFacts:
        self.unknown_keys(body, _FT_FACT_KEYS, p)
        methods = body.get("methods", [])
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            self.problem((*p, "methods"), f"must be a list of {', '.join(FINE_TUNING_METHODS)}")
            methods = []
        for method in methods:
            if method not in FINE_TUNING_METHODS:
                self.problem((*p, "methods"), f"{method!r} is not one of {', '.join(FINE_TUNING_METHODS)}"
                             + did_you_mean(method, FINE_TUNING_METHODS))
        dates = self.date_list(body, p, ("training_opens", "training_closes", "existing_customers_from",
                                         "fine_tuned_notice", "fine_tuned_shutdown"))
        self.in_order({**({"released": model_dates["released"]} if "released" in model_dates else {}), **dates},
                      ("released", "training_opens", "training_closes"), p)
        self.in_order(dates, ("training_opens", "fine_tuned_shutdown"), p)
        self.in_order(dates, ("training_opens", "existing_customers_from", "training_closes"), p)
        self.in_order(dates, ("fine_tuned_notice", "fine_tuned_shutdown"), p)
        return FineTuningFacts(
            methods=tuple(methods),
            max_tokens_per_example=self.integer(body, (*p, "max_tokens_per_example"), minimum=1, unit="tokens"),
            training_opens=dates.get("training_opens"), training_closes=dates.get("training_closes"),
            existing_customers_from=dates.get("existing_customers_from"),
            fine_tuned_notice=dates.get("fine_tuned_notice"), fine_tuned_shutdown=dates.get("fine_tuned_shutdown"),
            sources=self.cited(body, p, sources), note=self.string(body, (*p, "note")) or "",
        )

    def alias(self, alias: str, raw: object, models: dict[str, ModelFacts],
              sources: dict[str, Source]) -> tuple[AliasMove, ...]:
        p = ("aliases", alias)
        if not isinstance(raw, list) or not raw or not all(isinstance(m, dict) for m in raw):
            self.problem(p, "must be a list of moves: [{ from = YYYY-MM-DD, to = \"<snapshot>\", sources = [...] }]")
            return ()
        if alias in models:
            self.problem(p, "is also a model name")
        moves: list[AliasMove] = []
        for i, body in enumerate(raw):
            mp = (*p, str(i))
            self.unknown_keys(body, ("from", "to", "sources", "note"), mp)
            on = self.date(body, (*mp, "from"), required=True)
            target = self.string(body, (*mp, "to"), required=True)
            if target is not None and target not in models:
                self.problem((*mp, "to"), f"points to {target!r}, which is not a model in models.toml"
                             + did_you_mean(target, models))
            if on is not None and moves and on <= moves[-1].on:
                self.problem((*mp, "from"), f"{on.isoformat()} is not after the previous move "
                                            f"({moves[-1].on.isoformat()})")
            cited = self.cited(body, mp, sources)
            if on is not None and target is not None:
                moves.append(AliasMove(on, target, cited, self.string(body, (*mp, "note")) or ""))
        return tuple(moves)

    def wind_down(self, raw: Raw | None, sources: dict[str, Source]) -> tuple[WindDownStep, ...]:
        if raw is None:
            return ()
        p = ("fine_tuning_wind_down",)
        self.unknown_keys(raw, ("steps", "sources", "note"), p)
        self.cited(raw, p, sources)
        self.string(raw, (*p, "note"))
        steps_raw = raw.get("steps")
        if not isinstance(steps_raw, list) or not all(isinstance(s, dict) for s in steps_raw):
            self.problem((*p, "steps"), "must be a list of { on = YYYY-MM-DD, jobs = \"...\", wording = \"...\" }")
            return ()
        steps: list[WindDownStep] = []
        for i, body in enumerate(steps_raw):
            sp = (*p, "steps", str(i))
            self.unknown_keys(body, ("on", "jobs", "wording", "sources"), sp)
            on = self.date(body, (*sp, "on"), required=True)
            jobs = self.string(body, (*sp, "jobs"), required=True)
            if jobs is not None and jobs not in FINE_TUNING_JOBS:
                self.problem((*sp, "jobs"), f"must be one of {', '.join(FINE_TUNING_JOBS)}, not {jobs!r}")
            if on is not None and steps and on <= steps[-1].on:
                self.problem((*sp, "on"), f"{on.isoformat()} is not after the previous step ({steps[-1].on.isoformat()})")
            cited = self.cited(body, sp, sources, required=False)
            if on is not None and jobs is not None:
                steps.append(WindDownStep(on, jobs, self.string(body, (*sp, "wording")) or "", cited))
        return tuple(steps)


class _SheetV2Checker(_V2Checker):
    """A v2 price sheet: prices only, by mode; the rest comes from the folder's catalogue."""

    def __init__(self, path: Path, catalogue: Catalogue | None):
        super().__init__(path)
        self.catalogue = catalogue

    def sheet(self, raw: Raw) -> PriceSheet | None:
        if not self.version(raw):
            return None
        self.unknown_keys(raw, _V2_SHEET_KEYS, ())
        provider = self.string(raw, ("provider",), required=True)
        effective = self.date(raw, ("effective",), required=True)
        checked = self.date(raw, ("checked",), required=True)
        currency = self.string(raw, ("currency",), required=True)
        summary = self.string(raw, ("summary",)) or ""
        if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
            self.problem(("currency",), f"must be an ISO 4217 code such as \"USD\", not {currency!r}")
        if effective and self.path.stem != effective.isoformat():
            self.problem(("effective",), f"{effective.isoformat()} does not match the file name {self.path.name}")
        models_raw = self.table(raw, ("models",), required=True) or {}
        catalogue = self.catalogue
        if catalogue is None:  # its problems are reported once, for models.toml and sources.toml
            return None
        models = {}
        for name in models_raw:
            path = ("models", name)
            body = self.table(models_raw, path)
            if body is None:
                continue
            facts = catalogue.models.get(name)
            if facts is None:
                self.problem(path, "is not a model in models.toml" + did_you_mean(name, catalogue.models))
                continue
            models[name] = self.model(facts, body, path, effective or dt.date.min, catalogue)
        if self.problems or provider is None or effective is None or checked is None or currency is None:
            return None
        return PriceSheet(
            path=self.path, provider=provider, effective=effective, checked=checked, currency=currency,
            unit="per_1m_tokens", summary=summary, sources=_cited_by(models, catalogue.sources),
            aliases=_aliases_in(catalogue, effective, models), models=models,
            schema_version=str(raw["schema_version"]),
        )

    def modes(self, body: Raw, p: KeyPath) -> dict[str, ModeRates]:
        modes = {}
        for mode in MODES:
            table = self.table(body, (*p, mode))
            if table is None:
                continue
            mp = (*p, mode)
            self.unknown_keys({k: v for k, v in table.items() if not _is_number_key(k, v)},
                              (*MODE_PRICE_KEYS, "tiers"), mp)
            rates = self.price_keys(table, MODE_PRICE_KEYS, mp)
            tiers = self.tiers(table.get("tiers"), (*mp, "tiers"))
            modes[mode] = ModeRates(rates, tiers)
        return modes

    def tiers(self, raw: object, p: KeyPath) -> tuple[Tier, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
            self.problem(p, "must be a list of tables: [[...tiers]] with above_input_tokens and prices")
            return ()
        tiers: list[Tier] = []
        for i, body in enumerate(raw):
            tp = (*p, str(i))
            self.unknown_keys({k: v for k, v in body.items() if not _is_number_key(k, v)},
                              ("above_input_tokens", *MODE_PRICE_KEYS), tp)
            above = self.integer(body, (*tp, "above_input_tokens"), required=True, minimum=1, unit="tokens")
            rates = self.price_keys({k: v for k, v in body.items() if k != "above_input_tokens"}, MODE_PRICE_KEYS, tp)
            if above is not None and tiers and above <= tiers[-1].above_input_tokens:
                self.problem((*tp, "above_input_tokens"), f"must be above the previous tier's "
                                                          f"{tiers[-1].above_input_tokens:,}")
            if above is not None:
                tiers.append(Tier(above, rates))
        return tuple(tiers)

    def model(self, facts: ModelFacts, body: Raw, p: KeyPath, effective: dt.date, catalogue: Catalogue) -> ModelPrice:
        self.unknown_keys(body, _V2_MODEL_KEYS, p)
        modes = self.modes(body, p)
        default = catalogue.default_mode
        in_batch = batch_mode(default)
        plain = modes[default].rates if default in modes else {}
        batch = modes[in_batch].rates if in_batch in modes else {}
        ft_body = self.table(body, (*p, "fine_tuning"))
        # A model listed only for its fine-tuning (Azure's Llama 3.3 70B, Mistral's per-job minimum)
        # need not give base prices; one with base modes must give the default mode's, or where the
        # default is not offered yet (Azure's first meters were regional), the first mode's it lists.
        listed = [mode for mode in body if mode in MODES]
        fine_tuning_only = ft_body is not None and not listed
        checked_mode = default if default in body or not listed else listed[0]
        written_raw = body.get(checked_mode)
        written: Raw = written_raw if isinstance(written_raw, dict) else {}
        for key in () if fine_tuning_only else REQUIRED_PRICES.get(facts.kind, ()):
            if f"{key}_per_1m" not in written:  # a price of the wrong type is reported as such, not as missing
                self.problem((*p, checked_mode, f"{key}_per_1m"),
                             f"missing (a {facts.kind} model needs an {key} price)")
        cited = self.cited(body, p, catalogue.sources)
        fine_tuned_body = self.table(body, (*p, "fine_tuned"))
        fine_tuning: FineTuningPrice | None = None
        by_mode: dict[str, FineTuningPrice] = {}
        fine_tuned_modes: dict[str, ModeRates] = {}
        if fine_tuned_body is not None:
            self.unknown_keys(fine_tuned_body, MODES, (*p, "fine_tuned"))
            fine_tuned_modes = self.modes(fine_tuned_body, (*p, "fine_tuned"))
            if ft_body is None:
                self.problem((*p, "fine_tuning"), "missing (the fine-tuned prices need a fine_tuning table with "
                                                  "the training price and the sources)")
        if ft_body is not None:
            by_mode = self.fine_tuning(ft_body, (*p, "fine_tuning"), fine_tuned_modes, facts, catalogue)
            fine_tuning = by_mode[default]
        return ModelPrice(
            name=facts.name, kind=facts.kind, effective=effective, encoding=facts.encoding,
            context_window=facts.context_window,
            input_per_1m=plain.get("input_per_1m"), cached_input_per_1m=plain.get("cached_input_per_1m"),
            output_per_1m=plain.get("output_per_1m"),
            batch_input_per_1m=batch.get("input_per_1m"), batch_output_per_1m=batch.get("output_per_1m"),
            fine_tuning=fine_tuning, sources=cited, note=self.string(body, (*p, "note")) or "",
            provider=catalogue.provider, tokenizer=facts.tokenizer, modes=modes, fine_tuned_modes=fine_tuned_modes,
            default_mode=default, fine_tuning_by_mode=by_mode,
        )

    def fine_tuning(self, body: Raw, p: KeyPath, fine_tuned: dict[str, ModeRates], facts: ModelFacts,
                    catalogue: Catalogue) -> dict[str, FineTuningPrice]:
        """The fine_tuning table: the default mode's prices at its top, every other mode's (Azure's
        deployment types) in a sub-table of its name, e.g. [models.X.fine_tuning.regional]."""
        default = catalogue.default_mode
        others = tuple(m for m in FINE_TUNING_MODES if m != default)
        self.unknown_keys({k: v for k, v in body.items() if not _is_number_key(k, v)},
                          (*_V2_FINE_TUNING_KEYS, *others), p)
        tables = {default: (body, p)}
        for mode in others:
            sub = self.table(body, (*p, mode))
            if sub is not None:
                self.unknown_keys({k: v for k, v in sub.items() if not _is_number_key(k, v)},
                                  _V2_FINE_TUNING_KEYS, (*p, mode))
                tables[mode] = (sub, (*p, mode))
        prices = {mode: self.price_keys(table, FINE_TUNING_TABLE_PRICES, tp) for mode, (table, tp) in tables.items()}
        if not any(prices.values()) and not self.problems:
            self.problem((*p, "training_per_1m"), "missing (a fine_tuning table needs a price: "
                                                  f"{', '.join(FINE_TUNING_TABLE_PRICES)})")
        trained = any("training_per_1m" in pr or "training_per_hour" in pr for pr in prices.values())
        inferred = [m for m, rates in fine_tuned.items()
                    if "input_per_1m" in rates.rates and "output_per_1m" in rates.rates]
        if trained and not inferred:
            # A model one can train must say what the trained model costs to use.
            for key in ("input_per_1m", "output_per_1m"):
                path = (*p[:-1], "fine_tuned", default, key)
                reported = self.locate(path) in {(problem.file, problem.key) for problem in self.problems}
                if key not in (fine_tuned[default].rates if default in fine_tuned else {}) and not reported:
                    self.problem(path, "missing (a fine-tuned model needs its input and output prices)")
        parent_sources = self.cited(body, p, catalogue.sources)
        parent_note = self.string(body, (*p, "note")) or ""
        by_mode = {}
        for mode, (table, tp) in tables.items():
            own = prices[mode]
            plain = fine_tuned[mode].rates if mode in fine_tuned else {}
            in_batch = batch_mode(mode)
            batch = fine_tuned[in_batch].rates if in_batch in fine_tuned else {}
            by_mode[mode] = FineTuningPrice(
                training_per_1m=own.get("training_per_1m"),
                input_per_1m=plain.get("input_per_1m"), cached_input_per_1m=plain.get("cached_input_per_1m"),
                output_per_1m=plain.get("output_per_1m"), batch_input_per_1m=batch.get("input_per_1m"),
                batch_cached_input_per_1m=batch.get("cached_input_per_1m"),
                batch_output_per_1m=batch.get("output_per_1m"),
                max_tokens_per_example=facts.fine_tuning.max_tokens_per_example if facts.fine_tuning else None,
                sources=parent_sources if mode == default else
                (self.cited(table, tp, catalogue.sources, required=False) or parent_sources),
                note=parent_note if mode == default else (self.string(table, (*tp, "note")) or ""),
                training_per_hour=own.get("training_per_hour"), hosting_per_hour=own.get("hosting_per_hour"),
                storage_per_month=own.get("storage_per_month"), minimum_per_job=own.get("minimum_per_job"),
                maximum_per_job=own.get("maximum_per_job"),
            )
        return by_mode


def batch_mode(mode: str) -> str:
    """The batch mode beside a mode: standard -> batch, global -> global_batch."""
    return "batch" if mode == "standard" else f"{mode}_batch"


def _cited_by(models: dict[str, ModelPrice], sources: dict[str, Source]) -> dict[str, Source]:
    """The provider's sources that this sheet's prices cite, in the provider's order (what a v1 sheet listed)."""
    cited = {key for m in models.values()
             for key in (*m.sources, *(m.fine_tuning.sources if m.fine_tuning else ()),
                         *(k for ft in m.fine_tuning_by_mode.values() for k in ft.sources))}
    return {key: source for key, source in sources.items() if key in cited}


def _is_number_key(key: str, value: object) -> bool:
    """A number under a key that `price_keys` judges (a price, or a price without its unit)."""
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool) and key != "above_input_tokens"


__all__ = [
    "AliasMove",
    "Rule",
    "as_date",
    "Catalogue",
    "FineTuningFacts",
    "ModeRates",
    "ModelFacts",
    "Tier",
    "UnknownProviderError",
    "WindDownStep",
    "load_catalogue",
    "split_provider",
    "FineTuningPrice",
    "HistoryEntry",
    "ModelPrice",
    "PRICE_NAMES",
    "PriceBook",
    "PriceChange",
    "PriceSheet",
    "SheetDiff",
    "Source",
    "default_pricing_dir",
    "load_pricebook",
    "load_sheet",
    "split_fine_tuned",
]
