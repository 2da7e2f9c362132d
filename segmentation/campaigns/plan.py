"""Before a launch: can a test on this audience detect the effect the marketer hopes for?

The minimum detectable effect at the audience's sizes (80% power, 5% two-sided) over its
baseline conversion, and, when it is too small, the treated customers a test would need at
the same control ratio and how many nights of the audience's newcomers that is.
"""

from __future__ import annotations

import math
from typing import Any

from segmentation.campaigns import stats


def verdict(
    treated: int, control: int, baseline: float, wanted: float, entering: float
) -> dict[str, Any]:
    """The plan's figures and a sentence. ``wanted``: the absolute uplift hoped for;
    ``entering``: the customers who entered the exported audience per night lately."""
    detectable = stats.mde(treated, control, baseline) if treated and control else None
    out: dict[str, Any] = {
        "treated": treated,
        "control": control,
        "baseline_conversion": round(baseline, 6),
        "mde": None if detectable is None else round(detectable, 6),
        "wanted": wanted,
        "detectable": detectable is not None and detectable <= wanted,
    }
    if detectable is not None and detectable <= wanted:
        out["verdict"] = (
            f"yes: {treated} treated and {control} control customers detect an uplift of "
            f"{100 * wanted:.2f} points (the least detectable is {100 * detectable:.2f})"
        )
        return out
    ratio = control / treated if treated and control else 0.0
    needed = stats.required_treated(baseline, wanted, ratio) if ratio else None
    out["treated_needed"] = None if needed is None else math.ceil(needed)
    if needed is None or detectable is None:
        out["verdict"] = (
            "no: the audience has no control group to compare with"
            if not (treated and control)
            else f"no: its baseline conversion is {100 * baseline:.0f}%, no uplift is left"
        )
        return out
    nights = math.ceil((needed - treated) / entering) if entering > 0 else None
    out["nights_needed"] = nights
    out["verdict"] = (
        f"no: {math.ceil(needed)} treated customers (and {math.ceil(needed * ratio)} control) "
        f"are needed to detect {100 * wanted:.2f} points over a baseline of "
        f"{100 * baseline:.2f}%; "
        + (
            f"at {entering:.1f} newcomers a night, about {nights} nights of them"
            if nights is not None
            else "the audience gains nobody lately: widen it or raise control.share"
        )
    )
    return out
