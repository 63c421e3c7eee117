//! 消息外发: the sender that drains the outbox, and the admin page and API that show its
//! deliveries and re-queue a failed one.
//!
//! The sender ([`Sender::run_once`]) runs in every app server (`serve`, every
//! `outbox_every_seconds`) and as `skilleval outbox send`. The store's claim makes each row
//! one sender's at a time (see `store::outbox`); the retry rule is `domain::outbox::RetryPolicy`;
//! the channels (SMTP, SMS gateway) come in as a [`Deliver`] from crate `skilleval-notify`, so
//! this crate needs neither lettre nor an HTTP client.

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use domain::outbox::{mask_recipient, AfterFailure, Channel, DeliveryState, RetryPolicy};
use domain::Action;
use serde::{Deserialize, Serialize};
use store::{Deliver, DeliveryError, OutboxFilter, OutboxRow, PageRequest, Store, StoreError};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::api::ApiRouter;
use crate::auth::Authed;
use crate::error::AppError;
use crate::pages::{beijing_time, flash_text, list_base, render, Layout, Pager};
use crate::routing::{guard, Routes};
use crate::AppState;

/// The sender's configuration: what delivers, the retry rule, how often `serve` drains.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    pub deliver: Arc<dyn Deliver>,
    pub retry: RetryPolicy,
    pub every: Duration,
}

/// One attempt may take this long before it counts as failed (and is retried).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(25);

/// Rows claimed at a time by one sender.
pub const BATCH: i64 = 10;

/// Claimed batches per run, so one run ends even while messages keep arriving.
const MAX_BATCHES: usize = 50;

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SendReport {
    /// Accepted by the SMTP server or the gateway.
    pub sent: usize,
    /// Failed attempts that will be retried after their back-off.
    pub retrying: usize,
    /// Given up: attempts exhausted or a permanent refusal.
    pub failed: usize,
    /// Claims that expired before the outcome was recorded (another sender has the row).
    pub lost: usize,
}

/// 发送器: claims due rows, sends each outside any transaction, records the outcome.
pub struct Sender {
    store: Store,
    config: OutboxConfig,
    worker: String,
    batch: i64,
}

impl Sender {
    /// `worker` names this sender in the claims; [`Sender::worker_name`] makes a unique one.
    pub fn new(store: Store, config: OutboxConfig, worker: impl Into<String>) -> Sender {
        Sender {
            store,
            config,
            worker: worker.into(),
            batch: BATCH,
        }
    }

    /// Rows claimed at a time (tests take small batches so that two senders interleave).
    pub fn with_batch(mut self, batch: i64) -> Sender {
        self.batch = batch.max(1);
        self
    }

    /// host:pid:random — unique per sender, readable in the `claimed_by` column.
    pub fn worker_name() -> String {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".into());
        format!(
            "{host}:{}:{:08x}",
            std::process::id(),
            rand::random::<u32>()
        )
    }

    /// How long a claim holds: every claimed row may take [`SEND_TIMEOUT`], plus a margin, so a
    /// live sender never loses its claim to another.
    fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(SEND_TIMEOUT * self.batch as u32).expect("small")
            + chrono::Duration::seconds(60)
    }

    /// Deliver what is due at `now`: claim, send, record, until nothing due is left.
    pub async fn run_once(&self, now: DateTime<Utc>) -> Result<SendReport, StoreError> {
        let channels = self.config.deliver.channels();
        let mut report = SendReport::default();
        for _ in 0..MAX_BATCHES {
            let rows = self
                .store
                .claim_outbox(&self.worker, &channels, now, self.lease(), self.batch)
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                self.send_one(row, now, &mut report).await?;
            }
        }
        Ok(report)
    }

    async fn send_one(
        &self,
        row: &OutboxRow,
        now: DateTime<Utc>,
        report: &mut SendReport,
    ) -> Result<(), StoreError> {
        let outcome = tokio::time::timeout(SEND_TIMEOUT, self.config.deliver.deliver(row, now))
            .await
            .unwrap_or_else(|_| Err(DeliveryError::transient("发送超时")));
        // Logs name the row, never its recipient (personal data).
        match outcome {
            Ok(d) => {
                if self
                    .store
                    .outbox_delivered(row.id, &self.worker, now, &d.reference)
                    .await?
                {
                    report.sent += 1;
                } else {
                    report.lost += 1;
                    tracing::warn!(
                        outbox = row.id,
                        "delivered after the claim expired: another sender may send it again"
                    );
                }
            }
            Err(e) => {
                let next = self
                    .config
                    .retry
                    .after_failure(row.attempts + 1, e.permanent, now);
                if !self
                    .store
                    .outbox_failed_attempt(row.id, &self.worker, &e.message, next)
                    .await?
                {
                    report.lost += 1;
                } else if next == AfterFailure::GiveUp {
                    report.failed += 1;
                } else {
                    report.retrying += 1;
                }
                tracing::warn!(outbox = row.id, channel = row.channel.as_str(), attempt = row.attempts + 1,
                    gave_up = (next == AfterFailure::GiveUp), error = %e.message, "delivery attempt failed");
            }
        }
        Ok(())
    }
}

