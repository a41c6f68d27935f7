//! Dashboards (第五条 及时掌握集群建设和运营情况, 第十三条): for the province all of Hunan, for a
//! city bureau its own city. Clusters by city, 长株潭, kind, GB/T 4754 industry and status; the
//! reporting compliance of one period (按时 / 逾期报送 / 逾期未报); totals and trends of the
//! report form's indicators. Every table is what its chart draws and what its 导出Excel writes,
//! and every count links to the list behind it.
//!
//! The whole answer takes a bounded number of queries: the clusters in scope, then their titles,
//! reports and first submissions in batches (`reports::ReportBasis`), the reports' figures read
//! once per report version (`reports::FiguresCache`). An answer is kept while one statement
//! says nothing it is made of has changed (`DashboardCache`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiqun_domain::access::{Action, Resource, ScopeKind};
use jiqun_domain::compliance::Compliance;
use jiqun_domain::region::{self, RegionCode};
use jiqun_domain::round::date_zh;
use jiqun_rules::deadline::{ReportKind, ReportPeriod};
use jiqun_rules::policy::ValueType;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement};
use serde::{Deserialize, Serialize};

use super::{authorize, calendar, clusters, reports};
use crate::app::{App, Principal};
use crate::error::AppError;
use crate::store::entity::cluster;

/// One cell of a dashboard table: the text people read, the number behind it (written to Excel
/// as a number and drawn by the chart), and the list it stands for.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Cell {
    pub text: String,
    pub value: Option<f64>,
    pub link: Option<String>,
}

impl Cell {
    pub(crate) fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            value: None,
            link: None,
        }
    }

    pub(crate) fn linked(text: impl Into<String>, link: String) -> Cell {
        Cell {
            link: Some(link),
            ..Cell::text(text)
        }
    }

    pub(crate) fn count(n: usize, link: Option<String>) -> Cell {
        Cell {
            text: n.to_string(),
            value: Some(n as f64),
            link,
        }
    }

    pub(crate) fn number(v: f64) -> Cell {
        let rounded = (v * 100.0).round() / 100.0;
        Cell {
            text: if rounded.fract() == 0.0 {
                format!("{rounded:.0}")
            } else {
                format!("{rounded:.2}")
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_string()
            },
            value: Some(rounded),
            link: None,
        }
    }
}

/// One table of the dashboard, drawn as a chart by the page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Table {
    /// by-city | by-area | by-kind | by-industry | by-status | compliance | compliance-by-city |
    /// trend
    pub key: String,
    pub title: String,
    /// How the page draws it: bar | pie | line
    pub chart: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A report period people can pick.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PeriodView {
    /// e.g. annual-2025, semi_annual-2026
    pub key: String,
    /// 2025年度发展情况报告
    pub title: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    /// 湖南省, or the city bureau's city
    pub scope: String,
    /// Today, 2026年12月4日
    pub today: String,
    pub clusters: usize,
    /// The period whose compliance is counted (the latest owed unless another was asked for).
    pub period: Option<PeriodView>,
    /// Every period owed so far, latest first.
    pub periods: Vec<PeriodView>,
    pub tables: Vec<Table>,
}

impl Dashboard {
    pub fn table(&self, key: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.key == key)
    }
}

/// `?period=annual-2025`
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct DashboardQuery {
    /// The period whose compliance to count, e.g. annual-2025 or semi_annual-2026.
    pub period: Option<String>,
}

pub fn period_key(p: ReportPeriod) -> String {
    format!("{}-{}", reports::kind_key(p.kind), p.year)
}

/// Reads `annual-2025` back; anything else is refused with the form it should take.
pub fn parse_period(key: &str) -> Result<ReportPeriod, AppError> {
    key.trim()
        .rsplit_once('-')
        .and_then(|(kind, year)| {
            Some(ReportPeriod {
                kind: reports::kind_from_key(kind)?,
                year: year.parse().ok().filter(|y| (2000..=2100).contains(y))?,
            })
        })
        .ok_or_else(|| {
            AppError::invalid(
                "period",
                format!(
                    "报告期“{}”无效，应如annual-2025（年度）或semi_annual-2026（半年度）",
                    key.trim()
                ),
            )
        })
}

