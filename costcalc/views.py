"""Turns price-catalogue and cost results into `Output`s (JSON data plus tables) for the renderer.

Kept apart from `pricing` and `cost` so those stay pure data and arithmetic, and apart from `cli`
so a script can build the same JSON the CLI prints.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cost import CACHE_INCREMENT_TOKENS, CACHE_MIN_TOKENS, UsageCost
from .months import month_label, months_phrase
from .prose import requests_phrase
from .errors import PricingError
from .pricing import DEFAULT_PROVIDER, PROVIDER_NAMES, HistoryEntry, ModelPrice, PriceBook, PriceSheet, SheetDiff
from .training import TrainingBill
from .render import Count, Money, Output, Price, Share, Table, format_count, format_usd, plain

if TYPE_CHECKING:
    from .compare import Comparison
    from .dataset import DatasetReport
    from .tokens import TokenCount

# The version of every command's JSON (`compare` and `dataset` carry their own, also 1): a script
# checks it before it trusts the keys.
SCHEMA_VERSION = 1

# Columns of `prices list` / `prices history`: JSON name -> short header.
PRICE_COLUMNS = {
    "input_per_1m": "input",
    "cached_input_per_1m": "cached",
    "output_per_1m": "output",
    "batch_input_per_1m": "batch in",
    "batch_output_per_1m": "batch out",
    "training_per_1m": "FT training",
    "ft_input_per_1m": "FT input",
    "ft_cached_input_per_1m": "FT cached",
    "ft_output_per_1m": "FT output",
}


BUNDLED_SHEETS = "the bundled price sheets"


def shown_path(path: str | os.PathLike[str]) -> str:
    """A file or folder as a report names it: never an absolute path into site-packages.

    costcalc's own price sheets are "the bundled price sheets" and its other files are named from
    the package ("examples/example-train.jsonl (bundled with costcalc)"), wherever pip put them;
    any other path is relative to the working directory when it is below it, else as given.
    """
    from ._schema import display_path

    target = Path(path)
    try:
        resolved = target.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return str(target)
    package = Path(__file__).resolve().parent
    # Where costcalc.pricing.default_pricing_dir finds the sheets: in a wheel, and in a checkout.
    for bundled in (package / "data" / "pricing", package.parent / "pricing"):
        if resolved == bundled:
            return BUNDLED_SHEETS
        if resolved.is_relative_to(bundled):
            return f"{BUNDLED_SHEETS} ({resolved.relative_to(bundled).as_posix()})"
    if resolved.is_relative_to(package):
        return f"{resolved.relative_to(package).as_posix()} (bundled with costcalc)"
    return display_path(target)


def sheet_ref(sheet: PriceSheet) -> dict[str, Any]:
    return {"effective": sheet.revision, "file": sheet.path.name, "provider": sheet.provider,
            "checked": sheet.checked.isoformat()}



# Prices billed by time, storage or job, beside the per-1M prices (JSON name -> how a table says it).
OTHER_PRICES = {
    "training_per_hour": "per training hour",
    "hosting_per_hour": "per hour of hosting",
    "storage_per_month": "per month of storage",
    "minimum_per_job": "minimum per job",
    "maximum_per_job": "maximum per job",
}


# Column headers of the fees that are not per token, shown in `prices list` and `prices history` only
# where some row has one (USD, in the unit the header says).
OTHER_COLUMNS = {
    "training_per_hour": "FT per hour",
    "hosting_per_hour": "hosting per hour",
    "storage_per_month": "storage per month",
    "minimum_per_job": "min per job",
    "maximum_per_job": "max per job",
}


def other_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The keys of OTHER_COLUMNS that some row prices, in their order."""
    return [k for k in OTHER_COLUMNS if any(r.get(k) is not None for r in rows)]


def provider_name(provider: str) -> str:
    return PROVIDER_NAMES.get(provider, provider)


def shown_name(name: str, provider: str) -> str:
    """A model as the user types it: OpenAI's bare, every other provider's with its prefix (azure/...)."""
    return name if provider == DEFAULT_PROVIDER or name.startswith(f"{provider}/") else f"{provider}/{name}"


def default_mode(model: ModelPrice) -> str:
    """The deployment type a model's prices mean when none is named: "standard" for OpenAI, Azure's
    "global"; from the sheet where it says so, else the first mode the sheet prices."""
    mode = getattr(model, "default_mode", None)
    if mode and (mode in model.modes or not model.modes):
        return str(mode)
    return "standard" if "standard" in model.modes or not model.modes else next(iter(model.modes))


def _fine_tuning_of(model: ModelPrice, mode: str) -> Any:
    by_mode = getattr(model, "fine_tuning_by_mode", None) or {}
    return by_mode.get(mode) or model.fine_tuning


def mode_prices(model: ModelPrice, mode: str | None = None) -> dict[str, Decimal | None]:
    """Every price under its stable JSON name (`ModelPrice.prices`), for the deployment type `mode`
    (the model's default when None): a provider whose default is not "standard" (Azure) gives that type's."""
    mode = mode or default_mode(model)
    if mode == "standard" and (not model.modes or "standard" in model.modes):
        prices = model.prices()
        ft = _fine_tuning_of(model, mode)
        if ft is not None and ft is not model.fine_tuning:
            prices["training_per_1m"] = ft.training_per_1m
        return prices
    batch = f"{mode}_batch" if f"{mode}_batch" in model.modes else "batch"
    base, base_batch = model.modes.get(mode), model.modes.get(batch)
    tuned, tuned_batch = model.fine_tuned_modes.get(mode), model.fine_tuned_modes.get(batch)
    ft = _fine_tuning_of(model, mode)

    def rate(rates: Any, key: str) -> Decimal | None:
        return rates.rates.get(key) if rates is not None else None

    return {
        "input_per_1m": rate(base, "input_per_1m"),
        "output_per_1m": rate(base, "output_per_1m"),
        "cached_input_per_1m": rate(base, "cached_input_per_1m"),
        "batch_input_per_1m": rate(base_batch, "input_per_1m"),
        "batch_output_per_1m": rate(base_batch, "output_per_1m"),
        "training_per_1m": ft.training_per_1m if ft is not None else None,
        "ft_input_per_1m": rate(tuned, "input_per_1m"),
        "ft_cached_input_per_1m": rate(tuned, "cached_input_per_1m"),
        "ft_output_per_1m": rate(tuned, "output_per_1m"),
        "ft_batch_input_per_1m": rate(tuned_batch, "input_per_1m"),
        "ft_batch_cached_input_per_1m": rate(tuned_batch, "cached_input_per_1m"),
        "ft_batch_output_per_1m": rate(tuned_batch, "output_per_1m"),
    }


