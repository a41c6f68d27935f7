use std::collections::BTreeMap;

use time::macros::date;

use super::*;

const SHIPPED: &str = BUILTIN_POLICY_SOURCES[0].1;

fn shipped() -> Policy {
    Policy::parse(SHIPPED, "hunan-2021.toml").unwrap()
}

/// The shipped text with `from` replaced by `to` (which must occur).
fn edit(from: &str, to: &str) -> String {
    assert!(SHIPPED.contains(from), "test fixture out of date: {from:?}");
    SHIPPED.replacen(from, to, 1)
}

fn errors(text: &str) -> Vec<PolicyError> {
    match Policy::parse(text, "测试.toml") {
        Ok(_) => panic!("expected errors"),
        Err(PolicyErrors(list)) => {
            assert!(!list.is_empty());
            for e in &list {
                assert_eq!(e.file, "测试.toml");
                assert!(!e.reason.is_ascii(), "reason not Chinese: {e}");
            }
            list
        }
    }
}

/// Asserts one error names `path`, and returns its reason.
fn reason_at(list: &[PolicyError], path: &str) -> String {
    match list.iter().find(|e| e.key_path == path) {
        Some(e) => e.reason.clone(),
        None => panic!("no error at {path}; got {list:#?}"),
    }
}

#[test]
fn shipped_policy_parses_and_encodes_the_measures() {
    let p = shipped();
    assert_eq!(p.id(), "hunan-2021");
    assert_eq!(p.format_version, FORMAT_VERSION);
    assert_eq!(p.identity.document_number, "湘工信产业集聚〔2021〕82号");
    assert_eq!(p.identity.issued, date!(2021 - 03 - 15));
    assert_eq!(p.identity.effective_from, date!(2021 - 04 - 07));
    assert_eq!(p.effective_to(), Some(date!(2026 - 04 - 06)));
    assert_eq!(p.origin, "hunan-2021.toml");

    let kinds: Vec<_> = p
        .cluster_kinds
        .iter()
        .map(|k| (k.key.as_str(), k.name.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [("leading", "优势产业集群"), ("specialty", "特色产业集群")]
    );

    let criteria: Vec<_> = p
        .criteria
        .iter()
        .map(|c| (c.key.as_str(), c.max_score))
        .collect();
    assert_eq!(
        criteria,
        [
            ("industry_character", 15),
            ("scale_and_benefit", 25),
            ("collaborative_innovation", 20),
            ("governance", 15),
            ("factor_agglomeration", 15),
            ("openness", 10),
        ]
    );
    assert_eq!(p.scoring.total_score, 100);
    for key in [
        "cluster_revenue",
        "leading_industry_revenue_share",
        "above_scale_enterprises",
        "little_giant_enterprises",
        "single_champion_enterprises",
        "high_tech_enterprises",
        "rd_intensity",
        "valid_invention_patents",
        "national_innovation_platforms",
        "provincial_innovation_platforms",
        "export_delivery_value",
        "actual_foreign_investment",
        "chain_leader_revenue",
        "promotion_org_fulltime_staff",
    ] {
        assert!(p.indicator(key).is_some(), "{key}");
    }
    assert_eq!(
        p.indicator("cluster_revenue").unwrap().unit,
        Some(Unit::YiYuan)
    );

    let rounds: Vec<_> = p
        .rounds
        .iter()
        .map(|r| (r.key.as_str(), r.entrants, r.outcome))
        .collect();
    assert_eq!(
        rounds,
        [
            (
                "preliminary",
                Entrants::Recommended,
                Outcome::CultivationTarget
            ),
            ("final", Entrants::CultivationTargets, Outcome::Certified),
        ]
    );
    let panel = &p.round("final").unwrap().panel;
    assert!(panel.drops_extremes(5) && !panel.drops_extremes(4));
    assert_eq!(p.public_notice.working_days, 5);
    assert_eq!(p.reports.annual.due, "01-31");
    assert_eq!(p.reports.semi_annual.as_ref().unwrap().due, "07-31");
    assert!(p.reports.roll_forward_to_working_day);
    assert_eq!(p.recheck.cycle_years, 3);
    assert_eq!(p.quota.per_county.max, 1);
    assert_eq!(p.quota.per_county.mode, QuotaMode::Warn);
    assert_eq!(p.groupings[0].city_codes, ["430100", "430200", "430300"]);
    for key in [
        "recheck_failed",
        "recheck_not_applied",
        "fraud",
        "law_violation",
        "major_accident",
    ] {
        assert!(p.revocation_reason(key).is_some(), "{key}");
    }
    assert_eq!(p.revocation.response_working_days, Some(10));
    assert_eq!(
        p.revocation.decision_number_of(2026, 3).as_deref(),
        Some("湘工信集群撤〔2026〕3号")
    );
    // Weights are placeholders, the report rhythm is the Measures'.
    assert!(
        p.criteria
            .iter()
            .all(|c| c.source == Source::ProvinceDefault)
    );
    assert_eq!(p.reports.annual.source, Source::Measures);
}

#[test]
fn types_mirror_the_file_directly() {
    // Deserializing straight from text (dates as TOML datetimes) gives the same policy.
    let mut direct: Policy = toml::from_str(SHIPPED).unwrap();
    direct.origin = "hunan-2021.toml".into();
    assert_eq!(direct, shipped());
}

#[test]
fn registry_and_policy_in_force() {
    let all = builtin_policies().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(policy_in_force(&all, date!(2021 - 04 - 06)), None);
    assert_eq!(
        policy_in_force(&all, date!(2021 - 04 - 07)).map(Policy::id),
        Some("hunan-2021")
    );
    assert_eq!(
        policy_in_force(&all, date!(2026 - 04 - 06)).map(Policy::id),
        Some("hunan-2021")
    );
    assert_eq!(policy_in_force(&all, date!(2026 - 04 - 07)), None);

    let successor = edit("id = \"hunan-2021\"", "id = \"hunan-2024\"")
        .replace("effective_from = 2021-04-07", "effective_from = 2024-01-01")
        .replace("effective_to = 2026-04-06", "effective_to = 2028-12-31");
    let mut all = all;
    all.push(Policy::parse(&successor, "successor").unwrap());
    assert_eq!(
        policy_in_force(&all, date!(2023 - 12 - 31)).map(Policy::id),
        Some("hunan-2021")
    );
    assert_eq!(
        policy_in_force(&all, date!(2025 - 06 - 01)).map(Policy::id),
        Some("hunan-2024")
    );
}

#[test]
fn validity_end_counts_the_first_day() {
    use super::validate::validity_end;
    assert_eq!(
        validity_end(date!(2021 - 04 - 07), 5),
        Some(date!(2026 - 04 - 06))
    );
    assert_eq!(
        validity_end(date!(2024 - 02 - 29), 1),
        Some(date!(2025 - 02 - 28))
    );
    assert_eq!(
        validity_end(date!(2024 - 03 - 01), 1),
        Some(date!(2025 - 02 - 28))
    );
}

#[test]
fn effective_to_is_computed_when_not_stated() {
    let p = Policy::parse(&edit("effective_to = 2026-04-06\n", ""), "x").unwrap();
    assert_eq!(p.effective_to(), Some(date!(2026 - 04 - 06)));
    let open = edit("validity_years = 5\n", "").replace("effective_to = 2026-04-06\n", "");
    let p = Policy::parse(&open, "x").unwrap();
    assert_eq!(p.effective_to(), None);
    assert!(p.is_in_force(date!(2040 - 01 - 01)));
}

#[test]
fn thresholds_are_checked() {
    let p = shipped();
    let ok = BTreeMap::from([
        ("cluster_revenue", 120.0),
        ("chain_leader_revenue", 10.0),
        ("chain_leaders_in_core_park", 1.0),
    ]);
    assert!(p.check_thresholds(|k| ok.get(k).copied()).is_empty());
    let low = BTreeMap::from([("cluster_revenue", 99.9), ("chain_leader_revenue", 12.0)]);
    let problems = p.check_thresholds(|k| low.get(k).copied());
    assert_eq!(problems.len(), 2);
    assert_eq!(problems[0].message, "集群营业收入应不低于100亿元");
    assert_eq!(problems[1].indicator, "chain_leaders_in_core_park");
    assert!(problems[1].message.starts_with("未填写“在核心承载园区注册"));
}

#[test]
fn summary_is_readable_chinese() {
    let s = shipped().summary();
    for needle in [
        "湖南省先进制造业集群培育管理办法（湘工信产业集聚〔2021〕82号）",
        "策略标识：hunan-2021",
        "有效期：2021年4月7日至2026年4月6日，共5年",
        "优势产业集群（leading）、特色产业集群（specialty）",
        "评分维度（6个，总分100）",
        "产业规模效益突出　25分",
        "集群营业收入 ≥ 100亿元",
        "公示：5个工作日",
        "异议：须书面提出、实名、留联系方式、单位加盖公章、在公示期内提出；可附佐证材料",
        "年度发展情况报告：每年01-31前报送上一年度",
        "截止日遇节假日或周末顺延至下一工作日",
        "复核：每3年一次",
        "未通过复核",
        "每个县（市）原则上不超过1个，超出时提示警告",
        "长株潭（430100、430200、430300）",
        "〔办法〕",
        "〔默认〕",
    ] {
        assert!(s.contains(needle), "missing {needle:?} in\n{s}");
    }
}

#[test]
fn syntax_error_reports_the_line() {
    let list = errors(&edit(
        "[recheck]\ncycle_years = 3",
        "[recheck]\ncycle_years = = 3",
    ));
    assert_eq!(list.len(), 1);
    let line = SHIPPED
        .lines()
        .position(|l| l == "cycle_years = 3")
        .unwrap()
        + 1;
    assert_eq!(list[0].line, Some(line));
    assert!(list[0].reason.starts_with("TOML 语法错误"));
    assert!(list[0].to_string().contains(&format!("第{line}行")));
}

#[test]
fn duplicate_toml_key_is_named() {
    let list = errors(&edit(
        "cycle_years = 3\n",
        "cycle_years = 3\ncycle_years = 4\n",
    ));
    assert_eq!(list[0].key_path, "cycle_years");
    assert!(list[0].reason.contains("重复"));
    assert!(list[0].line.is_some());
}

#[test]
fn unknown_keys_at_every_level() {
    let text = edit(
        "format_version = 1\n",
        "format_version = 1\ncolour = \"red\"\n",
    )
    .replacen("due = \"01-31\"\n", "due = \"01-31\"\ngrace_days = 3\n", 1)
    .replacen(
        "value_type = \"industry_code\", required = true }",
        "value_type = \"industry_code\", required = true, weight = 2 }",
        1,
    );
    let list = errors(&text);
    assert_eq!(reason_at(&list, "colour"), "未知的键“colour”");
    assert_eq!(
        reason_at(&list, "reports.annual.grace_days"),
        "未知的键“grace_days”"
    );
    assert_eq!(
        reason_at(&list, "criteria[0].indicators[0].weight"),
        "未知的键“weight”"
    );
}

fn without_openness() -> String {
    let start = SHIPPED.find("[[criteria]]\nkey = \"openness\"").unwrap();
    let end = SHIPPED.find("# Checked automatically").unwrap();
    format!("{}{}", &SHIPPED[..start], &SHIPPED[end..])
}

#[test]
fn missing_criterion() {
    let list = errors(&without_openness());
    assert!(reason_at(&list, "criteria").contains("少于"));
    assert!(reason_at(&list, "scoring.total_score").contains("90"));
    // Thresholds on the removed criterion's indicators would be reported too; none exist.
    let start = SHIPPED.find("[[criteria]]").unwrap();
    let end = SHIPPED.find("# Checked automatically").unwrap();
    let none = format!("{}{}", &SHIPPED[..start], &SHIPPED[end..]);
    let list = errors(&none);
    assert_eq!(reason_at(&list, "criteria"), "缺少必填项“criteria”");
}

#[test]
fn maxima_must_add_up_to_the_total() {
    let list = errors(&edit("max_score = 25", "max_score = 30"));
    assert_eq!(
        reason_at(&list, "scoring.total_score"),
        "各评分维度满分之和为105，与总分100不一致"
    );
}

#[test]
fn negative_numbers_are_refused() {
    let list = errors(&edit("max_score = 25", "max_score = -5"));
    assert!(reason_at(&list, "criteria[1].max_score").contains("不能为负数"));
    let list = errors(&edit(
        "op = \">=\", value = 100",
        "op = \">=\", value = -100",
    ));
    assert!(reason_at(&list, "eligibility.thresholds[0].value").contains("不能为负数"));
}

#[test]
fn impossible_due_dates() {
    let list = errors(&edit("due = \"01-31\"", "due = \"02-30\""));
    assert!(reason_at(&list, "reports.annual.due").contains("02-30"));
    let list = errors(&edit("due = \"07-31\"", "due = \"02-29\""));
    assert!(reason_at(&list, "reports.semi_annual.due").contains("并非每年都有"));
    for bad in ["13-01", "7-31", "0731", "07-32"] {
        let list = errors(&edit("due = \"07-31\"", &format!("due = \"{bad}\"")));
        reason_at(&list, "reports.semi_annual.due");
    }
}

#[test]
fn duplicate_and_empty_keys_and_names() {
    let list = errors(&edit("key = \"governance\"", "key = \"openness\""));
    assert_eq!(reason_at(&list, "criteria[5].key"), "键“openness”重复");
    let list = errors(&edit("key = \"total_profit\"", "key = \"cluster_revenue\""));
    reason_at(&list, "criteria[1].indicators[7].key");
    let list = errors(&edit("name = \"产业特色明显\"", "name = \"  \""));
    assert_eq!(reason_at(&list, "criteria[0].name"), "不能为空");
    let list = errors(&edit("name = \"初赛\"", "name = \"\""));
    reason_at(&list, "rounds[0].name");
    let list = errors(&edit("key = \"leading\"", "key = \"Leading Kind\""));
    reason_at(&list, "cluster_kinds[0].key");
}

#[test]
fn notice_panel_and_share_limits() {
    let list = errors(&edit("working_days = 5", "working_days = 0"));
    assert_eq!(
        reason_at(&list, "public_notice.working_days"),
        "公示期不能为0个工作日"
    );
    let list = errors(&edit(
        "min_experts = 5\nmax_experts = 7",
        "min_experts = 9\nmax_experts = 7",
    ));
    assert!(reason_at(&list, "rounds[0].panel.min_experts").contains("大于最多人数"));
    let text = SHIPPED.replace("defence_share = 0.4", "defence_share = 1.5");
    let list = errors(&text);
    reason_at(&list, "rounds[0].panel.defence_share");
    reason_at(&list, "rounds[1].panel.defence_share");
    let list = errors(&edit("trim_when_at_least = 5", "trim_when_at_least = 2"));
    reason_at(&list, "rounds[0].panel.trim_when_at_least");
}

#[test]
fn threshold_and_unit_references() {
    let list = errors(&edit(
        "indicator = \"cluster_revenue\"",
        "indicator = \"cluster_income\"",
    ));
    assert_eq!(
        reason_at(&list, "eligibility.thresholds[0].indicator"),
        "引用了不存在的指标“cluster_income”"
    );
    let list = errors(&edit(
        "indicator = \"cluster_revenue\"",
        "indicator = \"development_plan\"",
    ));
    reason_at(&list, "eligibility.thresholds[0].indicator");
    let list = errors(&edit(
        "unit = \"家\", value_type = \"integer\", required = false }",
        "unit = \"公顷\", value_type = \"integer\", required = false }",
    ));
    assert!(reason_at(&list, "criteria[0].indicators[2].unit").starts_with("取值“公顷”无效"));
    let list = errors(&edit(
        "unit = \"%\", value_type = \"percent\"",
        "unit = \"亿元\", value_type = \"percent\"",
    ));
    reason_at(&list, "criteria[1].indicators[1].unit");
}

#[test]
fn identity_checks() {
    let list = errors(&edit(
        "effective_to = 2026-04-06",
        "effective_to = 2026-03-14",
    ));
    assert!(reason_at(&list, "identity.effective_to").contains("2026-04-06"));
    let list = errors(&edit("format_version = 1", "format_version = 2"));
    reason_at(&list, "format_version");
    let list = errors(&edit("issuer = \"湖南省工业和信息化厅\"\n", ""));
    assert_eq!(reason_at(&list, "identity.issuer"), "缺少必填项“issuer”");
    // The TOML parser itself refuses an impossible date, with its line.
    let list = errors(&edit("published = 2021-04-07", "published = 2021-02-30"));
    assert!(list[0].line.is_some() && list[0].reason.starts_with("TOML 语法错误"));
    let list = errors(&edit(
        "published = 2021-04-07",
        "published = \"2021-02-30\"",
    ));
    assert!(reason_at(&list, "identity.published").contains("2021-02-30"));
    let list = errors(&edit(
        "published = 2021-04-07",
        "published = 2021-04-07T09:00:00",
    ));
    reason_at(&list, "identity.published");
    let list = errors(&edit("working_days = 5", "working_days = \"five\""));
    assert!(reason_at(&list, "public_notice.working_days").starts_with("类型错误：应为非负整数"));
    let list = errors(&edit("city_codes = [\"430100\"", "city_codes = [\"4301\""));
    reason_at(&list, "groupings[0].city_codes[0]");
    let list = errors(&edit("mode = \"warn\"", "mode = \"ignore\""));
    assert!(reason_at(&list, "quota.per_county.mode").contains("warn"));
}

#[test]
fn all_errors_are_collected_in_one_pass() {
    let text = without_openness()
        .replace("working_days = 5", "working_days = 0")
        .replace("due = \"01-31\"", "due = \"02-30\"")
        .replace(
            "min_experts = 5\nmax_experts = 7",
            "min_experts = 8\nmax_experts = 7",
        )
        .replace("indicator = \"cluster_revenue\"", "indicator = \"nope\"")
        .replace("cycle_years = 3\n", "cycle_years = 3\nextra = true\n")
        .replace(
            "key = \"industry_character\"\n",
            "key = \"industry_character\"\nweight = 3\n",
        )
        .replace(
            "key = \"leading\"\nname = \"优势产业集群\"\n",
            "key = \"leading\"\nname = \"优势产业集群\"\ncolour = 1\n",
        )
        .replace(
            "key = \"specialty\"\nname = \"特色产业集群\"\n",
            "key = \"specialty\"\n",
        );
    let list = errors(&text);
    for path in [
        "criteria",
        "scoring.total_score",
        "public_notice.working_days",
        "reports.annual.due",
        "rounds[0].panel.min_experts",
        "rounds[1].panel.min_experts",
        "eligibility.thresholds[0].indicator",
        "recheck.extra",
        "criteria[0].weight",
        "cluster_kinds[0].colour",
        "cluster_kinds[1].name",
    ] {
        reason_at(&list, path);
    }
    let shown = PolicyErrors(list.clone()).to_string();
    assert!(shown.starts_with(&format!("策略文件“测试.toml”有{}处错误：", list.len())));
}

#[test]
fn the_report_form_is_policy_data() {
    let p = shipped();
    let form = p.reports.form.as_ref().unwrap();
    let sections: Vec<&str> = form.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        sections,
        [
            "平台建设",
            "项目管理",
            "龙头企业",
            "产业链配套",
            "技术创新",
            "智能化",
            "品牌",
            "服务水平"
        ]
    );
    assert_eq!(form.reward_funds.name, "奖励资金使用情况");
    let revenue = form
        .indicators
        .iter()
        .find(|i| i.key == "period_revenue")
        .unwrap();
    assert_eq!(revenue.unit, Some(Unit::YiYuan));
    assert_eq!(revenue.value_type, ValueType::Decimal);
    assert!(
        form.indicators
            .iter()
            .any(|i| i.key == "new_little_giants" && i.value_type == ValueType::Integer)
    );
    assert_eq!(p.reports.escalate_to_province_after_working_days, Some(5));
}

