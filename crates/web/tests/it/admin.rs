//! Reference data kept by the admin in the UI: every edit audited, others refused.

use crate::helpers::{spawn_app, DEMO_PASSWORD};

async fn page_client(app: &crate::helpers::TestApp, user: &str) -> reqwest::Client {
    let c = app.client();
    let r = c
        .post(app.url("/login"))
        .form(&[("username", user), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    c
}

#[tokio::test]
async fn admin_confirms_an_occupation_with_a_version_check() {
    let app = spawn_app().await;
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT id, code, name, version FROM occupations WHERE confirmed = 0 ORDER BY id LIMIT 1",
    )
    .fetch_one(&app.store.db.pool)
    .await
    .unwrap();
    let (id, code, name, version): (i64, String, String, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let c = page_client(&app, "admin").await;
    let form = [
        ("kind", "occupation".to_string()),
        ("code", code.clone()),
        ("name", name.clone()),
        ("levels", "5,4,3".to_string()),
        ("confirmed", "on".to_string()),
        ("active", "on".to_string()),
        ("version", version.to_string()),
    ];
    let r = c
        .post(app.url(&format!("/admin/occupations/{id}")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.count(&format!(
            "SELECT confirmed FROM occupations WHERE id = {id}"
        ))
        .await,
        1
    );
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM audit_events WHERE action = 'occupation.update' AND object_id = '{id}'")).await, 1);
    // The same stale form again is a conflict, shown on the page.
    let r = c
        .post(app.url(&format!("/admin/occupations/{id}")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("已被他人修改"));
    // A malformed code names the field.
    let mut bad = form.clone();
    bad[1].1 = "4-3-2-1".into();
    bad[6].1 = (version + 1).to_string();
    let r = c
        .post(app.url(&format!("/admin/occupations/{id}")))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn admin_edits_the_calendar_and_a_missing_year_is_refused() {
    let app = spawn_app().await;
    let c = page_client(&app, "admin").await;
    // A make-up working day must be a weekend day.
    let r = c
        .post(app.url("/admin/calendar/day"))
        .form(&[("day", "2026-12-01"), ("kind", "work"), ("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = c
        .post(app.url("/admin/calendar/day"))
        .form(&[
            ("day", "2026-12-31"),
            ("kind", "off"),
            ("name", "测试休息日"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM calendar_days WHERE day = '2026-12-31' AND kind = 'off'")
            .await,
        1
    );
    let r = c
        .post(app.url("/admin/calendar/day"))
        .form(&[("day", "2027-01-01"), ("kind", "off"), ("name", "元旦")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("2027 年节假日安排尚未录入"));
    // The next year is imported from the same format as the shipped files.
    let toml = "year = 2027\nsource = \"国务院办公厅关于2027年部分节假日安排的通知\"\n\n[[holiday]]\nname = \"元旦\"\nfrom = \"2027-01-01\"\nto = \"2027-01-03\"\n";
    let r = c
        .post(app.url("/admin/calendar/year"))
        .form(&[("toml", toml)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM calendar_days WHERE year = 2027")
            .await,
        3
    );
    // Not for anyone else.
    let other = page_client(&app, "center").await;
    let r = other
        .post(app.url("/admin/calendar/day"))
        .form(&[("day", "2026-12-30"), ("kind", "off"), ("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM calendar_days WHERE day = '2026-12-30'")
            .await,
        0
    );
}

#[tokio::test]
async fn admin_edits_a_division() {
    let app = spawn_app().await;
    let c = page_client(&app, "admin").await;
    let r = c
        .post(app.url("/admin/divisions/zdxq"))
        .form(&[
            ("name", "郑东新区"),
            ("kind", "dev_zone"),
            ("official_code", ""),
            ("sort", "170"),
            ("active", "on"),
            ("version", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.count("SELECT sort FROM divisions WHERE code = 'zdxq'")
            .await,
        170
    );
    let r = c
        .post(app.url("/admin/divisions/new"))
        .form(&[
            ("code", "410100"),
            ("name", "重复"),
            ("kind", "city"),
            ("active", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "a duplicate code is a conflict");
}
