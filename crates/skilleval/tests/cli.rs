//! The command line as an operator uses it: `migrate` and `audit verify` against a real database.

use std::process::Command;

fn skilleval(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_skilleval"))
        .args(args)
        .env("SKILLEVAL_LOG", "warn")
        .output()
        .expect("run skilleval")
}

async fn demo_db() -> (tempfile::TempDir, String, store::Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = store::testing::fresh_database_url(dir.path()).await;
    let store = store::testing::demo_store(&url).await;
    (dir, url, store)
}

#[tokio::test]
async fn audit_verify_passes_on_a_clean_database() {
    let (_dir, url, _store) = demo_db().await;
    let out = skilleval(&["audit", "verify", "--database", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("审计链完整"));
}

#[tokio::test]
async fn audit_verify_fails_on_an_altered_row() {
    let (_dir, url, store) = demo_db().await;
    store::testing::drop_audit_guard(&store).await;
    sqlx::query("UPDATE audit_events SET actor = 'mallory' WHERE seq = 7")
        .execute(&store.db.pool)
        .await
        .unwrap();
    let out = skilleval(&["audit", "verify", "--database", &url]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("第 7 条") && err.contains("篡改"), "{err}");
}

#[tokio::test]
async fn audit_verify_fails_on_a_deleted_row() {
    let (_dir, url, store) = demo_db().await;
    store::testing::drop_audit_guard(&store).await;
    sqlx::query("DELETE FROM audit_events WHERE seq = 12")
        .execute(&store.db.pool)
        .await
        .unwrap();
    let out = skilleval(&["audit", "verify", "--database", &url]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("第 12 条"), "{err}");
}

#[tokio::test]
async fn audit_verify_fails_on_a_row_inserted_out_of_place() {
    let (_dir, url, store) = demo_db().await;
    store::testing::drop_audit_guard(&store).await;
    // Shift the tail up by one and slip a forged row in at 5: its hash is self-consistent, but
    // the next row no longer points at it.
    use sqlx::Row;
    let max: i64 = sqlx::query("SELECT MAX(seq) FROM audit_events")
        .fetch_one(&store.db.pool)
        .await
        .unwrap()
        .get(0);
    for seq in (5..=max).rev() {
        sqlx::query("UPDATE audit_events SET seq = seq + 1 WHERE seq = $1")
            .bind(seq)
            .execute(&store.db.pool)
            .await
            .unwrap();
    }
    let prev: String = sqlx::query("SELECT hash FROM audit_events WHERE seq = 4")
        .fetch_one(&store.db.pool)
        .await
        .unwrap()
        .get(0);
    let forged = domain::audit::AuditEntry {
        seq: 5,
        at: "2026-01-01T00:00:00.000000Z".into(),
        actor_id: None,
        actor: "mallory".into(),
        role: "admin".into(),
        action: "user.create".into(),
        object_type: "user".into(),
        object_id: "999".into(),
        summary: "{}".into(),
        request_id: String::new(),
        client_addr: "10.0.0.1".into(),
        prev_hash: prev,
    };
    sqlx::query("INSERT INTO audit_events (seq, at, actor, role, action, object_type, object_id, summary, request_id, client_addr, prev_hash, hash) VALUES (5, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
        .bind(&forged.at).bind(&forged.actor).bind(&forged.role).bind(&forged.action).bind(&forged.object_type)
        .bind(&forged.object_id).bind(&forged.summary).bind(&forged.request_id).bind(&forged.client_addr)
        .bind(&forged.prev_hash).bind(forged.hash())
        .execute(&store.db.pool).await.unwrap();
    let out = skilleval(&["audit", "verify", "--database", &url]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("第 6 条"), "{err}");
}

#[tokio::test]
async fn migrate_from_empty_then_again_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let url = store::testing::fresh_database_url(dir.path()).await;
    let out = skilleval(&["migrate", "--database", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = store::MIGRATIONS.len();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("已应用 {n} 个迁移")));
    let out = skilleval(&["migrate", "--database", &url]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("已应用 0 个迁移"));
}

#[test]
fn a_bad_database_url_is_a_clear_error() {
    let out = skilleval(&["migrate", "--database", "mysql://nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("不支持的数据库地址"));
}

/// Three app servers started together on a fresh PostgreSQL database, after `skilleval migrate`,
/// all come up: the reference data (divisions, occupations, calendars) is loaded once, under a
/// lock, and the others find it loaded. Four rounds, each on a new database.
#[tokio::test]
async fn servers_starting_together_all_start() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    if !store::testing::on_postgres() {
        store::testing::announce_skipped(
            "servers_starting_together_all_start: several app servers on PostgreSQL (needs SKILLEVAL_TEST_PG)",
        );
        return;
    }
    let keys_dir = tempfile::tempdir().unwrap();
    let keys_file = keys_dir.path().join("keys.toml");
    assert!(
        skilleval(&["keys", "generate", "--out", &keys_file.to_string_lossy()])
            .status
            .success()
    );
    for round in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        let url = store::testing::fresh_database_url(dir.path()).await;
        let out = skilleval(&["migrate", "--database", &url]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut children: Vec<std::process::Child> = (0..3)
            .map(|n| {
                Command::new(env!("CARGO_BIN_EXE_skilleval"))
                    .args([
                        "serve",
                        "--listen",
                        "127.0.0.1:0",
                        "--database",
                        &url,
                        "--data-dir",
                        &dir.path().join(format!("s{n}")).to_string_lossy(),
                    ])
                    .env("SKILLEVAL_LOG", "warn")
                    .env("SKILLEVAL_KEYS_FILE", &keys_file)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("start server")
            })
            .collect();
        let mut started = 0;
        for c in &mut children {
            let stdout = c.stdout.take().unwrap();
            let line = tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                let _ = BufReader::new(stdout).read_line(&mut line);
                line
            });
            let line = tokio::time::timeout(std::time::Duration::from_secs(60), line)
                .await
                .expect("server answered within 60 s")
                .unwrap();
            if line.contains("已启动") {
                started += 1;
            } else {
                let mut err = String::new();
                let _ = std::io::Read::read_to_string(c.stderr.as_mut().unwrap(), &mut err);
                eprintln!("round {round}: server failed: {err}");
            }
        }
        for c in &mut children {
            let _ = c.kill();
            let _ = c.wait();
        }
        assert_eq!(started, 3, "round {round}: every server starts");
        // Reference data loaded exactly once.
        let store = store::Store::open(&url, 2, store::PasswordParams::fast_for_tests())
            .await
            .unwrap();
        use sqlx::Row;
        let loads: i64 =
            sqlx::query("SELECT COUNT(*) FROM audit_events WHERE action = 'reference.load'")
                .fetch_one(&store.db.pool)
                .await
                .unwrap()
                .get(0);
        assert_eq!(loads, 1, "round {round}");
    }
}

