//! 证书签名: the signed data of a 职业技能等级证书 and everything needed to check it offline.
//!
//! - [`CertificatePayload`] is what is signed: a compact CBOR map with small integer keys,
//!   wrapped in a COSE_Sign1 structure (RFC 9052) and signed with Ed25519, the design of the
//!   EU digital COVID certificates. The format is written down in `docs/certificate-format.md`.
//! - [`SigningKey`] holds the private key (from a PKCS#8 PEM file, never from the database);
//!   [`KeyRing`] holds every published public key with its validity, so that certificates
//!   signed before a rotation keep verifying.
//! - [`qr_text`] / [`parse_qr_text`]: the one URL printed as the QR code, carrying the signature.
//! - [`StatusList`]: the revocation list as a W3C Bitstring Status List v1.0 credential.
//!
//! Everything here is pure: signing times are inputs, nothing reads the clock.

mod cose;
mod keys;
mod payload;
mod qr;
mod status;

pub use cose::{sign_payload, CoseSign1};
pub use keys::{KeyError, KeyRing, PublicKey, SigningKey};
pub use payload::{mask_id, CertificatePayload};
pub use qr::{parse_qr_text, qr_text};
pub use status::{StatusList, StatusListCredential};

/// 验证失败的原因. Messages are shown to the public as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The bytes are not a COSE_Sign1 structure of ours (格式错误).
    #[error("证书签名数据格式错误：{0}")]
    Malformed(String),
    /// The QR text is not a verification URL of ours.
    #[error("二维码内容格式错误：{0}")]
    BadQrText(String),
    /// No published key has this key id (未知密钥).
    #[error("签名密钥未知（密钥标识 {0}），无法确认证书由本平台签发")]
    UnknownKey(String),
    /// The signature does not match the content: something was altered (篡改).
    #[error("签名校验失败：证书内容已被篡改或签名无效")]
    Tampered,
    /// The key exists but was not valid when the certificate was signed.
    #[error("签名时间 {signed_on} 不在密钥 {kid} 的有效期内")]
    OutsideValidity { kid: String, signed_on: String },
    /// The number in the URL is not the signed number.
    #[error("二维码中的证书编号 {url} 与签名内容中的编号 {signed} 不一致")]
    NumberMismatch { url: String, signed: String },
}

/// Offset of China Standard Time: a signing time's calendar date (for key validity) is the
/// date in Zhengzhou, not in UTC.
pub const CST_OFFSET_SECONDS: i64 = 8 * 3600;

/// The calendar date (China Standard Time) of a unix time in seconds.
pub fn date_of_unix(seconds: i64) -> Option<chrono::NaiveDate> {
    chrono::DateTime::from_timestamp(seconds.checked_add(CST_OFFSET_SECONDS)?, 0)
        .map(|t| t.date_naive())
}

#[cfg(test)]
mod tests;
