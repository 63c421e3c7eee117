//! 基础数据: administrative divisions (行政区划), the occupation catalogue (国家职业分类大典 2022)
//! and 专项职业能力 items. Admins edit them; these parsers read the import formats and the
//! starter set shipped in `data/`.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::occupation::{levels_to_string, parse_levels, Level, OccupationCode};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// A problem on one line of an import (1-based line number).
    #[error("第{line}行：{message}")]
    Line { line: usize, message: String },
    #[error("{0}")]
    Invalid(String),
}

fn line_err(line: usize, message: impl Into<String>) -> ReferenceError {
    ReferenceError::Line {
        line,
        message: message.into(),
    }
}

/// 区划类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DivisionKind {
    /// 市
    City,
    /// 市辖区
    District,
    /// 县
    County,
    /// 县级市
    CountyCity,
    /// 开发区（含郑东新区、航空港区）
    DevZone,
}

impl DivisionKind {
    pub const ALL: [DivisionKind; 5] = [
        DivisionKind::City,
        DivisionKind::District,
        DivisionKind::County,
        DivisionKind::CountyCity,
        DivisionKind::DevZone,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DivisionKind::City => "city",
            DivisionKind::District => "district",
            DivisionKind::County => "county",
            DivisionKind::CountyCity => "county_city",
            DivisionKind::DevZone => "dev_zone",
        }
    }

    pub fn parse(s: &str) -> Option<DivisionKind> {
        Some(match s.trim() {
            "city" => DivisionKind::City,
            "district" => DivisionKind::District,
            "county" => DivisionKind::County,
            "county_city" => DivisionKind::CountyCity,
            "dev_zone" => DivisionKind::DevZone,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            DivisionKind::City => "市",
            DivisionKind::District => "区",
            DivisionKind::County => "县",
            DivisionKind::CountyCity => "县级市",
            DivisionKind::DevZone => "开发区",
        }
    }
}

/// 行政区划 record. `code` is the platform's key: the official code where one exists,
/// an internal id otherwise (郑东新区 → "zdxq").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DivisionRecord {
    pub code: String,
    pub name: String,
    pub kind: DivisionKind,
    /// 民政部区划代码 or 统计用区划代码; `None` where there is none.
    pub official_code: Option<String>,
    pub sort: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDivisions {
    #[serde(default)]
    division: Vec<RawDivision>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDivision {
    code: String,
    name: String,
    kind: String,
    official_code: Option<String>,
    sort: i64,
}

/// Parses `data/divisions.toml` (`[[division]] code name kind official_code? sort`).
/// Exactly one `city`; codes unique; official codes are 6 digits.
pub fn parse_divisions(text: &str) -> Result<Vec<DivisionRecord>, ReferenceError> {
    let raw: RawDivisions = toml::from_str(text)
        .map_err(|e| ReferenceError::Invalid(format!("区划文件格式错误：{}", e.message())))?;
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(raw.division.len());
    for (i, r) in raw.division.into_iter().enumerate() {
        let n = i + 1;
        let code = r.code.trim().to_string();
        let name = r.name.trim().to_string();
        if code.is_empty() || name.is_empty() {
            return Err(ReferenceError::Invalid(format!(
                "第{n}个区划缺少代码或名称"
            )));
        }
        let kind = DivisionKind::parse(&r.kind).ok_or_else(|| {
            ReferenceError::Invalid(format!("区划“{name}”的类型“{}”无效", r.kind))
        })?;
        let official_code = r
            .official_code
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        if let Some(oc) = &official_code {
            if oc.len() != 6 || !oc.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ReferenceError::Invalid(format!(
                    "区划“{name}”的官方代码“{oc}”应为6位数字"
                )));
            }
        }
        if !seen.insert(code.clone()) {
            return Err(ReferenceError::Invalid(format!("区划代码“{code}”重复")));
        }
        out.push(DivisionRecord {
            code,
            name,
            kind,
            official_code,
            sort: r.sort,
        });
    }
    let cities = out.iter().filter(|d| d.kind == DivisionKind::City).count();
    if cities != 1 {
        return Err(ReferenceError::Invalid(format!(
            "区划数据应有且仅有一个市级（city）记录，实际为{cities}个"
        )));
    }
    out.sort_by_key(|d| d.sort);
    Ok(out)
}

