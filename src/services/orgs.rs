//! Organisations: promotion organisations (applicants), city bureaus, departments, experts' employers.

use crate::store::id::OrgId;
use jiqun_domain::access::{Action, OrgKind, Resource, ScopeKind};
use jiqun_domain::credit_code::CreditCode;
use jiqun_domain::region::{self, RegionCode};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use super::imports::{Column, PlanRow, Planned, SheetLine, first_row_with, problem};
use super::listing::{FilterKind, FilterSpec, ListParams, ListSpec, export_xlsx};
use super::{authorize, trimmed};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::error::{AppError, Problems};
use crate::store::{self, entity::organisation};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct OrgInput {
    pub name: String,
    /// promotion_org | city_bureau | provincial_dept | partner_dept | expert_home
    pub kind: String,
    #[serde(default)]
    pub credit_code: String,
    #[serde(default)]
    pub city_code: String,
    #[serde(default)]
    pub county_code: String,
    #[serde(default)]
    pub contact_person: String,
    #[serde(default)]
    pub contact_phone: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgView {
    #[schema(value_type = i64)]
    pub id: OrgId,
    pub name: String,
    pub kind: String,
    pub kind_label: String,
    pub credit_code: Option<String>,
    pub city_code: Option<String>,
    pub city_name: String,
    pub county_code: Option<String>,
    pub county_name: String,
    pub contact_person: String,
    pub contact_phone: String,
    pub active: bool,
    pub version: i32,
}

impl OrgView {
    pub fn from_model(m: &organisation::Model) -> OrgView {
        let city_name = m
            .city_code
            .and_then(region::city)
            .map(|c| c.name().to_string())
            .unwrap_or_default();
        let county_name = m
            .county_code
            .and_then(region::county)
            .map(|c| c.name().to_string())
            .unwrap_or_default();
        OrgView {
            id: m.id,
            name: m.name.clone(),
            kind: m.kind.key().to_string(),
            kind_label: m.kind.label().to_string(),
            credit_code: m.credit_code.clone(),
            city_code: m.city_code.map(|c| c.to_string()),
            city_name,
            county_code: m.county_code.map(|c| c.to_string()),
            county_name,
            contact_person: m.contact_person.clone(),
            contact_phone: m.contact_phone.clone(),
            active: m.active,
            version: m.version,
        }
    }
}

/// A checked organisation, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidOrg {
    pub name: String,
    pub kind: OrgKind,
    pub credit_code: Option<CreditCode>,
    pub city_code: Option<RegionCode>,
    pub county_code: Option<RegionCode>,
    pub contact_person: String,
    pub contact_phone: String,
}

/// Pure validation; every problem is reported against its field.
pub fn validate(input: &OrgInput) -> Result<ValidOrg, AppError> {
    let mut p = Problems::default();
    let name = trimmed(&input.name);
    if name.is_empty() {
        p.add("name", "请填写单位名称");
    } else if name.chars().count() > 100 {
        p.add("name", "单位名称不能超过100个字");
    }
    let kind = OrgKind::from_key(input.kind.trim());
    if kind.is_none() {
        p.add("kind", "请选择单位类型");
    }
    let credit_text = input.credit_code.trim();
    let credit_code = if credit_text.is_empty() {
        if kind == Some(OrgKind::PromotionOrg) {
            p.add("credit_code", "申报主体须填写统一社会信用代码");
        }
        None
    } else {
        match CreditCode::parse(credit_text) {
            Ok(c) => Some(c),
            Err(e) => {
                p.add("credit_code", e.to_string());
                None
            }
        }
    };
    let needs_city = matches!(
        kind,
        Some(OrgKind::PromotionOrg | OrgKind::CityBureau | OrgKind::CountyBureau)
    );
    let city_code = match input.city_code.trim() {
        "" => {
            if needs_city {
                p.add("city_code", "请选择所在市州");
            }
            None
        }
        text => match text
            .parse::<RegionCode>()
            .ok()
            .filter(|c| region::city(*c).is_some())
        {
            Some(c) => Some(c),
            None => {
                p.add("city_code", jiqun_domain::region::not_a_city(text));
                None
            }
        },
    };
    let county_code = match input.county_code.trim() {
        "" => {
            if matches!(kind, Some(OrgKind::PromotionOrg | OrgKind::CountyBureau)) {
                p.add("county_code", "请选择所在县（市、区）");
            }
            None
        }
        text => match text.parse::<RegionCode>().ok().and_then(region::county) {
            Some(county) => {
                if let Some(city) = city_code
                    && county.city_code() != city
                {
                    let city_name = region::city(city).map(|c| c.name()).unwrap_or_default();
                    p.add(
                        "county_code",
                        format!("{}不属于{}", county.name(), city_name),
                    );
                }
                Some(county.code())
            }
            None => {
                p.add("county_code", jiqun_domain::region::not_a_county(text));
                None
            }
        },
    };
    let contact_phone = trimmed(&input.contact_phone);
    if !contact_phone.is_empty() && !jiqun_domain::contact::is_phone(&contact_phone) {
        p.add("contact_phone", "联系电话只能包含数字和“-”，7至20位");
    }
    let contact_person = trimmed(&input.contact_person);
    if contact_person.chars().count() > 50 {
        p.add("contact_person", "联系人不能超过50个字");
    }
    p.into_result()?;
    Ok(ValidOrg {
        name,
        kind: kind.ok_or(AppError::Internal("kind checked above".into()))?,
        credit_code,
        city_code,
        county_code,
        contact_person,
        contact_phone,
    })
}

