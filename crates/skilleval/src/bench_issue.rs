//! `skilleval bench issue-certificates`: the bulk issuance rate against a bare Ed25519 sign +
//! indexed insert of the same rows, in one run (issue 9, issue 11 §2).
//!
//! The data: `bench_data` with certificates not yet issued (plans whose results were submitted,
//! ~100 passed candidates each). The real path, per plan as the center issues it: the passed
//! candidates (`issue_candidates`), `start_cert_batch` (items fixed, audit event),
//! `stage_pending` (chunks of 50: serials from the counter rows, one-per-person check, signature,
//! insert, progress, audit event per chunk) and `finish_cert_batch` (publication, audit event).
//! Photos are not checked (generated candidates have none). The bare path: for every certificate
//! the real path made, the same draft is signed again and the same row inserted with one
//! prepared INSERT into `bench_certificates`, a table with the same columns, constraints and
//! indexes, 1,000 rows per transaction, through the same driver.

use std::time::Instant;

use anyhow::Context;
use sqlx::Row;
use store::{IssueDraft, Store};

/// The statements of the migrations that make the `certificates` table and its indexes, for a
/// twin table.
fn twin_table_sql(backend: store::Backend) -> Vec<String> {
    let pk = match backend {
        store::Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        store::Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    let mut out = vec![];
    // The table of 0001 was dropped by 0011: its statements are left out.
    for (_, _, sql) in store::MIGRATIONS.iter().filter(|m| m.0 >= 11) {
        let body: String = sql
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        for stmt in body.split(";\n").map(str::trim) {
            let creates_table = stmt.starts_with("CREATE TABLE certificates (");
            let indexes = stmt.starts_with("CREATE") && stmt.contains(" ON certificates ");
            if (creates_table && stmt.contains("status_index")) || indexes {
                out.push(
                    stmt.trim_end_matches(';')
                        .replace("{pk}", pk)
                        .replace(" certificates ", " bench_certificates ")
                        .replace("certificates(id)", "bench_certificates(id)")
                        .replace("INDEX certificates_", "INDEX bench_certificates_"),
                );
            }
        }
    }
    out
}

pub async fn run(
    store: Store,
    key: std::sync::Arc<certsign::SigningKey>,
    certificates: u64,
) -> anyhow::Result<()> {
    let today = web::today_cn();
    store::demo::seed(&store, today).await?;
    let policy = domain::policy::Policy::zhengzhou_2022();
    let first_plan: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM plans")
        .fetch_one(&store.db.pool)
        .await?
        .get(0);
    let t = Instant::now();
    let r = crate::bench_data::generate(
        &store,
        key.clone(),
        policy.numbering(),
        &crate::bench_data::Options {
            certificates,
            seed: 7,
            today,
            revoked_per_10k: 0,
            threads: 2,
            per_tx: 1_000_000,
            sample: None,
            issue: false,
        },
    )
    .await?;
    println!(
        "backend={:?} prepared plans={} candidates={} in {:.1} s; load_avg={}",
        store.db.backend,
        r.plans,
        r.candidates,
        t.elapsed().as_secs_f64(),
        crate::load_avg()
    );
    let state = web::AppState::new(
        store.clone(),
        web::WebConfig {
            demo: true,
            scheduler: false,
            cert_signing_key: Some(key.clone()),
            ..Default::default()
        },
        policy.clone(),
    );
    let actor = store::Actor::system("bench");
    let plans: Vec<i64> = sqlx::query(
        "SELECT id FROM plans WHERE id > $1 AND results_status = 'submitted' ORDER BY id",
    )
    .bind(first_plan)
    .fetch_all(&store.db.pool)
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();

    // -- the real path ---------------------------------------------------------------------
    let t_real = Instant::now();
    let mut issued = 0u64;
    for id in &plans {
        let plan = store.plan(&domain::Scope::City, *id).await?;
        let items: Vec<(i64, Option<i64>)> = store
            .issue_candidates(plan.id)
            .await?
            .iter()
            .filter(|c| c.issued.is_none() && c.holds_same.is_none())
            .map(|c| (c.candidate_id, None))
            .collect();
        let (batch, _) = store
            .start_cert_batch(&actor, &plan, &today.to_string(), false, &items)
            .await?;
        web::certificates::issue::stage_pending(&state, &actor, &batch, None, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        issued += store.finish_cert_batch(&actor, batch.id).await? as u64;
    }
    let real_s = t_real.elapsed().as_secs_f64();

    // -- the bare path: sign the same drafts, insert the same rows ---------------------------
    for stmt in twin_table_sql(store.db.backend) {
        sqlx::query(&stmt)
            .execute(&store.db.pool)
            .await
            .with_context(|| stmt.clone())?;
    }
    let rows = sqlx::query(
        "SELECT c.cert_no, c.candidate_id, c.plan_id, c.batch_id, c.institution_id, c.institution_name, c.district_code, c.site_code, c.occupation_code, c.occupation_name, c.level, c.holder_name, c.id_type, c.id_hash, c.id_masked, c.issued_on, c.status_index \
         FROM certificates c WHERE c.batch_id IS NOT NULL AND c.plan_id >= $1 ORDER BY c.id",
    )
    .bind(plans.first().copied().unwrap_or(0))
    .fetch_all(&store.db.pool)
    .await?;
    let drafts: Vec<(String, i64, Option<i64>, IssueDraft)> = rows
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(16),
                r.get(3),
                IssueDraft {
                    candidate_id: r.get(1),
                    plan_id: r.get(2),
                    institution_id: r.get(4),
                    institution_name: r.get(5),
                    institution_kind: String::new(),
                    district_code: r.get(6),
                    site_code: r.get(7),
                    occupation_code: r.get(8),
                    occupation_name: r.get(9),
                    occupation_kind: "occupation".into(),
                    work_type: "--".into(),
                    level: r.get(10),
                    holder_name: r.get(11),
                    id_type: r.get(12),
                    id_hash: r.get(13),
                    id_masked: r.get(14),
                    photo_document_id: None,
                    issued_on: r.get(15),
                    replaces_id: None,
                },
            )
        })
        .collect();
    drop(rows);
    let t_bare = Instant::now();
    for chunk in drafts.chunks(1000) {
        use base64::Engine;
        let mut tx = store.db.write().await?;
        for (no, status_index, batch_id, d) in chunk {
            let signed = store::cert_sign::sign_draft(&key, d, no, *status_index)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            sqlx::query(
                "INSERT INTO bench_certificates (cert_no, candidate_id, plan_id, batch_id, institution_id, institution_name, district_code, site_code, occupation_code, occupation_name, work_type, level, holder_name, id_type, id_hash, id_masked, photo_document_id, issued_on, state, published, reissue_of, status_index, signed_at, key_id, cose, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 'valid', 1, NULL, $19, $20, $21, $22, $23)",
            )
            .bind(no)
            .bind(d.candidate_id)
            .bind(d.plan_id)
            .bind(batch_id)
            .bind(d.institution_id)
            .bind(&d.institution_name)
            .bind(&d.district_code)
            .bind(&d.site_code)
            .bind(&d.occupation_code)
            .bind(&d.occupation_name)
            .bind(&d.work_type)
            .bind(d.level)
            .bind(&d.holder_name)
            .bind(&d.id_type)
            .bind(&d.id_hash)
            .bind(&d.id_masked)
            .bind(d.photo_document_id)
            .bind(&d.issued_on)
            .bind(status_index)
            .bind(signed.signed_at)
            .bind(&signed.key_id)
            .bind(base64::engine::general_purpose::STANDARD.encode(&signed.cose))
            .bind(store::now_text())
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await?;
    }
    let bare_s = t_bare.elapsed().as_secs_f64();
    let bare_n = drafts.len() as f64;
    let real_rate = issued as f64 / real_s;
    let bare_rate = bare_n / bare_s;
    println!(
        "real: issued={issued} plans={} seconds={real_s:.2} per_second={real_rate:.0}\nbare: rows={bare_n} seconds={bare_s:.2} per_second={bare_rate:.0}\nratio={:.2} load_avg={} peak_rss={}",
        plans.len(),
        real_rate / bare_rate,
        crate::load_avg(),
        crate::peak_rss_kb()
    );
    Ok(())
}
