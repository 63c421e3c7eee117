use crate::helpers::spawn_app;

#[tokio::test]
async fn every_change_is_audited_with_actor_and_request() {
    let app = spawn_app().await;
    let c = app.login("district-410105").await;
    let id = app.institution_in("410105").await;
    let mut inst: serde_json::Value = c
        .get(app.url(&format!("/api/v1/institutions/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    inst["contact_phone"] = "0371-66668888".into();
    let r = c
        .put(app.url(&format!("/api/v1/institutions/{id}")))
        .json(&inst)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    use sqlx::Row;
    let row = sqlx::query("SELECT actor, role, request_id, client_addr, summary FROM audit_events WHERE action = 'institution.update' AND object_id = $1")
        .bind(id.to_string())
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>(0), "district-410105");
    assert_eq!(row.get::<String, _>(1), "district");
    assert_eq!(row.get::<String, _>(2).len(), 32, "request id recorded");
    assert_eq!(row.get::<String, _>(3), "127.0.0.1");
    assert!(row.get::<String, _>(4).contains("0371-66668888"));
    // A stale version is a conflict, and nothing is written.
    let r = c
        .put(app.url(&format!("/api/v1/institutions/{id}")))
        .json(&inst)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.json::<serde_json::Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("已被他人修改"));
}

#[tokio::test]
async fn audit_chain_verifies_then_detects_tampering() {
    let app = spawn_app().await;
    let report = app
        .store
        .db
        .verify_audit_chain()
        .await
        .unwrap()
        .expect("clean chain");
    assert!(report.entries > 10);
    sqlx::query("UPDATE audit_events SET summary = '{}' WHERE seq = 5")
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    let brk = app
        .store
        .db
        .verify_audit_chain()
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(brk.seq, 5);
    // The API reports the same.
    let v: serde_json::Value = app
        .login("admin")
        .await
        .get(app.url("/api/v1/audit/verify"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["seq"], 5);
}
