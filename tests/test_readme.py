"""Every Python example in the README runs as written and prints what its comments promise."""

from __future__ import annotations

import contextlib
import io
import re

from PIL import Image

from costcalc import charts

from .conftest import REPO


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)


def run_block(number: int, tmp_path, monkeypatch) -> list[str]:
    """Run README block `number` as a user would paste it, in an empty folder; its printed lines."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COSTCALC_PRICING_DIR", raising=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(python_blocks()[number], f"README.md python block {number}", "exec"), {})
    return out.getvalue().splitlines()


def png_pixels(path) -> tuple[int, int]:
    with Image.open(path) as image:
        image.load()  # decode every pixel, not just the header
        return image.size


def test_every_python_block_of_the_readme_has_a_test_below():
    assert len(python_blocks()) == 2, "a new ```python block in README.md needs a test in tests/test_readme.py"


def test_the_library_example_prints_what_its_comments_say(tmp_path, monkeypatch):
    lines = run_block(0, tmp_path, monkeypatch)
    assert lines[:3] == ["2.4", "12", "2023-12-01"]
    assert lines[3:] == [
        "Base GPT-3.5 Turbo 3940.61",
        "Fine-tuned GPT-3.5 3725.18",
        "GPT-4 133703.86",
        "Retrieval (RAG) 3378.55",
    ]


def test_the_charts_example_prints_the_answer_and_the_cumulative_table_and_saves_two_pngs(tmp_path, monkeypatch):
    lines = run_block(1, tmp_path, monkeypatch)
    assert lines[0] == (
        "Fine-tuning gpt-3.5-turbo-0613 breaks even in 2023-12 (month 4) and saves $215.43 over 12 months vs "
        "Base GPT-3.5 Turbo; GPT-4 costs 33.9× as much and Retrieval (RAG) 14% less. "
        "Cheapest over 12 months: Retrieval (RAG) ($3,378.55)."
    )
    # The pivot: a header row, the index name, then one row per month with the strategies in
    # alphabetical columns (Base, Fine-tuned, GPT-4, Retrieval).
    assert lines[1].split()[0] == "strategy" and lines[2].split() == ["month"]
    rows = {line.split()[0]: [float(x) for x in line.split()[1:]] for line in lines[3:]}
    assert len(rows) == 12
    # Fine-tuning's cumulative cost falls below the baseline's in 2023-12, not before: the break-even.
    assert rows["2023-11"][:2] == [1276.76, 1360.13] and rows["2023-12"][:2] == [1745.60, 1583.89]
    # The last month's cumulative costs are the totals the first example prints.
    assert rows["2024-08"] == [3940.61, 3725.18, 133703.86, 3378.55]
    assert png_pixels(tmp_path / "cumulative-cost.png") == (1500, 840)  # 10 × 5.6 in at dpi=150
    assert png_pixels(tmp_path / "price-history.png") == (1000, 560)  # no dpi given: the figure's 100 dpi


def test_the_readme_shows_the_committed_chart_at_the_size_charts_draw():
    assert "![Cumulative cost by strategy](docs/cumulative-cost.png)" in (REPO / "README.md").read_text()
    assert png_pixels(REPO / "docs" / "cumulative-cost.png") == charts.pixel_size(charts.new_figure())