def other_prices(model: ModelPrice, mode: str | None = None) -> dict[str, Decimal | None]:
    """training_per_hour, hosting_per_hour, storage_per_month, minimum_per_job, maximum_per_job (None: not billed so)."""
    ft = _fine_tuning_of(model, mode or default_mode(model))
    return {key: getattr(ft, key, None) if ft is not None else None for key in OTHER_PRICES}


def mode_table(model: ModelPrice) -> dict[str, dict[str, Decimal | None]]:
    """Every deployment type the sheet prices (base and fine-tuned), each with its prices by JSON name."""
    modes = list(dict.fromkeys([*model.modes, *model.fine_tuned_modes,
                                *(getattr(model, "fine_tuning_by_mode", None) or {})]))
    table = {}
    for mode in modes:
        prices: dict[str, Decimal | None] = {}
        for prefix, source in (("", model.modes), ("ft_", model.fine_tuned_modes)):
            rates = source.get(mode)
            for key, value in (rates.rates.items() if rates is not None else ()):
                prices[prefix + key] = value
        by_mode = (getattr(model, "fine_tuning_by_mode", None) or {}).get(mode)
        if by_mode is not None:
            prices["training_per_1m"] = by_mode.training_per_1m
            prices.update({k: getattr(by_mode, k, None) for k in OTHER_PRICES})
        table[mode] = prices
    return table


def carried_forward(book: PriceBook, date: dt.date) -> dict[str, str | None]:
    """The JSON keys saying whether `date` is past the day the provider's prices were last checked:
    `carried_forward_from` (the newest sheet's date) and `prices_checked`, both null when it is not."""
    sheet = book.carried_forward(date)
    return {"carried_forward_from": sheet.effective.isoformat() if sheet else None,
            "prices_checked": sheet.checked.isoformat() if sheet else None}


def carried_forward_note(provider: str, newest: dt.date, checked: dt.date, date: dt.date) -> str:
    return (f"Note: {date.isoformat()} is after the day the {provider_name(provider)} prices were last checked "
            f"({checked.isoformat()}): the newest sheet, {newest.isoformat()}, is carried forward.")


def lifecycle(book: PriceBook, name: str, date: dt.date) -> dict[str, Any]:
    """What a user may do with `name` on `date`: status, the dates, and who may start a fine-tuning job."""
    pb, bare = book.for_name(name)
    facts = pb.facts(bare, date)
    jobs = pb.fine_tuning_jobs(bare, date)
    catalogue = pb.catalogues.get(pb.provider)
    steps = [s for s in (catalogue.wind_down if catalogue is not None else ()) if s.on <= date]
    wording = steps[-1].wording if jobs is not None and jobs != "open" and steps and steps[-1].jobs == jobs else ""
    if jobs == "closed" and steps and steps[-1].jobs != "closed":
        wording = ""  # closed for this model alone (its own end of training or shutdown), not the wind-down
    shutdown = pb.shutdown_on(bare, date)
    return {
        "provider": pb.provider,
        "status": pb.status(bare, date),
        "released": facts.released.isoformat() if facts is not None and facts.released else None,
        "deprecation_notice": (facts.deprecation_notice.isoformat()
                               if facts is not None and facts.deprecation_notice else None),
        "shutdown_on": shutdown.isoformat() if shutdown else None,
        "fine_tuning_jobs": jobs,
        "fine_tuning_jobs_wording": wording or None,
    }


def _status_line(name: str, date: dt.date, life: dict[str, Any]) -> str:
    day = date.isoformat()
    status = life["status"]
    if status == "shut down":
        return f"status on {day}: shut down on {life['shutdown_on']}"
    if status == "deprecated":
        notice = f" (announced {life['deprecation_notice']})" if life["deprecation_notice"] else ""
        return f"status on {day}: deprecated, shutdown on {life['shutdown_on']}{notice}"
    if status == "not released":
        return f"status on {day}: not released" + (f" (released {life['released']})" if life["released"] else "")
    return f"status on {day}: available"


def _jobs_line(date: dt.date, life: dict[str, Any]) -> str:
    jobs = life["fine_tuning_jobs"]
    if jobs is None:
        return "fine-tuning: not offered for this model"
    line = f"fine-tuning jobs on {date.isoformat()}: {jobs}"
    if life["fine_tuning_jobs_wording"]:
        line += f" ({provider_name(life['provider'])}: \"{life['fine_tuning_jobs_wording']}\")"
    return line


def _dates_line(life: dict[str, Any]) -> str:
    return (f"released: {life['released'] or '-'}; deprecation notice: {life['deprecation_notice'] or '-'}; "
            f"shutdown: {life['shutdown_on'] or '-'}")


def model_data(model: ModelPrice, sheet: PriceSheet, requested: str | None = None) -> dict:
    """The `prices show --format json` contract: model, effective and every price per 1M tokens
    (of the default deployment type), and the prices billed by hour, month or job."""
    ft = model.fine_tuning
    data: dict[str, object] = {
        "model": model.name,
        "requested": requested or model.name,
        "effective": sheet.revision,
        "price_sheet": sheet.path.name,
        "kind": model.kind,
        "encoding": model.encoding,
        "context_window": model.context_window,
        "max_tokens_per_example": ft.max_tokens_per_example if ft else None,
        "currency": sheet.currency,
        "unit": sheet.unit,
    }
    data.update(mode_prices(model))
    cited = list(dict.fromkeys([*model.sources, *(ft.sources if ft else ())]))
    data["sources"] = [{"key": k, "title": sheet.sources[k].title, "url": sheet.sources[k].url} for k in cited]
    data["notes"] = [n for n in (model.note, ft.note if ft else "") if n]
    data["provider"] = model.provider
    data.update(other_prices(model))
    data["default_mode"] = default_mode(model)
    data["modes"] = mode_table(model)
    return data


