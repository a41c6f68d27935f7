//! The versioned policy file: the numbers and lists of 《湖南省先进制造业集群培育管理办法》
//! (or another province's equivalent) as data, so each competition can be bound to the
//! policy version it ran under. See `policies/hunan-2021.toml` for the annotated format.

mod call;
mod load;
mod summary;
#[cfg(test)]
mod tests;
mod validate;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

pub use call::{CallRules, CallThreshold, EffectiveThreshold};

/// The policy files compiled into the binary: (origin, text). The text is exposed so a
/// competition can store the exact policy it was bound to.
pub const BUILTIN_POLICY_SOURCES: &[(&str, &str)] = &[(
    "policies/hunan-2021.toml",
    include_str!("../../../../policies/hunan-2021.toml"),
)];

/// Other programmes the province takes part in, shipped and installed beside the built-in
/// policies and offered to new calls, but never the installation's current policy (their
/// outcome is another body's, see `Policy::designates_by_rounds`): the national 中小企业特色产业
/// 集群 programme as a province handles its part.
pub const PROGRAMME_POLICY_SOURCES: &[(&str, &str)] = &[(
    "policies/national-sme-2022.toml",
    include_str!("../../../../policies/national-sme-2022.toml"),
)];

/// A template for the successor of the expired 2021 Measures: the 2021 rules under a new
/// identity for the department to fill in. Not built in (a real installation never offers it by
/// itself); the demo installs it so a demonstration runs under a policy in force.
pub const SUCCESSOR_TEMPLATE_SOURCE: (&str, &str) = (
    "policies/hunan-successor-template.toml",
    include_str!("../../../../policies/hunan-successor-template.toml"),
);

/// A template for a city bureau's own competition (第十六条 分级培育): one round of submitted
/// applications (no separate city 初审) conferring the city-level title. Not built in; the
/// system administrator installs it (or a city's filled-in copy) for the city bureaus.
pub const CITY_TEMPLATE_SOURCE: (&str, &str) = (
    "policies/city-template.toml",
    include_str!("../../../../policies/city-template.toml"),
);

/// The format version this crate reads.
pub const FORMAT_VERSION: u32 = 1;

/// One thing wrong with a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// Where the text came from (a path or a label such as "上传文件").
    pub file: String,
    /// The key path, e.g. "criteria[2].max_score" or "reports.annual.due";
    /// empty for a syntax error that has no key.
    pub key_path: String,
    /// 1-based line, known for TOML syntax errors.
    pub line: Option<usize>,
    /// What is wrong, in Chinese.
    pub reason: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, " 第{line}行")?;
        }
        if !self.key_path.is_empty() {
            write!(f, " {}", self.key_path)?;
        }
        write!(f, "：{}", self.reason)
    }
}

impl std::error::Error for PolicyError {}

/// Every problem found in one policy file (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.0.first().map_or("", |e| e.file.as_str());
        write!(f, "策略文件“{file}”有{}处错误：", self.0.len())?;
        for e in &self.0 {
            write!(f, "\n  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

/// Where a table's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Fixed by the text of the Measures.
    Measures,
    /// Current provincial practice or a placeholder default.
    ProvinceDefault,
    /// A yearly notice issued under the measures (e.g. the number each province may recommend).
    Notice,
    /// A city bureau's own default for its city-level competition (第十六条), to be set by
    /// the city.
    CityDefault,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Measures => "办法规定",
            Source::ProvinceDefault => "省级默认",
            Source::Notice => "年度通知",
            Source::CityDefault => "市级默认",
        }
    }
}

fn first_version() -> u32 {
    1
}

