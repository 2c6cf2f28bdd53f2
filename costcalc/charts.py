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
import functools
import math
import os
from collections.abc import Iterator, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .months import month_label, months_phrase
from .prose import requests_phrase
from .text import drawable, font_families

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

    from .compare import Comparison, StrategyResult
    from .dataset import DatasetReport
    from .pricing import PriceBook
    from .sensitivity import SensitivityGrid

WIDE = (10.0, 5.6)  # inches: a landscape chart that reads on an A4/Letter page and on GitHub
DPI = 150  # the PNG default: 1500 × 840 pixels for a WIDE chart

# One colour per role, so a series keeps its colour across charts (Okabe-Ito, safe for colour blindness).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
BASELINE_COLOUR = "#333333"
FOCUS_COLOUR = "#D55E00"

# Strategies a comparison chart draws at most, one colour each (the baseline's near-black among
# them): more lines would be a tangle no one reads. The rest are grouped and named in a note.
MOST_DRAWN = len(COLOURS)

# Characters of user text a chart shows (longer is cut with an ellipsis): a name in a legend entry,
# a panel title or a note; a scenario title in a subtitle; a file name in a title.
NAME_LIMIT = 40
TITLE_LIMIT = 100
FILE_LIMIT = 60
COMPONENT_COLOURS = {
    "training": "#CC79A7",
    "input": "#0072B2",
    "output": "#56B4E9",
    "retrieval": "#009E73",
    "fixed": "#E69F00",
}

