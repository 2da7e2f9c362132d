"""When a synthetic log's rows reach the daily export files: late and re-sent rows.

A shop's exporter does not always deliver an event in the file of its own day. A late sync
leaves a share of the events out of their day's file and delivers them ``late_by`` days later
(after that file's own rows); an exporter that re-sends a file appends a full copy of an
earlier day's file, byte for byte the same rows, to a later one. ``arrange_arrivals`` turns a
log into rows in file order with each row's file; ``synthetic.write`` writes them. Seeded on
its own (``[seed, 13]`` for the late choice, ``[seed, 14]`` for the re-sent days), so the log
itself and the other options' random streams stay as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

RESEND_AFTER = 2  # a re-sent file arrives with the export two days later


@dataclass(frozen=True)
class Arrivals:
    rows: pd.DataFrame  # the log's rows (and re-sent copies) in the order the files hold them
    file_day: np.ndarray  # each row's file, in days from the start
    late_events: int  # rows delivered in a later day's file than their own
    resent_events: int  # copies of rows re-sent
    resent_days: tuple[dt.date, ...]  # the days whose files were sent again


def arrange_arrivals(
    events: pd.DataFrame,
    start: dt.date,
    days: int,
    seed: int,
    late_share: float = 0.0,
    late_by: int = 5,
    resend: int = 0,
) -> Arrivals:
    """The rows of ``events`` as the ``days`` daily files from ``start`` deliver them.

    A seeded ``late_share`` of the events of every day but the last (the lines of one order,
    same ``order_id`` and ``event_time``, go together) moves to the file ``late_by`` days
    later, or the last day's file if that is past the end. Then the files of ``resend``
    seeded days (each with a day two later in range) are copied, as first sent (their own
    rows and the late rows they received), after the rows of the file two days later.
    Rows outside the days keep their own (unwritten) day.
    """
    if not 0.0 <= late_share <= 1.0:
        raise ValueError(f"late_share must be between 0 and 1, not {late_share}")
    if late_by < 1:
        raise ValueError(f"late_by must be at least one day, not {late_by}")
    if not 0 <= resend <= max(days - RESEND_AFTER, 0):
        raise ValueError(
            f"resend {resend}: only {max(days - RESEND_AFTER, 0)} of {days} days have a day "
            f"{RESEND_AFTER} later"
        )
    day = event_days(events, start)
    late = choose_late(event_units(events), day, days, late_share, seed)
    file_day = np.where(late, np.minimum(day + late_by, days - 1), day)
    order = np.lexsort((np.arange(len(events)), late, file_day))
    rows = events.iloc[order].reset_index(drop=True)
    file_day = file_day[order]
    rng = np.random.default_rng([seed, 14])
    sources = np.sort(rng.choice(max(days - RESEND_AFTER, 0), size=resend, replace=False))
    copied = np.isin(file_day, sources)
    rows = pd.concat([rows, rows[copied]], ignore_index=True)
    file_day = np.concatenate([file_day, file_day[copied] + RESEND_AFTER])
    # stable on the file alone: own rows, then late ones (already in that order), then copies
    order = np.argsort(file_day, kind="stable")
    return Arrivals(
        rows=rows.iloc[order].reset_index(drop=True),
        file_day=file_day[order],
        late_events=int(late.sum()),
        resent_events=int(copied.sum()),
        resent_days=tuple(start + dt.timedelta(days=int(d)) for d in sources),
    )


def event_days(events: pd.DataFrame, start: dt.date) -> np.ndarray:
    """Each row's UTC day of ``event_time``, in days from ``start``."""
    since = events["event_time"].dt.floor("D") - pd.Timestamp(start, tz="UTC")
    return (since // pd.Timedelta(days=1)).to_numpy(dtype="int64")


def event_units(events: pd.DataFrame) -> np.ndarray:
    """A code per row for what arrives together: an order's lines (same ``order_id`` and
    ``event_time``) share one; every other row has its own."""
    n = len(events)
    if "order_id" not in events or n == 0:
        return np.arange(n)
    keys = events.groupby(["order_id", "event_time"], sort=False, dropna=True)
    order = keys.ngroup().fillna(-1).to_numpy(dtype="int64", copy=True)
    alone = order < 0  # no order_id (ngroup leaves it out): an event on its own
    order[alone] = order.max() + 1 + np.arange(alone.sum())
    return pd.factorize(order)[0]


def choose_late(
    unit: np.ndarray, day: np.ndarray, days: int, share: float, seed: int
) -> np.ndarray:
    """A mask of the rows of ``round(share x eligible)`` seeded units: those of the days
    before the last one (a later file exists) are eligible."""
    late = np.zeros(len(unit), dtype=bool)
    if share <= 0 or len(unit) == 0:
        return late
    unit_day = np.full(unit.max() + 1, -1)
    unit_day[unit] = day
    eligible = np.flatnonzero((unit_day >= 0) & (unit_day < days - 1))
    rng = np.random.default_rng([seed, 13])
    chosen = rng.choice(eligible, size=round(share * len(eligible)), replace=False)
    late_unit = np.zeros(len(unit_day), dtype=bool)
    late_unit[chosen] = True
    return late_unit[unit]
