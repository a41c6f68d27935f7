//! Development reports (第十三条): every cluster holding a title, 培育对象 included ("参照管理"),
//! reports on each year and half-year it held the title, on the form the policy defines
//! (`[reports.form]`: indicators, the 第十五条 duties, the use of reward funds). The cluster's
//! promotion organisation drafts and submits, the city bureau adds its opinion and forwards
//! (第五条), the province accepts or returns with comments; each submission is kept as a version.
//! Reminders before the due date and notices of overdue reports are in `alerts`.
//!
//! Obligations and due dates come only from the deadline engine
//! (`jiqun_rules::deadline::owed_reports`) over the cluster's titles and the working-day calendar.
//!
//! A report belongs to a programme (`reports.policy_id`): empty for the installation's
//! provincial programme (its current policy, the provincial designations), or the id of a
//! policy whose title is the ministry's (the national 中小企业特色产业集群's yearly return, owed
//! over the title's terms in `ministry::holdings`, on that policy's own form). The cluster's
//! promotion organisation files both (the permission table gives reports to it, `OwnOrg`); a
//! programme whose 初审 is the province's sends its report straight to the province
//! (`report::Route::Direct`: no city step), which accepts or returns it.

mod alerts;
mod steps;

use crate::store::id::{ClusterId, ReportId};
pub use alerts::*;
pub use steps::*;

use std::collections::{BTreeMap, HashMap};

use jiqun_domain::access::{Action, Resource, ScopeKind, report_in_reach};
use jiqun_domain::lifecycle::Title;
use jiqun_domain::region;
use jiqun_domain::report::{Route, Status};
use jiqun_domain::round::date_zh;
use jiqun_rules::deadline::{self, OwedReport, ReportKind, ReportPeriod};
use jiqun_rules::policy::{ReportForm, ValueType};
use jiqun_rules::report_form::{self, ReportData};
use jiqun_rules::{Calendar, Policy};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use time::Date;

use super::{authorize, calendar, clusters, designations};
use crate::app::{App, Principal};
use crate::clock::format_local;
use crate::error::{AppError, FieldError};
use crate::store::{
    self,
    entity::{cluster, designation, report, report_event, report_version},
};

/// How a period kind is stored and named in paths and the API.
pub fn kind_key(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Annual => "annual",
        ReportKind::SemiAnnual => "semi_annual",
    }
}

pub fn kind_from_key(key: &str) -> Option<ReportKind> {
    match key {
        "annual" => Some(ReportKind::Annual),
        "semi_annual" => Some(ReportKind::SemiAnnual),
        _ => None,
    }
}

pub(crate) fn period_of(m: &report::Model) -> Option<ReportPeriod> {
    kind_from_key(&m.period_kind).map(|kind| ReportPeriod {
        kind,
        year: m.period_year,
    })
}

/// The provincial programme's key in `reports.policy_id`.
pub const PROVINCIAL: &str = "";

/// The programme a report is kept under: its policy, its form and its route.
pub struct Programme {
    /// `reports.policy_id`: empty for the provincial programme.
    pub key: String,
    pub policy: std::sync::Arc<Policy>,
    pub form: ReportForm,
    pub route: Route,
    /// The title it is owed under, for people (empty for the provincial programme).
    pub title_name: String,
}

impl Programme {
    pub fn provincial(app: &App) -> Result<Programme, AppError> {
        let (policy, form) = policy_and_form(app)?;
        Ok(Programme {
            key: PROVINCIAL.into(),
            policy: std::sync::Arc::new(policy),
            form,
            route: Route::ViaCity,
            title_name: String::new(),
        })
    }

    fn of_holding(h: &super::ministry::Holding) -> Result<Programme, AppError> {
        let form = h.policy.reports.form.clone().ok_or_else(|| {
            AppError::Conflict(format!(
                "《{}》未定义年度报告的表单",
                h.policy.identity.name
            ))
        })?;
        let direct = h.policy.procedure_or_default().first_review
            == jiqun_rules::policy::FirstReview::Province;
        Ok(Programme {
            key: h.policy.id().to_string(),
            policy: h.policy.clone(),
            form,
            route: if direct {
                Route::Direct
            } else {
                Route::ViaCity
            },
            title_name: h.title_name.clone(),
        })
    }

    /// The programme `key` of a cluster: the provincial one, or the one of its ministry's
    /// title under that policy.
    pub(crate) async fn of<C: ConnectionTrait>(
        app: &App,
        conn: &C,
        cluster_id: ClusterId,
        key: &str,
    ) -> Result<Programme, AppError> {
        if key == PROVINCIAL {
            return Programme::provincial(app);
        }
        let holdings =
            super::ministry::holdings(conn, Some(vec![cluster_id]), calendar::today(app)).await?;
        let h = holdings
            .iter()
            .find(|h| h.policy.id() == key)
            .ok_or_else(|| AppError::invalid("policy_id", format!("该集群没有“{key}”的称号")))?;
        Programme::of_holding(h)
    }

