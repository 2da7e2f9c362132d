"""The nightly steps, shared by the Airflow DAG and the CLI.

Each step takes the config and the run date, reads what earlier steps left under
``cfg.home`` and returns a small JSON-able dict (what Airflow keeps as XCom): paths, keys and
counts, never DataFrames. Every write is keyed by the run date and atomic, so rerunning a
step for a date replaces exactly that date's output.

Layout under ``home``::

    staging/events/event_date=D/     extracted, not yet validated
    lake/events/event_date=D/        validated events (the only input to features)
    quarantine/events/event_date=D/  a batch that failed validation, with the GX result
    validation/events/run_date=D.json
    state/run_date=D/                activity counters per customer (rolled forward nightly)
    features/run_date=D/             one row per customer as of the end of D
    models/mYYYYMMDD/                model artifact and metadata
    work/run_date=D/                 assignments waiting to be published
    output/<table>/run_date=D/, output/current/<table>.parquet
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmentation import model, report
from segmentation.config import Config, secret_from_env
from segmentation.errors import BadInput, SegmentationError, ValidationFailed
from segmentation.features import activity, rfm
from segmentation.features.build import features_from_state, model_feature_columns
from segmentation.io import lake, locks, publish, sources, warehouse
from segmentation.model import registry
from segmentation.monitoring import drift
from segmentation.quality import validation
from segmentation.segments import control, history, personas, rules

log = logging.getLogger(__name__)
EVENT_KEY = "event_date"
STATE_KEY = "segmentation.state_of"
HISTORY = "segment_history"
WORK_TABLES = ("customer_segments", "segment_profiles", "segment_migrations", "segment_rules")


def resolve_run_date(
    run_date_param: str | None, logical_date: dt.datetime | None, cfg: Config
) -> dt.date:
    """The day a run processes: the ``run_date`` param, else the day before the logical date.

    A nightly run triggered just after midnight processes the day that just closed (in the
    configured timezone). A run with neither (a manual run without a date) fails fast.
    """
    if run_date_param:
        return parse_date(str(run_date_param), "run_date")
    if logical_date is None:
        raise BadInput(
            "this run has no logical date and no run_date param; trigger it with "
            '{"run_date": "YYYY-MM-DD"}'
        )
    return logical_date.astimezone(cfg.tz).date() - dt.timedelta(days=1)


def parse_date(value: str, what: str = "date") -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{what} {value!r} is not a date; use YYYY-MM-DD") from None


# ---------------------------------------------------------------- extract and validate


@locks.locked
def extract_events(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Read day ``day``'s events from the source into the staging area."""
    return extract_range(cfg, day, day)[0]


