//! 第十六条 分级培育: city-level designations (市级先进制造业集群). The round of a competition a
//! city organises confers, at confirmation, the title its city policy names (`[organiser].title`)
//! on each entrant still on the list — one row per cluster and round, written in the confirming
//! transaction with its audit entry. They are kept apart from the provincial designations, which
//! carry the cluster's standing, reports and rechecks; the ladder reads both.
//!
//! Each city title is a record like a provincial one: a certificate numbered per city and year
//! of issue (the city policy's `certificate_prefix`, gap-free under the lock
//! `city-certificate:{city}:{year}`), showing for good what it showed when issued (a frozen
//! [`CitySnapshot`], issued in the city bureau's name from `certificate_issuer`), drawn by the
//! one certificate drawing of `pdf.rs` and checked publicly at `/verify/S430100-2026-001`. Only
//! the bureau of the city that conferred it revokes it, with a reason and document number; the
//! ladder then drops the city rung and the public check says it is revoked.

use crate::store::id::{CityDesignationId, ClusterId, CompetitionId, RoundId};
use jiqun_domain::access::{Action, Resource, Role, ScopeKind};
use jiqun_domain::certificate::CityCertificateKey;
use jiqun_domain::round::date_zh;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Select, Set,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::designations::{Checked, PdfFailure, Verification, verify_url};
use super::listing::{FilterKind, FilterSpec, ListParams, ListSpec, export_xlsx};
use super::records::Snapshot;
use super::{authorize, saved};
use crate::app::{App, Principal};
use crate::audit::{self, Audit, Event};
use crate::error::{AppError, Problems};
use crate::pdf::{CertificateCheck, CertificateText};
use crate::store::{
    self,
    entity::{city_designation, cluster, competition, round, round_entry},
};

/// What a city title's certificate showed when issued: the cluster's record snapshot and the
/// bureau it was issued by (stored as JSON in `city_designations.snapshot`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CitySnapshot {
    #[serde(flatten)]
    pub record: Snapshot,
    /// e.g. 长沙市工业和信息化局 (the city policy's `certificate_issuer`).
    #[serde(default)]
    pub issuer: String,
}

impl CitySnapshot {
    pub fn parse(text: &str) -> Option<CitySnapshot> {
        if text.trim().is_empty() {
            return None;
        }
        serde_json::from_str(text).ok()
    }
}

/// A city-level title as the API and pages show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CityDesignationRow {
    #[schema(value_type = i64)]
    pub id: CityDesignationId,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    #[schema(value_type = i64)]
    pub competition_id: CompetitionId,
    #[schema(value_type = i64)]
    pub round_id: RoundId,
    /// The city's code.
    pub city_code: String,
    pub city_name: String,
    pub title: String,
    pub year: i32,
    /// YYYY-MM-DD
    pub effective_on: String,
    /// 2026年12月4日
    pub effective_on_zh: String,
    /// e.g. 长沙市集群认〔2026〕第001号
    pub certificate_number: String,
    /// The short code of the public check, e.g. S430100-2026-001 (`/verify/S430100-2026-001`).
    pub verify_code: String,
    /// As the certificate named them when issued.
    pub org_name: String,
    pub kind_label: String,
    pub counties: String,
    /// Who issued the certificate, e.g. 长沙市工业和信息化局.
    pub issuer: String,
    pub revoked: bool,
    /// YYYY-MM-DD, empty unless revoked.
    pub revoked_on: String,
    pub revoked_on_zh: String,
    pub revoke_reason: String,
    /// The city's revocation document number (文号).
    pub revoke_document: String,
}

fn key_of(d: &city_designation::Model) -> CityCertificateKey {
    CityCertificateKey {
        city: d.city_code.to_string().parse().unwrap_or_default(),
        year: d.effective_on.year(),
        seq: u32::try_from(d.seq).unwrap_or_default(),
    }
}

