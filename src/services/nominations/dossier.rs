//! A nominee's dossier (推荐材料) as one ZIP: the application as last submitted, the latest
//! development reports, an indicator workbook (numbers as numbers), the certificates in force as
//! PDFs, and a manifest naming every file with its size and SM3 hash, so whoever receives the
//! package can check nothing was changed on the way.

use crate::store::id::{ClusterId, NominationId};
use std::io::{Cursor, Write};

use jiqun_domain::access::{Action, Resource};
use jiqun_rules::Policy;
use jiqun_rules::intake::{self, FormData};
use jiqun_rules::policy::Indicator;
use rust_xlsxwriter::Workbook;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use sm3::{Digest, Sm3};

use super::super::designations::{self, PdfFailure};
use super::super::workbook::{self, xlsx_err};
use super::super::{applications, competitions, reports};
use super::load;
use crate::app::{App, Principal};
use crate::audit::{self, Event};
use crate::clock::format_local;
use crate::error::AppError;
use crate::store::entity::{application, application_version, cluster, report};

/// The dossier as a download.
pub struct Dossier {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The name of the manifest inside the package.
pub const MANIFEST: &str = "文件清单.txt";
/// The name of the indicator workbook inside the package.
pub const WORKBOOK: &str = "指标汇总表.xlsx";

/// The application as last submitted, with the policy of its call.
struct Submitted {
    form: String,
    revision: i32,
    submitted_at: time::OffsetDateTime,
    policy: std::sync::Arc<Policy>,
}

/// The latest submitted version of the cluster's applications; an application submitted before
/// versions were kept is read as it stands.
async fn latest_submitted<C: ConnectionTrait>(
    conn: &C,
    cluster_id: ClusterId,
) -> Result<Option<Submitted>, AppError> {
    let apps = application::Entity::find()
        .filter(application::Column::ClusterId.eq(cluster_id))
        .filter(application::Column::Status.ne(jiqun_domain::application::Status::Draft))
        .all(conn)
        .await?;
    let version = application_version::Entity::find()
        .filter(application_version::Column::ApplicationId.is_in(apps.iter().map(|a| a.id)))
        .order_by_desc(application_version::Column::SubmittedAt)
        .order_by_desc(application_version::Column::Id)
        .one(conn)
        .await?;
    let picked = match version {
        Some(v) => apps
            .iter()
            .find(|a| a.id == v.application_id)
            .map(|a| (a, v.form, v.revision, v.submitted_at)),
        None => apps
            .iter()
            .filter_map(|a| a.submitted_at.map(|at| (a, at)))
            .max_by_key(|(a, at)| (*at, a.id))
            .map(|(a, at)| (a, a.form.clone(), a.revision, at)),
    };
    let Some((a, form, revision, submitted_at)) = picked else {
        return Ok(None);
    };
    let policy = competitions::policy_of(&applications::competition_of(conn, a).await?)?;
    Ok(Some(Submitted {
        form,
        revision,
        submitted_at,
        policy,
    }))
}

/// The latest report of each period kind that has left its draft.
async fn latest_reports<C: ConnectionTrait>(
    conn: &C,
    cluster_id: ClusterId,
) -> Result<Vec<report::Model>, AppError> {
    let all = report::Entity::find()
        .filter(report::Column::ClusterId.eq(cluster_id))
        .filter(report::Column::PolicyId.eq(reports::PROVINCIAL))
        .filter(report::Column::Status.ne(jiqun_domain::report::Status::Draft))
        .order_by_desc(report::Column::PeriodYear)
        .order_by_desc(report::Column::Id)
        .all(conn)
        .await?;
    let mut out: Vec<report::Model> = Vec::new();
    for r in all {
        if !out.iter().any(|o| o.period_kind == r.period_kind) {
            out.push(r);
        }
    }
    Ok(out)
}

fn unit_of(ind: &Indicator) -> &'static str {
    ind.unit.map(|u| u.as_str()).unwrap_or("")
}

