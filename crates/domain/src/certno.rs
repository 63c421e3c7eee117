//! 证书编号: the national number of a 职业技能等级证书 and the pluggable numbering schemes.
//!
//! National layout (人社鉴发〔2019〕2号), 22 characters, 1 letter + 21 digits:
//!
//! | positions | content |
//! |---|---|
//! | 1 | `S` 社会培训评价组织, `Y` 用人单位 (enterprise) |
//! | 2–5 | 人社部备案号, `0000` for an institution filed by the province |
//! | 6–7 | 省份代码, `41` Henan |
//! | 8–13 | 评价站点代码, six digits assigned by the province |
//! | 14–15 | 发证年份 (YY) |
//! | 16 | 等级 1–5 |
//! | 17–22 | 序号 within the institution |
//!
//! There is no check digit. Whether the serial restarts per level is a policy value
//! ([`crate::policy::Policy::cert_serial_per_level`]); 专项职业能力证书 have no national layout and
//! use a configurable pattern ([`PatternScheme`]), an assumption to confirm with the province.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::occupation::Level;

/// Why a number is not valid or cannot be made. Shown to users as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertNoError {
    #[error("证书编号应为22位（1位字母加21位数字），现为{0}位")]
    Length(usize),
    #[error("证书编号第1位应为S（社会培训评价组织）或Y（用人单位），现为“{0}”")]
    Kind(char),
    #[error("证书编号第2至22位应为数字，第{0}位“{1}”不是数字")]
    NotDigit(usize, char),
    #[error("证书编号第16位（等级）应为1至5，现为“{0}”")]
    Level(char),
    #[error("证书编号末6位（序号）不能为000000")]
    ZeroSerial,
    #[error("证书编号第2至5位应为0000（省级备案机构），现为“{0}”")]
    MinistryFiling(String),
    #[error("证书编号第6至7位（省份代码）应为{expected}，现为“{found}”")]
    Province { expected: String, found: String },
    #[error("评价机构尚未登记评价站点代码（6位数字，由省级部门分配），不能生成证书编号")]
    MissingSiteCode,
    #[error("评价站点代码应为6位数字，现为“{0}”")]
    SiteCode(String),
    #[error("发证年份{0}超出范围（2000至2099年）")]
    Year(i32),
    #[error("序号{serial}超出范围（1至{max}）：本年度该机构的证书编号已用尽")]
    Serial { serial: u32, max: u32 },
    #[error("职业技能等级证书须有等级（1至5级）")]
    NeedsLevel,
    #[error("证书编号格式不符合“{pattern}”：{reason}")]
    Pattern { pattern: String, reason: String },
    #[error("证书编号规则“{0}”无效：{1}")]
    BadPattern(String, String),
}

/// 评价机构类别 as written in position 1 of the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EvaluatorKind {
    /// S: 社会培训评价组织 (including 行业协会、学会).
    SocialOrg,
    /// Y: 用人单位 (企业职业技能等级认定).
    Employer,
}

impl EvaluatorKind {
    pub fn letter(self) -> char {
        match self {
            EvaluatorKind::SocialOrg => 'S',
            EvaluatorKind::Employer => 'Y',
        }
    }

    pub fn from_letter(c: char) -> Option<Self> {
        match c {
            'S' => Some(EvaluatorKind::SocialOrg),
            'Y' => Some(EvaluatorKind::Employer),
            _ => None,
        }
    }
}

/// A valid national 职业技能等级证书 number (structure checked; see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CertNo(String);

/// The largest serial the six digits hold.
pub const MAX_SERIAL: u32 = 999_999;

fn check_site_code(site_code: &str) -> Result<(), CertNoError> {
    let s = site_code.trim();
    if s.is_empty() {
        return Err(CertNoError::MissingSiteCode);
    }
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CertNoError::SiteCode(site_code.to_string()));
    }
    Ok(())
}

fn check_year(year: i32) -> Result<(), CertNoError> {
    if (2000..=2099).contains(&year) {
        Ok(())
    } else {
        Err(CertNoError::Year(year))
    }
}

