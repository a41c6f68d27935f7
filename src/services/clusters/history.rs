//! A cluster's whole story in date order (第三条、第十条至第十四条): its applications, the rounds
//! it entered with their notices and results, the titles conferred (with certificate numbers, and
//! when they were superseded or revoked) and its revocation cases and decisions. Eight queries
//! whatever the length of the story; each reader sees what their scope shows elsewhere (no
//! drafts; a revocation case once its 告知书 has gone out, the province's own file before that).
//! National nominations (第十七条) and their outcomes are part of the story too.

use crate::store::id::{ClusterId, CompetitionId, DesignationId, RoundId};
use std::collections::HashMap;

use jiqun_domain::access::{Action, Resource, ScopeKind, permission};
use jiqun_domain::application::Status;
use jiqun_domain::revocation::CaseStatus;
use jiqun_domain::round::{RoundStatus, date_zh};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use time::Date;

use super::load_visible;
use crate::app::{App, Principal};
use crate::error::AppError;
use crate::store::{
    self,
    entity::{application, cluster, competition, designation, revocation_case, round, round_entry},
};

/// One dated event of a cluster's story.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEvent {
    /// YYYY-MM-DD
    pub date: String,
    /// 2026年12月4日
    pub date_zh: String,
    /// application | notice | result | designation | superseded | revoked | revocation |
    /// nomination
    pub kind: String,
    pub title: String,
    pub detail: String,
    /// The document number the event carries (certificate, 决定书), or empty.
    pub number: String,
    /// Where to read more inside the system, or empty.
    pub href: String,
}

struct Event {
    date: Date,
    /// Same-day events keep the order a story has: applied, noticed, decided, conferred, revoked.
    rank: u8,
    e: HistoryEvent,
}

fn event(date: Date, rank: u8, kind: &str, title: String, detail: String) -> Event {
    Event {
        date,
        rank,
        e: HistoryEvent {
            date: date.to_string(),
            date_zh: date_zh(date),
            kind: kind.into(),
            title,
            detail,
            number: String::new(),
            href: String::new(),
        },
    }
}

impl Event {
    fn number(mut self, number: &str) -> Event {
        self.e.number = number.into();
        self
    }

    fn href(mut self, href: String) -> Event {
        self.e.href = href;
        self
    }
}

fn day(at: time::OffsetDateTime) -> Date {
    crate::clock::local(at).date()
}

