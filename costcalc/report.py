"""Reports: one comparison written as a PDF, PNG charts or a Markdown summary.

A `Report` holds every result a report shows, computed once: the `Comparison`, the training
file's `DatasetReport` and token counts, the break-even sensitivity grid and the price book. Its
tables are those `costcalc compare --monthly` prints (`views.comparison`) and `costcalc dataset`
prints (`views.dataset_report`), and its charts are drawn from the same objects, so the PDF,
the PNGs, the Markdown and the terminal can never disagree.

Every file is written atomically (`costcalc.atomic`). The PDF carries no creation date and no
random ids, so the same input gives the same bytes (matplotlib would otherwise stamp the time, or
$SOURCE_DATE_EPOCH when set).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
import os
import pickle
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import charts, pdftext
from .errors import CostCalcError, UsageError
from .pdftext import UNKERNED
from .text import drawable, one_line

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .compare import Comparison
    from .dataset import DatasetReport
    from .pricing import PriceBook
    from .render import Output, Table
    from .scenario import Scenario
    from .sensitivity import SensitivityGrid

DEFAULT_DIR = Path("reports")
DEFAULT_STEM = "costcalc-report"
KEY_CHART = "cumulative-cost"
LIFECYCLE_CHART = "lifecycle"
PAGE = (11.69, 8.27)  # A4 landscape, inches
MARGIN = 36  # points (half an inch)

# Characters of text the PDF lays out at most (longer is cut with an ellipsis; the Markdown, the
# JSON and the PDF's metadata keep it in full): a heading holds three lines of the title, a page
# footer one short line; a table cell or a paragraph far more than any the report writes itself.
HEADING_LIMIT = 200
FOOTER_LIMIT = 80
CELL_LIMIT = 1_000
PARAGRAPH_LIMIT = 3_000

# Notes of one list (the break-even notes, a table's notes) the PDF prints at most, then how many
# more there are: a report of 2,000 strategies would otherwise spend minutes laying out 2,000
# paragraphs. The Markdown report and the JSON keep every one.
PDF_NOTES_LIMIT = 12

Progress = Callable[[str], None]  # called with a short message as each step starts


# --- the report ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """Everything a report shows; build it with `build_report` (or `report_for` from a scenario)."""

    comparison: Comparison
    book: PriceBook
    output: Output  # views.comparison(comparison, monthly=True): the summary, assumptions and monthly tables
    dataset: DatasetReport | None = None
    grid: SensitivityGrid | None = None  # break-even over traffic × prompt reduction, for the map
    # (month, replayed cost) of a usage history before the horizon (`--usage`), for the cumulative chart.
    history: tuple[tuple[dt.date, Decimal], ...] = ()

    @property
    def title(self) -> str:
        return self.comparison.assumptions.title or "costcalc report"

    def answer(self) -> str:
        return self.comparison.answer()

    @property
    def price_model(self) -> str:
        """The model whose price history the report shows: the fine-tuned strategy's, else the baseline's."""
        focus = self.comparison.focus
        return (focus or self.comparison.baseline_result).model

    def chart_names(self) -> list[str]:
        """The charts this report has, key chart first (file names: `<stem>-<name>.png`)."""
        names = [KEY_CHART]
        # Only when a model is shut down, a training run cannot happen or the like within the
        # horizon: a comparison without any keeps the report it always had.
        if charts.needs_lifecycle(self.comparison):
            names.append(LIFECYCLE_CHART)
        names.append("monthly-cost")
        if self.grid is not None:
            names.append("break-even-map")
        if self.dataset is not None:
            names.append("tokens-per-example")
        names.append("price-history")
        return names

    def figure(self, name: str, *, figure: Figure | None = None) -> Figure:
        """Draw one chart (into `figure` when given)."""
        if name == KEY_CHART:
            return charts.plot_cumulative(self.comparison, figure=figure, history=self.history)
        if name == LIFECYCLE_CHART and charts.needs_lifecycle(self.comparison):
            return charts.plot_lifecycle(self.comparison, figure=figure)
        if name == "monthly-cost":
            return charts.plot_monthly_breakdown(self.comparison, figure=figure)
        if name == "break-even-map" and self.grid is not None:
            return charts.plot_break_even_map(self.grid, mark=scenario_point(self.comparison), figure=figure)
        if name == "tokens-per-example" and self.dataset is not None:
            return charts.plot_tokens_histogram(self.dataset, figure=figure)
        if name == "price-history":
            return charts.plot_price_history(self.book, self.price_model, figure=figure)
        raise UsageError(f"no chart {name!r} in this report; charts are: {', '.join(self.chart_names())}")

    def tables(self) -> list[Table]:
        """Every table of the report, in reading order (summary first)."""
        from . import views

        tables = [self.output.table("summary"), self.output.table("assumptions"),
                  sources_table(self.comparison), self.output.table("monthly")]
        if self.dataset is not None:
            # The training file as the report names it (not an absolute site-packages path).
            shown = replace(self.dataset, file=views.shown_path(self.dataset.file))
            tables += views.dataset_report(shown).tables
        return tables


def build_report(comparison: Comparison, book: PriceBook, *, dataset: DatasetReport | None = None,
                 grid: SensitivityGrid | None = None, measured=None,
                 history: Sequence[tuple[dt.date, Decimal]] = ()) -> Report:
    """A report of results already computed (a notebook's, a script's). Charts that need a result
    not given (the histogram without `dataset`, the map without `grid`) are left out. `measured` is
    the traffic a usage history gave (`usage.MeasuredTraffic`), stated in the assumptions."""
    from . import views

    return Report(comparison, book, views.comparison(comparison, monthly=True, measured=measured), dataset, grid,
                  tuple(history))


def report_for(scenario: Scenario, book: PriceBook, *, progress: Progress | None = None,
               scan_progress: Callable[[int, int | None], None] | None = None, sensitivity: bool = True,
               measured=None, history: Sequence[tuple[dt.date, Decimal]] = ()) -> Report:
    """Compare the scenario, scan the fine-tuned strategy's training file and compute the
    sensitivity grid: everything a report shows.

    `progress(message)` is told each step; `scan_progress(bytes_done, bytes_total)` follows the
    dataset scans (what `costcalc.progress.ProgressBar` draws).
    """
    from .compare import compare

    say = progress or (lambda message: None)
    say("comparing strategies (and scanning the training file)")
    comparison = compare(scenario, book, scan_progress=scan_progress)
    focus = comparison.focus
    # The comparison scanned the training file to price the first training run; show that scan.
    dataset = focus.trainings[0].dataset if focus is not None and focus.trainings else None
    grid = None
    if sensitivity:
        say("computing the break-even map")
        grid = break_even_grid(comparison)
    return build_report(comparison, book, dataset=dataset, grid=grid, measured=measured, history=history)


def break_even_grid(comparison: Comparison, *, traffic_points: int = 41, reduction_points: int = 39):
    """The sensitivity grid a report maps: first-month traffic from a 30th to 10 times the
    scenario's (log-spaced), prompt reduction from 0% to 95%; None without a fine-tuned strategy."""
    if comparison.focus is None:
        return None
    import numpy as np

    from .sensitivity import sensitivity_grid

    first = float(comparison.assumptions.first_month_requests) or 1.0
    traffic = np.geomspace(first / 30, first * 10, traffic_points)
    reductions = np.linspace(0, 0.95, reduction_points)
    return sensitivity_grid(comparison, traffic, reductions)


