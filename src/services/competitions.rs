//! Competition calls (竞赛通知): the province opens one call a year (第七条), bound to the exact
//! text of the policy it runs under, with its timetable and notice; and the province's overview
//! of what the city bureaus recommended (第九条), on screen and as an Excel workbook.

use crate::store::id::CompetitionId;
use jiqun_domain::access::{Action, Resource};
use std::collections::BTreeMap;

use jiqun_rules::Policy;
use jiqun_rules::policy::{BUILTIN_POLICY_SOURCES, CallRules, CallThreshold, RequiredAttachment};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{authorize, trimmed};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::{datetime_local_value, local_minutes, parse_local_datetime, rfc3339_local};
use crate::error::{AppError, Problems};
use crate::store::{
    self,
    entity::{application, competition},
};

pub const STATUS_OPEN: &str = "open";
pub const STATUS_CLOSED: &str = "closed";
/// The longest notice text accepted, in characters.
pub const MAX_NOTICE_CHARS: usize = 20_000;
pub const MIN_YEAR: i32 = 2021;
pub const MAX_YEAR: i32 = 2100;

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CompetitionInput {
    pub year: i32,
    pub title: String,
    /// `identity.id` of a built-in policy, e.g. "hunan-2021".
    pub policy_id: String,
    /// Beijing time: "YYYY-MM-DDTHH:MM" (as an HTML datetime-local field sends it) or
    /// "YYYY-MM-DD HH:MM", seconds optional.
    pub submission_deadline: String,
    /// The city bureaus' review deadline, same format; after the submission deadline.
    pub review_deadline: String,
    #[serde(default)]
    pub notice_text: String,
    /// 延续执行: why the call opens under a policy not in force on its submission deadline
    /// date; required (with `override_document`) only then.
    #[serde(default)]
    pub override_reason: String,
    /// The document deciding the 延续执行 (name and 文号).
    #[serde(default)]
    pub override_document: String,
    /// That year's own rules within the policy; frozen once an application is submitted.
    #[serde(default)]
    pub call_rules: CallRulesInput,
}

/// A call's own rules as typed (the form and the API send text; empty = the policy's).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallRulesInput {
    /// `<indicator>.<kind>` → that year's threshold, only stricter than the policy's,
    /// e.g. `cluster_revenue.specialty` → `80`.
    #[serde(default)]
    pub thresholds: BTreeMap<String, String>,
    /// Cluster kind → the most winners of that kind in each round, e.g. {"leading": "3"}.
    #[serde(default)]
    pub quotas: BTreeMap<String, String>,
    /// Upload purpose → the name of a file required besides the policy's, e.g.
    /// {"evidence": "佐证材料汇编"}.
    #[serde(default)]
    pub attachments: BTreeMap<String, String>,
    /// Further requirements of the year's notice, shown to applicants.
    #[serde(default)]
    pub requirements: String,
}

/// The longest extra requirements text accepted, in characters.
pub const MAX_REQUIREMENTS_CHARS: usize = 2000;

impl CallRulesInput {
    /// The form values that reproduce stored rules.
    pub fn of(rules: &CallRules) -> CallRulesInput {
        CallRulesInput {
            thresholds: rules
                .thresholds
                .iter()
                .map(|t| {
                    (
                        format!("{}.{}", t.indicator, t.kind),
                        super::scoring::show(t.value),
                    )
                })
                .collect(),
            quotas: rules
                .quotas
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
            attachments: rules
                .attachments
                .iter()
                .map(|a| (a.purpose.clone(), a.name.clone()))
                .collect(),
            requirements: rules.requirements.clone(),
        }
    }

    /// Parses the text and checks it against the policy, each problem against its field
    /// (`threshold.<indicator>.<kind>`, `quota.<kind>`, `attachment.<purpose>`, `requirements`).
    pub fn parse(&self, policy: &Policy, p: &mut Problems) -> CallRules {
        let mut rules = CallRules::default();
        for (key, text) in &self.thresholds {
            let text = text.trim().replace([',', '，'], "");
            if text.is_empty() {
                continue;
            }
            let field = format!("threshold.{key}");
            let Some((indicator, kind)) = key.rsplit_once('.') else {
                p.add(&field, "门槛应写作“指标.集群类别”");
                continue;
            };
            match text.parse::<f64>() {
                Ok(value) if value.is_finite() => rules.thresholds.push(CallThreshold {
                    indicator: indicator.into(),
                    kind: kind.into(),
                    value,
                }),
                _ => {
                    p.add(&field, "请填写数字");
                }
            }
        }
        for (kind, text) in &self.quotas {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            match text.parse::<u32>() {
                Ok(max) => {
                    rules.quotas.insert(kind.clone(), max);
                }
                Err(_) => {
                    p.add(&format!("quota.{kind}"), "请填写不小于1的整数");
                }
            }
        }
        for (purpose, name) in &self.attachments {
            let name = trimmed(name);
            if name.chars().count() > 100 {
                p.add(&format!("attachment.{purpose}"), "附件名称不能超过100个字");
            } else if !name.is_empty() {
                rules.attachments.push(RequiredAttachment {
                    purpose: purpose.clone(),
                    name,
                });
            }
        }
        rules.requirements = self.requirements.trim().to_string();
        let chars = rules.requirements.chars().count();
        if chars > MAX_REQUIREMENTS_CHARS {
            p.add(
                "requirements",
                format!("其他申报要求不能超过{MAX_REQUIREMENTS_CHARS}字（当前{chars}字）"),
            );
        }
        // What did parse is checked against the policy too, so every problem shows at once.
        for (field, message) in policy.check_call_rules(&rules) {
            p.add(&field, message);
        }
        rules
    }
}

