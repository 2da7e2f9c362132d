"""A planted drift raises an alert within two days, and quiet days before it raise none."""

from __future__ import annotations

import datetime as dt

import pytest

from segmentation import pipeline, synthetic
from tests.conftest import generated_home

pytestmark = pytest.mark.quality

START = dt.date(2024, 1, 1)
FIRST = START + dt.timedelta(days=365)  # a year of history first
DRIFT = FIRST + dt.timedelta(days=6)  # from this day most customers behave differently
LAST = DRIFT + dt.timedelta(days=2)


@pytest.mark.slow
def test_planted_drift_alerts_within_two_days_and_names_the_features(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("drift")
    data = synthetic.generate(
        customers=1500,
        start=START,
        days=(LAST - START).days + 1,
        seed=21,
        anchor=FIRST,
        drift_from=DRIFT,
        drift_persona="new",
        drift_share=0.8,
    )
    # the year of history goes straight into the lake (this is no test of ingest); each
    # night extracts and validates its day from the landing folder as a real night does
    cfg = generated_home(folder, data, FIRST, model={"k_min": 4, "k_max": 10})
    results = {}
    for i in range((LAST - FIRST).days + 1):
        day = FIRST + dt.timedelta(days=i)
        results[day] = pipeline.run(cfg, day)["compute_drift"]
    levels = {d.isoformat(): r["level"] for d, r in results.items()}
    before = [r for d, r in results.items() if d < DRIFT]
    assert all(r["level"] != "alert" for r in before), levels
    after = [r for d, r in results.items() if d >= DRIFT]
    alerted = [r for r in after if r["level"] == "alert"]
    assert alerted, levels
    assert alerted[0]["drifted_features"], alerted[0]
