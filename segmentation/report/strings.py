"""The report's words in English and Chinese, and the one lookup of a language's words.

Every sentence the page shows is here (the recommendations section's in
``strings_recommendations``, the campaigns section's in ``strings_campaigns``), keyed the
same in each language; a value from the data is filled in with ``str.format`` where a
sentence has a placeholder.
"""

from __future__ import annotations

from segmentation.languages import in_language
from segmentation.report.strings_campaigns import CAMPAIGN_STRINGS
from segmentation.report.strings_recommendations import RECOMMENDATION_STRINGS

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "language": "en",  # the words' language, for labels from elsewhere (feature labels)
        "title": "Customer segments report",
        "subtitle": "Run of {day}: what the segments look like this morning and what changed.",
        "na": "not available",
        "none": "none",
        "nav": "Sections",
        "decision": "Today's decision",
        "segments": "Segments",
        "sizes": "Segment sizes over time",
        "profiles": "Segment profiles",
        "migrations": "Movements between segments",
        "drift": "Drift: are today's customers like the model's?",
        "model": "Model",
        "validation": "Data checks",
        "decision_ok": "OK: today's customers look like the ones the model was trained on. "
        "No action needed.",
        "decision_warn": "Watch: some customer behaviour is shifting. The segments are still "
        "usable; keep an eye on the features below.",
        "decision_alert": "Alert: customer behaviour has changed noticeably and the model is "
        "retrained on an alert. Check the segment sizes and descriptions before relying on "
        "them in campaigns.",
        "decision_na": "No drift decision was recorded for this run (first run, or drift not "
        "computed yet).",
        "level_ok": "OK",
        "level_warn": "WARN",
        "level_alert": "ALERT",
        "level_na": "not available",
        "drifted": "Drifted features (alert)",
        "watched": "Features to watch (warn)",
        "fig_customers": "Customers",
        "fig_segments": "Segments",
        "fig_migration": "Changed segment",
        "fig_checks": "Data checks",
        "passed": "passed",
        "failed": "failed",
        "segments_how": "Each card is one segment: who they are, how many customers, the rules "
        "that recognise them and the product categories they prefer. The bars compare "
        "today's number of customers per segment.",
        "segment_id": "Segment id",
        "customers": "Customers",
        "share": "Share",
        "description": "Description",
        "rules": "Rules",
        "affinity": "Category affinity",
        "control": "Control group (kept out of campaigns)",
        "segment": "Segment",
        "sizes_how": "One line per segment: its number of customers on each night. A steep "
        "rise or fall means customers are moving between segments.",
        "profiles_how": "One row per segment; each number is the segment's average. The colour "
        "compares it with the other segments: red is above their average, blue below, "
        "white about average (the z-score, in standard deviations).",
        "below": "below average",
        "average": "about average",
        "pp": "pts",
        "version": "Model version",
        "above": "above average",
        "migrations_how": "Rows are where customers were at the previous run (new: first seen "
        "in this run), columns where they are now. Each cell shows customers and the share "
        "of its row; the darker, the larger the share. The diagonal is customers who stayed.",
        "new": "new",
        "from_to": "from \\ to",
        "migration_rate": "Migration rate: {rate} ({changed} of the {both} customers present "
        "in both runs changed segment).",
        "new_customers": "New customers in this run: {n}.",
        "migration_rate_only": "Migration rate: {rate} (the moves of segments too small to "
        "show are left out of the table).",
        "suppressed": "fewer than {n} customers: not shown",
        "suppressed_baskets": "fewer than {n} baskets: not shown",
        "suppressed_short": "not shown",
        "migration_na": "Migration rate: not available (no previous run to compare with).",
        "drift_how": "One chart per feature: its PSI (population stability index) against the "
        "customers the model was trained on, night by night. Above the yellow dashed line: "
        "watch; above the red dashed line: alert.",
        "warn_line": "warn",
        "alert_line": "alert",
        "drift_table": "Today's drift metrics per feature",
        "drift_table_how": "Coloured metrics decide (green ok, yellow watch, red alert); the "
        "others are standard statistics shown for comparison (hover a value for its "
        "threshold).",
        "feature": "Feature",
        "level": "Level",
        "segment_drift": "Today's changes per segment",
        "segment_drift_how": "share_change: change of the segment's share of customers since "
        "the previous run; share_change_reference: since the model's training data; "
        "centroid_shift: how far its average customer moved; appeared / vanished: 1 when the "
        "segment is new or gone.",
        "model_how": "Each night a new candidate model (the challenger) is trained. It replaces "
        "the current model (the champion) only when its segments are about as well "
        "separated; otherwise the champion keeps assigning customers.",
        "status": "Decision",
        "reason": "Reason",
        "algorithm": "Algorithm",
        "n_segments": "Number of segments",
        "silhouette": "Silhouette of the challenger",
        "champion_silhouette": "Silhouette of the champion (same sample)",
        "status_champion": "promoted: it assigns the segments now",
        "status_rejected": "not promoted: the champion stays",
        "status_retired": "retired: replaced by a later model",
        "model_chart": "Silhouette of each champion",
        "model_chart_how": "Silhouette of each champion by the night it was trained: from -1 to "
        "1, higher means more clearly separated segments.",
        "predictions": "Predictions: who may leave, and what customers are worth",
        "predictions_how": "Three models fitted every night say what each customer will "
        "probably do next: BG/NBD (is the customer still buying, and how often), Gamma-Gamma "
        "(how much per purchase) and a churn classifier (the chance of no purchase in the "
        "coming months). Each is checked every night on customers it did not learn from.",
        "predictions_off": "no prediction tables for this run (predictions are switched off, "
        "or the run is older than them)",
        "risk_title": "Churn risk by segment",
        "risk_how": "One bar per segment: the share of its customers at low, medium and high "
        "risk of leaving. Grey: not scored, because they bought nothing in the feature window "
        "(already gone quiet) or no churn classifier has been trained yet.",
        "risk_na": "no customer has a churn score in this run",
        "risk_low": "low risk",
        "risk_medium": "medium risk",
        "risk_high": "high risk",
        "risk_none": "not scored",
        "value_title": "Predicted value and churn per segment",
        "value_how": "The bars compare each segment's predicted value of the next 365 days per "
        "customer (expected purchases times expected spend, net of returns, discounted). The "
        "table adds the share at high risk, the chance a customer is still active and the "
        "average churn probability of the customers scored.",
        "high_risk": "At high risk",
        "mean_clv": "Predicted value, next 365 days (average)",
        "mean_p_alive": "Chance still active (average)",
        "mean_churn": "Churn probability (average of those scored)",
        "predictions_none": "No customer has a prediction in this run: the models were "
        "skipped, each for the reason below.",
        "trust_title": "Can we trust the churn score?",
        "models_title": "Tonight's prediction models",
        "models_how": "Tonight's models and what was decided. A new churn classifier (the "
        "challenger) replaces the one that scores (the champion) only when it ranks held-out "
        "customers about as well; a model without enough data is skipped, with the reason.",
        "model_name": "Model",
        "model_bgnbd": "BG/NBD (chance still active, expected purchases)",
        "model_gamma_gamma": "Gamma-Gamma (spend per purchase, for the predicted value)",
        "model_churn": "Churn classifier (churn probability and risk)",
        "prediction_status_champion": "promoted: it scores the customers now",
        "prediction_status_rejected": "not promoted: the champion keeps scoring",
        "prediction_status_fitted": "estimated from tonight's customers",
        "prediction_status_skipped": "not computed tonight",
        "champion_auc": "The champion {version} on the same customers: ROC AUC {auc}.",
        "scored_by": "Customers are scored by the classifier {version}.",
        "figures_how": "Measured on customers the classifier did not learn from, beside "
        "BG/NBD's chance of no purchase on the same customers as a simple baseline. ROC AUC: "
        "the chance that a customer who left scored higher than one who stayed (0.5 is a coin "
        "toss, 0.7 useful, 0.8 or more good). PR AUC: how well the score finds those who "
        "leave. Calibration error: the average gap between the score and the share who "
        "really left (below 0.05 the score reads as a probability, above only as a ranking).",
        "fig_roc_auc": "ROC AUC",
        "fig_pr_auc": "PR AUC",
        "fig_calibration_error": "Calibration error",
        "fig_tested": "Customers tested",
        "vs_baseline": "baseline {value}",
        "figure": "Figure",
        "classifier": "Churn classifier",
        "baseline": "BG/NBD baseline",
        "metric_roc_auc": "ROC AUC",
        "metric_pr_auc": "PR AUC",
        "metric_calibration_error": "Calibration error",
        "metric_log_loss": "Log loss (lower is better)",
        "metric_brier": "Brier score (lower is better)",
        "metric_threshold": "Threshold that flags a customer",
        "metric_precision": "Precision: of those flagged, share who left",
        "metric_recall": "Recall: of those who left, share flagged",
        "metric_f1": "F1",
        "lift_title": "Lift per decile",
        "lift_how": "Customers in ten equal groups by score, from 1 (least likely to leave) to "
        "10 (most likely); each bar is the share who really left in its group over the "
        "average share. A useful score has its top deciles well above 1 and its bottom ones "
        "well below; bars all near 1 separate no one.",
        "decile": "Decile by score (10: most likely to leave)",
        "lift": "Lift",
        "average_line": "average (lift 1)",
        "calibration_title": "Calibration",
        "calibration_how": "Customers in groups by score: their average score (across) against "
        "the share who really left (up). On the dashed diagonal, a score of 70% means that 7 "
        "in 10 such customers left.",
        "predicted_axis": "Predicted churn probability",
        "observed_axis": "Share who really left",
        "diagonal": "perfectly calibrated",
        "holdout_title": "BG/NBD against what customers did",
        "holdout_how": "BG/NBD fitted {window} ago, against what its customers did since: "
        "per number of repeat purchases before, the purchase days per customer it expected "
        "in those days and those they really made. Close figures mean its assumptions fit "
        "the shop; large gaps mean lean on the classifier and read the chance still active "
        "with care.",
        "window_days": "{days} days",
        "window_unknown": "one churn window",
        "repeat_purchases": "Repeat purchases before",
        "seven_plus": "7 or more",
        "expected_days": "Expected purchase days per customer",
        "actual_days": "Actual purchase days per customer",
        "validation_how": "Before anything is computed, the day's events are checked: columns, "
        "dates, amounts, duplicates and that the day is not empty.",
        "validation_passed": "Passed: all {n} checks of suite {suite}.",
        "validation_failed": "Failed: {k} of {n} checks of suite {suite}. The day's data was "
        "quarantined and yesterday's segments stay published.",
        "failures": "Failed checks",
        "validation_held": "Passed without {m} of its {r} rows: those rows failed a check on "
        "single rows and are held back in quarantine (segmentation quarantine lists them).",
        "held_reasons": "Rows held back, by check",
        "validation_counts": "Rows this night: bad, held back: {bad_rows}; late (arrived after "
        "their day), kept: {late_events}; duplicates (re-sent), dropped: {duplicate_events}.",
        "footer": "Generated by the segmentation pipeline for run date {day}.",
    },
    "zh": {
        "language": "zh",
        "title": "客户分群日报",
        "subtitle": "{day} 的运行结果：今天的分群情况和变化。",
        "na": "暂无数据",
        "none": "无",
        "nav": "目录",
        "decision": "今日结论",
        "segments": "客户分群",
        "sizes": "各分群人数变化",
        "profiles": "分群画像",
        "migrations": "分群间的流动",
        "drift": "数据漂移：今天的客户和模型训练时相比",
        "model": "模型",
        "validation": "数据检查",
        "decision_ok": "正常：今天的客户与模型训练时的客户相似，无需处理。",
        "decision_warn": "注意：部分客户行为正在变化。分群仍可使用，请关注下列特征。",
        "decision_alert": "警报：客户行为发生明显变化，模型会因警报而重新训练。"
        "在营销活动中使用分群前，请检查分群人数和描述。",
        "decision_na": "本次运行没有漂移结论（首次运行，或尚未计算漂移）。",
        "level_ok": "正常",
        "level_warn": "注意",
        "level_alert": "警报",
        "level_na": "暂无数据",
        "drifted": "发生漂移的特征（警报）",
        "watched": "需关注的特征（注意）",
        "fig_customers": "客户数",
        "fig_segments": "分群数",
        "fig_migration": "更换分群",
        "fig_checks": "数据检查",
        "passed": "通过",
        "failed": "未通过",
        "segments_how": "每张卡片是一个分群：他们是谁、有多少客户、识别他们的规则以及偏好的品类。"
        "条形图比较今天各分群的客户数。",
        "segment_id": "分群编号",
        "customers": "客户数",
        "share": "占比",
        "description": "描述",
        "rules": "规则",
        "affinity": "品类偏好",
        "control": "对照组（不参与营销活动）",
        "segment": "分群",
        "sizes_how": "每条线是一个分群每晚的客户数。急剧上升或下降说明客户在分群之间流动。",
        "profiles_how": "每行是一个分群，数字是该分群的平均值。颜色与其他分群比较："
        "红色高于平均，蓝色低于平均，白色接近平均（z 分数，单位为标准差）。",
        "below": "低于平均",
        "average": "接近平均",
        "pp": "个百分点",
        "version": "模型版本",
        "above": "高于平均",
        "migrations_how": "行是客户在上次运行时所在的分群（新客户：本次首次出现），"
        "列是现在所在的分群。"
        "每格显示客户数及其占该行的比例，颜色越深比例越大。对角线是留在原分群的客户。",
        "new": "新客户",
        "from_to": "从 \\ 到",
        "migration_rate": "流动率：{rate}（两次运行都在的 {both} 位客户中"
        "有 {changed} 位更换了分群）。",
        "new_customers": "本次新客户：{n} 位。",
        "migration_rate_only": "流动率：{rate}（人数过少的分群，其流动不在表中显示）。",
        "suppressed": "少于 {n} 位客户：不予显示",
        "suppressed_baskets": "少于 {n} 个购物篮：不予显示",
        "suppressed_short": "不予显示",
        "migration_na": "流动率：暂无数据（没有可比较的上次运行）。",
        "drift_how": "每个特征一张图：每晚该特征相对于模型训练客户的 PSI（群体稳定性指数）。"
        "高于黄色虚线：注意；高于红色虚线：警报。",
        "warn_line": "注意",
        "alert_line": "警报",
        "drift_table": "今日各特征的漂移指标",
        "drift_table_how": "有颜色的指标用于判断（绿色正常、黄色注意、红色警报）；"
        "其他为对比用的标准统计量（鼠标悬停可查看阈值）。",
        "feature": "特征",
        "level": "级别",
        "segment_drift": "今日各分群的变化",
        "segment_drift_how": "share_change：自上次运行以来该分群客户占比的变化；"
        "share_change_reference：相对于模型训练数据的变化；centroid_shift：平均客户移动的距离；"
        "appeared / vanished：分群新出现或消失时为 1。",
        "model_how": "每晚训练一个新的候选模型（挑战者）。"
        "只有当它的分群区分度相当时才会替换当前模型（冠军）；否则继续由冠军模型分配客户。",
        "status": "结论",
        "reason": "原因",
        "algorithm": "算法",
        "n_segments": "分群数",
        "silhouette": "挑战者的轮廓系数",
        "champion_silhouette": "冠军的轮廓系数（同一样本）",
        "status_champion": "已替换：现在由它分配分群",
        "status_rejected": "未替换：保留冠军模型",
        "status_retired": "已退役：被后来的模型替换",
        "model_chart": "各冠军模型的轮廓系数",
        "model_chart_how": "每个冠军模型按训练日期的轮廓系数："
        "取值 -1 到 1，越高表示分群区分越清晰。",
        "predictions": "预测：谁可能流失，客户价值几何",
        "predictions_how": "每晚训练的三个模型预测每位客户接下来可能的行为："
        "BG/NBD（客户是否仍在购买、购买频率）、Gamma-Gamma（每次购买的金额）"
        "和流失分类器（未来一段时间内不再购买的概率）。每个模型每晚都在未参与训练的客户上检验。",
        "predictions_off": "本次运行没有预测表（预测功能已关闭，或该运行早于预测功能）",
        "risk_title": "各分群的流失风险",
        "risk_how": "每个分群一条横条：其客户中低、中、高流失风险的占比。"
        "灰色：未评分，因为特征窗口内没有购买（已沉寂），或尚未训练流失分类器。",
        "risk_na": "本次运行没有客户获得流失评分",
        "risk_low": "低风险",
        "risk_medium": "中风险",
        "risk_high": "高风险",
        "risk_none": "未评分",
        "value_title": "各分群的预测价值与流失",
        "value_how": "条形图比较各分群每位客户未来 365 天的预测价值"
        "（预期购买次数乘以预期消费额，扣除退货并折现）。"
        "表格另列高风险客户占比、客户仍活跃的概率以及已评分客户的平均流失概率。",
        "high_risk": "高风险占比",
        "mean_clv": "未来 365 天预测价值（平均）",
        "mean_p_alive": "仍活跃概率（平均）",
        "mean_churn": "流失概率（已评分客户的平均）",
        "predictions_none": "本次运行没有客户获得预测：各模型均被跳过，原因见下表。",
        "trust_title": "流失评分可信吗？",
        "models_title": "今晚的预测模型",
        "models_how": "今晚的模型及其结论。新的流失分类器（挑战者）只有在对留出客户的排序"
        "与当前评分模型（冠军）相当时才会替换它；数据不足的模型会被跳过，并说明原因。",
        "model_name": "模型",
        "model_bgnbd": "BG/NBD（仍活跃概率、预期购买次数）",
        "model_gamma_gamma": "Gamma-Gamma（每次购买金额，用于预测价值）",
        "model_churn": "流失分类器（流失概率和风险）",
        "prediction_status_champion": "已替换：现在由它为客户评分",
        "prediction_status_rejected": "未替换：继续由冠军模型评分",
        "prediction_status_fitted": "已用今晚的客户拟合",
        "prediction_status_skipped": "今晚未计算",
        "champion_auc": "冠军模型 {version} 在同一批客户上的 ROC AUC：{auc}。",
        "scored_by": "客户由分类器 {version} 评分。",
        "figures_how": "在分类器未学习过的客户上测得，并以 BG/NBD 对同一批客户的"
        "“不再购买概率”作为简单基线对比。ROC AUC：流失客户得分高于留存客户的概率"
        "（0.5 相当于抛硬币，0.7 可用，0.8 以上良好）。PR AUC：评分找出流失客户的能力。"
        "校准误差：评分与实际流失比例的平均差距（低于 0.05 时评分可当作概率，否则只能当作排序）。",
        "fig_roc_auc": "ROC AUC",
        "fig_pr_auc": "PR AUC",
        "fig_calibration_error": "校准误差",
        "fig_tested": "检验客户数",
        "vs_baseline": "基线 {value}",
        "figure": "指标",
        "classifier": "流失分类器",
        "baseline": "BG/NBD 基线",
        "metric_roc_auc": "ROC AUC",
        "metric_pr_auc": "PR AUC",
        "metric_calibration_error": "校准误差",
        "metric_log_loss": "对数损失（越低越好）",
        "metric_brier": "Brier 分数（越低越好）",
        "metric_threshold": "标记客户的阈值",
        "metric_precision": "精确率：被标记客户中实际流失的比例",
        "metric_recall": "召回率：流失客户中被标记的比例",
        "metric_f1": "F1",
        "lift_title": "各十分位的提升度",
        "lift_how": "按评分把客户分成十个等量组，从 1（最不可能流失）到 10（最可能流失）；"
        "每个条形是该组实际流失比例与平均流失比例之比。有用的评分其最高几组明显高于 1，"
        "最低几组明显低于 1；若都接近 1，说明评分无法区分客户。",
        "decile": "按评分的十分位（10：最可能流失）",
        "lift": "提升度",
        "average_line": "平均（提升度 1）",
        "calibration_title": "校准",
        "calibration_how": "按评分分组的客户：横轴为平均评分，纵轴为实际流失比例。"
        "落在虚线对角线上表示：评分 70% 的客户中有 7 成确实流失。",
        "predicted_axis": "预测流失概率",
        "observed_axis": "实际流失比例",
        "diagonal": "完全校准",
        "holdout_title": "BG/NBD 预测与客户实际行为对比",
        "holdout_how": "{window}前拟合的 BG/NBD 与客户此后实际行为的对比："
        "按此前的重复购买次数分组，每位客户在这段时间内预期的购买天数与实际购买天数。"
        "数字接近说明模型假设符合本店；差距大时请更多依赖分类器，并谨慎解读仍活跃概率。",
        "window_days": "{days} 天",
        "window_unknown": "一个流失窗口",
        "repeat_purchases": "此前重复购买次数",
        "seven_plus": "7 次及以上",
        "expected_days": "每位客户预期购买天数",
        "actual_days": "每位客户实际购买天数",
        "validation_how": "在计算之前，会检查当天的事件数据："
        "列、日期、金额、重复以及当天是否为空。",
        "validation_passed": "通过：规则集 {suite} 的全部 {n} 项检查。",
        "validation_failed": "未通过：规则集 {suite} 的 {n} 项检查中有 {k} 项失败。"
        "当天数据已隔离，昨天的分群保持发布。",
        "failures": "未通过的检查",
        "validation_held": "通过，但 {r} 行中有 {m} 行未通过单行检查，"
        "已隔离（segmentation quarantine 可列出这些行）。",
        "held_reasons": "被隔离的行（按检查）",
        "validation_counts": "本次：{bad_rows} 行坏数据（已隔离），{late_events} 条迟到事件"
        "（晚于所属日期到达，已保留），{duplicate_events} 条重复事件（重复发送，已丢弃）。",
        "footer": "由分群流水线为运行日期 {day} 生成。",
    },
}


for _language, _words in RECOMMENDATION_STRINGS.items():  # the recommendations section's
    STRINGS[_language].update(_words)
for _language, _words in CAMPAIGN_STRINGS.items():  # the campaigns section's
    STRINGS[_language].update(_words)


def words_for(language: str) -> dict[str, str]:
    """The words of ``language`` (a key of ``STRINGS``); another language is a config error."""
    return in_language(STRINGS, language, "report")