/// The next certificate sequence of a city in a year of issue; the caller holds the lock
/// `city-certificate:{city}:{year}` in its transaction.
async fn next_seq<C: ConnectionTrait>(
    conn: &C,
    city: jiqun_domain::region::RegionCode,
    year: i32,
) -> Result<i32, AppError> {
    let (first, last) = year_bounds(year)?;
    let last = city_designation::Entity::find()
        .filter(city_designation::Column::CityCode.eq(city))
        .filter(city_designation::Column::EffectiveOn.between(first, last))
        .order_by_desc(city_designation::Column::Seq)
        .one(conn)
        .await?
        .map_or(0, |d| d.seq);
    Ok(last + 1)
}

fn year_bounds(year: i32) -> Result<(time::Date, time::Date), AppError> {
    let day = |m, d| {
        time::Date::from_calendar_date(year, m, d)
            .map_err(|e| AppError::internal(format!("year {year}: {e}")))
    };
    Ok((
        day(time::Month::January, 1)?,
        day(time::Month::December, 31)?,
    ))
}

/// Confers the city title on a confirmed entrant, in the caller's transaction, audited: the
/// next certificate number of the city and year, the frozen snapshot, the cluster notified.
#[allow(clippy::too_many_arguments)]
pub async fn designate<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    p: &Principal,
    c: &competition::Model,
    r: &round::Model,
    e: &round_entry::Model,
    title: &str,
    now: OffsetDateTime,
) -> Result<city_designation::Model, AppError> {
    let city = c
        .organiser_city_code
        .ok_or_else(|| AppError::internal("a city title outside a city competition"))?;
    let today = crate::clock::local(now).date();
    let year = today.year();
    // Two rounds of one city confirmed at once must not read the same last number (PostgreSQL;
    // SQLite writes one transaction at a time).
    store::lock::serialise(conn, &format!("city-certificate:{city}:{year}")).await?;
    let seq = next_seq(conn, city, year).await?;
    let policy = super::competitions::policy_of(c)?;
    let city_name = jiqun_domain::region::city_name_of(city);
    let prefix = policy
        .city_certificate_prefix(&city_name)
        .ok_or_else(|| AppError::internal("a city title under a provincial text"))?;
    let issuer = policy
        .city_certificate_issuer(&city_name)
        .ok_or_else(|| AppError::internal("a city title under a provincial text"))?;
    let key = CityCertificateKey {
        city: city.to_string().parse().unwrap_or_default(),
        year,
        seq: u32::try_from(seq).unwrap_or_default(),
    };
    let number = key.number(&prefix);
    let mut record = super::records::of_entries(conn, std::slice::from_ref(e), &policy)
        .await?
        .remove(&e.id)
        .ok_or(AppError::NotFound)?;
    record.issued_on = today.to_string();
    let snapshot = serde_json::to_string(&CitySnapshot { record, issuer })
        .map_err(|e| AppError::internal(format!("snapshot: {e}")))?;
    let d = city_designation::ActiveModel {
        cluster_id: Set(e.cluster_id),
        competition_id: Set(c.id),
        round_id: Set(r.id),
        entry_id: Set(e.id),
        city_code: Set(city),
        title: Set(title.to_string()),
        year: Set(c.year),
        effective_on: Set(today),
        revoked_on: Set(None),
        decided_by: Set(p.user.id),
        created_at: Set(now),
        seq: Set(seq),
        certificate_number: Set(number.clone()),
        snapshot: Set(snapshot),
        revoke_reason: Set(String::new()),
        revoke_document: Set(String::new()),
        revoked_by: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let cl = cluster::Entity::find_by_id(e.cluster_id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    Audit::of(app, p, now)
        .record(
            conn,
            Event {
                action: "city_designation.create",
                object_type: "city_designation",
                object_id: d.id.to_string(),
                summary: format!(
                    "{}：{}年{}（{}起），证书编号{number}",
                    cl.name,
                    c.year,
                    title,
                    date_zh(today)
                ),
                reason: String::new(),
            },
        )
        .await?;
    super::notifications::notify_org(
        conn,
        cl.org_id,
        &format!("{title}：{}", cl.name),
        &format!(
            "经评审、公示，{}于{}被{city_name}认定为{title}，证书编号{number}。",
            cl.name,
            date_zh(today)
        ),
        &format!("/city-titles/{}", d.id),
        now,
    )
    .await?;
    Ok(d)
}

/// The rows of some city designations: what their certificates froze, with the clusters'
/// names in one query for rows written before snapshots existed.
pub async fn rows_for<C: ConnectionTrait>(
    conn: &C,
    list: &[city_designation::Model],
) -> Result<Vec<CityDesignationRow>, AppError> {
    let names = store::load_by_ids_map::<cluster::Entity, _>(
        conn,
        list.iter().map(|d| d.cluster_id),
        |c| c.name,
    )
    .await?;
    Ok(list
        .iter()
        .map(|d| {
            let frozen = CitySnapshot::parse(&d.snapshot).unwrap_or_default();
            let cluster_name = if frozen.record.cluster_name.is_empty() {
                names.get(&d.cluster_id).cloned().unwrap_or_default()
            } else {
                frozen.record.cluster_name.clone()
            };
            CityDesignationRow {
                id: d.id,
                cluster_id: d.cluster_id,
                cluster_name,
                competition_id: d.competition_id,
                round_id: d.round_id,
                city_code: d.city_code.to_string(),
                city_name: jiqun_domain::region::city(d.city_code)
                    .map(|c| c.name().to_string())
                    .unwrap_or_default(),
                title: d.title.clone(),
                year: d.year,
                effective_on: d.effective_on.to_string(),
                effective_on_zh: date_zh(d.effective_on),
                certificate_number: d.certificate_number.clone(),
                verify_code: key_of(d).code(),
                org_name: frozen.record.org_name.clone(),
                kind_label: frozen.record.kind_label.clone(),
                counties: frozen.record.counties_text(),
                issuer: frozen.issuer.clone(),
                revoked: d.revoked_on.is_some(),
                revoked_on: d.revoked_on.map(|d| d.to_string()).unwrap_or_default(),
                revoked_on_zh: d.revoked_on.map(date_zh).unwrap_or_default(),
                revoke_reason: d.revoke_reason.clone(),
                revoke_document: d.revoke_document.clone(),
            }
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Where people find them: the list in the reader's scope

fn statuses() -> Vec<(&'static str, &'static str)> {
    vec![("valid", "有效"), ("revoked", "已撤销")]
}

const FILTERS: &[FilterSpec] = &[
    FilterSpec {
        key: "year",
        label: "年度",
        kind: FilterKind::Year,
    },
    FilterSpec {
        key: "status",
        label: "状态",
        kind: FilterKind::Choice(statuses),
    },
];

const SORTS: &[(&str, &str)] = &[
    ("number", "证书编号"),
    ("effective", "认定日期"),
    ("id", "登记顺序"),
];

/// 市级称号 in the back office: a city bureau its city's, a cluster its own, the province all.
pub const LIST: ListSpec = ListSpec {
    path: "/city-titles",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: false,
};

/// The API's list: the same query keys.
pub const API: ListSpec = ListSpec {
    path: "/api/v1/city-titles",
    filters: FILTERS,
    sorts: SORTS,
    default_desc: false,
};

/// The city titles the principal may read, as a condition (the certificate permission's scope:
/// a city bureau the titles its city conferred, a county bureau its clusters', a cluster its own).
fn scope_condition(p: &Principal) -> Result<Condition, AppError> {
    let of_clusters = |condition: Condition| {
        Condition::all().add(
            city_designation::Column::ClusterId.in_subquery(
                Query::select()
                    .column(cluster::Column::Id)
                    .from(cluster::Entity)
                    .cond_where(condition)
                    .to_owned(),
            ),
        )
    };
    let none = || Condition::all().add(city_designation::Column::Id.eq(-1));
    Ok(match authorize(p, Resource::Certificate, Action::View)? {
        ScopeKind::All => Condition::all(),
        ScopeKind::OwnCity => match p.org.city_code {
            Some(city) => Condition::all().add(city_designation::Column::CityCode.eq(city)),
            None => none(),
        },
        ScopeKind::OwnCounty => match p.org.county_code {
            Some(county) => {
                of_clusters(Condition::all().add(cluster::Column::LeadCountyCode.eq(county)))
            }
            None => none(),
        },
        ScopeKind::OwnOrg => of_clusters(Condition::all().add(cluster::Column::OrgId.eq(p.org.id))),
        ScopeKind::OwnAccount => none(),
    })
}

fn listed(
    p: &Principal,
    params: &ListParams,
) -> Result<Select<city_designation::Entity>, AppError> {
    let mut q = city_designation::Entity::find().filter(scope_condition(p)?);
    if let Some(year) = params.year("year") {
        q = q.filter(city_designation::Column::Year.eq(year));
    }
    match params.get("status") {
        Some("valid") => q = q.filter(city_designation::Column::RevokedOn.is_null()),
        Some("revoked") => q = q.filter(city_designation::Column::RevokedOn.is_not_null()),
        _ => {}
    }
    Ok(params.order(
        q,
        |key| match key {
            "number" => city_designation::Column::CertificateNumber,
            "effective" => city_designation::Column::EffectiveOn,
            _ => city_designation::Column::Id,
        },
        city_designation::Column::Id,
    ))
}

/// One page of the list and the number of all that match.
pub async fn page(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<(Vec<CityDesignationRow>, u64), AppError> {
    let (rows, total) = params.fetch(&app.db, listed(p, params)?).await?;
    Ok((rows_for(&app.db, &rows).await?, total))
}

/// Every city title the filters match, as the Excel of 导出Excel (the reader's own scope).
pub async fn export(app: &App, p: &Principal, params: &ListParams) -> Result<Vec<u8>, AppError> {
    let rows = params.fetch_all(&app.db, listed(p, params)?).await?;
    let table: Vec<Vec<String>> = rows_for(&app.db, &rows)
        .await?
        .into_iter()
        .map(|c| {
            let status = if c.revoked {
                format!("已于{}撤销（{}）", c.revoked_on_zh, c.revoke_document)
            } else {
                "有效".to_string()
            };
            vec![
                c.certificate_number,
                c.cluster_name,
                c.org_name,
                c.city_name,
                c.title,
                c.effective_on_zh,
                status,
            ]
        })
        .collect();
    let bytes = export_xlsx(
        "市级称号",
        &[
            ("证书编号", 28.0),
            ("集群名称", 32.0),
            ("申报主体", 30.0),
            ("认定市州", 12.0),
            ("称号", 24.0),
            ("认定日期", 16.0),
            ("状态", 36.0),
        ],
        &table,
    )?;
    audit::record_export(
        app,
        p,
        Event {
            action: "city_designation.export",
            object_type: "city_designation",
            object_id: String::new(),
            summary: format!("导出市级称号清单（{}项）", table.len()),
            reason: String::new(),
        },
    )
    .await?;
    Ok(bytes)
}

// ---------------------------------------------------------------------------------------------
// One title, its certificate and PDF

async fn load_scoped<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: CityDesignationId,
) -> Result<city_designation::Model, AppError> {
    city_designation::Entity::find_by_id(id)
        .filter(scope_condition(p)?)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// One city title the principal may see; anything else is 404.
pub async fn get(
    app: &App,
    p: &Principal,
    id: CityDesignationId,
) -> Result<CityDesignationRow, AppError> {
    let d = load_scoped(&app.db, p, id).await?;
    rows_for(&app.db, &[d])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// Whether the principal is the bureau of the city that conferred the title (the one that may
/// revoke it).
pub fn confers(p: &Principal, row: &CityDesignationRow) -> bool {
    p.role == Role::CityBureau
        && p.org.city_code.map(|c| c.to_string()).as_deref() == Some(row.city_code.as_str())
}

/// What the certificate says: the same drawing as a provincial certificate, in the words of
/// the city title and its bureau.
pub fn certificate_text(row: &CityDesignationRow, public_url: &str) -> CertificateText {
    let org = if row.org_name.is_empty() {
        String::new()
    } else {
        format!("（申报主体：{}）", row.org_name)
    };
    CertificateText {
        heading: "证书".into(),
        number: row.certificate_number.clone(),
        paragraphs: vec![
            format!(
                "{}{org}经评审、公示，被认定为{}。",
                row.cluster_name, row.title
            ),
            "特发此证。".into(),
        ],
        issuer: row.issuer.clone(),
        date: row.effective_on_zh.clone(),
        check: Some(CertificateCheck {
            url: verify_url(public_url, &row.verify_code),
            caption: "扫码或访问以下网址查验证书".into(),
        }),
    }
}

/// The certificate as a PDF, with the download recorded in the audit trail; a revoked title's
/// certificate is void and not given out.
pub async fn certificate_pdf(
    app: &App,
    p: &Principal,
    id: CityDesignationId,
) -> Result<(CityDesignationRow, Vec<u8>), PdfFailure> {
    let row = get(app, p, id).await?;
    if row.revoked {
        return Err(AppError::Conflict(format!(
            "该市级称号已于{}撤销，证书已作废，不能下载",
            row.revoked_on_zh
        ))
        .into());
    }
    let text = certificate_text(&row, &app.config.public_url);
    let bytes =
        super::designations::render_certificate(app, text, &format!("city certificate {id}"))
            .await?;
    audit::record_export(
        app,
        p,
        Event {
            action: "city_certificate.download",
            object_type: "city_designation",
            object_id: row.id.to_string(),
            summary: format!(
                "下载市级称号证书PDF：{}（{}）",
                row.certificate_number, row.cluster_name
            ),
            reason: String::new(),
        },
    )
    .await?;
    Ok((row, bytes))
}

// ---------------------------------------------------------------------------------------------
// Revocation by the conferring city

/// What a city bureau writes to revoke a city title.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RevokeInput {
    #[serde(default)]
    pub reason: String,
    /// The city's decision document number (文号).
    #[serde(default)]
    pub document_number: String,
}

struct ValidRevoke {
    reason: String,
    document_number: String,
}

fn valid_revoke(input: &RevokeInput) -> Result<ValidRevoke, AppError> {
    let mut problems = Problems::default();
    let reason = input.reason.trim();
    let document_number = input.document_number.trim();
    if reason.is_empty() {
        problems.add("reason", "请填写撤销理由");
    } else if reason.chars().count() > 2000 {
        problems.add("reason", "撤销理由不能超过2000字");
    }
    if document_number.is_empty() {
        problems.add("document_number", "请填写撤销决定的文号");
    } else if document_number.chars().count() > 100 {
        problems.add("document_number", "文号不能超过100字");
    }
    problems.into_result()?;
    Ok(ValidRevoke {
        reason: reason.to_string(),
        document_number: document_number.to_string(),
    })
}

/// Revokes a city title (第十六条: the city that conferred it): only that city's bureau, with a
/// written reason and document number, once; audited in the same transaction, the cluster
/// notified. The ladder drops the city rung and the public check says it is revoked.
pub async fn revoke(
    app: &App,
    p: &Principal,
    id: CityDesignationId,
    input: &RevokeInput,
) -> Result<CityDesignationRow, AppError> {
    // Another city's bureau does not see the title (404); whoever sees it but did not confer it
    // (the province, a county, the cluster) is refused (403).
    let row = get(app, p, id).await?;
    if !confers(p, &row) {
        return Err(AppError::Forbidden);
    }
    let valid = valid_revoke(input)?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let txn = store::write_txn(&app.db).await?;
    store::lock::serialise(&txn, &format!("city-title:{id}")).await?;
    let d = load_scoped(&txn, p, id).await?;
    if let Some(on) = d.revoked_on {
        return Err(AppError::Conflict(format!(
            "该市级称号已于{}撤销，不能重复撤销",
            date_zh(on)
        )));
    }
    let res = city_designation::Entity::update_many()
        .col_expr(
            city_designation::Column::RevokedOn,
            Expr::value(Some(today)),
        )
        .col_expr(
            city_designation::Column::RevokeReason,
            Expr::value(valid.reason.clone()),
        )
        .col_expr(
            city_designation::Column::RevokeDocument,
            Expr::value(valid.document_number.clone()),
        )
        .col_expr(
            city_designation::Column::RevokedBy,
            Expr::value(Some(p.user.id)),
        )
        .filter(city_designation::Column::Id.eq(id))
        .filter(city_designation::Column::RevokedOn.is_null())
        .exec(&txn)
        .await?;
    saved(&res)?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "city_designation.revoke",
                object_type: "city_designation",
                object_id: id.to_string(),
                summary: format!(
                    "撤销“{}”的{}{}称号（证书编号{}），{}，文号{}",
                    row.cluster_name,
                    row.city_name,
                    row.title,
                    row.certificate_number,
                    date_zh(today),
                    valid.document_number
                ),
                reason: valid.reason.clone(),
            },
        )
        .await?;
    let cl = cluster::Entity::find_by_id(d.cluster_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    super::notifications::notify_org(
        &txn,
        cl.org_id,
        &format!("{}称号已撤销：{}", row.title, row.cluster_name),
        &format!(
            "{}于{}撤销{}的{}称号（证书编号{}，文号{}），证书自撤销之日起作废。撤销理由：{}",
            row.issuer,
            date_zh(today),
            row.cluster_name,
            row.title,
            row.certificate_number,
            valid.document_number,
            valid.reason
        ),
        &format!("/city-titles/{id}"),
        now,
    )
    .await?;
    let d = city_designation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let out = rows_for(&txn, &[d])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The public check

/// The public check of a city title's certificate, by its code (S430100-2026-001) or its whole
/// number as issued; None when the text names no city certificate (the provincial check goes on).
pub async fn verify(app: &App, text: &str) -> Result<Option<Checked>, AppError> {
    let typed = text.trim();
    let found = if let Some(key) = CityCertificateKey::parse(typed) {
        let (first, last) = year_bounds(key.year)?;
        let d = city_designation::Entity::find()
            .filter(city_designation::Column::CityCode.eq(key.city.to_string()))
            .filter(city_designation::Column::EffectiveOn.between(first, last))
            .filter(city_designation::Column::Seq.eq(i32::try_from(key.seq).unwrap_or(i32::MAX)))
            .one(&app.db)
            .await?;
        let Some(d) = d else {
            let city = jiqun_domain::region::city_name(&key.city.to_string());
            return Ok(Some(Checked::Missing(format!(
                "未查到查验码为“{}”的证书：{city}未颁发过该编号的市级称号证书。如有疑问，请向发证机关核实。",
                key.code()
            ))));
        };
        d
    } else if typed.contains('〔') {
        match city_designation::Entity::find()
            .filter(city_designation::Column::CertificateNumber.eq(typed))
            .one(&app.db)
            .await?
        {
            Some(d) => d,
            None => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    let row = rows_for(&app.db, std::slice::from_ref(&found))
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let label = row.title.clone();
    let (status, status_label, explanation) = match found.revoked_on {
        Some(on) => (
            "revoked",
            "已撤销",
            format!(
                "该证书已撤销：{}的{label}称号已于{}由{}撤销，证书自撤销之日起作废。",
                row.cluster_name,
                date_zh(on),
                row.issuer
            ),
        ),
        None => (
            "valid",
            "有效",
            format!(
                "该证书有效：{}自{}起为{label}。",
                row.cluster_name, row.effective_on_zh
            ),
        ),
    };
    Ok(Some(Checked::Found(Box::new(Verification {
        certificate_number: row.certificate_number.clone(),
        verify_code: row.verify_code.clone(),
        status: status.into(),
        status_label: status_label.into(),
        cluster_name: row.cluster_name.clone(),
        designation_label: label,
        issuer: row.issuer.clone(),
        effective_on: row.effective_on.clone(),
        effective_on_zh: row.effective_on_zh.clone(),
        closed_on: row.revoked_on.clone(),
        closed_on_zh: row.revoked_on_zh.clone(),
        replaced_by: String::new(),
        explanation,
    }))))
}
