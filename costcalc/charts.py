"""Charts of a comparison, a dataset and the price history, as matplotlib Figures.

Each `plot_*` function takes a result object and returns a `matplotlib.figure.Figure` drawn on the
headless Agg canvas, never through pyplot: no window, no global figure list to leak, the same in a
notebook, a script and the CLI. matplotlib is imported inside the functions so `import costcalc`
stays light. Money stays `Decimal` in the results; it becomes float only here, on its way to
matplotlib, and every label a person reads is formatted as money ($1.2k on an axis, $3,400 in a
note).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
from collections.abc import Callable, Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .dataset import DatasetReport
    from .pricing import PriceBook

WIDE = (10.0, 5.6)  # inches: a landscape chart that reads on an A4/Letter page and on GitHub
DPI = 150  # the PNG default: 1500 × 840 pixels for a WIDE chart

# One colour per role, so a series keeps its colour across charts (Okabe-Ito, safe for colour blindness).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
COMPONENT_COLOURS = {
    "training": "#CC79A7",
    "input": "#0072B2",
    "output": "#56B4E9",
    "retrieval": "#009E73",
    "fixed": "#E69F00",
}

_STYLE = {
    "font.size": 10,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    # TrueType (42) rather than Type 3 fonts in PDFs: text stays selectable and extractable.
    "pdf.fonttype": 42,
    # No random hash salt in SVG ids and no date stamp, so the same input makes the same file.
    "svg.hashsalt": "costcalc",
    # "$12 / $16" is money, not mathtext between two dollar signs.
    "text.parse_math": False,
}


# --- money on charts -----------------------------------------------------------------------------


def money_tick(value: float) -> str:
    """A compact axis label: $0, $0.50, $80, $950, $1.2k, $15k, $2.5M (trailing .0 dropped)."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            number = f"{value / limit:,.1f}".removesuffix(".0")
            return f"{sign}${number}{suffix}"
    if value == 0:
        return "$0"
    if value < 10 and value != int(value):
        return f"{sign}${value:,.2f}"
    return f"{sign}${value:,.0f}"


def money_text(amount: Decimal | float) -> str:
    """A full amount for a note on a chart: $3,400 from a thousand dollars up, $12.50 below it."""
    amount = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount >= 1000:
        return f"{sign}${amount.quantize(Decimal(1), ROUND_HALF_UP):,}"
    if amount >= Decimal("0.01") or amount == 0:
        return f"{sign}${amount.quantize(Decimal('0.01'), ROUND_HALF_UP):,}"
    return f"{sign}${amount.normalize():f}"


def _money_axis(axis) -> None:
    """Money ticks with one number of decimals per axis ($0.50, $1.00, $1.50, not $0.50, $1, $1.50)."""
    from matplotlib.ticker import Formatter

    class MoneyFormatter(Formatter):
        cents = False

        def set_locs(self, locs):
            super().set_locs(locs)
            self.cents = any(abs(v) < 1000 and round(v, 6) != round(v) for v in locs)

        def __call__(self, value, pos=None):
            if self.cents:
                return ("-" if value < 0 else "") + f"${abs(value):,.2f}"
            return money_tick(value)

    axis.set_major_formatter(MoneyFormatter())


