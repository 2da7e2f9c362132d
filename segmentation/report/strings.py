"""The report's words in English and Chinese, and the one lookup of a language's words.

Every sentence the page shows is here, keyed the same in each language; a value from the data
is filled in with ``str.format`` where a sentence has a placeholder.
"""

from __future__ import annotations

from segmentation.languages import in_language

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


def words_for(language: str) -> dict[str, str]:
    """The words of ``language`` (a key of ``STRINGS``); another language is a config error."""
    return in_language(STRINGS, language, "report")
