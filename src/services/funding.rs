//! The funding ledger (第十七条): the province records the rewards for new 培育对象 and 认定
//! clusters (each year's amount is the policy's default unless the province set another for
//! that year) and project support from each special fund the policy names, with the year, the
//! amount in exact 分, the document number and where the money stands (拟安排 → 已下达 →
//! 已拨付, or 已收回 / 已取消: `jiqun_domain::funding`). Totals per cluster, city, fund and year
//! are one grouped query each. A city bureau reads its city's entries, a cluster its own; an
//! item still pending for a cluster whose title was revoked is flagged.

use crate::store::id::{ClusterId, FundingEntryId};
use std::collections::{BTreeSet, HashMap};

use jiqun_domain::access::{Action, Resource, ScopeKind};
use jiqun_domain::funding::{
    self as money, EntryKind, MoneyError, Status, Step, Unit, format_wan, format_yuan,
};
use jiqun_domain::region::{self, RegionCode};
use jiqun_domain::round::Designation;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use super::{at_most, authorize};
use crate::app::{App, Principal};
use crate::audit::{Audit, Event};
use crate::clock::format_local;
use crate::error::{AppError, FieldError};
use crate::store::entity::kinds::Lifecycle;
use crate::store::{
    self,
    entity::{cluster, designation, funding_entry, funding_reward},
};

/// The most entries a list shows at once; the totals always cover every entry filtered.
pub const MAX_ROWS: u64 = 1_000;
const MAX_TEXT: usize = 200;
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

// ---------------------------------------------------------------------------------------------
// Filters

/// The filters as typed in a query string (every one optional).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FundingQuery {
    /// 年度
    pub year: Option<String>,
    /// 资金渠道（政策文件所列名称之一）
    pub fund: Option<String>,
    /// 市州代码，如 430100
    pub city: Option<String>,
    /// planned | issued | disbursed | recovered | cancelled
    pub status: Option<String>,
    /// reward_cultivation | reward_certified | project
    pub kind: Option<String>,
    pub cluster_id: Option<String>,
    /// 1: only items still pending for a cluster whose title was revoked
    pub flagged: Option<String>,
}

/// The filters, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub year: Option<i32>,
    pub fund: Option<String>,
    pub city: Option<RegionCode>,
    pub status: Option<Status>,
    pub kind: Option<EntryKind>,
    pub cluster_id: Option<ClusterId>,
    pub flagged: bool,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

impl FundingQuery {
    /// Parses every filter, naming each that is malformed (all at once).
    pub fn parse(&self) -> Result<Filter, AppError> {
        let mut errs = Vec::new();
        let mut bad = |field: &str, message: String| {
            errs.push(FieldError {
                field: field.into(),
                message,
            })
        };
        let year = given(&self.year).and_then(|t| match t.parse::<i32>() {
            Ok(y) if YEARS.contains(&y) => Some(y),
            _ => {
                bad(
                    "year",
                    format!("年度“{t}”无效，应为2000至2100之间的四位数字"),
                );
                None
            }
        });
        let city = given(&self.city).and_then(|t| {
            match t
                .parse::<RegionCode>()
                .ok()
                .filter(|c| region::city(*c).is_some())
            {
                Some(c) => Some(c),
                None => {
                    bad(
                        "city",
                        format!("{}（如 430100）", jiqun_domain::region::not_a_city(t)),
                    );
                    None
                }
            }
        });
        let status = given(&self.status).and_then(|t| match Status::from_key(t) {
            Some(s) => Some(s),
            None => {
                bad("status", format!("拨付状态“{t}”无效"));
                None
            }
        });
        let kind = given(&self.kind).and_then(|t| match EntryKind::from_key(t) {
            Some(k) => Some(k),
            None => {
                bad("kind", format!("资金类别“{t}”无效"));
                None
            }
        });
        let cluster_id = given(&self.cluster_id).and_then(|t| match t.parse::<ClusterId>() {
            Ok(id) => Some(id),
            Err(_) => {
                bad("cluster_id", format!("集群编号“{t}”无效"));
                None
            }
        });
        let filter = Filter {
            year,
            fund: given(&self.fund).map(str::to_string),
            city,
            status,
            kind,
            cluster_id,
            flagged: given(&self.flagged).is_some_and(|t| t != "0"),
        };
        if errs.is_empty() {
            Ok(filter)
        } else {
            Err(AppError::Invalid(errs))
        }
    }
}

impl Filter {
    /// The query string that reproduces this filter (for the export link).
    pub fn query(&self) -> String {
        self.link(&[]).trim_start_matches("/funding?").to_string()
    }

