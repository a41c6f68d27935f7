//! Public notice (公示) of a round's proposed list (第十条、第十一条): the province publishes it
//! for a window of working days, anyone may file a named objection (异议) within the window, the
//! province registers and decides each one with a written reply, and once the window has closed
//! and every objection is decided it confirms the list.
//!
//! The public side needs no account: its pages and API answer anonymous requests, and an
//! objection is recorded in the audit trail with the objector as the actor.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jiqun_domain::access::{Action, Resource};
use jiqun_domain::application::{Status, Transition};
use jiqun_domain::contact;
use jiqun_domain::region;
use jiqun_domain::round::{
    self as round_rules, ObjectionStatus, ObjectionStep, RoundKind, RoundStatus, RoundStep, date_zh,
};
use jiqun_rules::Policy;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationDef, Set,
};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::{at_most, authorize, required_text, rounds, trimmed};
use crate::app::{App, Principal};
use crate::attachments::{self, Kind, Limits, Purpose, Received};
use crate::audit::{Actor, Audit, Event};
use crate::error::{AppError, Problems};
use crate::store::{
    self,
    entity::{
        attachment, blob, cluster, competition, objection, organisation, round, round_entry, user,
    },
};

/// The longest notice preamble accepted, in characters.
pub const MAX_NOTICE_CHARS: usize = 5_000;
pub const MAX_NAME_CHARS: usize = 50;
pub const MAX_ORG_CHARS: usize = 100;
pub const MAX_CONTACT_CHARS: usize = 100;
pub const MAX_REASON_CHARS: usize = 2_000;
pub const MAX_REPLY_CHARS: usize = 5_000;
/// Evidence filed by the public: smaller than the signed-in limit, since anyone may send it.
pub const PUBLIC_EVIDENCE_MAX_BYTES: u64 = 20 * 1024 * 1024;
/// Evidence may be a PDF or a photo/scan (a stamped objection letter, for instance).
pub const EVIDENCE_KINDS: &[Kind] = &[Kind::Pdf, Kind::Jpeg, Kind::Png];
/// The audit role of a member of the public.
pub const PUBLIC_ROLE: &str = "public";

/// The limits of a public evidence upload.
pub fn evidence_limits() -> Limits {
    Limits {
        purpose: Purpose::Evidence,
        max_bytes: attachments::max_upload_bytes().min(PUBLIC_EVIDENCE_MAX_BYTES),
        allowed: EVIDENCE_KINDS,
    }
}

/// The request-body limit of the objection routes: one file at the limit plus the text fields.
pub fn objection_request_limit() -> usize {
    usize::try_from(evidence_limits().max_bytes).unwrap_or(usize::MAX / 2) + 1024 * 1024
}

/// The objector as the audit trail records them: no account, their real name, role "public".
pub fn public_actor(name: &str, organisation: &str, client_addr: &str) -> Actor {
    Actor {
        user_id: None,
        name: name.to_string(),
        role: PUBLIC_ROLE.into(),
        org: organisation.to_string(),
        client_addr: client_addr.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Titles, texts and the window

pub fn notice_title(year: i32, kind: RoundKind) -> String {
    match kind {
        RoundKind::Preliminary => format!("{year}年湖南省先进制造业集群培育对象拟入选名单公示"),
        RoundKind::Final => format!("{year}年湖南省先进制造业集群拟认定名单公示"),
    }
}

/// The preamble the publish form starts with.
pub fn default_notice_text(policy: &Policy, year: i32, kind: RoundKind) -> String {
    let days = policy.public_notice.working_days;
    let what = match kind {
        RoundKind::Preliminary => "湖南省先进制造业集群培育对象",
        RoundKind::Final => "湖南省先进制造业集群",
    };
    format!(
        "根据《{name}》（{number}）有关规定，经市州推荐、专家评审，{year}年{what}拟入选名单已经产生。\
         为体现公开、公平、公正，现将拟入选名单予以公示，公示期为{days}个工作日。\n\n\
         公示期间，任何单位和个人如有异议，请以真实姓名或单位名义，通过本页面以书面形式提出，\
         写明异议事项、理由和联系方式，并提供必要的证明材料；以单位名义提出的，须上传加盖单位公章的异议书。\
         匿名或逾期提出的异议不予受理。\n\n\
         联系单位：湖南省工业和信息化厅产业集聚推进处",
        name = policy.identity.name,
        number = policy.identity.document_number,
    )
}

/// Where a notice window stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    NotStarted,
    Open,
    Closed,
}

impl WindowState {
    pub fn of(today: Date, first: Date, last: Date) -> WindowState {
        if today < first {
            WindowState::NotStarted
        } else if today <= last {
            WindowState::Open
        } else {
            WindowState::Closed
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            WindowState::NotStarted => "not_started",
            WindowState::Open => "open",
            WindowState::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            WindowState::NotStarted => "公示期尚未开始",
            WindowState::Open => "公示中",
            WindowState::Closed => "公示期已结束",
        }
    }
}

/// 公示期：2026年11月27日至2026年12月3日（5个工作日）
pub fn period_text(first: Date, last: Date, working_days: u32) -> String {
    format!(
        "{}至{}（{working_days}个工作日）",
        date_zh(first),
        date_zh(last)
    )
}

/// The competition's bound policy, parsed once per process: the public page is read far more
/// often than anything else, and the bound text never changes.
fn cached_policy(c: &competition::Model) -> Result<Arc<Policy>, AppError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Policy>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(p) = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&c.policy_source)
    {
        return Ok(p.clone());
    }
    let parsed = Arc::new(super::competitions::policy_of(c)?);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(c.policy_source.clone(), parsed.clone());
    Ok(parsed)
}

/// Cluster kind keys to their names, in the policy's order.
fn kind_labels(policy: &Policy) -> Vec<(String, String)> {
    policy
        .cluster_kinds
        .iter()
        .map(|k| (k.key.clone(), k.name.clone()))
        .collect()
}

fn kind_label(kinds: &[(String, String)], key: &str) -> String {
    kinds
        .iter()
        .find(|(k, _)| k == key)
        .map_or_else(|| key.to_string(), |(_, n)| n.clone())
}

fn kind_order(kinds: &[(String, String)], key: &str) -> usize {
    kinds
        .iter()
        .position(|(k, _)| k == key)
        .unwrap_or(usize::MAX)
}