/// The call's own rules as stored (none when absent or unreadable, which the writer prevents).
pub fn call_rules_of(c: &competition::Model) -> CallRules {
    c.call_rules
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

fn call_rules_json(rules: &CallRules) -> Result<Option<String>, AppError> {
    if rules.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(rules)
        .map(Some)
        .map_err(|e| AppError::internal(e.to_string()))
}

pub use super::policy::BoundPolicy;

/// The built-in policies with their texts. The shipped files are checked by the test suite, so
/// a failure here is a broken build, reported rather than panicked on.
pub fn builtin() -> Result<Vec<BoundPolicy>, AppError> {
    BUILTIN_POLICY_SOURCES
        .iter()
        .map(|(origin, text)| {
            Policy::parse(text, origin)
                .map(|policy| BoundPolicy {
                    policy,
                    source: (*text).to_string(),
                    sm3: super::policy::sm3_hex(text),
                })
                .map_err(|e| AppError::internal(format!("built-in policy: {e}")))
        })
        .collect()
}

/// What `validate` needs besides the input; gathered by the caller so validation stays pure.
pub struct Context<'a> {
    pub now: OffsetDateTime,
    pub policies: &'a [BoundPolicy],
    /// The year of every call already published, open or closed (other than the one being
    /// edited): one entry per call.
    pub call_years: &'a [i32],
    /// When editing: the call as stored.
    pub existing: Option<&'a competition::Model>,
}

/// A checked call, ready to store.
#[derive(Debug, Clone)]
pub struct ValidCompetition {
    pub year: i32,
    pub title: String,
    pub policy: Policy,
    /// The exact policy text the call is bound to.
    pub policy_source: String,
    pub submission_deadline: OffsetDateTime,
    pub review_deadline: OffsetDateTime,
    pub notice_text: String,
    /// 延续执行 recorded for a policy outside its validity: (reason, document).
    pub policy_override: Option<(String, String)>,
    /// Things the province should know but that do not stop the call (e.g. the 延续执行).
    pub warnings: Vec<String>,
    /// That year's own rules within the policy.
    pub call_rules: CallRules,
}

/// The warning shown when the call's policy is not in force on the submission deadline date;
/// empty when it is.
pub fn policy_warning(policy: &Policy, submission_deadline: OffsetDateTime) -> String {
    let day = crate::clock::local(submission_deadline).date();
    if policy.is_in_force(day) {
        return String::new();
    }
    format!(
        "所选政策《{}》（{}）的有效期为{}，申报截止日{day}不在其有效期内。",
        policy.identity.name,
        policy.identity.document_number,
        super::policy::validity(policy)
    )
}

fn deadline(p: &mut Problems, field: &str, text: &str, what: &str) -> Option<OffsetDateTime> {
    if text.trim().is_empty() {
        p.add(field, format!("请填写{what}"));
        return None;
    }
    let parsed = parse_local_datetime(text);
    if parsed.is_none() {
        p.add(
            field,
            format!(
                "{what}“{}”无效，应为“年-月-日 时:分”（北京时间），例如2026-12-31 17:30",
                text.trim()
            ),
        );
    }
    parsed
}

