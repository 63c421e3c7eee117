//! Login with throttling and lockout, database-backed sessions (any app server can serve any
//! request), and API tokens for system-to-system use. Only SHA-256 digests of tokens are stored.

use chrono::{Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::accounts::{account_columns_of, account_from_row, Account, PasswordParams};
use crate::audit::{append, Actor, NewEvent};
use crate::{now_text, time_text, Result, Store, StoreError};

/// Limits on guessing passwords.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Consecutive failures that lock an account.
    pub max_failures: i64,
    pub lockout_minutes: i64,
    /// Failures from one client address within the window before it is throttled.
    pub max_failures_per_addr: i64,
    pub window_minutes: i64,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            max_failures: 5,
            lockout_minutes: 15,
            max_failures_per_addr: 30,
            window_minutes: 15,
        }
    }
}

#[derive(Debug)]
pub enum LoginOutcome {
    Ok(Account),
    BadCredentials,
    Locked { until: String },
    Inactive,
    Throttled,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub token_hash: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub user_id: i64,
    pub username: String,
    /// The role the token acts in: it works only while its account holds this role.
    pub role: Option<domain::Role>,
    /// The district the token is limited to (its account's district).
    pub district_code: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{prefix}{}", hex::encode(bytes))
}

/// A hash to verify against when the user does not exist, so that a login costs the same
/// whether it does or not: made once per parameter set, with the very parameters real hashes use.
fn dummy_hash(params: PasswordParams) -> String {
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<Vec<(PasswordParams, String)>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some((_, h)) = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(p, _)| *p == params)
    {
        return h.clone();
    }
    let h = params.hash("skilleval: no such user");
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((params, h.clone()));
    h
}

