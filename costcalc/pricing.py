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
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


from ._schema import Checker, KeyPath, Raw, read_toml, show_value, type_name
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
    schema_version: int = SCHEMA_VERSION

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
        raise UnknownModelError(
            name, [*self.models, *self.aliases], where=f"in the price sheet effective {self.revision}"
        )

    def names(self) -> list[str]:
        return sorted([*self.models, *self.aliases])


def split_fine_tuned(name: str) -> tuple[str, bool]:
    """`ft:gpt-3.5-turbo-0613:acme::abc123` -> ('gpt-3.5-turbo-0613', True); other names unchanged."""
    if name.startswith(FINE_TUNED_PREFIX):
        # OpenAI's fine-tuned model ids are ft:<base>:<org>:<suffix>:<id>.
        return name[len(FINE_TUNED_PREFIX):].split(":", 1)[0], True
    return name, False


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
    """A model's prices on one sheet, and the snapshot the requested name meant there."""

    sheet: PriceSheet
    model: ModelPrice


@dataclass(frozen=True)
class PriceBook:
    """Every sheet of a pricing folder, oldest first."""

    directory: Path
    sheets: tuple[PriceSheet, ...] = field(default_factory=tuple)

    def as_of(self, date: dt.date | str | None = None) -> PriceSheet:
        """The newest sheet effective on or before `date`, a date or "YYYY-MM-DD" (the newest sheet when None)."""
        if date is None:
            return self.sheets[-1]
        date = as_date(date)
        in_force = [s for s in self.sheets if s.effective <= date]
        if not in_force:
            raise UsageError(
                f"no price sheet in force on {date.isoformat()}: the first sheet is effective "
                f"{self.sheets[0].revision}"
            )
        return in_force[-1]

    def revision(self, name: str) -> PriceSheet:
        """The sheet with this effective date (YYYY-MM-DD) or file stem."""
        for sheet in self.sheets:
            if name in (sheet.revision, sheet.path.stem, str(sheet.path)):
                return sheet
        known = ", ".join(s.revision for s in self.sheets)
        raise UsageError(f"no price sheet {name!r}; revisions are: {known}")

    def history(self, name: str) -> list[HistoryEntry]:
        """The model's prices on every sheet that knows the name, oldest first."""
        entries = []
        for sheet in self.sheets:
            try:
                entries.append(HistoryEntry(sheet, sheet.model(name)))
            except UnknownModelError:
                continue
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


def load_pricebook(directory: str | os.PathLike[str] | None = None) -> PriceBook:
    """Load and validate every `*.toml` sheet below `directory`; PricingError lists all problems."""
    root = Path(directory) if directory is not None else default_pricing_dir()
    if not root.is_dir():
        raise PricingError([Problem(str(root), "", "pricing folder not found")])
    files = sorted(root.rglob("*.toml"))
    if not files:
        raise PricingError([Problem(str(root), "", "no price sheets (*.toml) in this folder")])
    sheets: list[PriceSheet] = []
    problems: list[Problem] = []
    for path in files:
        sheet, file_problems = _load_sheet(path)
        problems += file_problems
        if sheet is not None:
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
    providers = {s.provider for s in sheets}
    if len(providers) > 1:
        # One book is one provider's timeline; several providers would need a provider key per model.
        raise PricingError([Problem(str(root), "", f"sheets of several providers ({', '.join(sorted(providers))}) "
                                                   "in one folder")])
    return PriceBook(root, tuple(sorted(sheets, key=lambda s: s.effective)))


def load_sheet(path: str | os.PathLike[str]) -> PriceSheet:
    """Load and validate one price sheet file."""
    sheet, problems = _load_sheet(Path(path))
    if problems or sheet is None:
        raise PricingError(problems)
    return sheet


def _load_sheet(path: Path) -> tuple[PriceSheet | None, list[Problem]]:
    raw, problem = read_toml(path, display_path(path))
    if raw is None:
        assert problem is not None
        return None, [problem]
    check = _Checker(path)
    sheet = check.sheet(raw)
    return (sheet if not check.problems else None), check.problems


class _Checker(Checker):
    """Reads a parsed sheet into dataclasses, collecting every problem with its key path."""

    def __init__(self, path: Path):
        super().__init__(display_path(path))
        self.path = path

    def sheet(self, raw: Raw) -> PriceSheet | None:
        if not self.schema_version(raw, SCHEMA_VERSION):
            return None
        self.unknown_keys(raw, _SHEET_KEYS, ())
        provider = self.string(raw, ("provider",), required=True)
        effective = self.date(raw, ("effective",), required=True)
        checked = self.date(raw, ("checked",), required=True)
        currency = self.string(raw, ("currency",), required=True)
        unit = self.string(raw, ("unit",), required=True)
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
        sources = {}
        for key, body in raw.items():
            path = ("sources", key)
            if not isinstance(body, dict):
                self.problem(path, "must be a table with title and url")
                continue
            self.unknown_keys(body, ("title", "url"), path)
            title = self.string(body, (*path, "title"), required=True)
            # A URL where the source has one; a repository file at a commit may only have a title.
            url = self.string(body, (*path, "url")) or ""
            if title is not None:
                sources[key] = Source(key, title, url)
        return sources

    def model(self, name: str, body: Raw, p: KeyPath, effective: dt.date, sources: dict[str, Source]) -> ModelPrice:
        self.unknown_keys(body, _MODEL_KEYS, p)
        kind = self.string(body, (*p, "kind"), required=True)
        if kind is not None and kind not in MODEL_KINDS:
            self.problem((*p, "kind"), f"must be one of {', '.join(MODEL_KINDS)}, not {kind!r}")
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
        path = (*p, "sources")
        cited = body.get("sources")
        if cited is None:
            self.problem(path, "missing: every price needs a source")
            return ()
        if not isinstance(cited, list) or not cited or not all(isinstance(c, str) for c in cited):
            self.problem(path, "must be a non-empty list of source keys")
            return ()
        for key in cited:
            if sources and key not in sources:
                self.problem(path, f"{key!r} is not in [sources]")
        return tuple(cited)

    def price(self, body: Raw, path: KeyPath) -> Decimal | None:
        value = self.number(body, path, expected="a number (USD per 1M tokens)")
        if value is not None and (not value.is_finite() or value < 0):
            self.problem(path, f"must be a finite number >= 0, not {value}")
            return None
        if value is not None and value > MAX_PRICE:
            self.problem(path, f"must be at most {MAX_PRICE:,} (USD per 1M tokens), not {show_value(value)}")
            return None
        return value


__all__ = [
    "as_date",
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
