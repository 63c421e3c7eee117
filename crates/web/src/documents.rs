//! Materials (材料): download of any document the actor's scope covers, and the materials of an
//! institution (营业执照, 电子备案材料 …) as an example owner that workflows can copy.
//!
//! Routes:
//! - `GET /documents/{id}`: download, scope-checked by the store (404 outside the scope).
//!   Downloads are not audited (materials are not personal data), except for owner types in
//!   `store::PERSONAL_OWNER_TYPES` (candidate photos, expert files), which write `document.download`.
//! - `GET|POST /api/v1/institutions/{id}/documents`: list / upload (multipart: `kind`, `file`…).
//! - `GET|POST /institutions/{id}/documents`: the same as a page with an upload form.

use crate::api::with_upload_limit;
use crate::routing::guard;
use crate::routing::Routes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use domain::Action;
use domain::Role;
use serde::Deserialize;
use store::{audit, Document, DocumentVersions, NewDocument, NewEvent};

use crate::api::ApiRouter;
use crate::auth::Authed;
use crate::error::AppError;
use crate::pages::{flash_text, render, Layout};
use crate::upload::{check_file, download_response, files, read_upload, text_field};
use crate::AppState;
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .get("/documents/{id}", Action::DocumentView, download)
        .get("/institutions/{id}/documents", Action::DocumentView, page)
        .upload(
            "/institutions/{id}/documents",
            Action::DocumentUpload,
            page_upload,
        )
}

/// The material routes of the API with their documentation (see `api::v1`).
pub fn api_routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(
            Action::DocumentView,
            with_upload_limit(routes!(api_list)),
        ))
        .routes(guard(
            Action::DocumentUpload,
            with_upload_limit(routes!(api_upload)),
        ))
}

/// Material kinds of an institution's own file (key, label).
pub const INSTITUTION_KINDS: &[(&str, &str)] = &[
    ("business_license", "营业执照或法人登记证书"),
    ("filing_materials", "电子备案材料"),
    ("qualification", "资质与场地设备证明"),
    ("other", "其他材料"),
];

/// The label of a kind key within a catalogue; unknown keys show as themselves.
pub fn kind_label<'a>(kinds: &'a [(&'a str, &'a str)], key: &'a str) -> &'a str {
    kinds
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| *l)
        .unwrap_or(key)
}

async fn download(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (doc, bytes) = document(&state, &me, id).await?;
    Ok(download_response(&doc, bytes))
}

