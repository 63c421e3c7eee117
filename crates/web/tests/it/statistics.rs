//! Statistics (issue 10 §2): the figures equal the records, counted again with raw SQL, and a
//! district sees its own area only.

use crate::helpers::spawn_app;

#[tokio::test]
async fn statistics_match_records() {
    let app = spawn_app().await;
    let cal = app.store.holiday_calendar().await.unwrap();
    let today = store::testing::today();
    let s = app
        .store
        .statistics(&domain::Scope::City, today, &cal)
        .await
        .unwrap();
    let sum = |v: &[store::Tally]| v.iter().map(|t| t.count).sum::<i64>();
    assert_eq!(
        sum(&s.institutions_by_district),
        app.count("SELECT COUNT(*) FROM institutions WHERE filing_status = 'filed'")
            .await
    );
    assert_eq!(
        sum(&s.institutions_by_kind),
        app.count("SELECT COUNT(*) FROM institutions WHERE filing_status = 'filed'")
            .await
    );
    assert_eq!(
        sum(&s.filings_by_state),
        app.count("SELECT COUNT(*) FROM filing_applications WHERE state <> 'draft'")
            .await
    );
    // 备案申请等待工作日数: every submitted application once, in the bucket its own dates give
    // (working days from submission, China time, to its closing date or to today).
    assert_eq!(
        sum(&s.filings_by_wait),
        app.count("SELECT COUNT(*) FROM filing_applications WHERE state <> 'draft' AND submitted_at IS NOT NULL")
            .await
    );
    let mut want = [0i64; 4];
    let rows = sqlx::query("SELECT submitted_at, closed_on FROM filing_applications WHERE state <> 'draft' AND submitted_at IS NOT NULL")
        .fetch_all(&app.store.db.pool)
        .await
        .unwrap();
    for r in &rows {
        use sqlx::Row;
        let submitted: String = r.get(0);
        let closed: Option<String> = r.get(1);
        let from = (chrono::DateTime::parse_from_rfc3339(&submitted).unwrap()
            + chrono::Duration::hours(8))
        .date_naive();
        let to = closed
            .map(|c| chrono::NaiveDate::parse_from_str(&c, "%Y-%m-%d").unwrap())
            .unwrap_or(today);
        let days = cal.working_days_between(from, to).unwrap().max(0);
        let bucket = match days {
            0..=5 => 0,
            6..=10 => 1,
            11..=20 => 2,
            _ => 3,
        };
        want[bucket] += 1;
    }
    let got: Vec<i64> = s.filings_by_wait.iter().map(|t| t.count).collect();
    assert_eq!(got, want.to_vec());
    assert!(
        want[0] > 0 && want[3] > 0,
        "the demo waits both briefly and long: {want:?}"
    );
    assert_eq!(
        sum(&s.candidates_by_occupation_level),
        app.count("SELECT COUNT(*) FROM candidates").await
    );
    assert_eq!(
        sum(&s.enterprises_by_district),
        app.count("SELECT COUNT(*) FROM enterprise_register").await
    );
    // The page shows them, with its charts, and exports them.
    let c = app.login("center").await;
    let r = c.get(app.url("/statistics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("<svg"), "charts are drawn on the server");
    assert!(
        html.contains("备案申请（按等待工作日数"),
        "the waiting-time figure"
    );
    let x = c
        .get(app.url("/statistics/export.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(x.status(), 200);
    assert!(x.bytes().await.unwrap().starts_with(b"PK"));
}

#[tokio::test]
async fn statistics_district_sees_own_area() {
    let app = spawn_app().await;
    let cal = app.store.holiday_calendar().await.unwrap();
    let own = app
        .store
        .statistics(
            &domain::Scope::District("410105".into()),
            store::testing::today(),
            &cal,
        )
        .await
        .unwrap();
    let sum = |v: &[store::Tally]| v.iter().map(|t| t.count).sum::<i64>();
    assert_eq!(
        sum(&own.institutions_by_district),
        app.count("SELECT COUNT(*) FROM institutions WHERE filing_status = 'filed' AND district_code = '410105'").await
    );
    assert!(own
        .institutions_by_district
        .iter()
        .all(|t| t.key == "410105"));
    assert_eq!(
        sum(&own.filings_by_wait),
        app.count("SELECT COUNT(*) FROM filing_applications WHERE state <> 'draft' AND submitted_at IS NOT NULL AND district_code = '410105'").await
    );
    let c = app.login("district-410105").await;
    let r = c
        .get(app.url("/statistics?district=410102"))
        .send()
        .await
        .unwrap();
    assert!(r.status() == 200 || r.status() == 403 || r.status() == 404);
    if r.status() == 200 {
        let html = r.text().await.unwrap();
        assert!(
            !html.contains("410102\""),
            "another district's figures leak"
        );
    }
    // Institutions have no statistics page.
    let i = app.login("inst-1").await;
    assert_eq!(
        i.get(app.url("/statistics")).send().await.unwrap().status(),
        403
    );
}
