"""Late and re-sent events over five nights of a folder source: never lost, never counted twice.

Files are dropped into the folder night by night, as an exporter delivers them. The expected
counts and features are worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from segmentation.config import Config
from segmentation.features import activity
from segmentation.io import lake
from segmentation.layout import EVENT_KEY, Home
from segmentation.pipeline.extract import extract_events, validate_events
from segmentation.pipeline.features import build_features
from tests.conftest import folder_config, night_counts

pytestmark = pytest.mark.integration

D1 = dt.date(2024, 5, 1)
HEADER = "event_id,customer_id,event_time,event_type,amount\n"


def day(n: int) -> dt.date:
    return D1 + dt.timedelta(days=n - 1)


def at(n: int, hour: int) -> str:
    return f"{day(n).isoformat()}T{hour:02d}:00:00Z"


DAY1 = f"e1,a,{at(1, 9)},purchase,10\ne2,b,{at(1, 10)},view,0\ne3,a,{at(1, 11)},purchase,5\n"
# what the exporter delivers before each night: file name -> rows
DELIVERIES: dict[int, dict[str, str]] = {
    1: {"day1.csv": DAY1},
    # a copy of day 1's file, sent again: its 3 rows are duplicates
    2: {"day2.csv": f"e4,b,{at(2, 9)},purchase,7\n", "day1-again.csv": DAY1},
    # a late file: e5 is 2 days late (the most late_days 2 allows), e6 one day late
    3: {
        "day3.csv": f"e7,c,{at(3, 9)},view,0\n",
        "late.csv": f"e5,c,{at(1, 15)},purchase,4\ne6,a,{at(2, 15)},purchase,2\n",
    },
    # e9 is 3 days late: quarantined (max_bad_rows 1 lets the night pass)
    4: {
        "day4.csv": f"e8,d,{at(4, 9)},purchase,3\n",
        "stale.csv": f"e9,d,{at(1, 16)},purchase,99\n",
    },
    # nothing new but day 5's row: every file above is read again and counted by no one
    5: {"day5.csv": f"e10,b,{at(5, 9)},view,0\n"},
}


def deliver(folder: Path, night: int) -> None:
    for name, rows in DELIVERIES[night].items():
        (folder / name).write_text(HEADER + rows)


def run_night(cfg: Config, night: dt.date) -> dict[str, int]:
    extract_events(cfg, night)
    validate_events(cfg, night)
    build_features(cfg, night)
    keys = ("rows_read", "rows_valid", "rows_quarantined", "rows_duplicate", "rows_late")
    return night_counts(cfg, night, keys)


@pytest.fixture
def five_nights(tmp_path: Path) -> tuple[Config, dict[int, dict[str, int]]]:
    landing = tmp_path / "landing"
    landing.mkdir()
    cfg = folder_config(tmp_path, landing, events={"late_days": 2}, validation={"max_bad_rows": 1})
    counts = {}
    for night in DELIVERIES:
        deliver(landing, night)
        counts[night] = run_night(cfg, day(night))
    return cfg, counts


def test_each_row_is_counted_by_one_night_and_the_nights_add_up_to_the_source(
    five_nights: tuple[Config, dict[int, dict[str, int]]],
) -> None:
    _, counts = five_nights
    # read, valid, quarantined, duplicate, late
    assert [tuple(c.values()) for c in counts.values()] == [
        (3, 3, 0, 0, 0),
        (4, 1, 0, 3, 0),
        (3, 3, 0, 0, 2),
        (2, 1, 1, 0, 0),
        (1, 1, 0, 0, 0),
    ]
    for c in counts.values():
        assert c["rows_read"] == c["rows_valid"] + c["rows_quarantined"] + c["rows_duplicate"]
    source_rows = sum(rows.count("\n") for files in DELIVERIES.values() for rows in files.values())
    assert sum(c["rows_read"] for c in counts.values()) == source_rows == 13


def test_late_rows_are_in_the_night_that_took_them_and_in_later_features(
    five_nights: tuple[Config, dict[int, dict[str, int]]],
) -> None:
    cfg, _ = five_nights
    home = Home(cfg.home)
    night3 = lake.read_partition(home.lake, EVENT_KEY, day(3))
    assert sorted(night3["event_id"]) == ["e5", "e6", "e7"]
    assert set(night3["ingested_date"]) == {day(3)}
    # night 2 did not know e6 yet (it arrived on night 3): its features say so
    night2 = pd.read_parquet(home.features_file(day(2))).set_index("customer_id")
    assert night2.loc["a", ["frequency", "monetary"]].tolist() == [2, 15.0]
    assert "c" not in night2.index
    # from night 3 on, the late orders count: a 10 + 5 + 2, c 4; d's 99 was held back
    night5 = pd.read_parquet(home.features_file(day(5))).set_index("customer_id")
    assert night5.loc["a", ["frequency", "monetary"]].tolist() == [3, 17.0]
    assert night5.loc["c", ["frequency", "monetary"]].tolist() == [1, 4.0]
    assert night5.loc["d", ["frequency", "monetary"]].tolist() == [1, 3.0]
    held = pd.read_parquet(home.quarantined_rows(day(4)))
    assert held["event_id"].tolist() == ["e9"]
    assert held["reasons"].tolist() == ["arrived more than events.late_days (2) days after its day"]
    dropped = pd.read_parquet(home.duplicates_file(day(2)))
    assert sorted(dropped["event_id"]) == ["e1", "e2", "e3"]


def test_rolled_state_equals_a_rebuild_after_late_rows(
    five_nights: tuple[Config, dict[int, dict[str, int]]],
) -> None:
    cfg, _ = five_nights
    home = Home(cfg.home)
    files = lake.partition_files(home.lake, EVENT_KEY, upto=day(5))
    rebuilt = activity.full_state(files, day(5), cfg)
    pd.testing.assert_frame_equal(pd.read_parquet(home.state_file(day(5))), rebuilt)


def test_rerunning_an_old_night_and_the_late_night_gives_the_same_bytes(
    five_nights: tuple[Config, dict[int, dict[str, int]]],
) -> None:
    cfg, counts = five_nights
    home = Path(cfg.home)

    def taken_in() -> dict[str, bytes]:
        # what the nights took in, and their features; the state's metadata names the lake
        # files' modification times, and GX stamps its load time, so those are left out
        found = {
            str(p.relative_to(home)): p.read_bytes()
            for area in ("lake", "quarantine", "duplicates", "features")
            for p in (home / area).rglob("*")
            if p.is_file()
        }
        for p in (home / "validation").rglob("*.json"):
            record = json.loads(p.read_text())
            record.pop("gx_result")
            found[str(p.relative_to(home))] = json.dumps(record).encode()
        return found

    before = taken_in()
    for night in (1, 3):
        assert run_night(cfg, day(night)) == counts[night]
    after = taken_in()
    assert sorted(after) == sorted(before)
    assert [name for name in before if before[name] != after[name]] == []


# ---------------------------------------------------------------- cases found in review


def small_home(tmp_path: Path, pattern: str) -> tuple[Config, Path]:
    landing = tmp_path / "landing"
    landing.mkdir()
    return folder_config(tmp_path, landing, pattern, events={"late_days": 2}), landing


def intake_only(cfg: Config, night: dt.date) -> dict[str, int]:
    extract_events(cfg, night)
    validate_events(cfg, night)
    return night_counts(cfg, night, ("rows_read", "rows_valid", "rows_duplicate", "rows_late"))


def test_a_copy_resent_in_a_later_days_file_is_counted_once(tmp_path: Path) -> None:
    """A {ds} night reads only its own file and its neighbours: the re-sent e1 in file 3 is
    known as a new row (another file) of an event already in the lake, so a duplicate."""
    cfg, landing = small_home(tmp_path, "{ds}.csv")
    files = {1: f"e1,a,{at(1, 9)},purchase,10\n", 2: f"e2,b,{at(2, 9)},purchase,7\n"}
    files[3] = f"e3,c,{at(3, 9)},purchase,3\ne1,a,{at(1, 9)},purchase,10\n"
    counts = []
    for n, rows in files.items():
        (landing / f"{day(n).isoformat()}.csv").write_text(HEADER + rows)
        counts.append(intake_only(cfg, day(n)))
    # read, valid, duplicate, late: night 3 counts the copy; the nights add up to the 4 rows
    assert [tuple(c.values()) for c in counts] == [(1, 1, 0, 0), (1, 1, 0, 0), (2, 1, 1, 0)]


def test_a_night_that_never_ran_keeps_its_rows_for_its_own_night(tmp_path: Path) -> None:
    """Night 2 did not run: later nights (beyond late_days too) leave its rows alone, and
    running it later takes them in."""
    cfg, landing = small_home(tmp_path, "")
    for n in range(1, 6):
        (landing / f"d{n}.csv").write_text(HEADER + f"e{n},a,{at(n, 9)},purchase,1\n")
    for n in (1, 3, 4, 5):
        assert intake_only(cfg, day(n)) == {
            "rows_read": 1,
            "rows_valid": 1,
            "rows_duplicate": 0,
            "rows_late": 0,
        }
    assert intake_only(cfg, day(2))["rows_valid"] == 1
    lake_ids = lake.read_partition(Home(cfg.home).lake, EVENT_KEY, day(2))["event_id"]
    assert lake_ids.tolist() == ["e2"]


def test_a_night_validated_after_a_later_night_ran_adds_no_row_twice(tmp_path: Path) -> None:
    """Night 2 was staged but its validation ran only after night 3: night 3 left night 2's
    staged late row L1 to it, so L1 is in the lake once."""
    cfg, landing = small_home(tmp_path, "")
    (landing / "d1.csv").write_text(HEADER + f"e1,a,{at(1, 9)},purchase,10\n")
    intake_only(cfg, day(1))
    (landing / "d2.csv").write_text(
        HEADER + f"e2,b,{at(2, 9)},purchase,7\nL1,c,{at(1, 20)},purchase,4\n"
    )
    extract_events(cfg, day(2))  # its validate task failed, and is retried after night 3
    (landing / "d3.csv").write_text(HEADER + f"e3,c,{at(3, 9)},purchase,3\n")
    assert intake_only(cfg, day(3))["rows_read"] == 1
    validate_events(cfg, day(2))
    home = Home(cfg.home)
    taken = [
        sorted(lake.read_partition(home.lake, EVENT_KEY, day(n))["event_id"]) for n in (1, 2, 3)
    ]
    assert taken == [["e1"], ["L1", "e2"], ["e3"]]
