//! Scale data for measurement (`jiqun demo --scale N`): on an empty database, the demo accounts
//! and then a whole 初赛 at the programme's real size, built through the same services the pages
//! and the API use, so the audit trail and every invariant hold as they would in use.
//!
//! The shape: N applicant organisations, each with one cluster and one submitted application
//! (indicators, narratives, the two required files), recommended by its city bureau; 20 experts
//! on the panel, 5 per entrant, every sheet submitted; the ranking fixed and a notice published
//! for up to 100 winners. The story starts 25 days ago (the clock is moved back and forward as
//! the tests do), so the notice is on display when the generator ends.

use crate::store::id::{ApplicationId, ClusterId, CompetitionId, ExpertId, RoundId};
use std::collections::BTreeMap;
use std::time::Instant;

use axum::body::Bytes;
use jiqun_domain::region;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use time::Duration;

use crate::app::{App, Principal};
use crate::attachments::{self, IterChunks, OwnerType};
use crate::audit::Actor;
use crate::error::AppError;
use crate::services::{
    applications, clusters, competitions, experts, notices, orgs, ranking, reviews, rounds,
    scoring, users,
};
use crate::store::entity::{assignment, expert, organisation, user};

/// How far back the story starts: scoring, ranking and the notice fall in the past, and the
/// notice's window still runs when the generator ends.
const STORY_DAYS: i64 = 25;
/// The panel of the 初赛.
const PANEL: usize = 20;
const EXPERTS_PER_ENTRANT: u32 = 5;
const MAX_WINNERS: usize = 100;
const OPERATOR: &str = "scale";

const INDUSTRIES: [&str; 10] = [
    "C35", "C36", "C37", "C38", "C39", "C26", "C27", "C30", "C32", "C34",
];
const TRADES: [&str; 10] = [
    "工程机械",
    "汽车零部件",
    "轨道交通装备",
    "电工电器",
    "电子信息",
    "精细化工",
    "生物医药",
    "新型建材",
    "有色金属",
    "智能装备",
];

/// What was built, for the summary and the tests.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub competition_id: CompetitionId,
    pub round_id: RoundId,
    pub applications: usize,
    pub sheets: usize,
    pub winners: usize,
    /// (phase, seconds), in order.
    pub phases: Vec<(String, f64)>,
}

