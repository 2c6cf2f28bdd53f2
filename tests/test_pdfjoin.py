"""costcalc.pdfjoin: the report's two halves, drawn by two processes, put together in reading order."""

from __future__ import annotations

import io

import pypdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcalc import pdfjoin


def matplotlib_pdf(*pages: str) -> bytes:
    """A PDF as matplotlib writes one: a page per text, the text on it."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"CreationDate": None, "ModDate": None}) as pdf:
        for text in pages:
            figure = Figure(figsize=(3, 2))
            figure.text(0.1, 0.5, text)
            figure.add_axes((0.5, 0.1, 0.4, 0.4)).plot([1, 2, 3])  # paths, ticks: more objects and references
            pdf.savefig(figure)
    return buffer.getvalue()


def page_text(page) -> str:
    """The page's own text, after the axes' tick labels."""
    return "page" + page.extract_text().partition("page")[2]


@pytest.fixture(scope="module")
def halves() -> list[bytes]:
    # Pages 1, 3, 5 and pages 2, 4: a report of five pages drawn in two parts. The first part has
    # more than 100 objects, so the second's are renumbered past 100 ("12 0 R" becomes "1xx 0 R").
    return [matplotlib_pdf("page one", "page three", "page five"), matplotlib_pdf("page two", "page four")]


def test_the_pages_come_out_in_the_order_asked_with_the_metadata_given(halves):
    order = [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2)]
    joined = pdfjoin.join(halves, order, {"/Title": "Budget (draft) \\ 2026", "/Subject": "Réponse ✓ 日本",
                                          "/Creator": "costcalc"})
    reader = pypdf.PdfReader(io.BytesIO(joined), strict=True)
    assert [page_text(page) for page in reader.pages] == ["page one", "page two", "page three", "page four",
                                                          "page five"]
    assert reader.metadata == {"/Title": "Budget (draft) \\ 2026", "/Subject": "Réponse ✓ 日本", "/Creator": "costcalc"}
    assert len(pdfjoin._read(joined).kids) == 5


def test_every_object_is_copied_once_and_each_stream_byte_for_byte(halves):
    joined = pdfjoin.join(halves, [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2)], {})
    first, second = (pdfjoin._read(half) for half in halves)
    read = pdfjoin._read(joined)
    # The two catalogs, two page trees and two information dictionaries give way to one of each.
    assert len(read.objects) == len(first.objects) + len(second.objects) - 3
    streams = sorted(body.partition(b"stream")[2] for part in (first, second) for body in part.objects.values()
                     if b"stream" in body)
    assert sorted(body.partition(b"stream")[2] for body in read.objects.values() if b"stream" in body) == streams


def test_one_part_alone_is_the_same_pages(halves):
    reader = pypdf.PdfReader(io.BytesIO(pdfjoin.join(halves[1:], [(0, 1), (0, 0)], {})), strict=True)
    assert [page_text(page) for page in reader.pages] == ["page four", "page two"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400) | st.builds(lambda cut, junk: (cut, junk), st.integers(0, 6000), st.binary(max_size=20)))
def test_anything_but_a_pdf_matplotlib_wrote_is_a_value_error(halves, data):
    if isinstance(data, tuple):  # a real PDF, cut short and with junk on the end
        cut, junk = data
        data = halves[1][:cut] + junk
        if data == halves[1]:
            return
    with pytest.raises(ValueError, match="not a PDF as matplotlib writes one"):
        pdfjoin._read(data)