    /// The titles of a cluster this programme's reports are owed under.
    async fn titles<C: ConnectionTrait>(
        &self,
        app: &App,
        conn: &C,
        cluster_id: ClusterId,
    ) -> Result<Vec<Title>, AppError> {
        if self.key == PROVINCIAL {
            return Ok(titles_of(conn, [cluster_id])
                .await?
                .remove(&cluster_id)
                .unwrap_or_default());
        }
        Ok(
            super::ministry::holdings(conn, Some(vec![cluster_id]), calendar::today(app))
                .await?
                .into_iter()
                .filter(|h| h.policy.id() == self.key)
                .flat_map(|h| h.titles)
                .collect(),
        )
    }

    /// A report's title: "2025年度发展情况报告"; under a ministry's title, prefixed by it.
    pub fn report_title(&self, period: ReportPeriod) -> String {
        if self.title_name.is_empty() {
            report_title(&self.policy, period)
        } else {
            format!("{}{}", self.title_name, report_title(&self.policy, period))
        }
    }

    pub fn status_label(&self, status: Status) -> &'static str {
        status.label_on(self.route)
    }

    /// The status a report waits in for the province's decision.
    pub fn awaiting_province(&self) -> Status {
        match self.route {
            Route::ViaCity => Status::Forwarded,
            Route::Direct => Status::Submitted,
        }
    }
}

/// The policy reports follow today and its report form.
pub fn policy_and_form(app: &App) -> Result<(Policy, ReportForm), AppError> {
    let policy = super::policy::current_on(calendar::today(app))?.policy;
    let form = policy
        .reports
        .form
        .clone()
        .ok_or_else(|| AppError::Conflict("现行政策文件未定义发展情况报告的表单".into()))?;
    Ok((policy, form))
}

/// The name people read: "2025年度发展情况报告", "2026年半年度发展情况报告".
pub fn report_title(policy: &Policy, period: ReportPeriod) -> String {
    let name = &deadline::report_rule(policy, period.kind).name;
    format!("{}年{}", period.year, name.trim_start_matches('年'))
}

pub fn data_of(m: &report::Model) -> ReportData {
    serde_json::from_str(&m.form).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Scope

/// Whether the principal may see a report: its own organisation's, its city's once submitted,
/// all submitted ones for the province; a county bureau's once submitted, when `lead_county`
/// (the report's cluster's) is the bureau's county.
pub(crate) fn visible(
    p: &Principal,
    m: &report::Model,
    lead_county: Option<region::RegionCode>,
) -> bool {
    let Ok(scope) = authorize(p, Resource::Report, Action::View) else {
        return false;
    };
    if !report_in_reach(p.role, m.status) {
        return false;
    }
    match scope {
        ScopeKind::All => true,
        ScopeKind::OwnCity => p.org.city_code == Some(m.city_code),
        ScopeKind::OwnCounty => lead_county.is_some_and(|c| super::county_reaches(p, c)),
        ScopeKind::OwnOrg => m.org_id == p.org.id,
        ScopeKind::OwnAccount => false,
    }
}

/// Loads a report the principal may see; anything else is "not found".
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: ReportId,
) -> Result<report::Model, AppError> {
    let m = report::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let county = if p.role == jiqun_domain::access::Role::CountyBureau {
        super::lead_county_of(conn, m.cluster_id).await?
    } else {
        None
    };
    if visible(p, &m, county) {
        Ok(m)
    } else {
        Err(AppError::NotFound)
    }
}

/// The clusters whose reports the principal reaches (own organisation, own city, or all).
async fn clusters_in_scope(app: &App, p: &Principal) -> Result<Vec<cluster::Model>, AppError> {
    let scope = authorize(p, Resource::Report, Action::View)?;
    let q = cluster::Entity::find();
    let q = match scope {
        ScopeKind::All => q,
        ScopeKind::OwnCity => match p.org.city_code {
            Some(city) => q.filter(cluster::Column::CityCode.eq(city)),
            None => return Ok(Vec::new()),
        },
        ScopeKind::OwnCounty => match p.org.county_code {
            Some(county) => q.filter(cluster::Column::LeadCountyCode.eq(county)),
            None => return Ok(Vec::new()),
        },
        ScopeKind::OwnOrg => q.filter(cluster::Column::OrgId.eq(p.org.id)),
        ScopeKind::OwnAccount => return Ok(Vec::new()),
    };
    Ok(q.order_by_asc(cluster::Column::Id).all(&app.db).await?)
}

