//! Member enterprises imported from an Excel sheet, and the sheet's template.

use crate::store::id::{ClusterId, ClusterMemberId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Cursor;

use jiqun_domain::access::Action;
use jiqun_domain::credit_code::CreditCode;
// The member sheet's rules (file checks, columns, row checks) are the domain's.
use jiqun_domain::member_sheet::{
    self, CODE_COLUMN, CellText, MAX_IMPORT_ROWS, NAME_COLUMN, SheetRow, ValidMember,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use serde::Serialize;

use super::{TEMPLATE_SHEET, is_unique_violation, load_scoped};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::{AppError, FieldError};
use crate::services::imports::{Column, PlanRow, Planned, SheetLine};
use crate::store::entity::{cluster, cluster_member};

/// One problem in an import file, where the user sees it in Excel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The row number as Excel shows it (the header is usually row 1).
    pub row: u32,
    /// The column header, e.g. 统一社会信用代码.
    pub column: String,
    /// `name` | `credit_code`: the column as a machine key.
    pub column_key: String,
    pub message: String,
}

fn file_error(message: impl Into<String>) -> AppError {
    AppError::invalid("file", message)
}

fn cell_text(v: &calamine::Data) -> CellText {
    use calamine::Data;
    match v {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => CellText {
            text: s.clone(),
            numeric: false,
        },
        Data::Int(i) => CellText {
            text: i.to_string(),
            numeric: true,
        },
        Data::Float(f) => CellText {
            text: if f.fract() == 0.0 && f.abs() < 1e19 {
                format!("{f:.0}")
            } else {
                f.to_string()
            },
            numeric: true,
        },
        Data::Empty => CellText::default(),
        other => CellText {
            text: other.to_string(),
            numeric: false,
        },
    }
}

/// The non-empty cells of the first sheet of an .xlsx file, by 0-based row and column.
/// File-level problems (not an Excel file, damaged, too many rows) are an `Invalid` error on
/// field `file`. Every Excel import reads its file through here.
pub(crate) fn read_cells(
    bytes: &[u8],
    max_rows: usize,
    too_many: impl Fn() -> String,
) -> Result<BTreeMap<u32, Vec<(u32, CellText)>>, AppError> {
    use calamine::{Reader, Xlsx};

    member_sheet::check_file(bytes).map_err(file_error)?;
    let damaged = |e: &dyn std::fmt::Display| {
        tracing::debug!("import: unreadable workbook: {e}");
        file_error(member_sheet::DAMAGED)
    };
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| damaged(&e))?;
    let Some(first) = workbook.sheet_names().into_iter().next() else {
        return Err(file_error("Excel文件中没有工作表"));
    };
    // Stream the cells instead of loading the whole sheet, so an oversized sheet is refused
    // as soon as it passes the row limit.
    let mut rows: BTreeMap<u32, Vec<(u32, CellText)>> = BTreeMap::new();
    {
        let mut cells = workbook
            .worksheet_cells_reader(&first)
            .map_err(|e| damaged(&e))?;
        while let Some(cell) = cells.next_cell().map_err(|e| damaged(&e))? {
            let (row, col) = cell.get_position();
            let value = cell_text(&calamine::Data::from(cell.get_value().clone()));
            if value.text.trim().is_empty() {
                continue;
            }
            rows.entry(row).or_default().push((col, value));
            // One header row plus the allowed data rows.
            if rows.len() > max_rows + 1 {
                return Err(file_error(too_many()));
            }
        }
    }
    Ok(rows)
}

/// Reads the member rows of the first sheet of an .xlsx file. File-level problems (not an
/// Excel file, damaged, no header, too many rows) are an `Invalid` error on field `file`.
pub fn read_member_sheet(bytes: &[u8]) -> Result<Vec<SheetRow>, AppError> {
    let rows = read_cells(bytes, MAX_IMPORT_ROWS, member_sheet::too_many_rows)?;
    member_sheet::member_rows(&rows).map_err(file_error)
}