/// Builds the scale data on an empty database; `say` receives the progress lines.
pub async fn generate(app: &App, n: usize, say: &dyn Fn(&str)) -> Result<Outcome, AppError> {
    if n == 0 {
        return Err(AppError::invalid("scale", "申报数量须至少为1"));
    }
    if user::Entity::find().count(&app.db).await? > 0 {
        return Err(AppError::Conflict(
            "数据库不是空的：规模数据只能在新建的空数据库上生成".into(),
        ));
    }
    let mut phases = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &str, say: &dyn Fn(&str)| {
        let secs = clock.elapsed().as_secs_f64();
        clock = Instant::now();
        say(&format!("{name}：完成，用时{secs:.1}秒"));
        phases.push((name.to_string(), secs));
    };
    let started = app.clock.now();
    app.clock.advance(-Duration::days(STORY_DAYS));

    say("写入演示单位和账户……");
    crate::demo::seed(app).await?;
    let province = principal(app, "province").await?;
    let (bound, call) = open_call(app, &province).await?;
    lap("基础数据与竞赛通知", say);

    say(&format!("创建{n}个申报主体、集群和申报并提交……"));
    let cities = region::cities();
    let mut by_city: BTreeMap<String, Vec<(ApplicationId, String)>> = BTreeMap::new();
    let mut kinds = Vec::with_capacity(n);
    for i in 0..n {
        let city = &cities[i % cities.len()];
        let counties = city.counties();
        let county = &counties[(i / cities.len()) % counties.len().max(1)];
        let kind = if i % 3 == 2 { "specialty" } else { "leading" };
        let id = applicant(app, &bound.policy, call.id, i, city, county, kind).await?;
        by_city
            .entry(city.code().to_string())
            .or_default()
            .push((id, county.code().to_string()));
        kinds.push(kind);
        if (i + 1).is_multiple_of(100) || i + 1 == n {
            say(&format!("  已提交{}/{n}项申报", i + 1));
        }
    }
    lap("申报填报与提交", say);

    say("各市州工信局推荐……");
    app.clock.advance(Duration::days(6));
    for (city, list) in &by_city {
        let bureau = bureau_of(app, city).await?;
        let ids: Vec<ApplicationId> = list.iter().map(|(id, _)| *id).collect();
        let mut per_county = BTreeMap::<&str, usize>::new();
        for (_, county) in list {
            *per_county.entry(county.as_str()).or_default() += 1;
        }
        // One county with several clusters needs the city's justification (第八条).
        let justification = if per_county.values().any(|c| *c > 1) {
            "本市申报集群较多，同一县市区的集群主导产业不同，经市人民政府同意一并推荐（规模测试数据）"
        } else {
            ""
        };
        reviews::recommend(
            app,
            &bureau,
            &ids,
            reviews::Letter::Generated,
            justification,
        )
        .await?;
    }
    lap("市州推荐", say);

    say(&format!("组建{PANEL}名专家的评审专家库……"));
    let panel = expert_pool(app, &province).await?;
    lap("专家库", say);

    say("开设初赛、确定专家组并分配……");
    app.clock.advance(Duration::days(5));
    let winners = n.min(MAX_WINNERS).min(n.div_ceil(2)).max(1);
    let specialty_total = kinds.iter().filter(|k| **k == "specialty").count();
    let specialty_quota = (winners * specialty_total).div_ceil(n).min(specialty_total);
    let leading_quota = winners - specialty_quota;
    let quotas: BTreeMap<String, u32> = [
        ("leading".to_string(), leading_quota as u32),
        ("specialty".to_string(), specialty_quota as u32),
    ]
    .into_iter()
    .filter(|(_, q)| *q > 0)
    .collect();
    let pool_ids: Vec<ExpertId> = panel.iter().map(|(id, _)| *id).collect();
    let round = scoring_round(app, &province, call.id, &pool_ids, quotas).await?;
    lap("开设初赛与分配专家", say);

    say("专家提交评分表……");
    app.clock.advance(Duration::days(1));
    let entries = rounds::entries(&app.db, round.id).await?;
    // Scores by entrant: the quota's worth clearly ahead in each kind and no ties at the cut,
    // so the ranking decides alone.
    let mut seen = BTreeMap::<String, usize>::new();
    let mut target = BTreeMap::new();
    let quota_of = |kind: &str| {
        if kind == "specialty" {
            specialty_quota
        } else {
            leading_quota
        }
    };
    let mut ordered = entries.clone();
    ordered.sort_by_key(|e| e.id);
    for e in &ordered {
        let k = seen.entry(e.cluster_kind.clone()).or_default();
        let total = if *k < quota_of(&e.cluster_kind) {
            98.5 - 0.1 * *k as f64
        } else {
            80.0 - 0.1 * ((*k * 7) % 150) as f64
        };
        *k += 1;
        target.insert(e.id, total);
    }
    let mut sheets = 0usize;
    for (expert_id, p) in &panel {
        let list = assignment::Entity::find()
            .filter(assignment::Column::ExpertId.eq(*expert_id))
            .filter(assignment::Column::RoundId.eq(round.id))
            .filter(assignment::Column::RecusedAt.is_null())
            .all(&app.db)
            .await?;
        for a in list {
            let base = target.get(&a.entry_id).copied().unwrap_or(70.0);
            // Experts differ a little, symmetrically, around the entrant's level.
            let spread = [-1.0, -0.5, 0.0, 0.5, 1.0][(a.id.get() as usize) % 5];
            let total = (base + spread).clamp(0.0, 100.0);
            let input = scoring::SheetInput {
                scores: scores_for(&bound.policy, total),
                comment: format!(
                    "该集群主导产业特色鲜明，协同创新有一定基础，建议{}。（规模测试数据）",
                    if total >= 85.0 {
                        "重点支持"
                    } else {
                        "继续培育"
                    }
                ),
                version: 0,
            };
            scoring::save(app, p, a.id, Some(&input), true).await?;
            sheets += 1;
            if sheets.is_multiple_of(500) {
                say(&format!("  已提交{sheets}份评分表"));
            }
        }
    }
    lap("专家评分", say);

    say("确定拟定名单并发布公示……");
    app.clock.advance(Duration::days(10));
    ranking::propose(
        app,
        &province,
        round.id,
        &ranking::ProposeInput {
            chosen: None,
            reason: "按得分排序确定；部分县市区入选集群较多，经厅务会研究同意（规模测试数据）"
                .into(),
        },
    )
    .await?;
    // The notice goes out on a working day, so its window is the policy's.
    let calendar = crate::services::calendar::load(app).await?;
    for _ in 0..7 {
        let today = crate::clock::local(app.clock.now()).date();
        if matches!(calendar.is_working_day(today), Ok(k) if k.is_working()) {
            break;
        }
        app.clock.advance(Duration::days(1));
    }
    let published = notices::publish(
        app,
        &province,
        round.id,
        &notices::PublishInput {
            notice_text: "现将拟入选名单予以公示。公示期内如有异议，请以书面形式向省工业和信息化厅反映。（规模测试数据）"
                .into(),
            version: None,
        },
    )
    .await?;
    lap("拟定名单与公示", say);
    // PostgreSQL plans by its statistics, which its autovacuum keeps current in use; after a
    // bulk load they are not there yet (and autovacuum may be off where this runs), so gather
    // them as autovacuum would. SQLite plans without statistics, as it does in use.
    if app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        app.db.execute_unprepared("VACUUM ANALYZE").await?;
        lap("统计信息（VACUUM ANALYZE）", say);
    }
    // Back to where the story was told from: whatever is done next happens "today".
    let behind = started - app.clock.now();
    if behind > Duration::ZERO {
        app.clock.advance(behind);
    }
    Ok(Outcome {
        competition_id: call.id,
        round_id: published.id,
        applications: n,
        sheets,
        winners,
        phases,
    })
}

