"""The comparison in English: the one-sentence answer, why a strategy breaks even (or not), and
the budget verdict.

Kept apart from the engine (`costcalc.compare` computes, it does not write) and beside the views
that put these sentences into tables and reports. Amounts are formatted by the `money` function a
caller passes (`render.format_usd`, or a display currency's `format`), so the same sentence can be
shown in USD or in another currency.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from .months import month_label, months_phrase
from .render import format_usd

if TYPE_CHECKING:
    from .compare import BreakEven, BudgetCheck, Comparison

Money = Callable[[Decimal], str]

# Strategies the answer speaks of one by one at most, fine-tuned ones and the others each; the
# rest are counted ("and 1,990 other strategies: see the table"), so that a scenario of 2,000
# strategies still has an answer one can read. The table and the JSON have every one.
ANSWER_MOST = 5


def answer(comparison: Comparison, money: Money = format_usd) -> str:
    """The answer in one sentence, then the cheapest strategy.

    Each fine-tuned strategy gets its own clause: "Fine-tuning gpt-3.5-turbo breaks even ..." when
    there is one, and, when there are more (two may fine-tune the same model), each named by its
    strategy name, "Fine-tuned A (gpt-3.5-turbo) breaks even ...; Fine-tuned B (...) does not ...".
    """
    base = comparison.baseline_result
    months = months_phrase(comparison.assumptions.horizon_months)
    tuned = [s for s in comparison.strategies
             if s.type == "fine-tuned" and not s.is_baseline and s.break_even is not None]
    clauses = []
    for s in tuned[:ANSWER_MOST]:
        assert s.break_even is not None  # a non-baseline strategy always has one
        subject = f"Fine-tuning {s.model}" if len(tuned) == 1 else f"{s.name} (fine-tuning {s.model})"
        if not s.available:  # its totals are of the months it could be served: no break-even to speak of
            clauses.append(f"{subject} cannot be bought for the whole horizon: {s.unavailable_reason}")
            continue
        clauses.append(_break_even_clause(subject, s.break_even, base.name, months, money))
    if len(tuned) > ANSWER_MOST:
        clauses.append(f"{_strategies(len(tuned) - ANSWER_MOST, 'other fine-tuned')} in the table")
    if clauses:
        first = "; ".join(clauses)
        named = {s.name for s in tuned}
        others = [s for s in comparison.strategies if s.name not in named and not s.is_baseline]
    else:
        first = f"Over {months}, {base.name} costs {money(base.total_usd)}"
        others = [s for s in comparison.strategies if not s.is_baseline]
    if others:
        parts = [f"{s.name} {relative(s.total_usd, base.total_usd, money)}" if s.available
                 else f"{s.name} cannot be served for the whole horizon ({s.unavailable_reason})"
                 for s in others[:ANSWER_MOST]]
        if others[0].available:
            parts[0] = f"{others[0].name} costs {relative(others[0].total_usd, base.total_usd, money)}"
        if len(others) > ANSWER_MOST:
            parts.append(f"{_strategies(len(others) - ANSWER_MOST, 'other')} as the table shows")
        first += "; " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])
    cheapest = comparison.cheapest
    if not base.available:
        first += f" (the baseline, {base.name}, cannot be served for the whole horizon: {base.unavailable_reason})"
    if not cheapest.available:
        return (f"{first}. No strategy can be served for the whole horizon; the least priced is {cheapest.name} "
                f"({money(cheapest.total_usd)}).")
    return f"{first}. Cheapest over {months}: {cheapest.name} ({money(cheapest.total_usd)})."


def _strategies(count: int, kind: str) -> str:
    """'1 other strategy' / '1,995 other fine-tuned strategies'."""
    return f"{count:,} {kind} strateg{'y' if count == 1 else 'ies'}"


def _break_even_clause(subject: str, be: BreakEven, baseline: str, months: str, money: Money) -> str:
    """'<subject> breaks even in 2023-12 (month 4) and saves $1,228.76 over 12 months vs <baseline>'
    (or does not, or never pays off, and why)."""
    if be.month is not None:
        text = f"{subject} breaks even in {month_label(be.month)} (month {be.month_number})"
        if be.saving_usd >= 0:
            return text + f" and saves {money(be.saving_usd)} over {months} vs {baseline}"
        return text + f" but costs {money(-be.saving_usd)} more than {baseline} over {months}"
    if be.monthly_requests is not None:
        return (f"{subject} does not break even within {months} at "
                f"{requests_phrase(be.first_month_requests)} a month (it needs "
                f"{be.monthly_requests:,}) and costs {money(-be.saving_usd)} more than {baseline}")
    return f"{subject} never pays off vs {baseline}: {break_even_reason(be, money)}"


def break_even_reason(be: BreakEven, money: Money = format_usd) -> str:
    """Why a strategy breaks even when it does, or why not, in one sentence."""
    request = "a fine-tuned request" if be.strategy_type == "fine-tuned" else f"a request with {be.strategy}"
    costs = f"{request} costs {money(be.request_usd)} vs {money(be.baseline_request_usd)} for the baseline"
    horizon = months_phrase(be.horizon_months)
    traffic = requests_phrase(be.first_month_requests)
    extra_costs = {"fine-tuned": "training and upkeep", "retrieval": "embedding and vector-database costs"}.get(
        be.strategy_type, "fixed costs")
    if be.monthly_requests is None:
        if be.extra_fixed_usd < 0 and be.request_usd > be.baseline_request_usd:
            return f"{costs}; it is cheaper only at low traffic, where the baseline's fixed costs weigh more"
        if be.strategy_type == "fine-tuned":
            return f"{costs}, so no traffic repays the training fee"
        if be.extra_fixed_usd > 0:
            return f"{costs}, so no traffic repays its {extra_costs}"
        return f"{costs}, so it is never cheaper"
    if be.monthly_requests == 0:
        payback = f"it has no {extra_costs} above the baseline's to repay, so any traffic saves"
    else:
        payback = (f"from {be.monthly_requests:,} requests in the first month the saving repays "
                   f"{money(be.extra_fixed_usd)} of {extra_costs} within {horizon}")
    if be.month is None:
        return f"not within {horizon} at {traffic} in the first month: {costs}, and {payback}"
    text = (f"cumulative cost at or below the baseline's from {month_label(be.month)} (month {be.month_number}); "
            f"{payback}")
    if be.final_gap_usd > 0:
        text += f", but by the end it costs {money(be.final_gap_usd)} more ({costs})"
    return text


def budget_sentence(check: BudgetCheck, money: Money = format_usd) -> str:
    """'X (the cheapest strategy) is projected to cost $A over H, within the budget of $B'."""
    which = f"{check.strategy} (the cheapest strategy)" if check.cheapest else check.strategy
    verdict = "above" if check.over else "within"
    return (f"{which} is projected to cost {money(check.total_usd)} over {check.horizon}, "
            f"{verdict} the budget of {money(check.budget_usd)}")


def requests_phrase(value: Decimal) -> str:
    """'1 request' / '100,000 requests' (rounded to a whole request)."""
    count = count_phrase(value)
    return f"{count} request{'' if count == '1' else 's'}"


def count_phrase(value: Decimal) -> str:
    """Requests as a person reads them: 100,000 (rounded to a whole request)."""
    return f"{int(value.to_integral_value()):,}"


def relative(total: Decimal, base: Decimal, money: Money = format_usd) -> str:
    """'21.3× as much' / '12% more' / '8% less' than the baseline; when the baseline costs nothing
    (no requests), no ratio means anything: '$846.00 more', or 'nothing more'."""
    if not base:
        # Not "costs $0.00": at no traffic a strategy costs nothing more, it is not free.
        return "nothing more" if not total else f"{money(total)} more"
    ratio = total / base
    if ratio >= 2:
        return f"{ratio:.1f}× as much"
    pct = (ratio - 1) * 100
    if abs(pct) < Decimal("0.5"):
        return "about the same"
    return f"{abs(pct):.0f}% {'more' if pct > 0 else 'less'}"


__all__ = ["answer", "break_even_reason", "budget_sentence", "count_phrase", "relative", "requests_phrase"]