/// Each cluster's titles, in the order conferred: one query for any number of clusters.
pub(crate) async fn titles_of<C: ConnectionTrait>(
    conn: &C,
    cluster_ids: impl IntoIterator<Item = ClusterId>,
) -> Result<HashMap<ClusterId, Vec<Title>>, AppError> {
    let mut rows = store::load_where_in::<designation::Entity>(
        conn,
        designation::Column::ClusterId,
        cluster_ids,
    )
    .await?;
    rows.sort_by_key(|d| (d.effective_on, d.id));
    let mut out: HashMap<ClusterId, Vec<Title>> = HashMap::new();
    for d in &rows {
        out.entry(d.cluster_id)
            .or_default()
            .push(designations::title_of(d));
    }
    Ok(out)
}

/// A period's report rows by (cluster, programme, kind key, year).
pub(crate) type ReportKey = (ClusterId, String, String, i32);

fn key_of(m: &report::Model) -> ReportKey {
    (
        m.cluster_id,
        m.policy_id.clone(),
        m.period_kind.clone(),
        m.period_year,
    )
}

// ---------------------------------------------------------------------------------------------
// Obligations

/// One report a cluster owes, with where it stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObligationRow {
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    pub city_name: String,
    /// The programme: empty for the provincial one, else its policy's id.
    pub policy_id: String,
    /// The title it is owed under (e.g. 中小企业特色产业集群); empty for the provincial one.
    pub programme: String,
    /// annual | semi_annual
    pub period_kind: String,
    pub period_year: i32,
    /// "2025年度发展情况报告"
    pub title: String,
    /// The policy's date, YYYY-MM-DD.
    pub nominal_due: String,
    /// The effective due date (rolled forward to a working day), YYYY-MM-DD; empty while the
    /// due year's calendar is not imported.
    pub due: String,
    /// 2026年2月2日
    pub due_zh: String,
    /// Days from today to the due date (negative once overdue); absent while the date is unknown.
    pub days_left: Option<i64>,
    pub overdue: bool,
    /// The report started for it, if any.
    #[schema(value_type = Option<i64>)]
    pub report_id: Option<ReportId>,
    /// not_started | draft | submitted | forwarded | returned | accepted
    pub status: String,
    pub status_label: String,
    /// on_time | late | missing | pending: the report's first submission against the due date.
    pub compliance: String,
    pub compliance_label: String,
}

fn obligation_row(
    prog: &Programme,
    cl: &cluster::Model,
    owed: &OwedReport,
    report: Option<&report::Model>,
    first_filed: Option<Date>,
    today: Date,
) -> ObligationRow {
    let filed = report.is_some_and(|r| r.revision > 0);
    let compliance =
        jiqun_domain::compliance::classify(first_filed.filter(|_| filed), owed.due, today);
    ObligationRow {
        compliance: compliance.key().into(),
        compliance_label: compliance.label().into(),
        cluster_id: cl.id,
        cluster_name: cl.name.clone(),
        city_name: region::city_name_of(cl.city_code),
        policy_id: prog.key.clone(),
        programme: prog.title_name.clone(),
        period_kind: kind_key(owed.period.kind).into(),
        period_year: owed.period.year,
        title: prog.report_title(owed.period),
        nominal_due: owed.nominal_due.to_string(),
        due: owed.due.map(|d| d.to_string()).unwrap_or_default(),
        due_zh: match owed.due {
            Some(d) => date_zh(d),
            None => format!(
                "{}（遇节假日顺延，待导入当年节假日安排）",
                date_zh(owed.nominal_due)
            ),
        },
        days_left: owed.due.map(|d| (d - today).whole_days()),
        overdue: !filed && owed.overdue_on(today),
        report_id: report.map(|r| r.id),
        status: report.map_or("not_started", |r| r.status.key()).into(),
        status_label: report
            .map_or("未开始", |r| prog.status_label(r.status))
            .into(),
    }
}