impl Store {
    /// Check a user name and password. Both an unknown user and a known one cost one password
    /// verification with the store's parameters and the same statements. A failure is counted
    /// *before* the password is verified, by one conditional statement that also refuses when
    /// the account is locked or its failures are used up, so concurrent guesses cannot exceed
    /// `max_failures`; a success gives the attempt back.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        actor: &Actor,
        limits: LoginLimits,
    ) -> Result<LoginOutcome> {
        let now = Utc::now();
        let now_s = time_text(now);
        let window_start = time_text(now - Duration::minutes(limits.window_minutes));
        let addr_failures: i64 =
            sqlx::query("SELECT COUNT(*) FROM login_failures WHERE client_addr = $1 AND at > $2")
                .bind(&actor.client_addr)
                .bind(&window_start)
                .fetch_one(&self.db.pool)
                .await?
                .get(0);
        if addr_failures >= limits.max_failures_per_addr {
            return Ok(LoginOutcome::Throttled);
        }
        let found = self.account_by_username(username).await?;
        // Claim an attempt: counted now, given back on success. The WHERE clause is the
        // lockout check, atomic with the count.
        let claimed = {
            let mut tx = self.db.write().await?;
            let row = sqlx::query(
                "UPDATE users SET failed_logins = failed_logins + 1 \
                 WHERE username = $1 AND (locked_until IS NULL OR locked_until <= $2) AND failed_logins < $3 \
                 RETURNING id",
            )
            .bind(username)
            .bind(&now_s)
            .bind(limits.max_failures)
            .fetch_optional(tx.conn())
            .await?;
            tx.commit().await?;
            row.is_some()
        };
        if let Some((a, _)) = &found {
            if !claimed {
                // Locked, or the last attempts are being verified right now.
                let until = a
                    .locked_until
                    .clone()
                    .filter(|u| u.as_str() > now_s.as_str())
                    .unwrap_or_else(|| time_text(now + Duration::minutes(limits.lockout_minutes)));
                return Ok(LoginOutcome::Locked { until });
            }
        }
        let stored = match &found {
            Some((_, h)) => h.clone(),
            None => dummy_hash(self.passwords),
        };
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || PasswordParams::verify(&pw, &stored))
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?;
        let mut tx = self.db.write().await?;
        let Some(account) = found.map(|(a, _)| a).filter(|_| ok) else {
            // Wrong password or unknown user: the attempt stays counted. The statements are the
            // same for both (they touch no row for an unknown user).
            sqlx::query(
                "INSERT INTO login_failures (username, client_addr, at) VALUES ($1, $2, $3)",
            )
            .bind(username)
            .bind(&actor.client_addr)
            .bind(&now_s)
            .execute(tx.conn())
            .await?;
            // Failures older than the window count for nothing: prune them.
            sqlx::query("DELETE FROM login_failures WHERE at < $1")
                .bind(&window_start)
                .execute(tx.conn())
                .await?;
            let until = time_text(now + Duration::minutes(limits.lockout_minutes));
            // The attempt that used up the failures locks the account, once.
            let locked = sqlx::query(
                "UPDATE users SET locked_until = $1, failed_logins = 0 \
                 WHERE username = $2 AND failed_logins >= $3 RETURNING id",
            )
            .bind(&until)
            .bind(username)
            .bind(limits.max_failures)
            .fetch_optional(tx.conn())
            .await?;
            let mut outcome = LoginOutcome::BadCredentials;
            if let Some(r) = locked {
                let id: i64 = r.get(0);
                append(
                    &mut tx,
                    actor,
                    NewEvent {
                        action: "auth.lockout",
                        object_type: "user",
                        object_id: id.to_string(),
                        summary: serde_json::json!({ "failures": limits.max_failures, "until": until }),
                    },
                )
                .await?;
                outcome = LoginOutcome::Locked { until };
            }
            tx.commit().await?;
            return Ok(outcome);
        };
        if !account.active {
            // The attempt was not a guess: give it back.
            sqlx::query("UPDATE users SET failed_logins = 0 WHERE id = $1")
                .bind(account.id)
                .execute(tx.conn())
                .await?;
            tx.commit().await?;
            return Ok(LoginOutcome::Inactive);
        }
        // A concurrent failure may have locked the account after this attempt was admitted;
        // the right password within the allowed attempts wins.
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(account.id)
            .execute(tx.conn())
            .await?;
        let actor = Actor {
            user_id: Some(account.id),
            username: account.username.clone(),
            role: account.role.as_str().into(),
            ..actor.clone()
        };
        append(
            &mut tx,
            &actor,
            NewEvent {
                action: "auth.login",
                object_type: "user",
                object_id: account.id.to_string(),
                summary: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(LoginOutcome::Ok(account))
    }

    /// Start a session; returns the cookie value (only its digest is stored).
    pub async fn create_session(
        &self,
        user_id: i64,
        ttl: Duration,
        client_addr: &str,
        user_agent: &str,
    ) -> Result<(String, SessionInfo)> {
        let token = new_token("");
        let info = SessionInfo {
            token_hash: token_digest(&token),
            expires_at: time_text(Utc::now() + ttl),
        };
        let ua: String = user_agent.chars().take(200).collect();
        let mut tx = self.db.write().await?;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at, client_addr, user_agent) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&info.token_hash)
            .bind(user_id)
            .bind(now_text())
            .bind(&info.expires_at)
            .bind(client_addr)
            .bind(ua)
            .execute(tx.conn())
            .await?;
        // Expired sessions are swept as new ones start: no separate job is needed.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now_text())
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok((token, info))
    }

    /// The account behind a session cookie, if the session is live and the account active.
    pub async fn session_account(&self, token: &str) -> Result<Option<(Account, SessionInfo)>> {
        let digest = token_digest(token);
        let cols = account_columns_of("u");
        let row = sqlx::query(&format!(
            "SELECT {cols}, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1"
        ))
        .bind(&digest)
        .bind(now_text())
        .fetch_optional(&self.db.pool)
        .await?;
        row.map(|r| {
            Ok((
                account_from_row(&r)?,
                SessionInfo {
                    token_hash: digest,
                    expires_at: r.get(13),
                },
            ))
        })
        .transpose()
    }

    pub async fn end_session(&self, actor: &Actor, token_hash: &str) -> Result<()> {
        let mut tx = self.db.write().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(tx.conn())
            .await?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "auth.logout",
                object_type: "user",
                object_id: actor.user_id.unwrap_or_default().to_string(),
                summary: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Issue an API token for `user_id`, scoped to the account's role and district; the plain
    /// token is shown once and never stored. Returns the token and its id.
    pub async fn issue_api_token(
        &self,
        actor: &Actor,
        user_id: i64,
        name: &str,
        valid_days: Option<i64>,
    ) -> Result<(String, i64)> {
        let token = new_token("sev_");
        let expires = valid_days.map(|d| time_text(Utc::now() + Duration::days(d)));
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query("INSERT INTO api_tokens (token_hash, name, user_id, created_by, created_at, expires_at, role, district_code) SELECT $1, $2, u.id, $3, $4, $5, u.role, u.district_code FROM users u WHERE u.id = $6 RETURNING id")
            .bind(token_digest(&token))
            .bind(name)
            .bind(actor.user_id.unwrap_or_default())
            .bind(now_text())
            .bind(&expires)
            .bind(user_id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::NotFound)?
            .get(0);
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "token.issue",
                object_type: "api_token",
                object_id: id.to_string(),
                summary: serde_json::json!({ "name": name, "user_id": user_id, "expires_at": expires }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((token, id))
    }

    pub async fn revoke_api_token(&self, actor: &Actor, id: i64) -> Result<()> {
        let mut tx = self.db.write().await?;
        let n = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now_text())
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "token.revoke",
                object_type: "api_token",
                object_id: id.to_string(),
                summary: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await
    }

    pub async fn list_api_tokens(&self) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, t.user_id, u.username, t.created_at, t.expires_at, t.revoked_at, t.role, t.district_code \
             FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id DESC LIMIT 500",
        )
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| ApiToken {
                id: r.get(0),
                name: r.get(1),
                user_id: r.get(2),
                username: r.get(3),
                created_at: r.get(4),
                expires_at: r.get(5),
                revoked_at: r.get(6),
                role: r
                    .get::<Option<String>, _>(7)
                    .as_deref()
                    .and_then(domain::Role::parse),
                district_code: r.get(8),
            })
            .collect())
    }

    /// The account behind a bearer token, if the token is live.
    pub async fn token_account(&self, token: &str) -> Result<Option<Account>> {
        let cols = account_columns_of("u");
        let now = now_text();
        let row = sqlx::query(&format!(
            "SELECT {cols} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.active = 1 \
             AND t.role = u.role AND (t.district_code IS NULL OR t.district_code = u.district_code)"
        ))
        .bind(token_digest(token))
        .bind(&now)
        .fetch_optional(&self.db.pool)
        .await?;
        row.map(|r| account_from_row(&r)).transpose()
    }
}
