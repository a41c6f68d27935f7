//! A designated cluster's 变更申请 (第十二条: what was announced stays as announced). Once a
//! cluster holds a live title its name, kind, counties and promotion organisation change only
//! here: the promotion organisation files what changes to what with reasons and evidence, its
//! city bureau gives a written opinion (同意 or 不同意), the province approves — the change
//! applies and every certificate in force is reissued (换发) under a new number, the old one
//! marked superseded — or refuses with reasons, and nothing changes. Every step is audited.

use crate::store::id::{ChangeRequestId, ClusterId, DesignationId, OrgId};
use std::collections::HashMap;

use jiqun_domain::access::{Action, Resource, Role, ScopeKind};
use jiqun_domain::change_request::{self as rule, ChangeStatus, ChangeStep, Field};
use jiqun_domain::region::RegionCode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::clusters::{self, ClusterInput, Lead};
use super::{at_most, authorize, required_text};
use crate::app::{App, Principal};
use crate::attachments::{self, AttachmentView};
use crate::audit::{Audit, Event};
use crate::error::AppError;
use crate::services::owners::OwnerType;
use crate::store::{
    self,
    entity::{change_request, cluster, cluster_county, organisation},
};

const MAX_REASONS: usize = 2000;

/// The fields a 变更申请 covers, as they stand (before) or as asked (after).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangeFacts {
    pub name: String,
    /// Policy cluster-kind key.
    pub kind: String,
    pub kind_label: String,
    pub lead_county_code: String,
    pub other_county_codes: Vec<String>,
    /// 长沙市长沙县、长沙市浏阳市 (lead first)
    pub counties: String,
    /// The promotion organisation (集群发展促进组织).
    #[schema(value_type = i64)]
    pub org_id: OrgId,
    pub org_name: String,
}

impl ChangeFacts {
    /// The fields that differ, in the order of [`Field::ALL`].
    fn changed(&self, other: &ChangeFacts) -> Vec<Field> {
        Field::ALL
            .into_iter()
            .filter(|f| match f {
                Field::Name => self.name != other.name,
                Field::Kind => self.kind != other.kind,
                Field::Counties => {
                    self.lead_county_code != other.lead_county_code
                        || self.other_county_codes != other.other_county_codes
                }
                Field::Organisation => self.org_id != other.org_id,
            })
            .collect()
    }

    fn value(&self, f: Field) -> &str {
        match f {
            Field::Name => &self.name,
            Field::Kind => &self.kind_label,
            Field::Counties => &self.counties,
            Field::Organisation => &self.org_name,
        }
    }
}

/// What the promotion organisation asks: only the fields it fills change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangeInput {
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    /// The new name, when it changes.
    #[serde(default)]
    pub name: Option<String>,
    /// The new cluster-kind key (or name), when it changes.
    #[serde(default)]
    pub kind: Option<String>,
    /// The new lead county (6-digit code), when the counties change.
    #[serde(default)]
    pub lead_county_code: Option<String>,
    /// The new other counties, when the counties change.
    #[serde(default)]
    pub other_county_codes: Option<Vec<String>>,
    /// The new promotion organisation (an applicant organisation's id), when it changes.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub org_id: Option<OrgId>,
    /// 变更理由
    pub reasons: String,
}

/// The city bureau's written opinion.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpinionInput {
    /// true: 同意; false: 不同意
    pub agrees: bool,
    pub opinion: String,
    #[serde(default)]
    pub version: Option<i32>,
}

/// The province's decision.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangeDecisionInput {
    /// true: 批准 (the certificate is reissued); false: 不予批准
    pub approve: bool,
    pub reasons: String,
    #[serde(default)]
    pub version: Option<i32>,
}