/// Pure validation; every problem is reported against its field.
pub fn validate(input: &CompetitionInput, ctx: &Context) -> Result<ValidCompetition, AppError> {
    let mut p = Problems::default();
    let title = trimmed(&input.title);
    if title.is_empty() {
        p.add("title", "请填写竞赛通知标题");
    } else if title.chars().count() > 200 {
        p.add("title", "标题不能超过200个字");
    }
    let year = input.year;
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        p.add("year", format!("年度应为{MIN_YEAR}至{MAX_YEAR}之间的整数"));
    }
    let policy_id = input.policy_id.trim();
    // Editing a call keeps the text it was bound to: a policy file loaded later under the same
    // id never changes a call already published.
    let bound = match ctx.existing {
        Some(c) if c.policy_id == policy_id => match policy_of(c) {
            Ok(policy) => Some(((*policy).clone(), c.policy_source.clone())),
            Err(_) => {
                p.add("policy_id", "所绑定的政策文本无法解析，请联系系统管理员");
                None
            }
        },
        _ if policy_id.is_empty() => {
            p.add("policy_id", "请选择竞赛所依据的政策版本");
            None
        }
        _ => match ctx.policies.iter().find(|b| b.policy.id() == policy_id) {
            Some(b) => Some((b.policy.clone(), b.source.clone())),
            None => {
                p.add(
                    "policy_id",
                    format!("政策版本“{policy_id}”不存在，请从列表中选择"),
                );
                None
            }
        },
    };
    if let Some((policy, _)) = &bound
        && (MIN_YEAR..=MAX_YEAR).contains(&year)
    {
        // 每年次数 comes from the policy and counts every call of the year, closed ones too.
        let published = ctx.call_years.iter().filter(|y| **y == year).count();
        let per_year = policy.competition.per_year as usize;
        if published >= per_year {
            let rule = policy
                .competition
                .message
                .as_deref()
                .map(|m| format!("（{m}）"))
                .unwrap_or_default();
            p.add(
                "year",
                format!(
                    "{year}年度已发布{published}次竞赛通知（含已关闭的），\
                     所选政策规定每年至多{per_year}次{rule}，不能再发布"
                ),
            );
        }
    }
    let submission = deadline(
        &mut p,
        "submission_deadline",
        &input.submission_deadline,
        "申报截止时间",
    );
    let review = deadline(
        &mut p,
        "review_deadline",
        &input.review_deadline,
        "市州初审截止时间",
    );
    if let Some(s) = submission {
        // An unchanged deadline may lie in the past when the notice text is corrected later.
        let unchanged = ctx.existing.is_some_and(|c| c.submission_deadline == s);
        if !unchanged && s <= ctx.now {
            p.add(
                "submission_deadline",
                format!("申报截止时间应晚于当前时间（{}）", local_minutes(ctx.now)),
            );
        }
        if let Some(r) = review
            && r <= s
        {
            p.add("review_deadline", "市州初审截止时间应晚于申报截止时间");
        }
    }
    let call_rules = match &bound {
        Some((policy, _)) => input.call_rules.parse(policy, &mut p),
        None => CallRules::default(),
    };
    let notice_text = input.notice_text.trim_end().to_string();
    let notice_chars = notice_text.chars().count();
    if notice_chars > MAX_NOTICE_CHARS {
        p.add(
            "notice_text",
            format!("通知正文不能超过{MAX_NOTICE_CHARS}字（当前{notice_chars}字）"),
        );
    }
    p.into_result()?;
    let missing = || AppError::Internal("checked above".into());
    let (policy, policy_source) = bound.ok_or_else(missing)?;
    let submission_deadline = submission.ok_or_else(missing)?;
    let review_deadline = review.ok_or_else(missing)?;
    // A policy outside its validity on the deadline date binds a call only by an explicit
    // 延续执行 with its reason and deciding document.
    let warning = policy_warning(&policy, submission_deadline);
    let policy_override = if warning.is_empty() {
        None
    } else {
        let reason = trimmed(&input.override_reason);
        let document = trimmed(&input.override_document);
        let mut p = Problems::default();
        if reason.is_empty() {
            p.add(
                "override_reason",
                format!("{warning}如确需延续执行，请填写延续执行的理由"),
            );
        } else if reason.chars().count() > 1000 {
            p.add("override_reason", "延续执行的理由不能超过1000个字");
        }
        if document.is_empty() {
            p.add(
                "override_document",
                "请填写决定延续执行的依据文件（名称及文号）",
            );
        } else if document.chars().count() > 200 {
            p.add("override_document", "依据文件不能超过200个字");
        }
        p.into_result()?;
        Some((reason, document))
    };
    let warnings = match &policy_override {
        Some((reason, document)) => {
            vec![format!("{warning}延续执行：{reason}（依据：{document}）")]
        }
        None => Vec::new(),
    };
    Ok(ValidCompetition {
        year,
        title,
        policy,
        policy_source,
        submission_deadline,
        review_deadline,
        notice_text,
        policy_override,
        warnings,
        call_rules,
    })
}

/// The policy a call is bound to, from the exact text stored with it: parsed once per distinct
/// text (a competition's policy is bound when it is created; the few texts in use are kept, at
/// most `MAX_PARSED` of them) and shared, never copied.
pub fn policy_of(c: &competition::Model) -> Result<std::sync::Arc<Policy>, AppError> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    const MAX_PARSED: usize = 16;
    static PARSED: OnceLock<Mutex<HashMap<String, Arc<Policy>>>> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(p) = parsed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&c.policy_source)
    {
        return Ok(p.clone());
    }
    let policy = Arc::new(
        Policy::parse(&c.policy_source, &format!("竞赛{}绑定的政策", c.id))
            .map_err(|e| AppError::internal(format!("competition {} policy: {e}", c.id)))?,
    );
    let mut kept = parsed.lock().unwrap_or_else(|e| e.into_inner());
    if kept.len() >= MAX_PARSED {
        kept.clear();
    }
    kept.insert(c.policy_source.clone(), policy.clone());
    Ok(policy)
}

/// Whether an applicant may still submit to the call: it is open and the deadline (an instant)
/// has not been reached.
pub fn is_open_for_submission(c: &competition::Model, now: OffsetDateTime) -> bool {
    c.status == crate::store::entity::kinds::CompetitionStatus::Open && now < c.submission_deadline
}

/// Whether a city bureau may still review for the call.
pub fn is_open_for_review(c: &competition::Model, now: OffsetDateTime) -> bool {
    c.status == crate::store::entity::kinds::CompetitionStatus::Open && now < c.review_deadline
}

/// The current open call: the latest-year open call still taking submissions, or else the
/// latest-year open call (in its review phase).
pub async fn open_call(app: &App) -> Result<Option<competition::Model>, AppError> {
    let now = app.clock.now();
    // The province's call: a city's own call (第十六条) never stands in for it.
    let open = competition::Entity::find()
        .filter(competition::Column::Status.eq(STATUS_OPEN))
        .filter(competition::Column::OrganiserCityCode.is_null())
        .order_by_desc(competition::Column::Year)
        .order_by_desc(competition::Column::Id)
        .all(&app.db)
        .await?
        .into_iter()
        // The installation's own programme: a call of another programme (the national one) is
        // not the call the workbench and the applicant's pages lead to.
        .filter(|c| policy_of(c).map_or(true, |p| p.designates_by_rounds()))
        .collect::<Vec<_>>();
    let accepting = open
        .iter()
        .find(|c| is_open_for_submission(c, now))
        .cloned();
    Ok(accepting.or_else(|| open.into_iter().next()))
}

