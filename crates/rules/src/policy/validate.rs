//! Semantic checks of a policy. Each part that loaded is checked even when another
//! part failed, so the author sees every problem in one pass.

use std::collections::BTreeSet;

use time::{Date, Month};

use super::load::Errors;
use super::*;

/// The parts of a policy as loaded; `None` where loading already reported an error.
pub(super) struct Parts {
    pub format_version: Option<u32>,
    pub identity: Option<Identity>,
    pub cluster_kinds: Option<Vec<ClusterKind>>,
    pub scoring: Option<Scoring>,
    pub criteria: Option<Vec<Criterion>>,
    pub eligibility: Option<Eligibility>,
    pub competition: Option<Competition>,
    pub rounds: Option<Vec<Round>>,
    pub public_notice: Option<PublicNotice>,
    pub reports: Option<Reports>,
    pub recheck: Option<Recheck>,
    pub revocation: Option<Revocation>,
    pub quota: Option<Quota>,
    pub groupings: Option<Vec<Grouping>>,
    pub funding: Option<Option<Funding>>,
    pub wording: Option<Option<Wording>>,
    pub procedure: Option<Option<Procedure>>,
    pub organiser: Option<Option<Organiser>>,
}

impl Parts {
    pub(super) fn assemble(self) -> Option<Policy> {
        Some(Policy {
            format_version: self.format_version?,
            identity: self.identity?,
            cluster_kinds: self.cluster_kinds?,
            scoring: self.scoring?,
            criteria: self.criteria?,
            eligibility: self.eligibility?,
            competition: self.competition?,
            rounds: self.rounds?,
            public_notice: self.public_notice?,
            reports: self.reports?,
            recheck: self.recheck?,
            revocation: self.revocation?,
            quota: self.quota?,
            groupings: self.groupings?,
            funding: self.funding?,
            wording: self.wording?,
            procedure: self.procedure?,
            organiser: self.organiser?,
            origin: String::new(),
        })
    }
}

