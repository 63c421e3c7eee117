//! 签名密钥与公钥环. Private keys live in PKCS#8 PEM files (configuration, not the database);
//! public keys are published as a JSON key set (a JWK Set with validity dates):
//!
//! ```json
//! {"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","use":"sig",
//!           "kid":"<16 hex digits>","x":"<base64url public key>",
//!           "valid_from":"2026-01-01","valid_until":null}]}
//! ```
//! `kid` is the first 8 bytes of SHA-256 of the 32-byte public key; `valid_until` is `null`
//! while the key is in use. Dates are inclusive calendar dates in China Standard Time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chrono::NaiveDate;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cose::CoseSign1;
use crate::{date_of_unix, CertificatePayload, VerifyError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("私钥文件格式错误（应为 PKCS#8 PEM 格式的 Ed25519 私钥）：{0}")]
    Pem(String),
    #[error("公钥文件格式错误：{0}")]
    Json(String),
}

/// First 8 bytes of SHA-256 of the raw public key (密钥标识).
pub fn kid_of(key: &VerifyingKey) -> [u8; 8] {
    let h = Sha256::digest(key.as_bytes());
    h[..8].try_into().expect("8 bytes")
}

/// 签名私钥: an Ed25519 private key and its key id. `Debug` shows only the key id.
#[derive(Clone)]
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    kid: [u8; 8],
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &hex::encode(self.kid))
            .field("secret", &"<hidden>")
            .finish()
    }
}

impl SigningKey {
    fn new(key: ed25519_dalek::SigningKey) -> Self {
        let kid = kid_of(&key.verifying_key());
        SigningKey { key, kid }
    }

    /// Reads a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----") Ed25519 key, as written by
    /// [`SigningKey::to_pkcs8_pem`] or `openssl genpkey -algorithm ed25519`.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem.trim())
            .map(Self::new)
            .map_err(|e| KeyError::Pem(e.to_string()))
    }

    /// A fresh key from a cryptographic random number generator (e.g. `rand::rngs::OsRng`).
    pub fn generate<R: rand_core::CryptoRng + rand_core::RngCore>(rng: &mut R) -> Self {
        Self::new(ed25519_dalek::SigningKey::generate(rng))
    }

    /// The key as PKCS#8 PEM (LF line endings).
    pub fn to_pkcs8_pem(&self) -> String {
        self.key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .expect("an Ed25519 key always encodes")
            .to_string()
    }

    pub fn kid(&self) -> [u8; 8] {
        self.kid
    }

    /// The public key, valid from 1970-01-01 without end; set `valid_from`/`valid_until`
    /// before publishing it.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            kid: self.kid,
            key: self.key.verifying_key(),
            valid_from: NaiveDate::from_ymd_opt(1970, 1, 1).expect("date"),
            valid_until: None,
        }
    }

    /// Signs a certificate: the COSE_Sign1 bytes. Pure: `p.signed_at` is the signing time.
    pub fn sign(&self, p: &CertificatePayload) -> Vec<u8> {
        crate::cose::sign_payload(self, p)
    }

    /// Raw Ed25519 signature of `msg` (used for COSE and for the status list proof).
    pub fn sign_bytes(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }
}

/// 公钥 with its validity (inclusive dates): a certificate signed on a date outside it does
/// not verify with this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub kid: [u8; 8],
    pub key: VerifyingKey,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

impl PublicKey {
    /// Whether the key was valid on `date`.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && self.valid_until.is_none_or(|u| date <= u)
    }

    /// Checks a raw signature (strict Ed25519: no malleable signatures, no weak keys).
    pub fn verify_bytes(&self, msg: &[u8], signature: &[u8; 64]) -> bool {
        self.key
            .verify_strict(msg, &ed25519_dalek::Signature::from_bytes(signature))
            .is_ok()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Jwk {
    kty: String,
    crv: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alg: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    use_: Option<String>,
    kid: String,
    x: String,
    valid_from: NaiveDate,
    valid_until: Option<NaiveDate>,
}

/// 公钥环: every published public key, current and retired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRing {
    keys: Vec<PublicKey>,
}

impl KeyRing {
    pub fn new(keys: Vec<PublicKey>) -> Self {
        KeyRing { keys }
    }

    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    pub fn push(&mut self, key: PublicKey) {
        self.keys.push(key);
    }

