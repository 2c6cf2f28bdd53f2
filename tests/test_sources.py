"""The sources a report cites are those of the prices the comparison applied, read from the result."""

from __future__ import annotations

import costcalc
from costcalc import report
from costcalc.scenario import read_scenario


def test_a_fine_tune_that_keeps_its_snapshot_cites_that_snapshots_sources(book):
    # From 2024-04 a fine-tune of gpt-3.5-turbo-0613 (trained in the 2024-01-25 sheet) stays on it
    # in the 2024-05-13 sheet; nothing here prices 0125, which the alias means. So 0125's
    # own sources (S4, S19) are not cited, while 0613's (S3, and its fine-tuning S1, S12a) are
    # cited by the 2024-05-13 sheet too. GPT-4 (gpt-4-0613 in both sheets) cites S2 and S11a.
    raw = {"schema_version": 1,
           "traffic": {"requests_per_month": 1000, "start_month": "2024-04", "horizon_months": 3,
                       "prompt_tokens": 500, "completion_tokens": 100},
           "strategies": {"Base": {"type": "base", "model": "gpt-4"},
                          "FT": {"type": "fine-tuned", "model": "gpt-3.5-turbo-0613", "prompt_tokens": 100,
                                 "training_tokens": 10000}}}
    comparison = costcalc.compare(read_scenario(raw), book)
    assert [m.snapshots for m in comparison.strategy("FT").months] == [("gpt-3.5-turbo-0613",)] * 3
    table = report.sources_table(comparison)
    assert [(row[0], row[3]) for row in table.rows] == [
        ("S1", "2024-01-25, 2024-05-13"),
        ("S2", "2024-01-25, 2024-05-13"),
        ("S3", "2024-01-25, 2024-05-13"),
        ("S11a", "2024-01-25, 2024-05-13"),
        ("S12a", "2024-01-25, 2024-05-13"),
    ]
    assert table.notes[0].startswith("Price sheets used: 2024-01-25 (2024-01-25.toml), 2024-05-13 (2024-05-13.toml); "
                                      "checked 2026-11-22; from ")


def test_a_base_model_does_not_cite_its_fine_tuning_sources(book):
    # gpt-4o-mini at base rates in 2024-10: its own sources only, not those of its fine-tuning table.
    raw = {"schema_version": 1,
           "traffic": {"requests_per_month": 1000, "start_month": "2024-10", "horizon_months": 1,
                       "prompt_tokens": 500, "completion_tokens": 100},
           "strategies": {"Base": {"type": "base", "model": "gpt-4o-mini"}}}
    comparison = costcalc.compare(read_scenario(raw), book)
    model = book.revision("2024-10-01").model("gpt-4o-mini")
    assert model.fine_tuning is not None and set(model.fine_tuning.sources) - set(model.sources)
    assert {c.key for c in comparison.assumptions.sources} == set(model.sources)
