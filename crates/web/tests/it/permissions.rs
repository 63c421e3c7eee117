//! The one permission table (`domain::permission`) walked against every route of the router:
//! pages from `web::page_routes()`, API operations from the OpenAPI document, which the same
//! route list builds.

use crate::helpers::spawn_app;
use domain::{Action, Reach, Role};
use reqwest::Method;

/// A demo account of each role.
const ACCOUNTS: &[(Role, &str)] = &[
    (Role::Admin, "admin"),
    (Role::CityCenter, "center"),
    (Role::CityDivision, "bureau"),
    (Role::District, "district-410105"),
    (Role::Institution, "inst-1"),
    (Role::Expert, "expert-1"),
    (Role::Supervisor, "sup-city-1"),
];

struct Route {
    method: Method,
    path: String,
    action: Action,
}

/// Every route with its action: pages as registered, API operations from `x-permission`.
fn every_route() -> Vec<Route> {
    let mut routes: Vec<Route> = web::page_routes()
        .entries()
        .iter()
        .map(|e| Route {
            method: Method::from_bytes(e.method.as_str().as_bytes()).unwrap(),
            path: e.path.to_string(),
            action: e.action,
        })
        .collect();
    let doc = serde_json::to_value(web::api::openapi_document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(m) = Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            if !matches!(
                m,
                Method::GET | Method::POST | Method::PUT | Method::PATCH | Method::DELETE
            ) {
                continue;
            }
            let key = op["x-permission"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} names no permission"));
            let action = Action::parse(key).unwrap_or_else(|| panic!("{key}: no such action"));
            let roles: Vec<&str> = op["x-roles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            let table: Vec<&str> = action.roles().iter().map(|r| r.as_str()).collect();
            assert_eq!(
                roles, table,
                "{method} {path}: x-roles differ from the table"
            );
            routes.push(Route {
                method: m,
                path: path.clone(),
                action,
            });
        }
    }
    routes
}

/// Path parameters filled with an id no record has: the permission is decided before the record.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push_str("987654");
            }
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

#[tokio::test]
async fn permission_table_covers_every_route() {
    let app = spawn_app().await;
    let routes = every_route();
    assert!(routes.len() > 150, "only {} routes found", routes.len());
    // Every action of the table is used by some route, so the table holds nothing dead.
    for a in Action::ALL {
        assert!(
            routes.iter().any(|r| r.action == *a)
                || matches!(
                    a,
                    Action::FilingApprove
                        | Action::FilingFinish
                        | Action::PlanDistrictReview
                        | Action::PlanCityConfirm
                        | Action::PlanCancel
                ),
            "{a:?} is in the table but no route needs it"
        );
    }
    let before = snapshot(&app).await;
    let mut checked = 0;
    let mut problems = vec![];
    let clients = {
        let mut v = vec![];
        for (role, username) in ACCOUNTS {
            v.push((*role, app.login(username).await));
        }
        v
    };
    // First every refusal, then the records are compared, then every allowed request.
    for pass_allowed in [false, true] {
        for (role, c) in &clients {
            for r in &routes {
                if r.path == "/api/v1/session" || r.path == "/logout" {
                    continue; // logging out would end this client's session
                }
                let allowed = r.action.permits(*role);
                if allowed != pass_allowed {
                    continue;
                }
                let mut req = c.request(r.method.clone(), app.url(&concrete(&r.path)));
                if r.method != Method::GET {
                    req = req.json(&serde_json::json!({}));
                }
                let status = req.send().await.unwrap().status().as_u16();
                if !allowed && status != 403 {
                    problems.push(format!(
                        "{role:?} {} {} → {status}, table says 403",
                        r.method, r.path
                    ));
                }
                if allowed && status == 403 {
                    problems.push(format!(
                        "{role:?} {} {} → 403, table allows {:?}",
                        r.method, r.path, r.action
                    ));
                }
                checked += 1;
            }
        }
        if !pass_allowed {
            assert_eq!(
                snapshot(&app).await,
                before,
                "a refused request changed records"
            );
        }
    }
    // A visitor without a session reaches only the public routes.
    let anon = app.client();
    for r in &routes {
        if r.action.reach() == Reach::Public {
            continue;
        }
        let status = anon
            .request(r.method.clone(), app.url(&concrete(&r.path)))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if !matches!(status, 401 | 303) {
            problems.push(format!(
                "visitor {} {} → {status}, needs a login",
                r.method, r.path
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {checked} checks failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Row counts of the business tables (not sessions or the audit trail, which logins touch).
async fn snapshot(app: &crate::helpers::TestApp) -> Vec<i64> {
    let mut v = vec![];
    for t in [
        "institutions",
        "users",
        "api_tokens",
        "documents",
        "filing_applications",
        "filing_events",
        "filing_exceptions",
        "filing_campaigns",
        "increment_rounds",
        "experts",
        "expert_draws",
        "plans",
        "plan_events",
        "supervision_assignments",
        "letter_signatures",
        "supervision_reports",
        "candidates",
        "efilings",
        "supervisor_relations",
        "province_reports",
        "institution_district_moves",
        "institution_registrations",
        "enterprise_register",
        "enterprise_guidance",
        "paper_records",
        "retention_records",
        "retention_disposals",
        "retention_holds",
        "divisions",
        "occupations",
        "calendar_days",
    ] {
        v.push(app.count(&format!("SELECT COUNT(*) FROM {t}")).await);
    }
    v
}

/// Each role's menu links only to pages the table lets it open.
#[tokio::test]
async fn menu_follows_the_table() {
    let app = spawn_app().await;
    let pages = web::page_routes();
    for (role, username) in ACCOUNTS {
        let html = app
            .login(username)
            .await
            .get(app.url("/dashboard"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let nav = html
            .split("<nav")
            .nth(1)
            .and_then(|s| s.split("</nav>").next())
            .unwrap_or("");
        let mut links = 0;
        for href in nav
            .split("href=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
        {
            let Some(e) = pages
                .entries()
                .iter()
                .find(|e| e.path == href && e.method == axum::http::Method::GET)
            else {
                continue;
            };
            links += 1;
            assert!(
                e.action.permits(*role),
                "{role:?} sees {href} in its menu, the table refuses {:?}",
                e.action
            );
        }
        assert!(links >= 3, "{role:?}: no menu found");
    }
}
