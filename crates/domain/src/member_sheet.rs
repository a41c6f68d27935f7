//! A cluster's member enterprises (成员企业, 第五条) imported from an Excel sheet: which files are
//! refused before they are opened, where the two columns are, which rows are members, and what is
//! wrong with each row (a missing name, a wrong 统一社会信用代码, a duplicate). Every rule here is
//! over plain data: the shell reads the workbook's cells (calamine) and hands them in.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::credit_code::CreditCode;

/// Largest member file accepted for import.
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
/// Most member rows one import may carry; larger lists are imported in parts.
pub const MAX_IMPORT_ROWS: usize = 5000;
/// Header of the member-name column in the import sheet.
pub const NAME_COLUMN: &str = "企业名称";
/// Header of the credit-code column in the import sheet.
pub const CODE_COLUMN: &str = "统一社会信用代码";
/// Longest member name, in characters.
pub const MAX_MEMBER_NAME: usize = 100;
/// Most bytes the parts of an import workbook may expand to: a 5,000-row member sheet is a few
/// megabytes, so anything far beyond is a compression bomb, not a member list.
pub const MAX_EXPANDED_BYTES: u64 = 200 * 1024 * 1024;
/// A row (or a single member) whose code is already on the list.
pub const ALREADY_MEMBER: &str = "该企业已在成员名单中";
/// A workbook that cannot be read.
pub const DAMAGED: &str =
    "无法读取该Excel文件，文件可能已损坏或不是有效的.xlsx工作簿，请重新保存后再导入";

/// A cell's text, and whether Excel stored it as a number (long numbers lose digits there).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellText {
    pub text: String,
    pub numeric: bool,
}

/// One data row of the member sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    /// Excel's 1-based row number.
    pub row: u32,
    pub name: CellText,
    pub credit_code: CellText,
}

/// A member enterprise that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidMember {
    pub name: String,
    pub credit_code: CreditCode,
}

/// One problem in an import file, where the user sees it in Excel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The row number as Excel shows it.
    pub row: u32,
    /// The column header, e.g. 统一社会信用代码.
    pub column: &'static str,
    /// `name` | `credit_code`: the column as a machine key.
    pub column_key: &'static str,
    pub message: String,
}

/// A member's name, trimmed, or why it is not acceptable.
pub fn check_member_name(name: &str) -> Result<String, String> {
    let name = name.trim().to_string();
    if name.is_empty() {
        Err("请填写企业名称".into())
    } else if name.chars().count() > MAX_MEMBER_NAME {
        Err(format!("企业名称不能超过{MAX_MEMBER_NAME}个字"))
    } else {
        Ok(name)
    }
}

/// File-level checks before the workbook is opened: not empty, not too large, an .xlsx (not
/// the old .xls, not anything else), and not a compression bomb.
pub fn check_file(bytes: &[u8]) -> Result<(), String> {
    if bytes.is_empty() {
        return Err("请选择要导入的Excel文件".into());
    }
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(format!(
            "文件超过{}MB，请删除多余内容或拆分后分批导入",
            MAX_IMPORT_BYTES / 1024 / 1024
        ));
    }
    // The old binary .xls format starts with the OLE2 signature.
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(
            "不支持旧版Excel（.xls）文件：请在Excel中“另存为”Excel工作簿（*.xlsx）后再导入".into(),
        );
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err("文件不是Excel工作簿（.xlsx）：请使用“下载导入模板”中的模板填写后上传".into());
    }
    match expanded_size(bytes) {
        None => Err(DAMAGED.into()),
        Some(n) if n > MAX_EXPANDED_BYTES => Err(
            "该Excel文件解压后过大，不像是成员企业名单：请只保留“企业名称”“统一社会信用代码”两列后再导入"
                .into(),
        ),
        Some(_) => Ok(()),
    }
}

/// The refusal when a sheet has more rows than one import takes.
pub fn too_many_rows() -> String {
    format!("每次最多导入{MAX_IMPORT_ROWS}家成员企业，当前表格超过该数量，请拆分后分批导入")
}

