"""
### Segment sizes of each new night (an example of a DAG downstream of the segmentation)

Runs when the nightly `customer_segmentation` DAG publishes `customer_segments`: it is
scheduled on that Asset, named by its name, so it works whatever the pipeline's home is.
For each night published since its last run it counts the customers per segment, the place
to put what your team does with a new night (sync audiences, refresh a dashboard, ...).

Everything it needs comes with the asset event, not from the pipeline's config or package:

* the event's `extra`: `{"run_date": "2025-06-30", "current_moved": true, "rows": 2000}`;
* the asset's URI, `file:///<home>/output/customer_segments`: the night's rows are
  `<that folder>/run_date=<run_date>/part-0.parquet`.

A rerun or backfill of an older night republishes that night's partition too, but its event
says `current_moved: false` (the newest night is still the current one): this DAG logs and
skips it. Its result (an XCom) says which nights it counted and which it skipped.

**Install**: copy this file into the dags folder of the Airflow that runs
`customer_segmentation` (next to `customer_segmentation.py`) and unpause it. Its workers must
see the pipeline's home and have pandas and pyarrow (the pipeline's install has both).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pendulum
from airflow.sdk import Asset, dag, task

# by name: the URI spells the producer's home, which this DAG need not know
CUSTOMER_SEGMENTS = Asset.ref(name="customer_segments")

log = logging.getLogger(__name__)


def night_file(table_uri: str, run_date: str) -> Path:
    """The Parquet file of one night of a per-run table, from the table's ``file://`` URI."""
    return Path(unquote(urlsplit(table_uri).path)) / f"run_date={run_date}" / "part-0.parquet"


@dag(
    dag_id=Path(__file__).stem,
    doc_md=__doc__,
    schedule=[CUSTOMER_SEGMENTS],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["segmentation", "example"],
)
def downstream_segment_sizes() -> None:
    @task
    def count_segments(*, triggering_asset_events: Any = None) -> dict[str, Any]:
        import pandas as pd

        counted: dict[str, dict[str, int]] = {}
        skipped: list[str] = []
        for event in triggering_asset_events.get(CUSTOMER_SEGMENTS, []):
            run_date = event.extra["run_date"]
            if not event.extra["current_moved"]:
                log.info("skipping %s: a rerun or backfill of an older night", run_date)
                skipped.append(run_date)
                continue
            path = night_file(event.asset.uri, run_date)
            segments = pd.read_parquet(path, columns=["segment_name"])["segment_name"]
            counted[run_date] = {str(k): int(n) for k, n in segments.value_counts().items()}
            log.info("%s: %s", run_date, counted[run_date])
        return {"counted": counted, "skipped": skipped}

    count_segments()


downstream_segment_sizes()
