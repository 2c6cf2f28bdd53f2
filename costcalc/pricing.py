"""The price catalogue: dated price sheets loaded from TOML into frozen dataclasses.

A price sheet (`pricing/<provider>/<effective-date>.toml`) lists every model in force from its
effective date, with prices in USD per 1M tokens read as exact `Decimal`s, the aliases of that
date and the sources the prices came from. A `PriceBook` holds all sheets of a folder and answers
"which prices applied on this date?", a model's history and the diff of two sheets.

Loading validates every file and reports every problem at once, each with the file and key path
(`pricing/openai/2023-11-06.toml: models."gpt-4o".input: ...`).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .errors import CostCalcError, MissingPriceError, PricingError, UnknownModelError, UsageError, closest_names

SCHEMA_VERSION = 1
PRICING_DIR_ENV = "COSTCALC_PRICING_DIR"

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

    @property
    def fine_tunable(self) -> bool:
        return self.fine_tuning is not None

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

    def as_of(self, date: dt.date | None = None) -> PriceSheet:
        """The newest sheet effective on or before `date` (today's prices when None)."""
        if date is None:
            return self.sheets[-1]
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
        raise PricingError([f"{root}: pricing folder not found"])
    files = sorted(root.rglob("*.toml"))
    if not files:
        raise PricingError([f"{root}: no price sheets (*.toml) in this folder"])
    sheets, problems = [], []
    for path in files:
        sheet, file_problems = _load_sheet(path)
        problems += file_problems
        if sheet is not None:
            sheets.append(sheet)
    seen: dict[tuple[str, dt.date], Path] = {}
    for sheet in sheets:
        folder = sheet.path.parent
        if folder != root and folder.name != sheet.provider:
            problems.append(
                f"{display_path(sheet.path)}: provider: {sheet.provider!r} does not match its folder {folder.name!r}"
            )
        key = (sheet.provider, sheet.effective)
        if key in seen:
            problems.append(
                f"{display_path(sheet.path)}: effective: {sheet.revision} is also the date of {display_path(seen[key])}"
            )
        seen[key] = sheet.path
    if problems:
        raise PricingError(problems)
    providers = {s.provider for s in sheets}
    if len(providers) > 1:
        # One book is one provider's timeline; several providers would need a provider key per model.
        raise PricingError([f"{root}: sheets of several providers ({', '.join(sorted(providers))}) in one folder"])
    return PriceBook(root, tuple(sorted(sheets, key=lambda s: s.effective)))


def load_sheet(path: str | os.PathLike[str]) -> PriceSheet:
    """Load and validate one price sheet file."""
    sheet, problems = _load_sheet(Path(path))
    if problems:
        raise PricingError(problems)
    assert sheet is not None
    return sheet


def _load_sheet(path: Path) -> tuple[PriceSheet | None, list[str]]:
    try:
        with path.open("rb") as f:
            # parse_float keeps 0.075 exactly 0.075: a binary float never touches a price.
            raw = tomllib.load(f, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        return None, [f"{display_path(path)}: not valid TOML: {exc}"]
    except OSError as exc:
        return None, [f"{display_path(path)}: cannot read: {exc.strerror}"]
    check = _Checker(path)
    sheet = check.sheet(raw)
    return (sheet if not check.problems else None), check.problems


class _Checker:
    """Reads a parsed sheet into dataclasses, collecting every problem with its key path."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{display_path(self.path)}: {where}: {message}")

    def sheet(self, raw: dict) -> PriceSheet | None:
        version = raw.get("schema_version")
        if version is None:
            self.problem("schema_version", "missing (this costcalc reads schema_version = 1)")
            return None
        if version != SCHEMA_VERSION:
            self.problem(
                "schema_version",
                f"unknown schema version {version!r} (this costcalc reads schema_version = {SCHEMA_VERSION})",
            )
            return None
        self.unknown_keys(raw, _SHEET_KEYS, "")
        provider = self.typed(raw, "provider", str, "", required=True)
        effective = self.typed(raw, "effective", dt.date, "", required=True)
        checked = self.typed(raw, "checked", dt.date, "", required=True)
        currency = self.typed(raw, "currency", str, "", required=True)
        unit = self.typed(raw, "unit", str, "", required=True)
        summary = self.typed(raw, "summary", str, "") or ""
        if currency is not None and currency != "USD":
            self.problem("currency", f"must be \"USD\", not {currency!r}")
        if unit is not None and unit != "per_1m_tokens":
            self.problem("unit", f"must be \"per_1m_tokens\", not {unit!r}")
        if isinstance(effective, dt.datetime) or isinstance(checked, dt.datetime):
            self.problem("effective", "must be a date (YYYY-MM-DD), not a date-time")
        if effective and self.path.stem != effective.isoformat():
            self.problem("effective", f"{effective.isoformat()} does not match the file name {self.path.name}")

        sources = self.sources(raw.get("sources"))
        aliases = self.typed(raw, "aliases", dict, "") or {}
        models_raw = self.typed(raw, "models", dict, "", required=True) or {}
        models = {}
        for name, body in models_raw.items():
            where = f'models."{name}"'
            if not isinstance(body, dict):
                self.problem(where, "must be a table")
                continue
            model = self.model(name, body, where, effective or dt.date.min, sources)
            if model is not None:
                models[name] = model
        for alias, target in aliases.items():
            where = f'aliases."{alias}"'
            if not isinstance(target, str):
                self.problem(where, f"must be a string, not {_type_name(target)}")
            elif target not in models_raw:
                self.problem(where, f"points to {target!r}, which is not a model in this sheet")
            elif alias in models_raw:
                self.problem(where, "is also a model name")
        if self.problems:
            return None
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
            schema_version=version,
        )

    def sources(self, raw: object) -> dict[str, Source]:
        if raw is None:
            self.problem("sources", "missing: every sheet names the sources its prices come from")
            return {}
        if not isinstance(raw, dict) or not raw:
            self.problem("sources", "must be a non-empty table of {title, url}")
            return {}
        sources = {}
        for key, body in raw.items():
            where = f"sources.{_quote(key)}"
            if not isinstance(body, dict):
                self.problem(where, "must be a table with title and url")
                continue
            self.unknown_keys(body, {"title", "url"}, where + ".")
            title = self.typed(body, "title", str, where + ".", required=True)
            # A URL where the source has one; a repository file at a commit may only have a title.
            url = self.typed(body, "url", str, where + ".") or ""
            if title is not None:
                sources[key] = Source(key, title, url)
        return sources

    def model(self, name, body, where, effective, sources) -> ModelPrice | None:
        prefix = where + "."
        self.unknown_keys(body, _MODEL_KEYS, prefix)
        kind = self.typed(body, "kind", str, prefix, required=True)
        if kind is not None and kind not in MODEL_KINDS:
            self.problem(prefix + "kind", f"must be one of {', '.join(MODEL_KINDS)}, not {kind!r}")
        encoding = self.typed(body, "encoding", str, prefix)
        if encoding is None and kind in ("chat", "completion", "embedding") and "encoding" not in body:
            # Token counts of datasets and samples need the model's tokenizer.
            self.problem(prefix + "encoding", f"missing (a {kind} model needs its tiktoken encoding)")
        if encoding is not None and encoding not in ENCODINGS:
            self.problem(prefix + "encoding", f"must be one of {', '.join(ENCODINGS)}, not {encoding!r}")
        context_window = self.count(body, "context_window", prefix)
        prices = {key: self.price(body, key, prefix) for key in MODEL_PRICE_KEYS}
        cited = self.cited_sources(body, prefix, sources)
        note = self.typed(body, "note", str, prefix) or ""
        # What a model of this kind is used for must have a price: a sheet that leaves one out
        # would make every later computation fail, so say so where the sheet is written.
        for key in REQUIRED_PRICES.get(kind, ()):
            if key not in body:
                self.problem(prefix + key, f"missing (a {kind} model needs an {key} price)")
        fine_tuning = None
        if "fine_tuning" in body:
            ft_body = body["fine_tuning"]
            if not isinstance(ft_body, dict):
                self.problem(prefix + "fine_tuning", "must be a table")
            else:
                fine_tuning = self.fine_tuning(ft_body, prefix + "fine_tuning.", sources)
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

    def fine_tuning(self, body, prefix, sources) -> FineTuningPrice:
        self.unknown_keys(body, _FINE_TUNING_KEYS, prefix)
        for key in ("training", "input", "output"):
            if key not in body:
                self.problem(prefix + key, "missing (a fine_tuning table needs training, input and output prices)")
        prices = {key: self.price(body, key, prefix) for key in FINE_TUNING_PRICE_KEYS}
        return FineTuningPrice(
            training_per_1m=prices["training"],
            input_per_1m=prices["input"],
            cached_input_per_1m=prices["cached_input"],
            output_per_1m=prices["output"],
            batch_input_per_1m=prices["batch_input"],
            batch_cached_input_per_1m=prices["batch_cached_input"],
            batch_output_per_1m=prices["batch_output"],
            max_tokens_per_example=self.count(body, "max_tokens_per_example", prefix),
            sources=self.cited_sources(body, prefix, sources),
            note=self.typed(body, "note", str, prefix) or "",
        )

    def cited_sources(self, body, prefix, sources) -> tuple[str, ...]:
        cited = body.get("sources")
        if cited is None:
            self.problem(prefix + "sources", "missing: every price needs a source")
            return ()
        if not isinstance(cited, list) or not cited or not all(isinstance(c, str) for c in cited):
            self.problem(prefix + "sources", "must be a non-empty list of source keys")
            return ()
        for key in cited:
            if sources and key not in sources:
                self.problem(prefix + "sources", f"{key!r} is not in [sources]")
        return tuple(cited)

    def price(self, body, key, prefix) -> Decimal | None:
        value = body.get(key)
        if value is None:
            return None
        # bool is an int in Python; a price of `true` is a mistake, not 1.
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            self.problem(prefix + key, f"must be a number (USD per 1M tokens), not {_type_name(value)}")
            return None
        value = Decimal(value)
        if not value.is_finite() or value < 0:
            self.problem(prefix + key, f"must be a finite number >= 0, not {value}")
            return None
        return value

    def count(self, body, key, prefix) -> int | None:
        value = body.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self.problem(prefix + key, f"must be a whole number of tokens > 0, not {value!r}")
            return None
        return value

    def typed(self, raw, key, kind, prefix, required=False):
        value = raw.get(key)
        if value is None:
            if required:
                self.problem(prefix + key, "missing")
            return None
        if not isinstance(value, kind):
            expected = {str: "a string", dict: "a table", dt.date: "a date (YYYY-MM-DD)"}.get(kind, kind.__name__)
            self.problem(prefix + key, f"must be {expected}, not {_type_name(value)}")
            return None
        return value

    def unknown_keys(self, raw: dict, allowed: set[str], prefix: str) -> None:
        for key in raw:
            if key not in allowed:
                hint = closest_names(key, allowed, limit=1)
                suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
                self.problem(prefix + _quote(key), f"unknown key{suffix}")


def display_path(path: Path) -> str:
    """The path relative to the working directory when it is below it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _quote(key: str) -> str:
    """Key as it appears in a TOML path: bare when it can be, quoted otherwise."""
    if key and all(c.isalnum() or c in "_-" for c in key):
        return key
    return f'"{key}"'


def _type_name(value: object) -> str:
    return {
        str: "a string", bool: "a boolean", int: "an integer", Decimal: "a number",
        list: "an array", dict: "a table",
    }.get(type(value), type(value).__name__)


def parse_date(text: str, option: str = "--as-of") -> dt.date:
    """YYYY-MM-DD -> date; a malformed date is a usage error naming the option."""
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise UsageError(f"{option}: {text!r} is not a date in the form YYYY-MM-DD") from None


__all__ = [
    "CostCalcError",
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
    "parse_date",
    "split_fine_tuned",
]