def prices_list(sheets: PriceSheet | list[PriceSheet], book: PriceBook | None = None, date: dt.date | None = None,
                *, include_shut_down: bool = False) -> Output:
    """`prices list`: one table per provider of the models usable on `date` (with `include_shut_down`,
    also those shut down or not yet released, marked so)."""
    if isinstance(sheets, PriceSheet):
        sheets = [sheets]
    tables: list[Table] = []
    providers: list[dict[str, Any]] = []
    for sheet in sheets:
        pb = book.provider_book(sheet.provider) if book is not None else None
        models = []
        for m in sorted(sheet.models.values(), key=lambda m: m.name):
            status = pb.status(m.name, date) if pb is not None and date is not None else "available"
            if status in ("shut down", "not released") and not include_shut_down:
                continue
            row = model_data(m, sheet)
            row["model"] = shown_name(m.name, sheet.provider)
            row["status"] = status
            models.append(row)
        extra = other_columns(models)
        rows = [[m["model"], m["kind"], m["status"],
                 *[Price(m[k]) if m[k] is not None else None for k in (*PRICE_COLUMNS, *extra)]] for m in models]
        aliases = ", ".join(f"{shown_name(a, sheet.provider)} → {shown_name(t, sheet.provider)}" for a, t in sorted(sheet.aliases.items()))
        on = f" on {date.isoformat()}" if date is not None else ""
        mode = models[0]["default_mode"] if models else "standard"
        unit = "USD per 1M tokens" + ("" if mode == "standard" else f", {mode} deployment")
        notes = [f"Aliases: {aliases}" if aliases else "Aliases: none",
                 "'-' means the sheet lists no such price (not offered, or not confirmed by a source)."]
        if not include_shut_down:
            notes.append("Models shut down or not yet released on that date are left out (--include-shut-down "
                         "lists them).")
        tables.append(Table(
            title=f"{provider_name(sheet.provider)} prices in force from {sheet.revision}{on} ({unit}; "
                  f"{sheet.path.name})",
            headers=["model", "kind", "status", *PRICE_COLUMNS.values(), *(OTHER_COLUMNS[k] for k in extra)],
            rows=rows, notes=notes,
        ))
        forward = (carried_forward(pb, date) if pb is not None and date is not None
                   else {"carried_forward_from": None, "prices_checked": None})
        providers.append({"provider": sheet.provider, "price_sheet": sheet_ref(sheet), "summary": sheet.summary,
                          "aliases": dict(sheet.aliases), "models": models, **forward})
    first = providers[0]
    data = {"schema_version": SCHEMA_VERSION, "as_of": date.isoformat() if date else None,
            "price_sheet": first["price_sheet"], "summary": first["summary"], "aliases": first["aliases"],
            "models": [m for p in providers for m in p["models"]],
            "carried_forward_from": first["carried_forward_from"], "prices_checked": first["prices_checked"],
            "providers": providers}
    return Output(data, tables)


def price_show(model: ModelPrice, sheet: PriceSheet, requested: str, book: PriceBook | None = None,
               date: dt.date | None = None) -> Output:
    data = {"schema_version": SCHEMA_VERSION, **model_data(model, sheet, requested)}
    mode = data["default_mode"]
    rows = [[name.removesuffix("_per_1m").replace("_", " "), Price(value) if value is not None else None]
            for name, value in mode_prices(model).items()]
    rows += [[f"{OTHER_PRICES[key]} (USD)", Price(value)] for key, value in other_prices(model).items()
             if value is not None]
    title = f"{shown_name(model.name, model.provider)} in the price sheet effective {sheet.revision} (USD per 1M tokens"
    title += ")" if mode == "standard" else f", {mode} deployment)"
    if requested not in (model.name, shown_name(model.name, model.provider)):
        title += f"; {requested!r} resolves to {model.name}"
    facts = []
    if book is not None and date is not None:
        life = lifecycle(book, requested, date)
        data.update(life)
        data.update(carried_forward(book.for_name(requested)[0], date))
        facts += [_status_line(model.name, date, life), _dates_line(life), _jobs_line(date, life)]
        if life["status"] in ("shut down", "not released"):  # never priced as if it could be used
            title += f"; on {date.isoformat()} it is {life['status']}: these prices cannot be used then"
    facts += [
        f"kind: {model.kind}; encoding: {model.encoding or '-'}; context window: "
        f"{model.context_window or '-'}; max tokens per training example: {data['max_tokens_per_example'] or '-'}",
    ]
    others = [m for m in data["modes"] if m != mode]
    if mode != "standard" or any(m not in ("standard", "batch") for m in others):
        for other in others:
            priced = ", ".join(f"{k.removesuffix('_per_1m').replace('_', ' ')} {plain(v, 2)}"
                               for k, v in data["modes"][other].items() if v is not None)
            facts.append(f"also {other}: {priced or 'no prices'}")
    facts += [
        *[f"source {s['key']}: {s['title']}" + (f" <{s['url']}>" if s["url"] else "") for s in data["sources"]],
        *[f"note: {n}" for n in data["notes"]],
    ]
    header = "USD per 1M" if mode == "standard" else f"USD per 1M ({mode})"
    return Output(data, [Table(title, ["price", header], rows, facts)])


