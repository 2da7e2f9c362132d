"""The report's number formatting, without a page."""

from __future__ import annotations

import pytest

from segmentation.report.formatting import fmt_int, fmt_num, fmt_pct

pytestmark = pytest.mark.unit


def test_numbers_are_formatted_for_reading() -> None:
    assert fmt_int(1234, "-") == "1,234"
    assert fmt_pct(0.1234, "-") == "12.3%"
    assert fmt_num(float("nan"), "not available") == "not available"
    assert fmt_num(0.00014, "-") == "0.00014"