/// The cluster's story, oldest first, as the principal may see it.
pub async fn history(
    app: &App,
    p: &Principal,
    id: ClusterId,
) -> Result<Vec<HistoryEvent>, AppError> {
    let db = &app.db;
    let cl = load_visible(db, p, id).await?;
    let apps = application::Entity::find()
        .filter(application::Column::ClusterId.eq(id))
        .filter(application::Column::Status.ne(Status::Draft))
        .all(db)
        .await?;
    let entries = round_entry::Entity::find()
        .filter(round_entry::Column::ClusterId.eq(id))
        .all(db)
        .await?;
    let rounds =
        store::load_by_ids::<round::Entity>(db, entries.iter().map(|e| e.round_id)).await?;
    let competitions = store::load_by_ids::<competition::Entity>(
        db,
        apps.iter()
            .map(|a| a.competition_id)
            .chain(rounds.values().map(|r| r.competition_id)),
    )
    .await?;
    let titles = designation::Entity::find()
        .filter(designation::Column::ClusterId.eq(id))
        .all(db)
        .await?;
    let cases = match permission(p.role, Resource::Revocation, Action::View) {
        Some(scope) if sees_cases(p, scope, &cl) => revocation_case::Entity::find()
            .filter(revocation_case::Column::ClusterId.eq(id))
            .all(db)
            .await?
            .into_iter()
            .filter(|c| scope == ScopeKind::All || c.status != CaseStatus::Opened)
            .collect(),
        _ => Vec::new(),
    };
    let year = |competition_id: CompetitionId| {
        competitions
            .get(&competition_id)
            .map(|c| format!("{}年", c.year))
            .unwrap_or_default()
    };

    let mut out = Vec::new();
    for a in &apps {
        if let Some(at) = a.submitted_at {
            out.push(
                event(
                    day(at),
                    0,
                    "application",
                    format!("提交{}竞赛申报", year(a.competition_id)),
                    format!("申报当前状态：{}", a.status.label()),
                )
                .href(format!("/applications/{}", a.id)),
            );
        }
    }
    out.extend(round_events(&entries, &rounds, &year));
    let numbers: HashMap<Date, String> = titles
        .iter()
        .filter(|d| d.designation == jiqun_domain::round::Designation::Certified)
        .map(|d| (d.effective_on, d.certificate_number.clone()))
        .collect();
    let by_id: HashMap<DesignationId, String> = titles
        .iter()
        .map(|d| (d.id, d.certificate_number.clone()))
        .collect();
    for d in &titles {
        let label = crate::config::title_of(d.designation);
        let frozen = crate::services::records::Snapshot::parse(&d.snapshot).unwrap_or_default();
        // A certificate reissued after a 变更申请 continues the title; it is told as a reissue
        // on the day it was issued.
        let issued = crate::services::calendar::parse_date(&frozen.issued_on).ok();
        match issued.filter(|_| !frozen.reissue_of.is_empty()) {
            Some(on) => out.push(
                event(
                    on,
                    5,
                    "reissued",
                    format!("{label}证书换发"),
                    format!(
                        "经变更申请批准，原证书{}换发为证书{}（{}）",
                        frozen.reissue_of, d.certificate_number, frozen.cluster_name
                    ),
                )
                .number(&d.certificate_number)
                .href(format!("/certificates/{}", d.id)),
            ),
            None => out.push(
                event(
                    d.effective_on,
                    3,
                    "designation",
                    format!("被认定为{label}"),
                    format!("证书编号{}", d.certificate_number),
                )
                .number(&d.certificate_number)
                .href(format!("/certificates/{}", d.id)),
            ),
        }
        if let Some(on) = d.superseded_on {
            let by = d
                .superseded_by
                .and_then(|id| by_id.get(&id))
                .or_else(|| numbers.get(&on))
                .map(|n| format!("，换发为证书{n}"))
                .unwrap_or_default();
            out.push(
                event(
                    on,
                    4,
                    "superseded",
                    format!("{label}称号换发"),
                    format!("证书{}不再有效{by}", d.certificate_number),
                )
                .number(&d.certificate_number),
            );
        }
        if let Some(on) = d.revoked_on {
            out.push(
                event(
                    on,
                    6,
                    "revoked",
                    format!("{label}称号被撤销"),
                    format!("证书{}作废：{}", d.certificate_number, d.revoke_reason),
                )
                .number(&d.certificate_number),
            );
        }
    }
    for c in &cases {
        out.extend(case_events(c));
    }
    out.extend(change_events(db, p, &cl).await?);
    for n in crate::services::nominations::of_cluster(db, p, &cl).await? {
        out.extend(nomination_events(&n));
    }
    // 第十二条: the 授牌 of each title, and the yearly 集中公告 that listed the cluster.
    let plaques =
        crate::services::announcements::plaques_of(db, titles.iter().map(|d| d.id)).await?;
    for d in &titles {
        if let Some(pl) = plaques.get(&d.id)
            && let Ok(on) = crate::services::calendar::parse_date(&pl.presented_on)
        {
            out.push(
                event(
                    on,
                    5,
                    "plaque",
                    format!("{}授牌", crate::config::title_of(d.designation)),
                    format!("证书{}，牌匾编号{}", d.certificate_number, pl.plaque_number),
                )
                .number(&pl.plaque_number)
                .href(format!("/certificates/{}", d.id)),
            );
        }
    }
    for (year, number, on) in crate::services::announcements::listing_cluster(db, id).await? {
        out.push(
            event(
                on,
                5,
                "yearly_announcement",
                format!("列入{year}年度集中公告"),
                crate::services::announcements::title_of(year),
            )
            .number(&number)
            .href(format!("/yearly-announcements/{year}")),
        );
    }
    for (year, r) in crate::services::recheck::of_cluster(db, id).await? {
        out.extend(recheck_events(year, &r));
    }
    out.sort_by_key(|e| (e.date, e.rank));
    Ok(out.into_iter().map(|e| e.e).collect())
}

