"""Segment membership history: one row per customer per stretch of unchanged segment.

A day's ``customer_segments`` holds every customer; keeping 60 of them to answer "since when
is this customer a Champion?" costs 60 full tables. The history keeps one row per stretch
instead, so it grows with the number of changes, not with days x customers:

=================  ======  ===============================================================
column             type    meaning
=================  ======  ===============================================================
``customer_id``    string
``segment_id``     int64   the stable segment id
``segment_name``   string  the segment's name on the stretch's last run: today's name while
                           the stretch is open (a renamed segment keeps its stretch and the
                           open stretch takes the new name), frozen when the stretch closes
``valid_from``     date    the first run date of the stretch
``valid_to``       date    the last run date of the stretch, inclusive; null while it is the
                           customer's current segment
=================  ======  ===============================================================

Rows are sorted by (``customer_id``, ``valid_from``), a unique key, so the same inputs give
byte-identical Parquet. Dates are ``date32[pyarrow]`` columns (Parquet ``DATE``); frames
read back with object ``datetime.date`` or ``datetime64`` columns are accepted too.

**Run dates are passed, never guessed.** Closing a stretch needs the previous run date
(``valid_to`` is the last run the customer was seen in that segment, the day before only
when runs are daily), and the stretches alone cannot tell it: a night with no changes leaves
no trace. So :func:`advance` takes ``previous_day`` explicitly (the ``run_date`` of the
history it is given: store it with the history, e.g. as the ``run_date`` of the published
partition or in the Parquet metadata), :func:`truncate` takes the run to go back to and
:func:`audience_delta` the run before ``day``. :func:`moved` needs no run dates.

**Reruns.** To rerun an old date ``D`` whose previous run was ``P``::

    h = truncate(history, P, names_on_P)        # the history as it was after run P
    h = advance(h, P, D, assignments_on_D)
    for previous, day in later runs:             # every later published day, in order
        h = advance(h, previous, day, assignments_on[day])

which gives exactly the history a build from scratch over the same daily tables gives.

**Who moved from segment 3 to segment 5 in the week of 4 March 2024** (a move is a stretch
in 5 starting in the week whose customer's previous stretch was in 3; a customer who made
that move twice in the week is listed twice). The same query that :func:`moved` runs, for
analysts, in DuckDB (``CREATE VIEW segment_history AS FROM 'history.parquet'``) or
PostgreSQL:

.. code-block:: sql

    SELECT customer_id, valid_from AS moved_on
    FROM (
        SELECT customer_id, segment_id, valid_from,
               lag(segment_id) OVER (PARTITION BY customer_id ORDER BY valid_from)
                   AS from_segment_id
        FROM segment_history
    ) AS h
    WHERE from_segment_id = 3 AND segment_id = 5
      AND valid_from BETWEEN DATE '2024-03-04' AND DATE '2024-03-10'
    ORDER BY customer_id, moved_on;

It takes the previous stretch with ``lag`` rather than joining on "ends the day before",
so a skipped night (or any non-daily schedule) does not hide a move; with daily runs the
two agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

COLUMNS = ("customer_id", "segment_id", "segment_name", "valid_from", "valid_to")
ASSIGNMENT_COLUMNS = ("customer_id", "segment_id", "segment_name")
DATE = pd.ArrowDtype(pa.date32())

_CHECK_SQL = """
SELECT max(valid_from) AS last_from,
       max(valid_to) AS last_to,
       count(*) FILTER (WHERE valid_to < valid_from) AS reversed,
       count(*) FILTER (WHERE valid_to IS NULL)
           - count(DISTINCT customer_id) FILTER (WHERE valid_to IS NULL) AS extra_open
