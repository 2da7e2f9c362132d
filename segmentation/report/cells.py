"""A published table's headers and cells as people read them (the Airflow view's table pages).

The table keeps its machine column names; a page shows ``column_label`` ("Days since last
purchase" for ``recency_days``) and each value as ``cell`` makes it: counts and days as whole
numbers (``279``, not ``279.00``), money and probabilities with two decimals, flags as yes /
no. Messages shown
on a page go through ``without_paths``, so no page names a folder of the server.
``validation_label`` and ``validation_badge`` say a day's validation result in words.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

from segmentation.features.labels import feature_label
from segmentation.report.formatting import esc

# columns of the published tables that are not model features (those get their feature label)
COLUMN_LABELS = {
    "run_date": "Run date",
    "customer_id": "Customer",
    "segment_id": "Segment id",
    "segment_name": "Segment",
    "model_version": "Model version",
    "is_control": "Control group",
    "r_score": "R score",
    "f_score": "F score",
    "m_score": "M score",
    "rfm_score": "RFM score",
    "rfm_segment": "RFM segment",
    "customers": "Customers",
    "control_customers": "Control group customers",
    # customer_predictions
    "p_alive": "Chance still active",
    "churn_probability": "Churn probability",
    "churn_risk": "Churn risk",
    "churn_decile": "Churn decile (10 = most likely to leave)",
    "btyd_version": "BG/NBD version",
    # customer_recommendations
    "rank": "Rank (1 = best)",
    "item": "Item offered",
    "source": "Where it comes from",
    # audience_members, audience_changes
    "audience": "Audience",
    "exported": "Exported (targeted)",
    "change": "Change tonight",
}
# customer_predictions' columns per horizon (expected_purchases_30d, ...): label by prefix
HORIZON_LABELS = {
    "expected_purchases": "Expected purchase days, next {h} days",
    "p_no_purchase": "Chance of no purchase, next {h} days",
    "predicted_clv": "Predicted value, next {h} days",
}
_HORIZON = re.compile(r"([a-z_]+)_(\d+)d")
# stored as floating point, but whole numbers: counts and days
WHOLE_NUMBERS = frozenset(
    {
        "recency_days",
        "days_since_last_event",
        "frequency",
        "tenure_days",
        "active_days",
        "customers",
        "control_customers",
    }
)
MONEY = frozenset({"monetary", "avg_order_value"})
# predicted money and probabilities, by their prefix: always two decimals, like money
TWO_DECIMALS = ("predicted_clv_", "p_alive", "p_no_purchase_", "churn_probability")
# an absolute path (two parts at least) in a message: shown by its last part only
_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s/'\"(),;:]+/)+([^\s/'\"(),;:]*)")


def column_label(name: str) -> str:
    """A column's header: its label, capitalised ("Days since last purchase")."""
    horizon = _HORIZON.fullmatch(name)
    if horizon and horizon[1] in HORIZON_LABELS:
        return HORIZON_LABELS[horizon[1]].format(h=horizon[2])
    label = COLUMN_LABELS.get(name) or feature_label(name, "en")
    return label[:1].upper() + label[1:]


def is_whole(name: str) -> bool:
    """Whether the column holds counts or days (shown without decimals)."""
    return name in WHOLE_NUMBERS or name.startswith("n_") or name.endswith("_days")


def cell(column: str, value: object) -> str:
    """One ``<td>`` of ``column`` showing ``value`` for reading, escaped."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return '<td class="muted">—</td>'
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, int):  # ids and scores as they are; counts with thousands separators
        shown = f"{value:,}" if is_whole(column) else str(value)
        return f'<td class="num">{shown}</td>'
    if isinstance(value, float):
        return f'<td class="num">{_number(column, value)}</td>'
    if isinstance(value, dt.date):
        return f'<td class="date">{value.isoformat()}</td>'
    return f"<td>{esc(value)}</td>"


def _number(column: str, value: float) -> str:
    if not math.isfinite(value):
        return esc(value)
    if column in MONEY or column.startswith(TWO_DECIMALS):  # 1.00 and 0.00 too
        return f"{value:,.2f}"
    if is_whole(column) or value.is_integer():
        return f"{round(value):,}"
    return f"{value:,.2f}"


def without_paths(text: str) -> str:
    """``text`` with each absolute path cut to its last part (``/srv/x/config.yaml`` ->
    ``config.yaml``): a page tells which file, never where the server keeps it."""
    return _PATH.sub(lambda m: m.group(1) or "…", text)


def validation_label(summary: Mapping[str, Any]) -> str:
    """A validation summary (``success``, ``evaluated``, ``failures``) in a few words, e.g.
    "passed (13 expectations)", escaped for HTML."""
    n = None if summary["evaluated"] is None else esc(summary["evaluated"])
    of = f" of {n}" if n is not None else ""
    if summary["success"] is True:
        return f"passed ({n} expectations)" if n is not None else "passed"
    if summary["success"] is False:
        return f"failed ({len(summary['failures'])}{of} expectations)"
    return "unknown"


def validation_badge(summary: Mapping[str, Any]) -> str:
    """The result of a validation as a coloured word (passed, failed, unknown)."""
    if summary["success"] is True:
        return '<span class="ok">passed</span>'
    if summary["success"] is False:
        return '<span class="bad">failed</span>'
    return '<span class="muted">unknown</span>'