    /// The ledger's address with this filter and one more condition, for links.
    fn link(&self, extra: &[(&str, String)]) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(y) = self.year {
            pairs.push(("year", y.to_string()));
        }
        if let Some(f) = &self.fund {
            pairs.push(("fund", f.clone()));
        }
        if let Some(c) = self.city {
            pairs.push(("city", c.to_string()));
        }
        if let Some(s) = self.status {
            pairs.push(("status", s.key().into()));
        }
        if let Some(k) = self.kind {
            pairs.push(("kind", k.key().into()));
        }
        if let Some(id) = self.cluster_id {
            pairs.push(("cluster_id", id.to_string()));
        }
        if self.flagged {
            pairs.push(("flagged", "1".into()));
        }
        for (k, v) in extra {
            pairs.retain(|(key, _)| key != k);
            pairs.push((k, v.clone()));
        }
        let q: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", urlencoding_min(&v)))
            .collect();
        format!("/funding?{}", q.join("&"))
    }
}

/// Percent-encodes what a query value must not carry raw (Chinese fund names included).
fn urlencoding_min(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The rows a principal reaches under a filter, as one condition for every query of the page.
fn condition(p: &Principal, scope: ScopeKind, f: &Filter) -> Option<Condition> {
    let mut c = Condition::all();
    match scope {
        ScopeKind::All => {}
        ScopeKind::OwnCity => c = c.add(funding_entry::Column::CityCode.eq(p.org.city_code?)),
        ScopeKind::OwnOrg => c = c.add(funding_entry::Column::OrgId.eq(p.org.id)),
        ScopeKind::OwnCounty => {
            c = c.add(super::of_own_county(p, funding_entry::Column::ClusterId))
        }
        ScopeKind::OwnAccount => return None,
    }
    if let Some(y) = f.year {
        c = c.add(funding_entry::Column::Year.eq(y));
    }
    if let Some(fund) = &f.fund {
        c = c.add(funding_entry::Column::Fund.eq(fund.clone()));
    }
    if let Some(city) = f.city {
        c = c.add(funding_entry::Column::CityCode.eq(city));
    }
    if let Some(s) = f.status {
        c = c.add(funding_entry::Column::Status.eq(s));
    }
    if let Some(k) = f.kind {
        c = c.add(funding_entry::Column::Kind.eq(k));
    }
    if let Some(id) = f.cluster_id {
        c = c.add(funding_entry::Column::ClusterId.eq(id));
    }
    if f.flagged {
        c = c
            .add(funding_entry::Column::Status.is_in([Status::Planned, Status::Issued]))
            .add(
                funding_entry::Column::ClusterId.in_subquery(
                    Query::select()
                        .column(cluster::Column::Id)
                        .from(cluster::Entity)
                        .and_where(cluster::Column::Lifecycle.eq(Lifecycle::Revoked))
                        .to_owned(),
                ),
            );
    }
    Some(c)
}

// ---------------------------------------------------------------------------------------------
// Views

/// A step a page may offer on an entry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepOption {
    /// issue | disburse | recover | cancel
    pub key: String,
    pub label: String,
}

/// One entry of the ledger.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryRow {
    #[schema(value_type = i64)]
    pub id: FundingEntryId,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    pub cluster_name: String,
    pub city_code: String,
    pub city_name: String,
    /// reward_cultivation | reward_certified | project
    pub kind: String,
    pub kind_label: String,
    pub fund: String,
    pub project: String,
    pub year: i32,
    /// Exact, in 分.
    pub amount_fen: i64,
    /// 1,234,567.89 (元)
    pub amount_yuan: String,
    /// 123.46 (万元, rounded for reading)
    pub amount_wan: String,
    pub document_number: String,
    /// planned | issued | disbursed | recovered | cancelled
    pub status: String,
    pub status_label: String,
    pub note: String,
    /// Why this entry deserves attention (a revoked cluster's pending money), if it does.
    pub flag: Option<String>,
    pub updated_at: String,
    pub version: i32,
    /// The steps the viewer may take now (the province only).
    pub steps: Vec<StepOption>,
}

/// A total of the ledger over one group (a cluster, city, fund or year).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TotalRow {
    pub key: String,
    pub label: String,
    pub entries: i64,
    /// 拟安排、已下达、已拨付 together, in 分.
    pub arranged_fen: i64,
    pub arranged_wan: String,
    /// 已拨付 only, in 分.
    pub disbursed_fen: i64,
    pub disbursed_wan: String,
    /// The ledger filtered to this group.
    pub link: String,
}

/// The ledger as a page and the API show it: the entries filtered, and the totals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ledger {
    pub rows: Vec<EntryRow>,
    /// More entries matched than are listed (the totals count them all).
    pub truncated: bool,
    pub total: TotalRow,
    pub by_cluster: Vec<TotalRow>,
    pub by_city: Vec<TotalRow>,
    pub by_fund: Vec<TotalRow>,
    pub by_year: Vec<TotalRow>,
    /// Entries still pending for clusters whose title was revoked, in scope.
    pub flagged: i64,
    /// The funds the policy names (for filters and the entry form).
    pub funds: Vec<String>,
}

