//! Cluster pages: an applicant's cluster profiles with their member enterprises (the Excel
//! import with its preview is `pages::imports`, kind `members`); city bureaus and the province
//! see the clusters in their scope read-only.

use crate::store::id::{ClusterId, ClusterMemberId, OrgId};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiqun_domain::access::{Action, Resource, permission};
use jiqun_domain::{industry, region};
use serde::Deserialize;

use super::{Choices, FormErrors, Layout, PageError, layout, region_choices};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::clusters::{
    self, ClusterInput, ClusterView, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, MemberInput, MemberView,
    Relation,
};
use crate::services::listing::{ListNav, ListParams};
use crate::web::download::xlsx_download;
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/clusters", get(list))
        .route("/clusters/export.xlsx", get(export))
        .route("/clusters/new", get(new_form).post(create))
        .route("/clusters/members-template.xlsx", get(template))
        .route("/clusters/{id}", get(show))
        .route("/clusters/{id}/monitoring/notes", post(add_note))
        .route("/clusters/{id}/edit", get(edit_form).post(update))
        .route("/clusters/{id}/members", post(add_member))
        .route(
            "/clusters/{id}/members/{member_id}/delete",
            post(remove_member),
        )
}

// ---------------------------------------------------------------------------------------------
// List
// ---------------------------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "clusters.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    clusters: Vec<ClusterView>,
    can_create: bool,
    cities: Choices,
    industries: Choices,
    nav: ListNav,
}

async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<ListPage, PageError> {
    let params = ListParams::parse(&clusters::LIST, &pairs)?;
    let (rows, total) = clusters::page(&app, &ctx.principal, &params).await?;
    Ok(ListPage {
        layout: layout(&ctx, "clusters"),
        flash: String::new(),
        clusters: rows,
        can_create: permission(ctx.principal.role, Resource::Cluster, Action::Create).is_some(),
        cities: region_choices().0,
        industries: industry::divisions()
            .iter()
            .map(|d| (d.code().to_string(), d.to_string()))
            .collect(),
        nav: params.nav(&clusters::LIST, total),
    })
}

/// 导出Excel: every cluster the filters match, not only the page.
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = ListParams::parse(&clusters::LIST, &pairs)?;
    let bytes = clusters::export(&app, &ctx.principal, &params).await?;
    Ok(xlsx_download(bytes, "集群名单.xlsx", "clusters.xlsx"))
}

// ---------------------------------------------------------------------------------------------
// Form
// ---------------------------------------------------------------------------------------------

/// A checkbox.
struct Check {
    value: String,
    label: String,
    checked: bool,
    /// The county chosen as 牵头县: not offered again under 其他县.
    lead: bool,
}

/// The counties of one city, as checkboxes.
struct CountyGroup {
    city: String,
    /// Open when something in it is ticked, so a returned form shows the choice.
    open: bool,
    counties: Vec<Check>,
}

/// The form as typed, kept as text so that a refused form comes back exactly as sent.
#[derive(Default)]
struct FormValues {
    name: String,
    kind: String,
    industry_code: String,
    lead_county_code: String,
    other_county_codes: Vec<String>,
    core_park: String,
    co_applicant_org_ids: Vec<String>,
    version: i32,
}

