"""Segment rules from a surrogate tree: readable, honest about precision, deterministic."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from segmentation.errors import SegmentationError
from segmentation.segments.rules import rules_summary, segment_rules

pytestmark = pytest.mark.unit

NUMBER = r"-?\d+(?:\.\d+)?"


def parse(rule: str, connective: str = " and ") -> list[tuple[str, str, float]]:
    """The (column, op, threshold) conditions a rule's text states."""
    conditions: list[tuple[str, str, float]] = []
    for clause in rule.split(connective):
        band = re.fullmatch(rf"({NUMBER}) < (\w+) <= ({NUMBER})", clause)
        if band:
            lo, column, hi = band.groups()
            conditions += [(column, ">", float(lo)), (column, "<=", float(hi))]
            continue
        single = re.fullmatch(rf"(\w+) (<=|>) ({NUMBER})", clause)
        assert single, f"clause {clause!r} of {rule!r} is not 'x <= t', 'x > t' or 'a < x <= b'"
        column, op, t = single.groups()
        conditions.append((column, op, float(t)))
    return conditions


def matches(frame: pd.DataFrame, conditions: list[tuple[str, str, float]]) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    for column, op, t in conditions:
        x = frame[column].to_numpy(dtype="float64")
        mask &= x <= t if op == "<=" else x > t
    return mask


