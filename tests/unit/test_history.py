"""The segment membership history against hand-made and brute-force expectations.

Expectations come from the daily assignment tables themselves (run-length encoding each
customer's run-by-run segments, set differences of daily audiences), never from the history
code under test.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation.segments import history
from segmentation.segments.history import advance, audience_delta, moved, truncate

pytestmark = pytest.mark.unit

Row = tuple[str, int, str, dt.date, dt.date | None]


@dataclass(frozen=True)
class Run:
    day: dt.date
    table: pd.DataFrame  # customer_id, segment_id, segment_name (one row per customer)

    @property
    def names(self) -> dict[int, str]:
        return {
            int(s): str(n)
            for s, n in zip(self.table.segment_id, self.table.segment_name, strict=True)
        }

    @property
    def segments(self) -> dict[str, int]:
        return {
            str(c): int(s)
            for c, s in zip(self.table.customer_id, self.table.segment_id, strict=True)
        }


def day_table(rows: list[tuple[str, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "segment_id", "segment_name"])


def rows(frame: pd.DataFrame) -> list[Row]:
    """A history as plain Python tuples (dates as ``datetime.date``, null as None)."""
    out = []
    for cid, sid, name, start, stop in frame[list(history.COLUMNS)].itertuples(index=False):
        out.append((str(cid), int(sid), str(name), start, None if pd.isna(stop) else stop))
    return out


def build(runs: list[Run]) -> pd.DataFrame | None:
    h, previous = None, None
    for run in runs:
        h, previous = advance(h, previous, run.day, run.table), run.day
    return h


def brute_history(runs: list[Run]) -> list[Row]:
    """Run-length encode each customer's segments over the run grid."""
    seen: dict[str, list[tuple[int, int, str]]] = {}  # customer -> [(run index, id, name)]
    for i, run in enumerate(runs):
        for cid, sid, name in run.table.itertuples(index=False):
            seen.setdefault(str(cid), []).append((i, int(sid), str(name)))
    last = len(runs) - 1
    out: list[Row] = []
    for cid, visits in seen.items():
        group = [visits[0]]
        for visit in visits[1:]:
            prev = group[-1]
            if visit[0] == prev[0] + 1 and visit[1] == prev[1]:
                group.append(visit)
                continue
            out.append(_stretch(cid, group, runs, last))
            group = [visit]
        out.append(_stretch(cid, group, runs, last))
    return sorted(out, key=lambda r: (r[0], r[3]))


def _stretch(cid: str, group: list[tuple[int, int, str]], runs: list[Run], last: int) -> Row:
    first_i, end_i = group[0][0], group[-1][0]
    stop = None if end_i == last else runs[end_i].day
    return (cid, group[0][1], group[-1][2], runs[first_i].day, stop)


def brute_moves(runs: list[Run], a: int, b: int, start: dt.date, end: dt.date) -> list:
    """(customer, run date) where the customer is in b and was in a when last seen before."""
    out = []
    last_seen: dict[str, int] = {}
    for run in runs:
        for cid, sid in run.segments.items():
            if start <= run.day <= end and sid == b and last_seen.get(cid) == a:
                out.append((cid, run.day))
        last_seen.update(run.segments)
    return sorted(out)


def simulate(
    seed: int,
    customers: int = 120,
    runs: int = 16,
    segments: int = 6,
    start: dt.date = dt.date(2024, 3, 1),
    daily: bool = False,
    p_change: float = 0.15,
    p_absent: float = 0.03,
    p_rename: float = 0.3,
) -> list[Run]:
    """Daily tables with changes, new and absent customers, renames, shuffled rows."""
    rng = np.random.default_rng(seed)
    version = [0] * segments
    seg = rng.integers(0, segments, customers)
    known = customers // 2
    day = start
    out = []
    for i in range(runs):
        if i:
            day += dt.timedelta(days=1 if daily else int(rng.integers(1, 4)))
            seg = seg.copy()
            change = rng.random(customers) < p_change
            seg[change] = (seg[change] + rng.integers(1, segments, change.sum())) % segments
            known = min(customers, known + int(rng.integers(0, 8)))  # new customers
            if rng.random() < p_rename:
                version[int(rng.integers(0, segments))] += 1
        here = np.flatnonzero(rng.random(known) >= p_absent)
        here = here[rng.permutation(len(here))]
        table = day_table(
            [(f"C{c:05d}", int(seg[c]), f"S{seg[c]} v{version[seg[c]]}") for c in here]
        )
        out.append(Run(day, table))
    return out


# ---------------------------------------------------------------- a hand-made example