def distinct_periods(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """Each price period once, on the sheet where it took effect: a sheet that carries a model forward
    (or repeats its prices) adds no row; a snapshot that changes (an alias moved) does."""
    periods: list[HistoryEntry] = []
    last = None
    for entry in entries:
        m = entry.model
        key = (m.name, mode_prices(m), other_prices(m), m.modes, m.fine_tuned_modes)
        if key != last:
            periods.append(entry)
        last = key
    return periods


def price_history(name: str, entries: list[HistoryEntry], *, forward: dict[str, str | None] | None = None,
                  as_of: dt.date | None = None) -> Output:
    rows, series = [], []
    entries = distinct_periods(entries)
    provider = entries[0].sheet.provider if entries else DEFAULT_PROVIDER
    for entry in entries:
        series.append({"effective": entry.effective.isoformat(), "model": entry.model.name, **mode_prices(entry.model),
                       **other_prices(entry.model), "price_sheet": entry.sheet.path.name})
    extra = other_columns(series)
    for entry, prices in zip(entries, series):
        rows.append([entry.effective.isoformat(), shown_name(entry.model.name, provider),
                     *[Price(price) if (price := prices[k]) is not None else None for k in (*PRICE_COLUMNS, *extra)]])
    table = Table(f"Price history of {name} ({provider_name(provider)}; USD per 1M tokens unless a column says "
                  "otherwise; snapshot the name meant on each date; one row per price change)",
                  ["effective", "snapshot", *PRICE_COLUMNS.values(), *(OTHER_COLUMNS[k] for k in extra)], rows)
    return Output({"schema_version": SCHEMA_VERSION, "model": name, "provider": provider,
                   "as_of": as_of.isoformat() if as_of is not None else None, "history": series,
                   **(forward or {"carried_forward_from": None, "prices_checked": None})}, [table])


def sheet_diff(diff: SheetDiff, *, forward: dict[str, str | None] | None = None) -> Output:
    rows = []
    for change in diff.changed_prices:
        pct = None
        if change.old and change.new is not None:
            pct = f"{(change.new - change.old) / change.old * 100:+.1f}%"
        rows.append([change.model, change.price.removesuffix("_per_1m"),
                     Price(change.old) if change.old is not None else None,
                     Price(change.new) if change.new is not None else None, pct or ""])
    notes = []
    if diff.added_models:
        notes.append("Added: " + ", ".join(diff.added_models))
    if diff.removed_models:
        notes.append("Removed: " + ", ".join(diff.removed_models))
    for alias, old, new in diff.changed_aliases:
        notes.append(f"Alias {alias}: {old or '(none)'} → {new or '(none)'}")
    if not (rows or notes):
        notes.append("No differences.")
    table = Table(f"Price changes from {diff.old.revision} to {diff.new.revision} (USD per 1M tokens)",
                  ["model", "price", diff.old.revision, diff.new.revision, "change"], rows, notes)
    data = {
        "schema_version": SCHEMA_VERSION,
        "old": sheet_ref(diff.old),
        "new": sheet_ref(diff.new),
        "added_models": list(diff.added_models),
        "removed_models": list(diff.removed_models),
        "changed_prices": [{"model": c.model, "price": c.price, "old": c.old, "new": c.new}
                           for c in diff.changed_prices],
        "changed_aliases": [{"alias": a, "old": o, "new": n} for a, o, n in diff.changed_aliases],
        **(forward or {"carried_forward_from": None, "prices_checked": None}),
    }
    return Output(data, [table])


def validation(result: PriceBook | PricingError) -> Output:
    """`prices validate`: the sheets of a valid folder, or every problem of an invalid one."""
    if isinstance(result, PricingError):
        problems = [p.to_dict() for p in result.problems]
        table = Table("Problems in the price sheets", ["file", "key", "problem"],
                      [[p["file"], p["key"], p["message"]] for p in problems])
        return Output({"valid": False, "problems": problems}, [table])
    book = result
    sheets = book.all_sheets
    rows = [[s.provider, s.path.name, s.revision, len(s.models), len(s.aliases), len(s.sources)] for s in sheets]
    warnings = [p.to_dict() for p in book.warnings]
    notes = [f"warning: {p}" for p in book.warnings]
    table = Table(f"All {len(sheets)} price sheets in {book.directory} are valid",
                  ["provider", "file", "effective", "models", "aliases", "sources"], rows, notes)
    return Output({"valid": True, "problems": [], "warnings": warnings, "directory": str(book.directory),
                   "providers": book.providers, "sheets": [sheet_ref(s) for s in sheets]}, [table])


def estimate(cost: UsageCost, requests: int, per_request_tokens: dict, training: TrainingBill | None,
             sheet: PriceSheet | None = None, *, forward: dict[str, str | None] | None = None,
             as_of: dt.date | None = None, training_warning: str | None = None) -> Output:
    """`costcalc estimate`: the usage of `requests` requests, and the training job when one is given.

    `sheet` is the sheet in force (named in the title); the price may have been set by an earlier
    sheet that this one carries forward, and then the title says that too."""
    usage_usd = cost.total_usd
    training_usd = training.training_usd if training and training.training_usd is not None else Decimal(0)
    total = usage_usd + training_usd
    mode = ("fine-tuned " if cost.fine_tuned else "") + ("batch" if cost.batch else "standard")
    rows = [
        ["input (uncached)", cost.usage.input_tokens - cost.usage.cached_input_tokens,
         Price(cost.input_per_1m) if cost.input_per_1m is not None else None, Money(cost.input_usd)],
        ["cached input", cost.usage.cached_input_tokens,
         Price(cost.cached_input_per_1m) if cost.cached_input_per_1m is not None else None,
         Money(cost.cached_input_usd)],
        ["output", cost.usage.output_tokens,
         Price(cost.output_per_1m) if cost.output_per_1m is not None else None, Money(cost.output_usd)],
    ]
    notes = []
    training_data = None
    if training:
        epochs_note = "" if training.epochs_rule == "as given" else (
            f"Epochs: {training.epochs} assumed (OpenAI's target); give --epochs, "
            "or run `costcalc dataset` for the default rule.")
        training_data = {
            "training_tokens": training.billing_tokens, "epochs": training.epochs,
            "billed_tokens": training.billed_tokens, "training_per_1m": training.training_per_1m,
            "training_usd": training.training_usd, "epochs_note": epochs_note,
            "warning": training_warning,  # a job that cannot start on the day (training.jobs_closed_warning)
        }
        if training_warning:
            notes.append(f"Warning: {training_warning}")
        rows.append([f"training ({training.epochs} epochs)", training.billed_tokens,
                     None if training.training_per_1m is None else Price(training.training_per_1m),
                     Money(training_usd)])
        if epochs_note:
            notes.append(epochs_note)
    rows.append(["total", None, None, Money(total)])
    if requests:
        notes.append(f"Per request: {format_usd(usage_usd / requests)} (usage only)")
    in_force = sheet.effective if sheet is not None else cost.effective
    where = f"sheet in force {in_force.isoformat()}"
    if cost.effective != in_force:
        where += f" (price set by the sheet of {cost.effective.isoformat()})"
    title = f"{cost.model}, {mode} pricing, {where}: {requests:,} request{'s' if requests != 1 else ''}"
    data = {
        "schema_version": SCHEMA_VERSION,
        "model": cost.model,
        "effective": in_force.isoformat(),
        "price_effective": cost.effective.isoformat(),
        "price_sheet": sheet_ref(sheet) if sheet is not None else None,
        "as_of": as_of.isoformat() if as_of is not None else None,
        **(forward or {"carried_forward_from": None, "prices_checked": None}),
        "fine_tuned": cost.fine_tuned,
        "batch": cost.batch,
        "requests": requests,
        "tokens_per_request": per_request_tokens,
        "input_tokens": cost.usage.input_tokens,
        "cached_input_tokens": cost.usage.cached_input_tokens,
        "output_tokens": cost.usage.output_tokens,
        "input_per_1m": cost.input_per_1m,
        "cached_input_per_1m": cost.cached_input_per_1m,
        "output_per_1m": cost.output_per_1m,
        "input_usd": cost.input_usd,
        "cached_input_usd": cost.cached_input_usd,
        "output_usd": cost.output_usd,
        "usage_usd": usage_usd,
        "training": training_data,
        "training_usd": training_usd,
        "total_usd": total,
    }
    return Output(data, [Table(title, ["component", "tokens", "USD per 1M", "cost"], rows, notes)])


# --- dataset and tokens --------------------------------------------------------------------------


def dataset_report(report: DatasetReport) -> Output:
    """`costcalc dataset`: what the file holds and what training on it costs, the per-example
    distributions and, when there are any, the errors by type with their first lines."""
    # The sheet's file name is enough to find it (the full path is in the JSON); a site-packages
    # path would run off a printed page.
    sheet = f"{report.price_sheet_effective}" + (f" ({Path(report.price_sheet_file).name})"
                                                 if report.price_sheet_file else "")
    limit = report.max_tokens_per_example
    m = report.messages_per_example
    rows: list[list[object]] = [
        ["file", report.file, f"{report.bytes:,} bytes, {report.lines:,} line{'' if report.lines == 1 else 's'}"],
        ["format", report.format, ""],
        ["model", report.model, f"price sheet effective {sheet}"],
        ["encoding", report.encoding, "from the price sheet"],
        ["examples", report.examples, "valid examples; invalid ones are not counted"],
    ]
    if report.format == "chat":
        rows.append(["messages per example", f"{m.min} / {m.mean} / {m.max}" if report.examples else "-",
                     "min / mean / max"])
    rows += [
        ["total tokens", report.total_tokens, "cookbook estimate"],
        ["assistant tokens", report.assistant_tokens, ""],
        ["limit per example", limit, "tokens beyond it are truncated" if limit else "unknown for this model"],
        ["examples over the limit", report.examples_over_limit, ""],
        ["billing tokens", report.billing_tokens, "sum of min(limit, tokens) per example"],
        # Epochs of nothing mean nothing: a file with no valid example says so instead.
        ["epochs", report.epochs, report.epochs_rule] if report.examples else ["epochs", None, "no examples"],
        ["billed training tokens", report.billed_training_tokens, "epochs × billing tokens"],
        ["training price", None if report.training_per_1m is None else Price(report.training_per_1m),
         "USD per 1M training tokens"],
        ["training fee", None if report.training_usd is None else Money(report.training_usd), ""],
    ]
    tables = [Table(f"Dataset {report.file}", ["", "value", "note"], rows, list(report.warnings), name="dataset")]
    headers = ["per example", "min", "p10", "median", "mean", "p90", "max"]
    dist_rows: list[list[object]] = [["tokens", *report.tokens_per_example.to_dict().values()],
                                     ["assistant tokens", *report.assistant_tokens_per_example.to_dict().values()]]
    tables.append(Table("Tokens per example", headers, dist_rows, name="tokens per example"))
    if report.errors:
        tables.append(Table(
            "Errors",
            ["error", "count", "first lines", "message"],
            [[e.kind, e.count, ", ".join(map(str, e.lines)) or "-", e.message] for e in report.errors],
            name="errors",
        ))
    # CSV is one table, so the summary, the errors and the warnings share one: a section column
    # says which is which, and no format drops what the others show.
    csv_rows: list[list[object]] = [["summary", *row] for row in rows]
    csv_rows += [["error", e.kind, e.count, f"first lines {', '.join(map(str, e.lines)) or '-'}: {e.message}"]
                 for e in report.errors]
    csv_rows += [["warning", "", None, warning] for warning in report.warnings]
    csv = Table(None, ["section", "name", "value", "note"], csv_rows, name="dataset csv")
    return Output(report.to_dict(), tables, csv=csv)


def token_count(count: TokenCount) -> Output:
    """`costcalc tokens`: the model, its encoding, what was counted and the tokens."""
    from .tokens import COUNTING_RULE

    rows: list[list[object]] = [["model", count.model], ["encoding", count.encoding], ["input", count.kind]]
    if count.kind == "messages":
        rows += [["messages", count.messages], ["tokens", count.tokens], ["assistant tokens", count.assistant_tokens]]
    else:
        rows += [["characters", count.characters], ["tokens", count.tokens]]
    notes = [f"counted by the {COUNTING_RULE}"] if count.kind == "messages" else []
    return Output({"schema_version": SCHEMA_VERSION, **count.to_dict()}, [Table(None, ["", "value"], rows, notes)])


# --- compare -------------------------------------------------------------------------------------


CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "KRW": "₩"}


