//! Migrations: one list of portable SQL, with two placeholders for what differs between the
//! backends. On PostgreSQL a session advisory lock makes concurrent app-server starts safe.

use sqlx::{Connection, Executor, Row};

use crate::db::{Backend, Db};
use crate::{now_text, Result};

/// (version, name, SQL). `{pk}` is an auto-increment primary key.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/0001_foundation.sql"),
    ),
    (2, "infra", include_str!("../migrations/0002_infra.sql")),
    (3, "filing", include_str!("../migrations/0003_filing.sql")),
    (4, "plans", include_str!("../migrations/0004_plans.sql")),
    (
        5,
        "calendar_basis",
        include_str!("../migrations/0005_calendar_basis.sql"),
    ),
    (
        6,
        "filing_rules",
        include_str!("../migrations/0006_filing_rules.sql"),
    ),
    (
        7,
        "filing_review",
        include_str!("../migrations/0007_filing_review.sql"),
    ),
    (
        8,
        "inst_plans",
        include_str!("../migrations/0008_inst_plans.sql"),
    ),
    (
        9,
        "front_door",
        include_str!("../migrations/0009_front_door.sql"),
    ),
    (10, "api", include_str!("../migrations/0010_api.sql")),
    (
        11,
        "certificates",
        include_str!("../migrations/0011_certificates.sql"),
    ),
];

/// Arbitrary key for `pg_advisory_lock`: "skileval" in ASCII.
const MIGRATION_LOCK_KEY: i64 = 0x736b_696c_6576_616c;

fn render(sql: &str, backend: Backend) -> String {
    let sql: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    match backend {
        Backend::Sqlite => sql.replace("{pk}", "INTEGER PRIMARY KEY AUTOINCREMENT"),
        Backend::Postgres => sql.replace("{pk}", "BIGSERIAL PRIMARY KEY"),
    }
}

/// Apply pending migrations; returns how many were applied.
pub async fn run(db: &Db) -> Result<usize> {
    let mut conn = db.detached().await?;
    if db.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK_KEY)
            .execute(&mut conn)
            .await?;
    }
    let result = apply(&mut conn, db.backend).await;
    if db.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK_KEY)
            .execute(&mut conn)
            .await?;
    }
    result
}

async fn apply(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<usize> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect();
    let mut count = 0;
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        let mut tx = conn.begin().await?;
        for stmt in render(sql, backend).split(';') {
            let stmt = stmt.trim();
            if !stmt.is_empty() {
                tx.execute(stmt).await?;
            }
        }
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(*version)
        .bind(*name)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(version, name, "migration applied");
        count += 1;
    }
    Ok(count)
}

impl Db {
    pub async fn migrate(&self) -> Result<usize> {
        run(self).await
    }

    /// Versions applied, for `skilleval migrate --status` and tests.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
        Ok(
            sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.get::<i64, _>(0))
                .collect(),
        )
    }
}