fn total_row(
    key: String,
    label: String,
    n: i64,
    arranged: i64,
    disbursed: i64,
    link: String,
) -> TotalRow {
    TotalRow {
        key,
        label,
        entries: n,
        arranged_fen: arranged,
        arranged_wan: format_wan(arranged),
        disbursed_fen: disbursed,
        disbursed_wan: format_wan(disbursed),
        link,
    }
}

/// `(group, entries, arranged, disbursed)` per value of `col`, in one grouped query. The sums
/// are cast so both databases answer a 64-bit integer (PostgreSQL's SUM of bigint is numeric).
async fn grouped<K>(
    app: &App,
    cond: Condition,
    col: funding_entry::Column,
) -> Result<Vec<(K, i64, i64, i64)>, AppError>
where
    K: sea_orm::TryGetable + sea_orm::sea_query::ValueType,
{
    let counted: Vec<String> = Status::ALL
        .into_iter()
        .filter(|s| s.counts())
        .map(|s| format!("'{}'", s.key()))
        .collect();
    Ok(funding_entry::Entity::find()
        .select_only()
        .column(col)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .column_as(
            Expr::cust(format!(
                "CAST(COALESCE(SUM(CASE WHEN status IN ({}) THEN amount_fen ELSE 0 END), 0) AS BIGINT)",
                counted.join(",")
            )),
            "arranged",
        )
        .column_as(
            Expr::cust(format!(
                "CAST(COALESCE(SUM(CASE WHEN status = '{}' THEN amount_fen ELSE 0 END), 0) AS BIGINT)",
                Status::Disbursed.key()
            )),
            "disbursed",
        )
        .filter(cond)
        .group_by(col)
        .into_tuple::<(K, i64, i64, i64)>()
        .all(&app.db)
        .await?)
}

fn funds_of(
    app: &App,
) -> Result<(Vec<String>, Option<jiqun_rules::policy::FundingRewards>), AppError> {
    let policy = super::policy::current_on(super::calendar::today(app))?.policy;
    Ok(match policy.funding {
        Some(f) => (f.sources, f.rewards),
        None => (Vec::new(), None),
    })
}

fn revoked_flag(cl: Option<&cluster::Model>, status: Status) -> Option<String> {
    (status.pending() && cl.is_some_and(|c| c.lifecycle == Lifecycle::Revoked)).then(|| {
        format!(
            "集群称号已撤销，该笔资金仍为“{}”，请核实是否停止拨付或收回",
            status.label()
        )
    })
}