fn sees_cases(p: &Principal, scope: ScopeKind, cl: &cluster::Model) -> bool {
    match scope {
        ScopeKind::All => true,
        ScopeKind::OwnCity => p.org.city_code == Some(cl.city_code),
        ScopeKind::OwnCounty => crate::services::county_reaches(p, cl.lead_county_code),
        ScopeKind::OwnOrg => p.org.id == cl.org_id,
        ScopeKind::OwnAccount => false,
    }
}

fn round_events(
    entries: &[round_entry::Model],
    rounds: &HashMap<RoundId, round::Model>,
    year: &dyn Fn(CompetitionId) -> String,
) -> Vec<Event> {
    let mut out = Vec::new();
    for e in entries {
        let Some(r) = rounds.get(&e.round_id) else {
            continue;
        };
        let name = format!("{}{}", year(r.competition_id), r.kind.label());
        if let Some(on) = r.notice_published_on
            && e.proposed
        {
            let window = match (r.notice_first_day, r.notice_last_day) {
                (Some(f), Some(l)) => format!("，公示期{}至{}", date_zh(f), date_zh(l)),
                _ => String::new(),
            };
            out.push(
                event(
                    on,
                    1,
                    "notice",
                    format!("列入{name}拟入选名单公示"),
                    format!("公示发布{window}"),
                )
                .href(format!("/notices/{}", r.id)),
            );
        }
        if let (RoundStatus::Confirmed, Some(on)) = (r.status, r.confirmed_on) {
            let score = match (e.final_score, e.rank) {
                (Some(s), Some(k)) => format!("，最终得分{s:.2}，类内第{k}名"),
                (Some(s), None) => format!("，最终得分{s:.2}"),
                _ => String::new(),
            };
            out.push(event(
                on,
                2,
                "result",
                format!("{name}结果"),
                format!("{}{score}", e.status.label()),
            ));
        }
    }
    out
}

fn case_events(c: &revocation_case::Model) -> Vec<Event> {
    let href = format!("/revocations/{}", c.id);
    let mut out = vec![
        event(
            c.opened_on,
            5,
            "revocation",
            format!("撤销案件第{}号立案", c.id),
            format!("撤销情形：{}", c.ground_name),
        )
        .href(href.clone()),
    ];
    if let Some(on) = c.notified_on {
        out.push(
            event(
                on,
                5,
                "revocation",
                "发出撤销称号告知书".into(),
                format!(
                    "陈述申辩期限至{}",
                    c.response_last_day.map(date_zh).unwrap_or_default()
                ),
            )
            .href(href.clone()),
        );
    }
    if let Some(at) = c.responded_at {
        out.push(
            event(
                day(at),
                5,
                "revocation",
                "提交陈述申辩".into(),
                String::new(),
            )
            .href(href.clone()),
        );
    }
    if let (Some(on), Some(number)) = (c.decided_on, &c.decision_number) {
        let what = match c.status {
            CaseStatus::Revoked => "撤销",
            _ => "不予撤销",
        };
        out.push(
            event(
                on,
                5,
                "revocation",
                format!("作出{what}决定"),
                format!("决定书{number}"),
            )
            .number(number)
            .href(format!("/revocations/{}/decision", c.id)),
        );
    }
    out
}

