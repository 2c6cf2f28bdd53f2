"""The lifecycle chart (when each strategy can be bought), unservable months on the cumulative chart,
and the report's lifecycle page and PNG, only for comparisons that have a lifecycle to show.

The bundled 2026 example (horizon 2026-12 to 2027-11) runs into every event: OpenAI takes no new
fine-tuning jobs from 2027-01-06, gpt-4.1-mini-2025-04-14 is shut down on 2027-01-14, one strategy
moves to Azure on 2027-01-01, Azure takes no jobs on it from 2027-04-14 and retires it on 2027-10-14.
The 2023 example has none.
"""

from __future__ import annotations

import math

import pypdf
import pytest
from matplotlib.collections import LineCollection, PolyCollection

import costcalc
from costcalc import charts
from costcalc.scenario import load_scenario

LOW_DPI = 40

MINI = "Fine-tuned gpt-4.1-mini"
THEN_AZURE = "Fine-tuned gpt-4.1-mini, then Azure"
ON_AZURE = "Fine-tuned gpt-4.1-mini on Azure"
NAMES = ["Base gpt-5.4-mini", "Base gpt-5.6-luna", MINI, THEN_AZURE, ON_AZURE,
         "Fine-tuned gpt-oss-20b on Azure", "Retrieval (gpt-5.4-mini)"]
# The horizon's months as the chart's x axis numbers them: month i spans i - 0.5 to i + 0.5.
MONTH = {"2026-12": 1, **{f"2027-{m:02d}": m + 1 for m in range(1, 12)}}


@pytest.fixture(scope="module")
def comparison_2026(book):
    return costcalc.compare(load_scenario(example="2026"), costcalc.load_pricebook())


@pytest.fixture(scope="module")
def lifecycle(comparison_2026):
    return charts.plot_lifecycle(comparison_2026)


def cells(figure, label_start: str) -> dict[str, list[tuple[float, float]]]:
    """The rectangles of the collection whose legend label starts with `label_start`: row name ->
    [(x from, x to)], rounded to 4 places, in x order."""
    axes = figure.axes[0]
    names = [t.get_text() for t in axes.get_yticklabels()]
    found: dict[str, list[tuple[float, float]]] = {}
    for collection in axes.collections:
        if isinstance(collection, PolyCollection) and collection.get_label().startswith(label_start):
            for path in collection.get_paths():
                xs, ys = path.vertices[:, 0], path.vertices[:, 1]
                row = names[round(float(ys.mean()))]
                found.setdefault(row, []).append((round(float(xs.min()), 4), round(float(xs.max()), 4)))
    return {row: sorted(spans) for row, spans in found.items()}


def whole(*months: str) -> list[tuple[float, float]]:
    return [(MONTH[m] - 0.5, MONTH[m] + 0.5) for m in months]


def part(month: str, start: float, end: float) -> tuple[float, float]:
    """Part of a month, as fractions of it."""
    return round(MONTH[month] - 0.5 + start, 4), round(MONTH[month] - 0.5 + end, 4)


LABEL = {number: month for month, number in MONTH.items()}
LATER_2027 = [f"2027-{m:02d}" for m in range(2, 12)]


def test_rows_are_the_strategies_in_scenario_order_under_the_title(lifecycle, comparison_2026):
    axes = lifecycle.axes[0]
    assert [t.get_text() for t in axes.get_yticklabels()] == NAMES == [s.name for s in comparison_2026.strategies]
    assert axes.get_title(loc="left") == "When each strategy can be bought"
    assert axes.texts[-1].get_text() == ("12 months (2026-12 to 2027-11)\n"
                                        "Support bot, December 2026: fine-tune gpt-4.1-mini, move it to Azure, or a newe…")


def test_the_months_not_served_are_grey_and_a_partly_served_month_is_split_at_the_day(lifecycle, comparison_2026):
    unserved = cells(lifecycle, "not served")
    assert unserved == {
        # Shut down on 2027-01-14: 13 of January's 31 days served, then nothing.
        MINI: [part("2027-01", 13 / 31, 1), *whole(*LATER_2027)],
        # Retired on 2027-10-14 on Azure: 13 of October's 31 days served, none of November.
        THEN_AZURE: [part("2027-10", 13 / 31, 1), *whole("2027-11")],
        ON_AZURE: [part("2027-10", 13 / 31, 1), *whole("2027-11")],
    }
    served = cells(lifecycle, "served all month")
    assert part("2027-01", 0, 13 / 31) in served[MINI] and len(served[MINI]) == 2  # December and 13 days
    # The same months the comparison finds short of service.
    for result in comparison_2026.strategies:
        short = [m.month for m in result.months if not m.served]
        drawn = unserved.get(result.name, [])
        assert [LABEL[math.floor(a + 0.5)] for a, _ in drawn] == [day.isoformat()[:7] for day in short], result.name
        assert sum(b - a for a, b in drawn) == pytest.approx(
            sum(1 - m.served_days / m.days for m in result.months), abs=1e-3)


