"""The table catalog printed for machines and people: JSON, Markdown, and a dbt ``sources.yml``.

``segmentation schema --format json|markdown|dbt`` prints these; the README's table list is
the Markdown (a test keeps them equal). The dbt sources describe the warehouse schema: each
table and its ``<table>_current`` view, with ``not_null`` on columns that are never null,
``unique`` on a view's one-column key, and ``relationships`` from segment ids to the
profiles, so analytics engineers can build on the warehouse with dbt.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from segmentation.catalog import TABLES, TYPES, Column, Table
from segmentation.identifiers import CURRENT_SUFFIX
from segmentation.layout import PART, RUN_KEY

SOURCE = "segmentation"
# columns whose values are segment ids of the same run's segment_profiles
_SEGMENT_REFERENCES = {
    "customer_segments": "segment_id",
    "segment_rules": "segment_id",
    "segment_migrations": "to_segment_id",
}


def as_json() -> str:
    """Every table with its columns, types (contract, Parquet, PostgreSQL) and descriptions."""
    tables = [
        {
            "name": t.name,
            "description": t.description,
            "row": t.row,
            "partitioned_by": "run_date" if t.per_run else None,
            "key": list(t.key),
            "step": t.step,
            "sinks": list(t.sinks),
            "columns": [_column_json(c) for c in t.published_columns()],
        }
        for t in TABLES
    ]
    return json.dumps({"tables": tables}, indent=2) + "\n"


def _column_json(c: Column) -> dict[str, Any]:
    parquet, postgres = TYPES[c.type]
    return {
        "name": c.name,
        "type": c.type,
        "parquet_type": parquet,
        "postgres_type": postgres,
        "nullable": c.nullable,
        "family": c.family is not None,
        "description": c.description,
    }


def as_markdown() -> str:
    """One section per table: what a row is, where it is, and a table of its columns."""
    parts = []
    for t in TABLES:
        current = f"`output/current/{t.name}.parquet`"  # as layout.Home spells them
        where = (
            f"`output/{t.name}/{RUN_KEY}=D/{PART}` (one partition per run) and {current}"
            if t.per_run
            else f"{current} (one file, as of the newest run)"
        )
        key = ", ".join(f"`{k}`" for k in t.key)
        lines = [
            f"#### `{t.name}`",
            "",
            f"{t.description[0].upper()}{t.description[1:]}. One row per {t.row}"
            f"{f'; unique by {key} within a run' if t.per_run else f'; unique by {key}'}. "
            f"In {where}.",
            "",
            "| column | type | description |",
            "|---|---|---|",
        ]
        for c in t.published_columns():
            null = " (may be null)" if c.nullable else ""
            lines.append(f"| `{c.name}` | {c.type} | {c.description}{null} |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def as_dbt(schema: str = SOURCE) -> str:
    """A dbt ``sources.yml`` for the warehouse schema ``schema``."""
    tables = []
    for t in TABLES:
        if "warehouse" not in t.sinks:
            continue
        tables.append(_dbt_table(t, t.name, current=False))
        tables.append(_dbt_table(t, t.name + CURRENT_SUFFIX, current=True))
    doc = {
        "version": 2,
        "sources": [
            {
                "name": SOURCE,
                "schema": schema,
                "description": "Customer segments published nightly by the segmentation pipeline",
                "tables": tables,
            }
        ],
    }
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def _dbt_table(t: Table, name: str, *, current: bool) -> dict[str, Any]:
    what = "the newest run of " if current and t.per_run else ""
    columns = []
    for c in t.published_columns():
        if c.family is not None:
            continue  # named by the data (one per feature or category): not listable here
        tests: list[Any] = [] if c.nullable else ["not_null"]
        if current and t.key == (c.name,):
            tests.append("unique")
        if current and _SEGMENT_REFERENCES.get(t.name) == c.name:
            to = f"source('{SOURCE}', 'segment_profiles{CURRENT_SUFFIX}')"
            tests.append({"relationships": {"arguments": {"to": to, "field": "segment_id"}}})
        column: dict[str, Any] = {
            "name": c.name,
            "description": c.description,
            "data_type": TYPES[c.type][1],
        }
        if tests:
            column["data_tests"] = tests
        columns.append(column)
    return {
        "name": name,
        "description": f"{what}{t.description}: one row per {t.row}",
        "columns": columns,
    }