fn in_scope(p: &Principal, scope: ScopeKind, m: &organisation::Model) -> bool {
    match scope {
        ScopeKind::All => true,
        ScopeKind::OwnCity => p.org.city_code.is_some() && m.city_code == p.org.city_code,
        ScopeKind::OwnCounty => p.org.county_code.is_some() && m.county_code == p.org.county_code,
        ScopeKind::OwnOrg => m.id == p.org.id,
        ScopeKind::OwnAccount => false,
    }
}

fn scope_condition(p: &Principal, scope: ScopeKind) -> Condition {
    match scope {
        ScopeKind::All => Condition::all(),
        ScopeKind::OwnCity => match &p.org.city_code {
            Some(city) => Condition::all().add(organisation::Column::CityCode.eq(*city)),
            None => Condition::all().add(organisation::Column::Id.eq(-1)),
        },
        ScopeKind::OwnCounty => match &p.org.county_code {
            Some(county) => Condition::all().add(organisation::Column::CountyCode.eq(*county)),
            None => Condition::all().add(organisation::Column::Id.eq(-1)),
        },
        ScopeKind::OwnOrg => Condition::all().add(organisation::Column::Id.eq(p.org.id)),
        ScopeKind::OwnAccount => Condition::all().add(organisation::Column::Id.eq(-1)),
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrgFilter {
    pub kind: Option<String>,
    pub city_code: Option<String>,
    pub q: Option<String>,
}

pub async fn list(app: &App, p: &Principal, filter: &OrgFilter) -> Result<Vec<OrgView>, AppError> {
    let scope = authorize(p, Resource::Organisation, Action::View)?;
    let mut q = organisation::Entity::find().filter(scope_condition(p, scope));
    if let Some(kind) = filter.kind.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(organisation::Column::Kind.eq(kind));
    }
    if let Some(city) = filter.city_code.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(organisation::Column::CityCode.eq(city));
    }
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(
            Condition::any()
                .add(organisation::Column::Name.contains(text))
                .add(organisation::Column::CreditCode.contains(text.to_uppercase())),
        );
    }
    let rows = q
        .order_by_asc(organisation::Column::Id)
        .all(&app.db)
        .await?;
    Ok(rows.iter().map(OrgView::from_model).collect())
}

fn org_kinds() -> Vec<(&'static str, &'static str)> {
    OrgKind::ALL.iter().map(|k| (k.key(), k.label())).collect()
}

fn statuses() -> Vec<(&'static str, &'static str)> {
    vec![("active", "正常"), ("inactive", "停用")]
}

/// The back office's list of organisations: filters, sortable columns, its path.
pub const LIST: ListSpec = ListSpec {
    path: "/orgs",
    filters: &[
        FilterSpec {
            key: "kind",
            label: "单位类型",
            kind: FilterKind::Choice(org_kinds),
        },
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
        ("name", "名称"),
        ("kind", "类型"),
        ("credit_code", "统一社会信用代码"),
        ("city", "市州"),
        ("id", "登记顺序"),
    ],
    default_desc: false,
};

