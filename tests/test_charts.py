"""Charts: money labels, every plot function on real results, PNG size, atomic writes."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from costcalc import atomic, charts

LOW_DPI = 40  # tests check layout and pixel size, not beauty; low DPI keeps them fast
EXAMPLES = Path(charts.__file__).parent / "examples"


@pytest.fixture(scope="module")
def dataset_report(book):
    """The bundled example training file (60 chat examples) scanned for gpt-3.5-turbo today."""
    from costcalc.dataset import scan_dataset

    sheet = book.as_of()
    return scan_dataset(EXAMPLES / "example-train.jsonl", model_price=sheet.model("gpt-3.5-turbo"),
                        workers=1, sheet=sheet)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG header, without an image library."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("value, label", [
    (0, "$0"),
    (0.5, "$0.50"),
    (80, "$80"),
    (950, "$950"),
    (1200, "$1.2k"),
    (3400, "$3.4k"),
    (15000, "$15k"),
    (2_500_000, "$2.5M"),
    (-1200, "-$1.2k"),
])
def test_money_tick(value, label):
    assert charts.money_tick(value) == label


@pytest.mark.parametrize("amount, text", [
    ("3400", "$3,400"),
    ("3400.49", "$3,400"),
    ("12.5", "$12.50"),
    ("0.0042", "$0.0042"),
    ("-1234.5", "-$1,235"),
])
def test_money_text(amount, text):
    from decimal import Decimal

    assert charts.money_text(Decimal(amount)) == text


def test_money_axis_uses_one_number_of_decimals(book):
    figure = charts.plot_price_history(book, "gpt-4o-mini")
    figure.canvas.draw()
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels() if t.get_text()]
    assert labels and all(label.startswith("$") and "." in label for label in labels), labels


def test_price_history_steps_through_every_sheet(book, tmp_path):
    figure = charts.plot_price_history(book, "gpt-3.5-turbo")
    axes = figure.axes[0]
    lines = {line.get_label(): line for line in axes.get_lines() if not line.get_label().startswith("_")}
    assert set(lines) == {"base input", "base output", "fine-tuned input", "fine-tuned output", "training"}
    entries = book.history("gpt-3.5-turbo")
    # One step per sheet plus the segment to the right edge; the y values are the sheet prices.
    base_input = lines["base input"].get_ydata()
    assert list(base_input[:-1]) == [float(e.model.input_per_1m) for e in entries]
    assert "Price history of gpt-3.5-turbo" in axes.get_title(loc="left")
    assert axes.get_ylabel() == "USD per 1M tokens"
    # The alias moving from 0613 to 0125 is marked.
    assert any("gpt-3.5-turbo-0125" in t.get_text() for t in axes.texts)
    path = charts.save_png(figure, tmp_path / "history.png", dpi=LOW_DPI)
    assert png_size(path) == charts.pixel_size(figure, LOW_DPI) == (400, 224)


def test_tokens_histogram_marks_the_limit_and_the_truncated_examples(dataset_report, tmp_path):
    from dataclasses import replace

    report = replace(dataset_report, max_tokens_per_example=90)
    tokens = charts.example_tokens(report)
    figure = charts.plot_tokens_histogram(report, tokens)
    axes = figure.axes[0]
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    over = sum(1 for t in tokens if t > 90)
    assert over and f"examples over the limit ({over}, truncated)" in legend
    assert "limit 90 tokens per example" in legend
    drawn = sum(p.get_height() for p in axes.patches)
    assert drawn == len(tokens) == dataset_report.examples
    charts.save_png(figure, tmp_path / "tokens.png", dpi=LOW_DPI)
    assert png_size(tmp_path / "tokens.png") == (400, 224)


def test_example_tokens_match_the_dataset_report(dataset_report):
    tokens = charts.example_tokens(dataset_report)
    assert len(tokens) == dataset_report.examples
    assert sum(tokens) == dataset_report.total_tokens
    assert min(tokens) == dataset_report.tokens_per_example.min
    assert max(tokens) == dataset_report.tokens_per_example.max


def test_a_far_limit_is_named_instead_of_stretching_the_axis(dataset_report):
    figure = charts.plot_tokens_histogram(dataset_report, charts.example_tokens(dataset_report))
    axes = figure.axes[0]
    assert axes.get_xlim()[1] < 200
    assert any("16,385 tokens per example is far beyond the longest" in t.get_text() for t in axes.texts)


# --- atomic writes ---------------------------------------------------------------------------------


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    atomic.write_text(target, "one\n")
    atomic.write_text(target, "two\n")
    assert target.read_bytes() == b"two\n"
    assert os.listdir(target.parent) == ["out.txt"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as temp:
        temp.write_text("half")
        raise RuntimeError("renderer crashed")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_atomic_files_get_ordinary_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        path = atomic.write_bytes(tmp_path / "x.bin", b"\x00")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_charts_do_not_touch_pyplot():
    import sys

    charts.new_figure()
    assert "matplotlib.pyplot" not in sys.modules or _pyplot_figures() == 0


def _pyplot_figures() -> int:
    import matplotlib.pyplot as plt

    return len(plt.get_fignums())
