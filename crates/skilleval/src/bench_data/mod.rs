//! `skilleval bench-data`: a consistent dataset at size for benchmarks (issue 11 §1): filed
//! institutions with their filings and 备案范围, confirmed plans whose results were submitted,
//! candidates (valid GB 11643 numbers, peppered hashes), finished certificate batches, signed
//! certificates with real national numbers (`domain::certno`), a few revocations (two keys, as
//! the platform records them) and the serial and status-list counters that follow.
//!
//! Deterministic: the same seed, day and size give the same rows. Dates are relative to the
//! given day. It writes straight to the database in multi-row INSERTs of literal values (the
//! data is generated here, so nothing outside is interpolated), in a few large transactions;
//! signing runs on worker threads while the database inserts. Rows are generated in the order of
//! their unique keys (certificate number, ids, status index), so those indexes only append; the
//! two indexes on ID hashes (random keys) are dropped for the load and built again afterwards.

mod bulk;
mod layout;
mod tables;
mod units;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sqlx::Row;
use store::{Backend, Store};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub certificates: u64,
    pub seed: u64,
    /// The day the data is relative to (issue dates fall in the four years before it).
    pub today: NaiveDate,
    /// Revoked certificates per 10,000.
    pub revoked_per_10k: u32,
    /// Signing threads.
    pub threads: usize,
    /// Certificates per transaction.
    pub per_tx: u64,
    /// Write (number, holder name, QR path) of every n-th certificate here, for load tests.
    pub sample: Option<(std::path::PathBuf, u64)>,
    /// False: plans with submitted results and passed candidates, but no batches and no
    /// certificates yet (what `bench issue-certificates` issues).
    pub issue: bool,
}

/// What was generated.
#[derive(Debug, Default)]
pub struct Report {
    pub institutions: u64,
    pub plans: u64,
    pub candidates: u64,
    pub certificates: u64,
    pub revoked: u64,
    pub seconds: f64,
    pub index_seconds: f64,
}

/// One filed institution.
struct Inst {
    id: i64,
    name: String,
    kind: &'static str,
    district: String,
    site_code: String,
    /// (occupation index, levels filed)
    occupations: Vec<usize>,
}

struct Occ {
    id: i64,
    code: String,
    name: String,
    levels: Vec<u8>,
}

/// One plan and everything its rows need; ids are fixed before generation.
struct PlanSpec {
    id: i64,
    /// Certificates (passed candidates).
    certs: u32,
    inst: usize,
    occ: usize,
    level: u8,
    issued_on: NaiveDate,
    candidates: u32,
    first_candidate: i64,
    first_cert: i64,
    first_status: i64,
    first_serial: i64,
    batch_id: i64,
}

fn q(out: &mut String, s: &str) {
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
}

