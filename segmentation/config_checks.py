"""The checks of the config's smaller sections, one function a section (``parse_config`` calls
them in the order of the file's sections); the first problem found is raised, naming the key."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from segmentation.config_coerce import suggest
from segmentation.errors import ConfigError

if TYPE_CHECKING:
    from segmentation.config import (
        AlertsConfig,
        ControlConfig,
        EventsConfig,
        FeaturesConfig,
        ModelConfig,
        PredictionsConfig,
        RecommendationsConfig,
        RfmConfig,
        RulesConfig,
        ValidationConfig,
    )

RFM_AXES = ("recency_days", "frequency", "monetary")


def check_model_search(m: ModelConfig, origin: str) -> None:
    """The candidates searched: how many segments, which algorithms, what is eligible."""
    if m.n_segments is not None and m.n_segments < 2:
        raise ConfigError(f"{origin}: model.n_segments must be at least 2 (or null)")
    if not 2 <= m.k_min <= m.k_max:
        raise ConfigError(f"{origin}: model.k_min and k_max must satisfy 2 <= k_min <= k_max")
    if not m.algorithms or len(set(m.algorithms)) != len(m.algorithms):
        raise ConfigError(f"{origin}: model.algorithms must list each of kmeans, gmm, ward once")
    if not 0 <= m.min_stability <= 1:
        raise ConfigError(f"{origin}: model.min_stability must be between 0 and 1")
    if not 0 <= m.min_segment_share < 1 / max(m.n_segments or m.k_max, 1):
        raise ConfigError(
            f"{origin}: model.min_segment_share must be at least 0 and below 1 divided by "
            "the number of segments (k_max, or n_segments when set)"
        )


def check_model_sizes(m: ModelConfig, origin: str) -> None:
    """Margins, distances and sample sizes of the model."""
    for key in ("promote_margin", "continuity_margin"):
        if not 0 <= getattr(m, key) < 1:
            raise ConfigError(f"{origin}: model.{key} must be a silhouette difference in [0, 1)")
    if m.id_match_distance <= 0:
        raise ConfigError(f"{origin}: model.id_match_distance must be positive")
    for key in ("fit_sample", "minibatch_above"):
        if getattr(m, key) < 1:
            raise ConfigError(f"{origin}: model.{key} must be a positive number of customers")
    if m.score_sample <= (m.n_segments or m.k_max):
        raise ConfigError(
            f"{origin}: model.score_sample ({m.score_sample}) must exceed the number of "
            "segments searched (k_max or n_segments)"
        )
    if m.stability_resamples < 1:
        raise ConfigError(f"{origin}: model.stability_resamples must be at least 1")


def check_rules(rules: RulesConfig, origin: str) -> None:
    if rules.sample < 1:
        raise ConfigError(f"{origin}: rules.sample must be a positive number of customers")
    if not 1 <= rules.max_depth <= 8:
        raise ConfigError(f"{origin}: rules.max_depth must be between 1 and 8")


def check_control(control: ControlConfig, origin: str) -> None:
    checked = {"control.share": control.share, "control.global_share": control.global_share}
    checked |= {f"control.shares.{sid}": share for sid, share in control.shares.items()}
    for name, share in checked.items():
        if not 0 <= share < 1:
            raise ConfigError(f"{origin}: {name} must be a fraction in [0, 1), e.g. 0.1")


def check_rfm(rfm: RfmConfig, origin: str) -> None:
    for axis, cuts in (rfm.cuts or {}).items():
        if axis not in RFM_AXES:
            raise ConfigError(
                f"{origin}: rfm.cuts has unknown axis {axis!r}{suggest(axis, RFM_AXES)}; "
                f"axes are {', '.join(RFM_AXES)}"
            )
        points = list(cuts)
        if len(points) != 4 or not all(map(math.isfinite, points)) or points != sorted(set(points)):
            raise ConfigError(
                f"{origin}: rfm.cuts.{axis} needs 4 increasing cut points (5 score bands), "
                f"got {points}"
            )


def check_alerts(alerts: AlertsConfig, origin: str) -> None:
    if alerts.target == "webhook" and not (alerts.url or "").startswith(("http://", "https://")):
        raise ConfigError(f"{origin}: alerts.target webhook needs alerts.url (http:// or https://)")
    if alerts.target == "email" and not alerts.email_to:
        raise ConfigError(f"{origin}: alerts.target email needs alerts.email_to (a list)")


def check_validation(v: ValidationConfig, origin: str) -> None:
    if not 0 <= v.max_bad_row_share < 1:
        raise ConfigError(
            f"{origin}: validation.max_bad_row_share must be a share in [0, 1), e.g. 0.001; "
            f"got {v.max_bad_row_share}"
        )
    if v.max_bad_rows < 0:
        raise ConfigError(f"{origin}: validation.max_bad_rows must be 0 or more")


def check_features(features: FeaturesConfig, origin: str) -> None:
    if features.window_days < 1:
        raise ConfigError(f"{origin}: features.window_days must be a positive number of days")


def check_events(ev: EventsConfig, origin: str) -> None:
    if len({t.lower() for t in ev.allowed_types}) != len(ev.allowed_types):
        raise ConfigError(f"{origin}: events.allowed_types repeats a type (case is ignored)")
    for key in ("purchase_type", "view_type"):
        if getattr(ev, key) not in ev.allowed_types:
            raise ConfigError(f"{origin}: events.{key} must be one of events.allowed_types")
    if ev.refund_type in (ev.purchase_type, ev.view_type):
        raise ConfigError(
            f"{origin}: events.refund_type {ev.refund_type!r} is also the purchase or view "
            "type; give refunds their own event type (default: refund)"
        )
    if isinstance(ev.late_days, bool) or not isinstance(ev.late_days, int) or ev.late_days < 0:
        raise ConfigError(
            f"{origin}: events.late_days must be a whole number of days, 0 or more (how late "
            f"an event may arrive and still be taken in), e.g. 30; got {ev.late_days!r}"
        )


def check_predictions(p: PredictionsConfig, origin: str) -> None:
    """Horizons, the churn definition and its bands, and the minimum data."""
    if not p.horizon_days or any(h < 1 for h in p.horizon_days):
        raise ConfigError(f"{origin}: predictions.horizon_days must list positive numbers of days")
    if len(set(p.horizon_days)) != len(p.horizon_days):
        raise ConfigError(f"{origin}: predictions.horizon_days lists a horizon twice")
    if p.churn_days < 7:
        raise ConfigError(f"{origin}: predictions.churn_days must be at least 7 days")
    if not 0 <= p.annual_discount_rate < 1:
        raise ConfigError(f"{origin}: predictions.annual_discount_rate must be in [0, 1)")
    low, high = p.churn_bands
    if not 0 < low < high < 1:
        raise ConfigError(
            f"{origin}: predictions.churn_bands must be two probabilities 0 < low < high < 1"
        )
    if not 0 <= p.promote_margin < 1:
        raise ConfigError(
            f"{origin}: predictions.promote_margin must be an AUC difference in [0, 1)"
        )
    for key in ("train_sample", "min_class_customers", "min_repeat_buyers"):
        if getattr(p, key) < 1:
            raise ConfigError(f"{origin}: predictions.{key} must be a positive number of customers")


def purchase_weight(weights: dict[str, float], purchase_type: str) -> float:
    """A purchase's weight: its own event type's, else the ``purchase`` key's."""
    return float(weights.get(purchase_type, weights.get("purchase", 0.0)))


