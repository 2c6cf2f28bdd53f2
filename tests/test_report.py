"""Reports: the PDF, PNGs and Markdown are views of one Comparison, written atomically and reproducibly.

Rendering is the slow part (a PDF takes seconds), so each output is rendered once and every test
reads it: the example's PDF, the tiny scenario's PDF by the library and once more by the command (the
determinism test compares the two), the command's Markdown and PNGs. Nothing else renders a PDF.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from PIL import Image

import costcalc
from costcalc import report
from costcalc.months import month_label
from costcalc.render import format_usd

ROOT = Path(__file__).resolve().parent.parent
LOW_DPI = 40  # PNGs in tests: layout and size are checked, not beauty

TINY_SCENARIO = """\
schema_version = 1
title = "Tiny bot"
baseline = "Base"

[traffic]
requests_per_month = 30_000
start_month = "2024-02"
horizon_months = 3
prompt_tokens = 1_000
completion_tokens = 100

[strategies."Base"]
type = "base"
model = "gpt-3.5-turbo"

[strategies."Tuned"]
type = "fine-tuned"
model = "gpt-3.5-turbo"
prompt_tokens = 100
training_tokens = 100_000
epochs = 3
"""


@pytest.fixture(scope="module")
def example(example_report):
    """The report of the bundled example scenario and training file (built once, in conftest)."""
    return example_report


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "tiny.toml"
    path.write_text(TINY_SCENARIO)
    return path


@pytest.fixture(scope="module")
def tiny(tiny_file):
    """A 3-month scenario with a base and a fine-tuned strategy, trained on a token count (no file),
    priced with the bundled sheets as the CLI finds them."""
    return report.report_for(costcalc.load_scenario(tiny_file), costcalc.load_pricebook())


@pytest.fixture(scope="module")
def example_pdf(example, tmp_path_factory):
    return report.write_pdf(example, tmp_path_factory.mktemp("pdf") / "example.pdf")


@pytest.fixture(scope="module")
def tiny_pdf(tiny, tmp_path_factory):
    # Half its pages drawn by a helper process (as on any machine of two cores or more): see the tests below.
    return report.write_pdf(tiny, tmp_path_factory.mktemp("tiny-pdf") / "tiny.pdf", workers=2)


@pytest.fixture(scope="module")
def tiny_command(tiny_file, tmp_path_factory):
    """`costcalc report tiny.toml --dpi 50` run once in an empty folder: (the click Result, the folder).
    It writes the PDF, the Markdown and every chart's PNG under reports/."""
    from click.testing import CliRunner

    from costcalc.cli import cli

    folder = tmp_path_factory.mktemp("command")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("COSTCALC_PRICING_DIR", raising=False)
        # matplotlib would stamp $SOURCE_DATE_EPOCH, or the time, as the creation date; costcalc writes none.
        patch.setenv("SOURCE_DATE_EPOCH", "1700000000")
        result = CliRunner().invoke(cli, ["report", str(tiny_file), "--dpi", "50"], catch_exceptions=False)
    return result, folder


@pytest.fixture(scope="module")
def example_pages(example_pdf) -> list[str]:
    return pdf_pages(example_pdf)


def pdf_pages(path: Path) -> list[str]:
    """The text of each page, whitespace collapsed (a wrapped sentence reads as one line)."""
    reader = pypdf.PdfReader(path)
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def flat(text: str) -> str:
    return " ".join(text.split())


# --- the PDF ---------------------------------------------------------------------------------------


def test_example_pdf_opens_with_the_answer_summary_and_key_chart_on_page_one(example, example_pdf, example_pages):
    reader = pypdf.PdfReader(example_pdf)
    pages = example_pages
    assert reader.metadata.title == "Support bot: fine-tune GPT-3.5 Turbo, or not?"
    first = pages[0]
    assert flat(example.answer()) in first
    assert "Cumulative cost by strategy" in first
    for result in example.comparison.strategies:
        assert result.name in first
        assert format_usd(result.total_usd) in first
        assert format_usd(result.per_1k_requests_usd) in first
        if not result.is_baseline:
            assert format_usd(result.vs_baseline_usd) in first
    assert "2023-12 (month 4)" in first