fn sep(out: &mut String) {
    if !out.is_empty() {
        out.push(',');
    }
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn at(d: NaiveDate, hour: u32) -> String {
    format!("{}T{hour:02}:00:00.000000Z", day(d))
}

async fn max_id(conn: &mut sqlx::AnyConnection, table: &str) -> anyhow::Result<i64> {
    Ok(
        sqlx::query(&format!("SELECT COALESCE(MAX(id), 0) FROM {table}"))
            .fetch_one(&mut *conn)
            .await?
            .get(0),
    )
}

/// The indexes on random keys (ID hashes), built again after the load.
const RANDOM_INDEXES: &[(&str, &str)] = &[
    (
        "certificates_holder",
        "CREATE INDEX certificates_holder ON certificates (id_hash, occupation_code, level)",
    ),
    (
        "candidates_hash",
        "CREATE INDEX candidates_hash ON candidates (id_hash)",
    ),
];

/// The connection that loads, alone on the database. On SQLite the run is a bulk load into a
/// benchmark database: no rollback journal, no fsync, the file locked for this connection, a
/// 256 MiB page cache, foreign keys not checked (the rows are generated consistent; the tests
/// run `foreign_key_check`). A crash leaves the file unusable: generate it again. SQLite can
/// only leave WAL mode with no other connection open, so the pool's idle ones are closed first.
async fn bulk_connection(store: &Store) -> anyhow::Result<sqlx::AnyConnection> {
    let pool = &store.db.pool;
    if store.db.backend == Backend::Postgres {
        let mut conn = pool.acquire().await?.detach();
        sqlx::raw_sql("SET synchronous_commit = off")
            .execute(&mut conn)
            .await?;
        return Ok(conn);
    }
    while let Some(idle) = pool.try_acquire() {
        idle.close().await?;
    }
    let mut conn = pool.acquire().await?.detach();
    for p in [
        "PRAGMA foreign_keys=OFF",
        "PRAGMA journal_mode=OFF",
        "PRAGMA locking_mode=EXCLUSIVE",
        "PRAGMA synchronous=OFF",
        "PRAGMA cache_size=-262144",
        "PRAGMA temp_store=MEMORY",
    ] {
        sqlx::raw_sql(p).execute(&mut conn).await?;
    }
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await?
        .get(0);
    anyhow::ensure!(
        mode == "off",
        "数据库 {mode} 模式未能关闭日志：请先停止使用该数据库的其他进程"
    );
    Ok(conn)
}

/// Back to the settings every connection of the platform uses (WAL, foreign keys), then close:
/// the pool opens new connections.
async fn end_bulk(mut conn: sqlx::AnyConnection, backend: Backend) -> anyhow::Result<()> {
    use sqlx::Connection;
    if backend == Backend::Sqlite {
        sqlx::raw_sql("PRAGMA locking_mode=NORMAL; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON")
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok(())
}

/// Generate the dataset into `store` (migrated, reference data loaded).
pub async fn generate(
    store: &Store,
    key: Arc<certsign::SigningKey>,
    numbering: domain::certno::Numbering,
    opts: &Options,
) -> anyhow::Result<Report> {
    let t0 = Instant::now();
    let backend = store.db.backend;
    let mut conn = bulk_connection(store).await?;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let ex = layout::existing(&mut conn).await?;
    let layout::Layout {
        insts,
        plans,
        mut counters,
        mut status,
    } = layout::layout(&ex, opts, &mut rng);
    tables::write(&mut conn, opts, &ex, &insts, &plans).await?;
    let mut report = Report {
        institutions: insts.len() as u64,
        plans: plans.len() as u64,
        ..Default::default()
    };
    let layout::Existing {
        occs,
        status_base,
        center,
        division,
        ..
    } = ex;
    units::load(
        &mut conn,
        store,
        key,
        numbering,
        opts,
        plans,
        insts,
        occs,
        &center,
        &division,
        &mut report,
        t0,
    )
    .await?;

    // -- counters, indexes, sequences, the audit event ---------------------------------------
    let t_index = Instant::now();
    let mut tail = String::from("BEGIN;");
    if !opts.issue {
        counters.clear();
        status = status_base;
    }
    for chunk in counters.chunks(1000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|(i, y, s)| format!("({i},{y},0,{s})"))
            .collect();
        let _ = write!(tail, "INSERT INTO cert_counters (institution_id, year, level, last_serial) VALUES {} ON CONFLICT (institution_id, year, level) DO UPDATE SET last_serial = CASE WHEN cert_counters.last_serial > excluded.last_serial THEN cert_counters.last_serial ELSE excluded.last_serial END;", rows.join(","));
    }
    let _ = write!(
        tail,
        "UPDATE cert_status_counter SET last_index = {} WHERE id = 1;",
        status - 1
    );
    for idx in RANDOM_INDEXES {
        let _ = write!(tail, "{};", idx.1);
    }
    if backend == Backend::Postgres {
        for t in [
            "institutions",
            "filing_applications",
            "plans",
            "candidates",
            "certificates",
            "cert_batches",
        ] {
            let _ = write!(
                tail,
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}));"
            );
        }
    }
    tail.push_str("COMMIT;");
    sqlx::raw_sql(&tail).execute(&mut conn).await?;
    // Statistics for the planner, once the tables hold their rows (not before issuing: stale
    // statistics of a near-empty certificates table would make SQLite scan it later).
    match (backend, opts.issue) {
        // PostgreSQL re-plans after every (auto-)ANALYZE, so fresh statistics are safe.
        (Backend::Postgres, _) | (Backend::Sqlite, true) => {
            sqlx::raw_sql("ANALYZE").execute(&mut conn).await?;
        }
        (Backend::Sqlite, false) => {}
    }
    end_bulk(conn, backend).await?;
    report.index_seconds = t_index.elapsed().as_secs_f64();
    let mut tx = store.db.write().await?;
    store::audit::append(
        &mut tx,
        &store::Actor::system("bench-data"),
        store::NewEvent {
            action: "bench_data.generate",
            object_type: "dataset",
            object_id: opts.seed.to_string(),
            summary: serde_json::json!({
                "seed": opts.seed, "today": day(opts.today), "institutions": report.institutions,
                "plans": report.plans, "candidates": report.candidates,
                "certificates": report.certificates, "revoked": report.revoked,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    report.seconds = t0.elapsed().as_secs_f64();
    Ok(report)
}
