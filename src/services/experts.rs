//! The expert pool (专家库): who the experts are, and what makes them conflicted (回避).
//! The province keeps the provincial pool; a city bureau keeps its own city's pool for its own
//! competitions (第十六条, `experts.pool_city_code`, NULL = the province's), seeing and editing
//! only that; an expert reads their own entry and the conflicts they declared.

use crate::store::id::{ApplicationId, ClusterId, ExpertId, UserId};
use std::collections::{BTreeMap, BTreeSet};

use jiqun_domain::access::{Action, OrgKind, Resource, Role, ScopeKind};
use jiqun_domain::region::{self, RegionCode};
use jiqun_domain::review;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use super::authorize;
use super::imports::{Column, PlanRow, Planned, SheetLine, first_row_with, problem};
use super::listing::{FilterKind, FilterSpec, ListParams, ListSpec, export_xlsx};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::local_minutes;
use crate::error::{AppError, FieldError, Problems};
use crate::store::{
    self,
    entity::{
        application, assignment, cluster, cluster_member, competition, expert, expert_conflict,
        organisation, panel_member, user,
    },
};

/// The non-empty lines of a multi-line field (fields of expertise, affiliations).
pub fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The expert as the conflict rules see them: the employer counts as an affiliation.
pub fn to_domain(m: &expert::Model, declared: Vec<i64>) -> Result<review::Expert, AppError> {
    let city: RegionCode = m.city_code;
    let mut affiliations = lines(&m.affiliations);
    if !m.employer.trim().is_empty() {
        affiliations.push(m.employer.trim().to_string());
    }
    Ok(review::Expert {
        id: m.id.get(),
        city,
        affiliations,
        declared_conflicts: declared,
    })
}

/// The experts with these ids, each with the conflicts they declared, in id order.
pub async fn pool<C: ConnectionTrait>(
    conn: &C,
    ids: &[ExpertId],
) -> Result<Vec<(expert::Model, review::Expert)>, AppError> {
    let models =
        store::load_where_in::<expert::Entity>(conn, expert::Column::Id, ids.iter().copied())
            .await?;
    let declared = store::load_where_in::<expert_conflict::Entity>(
        conn,
        expert_conflict::Column::ExpertId,
        ids.iter().copied(),
    )
    .await?;
    models
        .into_iter()
        .map(|m| {
            let mine = declared
                .iter()
                .filter(|d| d.expert_id == m.id)
                .map(|d| d.application_id.get())
                .collect();
            let d = to_domain(&m, mine)?;
            Ok((m, d))
        })
        .collect()
}

/// The pool entry of a signed-in expert, if the account has one.
pub async fn of_user<C: ConnectionTrait>(
    conn: &C,
    user_id: UserId,
) -> Result<Option<expert::Model>, AppError> {
    Ok(expert::Entity::find()
        .filter(expert::Column::UserId.eq(user_id))
        .one(conn)
        .await?)
}

// ---------------------------------------------------------------------------------------------
// The pool as the province keeps it.

/// The longest name, employer or affiliation line accepted, in characters.
const MAX_NAME: usize = 50;
const MAX_ORG: usize = 100;
const MAX_LINES: usize = 50;

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExpertInput {
    /// The expert's sign-in account: a user with the expert role and no pool entry yet.
    /// Fixed once the entry exists (0 or the same id when updating).
    #[serde(default)]
    #[schema(value_type = i64)]
    pub user_id: UserId,
    pub name: String,
    /// The city (市州) the expert works in, e.g. "430100".
    pub city_code: String,
    pub employer: String,
    /// Fields of expertise.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Enterprises, parks and organisations the expert holds a post in or has an interest in,
    /// by name or unified social credit code.
    #[serde(default)]
    pub affiliations: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExpertView {
    #[schema(value_type = i64)]
    pub id: ExpertId,
    #[schema(value_type = i64)]
    pub user_id: UserId,
    pub username: String,
    pub name: String,
    pub city_code: String,
    pub city_name: String,
    pub employer: String,
    pub fields: Vec<String>,
    pub affiliations: Vec<String>,
    pub active: bool,
    /// The city whose pool the expert is in (empty: the provincial pool).
    pub pool_city_code: String,
    /// 省级专家库 or 长沙市专家库.
    pub pool_label: String,
    /// Rounds whose panel the expert sits on.
    pub rounds: u64,
    /// Assignments that stand (recusals not counted), over all rounds.
    pub assignments: u64,
    pub version: i32,
}

/// A conflict of interest the expert declared (回避申报).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeclaredConflictView {
    #[schema(value_type = i64)]
    pub application_id: ApplicationId,
    pub cluster_name: String,
    pub competition_year: i32,
    pub reason: String,
    /// "2026-05-01 09:30", Beijing time.
    pub declared_at: String,
}

