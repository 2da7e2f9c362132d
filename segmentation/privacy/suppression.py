"""Small groups are not published: an aggregate over too few customers is suppressed.

A row of a published aggregate whose group has fewer than ``privacy.min_group_size``
customers keeps its keys (which segment, which rule rank, which campaign...) and loses every
value: each value column is null, ``suppressed`` is true and ``suppression_reason`` says why.
Which columns of a table a suppressed row keeps is declared once, in the catalog (``Table.kept``);
every other column (the flags aside) is a value, so a column added later is suppressed unless
declared kept.

Pure and vectorised: frames in, new frames out (inputs are never changed). The pipeline
applies them as the tables are published (``segmentation.pipeline.suppress``).
"""

from __future__ import annotations

import pandas as pd

from segmentation import catalog
from segmentation.catalog_types import SUPPRESSED
from segmentation.catalog_types import SUPPRESSION_REASON as REASON

FLAGS = (SUPPRESSED, REASON)


def value_columns(table: str, columns: list[str] | pd.Index) -> list[str]:
    """The columns of ``table`` that a suppressed row loses (in ``columns``' order)."""
    entry = catalog.table(table)
    if not entry.suppressible:
        raise ValueError(f"{table} declares no kept columns: the catalog does not suppress it")
    return entry.value_columns([str(c) for c in columns])


def reason(min_size: int, unit: str = "customers") -> str:
    """What ``suppression_reason`` says, e.g. "fewer than 10 customers (privacy.min_group_size)"."""
    return f"fewer than {min_size} {unit} (privacy.min_group_size)"


def suppress(
    frame: pd.DataFrame, table: str, sizes: pd.Series, min_size: int, unit: str = "customers"
) -> pd.DataFrame:
    """``frame`` with every row whose group size (``sizes``, aligned with its rows; null:
    unknown, hence suppressed) is under ``min_size`` suppressed.

    Rows already suppressed stay so with their reason (so suppressing by a second size, or
    twice, is safe); the others get ``suppressed`` false and a null reason.
    """
    sizes = pd.to_numeric(pd.Series(sizes, index=frame.index), errors="coerce")
    small = (sizes.isna() | (sizes < min_size)).to_numpy(dtype=bool)
    before = (
        frame[SUPPRESSED].fillna(False).to_numpy(dtype=bool)
        if SUPPRESSED in frame
        else pd.Series(False, index=frame.index).to_numpy(dtype=bool)
    )
    hide = pd.Series(small | before, index=frame.index)
    out = frame.copy()
    for column in value_columns(table, out.columns):
        out[column] = _nullable(out[column]).mask(hide)
    old = out[REASON] if REASON in out else pd.Series(pd.NA, index=out.index, dtype="string")
    new = pd.Series(reason(min_size, unit), index=out.index, dtype="string")
    out[SUPPRESSED] = hide.to_numpy()
    out[REASON] = old.astype("string").where(before, new.where(hide))
    return out


def _nullable(values: pd.Series) -> pd.Series:
    """``values`` in a dtype that holds a null without changing the others (int -> Int64)."""
    if pd.api.types.is_bool_dtype(values.dtype) and not isinstance(values.dtype, pd.BooleanDtype):
        return values.astype("boolean")
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.astype("Int64")
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        return values.astype(object)
    return values


def sizes_by_segment(segment_ids: pd.Series, customers: pd.Series) -> pd.Series:
    """The group size of each row of a per-segment table: its segment's customers (the map
    ``customers``, indexed by segment id); a null segment id is everyone (their sum)."""
    sized = segment_ids.astype("Int64").map(customers.astype("float64"))
    return sized.where(segment_ids.notna(), float(customers.sum()))


def suppress_profiles(profiles: pd.DataFrame, min_size: int) -> pd.DataFrame:
    """``segment_profiles``: a segment of fewer customers shows its name only."""
    return suppress(profiles, "segment_profiles", profiles["customers"], min_size)


def suppress_rules(rules: pd.DataFrame, customers: pd.Series, min_size: int) -> pd.DataFrame:
    """``segment_rules``: the rules of a small segment (``customers`` per segment id). A rule
    of a published segment that few customers match stays: its figures are shares of the
    segment and of the customers matching it, whose segments and features
    ``customer_segments`` publishes one by one anyway."""
    sizes = sizes_by_segment(rules["segment_id"], customers)
    return suppress(rules, "segment_rules", sizes, min_size)


def suppress_migrations(moves: pd.DataFrame, min_size: int) -> pd.DataFrame:
    """``segment_migrations``: every cell into a segment of fewer customers tonight, or out of
    one that had fewer (their totals over the table's cells; new customers come from no
    segment). A small cell between two published segments stays: it says no more than
    ``customer_segments`` of the two nights, which publishes every customer's segment."""
    counts = moves["customers"].astype("float64")
    into = counts.groupby(moves["to_segment_id"]).transform("sum")
    out_of = counts.groupby(moves["from_segment_id"].astype("Int64")).transform("sum")
    sizes = pd.concat([into, out_of.reindex(moves.index)], axis=1).min(axis=1)
    return suppress(moves, "segment_migrations", sizes, min_size)


def suppress_association_rules(
    found: pd.DataFrame, customers: pd.Series, min_size: int
) -> pd.DataFrame:
    """``association_rules``: the rules of a small segment (``customers`` per segment id; null
    segment: everyone), and a rule held by fewer baskets than ``min_size`` (fewer baskets
    than that are fewer customers than that)."""
    sizes = sizes_by_segment(found["segment_id"], customers)
    out = suppress(found, "association_rules", sizes, min_size)
    return suppress(out, "association_rules", found["baskets"], min_size, "baskets")


def suppress_campaign_results(results: pd.DataFrame, min_size: int) -> pd.DataFrame:
    """``campaign_results``: a row whose treated or control group has fewer customers (a row
    without anybody, e.g. no groups could be frozen, has nothing to hide and keeps its
    reason)."""
    groups = results[["treated", "control"]].apply(pd.to_numeric, errors="coerce").fillna(0)
    nobody = groups.sum(axis=1) == 0
    sizes = groups.min(axis=1).where(~nobody, float(min_size))
    return suppress(results, "campaign_results", sizes, min_size)


def suppress_drift(metrics: pd.DataFrame, customers: pd.Series, min_size: int) -> pd.DataFrame:
    """``drift_metrics``: the segment rows of a segment with fewer customers tonight
    (``customers`` per segment id; a vanished segment has none). Feature and run rows are over
    everyone and stay."""
    segment = metrics["scope"] == "segment"
    ids = pd.to_numeric(metrics["name"].where(segment), errors="coerce")
    sizes = ids.astype("Int64").map(customers.astype("float64")).fillna(0.0)
    return suppress(metrics, "drift_metrics", sizes.where(segment, float(min_size)), min_size)
