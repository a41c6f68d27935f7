//! Excel imports with a preview (organisations, the expert pool, a cluster's member
//! enterprises under 第五条): the upload is kept in the
//! blob store by its SM3 hash and planned row by row against the database — 新增, 更新 or 错误
//! with the reason per row and column — and nothing is written until the person confirms.
//! The confirmation names the import by its id and the plan it saw (a digest); it re-plans
//! inside one write transaction, refuses a plan that changed since, and writes every row or
//! none, with its audit entry. The import's status moves from `previewed` to `committed` in one
//! statement, so a second confirmation (a double click, a second tab) imports nothing.
//!
//! Each kind brings its columns and two functions: `plan` (the same validation as the
//! single-create form, per row) and `apply` (the same writes, inside the shared transaction).
//! A kind that imports into one record (a cluster's members) names it in `target_id` and is
//! authorized against that record's scope.

use crate::store::id::{ClusterId, ImportBatchId};
use std::collections::BTreeMap;

use jiqun_domain::member_sheet::{CellText, MAX_IMPORT_BYTES, normalise_header};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::{AppError, FieldError};
use crate::store::{self, entity::blob, entity::import_batch};

/// The most data rows one import takes.
pub const MAX_ROWS: usize = 2000;

/// What an import brings in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Organisations,
    Experts,
    /// A cluster's member enterprises; the import's target is the cluster.
    Members,
}

impl ImportKind {
    pub const ALL: [ImportKind; 3] = [
        ImportKind::Organisations,
        ImportKind::Experts,
        ImportKind::Members,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ImportKind::Organisations => "organisations",
            ImportKind::Experts => "experts",
            ImportKind::Members => "members",
        }
    }

    pub fn from_key(key: &str) -> Option<ImportKind> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    /// 单位 / 专家, as in 导入单位.
    pub fn label(self) -> &'static str {
        match self {
            ImportKind::Organisations => "单位",
            ImportKind::Experts => "专家",
            ImportKind::Members => "成员企业",
        }
    }

    /// The most data rows one import of this kind takes (the member sheet keeps its own).
    pub fn max_rows(self) -> usize {
        match self {
            ImportKind::Members => jiqun_domain::member_sheet::MAX_IMPORT_ROWS,
            ImportKind::Organisations | ImportKind::Experts => MAX_ROWS,
        }
    }

    /// Whether an import of this kind goes into one record named by `target_id`.
    pub fn needs_target(self) -> bool {
        matches!(self, ImportKind::Members)
    }

    /// The list the imported rows show up in (a cluster's members: on the cluster's page).
    pub fn list_path(self, target_id: i64) -> String {
        match self {
            ImportKind::Organisations => "/orgs".into(),
            ImportKind::Experts => "/experts".into(),
            ImportKind::Members => format!("/clusters/{target_id}#members"),
        }
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            ImportKind::Organisations => super::orgs::IMPORT_COLUMNS,
            ImportKind::Experts => super::experts::IMPORT_COLUMNS,
            ImportKind::Members => super::clusters::MEMBER_COLUMNS,
        }
    }

    /// Lines of the template's 填写说明 sheet beyond the columns.
    fn notes(self) -> &'static str {
        match self {
            ImportKind::Organisations => {
                "已登记的统一社会信用代码（无代码时为同名单位）视为更新，其余视为新增"
            }
            ImportKind::Experts => {
                "登录账户已在专家库中的视为更新，其余视为新增；账户须先由系统管理员开设"
            }
            ImportKind::Members => {
                "已在成员名单中的统一社会信用代码视为更新（名称以本表为准），其余视为新增"
            }
        }
    }
}

/// One column of an import sheet.
pub struct Column {
    /// The field key of the single-create form, so its errors land on this column.
    pub key: &'static str,
    /// The header people see in Excel.
    pub header: &'static str,
    pub required: bool,
    /// The template's column width, in characters.
    pub width: f64,
    /// What to type, for the template's 填写说明.
    pub hint: &'static str,
}

/// One data row as typed, by column key.
#[derive(Debug, Clone, Default)]
pub struct SheetLine {
    /// The row number as Excel shows it.
    pub row: u32,
    pub cells: BTreeMap<&'static str, String>,
}

impl SheetLine {
    pub fn get(&self, key: &str) -> String {
        self.cells.get(key).cloned().unwrap_or_default()
    }
}

