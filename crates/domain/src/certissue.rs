//! Issuing certificates (证书数据的生成, 二(三)): who may get one, what blocks a candidate, the
//! evaluation-site code (评价站点代码) and the one-inch photo (一寸照片). Pure rules; the numbering
//! scheme itself is `certno`.

use crate::account::FieldError;
use crate::policy::Refusal;
use crate::upload::{check_upload, FileKind};

/// The clause of the national certificate number (positions 8–13: the site code).
pub const NUMBER_CLAUSE: &str =
    "国家规定（人社鉴发〔2019〕2号，证书编号第8–13位为省级分配的评价站点代码）";
/// The clause of "one person, one certificate per occupation and level" (一人多证).
pub const ONE_PER_PERSON_CLAUSE: &str =
    "国家规定（人社鉴发〔2019〕2号，同一人同一职业同一等级只发一证）";
/// The clause of certificate content (photo, QR code…).
pub const CONTENT_CLAUSE: &str = "国家规定（人社鉴发〔2021〕1号，证书须有一寸照片）";
/// 二(三): the city center generates certificate data after the evaluation.
pub const ISSUE_CLAUSE: &str = "二(三)";

/// Refusal rule keys.
pub const RULE_SITE_CODE: &str = "cert_site_code";
pub const RULE_RESULTS: &str = "cert_results_submitted";

/// A 评价站点代码: six digits, assigned by the province, entered by the city.
pub fn parse_site_code(input: &str) -> Result<String, FieldError> {
    let s = input.trim();
    if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(FieldError::new(
            "site_code",
            "评价站点代码应为省级分配的 6 位数字",
        ))
    }
}

/// Without a site code no number can be composed: issuing is refused, naming the clause.
pub fn require_site_code(site_code: Option<&str>, institution: &str) -> Result<String, Refusal> {
    match site_code.filter(|s| !s.is_empty()) {
        Some(s) => Ok(s.to_string()),
        None => Err(Refusal {
            rule: RULE_SITE_CODE,
            clause: NUMBER_CLAUSE.into(),
            message: format!(
                "{institution}尚未登记评价站点代码（由市级录入省级分配的 6 位代码），不能生成证书编号"
            ),
        }),
    }
}

/// Certificates are generated only from results submitted to the city after their 公示.
pub fn require_results_submitted(
    results_status: crate::plan::ResultsStatus,
) -> Result<(), Refusal> {
    if results_status == crate::plan::ResultsStatus::Submitted {
        Ok(())
    } else {
        Err(Refusal {
            rule: RULE_RESULTS,
            clause: ISSUE_CLAUSE.into(),
            message: "评价结果须经公示并由机构上报后，方可生成证书数据（评价完成后，由市职业技能鉴定中心负责证书数据的生成）".into(),
        })
    }
}

/// Revocation (撤销) and correction (更正) take both city keys: 市职业技能鉴定中心 and 市人社局职建处.
pub const TWO_KEYS_CLAUSE: &str =
    "平台规则（证书撤销、更正须市职业技能鉴定中心与市人社局职建处两方确认，二(三)）";
pub const RULE_TWO_KEYS: &str = "cert_two_keys";

/// Who may give a key of a revocation or correction.
pub fn is_city_key(role: crate::Role) -> bool {
    matches!(role, crate::Role::CityCenter | crate::Role::CityDivision)
}

/// The second key must come from the other city role.
pub fn second_key(proposed_role: &str, actor: crate::Role) -> Result<(), Refusal> {
    if proposed_role == actor.as_str() {
        Err(Refusal {
            rule: RULE_TWO_KEYS,
            clause: TWO_KEYS_CLAUSE.into(),
            message: format!("{}已提出本申请，须由另一市级部门确认", actor.label()),
        })
    } else {
        Ok(())
    }
}

/// Why a passed candidate does not get a certificate in this batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// Already has a certificate from this plan.
    AlreadyIssued { cert_no: String },
    /// 一人多证: holds a valid certificate of the same occupation and level (unless reissued).
    HoldsSame { cert_no: String },
    /// No photo uploaded.
    NoPhoto,
    /// The photo is not a usable one-inch photo.
    BadPhoto(String),
}