_STYLE: dict[RcKeyType, Any] = {
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
    # No random hash salt in SVG ids and no date stamp, so the same input makes the same file.
    "svg.hashsalt": "costcalc",
    # Layout engines are chosen per figure: a figure laid out once has its engine set to None to be
    # drawn as laid out, which these settings would turn back into a tight or constrained layout.
    "figure.autolayout": False,
    "figure.constrained_layout.use": False,
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
    """A full amount for a note on a chart: $3,400 from a thousand dollars up, else as the tables
    show it ($12.50, $0.675)."""
    from .render import format_usd

    amount = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
    if abs(amount) >= 1000:
        sign = "-" if amount < 0 else ""
        return f"{sign}${abs(amount).quantize(Decimal(1), ROUND_HALF_UP):,}"
    return format_usd(amount)


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
#
# Every plot function draws into `figure` when given one (a page of a PDF report, a figure of a
# notebook) and otherwise into a new WIDE figure; either way it returns the figure.


@contextlib.contextmanager
def style() -> Iterator[None]:
    """costcalc's chart style, for drawing and saving (fonts in PDFs are chosen at save time)."""
    import matplotlib

    # DejaVu Sans, then the installed fonts for what it lacks (CJK, emoji): see costcalc.text.
    settings: dict[RcKeyType, Any] = {**_STYLE, "font.family": font_families(), "pdf.fonttype": _pdf_fonttype()}
    with matplotlib.rc_context(settings):
        yield


@functools.cache
def _pdf_fonttype() -> int:
    """Type 3 fonts in PDFs from matplotlib 3.11 on, TrueType (42) before.

    Text must stay selectable and extractable. Before 3.11 only TrueType did that for every
    character (a Type 3 font held 256 characters, the others were drawn as shapes). From 3.11 on
    Type 3 fonts are split into as many subsets as needed, each with its Unicode map, and they are
    embedded without fontTools, which subsets a TrueType font in about 0.1 s per font and subset:
    a third of a second of every report."""
    import matplotlib

    return 3 if matplotlib.__version_info__[:2] >= (3, 11) else 42


def new_figure(size: tuple[float, float] = WIDE) -> Figure:
    """A Figure on the Agg canvas with constrained layout (labels and outside legends never clip)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _drawable_texts(figure: Figure) -> None:
    """Every text on the figure as `costcalc.text.drawable` makes it: on one line, in glyphs the
    fonts have. Run as each chart is finished, it covers text from anywhere (a name, a model, a
    file name, a price sheet's snapshot) before matplotlib measures or draws it."""
    from matplotlib.text import Text

    for text in figure.findobj(Text):
        lines = text.get_text().split("\n")  # the charts' own line breaks stay; none come from user text
        text.set_text("\n".join(drawable(line, weight=text.get_fontweight()) for line in lines))


def _title(axes: Axes, title: str, subtitle: str = "") -> None:
    """A bold title with a smaller grey line under it saying what the chart is computed from.

    A subtitle line longer than about 130 characters (the width of a WIDE chart at 9 points) is
    wrapped: one line overflowing would make constrained layout squeeze the plot to a sliver."""
    import textwrap

    subtitle = "\n".join(textwrap.fill(line, 130, break_long_words=False, break_on_hyphens=False)
                         for line in subtitle.split("\n")) if subtitle else subtitle
    axes.set_title(title, loc="left", pad=8 + 13 * (subtitle.count("\n") + 1) if subtitle else 8)
    if subtitle:
        axes.text(0, 1.015, subtitle, transform=axes.transAxes, fontsize=9, color="#555555",
                  va="bottom", ha="left")


def _legend_below(figure: Figure, axes: Axes, note: str | None = None) -> None:
    """The legend under the plot, outside it, so it never covers a line and the plot keeps the
    full width; as many entries to a row as fit. A `note` goes under the entries."""
    handles, labels = axes.get_legend_handles_labels()
    if not handles:
        return
    # About 110 characters of legend fit across a WIDE figure at the legend's font size.
    columns = len(labels)
    while columns > 1 and sum(len(l) + 6 for l in labels[:columns]) > 110:
        columns -= 1
    # The note rides in the legend's title: constrained layout makes room for both together.
    figure.legend(handles, labels, loc="outside lower center", ncols=columns,
                  title=_wrap_note(note) if note else None, title_fontsize=8.5)


def _wrap_note(note: str) -> str:
    """A note in lines that fit across a WIDE chart (about 130 characters at 8.5 points)."""
    import textwrap

    return textwrap.fill(note, 130, break_long_words=False, break_on_hyphens=False)


# --- comparison --------------------------------------------------------------------------------------

# Of three strategies or more, one ending above 3× the next most expensive runs off the top of the chart.
OFF_SCALE = 3


def _month_axis(axes: Axes, months: Sequence[dt.date], before: Sequence[dt.date] = ()) -> None:
    """Month i of the horizon at x = i (1-based), labelled "Sep 2023"; at most about 12 labels. The
    months `before` it (a usage history) sit at x = 0, -1, ... to its left."""
    from matplotlib.ticker import FixedLocator, FuncFormatter

    every = [*before, *months]
    step = max(1, math.ceil(len(every) / 12))
    ticks = list(range(1 - len(before), len(months) + 1, step))

    def label(value, _pos):
        index = int(round(value)) - 1 + len(before)
        if not 0 <= index < len(every):
            return ""
        month = every[index]
        first = index == ticks[0] - 1 + len(before) or month.month <= step
        return month.strftime("%b\n%Y") if first else month.strftime("%b")

    axes.xaxis.set_major_locator(FixedLocator(ticks))
    axes.xaxis.set_major_formatter(FuncFormatter(label))
    axes.set_xlim(0.4 - len(before), len(months) + 0.6)


def drawn_strategies(comparison: Comparison) -> tuple[list[StrategyResult], list[StrategyResult]]:
    """(drawn, not drawn): the `MOST_DRAWN` strategies that matter most, in the comparison's order,
    and the others, cheapest first.

    The baseline, the cheapest and the fine-tuned strategy come first, then the cheapest of the rest.
    """
    results = list(comparison.strategies)
    if len(results) <= MOST_DRAWN:
        return results, []
    by_total = sorted(results, key=lambda s: s.total_usd)  # stable: equal totals keep the scenario's order
    chosen: dict[str, StrategyResult] = {}
    for result in [comparison.baseline_result, comparison.cheapest, comparison.focus, *by_total]:
        if result is not None and len(chosen) < MOST_DRAWN:
            chosen.setdefault(result.name, result)
    return [s for s in results if s.name in chosen], [s for s in by_total if s.name not in chosen]


def _strategy_colours(comparison: Comparison, drawn: Sequence[StrategyResult]) -> dict[str, str]:
    """The baseline in near-black, the fine-tuned strategy in vermilion, the rest in order.

    There are enough colours: at most `MOST_DRAWN` strategies are drawn, and vermilion goes to the
    others when no strategy is fine-tuned."""
    focus = comparison.focus
    pool = [c for c in COLOURS if c not in ("#000000", FOCUS_COLOUR)] + ([FOCUS_COLOUR] if focus is None else [])
    others = iter(pool)
    colours = {}
    for result in drawn:
        if result.is_baseline:
            colours[result.name] = BASELINE_COLOUR
        elif focus is not None and result.name == focus.name:
            colours[result.name] = FOCUS_COLOUR
        else:
            colours[result.name] = next(others)
    return colours


def _others(rest: Sequence[StrategyResult]) -> str:
    """'1 other strategy' or '1,992 other strategies'."""
    return f"{len(rest):,} other strateg{'y' if len(rest) == 1 else 'ies'}"


def _not_drawn_note(rest: Sequence[StrategyResult], named: int = 5) -> str:
    """'Not drawn, 2 other strategies: A ($1,200), B ($3,400); every strategy is in the tables',
    the first `named` of them (the cheapest) by name, then how many more."""
    names = ", ".join(f"{drawable(s.name, NAME_LIMIT)} ({money_text(s.total_usd)})" for s in rest[:named])
    if len(rest) > named:
        names += f" and {len(rest) - named:,} more"
    order = ", cheapest first" if len(rest) > 1 else ""
    return f"Not drawn, {_others(rest)}{order}: {names}; every strategy is in the tables"


# The cumulative chart's legend entry for the months a strategy cannot be served.
NOT_SERVABLE = "not servable that month (all or part of it)"


def plot_cumulative(comparison: Comparison, *, figure: Figure | None = None,
                    history: Sequence[tuple[dt.date, Decimal]] = ()) -> Figure:
    """Cumulative cost of every strategy month by month, with the break-even point marked.

    Each line ends at the strategy's total over the horizon (named in the legend). A strategy
    far more expensive than the others (GPT-4 at 27× the baseline) would flatten every other
    line, so it runs off the top and its total is written where it leaves the chart. `history`,
    (month, replayed cost) of the months before the horizon (`compare --usage`), is drawn to the
    left of it, cumulated, in grey.
    """
    a = comparison.assumptions
    months = list(a.months)
    xs = list(range(1, len(months) + 1))
    drawn, rest = drawn_strategies(comparison)
    colours = _strategy_colours(comparison, drawn)
    focus = comparison.focus
    totals = sorted(float(s.total_usd) for s in drawn)
    past = [m for m, _ in history]
    past_cumulative = [float(sum((c for _, c in history[:i + 1]), Decimal(0))) for i in range(len(history))]
    # The top of the chart: the most expensive strategy, unless it dwarfs the next one.
    top = max(totals[-1], *past_cumulative) if past_cumulative else totals[-1]
    if len(totals) > 2 and totals[-1] > OFF_SCALE * totals[-2] > 0:
        top = totals[-2]
    with style():
        figure = new_figure() if figure is None else figure
        axes = figure.add_subplot()
        unservable = False
        for result in drawn:
            ys = [float(m.cumulative_usd) for m in result.months]
            name = drawable(result.name, NAME_LIMIT)
            label = f"{name}: {money_text(result.total_usd)}" + (" (baseline)" if result.is_baseline else "")
            emphasis = result.is_baseline or (focus is not None and result.name == focus.name)
            style_: dict[str, Any] = {"linewidth": 2.4 if emphasis else 1.6, "color": colours[result.name],
                      "zorder": 3 if emphasis else 2, "markersize": 3.5}
            served = [m.served for m in result.months]
            if all(served):
                axes.plot(xs, ys, marker="o", label=label, **style_)
            else:
                # A month the strategy cannot be served (all or part of it) costs little or nothing,
                # which would read as cheap: its stretch of line is dashed and faded, its point hollow.
                unservable = True
                solid = [y if ok else math.nan for y, ok in zip(ys, served)]
                axes.plot(xs, solid, marker="o", label=label, **style_)
                # The dashed stretch reaches back to the served neighbours; only its own months get points.
                faded = [y if not all(served[max(0, i - 1):i + 2]) else math.nan for i, y in enumerate(ys)]
                axes.plot(xs, faded, marker="o", linestyle="--", alpha=0.55, markerfacecolor="white",
                          markevery=[not ok for ok in served], **style_)
            if ys[-1] > top * 1.12:
                # Where the line leaves the chart, say where it is going.
                leave = next(i for i, y in enumerate(ys) if y > top * 1.12)
                axes.annotate(f"↑ {name} runs off the chart: {money_text(result.total_usd)} by {month_label(months[-1])}",
                              (xs[leave], top * 1.12), xytext=(4, -12), textcoords="offset points",
                              fontsize=9, color=colours[result.name], ha="left", va="top")
        if rest:
            # The others as one grey band from the cheapest to the dearest of them, month by month.
            low = [min(float(s.months[i].cumulative_usd) for s in rest) for i in range(len(xs))]
            high = [max(float(s.months[i].cumulative_usd) for s in rest) for i in range(len(xs))]
            span = (money_text(rest[0].total_usd) if len(rest) == 1
                    else f"{money_text(rest[0].total_usd)} to {money_text(rest[-1].total_usd)}")
            axes.fill_between(xs, low, high, facecolor="#dddddd", edgecolor="#aaaaaa", linewidth=0.8, zorder=1,
                              label=f"{_others(rest)}: {span}")
        be = comparison.break_even
        if focus is not None and not focus.available:
            be = None  # a break-even of a strategy that cannot be bought for the horizon would mislead
        if be is not None and be.month is not None and be.month_number is not None and focus is not None:
            number = be.month_number
            month = focus.months[number - 1]
            base = comparison.baseline_result.months[number - 1]
            y = float(month.cumulative_usd)
            axes.plot([number], [y], marker="*", markersize=16, color=colours[focus.name],
                      markeredgecolor="white", zorder=5, linestyle="none")
            # Halfway down to the x axis, right of the point: under rising cumulative lines the
            # plot is empty there (left of it in the last month).
            last = number >= len(months)
            axes.annotate(f"break-even {month_label(be.month)} (month {number})\n"
                          f"{money_text(month.cumulative_usd)} vs {money_text(base.cumulative_usd)} to date",
                          (number, y), xytext=(number + (-0.6 if last else 0.6), y * 0.45),
                          textcoords="data", ha="right" if last else "left", va="center", fontsize=9,
                          color="#222222", arrowprops={"arrowstyle": "->", "color": "#555555", "linewidth": 0.8},
                          bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "#bbbbbb"})
        if unservable:
            # One legend entry for the dashed, hollow months of every line.
            axes.plot([], [], marker="o", markersize=3.5, linestyle="--", linewidth=1.6, color="#777777",
                      markerfacecolor="white", label=NOT_SERVABLE)
        if history:
            past_xs = list(range(1 - len(history), 1))
            axes.plot(past_xs, past_cumulative, marker="o", color="#888888", linewidth=1.6, markersize=3.5,
                      linestyle=":", label=f"history (replayed): {money_text(Decimal(str(past_cumulative[-1])))}")
            axes.axvline(0.5, color="#bbbbbb", linewidth=0.8, zorder=0)
        axes.set_ylim(0, top * 1.15)
        _month_axis(axes, months, past)
        _money_axis(axes.yaxis)
        axes.set_ylabel("cumulative cost (USD)")
        axes.set_xlabel("month")
        title = drawable(a.title, TITLE_LIMIT) + "; " if a.title else ""
        subtitle = f"{title}{comparison.horizon}; {_traffic(a)}"
        if be is not None and be.month is None and focus is not None:
            subtitle += f"\n{drawable(focus.name, NAME_LIMIT)} does not break even within the horizon"
        _title(axes, "Cumulative cost by strategy", subtitle)
        _legend_below(figure, axes, note=_not_drawn_note(rest) if rest else None)
        _drawable_texts(figure)
    return figure


# Components of a month, bottom to top: the one-off fee first, then usage, then fixed costs.
COMPONENTS = {
    "training_usd": "training",
    "input_usd": "input",
    "output_usd": "output",
    "retrieval_usd": "retrieval",
    "fixed_usd": "fixed",
}


def plot_monthly_breakdown(comparison: Comparison, strategy: str | None = None, *,
                           figure: Figure | None = None) -> Figure:
    """Each month's cost stacked by component (training, input, output, retrieval, fixed).

    One strategy when `strategy` names it, else one panel per strategy, each on its own scale
    (a shared scale would flatten the cheap strategies under an expensive one); of more than
    `MOST_DRAWN` strategies, those that matter most, the others named in a note.
    """
    a = comparison.assumptions
    results, rest = ([comparison.strategy(strategy)], []) if strategy else drawn_strategies(comparison)
    columns = min(2, len(results))
    rows = math.ceil(len(results) / columns)
    size = WIDE if len(results) == 1 else (WIDE[0], max(WIDE[1], 3.1 * rows + 1.0))
    with style():
        figure = new_figure(size) if figure is None else figure
        grid = figure.subplots(rows, columns, squeeze=False)
        used: set[str] = set()
        for axes, result in zip(grid.flat, results):
            _stacked_months(axes, result, months=list(a.months), used=used, totals=len(results) == 1)
            title = f"{drawable(result.name, NAME_LIMIT)}: {money_text(result.total_usd)}"
            training = sum((m.training_usd for m in result.months), Decimal(0))
            if training:
                title += f" (training {money_text(training)})"
            axes.set_title(title, loc="left", fontsize=11)
        for axes in list(grid.flat)[len(results):]:
            axes.set_visible(False)
        for axes in grid[:, 0]:
            axes.set_ylabel("cost per month (USD)")
        title = (f"Monthly cost of {drawable(results[0].name, NAME_LIMIT)} by component" if strategy
                 else "Monthly cost by component")
        figure.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold")
        note = f"{comparison.horizon}; {_traffic(a)}" + ("" if strategy else "; each panel on its own scale")
        if rest:
            note += "\n" + _wrap_note(_not_drawn_note(rest))
        from matplotlib.patches import Patch

        # In stacking order, bottom first, read left to right.
        handles = [Patch(color=COMPONENT_COLOURS[COMPONENTS[c]], label=COMPONENTS[c]) for c in COMPONENTS if c in used]
        # The note rides in the legend's title: constrained layout makes room for both together.
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles), title=note,
                      title_fontsize=9)
        _drawable_texts(figure)
    return figure