D1, D2, D3, D4, D5 = (dt.date(2024, 3, d) for d in range(1, 6))


def five_days() -> list[Run]:
    """a: stays in 1, which is renamed on day 4; b: 1 -> 2 on day 3; c: 2 -> 1 -> back to 2;
    d: new on day 3; e: absent on day 3, back in the same segment on day 4."""
    loyal, champions, risk, new = "Loyal", "Champions", "At risk", "New"
    return [
        Run(D1, day_table([("a", 1, loyal), ("b", 1, loyal), ("c", 2, risk), ("e", 2, risk)])),
        Run(D2, day_table([("e", 2, risk), ("c", 1, loyal), ("b", 1, loyal), ("a", 1, loyal)])),
        Run(D3, day_table([("a", 1, loyal), ("b", 2, risk), ("c", 1, loyal), ("d", 3, new)])),
        Run(
            D4,
            day_table(
                [("a", 1, champions), ("b", 2, risk), ("c", 2, risk), ("d", 3, new), ("e", 2, risk)]
            ),
        ),
        Run(
            D5,
            day_table(
                [("a", 1, champions), ("b", 2, risk), ("c", 2, risk), ("d", 3, new), ("e", 2, risk)]
            ),
        ),
    ]


def test_hand_made_five_days() -> None:
    runs = five_days()
    after_three = build(runs[:3])
    assert after_three is not None
    assert rows(after_three) == [
        ("a", 1, "Loyal", D1, None),
        ("b", 1, "Loyal", D1, D2),
        ("b", 2, "At risk", D3, None),
        ("c", 2, "At risk", D1, D1),
        ("c", 1, "Loyal", D2, None),
        ("d", 3, "New", D3, None),
        ("e", 2, "At risk", D1, D2),  # absent on day 3: closed at the previous run
    ]
    final = build(runs)
    assert final is not None
    assert rows(final) == [
        ("a", 1, "Champions", D1, None),  # renamed segment: same stretch, today's name
        ("b", 1, "Loyal", D1, D2),
        ("b", 2, "At risk", D3, None),
        ("c", 2, "At risk", D1, D1),
        ("c", 1, "Loyal", D2, D3),  # closed before the rename: keeps the old name
        ("c", 2, "At risk", D4, None),  # back in an earlier segment: a new stretch
        ("d", 3, "New", D3, None),
        ("e", 2, "At risk", D1, D2),
        ("e", 2, "At risk", D4, None),  # back after a gap: a new stretch
    ]
    assert rows(final) == brute_history(runs)
    assert list(final.columns) == list(history.COLUMNS)
    assert final.dtypes.astype(str).tolist() == [
        "str",
        "int64",
        "str",
        "date32[day][pyarrow]",
        "date32[day][pyarrow]",
    ]

    def pairs(frame: pd.DataFrame) -> list[tuple[str, dt.date]]:
        return list(zip(frame.customer_id, frame.moved_on, strict=True))

    assert pairs(moved(final, 1, 2, D1, D5)) == [("b", D3), ("c", D4)]
    assert pairs(moved(final, 2, 1, D1, D5)) == [("c", D2)]
    assert pairs(moved(final, 1, 2, D4, D5)) == [("c", D4)]
    assert pairs(moved(final, 1, 3, D1, D5)) == []  # d is new, not a move

    added, removed = audience_delta(final, 2, D3, D4)
    assert added.tolist() == ["c", "e"]
    assert removed.tolist() == []
    added, removed = audience_delta(final, 2, D2, D3)
    assert added.tolist() == ["b"]
    assert removed.tolist() == ["e"]  # absent on day 3
    added, removed = audience_delta(final, 1, D3, D4)
    assert (added.tolist(), removed.tolist()) == ([], ["c"])
    added, removed = audience_delta(final, 1, None, D1)
    assert (added.tolist(), removed.tolist()) == (["a", "b"], [])

    # back to the end of day 2, with day 2's names
    assert rows(truncate(final, D2, {1: "Loyal", 2: "At risk"})) == [
        ("a", 1, "Loyal", D1, None),
        ("b", 1, "Loyal", D1, None),
        ("c", 2, "At risk", D1, D1),
        ("c", 1, "Loyal", D2, None),
        ("e", 2, "At risk", D1, None),
    ]


# ---------------------------------------------------------------- against brute force


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_advance_matches_brute_force_after_every_run(seed: int) -> None:
    runs = simulate(seed)
    h, previous = None, None
    for i, run in enumerate(runs):
        h, previous = advance(h, previous, run.day, run.table), run.day
        assert rows(h) == brute_history(runs[: i + 1]), f"after run {i} ({run.day})"
    assert h is not None
    assert len(h) < sum(len(r.table) for r in runs) / 3  # sanity: it really is compact