/// Checks every row against the others and the current members (the domain's
/// `member_sheet::check_rows`), with the problems as the API reports them.
pub fn check_rows(
    rows: &[SheetRow],
    existing: &HashSet<String>,
) -> (Vec<ValidMember>, Vec<RowError>) {
    let (valid, problems) = member_sheet::check_rows(rows, existing);
    let errors = problems
        .into_iter()
        .map(|e| RowError {
            row: e.row,
            column: e.column.into(),
            column_key: e.column_key.into(),
            message: e.message,
        })
        .collect();
    (valid, errors)
}

/// The columns of the member sheet as the import preview names them.
pub const MEMBER_COLUMNS: &[Column] = &[
    Column {
        key: "name",
        header: NAME_COLUMN,
        required: true,
        width: 44.0,
        hint: "企业营业执照上的全称，不超过100个字",
    },
    Column {
        key: "credit_code",
        header: CODE_COLUMN,
        required: true,
        width: 26.0,
        hint: "18位，字母须为大写；请保持单元格为“文本”格式",
    },
];

/// The cluster whose members the principal may import: its lead applicant only (the same
/// scope as adding a member one at a time).
pub async fn member_import_scope<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    cluster_id: ClusterId,
) -> Result<cluster::Model, AppError> {
    Ok(load_scoped(conn, p, cluster_id, Action::Update).await?.0)
}

/// Plans a member sheet against the cluster's members as they are now (`conn` may be the
/// confirmation's transaction): a code not yet in the list is 新增, a code already there is
/// 更新 (its name as the sheet has it), and a row with a problem — the domain's
/// `member_sheet::check_rows` — is 错误 with its problems by column.
pub async fn plan_member_import<C: ConnectionTrait>(
    conn: &C,
    cluster_id: ClusterId,
    rows: &[SheetRow],
) -> Result<Vec<PlanRow<ValidMember>>, AppError> {
    let existing: HashMap<String, cluster_member::Model> = cluster_member::Entity::find()
        .filter(cluster_member::Column::ClusterId.eq(cluster_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.credit_code.clone(), m))
        .collect();
    // Checked against each other only: a member already listed is an update, not a problem.
    let (valid, problems) = member_sheet::check_rows(rows, &HashSet::new());
    let mut problems_of: BTreeMap<u32, Vec<FieldError>> = BTreeMap::new();
    for e in problems {
        problems_of.entry(e.row).or_default().push(FieldError {
            field: e.column_key.into(),
            message: e.message,
        });
    }
    // `check_rows` keeps the valid members in row order.
    let mut valid = valid.into_iter();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let line = SheetLine {
            row: r.row,
            ..Default::default()
        };
        let key = r.name.text.trim().to_string();
        if let Some(errors) = problems_of.get(&r.row) {
            out.push(PlanRow::refused(&line, key, MEMBER_COLUMNS, errors));
            continue;
        }
        let Some(v) = valid.next() else {
            return Err(AppError::internal("member plan: a valid row is missing"));
        };
        let code = v.credit_code.as_str().to_string();
        let planned = match existing.get(&code) {
            Some(before) if before.name == v.name => {
                let summary = format!("{code}（已在成员名单中，名称不变）");
                PlanRow::new(&line, key, summary, Planned::Update(before.id.get(), v))
            }
            Some(before) => {
                let summary = format!("{code}（名称由“{}”改为“{}”）", before.name, v.name);
                PlanRow::new(&line, key, summary, Planned::Update(before.id.get(), v))
            }
            None => PlanRow::new(&line, key, code, Planned::New(v)),
        };
        out.push(planned);
    }
    Ok(out)
}

