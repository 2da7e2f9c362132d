"""Quality fixtures: one generated shop with the seven planted personas, shared by the tests
that hold segments, rules and the generator itself to them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from segmentation import synthetic
from segmentation.config import Config, parse_config
from segmentation.features.build import build_features


@dataclass(frozen=True)
class Planted:
    data: synthetic.GeneratedData
    cfg: Config  # default settings
    as_of: dt.date  # the last generated day
    features: pd.DataFrame  # every customer's features as of ``as_of``


@pytest.fixture(scope="session")
def planted() -> Planted:
    """Read-only: 3000 customers over a year (seed 7), features with the default settings."""
    start, days = dt.date(2024, 1, 1), 365
    data = synthetic.generate(customers=3000, start=start, days=days, seed=7)
    cfg = parse_config({}, base_dir=Path("."))
    as_of = start + dt.timedelta(days=days - 1)
    return Planted(data, cfg, as_of, build_features(data.events, as_of, cfg))
