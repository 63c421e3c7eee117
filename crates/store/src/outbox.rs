//! 消息外发: the outbox as its sender and the admin page see it.
//!
//! Workflows write rows with [`Store::enqueue_outbox`] inside their decision's transaction. A
//! sender (`web::outbox::Sender`, in `serve` and `skilleval outbox send`) then
//!
//! 1. **claims** due rows in a short transaction of its own ([`Store::claim_outbox`]): it
//!    writes its name and a lease (`claimed_by`, `claimed_until`). On PostgreSQL the rows are
//!    picked `FOR UPDATE SKIP LOCKED`, so several app servers claim disjoint rows without
//!    waiting for each other; on SQLite the single writer serialises the claim;
//! 2. **sends** each claimed row outside any transaction, through a [`Deliver`] (SMTP, the SMS
//!    gateway: crate `skilleval-notify`);
//! 3. **records** the outcome ([`Store::outbox_delivered`], [`Store::outbox_failed_attempt`]),
//!    only while the claim is still its own.
//!
//! A server that dies mid-way leaves a claim that expires: the row becomes claimable again.
//! So a message leaves exactly once, except when a server dies between the gateway's "OK" and
//! the record of it; then it leaves twice (the message id sent along lets the provider tell).

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Duration, Utc};
use domain::outbox::{AfterFailure, Channel, DeliveryState};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::db::Backend;
use crate::sql::Where;
use crate::{time_text, Page, PageRequest, Result, Store, StoreError};

/// A stored outbox row.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    /// `sms` | `email`
    pub channel: domain::outbox::Channel,
    /// Phone number or e-mail address (personal data: pages show it masked).
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// `pending` | `sent` | `failed` ([`DeliveryState`]).
    pub status: domain::outbox::DeliveryState,
    /// Attempts since the message was queued (or re-queued).
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// 消息类型: picks the SMS template.
    pub kind: String,
    /// The SMS template's variables, a JSON object.
    pub params: String,
    /// Not tried again before this time (back-off).
    pub next_attempt_at: Option<String>,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<String>,
    /// The SMTP server's or the gateway's answer on acceptance (its message id).
    pub provider_ref: Option<String>,
    /// How often an admin re-queued it.
    pub requeues: i64,
}

const COLUMNS: &str = "id, channel, recipient, subject, body, status, attempts, last_error, created_at, sent_at, kind, params, next_attempt_at, claimed_by, claimed_until, provider_ref, requeues";

fn from_row(r: &AnyRow) -> Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0),
        channel: crate::sql::code(r, 1)?,
        recipient: r.get(2),
        subject: r.get(3),
        body: r.get(4),
        status: crate::sql::code(r, 5)?,
        attempts: r.get(6),
        last_error: r.get(7),
        created_at: r.get(8),
        sent_at: r.get(9),
        kind: r.get(10),
        params: r.get(11),
        next_attempt_at: r.get(12),
        claimed_by: r.get(13),
        claimed_until: r.get(14),
        provider_ref: r.get(15),
        requeues: r.get(16),
    })
}

/// The SMTP server or the gateway accepted the message.
#[derive(Debug, Clone, Default)]
pub struct Delivered {
    /// Its answer: the queue id of the SMTP server, the gateway's `BizId`.
    pub reference: String,
}

/// An attempt failed. Never holds a secret (no password, no signature).
#[derive(Debug, Clone)]
pub struct DeliveryError {
    /// Retrying cannot help: a malformed address, a template the gateway does not know, a
    /// refused login. The message is failed at once.
    pub permanent: bool,
    pub message: String,
}

impl DeliveryError {
    pub fn transient(message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            permanent: false,
            message: message.into(),
        }
    }
    pub fn permanent(message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            permanent: true,
            message: message.into(),
        }
    }
}

pub type DeliveryFuture<'a> =
    Pin<Box<dyn Future<Output = std::result::Result<Delivered, DeliveryError>> + Send + 'a>>;

/// What sends: implemented by `skilleval-notify` (SMTP through lettre, the SMS gateway over
/// HTTP) and by test doubles. Kept here so that store and web need neither.
pub trait Deliver: Send + Sync + std::fmt::Debug {
    /// The channels this deliverer is configured for; rows of other channels stay pending.
    fn channels(&self) -> Vec<Channel>;
    /// Send one message. `now` is the sender's clock (the e-mail's Date, the gateway's
    /// signature timestamp).
    fn deliver<'a>(&'a self, message: &'a OutboxRow, now: DateTime<Utc>) -> DeliveryFuture<'a>;
}

/// The admin list's search.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    /// `pending` | `sent` | `failed`
    pub status: Option<String>,
    /// `sms` | `email`
    pub channel: Option<String>,
    /// Recipient, subject, text, kind or error.
    pub q: Option<String>,
}