/// The window of a published notice as stored.
fn window_of(r: &round::Model) -> Result<(Date, Date, Date), AppError> {
    match (r.notice_published_on, r.notice_first_day, r.notice_last_day) {
        (Some(p), Some(f), Some(l)) => Ok((p, f, l)),
        _ => Err(AppError::NotFound),
    }
}

/// Working days from first to last inclusive, as the window was computed.
fn working_days_of(policy: &Policy) -> u32 {
    policy.public_notice.working_days
}

// ---------------------------------------------------------------------------------------------
// Publishing

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublishInput {
    /// The notice's preamble, shown above the list.
    pub notice_text: String,
    /// The round version the editor saw; a stale one is refused with 409.
    #[serde(default)]
    pub version: Option<i32>,
}

fn ensure_version(r: &round::Model, expected: Option<i32>) -> Result<(), AppError> {
    match expected {
        Some(v) if v != r.version => Err(AppError::StaleVersion),
        _ => Ok(()),
    }
}

/// The round the province is about to take a notice step on (publish, confirm): at the version
/// the editor saw, and in a status the step may be taken from.
async fn round_for_step<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    round_id: i64,
    expected: Option<i32>,
    step: RoundStep,
) -> Result<(round::Model, RoundKind), AppError> {
    let r = rounds::load_for_update(conn, p, round_id).await?;
    ensure_version(&r, expected)?;
    let kind = r.kind;
    round_rules::step(r.status, step).map_err(|e| AppError::Conflict(e.to_string()))?;
    Ok((r, kind))
}

/// Publishes the proposed list (province): the round goes on notice today, for the policy's
/// number of working days; every shortlisted entrant goes on notice with it.
pub async fn publish(
    app: &App,
    p: &Principal,
    round_id: i64,
    input: &PublishInput,
) -> Result<round::Model, AppError> {
    authorize(p, Resource::Round, Action::Update)?;
    let text = required_text("notice_text", &input.notice_text, "请填写公示说明")?;
    at_most("notice_text", text, "公示说明", MAX_NOTICE_CHARS)?;
    // The calendar is read before the write lock is taken.
    let calendar = super::calendar::load(app).await?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let txn = store::write_txn(&app.db).await?;
    let (r, kind) =
        round_for_step(&txn, p, round_id, input.version, RoundStep::PublishNotice).await?;
    let c = rounds::competition_of(&txn, &r).await?;
    let policy = cached_policy(&c)?;
    let window = jiqun_rules::deadline::public_notice_window(&policy, &calendar, today)
        .map_err(|e| AppError::Conflict(format!("无法计算公示期：{e}")))?;
    let listed: Vec<round_entry::Model> = rounds::entries(&txn, r.id)
        .await?
        .into_iter()
        .filter(|e| e.status == Status::Shortlisted)
        .collect();
    if listed.is_empty() {
        return Err(AppError::Conflict(
            "拟定名单中没有拟入选的集群，不能发布公示".into(),
        ));
    }
    let after = rounds::step_round(&txn, &r, RoundStep::PublishNotice, now).await?;
    store::update_at_version(
        &txn,
        r.id,
        after.version,
        round::ActiveModel {
            notice_text: Set(text.to_string()),
            notice_published_on: Set(Some(window.published)),
            notice_first_day: Set(Some(window.first_day)),
            notice_last_day: Set(Some(window.last_day)),
            ..Default::default()
        },
    )
    .await?;
    for e in &listed {
        rounds::move_entry(&txn, p, kind, e, Transition::PublishNotice, "", now).await?;
    }
    let period = period_text(window.first_day, window.last_day, window.working_days);
    let title = notice_title(c.year, kind);
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "notice.publish",
                object_type: "round",
                object_id: r.id.to_string(),
                summary: format!("发布“{title}”：{}个集群，公示期{period}", listed.len()),
                reason: String::new(),
            },
        )
        .await?;
    let clusters =
        store::load_by_ids::<cluster::Entity>(&txn, listed.iter().map(|e| e.cluster_id)).await?;
    for e in &listed {
        if let Some(cl) = clusters.get(&e.cluster_id) {
            super::notifications::notify_org(
                &txn,
                cl.org_id,
                &format!("拟入选名单公示：{}", cl.name),
                &format!(
                    "{}已列入“{title}”，公示期{period}。公示期间如收到异议，省工信厅将调查核实后作出处理。",
                    cl.name
                ),
                &format!("/notices/{}", r.id),
                now,
            )
            .await?;
        }
    }
    let out = round::Entity::find_by_id(r.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The public notice

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeSummary {
    pub round_id: i64,
    pub title: String,
    pub year: i32,
    /// preliminary | final
    pub kind: String,
    /// YYYY-MM-DD
    pub published_on: String,
    /// 2026年11月27日
    pub published_on_zh: String,
    pub first_day: String,
    pub last_day: String,
    pub working_days: u32,
    /// "2026年11月27日至2026年12月3日（5个工作日）"
    pub period: String,
    /// not_started | open | closed
    pub state: String,
    pub state_label: String,
}

fn summary(
    r: &round::Model,
    c: &competition::Model,
    policy: &Policy,
    today: Date,
) -> Result<NoticeSummary, AppError> {
    let (published, first, last) = window_of(r)?;
    let kind = r.kind;
    let days = working_days_of(policy);
    // After confirmation the notice is over whatever the date says.
    let state = if r.status == RoundStatus::Confirmed {
        WindowState::Closed
    } else {
        WindowState::of(today, first, last)
    };
    Ok(NoticeSummary {
        round_id: r.id,
        title: notice_title(c.year, kind),
        year: c.year,
        kind: kind.key().into(),
        published_on: published.to_string(),
        published_on_zh: date_zh(published),
        first_day: first.to_string(),
        last_day: last.to_string(),
        working_days: days,
        period: period_text(first, last, days),
        state: state.key().into(),
        state_label: state.label().into(),
    })
}

/// Every published notice, newest first (public).
pub async fn public_list(app: &App) -> Result<Vec<NoticeSummary>, AppError> {
    let rows = round::Entity::find()
        .filter(round::Column::NoticePublishedOn.is_not_null())
        .order_by_desc(round::Column::NoticePublishedOn)
        .order_by_desc(round::Column::Id)
        .all(&app.db)
        .await?;
    let comps =
        store::load_by_ids::<competition::Entity>(&app.db, rows.iter().map(|r| r.competition_id))
            .await?;
    let today = super::calendar::today(app);
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(c) = comps.get(&r.competition_id) {
            out.push(summary(r, c, &*cached_policy(c)?, today)?);
        }
    }
    Ok(out)
}

