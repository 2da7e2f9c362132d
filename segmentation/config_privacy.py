"""The ``privacy`` and ``retention`` sections of the config: their types and their checks.

The pseudonym key itself is never in the file: ``privacy.key_env`` names the environment
variable that holds it, read by :func:`segmentation.config.pseudonym_key`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from segmentation.errors import ConfigError

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# the customers source's demographic columns: features of the model, never published per
# customer (no table has them, and an audience export refuses them)
DEMOGRAPHICS = ("birth_date", "age", "gender", "region")


@dataclass(frozen=True)
class PrivacyConfig:
    """Pseudonymous outputs, small groups suppressed, the customers to forget."""

    # true: published tables, exports, the warehouse and the report carry customer_key
    # (HMAC-SHA256 of the customer_id under the key) instead of customer_id
    pseudonymize: bool = False
    # the environment variable holding the secret key (never the key itself)
    key_env: str = "SEGMENTATION_PSEUDONYM_KEY"
    # an aggregate over fewer customers than this is published suppressed, never shown
    min_group_size: int = 10
    # a text file of customer ids to forget, one per line (outside home): `forget` appends
    # to it, and every night's extract drops its customers' rows
    erasure_list: Path | None = None


@dataclass(frozen=True)
class RetentionConfig:
    """How many days of each area under home are kept (null: kept for ever)."""

    staging_days: int | None = 7
    state_days: int | None = 3  # enough to roll forward and rerun the recent nights
    features_days: int | None = 400
    models_days: int | None = 400
    output_days: int | None = None
    reports_days: int | None = 90


def check_privacy(p: PrivacyConfig, home: Path, origin: str) -> None:
    if not ENV_NAME.fullmatch(p.key_env):
        raise ConfigError(
            f"{origin}: privacy.key_env must name an environment variable (e.g. "
            f"SEGMENTATION_PSEUDONYM_KEY), not hold the key itself; got {p.key_env!r}"
        )
    if p.min_group_size < 1:
        raise ConfigError(
            f"{origin}: privacy.min_group_size must be 1 or more customers (1 publishes every "
            f"group); got {p.min_group_size}"
        )
    if p.erasure_list is not None and p.erasure_list.resolve().is_relative_to(home.resolve()):
        raise ConfigError(
            f"{origin}: privacy.erasure_list {p.erasure_list} is inside home {home}: it holds "
            "the raw ids of the customers who asked to be forgotten, and home must hold none; "
            "keep it beside the config file instead"
        )


def check_exports(
    export_columns: tuple[str, ...],
    customer_columns: Mapping[str, str],
    pseudonymize: bool,
    origin: str,
) -> None:
    """Demographics are never published per customer: ``audiences.export_columns`` may not
    name one, by its canonical name or by the customers source's own (``customers.columns``).
    Nor, in pseudonymous outputs, the raw id under its source name."""
    if pseudonymize:
        raw = {"customer_id", customer_columns.get("customer_id", "customer_id")}
        for column in set(export_columns) & raw:
            raise ConfigError(
                f"{origin}: audiences.export_columns names {column!r}, the customers' raw id, "
                "but privacy.pseudonymize is true: the exported files carry customer_key "
                "instead; drop it"
            )
    named = {*DEMOGRAPHICS, *(customer_columns[c] for c in DEMOGRAPHICS if c in customer_columns)}
    for column in export_columns:
        if column in named:
            raise ConfigError(
                f"{origin}: audiences.export_columns names {column!r}, a demographic column "
                f"({', '.join(DEMOGRAPHICS)}) of the customers source; demographics are never "
                "published per customer (privacy): drop it, and export an id your marketing "
                "tool matches on instead (e.g. a hashed e-mail)"
            )


def check_retention(r: RetentionConfig, origin: str) -> None:
    for f in fields(r):
        days = getattr(r, f.name)
        if days is not None and days < 1:
            raise ConfigError(
                f"{origin}: retention.{f.name} must be a number of days (1 or more), or null "
                f"to keep everything; got {days}"
            )
    # a rerun of one of the last state_days nights (or of one of its tasks) reads that
    # night's features and published tables: they must live at least as long as the state
    for key in ("features_days", "output_days"):
        days = getattr(r, key)
        if days is None:
            continue
        if r.state_days is None:
            raise ConfigError(
                f"{origin}: retention.{key} is {days} but retention.state_days is null (every "
                f"night stays rerunnable, and a rerun reads its night's {key[:-5]}): set "
                f"retention.{key} to null too, or give retention.state_days a number of days"
            )
        if days < r.state_days:
            raise ConfigError(
                f"{origin}: retention.{key} ({days}) is shorter than retention.state_days "
                f"({r.state_days}), the nights that can be rerun: a rerun of one of them (or of "
                f"one of its tasks) reads that night's {key[:-5]}; raise retention.{key} to at "
                f"least {r.state_days}"
            )