def test_example_pdf_has_every_section_in_order(example, example_pages):
    pages = example_pages
    charts_at = len(pages) - 1 - len(example.chart_names())
    # Page 1; the notes, assumptions, sources and monthly table; one page per chart; the dataset.
    assert pages[1].startswith("Break-even and notes")
    tables = " ".join(pages[1:charts_at])
    for heading in ("Assumptions", "Sources of the prices", "Month by month (USD)"):
        assert heading in tables
    titles = report.chart_titles(example)
    for page, name in zip(pages[charts_at:], example.chart_names()):
        assert titles[name] in page, name
    assert "Tokens per example" in pages[-1] and "billed training tokens" in pages[-1]
    assert [f"page {n}" in page for n, page in enumerate(pages, 1)] == [True] * len(pages)


def test_every_monthly_figure_in_the_pdf_equals_the_comparison(example, example_pages):
    text = " ".join(example_pages)
    for result in example.comparison.strategies:
        for month in result.months:
            for value in (month.total_usd, month.cumulative_usd, month.input_usd, month.output_usd):
                assert format_usd(value) in text, (result.name, month.month)


def test_pdf_names_price_sheets_sources_tokenizer_and_epochs_rule(example, example_pages):
    text = " ".join(example_pages)
    assert "https://openai.com/index/gpt-3-5-turbo-fine-tuning-and-api-updates" in text
    assert "2023-08-22.toml" in text and "2024-08-20.toml" in text
    assert "num_tokens_from_messages" in text  # the token counting rule
    assert "cookbook default for 60 examples" in text  # the epochs rule
    assert format_usd(example.dataset.training_usd) in text


def test_dataset_page_agrees_with_the_comparison(example):
    focus = example.comparison.focus
    assert example.dataset.training_usd == focus.trainings[0].training_usd
    assert example.dataset.billing_tokens == focus.trainings[0].training_tokens
    assert sum(t * count for t, count in example.dataset.tokens_histogram) == example.dataset.total_tokens
    # The report shows the very scan the comparison priced, not a second read of the file.
    assert example.dataset is focus.trainings[0].dataset


def test_tiny_pdf_has_the_expected_pages(tiny, tiny_pdf):
    pages = pdf_pages(tiny_pdf)
    # Summary; notes, assumptions and sources; the monthly table, kept whole on its own page;
    # 4 charts (no dataset file, so no histogram and no dataset page).
    assert tiny.chart_names() == ["cumulative-cost", "monthly-cost", "break-even-map", "price-history"]
    assert len(pages) == 7
    assert flat(tiny.answer()) in pages[0]
    assert pages[2].startswith("Month by month (USD)")
    for result in tiny.comparison.strategies:
        for month in result.months:
            assert format_usd(month.cumulative_usd) in pages[2]


# --- PNGs and Markdown -----------------------------------------------------------------------------