/// Start the sender in this server: every `every`, drain what is due. Without a configured
/// channel it says once that it is off, and messages stay pending.
pub fn spawn(state: AppState) {
    let Some(config) = state.config.outbox.clone() else {
        tracing::warn!(
            "outbox sender off: neither an SMTP server (smtp_host) nor an SMS gateway \
             (sms_access_key_id) is configured; SMS and e-mail stay pending (/admin/outbox)"
        );
        return;
    };
    let channels: Vec<&str> = config
        .deliver
        .channels()
        .iter()
        .map(|c| c.as_str())
        .collect();
    tracing::info!(channels = ?channels, every_s = config.every.as_secs(), "outbox sender on");
    let every = config.every;
    let sender = Sender::new(state.store.clone(), config, Sender::worker_name());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sender.run_once(state.now()).await {
                Ok(r) if r == SendReport::default() => {}
                Ok(r) => tracing::info!(
                    sent = r.sent,
                    retrying = r.retrying,
                    failed = r.failed,
                    lost = r.lost,
                    "outbox sent"
                ),
                Err(e) => tracing::warn!(error = %e, "outbox sender failed"),
            }
        }
    });
}

// ---- the admin page and the API ----

pub fn router() -> Routes {
    Routes::new()
        .get("/admin/outbox", Action::OutboxView, page)
        .post("/admin/outbox/{id}/retry", Action::OutboxRetry, retry_page)
}

/// The outbox routes of the API with their documentation (see `api::v1`).
pub fn api_routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(Action::OutboxView, routes!(api_list)))
        .routes(guard(Action::OutboxRetry, routes!(api_retry)))
}

/// One delivery as the page and the API show it: the recipient masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutboxItem {
    pub id: i64,
    /// The typed state, for the page (the JSON carries it as `status`).
    #[serde(skip)]
    #[schema(ignore)]
    pub state: DeliveryState,
    /// sms | email
    pub channel: String,
    /// 短信 | 电子邮件
    pub channel_label: String,
    /// 消息类型 (picks the SMS template), e.g. filing_decision.
    pub kind: String,
    /// Masked: 138****8000, z***@example.com.
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// pending | sent | failed
    pub status: String,
    /// 待发送 | 已发送 | 发送失败
    pub status_label: String,
    /// Attempts since queued or re-queued.
    pub attempts: i64,
    /// Times an admin re-queued it.
    pub requeues: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    /// Not tried again before (back-off), RFC 3339 UTC.
    pub next_attempt_at: Option<String>,
    pub sent_at: Option<String>,
    /// The channel is not configured on this server: a pending message waits for it.
    pub channel_off: bool,
}

fn item(row: OutboxRow, on: &[Channel]) -> OutboxItem {
    OutboxItem {
        id: row.id,
        channel_label: row.channel.label().into(),
        recipient: mask_recipient(row.channel.as_str(), &row.recipient),
        kind: row.kind,
        subject: row.subject,
        body: row.body,
        status_label: row.status.label().into(),
        status: row.status.as_str().into(),
        state: row.status,
        attempts: row.attempts,
        requeues: row.requeues,
        last_error: row.last_error,
        created_at: row.created_at,
        next_attempt_at: row.next_attempt_at,
        sent_at: row.sent_at,
        channel_off: !on.contains(&row.channel),
        channel: row.channel.as_str().into(),
    }
}

/// The channels this server sends (none when the sender is off).
fn channels_on(state: &AppState) -> Vec<Channel> {
    state
        .config
        .outbox
        .as_ref()
        .map(|c| c.deliver.channels())
        .unwrap_or_default()
}

#[derive(Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    channel: Option<String>,
    q: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
    msg: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> Result<OutboxFilter, AppError> {
        let keep = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
        let status = keep(&self.status);
        if status
            .as_deref()
            .is_some_and(|s| DeliveryState::parse(s).is_none())
        {
            return Err(AppError::invalid(
                "status",
                "状态应为 pending、sent 或 failed",
            ));
        }
        let channel = keep(&self.channel);
        if channel
            .as_deref()
            .is_some_and(|c| Channel::parse(c).is_none())
        {
            return Err(AppError::invalid("channel", "渠道应为 sms 或 email"));
        }
        Ok(OutboxFilter {
            status,
            channel,
            q: keep(&self.q),
        })
    }
}

/// 消息外发: the use case "list the deliveries" (page and API).
async fn list(
    state: &AppState,
    me: &Authed,
    q: &ListQuery,
) -> Result<store::Page<OutboxItem>, AppError> {
    me.may(Action::OutboxView)?;
    let page = state
        .store
        .list_outbox(&q.filter()?, PageRequest::new(q.page, q.per_page))
        .await?;
    let on = channels_on(state);
    Ok(store::Page {
        items: page.items.into_iter().map(|r| item(r, &on)).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    })
}

