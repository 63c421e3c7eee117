//! Demo data for issue 7 items 3.1, 3.11–3.13: plans whose paper copy was recorded with a
//! date, institution self-registrations in every state, and enterprise registers with every
//! outreach status, a link to a filing and a guidance note. Dates are relative to `today`.

use chrono::NaiveDate;
use domain::Scope;

use crate::audit::Actor;
use crate::{NewEnterprise, NewRegistration, Result, Store};

pub async fn seed_inst_plans(store: &Store, today: NaiveDate) -> Result<()> {
    // 二(二)/二(三): the demo plans whose paper copy was received carry the receipt date (in
    // time for the 3-working-day rule: today, or the last permitted day if that is earlier)
    // and the paper retention date.
    let policy = domain::policy::Policy::zhengzhou_2022();
    let cal = store.holiday_calendar().await?;
    let received: Vec<(i64, String)> = {
        use sqlx::Row;
        sqlx::query("SELECT id, start_date FROM plans WHERE paper_received_at IS NOT NULL AND paper_received_on IS NULL")
            .fetch_all(&store.db.pool)
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    for (id, start) in received {
        let on = NaiveDate::parse_from_str(&start, "%Y-%m-%d")
            .ok()
            .and_then(|s| {
                cal.latest_submission_date(s, policy.plan_min_working_days.value)
                    .ok()
            })
            .map_or(today, |last| last.min(today));
        sqlx::query(
            "UPDATE plans SET paper_received_on = $1, paper_retention_until = $2 WHERE id = $3",
        )
        .bind(on.format("%Y-%m-%d").to_string())
        .bind(
            domain::retention::due_on(&policy, domain::retention::RetentionClass::Paper, on)
                .map(|d| d.format("%Y-%m-%d").to_string()),
        )
        .bind(id)
        .execute(&store.db.pool)
        .await?;
    }
    let district = Actor::system("demo");
    // 三(二): a demo enterprise that has applied for filing is in its own district's register:
    // it links to its application and shows 已申报 whatever was recorded.
    let linked: Option<(String, String, String)> = {
        use sqlx::Row;
        sqlx::query("SELECT i.name, i.credit_code, i.district_code FROM institutions i WHERE i.kind = 'enterprise' AND EXISTS (SELECT 1 FROM filing_applications f WHERE f.institution_id = i.id) ORDER BY i.id LIMIT 1")
            .fetch_optional(&store.db.pool)
            .await?
            .map(|r| (r.get(0), r.get(1), r.get(2)))
    };
    if let Some((name, code, d)) = linked {
        let row = NewEnterprise {
            name,
            credit_code: code,
            employees: 420,
            capital_yuan: 50_000_000,
            main_business: "机械制造；设备维修".into(),
        };
        store.import_enterprises(&district, &d, &[row]).await?;
    }
    // 金水区's register covers every recorded status.
    let mut rows = vec![];
    for (name, code, emp, cap, biz) in [
        (
            "郑州金水示范餐饮有限公司",
            "91410105MA9G4QKX1L",
            180,
            2_000_000,
            "餐饮服务",
        ),
        (
            "郑州花园路汽车维修有限公司",
            "91410105MA9F8TRC2K",
            60,
            5_000_000,
            "机动车维修",
        ),
        (
            "郑州东风路物业服务有限公司",
            "91410105MA9H2LNY3J",
            90,
            1_000_000,
            "物业管理",
        ),
        (
            "郑州经三路电子商务有限公司",
            "91410105MA9K7PWB4H",
            40,
            500_000,
            "",
        ),
        (
            "郑州文化路家政服务有限公司",
            "91410105MA9L3DQE5G",
            260,
            800_000,
            "家政服务",
        ),
    ] {
        rows.push(NewEnterprise {
            name: name.into(),
            credit_code: credit(code),
            employees: emp,
            capital_yuan: cap,
            main_business: biz.into(),
        });
    }
    store.import_enterprises(&district, "410105", &rows).await?;
    let reg = store
        .list_enterprises(
            &Scope::District("410105".into()),
            &Default::default(),
            crate::PageRequest::new(Some(1), Some(50)),
        )
        .await?;
    let statuses = [
        "informed",
        "interested",
        "ineligible",
        "uncontacted",
        "applied",
    ];
    for (e, s) in reg.items.iter().zip(statuses.iter().cycle()) {
        store
            .set_outreach(&district, &Scope::City, e.id, e.version, s)
            .await?;
    }
    if let Some(e) = reg.items.iter().find(|e| e.institution_id.is_none()) {
        store
            .add_guidance(
                &district,
                e,
                "演示：已上门宣传政策，建议企业按工作方案模板明确评价职业（工种）为中式烹调师四级、五级，场地可与本区实训基地共享。",
            )
            .await?;
    }
    // 二(二): filed institutions registered their own accounts: one waits for its district,
    // one was confirmed (it can log in), one was refused.
    let filed: Vec<(i64, String, String)> = {
        use sqlx::Row;
        sqlx::query("SELECT id, credit_code, filing_no FROM institutions WHERE filing_status = 'filed' AND filing_no IS NOT NULL ORDER BY id LIMIT 3")
            .fetch_all(&store.db.pool)
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect()
    };
    for (n, (id, code, no)) in filed.into_iter().enumerate() {
        let r = store
            .register_institution(
                &Actor::system("demo-register"),
                &NewRegistration {
                    institution_id: id,
                    username: format!("inst-self-{}", n + 1),
                    display_name: "机构自助注册账号".into(),
                    password: "demo-password".into(),
                    credit_code: code,
                    filing_no: no,
                    contact_name: "王联系".into(),
                    contact_phone: "0371-66660000".into(),
                },
            )
            .await?;
        if n > 0 {
            let officer = Actor {
                role: "district".into(),
                ..Actor::system(&format!("district-{}", r.district_code))
            };
            let (confirm, reason) = if n == 1 {
                (true, "")
            } else {
                (
                    false,
                    "演示：联系人与机构登记的联系人不一致，请核实后重新注册",
                )
            };
            store
                .decide_registration(&officer, &Scope::City, r.id, r.version, confirm, reason)
                .await?;
        }
    }
    // As for the demo plans: the district's work queue shows the registration; the inbox stays empty.
    sqlx::query("DELETE FROM notifications WHERE link = '/registrations'")
        .execute(&store.db.pool)
        .await?;
    Ok(())
}

/// A demo credit code with its check character computed (the last character is replaced).
fn credit(code: &str) -> String {
    let base: String = code.chars().take(17).collect();
    domain::credit_code::with_check_digit(&base).unwrap_or_else(|| code.to_string())
}