pub(super) fn validate(p: &Parts, e: &mut Errors) {
    if let Some(v) = p.format_version
        && v != FORMAT_VERSION
    {
        e.push(
            "format_version",
            format!("不支持的格式版本{v}，本程序支持版本{FORMAT_VERSION}"),
        );
    }
    if let Some(id) = &p.identity {
        identity(id, e);
    }
    if let Some(kinds) = &p.cluster_kinds {
        if kinds.is_empty() {
            e.push("cluster_kinds", "至少需要一个集群类别");
        }
        let mut keys = Keys::default();
        for (i, k) in kinds.iter().enumerate() {
            let at = format!("cluster_kinds[{i}]");
            keys.check(e, &at, &k.key);
            text(e, &format!("{at}.name"), &k.name);
            opt_text(e, &format!("{at}.description"), &k.description);
            opt_text(e, &format!("{at}.article"), &k.article);
        }
    }
    let kind_keys: Option<Vec<&str>> = p
        .cluster_kinds
        .as_ref()
        .map(|ks| ks.iter().map(|k| k.key.as_str()).collect());
    if let Some(criteria) = &p.criteria {
        criteria_checks(criteria, p.scoring.as_ref(), kind_keys.as_deref(), e);
    } else if let Some(s) = &p.scoring {
        scoring_own(s, e);
    }
    if let Some(el) = &p.eligibility {
        eligibility(el, p.criteria.as_deref(), kind_keys.as_deref(), e);
        for (i, a) in el.required_attachments.iter().flatten().enumerate() {
            let at = format!("eligibility.required_attachments[{i}]");
            if !ATTACHMENT_PURPOSES.contains(&a.purpose.as_str()) {
                e.push(
                    format!("{at}.purpose"),
                    format!(
                        "附件用途“{}”无效，可选值：{}",
                        a.purpose,
                        ATTACHMENT_PURPOSES.join("、")
                    ),
                );
            }
            text(e, &format!("{at}.name"), &a.name);
        }
    }
    if let Some(c) = &p.competition {
        if c.per_year == 0 {
            e.push("competition.per_year", "每年竞赛次数必须大于0");
        }
        opt_text(e, "competition.article", &c.article);
        opt_text(e, "competition.message", &c.message);
        for (key, days) in [
            ("submission_reminder_days", &c.submission_reminder_days),
            ("review_reminder_days", &c.review_reminder_days),
        ] {
            for (i, d) in days.iter().flatten().enumerate() {
                if *d == 0 || *d > 60 {
                    e.push(
                        format!("competition.{key}[{i}]"),
                        "提前提醒天数应为1至60之间的整数",
                    );
                }
            }
        }
    }
    let level = match &p.organiser {
        Some(Some(o)) => {
            organiser_checks(o, e);
            o.level
        }
        _ => OrganiserLevel::Province,
    };
    if let Some(rounds) = &p.rounds {
        rounds_checks(rounds, level, e);
    }
    if let Some(n) = &p.public_notice {
        notice(n, e);
    }
    if let Some(Some(pr)) = &p.procedure {
        procedure(pr, e);
    }
    if let Some(r) = &p.reports {
        reports(r, e);
        if let Some(el) = &p.eligibility {
            flag_thresholds_known(r, el, e);
        }
    }
    if let Some(r) = &p.recheck {
        if r.cycle_years == 0 {
            e.push("recheck.cycle_years", "复核周期必须大于0年");
        }
        if r.pass_mark.is_some_and(|m| m > 100) {
            e.push("recheck.pass_mark", "复核合格分数线应在0至100之间");
        }
        if r.notice_working_days == Some(0) {
            e.push(
                "recheck.notice_working_days",
                "复核结果公示期必须大于0个工作日",
            );
        }
        opt_text(e, "recheck.article", &r.article);
    }
    if let Some(r) = &p.revocation {
        if r.reasons.is_empty() {
            e.push("revocation.reasons", "至少需要一种撤销情形");
        }
        let mut keys = Keys::default();
        for (i, reason) in r.reasons.iter().enumerate() {
            let at = format!("revocation.reasons[{i}]");
            keys.check(e, &at, &reason.key);
            text(e, &format!("{at}.name"), &reason.name);
            opt_text(e, &format!("{at}.article"), &reason.article);
        }
        if r.response_working_days == Some(0) {
            e.push(
                "revocation.response_working_days",
                "陈述申辩期限必须大于0个工作日",
            );
        }
        if let Some(f) = &r.decision_number
            && !(f.contains("{year}") && f.contains("{seq}"))
        {
            e.push(
                "revocation.decision_number",
                "决定书编号格式须包含{year}和{seq}，如“湘工信集群撤〔{year}〕{seq}号”",
            );
        }
    }
    if let Some(q) = &p.quota {
        let q = &q.per_county;
        if q.max == 0 {
            e.push("quota.per_county.max", "每县限额应至少为1");
        }
        text(e, "quota.per_county.message", &q.message);
        opt_text(e, "quota.per_county.article", &q.article);
        if let Some(d) = &q.divisions {
            opt_text(e, "quota.per_county.divisions.article", &d.article);
        }
    }
    if let Some(groupings) = &p.groupings {
        groupings_checks(groupings, e);
    }
    if let Some(Some(w)) = &p.wording {
        for (key, value) in [
            ("cultivation_target_name", &w.cultivation_target_name),
            ("certified_name", &w.certified_name),
            (
                "cultivation_target_certificate_prefix",
                &w.cultivation_target_certificate_prefix,
            ),
            (
                "certified_certificate_prefix",
                &w.certified_certificate_prefix,
            ),
            ("contact_office", &w.contact_office),
        ] {
            text(e, &format!("wording.{key}"), value);
        }
        // A prefix is read back from a typed certificate number: it must not contain the
        // brackets that delimit the year, and the two must differ.
        for (key, prefix) in [
            (
                "cultivation_target_certificate_prefix",
                &w.cultivation_target_certificate_prefix,
            ),
            (
                "certified_certificate_prefix",
                &w.certified_certificate_prefix,
            ),
        ] {
            if prefix.contains(['〔', '〕', '第', '号']) {
                e.push(
                    format!("wording.{key}"),
                    format!("证书编号前缀“{prefix}”不能包含〔〕、“第”或“号”"),
                );
            }
        }
        if !w.certified_certificate_prefix.trim().is_empty()
            && w.certified_certificate_prefix == w.cultivation_target_certificate_prefix
        {
            e.push(
                "wording.certified_certificate_prefix",
                "两种称号的证书编号前缀不能相同",
            );
        }
    }
    if let Some(Some(f)) = &p.funding {
        if f.sources.is_empty() {
            e.push("funding.sources", "至少需要一个资金渠道");
        }
        for (i, s) in f.sources.iter().enumerate() {
            text(e, &format!("funding.sources[{i}]"), s);
        }
        opt_text(e, "funding.article", &f.article);
        if let Some(r) = &f.rewards {
            if !f.sources.contains(&r.fund) {
                e.push(
                    "funding.rewards.fund",
                    format!("“{}”不在 funding.sources 所列资金渠道中", r.fund),
                );
            }
            // 100亿元, the ledger's bound on one amount.
            const MAX_YUAN: u64 = 10_000_000_000;
            for (key, v) in [
                ("cultivation_target_yuan", r.cultivation_target_yuan),
                ("certified_yuan", r.certified_yuan),
            ] {
                if v == 0 || v > MAX_YUAN {
                    e.push(
                        format!("funding.rewards.{key}"),
                        "奖励金额应为大于零且不超过100亿的整数（单位：元）",
                    );
                }
            }
            opt_text(e, "funding.rewards.article", &r.article);
        }
    }
}