/// The obligations of the clusters the principal reaches, as of today, latest first; for the
/// city and the province only those of clusters in scope. The provincial programme's and
/// those of the ministry's titles the clusters hold.
pub async fn obligations(app: &App, p: &Principal) -> Result<Vec<ObligationRow>, AppError> {
    let cal = calendar::load(app).await?;
    let today = calendar::today(app);
    let clusters = clusters_in_scope(app, p).await?;
    let basis = ReportBasis::load(app, p, &clusters).await?;
    let mut out = match Programme::provincial(app) {
        Ok(prog) => basis.obligations(&prog.policy, &cal, &clusters, today)?,
        // A provincial policy without a report form keeps no provincial reports.
        Err(AppError::Conflict(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    let holdings = super::ministry::holdings(
        &app.db,
        Some(clusters.iter().map(|c| c.id).collect()),
        today,
    )
    .await?;
    let by_id: HashMap<ClusterId, &cluster::Model> = clusters.iter().map(|c| (c.id, c)).collect();
    for h in &holdings {
        let (Some(cl), Ok(prog)) = (by_id.get(&h.cluster_id), Programme::of_holding(h)) else {
            continue;
        };
        out.extend(basis.owed_under(&prog, &cal, cl, &h.titles, today)?);
    }
    out.sort_by(|a, b| {
        (b.nominal_due.as_str(), a.cluster_id).cmp(&(a.nominal_due.as_str(), b.cluster_id))
    });
    Ok(out)
}

/// What obligations are read from, loaded in a bounded number of queries for any number of
/// clusters: their titles, the reports the principal may see, and when each was first filed.
pub(crate) struct ReportBasis {
    pub titles: HashMap<ClusterId, Vec<Title>>,
    pub reports: HashMap<ReportKey, report::Model>,
    pub first_filed: HashMap<ReportId, Date>,
}

impl ReportBasis {
    /// The reports come without their contents (`form` is empty): obligations need where each
    /// report stands, not what it says; `FiguresCache` gives its figures.
    pub(crate) async fn load(
        app: &App,
        p: &Principal,
        clusters: &[cluster::Model],
    ) -> Result<ReportBasis, AppError> {
        use sea_orm::{Iterable, QuerySelect, sea_query::Expr};
        let titles = titles_of(&app.db, clusters.iter().map(|c| c.id)).await?;
        let ids: Vec<ClusterId> = clusters.iter().map(|c| c.id).collect();
        let county: HashMap<ClusterId, region::RegionCode> = clusters
            .iter()
            .map(|c| (c.id, c.lead_county_code))
            .collect();
        let mut rows = Vec::new();
        for chunk in ids.chunks(store::CHUNK) {
            rows.extend(
                report::Entity::find()
                    .select_only()
                    .columns(report::Column::iter().filter(|c| !matches!(c, report::Column::Form)))
                    .column_as(Expr::value(""), "form")
                    .filter(report::Column::ClusterId.is_in(chunk.iter().copied()))
                    .into_model::<report::Model>()
                    .all(&app.db)
                    .await?,
            );
        }
        let reports: HashMap<ReportKey, report::Model> = rows
            .into_iter()
            // A draft is the cluster's own: others see the period as not yet reported.
            .filter(|r| visible(p, r, county.get(&r.cluster_id).copied()))
            .map(|r| (key_of(&r), r))
            .collect();
        let first_filed =
            first_filed_dates(&app.db, reports.values().filter(|r| r.revision > 0)).await?;
        Ok(ReportBasis {
            titles,
            reports,
            first_filed,
        })
    }

    /// Every obligation of the clusters under the provincial programme as of `today`, latest
    /// due first.
    pub(crate) fn obligations(
        &self,
        policy: &Policy,
        cal: &Calendar,
        clusters: &[cluster::Model],
        today: Date,
    ) -> Result<Vec<ObligationRow>, AppError> {
        let prog =
            Programme {
                key: PROVINCIAL.into(),
                policy: std::sync::Arc::new(policy.clone()),
                form: policy.reports.form.clone().ok_or_else(|| {
                    AppError::Conflict("现行政策文件未定义发展情况报告的表单".into())
                })?,
                route: Route::ViaCity,
                title_name: String::new(),
            };
        let mut out = Vec::new();
        for cl in clusters {
            let Some(t) = self.titles.get(&cl.id) else {
                continue;
            };
            out.extend(self.owed_under(&prog, cal, cl, t, today)?);
        }
        out.sort_by(|a, b| {
            (b.nominal_due.as_str(), a.cluster_id).cmp(&(a.nominal_due.as_str(), b.cluster_id))
        });
        Ok(out)
    }
}

impl ReportBasis {
    /// The obligations of one cluster under a programme, over the titles it is owed under.
    fn owed_under(
        &self,
        prog: &Programme,
        cal: &Calendar,
        cl: &cluster::Model,
        titles: &[Title],
        today: Date,
    ) -> Result<Vec<ObligationRow>, AppError> {
        let mut out = Vec::new();
        for owed in deadline::owed_reports(&prog.policy, cal, titles, today)
            .map_err(|e| AppError::Conflict(e.to_string()))?
        {
            let key = (
                cl.id,
                prog.key.clone(),
                kind_key(owed.period.kind).to_string(),
                owed.period.year,
            );
            let report = self.reports.get(&key);
            let filed_on = report.and_then(|r| self.first_filed.get(&r.id).copied());
            out.push(obligation_row(prog, cl, &owed, report, filed_on, today));
        }
        Ok(out)
    }
}

/// The figures of filed reports, read from their forms once per report version and policy
/// text (a report's figures change only when its version does), so a dashboard over thousands
/// of reports parses none of them again. Bounded: past `MAX_FIGURES` reports it starts afresh.
#[derive(Default)]
pub struct FiguresCache {
    inner: std::sync::Mutex<KeptFigures>,
}

#[derive(Default)]
struct KeptFigures {
    /// The policy text the figures were read under (its id and version).
    policy: String,
    by_report: HashMap<ReportId, (i32, std::sync::Arc<BTreeMap<String, f64>>)>,
}

/// About 1 KB a report: 20,000 reports is 40 years of 500 clusters.
const MAX_FIGURES: usize = 20_000;

impl FiguresCache {
    /// The figures of `reports` (id and version) under the policy's report form: the kept ones,
    /// and the rest read from the database in batches of ids.
    pub(crate) async fn figures(
        &self,
        app: &App,
        policy: &Policy,
        form: &ReportForm,
        reports: &[(ReportId, i32)],
    ) -> Result<HashMap<ReportId, std::sync::Arc<BTreeMap<String, f64>>>, AppError> {
        use sea_orm::QuerySelect;
        let policy_key = format!("{}@{}", policy.id(), policy.identity.version);
        let mut out = HashMap::with_capacity(reports.len());
        let mut missing = Vec::new();
        if let Ok(mut kept) = self.inner.lock() {
            if kept.policy != policy_key {
                kept.policy = policy_key.clone();
                kept.by_report.clear();
            }
            for (id, version) in reports {
                match kept.by_report.get(id) {
                    Some((v, figures)) if v == version => {
                        out.insert(*id, figures.clone());
                    }
                    _ => missing.push(*id),
                }
            }
        }
        let mut read = Vec::new();
        for chunk in missing.chunks(store::CHUNK) {
            let rows: Vec<(ReportId, i32, String)> = report::Entity::find()
                .select_only()
                .column(report::Column::Id)
                .column(report::Column::Version)
                .column(report::Column::Form)
                .filter(report::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&app.db)
                .await?;
            for (id, version, text) in rows {
                let data: ReportData = serde_json::from_str(&text).unwrap_or_default();
                let figures = std::sync::Arc::new(report_form::assess(form, &data).values);
                out.insert(id, figures.clone());
                read.push((id, version, figures));
            }
        }
        if let Ok(mut kept) = self.inner.lock()
            && kept.policy == policy_key
        {
            if kept.by_report.len() + read.len() > MAX_FIGURES {
                kept.by_report.clear();
            }
            for (id, version, figures) in read {
                kept.by_report.insert(id, (version, figures));
            }
        }
        Ok(out)
    }
}

/// The local date each filed report was first submitted (its version 1): two columns, in
/// batches of ids.
pub(crate) async fn first_filed_dates<'a, C: ConnectionTrait>(
    conn: &C,
    filed: impl Iterator<Item = &'a report::Model>,
) -> Result<HashMap<ReportId, Date>, AppError> {
    use sea_orm::QuerySelect;
    let ids: Vec<ReportId> = filed.map(|r| r.id).collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(store::CHUNK) {
        let rows: Vec<(ReportId, time::OffsetDateTime)> = report_version::Entity::find()
            .select_only()
            .column(report_version::Column::ReportId)
            .column(report_version::Column::SubmittedAt)
            .filter(report_version::Column::Revision.eq(1))
            .filter(report_version::Column::ReportId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(
            rows.into_iter()
                .map(|(id, at)| (id, crate::clock::local(at).date())),
        );
    }
    Ok(out)
}

/// The one obligation of a cluster for a period under a programme, if it owes that report.
async fn owed_for(
    app: &App,
    cl: &cluster::Model,
    prog: &Programme,
    period: ReportPeriod,
) -> Result<OwedReport, AppError> {
    let cal = calendar::load(app).await?;
    let today = calendar::today(app);
    let titles = prog.titles(app, &app.db, cl.id).await?;
    let held = if prog.title_name.is_empty() {
        "培育对象或认定称号".to_string()
    } else {
        format!("{}称号", prog.title_name)
    };
    deadline::owed_reports(&prog.policy, &cal, &titles, today)
        .map_err(|e| AppError::Conflict(e.to_string()))?
        .into_iter()
        .find(|o| o.period == period)
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "“{}”无需报送{}：报送义务以集群在{}持有{held}为准，且该日须已过去",
                cl.name,
                prog.report_title(period),
                match period.kind {
                    ReportKind::Annual => format!("{}年12月31日", period.year),
                    ReportKind::SemiAnnual => format!("{}年6月30日", period.year),
                }
            ))
        })
}

