"""Segments explained as readable rules, by shallow surrogate decision trees.

For each segment a shallow decision tree is fitted on a seeded sample of the raw feature
values (trees are invariant to monotone transforms, so thresholds stay in the units a
marketer knows: days, purchases, money) to tell that segment from the rest, with balanced
class weights so a small segment counts as much as the rest. Each leaf where the segment
wins becomes one rule, the conjunction of the conditions on its path. Thresholds are rounded for
reading (whole numbers for whole-number features, 2 decimals for shares and rates in [0, 1],
2 significant figures otherwise), and coverage and precision are measured with the rounded
thresholds on every customer, not only the sample, so the figures describe the rule as shown.

Rules with precision below ``MIN_PRECISION`` explain nothing and are dropped, so a segment
that no rule describes well (typically one much smaller than the leaves, which hold at least
``MIN_LEAF_SHARE`` of the sample) gets no rule rather than a misleading one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from segmentation.errors import SegmentationError
from segmentation.languages import in_language
from segmentation.model.selection import sample_rows

MIN_PRECISION = 0.5
# a leaf holds at least this share of the sample: rules about a handful of customers are noise
MIN_LEAF_SHARE = 0.01
# rules_summary shows the top rule, then the next ones (up to this many) covering enough
SUMMARY_RULES = 2
SUMMARY_MIN_COVERAGE = 0.1
# give up widening a threshold's precision beyond this many extra digits
_MAX_EXTRA_DIGITS = 6

RULE_COLUMNS = ("segment_id", "rule", "customers", "coverage", "precision", "rank")
_WORDS = {
    "en": {
        "and": " and ",
        "all": "all customers",
        "or": "; or ",
        "stats": " (precision {p}, covers {c})",
    },
    "zh": {"and": " 且 ", "all": "所有客户", "or": "；或 ", "stats": "（精确率 {p}，覆盖 {c}）"},
}


class Condition(NamedTuple):
    column: str
    op: Literal["<=", ">"]
    threshold: float


Rule = tuple[Condition, ...]


def segment_rules(
    features: pd.DataFrame,
    segment_ids: np.ndarray,
    columns: list[str],
    max_depth: int,
    sample: int,
    random_state: int,
    language: str = "en",
) -> pd.DataFrame:
    """One row per (segment, rule): ``segment_id``, ``rule``, ``customers``, ``coverage``,
    ``precision`` and ``rank`` (1 = covers most of the segment), by segment then rank.

    ``customers`` counts everyone the rule matches; ``coverage`` is the share of the segment
    it matches and ``precision`` the share of its matches in the segment (0 for a rule that
    rounding leaves matching nobody). ``max_depth`` and ``sample`` are at least 1 (the config
    parser checks ``rules.max_depth`` and ``rules.sample``).
    """
    labels = np.asarray(segment_ids)
    _check_inputs(features, labels, columns)
    if len(features) == 0:
        return _empty()
    values = _finite_values(features, columns)
    rows = sample_rows(len(values), sample, random_state)
    tree = _TreeSettings(max_depth, max(1, math.ceil(MIN_LEAF_SHARE * len(rows))), random_state)
    kinds = [_kind(values[:, j]) for j in range(len(columns))]
    segments, codes, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    words = _words(language)
    found = []
    for s, segment in enumerate(segments):
        for rule, matched, hits in _segment_leaves(values, rows, codes == s, columns, kinds, tree):
            everyone = rule is None  # the sample is all in this segment
            found.append(
                {
                    "segment_id": int(segment),
                    "rule": words["all"] if rule is None else _text(rule, words),
                    "customers": matched,
                    "coverage": 1.0 if everyone else hits / int(sizes[s]),
                    "precision": 1.0 if everyone else hits / matched if matched else 0.0,
                }
            )
    return _ranked(pd.DataFrame(found, columns=list(RULE_COLUMNS[:-1])))


class _TreeSettings(NamedTuple):
    max_depth: int
    min_samples_leaf: int
    random_state: int


def _check_inputs(features: pd.DataFrame, labels: np.ndarray, columns: list[str]) -> None:
    if len(labels) != len(features):
        raise SegmentationError(
            f"segment_rules got {len(labels)} segment ids for {len(features)} customers; "
            "pass one segment id per feature row"
        )
    missing = [c for c in columns if c not in features]
    if missing:
        raise SegmentationError(
            f"rule features {', '.join(missing)} are not in the feature table; "
            f"available: {', '.join(map(str, features.columns))}"
        )
    if not columns:
        raise SegmentationError("segment_rules needs at least one feature column")


def _finite_values(features: pd.DataFrame, columns: list[str]) -> np.ndarray:
    values = features[columns].to_numpy(dtype="float64")
    finite = np.isfinite(values).all(axis=0)
    if not finite.all():
        bad = [c for c, ok in zip(columns, finite, strict=True) if not ok]
        raise SegmentationError(
            f"rule features {bad} contain missing or infinite values; "
            "fill them or leave those columns out of the rules"
        )
    return values


def _segment_leaves(
    values: np.ndarray,
    rows: np.ndarray,
    members: np.ndarray,
    columns: list[str],
    kinds: list[Kind],
    settings: _TreeSettings,
) -> list[tuple[Rule | None, int, int]]:
    """(rule, customers matched, of them in the segment) for each leaf of the segment's tree.

    One tree per segment, "this segment or not": a segment of any size gets its own leaves,
    which one multi-class tree of readable depth cannot give nine segments. A segment that
    is everyone gets the rule None (everyone).
    """
    inside = members[rows]
    if inside.all():
        return [(None, len(values), len(values))]
    if not inside.any():
        return []
    tree = DecisionTreeClassifier(
        max_depth=settings.max_depth,
        min_samples_leaf=settings.min_samples_leaf,
        class_weight="balanced",
        random_state=settings.random_state,
    ).fit(values[rows], inside)
    leaves: list[tuple[Rule | None, int, int]] = []
    for path, leaf in _leaf_paths(tree):
        if tree.classes_[int(np.argmax(tree.tree_.value[leaf, 0]))] != 1:
            continue  # a leaf of the rest
        rule = _simplify(path, columns, kinds)
        mask = _mask(values, columns, rule)
        leaves.append((rule, int(np.count_nonzero(mask)), int(np.count_nonzero(members[mask]))))
    return leaves


def _ranked(found: pd.DataFrame) -> pd.DataFrame:
    """Distinct rules precise enough, ranked within each segment by coverage."""
    out = found.drop_duplicates(["segment_id", "rule"])
    out = out.sort_values(
        ["segment_id", "coverage", "precision", "rule"], ascending=[True, False, False, True]
    )
    out = out[out["precision"] >= MIN_PRECISION].reset_index(drop=True)
    out["rank"] = out.groupby("segment_id").cumcount() + 1
    return out.astype(_DTYPES)


def rules_summary(rules: pd.DataFrame, language: str = "en") -> dict[int, str]:
    """Per segment its top rule with precision and coverage, for the segment profiles.

    Further rules (up to ``SUMMARY_RULES``) are added when each covers at least
    ``SUMMARY_MIN_COVERAGE`` of the segment; segments without rules are absent.
    """
    words = _words(language)
    missing = [c for c in RULE_COLUMNS if c not in rules]
    if missing:
        raise SegmentationError(
            f"rules_summary needs the table from segment_rules; missing {', '.join(missing)}"
        )
    shown = rules[
        (rules["rank"] == 1)
        | ((rules["rank"] <= SUMMARY_RULES) & (rules["coverage"] >= SUMMARY_MIN_COVERAGE))
    ].sort_values(["segment_id", "rank"])
    out: dict[int, list[str]] = {}
    for sid, rule, precision, coverage in shown[
        ["segment_id", "rule", "precision", "coverage"]
    ].itertuples(index=False):
        stats = words["stats"].format(p=f"{precision:.0%}", c=f"{coverage:.0%}")
        out.setdefault(int(sid), []).append(f"{rule}{stats}")
    return {sid: words["or"].join(parts) for sid, parts in out.items()}


_DTYPES = {
    "segment_id": "int64",
    "rule": "str",
    "customers": "int64",
    "coverage": "float64",
    "precision": "float64",
    "rank": "int64",
}


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _DTYPES.items()})


def _words(language: str) -> dict[str, str]:
    return in_language(_WORDS, language, "rules")


Kind = Literal["whole", "unit", "real"]


def _kind(column: np.ndarray) -> Kind:
    """How a feature's thresholds are rounded: counts and days are whole numbers; shares and
    rates in [0, 1] get 2 decimals; anything else 2 significant figures."""
    if np.array_equal(column, np.floor(column)):
        return "whole"
    if column.min() >= 0 and column.max() <= 1:
        return "unit"
    return "real"


def _leaf_paths(tree: DecisionTreeClassifier) -> list[tuple[list[tuple[int, str, float]], int]]:
    """(conditions from the root, leaf node) per leaf, in the tree's node order."""
    t = tree.tree_
    left, right = t.children_left, t.children_right
    out = []
    stack: list[tuple[int, list[tuple[int, str, float]]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        if left[node] == right[node]:  # a leaf: both children are TREE_LEAF
            out.append((path, node))
            continue
        j, cut = int(t.feature[node]), float(t.threshold[node])
        # pushed right first so leaves come out left to right
        stack.append((int(right[node]), [*path, (j, ">", cut)]))
        stack.append((int(left[node]), [*path, (j, "<=", cut)]))
    return out


def _simplify(path: list[tuple[int, str, float]], columns: list[str], kinds: list[Kind]) -> Rule:
    """The tightest lower and upper bound per feature, rounded, features in path order."""
    lower: dict[int, float] = {}
    upper: dict[int, float] = {}
    for j, op, cut in path:
        if op == ">":
            lower[j] = max(lower.get(j, -math.inf), cut)
        else:
            upper[j] = min(upper.get(j, math.inf), cut)
    rule: list[Condition] = []
    for j in dict.fromkeys(j for j, _, _ in path):
        lo, hi = lower.get(j), upper.get(j)
        # widen the precision when rounding would make the band empty
        extra = 0
        while True:
            r_lo = None if lo is None else _round(lo, kinds[j], extra)
            r_hi = None if hi is None else _round(hi, kinds[j], extra)
            if r_lo is None or r_hi is None or r_lo < r_hi or extra >= _MAX_EXTRA_DIGITS:
                break
            extra += 1
        if r_lo is not None:
            rule.append(Condition(columns[j], ">", r_lo))
        if r_hi is not None:
            rule.append(Condition(columns[j], "<=", r_hi))
    return tuple(rule)


def _round(value: float, kind: Kind, extra: int = 0) -> float:
    """``value`` rounded for reading; the float prints as the rounded decimal."""
    if value == 0:
        return 0.0
    digits = 1 - math.floor(math.log10(abs(value))) + extra  # decimals for 2 significant figures
    if kind == "whole":
        # between two whole numbers x <= 6.5 is x <= 6: exact; large ones to 2 figures
        rounded = math.floor(value) if digits >= 0 else round(value, digits)
    elif kind == "unit":
        rounded = round(value, 2 + extra)
    else:
        rounded = round(value, digits)
    return float(rounded)


def _number(value: float) -> str:
    return np.format_float_positional(value, trim="-")


def _mask(values: np.ndarray, columns: Sequence[str], rule: Rule) -> np.ndarray:
    mask = np.ones(len(values), dtype=bool)
    index = {c: j for j, c in enumerate(columns)}
    for column, op, threshold in rule:
        x = values[:, index[column]]
        mask &= (x <= threshold) if op == "<=" else (x > threshold)
    return mask


def _text(rule: Rule, words: dict[str, str]) -> str:
    """ "10 < monetary <= 250 and frequency > 6": one clause per feature, in rule order."""
    if not rule:
        return words["all"]
    bounds: dict[str, dict[str, str]] = {}
    for column, op, threshold in rule:
        bounds.setdefault(column, {})[op] = _number(threshold)
    clauses = []
    for column, b in bounds.items():
        if ">" in b and "<=" in b:
            clauses.append(f"{b['>']} < {column} <= {b['<=']}")
        else:
            ((sign, t),) = b.items()
            clauses.append(f"{column} {sign} {t}")
    return words["and"].join(clauses)
