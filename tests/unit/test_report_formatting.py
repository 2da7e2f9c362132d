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


def test_table_headers_read_as_words() -> None:
    from segmentation.report.cells import column_label

    assert column_label("recency_days") == "Days since last purchase"
    assert column_label("frequency") == "Number of orders"
    assert column_label("monetary") == "Net spend"
    assert column_label("customer_id") == "Customer"
    assert column_label("rfm_segment") == "RFM segment"
    assert column_label("category_share_electronics") == "Share of electronics"


def test_table_cells_show_counts_as_whole_numbers() -> None:
    from segmentation.report.cells import cell

    assert cell("frequency", 279.0) == '<td class="num">279</td>'
    assert cell("customers", 1234) == '<td class="num">1,234</td>'
    assert cell("recency_days", 12.0) == '<td class="num">12</td>'
    assert cell("monetary", 120.0) == '<td class="num">120.00</td>'  # money keeps its cents
    assert cell("monetary", 1234.5) == '<td class="num">1,234.50</td>'
    assert cell("segment_id", 3) == '<td class="num">3</td>'
    assert cell("is_control", True) == "<td>yes</td>"
    assert cell("monetary", float("nan")) == '<td class="muted">—</td>'
    assert cell("segment_name", "<b>") == "<td>&lt;b&gt;</td>"


def test_messages_name_files_not_folders() -> None:
    from segmentation.report.cells import without_paths

    assert without_paths("config /srv/pipeline/conf/seg.yaml: unknown key 'x'") == (
        "config seg.yaml: unknown key 'x'"
    )
    assert without_paths("home (/tmp/pytest-1/home/) is missing") == "home (…) is missing"
    assert without_paths("see https://example.org/a/b") == "see https://example.org/a/b"


def test_prediction_columns_read_as_words() -> None:
    from segmentation.report.cells import cell, column_label

    assert column_label("p_alive") == "Chance still active"
    assert column_label("churn_probability") == "Churn probability"
    assert column_label("churn_decile") == "Churn decile (10 = most likely to leave)"
    # one label per kind, whatever the configured horizons
    assert column_label("expected_purchases_30d") == "Expected purchase days, next 30 days"
    assert column_label("p_no_purchase_365d") == "Chance of no purchase, next 365 days"
    assert column_label("predicted_clv_90d") == "Predicted value, next 90 days"
    # probabilities and predicted money keep two decimals, even when whole
    assert cell("p_alive", 1.0) == '<td class="num">1.00</td>'
    assert cell("predicted_clv_365d", 1234.5) == '<td class="num">1,234.50</td>'
    assert cell("expected_purchases_30d", 2.0) == '<td class="num">2</td>'