/// Detects duplicate and malformed `key`s within one list.
#[derive(Default)]
struct Keys(BTreeSet<String>);

impl Keys {
    fn check(&mut self, e: &mut Errors, at: &str, key: &str) {
        let path = format!("{at}.key");
        let mut chars = key.chars();
        let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !well_formed {
            e.push(
                path,
                format!("键“{key}”格式无效：应以小写字母开头，只含小写字母、数字和下划线"),
            );
        } else if !self.0.insert(key.to_string()) {
            e.push(path, format!("键“{key}”重复"));
        }
    }
}

fn text(e: &mut Errors, path: &str, value: &str) {
    if value.trim().is_empty() {
        e.push(path, "不能为空");
    }
}

fn opt_text(e: &mut Errors, path: &str, value: &Option<String>) {
    if let Some(v) = value {
        text(e, path, v);
    }
}

fn identity(id: &Identity, e: &mut Errors) {
    let mut chars = id.id.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !well_formed {
        e.push(
            "identity.id",
            format!(
                "策略标识“{}”无效：应以小写字母开头，只含小写字母、数字和连字符，例如 hunan-2021",
                id.id
            ),
        );
    }
    if id.version == 0 {
        e.push("identity.version", "版本号应为不小于1的整数");
    }
    text(e, "identity.name", &id.name);
    text(e, "identity.document_number", &id.document_number);
    text(e, "identity.issuer", &id.issuer);
    opt_text(e, "identity.article", &id.article);
    if !is_division_code(&id.region_code) {
        e.push(
            "identity.region_code",
            format!("“{}”不是六位行政区划代码", id.region_code),
        );
    }
    if id.published < id.issued {
        e.push(
            "identity.published",
            format!("发布日期{}早于印发日期{}", id.published, id.issued),
        );
    }
    if id.effective_from < id.issued {
        e.push(
            "identity.effective_from",
            format!("施行日期{}早于印发日期{}", id.effective_from, id.issued),
        );
    }
    if id.validity_years == Some(0) {
        e.push("identity.validity_years", "有效期年数必须大于0");
    }
    if let Some(to) = id.effective_to {
        if to < id.effective_from {
            e.push(
                "identity.effective_to",
                format!("失效日期{to}早于施行日期{}", id.effective_from),
            );
        } else if let Some(years) = id.validity_years.filter(|y| *y > 0)
            && let Some(expected) = validity_end(id.effective_from, years)
            && expected != to
        {
            e.push(
                "identity.effective_to",
                format!(
                    "与有效期{years}年不一致：自{}起施行{years}年，最后一日应为{expected}",
                    id.effective_from
                ),
            );
        }
    }
}

/// Last day of a validity of `years` years starting on (and counting) `from`: the day
/// before the same date `years` later (for a 02-29 start, the day before 03-01).
pub(super) fn validity_end(from: Date, years: u32) -> Option<Date> {
    let year = from.year().checked_add(i32::try_from(years).ok()?)?;
    let next_start = from
        .replace_year(year)
        .or_else(|_| Date::from_calendar_date(year, Month::March, 1))
        .ok()?;
    next_start.previous_day()
}

fn is_division_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

fn scoring_own(s: &Scoring, e: &mut Errors) {
    if s.total_score == 0 {
        e.push("scoring.total_score", "总分必须大于0");
    }
    if let Some(share) = s.outlier_gap_share
        && !(share > 0.0 && share < 1.0)
    {
        e.push(
            "scoring.outlier_gap_share",
            format!("异常分差比例应大于0且小于1（当前值 {share}）"),
        );
    }
    if s.required_criteria == 0 {
        e.push("scoring.required_criteria", "要求的评分维度数必须大于0");
    }
    floor_share(e, "scoring.floor_share", s.floor_share);
}

/// A floor share lies in (0, 1].
fn floor_share(e: &mut Errors, path: &str, share: Option<f64>) {
    if let Some(share) = share
        && !(share > 0.0 && share <= 1.0)
    {
        e.push(
            path,
            format!("底线比例应大于0且不超过1（当前值 {share}），如0.6表示满分的60%"),
        );
    }
}