/// One problem of a row, where the user sees it in Excel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportRowError {
    /// The column header, e.g. 统一社会信用代码 (empty for the row as a whole).
    pub column: String,
    /// The column as a machine key.
    pub column_key: String,
    pub message: String,
}

/// What the import will do with one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportPreviewRow {
    /// The row number as Excel shows it.
    pub row: u32,
    /// `new` | `update` | `error`
    pub action: String,
    /// 新增 / 更新 / 错误
    pub action_label: String,
    /// What identifies the row (the name, the account).
    pub key: String,
    /// The row as it will be stored, for people.
    pub summary: String,
    pub errors: Vec<ImportRowError>,
}

/// An import as previewed: every row with what it will do.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportPreview {
    #[schema(value_type = i64)]
    pub id: ImportBatchId,
    /// `organisations` | `experts` | `members`
    pub kind: String,
    pub kind_label: String,
    /// The record imported into (`members`: the cluster's id); 0 for the other kinds.
    pub target_id: i64,
    /// Its name (`members`: the cluster's); empty for the other kinds.
    pub target_name: String,
    pub file_name: String,
    /// `previewed` | `committed`
    pub status: String,
    pub status_label: String,
    /// What the confirmation must send back: the digest of the rows as shown.
    pub digest: String,
    pub rows: Vec<ImportPreviewRow>,
    pub new: usize,
    pub updated: usize,
    pub errors: usize,
    /// Whether the import can be confirmed (no row has a problem, not yet imported).
    pub committable: bool,
}

/// The outcome of a confirmed import.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    pub id: i64,
    pub created: usize,
    pub updated: usize,
}

/// The confirmation of an import: the digest of the preview that was confirmed.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ImportConfirm {
    pub digest: String,
}

/// A planned row: what it will do, and the checked value to write.
pub enum Planned<T> {
    New(T),
    /// The id of the record to update, and its checked new value.
    Update(i64, T),
    Error,
}

/// A row of a plan as people see it, with its planned write.
pub struct PlanRow<T> {
    pub shown: ImportPreviewRow,
    pub planned: Planned<T>,
}

impl<T> PlanRow<T> {
    pub fn new(line: &SheetLine, key: String, summary: String, planned: Planned<T>) -> Self {
        let (action, label) = match &planned {
            Planned::New(_) => ("new", "新增"),
            Planned::Update(..) => ("update", "更新"),
            Planned::Error => ("error", "错误"),
        };
        PlanRow {
            shown: ImportPreviewRow {
                row: line.row,
                action: action.into(),
                action_label: label.into(),
                key,
                summary,
                errors: Vec::new(),
            },
            planned,
        }
    }

    /// A row with problems: each field error is put under its column.
    pub fn refused(
        line: &SheetLine,
        key: String,
        columns: &[Column],
        errors: &[FieldError],
    ) -> Self {
        let mut row = PlanRow::new(line, key, String::new(), Planned::Error);
        row.shown.errors = errors
            .iter()
            .map(|e| {
                let header = columns
                    .iter()
                    .find(|c| c.key == e.field)
                    .map_or("", |c| c.header);
                ImportRowError {
                    column: header.into(),
                    column_key: e.field.clone(),
                    message: e.message.clone(),
                }
            })
            .collect();
        row
    }
}

fn file_error(message: impl Into<String>) -> AppError {
    AppError::invalid("file", message)
}

/// The data rows of the first sheet, by the kind's column headers (any order, spaces and `*`
/// ignored). A missing required column or an empty sheet is a problem of the whole file.
pub fn read_sheet(bytes: &[u8], columns: &'static [Column]) -> Result<Vec<SheetLine>, AppError> {
    let cells = super::clusters::read_cells(bytes, MAX_ROWS, || {
        format!("每次最多导入{MAX_ROWS}行，当前表格超过该数量，请拆分后分批导入")
    })?;
    lines_of(&cells, columns).map_err(file_error)
}

