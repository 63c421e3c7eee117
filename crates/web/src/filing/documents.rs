//! 备案材料的上传与下载。

use super::*;

/// Material kinds of a filing application (key, label).
pub const FILING_DOC_KINDS: &[(&str, &str)] = domain::filing::MATERIAL_KINDS;

/// Store the files of a multipart request as materials of the application; all files are
/// checked (type from content, size, name) before any is stored.
pub async fn store_filing_uploads(
    state: &AppState,
    me: &Authed,
    id: i64,
    mp: axum::extract::Multipart,
) -> Result<Vec<store::Document>, AppError> {
    let app = state.store.filing(&me.scope(), id).await?;
    match me.role() {
        Role::Institution if app.state().editable() => {}
        Role::Institution => {
            return Err(AppError::Conflict(format!(
                "当前状态为“{}”，不能再上传材料",
                app.state().label()
            )));
        }
        Role::District | Role::CityCenter | Role::CityDivision if !app.state().is_terminal() => {}
        // The dispatched supervisor attaches to its 督导意见 (its scope shows dispatched ones only).
        Role::Supervisor if !app.state().is_terminal() => {}
        _ => return Err(AppError::forbidden()),
    }
    let max = state.config.max_upload_bytes;
    let parts = crate::upload::read_upload(mp, max).await?;
    let kind = crate::upload::text_field(&parts, "kind").unwrap_or_default();
    if !FILING_DOC_KINDS.iter().any(|(k, _)| *k == kind) {
        return Err(AppError::invalid("kind", "请选择材料类别"));
    }
    if me.role() == Role::Supervisor && kind != "supervision" {
        return Err(AppError::invalid("kind", "督导员只能上传督导意见附件"));
    }
    let uploads: Vec<_> = crate::upload::files(&parts).collect();
    if uploads.is_empty() {
        return Err(AppError::invalid("file", "请选择要上传的文件"));
    }
    for f in &uploads {
        crate::upload::check_file(f, max)?;
    }
    let mut out = vec![];
    for f in uploads {
        out.push(
            state
                .store
                .add_document(
                    &me.actor(),
                    store::NewDocument {
                        owner_type: "filing_application".into(),
                        owner_id: app.id,
                        institution_id: Some(app.institution_id),
                        district_code: Some(app.district_code.clone()),
                        kind: kind.clone(),
                        filename: f.filename.clone(),
                        retention_until: None,
                    },
                    &f.bytes,
                )
                .await?,
        );
    }
    Ok(out)
}

#[utoipa::path(post, path = "/api/v1/filings/{id}/documents", tag = "机构备案", operation_id = "upload_filing_documents", params(("id" = i64, Path)), request_body(content_type = "multipart/form-data", description = "kind=材料类别，file=一个或多个文件"), responses((status = 201, body = Vec<store::Document>, description = "已上传的文件"), (status = 413, description = "文件超过上限"), (status = 422, description = "类型不受支持或内容与扩展名不符")))]
pub(super) async fn upload_documents(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    mp: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let docs = store_filing_uploads(&state, &me, id, mp).await?;
    Ok((StatusCode::CREATED, Json(docs)).into_response())
}

#[utoipa::path(get, path = "/api/v1/filings/{id}/documents", tag = "机构备案", operation_id = "list_filing_documents", params(("id" = i64, Path)), responses((status = 200, body = Vec<store::DocumentVersions>, description = "申请材料，最新版本在前")))]
pub(super) async fn list_documents(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(Json(materials(&state, &me, id).await?).into_response())
}

/// Download a material of an application for anyone who may see the application — including
/// drawn experts and the dispatched supervisor, whom the general `/documents/{id}` refuses.
#[utoipa::path(get, path = "/api/v1/filings/{id}/documents/{doc}", tag = "机构备案", operation_id = "download_filing_document", params(("id" = i64, Path), ("doc" = i64, Path)), responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>, description = "文件内容")))]
pub async fn download_document(
    State(state): State<AppState>,
    me: Authed,
    Path((id, doc)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let (d, bytes) = material(&state, &me, id, doc).await?;
    Ok(crate::upload::download_response(&d, bytes))
}
