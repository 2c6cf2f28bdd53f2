"""The README's first library example runs as written and prints what its comments promise."""

from __future__ import annotations

import contextlib
import io
import re

from .conftest import REPO


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)


def test_first_library_example_prints_what_its_comments_say(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COSTCALC_PRICING_DIR", raising=False)
    block = python_blocks()[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["2.4", "12", "2023-12"]
    assert lines[3:] == [
        "Base GPT-3.5 Turbo 4953.94",
        "Fine-tuned GPT-3.5 3725.18",
        "GPT-4 133703.86",
        "Retrieval (RAG) 3998.35",
    ]
