//! The Chinese summary shown by `jiqun policy check` and `jiqun policy show`.

use std::fmt::Write;

use jiqun_domain::round::date_zh;

use super::*;

fn tag(source: Source) -> &'static str {
    match source {
        Source::Measures => "〔办法〕",
        Source::ProvinceDefault => "〔默认〕",
        Source::Notice => "〔通知〕",
        Source::CityDefault => "〔市级默认〕",
    }
}

fn article(a: &Option<String>) -> String {
    a.as_deref().map(|a| format!("（{a}）")).unwrap_or_default()
}

fn procedure(pr: &Procedure, o: &mut String) -> std::fmt::Result {
    let applicant = match pr.applicant {
        Applicant::PromotionOrg => "集群发展促进组织",
        Applicant::CountyBureau => "集群所在地县级主管部门",
    };
    let review = match pr.first_review {
        FirstReview::City => "市州初审",
        FirstReview::Province => "省级初审",
    };
    let check = if pr.field_check {
        "（含实地抽查）"
    } else {
        ""
    };
    writeln!(
        o,
        "申报程序：{applicant}申报，{review}{check}{}{}",
        article(&pr.article),
        tag(pr.source)
    )?;
    if pr.outcome == ProgrammeOutcome::Ministry {
        writeln!(o, "  推荐至部里并登记部里的认定结果")?;
    }
    if let Some(c) = &pr.recommendation {
        writeln!(
            o,
            "  每批至多推荐{}个{}{}",
            c.max,
            article(&c.article),
            tag(c.source)
        )?;
    }
    if let Some(t) = &pr.title {
        writeln!(
            o,
            "  称号“{}”有效期{}年{}{}",
            t.name,
            t.validity_years,
            article(&t.article),
            tag(t.source)
        )?;
    }
    Ok(())
}

pub(super) fn summary(p: &Policy) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_summary(p, &mut out);
    out
}