/// An affiliation line (or the employer) that names an organisation the system knows, so the
/// province can check the conflict rules will recognise it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AffiliationMatch {
    pub affiliation: String,
    /// 申报主体 / 集群成员企业 / 核心园区
    pub kind_label: String,
    pub name: String,
    /// The cluster it belongs to (empty for an applicant organisation).
    pub cluster_name: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExpertDetail {
    pub expert: ExpertView,
    pub conflicts: Vec<DeclaredConflictView>,
    pub matches: Vec<AffiliationMatch>,
}

/// An account that can be linked to a new pool entry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountChoice {
    #[schema(value_type = i64)]
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub org_name: String,
}

/// The validated city code as the column holds it (validation already checked it parses).
fn stored_city(code: &str) -> Result<RegionCode, AppError> {
    code.parse()
        .map_err(|e: region::RegionCodeError| AppError::invalid("city_code", e.to_string()))
}

/// Counts per expert id: panels sat on and standing assignments.
async fn counts<C: ConnectionTrait>(
    conn: &C,
    ids: &[ExpertId],
) -> Result<(BTreeMap<ExpertId, u64>, BTreeMap<ExpertId, u64>), AppError> {
    let mut rounds = BTreeMap::new();
    for m in store::load_where_in::<panel_member::Entity>(
        conn,
        panel_member::Column::ExpertId,
        ids.iter().copied(),
    )
    .await?
    {
        *rounds.entry(m.expert_id).or_insert(0) += 1;
    }
    let mut assigned = BTreeMap::new();
    for a in store::load_where_in::<assignment::Entity>(
        conn,
        assignment::Column::ExpertId,
        ids.iter().copied(),
    )
    .await?
    .into_iter()
    .filter(|a| a.recused_at.is_none())
    {
        *assigned.entry(a.expert_id).or_insert(0) += 1;
    }
    Ok((rounds, assigned))
}

async fn views<C: ConnectionTrait>(
    conn: &C,
    models: &[expert::Model],
) -> Result<Vec<ExpertView>, AppError> {
    let ids: Vec<ExpertId> = models.iter().map(|m| m.id).collect();
    let (rounds, assigned) = counts(conn, &ids).await?;
    let accounts =
        store::load_by_ids_map::<user::Entity, _>(conn, models.iter().map(|m| m.user_id), |u| {
            u.username
        })
        .await?;
    Ok(models
        .iter()
        .map(|m| ExpertView {
            id: m.id,
            user_id: m.user_id,
            username: accounts.get(&m.user_id).cloned().unwrap_or_default(),
            name: m.name.clone(),
            city_code: m.city_code.to_string(),
            city_name: region::city_name_of(m.city_code),
            employer: m.employer.clone(),
            fields: lines(&m.fields),
            affiliations: lines(&m.affiliations),
            active: m.active,
            pool_city_code: m.pool_city_code.map(|c| c.to_string()).unwrap_or_default(),
            pool_label: pool_label(m.pool_city_code),
            rounds: rounds.get(&m.id).copied().unwrap_or(0),
            assignments: assigned.get(&m.id).copied().unwrap_or(0),
            version: m.version,
        })
        .collect())
}

