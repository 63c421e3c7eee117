//! Inputs shared by the pages and the API, and their validation into store types.

use domain::account::{required_text, FieldError};
use domain::credit_code::CreditCode;
use domain::institution::InstitutionKind;
use serde::Deserialize;
use store::{Division, InstitutionInput};

/// An institution profile as submitted (form fields are text; the API sends numbers as text or numbers).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct InstitutionForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub credit_code: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default, deserialize_with = "opt_text")]
    pub legal_person: Option<String>,
    #[serde(default, deserialize_with = "text_or_number")]
    pub employees: String,
    #[serde(default, deserialize_with = "text_or_number")]
    pub capital_yuan: String,
    #[serde(default)]
    pub business_scope: String,
    #[serde(default)]
    pub reg_address: String,
    #[serde(default)]
    pub reg_district: String,
    #[serde(default)]
    pub biz_address: String,
    #[serde(default)]
    pub biz_district: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    /// Optimistic version check for updates.
    #[serde(default, deserialize_with = "text_or_number")]
    pub version: String,
}

fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        S(String),
        I(i64),
        F(f64),
        B(bool),
    }
    Ok(match V::deserialize(d)? {
        V::S(s) => s,
        V::I(i) => i.to_string(),
        V::F(f) => f.to_string(),
        V::B(b) => b.to_string(),
    })
}

fn opt_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

fn whole_number(field: &'static str, label: &str, v: &str) -> Result<i64, FieldError> {
    let v = v.trim().replace(',', "");
    if v.is_empty() {
        return Ok(0);
    }
    match v.parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(FieldError::new(
            field,
            format!("{label}须为不小于 0 的整数"),
        )),
    }
}

fn district(
    field: &'static str,
    label: &str,
    code: &str,
    districts: &[Division],
) -> Result<String, FieldError> {
    districts
        .iter()
        .find(|d| d.code == code.trim())
        .map(|d| d.code.clone())
        .ok_or_else(|| FieldError::new(field, format!("请选择{label}所在的区县（市）")))
}

fn flag(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("on" | "true" | "1" | "yes"))
}

impl InstitutionForm {
    pub fn validate(&self, districts: &[Division]) -> Result<InstitutionInput, FieldError> {
        let name = required_text("name", "机构名称", &self.name, 100)?;
        let credit_code = CreditCode::parse(&self.credit_code)
            .map_err(|e| FieldError::new("credit_code", e.to_string()))?
            .as_str()
            .to_string();
        let kind = InstitutionKind::parse(self.kind.trim())
            .ok_or_else(|| FieldError::new("kind", "请选择机构类型"))?;
        let employees = whole_number("employees", "在册职工人数", &self.employees)?;
        let capital_yuan = whole_number("capital_yuan", "注册资本（元）", &self.capital_yuan)?;
        let reg_address = required_text("reg_address", "注册地址", &self.reg_address, 200)?;
        let reg_district = district("reg_district", "注册地址", &self.reg_district, districts)?;
        let biz_district = if self.biz_district.trim().is_empty() {
            reg_district.clone()
        } else {
            district("biz_district", "经营地址", &self.biz_district, districts)?
        };
        let contact_phone = self.contact_phone.trim().to_string();
        if !contact_phone.is_empty()
            && !(contact_phone.len() >= 7
                && contact_phone.len() <= 20
                && contact_phone
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-'))
        {
            return Err(FieldError::new(
                "contact_phone",
                "联系电话只能包含数字和“-”，7–20 位",
            ));
        }
        Ok(InstitutionInput {
            name,
            credit_code,
            kind: kind.as_str().into(),
            legal_person: flag(&self.legal_person),
            employees,
            capital_yuan,
            business_scope: self.business_scope.trim().chars().take(500).collect(),
            reg_address,
            reg_district,
            biz_address: self.biz_address.trim().chars().take(200).collect(),
            biz_district,
            contact_name: self.contact_name.trim().chars().take(50).collect(),
            contact_phone,
        })
    }

    pub fn expected_version(&self) -> Result<i64, FieldError> {
        self.version
            .trim()
            .parse()
            .map_err(|_| FieldError::new("version", "缺少版本号，请刷新页面后重试"))
    }
}

impl From<&store::Institution> for InstitutionForm {
    fn from(i: &store::Institution) -> Self {
        InstitutionForm {
            name: i.name.clone(),
            credit_code: i.credit_code.clone(),
            kind: i.kind.as_str().into(),
            legal_person: i.legal_person.then(|| "on".to_string()),
            employees: i.employees.to_string(),
            capital_yuan: i.capital_yuan.to_string(),
            business_scope: i.business_scope.clone(),
            reg_address: i.reg_address.clone(),
            reg_district: i.reg_district.clone(),
            biz_address: i.biz_address.clone(),
            biz_district: i.biz_district.clone(),
            contact_name: i.contact_name.clone(),
            contact_phone: i.contact_phone.clone(),
            version: i.version.to_string(),
        }
    }
}
