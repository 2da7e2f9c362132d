"""The membership history at scale: 60 nights of 100,000 customers stay under 3 days' size.

The size claim needs the scale, so it lives outside the unit tier.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation.segments.history import advance

pytestmark = pytest.mark.integration


def segments_table(
    rng: np.random.Generator, ids: np.ndarray, seg: np.ndarray, names: Mapping[int, str]
) -> pd.DataFrame:
    """A customer_segments-like day: the published table's 14 columns and types."""
    n = len(ids)
    r, f, m = (rng.integers(1, 6, n).astype("int8") for _ in range(3))
    frequency = rng.poisson(3, n).astype("float64")
    return pd.DataFrame(
        {
            "run_date": pd.Series([dt.date(2024, 3, 1)] * n, dtype="object"),
            "customer_id": ids,
            "segment_id": seg.astype("int64"),
            "segment_name": [names[s] for s in seg],
            "model_version": "m20240301",
            "is_control": rng.random(n) < 0.1,
            "recency_days": np.minimum(rng.exponential(40, n).round(), 365.0),
            "frequency": frequency,
            "monetary": (frequency * rng.lognormal(3.5, 0.8, n)).round(2),
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm_score": [f"{a}{b}{c}" for a, b, c in zip(r, f, m, strict=True)],
            "rfm_segment": np.array(["Champions", "Loyal Customers", "At Risk", "Lost"])[
                rng.integers(0, 4, n)
            ],
        }
    )


@pytest.mark.slow
def test_history_of_60_nights_is_smaller_than_3_days(tmp_path: Path) -> None:
    rng = np.random.default_rng(2024)
    n, nights, k = 100_000, 60, 8
    names = {s: f"Segment {s}" for s in range(k)}
    ids = np.array([f"C{c:07d}" for c in range(n)], dtype=object)
    seg = rng.integers(0, k, n)
    h, previous = None, None
    for night in range(nights):
        day = dt.date(2024, 3, 1) + dt.timedelta(days=night)
        if night:
            change = rng.random(n) < 0.01
            seg = seg.copy()
            seg[change] = (seg[change] + rng.integers(1, k, change.sum())) % k
        table = pd.DataFrame({"customer_id": ids, "segment_id": seg})
        table["segment_name"] = table.segment_id.map(names)
        h, previous = advance(h, previous, day, table), day
    assert h is not None
    assert 1.5 * n < len(h) < 1.7 * n  # ~1% of 100,000 customers change each night

    history_path, day_path = tmp_path / "history.parquet", tmp_path / "day.parquet"
    pq.write_table(pa.Table.from_pandas(h, preserve_index=False), history_path)
    one_day = segments_table(rng, ids, seg, names)
    assert one_day.shape == (n, 14)
    pq.write_table(pa.Table.from_pandas(one_day, preserve_index=False), day_path)
    ratio = history_path.stat().st_size / day_path.stat().st_size
    assert ratio < 3, f"history is {ratio:.2f} x one day's customer_segments"