fn lines_of(
    cells: &BTreeMap<u32, Vec<(u32, CellText)>>,
    columns: &'static [Column],
) -> Result<Vec<SheetLine>, String> {
    let headers: Vec<String> = columns.iter().map(|c| format!("“{}”", c.header)).collect();
    let Some((&header_row, header)) = cells.iter().next() else {
        return Err(format!(
            "第一个工作表是空的：第1行应为表头{}，从第2行起每行一条，请使用导入模板",
            headers.join("")
        ));
    };
    let mut at: Vec<(u32, &'static str)> = Vec::new();
    let mut missing = Vec::new();
    for c in columns {
        match header
            .iter()
            .find(|(_, v)| normalise_header(&v.text) == c.header)
        {
            Some((col, _)) => at.push((*col, c.key)),
            None if c.required => missing.push(format!("“{}”", c.header)),
            None => {}
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "第{}行（表头）缺少{}列，请使用导入模板",
            header_row + 1,
            missing.join("、")
        ));
    }
    let lines: Vec<SheetLine> = cells
        .iter()
        .skip(1)
        .map(|(row, values)| SheetLine {
            row: row + 1,
            cells: at
                .iter()
                .filter_map(|(col, key)| {
                    values
                        .iter()
                        .find(|(c, _)| c == col)
                        .map(|(_, v)| (*key, v.text.trim().to_string()))
                })
                .collect(),
        })
        .filter(|l| l.cells.values().any(|v| !v.is_empty()))
        .collect();
    if lines.is_empty() {
        return Err("表格中没有数据：请从表头下一行起每行填写一条后再导入".into());
    }
    Ok(lines)
}

/// The template of a kind: the header row (bold, frozen, text columns so Excel keeps codes as
/// typed) and a 填写说明 sheet naming each column.
pub fn template_xlsx(kind: ImportKind) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    if kind == ImportKind::Members {
        return super::clusters::template_xlsx();
    }
    let err = |e: rust_xlsxwriter::XlsxError| AppError::internal(format!("import template: {e}"));
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold().set_background_color(0xF0F2F4);
    let text = Format::new().set_num_format("@");
    let sheet = wb.add_worksheet();
    sheet
        .set_name(format!("{}名单", kind.label()))
        .map_err(err)?;
    for (col, c) in (0u16..).zip(kind.columns()) {
        let header = if c.required {
            format!("{}*", c.header)
        } else {
            c.header.to_string()
        };
        sheet
            .write_string_with_format(0, col, &header, &bold)
            .map_err(err)?;
        sheet.set_column_width(col, c.width).map_err(err)?;
        sheet.set_column_format(col, &text).map_err(err)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(err)?;
    let notes = wb.add_worksheet();
    notes.set_name("填写说明").map_err(err)?;
    notes.set_column_width(0, 22).map_err(err)?;
    notes.set_column_width(1, 90).map_err(err)?;
    notes
        .write_string_with_format(0, 0, "项目", &bold)
        .map_err(err)?;
    notes
        .write_string_with_format(0, 1, "说明", &bold)
        .map_err(err)?;
    let mut row = 1u32;
    for c in kind.columns() {
        let need = if c.required { "必填" } else { "选填" };
        notes.write_string(row, 0, c.header).map_err(err)?;
        notes
            .write_string(row, 1, format!("{need}，{}", c.hint))
            .map_err(err)?;
        row += 1;
    }
    for (k, v) in [
        ("新增与更新", kind.notes()),
        (
            "结果",
            "上传后先显示每一行将新增、更新或有误；确认后才写入，任一行有误时不能确认，整份名单要么全部写入，要么都不写入",
        ),
    ] {
        notes.write_string(row, 0, k).map_err(err)?;
        notes.write_string(row, 1, v).map_err(err)?;
        row += 1;
    }
    wb.save_to_buffer().map_err(err)
}

/// The sheet of an import as read for its kind: the member sheet keeps the domain's own
/// reading (numbers stored by Excel get a hint, its own row limit).
enum Sheet {
    Lines(Vec<SheetLine>),
    Members(Vec<jiqun_domain::member_sheet::SheetRow>),
}

impl Sheet {
    fn read(kind: ImportKind, bytes: &[u8]) -> Result<Sheet, AppError> {
        Ok(match kind {
            ImportKind::Members => Sheet::Members(super::clusters::read_member_sheet(bytes)?),
            _ => Sheet::Lines(read_sheet(bytes, kind.columns())?),
        })
    }

    fn len(&self) -> usize {
        match self {
            Sheet::Lines(l) => l.len(),
            Sheet::Members(r) => r.len(),
        }
    }
}

fn shown_rows<T>(plan: Vec<PlanRow<T>>) -> Vec<ImportPreviewRow> {
    plan.into_iter().map(|r| r.shown).collect()
}

