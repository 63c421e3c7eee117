//! Test support shared by every crate's tests: a fresh database per test, SQLite by default,
//! PostgreSQL when `SKILLEVAL_TEST_PG` holds a server URL (e.g. postgres://postgres@127.0.0.1:5432).

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{PasswordParams, ReferenceFiles, Store};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn on_postgres() -> bool {
    std::env::var("SKILLEVAL_TEST_PG")
        .map(|v| !v.is_empty())
        .unwrap_or(false)
}

/// Say that a part of the suite was skipped, where `cargo test` shows it without
/// `--nocapture`: libtest captures only the `print!`/`eprint!` macros of a test, so the notice
/// goes straight to the process's standard error. Each distinct notice is shown once per binary.
pub fn announce_skipped(what: &str) {
    use std::io::Write;
    static SHOWN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
    if shown.iter().any(|s| s == what) {
        return;
    }
    shown.push(what.to_string());
    let _ = std::io::stderr().write_all(format!("\nSKIPPED: {what}\n").as_bytes());
}

/// A URL for an empty database: a file in `dir`, or a new PostgreSQL database.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    if !on_postgres() {
        announce_skipped(
            "PostgreSQL run (set SKILLEVAL_TEST_PG=postgres://postgres@127.0.0.1:5432 to run these tests on PostgreSQL too); this run uses SQLite only",
        );
    }
    match std::env::var("SKILLEVAL_TEST_PG") {
        Ok(server) if !server.is_empty() => {
            sqlx::any::install_default_drivers();
            let server = server.trim_end_matches('/');
            let name = format!(
                "skilleval_t_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst),
                rand::random::<u32>()
            );
            let mut conn =
                <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("{server}/postgres"))
                    .await
                    .expect("connect to the PostgreSQL test server");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            format!("{server}/{name}")
        }
        _ => format!(
            "sqlite://{}/test-{}.db",
            dir.display(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ),
    }
}

/// The date every test runs on unless it pins another: no test reads the wall clock, so the
/// suite passes in any year (CI also runs it under libfaketime in 2028 and 2031).
pub fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 2).expect("valid date")
}

/// A migrated store with reference data and demo data, with cheap password hashing; uploaded
/// files go to a fresh temporary directory.
pub async fn demo_store(url: &str) -> Store {
    let blobs = std::env::temp_dir().join(format!(
        "skilleval-test-blobs-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    demo_store_with_blobs(url, &blobs).await
}

/// [`demo_store`] with uploaded files in `blobs_dir`.
pub async fn demo_store_with_blobs(url: &str, blobs_dir: &std::path::Path) -> Store {
    demo_store_on(url, blobs_dir, today()).await
}

/// [`demo_store_with_blobs`] with the demo laid out around `today`.
pub async fn demo_store_on(
    url: &str,
    blobs_dir: &std::path::Path,
    today: chrono::NaiveDate,
) -> Store {
    let store = Store::open(url, 4, PasswordParams::fast_for_tests())
        .await
        .expect("open store")
        .with_blobs(std::sync::Arc::new(crate::LocalBlobStore::new(blobs_dir)))
        .with_keys(crate::Keys::demo());
    store.migrate().await.expect("migrate");
    store.check_keys().await.expect("keys");
    store
        .load_reference(&ReferenceFiles::builtin())
        .await
        .expect("reference data");
    crate::demo::seed(&store, today).await.expect("demo data");
    store
}

/// Remove the append-only guard of `audit_events` (migration 12), as an attacker with the
/// database owner's rights could: the tests that tamper with the trail start with this.
pub async fn drop_audit_guard(store: &Store) {
    let stmts: &[&str] = match store.db.backend {
        crate::Backend::Postgres => &["DROP TRIGGER audit_events_append_only ON audit_events"],
        crate::Backend::Sqlite => &[
            "DROP TRIGGER audit_events_no_update",
            "DROP TRIGGER audit_events_no_delete",
        ],
    };
    for s in stmts {
        sqlx::query(s)
            .execute(&store.db.pool)
            .await
            .expect("drop audit guard");
    }
}
