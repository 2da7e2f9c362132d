"""The catalog of output tables: what each table is, and its columns, types and meanings.

The only list of output tables: the DAG's Assets, the staged tables, the Parquet and warehouse
sinks, the status command, ``segmentation schema`` (JSON, Markdown, dbt) and the README's
table list all derive from it, so adding a table or a column is one entry here. Every staged
file is cast to its table's declared schema (``segmentation.io.schema``), so a column's type
never depends on a night's data (an all-null column is still a ``double``).

Standard library only: the DAG file imports this module at parse time for its Assets.

Column types are the contract's own names; the Parquet and PostgreSQL types they map to are
in :data:`TYPES`. A column named with ``<...>`` is a family: one column per model feature or
per category, named by the data (``mean_<feature>``).
"""

from __future__ import annotations

from segmentation.catalog_campaigns import CAMPAIGN_TABLES
from segmentation.catalog_types import RUN_DATE, TYPES, Column, Table, col

__all__ = ["RUN_DATE", "TYPES", "Column", "Table"]

_c = col
_SEGMENT = _c("segment_id", "int64", "the segment's stable id (kept across retrains)")
_SEGMENT_NAME = _c("segment_name", "string", "the segment's persona name")
_MODEL = _c("model_version", "string", "the model that produced the row (mYYYYMMDD)")
_TRAINED = _c("trained_run_date", "date", "the run the model was trained on")
_CUSTOMER = _c(
    "customer_id",
    "string",
    "the shop's customer id (with privacy.pseudonymize: customer_key, its HMAC-SHA256)",
)

