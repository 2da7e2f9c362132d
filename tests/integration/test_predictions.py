"""Predictions in real nights: published tables, champion and challenger, reruns, no leakage."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from segmentation import pipeline
from segmentation.config import Config, load_config
from segmentation.errors import SegmentationError
from segmentation.features.build import build_features
from segmentation.io import lake
from segmentation.io.sources import LAKE_SCHEMA
from segmentation.layout import EVENT_KEY, RUN_KEY, Home
from segmentation.pipeline.predict import features_as_of
from tests.conftest import PREDICTED_NIGHTS

pytestmark = pytest.mark.integration

NIGHT1, NIGHT2 = PREDICTED_NIGHTS
CUTOFF1 = NIGHT1 - dt.timedelta(days=90)


@pytest.fixture(scope="module")
def nights(predicted_nights: Config) -> Config:
    return predicted_nights


def published(cfg: Config, table: str, day: dt.date) -> pd.DataFrame:
    return lake.read_partition(Home(cfg.home).table_root(table), RUN_KEY, day)


def quality(cfg: Config, day: dt.date) -> pd.DataFrame:
    return published(cfg, "prediction_quality", day).set_index(["model", "metric"])


def test_every_customer_gets_predictions_beside_their_segment(nights: Config) -> None:
    segments = published(nights, "customer_segments", NIGHT2)
    predictions = published(nights, "customer_predictions", NIGHT2)
    assert predictions["customer_id"].tolist() == segments["customer_id"].tolist()
    features = lake.read_partition(Home(nights.home).features, RUN_KEY, NIGHT2)
    buyers = (features["purchase_days"] > 0).to_numpy()
    bought_in_window = (features["frequency"] > 0).to_numpy()
    # the buy-till-you-die columns are for buyers, the churn score for who bought in the window
    assert predictions.loc[buyers, "p_alive"].between(0, 1).all()
    assert predictions.loc[~buyers, "p_alive"].isna().all()
    assert predictions.loc[bought_in_window, "churn_probability"].notna().all()
    assert predictions.loc[~bought_in_window, "churn_risk"].isna().all()
    for h in (30, 90, 365):
        assert (predictions.loc[buyers, f"expected_purchases_{h}d"] >= 0).all()
        assert (predictions.loc[buyers, f"predicted_clv_{h}d"] >= 0).all()
    # longer horizons: more purchases expected, less chance of none
    bought = predictions[buyers]
    assert (bought["expected_purchases_365d"] >= bought["expected_purchases_30d"]).all()
    assert (bought["p_no_purchase_365d"] <= bought["p_no_purchase_30d"]).all()
    scored = predictions.dropna(subset=["churn_decile"])
    scored = scored.sort_values(["churn_probability", "churn_decile"])  # ties may split
    sizes = scored["churn_decile"].value_counts()
    assert sorted(sizes.index) == list(range(1, 11))  # ten equal groups
    assert sizes.max() - sizes.min() <= 1
    assert scored["churn_decile"].is_monotonic_increasing  # a higher score, a decile as high
    high = predictions["churn_risk"] == "high"
    assert (predictions.loc[high.fillna(False), "churn_probability"] >= 0.66).all()


def test_the_second_night_challenges_the_first_nights_classifier(nights: Config) -> None:
    first, second = quality(nights, NIGHT1), quality(nights, NIGHT2)
    assert first.loc[("churn", "roc_auc"), "status"] == "champion"
    assert first.loc[("churn", "roc_auc"), "reason"] == "first churn classifier"
    challenged = second.loc[("churn", "champion_roc_auc")]
    assert challenged["model_version"] == f"c{NIGHT1:%Y%m%d}"
    assert 0.5 < challenged["value"] <= 1
    decided = second.loc[("churn", "roc_auc")]
    assert decided["status"] in ("champion", "rejected")
    scorer = f"c{NIGHT2:%Y%m%d}" if decided["status"] == "champion" else f"c{NIGHT1:%Y%m%d}"
    predictions = published(nights, "customer_predictions", NIGHT2)
    assert set(predictions["model_version"].dropna()) == {scorer}
    # the fits are published as metrics, and BG/NBD's holdout per past repeat purchases
    for model, metric in [("bgnbd", "r"), ("bgnbd", "alpha"), ("gamma_gamma", "q")]:
        assert second.loc[(model, metric), "value"] > 0
    assert second.loc[("bgnbd", "holdout_repeat_0_customers"), "value"] > 0
    # segment profiles carry the segments' prediction means
    profiles = published(nights, "segment_profiles", NIGHT2)
    assert profiles["mean_p_alive"].between(0, 1).all()
    assert profiles["high_churn_risk_share"].between(0, 1).all()


def test_a_rerun_of_an_old_night_reproduces_its_predictions(nights: Config) -> None:
    home = Home(nights.home)
    tables = ("customer_predictions", "prediction_quality", "segment_profiles")
    before = {t: home.partition(t, NIGHT1).read_bytes() for t in tables}
    pipeline.run(nights, NIGHT1)  # after NIGHT2: its champion is still NIGHT1's own
    assert {t: home.partition(t, NIGHT1).read_bytes() for t in tables} == before


def test_training_features_use_no_row_ingested_after_the_cutoff(
    nights: Config, tmp_path: Path
) -> None:
    """A purchase of a day before the cutoff that reached the lake after it (a late row in a
    later night's partition) is not in the cutoff's training features."""
    shutil.copytree(Path(nights.home), tmp_path / "home")
    cfg = dataclasses.replace(nights, home=tmp_path / "home")
    home = Home(cfg.home)
    known = lake.partition_files(home.lake, EVENT_KEY, upto=CUTOFF1)
    expected = build_features(known, CUTOFF1, cfg)
    # a late purchase dated 10 days before the cutoff, taken in the night after it
    later = CUTOFF1 + dt.timedelta(days=1)
    part = lake.read_partition(home.lake, EVENT_KEY, later)
    late = part.iloc[[0]].assign(
        event_type="purchase",
        amount=500.0,
        event_time=pd.Timestamp(CUTOFF1 - dt.timedelta(days=10), tz="UTC"),
        event_id="LATE-1",
    )
    rows = pd.concat([part, late], ignore_index=True)
    lake.write_partition(rows, home.lake, EVENT_KEY, later, schema=LAKE_SCHEMA)
    home.features_file(CUTOFF1).unlink(missing_ok=True)  # no night file: rebuilt from the lake
    got = features_as_of(cfg, home, CUTOFF1)
    pd.testing.assert_frame_equal(got, expected)
    # and through the step: NIGHT1's classifier, trained again beside the late row, has the
    # same held-out figures as the one trained before it existed
    pipeline.assign_segments(cfg, NIGHT1)
    pipeline.predict_customers(cfg, NIGHT1)
    again = pd.read_parquet(home.staged_table("prediction_quality", NIGHT1)).drop(
        columns="run_date"
    )
    before = published(nights, "prediction_quality", NIGHT1)
    churn_rows = [again[again["model"] == "churn"], before[before["model"] == "churn"]]
    pd.testing.assert_frame_equal(*(r.reset_index(drop=True) for r in churn_rows))
    everything = build_features(lake.partition_files(home.lake, EVENT_KEY, NIGHT2), CUTOFF1, cfg)
    customer = late["customer_id"].iloc[0]
    assert (
        everything.set_index("customer_id").loc[customer, "lifetime_spend"]
        == expected.set_index("customer_id").loc[customer, "lifetime_spend"] + 500.0
    )  # the late row would have changed them


def test_too_little_history_skips_the_classifier_and_says_why(published_home: Path) -> None:
    cfg = load_config(published_home / "config.yaml")
    day = max(lake.partition_days(Home(cfg.home).table_root("prediction_quality"), RUN_KEY))
    rows = quality(cfg, day)
    skipped = rows.loc[("churn", "skipped")]
    assert skipped["status"] == "skipped"
    assert "fewer than 3 x predictions.churn_days (270)" in skipped["reason"]
    predictions = published(cfg, "customer_predictions", day)
    assert predictions["churn_probability"].isna().all()
    assert predictions["model_version"].isna().all()


def test_profiles_staged_again_after_the_predictions_are_not_published(
    nights: Config, tmp_path: Path
) -> None:
    """assign_segments run again after predict_customers empties the profiles' prediction
    columns: publishing refuses, naming the step to run, and publishes nothing."""
    shutil.copytree(Path(nights.home), tmp_path / "home")
    cfg = dataclasses.replace(nights, home=tmp_path / "home")
    home = Home(cfg.home)
    before = home.partition("segment_profiles", NIGHT2).read_bytes()
    pipeline.assign_segments(cfg, NIGHT2)
    pipeline.predict_customers(cfg, NIGHT2)
    pipeline.assign_segments(cfg, NIGHT2)
    with pytest.raises(SegmentationError, match="run predict_customers again"):
        pipeline.publish_tables(cfg, NIGHT2)
    assert home.partition("segment_profiles", NIGHT2).read_bytes() == before
    pipeline.predict_customers(cfg, NIGHT2)
    pipeline.recommend_items(cfg, NIGHT2)
    pipeline.publish_tables(cfg, NIGHT2)
    assert home.partition("segment_profiles", NIGHT2).read_bytes() == before
