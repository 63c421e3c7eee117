use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Executor, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool on either backend, chosen from the URL.
#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite allows one writer; writers queue here instead of failing with SQLITE_BUSY when a
    /// deferred transaction tries to upgrade. PostgreSQL does not need it.
    write_lock: Arc<Mutex<()>>,
    /// Which database the in-process leases of SQLite belong to (its URL).
    pub(crate) lease_scope: Arc<str>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Invalid(format!(
                "不支持的数据库地址（应以 sqlite:// 或 postgres:// 开头）: {}",
                redact_url(url)
            )));
        };
        let url = match backend {
            Backend::Sqlite => {
                let path = url
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:");
                let path = path.split('?').next().unwrap_or_default();
                if let Some(parent) = std::path::Path::new(path).parent() {
                    if !parent.as_os_str().is_empty() {
                        std::fs::create_dir_all(parent).map_err(|e| {
                            StoreError::Other(format!("无法创建数据目录 {}: {e}", parent.display()))
                        })?;
                    }
                }
                format!("sqlite://{path}?mode=rwc")
            }
            Backend::Postgres => url.to_string(),
        };
        let lease_scope: Arc<str> = Arc::from(url.as_str());
        let opts: AnyConnectOptions = url.parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            // An embedded database cannot drop its connection: no ping before every query
            // (on SQLite each is a round trip to the connection's worker thread; measured: the
            // ping doubled the cost of a query).
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode=WAL").await?;
                        conn.execute("PRAGMA synchronous=NORMAL").await?;
                        conn.execute("PRAGMA busy_timeout=10000").await?;
                        conn.execute("PRAGMA foreign_keys=ON").await?;
                        // 8 MiB of page cache per connection (default 2 MiB): at millions of
                        // certificates the upper index levels stay cached instead of being
                        // read from the OS on every lookup; 4 connections keep RSS small.
                        conn.execute("PRAGMA cache_size=-8192").await?;
                    } else {
                        // sqlx prepares every statement once per connection, and PostgreSQL
                        // switches a prepared statement to a generic plan after five runs. A
                        // generic plan made while a table was small stays while it grows: bulk
                        // issuance at 100k certificates scanned all of `certificates` for every
                        // plan (measured with auto_explain). Plan with the real values instead;
                        // the platform's queries are short, so planning costs little.
                        conn.execute("SET plan_cache_mode = force_custom_plan")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        Ok(Db {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
            lease_scope,
        })
    }

    /// Begin a write transaction. On SQLite, writers are serialised in-process first.
    pub async fn write(&self) -> Result<WriteTx> {
        let guard = match self.backend {
            Backend::Sqlite => Some(self.write_lock.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        let tx = self.begin_write().await?;
        Ok(WriteTx {
            tx,
            _guard: guard,
            backend: self.backend,
        })
    }

    /// Like [`Db::write`], but on SQLite returns `None` at once when another writer holds the
    /// lock (for advisory writes such as job progress that must never wait behind a long
    /// transaction).
    pub async fn try_write(&self) -> Result<Option<WriteTx>> {
        let guard = match self.backend {
            Backend::Sqlite => match self.write_lock.clone().try_lock_owned() {
                Ok(g) => Some(g),
                Err(_) => return Ok(None),
            },
            Backend::Postgres => None,
        };
        let tx = self.begin_write().await?;
        Ok(Some(WriteTx {
            tx,
            _guard: guard,
            backend: self.backend,
        }))
    }

    /// `BEGIN IMMEDIATE` on SQLite: the database's write lock is taken at the start, through the
    /// busy timeout. A deferred transaction that reads first and writes later fails at once with
    /// "database is locked" (SQLITE_BUSY, no busy wait) when any other connection wrote in between,
    /// such as a dropped transaction whose rollback is still on its way, or a second process on
    /// the same file (`skilleval retention run` beside the server).
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// For health checks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A dedicated connection (for session-level locks such as migrations).
    pub async fn detached(&self) -> Result<AnyConnection> {
        Ok(self.pool.acquire().await?.detach())
    }
}

/// One write transaction. Dropping it without `commit` rolls everything back.
pub struct WriteTx {
    tx: Transaction<'static, sqlx::Any>,
    _guard: Option<OwnedMutexGuard<()>>,
    pub backend: Backend,
}

impl WriteTx {
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// Hide the password of a database URL for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn password_is_redacted() {
        assert_eq!(
            super::redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
