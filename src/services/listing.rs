//! One way to read a back-office list's query string: filters, a sort column and a page, parsed
//! and checked once into [`ListParams`] (a precise Chinese message for every bad value), turned
//! into a bounded query (a count, one page, batch loads by the caller), and the whole filtered
//! set as an Excel sheet for 导出Excel.

use std::collections::BTreeMap;

use jiqun_domain::region::{self, RegionCode};
use sea_orm::{
    ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryOrder, QuerySelect, Select,
};

use crate::error::{AppError, Problems};

/// Rows per page on every list of the back office.
pub const PAGE_SIZE: u64 = 50;

/// The most rows one 导出Excel writes; a larger filtered set is refused with a hint to narrow it.
pub const MAX_EXPORT_ROWS: u64 = 10_000;

/// The longest keyword accepted, in characters.
const MAX_KEYWORD: usize = 50;

/// What a filter accepts.
#[derive(Clone, Copy)]
pub enum FilterKind {
    /// A keyword matched by the list (name, code …).
    Text,
    /// A year such as 2026.
    Year,
    /// A 市州 code of Hunan, e.g. 430100.
    City,
    /// One of the keys the function returns, with the names people read.
    Choice(fn() -> Vec<(&'static str, &'static str)>),
}

/// One filter of a list: the query key, its name on the page, what it accepts.
pub struct FilterSpec {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FilterKind,
}

/// What a list accepts: its path (for the links), filters and sortable columns (key, name).
/// The first sort key is the default.
pub struct ListSpec {
    pub path: &'static str,
    pub filters: &'static [FilterSpec],
    pub sorts: &'static [(&'static str, &'static str)],
    /// The default direction of the default sort (true: newest / largest first).
    pub default_desc: bool,
}

/// A checked list query.
#[derive(Debug, Clone)]
pub struct ListParams {
    pub path: &'static str,
    pub page: u64,
    pub sort: &'static str,
    pub desc: bool,
    values: BTreeMap<&'static str, String>,
    sort_given: bool,
}

/// The years a list accepts in a year filter.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

