/// The one error type of the store layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("记录不存在")]
    NotFound,
    /// Optimistic version check failed: someone else changed the record first.
    #[error("该记录已被他人修改，请刷新后重试")]
    Conflict,
    /// A unique constraint: names the field in Chinese.
    #[error("{0}")]
    Duplicate(String),
    #[error("{0}")]
    Invalid(String),
    #[error("数据库错误: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// Map a unique-constraint violation to a message naming the field; pass others through.
    pub(crate) fn unique(err: sqlx::Error, message: &str) -> StoreError {
        if let sqlx::Error::Database(db) = &err {
            let code = db.code().unwrap_or_default();
            // 23505: PostgreSQL unique_violation; 2067/1555: SQLite UNIQUE/PRIMARY KEY.
            if code == "23505"
                || code == "2067"
                || code == "1555"
                || db.message().contains("UNIQUE")
            {
                return StoreError::Duplicate(message.to_string());
            }
        }
        StoreError::Db(err)
    }
}
