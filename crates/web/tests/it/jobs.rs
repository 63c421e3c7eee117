//! Background jobs: progress kept in the database, visible to the owner and the city only.

use std::sync::Arc;
use std::time::Duration;

use web::jobs::{spawn_job, JobOutcome};

use crate::helpers::{spawn_app, TestApp};

async fn actor(app: &TestApp, username: &str) -> store::Actor {
    store::Actor {
        user_id: Some(app.user_id(username).await),
        username: username.into(),
        role: "institution".into(),
        ..Default::default()
    }
}

async fn job_json(app: &TestApp, c: &reqwest::Client, id: i64) -> serde_json::Value {
    let r = c
        .get(app.url(&format!("/api/v1/jobs/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn job_progresses_and_finishes() {
    let app = spawn_app().await;
    let me = actor(&app, "inst-1").await;
    let gate = Arc::new(tokio::sync::Notify::new());
    let g = gate.clone();
    let id = spawn_job(&app.store, &me, "test_import", None, move |p| async move {
        p.set(1, 3, "正在校验第 1 行").await;
        g.notified().await;
        p.set(3, 3, "正在保存").await;
        Ok(JobOutcome::new("已导入 3 行").link("/dashboard"))
    })
    .await
    .unwrap();

    let c = app.login("inst-1").await;
    // Wait for the first progress report.
    let mut j = job_json(&app, &c, id).await;
    for _ in 0..50 {
        if j["status"] == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        j = job_json(&app, &c, id).await;
    }
    assert_eq!(j["status"], "running");
    assert_eq!(j["done"], 1);
    assert_eq!(j["total"], 3);
    assert_eq!(j["finished"], false);

    // The page shows a progress bar for it.
    let html = c
        .get(app.url(&format!("/jobs/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<progress") && html.contains(&format!("data-job-id=\"{id}\"")));

    gate.notify_one();
    for _ in 0..100 {
        j = job_json(&app, &c, id).await;
        if j["finished"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(j["status"], "succeeded");
    assert_eq!(j["done"], 3);
    assert_eq!(j["message"], "已导入 3 行");
    assert_eq!(j["result"]["link"], "/dashboard");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action IN ('job.create', 'job.finish')")
            .await,
        2
    );

    // Another user: 404; the city: allowed.
    let other = app.login("inst-2").await;
    let r = other
        .get(app.url(&format!("/api/v1/jobs/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = other
        .get(app.url(&format!("/jobs/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let district = app.login("district-410105").await;
    let r = district
        .get(app.url(&format!("/api/v1/jobs/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let center = app.login("center").await;
    assert_eq!(job_json(&app, &center, id).await["status"], "succeeded");
}

#[tokio::test]
async fn job_failure_and_panic_are_recorded() {
    let app = spawn_app().await;
    let me = actor(&app, "inst-1").await;
    let failed = spawn_job(&app.store, &me, "test_import", None, |_p| async move {
        Err(JobOutcome::new("第 3 行身份证件号码有误，未导入任何记录").report_url("/documents/1"))
    })
    .await
    .unwrap();
    let panicked = spawn_job(&app.store, &me, "test_import", None, |_p| async move {
        if true {
            panic!("boom");
        }
        Ok(JobOutcome::new("never"))
    })
    .await
    .unwrap();
    let c = app.login("inst-1").await;
    for (id, msg) in [(failed, "第 3 行"), (panicked, "任务异常终止")] {
        let mut j = job_json(&app, &c, id).await;
        for _ in 0..100 {
            if j["finished"] == true {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            j = job_json(&app, &c, id).await;
        }
        assert_eq!(j["status"], "failed");
        assert!(j["message"].as_str().unwrap().contains(msg), "{j}");
    }
}