#[test]
fn report_form_errors_name_their_key_paths() {
    let list = errors(&edit(
        "{ key = \"period_profit\", name = \"本期集群利润总额\", unit = \"亿元\", value_type = \"decimal\"",
        "{ key = \"period_revenue\", name = \"\", unit = \"%\", value_type = \"decimal\"",
    ));
    assert_eq!(
        reason_at(&list, "reports.form.indicators[2].key"),
        "键“period_revenue”重复"
    );
    assert_eq!(
        reason_at(&list, "reports.form.indicators[2].name"),
        "不能为空"
    );
    assert!(reason_at(&list, "reports.form.indicators[2].unit").contains("percent"));

    let list = errors(&edit(
        "{ key = \"brand\", name = \"品牌\", required = true }",
        "{ key = \"reward_funds\", name = \"品牌\", required = true, words = 3 }",
    ));
    assert_eq!(
        reason_at(&list, "reports.form.sections[6].words"),
        "未知的键“words”"
    );

    let list = errors(&edit(
        "{ key = \"brand\", name = \"品牌\", required = true }",
        "{ key = \"reward_funds\", name = \"品牌\", required = true }",
    ));
    assert_eq!(
        reason_at(&list, "reports.form.reward_funds.key"),
        "键“reward_funds”重复"
    );

    let list = errors(&edit(
        "escalate_to_province_after_working_days = 5",
        "escalate_to_province_after_working_days = 0",
    ));
    assert!(reason_at(&list, "reports.escalate_to_province_after_working_days").contains("1到60"));

    let list = errors(&edit(
        "{ key = \"new_projects\", name = \"本期新开工重大项目数\", unit = \"个\", value_type = \"integer\"",
        "{ key = \"new_projects\", name = \"本期新开工重大项目数\", unit = \"个\", value_type = \"count\"",
    ));
    assert!(reason_at(&list, "reports.form.indicators[7].value_type").contains("count"));
}