def _stacked_months(axes: Axes, result: StrategyResult, months: list[dt.date], used: set[str], totals: bool) -> None:
    xs = list(range(1, len(months) + 1))
    bottom = [0.0] * len(xs)
    for column, name in COMPONENTS.items():
        values = [float(getattr(m, column)) for m in result.months]
        if not any(values):
            continue
        used.add(column)
        _bars(axes, xs, values, bottom, width=0.72, colour=COMPONENT_COLOURS[name])
        bottom = [b + v for b, v in zip(bottom, values)]
    if totals:
        for x, month in zip(xs, result.months):
            axes.annotate(money_tick(float(month.total_usd)), (x, float(month.total_usd)), xytext=(0, 2),
                          textcoords="offset points", ha="center", va="bottom", fontsize=8, color="#333333")
    axes.margins(y=0.12)
    _month_axis(axes, months)
    _money_axis(axes.yaxis)
    axes.grid(axis="x", visible=False)


def _bars(axes: Axes, xs: Sequence[float], heights: Sequence[float], bottoms: Sequence[float], *, width: float,
          colour: str) -> None:
    """Bars as `axes.bar` draws them (filled, no edge, above the grid, the value axis starting at
    zero), as one collection: a panel's months of one component are one artist, not one each."""
    from matplotlib.collections import PolyCollection

    half = width / 2
    boxes = [[(x - half, b), (x + half, b), (x + half, b + h), (x - half, b + h)]
             for x, h, b in zip(xs, heights, bottoms) if h]
    bars = PolyCollection(boxes, facecolors=colour, edgecolors="none", linewidths=0, zorder=2, antialiaseds=True)
    bars.sticky_edges.y.append(0)
    axes.add_collection(bars)  # which asks for the axes to be fitted to its data again, when drawn