fn entry_row(p: &Principal, m: &funding_entry::Model, cl: Option<&cluster::Model>) -> EntryRow {
    let may_step = authorize(p, Resource::Funding, Action::Update).is_ok();
    EntryRow {
        id: m.id,
        cluster_id: m.cluster_id,
        cluster_name: cl.map(|c| c.name.clone()).unwrap_or_default(),
        city_code: m.city_code.to_string(),
        city_name: region::city_name_of(m.city_code),
        kind: m.kind.key().into(),
        kind_label: m.kind.label().into(),
        fund: m.fund.clone(),
        project: m.project.clone(),
        year: m.year,
        amount_fen: m.amount_fen,
        amount_yuan: format_yuan(m.amount_fen),
        amount_wan: format_wan(m.amount_fen),
        document_number: m.document_number.clone(),
        status: m.status.key().into(),
        status_label: m.status.label().into(),
        note: m.note.clone(),
        flag: revoked_flag(cl, m.status),
        updated_at: format_local(m.updated_at),
        version: m.version,
        steps: if may_step {
            Step::open_from(m.status)
                .into_iter()
                .map(|s| StepOption {
                    key: s.key().into(),
                    label: s.label().into(),
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// The ledger in the principal's scope under a filter: the entries (at most [`MAX_ROWS`]) and
/// the totals per cluster, city, fund and year (seven queries whatever the size).
pub async fn ledger(app: &App, p: &Principal, f: &Filter) -> Result<Ledger, AppError> {
    let scope = authorize(p, Resource::Funding, Action::View)?;
    let (funds, _) = funds_of(app)?;
    let Some(cond) = condition(p, scope, f) else {
        return Err(AppError::Forbidden);
    };
    let mut models = funding_entry::Entity::find()
        .filter(cond.clone())
        .order_by_desc(funding_entry::Column::Year)
        .order_by_desc(funding_entry::Column::Id)
        .limit(MAX_ROWS + 1)
        .all(&app.db)
        .await?;
    let truncated = models.len() as u64 > MAX_ROWS;
    models.truncate(MAX_ROWS as usize);
    let by_cluster_raw: Vec<(ClusterId, i64, i64, i64)> =
        grouped(app, cond.clone(), funding_entry::Column::ClusterId).await?;
    let by_city_raw: Vec<(String, i64, i64, i64)> =
        grouped(app, cond.clone(), funding_entry::Column::CityCode).await?;
    let by_fund_raw: Vec<(String, i64, i64, i64)> =
        grouped(app, cond.clone(), funding_entry::Column::Fund).await?;
    let by_year_raw: Vec<(i32, i64, i64, i64)> =
        grouped(app, cond.clone(), funding_entry::Column::Year).await?;
    let clusters = store::load_by_ids::<cluster::Entity>(
        &app.db,
        models
            .iter()
            .map(|m| m.cluster_id)
            .chain(by_cluster_raw.iter().map(|r| r.0)),
    )
    .await?;
    let flagged = {
        let mut flagged_filter = f.clone();
        flagged_filter.flagged = true;
        match condition(p, scope, &flagged_filter) {
            Some(c) => {
                funding_entry::Entity::find()
                    .filter(c)
                    .count(&app.db)
                    .await? as i64
            }
            None => 0,
        }
    };
    let rows = models
        .iter()
        .map(|m| entry_row(p, m, clusters.get(&m.cluster_id)))
        .collect();
    let mut by_cluster: Vec<TotalRow> = by_cluster_raw
        .into_iter()
        .map(|(id, n, a, d)| {
            total_row(
                id.to_string(),
                clusters
                    .get(&id)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
                n,
                a,
                d,
                f.link(&[("cluster_id", id.to_string())]),
            )
        })
        .collect();
    by_cluster.sort_by(|a, b| {
        b.arranged_fen
            .cmp(&a.arranged_fen)
            .then(a.label.cmp(&b.label))
    });
    let mut by_city: Vec<TotalRow> = by_city_raw
        .into_iter()
        .map(|(code, n, a, d)| {
            total_row(
                code.clone(),
                region::city_name(&code),
                n,
                a,
                d,
                f.link(&[("city", code)]),
            )
        })
        .collect();
    by_city.sort_by(|a, b| a.key.cmp(&b.key));
    let mut by_fund: Vec<TotalRow> = by_fund_raw
        .into_iter()
        .map(|(fund, n, a, d)| {
            total_row(
                fund.clone(),
                fund.clone(),
                n,
                a,
                d,
                f.link(&[("fund", fund)]),
            )
        })
        .collect();
    // The policy's order of funds, then any other a former policy named.
    by_fund.sort_by_key(|r| {
        (
            funds.iter().position(|x| *x == r.key).unwrap_or(usize::MAX),
            r.key.clone(),
        )
    });
    let mut by_year: Vec<TotalRow> = by_year_raw
        .into_iter()
        .map(|(y, n, a, d)| {
            total_row(
                y.to_string(),
                format!("{y}年"),
                n,
                a,
                d,
                f.link(&[("year", y.to_string())]),
            )
        })
        .collect();
    by_year.sort_by(|a, b| b.key.cmp(&a.key));
    let (n, a, d) = by_year.iter().fold((0, 0, 0), |(n, a, d), r| {
        (n + r.entries, a + r.arranged_fen, d + r.disbursed_fen)
    });
    Ok(Ledger {
        rows,
        truncated,
        total: total_row("all".into(), "合计".into(), n, a, d, f.link(&[])),
        by_cluster,
        by_city,
        by_fund,
        by_year,
        flagged,
        funds,
    })
}

/// The entries of one cluster the principal may see (its report page shows them), newest first.
pub async fn of_cluster(
    app: &App,
    p: &Principal,
    cluster_id: ClusterId,
) -> Result<Vec<EntryRow>, AppError> {
    if authorize(p, Resource::Funding, Action::View).is_err() {
        return Ok(Vec::new());
    }
    let f = Filter {
        cluster_id: Some(cluster_id),
        ..Default::default()
    };
    Ok(ledger(app, p, &f).await?.rows)
}

/// One entry the principal may see; anything else is "not found".
pub async fn get(app: &App, p: &Principal, id: i64) -> Result<EntryRow, AppError> {
    let m = load(app, p, id).await?;
    let cl = cluster::Entity::find_by_id(m.cluster_id)
        .one(&app.db)
        .await?;
    Ok(entry_row(p, &m, cl.as_ref()))
}

async fn load(app: &App, p: &Principal, id: i64) -> Result<funding_entry::Model, AppError> {
    let scope = authorize(p, Resource::Funding, Action::View)?;
    let cond = condition(p, scope, &Filter::default()).ok_or(AppError::NotFound)?;
    funding_entry::Entity::find_by_id(id)
        .filter(cond)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)
}

// ---------------------------------------------------------------------------------------------
// Reward amounts

/// A year's reward for a title: the province's setting, or the policy's default.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RewardView {
    pub year: i32,
    /// reward_cultivation | reward_certified
    pub kind: String,
    pub kind_label: String,
    pub fund: String,
    pub amount_fen: Option<i64>,
    pub amount_yuan: String,
    pub amount_wan: String,
    /// set | policy | none
    pub origin: String,
    pub origin_label: String,
}

fn policy_default(
    rewards: Option<&jiqun_rules::policy::FundingRewards>,
    kind: EntryKind,
) -> Option<i64> {
    let r = rewards?;
    let yuan = match kind {
        EntryKind::RewardCultivation => r.cultivation_target_yuan,
        EntryKind::RewardCertified => r.certified_yuan,
        EntryKind::Project => return None,
    };
    i64::try_from(yuan).ok()?.checked_mul(money::FEN_PER_YUAN)
}

/// The reward amounts of a year (two rows), for anyone who reads the ledger.
pub async fn rewards(app: &App, p: &Principal, year: i32) -> Result<Vec<RewardView>, AppError> {
    authorize(p, Resource::Funding, Action::View)?;
    if !YEARS.contains(&year) {
        return Err(AppError::invalid("year", "年度应在2000至2100之间"));
    }
    let (_, defaults) = funds_of(app)?;
    let set = funding_reward::Entity::find()
        .filter(funding_reward::Column::Year.eq(year))
        .all(&app.db)
        .await?;
    Ok([EntryKind::RewardCultivation, EntryKind::RewardCertified]
        .into_iter()
        .map(|kind| {
            let own = set.iter().find(|r| r.designation == kind.key());
            let (amount, origin, origin_label) = match own {
                Some(r) => (
                    Some(r.amount_fen),
                    "set",
                    format!("{}于{}设定", r.set_by_name, format_local(r.set_at)),
                ),
                None => match policy_default(defaults.as_ref(), kind) {
                    Some(a) => (Some(a), "policy", "政策文件默认金额".to_string()),
                    None => (None, "none", "未设定".to_string()),
                },
            };
            RewardView {
                year,
                kind: kind.key().into(),
                kind_label: kind.label().into(),
                fund: defaults
                    .as_ref()
                    .map(|d| d.fund.clone())
                    .unwrap_or_default(),
                amount_fen: amount,
                amount_yuan: amount.map(format_yuan).unwrap_or_default(),
                amount_wan: amount.map(format_wan).unwrap_or_default(),
                origin: origin.into(),
                origin_label,
            }
        })
        .collect())
}

/// A year's reward amount as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RewardInput {
    pub year: String,
    /// reward_cultivation | reward_certified
    pub kind: String,
    /// As typed, e.g. "100" (万元) or "1000000.00" (元).
    pub amount: String,
    /// wan (万元, the default) | yuan (元)
    #[serde(default)]
    pub unit: String,
}

fn parse_unit(field: &str, text: &str) -> Result<Unit, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(Unit::Wan);
    }
    Unit::from_key(t).ok_or_else(|| FieldError {
        field: field.into(),
        message: format!("金额单位“{t}”无效，应为 wan（万元）或 yuan（元）"),
    })
}