fn write_summary(p: &Policy, o: &mut String) -> std::fmt::Result {
    let id = &p.identity;
    writeln!(o, "{}（{}）", id.name, id.document_number)?;
    writeln!(
        o,
        "策略标识：{}　格式版本：{}　来源：{}",
        id.id, p.format_version, p.origin
    )?;
    writeln!(
        o,
        "发布机关：{}　印发：{}　发布：{}　行政区划：{}",
        id.issuer,
        date_zh(id.issued),
        date_zh(id.published),
        id.region_code
    )?;
    if let Some(pr) = &p.procedure {
        procedure(pr, o)?;
    }
    let until = match (p.effective_to(), id.validity_years) {
        (Some(to), Some(y)) => format!("至{}，共{y}年", date_zh(to)),
        (Some(to), None) => format!("至{}", date_zh(to)),
        (None, _) => "起长期有效".to_string(),
    };
    writeln!(
        o,
        "有效期：{}{until}{}{}",
        date_zh(id.effective_from),
        article(&id.article),
        tag(id.source)
    )?;

    let kinds: Vec<String> = p
        .cluster_kinds
        .iter()
        .map(|k| format!("{}（{}）", k.name, k.key))
        .collect();
    writeln!(o, "集群类别：{}", kinds.join("、"))?;

    writeln!(
        o,
        "评分维度（{}个，总分{}）{}：",
        p.criteria.len(),
        p.scoring.total_score,
        tag(p.scoring.source)
    )?;
    let kind_name = |k: &str| p.cluster_kind(k).map_or(k.to_string(), |c| c.name.clone());
    for (i, c) in p.criteria.iter().enumerate() {
        let required = c.indicators.iter().filter(|x| x.required).count();
        let mut extra = String::new();
        for (k, max) in &c.max_score_by_kind {
            extra.push_str(&format!("（{}{max}分）", kind_name(k)));
        }
        if let Some(share) = c.floor_share {
            extra.push_str(&format!("　底线为满分的{}%", (share * 100.0).round()));
        }
        writeln!(
            o,
            "  {}. {}　{}分{extra}　{}　指标{}项（必填{}项）{}",
            i + 1,
            c.name,
            c.max_score,
            c.article,
            c.indicators.len(),
            required,
            tag(c.source)
        )?;
    }
    if let Some(share) = p.scoring.floor_share {
        writeln!(
            o,
            "  各项底线：满分的{}%，任一项平均分低于底线者不列入胜出名单{}",
            (share * 100.0).round(),
            tag(p.scoring.source)
        )?;
    }

    if !p.eligibility.thresholds.is_empty() {
        writeln!(o, "申报门槛（提交时自动检查）：")?;
        for t in &p.eligibility.thresholds {
            let (name, unit) = p
                .indicator(&t.indicator)
                .map_or((t.indicator.as_str(), ""), |i| {
                    (i.name.as_str(), i.unit.map_or("", Unit::as_str))
                });
            let mut extra = String::new();
            if let Some(kinds) = &t.kinds {
                let names: Vec<String> = kinds.iter().map(|k| kind_name(k)).collect();
                extra.push_str(&format!("（仅{}）", names.join("、")));
            }
            for (k, v) in &t.value_by_kind {
                extra.push_str(&format!("（{}{} {v}{unit}）", kind_name(k), t.op.symbol()));
            }
            writeln!(
                o,
                "  - {name} {} {}{unit}{extra}{}",
                t.op.symbol(),
                t.value,
                tag(t.source)
            )?;
        }
    }
    if !p.eligibility.negative_list.is_empty() {
        writeln!(o, "负面清单（申报主体承诺不存在）：")?;
        for n in &p.eligibility.negative_list {
            writeln!(o, "  - {}{}", n.text, tag(n.source))?;
        }
    }

    writeln!(
        o,
        "竞赛：每年{}次{}{}",
        p.competition.per_year,
        article(&p.competition.article),
        tag(p.competition.source)
    )?;
    for (i, r) in p.rounds.iter().enumerate() {
        let entrants = match r.entrants {
            Entrants::Recommended => "市州推荐的申报",
            Entrants::CultivationTargets => "培育对象",
            Entrants::Submitted => "本市已提交的申报（不另设初审）",
        };
        let outcome = match r.outcome {
            Outcome::CultivationTarget => "确定为培育对象",
            Outcome::Certified => "认定为省先进制造业集群",
            Outcome::CityTitle => "获得市级称号",
        };
        writeln!(
            o,
            "  {}. {}{}：参赛对象为{entrants}，胜出者{outcome}{}",
            i + 1,
            r.name,
            article(&r.article),
            tag(r.source)
        )?;
        if let Some(c) = &r.cultivation_period {
            writeln!(o, "     培育期至少{}个月{}", c.min_months, tag(c.source))?;
        }
        let panel = &r.panel;
        let aggregation = match (panel.aggregation, panel.trim_when_at_least) {
            (Aggregation::TrimmedMean, Some(n)) => {
                format!("评分人数不少于{n}人时去掉一个最高分和一个最低分后取平均")
            }
            _ => "取平均分".to_string(),
        };
        let aggregation = if panel.normalise == Normalise::ZScore {
            format!("每位专家的总分先标准化（z分数）再汇总，{aggregation}")
        } else {
            aggregation
        };
        let defence = if panel.defence_share > 0.0 {
            format!("答辩占{}%", (panel.defence_share * 100.0).round())
        } else {
            "不设答辩".to_string()
        };
        let same_city = if panel.same_city_conflict() {
            ""
        } else {
            "；与集群同属一个市州的专家无需回避（其余回避情形照常）"
        };
        writeln!(
            o,
            "     每份申报{}–{}名专家评审，{aggregation}；{defence}{same_city}{}",
            panel.min_experts,
            panel.max_experts,
            tag(panel.source)
        )?;
    }

    let n = &p.public_notice;
    writeln!(
        o,
        "公示：{}个工作日{}{}",
        n.working_days,
        n.published_on
            .as_deref()
            .map(|w| format!("，在{w}发布"))
            .unwrap_or_default(),
        tag(n.source)
    )?;
    let ob = &n.objection;
    let rules: Vec<&str> = [
        (ob.written, "书面提出"),
        (ob.real_name, "实名"),
        (ob.contact_required, "留联系方式"),
        (ob.unit_seal_required, "单位加盖公章"),
        (ob.within_window, "在公示期内提出"),
        (ob.evidence_required, "附佐证材料"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, text)| *text)
    .collect();
    let evidence = match (ob.evidence_allowed, ob.evidence_required) {
        (_, true) => "",
        (true, false) => "；可附佐证材料",
        (false, false) => "；不收佐证材料",
    };
    let rules = if rules.is_empty() {
        "无特别要求".to_string()
    } else {
        format!("须{}", rules.join("、"))
    };
    writeln!(o, "  异议：{rules}{evidence}{}", tag(ob.source))?;

    let r = &p.reports;
    writeln!(o, "发展情况报告：")?;
    writeln!(
        o,
        "  - {}：每年{}前报送上一年度{}{}",
        r.annual.name,
        r.annual.due,
        article(&r.annual.article),
        tag(r.annual.source)
    )?;
    if let Some(semi) = &r.semi_annual {
        writeln!(
            o,
            "  - {}：每年{}前报送当年上半年{}{}",
            semi.name,
            semi.due,
            article(&semi.article),
            tag(semi.source)
        )?;
    }
    let roll = if r.roll_forward_to_working_day {
        "截止日遇节假日或周末顺延至下一工作日"
    } else {
        "截止日不顺延"
    };
    let reminders: Vec<String> = r.reminder_days_before.iter().map(u32::to_string).collect();
    let reminders = if reminders.is_empty() {
        "不提醒".to_string()
    } else {
        format!("提前{}天提醒", reminders.join("、"))
    };
    writeln!(o, "  {roll}；{reminders}{}", tag(r.source))?;
    if let Some(n) = r.escalate_to_province_after_working_days {
        writeln!(
            o,
            "  逾期未报：次一工作日告知集群和市州工信局，逾期{n}个工作日告知省工信厅{}",
            tag(r.source)
        )?;
    }
    if let Some(f) = &r.form {
        let sections: Vec<&str> = f.sections.iter().map(|s| s.name.as_str()).collect();
        writeln!(
            o,
            "  报告内容：{}项指标；{}；{}{}{}",
            f.indicators.len(),
            sections.join("、"),
            f.reward_funds.name,
            article(&f.article),
            tag(f.source)
        )?;
    }
    if let Some(f) = &r.flags {
        writeln!(
            o,
            "  数据提示：同比变化超过±{}%、半年度数据高于全年、年度数据不满足第六条门槛{}",
            f.year_on_year_change_percent,
            tag(f.source)
        )?;
    }

    writeln!(
        o,
        "复核：每{}年一次{}{}",
        p.recheck.cycle_years,
        article(&p.recheck.article),
        tag(p.recheck.source)
    )?;
    writeln!(o, "撤销情形：")?;
    for x in &p.revocation.reasons {
        writeln!(o, "  - {}{}{}", x.name, article(&x.article), tag(x.source))?;
    }
    if let Some(days) = p.revocation.response_working_days {
        writeln!(o, "陈述申辩期限：告知书发出之日起{days}个工作日")?;
    }
    if let Some(number) = &p.revocation.decision_number {
        writeln!(o, "撤销决定书编号：{number}")?;
    }
    let q = &p.quota.per_county;
    let (limit, mode) = match q.mode {
        QuotaMode::Warn => ("原则上不超过", "超出时提示警告，须记录理由方可继续"),
        QuotaMode::Block => ("不超过", "超出时不予通过"),
    };
    writeln!(
        o,
        "县域限额：每个县（市）{limit}{}个，{mode}{}{}",
        q.max,
        article(&q.article),
        tag(q.source)
    )?;
    if let Some(d) = &q.divisions {
        let counts = match d.counts {
            super::CapCounts::All => "县、自治县、县级市和市辖区均计入",
            super::CapCounts::Counties => "计入县、自治县和县级市，市辖区不计入",
        };
        writeln!(
            o,
            "县域限额范围：{counts}{}{}",
            article(&d.article),
            tag(d.source)
        )?;
    }
    for g in &p.groupings {
        writeln!(
            o,
            "区域组合：{}（{}）{}{}",
            g.name,
            g.city_codes.join("、"),
            article(&g.article),
            tag(g.source)
        )?;
    }
    if let Some(f) = &p.funding {
        writeln!(
            o,
            "资金渠道：{}{}{}",
            f.sources.join("、"),
            article(&f.article),
            tag(f.source)
        )?;
        if let Some(r) = &f.rewards {
            writeln!(
                o,
                "奖励默认金额：培育对象{}元，认定{}元，由{}安排{}{}",
                r.cultivation_target_yuan,
                r.certified_yuan,
                r.fund,
                article(&r.article),
                tag(r.source)
            )?;
        }
    }
    write!(
        o,
        "注：〔办法〕为管理办法原文规定，〔默认〕为现行省级默认或占位取值。"
    )
}