/// One changed field: 集群名称 长沙工程机械产业集群 → 长沙智能装备产业集群.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangedField {
    pub label: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeRequestView {
    #[schema(value_type = i64)]
    pub id: ChangeRequestId,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
    /// awaiting_city | awaiting_province | approved | refused
    pub status: String,
    pub status_label: String,
    pub before: ChangeFacts,
    pub after: ChangeFacts,
    pub changes: Vec<ChangedField>,
    pub reasons: String,
    /// 2026年12月4日 14:05
    pub filed_at: String,
    /// 同意 | 不同意 | empty before the city's opinion.
    pub city_verdict: String,
    pub city_opinion: String,
    pub city_at: String,
    pub decision_reasons: String,
    pub decided_at: String,
    /// The certificate replaced and the one reissued, once approved.
    pub old_certificate: String,
    pub new_certificate: String,
    #[schema(value_type = Option<i64>)]
    pub new_designation_id: Option<DesignationId>,
    pub attachments: Vec<AttachmentView>,
    pub version: i32,
}

fn refused(e: String) -> AppError {
    AppError::Conflict(e)
}

/// Where the principal's scope reaches a request; anything else is "not found".
fn in_scope(p: &Principal, scope: ScopeKind, r: &change_request::Model) -> bool {
    match scope {
        ScopeKind::All => true,
        ScopeKind::OwnCity => p.org.city_code == Some(r.city_code),
        ScopeKind::OwnOrg => p.org.id == r.org_id,
        // No county reaches a 变更申请 (the table grants none).
        ScopeKind::OwnCounty | ScopeKind::OwnAccount => false,
    }
}

async fn load<C: ConnectionTrait>(
    conn: &C,
    p: &Principal,
    id: ChangeRequestId,
    action: Action,
) -> Result<change_request::Model, AppError> {
    let view =
        authorize(p, Resource::ChangeRequest, Action::View).map_err(|_| AppError::NotFound)?;
    let r = change_request::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|r| in_scope(p, view, r))
        .ok_or(AppError::NotFound)?;
    if action != Action::View {
        let scope = authorize(p, Resource::ChangeRequest, action)?;
        if !in_scope(p, scope, &r) {
            return Err(AppError::Forbidden);
        }
    }
    Ok(r)
}

/// The facts of a cluster as they stand.
async fn facts_of<C: ConnectionTrait>(
    conn: &C,
    cl: &cluster::Model,
    kinds: &[jiqun_rules::policy::ClusterKind],
) -> Result<ChangeFacts, AppError> {
    let others = super::records::other_counties(conn, [cl.id])
        .await?
        .remove(&cl.id)
        .unwrap_or_default();
    let org = clusters::org_names(conn, [cl.org_id])
        .await?
        .remove(&cl.org_id)
        .unwrap_or_default();
    Ok(facts(
        &cl.name,
        &cl.kind,
        kinds,
        &cl.lead_county_code.to_string(),
        others,
        cl.org_id,
        org,
    ))
}

fn facts(
    name: &str,
    kind: &str,
    kinds: &[jiqun_rules::policy::ClusterKind],
    lead: &str,
    mut others: Vec<String>,
    org_id: OrgId,
    org_name: String,
) -> ChangeFacts {
    // A county row may repeat the lead county; the lead is named once, first.
    others.retain(|c| c != lead);
    others.sort();
    others.dedup();
    let snap = super::records::freeze(&super::records::Facts {
        cluster_name: name,
        kind,
        kind_label: "",
        org_name: "",
        city_code: "",
        lead_county: lead,
        other_counties: &others,
        final_score: None,
        rank: None,
    });
    ChangeFacts {
        name: name.to_string(),
        kind: kind.to_string(),
        kind_label: kinds
            .iter()
            .find(|k| k.key == kind)
            .map_or_else(|| kind.to_string(), |k| k.name.clone()),
        lead_county_code: lead.to_string(),
        other_county_codes: others,
        counties: snap.counties_text(),
        org_id,
        org_name,
    }
}

/// Whether the cluster holds a title in force (培育对象 or 省先进制造业集群).
pub async fn holds_title<C: ConnectionTrait>(
    conn: &C,
    cluster_id: ClusterId,
) -> Result<bool, AppError> {
    Ok(!super::designations::open_titles(conn, cluster_id)
        .await?
        .is_empty())
}

