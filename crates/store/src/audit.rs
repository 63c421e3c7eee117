//! The audit trail: append-only, hash-chained, written in the transaction of the change it records.

use domain::audit::{AuditEntry, ChainBreak, ChainVerifier, GENESIS_HASH};
use serde::Serialize;
use sqlx::Row;

use crate::db::{Backend, Db, WriteTx};
use crate::sql::Where;
use crate::{now_text, Page, PageRequest, Result};

/// Who acts, from where: attached to every event.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: String,
    pub role: String,
    pub request_id: String,
    pub client_addr: String,
}

impl Actor {
    /// The platform itself (first-start loading, demo data, CLI).
    pub fn system(what: &str) -> Actor {
        Actor {
            user_id: None,
            username: format!("system:{what}"),
            role: "system".into(),
            request_id: String::new(),
            client_addr: "local".into(),
        }
    }
}

/// One event to append.
pub struct NewEvent<'a> {
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: String,
    /// A JSON summary of the change. Never secrets.
    pub summary: serde_json::Value,
}

/// Key for `pg_advisory_xact_lock`, serialising appends across app servers.
const AUDIT_LOCK_KEY: i64 = 0x6175_6469_7463_6861;

/// Append an event inside `tx`. The chain head is read under a lock so that concurrent appends
/// from several app servers cannot fork the chain.
pub async fn append(tx: &mut WriteTx, actor: &Actor, ev: NewEvent<'_>) -> Result<i64> {
    if tx.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(AUDIT_LOCK_KEY)
            .execute(tx.conn())
            .await?;
    }
    let last = sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(tx.conn())
        .await?;
    let (seq, prev_hash) = match last {
        Some(r) => (r.get::<i64, _>(0) + 1, r.get::<String, _>(1)),
        None => (1, GENESIS_HASH.to_string()),
    };
    let entry = AuditEntry {
        seq,
        at: now_text(),
        actor_id: actor.user_id,
        actor: actor.username.clone(),
        role: actor.role.clone(),
        action: ev.action.to_string(),
        object_type: ev.object_type.to_string(),
        object_id: ev.object_id,
        summary: ev.summary.to_string(),
        request_id: actor.request_id.clone(),
        client_addr: actor.client_addr.clone(),
        prev_hash,
    };
    let hash = entry.hash();
    sqlx::query(
        "INSERT INTO audit_events (seq, at, actor_id, actor, role, action, object_type, object_id, summary, request_id, client_addr, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(entry.seq)
    .bind(&entry.at)
    .bind(entry.actor_id)
    .bind(&entry.actor)
    .bind(&entry.role)
    .bind(&entry.action)
    .bind(&entry.object_type)
    .bind(&entry.object_id)
    .bind(&entry.summary)
    .bind(&entry.request_id)
    .bind(&entry.client_addr)
    .bind(&entry.prev_hash)
    .bind(&hash)
    .execute(tx.conn())
    .await?;
    Ok(seq)
}

/// A stored event, for the audit pages.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub summary: String,
    pub request_id: String,
    pub client_addr: String,
    pub hash: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub q: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyReport {
    pub entries: i64,
    pub head: String,
}

const ENTRY_COLUMNS: &str = "seq, at, actor_id, actor, role, action, object_type, object_id, summary, request_id, client_addr, prev_hash, hash";

impl Db {
    /// Recompute the whole chain in pages of 5,000, oldest first.
    pub async fn verify_audit_chain(
        &self,
    ) -> Result<std::result::Result<VerifyReport, ChainBreak>> {
        let mut verifier = ChainVerifier::default();
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(&format!(
                "SELECT {ENTRY_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 5000"
            ))
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let entry = AuditEntry {
                    seq: r.get(0),
                    at: r.get(1),
                    actor_id: r.get(2),
                    actor: r.get(3),
                    role: r.get(4),
                    action: r.get(5),
                    object_type: r.get(6),
                    object_id: r.get(7),
                    summary: r.get(8),
                    request_id: r.get(9),
                    client_addr: r.get(10),
                    prev_hash: r.get(11),
                };
                let hash: String = r.get(12);
                if let Err(brk) = verifier.push(&entry, &hash) {
                    return Ok(Err(brk));
                }
                after = entry.seq;
            }
        }
        Ok(Ok(VerifyReport {
            entries: verifier.count(),
            head: verifier.head().to_string(),
        }))
    }

    pub async fn list_audit(&self, f: &AuditFilter, page: PageRequest) -> Result<Page<AuditRow>> {
        let mut w = Where::new();
        w.search(&["actor", "action", "summary"], f.q.as_deref());
        w.eq_text("action", f.action.as_deref());
        w.eq_text("object_type", f.object_type.as_deref());
        w.eq_text("object_id", f.object_id.as_deref());
        let total = w.count(self, "audit_events").await?;
        let rows = w
            .page(
                self,
                "SELECT seq, at, actor, role, action, object_type, object_id, summary, request_id, client_addr, hash FROM audit_events",
                "seq DESC",
                page,
            )
            .await?;
        let items = rows
            .iter()
            .map(|r| AuditRow {
                seq: r.get(0),
                at: r.get(1),
                actor: r.get(2),
                role: r.get(3),
                action: r.get(4),
                object_type: r.get(5),
                object_id: r.get(6),
                summary: r.get(7),
                request_id: r.get(8),
                client_addr: r.get(9),
                hash: r.get(10),
            })
            .collect();
        Ok(Page {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }
}

/// Record an event in its own transaction (for reads of personal data, logins and the like).
pub async fn record(db: &Db, actor: &Actor, ev: NewEvent<'_>) -> Result<i64> {
    let mut tx = db.write().await?;
    let seq = append(&mut tx, actor, ev).await?;
    tx.commit().await?;
    Ok(seq)
}

/// Record that `actor` saw a full personal identifier (an ID number): 个人信息保护法 requires
/// that such reads be traceable. Call it whenever an unmasked value is shown or exported.
pub async fn record_pii_read(
    db: &Db,
    actor: &Actor,
    object_type: &str,
    object_id: &str,
    field: &str,
) -> Result<i64> {
    record(
        db,
        actor,
        NewEvent {
            action: "pii.read",
            object_type,
            object_id: object_id.to_string(),
            summary: serde_json::json!({ "field": field }),
        },
    )
    .await
}