#[test]
fn serve_refuses_to_start_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = skilleval(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &dir.path().to_string_lossy(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("未配置密钥") && err.contains("skilleval keys generate"),
        "{err}"
    );
}

/// Start `serve` on `data_dir` with `keys_file`; returns whether it started (and stops it), or
/// its error output.
fn serve_once(data_dir: &std::path::Path, keys_file: &std::path::Path) -> Result<(), String> {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_skilleval"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("SKILLEVAL_LOG", "warn")
        .env("SKILLEVAL_KEYS_FILE", keys_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let mut line = String::new();
    let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
    let started = line.contains("已启动");
    let _ = child.kill();
    let _ = child.wait();
    if started {
        return Ok(());
    }
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    Err(err)
}

/// `keys generate` writes a private key file; `serve` records its fingerprints; a server started
/// later with another pepper stops with a clear error; `keys rotate-letter-key` keeps the old key.
#[test]
fn keys_generate_rotate_and_startup_check() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys.toml");
    let out = skilleval(&["keys", "generate", "--out", &keys.to_string_lossy()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keys).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    }
    let out = skilleval(&["keys", "generate", "--out", &keys.to_string_lossy()]);
    assert!(!out.status.success(), "never overwrites a key file");

    let data = dir.path().join("data");
    serve_once(&data, &keys).expect("starts with its keys");
    serve_once(&data, &keys).expect("and again");
    // Another key file (another pepper) on the same database: refused, naming the setting.
    let other = dir.path().join("other.toml");
    assert!(
        skilleval(&["keys", "generate", "--out", &other.to_string_lossy()])
            .status
            .success()
    );
    let err = serve_once(&data, &other).expect_err("another pepper is refused");
    assert!(err.contains("id_pepper") && err.contains("指纹"), "{err}");

    // Rotation: a new signing key in front, the old one kept; the server still starts.
    let show = |file: &std::path::Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_skilleval"))
            .args(["keys", "show"])
            .env("SKILLEVAL_KEYS_FILE", file)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let before = show(&keys);
    let text = std::fs::read_to_string(&keys).unwrap();
    let pepper_line = text.lines().find(|l| l.starts_with("id_pepper")).unwrap();
    let secret = pepper_line.split('"').nth(1).unwrap();
    assert!(
        !before.contains(secret),
        "show prints fingerprints, never keys"
    );
    let out = skilleval(&[
        "keys",
        "rotate-letter-key",
        "--keys-file",
        &keys.to_string_lossy(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = show(&keys);
    let letter_lines = |s: &str| {
        s.lines()
            .filter(|l| l.starts_with("letter_keys"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(letter_lines(&before).len(), 1);
    assert_eq!(letter_lines(&after).len(), 2);
    assert_eq!(
        letter_lines(&after)[1].replace("(仅验证)", "(签名)"),
        letter_lines(&before)[0],
        "the old key is kept, second"
    );
    assert!(std::fs::read_to_string(&keys)
        .unwrap()
        .contains(pepper_line));
    serve_once(&data, &keys).expect("starts after rotation");
}

#[tokio::test]
async fn audit_verify_with_anchor_names_the_gap() {
    let (dir, url, store) = demo_db().await;
    let keys = dir.path().join("keys.toml");
    let out = skilleval(&["keys", "generate", "--out", keys.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cfg = dir.path().join("skilleval.toml");
    let anchors = dir.path().join("anchors");
    std::fs::write(
        &cfg,
        format!(
            "keys_file = {:?}\nanchor_dir = {:?}\n",
            keys.to_str().unwrap(),
            anchors.to_str().unwrap()
        ),
    )
    .unwrap();
    let c = cfg.to_str().unwrap();
    let out = skilleval(&["--config", c, "audit", "anchor", "--database", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = anchors.join("anchors.jsonl");
    let f = file.to_str().unwrap();
    let out = skilleval(&[
        "--config",
        c,
        "audit",
        "verify",
        "--database",
        &url,
        "--anchor",
        f,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("锚点一致"));
    use sqlx::Row;
    let max: i64 = sqlx::query("SELECT MAX(seq) FROM audit_events")
        .fetch_one(&store.db.pool)
        .await
        .unwrap()
        .get(0);
    store::testing::drop_audit_guard(&store).await;
    sqlx::query("DELETE FROM audit_events WHERE seq > $1")
        .bind(max - 14)
        .execute(&store.db.pool)
        .await
        .unwrap();
    let out = skilleval(&[
        "--config",
        c,
        "audit",
        "verify",
        "--database",
        &url,
        "--anchor",
        f,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("截断") && err.contains(&format!("缺少第 {} 至 {max} 条", max - 13)),
        "{err}"
    );
    // A tampered anchor file is refused with a clear message.
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace(&format!("\"seq\":{max}"), "\"seq\":1")).unwrap();
    let out = skilleval(&[
        "--config",
        c,
        "audit",
        "verify",
        "--database",
        &url,
        "--anchor",
        f,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("签名无效"));
}

/// `outbox send` without a channel says so (messages stay pending); an incomplete channel is
/// refused naming the missing setting, before anything is sent.
#[tokio::test]
async fn outbox_send_needs_a_configured_channel() {
    let (_dir, url, _store) = demo_db().await;
    let out = skilleval(&["outbox", "send", "--once", "--database", &url]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("未配置发送通道"));
    let out = Command::new(env!("CARGO_BIN_EXE_skilleval"))
        .args(["outbox", "send", "--once", "--database", &url])
        .env("SKILLEVAL_LOG", "warn")
        .env("SKILLEVAL_SMTP_HOST", "127.0.0.1")
        .env("SKILLEVAL_SMTP_PASSWORD", "do-not-print-me")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("smtp_from"), "{err}");
    assert!(!err.contains("do-not-print-me"));
}

/// `retention run --dry-run` lists what is due and changes nothing; without it, only what both
/// keys approved is disposed (the demo's 中原区 paper record), never a held or half-approved one.
#[tokio::test]
async fn retention_run_disposes_only_what_both_keys_approved() {
    let (dir, url, store) = demo_db().await;
    let blobs = dir.path().join("no-blobs");
    let run = |dry: bool| {
        let mut args = vec!["retention", "run", "--database", url.as_str()];
        if dry {
            args.push("--dry-run");
        }
        Command::new(env!("CARGO_BIN_EXE_skilleval"))
            .args(&args)
            .env("SKILLEVAL_LOG", "warn")
            .env("SKILLEVAL_TODAY", store::testing::today().to_string())
            .env("SKILLEVAL_BLOBS_DIR", &blobs)
            .output()
            .expect("run skilleval")
    };
    let disposed = || async {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) FROM retention_records WHERE state = 'disposed'")
            .fetch_one(&store.db.pool)
            .await
            .unwrap()
            .get::<i64, _>(0)
    };
    let before = disposed().await;
    let out = run(true);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("已到期待销毁") && text.contains("演练"),
        "{text}"
    );
    assert!(text.contains("双方已同意的 1 件"), "{text}");
    assert_eq!(disposed().await, before, "a dry run changes nothing");
    let out = run(false);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("本次销毁 1 件"), "{text}");
    assert_eq!(disposed().await, before + 1);
    // Again: nothing left that both keys approved.
    let out = run(false);
    assert!(String::from_utf8_lossy(&out.stdout).contains("本次销毁 0 件"));
}

/// `bench-data` on a fresh database: a consistent set (every foreign key holds although the
/// SQLite load does not check them, the counters follow the certificates, the audit chain
/// verifies), the sample names real certificates, and SQLite is back in WAL mode afterwards.
#[tokio::test]
async fn bench_data_generates_a_consistent_set() {
    use sqlx::Row;
    let dir = tempfile::tempdir().unwrap();
    let url = store::testing::fresh_database_url(dir.path()).await;
    let sample = dir.path().join("sample.tsv");
    let out = skilleval(&[
        "bench-data",
        "--database",
        &url,
        "--certificates",
        "3000",
        "--demo",
        "--revoked-per-10k",
        "200",
        "--today",
        "2026-12-02",
        "--sample",
        sample.to_str().unwrap(),
        "--sample-every",
        "100",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = store::Store::open(&url, 2, store::PasswordParams::fast_for_tests())
        .await
        .unwrap();
    let db = &store.db.pool;
    let one = |sql: &'static str| async move {
        sqlx::query(sql)
            .fetch_one(db)
            .await
            .unwrap()
            .get::<i64, _>(0)
    };
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(" certificates=3000 "),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The generated plans (the demo data has certificates of its own).
    assert_eq!(
        one("SELECT COUNT(*) FROM certificates WHERE plan_id IN (SELECT id FROM plans WHERE venue LIKE '郑州市示范路%实训楼')").await,
        3000
    );
    let revoked = one("SELECT COUNT(*) FROM certificates WHERE state = 'revoked'").await;
    let changes =
        one("SELECT COUNT(*) FROM cert_changes WHERE kind = 'revoke' AND status = 'applied'").await;
    assert!(revoked > 0 && revoked == changes, "{revoked} {changes}");
    // Every certificate has its batch item, and the counters are past every serial used.
    assert_eq!(
        one("SELECT COUNT(*) FROM certificates c WHERE c.batch_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM cert_batch_items i WHERE i.batch_id = c.batch_id AND i.candidate_id = c.candidate_id)").await,
        0
    );
    assert_eq!(
        one("SELECT COUNT(*) FROM certificates c WHERE c.status_index > (SELECT last_index FROM cert_status_counter)").await,
        0
    );
    if store.db.backend == store::Backend::Sqlite {
        let broken = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(db)
            .await
            .unwrap();
        assert!(
            broken.is_empty(),
            "{} rows break a foreign key",
            broken.len()
        );
        let mode: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(db)
            .await
            .unwrap()
            .get(0);
        assert_eq!(mode, "wal");
    }
    let lines = std::fs::read_to_string(&sample).unwrap();
    assert!(lines.lines().count() >= 25, "{lines}");
    for line in lines.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let name: String = sqlx::query(
            "SELECT holder_name FROM certificates WHERE cert_no = $1 AND published = 1",
        )
        .bind(f[0])
        .fetch_one(db)
        .await
        .unwrap()
        .get(0);
        assert_eq!(name, f[1]);
        assert!(f[2].starts_with(&format!("/v/{}?s=", f[0])), "{}", f[2]);
    }
    let out = skilleval(&["audit", "verify", "--database", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
