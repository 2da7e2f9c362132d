"""Bad input: one clear message (exit 2, no traceback) and nothing already published is lost."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from segmentation.cli import main
from segmentation.layout import Home
from tests.conftest import LAST, snapshot

pytestmark = pytest.mark.bad_input

DAY = LAST  # the night after the one already published in the `published` fixture


def configure(folder: Path, **source: object) -> Path:
    path = folder / "config.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["source"].update(source)
    path.write_text(yaml.safe_dump(raw))
    return path


def run_cli(folder: Path, capsys: pytest.CaptureFixture[str], day: dt.date = DAY) -> str:
    before = snapshot(folder / "home")
    code = main(["run", "--config", str(folder / "config.yaml"), "--date", day.isoformat()])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 12, err
    assert snapshot(folder / "home") == before, "a failed run changed published tables"
    return err


def landing_copy(folder: Path, landing: Path) -> Path:
    copy = folder / "landing"
    shutil.copytree(landing / "events", copy)
    return copy


def edit_day(folder: Path, landing: Path, edits: dict[tuple[int, str], str]) -> None:
    """Point the config at a copy of the landing files with cells of DAY's file changed.

    ``edits`` maps (line number, column name) to the new text; line 0 is the header.
    """
    copy = landing_copy(folder, landing)
    path = copy / f"{DAY}.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    for (line, column), value in edits.items():
        cells = lines[line].split(",")
        cells[header.index(column)] = value
        lines[line] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    configure(folder, path=str(copy / "{ds}.csv"))


def test_mapped_column_missing_from_the_file(
    published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(published, columns={"customer_id": "cust_no"})
    err = run_cli(published, capsys)
    assert "no column 'cust_no'" in err
    assert "source.columns.customer_id" in err
    assert f"{DAY}.csv" in err


def test_unparseable_event_time(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # one unreadable time among readable ones is a bad row quoting it (the day has too few
    # rows to pass with it); a column of them is a wrong format, refused at once
    edit_day(published, landing, {(3, "event_time"): "yesterday-ish"})
    err = run_cli(published, capsys)
    assert f"{DAY}.csv: event_time 'yesterday-ish' cannot be parsed as ISO 8601" in err
    assert "source.event_time_format" in err


def test_empty_day_is_quarantined(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = landing_copy(published, landing)
    path = copy / f"{DAY}.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")  # the header only
    configure(published, path=str(copy / "{ds}.csv"))
    err = run_cli(published, capsys)
    assert "failed validation" in err
    assert "expect_table_row_count_to_be_between" in err
    quarantined = Home(published / "home").quarantined(DAY)
    assert (quarantined / "validation_result.json").is_file()
    assert not Home(published / "home").lake_partition(DAY).exists()


def test_bad_rows_are_quarantined_with_counts(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_day(
        published,
        landing,
        {
            (1, "amount"): "5000000000",
            (2, "amount"): "-5000000000",
            (3, "event_type"): "refund_request",
        },
    )
    err = run_cli(published, capsys)
    assert "expect_column_values_to_be_between on amount: 2 unexpected row(s)" in err
    assert "expect_column_values_to_be_in_set on event_type: 1 unexpected row(s)" in err


def test_a_negative_purchase_is_a_bad_row_when_the_config_says_so(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``events.negative_amounts: reject``: a return written as a negative purchase is refused
    (by default it is a refund), and the refund type stays allowed."""
    path = published / "config.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["events"] = {"negative_amounts": "reject"}
    path.write_text(yaml.safe_dump(raw))
    rows = pd.read_csv(landing / "events" / f"{DAY}.csv", dtype=str)
    # line 0 is the header
    purchase = int(rows.index[rows["event_type"] == "purchase"][0]) + 1
    other = int(rows.index[rows["event_type"] != "purchase"][0]) + 1
    edit_day(published, landing, {(purchase, "amount"): "-7.92", (other, "event_type"): "refund"})
    err = run_cli(published, capsys)
    assert "expect_column_values_to_be_between on amount: 1 unexpected row(s)" in err
    assert "-7.92" in err
    assert "event_type" not in err  # "refund" is always an allowed type
    assert not Home(published / "home").lake_partition(DAY).exists()


