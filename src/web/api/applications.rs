//! JSON API for applications and the city's review, with the same services and rules as the pages.

use crate::store::id::{ApplicationId, AttachmentId, ClusterId, CompetitionId};
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiqun_rules::intake::{Assessment, FormData};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use super::paging::{ListQuery, Paged, PagedResult};
use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::application_list;
use crate::services::applications::{self as svc, ApplicationRow, EventView};
use crate::services::county_opinions::{self, OpinionView};
use crate::services::listing::ListParams;
use crate::services::ministry::{
    self, FieldCheckInput, FieldCheckView, OwedView, ReasonView, ResultInput, ResultView,
    TermCloseInput, TermView,
};
use crate::services::reviews::{self, Letter};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/applications", get(list).post(start))
        .route("/applications/{id}", get(show).put(save))
        .route("/applications/{id}/submit", post(submit))
        .route("/applications/{id}/return", post(return_it))
        .route("/applications/{id}/reject", post(reject_it))
        .route("/applications/recommend", post(recommend))
        .route(
            "/applications/{id}/county-opinions",
            get(opinions).post(give_opinion),
        )
        .route(
            "/applications/{id}/field-checks",
            get(field_checks).post(record_field_check),
        )
        .route(
            "/applications/{id}/ministry-result",
            get(ministry_result).post(record_ministry_result),
        )
        .route(
            "/applications/{id}/ministry-recheck",
            post(record_ministry_recheck),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list,
        start,
        show,
        save,
        submit,
        return_it,
        reject_it,
        recommend,
        opinions,
        give_opinion,
        field_checks,
        record_field_check,
        ministry_result,
        record_ministry_result,
        record_ministry_recheck
    ),
    components(schemas(
        ApplicationRow,
        EventView,
        TermCloseInput,
        TermView,
        ReasonView,
        StartRequest,
        SaveRequest,
        VersionRequest,
        CommentRequest,
        RecommendRequest,
        CountyOpinionRequest,
        OpinionView,
        FieldCheckInput,
        FieldCheckView,
        ResultInput,
        ResultView,
        OwedView,
        ApplicationDetail,
        FormSchema,
        ProblemSchema
    ))
)]
pub struct Doc;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// One page of the applications in the caller's scope: filters `year`, `city`, `status`,
/// `kind` (a cluster kind key of the policy: `leading`, `specialty`), `q` (cluster name); sort by `id`, `submitted`, `status`, `city` or `county` (newest first).
#[utoipa::path(get, path = "/api/v1/applications",
    params(ListQuery, ("kind" = Option<String>, Query, description = "集群类型（政策文件的cluster_kinds键）")),
    responses((status = 200, body = [ApplicationRow],
        headers(("x-total-count" = u64, description = "筛选结果总数"), ("x-page-count" = u64, description = "总页数"))),
        (status = 422, body = ErrorBody)))]
