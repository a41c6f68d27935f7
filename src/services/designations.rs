//! Designations (培育对象 / 省先进制造业集群) made by a confirmed round, their numbered
//! certificates (证书, printable on A4 and as PDF, checkable by anyone at `/verify/{code}`),
//! the titles a revocation decision voids (`services::revocation`), the annual announcement of results (第十二条) and the Excel list of a round.
//!
//! A cluster's standing (第三条、第十条、第十一条、第十四条) is never set by hand: certification
//! supersedes its 培育对象 title, and [`refresh_standing`], the one writer of
//! `clusters.lifecycle`, stores what `jiqun_domain::lifecycle::standing` makes of its titles.

use crate::store::id::{ClusterId, CompetitionId, DesignationId, EntryId, RoundId};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use jiqun_domain::access::{Action, Resource, ScopeKind};
use jiqun_domain::application::Status;
use jiqun_domain::certificate::CertificateKey;
use jiqun_domain::lifecycle::{self, Closure, Standing, Title};
use jiqun_domain::region;
use jiqun_domain::round::{Designation, RoundKind, RoundStatus, date_zh};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde::Serialize;
use time::OffsetDateTime;

use super::workbook::{self, xlsx_err};
use super::{authorize, clusters, rounds, saved};
use crate::app::{App, Principal};
use crate::audit::{self, Audit, Event};
use crate::error::AppError;
use crate::pdf::{CertificateCheck, CertificateText, FontCache, PdfError};
use crate::services::records::Snapshot;
use crate::store::{
    self,
    entity::{cluster, competition, designation, kinds::Lifecycle, round, round_entry},
};

/// Who issues certificates and announcements: the installation's department.
pub fn issuer() -> &'static str {
    crate::config::department()
}

/// One designation with its certificate, as lists and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CertificateRow {
    #[schema(value_type = i64)]
    pub id: DesignationId,
    pub certificate_number: String,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    pub org_name: String,
    pub city_name: String,
    #[schema(value_type = i64)]
    pub round_id: RoundId,
    /// cultivation_target | certified
    pub designation: String,
    /// 湖南省先进制造业集群培育对象 | 湖南省先进制造业集群
    pub designation_label: String,
    /// YYYY-MM-DD
    pub effective_on: String,
    /// 2026年12月4日
    pub effective_on_zh: String,
    pub year: i32,
    pub revoked: bool,
    /// YYYY-MM-DD, empty unless revoked.
    pub revoked_on: String,
    pub revoked_on_zh: String,
    pub revoke_reason: String,
    /// A 培育对象 title replaced by the cluster's certification (换发); no longer in force.
    pub superseded: bool,
    /// YYYY-MM-DD, empty unless superseded.
    pub superseded_on: String,
    pub superseded_on_zh: String,
    /// The short code of the public check, e.g. C2026-001 (`/verify/C2026-001`).
    pub verify_code: String,
    /// The cluster kind the certificate named when issued, e.g. 优势产业集群.
    pub kind_label: String,
    /// The counties it named, e.g. 长沙市长沙县、长沙市浏阳市.
    pub counties: String,
    /// For a certificate reissued (换发) after a 变更申请: the number it replaced.
    pub reissue_of: String,
    /// The day this certificate was issued (YYYY-MM-DD); for a reissue later than the title.
    pub issued_on: String,
    pub issued_on_zh: String,
}

/// The rows for designations, with names: three queries for any number.
pub async fn rows_for<C: ConnectionTrait>(
    conn: &C,
    list: &[designation::Model],
) -> Result<Vec<CertificateRow>, AppError> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let clusters =
        store::load_by_ids::<cluster::Entity>(conn, list.iter().map(|d| d.cluster_id)).await?;
    let orgs = clusters::org_names(conn, clusters.values().map(|c| c.org_id)).await?;
    list.iter()
        .map(|d| {
            let kind = d.designation;
            let cl = clusters.get(&d.cluster_id);
            // The certificate reads what it showed when issued; only a row written before
            // snapshots existed (and not yet upgraded) falls back to the live cluster.
            let frozen = Snapshot::parse(&d.snapshot).unwrap_or_else(|| Snapshot {
                cluster_name: cl.map(|c| c.name.clone()).unwrap_or_default(),
                org_name: cl
                    .and_then(|c| orgs.get(&c.org_id).cloned())
                    .unwrap_or_default(),
                city_name: cl
                    .map(|c| region::city_name_of(c.city_code))
                    .unwrap_or_default(),
                kind: cl.map(|c| c.kind.clone()).unwrap_or_default(),
                ..Snapshot::default()
            });
            let issued_on = super::calendar::parse_date(&frozen.issued_on)
                .ok()
                .unwrap_or(d.effective_on);
            Ok(CertificateRow {
                id: d.id,
                certificate_number: d.certificate_number.clone(),
                cluster_id: d.cluster_id,
                cluster_name: frozen.cluster_name.clone(),
                org_name: frozen.org_name.clone(),
                city_name: frozen.city_name.clone(),
                kind_label: frozen.kind_label.clone(),
                counties: frozen.counties_text(),
                reissue_of: frozen.reissue_of.clone(),
                issued_on: issued_on.to_string(),
                issued_on_zh: date_zh(issued_on),
                round_id: d.round_id,
                designation: kind.key().into(),
                designation_label: crate::config::title_of(kind).into(),
                effective_on: d.effective_on.to_string(),
                effective_on_zh: date_zh(d.effective_on),
                year: d.year,
                revoked: d.revoked_on.is_some(),
                revoked_on: d.revoked_on.map(|d| d.to_string()).unwrap_or_default(),
                revoked_on_zh: d.revoked_on.map(date_zh).unwrap_or_default(),
                revoke_reason: d.revoke_reason.clone(),
                superseded: d.superseded_on.is_some(),
                superseded_on: d.superseded_on.map(|d| d.to_string()).unwrap_or_default(),
                superseded_on_zh: d.superseded_on.map(date_zh).unwrap_or_default(),
                verify_code: key_of(d).code(),
            })
        })
        .collect()
}

