//! 证书签名内容: the payload CBOR map. Keys are small integers to keep the QR code small;
//! the table is in `docs/certificate-format.md` and mirrored in `static/verify.js`.

use chrono::{Datelike, NaiveDate};
use ciborium::Value;
use serde::{Deserialize, Serialize};

use crate::VerifyError;

/// What a certificate's signature covers. Personal data appears only masked: never the full
/// ID number and never a hash of it (an 18-digit ID number with a known birth date and area is
/// easy to brute-force from its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificatePayload {
    /// 证书编号 (22 characters for a 职业技能等级证书).
    pub number: String,
    /// 姓名.
    pub name: String,
    /// 证件类型, e.g. 居民身份证.
    pub id_type: String,
    /// 证件号码 masked: first 4 and last 4 characters kept, the rest `*` (see [`mask_id`]).
    pub id_masked: String,
    /// 职业编码, e.g. 6-31-01-03.
    pub occupation_code: String,
    /// 职业名称, e.g. 电工.
    pub occupation_name: String,
    /// 工种/职业方向; `None` is printed as "--".
    pub work_type: Option<String>,
    /// 等级 1 (一级/高级技师) … 5 (五级/初级工).
    pub level: u8,
    /// 发证日期.
    pub issued_on: NaiveDate,
    /// 评价机构名称 (as filed).
    pub institution: String,
    /// Index of this certificate in the revocation status list (状态列表序号).
    pub status_index: u32,
    /// 签名时间, unix seconds; given by the caller, never read from the clock.
    pub signed_at: i64,
}