/// The calls, newest first, whose programme's actors (`applications::actors_of`: who applies,
/// who does the 初审) `pick` accepts; only the open ones when `open_only`. Three queries whatever
/// the number of calls: one call per distinct bound text (`policy_hash`) decides for every call
/// bound to the same text, so only the matching calls' texts are read.
pub async fn calls_where(
    app: &App,
    open_only: bool,
    pick: impl Fn(jiqun_domain::application::Actors) -> bool,
) -> Result<Vec<competition::Model>, AppError> {
    use sea_orm::QuerySelect;
    let base = || {
        let q = competition::Entity::find();
        if open_only {
            q.filter(competition::Column::Status.eq(STATUS_OPEN))
        } else {
            q
        }
    };
    let texts: Vec<(Option<String>, CompetitionId)> = base()
        .select_only()
        .column(competition::Column::PolicyHash)
        .column_as(competition::Column::Id.min(), "first_id")
        .group_by(competition::Column::PolicyHash)
        .into_tuple()
        .all(&app.db)
        .await?;
    let firsts = store::load_by_ids::<competition::Entity>(
        &app.db,
        texts.iter().filter(|(h, _)| h.is_some()).map(|(_, id)| *id),
    )
    .await?;
    let mut picked = Vec::new();
    for c in firsts.values() {
        if let Some(hash) = &c.policy_hash
            && pick(super::applications::actors_of(&*policy_of(c)?))
        {
            picked.push(hash.clone());
        }
    }
    // A call bound before texts were hashed is judged on its own.
    let unhashed = texts.iter().any(|(h, _)| h.is_none());
    if picked.is_empty() && !unhashed {
        return Ok(Vec::new());
    }
    let mut matching = sea_orm::Condition::any().add(competition::Column::PolicyHash.is_in(picked));
    if unhashed {
        matching = matching.add(competition::Column::PolicyHash.is_null());
    }
    let mut out = Vec::new();
    for c in base()
        .filter(matching)
        .order_by_desc(competition::Column::Year)
        .order_by_desc(competition::Column::Id)
        .all(&app.db)
        .await?
    {
        if c.policy_hash.is_some() || pick(super::applications::actors_of(&*policy_of(&c)?)) {
            out.push(c);
        }
    }
    Ok(out)
}

