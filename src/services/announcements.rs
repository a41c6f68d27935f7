//! The yearly 集中公告 and the 授牌 (第十二条: 每年开展一次湖南省先进制造业集群（培育对象）的
//! 集中公告、授牌). The province compiles the year's designations — 培育对象 and 认定 alike —
//! into one public announcement; publishing freezes every word and row (read from the
//! certificates' own snapshots) into the announcement's record, so neither a later edit of a
//! cluster, a reissued certificate nor a revocation changes what was announced. The 授牌 is
//! recorded per designation with its date and plaque number and shows on the certificate list and
//! the cluster's history. Everything is audited in the transaction that writes it.

use crate::store::id::{ClusterId, DesignationId};
use std::collections::HashMap;

use jiqun_domain::access::{Action, Resource};
use jiqun_domain::round::date_zh;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use super::designations::{self, issuer};
use super::{at_most, authorize, required_text};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::AppError;
use crate::store::{
    self,
    entity::{designation, plaque, yearly_announcement},
};

/// The longest document or plaque number accepted, in characters.
const MAX_NUMBER_CHARS: usize = 60;

/// One designation as the announcement listed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FrozenRow {
    pub no: usize,
    #[schema(value_type = i64)]
    pub designation_id: DesignationId,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    /// 湖南省先进制造业集群培育对象 | 湖南省先进制造业集群
    pub designation_label: String,
    pub certificate_number: String,
    pub cluster_name: String,
    pub org_name: String,
    pub city_name: String,
    pub kind_label: String,
    /// 2026年12月4日
    pub effective_on_zh: String,
}

/// Everything a published yearly announcement showed, frozen at publication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct YearlyAnnouncement {
    pub year: i32,
    pub title: String,
    pub document_number: String,
    pub salutation: String,
    pub paragraphs: Vec<String>,
    pub issuer: String,
    /// YYYY-MM-DD
    pub published_on: String,
    pub published_on_zh: String,
    pub rows: Vec<FrozenRow>,
}

/// A published announcement as the list shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct YearlySummary {
    pub year: i32,
    pub title: String,
    pub document_number: String,
    pub published_on_zh: String,
    pub count: usize,
}

/// What the province types to publish a year's announcement.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct YearlyPublishInput {
    pub year: i32,
    /// e.g. "湘工信集群〔2026〕12号"
    pub document_number: String,
}

/// The 授牌 of one designation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlaqueRow {
    #[schema(value_type = i64)]
    pub designation_id: DesignationId,
    /// YYYY-MM-DD
    pub presented_on: String,
    pub presented_on_zh: String,
    pub plaque_number: String,
}

/// What the province types to record a 授牌.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PlaqueInput {
    /// YYYY-MM-DD
    pub presented_on: String,
    pub plaque_number: String,
}

pub fn title_of(year: i32) -> String {
    let certified = crate::config::title_of(jiqun_domain::round::Designation::Certified);
    format!("关于{year}年度{certified}（培育对象）集中公告的通知")
}

fn frozen_of(m: &yearly_announcement::Model) -> Result<YearlyAnnouncement, AppError> {
    serde_json::from_str(&m.snapshot)
        .map_err(|e| AppError::internal(format!("yearly announcement {}: {e}", m.id)))
}

/// Every published yearly announcement, newest year first (public).
pub async fn list(app: &App) -> Result<Vec<YearlySummary>, AppError> {
    yearly_announcement::Entity::find()
        .order_by_desc(yearly_announcement::Column::Year)
        .all(&app.db)
        .await?
        .iter()
        .map(|m| {
            let f = frozen_of(m)?;
            Ok(YearlySummary {
                year: f.year,
                title: f.title,
                document_number: f.document_number,
                published_on_zh: f.published_on_zh,
                count: f.rows.len(),
            })
        })
        .collect()
}

/// A year's published announcement exactly as published (public); 404 before it is.
pub async fn get(app: &App, year: i32) -> Result<YearlyAnnouncement, AppError> {
    let m = yearly_announcement::Entity::find()
        .filter(yearly_announcement::Column::Year.eq(year))
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    frozen_of(&m)
}

/// The designations a year's announcement lists: conferred that year, not revoked, and not
/// replaced by a reissued certificate (the reissue is listed instead).
async fn of_year<C: ConnectionTrait>(
    conn: &C,
    year: i32,
) -> Result<Vec<designation::Model>, AppError> {
    Ok(designation::Entity::find()
        .filter(designation::Column::Year.eq(year))
        .filter(designation::Column::RevokedOn.is_null())
        .filter(designation::Column::SupersededBy.is_null())
        .order_by_asc(designation::Column::Designation)
        .order_by_asc(designation::Column::Seq)
        .order_by_asc(designation::Column::Id)
        .all(conn)
        .await?)
}