@dataclass(frozen=True)
class DisplayCurrency:
    """Amounts shown in another currency: `fx_rate` units of `code` per 1 USD.

    Only the display changes: every figure is computed and stored in USD, the currency of the
    price sheets.
    """

    code: str
    fx_rate: Decimal

    @classmethod
    def parse(cls, code: str | None, fx_rate: str | None, *,
              origins: tuple[str, str] = ("currency", "fx_rate")) -> DisplayCurrency | None:
        """The currency to show, from a code and a rate given as text (None when neither is given);
        a UsageError naming `origins` (where code and rate came from: the CLI passes its flags)."""
        from .errors import UsageError
        from .scenario import parse_amount

        if not (code or fx_rate):
            return None
        code_origin, rate_origin = origins
        if not (code and fx_rate):
            raise UsageError(f"{code_origin} and {rate_origin} go together: {code_origin} EUR {rate_origin} 0.92 "
                             "(EUR per 1 USD)")
        if not (len(code) == 3 and code.isalpha()):
            raise UsageError(f"{code_origin}: expected a 3-letter currency code such as EUR, not {code!r}")
        return cls(code.upper(), parse_amount(fx_rate, rate_origin, positive=True))

    def convert(self, usd: Decimal) -> Decimal:
        return Decimal(usd) * self.fx_rate

    @property
    def symbol(self) -> str:
        return CURRENCY_SYMBOLS.get(self.code, f"{self.code} ")

    def format(self, usd: Decimal) -> str:
        return format_usd(self.convert(usd), symbol=self.symbol)

    def to_dict(self, comparison: Comparison) -> dict:
        return {
            "code": self.code,
            "fx_rate": self.fx_rate,
            "meaning": f"{self.code} per 1 USD; every other amount in this document is USD",
            "total": {s.name: self.convert(s.total_usd) for s in comparison.strategies},
            "per_1k_requests": {s.name: None if s.per_1k_requests_usd is None else self.convert(s.per_1k_requests_usd)
                                for s in comparison.strategies},
        }


