//! Migrations from empty, on SQLite and (with SKILLEVAL_TEST_PG) on PostgreSQL, including
//! several app servers starting at once.

extern crate skilleval_store as store;

use store::{PasswordParams, Store};

#[tokio::test]
async fn migrations_from_empty() {
    let dir = tempfile::tempdir().unwrap();
    let url = store::testing::fresh_database_url(dir.path()).await;
    let s = Store::open(&url, 2, PasswordParams::fast_for_tests())
        .await
        .unwrap();
    assert_eq!(s.db.migrate().await.unwrap(), store::MIGRATIONS.len());
    let expected: Vec<i64> = store::MIGRATIONS.iter().map(|m| m.0).collect();
    assert_eq!(s.db.applied_migrations().await.unwrap(), expected);
    assert_eq!(
        s.db.migrate().await.unwrap(),
        0,
        "second run applies nothing"
    );
    // The schema is usable: reference data loads into it.
    let (d, o, c) = s
        .load_reference(&store::ReferenceFiles::builtin())
        .await
        .unwrap();
    assert!(d >= 16 && o >= 30 && c == 3);
}

#[tokio::test]
async fn concurrent_app_servers_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = store::testing::fresh_database_url(dir.path()).await;
    let mut handles = vec![];
    for _ in 0..4 {
        let url = url.clone();
        handles.push(tokio::spawn(async move {
            let s = Store::open(&url, 2, PasswordParams::fast_for_tests())
                .await
                .unwrap();
            s.db.migrate().await
        }));
    }
    let mut applied = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(n) => applied += n,
            // SQLite serialises by file lock; a loser may see "database is locked" and is retried by the operator.
            Err(e) if !store::testing::on_postgres() => eprintln!("sqlite concurrent migrate: {e}"),
            Err(e) => panic!("{e}"),
        }
    }
    if store::testing::on_postgres() {
        assert_eq!(
            applied,
            store::MIGRATIONS.len(),
            "exactly one server applied each migration"
        );
    }
    let s = Store::open(&url, 2, PasswordParams::fast_for_tests())
        .await
        .unwrap();
    assert_eq!(s.db.migrate().await.unwrap(), 0);
}

#[tokio::test]
async fn audit_appends_from_many_tasks_keep_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let url = store::testing::fresh_database_url(dir.path()).await;
    let s = store::testing::demo_store(&url).await;
    let before = s.db.verify_audit_chain().await.unwrap().unwrap().entries;
    let mut handles = vec![];
    for i in 0..20 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            store::audit::record(
                &s.db,
                &store::Actor::system("test"),
                store::NewEvent {
                    action: "test.concurrent",
                    object_type: "test",
                    object_id: i.to_string(),
                    summary: serde_json::json!({}),
                },
            )
            .await
            .unwrap();
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let after =
        s.db.verify_audit_chain()
            .await
            .unwrap()
            .expect("chain intact");
    assert_eq!(after.entries, before + 20);
}