def scenario_point(comparison: Comparison) -> tuple[float, float] | None:
    """(first-month requests, prompt reduction) of the scenario itself, for the map's cross."""
    focus, base = comparison.focus, comparison.baseline_result
    if focus is None or not base.tokens.prompt:
        return None
    reduction = 1 - focus.tokens.prompt / base.tokens.prompt
    return float(comparison.assumptions.first_month_requests), min(1.0, max(0.0, float(reduction)))


# --- sources ---------------------------------------------------------------------------------------


def sources_table(comparison: Comparison) -> Table:
    """The sources of the prices the comparison applied, each with the sheets that cite it for them:
    read from the result, which records every snapshot it priced, not worked out again."""
    from .render import Table
    from .views import shown_path

    a = comparison.assumptions
    rows = [[c.key, c.title, c.url or "-", ", ".join(c.sheets)]
            for c in sorted(a.sources, key=lambda c: _source_order(c.key))]
    used = {span.effective: span for month in a.price_sheets for span in month.spans}
    checked = sorted({span.checked.isoformat() for span in used.values() if span.checked is not None})
    notes = [f"Price sheets used: {', '.join(f'{s.effective.isoformat()} ({s.file})' for _, s in sorted(used.items()))}; "
             f"checked {', '.join(checked)}; from {shown_path(a.pricing_dir)}."]
    return Table("Sources of the prices", ["source", "title", "url", "cited by the sheets of"], rows, notes)


def _source_order(key: str) -> tuple:
    """S2 before S11a: by letters, then number, then suffix."""
    match = re.fullmatch(r"([^\d]*)(\d*)(.*)", key, re.DOTALL)
    assert match is not None  # every string matches: each group may be empty
    letters, number, rest = match.groups()
    return letters, int(number or 0), rest


# --- writing ---------------------------------------------------------------------------------------


SUFFIXES = (".pdf", ".png", ".md")  # the formats `write` picks by the path's suffix


def is_chart_folder(path: str | os.PathLike[str]) -> bool:
    """Whether `write(..., all_charts=True)` can write its PNGs into `path`: a folder, or a name that
    is neither a file nor a report's name."""
    target = Path(path)
    return target.is_dir() or not (target.is_file() or target.suffix.lower() in SUFFIXES)


def write(report: Report, path: str | os.PathLike[str], *, all_charts: bool = False, dpi: int = charts.DPI,
          progress: Progress | None = None, workers: int | None = None) -> list[Path]:
    """Write the report in the format the path's suffix picks; returns every file written.

    `.pdf` the multi-page summary; `.md` a Markdown summary with its PNGs beside it; `.png` the
    key chart (cumulative cost). With `all_charts`, `path` is a folder and every chart is written
    into it as a PNG. `workers`: processes to draw with (see `write_all`).
    """
    return write_all(report, [path], all_charts=all_charts, dpi=dpi, progress=progress, workers=workers)


def write_all(report: Report, targets: Sequence[str | os.PathLike[str]], *, all_charts: bool = False,
              dpi: int = charts.DPI, progress: Progress | None = None, workers: int | None = None) -> list[Path]:
    """`write` each target: the same files in the same order as one after the other, every target
    checked before anything is drawn.

    With `workers` > 1 (default: one per core), the drawing is shared out: each half of the PDF's
    pages and each PNG is a job, and this process and forked copies of it take the jobs one at a
    time, the longest first, until none is left (`costcalc report` without -o: the PDF, and the
    Markdown with its PNGs). The files are the same, byte for byte, whoever draws them."""
    return _carry_out(report, [_plan(report, Path(target), all_charts, dpi) for target in targets], progress, workers)


@contextlib.contextmanager
def writer_ahead(targets: Sequence[str | os.PathLike[str]], *, all_charts: bool = False, dpi: int = charts.DPI,
                 progress: Progress | None = None, workers: int | None = None) -> Iterator[Callable[[Report], list[Path]]]:
    """`write_all(report, targets, ...)` as a function of a report that does not exist yet.

    With `workers` > 1 (default: one per core), a forked copy of this process is started on
    entering the block: it imports matplotlib (a fifth of a second) while this process builds the
    report (the comparison, a training file's scan), and is sent the report, pickled, to write.
    The files are those `write_all` writes, byte for byte. Should the copy fail, the function
    writes here, where errors are raised as usual; leaving the block without calling it ends the
    copy, which has written nothing."""
    def here(report: Report) -> list[Path]:
        return write_all(report, targets, all_charts=all_charts, dpi=dpi, progress=progress, workers=workers)

    for target in targets:  # a mistake in the targets is raised now, before the report is built
        _checked(Path(target), all_charts)
    if _workers(workers) == 1:
        yield here
        return
    inbox, outbox = os.pipe()

    def write_when_sent(send: Callable[[Any], None]) -> None:
        os.close(outbox)
        _import_drawing(lean=True)  # this copy draws and ends
        with os.fdopen(inbox, "rb") as sent:
            report = pickle.load(sent)  # EOFError, and nothing written, when no report comes
        try:
            send(here(report))
        except CostCalcError as error:  # the user's to fix (a full disk): raised there, not redone
            send(error)

    # numpy, which the copy's matplotlib needs and this process too (the break-even map's grid),
    # imported once, before forking: the copy's import (the longer of the two, which the drawing
    # waits for) is then shorter by a fifth, and the comparison had time to spare beside it.
    import numpy  # noqa: F401

    with _Forked(write_when_sent) as helper:
        os.close(inbox)
        outgoing = os.fdopen(outbox, "wb")

        def write_report(report: Report) -> list[Path]:
            # From here on the copy may be writing files: it is waited for, never killed.
            helper.writes_files = True
            # A report that cannot be sent (a copy that ended, a second call) is written here.
            with contextlib.suppress(OSError, ValueError, TypeError, AttributeError, pickle.PicklingError):
                with outgoing:
                    pickle.dump(report, outgoing, protocol=pickle.HIGHEST_PROTOCOL)
            for written in helper.results():
                if isinstance(written, CostCalcError):
                    raise written
                return written
            return here(report)

        try:
            yield write_report
        finally:
            outgoing.close()


def write_png(report: Report, path: str | os.PathLike[str], chart: str = KEY_CHART, *, dpi: int = charts.DPI) -> Path:
    """One chart as a PNG (the key chart, cumulative cost, by default)."""
    return charts.save_png(report.figure(chart), path, dpi=dpi)


def write_pngs(report: Report, folder: str | os.PathLike[str], *, stem: str = "", dpi: int = charts.DPI,
               progress: Progress | None = None, workers: int | None = None) -> list[Path]:
    """Every chart as `<folder>/<stem->name.png`; returns the paths, key chart first. `workers`:
    processes to draw with (see `write_all`)."""
    from .atomic import check_writable

    check_writable(_png_path(Path(folder), stem, KEY_CHART))
    return _carry_out(report, [_pngs_plan(report, Path(folder), stem, dpi)], progress, workers)


def write_markdown(report: Report, path: str | os.PathLike[str], *, dpi: int = charts.DPI,
                   progress: Progress | None = None, workers: int | None = None) -> list[Path]:
    """The Markdown summary and, beside it, the PNGs it links; returns [the .md, the PNGs...]."""
    from .atomic import check_writable

    check_writable(path)
    return _carry_out(report, [_markdown_plan(report, Path(path), dpi)], progress, workers)