fn check_serial(serial: u32, max: u32) -> Result<(), CertNoError> {
    if (1..=max).contains(&serial) {
        Ok(())
    } else {
        Err(CertNoError::Serial { serial, max })
    }
}

impl CertNo {
    /// Composes a number for a province-filed (`0000`) institution in Henan (`41`).
    pub fn compose(
        kind: EvaluatorKind,
        site_code: &str,
        year: i32,
        level: Level,
        serial: u32,
    ) -> Result<CertNo, CertNoError> {
        NationalScheme::henan().compose_no(kind, site_code, year, level, serial)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> EvaluatorKind {
        EvaluatorKind::from_letter(self.0.as_bytes()[0] as char).expect("validated")
    }

    /// Positions 2–5.
    pub fn ministry_filing(&self) -> &str {
        &self.0[1..5]
    }

    /// Positions 6–7.
    pub fn province(&self) -> &str {
        &self.0[5..7]
    }

    /// Positions 8–13.
    pub fn site_code(&self) -> &str {
        &self.0[7..13]
    }

    /// The four-digit year (20YY).
    pub fn year(&self) -> i32 {
        2000 + self.0[13..15].parse::<i32>().expect("validated")
    }

    pub fn level(&self) -> Level {
        Level::from_u8(self.0.as_bytes()[15] - b'0').expect("validated")
    }

    pub fn serial(&self) -> u32 {
        self.0[16..22].parse().expect("validated")
    }
}

impl FromStr for CertNo {
    type Err = CertNoError;

    /// Checks the national structure. Surrounding spaces are ignored and a lower-case first
    /// letter is accepted (people type numbers in); the stored form is upper case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 22 {
            return Err(CertNoError::Length(chars.len()));
        }
        let first = chars[0].to_ascii_uppercase();
        if EvaluatorKind::from_letter(first).is_none() {
            return Err(CertNoError::Kind(chars[0]));
        }
        if let Some((i, c)) = chars
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(CertNoError::NotDigit(i + 1, *c));
        }
        if !('1'..='5').contains(&chars[15]) {
            return Err(CertNoError::Level(chars[15]));
        }
        if chars[16..].iter().all(|c| *c == '0') {
            return Err(CertNoError::ZeroSerial);
        }
        let mut out = String::with_capacity(22);
        out.push(first);
        out.extend(&chars[1..]);
        Ok(CertNo(out))
    }
}

impl TryFrom<String> for CertNo {
    type Error = CertNoError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<CertNo> for String {
    fn from(c: CertNo) -> String {
        c.0
    }
}

impl fmt::Display for CertNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 证书类别: which scheme numbers a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CertificateType {
    /// 职业技能等级证书 (national layout).
    SkillLevel,
    /// 专项职业能力证书 (configurable pattern).
    SpecialAbility,
}

impl CertificateType {
    pub fn title(self) -> &'static str {
        match self {
            CertificateType::SkillLevel => "职业技能等级证书",
            CertificateType::SpecialAbility => "专项职业能力证书",
        }
    }
}

/// What a number is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberRequest<'a> {
    pub kind: EvaluatorKind,
    /// 评价站点代码 of the filed institution (entered by the city).
    pub site_code: &'a str,
    /// 发证年份.
    pub year: i32,
    /// `None` for certificates without levels (专项职业能力).
    pub level: Option<Level>,
    /// The allocated serial, from 1.
    pub serial: u32,
}

/// 编号方案: composes and validates certificate numbers. A province or city whose numbers
/// differ implements its own.
pub trait NumberingScheme: fmt::Debug + Send + Sync {
    /// 方案名称, for messages and the rules page.
    fn name(&self) -> String;
    fn compose(&self, req: &NumberRequest<'_>) -> Result<String, CertNoError>;
    fn validate(&self, number: &str) -> Result<(), CertNoError>;
    /// The largest serial the scheme can write.
    fn max_serial(&self) -> u32;
}

/// The national scheme for 职业技能等级证书, for one province's province-filed institutions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalScheme {
    /// 省份代码, two digits ("41" Henan).
    pub province: String,
}