def blobs(n_per: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Three well-separated groups (ids 10, 20, 30) in days, purchases and spend."""
    rng = np.random.default_rng(seed)
    centres = {10: (10, 12, 800.0), 20: (90, 4, 150.0), 30: (250, 1, 20.0)}
    parts, labels = [], []
    for sid, (days, purchases, spend) in centres.items():
        parts.append(
            pd.DataFrame(
                {
                    "days_since_last_event": rng.integers(days - 5, days + 6, n_per).astype(float),
                    "frequency": rng.poisson(purchases, n_per).astype(float),
                    "monetary": rng.normal(spend, spend * 0.1, n_per),
                    "conversion": rng.uniform(0, 1, n_per),
                }
            )
        )
        labels.append(np.full(n_per, sid))
    order = rng.permutation(3 * n_per)
    features = pd.concat(parts, ignore_index=True).iloc[order].reset_index(drop=True)
    return features, np.concatenate(labels)[order]


COLUMNS = ["days_since_last_event", "frequency", "monetary", "conversion"]


def test_well_separated_segments_get_precise_rules_under_their_own_ids() -> None:
    features, labels = blobs()
    rules = segment_rules(features, labels, COLUMNS, max_depth=3, sample=50_000, random_state=0)
    top = rules[rules["rank"] == 1].set_index("segment_id")
    assert sorted(top.index) == [10, 20, 30]
    assert (top["precision"] >= 0.98).all(), top
    assert (top["coverage"] >= 0.95).all(), top
    dtypes = rules.dtypes.to_dict()
    assert pd.api.types.is_string_dtype(dtypes.pop("rule"))
    assert dtypes == {
        "segment_id": np.dtype("int64"),
        "customers": np.dtype("int64"),
        "coverage": np.dtype("float64"),
        "precision": np.dtype("float64"),
        "rank": np.dtype("int64"),
    }
    assert list(rules.columns) == [
        "segment_id",
        "rule",
        "customers",
        "coverage",
        "precision",
        "rank",
    ]


def test_figures_recomputed_from_the_rule_text_on_every_customer() -> None:
    # segment 1 is exactly monetary > 1234.5; the readable rule says "monetary > 1200", so the
    # honest precision counts the customers in (1200, 1234.5] that belong to segment 0
    rng = np.random.default_rng(3)
    n = 6000
    features = pd.DataFrame(
        {
            "monetary": rng.uniform(0, 3000, n),
            "frequency": rng.integers(0, 20, n).astype(float),
            "conversion": rng.uniform(0, 1, n),
        }
    )
    labels = np.where(features["monetary"] > 1234.5, 1, 0)
    labels[(labels == 0) & (features["frequency"].to_numpy() > 15)] = 2
    rules = segment_rules(
        features, labels, list(features.columns), max_depth=3, sample=2000, random_state=1
    )
    assert len(rules) >= 3
    for row in rules.itertuples(index=False):
        conditions = parse(row.rule)
        for column in {c for c, _, _ in conditions}:
            ops = [op for c, op, _ in conditions if c == column]
            assert sorted(ops) in (["<="], [">"], ["<=", ">"]), f"not simplified: {row.rule}"
        mask = matches(features, conditions)
        in_segment = labels == row.segment_id
        assert row.customers == mask.sum()
        assert row.coverage == pytest.approx((mask & in_segment).sum() / in_segment.sum())
        assert row.precision == pytest.approx((mask & in_segment).sum() / mask.sum())
    top = rules[(rules["segment_id"] == 1) & (rules["rank"] == 1)].iloc[0]
    assert parse(top["rule"]) == [("monetary", ">", 1200.0)]
    in_gap = ((features["monetary"] > 1200) & (features["monetary"] <= 1234.5)).sum()
    assert in_gap > 0
    assert top["precision"] == pytest.approx((labels == 1).sum() / ((labels == 1).sum() + in_gap))


def test_order_rank_and_rules_that_explain_little_are_dropped() -> None:
    # segment 0 is clear (x <= 100); segments 1, 2 and 3 are shuffled at random above it, so
    # no rule can tell them apart: better no rule than a misleading one
    rng = np.random.default_rng(5)
    n = 4000
    x = rng.uniform(0, 300, n)
    features = pd.DataFrame({"x": x, "y": rng.uniform(0, 300, n)})
    labels = np.where(x <= 100, 0, rng.integers(1, 4, n))
    rules = segment_rules(features, labels, ["x", "y"], max_depth=4, sample=4000, random_state=0)
    expected = rules.sort_values(["segment_id", "coverage"], ascending=[True, False])
    assert rules["segment_id"].tolist() == expected["segment_id"].tolist()
    assert rules["coverage"].tolist() == expected["coverage"].tolist()
    for _, group in rules.groupby("segment_id"):
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
    assert (rules["precision"] >= 0.5).all(), rules
    clear = rules[rules["segment_id"] == 0]
    assert clear["precision"].iloc[0] >= 0.99 and clear["coverage"].iloc[0] >= 0.95
    assert len(rules[rules["segment_id"] != 0]) < 3, rules  # at most a lucky few


def test_a_segment_too_small_for_a_leaf_gets_no_rule() -> None:
    features, labels = blobs()
    labels = labels.copy()
    labels[:3] = 99  # three scattered customers out of 1200: less than any leaf's majority
    rules = segment_rules(features, labels, COLUMNS, max_depth=4, sample=50_000, random_state=0)
    assert 99 not in set(rules["segment_id"])
    assert {10, 20, 30} <= set(rules["segment_id"])


def test_same_input_gives_the_identical_frame_and_the_sample_is_seeded() -> None:
    features, labels = blobs(n_per=2000, seed=1)
    args = (COLUMNS, 4, 500, 11)
    first = segment_rules(features, labels, *args)
    pd.testing.assert_frame_equal(first, segment_rules(features.copy(), labels.copy(), *args))
    # a sample smaller than the data: rules still cover all customers' figures
    assert first.groupby("segment_id")["customers"].max().sum() >= 0.9 * len(features)


def test_thresholds_are_rounded_for_reading() -> None:
    rng = np.random.default_rng(2)
    n = 5000
    features = pd.DataFrame(
        {
            "days": rng.integers(0, 400, n).astype(float),  # whole numbers
            "rate": rng.uniform(0, 1, n),  # a share in [0, 1]
            "spend": rng.lognormal(5, 1.2, n),  # money, long tail
        }
    )
    labels = (
        (features["days"] > 123.5).astype(int)
        + 2 * (features["rate"] > 0.3333)
        + 4 * (features["spend"] > 187.7)
    ).to_numpy()
    rules = segment_rules(features, labels, list(features.columns), 4, 5000, 0)
    seen = set()
    for rule in rules["rule"]:
        for column, _, t in parse(rule):
            seen.add(column)
            if column == "days":
                assert t == int(t), rule
            elif column == "rate":
                assert t == round(t, 2), rule
            else:
                assert t == float(f"{t:.2g}"), rule
    assert seen == {"days", "rate", "spend"}


def test_summary_wording_in_english_and_chinese() -> None:
    rules = pd.DataFrame(
        {
            "segment_id": [1, 1, 1, 2, 4],
            "rule": ["a <= 30 and b > 6", "a > 30", "c <= 1", "10 < m <= 250", "b > 2"],
            "customers": [100, 30, 5, 50, 7],
            "coverage": [0.81, 0.15, 0.04, 1.0, 0.3],
            "precision": [0.934, 0.6, 0.55, 0.8, 0.4],
            "rank": [1, 2, 3, 1, 1],
        }
    )
    assert rules_summary(rules) == {
        1: "a <= 30 and b > 6 (precision 93%, covers 81%); or a > 30 (precision 60%, covers 15%)",
        2: "10 < m <= 250 (precision 80%, covers 100%)",
        4: "b > 2 (precision 40%, covers 30%)",
    }
    zh = rules.assign(rule=rules["rule"].str.replace(" and ", " 且 "))
    assert rules_summary(zh, language="zh")[1] == (
        "a <= 30 且 b > 6（精确率 93%，覆盖 81%）；或 a > 30（精确率 60%，覆盖 15%）"
    )


def test_chinese_rules_use_the_chinese_connective() -> None:
    features, labels = blobs()
    en = segment_rules(features, labels, COLUMNS, 3, 50_000, 0)
    zh = segment_rules(features, labels, COLUMNS, 3, 50_000, 0, language="zh")
    assert zh["rule"].tolist() == [r.replace(" and ", " 且 ") for r in en["rule"]]
    assert any(" 且 " in r for r in zh["rule"])
    assert all(parse(r, " 且 ") for r in zh["rule"])


def test_a_single_segment_is_explained_by_all_customers() -> None:
    features, _ = blobs(n_per=10)
    rules = segment_rules(features, np.full(len(features), 3), COLUMNS, 3, 100, 0)
    assert rules[["segment_id", "rule", "customers", "precision", "rank"]].values.tolist() == [
        [3, "all customers", 30, 1.0, 1]
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": ["frequency", "nope"]}, "nope"),
        ({"segment_ids": np.zeros(5, dtype=int)}, "5 segment ids for 1200 customers"),
        ({"language": "fr"}, "'fr' is not supported"),
        ({"nan": True}, "missing or infinite"),
    ],
)
def test_bad_input_is_named(change: dict[str, object], message: str) -> None:
    features, labels = blobs()
    if change.pop("nan", False):
        features.loc[7, "monetary"] = math.nan
    kwargs: dict[str, object] = {
        "features": features,
        "segment_ids": labels,
        "columns": COLUMNS,
        "max_depth": 3,
        "sample": 100,
        "random_state": 0,
        **change,
    }
    with pytest.raises(SegmentationError, match=re.escape(message)):
        segment_rules(**kwargs)  # type: ignore[arg-type]
