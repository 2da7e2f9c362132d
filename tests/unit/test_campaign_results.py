"""A campaign's status, window and the reasons of rows without figures, by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from segmentation.campaigns import results
from segmentation.config_campaigns import CampaignConfig

pytestmark = pytest.mark.unit

D = dt.date(2025, 3, 1)
NO_OUTCOMES = pd.DataFrame({"customer_id": [], "converted": [], "revenue": []})


def campaign(attribution_days: int) -> CampaignConfig:
    # sent on 3 March to 5 March
    return CampaignConfig(
        id="c", start=D + dt.timedelta(days=2), end=D + dt.timedelta(days=4),
        segments=(1,), attribution_days=attribution_days,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("attribution_days", "statuses"),
    [
        # nights of 3 .. 9 March
        (2, ["running", "running", "running", "attributing", "final", "final", "final"]),
        (1, ["running", "running", "running", "final", "final", "final", "final"]),
        (0, ["running", "running", "final", "final", "final", "final", "final"]),
    ],
)
def test_status_is_final_once_every_day_of_the_window_is_counted(
    attribution_days: int, statuses: list[str]
) -> None:
    c = campaign(attribution_days)
    nights = [D + dt.timedelta(days=2 + i) for i in range(7)]
    assert [results.status(c, night) for night in nights] == statuses
    last = D + dt.timedelta(days=4 + attribution_days)
    assert [results.window(c, night) for night in nights] == [
        (c.start, min(night, last)) for night in nights
    ]


def groups(treated: list[bool], segments: list[int]) -> pd.DataFrame:
    ids = [f"C{i}" for i in range(len(treated))]
    return pd.DataFrame({"customer_id": ids, "treated": treated, "segment_id": segments})


def test_rows_without_figures_say_why() -> None:
    c, night = campaign(2), D + dt.timedelta(days=3)
    (nobody,) = results.rows(c, night, D, groups([], []), NO_OUTCOMES)
    assert nobody["reason"].startswith("nobody: no customer was in the audience or segments")
    assert nobody["conversion_uplift"] is None and nobody["treated"] == nobody["control"] == 0
    # segment 1: treated and control; segment 2: treated only; segment 3: control only
    rows = results.rows(
        c, night, D, groups([True, False, True, True, False], [1, 1, 2, 2, 3]), NO_OUTCOMES
    )
    reasons = {r["segment_id"]: r["reason"] for r in rows}
    assert reasons[None] is None and reasons[1] is None
    assert reasons[2] == "no control customer in this segment: too few customers in it"
    assert reasons[3] == "nobody targeted in this segment: its customers were all held out"
    (whole,) = [r for r in rows if r["segment_id"] is None]
    assert (whole["treated"], whole["control"], whole["treated_conversion"]) == (3, 2, 0.0)
    (none,) = results.rows(c, night, None, None, NO_OUTCOMES, "no segments before the start")
    assert none["reason"] == "no segments before the start" and none["frozen_on"] is None
