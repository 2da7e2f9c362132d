"""A table's declared schema (``segmentation.catalog``) as Arrow, and frames cast to it.

Every published file goes through :func:`conform`: its columns are the catalog's, in the
frame's order, with the declared types. So a night whose registry has no champion yet still
writes ``champion_silhouette`` as a ``double`` (not Arrow's ``null``), and every reader that
merges partitions sees one type per column.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from segmentation.catalog import RUN_DATE, TYPES, Table
from segmentation.catalog_types import CUSTOMER_ID, CUSTOMER_KEY

_ARROW = {
    "date32": pa.date32(),
    "large_string": pa.large_string(),
    "int64": pa.int64(),
    "int8": pa.int8(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "timestamp_utc": pa.timestamp("us", tz="UTC"),
    "list_string": pa.large_list(pa.large_string()),
}


def arrow_type(contract_type: str) -> pa.DataType:
    return _ARROW[TYPES[contract_type][0]]


def arrow_schema(entry: Table, names: list[str], *, run_date: bool) -> pa.Schema:
    """The Arrow schema of ``entry`` for the columns ``names`` (a family's columns by name).

    ``run_date`` False gives the partition form: the key is in the folder name, not the file.
    """
    fields = []
    for name in names:
        if name == RUN_DATE and entry.per_run and not run_date:
            continue
        column = entry.column(name)
        if column is None:
            raise ValueError(
                f"{entry.name} has a column {name!r} that the catalog does not declare; "
                "declare it in segmentation/catalog.py"
            )
        fields.append(pa.field(name, arrow_type(column.type), nullable=True))
    present = {*names, *([CUSTOMER_ID] if CUSTOMER_KEY in names else [])}
    missing = [
        c.name
        for c in entry.published_columns()
        if c.family is None and c.name not in present and (run_date or c.name != RUN_DATE)
    ]
    if missing:
        raise ValueError(f"{entry.name} lacks the declared columns {missing}")
    return pa.schema(fields)


def conform(frame: pd.DataFrame, entry: Table, *, run_date: bool) -> pa.Table:
    """``frame`` as an Arrow table of ``entry``'s declared schema (see :func:`arrow_schema`)."""
    schema = arrow_schema(entry, list(frame.columns), run_date=run_date)
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