/// The newest open call still taking submissions of a programme in which `role` applies (the
/// county's department under the national programme), for that role's list page.
pub async fn open_call_applied_by(
    app: &App,
    role: jiqun_domain::access::Role,
) -> Result<Option<competition::Model>, AppError> {
    let now = app.clock.now();
    Ok(calls_where(app, true, |a| a.applicant == role)
        .await?
        .into_iter()
        .find(|c| is_open_for_submission(c, now)))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompetitionView {
    #[schema(value_type = i64)]
    pub id: CompetitionId,
    /// "province", or "city" for a city's own competition (第十六条).
    pub organiser_level: String,
    /// The organising city's code for a city competition, else "".
    pub organiser_city_code: String,
    /// "省级" or "市级（长沙市）".
    pub organiser_label: String,
    pub year: i32,
    pub title: String,
    pub policy_id: String,
    pub policy_name: String,
    pub policy_document_number: String,
    /// "2021年4月7日至2026年4月6日"
    pub policy_validity: String,
    /// RFC 3339, Beijing time.
    pub submission_deadline: String,
    /// "2026-12-31 17:30", Beijing time.
    pub submission_deadline_local: String,
    pub review_deadline: String,
    pub review_deadline_local: String,
    pub notice_text: String,
    /// open | closed
    pub status: String,
    pub status_label: String,
    /// Where the call stands now: 申报中 / 市州初审中 / 初审已截止 / 已关闭.
    pub phase_label: String,
    pub accepting_submissions: bool,
    /// Non-empty when the bound policy is not in force on the submission deadline date.
    pub policy_warning: String,
    /// 延续执行 recorded when the call opened under a policy outside its validity.
    pub override_reason: String,
    pub override_document: String,
    /// That year's own rules within the policy, one line each (stricter thresholds, quotas per
    /// kind, extra files).
    pub call_rules: Vec<String>,
    /// Further requirements of the year's notice, shown to applicants.
    pub requirements: String,
    pub created_at_local: String,
    pub version: i32,
}

impl CompetitionView {
    pub fn from_model(m: &competition::Model, now: OffsetDateTime) -> CompetitionView {
        let rules = call_rules_of(m);
        let mut call_rules = Vec::new();
        let (policy_name, policy_document_number, policy_validity, policy_warning) =
            match policy_of(m) {
                Ok(p) => {
                    call_rules = rules_lines(&p, &rules);
                    (
                        p.identity.name.clone(),
                        p.identity.document_number.clone(),
                        super::policy::validity(&p),
                        policy_warning(&p, m.submission_deadline),
                    )
                }
                Err(e) => {
                    tracing::error!("{e}");
                    (
                        m.policy_id.clone(),
                        String::new(),
                        String::new(),
                        "所绑定的政策文本无法解析，请联系系统管理员".into(),
                    )
                }
            };
        let open = m.status == crate::store::entity::kinds::CompetitionStatus::Open;
        let phase_label = if !open {
            "已关闭"
        } else if now < m.submission_deadline {
            "申报中"
        } else if now < m.review_deadline {
            "市州初审中"
        } else {
            "初审已截止"
        };
        CompetitionView {
            id: m.id,
            organiser_level: if m.organiser_city_code.is_some() {
                "city"
            } else {
                "province"
            }
            .into(),
            organiser_city_code: m
                .organiser_city_code
                .map(|c| c.to_string())
                .unwrap_or_default(),
            organiser_label: organiser_label(m.organiser_city_code),
            year: m.year,
            title: m.title.clone(),
            policy_id: m.policy_id.clone(),
            policy_name,
            policy_document_number,
            policy_validity,
            submission_deadline: rfc3339_local(m.submission_deadline),
            submission_deadline_local: local_minutes(m.submission_deadline),
            review_deadline: rfc3339_local(m.review_deadline),
            review_deadline_local: local_minutes(m.review_deadline),
            notice_text: m.notice_text.clone(),
            status: m.status.key().to_string(),
            status_label: if open { "进行中" } else { "已关闭" }.into(),
            phase_label: phase_label.into(),
            accepting_submissions: is_open_for_submission(m, now),
            policy_warning,
            override_reason: m.override_reason.clone().unwrap_or_default(),
            override_document: m.override_document.clone().unwrap_or_default(),
            call_rules,
            requirements: rules.requirements,
            created_at_local: local_minutes(m.created_at),
            version: m.version,
        }
    }

    /// The form input that reproduces this call, for the edit form.
    pub fn input(&self, m: &competition::Model) -> CompetitionInput {
        CompetitionInput {
            year: m.year,
            title: m.title.clone(),
            policy_id: m.policy_id.clone(),
            submission_deadline: datetime_local_value(m.submission_deadline),
            review_deadline: datetime_local_value(m.review_deadline),
            notice_text: m.notice_text.clone(),
            override_reason: m.override_reason.clone().unwrap_or_default(),
            override_document: m.override_document.clone().unwrap_or_default(),
            call_rules: CallRulesInput::of(&call_rules_of(m)),
        }
    }
}

pub async fn list(app: &App, p: &Principal) -> Result<Vec<CompetitionView>, AppError> {
    authorize(p, Resource::Competition, Action::View)?;
    let now = app.clock.now();
    let rows = competition::Entity::find()
        .filter(super::organisers::visible_condition(p))
        .order_by_desc(competition::Column::Year)
        .order_by_desc(competition::Column::Id)
        .all(&app.db)
        .await?;
    Ok(rows
        .iter()
        .map(|m| CompetitionView::from_model(m, now))
        .collect())
}

/// The stored call, for a principal allowed to read calls.
pub async fn load(
    app: &App,
    p: &Principal,
    id: CompetitionId,
) -> Result<competition::Model, AppError> {
    authorize(p, Resource::Competition, Action::View)?;
    competition::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .filter(|c| super::organisers::visible(p, c))
        .ok_or(AppError::NotFound)
}

pub async fn get(app: &App, p: &Principal, id: CompetitionId) -> Result<CompetitionView, AppError> {
    let m = load(app, p, id).await?;
    Ok(CompetitionView::from_model(&m, app.clock.now()))
}

/// Which yearly count a call belongs to: the installation's own programme (every policy whose
/// rounds designate, the 2021 Measures and their successors alike: "") or another programme the
/// province takes part in, by its policy id (the national programme's calls never use up the
/// provincial competition's year, nor the reverse).
fn programme_of(policy: &Policy) -> String {
    if policy.designates_by_rounds() {
        String::new()
    } else {
        policy.id().to_string()
    }
}

/// The programme of the policy a call form names (the own programme for an unknown id, which
/// validation refuses anyway).
fn programme_named(policies: &[BoundPolicy], policy_id: &str) -> String {
    policies
        .iter()
        .find(|b| b.policy.id() == policy_id.trim())
        .map(|b| programme_of(&b.policy))
        .unwrap_or_default()
}

/// The year of every published call of `programme` by the same organiser (the province, or
/// one city: 第十六条), open or closed, except `except`. Serialised, so two people publishing
/// at once cannot both pass the policy's yearly limit.
async fn call_years<C: ConnectionTrait>(
    conn: &C,
    organiser: Option<jiqun_domain::region::RegionCode>,
    except: Option<CompetitionId>,
    programme: &str,
) -> Result<Vec<i32>, AppError> {
    store::lock::serialise(conn, "competitions.per_year").await?;
    let mut q = competition::Entity::find().filter(match organiser {
        None => competition::Column::OrganiserCityCode.is_null(),
        Some(city) => competition::Column::OrganiserCityCode.eq(city.to_string()),
    });
    if let Some(id) = except {
        q = q.filter(competition::Column::Id.ne(id));
    }
    let mut years = Vec::new();
    for c in q.all(conn).await? {
        if programme_of(&*policy_of(&c)?) == programme {
            years.push(c.year);
        }
    }
    Ok(years)
}

/// The lock a change of a call's own rules and a submission to the call both take.
pub fn call_rules_lock(id: CompetitionId) -> String {
    format!("competitions.call_rules.{id}")
}

/// The call's own rules in words, one line each, as the call shows them.
pub fn rules_lines(policy: &Policy, rules: &CallRules) -> Vec<String> {
    let kind = |k: &str| {
        policy
            .cluster_kind(k)
            .map_or(k.to_string(), |c| c.name.clone())
    };
    let mut lines = Vec::new();
    for t in &rules.thresholds {
        if let Some(found) = policy
            .thresholds_for(Some(&t.kind), Some(rules))
            .into_iter()
            .find(|f| f.indicator == t.indicator && f.from_call)
        {
            lines.push(format!(
                "{}：{}（办法规定{}{}）",
                kind(&t.kind),
                found.message,
                found.op.symbol(),
                super::scoring::show(found.policy_value)
            ));
        }
    }
    for (k, max) in &rules.quotas {
        lines.push(format!("{}：每轮胜出不超过{max}个", kind(k)));
    }
    for a in &rules.attachments {
        lines.push(format!("申报须另附：{}", a.name));
    }
    lines
}

/// The call's own rules in words, for the audit entry.
fn describe_rules(policy: &Policy, rules: &CallRules) -> String {
    if rules.is_empty() {
        return String::new();
    }
    let mut parts = rules_lines(policy, rules);
    if !rules.requirements.is_empty() {
        parts.push(format!(
            "其他申报要求{}字",
            rules.requirements.chars().count()
        ));
    }
    format!("；本年度规则：{}", parts.join("，"))
}

fn describe(v: &ValidCompetition) -> String {
    let overridden = v
        .policy_override
        .as_ref()
        .map(|(reason, document)| format!("；延续执行理由={reason}；依据文件={document}"))
        .unwrap_or_default();
    format!(
        "年度={}；标题={}；政策={}（{}，版本{}）；申报截止={}；初审截止={}；通知正文{}字{overridden}{}",
        v.year,
        v.title,
        v.policy.id(),
        v.policy.identity.document_number,
        v.policy.identity.version,
        local_minutes(v.submission_deadline),
        local_minutes(v.review_deadline),
        v.notice_text.chars().count(),
        describe_rules(&v.policy, &v.call_rules)
    )
}

fn describe_model(m: &competition::Model) -> String {
    format!(
        "年度={}；标题={}；政策={}；申报截止={}；初审截止={}；通知正文{}字",
        m.year,
        m.title,
        m.policy_id,
        local_minutes(m.submission_deadline),
        local_minutes(m.review_deadline),
        m.notice_text.chars().count()
    )
}

/// Opens a call. The policy warning, if any, is in the returned view and the audit entry.
pub async fn create(
    app: &App,
    p: &Principal,
    input: &CompetitionInput,
) -> Result<CompetitionView, AppError> {
    authorize(p, Resource::Competition, Action::Create)?;
    let now = app.clock.now();
    // The organiser is the principal's level: the province, or a city bureau for its city; the
    // policy's level must match it (checked after the form).
    let own = match p.role {
        jiqun_domain::access::Role::CityBureau => p.org.city_code,
        _ => None,
    };
    // The one-call-a-year check reads inside the write transaction, so two people publishing at
    // once cannot both open a call for the same year.
    let txn = store::write_txn(&app.db).await?;
    let policies = super::policy::offered(&txn).await?;
    let taken = call_years(
        &txn,
        own,
        None,
        &programme_named(&policies, &input.policy_id),
    )
    .await?;
    let v = validate(
        input,
        &Context {
            now,
            policies: &policies,
            call_years: &taken,
            existing: None,
        },
    )?;
    let organiser = super::organisers::organiser_for(p, v.policy.organiser_level())?;
    let m = competition::ActiveModel {
        organiser_city_code: Set(organiser),
        year: Set(v.year),
        title: Set(v.title.clone()),
        policy_id: Set(v.policy.id().to_string()),
        policy_source: Set(v.policy_source.clone()),
        policy_hash: Set(Some(super::policy::sm3_hex(&v.policy_source))),
        override_reason: Set(v.policy_override.as_ref().map(|o| o.0.clone())),
        override_document: Set(v.policy_override.as_ref().map(|o| o.1.clone())),
        submission_deadline: Set(v.submission_deadline),
        review_deadline: Set(v.review_deadline),
        notice_text: Set(v.notice_text.clone()),
        call_rules: Set(call_rules_json(&v.call_rules)?),
        status: Set(crate::store::entity::kinds::CompetitionStatus::Open),
        created_by: Set(p.user.id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "competition.create",
                object_type: "competition",
                object_id: m.id.to_string(),
                summary: format!(
                    "发布{}竞赛通知：{}",
                    organiser_label(organiser),
                    describe(&v)
                ),
                reason: v.warnings.join("\n"),
            },
        )
        .await?;
    txn.commit().await?;
    Ok(CompetitionView::from_model(&m, now))
}

pub async fn update(
    app: &App,
    p: &Principal,
    id: CompetitionId,
    input: &CompetitionInput,
    expected_version: i32,
) -> Result<CompetitionView, AppError> {
    authorize(p, Resource::Competition, Action::Update)?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let policies = super::policy::offered(&txn).await?;
    let before = competition::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    super::organisers::check_run(p, &before)?;
    if before.status != crate::store::entity::kinds::CompetitionStatus::Open {
        return Err(AppError::Conflict("该竞赛通知已关闭，不能再修改".into()));
    }
    let taken = call_years(
        &txn,
        before.organiser_city_code,
        Some(id),
        &programme_named(&policies, &input.policy_id),
    )
    .await?;
    let v = validate(
        input,
        &Context {
            now,
            policies: &policies,
            call_years: &taken,
            existing: Some(&before),
        },
    )?;
    // A call keeps its organiser: the new text must be of the same level.
    if super::organisers::organiser_for(p, v.policy.organiser_level())?
        != before.organiser_city_code
    {
        return Err(AppError::invalid(
            "policy_id",
            "竞赛的组织层级不能更改：请选择与原政策同一层级（省级或市级）的政策",
        ));
    }
    if v.policy.id() != before.policy_id {
        let applications = application::Entity::find()
            .filter(application::Column::CompetitionId.eq(id))
            .count(&txn)
            .await?;
        if applications > 0 {
            return Err(AppError::invalid(
                "policy_id",
                format!("本次竞赛已有{applications}份申报，不能再更换政策版本"),
            ));
        }
    }
    // That year's rules are frozen once the first application is submitted; a submission
    // takes the same lock, so the two cannot pass each other.
    if v.call_rules != call_rules_of(&before) {
        store::lock::serialise(&txn, &call_rules_lock(id)).await?;
        let submitted = application::Entity::find()
            .filter(application::Column::CompetitionId.eq(id))
            .filter(application::Column::SubmittedAt.is_not_null())
            .count(&txn)
            .await?;
        if submitted > 0 {
            return Err(AppError::invalid(
                "requirements",
                format!("本次竞赛已有{submitted}份申报提交，本年度申报规则已冻结，不能再修改"),
            ));
        }
    }
    // Optimistic concurrency: the update only applies to the version the editor saw.
    store::update_versioned(
        &txn,
        id,
        expected_version,
        competition::ActiveModel {
            year: Set(v.year),
            title: Set(v.title.clone()),
            policy_id: Set(v.policy.id().to_string()),
            policy_source: Set(v.policy_source.clone()),
            policy_hash: Set(Some(super::policy::sm3_hex(&v.policy_source))),
            override_reason: Set(v.policy_override.as_ref().map(|o| o.0.clone())),
            override_document: Set(v.policy_override.as_ref().map(|o| o.1.clone())),
            submission_deadline: Set(v.submission_deadline),
            review_deadline: Set(v.review_deadline),
            notice_text: Set(v.notice_text.clone()),
            call_rules: Set(call_rules_json(&v.call_rules)?),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "competition.update",
                object_type: "competition",
                object_id: id.to_string(),
                summary: format!(
                    "修改前：{}\n修改后：{}",
                    describe_model(&before),
                    describe(&v)
                ),
                reason: v.warnings.join("\n"),
            },
        )
        .await?;
    let after = competition::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(CompetitionView::from_model(&after, now))
}

/// Closes a call: it no longer takes submissions or reviews, and another call may be opened
/// for its year.
pub async fn close(
    app: &App,
    p: &Principal,
    id: CompetitionId,
) -> Result<CompetitionView, AppError> {
    authorize(p, Resource::Competition, Action::Update)?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let before = competition::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    super::organisers::check_run(p, &before)?;
    let result = competition::Entity::update_many()
        .set(competition::ActiveModel {
            status: Set(crate::store::entity::kinds::CompetitionStatus::Closed),
            version: Set(before.version + 1),
            updated_at: Set(now),
            ..Default::default()
        })
        .filter(competition::Column::Id.eq(id))
        .filter(competition::Column::Status.eq(STATUS_OPEN))
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        txn.rollback().await?;
        return Err(AppError::Conflict("该竞赛通知已关闭".into()));
    }
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "competition.close",
                object_type: "competition",
                object_id: id.to_string(),
                summary: format!("关闭竞赛通知：{}", describe_model(&before)),
                ..Default::default()
            },
        )
        .await?;
    let after = competition::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(CompetitionView::from_model(&after, now))
}