/// How many rows per channel and state.
#[derive(Debug, Clone, Default)]
pub struct OutboxTally {
    pub counts: Vec<(String, String, i64)>,
}

impl OutboxTally {
    pub fn count(&self, channel: Option<&str>, status: &str) -> i64 {
        self.counts
            .iter()
            .filter(|(c, s, _)| s == status && channel.is_none_or(|ch| ch == c))
            .map(|(_, _, n)| n)
            .sum()
    }
}

/// An error as stored: bounded, one line.
fn error_text(e: &str) -> String {
    let one_line = e.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut s: String = one_line.chars().take(500).collect();
    if one_line.chars().count() > 500 {
        s.push('…');
    }
    s
}

impl Store {
    /// Claim up to `limit` due rows of `channels` for `worker` until `now + lease`: pending, past
    /// their back-off, and unclaimed or with an expired claim. Oldest first.
    pub async fn claim_outbox(
        &self,
        worker: &str,
        channels: &[Channel],
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<OutboxRow>> {
        if channels.is_empty() || limit < 1 {
            return Ok(vec![]);
        }
        let in_list: Vec<String> = (0..channels.len()).map(|i| format!("${}", i + 5)).collect();
        let due = "status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $3) \
                   AND (claimed_until IS NULL OR claimed_until <= $3)";
        // PostgreSQL: concurrent claimers skip each other's rows instead of queueing; the
        // outer condition is re-checked on the row's latest version.
        let lock = match self.db.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2 WHERE id IN \
             (SELECT id FROM outbox WHERE {due} AND channel IN ({}) ORDER BY id LIMIT $4{lock}) \
             AND {due} RETURNING {COLUMNS}",
            in_list.join(", ")
        );
        let mut q = sqlx::query(&sql)
            .bind(worker)
            .bind(time_text(now + lease))
            .bind(time_text(now))
            .bind(limit);
        for c in channels {
            q = q.bind(c.as_str());
        }
        let mut tx = self.db.write().await?;
        let rows = q.fetch_all(tx.conn()).await?;
        tx.commit().await?;
        let mut rows: Vec<OutboxRow> = rows.iter().map(from_row).collect::<Result<_>>()?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// Record the delivery of a row claimed by `worker`. `false` when the claim was lost (it
    /// expired and another sender took the row): nothing is changed then.
    pub async fn outbox_delivered(
        &self,
        id: i64,
        worker: &str,
        now: DateTime<Utc>,
        reference: &str,
    ) -> Result<bool> {
        let mut tx = self.db.write().await?;
        let n = sqlx::query(
            "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = $1, provider_ref = $2, \
             next_attempt_at = NULL, claimed_by = NULL, claimed_until = NULL \
             WHERE id = $3 AND claimed_by = $4 AND status = 'pending'",
        )
        .bind(time_text(now))
        .bind(error_text(reference))
        .bind(id)
        .bind(worker)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Record a failed attempt of a row claimed by `worker`, with what the retry rule
    /// ([`domain::outbox::RetryPolicy::after_failure`]) decided. `false` when the claim was lost.
    pub async fn outbox_failed_attempt(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        next: AfterFailure,
    ) -> Result<bool> {
        let (status, at) = match next {
            AfterFailure::RetryAt(t) => (DeliveryState::Pending, Some(time_text(t))),
            AfterFailure::GiveUp => (DeliveryState::Failed, None),
        };
        let mut tx = self.db.write().await?;
        let n = sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, status = $2, next_attempt_at = $3, \
             claimed_by = NULL, claimed_until = NULL \
             WHERE id = $4 AND claimed_by = $5 AND status = 'pending'",
        )
        .bind(error_text(error))
        .bind(status.as_str())
        .bind(at)
        .bind(id)
        .bind(worker)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    /// The outbox for the admin page, newest first.
    pub async fn list_outbox(
        &self,
        f: &OutboxFilter,
        page: PageRequest,
    ) -> Result<Page<OutboxRow>> {
        let mut w = Where::new();
        w.eq_text("status", f.status.as_deref());
        w.eq_text("channel", f.channel.as_deref());
        w.search(
            &[
                "recipient",
                "subject",
                "body",
                "kind",
                "COALESCE(last_error, '')",
            ],
            f.q.as_deref(),
        );
        w.fetch_page(&self.db, COLUMNS, "outbox", "id DESC", page, from_row)
            .await
    }

    pub async fn outbox_row(&self, id: i64) -> Result<OutboxRow> {
        let r = sqlx::query(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(&r)
    }

    /// Rows per channel and state (one grouped count).
    pub async fn outbox_tally(&self) -> Result<OutboxTally> {
        let rows =
            sqlx::query("SELECT channel, status, COUNT(*) FROM outbox GROUP BY channel, status")
                .fetch_all(&self.db.pool)
                .await?;
        Ok(OutboxTally {
            counts: rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect(),
        })
    }

    /// 重新发送: put a failed message back in the queue with fresh attempts (audited). Only a
    /// failed message may be re-queued.
    pub async fn requeue_outbox(&self, actor: &Actor, id: i64) -> Result<OutboxRow> {
        let mut tx = self.db.write().await?;
        let r = sqlx::query(
            "SELECT status, attempts, channel, kind, last_error FROM outbox WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        let status: String = r.get(0);
        if status != DeliveryState::Failed.as_str() {
            let label = DeliveryState::parse(&status).map_or(status.as_str(), |s| s.label());
            return Err(StoreError::Invalid(format!(
                "只有“发送失败”的消息可以重新发送，该消息当前为“{label}”"
            )));
        }
        let n = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, requeues = requeues + 1, \
             next_attempt_at = NULL, claimed_by = NULL, claimed_until = NULL \
             WHERE id = $1 AND status = 'failed'",
        )
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict);
        }
        // The recipient stays out of the audit trail (personal data); the row names it.
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "outbox.retry",
                object_type: "outbox",
                object_id: id.to_string(),
                summary: serde_json::json!({
                    "channel": r.get::<String, _>(2),
                    "kind": r.get::<String, _>(3),
                    "attempts_before": r.get::<i64, _>(1),
                    "last_error": r.get::<Option<String>, _>(4),
                }),
            },
        )
        .await?;
        tx.commit().await?;
        self.outbox_row(id).await
    }

    /// Demo outbox rows in every state, dated around `today` (e-mail to reserved example
    /// domains only, so a demo with a real gateway configured sends nothing to a person).
    pub async fn seed_outbox_demo(&self, today: chrono::NaiveDate) -> Result<()> {
        let at = |h: u32, m: u32| {
            time_text(
                today.and_hms_opt(h, m, 0).expect("valid time").and_utc() - Duration::hours(8),
            )
        };
        struct Demo {
            channel: &'static str,
            to: &'static str,
            subject: &'static str,
            body: &'static str,
            status: &'static str,
            attempts: i64,
            error: Option<&'static str>,
            created: String,
            sent: Option<String>,
            next: Option<String>,
        }
        let rows = [
            Demo {
                channel: "sms",
                to: "13803710001",
                subject: "",
                body: "【郑州技能评价】备案申请 #1：已通过初审。",
                status: "sent",
                attempts: 1,
                error: None,
                created: at(9, 5),
                sent: Some(at(9, 5)),
                next: None,
            },
            Demo {
                channel: "email",
                to: "contact@inst-1.example.com",
                subject: "备案申请已通过初审",
                body: "您的备案申请已通过初审，请登录平台查看。",
                status: "sent",
                attempts: 2,
                error: Some("451 4.3.0 Temporary server error"),
                created: at(9, 10),
                sent: Some(at(9, 12)),
                next: None,
            },
            Demo {
                channel: "sms",
                to: "1380371000",
                subject: "",
                body: "【郑州技能评价】备案申请 #2：已退回补正。",
                status: "failed",
                attempts: 1,
                error: Some("短信网关拒绝：isv.MOBILE_NUMBER_ILLEGAL 非法手机号"),
                created: at(10, 0),
                sent: None,
                next: None,
            },
            Demo {
                channel: "email",
                to: "office@inst-3.example.org",
                subject: "评价计划已确认",
                body: "您的评价计划已经市级确认。",
                status: "failed",
                attempts: 8,
                error: Some("SMTP 450 4.2.0 Mailbox temporarily unavailable"),
                created: at(8, 0),
                sent: None,
                next: None,
            },
            Demo {
                channel: "email",
                to: "office@inst-4.example.org",
                subject: "备案申请已受理",
                body: "您的备案申请已受理。",
                status: "pending",
                attempts: 2,
                error: Some("SMTP 连接超时"),
                created: at(10, 30),
                sent: None,
                next: Some(at(10, 34)),
            },
        ];
        let mut tx = self.db.write().await?;
        for d in rows {
            sqlx::query(
                "INSERT INTO outbox (channel, recipient, subject, body, status, attempts, last_error, created_at, sent_at, next_attempt_at, kind, params) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'notice', $11)",
            )
            .bind(d.channel)
            .bind(d.to)
            .bind(d.subject)
            .bind(d.body)
            .bind(d.status)
            .bind(d.attempts)
            .bind(d.error)
            .bind(d.created)
            .bind(d.sent)
            .bind(d.next)
            .bind(serde_json::json!({ "content": d.body }).to_string())
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await
    }
}