def comparison(result, *, monthly: bool = False, currency=None, budget=None, measured=None) -> Output:
    """`costcalc compare`: the answer in a sentence over a summary per strategy, then the
    assumptions and, with `monthly`, every strategy month by month.

    `result` is a `compare.Comparison`; `currency` a `DisplayCurrency` to show amounts
    in (JSON keeps USD and gains a `display_currency` block); `budget` a `compare.BudgetCheck`.
    """
    money = currency.format if currency is not None else format_usd
    code = currency.code if currency is not None else "USD"
    shown_code = currency.code if currency is not None else None  # a CSV names a currency other than USD

    def amount(usd):
        if usd is None:
            return None
        return Money(usd) if currency is None else Money.shown_as(currency.convert(usd), currency.symbol)

    a = result.assumptions
    rows = []
    for s in result.strategies:
        # A strategy that cannot be bought for the horizon has no saving to show: its total is of the
        # days it could serve.
        vs = "baseline" if s.is_baseline else (amount(s.vs_baseline_usd) if s.available else None)
        rows.append([s.name, s.type, s.model, amount(s.total_usd), amount(s.per_1k_requests_usd), vs,
                     _break_even_cell(s, a)])
    legend = (f"Totals over {result.horizon} in {code}, training and fixed costs included; "
              "per 1K requests = total ÷ requests × 1,000; vs baseline: negative = cheaper.")
    if not all(s.available for s in result.strategies):
        legend += (" A strategy unavailable for part of the horizon is priced for the days it could serve, "
                   "and per 1K of the requests it served; it has no saving to compare.")
    notes = [f"{s.name}: {s.break_even.describe(money)}." for s in result.strategies
             if s.break_even and s.available]
    notes += warning_lines(result)
    if currency is not None:
        notes.append(f"Amounts in {currency.code} at {plain(currency.fx_rate)} {currency.code} per USD; "
                     "they are computed in USD, and the JSON output keeps USD.")
    if budget is not None:
        notes.append(("Over budget: " if budget.over else "Budget: ") + budget.describe(money) + ".")
    summary = Table(result.answer(money),
                    ["strategy", "type", "model", "total", "per 1K requests", "vs baseline", "break-even"],
                    rows, notes, legend=legend, name="summary", currency=shown_code,
                    row_strategies=tuple(s.name for s in result.strategies))
    assumptions = _assumption_rows(result, money)
    if measured is not None:  # the traffic came from a usage history: say how it was measured
        assumptions.insert(2, ["measured traffic", measured.describe()])
        from .cost import cacheable_tokens

        if measured.cached_share and not cacheable_tokens(measured.prompt_tokens):
            assumptions.insert(3, ["measured cache", (
                f"{plain(round(measured.cached_share * 100, 1))}% of the history's input tokens were cached, but a "
                f"mean prompt of {format_count(measured.prompt_tokens)} tokens is below the 1,024-token minimum "
                "the cache serves, so the projection caches none of it (set cached_share to model it)")])
    tables = [summary, Table("Assumptions", ["assumption", "value"], assumptions, wrap=90, name="assumptions",
                             row_strategies=_row_strategies(result, assumptions))]
    if monthly:
        tables.append(_monthly_table(result, amount, currency))
    data = result.to_dict()
    if measured is not None:
        data["assumptions"]["measured_traffic"] = measured.to_dict()
    if currency is not None:
        data["display_currency"] = currency.to_dict(result)
    if budget is not None:
        data["budget"] = {"strategy": budget.strategy, "cheapest": budget.cheapest, "budget_usd": budget.budget_usd,
                          "total_usd": budget.total_usd, "over": budget.over}
    return Output(data, tables)


def warning_lines(result) -> list[str]:
    """Each warning once: one that every strategy shares (prices carried forward) is said for all."""
    by_message: dict[str, list[str]] = {}
    for name, w in result.warnings:
        by_message.setdefault(w.message, []).append(name)
    lines = []
    everyone = len(result.strategies) > 1
    for message, names in by_message.items():
        who = "Every strategy" if everyone and len(names) == len(result.strategies) else ", ".join(names)
        lines.append(f"Warning: {who}: {message}.")
    return lines


def _break_even_cell(s, a) -> str:
    be = s.break_even
    if not s.available:
        first = next((w.month for w in s.warnings if w.code in ("fine_tuning_closed", "model_shut_down")), None)
        return f"unavailable from {month_label(first)}" if first else "unavailable"
    if be is None:
        return "baseline"
    if be.month is not None:
        return f"{month_label(be.month)} (month {be.month_number})"
    if be.monthly_requests is not None:
        return f"not in {months_phrase(a.horizon_months)} (needs {be.monthly_requests:,} req/month)"
    return "never"


def _cache_rows(result: Comparison) -> list[list[object]]:
    """What the prompt cache served, per strategy, and why (the provider's minimum and increments)."""
    shares = {s.tokens.cached_share for s in result.strategies}
    if shares == {Decimal(0)}:
        return [["prompt cache", "none: cached_share is 0, every input token at the input price"]]
    rule = (f"OpenAI caches prompts of {CACHE_MIN_TOKENS:,} tokens or more, in {CACHE_INCREMENT_TOKENS}-token "
            "increments; a model without a cached-input price bills them as input")
    rows: list[list[object]] = [["prompt cache", rule]]
    for s in result.strategies:
        t = s.tokens
        if not t.cached_share:
            text = "none (cached_share 0)"
        elif not t.cacheable:
            text = (f"none: a {format_count(t.input)}-token prompt is below the {CACHE_MIN_TOKENS:,}-token minimum "
                    f"(cached_share {plain(t.cached_share)})")
        else:
            text = (f"{format_count(t.cached)} of {format_count(t.input)} input tokens per request at the "
                    f"cached-input price: {plain(t.cached_share * 100)}% of the {format_count(t.cacheable)} "
                    "cacheable ones")
        rows.append([f"prompt cache: {s.name}", text])
    return rows