/// 下载材料: a document the caller's scope covers; a personal one (candidate photos, expert
/// files) writes `document.download` to the audit trail.
pub async fn document(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<(Document, Vec<u8>), AppError> {
    me.may(Action::DocumentView)?;
    let (doc, bytes) = state.store.document_bytes(&me.scope(), id).await?;
    if doc.is_personal() {
        audit::record(
            &state.store.db,
            &me.actor(),
            NewEvent {
                action: "document.download",
                object_type: "document",
                object_id: doc.id.to_string(),
                summary: serde_json::json!({ "owner_type": doc.owner_type, "owner_id": doc.owner_id }),
            },
        )
        .await?;
    }
    Ok((doc, bytes))
}

/// Who may add materials to an institution's file: the institution itself, its district and
/// the city center (scope checked by loading the institution: 404 outside the scope).
async fn may_upload(state: &AppState, me: &Authed, id: i64) -> Result<(), AppError> {
    state.store.institution(&me.scope(), id).await?;
    me.may(Action::DocumentUpload)
}

/// Validate and store every file of the request; all are checked before any is stored.
async fn store_uploads(
    state: &AppState,
    me: &Authed,
    id: i64,
    mp: Multipart,
) -> Result<Vec<Document>, AppError> {
    let max = state.config.max_upload_bytes;
    let parts = read_upload(mp, max).await?;
    let kind = text_field(&parts, "kind").unwrap_or_default();
    if !INSTITUTION_KINDS.iter().any(|(k, _)| *k == kind) {
        return Err(AppError::invalid("kind", "请选择材料类别"));
    }
    let uploads: Vec<_> = files(&parts).collect();
    if uploads.is_empty() {
        return Err(AppError::invalid("file", "请选择要上传的文件"));
    }
    for f in &uploads {
        check_file(f, max)?;
    }
    let mut out = Vec::new();
    for f in uploads {
        let doc = NewDocument {
            owner_type: "institution".into(),
            owner_id: id,
            institution_id: Some(id),
            district_code: None,
            kind: kind.clone(),
            filename: f.filename.clone(),
            retention_until: None,
        };
        out.push(state.store.add_document(&me.actor(), doc, &f.bytes).await?);
    }
    Ok(out)
}

/// The OpenAPI paths of this module (merged into `/api/openapi.json`).

#[utoipa::path(get, path = "/api/v1/institutions/{id}/documents", tag = "材料", operation_id = "list_institution_documents", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<store::DocumentVersions>, description = "机构材料，按类别与文件名分组：[{latest, older[]}]，最新版本在前"), (status = 404, description = "不存在或不在辖区内")))]
async fn api_list(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Json<Vec<DocumentVersions>>, AppError> {
    Ok(Json(institution_materials(&state, &me, id).await?.1))
}

/// 机构材料: an institution in the caller's scope with its materials, grouped by kind and name.
pub async fn institution_materials(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<(store::Institution, Vec<DocumentVersions>), AppError> {
    me.may(Action::DocumentView)?;
    let inst = state.store.institution(&me.scope(), id).await?;
    Ok((inst, state.store.documents_of("institution", id).await?))
}

#[utoipa::path(post, path = "/api/v1/institutions/{id}/documents", tag = "材料", operation_id = "upload_institution_documents", params(("id" = i64, Path)),
    request_body(content_type = "multipart/form-data", description = "kind=材料类别（business_license | filing_materials | qualification | other），file=一个或多个文件（PDF、PNG、JPEG、Word、Excel、PowerPoint；按内容识别类型）"),
    responses((status = 201, body = Vec<store::Document>, description = "已上传的文件（同名再次上传为新版本）"), (status = 404, description = "不存在或不在辖区内"), (status = 413, description = "文件超过上限"), (status = 422, description = "类型不受支持、内容与扩展名不符、文件名不合法")))]
async fn api_upload(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Result<Response, AppError> {
    may_upload(&state, &me, id).await?;
    let docs = store_uploads(&state, &me, id, mp).await?;
    Ok((StatusCode::CREATED, Json(docs)).into_response())
}

#[derive(askama::Template)]
#[template(path = "documents.html")]
struct DocumentsPage {
    layout: Layout,
    heading: String,
    crumbs: Vec<(String, String)>,
    panel: DocumentsPanel,
}

/// The materials panel (`_documents_panel.html`): a table of documents with their versions
/// and, when `upload_action` is set, a multipart upload form. Include it in any template that
/// has a field named `panel` of this type.
pub struct DocumentsPanel {
    pub upload_action: Option<String>,
    pub kinds: Vec<(String, String)>,
    pub rows: Vec<DocumentRow>,
    pub max_mb: usize,
    pub error: Option<String>,
}

/// One line of the panel.
pub struct DocumentRow {
    pub kind_label: String,
    pub doc: Document,
    pub uploaded_at: String,
    pub older: Vec<(Document, String)>,
}

impl DocumentsPanel {
    /// Build from `documents_of` and a kind catalogue.
    pub fn new(
        groups: Vec<DocumentVersions>,
        kinds: &[(&str, &str)],
        upload_action: Option<String>,
        max_upload_bytes: usize,
    ) -> DocumentsPanel {
        let rows = groups
            .into_iter()
            .map(|g| DocumentRow {
                kind_label: kind_label(kinds, &g.latest.kind).to_string(),
                uploaded_at: crate::pages::beijing_time(&g.latest.uploaded_at),
                older: g
                    .older
                    .into_iter()
                    .map(|d| {
                        let t = crate::pages::beijing_time(&d.uploaded_at);
                        (d, t)
                    })
                    .collect(),
                doc: g.latest,
            })
            .collect();
        DocumentsPanel {
            upload_action,
            kinds: kinds
                .iter()
                .map(|(k, l)| (k.to_string(), l.to_string()))
                .collect(),
            rows,
            max_mb: max_upload_bytes / 1024 / 1024,
            error: None,
        }
    }
}

#[derive(Deserialize, Default)]
struct PageQuery {
    msg: Option<String>,
}

async fn institution_page(
    state: &AppState,
    me: &Authed,
    id: i64,
    error: Option<String>,
    flash: Option<String>,
) -> Result<DocumentsPage, AppError> {
    let (inst, groups) = institution_materials(state, me, id).await?;
    let can_upload = matches!(
        me.role(),
        Role::Institution | Role::District | Role::CityCenter
    );
    let mut panel = DocumentsPanel::new(
        groups,
        INSTITUTION_KINDS,
        can_upload.then(|| format!("/institutions/{id}/documents")),
        state.config.max_upload_bytes,
    );
    panel.error = error;
    Ok(DocumentsPage {
        layout: Layout::new(state, Some(me), "机构材料", "/institutions").with_flash(flash),
        heading: format!("{} · 材料", inst.name),
        crumbs: vec![
            ("/institutions".into(), "评价机构".into()),
            (format!("/institutions/{id}"), inst.name.clone()),
        ],
        panel,
    })
}

async fn page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let flash = flash_text(q.msg.as_deref());
    Ok(render(
        &institution_page(&state, &me, id, None, flash).await?,
    ))
}

async fn page_upload(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Result<Response, AppError> {
    may_upload(&state, &me, id).await?;
    match store_uploads(&state, &me, id, mp).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/institutions/{id}/documents?msg=uploaded")).into_response())
        }
        Err(e @ (AppError::Invalid { .. } | AppError::TooLarge(_) | AppError::BadRequest(_))) => {
            let status = e.status();
            let page = institution_page(&state, &me, id, Some(e.to_string()), None).await?;
            Ok(crate::pages::render_status(status, &page))
        }
        Err(e) => Err(e),
    }
}
