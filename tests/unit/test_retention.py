"""Retention planning on hand-built dates: what the cleanup deletes and what it keeps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from segmentation.config import parse_config
from segmentation.config_privacy import RetentionConfig
from segmentation.errors import ConfigError, RetentionExpired
from segmentation.privacy import retention

pytestmark = pytest.mark.unit


def d(day: int) -> dt.date:
    return dt.date(2024, 2, day)


def test_the_window_counts_each_area_back_from_the_newest_night() -> None:
    w = retention.window(RetentionConfig(), d(9))
    assert w.rerun_from == d(7)  # state_days 3: 7, 8, 9
    assert w.nights == [d(7), d(8), d(9), d(10)]  # and tomorrow
    assert w.keep_from["state"] == d(7)
    assert w.keep_from["staging"] == w.keep_from["work"] == d(3)
    assert w.keep_from["reports"] == d(9) - dt.timedelta(days=89)
    assert w.keep_from["features"] == w.keep_from["models"] == d(9) - dt.timedelta(days=399)
    assert w.keep_from["output"] is None  # output_days null: kept for ever


def test_only_dates_older_than_the_kept_ones_and_not_needed_are_deleted() -> None:
    found = [d(9), d(2), d(5), d(6), d(7), d(1)]
    assert retention.to_delete(found, d(6), needed={d(2)}) == [d(1), d(5)]
    assert retention.to_delete(found, None) == []  # null: keep everything
    # never a night after the newest (a night being run right now is never older)
    assert retention.to_delete([d(10), d(11)], d(6)) == []


NEEDS = retention.Needs(
    # the champion before each runnable night: m0205 (reference day 0203), then m0208
    champions={d(7): (d(5), d(3)), d(8): (d(5), d(3)), d(9): (d(8), d(8)), d(10): (d(8), d(8))},
    churn={d(7): d(1), d(8): d(1), d(9): d(1), d(10): d(9)},
    recommenders={d(6): None, d(7): d(4), d(8): d(4), d(9): d(4), d(10): d(4)},
    churn_days=5,
    holdout_days=3,
    campaign_starts=[d(2)],
)


def test_features_kept_are_the_drift_references_and_the_churn_cutoffs() -> None:
    # references 0203 and 0208; cutoffs 7-5, 8-5, 9-5, 10-5
    assert retention.needed_features(NEEDS) == {d(3), d(8), d(2), d(4), d(5)}


def test_models_kept_are_the_ones_the_runnable_nights_use() -> None:
    assert retention.needed_models(NEEDS) == {
        "models": {d(5), d(8)},
        "churn_models": {d(1), d(9)},
        "recommendation_models": {d(4)},
    }


def test_outputs_kept_are_the_nights_read_back() -> None:
    runs = [d(1), d(3), d(4), d(6), d(7), d(8), d(9)]
    # references 3 and 8; before the recommenders' cutoffs 7-2=5 .. 10-2=8: 4, 4, 6, 7;
    # the campaign starting on 0202 froze its groups on 0201
    assert retention.needed_outputs(NEEDS, runs) == {d(3), d(8), d(4), d(6), d(7), d(1)}


def test_each_output_series_keeps_its_night_before_the_rerun_window() -> None:
    w = retention.window(RetentionConfig(output_days=3), d(9))  # keep 7, 8, 9
    plan = retention.plan_outputs(
        {
            "customer_segments": [d(1), d(3), d(4), d(6), d(7), d(8), d(9)],
            "audience_everyone": [d(2), d(3), d(8), d(9)],  # exported on some nights only
        },
        w,
        needed={d(3)},
    )
    assert plan == {"customer_segments": [d(1), d(4)], "audience_everyone": [d(2)]}


def test_an_older_night_is_refused_with_what_was_kept() -> None:
    w = retention.window(RetentionConfig(), d(9))
    recorded = retention.record(w, d(9), 3)
    retention.refuse_rerun(recorded, d(7))  # within the window: runs
    retention.refuse_rerun(None, d(1))  # no cleanup yet: runs
    with pytest.raises(RetentionExpired) as caught:
        retention.refuse_rerun(recorded, d(6))
    assert str(caught.value) == (
        "2024-02-06 cannot be run: retention.state_days is 3: the state of the nights before "
        "2024-02-07 (and what retention ages out with it) was deleted by the nightly cleanup "
        "as of 2024-02-09; nights from 2024-02-07 can be rerun (raise retention.state_days to "
        "keep more). Nothing was written for 2024-02-06."
    )


def test_remove_renames_aside_and_counts_the_bytes(tmp_path: Path) -> None:
    part = tmp_path / "state" / "run_date=2024-02-01"
    part.mkdir(parents=True)
    (part / "part-0.parquet").write_bytes(b"x" * 100)
    (part / "more").mkdir()
    (part / "more" / "f").write_bytes(b"y" * 20)
    assert retention.tree_bytes(tmp_path) == 120
    assert retention.remove(part) == 120
    assert list((tmp_path / "state").iterdir()) == []
    assert retention.remove(tmp_path / "missing") == 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"state_days": 3, "features_days": 2},
            r"retention.features_days \(2\) is shorter than retention.state_days \(3\)",
        ),
        ({"state_days": 3, "output_days": 1}, r"retention.output_days \(1\) is shorter"),
        ({"state_days": None}, "retention.features_days is 400 but retention.state_days is null"),
    ],
)
def test_a_retention_that_would_break_a_rerun_is_a_named_error(
    tmp_path: Path, raw: dict, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"home": "./home", "retention": raw}, base_dir=tmp_path)