/// The rows of an import planned against the database as it is now (`conn` may be the
/// confirmation's transaction), by kind.
async fn plan_rows<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    kind: ImportKind,
    target_id: i64,
    sheet: &Sheet,
) -> Result<Vec<ImportPreviewRow>, AppError> {
    Ok(match (kind, sheet) {
        (ImportKind::Members, Sheet::Members(rows)) => shown_rows(
            super::clusters::plan_member_import(conn, ClusterId::new(target_id), rows).await?,
        ),
        (ImportKind::Organisations, Sheet::Lines(lines)) => {
            shown_rows(super::orgs::plan_import(conn, lines).await?)
        }
        (ImportKind::Experts, Sheet::Lines(lines)) => shown_rows(
            super::experts::plan_import(conn, lines, super::experts::own_pool(p)?).await?,
        ),
        _ => return Err(AppError::internal("import: sheet read for another kind")),
    })
}

/// The digest of a plan as shown: what a confirmation must match.
fn digest(rows: &[ImportPreviewRow]) -> String {
    let text = serde_json::to_string(rows).unwrap_or_default();
    jiqun_domain::audit::sm3_hex(text.as_bytes())
}

fn authorize_kind(p: &Principal, kind: ImportKind) -> Result<(), AppError> {
    use jiqun_domain::access::{Action, Resource};
    match kind {
        ImportKind::Organisations => super::authorize(p, Resource::Organisation, Action::Create),
        ImportKind::Experts => super::authorize(p, Resource::ExpertPool, Action::Create),
        ImportKind::Members => super::authorize(p, Resource::Cluster, Action::Update),
    }
    .map(|_| ())
}

/// The permission for the kind and, for a kind with a target, the scope of that record (a
/// cluster's members: its lead applicant). Anyone else learns nothing about the record.
/// Answers the target's name.
async fn authorize_target<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    kind: ImportKind,
    target_id: i64,
) -> Result<String, AppError> {
    authorize_kind(p, kind)?;
    Ok(match kind {
        ImportKind::Members => {
            super::clusters::member_import_scope(conn, p, ClusterId::new(target_id))
                .await?
                .name
        }
        ImportKind::Organisations | ImportKind::Experts => String::new(),
    })
}

/// Whether the principal may import this kind (for the links on the lists; a kind with a
/// target is checked against the record when the file arrives).
pub fn may_import(p: &Principal, kind: ImportKind) -> bool {
    authorize_kind(p, kind).is_ok()
}

/// Keeps an uploaded file and previews it. A problem with the file as a whole is an `Invalid`
/// error on `file` and nothing is kept.
pub async fn preview_upload(
    app: &App,
    p: &Principal,
    kind: ImportKind,
    target_id: Option<i64>,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<ImportPreview, AppError> {
    let target_id = match (kind.needs_target(), target_id) {
        (true, Some(t)) => t,
        (true, None) => return Err(AppError::invalid("target", "请指定导入到哪个集群")),
        (false, _) => 0,
    };
    let target_name = authorize_target(&app.db, p, kind, target_id).await?;
    let sheet = Sheet::read(kind, &bytes)?;
    let rows = plan_rows(&app.db, p, kind, target_id, &sheet).await?;
    let limits = crate::attachments::Limits {
        purpose: jiqun_domain::attachment::Purpose::MemberImport,
        max_bytes: MAX_IMPORT_BYTES as u64,
        allowed: &[jiqun_domain::attachment::Kind::Xlsx],
    };
    let name = if file_name.trim().is_empty() {
        format!("{}导入.xlsx", kind.label())
    } else {
        file_name.to_string()
    };
    let received = crate::attachments::receive_stream(
        app,
        crate::attachments::IterChunks(std::iter::once(axum::body::Bytes::from(bytes))),
        &name,
        &limits,
    )
    .await?;
    let file_name = received.file_name.clone();
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let blob = crate::attachments::store(app, &txn, received).await?;
    let count = |a: &str| i32::try_from(rows.iter().filter(|r| r.action == a).count()).unwrap_or(0);
    let m = import_batch::ActiveModel {
        kind: Set(kind.key().to_string()),
        target_id: Set(target_id),
        blob_id: Set(blob.id),
        file_name: Set(file_name),
        status: Set("previewed".into()),
        rows_new: Set(count("new")),
        rows_updated: Set(count("update")),
        created_by: Set(p.user.id),
        created_at: Set(now),
        committed_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(shown(&m, kind, target_name, rows))
}

fn shown(
    m: &import_batch::Model,
    kind: ImportKind,
    target_name: String,
    rows: Vec<ImportPreviewRow>,
) -> ImportPreview {
    let count = |a: &str| rows.iter().filter(|r| r.action == a).count();
    let (new, updated, errors) = (count("new"), count("update"), count("error"));
    let committed = m.status == "committed";
    ImportPreview {
        id: m.id,
        kind: kind.key().into(),
        kind_label: kind.label().into(),
        target_id: m.target_id,
        target_name,
        file_name: m.file_name.clone(),
        status: m.status.clone(),
        status_label: if committed { "已导入" } else { "待确认" }.into(),
        digest: digest(&rows),
        committable: !committed && errors == 0 && new + updated > 0,
        new: if committed { m.rows_new as usize } else { new },
        updated: if committed {
            m.rows_updated as usize
        } else {
            updated
        },
        errors,
        rows,
    }
}

/// The principal's own import with this id; anyone else's is "not found".
async fn load_own<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: i64,
) -> Result<(import_batch::Model, ImportKind, String), AppError> {
    let m = import_batch::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|m| m.created_by == p.user.id)
        .ok_or(AppError::NotFound)?;
    let kind = ImportKind::from_key(&m.kind)
        .ok_or_else(|| AppError::internal(format!("import {id}: unknown kind {}", m.kind)))?;
    let target_name = authorize_target(conn, p, kind, m.target_id).await?;
    Ok((m, kind, target_name))
}