def markdown(report: Report, png_names: list[str]) -> str:
    """The Markdown text: the answer, the key chart, the summary, the assumptions, the monthly table,
    every other chart and the dataset statistics. `png_names` are the charts' file names, in
    `chart_names()` order, relative to the Markdown file."""
    from .render import render_markdown

    images = dict(zip(report.chart_names(), map(_link, png_names)))
    titles = chart_titles(report)
    summary, assumptions, sources, monthly, *dataset = report.tables()
    a = report.comparison.assumptions
    # On one line each (a newline in a title would end the heading), but in full.
    parts = [f"# {one_line(report.title)}", "", one_line(report.answer()), "",
             f"![{titles[KEY_CHART]}]({images[KEY_CHART]})", "",
             render_markdown(replace(summary, title="Summary")), "",
             render_markdown(assumptions), "", render_markdown(sources), "", render_markdown(monthly), "",
             "### Charts", ""]
    parts += [f"![{titles[name]}]({images[name]})\n" for name in report.chart_names() if name != KEY_CHART]
    for table in dataset:
        parts += [render_markdown(table), ""]
    parts += [f"_Written by costcalc from {a.scenario}; prices from the sheets listed above._", ""]
    return "\n".join(parts)


def _link(name: str) -> str:
    """A file name as a Markdown link target: as it is, unless it holds what would end the link
    (a space, a parenthesis) or bytes that are not UTF-8 (which the file name has, and U+FFFD in
    the text would not match): then percent-encoded, byte for byte."""
    if any(char.isspace() or char in "()<>" or "\udc80" <= char <= "\udcff" for char in name):
        from urllib.parse import quote

        return quote(os.fsencode(name))
    return name


def chart_titles(report: Report) -> dict[str, str]:
    """Each chart's title, as drawn on it: the alt text of the Markdown images."""
    focus = report.comparison.focus
    training_file = Path(report.dataset.file).name if report.dataset else ""
    titles = {
        KEY_CHART: "Cumulative cost by strategy",
        LIFECYCLE_CHART: "When each strategy can be bought",
        "monthly-cost": "Monthly cost by component",
        "break-even-map": f"When does {focus.name if focus else 'fine-tuning'} break even?",
        "tokens-per-example": f"Tokens per training example: {training_file}",
        "price-history": f"Price history of {report.price_model}",
    }
    return {name: one_line(titles[name]) for name in report.chart_names()}


# --- the PDF ---------------------------------------------------------------------------------------


def write_pdf(report: Report, path: str | os.PathLike[str], *, progress: Progress | None = None,
              workers: int | None = None) -> Path:
    """The multi-page summary: the answer, summary table and key chart on page 1, then the
    assumptions and sources, the monthly table, every chart and the dataset statistics.

    The pages are drawn as `PARTS` PDFs, each page into the one with the least drawing so far
    (`_Pages`), then put together in order. With `workers` > 1 (default: one per core), the parts
    are drawn by this process and a forked copy of it at once; the file is the same, byte for
    byte, as with `workers=1`, which draws both parts here."""
    from .atomic import check_writable

    check_writable(path)
    return _carry_out(report, [_pdf_plan(report, Path(path))], progress, workers)[0]


# The PDF's pages are drawn as this many PDFs, one per process on a two-core machine. Fixed, not
# the number of cores: the file must be the same on every machine.
PARTS = 2


def _draw_parts(report: Report, parts: Sequence[int],
                say: Progress = lambda message: None) -> tuple[dict[int, bytes], list[int]]:
    """The PDFs of the `parts` of the report's pages, and the part of each page (see `_Pages`), in
    one pass over the pages: every page is built, to know where each page breaks and which part
    it goes to, and only the pages of `parts` are laid out and drawn."""
    import io

    from matplotlib.backends.backend_pdf import PdfPages

    buffers = {k: io.BytesIO() for k in parts}
    with contextlib.ExitStack() as stack:
        # No dates in a part either (matplotlib would stamp the time): its bytes are those of any run.
        pdfs = {k: stack.enter_context(PdfPages(buffer, metadata={"CreationDate": None, "ModDate": None}))
                for k, buffer in buffers.items()}
        pages = _Pages(pdfs, report.title)
        _write_pages(pages, report, say)
    return {k: buffer.getvalue() for k, buffer in buffers.items()}, pages.parts


def _join_parts(parts: list[bytes], placed: list[int], metadata: dict[str, str], path: Path) -> None:
    """The pages of `parts` back in reading order (`placed`: the part of each page), as one PDF at `path`."""
    from .pdfjoin import join

    order = [(part, placed[:number].count(part)) for number, part in enumerate(placed)]
    path.write_bytes(join(parts, order, metadata))


def _write_pages(pages: _Pages, report: Report, say: Progress) -> None:
    """Every page of the PDF, in order, through `pages`."""
    summary, assumptions, sources, monthly, *dataset = report.tables()
    say("writing page 1")
    _first_page(pages, report, summary)
    say("writing the assumptions and the monthly table")
    flow = pages.flow()
    if summary.notes:
        flow.heading("Break-even and notes", size=11)
        for note in _capped(summary.notes):
            flow.paragraph(note, size=8.5)
    for table in (_drawn_only(report.comparison, assumptions), sources, _drawn_only(report.comparison, monthly)):
        flow.table(table)
    flow.finish()
    for name in report.chart_names():
        say(f"drawing {name}")
        pages.chart(name, _chart_drawer(report, name))
    if dataset:
        flow = pages.flow()
        for table in dataset:
            flow.table(table)
        flow.finish()


# About how long a page of each kind takes to draw, a page of text and tables being 1 (measured on
# the bundled example): the pages go to the part that has the least so far, and the slowest charts'
# PNGs are handed out first. Only the speed depends on it, never what a page shows; the same numbers
# give the same parts on every machine.
_PAGE_COSTS = {"text": 1.0, KEY_CHART: 1.3, "monthly-cost": 3.3, "break-even-map": 2.7, LIFECYCLE_CHART: 1.7,
               "price-history": 1.4, "tokens-per-example": 1.1}


def _capped(notes: list[str]) -> list[str]:
    """The first `PDF_NOTES_LIMIT` notes and, when there are more, a line saying how many."""
    if len(notes) <= PDF_NOTES_LIMIT:
        return notes
    more = len(notes) - PDF_NOTES_LIMIT
    return [*notes[:PDF_NOTES_LIMIT],
            f"… and {more:,} more note{'' if more == 1 else 's'}: every one is in the Markdown report and the JSON."]


def _drawn_only(comparison: Comparison, table: Table) -> Table:
    """The table's rows about the strategies the charts draw (all of them, up to `charts.MOST_DRAWN`),
    with a note saying where the others are: of 2,000 strategies, the monthly table alone would be
    24,000 rows, hundreds of pages no one reads, that take minutes to lay out."""
    drawn, rest = charts.drawn_strategies(comparison)
    if not rest:
        return table
    note = (f"Only the {len(drawn)} strategies the charts draw; all {len(comparison.strategies):,} are in the "
            "Markdown report and the JSON (`costcalc compare --monthly --format csv` for the months).")
    return replace(table.of_strategies({s.name for s in drawn}), notes=[note, *table.notes])


def _chart_drawer(report: Report, name: str) -> Callable[[Figure], Figure]:
    """Draws the report's chart `name` into the figure (a page's region) it is given."""

    def draw(figure: Figure) -> Figure:
        return report.figure(name, figure=figure)

    return draw


def _first_page(pages: _Pages, report: Report, summary: Table) -> None:
    flow = pages.flow(_PAGE_COSTS["text"] + _PAGE_COSTS[KEY_CHART])  # the key chart below the summary
    flow.heading(report.title, size=16)
    flow.paragraph(f"{report.comparison.horizon}; scenario {report.comparison.assumptions.scenario}",
                   size=9, colour="#555555")
    flow.paragraph(report.answer(), size=12.5, weight="bold", colour="#111111")
    # The legend says how to read the table; the break-even notes open page 2.
    flow.table(_drawn_only(report.comparison, replace(summary, title=None, notes=[])), size=8.5)
    # The key chart fills what is left of the page.
    flow.chart_below(lambda figure: report.figure(KEY_CHART, figure=figure))
    flow.finish()