def test_same_inputs_give_byte_identical_parquet() -> None:
    runs = simulate(5)

    def parquet(frame: pd.DataFrame) -> bytes:
        buf = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf)
        return buf.getvalue()

    first = build(runs)
    assert first is not None
    rng = np.random.default_rng(9)
    h: pd.DataFrame | None = None
    previous = None
    for run in runs:
        shuffled = None if h is None else h.iloc[rng.permutation(len(h))]
        table = run.table.iloc[rng.permutation(len(run.table))]
        h, previous = advance(shuffled, previous, run.day, table), run.day
    assert h is not None
    assert parquet(h) == parquet(first)
    assert h.equals(h.sort_values(["customer_id", "valid_from"], ignore_index=True))
    # a history read back from Parquet (object dates, extra columns) advances the same way
    stored = io.BytesIO(parquet(first.assign(run_date=runs[-1].day)))
    back = pq.read_table(stored).to_pandas(ignore_metadata=True)
    assert back["valid_from"].dtype == object
    later = runs[-1].day + dt.timedelta(days=1)
    assert parquet(advance(back, runs[-1].day, later, runs[-1].table)) == parquet(
        advance(first, runs[-1].day, later, runs[-1].table)
    )


@pytest.mark.parametrize("seed", [3, 4])
def test_truncate_gives_the_history_as_of_every_run(seed: int) -> None:
    runs = simulate(seed)
    final = build(runs)
    assert final is not None
    for i, run in enumerate(runs):
        assert rows(truncate(final, run.day, run.names)) == brute_history(runs[: i + 1]), i
    assert truncate(final, runs[0].day - dt.timedelta(days=1), {}).empty


def readvance(h: pd.DataFrame, previous: dt.date, runs: list[Run]) -> pd.DataFrame:
    for run in runs:
        h, previous = advance(h, previous, run.day, run.table), run.day
    return h


