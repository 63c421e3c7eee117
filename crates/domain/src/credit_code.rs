//! 统一社会信用代码 (GB 32100-2015) and the shared identifier error.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An identifier that failed validation (统一社会信用代码、身份证号码、职业编码 …).
/// `Display` is the Chinese message shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidId {
    /// Which field failed (e.g. `"credit_code"`), for forms to attach the message.
    pub field: &'static str,
    pub message: String,
}

impl InvalidId {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        InvalidId {
            field,
            message: message.into(),
        }
    }
}

/// Symbols of GB 32100-2015; a symbol's value is its index (no I, O, S, V, Z).
const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const FIELD: &str = "credit_code";

fn value_of(c: char) -> Option<u32> {
    CHARSET.find(c).map(|i| i as u32)
}

fn check_char(first17: &[u32]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    CHARSET.as_bytes()[check as usize] as char
}

/// 统一社会信用代码: 18 symbols, the last one a mod-31 check character.
/// Once constructed it is valid (parse, don't validate).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

impl CreditCode {
    /// Accepts surrounding spaces and lower case; stores the canonical upper-case form.
    pub fn parse(input: &str) -> Result<CreditCode, InvalidId> {
        let s = input.trim().to_uppercase();
        if s.is_empty() {
            return Err(InvalidId::new(FIELD, "请填写统一社会信用代码"));
        }
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(InvalidId::new(
                FIELD,
                format!("统一社会信用代码应为18位，实际为{}位", chars.len()),
            ));
        }
        let mut values = Vec::with_capacity(18);
        for (i, c) in chars.iter().enumerate() {
            match value_of(*c) {
                Some(v) => values.push(v),
                None => {
                    return Err(InvalidId::new(
                        FIELD,
                        format!("统一社会信用代码第{}位“{}”不是有效字符", i + 1, c),
                    ))
                }
            }
        }
        let expected = check_char(&values[..17]);
        if chars[17] != expected {
            return Err(InvalidId::new(
                FIELD,
                "统一社会信用代码校验位不正确，请核对后重新填写",
            ));
        }
        Ok(CreditCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Appends the check character to 17 valid symbols (for demo data and tests).
pub fn with_check_digit(first17: &str) -> Option<String> {
    let s = first17.trim().to_uppercase();
    let values: Option<Vec<u32>> = s.chars().map(value_of).collect();
    let values = values?;
    if values.len() != 17 {
        return None;
    }
    let mut out = s;
    out.push(check_char(&values));
    Some(out)
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for CreditCode {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CreditCode::parse(s)
    }
}

impl AsRef<str> for CreditCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for CreditCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CreditCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CreditCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_code_accepts_standard_example() {
        let c = CreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(c.as_str(), "91350100M000100Y43");
        assert_eq!(c.to_string(), "91350100M000100Y43");
    }

    #[test]
    fn credit_code_trims_and_uppercases() {
        let c = CreditCode::parse("  91350100m000100y43 ").unwrap();
        assert_eq!(c.as_str(), "91350100M000100Y43");
    }

    #[test]
    fn credit_code_rejects_wrong_check_character() {
        let e = CreditCode::parse("91350100M000100Y44").unwrap_err();
        assert_eq!(e.field, "credit_code");
        assert!(e.to_string().contains("校验位"), "{e}");
    }

    #[test]
    fn credit_code_rejects_wrong_length() {
        let e = CreditCode::parse("91350100M000100Y4").unwrap_err();
        assert!(e.to_string().contains("18位"), "{e}");
        assert!(CreditCode::parse("").is_err());
    }

    #[test]
    fn credit_code_rejects_letters_outside_charset() {
        // I, O, S, V, Z are excluded by GB 32100-2015.
        let e = CreditCode::parse("91350100M000100I43").unwrap_err();
        assert!(e.to_string().contains("第16位"), "{e}");
    }

    #[test]
    fn credit_code_check_31_maps_to_zero() {
        // Find a body whose weighted sum is divisible by 31: its check must be '0'.
        let mut found = false;
        for n in 0..2000u32 {
            let body = format!("9141010{:010}", n);
            let values: Vec<u32> = body.chars().map(|c| value_of(c).unwrap()).collect();
            let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
            if matches!(sum % 31, 0) {
                let code = with_check_digit(&body).unwrap();
                assert!(code.ends_with('0'), "{code}");
                assert!(CreditCode::parse(&code).is_ok());
                found = true;
                break;
            }
        }
        assert!(found);
    }

    #[test]
    fn credit_code_with_check_digit_round_trips() {
        assert_eq!(
            with_check_digit("91350100M000100Y4").as_deref(),
            Some("91350100M000100Y43")
        );
        let code = with_check_digit("91410100MA44ABCD1").unwrap();
        assert!(CreditCode::parse(&code).is_ok());
        assert_eq!(with_check_digit("9141"), None);
        assert_eq!(with_check_digit("91410100MA44ABCDI"), None);
    }

    #[test]
    fn credit_code_serde_validates() {
        let c: CreditCode = serde_json::from_str("\"91350100M000100Y43\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"91350100M000100Y43\"");
        assert!(serde_json::from_str::<CreditCode>("\"91350100M000100Y44\"").is_err());
    }
}