/// The promotion organisations a cluster may be transferred to in a 变更申请: every other
/// active, registered one (the filer is the cluster's present organisation).
pub async fn org_choices(
    app: &App,
    p: &Principal,
    present: OrgId,
) -> Result<Vec<clusters::OrgRef>, AppError> {
    authorize(p, Resource::ChangeRequest, Action::Create)?;
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Kind.eq(jiqun_domain::access::OrgKind::PromotionOrg))
        .filter(organisation::Column::Active.eq(true))
        .filter(organisation::Column::Id.ne(present))
        .order_by_asc(organisation::Column::Name)
        .all(&app.db)
        .await?
        .into_iter()
        .map(|o| clusters::OrgRef {
            id: o.id,
            name: o.name,
        })
        .collect())
}

/// The refusal of a direct edit of what only a 变更申请 may change.
pub fn direct_edit_refusal(cluster_id: ClusterId) -> AppError {
    AppError::Conflict(format!(
        "该集群持有有效的认定称号，{}已随认定结果公告，不能直接修改；如需变更，请提出变更申请（集群页面“提出变更申请”，/change-requests/new?cluster_id={cluster_id}），经所在市州工信部门出具意见、省工信厅批准后换发证书。",
        Field::all_text()
    ))
}

/// Called by the cluster edit: refuses a change of name, kind or counties of a cluster holding
/// a live title (the promotion organisation cannot be edited there at all).
pub async fn guard_direct_edit<C: ConnectionTrait>(
    conn: &C,
    before: &cluster::Model,
    v: &clusters::ValidCluster,
) -> Result<(), AppError> {
    if !holds_title(conn, before.id).await? {
        return Ok(());
    }
    let mut others: Vec<String> = super::records::other_counties(conn, [before.id])
        .await?
        .remove(&before.id)
        .unwrap_or_default();
    let lead = before.lead_county_code.to_string();
    others.retain(|c| *c != lead);
    others.sort();
    others.dedup();
    let mut asked: Vec<String> = v.other_counties.iter().map(|c| c.to_string()).collect();
    asked.retain(|c| *c != lead);
    asked.sort();
    asked.dedup();
    if v.name != before.name
        || v.kind != before.kind
        || v.lead_county != before.lead_county_code
        || asked != others
    {
        return Err(direct_edit_refusal(before.id));
    }
    Ok(())
}

/// The new promotion organisation: an active applicant organisation with a city.
async fn new_org<C: ConnectionTrait>(
    conn: &C,
    id: OrgId,
) -> Result<(organisation::Model, RegionCode), AppError> {
    let o = organisation::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|o| o.active && o.kind == jiqun_domain::access::OrgKind::PromotionOrg)
        .ok_or_else(|| AppError::invalid("org_id", "请选择已登记的集群发展促进组织"))?;
    let city = o
        .city_code
        .ok_or_else(|| AppError::invalid("org_id", "该促进组织尚未登记所在市州"))?;
    Ok((o, city))
}

