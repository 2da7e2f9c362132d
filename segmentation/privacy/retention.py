"""Retention: which partitions under home the nightly cleanup deletes, and the deleting.

Each area keeps its last ``retention.<area>_days`` nights counted back from the newest night
run so far (null: everything). The nights from ``rerun_from`` (the last ``state_days``) on,
and tomorrow's, stay runnable: what they read back of older nights is kept whatever its age
(``Needs``, gathered by :mod:`segmentation.pipeline.cleanup`). Never deleted: the lake, the
quarantine, the validation records and the dropped duplicates (the intake's record of
every row it read), ``output/current``, and a model's ``meta.json`` (the registry's record;
only the artifact beside it goes).

Pure planning on dates (``window``, ``to_delete``, ``needed_outputs``), plus the deleting
(``remove``), the sizes (``tree_bytes``) and the rerun guard (``refuse_rerun``).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segmentation.config_privacy import RetentionConfig
from segmentation.errors import RetentionExpired
from segmentation.io.lake import DELETING

# area -> the retention key that ages it
KEYS = {
    "staging": "staging_days",
    "work": "staging_days",
    "state": "state_days",
    "features": "features_days",
    "models": "models_days",
    "churn_models": "models_days",
    "recommendation_models": "models_days",
    "output": "output_days",
    "audiences": "output_days",
    "reports": "reports_days",
}


@dataclass(frozen=True)
class Window:
    """What the cleanup relative to night ``newest`` keeps."""

    newest: dt.date
    rerun_from: dt.date | None  # the oldest night that can be rerun (None: every night)
    keep_from: Mapping[str, dt.date | None]  # per area, the oldest night kept by age

    @property
    def nights(self) -> list[dt.date]:
        """The nights that must stay runnable: ``rerun_from`` through tomorrow."""
        assert self.rerun_from is not None
        span = (self.newest - self.rerun_from).days + 2
        return [self.rerun_from + dt.timedelta(days=i) for i in range(span)]


def oldest_kept(newest: dt.date, days: int | None) -> dt.date | None:
    """The oldest night of the last ``days`` nights up to ``newest`` (None: keep all)."""
    return None if days is None else newest - dt.timedelta(days=days - 1)


def window(r: RetentionConfig, newest: dt.date) -> Window:
    keep = {area: oldest_kept(newest, getattr(r, key)) for area, key in KEYS.items()}
    return Window(newest, oldest_kept(newest, r.state_days), keep)


def to_delete(
    found: Iterable[dt.date], keep_from: dt.date | None, needed: Collection[dt.date] = ()
) -> list[dt.date]:
    """The nights of ``found`` older than ``keep_from`` that nothing ``needed``, oldest first."""
    if keep_from is None:
        return []
    return sorted(d for d in set(found) if d < keep_from and d not in needed)


def latest_before(days: Iterable[dt.date], day: dt.date) -> dt.date | None:
    earlier = [d for d in days if d < day]
    return max(earlier) if earlier else None


@dataclass(frozen=True)
class Needs:
    """What the nights ``Window.nights`` read back, by night, for the cleanup to keep.

    ``champions`` maps each of those nights to the segmentation champion before it (its
    version's date and its drift reference day), ``churn`` and ``recommenders`` to the date of
    the side model it uses; ``churn_days`` / ``holdout_days`` are None when predictions /
    recommendations are off; ``campaign_starts`` are the configured campaigns' starts.
    """

    champions: Mapping[dt.date, tuple[dt.date, dt.date] | None]
    churn: Mapping[dt.date, dt.date | None]
    recommenders: Mapping[dt.date, dt.date | None]
    churn_days: int | None
    holdout_days: int | None
    campaign_starts: Sequence[dt.date] = ()


def needed_features(needs: Needs) -> set[dt.date]:
    """Drift reference days, and the churn cutoffs (``predict.features_as_of``)."""
    out = {c[1] for c in needs.champions.values() if c is not None}
    if needs.churn_days is not None:
        out |= {n - dt.timedelta(days=needs.churn_days) for n in needs.champions}
    return out


def needed_models(needs: Needs) -> dict[str, set[dt.date]]:
    return {
        "models": {c[0] for c in needs.champions.values() if c is not None},
        "churn_models": {d for d in needs.churn.values() if d is not None},
        "recommendation_models": {d for d in needs.recommenders.values() if d is not None},
    }


def needed_outputs(needs: Needs, runs: Sequence[dt.date]) -> set[dt.date]:
    """Nights whose published partitions the runnable nights read, given the published
    ``customer_segments`` nights ``runs``: the drift reference segments, the segments before
    a recommender's cutoff, the groups a campaign froze (``latest_before`` its start). The
    night before the oldest runnable one is kept per table by ``plan_outputs``."""
    out = {c[1] for c in needs.champions.values() if c is not None}
    befores = list(needs.campaign_starts)
    if needs.holdout_days is not None:
        befores += [n - dt.timedelta(days=needs.holdout_days - 1) for n in needs.champions]
    out |= {d for d in (latest_before(runs, b) for b in befores) if d is not None}
    return out


def plan_outputs(
    series: Mapping[str, Sequence[dt.date]], w: Window, needed: Collection[dt.date]
) -> dict[str, list[dt.date]]:
    """Per output series (a table, an audience's exports), the nights to delete: older than
    ``output_days``, not ``needed``, and not the series' newest night before ``rerun_from``
    (assign, drift and the history fold of that night read their previous night)."""
    out = {}
    for name, days in series.items():
        keep = set(needed)
        if w.rerun_from is not None:
            keep.add(latest_before(days, w.rerun_from) or w.rerun_from)
        out[name] = to_delete(days, w.keep_from["output"], keep)
    return out


def tree_bytes(path: Path) -> int:
    """The bytes of the files under ``path`` (a file's own size; 0 when missing)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        total += sum((Path(folder) / f).stat().st_size for f in files)
    return total


def remove(path: Path) -> int:
    """Delete a partition folder (renamed aside first, so a reader never sees half of it) or
    a file; return its bytes."""
    size = tree_bytes(path)
    if path.is_dir():
        aside = path.with_name(f"{DELETING}{path.name}-{uuid.uuid4().hex}")
        path.rename(aside)
        shutil.rmtree(aside)
    else:
        path.unlink(missing_ok=True)
    return size


def record(w: Window, day: dt.date, state_days: int | None) -> dict[str, Any]:
    """What ``retention.json`` keeps of a cleanup (read back by ``refuse_rerun``)."""
    return {
        "cleaned_by": day.isoformat(),
        "newest": w.newest.isoformat(),
        "state_days": state_days,
        "rerun_from": None if w.rerun_from is None else w.rerun_from.isoformat(),
        "kept_from": {a: None if d is None else d.isoformat() for a, d in w.keep_from.items()},
    }


def refuse_rerun(recorded: Mapping[str, Any] | None, day: dt.date) -> None:
    """Refuse night ``day`` when an earlier cleanup deleted what running it needs."""
    if not recorded or recorded.get("rerun_from") is None:
        return
    start = dt.date.fromisoformat(recorded["rerun_from"])
    if day >= start:
        return
    raise RetentionExpired(
        f"{day} cannot be run: retention.state_days is {recorded['state_days']}: the state of "
        f"the nights before {start} (and what retention ages out with it) was deleted by the "
        f"nightly cleanup as of {recorded['newest']}; nights from {start} can be rerun (raise "
        f"retention.state_days to keep more). Nothing was written for {day}."
    )
