//! 职业编码 (国家职业分类大典 2022) and 职业技能等级.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::credit_code::InvalidId;

/// 职业编码 `大类-中类-小类-职业`, shaped `d-dd-dd-dd`, e.g. `4-03-02-01` 中式烹调师.
/// 专项职业能力 items have their own catalogue and are not accepted here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OccupationCode(String);

impl OccupationCode {
    pub fn parse(input: &str) -> Result<OccupationCode, InvalidId> {
        let s = input.trim();
        let parts: Vec<&str> = s.split('-').collect();
        let ok = parts.len() == 4
            && parts[0].len() == 1
            && parts[1..].iter().all(|p| p.len() == 2)
            && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
            && parts[0] != "0";
        if !ok {
            return Err(InvalidId::new(
                "occupation_code",
                format!("职业编码“{}”格式不正确，应为“4-03-02-01”形式", s),
            ));
        }
        Ok(OccupationCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 大类 (1..=8).
    pub fn major_group(&self) -> u8 {
        self.0.as_bytes()[0] - b'0'
    }
}

impl fmt::Display for OccupationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for OccupationCode {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OccupationCode::parse(s)
    }
}

impl Serialize for OccupationCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OccupationCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        OccupationCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// 职业技能等级 (national five-level ladder). `One` is the highest (高级技师).
/// 特级技师/首席技师 are handled by the province and are out of scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    One = 1,
    Two = 2,
    Three = 3,
    Four = 4,
    Five = 5,
}

impl Level {
    /// All levels, lowest first (the order applicants climb).
    pub const ALL: [Level; 5] = [
        Level::Five,
        Level::Four,
        Level::Three,
        Level::Two,
        Level::One,
    ];

    pub fn from_u8(n: u8) -> Option<Level> {
        match n {
            1 => Some(Level::One),
            2 => Some(Level::Two),
            3 => Some(Level::Three),
            4 => Some(Level::Four),
            5 => Some(Level::Five),
            _ => None,
        }
    }

    pub fn number(self) -> u8 {
        self as u8
    }

    /// As written on certificates: "三级/高级工".
    pub fn name(self) -> &'static str {
        match self {
            Level::Five => "五级/初级工",
            Level::Four => "四级/中级工",
            Level::Three => "三级/高级工",
            Level::Two => "二级/技师",
            Level::One => "一级/高级技师",
        }
    }

    /// 综合评审 applies to levels 2 (技师) and 1 (高级技师) only.
    pub fn needs_comprehensive_review(self) -> bool {
        matches!(self, Level::Two | Level::One)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u8::deserialize(d)?;
        Level::from_u8(n)
            .ok_or_else(|| serde::de::Error::custom(format!("等级“{}”无效，应为1至5", n)))
    }
}

/// Parses "5,4,3" (also accepts `，`, `、` and spaces). Result is sorted lowest level first
/// (5 before 1) with duplicates removed. Empty input gives an empty list.
pub fn parse_levels(input: &str) -> Result<Vec<Level>, InvalidId> {
    let mut out = Vec::new();
    for part in input
        .split([',', '，', '、', ' ', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let level = part
            .parse::<u8>()
            .ok()
            .and_then(Level::from_u8)
            .ok_or_else(|| {
                InvalidId::new("levels", format!("等级“{}”无效，应为1至5之间的数字", part))
            })?;
        if !out.contains(&level) {
            out.push(level);
        }
    }
    out.sort_by(|a, b| b.cmp(a));
    Ok(out)
}

/// "5,4,3": the inverse of [`parse_levels`].
pub fn levels_to_string(levels: &[Level]) -> String {
    levels
        .iter()
        .map(|l| l.number().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occupation_code_accepts_catalogue_shape() {
        let c = OccupationCode::parse(" 4-03-02-01 ").unwrap();
        assert_eq!(c.as_str(), "4-03-02-01");
        assert_eq!(c.major_group(), 4);
        assert_eq!(c.to_string(), "4-03-02-01");
    }

    #[test]
    fn occupation_code_rejects_other_shapes() {
        for bad in [
            "4-3-2-1",
            "4-03-02",
            "40-03-02-01",
            "4-03-02-0A",
            "ZX-41-001",
            "",
            "0-01-01-01",
        ] {
            let e = OccupationCode::parse(bad).unwrap_err();
            assert_eq!(e.field, "occupation_code");
            assert!(e.to_string().contains("格式不正确"));
        }
    }

    #[test]
    fn level_names_follow_national_ladder() {
        assert_eq!(Level::from_u8(5).unwrap().name(), "五级/初级工");
        assert_eq!(Level::from_u8(4).unwrap().name(), "四级/中级工");
        assert_eq!(Level::Three.name(), "三级/高级工");
        assert_eq!(Level::Two.name(), "二级/技师");
        assert_eq!(Level::One.name(), "一级/高级技师");
        assert_eq!(Level::from_u8(0), None);
        assert_eq!(Level::from_u8(6), None);
        assert_eq!(Level::Three.number(), 3);
    }

    #[test]
    fn comprehensive_review_only_for_levels_two_and_one() {
        let with: Vec<u8> = Level::ALL
            .iter()
            .filter(|l| l.needs_comprehensive_review())
            .map(|l| l.number())
            .collect();
        assert_eq!(with, vec![2, 1]);
    }

    #[test]
    fn level_list_parses_and_prints() {
        let l = parse_levels("3, 5，4、5").unwrap();
        assert_eq!(l, vec![Level::Five, Level::Four, Level::Three]);
        assert_eq!(levels_to_string(&l), "5,4,3");
        assert_eq!(parse_levels("").unwrap(), vec![]);
        let e = parse_levels("5,6").unwrap_err();
        assert!(e.to_string().contains("“6”"), "{e}");
    }

    #[test]
    fn level_serde_is_a_number() {
        assert_eq!(serde_json::to_string(&Level::Two).unwrap(), "2");
        assert_eq!(serde_json::from_str::<Level>("4").unwrap(), Level::Four);
        assert!(serde_json::from_str::<Level>("7").is_err());
    }
}

/// 职业技能等级 as the API writes it: 1 (一级/高级技师) … 5 (五级/初级工).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Level {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .enum_values(Some([1, 2, 3, 4, 5]))
            .description(Some("职业技能等级：1 一级/高级技师 … 5 五级/初级工"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Level {}
