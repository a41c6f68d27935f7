//! The Excel exports of a round's score sheets and ranking, each audited: the province's, and a
//! city bureau's for its own competition's rounds.

use crate::store::id::{ApplicationId, RoundId};
use jiqun_domain::access::{Action, Resource};
use jiqun_domain::review::CriterionLimit;
use jiqun_rules::Policy;

use super::{Calc, calculate, view};
use crate::app::{App, Principal};
use crate::audit::{self, Event};
use crate::error::AppError;
use crate::services::authorize;
use crate::services::rounds;
use crate::services::scoring::{self, round_label, scores_of};
use crate::services::workbook::{excel_time, header_row, styles, xlsx_err};

/// A round loaded for export by its organiser's side — the province, or a city bureau for the
/// rounds of a competition its city organises (第十六条; another city's round is not found) —
/// with the export audited.
async fn for_export(
    app: &App,
    p: &Principal,
    round_id: RoundId,
    what: &'static str,
) -> Result<Calc, AppError> {
    authorize(p, Resource::Round, Action::Export)?;
    scoring::organiser_wide(p, Action::Export)?;
    let r = rounds::load(&app.db, p, round_id).await?;
    let calc = calculate(&app.db, r).await?;
    audit::record_export(
        app,
        p,
        Event {
            action: if what == "scores" {
                "score.export"
            } else {
                "ranking.export"
            },
            object_type: "round",
            object_id: calc.round.id.to_string(),
            summary: format!(
                "导出{}{}（Excel）",
                round_label(&calc.competition, &calc.round),
                if what == "scores" {
                    "评分表"
                } else {
                    "排名"
                }
            ),
            reason: String::new(),
        },
    )
    .await?;
    Ok(calc)
}

/// A criterion's maximum as a header says it: 满分20分, or each kind's own when the policy gives
/// the kinds different maxima (满分：优势产业集群20分／特色产业集群15分).
fn maxima_of(policy: &Policy, c: &CriterionLimit) -> String {
    let Some(criterion) = policy.criteria.iter().find(|x| x.key == c.key) else {
        return format!("满分{}分", c.max_score);
    };
    let per_kind: Vec<(&str, u32)> = policy
        .cluster_kinds
        .iter()
        .map(|k| (k.name.as_str(), criterion.max_score_for(&k.key)))
        .collect();
    match per_kind.first() {
        Some((_, first)) if per_kind.iter().any(|(_, m)| m != first) => format!(
            "满分：{}",
            per_kind
                .iter()
                .map(|(name, m)| format!("{name}{m}分"))
                .collect::<Vec<_>>()
                .join("／")
        ),
        Some((_, first)) => format!("满分{first}分"),
        None => format!("满分{}分", c.max_score),
    }
}

/// The header row of the score-sheet workbook.
pub fn scores_headers(policy: &Policy, criteria: &[CriterionLimit]) -> Vec<String> {
    let mut h: Vec<String> = ["序号", "集群类型", "参赛集群", "申报主体", "评审专家"]
        .map(String::from)
        .to_vec();
    h.extend(
        criteria
            .iter()
            .map(|c| format!("{}（{}）", c.name, maxima_of(policy, c))),
    );
    h.extend(["合计", "评审意见", "状态", "提交时间"].map(String::from));
    h
}

