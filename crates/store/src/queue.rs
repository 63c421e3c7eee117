//! 工作台 in one statement: the rows of every source of a work queue and the dashboard's counts
//! as one `UNION ALL` (decision 132). Each source keeps the conditions (the same
//! filter functions as its list, so the same jurisdiction), the order and the limit of the list
//! the queue used to read, so the queue shows what it showed; a dashboard then costs one round
//! trip to the database instead of one per source.
//!
//! Every SELECT has the same shape: `k` (the source's index), `o` (the row's rank in its
//! source's order), `id`, `n` (a number), nine text slots and nothing else; the rows come back ordered by
//! source, then rank, and each source maps its slots into its typed row.

use chrono::NaiveDate;
use domain::filing::{FilingKind, FilingState};
use domain::institution::InstitutionKind;
use domain::Scope;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::sql::{parse_code, Where};
use crate::{
    EfilingFilter, FilingFilter, InstitutionFilter, PlanFilter, Result, RetentionFilter, Store,
};

/// One source of a work queue, or one count of the dashboard.
#[derive(Debug, Clone)]
pub enum QueueSource {
    /// Institutions missing a contact phone or business scope (the first 50).
    IncompleteInstitutions,
    /// The first 200 plans of the plan list with this filter.
    Plans(PlanFilter),
    /// Electronic filings waiting for the district (the first 200).
    SubmittedEfilings,
    /// The first 200 filing applications, in any state: the domain decides whose turn it is.
    Filings,
    /// Registrations waiting for the district (the first 100).
    PendingRegistrations,
    /// Retention records due on the given day (up to 10,000, as `retention::all` reads them).
    DueRetention,
    /// Institutions in scope.
    InstitutionCount,
    /// Accounts in scope.
    AccountCount,
    /// District officers' accounts (the first 200): which districts have one.
    DistrictAccounts,
    /// 特殊情况申请 waiting for the city (the first 200).
    PendingExceptions,
    /// Campaign filings still open after their deadline.
    OverdueFilingCount,
    /// Certificate revocations and corrections waiting for their second key (all).
    ProposedCertChanges,
}

/// What one source returned, in its list's order.
#[derive(Debug)]
pub enum QueueRows {
    Institutions(Vec<QueueInstitution>),
    Plans(Vec<QueuePlan>),
    Efilings(Vec<QueueEfiling>),
    Filings(Vec<QueueFiling>),
    Registrations(Vec<QueueRegistration>),
    Retention(Vec<QueueRetention>),
    /// The district codes of district accounts.
    Districts(Vec<Option<String>>),
    Exceptions(Vec<QueueException>),
    CertChanges(Vec<QueueCertChange>),
    Count(i64),
}

#[derive(Debug, Clone)]
pub struct QueueException {
    pub id: i64,
    pub institution_name: String,
    pub reason: String,
    pub occupation_name: Option<String>,
    pub raised_at: String,
    pub center_by: Option<String>,
    pub division_by: Option<String>,
}

#[derive(Debug, Clone)]
pub struct QueueCertChange {
    pub certificate_id: i64,
    pub cert_no: String,
    /// 撤销 or 更正.
    pub kind_label: &'static str,
    pub reason: String,
    pub proposed_by: String,
    pub proposed_role: String,
    pub proposed_at: String,
}

/// An institution whose profile lacks what review needs.
#[derive(Debug, Clone)]
pub struct QueueInstitution {
    pub id: i64,
    pub name: String,
    pub created_at: String,
}

/// What a queue entry shows of a plan.
#[derive(Debug, Clone)]
pub struct QueuePlan {
    pub id: i64,
    pub plan_no: String,
    pub institution_name: String,
    pub district_name: String,
    pub start_date: String,
    pub last_reason: String,
    pub results_status: domain::plan::ResultsStatus,
    pub results_publicity_until: Option<String>,
    pub results_submitted_at: Option<String>,
    pub status_since: String,
    /// With `PlanFilter::certificates_waiting`: passed candidates without a certificate yet.
    pub certificates_waiting: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct QueueEfiling {
    pub institution_id: i64,
    pub institution_name: String,
    pub submitted_at: Option<String>,
}

/// A filing application with the facts its workflow decides on.
#[derive(Debug, Clone)]
pub struct QueueFiling {
    pub id: i64,
    pub institution_name: String,
    pub state_since: String,
    pub workflow: domain::filing::AppState,
}

#[derive(Debug, Clone)]
pub struct QueueRegistration {
    pub id: i64,
    pub institution_name: String,
    pub filing_no: String,
    pub username: String,
    pub created_at: String,
}

/// A due retention record with what the two-key disposal needs.
#[derive(Debug, Clone)]
pub struct QueueRetention {
    pub id: i64,
    pub title: String,
    pub district_code: Option<String>,
    pub due_on: String,
    /// The reason of the oldest active legal hold, if any.
    pub hold: Option<String>,
    pub disposal_status: Option<domain::retention::DisposalStatus>,
    pub disposal_first_side: Option<String>,
}

impl QueueRetention {
    pub fn keeper(&self) -> domain::retention::Keeper {
        domain::retention::Keeper::of(self.district_code.as_deref())
    }
}

/// One SELECT of the statement: `id`, `n` and up to nine text slots (missing ones are NULL).
struct Branch<'a> {
    id: &'a str,
    n: Option<&'a str>,
    slots: &'a [&'a str],
    from: &'a str,
    order: &'a str,
    limit: Option<i64>,
}

