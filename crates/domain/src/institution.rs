//! Evaluation institutions (评价机构).

use serde::{Deserialize, Serialize};

/// The kind of an institution decides which filing flow it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InstitutionKind {
    /// 社会培训评价组织 — 一(一).
    SocialOrg,
    /// 企业 (用人单位) — 一(二).
    Enterprise,
    /// 行业协会 — 一(一) last paragraph: handled by the city directly.
    Association,
    /// 学会 — treated like an industry association.
    Society,
}

impl InstitutionKind {
    pub const ALL: [InstitutionKind; 4] = [
        InstitutionKind::SocialOrg,
        InstitutionKind::Enterprise,
        InstitutionKind::Association,
        InstitutionKind::Society,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InstitutionKind::SocialOrg => "social_org",
            InstitutionKind::Enterprise => "enterprise",
            InstitutionKind::Association => "association",
            InstitutionKind::Society => "society",
        }
    }

    pub fn parse(s: &str) -> Option<InstitutionKind> {
        InstitutionKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            InstitutionKind::SocialOrg => "社会培训评价组织",
            InstitutionKind::Enterprise => "企业",
            InstitutionKind::Association => "行业协会",
            InstitutionKind::Society => "学会",
        }
    }

    /// Associations and societies skip the district stage (一(一)).
    pub fn city_handles_directly(self) -> bool {
        matches!(
            self,
            InstitutionKind::Association | InstitutionKind::Society
        )
    }
}

/// Filing state of an institution as a whole (备案状态).
pub fn filing_status_label(s: &str) -> &'static str {
    match s {
        "unfiled" => "未备案",
        "filing" => "备案办理中",
        "filed" => "已备案",
        "revoked" => "已撤销",
        _ => "未知",
    }
}

crate::code_enum! {
    /// 机构备案状态: where an institution stands with its filing.
    pub enum FilingStatus("机构备案状态") {
        /// 未备案.
        Unfiled = "unfiled", "未备案";
        /// 备案办理中: an application is past the district's acceptance.
        Filing = "filing", "备案办理中";
        /// 已备案.
        Filed = "filed", "已备案";
        /// 已撤销.
        Revoked = "revoked", "已撤销";
    }
}
crate::impl_code!(InstitutionKind, "机构类型");
crate::code_enum! {
    /// 管辖依据 (二(一)): whether an institution is managed where it is registered or, after the
    /// city agreed to the move, where its premises are.
    pub enum DistrictBasis("管辖依据") {
        /// 注册地.
        Registered = "registered", "注册地";
        /// 经营地.
        Business = "business", "经营地";
    }
}
crate::code_enum! {
    /// 机构账号注册状态 (二(二)): the district confirms a registration before the account works.
    pub enum RegistrationStatus("机构注册状态") {
        /// 待区县确认.
        Pending = "pending", "待区县确认";
        /// 已确认，可登录.
        Confirmed = "confirmed", "已确认，可登录";
        /// 区县未确认.
        Refused = "refused", "区县未确认";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_associations_skip_district() {
        for k in InstitutionKind::ALL {
            assert_eq!(InstitutionKind::parse(k.as_str()), Some(k));
        }
        assert!(InstitutionKind::Association.city_handles_directly());
        assert!(!InstitutionKind::Enterprise.city_handles_directly());
    }
}
