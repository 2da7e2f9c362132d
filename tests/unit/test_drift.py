"""PSI on hand-computed values, and migrations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from segmentation.drift import EPS, migrations, psi

pytestmark = pytest.mark.unit


def test_psi_matches_the_formula_on_quartile_bins() -> None:
    reference = np.arange(100.0)  # quartile edges 24.75, 49.5, 74.25 -> 25% per bin
    # current: 10 in bin 1, 20 in bin 2, 30 in bin 3, 40 in bin 4
    current = np.concatenate(
        [np.full(10, 1.0), np.full(20, 30.0), np.full(30, 60.0), np.full(40, 90.0)]
    )
    expected = sum((a - 0.25) * math.log(a / 0.25) for a in (0.1, 0.2, 0.3, 0.4))
    assert psi(reference, current, bins=4) == pytest.approx(expected, abs=1e-12)


def test_psi_of_identical_samples_is_zero_and_empty_bins_use_eps() -> None:
    reference = np.arange(100.0)
    assert psi(reference, reference, bins=10) == pytest.approx(0.0, abs=1e-12)
    # everything in the top quartile: three bins empty (floored at EPS), one full
    current = np.full(50, 99.0)
    expected = 3 * (EPS - 0.25) * math.log(EPS / 0.25) + (1 - 0.25) * math.log(1 / 0.25)
    assert psi(reference, current, bins=4) == pytest.approx(expected, abs=1e-12)


def test_migrations_count_pairs_and_new_customers() -> None:
    prev = pd.DataFrame({"customer_id": ["a", "b", "c"], "segment_id": [1, 1, 2]})
    cur = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "segment_id": [1, 2, 2, 2]})
    m = migrations(cur, prev)
    pairs = {
        (None if pd.isna(f) else int(f), int(t)): int(n) for f, t, n in m.itertuples(index=False)
    }
    assert pairs == {(1, 1): 1, (1, 2): 1, (2, 2): 1, (None, 2): 1}
