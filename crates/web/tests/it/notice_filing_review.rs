//! The review stages of 机构备案 read exactly (issue 7, items 6–10 and 18): city-organised
//! review for 统一组织开展 kinds, the expert panel's conclusion, review supervision dispatched
//! jointly with its 督导意见, the report to the province with its xlsx export, the 属地 move, and
//! expert opinions that stay open only until the 初评结果意见.

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use sqlx::Row;

use crate::filing::{
    act, draw, get, json_of, new_app, ok_act, state_of, username_of, version, TINY_PDF,
};
use crate::helpers::{spawn_app_with, TestApp};

/// The day every test here runs on (a Monday): no test reads the wall clock.
const TODAY: &str = "2026-11-16";

async fn spawn() -> TestApp {
    spawn_app_with(web::WebConfig {
        demo: true,
        fixed_today: Some(TODAY.parse().unwrap()),
        ..Default::default()
    })
    .await
}

/// Take an action with extra fields (review_mode, high_level_reason, override_reason).
pub(crate) async fn act_with(
    app: &TestApp,
    c: &reqwest::Client,
    id: i64,
    action: &str,
    reason: &str,
    extra: Value,
) -> (u16, Value) {
    let mut body = json!({ "action": action, "reason": reason, "version": version(app, id).await });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    json_of(
        c.post(app.url(&format!("/api/v1/filings/{id}/actions")))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// The logged-in clients of the current panel's experts, in draw order.
async fn panel(app: &TestApp, organiser: &reqwest::Client, id: i64) -> Vec<reqwest::Client> {
    let (_, d) = get(app, organiser, id).await;
    let members = d["draws"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|x| x["draw"]["status"] == "drawn")
        .unwrap()["members"]
        .as_array()
        .unwrap()
        .clone();
    let mut out = vec![];
    for m in members.iter().filter(|m| m["status"] != "declined") {
        let u = username_of(app, m["user_id"].as_i64().unwrap()).await;
        out.push(app.login(&u).await);
    }
    out
}

async fn opine(
    app: &TestApp,
    expert: &reqwest::Client,
    id: i64,
    conclusion: &str,
    text: &str,
) -> u16 {
    expert
        .post(app.url(&format!("/api/v1/filings/{id}/opinions")))
        .json(&json!({ "conclusion": conclusion, "opinion": text }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Draw experts as `organiser` and let each record `conclusions[i]`.
async fn draw_and_opine(app: &TestApp, organiser: &reqwest::Client, id: i64, conclusions: &[&str]) {
    let (s, b) = draw(app, organiser, id, "").await;
    assert_eq!(s, 201, "{b}");
    for (i, e) in panel(app, organiser, id).await.iter().enumerate() {
        let c = conclusions[i % conclusions.len()];
        assert_eq!(opine(app, e, id, c, "现场评审意见").await, 204);
    }
}

/// A submitted city-route application through the city's review up to 市级审核 (city_review):
/// 受理, draw, opinions, review mode with its why, the city's conclusion.
pub(crate) async fn city_review(app: &TestApp, id: i64, extra_pass: Value) {
    let center = app.login("center").await;
    let bureau = app.login("bureau").await;
    let (s, b) = act_with(app, &center, id, "pass", "材料齐全，市级受理", extra_pass).await;
    assert_eq!(s, 200, "{b}");
    draw_and_opine(app, &center, id, &["通过"]).await;
    let (s, b) = act_with(
        app,
        &bureau,
        id,
        "complete_onsite",
        "需实地查看考核场地",
        json!({ "review_mode": "onsite" }),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let b = ok_act(
        app,
        &bureau,
        id,
        "opinion",
        "经市级组织专家评审，建议予以备案",
    )
    .await;
    assert_eq!(b["state"], "city_review");
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.count(sql).await
}

async fn column(app: &TestApp, id: i64, col: &str) -> Option<String> {
    sqlx::query(&format!(
        "SELECT {col} FROM filing_applications WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(&app.store.db.pool)
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn city_organised_review_for_associations() {
    let app = spawn().await;
    let (ic, id) = new_app(
        &app,
        "inst-6",
        json!({ "kind": "social_org", "occupations": [{ "code": "4-10-01-06", "levels": [4, 3, 2] }] }),
    )
    .await;
    let b = ok_act(&app, &ic, id, "submit", "").await;
    assert_eq!(b["route"], "city");
    assert_eq!(b["state"], "submitted", "received, not skipped to the keys");
    let center = app.login("center").await;
    let bureau = app.login("bureau").await;
    let district = app.login("district-410103").await;
    // The district has no stage on the city route; the keys cannot come before the review.
    let v0 = version(&app, id).await;
    assert_eq!(act(&app, &district, id, "pass", "x").await.0, 403);
    let (s, b) = act(&app, &center, id, "approve", "").await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(version(&app, id).await, v0);
    assert_eq!(column(&app, id, "center_approved_by").await, None);
    // 三(一): 二级 at a first filing needs a recorded reason when the city accepts (the page asks).
    let page = |c: reqwest::Client, id: i64| {
        let url = app.url(&format!("/filings/{id}"));
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert!(page(center.clone(), id)
        .await
        .contains("初次备案申报高于三级的受理理由"));
    let (s, b) = act(&app, &center, id, "pass", "材料齐全").await;
    assert_eq!(s, 422, "{b}");
    assert!(b["message"].as_str().unwrap().contains("三(一)"), "{b}");
    assert_eq!(state_of(&app, id).await, "submitted");
    assert_eq!(version(&app, id).await, v0);
    let (s, b) = act_with(
        &app,
        &center,
        id,
        "pass",
        "材料齐全",
        json!({ "high_level_reason": "协会技师考评人员充足，经研究同意受理二级" }),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["state"], "district_passed");
    assert_eq!(
        b["high_level_reason"],
        "协会技师考评人员充足，经研究同意受理二级"
    );
    // The city draws with the same verifiable draw; the district cannot.
    assert_eq!(draw(&app, &district, id, "").await.0, 403);
    draw_and_opine(&app, &center, id, &["通过", "整改后通过"]).await;
    let (_, d) = get(&app, &center, id).await;
    let draw_id = d["draws"][0]["draw"]["id"].as_i64().unwrap();
    let (s, v) = json_of(
        center
            .get(app.url(&format!("/api/v1/draws/{draw_id}/verify")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, v["ok"].clone()), (200, json!(true)), "{v}");
    // The city records how it reviewed (on site or in writing) and why.
    let before = version(&app, id).await;
    let (s, b) = act(&app, &bureau, id, "complete_onsite", "书面评审").await;
    assert_eq!(s, 422, "{b}");
    assert!(b["message"].as_str().unwrap().contains("一(一)"), "{b}");
    let (s, _) = act_with(
        &app,
        &bureau,
        id,
        "complete_onsite",
        "书面评审",
        json!({ "review_mode": "by-phone" }),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(state_of(&app, id).await, "experts_drawn");
    assert_eq!(version(&app, id).await, before);
    assert_eq!(column(&app, id, "review_mode").await, None);
    let (s, b) = act_with(
        &app,
        &bureau,
        id,
        "complete_onsite",
        "协会场地上年度已现场核验，本次书面评审",
        json!({ "review_mode": "written" }),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["review_mode"], "written");
    assert_eq!(
        b["review_mode_reason"],
        "协会场地上年度已现场核验，本次书面评审"
    );
    assert_eq!(act(&app, &district, id, "opinion", "x").await.0, 403);
    let b = ok_act(&app, &center, id, "opinion", "建议予以备案").await;
    assert_eq!(b["state"], "city_review");
    assert!(
        b["panel_conclusion"]
            .as_str()
            .unwrap()
            .contains("通过3人，不通过0人"),
        "{b}"
    );
    // Only then the two keys.
    ok_act(&app, &bureau, id, "approve", "").await;
    let b = ok_act(&app, &center, id, "approve", "").await;
    assert_eq!(b["state"], "publicity");
    // The public page says "经区县初审" only for filings that went through a district.
    let page = app
        .client()
        .get(app.url("/public/filings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = |name: &str| {
        let at = page.find(name).unwrap_or_else(|| panic!("{name} listed"));
        page[at..at + page[at..].find("</tr>").unwrap()].to_string()
    };
    let assoc = row("郑州市电工技术学会");
    assert!(assoc.contains("市级统一组织专家评审"), "{assoc}");
    assert!(!assoc.contains("经区县初审"), "{assoc}");
    assert!(row("郑州市金水区华信职业培训学校").contains("经区县初审"));
    // The page of the application shows the review mode and the recorded reasons.
    let html = center
        .get(app.url(&format!("/filings/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("书面评审") && html.contains("经研究同意受理二级"));
}

#[tokio::test]
async fn expert_panel_fail_needs_reason() {
    let app = spawn().await;
    let (ic, id) = new_app(
        &app,
        "applicant-410105",
        json!({ "kind": "social_org", "occupations": [{ "code": "4-03-02-02", "levels": [5, 4] }] }),
    )
    .await;
    ok_act(&app, &ic, id, "submit", "").await;
    let district = app.login("district-410105").await;
    ok_act(&app, &district, id, "pass", "材料齐全").await;
    draw_and_opine(&app, &district, id, &["不通过", "不通过", "通过"]).await;
    ok_act(&app, &district, id, "complete_onsite", "现场评审完成").await;
    // Two of three experts said 不通过: passing it on needs a written reason (the page asks for
    // it); nothing is stored without it.
    let html = district
        .get(app.url(&format!("/filings/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("继续报送的书面理由") && html.contains("不通过2人"));
    let v = version(&app, id).await;
    let (s, b) = act(&app, &district, id, "opinion", "建议予以备案").await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["field"], "expert_panel_fail_needs_reason", "{b}");
    assert!(b["message"].as_str().unwrap().contains("一(一)"), "{b}");
    assert_eq!(state_of(&app, id).await, "onsite_reviewed");
    assert_eq!(version(&app, id).await, v);
    assert_eq!(column(&app, id, "district_opinion").await, None);
    assert_eq!(column(&app, id, "panel_conclusion").await, None);
    // With the reason it goes on, and the city sees the panel's conclusion and the reason.
    let (s, b) = act_with(
        &app,
        &district,
        id,
        "opinion",
        "建议予以备案",
        json!({ "override_reason": "机构已增租实训场地，整改材料经区县复核" }),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["state"], "city_review");
    let center = app.login("center").await;
    let (_, d) = get(&app, &center, id).await;
    let a = &d["application"];
    assert!(
        a["panel_conclusion"]
            .as_str()
            .unwrap()
            .contains("多数意见不通过"),
        "{a}"
    );
    assert_eq!(
        a["panel_override_reason"],
        "机构已增租实训场地，整改材料经区县复核"
    );
    let html = center
        .get(app.url(&format!("/filings/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("多数专家不通过仍予报送的理由"));
    assert!(html.contains("机构已增租实训场地"));
}

async fn dispatch(app: &TestApp, c: &reqwest::Client, id: i64, who: &str) -> (u16, Value) {
    json_of(
        c.post(app.url(&format!("/api/v1/filings/{id}/supervisors")))
            .json(&json!({ "username": who }))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn supervision_opinion(
    app: &TestApp,
    c: &reqwest::Client,
    id: i64,
    text: &str,
    attachments: Vec<i64>,
) -> (u16, Value) {
    json_of(
        c.post(app.url(&format!("/api/v1/filings/{id}/supervision-opinion")))
            .json(&json!({ "opinion": text, "attachments": attachments }))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn review_supervision_joint_dispatch_and_report() {
    let app = spawn().await;
    let (ic, id) = new_app(
        &app,
        "applicant-410105",
        json!({ "kind": "social_org", "occupations": [{ "code": "4-03-02-02", "levels": [5, 4] }] }),
    )
    .await;
    ok_act(&app, &ic, id, "submit", "").await;
    let district = app.login("district-410105").await;
    ok_act(&app, &district, id, "pass", "材料齐全").await;
    let center = app.login("center").await;
    let bureau = app.login("bureau").await;
    let sup1 = app.login("sup-city-1").await;
    let sup2 = app.login("sup-city-2").await;
    // The district does not dispatch review supervisors.
    assert_eq!(dispatch(&app, &district, id, "sup-city-1").await.0, 403);
    // Center proposes; not yet dispatched: the supervisor does not see the application.
    let (s, b) = dispatch(&app, &center, id, "sup-city-1").await;
    assert_eq!((s, b["dispatch"].clone()), (200, json!("proposed")), "{b}");
    assert_eq!(get(&app, &sup1, id).await.0, 404);
    // The same role twice is refused; the other role confirms.
    let (s, b) = dispatch(&app, &center, id, "sup-city-1").await;
    assert_eq!(s, 409, "{b}");
    let (s, b) = dispatch(&app, &bureau, id, "sup-city-1").await;
    assert_eq!(
        (s, b["dispatch"].clone()),
        (200, json!("dispatched")),
        "{b}"
    );
    assert_eq!(get(&app, &sup1, id).await.0, 200);
    // Either order: the division first, then the center.
    assert_eq!(
        dispatch(&app, &bureau, id, "sup-city-2").await.1["dispatch"],
        "proposed"
    );
    assert_eq!(
        dispatch(&app, &center, id, "sup-city-2").await.1["dispatch"],
        "dispatched"
    );
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM filing_supervisors WHERE application_id = {id} AND status = 'dispatched' AND confirmed_by IS NOT NULL")).await,
        2
    );
    draw_and_opine(&app, &district, id, &["通过"]).await;
    ok_act(&app, &district, id, "complete_onsite", "现场评审完成").await;
    ok_act(&app, &district, id, "opinion", "建议予以备案").await;
    // The city's approval waits for the supervisors' 督导意见; nothing is stored.
    let v = version(&app, id).await;
    let (s, b) = act(&app, &center, id, "approve", "").await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["field"], "review_supervision_joint_dispatch", "{b}");
    assert!(b["message"].as_str().unwrap().contains("一(一)"), "{b}");
    assert_eq!(version(&app, id).await, v);
    assert_eq!(column(&app, id, "center_approved_by").await, None);
    // The supervisor attaches a file through the application's materials (kind 督导意见附件 only).
    let up = |kind: &'static str| {
        Form::new().text("kind", kind).part(
            "file",
            Part::bytes(TINY_PDF.to_vec()).file_name("督导记录.pdf"),
        )
    };
    let r = sup1
        .post(app.url(&format!("/api/v1/filings/{id}/documents")))
        .multipart(up("application_form"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let (s, docs) = json_of(
        sup1.post(app.url(&format!("/api/v1/filings/{id}/documents")))
            .multipart(up("supervision"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{docs}");
    let doc = docs[0]["id"].as_i64().unwrap();
    // An attachment that is not the application's is refused.
    let (s, _) = supervision_opinion(&app, &sup1, id, "程序规范", vec![999_999]).await;
    assert_eq!(s, 422);
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM filing_supervisors WHERE application_id = {id} AND opinion IS NOT NULL")).await,
        0
    );
    let (s, b) =
        supervision_opinion(&app, &sup1, id, "评审程序规范，专家独立评分", vec![doc]).await;
    assert_eq!(s, 204, "{b}");
    // Still one supervisor without an opinion.
    assert_eq!(act(&app, &center, id, "approve", "").await.0, 422);
    // The second supervisor files through its page.
    let html = sup2
        .get(app.url(&format!("/filings/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("提交督导意见") && html.contains("督导意见附件"));
    let r = sup2
        .post(app.url(&format!("/filings/{id}/supervision-opinion")))
        .form(&[("opinion", "同意专家组意见")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // The city sees the opinions (with the attachment) before approving.
    let (_, d) = get(&app, &center, id).await;
    let sups = d["supervisors"].as_array().unwrap();
    assert_eq!(sups[0]["opinion"], "评审程序规范，专家独立评分");
    assert_eq!(sups[0]["opinion_attachments"], json!([doc]));
    ok_act(&app, &center, id, "approve", "").await;
    let b = ok_act(&app, &bureau, id, "approve", "").await;
    assert_eq!(b["state"], "publicity");
}

async fn report(
    app: &TestApp,
    c: &reqwest::Client,
    fields: &[(&'static str, String)],
    file: bool,
) -> (u16, Value) {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text(*k, v.clone());
    }
    if file {
        form = form.part(
            "file",
            Part::bytes(TINY_PDF.to_vec()).file_name("报送函.pdf"),
        );
    }
    json_of(
        c.post(app.url("/api/v1/province-reports"))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn filing_reported_to_province() {
    let app = spawn().await;
    let center = app.login("center").await;
    let bureau = app.login("bureau").await;
    // Two special-ability filings reviewed by the city; one gets both keys, one only one.
    let mut ids = vec![];
    for code in ["ZX-41-001", "ZX-41-002"] {
        let (ic, id) = new_app(
            &app,
            "inst-2",
            json!({ "kind": "special_ability", "occupations": [{ "code": code }] }),
        )
        .await;
        ok_act(&app, &ic, id, "submit", "").await;
        city_review(&app, id, json!({})).await;
        ok_act(&app, &center, id, "approve", "").await;
        ids.push(id);
    }
    let (done, half) = (ids[0], ids[1]);
    let b = ok_act(&app, &bureau, done, "approve", "").await;
    assert_eq!(b["state"], "publicity");
    let reports = || count(&app, "SELECT COUNT(*) FROM province_reports");
    let n0 = reports().await;
    let today = TODAY.to_string();
    let ok_fields = |ids: String| {
        vec![
            ("reported_on", today.clone()),
            ("doc_no", "郑人社鉴〔2026〕12号".to_string()),
            ("application_ids", ids),
        ]
    };
    // Before the two keys: refused, nothing stored.
    let (s, b) = report(&app, &center, &ok_fields(format!("{done},{half}")), true).await;
    assert_eq!(s, 409, "{b}");
    assert!(b["message"].as_str().unwrap().contains(&format!("#{half}")));
    // Missing document number, missing attachment, a date in the future, a wrong role.
    let mut f = ok_fields(done.to_string());
    f[1].1 = " ".into();
    assert_eq!(report(&app, &center, &f, true).await.0, 422);
    assert_eq!(
        report(&app, &center, &ok_fields(done.to_string()), false)
            .await
            .0,
        422
    );
    {
        // A report date after today.
        let day = "2026-11-17";
        let mut f = ok_fields(done.to_string());
        f[0].1 = day.into();
        let (s, b) = report(&app, &center, &f, true).await;
        assert_eq!(
            (s, b["field"].clone()),
            (422, json!("reported_on")),
            "{day}: {b}"
        );
    }
    let district = app.login("district-410102").await;
    assert_eq!(
        report(&app, &district, &ok_fields(done.to_string()), true)
            .await
            .0,
        403
    );
    assert_eq!(reports().await, n0);
    // Recorded: date, document number, attachment; the application shows it.
    let (s, r) = report(&app, &bureau, &ok_fields(done.to_string()), true).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["doc_no"], "郑人社鉴〔2026〕12号");
    assert_eq!(r["application_ids"], json!([done]));
    let doc = r["document_id"].as_i64().unwrap();
    let f = center
        .get(app.url(&format!("/documents/{doc}")))
        .send()
        .await
        .unwrap();
    assert_eq!(f.status(), 200);
    let (_, d) = get(&app, &center, done).await;
    assert_eq!(d["province_report"]["doc_no"], "郑人社鉴〔2026〕12号");
    assert!(d["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "filing.province_report"));
    assert!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_events WHERE action = 'province_report.create'"
        )
        .await
            >= 1
    );
    // Reported once only.
    let (s, _) = report(&app, &center, &ok_fields(done.to_string()), true).await;
    assert_eq!(s, 409);
    assert_eq!(reports().await, n0 + 1);
    // The batch as xlsx, in the documented layout; institutions may not export.
    let r = center
        .get(app.url(&format!(
            "/api/v1/province-reports/export.xlsx?report={}",
            r["id"]
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let spec = sheets::SheetSpec {
        title: "备案审核通过批次",
        columns: web::review::EXPORT_HEADERS
            .iter()
            .map(|h| sheets::Column::new(h, h))
            .collect(),
        instructions: vec![],
    };
    let rows = sheets::read(&spec, &bytes).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get("申请编号"), done.to_string());
    assert_eq!(rows[0].get("报送文号"), "郑人社鉴〔2026〕12号");
    assert_eq!(rows[0].get("评审方式"), "现场评审");
    assert_eq!(rows[0].get("办理方式"), "市级统一组织评审");
    // The city's page lists the batch with its document number; a refused form re-shows the page.
    let html = center
        .get(app.url("/province-reports"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("郑人社鉴〔2026〕12号") && html.contains("已报送批次"));
    let r = center
        .post(app.url("/province-reports"))
        .multipart(
            Form::new()
                .text("reported_on", today.clone())
                .text("doc_no", ""),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("请填写报送文号"));
    assert_eq!(reports().await, n0 + 1);
    let doc: Value = center
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/province-reports"]["post"].is_object());
    let inst = app.login("inst-2").await;
    let r = inst
        .get(app.url("/api/v1/province-reports/export.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn expert_opinion_change_bumps_version() {
    let app = spawn().await;
    let (ic, id) = new_app(
        &app,
        "applicant-410105",
        json!({ "kind": "social_org", "occupations": [{ "code": "4-03-02-02", "levels": [5, 4] }] }),
    )
    .await;
    ok_act(&app, &ic, id, "submit", "").await;
    let district = app.login("district-410105").await;
    ok_act(&app, &district, id, "pass", "材料齐全").await;
    draw_and_opine(&app, &district, id, &["通过"]).await;
    let experts = panel(&app, &district, id).await;
    let seen = version(&app, id).await;
    // A changed opinion bumps the version and is recorded as a change.
    assert_eq!(
        opine(&app, &experts[0], id, "不通过", "场地不足").await,
        204
    );
    assert_eq!(version(&app, id).await, seen + 1);
    let changes_sql = format!("SELECT COUNT(*) FROM filing_events WHERE application_id = {id} AND action = 'expert.opinion_change'");
    let changes = || count(&app, &changes_sql);
    assert_eq!(changes().await, 1);
    // The same opinion again changes nothing.
    assert_eq!(
        opine(&app, &experts[0], id, "不通过", "场地不足").await,
        204
    );
    assert_eq!(version(&app, id).await, seen + 1);
    // The district acting on what it saw before the change is refused.
    let (s, b) = json_of(
        district
            .post(app.url(&format!("/api/v1/filings/{id}/actions")))
            .json(&json!({ "action": "complete_onsite", "reason": "完成", "version": seen }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(state_of(&app, id).await, "experts_drawn");
    ok_act(&app, &district, id, "complete_onsite", "现场评审完成").await;
    // Still open before the 初评结果意见.
    let v = version(&app, id).await;
    assert_eq!(
        opine(&app, &experts[0], id, "整改后通过", "已整改").await,
        204
    );
    assert_eq!(version(&app, id).await, v + 1);
    ok_act(&app, &district, id, "opinion", "建议予以备案").await;
    // Final afterwards: refused, nothing changes.
    let v = version(&app, id).await;
    assert_eq!(opine(&app, &experts[0], id, "不通过", "改主意").await, 409);
    assert_eq!(version(&app, id).await, v);
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM draw_members WHERE application_id = {id} AND conclusion = '整改后通过'")).await,
        1
    );
    assert_eq!(changes().await, 2);
}

#[tokio::test]
async fn institution_district_move_by_city() {
    let app = spawn().await;
    let inst = crate::filing::inst_of(&app, "inst-2").await;
    // Registered in 中原区 (410102); its premises are in 金水区 (410105).
    sqlx::query("UPDATE institutions SET biz_district = '410105', biz_address = '郑州市金水区实训路8号' WHERE id = $1")
        .bind(inst)
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    let ic = app.login("inst-2").await;
    let moves = || count(&app, "SELECT COUNT(*) FROM institution_district_moves");
    let n0 = moves().await;
    let (s, _) = json_of(
        ic.post(app.url("/api/v1/district-moves"))
            .json(&json!({ "reason": " " }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(moves().await, n0);
    let (s, m) = json_of(
        ic.post(app.url("/api/v1/district-moves"))
            .json(&json!({ "reason": "培训与考核均在金水区经营场所进行" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(
        (
            m["from_district"].clone(),
            m["to_district"].clone(),
            m["status"].clone()
        ),
        (json!("410102"), json!("410105"), json!("pending"))
    );
    let mid = m["id"].as_i64().unwrap();
    // The center's page offers the decision.
    let center = app.login("center").await;
    let html = center
        .get(app.url("/district-moves"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("/district-moves/{mid}/decide")));
    // One pending request at a time.
    let (s, _) = json_of(
        ic.post(app.url("/api/v1/district-moves"))
            .json(&json!({ "reason": "再次申请" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 409);
    let jinshui = app.login("district-410105").await;
    let zhongyuan = app.login("district-410102").await;
    let inst_url = app.url(&format!("/api/v1/institutions/{inst}"));
    assert_eq!(jinshui.get(&inst_url).send().await.unwrap().status(), 404);
    // Only the city center decides; a stale version is refused; nothing moves meanwhile.
    let decide = |c: reqwest::Client, v: i64, approve: bool| {
        let url = app.url(&format!("/api/v1/district-moves/{mid}/decide"));
        async move {
            json_of(
                c.post(url)
                    .json(&json!({ "approve": approve, "reason": "经核实经营场所，同意划归", "version": v }))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(decide(app.login("bureau").await, 1, true).await.0, 403);
    assert_eq!(decide(zhongyuan.clone(), 1, true).await.0, 403);
    assert_eq!(decide(center.clone(), 7, true).await.0, 409);
    let district_of = || async {
        sqlx::query("SELECT district_code FROM institutions WHERE id = $1")
            .bind(inst)
            .fetch_one(&app.store.db.pool)
            .await
            .unwrap()
            .get::<String, _>(0)
    };
    assert_eq!(district_of().await, "410102");
    let r = center
        .post(app.url(&format!("/district-moves/{mid}/decide")))
        .form(&[
            ("approve", "true"),
            ("reason", "经核实经营场所，同意划归"),
            ("version", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, list) = json_of(
        center
            .get(app.url("/api/v1/district-moves?status=approved"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == mid && m["decided_by"] == "center"));
    // Recorded and audited; the institution now belongs to 金水区.
    assert_eq!(district_of().await, "410105");
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM audit_events WHERE action = 'institution.district_move' AND object_id = '{inst}'")).await,
        1
    );
    assert_eq!(jinshui.get(&inst_url).send().await.unwrap().status(), 200);
    assert_eq!(zhongyuan.get(&inst_url).send().await.unwrap().status(), 404);
    // Its next filing goes to the new district; a decided request cannot be decided again.
    let (_, id) = new_app(
        &app,
        "inst-2",
        json!({ "kind": "social_org", "occupations": [{ "code": "4-03-02-02", "levels": [5] }] }),
    )
    .await;
    assert_eq!(
        get(&app, &ic, id).await.1["application"]["district_code"],
        "410105"
    );
    assert_eq!(decide(center, 2, false).await.0, 409);
}