/// "省级" or "市级（长沙市）", for audit summaries and pages.
pub fn organiser_label(organiser: Option<jiqun_domain::region::RegionCode>) -> String {
    match organiser.and_then(jiqun_domain::region::city) {
        Some(city) => format!("市级（{}）", city.name()),
        None if organiser.is_some() => "市级".into(),
        None => "省级".into(),
    }
}

mod recommended;
pub use recommended::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::id::UserId;
    use time::macros::datetime;

    fn policies() -> Vec<BoundPolicy> {
        builtin().unwrap()
    }

    fn input() -> CompetitionInput {
        CompetitionInput {
            year: 2026,
            title: "2026年度湖南省先进制造业集群竞赛".into(),
            policy_id: "hunan-2021".into(),
            submission_deadline: "2026-03-31T17:30".into(),
            review_deadline: "2026-04-03 17:30".into(),
            notice_text: "各市州工业和信息化局：\n现将有关事项通知如下。".into(),
            ..Default::default()
        }
    }

    fn ctx<'a>(policies: &'a [BoundPolicy], call_years: &'a [i32]) -> Context<'a> {
        Context {
            now: datetime!(2026-01-10 02:00 UTC),
            policies,
            call_years,
            existing: None,
        }
    }

    #[test]
    fn deadlines_are_beijing_instants() {
        let at = parse_local_datetime("2026-12-31T17:30").unwrap();
        assert_eq!(at, datetime!(2026-12-31 09:30 UTC));
        assert_eq!(
            parse_local_datetime("2026-12-31 17:30:15"),
            Some(datetime!(2026-12-31 09:30:15 UTC))
        );
        assert_eq!(local_minutes(at), "2026年12月31日 17:30");
        assert_eq!(datetime_local_value(at), "2026-12-31T17:30");
        assert_eq!(rfc3339_local(at), "2026-12-31T17:30:00+08:00");
        for bad in [
            "2026-12-31",
            "2026-12-31T25:00",
            "2026-02-30 10:00",
            "2026-12-31T1:00",
            "x",
        ] {
            assert_eq!(parse_local_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_complete_call_is_valid_and_bound_to_the_policy_text() {
        let p = policies();
        let v = validate(&input(), &ctx(&p, &[])).unwrap();
        assert_eq!(v.policy.id(), "hunan-2021");
        assert_eq!(v.policy_source, BUILTIN_POLICY_SOURCES[0].1);
        assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    }

    #[test]
    fn a_policy_expired_on_the_deadline_binds_only_by_a_recorded_override() {
        let p = policies();
        let mut i = input();
        i.submission_deadline = "2026-05-10 17:30".into();
        i.review_deadline = "2026-05-20 17:30".into();
        let err = validate(&i, &ctx(&p, &[])).unwrap_err();
        let fields: Vec<(&str, &str)> = err
            .fields()
            .iter()
            .map(|f| (f.field.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(fields.len(), 2, "{fields:?}");
        assert_eq!(fields[0].0, "override_reason");
        assert!(
            fields[0].1.contains("2026-05-10不在其有效期内"),
            "{fields:?}"
        );
        assert_eq!(fields[1].0, "override_document");
        i.override_reason = "新办法尚未出台，经厅党组会议研究延续执行".into();
        let err = validate(&i, &ctx(&p, &[])).unwrap_err();
        assert_eq!(err.fields()[0].field, "override_document");
        i.override_document = "湘工信〔2026〕1号".into();
        let v = validate(&i, &ctx(&p, &[])).unwrap();
        assert_eq!(
            v.policy_override,
            Some((i.override_reason.clone(), i.override_document.clone()))
        );
        assert!(v.warnings[0].contains("延续执行"), "{:?}", v.warnings);
        // Not yet in force is refused alike.
        let mut early = input();
        early.submission_deadline = "2021-01-10 17:30".into();
        let mut c = ctx(&p, &[]);
        c.now = datetime!(2020-12-01 00:00 UTC);
        early.review_deadline = "2021-01-20 17:30".into();
        early.year = 2021;
        let err = validate(&early, &c).unwrap_err();
        assert_eq!(err.fields()[0].field, "override_reason");
    }

    #[test]
    fn every_problem_is_reported_against_its_field() {
        let p = policies();
        let i = CompetitionInput {
            year: 2019,
            title: " ".into(),
            policy_id: "shanghai-2030".into(),
            submission_deadline: "2026-01-01 08:00".into(),
            review_deadline: "2025-12-31 08:00".into(),
            notice_text: "字".repeat(MAX_NOTICE_CHARS + 1),
            ..Default::default()
        };
        let err = validate(&i, &ctx(&p, &[])).unwrap_err();
        let fields: Vec<&str> = err.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "title",
                "year",
                "policy_id",
                "submission_deadline",
                "review_deadline",
                "notice_text"
            ]
        );
    }

    #[test]
    fn the_policy_sets_how_many_calls_a_year() {
        let p = policies();
        let err = validate(&input(), &ctx(&p, &[2026])).unwrap_err();
        assert_eq!(err.fields()[0].field, "year");
        assert!(err.fields()[0].message.contains("第七条"));
        assert!(err.fields()[0].message.contains("至多1次"));
        assert!(validate(&input(), &ctx(&p, &[2025])).is_ok());
        // Two a year when a policy says so.
        let mut two = policies();
        two[0].policy.competition.per_year = 2;
        assert!(validate(&input(), &ctx(&two, &[2026])).is_ok());
        assert!(validate(&input(), &ctx(&two, &[2026, 2026])).is_err());
    }

    #[test]
    fn an_unchanged_past_deadline_may_stay_when_editing() {
        let p = policies();
        let i = input();
        let s = parse_local_datetime(&i.submission_deadline).unwrap();
        let existing = competition::Model {
            id: CompetitionId::new(1),
            year: 2026,
            title: i.title.clone(),
            policy_id: "hunan-2021".into(),
            policy_source: format!("{}\n# as bound in 2026\n", BUILTIN_POLICY_SOURCES[0].1),
            submission_deadline: s,
            review_deadline: parse_local_datetime(&i.review_deadline).unwrap(),
            notice_text: String::new(),
            status: crate::store::entity::kinds::CompetitionStatus::Open,
            created_by: UserId::new(1),
            version: 1,
            created_at: s,
            updated_at: s,
            policy_hash: None,
            override_reason: None,
            override_document: None,
            call_rules: None,
            organiser_city_code: None,
        };
        let mut c = ctx(&p, &[]);
        c.now = datetime!(2026-04-01 00:00 UTC);
        c.existing = Some(&existing);
        let v = validate(&i, &c).unwrap();
        // The stored text is kept, not replaced by today's file of the same id.
        assert!(v.policy_source.ends_with("# as bound in 2026\n"));
        c.existing = None;
        assert!(validate(&i, &c).is_err());
    }
}
