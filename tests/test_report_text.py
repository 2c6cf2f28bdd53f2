"""Names and titles as users write them (Japanese, an emoji, a newline, a million characters) in the
charts, the PDF and the Markdown: drawn in the glyphs the installed fonts have, "�" where none has
one, on one line, shortened for layout and kept in full where a reader can get it.

This machine's fonts decide what is drawn and what is replaced, so the tests pick their characters
by what is installed: STIXGeneral (which ships with matplotlib) stands for a fallback font, an
unassigned code point for a character no font has.
"""

from __future__ import annotations

import warnings

import pypdf
import pytest
from matplotlib import font_manager
from matplotlib.text import Text

import costcalc
from costcalc import charts, pdftext, report
from costcalc.scenario import read_scenario
from costcalc.text import ELLIPSIS, REPLACEMENT, drawable, font_families

FALLBACK_ONLY = "Ⓐ⌢"  # in STIXGeneral (regular and bold), not in DejaVu Sans
NO_FONT = "\u0378"  # unassigned in Unicode: no font has it
CJK_INSTALLED = any("CJK" in f.name or f.name in ("WenQuanYi Zen Hei", "Droid Sans Fallback", "IPAGothic")
                    for f in font_manager.fontManager.ttflist)
TITLE = "サポートボット\n支持机器人 🤖 bot"
TUNED = "🤖 bot\t微调"
# The fine-tuned strategy's total, as its legend entry shows it: 90,000 requests over 3 months at
# 100 prompt tokens × $3 + 100 completion tokens × $6 per 1M (fine-tuned GPT-3.5 Turbo, 2024) =
# $81.00, plus one training run of 100,000 tokens × 3 epochs × $8 per 1M = $2.40.
TUNED_TOTAL = "$83.40"


def scenario(title: str = TITLE, tuned: str = TUNED, **extra) -> dict:
    """A 3-month scenario with a base and a fine-tuned strategy (a token count, no file)."""
    return {"schema_version": 1, "title": title, "baseline": "Base",
            "traffic": {"requests_per_month": 30_000, "start_month": "2024-02", "horizon_months": 3,
                        "prompt_tokens": 1_000, "completion_tokens": 100},
            "strategies": {"Base": {"type": "base", "model": "gpt-3.5-turbo"},
                           tuned: {"type": "fine-tuned", "model": "gpt-3.5-turbo", "prompt_tokens": 100,
                                   "training_tokens": 100_000, "epochs": 3}, **extra}}


def build(book, raw: dict, grid: bool = True) -> report.Report:
    comparison = costcalc.compare(read_scenario(raw), book)
    return report.build_report(comparison, book, grid=report.break_even_grid(comparison) if grid else None)


# --- the sanitiser ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "shown"), [
    ("plain ASCII", "plain ASCII"),
    ("Café Zürich, Ελληνικά, Русский", "Café Zürich, Ελληνικά, Русский"),  # DejaVu Sans has these
    (FALLBACK_ONLY, FALLBACK_ONLY),  # drawn from the fallback font
    (f"a{NO_FONT}b", f"a{REPLACEMENT}b"),  # no font has it: a visible "�"
    ("lone \ud800 surrogate", f"lone {REPLACEMENT} surrogate"),
    ("line\nbreak", "line break"),
    ("windows\r\nline end", "windows line end"),  # a run of controls is one space
    ("tab\there, NUL\x00, DEL\x7f, C1\x85, U+2028\u2028end", "tab here, NUL , DEL , C1 , U+2028 end"),
], ids=["ascii", "latin-greek-cyrillic", "fallback", "no font", "surrogate", "newline", "crlf", "controls"])
def test_drawable_keeps_what_a_font_has_and_nothing_else(text, shown):
    assert drawable(text) == shown


@pytest.mark.skipif(CJK_INSTALLED, reason="a CJK font is installed: the text is drawn, not replaced")
def test_japanese_and_an_emoji_without_their_fonts_are_replacement_marks():
    assert drawable(TITLE) == "\ufffd" * 7 + " " + "\ufffd" * 5 + " \ufffd bot"


