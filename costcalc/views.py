"""Turns price-catalogue and cost results into `Output`s (JSON data plus tables) for the renderer.

Kept apart from `pricing` and `cost` so those stay pure data and arithmetic, and apart from `cli`
so a script can build the same JSON the CLI prints.
"""

from __future__ import annotations

from .cost import UsageCost
from .pricing import HistoryEntry, ModelPrice, PriceBook, PriceSheet, SheetDiff
from .render import Money, Output, Price, Table, format_usd

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


def sheet_ref(sheet: PriceSheet) -> dict:
    return {"effective": sheet.revision, "file": sheet.path.name, "provider": sheet.provider,
            "checked": sheet.checked.isoformat()}


def model_data(model: ModelPrice, sheet: PriceSheet, requested: str | None = None) -> dict:
    """The `prices show --format json` contract: model, effective and every price per 1M tokens."""
    ft = model.fine_tuning
    data = {
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
    data.update(model.prices())
    cited = list(dict.fromkeys([*model.sources, *(ft.sources if ft else ())]))
    data["sources"] = [{"key": k, "title": sheet.sources[k].title, "url": sheet.sources[k].url} for k in cited]
    data["notes"] = [n for n in (model.note, ft.note if ft else "") if n]
    return data


def prices_list(sheet: PriceSheet) -> Output:
    models = [model_data(m, sheet) for m in sorted(sheet.models.values(), key=lambda m: m.name)]
    rows = [
        [m["model"], m["kind"], *[Price(m[k]) if m[k] is not None else None for k in PRICE_COLUMNS]]
        for m in models
    ]
    aliases = ", ".join(f"{a} → {t}" for a, t in sorted(sheet.aliases.items()))
    table = Table(
        title=f"OpenAI prices in force from {sheet.revision} (USD per 1M tokens; {sheet.path.name})",
        headers=["model", "kind", *PRICE_COLUMNS.values()],
        rows=rows,
        notes=[f"Aliases: {aliases}" if aliases else "Aliases: none",
               "'-' means the sheet lists no such price (not offered, or not confirmed by a source)."],
    )
    data = {"price_sheet": sheet_ref(sheet), "summary": sheet.summary, "aliases": dict(sheet.aliases),
            "models": models}
    return Output(data, [table])


def price_show(model: ModelPrice, sheet: PriceSheet, requested: str) -> Output:
    data = model_data(model, sheet, requested)
    rows = [[name.removesuffix("_per_1m").replace("_", " "), Price(value) if value is not None else None]
            for name, value in model.prices().items()]
    title = f"{model.name} in the price sheet effective {sheet.revision} (USD per 1M tokens)"
    if requested != model.name:
        title += f"; {requested!r} resolves to {model.name}"
    facts = [
        f"kind: {model.kind}; encoding: {model.encoding or '-'}; context window: "
        f"{model.context_window or '-'}; max tokens per training example: {data['max_tokens_per_example'] or '-'}",
        *[f"source {s['key']}: {s['title']} <{s['url']}>" for s in data["sources"]],
        *[f"note: {n}" for n in data["notes"]],
    ]
    return Output(data, [Table(title, ["price", "USD per 1M"], rows, facts)])


def price_history(name: str, entries: list[HistoryEntry]) -> Output:
    rows, series = [], []
    for entry in entries:
        prices = entry.model.prices()
        rows.append([entry.sheet.revision, entry.model.name,
                     *[Price(prices[k]) if prices[k] is not None else None for k in PRICE_COLUMNS]])
        series.append({"effective": entry.sheet.revision, "model": entry.model.name, **prices})
    table = Table(f"Price history of {name} (USD per 1M tokens; snapshot the name meant on each date)",
                  ["effective", "snapshot", *PRICE_COLUMNS.values()], rows)
    return Output({"model": name, "history": series}, [table])


def sheet_diff(diff: SheetDiff) -> Output:
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
        "old": sheet_ref(diff.old),
        "new": sheet_ref(diff.new),
        "added_models": list(diff.added_models),
        "removed_models": list(diff.removed_models),
        "changed_prices": [{"model": c.model, "price": c.price, "old": c.old, "new": c.new}
                           for c in diff.changed_prices],
        "changed_aliases": [{"alias": a, "old": o, "new": n} for a, o, n in diff.changed_aliases],
    }
    return Output(data, [table])


def validation(book: PriceBook) -> Output:
    rows = [[s.path.name, s.revision, len(s.models), len(s.aliases), len(s.sources)] for s in book.sheets]
    table = Table(f"All {len(book.sheets)} price sheets in {book.directory} are valid",
                  ["file", "effective", "models", "aliases", "sources"], rows)
    return Output({"valid": True, "directory": str(book.directory),
                   "sheets": [sheet_ref(s) for s in book.sheets]}, [table])


def estimate(cost: UsageCost, requests: int, per_request_tokens: dict, training: dict | None) -> Output:
    usage_usd = cost.total_usd
    training_usd = training["training_usd"] if training else 0
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
    if training:
        rows.append([f"training ({training['epochs']} epochs)", training["billed_tokens"],
                     Price(training["training_per_1m"]), Money(training_usd)])
        if training.get("epochs_note"):
            notes.append(training["epochs_note"])
    rows.append(["total", None, None, Money(total)])
    if requests:
        notes.append(f"Per request: {format_usd(usage_usd / requests)} (usage only)")
    title = (f"{cost.model}, {mode} pricing, sheet effective {cost.effective.isoformat()}: "
             f"{requests:,} request{'s' if requests != 1 else ''}")
    data = {
        "model": cost.model,
        "effective": cost.effective.isoformat(),
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
        "training": training,
        "training_usd": training_usd,
        "total_usd": total,
    }
    return Output(data, [Table(title, ["component", "tokens", "USD per 1M", "cost"], rows, notes)])