def test_the_thin_band_says_when_a_training_job_can_start(lifecycle):
    closed = cells(lifecycle, "training closed")
    assert closed == {
        # OpenAI takes no jobs from 2027-01-06: open 5 days of January.
        MINI: [part("2027-01", 5 / 31, 1), *whole(*LATER_2027)],
        # Azure takes none from 2027-04-14: open 13 days of April's 30.
        THEN_AZURE: [part("2027-04", 13 / 30, 1), *whole(*[f"2027-{m:02d}" for m in range(5, 12)])],
        ON_AZURE: [part("2027-04", 13 / 30, 1), *whole(*[f"2027-{m:02d}" for m in range(5, 12)])],
    }
    opened = cells(lifecycle, "training job can start")
    assert opened["Fine-tuned gpt-oss-20b on Azure"] == whole(*MONTH)
    # Strategies that do not train have no training band.
    assert set(opened) == {MINI, THEN_AZURE, ON_AZURE, "Fine-tuned gpt-oss-20b on Azure"}


def test_each_event_is_a_line_at_its_day_with_a_short_label(lifecycle):
    axes = lifecycle.axes[0]
    names = [t.get_text() for t in axes.get_yticklabels()]
    lines = {}
    for collection in axes.collections:
        if isinstance(collection, LineCollection):
            lines[collection.get_label()] = sorted(
                (names[round(float(s[:, 1].mean()))], round(float(s[0, 0]), 4)) for s in collection.get_segments())
    assert lines == {
        "fine-tuning jobs close": sorted([(MINI, part("2027-01", 5 / 31, 0)[0]),
                                          (THEN_AZURE, part("2027-04", 13 / 30, 0)[0]),
                                          (ON_AZURE, part("2027-04", 13 / 30, 0)[0])]),
        "model shut down": sorted([(MINI, part("2027-01", 13 / 31, 0)[0]),
                                   (THEN_AZURE, part("2027-10", 13 / 31, 0)[0]),
                                   (ON_AZURE, part("2027-10", 13 / 31, 0)[0])]),
        "moved to another model": [(THEN_AZURE, MONTH["2027-01"] - 0.5)],  # on 2027-01-01
    }
    labels = sorted((names[round(t.get_position()[1] + 0.26)], t.get_text()) for t in axes.texts[:-1])
    assert labels == sorted([
        (MINI, "training closed 2027-01-06; shut down 2027-01-14"),  # 8 days apart: one label
        (THEN_AZURE, "moved to azure/gpt-4.1-min…"),  # cut short before the next label
        (THEN_AZURE, "training closed 2027-04-14"),
        (THEN_AZURE, "shut down 2027-10-14"),
        (ON_AZURE, "training closed 2027-04-14"),
        (ON_AZURE, "shut down 2027-10-14"),
    ])
    legend = [t.get_text() for t in lifecycle.legends[0].get_texts()]
    assert legend == ["served all month", "not served (a month partly served is split at the day)",
                      "training job can start", "training closed", "fine-tuning jobs close", "model shut down",
                      "moved to another model"]


def test_lifecycle_png_is_wide_and_deterministic(lifecycle, tmp_path):
    first = charts.save_png(lifecycle, tmp_path / "a.png", dpi=LOW_DPI)
    second = charts.save_png(lifecycle, tmp_path / "b.png", dpi=LOW_DPI)
    assert charts.pixel_size(lifecycle, LOW_DPI) == (400, 224)
    assert first.read_bytes() == second.read_bytes()


def test_the_2023_example_is_served_every_month_with_training_open(example_comparison):
    assert not charts.needs_lifecycle(example_comparison)
    figure = charts.plot_lifecycle(example_comparison)
    assert cells(figure, "not served") == {} and cells(figure, "training closed") == {}
    served = cells(figure, "served all month")
    assert list(served) == [s.name for s in example_comparison.strategies]
    assert all(spans == [(i - 0.5, i + 0.5) for i in range(1, 13)] for spans in served.values())
    assert list(cells(figure, "training job can start")) == ["Fine-tuned GPT-3.5"]
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["served all month", "training job can start"]
    assert len(figure.axes[0].texts) == 1  # the subtitle: no event labels


def test_a_month_closed_to_training_that_no_run_needs_is_no_reason_for_the_chart(tmp_path):
    from tests.test_report import TINY_SCENARIO

    path = tmp_path / "tiny.toml"
    path.write_text(TINY_SCENARIO)
    tiny = costcalc.compare(load_scenario(path), costcalc.load_pricebook())
    tuned = tiny.strategy("Tuned")
    # gpt-3.5-turbo means 0125 from 2024-02-16, not yet open to fine-tuning; Tuned trains once, in
    # 2024-02, and is served every day of its 3 months.
    assert [m.training_open for m in tuned.months] == [True, False, False]
    assert tuned.available and all(m.served for m in tuned.months) and not tuned.events
    assert not charts.needs_lifecycle(tiny)