class _Pages:
    """A PDF of A4-landscape pages, each with the report title and its number in the footer,
    drawn into `pdfs`: each page into the part with the least drawing to do so far, by the
    `_PAGE_COSTS` of its kind, so that the parts take about as long. A page of a part not in
    `pdfs` is built (the pages after it depend on where it breaks) but neither laid out nor
    drawn. `parts` says, page by page, which part each went to: the same in every process."""

    def __init__(self, pdfs: dict[int, Any], title: str):
        self.pdfs = pdfs
        self.title = title
        self.parts: list[int] = []  # the part of each page so far, drawn here or not
        self.loads = [0.0] * PARTS
        self.part = 0  # of the page being built

    def begin(self, cost: float) -> None:
        """A page of about that much drawing starts: it goes to the part with the least so far."""
        self.part = min(range(PARTS), key=lambda k: (self.loads[k], k))
        self.loads[self.part] += cost

    def drawn(self) -> bool:
        """Whether the page being built (the next one saved) is drawn here."""
        return self.part in self.pdfs

    def new(self) -> Figure:
        """A blank page; dpi 72 makes one unit one point, so the layout below is in points."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=PAGE, dpi=72)
        FigureCanvasAgg(figure)
        return figure

    def region(self, figure: Figure, top: float, bottom: float = 40.0):
        """The part of a page between `top` and `bottom` points from its edges and within the side
        margins, as a SubFigure that charts lay themselves out in (titles and legends included)."""
        from matplotlib.layout_engine import ConstrainedLayoutEngine

        figure.set_layout_engine(ConstrainedLayoutEngine())
        height = PAGE[1] * 72 - top - bottom
        width = PAGE[0] * 72 - 2 * MARGIN
        import numpy as np

        cells = figure.subfigures(3, 3, width_ratios=[MARGIN, width, MARGIN], height_ratios=[top, height, bottom])
        assert isinstance(cells, np.ndarray)  # a 3 × 3 grid of SubFigures (one alone would not be an array)
        # Drawn after the page's own text, so the PDF's text reads title, answer, table, then chart.
        cells[1][1].set_zorder(10)
        return cells[1][1]

    def save(self, figure: Figure) -> None:
        pdf = self.pdfs.get(self.part)
        self.parts.append(self.part)
        if pdf is None:
            return
        if figure.get_layout_engine() is not None:
            _lay_out(figure)
        width, y = PAGE[0] * 72, 18 / (PAGE[1] * 72)
        # zorder: the footer comes after the page's content in the PDF's text, as a reader expects.
        footer: dict[str, Any] = {"fontsize": 7, "color": "#777777", "zorder": 20, "va": "bottom"}
        figure.text(MARGIN / width, y, f"costcalc · {drawable(self.title, FOOTER_LIMIT)}", ha="left", **footer)
        figure.text(1 - MARGIN / width, y, f"page {len(self.parts)}", ha="right", **footer)
        pdf.savefig(figure)

    def chart(self, name: str, draw: Callable[[Figure], Figure]) -> None:
        """A page holding one chart, drawn within the margins (only built where it is drawn)."""
        self.begin(_PAGE_COSTS.get(name, 1.0))
        if not self.drawn():
            self.parts.append(self.part)
            return
        figure = self.new()
        draw(self.region(figure, top=MARGIN))
        self.save(figure)

    def flow(self, cost: float = _PAGE_COSTS["text"]) -> _Flow:
        """Flowing text from a new page on, the first page of about `cost` (default: text alone)."""
        return _Flow(self, cost)


class _Flow:
    """Text and tables laid out top to bottom, in points, onto as many pages as they need.

    Every block passes its text through `costcalc.text.drawable` first, so what is measured is
    what is drawn: on one line, of a length the layout can hold, in glyphs the fonts have.
    """

    def __init__(self, pages: _Pages, cost: float = _PAGE_COSTS["text"]):
        self.pages = pages
        self.cost = cost  # of the first page (see _Pages.begin)
        self.width = PAGE[0] * 72 - 2 * MARGIN
        self.height = PAGE[1] * 72
        self.bottom = 48  # points above the page's bottom edge kept for the footer
        self.figure: Figure | None = None
        self.lines: list[_Line] = []  # the text of the page being built, drawn by its _TextBlock
        self.y = 0.0  # points from the top of the page

    # --- pages and measuring ---

    def page(self) -> Figure:
        if self.figure is None:
            self.pages.begin(self.cost)
            self.cost = _PAGE_COSTS["text"]  # the pages after the first are text and tables
            self.figure = self.pages.new()
            self.lines = _text_block(self.figure)
            self.y = MARGIN
        return self.figure

    def break_page(self) -> None:
        if self.figure is not None:
            self.pages.save(self.figure)
        self.figure = None
        self.page()

    def finish(self) -> None:
        if self.figure is not None:
            self.pages.save(self.figure)
            self.figure = None

    def room(self) -> float:
        return self.height - self.bottom - self.y

    def measure(self, text: str, size: float, weight: str = "normal") -> float:
        """Width of `text` in points, from the font's advance widths (kerning ignored, 2% spare).

        Asking matplotlib to lay out each cell costs a millisecond or more per string; a table of
        a few hundred cells measured glyph by glyph costs nothing.
        """
        advances = _advances(weight)
        return size * 1.02 * sum(advances(char) for char in text)

    def text(self, x: float, text: str, size: float, dy: float = 0, *, colour: str, weight: str = "normal",
             right: bool = False) -> None:
        """Draw one line with its top `dy` points below the current y, starting (or, `right`, ending)
        x points from the left margin."""
        self.page()
        self.lines.append(_Line(MARGIN + x, self.y + dy, text, size, weight, colour, right))

    def wrap(self, text: str, size: float, width: float, weight: str = "normal") -> list[str]:
        """Lines of `text` that each fit in `width` points (measured, not guessed); a word wider
        than `width` on its own is broken between characters."""
        lines = []
        for paragraph in text.split("\n"):
            line = ""
            for word in paragraph.split(" "):
                for piece in self._pieces(word, size, width, weight):
                    candidate = f"{line} {piece}" if line else piece
                    if line and self.measure(candidate, size, weight) > width:
                        lines.append(line)
                        line = piece
                    else:
                        line = candidate
            lines.append(line)
        return lines

    def _pieces(self, word: str, size: float, width: float, weight: str) -> list[str]:
        """`word` whole if it fits in `width`, else cut into pieces that do (one character at least)."""
        if self.measure(word, size, weight) <= width:
            return [word]
        pieces, piece = [], ""
        for char in word:
            if piece and self.measure(piece + char, size, weight) > width:
                pieces.append(piece)
                piece = ""
            piece += char
        return [*pieces, piece]

    # --- blocks ---

    def heading(self, text: str, size: float = 13) -> None:
        text = drawable(text, HEADING_LIMIT, weight="bold")
        if self.room() < size * 4:
            self.break_page()
        self.page()
        for line in self.wrap(text, size, self.width, "bold"):
            self.text(0, line, size, weight="bold", colour="#111111")
            self.y += size * 1.35
        self.y += size * 0.3

    def paragraph(self, text: str, size: float = 9, weight: str = "normal", colour: str = "#333333") -> None:
        text = drawable(text, PARAGRAPH_LIMIT, weight=weight)
        for line in self.wrap(text, size, self.width, weight):
            if self.room() < size * 1.4:
                self.break_page()
            self.text(0, line, size, weight=weight, colour=colour)
            self.y += size * 1.4
        self.y += size * 0.6

    def table(self, table: Table, size: float = 8) -> None:
        """A table with a bold header, numbers right-aligned and long text wrapped; split across
        pages with the header repeated."""
        from .render import display

        cells = [[drawable(display(cell), CELL_LIMIT) for cell in row] for row in table.rows]
        headers = [drawable(header, CELL_LIMIT, weight="bold") for header in table.headers]
        right = [_numeric(table, i) for i in range(len(headers))]
        widths = self._column_widths(headers, cells, size)
        line_height = size * 1.45
        wrapped = [[self.wrap(text, size, widths[i]) if self.measure(text, size) > widths[i] else [text]
                    for i, text in enumerate(row)] for row in cells]
        heights = [max(len(lines) for lines in row) * line_height for row in wrapped]
        whole = (11 * 1.65 if table.title else 0) + size * 1.7 + sum(heights)
        if self.room() < whole <= self.height - self.bottom - MARGIN:
            self.break_page()  # a table that fits on a page is not split across two
        if table.title:
            self.heading(table.title, size=11)
        self._header(headers, widths, right, size)
        for index, row in enumerate(wrapped):
            height = heights[index]
            if self.room() < height + 2:
                self.break_page()
                if table.title:
                    self.heading(f"{table.title} (continued)", size=11)
                self._header(headers, widths, right, size)
            if index % 2:
                self._band(height, sum(widths) + _GAP * (len(widths) - 1))
            x = 0.0
            for i, lines in enumerate(row):
                for n, line in enumerate(lines):
                    self.text(x + (widths[i] if right[i] else 0), line, size, dy=n * line_height,
                              colour="#111111", right=right[i])
                x += widths[i] + _GAP
            self.y += height
        self.y += size * 0.5
        for note in _capped(table.footer):
            self.paragraph(note, size=size - 0.5, colour="#444444")
        self.y += size

    def chart_below(self, draw: Callable[[Figure], Figure]) -> None:
        """Draw a chart in the rest of the page (a new page when less than a third is left)."""
        if self.room() < self.height / 3:
            self.break_page()
        if self.pages.drawn():  # the chart is the slow part of a page; only where the page is drawn
            draw(self.pages.region(self.page(), top=self.y + 4))
        self.y = self.height

    def _column_widths(self, headers, cells, size) -> list[float]:
        """Each column as wide as its widest cell. If that is too wide for the page, the widest
        columns are cut to one common width (found by bisection) and wrap, the narrow ones keep
        theirs; none gets narrower than its header or its longest word (a URL does not break)."""
        columns = range(len(headers))
        natural = [max([self.measure(h, size, "bold")] + [self.measure(row[i], size) for row in cells])
                   for i, h in enumerate(headers)]
        header = [self.measure(h, size, "bold") for h in headers]
        floor = [max([header[i]] + [self.measure(word, size) for row in cells for word in row[i].split(" ")])
                 for i in columns]
        available = self.width - _GAP * (len(headers) - 1)
        if sum(natural) <= available:
            return natural
        if sum(floor) > available:
            # Words too long for the page however the columns are cut (a name of 300 letters
            # without a space): `wrap` breaks them, so their columns need only hold the header.
            cap = _largest(lambda cap: sum(min(f, cap) for f in floor) <= available, max(floor))
            floor = [f if f <= cap else header[i] for i, f in enumerate(floor)]

        def widths(cap: float) -> list[float]:
            return [min(natural[i], max(cap, floor[i])) for i in columns]

        return widths(_largest(lambda cap: sum(widths(cap)) <= available, max(natural)))

    def _header(self, headers, widths, right, size) -> None:
        from matplotlib.patches import Rectangle

        if self.room() < size * 4:
            self.break_page()
        x = 0.0
        for i, header in enumerate(headers):
            self.text(x + (widths[i] if right[i] else 0), header, size, weight="bold", colour="#111111",
                      right=right[i])
            x += widths[i] + _GAP
        self.y += size * 1.5
        figure = self.page()
        if self.pages.drawn():  # a Rectangle costs a millisecond: none on a page another process draws
            line_y = 1 - (self.y - size * 0.2) / self.height
            figure.add_artist(Rectangle((MARGIN / (PAGE[0] * 72), line_y),
                                        min(x - _GAP, self.width) / (PAGE[0] * 72), 0.6 / self.height,
                                        transform=figure.transFigure, color="#333333", linewidth=0))
        self.y += size * 0.2

    def _band(self, height: float, width: float) -> None:
        """A light band behind every other row, to follow a row across a wide table."""
        from matplotlib.patches import Rectangle

        figure = self.page()
        if not self.pages.drawn():  # as for a header's rule
            return
        top = 1 - (self.y - 1.5) / self.height
        figure.add_artist(Rectangle((MARGIN / (PAGE[0] * 72) - 2 / (PAGE[0] * 72), top - height / self.height),
                                    (width + 4) / (PAGE[0] * 72), height / self.height,
                                    transform=figure.transFigure, color="#f2f2f2", linewidth=0, zorder=-1))


_GAP = 10.0  # points between table columns


def _largest(fits: Callable[[float], bool], high: float) -> float:
    """The largest x in [0, high] for which `fits(x)`, to within high / 2**40 (by bisection)."""
    low = 0.0
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def _lay_out(figure: Figure) -> None:
    """Run the page's constrained layout once, round every position it chose to a millionth of the
    page, and switch the layout engine off, so that the page is drawn as laid out.

    kiwisolver, which solves the layout, orders its variables by memory address, so the same page
    can come out different in the last bit from one run to the next, and a PDF prints enough
    digits to show it. Rounded, the same input gives the same bytes, whichever process draws it.
    """
    import numpy as np

    # The layout engine alone, not a whole draw pass to run it: the page is drawn once, when written.
    engine = figure.get_layout_engine()
    assert engine is not None
    engine.execute(figure)
    # None, not "none": savefig draws a page twice (once only to lay it out) for any layout engine,
    # even the placeholder "none".
    figure.set_layout_engine(None)
    subfigures, axes, texts = _laid_out(figure)
    for sub in subfigures:
        sub.bbox_relative.set_points(np.round(sub.bbox_relative.get_points(), 6))
    for a in axes:
        original, active = (np.round(a.get_position(original=which).bounds, 6).tolist() for which in (True, False))
        a.set_position(original, which="original")
        a.set_position(active, which="active")
    for text in texts:
        x, y = text.get_position()
        text.set_position((round(float(x), 6), round(float(y), 6)))


def _laid_out(figure: Figure) -> tuple[list, list, list]:
    """(SubFigures, Axes, Texts placed by the layout) of a page."""
    from matplotlib.axes import Axes
    from matplotlib.figure import SubFigure
    from matplotlib.text import Text

    subfigures = figure.findobj(SubFigure)
    # A Figure's own transSubfigure is its transFigure: the page and each SubFigure in it.
    frames = {id(f.transSubfigure) for f in subfigures} | {id(figure.transFigure)}
    # Titles and notes placed by the layout, not data labels.
    texts = [t for t in figure.findobj(Text) if id(t.get_transform()) in frames]
    return subfigures, figure.findobj(Axes), texts


def _advances(weight: str) -> Callable[[str], float]:
    """char -> advance width at 1 pt, from the first of the report's fonts that has the glyph
    (DejaVu Sans, then the installed fallbacks: `costcalc.text.fonts`), as matplotlib draws it."""
    advance = _ADVANCES.get(weight)
    if advance is None:
        import functools

        from matplotlib.ft2font import LoadFlags

        from .text import fonts

        chain = fonts(weight)

        @functools.lru_cache(maxsize=None)
        def cached(char: str) -> float:
            font, code = _glyph_font(chain, char)
            font.set_size(100, 72)
            glyph = font.load_char(code, flags=LoadFlags.NO_HINTING)
            return glyph.linearHoriAdvance / 65536 / 100

        _ADVANCES[weight] = advance = cached
    return advance


_ADVANCES: dict[str, Callable[[str], float]] = {}


def _glyph_font(chain: Sequence[Any], char: str) -> tuple[Any, int]:
    """(the font of `chain` that draws `char`, the code point it draws): the first font that has the
    glyph, as matplotlib falls back. Text reaches here through `drawable`, so some font has it; if
    none does, the first font's "�"."""
    from .text import REPLACEMENT

    font = next((f for f in chain if f.get_char_index(ord(char))), None)
    return (font, ord(char)) if font is not None else (chain[0], ord(REPLACEMENT))


