//! 二、评价管理: electronic filing, evaluation plans and their transitions. The web layer asks
//! the domain for the next state; this module persists it with an optimistic version check and
//! the audit event in the same transaction.

use domain::plan::PlanStatus;
use domain::plan::ResultsStatus;
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::sql::{Arg, Where};
use crate::{now_text, Page, PageRequest, Result, Store, StoreError};

mod efilings;
mod transitions;
pub use efilings::*;

// ---------------------------------------------------------------------------------------------
// Electronic filing

fn scope_by_owner(w: &mut Where, scope: &Scope, district_col: &str, inst_col: &str) {
    match scope {
        Scope::City => {}
        Scope::District(d) => {
            let p = w.arg(Arg::Text(d.clone()));
            w.raw(format!("{district_col} = {p}"));
        }
        Scope::Institution(id) => w.eq_int(inst_col, *id),
        Scope::Assigned(_) => w.raw("1 = 0"),
    }
}

/// The conditions of the plan list (also a source of the work queue, `crate::queue`).
pub(crate) fn plan_filter(w: &mut Where, scope: &Scope, f: &PlanFilter) {
    scope_plans(w, scope);
    w.search(
        &["p.plan_no", "i.name", "o.name", "o.code", "p.venue"],
        f.q.as_deref(),
    );
    w.eq_text("p.status", f.status.as_deref());
    w.eq_text("p.district_code", f.district.as_deref());
    w.eq_text("p.results_status", f.results_status.as_deref());
    if let Some(day) = f.results_publicity_on {
        let d = w.arg(Arg::Text(day.to_string()));
        w.raw(format!("p.results_publicity_until >= {d}"));
    }
    if let Some(side) = f.without_supervisor {
        let x = w.arg(Arg::Text(side.to_string()));
        w.raw(format!("NOT EXISTS (SELECT 1 FROM supervision_assignments sa WHERE sa.plan_id = p.id AND sa.side = {x})"));
    }
    if f.certificates_waiting {
        w.raw("p.results_status = 'submitted' AND NOT EXISTS (SELECT 1 FROM cert_batches cb WHERE cb.plan_id = p.id AND cb.status = 'done')");
    }
}

/// The order of the plan list.
pub(crate) const PLAN_ORDER: &str = "p.start_date DESC, p.id DESC";