/// A key that must name one of the policy's cluster kinds (unchecked when the kinds did not load).
fn known_kind(e: &mut Errors, path: String, kind: &str, kinds: Option<&[&str]>) -> bool {
    match kinds {
        Some(kinds) if !kinds.contains(&kind) => {
            e.push(
                path,
                format!(
                    "集群类别“{kind}”不在 cluster_kinds 中（可选：{}）",
                    kinds.join("、")
                ),
            );
            false
        }
        _ => true,
    }
}

fn criteria_checks(
    criteria: &[Criterion],
    scoring: Option<&Scoring>,
    kinds: Option<&[&str]>,
    e: &mut Errors,
) {
    if let Some(s) = scoring {
        scoring_own(s, e);
        let n = criteria.len();
        if n < s.required_criteria as usize {
            e.push(
                "criteria",
                format!(
                    "评分维度只有{n}个，少于 scoring.required_criteria 要求的{}个",
                    s.required_criteria
                ),
            );
        }
        let sum: u64 = criteria.iter().map(|c| u64::from(c.max_score)).sum();
        if sum != u64::from(s.total_score) {
            e.push(
                "scoring.total_score",
                format!("各评分维度满分之和为{sum}，与总分{}不一致", s.total_score),
            );
        }
        // A kind with its own maxima must still add up to the total.
        let by_kind = criteria.iter().any(|c| !c.max_score_by_kind.is_empty());
        for kind in kinds.filter(|_| by_kind).unwrap_or_default() {
            let sum: u64 = criteria
                .iter()
                .map(|c| u64::from(c.max_score_for(kind)))
                .sum();
            if sum != u64::from(s.total_score) {
                e.push(
                    "scoring.total_score",
                    format!(
                        "类别“{kind}”各评分维度满分之和为{sum}，与总分{}不一致",
                        s.total_score
                    ),
                );
            }
        }
    }
    if criteria.is_empty() {
        e.push("criteria", "缺少评分维度");
    }
    let mut keys = Keys::default();
    let mut indicator_keys = Keys::default();
    for (i, c) in criteria.iter().enumerate() {
        let at = format!("criteria[{i}]");
        keys.check(e, &at, &c.key);
        text(e, &format!("{at}.name"), &c.name);
        text(e, &format!("{at}.article"), &c.article);
        if c.max_score == 0 {
            e.push(format!("{at}.max_score"), "满分必须大于0");
        }
        for (kind, max) in &c.max_score_by_kind {
            let path = format!("{at}.max_score_by_kind.{kind}");
            if known_kind(e, path.clone(), kind, kinds) && *max == 0 {
                e.push(path, "满分必须大于0");
            }
        }
        floor_share(e, &format!("{at}.floor_share"), c.floor_share);
        if c.indicators.is_empty() {
            e.push(format!("{at}.indicators"), "至少需要一个指标");
        }
        for (j, ind) in c.indicators.iter().enumerate() {
            let at = format!("{at}.indicators[{j}]");
            indicator_keys.check(e, &at, &ind.key);
            text(e, &format!("{at}.name"), &ind.name);
            indicator_unit(e, &at, ind);
            if let Some(only) = &ind.kinds {
                if only.is_empty() {
                    e.push(
                        format!("{at}.kinds"),
                        "至少需要一个集群类别（所有类别均适用时省略此项）",
                    );
                }
                for (k, kind) in only.iter().enumerate() {
                    known_kind(e, format!("{at}.kinds[{k}]"), kind, kinds);
                }
            }
        }
    }
}

/// An indicator's unit agrees with its value type.
fn indicator_unit(e: &mut Errors, at: &str, ind: &Indicator) {
    let unit_path = format!("{at}.unit");
    match (ind.value_type, ind.unit) {
        (ValueType::Percent, Some(Unit::Percent))
        | (ValueType::Text | ValueType::IndustryCode, None) => {}
        (ValueType::Percent, _) => e.push(unit_path, "百分比指标的单位应为 %"),
        (ValueType::Text | ValueType::IndustryCode, Some(_)) => {
            e.push(unit_path, "文本指标不应设置单位")
        }
        (_, Some(Unit::Percent)) => {
            e.push(unit_path, "单位为 % 的指标请使用 value_type = \"percent\"")
        }
        (_, None) => e.push(
            unit_path,
            "数值指标须注明单位（亿元、万元、家、件、个、人）",
        ),
        (_, Some(_)) => {}
    }
}