/// A parsed, validated policy.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub format_version: u32,
    pub identity: Identity,
    pub cluster_kinds: Vec<ClusterKind>,
    pub scoring: Scoring,
    pub criteria: Vec<Criterion>,
    pub eligibility: Eligibility,
    pub competition: Competition,
    pub rounds: Vec<Round>,
    pub public_notice: PublicNotice,
    pub reports: Reports,
    pub recheck: Recheck,
    pub revocation: Revocation,
    pub quota: Quota,
    #[serde(default)]
    pub groupings: Vec<Grouping>,
    #[serde(default)]
    pub funding: Option<Funding>,
    /// The programme's wording the system prints (titles, certificates, contact office).
    /// Optional in the format so texts bound before it existed still load.
    #[serde(default)]
    pub wording: Option<Wording>,
    /// Who applies, who does the 初审 and what the programme ends in, when it is not the
    /// provincial competition of 82号 (absent = promotion organisations apply, the city bureau
    /// reviews, the province's rounds designate).
    #[serde(default)]
    pub procedure: Option<Procedure>,
    /// Who organises a competition under this text (第十六条): the province (absent) or a city
    /// bureau for its own city, with the title its designation confers.
    #[serde(default)]
    pub organiser: Option<Organiser>,
    /// Where the text was loaded from (not part of the file).
    #[serde(skip)]
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Stable id a competition is bound to, e.g. "hunan-2021".
    pub id: String,
    /// The text's version under its id: a changed text is installed under a higher version, so
    /// an installed text is never silently replaced (absent = 1).
    #[serde(default = "first_version")]
    pub version: u32,
    pub name: String,
    pub document_number: String,
    pub issuer: String,
    /// GB/T 2260 code of the province, e.g. "430000".
    pub region_code: String,
    #[serde(deserialize_with = "load::de_date")]
    pub issued: Date,
    #[serde(deserialize_with = "load::de_date")]
    pub published: Date,
    #[serde(deserialize_with = "load::de_date")]
    pub effective_from: Date,
    #[serde(default)]
    pub validity_years: Option<u32>,
    /// Last day in force (inclusive). When absent it is computed from `validity_years`.
    #[serde(default, deserialize_with = "load::de_opt_date")]
    pub effective_to: Option<Date>,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterKind {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    /// The stated total; the criteria maxima must add up to it.
    pub total_score: u32,
    /// At least this many criteria must be defined.
    pub required_criteria: u32,
    /// A round total further than this share of `total_score` from the mean of the others is
    /// flagged for the province to look at (0 < share < 1).
    #[serde(default)]
    pub outlier_gap_share: Option<f64>,
    /// The programme's default floor (第六条: the conditions are met 同时): an entrant whose
    /// aggregated score on a criterion is below this share of the criterion's maximum is not
    /// among the winners. A criterion may set its own; absent on both = no floor.
    #[serde(default)]
    pub floor_share: Option<f64>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub key: String,
    pub name: String,
    pub article: String,
    pub max_score: u32,
    /// A different maximum for some cluster kinds (by kind key); the others use `max_score`.
    #[serde(default)]
    pub max_score_by_kind: BTreeMap<String, u32>,
    /// This criterion's floor as a share of its maximum (0 < share ≤ 1); absent = the
    /// programme's `scoring.floor_share`.
    #[serde(default)]
    pub floor_share: Option<f64>,
    pub source: Source,
    pub indicators: Vec<Indicator>,
}