/// How a round's outcome is worded: a 初赛 确定 its cultivation targets, a 决赛 认定 clusters.
pub(crate) fn decided_verb(kind: RoundKind) -> &'static str {
    match kind {
        RoundKind::Preliminary => "确定",
        RoundKind::Final => "认定",
    }
}

/// The certificate a designation issued, as the public check names it.
fn key_of(d: &designation::Model) -> CertificateKey {
    CertificateKey {
        designation: d.designation,
        year: d.year,
        seq: u32::try_from(d.seq).unwrap_or_default(),
    }
}

/// A designation as a title of the pure rule.
pub(crate) fn title_of(d: &designation::Model) -> Title {
    let closed = match (d.revoked_on, d.superseded_on) {
        (Some(on), _) => Some(Closure::Revoked(on)),
        (None, Some(on)) => Some(Closure::Superseded(on)),
        (None, None) => None,
    };
    Title {
        designation: d.designation,
        effective_on: d.effective_on,
        closed,
    }
}

/// A cluster's designations in the order they were conferred.
async fn designations_of<C: ConnectionTrait>(
    conn: &C,
    cluster_id: ClusterId,
) -> Result<Vec<designation::Model>, AppError> {
    Ok(designation::Entity::find()
        .filter(designation::Column::ClusterId.eq(cluster_id))
        .order_by_asc(designation::Column::EffectiveOn)
        .order_by_asc(designation::Column::Id)
        .all(conn)
        .await?)
}

/// Makes changes to one cluster's titles happen one at a time (a confirmation and a
/// revocation of the same cluster read the titles before they write).
async fn serialise_titles(
    txn: &DatabaseTransaction,
    cluster_id: ClusterId,
) -> Result<(), AppError> {
    Ok(store::lock::serialise(txn, &format!("cluster-titles:{cluster_id}")).await?)
}

/// Links the certificates a new one replaced (换发) to it, for the public check.
async fn mark_superseded_by<C: ConnectionTrait>(
    conn: &C,
    held: &[designation::Model],
    numbers: &[String],
    successor: DesignationId,
) -> Result<(), AppError> {
    let ids: Vec<DesignationId> = held
        .iter()
        .filter(|d| numbers.contains(&d.certificate_number))
        .map(|d| d.id)
        .collect();
    designation::Entity::update_many()
        .col_expr(
            designation::Column::SupersededBy,
            Expr::value(Some(successor)),
        )
        .filter(designation::Column::Id.is_in(ids))
        .exec(conn)
        .await?;
    Ok(())
}

/// Where a cluster stands, from its designations.
pub async fn standing_of<C: ConnectionTrait>(
    conn: &C,
    cluster_id: ClusterId,
) -> Result<Standing, AppError> {
    let titles: Vec<Title> = designations_of(conn, cluster_id)
        .await?
        .iter()
        .map(title_of)
        .collect();
    Ok(lifecycle::standing(&titles))
}