def extract_range(cfg: Config, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Read the source once for days [first, last] and stage one partition per day."""
    events = sources.read_events(cfg.source, cfg.tz, first, last)
    local_day = events["event_time"].dt.tz_convert(cfg.tz).dt.date
    out = []
    for i in range((last - first).days + 1):
        day = first + dt.timedelta(days=i)
        batch = events[local_day == day]
        path = lake.write_partition(
            batch, _staging(cfg), EVENT_KEY, day, schema=sources.EVENT_SCHEMA
        )
        out.append({"run_date": day.isoformat(), "rows": len(batch), "staged": str(path)})
        log.info("extracted %d events for %s", len(batch), day)
    return out


@locks.locked
def validate_events(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Validate the staged day; promote it to the lake, or quarantine it and stop the run."""
    staged = lake.partition_dir(_staging(cfg), EVENT_KEY, day)
    result_path = cfg.home / "validation" / "events" / f"run_date={day.isoformat()}.json"
    if not (staged / lake.PART).is_file():
        # a retry after this step already ran: report its recorded outcome again
        if result_path.is_file():
            recorded = json.loads(result_path.read_text(encoding="utf-8"))
            promoted = lake.partition_dir(_lake(cfg), EVENT_KEY, day) / lake.PART
            if recorded.get("success") and promoted.is_file():
                return {"run_date": day.isoformat(), "success": True, "result": str(result_path)}
            if not recorded.get("success"):
                failed = "\n".join(f"  - {f}" for f in recorded.get("failures", []))
                raise ValidationFailed(
                    f"events for {day} failed validation:\n{failed}\nThe batch is in quarantine; "
                    "fix the source data and rerun this date (extract first). "
                    f"Full result: {result_path}"
                )
        raise SegmentationError(f"no extracted events staged for {day}; run extract_events first")
    frame = lake.read_partition(_staging(cfg), EVENT_KEY, day)
    report = validation.validate_frame(frame, "events", validation.event_parameters(day, cfg))
    record = {"run_date": day.isoformat(), **report.summary(), "gx_result": report.result}
    if not report.success:
        target = lake.partition_dir(cfg.home / "quarantine" / "events", EVENT_KEY, day)
        lake.move_partition(staged, target)
        lake.write_json(record, target / "validation_result.json")
        lake.write_json(record, result_path)
        failed = "\n".join(f"  - {f}" for f in report.failures)
        raise ValidationFailed(
            f"events for {day} failed validation ({len(report.failures)} of {report.evaluated} "
            f"expectations):\n{failed}\nThe batch ({len(frame)} rows) is quarantined in {target}; "
            f"published tables are unchanged. Fix the source data ({_source_name(cfg)}) or the "
            f"config and rerun this date. Full result: {result_path}"
        )
    lake.write_json(record, result_path)
    lake.move_partition(staged, lake.partition_dir(_lake(cfg), EVENT_KEY, day))
    return {
        "run_date": day.isoformat(),
        "success": True,
        "rows": len(frame),
        "result": str(result_path),
    }


def ingest(cfg: Config, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Extract (reading the source once) and validate days [first, last] into the lake."""
    if last < first:
        raise SegmentationError(f"--end {last} is before --start {first}")
    staged = extract_range(cfg, first, last)
    return [validate_events(cfg, dt.date.fromisoformat(s["run_date"])) for s in staged]


# ---------------------------------------------------------------- features and model


@locks.locked
def build_features(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Features of every customer seen up to the end of ``day``, from lake partitions <= day."""
    if not lake.partition_dir(_lake(cfg), EVENT_KEY, day).is_dir():
        raise SegmentationError(
            f"{day} is not in the lake yet; extract and validate it first "
            f"(segmentation ingest --start {day} --end {day})"
        )
    state, how = _activity_state(cfg, day)
    customers = sources.read_customers(cfg.customers) if cfg.customers else None
    features = features_from_state(state, day, cfg, customers)
    path = lake.write_partition(features, cfg.home / "features", "run_date", day)
    return {
        "run_date": day.isoformat(),
        "customers": len(features),
        "state": how,
        "features": str(path),
    }


def _activity_state(cfg: Config, day: dt.date) -> tuple[pd.DataFrame, str]:
    """Roll yesterday's activity state forward when it is still valid, else rebuild it.

    Yesterday's state is valid when it was built from exactly the lake partitions (names,
    sizes, modification times) and settings that exist now; a re-ingested older day, a
    changed window or a missing state means one full scan of the history instead.
    """
    root = cfg.home / "state"
    before = day - dt.timedelta(days=1)
    previous = lake.partition_dir(root, "run_date", before) / lake.PART
    files = lake.partition_files(_lake(cfg), EVENT_KEY, upto=day)
    if previous.is_file() and lake.file_metadata(previous).get(STATE_KEY) == _fingerprint(
        cfg, files[:-1]
    ):
        expired_day = day - dt.timedelta(days=cfg.features.window_days)
        expired = lake.partition_dir(_lake(cfg), EVENT_KEY, expired_day) / lake.PART
        state = activity.advance_state(
            pd.read_parquet(previous),
            activity.day_activity(files[-1:], day, cfg),
            activity.day_activity([expired], expired_day, cfg) if expired.is_file() else None,
        )
        how = "rolled forward"
    else:
        state = activity.full_state(files, day, cfg)
        how = "rebuilt from history"
    lake.write_partition(
        state, root, "run_date", day, metadata={STATE_KEY: _fingerprint(cfg, files)}
    )
    return state, how


def _fingerprint(cfg: Config, files: list[Path]) -> str:
    """Identifies the lake partitions and settings a state was built from."""
    digest = hashlib.sha256(
        repr(
            (
                activity.STATE_VERSION,
                cfg.timezone,
                cfg.features.window_days,
                cfg.events.allowed_types,
                cfg.events.purchase_type,
            )
        ).encode()
    )
    for f in files:
        st = f.stat()
        digest.update(f"{f.parent.name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return digest.hexdigest()


@locks.locked
def train_model(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Train tonight's challenger and decide whether it replaces the champion."""
    features = _features(cfg, day)
    columns = model_feature_columns(features, cfg.model.features)
    champion = registry.champion_as_of(_models(cfg), day, strictly_before=True)
    warm = None
    if cfg.model.warm_start and champion is not None and set(champion.features) == set(columns):
        order = [champion.features.index(c) for c in columns]
        warm = np.asarray(champion.centers_log)[:, order]
    challenger = model.train(features, columns, cfg.model, day, warm)
    champion_score = None
    forced = None
    if champion is not None:
        missing = [f for f in champion.features if f not in features]
        if missing:
            forced = f"the champion's features {missing} no longer exist"
        else:
            # both models' labels for the same customers, scored in the challenger's space
            sample = challenger.scored_sample(features)
            champion_model, _ = registry.load_model(_models(cfg), champion.model_version)
            champion_score = model.quality(
                challenger.transform(sample), champion_model.predict(sample)
            )["silhouette"]
            forced = _drift_forcing_retrain(cfg, champion, features, day)
    promoted, reason = registry.promotion(
        challenger.scores_["silhouette"], champion_score, cfg.model.promote_margin, forced
    )
    alignment = model.align_segment_ids(
        challenger.centers_log_, columns, champion, challenger.scale_, cfg.model.id_match_distance
    )
    # a segment that keeps its id keeps its name unless its profile has clearly moved on
    before = champion.keys_by_id if champion else {}
    previous = {
        new: before[old]
        for new, old in zip(alignment.segment_ids, alignment.previous_ids, strict=True)
        if old is not None and old in before
    }
    rows = model.sample_rows(len(features), cfg.model.fit_sample, challenger.random_state)
    named = features.iloc[rows]
    keys = personas.assign_archetypes(
        named, np.asarray(alignment.segment_ids)[challenger.predict(named)], previous
    )
    for sid in alignment.segment_ids:  # a segment too small to appear in the sample
        keys.setdefault(sid, f"segment_{sid}")
    version = registry.model_version(day)
    # a champion that only refined its predecessor's segments keeps its drift reference
    refined = (
        champion is not None
        and not forced
        and challenger.algorithm_.endswith(model.WARM)
        and challenger.n_segments_ == champion.n_segments
    )
    record = registry.ModelRecord(
        model_version=version,
        trained_run_date=day,
        algorithm=challenger.algorithm_,
        n_segments=challenger.n_segments_,
        features=columns,
        segment_ids=alignment.segment_ids,
        centers_log=challenger.centers_log_.tolist(),
        scale=challenger.scale_.tolist(),
        max_id_ever=max([*alignment.segment_ids, champion.max_id_ever if champion else -1]),
        scores={**challenger.scores_, "champion_silhouette": champion_score},
        candidates=challenger.candidates_,
        training_customers=len(features),
        random_state=challenger.random_state,
        promoted=promoted,
        reason=reason,
        compared_with=champion.model_version if champion else None,
        reference_run_date=champion.reference_day if refined and champion else day,
        segment_keys={str(k): v for k, v in sorted(keys.items())},
        lineage=model.lineage_rows(
            alignment,
            version,
            champion,
            frozenset(s for s, key in previous.items() if keys[s] != key),
        )
        if promoted
        else [],
    )
    registry.save_model(challenger, record, _models(cfg))
    log.info("%s %s: %s", version, "promoted" if promoted else "rejected", reason)
    return {
        "run_date": day.isoformat(),
        "model_version": version,
        "algorithm": record.algorithm,
        "n_segments": record.n_segments,
        "silhouette": round(challenger.scores_["silhouette"], 4),
        "champion": version if promoted else champion.model_version if champion else None,
        "reason": reason,
    }


def _drift_forcing_retrain(
    cfg: Config, champion: registry.ModelRecord, features: pd.DataFrame, day: dt.date
) -> str | None:
    """Drift policy: an alert against the champion's reference forces a retrain.

    The same decision as ``compute_drift``, on seeded samples of ``fit_sample`` customers.
    """
    seed = model.run_seed(cfg.model.random_state, day)
    metrics, _ = _feature_drift(cfg, champion, features, day, cfg.model.fit_sample, seed)
    if metrics is None:
        return None
    alerts = metrics[(metrics["level"] == "alert")]
    if alerts.empty:
        return None
    listed = ", ".join(f"{r.name} ({r.metric} {r.value:.2f})" for r in alerts.itertuples())
    return f"drift alert forces a retrain: {listed} >= {cfg.drift.psi_alert:g}"


def _feature_drift(
    cfg: Config,
    champion: registry.ModelRecord,
    features: pd.DataFrame,
    day: dt.date,
    sample: int | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame | None, np.ndarray | None]:
    """Today's features against the champion's reference day, raw and on the model's scale.

    Returns the metrics (None when the reference features are gone) and today's features on
    the champion's scale (None when it cannot transform them). ``sample`` limits both sides
    to a seeded sample (the retrain decision); ``compute_drift`` uses everyone.
    """
    reference_day = champion.reference_day
    path = lake.partition_dir(cfg.home / "features", "run_date", reference_day) / lake.PART
    if not path.is_file():
        return None, None
    cols = [c for c in champion.features if c in features and c in lake.column_names(path)]
    reference = drift.aged(_features(cfg, reference_day, cols), (day - reference_day).days)
    current = features[cols]
    if sample is not None:
        reference = reference.iloc[model.sample_rows(len(reference), sample, seed)]
        current = current.iloc[model.sample_rows(len(current), sample, seed)]
    reference_scaled = current_scaled = None
    if cols == champion.features:
        segmenter, _ = registry.load_model(_models(cfg), champion.model_version)
        reference_scaled = segmenter.transform(reference)
        current_scaled = segmenter.transform(current)
    metrics = drift.feature_drift(reference, current, reference_scaled, current_scaled, cfg.drift)
    return metrics, current_scaled


@locks.locked
def assign_segments(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Segment, name, explain and RFM-score every customer with the champion; stage the tables."""
    features = _features(cfg, day)
    champion = registry.champion_as_of(_models(cfg), day)
    if champion is None:
        raise SegmentationError(f"no model trained up to {day}; run train_model for {day} first")
    segmenter, record = registry.load_model(_models(cfg), champion.model_version)
    segment_ids = np.asarray(record.segment_ids)[segmenter.predict(features)]
    language = cfg.personas.language
    names = personas.segment_names(record.keys_by_id, language)
    descriptions = personas.describe_segments(features, segment_ids, names, language)
    scores = rfm.score_rfm(features, cfg.rfm.cuts)
    is_control = control.control_flags(
        features["customer_id"],
        segment_ids,
        cfg.control.share,
        cfg.control.shares,
        cfg.control.salt,
    )
    segments = pd.DataFrame(
        {
            "customer_id": features["customer_id"].to_numpy(),
            "segment_id": segment_ids.astype("int64"),
            "segment_name": pd.Series(segment_ids).map(names).to_numpy(),
            "model_version": record.model_version,
            "is_control": is_control,
            "recency_days": features["recency_days"].to_numpy(),
            "frequency": features["frequency"].to_numpy(),
            "monetary": features["monetary"].to_numpy(),
            "r_score": scores["r_score"].to_numpy(),
            "f_score": scores["f_score"].to_numpy(),
            "m_score": scores["m_score"].to_numpy(),
            "rfm_score": scores["rfm_score"].to_numpy(),
            "rfm_segment": scores["rfm_segment"].to_numpy(),
        }
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
    segment_rules.insert(0, "model_version", record.model_version)
    affinity = personas.category_affinity(features, segment_ids)
    profiles = personas.segment_profiles(features, segment_ids, record.features)
    profiles.insert(1, "segment_name", profiles["segment_id"].map(names))
    profiles.insert(2, "description", profiles["segment_id"].map(descriptions))
    profiles.insert(3, "model_version", record.model_version)
    profiles.insert(
        4, "rules", profiles["segment_id"].map(rules.rules_summary(segment_rules, language))
    )
    profiles.insert(
        5, "affinity", profiles["segment_id"].map(personas.affinity_summary(affinity, language))
    )
    lifts = affinity.pivot(index="segment_id", columns="category", values="lift")
    profiles = profiles.join(lifts.add_prefix("lift_"), on="segment_id")
    control_counts = pd.Series(is_control).groupby(segment_ids).sum()
    profiles.insert(
        8, "control_customers", profiles["segment_id"].map(control_counts).astype("int64")
    )
    previous = _previous_segments(cfg, day)
    moves = drift.migrations(segments, previous)
    work = _work(cfg, day)
    for name, frame in zip(WORK_TABLES, (segments, profiles, moves, segment_rules), strict=True):
        publish.stage_table(frame, name, day, work / f"{name}.parquet")
    return {
        "run_date": day.isoformat(),
        "model_version": record.model_version,
        "customers": len(segments),
        "segments": {
            names[int(s)]: int(n) for s, n in profiles[["segment_id", "customers"]].to_numpy()
        },
    }


# ---------------------------------------------------------------- publish and drift


@locks.locked
def publish_tables(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Publish the staged assignments and the model registry for ``day``."""
    work = _work(cfg, day)
    missing = [t for t in WORK_TABLES if not (work / f"{t}.parquet").is_file()]
    if missing:
        raise SegmentationError(f"nothing staged to publish for {day}; run assign_segments first")
    paths = {}
    for table in WORK_TABLES:
        paths[table] = str(publish.publish_staged(work / f"{table}.parquet", table, day, cfg.home))
    for table, frame in (
        ("model_registry", registry.registry_table(_models(cfg), day)),
        ("segment_lineage", registry.lineage_table(_models(cfg), day)),
    ):
        paths[table] = str(publish.publish_table(frame, table, day, cfg.home))
    paths["segment_history"] = str(_update_history(cfg, day))
    if cfg.warehouse is not None:
        # the same tables into PostgreSQL, one transaction (drift_metrics: compute_drift)
        frames = {
            table: pd.read_parquet(publish.current_path(cfg.home, table))
            if table == HISTORY
            else publish.read_published(cfg.home, table, day)
            for table in publish.TABLES
            if table != "drift_metrics"
        }
        _to_warehouse(cfg, day, {t: f for t, f in frames.items() if f is not None})
    shutil.rmtree(work)  # only once everything is published: a retry still finds it all
    return {"run_date": day.isoformat(), "tables": paths}


def _to_warehouse(cfg: Config, day: dt.date, frames: dict[str, pd.DataFrame]) -> None:
    assert cfg.warehouse is not None
    url = secret_from_env(cfg.warehouse.url_env, "warehouse")
    warehouse.publish_many(url, cfg.warehouse.schema, day, frames, url_env=cfg.warehouse.url_env)


def _update_history(cfg: Config, day: dt.date) -> Path:
    """Fold ``day``'s published segments into the one membership history file.

    The history is a single file (it grows with changes, not days), as of the newest run
    folded into it. A night after it is folded on; a rerun of an older night truncates it to
    the run before, folds that night, then refolds every later published night, so the file
    always equals a build from scratch over the published ``customer_segments``.
    """
    path = publish.current_path(cfg.home, HISTORY)
    runs = lake.partition_days(publish.table_root(cfg.home, "customer_segments"), "run_date")
    as_of = publish.current_run_date(cfg.home, HISTORY) if path.is_file() else None
    if as_of is None:
        frame, previous = None, None
        todo = runs
    elif as_of < day:
        frame, previous = pd.read_parquet(path), as_of
        todo = [d for d in runs if as_of < d]
    else:  # a rerun: back to the run before ``day``, then forward again
        before = [d for d in runs if d < day]
        previous = before[-1] if before else None
        frame = (
            history.truncate(pd.read_parquet(path), previous, _names_on(cfg, previous))
            if previous
            else None
        )
        todo = [d for d in runs if d >= day]
    for run in todo:
        assignments = publish.read_published(
            cfg.home, "customer_segments", run, ["customer_id", "segment_id", "segment_name"]
        )
        if assignments is None:
            raise SegmentationError(f"customer_segments for {run} vanished while folding it")
        frame = history.advance(frame, previous, run, assignments)
        previous = run
    assert frame is not None and previous is not None  # today's segments are published
    lake.write_file(frame, path, metadata={publish.RUN_DATE_KEY: previous.isoformat()})
    return path


def _names_on(cfg: Config, day: dt.date) -> dict[int, str]:
    profiles = publish.read_published(
        cfg.home, "segment_profiles", day, ["segment_id", "segment_name"]
    )
    if profiles is None:
        return {}
    return dict(zip(profiles["segment_id"], profiles["segment_name"], strict=True))


@locks.locked
def compute_drift(cfg: Config, day: dt.date) -> dict[str, Any]:
    """Drift of today's features and segments against the champion in force before today.

    The reference is that champion's reference day (its own training day, or for a champion
    that only refined its predecessor's segments, the predecessor's); the first run has none.
    Publishes ``drift_metrics`` and returns the decision: ok, warn or alert.
    """
    current = publish.read_published(
        cfg.home, "customer_segments", day, columns=["customer_id", "segment_id"]
    )
    if current is None:
        raise SegmentationError(
            f"customer_segments for {day} is not published; run publish_tables first"
        )
    champion = registry.champion_as_of(_models(cfg), day, strictly_before=True)
    parts = []
    reference_segments = None
    shifts: dict[int, float] = {}
    if champion is not None:
        features = _features(cfg, day)
        feature_metrics, scaled = _feature_drift(cfg, champion, features, day)
        if feature_metrics is not None:
            parts.append(feature_metrics)
        reference_segments = _segments_of(cfg, champion.reference_day)
        same_rows = np.array_equal(
            features["customer_id"].to_numpy(dtype=object),
            current["customer_id"].to_numpy(dtype=object),
        )
        if scaled is not None and same_rows:
            shifts = _centroid_shifts(cfg, champion, scaled, current["segment_id"].to_numpy())
    previous = _previous_segments(cfg, day)
    parts.append(
        drift.segment_drift(
            current["segment_id"],
            None if previous is None else previous["segment_id"],
            None if reference_segments is None else reference_segments["segment_id"],
            shifts,
            cfg.drift.share_warn,
        )
    )
    parts.append(
        drift.membership_chisquare(
            current["segment_id"],
            None if reference_segments is None else reference_segments["segment_id"],
        )
    )
    moves = publish.read_published(cfg.home, "segment_migrations", day)
    moved = 0.0
    if moves is not None and previous is not None:
        both = moves[moves["from_segment_id"].notna()]
        changed = both["from_segment_id"] != both["to_segment_id"]
        moved = float(both.loc[changed, "customers"].sum() / max(both["customers"].sum(), 1))
    filled = [p for p in parts if len(p)]
    metrics = (
        pd.concat(filled, ignore_index=True) if filled else pd.DataFrame(columns=drift.COLUMNS)
    )
    level, drifted = drift.decision(metrics)
    metrics = pd.concat([metrics, drift.run_rows(level, drifted, moved)], ignore_index=True)
    publish.publish_table(metrics, "drift_metrics", day, cfg.home)
    if cfg.warehouse is not None:
        _to_warehouse(cfg, day, {"drift_metrics": metrics})
    if drifted:
        log.warning("features drifted on %s: %s", day, ", ".join(drifted))
    path = report.write_report(cfg.home, day, cfg.personas.language, psi_warn=cfg.drift.psi_warn)
    log.info("drift %s on %s; report: %s", level, day, path)
    return {
        "run_date": day.isoformat(),
        "level": level,
        "drifted_features": drifted,
        "report": str(path),
    }


def _segments_of(cfg: Config, day: dt.date) -> pd.DataFrame | None:
    return publish.read_published(cfg.home, "customer_segments", day, columns=["segment_id"])


def _centroid_shifts(
    cfg: Config, champion: registry.ModelRecord, scaled: np.ndarray, segment_ids: np.ndarray
) -> dict[int, float]:
    """How far each segment's mean today is from the champion's centre for that id.

    Measured in the champion's scaled space (standard units), on today's published segments.
    """
    segmenter, _ = registry.load_model(_models(cfg), champion.model_version)
    centres = dict(zip(champion.segment_ids, segmenter.centers_scaled_, strict=True))
    means = pd.DataFrame(scaled).groupby(segment_ids, sort=True).mean()
    ids = [int(s) for s in means.index.to_numpy()]
    return {
        sid: float(np.linalg.norm(row - centres[sid]))
        for sid, row in zip(ids, means.to_numpy(), strict=True)
        if sid in centres
    }


STEPS = (
    extract_events,
    validate_events,
    build_features,
    train_model,
    assign_segments,
    publish_tables,
    compute_drift,
)


def run(cfg: Config, day: dt.date) -> dict[str, Any]:
    """The full nightly run for ``day``: the same steps, in the same order, as the DAG.

    Holds the date's lock throughout, so a second run of the date is refused at once.
    """
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    with locks.run_lock(cfg.home, day, "run"):
        for step in STEPS:
            started = time.perf_counter()
            results[step.__name__] = step(cfg, day)
            seconds[step.__name__] = round(time.perf_counter() - started, 2)
            log.info("%s for %s took %.1f s", step.__name__, day, seconds[step.__name__])
    return {**results, "seconds": seconds}


def output_locations(cfg: Config) -> dict[str, str]:
    return {
        "tables": str(publish.output_dir(cfg.home)),
        "current": str(publish.output_dir(cfg.home) / "current"),
        "validation": str(cfg.home / "validation" / "events"),
        "quarantine": str(cfg.home / "quarantine" / "events"),
    }


def status(cfg: Config) -> dict[str, Any]:
    """What the newest run published: each current table's run date and size, the segments."""
    tables = {}
    for table in publish.TABLES:
        path = publish.current_path(cfg.home, table)
        if path.is_file():
            day = publish.current_run_date(cfg.home, table)
            tables[table] = {"run_date": str(day), "rows": lake.row_count(path), "path": str(path)}
    out: dict[str, Any] = {"current_tables": tables}
    profiles = publish.current_path(cfg.home, "segment_profiles")
    if profiles.is_file():
        frame = pd.read_parquet(
            profiles, columns=["segment_id", "segment_name", "customers", "description"]
        )
        out["segments"] = [
            f"segment {r.segment_id}, {r.customers} customers. {r.description}"
            for r in frame.itertuples()
        ]
    latest_report = report.current_report_path(cfg.home)
    if latest_report.is_file():
        out["report"] = str(latest_report)
    models = registry.list_models(_models(cfg))
    champions = [r for r in models if r.promoted]
    if champions:
        c = champions[-1]
        out["champion"] = (
            f"{c.model_version} ({c.algorithm}, {c.n_segments} segments), champion since "
            f"{c.trained_run_date}: {c.reason}"
        )
    if models and not models[-1].promoted:
        out["latest_challenger"] = f"{models[-1].model_version}: {models[-1].reason}"
    results = sorted((cfg.home / "validation" / "events").glob("run_date=*.json"))
    if results:
        out["latest_validation_result"] = str(results[-1])
    return out


# ---------------------------------------------------------------- helpers


def _source_name(cfg: Config) -> str:
    return str(cfg.source.table) if cfg.source.kind == "postgres" else cfg.source.path


def _staging(cfg: Config) -> Path:
    return cfg.home / "staging" / "events"


def _lake(cfg: Config) -> Path:
    return cfg.home / "lake" / "events"


def _models(cfg: Config) -> Path:
    return cfg.home / "models"


def _work(cfg: Config, day: dt.date) -> Path:
    return lake.partition_dir(cfg.home / "work", "run_date", day)


def _features(cfg: Config, day: dt.date, columns: list[str] | None = None) -> pd.DataFrame:
    root = cfg.home / "features"
    if not (lake.partition_dir(root, "run_date", day) / lake.PART).is_file():
        raise SegmentationError(f"no features for {day}; run build_features for that date first")
    return lake.read_partition(root, "run_date", day, columns=columns)


def _previous_segments(cfg: Config, day: dt.date) -> pd.DataFrame | None:
    root = publish.table_root(cfg.home, "customer_segments")
    before = lake.latest_before(root, "run_date", day)
    if before is None:
        return None
    return lake.read_partition(root, "run_date", before, columns=["customer_id", "segment_id"])