/// The filtered, ordered query of a list, inside the principal's data scope.
fn listed(
    p: &Principal,
    action: Action,
    params: &ListParams,
) -> Result<sea_orm::Select<organisation::Entity>, AppError> {
    let scope = authorize(p, Resource::Organisation, action)?;
    let mut q = organisation::Entity::find().filter(scope_condition(p, scope));
    if let Some(kind) = params.get("kind") {
        q = q.filter(organisation::Column::Kind.eq(kind));
    }
    if let Some(city) = params.city("city") {
        q = q.filter(organisation::Column::CityCode.eq(city));
    }
    if let Some(status) = params.get("status") {
        q = q.filter(organisation::Column::Active.eq(status == "active"));
    }
    if let Some(text) = params.get("q") {
        q = q.filter(
            Condition::any()
                .add(organisation::Column::Name.contains(text))
                .add(organisation::Column::CreditCode.contains(text.to_uppercase())),
        );
    }
    Ok(params.order(
        q,
        |key| match key {
            "name" => organisation::Column::Name,
            "kind" => organisation::Column::Kind,
            "credit_code" => organisation::Column::CreditCode,
            "city" => organisation::Column::CityCode,
            _ => organisation::Column::Id,
        },
        organisation::Column::Id,
    ))
}

/// One page of the list and the number of all that match.
pub async fn page(
    app: &App,
    p: &Principal,
    params: &ListParams,
) -> Result<(Vec<OrgView>, u64), AppError> {
    let (rows, total) = params
        .fetch(&app.db, listed(p, Action::View, params)?)
        .await?;
    Ok((rows.iter().map(OrgView::from_model).collect(), total))
}

/// Every row the filters match, as the Excel of 导出Excel.
pub async fn export(app: &App, p: &Principal, params: &ListParams) -> Result<Vec<u8>, AppError> {
    let rows = params
        .fetch_all(&app.db, listed(p, Action::Export, params)?)
        .await?;
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(OrgView::from_model)
        .map(|o| {
            vec![
                o.name,
                o.kind_label,
                o.credit_code.unwrap_or_default(),
                o.city_name,
                o.county_name,
                o.contact_person,
                o.contact_phone,
                if o.active { "正常" } else { "停用" }.to_string(),
            ]
        })
        .collect();
    export_xlsx(
        "单位名单",
        &[
            ("名称", 40.0),
            ("类型", 16.0),
            ("统一社会信用代码", 24.0),
            ("市州", 12.0),
            ("县（市、区）", 14.0),
            ("联系人", 12.0),
            ("联系电话", 18.0),
            ("状态", 8.0),
        ],
        &table,
    )
}

/// Loads an organisation the principal may act on; anything else is "not found".
async fn load_scoped(
    app: &App,
    p: &Principal,
    id: OrgId,
    action: Action,
) -> Result<organisation::Model, AppError> {
    let view_scope = authorize(p, Resource::Organisation, Action::View).ok();
    let m = organisation::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    if !view_scope.is_some_and(|s| in_scope(p, s, &m)) {
        return Err(AppError::NotFound);
    }
    let scope = authorize(p, Resource::Organisation, action)?;
    if !in_scope(p, scope, &m) {
        return Err(AppError::NotFound);
    }
    Ok(m)
}

pub async fn get(app: &App, p: &Principal, id: OrgId) -> Result<OrgView, AppError> {
    Ok(OrgView::from_model(
        &load_scoped(app, p, id, Action::View).await?,
    ))
}

fn describe(v: &ValidOrg) -> String {
    format!(
        "名称={}；类型={}；信用代码={}；市州={}；县区={}",
        v.name,
        v.kind.label(),
        v.credit_code.as_ref().map(|c| c.as_str()).unwrap_or("-"),
        v.city_code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into()),
        v.county_code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into()),
    )
}

fn describe_model(m: &organisation::Model) -> String {
    format!(
        "名称={}；类型={}；信用代码={}；市州={}；县区={}",
        m.name,
        m.kind.label(),
        m.credit_code.as_deref().unwrap_or("-"),
        m.city_code.map_or("-".to_string(), |c| c.to_string()),
        m.county_code.map_or("-".to_string(), |c| c.to_string()),
    )
}

async fn credit_code_taken(
    app: &App,
    code: &CreditCode,
    except: Option<OrgId>,
) -> Result<bool, AppError> {
    let mut q =
        organisation::Entity::find().filter(organisation::Column::CreditCode.eq(code.as_str()));
    if let Some(id) = except {
        q = q.filter(organisation::Column::Id.ne(id));
    }
    Ok(q.one(&app.db).await?.is_some())
}