FROM history
"""

_REPEATED_SQL = """
SELECT count(*), min(customer_id)
FROM (SELECT customer_id FROM today GROUP BY customer_id HAVING count(*) > 1)
"""

_ADVANCE_SQL = """
WITH joined AS (
    SELECT coalesce(o.customer_id, t.customer_id) AS customer_id,
           o.customer_id IS NOT NULL AS was_open,
           t.customer_id IS NOT NULL AS is_here,
           o.segment_id AS old_id, o.segment_name AS old_name, o.valid_from AS old_from,
           t.segment_id AS new_id, t.segment_name AS new_name
    FROM (SELECT * FROM history WHERE valid_to IS NULL) AS o
    FULL JOIN today AS t ON o.customer_id = t.customer_id
)
-- stretches closed before: untouched
SELECT customer_id, segment_id, segment_name, valid_from, valid_to
FROM history WHERE valid_to IS NOT NULL
UNION ALL
-- same segment id: the open stretch goes on, under today's name
SELECT customer_id, old_id, new_name, old_from, CAST(NULL AS DATE)
FROM joined WHERE was_open AND is_here AND old_id = new_id
UNION ALL
-- another segment today, or absent today: close the open stretch at the previous run
SELECT customer_id, old_id, old_name, old_from, CAST($previous_day AS DATE)
FROM joined WHERE was_open AND NOT (is_here AND old_id = new_id)
UNION ALL
-- another segment today, or new: open a stretch from today
SELECT customer_id, new_id, new_name, CAST($day AS DATE), CAST(NULL AS DATE)
FROM joined WHERE is_here AND NOT (was_open AND old_id = new_id)
ORDER BY customer_id, valid_from
"""

_MOVED_SQL = """
SELECT customer_id, valid_from AS moved_on
FROM (
    SELECT customer_id, segment_id, valid_from,
           lag(segment_id) OVER (PARTITION BY customer_id ORDER BY valid_from)
               AS from_segment_id
    FROM segment_history
) AS h
WHERE from_segment_id = $from_segment AND segment_id = $to_segment
  AND valid_from BETWEEN CAST($start AS DATE) AND CAST($end AS DATE)
