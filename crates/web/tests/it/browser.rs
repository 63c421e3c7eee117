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
    assert!(
        queue.contains("注册评价机构账号待确认"),
        "the demo's self-registration waits for the district: {queue}"
    );
    b.goto(&format!("{base}/institutions")).await;
    b.screenshot("district-institutions").await;
    // 三(二) the enterprise register and 一(二) guidance, 二(二) registrations.
    b.goto(&format!("{base}/enterprises")).await;
    assert_eq!(b.text("main h1").await, "企业筛查台账");
    b.screenshot("district-enterprises").await;
    b.goto(&format!("{base}/registrations")).await;
    assert_eq!(b.text("main h1").await, "评价机构账号注册确认");
    b.screenshot("district-registrations").await;
    // Log out with the header button.
    b.click(".userbox button[type=submit]").await;
    b.wait_for_url("/login").await;
    assert!(b.source().await.contains("您已安全退出"));
    b.goto(&format!("{base}/dashboard")).await;
    b.wait_for_url("/login").await;
    b.quit().await;
}

/// Every page an admin and the public see, screenshotted for a human to look at; each must show
/// its Chinese heading (no error page, no template failure).
#[tokio::test]
async fn browser_page_tour() {
    let app = spawn_app().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let base = format!("http://{}", app.addr);
    let public: &[(&str, &str, &str)] = &[
        ("/login", "登录", "login"),
        (
            "/public/institutions",
            "已备案评价机构",
            "public-institutions",
        ),
        (
            "/public/certificates?cert_no=S000041000123265000001&name=张三",
            "职业技能等级证书查询",
            "certificate-query",
        ),
        ("/policy", "政策规则", "policy"),
        ("/register", "评价机构账号注册", "register"),
        (
            "/public/work-plan-template",
            "企业职业技能等级认定工作方案（模板）",
            "work-plan-template",
        ),
        ("/no-such-page", "页面不存在", "not-found"),
    ];
    b.expect_error_status(&format!("{base}/no-such-page"));
    // A query that finds nothing answers 404 (the page says so): expected here.
    b.expect_error_status(&format!("{base}/public/certificates?cert_no="));
    for (path, heading, shot) in public {
        b.goto(&format!("{base}{path}")).await;
        assert_eq!(b.text("main h1").await, *heading, "{path}");
        b.screenshot(shot).await;
    }
    login(&b, &base, "admin").await;
    b.screenshot("admin-dashboard").await;
    let admin: &[(&str, &str, &str)] = &[
        ("/users", "用户账号", "users"),
        ("/users/new", "新建账号", "user-new"),
        (
            "/institutions/1",
            "郑州市金水区华信职业培训学校",
            "institution",
        ),
        (
            "/institutions/1/edit",
            "修改：郑州市金水区华信职业培训学校",
            "institution-edit",
        ),
        ("/admin/divisions", "行政区划", "divisions"),
        ("/admin/occupations?confirmed=no", "职业目录", "occupations"),
        ("/admin/calendar?year=2026", "工作日历：2026 年", "calendar"),
        ("/admin/tokens", "接口令牌", "tokens"),
        ("/audit", "审计日志", "audit"),
        ("/api/docs", "接口文档", "api-docs"),
    ];
    for (path, heading, shot) in admin {
        b.goto(&format!("{base}{path}")).await;
        assert_eq!(b.text("main h1").await, *heading, "{path}");
        b.screenshot(shot).await;
    }
    b.quit().await;
}

