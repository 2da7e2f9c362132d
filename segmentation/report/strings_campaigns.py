"""The words of the report's campaigns section, English and Chinese (``strings`` adds them to
``STRINGS``): every key is in both languages."""

from __future__ import annotations

CAMPAIGN_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "campaigns": "Campaigns and audiences",
        "campaigns_how": "An audience is a list of customers exported every night for a "
        "marketing tool; a campaign is sent to an audience (or to segments) between two dates. "
        "Its control group, customers who would have been targeted but were held out, shows "
        "what the targeted customers would have done without it.",
        "campaigns_off": "no audience or campaign tables for this run (the run is older than them)",
        "campaigns_define": "No audience or campaign is defined. Define audiences (who to "
        "export every night) and campaigns (what was sent to them, and when) in the config "
        "file: see the README's section “Audiences and campaigns”.",
        "campaigns_title": "Campaigns",
        "campaigns_read": "The uplift is the treated customers' conversion minus the control "
        "group's, in percentage points. The bar is the estimate; the whiskers are its 95% "
        "interval, the range the true uplift very likely lies in. A campaign works when the "
        "whole interval is above 0, hurts when it is below 0; while the interval includes 0, "
        "the difference could be chance.",
        "campaigns_none": "No campaign is measured on this night: none has started yet, or "
        "none is defined.",
        "uplift_chart": "Conversion uplift per campaign, with its 95% interval",
        "uplift_axis": "conversion uplift, percentage points (treated − control)",
        "verdict_works": "this campaign works",
        "verdict_hurts": "this campaign hurts",
        "verdict_unproven": "not proven yet — the interval includes 0",
        "verdict_no_effect": "no measurable effect — the interval includes 0",
        "short_works": "works",
        "short_hurts": "hurts",
        "short_unproven": "not proven yet",
        "short_no_effect": "no measurable effect",
        "uplift_said": "{uplift} points, 95% CI {low} to {high}: {verdict}",
        "uplift_missing": "No uplift can be measured yet.",
        "campaign_reason": "Why: {reason}",
        "mde_said": "At these sizes, an uplift under {mde} points cannot be told from chance "
        "(the smallest uplift these sizes detect 4 times in 5).",
        "campaign_status": "Status",
        "status_running": "running",
        "status_attributing": "counting late purchases",
        "status_final": "final",
        "campaign_dates": "{start} to {end}; purchases counted to {measured}; groups frozen "
        "on {frozen}",
        "campaign_treated": "Treated (targeted)",
        "campaign_control": "Control (held out)",
        "conversion_of": "conversion {rate} ({converters} converted)",
        "conversion_uplift": "Conversion uplift",
        "uplift_interval": "95% CI {low} to {high}",
        "interval_short": "{low} to {high}",
        "relative_uplift": "relative {relative}",
        "p_value": "p = {p}",
        "revenue_uplift": "Revenue uplift per customer",
        "revenue_of": "treated {treated}, control {control}",
        "incremental_revenue": "Incremental revenue",
        "incremental_conversions": "{n} converting customers against no campaign",
        "roi": "Return on cost",
        "roi_cost": "cost {cost}",
        "roi_unproven": "cost {cost}; the revenue uplift is not proven, so neither is this",
        "segments_title": "By segment at the start",
        "campaign_segment": "Segment",
        "campaign_conversions": "Conversion, treated / control",
        "campaign_uplift": "Uplift, points (95% CI)",
        "campaign_verdict": "Verdict",
        "campaign_note": "Why figures are missing",
        "audiences_title": "Audiences tonight",
        "audiences_how": "Each audience's customers in tonight's export, its control group "
        "(held out of the export, so campaigns can be measured, unless the audience includes "
        "it), and who entered or left it since its previous night.",
        "audiences_none": "No audience has a member tonight.",
        "audience": "Audience",
        "audience_exported": "Exported (targeted)",
        "audience_control": "Control group",
        "audience_control_held": "{n} held out",
        "audience_control_exported": "{n} exported too",
        "audience_entered": "Entered tonight",
        "audience_left": "Left tonight",
    },
    "zh": {
        "campaigns": "营销活动与受众",
        "campaigns_how": "受众是每晚导出给营销工具的客户名单；营销活动在两个日期之间发送给某个受众"
        "（或某些分群）。活动的对照组是本应被触达但被保留下来的客户，"
        "用来说明被触达的客户在没有活动时会怎样。",
        "campaigns_off": "本次运行没有受众或营销活动表（该运行早于这些表）",
        "campaigns_define": "尚未定义受众或营销活动。请在配置文件中定义受众（每晚导出哪些客户）"
        "和营销活动（何时向他们发送了什么）：参见 README 的“Audiences and campaigns”一节。",
        "campaigns_title": "营销活动",
        "campaigns_read": "提升是被触达客户的转化率减去对照组的转化率，单位为百分点。"
        "条形是估计值；须线是其 95% 置信区间，即真实提升很可能所在的范围。"
        "整个区间都大于 0 时活动有效，都小于 0 时活动有害；区间包含 0 时，差异可能只是偶然。",
        "campaigns_none": "本晚没有可衡量的营销活动：尚无活动开始，或没有定义活动。",
        "uplift_chart": "各营销活动的转化率提升及其 95% 置信区间",
        "uplift_axis": "转化率提升，百分点（触达组 − 对照组）",
        "verdict_works": "该活动有效",
        "verdict_hurts": "该活动有害",
        "verdict_unproven": "尚未证实——区间包含 0",
        "verdict_no_effect": "没有可测量的效果——区间包含 0",
        "short_works": "有效",
        "short_hurts": "有害",
        "short_unproven": "尚未证实",
        "short_no_effect": "无可测量效果",
        "uplift_said": "{uplift} 个百分点，95% 置信区间 {low} 至 {high}：{verdict}",
        "uplift_missing": "目前还无法衡量提升。",
        "campaign_reason": "原因：{reason}",
        "mde_said": "按目前的组规模，低于 {mde} 个百分点的提升无法与偶然波动区分"
        "（这是按目前规模有 80% 把握发现的最小提升）。",
        "campaign_status": "状态",
        "status_running": "进行中",
        "status_attributing": "统计活动结束后的购买",
        "status_final": "最终结果",
        "campaign_dates": "{start} 至 {end}；购买统计到 {measured}；分组于 {frozen} 冻结",
        "campaign_treated": "触达组",
        "campaign_control": "对照组（保留）",
        "conversion_of": "转化率 {rate}（{converters} 位客户）",
        "conversion_uplift": "转化率提升",
        "uplift_interval": "95% 置信区间 {low} 至 {high}",
        "interval_short": "{low} 至 {high}",
        "relative_uplift": "相对 {relative}",
        "p_value": "p = {p}",
        "revenue_uplift": "每位客户的收入提升",
        "revenue_of": "触达组 {treated}，对照组 {control}",
        "incremental_revenue": "增量收入",
        "incremental_conversions": "与不做活动相比，转化客户数 {n}",
        "roi": "投资回报率",
        "roi_cost": "成本 {cost}",
        "roi_unproven": "成本 {cost}；收入提升尚未证实，因此回报率也未证实",
        "segments_title": "按活动开始时的分群",
        "campaign_segment": "分群",
        "campaign_conversions": "转化率，触达组 / 对照组",
        "campaign_uplift": "提升，百分点（95% 置信区间）",
        "campaign_verdict": "结论",
        "campaign_note": "缺少数据的原因",
        "audiences_title": "今晚的受众",
        "audiences_how": "每个受众在今晚导出名单中的客户、其对照组（除非受众包含对照组，"
        "否则不导出，以便衡量营销活动），以及自上一晚以来进入或离开的客户。",
        "audiences_none": "今晚没有任何受众有成员。",
        "audience": "受众",
        "audience_exported": "导出（触达）",
        "audience_control": "对照组",
        "audience_control_held": "{n} 位保留",
        "audience_control_exported": "{n} 位也导出",
        "audience_entered": "今晚进入",
        "audience_left": "今晚离开",
    },
}
