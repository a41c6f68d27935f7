//! JSON API for competition calls, the user's notifications and the province's recommended
//! overview (routes relative to /api/v1).

use crate::store::id::{CompetitionId, NotificationId};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::competitions::{
    self, CityGroup, CompetitionInput, CompetitionView, RecommendedOverview, RecommendedRow,
};
use crate::services::notifications::{self, NotificationView};
use crate::web::download::recommended_download;
use crate::web::principal::Authed;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/competitions", get(list).post(create))
        .route("/competitions/{id}", get(get_one).put(update))
        .route("/competitions/{id}/close", post(close))
        .route("/notifications", get(list_notifications))
        .route("/notifications/unread-count", get(unread_count))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(read))
        .route("/recommended", get(recommended))
        .route("/recommended.xlsx", get(recommended_xlsx))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list,
        create,
        get_one,
        update,
        close,
        list_notifications,
        unread_count,
        read_all,
        read,
        recommended,
        recommended_xlsx
    ),
    components(schemas(
        CompetitionInput,
        CompetitionView,
        CompetitionUpdate,
        NotificationView,
        UnreadCount,
        RecommendedOverview,
        CityGroup,
        RecommendedRow
    ))
)]
pub struct Doc;

/// One page of the calls, newest year first (all business roles): filters `year`, `status`
/// (open | closed), `q`; sort by `year`, `deadline` or `id`.
#[utoipa::path(get, path = "/api/v1/competitions", params(super::paging::ListQuery),
    responses((status = 200, body = [CompetitionView],
        headers(("x-total-count" = u64, description = "筛选结果总数"), ("x-page-count" = u64, description = "总页数"))),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> super::paging::PagedResult<CompetitionView> {
    use crate::services::competition_list as list;
    let params = crate::services::listing::ListParams::parse(&list::API, &pairs)?;
    let (rows, total) = list::page(&app, &ctx.principal, &params).await?;
    Ok(super::paging::Paged::new(&list::API, &params, rows, total))
}

/// Opens a call (province). `policy_warning` in the answer is non-empty when the policy is not
/// in force on the submission deadline date; the call is created anyway.
#[utoipa::path(post, path = "/api/v1/competitions", request_body = CompetitionInput,
    responses((status = 200, body = CompetitionView), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<CompetitionInput>,
) -> ApiResult<CompetitionView> {
    Ok(Json(
        competitions::create(&app, &ctx.principal, &body).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/competitions/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = CompetitionView), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<CompetitionId>,
) -> ApiResult<CompetitionView> {
    Ok(Json(competitions::get(&app, &ctx.principal, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CompetitionUpdate {
    #[serde(flatten)]
    pub competition: CompetitionInput,
    /// The version the client last saw; a stale version is refused with 409.
    pub version: i32,
}

#[utoipa::path(put, path = "/api/v1/competitions/{id}", params(("id" = i64, Path)), request_body = CompetitionUpdate,
    responses((status = 200, body = CompetitionView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<CompetitionId>,
    Json(body): Json<CompetitionUpdate>,
) -> ApiResult<CompetitionView> {
    Ok(Json(
        competitions::update(&app, &ctx.principal, id, &body.competition, body.version).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/competitions/{id}/close", params(("id" = i64, Path)),
    responses((status = 200, body = CompetitionView), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn close(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<CompetitionId>,
) -> ApiResult<CompetitionView> {
    Ok(Json(competitions::close(&app, &ctx.principal, id).await?))
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications",
    responses((status = 200, body = [NotificationView]), (status = 401, body = ErrorBody)))]
async fn list_notifications(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> ApiResult<Vec<NotificationView>> {
    Ok(Json(
        notifications::list(&app, ctx.principal.user.id).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UnreadCount {
    pub unread: u64,
}

#[utoipa::path(get, path = "/api/v1/notifications/unread-count",
    responses((status = 200, body = UnreadCount)))]
async fn unread_count(State(app): State<Shared>, Authed(ctx): Authed) -> ApiResult<UnreadCount> {
    Ok(Json(UnreadCount {
        unread: notifications::unread_count(&app, ctx.principal.user.id).await?,
    }))
}

#[utoipa::path(post, path = "/api/v1/notifications/read-all", responses((status = 204)))]
async fn read_all(State(app): State<Shared>, Authed(ctx): Authed) -> Result<StatusCode, ApiError> {
    notifications::mark_all_read(&app, ctx.principal.user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Marks one of the caller's notifications read; anyone else's is 404.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", params(("id" = i64, Path)),
    responses((status = 200, body = NotificationView), (status = 404, body = ErrorBody)))]
async fn read(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<NotificationId>,
) -> ApiResult<NotificationView> {
    Ok(Json(
        notifications::mark_read(&app, ctx.principal.user.id, id).await?,
    ))
}

#[derive(Deserialize)]
struct RecommendedQuery {
    /// Text, so a malformed id is answered in the API's own error format.
    competition_id: Option<String>,
}

impl RecommendedQuery {
    fn id(&self) -> Result<Option<CompetitionId>, AppError> {
        match self.competition_id.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => t
                .parse::<CompetitionId>()
                .map(Some)
                .map_err(|_| AppError::invalid("competition_id", "竞赛编号应为整数")),
        }
    }
}

/// Applications recommended by the city bureaus (and later statuses) for a call, grouped by
/// city with all 14 cities listed (province). Without `competition_id`: the current open call,
/// else the latest.
#[utoipa::path(get, path = "/api/v1/recommended", params(("competition_id" = Option<i64>, Query)),
    responses((status = 200, body = RecommendedOverview), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn recommended(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<RecommendedQuery>,
) -> ApiResult<RecommendedOverview> {
    Ok(Json(
        competitions::recommended(&app, &ctx.principal, q.id()?).await?,
    ))
}

/// The same list as an Excel workbook: sheets 「推荐名单」 and 「按市州统计」.
#[utoipa::path(get, path = "/api/v1/recommended.xlsx", params(("competition_id" = Option<i64>, Query)),
    responses(
        (status = 200, description = "推荐名单（.xlsx）",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = ErrorBody)))]
async fn recommended_xlsx(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<RecommendedQuery>,
) -> Result<Response, ApiError> {
    let overview = competitions::recommended_for_export(&app, &ctx.principal, q.id()?).await?;
    Ok(recommended_download(&overview)?)
}