// ---------------------------------------------------------------------------------------------
// Views

/// A report as lists show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportRow {
    #[schema(value_type = i64)]
    pub id: ReportId,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    pub city_name: String,
    /// The programme: empty for the provincial one, else its policy's id.
    pub policy_id: String,
    /// Whether it goes straight to the province (no city step).
    pub direct: bool,
    pub period_kind: String,
    pub period_year: i32,
    pub title: String,
    pub status: String,
    pub status_label: String,
    pub revision: i32,
    pub submitted_at: Option<String>,
    pub version: i32,
}

/// The reports the principal may see, newest period first (two queries for any number); the
/// paged list is `report_list`.
pub async fn list(app: &App, p: &Principal) -> Result<Vec<ReportRow>, AppError> {
    let scope = authorize(p, Resource::Report, Action::View)?;
    let mut q = report::Entity::find();
    match scope {
        ScopeKind::All => {}
        ScopeKind::OwnCity => {
            let Some(city) = p.org.city_code else {
                return Ok(Vec::new());
            };
            q = q.filter(report::Column::CityCode.eq(city));
        }
        ScopeKind::OwnCounty => q = q.filter(super::of_own_county(p, report::Column::ClusterId)),
        ScopeKind::OwnOrg => q = q.filter(report::Column::OrgId.eq(p.org.id)),
        ScopeKind::OwnAccount => return Ok(Vec::new()),
    }
    let rows: Vec<report::Model> = q
        .order_by_desc(report::Column::PeriodYear)
        .order_by_desc(report::Column::Id)
        .all(&app.db)
        .await?
        .into_iter()
        // The scope is in the query; what is left is the draft rule.
        .filter(|m| report_in_reach(p.role, m.status))
        .collect();
    rows_of(app, &rows).await
}

