"""Charts: money labels, every plot function on real results, PNG size, and never through pyplot."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

from costcalc import charts

LOW_DPI = 40  # tests check layout and pixel size, not beauty; low DPI keeps them fast
EXAMPLES = Path(charts.__file__).parent / "examples"


@pytest.fixture(autouse=True)
def no_pyplot(monkeypatch):
    """Every test here fails if the code under test imports pyplot: its global figure list keeps
    every figure alive and it may pick a GUI backend. A None in sys.modules makes the import raise."""
    import matplotlib

    monkeypatch.delattr(matplotlib, "pyplot", raising=False)  # `from matplotlib import pyplot` looks here
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)


@pytest.fixture(scope="module")
def dataset_report(book):
    """The bundled example training file (60 chat examples) scanned for gpt-3.5-turbo today."""
    from costcalc.dataset import scan_dataset

    sheet = book.as_of()
    return scan_dataset(EXAMPLES / "example-train.jsonl", model_price=sheet.model("gpt-3.5-turbo"),
                        workers=1, sheet=sheet)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG header, without an image library."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("value, label", [
    (0, "$0"),
    (0.5, "$0.50"),
    (80, "$80"),
    (950, "$950"),
    (1200, "$1.2k"),
    (3400, "$3.4k"),
    (15000, "$15k"),
    (2_500_000, "$2.5M"),
    (-1200, "-$1.2k"),
])
def test_money_tick(value, label):
    assert charts.money_tick(value) == label


@pytest.mark.parametrize("amount, text", [
    ("3400", "$3,400"),
    ("3400.49", "$3,400"),
    ("12.5", "$12.50"),
    ("0.675", "$0.675"),
    ("0.0042", "$0.0042"),
    ("-1234.5", "-$1,235"),
])
def test_money_text(amount, text):
    from decimal import Decimal

    assert charts.money_text(Decimal(amount)) == text


def test_money_axis_uses_one_number_of_decimals(book):
    figure = charts.plot_price_history(book, "gpt-4o-mini")
    figure.canvas.draw()
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels() if t.get_text()]
    assert labels and all(label.startswith("$") and "." in label for label in labels), labels


def test_price_history_steps_through_every_sheet(book, tmp_path):
    figure = charts.plot_price_history(book, "gpt-3.5-turbo")
    axes = figure.axes[0]
    lines = {line.get_label(): line for line in axes.get_lines() if not line.get_label().startswith("_")}
    assert set(lines) == {"base input", "base output", "fine-tuned input", "fine-tuned output", "training"}
    entries = book.history("gpt-3.5-turbo")
    # One step per sheet plus the segment to the right edge; the y values are the sheet prices.
    base_input = lines["base input"].get_ydata()
    assert list(base_input[:-1]) == [float(e.model.input_per_1m) for e in entries]
    assert "Price history of gpt-3.5-turbo" in axes.get_title(loc="left")
    assert axes.get_ylabel() == "USD per 1M tokens"
    # The alias moving from 0613 to 0125 is marked.
    assert any("gpt-3.5-turbo-0125" in t.get_text() for t in axes.texts)
    path = charts.save_png(figure, tmp_path / "history.png", dpi=LOW_DPI)
    assert png_size(path) == charts.pixel_size(figure, LOW_DPI) == (400, 224)


def test_tokens_histogram_marks_the_limit_and_the_truncated_examples(dataset_report, tmp_path):
    from dataclasses import replace

    from matplotlib.colors import to_rgba

    report = replace(dataset_report, max_tokens_per_example=90)
    histogram = report.tokens_histogram
    figure = charts.plot_tokens_histogram(report)
    axes = figure.axes[0]
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    over = sum(count for tokens, count in histogram if tokens > 90)
    assert over and f"examples over the limit ({over}, truncated)" in legend
    assert "limit 90 tokens per example" in legend
    drawn = sum(p.get_height() for p in axes.patches)
    assert drawn == sum(count for _, count in histogram) == dataset_report.examples
    red = sum(p.get_height() for p in axes.patches if p.get_facecolor() == to_rgba(charts.COLOURS[1]))
    assert red == over
    charts.save_png(figure, tmp_path / "tokens.png", dpi=LOW_DPI)
    assert png_size(tmp_path / "tokens.png") == (400, 224)


def test_tokens_histogram_matches_the_dataset_report(dataset_report):
    histogram = dataset_report.tokens_histogram
    tokens = [t for t, _ in histogram]
    assert tokens == sorted(set(tokens)) and all(count > 0 for _, count in histogram)
    assert sum(count for _, count in histogram) == dataset_report.examples
    assert sum(t * count for t, count in histogram) == dataset_report.total_tokens
    assert min(tokens) == dataset_report.tokens_per_example.min
    assert max(tokens) == dataset_report.tokens_per_example.max


def test_tokens_histogram_of_given_counts_per_example(dataset_report):
    per_example = [t for t, count in dataset_report.tokens_histogram for _ in range(count)]
    given = charts.plot_tokens_histogram(dataset_report, per_example).axes[0]
    own = charts.plot_tokens_histogram(dataset_report).axes[0]
    assert [p.get_height() for p in given.patches] == [p.get_height() for p in own.patches]
    assert given.get_title(loc="left") == own.get_title(loc="left")


def test_a_far_limit_is_named_instead_of_stretching_the_axis(dataset_report):
    figure = charts.plot_tokens_histogram(dataset_report)
    axes = figure.axes[0]
    assert axes.get_xlim()[1] < 200
    assert any("16,385 tokens per example is far beyond the longest" in t.get_text() for t in axes.texts)


# --- comparison charts -------------------------------------------------------------------------------


@pytest.fixture
def comparison(example_comparison):
    """The bundled example: base, fine-tuned, GPT-4 and retrieval over 12 months from 2023-09."""
    return example_comparison


def plotted(axes) -> dict[str, list[float]]:
    """Labelled lines of an axes: legend label -> y values."""
    return {line.get_label(): list(line.get_ydata()) for line in axes.get_lines()
            if not line.get_label().startswith("_")}


def test_cumulative_lines_are_the_comparison_and_mark_the_break_even(comparison, tmp_path):
    figure = charts.plot_cumulative(comparison)
    axes = figure.axes[0]
    lines = plotted(axes)
    for result in comparison.strategies:
        label = next(label for label in lines if label.startswith(f"{result.name}: "))
        assert label.split(": ")[1].split(" ")[0] == charts.money_text(result.total_usd)
        assert lines[label] == [float(m.cumulative_usd) for m in result.months]
    be = comparison.break_even
    star = next(line for line in axes.get_lines() if line.get_marker() == "*")
    assert list(star.get_xdata()) == [be.month_number] == [4]
    notes = [t.get_text() for t in axes.texts]
    assert any(text.startswith("break-even 2023-12 (month 4)\n$1,584 vs $1,746 to date") for text in notes)
    # GPT-4 (27× the baseline) would flatten every other line: it runs off the top, with its total.
    assert "↑ GPT-4 runs off the chart: $133,704 by 2024-08" in notes
    assert axes.get_ylim()[1] < 10_000
    assert png_size(charts.save_png(figure, tmp_path / "c.png", dpi=LOW_DPI)) == (400, 224)


def test_monthly_breakdown_stacks_the_components_of_each_month(comparison, tmp_path):
    figure = charts.plot_monthly_breakdown(comparison, "Fine-tuned GPT-3.5")
    axes = figure.axes[0]
    result = comparison.strategy("Fine-tuned GPT-3.5")
    tops: dict[int, float] = {}
    for component in axes.collections:  # one collection of bars per component, bottom first
        for bar in component.get_paths():
            (left, _), (right, top) = bar.vertices.min(axis=0), bar.vertices.max(axis=0)
            x = round((left + right) / 2)
            tops[x] = max(tops.get(x, 0.0), float(top))
    assert [round(tops[i + 1], 6) for i in range(12)] == [round(float(m.total_usd), 6) for m in result.months]
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend == ["training", "input", "output", "fixed"]  # no retrieval cost in this strategy
    assert axes.get_title(loc="left") == "Fine-tuned GPT-3.5: $3,725 (training $0.476)"
    every = charts.plot_monthly_breakdown(comparison)
    assert [a.get_title(loc="left").split(":")[0] for a in every.axes if a.get_visible()] == \
        [s.name for s in comparison.strategies]
    assert png_size(charts.save_png(every, tmp_path / "m.png", dpi=LOW_DPI)) == (400, 288)


def test_break_even_map_colours_the_grid_month_by_month(comparison, tmp_path):
    import numpy as np

    import costcalc

    grid = costcalc.sensitivity_grid(comparison, [10_000, 100_000, 1_000_000], [0.0, 0.5, 0.92])
    figure = charts.plot_break_even_map(grid, mark=(100_000, 0.92))
    cells, colour_bar = figure.axes[0].collections[0], figure.axes[1]._colorbar
    colours = {tuple(colour_bar.mappable.to_rgba(month)): month for month in range(1, len(grid.months) + 1)}

    def month_at(traffic: float, reduction: float) -> int:
        """The month whose colour the cell at (reduction, traffic) is drawn in; 0 where none is drawn."""
        for box, colour in zip(cells.get_paths(), cells.get_facecolors()):
            if box.contains_point((reduction * 100, traffic)):
                return colours[tuple(colour)]
        return 0

    values = [[month_at(traffic, reduction) for reduction in grid.reductions] for traffic in grid.traffic]
    assert values == grid.break_even_month.tolist()
    assert grid.break_even_month[1, 2] == comparison.break_even.month_number
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend == ["no break-even within the horizon", "this scenario: 100,000 requests, 92% shorter prompt"]
    assert png_size(charts.save_png(figure, tmp_path / "b.png", dpi=LOW_DPI)) == (400, 224)


def test_a_run_of_cells_of_one_month_is_one_rectangle_and_no_month_is_none():
    import numpy as np
    from matplotlib.colors import BoundaryNorm, ListedColormap

    nan = float("nan")
    values = np.array([[1, 1, nan, 2, 2], [nan] * 5, [3, 3, 3, 3, 3]])
    x, y = np.arange(6.0), np.array([10.0, 20.0, 40.0, 80.0])
    axes = charts.new_figure().add_subplot()
    charts._month_cells(axes, x, y, values, ListedColormap(["red", "lime", "blue"]),
                        BoundaryNorm([0.5, 1.5, 2.5, 3.5], 3))
    boxes = [(b.vertices.min(axis=0).tolist(), b.vertices.max(axis=0).tolist())
             for b in axes.collections[0].get_paths()]
    assert boxes == [([0, 10], [2, 20]), ([3, 10], [5, 20]), ([0, 40], [5, 80])]
    assert [tuple(c[:3]) for c in axes.collections[0].get_facecolors()] == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    assert (axes.get_xlim(), axes.get_ylim()) == ((0, 5), (10, 80))  # the grid's edges, empty row and all


def test_figures_draw_into_a_given_figure(comparison):
    target = charts.new_figure((6, 4))
    assert charts.plot_cumulative(comparison, figure=target) is target
    assert charts.pixel_size(target, 100) == (600, 400)


def test_charts_do_not_touch_pyplot(book, dataset_report, comparison):
    import importlib

    from matplotlib.figure import Figure

    import costcalc

    with pytest.raises(ImportError):  # the guard of this module is in place
        importlib.import_module("matplotlib.pyplot")
    grid = costcalc.sensitivity_grid(comparison, [10_000, 100_000], [0.0, 0.9])
    figures = [
        charts.new_figure(),
        charts.plot_price_history(book, "gpt-3.5-turbo"),
        charts.plot_tokens_histogram(dataset_report),
        charts.plot_cumulative(comparison),
        charts.plot_monthly_breakdown(comparison),
        charts.plot_break_even_map(grid),
    ]
    # Plain Figures on the Agg canvas; the tests above that save PNGs run under the same guard, so
    # drawing needs no pyplot either.
    assert all(type(figure) is Figure for figure in figures)
