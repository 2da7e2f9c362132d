"""Bad input: one clear message (exit 2, no traceback) and nothing already published is lost."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

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
    edit_day(published, landing, {(3, "event_time"): "yesterday-ish"})
    err = run_cli(published, capsys)
    assert "'event_time'" in err and "'yesterday-ish'" in err and "row 4" in err
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
        {(1, "amount"): "-5", (2, "amount"): "-1", (3, "event_type"): "refund_request"},
    )
    err = run_cli(published, capsys)
    assert "expect_column_values_to_be_between on amount: 2 unexpected row(s)" in err
    assert "expect_column_values_to_be_in_set on event_type: 1 unexpected row(s)" in err


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