_CUSTOMER_SEGMENTS = (
    _CUSTOMER,
    _SEGMENT,
    _SEGMENT_NAME,
    _c("model_version", "string", "the champion model that assigned the segment"),
    _c("is_control", "bool", "in the control group: hold out of campaigns to measure them"),
    _c("recency_days", "double", "whole days since the last purchase (0: the run date)"),
    _c("frequency", "double", "orders in the last features.window_days days"),
    _c("monetary", "double", "net spend (purchases minus returns) in that window"),
    _c("r_score", "int8", "recency quintile score, 1 (longest ago) to 5 (most recent)"),
    _c("f_score", "int8", "frequency quintile score, 1 to 5"),
    _c("m_score", "int8", "monetary quintile score, 1 to 5"),
    _c("rfm_score", "string", "the three scores as text, e.g. 545"),
    _c("rfm_segment", "string", "the classic RFM segment name, e.g. Champions"),
)
_SEGMENT_PROFILES = (
    _SEGMENT,
    _SEGMENT_NAME,
    _c("description", "string", "a sentence describing the segment"),
    _c("model_version", "string", "the champion model of the run"),
    _c("rules", "string", "the top rules that describe the segment, with precision, coverage"),
    _c("affinity", "string", "categories bought more than average (lift >= 1.2)"),
    _c("customers", "int64", "customers in the segment"),
    _c("share", "double", "share of all customers in the segment (0 to 1)"),
    _c("control_customers", "int64", "customers of the segment in the control group"),
    _c("mean_<feature>", "double", "the segment's mean of each model feature"),
    _c("lift_<category>", "double", "the segment's share of a category over everyone's", True),
    _c("mean_p_alive", "double", "the segment's mean p_alive (customer_predictions)", True),
    _c(
        "mean_churn_probability",
        "double",
        "the segment's mean churn_probability over the customers scored",
        True,
    ),
    _c("mean_predicted_clv_365d", "double", "the segment's mean predicted_clv_365d", True),
    _c("high_churn_risk_share", "double", "share of the segment at high churn risk", True),
    _c(
        "bought_together",
        "string",
        "the segment's strongest association rules in words (association_rules); null when "
        "recommendations are off or none was found",
        True,
    ),
)
_SEGMENT_MIGRATIONS = (
    _c("from_segment_id", "int64", "the segment at the run before; null: a new customer", True),
    _c("to_segment_id", "int64", "the segment of this run"),
    _c("customers", "int64", "customers who moved from one to the other (or stayed)"),
)
_SEGMENT_RULES = (
    _MODEL,
    _SEGMENT,
    _c("rule", "string", "a readable rule, e.g. days_since_last_event <= 30 and frequency > 6"),
    _c("customers", "int64", "customers matching the rule"),
    _c("coverage", "double", "share of the segment the rule matches (0 to 1)"),
    _c("precision", "double", "share of the rule's matches that are in the segment (0 to 1)"),
    _c("rank", "int64", "the rule's rank within its segment, 1 = best"),
)
_MODEL_REGISTRY = (
    _c("model_version", "string", "the model (mYYYYMMDD)"),
    _TRAINED,
    _c(
        "algorithm",
        "string",
        "kmeans, minibatch_kmeans, gmm, ward, kmeans_warm or minibatch_kmeans_warm (candidates "
        "are scored as KMeans; the fitted model is MiniBatchKMeans above model.minibatch_above)",
    ),
    _c("n_segments", "int64", "number of segments"),
    _c("silhouette", "double", "silhouette score on the scoring sample (-1 to 1, higher better)"),
    _c("davies_bouldin", "double", "Davies-Bouldin index (lower is better)"),
    _c("calinski_harabasz", "double", "Calinski-Harabasz index (higher is better)"),
    _c("stability", "double", "agreement of refits on resamples (0 to 1)", True),
    _c("champion_silhouette", "double", "the champion's silhouette on the same sample", True),
    _c("candidates", "string", "JSON: every candidate's scores"),
    _c("features", "string", "the model features, comma separated"),
    _c("training_customers", "int64", "customers the model was trained on"),
    _c("random_state", "int64", "the seed of the fit"),
    _c("status", "string", "champion, retired (an earlier champion) or rejected"),
    _c("reason", "string", "why the model was promoted or rejected"),
    _c("compared_with", "string", "the champion it was compared with", True),
)
_SEGMENT_LINEAGE = (
    _TRAINED,
    _MODEL,
    _c("previous_model_version", "string", "the champion before it", True),
    _SEGMENT,
    _c("previous_segment_id", "int64", "the id it had in the previous champion", True),
    _c("nearest_previous_segment_id", "int64", "the previous segment nearest to it", True),
    _c("distance", "double", "distance to that segment's centre (model scale)", True),
    _c(
        "change",
        "string",
        "kept, renamed (kept, but now better described by another name), new or retired",
    ),
)
_DRIFT_METRICS = (
    _c("scope", "string", "feature, segment or run"),
    _c("name", "string", "a feature, a segment id, or all"),
    _c(
        "metric",
        "string",
        "features: psi, jensenshannon, ks_statistic, ks_pvalue, wasserstein_normed (Evidently's "
        "definitions) and the deciding psi_quantile, psi_model; segments: share_change, "
        "share_change_reference, centroid_shift, appeared, vanished; the run: decision "
        "(0 ok, 1 warn, 2 alert), drifted_features, migration_rate, segment_chisquare_pvalue, "
        "and from the night's validation bad_rows (held back in quarantine), late_events "
        "(valid rows that arrived after their day) and duplicate_events (re-sent rows dropped)",
    ),
    _c("value", "double", "the metric's value", True),
    _c("threshold", "double", "the threshold it is compared with; null: reported only", True),
    _c("drifted", "bool", "the value crossed its threshold"),
    _c("level", "string", "ok, warn, alert, or info for metrics that do not decide"),
)
_SEGMENT_HISTORY = (
    _CUSTOMER,
    _SEGMENT,
    _SEGMENT_NAME,
    _c("valid_from", "date", "the first run of this stretch in the segment"),
    _c("valid_to", "date", "the last run of the stretch (inclusive); null while current", True),
)

# customer_predictions' churn_risk, from safe to at risk
CHURN_RISKS = ("low", "medium", "high")
# the columns of segment_profiles that predict_customers fills (null when predictions are off)
PREDICTION_PROFILE_COLUMNS = (
    "mean_p_alive",
    "mean_churn_probability",
    "mean_predicted_clv_365d",
    "high_churn_risk_share",
)
# the column of segment_profiles that recommend_items fills
RULES_PROFILE_COLUMN = "bought_together"

