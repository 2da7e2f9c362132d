"""
### Segment sizes of each new night (an example of a DAG downstream of the segmentation)

Runs when the nightly `customer_segmentation` DAG publishes `customer_segments`: it is
scheduled on that Asset, and counts the customers per segment of each night published since
its last run. That is the place to put what your team does with a new night (sync audiences,
refresh a dashboard, ...).

What it reads comes with the asset events that triggered it (`triggering_asset_events`):
each event's `extra` is `{"run_date": "2025-06-30", "current_moved": true, "rows": 2000}`.
A rerun or backfill of an older night republishes that night's partition too, but its event
says `current_moved: false` (the newest night is still the current one): this DAG logs and
skips it. Its result (an XCom) says which nights it counted and which it skipped.

**Naming the asset.** Airflow knows an asset by its name *and* URI, and the URI is the
`file://` URI of the table under the pipeline's home (`file:///data/output/customer_segments`).
This DAG builds the same Asset from the same config (`SEGMENTATION_CONFIG`, of which only
`home` is read), so it never spells the home. `Asset.ref(name="customer_segments")` would
trigger it too, but Airflow 3.3 hands a DAG scheduled on a reference no triggering events.

**Install**: copy this file into the dags folder of the Airflow that runs
`customer_segmentation` (next to `customer_segmentation.py`) and unpause it. It needs what
that DAG needs: the `segmentation` package, `SEGMENTATION_CONFIG` and the home's files.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Asset, dag, task

# cheap while parsing: the table catalog and the config's home (standard library and PyYAML)
from segmentation.config import configured_home
from segmentation.layout import Home

HOME = Home(configured_home())
# the Asset that customer_segmentation's publish_tables updates: its name and its URI
CUSTOMER_SEGMENTS = Asset(
    name="customer_segments", uri=HOME.table_location("customer_segments").as_uri()
)

log = logging.getLogger(__name__)


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
            path = HOME.partition("customer_segments", dt.date.fromisoformat(run_date))
            segments = pd.read_parquet(path, columns=["segment_name"])["segment_name"]
            counted[run_date] = {str(k): int(n) for k, n in segments.value_counts().items()}
            log.info("%s: %s", run_date, counted[run_date])
        return {"counted": counted, "skipped": skipped}

    count_segments()


downstream_segment_sizes()