/// Restrict a query on plans (alias `p`): supervisors see only the plans they are assigned to.
pub(crate) fn scope_plans(w: &mut Where, scope: &Scope) {
    match scope {
        Scope::Assigned(uid) => {
            let p = w.arg(Arg::Int(*uid));
            w.raw(format!(
                "EXISTS (SELECT 1 FROM supervision_assignments a WHERE a.plan_id = p.id AND a.supervisor_id = {p})"
            ));
        }
        other => scope_by_owner(w, other, "p.district_code", "p.institution_id"),
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Plan {
    pub id: i64,
    pub plan_no: String,
    pub institution_id: i64,
    pub institution_name: String,
    pub district_code: String,
    pub district_name: String,
    pub occupation_id: i64,
    pub occupation_code: String,
    pub occupation_name: String,
    /// "5,4,3"
    pub levels: String,
    /// "theory,skill"
    pub forms: String,
    pub start_date: String,
    pub end_date: String,
    pub venue: String,
    pub expected_candidates: i64,
    pub examiners: String,
    pub internal_supervisor: String,
    pub status: PlanStatus,
    pub status_since: String,
    pub revision: i64,
    pub submitted_at: Option<String>,
    pub paper_received_by: Option<String>,
    pub paper_received_at: Option<String>,
    pub district_decided_by: Option<String>,
    pub district_decided_at: Option<String>,
    pub entered_at: Option<String>,
    pub city_confirmed_by: Option<String>,
    pub city_confirmed_at: Option<String>,
    pub last_reason: String,
    pub results_status: ResultsStatus,
    pub results_published_on: Option<String>,
    pub results_publicity_until: Option<String>,
    pub results_submitted_at: Option<String>,
    pub version: i64,
    pub created_at: String,
    /// First counted day of the results' 公示期.
    pub results_publicity_from: Option<String>,
    /// Whether the results' 公示期 was computed on a provisional calendar.
    pub results_publicity_calendar: domain::calendar::CalendarBasis,
    /// 二(二): the day the district received the paper plan (YYYY-MM-DD).
    pub paper_received_on: Option<String>,
    /// 二(三): the paper copy is kept until this day.
    pub paper_retention_until: Option<String>,
}

/// The district's record of the paper plan (二(二)), with its retention date (二(三)).
#[derive(Debug, Clone)]
pub struct PaperReceipt {
    pub received_on: String,
    pub retention_until: String,
}

impl Plan {
    /// The results' 公示期 as shown on pages, in the API and on printouts.
    pub fn results_publicity_text(&self) -> Option<String> {
        let until = self.results_publicity_until.as_deref()?;
        let from = self
            .results_publicity_from
            .as_deref()
            .or(self.results_published_on.as_deref())?;
        Some(crate::filing::period_text(
            from,
            until,
            self.results_publicity_calendar,
        ))
    }

    pub fn status(&self) -> PlanStatus {
        self.status
    }
    pub fn levels(&self) -> Vec<domain::occupation::Level> {
        domain::occupation::parse_levels(&self.levels).unwrap_or_default()
    }
    pub fn forms(&self) -> Vec<domain::plan::EvalForm> {
        domain::plan::parse_forms(&self.forms).unwrap_or_default()
    }
}

/// Validated plan content (the web layer validates with the domain).
#[derive(Debug, Clone)]
pub struct PlanInput {
    pub occupation_id: i64,
    pub levels: String,
    pub forms: String,
    pub start_date: String,
    pub end_date: String,
    pub venue: String,
    pub expected_candidates: i64,
    pub examiners: String,
    pub internal_supervisor: String,
}

#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    pub q: Option<String>,
    pub status: Option<String>,
    pub district: Option<String>,
    pub results_status: Option<String>,
    /// Only plans whose results' 公示 is still running on this day (public lists).
    pub results_publicity_on: Option<chrono::NaiveDate>,
    /// Only plans without a supervisor of this side (`city` or `district`) yet (work queues).
    pub without_supervisor: Option<&'static str>,
    /// Only plans whose submitted results wait for certificate data: no batch of theirs has
    /// finished yet (work queues; one indexed probe per plan, whatever the number of candidates).
    pub certificates_waiting: bool,
}

const PLAN_COLUMNS: &str = "p.id, p.plan_no, p.institution_id, i.name, p.district_code, d.name, p.occupation_id, o.code, o.name, p.levels, p.forms, p.start_date, p.end_date, p.venue, p.expected_candidates, p.examiners, p.internal_supervisor, p.status, p.status_since, p.revision, p.submitted_at, p.paper_received_by, p.paper_received_at, p.district_decided_by, p.district_decided_at, p.entered_at, p.city_confirmed_by, p.city_confirmed_at, p.last_reason, p.results_status, p.results_published_on, p.results_publicity_until, p.results_submitted_at, p.version, p.created_at, p.results_publicity_from, p.results_publicity_calendar, p.paper_received_on, p.paper_retention_until";
pub(crate) const PLAN_FROM: &str = "plans p JOIN institutions i ON i.id = p.institution_id JOIN divisions d ON d.code = p.district_code JOIN occupations o ON o.id = p.occupation_id";

fn plan_row(r: &AnyRow) -> Result<Plan> {
    Ok(Plan {
        id: r.get(0),
        plan_no: r.get(1),
        institution_id: r.get(2),
        institution_name: r.get(3),
        district_code: r.get(4),
        district_name: r.get(5),
        occupation_id: r.get(6),
        occupation_code: r.get(7),
        occupation_name: r.get(8),
        levels: r.get(9),
        forms: r.get(10),
        start_date: r.get(11),
        end_date: r.get(12),
        venue: r.get(13),
        expected_candidates: r.get(14),
        examiners: r.get(15),
        internal_supervisor: r.get(16),
        status: crate::sql::code(r, 17)?,
        status_since: r.get(18),
        revision: r.get(19),
        submitted_at: r.get(20),
        paper_received_by: r.get(21),
        paper_received_at: r.get(22),
        district_decided_by: r.get(23),
        district_decided_at: r.get(24),
        entered_at: r.get(25),
        city_confirmed_by: r.get(26),
        city_confirmed_at: r.get(27),
        last_reason: r.get(28),
        results_status: crate::sql::code(r, 29)?,
        results_published_on: r.get(30),
        results_publicity_until: r.get(31),
        results_submitted_at: r.get(32),
        version: r.get(33),
        created_at: r.get(34),
        results_publicity_from: r.get(35),
        results_publicity_calendar: domain::calendar::CalendarBasis::parse(&r.get::<String, _>(36))
            .unwrap_or(domain::calendar::CalendarBasis::Official),
        paper_received_on: r.get(37),
        paper_retention_until: r.get(38),
    })
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanEvent {
    pub revision: i64,
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    pub actor: String,
    pub reason: String,
    pub at: String,
}

fn snapshot(p: &Plan) -> String {
    serde_json::json!({
        "occupation_id": p.occupation_id, "levels": p.levels, "forms": p.forms,
        "start_date": p.start_date, "end_date": p.end_date, "venue": p.venue,
        "expected_candidates": p.expected_candidates, "examiners": p.examiners,
        "internal_supervisor": p.internal_supervisor, "revision": p.revision
    })
    .to_string()
}

impl Store {
    pub async fn plan(&self, scope: &Scope, id: i64) -> Result<Plan> {
        let mut w = Where::new();
        w.eq_int("p.id", id);
        scope_plans(&mut w, scope);
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {PLAN_COLUMNS} FROM {PLAN_FROM}"),
                "p.id",
                PageRequest::new(Some(1), Some(1)),
            )
            .await?;
        rows.first()
            .map(plan_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    pub async fn list_plans(
        &self,
        scope: &Scope,
        f: &PlanFilter,
        page: PageRequest,
    ) -> Result<Page<Plan>> {
        let mut w = Where::new();
        plan_filter(&mut w, scope, f);
        w.fetch_page(
            &self.db,
            PLAN_COLUMNS,
            PLAN_FROM,
            PLAN_ORDER,
            page,
            plan_row,
        )
        .await
    }

    pub async fn plan_events(&self, plan_id: i64) -> Result<Vec<PlanEvent>> {
        let rows = sqlx::query(
            "SELECT revision, action, from_status, to_status, actor, reason, at FROM plan_events WHERE plan_id = $1 ORDER BY id",
        )
        .bind(plan_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| PlanEvent {
                revision: r.get(0),
                action: r.get(1),
                from_status: r.get(2),
                to_status: r.get(3),
                actor: r.get(4),
                reason: r.get(5),
                at: r.get(6),
            })
            .collect())
    }

    /// A new draft plan of `institution_id`.
    pub async fn create_plan(
        &self,
        actor: &Actor,
        institution_id: i64,
        input: &PlanInput,
    ) -> Result<Plan> {
        let district = self.institution_district(institution_id).await?;
        let now = now_text();
        let mut tx = self.db.write().await?;
        // Plan number: JH-<institution>-<year>-<serial>, unique; temporary until the id is known.
        let tmp = format!("tmp-{}", rand::random::<u64>());
        let id: i64 = sqlx::query(
            "INSERT INTO plans (plan_no, institution_id, district_code, occupation_id, levels, forms, start_date, end_date, venue, expected_candidates, examiners, internal_supervisor, status, status_since, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft', $13, $14, $15, $16) RETURNING id",
        )
        .bind(&tmp)
        .bind(institution_id)
        .bind(&district)
        .bind(input.occupation_id)
        .bind(&input.levels)
        .bind(&input.forms)
        .bind(&input.start_date)
        .bind(&input.end_date)
        .bind(&input.venue)
        .bind(input.expected_candidates)
        .bind(&input.examiners)
        .bind(&input.internal_supervisor)
        .bind(&now)
        .bind(actor.user_id)
        .bind(&now)
        .bind(&now)
        .fetch_one(tx.conn())
        .await?
        .get(0);
        let plan_no = format!("JH{}{:06}", &input.start_date[..4], id);
        sqlx::query("UPDATE plans SET plan_no = $1 WHERE id = $2")
            .bind(&plan_no)
            .bind(id)
            .execute(tx.conn())
            .await?;
        sqlx::query("INSERT INTO plan_events (plan_id, revision, action, from_status, to_status, actor_id, actor, reason, snapshot, at) VALUES ($1, 1, 'create', '', 'draft', $2, $3, '', '', $4)")
            .bind(id)
            .bind(actor.user_id)
            .bind(&actor.username)
            .bind(&now)
            .execute(tx.conn())
            .await?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "plan.create",
                object_type: "plan",
                object_id: id.to_string(),
                summary: serde_json::json!({ "plan_no": plan_no, "institution_id": institution_id, "occupation_id": input.occupation_id, "levels": input.levels, "start": input.start_date }),
            },
        )
        .await?;
        tx.commit().await?;
        self.plan(&Scope::City, id).await
    }

    /// Change the content. `revise` = a change after approval: a new revision back to draft.
    /// `expected_status` is the status the caller decided on.
    pub async fn update_plan(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: i64,
        expected_version: i64,
        input: &PlanInput,
        revise: bool,
    ) -> Result<Plan> {
        let before = self.plan(scope, id).await?;
        let now = now_text();
        let (status, revision) = if revise {
            (PlanStatus::Draft, before.revision + 1)
        } else {
            (before.status, before.revision)
        };
        let mut tx = self.db.write().await?;
        let n = sqlx::query(
            "UPDATE plans SET occupation_id = $1, levels = $2, forms = $3, start_date = $4, end_date = $5, venue = $6, expected_candidates = $7, examiners = $8, internal_supervisor = $9, \
             status = $10, revision = $11, status_since = CASE WHEN status = $10 THEN status_since ELSE $12 END, updated_at = $12, version = version + 1 \
             WHERE id = $13 AND version = $14 AND status = $15",
        )
        .bind(input.occupation_id)
        .bind(&input.levels)
        .bind(&input.forms)
        .bind(&input.start_date)
        .bind(&input.end_date)
        .bind(&input.venue)
        .bind(input.expected_candidates)
        .bind(&input.examiners)
        .bind(&input.internal_supervisor)
        .bind(status.as_str())
        .bind(revision)
        .bind(&now)
        .bind(id)
        .bind(expected_version)
        .bind(before.status.as_str())
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        if revise {
            // A revised plan needs approval again: the letter and its signatures no longer apply.
            sqlx::query("UPDATE supervision_letters SET superseded_at = $1 WHERE plan_id = $2 AND superseded_at IS NULL")
                .bind(&now)
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
        sqlx::query("INSERT INTO plan_events (plan_id, revision, action, from_status, to_status, actor_id, actor, reason, snapshot, at) VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8, $9)")
            .bind(id)
            .bind(revision)
            .bind(if revise { "revise" } else { "edit" })
            .bind(before.status.as_str())
            .bind(status.as_str())
            .bind(actor.user_id)
            .bind(&actor.username)
            .bind(snapshot(&before))
            .bind(&now)
            .execute(tx.conn())
            .await?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: if revise { "plan.revise" } else { "plan.edit" },
                object_type: "plan",
                object_id: id.to_string(),
                summary: serde_json::json!({ "revision": revision, "before": serde_json::from_str::<serde_json::Value>(&snapshot(&before)).unwrap_or_default() }),
            },
        )
        .await?;
        tx.commit().await?;
        self.plan(scope, id).await
    }
}