fn eligibility(
    el: &Eligibility,
    criteria: Option<&[Criterion]>,
    kinds: Option<&[&str]>,
    e: &mut Errors,
) {
    for (i, t) in el.thresholds.iter().enumerate() {
        let at = format!("eligibility.thresholds[{i}]");
        text(e, &format!("{at}.message"), &t.message);
        if !t.value.is_finite() || t.value < 0.0 {
            e.push(
                format!("{at}.value"),
                format!("门槛值{}无效：不能为负数", t.value),
            );
        }
        threshold_kinds(t, &at, kinds, e);
        // Without the criteria the reference cannot be checked; their own errors were reported.
        let Some(criteria) = criteria else { continue };
        let found = criteria
            .iter()
            .flat_map(|c| &c.indicators)
            .find(|ind| ind.key == t.indicator);
        match found {
            None => e.push(
                format!("{at}.indicator"),
                format!("引用了不存在的指标“{}”", t.indicator),
            ),
            Some(ind) if !ind.value_type.is_number() => e.push(
                format!("{at}.indicator"),
                format!("指标“{}”是文本，不能设置数值门槛", ind.name),
            ),
            Some(ind)
                if ind.value_type == ValueType::Percent
                    && (t.value > 100.0 || t.value_by_kind.values().any(|v| *v > 100.0)) =>
            {
                e.push(format!("{at}.value"), "百分比门槛不能超过100")
            }
            Some(_) => {}
        }
    }
    let mut keys = Keys::default();
    for (i, item) in el.negative_list.iter().enumerate() {
        let at = format!("eligibility.negative_list[{i}]");
        keys.check(e, &at, &item.key);
        text(e, &format!("{at}.text"), &item.text);
    }
}

/// A threshold's kinds, per-kind values and messages name the policy's kinds.
fn threshold_kinds(t: &Threshold, at: &str, kinds: Option<&[&str]>, e: &mut Errors) {
    if let Some(list) = &t.kinds {
        if list.is_empty() {
            e.push(
                format!("{at}.kinds"),
                "适用类别不能为空；适用于全部类别时请省略 kinds",
            );
        }
        for (j, kind) in list.iter().enumerate() {
            known_kind(e, format!("{at}.kinds[{j}]"), kind, kinds);
        }
    }
    for (kind, value) in &t.value_by_kind {
        let path = format!("{at}.value_by_kind.{kind}");
        if !known_kind(e, path.clone(), kind, kinds) {
            continue;
        }
        if !t.applies_to(Some(kind)) {
            e.push(
                path,
                format!("门槛不适用于类别“{kind}”（见 kinds），不能为其另设门槛值"),
            );
        } else if !value.is_finite() || *value < 0.0 {
            e.push(path, format!("门槛值{value}无效：不能为负数"));
        }
    }
    for (kind, message) in &t.message_by_kind {
        let path = format!("{at}.message_by_kind.{kind}");
        if !known_kind(e, path.clone(), kind, kinds) {
            continue;
        }
        if !t.value_by_kind.contains_key(kind) {
            e.push(
                path,
                format!("类别“{kind}”没有另设门槛值（value_by_kind），不需要另设提示"),
            );
        } else {
            text(e, &path, message);
        }
    }
}

fn organiser_checks(o: &Organiser, e: &mut Errors) {
    opt_text(e, "organiser.article", &o.article);
    opt_text(e, "organiser.contact_office", &o.contact_office);
    match (o.level, &o.title) {
        (OrganiserLevel::City, None) => e.push(
            "organiser.title",
            "市级竞赛须写明市级认定授予的称号（organiser.title）",
        ),
        (OrganiserLevel::City, Some(title)) => text(e, "organiser.title", title),
        (OrganiserLevel::Province, Some(_)) => e.push(
            "organiser.title",
            "省级竞赛的称号写在 wording 中，organiser.title 只用于市级竞赛",
        ),
        (OrganiserLevel::Province, None) => {}
    }
    match (o.level, &o.certificate_prefix) {
        (OrganiserLevel::City, Some(prefix)) => {
            let rest = prefix.replace(super::CITY_PLACEHOLDER, "");
            if prefix.matches(super::CITY_PLACEHOLDER).count() != 1 {
                e.push(
                    "organiser.certificate_prefix",
                    "市级证书编号前缀须含且只含一处 {city}（填入市州名称，使各市州的证书编号互不相同）",
                );
            } else if rest.trim().is_empty() {
                e.push(
                    "organiser.certificate_prefix",
                    "除 {city} 外还须写明前缀文字",
                );
            } else if rest.contains(['{', '}', '〔', '〕']) || rest.chars().any(char::is_whitespace)
            {
                e.push(
                    "organiser.certificate_prefix",
                    "前缀不能含空白、〔〕或 {city} 以外的花括号",
                );
            }
        }
        (OrganiserLevel::Province, Some(_)) => e.push(
            "organiser.certificate_prefix",
            "省级证书编号前缀写在 wording 中，organiser.certificate_prefix 只用于市级竞赛",
        ),
        _ => {}
    }
    match (o.level, &o.certificate_issuer) {
        (OrganiserLevel::City, Some(issuer)) => {
            if issuer
                .replace(super::CITY_PLACEHOLDER, "")
                .trim()
                .is_empty()
            {
                e.push("organiser.certificate_issuer", "不能为空");
            } else if issuer.matches(super::CITY_PLACEHOLDER).count() > 1 {
                e.push("organiser.certificate_issuer", "{city} 最多出现一处");
            }
        }
        (OrganiserLevel::Province, Some(_)) => e.push(
            "organiser.certificate_issuer",
            "organiser.certificate_issuer 只用于市级竞赛",
        ),
        _ => {}
    }
}

