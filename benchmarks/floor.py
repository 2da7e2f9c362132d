"""The floor a skilled analyst would reach by hand: DuckDB RFM + one KMeans fit.

The nightly benchmark compares the pipeline's run against this minimal job over the same lake
Parquet, so "how much slower than hand-written SQL + scikit-learn" is a number, not a feeling.
Run it as ``python -m benchmarks.floor '<home>/lake/events/event_date=*/part-0.parquet' DATE``;
it prints one JSON line with its own timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

US_PER_DAY = 86_400_000_000
RFM_COLUMNS = ("recency_days", "frequency", "monetary")


def rfm_frame(lake_glob: str, day: dt.date) -> pd.DataFrame:
    """Recency, frequency, monetary per customer up to the end of ``day`` (UTC).

    Recency is whole days since the last purchase; a customer who never purchased gets the
    days since their first event (the pipeline's convention), so every customer has a row.
    """
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    end_us = int(end.timestamp()) * 1_000_000
    query = f"""
        WITH ev AS (
            SELECT customer_id, event_type, amount, epoch_us(event_time) AS t
            FROM read_parquet(?)
            WHERE epoch_us(event_time) < {end_us}
        )
        SELECT customer_id,
               floor(({end_us} - coalesce(max(t) FILTER (WHERE event_type = 'purchase'),
                                          min(t))) / {US_PER_DAY})::DOUBLE AS recency_days,
               (count(*) FILTER (WHERE event_type = 'purchase'))::DOUBLE AS frequency,
               coalesce(sum(amount) FILTER (WHERE event_type = 'purchase'), 0)::DOUBLE
                   AS monetary
        FROM ev
        GROUP BY customer_id
    """
    con = duckdb.connect()
    try:
        return con.execute(query, [lake_glob]).df()
    finally:
        con.close()


def segment(rfm: pd.DataFrame) -> np.ndarray:
    """One KMeans(k=7) fit on standardised log1p(R, F, M); returns the labels."""
    x = np.log1p(rfm[list(RFM_COLUMNS)].to_numpy(dtype="float64").clip(min=0))
    scaled = StandardScaler().fit_transform(x)
    kmeans = KMeans(n_clusters=7, n_init=1, random_state=0).fit(scaled)
    return np.asarray(kmeans.labels_)


def floor(lake_glob: str, day: dt.date) -> dict[str, Any]:
    """Run the whole floor job and return its timings and sizes."""
    t0 = time.perf_counter()
    rfm = rfm_frame(lake_glob, day)
    t1 = time.perf_counter()
    labels = segment(rfm)
    t2 = time.perf_counter()
    return {
        "customers": len(rfm),
        "segments": len(np.unique(labels)),
        "sql_seconds": round(t1 - t0, 3),
        "kmeans_seconds": round(t2 - t1, 3),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__)
    parser.add_argument("lake_glob", help="glob of the lake's event Parquet files")
    parser.add_argument("date", type=dt.date.fromisoformat, help="as-of day, YYYY-MM-DD")
    args = parser.parse_args(argv)
    sys.stdout.write(json.dumps(floor(args.lake_glob, args.date)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
