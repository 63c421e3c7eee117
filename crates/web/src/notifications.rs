//! 站内消息: `/notifications` lists the messages of the user and of the user's institution,
//! paginated, with mark-as-read. The header badge is filled by static/app.js from
//! `GET /api/v1/notifications/unread` (one indexed COUNT, after the page has rendered).

use crate::routing::guard;
use crate::routing::Routes;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use domain::Action;
use serde::Deserialize;
use store::{Notification, PageRequest};

use crate::api::ApiRouter;
use crate::auth::Authed;
use crate::error::AppError;
use crate::pages::{beijing_time, flash_text, render, Layout, Pager};
use crate::AppState;
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .get("/notifications", Action::OwnAccount, page)
        .post("/notifications/{id}/read", Action::OwnAccount, read_one)
        .post("/notifications/read-all", Action::OwnAccount, read_all)
}

/// The notification routes of the API with their documentation (see `api::v1`).
pub fn api_routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(Action::OwnAccount, routes!(api_list)))
        .routes(guard(Action::OwnAccount, routes!(api_unread)))
        .routes(guard(Action::OwnAccount, routes!(api_read_one)))
}

// ------------------------------------------------------------------ use cases (page and API)

/// 站内消息: one page of the messages of the caller and of the caller's institution, newest first.
pub async fn notifications(
    state: &AppState,
    me: &Authed,
    unread_only: bool,
    page: PageRequest,
) -> Result<store::Page<Notification>, AppError> {
    me.may(Action::OwnAccount)?;
    Ok(state
        .store
        .notifications_for(me.account.id, me.account.institution_id, unread_only, page)
        .await?)
}

/// 未读消息数 (the header badge).
pub async fn unread(state: &AppState, me: &Authed) -> Result<i64, AppError> {
    me.may(Action::OwnAccount)?;
    Ok(state
        .store
        .unread_count(me.account.id, me.account.institution_id)
        .await?)
}

/// 标记已读: one message of the caller or the caller's institution (another's is 404).
pub async fn mark_read(state: &AppState, me: &Authed, id: i64) -> Result<(), AppError> {
    me.may(Action::OwnAccount)?;
    state
        .store
        .mark_read(me.account.id, me.account.institution_id, id)
        .await?;
    Ok(())
}

/// 全部标记已读.
pub async fn mark_all_read(state: &AppState, me: &Authed) -> Result<(), AppError> {
    me.may(Action::OwnAccount)?;
    state
        .store
        .mark_all_read(me.account.id, me.account.institution_id)
        .await?;
    Ok(())
}

#[derive(Deserialize, Default)]
struct ListQuery {
    page: Option<i64>,
    per_page: Option<i64>,
    unread: Option<String>,
    msg: Option<String>,
}

impl ListQuery {
    fn unread_only(&self) -> bool {
        matches!(self.unread.as_deref(), Some("1" | "true" | "on"))
    }
}

struct Row {
    n: Notification,
    at: String,
    /// Only local links are shown.
    link: Option<String>,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    layout: Layout,
    rows: Vec<Row>,
    pager: Pager,
    base: String,
    unread_only: bool,
    unread: i64,
}

fn local_link(l: &str) -> Option<String> {
    (l.starts_with('/') && !l.starts_with("//")).then(|| l.to_string())
}

async fn page(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let list = notifications(
        &state,
        &me,
        q.unread_only(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    let unread = unread(&state, &me).await?;
    let pager = Pager::from(&list);
    let rows = list
        .items
        .into_iter()
        .map(|n| Row {
            at: beijing_time(&n.created_at),
            link: local_link(&n.link),
            n,
        })
        .collect();
    Ok(render(&NotificationsPage {
        layout: Layout::new(&state, Some(&me), "消息", "/notifications")
            .with_flash(flash_text(q.msg.as_deref())),
        rows,
        pager,
        base: if q.unread_only() {
            "/notifications?unread=1&".into()
        } else {
            "/notifications?".into()
        },
        unread_only: q.unread_only(),
        unread,
    }))
}

async fn read_one(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    mark_read(&state, &me, id).await?;
    Ok(Redirect::to("/notifications?msg=read").into_response())
}

async fn read_all(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    mark_all_read(&state, &me).await?;
    Ok(Redirect::to("/notifications?msg=read").into_response())
}

/// The OpenAPI paths of this module (merged into `/api/openapi.json`).

#[utoipa::path(get, path = "/api/v1/notifications", tag = "消息", operation_id = "list_notifications",
    params(("unread" = Option<String>, Query, description = "1 = 只看未读"), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = crate::api::schema::PageOf<store::Notification>, description = "本人及本机构的消息，分页 {items, total, page, per_page}，最新在前")))]
async fn api_list(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let page = PageRequest::new(q.page, q.per_page);
    Ok(Json(notifications(&state, &me, q.unread_only(), page).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/notifications/unread", tag = "消息", responses((status = 200, body = crate::api::schema::Object, description = "{unread: 未读条数}")))]
async fn api_unread(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Json<serde_json::Value>, AppError> {
    let n = unread(&state, &me).await?;
    Ok(Json(serde_json::json!({ "unread": n })))
}

#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "消息", params(("id" = i64, Path)),
    responses((status = 200, body = crate::api::schema::Object, description = "已标记为已读"), (status = 404, description = "不是本人或本机构的消息")))]
async fn api_read_one(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, AppError> {
    mark_read(&state, &me, id).await?;
    Ok(Json(serde_json::json!({ "id": id, "read": true })))
}