_CUSTOMER_PREDICTIONS = (
    _CUSTOMER,
    _c("p_alive", "double", "BG/NBD: the chance the customer still buys (0 to 1)", True),
    _c("expected_purchases_<h>d", "double", "BG/NBD: purchase days expected in h days", True),
    _c("p_no_purchase_<h>d", "double", "BG/NBD: the chance of no purchase in h days", True),
    _c(
        "predicted_clv_<h>d",
        "double",
        "expected purchase days x Gamma-Gamma spend per purchase day in h days, discounted "
        "by predictions.annual_discount_rate",
        True,
    ),
    _c(
        "churn_probability",
        "double",
        "the classifier's calibrated chance of no purchase in predictions.churn_days; null "
        "for customers who did not buy in the window, or when the classifier is skipped",
        True,
    ),
    _c("churn_risk", "string", "low, medium or high (predictions.churn_bands)", True),
    _c("churn_decile", "int64", "1 (least likely to churn) to 10 (most likely)", True),
    _c("model_version", "string", "the churn classifier that scored (cYYYYMMDD)", True),
    _c("btyd_version", "string", "the BG/NBD and Gamma-Gamma fit (bYYYYMMDD)", True),
)
RECOMMENDATION_SOURCES = ("collaborative", "rule", "segment_popular", "popular")
_ASSOCIATION_RULES = (
    _c("segment_id", "int64", "the segment whose baskets the rule is mined from; null: all", True),
    _c("antecedent", "list", "the items bought (product ids, or categories)"),
    _c("consequent", "list", "the items bought with them"),
    _c("support", "double", "share of the group's baskets holding every item of the rule"),
    _c("confidence", "double", "share of the baskets with the antecedent that hold the consequent"),
    _c("lift", "double", "confidence over the consequent's share of all baskets (1: chance)"),
    _c("leverage", "double", "support minus the support expected by chance"),
    _c("baskets", "int64", "baskets holding every item of the rule"),
    _c("rank", "int64", "1 = the strongest rule of the group (highest lift)"),
)
_CUSTOMER_RECOMMENDATIONS = (
    _CUSTOMER,
    _c("rank", "int64", "1 = the best item for the customer"),
    _c("item", "string", "the item offered (a product id, or a category)"),
    _c(
        "score",
        "double",
        "collaborative: the model's score; rule: the rule's confidence; segment_popular "
        "(popular): share of the segment's (all) customers who bought the item in the window",
    ),
    _c(
        "source",
        "string",
        "collaborative (the model), rule (bought with what they bought), segment_popular, or "
        "popular (all customers' most bought: a segment that bought too few)",
    ),
    _c("model_version", "string", "the collaborative model (rYYYYMMDD), null if none", True),
)
_RECOMMENDATION_QUALITY = (
    _c("model", "string", "als, popular (global popularity) or segment_popular"),
    _c("model_version", "string", "the collaborative model evaluated (rYYYYMMDD)", True),
    _c(
        "metric",
        "string",
        "held-out figures of the model's last retrain: precision_at_10, recall_at_10, "
        "ndcg_at_10, map_at_10, coverage, customers; or skipped",
    ),
    _c("value", "double", "the metric's value", True),
    _c("status", "string", "served (its lists are published tonight), evaluated, or skipped"),
    _c("reason", "string", "why: the comparison that decides what is served", True),
)
_PREDICTION_QUALITY = (
    _c("model", "string", "bgnbd, gamma_gamma or churn"),
    _c(
        "model_version",
        "string",
        "the model the figure is about (the holdout's: BG/NBD fitted at the cutoff); for a "
        "skipped classifier, the champion that still scores, or null",
        True,
    ),
    _c(
        "metric",
        "string",
        "fitted parameters (r, alpha, a, b; p, q, v), held-out figures of the classifier and "
        "of its BG/NBD baseline (roc_auc, pr_auc, log_loss, brier, precision, recall, f1, "
        "threshold, lift_decile_<k>, calibration_bin_<k>_predicted/_observed; baseline_...), "
        "the BG/NBD holdout (holdout_repeat_<k>_predicted/_actual/_customers), or skipped",
    ),
    _c("value", "double", "the metric's value", True),
    _c(
        "status",
        "string",
        "fitted (BG/NBD, Gamma-Gamma), champion (the classifier that scores), rejected (a "
        "challenger that did not replace it), retired (a champion replaced tonight), skipped",
    ),
    _c("reason", "string", "why: the promotion decision, or what data is missing", True),
)

