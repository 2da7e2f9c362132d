"""Who is about to leave: a churn classifier trained out of time, calibrated, and its scores.

A customer who bought in the feature window before a cutoff C has *churned* when they buy
nothing in the ``churn_days`` after it. Night D trains on the features of C = D - churn_days
(built from lake rows known by then) with the labels observed since, and scores tonight's
customers: the chance that a customer who bought in the window buys nothing in the next
``churn_days``.

The classifier is scikit-learn's ``HistGradientBoostingClassifier`` (monotone in recency and
frequency: more days since the last purchase never lowers the risk, more orders never raise
it), calibrated with isotonic regression on a split it was not fitted on
(``CalibratedClassifierCV`` over the frozen classifier). Customers are split into fit,
calibration and test parts by a hash of their id, so a customer is in the same part every
night: no champion was ever fitted on a customer another night tests it on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator

# the features table's columns the classifier never uses: ids, and what BG/NBD derives from
NOT_FEATURES = frozenset({"customer_id"})
# direction of the risk in a feature: +1 never lowers it as the feature grows, -1 never raises
MONOTONIC = {"recency_days": 1, "frequency": -1, "purchase_days": -1}
# parts of the hash space: [0, FIT) fit, [FIT, CALIBRATE) calibration, the rest test
FIT, CALIBRATE = 0.55, 0.75
RISKS = ("low", "medium", "high")


@dataclass(frozen=True)
class TrainingSet:
    """The out-of-time examples of one cutoff: features, labels and each row's part."""

    rows: pd.DataFrame  # the cutoff's feature table rows, in the order of the others
    features: pd.DataFrame  # numeric columns only, in the model's order
    churned: np.ndarray  # bool
    part: np.ndarray  # "fit", "calibrate" or "test"
    customer_id: pd.Series


def eligible(features: pd.DataFrame) -> pd.Series:
    """Customers the classifier is about: who bought in the feature window."""
    return features["frequency"] > 0


def churn_labels(at_cutoff: pd.DataFrame, now: pd.DataFrame, churn_days: int) -> pd.DataFrame:
    """``customer_id`` and ``churned`` for the customers who bought in the window before the
    cutoff: churned when their last purchase tonight is still on or before the cutoff.

    ``now`` is the feature table ``churn_days`` after ``at_cutoff``'s; every customer of the
    cutoff is in it (a customer never leaves the feature table).
    """
    ids = at_cutoff.loc[eligible(at_cutoff), "customer_id"]
    recency = now.set_index("customer_id")["recency_days"].reindex(ids)
    if recency.isna().any():
        missing = recency[recency.isna()].index[0]
        raise ValueError(f"customer {missing} of the cutoff is missing from tonight's features")
    return pd.DataFrame(
        {"customer_id": ids.to_numpy(), "churned": (recency >= churn_days).to_numpy()}
    )


def hash_unit(customer_id: pd.Series, seed: int) -> np.ndarray:
    """A number in [0, 1) per customer from their id alone: the same every night."""
    hashed = pd.util.hash_pandas_object(
        customer_id.astype("string"), index=False, hash_key=f"{seed:016d}"[-16:]
    )
    return (hashed.to_numpy(dtype="uint64") >> np.uint64(11)) / float(1 << 53)


def training_set(
    at_cutoff: pd.DataFrame, labels: pd.DataFrame, sample: int, seed: int
) -> TrainingSet:
    """The labelled customers (at most ``sample`` of them, the lowest hashes) with their
    features at the cutoff and their part."""
    frame = at_cutoff.merge(labels, on="customer_id", how="inner", validate="one_to_one")
    unit = hash_unit(frame["customer_id"], seed)
    if len(frame) > sample:
        keep = np.sort(np.argsort(unit, kind="stable")[:sample])
        frame, unit = frame.iloc[keep].reset_index(drop=True), unit[keep]
    # the part from a second look at the same hash, so sampling does not empty the test part
    within = (unit * 7919.0) % 1.0
    part = np.where(within < FIT, "fit", np.where(within < CALIBRATE, "calibrate", "test"))
    frame = frame.reset_index(drop=True)
    return TrainingSet(
        rows=frame,
        features=feature_matrix(frame, model_columns(frame)),
        churned=frame["churned"].to_numpy(dtype=bool),
        part=part,
        customer_id=frame["customer_id"],
    )


def model_columns(features: pd.DataFrame) -> list[str]:
    """The numeric columns of a feature table the classifier learns from."""
    return [
        c
        for c in features.columns
        if c not in NOT_FEATURES and c != "churned" and pd.api.types.is_numeric_dtype(features[c])
    ]


def feature_matrix(features: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``features`` as the model's float columns; a column a night lacks (a category that
    left the top ones) is missing (NaN), which the classifier handles."""
    return features.reindex(columns=list(columns)).astype("float64").reset_index(drop=True)


def fit_classifier(data: TrainingSet, seed: int) -> CalibratedClassifierCV:
    """The gradient-boosted classifier on the fit part, calibrated on the calibration part."""
    columns = list(data.features.columns)
    fit, cal = data.part == "fit", data.part == "calibrate"
    booster = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.1,
        max_leaf_nodes=31,
        l2_regularization=1.0,
        monotonic_cst=[MONOTONIC.get(c, 0) for c in columns],
        early_stopping=False,  # a fixed number of rounds: no random validation split
        random_state=seed,
    )
    booster.fit(data.features[fit], data.churned[fit])
    calibrated = CalibratedClassifierCV(FrozenEstimator(booster), method="isotonic")
    calibrated.fit(data.features[cal], data.churned[cal])
    return calibrated


def churn_probability(model: CalibratedClassifierCV, features: pd.DataFrame) -> np.ndarray:
    """The calibrated chance of churn, for rows of a feature table."""
    columns = list(model.estimator.estimator.feature_names_in_)
    return np.asarray(model.predict_proba(feature_matrix(features, columns))[:, 1])


def risk_bands(probability: np.ndarray, bands: tuple[float, float]) -> np.ndarray:
    """``low`` below the first band, ``medium`` below the second, ``high`` from it; None
    where there is no probability."""
    index = np.searchsorted(np.asarray(bands), probability, side="right")
    out = np.asarray(RISKS, dtype=object)[np.minimum(index, 2)]
    out[np.isnan(probability)] = None
    return out


def deciles(probability: np.ndarray, ties_together: bool = False) -> np.ndarray:
    """1 (least likely to churn) to 10 (most likely) by rank; missing probabilities have none
    (0). Equal-sized, ties in the order given (the feature table's, by customer id), or with
    ``ties_together`` every customer of a tie in the highest decile the tie reaches (so equal
    scores never fall in different deciles; isotonic calibration gives many equal scores)."""
    out = np.zeros(len(probability), dtype="int64")
    scored = ~np.isnan(probability)
    if scored.any():
        values = probability[scored]
        if ties_together:
            rank = pd.Series(values).rank(method="max").to_numpy(dtype="int64") - 1
        else:
            order = np.argsort(values, kind="stable")
            rank = np.empty(order.size, dtype="int64")
            rank[order] = np.arange(order.size)
        out[scored] = rank * 10 // values.size + 1
    return out