# --- the text of the flowing pages ------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """One line of a flowing page's text: `x` points from the page's left edge (where it starts, or
    ends if `right`), its top `top` points below the page's top edge."""

    x: float
    top: float
    text: str
    size: float
    weight: str
    colour: str
    right: bool


def _text_block(figure: Figure) -> list[_Line]:
    """A new, empty list of lines that `figure` draws, in order, as its flowing text.

    Headings, paragraphs and table cells are hundreds of lines a page. A matplotlib Text each would
    lay every line out twice (once to measure it, once to draw it: shaping a string costs most of a
    millisecond); one artist drawing them all lays each out once, where it is drawn, and places it
    from the font's metrics, which cost nothing once read, exactly where a Text with va="top" (and
    ha="right" for `right` lines) would have put it."""
    block = _text_block_type()()
    figure.add_artist(block)
    return block.lines


@functools.cache
def _text_block_type() -> type:
    """The Artist class behind `_text_block` (defined here: matplotlib is imported only to draw)."""
    from matplotlib.artist import Artist

    class TextBlock(Artist):
        zorder = 3  # a Text's: drawn after the bands and rules, before the charts (10) and the footer (20)

        def __init__(self) -> None:
            super().__init__()
            self.lines: list[_Line] = []

        def draw(self, renderer) -> None:
            figure = self.get_figure(root=True)
            if self.get_visible() and figure is not None:
                _draw_lines(self.lines, renderer, figure)
            self.stale = False

    return TextBlock