/// 二(二) through the pages: the institution submits a plan, the district records the paper copy
/// and approves it, the institution enters it, and the city confirms it.
#[tokio::test]
async fn browser_plan_submit_district_approve_city_confirm() {
    let app = spawn_app().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let base = format!("http://{}", app.addr);
    let occ: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM occupations WHERE code = '4-03-02-01' ORDER BY id LIMIT 1")
            .fetch_one(&app.store.db.pool)
            .await
            .unwrap()
            .get(0)
    };
    let start = crate::plans::today() + chrono::Duration::days(21);
    let end = start + chrono::Duration::days(1);

    login(&b, &base, "inst-1").await;
    b.goto(&format!("{base}/plans/new")).await;
    b.click(&format!("#f-occupation_id option[value=\"{occ}\"]"))
        .await;
    b.type_into("#f-levels", "4").await;
    b.set_value("#f-start_date", &start.format("%Y-%m-%d").to_string())
        .await;
    b.set_value("#f-end_date", &end.format("%Y-%m-%d").to_string())
        .await;
    b.type_into("#f-venue", "郑州市金水区示范路11号实训楼三层")
        .await;
    b.type_into("#f-expected_candidates", "30").await;
    b.type_into("#f-examiners", "李明、王芳").await;
    b.type_into("#f-internal_supervisor", "赵强").await;
    b.screenshot("plan-new").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_url("msg=created").await;
    let url = b.current_url().await;
    let plan_url = url.split('?').next().unwrap().to_string();
    assert!(b.source().await.contains("最晚提交日期"));

    let act = |cmd: &'static str| {
        let b = &b;
        async move {
            b.click(&format!("form[action$=\"/act/{cmd}\"] button"))
                .await;
            b.accept_alert().await;
            b.wait_for_url("msg=done").await;
        }
    };
    act("submit").await;
    assert!(b.text("main").await.contains("已提交，待区县收取纸质件"));
    let logout = || async {
        b.click(".userbox button[type=submit]").await;
        b.wait_for_url("/login").await;
    };
    logout().await;

    login(&b, &base, "district-410105").await;
    // The paper copy is recorded on a form with its receipt date (today by default).
    b.goto(&format!("{plan_url}/act/paper")).await;
    b.click("form.stack button[type=submit]").await;
    b.accept_alert().await;
    b.wait_for_url("msg=done").await;
    act("approve").await;
    assert!(b.text("main").await.contains("区县已审核通过"));
    b.screenshot("plan-district-approved").await;
    logout().await;

    login(&b, &base, "inst-1").await;
    b.goto(&plan_url).await;
    act("enter").await;
    logout().await;

    login(&b, &base, "center").await;
    b.goto(&plan_url).await;
    act("confirm").await;
    let main = b.text("main").await;
    assert!(main.contains("市级已认可，可开展评价"), "{main}");
    b.screenshot("plan-city-confirmed").await;
    b.quit().await;
}