/// 证件号码脱敏: keeps the first 4 and the last 4 characters and replaces the rest by `*`.
/// Numbers of 8 characters or fewer (some passports) keep only their first and last character,
/// so that a short number is never shown whole.
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    let (head, tail) = if n > 8 {
        (4, 4)
    } else if n > 2 {
        (1, 1)
    } else {
        (0, 0)
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

/// Common 证件类型 get a one-byte code in the payload; any other type is carried as text.
const ID_TYPES: [&str; 6] = [
    "居民身份证",
    "护照",
    "港澳居民来往内地通行证",
    "台湾居民来往大陆通行证",
    "外国人永久居留身份证",
    "港澳台居民居住证",
];

mod key {
    pub const NUMBER: u8 = 1;
    pub const NAME: u8 = 2;
    pub const ID_TYPE: u8 = 3;
    pub const ID_MASKED: u8 = 4;
    pub const OCCUPATION_CODE: u8 = 5;
    pub const OCCUPATION_NAME: u8 = 6;
    pub const WORK_TYPE: u8 = 7;
    pub const LEVEL: u8 = 8;
    pub const ISSUED_ON: u8 = 9;
    pub const INSTITUTION: u8 = 10;
    pub const STATUS_INDEX: u8 = 11;
    pub const SIGNED_AT: u8 = 12;
}

fn int(v: impl Into<ciborium::value::Integer>) -> Value {
    Value::Integer(v.into())
}

/// A text field: a CBOR text string (UTF-8), or a byte string holding GB 18030 when that is
/// shorter (Chinese characters take 2 bytes instead of 3), which keeps the QR code small.
fn put_text(s: &str) -> Value {
    if s.is_ascii() {
        return Value::Text(s.to_string());
    }
    let (gb, _, unmappable) = encoding_rs::GB18030.encode(s);
    if !unmappable && gb.len() < s.len() {
        Value::Bytes(gb.into_owned())
    } else {
        Value::Text(s.to_string())
    }
}

fn get_text(v: Value, what: &str) -> Result<String, VerifyError> {
    match v {
        Value::Text(s) => Ok(s),
        Value::Bytes(b) => encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(&b)
            .map(|c| c.into_owned())
            .ok_or_else(|| VerifyError::Malformed(format!("字段“{what}”不是有效的 GB 18030 文本"))),
        _ => Err(VerifyError::Malformed(format!("字段“{what}”应为文本"))),
    }
}

/// A masked ID `1101**********002X` travels as `["1101002X", 18]`: the visible characters
/// (equal halves) and the full length. Any other shape stays text.
fn put_masked(m: &str) -> Value {
    let c: Vec<char> = m.chars().collect();
    let n = c.len();
    let h = c.iter().take_while(|x| **x != '*').count();
    let tail_ok = h > 0 && n > 2 * h && c[n - h..].iter().all(|x| *x != '*');
    if tail_ok && c[h..n - h].iter().all(|x| *x == '*') {
        let visible: String = c[..h].iter().chain(&c[n - h..]).collect();
        Value::Array(vec![put_text(&visible), int(n as u32)])
    } else {
        put_text(m)
    }
}

fn get_masked(v: Value) -> Result<String, VerifyError> {
    let Value::Array(a) = v else {
        return get_text(v, "证件号码");
    };
    let bad = || VerifyError::Malformed("字段“证件号码”格式错误".into());
    let [visible, n]: [Value; 2] = a.try_into().map_err(|_| bad())?;
    let visible: Vec<char> = get_text(visible, "证件号码")?.chars().collect();
    let n = match n {
        Value::Integer(i) => usize::try_from(i128::from(i)).map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    if visible.len() & 1 == 1 || n <= visible.len() || n > 64 {
        return Err(bad());
    }
    let h = visible.len() / 2;
    Ok(visible[..h]
        .iter()
        .copied()
        .chain(std::iter::repeat_n('*', n - 2 * h))
        .chain(visible[h..].iter().copied())
        .collect())
}

impl CertificatePayload {
    /// Deterministic CBOR (RFC 8949 §4.2: shortest forms, keys in ascending order).
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut m: Vec<(Value, Value)> = vec![
            (int(key::NUMBER), put_text(&self.number)),
            (int(key::NAME), put_text(&self.name)),
            (
                int(key::ID_TYPE),
                match ID_TYPES.iter().position(|t| *t == self.id_type) {
                    Some(i) => int(i as u8 + 1),
                    None => put_text(&self.id_type),
                },
            ),
            (int(key::ID_MASKED), put_masked(&self.id_masked)),
            (int(key::OCCUPATION_CODE), put_text(&self.occupation_code)),
            (int(key::OCCUPATION_NAME), put_text(&self.occupation_name)),
        ];
        if let Some(w) = &self.work_type {
            m.push((int(key::WORK_TYPE), put_text(w)));
        }
        let d = &self.issued_on;
        let ymd = d.year() as i64 * 10000 + d.month() as i64 * 100 + d.day() as i64;
        m.extend([
            (int(key::LEVEL), int(self.level)),
            (int(key::ISSUED_ON), int(ymd)),
            (int(key::INSTITUTION), put_text(&self.institution)),
            (int(key::STATUS_INDEX), int(self.status_index)),
            (int(key::SIGNED_AT), int(self.signed_at)),
        ]);
        let mut out = Vec::with_capacity(256);
        ciborium::into_writer(&Value::Map(m), &mut out).expect("writing CBOR to a Vec");
        out
    }

    /// Reads a payload; every field but 工种 is required, unknown keys are refused.
    pub fn from_cbor(bytes: &[u8]) -> Result<Self, VerifyError> {
        let bad = |m: &str| VerifyError::Malformed(m.to_string());
        let map = match crate::cose::read_one(bytes)? {
            Value::Map(m) => m,
            _ => return Err(bad("签名内容不是映射")),
        };
        let mut fields: [Option<Value>; 13] = Default::default();
        for (k, v) in map {
            let k = match k {
                Value::Integer(i) => u8::try_from(i128::from(i)).ok(),
                _ => None,
            };
            match k {
                Some(k @ 1..=12) if fields[k as usize].is_none() => fields[k as usize] = Some(v),
                _ => return Err(bad("签名内容含有未知或重复的字段")),
            }
        }
        let mut take = |k: u8, what: &str| {
            fields[k as usize]
                .take()
                .ok_or_else(|| VerifyError::Malformed(format!("缺少字段“{what}”")))
        };
        let text = get_text;
        fn uint(v: Value, what: &str) -> Result<i128, VerifyError> {
            match v {
                Value::Integer(i) => Ok(i128::from(i)),
                _ => Err(VerifyError::Malformed(format!("字段“{what}”应为整数"))),
            }
        }
        let number = text(take(key::NUMBER, "证书编号")?, "证书编号")?;
        let name = text(take(key::NAME, "姓名")?, "姓名")?;
        let id_type = match take(key::ID_TYPE, "证件类型")? {
            Value::Integer(i) => {
                let i = i128::from(i);
                if (1..=ID_TYPES.len() as i128).contains(&i) {
                    ID_TYPES[i as usize - 1].to_string()
                } else {
                    return Err(bad("证件类型代码未知"));
                }
            }
            v => text(v, "证件类型")?,
        };
        let id_masked = get_masked(take(key::ID_MASKED, "证件号码")?)?;
        let occupation_code = text(take(key::OCCUPATION_CODE, "职业编码")?, "职业编码")?;
        let occupation_name = text(take(key::OCCUPATION_NAME, "职业名称")?, "职业名称")?;
        let work_type = match fields[key::WORK_TYPE as usize].take() {
            Some(v) => Some(text(v, "工种/职业方向")?),
            None => None,
        };
        let mut take = |k: u8, what: &str| {
            fields[k as usize]
                .take()
                .ok_or_else(|| VerifyError::Malformed(format!("缺少字段“{what}”")))
        };
        let level = uint(take(key::LEVEL, "等级")?, "等级")?;
        let level = u8::try_from(level)
            .ok()
            .filter(|l| (1..=5).contains(l))
            .ok_or_else(|| bad("等级应为1至5"))?;
        let ymd = uint(take(key::ISSUED_ON, "发证日期")?, "发证日期")?;
        let issued_on = u32::try_from(ymd)
            .ok()
            .and_then(|v| NaiveDate::from_ymd_opt((v / 10000) as i32, v / 100 % 100, v % 100))
            .ok_or_else(|| bad("发证日期无效"))?;
        let institution = text(take(key::INSTITUTION, "评价机构")?, "评价机构")?;
        let status_index = u32::try_from(uint(take(key::STATUS_INDEX, "状态序号")?, "状态序号")?)
            .map_err(|_| bad("状态序号超出范围"))?;
        let signed_at = i64::try_from(uint(take(key::SIGNED_AT, "签名时间")?, "签名时间")?)
            .map_err(|_| bad("签名时间超出范围"))?;
        Ok(CertificatePayload {
            number,
            name,
            id_type,
            id_masked,
            occupation_code,
            occupation_name,
            work_type,
            level,
            issued_on,
            institution,
            status_index,
            signed_at,
        })
    }
}

#[cfg(test)]
pub(crate) fn sample() -> CertificatePayload {
    CertificatePayload {
        number: "S000041000123265000001".into(),
        name: "张三丰".into(),
        id_type: "居民身份证".into(),
        id_masked: mask_id("11010519491231002X"),
        occupation_code: "6-31-01-03".into(),
        occupation_name: "电工".into(),
        work_type: None,
        level: 4,
        issued_on: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
        institution: "郑州市金水区技能人才评价服务中心".into(),
        status_index: 1234,
        signed_at: 1_796_169_600,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_first_four_and_last_four() {
        assert_eq!(mask_id("11010519491231002X"), "1101**********002X");
        assert_eq!(mask_id("E12345678"), "E123*5678");
        assert_eq!(mask_id("E1234567"), "E******7");
        assert_eq!(mask_id("AB"), "**");
    }

    #[test]
    fn cbor_round_trip_and_is_compact() {
        let mut p = sample();
        let bytes = p.to_cbor();
        assert_eq!(CertificatePayload::from_cbor(&bytes).unwrap(), p);
        assert!(bytes.len() < 130, "payload is {} bytes", bytes.len());
        for m in ["E123*5678", "E******7", "**", "12*4", "1101***002X"] {
            p.id_masked = m.into();
            assert_eq!(
                CertificatePayload::from_cbor(&p.to_cbor())
                    .unwrap()
                    .id_masked,
                m
            );
        }
        p.name = "𠀀乂".into(); // outside GB 2312: still round-trips (GB 18030 4-byte form or UTF-8)
        assert_eq!(
            CertificatePayload::from_cbor(&p.to_cbor()).unwrap().name,
            p.name
        );
        p.work_type = Some("维修电工".into());
        p.id_type = "军官证".into();
        assert_eq!(CertificatePayload::from_cbor(&p.to_cbor()).unwrap(), p);
    }

    #[test]
    fn cbor_rejects_missing_and_unknown_fields() {
        let mut bytes = vec![];
        ciborium::into_writer(
            &Value::Map(vec![(int(1u8), Value::Text("x".into()))]),
            &mut bytes,
        )
        .unwrap();
        let e = CertificatePayload::from_cbor(&bytes).unwrap_err();
        assert!(e.to_string().contains("缺少字段“姓名”"), "{e}");
        let mut bytes = vec![];
        ciborium::into_writer(&Value::Map(vec![(int(40u8), Value::Null)]), &mut bytes).unwrap();
        assert!(CertificatePayload::from_cbor(&bytes).is_err());
    }
}
