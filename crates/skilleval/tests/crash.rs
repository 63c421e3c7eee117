//! Crash safety (issue 11 §4): the real `skilleval serve` binary is killed with SIGKILL at
//! seeded random points during bulk certificate issuance, an xlsx candidate import and a backup.
//! After each kill: no duplicate numbers, no partial batch visible to the public, the work
//! resumes or can be retried to completion, and `skilleval audit verify` passes.
//!
//! SQLite always; PostgreSQL too when `SKILLEVAL_TEST_PG` is set (backups are SQLite-only: a
//! PostgreSQL deployment backs up with pg_dump).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::Row;

const SEED: u64 = 20_261_202;
const ISSUE_KILLS: usize = 22;
const IMPORT_KILLS: usize = 6;
const BACKUP_KILLS: usize = 6;
/// Passed candidates per plan: enough that a kill lands mid-batch (a debug build issues some
/// thousands a second).
const PLAN_SIZE: i64 = 2_500;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_skilleval")
}

struct Server {
    child: Child,
    base: String,
}

/// Start `serve` on the database and data directory; waits for "已启动".
async fn start(url: &str, dir: &Path, run: usize) -> Server {
    let log = std::fs::File::create(dir.join(format!("serve-{run}.log"))).unwrap();
    let mut child = Command::new(bin())
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--database",
            url,
        ])
        .arg("--data-dir")
        .arg(dir)
        .env("SKILLEVAL_LOG", "warn")
        .env("SKILLEVAL_TODAY", store::testing::today().to_string())
        .env("SKILLEVAL_PUBLIC_QUERY_LIMIT", "1000000")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start server");
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        let mut r = BufReader::new(stdout);
        let _ = r.read_line(&mut line);
        // Keep reading (and dropping) so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while r.read_line(&mut sink).unwrap_or(0) > 0 {
                sink.clear();
            }
        });
        line
    });
    let line = tokio::time::timeout(Duration::from_secs(60), line)
        .await
        .expect("server answered within 60 s")
        .unwrap();
    let Some(base) = line
        .split("http://")
        .nth(1)
        .map(|a| format!("http://{}", a.trim()))
    else {
        let _ = child.kill();
        let log = std::fs::read_to_string(dir.join(format!("serve-{run}.log"))).unwrap_or_default();
        panic!("server {run} did not start: {line} {log}");
    };
    Server { child, base }
}