/// Every score sheet of a round as an .xlsx workbook (「评分表」): one row per active
/// assignment, scores as numbers. Returns the bytes and the download name.
pub async fn scores_xlsx(
    app: &App,
    p: &Principal,
    round_id: RoundId,
) -> Result<(Vec<u8>, String), AppError> {
    let calc = for_export(app, p, round_id, "scores").await?;
    let st = styles();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("评分表").map_err(xlsx_err)?;
    let label = round_label(&calc.competition, &calc.round);
    let headers = scores_headers(&calc.policy, &calc.criteria);
    header_row(ws, &st, &format!("{label}专家评分表"), &headers)?;
    for (col, w) in (0u16..).zip(headers.iter()) {
        let width = match col {
            0 => 6.0,
            2 | 3 => 28.0,
            _ if w == "评审意见" => 40.0,
            _ => 14.0,
        };
        ws.set_column_width(col, width).map_err(xlsx_err)?;
    }
    let active = rounds::active_assignments(&app.db, calc.round.id).await?;
    let mut row = 2u32;
    for r in &calc.ranked {
        let Some(e) = calc.entry_by_app(ApplicationId::new(r.application_id)) else {
            continue;
        };
        for a in active.iter().filter(|a| a.entry_id == e.entry.id) {
            let sheet = calc.sheets.iter().find(|s| s.assignment_id == a.id);
            let scores = sheet.map(scores_of).unwrap_or_default();
            ws.write_number_with_format(row, 0, f64::from(row - 1), &st.cell)
                .map_err(xlsx_err)?;
            let kind = calc
                .policy
                .cluster_kind(&e.entry.cluster_kind)
                .map(|k| k.name.clone())
                .unwrap_or_default();
            ws.write_string_with_format(row, 1, &kind, &st.cell)
                .map_err(xlsx_err)?;
            ws.write_string_with_format(row, 2, &e.cluster_name, &st.wrap)
                .map_err(xlsx_err)?;
            ws.write_string_with_format(row, 3, &e.org_name, &st.wrap)
                .map_err(xlsx_err)?;
            let name = calc.names.get(&a.expert_id).cloned().unwrap_or_default();
            ws.write_string_with_format(row, 4, &name, &st.cell)
                .map_err(xlsx_err)?;
            let mut col = 5u16;
            for c in &calc.criteria {
                match scores.get(&c.key) {
                    Some(v) => ws.write_number_with_format(row, col, *v, &st.number),
                    None => ws.write_blank(row, col, &st.cell),
                }
                .map_err(xlsx_err)?;
                col += 1;
            }
            match sheet.and_then(|s| s.total) {
                Some(t) => ws.write_number_with_format(row, col, t, &st.number),
                None => ws.write_blank(row, col, &st.cell),
            }
            .map_err(xlsx_err)?;
            let comment = sheet.map(|s| s.comment.clone()).unwrap_or_default();
            ws.write_string_with_format(row, col + 1, &comment, &st.wrap)
                .map_err(xlsx_err)?;
            let status = sheet.map_or(scoring::NOT_STARTED, |s| s.status.key());
            ws.write_string_with_format(
                row,
                col + 2,
                scoring::sheet_status_label(status),
                &st.cell,
            )
            .map_err(xlsx_err)?;
            match sheet.and_then(|s| s.submitted_at) {
                Some(at) => ws.write_datetime_with_format(row, col + 3, excel_time(at)?, &st.when),
                None => ws.write_blank(row, col + 3, &st.cell),
            }
            .map_err(xlsx_err)?;
            row += 1;
        }
    }
    let bytes = wb.save_to_buffer().map_err(xlsx_err)?;
    Ok((bytes, format!("评分表-{label}.xlsx")))
}

/// The header row of the ranking workbook.
pub fn ranking_headers(criteria: &[CriterionLimit]) -> Vec<String> {
    let mut h: Vec<String> = [
        "集群类型",
        "排名",
        "参赛集群",
        "区域",
        "申报主体",
        "牵头县（市、区）",
        "最终得分",
        "书面评审得分",
        "答辩得分",
    ]
    .map(String::from)
    .to_vec();
    h.extend(criteria.iter().map(|c| format!("{}平均分", c.name)));
    h.extend(
        [
            "各专家总分",
            "去掉的最低分",
            "去掉的最高分",
            "异常评分提示",
            "是否拟入选",
            "说明",
        ]
        .map(String::from),
    );
    h
}