#[test]
fn a_policy_without_a_report_form_still_loads() {
    let start = SHIPPED.find("[reports.form]").unwrap();
    let end = SHIPPED.find("# 第十四条：每三年开展一次复核。").unwrap();
    let text = format!("{}{}", &SHIPPED[..start], &SHIPPED[end..]).replacen(
        "escalate_to_province_after_working_days = 5\n",
        "",
        1,
    );
    let p = Policy::parse(&text, "旧.toml").unwrap();
    assert!(p.reports.form.is_none());
    assert_eq!(p.reports.escalate_to_province_after_working_days, None);
}

#[test]
fn report_flag_rules_are_checked_against_the_form_and_the_thresholds() {
    let p = shipped();
    let flags = p.reports.flags.as_ref().unwrap();
    assert_eq!(flags.year_on_year_change_percent, 50.0);
    assert!(flags.cumulative.contains(&"period_revenue".to_string()));
    let list = errors(&edit(
        "year_on_year_change_percent = 50",
        "year_on_year_change_percent = 0",
    ));
    assert!(reason_at(&list, "reports.flags.year_on_year_change_percent").contains("大于0"));
    let list = errors(&edit(
        "cumulative = [\"period_revenue\",",
        "cumulative = [\"revenue_typo\",",
    ));
    assert_eq!(
        reason_at(&list, "reports.flags.cumulative[0]"),
        "“revenue_typo”不是报告表单中的数值指标"
    );
    let list = errors(&edit(
        "{ eligibility = \"cluster_revenue\", indicator = \"period_revenue\" }",
        "{ eligibility = \"total_profit\", indicator = \"period_revenue\" }",
    ));
    assert!(reason_at(&list, "reports.flags.thresholds[0].eligibility").contains("total_profit"));
}