    /// Reads the published key file (format in the module docs). The key id must match the key.
    pub fn from_json(json: &str) -> Result<Self, KeyError> {
        let set: JwkSet = serde_json::from_str(json).map_err(|e| KeyError::Json(e.to_string()))?;
        let mut keys = vec![];
        for (i, k) in set.keys.into_iter().enumerate() {
            let n = i + 1;
            if k.kty != "OKP" || k.crv != "Ed25519" {
                return Err(KeyError::Json(format!("第{n}个密钥不是 Ed25519 公钥")));
            }
            let raw: [u8; 32] = B64
                .decode(k.x.trim_end_matches('='))
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| KeyError::Json(format!("第{n}个密钥的 x 不是32字节的 base64url")))?;
            let key = VerifyingKey::from_bytes(&raw)
                .map_err(|_| KeyError::Json(format!("第{n}个密钥不是有效的 Ed25519 公钥")))?;
            let kid = kid_of(&key);
            if !k.kid.eq_ignore_ascii_case(&hex::encode(kid)) {
                return Err(KeyError::Json(format!(
                    "第{n}个密钥的标识 {} 与公钥不符（应为 {}）",
                    k.kid,
                    hex::encode(kid)
                )));
            }
            if k.valid_until.is_some_and(|u| u < k.valid_from) {
                return Err(KeyError::Json(format!(
                    "第{n}个密钥的有效期截止日早于起始日"
                )));
            }
            keys.push(PublicKey {
                kid,
                key,
                valid_from: k.valid_from,
                valid_until: k.valid_until,
            });
        }
        Ok(KeyRing { keys })
    }

    /// The published key file (pretty JSON, keys in ring order).
    pub fn to_json(&self) -> String {
        let set = JwkSet {
            keys: self
                .keys
                .iter()
                .map(|k| Jwk {
                    kty: "OKP".into(),
                    crv: "Ed25519".into(),
                    alg: Some("EdDSA".into()),
                    use_: Some("sig".into()),
                    kid: hex::encode(k.kid),
                    x: B64.encode(k.key.as_bytes()),
                    valid_from: k.valid_from,
                    valid_until: k.valid_until,
                })
                .collect(),
        };
        serde_json::to_string_pretty(&set).expect("JSON") + "\n"
    }

    /// Keys with this id (normally one; a re-published key may appear with a new validity).
    pub fn find(&self, kid: &[u8; 8]) -> impl Iterator<Item = &PublicKey> + '_ {
        let kid = *kid;
        self.keys.iter().filter(move |k| k.kid == kid)
    }

    /// Verifies COSE_Sign1 bytes: known key, intact signature, key valid at the signing time.
    pub fn verify(&self, cose: &[u8]) -> Result<CertificatePayload, VerifyError> {
        let c = CoseSign1::parse(cose)?;
        let msg = c.signed_bytes();
        let mut any = false;
        let mut signed_by = None;
        for k in self.find(&c.kid) {
            any = true;
            if k.verify_bytes(&msg, &c.signature) {
                signed_by = Some(k);
                break;
            }
        }
        if !any {
            return Err(VerifyError::UnknownKey(hex::encode(c.kid)));
        }
        if signed_by.is_none() {
            return Err(VerifyError::Tampered);
        }
        let payload = CertificatePayload::from_cbor(&c.payload)?;
        let date = date_of_unix(payload.signed_at)
            .ok_or_else(|| VerifyError::Malformed("签名时间无效".into()))?;
        if !self.find(&c.kid).any(|k| k.covers(date)) {
            return Err(VerifyError::OutsideValidity {
                kid: hex::encode(c.kid),
                signed_on: date.to_string(),
            });
        }
        Ok(payload)
    }

    /// Verifies a scanned QR text: the signature, and that the number in the URL is the signed one.
    pub fn verify_qr(&self, text: &str) -> Result<CertificatePayload, VerifyError> {
        let (number, cose) = crate::parse_qr_text(text)?;
        let p = self.verify(&cose)?;
        if p.number != number {
            return Err(VerifyError::NumberMismatch {
                url: number,
                signed: p.number,
            });
        }
        Ok(p)
    }
}