/// The one writer of `clusters.lifecycle`, a cache of the standing the cluster's titles give;
/// called in the transaction of every designation change. Returns (before, after).
pub async fn refresh_standing<C: ConnectionTrait>(
    conn: &C,
    cluster_id: ClusterId,
    now: OffsetDateTime,
) -> Result<(Lifecycle, Lifecycle), AppError> {
    let cl = cluster::Entity::find_by_id(cluster_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let after = Lifecycle::of_standing(standing_of(conn, cluster_id).await?);
    if after != cl.lifecycle {
        store::update_versioned(
            conn,
            cl.id,
            cl.version,
            cluster::ActiveModel {
                lifecycle: Set(after),
                updated_at: Set(now),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok((cl.lifecycle, after))
}

/// Designates a confirmed entrant, inside the confirming transaction: a certification
/// supersedes the cluster's open 培育对象 titles that day (第十一条), then the next certificate
/// number of the designation's kind and year, the cluster's new standing, the audit entry and
/// the applicant's notification.
pub async fn designate(
    app: &App,
    conn: &DatabaseTransaction,
    p: &Principal,
    r: &round::Model,
    kind: RoundKind,
    entry: &round_entry::Model,
    now: OffsetDateTime,
) -> Result<designation::Model, AppError> {
    let outcome = kind.outcome();
    let today = crate::clock::local(now).date();
    let year = today.year();
    // Two rounds confirmed at once must not read the same last number (PostgreSQL).
    crate::store::lock::serialise(conn, &format!("certificate:{}:{year}", outcome.key())).await?;
    serialise_titles(conn, entry.cluster_id).await?;
    let held = designations_of(conn, entry.cluster_id).await?;
    let mut titles: Vec<Title> = held.iter().map(title_of).collect();
    let mut superseded = Vec::new();
    for i in lifecycle::confer(&mut titles, outcome, today) {
        let old = &held[i];
        let res = designation::Entity::update_many()
            .col_expr(designation::Column::SupersededOn, Expr::value(Some(today)))
            .filter(designation::Column::Id.eq(old.id))
            .filter(designation::Column::SupersededOn.is_null())
            .filter(designation::Column::RevokedOn.is_null())
            .exec(conn)
            .await?;
        saved(&res)?;
        superseded.push(old.certificate_number.clone());
    }
    let seq = next_seq(conn, outcome, year).await?;
    // The prefix is the programme's wording, from the policy the call is bound to.
    let call = competition::Entity::find_by_id(r.competition_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let policy = super::competitions::policy_of(&call)?;
    let prefixes = super::policy::prefixes_of(&policy)?;
    let number =
        outcome.certificate_number(&prefixes, year, u32::try_from(seq).unwrap_or_default());
    // The certificate shows the cluster as it stands today, for good.
    let snapshot = super::records::of_entries(conn, std::slice::from_ref(entry), &policy)
        .await?
        .remove(&entry.id)
        .ok_or(AppError::NotFound)?;
    let d = designation::ActiveModel {
        cluster_id: Set(entry.cluster_id),
        round_id: Set(r.id),
        entry_id: Set(entry.id),
        designation: Set(outcome),
        effective_on: Set(today),
        year: Set(year),
        seq: Set(seq),
        certificate_number: Set(number.clone()),
        superseded_on: Set(None),
        revoked_on: Set(None),
        revoke_reason: Set(String::new()),
        decided_by: Set(p.user.id),
        created_at: Set(now),
        snapshot: Set(snapshot.to_json()?),
        superseded_by: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    if !superseded.is_empty() {
        mark_superseded_by(conn, &held, &superseded, d.id).await?;
    }
    let (before, after) = refresh_standing(conn, entry.cluster_id, now).await?;
    let cl = cluster::Entity::find_by_id(entry.cluster_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let replaced = if superseded.is_empty() {
        String::new()
    } else {
        format!(
            "；原{}称号（证书编号{}）同日换发",
            crate::config::title_of(Designation::CultivationTarget),
            superseded.join("、")
        )
    };
    Audit::of(app, p, now)
        .record(
            conn,
            Event {
                action: "designation.create",
                object_type: "designation",
                object_id: d.id.to_string(),
                summary: format!(
                    "“{}”被{}为{}，证书编号{number}，自{}起{replaced}（集群状态 {} → {}）",
                    cl.name,
                    decided_verb(kind),
                    crate::config::title_of(outcome),
                    date_zh(today),
                    before.key(),
                    after.key()
                ),
                reason: String::new(),
            },
        )
        .await?;
    super::notifications::notify_org(
        conn,
        cl.org_id,
        &format!("{}：{}", crate::config::title_of(outcome), cl.name),
        &format!(
            "经评审、公示，{}于{}被{}为{}，证书编号{number}。",
            cl.name,
            date_zh(today),
            decided_verb(kind),
            crate::config::title_of(outcome)
        ),
        &format!("/certificates/{}", d.id),
        now,
    )
    .await?;
    Ok(d)
}

/// The next certificate sequence of a kind in a year; the caller holds the numbering lock
/// (`certificate:{kind}:{year}`) in its transaction.
async fn next_seq<C: ConnectionTrait>(
    conn: &C,
    outcome: Designation,
    year: i32,
) -> Result<i32, AppError> {
    let last = designation::Entity::find()
        .filter(designation::Column::Designation.eq(outcome))
        .filter(designation::Column::Year.eq(year))
        .order_by_desc(designation::Column::Seq)
        .one(conn)
        .await?
        .map_or(0, |d| d.seq);
    Ok(last + 1)
}

/// Reissues (换发) every certificate the cluster holds in force, inside the transaction of an
/// approved 变更申请, after the change was applied: each gets a successor under the next number
/// of its kind and the issuing year, showing the cluster as it now stands (the title keeps the
/// day it was conferred and the scores it was conferred on), and is itself closed as superseded
/// today with a link to its successor. Returns (old, new) pairs.
pub async fn reissue(
    conn: &DatabaseTransaction,
    p: &Principal,
    cluster_id: ClusterId,
    now: OffsetDateTime,
) -> Result<Vec<(designation::Model, designation::Model)>, AppError> {
    let today = crate::clock::local(now).date();
    let year = today.year();
    let policy = super::policy::current_on(today)?.policy;
    let prefixes = super::policy::prefixes_of(&policy)?;
    serialise_titles(conn, cluster_id).await?;
    let held = designations_of(conn, cluster_id).await?;
    let cl = cluster::Entity::find_by_id(cluster_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut titles: Vec<Title> = held.iter().map(title_of).collect();
    let mut out = Vec::new();
    for (i, old) in held.iter().enumerate() {
        if lifecycle::reissue(&mut titles, i, today).is_none() {
            continue;
        }
        let kind = old.designation;
        // Parallel approvals (and confirmations) must not read the same last number.
        store::lock::serialise(conn, &format!("certificate:{}:{year}", kind.key())).await?;
        let seq = next_seq(conn, kind, year).await?;
        let number =
            kind.certificate_number(&prefixes, year, u32::try_from(seq).unwrap_or_default());
        let was = Snapshot::parse(&old.snapshot).unwrap_or_default();
        let mut snapshot =
            super::records::of_cluster(conn, &cl, &policy, (was.final_score, was.rank)).await?;
        snapshot.reissue_of = old.certificate_number.clone();
        snapshot.issued_on = today.to_string();
        let new = designation::ActiveModel {
            cluster_id: Set(cluster_id),
            round_id: Set(old.round_id),
            entry_id: Set(old.entry_id),
            designation: Set(kind),
            effective_on: Set(old.effective_on),
            year: Set(year),
            seq: Set(seq),
            certificate_number: Set(number),
            superseded_on: Set(None),
            revoked_on: Set(None),
            revoke_reason: Set(String::new()),
            decided_by: Set(p.user.id),
            created_at: Set(now),
            snapshot: Set(snapshot.to_json()?),
            superseded_by: Set(None),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        let res = designation::Entity::update_many()
            .col_expr(designation::Column::SupersededOn, Expr::value(Some(today)))
            .col_expr(designation::Column::SupersededBy, Expr::value(Some(new.id)))
            .filter(designation::Column::Id.eq(old.id))
            .filter(designation::Column::SupersededOn.is_null())
            .filter(designation::Column::RevokedOn.is_null())
            .exec(conn)
            .await?;
        saved(&res)?;
        out.push((old.clone(), new));
    }
    refresh_standing(conn, cluster_id, now).await?;
    Ok(out)
}

/// The cluster ids a scoped reader may see; None means all.
async fn scope_clusters(app: &App, p: &Principal) -> Result<Option<Vec<ClusterId>>, AppError> {
    let scope = authorize(p, Resource::Certificate, Action::View)?;
    let ids = |q: sea_orm::Select<cluster::Entity>| async move {
        Ok::<_, AppError>(Some(
            q.all(&app.db).await?.into_iter().map(|c| c.id).collect(),
        ))
    };
    match scope {
        ScopeKind::All => Ok(None),
        ScopeKind::OwnCity => match &p.org.city_code {
            Some(city) => {
                ids(cluster::Entity::find().filter(cluster::Column::CityCode.eq(*city))).await
            }
            None => Ok(Some(Vec::new())),
        },
        ScopeKind::OwnCounty => match &p.org.county_code {
            Some(county) => {
                ids(cluster::Entity::find().filter(cluster::Column::LeadCountyCode.eq(*county)))
                    .await
            }
            None => Ok(Some(Vec::new())),
        },
        ScopeKind::OwnOrg => {
            ids(cluster::Entity::find().filter(cluster::Column::OrgId.eq(p.org.id))).await
        }
        ScopeKind::OwnAccount => Ok(Some(Vec::new())),
    }
}

async fn load_scoped(
    app: &App,
    p: &Principal,
    id: DesignationId,
) -> Result<designation::Model, AppError> {
    let d = designation::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    match scope_clusters(app, p).await? {
        Some(ids) if !ids.contains(&d.cluster_id) => Err(AppError::NotFound),
        _ => Ok(d),
    }
}

/// One designation the principal may see; anything else is 404.
pub async fn get(app: &App, p: &Principal, id: DesignationId) -> Result<CertificateRow, AppError> {
    let d = load_scoped(app, p, id).await?;
    rows_for(&app.db, &[d])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// The address anyone can check a certificate at: absolute when the installation's public
/// address is configured, else the path.
pub fn verify_url(public_url: &str, code: &str) -> String {
    format!("{}/verify/{code}", public_url.trim_end_matches('/'))
}

/// What the certificate says, with the address of its public check (`public_url` as configured).
pub fn certificate_text(row: &CertificateRow, public_url: &str) -> CertificateText {
    let body = match Designation::from_key(&row.designation) {
        Some(Designation::CultivationTarget) => format!(
            "{}（申报主体：{}）经评审、公示，被确定为{}。",
            row.cluster_name,
            row.org_name,
            crate::config::title_of(Designation::CultivationTarget)
        ),
        _ => format!(
            "{}（申报主体：{}）经评审、公示，被认定为{}。",
            row.cluster_name,
            row.org_name,
            crate::config::title_of(Designation::Certified)
        ),
    };
    let mut paragraphs = vec![body];
    if !row.reissue_of.is_empty() {
        paragraphs.push(format!(
            "本证书经变更申请批准换发，原证书（编号{}）同时作废。",
            row.reissue_of
        ));
    }
    paragraphs.push("特发此证。".into());
    CertificateText {
        heading: "证书".into(),
        number: row.certificate_number.clone(),
        paragraphs,
        issuer: issuer().into(),
        date: row.issued_on_zh.clone(),
        check: Some(CertificateCheck {
            url: verify_url(public_url, &row.verify_code),
            caption: "扫码或访问以下网址查验证书".into(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// The public check of a certificate

/// What the public check of a certificate answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub certificate_number: String,
    /// The short check code, e.g. C2026-001.
    pub verify_code: String,
    /// valid | superseded | revoked
    pub status: String,
    /// 有效 | 已换发 | 已撤销
    pub status_label: String,
    pub cluster_name: String,
    /// The title the certificate conferred, e.g. 湖南省先进制造业集群.
    pub designation_label: String,
    pub issuer: String,
    /// YYYY-MM-DD
    pub effective_on: String,
    /// 2026年12月4日
    pub effective_on_zh: String,
    /// YYYY-MM-DD the certificate stopped being in force; empty while valid.
    pub closed_on: String,
    pub closed_on_zh: String,
    /// For a superseded 培育对象 certificate: the number of the certification that replaced it.
    pub replaced_by: String,
    /// The answer in one sentence.
    pub explanation: String,
}

/// The answer of the public check.
#[derive(Debug, Clone)]
pub enum Checked {
    Found(Box<Verification>),
    /// Unknown or malformed: why, in a sentence.
    Missing(String),
}

/// Checks a certificate by its number or its short code; public, no sign-in.
pub async fn verify(app: &App, text: &str) -> Result<Checked, AppError> {
    // A city title's certificate (第十六条) is checked the same way, by its code or number.
    if let Some(checked) = super::city_designations::verify(app, text).await? {
        return Ok(checked);
    }
    let prefixes = super::policy::all_prefixes(&app.db).await?;
    let Some(key) = CertificateKey::parse(text, &prefixes) else {
        let shown: String = text.trim().chars().take(40).collect();
        let example = prefixes
            .first()
            .map(|p| Designation::Certified.certificate_number(p, 2026, 1))
            .unwrap_or_default();
        return Ok(Checked::Missing(format!(
            "“{shown}”不是有效的证书编号。证书编号形如“{example}”，查验码形如“{}”，请核对后重新输入。",
            CertificateKey {
                designation: Designation::Certified,
                year: 2026,
                seq: 1
            }
            .code()
        )));
    };
    // The kind, year and sequence name the certificate whatever prefix it was issued under.
    let number = if text.contains('〔') {
        text.trim().to_string()
    } else {
        prefixes
            .first()
            .map_or_else(|| key.code(), |p| key.number(p))
    };
    let Some(d) = designation::Entity::find()
        .filter(designation::Column::Designation.eq(key.designation))
        .filter(designation::Column::Year.eq(key.year))
        .filter(designation::Column::Seq.eq(i32::try_from(key.seq).unwrap_or(i32::MAX)))
        .one(&app.db)
        .await?
    else {
        return Ok(Checked::Missing(format!(
            "未查到编号为“{number}”的证书：{issuer}未颁发过该编号的证书。如有疑问，请向{issuer}核实。",
            issuer = issuer()
        )));
    };
    let row = rows_for(&app.db, std::slice::from_ref(&d))
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let label = crate::config::title_of(d.designation);
    let since = date_zh(d.effective_on);
    let (status, status_label, closed, replaced_by, explanation) = match (
        d.revoked_on,
        d.superseded_on,
    ) {
        (Some(on), _) => (
            "revoked",
            "已撤销",
            Some(on),
            String::new(),
            format!(
                "该证书已撤销：{}的{label}称号已于{}撤销，证书自撤销之日起作废。",
                row.cluster_name,
                date_zh(on)
            ),
        ),
        (None, Some(on)) => {
            // The link written at 换发; certificates replaced before links existed are
            // found by the certification of that day.
            let successor = match d.superseded_by {
                Some(id) => designation::Entity::find_by_id(id).one(&app.db).await?,
                None => {
                    designation::Entity::find()
                        .filter(designation::Column::ClusterId.eq(d.cluster_id))
                        .filter(designation::Column::Designation.eq(Designation::Certified))
                        .filter(designation::Column::EffectiveOn.eq(on))
                        .one(&app.db)
                        .await?
                }
            };
            let same_title = successor
                .as_ref()
                .is_some_and(|s| s.designation == d.designation);
            let successor = successor.map(|s| s.certificate_number).unwrap_or_default();
            let by = if successor.is_empty() {
                String::new()
            } else {
                format!("（证书编号{successor}）")
            };
            let explanation = if same_title {
                format!(
                    "该证书已换发：经变更申请批准，{}的{label}证书于{}换发{by}，原证书同日起不再有效。",
                    row.cluster_name,
                    date_zh(on)
                )
            } else {
                format!(
                    "该证书已换发：{}于{}被认定为{}{by}，原{label}证书同日起不再有效。",
                    row.cluster_name,
                    date_zh(on),
                    crate::config::title_of(Designation::Certified)
                )
            };
            ("superseded", "已换发", Some(on), successor, explanation)
        }
        (None, None) => (
            "valid",
            "有效",
            None,
            String::new(),
            format!("该证书有效：{}自{since}起为{label}。", row.cluster_name),
        ),
    };
    Ok(Checked::Found(Box::new(Verification {
        certificate_number: d.certificate_number.clone(),
        verify_code: key.code(),
        status: status.into(),
        status_label: status_label.into(),
        cluster_name: row.cluster_name,
        designation_label: label.into(),
        issuer: issuer().into(),
        effective_on: d.effective_on.to_string(),
        effective_on_zh: since,
        closed_on: closed.map(|d| d.to_string()).unwrap_or_default(),
        closed_on_zh: closed.map(date_zh).unwrap_or_default(),
        replaced_by,
        explanation,
    })))
}

/// Why a certificate PDF could not be produced.
#[derive(Debug)]
pub enum PdfFailure {
    App(AppError),
    /// The renderer cannot work here (no usable font, for instance): 503 with the reason.
    Unavailable(String),
}

impl From<AppError> for PdfFailure {
    fn from(e: AppError) -> Self {
        PdfFailure::App(e)
    }
}

impl From<sea_orm::DbErr> for PdfFailure {
    fn from(e: sea_orm::DbErr) -> Self {
        PdfFailure::App(AppError::from(e))
    }
}

/// One font cache per configured font path, kept for the process: loading the fonts reads
/// tens of megabytes, so it happens once.
pub(crate) fn font_cache(configured: Option<PathBuf>) -> Arc<FontCache> {
    static CACHES: OnceLock<Mutex<HashMap<Option<PathBuf>, Arc<FontCache>>>> = OnceLock::new();
    let mut caches = CACHES
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    caches
        .entry(configured.clone())
        .or_insert_with(|| Arc::new(FontCache::new(configured)))
        .clone()
}

/// Draws a certificate's text as a PDF off the async threads (the one drawing every
/// certificate shares: provincial and city titles alike); `what` names it in the log.
pub(crate) async fn render_certificate(
    app: &App,
    text: CertificateText,
    what: &str,
) -> Result<Vec<u8>, PdfFailure> {
    let cache = font_cache(app.config.pdf_font.clone());
    let rendered = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, PdfError> {
        let fonts = cache.get()?;
        crate::pdf::certificate_pdf(&fonts, &text)
    })
    .await
    .map_err(|e| AppError::internal(format!("certificate renderer: {e}")))?;
    rendered.map_err(|e| {
        tracing::warn!("{what}: {e}");
        PdfFailure::Unavailable(e.to_string())
    })
}

/// The certificate as a PDF, with the download recorded in the audit trail.
pub async fn certificate_pdf(
    app: &App,
    p: &Principal,
    id: DesignationId,
) -> Result<(CertificateRow, Vec<u8>), PdfFailure> {
    let row = get(app, p, id).await?;
    if row.revoked {
        return Err(AppError::Conflict(format!(
            "该认定已于{}撤销，证书已作废，不能下载",
            row.revoked_on
        ))
        .into());
    }
    let text = certificate_text(&row, &app.config.public_url);
    let bytes = render_certificate(app, text, &format!("certificate {id}")).await?;
    audit::record_export(
        app,
        p,
        Event {
            action: "certificate.download",
            object_type: "designation",
            object_id: row.id.to_string(),
            summary: format!(
                "下载证书PDF：{}（{}）",
                row.certificate_number, row.cluster_name
            ),
            reason: String::new(),
        },
    )
    .await?;
    Ok((row, bytes))
}

/// Revokes every title of the cluster still in force, inside the transaction of a revocation
/// decision (第十四条 按程序撤销, `services::revocation`): a superseded or already revoked title
/// stays as it closed, so only what is current is voided. Returns the certificate numbers voided
/// and the cluster's standing before and after, which [`refresh_standing`] stores.
pub async fn revoke_titles(
    conn: &DatabaseTransaction,
    cluster_id: ClusterId,
    today: time::Date,
    reason: &str,
    now: OffsetDateTime,
) -> Result<(Vec<String>, Lifecycle, Lifecycle), AppError> {
    serialise_titles(conn, cluster_id).await?;
    let held = designations_of(conn, cluster_id).await?;
    let mut titles: Vec<Title> = held.iter().map(title_of).collect();
    let mut voided = Vec::new();
    for i in lifecycle::revoke_all(&mut titles, today) {
        let d = &held[i];
        let res = designation::Entity::update_many()
            .col_expr(designation::Column::RevokedOn, Expr::value(Some(today)))
            .col_expr(designation::Column::RevokeReason, Expr::value(reason))
            .filter(designation::Column::Id.eq(d.id))
            .filter(designation::Column::RevokedOn.is_null())
            .filter(designation::Column::SupersededOn.is_null())
            .exec(conn)
            .await?;
        saved(&res)?;
        voided.push(d.certificate_number.clone());
    }
    let (before, after) = refresh_standing(conn, cluster_id, now).await?;
    Ok((voided, before, after))
}

/// The titles a cluster holds now, in the order conferred.
pub async fn open_titles<C: ConnectionTrait>(
    conn: &C,
    cluster_id: ClusterId,
) -> Result<Vec<designation::Model>, AppError> {
    Ok(designations_of(conn, cluster_id)
        .await?
        .into_iter()
        .filter(|d| title_of(d).is_open())
        .collect())
}

// ---------------------------------------------------------------------------------------------
// The annual announcement (第十二条), public

pub fn announcement_title(year: i32, kind: RoundKind) -> String {
    let title = crate::config::title_of(kind.outcome());
    format!("关于公布{year}年{title}名单的通知")
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnnouncementSummary {
    #[schema(value_type = i64)]
    pub round_id: RoundId,
    pub title: String,
    pub year: i32,
    /// preliminary | final
    pub kind: String,
    /// YYYY-MM-DD
    pub confirmed_on: String,
    pub confirmed_on_zh: String,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnnouncementRow {
    pub no: usize,
    pub certificate_number: String,
    pub cluster_name: String,
    pub org_name: String,
    pub city_name: String,
    pub kind_label: String,
    /// Non-empty when the designation was revoked later: "已于2027年3月1日撤销".
    pub note: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Announcement {
    #[serde(flatten)]
    pub summary: AnnouncementSummary,
    pub salutation: String,
    pub paragraphs: Vec<String>,
    pub issuer: String,
    pub rows: Vec<AnnouncementRow>,
}

async fn competitions_of(
    app: &App,
    rounds: &[round::Model],
) -> Result<HashMap<CompetitionId, competition::Model>, AppError> {
    Ok(
        store::load_by_ids::<competition::Entity>(&app.db, rounds.iter().map(|r| r.competition_id))
            .await?,
    )
}

fn announcement_summary(
    r: &round::Model,
    c: &competition::Model,
    count: usize,
) -> Result<AnnouncementSummary, AppError> {
    let kind = r.kind;
    let on = r
        .confirmed_on
        .ok_or_else(|| AppError::internal(format!("round {} confirmed without a date", r.id)))?;
    Ok(AnnouncementSummary {
        round_id: r.id,
        title: announcement_title(c.year, kind),
        year: c.year,
        kind: kind.key().into(),
        confirmed_on: on.to_string(),
        confirmed_on_zh: date_zh(on),
        count,
    })
}

/// Every confirmed round's announcement, newest first (public).
pub async fn announcements(app: &App) -> Result<Vec<AnnouncementSummary>, AppError> {
    let rows = round::Entity::find()
        .filter(round::Column::Status.eq(RoundStatus::Confirmed))
        .order_by_desc(round::Column::ConfirmedOn)
        .order_by_desc(round::Column::Id)
        .all(&app.db)
        .await?;
    let comps = competitions_of(app, &rows).await?;
    let mut counts: HashMap<RoundId, usize> = HashMap::new();
    for d in store::load_where_in::<designation::Entity>(
        &app.db,
        designation::Column::RoundId,
        rows.iter().map(|r| r.id),
    )
    .await?
    {
        *counts.entry(d.round_id).or_default() += 1;
    }
    // The province's announcements of its titles; a city's own competition (第十六条) confers
    // no provincial title and is not announced here.
    rows.iter()
        .filter_map(|r| comps.get(&r.competition_id).map(|c| (r, c)))
        .filter(|(_, c)| c.organiser_city_code.is_none())
        .map(|(r, c)| announcement_summary(r, c, counts.get(&r.id).copied().unwrap_or(0)))
        .collect()
}

/// A confirmed round's announcement with its list (public); 404 for any other round.
pub async fn announcement(app: &App, round_id: RoundId) -> Result<Announcement, AppError> {
    let r = round::Entity::find_by_id(round_id)
        .one(&app.db)
        .await?
        .filter(|r| r.status == RoundStatus::Confirmed)
        .ok_or(AppError::NotFound)?;
    let c = rounds::competition_of(&app.db, &r).await?;
    if c.organiser_city_code.is_some() {
        return Err(AppError::NotFound);
    }
    let kind = r.kind;
    let policy = super::competitions::policy_of(&c)?;
    let list = designation::Entity::find()
        .filter(designation::Column::RoundId.eq(r.id))
        .order_by_asc(designation::Column::Seq)
        .all(&app.db)
        .await?;
    let certs = rows_for(&app.db, &list).await?;
    let kinds = store::load_by_ids_map::<round_entry::Entity, _>(
        &app.db,
        list.iter().map(|d| d.entry_id),
        |e| {
            policy
                .cluster_kind(&e.cluster_kind)
                .map_or_else(|| e.cluster_kind.clone(), |k| k.name.clone())
        },
    )
    .await?;
    let rows: Vec<AnnouncementRow> = list
        .iter()
        .zip(&certs)
        .enumerate()
        .map(|(i, (d, cert))| AnnouncementRow {
            no: i + 1,
            certificate_number: cert.certificate_number.clone(),
            cluster_name: cert.cluster_name.clone(),
            org_name: cert.org_name.clone(),
            city_name: cert.city_name.clone(),
            kind_label: if cert.kind_label.is_empty() {
                kinds.get(&d.entry_id).cloned().unwrap_or_default()
            } else {
                cert.kind_label.clone()
            },
            note: d
                .revoked_on
                .map(|on| format!("已于{}撤销", date_zh(on)))
                .unwrap_or_default(),
        })
        .collect();
    let summary = announcement_summary(&r, &c, rows.len())?;
    let basis = format!(
        "根据《{}》（{}）",
        policy.identity.name, policy.identity.document_number
    );
    let wording = policy.announcement_wording().ok_or_else(|| {
        AppError::internal(format!(
            "policy {} has no wording.announcement",
            policy.id()
        ))
    })?;
    let template = match kind {
        RoundKind::Preliminary => &wording.cultivation_decision,
        RoundKind::Final => &wording.certified_decision,
    };
    let decision = jiqun_rules::policy::AnnouncementWording::fill(
        template,
        &basis,
        rows.len(),
        c.year,
        crate::config::title_of(kind.outcome()),
    );
    Ok(Announcement {
        summary,
        salutation: wording.salutation.clone(),
        paragraphs: vec![decision, wording.closing.clone()],
        issuer: issuer().into(),
        rows,
    })
}

// ---------------------------------------------------------------------------------------------
// The round's list as an Excel workbook (province)

pub const LIST_XLSX_HEADERS: [&str; 10] = [
    "序号",
    "证书编号",
    "集群名称",
    "申报主体",
    "所在市州",
    "集群类型",
    "最终得分",
    "类内排名",
    "状态",
    "说明",
];

/// The round's list (proposed, on notice, confirmed or removed) as an .xlsx workbook, with the
/// download name; the export is audited.
pub async fn list_xlsx(
    app: &App,
    p: &Principal,
    round_id: RoundId,
) -> Result<(String, Vec<u8>), AppError> {
    authorize(p, Resource::Round, Action::Export)?;
    let r = rounds::load(&app.db, p, round_id).await?;
    let status = r.status;
    if matches!(status, RoundStatus::Setup | RoundStatus::Scoring) {
        return Err(AppError::Conflict(format!(
            "评审轮次当前状态为“{}”，拟定名单尚未确定，暂无名单可导出",
            status.label()
        )));
    }
    let kind = r.kind;
    let c = rounds::competition_of(&app.db, &r).await?;
    let policy = super::competitions::policy_of(&c)?;
    let listed = [
        Status::Shortlisted,
        Status::OnNotice,
        Status::Confirmed,
        Status::Removed,
    ];
    let mut entries: Vec<round_entry::Model> = rounds::entries(&app.db, r.id)
        .await?
        .into_iter()
        .filter(|e| e.proposed || listed.contains(&e.status))
        .collect();
    let order = |key: &str| {
        policy
            .cluster_kinds
            .iter()
            .position(|k| k.key == key)
            .unwrap_or(usize::MAX)
    };
    entries.sort_by_key(|e| (order(&e.cluster_kind), e.rank.unwrap_or(i32::MAX), e.id));
    let clusters =
        store::load_by_ids::<cluster::Entity>(&app.db, entries.iter().map(|e| e.cluster_id))
            .await?;
    let orgs = clusters::org_names(&app.db, clusters.values().map(|c| c.org_id)).await?;
    let numbers: HashMap<EntryId, designation::Model> = designation::Entity::find()
        .filter(designation::Column::RoundId.eq(r.id))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|d| (d.entry_id, d))
        .collect();

    let st = workbook::styles();
    let title = format!(
        "{}年{}竞赛{}名单（{}）",
        c.year,
        crate::config::title_of(Designation::Certified),
        kind.label(),
        status.label()
    );
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(format!("{}名单", kind.label()))
        .map_err(xlsx_err)?;
    workbook::header_row(ws, &st, &title, &LIST_XLSX_HEADERS)?;
    workbook::column_widths(
        ws,
        &[6.0, 24.0, 30.0, 30.0, 12.0, 14.0, 10.0, 10.0, 14.0, 40.0],
    )?;
    for (row, e) in (2u32..).zip(&entries) {
        let cl = clusters.get(&e.cluster_id);
        let d = numbers.get(&e.id);
        let state = e.status.label().to_string();
        let note = match d {
            Some(d) if d.revoked_on.is_some() => format!(
                "认定已于{}撤销：{}",
                d.revoked_on.map(date_zh).unwrap_or_default(),
                d.revoke_reason
            ),
            _ => e.decision_note.clone(),
        };
        ws.write_number_with_format(row, 0, f64::from(row - 1), &st.cell)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(
            row,
            1,
            d.map(|d| d.certificate_number.as_str()).unwrap_or(""),
            &st.cell,
        )
        .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 2, cl.map(|c| c.name.as_str()).unwrap_or(""), &st.wrap)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(
            row,
            3,
            cl.and_then(|c| orgs.get(&c.org_id))
                .map(String::as_str)
                .unwrap_or(""),
            &st.wrap,
        )
        .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 4, region::city_name_of(e.city_code), &st.cell)
            .map_err(xlsx_err)?;
        let kind_name = policy
            .cluster_kind(&e.cluster_kind)
            .map_or_else(|| e.cluster_kind.clone(), |k| k.name.clone());
        ws.write_string_with_format(row, 5, kind_name, &st.cell)
            .map_err(xlsx_err)?;
        match e.final_score {
            Some(v) => ws.write_number_with_format(row, 6, v, &st.number),
            None => ws.write_blank(row, 6, &st.cell),
        }
        .map_err(xlsx_err)?;
        match e.rank {
            Some(v) => ws.write_number_with_format(row, 7, f64::from(v), &st.cell),
            None => ws.write_blank(row, 7, &st.cell),
        }
        .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 8, state, &st.cell)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 9, note, &st.wrap)
            .map_err(xlsx_err)?;
    }
    let bytes = wb.save_to_buffer().map_err(xlsx_err)?;
    audit::record_export(
        app,
        p,
        Event {
            action: "round.export_list",
            object_type: "round",
            object_id: r.id.to_string(),
            summary: format!("导出{title}（{}个集群）", entries.len()),
            reason: String::new(),
        },
    )
    .await?;
    Ok((format!("{}年{}名单.xlsx", c.year, kind.label()), bytes))
}
