"""Small groups are not published: the demo's shop with ``privacy.min_group_size: 50``.

What is planted: the golden demo's shop (``tests.integration.test_golden``: 300 generated
customers, seed 42, ``examples/demo.yaml``) run for its three nights, plus a campaign on
every segment from the second night and association rules of 2 baskets or more. Its last
night has four segments, two of them under 50 customers (their sizes are counted here from
``customer_segments``, which publishes every customer's segment). No profile, segment rule,
association rule, migration, drift or campaign row, and no part of the report, shows those
two segments' figures; their rows are there, keyed, and say why they are suppressed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from segmentation.config import Config, load_config
from segmentation.layout import Home
from tests.conftest import published_in, section_html, view_client
from tests.integration.test_golden import NIGHTS, ROOT, demo_shop

pytestmark = pytest.mark.integration

N = 50
WHY = f"fewer than {N} customers (privacy.min_group_size)"
LAST = NIGHTS[-1]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Config:
    raw = yaml.safe_load((ROOT / "examples" / "demo.yaml").read_text())
    rules = {**raw["recommendations"], "rules": {"min_count": 2, "min_support": 0.001}}
    campaign = {
        "id": "everyone",
        "segments": [0, 1, 2, 3],
        "start": str(NIGHTS[1]),
        "end": str(LAST),
    }
    config = demo_shop(
        tmp_path_factory.mktemp("suppressed"),
        privacy={"min_group_size": N},
        recommendations=rules,
        campaigns=[campaign],
    )
    return load_config(config)


def sizes(cfg: Config) -> pd.Series:
    segments = published_in(Home(cfg.home), "customer_segments", LAST)
    return segments["segment_id"].value_counts().sort_index()


def small(cfg: Config) -> list[int]:
    return [int(s) for s, n in sizes(cfg).items() if n < N]


def test_the_planted_shop_has_small_and_large_segments(shop: Config) -> None:
    assert sizes(shop).tolist() == [27, 51, 28, 75]  # segment ids 0 to 3
    assert small(shop) == [0, 2]


def test_profiles_and_rules_of_small_segments_keep_their_names_and_nothing_else(
    shop: Config,
) -> None:
    home = Home(shop.home)
    profiles = published_in(home, "segment_profiles", LAST).set_index("segment_id")
    assert profiles["suppressed"].tolist() == [True, False, True, False]
    assert profiles["suppression_reason"].tolist()[::2] == [WHY, WHY]
    assert profiles["customers"].tolist()[1::2] == [51, 75]
    kept = {"segment_name", "model_version", "suppressed", "suppression_reason"}
    for sid in (0, 2):
        row = profiles.loc[sid]
        assert row["segment_name"] and row["model_version"]
        assert row.drop(list(kept)).isna().all(), row.drop(list(kept)).dropna()
    rules = published_in(home, "segment_rules", LAST)
    mine = rules["segment_id"].isin([0, 2])
    assert len(rules[mine]) > 0 and rules.loc[mine, "suppressed"].all()
    assert rules.loc[mine, ["rule", "customers", "coverage", "precision"]].isna().all().all()
    assert not rules.loc[~mine, "suppressed"].any() and rules.loc[~mine, "rule"].notna().all()


def test_moves_drift_and_campaign_rows_of_small_segments_are_suppressed(shop: Config) -> None:
    home = Home(shop.home)
    moves = published_in(home, "segment_migrations", LAST)
    touches = moves["to_segment_id"].isin([0, 2]) | moves["from_segment_id"].isin([0, 2])
    assert touches.any() and moves.loc[touches, "suppressed"].all()
    assert moves.loc[touches, "customers"].isna().all()
    drift = published_in(home, "drift_metrics", LAST)
    segment = drift["scope"] == "segment"
    theirs = segment & drift["name"].isin(["0", "2"])
    assert theirs.any() and drift.loc[theirs, "value"].isna().all()
    assert drift.loc[theirs, "suppressed"].all()
    assert (
        drift.loc[~segment, "value"].notna().any() and not drift.loc[~segment, "suppressed"].any()
    )
    # the migration rate is the true one, counted here from the two nights' customers
    before = published_in(home, "customer_segments", NIGHTS[1])[["customer_id", "segment_id"]]
    after = published_in(home, "customer_segments", LAST)[["customer_id", "segment_id"]]
    both = before.merge(after, on="customer_id", suffixes=("_before", "_after"))
    rate = (both["segment_id_before"] != both["segment_id_after"]).mean()
    run = drift[(drift["scope"] == "run") & (drift["metric"] == "migration_rate")]
    assert run["value"].iloc[0] == pytest.approx(rate)
    results = published_in(home, "campaign_results", LAST)
    small_rows = results["segment_id"].isin([0, 2])
    assert small_rows.sum() == 2 and results.loc[small_rows, "suppressed"].all()
    figures = ["treated", "control", "treated_converters", "conversion_uplift", "revenue_uplift"]
    assert results.loc[small_rows, figures].isna().all().all()
    assert results.loc[small_rows, "campaign"].tolist() == ["everyone", "everyone"]


def test_the_report_shows_small_segments_by_name_and_never_their_figures(shop: Config) -> None:
    home = Home(shop.home)
    page = home.report(LAST).read_text()
    profiles = published_in(home, "segment_profiles", LAST).set_index("segment_id")
    counts = sizes(shop)
    hidden = f"fewer than {N} customers: not shown"
    for sid in (0, 2):
        name = profiles.loc[sid, "segment_name"]
        label = f"{name} ({sid})"
        # its share of the customers, as the report writes shares, is nowhere
        assert f"{counts[sid] / counts.sum() * 100:.1f}%" not in page
        segments = section_html(page, "segments")
        card = re.search(rf"<h3>{re.escape(name)}</h3><dl>(.*?)</dl>", segments)
        assert card is not None and hidden in card.group(1)
        assert set(re.findall(r"\d+", re.sub("<[^>]+>", " ", card.group(1)))) == {str(sid), str(N)}
        assert label not in segments  # no bar in the sizes chart
        for sid_section in ("predictions", "recommendations"):
            assert label not in section_html(page, sid_section), sid_section
        # its column of the profiles table: nothing but "not available" and why
        table = section_html(page, "profiles")
        header = re.findall(r'<th scope="col">(.*?)</th>', table)
        column = header.index(label.replace("_", "_<wbr>"))
        for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", table):
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
            assert cells[column - 1] in ("not available", hidden), (row, cells[column - 1])
    campaigns = section_html(page, "campaigns")
    assert campaigns.count(hidden) >= 2


def test_the_view_says_small_segments_are_not_shown(
    shop: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Path(shop.home).parent / "demo.yaml"
    monkeypatch.setenv("SEGMENTATION_CONFIG", str(config))
    client = view_client(monkeypatch)
    hidden = f"fewer than {N} customers: not shown"
    campaigns = client.get("/campaigns")
    assert campaigns.status_code == 200 and campaigns.text.count(hidden) == 5  # every row


def test_status_names_small_segments_without_their_size(shop: Config) -> None:
    from segmentation import pipeline

    said = pipeline.status(shop)["segments"]
    names = published_in(Home(shop.home), "segment_profiles", LAST)["segment_name"]
    assert said[0] == f"segment 0 ({names[0]}): suppressed, {WHY}"
    assert said[2] == f"segment 2 ({names[2]}): suppressed, {WHY}"
    assert said[1].startswith("segment 1, 51 customers. ")
