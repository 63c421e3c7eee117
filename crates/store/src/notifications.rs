//! In-platform notifications (站内消息) and the outbox of outgoing SMS/email.
//!
//! Both are written INSIDE the workflow's [`WriteTx`], so a decision and the message that
//! announces it are committed together or not at all:
//!
//! ```ignore
//! let mut tx = store.db.write().await?;
//! // … the transition and its audit event …
//! Store::notify(&mut tx, &NewNotification::to_institution(inst_id, "初审已通过", "意见：材料齐全").link(format!("/filings/{id}"))).await?;
//! Store::enqueue_outbox(&mut tx, &OutboxMessage::sms(&phone, "您的备案申请已通过初审")).await?;
//! tx.commit().await?;
//! ```
//!
//! A message to an institution is seen by every account of that institution; its read state is
//! shared (one account marking it read marks it read for all). Marking as read is not audited.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::db::WriteTx;
use crate::{now_text, Page, PageRequest, Result, Store, StoreError};

/// A message to write. Set a user, an institution, or both.
#[derive(Debug, Clone, Default)]
pub struct NewNotification {
    pub recipient_user_id: Option<i64>,
    pub institution_id: Option<i64>,
    pub title: String,
    pub body: String,
    /// A local link to the record concerned (e.g. `/filings/12`), or empty.
    pub link: String,
}