def _draw_lines(lines: list[_Line], renderer, figure: Figure) -> None:
    """Draw `lines` in order through `renderer`, each with one `renderer.draw_text`, as Text would."""
    from matplotlib.colors import to_rgba
    from matplotlib.font_manager import FontProperties

    scale = figure.dpi / 72  # pixels per point (1 on a page, whose dpi is 72)
    page_height = figure.bbox.height
    properties: dict[tuple[float, str], FontProperties] = {}
    gc = renderer.new_gc()
    # Numbers straight into a PDF's operators, where the renderer is one that allows it (see costcalc.pdftext).
    draw_number = pdftext.drawer(renderer)
    for line in lines:
        if not line.text:
            continue
        key = (line.size, line.weight)
        if key not in properties:
            # From the rcParams now in force (costcalc's style: its font families, fallbacks included).
            properties[key] = FontProperties(size=line.size, weight=line.weight)
        prop = properties[key]
        x = line.x * scale
        if line.right:
            x -= _width(line.text, line.size, line.weight, prop, renderer, scale)
        # va="top": the baseline lies one ascent below the top, the line's tallest glyph's or, if
        # higher, the font's typographic ascender (matplotlib.text.Text._get_layout).
        y = page_height - (line.top + _ascent(line.text, line.size, line.weight)) * scale
        if renderer.flipy():
            y = renderer.get_canvas_width_height()[1] - y
        gc.set_foreground(to_rgba(line.colour), isRGBA=True)
        if draw_number is None or not draw_number(gc, x, y, line.text, prop, line.weight):
            renderer.draw_text(gc, x, y, line.text, prop, 0)
    gc.restore()


def _width(text: str, size: float, weight: str, prop, renderer, scale: float) -> float:
    """Width of `text` in pixels as matplotlib lays it out (kerning included): what a Text with
    ha="right" moves its start left by. A number is added up from its characters' advances; other
    text (a table's header) is laid out by matplotlib to know."""
    if UNKERNED.issuperset(text):
        advances = _sized_advances(size, weight)
        return sum(advances[char] for char in text) * scale
    return renderer.get_text_width_height_descent(text, prop, ismath=False)[0]


def _sized_advances(size: float, weight: str) -> dict[str, float]:
    """Advance width in points of each `UNKERNED` character at `size`, in the font's 64ths of a
    point as matplotlib adds them up (to the last 64th: the width of a Text)."""
    advances = _SIZED_ADVANCES.get((size, weight))
    if advances is None:
        from matplotlib.ft2font import LoadFlags

        from .text import fonts

        font = fonts(weight)[0]  # DejaVu Sans has every one of them
        font.set_size(size, 72)
        advances = {char: font.load_char(ord(char), flags=LoadFlags.NO_HINTING).horiAdvance / 64
                    for char in UNKERNED}
        _SIZED_ADVANCES[(size, weight)] = advances
    return advances


_SIZED_ADVANCES: dict[tuple[float, str], dict[str, float]] = {}


def _ascent(text: str, size: float, weight: str) -> float:
    """Height above the baseline of `text` in points, as matplotlib aligns a line to its top: its
    tallest glyph or, if higher, the first font's typographic ascender."""
    ascents = _ASCENTS.get((size, weight))
    if ascents is None:
        ascents = _ASCENTS[(size, weight)] = _Ascents(size, weight)
    return max(ascents[char] for char in text)


class _Ascents(dict[str, float]):
    """char -> height in points above the baseline it counts for at one size and weight, filled
    as characters are met."""

    def __init__(self, size: float, weight: str):
        super().__init__()
        from .text import fonts

        self.size = size
        self.chain = fonts(weight)
        first = self.chain[0]
        os2, head = first.get_sfnt_table("OS/2"), first.get_sfnt_table("head")
        assert os2 is not None and head is not None  # DejaVu Sans has both tables
        # The arithmetic of matplotlib.text.Text._get_layout, to the last bit.
        self.least = os2["sTypoAscender"] * (1 / head["unitsPerEm"] * size * 72 / 72)

    def __missing__(self, char: str) -> float:
        from matplotlib.ft2font import LoadFlags

        font, code = _glyph_font(self.chain, char)
        font.set_size(self.size, 72)
        glyph = font.load_char(code, flags=LoadFlags.NO_HINTING)
        self[char] = max(self.least, glyph.bbox[3] / 64)
        return self[char]


_ASCENTS: dict[tuple[float, str], _Ascents] = {}


# --- the jobs of drawing, shared out between processes ---------------------------------------------


@dataclass(frozen=True)
class _Job:
    """One piece of the writing: part `part` of the PDF's pages (its bytes come back, and the part
    of each page); with `links`, the text of the Markdown summary that links those PNGs (the
    text comes back); else the chart `chart` as a PNG (its bytes come back, for `path`). No job
    writes a file: the plans write them all once every job is done (`_carry_out`)."""

    part: int | None = None
    chart: str = ""
    path: Path = Path()
    dpi: int = charts.DPI
    links: tuple[str, ...] | None = None

    @property
    def cost(self) -> float:
        """About how long the job takes, by `_PAGE_COSTS` (a PDF part: more than any other job)."""
        if self.part is not None:
            return math.inf
        return _MARKDOWN_COST if self.links is not None else _PAGE_COSTS.get(self.chart, 1.0)

    def do(self, report: Report, say: Progress) -> Any:
        if self.part is not None:
            with charts.style():
                drawn, parts = _draw_parts(report, [self.part], say)
                return drawn[self.part], parts
        if self.links is not None:
            say("writing the Markdown summary")
            return markdown(report, list(self.links))
        say(f"drawing {self.chart}")
        return charts.png_bytes(report.figure(self.chart), dpi=self.dpi)


