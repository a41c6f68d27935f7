//! Views shared by the pages and the API (what both show of the same thing).

use serde::{Deserialize, Serialize};

use jiqun_domain::audit_vocabulary;

use crate::audit;
use crate::error::AppError;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    pub seq: i64,
    pub at: String,
    pub actor_name: String,
    pub actor_role: String,
    pub actor_org: String,
    /// The stored action key (`login.success`, `round.confirm`, …); filters match on it.
    pub action: String,
    /// The action as people read it (登录, 确认名单, …).
    pub action_label: String,
    pub object_type: String,
    pub object_id: String,
    /// The object as people read it: "账户（编号3）".
    pub object_text: String,
    pub summary: String,
    pub reason: String,
    pub client_addr: String,
    pub hash: String,
    /// The fields an edit changed: `{"field": {"before": …, "after": …}}`; absent when the entry
    /// records no field changes.
    #[schema(value_type = Option<Object>)]
    pub changes: Option<serde_json::Value>,
}

/// A round's steps for the step indicator: (label, `done` | `current` | `ahead`).
pub fn round_steps(status_key: &str) -> Vec<(&'static str, &'static str)> {
    jiqun_domain::round::RoundStatus::from_key(status_key)
        .map(jiqun_domain::round::steps)
        .unwrap_or_default()
        .into_iter()
        .map(|(label, state)| (label, state.key()))
        .collect()
}