/// A 初赛 of the call with the panel, every entrant assigned its experts automatically and
/// scoring open from an hour after now.
pub async fn scoring_round(
    app: &App,
    province: &Principal,
    call: CompetitionId,
    panel: &[ExpertId],
    quotas: BTreeMap<String, u32>,
) -> Result<crate::store::entity::round::Model, AppError> {
    let now = app.clock.now();
    let round = rounds::open_round(
        app,
        province,
        call,
        &rounds::OpenRoundInput {
            kind: "preliminary".into(),
            experts_per_application: EXPERTS_PER_ENTRANT,
            panel_note: String::new(),
            quotas,
            scoring_opens_at: crate::clock::datetime_local_value(now + Duration::hours(1)),
            scoring_closes_at: crate::clock::datetime_local_value(now + Duration::days(10)),
            defence: false,
            materials_due: String::new(),
        },
    )
    .await?;
    rounds::set_panel(app, province, round.id, panel, &[]).await?;
    let assigned = rounds::auto_assign(app, province, round.id).await?;
    if !assigned.shortfalls.is_empty() {
        return Err(AppError::internal(format!(
            "scale: experts short for {} entrants",
            assigned.shortfalls.len()
        )));
    }
    rounds::open_scoring(app, province, round.id).await?;
    Ok(round)
}

/// This year's call under the first shipped policy, opened by the province with an explicit
/// 延续执行 override so that it can be measured whatever the date.
pub async fn open_call(
    app: &App,
    province: &Principal,
) -> Result<(competitions::BoundPolicy, competitions::CompetitionView), AppError> {
    let bound = competitions::builtin()?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::internal("no built-in policy"))?;
    let now = app.clock.now();
    let year = crate::clock::local(now).year();
    let call = competitions::create(
        app,
        province,
        &competitions::CompetitionInput {
            year,
            title: format!(
                "{year}年{}竞赛（规模测试数据）",
                crate::config::title_of(jiqun_domain::round::Designation::Certified)
            ),
            policy_id: bound.policy.identity.id.clone(),
            submission_deadline: crate::clock::datetime_local_value(now + Duration::days(5)),
            review_deadline: crate::clock::datetime_local_value(now + Duration::days(10)),
            notice_text: "现组织开展先进制造业集群竞赛（规模测试数据）。".into(),
            // Measured whatever the date: the shipped policy may be outside its validity.
            override_reason: "规模测试数据，按内置政策延续执行".into(),
            override_document: "规模测试（无依据文件）".into(),
            ..Default::default()
        },
    )
    .await?;
    Ok((bound, call))
}

/// A sheet adding up to `total`: each criterion in proportion to its maximum, one decimal, the
/// rounding left over put on the last criterion.
pub fn scores_for(policy: &jiqun_rules::Policy, total: f64) -> BTreeMap<String, f64> {
    let max: f64 = policy.criteria.iter().map(|c| f64::from(c.max_score)).sum();
    let mut out = BTreeMap::new();
    let mut given = 0.0;
    let last = policy.criteria.len().saturating_sub(1);
    for (i, c) in policy.criteria.iter().enumerate() {
        let cap = f64::from(c.max_score);
        let v = if i == last {
            ((total - given) * 10.0).round() / 10.0
        } else {
            ((total * cap / max) * 10.0).floor() / 10.0
        };
        let v = v.clamp(0.0, cap);
        given += v;
        out.insert(c.key.clone(), v);
    }
    out
}