#[test]
fn the_summary_names_the_report_form_escalation_and_flags() {
    let s = shipped().summary();
    assert!(s.contains("逾期5个工作日告知省工信厅"), "{s}");
    assert!(s.contains("报告内容：10项指标；平台建设、项目管理"), "{s}");
    assert!(s.contains("同比变化超过±50%"), "{s}");
}
#[test]
fn the_revocation_procedure_keys_are_checked_and_optional() {
    let text = SHIPPED.to_string();
    let list = errors(
        &text
            .replace("response_working_days = 10", "response_working_days = 0")
            .replace("撤〔{year}〕{seq}号", "撤〔{year}〕号"),
    );
    reason_at(&list, "revocation.response_working_days");
    assert!(reason_at(&list, "revocation.decision_number").contains("{seq}"));
    // A policy text bound before the keys existed still loads; it simply has no procedure.
    let older = text
        .replace("response_working_days = 10\n", "")
        .replace("decision_number = \"湘工信集群撤〔{year}〕{seq}号\"\n", "");
    let p = Policy::parse(&older, "旧版.toml").unwrap();
    assert_eq!(p.revocation.response_working_days, None);
    assert_eq!(p.revocation.decision_number_of(2026, 1), None);
}
#[test]
fn wording_and_programme_numbers_are_checked_with_key_paths() {
    let p = shipped();
    let w = p.wording().unwrap();
    assert_eq!(w.certified_certificate_prefix, "湘集群认");
    assert_eq!(p.submission_reminder_days(), [3, 1]);
    assert_eq!(p.review_reminder_days(), [3]);
    assert_eq!(p.outlier_gap_share(), Some(0.15));
    assert_eq!(p.required_attachments().len(), 2);
    let list = errors(
        &edit("outlier_gap_share = 0.15", "outlier_gap_share = 1.5")
            .replacen(
                "review_reminder_days = [3]",
                "review_reminder_days = [0]",
                1,
            )
            .replacen(
                "certified_certificate_prefix = \"湘集群认\"",
                "certified_certificate_prefix = \"湘集群培\"",
                1,
            )
            .replacen(
                "contact_office = \"湖南省工业和信息化厅产业集聚推进处\"",
                "contact_office = \" \"",
                1,
            )
            .replacen("{ purpose = \"pledge\"", "{ purpose = \"seal\"", 1)
            .replacen("version = 5", "version = 0", 1),
    );
    for path in [
        "scoring.outlier_gap_share",
        "competition.review_reminder_days[0]",
        "wording.certified_certificate_prefix",
        "wording.contact_office",
        "eligibility.required_attachments[1].purpose",
        "identity.version",
    ] {
        reason_at(&list, path);
    }
    // A text from before these keys existed loads and takes the shipped file's values.
    let old =
        SHIPPED
            .split("\n[wording]")
            .next()
            .unwrap()
            .replacen("outlier_gap_share = 0.15\n", "", 1);
    let p = Policy::parse(&old, "旧文本.toml").unwrap();
    assert!(p.wording.is_none());
    assert_eq!(
        p.wording().unwrap().cultivation_target_certificate_prefix,
        "湘集群培"
    );
    assert_eq!(p.outlier_gap_share(), Some(0.15));
}

