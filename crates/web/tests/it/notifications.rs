//! In-platform messages and the outbox: written in the workflow's transaction, visible to the
//! recipient user and to the accounts of the recipient institution only.

use store::{NewNotification, OutboxMessage, Store};

use crate::helpers::spawn_app;

async fn inst_of(app: &crate::helpers::TestApp, username: &str) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT institution_id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn notify_is_atomic_with_the_decision() {
    let app = spawn_app().await;
    let inst = inst_of(&app, "inst-1").await;
    // Rolled back: nothing written.
    {
        let mut tx = app.store.db.write().await.unwrap();
        Store::notify(
            &mut tx,
            &NewNotification::to_institution(inst, "初审已通过", "材料齐全"),
        )
        .await
        .unwrap();
        Store::enqueue_outbox(&mut tx, &OutboxMessage::sms("13800000000", "初审已通过"))
            .await
            .unwrap();
        drop(tx);
    }
    // The demo data holds outbox rows in every state; these are counted from there.
    let queued = app.count("SELECT COUNT(*) FROM outbox").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, queued);
    // Committed: both written.
    let mut tx = app.store.db.write().await.unwrap();
    Store::notify(
        &mut tx,
        &NewNotification::to_institution(inst, "初审已通过", "材料齐全"),
    )
    .await
    .unwrap();
    Store::enqueue_outbox(&mut tx, &OutboxMessage::sms("13800000000", "初审已通过"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM notifications").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, queued + 1);
    // A sender claims it (SMS only), records the delivery, and it is not claimed again.
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-02T02:00:00Z")
        .unwrap()
        .to_utc();
    let sms = [domain::outbox::Channel::Sms];
    let lease = chrono::Duration::minutes(5);
    let claimed = app
        .store
        .claim_outbox("t", &sms, now, lease, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].channel, domain::outbox::Channel::Sms);
    assert!(app
        .store
        .outbox_delivered(claimed[0].id, "t", now, "ok")
        .await
        .unwrap());
    assert!(app
        .store
        .claim_outbox("t", &sms, now, lease, 10)
        .await
        .unwrap()
        .is_empty());
    // A message without recipient is refused.
    let mut tx = app.store.db.write().await.unwrap();
    assert!(Store::notify(&mut tx, &NewNotification::default())
        .await
        .is_err());
}

#[tokio::test]
async fn notifications_page_lists_and_marks_read() {
    let app = spawn_app().await;
    let inst = inst_of(&app, "inst-1").await;
    let user = app.user_id("inst-1").await;
    let district = app.user_id("district-410105").await;
    let mut tx = app.store.db.write().await.unwrap();
    let to_inst = Store::notify(
        &mut tx,
        &NewNotification::to_institution(inst, "备案申请已退回补正", "原因：缺少营业执照")
            .link("/institutions"),
    )
    .await
    .unwrap();
    Store::notify(
        &mut tx,
        &NewNotification::to_user(user, "欢迎使用", "请完善机构信息"),
    )
    .await
    .unwrap();
    let to_district = Store::notify(
        &mut tx,
        &NewNotification::to_user(district, "新的备案申请", "待初审"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let c = app.login("inst-1").await;
    let html = c
        .get(app.url("/notifications"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("备案申请已退回补正") && html.contains("缺少营业执照"));
    assert!(html.contains("欢迎使用"));
    assert!(
        !html.contains("新的备案申请"),
        "another user's message is not listed"
    );
    let unread: serde_json::Value = c
        .get(app.url("/api/v1/notifications/unread"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unread["unread"], 2);

    // Mark one read through the page form.
    let r = c
        .post(app.url(&format!("/notifications/{to_inst}/read")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let unread: serde_json::Value = c
        .get(app.url("/api/v1/notifications/unread"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unread["unread"], 1);
    let list: serde_json::Value = c
        .get(app.url("/api/v1/notifications?unread=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["title"], "欢迎使用");

    // Another account cannot mark (or see) someone else's message.
    let r = c
        .post(app.url(&format!("/api/v1/notifications/{to_district}/read")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let other = app.login("inst-2").await;
    let html = other
        .get(app.url("/notifications"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("暂无消息"));

    // Mark all read.
    let r = c
        .post(app.url("/notifications/read-all"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM notifications WHERE read_at IS NULL")
            .await,
        1,
        "only the district's message is still unread"
    );
}

#[tokio::test]
async fn notifications_are_paginated() {
    let app = spawn_app().await;
    let user = app.user_id("district-410105").await;
    let mut tx = app.store.db.write().await.unwrap();
    for i in 1..=25 {
        Store::notify(
            &mut tx,
            &NewNotification::to_user(user, format!("消息{i:02}"), "正文"),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let c = app.login("district-410105").await;
    let p2 = c
        .get(app.url("/notifications?page=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(p2.contains("共 25 条，第 2/2 页"));
    assert!(p2.contains("消息05") && !p2.contains("消息06"));
}
