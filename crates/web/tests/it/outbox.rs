//! 消息外发: the sender drains the outbox through a real SMTP conversation and a real HTTP
//! gateway, both local stubs started here (nothing leaves the machine). Two senders on two
//! connection pools run at once; time is passed in, never read from the clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::outbox::RetryPolicy;
use sqlx::Row;
use store::{OutboxMessage, PasswordParams, Store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use web::outbox::{OutboxConfig, Sender};
use web::WebConfig;

use crate::helpers::{spawn_app_with, TestApp};

const SMS_SECRET: &str = "stub-secret-not-real";

/// A minimal SMTP server: EHLO, MAIL, RCPT, DATA, QUIT. While `refuse` holds, a recipient in
/// it gets `451` (try later). Accepted messages are kept with their envelope recipients.
#[derive(Default)]
struct SmtpStub {
    refuse: Mutex<Vec<String>>,
    accepted: Mutex<Vec<(String, String)>>,
    refused: AtomicUsize,
}

impl SmtpStub {
    async fn start() -> (Arc<SmtpStub>, u16) {
        let stub = Arc::new(SmtpStub::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let s = stub.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(sock).await;
                });
            }
        });
        (stub, port)
    }

    async fn session(&self, sock: tokio::net::TcpStream) -> std::io::Result<()> {
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"220 stub.local ESMTP\r\n").await?;
        let mut rcpts: Vec<String> = vec![];
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let cmd = line.trim_end().to_string();
            let upper = cmd.to_ascii_uppercase();
            let reply: String = if upper.starts_with("EHLO") {
                "250-stub.local\r\n250 8BITMIME".into()
            } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
                "250 OK".into()
            } else if upper.starts_with("MAIL FROM:") || upper.starts_with("RSET") {
                rcpts.clear();
                "250 OK".into()
            } else if upper.starts_with("RCPT TO:") {
                let addr = cmd[8..]
                    .trim()
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                if self.refuse.lock().unwrap().contains(&addr) {
                    self.refused.fetch_add(1, Ordering::SeqCst);
                    "451 4.3.0 Mailbox busy, try again later".into()
                } else {
                    rcpts.push(addr);
                    "250 OK".into()
                }
            } else if upper == "DATA" {
                w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut message_id = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    let l = line.trim_end();
                    if l == "." {
                        break;
                    }
                    if l.to_ascii_lowercase().starts_with("message-id:") {
                        message_id = l[11..].trim().to_string();
                    }
                }
                let mut acc = self.accepted.lock().unwrap();
                for to in rcpts.drain(..) {
                    acc.push((to, message_id.clone()));
                }
                format!("250 2.0.0 Ok: queued as Q{}", acc.len())
            } else if upper == "QUIT" {
                w.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            } else {
                "502 Command not implemented".into()
            };
            w.write_all(format!("{reply}\r\n").as_bytes()).await?;
        }
    }
}

/// An SMS gateway answering as Alibaba Cloud's SendSms does. It checks every signature; the
/// first three requests get HTTP 500, the fourth the provider's throttling refusal.
#[derive(Default)]
struct GatewayStub {
    requests: AtomicUsize,
    bad_signatures: AtomicUsize,
    accepted: Mutex<Vec<BTreeMap<String, String>>>,
}

