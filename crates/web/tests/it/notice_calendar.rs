//! The calendar that never stops, over HTTP: provisional years say so everywhere, the admin and
//! the city are warned from 1 November, the official schedule replaces the provisional one
//! without changing recorded decisions, and time moves the workflow.

use chrono::NaiveDate;
use serde_json::Value;
use sqlx::Row;
use web::{AppState, WebConfig};

use crate::helpers::{spawn_app_with, TestApp};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

async fn spawn_on(day: NaiveDate) -> TestApp {
    spawn_app_with(WebConfig {
        demo: true,
        fixed_today: Some(day),
        ..Default::default()
    })
    .await
}

/// The demo application of inst-1, put in 公示 on the demo's "today".
async fn demo_publicity(app: &TestApp) -> (i64, String, String, String) {
    let r = sqlx::query("SELECT id, publicity_start, publicity_end, publicity_calendar FROM filing_applications WHERE state = 'publicity' ORDER BY id LIMIT 1")
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap();
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

/// A second app server on the same database, with its own pinned date.
async fn state_on(app: &TestApp, day: NaiveDate) -> AppState {
    AppState::new(
        app.store.clone(),
        WebConfig {
            demo: true,
            fixed_today: Some(day),
            ..Default::default()
        },
        domain::policy::Policy::zhengzhou_2022(),
    )
}

async fn serve(state: AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(web::serve(listener, state));
    addr
}

#[tokio::test]
async fn calendar_provisional_dates_are_marked_everywhere() {
    // Approved on 2026-12-28: the 公示 runs into 2027, whose schedule is not entered.
    let app = spawn_on(d(2026, 12, 28)).await;
    let (id, from, until, basis) = demo_publicity(&app).await;
    assert_eq!(from, "2026-12-29");
    // 12-29, 12-30, 12-31, then 元旦 (Friday 2027-01-01) and the weekend, then 01-04, 01-05.
    assert_eq!(until, "2027-01-05");
    assert_eq!(basis, "provisional");
    // API: the record carries the basis.
    let center = app.login("center").await;
    let v: Value = center
        .get(app.url(&format!("/api/v1/filings/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["application"]["publicity_calendar"], "provisional", "{v}");
    // Page: the detail and the public list say it.
    let page = center
        .get(app.url(&format!("/filings/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("临时日历"),
        "detail page names the provisional calendar"
    );
    let public = reqwest::get(app.url("/public/filings"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(public.contains("临时日历"));
    // Audit: the period's event records the basis.
    let summary: String = sqlx::query("SELECT summary FROM audit_events WHERE action = 'filing.publicity_period' AND object_id = $1 ORDER BY seq DESC LIMIT 1")
        .bind(id.to_string())
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0);
    assert!(
        summary.contains("\"calendar\":\"provisional\""),
        "{summary}"
    );
    // The pinned date shows in a banner on every page.
    assert!(page.contains("演练日期") && page.contains("2026年12月28日"));

    // The admin enters the official 2027 schedule: the warning goes away, and the decision
    // already taken keeps the period and the basis it was recorded with.
    let admin = app.login("admin").await;
    let dash = admin
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(dash.contains("id=\"calendar-warning\"") && dash.contains("2027 年节假日安排尚未录入"));
    let toml = "year = 2027\nsource = \"国务院办公厅关于2027年部分节假日安排的通知\"\n\n[[holiday]]\nname = \"元旦\"\nfrom = \"2027-01-01\"\nto = \"2027-01-03\"\n";
    let r = admin
        .post(app.url("/admin/calendar/year"))
        .form(&[("toml", toml)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let dash = admin
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!dash.contains("id=\"calendar-warning\""));
    let (_, from2, until2, basis2) = demo_publicity(&app).await;
    assert_eq!((from2, until2, basis2), (from, until, basis));
}

#[tokio::test]
async fn calendar_warning_only_from_november_and_only_for_admin_and_city() {
    let app = spawn_on(d(2026, 10, 30)).await;
    for who in ["admin", "center", "bureau"] {
        let c = app.login(who).await;
        let dash = c
            .get(app.url("/dashboard"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!dash.contains("calendar-warning"), "{who} in October");
    }
    let app = spawn_on(d(2026, 11, 1)).await;
    for (who, warned) in [
        ("admin", true),
        ("center", true),
        ("bureau", true),
        ("district-410105", false),
        ("inst-1", false),
    ] {
        let c = app.login(who).await;
        let dash = c
            .get(app.url("/dashboard"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(dash.contains("calendar-warning"), warned, "{who}");
    }
}

#[tokio::test]
async fn publicity_end_moves_the_record() {
    let app = spawn_on(d(2026, 12, 2)).await;
    let (id, from, until, _) = demo_publicity(&app).await;
    // One rule for every 公示: published 12-02, counted from 12-03, five working days.
    assert_eq!(
        (from.as_str(), until.as_str()),
        ("2026-12-03", "2026-12-09")
    );
    let name: String = sqlx::query("SELECT i.name FROM filing_applications a JOIN institutions i ON i.id = a.institution_id WHERE a.id = $1")
        .bind(id)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0);
    let public_on = |addr: String| async move {
        reqwest::get(format!("{addr}/public/filings"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    assert!(public_on(format!("http://{}", app.addr))
        .await
        .contains(&name));

    // On the last day nothing moves; the day after, the record is filed by the scheduler.
    let last_day = state_on(&app, d(2026, 12, 9)).await;
    assert_eq!(web::scheduler::run_due(&last_day).await.unwrap(), 0);
    let after = state_on(&app, d(2026, 12, 10)).await;
    // Before any sweep, the public list no longer shows the ended period as 公示中.
    let listed = app
        .store
        .public_filings(d(2026, 12, 10), store::PageRequest::new(None, None))
        .await
        .unwrap();
    assert!(listed.items.iter().all(|a| a.id != id));
    // Two servers sweep at once: the record moves exactly once.
    let other = state_on(&app, d(2026, 12, 10)).await;
    let (a, b) = tokio::join!(
        web::scheduler::run_due(&after),
        web::scheduler::run_due(&other)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let r = sqlx::query("SELECT state, filing_no, filed_on FROM filing_applications WHERE id = $1")
        .bind(id)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap();
    assert_eq!(r.get::<String, _>(0), "filed");
    assert!(r.get::<Option<String>, _>(1).is_some());
    assert_eq!(r.get::<Option<String>, _>(2).as_deref(), Some("2026-12-10"));
    let by: String = sqlx::query(
        "SELECT actor FROM audit_events WHERE action = 'filing.finish' AND object_id = $1",
    )
    .bind(id.to_string())
    .fetch_one(&app.store.db.pool)
    .await
    .unwrap()
    .get(0);
    assert_eq!(by, "system:scheduler");
    assert_eq!(web::scheduler::run_due(&after).await.unwrap(), 0);
    // A server started later (its scheduler sweeps at once) finds nothing left to do.
    let addr = serve(after).await;
    assert!(!public_on(addr).await.contains(&name));
}
