"""Text as the charts and the PDF draw it: one line, of a length the layout can hold, in glyphs
the installed fonts have.

Strategy names, titles and file names come from the user and can hold anything: Japanese, an
emoji, a newline, a NUL, five million characters. `drawable` is the one function every chart and
the PDF's text engine pass such text through before measuring or drawing it:

- control characters (C0, DEL, C1, line and paragraph separators) become a space, so a name never
  breaks a table row or a chart title over two lines;
- text longer than the layout's `limit` is shortened with an ellipsis (the Markdown and the JSON
  keep it in full);
- a character no installed font has becomes U+FFFD, "�", which DejaVu Sans has: a visible mark
  instead of matplotlib's blank box and its "Glyph missing" warning on stderr.

The fonts are DejaVu Sans (matplotlib's own) and, after it, the fallback families below that are
installed on this machine (matplotlib >= 3.6 draws each glyph from the first family that has it).
matplotlib is imported only when fonts are asked about, so `import costcalc` stays light.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.ft2font import FT2Font

ELLIPSIS = "\u2026"
REPLACEMENT = "\ufffd"

PRIMARY_FAMILY = "DejaVu Sans"  # matplotlib's default, bundled with it: every machine has it

# Tried in order after DejaVu Sans for the glyphs it lacks, where installed: CJK and Korean first
# (the corpus has Japanese and Korean training files), then symbols and emoji. Only outline fonts:
# colour-bitmap emoji fonts (Noto Color Emoji, Apple Color Emoji) cannot be scaled by FreeType and
# make matplotlib fail. STIXGeneral ships with matplotlib (mathematical symbols).
FALLBACK_FAMILIES = (
    "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK KR",
    "Noto Sans JP", "Noto Sans SC", "Noto Sans TC", "Noto Sans KR",
    "Source Han Sans", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", "IPAGothic",
    "Hiragino Sans", "PingFang SC", "Apple SD Gothic Neo",  # macOS
    "Yu Gothic", "Microsoft YaHei", "Malgun Gothic",  # Windows
    "Noto Sans Symbols", "Noto Sans Symbols2", "Noto Emoji", "Symbola", "Segoe UI Emoji", "Segoe UI Symbol",
    "STIXGeneral",
)

# C0 controls (tab and newline among them), DEL, C1 controls, and the Unicode line and paragraph
# separators; a run of them is one space.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# Invisible format characters that change how the text around them reads: the bidirectional
# embeddings, overrides and isolates (U+202E turns "$3,725.18" into "81.527,3$"), the directional
# marks, the zero-width space and the byte-order mark. They are dropped. The zero-width joiners,
# which emoji sequences and some scripts need, are kept.
_INVISIBLE = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]+")


def one_line(text: str) -> str:
    """`text` on one line as written: each run of control characters (newline, tab, NUL, C1...)
    one space, and no invisible character that would reorder what follows it."""
    return _CONTROLS.sub(" ", _INVISIBLE.sub("", text))


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, the last of them an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def drawable(text: str, limit: int | None = None, *, weight: str | int = "normal") -> str:
    """`text` as a chart or the PDF draws it: on one line, at most `limit` characters (an ellipsis
    marking a cut), each character one the installed fonts have at `weight` or else "�"."""
    text = one_line(text)
    if limit is not None:
        text = shorten(text, limit)
    if text.isascii():  # DejaVu Sans has every printable ASCII character: the common case stays cheap
        return text
    return text.translate(_replacements(_weight(weight)))


def _weight(weight: str | int) -> str:
    """"bold" or "normal": the two weights costcalc draws in (matplotlib also says 700, "heavy")."""
    from matplotlib.font_manager import weight_dict

    value = weight if isinstance(weight, int) else weight_dict.get(weight, 400)
    return "bold" if value >= 600 else "normal"


def font_families() -> list[str]:
    """The font families charts and the PDF draw with: DejaVu Sans, then the installed fallbacks."""
    return list(_families())


def fonts(weight: str | int = "normal") -> tuple[FT2Font, ...]:
    """The fonts of `font_families()` at `weight`, in order: a glyph is drawn from the first that
    has it (what the PDF's text engine measures with)."""
    return _fonts(_weight(weight))


@functools.cache
def _families() -> tuple[str, ...]:
    from matplotlib import font_manager

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return (PRIMARY_FAMILY, *(family for family in FALLBACK_FAMILIES if family in installed))


@functools.cache
def _fonts(weight: str) -> tuple[FT2Font, ...]:
    from matplotlib import font_manager

    paths = [font_manager.findfont(font_manager.FontProperties(family=family, weight=weight),
                                   fallback_to_default=False) for family in _families()]
    return tuple(font_manager.get_font(path) for path in dict.fromkeys(paths))


class _Replacements(dict[int, int]):
    """A `str.translate` table for one weight, filled as characters are met: a character stays if
    a font has it at that weight (DejaVu Sans Bold lacks some of DejaVu Sans), else becomes U+FFFD."""

    def __init__(self, weight: str):
        super().__init__()
        self.fonts = fonts(weight)

    def __missing__(self, code: int) -> int:
        drawn = any(font.get_char_index(code) for font in self.fonts)
        self[code] = code if drawn else ord(REPLACEMENT)
        return self[code]


@functools.cache
def _replacements(weight: str) -> _Replacements:
    return _Replacements(weight)


def replace_surrogates(text: str) -> str:
    """`text` with each lone surrogate (which UTF-8 cannot hold) as U+FFFD: what tiktoken's
    encode_ordinary does to such a string, and what a UTF-8 file can hold of it."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


__all__ = ["ELLIPSIS", "FALLBACK_FAMILIES", "REPLACEMENT", "drawable", "font_families", "fonts", "one_line",
           "replace_surrogates", "shorten"]