/// One candidate as the public sees it: no scores.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicEntry {
    /// 序号
    pub no: usize,
    pub entry_id: i64,
    pub cluster_name: String,
    pub org_name: String,
    pub city_name: String,
    pub kind: String,
    pub kind_label: String,
    /// shortlisted | on_notice | confirmed | removed
    pub status: String,
    pub status_label: String,
    /// Non-empty for a removed candidate: "异议成立，已取消拟入选资格".
    pub note: String,
}

/// A decided objection as the public sees it: the receipt number, never the objector.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecidedObjection {
    pub receipt: i64,
    pub cluster_name: String,
    /// YYYY-MM-DD (Beijing)
    pub filed_on: String,
    /// dismissed | upheld
    pub status: String,
    pub status_label: String,
    pub reply: String,
}

/// What the policy asks of an objection (第十条 and the province's notice rules).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObjectionRulesView {
    pub real_name: bool,
    pub contact_required: bool,
    pub unit_seal_required: bool,
    pub evidence_allowed: bool,
    pub evidence_required: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicNotice {
    #[serde(flatten)]
    pub summary: NoticeSummary,
    pub preamble: String,
    /// Whether objections are accepted today.
    pub accepting: bool,
    pub entries: Vec<PublicEntry>,
    pub decided: Vec<DecidedObjection>,
    pub rules: ObjectionRulesView,
}

/// A round whose notice has been published; anything else is 404 to the public.
async fn published_round<C: ConnectionTrait>(
    conn: &C,
    round_id: i64,
) -> Result<round::Model, AppError> {
    round::Entity::find_by_id(round_id)
        .one(conn)
        .await?
        .filter(|r| r.notice_published_on.is_some())
        .ok_or(AppError::NotFound)
}

/// The entrants that went on notice, with names, in kind then rank order.
async fn listed_entries<C: ConnectionTrait>(
    conn: &C,
    round_id: i64,
    kinds: &[(String, String)],
) -> Result<Vec<PublicEntry>, AppError> {
    let statuses = [
        Status::OnNotice.key(),
        Status::Confirmed.key(),
        Status::Removed.key(),
    ];
    entry_rows(conn, round_id, &statuses, kinds).await
}

/// Entrants of a round in the given statuses, with names, in kind then rank order: one
/// narrow query joining clusters and organisations, whatever the list's length (the public
/// page is read at scale).
async fn entry_rows<C: ConnectionTrait>(
    conn: &C,
    round_id: i64,
    statuses: &[&str],
    kinds: &[(String, String)],
) -> Result<Vec<PublicEntry>, AppError> {
    let to_cluster: RelationDef = round_entry::Entity::belongs_to(cluster::Entity)
        .from(round_entry::Column::ClusterId)
        .to(cluster::Column::Id)
        .into();
    let to_org: RelationDef = cluster::Entity::belongs_to(organisation::Entity)
        .from(cluster::Column::OrgId)
        .to(organisation::Column::Id)
        .into();
    type Row = (i64, String, String, String, Option<i32>, String, String);
    let mut rows: Vec<Row> = round_entry::Entity::find()
        .select_only()
        .columns([
            round_entry::Column::Id,
            round_entry::Column::ClusterKind,
            round_entry::Column::CityCode,
            round_entry::Column::Status,
            round_entry::Column::Rank,
        ])
        .column(cluster::Column::Name)
        .column(organisation::Column::Name)
        .join(JoinType::InnerJoin, to_cluster)
        .join(JoinType::InnerJoin, to_org)
        .filter(round_entry::Column::RoundId.eq(round_id))
        .filter(round_entry::Column::Status.is_in(statuses.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    rows.sort_by_key(|(id, kind, _, _, rank, _, _)| {
        (kind_order(kinds, kind), rank.unwrap_or(i32::MAX), *id)
    });
    let mut cities: HashMap<String, String> = HashMap::new();
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(i, (id, kind, city, status, _, cluster_name, org_name))| {
            let city_name = cities
                .entry(city)
                .or_insert_with_key(|code| region::city_name(code))
                .clone();
            PublicEntry {
                no: i + 1,
                entry_id: id,
                cluster_name,
                org_name,
                city_name,
                kind_label: kind_label(kinds, &kind),
                kind,
                status_label: status_label(&status),
                note: if status == Status::Removed.key() {
                    "异议成立，已取消拟入选资格".into()
                } else {
                    String::new()
                },
                status,
            }
        })
        .collect())
}

fn status_label(key: &str) -> String {
    Status::from_key(key).map_or_else(|| key.to_string(), |s| s.label().to_string())
}

fn rules_view(policy: &Policy) -> ObjectionRulesView {
    let o = &policy.public_notice.objection;
    ObjectionRulesView {
        real_name: o.real_name,
        contact_required: o.contact_required,
        unit_seal_required: o.unit_seal_required,
        evidence_allowed: o.evidence_allowed,
        evidence_required: o.evidence_required,
    }
}

/// The public notice page's content (no sign-in).
/// What the public notice page depends on, in two small reads: the round's version, the day
/// (which opens and closes the objection form), and every objection's version (a decision
/// shows on the page). Equal keys mean an identical page.
pub async fn public_notice_key(app: &App, round_id: i64) -> Result<String, AppError> {
    let r = published_round(&app.db, round_id).await?;
    let versions: Vec<i32> = objection::Entity::find()
        .select_only()
        .column(objection::Column::Version)
        .filter(objection::Column::RoundId.eq(r.id))
        .into_tuple()
        .all(&app.db)
        .await?;
    Ok(format!(
        "{}:{}:{}:{}",
        r.version,
        super::calendar::today(app),
        versions.len(),
        versions.iter().map(|v| i64::from(*v)).sum::<i64>()
    ))
}

