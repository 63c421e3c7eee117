//! Accounts (用户账号): creation, lookup within a scope, password changes, lockout state.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use domain::{Role, Scope};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::sql::{Arg, Where};
use crate::{now_text, Page, PageRequest, Result, Store, StoreError};

/// Argon2id cost. Production uses the OWASP minimum; tests use the cheapest legal values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl PasswordParams {
    pub fn production() -> PasswordParams {
        PasswordParams {
            m_cost_kib: 19 * 1024,
            t_cost: 2,
            p_cost: 1,
        }
    }

    pub fn fast_for_tests() -> PasswordParams {
        PasswordParams {
            m_cost_kib: 8,
            t_cost: 1,
            p_cost: 1,
        }
    }

    fn argon(&self) -> Argon2<'static> {
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, None)
            .expect("valid argon2 parameters");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    pub fn hash(&self, password: &str) -> String {
        let salt = SaltString::generate(&mut OsRng);
        self.argon()
            .hash_password(password.as_bytes(), &salt)
            .expect("argon2 hashing cannot fail with valid params")
            .to_string()
    }

    /// Verification reads the parameters from the stored hash itself.
    pub fn verify(password: &str, stored: &str) -> bool {
        match PasswordHash::new(stored) {
            Ok(h) => Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// A platform account.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub district_code: Option<String>,
    pub institution_id: Option<i64>,
    pub employer: String,
    pub phone: String,
    pub must_change_password: bool,
    pub active: bool,
    pub locked_until: Option<String>,
    pub version: i64,
    pub created_at: String,
}

impl Account {
    pub fn scope(&self) -> Scope {
        Scope::for_account(
            self.role,
            self.id,
            self.district_code.as_deref(),
            self.institution_id,
        )
    }

    pub fn is_locked(&self) -> bool {
        self.locked_until
            .as_deref()
            .is_some_and(|t| t > now_text().as_str())
    }
}

pub(crate) const ACCOUNT_COLUMNS: &str = "id, username, display_name, role, district_code, institution_id, employer, phone, must_change_password, active, locked_until, version, created_at";

/// The account columns qualified by a table alias, for joins.
pub(crate) fn account_columns_of(alias: &str) -> String {
    ACCOUNT_COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn account_from_row(r: &AnyRow) -> Result<Account> {
    Ok(Account {
        id: r.get(0),
        username: r.get(1),
        display_name: r.get(2),
        role: Role::parse(&r.get::<String, _>(3)).unwrap_or(Role::Expert),
        district_code: r.get(4),
        institution_id: r.get(5),
        employer: r.get(6),
        phone: r.get(7),
        must_change_password: r.get::<i64, _>(8) != 0,
        active: r.get::<i64, _>(9) != 0,
        locked_until: r.get(10),
        version: r.get(11),
        created_at: r.get(12),
    })
}

/// A new account as validated by the web layer. `Debug` hides the password.
#[derive(Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub district_code: Option<String>,
    pub institution_id: Option<i64>,
    pub employer: String,
    pub phone: String,
    pub password: String,
    pub must_change_password: bool,
}

impl std::fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccount")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("district_code", &self.district_code)
            .field("institution_id", &self.institution_id)
            .field("employer", &self.employer)
            .field("phone", &self.phone)
            .field("password", &crate::HIDDEN)
            .field("must_change_password", &self.must_change_password)
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub q: Option<String>,
    pub role: Option<String>,
    pub district: Option<String>,
    /// Only accounts locked out right now.
    pub locked: bool,
}

/// Restrict a query on `users` to what `scope` may see.
/// The conditions of the account list (also a source of the city center's work queue).
pub(crate) fn account_filter(w: &mut Where, scope: &Scope, f: &UserFilter) {
    scope_users(w, scope);
    w.search(&["username", "display_name", "employer"], f.q.as_deref());
    w.eq_text("role", f.role.as_deref());
    w.eq_text("district_code", f.district.as_deref());
    if f.locked {
        let p = w.arg(Arg::Text(now_text()));
        w.raw(format!("locked_until > {p}"));
    }
}

pub(crate) fn scope_users(w: &mut Where, scope: &Scope) {
    match scope {
        Scope::City => {}
        Scope::District(d) => {
            let p = w.arg(Arg::Text(d.clone()));
            w.raw(format!("district_code = {p}"));
        }
        Scope::Institution(i) => w.eq_int("institution_id", *i),
        Scope::Assigned(uid) => w.eq_int("id", *uid),
    }
}

