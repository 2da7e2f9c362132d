"""Audiences and campaigns in real nights: exports, control groups, frozen groups, uplift."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation import cli, pipeline, synthetic
from segmentation.campaigns import exports
from segmentation.config import Config, ControlConfig, load_config
from segmentation.errors import BadInput
from segmentation.layout import Home
from tests.conftest import generated_home, published_in

pytestmark = pytest.mark.integration

START, DAYS = dt.date(2024, 1, 1), 66
NIGHTS = [START + dt.timedelta(days=61 + i) for i in range(5)]  # 2024-03-02 .. 03-06
PLANTED = 0.6  # added to the planted persona's chance to buy on the campaign's one day
PERSONA = "bargain_hunters"
GLOBAL_SHARE = 0.05
WIN_BACK = ["At Risk", "Can't Lose Them", "Hibernating", "About To Sleep"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, synthetic.GeneratedData]:
    """Five nights of 1,500 customers with three audiences and two campaigns; on the second
    night's day, the non-control bargain hunters buy with 0.6 more chance (planted)."""
    data = synthetic.generate(
        customers=1500,
        start=START,
        days=DAYS,
        seed=7,
        campaign_persona=PERSONA,
        campaign_start=NIGHTS[1],
        campaign_days=1,
        campaign_uplift=PLANTED,
    )
    folder = tmp_path_factory.mktemp("campaigns")
    cfg = generated_home(
        folder,
        data,
        NIGHTS[0],
        customers={"path": str(folder / "landing" / "customers"), "format": "csv"},
        control={"global_share": GLOBAL_SHARE},
        # the groups' sizes per segment are pinned below, small ones too (suppressing small
        # groups is tests/integration/test_suppression.py's)
        privacy={"min_group_size": 1},
        audiences={
            "export_columns": ["signup_date"],
            "everyone": {},
            "win_back": {"rfm_segments": WIN_BACK},
            "vip": {"rfm_segments": ["Champions"], "include_control": True},
        },
        campaigns=[
            {
                "id": "planted",
                "audience": "everyone",
                "start": str(NIGHTS[1]),
                "end": str(NIGHTS[1]),
                "attribution_days": 0,
            },
            {
                "id": "win_back",
                "audience": "win_back",
                "start": str(NIGHTS[1]),
                "end": str(NIGHTS[3]),
                "attribution_days": 2,
                "cost": 100.0,
            },
        ],
    )
    for night in NIGHTS:
        pipeline.run(cfg, night)
    return cfg, data


def results(cfg: Config, night: dt.date) -> pd.DataFrame:
    return published_in(Home(cfg.home), "campaign_results", night)


def whole(cfg: Config, night: dt.date, campaign: str) -> pd.Series:
    rows = results(cfg, night)
    return rows[(rows["campaign"] == campaign) & rows["segment_id"].isna()].iloc[0]


def global_control(ids: pd.Series) -> np.ndarray:
    """The documented definition, by hand: md5("{salt}:global:{id}")'s first 32 bits / 2**32."""
    salt = f"{ControlConfig().salt}:global"
    u = [int(hashlib.md5(f"{salt}:{i}".encode()).hexdigest()[:8], 16) / 2**32 for i in ids]
    return np.asarray(u) < GLOBAL_SHARE


def test_the_planted_uplift_is_inside_the_measured_interval(shop: tuple) -> None:
    cfg, data = shop
    row = whole(cfg, NIGHTS[1], "planted")
    assert row["status"] == "final" and row["frozen_on"] == NIGHTS[0]
    assert row["measured_to"] == NIGHTS[1]
    # treated: the audience's exported members of the night before; of them, the generator
    # raised the chance of those it treated (the bargain hunters outside the control group)
    members = published_in(Home(cfg.home), "audience_members", NIGHTS[0])
    everyone = members[members["audience"] == "everyone"]
    treated = everyone.loc[everyone["exported"], "customer_id"]
    truth = data.ground_truth.set_index("customer_id")["campaign_treated"]
    planted = PLANTED * truth.reindex(treated).fillna(False).astype(bool).mean()
    assert row["treated"] == len(treated) and row["control"] == (~everyone["exported"]).sum()
    assert row["conversion_uplift_low"] <= planted <= row["conversion_uplift_high"]
    assert row["conversion_uplift_low"] > 0 and row["conversion_p_value"] < 0.05
    assert row["incremental_conversions"] == pytest.approx(row["conversion_uplift"] * len(treated))


