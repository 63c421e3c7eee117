//! The four filing kinds (备案类型) and what each one's [`Flow`] asks for: route, review mode
//! (专家现场评审 or waiver), expert panel, materials checklist.

use serde::{Deserialize, Serialize};

use crate::institution::InstitutionKind;
use crate::policy::Policy;
use crate::role::Role;

/// The four filing kinds of section 一.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FilingKind {
    /// 社会培训评价组织备案 一(一) (incl. 行业协会/学会, routed to the city).
    SocialOrg,
    /// 企业职业技能等级认定备案 一(二).
    Enterprise,
    /// 专项职业能力考核备案 一(三).
    SpecialAbility,
    /// 职业（工种）增量增级别备案 一(四).
    Increment,
}

impl FilingKind {
    pub const ALL: [FilingKind; 4] = [
        FilingKind::SocialOrg,
        FilingKind::Enterprise,
        FilingKind::SpecialAbility,
        FilingKind::Increment,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            FilingKind::SocialOrg => "social_org",
            FilingKind::Enterprise => "enterprise",
            FilingKind::SpecialAbility => "special_ability",
            FilingKind::Increment => "increment",
        }
    }
    pub fn parse(s: &str) -> Option<FilingKind> {
        FilingKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            FilingKind::SocialOrg => "社会培训评价组织备案",
            FilingKind::Enterprise => "企业职业技能等级认定备案",
            FilingKind::SpecialAbility => "专项职业能力考核备案",
            FilingKind::Increment => "增量增级别备案",
        }
    }
    pub fn clause(self) -> &'static str {
        match self {
            FilingKind::SocialOrg => "一(一)",
            FilingKind::Enterprise => "一(二)",
            FilingKind::SpecialAbility => "一(三)",
            FilingKind::Increment => "一(四)",
        }
    }
}

/// Who runs the stages before the city's two-key review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// 区县初审 → 专家抽取/现场评审 → 初评结果意见 → 市级审核.
    District,
    /// 市人社局职建处会同市鉴定中心统一组织开展 (associations, special ability, increment):
    /// the city takes the district's place for 受理, expert draw and review, then the two keys.
    City,
}

impl Route {
    pub const ALL: [Route; 2] = [Route::District, Route::City];
    pub fn as_str(self) -> &'static str {
        match self {
            Route::District => "district",
            Route::City => "city",
        }
    }
    pub fn parse(s: &str) -> Option<Route> {
        match s {
            "district" => Some(Route::District),
            "city" => Some(Route::City),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Route::District => "区县受理",
            Route::City => "市级统一组织评审",
        }
    }
}

/// 评审方式: how the expert review was organised. The district's review of 一(一) is on site
/// (现场勘察并组织评审); the city records which one it chose and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewMode {
    /// 现场评审.
    Onsite,
    /// 书面评审.
    Written,
}

impl ReviewMode {
    pub const ALL: [ReviewMode; 2] = [ReviewMode::Onsite, ReviewMode::Written];
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewMode::Onsite => "onsite",
            ReviewMode::Written => "written",
        }
    }
    pub fn parse(s: &str) -> Option<ReviewMode> {
        match s.trim() {
            "onsite" => Some(ReviewMode::Onsite),
            "written" => Some(ReviewMode::Written),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ReviewMode::Onsite => "现场评审",
            ReviewMode::Written => "书面评审",
        }
    }
}

/// 专家组意见: the conclusions of the drawn experts who took part (declined ones excluded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Panel {
    /// 通过 or 整改后通过.
    pub pass: u32,
    /// 不通过.
    pub fail: u32,
}

impl Panel {
    /// Count conclusions as recorded by the experts.
    pub fn of<'a>(conclusions: impl IntoIterator<Item = &'a str>) -> Panel {
        let mut p = Panel::default();
        for c in conclusions {
            if c.trim() == "不通过" {
                p.fail += 1;
            } else {
                p.pass += 1;
            }
        }
        p
    }
    pub fn total(self) -> u32 {
        self.pass + self.fail
    }
    /// More than half of the experts said 不通过.
    pub fn fail_majority(self) -> bool {
        self.fail * 2 > self.total()
    }
    /// The panel's conclusion as recorded with the 初评结果意见.
    pub fn summary(self) -> String {
        if self.total() == 0 {
            return "无专家评审（免于现场评估）".into();
        }
        format!(
            "专家组{}（通过{}人，不通过{}人）",
            if self.fail_majority() {
                "多数意见不通过"
            } else {
                "多数意见通过"
            },
            self.pass,
            self.fail
        )
    }
}

/// Which occupation catalogue an application draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalogue {
    /// 职业（工种）.
    Occupation,
    /// 专项职业能力.
    Special,
}

