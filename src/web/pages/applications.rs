//! The applicant's pages: list, start, the form with its live assessment, submission.

use crate::store::id::{ApplicationId, AttachmentId, ClusterId, CompetitionId};
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiqun_domain::access::{Action, Resource, permission};
use jiqun_domain::application::Status;
use jiqun_rules::intake::{Assessment, FormData};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

use super::{Layout, PageError, layout, region_choices};
use crate::app::{App, Shared};
use crate::clock::format_local;
use crate::error::AppError;
use crate::services::application_list;
use crate::services::applications::{self as svc, ApplicationRow, EventView};
use crate::services::listing::{ListNav, ListParams};
use crate::store::entity::{application, application_event, attachment, blob, cluster};
use crate::web::download::xlsx_download;
use crate::web::forms::Confirm;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/applications", get(list))
        .route("/applications/export.xlsx", get(export))
        .route("/applications/start", post(start))
        .route("/applications/{id}", get(show).post(save))
        .route("/applications/{id}/extensions", post(extend))
        .route("/applications/{id}/field-checks", post(field_check))
        .route("/applications/{id}/ministry-result", post(ministry_result))
        .route(
            "/applications/{id}/ministry-recheck",
            post(ministry_recheck),
        )
}

pub struct OpenCall {
    pub id: CompetitionId,
    pub title: String,
    pub deadline: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "applications.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    rows: Vec<ApplicationRow>,
    nav: ListNav,
    cities: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    /// The policy's cluster kinds, for the kind filter.
    kinds: Vec<(String, String)>,
    open_call: Option<OpenCall>,
    /// 第十六条: open city calls in the cities of the applicant's clusters.
    city_calls: Vec<crate::services::organisers::CityCall>,
    startable: Vec<(ClusterId, String)>,
    /// Clusters holding a title, with why they may not start a 初赛 application.
    barred: Vec<String>,
    can_create_cluster: bool,
    general_error: String,
}

