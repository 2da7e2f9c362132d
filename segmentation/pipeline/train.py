"""Train tonight's challenger and decide whether it replaces the champion."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd

from segmentation import model
from segmentation.config import Config
from segmentation.errors import SegmentationError
from segmentation.features.build import model_feature_columns
from segmentation.io import locks
from segmentation.layout import Home
from segmentation.model import registry
from segmentation.model.alignment import align_segment_ids
from segmentation.model.challenger import (
    Decision,
    challenger_record,
    inherited_keys,
    warm_start_centres,
)
from segmentation.pipeline import store
from segmentation.pipeline.drift import feature_drift
from segmentation.segments import personas

log = logging.getLogger(__name__)


@locks.locked
def train_model(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Train tonight's challenger and decide whether it replaces the champion."""
    home = Home(cfg.home)
    store.refuse_second_lineage(home, day)  # before the work; again before saving
    features = store.features_of(home, day)
    columns = model_feature_columns(features, cfg.model.features)
    champion = store.champion(home, day, strictly_before=True)
    warm = warm_start_centres(champion, columns, cfg.model.warm_start)
    challenger = model.train(features, columns, cfg.model, day, warm)
    decision = _decide(cfg, home, day, features, challenger, champion)
    alignment = align_segment_ids(
        challenger.centers_log_,
        columns,
        champion,
        challenger.scale_,
        cfg.model.id_match_distance,
    )
    rows = model.sample_rows(len(features), cfg.model.fit_sample, challenger.random_state)
    named = features.iloc[rows]
    keys = personas.assign_archetypes(
        named,
        np.asarray(alignment.segment_ids)[challenger.predict(named)],
        inherited_keys(alignment, champion),
        cfg.features.window_days,
    )
    for sid in alignment.segment_ids:  # a segment too small to appear in the sample
        keys.setdefault(sid, f"segment_{sid}")
    record = challenger_record(
        challenger, champion, alignment, keys, decision, day, columns, len(features)
    )
    _save(home, day, challenger, record, champion)
    version = record.model_version
    log.info("%s %s: %s", version, "promoted" if decision.promoted else "rejected", record.reason)
    return {
        "run_date": day.isoformat(),
        "model_version": version,
        "algorithm": record.algorithm,
        "n_segments": record.n_segments,
        "silhouette": round(challenger.scores_["silhouette"], 4),
        "champion": version if decision.promoted else champion.model_version if champion else None,
        "reason": record.reason,
    }


def _save(
    home: Home,
    day: dt.date,
    challenger: model.Segmenter,
    record: registry.ModelRecord,
    champion: registry.ModelRecord | None,
) -> None:
    """Save tonight's challenger, unless a night run beside it (a backfill with several active
    runs) saved a model meanwhile that changes what it should have been judged against."""
    with locks.shared(home):
        registry.refuse_second_lineage(home.models, day)  # a newer night saved the first model
        found = registry.champion_as_of(home.models, day, strictly_before=True)
        now, was = (c.model_version if c else "none" for c in (found, champion))
        if now != was:
            raise SegmentationError(
                f"the champion before {day} changed while {day} trained (from {was} to {now}: "
                f"another run saved a model meanwhile), so {day} must be judged against the new "
                f"one; nothing was saved for {day}. Run {day} again (Airflow retries it), and "
                "run backfills one night at a time (--max-active-runs 1)"
            )
        registry.save_model(challenger, record, home.models)


def _decide(
    cfg: Config,
    home: Home,
    day: dt.date,
    features: pd.DataFrame,
    challenger: model.Segmenter,
    champion: registry.ModelRecord | None,
) -> Decision:
    """Score the champion on the challenger's sample and apply the promotion policy."""
    champion_score = None
    forced = None
    if champion is not None:
        missing = [f for f in champion.features if f not in features]
        if missing:
            forced = f"the champion's features {missing} no longer exist"
        else:
            # both models' labels for the same customers, scored in the challenger's space
            sample = challenger.scored_sample(features)
            champion_model, _ = store.load_model(home, champion.model_version)
            champion_score = model.quality(
                challenger.transform(sample), champion_model.predict(sample)
            )["silhouette"]
            forced = _drift_forcing_retrain(cfg, home, champion, features, day)
    promoted, reason = registry.promotion(
        challenger.scores_["silhouette"], champion_score, cfg.model.promote_margin, forced
    )
    return Decision(promoted, reason, champion_score, forced)


def _drift_forcing_retrain(
    cfg: Config,
    home: Home,
    champion: registry.ModelRecord,
    features: pd.DataFrame,
    day: dt.date,
) -> str | None:
    """Drift policy: an alert against the champion's reference forces a retrain.

    The same decision as ``compute_drift``, on seeded samples of ``fit_sample`` customers.
    """
    seed = model.run_seed(cfg.model.random_state, day)
    metrics, _ = feature_drift(cfg, home, champion, features, day, cfg.model.fit_sample, seed)
    if metrics is None:
        return None
    alerts = metrics[(metrics["level"] == "alert")]
    if alerts.empty:
        return None
    listed = ", ".join(f"{r.name} ({r.metric} {r.value:.2f})" for r in alerts.itertuples())
    return f"drift alert forces a retrain: {listed} >= {cfg.drift.psi_alert:g}"
