//! `spawn_app()`: start the real application on port 0 against a fresh database.

use store::Store;
use web::{AppState, WebConfig};

pub const DEMO_PASSWORD: &str = "demo-password";

pub struct TestApp {
    pub addr: String,
    pub store: Store,
    #[allow(dead_code)]
    pub db_url: String,
    /// Where uploaded files of this app go (inside the temp dir).
    pub blobs_dir: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(WebConfig {
        demo: true,
        ..Default::default()
    })
    .await
}

/// Starts the app with `config`; "today" is pinned (to `store::testing::today()` unless the
/// config pins another date) and the demo data is laid out around it. No test reads the clock.
pub async fn spawn_app_with(mut config: WebConfig) -> TestApp {
    // Tests run the scheduler by hand (`web::scheduler::run_due`), never in the background.
    config.scheduler = false;
    let today = *config.fixed_today.get_or_insert_with(store::testing::today);
    let dir = tempfile::tempdir().expect("temp dir");
    let db_url = store::testing::fresh_database_url(dir.path()).await;
    let blobs_dir = dir.path().join("blobs");
    let store = store::testing::demo_store_on(&db_url, &blobs_dir, today).await;
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

    /// An unfiled 社会培训评价组织 of `district` with the account `applicant-{district}` (created on
    /// first use). The demo's inst-1 holds filed occupations, so it adds more only through
    /// increments (一(四)); initial filings are made by an applicant like this one.
    pub async fn applicant(&self, district: &str) -> i64 {
        self.institution_account(&format!("applicant-{district}"), "social_org", district)
            .await
    }

    /// An unfiled institution of `kind` in `district` (eligible as an enterprise: 200 employees)
    /// with an account `username` (demo password); created on first use.
    pub async fn institution_account(&self, username: &str, kind: &str, district: &str) -> i64 {
        if let Some((a, _)) = self.store.account_by_username(username).await.unwrap() {
            return a.institution_id.unwrap();
        }
        let actor = store::Actor::system("test");
        let n = self.count("SELECT COUNT(*) FROM institutions").await + 1;
        let prefix = if kind == "enterprise" { "91" } else { "52" };
        let code = domain::credit_code::with_check_digit(&format!(
            "{prefix}{district}MA{:07}",
            7_000_000 + n
        ))
        .unwrap();
        let name = format!("{district}第{n}号新申报评价机构");
        let inst = self
            .store
            .create_institution(
                &actor,
                &store::InstitutionInput {
                    name: name.clone(),
                    credit_code: code,
                    kind: kind.into(),
                    legal_person: true,
                    employees: 200,
                    capital_yuan: 500_000,
                    business_scope: "职业技能培训".into(),
                    reg_address: "示范路1号".into(),
                    reg_district: district.into(),
                    biz_address: "示范路1号".into(),
                    biz_district: district.into(),
                    contact_name: "王老师".into(),
                    contact_phone: "13800000001".into(),
                },
            )
            .await
            .unwrap();
        self.store
            .create_account(
                &actor,
                store::NewAccount {
                    username: username.into(),
                    display_name: name,
                    role: domain::Role::Institution,
                    district_code: None,
                    institution_id: Some(inst.id),
                    employer: String::new(),
                    phone: String::new(),
                    password: DEMO_PASSWORD.into(),
                    must_change_password: false,
                },
            )
            .await
            .unwrap();
        inst.id
    }

    /// Another app server on the same database whose today is `day`: time has passed.
    pub async fn server_on(&self, day: chrono::NaiveDate) -> TestApp {
        let state = AppState::new(
            self.store.clone(),
            WebConfig {
                demo: true,
                fixed_today: Some(day),
                scheduler: false,
                ..Default::default()
            },
            domain::policy::Policy::zhengzhou_2022(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
        tokio::spawn(web::serve(listener, state));
        TestApp {
            addr,
            store: self.store.clone(),
            db_url: self.db_url.clone(),
            blobs_dir: self.blobs_dir.clone(),
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Upload the materials the policy requires before an application of its kind is submitted.
    pub async fn attach_required_materials(&self, application_id: i64) {
        store::demo_filing_rules::attach_required_materials(
            &self.store,
            &domain::policy::Policy::zhengzhou_2022(),
            application_id,
        )
        .await
        .expect("attach required materials");
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
