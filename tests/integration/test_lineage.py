"""One model lineage per home: a new night older than the first model is refused.

``published`` has run one night, DAY1 (its model is the home's first), with the history
before it ingested. A night of an older date has no champion to align its segment ids to:
it would start a second lineage, numbering its segments from 0 again. It is refused with a
message naming the first night and the fix, before anything is written; the fix the message
gives (move the models aside, run every night from the earliest date oldest first) rebuilds
one lineage.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from segmentation import model, pipeline
from segmentation.cli import main
from segmentation.config import load_config
from segmentation.errors import BadInput, SecondLineage, SegmentationError
from segmentation.io import parquet
from segmentation.layout import Home
from segmentation.model import registry
from tests.bad_input.test_bad_input import run_cli
from tests.conftest import LAST

pytestmark = pytest.mark.integration

DAY1 = LAST - dt.timedelta(days=1)  # the night published in ``published``
OLD = LAST - dt.timedelta(days=3)  # ingested, never run: older than the first model


def files(home: Path) -> dict[str, bytes]:
    """Every file under ``home`` but the locks, with its bytes."""
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and p.relative_to(home).parts[0] != "locks"
    }


def test_a_night_older_than_the_first_model_is_refused_before_anything_is_written(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = published / "home"
    before = files(home)
    err = run_cli(published, capsys, OLD)  # exit 2, one message, no published table changed
    assert issubclass(SecondLineage, BadInput)  # Airflow fails the task without retrying
    models = Home(home).models
    for text in (
        f"{OLD} is older than the first night this home ran ({DAY1}, model m{DAY1:%Y%m%d})",
        "would start a second model lineage",
        f"No model was saved and nothing was published for {OLD}",
        f"move {models} aside",
        f"segmentation backfill --start {OLD} --end {DAY1}",
        "--reprocess-behavior completed and --max-active-runs 1",
    ):
        assert text in err, err
    assert files(home) == before  # not even its events were staged

    # a rerun of the first night, and the next new night, are the one lineage: allowed
    cfg = load_config(published / "config.yaml")
    assert pipeline.extract_events(cfg, DAY1)["run_date"] == str(DAY1)
    # train_model refuses too (a task run on its own), before training
    pipeline.build_features(cfg, OLD)
    with pytest.raises(SecondLineage, match=f"{OLD} is older than the first night"):
        pipeline.train_model(cfg, OLD)
    assert [r.trained_run_date for r in registry.list_models(models)] == [DAY1]


@pytest.mark.parametrize("first_saved", ["newer", "older"])
def test_two_new_nights_training_at_once_never_save_two_lineages(
    published: Path, monkeypatch: pytest.MonkeyPatch, first_saved: str
) -> None:
    """Two new nights training at once on an empty registry (a backfill with several active
    runs): whichever saves second is refused before saving, the older night for good (a second
    lineage), the newer one until it is run again against the older one's model."""
    cfg = load_config(published / "config.yaml")
    models = Home(cfg.home).models
    older, newer = OLD, OLD + dt.timedelta(days=1)
    for day in (older, newer):
        pipeline.build_features(cfg, day)
    models.rename(models.with_name("models.aside"))
    slow, fast = (older, newer) if first_saved == "newer" else (newer, older)
    train = model.train

    def other_night_saves_meanwhile(*args: Any, **kwargs: Any) -> model.Segmenter:
        fitted = train(*args, **kwargs)
        if args[3] == slow:  # while one night trains, the other trains and saves
            pipeline.train_model(cfg, fast)
        return fitted

    monkeypatch.setattr(model, "train", other_night_saves_meanwhile)
    if first_saved == "newer":
        with pytest.raises(SecondLineage, match=f"{older} is older than the first night"):
            pipeline.train_model(cfg, older)
        assert [r.model_version for r in registry.list_models(models)] == [f"m{newer:%Y%m%d}"]
        return
    with pytest.raises(SegmentationError, match=f"the champion before {newer} changed") as error:
        pipeline.train_model(cfg, newer)
    assert not isinstance(error.value, BadInput)  # Airflow retries it
    assert [r.model_version for r in registry.list_models(models)] == [f"m{older:%Y%m%d}"]
    monkeypatch.setattr(model, "train", train)
    assert pipeline.train_model(cfg, newer)["reason"] != "first model"  # the retry
    assert registry.list_models(models)[-1].compared_with == f"m{older:%Y%m%d}"


def test_the_fix_in_the_message_rebuilds_one_lineage_from_the_earliest_night(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = load_config(published / "config.yaml")
    home = Home(cfg.home)
    run_cli(published, capsys, OLD)
    home.models.rename(home.models.with_name(f"models.before-{OLD}"))
    args = ["--config", str(published / "config.yaml"), "--start", str(OLD), "--end", str(DAY1)]
    assert main(["backfill", *args]) == 0, capsys.readouterr().err
    records = registry.list_models(home.models)
    days = [OLD + dt.timedelta(days=i) for i in range((DAY1 - OLD).days + 1)]
    assert [r.trained_run_date for r in records] == days
    # one lineage: only the earliest night started from scratch, each later one was judged
    # against the champion before it, so its ids follow from the earliest night's
    assert [r.reason == "first model" for r in records] == [True] + [False] * (len(days) - 1)
    for i, r in enumerate(records[1:], start=1):
        champion = registry.champion_as_of(home.models, days[i], strictly_before=True)
        assert champion is not None and r.compared_with == champion.model_version
        assert r.max_id_ever >= champion.max_id_ever
    # the first night's tables were published again, by the rebuilt lineage's champion
    segments = parquet.read_published(home, "customer_segments", DAY1, ["model_version"])
    champion = registry.champion_as_of(home.models, DAY1)
    assert segments is not None and champion is not None
    assert set(segments["model_version"]) == {champion.model_version}
    lineage = parquet.read_published(home, "segment_lineage", DAY1)
    assert lineage is not None
    started = lineage[lineage["previous_model_version"].isna()]["model_version"]
    assert set(started) == {f"m{OLD:%Y%m%d}"}  # one lineage, started by the earliest night
    # and a rerun of the newest night is exact again: it picks the champion it was judged by
    published_bytes = home.partition("customer_segments", DAY1).read_bytes()
    pipeline.run(cfg, DAY1)
    assert home.partition("customer_segments", DAY1).read_bytes() == published_bytes
