"""How amounts and counts read on screen; JSON and CSV keep them exact."""

from __future__ import annotations

from decimal import Decimal

import pytest

from costcalc.render import Count, Money, Output, Table, format_usd, render


@pytest.mark.parametrize("amount, shown", [
    ("1234.567", "$1,234.57"),
    ("1", "$1.00"),
    ("0.9996", "$1.00"),
    ("0.986203", "$0.986"),  # below a dollar: three significant digits, not six decimals
    ("0.1", "$0.10"),
    ("0.0015", "$0.0015"),
    ("0.003112", "$0.00311"),
    ("0.000625", "$0.000625"),
    ("0", "$0.00"),
    ("-1228.758", "-$1,228.76"),
])
def test_format_usd(amount, shown):
    assert format_usd(Decimal(amount)) == shown


def test_cells_are_rounded_for_people_and_exact_for_machines():
    table = Table(None, ["requests", "cost", "in EUR"],
                  [[Count("115762.5"), Money("0.986203"), Money.shown_as(Decimal("4557.6254"), "€")]])
    assert render(Output({}, [table]), "table").splitlines()[-1].split() == ["115,763", "$0.986", "€4,557.63"]
    assert render(Output({}, [table]), "csv").splitlines()[-1] == "115762.5,0.986203,4557.6254"


def test_a_table_is_found_by_name_and_prints_its_legend_before_its_notes():
    summary = Table("Answer", ["a"], [[1]], ["Break-even in 2023-12."], legend="How to read it.", name="summary")
    monthly = Table("Month by month", ["month"], [["2023-09"]], name="monthly")
    output = Output({}, [summary, monthly])
    assert output.table("monthly") is monthly
    with pytest.raises(KeyError, match="no table 'sources' in this output; tables are: summary, monthly"):
        output.table("sources")
    assert render(Output({}, [summary]), "table") == "Answer\n  a\n---\n  1\nHow to read it.\nBreak-even in 2023-12."
    assert render(Output({}, [summary]), "markdown") == (
        "### Answer\n\n|   a |\n|-----|\n|   1 |\n\nHow to read it.  \nBreak-even in 2023-12.  ")
    assert render(Output({}, [monthly, summary]), "csv") == "month\n2023-09"  # CSV: the first table only


def test_wide_characters_keep_the_columns_aligned():
    # CJK characters take two columns on a terminal: with the numbers right-aligned, every row of the
    # table is as wide on screen as the header.
    from wcwidth import wcswidth

    from costcalc.render import Output, Table, render

    text = render(Output({}, [Table(None, ["name", "total"], [["ベース", 1], ["微调 파인튜닝", 2], ["plain", 3]])]), "table")

    rows = text.splitlines()
    assert len({wcswidth(row) for row in rows}) == 1  # padded by width on screen, not by characters