/// Compiles and publishes a year's announcement (province): once per year, and only with at
/// least one designation; the published text is frozen in the same transaction as its audit.
pub async fn publish(
    app: &App,
    p: &Principal,
    input: &YearlyPublishInput,
) -> Result<YearlyAnnouncement, AppError> {
    authorize(p, Resource::Certificate, Action::Create)?;
    let number = required_text("document_number", &input.document_number, "请填写公告文号")?;
    at_most("document_number", number, "公告文号", MAX_NUMBER_CHARS)?;
    let year = input.year;
    if !(2000..=2100).contains(&year) {
        return Err(AppError::invalid("year", "请填写有效的年度，例如2026"));
    }
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let txn = store::write_txn(&app.db).await?;
    if yearly_announcement::Entity::find()
        .filter(yearly_announcement::Column::Year.eq(year))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "{year}年度集中公告已发布，不能重复发布"
        )));
    }
    let list = of_year(&txn, year).await?;
    if list.is_empty() {
        return Err(AppError::Conflict(format!(
            "{year}年度尚无认定的集群或培育对象，暂不能发布集中公告"
        )));
    }
    let certs = designations::rows_for(&txn, &list).await?;
    let rows: Vec<FrozenRow> = list
        .iter()
        .zip(&certs)
        .enumerate()
        .map(|(i, (d, c))| FrozenRow {
            no: i + 1,
            designation_id: d.id,
            cluster_id: d.cluster_id,
            designation_label: c.designation_label.clone(),
            certificate_number: c.certificate_number.clone(),
            cluster_name: c.cluster_name.clone(),
            org_name: c.org_name.clone(),
            city_name: c.city_name.clone(),
            kind_label: c.kind_label.clone(),
            effective_on_zh: c.effective_on_zh.clone(),
        })
        .collect();
    let count = |kind: jiqun_domain::round::Designation| {
        list.iter().filter(|d| d.designation == kind).count()
    };
    let certified = count(jiqun_domain::round::Designation::Certified);
    let targets = count(jiqun_domain::round::Designation::CultivationTarget);
    // The wording of the policy in force today: the announcement is the province's act now.
    let policy = super::policy::current_installed(app).await?.policy;
    let wording = policy.announcement_wording().ok_or_else(|| {
        AppError::internal(format!(
            "policy {} has no wording.announcement",
            policy.id()
        ))
    })?;
    let frozen = YearlyAnnouncement {
        year,
        title: title_of(year),
        document_number: number.to_string(),
        salutation: wording.salutation.clone(),
        paragraphs: vec![
            format!(
                "根据《{}》第十二条的规定，现将{year}年度认定的{}{certified}个、{}{targets}个集中公告（名单附后），并统一授牌。",
                policy.identity.name,
                crate::config::title_of(jiqun_domain::round::Designation::Certified),
                crate::config::title_of(jiqun_domain::round::Designation::CultivationTarget),
            ),
            wording.closing.clone(),
        ],
        issuer: issuer().into(),
        published_on: today.to_string(),
        published_on_zh: date_zh(today),
        rows,
    };
    let m = yearly_announcement::ActiveModel {
        year: Set(year),
        document_number: Set(number.to_string()),
        snapshot: Set(
            serde_json::to_string(&frozen).map_err(|e| AppError::internal(e.to_string()))?
        ),
        published_on: Set(today),
        published_by: Set(p.user.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "yearly_announcement.publish",
                object_type: "yearly_announcement",
                object_id: m.id.to_string(),
                summary: format!(
                    "发布{year}年度集中公告（{number}）：集群{certified}个、培育对象{targets}个"
                ),
                reason: String::new(),
            },
        )
        .await?;
    txn.commit().await?;
    Ok(frozen)
}

fn plaque_row(m: &plaque::Model) -> PlaqueRow {
    PlaqueRow {
        designation_id: m.designation_id,
        presented_on: m.presented_on.to_string(),
        presented_on_zh: date_zh(m.presented_on),
        plaque_number: m.plaque_number.clone(),
    }
}

/// The plaques of these designations, by designation (one query).
pub async fn plaques_of<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = DesignationId>,
) -> Result<HashMap<DesignationId, PlaqueRow>, AppError> {
    Ok(
        store::load_where_in::<plaque::Entity>(conn, plaque::Column::DesignationId, ids)
            .await?
            .iter()
            .map(|m| (m.designation_id, plaque_row(m)))
            .collect(),
    )
}

