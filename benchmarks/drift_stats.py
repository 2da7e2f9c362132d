"""Time ``segmentation.monitoring.drift_stats.column_stats`` on 8 columns of 1M rows against a
1M reference.

Why: the nightly drift step scores every model feature of today's customers against the
training reference with Evidently's definitions; on a million customers that has to stay a
matter of seconds. The columns are seeded and shaped like the real features: skewed spend
(lognormal), counts with many ties (Poisson, negative binomial), recency days, a bounded
share, tenure; several are shifted a little, so the KS p-value lands in scipy's slow range.
Run it as ``python -m benchmarks.drift_stats [--rows N] [--reference-rows N] [--repeat K]``;
it prints the best total seconds over the repeats (data generation is not timed).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from segmentation.monitoring.drift_stats import column_stats

Generator = Callable[[np.random.Generator, int, float], np.ndarray]

# name -> draw(rng, rows, shift); shift 0 for the reference, small for today's data
COLUMNS: dict[str, Generator] = {
    "monetary": lambda g, n, s: g.lognormal(3.0 + s, 1.2, n),
    "avg_order_value": lambda g, n, s: g.lognormal(3.5, 0.8 + s, n),
    "frequency": lambda g, n, s: g.poisson(3.0 + 10 * s, n).astype(np.float64),
    "sessions": lambda g, n, s: g.negative_binomial(2, 0.15 - s, n).astype(np.float64),
    "recency_days": lambda g, n, s: np.floor(g.exponential(40.0 * (1 + s), n)),
    "tenure_days": lambda g, n, s: np.floor(g.gamma(2.0, 200.0, n)) + round(100 * s),
    "category_share": lambda g, n, s: g.beta(0.5 + s, 3.0, n),
    "discount_rate": lambda g, n, s: np.round(g.beta(1.0, 8.0 + 50 * s, n), 2),
}
SHIFTS = (0.02, 0.0, 0.01, 0.005, 0.03, 0.0, 0.01, 0.02)


def make_data(
    rows: int, reference_rows: int, seed: int = 7
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, reference, current) per column, seeded."""
    rng = np.random.default_rng(seed)
    out = []
    for (name, draw), shift in zip(COLUMNS.items(), SHIFTS, strict=True):
        out.append((name, draw(rng, reference_rows, 0.0), draw(rng, rows, shift)))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.drift_stats", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="current rows per column")
    parser.add_argument("--reference-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args(argv)

    data = make_data(args.rows, args.reference_rows)
    best: float | None = None
    per_column: dict[str, float] = {}
    for _ in range(args.repeat):
        timings: dict[str, float] = {}
        for name, reference, current in data:
            start = time.perf_counter()
            column_stats(reference, current)
            timings[name] = time.perf_counter() - start
        total = sum(timings.values())
        if best is None or total < best:
            best, per_column = total, timings
    for name, seconds in per_column.items():
        print(f"  {name:16s} {seconds:6.3f} s")
    print(
        f"column_stats: {len(data)} columns x {args.rows:,} rows "
        f"(reference {args.reference_rows:,}): {best:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
