//! JSON API: the expert pool and the set-up of rounds — opening, panel, automatic and manual
//! assignment, removals, recusal and the start of scoring (routes relative to /api/v1).

use crate::store::id::{AssignmentId, CompetitionId, EntryId, ExpertId, RoundId};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::OpenApi;

use super::{ApiError, ErrorBody};
use crate::app::Shared;
use crate::error::AppError;
use crate::services::experts::{
    self, AccountChoice, AffiliationMatch, DeclaredConflictView, ExpertDetail, ExpertInput,
    ExpertView,
};
use crate::services::rounds::{
    self, AssignOutcome, AssignmentView, EntryView, OpenRoundInput, PanelMemberView, QuotaView,
    RoundSummary, RoundView, ShortfallView,
};
use crate::web::principal::Authed;

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/experts", get(list_experts).post(create_expert))
        .route("/experts/accounts", get(free_accounts))
        .route("/experts/me", get(my_expert))
        .route("/experts/{id}", get(get_expert).put(update_expert))
        .route("/competitions/{id}/rounds", post(open_round))
        .route("/rounds", get(list_rounds))
        .route("/rounds/{id}", get(get_round))
        .route("/rounds/{id}/panel", put(set_panel))
        .route("/rounds/{id}/auto-assign", post(auto_assign))
        .route("/rounds/{id}/assignments", post(assign))
        .route("/rounds/{id}/open-scoring", post(open_scoring))
        .route("/rounds/{id}/scoring-deadline", post(extend_window))
        .route("/assignments/{id}", delete(unassign))
        .route("/assignments/{id}/recuse", post(recuse))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_experts,
        create_expert,
        free_accounts,
        my_expert,
        get_expert,
        update_expert,
        open_round,
        list_rounds,
        get_round,
        set_panel,
        auto_assign,
        assign,
        open_scoring,
        extend_window,
        unassign,
        recuse
    ),
    components(schemas(
        ExpertInput,
        ExpertUpdate,
        ExpertView,
        ExpertDetail,
        DeclaredConflictView,
        AffiliationMatch,
        AccountChoice,
        OpenRoundInput,
        ExtendInput,
        RoundSummary,
        RoundView,
        rounds::EntryPage,
        QuotaView,
        EntryView,
        AssignmentView,
        PanelMemberView,
        ShortfallView,
        AssignOutcome,
        PanelChange,
        ManualAssignment,
        Reason
    ))
)]
pub struct Doc;

/// The expert pool (province); an expert gets a list with only their own entry.
#[utoipa::path(get, path = "/api/v1/experts",
    responses((status = 200, body = [ExpertView]), (status = 403, body = ErrorBody)))]
async fn list_experts(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> ApiResult<Vec<ExpertView>> {
    Ok(Json(experts::list(&app, &ctx.principal).await?))
}

/// Puts an expert account into the pool (province).
#[utoipa::path(post, path = "/api/v1/experts", request_body = ExpertInput,
    responses((status = 200, body = ExpertView), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_expert(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Json(body): Json<ExpertInput>,
) -> ApiResult<ExpertView> {
    Ok(Json(experts::create(&app, &ctx.principal, &body).await?))
}

/// Expert accounts not yet in the pool (province), for `user_id` of a new entry.
#[utoipa::path(get, path = "/api/v1/experts/accounts",
    responses((status = 200, body = [AccountChoice]), (status = 403, body = ErrorBody)))]
async fn free_accounts(
    State(app): State<Shared>,
    Authed(ctx): Authed,
) -> ApiResult<Vec<AccountChoice>> {
    Ok(Json(experts::free_accounts(&app, &ctx.principal).await?))
}

/// The signed-in expert's own entry with the conflicts they declared; 404 when not in the pool.
#[utoipa::path(get, path = "/api/v1/experts/me",
    responses((status = 200, body = ExpertDetail), (status = 404, body = ErrorBody)))]
