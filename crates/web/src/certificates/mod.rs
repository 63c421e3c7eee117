//! 证书 (二(三) "评价完成后，市职业技能鉴定中心负责证书数据的生成和公示查询的上网环节"): issuing in
//! batches (`issue`), the certificate pages and PDFs (`pages`), the public and offline
//! verification (`public`), revocation and correction with two keys (`revoke`) and the export
//! to the province (`export`). One service function per use case, called by pages and API.

pub mod export;
pub mod issue;
pub mod pages;
pub mod pdf;
pub mod photos;
pub mod public;
pub mod revoke;

use std::sync::Arc;

use axum::http::HeaderMap;
use certsign::{KeyRing, SigningKey};
use domain::occupation::Level;
use store::{IssueDraft, Signed};

use crate::api::ApiRouter;
use crate::error::AppError;
use crate::routing::Routes;
use crate::{AppState, WebConfig};

pub fn router() -> Routes {
    Routes::new()
        .merge(issue::router())
        .merge(pages::router())
        .merge(photos::router())
        .merge(public::router())
        .merge(revoke::router())
        .merge(export::router())
}

/// The certificate routes of the API with their documentation (see `api::v1`).
pub fn api_routes() -> ApiRouter {
    ApiRouter::new()
        .merge(issue::api_routes())
        .merge(pages::api_routes())
        .merge(photos::api_routes())
        .merge(public::api_routes())
        .merge(revoke::api_routes())
        .merge(export::api_routes())
}

/// The signing key and the published public keys. Keys come from configuration files, never
/// from the database.
#[derive(Debug)]
pub struct CertKeys {
    pub signing: Option<Arc<SigningKey>>,
    pub ring: KeyRing,
    /// The demo key (derived from a public seed): certificates signed with it prove nothing.
    pub demo: bool,
}

impl CertKeys {
    /// The demo key (derived from a public seed), valid from 2000-01-01 without end.
    pub fn demo() -> CertKeys {
        CertKeys::from_parts(
            Some(Arc::new(store::cert_sign::demo_signing_key())),
            None,
            true,
        )
    }

    /// From a signing key and a key ring; without a ring, the signing key's public key alone
    /// (valid from 2000-01-01).
    pub fn from_parts(
        signing: Option<Arc<SigningKey>>,
        ring: Option<KeyRing>,
        demo: bool,
    ) -> CertKeys {
        let ring = ring.unwrap_or_else(|| {
            let mut r = KeyRing::default();
            if let Some(k) = &signing {
                let mut p = k.public();
                p.valid_from = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("date");
                r.push(p);
            }
            r
        });
        CertKeys {
            signing,
            ring,
            demo,
        }
    }

    pub fn from_config(c: &WebConfig) -> CertKeys {
        match (&c.cert_signing_key, c.demo) {
            (None, true) => CertKeys::demo(),
            (k, _) => {
                CertKeys::from_parts(k.clone(), c.cert_public_keys.as_deref().cloned(), false)
            }
        }
    }

    /// The key to sign with, or a Chinese refusal.
    pub fn signer(&self) -> Result<Arc<SigningKey>, AppError> {
        self.signing.clone().ok_or_else(|| {
            AppError::Conflict(
                "平台尚未配置证书签名密钥（设置项 cert_signing_key），不能生成证书数据，请联系系统管理员".into(),
            )
        })
    }
}

pub use store::cert_sign::{cert_type, payload_of, signed_at_of};

/// Compose a number with the policy's numbering scheme.
pub fn compose(
    numbering: &domain::certno::Numbering,
    d: &IssueDraft,
    serial: i64,
) -> Result<String, String> {
    store::cert_sign::compose_number(numbering, d, serial)
}

/// Sign a draft with `key`.
pub fn sign(
    key: &SigningKey,
    d: &IssueDraft,
    number: &str,
    status_index: i64,
) -> Result<Signed, String> {
    store::cert_sign::sign_draft(key, d, number, status_index)
}

/// The platform's public address for QR codes: the configured `public_url`, else the address
/// this request came to.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// 等级 as printed: "四级/中级工".
pub fn level_name(level: i64) -> String {
    Level::from_u8(level as u8)
        .map(|l| l.name().to_string())
        .unwrap_or_default()
}