impl ListParams {
    /// Parses `page`, `sort` (a key, `-key` for descending) and the spec's filters from the
    /// query pairs. Unknown keys are ignored (a form may carry its button); an empty value means
    /// "no filter". Every bad value is reported against its key, all at once.
    pub fn parse(spec: &ListSpec, pairs: &[(String, String)]) -> Result<ListParams, AppError> {
        let mut p = Problems::default();
        let mut out = ListParams {
            path: spec.path,
            page: 1,
            sort: spec.sorts.first().map_or("id", |s| s.0),
            desc: spec.default_desc,
            values: BTreeMap::new(),
            sort_given: false,
        };
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "page" => match value.parse::<u64>() {
                    Ok(n) if (1..=1_000_000).contains(&n) => out.page = n,
                    _ => p.add("page", format!("页码“{value}”无效，应为从1开始的整数")),
                },
                "sort" => {
                    let (name, desc) = match value.strip_prefix('-') {
                        Some(rest) => (rest, true),
                        None => (value, false),
                    };
                    match spec.sorts.iter().find(|s| s.0 == name) {
                        Some(s) => {
                            out.sort = s.0;
                            out.desc = desc;
                            out.sort_given = true;
                        }
                        None => {
                            let names: Vec<String> = spec
                                .sorts
                                .iter()
                                .map(|s| format!("{}（{}）", s.1, s.0))
                                .collect();
                            p.add(
                                "sort",
                                format!("不能按“{value}”排序，可排序的列：{}", names.join("、")),
                            );
                        }
                    }
                }
                other => {
                    let Some(f) = spec.filters.iter().find(|f| f.key == other) else {
                        continue;
                    };
                    match check(f, value) {
                        Ok(v) => {
                            out.values.insert(f.key, v);
                        }
                        Err(m) => p.add(f.key, m),
                    }
                }
            }
        }
        p.into_result()?;
        Ok(out)
    }

    /// The checked value of a filter, if given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    pub fn year(&self, key: &str) -> Option<i32> {
        self.get(key).and_then(|v| v.parse().ok())
    }

    pub fn city(&self, key: &str) -> Option<RegionCode> {
        self.get(key).and_then(|v| v.parse().ok())
    }

    /// Adds a filter value the caller decided (a default such as the newest call).
    pub fn set(&mut self, key: &'static str, value: impl Into<String>) {
        self.values.insert(key, value.into());
    }

    /// The filters and the sort as a query string, without the page: what page links keep.
    pub fn query(&self) -> String {
        self.query_with(self.sort_given.then_some((self.sort, self.desc)))
    }

    fn query_with(&self, sort: Option<(&str, bool)>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.values {
            q.append_pair(k, v);
        }
        if let Some((key, desc)) = sort {
            q.append_pair("sort", &format!("{}{key}", if desc { "-" } else { "" }));
        }
        q.finish()
    }

    /// Orders by the sort column the caller maps the key to, then by `id` so equal values keep
    /// one order from page to page.
    pub fn order<E: EntityTrait>(
        &self,
        q: Select<E>,
        column: impl Fn(&str) -> E::Column,
        id: E::Column,
    ) -> Select<E> {
        let dir = if self.desc { Order::Desc } else { Order::Asc };
        let q = q.order_by(column(self.sort), dir.clone());
        if self.sort == "id" {
            q
        } else {
            q.order_by(id, dir)
        }
    }

    /// Counts the filtered rows and loads the requested page (two queries).
    pub async fn fetch<E, C>(
        &self,
        conn: &C,
        q: Select<E>,
    ) -> Result<(Vec<E::Model>, u64), AppError>
    where
        E: EntityTrait,
        E::Model: Sync,
        C: ConnectionTrait,
    {
        let total = q.clone().count(conn).await?;
        let rows = q
            .offset((self.page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
            .all(conn)
            .await?;
        Ok((rows, total))
    }

    /// Loads the whole filtered set for an export, refused above [`MAX_EXPORT_ROWS`].
    pub async fn fetch_all<E, C>(&self, conn: &C, q: Select<E>) -> Result<Vec<E::Model>, AppError>
    where
        E: EntityTrait,
        E::Model: Sync,
        C: ConnectionTrait,
    {
        let rows = q.limit(MAX_EXPORT_ROWS + 1).all(conn).await?;
        if rows.len() as u64 > MAX_EXPORT_ROWS {
            return Err(AppError::invalid(
                "export",
                format!("筛选结果超过{MAX_EXPORT_ROWS}行，请缩小筛选范围后再导出"),
            ));
        }
        Ok(rows)
    }

    /// The navigation a list page shows: page links and sortable headers keeping the filters.
    pub fn nav(&self, spec: &ListSpec, total: u64) -> ListNav {
        ListNav {
            params: self.clone(),
            sorts: spec.sorts.to_vec(),
            total,
            pages: total.div_ceil(PAGE_SIZE).max(1),
            can_export: true,
        }
    }
}

fn check(f: &FilterSpec, value: &str) -> Result<String, String> {
    match f.kind {
        FilterKind::Text => {
            if value.chars().count() > MAX_KEYWORD {
                Err(format!("{}不能超过{MAX_KEYWORD}个字", f.label))
            } else {
                Ok(value.to_string())
            }
        }
        FilterKind::Year => match value.parse::<i32>() {
            Ok(y) if YEARS.contains(&y) => Ok(y.to_string()),
            _ => Err(format!("{}“{value}”无效，应为四位年份，如2026", f.label)),
        },
        FilterKind::City => match value.parse::<RegionCode>().ok().and_then(region::city) {
            Some(c) => Ok(c.code().to_string()),
            None => Err(format!(
                "{}，请从列表中选择",
                jiqun_domain::region::not_a_city(value)
            )),
        },
        FilterKind::Choice(options) => {
            let options = options();
            if options.iter().any(|o| o.0 == value) {
                Ok(value.to_string())
            } else {
                let names: Vec<&str> = options.iter().map(|o| o.1).collect();
                Err(format!(
                    "{}“{value}”无效，可选：{}",
                    f.label,
                    names.join("、")
                ))
            }
        }
    }
}

/// What a list page needs to draw its pager and sortable headers.
pub struct ListNav {
    pub params: ListParams,
    pub sorts: Vec<(&'static str, &'static str)>,
    pub total: u64,
    pub pages: u64,
    /// Whether the viewer may export the list (the 导出Excel button is shown).
    pub can_export: bool,
}

impl ListNav {
    /// The same navigation without 导出Excel, for a viewer who may not export.
    pub fn export_if(mut self, allowed: bool) -> ListNav {
        self.can_export = allowed;
        self
    }

    pub fn page(&self) -> u64 {
        self.params.page
    }

    /// The link to page `n`, keeping filters and sort.
    pub fn page_href(&self, n: u64) -> String {
        let q = self.params.query();
        let sep = if q.is_empty() { "" } else { "&" };
        format!("{}?{q}{sep}page={n}", self.params.path)
    }

    pub fn has_prev(&self) -> bool {
        self.params.page > 1
    }

    pub fn has_next(&self) -> bool {
        self.params.page < self.pages
    }

    pub fn first_href(&self) -> String {
        self.page_href(1)
    }

    pub fn prev_href(&self) -> String {
        self.page_href(self.params.page.saturating_sub(1).max(1))
    }

    pub fn next_href(&self) -> String {
        self.page_href(self.params.page + 1)
    }

    pub fn last_href(&self) -> String {
        self.page_href(self.pages)
    }

    /// The header link of a sortable column: ascending first, then the other way.
    pub fn sort_href(&self, key: &str) -> String {
        let desc = self.params.sort == key && !self.params.desc;
        format!(
            "{}?{}",
            self.params.path,
            self.params.query_with(Some((key, desc)))
        )
    }

    /// ▲ / ▼ on the column the list is sorted by.
    pub fn mark(&self, key: &str) -> &'static str {
        match (self.params.sort == key, self.params.desc) {
            (true, false) => "▲",
            (true, true) => "▼",
            _ => "",
        }
    }

    /// The export of the same filtered rows (and sort).
    pub fn export_href(&self) -> String {
        format!("{}/export.xlsx?{}", self.params.path, self.params.query())
    }

    /// The checked value of a filter, for the form to show what was asked.
    pub fn value(&self, key: &str) -> &str {
        self.params.get(key).unwrap_or_default()
    }
}