def _date_axis(axis, start: dt.date, end: dt.date) -> None:
    """Ticks on whole months, each labelled with month and year ("Oct 2023"), never a bare "Jul"."""
    import matplotlib.dates as mdates

    months = (end.year - start.year) * 12 + end.month - start.month
    step = next(s for s in (1, 2, 3, 6, 12, 24, 60) if months / s <= 10)
    axis.set_major_locator(mdates.MonthLocator(bymonth=range(1, 13, step) if step < 12 else (1,),
                                               interval=max(1, step // 12)))
    if step >= 12:
        axis.set_major_formatter(mdates.DateFormatter("%Y"))
        return

    def label(value, pos):
        # The year under the first tick and under each January; the other ticks say the month only.
        date = mdates.num2date(value)
        return date.strftime("%b\n%Y") if pos == 0 or date.month <= step else date.strftime("%b")

    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(label))


def _float(value: Decimal | int | None) -> float:
    """Decimal to float for matplotlib only; None (no price) becomes NaN, a gap in the line."""
    return float("nan") if value is None else float(value)


# --- figures -------------------------------------------------------------------------------------


@contextlib.contextmanager
def style() -> Iterator[None]:
    """costcalc's chart style, for drawing and saving (fonts in PDFs are chosen at save time)."""
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        yield


def new_figure(size: tuple[float, float] = WIDE) -> Figure:
    """A Figure on the Agg canvas with constrained layout (labels and outside legends never clip)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _title(axes: Axes, title: str, subtitle: str = "") -> None:
    """A bold title with a smaller grey line under it saying what the chart is computed from."""
    axes.set_title(title, loc="left", pad=8 + 13 * (subtitle.count("\n") + 1) if subtitle else 8)
    if subtitle:
        axes.text(0, 1.015, subtitle, transform=axes.transAxes, fontsize=9, color="#555555",
                  va="bottom", ha="left")


def _legend_outside(figure: Figure, axes: Axes, **kwargs) -> None:
    """The legend right of the plot, so it never covers a line."""
    handles, labels = axes.get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="outside right upper", **kwargs)


# --- price history ---------------------------------------------------------------------------------

# Price names from `ModelPrice.prices()` -> (label, colour, line style).
_HISTORY_SERIES = {
    "input_per_1m": ("base input", COLOURS[0], "-"),
    "output_per_1m": ("base output", COLOURS[5], "-"),
    "ft_input_per_1m": ("fine-tuned input", COLOURS[1], "--"),
    "ft_output_per_1m": ("fine-tuned output", COLOURS[4], "--"),
    "training_per_1m": ("training", COLOURS[3], ":"),
}


def plot_price_history(book: PriceBook, model: str, *, until: dt.date | None = None) -> Figure:
    """A model's base and fine-tuned prices (USD per 1M tokens) as steps over the sheets' dates.

    `model` may be an alias: each sheet prices the snapshot the alias meant on its date, and a
    change of snapshot is marked. The last step runs to `until` (default: a little past the newest
    sheet, so the prices in force today show as a segment, not a point).
    """
    entries = book.history(model)
    dates = [e.sheet.effective for e in entries]
    span = max((dates[-1] - dates[0]).days, 90)
    end = until or dates[-1] + dt.timedelta(days=round(span * 0.08))
    with style():
        figure = new_figure()
        axes = figure.add_subplot()
        plotted = 0
        for name, (label, colour, line) in _HISTORY_SERIES.items():
            values = [e.model.prices()[name] for e in entries]
            if all(v is None for v in values):
                continue
            ys = [_float(v) for v in values]
            axes.step([*dates, end], [*ys, ys[-1]], where="post", label=label, color=colour, linestyle=line,
                      linewidth=2)
            axes.plot(dates, ys, "o", color=colour, markersize=3.5)
            plotted += 1
        # Mark where the name starts meaning another snapshot (an alias moving on).
        for before, after in zip(entries, entries[1:]):
            if after.model.name != before.model.name:
                axes.axvline(after.sheet.effective, color="#888888", linewidth=0.8, linestyle=":")
                axes.annotate(f"→ {after.model.name}", (after.sheet.effective, 1), xycoords=("data", "axes fraction"),
                              xytext=(3, -3), textcoords="offset points", fontsize=8, color="#555555",
                              va="top", ha="left")
        axes.set_xlim(dates[0] - dt.timedelta(days=round(span * 0.02)), end)
        axes.set_ylim(bottom=0)
        _date_axis(axes.xaxis, dates[0], end)
        _money_axis(axes.yaxis)
        axes.set_ylabel("USD per 1M tokens")
        axes.set_xlabel("price sheet effective date")
        first = entries[0].model.name
        names = list(dict.fromkeys(e.model.name for e in entries))
        subtitle = (f"{len(entries)} price sheets, {dates[0].isoformat()} to {dates[-1].isoformat()}; "
                    + (f"snapshot {first}" if len(names) == 1 else f"snapshots {', '.join(names)}"))
        _title(axes, f"Price history of {model}", subtitle)
        _legend_outside(figure, axes)
        if not plotted:  # pragma: no cover - a sheet always has some price for a model it lists
            axes.text(0.5, 0.5, "no prices", transform=axes.transAxes, ha="center")
    return figure


# --- dataset ---------------------------------------------------------------------------------------


def example_tokens(report: DatasetReport, progress: Callable[[int, int | None], None] | None = None) -> list[int]:
    """Tokens of every valid example of the report's file, in file order.

    A workaround: `DatasetReport` keeps the distribution of tokens per example, not the counts
    themselves, which a histogram needs. Each line is scanned again by `scan_dataset` itself, so
    the same examples are valid and counted by the same rule (the counts sum to
    `report.total_tokens`). `progress(bytes_done, bytes_total)` is called as lines are read.
    """
    import io

    from .dataset import scan_dataset
    from .errors import UsageError
    from .pricing import ModelPrice

    if report.file == "-" or not os.path.isfile(report.file):
        raise UsageError(f"{report.file}: the tokens-per-example histogram reads the dataset file again, "
                         "which needs a file (not stdin)")
    # Only the tokenizer and the format matter for counting, not the prices.
    model = ModelPrice(report.model, report.format, report.price_sheet_effective, encoding=report.encoding)
    counts, done, total = [], 0, os.path.getsize(report.file)
    with open(report.file, "rb") as lines:
        for number, line in enumerate(lines):
            if number == 0 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            done += len(line)
            if line.strip():
                scanned = scan_dataset(io.BytesIO(line), model_price=model, workers=1)
                if scanned.examples:
                    counts.append(scanned.total_tokens)
            if progress and number % 1000 == 0:
                progress(done, total)
    if progress:
        progress(total, total)
    return counts


def plot_tokens_histogram(report: DatasetReport, tokens: Sequence[int] | None = None) -> Figure:
    """How many examples have how many tokens, with the per-example limit marked.

    `tokens` are the counts per example (default: counted again from the report's file, see
    `example_tokens`). Examples over the limit, which OpenAI truncates, are drawn in red. When the
    limit is far beyond the longest example, it is named in a note instead of stretching the axis.
    """
    import numpy as np

    counts = np.asarray(list(tokens) if tokens is not None else example_tokens(report), dtype=float)
    limit = report.max_tokens_per_example
    subtitle = f"{report.model} ({report.encoding}), {report.total_tokens:,} tokens in all, {report.epochs} epochs"
    with style():
        figure = new_figure()
        axes = figure.add_subplot()
        if len(counts):
            low, high = int(counts.min()), int(counts.max())
            show_limit = limit is not None and limit <= high * 1.5
            top = max(high, limit) if show_limit else high
            start = 0 if show_limit else low
            # Whole-token bins, so a bar never straddles two counts unevenly.
            width = max(1, math.ceil((top - start + 1) / min(40, max(8, 2 * math.isqrt(len(counts))))))
            bins = np.arange(start, top + width + 1, width)
            within = counts if limit is None else counts[counts <= limit]
            axes.hist(within, bins=bins, color=COLOURS[0], edgecolor="white", linewidth=0.5,
                      label="examples" if limit is None else "examples within the limit")
            over = 0 if limit is None else int((counts > limit).sum())
            if over:
                axes.hist(counts[counts > limit], bins=bins, color=COLOURS[1], edgecolor="white", linewidth=0.5,
                          label=f"examples over the limit ({over:,}, truncated)")
            median = float(np.median(counts))
            axes.axvline(median, color="#333333", linewidth=1, linestyle="--", label=f"median {median:,.0f} tokens")
            if show_limit:
                axes.axvline(limit, color=COLOURS[1], linewidth=2, label=f"limit {limit:,} tokens per example")
                axes.set_xlim(left=0)
            subtitle += f"\n{len(counts):,} examples of {low:,} to {high:,} tokens"
            if limit is None:
                subtitle += "; no per-example limit is known for this model"
            elif not show_limit:
                subtitle += f"; the limit of {limit:,} tokens per example is far beyond the longest"
        else:
            axes.text(0.5, 0.5, "no valid examples", transform=axes.transAxes, ha="center", va="center")
        axes.set_xlabel("tokens per example (cookbook count)")
        axes.set_ylabel("examples")
        from matplotlib.ticker import MaxNLocator, StrMethodFormatter

        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        _title(axes, f"Tokens per training example: {_short_path(report.file)}", subtitle)
        _legend_outside(figure, axes)
    return figure


def _short_path(path: str) -> str:
    return os.path.basename(path) or path


# --- saving ----------------------------------------------------------------------------------------


def save_png(figure: Figure, path: str | os.PathLike[str], *, dpi: int = DPI) -> Path:
    """Write the figure as a PNG of exactly figsize × dpi pixels, atomically; returns the path.

    No timestamp or version goes in, so the same chart is the same bytes.
    """
    from .atomic import atomic_path

    with style(), atomic_path(path) as temp:
        # No bbox_inches="tight": it would change the pixel size from chart to chart.
        figure.savefig(temp, format="png", dpi=dpi, metadata={"Software": None})
    return Path(path)


def pixel_size(figure: Figure, dpi: int = DPI) -> tuple[int, int]:
    """The (width, height) in pixels that `save_png` writes for this figure."""
    width, height = figure.get_size_inches()
    return round(width * dpi), round(height * dpi)


__all__ = [
    "COMPONENT_COLOURS",
    "DPI",
    "example_tokens",
    "WIDE",
    "money_text",
    "money_tick",
    "new_figure",
    "pixel_size",
    "plot_price_history",
    "plot_tokens_histogram",
    "save_png",
    "style",
]