/// The clusters the dashboard covers: all for the province, the city's for a city bureau;
/// anyone else may not see it.
async fn clusters_in_scope(
    app: &App,
    p: &Principal,
) -> Result<(String, Option<RegionCode>, Vec<cluster::Model>), AppError> {
    let q = cluster::Entity::find().order_by_asc(cluster::Column::Id);
    match authorize(p, Resource::Report, Action::Review)? {
        ScopeKind::All => Ok((
            region::province_name().to_string(),
            None,
            q.all(&app.db).await?,
        )),
        ScopeKind::OwnCity => {
            let city = p.org.city_code.ok_or(AppError::Forbidden)?;
            Ok((
                region::city_name_of(city),
                Some(city),
                q.filter(cluster::Column::CityCode.eq(city))
                    .all(&app.db)
                    .await?,
            ))
        }
        ScopeKind::OwnCounty | ScopeKind::OwnOrg | ScopeKind::OwnAccount => {
            Err(AppError::Forbidden)
        }
    }
}

fn count_by<K: Ord>(items: impl Iterator<Item = K>) -> BTreeMap<K, usize> {
    let mut out = BTreeMap::new();
    for k in items {
        *out.entry(k).or_insert(0) += 1;
    }
    out
}

fn clusters_link(key: &str, value: &str) -> String {
    format!(
        "/clusters?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair(key, value)
            .finish()
    )
}

fn obligations_link(period: &str, compliance: Option<&str>, city: Option<RegionCode>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("period", period);
    if let Some(c) = compliance {
        q.append_pair("compliance", c);
    }
    if let Some(city) = city {
        q.append_pair("city", &city.to_string());
    }
    format!("/reports?{}#obligations", q.finish())
}

/// Dashboards answered, by scope and period, kept while what they are made of is unchanged:
/// the state is one small read over the clusters, their titles, reports, first submissions and
/// the calendar, plus today and the policy text (`state_of`). A kept answer older than
/// `MAX_AGE` is computed afresh, which bounds what a change the state misses could show.
#[derive(Default)]
pub struct DashboardCache {
    inner: Mutex<HashMap<String, Kept>>,
}

struct Kept {
    state: String,
    at: Instant,
    dashboard: Arc<Dashboard>,
}

const MAX_AGE: Duration = Duration::from_secs(60);
/// The province's and the fourteen cities', with a period or two each (a few KB apiece).
const MAX_KEPT: usize = 64;

impl DashboardCache {
    fn get(&self, key: &str, state: &str) -> Option<Arc<Dashboard>> {
        let inner = self.inner.lock().ok()?;
        inner
            .get(key)
            .filter(|k| k.state == state && k.at.elapsed() < MAX_AGE)
            .map(|k| k.dashboard.clone())
    }

    /// Forgets every dashboard (tests compare against a fresh computation with it).
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.clear();
        }
    }

    fn put(&self, key: String, state: String, dashboard: Arc<Dashboard>) {
        if let Ok(mut inner) = self.inner.lock() {
            if inner.len() >= MAX_KEPT && !inner.contains_key(&key) {
                inner.clear();
            }
            inner.insert(
                key,
                Kept {
                    state,
                    at: Instant::now(),
                    dashboard,
                },
            );
        }
    }
}

