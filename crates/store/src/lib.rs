//! Persistence for skilleval: one schema on SQLite (embedded, one app server) and PostgreSQL
//! (production, several app servers). Every write goes through [`WriteTx`], which also appends
//! the audit event of the change in the same transaction.

mod accounts;
pub mod anchor;
pub mod audit;
pub mod backup;
pub mod blobs;
mod cert_issue;
pub mod cert_sign;
mod certificates;
mod db;
mod documents;
mod error;
mod evaluation;
mod experts;
mod filed;
mod filing;
mod institutions;
mod jobs;
pub mod keys;
pub mod lease;
mod migrate;
mod notifications;
pub mod outbox;
mod outreach;
mod plans;
mod queue;
mod reference;
pub mod retention;
mod review;
mod sessions;
mod sql;
mod stats;

pub mod demo;
pub mod demo_certificates;
mod demo_filing;
mod demo_filing_review;
pub mod demo_filing_rules;
mod demo_inst_plans;
mod demo_plans;
mod demo_retention;
pub mod testing;

pub use accounts::{Account, NewAccount, PasswordParams, UserFilter};
pub use audit::{Actor, AuditFilter, AuditRow, NewEvent, VerifyReport};
pub use blobs::{BlobStore, LocalBlobStore, StoredBlob};
pub use cert_issue::{CertBatch, CertChange, Compose, IssueCandidate, IssueDraft, Sign, Signed};
pub use certificates::{Certificate, CertificateFilter, PublicCertificate};
pub use db::{redact_url, Backend, Db, WriteTx};
pub use documents::{Document, DocumentVersions, NewDocument, PERSONAL_OWNER_TYPES};
pub use error::StoreError;
pub use evaluation::{
    Assignment, Candidate, CandidateImport, Letter, NewCandidate, PublicResult, Relation, Report,
    ScoreUpdate, Signature,
};
pub use experts::{DrawMember, DrawRow, Expert, ExpertFilter, NewExpert};
pub use filed::FiledOccupation;
pub use filing::{
    Campaign, ExceptionRow, FilingApp, FilingEvent, FilingFilter, FilingItem, IncrementRound,
    NewFiling, PublicFiled, QuotaRecheck, TransitionInput,
};
pub use institutions::{Institution, InstitutionFilter, InstitutionInput};
pub use jobs::{Job, JobDone, STALE_AFTER_MINUTES};
pub use keys::{KeyError, Keys};
pub use lease::{Lease, LeaseOn};
pub use migrate::{StartupLock, MIGRATIONS};
pub use notifications::{NewNotification, Notification, OutboxMessage};
pub use outbox::{
    Deliver, Delivered, DeliveryError, DeliveryFuture, OutboxFilter, OutboxRow, OutboxTally,
};
pub use outreach::{
    Enterprise, EnterpriseFilter, Guidance, NewEnterprise, NewRegistration, Registration,
};
pub use plans::{
    Efiling, EfilingFilter, PaperReceipt, Plan, PlanEvent, PlanFilter, PlanInput, UploadedFile,
};
pub use queue::{
    QueueCertChange, QueueEfiling, QueueException, QueueFiling, QueueInstitution, QueuePlan,
    QueueRegistration, QueueRetention, QueueRows, QueueSource,
};
pub use reference::{CalendarDayRow, Division, Occupation, OccupationFilter, ReferenceFiles};
pub use retention::{Disposal, Hold, PaperFilter, PaperRecord, RetentionFilter, RetentionRecord};
pub use review::{Dispatch, DistrictMove, FilingSupervisor, ProvinceReport};
pub use sessions::{token_digest, ApiToken, LoginLimits, LoginOutcome, SessionInfo};
pub use stats::{Statistics, Tally};

use chrono::{SecondsFormat, Utc};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The store handle shared by every request: the database, the password parameters, the blob
/// store of uploaded files and the configured keys.
#[derive(Clone)]
pub struct Store {
    pub db: Db,
    pub passwords: PasswordParams,
    /// Uploaded bytes. [`Store::open`] leaves it unconfigured (uploads fail with a Chinese
    /// message); set a real one with [`Store::with_blobs`].
    pub blobs: std::sync::Arc<dyn BlobStore>,
    /// Keys from configuration ([`Store::with_keys`]); unconfigured after [`Store::open`], when
    /// ID hashing and letter signing fail with a Chinese message.
    pub keys: std::sync::Arc<Keys>,
    /// The public-query rate limit's window on SQLite (one app server: kept in memory).
    pub(crate) query_hits: std::sync::Arc<certificates::QueryHits>,
}

impl Store {
    pub async fn open(url: &str, max_connections: u32, passwords: PasswordParams) -> Result<Store> {
        let db = Db::connect(url, max_connections).await?;
        Ok(Store {
            db,
            passwords,
            blobs: std::sync::Arc::new(blobs::UnconfiguredBlobStore),
            keys: std::sync::Arc::new(Keys::default()),
            query_hits: Default::default(),
        })
    }

    /// Use `blobs` for uploaded files (the binary passes `<data-dir>/blobs`, tests a temp dir).
    pub fn with_blobs(mut self, blobs: std::sync::Arc<dyn BlobStore>) -> Store {
        self.blobs = blobs;
        self
    }
}

/// What `Debug` shows in place of a password or key.
pub const HIDDEN: &str = "<hidden>";

/// A page of a list: every list in the platform is paginated.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// A requested page, clamped to sane bounds.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub page: i64,
    pub per_page: i64,
}

impl PageRequest {
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> PageRequest {
        PageRequest {
            // A page number from outside may be anything: far past every list, never an
            // overflow (found by fuzz_parsers_short: page=3757602729477869419 was a 500).
            page: page.unwrap_or(1).clamp(1, 1_000_000_000),
            per_page: per_page.unwrap_or(20).clamp(1, 200),
        }
    }
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

/// Timestamps are stored as fixed-width RFC 3339 UTC text, so text order is time order.
pub fn now_text() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn time_text(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Escape `%` and `_` for a LIKE pattern (with `ESCAPE '\'`).
pub(crate) fn like_pattern(q: &str) -> String {
    let mut s = String::from("%");
    for c in q.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn page_far_past_every_list_does_not_overflow() {
        let p = super::PageRequest::new(Some(i64::MAX), Some(200));
        assert!(p.offset() > 0);
        assert_eq!(super::PageRequest::new(Some(-5), None).offset(), 0);
    }
}