/// Material kinds of a filing application (key, label). The policy lists which of them each kind
/// must carry before it is submitted (`required_materials`).
pub const MATERIAL_KINDS: &[(&str, &str)] = &[
    ("application_form", "备案申请表"),
    ("qualification", "场地设施、考评人员等条件证明"),
    ("commitment", "书面承诺及佐证材料"),
    ("scheme", "评价方案与题库说明"),
    ("correction", "补正材料"),
    ("review", "评审与审核材料"),
    ("supervision", "督导意见附件"),
    ("other", "其他材料"),
];

impl FilingKind {
    /// Institution kinds whose initial filings are of this kind (for counting filed holders).
    pub fn institution_kinds(self) -> &'static [InstitutionKind] {
        match self {
            FilingKind::SocialOrg => &[
                InstitutionKind::SocialOrg,
                InstitutionKind::Association,
                InstitutionKind::Society,
            ],
            FilingKind::Enterprise => &[InstitutionKind::Enterprise],
            FilingKind::SpecialAbility | FilingKind::Increment => &[],
        }
    }
}

/// What differs between the kinds: data, not code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    pub kind: FilingKind,
    pub route: Route,
    pub catalogue: Catalogue,
    /// Expert draw + review after 初审 (both routes; the organiser differs, see [`Flow::organised_by`]).
    pub onsite_review: bool,
    /// 一(二)2: a written commitment may replace the on-site assessment.
    pub waiver_allowed: bool,
    /// 一(二)1: enterprise eligibility.
    pub enterprise_eligibility: bool,
    /// 一(四): March / September only.
    pub window: bool,
    /// 三(一): a district accepts initial filings for levels 5, 4, 3 only.
    pub district_levels: bool,
    /// 一(四): the stricter incremental occupation limit instead of the general one.
    pub increment_count: bool,
}

impl Flow {
    /// The flow of `kind` for an institution of `inst`.
    pub fn of(kind: FilingKind, inst: InstitutionKind) -> Flow {
        let base = Flow {
            kind,
            route: Route::District,
            catalogue: Catalogue::Occupation,
            onsite_review: true,
            waiver_allowed: false,
            enterprise_eligibility: false,
            window: false,
            district_levels: true,
            increment_count: false,
        };
        match kind {
            FilingKind::SocialOrg if inst.city_handles_directly() => Flow {
                route: Route::City,
                district_levels: false,
                ..base
            },
            FilingKind::SocialOrg => base,
            FilingKind::Enterprise => Flow {
                waiver_allowed: true,
                enterprise_eligibility: true,
                ..base
            },
            FilingKind::SpecialAbility => Flow {
                route: Route::City,
                catalogue: Catalogue::Special,
                district_levels: false,
                ..base
            },
            FilingKind::Increment => Flow {
                route: Route::City,
                district_levels: false,
                window: true,
                increment_count: true,
                ..base
            },
        }
    }

    /// Who organises the stages before the two keys (受理、抽取专家、评审、初评结果意见):
    /// the district on the district route, either city role on the city route (统一组织开展).
    pub fn organised_by(&self, role: Role) -> bool {
        match self.route {
            Route::District => role == Role::District,
            Route::City => role.is_city_officer(),
        }
    }

    /// The stage-organiser's name, for refusals.
    pub fn organiser_label(&self) -> &'static str {
        match self.route {
            Route::District => "区县（市）人社部门",
            Route::City => "市人社局职建处或市职业技能鉴定中心",
        }
    }

    /// The flow as the policy routes it: 一(三) special ability and 一(四) increments go to the
    /// city only while `special_ability_city_only` / `increment_city_only` say so; otherwise
    /// they take the district route (初审, expert draw, on-site review) like a social org.
    pub fn under(self, policy: &Policy) -> Flow {
        let city_only = match self.kind {
            FilingKind::SpecialAbility => policy.special_ability_city_only.value,
            FilingKind::Increment => policy.increment_city_only.value,
            _ => return self,
        };
        if city_only {
            self
        } else {
            Flow {
                route: Route::District,
                onsite_review: true,
                ..self
            }
        }
    }

    /// Which kinds an institution of `inst` may apply for.
    pub fn kind_allowed(kind: FilingKind, inst: InstitutionKind) -> Result<(), String> {
        match (kind, inst) {
            (FilingKind::Enterprise, InstitutionKind::Enterprise) => Ok(()),
            (FilingKind::Enterprise, _) => {
                Err("企业职业技能等级认定备案仅限企业申报（一(二)）".into())
            }
            (FilingKind::SocialOrg, InstitutionKind::Enterprise) => {
                Err("企业请选择“企业职业技能等级认定备案”（一(二)）".into())
            }
            _ => Ok(()),
        }
    }
}
