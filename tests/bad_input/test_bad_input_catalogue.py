"""The catalogue of bad inputs, continued: one test per kind of bad input.

Each test's docstring states the behaviour. Refusals go through ``run_cli``: exit status 2,
one message with no traceback that names the file, column, date or key and how to fix it,
and no published table changed. Bad values are quarantined with the failed expectation
named. Inputs that are fine after all (a byte-order mark, mixed UTC offsets, an extra column,
a duplicate event) are accepted, and the test checks what landed in the lake.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from segmentation.cli import main
from segmentation.io import files, lake
from segmentation.layout import Home
from tests.bad_input.test_bad_input import DAY, configure, edit_day, landing_copy, run_cli

pytestmark = pytest.mark.bad_input


def write_day(folder: Path, landing: Path, change: Callable[[bytes], bytes]) -> Path:
    """Point the config at a copy of the landing files with DAY's file's bytes changed."""
    copy = landing_copy(folder, landing)
    path = copy / f"{DAY}.csv"
    path.write_bytes(change(path.read_bytes()))
    configure(folder, path=str(copy / "{ds}.csv"))
    return path


def ingest_ok(folder: Path, capsys: pytest.CaptureFixture[str]) -> pd.DataFrame:
    """Ingest DAY through the CLI, expect success, and return DAY's lake partition."""
    day = DAY.isoformat()
    code = main(["ingest", "--config", str(folder / "config.yaml"), "--start", day, "--end", day])
    assert code == 0, capsys.readouterr().err
    return pd.read_parquet(Home(folder / "home").lake_file(DAY))


def source_lines(landing: Path) -> list[str]:
    return (landing / "events" / f"{DAY}.csv").read_text().splitlines()


def assert_quarantined(folder: Path, err: str, expectation: str) -> None:
    assert "failed validation" in err and expectation in err, err
    quarantined = Home(folder / "home").quarantined(DAY)
    assert (quarantined / "validation_result.json").is_file()
    assert not Home(folder / "home").lake_partition(DAY).exists()


# ---------------------------------------------------------------- malformed files


