"""The interface every engine implements (frames in, frames out; no knowledge of ``home``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from segmentation.config import Config
from segmentation.model.segmenter import Segmenter


class Engine(Protocol):
    name: str

    def full_state(self, files: Sequence[Path], day: dt.date, cfg: Config) -> pd.DataFrame:
        """The activity state of ``day`` from the lake partition ``files`` up to it."""
        ...

    def roll_forward(
        self,
        previous: pd.DataFrame,
        today: Sequence[Path],
        expired: tuple[Sequence[Path], dt.date] | None,
        day: dt.date,
        cfg: Config,
    ) -> pd.DataFrame:
        """Yesterday's state plus ``day``'s partition, minus the day that left the window."""
        ...

    def features(
        self, state: pd.DataFrame, day: dt.date, cfg: Config, customers: pd.DataFrame | None
    ) -> pd.DataFrame:
        """One row of features per customer as of the end of ``day``."""
        ...

    def assign(self, segmenter: Segmenter, features: pd.DataFrame) -> np.ndarray:
        """The index of each customer's nearest segment centre (``segmenter.predict``)."""
        ...
