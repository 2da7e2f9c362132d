"""A shop's messy export over twelve nights: order lines, returns, bad rows, a short row,
late events and a re-sent file, every row accounted for and the features right.

The generator writes the log (``segmentation generate --order-lines --refund-rate 0.1
--late-share 0.02 --late-by 5 --resend 1``); the test takes 0.05% of the rows' customer away
and cuts one row short, drops each day's file into the source folder before its night (as an
exporter delivers them), and runs the real nights. What each night must count, and every
customer's frequency and monetary, are worked out from the files with plain pandas.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation import pipeline
from segmentation.cli import main
from segmentation.config import Config
from segmentation.layout import Home
from tests.conftest import folder_config, night_counts

pytestmark = pytest.mark.integration

START, DAYS = dt.date(2025, 3, 1), 12
NIGHTS = [START + dt.timedelta(days=i) for i in range(DAYS)]
SHORT_DAY = START + dt.timedelta(days=7)  # its file gets one row cut short
COUNTS = ("rows_read", "rows_valid", "rows_quarantined", "rows_duplicate", "rows_late")


def generate(out: Path) -> dict[dt.date, Path]:
    args = ["generate", "--out", str(out), "--customers", "1000", "--start", START.isoformat()]
    args += ["--days", str(DAYS), "--seed", "5", "--order-lines", "--refund-rate", "0.1"]
    args += ["--late-share", "0.02", "--late-by", "5", "--resend", "1"]
    assert main(args) == 0
    return {day: out / "events" / f"{day.isoformat()}.csv" for day in NIGHTS}


def break_rows(files: dict[dt.date, Path]) -> None:
    """0.05% of the rows (at least two) lose their customer, and one row of SHORT_DAY's file
    loses its last field; only rows sent once, on their own day, so the expectations below
    stay simple to state."""
    frames = {
        day: pd.read_csv(path, dtype=str, keep_default_na=False) for day, path in files.items()
    }
    ids = pd.concat(frames.values())["event_id"]
    once = set(ids[~ids.duplicated(keep=False)])
    rng = np.random.default_rng(3)
    total = sum(len(f) for f in frames.values())
    for n, day in enumerate(rng.choice(NIGHTS[1:], size=max(2, round(total * 0.0005)))):
        frame = frames[day]
        own = frame["event_time"].str[:10] == day.isoformat()
        candidates = np.flatnonzero(
            own & frame["event_id"].isin(once) & frame["customer_id"].ne("")
        )
        frame.loc[frame.index[candidates[n]], "customer_id"] = ""
    for day, frame in frames.items():
        frame.to_csv(files[day], index=False)
    lines = files[SHORT_DAY].read_text().splitlines()
    lines[10] = lines[10].rsplit(",", 1)[0]
    files[SHORT_DAY].write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, dict[dt.date, Path], dict]:
    folder = tmp_path_factory.mktemp("shop")
    files = generate(folder / "export")
    break_rows(files)
    landing = folder / "landing"
    landing.mkdir()
    cfg = folder_config(folder, landing, validation={"max_bad_rows": 3})
    records = {}
    for day in NIGHTS:
        (landing / files[day].name).write_bytes(files[day].read_bytes())
        pipeline.run(cfg, day)
        records[day] = night_counts(cfg, day, COUNTS)
    return cfg, files, records


def source_rows(files: dict[dt.date, Path]) -> pd.DataFrame:
    """Every data row of every file, with its file's day, in delivery order."""
    frames = []
    for day, path in files.items():
        lines = path.read_text().splitlines()
        header = lines[0].split(",")
        cells = [line.split(",") for line in lines[1:]]
        frame = pd.DataFrame([dict(zip(header, c, strict=False)) for c in cells])
        frame["short"] = [len(c) != len(header) for c in cells]
        frames.append(frame.assign(file_day=day))
    return pd.concat(frames, ignore_index=True)


def test_every_night_counts_its_rows_and_the_nights_add_up_to_the_export(nights) -> None:
    _, files, records = nights
    rows = source_rows(files)
    day = pd.to_datetime(rows["event_time"]).dt.date
    resent = rows["event_id"].duplicated()  # a later copy of an event already delivered
    bad = (rows["customer_id"] == "") | rows["short"]
    late = (day < rows["file_day"]) & ~resent
    for night, counts in records.items():
        mine = rows["file_day"] == night
        assert counts["rows_read"] == mine.sum()
        assert counts["rows_read"] == (
            counts["rows_valid"] + counts["rows_quarantined"] + counts["rows_duplicate"]
        )
        assert counts["rows_duplicate"] == (mine & resent).sum()
        assert counts["rows_quarantined"] == (mine & bad).sum()
        assert counts["rows_late"] == (mine & late & ~bad).sum()
    total = {k: sum(c[k] for c in records.values()) for k in COUNTS}
    assert total["rows_read"] == len(rows)
    # the export has each kind of row this test is about
    assert total["rows_duplicate"] > 100 and total["rows_late"] > 20
    assert total["rows_quarantined"] == bad.sum() >= 3


def test_frequency_and_monetary_equal_a_pandas_computation_over_the_clean_rows(nights) -> None:
    cfg, files, _ = nights
    rows = source_rows(files)
    clean = rows[(rows["customer_id"] != "") & ~rows["short"]].drop_duplicates("event_id")
    amount = clean["amount"].astype(float)
    quantity = clean["quantity"].replace("", "1").astype(float)
    purchase = clean["event_type"] == "purchase"
    refund = (clean["event_type"] == "refund") | (purchase & ((amount < 0) | (quantity < 0)))
    bought = clean[purchase & ~refund]
    orders = (
        bought.assign(day=bought["event_time"].str[:10])
        .groupby("customer_id")[["order_id", "day"]]
        .apply(lambda f: len(f.drop_duplicates()))
    )
    spent = amount[purchase & ~refund].groupby(clean["customer_id"]).sum()
    returned = amount[refund].abs().groupby(clean["customer_id"]).sum()
    expected = pd.DataFrame({"frequency": orders, "spent": spent, "returned": returned})
    expected = expected.reindex(clean["customer_id"].unique()).fillna(0)
    expected["monetary"] = (expected["spent"] - expected["returned"]).clip(lower=0)
    features = pd.read_parquet(Home(cfg.home).features_file(NIGHTS[-1])).set_index("customer_id")
    got = features.loc[expected.index, ["frequency", "monetary"]]
    assert (got["frequency"].to_numpy() == expected["frequency"].to_numpy()).all()
    np.testing.assert_allclose(got["monetary"], expected["monetary"], atol=1e-6)
    assert len(features) == len(expected)
    assert (expected["returned"] > 0).sum() > 10  # returns were there to subtract
