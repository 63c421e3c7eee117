//! 一寸照片: the institution uploads its candidates' certificate photos (type, size and the
//! one-inch proportion checked); institution, district and city see them inline (audited).

use crate::routing::{guard, Routes};
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use domain::certissue;
use domain::Action;
use serde::Deserialize;
use store::Plan;
use utoipa_axum::routes;

use crate::api::ApiRouter;
use crate::auth::Authed;
use crate::error::AppError;
use crate::pages::{flash_text, Layout};
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/plans/{id}/photos", Action::PhotoView, photos_page)
        .upload("/plans/{id}/photos/{cid}", Action::PhotoUpload, photo_form)
        .get("/certificates/photo/{cid}", Action::PhotoView, photo_image)
}

pub fn api_routes() -> ApiRouter {
    ApiRouter::new().routes(guard(
        Action::PhotoUpload,
        crate::api::with_upload_limit(routes!(api_photo)),
    ))
}

#[derive(Deserialize, Default)]
struct MsgQuery {
    msg: Option<String>,
}

/// Service: the institution uploads a candidate's one-inch photo (type, size, proportion checked).
pub async fn upload_photo(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    candidate_id: i64,
    name: &str,
    bytes: Vec<u8>,
) -> Result<i64, AppError> {
    me.may(Action::PhotoUpload)?;
    let plan = state.store.plan(&me.scope(), plan_id).await?;
    certissue::check_photo(name, &bytes)?;
    let file = store::UploadedFile {
        name: name.to_string(),
        content_type: String::new(),
        bytes,
    };
    state
        .store
        .set_candidate_photo(&me.actor(), &plan, candidate_id, &file)
        .await
        .map_err(|e| match e {
            store::StoreError::Invalid(m) => AppError::invalid("photo", m),
            other => other.into(),
        })
}

#[derive(Template)]
#[template(path = "cert_photos.html")]
struct PhotosPage {
    layout: Layout,
    plan: Plan,
    candidates: Vec<store::Candidate>,
    error: Option<String>,
}

async fn photos_view(
    state: &AppState,
    me: &Authed,
    id: i64,
    error: Option<String>,
    flash: Option<String>,
) -> Result<Response, AppError> {
    me.may(Action::PhotoView)?;
    let plan = state.store.plan(&me.scope(), id).await?;
    let candidates = state
        .store
        .all_candidates(id)
        .await?
        .into_iter()
        .filter(|c| c.passed != Some(false))
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(crate::pages::render_status(
        status,
        &PhotosPage {
            layout: Layout::new(state, Some(me), "考生证书照片", "/plans").with_flash(flash),
            plan,
            candidates,
            error,
        },
    ))
}

async fn photos_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    photos_view(&state, &me, id, None, flash_text(q.msg.as_deref())).await
}

async fn read_photo(state: &AppState, mp: Multipart) -> Result<(String, Vec<u8>), AppError> {
    let parts = crate::upload::read_upload(mp, state.config.max_upload_bytes).await?;
    let f = parts
        .into_iter()
        .find(|p| p.field == "photo" && p.is_file() && !p.bytes.is_empty())
        .ok_or_else(|| AppError::invalid("photo", "请选择照片文件"))?;
    Ok((f.filename, f.bytes))
}

async fn photo_form(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cid)): Path<(i64, i64)>,
    mp: Multipart,
) -> Result<Response, AppError> {
    let (name, bytes) = read_photo(&state, mp).await?;
    match upload_photo(&state, &me, id, cid, &name, bytes).await {
        Ok(_) => Ok(Redirect::to(&format!("/plans/{id}/photos?msg=uploaded")).into_response()),
        Err(AppError::Invalid { message, .. }) => {
            photos_view(&state, &me, id, Some(message), None).await
        }
        Err(e) => Err(e),
    }
}

/// Service: a candidate's certificate photo (证书照片) with its type (institution in scope,
/// district, city). Audited: personal data.
pub async fn photo(state: &AppState, me: &Authed, cid: i64) -> Result<(String, Vec<u8>), AppError> {
    let doc = state
        .store
        .candidate_photo_document(&me.scope(), cid)
        .await?
        .ok_or(AppError::NotFound)?;
    let (d, bytes) = state.store.document_bytes(&me.scope(), doc).await?;
    store::audit::record(
        &state.store.db,
        &me.actor(),
        store::NewEvent {
            action: "candidate.photo_view",
            object_type: "candidate",
            object_id: cid.to_string(),
            summary: serde_json::json!({ "document_id": doc }),
        },
    )
    .await?;
    Ok((d.content_type, bytes))
}

async fn photo_image(
    State(state): State<AppState>,
    me: Authed,
    Path(cid): Path<i64>,
) -> Result<Response, AppError> {
    let (content_type, bytes) = photo(&state, &me, cid).await?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/candidates/{cid}/certificate-photo", tag = "证书", operation_id = "upload_certificate_photo", params(("id" = i64, Path), ("cid" = i64, Path)),
    request_body(content_type = "multipart/form-data", description = "photo=一寸照片（JPG/PNG，≤2 MB，宽高比约 5:7，宽至少 150 像素）"),
    responses((status = 201, body = crate::api::schema::Created, description = "照片文档"), (status = 422, body = crate::api::ErrorBody, description = "类型、大小或比例不符")))]
async fn api_photo(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cid)): Path<(i64, i64)>,
    mp: Multipart,
) -> Result<Response, AppError> {
    let (name, bytes) = read_photo(&state, mp).await?;
    let doc = upload_photo(&state, &me, id, cid, &name, bytes).await?;
    Ok((
        StatusCode::CREATED,
        Json(crate::api::schema::Created { id: doc }),
    )
        .into_response())
}
