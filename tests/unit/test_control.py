"""Control groups: reproducible from MD5 anywhere, the configured share, stable over time."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import SegmentationError
from segmentation.segments.control import control_flags, control_numbers

pytestmark = pytest.mark.unit

SALT = "segmentation-control"


def reference_u(salt: str, customer_id: object) -> float:
    digest = hashlib.md5(f"{salt}:{customer_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 2**32


def ids(n: int) -> pd.Series:
    return pd.Series([f"C{i:07d}" for i in range(n)], dtype="string")


def test_matches_an_independent_md5_for_text_numeric_and_unicode_ids() -> None:
    for values in (["C0000001", "C0000002", "abc", "客户-7", ""], [12345, 7, 0]):
        got = control_numbers(pd.Series(values), "s1")
        expected = [reference_u("s1", v) for v in values]
        assert got.tolist() == expected  # exact: both are k / 2**32
    customers = pd.Series(["a", "b", "c", "d", "e", "f"])
    flags = control_flags(customers, np.zeros(6, dtype=int), 0.5, {}, "s1")
    assert flags.tolist() == [reference_u("s1", c) < 0.5 for c in customers]


def test_about_ten_percent_of_many_customers() -> None:
    n, share = 100_000, 0.1
    flags = control_flags(ids(n), np.zeros(n, dtype=int), share, {}, SALT)
    tolerance = 4 * math.sqrt(n * share * (1 - share))  # 4 binomial standard deviations
    assert abs(int(flags.sum()) - n * share) <= tolerance


def test_per_segment_share_overrides_the_default() -> None:
    n = 60_000
    segments = np.arange(n) % 3
    flags = control_flags(ids(n), segments, 0.1, {1: 0.3, 2: 0.0}, SALT)
    per = pd.Series(flags).groupby(segments).mean()
    size = n // 3
    for sid, share in ((0, 0.1), (1, 0.3)):
        assert abs(per[sid] - share) <= 4 * math.sqrt(share * (1 - share) / size)
    assert per[2] == 0.0
    # the override decides by the same number: segment 1's control contains the 10% one's
    u = np.array([reference_u(SALT, c) for c in ids(n)])  # independent of the code under test
    assert (flags == (u < np.array([0.1, 0.3, 0.0])[segments])).all()


def test_a_customer_keeps_their_flag_when_others_move_or_the_order_changes() -> None:
    n = 5000
    customers = ids(n)
    rng = np.random.default_rng(0)
    before = rng.integers(0, 5, n)
    first = control_flags(customers, before, 0.2, {}, SALT)
    after = before.copy()
    after[n // 2 :] = rng.integers(0, 5, n - n // 2)  # the second half changes segment
    second = control_flags(customers, after, 0.2, {}, SALT)
    assert (first == second).all()  # equal shares: nobody's flag moves
    order = rng.permutation(n)
    shuffled = control_flags(
        customers.iloc[order].reset_index(drop=True), before[order], 0.2, {}, SALT
    )
    assert (shuffled == first[order]).all()
    assert 0 < first.sum() < n


def test_share_zero_gives_no_control_and_a_new_salt_draws_a_new_group() -> None:
    n = 10_000
    assert not control_flags(ids(n), np.zeros(n, dtype=int), 0.0, {}, SALT).any()
    a = control_flags(ids(n), np.zeros(n, dtype=int), 0.5, {}, SALT)
    b = control_flags(ids(n), np.zeros(n, dtype=int), 0.5, {}, "another salt")
    assert 0.4 < (a == b).mean() < 0.6  # independent draws agree about half the time
    assert control_flags(ids(0), np.zeros(0, dtype=int), 0.1, {}, SALT).tolist() == []


@pytest.mark.parametrize(
    ("customers", "segments", "shares", "message"),
    [
        (pd.Series(["a", "b"]), np.zeros(3, dtype=int), {}, "3 segment ids for 2 customers"),
        (pd.Series(["a", None]), np.zeros(2, dtype=int), {}, "1 customers have no customer_id"),
    ],
)
def test_bad_input_is_named(
    customers: pd.Series, segments: np.ndarray, shares: dict[int, float], message: str
) -> None:
    with pytest.raises(SegmentationError, match=message):
        control_flags(customers, segments, 0.1, shares, SALT)
