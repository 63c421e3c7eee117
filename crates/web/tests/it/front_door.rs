//! The front door (issue 8 §6–8): cross-origin protection that works for API clients and behind
//! a reverse proxy, logins that cost the same for unknown users with an atomic lockout, and keys
//! that come from configuration.

use serde_json::{json, Value};
use sqlx::Row;
use web::{AppState, WebConfig};

use crate::helpers::{spawn_app, spawn_app_with, TestApp, DEMO_PASSWORD};

/// A client that is not a browser: no `Origin`, no `Sec-Fetch-Site` (curl, a script, a system).
fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A cookie-carrying client that sends exactly `headers` (and no default `Origin`).
fn client_with(headers: &[(&'static str, String)]) -> reqwest::Client {
    client_in(
        headers,
        std::sync::Arc::new(reqwest::cookie::Jar::default()),
    )
}

/// [`client_with`] sharing the cookie jar `jar` (a session made by another client).
fn client_in(
    headers: &[(&'static str, String)],
    jar: std::sync::Arc<reqwest::cookie::Jar>,
) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    for (k, v) in headers {
        h.insert(*k, v.parse().unwrap());
    }
    reqwest::Client::builder()
        .cookie_provider(jar)
        .default_headers(h)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn api_login(app: &TestApp, c: &reqwest::Client, user: &str) -> reqwest::StatusCode {
    c.post(app.url("/api/v1/session"))
        .json(&json!({ "username": user, "password": DEMO_PASSWORD }))
        .send()
        .await
        .unwrap()
        .status()
}

fn new_district_user(name: &str) -> Value {
    json!({ "username": name, "display_name": "金水区人社局 测试", "role": "district",
            "district": "410105", "password": "Another-demo-pass-1" })
}

#[tokio::test]
async fn api_client_without_origin_header() {
    let app = spawn_app().await;
    let c = plain_client();
    // The API login the README promises, from curl or another system.
    assert_eq!(api_login(&app, &c, "center").await, 200);
    // A write with the session cookie and still no browser headers.
    let r = c
        .post(app.url("/api/v1/users"))
        .json(&new_district_user("district-410105-api"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE username = 'district-410105-api'")
            .await,
        1
    );
    // The login form too (a script submitting it).
    let r = plain_client()
        .post(app.url("/login"))
        .form(&[("username", "center"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/dashboard");
    // A bearer token needs no browser header either; a page on another site cannot attach one,
    // so it is not refused even with foreign browser headers.
    let admin = plain_client();
    assert_eq!(api_login(&app, &admin, "admin").await, 200);
    let r: Value = admin
        .post(app.url("/api/v1/api-tokens"))
        .json(&json!({ "user_id": app.user_id("center").await, "name": "省平台对接", "valid_days": 30 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = r["token"].as_str().expect("token issued").to_string();
    let r = client_with(&[
        ("origin", "https://evil.example".into()),
        ("sec-fetch-site", "cross-site".into()),
    ])
    .post(app.url("/api/v1/users"))
    .bearer_auth(&token)
    .json(&new_district_user("district-410105-bearer"))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn cross_site_post_refused() {
    let app = spawn_app().await;
    let origin = format!("http://{}", app.addr);
    let users_before = app.count("SELECT COUNT(*) FROM users").await;
    let cases: Vec<(&str, Vec<(&'static str, String)>)> = vec![
        (
            "fetch metadata cross-site",
            vec![("sec-fetch-site", "cross-site".into())],
        ),
        (
            "fetch metadata same-site (a sibling subdomain)",
            vec![("sec-fetch-site", "same-site".into())],
        ),
        (
            "cross-site even with our Origin",
            vec![
                ("sec-fetch-site", "cross-site".into()),
                ("origin", origin.clone()),
            ],
        ),
        (
            "an older browser: foreign Origin",
            vec![("origin", "https://evil.example".into())],
        ),
        (
            "an older browser: opaque Origin",
            vec![("origin", "null".into())],
        ),
        (
            "same host, other port",
            vec![("origin", "http://127.0.0.1:1".into())],
        ),
    ];
    for (what, headers) in &cases {
        // Each case with the admin's live session: the cookie a cross-site attack rides on.
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        assert_eq!(
            api_login(&app, &client_in(&[], jar.clone()), "center").await,
            200
        );
        let c = client_in(headers, jar.clone());
        let r = c
            .post(app.url("/login"))
            .form(&[("username", "admin"), ("password", DEMO_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "login form, {what}");
        let r = c
            .post(app.url("/api/v1/users"))
            .json(&new_district_user("mallory"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "API write, {what}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("跨站请求已被拒绝"),
            "{what}: {body}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, users_before);
    // The same session from our own page may write.
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    assert_eq!(
        api_login(&app, &client_in(&[], jar.clone()), "center").await,
        200
    );
    let r = client_in(&[("sec-fetch-site", "same-origin".into())], jar)
        .post(app.url("/api/v1/users"))
        .json(&new_district_user("district-410105-ok"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    // Reads are never refused.
    let r = client_with(&[("sec-fetch-site", "cross-site".into())])
        .get(app.url("/public/institutions"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // What a current browser sends from our own page passes, whatever Origin says (Go's rule:
    // fetch metadata is trusted first), and so does a navigation typed by the user.
    for headers in [
        vec![
            ("sec-fetch-site", "same-origin".to_string()),
            ("origin", origin.clone()),
        ],
        vec![("sec-fetch-site", "none".to_string())],
        vec![("origin", origin.clone())],
    ] {
        let c = client_with(&headers);
        let r = c
            .post(app.url("/login"))
            .form(&[("username", "admin"), ("password", DEMO_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{headers:?}");
    }
}

#[tokio::test]
async fn csrf_behind_proxy_with_public_url() {
    let public = "https://pj.zzrs.example.gov.cn";
    let portal = "https://portal.ha.example.gov.cn";
    // nginx's default `proxy_set_header Host $proxy_host`: the app sees the upstream's name.
    let upstream_host = ("host", "skilleval-upstream:8080".to_string());
    let login = |c: reqwest::Client, app: &TestApp| {
        let url = app.url("/login");
        async move {
            c.post(url)
                .form(&[("username", "district-410105"), ("password", DEMO_PASSWORD)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };

    // Without public_url, a proxy that rewrites Host makes every form post look cross-site.
    let bare = spawn_app().await;
    let c = client_with(&[("origin", public.into()), upstream_host.clone()]);
    assert_eq!(login(c, &bare).await, 403, "the failure the issue measured");

    let app = spawn_app_with(WebConfig {
        demo: true,
        public_url: Some(format!("{public}/")),
        trusted_origins: vec![portal.into()],
        ..Default::default()
    })
    .await;
    // An older browser (no fetch metadata) on the public address, through the proxy.
    let c = client_with(&[("origin", public.into()), upstream_host.clone()]);
    assert_eq!(
        login(c, &app).await,
        303,
        "Origin is the configured public URL"
    );
    // With `proxy_set_header Host $host` as docs/operations.md says, the same.
    let c = client_with(&[
        ("origin", public.into()),
        ("host", "pj.zzrs.example.gov.cn".into()),
    ]);
    assert_eq!(login(c, &app).await, 303);
    // A trusted origin of another system may post, even when the browser says cross-site.
    let c = client_with(&[
        ("origin", portal.into()),
        ("sec-fetch-site", "cross-site".into()),
    ]);
    assert_eq!(login(c, &app).await, 303, "trusted_origins");
    // Anyone else is refused; with a public URL, the Host header no longer vouches for Origin
    // (behind a proxy it names the upstream, not what the browser showed).
    for origin in [
        "https://evil.example".to_string(),
        "http://pj.zzrs.example.gov.cn".to_string(),
        format!("http://{}", app.addr),
    ] {
        let c = client_with(&[("origin", origin.clone())]);
        assert_eq!(login(c, &app).await, 403, "{origin}");
    }
    let c = client_with(&[
        ("origin", "https://evil.example".into()),
        ("sec-fetch-site", "cross-site".into()),
    ]);
    assert_eq!(login(c, &app).await, 403);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.login'")
            .await,
        3,
        "exactly the three accepted posts logged in"
    );
}

/// An app server on `store` (its password parameters are the store's).
async fn serve_store(store: store::Store, config: WebConfig) -> String {
    let state = AppState::new(store, config, domain::policy::Policy::zhengzhou_2022());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(web::serve(listener, state));
    addr
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::test]
async fn login_unknown_user_costs_the_same() {
    let app = spawn_app().await;
    // Tests hash cheaply; here the store hashes as a real deployment would (a smaller memory
    // cost keeps the test quick, but it is far above the cheap test parameters), and the known
    // account's hash is made with them.
    let mut store = app.store.clone();
    store.passwords = store::PasswordParams {
        m_cost_kib: 8 * 1024,
        t_cost: 2,
        p_cost: 1,
    };
    store
        .create_account(
            &store::Actor::system("test"),
            store::NewAccount {
                username: "timing-known".into(),
                display_name: "计时".into(),
                role: domain::Role::Expert,
                district_code: None,
                institution_id: None,
                employer: "测试".into(),
                phone: String::new(),
                password: "The-right-password-1".into(),
                must_change_password: false,
            },
        )
        .await
        .unwrap();
    let base = serve_store(
        store,
        WebConfig {
            scheduler: false,
            fixed_today: Some(store::testing::today()),
            login_limits: store::LoginLimits {
                max_failures: 1000,
                max_failures_per_addr: 1000,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await;
    let c = plain_client();
    let attempt = |user: &'static str| {
        let c = c.clone();
        let url = format!("{base}/api/v1/session");
        async move {
            let t = std::time::Instant::now();
            let r = c
                .post(url)
                .json(&json!({ "username": user, "password": "wrong-password-9" }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{user}");
            t.elapsed().as_secs_f64()
        }
    };
    // Warm up both paths (the dummy hash is made on first use), then interleave.
    attempt("timing-known").await;
    attempt("no-such-user").await;
    let (mut known, mut unknown) = (vec![], vec![]);
    for _ in 0..9 {
        known.push(attempt("timing-known").await);
        unknown.push(attempt("no-such-user").await);
    }
    let (k, u) = (median(known), median(unknown));
    let ratio = u / k;
    println!("login: known {k:.4}s, unknown {u:.4}s, ratio {ratio:.2}");
    assert!(
        (0.5..=2.0).contains(&ratio),
        "an unknown user name must cost what a known one does: known {k:.4}s, unknown {u:.4}s"
    );
}

#[tokio::test]
async fn lockout_counts_atomically() {
    let app = spawn_app().await;
    let id = app.user_id("inst-1").await;
    // A failure from long ago, to be pruned.
    sqlx::query("INSERT INTO login_failures (username, client_addr, at) VALUES ('old', '10.0.0.9', '2000-01-01T00:00:00.000000Z')")
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    // Twenty wrong guesses at once: the lockout allows five (LoginLimits::default()).
    let mut tasks = vec![];
    for i in 0..20 {
        let c = plain_client();
        let url = app.url("/api/v1/session");
        tasks.push(tokio::spawn(async move {
            c.post(url)
                .json(&json!({ "username": "inst-1", "password": format!("guess-{i}") }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = vec![];
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let bad = statuses.iter().filter(|s| **s == 401).count();
    let locked = statuses.iter().filter(|s| **s == 403).count();
    assert_eq!(bad + locked, 20, "{statuses:?}");
    assert_eq!(
        bad, 4,
        "four guesses fail, the fifth locks, the rest are refused unchecked: {statuses:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM login_failures WHERE username = 'inst-1'")
            .await,
        5,
        "exactly five passwords were tried"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'auth.lockout' AND object_id = '{id}'"
        ))
        .await,
        1,
        "locked once"
    );
    // The right password is refused now.
    assert_eq!(api_login(&app, &plain_client(), "inst-1").await, 403);
    // Old failures were pruned; recent ones stay.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM login_failures WHERE username = 'old'")
            .await,
        0
    );
}

/// The old, unkeyed hash that anyone could recompute from an ID number alone.
fn plain_hash(id: &str) -> String {
    domain::plan::sha256_hex(format!("skilleval/id-number/v1:{}", id.trim()).as_bytes())
}

fn other_keys(letter: &str) -> store::Keys {
    use base64::Engine;
    let b = |x: u8| base64::engine::general_purpose::STANDARD.encode([x; 32]);
    store::Keys::parse(&format!("{letter}={}", b(1)), &b(2)).unwrap()
}

#[tokio::test]
async fn id_hash_is_keyed() {
    let app = spawn_app().await;
    let rows: Vec<(i64, String, String)> =
        sqlx::query("SELECT id, id_number, id_hash FROM candidates ORDER BY id")
            .fetch_all(&app.store.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    assert!(rows.len() > 3, "the demo has candidates");
    for (_, id_number, hash) in &rows {
        assert_eq!(hash, &app.store.id_hash(id_number).unwrap());
        assert_ne!(hash, &plain_hash(id_number));
        assert_ne!(hash, &domain::plan::sha256_hex(id_number.as_bytes()));
    }
    // Another pepper, another hash: the digits alone do not give it.
    let other = app.store.clone().with_keys(other_keys("k1"));
    assert_ne!(
        other.id_hash(&rows[0].1).unwrap(),
        app.store.id_hash(&rows[0].1).unwrap()
    );
    // A server started with another pepper stops with a clear error.
    let err = other.check_keys().await.unwrap_err().to_string();
    assert!(err.contains("id_pepper") && err.contains("指纹"), "{err}");
    // A store without keys refuses to hash.
    let bare = store::Store::open(&app.db_url, 1, store::PasswordParams::fast_for_tests())
        .await
        .unwrap();
    assert!(bare.id_hash("410105199001011234").is_err());

    // A database from before the pepper: plain hashes and no fingerprint. The startup step
    // rehashes every candidate under the pepper, once, with an audit event.
    for (id, id_number, _) in &rows {
        sqlx::query("UPDATE candidates SET id_hash = $1 WHERE id = $2")
            .bind(plain_hash(id_number))
            .bind(id)
            .execute(&app.store.db.pool)
            .await
            .unwrap();
    }
    sqlx::query("DELETE FROM key_fingerprints")
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    app.store.check_keys().await.unwrap();
    for (id, id_number, _) in &rows {
        let h: String = sqlx::query("SELECT id_hash FROM candidates WHERE id = $1")
            .bind(id)
            .fetch_one(&app.store.db.pool)
            .await
            .unwrap()
            .get(0);
        assert_eq!(h, app.store.id_hash(id_number).unwrap());
    }
    let summary: String = sqlx::query(
        "SELECT summary FROM audit_events WHERE action = 'keys.record' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&app.store.db.pool)
    .await
    .unwrap()
    .get(0);
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["rehashed_candidates"], rows.len());
    app.store
        .check_keys()
        .await
        .expect("second start: nothing to do");

    // The plan's duplicate check finds a candidate under the keyed hash, whatever the case of
    // the check digit.
    let (cid, plan_id): (i64, i64) = {
        let r = sqlx::query("SELECT id, plan_id FROM candidates ORDER BY id LIMIT 1")
            .fetch_one(&app.store.db.pool)
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let hashes = app.store.plan_candidate_hashes(plan_id).await.unwrap();
    let id_number: String = sqlx::query("SELECT id_number FROM candidates WHERE id = $1")
        .bind(cid)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0);
    assert!(hashes.contains(&app.store.id_hash(&id_number.to_lowercase()).unwrap()));
}

#[tokio::test]
async fn letter_key_not_in_database() {
    let app = spawn_app().await;
    let pool = &app.store.db.pool;
    // The table that held the key is gone; the database keeps fingerprints only.
    assert!(sqlx::query("SELECT COUNT(*) FROM platform_keys")
        .fetch_one(pool)
        .await
        .is_err());
    let fps: Vec<(String, String)> =
        sqlx::query("SELECT purpose, fingerprint FROM key_fingerprints ORDER BY purpose")
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    assert_eq!(
        fps.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["id_pepper", "letter:demo-letter-key"]
    );
    assert!(fps.iter().all(|f| f.1.len() == 16));
    // The demo's letters are signed with the configured key and verify with it...
    let plan_id: i64 = sqlx::query("SELECT plan_id FROM letter_signatures ORDER BY id LIMIT 1")
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0);
    let letter = app.store.current_letter(plan_id).await.unwrap().unwrap();
    assert!(app.store.verify_letter(&letter).await.unwrap());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM letter_signatures WHERE key_id <> 'demo-letter-key'")
            .await,
        0
    );
    // ...and with nothing in the database: other configured keys do not verify them.
    let other = app.store.clone().with_keys(other_keys("demo-letter-key"));
    assert!(!other.verify_letter(&letter).await.unwrap());

    // Rotation: a new key in front signs, the old one (kept second) still verifies.
    let demo = store::Keys::demo();
    // The demo key's material, through its published derivation.
    let demo_secret = {
        use base64::Engine;
        let raw = domain::plan::sha256_hex(
            "skilleval DEMO letter key - public, never for real data".as_bytes(),
        );
        base64::engine::general_purpose::STANDARD.encode(hex::decode(raw).unwrap())
    };
    assert_eq!(
        demo.letter_keys()[0].fingerprint(),
        store::Keys::parse(&format!("x={demo_secret}"), &demo_secret)
            .unwrap()
            .letter_keys()[0]
            .fingerprint()
    );
    let pepper = {
        use base64::Engine;
        let raw = domain::plan::sha256_hex(
            "skilleval DEMO id pepper - public, never for real data".as_bytes(),
        );
        base64::engine::general_purpose::STANDARD.encode(hex::decode(raw).unwrap())
    };
    let new_key = other_b64(42);
    let rotated = app.store.clone().with_keys(
        store::Keys::parse(
            &format!("letter-2027={new_key},demo-letter-key={demo_secret}"),
            &pepper,
        )
        .unwrap(),
    );
    rotated.check_keys().await.expect("rotated keys accepted");
    assert!(rotated.verify_letter(&letter).await.unwrap());
    // Dropping the old key while signatures need it is refused at startup, naming the key.
    let dropped = app
        .store
        .clone()
        .with_keys(store::Keys::parse(&format!("letter-2028={}", other_b64(7)), &pepper).unwrap());
    let err = dropped.check_keys().await.unwrap_err().to_string();
    assert!(err.contains("demo-letter-key"), "{err}");
    // Reusing a key id for another secret is refused too.
    let reused = app.store.clone().with_keys(
        store::Keys::parse(&format!("demo-letter-key={}", other_b64(9)), &pepper).unwrap(),
    );
    let err = reused.check_keys().await.unwrap_err().to_string();
    assert!(
        err.contains("demo-letter-key") && err.contains("指纹"),
        "{err}"
    );

    // A database of an earlier version kept its key in `platform_keys`. Rebuild that state:
    // the table with a key, the demo's signatures made with it, migration 9 not applied.
    let legacy_secret = [7u8; 32];
    let legacy = domain::signature::HmacSigner::new("letter-hmac-1", legacy_secret.to_vec());
    let sigs: Vec<(i64, String, String, i64, String)> =
        sqlx::query("SELECT id, doc_sha256, party, signer_id, signed_at FROM letter_signatures")
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
            .collect();
    for (id, sha, party, signer, at) in &sigs {
        use domain::signature::Signer;
        let msg = domain::plan::signature_message(
            sha,
            domain::plan::Party::parse(party).unwrap(),
            &signer.to_string(),
            at,
        );
        sqlx::query(
            "UPDATE letter_signatures SET key_id = 'letter-hmac-1', signature = $1 WHERE id = $2",
        )
        .bind(legacy.sign(msg.as_bytes()))
        .bind(id)
        .execute(pool)
        .await
        .unwrap();
    }
    for stmt in [
        "CREATE TABLE platform_keys (key_id TEXT PRIMARY KEY, purpose TEXT NOT NULL, secret_hex TEXT NOT NULL, created_at TEXT NOT NULL)".to_string(),
        format!("INSERT INTO platform_keys VALUES ('letter-hmac-1', 'supervision-letter', '{}', '2026-01-01T00:00:00.000000Z')", hex::encode(legacy_secret)),
        "DROP TABLE key_fingerprints".to_string(),
        "DROP INDEX login_failures_at".to_string(),
        "DELETE FROM schema_migrations WHERE version = 9".to_string(),
    ] {
        sqlx::query(&stmt).execute(pool).await.unwrap();
    }
    assert!(
        !app.store.verify_letter(&letter).await.unwrap(),
        "the old key is not configured"
    );
    // Migrating signs them again with the configured key, then removes the old one.
    assert_eq!(app.store.migrate().await.unwrap(), 1);
    app.store.check_keys().await.unwrap();
    assert!(sqlx::query("SELECT COUNT(*) FROM platform_keys")
        .fetch_one(pool)
        .await
        .is_err());
    assert!(app.store.verify_letter(&letter).await.unwrap());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM letter_signatures WHERE key_id = 'demo-letter-key'")
            .await,
        sigs.len() as i64
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'keys.resign_letters'")
            .await,
        1
    );
    assert!(app.store.db.verify_audit_chain().await.unwrap().is_ok());
}

fn other_b64(x: u8) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([x; 32])
}
