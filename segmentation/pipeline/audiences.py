"""Tonight's audiences: the tables of who is in each, and the files a marketing tool loads.

Runs after ``publish_tables``: it reads tonight's published ``customer_segments`` (and
``customer_predictions`` when an audience filters on them), publishes ``audience_members``
and ``audience_changes`` to every sink, and writes each audience's ``members.csv`` and
``changes.csv``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmentation import layout
from segmentation.campaigns import audiences, exports
from segmentation.config import Config
from segmentation.errors import SegmentationError
from segmentation.io import locks, sinks
from segmentation.io.parquet import read_published, stage_table
from segmentation.io.sources import read_customers
from segmentation.layout import Home
from segmentation.pipeline.publish import asset_facts
from segmentation.privacy import keymap
from segmentation.privacy.pseudonyms import KEY_COLUMN
from segmentation.segments.control import global_control_flags


@locks.locked
def export_audiences(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Select every configured audience from ``day``'s published tables; publish and export."""
    home, defined = Home(cfg.home), cfg.audiences.defined
    segments = read_published(home, "customer_segments", day, audiences.SEGMENT_COLUMNS)
    if segments is None:
        raise SegmentationError(
            f"customer_segments for {day} is not published; run publish_tables first"
        )
    predictions = None
    if any(audiences.needs_predictions(spec) for spec in defined.values()):
        predictions = read_published(
            home, "customer_predictions", day, audiences.PREDICTION_COLUMNS
        )
        if predictions is None:
            raise SegmentationError(
                f"customer_predictions for {day} is not published, and an audience filters "
                "on churn_risk or predicted value; run predict_customers and publish_tables"
            )
    held_out = global_control_flags(
        segments["customer_id"], cfg.control.global_share, cfg.control.salt
    )
    previous = _previous_exported(home, day, list(defined))
    members, changes = [], []
    for name, spec in defined.items():
        tonight = audiences.members(segments, predictions, spec, held_out)
        exported = tonight.loc[tonight["exported"], "customer_id"].to_numpy()
        members.append(tonight.assign(audience=name))
        changes.append(audiences.changes(previous.get(name), exported).assign(audience=name))
    attributes = _attributes(cfg) if members else None  # a bad column stops us before publishing
    files = {
        "audience_members": _staged(cfg, day, "audience_members", members),
        "audience_changes": _staged(cfg, day, "audience_changes", changes),
    }
    try:
        moved = sinks.publish_files(sinks.sinks_for(cfg), day, files)
    finally:
        shutil.rmtree(home.work(day), ignore_errors=True)
    written = _export(cfg, home, day, members, changes, attributes)
    return {
        "run_date": day.isoformat(),
        "audiences": {
            name: int(m["exported"].sum()) for name, m in zip(defined, members, strict=True)
        },
        "global_control": int(held_out.sum()),
        "files": [str(p) for p in written],
        "assets": asset_facts(home, day, moved),
    }


def _staged(cfg: Config, day: dt.date, table: str, parts: list[pd.DataFrame]) -> Path:
    names = [c.name for c in layout.table(table).columns]
    frame = pd.concat(parts, ignore_index=True)[names] if parts else pd.DataFrame(columns=names)
    path = Home(cfg.home).staged_table(table, day)
    return stage_table(frame, table, day, path, keymap.for_config(cfg))


def _previous_exported(home: Home, day: dt.date, names: list[str]) -> dict[str, np.ndarray]:
    """Per audience of ``names``, the customers its newest earlier night exported (also when
    the audience was left out of the config for a while), so tonight's changes.csv chains to
    the members a tool holds."""
    found = {}
    for name in names:
        ids = exports.last_members(home.audiences / name, day)
        if ids is not None and ids.name == KEY_COLUMN:
            found[name] = keymap.ids_of(home, ids, f"the members.csv of audience {name}")
        elif ids is not None:
            found[name] = ids.to_numpy()
    return found


def _attributes(cfg: Config) -> pd.DataFrame | None:
    """customer_id and audiences.export_columns from the customers source (None: no columns)."""
    columns = cfg.audiences.export_columns
    if not columns:
        return None
    if cfg.customers is None:
        raise SegmentationError(
            "audiences.export_columns names columns of the customers source, but the "
            "config has no customers section; add one (customers.path) or drop the key"
        )
    return read_customers(cfg.customers, columns)[["customer_id", *columns]]


def _export(
    cfg: Config,
    home: Home,
    day: dt.date,
    members: list[pd.DataFrame],
    changes: list[pd.DataFrame],
    attributes: pd.DataFrame | None,
) -> list[Path]:
    """Write each audience's members.csv and changes.csv of ``day``."""
    written = []
    pseudonyms = keymap.for_config(cfg)
    for name, tonight, changed in zip(cfg.audiences.defined, members, changes, strict=True):
        exported = tonight.loc[tonight["exported"], ["customer_id"]]
        files = [
            exports.with_columns(exported, attributes),
            exports.with_columns(changed[["customer_id", "change"]], attributes),
        ]
        if pseudonyms is not None:  # customer_key, in key order: no raw id, nor its order
            files = [
                pseudonyms.replace(f).sort_values(KEY_COLUMN, kind="stable", ignore_index=True)
                for f in files
            ]
        written += exports.write(home.audience_export(name, day), *files)
    return written