/// The state of what every dashboard is made of, in one statement.
async fn state_of(app: &App) -> Result<String, AppError> {
    let text = |e: &str| format!("CAST({e} AS TEXT)");
    let sql = format!(
        "SELECT \
         (SELECT {c} || ':' || {sv} || ':' || {updated} FROM clusters) AS clusters, \
         (SELECT {c} || ':' || {si} || ':' || {sup} || ':' || {rev} || ':' || {first} || ':' || {last} \
            FROM designations) AS designations, \
         (SELECT {c} || ':' || {sv} || ':' || {updated} FROM reports) AS reports, \
         (SELECT {c} || ':' || {si} FROM report_versions) AS versions, \
         (SELECT {c} || ':' || {imported} FROM calendar_years) AS calendar",
        c = text("COUNT(*)"),
        sv = text("COALESCE(SUM(version), 0)"),
        si = text("COALESCE(SUM(id), 0)"),
        updated = text("MAX(updated_at)"),
        sup = text("COUNT(superseded_on)"),
        rev = text("COUNT(revoked_on)"),
        first = text("MIN(effective_on)"),
        last = text("MAX(effective_on)"),
        imported = text("MAX(imported_at)"),
    );
    let row = app
        .db
        .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| AppError::internal("dashboard state: no row"))?;
    let mut state = String::new();
    for col in [
        "clusters",
        "designations",
        "reports",
        "versions",
        "calendar",
    ] {
        let part: Option<String> = row.try_get("", col)?;
        state.push_str(part.as_deref().unwrap_or("-"));
        state.push('/');
    }
    Ok(state)
}

/// The dashboard of the principal's scope: a kept one while its state holds, else computed.
pub async fn dashboard(
    app: &App,
    p: &Principal,
    q: &DashboardQuery,
) -> Result<Dashboard, AppError> {
    let scope = authorize(p, Resource::Report, Action::Review)?;
    let key = format!(
        "{scope:?}:{}:{}",
        p.org.city_code.map(|c| c.to_string()).unwrap_or_default(),
        q.period.as_deref().unwrap_or_default().trim()
    );
    let (policy, _) = reports::policy_and_form(app)?;
    let state = format!(
        "{}@{}/{}/{}",
        policy.id(),
        policy.identity.version,
        calendar::today(app),
        state_of(app).await?
    );
    if let Some(kept) = app.dashboards.get(&key, &state) {
        return Ok((*kept).clone());
    }
    let fresh = compute(app, p, q).await?;
    app.dashboards.put(key, state, Arc::new(fresh.clone()));
    Ok(fresh)
}