impl Store {
    pub async fn create_account(&self, actor: &Actor, new: NewAccount) -> Result<Account> {
        let hash = {
            let params = self.passwords;
            let pw = new.password.clone();
            tokio::task::spawn_blocking(move || params.hash(&pw))
                .await
                .map_err(|e| StoreError::Other(e.to_string()))?
        };
        // An institution's users belong to the institution's district.
        let district = match (new.institution_id, &new.district_code) {
            (Some(inst), _) => Some(self.institution_district(inst).await?),
            (None, d) => d.clone(),
        };
        let now = now_text();
        let mut tx = self.db.write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO users (username, display_name, role, district_code, institution_id, employer, phone, password_hash, must_change_password, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {ACCOUNT_COLUMNS}"
        ))
        .bind(&new.username)
        .bind(&new.display_name)
        .bind(new.role.as_str())
        .bind(&district)
        .bind(new.institution_id)
        .bind(&new.employer)
        .bind(&new.phone)
        .bind(&hash)
        .bind(new.must_change_password as i64)
        .bind(actor.user_id)
        .bind(&now)
        .bind(&now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| StoreError::unique(e, "该用户名已被使用"))?;
        let account = account_from_row(&row)?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "user.create",
                object_type: "user",
                object_id: account.id.to_string(),
                summary: serde_json::json!({
                    "username": account.username, "role": account.role.as_str(),
                    "district": account.district_code, "institution": account.institution_id,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    pub async fn account_by_username(&self, username: &str) -> Result<Option<(Account, String)>> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS}, password_hash FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.db.pool)
        .await?;
        row.map(|r| Ok((account_from_row(&r)?, r.get::<String, _>(13))))
            .transpose()
    }

    /// One account, if `scope` may see it. Out of scope looks exactly like absent (404).
    pub async fn account(&self, scope: &Scope, id: i64) -> Result<Account> {
        let mut w = Where::new();
        w.eq_int("id", id);
        scope_users(&mut w, scope);
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {ACCOUNT_COLUMNS} FROM users"),
                "id",
                PageRequest::new(Some(1), Some(1)),
            )
            .await?;
        rows.first()
            .map(account_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    pub async fn list_accounts(
        &self,
        scope: &Scope,
        f: &UserFilter,
        page: PageRequest,
    ) -> Result<Page<Account>> {
        let mut w = Where::new();
        account_filter(&mut w, scope, f);
        w.fetch_page(
            &self.db,
            ACCOUNT_COLUMNS,
            "users",
            "id",
            page,
            account_from_row,
        )
        .await
    }

    /// Set a new password (own change or an admin reset); ends the account's other sessions.
    pub async fn set_password(
        &self,
        actor: &Actor,
        user_id: i64,
        password: &str,
        must_change: bool,
        keep_session: Option<&str>,
    ) -> Result<()> {
        let params = self.passwords;
        let pw = password.to_string();
        let hash = tokio::task::spawn_blocking(move || params.hash(&pw))
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?;
        let mut tx = self.db.write().await?;
        let n = sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2, failed_logins = 0, locked_until = NULL, version = version + 1, updated_at = $3 WHERE id = $4",
        )
        .bind(&hash)
        .bind(must_change as i64)
        .bind(now_text())
        .bind(user_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(keep_session.unwrap_or(""))
            .execute(tx.conn())
            .await?;
        let action = if actor.user_id == Some(user_id) {
            "user.password_change"
        } else {
            "user.password_reset"
        };
        append(
            &mut tx,
            actor,
            NewEvent {
                action,
                object_type: "user",
                object_id: user_id.to_string(),
                summary: serde_json::json!({ "must_change": must_change }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Activate/deactivate or unlock an account, with an optimistic version check.
    pub async fn update_account_state(
        &self,
        actor: &Actor,
        user_id: i64,
        expected_version: i64,
        active: Option<bool>,
        unlock: bool,
    ) -> Result<()> {
        let mut tx = self.db.write().await?;
        let mut sets = vec![
            "version = version + 1".to_string(),
            "updated_at = $1".to_string(),
        ];
        if let Some(a) = active {
            sets.push(format!("active = {}", a as i64));
        }
        if unlock {
            sets.push("locked_until = NULL".into());
            sets.push("failed_logins = 0".into());
        }
        let n = sqlx::query(&format!(
            "UPDATE users SET {} WHERE id = $2 AND version = $3",
            sets.join(", ")
        ))
        .bind(now_text())
        .bind(user_id)
        .bind(expected_version)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        if active == Some(false) {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(tx.conn())
                .await?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "user.state",
                object_type: "user",
                object_id: user_id.to_string(),
                summary: serde_json::json!({ "active": active, "unlock": unlock }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// How many accounts `scope` sees.
    pub async fn count_accounts_in(&self, scope: &Scope) -> Result<i64> {
        let mut w = Where::new();
        scope_users(&mut w, scope);
        w.count(&self.db, "users").await
    }

    pub async fn count_accounts(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM users")
            .fetch_one(&self.db.pool)
            .await?
            .get(0))
    }
}