/// 目录条目类型: an occupation of the 大典, or a 专项职业能力 item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// 职业（工种）
    Occupation,
    /// 专项职业能力
    Special,
}

impl ItemKind {
    pub const ALL: [ItemKind; 2] = [ItemKind::Occupation, ItemKind::Special];
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Occupation => "occupation",
            ItemKind::Special => "special",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ItemKind::Occupation => "职业（工种）",
            ItemKind::Special => "专项职业能力",
        }
    }
}

/// One catalogue row. `confirmed` is false for rows marked 待核对 (to be checked against the 大典).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OccupationRecord {
    pub code: String,
    pub name: String,
    pub kind: ItemKind,
    /// Levels offered, lowest first; empty for 专项职业能力.
    pub levels: Vec<Level>,
    pub confirmed: bool,
}

pub const OCCUPATION_CSV_HEADER: &str = "code,name,kind,levels,status";
const STATUS_CONFIRMED: &str = "confirmed";
const STATUS_UNCHECKED: &str = "待核对";

/// Splits one CSV line; double quotes protect commas (`"5,4,3"`), `""` is a literal quote.
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => in_quotes = false,
            ('"', false) if cur.trim().is_empty() => {
                cur.clear();
                in_quotes = true
            }
            (',', false) => fields.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if in_quotes {
        return Err("引号未闭合".into());
    }
    fields.push(cur);
    Ok(fields.into_iter().map(|f| f.trim().to_string()).collect())
}

