//! The province's overview of what the city bureaus recommended (第九条): grouped by city with
//! all 14 cities listed, on screen and as an Excel workbook.

use crate::store::id::{ApplicationId, ClusterId, CompetitionId};
use std::collections::{BTreeMap, HashMap};

use jiqun_domain::access::{Action, Resource, ScopeKind};
use jiqun_domain::application::Status;
use jiqun_domain::region::{self, RegionCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use time::OffsetDateTime;

use super::{CompetitionView, open_call, policy_of};
use crate::app::{App, Principal};
use crate::clock::local_minutes;
use crate::error::AppError;
use crate::services::authorize;
use crate::services::workbook::{column_widths, excel_time, header_row, styles, xlsx_err};
use crate::store;
use crate::store::entity::{application, cluster, competition, recommendation};

/// Statuses an application has once its city recommended it (第九条) and after.
pub const RECOMMENDED_AND_LATER: [Status; 8] = [
    Status::Recommended,
    Status::InReview,
    Status::Scored,
    Status::Shortlisted,
    Status::NotSelected,
    Status::OnNotice,
    Status::Confirmed,
    Status::Removed,
];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecommendedRow {
    #[schema(value_type = i64)]
    pub application_id: ApplicationId,
    pub city_code: String,
    pub city_name: String,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    pub org_name: String,
    pub county_code: String,
    pub county_name: String,
    pub kind: String,
    pub kind_label: String,
    /// "C35 专用设备制造业"
    pub industry: String,
    /// 集群营业收入（亿元）, from the application form; absent when not filled in.
    pub cluster_revenue: Option<f64>,
    pub status: String,
    pub status_label: String,
    pub submitted_at_local: String,
    pub recommended_at_local: String,
    pub cap_justification: String,
    #[serde(skip)]
    #[schema(ignore)]
    pub recommended_at: Option<OffsetDateTime>,
}

impl RecommendedRow {
    /// The revenue as shown on the page: "123.45", or empty.
    pub fn revenue_text(&self) -> String {
        self.cluster_revenue
            .map(|r| format!("{r:.2}"))
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CityGroup {
    pub city_code: String,
    pub city_name: String,
    pub count: u64,
    pub rows: Vec<RecommendedRow>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecommendedOverview {
    /// The call shown; absent when no call was ever opened.
    pub competition: Option<CompetitionView>,
    /// Every city and prefecture of Hunan, in code order, with zero where none was recommended.
    pub cities: Vec<CityGroup>,
    pub total: u64,
}

/// 集群营业收入 from an application form (`indicators.cluster_revenue`, a number or a numeric
/// string); `None` when absent or not a number.
pub fn cluster_revenue(form: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(form).ok()?;
    let value = v.get("indicators")?.get("cluster_revenue")?;
    match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

fn province_wide(p: &Principal, action: Action) -> Result<(), AppError> {
    match authorize(p, Resource::Application, action)? {
        ScopeKind::All => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

fn county_name(code: &str) -> String {
    code.parse::<RegionCode>()
        .ok()
        .and_then(region::county)
        .map(|c| c.name().to_string())
        .unwrap_or_else(|| code.to_string())
}

/// The call the overview shows: the one asked for, else the current open call, else the latest.
async fn chosen_competition(
    app: &App,
    competition_id: Option<CompetitionId>,
) -> Result<Option<competition::Model>, AppError> {
    if let Some(id) = competition_id {
        return Ok(Some(
            competition::Entity::find_by_id(id)
                .one(&app.db)
                .await?
                .ok_or(AppError::NotFound)?,
        ));
    }
    if let Some(c) = open_call(app).await? {
        return Ok(Some(c));
    }
    Ok(competition::Entity::find()
        .order_by_desc(competition::Column::Year)
        .order_by_desc(competition::Column::Id)
        .one(&app.db)
        .await?)
}

/// All applications of a call that were recommended (and later statuses), grouped by city.
pub async fn recommended(
    app: &App,
    p: &Principal,
    competition_id: Option<CompetitionId>,
) -> Result<RecommendedOverview, AppError> {
    province_wide(p, Action::View)?;
    let now = app.clock.now();
    let Some(c) = chosen_competition(app, competition_id).await? else {
        return Ok(RecommendedOverview {
            competition: None,
            cities: group_by_city(Vec::new()),
            total: 0,
        });
    };
    let policy = policy_of(&c).ok();
    let apps = application::Entity::find()
        .filter(application::Column::CompetitionId.eq(c.id))
        .filter(application::Column::Status.is_in(RECOMMENDED_AND_LATER))
        .order_by_asc(application::Column::Id)
        .all(&app.db)
        .await?;
    let clusters =
        store::load_by_ids::<cluster::Entity>(&app.db, apps.iter().map(|a| a.cluster_id)).await?;
    let orgs = crate::services::clusters::org_names(&app.db, apps.iter().map(|a| a.org_id)).await?;
    let recs: HashMap<ApplicationId, recommendation::Model> =
        store::load_where_in::<recommendation::Entity>(
            &app.db,
            recommendation::Column::ApplicationId,
            apps.iter().map(|a| a.id),
        )
        .await?
        .into_iter()
        .map(|m| (m.application_id, m))
        .collect();
    let mut rows: Vec<RecommendedRow> = apps
        .iter()
        .map(|a| {
            let cl = clusters.get(&a.cluster_id);
            let rec = recs.get(&a.id);
            let kind_label = policy
                .as_ref()
                .and_then(|p| p.cluster_kind(&a.kind))
                .map(|k| k.name.clone())
                .unwrap_or_else(|| a.kind.clone());
            let industry = cl
                .map(|c| {
                    jiqun_domain::industry::division(&c.industry_code)
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| c.industry_code.clone())
                })
                .unwrap_or_default();
            RecommendedRow {
                application_id: a.id,
                city_code: a.city_code.to_string(),
                city_name: region::city_name_of(a.city_code),
                cluster_id: a.cluster_id,
                cluster_name: cl.map(|c| c.name.clone()).unwrap_or_default(),
                org_name: orgs.get(&a.org_id).cloned().unwrap_or_default(),
                county_code: a.county_code.to_string(),
                county_name: county_name(&a.county_code.to_string()),
                kind: a.kind.clone(),
                kind_label,
                industry,
                cluster_revenue: cluster_revenue(&a.form),
                status: a.status.key().to_string(),
                status_label: a.status.label().to_string(),
                submitted_at_local: a.submitted_at.map(local_minutes).unwrap_or_default(),
                recommended_at_local: rec
                    .map(|r| local_minutes(r.recommended_at))
                    .unwrap_or_default(),
                cap_justification: rec.map(|r| r.cap_justification.clone()).unwrap_or_default(),
                recommended_at: rec.map(|r| r.recommended_at),
            }
        })
        .collect();
    rows.sort_by_key(|r| (r.recommended_at, r.application_id));
    let total = rows.len() as u64;
    Ok(RecommendedOverview {
        competition: Some(CompetitionView::from_model(&c, now)),
        cities: group_by_city(rows),
        total,
    })
}

/// Every Hunan city in code order, then any unknown code found in the data.
fn group_by_city(rows: Vec<RecommendedRow>) -> Vec<CityGroup> {
    let mut by_code: BTreeMap<String, Vec<RecommendedRow>> = BTreeMap::new();
    for r in rows {
        by_code.entry(r.city_code.clone()).or_default().push(r);
    }
    let mut groups: Vec<CityGroup> = region::cities()
        .iter()
        .map(|c| {
            let code = c.code().to_string();
            let rows = by_code.remove(&code).unwrap_or_default();
            CityGroup {
                city_name: c.name().to_string(),
                city_code: code,
                count: rows.len() as u64,
                rows,
            }
        })
        .collect();
    for (code, rows) in by_code {
        groups.push(CityGroup {
            city_name: region::city_name(&code),
            city_code: code,
            count: rows.len() as u64,
            rows,
        });
    }
    groups
}

/// The overview for export (the province's Export permission).
pub async fn recommended_for_export(
    app: &App,
    p: &Principal,
    competition_id: Option<CompetitionId>,
) -> Result<RecommendedOverview, AppError> {
    province_wide(p, Action::Export)?;
    recommended(app, p, competition_id).await
}

/// The download name, e.g. "推荐名单-2026.xlsx".
pub fn xlsx_file_name(o: &RecommendedOverview) -> String {
    match &o.competition {
        Some(c) => format!("推荐名单-{}.xlsx", c.year),
        None => "推荐名单.xlsx".into(),
    }
}

pub const XLSX_HEADERS: [&str; 10] = [
    "序号",
    "市州",
    "集群名称",
    "申报主体",
    "牵头县（市、区）",
    "集群类型",
    "主导产业",
    "集群营业收入（亿元）",
    "推荐时间",
    "超限说明",
];

/// The recommended list as an .xlsx workbook: 「推荐名单」 (one row per application, numbers as
/// numbers, times as Excel date-times in Beijing time) and 「按市州统计」 (count per city).
pub fn recommended_xlsx(o: &RecommendedOverview) -> Result<Vec<u8>, AppError> {
    let st = styles();
    let title = match &o.competition {
        Some(c) => format!("{}年度先进制造业集群竞赛 推荐名单（{}）", c.year, c.title),
        None => "先进制造业集群竞赛 推荐名单".into(),
    };

    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("推荐名单").map_err(xlsx_err)?;
    header_row(ws, &st, &title, &XLSX_HEADERS)?;
    column_widths(
        ws,
        &[6.0, 10.0, 30.0, 30.0, 16.0, 14.0, 26.0, 14.0, 18.0, 40.0],
    )?;
    for (row, r) in (2u32..).zip(o.cities.iter().flat_map(|g| &g.rows)) {
        let n = f64::from(row - 1);
        ws.write_number_with_format(row, 0, n, &st.cell)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 1, &r.city_name, &st.cell)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 2, &r.cluster_name, &st.wrap)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 3, &r.org_name, &st.wrap)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 4, &r.county_name, &st.cell)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 5, &r.kind_label, &st.cell)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 6, &r.industry, &st.wrap)
            .map_err(xlsx_err)?;
        match r.cluster_revenue {
            Some(v) => ws.write_number_with_format(row, 7, v, &st.number),
            None => ws.write_blank(row, 7, &st.cell),
        }
        .map_err(xlsx_err)?;
        match r.recommended_at {
            Some(at) => ws.write_datetime_with_format(row, 8, excel_time(at)?, &st.when),
            None => ws.write_blank(row, 8, &st.cell),
        }
        .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 9, &r.cap_justification, &st.wrap)
            .map_err(xlsx_err)?;
    }

    let ws = wb.add_worksheet();
    ws.set_name("按市州统计").map_err(xlsx_err)?;
    ws.write_string_with_format(0, 0, "市州", &st.header)
        .map_err(xlsx_err)?;
    ws.write_string_with_format(0, 1, "推荐数量", &st.header)
        .map_err(xlsx_err)?;
    ws.set_column_width(0, 16).map_err(xlsx_err)?;
    ws.set_column_width(1, 12).map_err(xlsx_err)?;
    ws.set_freeze_panes(1, 0).map_err(xlsx_err)?;
    for (row, g) in (1u32..).zip(&o.cities) {
        ws.write_string_with_format(row, 0, &g.city_name, &st.cell)
            .map_err(xlsx_err)?;
        ws.write_number_with_format(row, 1, g.count as f64, &st.cell)
            .map_err(xlsx_err)?;
    }
    let row = u32::try_from(o.cities.len())
        .map_err(|_| AppError::Internal("too many cities".into()))?
        + 1;
    let bold = st.cell.clone().set_bold();
    ws.write_string_with_format(row, 0, "合计", &bold)
        .map_err(xlsx_err)?;
    ws.write_number_with_format(row, 1, o.total as f64, &bold)
        .map_err(xlsx_err)?;

    wb.save_to_buffer().map_err(xlsx_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revenue_is_read_from_the_form() {
        assert_eq!(
            cluster_revenue(r#"{"indicators":{"cluster_revenue":123.45}}"#),
            Some(123.45)
        );
        assert_eq!(
            cluster_revenue(r#"{"indicators":{"cluster_revenue":" 88 "}}"#),
            Some(88.0)
        );
        assert_eq!(cluster_revenue(r#"{"indicators":{}}"#), None);
        assert_eq!(cluster_revenue("not json"), None);
    }

    #[test]
    fn the_workbook_has_both_sheets() {
        let o = RecommendedOverview {
            competition: None,
            cities: group_by_city(Vec::new()),
            total: 0,
        };
        assert_eq!(o.cities.len(), 14);
        let bytes = recommended_xlsx(&o).unwrap();
        assert!(bytes.starts_with(b"PK"));
    }
}