/// Records the 授牌 of a designation (province): once, for a title not revoked, on a day from
/// the title's effective date to today, with a plaque number no other plaque carries.
pub async fn record_plaque(
    app: &App,
    p: &Principal,
    id: DesignationId,
    input: &PlaqueInput,
) -> Result<PlaqueRow, AppError> {
    authorize(p, Resource::Certificate, Action::Update)?;
    let number = required_text("plaque_number", &input.plaque_number, "请填写牌匾编号")?;
    at_most("plaque_number", number, "牌匾编号", MAX_NUMBER_CHARS)?;
    let on = super::calendar::parse_date(&input.presented_on)
        .map_err(|e| AppError::invalid("presented_on", format!("授牌日期{e}")))?;
    let now = app.clock.now();
    let today = crate::clock::local(now).date();
    let txn = store::write_txn(&app.db).await?;
    let d = designation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if d.revoked_on.is_some() {
        return Err(AppError::Conflict(format!(
            "证书{}已撤销，不能登记授牌",
            d.certificate_number
        )));
    }
    if on > today {
        return Err(AppError::invalid("presented_on", "授牌日期不能晚于今天"));
    }
    if on < d.effective_on {
        return Err(AppError::invalid(
            "presented_on",
            format!("授牌日期不能早于认定日期（{}）", date_zh(d.effective_on)),
        ));
    }
    if plaque::Entity::find()
        .filter(plaque::Column::DesignationId.eq(id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "证书{}的授牌已登记，不能重复登记",
            d.certificate_number
        )));
    }
    if plaque::Entity::find()
        .filter(plaque::Column::PlaqueNumber.eq(number))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::invalid(
            "plaque_number",
            format!("牌匾编号“{number}”已被使用，请核对"),
        ));
    }
    let m = plaque::ActiveModel {
        designation_id: Set(id),
        presented_on: Set(on),
        plaque_number: Set(number.to_string()),
        recorded_by: Set(p.user.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "plaque.record",
                object_type: "plaque",
                object_id: m.id.to_string(),
                summary: format!(
                    "登记授牌：证书{}（{}），{}授牌，牌匾编号{number}",
                    d.certificate_number,
                    crate::config::title_of(d.designation),
                    date_zh(on)
                ),
                reason: String::new(),
            },
        )
        .await?;
    txn.commit().await?;
    Ok(plaque_row(&m))
}

/// The yearly announcements that listed a cluster: (year, document number, published day).
pub async fn listing_cluster<C: ConnectionTrait>(
    conn: &C,
    cluster_id: ClusterId,
) -> Result<Vec<(i32, String, time::Date)>, AppError> {
    // One announcement a year: a bounded, small set.
    let mut out = Vec::new();
    for m in yearly_announcement::Entity::find().all(conn).await? {
        let f = frozen_of(&m)?;
        if f.rows.iter().any(|r| r.cluster_id == cluster_id) {
            out.push((m.year, m.document_number.clone(), m.published_on));
        }
    }
    Ok(out)
}

/// The announcement as a 公文 PDF, drawn from its frozen text by the shared document layout.
pub fn document_text(a: &YearlyAnnouncement) -> crate::pdf::DocumentText {
    let mut paragraphs = a.paragraphs.clone();
    paragraphs.push("附：名单".into());
    for r in &a.rows {
        paragraphs.push(format!(
            "{}. {}（{}，{}，{}，证书编号{}）",
            r.no,
            r.cluster_name,
            r.designation_label,
            r.org_name,
            r.city_name,
            r.certificate_number
        ));
    }
    crate::pdf::DocumentText {
        organ: issuer().into(),
        number: a.document_number.clone(),
        title: a.title.clone(),
        addressee: a.salutation.clone(),
        paragraphs,
        issuer: a.issuer.clone(),
        date: a.published_on_zh.clone(),
    }
}

/// A year's published announcement as a PDF (public), rendered from its frozen text.
pub async fn pdf(
    app: &App,
    year: i32,
) -> Result<(YearlyAnnouncement, Vec<u8>), designations::PdfFailure> {
    let a = get(app, year).await?;
    let text = document_text(&a);
    let cache = designations::font_cache(app.config.pdf_font.clone());
    let rendered = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, crate::pdf::PdfError> {
        let fonts = cache.get()?;
        crate::pdf::document_pdf(&fonts, &text)
    })
    .await
    .map_err(|e| AppError::internal(format!("document renderer: {e}")))?;
    let bytes = rendered.map_err(|e| {
        tracing::warn!("yearly announcement {year}: {e}");
        designations::PdfFailure::Unavailable(e.to_string())
    })?;
    Ok((a, bytes))
}