def test_row_with_too_many_fields(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row with more fields than the header is a bad row quoting the file and the row: here
    it is one more than the day may have, so the day is quarantined with that reason."""
    edit_day(published, landing, {(3, "quantity"): "1,extra,fields"})
    err = run_cli(published, capsys)
    assert f"{DAY}.csv row 4 (the header is row 1) has 11 of the header's 9 fields" in err
    assert "expect_column_values_to_be_null on source_problem" in err
    assert "Fix the source data" in err


def test_unclosed_quote(published: Path, landing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A quote that is never closed swallows the rest of the file: refused, naming the file."""
    edit_day(published, landing, {(3, "category"): '"home'})
    err = run_cli(published, capsys)
    assert f"{DAY}.csv" in err
    assert "EOF inside string" in err
    assert "Fix or remove that line" in err


def test_byte_order_mark_is_accepted(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A UTF-8 byte-order mark (Excel's "CSV UTF-8") is read transparently.

    The first column keeps its name (``event_id``, not ``\\ufeffevent_id``), so event ids
    are not silently lost.
    """
    path = write_day(published, landing, lambda data: b"\xef\xbb\xbf" + data)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfevent_id,")
    assert next(iter(files.read_raw(path, "csv", None).columns)) == "event_id"
    events = ingest_ok(published, capsys)
    assert events["event_id"].notna().all()
    first_id = source_lines(landing)[1].split(",")[0]
    assert first_id in set(events["event_id"])


def test_non_utf8_bytes(published: Path, landing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A latin-1 byte (é as 0xE9) is refused: the message names the file and asks for UTF-8."""
    lines = source_lines(landing)
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index("category")] = "caf\xe9"
    lines[2] = ",".join(cells)
    write_day(published, landing, lambda _: ("\n".join(lines) + "\n").encode("latin-1"))
    err = run_cli(published, capsys)
    assert f"{DAY}.csv" in err
    assert "not UTF-8" in err and "0xe9" in err
    assert "Re-export it as UTF-8" in err


def test_mixed_utc_offsets_are_converted_to_utc(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rows with different UTC offsets (+08:00 and Z) in one file are accepted.

    Each is converted to UTC by its own offset: the lake holds the same instants.
    """
    lines = source_lines(landing)
    header = lines[0].split(",")
    col, id_col = header.index("event_time"), header.index("event_id")
    originals = {}
    for line in (1, 2):
        cells = lines[line].split(",")
        instant = pd.Timestamp(cells[col]).tz_convert("UTC")
        originals[cells[id_col]] = instant
        cells[col] = instant.tz_convert("Etc/GMT-8").isoformat()  # +08:00
        lines[line] = ",".join(cells)
    assert lines[1].split(",")[col].endswith("+08:00")
    assert lines[3].split(",")[col].endswith("Z")
    write_day(published, landing, lambda _: ("\n".join(lines) + "\n").encode())
    events = ingest_ok(published, capsys).set_index("event_id")
    for event_id, instant in originals.items():
        assert events.loc[event_id, "event_time"] == instant


def test_duplicate_event_is_kept_once(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same event_id twice in a day (an export that resent a row) is kept once."""
    lines = source_lines(landing)
    write_day(published, landing, lambda data: data + (lines[1] + "\n").encode())
    events = ingest_ok(published, capsys)
    event_id = lines[1].split(",")[0]
    assert (events["event_id"] == event_id).sum() == 1
    assert events["event_id"].is_unique


# ---------------------------------------------------------------- bad values: quarantine


@pytest.mark.parametrize(
    ("amount", "expectation"),
    [
        ("NaN", "expect_column_values_to_not_be_null on amount: 1 unexpected row(s)"),
        ("inf", "expect_column_values_to_be_between on amount: 1 unexpected row(s)"),
        ("1e12", "expect_column_values_to_be_between on amount: 1 unexpected row(s)"),
    ],
    ids=["nan", "infinite", "above-max-amount"],
)
def test_impossible_amount_is_quarantined(
    published: Path,
    landing: Path,
    capsys: pytest.CaptureFixture[str],
    amount: str,
    expectation: str,
) -> None:
    """A NaN, infinite or absurd amount (above validation.max_amount, 1e6 by default) fails the
    Great Expectations gate: the day is quarantined with the GX result and the expectation
    named (negative amounts: see test_bad_rows_are_quarantined_with_counts)."""
    edit_day(published, landing, {(2, "amount"): amount})
    err = run_cli(published, capsys)
    assert_quarantined(published, err, expectation)


# ---------------------------------------------------------------- columns


def test_unexpected_new_column_is_ignored(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A column the export gained (not in the input contract) is ignored; the run succeeds."""
    lines = source_lines(landing)
    lines = [lines[0] + ",loyalty_tier"] + [line + ",gold" for line in lines[1:]]
    write_day(published, landing, lambda _: ("\n".join(lines) + "\n").encode())
    events = ingest_ok(published, capsys)
    assert "loyalty_tier" not in events.columns
    assert len(events) > 0


def test_required_column_removed(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A required column missing from the file is refused, naming it and both ways to fix."""
    lines = source_lines(landing)
    drop = lines[0].split(",").index("event_type")
    cut = [",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in lines]
    write_day(published, landing, lambda _: ("\n".join(cut) + "\n").encode())
    err = run_cli(published, capsys)
    assert f"{DAY}.csv has no column 'event_type' (required)" in err
    assert "source.columns.event_type" in err and "source.defaults.event_type" in err


# ---------------------------------------------------------------- incomplete files


def test_zero_byte_file(published: Path, landing: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 0-byte file (not even the header) is refused, naming the file; an empty day
    needs the header row (then it is quarantined: see test_empty_day_is_quarantined)."""
    write_day(published, landing, lambda _: b"")
    err = run_cli(published, capsys)
    assert f"{DAY}.csv is empty" in err
    assert "still needs the header row" in err


def test_file_still_being_written_truncated_last_line(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file still being written ends in a partial row with no line ending.

    For the files source, "still being written" means: the last line has fewer fields
    than the header and no newline. It is refused (a retry once the export has finished
    reads the whole file), naming the file and the row, rather than read with the
    missing cells silently empty.
    """

    def truncate(data: bytes) -> bytes:
        last = data.rstrip(b"\n").rsplit(b"\n", 1)[1]
        return data.rstrip(b"\n")[: -len(last)] + last[: len(last) // 2]

    write_day(published, landing, truncate)
    err = run_cli(published, capsys)
    assert f"{DAY}.csv" in err
    assert "no line ending" in err and "still being written" in err


def test_temporary_files_next_to_the_export_are_ignored(
    published: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Temporary files an exporter writes before renaming are ignored by a folder source.

    The source reads only names with the format's suffix (``.csv``), and never hidden
    files (``.`` or ``_`` first: ``.2024-02-09.csv``, ``_tmp.csv``), so ``*.part``,
    ``*.tmp`` and dot-files of an export in progress are not read.
    """
    copy = landing_copy(published, landing)
    for name in (f"{DAY}.csv.part", f"{DAY}.csv.tmp", f".{DAY}.csv", f"_{DAY}.csv"):
        (copy / name).write_bytes(b'garbage,"unclosed\n\xff\xfe')
    configure(published, path=str(copy))
    events = ingest_ok(published, capsys)
    assert len(events) > 0


# ---------------------------------------------------------------- the home's own files


def test_output_folder_not_writable(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Publishing into an output folder that cannot be written is refused, naming the path;
    the tables already published are unchanged.

    As root chmod does not stop writes, so a regular file is put where the first table's
    new partition folder must go instead.
    """
    output = Home(published / "home").output
    blocked = output / "customer_segments" / f"run_date={DAY}"
    folders = [output, *(p for p in output.rglob("*") if p.is_dir())]
    if os.geteuid() != 0:
        for folder in folders:
            folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    else:
        blocked.write_bytes(b"")
    try:
        err = run_cli(published, capsys)
    finally:
        for folder in folders:
            folder.chmod(stat.S_IRWXU)
    assert str(output / "customer_segments") in err


def test_corrupt_model_artifact(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A champion whose model.joblib is garbage is refused, naming the file and how to
    rebuild it (the next night's run loads the champion to compare it with tonight's)."""
    before = DAY - dt.timedelta(days=1)
    artifact = Home(published / "home").models / f"m{before:%Y%m%d}" / "model.joblib"
    artifact.write_bytes(b"this is not a pickle")
    err = run_cli(published, capsys)
    assert f"model file {artifact} cannot be loaded" in err
    assert f"Delete {artifact.parent} and re-run training for {before}" in err


def test_corrupt_lake_partition(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A lake partition with garbage bytes is refused when features are built from it,
    naming the partition and telling to re-ingest that date."""
    bad_day = DAY - dt.timedelta(days=5)
    part = Home(published / "home").lake_partition(bad_day)
    (part / lake.PART).write_bytes(b"garbage, not parquet")
    err = run_cli(published, capsys)
    assert str(part / lake.PART) in err
    assert f"segmentation ingest --start {bad_day} --end {bad_day}" in err
    # and the fix works: re-ingesting that date restores a readable partition
    day = bad_day.isoformat()
    config = str(published / "config.yaml")
    assert main(["ingest", "--config", config, "--start", day, "--end", day]) == 0
    assert lake.first_unreadable([part / lake.PART]) is None