/// The ranking of a round as an .xlsx workbook (「排名」): per kind in rank order, the scores as
/// numbers, the dropped totals and outlier notes, and whether each entrant is proposed.
pub async fn ranking_xlsx(
    app: &App,
    p: &Principal,
    round_id: RoundId,
) -> Result<(Vec<u8>, String), AppError> {
    let calc = for_export(app, p, round_id, "ranking").await?;
    let v = view(&calc, p, Vec::new())?;
    let st = styles();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("排名").map_err(xlsx_err)?;
    let label = round_label(&calc.competition, &calc.round);
    let headers = ranking_headers(&calc.criteria);
    header_row(ws, &st, &format!("{label}评审排名"), &headers)?;
    for (col, h) in (0u16..).zip(headers.iter()) {
        let width = match h.as_str() {
            "参赛集群" | "申报主体" | "各专家总分" => 28.0,
            "异常评分提示" | "说明" => 40.0,
            "排名" => 6.0,
            _ => 12.0,
        };
        ws.set_column_width(col, width).map_err(xlsx_err)?;
    }
    let mut row = 2u32;
    for k in &v.kinds {
        for r in &k.rows {
            let mut col = 0u16;
            let text = |ws: &mut rust_xlsxwriter::Worksheet, s: &str, col: &mut u16| {
                let res = ws
                    .write_string_with_format(row, *col, s, &st.wrap)
                    .map(|_| ());
                *col += 1;
                res.map_err(xlsx_err)
            };
            text(ws, &k.kind_label, &mut col)?;
            ws.write_number_with_format(row, col, f64::from(r.rank), &st.cell)
                .map_err(xlsx_err)?;
            col += 1;
            text(ws, &r.cluster_name, &mut col)?;
            // The policy's grouping (长株潭), beside the cluster.
            text(ws, &r.groupings.join("、"), &mut col)?;
            text(ws, &r.org_name, &mut col)?;
            text(ws, &r.county_name, &mut col)?;
            for n in [Some(r.final_score), Some(r.written_mean), r.defence_mean]
                .into_iter()
                .chain(r.criterion_means.iter().map(|m| Some(*m)))
            {
                match n {
                    Some(x) => ws.write_number_with_format(row, col, x, &st.number),
                    None => ws.write_blank(row, col, &st.cell),
                }
                .map_err(xlsx_err)?;
                col += 1;
            }
            let totals: Vec<String> = r
                .written
                .iter()
                .map(|w| format!("{} {}", w.expert_name, w.total_text()))
                .collect();
            text(ws, &totals.join("；"), &mut col)?;
            for mark in ["low", "high"] {
                match r.written.iter().find(|w| w.dropped == mark) {
                    Some(w) => ws.write_number_with_format(row, col, w.total, &st.number),
                    None => ws.write_blank(row, col, &st.cell),
                }
                .map_err(xlsx_err)?;
                col += 1;
            }
            text(ws, &r.outliers.join("；"), &mut col)?;
            let proposed = if r.tied_at_cut && !v.fixed {
                "并列待定"
            } else if r.proposed {
                "是"
            } else {
                "否"
            };
            text(ws, proposed, &mut col)?;
            text(ws, &r.decision_note, &mut col)?;
            row += 1;
        }
    }
    let bytes = wb.save_to_buffer().map_err(xlsx_err)?;
    Ok((bytes, format!("评审排名-{label}.xlsx")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUNAN: &str = include_str!("../../../policies/hunan-2021.toml");

    fn headers(text: &str) -> Vec<String> {
        let policy = Policy::parse(text, "test").unwrap();
        scores_headers(&policy, &crate::services::scoring::limits(&policy))
    }

    #[test]
    fn a_criterion_with_one_maximum_says_it_once() {
        let h = headers(HUNAN);
        let first = &h[5];
        assert!(first.ends_with("分）"), "{first}");
        assert!(first.contains("（满分"), "{first}");
        assert!(!first.contains('／'), "{first}");
    }

    #[test]
    fn kinds_with_their_own_maxima_are_named_in_the_header() {
        let policy = Policy::parse(HUNAN, "test").unwrap();
        // 特色 clusters: 5 points moved from the first criterion to the second (the total holds).
        let (c, d) = (&policy.criteria[0], &policy.criteria[1]);
        let mut edited = HUNAN.to_string();
        for (x, max) in [(c, c.max_score - 5), (d, d.max_score + 5)] {
            edited = edited.replacen(
                &format!("key = \"{}\"", x.key),
                &format!(
                    "key = \"{}\"\nmax_score_by_kind = {{ specialty = {max} }}",
                    x.key
                ),
                1,
            );
        }
        let h = headers(&edited);
        assert_eq!(
            h[5],
            format!(
                "{}（满分：优势产业集群{}分／特色产业集群{}分）",
                c.name,
                c.max_score,
                c.max_score - 5
            )
        );
        assert!(h[6].contains('／'), "{}", h[6]);
        assert!(!h[7].contains('／'), "{}", h[7]);
    }
}