fn money_error(field: &str, e: MoneyError) -> FieldError {
    FieldError {
        field: field.into(),
        message: e.to_string(),
    }
}

fn parse_year(field: &str, text: &str) -> Result<i32, FieldError> {
    let t = text.trim();
    t.parse::<i32>()
        .ok()
        .filter(|y| YEARS.contains(y))
        .ok_or_else(|| FieldError {
            field: field.into(),
            message: if t.is_empty() {
                "请填写年度".into()
            } else {
                format!("年度“{t}”无效，应为2000至2100之间的四位数字")
            },
        })
}

/// Sets a year's reward for a title (the province), replacing an earlier setting of that year;
/// audited with the amount before and after.
pub async fn set_reward(
    app: &App,
    p: &Principal,
    input: &RewardInput,
) -> Result<Vec<RewardView>, AppError> {
    authorize(p, Resource::Funding, Action::Update)?;
    let mut errs = Vec::new();
    let year = parse_year("year", &input.year)
        .map_err(|e| errs.push(e))
        .ok();
    let kind = EntryKind::from_key(input.kind.trim())
        .filter(|k| k.is_reward())
        .ok_or_else(|| {
            errs.push(FieldError {
                field: "kind".into(),
                message: "请选择奖励类别（培育对象奖励或认定奖励）".into(),
            })
        })
        .ok();
    let unit = parse_unit("unit", &input.unit)
        .map_err(|e| errs.push(e))
        .ok();
    let amount = unit.and_then(|u| {
        money::parse_amount(&input.amount, u)
            .map_err(|e| errs.push(money_error("amount", e)))
            .ok()
    });
    let (Some(year), Some(kind), Some(amount)) = (year, kind, amount) else {
        return Err(AppError::Invalid(errs));
    };
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    // Two settings of the same year and title at once: the second waits and replaces.
    store::lock::serialise(&txn, &format!("funding_reward:{year}:{}", kind.key())).await?;
    let existing = funding_reward::Entity::find()
        .filter(funding_reward::Column::Year.eq(year))
        .filter(funding_reward::Column::Designation.eq(kind.key()))
        .one(&txn)
        .await?;
    let before = existing
        .as_ref()
        .map(|r| format!("{}元", format_yuan(r.amount_fen)));
    let id = match existing {
        Some(r) => {
            let id = r.id;
            let mut am: funding_reward::ActiveModel = r.into();
            am.amount_fen = Set(amount);
            am.set_by = Set(p.user.id);
            am.set_by_name = Set(p.user.display_name.clone());
            am.set_at = Set(now);
            am.update(&txn).await?;
            id
        }
        None => {
            funding_reward::ActiveModel {
                year: Set(year),
                designation: Set(kind.key().into()),
                amount_fen: Set(amount),
                set_by: Set(p.user.id),
                set_by_name: Set(p.user.display_name.clone()),
                set_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?
            .id
        }
    };
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "funding.reward_set",
                object_type: "funding_reward",
                object_id: id.to_string(),
                summary: format!(
                    "设定{year}年{}金额：{} → {}元",
                    kind.label(),
                    before.unwrap_or_else(|| "政策默认".into()),
                    format_yuan(amount)
                ),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    rewards(app, p, year).await
}

// ---------------------------------------------------------------------------------------------
// Entries

/// A new entry as typed (the form and the API).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct EntryInput {
    pub cluster_id: String,
    /// reward_cultivation | reward_certified | project
    pub kind: String,
    /// One of the policy's funds; for a reward, empty means the policy's reward fund.
    #[serde(default)]
    pub fund: String,
    /// The project supported; for a reward it may stay empty.
    #[serde(default)]
    pub project: String,
    pub year: String,
    /// As typed; for a reward, empty means the year's reward amount.
    #[serde(default)]
    pub amount: String,
    /// wan (万元, the default) | yuan (元)
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub document_number: String,
    #[serde(default)]
    pub note: String,
}

