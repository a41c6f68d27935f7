//! The signed-in user's notifications (站内通知).

use crate::store::id::NotificationId;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::{get, post};

use super::{Layout, PageError, layout};
use crate::app::Shared;
use crate::services::notifications::{self, NotificationView};
use crate::web::principal::Authed;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(read))
        .route("/notifications/{id}/open", get(open))
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
struct ListPage {
    layout: Option<Layout>,
    flash: String,
    csrf: String,
    unread: u64,
    items: Vec<NotificationView>,
}

async fn list(State(app): State<Shared>, Authed(ctx): Authed) -> Result<ListPage, PageError> {
    let user_id = ctx.principal.user.id;
    let items = notifications::list(&app, user_id).await?;
    let unread = notifications::unread_count(&app, user_id).await?;
    Ok(ListPage {
        layout: layout(&ctx, "notifications"),
        flash: String::new(),
        csrf: ctx.session.csrf_token.clone(),
        unread,
        items,
    })
}

async fn read(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<NotificationId>,
) -> Result<Redirect, PageError> {
    notifications::mark_read(&app, ctx.principal.user.id, id).await?;
    Ok(Redirect::to("/notifications"))
}

async fn read_all(State(app): State<Shared>, Authed(ctx): Authed) -> Result<Redirect, PageError> {
    notifications::mark_all_read(&app, ctx.principal.user.id).await?;
    Ok(Redirect::to("/notifications"))
}

/// Following a notification marks it read, then goes where it points (inside the system only).
/// A GET changes state here, but only the reader's own read mark, which is harmless to repeat.
async fn open(
    State(app): State<Shared>,
    Authed(ctx): Authed,
    Path(id): Path<NotificationId>,
) -> Result<Redirect, PageError> {
    let n = notifications::mark_read(&app, ctx.principal.user.id, id).await?;
    Ok(Redirect::to(n.local_link().unwrap_or("/notifications")))
}