impl NationalScheme {
    pub fn henan() -> Self {
        NationalScheme {
            province: "41".into(),
        }
    }

    fn compose_no(
        &self,
        kind: EvaluatorKind,
        site_code: &str,
        year: i32,
        level: Level,
        serial: u32,
    ) -> Result<CertNo, CertNoError> {
        check_site_code(site_code)?;
        check_year(year)?;
        check_serial(serial, MAX_SERIAL)?;
        Ok(CertNo(format!(
            "{}0000{}{}{:02}{}{serial:06}",
            kind.letter(),
            self.province,
            site_code.trim(),
            year % 100,
            level.number()
        )))
    }
}

impl NumberingScheme for NationalScheme {
    fn name(&self) -> String {
        "职业技能等级证书全国统一编号（人社鉴发〔2019〕2号）".into()
    }

    fn compose(&self, r: &NumberRequest<'_>) -> Result<String, CertNoError> {
        let level = r.level.ok_or(CertNoError::NeedsLevel)?;
        self.compose_no(r.kind, r.site_code, r.year, level, r.serial)
            .map(String::from)
    }

    fn validate(&self, number: &str) -> Result<(), CertNoError> {
        let n: CertNo = number.parse()?;
        if n.ministry_filing() != "0000" {
            return Err(CertNoError::MinistryFiling(n.ministry_filing().into()));
        }
        if n.province() != self.province {
            return Err(CertNoError::Province {
                expected: self.province.clone(),
                found: n.province().into(),
            });
        }
        Ok(())
    }

    fn max_serial(&self) -> u32 {
        MAX_SERIAL
    }
}

/// One piece of a [`PatternScheme`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(char),
    Province,
    Site,
    Yy,
    Yyyy,
    Level,
    Serial(usize),
}

/// A number written from a pattern, for 专项职业能力证书 (no national layout is published:
/// an assumption, see docs). Placeholders: `{province}` (2 digits), `{site}` (6-digit site
/// code), `{yy}`, `{yyyy}`, `{level}` (1 digit, 0 when the certificate has none) and
/// `{serial:N}` (N digits, zero-padded; exactly one). Other characters (upper-case letters and
/// digits) are written as they are. Default: `Z0000{province}{site}{yy}0{serial:6}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternScheme {
    pattern: String,
    province: String,
    pieces: Vec<Piece>,
}

impl PatternScheme {
    pub const DEFAULT: &'static str = "Z0000{province}{site}{yy}0{serial:6}";

    pub fn new(pattern: &str, province: &str) -> Result<Self, CertNoError> {
        let bad = |m: &str| CertNoError::BadPattern(pattern.to_string(), m.to_string());
        let mut pieces = vec![];
        let mut rest = pattern;
        while let Some(c) = rest.chars().next() {
            if c == '{' {
                let end = rest.find('}').ok_or_else(|| bad("“{”没有对应的“}”"))?;
                let name = &rest[1..end];
                pieces.push(match name {
                    "province" => Piece::Province,
                    "site" => Piece::Site,
                    "yy" => Piece::Yy,
                    "yyyy" => Piece::Yyyy,
                    "level" => Piece::Level,
                    _ => match name.strip_prefix("serial:").and_then(|n| n.parse().ok()) {
                        Some(n @ 1..=9) => Piece::Serial(n),
                        _ => return Err(bad(&format!("未知的占位符“{{{name}}}”"))),
                    },
                });
                rest = &rest[end + 1..];
            } else if c.is_ascii_uppercase() || c.is_ascii_digit() {
                pieces.push(Piece::Literal(c));
                rest = &rest[1..];
            } else {
                return Err(bad(&format!(
                    "只能使用大写字母、数字和占位符，不能使用“{c}”"
                )));
            }
        }
        if pieces
            .iter()
            .filter(|p| matches!(p, Piece::Serial(_)))
            .count()
            != 1
        {
            return Err(bad("须有且只有一个 {serial:N}"));
        }
        if province.len() != 2 || !province.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("省份代码应为2位数字"));
        }
        Ok(PatternScheme {
            pattern: pattern.to_string(),
            province: province.to_string(),
            pieces,
        })
    }

    fn serial_width(&self) -> usize {
        self.pieces
            .iter()
            .find_map(|p| match p {
                Piece::Serial(n) => Some(*n),
                _ => None,
            })
            .expect("one serial")
    }
}