#[test]
fn the_successor_template_repeats_the_2021_rules_under_a_new_identity() {
    let (origin, text) = super::SUCCESSOR_TEMPLATE_SOURCE;
    let template = Policy::parse(text, origin).unwrap();
    let shipped = shipped();
    assert_ne!(template.id(), shipped.id());
    assert!(
        template.identity.name.contains("模板"),
        "{}",
        template.identity.name
    );
    // In force the day after the 2021 Measures ended, for the same term.
    let ended = shipped.effective_to().unwrap();
    assert_eq!(template.identity.effective_from, ended.next_day().unwrap());
    assert_eq!(template.effective_to(), Some(date!(2031 - 04 - 06)));
    // Every rule is the 2021 one until the department writes the new text in.
    let same_rules = Policy {
        identity: shipped.identity.clone(),
        origin: shipped.origin.clone(),
        ..template
    };
    assert_eq!(same_rules, shipped);
}

#[test]
fn the_city_template_is_a_city_text_of_one_round_without_city_review() {
    let (origin, text) = super::CITY_TEMPLATE_SOURCE;
    let p = Policy::parse(text, origin).unwrap();
    assert_eq!(p.organiser_level(), OrganiserLevel::City);
    assert_eq!(p.city_title(), Some("市级先进制造业集群"));
    assert!(p.identity.name.contains("模板"), "{}", p.identity.name);
    assert_eq!(p.rounds.len(), 1);
    assert_eq!(p.rounds[0].entrants, Entrants::Submitted);
    assert_eq!(p.rounds[0].outcome, Outcome::CityTitle);
    // Its panel is the city's own pool: the same-city conflict is off, and on by default.
    assert!(!p.rounds[0].panel.same_city_conflict());
    assert!(
        p.summary().contains("与集群同属一个市州的专家无需回避"),
        "{}",
        p.summary()
    );
    assert!(
        shipped()
            .rounds
            .iter()
            .all(|r| r.panel.same_city_conflict())
    );
    assert!(p.groupings.is_empty());
    // The provincial text is a province-level one, with no city title.
    assert_eq!(shipped().organiser_level(), OrganiserLevel::Province);
    assert_eq!(shipped().city_title(), None);
}

#[test]
fn a_city_text_numbers_and_issues_certificates_in_the_citys_name() {
    let (origin, text) = super::CITY_TEMPLATE_SOURCE;
    let p = Policy::parse(text, origin).unwrap();
    assert_eq!(
        p.city_certificate_prefix("长沙市").as_deref(),
        Some("长沙市集群认")
    );
    assert_eq!(
        p.city_certificate_issuer("长沙市").as_deref(),
        Some("长沙市工业和信息化局")
    );
    assert_eq!(shipped().city_certificate_prefix("长沙市"), None);
    // A city text installed before the keys existed takes the template's.
    let older = text
        .replacen("certificate_prefix = \"{city}集群认\"\n", "", 1)
        .replacen("certificate_issuer = \"{city}工业和信息化局\"\n", "", 1);
    let older = Policy::parse(&older, origin).unwrap();
    assert_eq!(
        older.city_certificate_prefix("岳阳市").as_deref(),
        Some("岳阳市集群认")
    );
    // A prefix without the city's name would number two cities' certificates alike.
    for broken in [
        "市级集群认",
        "{city}{city}认",
        "{city}",
        "{city}集群 认",
        "{city}集群{x}",
    ] {
        let text = text.replacen("\"{city}集群认\"", &format!("\"{broken}\""), 1);
        let errs = Policy::parse(&text, origin).unwrap_err();
        assert!(
            errs.0
                .iter()
                .any(|e| e.key_path == "organiser.certificate_prefix"),
            "{broken}: {errs:?}"
        );
    }
}

#[test]
fn only_a_city_text_switches_the_same_city_conflict_off() {
    let list = errors(&edit(
        "normalise = \"none\"\n",
        "normalise = \"none\"\nsame_city_conflict = false\n",
    ));
    let reason = reason_at(&list, "rounds[0].panel.same_city_conflict");
    assert!(reason.contains("只能用于市级竞赛"), "{reason}");
    // Saying the default out loud is fine.
    Policy::parse(
        &edit(
            "normalise = \"none\"\n",
            "normalise = \"none\"\nsame_city_conflict = true\n",
        ),
        "测试.toml",
    )
    .unwrap();
}

