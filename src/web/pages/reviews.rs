//! The city bureau's review queue (初审推荐): return, reject, recommend one or several, and the
//! printable draft letter. The county bureau reads the same queue and review page for its
//! county's applications and gives its opinion there (县级意见, 第十六条); it decides nothing.

use crate::store::id::{ApplicationId, AttachmentId};
use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiqun_domain::application::Status;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

use super::{Layout, PageError, layout};
use crate::app::{App, Shared};
use crate::error::AppError;
use crate::services::application_list;
use crate::services::applications::{self as apps, ApplicationRow};
use crate::services::county_opinions;
use crate::services::listing::{ListNav, ListParams};
use crate::services::reviews::{self, Letter};
use crate::store::entity::{attachment, cluster};
use crate::web::download::xlsx_download;
use crate::web::forms::{ACKNOWLEDGE, Confirm};
use crate::web::principal::{Authed, SessionCtx};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/reviews", get(queue))
        .route("/reviews/export.xlsx", get(export))
        .route("/reviews/recommend", post(bulk_recommend))
        .route("/reviews/{id}", get(show))
        .route("/reviews/{id}/return", post(return_it))
        .route("/reviews/{id}/reject", post(reject_it))
        .route("/reviews/{id}/recommend", post(recommend_it))
        .route("/reviews/{id}/county-opinion", post(county_opinion))
        .route("/reviews/{id}/letter", get(letter))
}

#[derive(Template, WebTemplate)]
#[template(path = "reviews.html")]
struct QueuePage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    rows: Vec<ApplicationRow>,
    nav: ListNav,
    /// The years with applications in the queue, newest first.
    years: Vec<i32>,
    /// The year shown, or "all".
    shown: String,
    statuses: Vec<(&'static str, &'static str)>,
    /// The policy's cluster kinds, for the kind filter.
    kinds: Vec<(String, String)>,
    general_error: String,
    cap_justification: String,
    cap_error: String,
    /// The one tick for recommending every selected application.
    bulk_confirm: Confirm,
    /// The city decides; a county bureau reads the queue to give its opinions.
    can_decide: bool,
}

/// The city reviews (the province under a programme that names it), the county comments;
/// anyone else may not open the review pages.
fn reviews_or_comments(p: &crate::app::Principal) -> Result<bool, AppError> {
    reviews::decides_or_comments(p)
}

/// What the city attests before recommending several applications at once.
fn bulk_confirm() -> Confirm {
    bulk_confirm_to("省工信厅")
}

/// The same tick, naming to whom the queue's recommendations go.
fn bulk_confirm_to(to: &str) -> Confirm {
    Confirm::new(
        "bulk-acknowledge",
        "我已审阅所选申报的材料和完整性检查结果",
        format!(
            "所选申报将一并推荐至{to}并生成推荐函草稿，不能撤回；任一申报不能推荐时，所选申报均不推荐"
        ),
    )
}

/// To whom the principal's queue recommends: the newest call whose 初审 is its role's decides
/// (the province's queue holds the national programme's, recommended to the ministry).
async fn queue_recommends_to(app: &App, p: &crate::app::Principal) -> Result<String, AppError> {
    let calls =
        crate::services::competitions::calls_where(app, false, |a| a.reviewer == p.role).await?;
    Ok(match calls.first() {
        Some(c) => reviews::recommended_to(&*crate::services::competitions::policy_of(c)?),
        None => "省工信厅".to_string(),
    })
}

/// The year value that shows every year.
const ALL_YEARS: &str = "all";

/// The queue's query: one year at a time, the newest unless another (or all) is asked for.
async fn queue_params(
    app: &App,
    ctx: &SessionCtx,
    pairs: &[(String, String)],
) -> Result<(ListParams, Vec<i32>), AppError> {
    let all = pairs.iter().any(|(k, v)| k == "year" && v == ALL_YEARS);
    let rest: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, v)| !(k == "year" && v == ALL_YEARS))
        .cloned()
        .collect();
    let mut params = ListParams::parse(&application_list::QUEUE, &rest)?;
    let years = application_list::years(app, &ctx.principal).await?;
    if all {
        params.set("year", ALL_YEARS);
    } else if params.get("year").is_none()
        && let Some(newest) = years.first()
    {
        params.set("year", newest.to_string());
    }
    Ok((params, years))
}