def check_recommendations(r: RecommendationsConfig, events: EventsConfig, origin: str) -> None:
    """Event weights (by event type; ``purchase`` stands for ``events.purchase_type``), the
    windows and the rules' bounds."""
    where = f"{origin}: recommendations"
    known = {*events.types, "purchase"}
    for event_type, weight in r.event_weights.items():
        if event_type not in known:
            raise ConfigError(
                f"{where}.event_weights: {event_type!r} is no event type"
                f"{suggest(event_type, known)}; the types are {', '.join(sorted(known))}"
            )
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise ConfigError(f"{where}.event_weights.{event_type} must be a weight of 0 or more")
    if purchase_weight(r.event_weights, events.purchase_type) <= 0:
        raise ConfigError(
            f"{where}.event_weights.{events.purchase_type} must be positive: purchases are the "
            "signal"
        )
    for key in ("window_days", "top_n", "retrain_days", "holdout_days", "min_items"):
        if getattr(r, key) < 1:
            raise ConfigError(f"{where}.{key} must be a positive whole number")
    if r.holdout_days >= r.window_days:
        raise ConfigError(f"{where}.holdout_days must be shorter than window_days")
    rules = r.rules
    for key in ("min_support", "min_confidence"):
        if not 0 < getattr(rules, key) <= 1:
            raise ConfigError(f"{where}.rules.{key} must be a share in (0, 1]")
    if rules.min_lift <= 0:
        raise ConfigError(f"{where}.rules.min_lift must be positive (1 = as often as chance)")
    for key in ("min_count", "max_rules_per_segment"):
        if getattr(rules, key) < 1:
            raise ConfigError(f"{where}.rules.{key} must be a positive whole number")
    if rules.max_items < 2:
        raise ConfigError(f"{where}.rules.max_items must be at least 2 (one item each side)")
    als = r.als
    if als.factors < 1 or als.iterations < 1 or als.regularization < 0 or als.alpha <= 0:
        raise ConfigError(
            f"{where}.als: factors and iterations must be positive, regularization 0 or more "
            "and alpha positive"
        )