def test_control_is_exported_only_when_asked_and_global_control_never(shop: tuple) -> None:
    cfg, _ = shop
    home = Home(cfg.home)
    night = NIGHTS[2]
    segments = published_in(home, "customer_segments", night)
    members = published_in(home, "audience_members", night)
    held_out = set(segments.loc[global_control(segments["customer_id"]), "customer_id"])
    assert len(held_out) > 20  # about 5% of the customers
    assert not held_out & set(members["customer_id"])
    control = set(segments.loc[segments["is_control"], "customer_id"])
    for audience, include in (("everyone", False), ("win_back", False), ("vip", True)):
        mine = members[members["audience"] == audience]
        csv = pd.read_csv(home.audience_export(audience, night) / exports.MEMBERS, dtype=str)
        assert mine["is_control"].any()  # the control group is there, marked ...
        assert bool(control & set(csv["customer_id"])) == include  # ... and exported if asked
        assert csv["customer_id"].tolist() == sorted(mine.loc[mine["exported"], "customer_id"])
    everyone = members[members["audience"] == "everyone"]
    assert set(everyone["customer_id"]) == set(segments["customer_id"]) - held_out


def test_exports_carry_the_export_columns_and_changes_chain_to_members(shop: tuple) -> None:
    cfg, data = shop
    home = Home(cfg.home)
    signed = data.customers.set_index("customer_id")["signup_date"].astype(str)
    for audience in ("everyone", "win_back", "vip"):
        before: set[str] = set()
        for night in NIGHTS:
            folder = home.audience_export(audience, night)
            members = pd.read_csv(folder / exports.MEMBERS, dtype=str)
            changes = pd.read_csv(folder / exports.CHANGES, dtype=str)
            assert list(members.columns) == ["customer_id", "signup_date"]
            assert list(changes.columns) == ["customer_id", "change", "signup_date"]
            shown = members["signup_date"].tolist()
            assert shown == signed.reindex(members["customer_id"]).tolist()
            entered = set(changes.loc[changes["change"] == "entered", "customer_id"])
            left = set(changes.loc[changes["change"] == "left", "customer_id"])
            assert (before | entered) - left == set(members["customer_id"])
            assert not entered & before and left <= before
            table = published_in(home, "audience_changes", night)
            mine = table[table["audience"] == audience]
            assert mine[["customer_id", "change"]].values.tolist() == (
                changes[["customer_id", "change"]].values.tolist()
            )
            before = set(members["customer_id"])
    # the win-back audience moves from night to night
    moved = published_in(home, "audience_changes", NIGHTS[-1])
    assert (moved["audience"] == "win_back").sum() > 0


def test_groups_stay_frozen_while_customers_move(shop: tuple) -> None:
    cfg, _ = shop
    home = Home(cfg.home)
    at_start = published_in(home, "audience_members", NIGHTS[0])
    at_start = at_start[at_start["audience"] == "win_back"]
    late = published_in(home, "audience_members", NIGHTS[-1])
    late = late[late["audience"] == "win_back"]
    segments_then = published_in(home, "customer_segments", NIGHTS[0]).set_index("customer_id")
    segments_now = published_in(home, "customer_segments", NIGHTS[-1]).set_index("customer_id")
    ids = at_start["customer_id"]
    # the test means something: members left the audience, or changed segment, since
    assert not set(ids) <= set(late["customer_id"])
    moved = segments_then.loc[ids, "segment_id"] != segments_now.reindex(ids)["segment_id"]
    assert moved.any()
    expected = at_start.assign(segment=segments_then.loc[ids, "segment_id"].to_numpy())
    statuses = []
    for night in NIGHTS[1:]:
        rows = results(cfg, night)
        rows = rows[rows["campaign"] == "win_back"]
        top = rows[rows["segment_id"].isna()].iloc[0]
        statuses.append(top["status"])
        assert (top["treated"], top["control"]) == (
            at_start["exported"].sum(),
            (~at_start["exported"]).sum(),
        )
        per_segment = rows.dropna(subset=["segment_id"]).set_index("segment_id")
        counts = expected.groupby("segment")["exported"].agg(["sum", "size"])
        assert per_segment["treated"].to_dict() == counts["sum"].to_dict()
        assert (per_segment["treated"] + per_segment["control"]).to_dict() == (
            counts["size"].to_dict()
        )
    assert statuses == ["running", "running", "running", "attributing"]
    top = whole(cfg, NIGHTS[-1], "win_back")
    assert top["cost"] == 100.0
    assert top["roi"] == pytest.approx((top["incremental_revenue"] - 100.0) / 100.0)