/// Files a 变更申请 (the cluster's promotion organisation): at most one open request per
/// cluster; the city bureau is told.
pub async fn file(
    app: &App,
    p: &Principal,
    input: &ChangeInput,
) -> Result<ChangeRequestView, AppError> {
    authorize(p, Resource::ChangeRequest, Action::Create)?;
    let cl = clusters::load_visible(&app.db, p, input.cluster_id).await?;
    if cl.org_id != p.org.id {
        return Err(AppError::Forbidden);
    }
    if !holds_title(&app.db, cl.id).await? {
        return Err(AppError::Conflict(
            "该集群未持有有效的认定称号，集群信息可直接在集群页面修改，无需变更申请".into(),
        ));
    }
    let reasons = required_text("reasons", &input.reasons, "请填写变更理由")?;
    at_most("reasons", reasons, "变更理由", MAX_REASONS)?;
    let kinds = clusters::cluster_kinds(app)?;
    let before = facts_of(&app.db, &cl, &kinds).await?;
    let (org_id, org_name, city) = match input.org_id.filter(|id| *id != cl.org_id) {
        Some(id) => {
            let (o, city) = new_org(&app.db, id).await?;
            (o.id, o.name, city)
        }
        None => (cl.org_id, before.org_name.clone(), cl.city_code),
    };
    let merged = ClusterInput {
        name: input.name.clone().unwrap_or_else(|| cl.name.clone()),
        kind: input.kind.clone().unwrap_or_else(|| cl.kind.clone()),
        industry_code: cl.industry_code.clone(),
        lead_county_code: input
            .lead_county_code
            .clone()
            .unwrap_or_else(|| before.lead_county_code.clone()),
        other_county_codes: input
            .other_county_codes
            .clone()
            .unwrap_or_else(|| before.other_county_codes.clone()),
        core_park: cl.core_park.clone(),
        co_applicant_org_ids: Vec::new(),
    };
    let v = clusters::validate(&merged, Lead { org_id, city }, &kinds)?;
    let after = facts(
        &v.name,
        &v.kind,
        &kinds,
        &v.lead_county.to_string(),
        v.other_counties.iter().map(|c| c.to_string()).collect(),
        org_id,
        org_name,
    );
    let changed = before.changed(&after);
    if changed.is_empty() {
        return Err(AppError::invalid(
            "name",
            format!("未提出任何变更：请填写{}中要变更的事项", Field::all_text()),
        ));
    }
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    // Two filings at once must not both pass the "one open request" check.
    store::lock::serialise(&txn, &format!("change-request:{}", cl.id)).await?;
    let open = change_request::Entity::find()
        .filter(change_request::Column::ClusterId.eq(cl.id))
        .filter(
            change_request::Column::Status
                .is_in([ChangeStatus::AwaitingCity, ChangeStatus::AwaitingProvince]),
        )
        .one(&txn)
        .await?;
    if let Some(o) = open {
        return Err(AppError::Conflict(format!(
            "该集群已有一件办理中的变更申请（编号{}，{}），请待其办结后再提出",
            o.id,
            o.status.label()
        )));
    }
    let json = |f: &ChangeFacts| {
        serde_json::to_string(f).map_err(|e| AppError::internal(format!("change facts: {e}")))
    };
    let m = change_request::ActiveModel {
        cluster_id: Set(cl.id),
        org_id: Set(cl.org_id),
        city_code: Set(cl.city_code),
        status: Set(ChangeStatus::AwaitingCity),
        before_json: Set(json(&before)?),
        changes_json: Set(json(&after)?),
        reasons: Set(reasons.to_string()),
        city_agrees: Set(None),
        city_opinion: Set(String::new()),
        city_by: Set(None),
        city_at: Set(None),
        decision_reasons: Set(String::new()),
        decided_by: Set(None),
        decided_at: Set(None),
        old_designation_id: Set(None),
        new_designation_id: Set(None),
        filed_by: Set(p.user.id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let what = describe(&before, &after, &changed);
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "change_request.file",
                object_type: "change_request",
                object_id: m.id.to_string(),
                summary: format!("“{}”提出变更申请：{what}", cl.name),
                reason: reasons.to_string(),
            },
        )
        .await?;
    super::notifications::notify_city(
        &txn,
        &cl.city_code.to_string(),
        &format!("待出具意见的变更申请：{}", cl.name),
        &format!("{}提出变更申请（{what}），请审核并出具市州意见。", cl.name),
        &format!("/change-requests/{}", m.id),
        now,
    )
    .await?;
    txn.commit().await?;
    get(app, p, m.id).await
}

fn describe(before: &ChangeFacts, after: &ChangeFacts, changed: &[Field]) -> String {
    changed
        .iter()
        .map(|f| {
            format!(
                "{}由“{}”变更为“{}”",
                f.label(),
                before.value(*f),
                after.value(*f)
            )
        })
        .collect::<Vec<_>>()
        .join("；")
}

fn parse_facts(text: &str) -> ChangeFacts {
    serde_json::from_str(text).unwrap_or_default()
}

fn when(at: Option<OffsetDateTime>) -> String {
    at.map(crate::clock::local_minutes).unwrap_or_default()
}

