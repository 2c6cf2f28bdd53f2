"""PNG files from the RGBA pixels a chart was drawn in.

matplotlib writes a PNG through Pillow, whose encoder tries a filter on every row of pixels:
a third of the time of a chart's PNG. A chart is mostly rows of flat colour, which zlib packs as
well without a filter: this writes the rows unfiltered, in a third of the time. A picture with
no transparent pixel (a chart on its white background) is written as RGB, without the alpha
byte of every pixel: a file an eighth smaller, as small as Pillow's, and quicker to compress.
The pixels are the same; nothing varies from run to run (no date, no software name).
"""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def encode(rgba: bytes, width: int, height: int, dpi: float, *, level: int = 3) -> bytes:
    """A PNG of `width` × `height` pixels from their RGBA bytes, row by row from the top, with its
    resolution (`dpi`) recorded as Pillow records it: RGB when every pixel is opaque, else RGBA."""
    import numpy as np

    if len(rgba) != width * height * 4:
        raise ValueError(f"{len(rgba):,} bytes are not {width} × {height} RGBA pixels")
    pixels = np.frombuffer(rgba, dtype=np.uint8).reshape(height, width, 4)
    opaque = bool((pixels[:, :, 3] == 255).all())
    channels = 3 if opaque else 4
    # Each row starts with its filter type: 0, none.
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)
    rows[:, 1:] = pixels[:, :, :channels].reshape(height, width * channels)
    per_metre = int(dpi / 0.0254 + 0.5)
    colour_type = 2 if opaque else 6  # RGB, RGBA
    return b"".join([
        SIGNATURE,
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)),  # 8 bits, not interlaced
        _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),  # pixels per metre
        _chunk(b"IDAT", zlib.compress(rows.tobytes(), level)),
        _chunk(b"IEND", b""),
    ])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
