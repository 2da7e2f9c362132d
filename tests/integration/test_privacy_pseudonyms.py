"""``privacy.pseudonymize``: every published file, export, report, view page and warehouse
table carries ``customer_key`` and no raw id; the keys are stable across nights and change
with the key, and a new key keeps the nights' continuity (migrations, history)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from pathlib import Path

import pandas as pd
import pytest

from segmentation import pipeline
from segmentation.config import load_config
from segmentation.layout import Home
from tests.conftest import LAST, copy_history, postgres, published_in, view_client, write_config
from tests.scan import traces, warehouse_traces

pytestmark = pytest.mark.integration

NIGHTS = (LAST - dt.timedelta(days=1), LAST)


def hmac_hex(key: str, customer: str) -> str:
    return hmac.new(key.encode(), customer.encode(), hashlib.sha256).hexdigest()


def test_pseudonymous_outputs_hold_no_raw_id_and_keys_follow_the_key(
    tmp_path: Path,
    published_home: Path,
    two_nights_home: Path,
    landing: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, conn = postgres()
    conn.close()
    schema = f"seg_pseudo_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("SEGMENTATION_WAREHOUSE_URL", url)
    monkeypatch.setenv("SEGMENTATION_PSEUDONYM_KEY", "first-key")
    config = write_config(
        tmp_path,
        landing,
        warehouse={"schema": schema},
        privacy={"pseudonymize": True, "erasure_list": str(tmp_path / "forgotten.txt")},
        audiences={"everyone": {}},
    )
    cfg = load_config(config)
    home = Home(cfg.home)
    copy_history(published_home, cfg.home, NIGHTS[0] - dt.timedelta(days=1))
    try:
        for night in NIGHTS:
            pipeline.run(cfg, night)
        raw = set(pd.concat(pd.read_csv(f, dtype=str) for f in (landing / "events").glob("*.csv"))
                  ["customer_id"])  # fmt: skip
        assert traces(home.output, raw) == []  # tables, current, history, CSVs, reports
        found, tables = warehouse_traces(url, schema, raw)
        assert found == [] and tables >= 20
        assert len(traces(home.lake, raw)) > 0  # the lake keeps raw ids, for the data team

        # the aggregates are those of the same nights published with raw ids: the steps that
        # read pseudonymous tables back see the customers as before (ids, in id order)
        plain = Home(two_nights_home / "home")
        for table in (
            "segment_profiles",
            "segment_migrations",
            "drift_metrics",
            "campaign_results",
        ):
            pd.testing.assert_frame_equal(
                published_in(home, table, LAST), published_in(plain, table, LAST)
            )

        # each customer's key is HMAC-SHA256(key, id), the same on both nights
        first, second = (published_in(home, "customer_segments", n) for n in NIGHTS)
        assert "customer_id" not in first.columns
        ids = sorted(raw)
        by_hand = {hmac_hex("first-key", c): c for c in ids}
        assert set(first["customer_key"]) <= by_hand.keys()
        assert set(second["customer_key"]) <= by_hand.keys()
        assert len(set(first["customer_key"]) & set(second["customer_key"])) == len(first)
        # in key order: the rows' order gives no id away
        assert list(second["customer_key"]) == sorted(second["customer_key"])
        members = pd.read_csv(home.audience_export("everyone", LAST) / "members.csv")
        assert list(members.columns) == ["customer_key"]
        assert set(members["customer_key"]) <= by_hand.keys()
        assert list(members["customer_key"]) == sorted(members["customer_key"])

        # the view's pages show keys, never ids
        monkeypatch.setenv("SEGMENTATION_CONFIG", str(config))
        client = view_client(monkeypatch)
        for page in ("/segments", "/predictions", "/recommendations", "/campaigns"):
            html = client.get(page).text
            assert not any(c in html for c in ids), page
        assert next(iter(second["customer_key"])) in client.get("/segments").text

        # a new key: the rerun publishes new keys, continuing from last night's segments
        monkeypatch.setenv("SEGMENTATION_PSEUDONYM_KEY", "second-key")
        pipeline.run(cfg, LAST)
        rekeyed = published_in(home, "customer_segments", LAST)
        tonight = [by_hand[k] for k in second["customer_key"]]
        assert set(rekeyed["customer_key"]) == {hmac_hex("second-key", c) for c in tonight}
        migrations = published_in(home, "segment_migrations", LAST)
        assert migrations["from_segment_id"].notna().sum() > 0  # not everyone looks new
        history = pd.read_parquet(home.current_table("segment_history"))
        assert set(history["customer_key"]) <= {hmac_hex("second-key", c) for c in ids}
        assert traces(home.output, raw) == []

        # forget reaches the pseudonyms under both keys, and the map's rows
        gone = [by_hand[k] for k in sorted(second["customer_key"])[:2]]
        pipeline.forget(cfg, gone, dt.datetime(2024, 2, 10, tzinfo=dt.UTC))
        needles = gone + [hmac_hex(k, c) for c in gone for k in ("first-key", "second-key")]
        assert traces(home.root, needles) == []
        assert warehouse_traces(url, schema, needles)[0] == []
    finally:
        _, conn = postgres()
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.close()
