"""The output tables of audiences and campaigns (``export_audiences``, ``measure_campaigns``).

Standard library only, like :mod:`segmentation.catalog`, which lists these tables with the rest.
"""

from __future__ import annotations

from segmentation.catalog_types import Table, col

# campaign_results.status, in the order a campaign goes through them
CAMPAIGN_STATUSES = ("running", "attributing", "final")
AUDIENCE_CHANGES = ("entered", "left")

_AUDIENCE = col("audience", "string", "the audience's name (a key of audiences in the config)")
_CUSTOMER = col(
    "customer_id",
    "string",
    "the shop's customer id (with privacy.pseudonymize: customer_key, its HMAC-SHA256)",
)

_AUDIENCE_MEMBERS = (
    _AUDIENCE,
    _CUSTOMER,
    col("is_control", "bool", "in the control group (customer_segments.is_control)"),
    col(
        "exported",
        "bool",
        "in tonight's members.csv, to be targeted: every member outside the control group, "
        "and the control group too with include_control",
    ),
    col("segment_id", "int64", "the customer's segment tonight"),
)
_AUDIENCE_CHANGES = (
    _AUDIENCE,
    _CUSTOMER,
    col(
        "change",
        "string",
        "entered (exported tonight, not on the audience's previous night) or left (the reverse)",
    ),
)


def _figure(name: str, description: str) -> tuple[str, str, str, bool]:
    return (name, "double", description, True)


_RESULT_FIGURES = (
    _figure("treated_conversion", "share of the treated who converted"),
    _figure("control_conversion", "share of the control who converted"),
    _figure("conversion_uplift", "treated_conversion - control_conversion (absolute)"),
    _figure("conversion_uplift_low", "95% interval of the uplift, low (Newcombe hybrid score)"),
    _figure("conversion_uplift_high", "95% interval of the uplift, high"),
    _figure("conversion_uplift_relative", "treated_conversion / control_conversion - 1"),
    _figure("conversion_uplift_relative_low", "95% interval of the relative uplift, low"),
    _figure("conversion_uplift_relative_high", "95% interval of the relative uplift, high"),
    _figure("conversion_p_value", "two-sided p-value of the two-proportion z-test"),
    _figure("treated_revenue_per_customer", "net spend per treated customer in the window"),
    _figure("control_revenue_per_customer", "net spend per control customer in the window"),
    _figure("revenue_uplift", "difference of the revenue per customer (treated - control)"),
    _figure("revenue_uplift_low", "95% Welch interval of the revenue uplift, low"),
    _figure("revenue_uplift_high", "95% Welch interval of the revenue uplift, high"),
    _figure("revenue_p_value", "two-sided p-value of Welch's t-test"),
    _figure("incremental_conversions", "conversion_uplift x treated"),
    _figure("incremental_revenue", "revenue_uplift x treated"),
    _figure("cost", "the campaign's cost, as configured"),
    _figure("roi", "(incremental_revenue - cost) / cost; null without a cost"),
    _figure("mde", "the least absolute conversion uplift detectable at these sizes (80% power)"),
)
_CAMPAIGN_RESULTS = (
    col("campaign", "string", "the campaign's id"),
    col("audience", "string", "the audience it targets; null: it targets segments", True),
    col("segment_id", "int64", "the segment at the start; null: the whole campaign", True),
    col(
        "status",
        "string",
        "running (to end), attributing (after end, before the last day of attribution_days), "
        "final (every day of the window counted)",
    ),
    col("start", "date", "the campaign's first day"),
    col("end", "date", "the campaign's last day"),
    col("frozen_on", "date", "the night whose members are the groups (the last before start)"),
    col("measured_to", "date", "the last day of purchases counted so far"),
    col("treated", "int64", "customers targeted (frozen at the start)"),
    col("control", "int64", "control customers who would otherwise have been targeted"),
    col("treated_converters", "int64", "treated customers who converted in the window"),
    col("control_converters", "int64", "control customers who converted in the window"),
    *(col(*f) for f in _RESULT_FIGURES),
    col("reason", "string", "why figures are missing, when they are", True),
)

CAMPAIGN_TABLES = (
    Table(
        "audience_members",
        "audience, customer and run",
        True,
        "export_audiences",
        _AUDIENCE_MEMBERS,
        ("audience", "customer_id"),
        "the customers of each configured audience tonight, control group marked",
    ),
    Table(
        "audience_changes",
        "audience, customer and run",
        True,
        "export_audiences",
        _AUDIENCE_CHANGES,
        ("audience", "customer_id"),
        "who entered or left each exported audience since its previous night",
    ),
    Table(
        "campaign_results",
        "campaign, segment and run",
        True,
        "measure_campaigns",
        _CAMPAIGN_RESULTS,
        ("campaign", "segment_id"),
        "each campaign's treated and control groups, conversion and revenue uplift with 95% "
        "intervals, incremental revenue, ROI and the detectable effect, every night",
        kept=(
            "campaign",
            "audience",
            "segment_id",
            "status",
            "start",
            "end",
            "frozen_on",
            "measured_to",
        ),
    ),
)
