"""Which day a run processes."""

from __future__ import annotations

import datetime as dt

from segmentation.config import Config
from segmentation.errors import BadInput


def resolve_run_date(
    run_date_param: str | None, logical_date: dt.datetime | None, cfg: Config
) -> dt.date:
    """The day a run processes: the ``run_date`` param, else the day before the logical date.

    A nightly run triggered just after midnight processes the day that just closed (in the
    configured timezone). A run with neither (a manual run without a date) fails fast.
    """
    if run_date_param:
        return parse_date(str(run_date_param), "run_date")
    if logical_date is None:
        raise BadInput(
            "this run has no logical date and no run_date param; trigger it with "
            '{"run_date": "YYYY-MM-DD"}'
        )
    return logical_date.astimezone(cfg.tz).date() - dt.timedelta(days=1)


def parse_date(value: str, what: str = "date") -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{what} {value!r} is not a date; use YYYY-MM-DD") from None
