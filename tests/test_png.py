"""costcalc.png: the charts' PNGs, the pixels matplotlib drew, unfiltered (RGB when opaque)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from costcalc import png


def test_a_png_holds_the_pixels_given_and_the_resolution():
    # 3 × 2 pixels, top row first: red, green, blue / white, half-transparent black, clear.
    pixels = bytes([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255,
                    255, 255, 255, 255, 0, 0, 0, 128, 0, 0, 0, 0])
    image = Image.open(io.BytesIO(png.encode(pixels, 3, 2, 150)))
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (3, 2))
    assert image.tobytes() == pixels
    # 150 dpi = 5,906 pixels per metre (150 / 0.0254 = 5905.5, rounded up), read back as Pillow rounds it
    assert image.info["dpi"] == pytest.approx((150.0124, 150.0124))


def test_an_opaque_picture_is_rgb_with_the_same_pixels():
    # 2 × 2 opaque pixels: red, green / blue, white; the alpha byte of each (255) is not written.
    pixels = bytes([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255])
    image = Image.open(io.BytesIO(png.encode(pixels, 2, 2, 150)))
    assert (image.mode, image.size) == ("RGB", (2, 2))
    assert image.tobytes() == bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
    assert image.convert("RGBA").tobytes() == pixels


def test_the_same_pixels_give_the_same_bytes():
    pixels = bytes(range(256)) * 4 * 4  # 64 × 16 pixels
    assert png.encode(pixels, 64, 16, 100) == png.encode(pixels, 64, 16, 100)


def test_pixels_that_do_not_fill_the_size_are_an_error():
    with pytest.raises(ValueError, match="23 bytes are not 3 × 2 RGBA pixels"):
        png.encode(bytes(23), 3, 2, 150)


def test_a_chart_as_png_is_the_picture_matplotlib_would_save(tmp_path):
    from costcalc import charts

    figure = charts.new_figure((4, 3))
    figure.add_subplot().plot([1, 3, 2], label="a line")
    ours = charts.save_png(figure, tmp_path / "ours.png", dpi=60)
    with charts.style():
        figure.savefig(tmp_path / "matplotlib.png", format="png", dpi=60)
    a, b = (Image.open(path) for path in (ours, tmp_path / "matplotlib.png"))
    assert a.size == b.size == (240, 180)
    assert a.convert("RGBA").tobytes() == b.convert("RGBA").tobytes()