impl Blocker {
    pub fn reason(&self) -> String {
        match self {
            Blocker::AlreadyIssued { cert_no } => format!("已发证（{cert_no}）"),
            Blocker::HoldsSame { cert_no } => format!(
                "已持有同职业同等级有效证书 {cert_no}，不再重复发证（补发须勾选“补发”）（依据：{ONE_PER_PERSON_CLAUSE}）"
            ),
            Blocker::NoPhoto => format!("未上传一寸照片（依据：{CONTENT_CLAUSE}）"),
            Blocker::BadPhoto(why) => format!("照片不可用：{why}（依据：{CONTENT_CLAUSE}）"),
        }
    }

    /// Whether it still blocks when the center issues a reissue (补发) batch.
    pub fn blocks(&self, reissue: bool) -> bool {
        !matches!(self, Blocker::HoldsSame { .. } if reissue)
    }
}

/// The limits of a one-inch photo (一寸照片, 25 mm × 35 mm): width:height 5:7 within a tolerance.
pub const PHOTO_MAX_BYTES: u64 = 2 * 1024 * 1024;
pub const PHOTO_MIN_WIDTH: u32 = 150;
/// Accepted width/height ratios (5:7 = 0.714 ± about 7 %).
pub const PHOTO_RATIO: (f64, f64) = (0.66, 0.77);

/// Pixel size of a PNG or JPEG image, read from its header.
pub fn image_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.get(12..16) == Some(b"IHDR") {
        let w = u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?);
        let h = u32::from_be_bytes(bytes.get(20..24)?.try_into().ok()?);
        return Some((w, h));
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut i = 2;
        while i + 4 <= bytes.len() {
            if bytes[i] != 0xFF {
                i += 1;
                continue;
            }
            let marker = bytes[i + 1];
            if marker == 0xFF {
                i += 1;
                continue;
            }
            if marker == 0xD8 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
                i += 2;
                continue;
            }
            let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
            let is_sof = (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
            if is_sof {
                let h = u16::from_be_bytes([*bytes.get(i + 5)?, *bytes.get(i + 6)?]) as u32;
                let w = u16::from_be_bytes([*bytes.get(i + 7)?, *bytes.get(i + 8)?]) as u32;
                return Some((w, h));
            }
            i += 2 + len;
        }
    }
    None
}

/// A photo for the certificate: JPEG or PNG, at most 2 MB, one-inch proportions (5:7), at least
/// 150 px wide. Returns the kind and the pixel size.
pub fn check_photo(name: &str, bytes: &[u8]) -> Result<(FileKind, u32, u32), FieldError> {
    let checked = check_upload(name, bytes, PHOTO_MAX_BYTES).map_err(|e| FieldError {
        field: "photo",
        message: e.message,
    })?;
    if !matches!(checked.kind, FileKind::Jpeg | FileKind::Png) {
        return Err(FieldError::new("photo", "证书照片须为 JPG 或 PNG 图片"));
    }
    check_photo_proportions(bytes)
        .map(|(w, h)| (checked.kind, w, h))
        .map_err(|m| FieldError::new("photo", m))
}

/// The proportion and size part of [`check_photo`] (also applied to photos already stored).
pub fn check_photo_proportions(bytes: &[u8]) -> Result<(u32, u32), String> {
    let (w, h) = image_size(bytes).ok_or_else(|| "无法读取图片尺寸".to_string())?;
    if w < PHOTO_MIN_WIDTH {
        return Err(format!(
            "照片宽 {w} 像素，过小（至少 {PHOTO_MIN_WIDTH} 像素）"
        ));
    }
    let ratio = w as f64 / h.max(1) as f64;
    if ratio < PHOTO_RATIO.0 || ratio > PHOTO_RATIO.1 {
        return Err(format!(
            "照片 {w}×{h} 像素，不是一寸照片的宽高比（25mm×35mm，约 5:7）"
        ));
    }
    Ok((w, h))
}

