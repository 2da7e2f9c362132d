"""The audiences and campaigns sections: the file's shapes, and every mistake named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from segmentation.config import load_config, parse_config
from segmentation.config_campaigns import all_campaigns
from segmentation.errors import ConfigError

pytestmark = pytest.mark.unit

WIN_BACK = {
    "segments": [3, "At risk"],
    "rfm_segments": ["Can't Lose Them"],
    "churn_risk": ["high"],
    "min_predicted_clv_365d": 100,
}


def test_the_issue_example_parses_with_export_columns_beside_the_audiences() -> None:
    cfg = parse_config(
        {
            "audiences": {"export_columns": ["email_sha256"], "win_back": WIN_BACK},
            "control": {"global_share": 0.05},
            "campaigns": [
                {
                    "id": "spring",
                    "audience": "win_back",
                    "start": dt.date(2025, 3, 1),
                    "end": "2025-03-07",
                    "min_amount": 20,
                    "cost": 500,
                },
            ],
        },
        Path("."),
    )
    spec = cfg.audiences.defined["win_back"]
    assert cfg.audiences.export_columns == ("email_sha256",)
    assert spec.segments == (3, "At risk") and spec.churn_risk == ("high",)
    assert spec.min_predicted_clv_365d == 100.0 and spec.include_control is False
    assert cfg.control.global_share == 0.05
    (c,) = cfg.campaigns.list
    assert (c.start, c.end) == (dt.date(2025, 3, 1), dt.date(2025, 3, 7))
    assert (c.goal, c.min_amount, c.attribution_days, c.cost) == ("purchase", 20.0, 7, 500.0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"audiences": {"win back": {}}}, "letters, digits"),
        ({"audiences": {"a": {"churn_risk": ["very high"]}}}, "unknown risk 'very high'"),
        ({"audiences": {"a": {"segments": [1.5]}}}, "neither a segment id nor a segment name"),
        ({"audiences": {"a": {"segment": [1]}}}, "did you mean 'segments'"),
        (
            {"predictions": {"enabled": False}, "audiences": {"a": {"churn_risk": ["high"]}}},
            "predictions.enabled: true",
        ),
        (
            {"predictions": {"horizon_days": [30]}, "audiences": {"a": WIN_BACK}},
            "365 in predictions.horizon_days",
        ),
        ({"control": {"global_share": 1.0}}, "control.global_share must be a fraction"),
        (
            {
                "campaigns": [
                    {"id": "x", "audience": "nobody", "start": "2025-01-01", "end": "2025-01-02"}
                ]
            },
            "unknown audience 'nobody'",
        ),
        (
            {
                "campaigns": [
                    {"id": "x", "segments": [1], "start": "2025-01-05", "end": "2025-01-02"}
                ]
            },
            "end 2025-01-02 is before start 2025-01-05",
        ),
        (
            {"campaigns": [{"id": "x", "segments": [1], "start": "2025-01-05"}]},
            "missing key(s) end",
        ),
        (
            {"campaigns": [{"id": "x", "start": "2025-01-01", "end": "2025-01-02"}]},
            "either an audience or segments",
        ),
        (
            {"campaigns": [{"id": "x", "segments": [1], "start": "5 Jan", "end": "2025-01-02"}]},
            "expected a date as YYYY-MM-DD, got '5 Jan'",
        ),
        (
            {
                "campaigns": [
                    {"id": "x", "segments": [1], "start": "2025-01-01", "end": "2025-01-02"},
                    {"id": "x", "segments": [2], "start": "2025-01-01", "end": "2025-01-02"},
                ]
            },
            "the id is used twice",
        ),
    ],
)
def test_mistakes_are_named(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_config(raw, Path("."))


def test_a_campaigns_file_is_read_every_night_beside_the_listed_ones(tmp_path: Path) -> None:
    (tmp_path / "campaigns.csv").write_text(
        "id,segments,start,end,min_amount,attribution_days,cost\n"
        "sale,3;At risk,2025-05-01,2025-05-03,,0,120.5\n"
    )
    (tmp_path / "c.yaml").write_text(
        "campaigns:\n  path: campaigns.csv\n  list:\n"
        "    - {id: mail, segments: [1], start: 2025-04-01, end: 2025-04-02}\n"
    )
    cfg = load_config(tmp_path / "c.yaml")
    assert cfg.campaigns.path == tmp_path / "campaigns.csv"
    listed, read = all_campaigns(cfg.campaigns, cfg.audiences)
    assert listed.id == "mail"
    assert (read.id, read.segments, read.start, read.end) == (
        "sale",
        (3, "At risk"),
        dt.date(2025, 5, 1),
        dt.date(2025, 5, 3),
    )
    assert (read.min_amount, read.attribution_days, read.cost) == (None, 0, 120.5)
    # a mistake in the file names the file and the line
    (tmp_path / "campaigns.csv").write_text(
        "id,segments,start,end\nok,1,2025-05-01,2025-05-02\nbad,1,2025-05-01,someday\n"
    )
    with pytest.raises(ConfigError, match=r"campaigns.csv: line 3: end: expected a date"):
        all_campaigns(cfg.campaigns, cfg.audiences)
    for cell, message in (
        ("nan", "min_amount: expected a number, got 'nan'"),
        ("-5", "min_amount must be a number, 0 or more"),
    ):
        (tmp_path / "campaigns.csv").write_text(
            f"id,segments,start,end,min_amount\nx,1,2025-05-01,2025-05-02,{cell}\n"
        )
        with pytest.raises(ConfigError, match=message):
            all_campaigns(cfg.campaigns, cfg.audiences)
    (tmp_path / "campaigns.csv").write_text(
        "id,segments,start,end,attribution_days\nx,1,2025-05-01,2025-05-02,2.9\n"
    )
    with pytest.raises(ConfigError, match="line 2, attribution_days: expected a whole number"):
        all_campaigns(cfg.campaigns, cfg.audiences)
    (tmp_path / "campaigns.csv").unlink()
    with pytest.raises(ConfigError, match=r"campaigns.path .* does not exist"):
        all_campaigns(cfg.campaigns, cfg.audiences)