/// The cluster's 变更申请 as the principal may see them: filed, the city's opinion, the decision.
async fn change_events<C: sea_orm::ConnectionTrait>(
    db: &C,
    p: &Principal,
    cl: &cluster::Model,
) -> Result<Vec<Event>, AppError> {
    let Some(scope) = permission(p.role, Resource::ChangeRequest, Action::View) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for r in crate::services::changes::of_cluster(db, cl.id).await? {
        let sees = match scope {
            ScopeKind::All => true,
            ScopeKind::OwnCity => p.org.city_code == Some(r.city_code),
            ScopeKind::OwnCounty => crate::services::county_reaches(p, cl.lead_county_code),
            ScopeKind::OwnOrg => p.org.id == r.org_id,
            ScopeKind::OwnAccount => false,
        };
        if !sees {
            continue;
        }
        let href = format!("/change-requests/{}", r.id);
        out.push(
            event(
                day(r.created_at),
                1,
                "change_request",
                format!("提出变更申请（第{}号）", r.id),
                r.reasons.clone(),
            )
            .href(href.clone()),
        );
        if let (Some(at), Some(agrees)) = (r.city_at, r.city_agrees) {
            out.push(
                event(
                    day(at),
                    2,
                    "change_opinion",
                    format!(
                        "市州工信局对变更申请出具意见：{}",
                        if agrees { "同意" } else { "不同意" }
                    ),
                    r.city_opinion.clone(),
                )
                .href(href.clone()),
            );
        }
        if let Some(at) = r.decided_at {
            out.push(
                event(
                    day(at),
                    4,
                    "change_decision",
                    format!("省工信厅{}", r.status.label()),
                    r.decision_reasons.clone(),
                )
                .href(href),
            );
        }
    }
    Ok(out)
}

/// 第十七条 择优推荐: the nomination, and the national outcome once recorded.
fn nomination_events(n: &crate::services::nominations::NominationRow) -> Vec<Event> {
    let href = format!("/nominations?year={}", n.year);
    let mut out = Vec::new();
    if let Ok(on) = crate::services::calendar::parse_date(&n.nominated_on) {
        out.push(
            event(
                on,
                7,
                "nomination",
                format!("推荐申报{}年国家级先进制造业集群", n.year),
                format!("推荐文号{}", n.document_number),
            )
            .number(&n.document_number)
            .href(href.clone()),
        );
    }
    if let Ok(on) = crate::services::calendar::parse_date(&n.outcome_on) {
        out.push(
            event(
                on,
                7,
                "nomination",
                format!(
                    "{}年国家级先进制造业集群评选结果：{}",
                    n.year, n.outcome_label
                ),
                format!("结果文号{}", n.outcome_document),
            )
            .number(&n.outcome_document)
            .href(href),
        );
    }
    out
}

/// 复核 (第十四条): the call's listing, the submission and the confirmed result.
fn recheck_events(year: i32, r: &crate::store::entity::recheck::Model) -> Vec<Event> {
    use jiqun_domain::recheck::Status as S;
    let href = format!("/rechecks/{}", r.id);
    let mut out = Vec::new();
    if let Some(at) = r.submitted_at {
        out.push(
            event(
                day(at),
                7,
                "recheck",
                format!("提交{year}年复核材料"),
                format!("证书编号{}", r.certificate_number),
            )
            .href(href.clone()),
        );
    }
    if let Some(on) = r.confirmed_on {
        let detail = match r.status {
            S::Passed => format!(
                "专家组评分{}分；下次复核到期日{}",
                r.score.unwrap_or_default(),
                r.next_due_on.map(date_zh).unwrap_or_default()
            ),
            S::Failed => format!(
                "专家组评分{}分，未通过复核，已立案撤销",
                r.score.unwrap_or_default()
            ),
            _ => "逾期未提交复核材料，已立案撤销".to_string(),
        };
        out.push(
            event(
                on,
                7,
                "recheck",
                format!("{year}年复核：{}", r.status.label()),
                detail,
            )
            .number(&r.certificate_number)
            .href(href),
        );
    }
    out
}
