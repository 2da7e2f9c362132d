"""Typed, frozen configuration parsed once from one YAML file.

This is the only module that reads environment variables. Unknown keys are errors that name
the key (and suggest the closest valid one), so a typo never silently falls back to a default
(:mod:`segmentation.config_coerce` builds the dataclasses by their types); each section's
values are then checked here, once, so the modules that use them need not check them again.
Relative paths are resolved against the folder that holds the config file.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from segmentation import config_checks
from segmentation.config_campaigns import (
    AudiencesConfig,
    CampaignsConfig,
    check_audiences,
    check_campaigns,
    normalize,
)
from segmentation.config_coerce import build
from segmentation.config_privacy import (
    PrivacyConfig,
    RetentionConfig,
    check_exports,
    check_privacy,
    check_retention,
)
from segmentation.config_sources import (
    check_numbers,
    check_order_lines,
    check_source,
    check_source_kind,
)
from segmentation.errors import ConfigError

CONFIG_ENV = "SEGMENTATION_CONFIG"

CANONICAL_EVENT_COLUMNS = (
    "customer_id",
    "event_time",
    "event_type",
    "amount",
    "event_id",
    "category",
    "channel",
    "product_id",
    "quantity",
    "order_id",
    "unit_price",
)
CUSTOMER_COLUMNS = ("customer_id", "signup_date", "birth_date", "age", "gender", "region")


@dataclass(frozen=True)
class SourceConfig:
    """Where events (or customer attributes) come from and how their columns map."""

    # "files": a folder, glob, file or {ds} template (path, format); "postgres": a table
    kind: Literal["files", "postgres"] = "files"
    path: str = "./data/landing/events"
    format: Literal["csv", "jsonl", "parquet"] = "csv"
    # postgres only: the table ("schema.table" or "table", found on the search_path), the
    # environment variable holding the connection URL (never the URL itself: it carries the
    # password), or inside Airflow a connection id whose URI the DAG puts into that variable,
    # and how many rows to fetch at a time
    table: str | None = None
    url_env: str = "SEGMENTATION_SOURCE_URL"
    conn_id: str | None = None
    chunk_rows: int = 100_000
    # postgres only: the column holding when each row reached the table (e.g. inserted_at):
    # a night then sees only rows that had arrived by its end, and finds late rows by it
    arrival_column: str | None = None
    # canonical name -> the source's column name; unmapped canonical columns keep their name
    columns: dict[str, str] = field(default_factory=dict)
    event_time_format: str | None = None
    # constants for canonical columns the source lacks, e.g. {"event_type": "purchase"}
    defaults: dict[str, Any] = field(default_factory=dict)
    # files only: how numbers are written in text ("1.234,56": decimal ",", thousands ".")
    decimal: str = "."
    thousands: str | None = None


@dataclass(frozen=True)
class EventsConfig:
    """What the event types mean."""

    allowed_types: tuple[str, ...] = ("view", "add_to_cart", "purchase")
    purchase_type: str = "purchase"
    view_type: str = "view"
    # the event type of a refund, always allowed beside allowed_types
    refund_type: str = "refund"
    # a purchase with a negative amount or quantity: a refund (a return), or a bad row
    negative_amounts: Literal["refund", "reject"] = "refund"
    # how many days after its day an event may reach the source and still be taken in;
    # an event later than that is quarantined
    late_days: int = 30

    @property
    def types(self) -> tuple[str, ...]:
        """Every event type a source may send: the allowed ones and the refund type."""
        extra = () if self.refund_type in self.allowed_types else (self.refund_type,)
        return (*self.allowed_types, *extra)


@dataclass(frozen=True)
class ValidationConfig:
    allow_empty_days: bool = False
    max_amount: float = 1_000_000.0
    # a day passes with up to this share of bad rows, or up to max_bad_rows of them; the bad
    # rows are quarantined, the rest promoted
    max_bad_row_share: float = 0.001
    max_bad_rows: int = 0

    def allowed_bad_rows(self, rows: int) -> int:
        """How many bad rows a day of ``rows`` rows may have and still pass."""
        return max(self.max_bad_rows, math.floor(self.max_bad_row_share * rows))


@dataclass(frozen=True)
class FeaturesConfig:
    window_days: int = 365
    # the most frequent categories (in the window) become share features; the rest is "other"
    max_categories: int = 8


Algorithm = Literal["kmeans", "gmm", "ward"]


@dataclass(frozen=True)
class ModelConfig:
    # candidate families; "kmeans" fits MiniBatchKMeans when the fit set exceeds minibatch_above
    algorithms: tuple[Algorithm, ...] = ("kmeans", "gmm", "ward")
    # a fixed number of segments, or null to choose over [k_min, k_max]
    n_segments: int | None = None
    k_min: int = 4
    k_max: int = 10
    # customers sampled (seeded) to score the candidates, and to fit the chosen one
    score_sample: int = 3_000
    fit_sample: int = 50_000
    minibatch_above: int = 20_000
    # stability: adjusted Rand index between the sample's labels and those of a fit on a
    # bootstrap resample, averaged over this many resamples
    stability_resamples: int = 2
    # candidates less stable than this are not chosen (unless none reaches it)
    min_stability: float = 0.8
    # nor are candidates with a segment smaller than this share of customers (not actionable)
    min_segment_share: float = 0.01
    # a challenger replaces the champion unless its silhouette is worse than the champion's
    # (both scored on the same sample of today's customers) by more than this
    promote_margin: float = 0.01
    # also try KMeans started from the champion's centres, and prefer it to a winner whose
    # silhouette is better by less than continuity_margin
    warm_start: bool = True
    continuity_margin: float = 0.02
    random_state: int = 42
    # a new cluster keeps an old segment_id only if its centre is this close (standardised units)
    id_match_distance: float = 2.5
    # null: the behavioural defaults in features.build.MODEL_FEATURES plus category shares
    features: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PersonasConfig:
    language: Literal["en", "zh"] = "en"


@dataclass(frozen=True)
class RulesConfig:
    # depth of the surrogate decision trees (one per segment) that explain segments as rules
    max_depth: int = 3
    # customers sampled (seeded) to fit them; coverage and precision are measured on everyone
    sample: int = 20_000


@dataclass(frozen=True)
class ControlConfig:
    # share of each segment held out of campaigns; per-segment overrides by segment_id
    share: float = 0.10
    shares: dict[int, float] = field(default_factory=dict)
    salt: str = "segmentation-control"
    # share of all customers held out of every audience and campaign (a global control)
    global_share: float = 0.0


@dataclass(frozen=True)
class RfmConfig:
    # null: quintiles among buyers. Or four increasing cut points per axis, e.g.
    # {recency_days: [7, 30, 90, 180], frequency: [1, 2, 4, 8], monetary: [50, 100, 250, 500]}
    cuts: dict[str, tuple[float, ...]] | None = None


@dataclass(frozen=True)
class DriftConfig:
    bins: int = 10
    psi_warn: float = 0.1
    psi_alert: float = 0.25
    # a segment whose share of customers moves this much since the previous run is flagged
    share_warn: float = 0.05


@dataclass(frozen=True)
class PredictionsConfig:
    """Who will buy again (BG/NBD), what they spend (Gamma-Gamma), who is leaving (churn)."""

    enabled: bool = True
    # the unit the buy-till-you-die models count time in (one purchase day counts once)
    time_unit: Literal["day", "week"] = "week"
    # expected purchases, chance of none and predicted value over each of these horizons
    horizon_days: tuple[int, ...] = (30, 90, 365)
    annual_discount_rate: float = 0.1
    # churned: no purchase in the churn_days after a cutoff, among customers who bought in
    # the features.window_days before it
    churn_days: int = 90
    # churn_risk: low below the first, medium below the second, high from it
    churn_bands: tuple[float, float] = (0.33, 0.66)
    # a challenger classifier replaces the champion unless its held-out ROC AUC is worse by more
    promote_margin: float = 0.005
    # customers of the cutoff sampled (the lowest hashes of their ids) to train and evaluate
    # the classifier, and to fit the cutoff's BG/NBD for its baseline and holdout table
    train_sample: int = 200_000
    # the least churned and the least retained customers to train on, and repeat buyers for
    # BG/NBD and Gamma-Gamma; below them the model is skipped and the tables say why
    min_class_customers: int = 100
    min_repeat_buyers: int = 100
    random_state: int = 42


@dataclass(frozen=True)
class RulesMiningConfig:
    """Association rules mined with FP-Growth per segment and over all customers."""

    min_support: float = 0.005  # of the segment's baskets
    min_confidence: float = 0.1
    min_lift: float = 1.5
    min_count: int = 20  # a rule needs at least this many baskets holding all its items
    max_rules_per_segment: int = 20
    max_items: int = 3  # items in a rule (antecedent and consequent together)


@dataclass(frozen=True)
class AlsConfig:
    """Implicit-feedback ALS (the ``implicit`` library): the collaborative model."""

    factors: int = 32  # on 20k generated customers, NDCG@10 0.140 vs 0.139 for 64, 25% faster
    iterations: int = 15
    regularization: float = 0.05
    alpha: float = 10.0  # confidence per unit of interaction weight


def _event_weights() -> dict[str, float]:
    return {"purchase": 1.0, "add_to_cart": 0.3, "view": 0.1}


@dataclass(frozen=True)
class RecommendationsConfig:
    """What to offer each customer (collaborative filtering) and each segment (rules)."""

    enabled: bool = True
    # product: product_id; category: category; auto: product_id when the lake has any
    item: Literal["product", "category", "auto"] = "auto"
    event_weights: dict[str, float] = field(default_factory=_event_weights)
    # the interactions and baskets the models learn from: the last window_days
    window_days: int = 90  # 26.8M rows a year at 1M customers: a quarter reads 4x faster
    top_n: int = 10
    exclude_purchased: bool = True
    retrain_days: int = 7
    holdout_days: int = 14
    # customers with fewer items bought or weighed than this get their segment's popular items
    min_items: int = 3
    random_state: int = 42
    rules: RulesMiningConfig = field(default_factory=RulesMiningConfig)
    als: AlsConfig = field(default_factory=AlsConfig)


@dataclass(frozen=True)
class WarehouseConfig:
    """A PostgreSQL schema that mirrors the output tables, for tools that read SQL."""

    # the environment variable holding the connection URL (never the URL itself: it
    # carries the password); inside Airflow, conn_id names an Airflow connection instead
    url_env: str = "SEGMENTATION_WAREHOUSE_URL"
    conn_id: str | None = None
    schema: str = "segmentation"


@dataclass(frozen=True)
class AlertsConfig:
    # where drift alerts go: the task log, a webhook (JSON POST) or email (SMTP)
    target: Literal["log", "webhook", "email"] = "log"
    # notify from this decision level on
    min_level: Literal["warn", "alert"] = "alert"
    url: str | None = None
    email_to: tuple[str, ...] = ()
    email_from: str = "segmentation@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class Config:
    home: Path = Path("./data")
    timezone: str = "UTC"
    source: SourceConfig = field(default_factory=SourceConfig)
    customers: SourceConfig | None = None
    events: EventsConfig = field(default_factory=EventsConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    personas: PersonasConfig = field(default_factory=PersonasConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    control: ControlConfig = field(default_factory=ControlConfig)
    rfm: RfmConfig = field(default_factory=RfmConfig)
    drift: DriftConfig = field(default_factory=DriftConfig)
    predictions: PredictionsConfig = field(default_factory=PredictionsConfig)
    recommendations: RecommendationsConfig = field(default_factory=RecommendationsConfig)
    audiences: AudiencesConfig = field(default_factory=AudiencesConfig)
    campaigns: CampaignsConfig = field(default_factory=CampaignsConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    warehouse: WarehouseConfig | None = None
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def secret_from_env(name: str, what: str) -> str:
    """A secret (a connection URL with its password) from the environment, by name."""
    value = os.environ.get(name)
    if not value:
        raise ConfigError(
            f"{what}: environment variable {name} is not set; export it with the connection "
            "URL (postgresql://user:password@host:5432/db), or set a conn_id inside Airflow"
        )
    return value


def pseudonym_key(privacy: PrivacyConfig) -> bytes:
    """The secret key of the customers' pseudonyms (HMAC-SHA256), from ``privacy.key_env``."""
    value = os.environ.get(privacy.key_env)
    if not value:
        raise ConfigError(
            f"privacy: environment variable {privacy.key_env} is not set; export it with a "
            "long random secret (e.g. openssl rand -hex 32), the same for every task and "
            "every night: the pseudonyms (customer_key) and the erasure audit are keyed by it"
        )
    return value.encode("utf-8")


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the config from ``path`` or, when None, from $SEGMENTATION_CONFIG."""
    file, raw = _read_config_file(path)
    return parse_config(raw, base_dir=file.resolve().parent, origin=str(file))


def configured_home(path: str | os.PathLike[str] | None = None) -> Path:
    """``load_config(path).home``, reading only the file's ``home`` key.

    For the Airflow DAG, whose Assets name the tables under the home while it is parsed:
    cheap (PyYAML, which Airflow has imported by then) and nothing else is checked, so a
    mistake elsewhere in the file fails the run's first task with its message, not the parse.
    """
    file, raw = _read_config_file(path)
    if isinstance(raw, dict):
        raw = {key: raw[key] for key in ("home",) if key in raw}
    home = build(Config, raw, f"{file}:").home  # a file that is no mapping fails here too
    return _resolve_path(home, file.resolve().parent)


def _read_config_file(path: str | os.PathLike[str] | None) -> tuple[Path, Any]:
    """The config file (``path``, or $SEGMENTATION_CONFIG when None) and its parsed YAML."""
    if path is None:
        path = os.environ.get(CONFIG_ENV)
        if not path:
            raise ConfigError(
                f"no configuration given: pass --config FILE or set {CONFIG_ENV}=FILE"
            )
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"config file {file} does not exist")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {file} is not valid YAML: {exc}") from None
    return file, raw or {}


def parse_config(raw: Any, base_dir: Path, origin: str = "config") -> Config:
    """Build a Config from a mapping, resolving relative paths against ``base_dir``.

    Each section is checked by its own function, in the order of the file's sections; the
    first problem found is raised, naming the key.
    """
    cfg = build(Config, normalize(raw), f"{origin}:")
    _check_timezone(cfg.timezone, origin)
    check_source(cfg.source, "source", origin, CANONICAL_EVENT_COLUMNS)
    check_source_kind(cfg.source, raw.get("source") or {}, "source", origin)
    check_numbers(cfg.source, "source", origin)
    check_order_lines(cfg.source, "source", origin)
    _check_customers(cfg.customers, raw.get("customers"), origin)
    config_checks.check_model_search(cfg.model, origin)
    config_checks.check_model_sizes(cfg.model, origin)
    config_checks.check_rules(cfg.rules, origin)
    config_checks.check_control(cfg.control, origin)
    config_checks.check_rfm(cfg.rfm, origin)
    config_checks.check_alerts(cfg.alerts, origin)
    config_checks.check_features(cfg.features, origin)
    config_checks.check_validation(cfg.validation, origin)
    config_checks.check_events(cfg.events, origin)
    config_checks.check_predictions(cfg.predictions, origin)
    config_checks.check_recommendations(cfg.recommendations, cfg.events, origin)
    p = cfg.predictions
    check_audiences(cfg.audiences, p.horizon_days if p.enabled else None, origin)
    check_campaigns(cfg.campaigns.list, cfg.audiences, f"{origin}:")
    check_retention(cfg.retention, origin)
    cfg = _resolve_paths(cfg, base_dir)
    check_privacy(cfg.privacy, cfg.home, origin)
    check_exports(
        cfg.audiences.export_columns,
        cfg.customers.columns if cfg.customers is not None else {},
        cfg.privacy.pseudonymize,
        origin,
    )
    return cfg


def _check_timezone(timezone: str, origin: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{origin}: timezone {timezone!r} is not an IANA zone name (e.g. UTC, Asia/Shanghai)"
        ) from None


def _check_customers(customers: SourceConfig | None, raw: Any, origin: str) -> None:
    if customers is None:
        return
    check_source(customers, "customers", origin, CUSTOMER_COLUMNS)
    check_numbers(customers, "customers", origin)
    if customers.kind != "files":
        raise ConfigError(
            f"{origin}: customers.kind must be files: customer attributes are read from "
            "files only (a postgres source is supported for events)"
        )
    if not isinstance(raw, dict) or "path" not in raw:
        raise ConfigError(f"{origin}: customers needs a path (a folder, a glob or a file)")
    if "{ds}" in customers.path:
        raise ConfigError(
            f"{origin}: customers.path cannot contain {{ds}}: customer attributes are read "
            "whole, not per day"
        )


def _resolve_path(p: str | Path, base_dir: Path) -> Path:
    q = Path(p).expanduser()
    return Path(os.path.normpath(q if q.is_absolute() else base_dir / q))


def _resolve_paths(cfg: Config, base_dir: Path) -> Config:
    """``cfg`` with home and the sources' paths resolved against ``base_dir``."""
    customers = cfg.customers
    if customers is not None:
        path = str(_resolve_path(customers.path, base_dir))
        customers = dataclasses.replace(customers, path=path)
    campaigns = cfg.campaigns
    if campaigns.path is not None:
        campaigns = dataclasses.replace(campaigns, path=_resolve_path(campaigns.path, base_dir))
    privacy = cfg.privacy
    if privacy.erasure_list is not None:
        erasures = _resolve_path(privacy.erasure_list, base_dir)
        privacy = dataclasses.replace(privacy, erasure_list=erasures)
    return dataclasses.replace(
        cfg,
        campaigns=campaigns,
        privacy=privacy,
        home=_resolve_path(cfg.home, base_dir),
        source=dataclasses.replace(cfg.source, path=str(_resolve_path(cfg.source.path, base_dir))),
        customers=customers,
    )