/// The programmes of some reports by (cluster, key): a bounded number of queries.
async fn programmes_of(
    app: &App,
    rows: &[report::Model],
) -> Result<HashMap<(ClusterId, String), Programme>, AppError> {
    let mut out = HashMap::new();
    if rows.iter().any(|m| m.policy_id == PROVINCIAL) {
        let prov = Programme::provincial(app)?;
        for m in rows.iter().filter(|m| m.policy_id == PROVINCIAL) {
            out.entry((m.cluster_id, PROVINCIAL.to_string()))
                .or_insert_with(|| Programme {
                    key: prov.key.clone(),
                    policy: prov.policy.clone(),
                    form: prov.form.clone(),
                    route: prov.route,
                    title_name: String::new(),
                });
        }
    }
    let national: Vec<ClusterId> = rows
        .iter()
        .filter(|m| m.policy_id != PROVINCIAL)
        .map(|m| m.cluster_id)
        .collect();
    if !national.is_empty() {
        for h in super::ministry::holdings(&app.db, Some(national), calendar::today(app)).await? {
            if let Ok(prog) = Programme::of_holding(&h) {
                out.entry((h.cluster_id, prog.key.clone())).or_insert(prog);
            }
        }
    }
    Ok(out)
}

/// The rows of a list of reports (one query for the cluster names, any number of reports).
pub async fn rows_of(app: &App, rows: &[report::Model]) -> Result<Vec<ReportRow>, AppError> {
    let programmes = programmes_of(app, rows).await?;
    let names =
        store::load_by_ids::<cluster::Entity>(&app.db, rows.iter().map(|m| m.cluster_id)).await?;
    Ok(rows
        .iter()
        .filter_map(|m| {
            let period = period_of(m)?;
            let prog = programmes.get(&(m.cluster_id, m.policy_id.clone()))?;
            Some(ReportRow {
                id: m.id,
                cluster_id: m.cluster_id,
                cluster_name: names
                    .get(&m.cluster_id)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                city_name: region::city_name_of(m.city_code),
                policy_id: m.policy_id.clone(),
                direct: prog.route == Route::Direct,
                period_kind: m.period_kind.clone(),
                period_year: m.period_year,
                title: prog.report_title(period),
                status: m.status.key().into(),
                status_label: prog.status_label(m.status).into(),
                revision: m.revision,
                submitted_at: m.submitted_at.map(format_local),
                version: m.version,
            })
        })
        .collect())
}

/// What was typed, as the API carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportFields {
    /// Indicator values by key, as typed (e.g. {"period_revenue": "356.2"}).
    #[serde(default)]
    pub indicators: BTreeMap<String, String>,
    /// Narrative sections by key, the reward-funds text included.
    #[serde(default)]
    pub sections: BTreeMap<String, String>,
}

impl From<ReportData> for ReportFields {
    fn from(d: ReportData) -> Self {
        ReportFields {
            indicators: d.indicators,
            sections: d.sections,
        }
    }
}

impl From<ReportFields> for ReportData {
    fn from(f: ReportFields) -> Self {
        ReportData {
            indicators: f.indicators,
            sections: f.sections,
        }
    }
}

/// One field of the form, with the value typed and its problem, for pages and the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldView {
    /// `indicators.<key>` or `sections.<key>`
    pub field: String,
    pub key: String,
    pub name: String,
    /// 亿元, 家 … (empty for text)
    pub unit: String,
    /// integer | decimal | percent | text (sections)
    pub value_type: String,
    pub required: bool,
    pub hint: String,
    pub value: String,
    /// The Chinese problem with the value, if any (a malformed number even on a draft; a
    /// missing required item once submission was tried or for the reader).
    pub problem: Option<String>,
}