/// Rounds of a city-level text (第十六条) take submitted applications (the city organises, so
/// there is no separate city 初审) and confer the city title; a provincial text keeps the city's
/// recommendation (第九条) and ends in 认定.
fn rounds_checks(rounds: &[Round], level: OrganiserLevel, e: &mut Errors) {
    if level == OrganiserLevel::City {
        if rounds.is_empty() {
            e.push("rounds", "至少需要一个竞赛轮次");
        }
        for (i, r) in rounds.iter().enumerate() {
            let at = format!("rounds[{i}]");
            if r.entrants != Entrants::Submitted {
                e.push(
                    format!("{at}.entrants"),
                    "市级竞赛由市州自行组织，参赛对象应为已提交的申报（entrants = \"submitted\"）",
                );
            }
            if r.outcome != Outcome::CityTitle {
                e.push(
                    format!("{at}.outcome"),
                    "市级竞赛的胜出者获得市级称号（outcome = \"city_title\"）",
                );
            }
            if r.key != "preliminary" {
                e.push(
                    format!("{at}.key"),
                    "市级竞赛只设一轮评审（key = \"preliminary\"）",
                );
            }
            text(e, &format!("{at}.name"), &r.name);
            panel_checks(&format!("{at}.panel"), &r.panel, level, e);
        }
        return;
    }
    for (i, r) in rounds.iter().enumerate() {
        if r.entrants == Entrants::Submitted || r.outcome == Outcome::CityTitle {
            e.push(
                format!("rounds[{i}]"),
                "只有市级竞赛（organiser.level = \"city\"）的轮次可以直接评审已提交的申报或授予市级称号",
            );
        }
    }
    if rounds.is_empty() {
        e.push("rounds", "至少需要一个竞赛轮次");
    } else if !rounds.iter().any(|r| r.outcome == Outcome::Certified) {
        e.push(
            "rounds",
            "没有任何轮次的胜出者获得认定（outcome = \"certified\"）",
        );
    }
    let mut keys = Keys::default();
    for (i, r) in rounds.iter().enumerate() {
        let at = format!("rounds[{i}]");
        keys.check(e, &at, &r.key);
        text(e, &format!("{at}.name"), &r.name);
        opt_text(e, &format!("{at}.article"), &r.article);
        let feeds = rounds[..i]
            .iter()
            .any(|prev| prev.outcome == Outcome::CultivationTarget);
        match r.entrants {
            Entrants::CultivationTargets if !feeds => e.push(
                format!("{at}.entrants"),
                "参赛对象为培育对象，但此前没有产生培育对象的轮次",
            ),
            Entrants::Recommended if r.cultivation_period.is_some() => e.push(
                format!("{at}.cultivation_period"),
                "只有参赛对象为培育对象的轮次才能设置培育期",
            ),
            _ => {}
        }
        panel_checks(&format!("{at}.panel"), &r.panel, level, e);
    }
}