#[test]
fn city_rounds_and_titles_belong_to_city_texts_only() {
    let (origin, text) = super::CITY_TEMPLATE_SOURCE;
    // A city text that keeps the city's recommendation, or confers no title, is refused.
    let broken = text
        .replacen(
            "\nentrants = \"submitted\"",
            "\nentrants = \"recommended\"",
            1,
        )
        .replacen("title = \"市级先进制造业集群\"\n", "", 1);
    let errs = Policy::parse(&broken, origin).unwrap_err();
    let paths: Vec<&str> = errs.0.iter().map(|e| e.key_path.as_str()).collect();
    assert!(paths.contains(&"organiser.title"), "{paths:?}");
    assert!(paths.contains(&"rounds[0].entrants"), "{paths:?}");
    // A provincial text cannot skip the city's recommendation.
    let (origin, text) = BUILTIN_POLICY_SOURCES[0];
    let broken = text.replacen(
        "\nentrants = \"recommended\"",
        "\nentrants = \"submitted\"",
        1,
    );
    let errs = Policy::parse(&broken, origin).unwrap_err();
    assert!(errs.0.iter().any(|e| e.key_path == "rounds[0]"), "{errs:?}");
}

#[test]
fn reward_defaults_are_read_and_checked() {
    let p = shipped();
    let r = p.funding.as_ref().and_then(|f| f.rewards.as_ref()).unwrap();
    assert_eq!(r.fund, "湖南省制造强省专项资金");
    assert_eq!(
        (r.cultivation_target_yuan, r.certified_yuan),
        (1_000_000, 5_000_000)
    );
    assert_eq!(r.source, Source::ProvinceDefault);
    let list = errors(&edit(
        "fund = \"湖南省制造强省专项资金\"",
        "fund = \"不存在的资金\"",
    ));
    assert!(reason_at(&list, "funding.rewards.fund").contains("不存在的资金"));
    let list = errors(&edit("certified_yuan = 5000000", "certified_yuan = 0"));
    reason_at(&list, "funding.rewards.certified_yuan");
    let list = errors(&edit(
        "certified_yuan = 5000000",
        "certified_yuan = 5000000\nbonus = 1",
    ));
    reason_at(&list, "funding.rewards.bonus");
    // A text without rewards still loads (an older programme's file).
    let older = SHIPPED.split("[funding.rewards]").collect::<Vec<_>>();
    let rest = older[1].split_once("\n\n").map_or("", |(_, r)| r);
    let p = Policy::parse(&format!("{}\n{rest}", older[0]), "older.toml").unwrap();
    assert!(p.funding.unwrap().rewards.is_none());
}
#[test]
fn the_recheck_pass_mark_and_notice_have_defaults_and_are_checked() {
    let p = shipped();
    assert_eq!(p.recheck_pass_mark(), 60.0);
    assert_eq!(p.recheck_notice_days(), p.public_notice.working_days);
    let text = SHIPPED.replace(
        "cycle_years = 3\n",
        "cycle_years = 3\npass_mark = 75\nnotice_working_days = 7\n",
    );
    let p = Policy::parse(&text, "复核.toml").unwrap();
    assert_eq!(p.recheck_pass_mark(), 75.0);
    assert_eq!(p.recheck_notice_days(), 7);
    let list = errors(&SHIPPED.replace(
        "cycle_years = 3\n",
        "cycle_years = 3\npass_mark = 101\nnotice_working_days = 0\n",
    ));
    reason_at(&list, "recheck.pass_mark");
    reason_at(&list, "recheck.notice_working_days");
}

/// The shipped text with per-kind maxima, a specialty-only value, a leading-only threshold,
/// floors and z-score normalisation.
fn with_kinds_and_floors() -> String {
    edit(
        "max_score = 25\nsource = \"province-default\"",
        "max_score = 25\nmax_score_by_kind = { specialty = 20 }\nfloor_share = 0.5\nsource = \"province-default\"",
    )
    .replacen(
        "max_score = 20\nsource = \"province-default\"",
        "max_score = 20\nmax_score_by_kind = { specialty = 25 }\nsource = \"province-default\"",
        1,
    )
    .replacen(
        "outlier_gap_share = 0.15\n",
        "outlier_gap_share = 0.15\nfloor_share = 0.6\n",
        1,
    )
    .replacen(
        "message = \"集群营业收入应不低于100亿元\", source",
        "message = \"集群营业收入应不低于100亿元\", value_by_kind = { specialty = 50 }, source",
        1,
    )
    .replacen(
        "message = \"链主企业年营业收入应不低于10亿元\", source",
        "message = \"链主企业年营业收入应不低于10亿元\", kinds = [\"leading\"], source",
        1,
    )
    .replacen("\nnormalise = \"none\"", "\nnormalise = \"z_score\"", 1)
}

#[test]
fn maxima_thresholds_and_floors_may_differ_per_kind() {
    let p = Policy::parse(&with_kinds_and_floors(), "kinds.toml").unwrap();
    let scale = p.criterion("scale_and_benefit").unwrap();
    assert_eq!(
        (
            scale.max_score_for("leading"),
            scale.max_score_for("specialty")
        ),
        (25, 20)
    );
    let innovation = p.criterion("collaborative_innovation").unwrap();
    assert_eq!(innovation.max_score_for("specialty"), 25);
    // The criterion's own floor share, else the programme's, of the kind's maximum.
    assert_eq!(p.floor_of(scale, "specialty"), Some(10.0));
    assert_eq!(p.floor_of(innovation, "specialty"), Some(0.6 * 25.0));
    let plain = shipped();
    assert_eq!(
        plain.floor_of(plain.criterion("scale_and_benefit").unwrap(), "leading"),
        None
    );
    assert_eq!(p.rounds[0].panel.normalise, Normalise::ZScore);
    assert_eq!(shipped().rounds[0].panel.normalise, Normalise::None);

    let values: BTreeMap<&str, f64> = [
        ("cluster_revenue", 60.0),
        ("chain_leader_revenue", 5.0),
        ("chain_leaders_in_core_park", 1.0),
    ]
    .into();
    let value_of = |k: &str| values.get(k).copied();
    let fields = |kind| -> Vec<(String, String)> {
        p.check_thresholds_for(Some(kind), None, value_of)
            .into_iter()
            .map(|e| (e.indicator, e.message))
            .collect()
    };
    // 特色: 60 ≥ 50 and the chain-leader threshold is for 优势 only.
    assert!(fields("specialty").is_empty(), "{:?}", fields("specialty"));
    assert_eq!(
        fields("leading"),
        vec![
            (
                "cluster_revenue".into(),
                "集群营业收入应不低于100亿元".into()
            ),
            (
                "chain_leader_revenue".into(),
                "链主企业年营业收入应不低于10亿元".into()
            ),
        ]
    );
    let low: BTreeMap<&str, f64> = [("cluster_revenue", 40.0)].into();
    let problems = p.check_thresholds_for(Some("specialty"), None, |k| low.get(k).copied());
    assert_eq!(problems[0].message, "集群营业收入应不低于50亿元");
}

