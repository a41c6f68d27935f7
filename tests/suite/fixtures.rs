//! Fixtures shared by the round, scoring, notice and whole-round tests: the demo accounts as
//! principals of the services, the test clock in Beijing time, a round of the showcase
//! competition opened and staffed, calls on a round, the error bodies, the pages, and lookups
//! of what each step stored.

use jiqun::store::id::{
    ApplicationId, AssignmentId, CompetitionId, EntryId, ExpertId, RoundId, UserId,
};
use std::collections::BTreeMap;

use jiqun::app::Principal;
use jiqun::clock::datetime_local_value;
use jiqun::demo::Showcase;
use jiqun::services::rounds::{self, AssignOutcome, OpenRoundInput};
use jiqun::services::scoring::{self, SheetInput};
use jiqun::store::entity::{
    application, assignment, audit_entry, designation, expert, organisation, round, round_entry,
    score_sheet, user,
};
use sea_orm::sea_query::SimpleExpr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;
use serde_json::{Value, json};
use time::macros::{date, offset};
use time::{Date, Duration};

use crate::support::TestApp;
use crate::{call, token};

/// The showcase competition's entrants, in showcase order, and the 长沙 applicant.
pub const CHANGSHA: &str = "长沙工程机械产业集群";
pub const CHANGSHA_ORG: &str = "长沙工程机械产业集群促进会";
pub const ZHUZHOU: &str = "株洲轨道交通装备产业集群";
pub const YUEYANG: &str = "岳阳石化产业集群";

/// The demo expert accounts, all in the pool; `expert` (赵教授) works in 长沙.
pub const EXPERTS: [&str; 6] = [
    "expert", "expert2", "expert3", "expert4", "expert5", "expert6",
];

// ---------------------------------------------------------------------------------------------
// The demo accounts

/// The demo account as a principal of the services.
pub async fn principal(t: &TestApp, username: &str) -> Principal {
    let u = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(&t.app.db)
        .await
        .expect("user query")
        .unwrap_or_else(|| panic!("no user {username}"));
    let org = organisation::Entity::find_by_id(u.org_id)
        .one(&t.app.db)
        .await
        .expect("org query")
        .expect("org");
    Principal {
        role: u.role,
        user: u,
        org,
        client_addr: "127.0.0.1".into(),
    }
}

pub async fn user_id(t: &TestApp, username: &str) -> UserId {
    principal(t, username).await.user.id
}

/// The pool id of a demo expert account.
pub async fn expert_id(t: &TestApp, username: &str) -> ExpertId {
    let user_id = user_id(t, username).await;
    expert::Entity::find()
        .filter(expert::Column::UserId.eq(user_id))
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("pool entry")
        .id
}

/// Pool ids of the demo experts, by username.
pub async fn expert_ids(t: &TestApp) -> BTreeMap<String, ExpertId> {
    let mut out = BTreeMap::new();
    for e in expert::Entity::find().all(&t.app.db).await.unwrap() {
        out.insert(username_by_user(t, e.user_id).await, e.id);
    }
    out
}