async fn list_page(
    app: &App,
    ctx: &SessionCtx,
    params: ListParams,
    general_error: String,
) -> Result<ListPage, PageError> {
    let p = &ctx.principal;
    let (rows, total) = application_list::page(app, p, &params).await?;
    let now = app.clock.now();
    // A county bureau applies where a programme names it (the national programme's call).
    let county = p.role == jiqun_domain::access::Role::CountyBureau;
    let call = if county {
        crate::services::competitions::open_call_applied_by(app, p.role).await?
    } else {
        crate::services::competitions::open_call(app).await?
    }
    .filter(|c| crate::services::competitions::is_open_for_submission(c, now));
    let mut startable = Vec::new();
    let mut barred = Vec::new();
    if let Some(c) = &call {
        let started: Vec<ClusterId> = application::Entity::find()
            .filter(application::Column::CompetitionId.eq(c.id))
            .filter(application::Column::OrgId.eq(p.org.id))
            .all(&app.db)
            .await?
            .into_iter()
            .map(|a| a.cluster_id)
            .collect();
        for cl in cluster::Entity::find()
            .filter(if county {
                // The clusters its county leads, as `applications::start` checks.
                cluster::Column::LeadCountyCode.eq(p.org.county_code)
            } else {
                cluster::Column::OrgId.eq(p.org.id)
            })
            .order_by_asc(cluster::Column::Id)
            .all(&app.db)
            .await?
        {
            if started.contains(&cl.id) {
                continue;
            }
            match jiqun_domain::lifecycle::may_apply(cl.lifecycle.standing()) {
                Ok(()) => startable.push((cl.id, cl.name)),
                Err(refusal) => barred.push(svc::preliminary_refusal(&cl.name, refusal)),
            }
        }
    }
    Ok(ListPage {
        layout: layout(ctx, "applications"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        rows,
        nav: params
            .nav(&application_list::LIST, total)
            .export_if(permission(p.role, Resource::Application, Action::Export).is_some()),
        // Only a viewer of every city picks one.
        cities: match permission(p.role, Resource::Application, Action::View) {
            Some(jiqun_domain::access::ScopeKind::All) => region_choices().0,
            _ => Vec::new(),
        },
        statuses: Status::ALL.iter().map(|s| (s.key(), s.label())).collect(),
        kinds: application_list::kinds(app)?,
        open_call: call.map(|c| OpenCall {
            id: c.id,
            title: c.title,
            deadline: format_local(c.submission_deadline),
        }),
        startable,
        barred,
        city_calls: if permission(p.role, Resource::Application, Action::Create).is_some() {
            crate::services::organisers::open_city_calls(app, p).await?
        } else {
            Vec::new()
        },
        can_create_cluster: permission(p.role, Resource::Cluster, Action::Create).is_some(),
        general_error,
    })
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<ListPage, PageError> {
    let params = ListParams::parse(&application_list::LIST, &pairs)?;
    list_page(&app, &ctx, params, String::new()).await
}

/// 导出Excel: every application the filters match, not only the page.
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = ListParams::parse(&application_list::LIST, &pairs)?;
    let bytes = application_list::export(&app, &ctx.principal, &params).await?;
    Ok(xlsx_download(bytes, "申报名单.xlsx", "applications.xlsx"))
}

#[derive(Deserialize)]
struct StartForm {
    competition_id: String,
    cluster_id: String,
}

async fn start(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(form): Form<StartForm>,
) -> Response {
    let parse = |s: &str| s.trim().parse::<i64>().unwrap_or(0);
    match svc::start(
        &app,
        &ctx.principal,
        CompetitionId::new(parse(&form.competition_id)),
        ClusterId::new(parse(&form.cluster_id)),
    )
    .await
    {
        Ok(m) => Redirect::to(&format!("/applications/{}", m.id)).into_response(),
        Err(AppError::Conflict(msg)) => match async {
            let params = ListParams::parse(&application_list::LIST, &[])?;
            list_page(&app, &ctx, params, msg).await
        }
        .await
        {
            Ok(page) => (axum::http::StatusCode::CONFLICT, page).into_response(),
            Err(e) => e.into_response(),
        },
        Err(e) => PageError(e).into_response(),
    }
}

pub struct IndicatorView {
    pub key: String,
    pub name: String,
    pub unit: String,
    pub required: bool,
    pub value: String,
    pub error: String,
    /// The codes to pick from (code, "C36 汽车制造业") when the value comes from a table.
    pub choices: Vec<(String, String)>,
}

pub struct CriterionView {
    pub key: String,
    pub name: String,
    pub article: String,
    pub max_score: u32,
    pub indicators: Vec<IndicatorView>,
    pub narrative: String,
    pub error: String,
}

pub struct FileView {
    pub id: AttachmentId,
    pub purpose_label: String,
    pub file_name: String,
    pub size: String,
    pub uploaded_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "application.html")]
struct ShowPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    head: ApplicationRow,
    editable: bool,
    ready: bool,
    problems: Vec<(&'static str, String)>,
    criteria: Vec<CriterionView>,
    negatives: Vec<(String, String, bool)>,
    files: Vec<FileView>,
    uploads: Vec<(&'static str, &'static str)>,
    max_mb: u64,
    changes: Vec<jiqun_rules::intake::Change>,
    history: Vec<EventView>,
    return_comment: String,
    general_error: String,
    upload_error: String,
    flash_ok: String,
    review_actions: bool,
    /// Individual extensions of this application's deadlines, visible to all who see it.
    extensions: Vec<crate::services::extensions::ExtensionView>,
    /// The province (either step) or the city bureau (its review) may extend.
    can_extend: bool,
    can_extend_submission: bool,
    extension: ExtensionForm,
    extension_errors: super::FormErrors,
    /// The step indicator: 填报申报材料 → 市州初审 → 省级评审 → 公示 → 确定.
    steps: Vec<(&'static str, &'static str)>,
    /// The viewer's next action on top of the page: (label, link).
    next: Option<(String, String)>,
    /// Submitting cannot be taken back: the applicant ticks this first.
    submit_confirm: Confirm,
    /// A programme of another shape (the national one): 实地抽查 and the ministry's result.
    programme: Option<ProgrammePanel>,
    field_form: FieldCheckForm,
    field_errors: super::FormErrors,
    result_form: ResultForm,
    result_errors: super::FormErrors,
    result_confirm: Confirm,
    recheck_form: RecheckForm,
    recheck_errors: super::FormErrors,
    recheck_confirm: Confirm,
}