pub async fn create(app: &App, p: &Principal, input: &OrgInput) -> Result<OrgView, AppError> {
    authorize(p, Resource::Organisation, Action::Create)?;
    create_as(app, &p.actor(), input).await
}

/// Registers an organisation on behalf of `actor`; the command line uses this to set up the
/// provincial department before any account exists.
pub async fn create_as(
    app: &App,
    actor: &crate::audit::Actor,
    input: &OrgInput,
) -> Result<OrgView, AppError> {
    let v = validate(input)?;
    if let Some(code) = &v.credit_code
        && credit_code_taken(app, code, None).await?
    {
        return Err(AppError::invalid("credit_code", "该统一社会信用代码已登记"));
    }
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let m = insert_valid(app, actor, &txn, &v, now).await?;
    txn.commit().await?;
    Ok(OrgView::from_model(&m))
}

/// Stores a checked organisation with its audit entry, inside the caller's transaction (the
/// form's create and every new row of an import).
async fn insert_valid(
    app: &App,
    actor: &crate::audit::Actor,
    txn: &sea_orm::DatabaseTransaction,
    v: &ValidOrg,
    now: time::OffsetDateTime,
) -> Result<organisation::Model, AppError> {
    let m = organisation::ActiveModel {
        name: Set(v.name.clone()),
        kind: Set(v.kind),
        credit_code: Set(v.credit_code.as_ref().map(|c| c.as_str().to_string())),
        city_code: Set(v.city_code),
        county_code: Set(v.county_code),
        contact_person: Set(v.contact_person.clone()),
        contact_phone: Set(v.contact_phone.clone()),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Audit::by(app, actor.clone(), now)
        .record(
            txn,
            Event {
                action: "org.create",
                object_type: "organisation",
                object_id: m.id.to_string(),
                summary: format!("新建单位：{}", describe(v)),
                ..Default::default()
            },
        )
        .await?;
    Ok(m)
}

/// The columns written by an update from a checked organisation.
fn changed(v: &ValidOrg, now: time::OffsetDateTime) -> organisation::ActiveModel {
    organisation::ActiveModel {
        name: Set(v.name.clone()),
        kind: Set(v.kind),
        credit_code: Set(v.credit_code.as_ref().map(|c| c.as_str().to_string())),
        city_code: Set(v.city_code),
        county_code: Set(v.county_code),
        contact_person: Set(v.contact_person.clone()),
        contact_phone: Set(v.contact_phone.clone()),
        updated_at: Set(now),
        ..Default::default()
    }
}

pub async fn update(
    app: &App,
    p: &Principal,
    id: OrgId,
    input: &OrgInput,
    expected_version: i32,
) -> Result<OrgView, AppError> {
    let before = load_scoped(app, p, id, Action::Update).await?;
    let v = validate(input)?;
    if p.role != jiqun_domain::access::Role::SysAdmin && v.kind != before.kind {
        return Err(AppError::invalid("kind", "只有系统管理员可以变更单位类型"));
    }
    if let Some(code) = &v.credit_code
        && credit_code_taken(app, code, Some(id)).await?
    {
        return Err(AppError::invalid("credit_code", "该统一社会信用代码已登记"));
    }
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    // Optimistic concurrency: the update only applies to the version the editor saw.
    update_valid(app, p, &txn, &before, expected_version, &v, now).await?;
    let after = organisation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    txn.commit().await?;
    Ok(OrgView::from_model(&after))
}

/// Writes a checked organisation over `before` (the version the editor saw) with its audit
/// entry and the changed columns, inside the caller's transaction (the form and imports).
async fn update_valid(
    app: &App,
    p: &Principal,
    txn: &sea_orm::DatabaseTransaction,
    before: &organisation::Model,
    expected_version: i32,
    v: &ValidOrg,
    now: time::OffsetDateTime,
) -> Result<(), AppError> {
    let id = before.id;
    // Optimistic concurrency: the update only applies to the version the editor saw.
    store::update_versioned(txn, id, expected_version, changed(v, now)).await?;
    Audit::of(app, p, now)
        .record_changes(
            txn,
            Event {
                action: "org.update",
                object_type: "organisation",
                object_id: id.to_string(),
                summary: format!(
                    "修改前：{}\n修改后：{}",
                    describe_model(before),
                    describe(v)
                ),
                ..Default::default()
            },
            crate::audit::changes_since::<organisation::Entity, _>(txn, before).await?,
        )
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Import from Excel (the preview and the confirmation are `services::imports`).

/// The columns of the organisation import sheet; keys are the form's fields.
pub const IMPORT_COLUMNS: &[Column] = &[
    Column {
        key: "name",
        header: "单位名称",
        required: true,
        width: 40.0,
        hint: "单位全称，不超过100个字",
    },
    Column {
        key: "kind",
        header: "单位类型",
        required: true,
        width: 16.0,
        hint: "集群发展促进组织（申报主体，可只填“申报主体”）、市州工信局、省工信厅、有关部门或专家所在单位",
    },
    Column {
        key: "credit_code",
        header: "统一社会信用代码",
        required: false,
        width: 24.0,
        hint: "18位，字母大写；申报主体必填；已登记的代码视为更新该单位",
    },
    Column {
        key: "city_code",
        header: "所在市州",
        required: false,
        width: 14.0,
        hint: "如“长沙市”或代码430100；申报主体和市州工信局必填",
    },
    Column {
        key: "county_code",
        header: "所在县（市、区）",
        required: false,
        width: 16.0,
        hint: "如“岳麓区”或代码430104；申报主体必填",
    },
    Column {
        key: "contact_person",
        header: "联系人",
        required: false,
        width: 12.0,
        hint: "不超过50个字",
    },
    Column {
        key: "contact_phone",
        header: "联系电话",
        required: false,
        width: 18.0,
        hint: "数字和“-”，7至20位",
    },
];

/// A planned organisation row: the checked value and, for an update, the record it replaces.
pub struct ImportOrg {
    v: ValidOrg,
    before: Option<organisation::Model>,
}

/// A typed organisation type: its name, the part before or inside its brackets
/// (集群发展促进组织 / 申报主体) or its key.
fn kind_of_text(text: &str) -> Option<OrgKind> {
    OrgKind::ALL.into_iter().find(|k| {
        let label = k.label();
        let (outer, inner) = match label.split_once('（') {
            Some((a, b)) => (a, b.trim_end_matches('）')),
            None => (label, label),
        };
        !text.is_empty() && (text == label || text == k.key() || text == outer || text == inner)
    })
}

/// A typed city: its name (长沙市) or its code.
fn city_text(text: &str) -> String {
    region::cities()
        .iter()
        .find(|c| c.name() == text)
        .map_or_else(|| text.to_string(), |c| c.code().to_string())
}

/// A typed county: its name, within the city when one is given, or its code.
fn county_text(text: &str, city: &str) -> String {
    let city: Option<RegionCode> = city.parse().ok();
    // Within the city first (names repeat across cities); then anywhere, so that a county of
    // another city is reported as "not in this city" rather than as unknown.
    region::counties()
        .filter(|k| city.is_none_or(|c| k.city_code() == c))
        .find(|k| k.name() == text)
        .or_else(|| region::counties().find(|k| k.name() == text))
        .map_or_else(|| text.to_string(), |k| k.code().to_string())
}

/// Plans every row of an organisation import against the database (`conn` is the
/// confirmation's transaction when confirming): each row is checked as the form checks it;
/// an already registered credit code (or, without one, the same name and type) is an update.
pub async fn plan_import<C: sea_orm::ConnectionTrait>(
    conn: &C,
    lines: &[SheetLine],
) -> Result<Vec<PlanRow<ImportOrg>>, AppError> {
    let codes: Vec<String> = lines
        .iter()
        .map(|l| l.get("credit_code").to_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    let names: Vec<String> = lines.iter().map(|l| l.get("name")).collect();
    // Two queries whatever the number of rows (an import has at most `imports::MAX_ROWS`).
    let by_code = organisation::Entity::find()
        .filter(organisation::Column::CreditCode.is_in(codes))
        .all(conn)
        .await?;
    let by_name = organisation::Entity::find()
        .filter(organisation::Column::Name.is_in(names))
        .all(conn)
        .await?;
    let mut seen = std::collections::BTreeMap::new();
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let kind_text = line.get("kind");
        let kind = match kind_of_text(&kind_text) {
            Some(k) => k.key().to_string(),
            None if kind_text.is_empty() => String::new(),
            None => {
                let names: Vec<&str> = OrgKind::ALL.iter().map(|k| k.label()).collect();
                let e = problem(
                    "kind",
                    format!("单位类型“{kind_text}”无效，可填：{}", names.join("、")),
                );
                out.push(PlanRow::refused(line, line.get("name"), IMPORT_COLUMNS, &e));
                continue;
            }
        };
        let city = city_text(&line.get("city_code"));
        let input = OrgInput {
            name: line.get("name"),
            kind,
            credit_code: line.get("credit_code"),
            county_code: county_text(&line.get("county_code"), &city),
            city_code: city,
            contact_person: line.get("contact_person"),
            contact_phone: line.get("contact_phone"),
        };
        let key = input.name.trim().to_string();
        let v = match validate(&input) {
            Ok(v) => v,
            Err(AppError::Invalid(fields)) => {
                out.push(PlanRow::refused(line, key, IMPORT_COLUMNS, &fields));
                continue;
            }
            Err(e) => return Err(e),
        };
        let identity = match &v.credit_code {
            Some(c) => c.as_str().to_string(),
            None => format!("{}|{}", v.kind.key(), v.name),
        };
        if let Some(first) = first_row_with(&mut seen, &identity, line.row) {
            let (field, what) = if v.credit_code.is_some() {
                ("credit_code", "统一社会信用代码")
            } else {
                ("name", "单位名称和类型")
            };
            let e = problem(field, format!("与第{first}行的{what}重复"));
            out.push(PlanRow::refused(line, key, IMPORT_COLUMNS, &e));
            continue;
        }
        let before = match &v.credit_code {
            Some(c) => by_code
                .iter()
                .find(|m| m.credit_code.as_deref() == Some(c.as_str())),
            None => by_name
                .iter()
                .find(|m| m.name == v.name && m.kind == v.kind && m.credit_code.is_none()),
        }
        .cloned();
        let summary = describe(&v);
        let planned = match before {
            Some(b) if b.kind != v.kind => {
                let e = problem(
                    "kind",
                    format!("该单位已登记为“{}”，导入不能变更单位类型", b.kind.label()),
                );
                out.push(PlanRow::refused(line, key, IMPORT_COLUMNS, &e));
                continue;
            }
            Some(b) => Planned::Update(b.id.get(), ImportOrg { v, before: Some(b) }),
            None => Planned::New(ImportOrg { v, before: None }),
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
    plan: Vec<PlanRow<ImportOrg>>,
    now: time::OffsetDateTime,
) -> Result<(usize, usize), AppError> {
    let (mut created, mut updated) = (0, 0);
    for row in plan {
        match row.planned {
            Planned::New(o) => {
                insert_valid(app, &p.actor(), txn, &o.v, now).await?;
                created += 1;
            }
            Planned::Update(_, ImportOrg { v, before: Some(b) }) => {
                update_valid(app, p, txn, &b, b.version, &v, now).await?;
                updated += 1;
            }
            Planned::Update(..) | Planned::Error => {
                return Err(AppError::internal(
                    "an unchecked import row reached the write",
                ));
            }
        }
    }
    Ok((created, updated))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applicant() -> OrgInput {
        OrgInput {
            name: "长沙市工程机械产业集群促进会".into(),
            kind: "promotion_org".into(),
            credit_code: jiqun_domain::credit_code::CreditCode::from_parts(
                '5', '1', "430100", "MJJ00001",
            )
            .unwrap()
            .as_str()
            .into(),
            city_code: "430100".into(),
            county_code: "430104".into(),
            contact_person: "张三".into(),
            contact_phone: "0731-88888888".into(),
        }
    }

    #[test]
    fn a_complete_applicant_is_valid() {
        let v = validate(&applicant()).unwrap();
        assert_eq!(v.kind, OrgKind::PromotionOrg);
        assert_eq!(v.county_code.map(|c| c.get()), Some(430104));
    }

    #[test]
    fn every_problem_is_reported_against_its_field() {
        let mut input = applicant();
        input.name = " ".into();
        input.credit_code = "91430100MA4L0000X".into();
        input.county_code = "430202".into();
        let err = validate(&input).unwrap_err();
        let fields: Vec<&str> = err.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["name", "credit_code", "county_code"]);
        assert!(
            err.fields()[1].message.contains("18位"),
            "{:?}",
            err.fields()
        );
        assert!(
            err.fields()[2].message.contains("不属于长沙市"),
            "{:?}",
            err.fields()
        );
    }

    #[test]
    fn a_city_bureau_needs_a_city_but_no_credit_code() {
        let input = OrgInput {
            name: "岳阳市工业和信息化局".into(),
            kind: "city_bureau".into(),
            ..Default::default()
        };
        let err = validate(&input).unwrap_err();
        assert_eq!(err.fields()[0].field, "city_code");
    }
}
