//! 证书 (二(三) "评价完成后，市职业技能鉴定中心负责证书数据的生成和公示查询的上网环节"): issuing in
//! batches (`issue`), the certificate pages and PDFs (`pages`), the public and offline
//! verification (`public`), revocation and correction with two keys (`revoke`) and the export
//! to the province (`export`). One service function per use case, called by pages and API.

pub mod export;
pub mod issue;
pub mod pages;
pub mod pdf;
pub mod public;
pub mod revoke;

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::Router;
use certsign::{CertificatePayload, KeyRing, SigningKey};
use domain::certno::{CertificateType, EvaluatorKind, NumberRequest, Numbering};
use domain::occupation::Level;
use store::{IssueDraft, Signed};

use crate::api::ApiRouter;
use crate::error::AppError;
use crate::{AppState, WebConfig};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(issue::router())
        .merge(pages::router())
        .merge(public::router())
        .merge(revoke::router())
        .merge(export::router())
}

/// The certificate routes of the API with their documentation (see `api::v1`).
pub fn api_routes() -> ApiRouter {
    ApiRouter::new()
        .merge(issue::api_routes())
        .merge(pages::api_routes())
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

/// Seed of the demo key: public on purpose, so the demo key is the same on every demo server and
/// in tests — and worthless for real certificates.
const DEMO_KEY_SEED: &[u8] = b"skilleval demo certificate signing key - NOT FOR PRODUCTION";

impl CertKeys {
    /// The demo key, valid from 2000-01-01 without end.
    pub fn demo() -> CertKeys {
        use rand_chacha::rand_core::SeedableRng;
        use sha2::Digest;
        let seed: [u8; 32] = sha2::Sha256::digest(DEMO_KEY_SEED).into();
        let mut rng = rand_chacha::ChaCha20Rng::from_seed(seed);
        let key = SigningKey::generate(&mut rng);
        CertKeys::from_parts(Some(Arc::new(key)), None, true)
    }

    /// From a signing key and a key ring; without a ring, the signing key's public key alone
    /// (valid from 2000-01-01).
    pub fn from_parts(signing: Option<Arc<SigningKey>>, ring: Option<KeyRing>, demo: bool) -> CertKeys {
        let ring = ring.unwrap_or_else(|| {
            let mut r = KeyRing::default();
            if let Some(k) = &signing {
                let mut p = k.public();
                p.valid_from = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("date");
                r.push(p);
            }
            r
        });
        CertKeys { signing, ring, demo }
    }

    pub fn from_config(c: &WebConfig) -> CertKeys {
        match (&c.cert_signing_key, c.demo) {
            (None, true) => CertKeys::demo(),
            (k, _) => CertKeys::from_parts(k.clone(), c.cert_public_keys.as_deref().cloned(), false),
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

/// The signing time of a certificate: 00:00 Beijing time of its date of issue. Derived from the
/// date, never read from the clock, so a resumed batch signs the very same bytes.
pub fn signed_at_of(issued_on: &str) -> Result<i64, String> {
    let d = chrono::NaiveDate::parse_from_str(issued_on, "%Y-%m-%d")
        .map_err(|_| format!("发证日期无效：{issued_on}"))?;
    let midnight = d.and_hms_opt(0, 0, 0).expect("midnight");
    Ok(midnight.and_utc().timestamp() - certsign::CST_OFFSET_SECONDS)
}

/// The certificate type of an occupation kind (`special` = 专项职业能力).
pub fn cert_type(occupation_kind: &str) -> CertificateType {
    if occupation_kind == "special" {
        CertificateType::SpecialAbility
    } else {
        CertificateType::SkillLevel
    }
}

/// Compose a number with the policy's numbering scheme.
pub fn compose(numbering: &Numbering, d: &IssueDraft, serial: i64) -> Result<String, String> {
    let kind = if d.institution_kind == "enterprise" {
        EvaluatorKind::Employer
    } else {
        EvaluatorKind::SocialOrg
    };
    let year: i32 = d
        .issued_on
        .get(..4)
        .and_then(|y| y.parse().ok())
        .ok_or_else(|| format!("发证日期无效：{}", d.issued_on))?;
    let serial = u32::try_from(serial).map_err(|_| "证书序号超出范围".to_string())?;
    numbering
        .compose(
            cert_type(&d.occupation_kind),
            &NumberRequest {
                kind,
                site_code: &d.site_code,
                year,
                level: Level::from_u8(d.level as u8),
                serial,
            },
        )
        .map_err(|e| e.to_string())
}

/// What is signed: masked personal data only, never the ID number or its hash.
pub fn payload_of(d: &IssueDraft, number: &str, status_index: i64) -> Result<CertificatePayload, String> {
    Ok(CertificatePayload {
        number: number.to_string(),
        name: d.holder_name.clone(),
        id_type: d.id_type.clone(),
        id_masked: d.id_masked.clone(),
        occupation_code: d.occupation_code.clone(),
        occupation_name: d.occupation_name.clone(),
        work_type: Some(d.work_type.clone()).filter(|w| !w.is_empty() && w != "--"),
        level: u8::try_from(d.level).map_err(|_| "等级无效".to_string())?,
        issued_on: chrono::NaiveDate::parse_from_str(&d.issued_on, "%Y-%m-%d")
            .map_err(|_| format!("发证日期无效：{}", d.issued_on))?,
        institution: d.institution_name.clone(),
        status_index: u32::try_from(status_index).map_err(|_| "状态列表序号超出范围".to_string())?,
        signed_at: signed_at_of(&d.issued_on)?,
    })
}

/// Sign a draft with `key`.
pub fn sign(key: &SigningKey, d: &IssueDraft, number: &str, status_index: i64) -> Result<Signed, String> {
    let p = payload_of(d, number, status_index)?;
    Ok(Signed {
        cose: key.sign(&p),
        key_id: hex::encode(key.kid()),
        signed_at: p.signed_at,
    })
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
