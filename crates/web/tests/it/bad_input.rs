//! A client's mistake is a 4xx with a Chinese message naming the field, never a 500.

use crate::helpers::spawn_app;

#[tokio::test]
async fn unknown_route_is_a_chinese_page_or_json() {
    let app = spawn_app().await;
    let c = app.client();
    let r = c.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("页面不存在"));
    let r = c
        .get(app.url("/api/v1/no-such-thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["message"], "您要访问的页面或记录不存在");
}

#[tokio::test]
async fn malformed_json_and_wrong_fields_name_the_problem() {
    let app = spawn_app().await;
    let c = app.login("district-410105").await;
    let r = c
        .post(app.url("/api/v1/institutions"))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<serde_json::Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("JSON"));

    // Text in a numeric field.
    let r = c
        .post(app.url("/api/v1/institutions"))
        .json(&serde_json::json!({ "name": "测试机构", "credit_code": "91350100M000100Y43", "kind": "enterprise", "employees": "一百五十", "reg_address": "金水路1号", "reg_district": "410105" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["field"], "employees");
    assert!(body["message"].as_str().unwrap().contains("整数"));

    // An invalid credit code.
    let r = c
        .post(app.url("/api/v1/institutions"))
        .json(&serde_json::json!({ "name": "测试机构", "credit_code": "91350100M000100Y44", "kind": "enterprise", "reg_address": "金水路1号", "reg_district": "410105" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["field"], "credit_code");

    // A missing required field in a typed body.
    let r = c
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({ "username": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["field"],
        "password"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM institutions WHERE name = '测试机构'")
            .await,
        0
    );
}

#[tokio::test]
async fn oversized_body_is_413() {
    let app = spawn_app().await;
    let c = app.login("admin").await;
    let big = "x".repeat(3 * 1024 * 1024);
    let r = c
        .post(app.url("/api/v1/institutions"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("过大"));
}

#[tokio::test]
async fn invalid_form_is_shown_again_with_the_field_marked() {
    let app = spawn_app().await;
    let c = app.client();
    c.post(app.url("/login"))
        .form(&[
            ("username", "district-410105"),
            ("password", crate::helpers::DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let r = c
        .post(app.url("/institutions"))
        .form(&[
            ("name", "新机构"),
            ("credit_code", "123"),
            ("kind", "social_org"),
            ("reg_address", "金水路"),
            ("reg_district", "410105"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("has-error"));
    assert!(html.contains("统一社会信用代码"));
    // Another district is refused for a district officer (属地).
    let r = c
        .post(app.url("/institutions"))
        .form(&[
            ("name", "新机构"),
            ("credit_code", "91350100M000100Y43"),
            ("kind", "social_org"),
            ("reg_address", "中原路"),
            ("reg_district", "410102"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("属地管理"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM institutions WHERE name = '新机构'")
            .await,
        0
    );
}

#[tokio::test]
async fn security_headers_are_set() {
    let app = spawn_app().await;
    let r = app.client().get(app.url("/")).send().await.unwrap();
    let h = r.headers();
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert!(h.contains_key("x-request-id"));
}

#[tokio::test]
async fn health_metrics_and_openapi() {
    let app = spawn_app().await;
    let c = app.client();
    assert_eq!(
        c.get(app.url("/healthz")).send().await.unwrap().status(),
        200
    );
    let m = c
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains(
            "skilleval_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{m}"
    );
    let doc: serde_json::Value = c
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/session"]["post"].is_object());
    assert_eq!(
        c.get(app.url("/api/docs")).send().await.unwrap().status(),
        200
    );
}
