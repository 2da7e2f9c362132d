"""What people read for a feature column: its label in English and Chinese, in one place.

The feature table's column names (``days_since_last_event``, ``category_share_electronics``)
are the contract with downstream systems and stay as they are; the pages a marketer reads
(the report, the Airflow view) show ``feature_label(name, language)`` instead ("days since
last visit", "距上次访问天数"). Column names built from the data (a category, an event type, a
gender or region) get their part from the data: the known demo categories have Chinese
names, any other one is shown as it is ("share of toys", "toys 占比").

``readable_rule`` rewrites a rule as the pipeline stores it ("days_since_last_event <= 9 and
frequency > 3") for reading ("days since last visit ≤ 9 and number of orders > 3").
"""

from __future__ import annotations

import re

from segmentation.features.build import CATEGORY_PREFIX
from segmentation.languages import in_language

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "days_since_last_event": "days since last visit",
        "recency_days": "days since last purchase",
        "frequency": "number of orders",
        "monetary": "net spend",
        "avg_order_value": "average order value",
        "tenure_days": "days as a customer",
        "active_days": "active days",
        "conversion": "orders per view",
        "n_refunds": "number of returns",
        "refund_amount": "amount returned",
        "refund_rate": "returns per order",
        "purchase_days": "days with a purchase, ever",
        "first_purchase_days_ago": "days since first purchase",
        "lifetime_spend": "net spend, ever",
        "age": "age",
    },
    "zh": {
        "days_since_last_event": "距上次访问天数",
        "recency_days": "距上次购买天数",
        "frequency": "订单数",
        "monetary": "净消费额",
        "avg_order_value": "平均订单金额",
        "tenure_days": "成为客户天数",
        "active_days": "活跃天数",
        "conversion": "购买转化率",
        "n_refunds": "退货次数",
        "refund_amount": "退货金额",
        "refund_rate": "退货率",
        "purchase_days": "累计购买天数",
        "first_purchase_days_ago": "距首次购买天数",
        "lifetime_spend": "累计净消费额",
        "age": "年龄",
    },
}
# the demo's categories (segmentation.synthetic.CATEGORIES); in English a category is its name
CATEGORY_NAMES: dict[str, dict[str, str]] = {
    "en": {},
    "zh": {
        "beauty": "美妆",
        "electronics": "电子产品",
        "fashion": "服饰",
        "grocery": "食品杂货",
        "home": "家居",
        "sports": "运动",
    },
}
# event counts (n_<event type>) of the default event types
EVENT_NAMES: dict[str, dict[str, str]] = {
    "en": {"view": "views", "add_to_cart": "add-to-cart events", "purchase": "purchase events"},
    "zh": {"view": "浏览次数", "add_to_cart": "加购次数", "purchase": "购买事件数"},
}
# labels of the columns named from the data: prefix -> sentence, by language
_PATTERNS: dict[str, dict[str, str]] = {
    "en": {
        CATEGORY_PREFIX: "share of {part}",
        "n_": "{part} events",
        "gender_": "gender: {part}",
        "region_": "region: {part}",
    },
    "zh": {
        CATEGORY_PREFIX: "{part}占比",
        "n_": "{part}事件数",
        "gender_": "性别：{part}",
        "region_": "地区：{part}",
    },
}
# a name from the data written in Latin letters gets a space before the Chinese word
_LATIN_END = re.compile(r"[0-9A-Za-z]$")
# a feature name inside a rule: a whole identifier, not a part of one
_IDENTIFIER = re.compile(r"(?<![0-9A-Za-z_])[A-Za-z][0-9A-Za-z_]*(?![0-9A-Za-z_])")


def category_label(category: str, language: str = "en") -> str:
    """A category (as in a feature column, ``home_garden``) as people read it."""
    names = in_language(CATEGORY_NAMES, language, "feature label")
    return names.get(category, _spaced(category))


def feature_label(name: str, language: str = "en") -> str:
    """The label of the feature column ``name`` in ``language`` (en or zh).

    A column the pipeline does not name (a configured extra column) is shown with spaces for
    its underscores.
    """
    labels = in_language(LABELS, language, "feature label")
    if name in labels:
        return labels[name]
    for prefix, sentence in _PATTERNS[language].items():
        part = name.removeprefix(prefix)
        if part == name or not part:
            continue
        if prefix == "n_" and part in EVENT_NAMES[language]:
            return EVENT_NAMES[language][part]
        shown = category_label(part, language) if prefix == CATEGORY_PREFIX else _spaced(part)
        if language == "zh" and sentence.startswith("{part}") and _LATIN_END.search(shown):
            sentence = sentence.replace("{part}", "{part} ", 1)  # "toys 占比", "电子产品占比"
        return sentence.format(part=shown)
    return _spaced(name)


def is_feature_name(token: str) -> bool:
    """Whether ``token`` is the name of a feature column (known, or of a data-named kind)."""
    if token in LABELS["en"]:
        return True
    return any(token.startswith(p) and len(token) > len(p) for p in _PATTERNS["en"])


def readable_rule(rule: str, language: str = "en") -> str:
    """A stored rule (or rules summary) with its feature names as labels and ``<=`` as ``≤``.

    Only whole identifiers that name features are replaced, so the rule's other words
    ("and", "precision", "且") and its numbers stay as they are.
    """
    in_language(LABELS, language, "feature label")
    labelled = _IDENTIFIER.sub(
        lambda m: feature_label(m.group(0), language) if is_feature_name(m.group(0)) else m[0],
        rule,
    )
    return labelled.replace("<=", "≤")


def _spaced(name: str) -> str:
    return name.replace("_", " ").strip()
