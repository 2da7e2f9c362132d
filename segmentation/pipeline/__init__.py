"""The nightly steps, shared by the Airflow DAG and the CLI.

Each step takes the config and the run date, loads what earlier steps left under the home
(``segmentation.layout.Home``), calls pure functions of the domain packages, saves its outputs
and returns a small JSON-able dict (what Airflow keeps as XCom): paths, keys and counts, never
DataFrames. Every write is keyed by the run date and atomic, so rerunning a step for a date
replaces exactly that date's output. One module per step; ``store`` holds the shared loaders.
"""

from __future__ import annotations

from segmentation.pipeline.assign import assign_segments
from segmentation.pipeline.audiences import export_audiences
from segmentation.pipeline.campaigns import measure_campaigns
from segmentation.pipeline.cleanup import clean_up
from segmentation.pipeline.dates import parse_date, resolve_run_date
from segmentation.pipeline.drift import compute_drift
from segmentation.pipeline.extract import extract_events, extract_range, ingest, validate_events
from segmentation.pipeline.features import build_features
from segmentation.pipeline.forget import forget
from segmentation.pipeline.predict import predict_customers
from segmentation.pipeline.publish import publish_tables
from segmentation.pipeline.recommend import recommend_items
from segmentation.pipeline.run import STEPS, run
from segmentation.pipeline.status import output_locations, status
from segmentation.pipeline.train import train_model

__all__ = [
    "STEPS",
    "assign_segments",
    "build_features",
    "clean_up",
    "compute_drift",
    "export_audiences",
    "extract_events",
    "extract_range",
    "forget",
    "ingest",
    "measure_campaigns",
    "output_locations",
    "parse_date",
    "predict_customers",
    "publish_tables",
    "recommend_items",
    "resolve_run_date",
    "run",
    "status",
    "train_model",
    "validate_events",
]