/// One applicant: its organisation and account, its cluster, and its application filled in,
/// with files, and submitted. Returns the application id.
async fn applicant(
    app: &App,
    policy: &jiqun_rules::Policy,
    competition_id: CompetitionId,
    i: usize,
    city: &region::City,
    county: &region::County,
    kind: &str,
) -> Result<ApplicationId, AppError> {
    let p = promoter(app, i, city, county).await?;
    let cluster = cluster(app, &p, i, county, kind).await?;
    let a = applications::start(app, &p, competition_id, cluster).await?;
    for (purpose, name) in [("report", "集群发展报告.pdf"), ("pledge", "信用承诺书.pdf")]
    {
        attach_pdf(app, &p, a.id, purpose, name, i).await?;
    }
    let form = form_for(policy, i);
    let saved = applications::save(app, &p, a.id, &form, a.version).await?;
    applications::submit(app, &p, a.id, saved.version).await?;
    Ok(a.id)
}

/// The `i`-th promotion organisation of the scale data and its account (`scale0001` …), signed
/// in as a principal.
pub async fn promoter(
    app: &App,
    i: usize,
    city: &region::City,
    county: &region::County,
) -> Result<Principal, AppError> {
    let console = Actor::console(OPERATOR);
    let trade = TRADES[i % TRADES.len()];
    let place = county.name();
    let city_code = city.code().to_string();
    let credit = jiqun_domain::credit_code::CreditCode::from_parts(
        '5',
        '1',
        &city_code,
        &format!("MK{i:05}0"),
    )
    .map_err(|e| AppError::internal(format!("scale credit code: {e}")))?;
    let org = orgs::create_as(
        app,
        &console,
        &orgs::OrgInput {
            name: format!("{place}{trade}产业集群促进会（{:04}）", i + 1),
            kind: "promotion_org".into(),
            credit_code: credit.as_str().to_string(),
            city_code: city_code.clone(),
            county_code: county.code().to_string(),
            contact_person: "测试联系人".into(),
            contact_phone: "0731-88000000".into(),
        },
    )
    .await?;
    let username = format!("scale{:04}", i + 1);
    users::create_account(
        app,
        &console,
        &users::UserInput {
            username: username.clone(),
            display_name: format!("{place}{trade}促进会 秘书长"),
            org_id: org.id,
            role: "applicant".into(),
            phone: String::new(),
            email: String::new(),
        },
        false,
        users::FirstCredential::IssueNow(Some(crate::demo::DEMO_PASSWORD.into())),
    )
    .await?;
    principal(app, &username).await
}

/// The `i`-th cluster of the scale data, led from `county`, of the promoter `p`.
pub async fn cluster(
    app: &App,
    p: &Principal,
    i: usize,
    county: &region::County,
    kind: &str,
) -> Result<ClusterId, AppError> {
    let trade = TRADES[i % TRADES.len()];
    let place = county.name();
    let cluster = clusters::create(
        app,
        p,
        &clusters::ClusterInput {
            name: format!("{place}{trade}产业集群（{:04}）", i + 1),
            kind: kind.into(),
            industry_code: INDUSTRIES[i % INDUSTRIES.len()].into(),
            lead_county_code: county.code().to_string(),
            other_county_codes: Vec::new(),
            core_park: format!("{place}经济开发区"),
            co_applicant_org_ids: Vec::new(),
        },
    )
    .await?;
    Ok(cluster.id)
}