def _traffic(a) -> str:
    """'100,000 requests in the first month, +5%/month' (the traffic the chart assumes)."""
    text = f"{requests_phrase(a.first_month_requests)} in the first month"
    if a.monthly_growth_pct:
        text += f", {'+' if a.monthly_growth_pct > 0 else ''}{_plain(a.monthly_growth_pct)}% a month"
    return text


def _plain(value: Decimal) -> str:
    from .render import decimal_string

    return decimal_string(value)


# --- lifecycle -------------------------------------------------------------------------------------

# The lifecycle chart's encodings: a month served (all of it), a month not served, a fine-tuned
# strategy's training open or closed that month, and one line style per kind of event.
SERVED_COLOUR = "#009E73"
NOT_SERVED_COLOUR = "#dddddd"
TRAINING_COLOUR = COMPONENT_COLOURS["training"]
# An event's kind -> (legend label, colour, line style), in legend order.
_EVENT_STYLES: dict[str, tuple[str, str, Literal["-", "--", ":"]]] = {
    "fine_tuning_closed": ("fine-tuning jobs close", "#D55E00", "--"),
    "shutdown": ("model shut down", "#000000", "-"),
    "migrated": ("moved to another model", "#0072B2", ":"),
}

# A row, in y units from its centre (y grows downward): event labels above, the served band, then
# the thinner training band.
_LABEL_Y = -0.24
_SERVED_BAND = (-0.20, 0.16)
_TRAINING_BAND = (0.21, 0.33)
_EVENT_FONT = 7.5


def needs_lifecycle(comparison: Comparison) -> bool:
    """Whether the comparison has anything for the lifecycle chart to show: an event in the horizon,
    a month some strategy cannot be served or a training run it plans that cannot happen.

    A month closed to training jobs that no run needs is not enough (an alias moving to a snapshot
    not yet open to fine-tuning, after the one run): it changes nothing that can be bought."""
    # `available` is false when a planned run cannot happen (or the model is shut down).
    return any(s.events or not s.available or any(not m.served for m in s.months) for s in comparison.strategies)


def event_x(day: dt.date, months: Sequence[dt.date]) -> float:
    """Where a day falls on the month axis: month i spans i - 0.5 to i + 0.5, its days evenly."""
    import calendar

    index = (day.year - months[0].year) * 12 + day.month - months[0].month
    days = calendar.monthrange(day.year, day.month)[1]
    return index + 0.5 + (day.day - 1) / days


def _event_text(kind: str, day: dt.date, label: str) -> str:
    if kind == "shutdown":
        return f"shut down {day.isoformat()}"
    if kind == "fine_tuning_closed":
        return f"training closed {day.isoformat()}"
    if kind == "migrated":
        return f"moved {drawable(label, NAME_LIMIT)}" if label.startswith("to ") else f"moved {day.isoformat()}"
    return f"{kind.replace('_', ' ')} {day.isoformat()}"  # pragma: no cover - the three kinds above