/// 外发统计: deliveries by channel and state (the page's header).
pub async fn tally(state: &AppState, me: &Authed) -> Result<store::OutboxTally, AppError> {
    me.may(Action::OutboxView)?;
    Ok(state.store.outbox_tally().await?)
}

/// 重新发送: the use case "re-queue a failed delivery" (page and API); audited in the store.
pub async fn retry(state: &AppState, me: &Authed, id: i64) -> Result<OutboxItem, AppError> {
    me.may(Action::OutboxRetry)?;
    let row = state.store.requeue_outbox(&me.actor(), id).await?;
    Ok(item(row, &channels_on(state)))
}

struct Row {
    it: OutboxItem,
    created: String,
    next: String,
    sent: String,
}

/// Per channel: label, configured, pending, failed, sent.
struct ChannelLine {
    label: &'static str,
    on: bool,
    pending: i64,
    failed: i64,
    sent: i64,
}

/// A select of the filter form: name, label, chosen value, (value, label) options.
struct SelectFilter {
    name: &'static str,
    label: &'static str,
    value: String,
    options: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage {
    layout: Layout,
    channels: Vec<ChannelLine>,
    sender_off: bool,
    filters: [SelectFilter; 2],
    q: String,
    rows: Vec<Row>,
    pager: Pager,
    base: String,
    may_retry: bool,
}

async fn page(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let list = list(&state, &me, &q).await?;
    let tally = tally(&state, &me).await?;
    let on = channels_on(&state);
    let options = |all: &str, values: Vec<(&'static str, &'static str)>| {
        std::iter::once((String::new(), all.to_string()))
            .chain(
                values
                    .into_iter()
                    .map(|(v, l)| (v.to_string(), l.to_string())),
            )
            .collect::<Vec<_>>()
    };
    let pager = Pager::from(&list);
    Ok(render(&OutboxPage {
        layout: Layout::new(&state, Some(&me), "消息外发", "/admin/outbox")
            .with_flash(flash_text(q.msg.as_deref())),
        channels: Channel::ALL
            .into_iter()
            .map(|c| ChannelLine {
                label: c.label(),
                on: on.contains(&c),
                pending: tally.count(Some(c.as_str()), "pending"),
                failed: tally.count(Some(c.as_str()), "failed"),
                sent: tally.count(Some(c.as_str()), "sent"),
            })
            .collect(),
        sender_off: on.is_empty(),
        filters: [
            SelectFilter {
                name: "status",
                label: "状态",
                value: q.status.clone().unwrap_or_default(),
                options: options(
                    "全部状态",
                    DeliveryState::ALL
                        .iter()
                        .map(|s| (s.as_str(), s.label()))
                        .collect(),
                ),
            },
            SelectFilter {
                name: "channel",
                label: "渠道",
                value: q.channel.clone().unwrap_or_default(),
                options: options(
                    "全部渠道",
                    Channel::ALL
                        .iter()
                        .map(|c| (c.as_str(), c.label()))
                        .collect(),
                ),
            },
        ],
        q: q.q.clone().unwrap_or_default(),
        rows: list
            .items
            .into_iter()
            .map(|it| Row {
                created: beijing_time(&it.created_at),
                next: it
                    .next_attempt_at
                    .as_deref()
                    .map(beijing_time)
                    .unwrap_or_default(),
                sent: it.sent_at.as_deref().map(beijing_time).unwrap_or_default(),
                it,
            })
            .collect(),
        pager,
        base: list_base(
            "/admin/outbox",
            &[("status", &q.status), ("channel", &q.channel), ("q", &q.q)],
        ),
        may_retry: me.can(Action::OutboxRetry),
    }))
}

async fn retry_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    retry(&state, &me, id).await?;
    Ok(Redirect::to("/admin/outbox?status=pending&msg=requeued").into_response())
}

#[utoipa::path(get, path = "/api/v1/outbox", tag = "消息外发", operation_id = "list_outbox",
    params(("status" = Option<String>, Query, description = "pending | sent | failed"), ("channel" = Option<String>, Query, description = "sms | email"),
        ("q" = Option<String>, Query, description = "接收人、标题、内容、类型或错误"), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = crate::api::schema::PageOf<OutboxItem>, description = "外发消息（短信、邮件），最新在前；接收人已脱敏"),
        (status = 422, body = crate::api::ErrorBody, description = "状态或渠道取值有误")))]
async fn api_list(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Json<store::Page<OutboxItem>>, AppError> {
    Ok(Json(list(&state, &me, &q).await?))
}

#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "消息外发", operation_id = "retry_outbox", params(("id" = i64, Path)),
    responses((status = 200, body = OutboxItem, description = "已重新排队（待发送，尝试次数从零计），并记入审计日志"),
        (status = 400, body = crate::api::ErrorBody, description = "只有发送失败的消息可以重新发送"),
        (status = 404, body = crate::api::ErrorBody, description = "消息不存在")))]
async fn api_retry(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Json<OutboxItem>, AppError> {
    Ok(Json(retry(&state, &me, id).await?))
}