/// The dashboard computed from the database.
async fn compute(app: &App, p: &Principal, q: &DashboardQuery) -> Result<Dashboard, AppError> {
    let asked = q
        .period
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(parse_period)
        .transpose()?;
    let (scope, own_city, clusters) = clusters_in_scope(app, p).await?;
    let (policy, form) = reports::policy_and_form(app)?;
    let cal = calendar::load(app).await?;
    let today = calendar::today(app);
    let basis = reports::ReportBasis::load(app, p, &clusters).await?;
    let obligations = basis.obligations(&policy, &cal, &clusters, today)?;

    let mut tables = Vec::new();

    // Clusters by city (every city of the province, or the bureau's own).
    let by_city = count_by(clusters.iter().map(|c| c.city_code));
    let cities: Vec<RegionCode> = match own_city {
        Some(c) => vec![c],
        None => region::cities().iter().map(|c| c.code()).collect(),
    };
    tables.push(Table {
        key: "by-city".into(),
        title: "集群数量（按市州）".into(),
        chart: "bar".into(),
        headers: vec!["市州".into(), "集群数".into()],
        rows: cities
            .iter()
            .map(|code| {
                let link = clusters_link("city", &code.to_string());
                vec![
                    Cell::linked(region::city_name_of(*code), link.clone()),
                    Cell::count(by_city.get(code).copied().unwrap_or(0), Some(link)),
                ]
            })
            .collect(),
    });

    // The policy's groupings of cities (第十六条: 长株潭) and the rest.
    let groupings: Vec<(&str, &str, Vec<RegionCode>)> = policy
        .groupings
        .iter()
        .map(|g| {
            let cities = g.city_codes.iter().filter_map(|c| c.parse().ok()).collect();
            (g.key.as_str(), g.name.as_str(), cities)
        })
        .collect();
    let in_grouping = |c: &RegionCode, cities: &[RegionCode]| cities.contains(c);
    let ungrouped = clusters
        .iter()
        .filter(|c| {
            !groupings
                .iter()
                .any(|(_, _, g)| in_grouping(&c.city_code, g))
        })
        .count();
    let area_rows = groupings
        .iter()
        .map(|(key, name, cities)| {
            let n = clusters
                .iter()
                .filter(|c| in_grouping(&c.city_code, cities))
                .count();
            (*key, *name, n)
        })
        .chain([(clusters::OTHER_AREA, clusters::OTHER_AREA_NAME, ungrouped)]);
    tables.push(Table {
        key: "by-area".into(),
        title: "集群数量（按区域）".into(),
        chart: "pie".into(),
        headers: vec!["区域".into(), "集群数".into()],
        rows: area_rows
            .map(|(key, label, n)| {
                let link = clusters_link("area", key);
                vec![
                    Cell::linked(label, link.clone()),
                    Cell::count(n, Some(link)),
                ]
            })
            .collect(),
    });

    // By kind, in the policy's order.
    let by_kind = count_by(clusters.iter().map(|c| c.kind.as_str()));
    tables.push(Table {
        key: "by-kind".into(),
        title: "集群数量（按类别）".into(),
        chart: "pie".into(),
        headers: vec!["类别".into(), "集群数".into()],
        rows: policy
            .cluster_kinds
            .iter()
            .map(|k| {
                let link = clusters_link("kind", &k.key);
                vec![
                    Cell::linked(k.name.clone(), link.clone()),
                    Cell::count(
                        by_kind.get(k.key.as_str()).copied().unwrap_or(0),
                        Some(link),
                    ),
                ]
            })
            .collect(),
    });

    // By GB/T 4754 division, the ones present.
    let by_industry = count_by(clusters.iter().map(|c| c.industry_code.as_str()));
    tables.push(Table {
        key: "by-industry".into(),
        title: "集群数量（按主导产业，GB/T 4754）".into(),
        chart: "bar".into(),
        headers: vec!["主导产业".into(), "集群数".into()],
        rows: by_industry
            .iter()
            .map(|(code, n)| {
                let link = clusters_link("industry", code);
                vec![
                    Cell::linked(clusters::industry_name(code), link.clone()),
                    Cell::count(*n, Some(link)),
                ]
            })
            .collect(),
    });

    // By status.
    let by_status = count_by(clusters.iter().map(|c| c.lifecycle.key()));
    tables.push(Table {
        key: "by-status".into(),
        title: "集群数量（按状态）".into(),
        chart: "pie".into(),
        headers: vec!["状态".into(), "集群数".into()],
        rows: ["applicant", "cultivation", "certified", "revoked"]
            .into_iter()
            .map(|k| {
                let link = clusters_link("lifecycle", k);
                vec![
                    Cell::linked(clusters::lifecycle_label(k), link.clone()),
                    Cell::count(by_status.get(k).copied().unwrap_or(0), Some(link)),
                ]
            })
            .collect(),
    });

    // Compliance of one period.
    let mut periods: Vec<ReportPeriod> = Vec::new();
    for o in &obligations {
        if let Some(kind) = reports::kind_from_key(&o.period_kind) {
            let period = ReportPeriod {
                kind,
                year: o.period_year,
            };
            if !periods.contains(&period) {
                periods.push(period);
            }
        }
    }
    // Obligations come latest due first.
    let period = asked.or_else(|| periods.first().copied());
    if let Some(period) = period {
        let key = period_key(period);
        let of_period: Vec<&reports::ObligationRow> = obligations
            .iter()
            .filter(|o| {
                o.period_kind == reports::kind_key(period.kind) && o.period_year == period.year
            })
            .collect();
        let counts = count_by(of_period.iter().map(|o| o.compliance.as_str()));
        tables.push(Table {
            key: "compliance".into(),
            title: format!("报送情况：{}", reports::report_title(&policy, period)),
            chart: "pie".into(),
            headers: vec!["报送情况".into(), "集群数".into()],
            rows: Compliance::ALL
                .into_iter()
                .map(|c| {
                    let link = obligations_link(&key, Some(c.key()), None);
                    vec![
                        Cell::linked(c.label(), link.clone()),
                        Cell::count(counts.get(c.key()).copied().unwrap_or(0), Some(link)),
                    ]
                })
                .collect(),
        });
        let mut by_city: BTreeMap<RegionCode, BTreeMap<&str, usize>> = BTreeMap::new();
        let city_of: std::collections::HashMap<_, _> =
            clusters.iter().map(|c| (c.id, c.city_code)).collect();
        for o in &of_period {
            if let Some(city) = city_of.get(&o.cluster_id) {
                *by_city
                    .entry(*city)
                    .or_default()
                    .entry(o.compliance.as_str())
                    .or_insert(0) += 1;
            }
        }
        let mut headers = vec!["市州".to_string(), "应报".to_string()];
        headers.extend(Compliance::ALL.iter().map(|c| c.label().to_string()));
        tables.push(Table {
            key: "compliance-by-city".into(),
            title: format!(
                "报送情况（按市州）：{}",
                reports::report_title(&policy, period)
            ),
            chart: "bar".into(),
            headers,
            rows: by_city
                .iter()
                .map(|(city, counts)| {
                    let mut row = vec![
                        Cell::linked(
                            region::city_name_of(*city),
                            obligations_link(&key, None, Some(*city)),
                        ),
                        Cell::count(
                            counts.values().sum(),
                            Some(obligations_link(&key, None, Some(*city))),
                        ),
                    ];
                    row.extend(Compliance::ALL.into_iter().map(|c| {
                        Cell::count(
                            counts.get(c.key()).copied().unwrap_or(0),
                            Some(obligations_link(&key, Some(c.key()), Some(*city))),
                        )
                    }));
                    row
                })
                .collect(),
        });
    }

    // Totals of the form's numeric indicators per period, over the reports filed.
    let indicators: Vec<_> = form
        .indicators
        .iter()
        .filter(|i| i.value_type != ValueType::Text)
        .collect();
    let filed: Vec<&crate::store::entity::report::Model> = basis
        .reports
        .values()
        // The provincial programme's reports: the figures are its form's.
        .filter(|r| r.revision > 0 && r.policy_id == reports::PROVINCIAL)
        .collect();
    let figures = app
        .report_figures
        .figures(
            app,
            &policy,
            &form,
            &filed.iter().map(|r| (r.id, r.version)).collect::<Vec<_>>(),
        )
        .await?;
    let mut trend: BTreeMap<(i32, u8), (ReportPeriod, usize, Vec<f64>)> = BTreeMap::new();
    for r in filed {
        let Some(period) = reports::period_of(r) else {
            continue;
        };
        let order = match period.kind {
            ReportKind::SemiAnnual => 0,
            ReportKind::Annual => 1,
        };
        let Some(values) = figures.get(&r.id) else {
            continue;
        };
        let entry = trend
            .entry((period.year, order))
            .or_insert_with(|| (period, 0, vec![0.0; indicators.len()]));
        entry.1 += 1;
        for (sum, ind) in entry.2.iter_mut().zip(&indicators) {
            *sum += values.get(&ind.key).copied().unwrap_or(0.0);
        }
    }
    let mut headers = vec!["报告期".to_string(), "已报送报告数".to_string()];
    headers.extend(indicators.iter().map(|i| match i.unit {
        Some(u) => format!("{}（{}）", i.name, u.as_str()),
        None => i.name.clone(),
    }));
    tables.push(Table {
        key: "trend".into(),
        title: "主要指标合计与趋势（已报送的报告）".into(),
        chart: "line".into(),
        headers,
        rows: trend
            .values()
            .map(|(period, n, sums)| {
                let key = period_key(*period);
                let mut row = vec![
                    Cell::linked(
                        reports::report_title(&policy, *period),
                        obligations_link(&key, None, None),
                    ),
                    Cell::count(*n, Some(obligations_link(&key, None, None))),
                ];
                row.extend(sums.iter().map(|v| Cell::number(*v)));
                row
            })
            .collect(),
    });

    Ok(Dashboard {
        scope,
        today: date_zh(today),
        clusters: clusters.len(),
        period: period.map(|p| PeriodView {
            key: period_key(p),
            title: reports::report_title(&policy, p),
        }),
        periods: periods
            .into_iter()
            .map(|p| PeriodView {
                key: period_key(p),
                title: reports::report_title(&policy, p),
            })
            .collect(),
        tables,
    })
}

