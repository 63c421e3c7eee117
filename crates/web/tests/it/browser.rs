//! Browser tests: real headless Chromium through WebDriver. Screenshots go to test-artifacts/.

use crate::helpers::{spawn_app, DEMO_PASSWORD};
use crate::webdriver::Browser;

/// Log in through the login page as `username`.
pub async fn login(b: &Browser, base: &str, username: &str) {
    b.goto(&format!("{base}/login")).await;
    b.type_into("#username", username).await;
    b.type_into("#password", DEMO_PASSWORD).await;
    b.click("#login-submit").await;
    b.wait_for_url("/dashboard").await;
}

#[tokio::test]
async fn browser_district_officer_dashboard() {
    let app = spawn_app().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let base = format!("http://{}", app.addr);
    b.goto(&format!("{base}/")).await;
    b.screenshot("home").await;
    login(&b, &base, "district-410105").await;
    let heading = b.text("main h1").await;
    assert_eq!(heading, "工作台");
    let queue = b.text("#work-queue").await;
    assert!(
        queue.contains("信息不完整"),
        "work queue shows what waits: {queue}"
    );
    let shot = b.screenshot("district-dashboard").await;
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a real screenshot"
    );
    b.goto(&format!("{base}/institutions")).await;
    b.screenshot("district-institutions").await;
    // Log out with the header button.
    b.click(".userbox button[type=submit]").await;
    b.wait_for_url("/login").await;
    assert!(b.source().await.contains("您已安全退出"));
    b.goto(&format!("{base}/dashboard")).await;
    b.wait_for_url("/login").await;
    b.quit().await;
}