impl NumberingScheme for PatternScheme {
    fn name(&self) -> String {
        format!("专项职业能力证书编号（{}）", self.pattern)
    }

    fn compose(&self, r: &NumberRequest<'_>) -> Result<String, CertNoError> {
        check_site_code(r.site_code)?;
        check_year(r.year)?;
        check_serial(r.serial, self.max_serial())?;
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Literal(c) => out.push(*c),
                Piece::Province => out.push_str(&self.province),
                Piece::Site => out.push_str(r.site_code.trim()),
                Piece::Yy => out.push_str(&format!("{:02}", r.year % 100)),
                Piece::Yyyy => out.push_str(&r.year.to_string()),
                Piece::Level => out.push(char::from(b'0' + r.level.map_or(0, Level::number))),
                Piece::Serial(n) => out.push_str(&format!("{:0n$}", r.serial, n = *n)),
            }
        }
        Ok(out)
    }

    fn validate(&self, number: &str) -> Result<(), CertNoError> {
        let fail = |reason: String| CertNoError::Pattern {
            pattern: self.pattern.clone(),
            reason,
        };
        let b = number.trim().as_bytes();
        let mut i = 0;
        let digits = |n: usize, what: &str, i: &mut usize| -> Result<String, CertNoError> {
            let s = b
                .get(*i..*i + n)
                .filter(|s| s.iter().all(u8::is_ascii_digit));
            let s = s.ok_or_else(|| fail(format!("第{}位起应为{n}位数字（{what}）", *i + 1)))?;
            *i += n;
            Ok(String::from_utf8_lossy(s).into_owned())
        };
        for p in &self.pieces {
            match p {
                Piece::Literal(c) => {
                    if b.get(i) != Some(&(*c as u8)) {
                        return Err(fail(format!("第{}位应为“{c}”", i + 1)));
                    }
                    i += 1;
                }
                Piece::Province => {
                    let at = i;
                    if digits(2, "省份代码", &mut i)? != self.province {
                        return Err(fail(format!(
                            "第{}位起应为省份代码{}",
                            at + 1,
                            self.province
                        )));
                    }
                }
                Piece::Site => {
                    digits(6, "评价站点代码", &mut i)?;
                }
                Piece::Yy => {
                    digits(2, "年份", &mut i)?;
                }
                Piece::Yyyy => {
                    digits(4, "年份", &mut i)?;
                }
                Piece::Level => {
                    digits(1, "等级", &mut i)?;
                }
                Piece::Serial(n) => {
                    if digits(*n, "序号", &mut i)?.bytes().all(|c| c == b'0') {
                        return Err(fail("序号不能全为0".into()));
                    }
                }
            }
        }
        if i != b.len() {
            return Err(fail(format!(
                "应为{i}位，现为{}位",
                number.trim().chars().count()
            )));
        }
        Ok(())
    }

    fn max_serial(&self) -> u32 {
        10u32
            .saturating_pow(self.serial_width() as u32)
            .saturating_sub(1)
    }
}

/// The platform's numbering: one scheme per certificate type, and whether serials restart
/// per level. Built from the policy by [`crate::policy::Policy::numbering`].
#[derive(Debug)]
pub struct Numbering {
    pub skill_level: Box<dyn NumberingScheme>,
    pub special_ability: Box<dyn NumberingScheme>,
    /// 序号是否按等级分别编号 (policy `cert_serial_per_level`).
    pub serial_per_level: bool,
}

