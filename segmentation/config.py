"""Typed, frozen configuration parsed once from one YAML file.

This is the only module that reads environment variables. Unknown keys are errors that name
the key (and suggest the closest valid one), so a typo never silently falls back to a default.
Relative paths are resolved against the folder that holds the config file.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

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
)
CUSTOMER_COLUMNS = ("customer_id", "signup_date", "birth_date", "age", "gender", "region")


@dataclass(frozen=True)
class SourceConfig:
    """Where events (or customer attributes) come from and how their columns map."""

    kind: Literal["files"] = "files"
    path: str = "./data/landing/events"
    format: Literal["csv", "jsonl", "parquet"] = "csv"
    # canonical name -> the source's column name; unmapped canonical columns keep their name
    columns: dict[str, str] = field(default_factory=dict)
    event_time_format: str | None = None
    # constants for canonical columns the source lacks, e.g. {"event_type": "purchase"}
    defaults: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventsConfig:
    """What the event types mean."""

    allowed_types: tuple[str, ...] = ("view", "add_to_cart", "purchase")
    purchase_type: str = "purchase"
    view_type: str = "view"


@dataclass(frozen=True)
class ValidationConfig:
    allow_empty_days: bool = False
    max_amount: float = 1_000_000.0


@dataclass(frozen=True)
class FeaturesConfig:
    window_days: int = 365
    # the most frequent categories (in the window) become share features; the rest is "other"
    max_categories: int = 8


@dataclass(frozen=True)
class ModelConfig:
    algorithm: Literal["kmeans"] = "kmeans"
    # a fixed number of segments, or null to choose over [k_min, k_max] by silhouette
    n_segments: int | None = None
    k_min: int = 4
    k_max: int = 10
    # customers sampled (seeded) to score candidate k and to fit the final model
    score_sample: int = 3_000
    fit_sample: int = 50_000
    random_state: int = 42
    # a new cluster keeps an old segment_id only if its centre is this close (standardised units)
    id_match_distance: float = 1.5
    # null: the behavioural defaults in segmentation.features.MODEL_FEATURES plus category shares
    features: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DriftConfig:
    bins: int = 10
    psi_warn: float = 0.1
    psi_alert: float = 0.25
    # a segment whose share of customers moves this much since the previous run is flagged
    share_warn: float = 0.05


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
    drift: DriftConfig = field(default_factory=DriftConfig)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the config from ``path`` or, when None, from $SEGMENTATION_CONFIG."""
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
    return parse_config(raw or {}, base_dir=file.resolve().parent, origin=str(file))


def parse_config(raw: Any, base_dir: Path, origin: str = "config") -> Config:
    """Build a Config from a mapping, resolving relative paths against ``base_dir``."""
    cfg = _build(Config, raw, f"{origin}:")
    try:
        ZoneInfo(cfg.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{origin}: timezone {cfg.timezone!r} is not an IANA zone name "
            "(e.g. UTC, Asia/Shanghai)"
        ) from None
    _check_source(cfg.source, "source", origin, CANONICAL_EVENT_COLUMNS)
    if cfg.customers is not None:
        _check_source(cfg.customers, "customers", origin, CUSTOMER_COLUMNS)
        if not isinstance(raw.get("customers"), dict) or "path" not in raw["customers"]:
            raise ConfigError(f"{origin}: customers needs a path (a folder, a glob or a file)")
        if "{ds}" in cfg.customers.path:
            raise ConfigError(
                f"{origin}: customers.path cannot contain {{ds}}: customer attributes are read "
                "whole, not per day"
            )
    m = cfg.model
    if m.n_segments is not None and m.n_segments < 2:
        raise ConfigError(f"{origin}: model.n_segments must be at least 2 (or null)")
    if not 2 <= m.k_min <= m.k_max:
        raise ConfigError(f"{origin}: model.k_min and k_max must satisfy 2 <= k_min <= k_max")
    if cfg.features.window_days < 1:
        raise ConfigError(f"{origin}: features.window_days must be a positive number of days")
    ev = cfg.events
    if len({t.lower() for t in ev.allowed_types}) != len(ev.allowed_types):
        raise ConfigError(f"{origin}: events.allowed_types repeats a type (case is ignored)")
    for key in ("purchase_type", "view_type"):
        if getattr(ev, key) not in ev.allowed_types:
            raise ConfigError(f"{origin}: events.{key} must be one of events.allowed_types")

    def resolve(p: str | Path) -> Path:
        q = Path(p).expanduser()
        return Path(os.path.normpath(q if q.is_absolute() else base_dir / q))

    customers = cfg.customers
    if customers is not None:
        customers = dataclasses.replace(customers, path=str(resolve(customers.path)))
    return dataclasses.replace(
        cfg,
        home=resolve(cfg.home),
        source=dataclasses.replace(cfg.source, path=str(resolve(cfg.source.path))),
        customers=customers,
    )


def _check_source(src: SourceConfig, name: str, origin: str, canonical: tuple[str, ...]) -> None:
    for section in ("columns", "defaults"):
        for key in getattr(src, section):
            if key not in canonical:
                raise ConfigError(
                    f"{origin}: {name}.{section} has unknown canonical column {key!r}"
                    f"{_suggest(key, canonical)}; canonical columns are {', '.join(canonical)} "
                    f"(keys are canonical names, values your file's column names)"
                )


def _suggest(key: str, options: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _build(cls: type[Any], raw: Any, where: str) -> Any:
    """Recursively build frozen dataclass ``cls`` from ``raw``, rejecting unknown keys."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where.rstrip(':')}: expected a mapping, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            raise ConfigError(
                f"{where.rstrip(':')}: unknown key {key!r}{_suggest(str(key), fields)}; "
                f"valid keys are {', '.join(fields)}"
            )
        kwargs[key] = _coerce(hints[key], value, _join(where, str(key)))
    return cls(**kwargs)


def _join(where: str, key: str) -> str:
    """Where a key sits, for messages: 'c.yaml:' + 'source' -> 'c.yaml: source', then '.path'."""
    return f"{where} {key}" if where.endswith(":") else f"{where}.{key}"


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, where)
    if dataclasses.is_dataclass(hint):
        return _build(typing.cast(type, hint), value, where)
    if origin is Literal:
        if value not in args:
            raise ConfigError(
                f"{where}: {value!r} is not allowed; choose one of {', '.join(map(str, args))}"
            )
        return value
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping")
        return {str(k): v for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list")
        return tuple(_coerce(args[0], v, where) for v in value)
    if hint is Path:
        return Path(_coerce(str, value, where))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return value
    return value
