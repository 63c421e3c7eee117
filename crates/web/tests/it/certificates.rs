//! Issue 9: certificates — numbering under concurrency, the site code, idempotent and resumable
//! batches, one certificate per person/occupation/level, revocation with two keys, the public
//! query (masked, rate-limited, counted) and the export to the province.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

async fn call(
    c: &reqwest::Client,
    app: &TestApp,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let rb = match method {
        "POST" => c.post(app.url(path)).json(&body),
        "PUT" => c.put(app.url(path)).json(&body),
        _ => c.get(app.url(path)),
    };
    let r = rb.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// A plan of inst-1 whose results are submitted: `n` candidates (all passed, with photos),
/// IDs derived from `seed`.
async fn submitted(app: &TestApp, n: usize, seed: u32) -> store::Plan {
    let names: Vec<String> = (0..n).map(|i| format!("考生{seed}甲{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    store::demo_certificates::submitted_plan(
        &app.store,
        store::testing::today(),
        30,
        &refs,
        &[],
        &[],
        seed,
    )
    .await
    .expect("submitted plan")
}

/// Wait for a job to finish; returns its JSON.
async fn wait_job(c: &reqwest::Client, app: &TestApp, id: i64) -> Value {
    for _ in 0..300 {
        let (s, v) = call(c, app, "GET", &format!("/api/v1/jobs/{id}"), json!({})).await;
        assert_eq!(s, 200, "{v}");
        if v["finished"] == true {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("job {id} did not finish");
}

/// Issue a plan through the API as the center and wait for its job.
async fn issue(c: &reqwest::Client, app: &TestApp, plan: i64, reissue: bool) -> (u16, Value) {
    let (s, v) = call(
        c,
        app,
        "POST",
        &format!("/api/v1/plans/{plan}/certificates/issue"),
        json!({ "reissue": reissue }),
    )
    .await;
    if s == 202 {
        if let Some(j) = v["job_id"].as_i64() {
            let job = wait_job(c, app, j).await;
            assert_eq!(job["status"], "succeeded", "{job}");
        }
    }
    (s, v)
}

async fn numbers(app: &TestApp, sql_where: &str) -> Vec<String> {
    use sqlx::Row;
    sqlx::query(&format!(
        "SELECT cert_no FROM certificates WHERE {sql_where} ORDER BY cert_no"
    ))
    .fetch_all(&app.store.db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

fn serial(no: &str) -> u32 {
    no[16..].parse().unwrap()
}

/// A demo certificate: (cert_no, holder name, state).
async fn demo_cert(app: &TestApp, state: &str) -> (i64, String, String) {
    use sqlx::Row;
    let r = sqlx::query("SELECT id, cert_no, holder_name FROM certificates WHERE state = $1 AND published = 1 ORDER BY id LIMIT 1")
        .bind(state)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

#[tokio::test]
async fn cert_number_format_and_uniqueness_concurrent() {
    let app = spawn_app().await;
    // A second app server on the same database: numbers must stay unique across servers.
    let other = app.at_date(store::testing::today()).await;
    let mut plans = vec![];
    for seed in 0..4u32 {
        plans.push(submitted(&app, 5, 30 + seed * 10).await.id);
    }
    let before = numbers(&app, "1 = 1").await;
    let c1 = app.login("center").await;
    let c2 = other.login("center").await;
    let mut tasks = vec![];
    for (i, p) in plans.iter().enumerate() {
        let (c, a) = if i % 2 == 0 {
            (c1.clone(), app.url(""))
        } else {
            (c2.clone(), other.url(""))
        };
        let p = *p;
        tasks.push(tokio::spawn(async move {
            let r = c
                .post(format!("{a}/api/v1/plans/{p}/certificates/issue"))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap())
        }));
    }
    for t in tasks {
        let (s, v) = t.await.unwrap();
        assert_eq!(s, 202, "{v}");
        let job = wait_job(&c1, &app, v["job_id"].as_i64().unwrap()).await;
        assert_eq!(job["status"], "succeeded", "{job}");
    }
    let all = numbers(&app, "1 = 1").await;
    assert_eq!(
        all.len(),
        before.len() + 20,
        "every passed candidate got one certificate"
    );
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "numbers are unique");
    let policy = domain::policy::Policy::zhengzhou_2022();
    for no in &all {
        let n: domain::certno::CertNo = no.parse().unwrap_or_else(|e| panic!("{no}: {e}"));
        policy.numbering().validate_any(no).unwrap();
        assert_eq!(
            n.kind(),
            domain::certno::EvaluatorKind::SocialOrg,
            "inst-1 is a social org: S"
        );
        assert_eq!(&no[..7], "S000041");
        assert_eq!(n.site_code(), store::demo_certificates::DEMO_SITE_CODE);
        assert_eq!(n.year(), 2026);
    }
    // One counter per institution and year (the policy's default): serials 1..N without gaps.
    let mut serials: Vec<u32> = all.iter().map(|n| serial(n)).collect();
    serials.sort();
    assert_eq!(serials, (1..=all.len() as u32).collect::<Vec<_>>());
    // Each level digit is the candidate's level.
    use sqlx::Row;
    for r in sqlx::query("SELECT cert_no, level FROM certificates")
        .fetch_all(&app.store.db.pool)
        .await
        .unwrap()
    {
        let (no, level): (String, i64) = (r.get(0), r.get(1));
        assert_eq!(&no[15..16], level.to_string());
    }
    // The schema refuses a duplicate number outright.
    let dup = sqlx::query("UPDATE certificates SET cert_no = $1 WHERE cert_no = $2")
        .bind(&all[0])
        .bind(&all[1])
        .execute(&app.store.db.pool)
        .await;
    assert!(dup.is_err(), "cert_no is UNIQUE");
}

#[tokio::test]
async fn cert_number_needs_site_code() {
    let app = spawn_app().await;
    let plan = submitted(&app, 3, 41).await;
    let center = app.login("center").await;
    let inst = plan.institution_id;
    // Not six digits: refused, nothing changes.
    let (s, v) = call(
        &center,
        &app,
        "PUT",
        &format!("/api/v1/institutions/{inst}/site-code"),
        json!({ "site_code": "12345" }),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["field"], "site_code");
    // Cleared: issuing is refused with the clause, and no certificate is written.
    let (s, v) = call(
        &center,
        &app,
        "PUT",
        &format!("/api/v1/institutions/{inst}/site-code"),
        json!({ "site_code": "" }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["site_code"].is_null());
    let before = app.count("SELECT COUNT(*) FROM certificates").await;
    let (s, v) = call(
        &center,
        &app,
        "POST",
        &format!("/api/v1/plans/{}/certificates/issue", plan.id),
        json!({}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("评价站点代码") && msg.contains("人社鉴发〔2019〕2号"),
        "{msg}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM certificates").await, before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM cert_batches WHERE status = 'running'")
            .await,
        0
    );
    // The preview says so too.
    let (s, v) = call(
        &center,
        &app,
        "GET",
        &format!("/api/v1/plans/{}/certificate-candidates", plan.id),
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    assert!(v["refusal"].as_str().unwrap().contains("评价站点代码"));
    // Only the city enters it; a district may not.
    let district = app.login("district-410105").await;
    let (s, _) = call(
        &district,
        &app,
        "PUT",
        &format!("/api/v1/institutions/{inst}/site-code"),
        json!({ "site_code": "410199" }),
    )
    .await;
    assert_eq!(s, 403);
    // With the code the same request issues.
    let (s, _) = call(
        &center,
        &app,
        "PUT",
        &format!("/api/v1/institutions/{inst}/site-code"),
        json!({ "site_code": "410199" }),
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = issue(&center, &app, plan.id, false).await;
    assert_eq!(s, 202, "{v}");
    let nos = numbers(&app, &format!("plan_id = {}", plan.id)).await;
    assert_eq!(nos.len(), 3);
    assert!(nos.iter().all(|n| &n[7..13] == "410199"), "{nos:?}");
}

#[tokio::test]
async fn cert_batch_idempotent() {
    let app = spawn_app().await;
    let plan = submitted(&app, 4, 51).await;
    let center = app.login("center").await;
    // Two requests at once: one batch, one job's worth of certificates.
    let path = format!("/api/v1/plans/{}/certificates/issue", plan.id);
    let (a, b) = tokio::join!(
        call(&center, &app, "POST", &path, json!({})),
        call(&center, &app, "POST", &path, json!({})),
    );
    for (s, v) in [&a, &b] {
        assert!(*s == 202 || *s == 409, "{s} {v}");
        if let Some(j) = v["job_id"].as_i64() {
            wait_job(&center, &app, j).await;
        }
    }
    // Wait until the batch is done (the second request may have found it running).
    for _ in 0..100 {
        if app
            .count(&format!(
                "SELECT COUNT(*) FROM cert_batches WHERE plan_id = {} AND status = 'running'",
                plan.id
            ))
            .await
            == 0
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let first = numbers(&app, &format!("plan_id = {}", plan.id)).await;
    assert_eq!(first.len(), 4, "{first:?}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM cert_batches WHERE plan_id = {}",
            plan.id
        ))
        .await,
        1
    );
    // Running it again creates nothing.
    let (s, v) = call(
        &center,
        &app,
        "POST",
        &format!("/api/v1/plans/{}/certificates/issue", plan.id),
        json!({}),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    assert!(v["message"].as_str().unwrap().contains("没有可发证的考生"));
    assert_eq!(
        numbers(&app, &format!("plan_id = {}", plan.id)).await,
        first
    );
    // The schema itself refuses a second first certificate for a candidate.
    use sqlx::Row;
    let r = sqlx::query("SELECT candidate_id FROM certificates WHERE plan_id = $1 LIMIT 1")
        .bind(plan.id)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap();
    let cand: i64 = r.get(0);
    let dup = sqlx::query("INSERT INTO certificates (cert_no, candidate_id, plan_id, institution_id, institution_name, district_code, site_code, occupation_code, occupation_name, level, holder_name, id_type, id_hash, id_masked, issued_on, status_index, signed_at, key_id, cose, created_at) SELECT 'X' || cert_no, candidate_id, plan_id, institution_id, institution_name, district_code, site_code, occupation_code, occupation_name, level, holder_name, id_type, id_hash, id_masked, issued_on, status_index + 1000000, signed_at, key_id, cose, created_at FROM certificates WHERE candidate_id = $1")
        .bind(cand)
        .execute(&app.store.db.pool)
        .await;
    assert!(dup.is_err(), "one first certificate per candidate");
    // The institution and a district may not issue.
    let inst = app.login("inst-1").await;
    let (s, _) = call(
        &inst,
        &app,
        "POST",
        &format!("/api/v1/plans/{}/certificates/issue", plan.id),
        json!({}),
    )
    .await;
    assert!(s == 403 || s == 404, "{s}");
}

#[tokio::test]
async fn cert_batch_resumes_after_crash() {
    let app = spawn_app().await;
    let plan = submitted(&app, 6, 61).await;
    let center_actor = {
        let (a, _) = app
            .store
            .account_by_username("center")
            .await
            .unwrap()
            .unwrap();
        store::Actor {
            user_id: Some(a.id),
            username: a.username,
            role: "city_center".into(),
            ..Default::default()
        }
    };
    // A server that stops after numbering two certificates: the batch stays running, nothing public.
    let state = web::AppState::new(
        app.store.clone(),
        web::WebConfig {
            demo: true,
            fixed_today: Some(store::testing::today()),
            scheduler: false,
            ..Default::default()
        },
        domain::policy::Policy::zhengzhou_2022(),
    );
    let items: Vec<(i64, Option<i64>)> = app
        .store
        .issue_candidates(plan.id)
        .await
        .unwrap()
        .iter()
        .map(|c| (c.candidate_id, None))
        .collect();
    let (batch, created) = app
        .store
        .start_cert_batch(&center_actor, &plan, "2026-12-02", false, &items)
        .await
        .unwrap();
    assert!(created);
    let n = web::certificates::issue::stage_pending(&state, &center_actor, &batch, Some(2), None)
        .await
        .unwrap();
    assert_eq!(n, 2);
    let staged = numbers(&app, &format!("batch_id = {}", batch.id)).await;
    assert_eq!(staged.len(), 2);
    // Unpublished: the public cannot see them.
    let holder: String = {
        use sqlx::Row;
        sqlx::query("SELECT holder_name FROM certificates WHERE cert_no = $1")
            .bind(&staged[0])
            .fetch_one(&app.store.db.pool)
            .await
            .unwrap()
            .get(0)
    };
    let public = app.client();
    let (s, _) = call(
        &public,
        &app,
        "GET",
        &format!("/api/v1/public/certificates/{}?name={holder}", staged[0]),
        json!({}),
    )
    .await;
    assert_eq!(s, 404, "a batch is all or nothing to the outside");
    // Starting the plan again resumes the same batch instead of opening a second one.
    let (again, created) = app
        .store
        .start_cert_batch(&center_actor, &plan, "2026-12-02", false, &items)
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, batch.id);
    // The center resumes it.
    let center = app.login("center").await;
    let (s, v) = call(
        &center,
        &app,
        "POST",
        &format!("/api/v1/cert-batches/{}/resume", batch.id),
        json!({}),
    )
    .await;
    assert_eq!(s, 202, "{v}");
    let job = wait_job(&center, &app, v["job_id"].as_i64().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let (s, b) = call(
        &center,
        &app,
        "GET",
        &format!("/api/v1/cert-batches/{}", batch.id),
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(b["status"], "done");
    assert_eq!(b["done"], 6);
    let all = numbers(&app, &format!("batch_id = {}", batch.id)).await;
    assert_eq!(all.len(), 6);
    assert!(
        staged.iter().all(|n| all.contains(n)),
        "the first two kept their numbers"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(DISTINCT candidate_id) FROM certificates WHERE batch_id = {}",
            batch.id
        ))
        .await,
        6
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM certificates WHERE batch_id = {} AND published = 1",
            batch.id
        ))
        .await,
        6
    );
    let mut serials: Vec<u32> = all.iter().map(|n| serial(n)).collect();
    serials.sort();
    serials.dedup();
    assert_eq!(serials.len(), 6);
    assert_eq!(
        serials[5] - serials[0],
        5,
        "consecutive: no number lost to the crash"
    );
    // Now public.
    let (s, v) = call(
        &public,
        &app,
        "GET",
        &format!("/api/v1/public/certificates/{}?name={holder}", staged[0]),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    // A finished batch cannot be resumed again.
    let (s, _) = call(
        &center,
        &app,
        "POST",
        &format!("/api/v1/cert-batches/{}/resume", batch.id),
        json!({}),
    )
    .await;
    assert_eq!(s, 409);
    // Nobody presses the button: the sweep of any app server resumes a batch no job holds
    // (its server stopped), and leaves alone one a live job holds (on any server).
    let plan2 = submitted(&app, 3, 71).await;
    let items: Vec<(i64, Option<i64>)> = app
        .store
        .issue_candidates(plan2.id)
        .await
        .unwrap()
        .iter()
        .map(|c| (c.candidate_id, None))
        .collect();
    let (b2, _) = app
        .store
        .start_cert_batch(&center_actor, &plan2, "2026-12-02", false, &items)
        .await
        .unwrap();
    web::certificates::issue::stage_pending(&state, &center_actor, &b2, Some(1), None)
        .await
        .unwrap();
    let held = app
        .store
        .db
        .try_lease(store::LeaseOn::CertBatch, b2.id)
        .await
        .unwrap()
        .expect("nobody holds it yet");
    web::scheduler::run_due(&state).await.unwrap();
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM cert_batches WHERE id = {} AND status = 'running'",
            b2.id
        ))
        .await,
        1,
        "a batch a live job holds is left alone"
    );
    held.release().await;
    assert!(web::scheduler::run_due(&state).await.unwrap() >= 1);
    for _ in 0..100 {
        if app
            .count(&format!(
                "SELECT COUNT(*) FROM cert_batches WHERE id = {} AND status = 'done'",
                b2.id
            ))
            .await
            == 1
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM certificates WHERE batch_id = {} AND published = 1",
            b2.id
        ))
        .await,
        3
    );
}

#[tokio::test]
async fn cert_one_per_person_occupation_level() {
    let app = spawn_app().await;
    // The demo issued certificates to a plan built with seed 7: 赵丽 (valid) and 钱伟 (revoked).
    // The same people (same ID numbers, occupation and level) in a new plan:
    let plan = store::demo_certificates::submitted_plan(
        &app.store,
        store::testing::today(),
        25,
        &["赵丽", "钱伟"],
        &[],
        &[],
        7,
    )
    .await
    .unwrap();
    let center = app.login("center").await;
    let (s, v) = call(
        &center,
        &app,
        "GET",
        &format!("/api/v1/plans/{}/certificate-candidates", plan.id),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let rows = v["rows"].as_array().unwrap();
    let zhao = rows.iter().find(|r| r["name"] == "赵丽").unwrap();
    let qian = rows.iter().find(|r| r["name"] == "钱伟").unwrap();
    let b = zhao["blocker"].as_str().unwrap();
    assert!(b.contains("已持有同职业同等级有效证书"), "{b}");
    assert!(
        qian["blocker"].is_null(),
        "a revoked certificate does not count: {qian}"
    );
    let held = zhao["holds_same"][1].as_str().unwrap().to_string();
    // Issuing skips the flagged person.
    let (s, v) = issue(&center, &app, plan.id, false).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(
        numbers(&app, &format!("plan_id = {}", plan.id)).await.len(),
        1
    );
    // A reissue (补发) issues it and supersedes the one held.
    let (s, v) = call(
        &center,
        &app,
        "GET",
        &format!(
            "/api/v1/plans/{}/certificate-candidates?reissue=true",
            plan.id
        ),
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    assert!(v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "赵丽")
        .unwrap()["blocker"]
        .is_null());
    let (s, v) = issue(&center, &app, plan.id, true).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(
        numbers(&app, &format!("plan_id = {}", plan.id)).await.len(),
        2
    );
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM certificates WHERE cert_no = '{held}' AND state = 'corrected' AND superseded_by IS NOT NULL")).await, 1);
    // Still one valid certificate for that person, occupation and level.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM certificates c WHERE c.state = 'valid' AND c.id_hash = (SELECT id_hash FROM certificates WHERE cert_no = (SELECT cert_no FROM certificates WHERE holder_name = '赵丽' ORDER BY id LIMIT 1)) AND c.level = (SELECT level FROM certificates WHERE holder_name = '赵丽' ORDER BY id LIMIT 1)").await,
        1
    );
    // And the new plan offers nothing more.
    let (s, _) = call(
        &center,
        &app,
        "POST",
        &format!("/api/v1/plans/{}/certificates/issue", plan.id),
        json!({ "reissue": true }),
    )
    .await;
    assert_eq!(s, 409);
}

#[tokio::test]
async fn cert_revoked_shows_revoked() {
    let app = spawn_app().await;
    let (id, no, name) = demo_cert(&app, "valid").await;
    let center = app.login("center").await;
    let bureau = app.login("bureau").await;
    let district = app.login("district-410105").await;
    // No reason: refused, nothing changes.
    let (s, v) = call(
        &center,
        &app,
        "POST",
        &format!("/api/v1/certificates/{id}/changes"),
        json!({ "kind": "revoke", "reason": " " }),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    // A district holds no key.
    let (s, _) = call(
        &district,
        &app,
        "POST",
        &format!("/api/v1/certificates/{id}/changes"),
        json!({ "kind": "revoke", "reason": "x" }),
    )
    .await;
    assert_eq!(s, 403);
    let (s, x) = call(
        &center,
        &app,
        "POST",
        &format!("/api/v1/certificates/{id}/changes"),
        json!({ "kind": "revoke", "reason": "考核材料造假，撤销" }),
    )
    .await;
    assert_eq!(s, 201, "{x}");
    // One key is not enough: still valid in public.
    let public = app.client();
    let (s, v) = call(
        &public,
        &app,
        "GET",
        &format!("/api/v1/public/certificates/{no}?name={name}"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "valid");
    // The same role cannot give the second key.
    let cid = x["id"].as_i64().unwrap();
    let (s, v) = call(
        &center,
        &app,
        "POST",
        &format!("/api/v1/cert-changes/{cid}/confirm"),
        json!({ "version": x["version"] }),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    let (s, v) = call(
        &bureau,
        &app,
        "POST",
        &format!("/api/v1/cert-changes/{cid}/confirm"),
        json!({ "version": x["version"] }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "applied");
    // The public JSON, the page and the QR landing show it.
    let (s, v) = call(
        &public,
        &app,
        "GET",
        &format!("/api/v1/public/certificates/{no}?name={name}"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["status_label"], "已撤销");
    assert_eq!(v["revoke_reason"], "考核材料造假，撤销");
    let page = public
        .get(app.url(&format!("/public/certificates?cert_no={no}&name={name}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("已撤销") && page.contains("考核材料造假"),
        "{page}"
    );
    let (s, d) = call(
        &center,
        &app,
        "GET",
        &format!("/api/v1/certificates/{id}"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    let qr = d["qr_text"].as_str().unwrap();
    let path = &qr[qr.find("/v/").unwrap()..];
    let r = public.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let landing = r.text().await.unwrap();
    assert!(landing.contains("签名有效，但该证书已撤销"), "{landing}");
    // The signed status list has the bit set, and verifies with the published keys.
    let keys = public
        .get(app.url("/public/certificates/keys"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ring = certsign::KeyRing::from_json(&keys).unwrap();
    let list = public
        .get(app.url("/public/certificates/status"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cred = certsign::StatusList::verify_credential(&list, &ring).unwrap();
    let idx = d["certificate"]["status_index"].as_u64().unwrap() as u32;
    assert!(cred.list.get(idx), "revoked bit set");
    let (_, valid_no, _) = demo_cert(&app, "valid").await;
    let valid_idx = app
        .count(&format!(
            "SELECT status_index FROM certificates WHERE cert_no = '{valid_no}'"
        ))
        .await as u32;
    assert!(
        !cred.list.get(valid_idx),
        "a valid certificate's bit is clear"
    );
    // Already revoked: no second change.
    let (s, _) = call(
        &bureau,
        &app,
        "POST",
        &format!("/api/v1/certificates/{id}/changes"),
        json!({ "kind": "revoke", "reason": "again" }),
    )
    .await;
    assert_eq!(s, 409);
    // An altered QR text is refused (4xx, Chinese), nothing changes.
    let last = path.chars().last().unwrap();
    let altered = format!(
        "{}{}",
        &path[..path.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let r = public.get(app.url(&altered)).send().await.unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let page = r.text().await.unwrap();
    assert!(page.contains("签名") || page.contains("格式错误"), "{page}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM certificates WHERE id = {id} AND state = 'revoked'"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn public_query_masks_personal_data() {
    let app = spawn_app().await;
    let (_, no, name) = demo_cert(&app, "valid").await;
    let id_number: String = {
        use sqlx::Row;
        sqlx::query("SELECT k.id_number FROM certificates c JOIN candidates k ON k.id = c.candidate_id WHERE c.cert_no = $1")
            .bind(&no)
            .fetch_one(&app.store.db.pool)
            .await
            .unwrap()
            .get(0)
    };
    let public = app.client();
    let r = public
        .get(app.url(&format!("/api/v1/public/certificates/{no}?name={name}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(!body.contains(&id_number), "no full ID number: {body}");
    assert!(!body.contains("id_hash"), "no hash: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let masked = v["id_number_masked"].as_str().unwrap();
    assert_eq!(
        masked,
        format!("{}{}{}", &id_number[..4], "*".repeat(10), &id_number[14..])
    );
    // By name + ID number (the national pair), on the page: masked too.
    let page = public
        .get(app.url(&format!(
            "/public/certificates?by=id&name={name}&id_number={id_number}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&no) && html.contains(masked),
        "found by name + ID"
    );
    assert!(
        !html.contains(&id_number),
        "the page never echoes the ID number"
    );
    // A name that does not match: 404, nothing shown.
    let r = public
        .get(app.url(&format!("/api/v1/public/certificates/{no}?name=张三")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let e: Value = r.json().await.unwrap();
    assert!(e["message"]
        .as_str()
        .unwrap()
        .chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
    let page = public
        .get(app.url(&format!("/public/certificates?cert_no={no}&name=张三")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert!(!page.text().await.unwrap().contains(masked));
    // A malformed number: 400 with a Chinese message.
    let r = public
        .get(app.url("/api/v1/public/certificates/S0000410001?name=张三"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert!(e["message"].as_str().unwrap().contains("证书编号"), "{e}");
    // Without a name: 422.
    let r = public
        .get(app.url(&format!("/api/v1/public/certificates/{no}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // The signed QR payload has only the masked number.
    let center = app.login("center").await;
    let (_, list) = call(
        &center,
        &app,
        "GET",
        &format!("/api/v1/certificates?q={no}"),
        json!({}),
    )
    .await;
    let cose = list["items"][0]["cose"].as_str().unwrap();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cose)
        .unwrap();
    let ring = web::certificates::CertKeys::demo().ring;
    let payload = ring.verify(&bytes).unwrap();
    assert_eq!(payload.id_masked, masked);
    assert!(!String::from_utf8_lossy(&bytes).contains(&id_number));
    // Every query is counted.
    let m = public
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("skilleval_certificate_queries_total{channel=\"api\",outcome=\"found\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("skilleval_certificate_queries_total{channel=\"api\",outcome=\"not_found\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("skilleval_certificate_queries_total{channel=\"id\",outcome=\"found\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("skilleval_certificate_queries_total{channel=\"api\",outcome=\"invalid\"} 2"),
        "{m}"
    );
}

#[tokio::test]
async fn public_query_rate_limited() {
    let app = spawn_app_with(web::WebConfig {
        demo: true,
        public_query_limit: 3,
        ..Default::default()
    })
    .await;
    let (_, no, name) = demo_cert(&app, "valid").await;
    let public = app.client();
    let url = app.url(&format!("/api/v1/public/certificates/{no}?name={name}"));
    for i in 0..3 {
        assert_eq!(
            public.get(&url).send().await.unwrap().status(),
            200,
            "query {i}"
        );
    }
    let r = public.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["message"].as_str().unwrap().contains("查询过于频繁"),
        "{e}"
    );
    // The page answers 429 in Chinese too.
    let r = public
        .get(app.url(&format!("/public/certificates?cert_no={no}&name={name}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("查询过于频繁"));
    // A second app server on the same database sees the same count (the limit is in the database).
    let state = web::AppState::new(
        app.store.clone(),
        web::WebConfig {
            demo: true,
            public_query_limit: 3,
            fixed_today: Some(store::testing::today()),
            scheduler: false,
            ..Default::default()
        },
        domain::policy::Policy::zhengzhou_2022(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(web::serve(listener, state));
    let r = public
        .get(format!(
            "{other}/api/v1/public/certificates/{no}?name={name}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let m = public
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("skilleval_certificate_queries_total{channel=\"api\",outcome=\"limited\"} 1"),
        "{m}"
    );
}

#[tokio::test]
async fn export_for_province_layout() {
    let app = spawn_app().await;
    let center = app.login("center").await;
    // The layout is documented: every column, in order.
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/province-export.md"
    ))
    .unwrap();
    let mut at = 0;
    for h in web::certificates::export::CERT_HEADERS
        .iter()
        .chain(web::certificates::export::INSTITUTION_HEADERS.iter())
    {
        let needle = format!("| {h} |");
        let pos = doc[at..]
            .find(&needle)
            .unwrap_or_else(|| panic!("docs/province-export.md documents {h}"));
        at += pos;
    }
    let before = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'export.province'")
        .await;
    let r = center
        .get(app.url("/api/v1/exports/certificates?format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = r.text().await.unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], web::certificates::export::CERT_HEADERS.join(","));
    let published = app
        .count("SELECT COUNT(*) FROM certificates WHERE published = 1")
        .await;
    assert_eq!(lines.len() as i64 - 1, published);
    let (_, no, name) = demo_cert(&app, "revoked").await;
    let row: Vec<&str> = lines
        .iter()
        .find(|l| l.contains(&no))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(row.len(), 19);
    assert_eq!(row[1], no);
    assert_eq!(row[3], name);
    assert_eq!(row[5].len(), 18, "the full ID number goes to the province");
    assert_eq!(row[14], "已撤销");
    assert!(!row[15].is_empty(), "the reason");
    let (_, corrected, _) = demo_cert(&app, "corrected").await;
    let row: Vec<&str> = lines
        .iter()
        .find(|l| l.contains(&corrected))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!(row[14], "已更正");
    assert_eq!(row[17].len(), 22, "the number of the correction");
    // xlsx too; and the approved institutions, both formats.
    let r = center
        .get(app.url("/api/v1/exports/certificates"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    let r = center
        .get(app.url("/api/v1/exports/institutions?format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t = r.text().await.unwrap();
    let first = t
        .trim_start_matches('\u{feff}')
        .split("\r\n")
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        first,
        web::certificates::export::INSTITUTION_HEADERS.join(",")
    );
    assert!(
        t.contains(store::demo_certificates::DEMO_SITE_CODE),
        "site codes are reported"
    );
    let r = center
        .get(app.url("/api/v1/exports/institutions"))
        .send()
        .await
        .unwrap();
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    // Each export is recorded: when and by whom.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'export.province'")
            .await,
        before + 4
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'export.province' AND actor = 'center'").await, 4);
    // Others may not export; a bad format is refused.
    let district = app.login("district-410105").await;
    assert_eq!(
        district
            .get(app.url("/api/v1/exports/certificates"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        center
            .get(app.url("/api/v1/exports/certificates?format=pdf"))
            .send()
            .await
            .unwrap()
            .status(),
        422
    );
    assert_eq!(
        center
            .get(app.url("/api/v1/exports/certificates?from=2026-13-01"))
            .send()
            .await
            .unwrap()
            .status(),
        422
    );
}

#[tokio::test]
async fn cert_pdf_and_batch_zip() {
    let app = spawn_app().await;
    let (id, no, _) = demo_cert(&app, "valid").await;
    let inst = app.login("inst-1").await;
    let r = inst
        .get(app.url(&format!("/certificates/{id}/pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pdf = r.bytes().await.unwrap().to_vec();
    assert!(pdf.starts_with(b"%PDF"));
    // The PDF carries the signed QR text, which verifies with the published keys.
    let qr = certpdf::extract_qr_text(&pdf).expect("QR text in the PDF");
    let payload = web::certificates::CertKeys::demo()
        .ring
        .verify_qr(&qr)
        .unwrap();
    assert_eq!(payload.number, no);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM audit_events WHERE action = 'certificate.pdf' AND object_id = '{id}'")).await, 1);
    let dir = crate::webdriver::artifacts_dir();
    std::fs::write(dir.join("certificate-demo.pdf"), &pdf).unwrap();
    // Another institution sees nothing of it.
    let other = app.login("inst-2").await;
    assert_eq!(
        other
            .get(app.url(&format!("/certificates/{id}/pdf")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // The batch as a zip of PDFs, the same bytes twice.
    let center = app.login("center").await;
    let batch: i64 = app
        .count(&format!(
            "SELECT batch_id FROM certificates WHERE id = {id}"
        ))
        .await;
    let a = center
        .get(app.url(&format!("/cert-batches/{batch}/pdfs.zip")))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
    let a = a.bytes().await.unwrap();
    let b = center
        .get(app.url(&format!("/cert-batches/{batch}/pdfs.zip")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(a, b, "deterministic zip");
    assert!(a.starts_with(b"PK\x03\x04"));
    let published = app
        .count(&format!(
            "SELECT COUNT(*) FROM certificates WHERE batch_id = {batch} AND published = 1"
        ))
        .await;
    let entries = a.windows(4).filter(|w| *w == b"PK\x01\x02").count() as i64;
    assert_eq!(entries, published);
    assert!(
        a.windows(no.len()).any(|w| w == no.as_bytes()),
        "named by number"
    );
}

/// The pages of the area render for their roles and issue through the page form.
#[tokio::test]
async fn cert_pages_issue_through_the_form() {
    let app = spawn_app().await;
    let plan = store::demo_certificates::submitted_plan(
        &app.store,
        store::testing::today(),
        30,
        &["页面甲", "页面乙"],
        &[],
        &[1],
        91,
    )
    .await
    .unwrap();
    let center = app.login("center").await;
    let page = |c: reqwest::Client, path: String| {
        let url = app.url(&path);
        async move {
            let r = c.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, html) = page(center.clone(), "/dashboard".into()).await;
    assert_eq!(s, 200);
    assert!(
        html.contains(&format!("/plans/{}/certificates", plan.id)),
        "the work item leads to the preview"
    );
    let (s, html) = page(center.clone(), "/certificates/issue".into()).await;
    assert_eq!(s, 200);
    assert!(html.contains(&plan.plan_no));
    let (s, html) = page(center.clone(), format!("/plans/{}/certificates", plan.id)).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("未上传一寸照片"),
        "the candidate without photo is listed as blocking"
    );
    assert!(html.contains("签发 1 本证书"));
    // The institution uploads the missing photo on its page: a square image is refused.
    let inst = app.login("inst-1").await;
    let (s, html) = page(inst.clone(), format!("/plans/{}/photos", plan.id)).await;
    assert_eq!(s, 200, "{html}");
    let cand: i64 = app
        .count(&format!(
            "SELECT id FROM candidates WHERE plan_id = {} AND photo_document_id IS NULL",
            plan.id
        ))
        .await;
    let form = |bytes: Vec<u8>| {
        reqwest::multipart::Form::new().part(
            "photo",
            reqwest::multipart::Part::bytes(bytes).file_name("照片.png"),
        )
    };
    let mut square = store::demo_certificates::DEMO_PHOTO_PNG.to_vec();
    square[20..24].copy_from_slice(&295u32.to_be_bytes());
    let r = inst
        .post(app.url(&format!("/plans/{}/photos/{cand}", plan.id)))
        .multipart(form(square))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("宽高比"));
    let r = inst
        .post(app.url(&format!("/plans/{}/photos/{cand}", plan.id)))
        .multipart(form(store::demo_certificates::DEMO_PHOTO_PNG.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, html) = page(center.clone(), format!("/plans/{}/certificates", plan.id)).await;
    assert!(html.contains("签发 2 本证书"), "both may be issued now");
    // Issue through the form: redirected to the job page.
    let r = center
        .post(app.url(&format!("/plans/{}/certificates/issue", plan.id)))
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with("/jobs/"), "{loc}");
    let job: i64 = loc.trim_start_matches("/jobs/").parse().unwrap();
    wait_job(&center, &app, job).await;
    let batch: i64 = app
        .count(&format!(
            "SELECT id FROM cert_batches WHERE plan_id = {}",
            plan.id
        ))
        .await;
    let (s, html) = page(center.clone(), format!("/cert-batches/{batch}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("已完成"));
    let (s, html) = page(center.clone(), "/certificates".into()).await;
    assert_eq!(s, 200);
    assert!(html.contains("页面甲"));
    let id: i64 = app
        .count(&format!(
            "SELECT id FROM certificates WHERE plan_id = {} ORDER BY id LIMIT 1",
            plan.id
        ))
        .await;
    let (s, html) = page(center.clone(), format!("/certificates/{id}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("提出（待另一部门确认）"));
    // The institution sees its certificates; the district too; an expert does not.
    assert_eq!(
        page(inst.clone(), format!("/certificates/{id}")).await.0,
        200
    );
    let district = app.login("district-410105").await;
    assert_eq!(page(district, "/certificates".into()).await.0, 200);
    let expert = app.login("expert-1").await;
    assert_eq!(page(expert, "/certificates".into()).await.0, 403);
    // Site code page for the city.
    let (s, _) = page(
        center.clone(),
        format!("/institutions/{}/site-code", plan.institution_id),
    )
    .await;
    assert_eq!(s, 200);
    let r = center
        .post(app.url(&format!("/institutions/{}/site-code", plan.institution_id)))
        .form(&[("site_code", "abc")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}
