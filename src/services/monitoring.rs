//! Monitoring one titled cluster (第五条 及时掌握集群建设和运营情况, 第十四条 弄虚作假): the
//! indicator series across its application, its 决赛申报材料 and its filed reports, the flags on each report
//! (`jiqun_rules::monitoring`: year on year, half-year above the year, a 第六条 threshold no
//! longer met, the first annual report against the application), and the notes the province
//! and the city bureau add to a flag. From a flag either opens a revocation case.
//!
//! Seen by those who review reports (the province all, a city bureau its city), never by the
//! cluster itself. A constant number of queries per cluster.

use jiqun_domain::access::{Action, Resource, ScopeKind, permission};
use jiqun_rules::deadline::ReportKind;
use jiqun_rules::intake;
use jiqun_rules::monitoring::{self, Figures, FlagKind};
use jiqun_rules::policy::ValueType;
use jiqun_rules::report_form;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};

use super::dashboard::{Cell, Table};
use super::{authorize, reports};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::format_local;
use crate::error::{AppError, FieldError};
use crate::store::id::{ClusterId, ReportId};
use crate::store::{
    self,
    entity::{application, cluster, competition, final_materials, monitoring_note, report},
};
use jiqun_domain::round::date_zh;

/// The longest note, in characters.
const NOTE_MAX_CHARS: usize = 1000;

/// A note on a flag.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoteView {
    /// 2026年12月4日 14:05
    pub at: String,
    pub author_name: String,
    pub author_org: String,
    pub note: String,
}

/// A flagged figure of one report, with the notes on it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonitorFlag {
    #[schema(value_type = i64)]
    pub report_id: ReportId,
    /// 2025年度发展情况报告
    pub report_title: String,
    pub indicator: String,
    pub indicator_name: String,
    /// year_on_year | half_above_annual | threshold_not_met | contradicts_application
    pub kind: String,
    pub kind_label: String,
    /// Why, in Chinese, naming the figures.
    pub reason: String,
    pub notes: Vec<NoteView>,
}

/// A cluster's monitoring.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClusterMonitoring {
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    /// The indicators (columns) over the application and each filed report (rows).
    pub series: Table,
    pub flags: Vec<MonitorFlag>,
    /// Whether the caller may add a note to a flag.
    pub can_note: bool,
    /// The revocation new-case page prefilled with the cluster and 弄虚作假, for the province.
    pub revocation_link: Option<String>,
}

/// A note as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NoteInput {
    /// The flagged report.
    #[serde(default)]
    pub report_id: String,
    #[serde(default)]
    pub indicator: String,
    /// The flag's kind key.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub note: String,
}

/// The cluster, if the principal reviews its reports; `Forbidden` for a role that reviews no
/// reports, `NotFound` for a cluster outside a city's reach.
async fn load_cluster(app: &App, p: &Principal, id: ClusterId) -> Result<cluster::Model, AppError> {
    let scope = authorize(p, Resource::Report, Action::Review)?;
    let cl = cluster::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    match scope {
        ScopeKind::All => Ok(cl),
        ScopeKind::OwnCity if p.org.city_code == Some(cl.city_code) => Ok(cl),
        _ => Err(AppError::NotFound),
    }
}