impl Numbering {
    pub fn scheme(&self, t: CertificateType) -> &dyn NumberingScheme {
        match t {
            CertificateType::SkillLevel => self.skill_level.as_ref(),
            CertificateType::SpecialAbility => self.special_ability.as_ref(),
        }
    }

    /// The level part of the serial counter's key: the level when serials restart per level,
    /// 0 otherwise (one counter per institution and year, shared by all levels). Special-ability
    /// certificates always count separately (their own counter, level part 0).
    pub fn counter_level(&self, t: CertificateType, level: Option<Level>) -> u8 {
        match (t, self.serial_per_level, level) {
            (CertificateType::SkillLevel, true, Some(l)) => l.number(),
            _ => 0,
        }
    }

    pub fn compose(
        &self,
        t: CertificateType,
        req: &NumberRequest<'_>,
    ) -> Result<String, CertNoError> {
        self.scheme(t).compose(req)
    }

    /// Validates a number of either type (a user's query): the national layout first.
    pub fn validate_any(&self, number: &str) -> Result<CertificateType, CertNoError> {
        match self.skill_level.validate(number) {
            Ok(()) => Ok(CertificateType::SkillLevel),
            Err(e) => match self.special_ability.validate(number) {
                Ok(()) => Ok(CertificateType::SpecialAbility),
                Err(_) => Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composes_the_national_layout() {
        let n = CertNo::compose(EvaluatorKind::SocialOrg, "001232", 2026, Level::Four, 1).unwrap();
        assert_eq!(n.as_str(), "S000041001232264000001");
        assert_eq!(n.as_str().len(), 22);
        assert_eq!(n.kind(), EvaluatorKind::SocialOrg);
        assert_eq!(
            (n.province(), n.site_code(), n.year()),
            ("41", "001232", 2026)
        );
        assert_eq!((n.level(), n.serial()), (Level::Four, 1));
        let y =
            CertNo::compose(EvaluatorKind::Employer, "410001", 2031, Level::One, 999_999).unwrap();
        assert_eq!(y.as_str(), "Y000041410001311999999");
        assert_eq!(y.parse_back(), y);
    }

    impl CertNo {
        fn parse_back(&self) -> CertNo {
            self.as_str().parse().unwrap()
        }
    }

    #[test]
    fn compose_refuses_bad_inputs() {
        let c = |site: &str, year, serial| {
            CertNo::compose(EvaluatorKind::SocialOrg, site, year, Level::Five, serial)
        };
        assert_eq!(c("", 2026, 1).unwrap_err(), CertNoError::MissingSiteCode);
        assert!(c("", 2026, 1)
            .unwrap_err()
            .to_string()
            .contains("评价站点代码"));
        assert!(matches!(c("12345", 2026, 1), Err(CertNoError::SiteCode(_))));
        assert!(matches!(
            c("12345a", 2026, 1),
            Err(CertNoError::SiteCode(_))
        ));
        assert!(matches!(c("123456", 1999, 1), Err(CertNoError::Year(1999))));
        assert!(matches!(
            c("123456", 2026, 0),
            Err(CertNoError::Serial { .. })
        ));
        assert!(matches!(
            c("123456", 2026, 1_000_000),
            Err(CertNoError::Serial { .. })
        ));
    }

    #[test]
    fn validator_explains_in_chinese() {
        let ok = "S000041000123265000001";
        assert!(ok.parse::<CertNo>().is_ok());
        assert_eq!(
            " s000041000123265000001 "
                .parse::<CertNo>()
                .unwrap()
                .as_str(),
            ok
        );
        let e = |s: &str| s.parse::<CertNo>().unwrap_err();
        assert_eq!(e("S00004100012326500001"), CertNoError::Length(21));
        assert_eq!(e("X000041000123265000001"), CertNoError::Kind('X'));
        assert_eq!(e("S0000410001232650000O1"), CertNoError::NotDigit(21, 'O'));
        assert_eq!(e("S000041000123266000001"), CertNoError::Level('6'));
        assert_eq!(e("S000041000123260000001"), CertNoError::Level('0'));
        assert_eq!(e("S000041000123265000000"), CertNoError::ZeroSerial);
        assert!(e("证书").to_string().contains("22位"));
        assert!(e("S0000410001232650000O1").to_string().contains("第21位"));
        let json = serde_json::to_string(&ok.parse::<CertNo>().unwrap()).unwrap();
        assert_eq!(json, format!("\"{ok}\""));
        assert!(serde_json::from_str::<CertNo>("\"S1\"").is_err());
    }

    #[test]
    fn national_scheme_checks_province_and_filing() {
        let s = NationalScheme::henan();
        assert!(s.validate("S000041000123265000001").is_ok());
        assert!(matches!(
            s.validate("S000011000123265000001"),
            Err(CertNoError::Province { .. })
        ));
        assert!(matches!(
            s.validate("S123441000123265000001"),
            Err(CertNoError::MinistryFiling(_))
        ));
        let req = NumberRequest {
            kind: EvaluatorKind::Employer,
            site_code: "000123",
            year: 2026,
            level: None,
            serial: 5,
        };
        assert_eq!(s.compose(&req).unwrap_err(), CertNoError::NeedsLevel);
        let req = NumberRequest {
            level: Some(Level::Three),
            ..req
        };
        assert_eq!(s.compose(&req).unwrap(), "Y000041000123263000005");
        assert_eq!(s.max_serial(), 999_999);
    }

    #[test]
    fn special_ability_pattern() {
        let p = PatternScheme::new(PatternScheme::DEFAULT, "41").unwrap();
        let req = NumberRequest {
            kind: EvaluatorKind::SocialOrg,
            site_code: "000123",
            year: 2026,
            level: None,
            serial: 42,
        };
        let n = p.compose(&req).unwrap();
        assert_eq!(n, "Z000041000123260000042");
        assert!(p.validate(&n).is_ok());
        // Never a valid 职业技能等级证书 number, so the two kinds cannot collide.
        assert!(n.parse::<CertNo>().is_err());
        assert!(p.validate("Z000041000123260000000").is_err());
        assert!(p.validate("Z00004100012326000004").is_err());
        assert!(p
            .validate("Z000042000123260000042")
            .unwrap_err()
            .to_string()
            .contains("省份代码41"));
        let custom = PatternScheme::new("ZX{province}{yyyy}{site}{serial:5}", "41").unwrap();
        assert_eq!(custom.compose(&req).unwrap(), "ZX41202600012300042");
        assert_eq!(custom.max_serial(), 99_999);
        assert!(matches!(
            custom.compose(&NumberRequest {
                serial: 100_000,
                ..req
            }),
            Err(CertNoError::Serial { max: 99_999, .. })
        ));
        for bad in [
            "Z{serial:6",
            "Z{nope}{serial:6}",
            "z{serial:6}",
            "Z{site}",
            "Z{serial:3}{serial:3}",
        ] {
            assert!(
                matches!(
                    PatternScheme::new(bad, "41"),
                    Err(CertNoError::BadPattern(..))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn numbering_counter_levels() {
        let mut n = Numbering {
            skill_level: Box::new(NationalScheme::henan()),
            special_ability: Box::new(PatternScheme::new(PatternScheme::DEFAULT, "41").unwrap()),
            serial_per_level: false,
        };
        assert_eq!(
            n.counter_level(CertificateType::SkillLevel, Some(Level::Three)),
            0
        );
        n.serial_per_level = true;
        assert_eq!(
            n.counter_level(CertificateType::SkillLevel, Some(Level::Three)),
            3
        );
        assert_eq!(n.counter_level(CertificateType::SpecialAbility, None), 0);
        assert_eq!(
            n.validate_any("S000041000123265000001").unwrap(),
            CertificateType::SkillLevel
        );
        assert_eq!(
            n.validate_any("Z000041000123260000042").unwrap(),
            CertificateType::SpecialAbility
        );
        assert_eq!(n.validate_any("S0000").unwrap_err(), CertNoError::Length(5));
    }
}
