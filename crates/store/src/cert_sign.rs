//! Numbering and signing a certificate draft: the number from the policy's numbering scheme, the
//! signed payload (masked personal data only, never the ID number or its hash) and the demo key.
//! Pure functions; the key is the caller's (from configuration, never the database).

use certsign::{CertificatePayload, SigningKey};
use domain::certno::{CertificateType, EvaluatorKind, NumberRequest, Numbering};
use domain::occupation::Level;

use crate::{IssueDraft, Signed};

/// Seed of the demo key: public on purpose, so every demo server and test derives the same key —
/// which makes certificates signed with it worthless outside the demo.
const DEMO_KEY_SEED: &[u8] = b"skilleval demo certificate signing key - NOT FOR PRODUCTION";

/// The demo signing key (`serve --demo`, tests, demo data).
pub fn demo_signing_key() -> SigningKey {
    use rand_chacha::rand_core::SeedableRng;
    use sha2::Digest;
    let seed: [u8; 32] = sha2::Sha256::digest(DEMO_KEY_SEED).into();
    SigningKey::generate(&mut rand_chacha::ChaCha20Rng::from_seed(seed))
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
pub fn compose_number(
    numbering: &Numbering,
    d: &IssueDraft,
    serial: i64,
) -> Result<String, String> {
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

/// What is signed: masked personal data only.
pub fn payload_of(
    d: &IssueDraft,
    number: &str,
    status_index: i64,
) -> Result<CertificatePayload, String> {
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
        status_index: u32::try_from(status_index)
            .map_err(|_| "状态列表序号超出范围".to_string())?,
        signed_at: signed_at_of(&d.issued_on)?,
    })
}

/// Sign a draft with `key`.
pub fn sign_draft(
    key: &SigningKey,
    d: &IssueDraft,
    number: &str,
    status_index: i64,
) -> Result<Signed, String> {
    let p = payload_of(d, number, status_index)?;
    Ok(Signed {
        cose: key.sign(&p),
        key_id: hex::encode(key.kid()),
        signed_at: p.signed_at,
    })
}