/// The monitoring of a cluster for the page: `None` for those who do not review reports (the
/// cluster itself never sees flags).
pub async fn for_page(
    app: &App,
    p: &Principal,
    id: ClusterId,
) -> Result<Option<ClusterMonitoring>, AppError> {
    if permission(p.role, Resource::Report, Action::Review).is_none() {
        return Ok(None);
    }
    match of_cluster(app, p, id).await {
        Ok(m) => Ok(Some(m)),
        Err(AppError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The application figures the reports are read against: the cluster's latest submitted
/// application, with its competition year.
async fn application_figures(
    app: &App,
    policy: &jiqun_rules::Policy,
    cluster_id: ClusterId,
) -> Result<Option<(i32, Figures)>, AppError> {
    let Some(a) = application::Entity::find()
        .filter(application::Column::ClusterId.eq(cluster_id))
        .filter(application::Column::Revision.gt(0))
        .order_by_desc(application::Column::Id)
        .one(&app.db)
        .await?
    else {
        return Ok(None);
    };
    let year = competition::Entity::find_by_id(a.competition_id)
        .one(&app.db)
        .await?
        .map_or(0, |c| c.year);
    let data: intake::FormData = serde_json::from_str(&a.form).unwrap_or_default();
    Ok(Some((year, intake::assess(policy, &data, |_| true).values)))
}

/// The figures of the cluster's submitted 决赛申报材料 (第十一条), oldest first, with the day
/// each was submitted (one query).
async fn final_figures(
    app: &App,
    policy: &jiqun_rules::Policy,
    cluster_id: ClusterId,
) -> Result<Vec<(time::Date, Figures)>, AppError> {
    Ok(final_materials::Entity::find()
        .filter(final_materials::Column::ClusterId.eq(cluster_id))
        .filter(final_materials::Column::SubmittedAt.is_not_null())
        .order_by_asc(final_materials::Column::Id)
        .all(&app.db)
        .await?
        .into_iter()
        .filter_map(|m| {
            let on = crate::clock::local(m.submitted_at?).date();
            let data: intake::FormData = serde_json::from_str(&m.form).unwrap_or_default();
            Some((on, intake::assess(policy, &data, |_| true).values))
        })
        .collect())
}

/// A cluster's series, flags and notes.
pub async fn of_cluster(
    app: &App,
    p: &Principal,
    id: ClusterId,
) -> Result<ClusterMonitoring, AppError> {
    let cl = load_cluster(app, p, id).await?;
    let (policy, form) = reports::policy_and_form(app)?;
    let mut filed: Vec<report::Model> = report::Entity::find()
        .filter(report::Column::ClusterId.eq(cl.id))
        .filter(report::Column::PolicyId.eq(reports::PROVINCIAL))
        .filter(report::Column::Revision.gt(0))
        .all(&app.db)
        .await?
        .into_iter()
        .filter(|r| reports::visible(p, r, Some(cl.lead_county_code)))
        .collect();
    // Chronological: a year's half-year report before its annual one.
    filed.sort_by_key(|r| {
        (
            r.period_year,
            reports::period_of(r).map(|p| p.kind == ReportKind::Annual),
        )
    });
    let application = application_figures(app, &policy, cl.id).await?;
    let notes = monitoring_note::Entity::find()
        .filter(monitoring_note::Column::ClusterId.eq(cl.id))
        .order_by_asc(monitoring_note::Column::Id)
        .all(&app.db)
        .await?;

    let indicators: Vec<_> = form
        .indicators
        .iter()
        .filter(|i| i.value_type != ValueType::Text)
        .collect();
    let pairs = monitoring::application_pairs(&policy, &form);

    // The series: the application, then each filed report.
    let mut headers = vec!["来源".to_string()];
    headers.extend(indicators.iter().map(|i| match i.unit {
        Some(u) => format!("{}（{}）", i.name, u.as_str()),
        None => i.name.clone(),
    }));
    // The application's and the 决赛 materials' figures sit under the report indicator each
    // one answers (the policy's pairs).
    let stated_row = |label: String, figures: &Figures| {
        let mut row = vec![Cell::text(label)];
        row.extend(indicators.iter().map(|ind| {
            pairs
                .iter()
                .filter(|(_, r)| *r == ind.key)
                .find_map(|(a, _)| figures.get(a))
                .map_or_else(|| Cell::text(""), |v| Cell::number(*v))
        }));
        row
    };
    let mut rows = Vec::new();
    if let Some((year, figures)) = &application {
        rows.push(stated_row(
            if *year > 0 {
                format!("申报书（{year}年竞赛）")
            } else {
                "申报书".to_string()
            },
            figures,
        ));
    }
    for (submitted_on, figures) in final_figures(app, &policy, cl.id).await? {
        rows.push(stated_row(
            format!("决赛申报材料（{}提交）", date_zh(submitted_on)),
            &figures,
        ));
    }
    let mut flags = Vec::new();
    let first_annual = filed
        .iter()
        .filter(|r| r.period_kind == reports::kind_key(ReportKind::Annual))
        .map(|r| r.id)
        .next();
    for r in &filed {
        let Some(period) = reports::period_of(r) else {
            continue;
        };
        let title = reports::report_title(&policy, period);
        let values = report_form::assess(&form, &reports::data_of(r)).values;
        let mut row = vec![Cell::linked(title.clone(), format!("/reports/{}", r.id))];
        row.extend(indicators.iter().map(|ind| {
            values
                .get(&ind.key)
                .map_or_else(|| Cell::text(""), |v| Cell::number(*v))
        }));
        rows.push(row);
        let mut found: Vec<(String, FlagKind, String)> =
            reports::flags_among(&policy, &form, r, period, &filed)
                .into_iter()
                .filter_map(|f| Some((f.indicator, FlagKind::from_key(&f.kind)?, f.reason)))
                .collect();
        if Some(r.id) == first_annual
            && let Some((_, stated)) = &application
        {
            found.extend(
                monitoring::contradictions(&policy, &form, period, &values, stated)
                    .into_iter()
                    .map(|f| (f.indicator, f.kind, f.reason)),
            );
        }
        for (indicator, kind, reason) in found {
            flags.push(MonitorFlag {
                report_id: r.id,
                report_title: title.clone(),
                indicator_name: form
                    .indicators
                    .iter()
                    .find(|i| i.key == indicator)
                    .map_or_else(|| indicator.clone(), |i| i.name.clone()),
                notes: notes
                    .iter()
                    .filter(|n| {
                        n.report_id == r.id && n.indicator == indicator && n.flag_kind == kind.key()
                    })
                    .map(note_view)
                    .collect(),
                indicator,
                kind: kind.key().into(),
                kind_label: kind.label().into(),
                reason,
            });
        }
    }
    Ok(ClusterMonitoring {
        cluster_id: cl.id,
        series: Table {
            key: "series".into(),
            title: format!("{}指标序列", cl.name),
            chart: "line".into(),
            headers,
            rows,
        },
        flags,
        can_note: true,
        revocation_link: permission(p.role, Resource::Revocation, Action::Create)
            .is_some()
            .then(|| format!("/revocations/new?cluster_id={}&ground=fraud", cl.id)),
        cluster_name: cl.name,
    })
}

fn note_view(n: &monitoring_note::Model) -> NoteView {
    NoteView {
        at: format_local(n.created_at),
        author_name: n.author_name.clone(),
        author_org: n.author_org.clone(),
        note: n.note.clone(),
    }
}

/// Adds a note to a flag the cluster's reports raise now (audited).
pub async fn add_note(
    app: &App,
    p: &Principal,
    id: ClusterId,
    input: &NoteInput,
) -> Result<NoteView, AppError> {
    let m = of_cluster(app, p, id).await?;
    let note = input.note.trim();
    let mut errs = Vec::new();
    if note.is_empty() {
        errs.push(FieldError {
            field: "note".into(),
            message: "请填写备注".into(),
        });
    } else if note.chars().count() > NOTE_MAX_CHARS {
        errs.push(FieldError {
            field: "note".into(),
            message: format!("备注不能超过{NOTE_MAX_CHARS}个字"),
        });
    }
    let flag = input.report_id.trim().parse::<i64>().ok().and_then(|rid| {
        m.flags.iter().find(|f| {
            f.report_id.get() == rid
                && f.indicator == input.indicator.trim()
                && f.kind == input.kind.trim()
        })
    });
    let Some(flag) = flag else {
        errs.push(FieldError {
            field: "flag".into(),
            message: "该监测提示不存在或已不再出现（报告数据可能已更正），请刷新页面".into(),
        });
        return Err(AppError::Invalid(errs));
    };
    if !errs.is_empty() {
        return Err(AppError::Invalid(errs));
    }
    let note = note.to_string();
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let row = monitoring_note::ActiveModel {
        cluster_id: Set(id),
        report_id: Set(flag.report_id),
        indicator: Set(flag.indicator.clone()),
        flag_kind: Set(flag.kind.clone()),
        note: Set(note.clone()),
        author_user_id: Set(p.user.id),
        author_name: Set(p.user.display_name.clone()),
        author_org: Set(p.org.name.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "monitoring.note",
                object_type: "monitoring_note",
                object_id: row.id.to_string(),
                summary: format!(
                    "{}·{}·“{}”（{}）：{}",
                    m.cluster_name, flag.report_title, flag.indicator_name, flag.kind_label, note
                ),
                reason: flag.reason.clone(),
            },
        )
        .await?;
    txn.commit().await?;
    Ok(note_view(&row))
}