pub async fn public_notice(app: &App, round_id: i64) -> Result<PublicNotice, AppError> {
    let r = published_round(&app.db, round_id).await?;
    let c = rounds::competition_of(&app.db, &r).await?;
    let policy = cached_policy(&c)?;
    let kinds = kind_labels(&policy);
    let today = super::calendar::today(app);
    let summary = summary(&r, &c, &policy, today)?;
    let accepting = r.status == RoundStatus::OnNotice && summary.state == "open";
    let entries = listed_entries(&app.db, r.id, &kinds).await?;
    let names: HashMap<i64, String> = entries
        .iter()
        .map(|e| (e.entry_id, e.cluster_name.clone()))
        .collect();
    let decided = objection::Entity::find()
        .filter(objection::Column::RoundId.eq(r.id))
        .filter(objection::Column::Status.is_in([
            ObjectionStatus::Dismissed.key(),
            ObjectionStatus::Upheld.key(),
        ]))
        .order_by_asc(objection::Column::Id)
        .all(&app.db)
        .await?
        .into_iter()
        .map(|o| DecidedObjection {
            receipt: o.id,
            cluster_name: names.get(&o.entry_id).cloned().unwrap_or_default(),
            filed_on: crate::clock::local(o.filed_at).date().to_string(),
            status_label: o.status.label().to_string(),
            status: o.status.key().to_string(),
            reply: o.reply,
        })
        .collect();
    Ok(PublicNotice {
        summary,
        preamble: r.notice_text.clone(),
        accepting,
        entries,
        decided,
        rules: rules_view(&policy),
    })
}

// ---------------------------------------------------------------------------------------------
// Filing an objection (public)

/// An objection as typed by a member of the public.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ObjectionInput {
    /// The candidate (round entry) objected to.
    #[serde(default)]
    pub entry_id: Option<i64>,
    /// 实名: the objector's real name.
    #[serde(default)]
    pub name: String,
    /// 单位: when objecting in the name of an organisation (then a stamped letter is uploaded).
    #[serde(default)]
    pub organisation: String,
    /// A phone number or an e-mail address.
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub reason: String,
}

/// Why an objection was not taken.
#[derive(Debug)]
pub enum FileError {
    /// Too many objections from this client address within the last hour (429).
    RateLimited {
        limit: u32,
    },
    App(AppError),
}

impl From<AppError> for FileError {
    fn from(e: AppError) -> Self {
        FileError::App(e)
    }
}

impl From<sea_orm::DbErr> for FileError {
    fn from(e: sea_orm::DbErr) -> Self {
        FileError::App(AppError::from(e))
    }
}

pub fn rate_limit_message(limit: u32) -> String {
    format!("同一网络地址每小时最多可提交{limit}件异议，请稍后再试。本次提交未被保存。")
}

/// A filed objection's receipt (受理回执).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObjectionReceipt {
    /// 受理编号
    pub id: i64,
    pub round_id: i64,
    pub notice_title: String,
    pub cluster_name: String,
    /// YYYY-MM-DD HH:MM:SS, Beijing time
    pub filed_at: String,
    pub status: String,
    pub status_label: String,
    /// The province's reply, once the objection is decided.
    pub reply: String,
    /// Names of the evidence files received.
    pub evidence: Vec<String>,
    /// Opens the receipt again: `/notices/{round_id}/objections/{id}?key=…`. Only the objector
    /// gets it, so nobody can page through receipts to learn who is being objected to.
    pub key: String,
}

/// The key of a receipt: a keyed digest of its number, so it needs no column of its own.
pub fn receipt_key(app: &App, objection_id: i64) -> String {
    let digest = jiqun_domain::audit::sm3_hex(
        &[
            b"jiqun-objection-receipt-v1".as_slice(),
            &app.audit_key.0,
            &objection_id.to_be_bytes(),
        ]
        .concat(),
    );
    digest.get(..24).unwrap_or_default().to_string()
}

/// Refuses an objection outside the window (server side, whatever the page showed).
fn ensure_accepting(r: &round::Model, today: Date) -> Result<(), AppError> {
    let (_, first, last) = window_of(r)?;
    let period = format!("{}至{}", date_zh(first), date_zh(last));
    if r.status != RoundStatus::OnNotice {
        return Err(AppError::Conflict(format!(
            "公示期已结束（公示期为{period}），不再受理异议"
        )));
    }
    match WindowState::of(today, first, last) {
        WindowState::NotStarted => Err(AppError::Conflict(format!(
            "公示期为{period}，尚未开始，暂不受理异议"
        ))),
        WindowState::Closed => Err(AppError::Conflict(format!(
            "公示期已结束（公示期为{period}），不再受理异议"
        ))),
        WindowState::Open => Ok(()),
    }
}

async fn filed_last_hour<C: ConnectionTrait>(
    conn: &C,
    client_addr: &str,
    now: OffsetDateTime,
) -> Result<u64, AppError> {
    Ok(objection::Entity::find()
        .filter(objection::Column::ClientAddr.eq(client_addr))
        .filter(objection::Column::FiledAt.gt(now - time::Duration::hours(1)))
        .count(conn)
        .await?)
}

/// The checks that need no request body: the notice exists and is open today, and the address
/// has not used up its hourly allowance. Run before an upload is read, so a refused request
/// costs no disk.
pub async fn precheck(app: &App, round_id: i64, client_addr: &str) -> Result<(), FileError> {
    let r = published_round(&app.db, round_id).await?;
    ensure_accepting(&r, super::calendar::today(app))?;
    let limit = app.config.objection_rate_limit;
    if filed_last_hour(&app.db, client_addr, app.clock.now()).await? >= u64::from(limit) {
        return Err(FileError::RateLimited { limit });
    }
    Ok(())
}

