"""Any number of strategies: the charts draw the eight that matter most, in eight colours, and group
and name the rest in a note, whether there are 9 or 2,000."""

from __future__ import annotations

import pytest
from matplotlib.collections import PolyCollection
from matplotlib.legend import Legend

import costcalc
from costcalc import charts
from costcalc.scenario import read_scenario


def scenario(count: int, fine_tuned: bool = True) -> dict:
    """`count` strategies: the baseline, a fine-tuned one (when `fine_tuned`), and variants of the
    baseline whose prompts grow by 37 tokens each, so Variant 1 is the cheapest and each next one
    dearer. Training on a token count, not a file: no scan."""
    strategies: dict[str, dict] = {"Base": {"type": "base", "model": "gpt-3.5-turbo"}}
    if fine_tuned:
        strategies["Tuned"] = {"type": "fine-tuned", "model": "gpt-3.5-turbo", "prompt_tokens": 200,
                               "training_tokens": 500_000, "epochs": 3}
    for i in range(1, count - len(strategies) + 1):
        strategies[f"Variant {i}"] = {"type": "base", "model": "gpt-3.5-turbo", "prompt_tokens": 263 + 37 * i}
    return {"schema_version": 1, "title": "Many strategies", "baseline": "Base",
            "traffic": {"requests_per_month": 100_000, "start_month": "2023-09", "horizon_months": 12,
                        "prompt_tokens": 2_500, "completion_tokens": 150},
            "strategies": strategies}


@pytest.fixture(scope="module")
def nine(book):
    return costcalc.compare(read_scenario(scenario(9)), book)


@pytest.fixture(scope="module")
def two_thousand(book):
    return costcalc.compare(read_scenario(scenario(2_000)), book)


def strategy_lines(figure):
    """The lines of strategies (a label, markers), not the break-even star."""
    axes = figure.axes[0]
    return [line for line in axes.get_lines() if line.get_marker() == "o"]


def note(figure) -> str:
    (legend,) = [child for child in figure.get_children() if isinstance(child, Legend)]
    return legend.get_title().get_text()


def test_nine_strategies_draw_eight_lines_and_name_the_ninth(nine):
    figure = charts.plot_cumulative(nine)
    lines = strategy_lines(figure)
    # Base (the baseline), Variant 1 (the cheapest), Tuned (the fine-tuned one), then the cheapest
    # others: Variants 2 to 6. Variant 7, the dearest variant, is left out.
    assert [line.get_label().split(":")[0] for line in lines] == [
        "Base", "Tuned", "Variant 1", "Variant 2", "Variant 3", "Variant 4", "Variant 5", "Variant 6"]
    assert len({line.get_color() for line in lines}) == 8
    assert note(figure) == ("Not drawn, 1 other strategy: Variant 7 ($912.58); every strategy is in the tables")
    (band,) = [c for c in figure.axes[0].collections if isinstance(c, PolyCollection)]
    assert band.get_label() == "1 other strategy: $912.58"


def test_two_thousand_strategies_draw_eight_lines_and_a_band_for_the_rest(two_thousand):
    figure = charts.plot_cumulative(two_thousand)
    assert len(strategy_lines(figure)) == 8
    dearest = max(two_thousand.strategies, key=lambda s: s.total_usd)
    assert dearest.name == "Variant 1998"  # 74,189 prompt tokens a request
    text = note(figure).replace("\n", " ")
    assert text == ("Not drawn, 1,992 other strategies, cheapest first: Variant 7 ($912.58), Variant 8 ($955.19), "
                    "Variant 9 ($997.81), Variant 10 ($1,040), Variant 11 ($1,083) and 1,987 more; every strategy "
                    "is in the tables")
    (band,) = [c for c in figure.axes[0].collections if isinstance(c, PolyCollection)]
    assert band.get_label() == f"1,992 other strategies: $912.58 to {charts.money_text(dearest.total_usd)}"


def test_monthly_breakdown_of_two_thousand_has_eight_panels_and_the_note(two_thousand):
    figure = charts.plot_monthly_breakdown(two_thousand)
    panels = [axes for axes in figure.axes if axes.get_visible()]
    assert [axes.get_title(loc="left").split(":")[0] for axes in panels] == [
        "Base", "Tuned", "Variant 1", "Variant 2", "Variant 3", "Variant 4", "Variant 5", "Variant 6"]
    assert "Not drawn, 1,992 other strategies, cheapest first: Variant 7 ($912.58)" in note(figure).replace("\n", " ")


def test_nine_strategies_without_a_fine_tuned_one_get_eight_colours(book):
    comparison = costcalc.compare(read_scenario(scenario(9, fine_tuned=False)), book)
    lines = strategy_lines(charts.plot_cumulative(comparison))
    assert len(lines) == 8 and len({line.get_color() for line in lines}) == 8
    charts.plot_monthly_breakdown(comparison)  # drew before: StopIteration picking colours


def test_eight_strategies_are_all_drawn_with_no_note(book):
    comparison = costcalc.compare(read_scenario(scenario(8)), book)
    figure = charts.plot_cumulative(comparison)
    assert len(strategy_lines(figure)) == 8
    assert note(figure) == ""
