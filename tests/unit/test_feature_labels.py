"""Feature labels for people, in English and Chinese: every value written out by hand."""

from __future__ import annotations

import pytest

from segmentation.errors import ConfigError
from segmentation.features.build import MODEL_FEATURES
from segmentation.features.labels import (
    category_label,
    feature_label,
    is_feature_name,
    readable_rule,
)

pytestmark = pytest.mark.unit

ENGLISH = {
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
    "category_share_beauty": "share of beauty",
    "category_share_electronics": "share of electronics",
    "category_share_fashion": "share of fashion",
    "category_share_grocery": "share of grocery",
    "category_share_home": "share of home",
    "category_share_sports": "share of sports",
}
CHINESE = {
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
    "category_share_beauty": "美妆占比",
    "category_share_electronics": "电子产品占比",
    "category_share_fashion": "服饰占比",
    "category_share_grocery": "食品杂货占比",
    "category_share_home": "家居占比",
    "category_share_sports": "运动占比",
}


@pytest.mark.parametrize(("name", "label"), ENGLISH.items())
def test_english_labels(name: str, label: str) -> None:
    assert feature_label(name, "en") == label
    assert feature_label(name) == label  # English by default


@pytest.mark.parametrize(("name", "label"), CHINESE.items())
def test_chinese_labels(name: str, label: str) -> None:
    assert feature_label(name, "zh") == label


def test_every_default_model_feature_has_its_own_label() -> None:
    for language in ("en", "zh"):
        labels = [feature_label(f, language) for f in MODEL_FEATURES]
        assert all("_" not in label for label in labels), labels
        assert len(set(labels)) == len(labels)


def test_columns_named_from_the_data_fall_back_to_their_names() -> None:
    # a category the demo does not have
    assert feature_label("category_share_toys", "en") == "share of toys"
    assert feature_label("category_share_toys", "zh") == "toys 占比"
    assert feature_label("category_share_home_garden", "en") == "share of home garden"
    assert category_label("electronics", "zh") == "电子产品"
    assert category_label("home_garden", "en") == "home garden"
    # event counts, demographics, a column nobody named
    assert feature_label("n_view", "en") == "views"
    assert feature_label("n_view", "zh") == "浏览次数"
    assert feature_label("n_refund", "en") == "refund events"
    assert feature_label("n_refund", "zh") == "refund 事件数"
    assert feature_label("age", "zh") == "年龄"
    assert feature_label("gender_f", "en") == "gender: f"
    assert feature_label("region_north", "zh") == "地区：north"
    assert feature_label("loyalty_points", "en") == "loyalty points"


def test_an_unknown_language_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="fr"):
        feature_label("frequency", "fr")
    with pytest.raises(ConfigError, match="fr"):
        readable_rule("frequency > 3", "fr")


def test_rules_read_with_labels() -> None:
    assert readable_rule("days_since_last_event <= 9 and frequency > 3", "en") == (
        "days since last visit ≤ 9 and number of orders > 3"
    )
    assert readable_rule(
        "0.12 < category_share_electronics <= 0.3 (precision 81%, covers 64%); or "
        "monetary > 250 (precision 70%, covers 12%)",
        "en",
    ) == (
        "0.12 < share of electronics ≤ 0.3 (precision 81%, covers 64%); or "
        "net spend > 250 (precision 70%, covers 12%)"
    )
    stored = "tenure_days <= 30 且 conversion > 0.05（精确率 90%，覆盖 75%）"
    shown = "成为客户天数 ≤ 30 且 购买转化率 > 0.05（精确率 90%，覆盖 75%）"
    assert readable_rule(stored, "zh") == shown
    assert readable_rule("所有客户", "zh") == "所有客户"
    assert readable_rule("all customers", "en") == "all customers"


def test_only_feature_names_are_feature_names() -> None:
    assert is_feature_name("frequency") and is_feature_name("category_share_toys")
    assert is_feature_name("n_view")
    for word in ("and", "or", "all", "customers", "precision", "covers", "n_", "category"):
        assert not is_feature_name(word), word