def test_a_rerun_replaces_exactly_its_night_and_a_failed_write_keeps_the_old(
    shop: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, _ = shop
    shutil.copytree(Path(cfg.home).parent, tmp_path / "copy")
    copy = load_config(tmp_path / "copy" / "config.yaml")
    exported = Path(copy.home) / "output" / "audiences"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in exported.rglob("*.csv")}
    pipeline.export_audiences(copy, NIGHTS[2])
    pipeline.measure_campaigns(copy, NIGHTS[2])
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in exported.rglob("*.csv")}
    assert after.keys() == before.keys()
    for path, (content, mtime) in before.items():
        assert after[path][0] == content  # same bytes
        rewritten = after[path][1] != mtime
        assert rewritten == (f"run_date={NIGHTS[2]}" in str(path))  # only that night's files

    # a crash while writing a file leaves the night's files as they were
    def broken(frame: pd.DataFrame, path: Path) -> None:
        path.write_text("customer_id\nhalf")
        raise OSError("disk full")

    monkeypatch.setattr(exports, "_write_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        pipeline.export_audiences(copy, NIGHTS[2])
    for path, (content, _) in before.items():
        assert path.read_bytes() == content
    assert not [p for p in exported.rglob("*") if p.name.startswith(".tmp")]


def test_plan_campaign_sizes_the_audience_and_its_baseline(
    shop: tuple, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, _ = shop
    home = Home(cfg.home)
    config = Path(cfg.home).parent / "config.yaml"
    args = ["plan-campaign", "--config", str(config), "--audience", "everyone"]
    assert cli.main([*args, "--mde", "0.5", "--attribution-days", "2"]) == 0
    plan = json.loads(capsys.readouterr().out)
    members = published_in(home, "audience_members", NIGHTS[-1])
    members = members[members["audience"] == "everyone"]
    assert (plan["night"], plan["treated"], plan["control"]) == (
        str(NIGHTS[-1]),
        members["exported"].sum(),
        (~members["exported"]).sum(),
    )
    # the baseline: the members of two nights before, buying in the two days since, by hand
    then = published_in(home, "audience_members", NIGHTS[2])
    then = then.loc[then["audience"] == "everyone", "customer_id"]
    events = pd.concat(pd.read_parquet(home.lake_file(night)) for night in NIGHTS[3:])
    bought = events[(events["event_type"] == "purchase") & (events["amount"] > 0)]
    bought = bought[bought["event_time"].dt.date >= NIGHTS[3]]
    assert plan["baseline_members_of"] == str(NIGHTS[2])
    expected = then.isin(bought["customer_id"]).mean()
    assert plan["baseline_conversion"] == pytest.approx(expected, abs=1e-6)  # printed to 6
    assert plan["detectable"] is True and plan["mde"] < 0.5
    assert plan["verdict"].startswith("yes")
    assert cli.main([*args, "--mde", "0.001"]) == 0
    small = json.loads(capsys.readouterr().out)
    assert small["detectable"] is False and small["treated_needed"] > small["treated"]
    assert small["verdict"].startswith("no:")
    assert cli.main([*args[:-1], "nobody", "--mde", "0.01"]) == 2
    assert "unknown audience 'nobody'" in capsys.readouterr().err


def test_an_export_column_the_customers_lack_is_named(shop: tuple, tmp_path: Path) -> None:
    cfg, _ = shop
    shutil.copytree(Path(cfg.home).parent, tmp_path / "copy")
    config = tmp_path / "copy" / "config.yaml"
    config.write_text(config.read_text().replace("- signup_date", "- email_sha256"))
    copy = load_config(config)
    with pytest.raises(BadInput, match=r"customers.csv has no column 'email_sha256'"):
        pipeline.export_audiences(copy, NIGHTS[-1])
    # nothing of the night was half-written: the files are still the first run's
    folder = Home(copy.home).audience_export("everyone", NIGHTS[-1])
    assert pd.read_csv(folder / exports.MEMBERS).columns.tolist() == [
        "customer_id",
        "signup_date",
    ]


def test_an_audience_back_in_the_config_changes_from_its_own_last_night(
    shop: tuple, tmp_path: Path
) -> None:
    cfg, _ = shop
    shutil.copytree(Path(cfg.home).parent, tmp_path / "copy")
    config = tmp_path / "copy" / "config.yaml"
    text = config.read_text()
    assert "  vip:\n" in text
    # the night of NIGHTS[3] runs without the vip audience, NIGHTS[4] with it again
    config.write_text(text.replace("  vip:\n", "  vip_later:\n"))
    pipeline.export_audiences(load_config(config), NIGHTS[3])
    # as if that night had never had it: the copy still holds its files of the first run
    shutil.rmtree(Home(load_config(config).home).audience_export("vip", NIGHTS[3]))
    config.write_text(text)
    copy = load_config(config)
    pipeline.export_audiences(copy, NIGHTS[4])
    home = Home(copy.home)
    before = pd.read_csv(home.audience_export("vip", NIGHTS[2]) / exports.MEMBERS, dtype=str)
    folder = home.audience_export("vip", NIGHTS[4])
    members = pd.read_csv(folder / exports.MEMBERS, dtype=str)
    changes = pd.read_csv(folder / exports.CHANGES, dtype=str)
    entered = set(changes.loc[changes["change"] == "entered", "customer_id"])
    left = set(changes.loc[changes["change"] == "left", "customer_id"])
    assert (set(before["customer_id"]) | entered) - left == set(members["customer_id"])
    assert len(entered) < len(members)  # not everyone enters again
