//! The certificate PDF, drawn by `certpdf` (embedded subset font, photo, vector QR code), with
//! the content of the 人社部 template (人社鉴发〔2021〕1号). The holder's copy carries the full ID
//! number, as the paper certificate does; reading it is audited by the caller.

use store::Certificate;

use crate::error::AppError;

/// Render one certificate. A character missing from every configured font is a 409 naming it
/// (never a box); a photo that cannot be used is a 409 too (the data must be fixed first).
pub fn render(
    c: &Certificate,
    id_number: &str,
    photo: &[u8],
    qr_text: &str,
    base_url: &str,
) -> Result<Vec<u8>, AppError> {
    let photo = certpdf::Photo::from_bytes(photo)
        .map_err(|e| AppError::Conflict(format!("证书 {} 的照片无法使用：{e}", c.cert_no)))?;
    let issued_on = chrono::NaiveDate::parse_from_str(&c.issued_on, "%Y-%m-%d")
        .map_err(|_| AppError::Internal(format!("bad issued_on {}", c.issued_on)))?;
    let title = if c.cert_no.starts_with('Z') {
        "专项职业能力证书"
    } else {
        "职业技能等级证书"
    };
    let mut query_sites: Vec<String> = certpdf::NATIONAL_QUERY_SITES
        .iter()
        .map(|s| s.to_string())
        .collect();
    query_sites.push(format!(
        "郑州市技能人才评价证书查询：{base_url}/public/certificates"
    ));
    let doc = certpdf::Certificate {
        title: title.into(),
        body: certpdf::DEFAULT_BODY.into(),
        name: c.holder_name.clone(),
        id_type: c.id_type.clone(),
        id_number: id_number.to_string(),
        occupation_name: c.occupation_name.clone(),
        work_type: Some(c.work_type.clone()).filter(|w| !w.is_empty() && w != "--"),
        level: super::level_name(c.level),
        number: c.cert_no.clone(),
        institution: c.institution_name.clone(),
        issued_on,
        photo,
        qr_text: qr_text.to_string(),
        query_sites,
    };
    certpdf::render_certificate(&doc, certpdf::fonts()).map_err(|e| match e {
        certpdf::PdfError::MissingGlyph { .. } | certpdf::PdfError::Image(_) => {
            AppError::Conflict(e.to_string())
        }
        other => AppError::Internal(other.to_string()),
    })
}