/// A small PDF, different for each application, uploaded as the pages upload it.
async fn attach_pdf(
    app: &App,
    p: &Principal,
    application_id: ApplicationId,
    purpose: &str,
    file_name: &str,
    i: usize,
) -> Result<(), AppError> {
    crate::services::owners::can_attach(
        app,
        p,
        OwnerType::Application,
        application_id.get(),
        purpose,
    )
    .await?;
    let limits = attachments::limits_for(purpose)
        .ok_or_else(|| AppError::internal(format!("scale purpose {purpose}")))?;
    let body = format!(
        "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% scale data {i} {purpose}\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    );
    let received = attachments::receive_stream(
        app,
        IterChunks(std::iter::once(Bytes::from(body))),
        file_name,
        &limits,
    )
    .await?;
    attachments::attach(
        app,
        p,
        OwnerType::Application,
        application_id.get(),
        limits.purpose,
        received,
    )
    .await?;
    Ok(())
}

/// A complete, eligible form with indicators that vary from one application to the next.
pub fn form_for(policy: &jiqun_rules::Policy, i: usize) -> jiqun_rules::intake::FormData {
    use jiqun_rules::policy::ValueType;
    let mut form = jiqun_rules::intake::FormData::default();
    for c in &policy.criteria {
        for (j, ind) in c.indicators.iter().enumerate() {
            let v = match ind.value_type {
                ValueType::Text | ValueType::IndustryCode => {
                    INDUSTRIES[i % INDUSTRIES.len()].to_string()
                }
                ValueType::Percent => format!("{:.1}", 30.0 + ((i * 7 + j * 3) % 50) as f64),
                _ => (60 + (i * 13 + j * 17) % 240).to_string(),
            };
            form.indicators.insert(ind.key.clone(), v);
        }
        form.narratives.insert(
            c.key.clone(),
            format!(
                "{}：集群围绕主导产业延链补链强链，龙头企业带动配套企业协同发展，成效明显（规模测试数据）。",
                c.name
            ),
        );
    }
    form.indicators
        .insert("cluster_revenue".into(), (150 + (i * 37) % 850).to_string());
    form.attested = policy
        .eligibility
        .negative_list
        .iter()
        .map(|n| n.key.clone())
        .collect();
    form
}

/// The demo expert pool and 14 more experts, one account each, spread over the cities so every
/// entrant has experts without a conflict. Returns (pool id, principal) of all of them.
pub async fn expert_pool(
    app: &App,
    province: &Principal,
) -> Result<Vec<(ExpertId, Principal)>, AppError> {
    let console = Actor::console(OPERATOR);
    let homes = organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(jiqun_domain::access::OrgKind::ExpertHome))
        .all(&app.db)
        .await?;
    let home = homes
        .first()
        .ok_or_else(|| AppError::internal("scale: no expert home"))?;
    let cities = region::cities();
    let existing = expert::Entity::find().count(&app.db).await? as usize;
    for k in existing..PANEL {
        let city = &cities[k % cities.len()];
        let username = format!("scale_expert{:02}", k + 1);
        let created = users::create_account(
            app,
            &console,
            &users::UserInput {
                username: username.clone(),
                display_name: format!("评审专家 {}专家{:02}", city.name(), k + 1),
                org_id: home.id,
                role: "expert".into(),
                phone: String::new(),
                email: String::new(),
            },
            false,
            users::FirstCredential::IssueNow(Some(crate::demo::DEMO_PASSWORD.into())),
        )
        .await?;
        experts::create(
            app,
            province,
            &experts::ExpertInput {
                user_id: created.user.id,
                name: format!("{}专家{:02}", city.name(), k + 1),
                city_code: city.code().to_string(),
                employer: format!("{}产业研究院", city.name()),
                fields: vec![TRADES[k % TRADES.len()].into(), "产业经济".into()],
                affiliations: Vec::new(),
                active: true,
            },
        )
        .await?;
    }
    let mut out = Vec::new();
    for e in expert::Entity::find().all(&app.db).await? {
        let u = user::Entity::find_by_id(e.user_id)
            .one(&app.db)
            .await?
            .ok_or_else(|| AppError::internal("scale: expert account"))?;
        out.push((e.id, principal(app, &u.username).await?));
    }
    Ok(out)
}

/// The city bureau's account of a city (the demo's), as a principal.
pub async fn bureau_of(app: &App, city: &str) -> Result<Principal, AppError> {
    let code: region::RegionCode = city
        .parse()
        .map_err(|e| AppError::internal(format!("scale city {city}: {e}")))?;
    let bureau = organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(jiqun_domain::access::OrgKind::CityBureau))
        .filter(organisation::Column::CityCode.eq(code))
        .one(&app.db)
        .await?
        .ok_or_else(|| AppError::internal(format!("scale: no bureau for {city}")))?;
    let account = user::Entity::find()
        .filter(user::Column::OrgId.eq(bureau.id))
        .one(&app.db)
        .await?
        .ok_or_else(|| AppError::internal(format!("scale: no bureau account for {city}")))?;
    principal(app, &account.username).await
}

/// A signed-in principal for an account, as the session layer builds it.
pub async fn principal(app: &App, username: &str) -> Result<Principal, AppError> {
    let user = users::find_by_username(app, username)
        .await?
        .ok_or_else(|| AppError::internal(format!("scale: no account {username}")))?;
    let org = organisation::Entity::find_by_id(user.org_id)
        .one(&app.db)
        .await?
        .ok_or_else(|| AppError::internal(format!("scale: no org for {username}")))?;
    Ok(Principal {
        role: user.role,
        user,
        org,
        client_addr: "127.0.0.1".into(),
    })
}