def test_file_in_the_wrong_format(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure(
        published,
        format="parquet",
        path=str(
            Path(yaml.safe_load((published / "config.yaml").read_text())["source"]["path"])
            .with_suffix("")
            .with_suffix(".csv")
        ),
    )
    err = run_cli(published, capsys)
    assert "cannot read" in err and "as parquet" in err
    assert "source.format" in err


def test_misspelt_config_key(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = published / "config.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["timezon"] = raw.pop("timezone")
    path.write_text(yaml.safe_dump(raw))
    err = run_cli(published, capsys)
    assert "unknown key 'timezon' (did you mean 'timezone'?)" in err


def test_date_with_no_data(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    later = DAY + dt.timedelta(days=30)
    err = run_cli(published, capsys, day=later)
    assert f"no source file for {later}" in err
    assert f"{later}.csv" in err


def test_non_existent_source_path(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure(published, path=str(published / "no-such-folder"))
    err = run_cli(published, capsys)
    assert "no-such-folder does not exist" in err


def test_bad_date_argument_is_refused_by_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--date", "2024-13-45"])
    assert exit_info.value.code == 2
    assert "'2024-13-45' is not a date; use YYYY-MM-DD" in capsys.readouterr().err


def test_a_retried_validation_fails_again_instead_of_passing(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from segmentation import pipeline
    from segmentation.config import load_config
    from segmentation.errors import ValidationFailed

    copy = landing_copy(published, landing)
    path = copy / f"{DAY}.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    cfg = load_config(configure(published, path=str(copy / "{ds}.csv")))
    pipeline.extract_events(cfg, DAY)
    with pytest.raises(ValidationFailed):
        pipeline.validate_events(cfg, DAY)
    # what an Airflow retry of the task does: the batch is already in quarantine
    with pytest.raises(ValidationFailed, match="expect_table_row_count_to_be_between"):
        pipeline.validate_events(cfg, DAY)
    assert not Home(published / "home").lake_partition(DAY).exists()


def set_validation(folder: Path, **keys: object) -> None:
    path = folder / "config.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["validation"] = keys
    path.write_text(yaml.safe_dump(raw))


BAD_CELLS = {(1, "customer_id"): "", (2, "event_type"): "refund_request"}


def test_a_few_bad_rows_are_held_back_and_the_night_goes_on(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two bad rows, two allowed: the day is promoted without them, and they are kept with
    their reasons in quarantine/events/event_date=D/rows.parquet, every row accounted for."""
    set_validation(published, max_bad_rows=2)
    edit_day(published, landing, BAD_CELLS)
    source = pd.read_csv(published / "landing" / f"{DAY}.csv", dtype=str)
    code = main(["run", "--config", str(published / "config.yaml"), "--date", str(DAY)])
    assert code == 0, capsys.readouterr().err
    home = Home(published / "home")
    held = pd.read_parquet(home.quarantined_rows(DAY))
    assert held["event_id"].tolist() == source["event_id"].iloc[[0, 1]].tolist()
    # (an empty CSV cell is a missing value: the length check skips it)
    assert held["reasons"].tolist() == [
        "expect_column_values_to_not_be_null on customer_id",
        "expect_column_values_to_be_in_set on event_type",
    ]
    lake_rows = pd.read_parquet(home.lake_file(DAY))
    assert set(lake_rows["event_id"]) == set(source["event_id"]) - set(held["event_id"])
    record = yaml.safe_load(home.validation_record(DAY).read_text())
    assert record["success"] is True
    assert (record["rows_read"], record["rows_valid"], record["rows_quarantined"]) == (
        len(source),
        len(source) - 2,
        2,
    )
    assert home.partition("customer_segments", DAY).is_file()  # the night was published

    capsys.readouterr()
    assert main(["quarantine", "--config", str(published / "config.yaml")]) == 0
    listed = yaml.safe_load(capsys.readouterr().out)["days"][str(DAY)]
    assert listed["rows"] == 2
    assert listed["reasons"]["expect_column_values_to_be_in_set on event_type"] == 1
    assert "row_values" not in listed
    args = ["quarantine", "--config", str(published / "config.yaml"), "--date", str(DAY)]
    assert main([*args, "--rows"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)["days"][str(DAY)]["row_values"]
    assert [r["event_id"] for r in shown] == held["event_id"].tolist()


def drift_counts(home: Home, day: dt.date) -> list[float]:
    """The night's bad_rows, late_events and duplicate_events as drift_metrics published them."""
    rows = pd.read_parquet(home.partition("drift_metrics", day))
    run = rows[(rows["scope"] == "run") & (rows["name"] == "all")].set_index("metric")["value"]
    return run[["bad_rows", "late_events", "duplicate_events"]].tolist()


def test_drift_metrics_count_the_nights_bad_late_and_duplicate_rows(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The two planted bad rows reach drift_metrics as bad_rows; a record without late and
    duplicate counts gives 0 for them, and one with them gives its numbers (and the report
    says so)."""
    from segmentation import pipeline
    from segmentation.config import load_config
    from segmentation.io import lake

    set_validation(published, max_bad_rows=2)
    edit_day(published, landing, BAD_CELLS)
    assert main(["run", "--config", str(published / "config.yaml"), "--date", str(DAY)]) == 0
    home = Home(published / "home")
    record = lake.read_json(home.validation_record(DAY))
    assert record is not None and record["rows_quarantined"] == 2
    assert drift_counts(home, DAY) == [2.0, 0.0, 0.0]  # nothing late or re-sent was planted

    # the drift step again (a retry) on the record rewritten where the night writes it:
    # first as written before the late and duplicate counts existed (no keys), then with them
    cfg = load_config(published / "config.yaml")
    old = {k: v for k, v in record.items() if k not in ("rows_late", "rows_duplicate")}
    lake.write_json(old, home.validation_record(DAY))
    pipeline.compute_drift(cfg, DAY)
    assert drift_counts(home, DAY) == [2.0, 0.0, 0.0]
    # 3 re-sent events dropped, so 3 more rows read; 4 of the valid rows came in late
    lake.write_json(
        {**old, "rows_read": old["rows_read"] + 3, "rows_duplicate": 3, "rows_late": 4},
        home.validation_record(DAY),
    )
    out = pipeline.compute_drift(cfg, DAY)
    assert drift_counts(home, DAY) == [2.0, 4.0, 3.0]
    page = Path(out["report"]).read_text(encoding="utf-8")
    assert "Passed without 2 of its" in page
    assert (
        "Rows this night: bad, held back: 2; late (arrived after their day), kept: 4; "
        "duplicates (re-sent), dropped: 3."
    ) in page


def test_more_bad_rows_than_allowed_quarantine_the_whole_day(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_validation(published, max_bad_rows=1)
    edit_day(published, landing, BAD_CELLS)
    err = run_cli(published, capsys)
    assert "2 of its" in err and "more than the 1 allowed" in err
    assert "validation.max_bad_rows" in err
    home = Home(published / "home")
    assert (home.quarantined(DAY) / "part-0.parquet").is_file()
    assert not home.quarantined_rows(DAY).exists()
    assert not home.lake_partition(DAY).exists()
