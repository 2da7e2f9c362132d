"""recommend_items on generated data with planted tastes and bundles: the planted pairs are
found in the right segments, ALS beats the baselines, nothing bought is offered, the fit
sees nothing after its cutoff, and a rerun gives the same bytes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from segmentation import pipeline, synthetic
from segmentation.config import Config
from segmentation.layout import Home
from tests.conftest import generated_home

pytestmark = pytest.mark.integration

START, DAYS = dt.date(2024, 1, 1), 200
NIGHTS = (START + dt.timedelta(days=DAYS - 2), START + dt.timedelta(days=DAYS - 1))
CUTOFF = NIGHTS[0] - dt.timedelta(days=14)  # recommendations.holdout_days before
WINDOW = DAYS  # recommendations.window_days: the whole history, for baskets enough to find
FIRST = NIGHTS[1] - dt.timedelta(days=WINDOW - 1)  # the second night's window's first day
TABLES = ("association_rules", "customer_recommendations", "recommendation_quality")


@pytest.fixture(scope="module")
def planted() -> synthetic.GeneratedData:
    return synthetic.generate(
        customers=3000, start=START, days=DAYS, seed=5, products=400, bundle_rate=0.6
    )


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory, planted: synthetic.GeneratedData) -> Config:
    """The night of the retrain's cutoff (``CUTOFF``: its segments are the baseline's), the
    days to the first night ingested, then two nights: the first retrains the collaborative
    model (the one of ``CUTOFF`` is 14 days old), the second scores with it. A window of the
    whole history and up to 100 rules a segment, so that every planted pair can be looked for."""
    cfg = generated_home(
        tmp_path_factory.mktemp("recommendations"),
        planted,
        CUTOFF,
        recommendations={"window_days": WINDOW, "rules": {"max_rules_per_segment": 100}},
        predictions={"enabled": False},
    )
    pipeline.run(cfg, CUTOFF)
    pipeline.ingest(cfg, CUTOFF + dt.timedelta(days=1), NIGHTS[0] - dt.timedelta(days=1))
    for night in NIGHTS:
        pipeline.run(cfg, night)
    return cfg


def published(cfg: Config, table: str, day: dt.date) -> pd.DataFrame:
    return pd.read_parquet(Home(cfg.home).partition(table, day))


def test_every_planted_pair_with_enough_baskets_is_found_in_its_segment(
    nights: Config, planted: synthetic.GeneratedData
) -> None:
    rules = published(nights, "association_rules", NIGHTS[1])
    assert (rules["baskets"] >= 20).all()  # min_count
    assert (rules["lift"] >= 1.5).all()
    pairs = {
        (tuple(a), tuple(c)): (s, lift)
        for s, a, c, lift in rules[["segment_id", "antecedent", "consequent", "lift"]].itertuples(
            index=False
        )
    }
    segments = published(nights, "customer_segments", NIGHTS[1])
    truth = planted.ground_truth.merge(segments, on="customer_id")
    # a persona's segment: the one most of its customers are in
    home_of = truth.groupby("persona")["segment_id"].agg(lambda s: s.value_counts().idxmax())
    checked = 0
    for bundle in planted.bundles.itertuples(index=False):
        lead, partner = bundle.items[0], bundle.items[1]
        together = _baskets_with(nights, lead, partner)
        # enough: min_count (20), with a margin for the few in another segment
        if together < 25:
            continue
        found = [v for k, v in pairs.items() if k == ((lead,), (partner,))]
        segment = home_of[bundle.persona]
        assert any(s == segment and lift >= 2 for s, lift in found), (bundle, found, segment)
        checked += 1
    assert checked >= 5  # the test looked at enough bundles to mean something


def _baskets_with(cfg: Config, a: str, b: str) -> int:
    lake = Home(cfg.home).lake / "*" / "*.parquet"
    return duckdb.sql(
        f"""SELECT count(*) FROM (
            SELECT customer_id, CAST(event_time AS DATE) FROM read_parquet('{lake}')
            WHERE event_type = 'purchase' AND CAST(event_time AS DATE) >= DATE '{FIRST}'
            GROUP BY ALL
            HAVING bool_or(product_id = '{a}') AND bool_or(product_id = '{b}'))"""
    ).fetchall()[0][0]


def test_als_beats_segment_popularity_by_a_fifth_and_popularity_by_more(nights: Config) -> None:
    quality = published(nights, "recommendation_quality", NIGHTS[1])
    ndcg = quality[quality["metric"] == "ndcg_at_10"].set_index("model")["value"]
    assert ndcg["als"] >= 1.2 * ndcg["segment_popular"]
    assert ndcg["als"] / ndcg["popular"] > ndcg["als"] / ndcg["segment_popular"]
    served = quality.drop_duplicates("model").set_index("model")["status"]
    assert served.to_dict() == {
        "als": "served",
        "popular": "evaluated",
        "segment_popular": "evaluated",
    }
    assert set(quality["model_version"]) == {f"r{NIGHTS[0]:%Y%m%d}"}  # trained on night 1


def test_every_customer_gets_top_n_and_nothing_already_bought(nights: Config) -> None:
    offered = published(nights, "customer_recommendations", NIGHTS[1])
    segments = published(nights, "customer_segments", NIGHTS[1])
    assert set(offered["customer_id"]) == set(segments["customer_id"])
    assert (offered.groupby("customer_id").size() == 10).all()
    assert not offered.duplicated(["customer_id", "item"]).any()
    lake = Home(nights.home).lake / "*" / "*.parquet"
    bought = duckdb.sql(
        f"SELECT DISTINCT customer_id, product_id AS item FROM read_parquet('{lake}') "
        f"WHERE event_type IN ('purchase', 'refund') AND CAST(event_time AS DATE) >= '{FIRST}'"
    ).df()
    assert offered.merge(bought, on=["customer_id", "item"]).empty
    assert set(offered["source"]) <= {"collaborative", "rule", "segment_popular", "popular"}
    assert (offered["source"] == "collaborative").mean() > 0.5


def test_the_fit_reads_nothing_after_its_cutoff(nights: Config, tmp_path: Path) -> None:
    """Rows of days up to the cutoff that arrived after it (late, in the next night's
    partition) leave the model and its held-out figures as they were: the fit reads only the
    partitions known by the cutoff, and the baseline the segments published by then."""
    shutil.copytree(Path(nights.home), tmp_path / "home")
    cfg = dataclasses.replace(nights, home=tmp_path / "home")
    home = Home(cfg.home)
    folder = home.recommendation_models / f"r{NIGHTS[0]:%Y%m%d}"
    before = {f: (folder / f).read_bytes() for f in ("model.joblib", "meta.json")}
    assert "segment popularity is everyone's" not in (folder / "meta.json").read_text()
    after = home.lake / f"event_date={CUTOFF + dt.timedelta(days=1)}" / "part-0.parquet"
    rows = pd.read_parquet(after)
    late = rows.head(300).copy()
    late["event_time"] = late["event_time"] - pd.Timedelta(days=3)  # dated before the cutoff
    late["event_type"] = "purchase"
    late["product_id"] = "P00001"
    late["event_id"] = "X" + late["event_id"]
    pd.concat([rows, late]).to_parquet(after, index=False)
    shutil.rmtree(home.recommendation_models)
    pipeline.assign_segments(cfg, NIGHTS[0])
    result = pipeline.recommend_items(cfg, NIGHTS[0])
    assert result["model"] == f"r{NIGHTS[0]:%Y%m%d}"  # retrained
    assert {f: (folder / f).read_bytes() for f in before} == before


def test_a_rerun_retrains_to_the_same_bytes(nights: Config, tmp_path: Path) -> None:
    shutil.copytree(Path(nights.home), tmp_path / "home")
    cfg = dataclasses.replace(nights, home=tmp_path / "home")
    home = Home(cfg.home)
    original = Home(nights.home)
    # the retrain night again, its model now read back from the registry
    pipeline.run(cfg, NIGHTS[0])
    for table in TABLES:
        assert home.partition(table, NIGHTS[0]).read_bytes() == (
            original.partition(table, NIGHTS[0]).read_bytes()
        ), table
    # and retrained from nothing
    shutil.rmtree(home.recommendation_models)
    for night in NIGHTS:
        pipeline.run(cfg, night)
    for night in NIGHTS:
        for table in TABLES:
            assert home.partition(table, night).read_bytes() == (
                Home(nights.home).partition(table, night).read_bytes()
            ), (table, night)