const SLOTS: usize = 9;

impl Branch<'_> {
    fn sql(&self, k: usize, w: &mut Where) -> String {
        debug_assert!(self.slots.len() <= SLOTS);
        let mut cols = vec![
            format!("CAST({k} AS BIGINT) AS k"),
            match self.limit {
                Some(_) => format!("ROW_NUMBER() OVER (ORDER BY {}) AS o", self.order),
                None => "CAST(0 AS BIGINT) AS o".into(),
            },
            format!("{} AS id", self.id),
            format!("{} AS n", self.n.unwrap_or("CAST(NULL AS BIGINT)")),
        ];
        for i in 0..SLOTS {
            let expr = self.slots.get(i).copied().unwrap_or("CAST(NULL AS TEXT)");
            cols.push(format!("{expr} AS t{i}"));
        }
        let tail = match self.limit {
            Some(n) => format!(" ORDER BY {} LIMIT {n}", self.order),
            None => String::new(),
        };
        // A subquery per SELECT: SQLite allows ORDER BY and LIMIT only on a whole compound.
        format!(
            "SELECT * FROM (SELECT {} FROM {}{}{tail}) q{k}",
            cols.join(", "),
            self.from,
            w.take_sql()
        )
    }
}

/// Where the text slots start (after `k`, `o`, `id`, `n`).
const FIRST_SLOT: usize = 4;

fn text(r: &AnyRow, slot: usize) -> Result<String> {
    Ok(r.try_get::<Option<String>, _>(FIRST_SLOT + slot)?
        .unwrap_or_default())
}

fn text_opt(r: &AnyRow, slot: usize) -> Result<Option<String>> {
    Ok(r.try_get(FIRST_SLOT + slot)?)
}

/// Passed candidates of plan `p` without a certificate (`issue_candidates` with `issued` empty).
const CERTIFICATES_WAITING: &str = "(SELECT COUNT(*) FROM candidates wc WHERE wc.plan_id = p.id AND wc.passed = 1 AND NOT EXISTS (SELECT 1 FROM certificates wo WHERE wo.candidate_id = wc.id))";