/// One step on the report's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportEventView {
    pub at: String,
    pub action: String,
    pub from_label: String,
    pub to_label: String,
    pub actor: String,
    pub comment: String,
}

/// A field that changed between the last two submissions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeView {
    pub label: String,
    pub before: String,
    pub after: String,
}

/// A reported figure that deserves a question (monitoring), for the city bureau and the province.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlagView {
    pub indicator: String,
    /// year_on_year | half_above_annual | threshold_not_met
    pub kind: String,
    pub reason: String,
}

/// The flags of a report read against the cluster's other filed reports (one query); shown to
/// those who review reports, never to the cluster itself.
async fn flags_of(
    app: &App,
    policy: &Policy,
    form: &ReportForm,
    m: &report::Model,
    period: ReportPeriod,
) -> Result<Vec<FlagView>, AppError> {
    let others = report::Entity::find()
        .filter(report::Column::ClusterId.eq(m.cluster_id))
        .filter(report::Column::PolicyId.eq(m.policy_id.clone()))
        .all(&app.db)
        .await?;
    Ok(flags_among(policy, form, m, period, &others))
}

/// The flags of report `m` (of `period`) read against `others`, the cluster's reports (filed
/// ones count; `m` itself is skipped).
pub(crate) fn flags_among(
    policy: &Policy,
    form: &ReportForm,
    m: &report::Model,
    period: ReportPeriod,
    others: &[report::Model],
) -> Vec<FlagView> {
    use jiqun_rules::monitoring::{self, Context, Figures};
    let figures_of = |kind: ReportKind, year: i32| -> Option<Figures> {
        others
            .iter()
            .filter(|r| r.revision > 0 && r.id != m.id)
            .find(|r| r.period_kind == kind_key(kind) && r.period_year == year)
            .map(|r| report_form::assess(form, &data_of(r)).values)
    };
    let other_kind = match period.kind {
        ReportKind::Annual => ReportKind::SemiAnnual,
        ReportKind::SemiAnnual => ReportKind::Annual,
    };
    let year_before = figures_of(period.kind, period.year - 1);
    let same_year_other = figures_of(other_kind, period.year);
    let own = report_form::assess(form, &data_of(m)).values;
    monitoring::flags(
        policy,
        form,
        period,
        &own,
        Context {
            year_before: year_before.as_ref(),
            same_year_other: same_year_other.as_ref(),
        },
    )
    .into_iter()
    .map(|f| FlagView {
        indicator: f.indicator,
        kind: f.kind.key().into(),
        reason: f.reason,
    })
    .collect()
}

/// One report in full.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    #[serde(flatten)]
    pub row: ReportRow,
    pub org_name: String,
    pub due: String,
    pub due_zh: String,
    pub overdue: bool,
    pub city_opinion: String,
    pub province_comment: String,
    pub decided_at: Option<String>,
    pub fields: ReportFields,
    /// The form with values and problems, in form order.
    pub form: Vec<FieldView>,
    /// Whether submission would pass the completeness check now.
    pub complete: bool,
    pub history: Vec<ReportEventView>,
    /// What changed between the last two submitted versions (empty before a resubmission).
    pub changes: Vec<ChangeView>,
    pub attachments: Vec<crate::attachments::AttachmentView>,
    /// Figures that deserve a question, for the city bureau and the province (empty for the
    /// cluster).
    pub flags: Vec<FlagView>,
    /// What the principal may do now.
    pub can_edit: bool,
    pub can_forward: bool,
    pub can_decide: bool,
}

fn form_fields(form: &ReportForm, data: &ReportData) -> (Vec<FieldView>, bool) {
    let a = report_form::assess(form, data);
    let mut out = Vec::new();
    for ind in &form.indicators {
        let field = report_form::indicator_field(&ind.key);
        out.push(FieldView {
            problem: a.message_for(&field).map(str::to_string),
            field,
            key: ind.key.clone(),
            name: ind.name.clone(),
            unit: ind.unit.map(|u| u.as_str().to_string()).unwrap_or_default(),
            value_type: match ind.value_type {
                ValueType::Integer => "integer",
                ValueType::Decimal => "decimal",
                ValueType::Percent => "percent",
                ValueType::Text => "text",
                ValueType::IndustryCode => "industry_code",
            }
            .into(),
            required: ind.required,
            hint: String::new(),
            value: data.indicators.get(&ind.key).cloned().unwrap_or_default(),
        });
    }
    for s in report_form::all_sections(form) {
        let field = report_form::section_field(&s.key);
        out.push(FieldView {
            problem: a.message_for(&field).map(str::to_string),
            field,
            key: s.key.clone(),
            name: s.name.clone(),
            unit: String::new(),
            value_type: "text".into(),
            required: s.required,
            hint: s.hint.clone().unwrap_or_default(),
            value: data.sections.get(&s.key).cloned().unwrap_or_default(),
        });
    }
    (out, a.ready())
}