crate::code_enum! {
    /// 证书状态.
    pub enum CertState("证书状态") {
        /// 有效.
        Valid = "valid", "有效";
        /// 已撤销 (with its reason).
        Revoked = "revoked", "已撤销";
        /// 已更正: superseded by a linked reissue.
        Corrected = "corrected", "已更正";
    }
}
crate::code_enum! {
    /// 证书变更类型.
    pub enum ChangeKind("证书变更类型") {
        /// 撤销.
        Revoke = "revoke", "撤销";
        /// 更正.
        Correct = "correct", "更正";
    }
}
crate::code_enum! {
    /// 证书变更状态: a change that needs the second key.
    pub enum ChangeStatus("证书变更状态") {
        /// 待确认.
        Proposed = "proposed", "待确认";
        /// 已办结.
        Applied = "applied", "已办结";
        /// 已撤回.
        Withdrawn = "withdrawn", "已撤回";
    }
}
crate::code_enum! {
    /// 签发批次状态.
    pub enum BatchStatus("签发批次状态") {
        /// 签发中.
        Running = "running", "签发中";
        /// 已完成.
        Done = "done", "已完成";
        /// 已放弃.
        Failed = "failed", "已放弃";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0];
        b.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8]);
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[1, 1, 0x11, 0]);
        b.extend_from_slice(&[0xFF, 0xD9]);
        b
    }

    #[test]
    fn site_code_is_six_digits() {
        assert_eq!(parse_site_code(" 000123 ").unwrap(), "000123");
        assert!(parse_site_code("12345").is_err());
        assert!(parse_site_code("12345a").is_err());
    }

    #[test]
    fn no_site_code_refused_naming_the_clause() {
        let r = require_site_code(None, "某机构").unwrap_err();
        assert_eq!(r.rule, RULE_SITE_CODE);
        assert!(r.to_string().contains("人社鉴发〔2019〕2号"));
        assert_eq!(require_site_code(Some("410001"), "x").unwrap(), "410001");
    }

    #[test]
    fn results_must_be_submitted() {
        assert!(require_results_submitted(crate::plan::ResultsStatus::Publicised).is_err());
        assert!(require_results_submitted(crate::plan::ResultsStatus::Submitted).is_ok());
    }

    #[test]
    fn image_sizes_are_read() {
        assert_eq!(image_size(&png(295, 413)), Some((295, 413)));
        assert_eq!(image_size(&jpeg(300, 420)), Some((300, 420)));
        assert_eq!(image_size(b"%PDF"), None);
    }

    #[test]
    fn one_inch_photo_proportions() {
        assert!(check_photo("a.png", &png(295, 413)).is_ok());
        assert!(check_photo("a.jpg", &jpeg(300, 420)).is_ok());
        let square = check_photo("a.png", &png(400, 400)).unwrap_err();
        assert!(square.message.contains("宽高比"), "{}", square.message);
        assert!(check_photo("a.png", &png(100, 140))
            .unwrap_err()
            .message
            .contains("过小"));
        assert!(check_photo("a.pdf", b"%PDF-1.4 x").is_err());
    }

    #[test]
    fn two_keys_need_the_other_city_role() {
        use crate::Role;
        let r = second_key("city_center", Role::CityCenter).unwrap_err();
        assert_eq!(r.rule, RULE_TWO_KEYS);
        assert!(second_key("city_center", Role::CityDivision).is_ok());
        assert!(is_city_key(Role::CityDivision) && !is_city_key(Role::District));
    }

    #[test]
    fn holding_the_same_blocks_unless_reissue() {
        let b = Blocker::HoldsSame {
            cert_no: "S".into(),
        };
        assert!(b.blocks(false));
        assert!(!b.blocks(true));
        assert!(Blocker::NoPhoto.blocks(true));
        assert!(Blocker::NoPhoto.reason().contains("一寸照片"));
    }
}