/// The part of the application page a programme's `[procedure]` adds.
struct ProgrammePanel {
    field_check: bool,
    checks: Vec<crate::services::ministry::FieldCheckView>,
    /// The reviewer the programme names, during its 初审.
    can_check: bool,
    /// Whether the outcome is the ministry's.
    ministry: bool,
    /// The ministry (the measures' issuer) and the title it confers.
    issuer: String,
    title: String,
    result: Option<crate::services::ministry::ResultView>,
    /// The province, for a recommended application without a result.
    can_record: bool,
    /// The province, while the title is not revoked: the close of the current term.
    can_close: bool,
}

/// The close of a term as typed, kept when refused.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RecheckForm {
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub decided_on: String,
    #[serde(default)]
    pub document_number: String,
    #[serde(default)]
    pub acknowledge: String,
}

/// Recording how a term closed is done once per term.
fn recheck_confirm() -> Confirm {
    Confirm::new(
        "recheck-acknowledge",
        "我已核对部里的复核结果或撤销决定及其文号",
        "登记后不能修改：复核通过的自决定之日起计算新一期有效期，撤销的称号不再有效，并通知申报的县级部门",
    )
}

/// The 实地抽查 form as typed, kept when refused.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FieldCheckForm {
    #[serde(default)]
    pub checked_on: String,
    #[serde(default)]
    pub findings: String,
    #[serde(default)]
    pub passed: String,
}

/// The ministry's result as typed, kept when refused.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResultForm {
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub decided_on: String,
    #[serde(default)]
    pub document_number: String,
    #[serde(default)]
    pub acknowledge: String,
}

/// Recording the ministry's result is done once.
fn result_confirm() -> Confirm {
    Confirm::new(
        "result-acknowledge",
        "我已核对部里公布的名单和文号",
        "结果登记后不能修改，认定的称号自公布之日起计算有效期",
    )
}

/// The programme panel of an application whose call's policy has a `[procedure]`.
async fn programme_panel(
    app: &App,
    p: &crate::app::Principal,
    m: &application::Model,
    policy: &jiqun_rules::Policy,
) -> Result<Option<ProgrammePanel>, AppError> {
    use jiqun_rules::policy::ProgrammeOutcome;
    let Some(pr) = policy.procedure.clone() else {
        return Ok(None);
    };
    let actors = svc::actors_of(policy);
    let ministry = pr.outcome == ProgrammeOutcome::Ministry;
    let result = if ministry {
        crate::services::ministry::result_of(app, p, m.id).await?
    } else {
        None
    };
    Ok(Some(ProgrammePanel {
        field_check: pr.field_check,
        checks: crate::services::ministry::field_checks(app, p, m.id).await?,
        can_check: pr.field_check
            && p.role == actors.reviewer
            && actors.grant(p.role, Action::Review).is_some()
            && m.status == Status::Submitted,
        ministry,
        issuer: policy.identity.issuer.clone(),
        title: pr.title.map(|t| t.name).unwrap_or_default(),
        can_record: ministry
            && result.is_none()
            && m.status == Status::Recommended
            && permission(p.role, Resource::Certificate, Action::Create).is_some(),
        can_close: result
            .as_ref()
            .is_some_and(|r| r.outcome == "selected" && r.standing != "revoked")
            && permission(p.role, Resource::Certificate, Action::Create).is_some(),
        result,
    }))
}

/// What the applicant attests before submitting, and what submitting does.
fn submit_confirm() -> Confirm {
    Confirm::new(
        "submit-acknowledge",
        "我已核对申报材料，对其真实性负责",
        "提交后申报将报送市州工信局初审，在退回修改前不能再更改",
    )
}

/// The extension form as typed, kept when refused.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExtensionForm {
    #[serde(default)]
    pub step: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub reason: String,
}

pub(crate) fn purpose_label(purpose: &str) -> &'static str {
    match purpose {
        "report" => "申请报告",
        "pledge" => "真实性承诺书",
        "evidence" => "佐证材料",
        "letter" => "推荐函",
        _ => "附件",
    }
}