def _served_cells(result: StrategyResult) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(served, not served) stretches of the month axis as (start, width): a month partly served is
    split at the day, its served days on the side of the neighbour that is served (a shutdown ends a
    month's service, a release begins it)."""
    served: list[tuple[float, float]] = []
    unserved: list[tuple[float, float]] = []
    months = list(result.months)
    for i, month in enumerate(months):
        start = i + 0.5
        share = month.served_days / month.days if month.days else 1.0
        if share >= 1:
            served.append((start, 1.0))
        elif share <= 0:
            unserved.append((start, 1.0))
        else:
            before = months[i - 1].served_days if i > 0 else 0
            after = months[i + 1].served_days if i + 1 < len(months) else 0
            if before >= after:
                served.append((start, share))
                unserved.append((start + share, 1 - share))
            else:
                unserved.append((start, 1 - share))
                served.append((start + 1 - share, share))
    return served, unserved


def _training_cells(result: StrategyResult, months: Sequence[dt.date]
                    ) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(open, closed) stretches of the training band as (start, width): a month is open when a job
    could start on its 1st, and split at the day when fine-tuning jobs close within it."""
    closing = {(e.day.year, e.day.month): event_x(e.day, months) for e in result.events
               if e.kind == "fine_tuning_closed"}
    opened: list[tuple[float, float]] = []
    shut: list[tuple[float, float]] = []
    for i, month in enumerate(result.months):
        start = i + 0.5
        if month.training_open is None:
            continue
        cut = closing.get((month.month.year, month.month.month))
        if month.training_open and cut is not None and start < cut < start + 1:
            opened.append((start, cut - start))
            shut.append((cut, start + 1 - cut))
        else:
            (opened if month.training_open else shut).append((start, 1.0))
    return opened, shut


def _bands(axes: Axes, cells: list[tuple[int, tuple[float, float]]], band: tuple[float, float], **style_):
    """One collection of rectangles, (row, (x, width)) each: a few artists for any number of cells."""
    from matplotlib.collections import PolyCollection

    top, bottom = band
    verts = [[(x, row + top), (x + w, row + top), (x + w, row + bottom), (x, row + bottom)]
             for row, (x, w) in cells]
    if verts:
        axes.add_collection(PolyCollection(verts, **style_), autolim=False)


def plot_lifecycle(comparison: Comparison, *, figure: Figure | None = None) -> Figure:
    """When each strategy can be bought: one row per strategy, a cell per month of the horizon.

    The thick band is green in the months the strategy can be served and grey in those it cannot
    (a month partly served is split at the day); under it, for fine-tuned strategies, a thinner band
    says whether a training job can start that month (hatched when it cannot). Each event in the
    horizon (a model shut down, fine-tuning jobs closing, a move to another model) is a line across
    its row at its day, with a short label. Of more than `MOST_DRAWN` strategies, those that matter
    most are drawn and the others named in a note.
    """
    months = list(comparison.assumptions.months)
    drawn, rest = drawn_strategies(comparison)
    served: list[tuple[int, tuple[float, float]]] = []
    unserved: list[tuple[int, tuple[float, float]]] = []
    open_: list[tuple[int, tuple[float, float]]] = []
    closed: list[tuple[int, tuple[float, float]]] = []
    events: dict[str, list[tuple[float, int]]] = {}
    for row, result in enumerate(drawn):
        yes, no = _served_cells(result)
        served += [(row, cell) for cell in yes]
        unserved += [(row, cell) for cell in no]
        open_cells, closed_cells = _training_cells(result, months)
        open_ += [(row, cell) for cell in open_cells]
        closed += [(row, cell) for cell in closed_cells]
        for event in result.events:
            events.setdefault(event.kind, []).append((event_x(event.day, months), row))
    with style():
        figure = new_figure() if figure is None else figure
        axes = figure.add_subplot()
        # White edges part the months; the same white parts a month split at a day.
        cell = {"edgecolor": "white", "linewidth": 1.0}
        _bands(axes, served, _SERVED_BAND, facecolor=SERVED_COLOUR, label="served all month", **cell)
        _bands(axes, unserved, _SERVED_BAND, facecolor=NOT_SERVED_COLOUR, label="not served (a month partly "
               "served is split at the day)" if unserved else "not served", **cell)
        _bands(axes, open_, _TRAINING_BAND, facecolor=TRAINING_COLOUR, label="training job can start", **cell)
        _bands(axes, closed, _TRAINING_BAND, facecolor="white", hatch="////", hatchcolor=TRAINING_COLOUR,
               label="training closed", **cell)
        for kind, (label, colour, line) in _EVENT_STYLES.items():
            if kind in events:
                xs, rows = zip(*events[kind])
                axes.vlines(xs, [r + _LABEL_Y for r in rows], [r + _TRAINING_BAND[1] + 0.03 for r in rows],
                            colors=colour, linestyles=line, linewidth=1.6, label=label, zorder=3)
        names = [drawable(s.name, NAME_LIMIT) for s in drawn]
        for row, result in enumerate(drawn):
            _event_labels(axes, row, result, months, names)
        axes.set_ylim(len(drawn) - 0.5, -0.5)  # the first strategy on top
        axes.set_yticks(range(len(drawn)), names)
        axes.tick_params(axis="y", length=0)
        _month_axis(axes, months)
        axes.grid(False)
        axes.spines["left"].set_visible(False)
        axes.set_xlabel("month")
        # The horizon first: the names on the left leave the subtitle less room than other charts have.
        title = comparison.assumptions.title
        subtitle = comparison.horizon + (f"\n{drawable(title, 80)}" if title else "")
        _title(axes, "When each strategy can be bought", subtitle)
        _legend_below(figure, axes, note=_not_drawn_note(rest) if rest else None)
        _drawable_texts(figure)
    return figure


def _event_labels(axes: Axes, row: int, result: StrategyResult, months: Sequence[dt.date],
                  names: Sequence[str]) -> None:
    """The short labels of a row's events, above its band: right of each line, or left of it near
    the right edge. Events days apart share one label ("training closed …; shut down …"); a label
    that would run into the next one is cut short with an ellipsis."""
    from .text import shorten

    # A character's width in month units, roughly: the plot is the figure less the names on its left.
    plot_points = WIDE[0] * 72 - 40 - 6.2 * max(map(len, names))
    per_char = _EVENT_FONT * 0.6 / (plot_points / (len(months) + 0.2))
    right_edge = len(months) + 0.6
    groups: list[list[Any]] = []  # [x of the first line, text]
    for event in sorted(result.events, key=lambda e: (e.day, e.kind)):
        x, text = event_x(event.day, months), _event_text(event.kind, event.day, event.label)
        if groups and x - groups[-1][0] < 12 * per_char:
            groups[-1][1] += f"; {text}"
        else:
            groups.append([x, text])
    pad = 0.06
    placed = []  # (x, text, left-aligned, start, end)
    for x, text in groups:
        width = pad + len(text) * per_char
        left = x + width <= right_edge
        placed.append([x, text, left, x if left else x - width, x + width if left else x])
    for this, after in zip(placed, placed[1:]):
        if this[4] + pad > after[3]:  # runs into the next label: cut to the room before it
            room = max(6, int((after[3] - pad - this[3] - pad) / per_char))
            this[1] = shorten(this[1], room)
    for x, text, left, _, _ in placed:
        axes.text(x + (pad if left else -pad), row + _LABEL_Y - 0.02, text, fontsize=_EVENT_FONT,
                  color="#333333", ha="left" if left else "right", va="bottom", zorder=4)


# --- sensitivity -----------------------------------------------------------------------------------


def plot_break_even_map(grid: SensitivityGrid, *, mark: tuple[float, float] | None = None,
                        figure: Figure | None = None) -> Figure:
    """The break-even month over traffic (y, log scale) and prompt reduction (x), from a
    `SensitivityGrid`: one colour per month, grey where fine-tuning does not catch up within
    the horizon. `mark` = (traffic, reduction) puts a cross on the scenario's own point.
    """
    import numpy as np
    from matplotlib.colors import BoundaryNorm, ListedColormap

    months = list(grid.months)
    count = len(months)
    values = np.where(grid.break_even_month > 0, grid.break_even_month, np.nan).astype(float)
    with style():
        figure = new_figure() if figure is None else figure
        axes = figure.add_subplot()
        # Early months dark (good news), late months light; "never" is the grey of the background.
        import matplotlib

        colours = matplotlib.colormaps["viridis"].resampled(max(count, 2))(np.linspace(0, 1, max(count, 2)))[:count]
        cmap = ListedColormap(colours).with_extremes(bad=(0, 0, 0, 0))
        norm = BoundaryNorm(np.arange(0.5, count + 1.5), cmap.N)
        x = _edges(np.asarray(grid.reductions, dtype=float) * 100)
        y = _edges(np.asarray(grid.traffic, dtype=float), log=True)
        mesh = _month_cells(axes, x, y, values, cmap, norm)
        axes.set_facecolor("#d9d9d9")  # "never" shows through, seamless, where no cell is drawn
        axes.set_yscale("log")
        _requests_axis(axes.yaxis)
        axes.set_xlabel(f"prompt reduction by fine-tuning (% of the baseline's {grid.baseline_prompt_tokens:,.0f} "
                        "prompt tokens)")
        axes.set_ylabel("requests in the first month")
        axes.grid(False)
        step = max(1, math.ceil(count / 12))
        bar = figure.colorbar(mesh, ax=axes, ticks=range(1, count + 1, step), pad=0.02, fraction=0.05)
        bar.ax.set_yticklabels([f"{month_label(months[i - 1])} ({i})" for i in range(1, count + 1, step)], fontsize=8)
        bar.set_label("break-even month (month number)")
        bar.ax.invert_yaxis()  # month 1 at the top, as a calendar reads
        from matplotlib.patches import Patch

        handles: list[Artist] = [Patch(facecolor="#d9d9d9", edgecolor="#999999",
                                       label="no break-even within the horizon")]
        if mark is not None:
            (line,) = axes.plot([mark[1] * 100], [mark[0]], marker="X", markersize=11, color="#D55E00",
                                markeredgecolor="white", linestyle="none",
                                label=f"this scenario: {mark[0]:,.0f} requests, {mark[1] * 100:.0f}% shorter prompt")
            handles.append(line)
        figure.legend(handles=handles, loc="outside lower center", ncols=len(handles))
        _title(axes, f"When does {drawable(grid.strategy, NAME_LIMIT)} break even?",
               f"vs {drawable(grid.baseline, NAME_LIMIT)}, over {months_phrase(count)} ({month_label(months[0])} to {month_label(months[-1])}); traffic grows as in "
               "the scenario")
        _drawable_texts(figure)
    return figure


def _month_cells(axes: Axes, x, y, values, cmap, norm):
    """The grid's cells as `pcolormesh` draws them (flat colours, NaN not drawn, the axes fitted to
    the grid's edges), but each run of cells of one month along a row as one rectangle: a few dozen
    paths in a PDF instead of 1,599 (41 × 39), the same picture. Returns the colour bar's mappable."""
    import numpy as np
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import PolyCollection

    boxes, months = [], []
    for row, cells in enumerate(values):
        start = 0
        for column in range(1, len(cells) + 1):
            if column == len(cells) or not cells[column] == cells[start]:  # NaN ends a run and starts one
                if not np.isnan(cells[start]):
                    left, right, bottom, top = x[start], x[column], y[row], y[row + 1]
                    boxes.append([(left, bottom), (right, bottom), (right, top), (left, top)])
                    months.append(cells[start])
                start = column
    # Edges in the face colour: PDF viewers would otherwise show hairline seams between cells.
    cells = PolyCollection(boxes, facecolors=cmap(norm(months)) if months else "none", edgecolors="face",
                           linewidths=0.3, antialiaseds=False)
    cells.sticky_edges.x[:] = [x[0], x[-1]]
    cells.sticky_edges.y[:] = [y[0], y[-1]]
    axes.add_collection(cells, autolim=False)
    axes.update_datalim([(x[0], y[0]), (x[-1], y[-1])])
    axes.autoscale_view()
    return ScalarMappable(norm=norm, cmap=cmap)


def _edges(centres, log: bool = False):
    """Cell edges around grid centres (geometric midpoints on a log axis)."""
    import numpy as np

    c = np.log(centres) if log else np.asarray(centres, dtype=float)
    if len(c) == 1:
        half = 0.5 if not log else np.log(2)
        edges = np.array([c[0] - half, c[0] + half])
    else:
        middle = (c[1:] + c[:-1]) / 2
        edges = np.concatenate([[c[0] - (middle[0] - c[0])], middle, [c[-1] + (c[-1] - middle[-1])]])
    return np.exp(edges) if log else edges


def _requests_axis(axis) -> None:
    """1k, 10k, 100k, 1M requests on a log axis."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    def label(value, _pos):
        for limit, suffix in ((1e6, "M"), (1e3, "k")):
            if value >= limit:
                return f"{value / limit:,.4g}{suffix}"
        return f"{value:,.0f}"

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(label))
    axis.set_minor_formatter(NullFormatter())


# --- price history ---------------------------------------------------------------------------------

# Price names from `ModelPrice.prices()` -> (label, colour, line style).
_HISTORY_SERIES = {
    "input_per_1m": ("base input", COLOURS[0], "-"),
    "output_per_1m": ("base output", COLOURS[5], "-"),
    "ft_input_per_1m": ("fine-tuned input", COLOURS[1], "--"),
    "ft_output_per_1m": ("fine-tuned output", COLOURS[4], "--"),
    "training_per_1m": ("training", COLOURS[3], ":"),
}


def plot_price_history(book: PriceBook, model: str, *, until: dt.date | None = None,
                       figure: Figure | None = None) -> Figure:
    """A model's base and fine-tuned prices (USD per 1M tokens) as steps over the sheets' dates.

    `model` may be an alias: each sheet prices the snapshot the alias meant on its date, and a
    change of snapshot is marked. The last step runs to `until` (default: a little past the newest
    sheet, so the prices in force today show as a segment, not a point).
    """
    entries = book.history(model)
    dates = [e.effective for e in entries]
    span = max((dates[-1] - dates[0]).days, 90)
    end = until or dates[-1] + dt.timedelta(days=round(span * 0.08))
    with style():
        figure = new_figure() if figure is None else figure
        axes = figure.add_subplot()
        plotted = 0
        for name, (label, colour, line) in _HISTORY_SERIES.items():
            values = [e.model.prices()[name] for e in entries]
            if all(v is None for v in values):
                continue
            ys = [_float(v) for v in values]
            # matplotlib's stubs omit dates, which its date converter takes (here and below).
            axes.step([*dates, end], [*ys, ys[-1]], where="post",  # type: ignore[arg-type]
                      label=label, color=colour, linestyle=line, linewidth=2)
            axes.plot(dates, ys, "o", color=colour, markersize=3.5)  # type: ignore[arg-type]
            plotted += 1
        # Mark where the name starts meaning another snapshot (an alias moving on).
        for before, after in zip(entries, entries[1:]):
            if after.model.name != before.model.name:
                axes.axvline(after.effective, color="#888888",  # type: ignore[arg-type]
                             linewidth=0.8, linestyle=":")
                axes.annotate(f"→ {drawable(after.model.name, NAME_LIMIT)}", (after.effective, 1), xycoords=("data", "axes fraction"),
                              xytext=(3, -3), textcoords="offset points", fontsize=8, color="#555555",
                              va="top", ha="left")
        axes.set_xlim(dates[0] - dt.timedelta(days=round(span * 0.02)), end)  # type: ignore[arg-type]
        axes.set_ylim(bottom=0)
        _date_axis(axes.xaxis, dates[0], end)
        _money_axis(axes.yaxis)
        axes.set_ylabel("USD per 1M tokens")
        axes.set_xlabel("price sheet effective date")
        first = drawable(entries[0].model.name, NAME_LIMIT)
        names = list(dict.fromkeys(drawable(e.model.name, NAME_LIMIT) for e in entries))
        subtitle = (f"{len(entries)} price sheets, {dates[0].isoformat()} to {dates[-1].isoformat()}; "
                    + (f"snapshot {first}" if len(names) == 1 else f"snapshots {', '.join(names)}"))
        _title(axes, f"Price history of {drawable(model, NAME_LIMIT)}", subtitle)
        _legend_below(figure, axes)
        if not plotted:  # pragma: no cover - a sheet always has some price for a model it lists
            axes.text(0.5, 0.5, "no prices", transform=axes.transAxes, ha="center")
        _drawable_texts(figure)
    return figure


# --- dataset ---------------------------------------------------------------------------------------


def plot_tokens_histogram(report: DatasetReport, tokens: Sequence[int] | None = None, *,
                          figure: Figure | None = None) -> Figure:
    """How many examples have how many tokens, with the per-example limit marked.

    Drawn from the report's `tokens_histogram` ((tokens, examples) pairs), or from `tokens`, the
    counts per example, when given. Examples over the limit, which OpenAI truncates, are drawn in
    red. When the limit is far beyond the longest example, it is named in a note instead of
    stretching the axis.
    """
    import numpy as np

    from .dataset import Distribution

    if tokens is not None:
        values, counts = np.unique(np.asarray(tokens, dtype=np.int64), return_counts=True)
    else:
        pairs = np.array(report.tokens_histogram, dtype=np.int64).reshape(-1, 2)
        values, counts = pairs[:, 0], pairs[:, 1]
    examples = int(counts.sum())
    limit = report.max_tokens_per_example
    subtitle = (f"{drawable(report.model, NAME_LIMIT)} ({drawable(report.encoding, NAME_LIMIT)}), "
                f"{report.total_tokens:,} tokens in all, {report.epochs} epochs")
    with style():
        figure = new_figure() if figure is None else figure
        axes = figure.add_subplot()
        if examples:
            low, high = int(values.min()), int(values.max())
            shown_limit = limit if limit is not None and limit <= high * 1.5 else None
            show_limit = shown_limit is not None
            top = max(high, shown_limit) if shown_limit is not None else high
            start = 0 if show_limit else low
            # Whole-token bins, so a bar never straddles two counts unevenly.
            width = max(1, math.ceil((top - start + 1) / min(40, max(8, 2 * math.isqrt(examples)))))
            bins = np.arange(start, top + width + 1, width)
            within = np.ones(len(values), dtype=bool) if limit is None else values <= limit
            # Each distinct count once, weighted by its examples: the same bars as one per example.
            # matplotlib's stubs omit an ndarray of bins, which hist takes (here and below).
            axes.hist(values[within], bins=bins,  # type: ignore[arg-type]
                      weights=counts[within], color=COLOURS[0], edgecolor="white", linewidth=0.5, label="examples" if limit is None else "examples within the limit")
            over = int(counts[~within].sum())
            if over:
                axes.hist(values[~within], bins=bins,  # type: ignore[arg-type]
                          weights=counts[~within], color=COLOURS[1], edgecolor="white", linewidth=0.5, label=f"examples over the limit ({over:,}, truncated)")
            median = Distribution.of_counts(zip(values.tolist(), counts.tolist())).median
            # A median of no examples is None; there are examples here.
            assert median is not None
            axes.axvline(median, color="#333333", linewidth=1, linestyle="--", label=f"median {median:,.0f} tokens")
            if shown_limit is not None:
                axes.axvline(shown_limit, color=COLOURS[1], linewidth=2, label=f"limit {shown_limit:,} tokens per example")
                axes.set_xlim(left=0)
            subtitle += f"\n{examples:,} examples of {low:,} to {high:,} tokens"
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
        _title(axes, f"Tokens per training example: {drawable(_short_path(report.file), FILE_LIMIT)}", subtitle)
        _legend_below(figure, axes)
        _drawable_texts(figure)
    return figure


def _short_path(path: str) -> str:
    return os.path.basename(path) or path


# --- saving ----------------------------------------------------------------------------------------


def save_png(figure: Figure, path: str | os.PathLike[str], *, dpi: int = DPI) -> Path:
    """Write the figure as a PNG of exactly figsize × dpi pixels, atomically; returns the path.

    No timestamp or version goes in, so the same chart is the same bytes.
    """
    from .atomic import write_bytes

    return write_bytes(path, png_bytes(figure, dpi=dpi))


def png_bytes(figure: Figure, *, dpi: int = DPI) -> bytes:
    """The figure as the bytes of a PNG of exactly figsize × dpi pixels (what `save_png` writes)."""
    import io

    from . import png

    with style(), _laid_out_once(figure, dpi):
        # No bbox_inches="tight": it would change the pixel size from chart to chart. The pixels as
        # matplotlib draws them for a PNG, encoded by costcalc.png (a third of Pillow's time).
        pixels = io.BytesIO()
        figure.savefig(pixels, format="rgba", dpi=dpi)
        width, height = pixel_size(figure, dpi)
        return png.encode(pixels.getvalue(), width, height, dpi)


@contextlib.contextmanager
def _laid_out_once(figure: Figure, dpi: float) -> Iterator[None]:
    """The figure laid out by its layout engine, at `dpi`, with the engine off until the block ends.

    With a layout engine on, savefig draws the whole figure twice: once with drawing disabled,
    only to run the layout, then for real. Laid out here, at the dpi it is saved at (text is
    measured in pixels), it is drawn once: a fifth less time per chart, the same pixels."""
    engine = figure.get_layout_engine()
    if engine is None:
        yield
        return
    shown = figure.dpi
    figure.dpi = dpi
    try:
        engine.execute(figure)
    finally:
        figure.dpi = shown
    # None, not "none": savefig runs its extra draw for any layout engine, even the placeholder "none".
    figure.set_layout_engine(None)
    try:
        yield
    finally:
        figure.set_layout_engine(engine)


def pixel_size(figure: Figure, dpi: int = DPI) -> tuple[int, int]:
    """The (width, height) in pixels that `save_png` writes for this figure."""
    width, height = figure.get_size_inches()
    return round(width * dpi), round(height * dpi)


__all__ = [
    "COMPONENT_COLOURS",
    "DPI",
    "WIDE",
    "COMPONENTS",
    "money_text",
    "money_tick",
    "needs_lifecycle",
    "new_figure",
    "pixel_size",
    "plot_break_even_map",
    "plot_cumulative",
    "plot_lifecycle",
    "plot_monthly_breakdown",
    "plot_price_history",
    "plot_tokens_histogram",
    "png_bytes",
    "save_png",
    "style",
]


def plot_usage(history):
    """Monthly replayed cost by model, stacked: the history a usage export holds."""
    from matplotlib.ticker import FuncFormatter

    figure = new_figure()
    axes = figure.add_subplot(1, 1, 1)
    months = sorted({r.month for r in history.rows})
    models = sorted({r.model for r in history.rows}, key=lambda m: -sum(float(r.cost_usd) for r in history.rows
                                                                          if r.model == m))
    xs = list(range(len(months)))
    bottom = [0.0] * len(months)
    for i, model in enumerate(models):
        values = [float(sum((r.cost_usd for r in history.rows if r.model == model and r.month == m), Decimal(0)))
                  for m in months]
        axes.bar(xs, values, bottom=bottom, color=COLOURS[i % len(COLOURS)], label=model, width=0.7)
        bottom = [b + v for b, v in zip(bottom, values)]
    axes.set_xticks(xs, [month_label(m) for m in months])
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: money_text(Decimal(str(v)))))
    axes.set_ylabel("cost (USD)")
    axes.set_title("Monthly cost by model, replayed at the prices of each day", loc="left", fontweight="bold")
    if models:
        axes.legend(loc="upper left", frameon=False)
    return figure