async fn numbers<C: ConnectionTrait>(
    conn: &C,
    list: &[change_request::Model],
) -> Result<HashMap<DesignationId, String>, AppError> {
    use crate::store::entity::designation;
    let mut ids: Vec<DesignationId> = Vec::new();
    for r in list {
        ids.extend(r.old_designation_id);
        ids.extend(r.new_designation_id);
    }
    Ok(
        store::load_by_ids_map::<designation::Entity, _>(conn, ids, |d| d.certificate_number)
            .await?,
    )
}

fn view_of(
    r: &change_request::Model,
    numbers: &HashMap<DesignationId, String>,
    attachments: Vec<AttachmentView>,
) -> ChangeRequestView {
    let before = parse_facts(&r.before_json);
    let after = parse_facts(&r.changes_json);
    let changes = before
        .changed(&after)
        .into_iter()
        .map(|f| ChangedField {
            label: f.label().into(),
            before: before.value(f).into(),
            after: after.value(f).into(),
        })
        .collect();
    let number = |id: Option<DesignationId>| {
        id.and_then(|id| numbers.get(&id).cloned())
            .unwrap_or_default()
    };
    ChangeRequestView {
        id: r.id,
        cluster_id: r.cluster_id,
        status: r.status.key().into(),
        status_label: r.status.label().into(),
        changes,
        before,
        after,
        reasons: r.reasons.clone(),
        filed_at: crate::clock::local_minutes(r.created_at),
        city_verdict: match r.city_agrees {
            Some(true) => "同意".into(),
            Some(false) => "不同意".into(),
            None => String::new(),
        },
        city_opinion: r.city_opinion.clone(),
        city_at: when(r.city_at),
        decision_reasons: r.decision_reasons.clone(),
        decided_at: when(r.decided_at),
        old_certificate: number(r.old_designation_id),
        new_certificate: number(r.new_designation_id),
        new_designation_id: r.new_designation_id,
        attachments,
        version: r.version,
    }
}

/// The requests the principal may see (applicant its own, city its region, province all),
/// newest first.
pub async fn list(app: &App, p: &Principal) -> Result<Vec<ChangeRequestView>, AppError> {
    let scope = authorize(p, Resource::ChangeRequest, Action::View)?;
    let mut q = change_request::Entity::find();
    q = match scope {
        ScopeKind::All => q,
        ScopeKind::OwnCity => match p.org.city_code {
            Some(c) => q.filter(change_request::Column::CityCode.eq(c)),
            None => return Ok(Vec::new()),
        },
        ScopeKind::OwnOrg => q.filter(change_request::Column::OrgId.eq(p.org.id)),
        ScopeKind::OwnCounty => {
            q.filter(super::of_own_county(p, change_request::Column::ClusterId))
        }
        ScopeKind::OwnAccount => return Ok(Vec::new()),
    };
    let rows = q
        .order_by_desc(change_request::Column::Id)
        .all(&app.db)
        .await?;
    let numbers = numbers(&app.db, &rows).await?;
    Ok(rows
        .iter()
        .map(|r| view_of(r, &numbers, Vec::new()))
        .collect())
}

/// One request the principal may see, with its evidence.
pub async fn get(
    app: &App,
    p: &Principal,
    id: ChangeRequestId,
) -> Result<ChangeRequestView, AppError> {
    let r = load(&app.db, p, id, Action::View).await?;
    let numbers = numbers(&app.db, std::slice::from_ref(&r)).await?;
    let files = attachments::list(app, OwnerType::ChangeRequest, r.id.get()).await?;
    Ok(view_of(&r, &numbers, files))
}

/// The open requests of a cluster, for its page (and the direct edit's read-only fields).
pub async fn of_cluster<C: ConnectionTrait>(
    conn: &C,
    cluster_id: ClusterId,
) -> Result<Vec<change_request::Model>, AppError> {
    Ok(change_request::Entity::find()
        .filter(change_request::Column::ClusterId.eq(cluster_id))
        .order_by_asc(change_request::Column::Id)
        .all(conn)
        .await?)
}

/// The steps as the step indicator shows them.
pub fn steps_of(status: &str) -> Vec<(&'static str, &'static str)> {
    ChangeStatus::from_key(status)
        .map(rule::steps)
        .unwrap_or_default()
        .into_iter()
        .map(|(label, state)| (label, state.key()))
        .collect()
}