impl Criterion {
    /// The maximum for an entrant of `kind`.
    pub fn max_score_for(&self, kind: &str) -> u32 {
        self.max_score_by_kind
            .get(kind)
            .copied()
            .unwrap_or(self.max_score)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub key: String,
    pub name: String,
    /// Absent only for text indicators.
    #[serde(default)]
    pub unit: Option<Unit>,
    pub value_type: ValueType,
    pub required: bool,
    /// Only clusters of these kinds report it (e.g. a 细分领域 market share for 特色 clusters);
    /// absent = every kind.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
}

impl Indicator {
    /// Whether a cluster of `kind` reports this indicator (every kind when none is known).
    pub fn applies_to(&self, kind: Option<&str>) -> bool {
        match (&self.kinds, kind) {
            (Some(kinds), Some(kind)) => kinds.iter().any(|k| k == kind),
            _ => true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Unit {
    #[serde(rename = "亿元")]
    YiYuan,
    #[serde(rename = "万元")]
    WanYuan,
    #[serde(rename = "家")]
    Enterprises,
    #[serde(rename = "件")]
    Items,
    #[serde(rename = "%")]
    Percent,
    #[serde(rename = "个")]
    Count,
    #[serde(rename = "人")]
    People,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::YiYuan => "亿元",
            Unit::WanYuan => "万元",
            Unit::Enterprises => "家",
            Unit::Items => "件",
            Unit::Percent => "%",
            Unit::Count => "个",
            Unit::People => "人",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    Integer,
    Decimal,
    Percent,
    Text,
    /// A manufacturing division code of GB/T 4754 (C13–C43), picked from the table.
    IndustryCode,
}

impl ValueType {
    /// Whether values of this type are numbers (thresholds, sums, charts).
    pub fn is_number(self) -> bool {
        !matches!(self, ValueType::Text | ValueType::IndustryCode)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    #[serde(default)]
    pub thresholds: Vec<Threshold>,
    /// Items the applicant attests do not apply to it.
    #[serde(default)]
    pub negative_list: Vec<NegativeItem>,
    /// Files an application must carry before it can be submitted, by upload purpose.
    #[serde(default)]
    pub required_attachments: Option<Vec<RequiredAttachment>>,
}

/// The upload purposes an application has (the upload path knows these).
pub const ATTACHMENT_PURPOSES: [&str; 3] = ["report", "pledge", "evidence"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredAttachment {
    /// One of `ATTACHMENT_PURPOSES`.
    pub purpose: String,
    /// Named to the applicant: "请上传{name}".
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Key of a numeric indicator.
    pub indicator: String,
    pub op: CompareOp,
    pub value: f64,
    /// Shown to the applicant when the threshold is not met.
    pub message: String,
    /// Only entrants of these cluster kinds are held to it; absent = every kind.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    /// A different value for some kinds (by kind key).
    #[serde(default)]
    pub value_by_kind: BTreeMap<String, f64>,
    /// The message for a kind with its own value; absent = worded from the indicator.
    #[serde(default)]
    pub message_by_kind: BTreeMap<String, String>,
    pub source: Source,
}

impl Threshold {
    /// Whether an entrant of `kind` is held to it (`None`: kind unknown, only general ones).
    pub fn applies_to(&self, kind: Option<&str>) -> bool {
        match (&self.kinds, kind) {
            (None, _) => true,
            (Some(kinds), Some(kind)) => kinds.iter().any(|k| k == kind),
            (Some(_), None) => false,
        }
    }

    /// The value for an entrant of `kind`.
    pub fn value_for(&self, kind: Option<&str>) -> f64 {
        kind.and_then(|k| self.value_by_kind.get(k))
            .copied()
            .unwrap_or(self.value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = ">")]
    MoreThan,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = "<")]
    LessThan,
    #[serde(rename = "==")]
    Equal,
}

impl CompareOp {
    pub fn holds(self, actual: f64, limit: f64) -> bool {
        match self {
            CompareOp::AtLeast => actual >= limit,
            CompareOp::MoreThan => actual > limit,
            CompareOp::AtMost => actual <= limit,
            CompareOp::LessThan => actual < limit,
            CompareOp::Equal => actual == limit,
        }
    }

    /// Whether `value` is at least as strict as `base` under this comparison: higher for
    /// ≥ and >, lower for ≤ and <, the same for =.
    pub fn at_least_as_strict(self, value: f64, base: f64) -> bool {
        match self {
            CompareOp::AtLeast | CompareOp::MoreThan => value >= base,
            CompareOp::AtMost | CompareOp::LessThan => value <= base,
            CompareOp::Equal => value == base,
        }
    }

    /// The comparison in words, as in “集群营业收入应不低于100亿元”.
    pub fn words(self) -> &'static str {
        match self {
            CompareOp::AtLeast => "不低于",
            CompareOp::MoreThan => "高于",
            CompareOp::AtMost => "不高于",
            CompareOp::LessThan => "低于",
            CompareOp::Equal => "等于",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::AtLeast => "≥",
            CompareOp::MoreThan => ">",
            CompareOp::AtMost => "≤",
            CompareOp::LessThan => "<",
            CompareOp::Equal => "=",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegativeItem {
    pub key: String,
    pub text: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Competition {
    pub per_year: u32,
    /// The rule as people know it, quoted when another call in the year is refused.
    #[serde(default)]
    pub message: Option<String>,
    /// Days before the submission deadline on which applicants still drafting are reminded.
    #[serde(default)]
    pub submission_reminder_days: Option<Vec<u32>>,
    /// Days before the city review deadline on which city bureaus are reminded.
    #[serde(default)]
    pub review_reminder_days: Option<Vec<u32>>,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Round {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub article: Option<String>,
    pub entrants: Entrants,
    pub outcome: Outcome,
    /// Only for rounds whose entrants are cultivation targets.
    #[serde(default)]
    pub cultivation_period: Option<CultivationPeriod>,
    pub panel: Panel,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entrants {
    /// Applications recommended by a city bureau (第九条).
    Recommended,
    /// Submitted applications, with no separate 初审: the competition's organiser is the city
    /// itself (第十六条), so the applications go straight to its round. Only under
    /// `[organiser] level = "city"`.
    Submitted,
    /// Current cultivation targets (第三条、第十一条).
    CultivationTargets,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Winners become 培育对象.
    CultivationTarget,
    /// Winners are 认定 as provincial clusters.
    Certified,
    /// Winners receive the city-level title named in `[organiser].title` (市级先进制造业集群);
    /// only under `[organiser] level = "city"`.
    CityTitle,
}

/// Who organises competitions under a text (第十六条 分级培育).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organiser {
    pub level: OrganiserLevel,
    /// The title a city-level designation confers, e.g. "长沙市先进制造业集群"; required for a
    /// city level.
    #[serde(default)]
    pub title: Option<String>,
    /// The office named in a city competition's 公示 (else the programme's wording's).
    #[serde(default)]
    pub contact_office: Option<String>,
    /// The prefix of a city title's certificate number, with `{city}` where the city's name
    /// goes (e.g. "{city}集群认" → 长沙市集群认〔2026〕第001号); city texts only. A city text
    /// bound before the key existed takes the shipped city template's.
    #[serde(default)]
    pub certificate_prefix: Option<String>,
    /// Who a city title's certificate is issued by, with `{city}` for the city's name (e.g.
    /// "{city}工业和信息化局"); city texts only, with the same fallback as the prefix.
    #[serde(default)]
    pub certificate_issuer: Option<String>,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganiserLevel {
    Province,
    City,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CultivationPeriod {
    pub min_months: u32,
    /// Working days a finalist has to submit its 决赛申报材料, counted from the day the 决赛 is
    /// opened; absent in policy texts bound before it existed, which get
    /// [`CultivationPeriod::DEFAULT_MATERIALS_WORKING_DAYS`].
    #[serde(default)]
    pub materials_working_days: Option<u32>,
    pub source: Source,
}

impl CultivationPeriod {
    /// The loader's default period for the 决赛 materials (a provincial default, not the Measures').
    pub const DEFAULT_MATERIALS_WORKING_DAYS: u32 = 15;

    pub fn materials_working_days(&self) -> u32 {
        self.materials_working_days
            .filter(|d| *d > 0)
            .unwrap_or(Self::DEFAULT_MATERIALS_WORKING_DAYS)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    /// Experts scoring each application.
    pub min_experts: u32,
    pub max_experts: u32,
    pub aggregation: Aggregation,
    /// For `trimmed_mean`: drop one highest and one lowest score when at least this many scored.
    #[serde(default)]
    pub trim_when_at_least: Option<u32>,
    /// Share of the round score from the defence (答辩), 0..=1; 0 means no defence.
    pub defence_share: f64,
    /// How each expert's totals are rescaled before aggregation (absent = none).
    #[serde(default)]
    pub normalise: Normalise,
    /// Whether an expert working in the city of the cluster (its lead county's, or another
    /// county's it spans) is conflicted (回避). Absent = yes, the provincial rule; only a city's
    /// own competition, whose pool is that city's experts, may set it to false.
    #[serde(default)]
    pub same_city_conflict: Option<bool>,
    pub source: Source,
}

/// Rescaling of each expert's written totals before the panel's aggregation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalise {
    /// The totals as given.
    #[default]
    None,
    /// Each expert's totals as z-scores across the entrants that expert scored, mapped back to
    /// the score scale with the round's overall mean and standard deviation.
    ZScore,
}

impl Panel {
    /// Whether the same-city conflict applies (absent: it does).
    pub fn same_city_conflict(&self) -> bool {
        self.same_city_conflict.unwrap_or(true)
    }

    /// Whether the highest and lowest scores are dropped for a panel of `scored` experts.
    pub fn drops_extremes(&self, scored: u32) -> bool {
        self.aggregation == Aggregation::TrimmedMean
            && self.trim_when_at_least.is_some_and(|n| scored >= n)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    Mean,
    TrimmedMean,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicNotice {
    /// Length of the notice in working days.
    pub working_days: u32,
    #[serde(default)]
    pub published_on: Option<String>,
    pub objection: ObjectionRules,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectionRules {
    pub written: bool,
    pub real_name: bool,
    pub contact_required: bool,
    pub unit_seal_required: bool,
    pub within_window: bool,
    pub evidence_allowed: bool,
    pub evidence_required: bool,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reports {
    /// A due date on a non-working day moves to the next working day (民法典第二百零三条 by analogy).
    pub roll_forward_to_working_day: bool,
    /// Calendar days before a due date on which to remind.
    #[serde(default)]
    pub reminder_days_before: Vec<u32>,
    /// Working days after the due date before the province is told of an overdue report; absent
    /// in policies written before reports were kept, which then never escalate to the province.
    #[serde(default)]
    pub escalate_to_province_after_working_days: Option<u32>,
    pub source: Source,
    /// Covers the previous calendar year.
    pub annual: ReportRule,
    /// Covers the first half (01-01..06-30) of the year; absent for a programme that asks
    /// for yearly figures only.
    #[serde(default)]
    pub semi_annual: Option<ReportRule>,
    /// The form a report is filled in on; absent in policies written before reports were kept.
    #[serde(default)]
    pub form: Option<ReportForm>,
    /// What makes a reported figure deserve a question (monitoring).
    #[serde(default)]
    pub flags: Option<ReportFlags>,
}

/// When a reported figure is flagged for the city bureau and the province.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportFlags {
    /// A change from the same period a year before beyond this share (in %), either way.
    pub year_on_year_change_percent: f64,
    /// Period flows (revenue, new enterprises …): a half-year figure above the annual one is
    /// impossible.
    #[serde(default)]
    pub cumulative: Vec<String>,
    /// Annual report figures checked against the 第六条 thresholds of `eligibility`.
    #[serde(default)]
    pub thresholds: Vec<FlagThreshold>,
    /// A cluster's first annual report against its application (弄虚作假 checks, 第十四条): a
    /// figure this share (in %) or more away from the application's, either way, for the pairs
    /// of `thresholds` and the indicators both forms share. Absent: the year-on-year share.
    #[serde(default)]
    pub application_change_percent: Option<f64>,
    pub source: Source,
}

impl ReportFlags {
    /// The share beyond which a report's figure contradicts the application's.
    pub fn application_share(&self) -> f64 {
        self.application_change_percent
            .unwrap_or(self.year_on_year_change_percent)
    }
}

/// A report indicator read against an eligibility threshold's indicator.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagThreshold {
    /// The indicator of an `eligibility.thresholds` entry.
    pub eligibility: String,
    /// The report form's indicator that carries the same figure for a year.
    pub indicator: String,
}

/// The report form (第十三条、第十五条): indicators typed like the application's, narrative
/// sections, and the use of reward funds (第十七条).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportForm {
    pub indicators: Vec<Indicator>,
    pub sections: Vec<ReportSection>,
    pub reward_funds: ReportSection,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
}

/// One narrative part of a report.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSection {
    pub key: String,
    pub name: String,
    /// What to write, shown under the field.
    #[serde(default)]
    pub hint: Option<String>,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRule {
    pub name: String,
    /// "MM-DD": the first such day after the period ends is the nominal due date.
    pub due: String,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
}

impl ReportRule {
    /// The due month and day; `None` only for an unvalidated rule.
    pub fn due_month_day(&self) -> Option<(time::Month, u8)> {
        validate::parse_month_day(&self.due).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recheck {
    pub cycle_years: u32,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
    /// The panel score (0–100) a cluster needs to pass its 复核; 60 when the file says none.
    #[serde(default)]
    pub pass_mark: Option<u32>,
    /// The working days the 复核 result list is publicly noticed; the general
    /// `public_notice.working_days` when the file says none.
    #[serde(default)]
    pub notice_working_days: Option<u32>,
}

/// Who may start and submit an application under a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applicant {
    /// A cluster promotion organisation (集群发展促进组织, 82号第五条).
    #[default]
    PromotionOrg,
    /// The county-level 中小企业主管部门 of the cluster's county.
    CountyBureau,
}

/// Who does the 初审 of a submitted application (return, reject, recommend).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstReview {
    /// The city bureau of the lead applicant's city (82号第八、九条).
    #[default]
    City,
    /// The provincial department itself.
    Province,
}

/// What a recommended application leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgrammeOutcome {
    /// The province's own rounds designate (the `rounds` of the file).
    #[default]
    Rounds,
    /// The province recommends to the ministry and records the ministry's result; the
    /// ministry's title is held for `title.validity_years`.
    Ministry,
}

/// The shape of a programme's procedure (see `Policy::procedure`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    #[serde(default)]
    pub applicant: Applicant,
    #[serde(default)]
    pub first_review: FirstReview,
    /// Whether the 初审 records 实地抽查 (on-site spot checks).
    #[serde(default)]
    pub field_check: bool,
    #[serde(default)]
    pub outcome: ProgrammeOutcome,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
    /// How many applications of one call may be recommended (the ministry's yearly number).
    #[serde(default)]
    pub recommendation: Option<RecommendationCap>,
    /// The title the ministry confers and how long it is held.
    #[serde(default)]
    pub title: Option<TitleTerm>,
}

/// At most `max` applications of one call recommended; `message` is what a refused
/// recommendation says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecommendationCap {
    pub max: u32,
    pub message: String,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
}

/// A title conferred for a fixed number of years.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TitleTerm {
    pub name: String,
    pub validity_years: u32,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
}

impl Policy {
    /// The procedure, the provincial competition's when the file states none.
    pub fn procedure_or_default(&self) -> Procedure {
        self.procedure.clone().unwrap_or(Procedure {
            applicant: Applicant::PromotionOrg,
            first_review: FirstReview::City,
            field_check: false,
            outcome: ProgrammeOutcome::Rounds,
            article: None,
            source: Source::ProvinceDefault,
            recommendation: None,
            title: None,
        })
    }

    /// Whether the province's own rounds designate under this policy (the installation's own
    /// programme); a policy whose outcome is the ministry's is a programme the province takes
    /// part in, never the installation's current policy.
    pub fn designates_by_rounds(&self) -> bool {
        self.procedure
            .as_ref()
            .is_none_or(|p| p.outcome == ProgrammeOutcome::Rounds)
    }
}

/// The pass mark of a 复核 panel score when the policy file names none (province default).
pub const DEFAULT_RECHECK_PASS_MARK: u32 = 60;

impl Policy {
    /// The names of the policy's groupings (第十六条: 长株潭) that take in a city, in policy
    /// order: the tag shown beside a cluster of that city in lists, rankings and exports.
    pub fn groupings_of_city(&self, city_code: &str) -> Vec<&str> {
        self.groupings
            .iter()
            .filter(|g| g.city_codes.iter().any(|c| c == city_code))
            .map(|g| g.name.as_str())
            .collect()
    }

    /// The cities of a grouping by key (e.g. `changzhutan`), empty when the policy has none.
    pub fn grouping_cities(&self, key: &str) -> Vec<&str> {
        self.groupings
            .iter()
            .filter(|g| g.key == key)
            .flat_map(|g| g.city_codes.iter().map(String::as_str))
            .collect()
    }

    /// The panel score a cluster needs to pass its 复核.
    pub fn recheck_pass_mark(&self) -> f64 {
        f64::from(self.recheck.pass_mark.unwrap_or(DEFAULT_RECHECK_PASS_MARK))
    }

    /// The working days of the 复核 result notice.
    pub fn recheck_notice_days(&self) -> u32 {
        self.recheck
            .notice_working_days
            .unwrap_or(self.public_notice.working_days)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    pub reasons: Vec<RevocationReason>,
    /// 陈述申辩: the working days a cluster and its city have to answer a 告知书, counted from
    /// the day it is sent. Optional so that policy texts bound before it existed still load; a
    /// revocation case cannot be notified under a policy without it.
    #[serde(default)]
    pub response_working_days: Option<u32>,
    /// The 决定书 number, e.g. "湘工信集群撤〔{year}〕{seq}号" ({seq} is the year's sequence).
    #[serde(default)]
    pub decision_number: Option<String>,
}

impl Revocation {
    /// The number of the `seq`-th revocation decision of `year`; None when the policy sets no
    /// format.
    pub fn decision_number_of(&self, year: i32, seq: u32) -> Option<String> {
        self.decision_number.as_ref().map(|f| {
            f.replace("{year}", &year.to_string())
                .replace("{seq}", &seq.to_string())
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationReason {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
    /// A ground that may end a fixed-term title at any time during its term (e.g. fraud); the
    /// others close a term at its end (复核 failed, 复核 not applied for).
    #[serde(default)]
    pub during_term: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub per_county: CountyQuota,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountyQuota {
    pub max: u32,
    pub mode: QuotaMode,
    pub message: String,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
    /// Which county-level divisions the cap counts; absent (texts before version 5): all.
    #[serde(default)]
    pub divisions: Option<CapDivisions>,
}

/// `[quota.per_county.divisions]`: whether 第十六条's 县（市） takes in municipal districts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapDivisions {
    pub counts: CapCounts,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
}

/// The county-level divisions a per-county cap counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapCounts {
    /// Every county-level division, 市辖区 included.
    #[default]
    All,
    /// Counties, autonomous counties and county-level cities (县（市）); 市辖区 not capped.
    Counties,
}

impl CountyQuota {
    /// The divisions the cap counts (all, for a text that does not say).
    pub fn counts(&self) -> CapCounts {
        self.divisions
            .as_ref()
            .map(|d| d.counts)
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaMode {
    /// Exceeding the cap needs a recorded justification ("原则上").
    Warn,
    /// Exceeding the cap is refused.
    Block,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grouping {
    pub key: String,
    pub name: String,
    pub city_codes: Vec<String>,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Funding {
    pub sources: Vec<String>,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
    /// The default reward for a new 培育对象 and a new 认定 (第十七条); the province may set
    /// another amount for a year. A text without it leaves rewards to be typed each time.
    #[serde(default)]
    pub rewards: Option<FundingRewards>,
}

/// Reward defaults in whole 元 (the policy file holds no fractions of money).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundingRewards {
    /// The fund rewards are paid from: one of `funding.sources`.
    pub fund: String,
    pub cultivation_target_yuan: u64,
    pub certified_yuan: u64,
    #[serde(default)]
    pub article: Option<String>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wording {
    /// The title a 初赛 winner receives, e.g. "湖南省先进制造业集群培育对象".
    pub cultivation_target_name: String,
    /// The title a 决赛 winner receives.
    pub certified_name: String,
    /// The certificate number's prefix for each title: prefix〔year〕第NNN号.
    pub cultivation_target_certificate_prefix: String,
    pub certified_certificate_prefix: String,
    /// Named in public notices as the office to contact.
    pub contact_office: String,
    /// The yearly announcement's wording (第十二条); a text without it takes the shipped
    /// file's (see `Policy::announcement_wording`).
    #[serde(default)]
    pub announcement: Option<AnnouncementWording>,
    pub source: Source,
}

/// What the announcement of a round's titles says around its list. The decisions are
/// templates: `{basis}` (根据《name》（document number）), `{count}`, `{year}` and `{title}`
/// (the title conferred) are filled in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementWording {
    /// To whom, e.g. "各市州工业和信息化局，各有关单位：".
    pub salutation: String,
    /// The decision of a 初赛 announcement.
    pub cultivation_decision: String,
    /// The decision of a 决赛 announcement.
    pub certified_decision: String,
    /// The closing paragraph (what the addressees are asked to do).
    pub closing: String,
}

impl AnnouncementWording {
    /// A decision template with its placeholders filled in.
    pub fn fill(template: &str, basis: &str, count: usize, year: i32, title: &str) -> String {
        template
            .replace("{basis}", basis)
            .replace("{count}", &count.to_string())
            .replace("{year}", &year.to_string())
            .replace("{title}", title)
    }
}

/// A threshold an application does not meet.
#[derive(Debug, Clone, PartialEq)]
pub struct EligibilityProblem {
    pub indicator: String,
    /// The policy's message, or a "not filled in" message, in Chinese.
    pub message: String,
}

impl Policy {
    /// Parses and validates a policy, collecting every problem found.
    /// `origin` names the text in error messages (a path or e.g. "上传文件").
    pub fn parse(text: &str, origin: &str) -> Result<Policy, PolicyErrors> {
        let mut policy = load::load(text, origin)?;
        policy.origin = origin.to_string();
        Ok(policy)
    }

    /// The stable id a competition is bound to, e.g. "hunan-2021".
    pub fn id(&self) -> &str {
        &self.identity.id
    }

    /// Last day in force (inclusive): stated, or `effective_from` + `validity_years` − 1 day;
    /// `None` when open-ended.
    pub fn effective_to(&self) -> Option<Date> {
        self.identity.effective_to.or_else(|| {
            let years = self.identity.validity_years?;
            validate::validity_end(self.identity.effective_from, years)
        })
    }

    pub fn is_in_force(&self, date: Date) -> bool {
        date >= self.identity.effective_from && self.effective_to().is_none_or(|to| date <= to)
    }

    pub fn cluster_kind(&self, key: &str) -> Option<&ClusterKind> {
        self.cluster_kinds.iter().find(|k| k.key == key)
    }

    pub fn criterion(&self, key: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.key == key)
    }

    /// An indicator by key, across all criteria.
    pub fn indicator(&self, key: &str) -> Option<&Indicator> {
        self.criteria
            .iter()
            .flat_map(|c| &c.indicators)
            .find(|i| i.key == key)
    }

    pub fn round(&self, key: &str) -> Option<&Round> {
        self.rounds.iter().find(|r| r.key == key)
    }

    pub fn revocation_reason(&self, key: &str) -> Option<&RevocationReason> {
        self.revocation.reasons.iter().find(|r| r.key == key)
    }

    /// Checks the eligibility thresholds that hold for every kind against an application's
    /// indicator values (`value_of(indicator_key)`); an empty result means all are met.
    pub fn check_thresholds(
        &self,
        value_of: impl Fn(&str) -> Option<f64>,
    ) -> Vec<EligibilityProblem> {
        self.check_thresholds_for(None, None, value_of)
    }

    /// Checks the thresholds an entrant of `kind` is held to under a call's own rules
    /// ([`Policy::thresholds_for`]); an empty result means all are met.
    pub fn check_thresholds_for(
        &self,
        kind: Option<&str>,
        call: Option<&CallRules>,
        value_of: impl Fn(&str) -> Option<f64>,
    ) -> Vec<EligibilityProblem> {
        let mut problems = Vec::new();
        for t in self.thresholds_for(kind, call) {
            let message = match value_of(&t.indicator) {
                Some(v) if t.op.holds(v, t.value) => continue,
                Some(_) => t.message,
                None => {
                    let name = self
                        .indicator(&t.indicator)
                        .map_or(&t.indicator, |i| &i.name);
                    format!("未填写“{name}”，无法判断：{}", t.message)
                }
            };
            problems.push(EligibilityProblem {
                indicator: t.indicator,
                message,
            });
        }
        problems
    }

    /// The floor of criterion `c` for an entrant of `kind`, in points: its share (the
    /// criterion's, else the programme's) of the kind's maximum; `None` without a floor.
    pub fn floor_of(&self, c: &Criterion, kind: &str) -> Option<f64> {
        let share = c.floor_share.or(self.scoring.floor_share)?;
        Some(share * f64::from(c.max_score_for(kind)))
    }

    /// The level that organises competitions under this text (province when absent).
    pub fn organiser_level(&self) -> OrganiserLevel {
        self.organiser
            .as_ref()
            .map_or(OrganiserLevel::Province, |o| o.level)
    }

    /// The title a city-level designation under this text confers, if it is a city text.
    pub fn city_title(&self) -> Option<&str> {
        self.organiser
            .as_ref()
            .filter(|o| o.level == OrganiserLevel::City)
            .and_then(|o| o.title.as_deref())
    }

    /// The certificate number prefix of a city title conferred by `city_name` under this city
    /// text: its own `[organiser].certificate_prefix`, else the shipped city template's, with
    /// the city's name put in. `None` for a provincial text.
    pub fn city_certificate_prefix(&self, city_name: &str) -> Option<String> {
        let own = self
            .organiser
            .as_ref()
            .filter(|o| o.level == OrganiserLevel::City)?;
        let template = own.certificate_prefix.as_deref().or_else(|| {
            city_template()
                .and_then(|p| p.organiser.as_ref())
                .and_then(|o| o.certificate_prefix.as_deref())
        })?;
        Some(template.replace(CITY_PLACEHOLDER, city_name))
    }

    /// Who issues a city title's certificate conferred by `city_name` under this city text
    /// (`[organiser].certificate_issuer`, else the shipped city template's). `None` for a
    /// provincial text.
    pub fn city_certificate_issuer(&self, city_name: &str) -> Option<String> {
        let own = self
            .organiser
            .as_ref()
            .filter(|o| o.level == OrganiserLevel::City)?;
        let template = own.certificate_issuer.as_deref().or_else(|| {
            city_template()
                .and_then(|p| p.organiser.as_ref())
                .and_then(|o| o.certificate_issuer.as_deref())
        })?;
        Some(template.replace(CITY_PLACEHOLDER, city_name))
    }

    /// The wording to print; a text bound before the format had `[wording]` takes the
    /// shipped file's (never Rust literals). `None` only if the shipped file lacked it too.
    pub fn wording(&self) -> Option<&Wording> {
        self.wording
            .as_ref()
            .or_else(|| shipped().and_then(|p| p.wording.as_ref()))
    }

    /// The announcement's wording: this text's, else the shipped file's (never Rust literals).
    pub fn announcement_wording(&self) -> Option<&AnnouncementWording> {
        self.wording()
            .and_then(|w| w.announcement.as_ref())
            .or_else(|| {
                shipped()
                    .and_then(|p| p.wording.as_ref())
                    .and_then(|w| w.announcement.as_ref())
            })
    }

    /// Days before the submission deadline to remind on (shipped file's when absent).
    pub fn submission_reminder_days(&self) -> &[u32] {
        self.competition
            .submission_reminder_days
            .as_deref()
            .or_else(|| shipped().and_then(|p| p.competition.submission_reminder_days.as_deref()))
            .unwrap_or_default()
    }

    /// Days before the city review deadline to remind on (shipped file's when absent).
    pub fn review_reminder_days(&self) -> &[u32] {
        self.competition
            .review_reminder_days
            .as_deref()
            .or_else(|| shipped().and_then(|p| p.competition.review_reminder_days.as_deref()))
            .unwrap_or_default()
    }

    /// The files an application must carry (shipped file's list when absent).
    pub fn required_attachments(&self) -> &[RequiredAttachment] {
        self.eligibility
            .required_attachments
            .as_deref()
            .or_else(|| shipped().and_then(|p| p.eligibility.required_attachments.as_deref()))
            .unwrap_or_default()
    }

    /// The outlier share of the total score (shipped file's when absent).
    pub fn outlier_gap_share(&self) -> Option<f64> {
        self.scoring
            .outlier_gap_share
            .or_else(|| shipped().and_then(|p| p.scoring.outlier_gap_share))
    }

    /// A readable Chinese multi-line summary.
    pub fn summary(&self) -> String {
        summary::summary(self)
    }
}

/// The policies compiled into the binary. The shipped files are checked by the test
/// suite, so an error here means a broken build, reported rather than panicked on.
pub fn builtin_policies() -> Result<Vec<Policy>, PolicyErrors> {
    BUILTIN_POLICY_SOURCES
        .iter()
        .map(|(origin, text)| Policy::parse(text, origin))
        .collect()
}

/// The first shipped policy, parsed once: where keys added to the format later take their
/// values for texts bound before them.
fn shipped() -> Option<&'static Policy> {
    static SHIPPED: std::sync::OnceLock<Option<Policy>> = std::sync::OnceLock::new();
    SHIPPED
        .get_or_init(|| {
            let (origin, text) = BUILTIN_POLICY_SOURCES.first()?;
            Policy::parse(text, origin).ok()
        })
        .as_ref()
}

/// The shipped city template, parsed once: where keys added to city texts later take their
/// values for city texts installed before them.
fn city_template() -> Option<&'static Policy> {
    static TEMPLATE: std::sync::OnceLock<Option<Policy>> = std::sync::OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let (origin, text) = CITY_TEMPLATE_SOURCE;
            Policy::parse(text, origin).ok()
        })
        .as_ref()
}

/// Where a city's name goes in a city certificate prefix.
pub const CITY_PLACEHOLDER: &str = "{city}";

/// The policy in force on `date`; when several are, the one that took effect last.
pub fn policy_in_force(policies: &[Policy], date: Date) -> Option<&Policy> {
    policies
        .iter()
        .filter(|p| p.is_in_force(date))
        .max_by_key(|p| p.identity.effective_from)
}