#[test]
fn per_kind_values_name_only_known_kinds_and_still_add_up() {
    let list =
        errors(&with_kinds_and_floors().replacen("{ specialty = 20 }", "{ emerging = 20 }", 1));
    assert!(reason_at(&list, "criteria[1].max_score_by_kind.emerging").contains("emerging"));
    let list =
        errors(&with_kinds_and_floors().replacen("{ specialty = 25 }", "{ specialty = 30 }", 1));
    assert!(reason_at(&list, "scoring.total_score").contains("specialty"));
    let list =
        errors(&with_kinds_and_floors().replacen("kinds = [\"leading\"]", "kinds = [\"big\"]", 1));
    assert!(reason_at(&list, "eligibility.thresholds[1].kinds[0]").contains("big"));
    let list = errors(&with_kinds_and_floors().replacen("kinds = [\"leading\"]", "kinds = []", 1));
    reason_at(&list, "eligibility.thresholds[1].kinds");
    let list = errors(&with_kinds_and_floors().replacen(
        "value_by_kind = { specialty = 50 }",
        "value_by_kind = { small = 50 }",
        1,
    ));
    reason_at(&list, "eligibility.thresholds[0].value_by_kind.small");
    // A value for a kind the threshold does not apply to.
    let list = errors(&with_kinds_and_floors().replacen(
        "kinds = [\"leading\"], source",
        "kinds = [\"leading\"], value_by_kind = { specialty = 5 }, source",
        1,
    ));
    reason_at(&list, "eligibility.thresholds[1].value_by_kind.specialty");
    let list = errors(&with_kinds_and_floors().replacen(
        "value_by_kind = { specialty = 50 }",
        "value_by_kind = { specialty = 50 }, message_by_kind = { leading = \"x\" }",
        1,
    ));
    reason_at(&list, "eligibility.thresholds[0].message_by_kind.leading");
    for (from, to, path) in [
        (
            "floor_share = 0.6",
            "floor_share = 1.5",
            "scoring.floor_share",
        ),
        (
            "floor_share = 0.5",
            "floor_share = 0",
            "criteria[1].floor_share",
        ),
    ] {
        let list = errors(&with_kinds_and_floors().replacen(from, to, 1));
        assert!(reason_at(&list, path).contains("底线"));
    }
    let list = errors(&with_kinds_and_floors().replacen(
        "normalise = \"z_score\"",
        "normalise = \"rank\"",
        1,
    ));
    reason_at(&list, "rounds[0].panel.normalise");
}

#[test]
fn a_call_may_only_tighten_the_policy() {
    let p = Policy::parse(&with_kinds_and_floors(), "kinds.toml").unwrap();
    let call = CallRules {
        thresholds: vec![
            CallThreshold {
                indicator: "cluster_revenue".into(),
                kind: "specialty".into(),
                value: 80.0,
            },
            CallThreshold {
                indicator: "cluster_revenue".into(),
                kind: "leading".into(),
                value: 100.0,
            },
        ],
        quotas: [("leading".to_string(), 2)].into(),
        attachments: vec![RequiredAttachment {
            purpose: "evidence".into(),
            name: "佐证材料汇编".into(),
        }],
        requirements: "须附2025年度统计年报".into(),
    };
    assert!(
        p.check_call_rules(&call).is_empty(),
        "{:?}",
        p.check_call_rules(&call)
    );
    let found = p.thresholds_for(Some("specialty"), Some(&call));
    assert_eq!(
        (found[0].value, found[0].policy_value, found[0].from_call),
        (80.0, 50.0, true)
    );
    assert_eq!(found[0].message, "集群营业收入应不低于80亿元");
    // The same value as the policy's keeps the policy's message.
    let same = p.thresholds_for(Some("leading"), Some(&call));
    assert_eq!((same[0].value, same[0].from_call), (100.0, false));
    assert_eq!(same[0].message, "集群营业收入应不低于100亿元");
    let files: Vec<String> = p
        .required_attachments_for(Some(&call))
        .into_iter()
        .map(|a| a.purpose)
        .collect();
    assert_eq!(files, ["report", "pledge", "evidence"]);
    assert_eq!(
        (
            call.cap_quota("leading", 3),
            call.cap_quota("leading", 1),
            call.cap_quota("specialty", 4)
        ),
        (2, 1, 4)
    );

    let looser = CallRules {
        thresholds: vec![
            CallThreshold {
                indicator: "cluster_revenue".into(),
                kind: "specialty".into(),
                value: 40.0,
            },
            CallThreshold {
                indicator: "chain_leader_revenue".into(),
                kind: "specialty".into(),
                value: 20.0,
            },
            CallThreshold {
                indicator: "cluster_revenue".into(),
                kind: "medium".into(),
                value: 200.0,
            },
        ],
        quotas: [("leading".to_string(), 0), ("tiny".to_string(), 2)].into(),
        attachments: vec![
            RequiredAttachment {
                purpose: "report".into(),
                name: "又一份报告".into(),
            },
            RequiredAttachment {
                purpose: "photos".into(),
                name: "照片".into(),
            },
        ],
        requirements: String::new(),
    };
    let problems: BTreeMap<String, String> = p.check_call_rules(&looser).into_iter().collect();
    assert_eq!(
        problems["threshold.cluster_revenue.specialty"],
        "特色产业集群“集群营业收入”门槛不能比办法规定的≥50更宽松"
    );
    assert!(problems["threshold.chain_leader_revenue.specialty"].contains("没有"));
    assert!(problems["threshold.cluster_revenue.medium"].contains("medium"));
    assert!(problems["quota.leading"].contains("至少为1"));
    assert!(problems["quota.tiny"].contains("tiny"));
    assert!(problems["attachment.report"].contains("已要求"));
    assert!(problems["attachment.photos"].contains("photos"));
    // A looser value the check let through (an old record) is never applied.
    let stale = p.thresholds_for(Some("specialty"), Some(&looser));
    assert_eq!((stale[0].value, stale[0].from_call), (50.0, false));
}

