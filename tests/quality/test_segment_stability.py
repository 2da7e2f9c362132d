"""Segment ids keep their meaning night after night, and a new kind of customer gets a new id."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from segmentation import pipeline, synthetic
from segmentation.config import Config
from segmentation.io import lake
from segmentation.layout import Home
from segmentation.model import registry
from segmentation.pipeline import store
from segmentation.predictions.tables import PROFILE_COLUMNS
from tests.conftest import generated_home

pytestmark = [pytest.mark.quality, pytest.mark.slow]  # 38 nights, for both tests

START = dt.date(2024, 1, 1)


# A year of history, then the nightly runs. The generator's personas start and stop before
# FIRST (its anchor), so the 30 quiet nights from FIRST on are steady; then newcomers of a
# kind never seen before arrive.
FIRST = START + dt.timedelta(days=365)
STEADY = 30
EMERGING = FIRST + dt.timedelta(days=STEADY)
LAST = EMERGING + dt.timedelta(days=7)


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, synthetic.GeneratedData]:
    """A year of history, then a nightly run per day: 30 quiet nights, then newcomers."""
    folder = tmp_path_factory.mktemp("nightly")
    data = synthetic.generate(
        customers=1500,
        start=START,
        days=(LAST - START).days + 1,
        seed=11,
        emerging_from=EMERGING,
        anchor=FIRST,
    )
    # the year of history goes straight into the lake (this is no test of ingest); each
    # night extracts and validates its day from the landing folder as a real night does
    cfg = generated_home(folder, data, FIRST, model={"k_min": 4, "k_max": 10})
    for i in range((LAST - FIRST).days + 1):
        pipeline.run(cfg, FIRST + dt.timedelta(days=i))
    return cfg, data


def segments(cfg: Config, day: dt.date) -> pd.DataFrame:
    root = Home(cfg.home).table_root("customer_segments")
    return lake.read_partition(root, "run_date", day).set_index("customer_id")


def test_ids_stay_put_for_customers_whose_features_barely_change(
    nights: tuple[Config, synthetic.GeneratedData],
) -> None:
    cfg, _ = nights
    kept_shares = []
    for i in range(STEADY):
        day = FIRST + dt.timedelta(days=i)
        if i == 0:
            continue
        before, now = segments(cfg, day - dt.timedelta(days=1)), segments(cfg, day)
        # "barely changed": moved less than a quarter of a standard unit in the model's space
        champion = registry.champion_as_of(Home(cfg.home).models, day)
        assert champion is not None
        model, _ = registry.load_model(Home(cfg.home).models, champion.model_version)
        features = {
            d: store.features_of(Home(cfg.home), d).set_index("customer_id")
            for d in (day - dt.timedelta(days=1), day)
        }
        common = features[day].index.intersection(features[day - dt.timedelta(days=1)].index)
        moved = np.linalg.norm(
            model.transform(features[day].loc[common].reset_index())
            - model.transform(features[day - dt.timedelta(days=1)].loc[common].reset_index()),
            axis=1,
        )
        steady = common[moved < 0.25]
        same = (before.loc[steady, "segment_id"] == now.loc[steady, "segment_id"]).mean()
        kept_shares.append(same)
    registry_now = pd.read_parquet(Home(cfg.home).current_table("model_registry"))
    assert min(kept_shares) >= 0.99, (
        f"share keeping their id per night: {np.round(kept_shares, 4).tolist()}\n"
        f"{registry_now[['model_version', 'n_segments', 'status', 'reason']].to_string()}"
    )
    # every night's challenger and its fate are on record
    assert len(registry_now) == (LAST - FIRST).days + 1
    assert set(registry_now["status"]) <= {"champion", "retired", "rejected"}
    assert (registry_now["status"] == "champion").sum() == 1
    # the nights retrained and promoted challengers: ids survived real model changes
    quiet = registry_now[pd.to_datetime(registry_now["trained_run_date"]).dt.date < EMERGING]
    assert quiet["status"].isin(["champion", "retired"]).sum() >= STEADY // 2, quiet

    # explanations: the rules that describe each segment are mostly right
    rules = pd.read_parquet(Home(cfg.home).current_table("segment_rules"))
    top = rules[rules["rank"] == 1]
    weighted = float((top["precision"] * top["customers"]).sum() / top["customers"].sum())
    assert weighted >= 0.85, rules.to_string()


def test_a_new_kind_of_customer_gets_a_new_id_and_old_ids_keep_their_meaning(
    nights: tuple[Config, synthetic.GeneratedData],
) -> None:
    cfg, data = nights
    before = EMERGING - dt.timedelta(days=1)
    old_ids = set(segments(cfg, before)["segment_id"])
    last = segments(cfg, LAST)
    newcomers = data.ground_truth.loc[
        data.ground_truth["persona"] == synthetic.EMERGING.name, "customer_id"
    ]
    new_ids = set(last["segment_id"]) - old_ids
    assert new_ids, "no new segment appeared for the newcomers"
    in_new = last["segment_id"].isin(new_ids)
    # the new segment is the newcomers, and most newcomers are in it
    assert last.index[in_new].isin(newcomers).mean() >= 0.8
    assert in_new[last.index.isin(newcomers)].mean() >= 0.8
    lineage = pd.read_parquet(Home(cfg.home).current_table("segment_lineage"))
    assert set(lineage.loc[lineage["change"] == "new", "segment_id"]) >= new_ids

    # the ids that existed before keep their meaning: their profiles stay close
    profiles = Home(cfg.home).table_root("segment_profiles")
    then = lake.read_partition(profiles, "run_date", before).set_index("segment_id")
    now = lake.read_partition(profiles, "run_date", LAST).set_index("segment_id")
    kept = sorted(old_ids & set(now.index))
    assert len(kept) >= len(old_ids) - 1
    features = store.features_of(Home(cfg.home), before)
    means = [c for c in then.columns if c.startswith("mean_") and c not in PROFILE_COLUMNS]
    for column in means:  # the model features' means (not the predictions')
        values = features[column.removeprefix("mean_")].astype("float64")
        shift = np.abs(then.loc[kept, column] - now.loc[kept, column]) / values.std()
        assert (shift < 0.5).all(), f"{column}: {shift.round(2).to_dict()}"