def rename_zero(table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(
        segment_name=[f"S{s} renamed" if s == 0 else f"S{s} v0" for s in table.segment_id]
    )


@pytest.mark.parametrize("k", [1, 5, 9, 15])
def test_rerun_of_an_old_date_is_exact(k: int) -> None:
    # segment 0 is renamed from run k on, so the stretches in 0 still open after run k-1
    # carry the new name in the original history; a rerun of k that moves them out must
    # close them under run k-1's name
    runs = simulate(6, p_rename=0.0)
    runs = [*runs[:k], *(Run(r.day, rename_zero(r.table)) for r in runs[k:])]
    original = build(runs)
    assert original is not None
    previous = runs[k - 1]

    # the same assignments again: the very same history
    again = readvance(truncate(original, previous.day, previous.names), previous.day, runs[k:])
    assert rows(again) == rows(original)

    # new assignments for day k (a fixed model, say): as if built from scratch with them
    rng = np.random.default_rng(k)
    fixed = runs[k].table.copy()
    change = rng.random(len(fixed)) < 0.35
    fixed.loc[change, "segment_id"] = (fixed.loc[change, "segment_id"] + 1) % 6
    rerun = [*runs[:k], Run(runs[k].day, rename_zero(fixed)), *runs[k + 1 :]]
    h = truncate(original, previous.day, previous.names)
    result = readvance(h, previous.day, rerun[k:])
    assert rows(result) == brute_history(rerun)
    # the case above occurs: in 0 on run k-1 and on the original run k, elsewhere on the rerun
    was, stayed, now = previous.segments, runs[k].segments, rerun[k].segments
    assert any(was[c] == stayed.get(c) == 0 != now.get(c) for c in was)


@pytest.mark.parametrize("seed", [7, 8])
def test_moved_matches_brute_force(seed: int) -> None:
    runs = simulate(seed, customers=200, runs=20)
    final = build(runs)
    assert final is not None
    rng = np.random.default_rng(seed)
    found = 0
    for _ in range(12):
        a, b = (int(x) for x in rng.choice(6, 2, replace=False))
        i, j = sorted(int(x) for x in rng.integers(0, len(runs), 2))
        start, end = runs[i].day, runs[j].day + dt.timedelta(days=int(rng.integers(0, 2)))
        got = moved(final, a, b, start, end)
        assert list(got.columns) == ["customer_id", "moved_on"]
        expected = brute_moves(runs, a, b, start, end)
        assert list(zip(got.customer_id, got.moved_on, strict=True)) == expected
        found += len(expected)
    assert found > 0


def docstring_sql() -> str:
    block = re.search(r"\.\. code-block:: sql\n\n(.*?;)", history.__doc__ or "", re.S)
    assert block is not None
    return block.group(1)


def test_the_documented_sql_runs_on_parquet_and_agrees(tmp_path: Path) -> None:
    runs = simulate(11, customers=300, runs=14, daily=True, start=dt.date(2024, 3, 1))
    final = build(runs)
    assert final is not None
    path = tmp_path / "history.parquet"
    pq.write_table(pa.Table.from_pandas(final, preserve_index=False), path)
    con = duckdb.connect()
    try:
        con.execute(f"CREATE VIEW segment_history AS FROM read_parquet('{path}')")
        got = con.execute(docstring_sql()).fetchall()
    finally:
        con.close()
    week = (dt.date(2024, 3, 4), dt.date(2024, 3, 10))
    expected = brute_moves(runs, 3, 5, *week)
    assert got == expected
    assert len(expected) > 0
    ours = moved(final, 3, 5, *week)
    assert list(zip(ours.customer_id, ours.moved_on, strict=True)) == expected


def audiences(runs: list[Run], segment: int) -> list[set[str]]:
    return [{c for c, s in run.segments.items() if s == segment} for run in runs]


@pytest.mark.parametrize("seed", [12, 13])
def test_audience_delta_matches_brute_force(seed: int) -> None:
    runs = simulate(seed)
    as_of = []  # the history right after each run
    h, previous = None, None
    for run in runs:
        h, previous = advance(h, previous, run.day, run.table), run.day
        as_of.append(h)
    checked = 0
    for segment in range(6):
        sets = audiences(runs, segment)
        for i, run in enumerate(runs):
            before = sets[i - 1] if i else set()
            previous = runs[i - 1].day if i else None
            expected = (sorted(sets[i] - before), sorted(before - sets[i]))
            for h in (as_of[i], as_of[-1]):
                added, removed = audience_delta(h, segment, previous, run.day)
                assert (added.tolist(), removed.tolist()) == expected, (segment, i)
                assert added.name == removed.name == "customer_id"
            checked += len(expected[0]) + len(expected[1])
    assert checked > 0


# ---------------------------------------------------------------- misuse


def test_misuse_gives_clear_errors() -> None:
    runs = five_days()
    h = build(runs[:2])
    assert h is not None
    with pytest.raises(ValueError, match="must be before day"):
        advance(h, D3, D3, runs[2].table)
    with pytest.raises(ValueError, match="without previous_day"):
        advance(h, None, D3, runs[2].table)
    with pytest.raises(ValueError, match="runs after previous_day"):
        advance(h, D1, D3, runs[2].table)
    with pytest.raises(ValueError, match="more than once"):
        advance(h, D2, D3, pd.concat([runs[2].table, runs[2].table.iloc[:1]]))
    with pytest.raises(ValueError, match="lacks column"):
        advance(h, D2, D3, runs[2].table.drop(columns="segment_name"))
    with pytest.raises(ValueError, match="two open stretches"):
        advance(pd.concat([h, h.iloc[:1]]), D2, D3, runs[2].table)
    final = build(runs)
    assert final is not None
    with pytest.raises(ValueError, match="runs between"):
        audience_delta(final, 2, D2, D4)
    with pytest.raises(ValueError, match="no name for segment ids"):
        truncate(final, D3, {1: "Loyal"})
    with pytest.raises(ValueError, match="after end"):
        moved(final, 1, 2, D5, D1)


# ---------------------------------------------------------------- size


D = [dt.date(2024, 1, d) for d in range(1, 6)]


@pytest.mark.parametrize(
    ("as_of", "day", "expected"),
    [
        (None, D[0], ("scratch", None, (D[0],))),  # the first night
        (None, D[2], ("scratch", None, tuple(D[:3]))),  # no file yet: every published run
        (D[1], D[2], ("file", D[1], (D[2],))),  # the next night folds on
        (D[0], D[3], ("file", D[0], (D[1], D[2], D[3]))),  # runs published meanwhile too
        (D[3], D[1], ("truncate", D[0], (D[1], D[2], D[3]))),  # a rerun of an old night
        (D[3], D[3], ("truncate", D[2], (D[3],))),  # a rerun of the newest night
        (D[3], D[0], ("scratch", None, tuple(D[:4]))),  # a rerun of the first night
    ],
)
def test_plan_refold(
    as_of: dt.date | None, day: dt.date, expected: tuple[str, dt.date | None, tuple]
) -> None:
    published = [d for d in D if d <= max(day, as_of or day)]
    plan = history.plan_refold(list(reversed(published)), as_of, day)
    assert (plan.base, plan.previous, plan.todo) == expected
