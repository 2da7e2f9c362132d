"""Every path under home, from one place; the table catalog; the Parquet sink's current."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from segmentation import layout
from segmentation.io.parquet import ParquetSink, current_run_date, read_published, stage_table
from segmentation.layout import Home

pytestmark = pytest.mark.unit

D1, D2 = dt.date(2024, 2, 8), dt.date(2024, 2, 9)


def test_home_spells_the_documented_layout() -> None:
    home = Home(Path("/h"))
    assert {
        "lake": home.lake_file(D1),
        "staged": home.staged_events(D1),
        "quarantine": home.quarantined(D1),
        "validation": home.validation_record(D1),
        "state": home.state_file(D1),
        "features": home.features_file(D1),
        "work": home.staged_table("customer_segments", D1),
        "partition": home.partition("customer_segments", D1),
        "current": home.current_table("segment_history"),
        "table": home.table_location("customer_segments"),  # what its Asset's URI names
        "whole table": home.table_location("segment_history"),
        "report": home.report(D1),
        "current report": home.current_report,
        "audience export": home.audience_export("win_back", D1),
        "run lock": home.run_lock(D1),
    } == {
        "lake": Path("/h/lake/events/event_date=2024-02-08/part-0.parquet"),
        "staged": Path("/h/staging/events/event_date=2024-02-08"),
        "quarantine": Path("/h/quarantine/events/event_date=2024-02-08"),
        "validation": Path("/h/validation/events/run_date=2024-02-08.json"),
        "state": Path("/h/state/run_date=2024-02-08/part-0.parquet"),
        "features": Path("/h/features/run_date=2024-02-08/part-0.parquet"),
        "work": Path("/h/work/run_date=2024-02-08/customer_segments.parquet"),
        "partition": Path("/h/output/customer_segments/run_date=2024-02-08/part-0.parquet"),
        "current": Path("/h/output/current/segment_history.parquet"),
        "table": Path("/h/output/customer_segments"),
        "whole table": Path("/h/output/current/segment_history.parquet"),
        "report": Path("/h/output/reports/run_date=2024-02-08/report.html"),
        "current report": Path("/h/output/current/report.html"),
        "audience export": Path("/h/output/audiences/win_back/run_date=2024-02-08"),
        "run lock": Path("/h/locks/run_date=2024-02-08.lock"),
    }


def test_the_catalog_names_each_table_once_with_its_step() -> None:
    assert len(set(layout.TABLE_NAMES)) == len(layout.TABLES) == 16
    assert [t.name for t in layout.tables_of("compute_drift")] == ["drift_metrics"]
    assert [t.name for t in layout.tables_of("export_audiences")] == [
        "audience_members",
        "audience_changes",
    ]
    assert [t.name for t in layout.tables_of("measure_campaigns")] == ["campaign_results"]
    assert [t.name for t in layout.TABLES if not t.per_run] == ["segment_history"]
    assert [t.name for t in layout.staged_tables("assign_segments")] == [
        "customer_segments",
        "segment_profiles",
        "segment_migrations",
        "segment_rules",
    ]
    assert [t.name for t in layout.staged_tables("predict_customers")] == [
        "customer_predictions",
        "prediction_quality",
    ]
    assert [t.name for t in layout.staged_tables("recommend_items")] == [
        "association_rules",
        "customer_recommendations",
        "recommendation_quality",
    ]
    with pytest.raises(ValueError, match="unknown output table 'segments'"):
        layout.table("segments")


def test_a_backfill_writes_its_partition_but_never_moves_current_back(tmp_path: Path) -> None:
    home = Home(tmp_path)
    sink = ParquetSink(home)

    def publish(day: dt.date, segments: list[int]) -> dict[str, bool]:
        frame = pd.DataFrame(
            {"from_segment_id": [None] * len(segments), "to_segment_id": segments, "customers": 1}
        )
        staged = stage_table(frame, "segment_migrations", day, tmp_path / f"{day}.parquet")
        return sink.write(day, {"segment_migrations": staged})

    assert publish(D2, [1, 2]) == {"segment_migrations": True}
    assert publish(D1, [1]) == {"segment_migrations": False}  # an older date
    assert current_run_date(home, "segment_migrations") == D2
    current = pq.read_table(home.current_table("segment_migrations"))
    # a frame not suppressed yet is staged with suppressed false (pipeline.suppress sets it)
    assert current.column_names == [
        "run_date",
        "from_segment_id",
        "to_segment_id",
        "customers",
        "suppressed",
        "suppression_reason",
    ]
    assert current["suppressed"].to_pylist() == [False, False]
    assert current["run_date"].to_pylist() == [D2, D2]
    # the partition's key is its folder name only, so that readers can merge partitions
    backfilled = read_published(home, "segment_migrations", D1)
    assert backfilled is not None
    assert list(backfilled.columns) == [
        "from_segment_id",
        "to_segment_id",
        "customers",
        "suppressed",
        "suppression_reason",
    ]
    assert backfilled["to_segment_id"].tolist() == [1]
    assert publish(D2, [3]) == {"segment_migrations": True}  # a rerun of the newest
    current = pq.read_table(home.current_table("segment_migrations"))
    assert current["to_segment_id"].to_pylist() == [3]


def test_staged_files_have_the_declared_types_whatever_the_values(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"from_segment_id": [None], "to_segment_id": [np.int8(4)], "customers": [2.0]}
    )
    stage_table(frame, "segment_migrations", D1, tmp_path / "m.parquet")
    schema = pq.read_schema(tmp_path / "m.parquet")
    assert [str(f.type) for f in schema] == [
        "date32[day]",
        "int64",
        "int64",
        "int64",
        "bool",
        "large_string",
    ]
    with pytest.raises(ValueError, match="'extra' that the catalog does not declare"):
        stage_table(frame.assign(extra=1), "segment_migrations", D1, tmp_path / "x.parquet")
    with pytest.raises(ValueError, match=r"lacks the declared columns \['customers'\]"):
        stage_table(frame.drop(columns="customers"), "segment_migrations", D1, tmp_path / "y")
