"""A planted campaign: who it treats, what it adds, and that its effect is the planted one.

Expected values come from the definition (``synthetic_campaign``'s docstring) and the personas'
planted windows, never from the code under test: the control group is the pipeline's own
function at its defaults, the treated are the campaign persona's customers outside it, and the
effect is measured on the events as a campaign measurement would see them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from segmentation import cli, synthetic
from segmentation.config import ControlConfig
from segmentation.segments.control import control_numbers

pytestmark = pytest.mark.unit

START = dt.date(2024, 1, 1)


def _day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def _in_control(ids: pd.Series) -> np.ndarray:
    """The pipeline's control group at its default salt and share."""
    config = ControlConfig()
    return control_numbers(ids, config.salt) < config.share


def _added(data: synthetic.GeneratedData) -> pd.DataFrame:
    return data.events[data.events["event_id"].str.startswith("K")]


def _days(events: pd.DataFrame) -> pd.Series:
    """Each event's UTC day, as a date."""
    return events["event_time"].dt.tz_convert("UTC").dt.date


def _seen_before(data: synthetic.GeneratedData, day: dt.date) -> pd.DataFrame:
    """The ground truth of the customers with an event before ``day``, with their control flag."""
    before = data.events[_days(data.events) < day]["customer_id"].unique()
    truth = data.ground_truth[data.ground_truth["customer_id"].isin(before)]
    return truth.assign(control=_in_control(truth["customer_id"])).reset_index(drop=True)


def _bought_on(
    data: synthetic.GeneratedData, customers: pd.Series, days: set[dt.date]
) -> pd.Series:
    """Whether each of ``customers`` has a purchase on one of ``days``."""
    ev = data.events
    buyers = ev[(ev["event_type"] == "purchase") & _days(ev).isin(days)]["customer_id"]
    return customers.isin(set(buyers))


# --- 1. no campaign, or uplift 0: the generator as it was ---------------------------------


def test_uplift_zero_changes_no_event_and_only_adds_the_treated_column() -> None:
    kwargs: dict[str, Any] = {"drift_from": _day(20), "bad_rows": 12, "dropout": 2.0}
    kwargs |= {"bundle_rate": 0.3, "emerging_from": _day(25)}
    base = synthetic.generate(3000, START, 40, seed=5, **kwargs)
    none = synthetic.generate(3000, START, 40, seed=5, campaign_persona=None, **kwargs)
    zero = synthetic.generate(
        3000,
        START,
        40,
        seed=5,
        campaign_persona="loyal",
        campaign_start=_day(30),
        campaign_days=5,
        campaign_uplift=0.0,
        **kwargs,
    )
    for data in (none, zero):
        assert data.events.equals(base.events)
        assert data.customers.equals(base.customers)
        assert data.products.equals(base.products)
    assert none.ground_truth.equals(base.ground_truth)
    assert "campaign_treated" not in base.ground_truth
    assert zero.ground_truth.drop(columns="campaign_treated").equals(base.ground_truth)
    assert zero.ground_truth["campaign_treated"].any()


def test_a_campaign_only_adds_rows_the_rest_stays_as_it_was() -> None:
    base = synthetic.generate(3000, START, 40, seed=6, dropout=1.0, bundle_rate=0.3)
    data = synthetic.generate(
        3000,
        START,
        40,
        seed=6,
        dropout=1.0,
        bundle_rate=0.3,
        campaign_persona="champions",
        campaign_start=_day(10),
        campaign_days=10,
        campaign_uplift=0.3,
    )
    added = _added(data)
    assert len(added) > 0
    kept = data.events.drop(index=added.index).reset_index(drop=True)
    assert kept.equals(base.events)
    assert data.customers.equals(base.customers)
    # still sorted by time, ids unique and the added ones K + 9 digits
    assert data.events["event_time"].is_monotonic_increasing
    assert data.events["event_id"].is_unique
    assert added["event_id"].str.fullmatch(r"K\d{9}").all()


# --- 2. who is treated, and where the added purchases fall --------------------------------


@pytest.fixture(scope="module")
def loyal_campaign() -> synthetic.GeneratedData:
    """Loyal customers (active the whole period: all arrived), five days from day 20, a large
    uplift so that many are won; bundles on, so a won purchase may bring companions."""
    return synthetic.generate(
        5000,
        START,
        40,
        seed=7,
        bundle_rate=0.5,
        campaign_persona="loyal",
        campaign_start=_day(20),
        campaign_days=5,
        campaign_uplift=0.3,
    )