/// Records an entry (拟安排) for a cluster (the province); every problem is named against its
/// field at once and nothing is written.
pub async fn create(app: &App, p: &Principal, input: &EntryInput) -> Result<EntryRow, AppError> {
    authorize(p, Resource::Funding, Action::Create)?;
    let (funds, reward_defaults) = funds_of(app)?;
    let mut errs: Vec<FieldError> = Vec::new();
    let cluster_id = input.cluster_id.trim().parse::<i64>().ok();
    let cl = match cluster_id {
        Some(id) => cluster::Entity::find_by_id(id).one(&app.db).await?,
        None => None,
    };
    if cl.is_none() {
        errs.push(FieldError {
            field: "cluster_id".into(),
            message: "请选择集群".into(),
        });
    }
    let kind = EntryKind::from_key(input.kind.trim());
    if kind.is_none() {
        errs.push(FieldError {
            field: "kind".into(),
            message: "请选择资金类别（培育对象奖励、认定奖励或项目支持）".into(),
        });
    }
    let year = parse_year("year", &input.year)
        .map_err(|e| errs.push(e))
        .ok();
    let fund = match (input.fund.trim(), kind) {
        ("", Some(k)) if k.is_reward() => reward_defaults.as_ref().map(|r| r.fund.clone()),
        ("", _) => None,
        (f, _) => Some(f.to_string()),
    };
    match &fund {
        None => errs.push(FieldError {
            field: "fund".into(),
            message: "请选择资金渠道".into(),
        }),
        Some(f) if !funds.contains(f) => errs.push(FieldError {
            field: "fund".into(),
            message: format!("“{f}”不是现行政策所列资金渠道（{}）", funds.join("、")),
        }),
        Some(_) => {}
    }
    let project = match (input.project.trim(), kind) {
        ("", Some(EntryKind::Project)) => {
            errs.push(FieldError {
                field: "project".into(),
                message: "项目支持须填写项目名称".into(),
            });
            String::new()
        }
        ("", Some(k)) => k.label().to_string(),
        (t, _) => t.to_string(),
    };
    for (field, value, label) in [
        ("project", project.as_str(), "项目名称"),
        ("document_number", input.document_number.trim(), "文号"),
    ] {
        if let Err(AppError::Invalid(mut e)) = at_most(field, value, label, MAX_TEXT) {
            errs.append(&mut e);
        }
    }
    if let Err(AppError::Invalid(mut e)) = at_most("note", input.note.trim(), "备注", 2_000) {
        errs.append(&mut e);
    }
    let unit = parse_unit("unit", &input.unit)
        .map_err(|e| errs.push(e))
        .ok();
    let amount = match (input.amount.trim(), kind, year) {
        ("", Some(k), Some(y)) if k.is_reward() => {
            let views = rewards(app, p, y).await?;
            let a = views
                .iter()
                .find(|v| v.kind == k.key())
                .and_then(|v| v.amount_fen);
            if a.is_none() {
                errs.push(money_error("amount", MoneyError::Empty));
            }
            a
        }
        (_, _, _) => unit.and_then(|u| {
            money::parse_amount(&input.amount, u)
                .map_err(|e| errs.push(money_error("amount", e)))
                .ok()
        }),
    };
    // A reward is for a title the cluster was given.
    if let (Some(cl), Some(k)) = (&cl, kind) {
        if cl.lifecycle == Lifecycle::Revoked {
            errs.push(FieldError {
                field: "cluster_id".into(),
                message: format!("“{}”的称号已撤销，不能再安排资金", cl.name),
            });
        } else if k.is_reward() {
            let wanted = match k {
                EntryKind::RewardCultivation => Designation::CultivationTarget,
                _ => Designation::Certified,
            };
            let held = designation::Entity::find()
                .filter(designation::Column::ClusterId.eq(cl.id))
                .filter(designation::Column::Designation.eq(wanted))
                .count(&app.db)
                .await?;
            if held == 0 {
                errs.push(FieldError {
                    field: "kind".into(),
                    message: format!(
                        "“{}”未获{}称号，不能安排{}",
                        cl.name,
                        crate::config::title_of(wanted),
                        k.label()
                    ),
                });
            }
        }
    }
    let (Some(cl), Some(kind), Some(year), Some(fund), Some(amount), true) =
        (cl, kind, year, fund, amount, errs.is_empty())
    else {
        return Err(AppError::Invalid(errs));
    };
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let m = funding_entry::ActiveModel {
        cluster_id: Set(cl.id),
        org_id: Set(cl.org_id),
        city_code: Set(cl.city_code),
        kind: Set(kind),
        fund: Set(fund.clone()),
        project: Set(project.clone()),
        year: Set(year),
        amount_fen: Set(amount),
        document_number: Set(input.document_number.trim().to_string()),
        status: Set(Status::Planned),
        note: Set(input.note.trim().to_string()),
        created_by: Set(p.user.id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "funding.create",
                object_type: "funding_entry",
                object_id: m.id.to_string(),
                summary: format!(
                    "{}：{}年{}“{}”，{}，{}元（拟安排）",
                    cl.name,
                    year,
                    kind.label(),
                    project,
                    fund,
                    format_yuan(amount)
                ),
                ..Default::default()
            },
        )
        .await?;
    txn.commit().await?;
    Ok(entry_row(p, &m, Some(&cl)))
}