fn panel_checks(pat: &str, p: &Panel, level: OrganiserLevel, e: &mut Errors) {
    if p.same_city_conflict == Some(false) && level != OrganiserLevel::City {
        e.push(
            format!("{pat}.same_city_conflict"),
            "省级竞赛中专家与集群同属一个市州须回避：same_city_conflict = false 只能用于市级竞赛",
        );
    }
    if p.min_experts == 0 {
        e.push(format!("{pat}.min_experts"), "每份申报至少需要1名评审专家");
    }
    if p.min_experts > p.max_experts {
        e.push(
            format!("{pat}.min_experts"),
            format!("最少专家人数{}大于最多人数{}", p.min_experts, p.max_experts),
        );
    }
    match (p.aggregation, p.trim_when_at_least) {
        (Aggregation::TrimmedMean, None) => e.push(
            format!("{pat}.trim_when_at_least"),
            "去掉最高分和最低分时须注明最少评分人数",
        ),
        (Aggregation::TrimmedMean, Some(n)) if n < 3 => e.push(
            format!("{pat}.trim_when_at_least"),
            format!("评分人数{n}过少：去掉最高分和最低分至少需要3人"),
        ),
        (Aggregation::Mean, Some(_)) => e.push(
            format!("{pat}.trim_when_at_least"),
            "仅 aggregation = \"trimmed_mean\" 时可设置",
        ),
        _ => {}
    }
    if !(0.0..=1.0).contains(&p.defence_share) {
        e.push(
            format!("{pat}.defence_share"),
            format!("答辩占比{}应在0到1之间（0表示不设答辩）", p.defence_share),
        );
    }
}

fn notice(n: &PublicNotice, e: &mut Errors) {
    if n.working_days == 0 {
        e.push("public_notice.working_days", "公示期不能为0个工作日");
    }
    opt_text(e, "public_notice.published_on", &n.published_on);
    if n.objection.evidence_required && !n.objection.evidence_allowed {
        e.push(
            "public_notice.objection.evidence_required",
            "要求提供佐证材料，却不允许附佐证材料",
        );
    }
}

fn procedure(p: &Procedure, e: &mut Errors) {
    opt_text(e, "procedure.article", &p.article);
    if let Some(c) = &p.recommendation {
        if c.max == 0 {
            e.push("procedure.recommendation.max", "推荐数量上限必须大于0");
        }
        text(e, "procedure.recommendation.message", &c.message);
        opt_text(e, "procedure.recommendation.article", &c.article);
    }
    if let Some(t) = &p.title {
        text(e, "procedure.title.name", &t.name);
        if !(1..=10).contains(&t.validity_years) {
            e.push(
                "procedure.title.validity_years",
                format!("称号有效期{}年无效：应在1到10年之间", t.validity_years),
            );
        }
        opt_text(e, "procedure.title.article", &t.article);
    }
    if p.outcome == ProgrammeOutcome::Ministry {
        if p.recommendation.is_none() {
            e.push(
                "procedure.recommendation",
                "推荐至部里的程序须写明推荐数量上限（procedure.recommendation）",
            );
        }
        if p.title.is_none() {
            e.push(
                "procedure.title",
                "推荐至部里的程序须写明所授称号及其有效期（procedure.title）",
            );
        }
    }
}

fn reports(r: &Reports, e: &mut Errors) {
    let rules = std::iter::once(("annual", &r.annual))
        .chain(r.semi_annual.as_ref().map(|s| ("semi_annual", s)));
    for (key, rule) in rules {
        text(e, &format!("reports.{key}.name"), &rule.name);
        opt_text(e, &format!("reports.{key}.article"), &rule.article);
        if let Err(reason) = parse_month_day(&rule.due) {
            e.push(format!("reports.{key}.due"), reason);
        }
    }
    for (i, d) in r.reminder_days_before.iter().enumerate() {
        if *d > 366 {
            e.push(
                format!("reports.reminder_days_before[{i}]"),
                "提前提醒天数不能超过366天",
            );
        }
    }
    if let Some(n) = r.escalate_to_province_after_working_days
        && !(1..=60).contains(&n)
    {
        e.push(
            "reports.escalate_to_province_after_working_days",
            format!("逾期告知省工信厅的工作日数{n}无效：应在1到60之间"),
        );
    }
    if let Some(form) = &r.form {
        report_form(form, e);
    }
    if let Some(f) = &r.flags {
        report_flags(f, r.form.as_ref(), e);
    }
}