fn validate_objection(
    input: &ObjectionInput,
    rules: &ObjectionRulesView,
    has_evidence: bool,
) -> Result<(), AppError> {
    let mut p = Problems::default();
    let name = input.name.trim();
    let organisation = input.organisation.trim();
    let contact_text = input.contact.trim();
    let reason = input.reason.trim();
    if input.entry_id.is_none() {
        p.add("entry_id", "请选择异议所针对的集群");
    }
    if name.is_empty() {
        if rules.real_name {
            p.add("name", "请填写真实姓名（匿名异议不予受理）");
        }
    } else if name.chars().count() > MAX_NAME_CHARS {
        p.add("name", format!("姓名不能超过{MAX_NAME_CHARS}个字"));
    }
    if organisation.chars().count() > MAX_ORG_CHARS {
        p.add(
            "organisation",
            format!("单位名称不能超过{MAX_ORG_CHARS}个字"),
        );
    }
    if contact_text.is_empty() {
        if rules.contact_required {
            p.add("contact", "请填写联系电话或电子邮箱，以便核实和答复");
        }
    } else if contact_text.chars().count() > MAX_CONTACT_CHARS
        || !(contact::is_phone(contact_text) || contact::is_email(contact_text))
    {
        p.add(
            "contact",
            "联系方式无效：请填写电话号码（如0731-88888888或13800138000）或电子邮箱",
        );
    }
    let reason_chars = reason.chars().count();
    if reason.is_empty() {
        p.add("reason", "请填写异议事项和理由");
    } else if reason_chars > MAX_REASON_CHARS {
        p.add(
            "reason",
            format!("异议理由不能超过{MAX_REASON_CHARS}字（当前{reason_chars}字）"),
        );
    }
    if !has_evidence {
        if rules.evidence_required {
            p.add(attachments::FILE_FIELD, "请上传证明材料");
        } else if rules.unit_seal_required && !organisation.is_empty() {
            p.add(
                attachments::FILE_FIELD,
                "以单位名义提出异议的，须上传加盖单位公章的异议书（PDF或扫描图片）",
            );
        }
    }
    p.into_result()
}