async fn file_of<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    m: &import_batch::Model,
) -> Result<Vec<u8>, AppError> {
    let b = blob::Entity::find_by_id(m.blob_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::internal(format!("import {}: blob missing", m.id)))?;
    // A workbook is parsed whole; the upload limit bounds it.
    app.blobs
        .read(&b.sm3)
        .await
        .map_err(|e| AppError::internal(format!("import {}: reading the file: {e}", m.id)))
}

/// An import as it stands: planned again against the database now (a committed one shows
/// what the file holds, with the counts that were imported).
pub async fn preview(app: &App, p: &Principal, id: i64) -> Result<ImportPreview, AppError> {
    let (m, kind, target_name) = load_own(&app.db, p, id).await?;
    let bytes = file_of(app, &app.db, &m).await?;
    let sheet = Sheet::read(kind, &bytes)?;
    let rows = plan_rows(&app.db, p, kind, m.target_id, &sheet).await?;
    Ok(shown(&m, kind, target_name, rows))
}

/// Confirms an import: all rows or none, once. `digest` is the preview the person saw; when
/// the database changed the plan since, nothing is written and the preview must be looked at
/// again.
pub async fn commit(
    app: &App,
    p: &Principal,
    id: i64,
    confirmed_digest: &str,
) -> Result<ImportOutcome, AppError> {
    let (m, kind, _) = load_own(&app.db, p, id).await?;
    let bytes = file_of(app, &app.db, &m).await?;
    let sheet = Sheet::read(kind, &bytes)?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    // The one statement that makes a confirmation count once: whoever moves the status wins.
    let claimed = import_batch::Entity::update_many()
        .col_expr(import_batch::Column::Status, Expr::value("committed"))
        .col_expr(import_batch::Column::CommittedAt, Expr::value(now))
        .filter(import_batch::Column::Id.eq(id))
        .filter(import_batch::Column::Status.eq("previewed"))
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        txn.rollback().await?;
        return Err(AppError::Conflict(
            "该文件已经导入，未重复导入；如需再次导入，请重新上传".into(),
        ));
    }
    let (created, updated) = match (kind, &sheet) {
        (ImportKind::Organisations, Sheet::Lines(lines)) => {
            let plan = super::orgs::plan_import(&txn, lines).await?;
            check_plan(&plan, confirmed_digest)?;
            super::orgs::apply_import(app, p, &txn, plan, now).await?
        }
        (ImportKind::Experts, Sheet::Lines(lines)) => {
            let plan =
                super::experts::plan_import(&txn, lines, super::experts::own_pool(p)?).await?;
            check_plan(&plan, confirmed_digest)?;
            super::experts::apply_import(app, p, &txn, plan, now).await?
        }
        (ImportKind::Members, Sheet::Members(rows)) => {
            // The scope again inside the transaction, and the cluster as it is now.
            let cluster =
                super::clusters::member_import_scope(&txn, p, ClusterId::new(m.target_id)).await?;
            let plan = super::clusters::plan_member_import(&txn, cluster.id, rows).await?;
            check_plan(&plan, confirmed_digest)?;
            super::clusters::apply_member_import(app, p, &txn, &cluster, plan, now).await?
        }
        _ => return Err(AppError::internal("import: sheet read for another kind")),
    };
    let summary_rows = sheet.len();
    import_batch::Entity::update_many()
        .col_expr(
            import_batch::Column::RowsNew,
            Expr::value(i32::try_from(created).unwrap_or(i32::MAX)),
        )
        .col_expr(
            import_batch::Column::RowsUpdated,
            Expr::value(i32::try_from(updated).unwrap_or(i32::MAX)),
        )
        .filter(import_batch::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "import.commit",
                object_type: "import",
                object_id: id.to_string(),
                summary: format!(
                    "从Excel导入{}（文件“{}”，{}行）：新增{}条，更新{}条",
                    kind.label(),
                    m.file_name,
                    summary_rows,
                    created,
                    updated
                ),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(ImportOutcome {
        id,
        created,
        updated,
    })
}