def test_only_treated_customers_get_added_purchases_inside_the_campaign(
    loyal_campaign: synthetic.GeneratedData,
) -> None:
    data = loyal_campaign
    truth = data.ground_truth.assign(control=_in_control(data.ground_truth["customer_id"]))
    treated = (truth["persona"] == "loyal") & ~truth["control"]
    assert truth["campaign_treated"].equals(treated.rename("campaign_treated"))
    added = _added(data)
    assert (added["event_type"] == "purchase").all()
    assert set(_days(added)) <= {_day(n) for n in range(20, 25)}
    buyers = set(added["customer_id"])
    assert buyers <= set(truth.loc[treated, "customer_id"])
    control_loyal = truth.loc[(truth["persona"] == "loyal") & truth["control"], "customer_id"]
    others = truth.loc[truth["persona"] != "loyal", "customer_id"]
    assert len(control_loyal) > 50
    assert buyers.isdisjoint(control_loyal) and buyers.isdisjoint(others)
    # about uplift x treated x days won (a few already bought)
    # won: U of the treated customers' days (a few of them are not in the ground truth)
    won = len(added.drop_duplicates(["customer_id", "event_time"])) / (5 * treated.sum())
    assert 0.27 < won < 0.34


def test_added_purchases_only_on_days_without_one_and_one_order_a_day(
    loyal_campaign: synthetic.GeneratedData,
) -> None:
    ev = loyal_campaign.events.assign(day=_days(loyal_campaign.events))
    added = ev[ev["event_id"].str.startswith("K")]
    own = ev[(ev["event_type"] == "purchase") & ev["event_id"].str.startswith("E")]
    both = added.merge(own, on=["customer_id", "day"])
    assert both.empty  # who bought anyway needs nothing
    # one purchase per customer and day; a bundle's companions at the same time
    assert (added.groupby(["customer_id", "day"])["event_time"].nunique() == 1).all()
    assert added.duplicated(["customer_id", "event_time"]).any()  # some bundles
    # the persona's categories and amounts: grocery first, medians around 55
    assert added["category"].value_counts().index[0] == "grocery"
    firsts = added.drop_duplicates(["customer_id", "event_time"])
    assert 40 < firsts["amount"].median() < 75


def test_customers_not_yet_arrived_are_not_treated() -> None:
    # "new" customers arrive 28 to 12 days before the end: on days 32 to 48 of 60
    early = synthetic.generate(
        3000,
        START,
        60,
        seed=8,
        campaign_persona="new",
        campaign_start=_day(20),
        campaign_days=3,
        campaign_uplift=0.5,
    )
    assert not early.ground_truth["campaign_treated"].any()
    assert _added(early).empty
    late = synthetic.generate(
        3000,
        START,
        60,
        seed=8,
        campaign_persona="new",
        campaign_start=_day(50),
        campaign_uplift=0.5,
    )
    truth = late.ground_truth
    treated = (truth["persona"] == "new") & ~_in_control(truth["customer_id"])
    assert truth["campaign_treated"].equals(treated.rename("campaign_treated"))
    assert treated.sum() > 200 and len(_added(late)) > 0


def test_the_persona_on_the_day_counts_with_drift() -> None:
    def run(campaign_persona: str, day: int) -> synthetic.GeneratedData:
        return synthetic.generate(
            4000,
            START,
            40,
            seed=9,
            drift_from=_day(20),
            drift_persona="bargain_hunters",
            drift_share=0.5,
            campaign_persona=campaign_persona,
            campaign_start=_day(day),
            campaign_days=2,
            campaign_uplift=0.5,
        )

    def personas_won(data: synthetic.GeneratedData) -> set[str]:
        truth = data.ground_truth.set_index("customer_id")["persona"]
        return set(truth[_added(data)["customer_id"].unique()])

    # before the drift, loyal customers who drift later (final persona bargain_hunters) count
    assert personas_won(run("loyal", 10)) == {"loyal", "bargain_hunters"}
    # after it, only those who stayed loyal
    after = run("loyal", 30)
    assert personas_won(after) == {"loyal"}
    truth = after.ground_truth
    treated = (truth["persona"] == "loyal") & ~_in_control(truth["customer_id"])
    assert truth["campaign_treated"].equals(treated.rename("campaign_treated"))
    # and the drifted ones are bargain hunters, arrived on the drift day at the latest
    hunters = run("bargain_hunters", 30).ground_truth
    treated = (hunters["persona"] == "bargain_hunters") & ~_in_control(hunters["customer_id"])
    assert hunters["campaign_treated"].equals(treated.rename("campaign_treated"))


# --- 3. the planted effect is the planted amount ------------------------------------------


def _difference(x1: int, n1: int, x0: int, n0: int) -> tuple[float, float]:
    """The difference of two shares and its standard error."""
    p1, p0 = x1 / n1, x0 / n0
    return p1 - p0, math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)