/// The problems that stop a submission, as field errors.
pub(crate) fn blocking_problems(form: &ReportForm, data: &ReportData) -> Vec<FieldError> {
    let a = report_form::assess(form, data);
    a.invalid
        .iter()
        .chain(&a.missing)
        .map(|p| FieldError {
            field: p.field.clone(),
            message: p.message.clone(),
        })
        .collect()
}

/// One report in full, for someone who may see it.
pub async fn get(app: &App, p: &Principal, id: ReportId) -> Result<ReportView, AppError> {
    let m = load(&app.db, p, id).await?;
    view_of(app, p, m).await
}

pub(crate) async fn view_of(
    app: &App,
    p: &Principal,
    m: report::Model,
) -> Result<ReportView, AppError> {
    let prog = Programme::of(app, &app.db, m.cluster_id, &m.policy_id).await?;
    let (policy, form) = (prog.policy.as_ref(), &prog.form);
    let period = period_of(&m).ok_or_else(|| AppError::internal("report period kind"))?;
    let cl = cluster::Entity::find_by_id(m.cluster_id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let org_name = clusters::org_names(&app.db, [m.org_id])
        .await?
        .remove(&m.org_id)
        .unwrap_or_default();
    let cal = calendar::load(app).await?;
    let today = calendar::today(app);
    let due = deadline::report_due_date(policy, &cal, period).ok();
    let nominal = deadline::nominal_due_date(policy, period)
        .map_err(|e| AppError::internal(e.to_string()))?;
    let data = data_of(&m);
    let (fields_view, complete) = form_fields(form, &data);
    let history = report_event::Entity::find()
        .filter(report_event::Column::ReportId.eq(m.id))
        .order_by_asc(report_event::Column::Id)
        .all(&app.db)
        .await?
        .into_iter()
        .map(|e| ReportEventView {
            at: format_local(e.at),
            action: jiqun_domain::report::Step::ALL
                .into_iter()
                .find(|s| s.key() == e.action)
                .map_or(e.action, |s| s.label().to_string()),
            from_label: e.from_status.label().into(),
            to_label: e.to_status.label().into(),
            actor: e.actor_name,
            comment: e.comment,
        })
        .collect();
    let versions = report_version::Entity::find()
        .filter(report_version::Column::ReportId.eq(m.id))
        .order_by_asc(report_version::Column::Revision)
        .all(&app.db)
        .await?;
    let changes = match versions.as_slice() {
        [.., before, after] => {
            let parse = |v: &report_version::Model| -> ReportData {
                serde_json::from_str(&v.form).unwrap_or_default()
            };
            report_form::diff(form, &parse(before), &parse(after))
                .into_iter()
                .map(|c| ChangeView {
                    label: c.label,
                    before: c.before,
                    after: c.after,
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let attachments =
        crate::attachments::list(app, jiqun_domain::attachment::OwnerType::Report, m.id.get())
            .await?;
    let can_edit = p.role == jiqun_domain::access::Role::Applicant
        && m.org_id == p.org.id
        && m.status.editable();
    let can_forward = authorize(p, Resource::Report, Action::Review).is_ok()
        && p.role == jiqun_domain::access::Role::CityBureau
        && prog.route == Route::ViaCity
        && m.status == Status::Submitted;
    let can_decide = authorize(p, Resource::Report, Action::Review).is_ok()
        && p.role == jiqun_domain::access::Role::Province
        && m.status == prog.awaiting_province();
    let flags = if authorize(p, Resource::Report, Action::Review).is_ok() {
        flags_of(app, policy, form, &m, period).await?
    } else {
        Vec::new()
    };
    Ok(ReportView {
        flags,
        row: ReportRow {
            id: m.id,
            cluster_id: m.cluster_id,
            cluster_name: cl.name,
            city_name: region::city_name_of(m.city_code),
            policy_id: m.policy_id.clone(),
            direct: prog.route == Route::Direct,
            period_kind: m.period_kind.clone(),
            period_year: m.period_year,
            title: prog.report_title(period),
            status: m.status.key().into(),
            status_label: prog.status_label(m.status).into(),
            revision: m.revision,
            submitted_at: m.submitted_at.map(format_local),
            version: m.version,
        },
        org_name,
        due: due.map(|d| d.to_string()).unwrap_or_default(),
        due_zh: date_zh(due.unwrap_or(nominal)),
        overdue: m.revision == 0 && due.is_some_and(|d| today > d),
        city_opinion: m.city_opinion,
        province_comment: m.province_comment,
        decided_at: m.decided_at.map(format_local),
        fields: data.into(),
        form: fields_view,
        complete,
        history,
        changes,
        attachments,
        can_edit,
        can_forward,
        can_decide,
    })
}