/// A plan may be written only when it is the one confirmed and has no problem. Returning the
/// error drops the transaction, which rolls the status back too.
fn check_plan<T>(plan: &[PlanRow<T>], confirmed: &str) -> Result<(), AppError> {
    let shown: Vec<ImportPreviewRow> = plan.iter().map(|r| r.shown.clone()).collect();
    if digest(&shown) != confirmed.trim() {
        return Err(AppError::Conflict(
            "预览之后数据已有变化（或确认的不是当前预览），未导入任何数据，请查看最新预览后再确认"
                .into(),
        ));
    }
    if shown.iter().any(|r| r.action == "error") {
        return Err(AppError::invalid(
            "file",
            "导入文件中有错误行，未导入任何数据，请改正后重新上传",
        ));
    }
    Ok(())
}

/// One problem of a row, against the field (column) it is about.
pub fn problem(field: &str, message: impl Into<String>) -> Vec<FieldError> {
    vec![FieldError {
        field: field.into(),
        message: message.into(),
    }]
}

/// Counts rows already keyed in the sheet, for "第N行已有同一…" problems.
pub fn first_row_with(seen: &mut BTreeMap<String, u32>, key: &str, row: u32) -> Option<u32> {
    if key.is_empty() {
        return None;
    }
    match seen.get(key) {
        Some(first) => Some(*first),
        None => {
            seen.insert(key.to_string(), row);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        Column {
            key: "name",
            header: "名称",
            required: true,
            width: 10.0,
            hint: "",
        },
        Column {
            key: "note",
            header: "备注",
            required: false,
            width: 10.0,
            hint: "",
        },
    ];

    fn text(t: &str) -> CellText {
        CellText {
            text: t.into(),
            numeric: false,
        }
    }

    #[test]
    fn columns_are_found_by_header_in_any_order() {
        let mut cells = BTreeMap::new();
        cells.insert(0, vec![(0, text("备注")), (1, text("名称 *"))]);
        cells.insert(1, vec![(0, text("说明")), (1, text("甲"))]);
        cells.insert(3, vec![(2, text("别处的字"))]);
        let lines = lines_of(&cells, COLUMNS).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].row, 2);
        assert_eq!(lines[0].get("name"), "甲");
        assert_eq!(lines[0].get("note"), "说明");
    }

    #[test]
    fn a_missing_required_column_is_named() {
        let mut cells = BTreeMap::new();
        cells.insert(0, vec![(0, text("备注"))]);
        cells.insert(1, vec![(0, text("x"))]);
        let e = lines_of(&cells, COLUMNS).unwrap_err();
        assert!(e.contains("缺少“名称”列"), "{e}");
    }

    #[test]
    fn every_kind_has_a_template_that_reads_back_empty() {
        for kind in ImportKind::ALL {
            let bytes = template_xlsx(kind).unwrap();
            let Err(e) = Sheet::read(kind, &bytes) else {
                panic!("{kind:?}: the template has no data");
            };
            assert!(e.fields()[0].message.contains("没有"), "{e:?}");
            assert!(e.fields()[0].message.contains("数据"), "{e:?}");
        }
    }
}
