//! Browser: an institution applies through the pages, and the district passes 初审 through the pages.

use sqlx::Row;

use crate::browser::login;
use crate::helpers::spawn_app;
use crate::webdriver::Browser;

#[tokio::test]
async fn browser_filing_apply_and_district_pass() {
    let app = spawn_app().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let base = format!("http://{}", app.addr);
    // An unfiled social organisation (inst-1 is filed: it would file an increment, 一(四)).
    app.applicant("410105").await;
    login(&b, &base, "applicant-410105").await;
    b.goto(&format!("{base}/filings/new")).await;
    assert_eq!(b.text("main h1").await, "新建备案申请");
    b.click("#f-occ1 option[value='4-10-03-01']").await;
    b.screenshot("filing-new").await;
    b.click("form.stack .actions button[type=submit]").await;
    b.wait_for_url("msg=created").await;
    let url = b.current_url().await;
    let id: i64 = url
        .split("/filings/")
        .nth(1)
        .and_then(|s| s.split('?').next())
        .and_then(|s| s.parse().ok())
        .expect("application id in the URL");
    assert!(b.source().await.contains("草稿"));
    assert!(
        b.source().await.contains("未上传"),
        "the materials checklist"
    );
    app.attach_required_materials(id).await;
    b.goto(&format!("{base}/filings/{id}")).await;
    // Submit (the first action of a draft).
    b.click(&format!("form[action='/filings/{id}/act'] button"))
        .await;
    b.wait_for_url("msg=done").await;
    b.screenshot("filing-submitted").await;
    b.click(".userbox button[type=submit]").await;
    b.wait_for_url("/login").await;

    login(&b, &base, "district-410105").await;
    b.goto(&format!("{base}/filings")).await;
    assert!(b.source().await.contains("410105第"));
    b.goto(&format!("{base}/filings/{id}")).await;
    b.type_into("#r-passfalse", "材料齐全，同意初审通过").await;
    b.click("form:has(#r-passfalse) button[type=submit]").await;
    b.wait_for_url("msg=done").await;
    b.screenshot("filing-district-passed").await;
    assert!(b.source().await.contains("初审通过"));
    let state: String = sqlx::query("SELECT state FROM filing_applications WHERE id = $1")
        .bind(id)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(state, "district_passed");
    b.quit().await;
}