/// A step on an entry as asked.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct StepInput {
    /// issue | disburse | recover | cancel
    pub step: String,
    /// The version the page showed (optimistic concurrency).
    pub version: i32,
    /// The funds document's number, when the step brings one (e.g. on 下达).
    #[serde(default)]
    pub document_number: String,
    #[serde(default)]
    pub note: String,
}

/// Moves an entry one step (the province), audited with the status before and after.
pub async fn step(
    app: &App,
    p: &Principal,
    id: i64,
    input: &StepInput,
) -> Result<EntryRow, AppError> {
    let m = load(app, p, id).await?;
    authorize(p, Resource::Funding, Action::Update)?;
    let step = Step::from_key(input.step.trim()).ok_or_else(|| {
        AppError::invalid(
            "step",
            format!(
                "操作“{}”无效，应为 issue、disburse、recover 或 cancel",
                input.step.trim()
            ),
        )
    })?;
    at_most(
        "document_number",
        input.document_number.trim(),
        "文号",
        MAX_TEXT,
    )?;
    at_most("note", input.note.trim(), "备注", 2_000)?;
    let to = money::apply(m.status, step).map_err(|e| AppError::Conflict(e.to_string()))?;
    let now = app.clock.now();
    let doc = match input.document_number.trim() {
        "" => m.document_number.clone(),
        d => d.to_string(),
    };
    let note = match input.note.trim() {
        "" => m.note.clone(),
        n if m.note.is_empty() => n.to_string(),
        n => format!("{}\n{n}", m.note),
    };
    let txn = store::write_txn(&app.db).await?;
    store::update_versioned(
        &txn,
        m.id,
        input.version,
        funding_entry::ActiveModel {
            status: Set(to),
            document_number: Set(doc.clone()),
            note: Set(note),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "funding.step",
                object_type: "funding_entry",
                object_id: m.id.to_string(),
                summary: format!(
                    "{}年“{}”{}元：{} → {}{}",
                    m.year,
                    m.project,
                    format_yuan(m.amount_fen),
                    m.status.label(),
                    to.label(),
                    if doc.is_empty() {
                        String::new()
                    } else {
                        format!("（文号 {doc}）")
                    }
                ),
                reason: input.note.trim().to_string(),
            },
        )
        .await?;
    txn.commit().await?;
    get(app, p, id).await
}