/// The total uncompressed size an .xlsx (a ZIP archive) declares in its central directory, so
/// that a small upload that would expand to gigabytes is refused before it is opened. `None`
/// when the archive structure cannot be read. ZIP64 entries count as too large: a member list
/// never needs them.
pub fn expanded_size(bytes: &[u8]) -> Option<u64> {
    let u16_at = |at: usize| -> Option<u64> {
        let b = bytes.get(at..at + 2)?;
        Some(u64::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let u32_at = |at: usize| -> Option<u64> {
        let b = bytes.get(at..at + 4)?;
        Some(u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
    };
    // The end-of-central-directory record sits in the last 22 bytes plus an optional comment.
    let search_from = bytes.len().saturating_sub(22 + usize::from(u16::MAX));
    let eocd = (search_from..=bytes.len().saturating_sub(22))
        .rev()
        .find(|&i| bytes.get(i..i + 4) == Some(b"PK\x05\x06".as_slice()))?;
    let entries = u16_at(eocd + 10)?;
    let mut at = usize::try_from(u32_at(eocd + 16)?).ok()?;
    let mut total: u64 = 0;
    for _ in 0..entries {
        if bytes.get(at..at + 4) != Some(b"PK\x01\x02".as_slice()) {
            return None;
        }
        let size = u32_at(at + 24)?;
        if size == u64::from(u32::MAX) {
            return Some(u64::MAX);
        }
        total = total.saturating_add(size);
        let variable = u16_at(at + 28)? + u16_at(at + 30)? + u16_at(at + 32)?;
        at = at.checked_add(46 + usize::try_from(variable).ok()?)?;
    }
    Some(total)
}

/// Header text as typed by people: spaces (also full-width) and required-field stars ignored.
pub fn normalise_header(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '＊'))
        .collect()
}

/// The member rows of a sheet given its non-empty cells, by 0-based row and column: the first
/// row with any cell is the header (企业名称 and 统一社会信用代码 in either order); rows with
/// notes only in other columns are not members. Err is the message for the whole file.
pub fn member_rows(cells: &BTreeMap<u32, Vec<(u32, CellText)>>) -> Result<Vec<SheetRow>, String> {
    let Some((&header_row, header)) = cells.iter().next() else {
        return Err(format!(
            "第一个工作表是空的：第1行应为表头“{NAME_COLUMN}”“{CODE_COLUMN}”，从第2行起每行一家企业"
        ));
    };
    let column_of = |title: &str| {
        header
            .iter()
            .find(|(_, v)| normalise_header(&v.text) == title)
            .map(|(col, _)| *col)
    };
    let (name_col, code_col) = match (column_of(NAME_COLUMN), column_of(CODE_COLUMN)) {
        (Some(n), Some(c)) => (n, c),
        (n, c) => {
            let missing: Vec<String> = [(n, NAME_COLUMN), (c, CODE_COLUMN)]
                .iter()
                .filter(|(col, _)| col.is_none())
                .map(|(_, title)| format!("“{title}”"))
                .collect();
            return Err(format!(
                "第{}行（表头）缺少{}列：表头应为“{NAME_COLUMN}”和“{CODE_COLUMN}”，请使用导入模板",
                header_row + 1,
                missing.join("、")
            ));
        }
    };
    let get = |row: &[(u32, CellText)], col: u32| {
        row.iter()
            .find(|(c, _)| *c == col)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let data: Vec<SheetRow> = cells
        .iter()
        .skip(1)
        .map(|(row, cells)| SheetRow {
            row: row + 1,
            name: get(cells, name_col),
            credit_code: get(cells, code_col),
        })
        // A row with notes only in other columns is not a member.
        .filter(|r| !r.name.text.trim().is_empty() || !r.credit_code.text.trim().is_empty())
        .collect();
    if data.is_empty() {
        return Err(format!(
            "表格中没有成员企业数据：请从表头下一行（第{}行）起每行填写一家企业",
            header_row + 2
        ));
    }
    Ok(data)
}

/// Checks every row against the others and the current members (`existing` credit codes).
/// Only rows without any problem come back as valid members.
pub fn check_rows(
    rows: &[SheetRow],
    existing: &HashSet<String>,
) -> (Vec<ValidMember>, Vec<RowProblem>) {
    let mut valid = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for r in rows {
        let mut ok = true;
        let mut problem = |key: &'static str, column: &'static str, message: String| {
            errors.push(RowProblem {
                row: r.row,
                column,
                column_key: key,
                message,
            });
        };
        let name = match r.name.text.trim() {
            "" => {
                problem("name", NAME_COLUMN, "企业名称未填写".into());
                ok = false;
                None
            }
            text => match check_member_name(text) {
                Ok(n) => Some(n),
                Err(e) => {
                    problem("name", NAME_COLUMN, e);
                    ok = false;
                    None
                }
            },
        };
        let code = match r.credit_code.text.trim() {
            "" => {
                problem("credit_code", CODE_COLUMN, "统一社会信用代码未填写".into());
                ok = false;
                None
            }
            text => match CreditCode::parse(text) {
                Ok(c) => {
                    if let Some(first) = seen.get(c.as_str()) {
                        problem(
                            "credit_code",
                            CODE_COLUMN,
                            format!("与第{first}行的统一社会信用代码重复"),
                        );
                        ok = false;
                    } else if existing.contains(c.as_str()) {
                        problem("credit_code", CODE_COLUMN, ALREADY_MEMBER.into());
                        ok = false;
                    }
                    seen.entry(c.as_str().to_string()).or_insert(r.row);
                    Some(c)
                }
                Err(e) => {
                    let mut message = e.to_string();
                    if r.credit_code.numeric {
                        message.push_str(
                            "（该单元格是数字格式，Excel会改变长数字：请把该列设为“文本”格式后重新填写）",
                        );
                    }
                    problem("credit_code", CODE_COLUMN, message);
                    ok = false;
                    None
                }
            },
        };
        if let (true, Some(name), Some(credit_code)) = (ok, name, code) {
            valid.push(ValidMember { name, credit_code });
        }
    }
    (valid, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(body: &str) -> String {
        CreditCode::from_parts('9', '1', "430100", body)
            .unwrap()
            .as_str()
            .to_string()
    }

    fn text(t: &str) -> CellText {
        CellText {
            text: t.into(),
            numeric: false,
        }
    }

    fn row(n: u32, name: &str, code: &str) -> SheetRow {
        SheetRow {
            row: n,
            name: text(name),
            credit_code: text(code),
        }
    }

    fn grid(rows: &[(u32, &[(u32, &str)])]) -> BTreeMap<u32, Vec<(u32, CellText)>> {
        rows.iter()
            .map(|(r, cells)| (*r, cells.iter().map(|(c, t)| (*c, text(t))).collect()))
            .collect()
    }

    #[test]
    fn each_row_problem_is_named_where_excel_shows_it() {
        let a = code("MA4L0001");
        let b = code("MA4L0002");
        let existing: HashSet<String> = [b.clone()].into();
        let long = "长".repeat(101);
        let rows = vec![
            row(2, "甲公司", &a),
            row(3, "", &code("MA4L0003")),
            row(4, "乙公司", &a.to_lowercase()),
            row(5, "丙公司", &b),
            row(6, "丁公司", "91430100MA4L0000"),
            row(7, "戊公司", ""),
            row(8, &long, &code("MA4L0004")),
        ];
        let (valid, errors) = check_rows(&rows, &existing);
        assert_eq!(valid.len(), 1);
        assert_eq!(valid[0].name, "甲公司");
        let found: Vec<(u32, &str, &str)> = errors
            .iter()
            .map(|e| (e.row, e.column_key, e.message.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                (3, "name", "企业名称未填写"),
                (4, "credit_code", "与第2行的统一社会信用代码重复"),
                (5, "credit_code", ALREADY_MEMBER),
                (6, "credit_code", errors[3].message.as_str()),
                (7, "credit_code", "统一社会信用代码未填写"),
                (8, "name", "企业名称不能超过100个字"),
            ]
        );
        assert!(errors[3].message.contains("18位"));
        assert_eq!(errors[0].column, NAME_COLUMN);
        assert_eq!(errors[1].column, CODE_COLUMN);
    }

    #[test]
    fn a_number_cell_gets_a_hint_about_text_format() {
        let mut r = row(2, "甲公司", "9.14301001234568E17");
        r.credit_code.numeric = true;
        let (_, errors) = check_rows(&[r], &HashSet::new());
        assert!(errors[0].message.contains("“文本”格式"), "{errors:?}");
    }

    #[test]
    fn the_header_may_be_anywhere_in_either_order() {
        let a = code("MA4L0001");
        let cells = grid(&[
            (2, &[(3, " 统一社会 信用代码 "), (1, "企业名称＊")]),
            (3, &[(1, "甲公司"), (3, &a)]),
            (4, &[(7, "备注而已")]),
        ]);
        assert_eq!(member_rows(&cells), Ok(vec![row(4, "甲公司", &a)]));
    }

    #[test]
    fn sheets_without_header_or_members_are_refused() {
        assert!(
            member_rows(&BTreeMap::new())
                .unwrap_err()
                .contains("第一个工作表是空的")
        );
        let only_header = grid(&[(0, &[(0, NAME_COLUMN), (1, CODE_COLUMN)])]);
        assert_eq!(
            member_rows(&only_header),
            Err("表格中没有成员企业数据：请从表头下一行（第2行）起每行填写一家企业".into())
        );
        let wrong = grid(&[(0, &[(0, "名称"), (1, CODE_COLUMN)]), (1, &[(0, "甲")])]);
        assert_eq!(
            member_rows(&wrong),
            Err("第1行（表头）缺少“企业名称”列：表头应为“企业名称”和“统一社会信用代码”，请使用导入模板".into())
        );
    }

    #[test]
    fn files_are_refused_before_they_are_opened() {
        assert_eq!(check_file(b""), Err("请选择要导入的Excel文件".into()));
        assert!(
            check_file(b"name,code\n")
                .unwrap_err()
                .contains("不是Excel工作簿")
        );
        assert!(
            check_file(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0])
                .unwrap_err()
                .contains(".xls")
        );
        assert_eq!(check_file(b"PK\x03\x04garbage"), Err(DAMAGED.into()));
        let big = vec![0u8; MAX_IMPORT_BYTES + 1];
        assert!(check_file(&big).unwrap_err().contains("5MB"));
        assert!(too_many_rows().contains("5000"));
    }

    proptest! {
        /// Only rows without problems become members, each code at most once, and never a
        /// code already on the list; every other row has at least one problem.
        #[test]
        fn valid_members_are_unique_and_new(
            picks in proptest::collection::vec((0usize..6, any::<bool>()), 0..30),
        ) {
            let pool: Vec<String> = (1..=5).map(|i| code(&format!("MA4L000{i}"))).collect();
            let existing: HashSet<String> = [pool[0].clone()].into();
            let rows: Vec<SheetRow> = picks
                .iter()
                .enumerate()
                .map(|(i, (p, named))| {
                    let c = pool.get(*p).cloned().unwrap_or_else(|| "bad".into());
                    row(i as u32 + 2, if *named { "某公司" } else { " " }, &c)
                })
                .collect();
            let (valid, errors) = check_rows(&rows, &existing);
            let codes: HashSet<&str> = valid.iter().map(|m| m.credit_code.as_str()).collect();
            prop_assert_eq!(codes.len(), valid.len());
            prop_assert!(codes.iter().all(|c| !existing.contains(*c)));
            let rows_with_errors: HashSet<u32> = errors.iter().map(|e| e.row).collect();
            prop_assert_eq!(valid.len() + rows_with_errors.len(), rows.len());
        }
    }
}
