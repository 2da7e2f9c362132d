"""The published recommendation tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation.languages import in_language
from segmentation.recommendations.night import Lists
from segmentation.recommendations.registry import RecommenderRecord

QUALITY_COLUMNS = ["model", "model_version", "metric", "value", "status", "reason"]
MODELS = ("als", "popular", "segment_popular")


def customer_recommendations(
    lists: Lists, customers: np.ndarray, model_version: str | None
) -> pd.DataFrame:
    """One row per customer and rank, by customer (the segments' order) then rank."""
    order = np.lexsort((lists.rank, lists.row))
    source = lists.source[order]
    version = pd.Series(model_version, index=range(len(order)), dtype="string").where(
        source == "collaborative"
    )
    return pd.DataFrame(
        {
            "customer_id": pd.Series(np.asarray(customers)[lists.row[order]], dtype="string"),
            "rank": lists.rank[order].astype("int64"),
            "item": pd.Series(lists.item[order], dtype="string"),
            "score": lists.score[order].astype("float64"),
            "source": pd.Series(source, dtype="string"),
            "model_version": version,
        }
    )


def quality_table(record: RecommenderRecord | None, skipped: str | None) -> pd.DataFrame:
    """The serving model's held-out figures beside its baselines', with what is served and
    why; a ``skipped`` row when no collaborative model could be trained."""
    rows = []
    if record is None or not record.metrics:
        why = skipped or (record.reason if record else "no collaborative model yet")
        version = record.model_version if record else None
        rows.append(("als", version, "skipped", np.nan, "skipped", why))
    else:
        served = "als" if record.serves else "segment_popular"
        for model in MODELS:
            status = "served" if model == served else "evaluated"
            # by name: a record read back from its meta.json (sorted keys) gives the same rows
            for metric, value in sorted(record.metrics.get(model, {}).items()):
                rows.append(
                    (model, record.model_version, metric, float(value), status, record.reason)
                )
    frame = pd.DataFrame(rows, columns=QUALITY_COLUMNS)
    return frame.astype({"value": "float64"})


# a rule in words, per personas.language
RULE_TEXT = {
    "en": "who buy {a} also buy {c} ({lift:.1f}x as often as others)",
    "zh": "买 {a} 的顾客也买 {c}（是其他顾客的 {lift:.1f} 倍）",
}
SEPARATOR = {"en": "; ", "zh": "；"}


def bought_together(rules: pd.DataFrame, language: str, per_segment: int = 3) -> pd.Series:
    """Each segment's strongest rules in words, by segment id: "who buy P00012 also buy
    P00013 (4.1x as often as others); ..."."""
    pattern = in_language(RULE_TEXT, language, "the rules' text")
    ranked = rules[rules["segment_id"].notna() & (rules["rank"] <= per_segment)]
    text = [
        pattern.format(a=" + ".join(a), c=" + ".join(c), lift=lift)
        for a, c, lift in zip(
            ranked["antecedent"], ranked["consequent"], ranked["lift"], strict=True
        )
    ]
    said = pd.Series(text, index=ranked.index, dtype="string")
    return said.groupby(ranked["segment_id"].astype("int64")).agg(SEPARATOR[language].join)