/// One table of the dashboard as an Excel workbook (numbers as numbers), with its file name.
pub async fn export(
    app: &App,
    p: &Principal,
    q: &DashboardQuery,
    table: &str,
) -> Result<(String, Vec<u8>), AppError> {
    let d = dashboard(app, p, q).await?;
    let t = d.table(table).ok_or_else(|| {
        let keys: Vec<&str> = d.tables.iter().map(|t| t.key.as_str()).collect();
        AppError::invalid(
            "table",
            format!("没有名为“{table}”的表，可导出：{}", keys.join("、")),
        )
    })?;
    let bytes = xlsx(&d, t)?;
    authorize(p, Resource::Report, Action::Export)?;
    crate::audit::record_export(
        app,
        p,
        crate::audit::Event {
            action: "dashboard.export",
            object_type: "dashboard",
            object_id: t.key.clone(),
            summary: format!("导出数据看板：{}{}（{}行）", d.scope, t.title, t.rows.len()),
            ..Default::default()
        },
    )
    .await?;
    Ok((format!("{}{}.xlsx", d.scope, t.title), bytes))
}

fn xlsx(d: &Dashboard, t: &Table) -> Result<Vec<u8>, AppError> {
    use super::workbook::{column_widths, header_row, styles, xlsx_err};
    let st = styles();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("数据").map_err(xlsx_err)?;
    header_row(
        ws,
        &st,
        &format!("{}{}（{}）", d.scope, t.title, d.today),
        &t.headers,
    )?;
    let mut widths = vec![28.0];
    widths.extend(std::iter::repeat_n(14.0, t.headers.len().saturating_sub(1)));
    column_widths(ws, &widths)?;
    for (r, row) in (2u32..).zip(&t.rows) {
        for (c, cell) in (0u16..).zip(row) {
            match cell.value {
                Some(v) => ws.write_number_with_format(r, c, v, &st.number),
                None => ws.write_string_with_format(r, c, &cell.text, &st.cell),
            }
            .map_err(xlsx_err)?;
        }
    }
    wb.save_to_buffer().map_err(xlsx_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_back_and_bad_ones_are_named() {
        for p in [ReportPeriod::annual(2025), ReportPeriod::semi_annual(2026)] {
            assert_eq!(parse_period(&period_key(p)).ok(), Some(p));
        }
        for bad in ["2025", "annual-", "yearly-2025", "annual-99999"] {
            let e = match parse_period(bad) {
                Err(AppError::Invalid(fields)) => fields
                    .first()
                    .map(|f| f.message.clone())
                    .unwrap_or_default(),
                other => format!("{other:?}"),
            };
            assert!(e.contains("报告期"), "{bad}: {e}");
        }
    }

    #[test]
    fn numbers_print_as_people_read_them() {
        assert_eq!(Cell::number(356.0).text, "356");
        assert_eq!(Cell::number(356.2).text, "356.2");
        assert_eq!(Cell::number(1.005 + 2.0).text, "3.01");
        assert_eq!(Cell::number(356.2).value, Some(356.2));
    }
}
