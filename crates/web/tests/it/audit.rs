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
    store::testing::drop_audit_guard(&app.store).await;
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

#[tokio::test]
async fn audit_rows_append_only() {
    let app = spawn_app().await;
    let pool = &app.store.db.pool;
    let before = app.store.db.verify_audit_chain().await.unwrap().unwrap();
    for sql in [
        "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3",
        "DELETE FROM audit_events WHERE seq = 3",
        "DELETE FROM audit_events",
    ] {
        let err = sqlx::query(sql).execute(pool).await.unwrap_err();
        assert!(err.to_string().contains("审计记录只能追加"), "{sql}: {err}");
    }
    // Nothing changed, and appending still works.
    let after = app.store.db.verify_audit_chain().await.unwrap().unwrap();
    assert_eq!((after.entries, &after.head), (before.entries, &before.head));
    store::audit::record(
        &app.store.db,
        &store::Actor::system("test"),
        store::NewEvent {
            action: "test.append",
            object_type: "test",
            object_id: "1".into(),
            summary: serde_json::json!({}),
        },
    )
    .await
    .unwrap();
    let grown = app.store.db.verify_audit_chain().await.unwrap().unwrap();
    assert_eq!(grown.entries, before.entries + 1);
}

#[tokio::test]
async fn audit_anchor_detects_truncation() {
    use store::anchor::{read_anchors, AnchorCheck};
    let dir = tempfile::tempdir().unwrap();
    let app = crate::helpers::spawn_app_with(web::WebConfig {
        anchor_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    })
    .await;
    let (last, _) = app.store.audit_head().await.unwrap();
    let a = app
        .store
        .anchor_to(dir.path(), "2026-12-02T08:00:00Z")
        .await
        .unwrap();
    assert_eq!(a.seq, last);
    let anchors = read_anchors(&dir.path().join(store::anchor::ANCHORS_FILE)).unwrap();
    assert_eq!(anchors, vec![a.clone()]);
    // Published at the public URL, without login.
    let published: Vec<store::anchor::Anchor> =
        reqwest::get(app.url("/api/v1/public/audit/anchors"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(published, anchors);
    assert_eq!(
        app.store.check_anchor(&a).await.unwrap(),
        AnchorCheck::Holds {
            anchored: last,
            last
        }
    );
    // Cut 3 rows off the end: the chain alone still looks whole, the anchor does not.
    store::testing::drop_audit_guard(&app.store).await;
    sqlx::query("DELETE FROM audit_events WHERE seq > $1")
        .bind(last - 3)
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    assert!(app.store.db.verify_audit_chain().await.unwrap().is_ok());
    let check = app.store.check_anchor(&a).await.unwrap();
    assert_eq!(
        check,
        AnchorCheck::Truncated {
            anchored: last,
            last: last - 3
        }
    );
    let shown = check.to_string();
    assert!(
        shown.contains(&format!("缺少第 {} 至 {last} 条", last - 2)),
        "{shown}"
    );
    // A wrong anchor: a changed seq breaks the signature; an unknown key id is named.
    let mut forged = a.clone();
    forged.seq = last - 3;
    let err = app
        .store
        .check_anchor(&forged)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("签名无效"), "{err}");
    let mut unknown = a.clone();
    unknown.key_id = "other-key".into();
    let err = app
        .store
        .check_anchor(&unknown)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("other-key") && err.contains("未知"), "{err}");
}
