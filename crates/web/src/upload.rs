//! Multipart uploads (材料上传) and file downloads.
//!
//! ## Body limits
//! Every route keeps the global 2 MB limit (`WebConfig::max_body_bytes`, applied with
//! `DefaultBodyLimit`). A route that accepts files adds `.layer(upload_limit_layer())`, which
//! lifts that per-route limit; the request is then capped by the outer `RequestBodyLimitLayer`
//! at `WebConfig::max_upload_bytes` + [`MULTIPART_OVERHEAD`] (a `Content-Length` over it is a
//! 413 before the handler runs), and [`read_upload`] counts the bytes as they stream and
//! aborts with a Chinese 413 once `max_bytes` is passed. Example:
//!
//! ```ignore
//! .route("/v1/things/{id}/documents",
//!        post(upload_handler).layer(crate::upload::upload_limit_layer()))
//! async fn upload_handler(State(state): State<AppState>, me: Authed, mp: Multipart) -> … {
//!     let parts = read_upload(mp, state.config.max_upload_bytes).await?;
//!     let kind = text_field(&parts, "kind").unwrap_or_default();
//!     for f in files(&parts) { let checked = check_file(f, state.config.max_upload_bytes)?; … }
//! }
//! ```

use axum::extract::multipart::{Multipart, MultipartError};
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::upload::{self, CheckedUpload, SizeCounter};
use store::Document;

use crate::error::AppError;

/// Room for multipart boundaries, headers and small text fields on top of the file limit.
pub const MULTIPART_OVERHEAD: usize = 64 * 1024;

/// The per-route layer of upload routes: lifts the 2 MB default so that [`read_upload`] (and
/// the global cap at `max_upload_bytes`) decide instead.
pub fn upload_limit_layer() -> DefaultBodyLimit {
    DefaultBodyLimit::disable()
}

/// Outer guard: a request whose declared `Content-Length` exceeds `max_request` is refused at
/// once with a Chinese 413 naming the upload limit (the body is never read).
pub async fn refuse_declared_oversize(
    req: axum::extract::Request,
    next: axum::middleware::Next,
    max_request: usize,
    max_upload: usize,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_request as u64) {
        return AppError::TooLarge(upload::too_large_message(max_upload as u64)).into_response();
    }
    next.run(req).await
}

/// One part of a multipart form: a file (with `filename`) or a text field (`filename` empty).
#[derive(Debug, Clone)]
pub struct UploadedFile {
    /// The form field name.
    pub field: String,
    /// The client's file name as sent (not yet sanitised); empty for text fields.
    pub filename: String,
    pub bytes: Vec<u8>,
}

impl UploadedFile {
    pub fn is_file(&self) -> bool {
        !self.filename.is_empty()
    }
}

/// The text of a non-file field, trimmed.
pub fn text_field(parts: &[UploadedFile], name: &str) -> Option<String> {
    parts
        .iter()
        .find(|p| p.field == name && !p.is_file())
        .map(|p| String::from_utf8_lossy(&p.bytes).trim().to_string())
}

/// The file parts (in form order). Empty file inputs (no name, no bytes) are skipped.
pub fn files(parts: &[UploadedFile]) -> impl Iterator<Item = &UploadedFile> {
    parts.iter().filter(|p| p.is_file())
}

fn multipart_error(e: MultipartError, max_bytes: usize) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge(upload::too_large_message(max_bytes as u64))
    } else {
        AppError::BadRequest("上传内容格式不正确，请重新选择文件上传".into())
    }
}

/// Read every part of a multipart body, counting bytes as they arrive: past `max_bytes` in
/// total it stops reading and returns 413 "文件超过 N MB 上限" (nothing has been stored).
pub async fn read_upload(
    mut mp: Multipart,
    max_bytes: usize,
) -> Result<Vec<UploadedFile>, AppError> {
    let mut counter = SizeCounter::new(max_bytes as u64);
    let mut parts = Vec::new();
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| multipart_error(e, max_bytes))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| multipart_error(e, max_bytes))?
        {
            counter
                .add(chunk.len())
                .map_err(|e| AppError::TooLarge(e.message))?;
            bytes.extend_from_slice(&chunk);
        }
        // An empty file input arrives with no name and no bytes: it reads as an empty text field.
        parts.push(UploadedFile {
            field: name,
            filename,
            bytes,
        });
    }
    Ok(parts)
}

/// Check one uploaded file (size, name, content type from magic bytes, extension agreement):
/// a 422 naming the field `file` with a Chinese message, or 413 when too large.
pub fn check_file(f: &UploadedFile, max_bytes: usize) -> Result<CheckedUpload, AppError> {
    upload::check_size(f.bytes.len() as u64, max_bytes as u64)
        .map_err(|e| AppError::TooLarge(e.message))?;
    Ok(upload::check_upload(
        &f.filename,
        &f.bytes,
        max_bytes as u64,
    )?)
}

/// RFC 5987 encoding for `filename*=UTF-8''…`.
fn rfc5987(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `attachment; filename="ascii fallback"; filename*=UTF-8''<encoded>`.
pub fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        rfc5987(filename)
    )
}

/// The response of a download: the stored type, `Content-Disposition: attachment` with the
/// UTF-8 name, `nosniff`, and no caching by shared proxies.
pub fn download_response(doc: &Document, bytes: Vec<u8>) -> Response {
    send_bytes(&doc.filename, &doc.content_type, bytes)
}

/// Send any generated file (templates, reports) as an attachment.
pub fn send_bytes(filename: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition(filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_encodes_chinese() {
        let v = content_disposition("营业执照 副本.pdf");
        assert!(v.starts_with("attachment; filename=\""));
        assert!(v.contains("filename*=UTF-8''%E8%90%A5"));
        assert!(v.ends_with(".pdf"));
        assert!(HeaderValue::from_str(&v).is_ok());
        let q = content_disposition("a\"b.pdf");
        assert!(q.contains("filename=\"a_b.pdf\""));
    }
}