/// Writes a confirmed member plan inside the confirmation's transaction, with the cluster's
/// own audit entry. Answers the numbers of members added and updated.
pub async fn apply_member_import(
    app: &App,
    p: &Principal,
    txn: &DatabaseTransaction,
    cluster: &cluster::Model,
    plan: Vec<PlanRow<ValidMember>>,
    now: time::OffsetDateTime,
) -> Result<(usize, usize), AppError> {
    let mut added = Vec::new();
    let mut updated = 0usize;
    for row in plan {
        match row.planned {
            Planned::New(v) => added.push(v),
            Planned::Update(id, v) => {
                cluster_member::Entity::update_many()
                    .col_expr(cluster_member::Column::Name, Expr::value(v.name))
                    .filter(cluster_member::Column::Id.eq(ClusterMemberId::new(id)))
                    .filter(cluster_member::Column::ClusterId.eq(cluster.id))
                    .exec(txn)
                    .await?;
                updated += 1;
            }
            Planned::Error => {
                return Err(AppError::internal("member plan with an error row applied"));
            }
        }
    }
    for chunk in added.chunks(1000) {
        let result = cluster_member::Entity::insert_many(chunk.iter().map(|m| {
            cluster_member::ActiveModel {
                cluster_id: Set(cluster.id),
                name: Set(m.name.clone()),
                credit_code: Set(m.credit_code.as_str().to_string()),
                ..Default::default()
            }
        }))
        .exec(txn)
        .await;
        match result {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::Conflict(
                    "导入期间成员名单被他人修改，未导入任何数据，请刷新后重新导入".into(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Audit::of(app, p, now)
        .record(
            txn,
            Event {
                action: "cluster.members_import",
                object_type: "cluster",
                object_id: cluster.id.to_string(),
                summary: format!(
                    "集群“{}”从Excel导入成员企业：新增{}家，更新{}家",
                    cluster.name,
                    added.len(),
                    updated
                ),
                ..Default::default()
            },
        )
        .await?;
    Ok((added.len(), updated))
}

/// The import template: sheet 成员企业 with the header (bold, frozen, text-formatted columns so
/// Excel keeps credit codes as typed) and a sheet 填写说明 with the rules and an example.
pub fn template_xlsx() -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook, XlsxError};

    fn build() -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold().set_background_color(0xF0F2F4);
        let text = Format::new().set_num_format("@");
        let sheet = wb.add_worksheet();
        sheet.set_name(TEMPLATE_SHEET)?;
        sheet.write_string_with_format(0, 0, NAME_COLUMN, &bold)?;
        sheet.write_string_with_format(0, 1, CODE_COLUMN, &bold)?;
        sheet.set_column_width(0, 44)?;
        sheet.set_column_width(1, 26)?;
        sheet.set_column_format(0, &text)?;
        sheet.set_column_format(1, &text)?;
        sheet.set_freeze_panes(1, 0)?;

        let notes = wb.add_worksheet();
        notes.set_name("填写说明")?;
        notes.set_column_width(0, 22)?;
        notes.set_column_width(1, 80)?;
        let example = CreditCode::from_parts('9', '1', "430100", "MA4L0001")
            .map(|c| c.as_str().to_string())
            .unwrap_or_default();
        let lines: [(&str, String); 7] = [
            ("用途", "集群成员企业名单导入".to_string()),
            (
                "填写位置",
                format!("在“{TEMPLATE_SHEET}”工作表第1行表头下方，从第2行起每行填写一家企业"),
            ),
            (
                NAME_COLUMN,
                "必填，企业营业执照上的全称，不超过100个字".to_string(),
            ),
            (
                CODE_COLUMN,
                "必填，18位，字母须为大写；请保持单元格为“文本”格式，避免Excel改变长数字"
                    .to_string(),
            ),
            (
                "数量",
                format!("每次最多导入{MAX_IMPORT_ROWS}家；同一代码在表中不能重复"),
            ),
            (
                "结果",
                "上传后先显示每一行将新增、更新还是有误；已在成员名单中的代码视为更新（名称以本表为准）；任一行有误时不能确认导入，改正后重新上传即可；确认后整份名单一次写入"
                    .to_string(),
            ),
            ("示例", format!("长沙某某重工机械有限公司　{example}")),
        ];
        notes.write_string_with_format(0, 0, "项目", &bold)?;
        notes.write_string_with_format(0, 1, "说明", &bold)?;
        for (i, (k, v)) in lines.iter().enumerate() {
            let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
            notes.write_string(row, 0, *k)?;
            notes.write_string(row, 1, v)?;
        }
        wb.save_to_buffer()
    }

    build().map_err(|e| AppError::internal(format!("member import template: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiqun_domain::member_sheet::{ALREADY_MEMBER, MAX_EXPANDED_BYTES, expanded_size};

    fn code(body: &str) -> String {
        CreditCode::from_parts('9', '1', "430100", body)
            .unwrap()
            .as_str()
            .to_string()
    }

    fn row(n: u32, name: &str, code: &str) -> SheetRow {
        SheetRow {
            row: n,
            name: CellText {
                text: name.into(),
                numeric: false,
            },
            credit_code: CellText {
                text: code.into(),
                numeric: false,
            },
        }
    }

    #[test]
    fn rows_are_checked_against_each_other_and_the_members() {
        let a = code("MA4L0001");
        let b = code("MA4L0002");
        let existing: HashSet<String> = [b.clone()].into();
        let rows = vec![
            row(2, "甲公司", &a),
            row(3, "", &code("MA4L0003")),
            row(4, "乙公司", &a.to_lowercase()),
            row(5, "丙公司", &b),
            row(6, "丁公司", "91430100MA4L0000"),
        ];
        let (valid, errors) = check_rows(&rows, &existing);
        assert_eq!(valid.len(), 1);
        let found: Vec<(u32, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (3, NAME_COLUMN),
                (4, CODE_COLUMN),
                (5, CODE_COLUMN),
                (6, CODE_COLUMN)
            ]
        );
        assert!(errors[1].message.contains("第2行"));
        assert_eq!(errors[2].message, ALREADY_MEMBER);
        assert!(errors[3].message.contains("18位"));
    }

    #[test]
    fn the_template_reads_back_as_an_empty_member_sheet() {
        let bytes = template_xlsx().unwrap();
        let e = read_member_sheet(&bytes).unwrap_err();
        assert!(e.fields()[0].message.contains("没有成员企业数据"), "{e:?}");
    }

    #[test]
    fn files_that_are_not_xlsx_are_named() {
        let e = read_member_sheet(b"name,code\n").unwrap_err();
        assert!(e.fields()[0].message.contains("不是Excel工作簿"));
        let e = read_member_sheet(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0]).unwrap_err();
        assert!(e.fields()[0].message.contains(".xls"));
        let e = read_member_sheet(b"PK\x03\x04garbage").unwrap_err();
        assert!(e.fields()[0].message.contains("损坏"));
    }

    #[test]
    fn a_compression_bomb_is_refused_before_it_is_opened() {
        let bytes = template_xlsx().unwrap();
        let size = expanded_size(&bytes).unwrap();
        assert!(size > bytes.len() as u64 && size < MAX_EXPANDED_BYTES);
        // Declare a huge uncompressed size for the first entry of the central directory.
        let mut bomb = bytes.clone();
        let cd = bomb.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        bomb[cd + 24..cd + 28].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        let e = read_member_sheet(&bomb).unwrap_err();
        assert!(e.fields()[0].message.contains("解压后过大"), "{e:?}");
    }

    fn sheet(rows: &[(&str, &str)]) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let s = wb.add_worksheet();
        for (i, (a, b)) in rows.iter().enumerate() {
            let r = i as u32;
            s.write_string(r, 0, *a).unwrap();
            s.write_string(r, 1, *b).unwrap();
        }
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn headers_may_be_swapped_and_padded() {
        let a = code("MA4L0001");
        let bytes = sheet(&[(" 统一社会 信用代码 ", "企业名称*"), (&a, "甲公司")]);
        let rows = read_member_sheet(&bytes).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].name.text, "甲公司");
        assert_eq!(rows[0].credit_code.text, a);
        let e = read_member_sheet(&sheet(&[("名称", "代码"), ("甲", "乙")])).unwrap_err();
        assert!(
            e.fields()[0]
                .message
                .contains("“企业名称”、“统一社会信用代码”")
        );
    }

    #[test]
    fn numbers_keep_their_digits_and_get_a_hint() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let s = wb.add_worksheet();
        s.write_string(0, 0, NAME_COLUMN).unwrap();
        s.write_string(0, 1, CODE_COLUMN).unwrap();
        s.write_string(1, 0, "甲公司").unwrap();
        s.write_number(1, 1, 914301001234567890.0).unwrap();
        let rows = read_member_sheet(&wb.save_to_buffer().unwrap()).unwrap();
        assert!(rows[0].credit_code.numeric);
        let (_, errors) = check_rows(&rows, &HashSet::new());
        assert!(errors[0].message.contains("文本"), "{errors:?}");
    }
}
