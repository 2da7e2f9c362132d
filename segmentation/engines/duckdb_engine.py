"""The embedded engine: DuckDB aggregates the lake, numpy derives features and assignments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation.config import Config
from segmentation.features import activity
from segmentation.features.build import features_from_state
from segmentation.model.segmenter import Segmenter


class DuckDBEngine:
    name = "duckdb"

    def full_state(self, files: Sequence[Path], day: dt.date, cfg: Config) -> pd.DataFrame:
        return activity.full_state(files, day, cfg)

    def roll_forward(
        self,
        previous: pd.DataFrame,
        today: Sequence[Path],
        expired: tuple[Sequence[Path], dt.date] | None,
        day: dt.date,
        cfg: Config,
    ) -> pd.DataFrame:
        return activity.advance_state(
            previous,
            activity.day_activity(today, day, cfg),
            activity.day_activity(expired[0], expired[1], cfg) if expired else None,
        )

    def features(
        self, state: pd.DataFrame, day: dt.date, cfg: Config, customers: pd.DataFrame | None
    ) -> pd.DataFrame:
        return features_from_state(state, day, cfg, customers)

    def assign(self, segmenter: Segmenter, features: pd.DataFrame) -> np.ndarray:
        return np.asarray(segmenter.predict(features))