def test_treated_buy_more_than_control_by_the_uplift() -> None:
    # bargain hunters (15% of customers) are active throughout: about 20,000 of them
    day = _day(30)
    data = synthetic.generate(
        136_000,
        START,
        31,
        seed=11,
        campaign_persona="bargain_hunters",
        campaign_start=day,
        campaign_uplift=0.05,
    )
    truth = _seen_before(data, day)
    truth = truth[truth["persona"] == "bargain_hunters"]
    assert len(truth) > 19_000
    assert truth["campaign_treated"].equals(~truth["control"].rename("campaign_treated"))
    bought = _bought_on(data, truth["customer_id"], {day})
    treated, control = bought[~truth["control"]], bought[truth["control"]]
    diff, se = _difference(int(treated.sum()), len(treated), int(control.sum()), len(control))
    assert abs(diff - 0.05) < 4 * se
    # and without the campaign the base share is p = 1 - exp(-0.035) for everyone
    assert abs(control.mean() - (1 - math.exp(-0.035))) < 4 * math.sqrt(0.035 / len(control))


def test_lapsed_customers_are_won_back_at_the_uplift() -> None:
    # at_risk customers stop 120 to 60 days before the end: on the last of 130 days, p = 0
    day = _day(129)
    data = synthetic.generate(
        20_000,
        START,
        130,
        seed=12,
        campaign_persona="at_risk",
        campaign_start=day,
        campaign_uplift=0.05,
    )
    truth = _seen_before(data, day)
    truth = truth[truth["persona"] == "at_risk"]
    bought = _bought_on(data, truth["customer_id"], {day})
    treated = bought[~truth["control"]]
    assert not bought[truth["control"]].any()  # nothing without the campaign
    assert len(treated) > 1500
    assert abs(treated.mean() - 0.05) < 4 * math.sqrt(0.05 * 0.95 / len(treated))


# --- 4. an A/A test: uplift 0 shows no effect ---------------------------------------------


def test_an_aa_campaign_shows_an_effect_in_about_one_seed_of_twenty() -> None:
    first, days = 21, 7
    campaign_days = {_day(first + k) for k in range(days)}
    excluded = 0
    for seed in range(40):
        data = synthetic.generate(
            2000,
            START,
            30,
            seed=seed,
            campaign_persona="bargain_hunters",
            campaign_start=_day(first),
            campaign_days=days,
            campaign_uplift=0.0,
        )
        truth = _seen_before(data, _day(first))
        truth = truth[truth["persona"] == "bargain_hunters"]
        bought = _bought_on(data, truth["customer_id"], campaign_days)
        x1, n1 = int(bought[~truth["control"]].sum()), int((~truth["control"]).sum())
        x0, n0 = int(bought[truth["control"]].sum()), int(truth["control"].sum())
        low, high = confint_proportions_2indep(x1, n1, x0, n0, method="newcomb", compare="diff")
        excluded += bool(low > 0 or high < 0)
    assert excluded <= 4


# --- arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"campaign_persona": "whales", "campaign_start": _day(3)}, "unknown persona 'whales'"),
        ({"campaign_persona": "loyal"}, "needs a campaign start"),
        ({"campaign_persona": "loyal", "campaign_start": _day(-1)}, "not all days of the data"),
        (
            {"campaign_persona": "loyal", "campaign_start": _day(8), "campaign_days": 3},
            "2024-01-09 to 2024-01-11, are not all days of the data, 2024-01-01 to 2024-01-10",
        ),
        (
            {"campaign_persona": "loyal", "campaign_start": _day(3), "campaign_uplift": 1.0},
            r"probability in \[0, 1\), not 1.0",
        ),
        (
            {"campaign_persona": "loyal", "campaign_start": _day(3), "campaign_uplift": -0.1},
            "probability",
        ),
        ({"campaign_persona": "loyal", "campaign_start": _day(3), "campaign_days": 0}, "1 or more"),
        ({"campaign_uplift": 0.05}, "need a campaign persona"),
    ],
)
def test_bad_campaign_arguments_are_clear_errors(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        synthetic.generate(100, START, 10, seed=1, **arguments)


def test_the_cli_plants_a_campaign_through_order_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = (
        f"generate --out {tmp_path / 'out'} --customers 2000 --start {START} --days 30 "
        "--campaign-persona loyal --campaign-start 2024-01-20 --campaign-days 3 "
        "--campaign-uplift 0.2 --order-lines"
    )
    assert cli.main(args.split()) == 0
    summary = json.loads(capsys.readouterr().out)
    truth = pd.read_csv(tmp_path / "out" / "ground_truth.csv")
    assert summary["campaign_treated"] == truth["campaign_treated"].sum() > 0
    assert summary["campaign_events"] > 0
    day = pd.read_csv(tmp_path / "out" / "events" / "2024-01-21.csv")
    lines = day[day["event_id"].str.startswith("K")]
    assert len(lines) > 0 and lines["order_id"].notna().all()
    assert set(lines["customer_id"]) <= set(truth.loc[truth["campaign_treated"], "customer_id"])
    late = f"generate --out {tmp_path / 'x'} --start {START} --days 30 --campaign-persona loyal"
    assert cli.main([*late.split(), "--campaign-start", "2024-03-01"]) == 2
    assert "are not all days of the data" in capsys.readouterr().err