fn report_flags(f: &ReportFlags, form: Option<&ReportForm>, e: &mut Errors) {
    if !f.year_on_year_change_percent.is_finite() || f.year_on_year_change_percent <= 0.0 {
        e.push(
            "reports.flags.year_on_year_change_percent",
            format!(
                "同比变化提示阈值{}无效：应为大于0的百分数",
                f.year_on_year_change_percent
            ),
        );
    }
    if let Some(share) = f.application_change_percent
        && (!share.is_finite() || share <= 0.0)
    {
        e.push(
            "reports.flags.application_change_percent",
            format!("与申报数据差异提示阈值{share}无效：应为大于0的百分数"),
        );
    }
    let Some(form) = form else {
        e.push(
            "reports.flags",
            "设置报告数据提示规则须先定义报告表单（reports.form）",
        );
        return;
    };
    let numeric = |key: &str| {
        form.indicators
            .iter()
            .any(|i| i.key == key && i.value_type.is_number())
    };
    for (i, key) in f.cumulative.iter().enumerate() {
        if !numeric(key) {
            e.push(
                format!("reports.flags.cumulative[{i}]"),
                format!("“{key}”不是报告表单中的数值指标"),
            );
        }
    }
    for (i, t) in f.thresholds.iter().enumerate() {
        if !numeric(&t.indicator) {
            e.push(
                format!("reports.flags.thresholds[{i}].indicator"),
                format!("“{}”不是报告表单中的数值指标", t.indicator),
            );
        }
    }
}

/// A flag threshold names an indicator that `eligibility.thresholds` checks.
fn flag_thresholds_known(r: &Reports, el: &Eligibility, e: &mut Errors) {
    let Some(f) = &r.flags else { return };
    for (i, t) in f.thresholds.iter().enumerate() {
        if !el.thresholds.iter().any(|x| x.indicator == t.eligibility) {
            e.push(
                format!("reports.flags.thresholds[{i}].eligibility"),
                format!("eligibility.thresholds 中没有指标“{}”的门槛", t.eligibility),
            );
        }
    }
}

fn report_form(f: &ReportForm, e: &mut Errors) {
    opt_text(e, "reports.form.article", &f.article);
    if f.indicators.is_empty() {
        e.push("reports.form.indicators", "至少需要一个报告指标");
    }
    let mut keys = Keys::default();
    for (i, ind) in f.indicators.iter().enumerate() {
        let at = format!("reports.form.indicators[{i}]");
        keys.check(e, &at, &ind.key);
        text(e, &format!("{at}.name"), &ind.name);
        indicator_unit(e, &at, ind);
    }
    if f.sections.is_empty() {
        e.push("reports.form.sections", "至少需要一个报告部分");
    }
    // Sections and the reward-funds text share one name space: both are fields of the form.
    let mut keys = Keys::default();
    for (i, s) in f.sections.iter().enumerate() {
        let at = format!("reports.form.sections[{i}]");
        keys.check(e, &at, &s.key);
        text(e, &format!("{at}.name"), &s.name);
        opt_text(e, &format!("{at}.hint"), &s.hint);
    }
    keys.check(e, "reports.form.reward_funds", &f.reward_funds.key);
    text(e, "reports.form.reward_funds.name", &f.reward_funds.name);
    opt_text(e, "reports.form.reward_funds.hint", &f.reward_funds.hint);
}

/// Parses "MM-DD"; the day must exist in every year (so 02-29 is refused).
pub(super) fn parse_month_day(s: &str) -> Result<(Month, u8), String> {
    let bad = || format!("“{s}”不是有效的月-日，应形如 01-31");
    let (m, d) = s.split_once('-').ok_or_else(bad)?;
    if m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let month = m
        .parse::<u8>()
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(bad)?;
    let day = d.parse::<u8>().map_err(|_| bad())?;
    if month == Month::February && day == 29 {
        return Err("02-29 并非每年都有，请改用 02-28 或 03-01".to_string());
    }
    // 2021 is not a leap year, so this accepts exactly the days every year has.
    Date::from_calendar_date(2021, month, day).map_err(|_| format!("“{s}”不是存在的日期"))?;
    Ok((month, day))
}

fn groupings_checks(groupings: &[Grouping], e: &mut Errors) {
    let mut keys = Keys::default();
    for (i, g) in groupings.iter().enumerate() {
        let at = format!("groupings[{i}]");
        keys.check(e, &at, &g.key);
        text(e, &format!("{at}.name"), &g.name);
        opt_text(e, &format!("{at}.article"), &g.article);
        if g.city_codes.is_empty() {
            e.push(format!("{at}.city_codes"), "至少需要一个市州代码");
        }
        let mut seen = BTreeSet::new();
        for (j, code) in g.city_codes.iter().enumerate() {
            let path = format!("{at}.city_codes[{j}]");
            if !is_division_code(code) || !code.ends_with("00") || code.ends_with("0000") {
                e.push(
                    path,
                    format!("“{code}”不是六位市州行政区划代码（如 430100）"),
                );
            } else if !seen.insert(code) {
                e.push(path, format!("市州代码“{code}”重复"));
            }
        }
    }
}