/// Any object's steps for the step indicator: (label, `done` | `current` | `ahead` | `stopped`).
fn indicator(
    list: Vec<(&'static str, jiqun_domain::round::StepState)>,
) -> Vec<(&'static str, &'static str)> {
    list.into_iter()
        .map(|(label, state)| (label, state.key()))
        .collect()
}

/// An application's steps for the step indicator.
pub fn application_steps(
    status: jiqun_domain::application::Status,
) -> Vec<(&'static str, &'static str)> {
    indicator(jiqun_domain::application::steps(status))
}

/// An application's steps under its call's actors (the national programme's are its own).
pub fn application_steps_under(
    status: jiqun_domain::application::Status,
    actors: jiqun_domain::application::Actors,
) -> Vec<(&'static str, &'static str)> {
    indicator(jiqun_domain::application::steps_under(status, actors))
}

/// A development report's steps for the step indicator.
pub fn report_steps(status_key: &str) -> Vec<(&'static str, &'static str)> {
    jiqun_domain::report::Status::ALL
        .into_iter()
        .find(|s| s.key() == status_key)
        .map(|s| indicator(jiqun_domain::report::steps(s)))
        .unwrap_or_default()
}

/// A revocation case's steps for the step indicator.
pub fn case_steps(status_key: &str) -> Vec<(&'static str, &'static str)> {
    jiqun_domain::revocation::CaseStatus::from_key(status_key)
        .map(|s| indicator(jiqun_domain::revocation::steps(s)))
        .unwrap_or_default()
}

/// One changed field as the audit page shows it.
pub struct ChangeLine {
    pub field: String,
    pub before: String,
    pub after: String,
}

impl AuditEntryView {
    /// The changed fields, one line each, for the page.
    pub fn change_lines(&self) -> Vec<ChangeLine> {
        let shown = |v: Option<&serde_json::Value>| match v {
            None | Some(serde_json::Value::Null) => "（空）".to_string(),
            Some(serde_json::Value::String(s)) if s.is_empty() => "（空）".to_string(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        self.changes
            .as_ref()
            .and_then(|c| c.as_object())
            .map(|fields| {
                fields
                    .iter()
                    .map(|(field, ba)| ChangeLine {
                        field: field_label(&self.object_type, field),
                        before: shown(ba.get("before")),
                        after: shown(ba.get("after")),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The name a person reads for a changed column; the stored key (what the API returns) is the
/// column's name. A key of an application's form (`form.<key>`) keeps its key after a prefix.
fn field_label(object_type: &str, field: &str) -> String {
    if let Some(key) = field.strip_prefix("form.") {
        return format!("申报表·{key}");
    }
    let specific = match (object_type, field) {
        ("organisation", "name") => Some("单位名称"),
        ("organisation", "kind") => Some("单位类型"),
        ("cluster", "name") => Some("集群名称"),
        ("cluster" | "application", "kind") => Some("集群类型"),
        ("round", "kind") => Some("轮次类型"),
        ("objection", "name") => Some("异议人姓名"),
        ("objection", "organisation") => Some("异议人单位"),
        ("objection", "reason") => Some("异议内容"),
        _ => None,
    };
    let label = specific.unwrap_or(match field {
        "name" => "名称",
        "kind" => "类型",
        "status" => "状态",
        "active" => "启用",
        "credit_code" => "统一社会信用代码",
        "city_code" => "所在市州",
        "county_code" => "所在县市区",
        "contact_person" => "联系人",
        "contact_phone" => "联系电话",
        "contact" => "联系方式",
        "username" => "用户名",
        "display_name" => "姓名",
        "org_id" => "所属单位",
        "role" => "角色",
        "phone" => "手机号码",
        "email" => "电子邮箱",
        "must_change_password" => "须修改初始密码",
        "failed_logins" => "连续登录失败次数",
        "locked_until" => "锁定至",
        "failed_second_factors" => "连续验证码错误次数",
        "locked_by_second_factor" => "因验证码错误锁定",
        "totp_enabled" => "双因素认证",
        "activation_pending" => "待激活",
        "last_login_at" => "最近登录时间",
        "industry_code" => "主导产业",
        "lead_county_code" => "牵头县市区",
        "core_park" => "核心园区",
        "lifecycle" => "集群状态",
        "revision" => "修改次数",
        "submitted_at" => "提交时间",
        "decided_at" => "决定时间",
        "experts_per_application" => "每件评审专家人数",
        "panel_note" => "专家人数说明",
        "quotas" => "入选名额",
        "scoring_opens_at" => "评分开始时间",
        "scoring_closes_at" => "评分截止时间",
        "defence" => "答辩",
        "notice_text" => "公示正文",
        "reply" => "答复",
        "registered_at" => "登记时间",
        "decided_by" => "决定人",
        _ => "",
    });
    if label.is_empty() {
        field.to_string()
    } else {
        label.to_string()
    }
}

impl From<&crate::store::entity::audit_entry::Model> for AuditEntryView {
    fn from(m: &crate::store::entity::audit_entry::Model) -> Self {
        AuditEntryView {
            seq: m.seq,
            at: crate::clock::format_local(m.at),
            actor_name: m.actor_name.clone(),
            actor_role: m.actor_role.clone(),
            actor_org: m.actor_org.clone(),
            action: m.action.clone(),
            action_label: audit_vocabulary::action_label(&m.action)
                .unwrap_or(&m.action)
                .to_string(),
            object_type: m.object_type.clone(),
            object_text: audit_vocabulary::object_text(&m.object_type, &m.object_id),
            object_id: m.object_id.clone(),
            summary: m.summary.clone(),
            reason: m.reason.clone(),
            client_addr: m.client_addr.clone(),
            hash: m.hash.clone(),
            changes: m
                .changes
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok()),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    /// YYYY-MM-DD, Beijing time, inclusive
    pub from: Option<String>,
    /// YYYY-MM-DD, Beijing time, inclusive
    pub to: Option<String>,
    pub page: Option<u64>,
}

impl AuditQuery {
    pub fn filter(&self) -> Result<audit::Filter, AppError> {
        let day = |field: &str,
                   text: &Option<String>,
                   add_day: bool|
         -> Result<Option<time::OffsetDateTime>, AppError> {
            match text.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(t) => {
                    let d = time::Date::parse(
                        t,
                        time::macros::format_description!("[year]-[month]-[day]"),
                    )
                    .map_err(|_| AppError::invalid(field, "日期格式应为 YYYY-MM-DD"))?;
                    let d = if add_day {
                        d.next_day().unwrap_or(d)
                    } else {
                        d
                    };
                    Ok(Some(crate::clock::local_midnight(d)))
                }
            }
        };
        Ok(audit::Filter {
            actor: self.actor.clone(),
            action: self.action.clone(),
            object_type: self.object_type.clone(),
            from: day("from", &self.from, false)?,
            to: day("to", &self.to, true)?,
        })
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VerifyResult {
    pub intact: bool,
    pub entries: i64,
    pub message: String,
}

/// Verifies the chain for an administrator in the web or API, and records that it was done.
pub async fn verify_result(
    app: &crate::app::App,
    actor: &audit::Actor,
) -> Result<VerifyResult, AppError> {
    let result = match audit::verify(&app.db, &app.audit_key).await? {
        Ok(n) => VerifyResult {
            intact: true,
            entries: n,
            message: format!("审计链完整：共{n}条记录，逐条校验通过"),
        },
        Err(b) => VerifyResult {
            intact: false,
            entries: 0,
            message: format!("审计链校验失败：{b}"),
        },
    };
    audit::record_own(
        app,
        actor.clone(),
        audit::Event {
            action: "audit.verify",
            object_type: "audit_log",
            object_id: "*".into(),
            summary: result.message.clone(),
            ..Default::default()
        },
    )
    .await?;
    Ok(result)
}
