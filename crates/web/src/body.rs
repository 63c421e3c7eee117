//! Body extractors whose rejections are Chinese and name the field: 400 for malformed input,
//! 422 for a wrong or missing field, 413 for an oversized body.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::AppError;

pub struct JsonBody<T>(pub T);
pub struct FormBody<T>(pub T);

async fn read_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::BadRequest("无法读取请求内容".into())
        }
    })
}

/// A NUL character (raw, `%00` in a form, `\u0000` in JSON) is never text a person typed, and PostgreSQL
/// refuses it in a text column: a 400 before anything is parsed (found by fuzz_parsers_short).
pub fn has_nul(bytes: &[u8], form: bool) -> bool {
    bytes.contains(&0)
        || (form && bytes.windows(3).any(|w| w.eq_ignore_ascii_case(b"%00")))
        || (!form
            && bytes
                .windows(6)
                .any(|w| w[0] == b'\\' && w[1] == b'u' && &w[2..] == b"0000"))
}

pub fn nul_refused() -> AppError {
    AppError::BadRequest("请求内容含有空字符（\\0），无法处理".into())
}

/// Translate a serde message into Chinese, keeping the field it names.
fn field_error(path: &str, msg: &str) -> AppError {
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        let full = if path.is_empty() || path == "." {
            field.to_string()
        } else {
            format!("{path}.{field}")
        };
        return AppError::invalid(full.clone(), format!("缺少必填字段 {full}"));
    }
    let what = if msg.contains("expected i64")
        || msg.contains("expected u64")
        || msg.contains("expected i32")
        || msg.contains("expected u32")
        || msg.contains("invalid digit")
        || msg.contains("expected an integer")
    {
        "应为整数"
    } else if msg.contains("expected f64") || msg.contains("invalid float") {
        "应为数字"
    } else if msg.contains("expected a boolean")
        || msg.contains("provided string was not `true` or `false`")
    {
        "应为 true 或 false"
    } else if msg.contains("unknown variant") {
        "取值不在允许的范围内"
    } else if msg.contains("unknown field") {
        "不是可接受的字段"
    } else if msg.contains("expected a string") {
        "应为文本"
    } else {
        "格式不正确"
    };
    let field = if path.is_empty() || path == "." {
        msg.split('`').nth(1).unwrap_or("?").to_string()
    } else {
        path.to_string()
    };
    AppError::invalid(field.clone(), format!("字段 {field} 的值无效：{what}"))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !ct.starts_with("application/json") {
            return Err(AppError::BadRequest(
                "请求体须为 JSON（Content-Type: application/json）".into(),
            ));
        }
        let bytes = read_bytes(req, state).await?;
        if has_nul(&bytes, false) {
            return Err(nul_refused());
        }
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(v) => Ok(JsonBody(v)),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if inner.is_syntax() || inner.is_eof() {
                    Err(AppError::BadRequest(format!(
                        "请求体不是有效的 JSON（第 {} 行第 {} 列附近）",
                        inner.line(),
                        inner.column()
                    )))
                } else {
                    Err(field_error(&path, &inner.to_string()))
                }
            }
        }
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormBody<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let bytes = read_bytes(req, state).await?;
        if has_nul(&bytes, true) {
            return Err(nul_refused());
        }
        serde_urlencoded::from_bytes::<T>(&bytes)
            .map(FormBody)
            .map_err(|e| field_error("", &e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_found_in_forms_and_json() {
        assert!(has_nul(b"note=a%00b", true));
        assert!(has_nul(b"note=a%00b".to_ascii_uppercase().as_slice(), true));
        assert!(!has_nul(b"note=100%2500", true));
        assert!(has_nul(br#"{"note":"a\u0000"}"#, false));
        assert!(!has_nul(br#"{"note":"100%00"}"#, false));
    }

    #[test]
    fn missing_field_is_named() {
        match field_error("", "missing field `username`") {
            AppError::Invalid { field, message } => {
                assert_eq!(field, "username");
                assert!(message.contains("username"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn type_error_is_translated() {
        match field_error("employees", "invalid type: string \"abc\", expected i64") {
            AppError::Invalid { field, message } => {
                assert_eq!(field, "employees");
                assert!(message.contains("应为整数"));
            }
            other => panic!("{other:?}"),
        }
    }
}
