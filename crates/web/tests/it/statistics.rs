//! Statistics (issue 10 §2): the figures equal the records, counted again with raw SQL, and a
//! district sees its own area only.

use crate::helpers::spawn_app;

#[tokio::test]
async fn statistics_match_records() {
    let app = spawn_app().await;
    let s = app.store.statistics(&domain::Scope::City).await.unwrap();
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
    let own = app
        .store
        .statistics(&domain::Scope::District("410105".into()))
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
