//! 属地管理: a district sees only its district, an institution only itself, through pages and API.

use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test]
async fn district_cannot_read_or_change_another_districts_institution() {
    let app = spawn_app().await;
    let own = app.institution_in("410105").await;
    let other = app.institution_in("410102").await;
    let c = app.login("district-410105").await;

    assert_eq!(
        c.get(app.url(&format!("/api/v1/institutions/{own}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(app.url(&format!("/institutions/{own}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    for path in [
        format!("/api/v1/institutions/{other}"),
        format!("/institutions/{other}"),
        format!("/institutions/{other}/edit"),
    ] {
        let r = c.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let before: serde_json::Value = app
        .login("center")
        .await
        .get(app.url(&format!("/api/v1/institutions/{other}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut changed = before.clone();
    changed["name"] = "被篡改的名称".into();
    let r = c
        .put(app.url(&format!("/api/v1/institutions/{other}")))
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .post(app.url(&format!("/institutions/{other}/edit")))
        .form(&[
            ("name", "被篡改的名称"),
            ("credit_code", before["credit_code"].as_str().unwrap()),
            ("kind", "social_org"),
            ("reg_address", "x"),
            ("reg_district", "410102"),
            ("version", &before["version"].to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM institutions WHERE name = '被篡改的名称'")
            .await,
        0,
        "database unchanged"
    );

    // The list holds only its own district.
    let list: serde_json::Value = c
        .get(app.url("/api/v1/institutions?per_page=200"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i["district_code"] == "410105"));
    // Filtering by another district does not widen the scope.
    let list: serde_json::Value = c
        .get(app.url("/api/v1/institutions?district=410102"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn district_cannot_read_another_districts_user() {
    let app = spawn_app().await;
    let other = app.user_id("district-410102").await;
    let own = app.user_id("sup-410105-1").await;
    let c = app.login("district-410105").await;
    assert_eq!(
        c.get(app.url(&format!("/api/v1/users/{own}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(app.url(&format!("/api/v1/users/{other}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        c.get(app.url(&format!("/users/{other}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let list: serde_json::Value = c
        .get(app.url("/api/v1/users?per_page=200"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["district_code"] == "410105"));
    // Nor change one: the state change is refused before anything is written.
    let audit_before = app.count("SELECT COUNT(*) FROM audit_events").await;
    let r = c
        .post(app.url(&format!("/users/{other}/state")))
        .form(&[("version", "1"), ("active", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        app.count(&format!("SELECT active FROM users WHERE id = {other}"))
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events").await,
        audit_before
    );
}

#[tokio::test]
async fn institution_sees_only_itself() {
    let app = spawn_app().await;
    let c = app.login("inst-1").await;
    let me: serde_json::Value = c
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let own = me["institution_id"].as_i64().unwrap();
    let list: serde_json::Value = c
        .get(app.url("/api/v1/institutions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], own);
    let other = app.institution_in("410102").await;
    assert_ne!(own, other);
    assert_eq!(
        c.get(app.url(&format!("/api/v1/institutions/{other}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        c.get(app.url(&format!("/institutions/{other}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // No user administration at all.
    assert_eq!(
        c.get(app.url("/api/v1/users"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(c.get(app.url("/users")).send().await.unwrap().status(), 403);
    // The institution list page sends it to its own record.
    let r = c.get(app.url("/institutions")).send().await.unwrap();
    assert_eq!(
        r.headers()["location"],
        format!("/institutions/{own}").as_str()
    );
}

/// Every role against every area: what each may list, and that nothing leaks past its scope.
#[tokio::test]
async fn jurisdiction_matrix() {
    let app = spawn_app().await;
    let total_inst = app.count("SELECT COUNT(*) FROM institutions").await;
    let in_410105 = app
        .count("SELECT COUNT(*) FROM institutions WHERE district_code = '410105'")
        .await;
    // (user, institutions visible via API, users list status)
    let cases: &[(&str, i64, u16)] = &[
        ("admin", total_inst, 200),
        ("center", total_inst, 200),
        ("bureau", total_inst, 403),
        ("district-410105", in_410105, 200),
        ("inst-1", 1, 403),
        ("expert-1", 0, 403),
        ("sup-city-1", 0, 403),
    ];
    for (user, visible, users_status) in cases {
        let c = app.login(user).await;
        let r = c
            .get(app.url("/api/v1/institutions?per_page=200"))
            .send()
            .await
            .unwrap();
        // Experts and supervisors have no business with the register: the table refuses them.
        if *visible == 0 {
            assert_eq!(r.status().as_u16(), 403, "{user} institutions");
            continue_checks(&app, &c, user, *users_status).await;
            continue;
        }
        let list: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            list["total"].as_i64().unwrap(),
            *visible,
            "{user} institutions"
        );
        continue_checks(&app, &c, user, *users_status).await;
    }
}

async fn continue_checks(
    app: &crate::helpers::TestApp,
    c: &reqwest::Client,
    user: &str,
    users_status: u16,
) {
    {
        let r = c.get(app.url("/api/v1/users")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), users_status, "{user} users");
        let r = c.get(app.url("/api/v1/audit/verify")).send().await.unwrap();
        let audit_ok = matches!(user, "admin" | "center" | "bureau");
        assert_eq!(
            r.status().as_u16(),
            if audit_ok { 200 } else { 403 },
            "{user} audit"
        );
        let r = c.get(app.url("/admin/occupations")).send().await.unwrap();
        assert_eq!(
            r.status().as_u16(),
            if user == "admin" { 200 } else { 403 },
            "{user} admin pages"
        );
    }
}

#[tokio::test]
async fn only_the_city_center_creates_district_accounts() {
    let app = spawn_app().await;
    let body = serde_json::json!({ "username": "district-410105-b", "display_name": "金水区人社局（二）", "role": "district", "district": "410105", "password": "Str0ng-password" });
    let r = app
        .login("admin")
        .await
        .post(app.url("/api/v1/users"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let msg: serde_json::Value = r.json().await.unwrap();
    assert!(msg["message"].as_str().unwrap().contains("二(一)"));
    let r = app
        .login("center")
        .await
        .post(app.url("/api/v1/users"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = app
        .login("district-410105")
        .await
        .post(app.url("/api/v1/users"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// Every route that names a record, for every record type: a caller outside the record's area (a
/// district of another area, another institution) gets 403 or 404 through pages and API alike,
/// and nothing changes. The records are the demo's, all of institution inst-1 in 410105.
#[tokio::test]
async fn jurisdiction_matrix_every_record() {
    use domain::Reach;
    let app = spawn_app().await;
    let inst = app
        .count("SELECT institution_id FROM users WHERE username = 'inst-1'")
        .await;
    let first = |sql: String| {
        let app = &app;
        async move {
            use sqlx::Row;
            sqlx::query(&sql)
                .fetch_optional(&app.store.db.pool)
                .await
                .unwrap()
                .map(|r| r.get::<i64, _>(0))
        }
    };
    let filing = first(format!(
        "SELECT id FROM filing_applications WHERE institution_id = {inst} ORDER BY id"
    ))
    .await;
    let plan = first(format!(
        "SELECT id FROM plans WHERE institution_id = {inst} ORDER BY id"
    ))
    .await;
    let candidate = first(format!(
        "SELECT id FROM candidates WHERE institution_id = {inst} ORDER BY id"
    ))
    .await;
    let plan_of_candidate = first(format!(
        "SELECT plan_id FROM candidates WHERE institution_id = {inst} ORDER BY id"
    ))
    .await;
    let document = first(format!(
        "SELECT id FROM documents WHERE institution_id = {inst} ORDER BY id"
    ))
    .await;
    let draw = first(format!("SELECT d.id FROM expert_draws d JOIN filing_applications f ON f.id = d.application_id WHERE f.institution_id = {inst}")).await;
    let enterprise = first(
        "SELECT id FROM enterprise_register WHERE district_code = '410105' ORDER BY id".into(),
    )
    .await;
    let registration = first(
        "SELECT id FROM institution_registrations WHERE district_code = '410105' ORDER BY id"
            .into(),
    )
    .await;
    let exception =
        first("SELECT id FROM filing_exceptions WHERE district_code = '410105' ORDER BY id".into())
            .await;
    let user = first("SELECT id FROM users WHERE username = 'inst-1'".into()).await;
    let move_id = first(format!(
        "SELECT id FROM institution_district_moves WHERE institution_id = {inst}"
    ))
    .await;
    let outbox = first("SELECT id FROM outbox WHERE status = 'failed' ORDER BY id".into()).await;
    let notification = first("SELECT n.id FROM notifications n JOIN users u ON u.id = n.recipient_user_id WHERE u.username = 'inst-1'".into()).await;
    // A kept record of 410105 that is due (demo: closed years ago), so every step reaches it.
    let retention = first(
        "SELECT id FROM retention_records WHERE district_code = '410105' AND state = 'kept' ORDER BY due_on, id"
            .into(),
    )
    .await;

    // The id each path parameter takes, by the route's leading segment.
    let fill = |path: &str| -> Option<String> {
        let rest = path.trim_start_matches("/api/v1");
        let area = rest.trim_start_matches('/').split('/').next().unwrap_or("");
        let main_id = match area {
            "filings" => filing,
            "plans" => {
                if path.contains("{cid}") {
                    plan_of_candidate
                } else {
                    plan
                }
            }
            "candidates" => candidate,
            "documents" => document,
            "draws" => draw,
            "enterprises" => enterprise,
            "registrations" => registration,
            "filing-exceptions" => exception,
            "users" => user,
            "institutions" | "efilings" => Some(inst),
            "district-moves" => move_id,
            "notifications" => notification,
            "outbox" => outbox,
            "retention" => retention,
            _ => None,
        }?;
        let mut out = String::new();
        let mut name = String::new();
        let mut in_param = false;
        for c in path.chars() {
            match c {
                '{' => {
                    in_param = true;
                    name.clear();
                }
                '}' => {
                    in_param = false;
                    let v = match name.as_str() {
                        "id" | "inst" | "institution_id" => main_id.to_string(),
                        "cid" => candidate?.to_string(),
                        "doc" => document?.to_string(),
                        "cmd" => "submit".into(),
                        "what" => "publish".into(),
                        _ => return None,
                    };
                    out.push_str(&v);
                }
                _ if in_param => name.push(c),
                _ => out.push(c),
            }
        }
        Some(out)
    };

    let mut routes: Vec<(String, String)> = web::page_routes()
        .entries()
        .iter()
        .filter(|e| e.action.reach() != Reach::Public && e.path.contains('{'))
        .map(|e| (e.method.to_string(), e.path.to_string()))
        .collect();
    let doc = serde_json::to_value(web::api::openapi_document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let public = op["x-permission"].as_str() == Some(domain::Action::PublicView.key());
            if path.contains('{') && !public && op.get("x-permission").is_some() {
                routes.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    let before = table_counts(&app).await;
    let mut covered = std::collections::BTreeSet::new();
    let mut problems = vec![];
    for outsider in ["district-410102", "inst-2"] {
        let c = app.login(outsider).await;
        for (method, path) in &routes {
            let Some(url) = fill(path) else { continue };
            covered.insert(
                path.trim_start_matches("/api/v1")
                    .split('/')
                    .nth(1)
                    .unwrap_or("")
                    .to_string(),
            );
            let send = |url: String| {
                let mut req = c.request(method.parse().unwrap(), app.url(&url));
                if method != "GET" {
                    req = req.json(&json!({}));
                }
                async move { req.send().await.unwrap().status().as_u16() }
            };
            let status = send(url.clone()).await;
            // The same request for a record that does not exist: an outsider must not be able
            // to tell the two apart (a malformed body may be refused first, alike for both).
            let missing = send(missing_ids(&url)).await;
            let refused = matches!(status, 403 | 404) || (method != "GET" && status == missing);
            if !refused || !(400..500).contains(&status) {
                problems.push(format!(
                    "{outsider} {method} {url} ({path}) → {status}, missing record → {missing}"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "records reached outside their area:\n{}",
        problems.join("\n")
    );
    assert_eq!(
        table_counts(&app).await,
        before,
        "a refused request changed records"
    );
    for area in [
        "filings",
        "plans",
        "candidates",
        "documents",
        "draws",
        "enterprises",
        "registrations",
        "institutions",
        "efilings",
        "users",
        "retention",
    ] {
        assert!(
            covered.contains(area),
            "no route of {area} was tried: {covered:?}"
        );
    }
}

/// The URL with every number in it replaced by an id no record has.
fn missing_ids(url: &str) -> String {
    url.split('/')
        .map(|seg| {
            if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
                "987654".to_string()
            } else {
                seg.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn table_counts(app: &crate::helpers::TestApp) -> Vec<i64> {
    let mut v = vec![];
    for t in [
        "institutions",
        "users",
        "documents",
        "filing_applications",
        "filing_events",
        "expert_draws",
        "draw_members",
        "plans",
        "plan_events",
        "supervision_assignments",
        "letter_signatures",
        "candidates",
        "efilings",
        "institution_registrations",
        "enterprise_guidance",
        "paper_records",
        "retention_records",
        "retention_disposals",
        "retention_holds",
        "notifications",
        "institution_district_moves",
        "filing_exceptions",
    ] {
        v.push(app.count(&format!("SELECT COUNT(*) FROM {t}")).await);
    }
    v
}