async fn view_one<C: ConnectionTrait>(conn: &C, m: &expert::Model) -> Result<ExpertView, AppError> {
    views(conn, std::slice::from_ref(m))
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// The pool, by name; an expert sees only their own entry.
pub async fn list(app: &App, p: &Principal) -> Result<Vec<ExpertView>, AppError> {
    let scope = authorize(p, Resource::ExpertPool, Action::View)?;
    let models = expert::Entity::find()
        .filter(scope_condition(p, scope))
        .order_by_desc(expert::Column::Active)
        .order_by_asc(expert::Column::Id)
        .all(&app.db)
        .await?;
    views(&app.db, &models).await
}

/// The pool a round's panel is drawn from (the province's for its rounds, the organising city's
/// for a city's own competition), by name, for the panel form of whoever runs the round.
pub async fn for_round(
    app: &App,
    p: &Principal,
    round_id: crate::store::id::RoundId,
) -> Result<Vec<ExpertView>, AppError> {
    let r = super::rounds::load(&app.db, p, round_id).await?;
    let c = super::rounds::competition_of(&app.db, &r).await?;
    super::organisers::check_run(p, &c)?;
    let pool = match c.organiser_city_code {
        None => expert::Column::PoolCityCode.is_null(),
        Some(city) => expert::Column::PoolCityCode.eq(city.to_string()),
    };
    let models = expert::Entity::find()
        .filter(pool)
        .order_by_desc(expert::Column::Active)
        .order_by_asc(expert::Column::Id)
        .all(&app.db)
        .await?;
    views(&app.db, &models).await
}

fn statuses() -> Vec<(&'static str, &'static str)> {
    vec![("active", "在库"), ("inactive", "已停用")]
}

/// The province's list of the pool: filters, sortable columns, its path.
pub const LIST: ListSpec = ListSpec {
    path: "/experts",
    filters: &[
        FilterSpec {
            key: "city",
            label: "市州",
            kind: FilterKind::City,
        },
        FilterSpec {
            key: "status",
            label: "状态",
            kind: FilterKind::Choice(statuses),
        },
        FilterSpec {
            key: "q",
            label: "关键字",
            kind: FilterKind::Text,
        },
    ],
    sorts: &[
        ("name", "姓名"),
        ("employer", "工作单位"),
        ("city", "所在市州"),
        ("id", "入库顺序"),
    ],
    default_desc: false,
};

fn listed(
    p: &Principal,
    action: Action,
    params: &ListParams,
) -> Result<sea_orm::Select<expert::Entity>, AppError> {
    let scope = authorize(p, Resource::ExpertPool, action)?;
    let mut q = expert::Entity::find().filter(scope_condition(p, scope));
    if let Some(city) = params.city("city") {
        q = q.filter(expert::Column::CityCode.eq(city));
    }
    if let Some(status) = params.get("status") {
        q = q.filter(expert::Column::Active.eq(status == "active"));
    }
    if let Some(text) = params.get("q") {
        q = q.filter(
            sea_orm::Condition::any()
                .add(expert::Column::Name.contains(text))
                .add(expert::Column::Employer.contains(text))
                .add(expert::Column::Fields.contains(text)),
        );
    }
    Ok(params.order(
        q,
        |key| match key {
            "name" => expert::Column::Name,
            "employer" => expert::Column::Employer,
            "city" => expert::Column::CityCode,
            _ => expert::Column::Id,
        },
        expert::Column::Id,
    ))
}

/// One page of the pool and the number of all that match (counts loaded in batches).
pub async fn page(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<(Vec<ExpertView>, u64), AppError> {
    let (models, total) = params
        .fetch(&app.db, listed(p, Action::View, params)?)
        .await?;
    Ok((views(&app.db, &models).await?, total))
}

/// Every entry the filters match, as the Excel of 导出Excel.
pub async fn export(app: &App, p: &Principal, params: &ListParams) -> Result<Vec<u8>, AppError> {
    let models = params
        .fetch_all(&app.db, listed(p, Action::Export, params)?)
        .await?;
    let table: Vec<Vec<String>> = views(&app.db, &models)
        .await?
        .into_iter()
        .map(|e| {
            vec![
                e.name,
                e.username,
                e.employer,
                e.city_name,
                e.fields.join("、"),
                e.affiliations.join("、"),
                if e.active { "在库" } else { "已停用" }.to_string(),
                e.rounds.to_string(),
                e.assignments.to_string(),
            ]
        })
        .collect();
    export_xlsx(
        "专家库",
        &[
            ("姓名", 12.0),
            ("登录账户", 16.0),
            ("工作单位", 32.0),
            ("所在市州", 12.0),
            ("专业领域", 30.0),
            ("关联单位", 30.0),
            ("状态", 8.0),
            ("参加评审轮次", 12.0),
            ("评审任务", 10.0),
        ],
        &table,
    )
}

async fn load_scoped(
    app: &App,
    p: &Principal,
    id: ExpertId,
    action: Action,
) -> Result<expert::Model, AppError> {
    let scope = authorize(p, Resource::ExpertPool, action)?;
    expert::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .filter(|m| in_scope(p, scope, m))
        .ok_or(AppError::NotFound)
}

/// 省级专家库, or the city's own pool (长沙市专家库).
pub fn pool_label(pool: Option<RegionCode>) -> String {
    match pool {
        None => "省级专家库".into(),
        Some(city) => format!("{}专家库", region::city_name_of(city)),
    }
}

/// The pool the principal keeps: the province's (None) or its city's. Anyone else may not add
/// experts.
pub fn own_pool(p: &Principal) -> Result<Option<RegionCode>, AppError> {
    match authorize(p, Resource::ExpertPool, Action::Create)? {
        ScopeKind::All => Ok(None),
        ScopeKind::OwnCity => {
            p.org.city_code.map(Some).ok_or_else(|| {
                AppError::Conflict("本单位未登记所属市州，不能管理市级专家库".into())
            })
        }
        _ => Err(AppError::Forbidden),
    }
}

/// Whether an entry is within the principal's reach: every pool for the province, its own
/// city's pool for a city bureau, the expert's own entry for an expert.
pub fn in_scope(p: &Principal, scope: ScopeKind, m: &expert::Model) -> bool {
    match scope {
        ScopeKind::All => true,
        ScopeKind::OwnCity => m.pool_city_code.is_some() && m.pool_city_code == p.org.city_code,
        ScopeKind::OwnAccount => m.user_id == p.user.id,
        _ => false,
    }
}

/// `in_scope` in a query over experts.
fn scope_condition(p: &Principal, scope: ScopeKind) -> sea_orm::Condition {
    use sea_orm::Condition;
    match scope {
        ScopeKind::All => Condition::all(),
        ScopeKind::OwnCity => {
            let city = p.org.city_code.map(|c| c.to_string()).unwrap_or_default();
            Condition::all().add(expert::Column::PoolCityCode.eq(city))
        }
        ScopeKind::OwnAccount => Condition::all().add(expert::Column::UserId.eq(p.user.id)),
        _ => Condition::all().add(expert::Column::Id.eq(-1)),
    }
}

async fn detail(app: &App, m: expert::Model) -> Result<ExpertDetail, AppError> {
    let expert = view_one(&app.db, &m).await?;
    let mut conflicts = Vec::new();
    for d in expert_conflict::Entity::find()
        .filter(expert_conflict::Column::ExpertId.eq(m.id))
        .order_by_asc(expert_conflict::Column::DeclaredAt)
        .all(&app.db)
        .await?
    {
        let a = application::Entity::find_by_id(d.application_id)
            .one(&app.db)
            .await?;
        let (cluster_name, competition_year) = match a {
            Some(a) => (
                cluster::Entity::find_by_id(a.cluster_id)
                    .one(&app.db)
                    .await?
                    .map(|c| c.name)
                    .unwrap_or_default(),
                competition::Entity::find_by_id(a.competition_id)
                    .one(&app.db)
                    .await?
                    .map_or(0, |c| c.year),
            ),
            None => (String::new(), 0),
        };
        conflicts.push(DeclaredConflictView {
            application_id: d.application_id,
            cluster_name,
            competition_year,
            reason: d.reason,
            declared_at: local_minutes(d.declared_at),
        });
    }
    let mut named = expert.affiliations.clone();
    if !m.employer.trim().is_empty() {
        named.push(m.employer.trim().to_string());
    }
    let matches = affiliation_matches(&app.db, &named).await?;
    Ok(ExpertDetail {
        expert,
        conflicts,
        matches,
    })
}

/// Which known applicants, member enterprises and core parks the affiliations name, compared
/// the way the conflict rules compare them (by name or credit code, spacing and width folded).
pub async fn affiliation_matches<C: ConnectionTrait>(
    conn: &C,
    affiliations: &[String],
) -> Result<Vec<AffiliationMatch>, AppError> {
    let wanted: BTreeMap<String, &String> = affiliations
        .iter()
        .map(|a| (review::assignment::normalise_org(a), a))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let hit = |ids: &[&str]| -> Option<&String> {
        ids.iter()
            .find_map(|id| wanted.get(&review::assignment::normalise_org(id)).copied())
    };
    let mut out = Vec::new();
    for o in organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(OrgKind::PromotionOrg))
        .order_by_asc(organisation::Column::Id)
        .all(conn)
        .await?
    {
        let code = o.credit_code.clone().unwrap_or_default();
        if let Some(a) = hit(&[&o.name, &code]) {
            out.push(AffiliationMatch {
                affiliation: a.clone(),
                kind_label: "申报主体".into(),
                name: o.name,
                cluster_name: String::new(),
            });
        }
    }
    let clusters: BTreeMap<ClusterId, cluster::Model> = cluster::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    for c in clusters.values() {
        if let Some(a) = hit(&[&c.core_park]) {
            out.push(AffiliationMatch {
                affiliation: a.clone(),
                kind_label: "核心园区".into(),
                name: c.core_park.clone(),
                cluster_name: c.name.clone(),
            });
        }
    }
    for m in cluster_member::Entity::find()
        .order_by_asc(cluster_member::Column::Id)
        .all(conn)
        .await?
    {
        if let Some(a) = hit(&[&m.name, &m.credit_code]) {
            out.push(AffiliationMatch {
                affiliation: a.clone(),
                kind_label: "集群成员企业".into(),
                name: m.name,
                cluster_name: clusters
                    .get(&m.cluster_id)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

/// One pool entry with the conflicts the expert declared; an expert reaches only their own.
pub async fn get(app: &App, p: &Principal, id: ExpertId) -> Result<ExpertDetail, AppError> {
    let m = load_scoped(app, p, id, Action::View).await?;
    detail(app, m).await
}

/// The signed-in expert's own entry, if the province has put them in the pool.
pub async fn mine(app: &App, p: &Principal) -> Result<Option<ExpertDetail>, AppError> {
    authorize(p, Resource::ExpertPool, Action::View)?;
    match of_user(&app.db, p.user.id).await? {
        Some(m) => Ok(Some(detail(app, m).await?)),
        None => Ok(None),
    }
}

/// Expert accounts that have no pool entry yet (for the account select of a new entry).
pub async fn free_accounts(app: &App, p: &Principal) -> Result<Vec<AccountChoice>, AppError> {
    authorize(p, Resource::ExpertPool, Action::Create)?;
    let taken: BTreeSet<UserId> = expert::Entity::find()
        .all(&app.db)
        .await?
        .into_iter()
        .map(|e| e.user_id)
        .collect();
    let users: Vec<user::Model> = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Expert))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Username)
        .all(&app.db)
        .await?
        .into_iter()
        .filter(|u| !taken.contains(&u.id))
        .collect();
    let orgs = super::clusters::org_names(&app.db, users.iter().map(|u| u.org_id)).await?;
    Ok(users
        .into_iter()
        .map(|u| AccountChoice {
            user_id: u.id,
            org_name: orgs.get(&u.org_id).cloned().unwrap_or_default(),
            username: u.username,
            display_name: u.display_name,
        })
        .collect())
}

/// A checked entry, ready to store.
struct Valid {
    name: String,
    city_code: String,
    employer: String,
    fields: Vec<String>,
    affiliations: Vec<String>,
}

/// Checks every field and reports each problem against its field.
fn validate(input: &ExpertInput) -> Result<Valid, AppError> {
    let mut p = Problems::default();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        p.add("name", "请填写专家姓名");
    } else if name.chars().count() > MAX_NAME {
        p.add("name", format!("姓名不能超过{MAX_NAME}个字"));
    }
    let city_code = input.city_code.trim().to_string();
    if city_code.is_empty() {
        p.add("city_code", "请选择专家工作所在市州");
    } else if city_code
        .parse::<RegionCode>()
        .ok()
        .and_then(region::city)
        .is_none()
    {
        p.add(
            "city_code",
            format!(
                "{}，请从列表中选择",
                jiqun_domain::region::not_a_city(&city_code)
            ),
        );
    }
    let employer = input.employer.trim().to_string();
    if employer.is_empty() {
        p.add("employer", "请填写工作单位（回避审查时视同关联单位）");
    } else if employer.chars().count() > MAX_ORG {
        p.add("employer", format!("工作单位不能超过{MAX_ORG}个字"));
    }
    let clean = |list: &[String]| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for l in list.iter().flat_map(|l| lines(l)) {
            if !out.contains(&l) {
                out.push(l);
            }
        }
        out
    };
    let fields = clean(&input.fields);
    if fields.is_empty() {
        p.add("fields", "请至少填写一个专业领域（每行一个）");
    } else if fields.len() > MAX_LINES {
        p.add("fields", format!("专业领域不能超过{MAX_LINES}项"));
    } else if let Some(long) = fields.iter().find(|f| f.chars().count() > MAX_NAME) {
        p.add(
            "fields",
            format!("专业领域“{long}”过长，每项不超过{MAX_NAME}个字"),
        );
    }
    let affiliations = clean(&input.affiliations);
    if affiliations.len() > MAX_LINES {
        p.add("affiliations", format!("关联单位不能超过{MAX_LINES}项"));
    } else if let Some(long) = affiliations.iter().find(|a| a.chars().count() > MAX_ORG) {
        p.add(
            "affiliations",
            format!("关联单位“{long}”过长，每项不超过{MAX_ORG}个字"),
        );
    }
    p.into_result()?;
    Ok(Valid {
        name,
        city_code,
        employer,
        fields,
        affiliations,
    })
}

fn describe(v: &Valid, active: bool) -> String {
    format!(
        "姓名={}；市州={}；工作单位={}；专业领域={}；关联单位={}；{}",
        v.name,
        region::city_name(&v.city_code),
        v.employer,
        v.fields.join("、"),
        if v.affiliations.is_empty() {
            "无".to_string()
        } else {
            v.affiliations.join("、")
        },
        if active { "在库" } else { "停用" }
    )
}

fn describe_model(m: &expert::Model) -> String {
    format!(
        "姓名={}；市州={}；工作单位={}；专业领域={}；关联单位={}；{}",
        m.name,
        region::city_name_of(m.city_code),
        m.employer,
        lines(&m.fields).join("、"),
        {
            let a = lines(&m.affiliations);
            if a.is_empty() {
                "无".to_string()
            } else {
                a.join("、")
            }
        },
        if m.active { "在库" } else { "停用" }
    )
}

/// Puts an expert account into the pool (province).
pub async fn create(app: &App, p: &Principal, input: &ExpertInput) -> Result<ExpertView, AppError> {
    let pool = own_pool(p)?;
    let v = validate(input);
    let txn = store::write_txn(&app.db).await?;
    // The account is checked inside the transaction, so two people cannot link it twice.
    let account = if input.user_id.get() <= 0 {
        Err(AppError::invalid("user_id", "请选择专家的登录账户"))
    } else {
        match user::Entity::find_by_id(input.user_id).one(&txn).await? {
            None => Err(AppError::invalid("user_id", "该账户不存在")),
            Some(u) if u.role != Role::Expert => Err(AppError::invalid(
                "user_id",
                format!("账户“{}”不是评审专家账户", u.username),
            )),
            Some(u) if of_user(&txn, u.id).await?.is_some() => Err(AppError::invalid(
                "user_id",
                format!("账户“{}”已在专家库中", u.username),
            )),
            Some(u) => Ok(u),
        }
    };
    // Report the account and the other fields together.
    let (account, v) = match (account, v) {
        (Ok(a), Ok(v)) => (a, v),
        (a, v) => {
            let mut fields = Vec::new();
            for e in [a.err(), v.err()].into_iter().flatten() {
                match e {
                    AppError::Invalid(f) => fields.extend(f),
                    other => return Err(other),
                }
            }
            return Err(AppError::Invalid(fields));
        }
    };
    let now = app.clock.now();
    let m = insert_valid(app, p, &txn, &account, &v, input.active, pool, now).await?;
    let view = view_one(&txn, &m).await?;
    txn.commit().await?;
    Ok(view)
}

/// Stores a checked entry for an account with its audit entry, inside the caller's
/// transaction (the form and every new row of an import).
#[allow(clippy::too_many_arguments)]
async fn insert_valid(
    app: &App,
    p: &Principal,
    txn: &sea_orm::DatabaseTransaction,
    account: &user::Model,
    v: &Valid,
    active: bool,
    pool: Option<RegionCode>,
    now: time::OffsetDateTime,
) -> Result<expert::Model, AppError> {
    let m = expert::ActiveModel {
        pool_city_code: Set(pool),
        user_id: Set(account.id),
        name: Set(v.name.clone()),
        fields: Set(v.fields.join("\n")),
        city_code: Set(stored_city(&v.city_code)?),
        employer: Set(v.employer.clone()),
        affiliations: Set(v.affiliations.join("\n")),
        active: Set(active),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Audit::of(app, p, now)
        .record(
            txn,
            Event {
                action: "expert.create",
                object_type: "expert",
                object_id: m.id.to_string(),
                summary: format!(
                    "专家入{}（账户{}）：{}",
                    pool_label(pool),
                    account.username,
                    describe(v, active)
                ),
                ..Default::default()
            },
        )
        .await?;
    Ok(m)
}

/// Writes a checked entry over `before` (the version the editor saw) with its audit entry,
/// inside the caller's transaction (the form and imports).
#[allow(clippy::too_many_arguments)]
async fn update_valid(
    app: &App,
    p: &Principal,
    txn: &sea_orm::DatabaseTransaction,
    before: &expert::Model,
    expected_version: i32,
    v: &Valid,
    active: bool,
    now: time::OffsetDateTime,
) -> Result<(), AppError> {
    store::update_versioned(
        txn,
        before.id,
        expected_version,
        expert::ActiveModel {
            name: Set(v.name.clone()),
            fields: Set(v.fields.join("\n")),
            city_code: Set(stored_city(&v.city_code)?),
            employer: Set(v.employer.clone()),
            affiliations: Set(v.affiliations.join("\n")),
            active: Set(active),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    Audit::of(app, p, now)
        .record(
            txn,
            Event {
                action: "expert.update",
                object_type: "expert",
                object_id: before.id.to_string(),
                summary: format!(
                    "修改前：{}\n修改后：{}",
                    describe_model(before),
                    describe(v, active)
                ),
                ..Default::default()
            },
        )
        .await?;
    Ok(())
}

/// Changes a pool entry (the province, or a city bureau in its own pool), with the version the
/// editor saw. Experts read their own
/// entry but do not edit it: what makes them conflicted is the province's record.
pub async fn update(
    app: &App,
    p: &Principal,
    id: ExpertId,
    input: &ExpertInput,
    expected_version: i32,
) -> Result<ExpertView, AppError> {
    let scope = authorize(p, Resource::ExpertPool, Action::Update)?;
    if !matches!(scope, ScopeKind::All | ScopeKind::OwnCity) {
        return Err(AppError::Forbidden);
    }
    let v = validate(input)?;
    let txn = store::write_txn(&app.db).await?;
    let before = expert::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|m| in_scope(p, scope, m))
        .ok_or(AppError::NotFound)?;
    if input.user_id != 0 && input.user_id != before.user_id {
        return Err(AppError::invalid(
            "user_id",
            "专家的登录账户入库后不能更换；如需更换，请停用本条并为新账户另行入库",
        ));
    }
    let now = app.clock.now();
    update_valid(
        app,
        p,
        &txn,
        &before,
        expected_version,
        &v,
        input.active,
        now,
    )
    .await?;
    let after = expert::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let view = view_one(&txn, &after).await?;
    txn.commit().await?;
    Ok(view)
}

/// The form input that reproduces an entry, for the edit form.
pub fn input_of(v: &ExpertView) -> ExpertInput {
    ExpertInput {
        user_id: v.user_id,
        name: v.name.clone(),
        city_code: v.city_code.clone(),
        employer: v.employer.clone(),
        fields: v.fields.clone(),
        affiliations: v.affiliations.clone(),
        active: v.active,
    }
}

// ---------------------------------------------------------------------------------------------
// Import from Excel (the preview and the confirmation are `services::imports`).

/// The columns of the expert import sheet; keys are the form's fields.
pub const IMPORT_COLUMNS: &[Column] = &[
    Column {
        key: "user_id",
        header: "登录账户",
        required: true,
        width: 16.0,
        hint: "专家的登录用户名（系统管理员已开设的评审专家账户）；已在专家库中的账户视为更新",
    },
    Column {
        key: "name",
        header: "姓名",
        required: true,
        width: 12.0,
        hint: "不超过50个字",
    },
    Column {
        key: "city_code",
        header: "所在市州",
        required: true,
        width: 12.0,
        hint: "如“长沙市”或代码430100",
    },
    Column {
        key: "employer",
        header: "工作单位",
        required: true,
        width: 32.0,
        hint: "回避审查时视同关联单位",
    },
    Column {
        key: "fields",
        header: "专业领域",
        required: true,
        width: 30.0,
        hint: "多个领域用“、”或“；”分隔",
    },
    Column {
        key: "affiliations",
        header: "关联单位",
        required: false,
        width: 30.0,
        hint: "任职或有利益关系的企业、园区、机构，名称或统一社会信用代码，用“、”或“；”分隔",
    },
    Column {
        key: "active",
        header: "状态",
        required: false,
        width: 8.0,
        hint: "在库或停用，空白为在库",
    },
];

/// A planned expert row: the account, the checked entry, the pool it goes into and, for an
/// update, the entry it replaces.
pub struct ImportExpert {
    account: user::Model,
    v: Valid,
    active: bool,
    pool: Option<RegionCode>,
    before: Option<expert::Model>,
}

fn split_list(text: &str) -> Vec<String> {
    text.split(['、', '；', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Plans every row of an expert import against the database (`conn` is the confirmation's
/// transaction when confirming): each row is checked as the form checks it; an account already
/// in the pool is an update; new entries go into `pool` (the importer's, `own_pool`), and an
/// account already in another pool is refused.
pub async fn plan_import<C: ConnectionTrait>(
    conn: &C,
    lines: &[SheetLine],
    pool: Option<RegionCode>,
) -> Result<Vec<PlanRow<ImportExpert>>, AppError> {
    // Two queries whatever the number of rows (an import has at most `imports::MAX_ROWS`).
    let accounts = user::Entity::find()
        .filter(user::Column::Username.is_in(lines.iter().map(|l| l.get("user_id"))))
        .all(conn)
        .await?;
    let entries = store::load_where_in::<expert::Entity>(
        conn,
        expert::Column::UserId,
        accounts.iter().map(|u| u.id),
    )
    .await?;
    let mut seen = BTreeMap::new();
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let username = line.get("user_id");
        let key = format!("{}（{}）", line.get("name"), username);
        let mut problems: Vec<FieldError> = Vec::new();
        let account = if username.is_empty() {
            problems.extend(problem("user_id", "请填写专家的登录账户"));
            None
        } else if let Some(first) = first_row_with(&mut seen, &username, line.row) {
            problems.extend(problem("user_id", format!("与第{first}行的登录账户重复")));
            None
        } else {
            match accounts.iter().find(|u| u.username == username) {
                None => {
                    problems.extend(problem("user_id", format!("账户“{username}”不存在")));
                    None
                }
                Some(u) if u.role != Role::Expert => {
                    problems.extend(problem(
                        "user_id",
                        format!("账户“{username}”不是评审专家账户"),
                    ));
                    None
                }
                Some(u) => Some(u.clone()),
            }
        };
        let active = match line.get("active").as_str() {
            "" | "在库" | "是" => true,
            "停用" | "已停用" | "否" => false,
            other => {
                problems.extend(problem(
                    "active",
                    format!("状态“{other}”无效，应为“在库”或“停用”"),
                ));
                true
            }
        };
        let city = line.get("city_code");
        let input = ExpertInput {
            user_id: UserId::new(0),
            name: line.get("name"),
            city_code: region::cities()
                .iter()
                .find(|c| c.name() == city)
                .map_or(city.clone(), |c| c.code().to_string()),
            employer: line.get("employer"),
            fields: split_list(&line.get("fields")),
            affiliations: split_list(&line.get("affiliations")),
            active,
        };
        let v = match validate(&input) {
            Ok(v) => Some(v),
            Err(AppError::Invalid(fields)) => {
                problems.extend(fields);
                None
            }
            Err(e) => return Err(e),
        };
        let (Some(account), Some(v), true) = (account, v, problems.is_empty()) else {
            // Problems in column order, as the person reads the row.
            problems.sort_by_key(|f| {
                IMPORT_COLUMNS
                    .iter()
                    .position(|c| c.key == f.field)
                    .unwrap_or(usize::MAX)
            });
            out.push(PlanRow::refused(line, key, IMPORT_COLUMNS, &problems));
            continue;
        };
        let before = entries.iter().find(|e| e.user_id == account.id).cloned();
        if let Some(b) = before.as_ref().filter(|b| b.pool_city_code != pool) {
            let problems = problem(
                "user_id",
                format!(
                    "账户“{username}”已在{}中，不能由本单位导入或修改",
                    pool_label(b.pool_city_code)
                ),
            );
            out.push(PlanRow::refused(line, key, IMPORT_COLUMNS, &problems));
            continue;
        }
        let summary = describe(&v, active);
        let planned = match before {
            Some(b) => Planned::Update(
                b.id.get(),
                ImportExpert {
                    account,
                    v,
                    active,
                    pool,
                    before: Some(b),
                },
            ),
            None => Planned::New(ImportExpert {
                account,
                v,
                active,
                pool,
                before: None,
            }),
        };
        out.push(PlanRow::new(line, key, summary, planned));
    }
    Ok(out)
}

/// Writes a checked plan inside the confirmation's transaction: (created, updated).
pub async fn apply_import(
    app: &App,
    p: &Principal,
    txn: &sea_orm::DatabaseTransaction,
    plan: Vec<PlanRow<ImportExpert>>,
    now: time::OffsetDateTime,
) -> Result<(usize, usize), AppError> {
    let (mut created, mut updated) = (0, 0);
    for row in plan {
        match row.planned {
            Planned::New(e) => {
                insert_valid(app, p, txn, &e.account, &e.v, e.active, e.pool, now).await?;
                created += 1;
            }
            Planned::Update(_, e) => {
                let Some(b) = &e.before else {
                    return Err(AppError::internal("an import update without its entry"));
                };
                update_valid(app, p, txn, b, b.version, &e.v, e.active, now).await?;
                updated += 1;
            }
            Planned::Error => {
                return Err(AppError::internal(
                    "an unchecked import row reached the write",
                ));
            }
        }
    }
    Ok((created, updated))
}
