"""The pipeline for fixed dates in a temporary folder, through the same steps the DAG calls."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from segmentation import pipeline
from segmentation.config import load_config
from segmentation.io import lake, parquet
from segmentation.layout import EVENT_KEY, Home
from segmentation.segments import naming, personas
from tests.conftest import LAST, NEW_CUSTOMER, START, snapshot, write_config

pytestmark = pytest.mark.integration

CONTRACT = {
    "customer_segments": {
        "run_date",
        "customer_id",
        "segment_id",
        "segment_name",
        "model_version",
        "recency_days",
        "frequency",
        "monetary",
        "rfm_segment",
        "is_control",
    },
    "segment_profiles": {
        "run_date",
        "segment_id",
        "segment_name",
        "description",
        "customers",
        "share",
    },
    "segment_migrations": {"run_date", "from_segment_id", "to_segment_id", "customers"},
    "drift_metrics": {"run_date", "scope", "name", "metric", "value", "threshold", "drifted"},
    "model_registry": {
        "model_version",
        "trained_run_date",
        "algorithm",
        "n_segments",
        "silhouette",
        "davies_bouldin",
        "calinski_harabasz",
        "status",
        "reason",
        "stability",
        "candidates",
    },
    "segment_rules": {"run_date", "segment_id", "rule", "customers", "coverage", "precision"},
    "segment_lineage": {
        "run_date",
        "model_version",
        "segment_id",
        "previous_segment_id",
        "change",
    },
}
DAY1 = LAST - dt.timedelta(days=1)  # published in ``published_home``
DAY2 = LAST  # and then in ``two_nights_home``


def read(folder: Path, table: str, day: dt.date) -> pd.DataFrame:
    frame = parquet.read_published(Home(folder / "home"), table, day)
    assert frame is not None, f"{table} for {day} not published"
    return frame


def test_every_table_of_the_contract_is_published_for_both_nights(two_nights_home: Path) -> None:
    for day in (DAY1, DAY2):
        for table, columns in CONTRACT.items():
            frame = read(two_nights_home, table, day)
            # a partition's run_date is its folder name, not a column of its file
            assert "run_date" not in frame.columns
            assert columns - {"run_date"} <= set(frame.columns), (table, columns - set(frame))
            assert len(frame) > 0
    for table, columns in CONTRACT.items():
        home = Home(two_nights_home / "home")
        assert parquet.current_run_date(home, table) == DAY2
        current = pd.read_parquet(home.current_table(table))
        assert columns <= set(current.columns)
        assert (current["run_date"] == DAY2).all()


def test_every_customer_seen_gets_exactly_one_segment(two_nights_home: Path) -> None:
    lake_files = lake.partition_files(Home(two_nights_home / "home").lake, EVENT_KEY, DAY2)
    seen = set(
        pd.concat(pd.read_parquet(p, columns=["customer_id"]) for p in lake_files)["customer_id"]
    )
    segments = read(two_nights_home, "customer_segments", DAY2)
    assert segments["customer_id"].is_unique
    assert set(segments["customer_id"]) == seen
    profiles = read(two_nights_home, "segment_profiles", DAY2)
    assert profiles["segment_name"].is_unique
    assert profiles["customers"].sum() == len(segments)
    assert profiles["share"].sum() == pytest.approx(1.0)
    assert set(segments["segment_id"]) == set(profiles["segment_id"])


def test_migrations_link_the_two_nights(two_nights_home: Path) -> None:
    first = read(two_nights_home, "customer_segments", DAY1).set_index("customer_id")["segment_id"]
    second = read(two_nights_home, "customer_segments", DAY2).set_index("customer_id")["segment_id"]
    moves = read(two_nights_home, "segment_migrations", DAY2)
    assert moves["customers"].sum() == len(second)
    new_customers = set(second.index) - set(first.index)
    assert NEW_CUSTOMER in new_customers
    arrived = int(moves.loc[moves["from_segment_id"].isna(), "customers"].sum())
    assert arrived == len(new_customers)
    stayed = int(moves.loc[moves["from_segment_id"] == moves["to_segment_id"], "customers"].sum())
    both = first.index.intersection(second.index)
    assert stayed == int((first[both] == second[both]).sum())
    registry = read(two_nights_home, "model_registry", DAY2)
    assert registry["status"].tolist().count("champion") == 1
    assert len(registry) == 2
    # the second night's challenger was judged against the first night's champion
    second_night = registry.set_index("model_version").loc[f"m{DAY2:%Y%m%d}"]
    assert second_night["compared_with"] == f"m{DAY1:%Y%m%d}"
    assert second_night["reason"]
    # the customers' segments come from whichever model is champion that night
    champion = registry.loc[registry["status"] == "champion", "model_version"].item()
    assert set(read(two_nights_home, "customer_segments", DAY2)["model_version"]) == {champion}
    drift = read(two_nights_home, "drift_metrics", DAY2)
    assert {"feature", "segment"} <= set(drift["scope"])
    assert drift.loc[drift["scope"] == "feature", "value"].notna().all()


def test_rerunning_a_date_reproduces_it_and_leaves_current_alone(
    two_nights_home: Path, tmp_path: Path
) -> None:
    import shutil

    shutil.copytree(two_nights_home, tmp_path, dirs_exist_ok=True)
    cfg = load_config(tmp_path / "config.yaml")
    before = snapshot(tmp_path / "home")
    models = {p: p.read_bytes() for p in Home(tmp_path / "home").models.rglob("meta.json")}
    pipeline.run(cfg, DAY1)  # a backfill of the older night
    after = snapshot(tmp_path / "home")
    # the lineage stays coherent: the older night's model is rebuilt byte for byte (it only
    # sees models before it), and the newer night's model, judged against it, is untouched
    assert {p: p.read_bytes() for p in models} == models
    assert after.keys() == before.keys()
    for table in ("customer_segments", "segment_profiles", "segment_migrations", "segment_rules"):
        key = f"{table}/run_date={DAY1}/part-0.parquet"
        # same data, config and run date: byte-identical tables
        assert after[key] == before[key], f"{table} changed on a rerun"
        pd.testing.assert_frame_equal(
            pd.read_parquet(Home(tmp_path / "home").output / key),
            pd.read_parquet(Home(two_nights_home / "home").output / key),
        )
        current = f"current/{table}.parquet"
        assert after[current] == before[current], "a backfill moved current backwards"


def test_point_in_time_features_never_see_later_days(two_nights_home: Path) -> None:
    features_day1 = pd.read_parquet(Home(two_nights_home / "home").features_file(DAY1))
    day2_events = pd.read_parquet(Home(two_nights_home / "home").lake_file(DAY2))
    earlier = pd.concat(
        pd.read_parquet(p, columns=["customer_id"])
        for p in lake.partition_files(Home(two_nights_home / "home").lake, EVENT_KEY, DAY1)
    )
    only_later = set(day2_events["customer_id"]) - set(earlier["customer_id"])
    assert NEW_CUSTOMER in only_later
    assert not only_later & set(features_day1["customer_id"])
    assert (features_day1["days_since_last_event"] >= 0).all()


def test_ingest_is_idempotent(make_config: object) -> None:
    cfg = make_config()  # type: ignore[operator]
    first = START + dt.timedelta(days=3)
    pipeline.ingest(cfg, START, first)
    root = Home(cfg.home).lake
    once = {
        d: lake.read_partition(root, "event_date", d)
        for d in lake.partition_days(root, "event_date")
    }
    pipeline.ingest(cfg, START, first)
    assert lake.partition_days(root, "event_date") == list(once)
    for day, frame in once.items():
        pd.testing.assert_frame_equal(lake.read_partition(root, "event_date", day), frame)
    assert not list(root.rglob(".tmp-*")), "temporary files left behind"


def test_rolled_forward_state_equals_a_rebuild_and_stale_state_is_not_used(
    two_nights_home: Path, tmp_path: Path
) -> None:
    import shutil

    shutil.copytree(two_nights_home, tmp_path, dirs_exist_ok=True)
    cfg = load_config(tmp_path / "config.yaml")
    rolled = pipeline.build_features(cfg, DAY2)  # DAY1's state exists: rolled forward
    assert rolled["state"] == "rolled forward"
    features_rolled = pd.read_parquet(Home(cfg.home).features_file(DAY2))

    shutil.rmtree(Home(cfg.home).state_file(DAY1).parent)
    rebuilt = pipeline.build_features(cfg, DAY2)
    assert rebuilt["state"] == "rebuilt from history"
    pd.testing.assert_frame_equal(
        pd.read_parquet(Home(cfg.home).features_file(DAY2)), features_rolled
    )

    pipeline.build_features(cfg, DAY1)  # a fresh state for DAY1 ...
    pipeline.ingest(cfg, START, START)  # ... made stale by re-ingesting an old day
    assert pipeline.build_features(cfg, DAY2)["state"] == "rebuilt from history"


def test_names_descriptions_and_rules_in_chinese(published: Path, landing: Path) -> None:
    cfg = load_config(write_config(published, landing, personas={"language": "zh"}))
    day = LAST - dt.timedelta(days=1)
    pipeline.assign_segments(cfg, day)
    pipeline.predict_customers(cfg, day)
    pipeline.recommend_items(cfg, day)
    pipeline.publish_tables(cfg, day)
    profiles = pd.read_parquet(Home(cfg.home).current_table("segment_profiles"))
    chinese = {*personas.LABELS["zh"].values(), *naming.DESCRIPTIVE_LABELS["zh"].values()}
    qualifiers = set(naming.QUALIFIER_LABELS["zh"].values())
    for name in profiles["segment_name"]:  # a name, maybe qualified: 沉睡客户（老客户）
        base, _, qualifier = name.removesuffix("）").partition("（")
        assert (base in chinese and qualifier in {"", *qualifiers}) or name.startswith("分群")
    # each description starts with its segment's name, in Chinese punctuation
    for name, text in zip(profiles["segment_name"], profiles["description"], strict=True):
        assert text.startswith(f"{name}：")
    assert profiles["rules"].str.contains("精确率").all()
    segments = pd.read_parquet(Home(cfg.home).current_table("customer_segments"))
    assert set(segments["segment_name"]) == set(profiles["segment_name"])


def test_the_drift_policy_forces_a_promotion(published: Path, landing: Path) -> None:
    day = LAST - dt.timedelta(days=1)
    # an alert threshold no real data stays under: any drift forces the retrain
    cfg = load_config(write_config(published, landing, drift={"psi_alert": 1e-9}))
    earlier = day - dt.timedelta(days=5)
    # the models of ``published`` moved aside: an older night cannot start a second lineage
    models = Home(cfg.home).models
    models.rename(models.with_name("models.aside"))
    pipeline.build_features(cfg, earlier)
    pipeline.train_model(cfg, earlier)  # the champion the night is judged against
    result = pipeline.train_model(cfg, day)
    assert result["champion"] == f"m{day:%Y%m%d}"
    assert result["reason"].startswith("drift alert forces a retrain")


def test_membership_history_follows_the_nights_and_survives_a_rerun(
    two_nights_home: Path, tmp_path: Path
) -> None:
    import shutil

    shutil.copytree(two_nights_home, tmp_path, dirs_exist_ok=True)
    cfg = load_config(tmp_path / "config.yaml")
    path = Home(cfg.home).current_table("segment_history")
    history = pd.read_parquet(path)
    first = read(two_nights_home, "customer_segments", DAY1).set_index("customer_id")["segment_id"]
    second = read(two_nights_home, "customer_segments", DAY2).set_index("customer_id")["segment_id"]
    current = history[history["valid_to"].isna()].set_index("customer_id")["segment_id"]
    assert current.sort_index().equals(second.sort_index())
    both = first.index.intersection(second.index)
    changed = set(both[first[both] != second[both]])
    closed = history[history["valid_to"].notna()]
    assert set(closed["customer_id"]) == changed
    assert (pd.to_datetime(closed["valid_to"]).dt.date == DAY1).all()
    assert parquet.current_run_date(Home(cfg.home), "segment_history") == DAY2

    before = path.read_bytes()
    pipeline.run(cfg, DAY1)  # a rerun of the older night refolds the newer one
    assert path.read_bytes() == before
