"""Values as the report shows them: escaped, as text, counts, percentages, measurements."""

from __future__ import annotations

import datetime as dt
import html
import math
import re

import pandas as pd


def esc(value: object) -> str:
    """``value`` as text escaped for HTML, quotes included (every value from the data)."""
    return html.escape(str(value), quote=True)


def as_text(value: object) -> str:
    """A cell as text; empty for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return "" if value is pd.NA or value is pd.NaT else str(value)


def finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt_int(value: object, na: str) -> str:
    number = finite(value)
    return na if number is None else f"{round(number):,}"


def fmt_pct(value: object, na: str) -> str:
    number = finite(value)
    return na if number is None else f"{number * 100:.1f}%"


def fmt_money(value: object, na: str) -> str:
    """An amount of money, with cents: 1,234.50."""
    number = finite(value)
    return na if number is None else f"{number:,.2f}"


def fmt_num(value: object, na: str) -> str:
    """A measurement with about three significant digits: 1,234 / 12.3 / 0.12 / 0.00014."""
    number = finite(value)
    if number is None:
        return na
    size = abs(number)
    if size >= 1000:
        return f"{number:,.0f}"
    if size >= 100:
        return f"{number:.0f}"
    if size >= 10:
        return f"{number:.1f}"
    if size >= 0.01 or size == 0:
        return f"{number:.2f}"
    return f"{number:.2g}"


def fmt_score(value: object, na: str) -> str:
    """A quality score such as a silhouette, to three decimals so close ones can be told apart."""
    number = finite(value)
    return na if number is None else f"{number:.3f}"


def as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# what suppression_reason says (segmentation.privacy.suppression.reason)
_REASON = re.compile(r"fewer than (\d+) (customers|baskets)")


def is_suppressed(row: object) -> bool:
    """Whether a row (a mapping or a Series) of a published aggregate is suppressed."""
    value = row.get("suppressed") if hasattr(row, "get") else None
    return value is not None and value is not pd.NA and bool(value)


def hidden_text(reason: object, words: dict[str, str]) -> str:
    """A suppressed row as the page says it: "fewer than 50 customers: not shown"."""
    found = _REASON.search(as_text(reason))
    if found is None:
        return words["suppressed_short"]
    key = "suppressed_baskets" if found.group(2) == "baskets" else "suppressed"
    return words[key].format(n=found.group(1))


def segment_label(segment_id: int, names: dict[int, str]) -> str:
    name = names.get(segment_id, "")
    return f"{name} ({segment_id})" if name else str(segment_id)
