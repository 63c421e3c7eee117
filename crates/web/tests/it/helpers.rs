//! `spawn_app()`: start the real application on port 0 against a fresh database.

use std::sync::atomic::{AtomicUsize, Ordering};

use store::{PasswordParams, ReferenceFiles, Store};
use web::{AppState, WebConfig};

pub const DEMO_PASSWORD: &str = "demo-password";

pub struct TestApp {
    pub addr: String,
    pub store: Store,
    pub db_url: String,
    /// Where uploaded files of this app go (inside the temp dir).
    pub blobs_dir: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh database URL: a temp SQLite file, or a new PostgreSQL database when
/// `SKILLEVAL_TEST_PG` is set (e.g. postgres://postgres@127.0.0.1:5432).
pub async fn fresh_database(dir: &std::path::Path) -> String {
    match std::env::var("SKILLEVAL_TEST_PG") {
        Ok(server) if !server.is_empty() => {
            sqlx::any::install_default_drivers();
            let name = format!(
                "skilleval_t_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst),
                rand::random::<u32>()
            );
            let admin = format!("{}/postgres", server.trim_end_matches('/'));
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
                .await
                .expect("connect to the PostgreSQL test server");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            format!("{}/{name}", server.trim_end_matches('/'))
        }
        _ => format!("sqlite://{}/test.db", dir.display()),
    }
}

pub fn on_postgres() -> bool {
    std::env::var("SKILLEVAL_TEST_PG")
        .map(|v| !v.is_empty())
        .unwrap_or(false)
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(WebConfig {
        demo: true,
        ..Default::default()
    })
    .await
}

pub async fn spawn_app_with(config: WebConfig) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_url = fresh_database(dir.path()).await;
    let store = Store::open(&db_url, 4, PasswordParams::fast_for_tests())
        .await
        .expect("open store");
    let blobs_dir = dir.path().join("blobs");
    let store = store.with_blobs(std::sync::Arc::new(store::LocalBlobStore::new(&blobs_dir)));
    store.db.migrate().await.expect("migrate");
    store
        .load_reference(&ReferenceFiles::builtin())
        .await
        .expect("reference data");
    store::demo::seed(&store).await.expect("demo data");
    let state = AppState::new(
        store.clone(),
        config,
        domain::policy::Policy::zhengzhou_2022(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(web::serve(listener, state));
    TestApp {
        addr,
        store,
        db_url,
        blobs_dir,
        _dir: dir,
    }
}

impl TestApp {
    /// How many blob files are stored (temp files excluded).
    pub fn blob_files(&self) -> usize {
        fn walk(p: &std::path::Path) -> usize {
            let Ok(rd) = std::fs::read_dir(p) else {
                return 0;
            };
            rd.flatten()
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() {
                        if path.file_name().is_some_and(|n| n == "tmp") {
                            0
                        } else {
                            walk(&path)
                        }
                    } else {
                        1
                    }
                })
                .sum()
        }
        walk(&self.blobs_dir)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A browser-like client: keeps cookies, sends a same-origin `Origin`, does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("origin", format!("http://{}", self.addr).parse().unwrap());
        reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// A client logged in through the API as `username` (demo password).
    pub async fn login(&self, username: &str) -> reqwest::Client {
        let c = self.client();
        let r = c
            .post(self.url("/api/v1/session"))
            .json(&serde_json::json!({ "username": username, "password": DEMO_PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login as {username}");
        c
    }

    pub async fn count(&self, sql: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(sql)
            .fetch_one(&self.store.db.pool)
            .await
            .unwrap()
            .get::<i64, _>(0)
    }

    /// Id of the first institution of a district.
    pub async fn institution_in(&self, district: &str) -> i64 {
        use sqlx::Row;
        sqlx::query("SELECT id FROM institutions WHERE district_code = $1 ORDER BY id LIMIT 1")
            .bind(district)
            .fetch_one(&self.store.db.pool)
            .await
            .unwrap()
            .get(0)
    }

    pub async fn user_id(&self, username: &str) -> i64 {
        use sqlx::Row;
        sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_one(&self.store.db.pool)
            .await
            .unwrap()
            .get(0)
    }
}