/// Zero console errors (issue 8 §9): a representative set of pages of every role and of the
/// public, each with its heading; `Browser::goto` and `quit` fail on any SEVERE console entry
/// (a style attribute refused by the CSP, a failed load such as a missing favicon, a script error).
#[tokio::test]
async fn browser_no_console_errors() {
    let app = spawn_app().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let base = format!("http://{}", app.addr);
    let id = |sql: &'static str| {
        let pool = app.store.db.pool.clone();
        async move {
            use sqlx::Row;
            sqlx::query(sql)
                .fetch_one(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .get::<i64, _>(0)
        }
    };
    let filing =
        id("SELECT id FROM filing_applications WHERE district_code = '410105' ORDER BY id LIMIT 1")
            .await;
    let signed_plan = id("SELECT plan_id FROM letter_signatures ORDER BY id LIMIT 1").await;
    let inst_plan = id("SELECT p.id FROM plans p JOIN users u ON u.institution_id = p.institution_id WHERE u.username = 'inst-1' ORDER BY p.id LIMIT 1").await;
    let draw = id("SELECT d.id FROM expert_draws d JOIN filing_applications f ON f.id = d.application_id WHERE f.district_code = '410105' ORDER BY d.id LIMIT 1").await;
    let filing_url = format!("/filings/{filing}");
    let signed_url = format!("/plans/{signed_plan}");
    let letter_url = format!("/plans/{signed_plan}/letter");
    let inst_plan_url = format!("/plans/{inst_plan}");
    let candidates_url = format!("/plans/{inst_plan}/candidates/new");
    let draw_url = format!("/draws/{draw}");

    // The public, not logged in.
    for path in [
        "/",
        "/login",
        "/public/filings",
        "/public/institutions",
        "/public/results",
        "/public/certificates",
        "/policy",
        "/register",
    ] {
        b.goto(&format!("{base}{path}")).await;
        assert!(!b.text("main h1").await.is_empty(), "{path}");
    }
    // Every role's dashboard, lists, details and forms (forms show the required-field marks
    // and the layout classes that were inline styles before).
    let roles: Vec<(&str, Vec<&str>)> = vec![
        (
            "admin",
            vec![
                "/dashboard",
                "/users",
                "/users/new",
                "/admin/tokens",
                "/admin/calendar?year=2026",
                "/audit",
                "/api/docs",
                "/notifications",
            ],
        ),
        (
            "center",
            vec![
                "/dashboard",
                "/filings",
                &filing_url,
                "/plans",
                &signed_url,
                &letter_url,
                "/experts",
                "/efilings",
                "/supervision/relations",
            ],
        ),
        (
            "bureau",
            vec![
                "/dashboard",
                "/filings",
                &filing_url,
                "/filing-exceptions",
                "/increment-rounds",
            ],
        ),
        (
            "district-410105",
            vec![
                "/dashboard",
                "/institutions",
                "/enterprises",
                "/registrations",
                "/filings",
                &filing_url,
                &draw_url,
                "/plans",
                "/district-moves",
            ],
        ),
        (
            "inst-1",
            vec![
                "/dashboard",
                "/filings",
                "/filings/new",
                "/plans",
                "/plans/new",
                &inst_plan_url,
                &candidates_url,
            ],
        ),
        ("expert-1", vec!["/dashboard", "/filings"]),
        ("sup-city-1", vec!["/dashboard", "/plans", &signed_url]),
    ];
    for (user, paths) in &roles {
        login(&b, &base, user).await;
        for path in paths {
            b.goto(&format!("{base}{path}")).await;
            let h1 = b.text("main h1").await;
            assert!(
                !h1.is_empty() && h1 != "页面不存在" && h1 != "无权访问",
                "{user} {path}: {h1}"
            );
        }
        b.screenshot(&format!("console-clean-{user}")).await;
        b.click(".userbox button[type=submit]").await;
        b.wait_for_url("/login").await;
        b.assert_no_console_errors(user).await;
    }
    // The favicon is served (Chromium asks for it on its own; a 404 would be a console error).
    let r = reqwest::get(format!("{base}/favicon.ico")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/x-icon");
    assert!(
        r.bytes().await.unwrap().starts_with(&[0, 0, 1, 0]),
        "an ICO file"
    );
    b.quit().await;
}
/// Issue 9: a phone scans the QR code of a certificate: the landing page checks the signature and
/// shows the live state; an altered QR text is refused; a revoked certificate shows as revoked.
#[tokio::test]
async fn browser_public_verify_from_qr() {
    use sqlx::Row;
    let app = spawn_app().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let base = format!("http://{}", app.addr);
    let qr_of = |state: &'static str| {
        let app = &app;
        let base = base.clone();
        async move {
            let r = sqlx::query("SELECT cert_no, cose FROM certificates WHERE state = $1 AND published = 1 ORDER BY id LIMIT 1")
                .bind(state)
                .fetch_one(&app.store.db.pool)
                .await
                .unwrap();
            use base64::Engine;
            let cose = base64::engine::general_purpose::STANDARD
                .decode(r.get::<String, _>(1))
                .unwrap();
            (
                r.get::<String, _>(0),
                certsign::qr_text(&base, &r.get::<String, _>(0), &cose),
            )
        }
    };
    let (no, qr) = qr_of("valid").await;
    b.goto(&qr).await;
    assert_eq!(b.text("main h1").await, "证书查验");
    let verdict = b.text("[data-state]").await;
    assert!(verdict.contains("签名有效，证书有效"), "{verdict}");
    assert!(b.source().await.contains(&no));
    b.screenshot("certificate-qr-valid").await;
    // Altered QR text: the last digit of the signature changed.
    let last = qr.chars().last().unwrap();
    let altered = format!(
        "{}{}",
        &qr[..qr.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    // An altered QR text is refused with 422 (the page explains why): expected here.
    b.expect_error_status(&altered);
    b.goto(&altered).await;
    assert_eq!(b.text("main h1").await, "无法处理该请求");
    let msg = b.text("main").await;
    assert!(msg.contains("签名") || msg.contains("格式错误"), "{msg}");
    b.screenshot("certificate-qr-altered").await;
    // The revoked demo certificate: the signature is still good, the live state says revoked.
    let (_, revoked) = qr_of("revoked").await;
    b.goto(&revoked).await;
    let verdict = b.text("[data-state]").await;
    assert!(verdict.contains("已撤销"), "{verdict}");
    b.screenshot("certificate-qr-revoked").await;
    // The query page by number + name, from the landing page's form.
    b.goto(&format!("{base}/v/{no}")).await;
    let holder: String = sqlx::query("SELECT holder_name FROM certificates WHERE cert_no = $1")
        .bind(&no)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0);
    b.type_into("#lq-name", &holder).await;
    b.click("main form button[type=submit]").await;
    b.wait_for_url("/public/certificates?").await;
    assert!(b
        .text(&format!("[data-cert='{no}'] h2"))
        .await
        .contains("有效"));
    b.screenshot("certificate-query-found").await;
    b.quit().await;
}

/// Issue 9: the offline verifier checks a pasted QR text in the browser with WebCrypto Ed25519;
/// an altered text is invalid. The keys come from the platform once (or are pasted).
#[tokio::test]
async fn browser_offline_verifier_webcrypto() {
    use sqlx::Row;
    let app = spawn_app().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let base = format!("http://{}", app.addr);
    let r = sqlx::query("SELECT cert_no, cose, holder_name FROM certificates WHERE state = 'valid' AND published = 1 ORDER BY id LIMIT 1")
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap();
    use base64::Engine;
    let no: String = r.get(0);
    let cose = base64::engine::general_purpose::STANDARD
        .decode(r.get::<String, _>(1))
        .unwrap();
    let name: String = r.get(2);
    let qr = certsign::qr_text("https://pingjia.example.gov.cn", &no, &cose);
    b.goto(&format!("{base}/public/certificates/verify")).await;
    assert_eq!(b.text("main h1").await, "职业技能等级证书离线查验");
    // Wait until the page has read the published keys.
    for _ in 0..50 {
        if b.text("#keys-state").await.contains("已读取") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(b.text("#keys-state").await.contains("已读取"));
    b.type_into("#qr-text", &qr).await;
    b.click("#verify-button").await;
    let mut verdict = String::new();
    for _ in 0..50 {
        verdict = b.text("#verify-result").await;
        if !verdict.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(verdict.starts_with("有效"), "{verdict}");
    let fields = b.text("#verify-fields").await;
    assert!(fields.contains(&no) && fields.contains(&name), "{fields}");
    b.screenshot("certificate-offline-valid").await;
    // Altered: one digit of the signature changed.
    let last = qr.chars().last().unwrap();
    let altered = format!(
        "{}{}",
        &qr[..qr.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    b.set_value("#qr-text", &altered).await;
    b.click("#verify-button").await;
    for _ in 0..50 {
        verdict = b.text("#verify-result").await;
        if verdict.starts_with("无效") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(verdict.starts_with("无效"), "{verdict}");
    b.screenshot("certificate-offline-altered").await;
    b.quit().await;
}

/// 统计分析 (issue 10 §2) in a real browser: the city's page draws every figure as a server-side
/// SVG chart (no script, no CDN), the waiting-time figure among them, and prints; a screenshot of
/// the whole page goes to test-artifacts/statistics-city.png.
#[tokio::test]
async fn browser_statistics_charts() {
    let app = spawn_app().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let base = format!("http://{}", app.addr);
    login(&b, &base, "center").await;
    b.goto(&format!("{base}/statistics")).await;
    assert_eq!(b.text("main h1").await, "统计分析（全市）");
    // Every figure has its chart, laid out with a real size, and the charts hold bars.
    let charts = b
        .eval(
            "return Array.from(document.querySelectorAll('svg.chart')).map(function (s) { \
               var r = s.getBoundingClientRect(); \
               return { w: r.width, h: r.height, bars: s.querySelectorAll('rect.bar').length, \
                        empty: s.querySelectorAll('.chart-empty').length, \
                        labels: s.querySelectorAll('text.chart-label').length, \
                        legend: s.querySelectorAll('.chart-legend').length, \
                        title: (s.querySelector('title') || {}).textContent }; });",
        )
        .await;
    let charts = charts.as_array().unwrap();
    let figures = b
        .eval("return document.querySelectorAll('section.stats-figure').length;")
        .await;
    assert_eq!(charts.len() as u64, figures.as_u64().unwrap());
    assert!(charts.len() >= 9, "{charts:?}");
    for c in charts {
        assert!(c["w"].as_f64().unwrap() > 100.0, "{c}");
        assert!(c["h"].as_f64().unwrap() > 20.0, "{c}");
        assert!(
            c["bars"].as_u64().unwrap() > 0 || c["empty"].as_u64().unwrap() == 1,
            "{c}"
        );
    }
    let wait = charts
        .iter()
        .find(|c| c["title"].as_str().unwrap_or("").contains("等待工作日"))
        .expect("the waiting-time chart");
    assert_eq!(wait["labels"], 4, "one row per bucket: {wait}");
    // The paired figure (考生数 / 合格人数) names its two bars.
    let paired = charts
        .iter()
        .find(|c| c["title"].as_str().unwrap_or("").contains("合格率"))
        .expect("the pass-rate chart");
    assert_eq!(paired["legend"], 1, "{paired}");
    // The labels are drawn (a CJK font, not boxes): the text has width.
    let label_width = b
        .eval("var t = document.querySelector('svg.chart text.chart-label'); return t ? t.getBBox().width : 0;")
        .await;
    assert!(label_width.as_f64().unwrap() > 10.0);
    // A district: its own area only, no district picker.
    b.resize(1280, 5200).await;
    let shot = b.screenshot("statistics-city").await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 30_000);
    // Each figure on its own, to look at closely.
    for i in 0..charts.len() {
        b.screenshot_element("section.stats-figure", i, &format!("statistics-figure-{i}"))
            .await;
    }
    b.resize(1280, 900).await;
    b.click(".userbox button[type=submit]").await;
    b.wait_for_url("/login").await;
    login(&b, &base, "district-410105").await;
    b.goto(&format!("{base}/statistics")).await;
    assert_eq!(b.text("main h1").await, "统计分析（金水区）");
    assert_eq!(
        b.eval("return document.querySelectorAll('#st-d').length;")
            .await,
        0
    );
    b.screenshot("statistics-district").await;
    b.quit().await;
}

/// 档案保管 in a real browser: the district's due list, a record, the first key with its reason,
/// the city's second key (a confirmation dialog) and the confirmation page before the
/// irreversible step; the paper register. Screenshots: test-artifacts/retention-*.png.
#[tokio::test]
async fn browser_retention_disposal() {
    let app = spawn_app().await;
    let Some(b) = Browser::start().await else {
        return;
    };
    let base = format!("http://{}", app.addr);
    let id = {
        use sqlx::Row;
        sqlx::query("SELECT r.id FROM retention_records r JOIN filing_applications a ON a.id = r.subject_id WHERE r.class = 'filing' AND a.note LIKE '%待提出销毁%'")
            .fetch_one(&app.store.db.pool)
            .await
            .unwrap()
            .get::<i64, _>(0)
    };
    login(&b, &base, "district-410105").await;
    b.goto(&format!("{base}/retention")).await;
    assert_eq!(b.text("main h1").await, "档案保管与到期销毁");
    b.resize(1280, 1400).await;
    b.screenshot("retention-due-district").await;
    b.goto(&format!("{base}/retention/{id}")).await;
    b.screenshot("retention-record").await;
    b.goto(&format!("{base}/retention/{id}/disposal")).await;
    b.type_into("#f-reason", "保存期满，经核对无未结事项").await;
    b.screenshot("retention-propose").await;
    b.click("form.stack button[type=submit]").await;
    b.wait_for_url("msg=proposed").await;
    assert!(b.source().await.contains("已提出销毁"));
    b.goto(&format!("{base}/paper-records")).await;
    b.screenshot("retention-paper-list").await;
    b.goto(&format!("{base}/paper-records/new")).await;
    b.screenshot("retention-paper-form").await;
    b.resize(1280, 900).await;
    b.click(".userbox button[type=submit]").await;
    b.wait_for_url("/login").await;
    // The city turns the second key (a confirmation dialog first), then the execution page.
    login(&b, &base, "center").await;
    b.goto(&format!("{base}/retention/{id}")).await;
    b.click("button.btn.danger").await;
    b.accept_alert().await;
    b.wait_for_url("msg=approved").await;
    b.goto(&format!("{base}/retention/{id}/disposal/execute"))
        .await;
    assert!(b.source().await.contains("不可恢复"));
    b.resize(1280, 1000).await;
    b.screenshot("retention-execute-confirm").await;
    b.click("#f-confirm").await;
    b.click("form.stack button[type=submit]").await;
    b.accept_alert().await;
    b.wait_for_url("msg=disposed").await;
    assert!(b.source().await.contains("销毁记录"));
    b.screenshot("retention-tombstone").await;
    b.goto(&format!("{base}/retention?state=disposed")).await;
    b.screenshot("retention-disposed-city").await;
    b.quit().await;
}
