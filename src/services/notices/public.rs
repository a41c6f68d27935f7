//! The public notice as anyone sees it, without an account: the list of notices and one round's
//! notice with its entrants, its window and the objection rules.

use crate::store::id::{EntryId, ObjectionId, RoundId};
use std::collections::HashMap;

use jiqun_domain::application::Status;
use jiqun_domain::region;
use jiqun_domain::round::{ObjectionStatus, RoundStatus, date_zh};
use jiqun_rules::Policy;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationDef,
};
use serde::Serialize;
use time::Date;

use super::{
    WindowState, kind_label, kind_labels, kind_order, notice_title, period_text, window_of,
    working_days_of,
};
use crate::app::App;
use crate::error::AppError;
use crate::services::competitions::policy_of;
use crate::services::rounds;
use crate::store::{
    self,
    entity::{cluster, competition, objection, organisation, round, round_entry},
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeSummary {
    #[schema(value_type = i64)]
    pub round_id: RoundId,
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
        title: notice_title(policy, c.year, kind)?,
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
    let today = crate::services::calendar::today(app);
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(c) = comps.get(&r.competition_id) {
            out.push(summary(r, c, &*policy_of(c)?, today)?);
        }
    }
    Ok(out)
}

/// One candidate as the public sees it: no scores.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicEntry {
    /// 序号
    pub no: usize,
    #[schema(value_type = i64)]
    pub entry_id: EntryId,
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
    #[schema(value_type = i64)]
    pub receipt: ObjectionId,
    /// "2026-00012"
    pub receipt_number: String,
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
pub(super) async fn published_round<C: ConnectionTrait>(
    conn: &C,
    round_id: RoundId,
) -> Result<round::Model, AppError> {
    round::Entity::find_by_id(round_id)
        .one(conn)
        .await?
        .filter(|r| r.notice_published_on.is_some())
        .ok_or(AppError::NotFound)
}

/// The entrants that went on notice, with names, in kind then rank order.
pub(super) async fn listed_entries<C: ConnectionTrait>(
    conn: &C,
    round_id: RoundId,
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
pub(super) async fn entry_rows<C: ConnectionTrait>(
    conn: &C,
    round_id: RoundId,
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
    type Row = (
        EntryId,
        String,
        String,
        String,
        Option<i32>,
        String,
        String,
        String,
    );
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
        .column(round_entry::Column::NoticeSnapshot)
        .join(JoinType::InnerJoin, to_cluster)
        .join(JoinType::InnerJoin, to_org)
        .filter(round_entry::Column::RoundId.eq(round_id))
        .filter(round_entry::Column::Status.is_in(statuses.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    rows.sort_by_key(|(id, kind, _, _, rank, _, _, _)| {
        (kind_order(kinds, kind), rank.unwrap_or(i32::MAX), *id)
    });
    let mut cities: HashMap<String, String> = HashMap::new();
    Ok(rows
        .into_iter()
        .enumerate()
        .map(
            |(i, (id, kind, city, status, _, cluster_name, org_name, frozen))| {
                let city_name = cities
                    .entry(city)
                    .or_insert_with_key(|code| region::city_name(code))
                    .clone();
                // A published notice reads what it showed on the day; the proposed list is live.
                let (cluster_name, org_name, city_name, kind_label) =
                    match crate::services::records::Snapshot::parse(&frozen) {
                        Some(s) => (s.cluster_name, s.org_name, s.city_name, s.kind_label),
                        None => (cluster_name, org_name, city_name, kind_label(kinds, &kind)),
                    };
                PublicEntry {
                    no: i + 1,
                    entry_id: id,
                    cluster_name,
                    org_name,
                    city_name,
                    kind_label,
                    kind,
                    status_label: status_label(&status),
                    note: if status == Status::Removed.key() {
                        "异议成立，已取消拟入选资格".into()
                    } else {
                        String::new()
                    },
                    status,
                }
            },
        )
        .collect())
}

fn status_label(key: &str) -> String {
    Status::from_key(key).map_or_else(|| key.to_string(), |s| s.label().to_string())
}

pub(crate) fn rules_view(policy: &Policy) -> ObjectionRulesView {
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
pub async fn public_notice(app: &App, round_id: RoundId) -> Result<PublicNotice, AppError> {
    let r = published_round(&app.db, round_id).await?;
    let c = rounds::competition_of(&app.db, &r).await?;
    let policy = policy_of(&c)?;
    let kinds = kind_labels(&policy);
    let today = crate::services::calendar::today(app);
    let summary = summary(&r, &c, &policy, today)?;
    let accepting = r.status == RoundStatus::OnNotice && summary.state == "open";
    let entries = listed_entries(&app.db, r.id, &kinds).await?;
    let names: HashMap<EntryId, String> = entries
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
            receipt_number: jiqun_domain::round::receipt_number(
                crate::clock::local(o.filed_at).year(),
                o.id.get(),
            ),
            cluster_name: names.get(&o.entry_id).cloned().unwrap_or_default(),
            filed_on: crate::clock::day_for_people(crate::clock::local(o.filed_at).date()),
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
