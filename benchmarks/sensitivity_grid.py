"""Benchmark: a 100,000-point sensitivity grid (500 traffic levels × 200 prompt reductions).

    python benchmarks/sensitivity_grid.py

Prices the bundled example scenario once (exact Decimal, `costcalc.compare`), then times
`sensitivity_grid` over 500 traffic levels (1,000 to 10,000,000 requests in the first month, log
spaced) × 200 prompt reductions (0 to 99.5% of the baseline prompt removed): the break-even month
and the 12-month saving of fine-tuning at every point. Prints the best of 7 runs and its share of
a 1 second budget.
"""

from __future__ import annotations

import time

import numpy as np

from costcalc.compare import compare
from costcalc.pricing import load_pricebook
from costcalc.scenario import load_scenario
from costcalc.sensitivity import sensitivity_grid

BUDGET_S = 1.0
RUNS = 7


def main() -> None:
    comparison = compare(load_scenario(), load_pricebook())
    traffic = np.geomspace(1_000, 10_000_000, 500)
    reductions = np.linspace(0, 0.995, 200)
    sensitivity_grid(comparison, traffic[:2], reductions[:2])  # warm-up: first numpy calls

    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        grid = sensitivity_grid(comparison, traffic, reductions)
        times.append(time.perf_counter() - started)
    best = min(times)
    points = grid.break_even_month.size
    caught_up = int((grid.break_even_month > 0).sum())
    print(f"sensitivity grid: {len(traffic)} traffic levels x {len(reductions)} prompt reductions "
          f"= {points:,} points, {len(grid.months)} months each")
    print(f"best of {RUNS}: {best * 1000:.1f} ms ({points / best / 1e6:.1f} M points/s); "
          f"median {sorted(times)[RUNS // 2] * 1000:.1f} ms")
    print(f"budget: {BUDGET_S:.0f} s -> {best / BUDGET_S:.1%} of it (ratio {best / BUDGET_S:.3f})")
    print(f"fine-tuning breaks even within the horizon at {caught_up:,} of {points:,} points")


if __name__ == "__main__":
    main()
