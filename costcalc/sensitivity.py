"""How fine-tuning's payback moves with traffic and with how much of the prompt it removes.

`sensitivity_grid(comparison, traffic, reductions)` gives, for every pair of a traffic level
(requests in the first month) and a prompt reduction (the fraction of the baseline's prompt
tokens that fine-tuning removes), the break-even month of a fine-tuned strategy against the
baseline and its total saving over the horizon.

Costs are linear in traffic and, for the fine-tuned strategy, in its prompt tokens, so the exact
per-month rates a `Comparison` already holds (`MonthRates`) are all it takes: with R the traffic
and p the fine-tuned prompt, the cumulative gap to the baseline after month k is

    gap_k(R, p) = R × (A_k + p × B_k − cached(p) × D_k) + C_k

(A: cumulative per-request costs other than the prompt, net of the baseline's; B: cumulative
prompt price; D: cumulative saving of a cached token over an uncached one; cached(p): the tokens
the prompt cache serves at prompt p, a step function (`cost.cacheable_tokens` × the cached share);
C: cumulative training, upkeep and other traffic-free costs, net of the baseline's), and the whole
grid is a few numpy broadcasts. numpy is imported when a grid is computed, not with
costcalc.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .cost import CACHE_INCREMENT_TOKENS, CACHE_MIN_TOKENS
from .months import month_label
from .errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from .compare import Comparison

MAX_CELLS_PER_BLOCK = 4_000_000  # float64 cells of the (traffic, reduction, month) block: 32 MB


@dataclass(frozen=True, eq=False)
class SensitivityGrid:
    """Break-even month and saving over a grid of traffic levels × prompt reductions.

    Arrays are indexed [traffic, reduction]. `break_even_month` is the 1-based month number of the
    horizon (`months[n - 1]`), 0 when the fine-tuned strategy does not catch up within it.
    `saving_usd` is the baseline's total minus the fine-tuned total (negative: fine-tuning costs
    more). Floats: this is a map for a chart; the exact figures come from `compare`.
    """

    strategy: str
    baseline: str
    months: tuple[dt.date, ...]  # the first day of each month of the horizon
    baseline_prompt_tokens: float
    traffic: np.ndarray  # requests in the first month, shape (T,)
    reductions: np.ndarray  # fraction of the baseline prompt removed, shape (R,)
    break_even_month: np.ndarray  # int64, shape (T, R)
    saving_usd: np.ndarray  # float64, shape (T, R)

    def to_frame(self):
        """One row per grid point: traffic, reduction, fine-tuned prompt tokens, break-even month
        number (nullable Int64), break-even month (Period, NaT when none) and saving (float64)."""
        import numpy as np
        import pandas as pd

        traffic, reductions = np.meshgrid(self.traffic, self.reductions, indexing="ij")
        months = pd.PeriodIndex([month_label(m) for m in self.months], freq="M")
        number = self.break_even_month.ravel()
        return pd.DataFrame({
            "traffic": traffic.ravel(),
            "reduction": reductions.ravel(),
            "prompt_tokens": self.baseline_prompt_tokens * (1 - reductions.ravel()),
            "break_even_month_number": pd.arrays.IntegerArray(number.copy(), mask=number == 0),
            "break_even_month": pd.PeriodIndex(
                [months[n - 1] if n > 0 else pd.NaT for n in number], freq="M"),
            "saving_usd": self.saving_usd.ravel(),
        })


def sensitivity_grid(
    comparison: Comparison,
    traffic: Sequence[float] | np.ndarray,
    reductions: Sequence[float] | np.ndarray,
    strategy: str | None = None,
) -> SensitivityGrid:
    """Break-even month and saving of `strategy` (default: the first fine-tuned one) against the
    baseline, for each traffic level (requests in the first month; later months keep the
    scenario's growth) and each prompt reduction (0 = the baseline's full prompt, 0.9 = a tenth
    of it). The fine-tuned strategy keeps its completion tokens, training and upkeep.
    """
    import numpy as np

    result = comparison.strategy(strategy) if strategy else comparison.focus
    if result is None:
        raise UsageError("the comparison has no fine-tuned strategy to vary")
    base = comparison.baseline_result
    if result.is_baseline:
        raise UsageError(f"{result.name} is the baseline; choose another strategy")
    traffic = np.asarray(traffic, dtype=np.float64)
    reductions = np.asarray(reductions, dtype=np.float64)
    if traffic.ndim != 1 or reductions.ndim != 1:
        raise UsageError("traffic and reductions must be one-dimensional")
    if (traffic < 0).any() or ((reductions < 0) | (reductions > 1)).any():
        raise UsageError("traffic must be >= 0 and reductions between 0 and 1")

    # Floats from here on, on purpose: a chart needs ~3 significant digits, and 100,000 grid
    # points in Decimal would take seconds. Points near a tie may land a month either side.
    def per_month(values):
        return np.array([float(v) for v in values], dtype=np.float64)

    weight = per_month(r.weight for r in result.rates)
    base_request = per_month(r.request_usd(base.tokens) for r in base.rates)
    tokens = result.tokens
    other = per_month(r.output_usd_per_token * tokens.completion + r.embedding_usd_per_token * tokens.query
                      + r.input_usd_per_token * tokens.context for r in result.rates)
    prompt_price = per_month(r.input_usd_per_token for r in result.rates)
    cache_saving = per_month(r.input_usd_per_token - r.cached_input_usd_per_token for r in result.rates)
    # A model with a cache-write price pays its surcharge on the cacheable tokens not served from the cache.
    write_extra = per_month(r.cache_write_extra_usd_per_token for r in result.rates)
    traffic_free = per_month(r.traffic_free_usd - b.traffic_free_usd for r, b in zip(result.rates, base.rates))
    baseline_prompt = float(base.tokens.prompt)

    a = np.cumsum(weight * (other - base_request))  # shape (M,)
    b = np.cumsum(weight * prompt_price)
    c = np.cumsum(traffic_free)
    d = np.cumsum(weight * cache_saving)
    e = np.cumsum(weight * write_extra)
    prompt = baseline_prompt * (1 - reductions)  # shape (R,)
    cacheable = _cached_tokens(prompt + float(tokens.context), 1.0)
    cached = cacheable * float(tokens.cached_share)
    per_request = (a[None, :] + prompt[:, None] * b[None, :] - cached[:, None] * d[None, :]
                   + (cacheable - cached)[:, None] * e[None, :])  # shape (R, M)

    months = len(weight)
    block = max(1, MAX_CELLS_PER_BLOCK // max(1, len(reductions) * months))
    break_even = np.zeros((len(traffic), len(reductions)), dtype=np.int64)
    saving = np.empty((len(traffic), len(reductions)), dtype=np.float64)
    for start in range(0, len(traffic), block):
        rows = slice(start, start + block)
        gap = traffic[rows, None, None] * per_request[None, :, :] + c[None, None, :]  # (T, R, M)
        caught_up = gap <= 0
        break_even[rows] = np.where(caught_up.any(axis=2), caught_up.argmax(axis=2) + 1, 0)
        saving[rows] = -gap[:, :, -1]
    return SensitivityGrid(
        strategy=result.name, baseline=base.name, months=tuple(m.month for m in result.months),
        baseline_prompt_tokens=baseline_prompt, traffic=traffic, reductions=reductions,
        break_even_month=break_even, saving_usd=saving,
    )


def _cached_tokens(input_tokens: np.ndarray, share: float) -> np.ndarray:
    """`cost.cacheable_tokens` × share, for an array of input sizes."""
    import numpy as np

    cacheable = np.floor(np.floor(input_tokens) / CACHE_INCREMENT_TOKENS) * CACHE_INCREMENT_TOKENS
    return share * np.where(input_tokens >= CACHE_MIN_TOKENS, cacheable, 0.0)


__all__ = ["SensitivityGrid", "sensitivity_grid"]
