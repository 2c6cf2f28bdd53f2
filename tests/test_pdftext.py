"""costcalc.pdftext: numbers written into the PDF's operators directly, the same bytes as matplotlib's."""

from __future__ import annotations

import io

import pytest

from costcalc import charts, pdftext, report
from costcalc.text import fonts

SIZES = (7, 8, 8.5, 9, 12.5, 13, 16)  # every size the report's pages draw text at
NUMBERS = ["$1,234.56", "2023-09", "100,000", "(12.5%)", "-$5,000", "+3.9\u00d7", "\u22120.25", "12 / 16", "0"]
WORDS = ["Base GPT-3.5 Turbo", "total", "Fine-tuned", "AVAT", "Réponse ✓"]


def pdf_of_lines(texts: list[str]) -> bytes:
    """One PDF page of `texts` in every weight, size and alignment, drawn by the report's text block."""
    from matplotlib.backends.backend_pdf import PdfPages

    with charts.style():
        page = report._Pages({}, "test").new()
        lines = report._text_block(page)
        top = 10.0
        for size in SIZES:
            for weight in ("normal", "bold"):
                for i, text in enumerate(texts):
                    lines.append(report._Line(20 + 60 * i, top, text, size, weight, "#333333", right=i % 2 == 1))
                top += size + 2
        buffer = io.BytesIO()
        with PdfPages(buffer, metadata={"CreationDate": None, "ModDate": None}) as pdf:
            pdf.savefig(page)
    return buffer.getvalue()


@pytest.fixture
def taken(monkeypatch) -> list[str]:
    """The texts the shortcut drew."""
    real, drawn = pdftext.drawer, []

    def drawer(renderer):
        draw = real(renderer)
        if draw is None:
            return None

        def counting(gc, x, y, text, prop, weight):
            done = draw(gc, x, y, text, prop, weight)
            if done:
                drawn.append(text)
            return done

        return counting

    monkeypatch.setattr(pdftext, "drawer", drawer)
    return drawn


def test_numbers_come_out_as_the_same_bytes_as_through_matplotlibs_text_engine(taken, monkeypatch):
    shortcut = pdf_of_lines(NUMBERS + WORDS)
    assert sorted(set(taken)) == sorted(NUMBERS)  # every number, and nothing else, took the shortcut
    monkeypatch.setattr(pdftext, "drawer", lambda renderer: None)
    assert shortcut == pdf_of_lines(NUMBERS + WORDS)


@pytest.mark.parametrize("weight", ["normal", "bold"])
@pytest.mark.parametrize("size", SIZES)
def test_the_width_table_agrees_with_the_text_engine_on_every_pair_of_characters(weight, size):
    font = fonts(weight)[0]
    assert pdftext._glyphs(font.fname, weight, size) is not None


def test_a_size_where_the_table_disagrees_is_drawn_by_matplotlib(taken, monkeypatch):
    expected = pdf_of_lines(NUMBERS)
    taken.clear()
    pdftext._glyphs.cache_clear()
    monkeypatch.setattr(pdftext, "_agrees", lambda font, glyphs: False)
    try:
        assert pdf_of_lines(NUMBERS) == expected
        assert taken == []
    finally:
        pdftext._glyphs.cache_clear()


def test_only_a_pdf_renderer_takes_the_shortcut():
    from matplotlib.backends.backend_agg import RendererAgg

    assert pdftext.drawer(RendererAgg(100, 100, 72)) is None
