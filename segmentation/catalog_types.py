"""The types of the output catalog: a column, a table, and the contract's type names.

Standard library only, like :mod:`segmentation.catalog`, which re-exports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# contract type -> (Parquet/Arrow type, PostgreSQL type)
TYPES: dict[str, tuple[str, str]] = {
    "date": ("date32", "date"),
    "string": ("large_string", "text"),
    "int64": ("int64", "bigint"),
    "int8": ("int8", "bigint"),
    "double": ("double", "double precision"),
    "bool": ("bool", "boolean"),
    "timestamp": ("timestamp_utc", "timestamptz"),
    "list": ("list_string", "text[]"),  # a list of text values
}
RUN_DATE = "run_date"
CUSTOMER_ID = "customer_id"
# with privacy.pseudonymize, a table's customer_id is published as this column instead
CUSTOMER_KEY = "customer_key"
# the two columns of a table whose small groups are suppressed (privacy.min_group_size)
SUPPRESSED = "suppressed"
SUPPRESSION_REASON = "suppression_reason"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    nullable: bool = False

    @property
    def family(self) -> re.Pattern[str] | None:
        """For ``mean_<feature>``, the pattern its columns match; None for one column."""
        if "<" not in self.name:
            return None
        return re.compile(re.sub(r"<[a-z]+>", ".+", re.escape(self.name)))


@dataclass(frozen=True)
class Table:
    """One output table of the contract (DESIGN.md, "The output contract")."""

    name: str
    row: str  # what one row is
    per_run: bool  # True: one partition per run date; False: one whole table as of a run
    step: str  # the pipeline step that publishes it (and whose Asset it is)
    columns: tuple[Column, ...] = ()  # without run_date: per-run tables get it first
    key: tuple[str, ...] = ()  # what makes a row unique within one run
    description: str = ""
    staged: bool = False  # built into work/ by ``stager``, published by publish_tables
    stager: str = "assign_segments"
    sinks: tuple[str, ...] = ("parquet", "warehouse")
    # the columns a row keeps when its group is too small (privacy.min_group_size); every
    # other column is a value, nulled then (so declared nullable here); empty: not suppressed
    kept: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.kept:
            return
        values = tuple(
            c if c.name in self.kept else replace(c, nullable=True) for c in self.columns
        )
        flags = (
            Column(SUPPRESSED, "bool", "true: the group is too small to show (values null)"),
            Column(
                SUPPRESSION_REASON,
                "string",
                "why the row is suppressed, e.g. fewer than 10 customers "
                "(privacy.min_group_size); null when shown",
                True,
            ),
        )
        object.__setattr__(self, "columns", values + flags)

    @property
    def suppressible(self) -> bool:
        return bool(self.kept)

    def value_columns(self, names: list[str]) -> list[str]:
        """Of ``names`` (a frame's columns), those a suppressed row loses."""
        keep = {RUN_DATE, SUPPRESSED, SUPPRESSION_REASON, *self.kept}
        return [n for n in names if n not in keep]

    def published_columns(self) -> tuple[Column, ...]:
        """The columns of ``current/<table>.parquet`` and of the warehouse table."""
        if not self.per_run:
            return self.columns
        return (Column(RUN_DATE, "date", "the run (night) the row belongs to"), *self.columns)

    def column(self, name: str) -> Column | None:
        """The declaration ``name`` falls under (itself, or its family); None if undeclared.
        ``customer_key`` stands for ``customer_id`` in pseudonymous outputs."""
        if name == CUSTOMER_KEY and self.column(CUSTOMER_ID) is not None:
            return Column(CUSTOMER_KEY, "string", "HMAC-SHA256 of customer_id (hex)")
        for c in self.published_columns():
            if c.name == name or (c.family is not None and c.family.fullmatch(name)):
                return c
        return None


def col(name: str, type_: str, description: str, nullable: bool = False) -> Column:
    return Column(name, type_, description, nullable)