async fn my_expert(State(app): State<Shared>, Authed(ctx): Authed) -> ApiResult<ExpertDetail> {
    Ok(Json(
        experts::mine(&app, &ctx.principal)
            .await?
            .ok_or(AppError::NotFound)?,
    ))
}

/// One entry with its declared conflicts and the known organisations its affiliations name.
#[utoipa::path(get, path = "/api/v1/experts/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ExpertDetail), (status = 404, body = ErrorBody)))]
async fn get_expert(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ExpertId>,
) -> ApiResult<ExpertDetail> {
    Ok(Json(experts::get(&app, &ctx.principal, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ExpertUpdate {
    #[serde(flatten)]
    pub expert: ExpertInput,
    /// The version the client last saw; a stale version is refused with 409.
    pub version: i32,
}

#[utoipa::path(put, path = "/api/v1/experts/{id}", params(("id" = i64, Path)), request_body = ExpertUpdate,
    responses((status = 200, body = ExpertView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_expert(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ExpertId>,
    Json(body): Json<ExpertUpdate>,
) -> ApiResult<ExpertView> {
    Ok(Json(
        experts::update(&app, &ctx.principal, id, &body.expert, body.version).await?,
    ))
}

/// Opens a 初赛 or 决赛 of a competition (province) with every eligible entrant: the recommended
/// applications (初赛) or the cultivation targets that have served the policy's period (决赛).
#[utoipa::path(post, path = "/api/v1/competitions/{id}/rounds", params(("id" = i64, Path)), request_body = OpenRoundInput,
    responses((status = 200, body = RoundView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn open_round(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<CompetitionId>,
    Json(body): Json<OpenRoundInput>,
) -> ApiResult<RoundView> {
    let r = rounds::open_round(&app, &ctx.principal, id, &body).await?;
    Ok(Json(rounds::view(&app, &ctx.principal, r.id).await?))
}

#[derive(Deserialize)]
struct RoundQuery {
    /// Text, so a malformed id is answered in the API's own error format.
    competition_id: Option<String>,
}

/// Rounds, newest competition first (province, partner departments).
#[utoipa::path(get, path = "/api/v1/rounds", params(("competition_id" = Option<i64>, Query)),
    responses((status = 200, body = [RoundSummary]), (status = 403, body = ErrorBody)))]
async fn list_rounds(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(q): Query<RoundQuery>,
) -> ApiResult<Vec<RoundSummary>> {
    let competition_id = match q.competition_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => Some(
            t.parse()
                .map_err(|_| AppError::invalid("competition_id", "竞赛编号应为整数"))?,
        ),
    };
    Ok(Json(
        rounds::list(&app, &ctx.principal, competition_id).await?,
    ))
}

/// A round with its entrants, each entrant's assignments (recusals marked), the panel with
/// loads, and the shortfalls an automatic assignment could not fill. `kind`, `q` and
/// `unfilled` narrow the entrants; `page` answers 50 of them at a time (`entry_page` says how
/// many matched), without it every entrant.
#[utoipa::path(get, path = "/api/v1/rounds/{id}", params(("id" = i64, Path), rounds::EntryQuery),
    responses((status = 200, body = RoundView), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody), (status = 400, body = ErrorBody)))]
async fn get_round(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Query(asked): Query<rounds::EntryQuery>,
) -> ApiResult<RoundView> {
    Ok(Json(
        rounds::view_of(&app, &ctx.principal, id, &asked).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PanelChange {
    /// Expert ids to add to the panel.
    #[serde(default)]
    #[schema(value_type = Vec<i64>)]
    pub add: Vec<ExpertId>,
    /// Expert ids to take off the panel (only experts without standing assignments).
    #[serde(default)]
    #[schema(value_type = Vec<i64>)]
    pub remove: Vec<ExpertId>,
}

/// Changes the round's panel (province).
#[utoipa::path(put, path = "/api/v1/rounds/{id}/panel", params(("id" = i64, Path)), request_body = PanelChange,
    responses((status = 200, body = RoundView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_panel(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Json(body): Json<PanelChange>,
) -> ApiResult<RoundView> {
    rounds::set_panel(&app, &ctx.principal, id, &body.add, &body.remove).await?;
    Ok(Json(rounds::view(&app, &ctx.principal, id).await?))
}

/// Gives every entrant the round's number of experts from the panel, never a conflicted pair,
/// loads balanced; existing assignments are kept. Entrants that cannot be filled are listed
/// with the reason.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/auto-assign", params(("id" = i64, Path)),
    responses((status = 200, body = AssignOutcome), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn auto_assign(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
) -> ApiResult<AssignOutcome> {
    Ok(Json(rounds::auto_assign(&app, &ctx.principal, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ManualAssignment {
    #[schema(value_type = i64)]
    pub entry_id: EntryId,
    #[schema(value_type = i64)]
    pub expert_id: ExpertId,
    /// Required when the pair has a conflict of interest; the refusal names the conflicts.
    #[serde(default)]
    pub override_reason: String,
}

/// A hand assignment (province). A conflicted pair is refused (422 on `override_reason`,
/// naming the conflicts) unless a reason to override is given; the reason is stored.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/assignments", params(("id" = i64, Path)), request_body = ManualAssignment,
    responses((status = 200, body = AssignmentView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn assign(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Json(body): Json<ManualAssignment>,
) -> ApiResult<AssignmentView> {
    let a = rounds::assign(
        &app,
        &ctx.principal,
        id,
        body.entry_id,
        body.expert_id,
        &body.override_reason,
    )
    .await?;
    let v = rounds::view(&app, &ctx.principal, id).await?;
    Ok(Json(
        v.entries
            .into_iter()
            .flat_map(|e| e.assignments)
            .find(|x| x.id == a.id)
            .ok_or(AppError::NotFound)?,
    ))
}

/// Starts scoring (province): refused while an entrant lacks experts. Entrants (and, in a 初赛,
/// their applications) move to 专家评审中 and the assigned experts are notified.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/open-scoring", params(("id" = i64, Path)),
    responses((status = 200, body = RoundView), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn open_scoring(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
) -> ApiResult<RoundView> {
    rounds::open_scoring(&app, &ctx.principal, id).await?;
    Ok(Json(rounds::view(&app, &ctx.principal, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ExtendInput {
    /// The new deadline, Beijing time "YYYY-MM-DDTHH:MM"; later than the old one and than now.
    pub scoring_closes_at: String,
    pub reason: String,
}

/// Moves the scoring deadline later while scoring (province), with a reason; the assigned
/// experts are notified.
#[utoipa::path(post, path = "/api/v1/rounds/{id}/scoring-deadline", params(("id" = i64, Path)),
    request_body = ExtendInput,
    responses((status = 200, body = RoundView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn extend_window(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<RoundId>,
    Json(body): Json<ExtendInput>,
) -> ApiResult<RoundView> {
    rounds::extend_window(
        &app,
        &ctx.principal,
        id,
        &body.scoring_closes_at,
        &body.reason,
    )
    .await?;
    Ok(Json(rounds::view(&app, &ctx.principal, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct Reason {
    pub reason: String,
}

/// Takes an assignment back (province), with a reason; refused once the expert has a score
/// sheet, and for a recusal, which stays on record.
#[utoipa::path(delete, path = "/api/v1/assignments/{id}", params(("id" = i64, Path)), request_body = Reason,
    responses((status = 204), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn unassign(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<AssignmentId>,
    Json(body): Json<Reason>,
) -> Result<StatusCode, ApiError> {
    rounds::unassign(&app, &ctx.principal, id, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The assigned expert declares a conflict and steps back (回避), with a reason. The
/// declaration is recorded and keeps the expert off that application from then on.
#[utoipa::path(post, path = "/api/v1/assignments/{id}/recuse", params(("id" = i64, Path)), request_body = Reason,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn recuse(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<AssignmentId>,
    Json(body): Json<Reason>,
) -> Result<StatusCode, ApiError> {
    rounds::recuse(&app, &ctx.principal, id, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}