# The assumptions rows about one strategy are labelled "<what>: <strategy name>".
_STRATEGY_ROWS = ("prompt cache", "tokens", "models", "training", "fixed", "note")


def _row_strategies(result: Comparison, rows: list[list[object]]) -> tuple[str | None, ...]:
    """The strategy each assumptions row is about, None for the rows about the whole scenario."""
    labels = {f"{what}: {s.name}": s.name for s in result.strategies for what in _STRATEGY_ROWS}
    return tuple(labels.get(row[0]) if isinstance(row[0], str) else None for row in rows)


def _assumption_rows(result: Comparison, money: Callable[[Decimal], str]) -> list[list[object]]:
    a = result.assumptions
    rows: list[list[object]] = [["scenario", a.scenario + (f": {a.title}" if a.title else "")],
            ["horizon", f"{months_phrase(a.horizon_months)}, {month_label(a.start_month)} to {month_label(a.end_month)}"]]
    first = f"{requests_phrase(a.first_month_requests)} in {month_label(a.start_month)}"
    if a.requests_per_day is not None:
        first = f"{plain(a.requests_per_day)} requests a day ({first})"
    growth = f", growing {plain(a.monthly_growth_pct)}% a month" if a.monthly_growth_pct else ", flat"
    total = sum((m.requests for m in result.strategies[0].months), Decimal(0))
    rows.append(["traffic", f"{first}{growth}; {requests_phrase(Decimal(total))} over the horizon"])
    rows.append(["Batch API share", f"{plain(a.batch_share * 100)}% of requests at batch prices"])
    rows += _cache_rows(result)
    for s in result.strategies:
        t = s.tokens
        text = f"{format_count(t.prompt)} prompt"
        if t.context:
            text += f" + {format_count(t.context)} retrieved context"
        text += f" + {format_count(t.completion)} completion tokens per request ({t.source}; {t.encoding or 'no encoding'})"
        if t.query:
            text += f"; {format_count(t.query)} query tokens embedded with {s.embedding_model}"
        rows.append([f"tokens: {s.name}", text])
    for s in result.strategies:
        text = _snapshot_periods(s)
        if s.type != "fine-tuned" and s.fine_tuned_rates:
            text += " at fine-tuned rates (an ft: model is already trained: no training fee)"
        rows.append([f"models: {s.name}", text])
    for s in result.strategies:
        if s.type == "fine-tuned":
            epochs = f", {s.epochs} epochs ({s.epochs_rule})" if s.epochs is not None else ""
            runs = _training_runs(s, money) if s.trainings else "no run can happen"
            rows.append([f"training: {s.name}", f"{s.training_source}{epochs}; {runs}" if s.training_source
                         else runs])
        fixed = [m.fixed_usd for m in s.months if m.fixed_usd]
        if s.fine_tuned_rates and any(m.fixed_usd for m in s.months):
            rows.append([f"fixed: {s.name}", _fine_tuned_fixed(s, money)])
        for line in s.billing:
            rows.append([f"billing: {s.name}", line])
        if s.type == "retrieval":
            text = f"vector database {money(fixed[0])} a month" if fixed else "no vector database cost"
            corpus = [month_label(m.month) for m, r in zip(s.months, s.rates) if r.corpus_usd]
            if corpus:
                when = "every month" if len(corpus) == len(s.months) > 1 else "in " + ", ".join(corpus)
                text += f"; corpus embedded {when} ({money(s.rates[0].corpus_usd)} the first time)"
            rows.append([f"fixed: {s.name}", text])
    for label, (file, start, end) in _sheet_periods(a).items():
        rows.append([f"price sheet {label}", f"{start} to {end} ({file})"])
    rows.append(["proration", a.proration])
    if a.counting_rule:
        rows.append(["token counting", a.counting_rule])
    rows.append(["prices from", shown_path(a.pricing_dir)])
    for s in result.strategies:
        rows += [[f"note: {s.name}", note] for note in s.notes]
    return rows


# Under the monthly table when its amounts, each rounded to the cent on its own, do not add up.
ROUNDING_NOTE = ("Each amount is rounded on its own; the components may not add up to the total, nor the "
                 "totals to the cumulative, by a cent.")

_COMPONENTS = ("input_usd", "output_usd", "retrieval_usd", "training_usd", "fixed_usd")


def _cent(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), ROUND_HALF_UP)


def _rounding_shows(result: Comparison, convert: Callable[[Decimal], Decimal]) -> bool:
    """Whether some month's components (or some strategy's totals so far), rounded to the cent one
    by one, add up to a cent more or less than the rounded total (or cumulative) shown beside them."""
    for s in result.strategies:
        cumulative = Decimal(0)
        for m in s.months:
            total = _cent(convert(m.total_usd))
            cumulative += total
            if sum(_cent(convert(getattr(m, c))) for c in _COMPONENTS) != total:
                return True
            if cumulative != _cent(convert(m.cumulative_usd)):
                return True
    return False


def _monthly_table(result: Comparison, amount: Callable[[Decimal], Money | None],
                   currency: DisplayCurrency | None) -> Table:
    rows = [[s.name, month_label(m.month), Count(m.requests), amount(m.input_usd), amount(m.output_usd), amount(m.retrieval_usd),
             amount(m.training_usd), amount(m.fixed_usd), amount(m.total_usd), amount(m.cumulative_usd)]
            for s in result.strategies for m in s.months]
    convert = currency.convert if currency is not None else Decimal
    notes = [ROUNDING_NOTE] if _rounding_shows(result, convert) else []
    return Table(f"Month by month ({currency.code if currency is not None else 'USD'})",
                 ["strategy", "month", "requests", "input", "output", "retrieval", "training", "fixed", "total",
                  "cumulative"], rows, notes, name="monthly", currency=currency.code if currency is not None else None,
                 row_strategies=tuple(s.name for s in result.strategies for _ in s.months))