async fn queue_page(
    app: &App,
    ctx: &SessionCtx,
    error: Option<&AppError>,
    cap_justification: String,
    pairs: &[(String, String)],
) -> Result<QueuePage, PageError> {
    let can_decide = reviews_or_comments(&ctx.principal)?;
    let (params, years) = queue_params(app, ctx, pairs).await?;
    let (rows, total) = application_list::queue_page(app, &ctx.principal, &params).await?;
    let shown = params.get("year").unwrap_or(ALL_YEARS).to_string();
    let cap_error = error
        .and_then(|e| e.fields().iter().find(|f| f.field == "cap_justification"))
        .map(|f| f.message.clone())
        .unwrap_or_default();
    let bulk_confirm =
        bulk_confirm_to(&queue_recommends_to(app, &ctx.principal).await?).refused_by(error);
    let general_error = match error {
        Some(AppError::Invalid(_)) if !bulk_confirm.error.is_empty() => String::new(),
        Some(AppError::Invalid(f)) if cap_error.is_empty() => {
            f.first().map(|f| f.message.clone()).unwrap_or_default()
        }
        Some(AppError::Invalid(_)) | None => String::new(),
        Some(e) => e.to_string(),
    };
    Ok(QueuePage {
        layout: layout(ctx, "reviews"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        rows,
        nav: params.nav(&application_list::QUEUE, total),
        years,
        shown,
        statuses: Status::ALL.iter().map(|s| (s.key(), s.label())).collect(),
        kinds: application_list::kinds(app)?,
        general_error,
        cap_justification,
        cap_error,
        bulk_confirm,
        can_decide,
    })
}

async fn queue(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<QueuePage, PageError> {
    queue_page(&app, &ctx, None, String::new(), &pairs).await
}

/// 导出Excel of the queue: every application the filters match (the shown year by default).
async fn export(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    // Those who decide export their queue (the province's under the national programme).
    if !reviews::decides_or_comments(&ctx.principal)? {
        return Err(AppError::Forbidden.into());
    }
    let (params, _) = queue_params(&app, &ctx, &pairs).await?;
    let bytes = application_list::export_queue(&app, &ctx.principal, &params).await?;
    Ok(xlsx_download(
        bytes,
        "初审申报名单.xlsx",
        "review-queue.xlsx",
    ))
}

async fn bulk_recommend(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Form(fields): Form<HashMap<String, String>>,
) -> Response {
    let mut ids: Vec<ApplicationId> = fields
        .keys()
        .filter_map(|k| k.strip_prefix("id_"))
        .filter_map(|id| id.parse().ok())
        .collect();
    ids.sort_unstable();
    let justification = fields.get("cap_justification").cloned().unwrap_or_default();
    let ticked = fields.get(ACKNOWLEDGE).map_or("", String::as_str);
    let done = match bulk_confirm().check(ticked) {
        Ok(()) => {
            reviews::recommend(
                &app,
                &ctx.principal,
                &ids,
                Letter::Generated,
                &justification,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(_) => Redirect::to("/reviews").into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let all = [("year".to_string(), ALL_YEARS.to_string())];
            match queue_page(&app, &ctx, Some(&e), justification, &all).await {
                Ok(page) => (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "review.html")]
struct ReviewPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    id: ApplicationId,
    cluster_name: String,
    status_label: String,
    revision: i32,
    changes: Vec<jiqun_rules::intake::Change>,
    can_decide: bool,
    letters: Vec<(AttachmentId, String)>,
    has_letter_draft: bool,
    general_error: String,
    comment: String,
    comment_error: String,
    reason: String,
    reason_error: String,
    cap_justification: String,
    cap_error: String,
    letter_error: String,
    steps: Vec<(&'static str, &'static str)>,
    /// The application as the city decides on it: content, completeness, files.
    criteria: Vec<super::applications::CriterionView>,
    ready: bool,
    problems: Vec<(&'static str, String)>,
    files: Vec<super::applications::FileView>,
    next: Option<(String, String)>,
    /// Recommending or rejecting ends the city's review: the bureau ticks this first.
    decide_confirm: Confirm,
    /// 县级意见 (第十六条): those given so far, and whether the principal (a county bureau) may
    /// give one now.
    opinions: Vec<crate::services::county_opinions::OpinionView>,
    can_comment: bool,
    opinion: String,
    opinion_error: String,
    /// To whom a recommendation goes: 省工信厅, or 工业和信息化部 under the national programme.
    recommend_to: String,
    /// The programme's 初审 includes a 实地抽查 (recorded on the application page).
    field_check: bool,
}

/// What the reviewer attests before recommending or rejecting, and what either does (`to`: to
/// whom a recommendation goes, `reviews::recommended_to`).
fn decide_confirm_to(to: &str) -> Confirm {
    Confirm::new(
        "decide-acknowledge",
        "我已审阅申报材料和完整性检查结果",
        format!("推荐后申报将报送{to}，不予推荐则本次申报终止；两者均不能撤回（退回修改无需勾选）"),
    )
}

/// The tick's check is the same whoever the recommendation goes to.
fn decide_confirm() -> Confirm {
    decide_confirm_to("省工信厅")
}

#[derive(Default)]
struct Typed {
    comment: String,
    reason: String,
    cap_justification: String,
    opinion: String,
}

async fn review_page(
    app: &App,
    ctx: &SessionCtx,
    id: ApplicationId,
    error: Option<&AppError>,
    typed: Typed,
) -> Result<ReviewPage, PageError> {
    let p = &ctx.principal;
    let decides = reviews_or_comments(p)?;
    let m = apps::load(&app.db, p, id).await?;
    let opinions = county_opinions::of_application(&app.db, p, &m).await?;
    let can_comment = county_opinions::may_give(p, &m);
    let status = m.status;
    // Only the reviewer the application's call names decides on it (the province reads a
    // provincial competition's application here without deciding).
    let decides = decides && apps::actors_for(&app.db, &m).await?.reviewer == p.role;
    let material = super::applications::material(app, &m, None, None, false).await?;
    let recommend_to = reviews::recommended_to(&material.policy);
    let ministry = material
        .policy
        .procedure
        .as_ref()
        .is_some_and(|pr| pr.field_check);
    let name = cluster::Entity::find_by_id(m.cluster_id)
        .one(&app.db)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let letters = letters_of(app, id)
        .await?
        .into_iter()
        .map(|a| (a.id, a.file_name))
        .collect();
    let field = |name: &str| {
        error
            .and_then(|e| e.fields().iter().find(|f| f.field == name))
            .map(|f| f.message.clone())
            .unwrap_or_default()
    };
    let has_letter_draft = reviews::recommendation_of(app, id)
        .await?
        .is_some_and(|r| !r.letter_text.is_empty());
    Ok(ReviewPage {
        layout: layout(ctx, "reviews"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        id,
        cluster_name: name,
        status_label: apps::status_label_under(status, Some(&material.policy)),
        revision: m.revision,
        changes: apps::changes_since_last(app, &material.policy, id).await?,
        can_decide: decides && status == Status::Submitted,
        steps: crate::web::views::application_steps_under(
            status,
            apps::actors_of(&material.policy),
        ),
        next: match (status == Status::Submitted, decides) {
            (true, true) => Some(("出具初审意见".to_string(), "#decision".to_string())),
            (true, false) if can_comment => {
                Some(("提出县级意见".to_string(), "#county-opinion".to_string()))
            }
            _ => None,
        },
        opinions,
        can_comment,
        opinion_error: field("opinion"),
        opinion: typed.opinion,
        decide_confirm: decide_confirm_to(&recommend_to).refused_by(error),
        recommend_to,
        field_check: ministry,
        criteria: material.criteria,
        ready: material.ready,
        problems: material.problems,
        files: material.files,
        letters,
        has_letter_draft,
        general_error: match error {
            Some(AppError::Invalid(_)) | None => String::new(),
            Some(e) => e.to_string(),
        },
        comment_error: field("comment"),
        reason_error: field("reason"),
        cap_error: field("cap_justification"),
        letter_error: field("letter"),
        comment: typed.comment,
        reason: typed.reason,
        cap_justification: typed.cap_justification,
    })
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    upload_error: Option<String>,
}

async fn show(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    axum::extract::Query(q): axum::extract::Query<ShowQuery>,
) -> Result<ReviewPage, PageError> {
    let mut page = review_page(&app, &ctx, id, None, Typed::default()).await?;
    if let Some(e) = q.upload_error {
        page.general_error = e;
    }
    Ok(page)
}

async fn after(
    app: &App,
    ctx: &SessionCtx,
    id: ApplicationId,
    result: Result<(), AppError>,
    typed: Typed,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/reviews/{id}")).into_response(),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            match review_page(app, ctx, id, Some(&e), typed).await {
                Ok(page) => (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Deserialize)]
struct CommentForm {
    #[serde(default)]
    comment: String,
}

async fn return_it(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Form(f): Form<CommentForm>,
) -> Response {
    let r = reviews::return_for_revision(&app, &ctx.principal, id, &f.comment)
        .await
        .map(|_| ());
    after(
        &app,
        &ctx,
        id,
        r,
        Typed {
            comment: f.comment,
            ..Default::default()
        },
    )
    .await
}

/// The reject form: the API-shaped `reason`, or the decision box's one `comment` field.
#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    acknowledge: String,
}

async fn reject_it(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Form(f): Form<ReasonForm>,
) -> Response {
    let reason = if f.reason.trim().is_empty() {
        f.comment
    } else {
        f.reason
    };
    let r = match decide_confirm().check(&f.acknowledge) {
        Ok(()) => reviews::reject(&app, &ctx.principal, id, &reason)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after(
        &app,
        &ctx,
        id,
        r,
        Typed {
            reason,
            ..Default::default()
        },
    )
    .await
}

#[derive(Deserialize)]
struct RecommendForm {
    #[serde(default)]
    letter: String,
    #[serde(default)]
    cap_justification: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    acknowledge: String,
}

/// The signed 推荐函 uploaded for an application, oldest first.
async fn letters_of(app: &App, id: ApplicationId) -> Result<Vec<attachment::Model>, AppError> {
    Ok(attachment::Entity::find()
        .filter(attachment::Column::OwnerType.eq("application"))
        .filter(attachment::Column::OwnerId.eq(id))
        .filter(attachment::Column::Purpose.eq("letter"))
        .order_by_asc(attachment::Column::Id)
        .all(&app.db)
        .await?)
}

async fn recommend_it(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Form(f): Form<RecommendForm>,
) -> Response {
    let typed = |f: &RecommendForm| Typed {
        cap_justification: f.cap_justification.clone(),
        comment: f.comment.clone(),
        ..Default::default()
    };
    if let Err(e) = decide_confirm().check(&f.acknowledge) {
        return after(&app, &ctx, id, Err(e), typed(&f)).await;
    }
    let letter = if f.letter == "uploaded" {
        match letters_of(&app, id).await {
            Ok(list) => match list.last() {
                Some(a) => Letter::Uploaded(a.id),
                None => {
                    let e = AppError::invalid("letter", "请先上传签章推荐函，或选择生成推荐函草稿");
                    return after(&app, &ctx, id, Err(e), typed(&f)).await;
                }
            },
            Err(e) => return PageError(e).into_response(),
        }
    } else {
        Letter::Generated
    };
    let r = reviews::recommend(&app, &ctx.principal, &[id], letter, &f.cap_justification)
        .await
        .map(|_| ());
    after(&app, &ctx, id, r, typed(&f)).await
}

#[derive(Deserialize)]
struct OpinionForm {
    #[serde(default)]
    opinion: String,
}

/// The county bureau's opinion in the city's 初审.
async fn county_opinion(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
    Form(f): Form<OpinionForm>,
) -> Response {
    let r = county_opinions::give(&app, &ctx.principal, id, &f.opinion)
        .await
        .map(|_| ());
    after(
        &app,
        &ctx,
        id,
        r,
        Typed {
            opinion: f.opinion,
            ..Default::default()
        },
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "letter.html")]
struct LetterPage {
    id: ApplicationId,
    issuer: String,
    paragraphs: Vec<(&'static str, String)>,
}

/// The draft letter laid out as a 公文, for printing from the browser.
async fn letter(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<ApplicationId>,
) -> Result<LetterPage, PageError> {
    apps::load(&app.db, &ctx.principal, id).await?;
    let rec = reviews::recommendation_of(&app, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut lines = rec.letter_text.lines();
    let issuer = lines.next().unwrap_or_default().to_string();
    let mut paragraphs = Vec::new();
    let mut seen_title = false;
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let class = if line.starts_with('〔') {
            "docno"
        } else if !seen_title {
            seen_title = true;
            "title"
        } else if line.ends_with('：') {
            "salute"
        } else if line.starts_with("    ") {
            "body"
        } else if line.starts_with('（')
            || line.contains('年') && line.ends_with('日')
            || line == issuer
        {
            "sign"
        } else {
            "plain"
        };
        paragraphs.push((class, line.trim().to_string()));
    }
    Ok(LetterPage {
        id,
        issuer,
        paragraphs,
    })
}