def png_pixels(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        image.load()  # decode every pixel, not just the header
        return image.size


def test_markdown_links_its_pngs_which_decode_at_the_expected_size(tiny, tiny_command):
    _, folder = tiny_command
    text = (folder / "reports" / "costcalc-report.md").read_text()
    pngs = [folder / "reports" / f"costcalc-report-{name}.png" for name in tiny.chart_names()]
    assert re.findall(r"!\[[^\]]*\]\(([^)]*)\)", text) == [png.name for png in pngs]  # beside it, in order
    # 10 × 5.6 in at 50 dpi, every one: two strategies' monthly panels fit one row (test_charts
    # checks the taller 2 × 2 panels of four).
    assert [png_pixels(png) for png in pngs] == [(500, 280)] * 4


def markdown_table(text: str, heading: str) -> list[list[str]]:
    """The body rows of the Markdown table under `### heading`."""
    section = text.split(f"### {heading}\n", 1)[1]
    lines = [line for line in section.split("\n\n", 1)[0].splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def test_every_figure_in_the_markdown_tables_equals_the_comparison(example):
    text = report.markdown(example, [f"{name}.png" for name in example.chart_names()])  # no PNGs needed
    assert text.startswith(f"# {example.title}\n\n{example.answer()}\n")
    summary = markdown_table(text, "Summary")
    assert [row[0] for row in summary] == [s.name for s in example.comparison.strategies]
    for row, result in zip(summary, example.comparison.strategies):
        assert row[3] == format_usd(result.total_usd)
        assert row[4] == format_usd(result.per_1k_requests_usd)
        assert row[5] == ("baseline" if result.is_baseline else format_usd(result.vs_baseline_usd))
    monthly = markdown_table(text, "Month by month (USD)")
    expected = [[s.name, month_label(m.month), *(format_usd(getattr(m, c)) for c in (
        "input_usd", "output_usd", "retrieval_usd", "training_usd", "fixed_usd", "total_usd", "cumulative_usd"))]
        for s in example.comparison.strategies for m in s.months]
    assert [row[:2] + row[3:] for row in monthly] == expected


def test_png_output_is_the_key_chart(tiny, tmp_path):
    path = report.write(tiny, tmp_path / "key.png", dpi=LOW_DPI)
    assert path == [tmp_path / "key.png"]
    assert png_pixels(path[0]) == (400, 224)


@pytest.mark.parametrize("target, message", [
    ("out.txt", "out.txt: the output's suffix picks the format: .pdf, .png or .md (or all_charts=True and a folder)"),
    ("out", "out: the output's suffix picks the format: .pdf, .png or .md (or all_charts=True and a folder)"),
])
def test_an_unknown_suffix_is_a_usage_error(tiny, tmp_path, monkeypatch, target, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(costcalc.UsageError) as error:
        report.write(tiny, target)
    assert str(error.value) == message
    assert list(tmp_path.iterdir()) == []


# --- the command -----------------------------------------------------------------------------------


def test_report_without_output_writes_the_pdf_markdown_and_pngs_under_reports(tiny, tiny_pdf, tiny_command):
    result, folder = tiny_command
    assert result.exit_code == 0, result.output
    names = ["costcalc-report.pdf", "costcalc-report.md",
             *(f"costcalc-report-{name}.png" for name in tiny.chart_names())]
    lines = result.output.splitlines()
    assert lines[0] == tiny.answer()  # the summary table, titled by the answer, comes first
    assert lines[1].split()[:3] == ["strategy", "type", "model"]
    assert lines[-len(names):] == [f"Wrote reports/{name}" for name in names]
    assert sorted(p.name for p in (folder / "reports").iterdir()) == sorted(names)
    assert result.stderr == ""  # not a terminal: no progress
    # The same input gives a byte-identical PDF (here: the library's render of the same scenario).
    assert (folder / "reports" / "costcalc-report.pdf").read_bytes() == tiny_pdf.read_bytes()
    metadata = pypdf.PdfReader(tiny_pdf).metadata
    assert "/CreationDate" not in metadata and "/ModDate" not in metadata
    assert metadata["/Creator"] == f"costcalc {costcalc.__version__}"
    assert re.fullmatch(r"matplotlib [\d.]+\S* \(pages\), costcalc.pdfjoin \(the file\)", metadata["/Producer"])


def test_markdown_links_a_png_whose_name_a_link_could_not_hold_percent_encoded(tiny):
    names = ["r-cumulative-cost.png", "my report (v2)-monthly-cost.png", "r\udcff-break-even-map.png",
             "報告-price-history.png"]
    text = report.markdown(tiny, names)
    assert "](r-cumulative-cost.png)" in text
    assert "](my%20report%20%28v2%29-monthly-cost.png)" in text
    assert "](r%FF-break-even-map.png)" in text  # the file's own byte, not the U+FFFD the text would show
    assert "](報告-price-history.png)" in text  # UTF-8 names stay readable


def test_report_takes_the_scenario_overrides_of_compare(run, tiny_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("report", str(tiny_file), "--requests-per-month", "1000", "--set", "traffic.horizon_months=2",
                 "-o", "charts", "--all-charts", "--dpi", "50")
    assert result.exit_code == 0, result.output
    assert "does not break even within 2 months at 1,000 requests a month" in result.output
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == [
        "break-even-map.png", "cumulative-cost.png", "monthly-cost.png", "price-history.png"]


@pytest.mark.parametrize("args, message", [
    (["-o", "report.docx"], "Error: report.docx: the output's suffix picks the format: .pdf, .png or .md "
                            "(or --all-charts and a folder)"),
    (["--all-charts"], "Error: --all-charts needs -o FOLDER"),
    (["-o", "x.pdf", "--growth", "lots"], "Error: --growth: must be a number (%), not 'lots' (a string)"),
])
def test_report_usage_errors_exit_2(run, tiny_file, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run("report", str(tiny_file), *args)
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == message
    assert not (tmp_path / "x.pdf").exists()


# --- writing in more than one process --------------------------------------------------------------


def test_a_pdf_drawn_by_two_processes_is_the_one_drawn_by_one(tiny, tiny_pdf, tmp_path):
    # tiny_pdf's even pages were drawn by a forked helper and its odd pages here; these all here.
    inline = report.write_pdf(tiny, tmp_path / "inline.pdf", workers=1)
    assert inline.read_bytes() == tiny_pdf.read_bytes()


def test_the_pages_drawn_by_two_processes_are_put_back_in_reading_order(tiny_pdf):
    footers = [re.findall(r"page \d+", text)[-1] for text in pdf_pages(tiny_pdf)]
    assert footers == [f"page {n}" for n in range(1, len(footers) + 1)]
    assert len(footers) >= 2 * report.PARTS  # each part holds pages, and more than one


def test_pages_a_helper_process_fails_to_draw_are_drawn_here(tiny, tiny_pdf, tmp_path, monkeypatch):
    real, here = report._draw_parts, os.getpid()

    def draw_parts(*args):
        if os.getpid() != here:  # in the forked helper, drawing pages 2, 4, 6...
            raise RuntimeError("the helper crashed")
        return real(*args)

    monkeypatch.setattr(report, "_draw_parts", draw_parts)  # the forked helper inherits it
    assert report.write_pdf(tiny, tmp_path / "alone.pdf", workers=2).read_bytes() == tiny_pdf.read_bytes()


def test_pngs_drawn_by_helper_processes_are_those_drawn_inline(tiny, tmp_path):
    inline = report.write_pngs(tiny, tmp_path / "inline", dpi=LOW_DPI, workers=1)
    shared = report.write_pngs(tiny, tmp_path / "shared", dpi=LOW_DPI, workers=3)
    assert [p.name for p in shared] == [p.name for p in inline] == [
        "cumulative-cost.png", "monthly-cost.png", "break-even-map.png", "price-history.png"]
    for a, b in zip(inline, shared):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_charts_a_helper_process_fails_to_draw_are_drawn_inline(tiny, tmp_path, monkeypatch):
    real, here = report.write_png, os.getpid()

    def write_png(*args, **kwargs):
        if os.getpid() != here:  # in a forked helper, with the chart it took from the queue
            raise RuntimeError("the helper crashed")
        return real(*args, **kwargs)

    monkeypatch.setattr(report, "write_png", write_png)  # the forked helpers inherit it
    inline = report.write_pngs(tiny, tmp_path / "inline", dpi=LOW_DPI, workers=1)
    shared = report.write_pngs(tiny, tmp_path / "shared", dpi=LOW_DPI, workers=2)
    assert [p.read_bytes() for p in shared] == [p.read_bytes() for p in inline]


def test_workers_must_be_a_whole_number(tiny, tmp_path):
    with pytest.raises(costcalc.UsageError, match="workers must be a whole number >= 1, not 0"):
        report.write_pngs(tiny, tmp_path, workers=0)


def test_write_all_writes_the_pdf_beside_a_helper_writing_the_markdown_and_pngs(tiny, tiny_pdf, tmp_path):
    written = report.write_all(tiny, [tmp_path / "both" / "r.pdf", tmp_path / "both" / "r.md"], dpi=LOW_DPI,
                               workers=2)
    inline = report.write_markdown(tiny, tmp_path / "inline" / "r.md", dpi=LOW_DPI, workers=1)
    # The paths in the order `write` returns them target by target: the PDF, the Markdown, its PNGs.
    assert [p.name for p in written] == ["r.pdf", "r.md", "r-cumulative-cost.png", "r-monthly-cost.png",
                                         "r-break-even-map.png", "r-price-history.png"]
    assert written[0].read_bytes() == tiny_pdf.read_bytes()
    assert [p.read_bytes() for p in written[1:]] == [p.read_bytes() for p in inline]


def test_each_job_of_drawing_is_done_once_by_one_of_the_processes(tiny, tmp_path, monkeypatch):
    real, log = report._Job.do, tmp_path / "jobs"

    def do(job, *args):
        with log.open("a") as out:  # one line per job done, by whichever process took it
            out.write(f"{job.part if job.part is not None else job.chart or 'markdown'}\n")
        return real(job, *args)

    monkeypatch.setattr(report._Job, "do", do)  # the forked helpers inherit it
    report.write_all(tiny, [tmp_path / "r.pdf", tmp_path / "r.md"], dpi=LOW_DPI, workers=3)
    # The PDF's two halves, the Markdown's four charts and its text: each taken from the queue once.
    assert sorted(log.read_text().split()) == sorted(
        ["0", "1", "cumulative-cost", "monthly-cost", "break-even-map", "price-history", "markdown"])


def test_a_writer_started_before_the_report_writes_the_files_write_all_writes(tiny, tiny_pdf, tmp_path,
                                                                              monkeypatch):
    real, writers = report.write_all, tmp_path / "writers"

    def write_all(*args, **kwargs):
        with writers.open("a") as log:  # which process writes
            log.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(report, "write_all", write_all)  # the forked copy inherits it
    targets = [tmp_path / "ahead" / "r.pdf", tmp_path / "ahead" / "r.md"]
    with report.writer_ahead(targets, dpi=LOW_DPI, workers=2) as write:
        written = write(tiny)  # pickled to the forked copy, which writes them
    assert [int(pid) for pid in writers.read_text().split()] not in ([], [os.getpid()])
    inline = report.write_all(tiny, [tmp_path / "inline" / "r.pdf", tmp_path / "inline" / "r.md"], dpi=LOW_DPI,
                              workers=1)
    assert [p.name for p in written] == [p.name for p in inline]
    assert written[0].read_bytes() == tiny_pdf.read_bytes()
    assert [p.read_bytes() for p in written] == [p.read_bytes() for p in inline]


def test_a_writer_that_fails_leaves_the_writing_to_this_process(tiny, tiny_pdf, tmp_path, monkeypatch):
    real, here = report._import_drawing, os.getpid()

    def import_drawing() -> None:
        if os.getpid() != here:  # in the forked copy
            raise RuntimeError("the helper crashed")
        real()

    monkeypatch.setattr(report, "_import_drawing", import_drawing)  # the forked copy inherits it
    with report.writer_ahead([tmp_path / "r.pdf"], workers=2) as write:
        written = write(tiny)
    assert written == [tmp_path / "r.pdf"]
    assert written[0].read_bytes() == tiny_pdf.read_bytes()


def test_a_writer_never_sent_a_report_writes_nothing_and_ends(tmp_path):
    with pytest.raises(costcalc.ScenarioError, match="the comparison failed"):
        with report.writer_ahead([tmp_path / "r.pdf", tmp_path / "r.md"], workers=2):
            raise costcalc.ScenarioError("the comparison failed")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left running (or waiting to be reaped)


def test_a_lean_import_runs_the_font_subsetter_only_when_it_is_used_and_keeps_collecting():
    # The forked writer's import: fontTools.subset is in place but not run (a tenth of a second),
    # and a name looked up in it runs it then.
    code = (
        "import sys\n"
        "from costcalc import report\n"
        "report._import_drawing(lean=True)\n"
        "import matplotlib.backends._backend_pdf_ps as pdf_ps\n"
        "print(type(pdf_ps.subset).__name__)\n"
        "print(pdf_ps.subset.Subsetter.__name__)\n"
        "import matplotlib.artist\n"
        "print(repr(matplotlib.artist.kwdoc(matplotlib.artist.Artist)))\n"
        "import gc\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 100_000)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    # The collector still runs (a long report's figures are freed), past matplotlib's own objects.
    assert out.stdout.split("\n") == ["_LazyModule", "Subsetter", "''", "True True", ""]


def test_a_target_that_cannot_be_written_fails_before_anything_is_drawn(tiny, tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("in the way")

    def share_out(*args):
        raise AssertionError("drew before checking the targets")

    monkeypatch.setattr(report, "_share_out", share_out)
    for write in (lambda: report.write_all(tiny, [tmp_path / "ok.pdf", tmp_path / "afile" / "x.md"]),
                  lambda: report.write_pdf(tiny, tmp_path / "afile" / "x.pdf"),
                  lambda: report.writer_ahead([tmp_path / "afile" / "x.pdf"], workers=2).__enter__()):
        with pytest.raises(costcalc.CostCalcError, match=r"cannot write: .*afile is a file, not a folder"):
            write()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # and no temporary file left


def test_a_user_error_in_the_writer_is_raised_here_without_drawing_again(tiny, tmp_path, monkeypatch):
    real, here, calls = report._carry_out, os.getpid(), tmp_path / "calls"

    def carry_out(*args):
        with calls.open("a") as log:
            log.write(f"{os.getpid()}\n")
        if os.getpid() != here:  # in the forked writer: a disk that fills up as it writes
            raise costcalc.CostCalcError("r.pdf: cannot write: No space left on device")
        return real(*args)

    monkeypatch.setattr(report, "_carry_out", carry_out)
    with pytest.raises(costcalc.CostCalcError, match="No space left on device"):
        with report.writer_ahead([tmp_path / "r.pdf"], workers=2) as write:
            write(tiny)
    assert str(here) not in calls.read_text().split()  # the writer's error, not a second drawing here


def _writes_slowly(path):
    """A forked helper's work: half a file written to its temporary, "writing" sent, then 30 s asleep."""
    import time

    from costcalc.atomic import atomic_path

    def work(send) -> None:
        with atomic_path(path) as temp:
            temp.write_bytes(b"half a PDF")
            send("writing")
            time.sleep(30)

    return work


def test_a_helper_told_to_stop_ends_at_once_and_leaves_no_temporary_file(tmp_path):
    import time

    started = time.monotonic()
    with report._Forked(_writes_slowly(tmp_path / "r.pdf"), writes_files=True) as helper:
        assert next(helper.results()) == "writing"
        helper.stop()
    assert time.monotonic() - started < 10  # it did not sleep on
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary


def test_a_writer_is_stopped_not_waited_for_when_this_process_is_interrupted(tmp_path):
    # SIGINT to the command's process alone (`kill -INT`, not Ctrl-C, which reaches every process):
    # the writer must not go on to finish the files of a command that says "Aborted!".
    import time

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with report._Forked(_writes_slowly(tmp_path / "r.pdf"), writes_files=True) as helper:
            assert next(helper.results()) == "writing"
            raise KeyboardInterrupt
    assert time.monotonic() - started < 10  # stopped, not waited for
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary


def _last_report(folder):
    """Stand-ins for the files of a report written before, in `folder`: {name: bytes}."""
    old = {name: f"the last report's {name}".encode() for name in ("r.pdf", "r.md", "r-cumulative-cost.png")}
    for name, content in old.items():
        (folder / name).write_bytes(content)
    return old


@pytest.mark.parametrize("workers", [1, 2])
def test_a_drawing_that_fails_leaves_every_file_as_it_was(tiny, tmp_path, monkeypatch, workers):
    # The last chart fails after the PDF's parts and the other PNGs are drawn: no file is replaced
    # (nor a new one written), so the report on disk is the last one whole, not half of each.
    old = _last_report(tmp_path)
    real = report._Job.do

    def do(job, *args):
        if job.chart == "price-history":
            raise costcalc.CostCalcError("the disk is full")
        return real(job, *args)

    monkeypatch.setattr(report._Job, "do", do)  # the forked helpers inherit it
    with pytest.raises(costcalc.CostCalcError, match="the disk is full"):
        report.write_all(tiny, [tmp_path / "r.pdf", tmp_path / "r.md"], dpi=LOW_DPI, workers=workers)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == old


@pytest.mark.parametrize("workers", [1, 2])
def test_a_disk_that_fills_at_the_third_file_leaves_every_file_as_it_was(tiny, tmp_path, monkeypatch, workers):
    # Every file is drawn; the disk fills as the third of them is written (the PDF, then the
    # Markdown's PNGs): none replaces the last report's, and no temporary file stays.
    import errno

    from costcalc import atomic

    old = _last_report(tmp_path)
    real, synced = atomic._fsync, []

    def fsync(path):
        synced.append(path)
        if len(synced) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path)

    monkeypatch.setattr(atomic, "_fsync", fsync)
    with pytest.raises(costcalc.CostCalcError, match=r"r-monthly-cost.png: cannot write: No space left on device"):
        report.write_all(tiny, [tmp_path / "r.pdf", tmp_path / "r.md"], dpi=LOW_DPI, workers=workers)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == old


def test_files_written_together_replace_theirs_only_when_all_are_written(tmp_path):
    from costcalc.atomic import together, write_text

    (tmp_path / "a.txt").write_text("old a")
    with together():
        write_text(tmp_path / "a.txt", "new a")
        write_text(tmp_path / "b.txt", "new b")
        assert (tmp_path / "a.txt").read_text() == "old a"  # not yet
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["a.txt"]
    assert [(tmp_path / n).read_text() for n in ("a.txt", "b.txt")] == ["new a", "new b"]
    with pytest.raises(KeyboardInterrupt):
        with together():
            write_text(tmp_path / "a.txt", "newer a")
            raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]  # no temporary left
    assert (tmp_path / "a.txt").read_text() == "new a"


def test_a_failed_comparison_leaves_no_output_folder_behind(tmp_path, monkeypatch):
    # The output is checked before the comparison runs, in folders made for the check only.
    from click.testing import CliRunner

    from costcalc.cli import cli

    monkeypatch.chdir(tmp_path)
    for args in (["report", "--dataset", "missing.jsonl"], ["report", "-o", "a/b/c/x.pdf", "--dataset", "missing.jsonl"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2
        assert "--dataset: missing.jsonl: cannot read: No such file or directory" in result.output
        assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel ends a child with its parent on Linux")
def test_helpers_end_when_the_process_that_started_them_is_killed(tmp_path):
    # A process starts a helper that would write a file in a second, then is killed (SIGKILL: no
    # Python code of its runs): the helper ends with it, and the file is never written.
    code = (
        "import os, sys, time\n"
        "from costcalc import report\n"
        "from costcalc.atomic import write_text\n"
        "def late(send):\n"
        "    send(os.getpid())\n"
        "    time.sleep(1)\n"
        f"    write_text({str(tmp_path / 'late.txt')!r}, 'written after the command ended')\n"
        "with report._Forked(late, writes_files=True) as helper:\n"
        "    print(next(helper.results()), flush=True)\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    helper = int(out.stdout.split()[0])
    import time

    for _ in range(50):  # the helper is gone within a few seconds, not after writing
        if not os.path.exists(f"/proc/{helper}") or "Z" in open(f"/proc/{helper}/stat").read().split()[2]:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the helper outlived the process that started it")
    time.sleep(1.5)  # past when it would have written
    assert not (tmp_path / "late.txt").exists()


def test_ctrl_c_that_click_does_not_catch_is_still_one_line(monkeypatch, capsys):
    # An interrupt landing in click's own cleanup reaches costcalc's main as KeyboardInterrupt.
    import click

    from costcalc.cli import cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(click.Group, "main", interrupted)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["report"], prog_name="costcalc")
    assert exit_.value.code == 1
    assert capsys.readouterr().err == "Aborted!\n"


def test_each_page_goes_to_the_part_with_the_least_drawing_so_far(example):
    # The bundled example's pages, by _PAGE_COSTS (a page of text = 1): page 1 text + key chart
    # 2.3 -> part 0; pages 2-4 text -> part 1 (1, 2, 3 < 2.3 + ...); 5 cumulative 1.3 -> 0 (3.6);
    # 6 monthly 3.3 -> 1 (6.3); 7 break-even 2.7 -> 0 (6.3, a tie, the first part); 8 tokens 1.1 -> 0
    # (7.4); 9 price history 1.4 -> 1 (7.7); 10 text -> 0 (8.4). By page parity, part 0 had four
    # of the five charts.
    from costcalc import charts

    with charts.style():
        drawn, placed = report._draw_parts(example, [])  # every page built, none drawn
    assert drawn == {}
    assert placed == [0, 1, 1, 1, 0, 1, 0, 0, 1, 0]
