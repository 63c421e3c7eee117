//! Account rules: user names and passwords.

/// A form field that failed validation, with a Chinese message naming it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> FieldError {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

pub const MIN_PASSWORD_LEN: usize = 10;

/// 3–40 characters of lower-case letters, digits, `-`, `_` and `.`.
pub fn validate_username(name: &str) -> Result<(), FieldError> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if name.len() < 3 || name.len() > 40 || !ok_chars {
        return Err(FieldError::new(
            "username",
            "用户名须为 3–40 位小写字母、数字、“-”“_”或“.”",
        ));
    }
    Ok(())
}

/// At least ten characters, not all of one class, and not the user name.
pub fn validate_password(username: &str, password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(FieldError::new(
            "password",
            format!("密码至少 {MIN_PASSWORD_LEN} 位"),
        ));
    }
    if n > 128 {
        return Err(FieldError::new("password", "密码不能超过 128 位"));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(FieldError::new("password", "密码不能与用户名相同"));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|b| **b).count() < 2 {
        return Err(FieldError::new(
            "password",
            "密码须包含字母、数字、符号中的至少两类",
        ));
    }
    Ok(())
}

/// A required text field, trimmed, with a length limit.
pub fn required_text(
    field: &'static str,
    label: &str,
    value: &str,
    max_chars: usize,
) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, format!("请填写{label}")));
    }
    if v.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            format!("{label}不能超过 {max_chars} 个字"),
        ));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(validate_username("district-410105").is_ok());
        assert_eq!(validate_username("ab").unwrap_err().field, "username");
        assert!(validate_username("Admin").is_err());
        assert!(validate_username("a b c").is_err());
    }

    #[test]
    fn passwords() {
        assert!(validate_password("admin", "demo-password").is_ok());
        assert!(validate_password("admin", "short1").is_err());
        assert!(validate_password("admin", "aaaaaaaaaaaa").is_err());
        assert!(validate_password("longusername1", "LongUserName1").is_err());
    }

    #[test]
    fn required_text_trims_and_limits() {
        assert_eq!(required_text("name", "名称", "  甲 ", 10).unwrap(), "甲");
        assert_eq!(
            required_text("name", "名称", " ", 10).unwrap_err().message,
            "请填写名称"
        );
        assert!(required_text("name", "名称", "一二三", 2).is_err());
    }
}