#[test]
fn the_summary_names_per_kind_values_floors_and_normalisation() {
    let p = Policy::parse(&with_kinds_and_floors(), "kinds.toml").unwrap();
    let s = p.summary();
    assert!(s.contains("（特色产业集群20分）"), "{s}");
    assert!(s.contains("底线为满分的50%"), "{s}");
    assert!(s.contains("各项底线：满分的60%"), "{s}");
    assert!(s.contains("（特色产业集群≥ 50亿元）"), "{s}");
    assert!(s.contains("（仅优势产业集群）"), "{s}");
    assert!(s.contains("先标准化（z分数）"), "{s}");
    assert!(!shipped().summary().contains("底线"));
}

#[test]
fn a_city_is_tagged_with_the_groupings_that_take_it_in() {
    let p = builtin_policies().unwrap().remove(0);
    for (city, tags) in [
        ("430100", vec!["长株潭"]),
        ("430200", vec!["长株潭"]),
        ("430300", vec!["长株潭"]),
        ("430400", vec![]),
        ("430600", vec![]),
        ("433100", vec![]),
    ] {
        assert_eq!(p.groupings_of_city(city), tags, "{city}");
    }
    assert_eq!(
        p.grouping_cities("changzhutan"),
        ["430100", "430200", "430300"]
    );
    assert!(p.grouping_cities("none").is_empty());
    let mut without = p.clone();
    without.groupings.clear();
    assert!(without.groupings_of_city("430100").is_empty());
}

#[test]
fn the_per_county_cap_says_which_divisions_it_counts_and_older_texts_count_all() {
    let p = builtin_policies().unwrap().remove(0);
    assert_eq!(p.identity.version, 5);
    let d = p.quota.per_county.divisions.as_ref().unwrap();
    assert_eq!(d.counts, CapCounts::Counties);
    assert_eq!(d.source, Source::ProvinceDefault);
    assert_eq!(p.quota.per_county.counts(), CapCounts::Counties);
    // A text written before the key (version 4) still loads and caps every division.
    let (_, text) = BUILTIN_POLICY_SOURCES[0];
    let start = text.find("[quota.per_county.divisions]").unwrap();
    let end = start + text[start..].find("\n\n").unwrap();
    let old =
        format!("{}{}", &text[..start], &text[end + 2..]).replacen("version = 5", "version = 4", 1);
    let p4 = Policy::parse(&old, "v4").unwrap();
    assert_eq!(p4.quota.per_county.divisions, None);
    assert_eq!(p4.quota.per_county.counts(), CapCounts::All);
    // An unknown value is refused at its key path.
    let list = errors(&edit("counts = \"counties\"", "counts = \"districts\""));
    reason_at(&list, "quota.per_county.divisions.counts");
}

#[test]
fn the_national_programme_loads_with_its_own_shape() {
    let (origin, text) = super::PROGRAMME_POLICY_SOURCES[0];
    let p = Policy::parse(text, origin).unwrap();
    assert_eq!(p.id(), "national-sme-2022");
    assert_eq!(p.identity.document_number, "工信部企业〔2022〕119号");
    assert_eq!(p.effective_to(), None, "暂行办法 names no end date");
    let pr = p.procedure.clone().unwrap();
    assert_eq!(pr.applicant, Applicant::CountyBureau);
    assert_eq!(pr.first_review, FirstReview::Province);
    assert!(pr.field_check);
    assert_eq!(pr.outcome, ProgrammeOutcome::Ministry);
    let cap = pr.recommendation.unwrap();
    assert_eq!((cap.max, cap.source), (8, Source::Notice));
    assert!(cap.message.contains("不超过8个"));
    let title = pr.title.unwrap();
    assert_eq!((title.validity_years, title.source), (3, Source::Measures));
    assert!(!p.designates_by_rounds());
    // Yearly figures only, due 30 April; a recheck every three years.
    assert_eq!(p.reports.annual.due, "04-30");
    assert!(p.reports.semi_annual.is_none());
    assert_eq!(p.recheck.cycle_years, 3);
    // The yearly return has its own form; fraud may end a term early, the other grounds close it.
    let form = p.reports.form.clone().unwrap();
    assert!(form.indicators.iter().any(|i| i.key == "year_revenue"));
    let early: Vec<&str> = p
        .revocation
        .reasons
        .iter()
        .filter(|r| r.during_term)
        .map(|r| r.key.as_str())
        .collect();
    assert_eq!(early, ["fraud"]);
    // The summary prints the notice's values as such.
    assert!(p.summary().contains("〔通知〕"), "{}", p.summary());
    // The 2021 Measures keep the provincial shape.
    let hunan = shipped();
    assert!(hunan.procedure.is_none());
    assert!(hunan.designates_by_rounds());
    assert_eq!(
        hunan.procedure_or_default().applicant,
        Applicant::PromotionOrg
    );
}

#[test]
fn a_ministry_outcome_needs_its_cap_and_title() {
    let (origin, text) = super::PROGRAMME_POLICY_SOURCES[0];
    let broken = text
        .replace(
            "[procedure.recommendation]\nmax = 8",
            "[procedure.recommendation]\nmax = 0",
        )
        .replace("validity_years = 3", "validity_years = 0");
    let errs = Policy::parse(&broken, origin).unwrap_err();
    let paths: Vec<&str> = errs.0.iter().map(|e| e.key_path.as_str()).collect();
    assert!(paths.contains(&"procedure.recommendation.max"), "{paths:?}");
    assert!(
        paths.contains(&"procedure.title.validity_years"),
        "{paths:?}"
    );
    let (start, _) = text.split_once("[procedure.title]").unwrap();
    let (_, rest) = text.split_once("# The 认定标准").unwrap();
    let untitled = format!("{start}# The 认定标准{rest}");
    let errs = Policy::parse(&untitled, origin).unwrap_err();
    assert!(
        errs.0.iter().any(|e| e.key_path == "procedure.title"),
        "{errs}"
    );
}
