//! Issue 7 §3 items 2–5 and 14, read exactly: 一(一) three occupations per applicant across all its
//! filings, quotas for 社会培训评价组织 only, one-case exceptions, 一(四) increment rounds and
//! 增级别, required materials. Every refusal names its clause and leaves the database unchanged.

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::filing::{
    act, create, get, inst_of, json_of, new_app, ok_act, spawn_on, state_of, version,
};
use crate::helpers::TestApp;

const PDF: &[u8] = b"%PDF-1.4\n% materials\n";

fn so(codes: &[&str]) -> Value {
    json!({ "kind": "social_org", "occupations": codes.iter().map(|c| json!({ "code": c, "levels": [5, 4] })).collect::<Vec<_>>() })
}

/// Number of rows that a refused write must leave alone.
async fn snapshot(app: &TestApp) -> (i64, i64, i64, i64) {
    (
        app.count("SELECT COUNT(*) FROM filing_applications").await,
        app.count("SELECT COUNT(*) FROM filing_events").await,
        app.count("SELECT COUNT(*) FROM audit_events").await,
        app.count("SELECT COUNT(*) FROM filing_exceptions WHERE used_by_application IS NOT NULL")
            .await,
    )
}

/// Raise an exception as the district and approve it with both city keys; returns its id.
async fn granted_exception(
    app: &TestApp,
    district: &str,
    inst: i64,
    rule: &str,
    codes: &[&str],
) -> i64 {
    let d = app.login(&format!("district-{district}")).await;
    let (s, x) = json_of(
        d.post(app.url("/api/v1/filing-exceptions"))
            .json(&json!({ "institution_id": inst, "rule": rule, "occupation_codes": codes, "reason": "确有特殊情况，申请统筹安排" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{x}");
    let xid = x["id"].as_i64().unwrap();
    for who in ["center", "bureau"] {
        let c = app.login(who).await;
        let (s, x) = json_of(
            c.post(app.url(&format!("/api/v1/filing-exceptions/{xid}/decide")))
                .json(&json!({ "approve": true, "reason": "同意" }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200, "{x}");
    }
    xid
}

#[tokio::test]
async fn occupation_limit_per_applicant() {
    let app = spawn_on("2026-05-11").await;
    let who = "applicant-410105";
    let (c, a) = new_app(&app, who, so(&["4-10-01-06", "4-03-02-02"])).await;
    ok_act(&app, &c, a, "submit", "").await;
    // Two more in a second application: four in all, refused when the draft is saved.
    let before = snapshot(&app).await;
    let (s, b) = create(&app, &c, so(&["4-01-02-07", "6-20-01-01"])).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["field"], "occupations");
    let m = b["message"].as_str().unwrap();
    assert!(m.contains("合计不得超过3个") && m.contains("一(一)"), "{m}");
    assert_eq!(snapshot(&app).await, before);
    // Splitting does not get around it: two drafts of one occupation each are saved (drafts
    // count for nobody), the first takes the third place, the second is refused at submission.
    let (_, b1) = new_app(&app, who, so(&["4-01-02-07"])).await;
    let (_, b2) = new_app(&app, who, so(&["6-20-01-01"])).await;
    ok_act(&app, &c, b1, "submit", "").await;
    let before = snapshot(&app).await;
    let v = version(&app, b2).await;
    let (s, b) = act(&app, &c, b2, "submit", "").await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["field"], "max_occupations_per_applicant");
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("其中本单位其他在办或已备案的申请3个"),
        "{b}"
    );
    assert_eq!(
        (state_of(&app, b2).await, version(&app, b2).await),
        ("draft".into(), v)
    );
    assert_eq!(snapshot(&app).await, before);
    // The same occupation applied for again is not a new one; a withdrawn application frees its place.
    let (_, b3) = new_app(&app, who, so(&["4-10-01-06"])).await;
    ok_act(&app, &c, b3, "submit", "").await;
    ok_act(&app, &c, b1, "withdraw", "改为申报钳工").await;
    ok_act(&app, &c, b2, "submit", "").await;
    // A filed institution adds occupations only through an increment (一(四)).
    let filed = app.login("inst-1").await;
    let before = snapshot(&app).await;
    let (s, b) = create(&app, &filed, so(&["6-31-01-03"])).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["field"], "kind");
    assert!(
        b["message"].as_str().unwrap().contains("增量增级别备案")
            && b["message"].as_str().unwrap().contains("一(四)"),
        "{b}"
    );
    assert_eq!(snapshot(&app).await, before);
}

/// `n` filed institutions of `kind` holding `code` in `district`.
async fn filed_holders(app: &TestApp, kind: &str, district: &str, code: &str, n: usize) {
    let occ = app
        .store
        .occupation_by_code(code, "occupation")
        .await
        .unwrap()
        .unwrap()
        .0;
    for k in 0..n {
        let inst = app
            .institution_account(&format!("holder-{kind}-{k}"), kind, district)
            .await;
        app.store
            .record_filed_occupation(
                &store::Actor::system("test"),
                inst,
                occ,
                "5,4,3",
                &format!("T-{kind}-{k}"),
                "2025-01-01",
                kind,
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn quotas_apply_to_social_orgs_only() {
    let app = spawn_on("2026-05-11").await;
    // Three enterprises filed for 电工 in 金水区 do not fill the social organisations' cap.
    filed_holders(&app, "enterprise", "410105", "6-31-01-03", 3).await;
    let (c, a) = new_app(&app, "applicant-410105", so(&["6-31-01-03"])).await;
    ok_act(&app, &c, a, "submit", "").await;
    let d = app.login("district-410105").await;
    ok_act(&app, &d, a, "pass", "材料齐全").await;
    // Three social organisations do: the next one is refused, nothing stored.
    filed_holders(&app, "social_org", "410105", "6-18-02-04", 3).await;
    let (c2, a2) = new_app(&app, "applicant-410105", so(&["6-18-02-04"])).await;
    let before = snapshot(&app).await;
    let (s, b) = act(&app, &c2, a2, "submit", "").await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["field"], "max_institutions_per_occupation_per_district");
    assert!(
        b["message"].as_str().unwrap().contains("已有3家")
            && b["message"].as_str().unwrap().contains("一(一)"),
        "{b}"
    );
    assert_eq!(state_of(&app, a2).await, "draft");
    assert_eq!(snapshot(&app).await, before);
    // An enterprise of the same district is under neither quota: it applies for 焊工 and for
    // four occupations at once, and the district passes it.
    app.institution_account("ent-410105", "enterprise", "410105")
        .await;
    let four: Vec<Value> = ["6-18-02-04", "6-31-01-03", "6-20-01-01", "4-03-02-01"]
        .iter()
        .map(|c| json!({ "code": c, "levels": [5] }))
        .collect();
    let (ec, e) = new_app(
        &app,
        "ent-410105",
        json!({ "kind": "enterprise", "occupations": four }),
    )
    .await;
    ok_act(&app, &ec, e, "submit", "").await;
    ok_act(&app, &d, e, "pass", "职业在主营业务范围内").await;
    assert_eq!(state_of(&app, e).await, "district_passed");
    // The policy page says so.
    let page = app
        .client()
        .get(app.url("/policy"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("上述两项数量限制适用的备案类型"),
        "policy page lists the setting"
    );
}

#[tokio::test]
async fn exception_used_once_by_its_application() {
    let app = spawn_on("2026-05-11").await;
    let who = "applicant-410105";
    let inst = inst_of(&app, who).await;
    let (c, a) = new_app(&app, who, so(&["4-10-01-06", "4-03-02-02", "4-01-02-07"])).await;
    ok_act(&app, &c, a, "submit", "").await;
    let (s, _) = create(&app, &c, so(&["6-20-01-01"])).await;
    assert_eq!(s, 422, "a fourth occupation needs an exception");
    // The district names the applicant and the occupation; both city keys approve.
    let xid = granted_exception(
        &app,
        "410105",
        inst,
        "max_occupations_per_applicant",
        &["6-20-01-01"],
    )
    .await;
    let expires: String = app
        .count(&format!(
            "SELECT COUNT(*) FROM filing_exceptions WHERE id = {xid} AND expires_on = '2026-08-09'"
        ))
        .await
        .to_string();
    assert_eq!(expires, "1", "usable for the policy's 90 days");
    let (_, b) = new_app(&app, who, so(&["6-20-01-01"])).await;
    ok_act(&app, &c, b, "submit", "").await;
    // Used by that application, which shows it.
    assert_eq!(
        app.count(&format!(
            "SELECT used_by_application FROM filing_exceptions WHERE id = {xid}"
        ))
        .await,
        b
    );
    let (_, detail) = get(&app, &c, b).await;
    assert_eq!(detail["exceptions_used"][0]["id"], xid, "{detail}");
    let page = c
        .get(app.url(&format!("/filings/{b}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("使用的特殊情况申请") && page.contains(&format!("#{xid}")),
        "the application shows it"
    );
    // Once: another application for the same occupation cannot use it again.
    let before = snapshot(&app).await;
    let (s, r) = create(&app, &c, so(&["6-20-01-01", "6-31-01-03"])).await;
    assert_eq!(s, 422, "{r}");
    assert!(r["message"].as_str().unwrap().contains("一(一)"), "{r}");
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(
        app.count(&format!(
            "SELECT used_by_application FROM filing_exceptions WHERE id = {xid}"
        ))
        .await,
        b
    );
    // An exception left unused past its period expires.
    let x2 = granted_exception(
        &app,
        "410105",
        inst,
        "max_occupations_per_applicant",
        &["6-31-01-03"],
    )
    .await;
    sqlx::query("UPDATE filing_exceptions SET expires_on = '2026-05-10' WHERE id = $1")
        .bind(x2)
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    let before = snapshot(&app).await;
    let (s, _) = create(&app, &c, so(&["6-31-01-03"])).await;
    assert_eq!(s, 422, "expired the day before");
    assert_eq!(snapshot(&app).await, before);
    let d = app.login("district-410105").await;
    let (_, list) = json_of(
        d.get(app.url("/api/v1/filing-exceptions"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let row = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == x2)
        .unwrap()
        .clone();
    assert_eq!(row["used_by_application"], Value::Null);
    let page = d
        .get(app.url("/filing-exceptions"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("已失效") && page.contains(&format!("已由申请 #{b} 使用")),
        "statuses shown"
    );
}

fn increment(items: &[(&str, &[u8])]) -> Value {
    json!({ "kind": "increment", "occupations": items.iter().map(|(c, l)| json!({ "code": c, "levels": l })).collect::<Vec<_>>() })
}

#[tokio::test]
async fn increment_exception_raises_the_limit() {
    let app = spawn_on("2026-03-10").await;
    let inst = inst_of(&app, "inst-3").await;
    let c = app.login("inst-3").await;
    // Four new occupations and one 增级别 on 钳工 (filed 5,4,3): the level does not count,
    // four new ones are one too many.
    let body = increment(&[
        ("6-31-01-03", &[5, 4]),
        ("4-03-02-01", &[5]),
        ("4-03-02-02", &[5]),
        ("4-10-03-01", &[5]),
        ("6-20-01-01", &[2]),
    ]);
    let before = snapshot(&app).await;
    let (s, b) = create(&app, &c, body.clone()).await;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("增级别不计")
            && b["message"].as_str().unwrap().contains("一(四)"),
        "{b}"
    );
    assert_eq!(snapshot(&app).await, before);
    // The granted exception (一(四)) takes effect for the occupation it names.
    let xid = granted_exception(
        &app,
        "410171",
        inst,
        "increment_max_occupations",
        &["4-10-03-01"],
    )
    .await;
    let (_, id) = new_app(&app, "inst-3", body).await;
    let (_, d) = get(&app, &c, id).await;
    let level_only: Vec<bool> = d["application"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["new_occupation"].as_bool().unwrap())
        .collect();
    assert_eq!(
        level_only.iter().filter(|n| !**n).count(),
        1,
        "钳工 adds a level: {d}"
    );
    let b = ok_act(&app, &c, id, "submit", "").await;
    assert_eq!(
        b["state"], "submitted",
        "the city receives it first (city-organised review)"
    );
    assert_eq!(b["increment_round"], "2026-03");
    assert_eq!(
        app.count(&format!(
            "SELECT used_by_application FROM filing_exceptions WHERE id = {xid}"
        ))
        .await,
        id
    );
    // The limit is per round: a further new occupation in another increment of March is
    // refused (the exception was used once, for 美容师 in the first), while another level is not.
    let before = snapshot(&app).await;
    let (s, b) = create(&app, &c, increment(&[("4-01-02-07", &[5])])).await;
    assert_eq!(s, 422, "{b}");
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("本轮其他增量申请3个"),
        "{b}"
    );
    assert_eq!(snapshot(&app).await, before);
    let (_, id2) = new_app(&app, "inst-3", increment(&[("6-20-01-01", &[1])])).await;
    ok_act(&app, &c, id2, "submit", "").await;
    assert_eq!(state_of(&app, id2).await, "submitted");
}

#[tokio::test]
async fn increment_resubmission_after_window() {
    let app = spawn_on("2026-09-28").await;
    let (c, id) = new_app(&app, "inst-3", increment(&[("4-03-02-01", &[5, 4])])).await;
    let (_, late) = new_app(&app, "inst-3", increment(&[("4-10-03-01", &[5])])).await;
    ok_act(&app, &c, id, "submit", "").await;
    let center = app.login("center").await;
    ok_act(&app, &center, id, "return", "请补充考评人员资格证明").await;
    // October: the window has closed.
    let oct = app.server_on("2026-10-12".parse().unwrap()).await;
    let c = oct.login("inst-3").await;
    // Never submitted inside the window: refused, nothing moves.
    let before = snapshot(&oct).await;
    let (s, b) = act(&oct, &c, late, "submit", "").await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["field"], "increment_months");
    assert!(b["message"].as_str().unwrap().contains("一(四)"), "{b}");
    assert_eq!(snapshot(&oct).await, before);
    // First submitted in September, returned for correction: it comes back in its round.
    let b = ok_act(&oct, &c, id, "submit", "").await;
    assert_eq!(
        b["state"], "submitted",
        "the city receives it first (city-organised review)"
    );
    assert_eq!(b["increment_round"], "2026-09");
}

#[tokio::test]
async fn increment_extra_round_opened_by_city() {
    let app = spawn_on("2026-04-15").await;
    let (c, id) = new_app(&app, "inst-3", increment(&[("4-03-02-01", &[5, 4])])).await;
    let (s, b) = act(&app, &c, id, "submit", "").await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["field"], "increment_months");
    let body = json!({ "opens_on": "2026-04-13", "closes_on": "2026-04-30", "reason": "上半年批次因系统升级顺延" });
    // Only the city opens a round, and only with a reason.
    for who in ["inst-3", "district-410171"] {
        let u = app.login(who).await;
        let r = u
            .post(app.url("/api/v1/increment-rounds"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{who}");
    }
    let center = app.login("center").await;
    let before = app.count("SELECT COUNT(*) FROM increment_rounds").await;
    let (s, b) = json_of(
        center
            .post(app.url("/api/v1/increment-rounds"))
            .json(&json!({ "opens_on": "2026-04-13", "closes_on": "2026-04-30", "reason": " " }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert!(b["message"].as_str().unwrap().contains("一(四)"), "{b}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM increment_rounds").await,
        before
    );
    let (s, r) = json_of(
        center
            .post(app.url("/api/v1/increment-rounds"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let rid = r["id"].as_i64().unwrap();
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM audit_events WHERE action = 'increment_round.open' AND object_id = '{rid}'")).await,
        1
    );
    let (_, rounds) = json_of(
        c.get(app.url("/api/v1/increment-rounds"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rounds["current"], format!("extra-{rid}"));
    let b = ok_act(&app, &c, id, "submit", "").await;
    assert_eq!(
        b["state"], "submitted",
        "the city receives it first (city-organised review)"
    );
    assert_eq!(b["increment_round"], format!("extra-{rid}"));
    // The page lists it for the city.
    let page = center
        .get(app.url("/increment-rounds"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("上半年批次因系统升级顺延"));
}

async fn upload(app: &TestApp, c: &reqwest::Client, id: i64, kind: &str) {
    let form = Form::new().text("kind", kind.to_string()).part(
        "file",
        Part::bytes(PDF.to_vec())
            .file_name(format!("{kind}.pdf"))
            .mime_str("application/pdf")
            .unwrap(),
    );
    let r = c
        .post(app.url(&format!("/api/v1/filings/{id}/documents")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn filing_needs_required_materials() {
    let app = spawn_on("2026-05-11").await;
    inst_of(&app, "applicant-410105").await;
    let c = app.login("applicant-410105").await;
    let (s, b) = create(&app, &c, so(&["4-10-01-06"])).await;
    assert_eq!(s, 201);
    let id = b["id"].as_i64().unwrap();
    // The checklist of the kind, with what is present.
    let (_, d) = get(&app, &c, id).await;
    let list: Vec<(String, bool)> = d["required_materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_string(),
                m["present"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        list,
        vec![
            ("application_form".into(), false),
            ("qualification".into(), false),
            ("scheme".into(), false)
        ]
    );
    // Nothing uploaded: refused naming the materials and the rule; nothing stored.
    let before = snapshot(&app).await;
    let v = version(&app, id).await;
    let (s, b) = act(&app, &c, id, "submit", "").await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["field"], "required_materials");
    let m = b["message"].as_str().unwrap();
    assert!(
        m.contains("备案申请表") && m.contains("评价方案与题库说明") && m.contains("依据"),
        "{m}"
    );
    assert_eq!(
        (state_of(&app, id).await, version(&app, id).await),
        ("draft".into(), v)
    );
    assert_eq!(snapshot(&app).await, before);
    // One uploaded: the page shows it present and the others missing; still refused for the rest.
    upload(&app, &c, id, "application_form").await;
    let page = c
        .get(app.url(&format!("/filings/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("提交前须上传的材料") && page.contains("已上传") && page.contains("未上传")
    );
    let (s, b) = act(&app, &c, id, "submit", "").await;
    assert_eq!(s, 422);
    let m = b["message"].as_str().unwrap();
    assert!(!m.contains("备案申请表") && m.contains("场地设施"), "{m}");
    // Other materials do not stand in for the listed ones.
    upload(&app, &c, id, "other").await;
    assert_eq!(act(&app, &c, id, "submit", "").await.0, 422);
    upload(&app, &c, id, "qualification").await;
    upload(&app, &c, id, "scheme").await;
    let b = ok_act(&app, &c, id, "submit", "").await;
    assert_eq!(b["state"], "submitted");
    // Special ability has its own list (application form and scheme).
    let p = domain::policy::Policy::zhengzhou_2022();
    let sp: Vec<&str> = p
        .required_materials(domain::filing::FilingKind::SpecialAbility)
        .iter()
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(sp, vec!["application_form", "scheme"]);
}