def test_long_text_is_cut_with_an_ellipsis_to_the_limit():
    assert drawable("x" * 50, 10) == "x" * 9 + ELLIPSIS
    assert drawable("words and more words", 10) == "words and" + ELLIPSIS  # no space before the ellipsis
    assert drawable("exactly10!", 10) == "exactly10!"


def test_the_fonts_are_dejavu_then_installed_fallbacks_only():
    installed = {f.name for f in font_manager.fontManager.ttflist}
    families = font_families()
    assert families[0] == "DejaVu Sans"
    assert "STIXGeneral" in families  # ships with matplotlib
    assert set(families) <= installed
    assert "Last Resort High-Efficiency" not in families  # it would draw boxes, not letters


# --- charts: no tofu, no warnings ----------------------------------------------------------------


def test_charts_of_hostile_names_draw_without_warnings_or_stderr(book, tmp_path, capfd):
    r = build(book, scenario(**{f"Fallback {FALLBACK_ONLY}": {"type": "base", "model": "gpt-4"}}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would fail the test
        paths = report.write_pngs(r, tmp_path, dpi=30)
        texts = [t.get_text() for name in r.chart_names() for t in r.figure(name).findobj(Text)]
    assert len(paths) == 4
    assert capfd.readouterr().err == ""
    # The legend entry and the panel title of the monthly chart, each on one line.
    named = [t for t in texts if t.startswith(drawable(TUNED))]
    assert named == [f"{drawable(TUNED)}: {TUNED_TOTAL}", f"{drawable(TUNED)}: {TUNED_TOTAL} (training $2.40)"]
    assert any(FALLBACK_ONLY in t for t in texts)  # the fallback font's letters, not "�"
    assert not any("\t" in t or TUNED in t for t in texts)


def test_a_chart_title_is_shortened_and_the_legend_names_too(book):
    r = build(book, scenario(title="T" * 500, tuned="N" * 500), grid=False)
    figure = charts.plot_cumulative(r.comparison)
    texts = [t.get_text() for t in figure.findobj(Text)]
    assert "N" * 39 + ELLIPSIS + f": {TUNED_TOTAL}" in texts  # NAME_LIMIT characters of the name
    subtitle = next(t for t in texts if t.startswith("TTT"))
    assert subtitle.startswith("T" * 99 + ELLIPSIS + "; 3 months")


# --- the PDF ------------------------------------------------------------------------------------------


def test_pdf_of_japanese_names_shows_replacement_marks_and_is_reproducible(book, tmp_path, capfd):
    r = build(book, scenario(**{f"Fallback {FALLBACK_ONLY}": {"type": "base", "model": "gpt-4"}}), grid=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = report.write_pdf(r, tmp_path / "a.pdf").read_bytes()
        second = report.write_pdf(r, tmp_path / "b.pdf").read_bytes()
    assert first == second  # measuring and drawing saw the same text, run after run
    assert capfd.readouterr().err == ""
    reader = pypdf.PdfReader(tmp_path / "a.pdf")
    page = reader.pages[0].extract_text()
    assert page.startswith(drawable(TITLE, weight="bold") + "\n")  # the heading, on one line
    assert f"costcalc · {drawable(TITLE)}" in page  # the footer
    assert f"Fallback {FALLBACK_ONLY}" in page  # drawn from STIXGeneral, embedded for it
    fonts = {str(font["/BaseFont"]) for p in reader.pages for font in p["/Resources"]["/Font"].values()}
    assert any(name.endswith("STIXGeneral-Regular") for name in fonts)
    assert reader.metadata.title == "サポートボット 支持机器人 🤖 bot"  # in full, one line


def test_a_million_character_title_is_shortened_on_the_pages_and_full_in_the_metadata(book, tmp_path):
    title = "x" * 1_000_000  # one word: it must be broken to fit, in the heading and in a table cell
    r = build(book, scenario(title=title, tuned="Tuned"), grid=False)
    reader = pypdf.PdfReader(report.write_pdf(r, tmp_path / "long.pdf"))
    pages = [page.extract_text() for page in reader.pages]
    heading = "x" * (report.HEADING_LIMIT - 1) + ELLIPSIS
    assert pages[0].replace("\n", "").startswith(heading + "3 months")  # wrapped over three lines
    assert all(f"costcalc · {'x' * (report.FOOTER_LIMIT - 1)}{ELLIPSIS}" in page for page in pages)
    # The assumption "scenario: <title>" is cut to a CELL_LIMIT-character cell: "scenario:" on its
    # first line, then the x's broken into lines that fit the page.
    cell = [line for page in pages[1:] for line in page.splitlines() if set(line) <= {"x", ELLIPSIS}]
    assert "".join(cell) == "x" * (report.CELL_LIMIT - len("scenario: ") - 1) + ELLIPSIS
    assert len(cell) > 5 and max(map(len, cell)) < 150
    # What is laid out is a few thousand characters a page, not a million.
    assert max(len(page) for page in pages) < 6_000
    assert reader.metadata.title == title


# --- the Markdown ---------------------------------------------------------------------------------


def test_markdown_keeps_the_title_in_full_on_one_line(book):
    title = TITLE + " " + "long " * 1_000
    r = build(book, scenario(title=title), grid=False)
    text = report.markdown(r, [f"{name}.png" for name in r.chart_names()])
    assert text.splitlines()[0] == "# サポートボット 支持机器人 🤖 bot " + "long " * 1_000


# --- where the PDF's flowing text is drawn ---------------------------------------------------------

# Strings of a table and its headers: numbers (right-aligned), kerned letters ("To", "AV"), glyphs
# taller than the font's ascender ("É", "Å", "|"), one from a fallback font and a "�".
PLACED = ["$133,703.86", "-$215.43", "73%", "Total cost", "AVATAR WAVE", "Émile Åström |", FALLBACK_ONLY,
          REPLACEMENT, "per 1K requests"]


def drawn_positions(monkeypatch, draw) -> list[tuple[str, float, float]]:
    """(string, x, y) of every string `draw(figure)` puts on an A4 page, as the PDF backend is
    asked to draw it (points from the bottom-left corner)."""
    import io

    from matplotlib.backends import backend_pdf

    calls: list[tuple[str, float, float]] = []
    original = backend_pdf.RendererPdf.draw_text

    def record(self, gc, x, y, s, prop, angle, *args, **kwargs):
        calls.append((s, x, y))
        return original(self, gc, x, y, s, prop, angle, *args, **kwargs)

    monkeypatch.setattr(backend_pdf.RendererPdf, "draw_text", record)
    # Every string through draw_text, numbers too: that they come out the same by costcalc.pdftext's
    # shortcut is tests/test_pdftext.py's.
    monkeypatch.setattr(pdftext, "drawer", lambda renderer: None)
    with charts.style():
        figure = report._Pages({}, "t").new()
        draw(figure)
        figure.savefig(io.BytesIO(), format="pdf")
    return calls


@pytest.mark.parametrize("weight", ["normal", "bold"])
@pytest.mark.parametrize("size", [8, 12.5])
def test_flowing_text_is_drawn_where_a_top_aligned_text_would_be(monkeypatch, weight, size):
    # The page's text is drawn by one artist, not a matplotlib Text per line; each line must land
    # where Text(va="top", ha=...) put it, to a thousandth of a point: rows and right-aligned number
    # columns line up as before.
    height, width = report.PAGE[1] * 72, report.PAGE[0] * 72
    rows = [(100.0 + 20 * i, 50.0 + 15 * i, text, i % 2 == 0) for i, text in enumerate(PLACED)]

    def as_text(figure):
        for x, top, text, right in rows:
            figure.text(x / width, 1 - top / height, text, fontsize=size, weight=weight, color="#111111",
                        va="top", ha="right" if right else "left")

    def as_block(figure):
        lines = report._text_block(figure)
        lines.extend(report._Line(x, top, text, size, weight, "#111111", right) for x, top, text, right in rows)

    expected, drawn = drawn_positions(monkeypatch, as_text), drawn_positions(monkeypatch, as_block)
    assert [s for s, _, _ in drawn] == PLACED
    for (text, x, y), (_, x0, y0) in zip(drawn, expected):
        assert (text, x, y) == (text, pytest.approx(x0, abs=1e-3), pytest.approx(y0, abs=1e-3))