ORDER BY customer_id, moved_on
"""


def advance(
    history: pd.DataFrame | None,
    previous_day: dt.date | None,
    day: dt.date,
    assignments: pd.DataFrame,
) -> pd.DataFrame:
    """The history after run ``day``, from the history as of run ``previous_day``.

    ``assignments`` has one row per customer present today (``customer_id``, ``segment_id``,
    ``segment_name``; other columns are ignored). An unchanged segment id keeps the open
    stretch and updates its name; a changed one closes it with ``valid_to = previous_day``
    and opens one from ``day``; a new customer opens one from ``day``; a customer with an
    open stretch but absent today has it closed at ``previous_day`` (and starts a new
    stretch if seen again). ``previous_day`` is None only for the first run (no history).
    """
    today = _assignments(assignments)
    past = _empty() if history is None else _history(history)
    if previous_day is None and len(past):
        raise ValueError(
            "advance: a history was given without previous_day; pass the run date the "
            "history is as of"
        )
    if previous_day is not None and previous_day >= day:
        raise ValueError(f"advance: previous_day {previous_day} must be before day {day}")
    con = duckdb.connect()
    try:
        con.register("history", past)
        con.register("today", today)
        ((repeated, example),) = con.execute(_REPEATED_SQL).fetchall()
        if repeated:
            raise ValueError(
                f"advance: assignments list {repeated} customer(s) more than once, e.g. {example!r}"
            )
        if previous_day is not None and len(past):
            _check_history(con, previous_day)
        result = con.sql(
            _ADVANCE_SQL, params={"previous_day": previous_day, "day": day}
        ).to_arrow_table()
    finally:
        con.close()
    return _typed(result.to_pandas(types_mapper={pa.date32(): DATE}.get))


def truncate(history: pd.DataFrame, as_of: dt.date, names: Mapping[int, str]) -> pd.DataFrame:
    """The history as it was at the end of run ``as_of``: the start point for a rerun.

    To rerun ``D``, pass the run before ``D`` as ``as_of``. Stretches starting after
    ``as_of`` are dropped; stretches that were still going on ``as_of`` (``valid_to >=
    as_of``: closed by a later run) are reopened. ``as_of`` must be a run date: a date
    between runs cannot tell a stretch that ended on the run before it from one closed
    earlier. ``names`` maps each segment id of run ``as_of`` to its name that night (from
    that run's ``segment_profiles`` or ``customer_segments``); open stretches get it back,
    since a later rename overwrote it. A history with nothing up to ``as_of`` comes back
    empty.
    """
    past = _history(history)
    past = past[(past["valid_from"] <= as_of).to_numpy(dtype=bool)].copy()
    reopen = (past["valid_to"] >= as_of).to_numpy(dtype=bool, na_value=False)
    past.loc[reopen, "valid_to"] = pd.NA
    is_open = past["valid_to"].isna().to_numpy()
    lookup = pd.Series({int(k): v for k, v in names.items()}, dtype="str")
    open_names = past.loc[is_open, "segment_id"].map(lookup)
    missing = sorted(set(past.loc[is_open, "segment_id"][open_names.isna()].tolist()))
    if missing:
        raise ValueError(f"truncate: names has no name for segment ids {missing} on {as_of}")
    past.loc[is_open, "segment_name"] = open_names
    return _ordered(_typed(past))


def moved(
    history: pd.DataFrame,
    from_segment: int,
    to_segment: int,
    start: dt.date,
    end: dt.date,
) -> pd.DataFrame:
    """Customers who moved from ``from_segment`` to ``to_segment`` on a run in [start, end].

    One row per move (``customer_id``, ``moved_on`` = the first run in ``to_segment``),
    sorted; the query is the one in the module docstring.
    """
    if start > end:
        raise ValueError(f"moved: start {start} is after end {end}")
    con = duckdb.connect()
    try:
        con.register("segment_history", _history(history))
        params = {
            "from_segment": int(from_segment),
            "to_segment": int(to_segment),
            "start": start,
            "end": end,
        }
        result = con.sql(_MOVED_SQL, params=params).to_arrow_table()
    finally:
        con.close()
    out = result.to_pandas(types_mapper={pa.date32(): DATE}.get)
    return pd.DataFrame(
        {
            "customer_id": out["customer_id"].astype("str"),
            "moved_on": out["moved_on"].astype(DATE),
        }
    )


def audience_delta(
    history: pd.DataFrame, segment_id: int, previous_day: dt.date | None, day: dt.date
) -> tuple[pd.Series, pd.Series]:
    """The customer ids (added, removed) to segment ``segment_id`` by run ``day``.

    ``previous_day`` is the run before ``day`` (None if ``day`` is the first run) and
    ``history`` must be as of ``day`` or later. Applied to the audience of
    ``previous_day``, the two give the audience of ``day``: added customers start a
    stretch in the segment on ``day``, removed ones ended theirs on ``previous_day``
    (moved elsewhere or absent on ``day``). Both are sorted.
    """
    past = _history(history)
    if previous_day is not None:
        if previous_day >= day:
            raise ValueError(
                f"audience_delta: previous_day {previous_day} must be before day {day}"
            )
        between = pd.concat([past["valid_from"], past["valid_to"].dropna()])
        if ((between > previous_day) & (between < day)).any():
            raise ValueError(
                f"audience_delta: the history has runs between {previous_day} and {day}; "
                "pass the run just before day as previous_day"
            )
    in_segment = (past["segment_id"] == int(segment_id)).to_numpy()
    added = in_segment & (past["valid_from"] == day).to_numpy(dtype=bool)
    if previous_day is None:
        removed = np.zeros(len(past), dtype=bool)
    else:
        removed = in_segment & (past["valid_to"] == previous_day).to_numpy(
            dtype=bool, na_value=False
        )
    return _ids(past["customer_id"][added]), _ids(past["customer_id"][removed])


# ---------------------------------------------------------------- helpers


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series([], dtype="str"),
            "segment_id": pd.Series([], dtype="int64"),
            "segment_name": pd.Series([], dtype="str"),
            "valid_from": pd.Series([], dtype=DATE),
            "valid_to": pd.Series([], dtype=DATE),
        }
    )


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; it has {list(frame.columns)}")
    for col in ("customer_id", "segment_id", *(("valid_from",) if "valid_from" in columns else ())):
        if frame[col].isna().any():
            raise ValueError(f"{what} has null {col} values")


def _history(frame: pd.DataFrame) -> pd.DataFrame:
    """The history's columns with their types; extra columns (a run_date) are dropped."""
    _require(frame, COLUMNS, "history")
    return _typed(frame[list(COLUMNS)])


def _assignments(frame: pd.DataFrame) -> pd.DataFrame:
    _require(frame, ASSIGNMENT_COLUMNS, "assignments")
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].astype("str"),
            "segment_id": frame["segment_id"].astype("int64"),
            "segment_name": frame["segment_name"].astype("str"),
        }
    ).reset_index(drop=True)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].astype("str"),
            "segment_id": frame["segment_id"].astype("int64"),
            "segment_name": frame["segment_name"].astype("str"),
            "valid_from": frame["valid_from"].astype(DATE),
            "valid_to": frame["valid_to"].astype(DATE),
        }
    ).reset_index(drop=True)


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` sorted by (customer_id, valid_from); a no-op check when it already is."""
    if len(frame) < 2:
        return frame
    prev = frame.iloc[:-1].reset_index(drop=True)
    nxt = frame.iloc[1:].reset_index(drop=True)
    same = (nxt["customer_id"] == prev["customer_id"]).to_numpy(dtype=bool)
    later = (nxt["valid_from"] > prev["valid_from"]).to_numpy(dtype=bool)
    if ((nxt["customer_id"] > prev["customer_id"]).to_numpy(dtype=bool) | (same & later)).all():
        return frame
    return frame.sort_values(["customer_id", "valid_from"], ignore_index=True)


def _check_history(con: duckdb.DuckDBPyConnection, previous_day: dt.date) -> None:
    """Cheap consistency checks of a history about to be advanced from ``previous_day``."""
    ((last_from, last_to, reversed_, extra_open),) = con.execute(_CHECK_SQL).fetchall()
    last = max(last_from, last_to or last_from)
    if last > previous_day:
        raise ValueError(
            f"advance: the history has runs after previous_day {previous_day} (up to "
            f"{last}); truncate it to previous_day first, or pass the run date it is as of"
        )
    if reversed_:
        raise ValueError(
            f"advance: the history has {reversed_} stretch(es) ending before they start"
        )
    if extra_open:
        raise ValueError(
            f"advance: the history has {extra_open} customer(s) with two open stretches"
        )


def _ids(values: pd.Series) -> pd.Series:
    return pd.Series(values.sort_values().to_numpy(), dtype="str", name="customer_id")


@dataclass(frozen=True)
class Refold:
    """How to bring the history file up to date after run ``day`` is published.

    ``base`` is where to start: ``scratch`` (no history), ``file`` (the file as it is) or
    ``truncate`` (the file cut back to the end of run ``previous``); then ``todo`` are folded
    on, oldest first.
    """

    base: Literal["scratch", "file", "truncate"]
    previous: dt.date | None
    todo: tuple[dt.date, ...]


def plan_refold(runs: Sequence[dt.date], as_of: dt.date | None, day: dt.date) -> Refold:
    """The fold that makes the history equal a build from scratch over the published ``runs``.

    A night after the history's ``as_of`` is folded on (with any published runs between); a
    rerun of an older night truncates to the run before it, then refolds every run from it.
    """
    runs = sorted(runs)
    if as_of is None:
        return Refold("scratch", None, tuple(runs))
    if as_of < day:
        return Refold("file", as_of, tuple(d for d in runs if as_of < d))
    before = [d for d in runs if d < day]
    if not before:
        return Refold("scratch", None, tuple(d for d in runs if d >= day))
    return Refold("truncate", before[-1], tuple(d for d in runs if d >= day))