impl Store {
    /// The rows of `sources` through `scope`, in one statement; `today` dates the due records.
    /// The answer has one entry per source, in the order asked.
    pub async fn work_queue(
        &self,
        scope: &Scope,
        today: NaiveDate,
        sources: &[QueueSource],
    ) -> Result<Vec<QueueRows>> {
        if sources.is_empty() {
            return Ok(vec![]);
        }
        let mut w = Where::new();
        let mut selects = Vec::with_capacity(sources.len());
        for (k, source) in sources.iter().enumerate() {
            let branch = match source {
                QueueSource::IncompleteInstitutions => {
                    crate::institutions::institution_filter(
                        &mut w,
                        scope,
                        &InstitutionFilter {
                            incomplete: true,
                            ..Default::default()
                        },
                    );
                    Branch {
                        id: "i.id",
                        n: None,
                        slots: &["i.name", "i.created_at"],
                        from: crate::institutions::FROM,
                        order: "i.id",
                        limit: Some(50),
                    }
                }
                QueueSource::Plans(f) => {
                    crate::plans::plan_filter(&mut w, scope, f);
                    Branch {
                        id: "p.id",
                        n: f.certificates_waiting.then_some(CERTIFICATES_WAITING),
                        slots: &[
                            "p.plan_no",
                            "i.name",
                            "d.name",
                            "p.start_date",
                            "p.last_reason",
                            "p.results_status",
                            "p.results_publicity_until",
                            "p.results_submitted_at",
                            "p.status_since",
                        ],
                        from: crate::plans::PLAN_FROM,
                        order: crate::plans::PLAN_ORDER,
                        limit: Some(200),
                    }
                }
                QueueSource::SubmittedEfilings => {
                    crate::plans::efiling_filter(
                        &mut w,
                        scope,
                        &EfilingFilter {
                            q: None,
                            status: Some("submitted".into()),
                        },
                    );
                    Branch {
                        id: "e.institution_id",
                        n: None,
                        slots: &["i.name", "e.submitted_at"],
                        from: crate::plans::EFILING_FROM,
                        order: crate::plans::EFILING_ORDER,
                        limit: Some(200),
                    }
                }
                QueueSource::Filings => {
                    crate::filing::filing_filter(&mut w, scope, &FilingFilter::default());
                    Branch {
                        id: "a.id",
                        n: None,
                        slots: &[
                            "i.name",
                            "a.kind",
                            "i.kind",
                            "a.state",
                            "a.center_approved_by",
                            "a.division_approved_by",
                            "a.commitment",
                            "a.publicity_end",
                            "a.state_since",
                        ],
                        from: crate::filing::FROM,
                        order: crate::filing::FILING_ORDER,
                        limit: Some(200),
                    }
                }
                QueueSource::PendingRegistrations => {
                    crate::outreach::registration_filter(&mut w, scope, Some("pending"));
                    Branch {
                        id: "r.id",
                        n: None,
                        slots: &["i.name", "r.filing_no", "u.username", "r.created_at"],
                        from: crate::outreach::REG_FROM,
                        order: crate::outreach::REG_ORDER,
                        limit: Some(100),
                    }
                }
                QueueSource::DueRetention => {
                    crate::retention::retention_filter(
                        &mut w,
                        scope,
                        &RetentionFilter {
                            state: Some("due".into()),
                            ..Default::default()
                        },
                        today,
                    );
                    Branch {
                        id: "r.id",
                        n: None,
                        slots: &[
                            "r.title",
                            "r.district_code",
                            "r.due_on",
                            crate::retention::ACTIVE_HOLD_REASON,
                            "x.status",
                            "x.first_side",
                        ],
                        from: crate::retention::RECORD_FROM,
                        order: "r.due_on, r.id",
                        limit: Some(10_000),
                    }
                }
                QueueSource::InstitutionCount => {
                    crate::institutions::institution_count_filter(
                        &mut w,
                        scope,
                        &InstitutionFilter::default(),
                    );
                    Branch {
                        id: "COUNT(*)",
                        n: None,
                        slots: &[],
                        from: crate::institutions::FROM,
                        order: "",
                        limit: None,
                    }
                }
                QueueSource::AccountCount => {
                    crate::accounts::scope_users(&mut w, scope);
                    Branch {
                        id: "COUNT(*)",
                        n: None,
                        slots: &[],
                        from: "users",
                        order: "",
                        limit: None,
                    }
                }
                QueueSource::DistrictAccounts => {
                    crate::accounts::account_filter(
                        &mut w,
                        scope,
                        &crate::UserFilter {
                            role: Some("district".into()),
                            ..Default::default()
                        },
                    );
                    Branch {
                        id: "id",
                        n: None,
                        slots: &["district_code"],
                        from: "users",
                        order: "id",
                        limit: Some(200),
                    }
                }
                QueueSource::PendingExceptions => {
                    crate::filing::exception_filter(&mut w, scope, Some("pending"));
                    Branch {
                        id: "x.id",
                        n: None,
                        slots: &[
                            "i.name",
                            "x.reason",
                            "o.name",
                            "x.raised_at",
                            "x.center_by",
                            "x.division_by",
                        ],
                        from: crate::filing::EXC_FROM,
                        order: crate::filing::EXC_ORDER,
                        limit: Some(200),
                    }
                }
                QueueSource::OverdueFilingCount => {
                    crate::filing::overdue_filter(&mut w, scope, today);
                    Branch {
                        id: "COUNT(*)",
                        n: None,
                        slots: &[],
                        from: crate::filing::FROM,
                        order: "",
                        limit: None,
                    }
                }
                QueueSource::ProposedCertChanges => {
                    // The city's own key (no scope column: only city roles have this source).
                    w.raw(crate::cert_issue::PROPOSED_CHANGES);
                    Branch {
                        id: "x.certificate_id",
                        n: None,
                        slots: &[
                            "c.cert_no",
                            "x.kind",
                            "x.reason",
                            "x.proposed_by",
                            "x.proposed_role",
                            "x.proposed_at",
                        ],
                        from: crate::cert_issue::CHANGE_FROM,
                        order: "x.id",
                        limit: Some(i64::MAX),
                    }
                }
            };
            selects.push(branch.sql(k, &mut w));
        }
        let sql = format!("{} ORDER BY k, o", selects.join(" UNION ALL "));
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.db.pool).await?;
        let mut out: Vec<QueueRows> = sources
            .iter()
            .map(|s| match s {
                QueueSource::IncompleteInstitutions => QueueRows::Institutions(vec![]),
                QueueSource::Plans(_) => QueueRows::Plans(vec![]),
                QueueSource::SubmittedEfilings => QueueRows::Efilings(vec![]),
                QueueSource::Filings => QueueRows::Filings(vec![]),
                QueueSource::PendingRegistrations => QueueRows::Registrations(vec![]),
                QueueSource::DueRetention => QueueRows::Retention(vec![]),
                QueueSource::DistrictAccounts => QueueRows::Districts(vec![]),
                QueueSource::PendingExceptions => QueueRows::Exceptions(vec![]),
                QueueSource::ProposedCertChanges => QueueRows::CertChanges(vec![]),
                QueueSource::InstitutionCount
                | QueueSource::AccountCount
                | QueueSource::OverdueFilingCount => QueueRows::Count(0),
            })
            .collect();
        for r in &rows {
            let k: i64 = r.try_get(0)?;
            let id: i64 = r.try_get(2)?;
            let Some(slot) = usize::try_from(k).ok().and_then(|k| out.get_mut(k)) else {
                continue;
            };
            match slot {
                QueueRows::Institutions(v) => v.push(QueueInstitution {
                    id,
                    name: text(r, 0)?,
                    created_at: text(r, 1)?,
                }),
                QueueRows::Plans(v) => v.push(QueuePlan {
                    id,
                    plan_no: text(r, 0)?,
                    institution_name: text(r, 1)?,
                    district_name: text(r, 2)?,
                    start_date: text(r, 3)?,
                    last_reason: text(r, 4)?,
                    results_status: parse_code(&text(r, 5)?)?,
                    results_publicity_until: text_opt(r, 6)?,
                    results_submitted_at: text_opt(r, 7)?,
                    status_since: text(r, 8)?,
                    certificates_waiting: r.try_get(3)?,
                }),
                QueueRows::Efilings(v) => v.push(QueueEfiling {
                    institution_id: id,
                    institution_name: text(r, 0)?,
                    submitted_at: text_opt(r, 1)?,
                }),
                QueueRows::Filings(v) => {
                    let kind: FilingKind = parse_code(&text(r, 1)?)?;
                    let institution_kind: InstitutionKind = parse_code(&text(r, 2)?)?;
                    let state: FilingState = parse_code(&text(r, 3)?)?;
                    v.push(QueueFiling {
                        id,
                        institution_name: text(r, 0)?,
                        state_since: text(r, 8)?,
                        workflow: crate::filing::workflow_state(
                            kind,
                            institution_kind,
                            state,
                            text_opt(r, 4)?.is_some(),
                            text_opt(r, 5)?.is_some(),
                            &text(r, 6)?,
                            text_opt(r, 7)?.as_deref(),
                        ),
                    })
                }
                QueueRows::Registrations(v) => v.push(QueueRegistration {
                    id,
                    institution_name: text(r, 0)?,
                    filing_no: text(r, 1)?,
                    username: text(r, 2)?,
                    created_at: text(r, 3)?,
                }),
                QueueRows::Retention(v) => v.push(QueueRetention {
                    id,
                    title: text(r, 0)?,
                    district_code: text_opt(r, 1)?,
                    due_on: text(r, 2)?,
                    hold: text_opt(r, 3)?,
                    disposal_status: text_opt(r, 4)?.map(|s| parse_code(&s)).transpose()?,
                    disposal_first_side: text_opt(r, 5)?,
                }),
                QueueRows::Districts(v) => v.push(text_opt(r, 0)?),
                QueueRows::Exceptions(v) => v.push(QueueException {
                    id,
                    institution_name: text(r, 0)?,
                    reason: text(r, 1)?,
                    occupation_name: text_opt(r, 2)?,
                    raised_at: text(r, 3)?,
                    center_by: text_opt(r, 4)?,
                    division_by: text_opt(r, 5)?,
                }),
                QueueRows::CertChanges(v) => v.push(QueueCertChange {
                    certificate_id: id,
                    cert_no: text(r, 0)?,
                    kind_label: crate::cert_issue::change_kind_label(parse_code(&text(r, 1)?)?),
                    reason: text(r, 2)?,
                    proposed_by: text(r, 3)?,
                    proposed_role: text(r, 4)?,
                    proposed_at: text(r, 5)?,
                }),
                QueueRows::Count(n) => *n = id,
            }
        }
        Ok(out)
    }
}