pub async fn files_of(
    app: &App,
    owner_type: &str,
    owner_id: i64,
) -> Result<Vec<FileView>, AppError> {
    let list = attachment::Entity::find()
        .filter(attachment::Column::OwnerType.eq(owner_type))
        .filter(attachment::Column::OwnerId.eq(owner_id))
        .order_by_asc(attachment::Column::Id)
        .find_also_related(blob::Entity)
        .all(&app.db)
        .await?;
    Ok(list
        .into_iter()
        .map(|(a, b)| FileView {
            id: a.id,
            purpose_label: purpose_label(&a.purpose).into(),
            file_name: a.file_name,
            size: crate::attachments::human_size(
                b.map_or(0, |b| u64::try_from(b.size).unwrap_or_default()),
            ),
            uploaded_at: format_local(a.uploaded_at),
        })
        .collect())
}

/// What the people deciding on an application read: its content by criterion, the intake
/// rule's result (complete and eligible, or what is missing), and its files. The application
/// page and the city's 初审 page both show it.
pub struct Material {
    pub policy: std::sync::Arc<jiqun_rules::Policy>,
    pub criteria: Vec<CriterionView>,
    pub negatives: Vec<(String, String, bool)>,
    pub ready: bool,
    pub problems: Vec<(&'static str, String)>,
    pub files: Vec<FileView>,
}

/// The material of `m`; `shown_form` replaces the stored content (a refused post keeps what was
/// typed); `field_errors` puts each problem next to its field (for the applicant's form).
pub async fn material(
    app: &App,
    m: &application::Model,
    shown_form: Option<&FormData>,
    assessment_override: Option<Assessment>,
    field_errors: bool,
) -> Result<Material, AppError> {
    let (policy, assessment) = svc::assess(app, m).await?;
    let assessment = assessment_override.unwrap_or(assessment);
    let form = shown_form.cloned().unwrap_or_else(|| svc::form_of(m));
    let criteria = policy
        .criteria
        .iter()
        .map(|c| CriterionView {
            key: c.key.clone(),
            name: c.name.clone(),
            article: c.article.clone(),
            max_score: c.max_score_for(&m.kind),
            indicators: c
                .indicators
                .iter()
                .filter(|i| i.applies_to(Some(&m.kind)))
                .map(|i| IndicatorView {
                    key: i.key.clone(),
                    name: i.name.clone(),
                    unit: i.unit.map(|u| u.as_str().to_string()).unwrap_or_default(),
                    required: i.required,
                    choices: if i.value_type == jiqun_rules::policy::ValueType::IndustryCode {
                        jiqun_domain::industry::divisions()
                            .iter()
                            .map(|d| (d.code().to_string(), d.to_string()))
                            .collect()
                    } else {
                        Vec::new()
                    },
                    value: form.indicators.get(&i.key).cloned().unwrap_or_default(),
                    error: assessment
                        .message_for(&format!("indicators.{}", i.key))
                        .filter(|_| field_errors)
                        .unwrap_or("")
                        .to_string(),
                })
                .collect(),
            narrative: form.narratives.get(&c.key).cloned().unwrap_or_default(),
            error: assessment
                .message_for(&format!("narratives.{}", c.key))
                .filter(|_| field_errors)
                .unwrap_or("")
                .to_string(),
        })
        .collect();
    let negatives = policy
        .eligibility
        .negative_list
        .iter()
        .map(|n| {
            (
                n.key.clone(),
                n.text.clone(),
                form.attested.contains(&n.key),
            )
        })
        .collect();
    let mut problems: Vec<(&'static str, String)> = Vec::new();
    problems.extend(
        assessment
            .ineligible
            .iter()
            .map(|x| ("ineligible", format!("不符合申报条件：{}", x.message))),
    );
    problems.extend(
        assessment
            .invalid
            .iter()
            .map(|x| ("invalid", x.message.clone())),
    );
    problems.extend(
        assessment
            .missing
            .iter()
            .map(|x| ("missing", x.message.clone())),
    );
    Ok(Material {
        ready: assessment.ready(),
        files: files_of(app, "application", m.id.get()).await?,
        policy,
        criteria,
        negatives,
        problems,
    })
}

async fn show_page(
    app: &App,
    ctx: &SessionCtx,
    m: &application::Model,
    shown_form: Option<&FormData>,
    assessment_override: Option<Assessment>,
    general_error: String,
    flash_ok: String,
) -> Result<ShowPage, PageError> {
    let p = &ctx.principal;
    let status = m.status;
    let editable = svc::is_lead_applicant(p, m) && status.editable_by_applicant();
    let Material {
        policy,
        criteria,
        negatives,
        ready,
        problems,
        files,
    } = material(app, m, shown_form, assessment_override, editable).await?;
    let head = svc::rows(app, vec![m.clone()])
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    let return_comment = if status == Status::ReturnedForRevision {
        application_event::Entity::find()
            .filter(application_event::Column::ApplicationId.eq(m.id))
            .filter(application_event::Column::Action.eq("return"))
            .order_by_desc(application_event::Column::Id)
            .one(&app.db)
            .await?
            .map(|e| e.comment)
            .unwrap_or_default()
    } else {
        String::new()
    };
    let review_actions = permission(p.role, Resource::Application, Action::Review).is_some()
        && status == Status::Submitted;
    let next = if editable {
        let label = match (status, ready) {
            (Status::ReturnedForRevision, _) => "补正申报材料并重新提交",
            (_, true) => "提交申报",
            (_, false) => "补全申报材料",
        };
        let href = if ready {
            "#submit-application"
        } else {
            "#assessment"
        };
        Some((label.to_string(), href.to_string()))
    } else if review_actions {
        Some(("出具初审意见".to_string(), format!("/reviews/{}", m.id)))
    } else {
        None
    };
    Ok(ShowPage {
        layout: layout(
            ctx,
            if svc::is_lead_applicant(p, m) {
                "applications"
            } else {
                "reviews"
            },
        ),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        ready,
        problems,
        criteria,
        negatives,
        files,
        uploads: vec![
            ("report", "申请报告（PDF）"),
            ("pledge", "真实性承诺书（签章扫描件）"),
            ("evidence", "佐证材料"),
        ],
        max_mb: crate::attachments::max_upload_bytes() / (1024 * 1024),
        changes: svc::changes_since_last(app, &policy, m.id).await?,
        history: svc::history(app, p, m).await?,
        return_comment,
        general_error,
        upload_error: String::new(),
        flash_ok,
        review_actions,
        editable,
        head,
        extensions: crate::services::extensions::list(app, p, m.id).await?,
        can_extend: permission(p.role, Resource::Application, Action::Extend).is_some()
            && status != Status::Draft,
        can_extend_submission: p.role == jiqun_domain::access::Role::Province,
        extension: ExtensionForm::default(),
        extension_errors: super::FormErrors::default(),
        steps: crate::web::views::application_steps_under(status, svc::actors_of(&policy)),
        next,
        submit_confirm: submit_confirm(),
        programme: programme_panel(app, p, m, &policy).await?,
        field_form: FieldCheckForm::default(),
        field_errors: super::FormErrors::default(),
        result_form: ResultForm::default(),
        result_errors: super::FormErrors::default(),
        result_confirm: result_confirm(),
        recheck_form: RecheckForm::default(),
        recheck_errors: super::FormErrors::default(),
        recheck_confirm: recheck_confirm(),
    })
}

/// Re-renders the application page after a refused programme step, with the refusal.
async fn refused_page(
    app: &App,
    ctx: &SessionCtx,
    id: ApplicationId,
    e: &AppError,
    keep: impl FnOnce(&mut ShowPage),
) -> Response {
    let m = match svc::load(&app.db, &ctx.principal, id).await {
        Ok(m) => m,
        Err(e) => return PageError(e).into_response(),
    };
    let status = axum::http::StatusCode::from_u16(e.status())
        .unwrap_or(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    let general = match e {
        AppError::Conflict(why) => why.clone(),
        _ => String::new(),
    };
    match show_page(app, ctx, &m, None, None, general, String::new()).await {
        Ok(mut page) => {
            keep(&mut page);
            (status, page).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// The province records a 实地抽查 during its 初审; a refusal keeps what was typed.
async fn field_check(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Form(form): Form<FieldCheckForm>,
) -> Response {
    let input = crate::services::ministry::FieldCheckInput {
        checked_on: form.checked_on.clone(),
        findings: form.findings.clone(),
        passed: !form.passed.trim().is_empty(),
    };
    match crate::services::ministry::record_field_check(&app, &ctx.principal, id, &input).await {
        Ok(_) => Redirect::to(&format!("/applications/{id}#programme")).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            refused_page(&app, &ctx, id, &e, |page| {
                page.field_errors = super::FormErrors::from_error(&e);
                page.field_form = form;
            })
            .await
        }
        Err(e) => PageError(e).into_response(),
    }
}

/// One of the province's records in the page's programme section (the ministry's result, a
/// term's close): taken once the tick is given, back to the section when done; a refusal shows
/// the page again with `keep` putting back what was typed and why it was refused.
async fn programme_record<Fut>(
    app: &App,
    ctx: &SessionCtx,
    id: ApplicationId,
    ticked: Result<(), AppError>,
    record: impl FnOnce() -> Fut,
    keep: impl FnOnce(&mut ShowPage, &AppError),
) -> Response
where
    Fut: std::future::Future<Output = Result<(), AppError>>,
{
    let done = match ticked {
        Ok(()) => record().await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Redirect::to(&format!("/applications/{id}#programme")).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            refused_page(app, ctx, id, &e, |page| keep(page, &e)).await
        }
        Err(e) => PageError(e).into_response(),
    }
}

/// The province records the ministry's result once, after ticking; a refusal keeps the input.
async fn ministry_result(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Form(form): Form<ResultForm>,
) -> Response {
    let input = crate::services::ministry::ResultInput {
        outcome: form.outcome.clone(),
        decided_on: form.decided_on.clone(),
        document_number: form.document_number.clone(),
    };
    let ticked = result_confirm().check(&form.acknowledge);
    let record = || async {
        crate::services::ministry::record_result(&app, &ctx.principal, id, &input)
            .await
            .map(|_| ())
    };
    programme_record(&app, &ctx, id, ticked, record, |page, e| {
        page.result_errors = super::FormErrors::from_error(e);
        page.result_confirm = result_confirm().refused_by(Some(e));
        page.result_form = form;
    })
    .await
}

/// The province records how the title's current term closed, after ticking; a refusal keeps
/// the input.
async fn ministry_recheck(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Form(form): Form<RecheckForm>,
) -> Response {
    let input = crate::services::ministry::TermCloseInput {
        outcome: form.outcome.clone(),
        reason: form.reason.clone(),
        decided_on: form.decided_on.clone(),
        document_number: form.document_number.clone(),
    };
    let ticked = recheck_confirm().check(&form.acknowledge);
    let record = || async {
        crate::services::ministry::record_term_close(&app, &ctx.principal, id, &input)
            .await
            .map(|_| ())
    };
    programme_record(&app, &ctx, id, ticked, record, |page, e| {
        page.recheck_errors = super::FormErrors::from_error(e);
        page.recheck_confirm = recheck_confirm().refused_by(Some(e));
        page.recheck_form = form;
    })
    .await
}

/// Grants one application more time; a refused grant keeps what was typed beside its errors.
async fn extend(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Form(form): Form<ExtensionForm>,
) -> Response {
    let p = &ctx.principal;
    let input = crate::services::extensions::ExtensionInput {
        step: form.step.clone(),
        until: form.until.clone(),
        reason: form.reason.clone(),
    };
    match crate::services::extensions::grant(&app, p, id, &input).await {
        Ok(_) => Redirect::to(&format!("/applications/{id}#extensions")).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let m = match svc::load(&app.db, p, id).await {
                Ok(m) => m,
                Err(e) => return PageError(e).into_response(),
            };
            let status = axum::http::StatusCode::from_u16(e.status())
                .unwrap_or(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
            let general = match &e {
                AppError::Conflict(why) => why.clone(),
                _ => String::new(),
            };
            match show_page(&app, &ctx, &m, None, None, general, String::new()).await {
                Ok(mut page) => {
                    page.extension = form;
                    page.extension_errors = super::FormErrors::from_error(&e);
                    (status, page).into_response()
                }
                Err(e) => e.into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    upload_error: Option<String>,
    saved: Option<String>,
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Query(q): Query<ShowQuery>,
) -> Result<ShowPage, PageError> {
    let m = svc::load(&app.db, &ctx.principal, id).await?;
    let flash_ok = match q.saved.as_deref() {
        Some("draft") => "草稿已保存。".to_string(),
        // The 初审 is the call's programme's: the city bureau's, or the province's.
        Some("submitted") => format!(
            "申报已提交，等待{}初审。",
            svc::actors_for(&app.db, &m).await?.reviewer.label()
        ),
        _ => String::new(),
    };
    let mut page = show_page(&app, &ctx, &m, None, None, String::new(), flash_ok).await?;
    page.upload_error = q.upload_error.unwrap_or_default();
    Ok(page)
}

/// The form as posted: `ind.<key>`, `nar.<key>`, `att.<key>`, plus `version` and `action`.
fn form_from(fields: &HashMap<String, String>) -> FormData {
    let mut form = FormData::default();
    for (k, v) in fields {
        if let Some(key) = k.strip_prefix("ind.") {
            form.indicators.insert(key.to_string(), v.clone());
        } else if let Some(key) = k.strip_prefix("nar.") {
            form.narratives.insert(key.to_string(), v.clone());
        } else if let Some(key) = k.strip_prefix("att.") {
            form.attested.push(key.to_string());
        }
    }
    form.attested.sort();
    form
}

async fn save(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let p = &ctx.principal;
    let version: i32 = fields
        .get("version")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let form = form_from(&fields);
    let submit = fields.get("action").map(String::as_str) == Some("submit");
    if submit {
        let confirm = submit_confirm();
        let posted = fields.get(crate::web::forms::ACKNOWLEDGE);
        if let Err(e) = confirm.check(posted.map_or("", String::as_str)) {
            // Nothing is saved: the typed form comes back with the refusal under the tick.
            return match svc::load(&app.db, p, id).await {
                Ok(m) => {
                    match show_page(
                        &app,
                        &ctx,
                        &m,
                        Some(&form),
                        None,
                        String::new(),
                        String::new(),
                    )
                    .await
                    {
                        Ok(mut page) => {
                            page.submit_confirm = confirm.refused_by(Some(&e));
                            (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
                        }
                        Err(e) => e.into_response(),
                    }
                }
                Err(e) => PageError(e).into_response(),
            };
        }
    }
    let saved = match svc::save(&app, p, id, &form, version).await {
        Ok(m) => m,
        Err(e @ (AppError::StaleVersion | AppError::Conflict(_))) => {
            return match svc::load(&app.db, p, id).await {
                Ok(m) => rerender(&app, &ctx, &m, Some(&form), None, e.to_string()).await,
                Err(e) => PageError(e).into_response(),
            };
        }
        Err(e) => return PageError(e).into_response(),
    };
    if !submit {
        return Redirect::to(&format!("/applications/{id}?saved=draft")).into_response();
    }
    match svc::submit(&app, p, id, saved.version).await {
        Ok(_) => Redirect::to(&format!("/applications/{id}?saved=submitted")).into_response(),
        Err(AppError::Invalid(_)) => {
            rerender(
                &app,
                &ctx,
                &saved,
                None,
                None,
                "草稿已保存，但还不能提交：请按下方提示补充或修改。".into(),
            )
            .await
        }
        Err(e @ AppError::Conflict(_)) => {
            rerender(&app, &ctx, &saved, None, None, e.to_string()).await
        }
        Err(e) => PageError(e).into_response(),
    }
}

async fn rerender(
    app: &App,
    ctx: &SessionCtx,
    m: &application::Model,
    form: Option<&FormData>,
    assessment: Option<Assessment>,
    message: String,
) -> Response {
    match show_page(app, ctx, m, form, assessment, message, String::new()).await {
        Ok(page) => (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
        Err(e) => e.into_response(),
    }
}