# The Markdown summary's text, on the scale of `_PAGE_COSTS`: the shortest job, so the last one
# taken, by whichever process is done drawing first (its first table imports tabulate).
_MARKDOWN_COST = 0.2


@dataclass(frozen=True)
class _Plan:
    """How one target is written: its jobs, then `finish`, given their results in order, writes
    the target's files (the joined PDF, the PNGs, the Markdown) and returns them."""

    jobs: list[_Job]
    finish: Callable[[list[Any]], list[Path]]


def _plan(report: Report, target: Path, all_charts: bool, dpi: int) -> _Plan:
    """The plan for writing `target` in the format its suffix picks (see `write`)."""
    kind = _checked(target, all_charts)
    if kind == "folder":
        return _pngs_plan(report, target, "", dpi)
    if kind == ".pdf":
        return _pdf_plan(report, target)
    if kind == ".png":
        return _pngs_written([_Job(chart=KEY_CHART, path=target, dpi=dpi)])
    return _markdown_plan(report, target, dpi)


def _checked(target: Path, all_charts: bool) -> str:
    """What `target` is written as ("folder" of PNGs, ".pdf", ".png" or ".md"), once it is known
    that it can be: a format its suffix picks, in a folder that takes a file (created if missing).
    Checked before anything is drawn, so that a mistake is not found only at the end."""
    from .atomic import check_writable

    if all_charts:
        if not is_chart_folder(target):
            raise UsageError(f"{target}: all_charts writes a folder of PNGs: give a folder, not a file")
        check_writable(_png_path(target, "", KEY_CHART))
        return "folder"
    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(f"{target}: the output's suffix picks the format: .pdf, .png or .md "
                         "(or all_charts=True and a folder)")
    check_writable(target)
    return suffix


def _pdf_plan(report: Report, path: Path) -> _Plan:
    def join(drawn: list[tuple[bytes, list[int]]]) -> list[Path]:
        from . import __version__
        from .atomic import atomic_path

        # No dates: the same input must give the same bytes. The title in full here, whatever the
        # pages have room for.
        import matplotlib

        metadata = {"/Title": one_line(report.title), "/Subject": one_line(report.answer()),
                    "/Creator": f"costcalc {__version__}",
                    "/Producer": f"matplotlib {matplotlib.__version__} (pages), costcalc.pdfjoin (the file)"}
        with atomic_path(path) as temp:
            _join_parts([part for part, _ in drawn], drawn[0][1], metadata, temp)
        return [path]

    return _Plan([_Job(part=k) for k in range(PARTS)], join)


def _pngs_plan(report: Report, folder: Path, stem: str, dpi: int) -> _Plan:
    """Every chart as `<folder>/<stem->name.png`, key chart first."""
    return _pngs_written([_Job(chart=name, path=_png_path(folder, stem, name), dpi=dpi)
                          for name in report.chart_names()])


def _pngs_written(jobs: list[_Job]) -> _Plan:
    """The PNGs of `jobs`, each written at its path once drawn."""
    def write_pngs(drawn: list[bytes]) -> list[Path]:
        from .atomic import write_bytes

        return [write_bytes(job.path, png) for job, png in zip(jobs, drawn)]

    return _Plan(jobs, write_pngs)


def _png_path(folder: Path, stem: str, chart: str) -> Path:
    """Where a chart's PNG goes: `<folder>/<stem->name.png`."""
    return folder / f"{stem + '-' if stem else ''}{chart}.png"


def _markdown_plan(report: Report, path: Path, dpi: int) -> _Plan:
    """The Markdown summary and, beside it, the PNGs it links."""
    pngs = _pngs_plan(report, path.parent, path.stem, dpi)
    text = _Job(links=tuple(job.path.name for job in pngs.jobs))

    def write_text_and_list(results: list[Any]) -> list[Path]:
        from .atomic import write_text

        *drawn, summary = results
        paths = pngs.finish(drawn)
        write_text(path, summary)
        return [path, *paths]

    return _Plan([*pngs.jobs, text], write_text_and_list)


def _carry_out(report: Report, plans: list[_Plan], progress: Progress | None, workers: int | None) -> list[Path]:
    """Every plan's jobs done, then each plan finished, in order; returns the files written.

    No file is written until every job is done, and none replaces its file until all of them
    are written: a drawing or a write that fails, or an interrupt, leaves every file as it was."""
    from .atomic import together

    jobs = [job for plan in plans for job in plan.jobs]
    results = _share_out(report, jobs, progress or (lambda message: None), workers)
    written: list[Path] = []
    start = 0
    with together():  # a full disk at the last file replaces none of them
        for plan in plans:
            written += plan.finish(results[start:start + len(plan.jobs)])
            start += len(plan.jobs)
    return written


def _share_out(report: Report, jobs: list[_Job], say: Progress, workers: int | None) -> list[Any]:
    """The result of each job, in order. With `workers` > 1, this process and `workers - 1` forked
    copies of it take the jobs one at a time from a queue, the PDF's parts first, then the
    slowest charts, the Markdown's text last, until none is left; whatever a copy fails to do (an
    exception, a crash) is done here at the end, where errors are raised as usual."""
    # The longest first (the PDF's parts, then the slowest charts), so that the last job to end is
    # a short one. Only the speed depends on it, never the files.
    order = sorted(range(len(jobs)), key=lambda i: (-jobs[i].cost, i))
    count = min(_workers(workers), len(jobs))
    results: dict[int, Any] = {}
    if count > 1 and len(jobs) <= _MOST_QUEUED:
        _import_drawing()
        # The queue is a pipe holding each job's number in two bytes, written before anyone reads:
        # a read of two bytes takes one job, and no two processes take the same one.
        taken, queue = os.pipe()
        os.write(queue, b"".join(i.to_bytes(2, "big") for i in order))
        os.close(queue)

        def take() -> int | None:
            number = os.read(taken, 2)
            return int.from_bytes(number, "big") if number else None

        parent = os.getpid()

        def work(send: Callable[[Any], None]) -> None:
            # Not another job for a process that has ended (where the kernel does not end its children).
            while os.getppid() == parent and (i := take()) is not None:
                send((i, jobs[i].do(report, lambda message: None)))

        try:
            with contextlib.ExitStack() as stack:
                # A job writes no file (the plans do, at the end): a helper can be stopped mid-job.
                helpers = [stack.enter_context(_Forked(work)) for _ in range(count - 1)]
                # Each helper's results read as they come: a helper sending a PDF part (more than
                # a pipe holds) would otherwise wait for this process to finish, not take more jobs.
                readers = [threading.Thread(target=lambda helper=helper: results.update(helper.results()), daemon=True)
                           for helper in helpers]
                for reader in readers:
                    reader.start()
                try:
                    while (i := take()) is not None:
                        results[i] = jobs[i].do(report, say)
                except BaseException:
                    while os.read(taken, 4096):  # no job left for anyone, and the helpers stop now
                        pass
                    for helper in helpers:
                        helper.stop()
                    raise
                finally:
                    for reader in readers:
                        reader.join()
        finally:
            os.close(taken)
    for i in order:
        if i not in results:  # one process, or a helper failed: done here
            results[i] = jobs[i].do(report, say)
    return [results[i] for i in range(len(jobs))]