impl NewNotification {
    pub fn to_user(user_id: i64, title: impl Into<String>, body: impl Into<String>) -> Self {
        NewNotification {
            recipient_user_id: Some(user_id),
            title: title.into(),
            body: body.into(),
            ..Default::default()
        }
    }
    pub fn to_institution(
        institution_id: i64,
        title: impl Into<String>,
        body: impl Into<String>,
    ) -> Self {
        NewNotification {
            institution_id: Some(institution_id),
            title: title.into(),
            body: body.into(),
            ..Default::default()
        }
    }
    pub fn link(mut self, link: impl Into<String>) -> Self {
        self.link = link.into();
        self
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: i64,
    pub recipient_user_id: Option<i64>,
    pub institution_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub link: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

/// An outgoing message; the outbox sender (`web::outbox`) delivers it later.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    /// `sms` or `email` ([`domain::outbox::Channel`]).
    pub channel: &'static str,
    /// Phone number or e-mail address.
    pub recipient: String,
    /// E-mail subject (empty for SMS).
    pub subject: String,
    pub body: String,
    /// 消息类型, e.g. `filing_decision`: picks the SMS gateway's template (`sms_templates`).
    pub kind: String,
    /// The SMS template's variables (a JSON object of strings). SMS gateways in China send
    /// approved templates, not free text; `notice` messages carry `{"content": body}`.
    pub params: serde_json::Value,
}

impl OutboxMessage {
    pub fn sms(phone: impl Into<String>, body: impl Into<String>) -> Self {
        let body = body.into();
        OutboxMessage {
            channel: "sms",
            recipient: phone.into(),
            subject: String::new(),
            params: serde_json::json!({ "content": body }),
            body,
            kind: "notice".into(),
        }
    }
    pub fn email(
        address: impl Into<String>,
        subject: impl Into<String>,
        body: impl Into<String>,
    ) -> Self {
        OutboxMessage {
            channel: "email",
            recipient: address.into(),
            subject: subject.into(),
            body: body.into(),
            kind: "notice".into(),
            params: serde_json::json!({}),
        }
    }
    /// The message kind and its template variables (values are sent as text).
    pub fn template(mut self, kind: impl Into<String>, params: serde_json::Value) -> Self {
        self.kind = kind.into();
        self.params = params;
        self
    }
}

const COLUMNS: &str =
    "id, recipient_user_id, institution_id, title, body, link, created_at, read_at";

fn from_row(r: &AnyRow) -> Result<Notification> {
    Ok(Notification {
        id: r.get(0),
        recipient_user_id: r.get(1),
        institution_id: r.get(2),
        title: r.get(3),
        body: r.get(4),
        link: r.get(5),
        created_at: r.get(6),
        read_at: r.get(7),
    })
}

/// `WHERE` for "messages of this user": to the user, or to the user's institution.
/// Uses $1 (user id) and $2 (institution id, -1 when none).
const MINE: &str =
    "(recipient_user_id = $1 OR (institution_id = $2 AND recipient_user_id IS NULL))";

impl Store {
    /// Write an in-platform message inside the caller's transaction. Returns its id.
    pub async fn notify(tx: &mut WriteTx, n: &NewNotification) -> Result<i64> {
        if n.recipient_user_id.is_none() && n.institution_id.is_none() {
            return Err(StoreError::Invalid("消息须指定接收用户或机构".into()));
        }
        if n.title.trim().is_empty() {
            return Err(StoreError::Invalid("消息标题不能为空".into()));
        }
        Ok(sqlx::query(
            "INSERT INTO notifications (recipient_user_id, institution_id, title, body, link, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(n.recipient_user_id)
        .bind(n.institution_id)
        .bind(&n.title)
        .bind(&n.body)
        .bind(&n.link)
        .bind(now_text())
        .fetch_one(tx.conn())
        .await?
        .get(0))
    }

    /// Queue an SMS or e-mail inside the caller's transaction. Returns its id.
    pub async fn enqueue_outbox(tx: &mut WriteTx, m: &OutboxMessage) -> Result<i64> {
        if domain::outbox::Channel::parse(m.channel).is_none() {
            return Err(StoreError::Invalid(format!(
                "未知的发送渠道：{}",
                m.channel
            )));
        }
        if m.recipient.trim().is_empty() {
            return Err(StoreError::Invalid("接收人不能为空".into()));
        }
        if !m.params.is_object() {
            return Err(StoreError::Invalid("短信模板参数须为 JSON 对象".into()));
        }
        Ok(sqlx::query(
            "INSERT INTO outbox (channel, recipient, subject, body, status, attempts, created_at, kind, params) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $7) RETURNING id",
        )
        .bind(m.channel)
        .bind(m.recipient.trim())
        .bind(&m.subject)
        .bind(&m.body)
        .bind(now_text())
        .bind(&m.kind)
        .bind(m.params.to_string())
        .fetch_one(tx.conn())
        .await?
        .get(0))
    }

    /// The messages of a user (and of the user's institution), newest first.
    pub async fn notifications_for(
        &self,
        user_id: i64,
        institution_id: Option<i64>,
        unread_only: bool,
        page: PageRequest,
    ) -> Result<Page<Notification>> {
        let unread = if unread_only {
            " AND read_at IS NULL"
        } else {
            ""
        };
        let inst = institution_id.unwrap_or(-1);
        let total: i64 = sqlx::query(&format!(
            "SELECT COUNT(*) FROM notifications WHERE {MINE}{unread}"
        ))
        .bind(user_id)
        .bind(inst)
        .fetch_one(&self.db.pool)
        .await?
        .get(0);
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE {MINE}{unread} ORDER BY id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(user_id)
        .bind(inst)
        .bind(page.per_page)
        .bind(page.offset())
        .fetch_all(&self.db.pool)
        .await?;
        Ok(Page {
            items: rows.iter().map(from_row).collect::<Result<Vec<_>>>()?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// How many unread messages (one indexed COUNT).
    pub async fn unread_count(&self, user_id: i64, institution_id: Option<i64>) -> Result<i64> {
        Ok(sqlx::query(&format!(
            "SELECT COUNT(*) FROM notifications WHERE {MINE} AND read_at IS NULL"
        ))
        .bind(user_id)
        .bind(institution_id.unwrap_or(-1))
        .fetch_one(&self.db.pool)
        .await?
        .get(0))
    }

    /// Mark one message read; `NotFound` when it is not the user's.
    pub async fn mark_read(
        &self,
        user_id: i64,
        institution_id: Option<i64>,
        id: i64,
    ) -> Result<()> {
        let mut tx = self.db.write().await?;
        let found = sqlx::query(&format!(
            "SELECT id FROM notifications WHERE {MINE} AND id = $3"
        ))
        .bind(user_id)
        .bind(institution_id.unwrap_or(-1))
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        if found.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE notifications SET read_at = $1, read_by = $2 WHERE id = $3 AND read_at IS NULL",
        )
        .bind(now_text())
        .bind(user_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }

    /// Mark all of a user's messages read; returns how many changed.
    pub async fn mark_all_read(&self, user_id: i64, institution_id: Option<i64>) -> Result<u64> {
        let mut tx = self.db.write().await?;
        let n = sqlx::query(
            "UPDATE notifications SET read_at = $1, read_by = $2 WHERE (recipient_user_id = $2 OR (institution_id = $3 AND recipient_user_id IS NULL)) AND read_at IS NULL",
        )
        .bind(now_text())
        .bind(user_id)
        .bind(institution_id.unwrap_or(-1))
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}
