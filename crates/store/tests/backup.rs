//! Backups of the embedded deployment (issue 10 §3): a round trip while writes go on, and a
//! damaged backup refused before anything is touched.

extern crate skilleval_store as store;

use std::sync::Arc;

use store::audit::Actor;
use store::backup::{self, BackupError};
use store::{NewDocument, Store};

/// A small valid PDF, varied by `n` so every upload is a new blob.
fn pdf(n: usize) -> Vec<u8> {
    format!("%PDF-1.4\n% backup test {n}\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").into_bytes()
}

async fn upload(s: &Store, inst: i64, n: usize) {
    s.add_document(
        &Actor::system("backup-test"),
        NewDocument {
            owner_type: "institution".into(),
            owner_id: inst,
            institution_id: Some(inst),
            district_code: None,
            kind: "business_license".into(),
            filename: format!("营业执照{n}.pdf"),
            retention_until: None,
        },
        &pdf(n),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn backup_restore_round_trip() {
    if store::testing::on_postgres() {
        store::testing::announce_skipped("backup_restore_round_trip (SQLite only: PostgreSQL uses pg_dump)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/live.db", dir.path().display());
    let blobs = dir.path().join("blobs");
    let s = store::testing::demo_store_with_blobs(&url, &blobs).await;
    let inst: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM institutions ORDER BY id LIMIT 1")
            .fetch_one(&s.db.pool)
            .await
            .unwrap()
            .get(0)
    };
    for n in 0..5 {
        upload(&s, inst, n).await;
    }
    // Writes go on while the backup runs.
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            for n in 5..60 {
                upload(&s, inst, n).await;
            }
        })
    };
    let to = dir.path().join("backup");
    let m = s
        .backup_to(&url, &blobs, &to, "2026-12-02T10:00:00Z")
        .await
        .unwrap();
    writer.await.unwrap();
    assert!(m.blobs.len() >= 5, "{} blobs", m.blobs.len());
    assert!(m.audit_seq > 0);

    // Restore into a new place; the chain verifies and every blob it names is there, intact.
    let restored_db = dir.path().join("restored").join("skilleval.db");
    let restored_blobs = dir.path().join("restored").join("blobs");
    backup::restore(&to, &restored_db, &restored_blobs).await.unwrap();
    let r = Store::open(
        &format!("sqlite://{}", restored_db.display()),
        2,
        store::PasswordParams::fast_for_tests(),
    )
    .await
    .unwrap()
    .with_blobs(Arc::new(store::LocalBlobStore::new(&restored_blobs)));
    let report = r.db.verify_audit_chain().await.unwrap().expect("audit chain intact");
    assert_eq!(report.entries, m.audit_seq);
    assert_eq!(report.head, m.audit_head);
    use sqlx::Row;
    let rows = sqlx::query("SELECT blob_key, sha256 FROM documents")
        .fetch_all(&r.db.pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), m.blobs.len().max(rows.len()));
    for row in rows {
        let key: String = row.get(0);
        let sha: String = row.get(1);
        let bytes = r.blobs.get(&key).await.expect("blob restored");
        assert_eq!(store::blobs::sha256_hex(&bytes), sha, "{key}");
    }
    // A second restore onto the same database is refused: nothing is overwritten.
    assert!(matches!(
        backup::restore(&to, &restored_db, &restored_blobs).await,
        Err(BackupError::TargetExists(_))
    ));
}

#[tokio::test]
async fn restore_refuses_damaged_backup() {
    if store::testing::on_postgres() {
        store::testing::announce_skipped("restore_refuses_damaged_backup (SQLite only)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/live.db", dir.path().display());
    let blobs = dir.path().join("blobs");
    let s = store::testing::demo_store_with_blobs(&url, &blobs).await;
    let inst: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM institutions ORDER BY id LIMIT 1")
            .fetch_one(&s.db.pool)
            .await
            .unwrap()
            .get(0)
    };
    upload(&s, inst, 1).await;
    let to = dir.path().join("backup");
    let m = s.backup_to(&url, &blobs, &to, "2026-12-02T10:00:00Z").await.unwrap();
    // Not over a non-empty directory.
    assert!(matches!(
        s.backup_to(&url, &blobs, &to, "2026-12-02T10:00:00Z").await,
        Err(BackupError::TargetNotEmpty(_))
    ));
    // One flipped byte in a blob: refused, and the target database is not created.
    let blob = to.join(&m.blobs[0].path);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    let target = dir.path().join("restored.db");
    let err = backup::restore(&to, &target, &dir.path().join("rblobs")).await.unwrap_err();
    assert!(matches!(err, BackupError::Checksum { .. }), "{err}");
    assert!(err.to_string().contains("备份已损坏"));
    assert!(!target.exists());
    // A missing blob file: refused.
    std::fs::remove_file(&blob).unwrap();
    assert!(matches!(backup::verify_backup(&to).await, Err(BackupError::Missing(_))));
}