/// The demo username of an expert by pool id.
pub async fn username_of(t: &TestApp, expert_id: ExpertId) -> String {
    let e = expert::Entity::find_by_id(expert_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("pool entry");
    username_by_user(t, e.user_id).await
}

async fn username_by_user(t: &TestApp, user_id: UserId) -> String {
    user::Entity::find_by_id(user_id)
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("user")
        .username
}

/// Every pool id.
pub async fn pool(t: &TestApp) -> Vec<ExpertId> {
    expert::Entity::find()
        .all(&t.app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The clock

/// Moves the server clock to 09:00 Beijing time on `day`. Only before anyone signs in, or
/// forwards: a second-factor code is accepted once, so time must not run back past a login.
pub fn set_day(t: &TestApp, day: Date) {
    let target = day
        .with_hms(9, 0, 0)
        .expect("time")
        .assume_offset(offset!(+8));
    let now = t.app.clock.now();
    t.app.clock.advance(target - now);
}

pub fn today(t: &TestApp) -> Date {
    jiqun::clock::local(t.app.clock.now()).date()
}

/// Forwards to 09:00 on `day` (a later day).
pub fn forward_to(t: &TestApp, day: Date) {
    assert!(day > today(t), "{day} is not later than {}", today(t));
    set_day(t, day);
}

/// Beijing time "YYYY-MM-DDTHH:MM", `offset` from the test clock's now, as the forms send it.
pub fn local_in(t: &TestApp, offset: Duration) -> String {
    datetime_local_value(t.app.clock.now() + offset)
}

// ---------------------------------------------------------------------------------------------
// Opening a round of the showcase competition

/// What the province asks for when it opens a round: one leading place and one specialty
/// place, the scoring window relative to the test clock.
pub struct RoundPlan {
    pub kind: &'static str,
    pub experts: u32,
    pub note: &'static str,
    pub opens_in: Duration,
    pub closes_in: Duration,
    pub defence: bool,
}

impl RoundPlan {
    /// Scoring opens tomorrow and closes in a fortnight, without a defence.
    pub fn new(kind: &'static str, experts: u32, note: &'static str) -> Self {
        Self {
            kind,
            experts,
            note,
            opens_in: Duration::days(1),
            closes_in: Duration::days(15),
            defence: false,
        }
    }

    pub fn input(&self, t: &TestApp) -> OpenRoundInput {
        OpenRoundInput {
            kind: self.kind.into(),
            experts_per_application: self.experts,
            panel_note: self.note.into(),
            quotas: [("leading".to_string(), 1), ("specialty".to_string(), 1)].into(),
            scoring_opens_at: local_in(t, self.opens_in),
            scoring_closes_at: local_in(t, self.closes_in),
            defence: self.defence,
            materials_due: String::new(),
        }
    }

    /// The same as the API takes it.
    pub fn json(&self, t: &TestApp) -> Value {
        json!(self.input(t))
    }
}

/// The showcase competition: three recommended applications (长沙, 株洲, 岳阳).
pub async fn showcase(t: &TestApp) -> Showcase {
    jiqun::demo::seed_showcase(t.app())
        .await
        .expect("showcase competition")
}

/// Seeds the showcase and opens a round of it through the services, as the province.
pub async fn open_showcase_round(t: &TestApp, plan: &RoundPlan) -> (Showcase, round::Model) {
    let show = showcase(t).await;
    let province = principal(t, "province").await;
    let r = rounds::open_round(t.app(), &province, show.competition_id, &plan.input(t))
        .await
        .expect("open round");
    (show, r)
}

/// Puts the whole pool on the round's panel and assigns automatically, through the services.
pub async fn staff_round(t: &TestApp, round_id: RoundId) -> AssignOutcome {
    let province = principal(t, "province").await;
    let pool = pool(t).await;
    assert_eq!(pool.len(), EXPERTS.len(), "the demo pool");
    rounds::set_panel(t.app(), &province, round_id, &pool, &[])
        .await
        .expect("panel");
    rounds::auto_assign(t.app(), &province, round_id)
        .await
        .expect("auto-assign")
}

/// `method` on `/api/v1/rounds/{round}/{action}`.
pub async fn on_round(
    t: &TestApp,
    tok: &str,
    method: &str,
    round: impl std::fmt::Display,
    action: &str,
    body: Option<Value>,
) -> (u16, Value) {
    call(
        t,
        tok,
        method,
        &format!("/api/v1/rounds/{round}/{action}"),
        body,
    )
    .await
}

/// POSTs `action` ("register", "dismiss", "uphold") on an objection, with the reply.
pub async fn on_objection(
    t: &TestApp,
    tok: &str,
    objection: impl std::fmt::Display,
    action: &str,
    body: Value,
) -> (u16, Value) {
    call(
        t,
        tok,
        "POST",
        &format!("/api/v1/objections/{objection}/{action}"),
        Some(body),
    )
    .await
}

/// The province fixes the round's proposed list.
pub async fn propose(t: &TestApp, tok: &str, round: i64, body: Value) -> (u16, Value) {
    on_round(t, tok, "POST", round, "propose", Some(body)).await
}

/// Publishes the round's proposed list for public notice, as the province.
pub async fn publish(t: &TestApp, round_id: RoundId) -> Value {
    let province = token(t, "province").await;
    let (status, body) = on_round(
        t,
        &province,
        "POST",
        round_id,
        "notice",
        Some(json!({"notice_text": "现将拟入选名单予以公示。"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// An entrant of a round as the API shows it, by cluster name.
pub fn entrant<'a>(round: &'a Value, cluster: &str) -> &'a Value {
    round["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["cluster_name"] == cluster)
        .unwrap_or_else(|| panic!("no entrant {cluster} in {round}"))
}

// ---------------------------------------------------------------------------------------------
// A round scored through the services

/// The criteria of the shipped policy, in order, with their maxima.
pub const CRITERIA: [(&str, f64); 6] = [
    ("industry_character", 15.0),
    ("scale_and_benefit", 25.0),
    ("collaborative_innovation", 20.0),
    ("governance", 15.0),
    ("factor_agglomeration", 15.0),
    ("openness", 10.0),
];

/// A complete sheet adding up to `total`: full marks, less the shortfall taken from the first
/// criteria.
pub fn scores_for(total: f64) -> BTreeMap<String, f64> {
    let mut short = 100.0 - total;
    CRITERIA
        .iter()
        .map(|(key, max)| {
            let taken = short.min(*max);
            short -= taken;
            ((*key).to_string(), ((max - taken) * 10.0).round() / 10.0)
        })
        .collect()
}

pub fn scores_json(total: f64) -> Value {
    json!(scores_for(total))
}

/// A 初赛 of the showcase: 5 experts per entrant out of the six in the pool (one leading place,
/// one specialty place), every expert on the panel, assigned automatically, scoring opened.
pub struct ScoringRound {
    pub id: RoundId,
    /// 长沙 (leading), 株洲 (leading), 岳阳 (specialty).
    pub entries: Vec<round_entry::Model>,
    pub opens: time::OffsetDateTime,
    pub closes: time::OffsetDateTime,
}

pub async fn scoring_round(
    t: &TestApp,
    opens_in: Duration,
    closes_in: Duration,
    defence: bool,
) -> ScoringRound {
    let plan = RoundPlan {
        opens_in,
        closes_in,
        defence,
        ..RoundPlan::new("preliminary", 5, "")
    };
    let (show, r) = open_showcase_round(t, &plan).await;
    let out = staff_round(t, r.id).await;
    assert!(out.shortfalls.is_empty(), "{out:?}");
    let province = principal(t, "province").await;
    rounds::open_scoring(&t.app, &province, r.id)
        .await
        .expect("open scoring");
    let r = stored_round(t, r.id).await;
    let mut entries = rounds::entries(&t.app.db, r.id).await.unwrap();
    entries.sort_by_key(|e| {
        show.application_ids
            .iter()
            .position(|a| *a == e.application_id)
    });
    ScoringRound {
        id: r.id,
        entries,
        opens: r.scoring_opens_at,
        closes: r.scoring_closes_at,
    }
}

/// The active assignments of an entry: (assignment id, expert username), by expert id.
pub async fn panel_of(t: &TestApp, entry_id: EntryId) -> Vec<(AssignmentId, String)> {
    let mut list = assignment::Entity::find()
        .filter(assignment::Column::EntryId.eq(entry_id))
        .filter(assignment::Column::RecusedAt.is_null())
        .all(&t.app.db)
        .await
        .unwrap();
    list.sort_by_key(|a| a.expert_id);
    let mut out = Vec::new();
    for a in list {
        out.push((a.id, username_of(t, a.expert_id).await));
    }
    out
}

/// Submits a sheet through the service, as the expert would.
pub async fn submit(t: &TestApp, assignment_id: AssignmentId, username: &str, total: f64) {
    let p = principal(t, username).await;
    let input = SheetInput {
        scores: scores_for(total),
        comment: format!("总体评价：{total}分"),
        version: 0,
    };
    scoring::save(&t.app, &p, assignment_id, Some(&input), true)
        .await
        .unwrap_or_else(|e| panic!("submit {assignment_id} by {username}: {e:?}"));
}

/// Every expert of an entry submits, with these totals in expert-id order.
pub async fn score_entry(t: &TestApp, entry_id: EntryId, totals: &[f64]) {
    let panel = panel_of(t, entry_id).await;
    assert_eq!(panel.len(), totals.len());
    for ((id, who), total) in panel.iter().zip(totals) {
        submit(t, *id, who, *total).await;
    }
}

/// Every expert of each entrant submits: `totals[i]` for `round.entries[i]`, in expert-id order.
pub async fn score_all(t: &TestApp, round: &ScoringRound, totals: [&[f64]; 3]) {
    for (entry, totals) in round.entries.iter().zip(totals) {
        score_entry(t, entry.id, totals).await;
    }
}

/// The sheet of an assignment.
pub async fn stored_sheet(t: &TestApp, assignment_id: AssignmentId) -> score_sheet::Model {
    score_sheet::Entity::find()
        .filter(score_sheet::Column::AssignmentId.eq(assignment_id))
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("score sheet")
}

// ---------------------------------------------------------------------------------------------
// A round on public notice

/// A 决赛 of the competition of `prelim` whose proposed list is fixed with `entrant` alone (its
/// opening and scoring are tested elsewhere, so the round and its entry are written directly).
pub async fn final_round_proposing(
    t: &TestApp,
    prelim: &round::Model,
    entrant: &round_entry::Model,
) -> round::Model {
    let now = t.app.clock.now();
    let fin = round::ActiveModel {
        competition_id: Set(prelim.competition_id),
        kind: Set(jiqun_domain::round::RoundKind::Final),
        status: Set(jiqun_domain::round::RoundStatus::Proposed),
        experts_per_application: Set(5),
        panel_note: Set(String::new()),
        quotas: Set(r#"{"leading":1}"#.into()),
        scoring_opens_at: Set(now),
        scoring_closes_at: Set(now),
        defence: Set(false),
        notice_text: Set(String::new()),
        notice_published_on: Set(None),
        notice_first_day: Set(None),
        notice_last_day: Set(None),
        confirmed_on: Set(None),
        created_by: Set(prelim.created_by),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
    round_entry::ActiveModel {
        round_id: Set(fin.id),
        application_id: Set(entrant.application_id),
        cluster_id: Set(entrant.cluster_id),
        cluster_kind: Set(entrant.cluster_kind.clone()),
        city_code: Set(entrant.city_code),
        county_code: Set(entrant.county_code),
        status: Set(jiqun_domain::application::Status::Shortlisted),
        final_score: Set(Some(90.0)),
        rank: Set(Some(1)),
        proposed: Set(true),
        decision_note: Set(String::new()),
        version: Set(1),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&t.app.db)
    .await
    .unwrap();
    fin
}

/// A 初赛 whose proposed list is fixed: 长沙 (leading, rank 1) and 岳阳 (specialty, rank 1)
/// shortlisted, 株洲 (leading, rank 2) not selected — what scoring and ranking leave behind,
/// written directly since that part is built elsewhere.
pub struct ProposedRound {
    pub round_id: RoundId,
    /// Entries in showcase order: 长沙, 株洲, 岳阳.
    pub entries: Vec<round_entry::Model>,
    pub applications: Vec<ApplicationId>,
}

pub async fn proposed_round(t: &TestApp) -> ProposedRound {
    let plan = RoundPlan {
        opens_in: Duration::days(-20),
        closes_in: Duration::days(-5),
        ..RoundPlan::new("preliminary", 5, "")
    };
    let (show, r) = open_showcase_round(t, &plan).await;
    let mut active: round::ActiveModel = r.clone().into();
    active.status = Set(jiqun_domain::round::RoundStatus::Proposed);
    active.update(&t.app.db).await.unwrap();
    let mut entries = Vec::new();
    for (i, app_id) in show.application_ids.iter().enumerate() {
        let e = round_entry::Entity::find()
            .filter(round_entry::Column::RoundId.eq(r.id))
            .filter(round_entry::Column::ApplicationId.eq(*app_id))
            .one(&t.app.db)
            .await
            .unwrap()
            .expect("entry");
        let (status, rank, score, proposed) = match i {
            0 => ("shortlisted", 1, 88.5, true),
            1 => ("not_selected", 2, 80.25, false),
            _ => ("shortlisted", 1, 85.0, true),
        };
        let mut active: round_entry::ActiveModel = e.into();
        active.status = Set(jiqun_domain::application::Status::from_key(status).unwrap());
        active.rank = Set(Some(rank));
        active.final_score = Set(Some(score));
        active.proposed = Set(proposed);
        entries.push(active.update(&t.app.db).await.unwrap());
        let a = application::Entity::find_by_id(*app_id)
            .one(&t.app.db)
            .await
            .unwrap()
            .unwrap();
        let mut active: application::ActiveModel = a.into();
        active.status = Set(jiqun_domain::application::Status::from_key(status).unwrap());
        active.update(&t.app.db).await.unwrap();
    }
    ProposedRound {
        round_id: r.id,
        entries,
        applications: show.application_ids,
    }
}

/// The proposed round, published for public notice at 09:00 on `day`.
pub async fn published_round(t: &TestApp, day: Date) -> ProposedRound {
    set_day(t, day);
    let f = proposed_round(t).await;
    publish(t, f.round_id).await;
    f
}

/// The proposed round published on Friday 27 November 2026 and confirmed after its window
/// (the Thursday after), with no objections.
pub async fn confirmed_round(t: &TestApp) -> ProposedRound {
    let f = published_round(t, date!(2026 - 11 - 27)).await;
    forward_to(t, date!(2026 - 12 - 04));
    let province = token(t, "province").await;
    let (status, v) = on_round(t, &province, "POST", f.round_id, "confirm", None).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["designations"].as_array().unwrap().len(), 2);
    f
}

// ---------------------------------------------------------------------------------------------
// Error bodies

/// The message against one field of a refusal, or "".
pub fn field_message(body: &Value, field: &str) -> String {
    body["error"]["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["field"] == field))
        .and_then(|f| f["message"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Every (field, message) of a refusal, in order.
pub fn field_messages(body: &Value) -> Vec<(String, String)> {
    body["error"]["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| {
                    (
                        f["field"].as_str().unwrap_or_default().to_string(),
                        f["message"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The message of a refusal, or "".
pub fn error_message(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// What the steps stored

/// The audit entries of exactly this action.
pub async fn audited(t: &TestApp, action: &str) -> Vec<audit_entry::Model> {
    audit_entries(t, audit_entry::Column::Action.eq(action)).await
}

/// The audit entries whose action starts with `prefix` ("objection.").
pub async fn audited_under(t: &TestApp, prefix: &str) -> Vec<audit_entry::Model> {
    audit_entries(t, audit_entry::Column::Action.starts_with(prefix)).await
}

/// In the order they were recorded (PostgreSQL returns rows in no particular order otherwise).
async fn audit_entries(t: &TestApp, action: SimpleExpr) -> Vec<audit_entry::Model> {
    audit_entry::Entity::find()
        .filter(action)
        .order_by_asc(audit_entry::Column::Seq)
        .all(&t.app.db)
        .await
        .unwrap()
}

pub async fn stored_round(t: &TestApp, id: RoundId) -> round::Model {
    round::Entity::find_by_id(id)
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("round")
}

pub async fn stored_entry(t: &TestApp, id: EntryId) -> round_entry::Model {
    round_entry::Entity::find_by_id(id)
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("round entry")
}

/// A designation by its certificate number.
pub async fn designation_numbered(t: &TestApp, number: &str) -> designation::Model {
    designation::Entity::find()
        .filter(designation::Column::CertificateNumber.eq(number))
        .one(&t.app.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no designation {number}"))
}

pub async fn application_status(t: &TestApp, id: ApplicationId) -> String {
    application::Entity::find_by_id(id)
        .one(&t.app.db)
        .await
        .unwrap()
        .expect("application")
        .status
        .key()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Pages

/// GETs a page with a browser session: (status, body).
pub async fn get_page(client: &reqwest::Client, t: &TestApp, path: &str) -> (u16, String) {
    let res = client.get(t.url(path)).send().await.expect("page");
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default())
}

/// What a browser was answered.
pub struct Answer {
    pub status: u16,
    /// Where it is sent on (`location`), or "".
    pub location: String,
    pub body: String,
}

/// POSTs a form with a browser session.
pub async fn post_page<F: Serialize + ?Sized>(
    client: &reqwest::Client,
    t: &TestApp,
    path: &str,
    form: &F,
) -> Answer {
    let res = client
        .post(t.url(path))
        .form(form)
        .send()
        .await
        .expect("post");
    answer(res).await
}

pub async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = res.text().await.unwrap_or_default();
    Answer {
        status,
        location,
        body,
    }
}

// ---------------------------------------------------------------------------------------------
// A round set up through the API

/// Opens a 初赛 of the showcase through the API with `k` experts per entrant (a reason given
/// when below the policy's 5) and returns the round as the API shows it.
pub async fn open_preliminary(
    t: &TestApp,
    province: &str,
    competition: CompetitionId,
    k: u32,
) -> Value {
    let note = if k < 5 {
        "专家资源有限，经处务会研究"
    } else {
        ""
    };
    let (status, round) = call(
        t,
        province,
        "POST",
        &format!("/api/v1/competitions/{competition}/rounds"),
        Some(RoundPlan::new("preliminary", k, note).json(t)),
    )
    .await;
    assert_eq!(status, 200, "{round}");
    round
}

/// Adds experts to the round's panel through the API.
pub async fn set_panel(t: &TestApp, province: &str, round: i64, add: &[i64]) -> Value {
    let (status, v) = on_round(
        t,
        province,
        "PUT",
        round,
        "panel",
        Some(json!({"add": add, "remove": []})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

/// A fresh server with a 初赛 of the showcase opened through the API by the province, no panel
/// yet.
pub struct ApiRound {
    pub t: TestApp,
    pub show: Showcase,
    /// The province's bearer token.
    pub province: String,
    /// The round as the API showed it when opened.
    pub view: Value,
    pub id: i64,
    /// Pool ids by username.
    pub ids: BTreeMap<String, i64>,
}

pub async fn api_round(k: u32) -> ApiRound {
    let t = crate::support::spawn().await;
    let show = showcase(&t).await;
    let province = token(&t, "province").await;
    let view = open_preliminary(&t, &province, show.competition_id, k).await;
    let id = view["round"]["id"].as_i64().unwrap();
    let ids = expert_ids(&t)
        .await
        .into_iter()
        .map(|(name, id)| (name, id.get()))
        .collect();
    ApiRound {
        t,
        show,
        province,
        view,
        id,
        ids,
    }
}
