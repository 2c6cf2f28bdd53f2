"""Numbers drawn into matplotlib's PDFs without its text engine, to the same bytes.

A table of the report is mostly numbers ($1,234.56, 2023-09, 12.5%), hundreds a page, and
matplotlib's PDF renderer shapes each string with its text engine (libraqm) before writing it:
most of a millisecond a string. The characters of numbers (`UNKERNED`) are not kerned against
each other in DejaVu Sans, so their glyphs sit where their advance widths put them, and the PDF
operators can be written straight from a table of those widths: the same operators, in the same
bytes, as `RendererPdf.draw_text` writes, about six times faster.

The table is checked against the text engine (every pair of the characters) before it is used at
a size, and the shortcut is only taken on matplotlib's PDF renderer from 3.11 on (whose internals
it calls); everywhere else, and for any other text, `draw` says no and the caller draws the text
as usual.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import weakref
from collections.abc import Callable
from typing import Any

# Characters that DejaVu Sans (regular and bold) does not kern against each other: a string of them
# is as wide as its advance widths add up to. Numbers, the bulk of a table's right-aligned cells.
UNKERNED = frozenset("0123456789$,.%+-\u2212\u00d7() /")

# What the text engine placed each character at, per (weight, size): (glyph index, advance in
# points, the engine's "kern" after it, which is the advance's rounding to 64ths of a point).
_Glyphs = dict[str, tuple[int, float, float]]


def drawer(renderer) -> Callable[..., bool] | None:
    """`draw(gc, x, y, text, prop, weight) -> bool` for this renderer, which draws `text` (in the
    first font of `costcalc.text.fonts(weight)`) as `renderer.draw_text(gc, x, y, text, prop, 0)`
    would and says True, or draws nothing and says False; None if the renderer is not one the
    shortcut knows (Agg, SVG, a PDF renderer of matplotlib before 3.11, core fonts)."""
    pdf = getattr(renderer, "_renderer", renderer)  # a PDF page's renderer is a MixedModeRenderer around it
    try:
        import matplotlib
        from matplotlib.backends.backend_pdf import Op, RendererPdf
        from matplotlib.font_manager import FontPath
    except ImportError:  # matplotlib before 3.11 has no FontPath
        return None
    if (not isinstance(pdf, RendererPdf) or matplotlib.rcParams["pdf.use14corefonts"]
            or not hasattr(pdf.file, "_character_tracker")
            or not hasattr(pdf.file._character_tracker, "track_glyph")):
        return None
    from .text import fonts

    fonttype = matplotlib.rcParams["pdf.fonttype"]
    tracked = _tracked(pdf.file)

    def draw(gc, x: float, y: float, text: str, prop, weight: str) -> bool:
        if not UNKERNED.issuperset(text):
            return False
        font = fonts(weight)[0]
        fname = os.fsdecode(font.fname)
        size = prop.get_size_in_points()
        glyphs = _glyphs(fname, weight, size)
        if glyphs is None:
            return False
        file = pdf.file
        # What RendererPdf.draw_text writes for a string at angle 0, line by line.
        pdf.check_gc(gc, gc._rgb)
        angle = math.radians(0)
        file.output(Op.gsave)
        file.output(math.cos(angle), math.sin(angle), -math.sin(angle), math.cos(angle), x, y, Op.concat_matrix)
        file.output(Op.begin_text)
        chunk: list[Any] = []
        previous_subset: int | None = None
        start_x = position = 0.0
        kern = 0.0

        def output_chunk() -> None:
            if chunk:
                file.output([(-1000 * next(group) / size) if kind == float else pdf._encode_glyphs(group, fonttype)
                             for kind, group in itertools.groupby(chunk, type)], Op.showkern)
                chunk.clear()

        for char in text:
            index, advance, after = glyphs[char]
            key = (fname, char)
            if key not in tracked:
                tracked[key] = file._character_tracker.track_glyph(font, char, index)
            subset, code = tracked[key]
            if subset != previous_subset:
                output_chunk()
                file.output(file.fontName(FontPath(fname, font.face_index), subset), size, Op.selectfont)
                pdf._setup_textpos(position, 0, 0, start_x, 0, 0)
                previous_subset, start_x = subset, position
            if kern:
                chunk.append(kern)
            chunk.append(code)
            position += advance
            kern = after
        output_chunk()
        file.output(Op.end_text)
        file.output(Op.grestore)
        return True

    return draw


# Per PDF file: (font file, character) -> (subset, code) as the file's character tracker gave it
# (the same answer every time for the same glyph), so each glyph is looked up there once.
_TRACKED: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], tuple[int, int]]] = weakref.WeakKeyDictionary()


def _tracked(file) -> dict[tuple[str, str], tuple[int, int]]:
    if file not in _TRACKED:
        _TRACKED[file] = {}
    return _TRACKED[file]


@functools.lru_cache(maxsize=None)
def _glyphs(fname: str, weight: str, size: float) -> _Glyphs | None:
    """The table for one font at one size, or None if the text engine places any pair of the
    characters otherwise than the table says (then the shortcut is not taken at that size)."""
    from matplotlib.ft2font import LoadFlags

    from .text import fonts

    font = next(f for f in fonts(weight) if os.fsdecode(f.fname) == fname)
    font.set_size(size, 72)
    glyphs: _Glyphs = {}
    for char in sorted(UNKERNED):
        glyph = font.load_char(ord(char), flags=LoadFlags.NO_HINTING)
        glyphs[char] = (font.get_char_index(ord(char)), glyph.horiAdvance / 64,
                        glyph.horiAdvance / 64 - glyph.linearHoriAdvance / 65536)
    return glyphs if _agrees(font, glyphs) else None


def _agrees(font, glyphs: _Glyphs) -> bool:
    """Whether the text engine lays out every ordered pair of the characters (in one long string,
    so the positions add up too) where the table puts them."""
    from matplotlib.ft2font import LoadFlags

    probe = "".join(a + b for a in sorted(UNKERNED) for b in sorted(UNKERNED))
    position, kern = 0.0, 0.0
    for char, item in itertools.zip_longest(probe, font._layout(probe, LoadFlags.NO_HINTING)):
        if char is None or item is None:
            return False
        index, advance, after = glyphs[char]
        placed = (item.glyph_index, item.x, item.y, item.prev_kern, item.ft_object.fname)
        if placed != (index, position, 0, kern, font.fname):
            return False
        position += advance
        kern = after
    return True