impl Server {
    fn kill(mut self) {
        // SIGKILL on Unix.
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    /// A failing test leaves no server behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn audit_verify(url: &str) {
    let out = Command::new(bin())
        .args(["audit", "verify", "--database", url])
        .env("SKILLEVAL_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "audit verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn count(pool: &sqlx::AnyPool, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

/// No number twice, no candidate with two first certificates, no status index twice.
async fn no_duplicates(pool: &sqlx::AnyPool) {
    for sql in [
        "SELECT COUNT(*) FROM (SELECT cert_no FROM certificates GROUP BY cert_no HAVING COUNT(*) > 1) d",
        "SELECT COUNT(*) FROM (SELECT candidate_id FROM certificates WHERE reissue_of IS NULL GROUP BY candidate_id HAVING COUNT(*) > 1) d",
        "SELECT COUNT(*) FROM (SELECT status_index FROM certificates GROUP BY status_index HAVING COUNT(*) > 1) d",
    ] {
        assert_eq!(count(pool, sql).await, 0, "{sql}");
    }
}

/// Every batch is all or nothing to the outside: a running batch publishes none of its
/// certificates, a done batch all of them (its total).
async fn batches_all_or_nothing(pool: &sqlx::AnyPool) {
    let rows = sqlx::query(
        "SELECT b.id, b.status, b.total, (SELECT COUNT(*) FROM certificates c WHERE c.batch_id = b.id AND c.published = 1), (SELECT COUNT(*) FROM certificates c WHERE c.batch_id = b.id) FROM cert_batches b",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for r in rows {
        let (id, status, total, published, all): (i64, String, i64, i64, i64) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
        assert!(all <= total, "batch {id}: {all} certificates of {total}");
        match status.as_str() {
            "running" | "failed" => {
                assert_eq!(published, 0, "batch {id} ({status}) is partly public")
            }
            "done" => assert_eq!(
                published, total,
                "batch {id} done but {published}/{total} public"
            ),
            other => panic!("batch {id}: status {other}"),
        }
    }
}

/// The public query finds no unpublished certificate (and does find a published one).
async fn public_sees_no_partial_batch(pool: &sqlx::AnyPool, http: &reqwest::Client, base: &str) {
    for (published, want) in [(0, 404), (1, 200)] {
        let row = sqlx::query(&format!(
            "SELECT cert_no, holder_name FROM certificates WHERE published = {published} AND state = 'valid' AND batch_id IS NOT NULL ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(pool)
        .await
        .unwrap();
        let Some(r) = row else { continue };
        let (no, name): (String, String) = (r.get(0), r.get(1));
        let resp = http
            .get(format!("{base}/api/v1/public/certificates/{no}"))
            .query(&[("name", name.as_str())])
            .send()
            .await
            .unwrap();
        let got = resp.status().as_u16();
        let page = http
            .get(format!("{base}/v/{no}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // Publication only goes one way: a certificate still unpublished after the answers
        // was unpublished when they were given (its batch may have finished meanwhile).
        let now: i64 = count(
            pool,
            &format!("SELECT published FROM certificates WHERE cert_no = '{no}'"),
        )
        .await;
        if published == 1 || now == 0 {
            assert_eq!(got, want, "public query of {no} (published {published})");
        }
        if now == 0 {
            assert!(
                !page.contains(&name),
                "/v/{no} shows an unpublished certificate"
            );
        }
    }
}

/// A confirmed plan of inst-1 with `n` passed candidates (photos shared), results submitted.
/// (`seed` modulo 100 must not be 7: the demo's issued candidates have those ID numbers.)
async fn big_plan(store: &store::Store, n: i64, seed: u32) -> i64 {
    let names: Vec<String> = (0..2).map(|i| format!("崩溃{seed}甲{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let plan = store::demo_certificates::submitted_plan(
        store,
        store::testing::today(),
        30,
        &refs,
        &[],
        &[],
        seed,
    )
    .await
    .expect("submitted plan");
    let first: i64 = sqlx::query("SELECT MIN(id) FROM candidates WHERE plan_id = $1")
        .bind(plan.id)
        .fetch_one(&store.db.pool)
        .await
        .unwrap()
        .get(0);
    sqlx::query(
        "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < $2) \
         INSERT INTO candidates (plan_id, institution_id, district_code, name, id_type, id_number, id_hash, id_masked, gender, education, source, phone, level, photo_document_id, theory_score, skill_score, passed, scored_at, created_at, updated_at) \
         SELECT c.plan_id, c.institution_id, c.district_code, c.name || CAST(n.k AS TEXT), c.id_type, c.id_number, c.id_hash || '-' || CAST(n.k AS TEXT), c.id_masked, c.gender, c.education, c.source, c.phone, c.level, c.photo_document_id, c.theory_score, c.skill_score, c.passed, c.scored_at, c.created_at, c.updated_at \
         FROM candidates c, n WHERE c.id = $1",
    )
    .bind(first)
    .bind(n - 2)
    .execute(&store.db.pool)
    .await
    .expect("clone candidates");
    plan.id
}

async fn token(store: &store::Store, username: &str) -> String {
    let (a, _) = store.account_by_username(username).await.unwrap().unwrap();
    store
        .issue_api_token(&store::Actor::system("crash-test"), a.id, "crash", None)
        .await
        .unwrap()
        .0
}

/// Wait (up to `secs`) until `sql` counts `want`.
async fn wait_count(pool: &sqlx::AnyPool, sql: &str, want: i64, secs: u64) -> bool {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(secs) {
        if count(pool, sql).await == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn candidates_xlsx(rows: u32, offset: u32, level: &str) -> Vec<u8> {
    let data: Vec<Vec<String>> = (offset..offset + rows)
        .map(|i| {
            let seq = i % 1000;
            let day = 1 + (i / 1000) % 28;
            let month = 1 + (i / 28000) % 12;
            let id = domain::id_number::with_check_digit(&format!(
                "41010519{:02}{month:02}{day:02}{seq:03}",
                70 + (i / 336_000) % 29
            ))
            .expect("id");
            vec![
                format!("导入{i}"),
                "居民身份证".into(),
                id,
                if seq % 2 == 1 { "男" } else { "女" }.into(),
                "高中".into(),
                "社会人员".into(),
                "13800000000".into(),
                level.to_string(),
            ]
        })
        .collect();
    sheets::write_report("考生名单", &web::evaluation::CANDIDATE_HEADERS, &data).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_during_issuance_leaves_no_partial_batch() {
    let t0 = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let url = store::testing::fresh_database_url(tmp.path()).await;
    let store = store::testing::demo_store_with_blobs(&url, &dir.join("blobs")).await;
    let pool = store.db.pool.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    // -- issuance: plans of 2,500 passed candidates, one after the other -----------------------------------
    let mut plans = vec![big_plan(&store, PLAN_SIZE, 540).await];
    let center = token(&store, "center").await;
    let inst = token(&store, "inst-1").await;
    let inst_id = store
        .account_by_username("inst-1")
        .await
        .unwrap()
        .unwrap()
        .0
        .institution_id;
    let mut next_plan = 0;
    let mut run = 0;
    let mut landed = 0; // kills that hit a running batch
    let mut last_progress = 0;
    while landed < ISSUE_KILLS {
        run += 1;
        assert!(run < ISSUE_KILLS * 4, "the kills do not land mid-batch");
        let running = count(
            &pool,
            "SELECT COUNT(*) FROM cert_batches WHERE status = 'running'",
        )
        .await;
        if running == 0 && next_plan == plans.len() {
            // More work: another plan (written while the server is down).
            plans.push(big_plan(&store, PLAN_SIZE, 540 + plans.len() as u32).await);
        }
        let s = start(&url, &dir, run).await;
        if running == 0 && next_plan < plans.len() {
            let r = http
                .post(format!(
                    "{}/api/v1/plans/{}/certificates/issue",
                    s.base, plans[next_plan]
                ))
                .bearer_auth(&center)
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            assert_eq!(status, 202, "{}", r.text().await.unwrap());
            next_plan += 1;
        } else if running == 1 && rng.gen_bool(0.3) {
            // Pressing 签发 again while the batch resumes is harmless.
            let id: i64 = count(
                &pool,
                "SELECT plan_id FROM cert_batches WHERE status = 'running'",
            )
            .await;
            let r = http
                .post(format!("{}/api/v1/plans/{id}/certificates/issue", s.base))
                .bearer_auth(&center)
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            assert!(
                matches!(r.status().as_u16(), 202 | 409),
                "{}",
                r.text().await.unwrap()
            );
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(5..350))).await;
        let was_running = count(
            &pool,
            "SELECT COUNT(*) FROM cert_batches WHERE status = 'running'",
        )
        .await;
        public_sees_no_partial_batch(&pool, &http, &s.base).await;
        s.kill();
        eprintln!(
            "run {run}: running before {running}, at the kill {was_running}, next plan {next_plan}, certificates {}",
            count(&pool, "SELECT COUNT(*) FROM certificates WHERE batch_id IS NOT NULL").await
        );
        if was_running > 0 {
            landed += 1;
        }
        no_duplicates(&pool).await;
        batches_all_or_nothing(&pool).await;
        let staged = count(
            &pool,
            "SELECT COUNT(*) FROM certificates WHERE batch_id IS NOT NULL",
        )
        .await;
        assert!(
            staged >= last_progress,
            "certificates went back: {staged} < {last_progress}"
        );
        last_progress = staged;
        audit_verify(&url);
    }
    assert!(
        landed >= ISSUE_KILLS,
        "only {landed} kills landed mid-batch"
    );
    eprintln!(
        "issuance: {landed} kills mid-batch in {run} runs, {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    // Restarted, the scheduler resumes what was interrupted; every plan is then issued in full
    // (a plan not yet started is issued now).
    let s = start(&url, &dir, 1000).await;
    for plan in plans.iter().skip(next_plan) {
        let r = http
            .post(format!("{}/api/v1/plans/{plan}/certificates/issue", s.base))
            .bearer_auth(&center)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
        assert!(
            wait_count(
                &pool,
                "SELECT COUNT(*) FROM cert_batches WHERE status = 'running'",
                0,
                60
            )
            .await
        );
    }
    assert!(
        wait_count(
            &pool,
            "SELECT COUNT(*) FROM cert_batches WHERE status = 'running'",
            0,
            60
        )
        .await,
        "the interrupted batch resumed and finished"
    );
    for &plan in &plans {
        assert_eq!(
            count(&pool, &format!("SELECT COUNT(*) FROM certificates WHERE plan_id = {plan} AND published = 1 AND state = 'valid'")).await,
            PLAN_SIZE,
            "plan {plan} issued in full"
        );
        assert_eq!(
            count(
                &pool,
                &format!(
                    "SELECT COUNT(*) FROM cert_batches WHERE plan_id = {plan} AND status = 'done'"
                )
            )
            .await,
            1,
            "one batch per plan"
        );
    }
    public_sees_no_partial_batch(&pool, &http, &s.base).await;
    // No job is left looking alive: the interrupted ones say so.
    assert!(
        wait_count(
            &pool,
            "SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')",
            0,
            30
        )
        .await,
        "interrupted jobs are marked"
    );
    assert!(
        count(&pool, "SELECT COUNT(*) FROM jobs WHERE kind = 'cert_issue' AND status = 'failed' AND message LIKE '任务中断%'").await >= 1
    );
    // A batch's job ends with its publication: no published batch under an interrupted job.
    assert_eq!(
        count(&pool, "SELECT COUNT(*) FROM cert_batches b JOIN jobs j ON j.id = b.job_id WHERE b.status = 'done' AND j.status <> 'succeeded'").await,
        0,
        "a done batch names a job that did not succeed"
    );
    no_duplicates(&pool).await;
    batches_all_or_nothing(&pool).await;
    s.kill();
    audit_verify(&url);

    // -- xlsx import: all or nothing, the job never left "running" ------------------------
    let plan = store
        .list_plans(
            &domain::Scope::City,
            &store::PlanFilter {
                status: Some("city_confirmed".into()),
                results_status: Some("none".into()),
                ..Default::default()
            },
            store::PageRequest::new(Some(1), Some(50)),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|p| Some(p.institution_id) == inst_id)
        .expect("a confirmed plan without results");
    let level = plan.levels.split(',').next().unwrap().to_string();
    const ROWS: u32 = 3_000;
    let mut import_kills = 0;
    let mut offset = 0;
    let mut iruns = 0;
    let mut window = 1_500u64;
    while import_kills < IMPORT_KILLS {
        iruns += 1;
        assert!(iruns < IMPORT_KILLS * 6, "the kills do not land mid-import");
        run += 1;
        let before = count(
            &pool,
            &format!(
                "SELECT COUNT(*) FROM candidates WHERE plan_id = {}",
                plan.id
            ),
        )
        .await;
        let xlsx = candidates_xlsx(ROWS, offset, &level);
        offset += ROWS;
        let s = start(&url, &dir, run).await;
        let r = http
            .post(format!(
                "{}/api/v1/plans/{}/candidates/import",
                s.base, plan.id
            ))
            .bearer_auth(&inst)
            .header(
                "content-type",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            .body(xlsx)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202, "{}", r.text().await.unwrap());
        let job: serde_json::Value = r.json().await.unwrap();
        let job_id = job["job_id"].as_i64().expect("job id");
        tokio::time::sleep(Duration::from_millis(rng.gen_range(10..window))).await;
        let finished = count(&pool, &format!("SELECT COUNT(*) FROM jobs WHERE id = {job_id} AND status IN ('succeeded', 'failed')")).await;
        s.kill();
        if finished == 0 {
            import_kills += 1;
        } else {
            // The import was faster than the kill: aim earlier (how fast depends on the load).
            window = (window / 2).max(60);
        }
        let after = count(
            &pool,
            &format!(
                "SELECT COUNT(*) FROM candidates WHERE plan_id = {}",
                plan.id
            ),
        )
        .await;
        assert!(
            after == before || after == before + ROWS as i64,
            "import left {} of {ROWS} rows",
            after - before
        );
        audit_verify(&url);
        // Restarted: the job ends (succeeded, or failed as interrupted), never "running".
        run += 1;
        let s = start(&url, &dir, run).await;
        assert!(
            wait_count(&pool, &format!("SELECT COUNT(*) FROM jobs WHERE id = {job_id} AND status IN ('succeeded', 'failed')"), 1, 20).await,
            "job {job_id} left unfinished after a restart"
        );
        let ok = count(
            &pool,
            &format!("SELECT COUNT(*) FROM jobs WHERE id = {job_id} AND status = 'succeeded'"),
        )
        .await;
        assert_eq!(
            ok == 1,
            after == before + ROWS as i64,
            "the job's outcome matches the rows"
        );
        s.kill();
    }
    // Retried without a kill, an import completes.
    run += 1;
    let s = start(&url, &dir, run).await;
    let before = count(
        &pool,
        &format!(
            "SELECT COUNT(*) FROM candidates WHERE plan_id = {}",
            plan.id
        ),
    )
    .await;
    let r = http
        .post(format!(
            "{}/api/v1/plans/{}/candidates/import",
            s.base, plan.id
        ))
        .bearer_auth(&inst)
        .header(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(candidates_xlsx(ROWS, offset, &level))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    assert!(
        wait_count(
            &pool,
            &format!(
                "SELECT COUNT(*) FROM candidates WHERE plan_id = {}",
                plan.id
            ),
            before + ROWS as i64,
            60
        )
        .await,
        "a retried import completes"
    );
    s.kill();
    audit_verify(&url);
    eprintln!(
        "import: {import_kills} kills mid-import in {iruns} runs, {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    // -- backup: the target exists only complete; restore refuses anything else ------------
    if store::testing::on_postgres() {
        store::testing::announce_skipped(
            "crash during backup: SQLite only (PostgreSQL is backed up with pg_dump)",
        );
        return;
    }
    run += 1;
    let s = start(&url, &dir, run).await;
    let mut backup_kills = 0;
    let mut bruns = 0;
    while backup_kills < BACKUP_KILLS {
        bruns += 1;
        assert!(bruns < BACKUP_KILLS * 6, "the kills do not land mid-backup");
        let to = tmp.path().join(format!("backup-{bruns}"));
        let mut child = Command::new(bin())
            .args(["backup", "--database", &url])
            .arg("--data-dir")
            .arg(&dir)
            .arg("--to")
            .arg(&to)
            .env("SKILLEVAL_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.gen_range(5..400)));
        if child.try_wait().unwrap().is_none() {
            backup_kills += 1;
        }
        let _ = child.kill();
        let status = child.wait().unwrap();
        check_backup(&url, &to, tmp.path(), bruns, status.success());
        // Again into the same directory: the leftover of the interrupted run is no obstacle.
        if !to.exists() {
            let out = Command::new(bin())
                .args(["backup", "--database", &url])
                .arg("--data-dir")
                .arg(&dir)
                .arg("--to")
                .arg(&to)
                .env("SKILLEVAL_LOG", "warn")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            check_backup(&url, &to, tmp.path(), bruns + 1000, true);
        }
    }
    s.kill();
    audit_verify(&url);
    eprintln!(
        "backup: {backup_kills} kills mid-backup in {bruns} runs; total {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

/// A backup directory exists only complete (and then restores and verifies); otherwise neither
/// it nor the leftover restores.
fn check_backup(url: &str, to: &Path, tmp: &Path, n: usize, succeeded: bool) {
    let restore = |from: &Path, k: &str| {
        let target: PathBuf = tmp.join(format!("restored-{n}-{k}"));
        let db = format!("sqlite://{}/restored.db", target.display());
        let out = Command::new(bin())
            .args(["restore", "--database", &db])
            .arg("--data-dir")
            .arg(&target)
            .arg("--from")
            .arg(from)
            .env("SKILLEVAL_LOG", "warn")
            .output()
            .unwrap();
        (out, db, target)
    };
    let leftover = store::backup::staging_dir(to).unwrap();
    if to.exists() {
        assert!(
            to.join("manifest.json").exists(),
            "{} exists without a manifest",
            to.display()
        );
        let (out, db, _) = restore(to, "ok");
        assert!(
            out.status.success(),
            "restore: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        audit_verify(&db);
        let _ = url;
    } else {
        assert!(!succeeded, "a finished backup is in place");
        let (out, _, target) = restore(to, "missing");
        assert!(!out.status.success());
        assert!(!target.join("restored.db").exists());
        // The manifest goes last, then the rename: a kill between the two leaves a complete
        // backup beside the target (never in its place), which the next run replaces. Without a
        // manifest the leftover is partial and restore refuses it.
        if leftover.exists() && !leftover.join("manifest.json").exists() {
            let (out, _, target) = restore(&leftover, "partial");
            assert!(!out.status.success(), "restore refuses a partial backup");
            assert!(!target.join("restored.db").exists());
        }
    }
}
