"""Deterministic control (holdout) groups that anyone can reproduce from the customer id.

Definition, exactly::

    h = md5(f"{salt}:{customer_id}")          # UTF-8 bytes, hex digest (lowercase)
    u = int(h[:8], 16) / 2**32                # the first 32 bits as a number in [0, 1)
    is_control = u < shares.get(segment_id, share)

The customer id is written as text (a numeric id as its decimal digits, e.g. ``12345``). The
same ``u`` in PostgreSQL::

    ('x' || lpad(substr(md5(salt || ':' || customer_id::text), 1, 8), 16, '0'))::bit(64)::bigint
        / 4294967296.0

and in DuckDB ``('0x' || md5(salt || ':' || customer_id)[1:8])::UBIGINT / 4294967296``.

The global control group (``control.global_share``, held out of every audience and campaign)
is ``u' < global_share``, ``u'`` as ``u`` from the salt ``f"{salt}:global"``.

``u`` depends on the salt and the customer only, not on the segment: a customer stays in
control while their segment's share does not change, also when they move between segments with
equal shares, and raising a share only adds customers. A new salt draws a new control group.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from segmentation.errors import SegmentationError


def control_flags(
    customer_ids: pd.Series,
    segment_ids: np.ndarray,
    share: float,
    shares: dict[int, float],
    salt: str,
) -> np.ndarray:
    """``is_control`` per customer: ``u < shares.get(segment_id, share)``, ``u`` from MD5.

    ``share`` and ``shares`` are fractions in [0, 1) (the config parser checks
    ``control.share`` and ``control.shares``).
    """
    segments = np.asarray(segment_ids)
    if len(segments) != len(customer_ids):
        raise SegmentationError(
            f"control_flags got {len(segments)} segment ids for {len(customer_ids)} customers; "
            "pass one segment id per customer"
        )
    if len(segments) == 0:
        return np.zeros(0, dtype=bool)
    u = control_numbers(customer_ids, salt)
    levels, inverse = np.unique(segments, return_inverse=True)
    limits = np.array([shares.get(int(s), share) for s in levels], dtype="float64")
    return np.asarray(u < limits[inverse])


def control_numbers(customer_ids: pd.Series, salt: str) -> np.ndarray:
    """``u`` in [0, 1) per customer: the first 32 bits of md5("{salt}:{customer_id}") / 2**32."""
    ids = customer_ids.astype("string").reset_index(drop=True)
    if ids.isna().any():
        raise SegmentationError(
            f"{int(ids.isna().sum())} customers have no customer_id; "
            "control groups need an id for every customer"
        )
    frame = pd.DataFrame({"i": np.arange(len(ids), dtype="int64"), "customer_id": ids})
    con = duckdb.connect()
    try:
        con.register("ids", frame)
        i, n = (
            con.execute(
                """
            SELECT i, ('0x' || md5($salt || ':' || customer_id)[1:8])::UBIGINT AS n FROM ids
            """,
                {"salt": salt},
            )
            .fetchnumpy()
            .values()
        )
    finally:
        con.close()
    # placed by row number: the result's row order is not relied on
    u = np.empty(len(ids), dtype="float64")
    u[np.asarray(i)] = np.asarray(n, dtype="float64") / 2.0**32
    return u


def global_control_flags(customer_ids: pd.Series, share: float, salt: str) -> np.ndarray:
    """In the global control group (held out of every audience): ``u' < share``, with ``u'``
    as above from the salt ``f"{salt}:global"``, so it is drawn apart from ``is_control``."""
    if share <= 0 or len(customer_ids) == 0:
        return np.zeros(len(customer_ids), dtype=bool)
    return np.asarray(control_numbers(customer_ids, f"{salt}:global") < share)
