//! 居民身份证号码 (GB 11643-1999): 18 characters with a mod-11 check character.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::credit_code::InvalidId;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";
const FIELD: &str = "id_number";

/// 性别, from the 17th digit (顺序码 odd = male).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    pub fn name(self) -> &'static str {
        match self {
            Gender::Male => "男",
            Gender::Female => "女",
        }
    }
}

fn check_char(digits: &[u32]) -> char {
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    CHECK[(sum % 11) as usize] as char
}

fn digits17(s: &str) -> Option<Vec<u32>> {
    let d: Option<Vec<u32>> = s.chars().map(|c| c.to_digit(10)).collect();
    d.filter(|d| d.len() == 17)
}

/// 居民身份证号码. Personal data: show [`IdNumber::masked`] in every public view;
/// `Debug` is masked too so it never leaks into logs.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber(String);

impl IdNumber {
    /// Trims, upper-cases a trailing `x`, checks length, digits, birth date and check character.
    pub fn parse(input: &str) -> Result<IdNumber, InvalidId> {
        let s = input.trim().to_uppercase();
        if s.is_empty() {
            return Err(InvalidId::new(FIELD, "请填写身份证号码"));
        }
        let n = s.chars().count();
        if n != 18 {
            return Err(InvalidId::new(
                FIELD,
                format!("身份证号码应为18位，实际为{}位", n),
            ));
        }
        // Byte slicing below needs ASCII; any other character is invalid anyway.
        if !s.is_ascii() {
            return Err(InvalidId::new(FIELD, "身份证号码只能包含数字和X"));
        }
        let Some(digits) = digits17(&s[..17]) else {
            return Err(InvalidId::new(FIELD, "身份证号码前17位必须是数字"));
        };
        let last = s.as_bytes()[17] as char;
        if !(last.is_ascii_digit() || last == 'X') {
            return Err(InvalidId::new(FIELD, "身份证号码第18位只能是数字或X"));
        }
        if birth_date_of(&s).is_none() {
            return Err(InvalidId::new(FIELD, "身份证号码中的出生日期无效"));
        }
        if last != check_char(&digits) {
            return Err(InvalidId::new(
                FIELD,
                "身份证号码校验位不正确，请核对后重新填写",
            ));
        }
        Ok(IdNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Keeps the first 4 and last 4 characters: `1101**********002X`.
    pub fn masked(&self) -> String {
        format!("{}{}{}", &self.0[..4], "*".repeat(10), &self.0[14..])
    }

    /// 出生日期 (positions 7–14).
    pub fn birth_date(&self) -> NaiveDate {
        birth_date_of(&self.0).expect("validated at parse")
    }

    /// 性别: odd 17th digit = male.
    pub fn gender(&self) -> Gender {
        let d = self.0.as_bytes()[16] - b'0';
        if d % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }
}

fn birth_date_of(s: &str) -> Option<NaiveDate> {
    let y: i32 = s.get(6..10)?.parse().ok()?;
    let m: u32 = s.get(10..12)?.parse().ok()?;
    let d: u32 = s.get(12..14)?.parse().ok()?;
    // Deterministic plausibility window (no clock read in the domain): 1900–2099.
    if !(1900..=2099).contains(&y) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y, m, d)?;
    Some(date)
}

/// Appends the check character to 17 digits (for demo data and tests).
pub fn with_check_digit(first17: &str) -> Option<String> {
    let s = first17.trim();
    let digits = digits17(s)?;
    let mut out = s.to_string();
    out.push(check_char(&digits));
    Some(out)
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// Full number: only for authorised, logged reads. Public views use `masked()`.
impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for IdNumber {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IdNumber::parse(s)
    }
}

impl Serialize for IdNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IdNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IdNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_number_accepts_standard_example() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.gender(), Gender::Female);
    }

    #[test]
    fn id_number_accepts_lowercase_x() {
        let id = IdNumber::parse(" 11010519491231002x ").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
    }

    #[test]
    fn id_number_rejects_wrong_check_character() {
        let e = IdNumber::parse("110105194912310021").unwrap_err();
        assert_eq!(e.field, "id_number");
        assert!(e.to_string().contains("校验位"), "{e}");
    }

    #[test]
    fn id_number_rejects_impossible_birth_date() {
        // 1949-02-30 does not exist; check digit made valid so only the date fails.
        let bad = with_check_digit("11010519490230002").unwrap();
        let e = IdNumber::parse(&bad).unwrap_err();
        assert!(e.to_string().contains("出生日期"), "{e}");
        let future = with_check_digit("41010121990101001").unwrap();
        assert!(IdNumber::parse(&future).is_err());
    }

    #[test]
    fn id_number_rejects_bad_length_and_characters() {
        assert!(IdNumber::parse("11010519491231002")
            .unwrap_err()
            .to_string()
            .contains("18位"));
        assert!(IdNumber::parse("1101051949123100AX").is_err());
        assert!(IdNumber::parse("").is_err());
        // 18 characters but not ASCII: must be an error, not a panic.
        assert!(IdNumber::parse("１１０１０５１９４９１２３１００２Ｘ").is_err());
    }

    #[test]
    fn id_number_masked_keeps_first_and_last_four() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(id.masked().chars().count(), 18);
        assert!(!format!("{id:?}").contains("19491231"));
    }

    #[test]
    fn id_number_gender_odd_17th_digit_is_male() {
        let male = with_check_digit("41010219900101001").unwrap();
        let id = IdNumber::parse(&male).unwrap();
        assert_eq!(id.gender(), Gender::Male);
        assert_eq!(id.gender().name(), "男");
    }

    #[test]
    fn id_number_with_check_digit_round_trips() {
        assert_eq!(
            with_check_digit("11010519491231002").as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(with_check_digit("1101051949123100"), None);
        assert_eq!(with_check_digit("1101051949123100A"), None);
    }

    #[test]
    fn id_number_serde_validates() {
        let id: IdNumber = serde_json::from_str("\"11010519491231002X\"").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"11010519491231002X\""
        );
        assert!(serde_json::from_str::<IdNumber>("\"110105194912310021\"").is_err());
    }
}