/// One list as an Excel sheet in the house style: a title row, the headers, one row per
/// record, fixed column widths.
pub fn export_xlsx(
    title: &str,
    columns: &[(&str, f64)],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, AppError> {
    use super::workbook::{column_widths, header_row, styles, xlsx_err};
    let mut wb = rust_xlsxwriter::Workbook::new();
    let st = styles();
    let ws = wb.add_worksheet();
    let sheet_name: String = title.chars().take(31).collect();
    ws.set_name(&sheet_name).map_err(xlsx_err)?;
    let headers: Vec<&str> = columns.iter().map(|c| c.0).collect();
    header_row(ws, &st, title, &headers)?;
    let widths: Vec<f64> = columns.iter().map(|c| c.1).collect();
    column_widths(ws, &widths)?;
    for (r, row) in (2u32..).zip(rows) {
        for (c, cell) in (0u16..).zip(row) {
            ws.write_string_with_format(r, c, cell, &st.cell)
                .map_err(xlsx_err)?;
        }
    }
    wb.save_to_buffer().map_err(xlsx_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds() -> Vec<(&'static str, &'static str)> {
        vec![("a", "甲"), ("b", "乙")]
    }

    const SPEC: ListSpec = ListSpec {
        path: "/things",
        filters: &[
            FilterSpec {
                key: "year",
                label: "年度",
                kind: FilterKind::Year,
            },
            FilterSpec {
                key: "city",
                label: "市州",
                kind: FilterKind::City,
            },
            FilterSpec {
                key: "kind",
                label: "类型",
                kind: FilterKind::Choice(kinds),
            },
            FilterSpec {
                key: "q",
                label: "关键字",
                kind: FilterKind::Text,
            },
        ],
        sorts: &[("name", "名称"), ("id", "编号")],
        default_desc: false,
    };

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn good_values_are_kept_and_links_keep_them() {
        let p = ListParams::parse(
            &SPEC,
            &pairs(&[
                ("year", "2026"),
                ("city", "430100"),
                ("kind", "b"),
                ("q", "机械"),
                ("sort", "-id"),
                ("page", "3"),
                ("button", ""),
            ]),
        )
        .unwrap();
        assert_eq!(p.year("year"), Some(2026));
        assert_eq!((p.sort, p.desc, p.page), ("id", true, 3));
        let nav = p.nav(&SPEC, 120);
        assert_eq!(nav.pages, 3);
        assert!(nav.page_href(2).contains("city=430100"));
        assert!(nav.page_href(2).ends_with("sort=-id&page=2"));
        assert!(nav.sort_href("name").ends_with("sort=name"));
        assert!(nav.export_href().starts_with("/things/export.xlsx?"));
    }

    #[test]
    fn bad_values_are_named_in_chinese() {
        let e = ListParams::parse(
            &SPEC,
            &pairs(&[
                ("year", "26"),
                ("city", "110100"),
                ("kind", "c"),
                ("sort", "password"),
                ("page", "0"),
            ]),
        )
        .unwrap_err();
        let fields: Vec<&str> = e.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["year", "city", "kind", "sort", "page"]);
        assert!(e.fields()[2].message.contains("甲、乙"));
        assert!(e.fields()[3].message.contains("名称（name）"));
    }
}