fn ensure_version(r: &change_request::Model, expected: Option<i32>) -> Result<(), AppError> {
    match expected {
        Some(v) if v != r.version => Err(AppError::StaleVersion),
        _ => Ok(()),
    }
}

/// The city bureau's written opinion (同意 or 不同意); the province is told.
pub async fn opine(
    app: &App,
    p: &Principal,
    id: ChangeRequestId,
    input: &OpinionInput,
) -> Result<ChangeRequestView, AppError> {
    authorize(p, Resource::ChangeRequest, Action::Review)?;
    if p.role != Role::CityBureau {
        return Err(AppError::Forbidden);
    }
    let text = required_text("opinion", &input.opinion, "请填写市州意见")?;
    at_most("opinion", text, "市州意见", MAX_REASONS)?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let r = load(&txn, p, id, Action::Review).await?;
    ensure_version(&r, input.version)?;
    let to = rule::next(r.status, ChangeStep::CityOpinion).map_err(refused)?;
    store::update_versioned(
        &txn,
        r.id,
        r.version,
        change_request::ActiveModel {
            status: Set(to),
            city_agrees: Set(Some(input.agrees)),
            city_opinion: Set(text.to_string()),
            city_by: Set(Some(p.user.id)),
            city_at: Set(Some(now)),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let verdict = if input.agrees { "同意" } else { "不同意" };
    let name = parse_facts(&r.before_json).name;
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action: "change_request.city_opinion",
                object_type: "change_request",
                object_id: r.id.to_string(),
                summary: format!("对“{name}”的变更申请出具市州意见：{verdict}"),
                reason: text.to_string(),
            },
        )
        .await?;
    super::notifications::notify_role(
        &txn,
        Role::Province,
        &format!("待审批的变更申请：{name}"),
        &format!("{name}的变更申请已有市州意见（{verdict}），请审批。"),
        &format!("/change-requests/{}", r.id),
        now,
    )
    .await?;
    txn.commit().await?;
    get(app, p, id).await
}

