"""The words of the report's recommendations section, English and Chinese (``strings`` adds
them to ``STRINGS``): every key is in both languages."""

from __future__ import annotations

RECOMMENDATION_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "recommendations": "Recommendations: what to offer each customer",
        "recommendations_how": "Every night each customer gets ten items to offer, best first, "
        "never one they already bought. They come from a model of tastes (ALS: what customers "
        "with similar histories bought), from rules of what is bought together, or from best "
        "sellers. The model's lists are used only while they beat the segments' best sellers "
        "on purchases the model did not see.",
        "recommendations_off": "no recommendation tables for this run (recommendations are "
        "switched off, or the run is older than them)",
        "served_title": "What is served tonight, and why",
        "served_model": "Served tonight",
        "served_ndcg": "NDCG@10 of what is served",
        "vs_other": "{model} {value}",
        "rec_customers": "Customers evaluated",
        "rec_version": "Model version",
        "rec_why": "Why: {reason}",
        "served_als_means": "Customers with enough history get the model's picks; the others "
        "get items that go with what they bought (rules), then their segment's best sellers.",
        "served_segment_popular_means": "The model did not beat the segments' best sellers, so "
        "its lists are not used: every customer gets items that go with what they bought "
        "(rules), then their segment's best sellers.",
        "rec_skipped": "No collaborative model is served tonight: it could not be trained.",
        "rec_skipped_means": "Every customer gets items that go with what they bought (rules), "
        "then their segment's best sellers.",
        "rec_model_als": "ALS model (similar customers)",
        "rec_model_popular": "Best sellers (all customers)",
        "rec_model_segment_popular": "Segment best sellers",
        "rec_served_mark": "{model}: served tonight",
        "comparison_title": "How the model did on purchases it did not see",
        "comparison_how": "At its last retrain the model learnt from the events up to a cutoff "
        "and was asked what each customer would buy after it; the two best-seller lists were "
        "asked the same about the same customers. For every figure higher is better. A few "
        "percent is normal (people buy few of the many items they could): compare the bars.",
        "comparison_version": "Figures of the model {version}, from its last retrain.",
        "comparison_chart": "Held-out figures per model",
        "figure_name": "Figure",
        "fig_ndcg_at_10": "NDCG@10",
        "fig_precision_at_10": "Precision@10",
        "fig_recall_at_10": "Recall@10",
        "fig_map_at_10": "MAP@10",
        "fig_coverage": "Coverage",
        "rec_metric_ndcg_at_10": "NDCG@10: hits, the higher in the list the more they count",
        "rec_metric_precision_at_10": "Precision@10: of the ten items, share then bought",
        "rec_metric_recall_at_10": "Recall@10: of what was bought, share among the ten",
        "rec_metric_map_at_10": "MAP@10: precision averaged over the hits",
        "rec_metric_coverage": "Coverage: share of the catalogue offered to anyone",
        "rec_metric_customers": "Customers evaluated",
        "rules_title": "What is bought together",
        "rules_how": "The strongest rules of each segment's baskets (an order, or a customer's "
        "purchases of one day), and of all customers': who buy the first items also buy the "
        "others, that many times as often as baskets in general. Confidence: the share of "
        "baskets with the first items that hold the others. Use them for bundles, cross-sell "
        "e-mails and shelf placement.",
        "rules_none": "No rule tonight: no items were bought together often enough, and "
        "clearly more often than by chance, to meet the thresholds.",
        "rules_none_here": "No rule met the thresholds in this group.",
        "rules_all": "All customers",
        "rule_segment": "Customers in {segment} who buy {a} also buy {c}: {lift}× the usual rate",
        "rule_all": "Customers who buy {a} also buy {c}: {lift}× the usual rate",
        "rule_figures": "confidence {confidence}, {baskets} baskets",
        "sources_title": "Where tonight's recommendations come from",
        "sources_how": "Each bar is a segment's recommended items by where they come from: the "
        "model, rules (bought with what the customer bought), the segment's best sellers, or "
        "everyone's (when the segment bought too few). A customer's list can mix them.",
        "sources_chart": "Recommended items by source",
        "sources_total": "{customers} customers get {items} recommended items.",
        "source": "Source",
        "source_collaborative": "model (similar customers)",
        "source_rule": "bought together (rules)",
        "source_segment_popular": "segment best sellers",
        "source_popular": "everyone's best sellers",
        "source_customers": "Customers with items from it",
        "source_leading": "Customers whose first item comes from it",
        "source_items": "Items (share)",
        "sources_na": "no recommendations were published in this run",
    },
    "zh": {
        "recommendations": "推荐：给每位客户推荐什么",
        "recommendations_how": "每晚为每位客户生成十件推荐商品，按优先级排列，不含已购买过的商品。"
        "推荐来自口味模型（ALS：历史相似的客户买了什么）、关联规则（经常一起购买的商品）"
        "或畅销商品。只有当模型在未参与训练的购买上优于各分群的畅销商品时，才使用模型的推荐。",
        "recommendations_off": "本次运行没有推荐表（推荐功能已关闭，或该运行早于推荐功能）",
        "served_title": "今晚使用的推荐及原因",
        "served_model": "今晚使用",
        "served_ndcg": "所用推荐的 NDCG@10",
        "vs_other": "{model} {value}",
        "rec_customers": "检验客户数",
        "rec_version": "模型版本",
        "rec_why": "原因：{reason}",
        "served_als_means": "历史足够的客户获得模型的推荐；其他客户获得与其已购商品搭配的商品"
        "（关联规则），再补充所在分群的畅销商品。",
        "served_segment_popular_means": "模型未能优于各分群的畅销商品，因此不使用模型的推荐："
        "每位客户获得与其已购商品搭配的商品（关联规则），再补充所在分群的畅销商品。",
        "rec_skipped": "今晚没有使用协同过滤模型：模型无法训练。",
        "rec_skipped_means": "每位客户获得与其已购商品搭配的商品（关联规则），"
        "再补充所在分群的畅销商品。",
        "rec_model_als": "ALS 模型（相似客户）",
        "rec_model_popular": "畅销商品（全部客户）",
        "rec_model_segment_popular": "分群畅销商品",
        "rec_served_mark": "{model}：今晚使用",
        "comparison_title": "模型在未见过的购买上的表现",
        "comparison_how": "最近一次重新训练时，模型只学习截止日之前的事件，"
        "再预测每位客户在截止日之后会买什么；两种畅销商品推荐对同一批客户做同样的预测。"
        "各项指标都是越高越好。数值只有几个百分点很正常（客户只会买众多商品中的少数几件）：请比较各条形。",
        "comparison_version": "模型 {version} 最近一次重新训练时的指标。",
        "comparison_chart": "各模型的留出检验指标",
        "figure_name": "指标",
        "fig_ndcg_at_10": "NDCG@10",
        "fig_precision_at_10": "精确率@10",
        "fig_recall_at_10": "召回率@10",
        "fig_map_at_10": "MAP@10",
        "fig_coverage": "覆盖率",
        "rec_metric_ndcg_at_10": "NDCG@10：命中的商品排得越靠前得分越高",
        "rec_metric_precision_at_10": "精确率@10：十件推荐中随后被购买的比例",
        "rec_metric_recall_at_10": "召回率@10：所购商品中出现在十件推荐里的比例",
        "rec_metric_map_at_10": "MAP@10：按命中平均的精确率",
        "rec_metric_coverage": "覆盖率：被推荐给任何客户的商品占全部商品的比例",
        "rec_metric_customers": "检验客户数",
        "rules_title": "经常一起购买的商品",
        "rules_how": "各分群购物篮（一个订单，或一位客户一天内的购买）"
        "以及全部客户购物篮中最强的规则：买了前面商品的客户也会买后面的商品，"
        "其频率是一般购物篮的若干倍。置信度：含前面商品的购物篮中同时含后面商品的比例。"
        "可用于组合销售、交叉销售邮件和货架陈列。",
        "rules_none": "今晚没有规则：没有商品被足够频繁、且明显高于随机地一起购买，未达到阈值。",
        "rules_none_here": "该组没有达到阈值的规则。",
        "rules_all": "全部客户",
        "rule_segment": "{segment} 分群中买 {a} 的客户也买 {c}：是平常的 {lift} 倍",
        "rule_all": "买 {a} 的客户也买 {c}：是平常的 {lift} 倍",
        "rule_figures": "置信度 {confidence}，{baskets} 个购物篮",
        "sources_title": "今晚的推荐从何而来",
        "sources_how": "每个条形是一个分群的推荐商品按来源的构成：模型、"
        "关联规则（与客户已购商品搭配）、分群畅销商品，或全部客户的畅销商品（分群购买太少时）。"
        "一位客户的推荐可能混合多种来源。",
        "sources_chart": "推荐商品的来源",
        "sources_total": "{customers} 位客户共获得 {items} 件推荐商品。",
        "source": "来源",
        "source_collaborative": "模型（相似客户）",
        "source_rule": "一起购买（关联规则）",
        "source_segment_popular": "分群畅销商品",
        "source_popular": "全部客户畅销商品",
        "source_customers": "获得该来源商品的客户数",
        "source_leading": "首件推荐来自该来源的客户数",
        "source_items": "商品数（占比）",
        "sources_na": "本次运行没有发布推荐",
    },
}
