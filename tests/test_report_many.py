"""A report of many strategies: the PDF's tables show the strategies the charts draw and say where the
rest are, its lists of notes are capped, and the Markdown keeps everything (issue 9, scale)."""

from __future__ import annotations

import pytest

import costcalc
from costcalc import report
from costcalc.scenario import read_scenario

from .test_charts_many import scenario


@pytest.fixture(scope="module")
def many(book):
    """16 strategies (Base, Tuned, Variants 1 to 14) over 2 months; no break-even map (no grid)."""
    raw = scenario(16)
    raw["traffic"]["horizon_months"] = 2
    comparison = costcalc.compare(read_scenario(raw), book)
    return report.build_report(comparison, book)


@pytest.fixture(scope="module")
def pdf_text(many, tmp_path_factory):
    import pypdf

    path = report.write_pdf(many, tmp_path_factory.mktemp("many") / "many.pdf")
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


DRAWN = ["Base", "Tuned", "Variant 1", "Variant 2", "Variant 3", "Variant 4", "Variant 5", "Variant 6"]
NOTE = ("Only the 8 strategies the charts draw; all 16 are in the Markdown report and the JSON (`costcalc "
        "compare --monthly --format csv` for the months).")


def test_the_pdf_tables_hold_the_drawn_strategies_and_say_so(pdf_text):
    lines = pdf_text.splitlines()
    # The summary (page 1) and the monthly table (2 months each): the eight drawn strategies only.
    summary = [line.split(" base ")[0].split(" fine-tuned ")[0] for line in lines
               if " gpt-3.5-turbo $" in line]
    assert summary == DRAWN
    monthly = [line for line in lines if line.split(" 2023-")[0] in DRAWN and " 2023-" in line and "$" in line]
    assert len(monthly) == 8 * 2 and not any("Variant 7 2023-" in line for line in lines)
    # The note under the summary, the assumptions and the monthly table.
    assert pdf_text.replace("\n", " ").count(NOTE) == 3


def test_the_pdf_caps_the_break_even_notes(many, pdf_text):
    notes = many.output.table("summary").notes
    assert len(notes) == 15  # one per strategy but the baseline
    flat = pdf_text.replace("\n", " ")
    assert "… and 3 more notes: every one is in the Markdown report and the JSON." in flat  # 15 − 12
    assert notes[11] in flat and notes[12] not in flat


def test_the_markdown_keeps_every_strategy(many):
    text = report.markdown(many, [f"{name}.png" for name in many.chart_names()])
    assert text.count("| Variant 14 ") == 3  # the summary, and the two months
    assert "Only the 8 strategies" not in text


def test_the_answer_names_five_and_counts_the_rest(many):
    # Tuned is the only fine-tuned strategy: its sentence, then five others and a count of 9 more.
    answer = many.answer()
    assert answer.startswith("Fine-tuning gpt-3.5-turbo never pays off vs Base: ")
    assert "Variant 5 " in answer and "Variant 6 " not in answer
    # Variant 1: 2 months × 100,000 requests × (300 × $1.50 + 150 × $2.00) / 1M = $150.00.
    assert answer.endswith("and 9 other strategies as the table shows. Cheapest over 2 months: Variant 1 ($150.00).")