/// Parses the catalogue CSV (`code,name,kind,levels,status`), as in `data/occupations.csv`
/// and `data/special_abilities.csv`. Tolerates a UTF-8 BOM, CRLF and blank lines. `levels`
/// is quoted ("5,4,3") or separated by `;`/spaces. `status` is `confirmed` or `待核对`.
/// Errors name the line. Codes must be unique.
pub fn parse_occupations(csv_text: &str) -> Result<Vec<OccupationRecord>, ReferenceError> {
    let text = csv_text.strip_prefix('\u{feff}').unwrap_or(csv_text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let (hline, header) = lines
        .next()
        .ok_or_else(|| ReferenceError::Invalid("职业目录文件为空".into()))?;
    let header: Vec<String> = split_csv_line(header).map_err(|m| line_err(hline, m))?;
    if header.join(",") != OCCUPATION_CSV_HEADER {
        return Err(line_err(
            hline,
            format!("表头应为“{OCCUPATION_CSV_HEADER}”"),
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (n, line) in lines {
        let f = split_csv_line(line).map_err(|m| line_err(n, m))?;
        if f.len() != 5 {
            return Err(line_err(n, format!("应有5列，实际为{}列", f.len())));
        }
        let (code, name, kind, levels, status) = (&f[0], &f[1], &f[2], &f[3], &f[4]);
        if name.is_empty() {
            return Err(line_err(n, "名称不能为空"));
        }
        let kind = match kind.as_str() {
            "occupation" => ItemKind::Occupation,
            "special" => ItemKind::Special,
            other => {
                return Err(line_err(
                    n,
                    format!("类型“{other}”无效，应为 occupation 或 special"),
                ))
            }
        };
        let levels = parse_levels(levels).map_err(|e| line_err(n, e.message))?;
        let code = match kind {
            ItemKind::Occupation => {
                let c = OccupationCode::parse(code).map_err(|e| line_err(n, e.message))?;
                if levels.is_empty() {
                    return Err(line_err(n, format!("职业“{name}”未填写可评价等级")));
                }
                c.as_str().to_string()
            }
            ItemKind::Special => {
                if code.is_empty() || code.chars().any(char::is_whitespace) {
                    return Err(line_err(n, "专项职业能力编码不能为空或包含空格"));
                }
                if !levels.is_empty() {
                    return Err(line_err(n, "专项职业能力不分等级，等级列应为空"));
                }
                code.clone()
            }
        };
        let confirmed = match status.as_str() {
            STATUS_CONFIRMED => true,
            STATUS_UNCHECKED => false,
            other => {
                return Err(line_err(
                    n,
                    format!("状态“{other}”无效，应为 confirmed 或 待核对"),
                ))
            }
        };
        if !seen.insert(code.clone()) {
            return Err(line_err(n, format!("编码“{code}”重复")));
        }
        out.push(OccupationRecord {
            code,
            name: name.clone(),
            kind,
            levels,
            confirmed,
        });
    }
    Ok(out)
}

/// Writes records in the format [`parse_occupations`] reads (for the admin's download).
pub fn occupations_to_csv(records: &[OccupationRecord]) -> String {
    let mut out = String::from(OCCUPATION_CSV_HEADER);
    out.push('\n');
    for r in records {
        let levels = levels_to_string(&r.levels);
        let levels = if levels.contains(',') {
            format!("\"{levels}\"")
        } else {
            levels
        };
        let name = if r.name.contains([',', '"']) {
            format!("\"{}\"", r.name.replace('"', "\"\""))
        } else {
            r.name.clone()
        };
        let status = if r.confirmed {
            STATUS_CONFIRMED
        } else {
            STATUS_UNCHECKED
        };
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            r.code,
            name,
            r.kind.as_str(),
            levels,
            status
        ));
    }
    out
}

const DIVISIONS: &str = include_str!("../../../data/divisions.toml");
const OCCUPATIONS: &str = include_str!("../../../data/occupations.csv");
const SPECIAL_ABILITIES: &str = include_str!("../../../data/special_abilities.csv");

/// The starter divisions shipped in `data/divisions.toml` (for seeding).
pub fn builtin_divisions() -> Vec<DivisionRecord> {
    parse_divisions(DIVISIONS).expect("data/divisions.toml is valid")
}

/// The starter occupations shipped in `data/occupations.csv`.
pub fn builtin_occupations() -> Vec<OccupationRecord> {
    parse_occupations(OCCUPATIONS).expect("data/occupations.csv is valid")
}

/// The starter 专项职业能力 items shipped in `data/special_abilities.csv`.
pub fn builtin_special_abilities() -> Vec<OccupationRecord> {
    parse_occupations(SPECIAL_ABILITIES).expect("data/special_abilities.csv is valid")
}

crate::impl_code!(DivisionKind, "区划类型");
crate::impl_code!(ItemKind, "目录条目类型");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisions_file_has_city_and_all_sixteen_districts() {
        let d = parse_divisions(DIVISIONS).unwrap();
        assert_eq!(d.len(), 17);
        assert_eq!(d[0].code, "410100");
        assert_eq!(d[0].kind, DivisionKind::City);
        let county_level = d
            .iter()
            .filter(|x| {
                matches!(
                    x.kind,
                    DivisionKind::District | DivisionKind::County | DivisionKind::CountyCity
                )
            })
            .count();
        assert_eq!(county_level, 12);
        let zones: Vec<_> = d
            .iter()
            .filter(|x| x.kind == DivisionKind::DevZone)
            .collect();
        assert_eq!(zones.len(), 4);
        let zd = d.iter().find(|x| x.name == "郑东新区").unwrap();
        assert_eq!(zd.code, "zdxq");
        assert_eq!(zd.official_code, None);
        let gy = d.iter().find(|x| x.code == "410181").unwrap();
        assert_eq!(
            (gy.name.as_str(), gy.kind),
            ("巩义市", DivisionKind::CountyCity)
        );
        let ec = d.iter().find(|x| x.code == "410173").unwrap();
        assert_eq!(ec.name, "郑州航空港经济综合实验区");
        assert_eq!(ec.official_code.as_deref(), Some("410173"));
    }

    #[test]
    fn divisions_reject_bad_records() {
        let dup = "[[division]]\ncode = \"410100\"\nname = \"郑州市\"\nkind = \"city\"\nsort = 0\n[[division]]\ncode = \"410100\"\nname = \"x\"\nkind = \"district\"\nsort = 1\n";
        assert!(parse_divisions(dup)
            .unwrap_err()
            .to_string()
            .contains("重复"));
        let bad_kind =
            "[[division]]\ncode = \"410100\"\nname = \"郑州市\"\nkind = \"town\"\nsort = 0\n";
        assert!(parse_divisions(bad_kind)
            .unwrap_err()
            .to_string()
            .contains("类型“town”无效"));
        let no_city =
            "[[division]]\ncode = \"410102\"\nname = \"中原区\"\nkind = \"district\"\nsort = 0\n";
        assert!(parse_divisions(no_city)
            .unwrap_err()
            .to_string()
            .contains("市级"));
        let bad_official = "[[division]]\ncode = \"410100\"\nname = \"郑州市\"\nkind = \"city\"\nofficial_code = \"4101\"\nsort = 0\n";
        assert!(parse_divisions(bad_official)
            .unwrap_err()
            .to_string()
            .contains("6位数字"));
    }

    #[test]
    fn occupations_file_has_confirmed_pairs() {
        let o = parse_occupations(OCCUPATIONS).unwrap();
        assert!(o.len() >= 30, "{}", o.len());
        let confirmed: Vec<(&str, &str)> = o
            .iter()
            .filter(|r| r.confirmed)
            .map(|r| (r.code.as_str(), r.name.as_str()))
            .collect();
        assert_eq!(
            confirmed,
            vec![
                ("6-31-01-03", "电工"),
                ("6-18-02-04", "焊工"),
                ("6-20-01-01", "钳工"),
                ("4-03-02-01", "中式烹调师"),
                ("4-03-02-02", "中式面点师"),
                ("4-10-01-06", "家政服务员"),
                ("4-01-02-07", "互联网营销师"),
                ("4-10-03-01", "美容师"),
            ]
        );
        assert!(o
            .iter()
            .all(|r| r.kind == ItemKind::Occupation && !r.levels.is_empty()));
        let cook = &o[3];
        assert_eq!(cook.levels, Level::ALL.to_vec());
    }

    #[test]
    fn special_abilities_file_parses_without_levels() {
        let s = parse_occupations(SPECIAL_ABILITIES).unwrap();
        assert!((5..=8).contains(&s.len()));
        assert!(s
            .iter()
            .all(|r| r.kind == ItemKind::Special && r.levels.is_empty() && !r.confirmed));
        assert_eq!(s[0].code, "ZX-41-001");
        assert_eq!(s[0].name, "烩面制作");
    }

    #[test]
    fn occupations_csv_handles_bom_crlf_and_blank_lines() {
        let text = "\u{feff}code,name,kind,levels,status\r\n\r\n4-03-02-01,中式烹调师,occupation,\"5,4,3\",confirmed\r\n\n6-18-02-04,焊工,occupation,5;4,待核对\r\n";
        let o = parse_occupations(text).unwrap();
        assert_eq!(o.len(), 2);
        assert_eq!(o[0].levels, vec![Level::Five, Level::Four, Level::Three]);
        assert_eq!(o[1].levels, vec![Level::Five, Level::Four]);
        assert!(!o[1].confirmed);
    }

    #[test]
    fn occupations_csv_errors_name_the_line() {
        let h = "code,name,kind,levels,status\n";
        let cases = [
            (
                format!("{h}4-3-2-1,电工,occupation,5,confirmed\n"),
                "第2行：",
                "格式不正确",
            ),
            (
                format!("{h}\n4-03-02-01,中式烹调师,occupation,\"5,6\",confirmed\n"),
                "第3行：",
                "“6”",
            ),
            (
                format!("{h}4-03-02-01,中式烹调师,occupation,,confirmed\n"),
                "第2行：",
                "未填写可评价等级",
            ),
            (
                format!("{h}ZX-41-001,烩面制作,special,5,待核对\n"),
                "第2行：",
                "不分等级",
            ),
            (
                format!("{h}4-03-02-01,中式烹调师,occupation,5,maybe\n"),
                "第2行：",
                "状态",
            ),
            (
                format!("{h}4-03-02-01,中式烹调师,job,5,confirmed\n"),
                "第2行：",
                "类型",
            ),
            (
                format!("{h}4-03-02-01,中式烹调师,occupation,5\n"),
                "第2行：",
                "应有5列",
            ),
            (
                format!(
                    "{h}4-03-02-01,a,occupation,5,confirmed\n4-03-02-01,b,occupation,5,confirmed\n"
                ),
                "第3行：",
                "重复",
            ),
            (
                format!("{h}4-03-02-01,a,occupation,\"5,4,confirmed\n"),
                "第2行：",
                "引号",
            ),
            ("code,name,level,status\n".to_string(), "第1行：", "表头"),
        ];
        for (text, line, what) in cases {
            let e = parse_occupations(&text).unwrap_err().to_string();
            assert!(
                e.starts_with(line) && e.contains(what),
                "{e} (expected {line} {what})"
            );
        }
        assert!(parse_occupations("").is_err());
    }

    #[test]
    fn occupations_csv_round_trips() {
        let mut all = builtin_occupations();
        all.extend(builtin_special_abilities());
        let again = parse_occupations(&occupations_to_csv(&all)).unwrap();
        assert_eq!(again, all);
    }
}