/// Files an objection from the public, with optional evidence already received (streamed to a
/// temporary file by the caller). On any refusal the evidence is dropped, which removes it.
pub async fn file_objection(
    app: &App,
    round_id: i64,
    client_addr: &str,
    input: &ObjectionInput,
    evidence: Option<Received>,
) -> Result<ObjectionReceipt, FileError> {
    let r = published_round(&app.db, round_id).await?;
    let now = app.clock.now();
    ensure_accepting(&r, crate::clock::local(now).date())?;
    let c = rounds::competition_of(&app.db, &r).await?;
    let policy = cached_policy(&c)?;
    let rules = rules_view(&policy);
    if evidence.is_some() && !rules.evidence_allowed {
        return Err(AppError::invalid(attachments::FILE_FIELD, "本次公示不接受上传附件").into());
    }
    validate_objection(input, &rules, evidence.is_some())?;
    let entry = match input.entry_id {
        Some(id) => round_entry::Entity::find_by_id(id)
            .one(&app.db)
            .await?
            .filter(|e| e.round_id == r.id),
        None => None,
    };
    let Some(entry) = entry.filter(|e| e.status == Status::OnNotice) else {
        return Err(AppError::invalid("entry_id", "所选集群不在本次公示名单中").into());
    };
    let limit = app.config.objection_rate_limit;
    if filed_last_hour(&app.db, client_addr, now).await? >= u64::from(limit) {
        return Err(FileError::RateLimited { limit });
    }
    // The file moves into the store before the write lock is taken (as attachments do).
    let stored = match evidence {
        Some(received) => {
            let file_name = received.file_name.clone();
            let kind = received.kind;
            let blob = attachments::store(app, &app.db, received).await?;
            Some((blob, file_name, kind))
        }
        None => None,
    };
    let name = trimmed(&input.name);
    let organisation = trimmed(&input.organisation);
    let txn = store::write_txn(&app.db).await?;
    // Counted again under a lock per address (SQLite's write lock is not enough on PostgreSQL),
    // so parallel requests cannot slip past the limit; then per notice, for the duplicate check.
    store::lock::serialise(&txn, &format!("objection:addr:{client_addr}")).await?;
    if filed_last_hour(&txn, client_addr, now).await? >= u64::from(limit) {
        return Err(FileError::RateLimited { limit });
    }
    store::lock::serialise(&txn, &format!("objection:round:{}", r.id)).await?;
    let reason = input.reason.trim().to_string();
    let contact = trimmed(&input.contact);
    if let Some(same) = objection::Entity::find()
        .filter(objection::Column::RoundId.eq(r.id))
        .filter(objection::Column::EntryId.eq(entry.id))
        .filter(objection::Column::Name.eq(&name))
        .filter(objection::Column::Organisation.eq(&organisation))
        .filter(objection::Column::Contact.eq(&contact))
        .filter(objection::Column::Reason.eq(&reason))
        .one(&txn)
        .await?
    {
        return Err(AppError::Conflict(format!(
            "您已对该集群提交过内容相同的异议（受理编号{}），无需重复提交；可凭回执查询办理进度",
            same.id
        ))
        .into());
    }
    let o = objection::ActiveModel {
        round_id: Set(r.id),
        entry_id: Set(entry.id),
        name: Set(name.clone()),
        organisation: Set(organisation.clone()),
        contact: Set(contact),
        reason: Set(reason),
        client_addr: Set(client_addr.to_string()),
        status: Set(ObjectionStatus::Received),
        reply: Set(String::new()),
        filed_at: Set(now),
        registered_at: Set(None),
        decided_at: Set(None),
        decided_by: Set(None),
        version: Set(1),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut evidence_names = Vec::new();
    let mut evidence_note = String::new();
    if let Some((blob, file_name, kind)) = &stored {
        attachment::ActiveModel {
            blob_id: Set(blob.id),
            owner_type: Set(super::owners::OwnerType::Objection.key().into()),
            owner_id: Set(o.id),
            purpose: Set(Purpose::Evidence.key().into()),
            file_name: Set(file_name.clone()),
            // The public has no account.
            uploaded_by: Set(0),
            uploaded_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        evidence_note = format!(
            "，附证明材料“{file_name}”（{}，{}，SM3 {}…）",
            kind.label(),
            attachments::human_size(u64::try_from(blob.size).unwrap_or_default()),
            blob.sm3.get(..16).unwrap_or_default()
        );
        evidence_names.push(file_name.clone());
    }
    let cluster_name = rounds::cluster_name(&txn, entry.cluster_id).await?;
    let title = notice_title(c.year, r.kind);
    Audit::by(app, public_actor(&name, &organisation, client_addr), now)
        .record(
            &txn,
            Event {
                action: "objection.file",
                object_type: "objection",
                object_id: o.id.to_string(),
                summary: format!(
                    "对“{title}”中的“{cluster_name}”提出异议（受理编号{}）{evidence_note}",
                    o.id
                ),
                reason: o.reason.clone(),
            },
        )
        .await?;
    if let Some(org) = creator_org(&txn, &r).await? {
        super::notifications::notify_org(
            &txn,
            org,
            &format!("收到公示异议：{cluster_name}"),
            &format!(
                "“{title}”收到一件针对“{cluster_name}”的异议（受理编号{}），请登记并调查核实。",
                o.id
            ),
            &format!("/rounds/{}/objections", r.id),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(ObjectionReceipt {
        id: o.id,
        round_id: r.id,
        notice_title: title,
        cluster_name,
        filed_at: crate::clock::format_local(o.filed_at),
        status: o.status.key().to_string(),
        status_label: ObjectionStatus::Received.label().into(),
        reply: String::new(),
        evidence: evidence_names,
        key: receipt_key(app, o.id),
    })
}

/// The organisation of whoever opened the round: the province's department.
async fn creator_org<C: ConnectionTrait>(
    conn: &C,
    r: &round::Model,
) -> Result<Option<i64>, AppError> {
    Ok(user::Entity::find_by_id(r.created_by)
        .one(conn)
        .await?
        .map(|u| u.org_id))
}

/// A receipt as the public sees it again: status and reply, never the objector's details.
pub async fn receipt(
    app: &App,
    round_id: i64,
    objection_id: i64,
    key: &str,
) -> Result<ObjectionReceipt, AppError> {
    let expected = receipt_key(app, objection_id);
    if key.len() != expected.len()
        || key
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0
    {
        return Err(AppError::NotFound);
    }
    let r = published_round(&app.db, round_id).await?;
    let o = objection::Entity::find_by_id(objection_id)
        .one(&app.db)
        .await?
        .filter(|o| o.round_id == r.id)
        .ok_or(AppError::NotFound)?;
    let c = rounds::competition_of(&app.db, &r).await?;
    let entry = round_entry::Entity::find_by_id(o.entry_id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let status = o.status;
    let evidence = evidence_of(&app.db, &[o.id])
        .await?
        .into_iter()
        .map(|e| e.file_name)
        .collect();
    Ok(ObjectionReceipt {
        id: o.id,
        round_id: r.id,
        notice_title: notice_title(c.year, r.kind),
        cluster_name: rounds::cluster_name(&app.db, entry.cluster_id).await?,
        filed_at: crate::clock::format_local(o.filed_at),
        status: o.status.key().to_string(),
        status_label: status.label().into(),
        reply: if status.decided() {
            o.reply.clone()
        } else {
            String::new()
        },
        evidence,
        key: key.to_string(),
    })
}

// ---------------------------------------------------------------------------------------------
// Handling objections (province)

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    pub id: i64,
    pub objection_id: i64,
    pub file_name: String,
    pub size_label: String,
    pub type_label: String,
}

async fn evidence_of<C: ConnectionTrait>(
    conn: &C,
    objection_ids: &[i64],
) -> Result<Vec<EvidenceView>, AppError> {
    if objection_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = attachment::Entity::find()
        .filter(attachment::Column::OwnerType.eq(super::owners::OwnerType::Objection.key()))
        .filter(attachment::Column::OwnerId.is_in(objection_ids.iter().copied()))
        .order_by_asc(attachment::Column::Id)
        .all(conn)
        .await?;
    let blobs = store::load_by_ids::<blob::Entity>(conn, rows.iter().map(|r| r.blob_id)).await?;
    Ok(rows
        .into_iter()
        .map(|a| {
            let b = blobs.get(&a.blob_id);
            EvidenceView {
                id: a.id,
                objection_id: a.owner_id,
                file_name: a.file_name,
                size_label: b
                    .map(|b| attachments::human_size(u64::try_from(b.size).unwrap_or_default()))
                    .unwrap_or_default(),
                type_label: b
                    .and_then(|b| Kind::from_mime(&b.mime))
                    .map(|k| k.label().to_string())
                    .unwrap_or_default(),
            }
        })
        .collect())
}

/// An objection as the province handles it, with the objector's details.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObjectionView {
    pub id: i64,
    pub round_id: i64,
    pub entry_id: i64,
    pub cluster_name: String,
    pub name: String,
    pub organisation: String,
    pub contact: String,
    pub reason: String,
    pub client_addr: String,
    /// received | investigating | dismissed | upheld
    pub status: String,
    pub status_label: String,
    pub decided: bool,
    /// The latest written reply (登记说明 while investigating, the decision's reply after).
    pub reply: String,
    /// Beijing time, YYYY-MM-DD HH:MM:SS
    pub filed_at: String,
    pub registered_at: String,
    pub decided_at: String,
    pub decided_by_name: String,
    pub evidence: Vec<EvidenceView>,
    pub version: i32,
}

async fn objection_views<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<objection::Model>,
) -> Result<Vec<ObjectionView>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
    let mut evidence: HashMap<i64, Vec<EvidenceView>> = HashMap::new();
    for e in evidence_of(conn, &ids).await? {
        evidence.entry(e.objection_id).or_default().push(e);
    }
    let entries = store::load_by_ids_map::<round_entry::Entity, _>(
        conn,
        rows.iter().map(|o| o.entry_id),
        |e| e.cluster_id,
    )
    .await?;
    let clusters = store::load_by_ids::<cluster::Entity>(conn, entries.values().copied()).await?;
    let names = store::load_by_ids_map::<user::Entity, _>(
        conn,
        rows.iter().filter_map(|o| o.decided_by),
        |u| u.display_name,
    )
    .await?;
    rows.into_iter()
        .map(|o| {
            let status = o.status;
            Ok(ObjectionView {
                id: o.id,
                round_id: o.round_id,
                entry_id: o.entry_id,
                cluster_name: entries
                    .get(&o.entry_id)
                    .and_then(|c| clusters.get(c))
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                name: o.name,
                organisation: o.organisation,
                contact: o.contact,
                reason: o.reason,
                client_addr: o.client_addr,
                status: status.key().into(),
                status_label: status.label().into(),
                decided: status.decided(),
                reply: o.reply,
                filed_at: crate::clock::format_local(o.filed_at),
                registered_at: o
                    .registered_at
                    .map(crate::clock::format_local)
                    .unwrap_or_default(),
                decided_at: o
                    .decided_at
                    .map(crate::clock::format_local)
                    .unwrap_or_default(),
                decided_by_name: o
                    .decided_by
                    .and_then(|u| names.get(&u).cloned())
                    .unwrap_or_default(),
                evidence: evidence.remove(&o.id).unwrap_or_default(),
                version: o.version,
            })
        })
        .collect()
}

/// The objections against a round's notice (province), oldest first.
pub async fn objections(
    app: &App,
    p: &Principal,
    round_id: i64,
) -> Result<(round::Model, Vec<ObjectionView>), AppError> {
    authorize(p, Resource::Objection, Action::View)?;
    let r = rounds::load(&app.db, p, round_id).await?;
    let rows = objection::Entity::find()
        .filter(objection::Column::RoundId.eq(r.id))
        .order_by_asc(objection::Column::Id)
        .all(&app.db)
        .await?;
    let views = objection_views(&app.db, rows).await?;
    Ok((r, views))
}

/// One objection (province).
pub async fn objection_view(
    app: &App,
    p: &Principal,
    objection_id: i64,
) -> Result<ObjectionView, AppError> {
    authorize(p, Resource::Objection, Action::View)?;
    let o = objection::Entity::find_by_id(objection_id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    objection_views(&app.db, vec![o])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

pub fn step_key(step: ObjectionStep) -> &'static str {
    match step {
        ObjectionStep::Register => "register",
        ObjectionStep::Dismiss => "dismiss",
        ObjectionStep::Uphold => "uphold",
    }
}

pub fn step_from_key(key: &str) -> Option<ObjectionStep> {
    [
        ObjectionStep::Register,
        ObjectionStep::Dismiss,
        ObjectionStep::Uphold,
    ]
    .into_iter()
    .find(|s| step_key(*s) == key)
}

fn step_label(step: ObjectionStep) -> &'static str {
    match step {
        ObjectionStep::Register => "登记调查",
        ObjectionStep::Dismiss => "异议不成立",
        ObjectionStep::Uphold => "异议成立",
    }
}

/// Registers, dismisses or upholds an objection (province) with a written reply. Upholding
/// removes the candidate from the list (and, in a 初赛, its application).
pub async fn decide(
    app: &App,
    p: &Principal,
    objection_id: i64,
    step: ObjectionStep,
    reply: &str,
    expected_version: Option<i32>,
) -> Result<ObjectionView, AppError> {
    authorize(p, Resource::Objection, Action::Review)?;
    let reply = required_text(
        "reply",
        reply,
        match step {
            ObjectionStep::Register => "请填写登记说明（如调查核实的安排）",
            _ => "请填写书面答复意见",
        },
    )?;
    at_most("reply", reply, "答复", MAX_REPLY_CHARS)?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let o = objection::Entity::find_by_id(objection_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if expected_version.is_some_and(|v| v != o.version) {
        return Err(AppError::StaleVersion);
    }
    let r = round::Entity::find_by_id(o.round_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let from = o.status;
    let to =
        round_rules::objection_step(from, step).map_err(|e| AppError::Conflict(e.to_string()))?;
    if r.status != RoundStatus::OnNotice {
        return Err(AppError::Conflict(format!(
            "评审轮次当前状态为“{}”，不能再处理异议",
            r.status.label()
        )));
    }
    store::update_versioned(
        &txn,
        o.id,
        o.version,
        objection::ActiveModel {
            status: Set(to),
            reply: Set(reply.to_string()),
            registered_at: Set(if step == ObjectionStep::Register {
                Some(now)
            } else {
                o.registered_at
            }),
            decided_at: Set(to.decided().then_some(now)),
            decided_by: Set(to.decided().then_some(p.user.id)),
            ..Default::default()
        },
    )
    .await?;
    let entry = round_entry::Entity::find_by_id(o.entry_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let cluster = cluster::Entity::find_by_id(entry.cluster_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut effect = String::new();
    if step == ObjectionStep::Uphold {
        if entry.status == Status::OnNotice {
            let kind = r.kind;
            let moved =
                rounds::move_entry(&txn, p, kind, &entry, Transition::Remove, reply, now).await?;
            let mut active: round_entry::ActiveModel = moved.clone().into();
            active.decision_note = Set(format!("异议成立（受理编号{}）：{reply}", o.id));
            active.version = Set(moved.version + 1);
            active.update(&txn).await?;
            effect = "，取消其拟入选资格".into();
            super::notifications::notify_org(
                &txn,
                cluster.org_id,
                &format!("公示异议成立：{}", cluster.name),
                &format!(
                    "经调查核实，针对{}的公示异议成立，取消其拟入选资格。答复意见：{reply}",
                    cluster.name
                ),
                &format!("/notices/{}", r.id),
                now,
            )
            .await?;
        } else {
            // An earlier upheld objection already removed the candidate.
            effect = "（该集群此前已被取消拟入选资格）".into();
        }
    }
    Audit::of(app, p, now)
        .record_changes(
            &txn,
            Event {
                action: match step {
                    ObjectionStep::Register => "objection.register",
                    ObjectionStep::Dismiss => "objection.dismiss",
                    ObjectionStep::Uphold => "objection.uphold",
                },
                object_type: "objection",
                object_id: o.id.to_string(),
                summary: format!(
                    "{}：针对“{}”的异议（受理编号{}），{} → {}{effect}",
                    step_label(step),
                    cluster.name,
                    o.id,
                    from.label(),
                    to.label()
                ),
                reason: reply.to_string(),
            },
            crate::audit::changes_since::<objection::Entity, _>(&txn, &o).await?,
        )
        .await?;
    let after = objection::Entity::find_by_id(o.id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let view = objection_views(&txn, vec![after])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(view)
}

/// Opens an objection's evidence for the province (Resource::Objection); 404 for anyone else
/// and for files that are not objection evidence.
pub async fn open_evidence(
    app: &App,
    p: &Principal,
    attachment_id: i64,
) -> Result<attachments::Download, AppError> {
    let a = attachment::Entity::find_by_id(attachment_id)
        .one(&app.db)
        .await?
        .filter(|a| a.owner_type == super::owners::OwnerType::Objection.key())
        .ok_or(AppError::NotFound)?;
    super::owners::can_read_objection(app, p, a.owner_id).await?;
    attachments::open(app, a.id).await
}

// ---------------------------------------------------------------------------------------------
// The province's view of a round's notice, and confirmation

/// What the province's notice page shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoundNotice {
    pub round_id: i64,
    pub competition_id: i64,
    pub year: i32,
    pub kind: String,
    pub kind_label: String,
    pub status: String,
    pub status_label: String,
    pub title: String,
    /// As published, or (before publication) the default preamble for the form.
    pub notice_text: String,
    pub published: bool,
    /// Empty before publication.
    pub period: String,
    pub state: String,
    pub state_label: String,
    /// Candidates on the proposed list (before publication) or on notice (after).
    pub entries: Vec<PublicEntry>,
    pub objections_total: u64,
    pub objections_open: u64,
    /// YYYY-MM-DD when confirmed.
    pub confirmed_on: String,
    /// Why the list cannot be confirmed yet; empty when it can (or is).
    pub confirm_blocker: String,
    pub version: i32,
}

pub async fn round_notice(
    app: &App,
    p: &Principal,
    round_id: i64,
) -> Result<RoundNotice, AppError> {
    let r = rounds::load(&app.db, p, round_id).await?;
    let c = rounds::competition_of(&app.db, &r).await?;
    let policy = cached_policy(&c)?;
    let kinds = kind_labels(&policy);
    let kind = r.kind;
    let status = r.status;
    let today = super::calendar::today(app);
    let published = r.notice_published_on.is_some();
    let entries = if published {
        listed_entries(&app.db, r.id, &kinds).await?
    } else {
        proposed_entries(app, &r, &kinds).await?
    };
    let statuses: Vec<ObjectionStatus> = objection::Entity::find()
        .filter(objection::Column::RoundId.eq(r.id))
        .all(&app.db)
        .await?
        .iter()
        .map(|o| o.status)
        .collect();
    let open = statuses.iter().filter(|s| !s.decided()).count() as u64;
    let (period, state, confirm_blocker) = match window_of(&r) {
        Ok((_, first, last)) => {
            let state = if status == RoundStatus::Confirmed {
                WindowState::Closed
            } else {
                WindowState::of(today, first, last)
            };
            let blocker = if status == RoundStatus::OnNotice {
                round_rules::confirmable(today, last, &statuses)
                    .err()
                    .unwrap_or_default()
            } else {
                String::new()
            };
            (
                period_text(first, last, working_days_of(&policy)),
                Some(state),
                blocker,
            )
        }
        Err(_) => (String::new(), None, String::new()),
    };
    Ok(RoundNotice {
        round_id: r.id,
        competition_id: c.id,
        year: c.year,
        kind: kind.key().into(),
        kind_label: kind.label().into(),
        status: status.key().into(),
        status_label: status.label().into(),
        title: notice_title(c.year, kind),
        notice_text: if published {
            r.notice_text.clone()
        } else {
            default_notice_text(&policy, c.year, kind)
        },
        published,
        period,
        state: state.map(|s| s.key().to_string()).unwrap_or_default(),
        state_label: state.map(|s| s.label().to_string()).unwrap_or_default(),
        entries,
        objections_total: statuses.len() as u64,
        objections_open: open,
        confirmed_on: r.confirmed_on.map(|d| d.to_string()).unwrap_or_default(),
        confirm_blocker,
        version: r.version,
    })
}

/// The shortlisted entrants of a round not yet on notice.
async fn proposed_entries(
    app: &App,
    r: &round::Model,
    kinds: &[(String, String)],
) -> Result<Vec<PublicEntry>, AppError> {
    entry_rows(&app.db, r.id, &[Status::Shortlisted.key()], kinds).await
}

/// What a confirmation did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConfirmOutcome {
    pub round_id: i64,
    /// YYYY-MM-DD
    pub confirmed_on: String,
    pub designations: Vec<super::designations::CertificateRow>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfirmInput {
    /// The round version the province saw; a stale one is refused with 409.
    #[serde(default)]
    pub version: Option<i32>,
}

/// Confirms the list (province) once the window has closed and every objection is decided:
/// in one transaction the round is confirmed, every candidate still on notice is confirmed and
/// designated with a numbered certificate, and its cluster takes the designation's standing.
pub async fn confirm(
    app: &App,
    p: &Principal,
    round_id: i64,
    input: &ConfirmInput,
) -> Result<ConfirmOutcome, AppError> {
    authorize(p, Resource::Round, Action::Update)?;
    authorize(p, Resource::Certificate, Action::Create)?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let txn = store::write_txn(&app.db).await?;
    let (r, kind) = round_for_step(&txn, p, round_id, input.version, RoundStep::Confirm).await?;
    let (_, first, last) = window_of(&r).map_err(|_| AppError::Conflict("公示尚未发布".into()))?;
    let objections = objection::Entity::find()
        .filter(objection::Column::RoundId.eq(r.id))
        .all(&txn)
        .await?;
    let statuses: Vec<ObjectionStatus> = objections.iter().map(|o| o.status).collect();
    round_rules::confirmable(today, last, &statuses).map_err(AppError::Conflict)?;
    let after = rounds::step_round(&txn, &r, RoundStep::Confirm, now).await?;
    store::update_at_version(
        &txn,
        r.id,
        after.version,
        round::ActiveModel {
            confirmed_on: Set(Some(today)),
            ..Default::default()
        },
    )
    .await?;
    let c = rounds::competition_of(&txn, &r).await?;
    let on_notice: Vec<round_entry::Model> = rounds::entries(&txn, r.id)
        .await?
        .into_iter()
        .filter(|e| e.status == Status::OnNotice)
        .collect();
    let mut created = Vec::with_capacity(on_notice.len());
    for e in &on_notice {
        let moved = rounds::move_entry(&txn, p, kind, e, Transition::Confirm, "", now).await?;
        created.push(super::designations::designate(app, &txn, p, &r, kind, &moved, now).await?);
    }
    let upheld = statuses
        .iter()
        .filter(|s| **s == ObjectionStatus::Upheld)
        .count();
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "round.confirm",
                object_type: "round",
                object_id: r.id.to_string(),
                summary: format!(
                    "确认{}年{}名单：{}个集群被{}为{}；公示期{}至{}，收到异议{}件（成立{}件）",
                    c.year,
                    kind.label(),
                    created.len(),
                    super::designations::decided_verb(kind),
                    kind.outcome().label(),
                    date_zh(first),
                    date_zh(last),
                    statuses.len(),
                    upheld
                ),
                reason: String::new(),
            },
        )
        .await?;
    let rows = super::designations::rows_for(&txn, &created).await?;
    txn.commit().await?;
    Ok(ConfirmOutcome {
        round_id: r.id,
        confirmed_on: today.to_string(),
        designations: rows,
    })
}
