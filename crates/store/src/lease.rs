//! Leases: "this process is working on that record now", released when the work ends or when
//! its process dies (a SIGKILL included). They tell an interrupted job or certificate batch from
//! one that is running on some app server, without waiting for a stale time.
//!
//! PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock(class, id)`) held on a
//! connection of its own; the server drops the lock when the connection closes, so a killed app
//! server releases every lease it held. SQLite: one app server per database file, so an
//! in-process register (per database file) is the whole truth; a killed process holds nothing.

use std::collections::HashSet;
use std::sync::Mutex;

use sqlx::{AnyConnection, Connection, Row};

use crate::db::{Backend, Db};
use crate::Result;

/// What a lease is on (the first key of the advisory lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaseOn {
    /// A background job (`jobs.id`).
    Job = 7_301,
    /// A certificate batch (`cert_batches.id`).
    CertBatch = 7_302,
}

type Key = (String, i32, i64);

/// The SQLite register: (database file, class, id).
static LOCAL: Mutex<Option<HashSet<Key>>> = Mutex::new(None);

/// A held lease; dropping it releases it.
pub struct Lease {
    inner: Inner,
}

enum Inner {
    Local(Key),
    /// The connection that holds the advisory lock; closing it releases the lock.
    Pg(Option<AnyConnection>),
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lease")
    }
}

impl Lease {
    /// Release now (on PostgreSQL: wait until the lock's session is closed).
    pub async fn release(mut self) {
        if let Inner::Pg(conn) = &mut self.inner {
            if let Some(c) = conn.take() {
                let _ = c.close().await;
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        match &mut self.inner {
            Inner::Local(key) => {
                let mut set = LOCAL.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(s) = set.as_mut() {
                    s.remove(key);
                }
            }
            Inner::Pg(conn) => {
                if let Some(c) = conn.take() {
                    // Closing the session releases its advisory locks; without a runtime the
                    // dropped socket does the same.
                    if let Ok(rt) = tokio::runtime::Handle::try_current() {
                        rt.spawn(async move {
                            let _ = c.close().await;
                        });
                    }
                }
            }
        }
    }
}

impl Db {
    /// Take the lease on `(on, id)` unless someone (this process or, on PostgreSQL, another
    /// app server) holds it.
    pub async fn try_lease(&self, on: LeaseOn, id: i64) -> Result<Option<Lease>> {
        match self.backend {
            Backend::Sqlite => {
                let key = (self.lease_scope.to_string(), on as i32, id);
                let inserted = {
                    let mut set = LOCAL.lock().unwrap_or_else(|e| e.into_inner());
                    set.get_or_insert_with(HashSet::new).insert(key.clone())
                };
                // (Built only when taken: a dropped Lease releases its key.)
                Ok(if inserted {
                    Some(Lease {
                        inner: Inner::Local(key),
                    })
                } else {
                    None
                })
            }
            Backend::Postgres => {
                let mut conn = self.detached().await?;
                let got: i64 = sqlx::query(
                    "SELECT CASE WHEN pg_try_advisory_lock(CAST($1 AS INTEGER), CAST($2 AS INTEGER)) THEN 1 ELSE 0 END",
                )
                .bind(on as i32 as i64)
                .bind(id % i32::MAX as i64)
                .fetch_one(&mut conn)
                .await?
                .get(0);
                if got == 1 {
                    Ok(Some(Lease {
                        inner: Inner::Pg(Some(conn)),
                    }))
                } else {
                    let _ = conn.close().await;
                    Ok(None)
                }
            }
        }
    }

    /// Whether anyone holds the lease on `(on, id)` now.
    pub async fn leased(&self, on: LeaseOn, id: i64) -> Result<bool> {
        Ok(self.try_lease(on, id).await?.is_none())
    }
}