TABLES: tuple[Table, ...] = (
    Table(
        "customer_segments",
        "customer and run",
        True,
        "publish_tables",
        _CUSTOMER_SEGMENTS,
        ("customer_id",),
        "every customer's segment, RFM scores and control flag",
        staged=True,
    ),
    Table(
        "segment_profiles",
        "segment and run",
        True,
        "publish_tables",
        _SEGMENT_PROFILES,
        ("segment_id",),
        "each segment's name, description, size and feature means",
        staged=True,
        kept=("segment_id", "segment_name", "model_version"),
    ),
    Table(
        "segment_migrations",
        "(from, to) pair and run",
        True,
        "publish_tables",
        _SEGMENT_MIGRATIONS,
        ("from_segment_id", "to_segment_id"),
        "customers moving between segments since the night before",
        staged=True,
        kept=("from_segment_id", "to_segment_id"),
    ),
    Table(
        "segment_rules",
        "rule and run",
        True,
        "publish_tables",
        _SEGMENT_RULES,
        ("segment_id", "rank"),
        "readable rules that describe each segment",
        staged=True,
        kept=("model_version", "segment_id", "rank"),
    ),
    Table(
        "model_registry",
        "model version, as of a run",
        True,
        "publish_tables",
        _MODEL_REGISTRY,
        ("model_version",),
        "every model trained so far, its scores and its fate",
    ),
    Table(
        "segment_lineage",
        "id change of a new champion",
        True,
        "publish_tables",
        _SEGMENT_LINEAGE,
        ("model_version", "segment_id", "change"),
        "how each champion's segments relate to the champion before it",
    ),
    Table(
        "segment_history",
        "customer and stretch in a segment",
        False,
        "publish_tables",
        _SEGMENT_HISTORY,
        ("customer_id", "valid_from"),
        "each customer's stretches in a segment, as of the newest run",
    ),
    Table(
        "customer_predictions",
        "customer and run",
        True,
        "publish_tables",
        _CUSTOMER_PREDICTIONS,
        ("customer_id",),
        "every customer's chance to be alive, expected purchases, value and churn risk",
        staged=True,
        stager="predict_customers",
    ),
    Table(
        "prediction_quality",
        "model, metric and run",
        True,
        "publish_tables",
        _PREDICTION_QUALITY,
        ("model", "metric"),
        "the prediction models' parameters and their out-of-time evaluation",
        staged=True,
        stager="predict_customers",
    ),
    Table(
        "association_rules",
        "rule, segment and run",
        True,
        "publish_tables",
        _ASSOCIATION_RULES,
        ("segment_id", "rank"),
        "items bought together, per segment and over all baskets (FP-Growth)",
        staged=True,
        stager="recommend_items",
        kept=("segment_id", "rank"),
    ),
    Table(
        "customer_recommendations",
        "customer, rank and run",
        True,
        "publish_tables",
        _CUSTOMER_RECOMMENDATIONS,
        ("customer_id", "rank"),
        "the items to offer each customer, best first",
        staged=True,
        stager="recommend_items",
    ),
    Table(
        "recommendation_quality",
        "model, metric and run",
        True,
        "publish_tables",
        _RECOMMENDATION_QUALITY,
        ("model", "metric"),
        "the collaborative model and its baselines evaluated on held-out purchases",
        staged=True,
        stager="recommend_items",
    ),
    *CAMPAIGN_TABLES,
    Table(
        "drift_metrics",
        "metric and run",
        True,
        "compute_drift",
        _DRIFT_METRICS,
        ("scope", "name", "metric"),
        "drift of the features and segments against the reference, the decision, and the "
        "night's bad, late and duplicate row counts",
        kept=("scope", "name", "metric", "threshold", "drifted", "level"),
    ),
)
TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in TABLES)
_BY_NAME = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    """The catalog entry of ``name``; an unknown name is a programming error."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown output table {name!r}; the catalog has {TABLE_NAMES}") from None


def tables_of(step: str) -> tuple[Table, ...]:
    """The tables that ``step`` publishes, in catalog order."""
    return tuple(t for t in TABLES if t.step == step)


def staged_tables(stager: str | None = None) -> tuple[Table, ...]:
    """The tables staged into work/ before publishing (by ``stager`` only, when given)."""
    return tuple(t for t in TABLES if t.staged and stager in (None, t.stager))
