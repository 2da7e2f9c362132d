"""Assign every customer a segment with the champion, and stage tonight's segment tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from segmentation import layout
from segmentation.catalog import PREDICTION_PROFILE_COLUMNS, RULES_PROFILE_COLUMN
from segmentation.config import Config
from segmentation.engines import engine_for
from segmentation.errors import SegmentationError
from segmentation.features import rfm
from segmentation.io import locks
from segmentation.io.parquet import stage_table
from segmentation.layout import Home
from segmentation.model import registry
from segmentation.model.segmenter import Segmenter
from segmentation.monitoring import drift
from segmentation.pipeline import store
from segmentation.privacy import keymap
from segmentation.segments import control, personas, rules, tables


@locks.locked
def assign_segments(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Segment, name, explain and RFM-score every customer with the champion; stage the tables."""
    home = Home(cfg.home)
    features = store.features_of(home, day)
    champion = store.champion(home, day)
    if champion is None:
        raise SegmentationError(f"no model trained up to {day}; run train_model for {day} first")
    segmenter, record = store.load_model(home, champion.model_version)
    built = segment_tables(cfg, features, segmenter, record)
    built["segment_migrations"] = drift.migrations(
        built["customer_segments"], store.previous_segments(home, day)
    )
    pseudonyms = keymap.for_config(cfg)
    for table in layout.staged_tables("assign_segments"):
        path = home.staged_table(table.name, day)
        stage_table(built[table.name], table.name, day, path, pseudonyms)
    profiles = built["segment_profiles"]
    return {
        "run_date": day.isoformat(),
        "model_version": record.model_version,
        "customers": len(built["customer_segments"]),
        "segments": dict(
            zip(profiles["segment_name"], profiles["customers"].astype(int).tolist(), strict=True)
        ),
    }


def segment_tables(
    cfg: Config, features: pd.DataFrame, segmenter: Segmenter, record: registry.ModelRecord
) -> dict[str, pd.DataFrame]:
    """``customer_segments``, ``segment_profiles`` and ``segment_rules`` of tonight."""
    segment_ids = np.asarray(record.segment_ids)[engine_for(cfg).assign(segmenter, features)]
    language = cfg.personas.language
    names = personas.segment_names(record.keys_by_id, language)
    is_control = control.control_flags(
        features["customer_id"],
        segment_ids,
        cfg.control.share,
        cfg.control.shares,
        cfg.control.salt,
    )
    segments = tables.customer_segments(
        features,
        segment_ids,
        names,
        record.model_version,
        is_control,
        rfm.score_rfm(features, cfg.rfm.cuts),
    )
    segment_rules = rules.segment_rules(
        features,
        segment_ids,
        record.features,
        cfg.rules.max_depth,
        cfg.rules.sample,
        record.random_state,
        language,
    )
    affinity = personas.category_affinity(features, segment_ids)
    texts = {
        "segment_name": names,
        "description": personas.describe_segments(features, segment_ids, names, language),
        "rules": rules.rules_summary(segment_rules, language),
        "affinity": personas.affinity_summary(affinity, language),
    }
    profiles = tables.profiles_table(
        personas.segment_profiles(features, segment_ids, record.features),
        record.model_version,
        texts,
        pd.Series(is_control).groupby(segment_ids).sum(),
        affinity.pivot(index="segment_id", columns="category", values="lift").add_prefix("lift_"),
    )
    # filled by predict_customers; null when predictions are off
    profiles = profiles.assign(**dict.fromkeys(PREDICTION_PROFILE_COLUMNS, np.nan))
    profiles[RULES_PROFILE_COLUMN] = pd.Series(pd.NA, index=profiles.index, dtype="string")
    return {
        "customer_segments": segments,
        "segment_profiles": profiles,
        "segment_rules": tables.rules_table(segment_rules, record.model_version),
    }
