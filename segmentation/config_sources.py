"""The checks of a source section (``source``, ``customers``), for :mod:`segmentation.config`.

Each raises a ``ConfigError`` naming the key and how to fix it; :func:`parse_config` calls
them once, so the adapters in :mod:`segmentation.io` need not check again.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from segmentation.config_coerce import suggest
from segmentation.errors import ConfigError
from segmentation.identifiers import check_identifier

if TYPE_CHECKING:
    from segmentation.config import SourceConfig

DECIMALS = (".", ",")
# apostrophe (Swiss), space, no-break space and narrow no-break space besides the two marks
THOUSANDS = (".", ",", "'", " ", "\u00a0", "\u202f")


def check_source(src: SourceConfig, name: str, origin: str, canonical: tuple[str, ...]) -> None:
    for section in ("columns", "defaults"):
        for key in getattr(src, section):
            if key not in canonical:
                raise ConfigError(
                    f"{origin}: {name}.{section} has unknown canonical column {key!r}"
                    f"{suggest(key, canonical)}; canonical columns are {', '.join(canonical)} "
                    f"(keys are canonical names, values your file's column names)"
                )


_POSTGRES_ONLY = ("table", "url_env", "conn_id", "chunk_rows", "arrival_column")
_FILES_ONLY = ("path", "format", "event_time_format", "decimal", "thousands")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONN_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


def check_source_kind(src: SourceConfig, raw: dict[str, Any], name: str, origin: str) -> None:
    """Keys of the other kind are refused (they would be silently ignored); postgres needs a
    valid table name, environment variable name and chunk size."""
    if src.kind == "files":
        given = [k for k in _POSTGRES_ONLY if k in raw]
        if given:
            raise ConfigError(
                f"{origin}: {name}.{given[0]} applies to kind postgres only; set "
                f"{name}.kind: postgres, or remove it"
            )
        return
    given = [k for k in _FILES_ONLY if k in raw]
    if given:
        raise ConfigError(
            f"{origin}: {name}.{given[0]} applies to kind files only; a postgres source reads "
            f"{name}.table (timestamps come typed from the database), so remove it"
        )
    if not src.table:
        raise ConfigError(
            f"{origin}: {name}.kind postgres needs {name}.table, the events table as "
            "schema.table (or table, found on the search_path), e.g. sales.events"
        )
    parts = src.table.split(".")
    if len(parts) > 2:
        raise ConfigError(
            f"{origin}: {name}.table {src.table!r} must be schema.table or table (one dot at most)"
        )
    for part in parts:
        check_identifier(part, f"{origin}: {name}.table ({src.table!r})")
    if not _ENV_NAME.fullmatch(src.url_env):
        raise ConfigError(
            f"{origin}: {name}.url_env {src.url_env!r} must be the NAME of an environment "
            "variable (letters, digits, underscores) holding the connection URL, e.g. "
            "SEGMENTATION_SOURCE_URL; never put the URL itself in the config"
        )
    if src.conn_id is not None and not _CONN_ID.fullmatch(src.conn_id):
        raise ConfigError(
            f"{origin}: {name}.conn_id {src.conn_id!r} is not an Airflow connection id "
            "(letters, digits, '_', '-' and '.')"
        )
    if src.chunk_rows < 1:
        raise ConfigError(f"{origin}: {name}.chunk_rows must be a positive number of rows")
    if src.arrival_column is not None:
        check_identifier(src.arrival_column, f"{origin}: {name}.arrival_column")


def check_numbers(src: SourceConfig, name: str, origin: str) -> None:
    """``decimal`` and ``thousands`` are separators numbers can be written with, and differ."""
    if src.decimal not in DECIMALS:
        raise ConfigError(
            f'{origin}: {name}.decimal {src.decimal!r} must be "." (1234.56) or "," '
            "(1234,56): the character between the whole part and the fraction"
        )
    if src.thousands is not None and src.thousands not in THOUSANDS:
        raise ConfigError(
            f"{origin}: {name}.thousands {src.thousands!r} must be null (no grouping) or one "
            f"of {', '.join(map(repr, THOUSANDS))}: the character between groups of digits"
        )
    if src.thousands == src.decimal:
        raise ConfigError(
            f"{origin}: {name}.decimal and {name}.thousands are both {src.decimal!r}; for "
            f'1.234,56 set decimal: "," and thousands: ".", for 1,234.56 the other way round'
        )


def check_order_lines(src: SourceConfig, name: str, origin: str) -> None:
    """Without an amount, quantity and unit_price come as a pair: amount is their product."""
    if "amount" in src.columns or "amount" in src.defaults:
        return
    mapped = [key for key in ("quantity", "unit_price") if key in src.columns]
    if len(mapped) == 1:
        missing = "unit_price" if mapped == ["quantity"] else "quantity"
        raise ConfigError(
            f"{origin}: {name}.columns maps {mapped[0]} but neither {missing} nor amount; "
            f"without an amount column the amount is quantity × unit_price. Map "
            f"{name}.columns.{missing} too, or map {name}.columns.amount to the column "
            "holding each row's total"
        )
