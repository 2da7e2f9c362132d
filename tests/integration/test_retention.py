"""Retention over real nights: exactly the promised partitions remain, the newest night's
tables are those of a home that keeps everything, a rerun within ``state_days`` still works
and an older one is refused with what was kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from segmentation import layout, pipeline, synthetic
from segmentation.config import Config
from segmentation.errors import RetentionExpired
from segmentation.layout import RUN_KEY, Home
from segmentation.model import registry
from tests.conftest import generated_home, snapshot

pytestmark = pytest.mark.integration

START = dt.date(2024, 3, 1)
NIGHTS = [dt.date(2024, 3, 26) + dt.timedelta(days=i) for i in range(5)]  # 26 .. 30
N1, N2, N3, N4, N5 = NIGHTS
SMALL = {
    "staging_days": 1,
    "state_days": 2,  # nights 29 and 30 can be rerun
    "features_days": 2,
    "models_days": 1,
    "output_days": 2,
    "reports_days": 1,
}
PER_RUN = [t.name for t in layout.TABLES if t.per_run]


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Config]:
    """The same five nights in a home with a small retention and in one keeping everything."""
    data = synthetic.generate(customers=300, start=START, days=30, seed=5)
    folder = tmp_path_factory.mktemp("retention")
    kept = generated_home(folder / "small", data, N1, retention=SMALL, campaigns=None)
    everything = dict.fromkeys(SMALL)  # null: keep every night of every area
    full = generated_home(folder / "full", data, N1, retention=everything, campaigns=None)
    for night in NIGHTS:
        pipeline.run(kept, night)
        pipeline.run(full, night)
    return kept, full


def days(root: Path, prefix: str = f"{RUN_KEY}=") -> list[dt.date]:
    return sorted(dt.date.fromisoformat(p.name[len(prefix) :]) for p in root.glob(f"{prefix}*"))


def test_exactly_the_promised_partitions_remain(homes: tuple[Config, Config]) -> None:
    home = Home(homes[0].home)
    records = registry.list_models(home.models)
    # every night's challenger was promoted, so the champion before night N is N - 1's model,
    # and its drift reference day is N - 1 (what the expectations below rest on)
    assert [(r.trained_run_date, r.promoted, r.reference_day) for r in records] == [
        (n, True, n) for n in NIGHTS
    ]
    assert days(home.state) == [N4, N5]  # state_days 2
    # features_days 2, and N3's: the drift reference of N3's model, the champion before N4
    assert days(home.features) == [N3, N4, N5]
    # models_days 1: the artifacts of N5's (in use), N4's and N3's (the champions before the
    # runnable nights N5 and N4); every model's record stays (model_registry lists them all)
    artifacts = sorted(p.parent.name for p in home.models.glob("m*/model.joblib"))
    assert artifacts == ["m20240328", "m20240329", "m20240330"]
    assert len(list(home.models.glob("m*/meta.json"))) == 5
    # output_days 2, and N3's: the night before the oldest runnable night, and the reference
    for table in PER_RUN:
        assert days(home.table_root(table)) == [N3, N4, N5], table
    assert days(home.audiences / "everyone") == [N3, N4, N5]
    assert days(home.reports) == [N5]  # reports_days 1
    assert not home.staging.exists() or days(home.staging, "event_date=") == []
    # never deleted: the lake, the validation records, current
    assert days(home.lake, "event_date=") == [START + dt.timedelta(days=i) for i in range(30)]
    assert len(list(home.validation.glob("run_date=*.json"))) == 5
    assert home.current_table("customer_segments").is_file() and home.current_report.is_file()


def test_the_newest_night_publishes_what_a_home_keeping_everything_does(
    homes: tuple[Config, Config],
) -> None:
    small, full = (Home(c.home) for c in homes)
    for table in PER_RUN:
        assert small.partition(table, N5).read_bytes() == full.partition(table, N5).read_bytes()
    current = sorted(p.name for p in full.current.glob("*.parquet"))
    assert current == sorted(p.name for p in small.current.glob("*.parquet"))
    for name in current:
        assert (small.current / name).read_bytes() == (full.current / name).read_bytes(), name


def test_status_shows_the_bytes_per_area(homes: tuple[Config, Config]) -> None:
    home = Home(homes[0].home)
    sizes = pipeline.status(homes[0])["bytes"]
    states = sum(p.stat().st_size for p in home.state.rglob("*") if p.is_file())
    assert sizes["state"] == states > 0
    assert sizes["lake"] == sum(p.stat().st_size for p in home.lake.rglob("*") if p.is_file())
    assert sizes["staging"] == 0
    assert sizes["total"] > sizes["lake"] + sizes["output_tables"] + sizes["models"]


def test_a_rerun_within_state_days_works_and_an_older_one_is_refused(
    homes: tuple[Config, Config],
) -> None:
    cfg, full = homes
    small, whole = Home(cfg.home), Home(full.home)
    result = pipeline.run(cfg, N4)  # the oldest runnable night: its previous state is gone
    assert result["build_features"]["state"] == "rebuilt from history"
    assert result["clean_up"]["newest"] == N5.isoformat()  # relative to the newest night
    # what the rerun wrote again of N4 and retention does not keep: its report (reports_days 1)
    deleted = {a: n["deleted"] for a, n in result["clean_up"]["deleted"].items() if n["deleted"]}
    assert deleted == {"reports": 1}
    for table in PER_RUN:  # the same night as the first time (and as the full home's)
        assert small.partition(table, N4).read_bytes() == whole.partition(table, N4).read_bytes()
    before = snapshot(cfg.home)
    with pytest.raises(RetentionExpired) as caught:
        pipeline.run(cfg, N3)
    assert str(caught.value) == (
        "2024-03-28 cannot be run: retention.state_days is 2: the state of the nights before "
        "2024-03-29 (and what retention ages out with it) was deleted by the nightly cleanup "
        "as of 2024-03-30; nights from 2024-03-29 can be rerun (raise retention.state_days to "
        "keep more). Nothing was written for 2024-03-28."
    )
    assert snapshot(cfg.home) == before
    assert days(small.state) == [N4, N5]
