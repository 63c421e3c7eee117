use crate::helpers::{spawn_app, DEMO_PASSWORD};

#[tokio::test]
async fn login_and_logout_through_the_pages() {
    let app = spawn_app().await;
    let c = app.client();
    // Not logged in: the dashboard sends us to the login page.
    let r = c.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");

    let r = c
        .post(app.url("/login"))
        .form(&[("username", "district-410105"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let page = c
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("我的待办"), "dashboard shows the work queue");
    assert!(page.contains("金水区"));

    let r = c.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions").await,
        0,
        "session ended in the database"
    );
    let r = c.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(r.status(), 303, "logged out");
}

#[tokio::test]
async fn wrong_password_shows_the_form_again() {
    let app = spawn_app().await;
    let r = app
        .client()
        .post(app.url("/login"))
        .form(&[("username", "admin"), ("password", "wrong-password-1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("用户名或密码错误"));
}

#[tokio::test]
async fn api_session_me_and_logout() {
    let app = spawn_app().await;
    let c = app.login("district-410105").await;
    let me: serde_json::Value = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "district-410105");
    assert_eq!(me["role"], "district");
    assert_eq!(me["district"], "410105");
    let r = c.delete(app.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["message"], "请先登录");
}

#[tokio::test]
async fn cross_site_post_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let c = app.login("admin").await;
    let users_before = app.count("SELECT COUNT(*) FROM users").await;
    let r = c
        .post(app.url("/api/v1/users"))
        .header("origin", "https://evil.example")
        .json(&serde_json::json!({
            "username": "mallory", "display_name": "M", "role": "expert", "password": "Str0ng-password"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("跨站"));
    // A browser's fetch metadata says cross-site too.
    let r = c
        .post(app.url("/users"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("username", "mallory2"), ("role", "expert")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The login form itself is protected (login CSRF).
    let r = app
        .client()
        .post(app.url("/login"))
        .header("origin", "https://evil.example")
        .form(&[("username", "admin"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, users_before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE username LIKE 'mallory%'")
            .await,
        0
    );
}

#[tokio::test]
async fn lockout_follows_repeated_wrong_passwords() {
    let app = spawn_app().await;
    let c = app.client();
    for _ in 0..5 {
        let _ = c
            .post(app.url("/api/v1/session"))
            .json(&serde_json::json!({ "username": "inst-1", "password": "not-the-password" }))
            .send()
            .await
            .unwrap();
    }
    // Now even the right password is refused, with a Chinese reason.
    let r = c
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({ "username": "inst-1", "password": DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("锁定"), "{body}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.lockout'")
            .await,
        1
    );
    // Other accounts are unaffected.
    app.login("inst-2").await;
    // The admin unlocks it; then the right password works.
    let admin = app.login("admin").await;
    let id = app.user_id("inst-1").await;
    let user: serde_json::Value = admin
        .get(app.url(&format!("/api/v1/users/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = admin
        .post(app.url(&format!("/users/{id}/state")))
        .form(&[
            ("version", user["version"].to_string()),
            ("unlock", "true".to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    app.login("inst-1").await;
}

#[tokio::test]
async fn bearer_token_authenticates_api_calls() {
    let app = spawn_app().await;
    let actor = store::Actor::system("test");
    let uid = app.user_id("district-410102").await;
    let token = app
        .store
        .issue_api_token(&actor, uid, "对接测试", Some(30))
        .await
        .unwrap()
        .0;
    let c = reqwest::Client::new();
    let me: serde_json::Value = c
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "district-410102");
    // A wrong token is a 401, not an anonymous visit.
    let r = c
        .get(app.url("/api/v1/me"))
        .bearer_auth("sev_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Stored only as a digest.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{token}'"
        ))
        .await,
        0
    );
}

#[tokio::test]
async fn password_change_requires_the_current_password() {
    let app = spawn_app().await;
    let c = app.client();
    c.post(app.url("/login"))
        .form(&[("username", "expert-1"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    let r = c
        .post(app.url("/account/password"))
        .form(&[
            ("current", "wrong"),
            ("new_password", "New-passw0rd!"),
            ("confirm", "New-passw0rd!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("当前密码不正确"));
    let r = c
        .post(app.url("/account/password"))
        .form(&[
            ("current", DEMO_PASSWORD),
            ("new_password", "New-passw0rd!"),
            ("confirm", "New-passw0rd!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = app
        .client()
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({ "username": "expert-1", "password": "New-passw0rd!" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