fn value_text(ind: &Indicator, raw: &str) -> String {
    match ind.unit {
        Some(u) if !raw.trim().is_empty() => format!("{}{}", raw.trim(), u.as_str()),
        _ => raw.trim().to_string(),
    }
}

fn application_text(cl: &cluster::Model, s: &Submitted) -> String {
    let form: FormData = serde_json::from_str(&s.form).unwrap_or_default();
    let mut out = format!(
        "{}申请报告\n第{}次提交，提交时间：{}\n\n一、指标\n",
        cl.name,
        s.revision,
        format_local(s.submitted_at)
    );
    for c in &s.policy.criteria {
        for ind in &c.indicators {
            let raw = form
                .indicators
                .get(&ind.key)
                .map(String::as_str)
                .unwrap_or("");
            out.push_str(&format!("{}：{}\n", ind.name, value_text(ind, raw)));
        }
    }
    out.push_str("\n二、申报材料\n");
    for c in &s.policy.criteria {
        let text = form
            .narratives
            .get(&c.key)
            .map(String::as_str)
            .unwrap_or("");
        out.push_str(&format!("\n【{}】\n{}\n", c.name, text.trim()));
    }
    out
}

fn report_text(
    cl: &cluster::Model,
    title: &str,
    r: &report::Model,
    form: Option<&jiqun_rules::policy::ReportForm>,
) -> String {
    let data = reports::data_of(r);
    let mut out = format!("{}{}\n状态：{}\n", cl.name, title, r.status.label());
    if let Some(at) = r.submitted_at {
        out.push_str(&format!("提交时间：{}\n", format_local(at)));
    }
    out.push_str("\n一、指标\n");
    if let Some(form) = form {
        for ind in &form.indicators {
            let raw = data
                .indicators
                .get(&ind.key)
                .map(String::as_str)
                .unwrap_or("");
            out.push_str(&format!("{}：{}\n", ind.name, value_text(ind, raw)));
        }
        out.push_str("\n二、工作情况\n");
        for s in form
            .sections
            .iter()
            .chain(std::iter::once(&form.reward_funds))
        {
            let text = data.sections.get(&s.key).map(String::as_str).unwrap_or("");
            out.push_str(&format!("\n【{}】\n{}\n", s.name, text.trim()));
        }
    }
    if !r.city_opinion.trim().is_empty() {
        out.push_str(&format!("\n市州意见：{}\n", r.city_opinion.trim()));
    }
    out
}

/// One row of the indicator workbook.
struct IndicatorRow {
    source: String,
    name: String,
    unit: &'static str,
    raw: String,
    number: Option<f64>,
}

fn rows_of<'a>(
    source: &str,
    indicators: impl Iterator<Item = &'a Indicator>,
    values: &std::collections::BTreeMap<String, String>,
) -> Vec<IndicatorRow> {
    indicators
        .map(|ind| {
            let raw = values.get(&ind.key).cloned().unwrap_or_default();
            let number = if !ind.value_type.is_number() {
                None
            } else {
                intake::parse_indicator(ind, &raw).ok().flatten()
            };
            IndicatorRow {
                source: source.to_string(),
                name: ind.name.clone(),
                unit: unit_of(ind),
                raw,
                number,
            }
        })
        .collect()
}

fn indicator_workbook(title: &str, rows: &[IndicatorRow]) -> Result<Vec<u8>, AppError> {
    let st = workbook::styles();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("指标").map_err(xlsx_err)?;
    workbook::header_row(ws, &st, title, &["来源", "指标", "单位", "数值"])?;
    workbook::column_widths(ws, &[28.0, 36.0, 10.0, 16.0])?;
    for (r, row) in (2u32..).zip(rows) {
        ws.write_string_with_format(r, 0, &row.source, &st.cell)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(r, 1, &row.name, &st.cell)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(r, 2, row.unit, &st.cell)
            .map_err(xlsx_err)?;
        match row.number {
            Some(n) => ws.write_number_with_format(r, 3, n, &st.number),
            None => ws.write_string_with_format(r, 3, &row.raw, &st.cell),
        }
        .map_err(xlsx_err)?;
    }
    wb.save_to_buffer().map_err(xlsx_err)
}

