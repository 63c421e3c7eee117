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
    (
        12,
        "audit_anchor_outbox",
        include_str!("../migrations/0012_audit_anchor_outbox.sql"),
    ),
    (
        13,
        "retention",
        include_str!("../migrations/0013_retention.sql"),
    ),
    (
        14,
        "outbox_sender",
        include_str!("../migrations/0014_outbox_sender.sql"),
    ),
    (15, "scale", include_str!("../migrations/0015_scale.sql")),
    (
        16,
        "code_checks",
        include_str!("../migrations/0016_code_checks.sql"),
    ),
    (
        17,
        "code_checks_more",
        include_str!("../migrations/0017_code_checks_more.sql"),
    ),
];

/// Arbitrary key for `pg_advisory_lock`: "skileval" in ASCII.
const MIGRATION_LOCK_KEY: i64 = 0x736b_696c_6576_616c;

/// The statements of a migration for `backend`. Lines after `-- @postgres` / `-- @sqlite`
/// belong to that backend only, after `-- @all` to both (the default), for what the two
/// cannot share (triggers). A statement ends with `;` at the end of a line, so a trigger body
/// may hold `;` inside a line.
fn render(sql: &str, backend: Backend) -> Vec<String> {
    let mut keep = true;
    let mut lines = Vec::new();
    for l in sql.lines() {
        let t = l.trim();
        match t {
            "-- @postgres" => keep = backend == Backend::Postgres,
            "-- @sqlite" => keep = backend == Backend::Sqlite,
            "-- @all" => keep = true,
            _ if t.starts_with("--") => {}
            _ if keep => lines.push(l),
            _ => {}
        }
    }
    let pk = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    let mut out = Vec::new();
    let mut cur = String::new();
    for l in lines {
        let t = l.trim_end();
        if let Some(head) = t.strip_suffix(';') {
            cur.push_str(head);
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push_str(t);
            cur.push('\n');
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().replace("{pk}", pk))
        .filter(|s| !s.is_empty())
        .collect()
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

/// Key for the startup lock ("skistart" in ASCII).
const STARTUP_LOCK_KEY: i64 = 0x736b_6973_7461_7274;

/// Held by an app server while it prepares the database at start (migrations, key
/// fingerprints, reference data, demo data), so that servers starting together on a fresh
/// PostgreSQL database do this one after the other: the first does the work, the others find
/// it done. A session advisory lock on a connection of its own: if the process dies, PostgreSQL
/// drops the connection and the lock with it. SQLite has one app server and needs none.
pub struct StartupLock {
    conn: Option<sqlx::AnyConnection>,
}

impl StartupLock {
    /// Release the lock (dropping it also releases it, by closing its connection).
    pub async fn release(mut self) -> Result<()> {
        if let Some(mut conn) = self.conn.take() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(STARTUP_LOCK_KEY)
                .execute(&mut conn)
                .await?;
            let _ = sqlx::Connection::close(conn).await;
        }
        Ok(())
    }
}

impl Db {
    /// Wait for and take the startup lock (PostgreSQL; a no-op on SQLite).
    pub async fn startup_lock(&self) -> Result<StartupLock> {
        if self.backend != Backend::Postgres {
            return Ok(StartupLock { conn: None });
        }
        let mut conn = self.detached().await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(STARTUP_LOCK_KEY)
            .execute(&mut conn)
            .await?;
        Ok(StartupLock { conn: Some(conn) })
    }
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
        for stmt in render(sql, backend) {
            tx.execute(stmt.as_str()).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_keeps_backend_sections_and_inline_semicolons() {
        let sql = "CREATE TABLE t (id {pk});\n-- @postgres\nCREATE FUNCTION f() AS $$ BEGIN RAISE EXCEPTION 'x'; END $$;\n-- @sqlite\nCREATE TRIGGER g BEGIN SELECT 1; END;\n-- @all\nCREATE INDEX i ON t (id)";
        let pg = render(sql, Backend::Postgres);
        assert_eq!(pg.len(), 3);
        assert!(pg[0].contains("BIGSERIAL"));
        assert!(pg[1].ends_with("END $$"), "{pg:?}");
        assert!(pg[2].starts_with("CREATE INDEX"));
        let lite = render(sql, Backend::Sqlite);
        assert_eq!(lite.len(), 3);
        assert_eq!(lite[1], "CREATE TRIGGER g BEGIN SELECT 1; END");
        assert!(lite[0].contains("AUTOINCREMENT"));
    }
}