async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> PagedResult<ApplicationRow> {
    let params = ListParams::parse(&application_list::API, &pairs)?;
    let (rows, total) = application_list::page(&app, &ctx.principal, &params).await?;
    Ok(Paged::new(&application_list::API, &params, rows, total))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct StartRequest {
    #[schema(value_type = i64)]
    pub competition_id: CompetitionId,
    #[schema(value_type = i64)]
    pub cluster_id: ClusterId,
}

/// The form: indicator values as typed, narrative sections by criterion key, attested
/// negative-list keys.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct FormSchema {
    pub indicators: std::collections::BTreeMap<String, String>,
    pub narratives: std::collections::BTreeMap<String, String>,
    pub attested: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProblemSchema {
    pub field: String,
    pub message: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApplicationDetail {
    pub application: ApplicationRow,
    pub form: FormSchema,
    /// True when everything is complete and the entry thresholds are met.
    pub ready: bool,
    pub problems: Vec<ProblemSchema>,
    pub history: Vec<EventView>,
}

fn detail(
    row: ApplicationRow,
    form: FormData,
    a: &Assessment,
    history: Vec<EventView>,
) -> ApplicationDetail {
    ApplicationDetail {
        application: row,
        form: FormSchema {
            indicators: form.indicators,
            narratives: form.narratives,
            attested: form.attested,
        },
        ready: a.ready(),
        problems: a
            .invalid
            .iter()
            .chain(&a.missing)
            .chain(&a.ineligible)
            .map(|p| ProblemSchema {
                field: p.field.clone(),
                message: p.message.clone(),
            })
            .collect(),
        history,
    }
}

async fn detail_of(
    app: &crate::app::App,
    p: &crate::app::Principal,
    m: &crate::store::entity::application::Model,
) -> Result<ApplicationDetail, AppError> {
    let (row, a) = svc::row_and_assessment(app, m).await?;
    Ok(detail(
        row,
        svc::form_of(m),
        &a,
        svc::history(app, p, m).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/applications", request_body = StartRequest,
    responses((status = 200, body = ApplicationDetail), (status = 409, body = ErrorBody)))]
async fn start(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<StartRequest>,
) -> ApiResult<ApplicationDetail> {
    let m = svc::start(&app, &ctx.principal, body.competition_id, body.cluster_id).await?;
    Ok(Json(detail_of(&app, &ctx.principal, &m).await?))
}

#[utoipa::path(get, path = "/api/v1/applications/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ApplicationDetail), (status = 404, body = ErrorBody)))]
async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
) -> ApiResult<ApplicationDetail> {
    let m = svc::load(&app.db, &ctx.principal, id).await?;
    Ok(Json(detail_of(&app, &ctx.principal, &m).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SaveRequest {
    pub form: FormSchema,
    pub version: i32,
}

#[utoipa::path(put, path = "/api/v1/applications/{id}", params(("id" = i64, Path)), request_body = SaveRequest,
    responses((status = 200, body = ApplicationDetail), (status = 409, body = ErrorBody)))]
async fn save(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Json(body): Json<SaveRequest>,
) -> ApiResult<ApplicationDetail> {
    let form = FormData {
        indicators: body.form.indicators,
        narratives: body.form.narratives,
        attested: body.form.attested,
    };
    let m = svc::save(&app, &ctx.principal, id, &form, body.version).await?;
    Ok(Json(detail_of(&app, &ctx.principal, &m).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct VersionRequest {
    pub version: i32,
}

#[utoipa::path(post, path = "/api/v1/applications/{id}/submit", params(("id" = i64, Path)), request_body = VersionRequest,
    responses((status = 200, body = ApplicationDetail), (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn submit(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Json(body): Json<VersionRequest>,
) -> ApiResult<ApplicationDetail> {
    let m = svc::submit(&app, &ctx.principal, id, body.version).await?;
    Ok(Json(detail_of(&app, &ctx.principal, &m).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CommentRequest {
    pub comment: String,
}

#[utoipa::path(post, path = "/api/v1/applications/{id}/return", params(("id" = i64, Path)), request_body = CommentRequest,
    responses((status = 200, body = ApplicationDetail), (status = 409, body = ErrorBody)))]
async fn return_it(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Json(body): Json<CommentRequest>,
) -> ApiResult<ApplicationDetail> {
    let m = reviews::return_for_revision(&app, &ctx.principal, id, &body.comment).await?;
    Ok(Json(detail_of(&app, &ctx.principal, &m).await?))
}

#[utoipa::path(post, path = "/api/v1/applications/{id}/reject", params(("id" = i64, Path)), request_body = CommentRequest,
    responses((status = 200, body = ApplicationDetail), (status = 409, body = ErrorBody)))]
async fn reject_it(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Json(body): Json<CommentRequest>,
) -> ApiResult<ApplicationDetail> {
    let m = reviews::reject(&app, &ctx.principal, id, &body.comment).await?;
    Ok(Json(detail_of(&app, &ctx.principal, &m).await?))
}

/// The county opinions (县级意见) given in the city's 初审, oldest first: for the county bureau,
/// its city and the province; empty for the applicant.
#[utoipa::path(get, path = "/api/v1/applications/{id}/county-opinions", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<OpinionView>), (status = 404, body = ErrorBody)))]
async fn opinions(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
) -> ApiResult<Vec<OpinionView>> {
    let m = svc::load(&app.db, &ctx.principal, id).await?;
    Ok(Json(
        county_opinions::of_application(&app.db, &ctx.principal, &m).await?,
    ))
}

/// The 实地抽查 recorded in the province's 初审 (a programme whose procedure has them), oldest
/// first.
#[utoipa::path(get, path = "/api/v1/applications/{id}/field-checks", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<FieldCheckView>), (status = 404, body = ErrorBody)))]
async fn field_checks(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
) -> ApiResult<Vec<FieldCheckView>> {
    Ok(Json(
        ministry::field_checks(&app, &ctx.principal, id).await?,
    ))
}

/// The reviewer the programme names (the province) records a 实地抽查 of a submitted
/// application during its 初审.
#[utoipa::path(post, path = "/api/v1/applications/{id}/field-checks", params(("id" = i64, Path)), request_body = FieldCheckInput,
    responses((status = 200, body = Vec<FieldCheckView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_field_check(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Json(body): Json<FieldCheckInput>,
) -> ApiResult<Vec<FieldCheckView>> {
    ministry::record_field_check(&app, &ctx.principal, id, &body).await?;
    Ok(Json(
        ministry::field_checks(&app, &ctx.principal, id).await?,
    ))
}

/// The ministry's result for an application recommended to it, with the title's validity and
/// the yearly figures owed; `null` before it is recorded.
#[utoipa::path(get, path = "/api/v1/applications/{id}/ministry-result", params(("id" = i64, Path)),
    responses((status = 200, body = Option<ResultView>), (status = 404, body = ErrorBody)))]
async fn ministry_result(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
) -> ApiResult<Option<ResultView>> {
    Ok(Json(ministry::result_of(&app, &ctx.principal, id).await?))
}

/// The province records the ministry's result (认定 / 未认定) once.
#[utoipa::path(post, path = "/api/v1/applications/{id}/ministry-result", params(("id" = i64, Path)), request_body = ResultInput,
    responses((status = 200, body = ResultView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_ministry_result(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Json(body): Json<ResultInput>,
) -> ApiResult<ResultView> {
    Ok(Json(
        ministry::record_result(&app, &ctx.principal, id, &body).await?,
    ))
}

/// The province records how the title's current term closed (第四章 动态管理), once per term:
/// the ministry's 复核 passed (a new term from the decision day) or the title revoked on a
/// ground of the policy's `[revocation].reasons` (a ground allowed during the term at any time
/// within it, the others from the term's last year on). The county is told.
#[utoipa::path(post, path = "/api/v1/applications/{id}/ministry-recheck", params(("id" = i64, Path)), request_body = TermCloseInput,
    responses((status = 200, body = ResultView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_ministry_recheck(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Json(body): Json<TermCloseInput>,
) -> ApiResult<ResultView> {
    Ok(Json(
        ministry::record_term_close(&app, &ctx.principal, id, &body).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CountyOpinionRequest {
    pub opinion: String,
}

/// The county bureau gives its opinion on one of its county's applications while the city
/// reviews it (第十六条); it decides nothing.
#[utoipa::path(post, path = "/api/v1/applications/{id}/county-opinions", params(("id" = i64, Path)), request_body = CountyOpinionRequest,
    responses((status = 200, body = Vec<OpinionView>), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn give_opinion(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Json(body): Json<CountyOpinionRequest>,
) -> ApiResult<Vec<OpinionView>> {
    county_opinions::give(&app, &ctx.principal, id, &body.opinion).await?;
    let m = svc::load(&app.db, &ctx.principal, id).await?;
    Ok(Json(
        county_opinions::of_application(&app.db, &ctx.principal, &m).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RecommendRequest {
    #[schema(value_type = Vec<i64>)]
    pub ids: Vec<ApplicationId>,
    /// An uploaded signed letter (attachment id, purpose "letter"); omit to generate a draft.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub letter_attachment_id: Option<AttachmentId>,
    /// Required when a county would exceed the per-county cap.
    #[serde(default)]
    pub cap_justification: String,
}

#[utoipa::path(post, path = "/api/v1/applications/recommend", request_body = RecommendRequest,
    responses((status = 200, body = [ApplicationRow]), (status = 422, body = ErrorBody)))]
async fn recommend(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<RecommendRequest>,
) -> ApiResult<Vec<ApplicationRow>> {
    let letter = match body.letter_attachment_id {
        Some(id) => Letter::Uploaded(id),
        None => Letter::Generated,
    };
    let done = reviews::recommend(
        &app,
        &ctx.principal,
        &body.ids,
        letter,
        &body.cap_justification,
    )
    .await?;
    Ok(Json(svc::rows(&app, done).await?))
}