fn sm3_hex(bytes: &[u8]) -> String {
    hex::encode(Sm3::digest(bytes))
}

/// Packs the files and their manifest (the manifest lists every other file: SM3, size, name).
fn pack(heading: &str, files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, AppError> {
    let zip_err = |e: zip::result::ZipError| AppError::internal(format!("zip: {e}"));
    let io_err = |e: std::io::Error| AppError::internal(format!("zip: {e}"));
    let mut manifest = format!("{heading}\n文件清单（SM3杂凑值  字节数  文件名）\n\n");
    let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        manifest.push_str(&format!("{}  {}  {}\n", sm3_hex(bytes), bytes.len(), name));
        zw.start_file(name.as_str(), opts).map_err(zip_err)?;
        zw.write_all(bytes).map_err(io_err)?;
    }
    zw.start_file(MANIFEST, opts).map_err(zip_err)?;
    zw.write_all(manifest.as_bytes()).map_err(io_err)?;
    Ok(zw.finish().map_err(zip_err)?.into_inner())
}

/// File names inside the package keep to what every unzip tool accepts.
fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// The dossier of one nomination (province), recorded in the audit trail.
pub async fn dossier(app: &App, p: &Principal, id: NominationId) -> Result<Dossier, PdfFailure> {
    let (n, cl) = load(&app.db, p, id, Action::Export).await?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut rows = Vec::new();
    if let Some(s) = latest_submitted(&app.db, cl.id).await? {
        files.push((
            "01-申请报告.txt".into(),
            application_text(&cl, &s).into_bytes(),
        ));
        let form: FormData = serde_json::from_str(&s.form).unwrap_or_default();
        rows.extend(rows_of(
            "申请报告",
            s.policy.criteria.iter().flat_map(|c| &c.indicators),
            &form.indicators,
        ));
    }
    let report_form = reports::policy_and_form(app).ok();
    for r in latest_reports(&app.db, cl.id).await? {
        let title = match (&report_form, reports::kind_from_key(&r.period_kind)) {
            (Some((policy, _)), Some(kind)) => reports::report_title(
                policy,
                jiqun_rules::deadline::ReportPeriod {
                    kind,
                    year: r.period_year,
                },
            ),
            _ => format!("{}年发展情况报告", r.period_year),
        };
        let form = report_form.as_ref().map(|(_, f)| f);
        files.push((
            safe_name(&format!("02-{title}.txt")),
            report_text(&cl, &title, &r, form).into_bytes(),
        ));
        if let Some(form) = form {
            rows.extend(rows_of(
                &title,
                form.indicators.iter(),
                &reports::data_of(&r).indicators,
            ));
        }
    }
    files.push((
        WORKBOOK.into(),
        indicator_workbook(&format!("{}指标汇总", cl.name), &rows)?,
    ));
    authorize_certificates(p)?;
    for d in designations::open_titles(&app.db, cl.id).await? {
        let (row, bytes) = designations::certificate_pdf(app, p, d.id).await?;
        files.push((
            safe_name(&format!("证书-{}.pdf", row.certificate_number)),
            bytes,
        ));
    }
    let heading = format!(
        "{}推荐申报{}年国家级先进制造业集群材料（推荐文号：{}）",
        cl.name, n.year, n.document_number
    );
    let bytes = pack(&heading, &files)?;
    audit::record_export(
        app,
        p,
        Event {
            action: "nomination.dossier",
            object_type: "nomination",
            object_id: n.id.to_string(),
            summary: format!(
                "导出“{}”{}年国家级先进制造业集群推荐材料（{}个文件）",
                cl.name,
                n.year,
                files.len() + 1
            ),
            reason: String::new(),
        },
    )
    .await?;
    Ok(Dossier {
        file_name: safe_name(&format!("{}-{}年国家级集群推荐材料.zip", cl.name, n.year)),
        bytes,
    })
}

/// Whoever exports a dossier exports the certificates in it.
fn authorize_certificates(p: &Principal) -> Result<(), AppError> {
    super::super::authorize(p, Resource::Certificate, Action::View).map(|_| ())
}