/// The province's decision. Approval applies the change to the cluster and reissues every
/// certificate in force (换发); refusal changes nothing. The applicant is told either way.
pub async fn decide(
    app: &App,
    p: &Principal,
    id: ChangeRequestId,
    input: &ChangeDecisionInput,
) -> Result<ChangeRequestView, AppError> {
    authorize(p, Resource::ChangeRequest, Action::Review)?;
    if p.role != Role::Province {
        return Err(AppError::Forbidden);
    }
    let text = required_text(
        "reasons",
        &input.reasons,
        if input.approve {
            "请填写批准意见"
        } else {
            "请填写不予批准的理由"
        },
    )?;
    at_most("reasons", text, "审批意见", MAX_REASONS)?;
    let kinds = clusters::cluster_kinds(app)?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let r = load(&txn, p, id, Action::Review).await?;
    ensure_version(&r, input.version)?;
    let step = if input.approve {
        ChangeStep::Approve
    } else {
        ChangeStep::Refuse
    };
    let to = rule::next(r.status, step).map_err(refused)?;
    let before = parse_facts(&r.before_json);
    let after = parse_facts(&r.changes_json);
    let changed = before.changed(&after);
    let what = describe(&before, &after, &changed);
    let mut pairs = Vec::new();
    if input.approve {
        store::lock::serialise(&txn, &format!("change-request:{}", r.cluster_id)).await?;
        let cl = cluster::Entity::find_by_id(r.cluster_id)
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound)?;
        // The request was made against what the cluster was; a change since is a new request.
        if facts_of(&txn, &cl, &kinds).await? != before {
            return Err(AppError::Conflict(
                "该集群的信息在提出变更申请后已有变动，请退回申请单位按现状重新提出".into(),
            ));
        }
        let lead: RegionCode = after
            .lead_county_code
            .parse()
            .map_err(|_| AppError::internal("change request lead county"))?;
        let city = if after.org_id == cl.org_id {
            cl.city_code
        } else {
            new_org(&txn, after.org_id).await?.1
        };
        store::update_versioned(
            &txn,
            cl.id,
            cl.version,
            cluster::ActiveModel {
                name: Set(after.name.clone()),
                kind: Set(after.kind.clone()),
                lead_county_code: Set(lead),
                org_id: Set(after.org_id),
                // The routing city follows the promotion organisation (第八条).
                city_code: Set(city),
                updated_at: Set(now),
                ..Default::default()
            },
        )
        .await?;
        cluster_county::Entity::delete_many()
            .filter(cluster_county::Column::ClusterId.eq(cl.id))
            .exec(&txn)
            .await?;
        for code in &after.other_county_codes {
            let Ok(code) = code.parse::<RegionCode>() else {
                continue;
            };
            cluster_county::ActiveModel {
                cluster_id: Set(cl.id),
                county_code: Set(code),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        pairs = super::designations::reissue(&txn, p, cl.id, now).await?;
    }
    store::update_versioned(
        &txn,
        r.id,
        r.version,
        change_request::ActiveModel {
            status: Set(to),
            decision_reasons: Set(text.to_string()),
            decided_by: Set(Some(p.user.id)),
            decided_at: Set(Some(now)),
            old_designation_id: Set(pairs.first().map(|(o, _)| o.id)),
            new_designation_id: Set(pairs.first().map(|(_, n)| n.id)),
            updated_at: Set(now),
            ..Default::default()
        },
    )
    .await?;
    let reissued: Vec<String> = pairs
        .iter()
        .map(|(o, n)| format!("证书{}换发为{}", o.certificate_number, n.certificate_number))
        .collect();
    let (action, summary, title, body) = if input.approve {
        (
            "change_request.approve",
            format!(
                "批准“{}”的变更申请：{what}；{}",
                before.name,
                reissued.join("；")
            ),
            format!("变更申请已批准：{}", after.name),
            format!(
                "省工信厅已批准{}的变更申请（{what}），{}。",
                before.name,
                reissued.join("；")
            ),
        )
    } else {
        (
            "change_request.refuse",
            format!("不予批准“{}”的变更申请：{what}", before.name),
            format!("变更申请不予批准：{}", before.name),
            format!("省工信厅对{}的变更申请不予批准，理由：{text}", before.name),
        )
    };
    Audit::of(app, p, now)
        .record(
            &txn,
            Event {
                action,
                object_type: "change_request",
                object_id: r.id.to_string(),
                summary,
                reason: text.to_string(),
            },
        )
        .await?;
    super::notifications::notify_org(
        &txn,
        r.org_id,
        &title,
        &body,
        &format!("/change-requests/{}", r.id),
        now,
    )
    .await?;
    txn.commit().await?;
    get(app, p, id).await
}

/// Whether the principal may attach evidence to a request now: its own promotion organisation,
/// before the city has given its opinion.
pub async fn can_attach(app: &App, p: &Principal, id: ChangeRequestId) -> Result<(), AppError> {
    let r = load(&app.db, p, id, Action::Update).await?;
    rule::next(r.status, ChangeStep::Attach).map_err(refused)?;
    Ok(())
}

/// Whether the principal may read a request (and so its evidence).
pub async fn can_read(app: &App, p: &Principal, id: ChangeRequestId) -> Result<(), AppError> {
    load(&app.db, p, id, Action::View).await.map(|_| ())
}

/// The to-dos of a role: how many requests wait for it.
pub async fn waiting_for(app: &App, p: &Principal) -> Result<u64, AppError> {
    use sea_orm::PaginatorTrait;
    let status = match p.role {
        Role::CityBureau => ChangeStatus::AwaitingCity,
        Role::Province => ChangeStatus::AwaitingProvince,
        _ => return Ok(0),
    };
    let mut q = change_request::Entity::find().filter(change_request::Column::Status.eq(status));
    if p.role == Role::CityBureau {
        match p.org.city_code {
            Some(c) => q = q.filter(change_request::Column::CityCode.eq(c)),
            None => return Ok(0),
        }
    }
    Ok(q.count(&app.db).await?)
}