impl GatewayStub {
    async fn start() -> (Arc<GatewayStub>, String) {
        use axum::extract::State;
        use axum::http::StatusCode;
        async fn send_sms(State(g): State<Arc<GatewayStub>>, body: String) -> (StatusCode, String) {
            let params: BTreeMap<String, String> = serde_urlencoded::from_str(&body).unwrap();
            let n = g.requests.fetch_add(1, Ordering::SeqCst) + 1;
            if params.get("Signature") != Some(&notify::sign("POST", &params, SMS_SECRET)) {
                g.bad_signatures.fetch_add(1, Ordering::SeqCst);
                return (
                    StatusCode::BAD_REQUEST,
                    r#"{"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched"}"#.into(),
                );
            }
            match n {
                1..=3 => (StatusCode::INTERNAL_SERVER_ERROR, "upstream failure".into()),
                4 => (
                    StatusCode::OK,
                    r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发分钟级流控","RequestId":"r4"}"#.into(),
                ),
                _ => {
                    g.accepted.lock().unwrap().push(params);
                    (
                        StatusCode::OK,
                        format!(r#"{{"Code":"OK","Message":"OK","BizId":"biz-{n}","RequestId":"r{n}"}}"#),
                    )
                }
            }
        }
        let g = Arc::new(GatewayStub::default());
        let app = axum::Router::new()
            .route("/", axum::routing::post(send_sms))
            .with_state(g.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (g, url)
    }
}

fn at(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t).unwrap().to_utc()
}

fn text(t: DateTime<Utc>) -> String {
    store::time_text(t)
}

/// The channels against the stubs, with a short retry rule (4 attempts, 60 s doubling to 300 s).
fn config(smtp_port: u16, gateway: &str) -> OutboxConfig {
    let channels = notify::Channels::new(
        Some(notify::SmtpConfig {
            host: "127.0.0.1".into(),
            port: smtp_port,
            tls: notify::TlsMode::None,
            username: String::new(),
            password: String::new(),
            from: "郑州市技能人才评价服务平台 <noreply@pj.example.org>".into(),
            timeout: Duration::from_secs(10),
        }),
        Some(notify::SmsConfig {
            url: gateway.into(),
            access_key_id: "LTAI-stub".into(),
            access_key_secret: SMS_SECRET.into(),
            sign_name: "郑州人社".into(),
            region: "cn-hangzhou".into(),
            templates: notify::SmsConfig::parse_templates("notice=SMS_100,filing_decision=SMS_200")
                .unwrap(),
            timeout: Duration::from_secs(10),
        }),
    )
    .unwrap();
    OutboxConfig {
        deliver: Arc::new(channels),
        retry: RetryPolicy {
            max_attempts: 4,
            first_delay_secs: 60,
            max_delay_secs: 300,
        },
        every: Duration::from_secs(30),
    }
}

async fn enqueue(app: &TestApp, m: OutboxMessage) -> i64 {
    let mut tx = app.store.db.write().await.unwrap();
    let id = Store::enqueue_outbox(&mut tx, &m).await.unwrap();
    tx.commit().await.unwrap();
    id
}

/// (status, attempts, next_attempt_at, last_error) of a row.
async fn row(app: &TestApp, id: i64) -> (String, i64, Option<String>, Option<String>) {
    let r = sqlx::query(
        "SELECT status, attempts, next_attempt_at, last_error FROM outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.store.db.pool)
    .await
    .unwrap();
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

/// Two senders, each on its own connection pool (as two app servers), one pass each at `now`.
async fn both_send(a: &Sender, b: &Sender, now: DateTime<Utc>) -> usize {
    let (ra, rb) = tokio::join!(a.run_once(now), b.run_once(now));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.lost + rb.lost, 0, "a live sender never loses its claim");
    ra.sent + rb.sent + ra.retrying + rb.retrying + ra.failed + rb.failed
}

#[tokio::test]
async fn outbox_sent_once_with_retries() {
    let (smtp, smtp_port) = SmtpStub::start().await;
    let (gateway, gateway_url) = GatewayStub::start().await;
    let cfg = config(smtp_port, &gateway_url);
    let app = spawn_app_with(WebConfig {
        demo: true,
        outbox: Some(cfg.clone()),
        ..Default::default()
    })
    .await;
    let second = Store::open(&app.db_url, 4, PasswordParams::fast_for_tests())
        .await
        .unwrap();
    let a = Sender::new(app.store.clone(), cfg.clone(), "server-a").with_batch(2);
    let b = Sender::new(second, cfg.clone(), "server-b").with_batch(2);

    // Six SMS (one with the filing template), five e-mails, one to a mailbox that keeps
    // answering "try later".
    let mut sms = vec![];
    for i in 0..5 {
        sms.push(
            enqueue(
                &app,
                OutboxMessage::sms(format!("1390000000{i}"), format!("通知{i}")),
            )
            .await,
        );
    }
    let decision = enqueue(
        &app,
        OutboxMessage::sms("13900000009", "备案申请 #7：已通过初审").template(
            "filing_decision",
            serde_json::json!({"id": "7", "state": "已通过初审", "reason": "材料齐全"}),
        ),
    )
    .await;
    sms.push(decision);
    let mut mails = vec![];
    for i in 0..5 {
        mails.push(
            enqueue(
                &app,
                OutboxMessage::email(
                    format!("office{i}@inst.example.org"),
                    "备案申请已受理",
                    "您的备案申请已受理。",
                ),
            )
            .await,
        );
    }
    let bounce_addr = "bounce@inst-9.example.org";
    smtp.refuse.lock().unwrap().push(bounce_addr.into());
    let bounce = enqueue(
        &app,
        OutboxMessage::email(bounce_addr, "评价计划已确认", "您的评价计划已经市级确认。"),
    )
    .await;
    // Everything pending now must arrive exactly once (the demo's pending e-mail included).
    let pending: Vec<(i64, String, String, i64)> = sqlx::query(
        "SELECT id, channel, recipient, attempts FROM outbox WHERE status = 'pending' ORDER BY id",
    )
    .fetch_all(&app.store.db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect();
    assert_eq!(
        pending.len(),
        13,
        "12 queued here and the demo's pending e-mail"
    );

    // Round by round, five minutes apart (the back-off's cap), until nothing moves.
    let t0 = at("2026-12-02T03:00:00Z");
    let mut now = t0;
    let mut rounds = 0;
    while both_send(&a, &b, now).await > 0 {
        rounds += 1;
        assert!(rounds < 10, "the outbox does not drain");
        if rounds <= 3 {
            // The bounce waits 60 s, 120 s, 240 s after its 1st, 2nd, 3rd attempt.
            let (status, attempts, next, _) = row(&app, bounce).await;
            assert_eq!((status.as_str(), attempts), ("pending", rounds));
            assert_eq!(
                next,
                Some(text(now + chrono::Duration::seconds(60 << (rounds - 1))))
            );
        }
        if rounds == 1 {
            // Four SMS failed once (HTTP 500 ×3, throttled ×1) and wait one minute.
            let waiting = app
                .count("SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND status = 'pending' AND attempts = 1")
                .await;
            assert_eq!(waiting, 4);
            // Before their back-off has passed, nothing is sent.
            assert_eq!(
                both_send(&a, &b, now + chrono::Duration::seconds(59)).await,
                0
            );
        }
        now += chrono::Duration::minutes(5);
    }
    assert_eq!(rounds, 4, "the bounce is given up after its 4th attempt");

    // Every SMS reached the gateway exactly once, signed, after 4 failed requests.
    assert_eq!(gateway.bad_signatures.load(Ordering::SeqCst), 0);
    assert_eq!(gateway.requests.load(Ordering::SeqCst), 6 + 4);
    let accepted = gateway.accepted.lock().unwrap().clone();
    let mut per_phone: HashMap<String, usize> = HashMap::new();
    for p in &accepted {
        *per_phone.entry(p["PhoneNumbers"].clone()).or_default() += 1;
        assert_eq!(p["Action"], "SendSms");
        assert_eq!(p["SignName"], "郑州人社");
        assert_eq!(p["AccessKeyId"], "LTAI-stub");
    }
    let sms_expected: Vec<&(i64, String, String, i64)> =
        pending.iter().filter(|p| p.1 == "sms").collect();
    assert_eq!(sms_expected.len(), 6);
    for (id, _, phone, _) in &sms_expected {
        assert_eq!(per_phone.get(phone), Some(&1), "SMS {id} arrived once");
    }
    let d = accepted
        .iter()
        .find(|p| p["OutId"] == decision.to_string())
        .unwrap();
    assert_eq!(d["TemplateCode"], "SMS_200");
    let vars: serde_json::Value = serde_json::from_str(&d["TemplateParam"]).unwrap();
    assert_eq!(vars["state"], "已通过初审");
    assert!(
        d["Timestamp"].starts_with("2026-12-02T03:"),
        "signed with the sender's time"
    );
    let plain = accepted
        .iter()
        .find(|p| p["OutId"] == sms[0].to_string())
        .unwrap();
    assert_eq!(plain["TemplateCode"], "SMS_100");
    assert_eq!(
        app.count("SELECT CAST(COALESCE(SUM(attempts), 0) AS BIGINT) FROM outbox WHERE channel = 'sms' AND status = 'sent' AND kind IN ('notice', 'filing_decision') AND provider_ref LIKE 'biz-%'").await,
        10,
        "six deliveries and four failed attempts counted"
    );

    // Every e-mail but the bounce arrived exactly once, with the row's Message-ID.
    let mails_got = smtp.accepted.lock().unwrap().clone();
    for (id, _, to, before) in pending.iter().filter(|p| p.1 == "email" && p.0 != bounce) {
        let copies: Vec<&(String, String)> = mails_got.iter().filter(|(r, _)| r == to).collect();
        assert_eq!(copies.len(), 1, "e-mail {id} arrived once");
        assert!(
            copies[0].1.starts_with(&format!("<outbox-{id}@")),
            "{:?}",
            copies[0]
        );
        assert_eq!(
            row(&app, *id).await.1,
            before + 1,
            "one attempt, the successful one"
        );
    }
    assert_eq!(mails_got.len(), 6);
    let (status, attempts, next, err) = row(&app, bounce).await;
    assert_eq!((status.as_str(), attempts, next), ("failed", 4, None));
    assert!(err.unwrap().contains("451"));
    assert_eq!(smtp.refused.load(Ordering::SeqCst), 4);

    // The failed one shows on /admin/outbox, masked, with its retry button.
    let admin = app.login("admin").await;
    let page = admin
        .get(app.url("/admin/outbox?status=failed&channel=email"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("id=\"outbox-{bounce}\"")));
    assert!(html.contains("b***@inst-9.example.org"));
    assert!(!html.contains(bounce_addr), "the address is masked");
    assert!(html.contains(&format!("action=\"/admin/outbox/{bounce}/retry\"")));
    assert!(html.contains("data-confirm="), "the retry asks first");
    assert!(html.contains("451"));
    assert!(!html.contains("id=\"sender-off\""));
    // The API lists the same, masked; a district may not look.
    let api: serde_json::Value = admin
        .get(app.url("/api/v1/outbox?status=failed&channel=email"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == bounce)
        .unwrap();
    assert_eq!(item["recipient"], "b***@inst-9.example.org");
    assert_eq!(item["attempts"], 4);
    let district = app.login("district-410105").await;
    assert_eq!(
        district
            .get(app.url("/admin/outbox"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // A sent message cannot be re-queued: a Chinese 4xx, nothing changed.
    let r = admin
        .post(app.url(&format!("/api/v1/outbox/{}/retry", mails[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("只有“发送失败”的消息可以重新发送"));

    // The mailbox recovers; the retry button re-queues the bounce (audited) and it leaves once.
    smtp.refuse.lock().unwrap().clear();
    let r = admin
        .post(app.url(&format!("/admin/outbox/{bounce}/retry")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (status, attempts, next, _) = row(&app, bounce).await;
    assert_eq!((status.as_str(), attempts, next), ("pending", 0, None));
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM audit_events WHERE action = 'outbox.retry' AND object_id = '{bounce}' AND actor = 'admin'")).await,
        1
    );
    assert_eq!(both_send(&a, &b, now).await, 1);
    assert_eq!(both_send(&a, &b, now).await, 0);
    let (status, attempts, _, _) = row(&app, bounce).await;
    assert_eq!((status.as_str(), attempts), ("sent", 1));
    assert_eq!(
        app.count(&format!("SELECT requeues FROM outbox WHERE id = {bounce}"))
            .await,
        1
    );
    let copies = smtp
        .accepted
        .lock()
        .unwrap()
        .iter()
        .filter(|(to, _)| to == bounce_addr)
        .count();
    assert_eq!(copies, 1);
}

/// A server that dies holding a claim: once the lease is over another sender takes the row,
/// and the dead server's late record changes nothing.
#[tokio::test]
async fn outbox_expired_claim_is_taken_over() {
    let (smtp, smtp_port) = SmtpStub::start().await;
    let (_gateway, gateway_url) = GatewayStub::start().await;
    let cfg = config(smtp_port, &gateway_url);
    let app = spawn_app_with(WebConfig {
        demo: true,
        outbox: Some(cfg.clone()),
        ..Default::default()
    })
    .await;
    let id = enqueue(
        &app,
        OutboxMessage::email("late@inst.example.org", "通知", "正文"),
    )
    .await;
    let t = at("2026-12-02T03:00:00Z");
    let email = [domain::outbox::Channel::Email];
    let claimed = app
        .store
        .claim_outbox("crashed", &email, t, chrono::Duration::minutes(5), 10)
        .await
        .unwrap();
    assert!(claimed.iter().any(|r| r.id == id));
    let live = Sender::new(app.store.clone(), cfg, "live");
    live.run_once(t + chrono::Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(
        row(&app, id).await.0,
        "pending",
        "still the crashed server's"
    );
    let r = live
        .run_once(t + chrono::Duration::minutes(6))
        .await
        .unwrap();
    assert!(r.sent >= 1);
    assert_eq!(row(&app, id).await.0, "sent");
    assert!(!app
        .store
        .outbox_delivered(id, "crashed", t + chrono::Duration::minutes(7), "late")
        .await
        .unwrap());
    let n = smtp
        .accepted
        .lock()
        .unwrap()
        .iter()
        .filter(|(to, _)| to == "late@inst.example.org")
        .count();
    assert_eq!(n, 1);
}

/// Without a channel the sender is off: the page says so and messages stay pending.
#[tokio::test]
async fn outbox_page_without_channels() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.login("admin").await;
    let html = admin
        .get(app.url("/admin/outbox"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"sender-off\""));
    assert!(html.contains("渠道未配置，等待中"));
    let empty = admin
        .get(app.url("/admin/outbox?q=nobody-at-all"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(empty.contains("没有符合条件的外发消息"));
    let bad = admin
        .get(app.url("/api/v1/outbox?status=lost"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}