def test_many_strategies_draw_eight_rows_and_name_the_rest(book):
    from tests.test_charts_many import note, scenario

    from costcalc.scenario import read_scenario

    figure = charts.plot_lifecycle(costcalc.compare(read_scenario(scenario(9)), book))
    rows = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    # The rule of the other comparison charts: Variant 7, the dearest, is left out and named.
    assert rows == ["Base", "Tuned", "Variant 1", "Variant 2", "Variant 3", "Variant 4", "Variant 5", "Variant 6"]
    assert note(figure) == "Not drawn, 1 other strategy: Variant 7 ($912.58); every strategy is in the tables"


# --- the cumulative chart ---------------------------------------------------------------------------


def test_cumulative_chart_dashes_and_hollows_the_months_a_strategy_cannot_be_served(comparison_2026):
    figure = charts.plot_cumulative(comparison_2026)
    axes = figure.axes[0]
    result = comparison_2026.strategy(MINI)
    ys = [float(m.cumulative_usd) for m in result.months]
    (solid,) = [line for line in axes.get_lines() if line.get_label().startswith(f"{MINI}: ")]
    # Only December is served in full: the solid line has that month alone.
    assert list(solid.get_ydata())[0] == ys[0] and all(math.isnan(y) for y in solid.get_ydata()[1:])
    (faded,) = [line for line in axes.get_lines()
                if line.get_linestyle() == "--" and line.get_color() == solid.get_color()]
    assert list(faded.get_ydata()) == ys  # from December (joining the solid line) to November
    assert faded.get_markerfacecolor() == "white" and faded.get_markevery() == [False] + [True] * 11
    azure = next(line for line in axes.get_lines() if line.get_label().startswith(f"{ON_AZURE}: "))
    assert [not math.isnan(y) for y in azure.get_ydata()] == [True] * 10 + [False] * 2  # 2027-10 partly, 2027-11
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend[-1] == charts.NOT_SERVABLE == "not servable that month (all or part of it)"


def test_cumulative_chart_of_the_2023_example_has_no_unservable_marks(example_comparison):
    figure = charts.plot_cumulative(example_comparison)
    assert not [line for line in figure.axes[0].get_lines() if line.get_linestyle() == "--"]
    assert charts.NOT_SERVABLE not in [t.get_text() for t in figure.legends[0].get_texts()]


# --- the report -------------------------------------------------------------------------------------


def test_all_charts_of_the_2026_example_include_lifecycle_png(run, tmp_path):
    result = run("report", "--example", "2026", "-o", str(tmp_path / "charts"), "--all-charts",
                 "--dpi", "50")  # the least the command takes: layout is checked, not beauty
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == [
        "break-even-map.png", "cumulative-cost.png", "lifecycle.png", "monthly-cost.png", "price-history.png"]
    assert f"Wrote {tmp_path / 'charts' / 'lifecycle.png'}" in result.output.splitlines()


def test_the_2026_reports_pdf_has_a_lifecycle_page_after_the_key_chart(run, tmp_path):
    result = run("report", "--example", "2026", "-o", str(tmp_path / "report.pdf"))
    assert result.exit_code == 0, result.output
    pages = [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(tmp_path / "report.pdf").pages]
    lifecycle = [i for i, page in enumerate(pages) if "When each strategy can be bought" in page]
    monthly = [i for i, page in enumerate(pages) if "Monthly cost by component" in page]
    assert len(lifecycle) == 1 and lifecycle[0] + 1 == monthly[0]
    assert "training closed 2027-01-06; shut down 2027-01-14" in pages[lifecycle[0]]


def test_the_2026_markdown_links_the_lifecycle_png(book):
    from costcalc import report

    made = report.report_for(load_scenario(example="2026"), costcalc.load_pricebook(), sensitivity=False)
    names = made.chart_names()
    assert names == ["cumulative-cost", "lifecycle", "monthly-cost", "price-history"]
    text = report.markdown(made, [f"costcalc-report-{name}.png" for name in names])  # no PNGs needed
    assert "![When each strategy can be bought](costcalc-report-lifecycle.png)" in text


def test_the_2023_reports_stay_as_they_were(run, tmp_path, monkeypatch, example_report):
    monkeypatch.chdir(tmp_path)
    result = run("report")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "costcalc-report-break-even-map.png", "costcalc-report-cumulative-cost.png",
        "costcalc-report-monthly-cost.png", "costcalc-report-price-history.png",
        "costcalc-report-tokens-per-example.png", "costcalc-report.md", "costcalc-report.pdf"]
    # Page 1, three pages of notes, assumptions, sources and months, 5 charts and the dataset page:
    # the 10 pages it had before the lifecycle chart.
    assert len(pypdf.PdfReader(tmp_path / "reports" / "costcalc-report.pdf").pages) == 10
    assert "lifecycle" not in example_report.chart_names()