def _training_runs(s, money) -> str:
    """'runs in 2023-09, 2023-12 on gpt-3.5-turbo-0613: 4,306 billing tokens × 3 epochs = 12,918 billed
    × $8.00 per 1M = $0.10 a run; 2024-06 on gpt-3.5-turbo-0125: ...' (identical runs grouped); a run
    billed per hour says hours × price; a provider's minimum or cap says so."""
    groups: dict[tuple, list[str]] = {}
    for run in s.trainings:
        if run.training_hours is not None:
            how = f"{plain(run.training_hours)} training hours × ${plain(run.training_per_hour, 2)} an hour"
            raw = run.training_hours * run.training_per_hour
        else:
            how = (f"{run.training_tokens:,} billing tokens × {run.epochs} epochs = {run.billed_tokens:,} billed "
                   f"× ${plain(run.training_per_1m, 2)} per 1M")
            raw = run.billed_tokens * run.training_per_1m / 1_000_000
        if run.bound == "minimum":
            how += f" = {money(raw)}, raised to the {money(run.bound_usd)} minimum per job:"
        elif run.bound == "maximum":
            how += f" = {money(raw)}, capped at {money(run.bound_usd)} per job:"
        else:
            how += " ="
        groups.setdefault((run.snapshot, how, run.training_usd), []).append(month_label(run.month))
    parts = [f"{', '.join(months)} on {snapshot}: {how} {money(fee)} a run"
             for (snapshot, how, fee), months in groups.items()]
    return "runs in " + "; ".join(parts)


def _fine_tuned_fixed(s, money) -> str:
    """'upkeep $100.00 a month; hosting $1,264.80 in 2026-12 (1 deployment, 744 h × $1.70), $14,904.00 over
    the horizon; storage ...': what a fine-tuned model costs with no traffic."""
    upkeep = s.months[0].fixed_usd - s.months[0].hosting_usd - s.months[0].storage_usd
    parts = [f"upkeep {money(upkeep)} a month"] if upkeep else []
    hosted = [m for m in s.months if m.hosting_usd]
    if hosted:
        total = sum((m.hosting_usd for m in hosted), Decimal(0))
        parts.append(f"hosting {money(hosted[0].hosting_usd)} in {month_label(hosted[0].month)}, "
                     f"{money(total)} over the horizon")
    stored = [m for m in s.months if m.storage_usd]
    if stored:
        parts.append(f"storage {money(stored[0].storage_usd)} a month")
    return "; ".join(parts) or "none"

def _snapshot_periods(s) -> str:
    """'gpt-3.5-turbo-0613 (2023-09 to 2024-05), gpt-3.5-turbo-0125 (2024-05 to 2024-08)'."""
    periods: dict[str, list[str]] = {}
    for m in s.months:
        for snapshot in m.snapshots:
            periods.setdefault(snapshot, []).append(month_label(m.month))
    return ", ".join(f"{name} ({months[0]})" if len(months) == 1 else f"{name} ({months[0]} to {months[-1]})"
                     for name, months in periods.items())


def _sheet_periods(a) -> dict:
    """'2023-08-22' (another provider's 'azure/2026-05-01') -> (file, first day used, last day used)."""
    periods: dict = {}
    for month in a.price_sheets:
        for span in month.spans:
            start = month.month.replace(day=span.first_day)
            end = month.month.replace(day=span.first_day + span.days - 1)
            label = span.effective.isoformat() if "/" not in span.file else f"{span.provider}/{span.effective}"
            file, first, _ = periods.get(label, (span.file, start, end))
            periods[label] = (file, first, end)
    return {k: (f, s.isoformat(), e.isoformat()) for k, (f, s, e) in periods.items()}



# --- usage ------------------------------------------------------------------------------------------


def usage_problems(history) -> list[str]:
    """Every problem of the files read (the models no sheet prices among them), one line each."""
    return [str(problem) for problem in history.problems]


def usage(history) -> Output:
    """`costcalc usage`: per month and model, the traffic and its cost at the prices in force each
    day; with a Costs file, what was billed and the difference; what could not be priced."""
    rows = []
    for r in history.rows:
        per = Decimal(r.requests) if r.requests else None
        rows.append([
            month_label(r.month), r.model, r.snapshot or "-", Count(r.requests), Count(r.input_tokens),
            Count(r.cached_input_tokens), Count(r.output_tokens),
            Count(Decimal(r.input_tokens) / per) if per else None, Count(Decimal(r.output_tokens) / per) if per else None,
            Share(Decimal(r.batch_requests) / per) if per else None,
            Share(Decimal(r.cached_input_tokens) / r.input_tokens) if r.input_tokens else None,
            Money(r.cost_usd),
        ])
    span = (f"{history.first_day.isoformat()} to {history.last_day.isoformat()}"
            if history.first_day and history.last_day else "no data")
    notes = [f"Total replayed: {format_usd(history.total_usd)} at the prices in force each day ({span})."]
    notes += usage_problems(history)
    tables = [Table(f"Usage replayed at the prices in force each day ({span})",
                    ["month", "model", "priced as", "requests", "input", "cached", "output", "input/request",
                     "output/request", "batch", "cached share", "cost"], rows, notes, name="usage",
                    legend="input counts cached tokens, as the Usage API does; cost in USD, exact until shown")]
    if history.billed:
        replayed = history.replayed()
        billed_rows = [[month_label(m), Money(replayed.get(m, Decimal(0))), Money(b), Money(history.difference[m])]
                       for m, b in sorted(history.billed.items())]
        differing = [item for item in history.line_items if item.difference_usd]
        item_notes = [f"{month_label(i.month)} {i.line_item}: billed {format_usd(i.billed_usd)}, replayed "
                      f"{format_usd(i.replayed_usd)} ({'+' if i.difference_usd > 0 else ''}"
                      f"{format_usd(i.difference_usd)})" for i in differing]
        tables.append(Table("Replayed beside what OpenAI billed (Costs API)", ["month", "replayed", "billed",
                                                                              "difference"], billed_rows,
                            item_notes or ["Every line item agrees."], name="billed",
                            legend="difference = replayed − billed"))
    return Output(history.to_dict(), tables)