impl FormValues {
    /// Parses the urlencoded body by hand: checkbox groups repeat their name, which
    /// `axum::Form` (serde_urlencoded) cannot collect into a list.
    fn parse(body: &[u8]) -> FormValues {
        let mut v = FormValues::default();
        for (k, value) in url::form_urlencoded::parse(body) {
            let value = value.into_owned();
            match k.as_ref() {
                "name" => v.name = value,
                "kind" => v.kind = value,
                "industry_code" => v.industry_code = value,
                "lead_county_code" => v.lead_county_code = value,
                "other_county_codes" => v.other_county_codes.push(value),
                "core_park" => v.core_park = value,
                "co_applicant_org_ids" => v.co_applicant_org_ids.push(value),
                "version" => v.version = value.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
        v
    }

    fn from_view(c: &ClusterView) -> FormValues {
        FormValues {
            name: c.name.clone(),
            kind: c.kind.clone(),
            industry_code: c.industry_code.clone(),
            lead_county_code: c.lead_county.code.clone(),
            // The lead county is chosen above; a view may list it among the counties spanned.
            other_county_codes: c
                .other_counties
                .iter()
                .filter(|o| o.code != c.lead_county.code)
                .map(|o| o.code.clone())
                .collect(),
            core_park: c.core_park.clone(),
            co_applicant_org_ids: c.co_applicants.iter().map(|o| o.id.to_string()).collect(),
            version: c.version,
        }
    }

    fn input(&self) -> ClusterInput {
        ClusterInput {
            name: self.name.clone(),
            kind: self.kind.clone(),
            industry_code: self.industry_code.clone(),
            lead_county_code: self.lead_county_code.clone(),
            other_county_codes: self.other_county_codes.clone(),
            core_park: self.core_park.clone(),
            // A value that is not a number cannot come from the form's checkboxes; it becomes
            // an invalid id so validation names it instead of dropping it silently.
            co_applicant_org_ids: self
                .co_applicant_org_ids
                .iter()
                .map(|s| s.trim().parse().unwrap_or(OrgId::new(-1)))
                .collect(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "cluster_form.html")]
struct FormPage {
    layout: Option<Layout>,
    flash: String,
    heading: String,
    action: String,
    cancel_href: String,
    csrf: String,
    values: FormValues,
    kinds: Choices,
    industries: Choices,
    lead_counties: Vec<(String, Choices)>,
    other_counties: Vec<CountyGroup>,
    partners: Vec<Check>,
    home_city: String,
    errors: FormErrors,
    general_error: String,
    /// Where to file a 变更申请 when the cluster holds a title: its name, kind and counties
    /// are then shown but not editable here. Empty otherwise.
    change_href: String,
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    app: &Shared,
    ctx: &SessionCtx,
    cluster: Option<ClusterId>,
    heading: &str,
    action: String,
    cancel_href: String,
    values: FormValues,
    error: Option<&AppError>,
) -> Result<FormPage, AppError> {
    let kinds = clusters::cluster_kinds(app)?
        .into_iter()
        .map(|k| (k.key, k.name))
        .collect();
    let industries = industry::divisions()
        .iter()
        .map(|d| (d.code().to_string(), d.to_string()))
        .collect();
    let (_, lead_counties) = region_choices();
    let other_counties = region::cities()
        .iter()
        .map(|city| {
            let counties: Vec<Check> = city
                .counties()
                .iter()
                .map(|c| {
                    let code = c.code().to_string();
                    let lead = code == values.lead_county_code;
                    Check {
                        checked: !lead && values.other_county_codes.contains(&code),
                        lead,
                        value: code,
                        label: c.name().to_string(),
                    }
                })
                .collect();
            CountyGroup {
                city: city.name().to_string(),
                open: counties.iter().any(|c| c.checked),
                counties,
            }
        })
        .collect();
    let partners = clusters::co_applicant_choices(app, &ctx.principal)
        .await?
        .into_iter()
        .map(|o| {
            let id = o.id.to_string();
            Check {
                checked: values.co_applicant_org_ids.contains(&id),
                lead: false,
                value: id,
                label: o.name,
            }
        })
        .collect();
    let home_city = ctx
        .principal
        .org
        .city_code
        .and_then(region::city)
        .map(|c| c.name().to_string())
        .unwrap_or_default();
    let general_error = match error {
        Some(e @ (AppError::StaleVersion | AppError::Conflict(_))) => e.to_string(),
        _ => String::new(),
    };
    let change_href = match cluster {
        Some(id) if crate::services::changes::holds_title(&app.db, id).await? => {
            format!("/change-requests/new?cluster_id={id}")
        }
        _ => String::new(),
    };
    Ok(FormPage {
        layout: layout(ctx, "clusters"),
        flash: String::new(),
        heading: heading.into(),
        action,
        cancel_href,
        csrf: ctx.session.csrf_token.clone(),
        values,
        kinds,
        industries,
        lead_counties,
        other_counties,
        partners,
        home_city,
        errors: error.map(FormErrors::from_error).unwrap_or_default(),
        general_error,
        change_href,
    })
}

async fn new_form(State(app): State<Shared>, Authed(ctx): Authed) -> Result<FormPage, PageError> {
    crate::services::authorize(&ctx.principal, Resource::Cluster, Action::Create)?;
    Ok(form_page(
        &app,
        &ctx,
        None,
        "新建集群信息",
        "/clusters/new".into(),
        "/clusters".into(),
        FormValues::default(),
        None,
    )
    .await?)
}

/// Shows the form again with the field errors and everything typed, or the error page.
#[allow(clippy::too_many_arguments)]
async fn refused_form(
    app: &Shared,
    ctx: &SessionCtx,
    cluster: Option<ClusterId>,
    heading: &str,
    action: String,
    cancel_href: String,
    values: FormValues,
    e: AppError,
) -> Response {
    match e {
        AppError::Invalid(_) | AppError::StaleVersion | AppError::Conflict(_) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            match form_page(
                app,
                ctx,
                cluster,
                heading,
                action,
                cancel_href,
                values,
                Some(&e),
            )
            .await
            {
                Ok(page) => (status, page).into_response(),
                Err(other) => PageError(other).into_response(),
            }
        }
        other => PageError(other).into_response(),
    }
}

async fn create(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    RawForm(body): RawForm,
) -> Response {
    let values = FormValues::parse(&body);
    match clusters::create(&app, &ctx.principal, &values.input()).await {
        Ok(c) => Redirect::to(&format!("/clusters/{}?saved=1", c.id)).into_response(),
        Err(e) => {
            refused_form(
                &app,
                &ctx,
                None,
                "新建集群信息",
                "/clusters/new".into(),
                "/clusters".into(),
                values,
                e,
            )
            .await
        }
    }
}

async fn edit_form(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
) -> Result<FormPage, PageError> {
    crate::services::authorize(&ctx.principal, Resource::Cluster, Action::Update)?;
    let c = clusters::get(&app, &ctx.principal, id).await?;
    if c.relation != Relation::Lead {
        return Err(PageError(AppError::Forbidden));
    }
    Ok(form_page(
        &app,
        &ctx,
        Some(id),
        &format!("编辑：{}", c.name),
        format!("/clusters/{id}/edit"),
        format!("/clusters/{id}"),
        FormValues::from_view(&c),
        None,
    )
    .await?)
}

async fn update(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
    RawForm(body): RawForm,
) -> Response {
    let values = FormValues::parse(&body);
    match clusters::update(&app, &ctx.principal, id, &values.input(), values.version).await {
        Ok(c) => Redirect::to(&format!("/clusters/{}?saved=1", c.id)).into_response(),
        Err(e) => {
            refused_form(
                &app,
                &ctx,
                Some(id),
                "编辑集群信息",
                format!("/clusters/{id}/edit"),
                format!("/clusters/{id}"),
                values,
                e,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Profile and members
// ---------------------------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "cluster_show.html")]
struct ShowPage {
    layout: Option<Layout>,
    flash: String,
    cluster: ClusterView,
    members: Vec<MemberView>,
    can_edit: bool,
    csrf: String,
    member: MemberInput,
    member_errors: FormErrors,
    max_rows: usize,
    max_mb: usize,
    /// The cluster's story, oldest first.
    history: Vec<clusters::HistoryEvent>,
    /// Whether the reader follows national nominations (第十七条), linked from the story.
    can_see_nominations: bool,
    /// Series and flags, for the province and the cluster's city bureau.
    monitoring: Option<MonitoringView>,
    echarts: &'static str,
}

/// The monitoring section: the service's answer, the series as chart JSON, a refused note.
struct MonitoringView {
    m: crate::services::monitoring::ClusterMonitoring,
    json: String,
    note: crate::services::monitoring::NoteInput,
    note_errors: FormErrors,
}

impl MonitoringView {
    /// Whether the refused note was for this flag (its text is kept there).
    fn refused_for(&self, f: &crate::services::monitoring::MonitorFlag) -> bool {
        !self.note_errors.is_empty()
            && self.note.report_id == f.report_id.to_string()
            && self.note.indicator == f.indicator
            && self.note.kind == f.kind
    }
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    saved: Option<String>,
    added: Option<String>,
    removed: Option<String>,
    noted: Option<String>,
}

impl ShowQuery {
    fn flash(&self) -> String {
        if self.noted.is_some() {
            return "已添加监测备注。".into();
        }
        if self.added.is_some() {
            "已添加成员企业。".into()
        } else if self.removed.is_some() {
            "已移除成员企业。".into()
        } else if self.saved.is_some() {
            "集群信息已保存。".into()
        } else {
            String::new()
        }
    }
}

async fn show_page(
    app: &Shared,
    ctx: &SessionCtx,
    id: ClusterId,
    flash: String,
    member: MemberInput,
    member_error: Option<&AppError>,
) -> Result<ShowPage, AppError> {
    let cluster = clusters::get(app, &ctx.principal, id).await?;
    let members = clusters::list_members(app, &ctx.principal, id).await?;
    let can_edit = cluster.relation == Relation::Lead
        && permission(ctx.principal.role, Resource::Cluster, Action::Update).is_some();
    // The current-nav entry only exists for applicants; others arrive here from elsewhere.
    Ok(ShowPage {
        layout: layout(ctx, "clusters"),
        flash,
        cluster,
        members,
        can_edit,
        csrf: ctx.session.csrf_token.clone(),
        member,
        member_errors: member_error.map(FormErrors::from_error).unwrap_or_default(),
        max_rows: MAX_IMPORT_ROWS,
        max_mb: MAX_IMPORT_BYTES / 1024 / 1024,
        history: clusters::history(app, &ctx.principal, id).await?,
        can_see_nominations: permission(ctx.principal.role, Resource::Nomination, Action::View)
            .is_some(),
        monitoring: crate::services::monitoring::for_page(app, &ctx.principal, id)
            .await?
            .map(|m| MonitoringView {
                json: super::dashboard::chart_json(&m.series),
                m,
                note: Default::default(),
                note_errors: FormErrors::default(),
            }),
        echarts: crate::web::assets::ECHARTS,
    })
}

/// A note on a monitoring flag; refused, the page comes back with the note kept (422).
async fn add_note(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
    Form(input): Form<crate::services::monitoring::NoteInput>,
) -> Response {
    match crate::services::monitoring::add_note(&app, &ctx.principal, id, &input).await {
        Ok(_) => Redirect::to(&format!("/clusters/{id}?noted=1#monitoring")).into_response(),
        Err(e @ AppError::Invalid(_)) => {
            match show_page(&app, &ctx, id, String::new(), MemberInput::default(), None).await {
                Ok(mut page) => {
                    if let Some(mv) = page.monitoring.as_mut() {
                        mv.note_errors = FormErrors::from_error(&e);
                        mv.note = input;
                    }
                    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
                }
                Err(other) => PageError(other).into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
    Query(q): Query<ShowQuery>,
) -> Result<ShowPage, PageError> {
    Ok(show_page(&app, &ctx, id, q.flash(), MemberInput::default(), None).await?)
}

#[derive(Deserialize)]
struct MemberForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    credit_code: String,
}

async fn add_member(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ClusterId>,
    Form(form): Form<MemberForm>,
) -> Response {
    let input = MemberInput {
        name: form.name,
        credit_code: form.credit_code,
    };
    match clusters::add_member(&app, &ctx.principal, id, &input).await {
        Ok(_) => Redirect::to(&format!("/clusters/{id}?added=1")).into_response(),
        Err(e @ AppError::Invalid(_)) => {
            match show_page(&app, &ctx, id, String::new(), input, Some(&e)).await {
                Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
                Err(other) => PageError(other).into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

async fn remove_member(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path((id, member_id)): Path<(ClusterId, ClusterMemberId)>,
) -> Result<Redirect, PageError> {
    clusters::remove_member(&app, &ctx.principal, id, member_id).await?;
    Ok(Redirect::to(&format!("/clusters/{id}?removed=1")))
}

// ---------------------------------------------------------------------------------------------
// Excel import
// ---------------------------------------------------------------------------------------------

async fn template(Authed(_ctx): Authed) -> Response {
    match clusters::template_xlsx() {
        Ok(bytes) => xlsx_download(bytes, "成员企业导入模板.xlsx", "template.xlsx"),
        Err(e) => PageError(e).into_response(),
    }
}
