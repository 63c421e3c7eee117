//! Roles (角色) and jurisdiction (属地管理): who may see what.

use serde::{Deserialize, Serialize};

/// A platform role. The string forms are stored in the database and used in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 平台管理员: technical administration, no business decisions.
    Admin,
    /// 市职业技能鉴定中心.
    CityCenter,
    /// 市人社局职建处.
    CityDivision,
    /// 区县(市)/开发区人社部门.
    District,
    /// 评价机构.
    Institution,
    /// 评审专家.
    Expert,
    /// 督导员.
    Supervisor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::CityCenter,
        Role::CityDivision,
        Role::District,
        Role::Institution,
        Role::Expert,
        Role::Supervisor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::CityCenter => "city_center",
            Role::CityDivision => "city_division",
            Role::District => "district",
            Role::Institution => "institution",
            Role::Expert => "expert",
            Role::Supervisor => "supervisor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "平台管理员",
            Role::CityCenter => "市职业技能鉴定中心",
            Role::CityDivision => "市人社局职建处",
            Role::District => "区县(市)人社部门",
            Role::Institution => "评价机构",
            Role::Expert => "评审专家",
            Role::Supervisor => "督导员",
        }
    }

    /// City-level officers see the whole city.
    pub fn is_city_officer(self) -> bool {
        matches!(self, Role::CityCenter | Role::CityDivision)
    }

    /// Which roles an actor of this role may create accounts for.
    /// 二(一): the city center allocates district accounts; the admin creates the others.
    pub fn may_create(self, target: Role) -> bool {
        match self {
            Role::CityCenter => target == Role::District,
            Role::Admin => target != Role::District,
            _ => false,
        }
    }
}

/// What part of the city an actor may see. Derived once from the account, then applied by every
/// query of the store, so that jurisdiction is enforced in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole city (admin, city center, city division).
    City,
    /// One district (属地): its institutions, users and applications.
    District(String),
    /// One institution: its own records only.
    Institution(i64),
    /// Experts and supervisors: only the cases they are assigned to.
    Assigned(i64),
}

impl Scope {
    pub fn for_account(
        role: Role,
        user_id: i64,
        district: Option<&str>,
        institution: Option<i64>,
    ) -> Scope {
        match role {
            Role::Admin | Role::CityCenter | Role::CityDivision => Scope::City,
            Role::District => Scope::District(district.unwrap_or_default().to_string()),
            Role::Institution => Scope::Institution(institution.unwrap_or(-1)),
            Role::Expert | Role::Supervisor => Scope::Assigned(user_id),
        }
    }

    /// May this scope see records that belong to `district` (and, for an institution, to `institution`)?
    pub fn covers(&self, district: Option<&str>, institution: Option<i64>) -> bool {
        match self {
            Scope::City => true,
            Scope::District(d) => district == Some(d.as_str()),
            Scope::Institution(i) => institution == Some(*i),
            Scope::Assigned(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_strings_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn only_center_creates_district_accounts() {
        assert!(Role::CityCenter.may_create(Role::District));
        assert!(!Role::Admin.may_create(Role::District));
        assert!(Role::Admin.may_create(Role::Institution));
        assert!(!Role::District.may_create(Role::Institution));
        assert!(!Role::CityCenter.may_create(Role::Expert));
    }

    #[test]
    fn district_scope_covers_only_its_district() {
        let s = Scope::District("410105".into());
        assert!(s.covers(Some("410105"), Some(1)));
        assert!(!s.covers(Some("410102"), Some(1)));
        assert!(!s.covers(None, None));
        assert!(Scope::Institution(7).covers(Some("410102"), Some(7)));
        assert!(!Scope::Institution(7).covers(Some("410102"), Some(8)));
        assert!(Scope::City.covers(None, None));
    }
}

crate::impl_code!(Role, "角色");