// ---------------------------------------------------------------------------------------------
// Export

/// The ledger as a workbook: the entries (amounts as numbers of 元, two decimals) and one
/// sheet of totals per grouping. Recorded on the audit trail.
pub async fn export(app: &App, p: &Principal, f: &Filter) -> Result<Vec<u8>, AppError> {
    authorize(p, Resource::Funding, Action::Export)?;
    let l = ledger(app, p, f).await?;
    let bytes = xlsx(&l)?;
    crate::audit::record_export(
        app,
        p,
        Event {
            action: "funding.export",
            object_type: "funding_entry",
            object_id: String::new(),
            summary: format!("导出资金台账（{}条）", l.rows.len()),
            ..Default::default()
        },
    )
    .await?;
    Ok(bytes)
}

pub const XLSX_HEADERS: [&str; 11] = [
    "年度",
    "集群",
    "市州",
    "类别",
    "资金渠道",
    "项目",
    "金额（元）",
    "文号",
    "拨付状态",
    "备注",
    "提示",
];

/// The workbook itself (pure over the ledger).
pub fn xlsx(l: &Ledger) -> Result<Vec<u8>, AppError> {
    use super::workbook::{column_widths, header_row, styles, xlsx_err};
    let st = styles();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("资金台账").map_err(xlsx_err)?;
    header_row(ws, &st, "先进制造业集群资金台账", &XLSX_HEADERS)?;
    column_widths(
        ws,
        &[
            8.0, 30.0, 10.0, 12.0, 26.0, 30.0, 16.0, 24.0, 10.0, 30.0, 30.0,
        ],
    )?;
    for (row, r) in (2u32..).zip(&l.rows) {
        ws.write_number_with_format(row, 0, f64::from(r.year), &st.cell)
            .map_err(xlsx_err)?;
        for (col, text) in [
            (1u16, &r.cluster_name),
            (2, &r.city_name),
            (3, &r.kind_label),
            (4, &r.fund),
            (5, &r.project),
        ] {
            ws.write_string_with_format(row, col, text, &st.wrap)
                .map_err(xlsx_err)?;
        }
        ws.write_number_with_format(row, 6, money::yuan_number(r.amount_fen), &st.number)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 7, &r.document_number, &st.cell)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 8, &r.status_label, &st.cell)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 9, &r.note, &st.wrap)
            .map_err(xlsx_err)?;
        ws.write_string_with_format(row, 10, r.flag.as_deref().unwrap_or(""), &st.wrap)
            .map_err(xlsx_err)?;
    }
    for (name, title, rows) in [
        ("按集群", "集群", &l.by_cluster),
        ("按市州", "市州", &l.by_city),
        ("按资金渠道", "资金渠道", &l.by_fund),
        ("按年度", "年度", &l.by_year),
    ] {
        let ws = wb.add_worksheet();
        ws.set_name(name).map_err(xlsx_err)?;
        header_row(
            ws,
            &st,
            &format!("资金台账合计（{name}）"),
            &[title, "笔数", "安排金额（元）", "已拨付金额（元）"],
        )?;
        column_widths(ws, &[30.0, 8.0, 18.0, 18.0])?;
        for (row, r) in (2u32..).zip(rows.iter().chain(std::iter::once(&l.total))) {
            ws.write_string_with_format(row, 0, &r.label, &st.cell)
                .map_err(xlsx_err)?;
            ws.write_number_with_format(row, 1, r.entries as f64, &st.cell)
                .map_err(xlsx_err)?;
            ws.write_number_with_format(row, 2, money::yuan_number(r.arranged_fen), &st.number)
                .map_err(xlsx_err)?;
            ws.write_number_with_format(row, 3, money::yuan_number(r.disbursed_fen), &st.number)
                .map_err(xlsx_err)?;
        }
    }
    wb.save_to_buffer().map_err(xlsx_err)
}

/// The distinct years and clusters a province form offers (the clusters that hold or held a
/// title), in one query each.
pub async fn form_choices(app: &App, p: &Principal) -> Result<Vec<(ClusterId, String)>, AppError> {
    if authorize(p, Resource::Funding, Action::Create).is_err() {
        return Ok(Vec::new());
    }
    let titled: BTreeSet<ClusterId> = designation::Entity::find()
        .select_only()
        .column(designation::Column::ClusterId)
        .into_tuple::<ClusterId>()
        .all(&app.db)
        .await?
        .into_iter()
        .collect();
    let clusters: HashMap<ClusterId, cluster::Model> =
        store::load_by_ids::<cluster::Entity>(&app.db, titled.iter().copied()).await?;
    let mut out: Vec<(ClusterId, String)> = clusters
        .into_values()
        .filter(|c| c.lifecycle != Lifecycle::Revoked)
        .map(|c| {
            (
                c.id,
                format!("{}（{}）", c.name, region::city_name_of(c.city_code)),
            )
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}