# Jobs the queue takes at most: two bytes each, 4 KB, what the smallest pipe holds (Linux gives a
# user over its pipe quota pipes of one page), so that it is written whole before anyone reads. A
# longer list is drawn in this process alone.
_MOST_QUEUED = 2048


# --- a second process ------------------------------------------------------------------------------


def _workers(workers: int | None) -> int:
    """Processes to write with: `workers`, else one per core; 1 where a process cannot fork (Windows)."""
    if not hasattr(os, "fork"):  # pragma: no cover - Windows
        return 1
    from .dataset import worker_count

    return worker_count(workers)


def _import_drawing(*, lean: bool = False) -> None:
    """Import what drawing needs (matplotlib, its Agg and PDF backends, fontTools: a third of a
    second) before forking, rather than in each forked process again.

    `lean`, in a process that only draws and then ends (`writer_ahead`'s): less than two thirds
    of the time, for what a report never uses there. matplotlib's Artist classes skip their `set`
    methods' docstrings (as each class is defined, matplotlib lists all its properties for
    `help()`), and the modules of `_UNUSED_WHEN_DRAWING` are imported when first used, not now.
    And the cyclic garbage collector leaves alone the objects the import makes (over 100,000,
    that live as long as the process): it does not walk them in the middle of the import, nor at
    each full collection while drawing, which writes to every object it walks and so copies the
    pages a forked copy shares with this process. About 0.1 s less CPU for a report."""
    if not lean or "matplotlib.figure" in sys.modules:
        _import_matplotlib()
        return
    import gc

    gc.disable()
    try:
        import matplotlib.artist

        matplotlib.artist.kwdoc = lambda artist: ""
        for name in _UNUSED_WHEN_DRAWING:
            _import_on_first_use(name)
        _import_matplotlib()
    finally:
        gc.enable()
    gc.freeze()


def _import_matplotlib() -> None:
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.backends.backend_pdf  # noqa: F401
    import matplotlib.figure  # noqa: F401


# Imported by matplotlib's PDF backend, unused by a report: fontTools' subsetter (a tenth of a
# second to import) serves TrueType fonts; the PDF's are Type 3 from matplotlib 3.11 on
# (`charts._pdf_fonttype`), and before that it is imported as its first font is embedded.
_UNUSED_WHEN_DRAWING = ("fontTools.subset",)


def _import_on_first_use(name: str) -> None:
    """Module `name` in place, its code run when one of its names is first looked up."""
    import importlib.util

    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    package, _, short = name.rpartition(".")
    setattr(sys.modules[package], short, module)  # `from fontTools import subset` finds it there


def _forget_open_fonts() -> None:
    """In a forked child: drop every FreeType font it inherited, so it opens its own.

    FreeType reads glyphs from the font file lazily, by seek and read on a file descriptor that a
    forked child shares with its parent, offset included: two processes reading glyphs through it
    at once read each other's bytes (a glyph "missing from font(s) DejaVu Sans", now and then).
    matplotlib empties its own font cache on fork; these are costcalc's caches of fonts."""
    from . import text

    text._fonts.cache_clear()
    text._replacements.cache_clear()
    _ADVANCES.clear()
    _ASCENTS.clear()
    _SIZED_ADVANCES.clear()


class _Forked:
    """`work(send)` run in a forked copy of this process (the report, matplotlib and its fonts
    already loaded: nothing to import or pickle on the way in); what it sends comes back through
    a pipe, pickled, one item at a time.

    Only an optimisation: whatever goes wrong in the child (an exception, a crash), `results()`
    just ends early and the caller does the rest itself, so errors are raised in this process,
    as without a helper. Leaving the `with` block ends a child that only computes, if it is still
    running, and waits for one that writes files, unless the block was interrupted (`stop`).
    """

    def __init__(self, work: Callable[[Callable[[Any], None]], None], *, writes_files: bool = False):
        self.work = work
        # A child that writes files is waited for, never killed: killed, it could leave a
        # temporary file behind (costcalc.atomic removes its own only when it can run).
        self.writes_files = writes_files
        self.pid = 0
        self.stream: Any = None

    def __enter__(self) -> _Forked:
        sys.stdout.flush()
        sys.stderr.flush()
        read, write = os.pipe()
        parent = os.getpid()
        self.pid = os.fork()
        if self.pid == 0:  # the child: do the work, then leave without running the parent's exit handlers
            code = 1
            try:
                _end_with(parent)
                _forget_open_fonts()
                os.close(read)
                with os.fdopen(write, "wb") as out:
                    def send(item: Any) -> None:
                        pickle.dump(item, out, protocol=pickle.HIGHEST_PROTOCOL)
                        out.flush()

                    self.work(send)
                code = 0
            except BaseException:  # noqa: BLE001 - the parent does the work itself instead
                pass
            finally:
                os._exit(code)
        os.close(write)
        self.stream = os.fdopen(read, "rb")
        return self

    def stop(self) -> None:
        """End the child at once (`_end_with`): what it was writing is removed, not left half done."""
        import signal

        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)

    def results(self) -> Iterator[Any]:
        while True:
            try:
                yield pickle.load(self.stream)
            except (EOFError, pickle.UnpicklingError, OSError, ValueError):
                return

    def __exit__(self, exc_type, exc, traceback) -> None:
        import signal

        self.stream.close()
        if not self.writes_files:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)  # done already, unless this process gave up early
        elif exc_type is not None and not issubclass(exc_type, Exception):
            # Interrupted (SIGINT to this process alone) or ended: the child is stopped, its
            # temporary files removed, rather than waited for while it finishes the files of a
            # command that says "Aborted!".
            self.stop()
        os.waitpid(self.pid, 0)


def _end_with(parent: int) -> None:
    """In a forked child: end at once on SIGTERM or SIGINT (Ctrl-C), the temporary files of its
    writes removed, and on Linux when `parent` ends (killed, say), so that no file is written after
    the command has ended (elsewhere the child ends when it finds itself orphaned, between jobs:
    see `_share_out`). No exception is raised to end it: one raised in the middle of a weakref
    callback would only be printed, and the child would go on."""
    import signal

    from .atomic import remove_pending

    def leave(signum, frame) -> None:
        remove_pending()
        os._exit(1)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it ended before that was in place
        os._exit(1)


_NUMBER = re.compile(r"^-?[$€£¥₹₩]?-?\d[\d,]*(\.\d+)?%?$")


def _numeric(table: Table, column: int) -> bool:
    """Right-align a column whose cells are all numbers, money or number-like text (100,000)."""
    cells = [row[column] for row in table.rows if column < len(row) and row[column] not in (None, "")]
    return bool(cells) and all(
        (isinstance(c, (int, float, Decimal)) and not isinstance(c, bool)) or (isinstance(c, str) and _NUMBER.match(c))
        for c in cells)


def default_paths() -> list[Path]:
    """What `costcalc report` writes with no -o: the PDF, and the Markdown with its PNGs."""
    return [DEFAULT_DIR / f"{DEFAULT_STEM}.pdf", DEFAULT_DIR / f"{DEFAULT_STEM}.md"]


__all__ = [
    "DEFAULT_DIR",
    "KEY_CHART",
    "LIFECYCLE_CHART",
    "Report",
    "break_even_grid",
    "build_report",
    "chart_titles",
    "default_paths",
    "markdown",
    "report_for",
    "scenario_point",
    "sources_table",
    "write",
    "write_all",
    "write_markdown",
    "write_pdf",
    "write_png",
    "write_pngs",
]
