//! 机构备案: applications, their items and events, exception requests (特殊情况申请),
//! campaign deadlines and the review supervisor. Transitions are decided in
//! `domain::filing::decide`; [`Store::apply_filing`] persists one in one transaction with an
//! optimistic version check, its event row and its audit event.

use chrono::NaiveDate;
use domain::calendar::CalendarBasis;
use domain::filing::{Effect, FilingKind, FilingState, Outcome, ReviewMode, Route};
use domain::institution::InstitutionKind;
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::db::WriteTx;
use crate::sql::{code, code_opt, Arg, Where};
use crate::{now_text, Page, PageRequest, Result, Store, StoreError};

mod exceptions;
mod quota;
mod rounds;
mod transitions;

pub use exceptions::*;
pub(crate) use quota::*;
pub use rounds::*;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FilingItem {
    pub occupation_id: i64,
    pub code: String,
    pub name: String,
    /// `occupation` or `special`.
    pub kind: String,
    /// "5,4,3".
    pub levels: String,
    /// false: 增级别 on an occupation the institution already holds (一(四)).
    pub new_occupation: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FilingApp {
    pub id: i64,
    pub kind: FilingKind,
    pub route: Route,
    pub institution_id: i64,
    pub institution_name: String,
    pub institution_kind: InstitutionKind,
    pub credit_code: String,
    pub district_code: String,
    pub district_name: String,
    pub state: FilingState,
    pub state_since: String,
    pub note: String,
    pub shared_resources: String,
    pub commitment: String,
    pub waiver: bool,
    pub waiver_by: Option<String>,
    pub waiver_reason: Option<String>,
    pub district_opinion: Option<String>,
    pub center_approved_by: Option<String>,
    pub center_approved_at: Option<String>,
    pub division_approved_by: Option<String>,
    pub division_approved_at: Option<String>,
    pub publicity_start: Option<String>,
    pub publicity_end: Option<String>,
    pub filing_no: Option<String>,
    pub filed_on: Option<String>,
    pub campaign_id: Option<i64>,
    pub campaign_deadline: Option<String>,
    pub submitted_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    /// Whether the 公示期 was computed on a provisional calendar.
    pub publicity_calendar: CalendarBasis,
    /// 一(四): the round an increment was first submitted in ("2026-03", "extra-2").
    pub increment_round: Option<String>,
    pub items: Vec<FilingItem>,
    /// 评审方式 and why.
    pub review_mode: Option<ReviewMode>,
    pub review_mode_reason: Option<String>,
    /// 三(一): why levels above 三级 were accepted at a first filing (city route).
    pub high_level_reason: Option<String>,
    /// The expert panel's conclusion, recorded with the 初评结果意见.
    pub panel_conclusion: Option<String>,
    /// Why the application went on although most experts said 不通过.
    pub panel_override_reason: Option<String>,
}

impl FilingApp {
    /// 公示期 as shown on pages, in the API and on printouts (one format everywhere).
    pub fn publicity_text(&self) -> Option<String> {
        Some(period_text(
            self.publicity_start.as_deref()?,
            self.publicity_end.as_deref()?,
            self.publicity_calendar,
        ))
    }

    pub fn state(&self) -> FilingState {
        self.state
    }
    pub fn publicity_end_date(&self) -> Option<NaiveDate> {
        publicity_end_date(self.publicity_end.as_deref())
    }

    /// The facts the workflow decides on.
    pub fn workflow_state(&self) -> domain::filing::AppState {
        workflow_state(
            self.kind,
            self.institution_kind,
            self.state,
            self.center_approved_by.is_some(),
            self.division_approved_by.is_some(),
            &self.commitment,
            self.publicity_end.as_deref(),
        )
    }
}

fn publicity_end_date(end: Option<&str>) -> Option<NaiveDate> {
    end.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// The workflow's facts from the columns of an application (the application page and the
/// work queue's row, `crate::queue`, read them alike).
pub(crate) fn workflow_state(
    kind: FilingKind,
    institution_kind: InstitutionKind,
    state: FilingState,
    center_approved: bool,
    division_approved: bool,
    commitment: &str,
    publicity_end: Option<&str>,
) -> domain::filing::AppState {
    domain::filing::AppState {
        flow: domain::filing::Flow::of(kind, institution_kind),
        state,
        center_approved,
        division_approved,
        has_commitment: !commitment.trim().is_empty(),
        publicity_end: publicity_end_date(publicity_end),
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FilingEvent {
    pub id: i64,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub actor: String,
    pub role: String,
    pub reason: String,
    pub attachments: String,
    pub at: String,
}

#[derive(Debug, Clone, Default)]
pub struct FilingFilter {
    pub q: Option<String>,
    pub district: Option<String>,
    pub kind: Option<String>,
    pub state: Option<String>,
    /// Occupation code.
    pub occupation: Option<String>,
    pub campaign: Option<i64>,
}

/// A new draft.
#[derive(Debug, Clone)]
pub struct NewFiling {
    pub kind: String,
    pub route: String,
    pub institution_id: i64,
    pub district_code: String,
    /// (occupation id, levels "5,4,3").
    pub items: Vec<(i64, String)>,
    pub note: String,
    pub shared_resources: String,
    pub commitment: String,
}

/// The per-district quota re-check at 初审 (一(一)).
#[derive(Debug, Clone)]
pub struct QuotaRecheck {
    pub limit: i64,
    /// The refusal's message, naming the clause.
    pub message: String,
    /// Filing kinds and institution kinds the quota counts (policy `quota_filing_kinds`).
    pub filing_kinds: Vec<String>,
    pub institution_kinds: Vec<String>,
}

/// Extra data a transition may carry.
#[derive(Debug, Clone, Default)]
pub struct TransitionInput {
    pub reason: String,
    /// Document ids or names attached to the event (JSON array text).
    pub attachments: Vec<String>,
    /// Today in China time: the filing date, and the closing date (办结日期) of a terminal state
    /// from which the retention period runs (`domain::retention`).
    pub today: Option<NaiveDate>,
    /// Re-check the per-district quota inside the transaction (初审 pass). Occupations named by
    /// an exception this application may use are skipped.
    pub quota_recheck: Option<QuotaRecheck>,
}

const COLUMNS: &str = "a.id, a.kind, a.route, a.institution_id, i.name, i.kind, i.credit_code, a.district_code, d.name, a.state, a.state_since, a.note, a.shared_resources, a.commitment, a.waiver, a.waiver_by, a.waiver_reason, a.district_opinion, a.center_approved_by, a.center_approved_at, a.division_approved_by, a.division_approved_at, a.publicity_start, a.publicity_end, a.filing_no, a.filed_on, a.campaign_id, c.deadline, a.submitted_at, a.created_at, a.updated_at, a.version, a.review_mode, a.review_mode_reason, a.high_level_reason, a.panel_conclusion, a.panel_override_reason, a.publicity_calendar, a.increment_round";
pub(crate) const FROM: &str = "filing_applications a JOIN institutions i ON i.id = a.institution_id JOIN divisions d ON d.code = a.district_code LEFT JOIN filing_campaigns c ON c.id = a.campaign_id";

/// The columns of an item (`it`) with its occupation (`o`), read by [`item_row`].
const ITEM_COLUMNS: &str = "o.id, o.code, o.name, o.kind, it.levels, it.new_occupation";
/// How many columns `COLUMNS` has: where the item's columns start after them.
const COLUMN_COUNT: usize = 39;

/// The item whose columns start at `at`, if the row has one (a left join may have none).
fn item_row(r: &AnyRow, at: usize) -> Result<Option<FilingItem>> {
    let Some(occupation_id) = r.try_get::<Option<i64>, _>(at)? else {
        return Ok(None);
    };
    Ok(Some(FilingItem {
        occupation_id,
        code: r.try_get(at + 1)?,
        name: r.try_get(at + 2)?,
        kind: r.try_get(at + 3)?,
        levels: r.try_get(at + 4)?,
        new_occupation: r.try_get::<i64, _>(at + 5)? != 0,
    }))
}

fn from_row(r: &AnyRow) -> Result<FilingApp> {
    Ok(FilingApp {
        id: r.get(0),
        kind: code(r, 1)?,
        route: code(r, 2)?,
        institution_id: r.get(3),
        institution_name: r.get(4),
        institution_kind: code(r, 5)?,
        credit_code: r.get(6),
        district_code: r.get(7),
        district_name: r.get(8),
        state: code(r, 9)?,
        state_since: r.get(10),
        note: r.get(11),
        shared_resources: r.get(12),
        commitment: r.get(13),
        waiver: r.get::<i64, _>(14) != 0,
        waiver_by: r.get(15),
        waiver_reason: r.get(16),
        district_opinion: r.get(17),
        center_approved_by: r.get(18),
        center_approved_at: r.get(19),
        division_approved_by: r.get(20),
        division_approved_at: r.get(21),
        publicity_start: r.get(22),
        publicity_end: r.get(23),
        filing_no: r.get(24),
        filed_on: r.get(25),
        campaign_id: r.get(26),
        campaign_deadline: r.get(27),
        submitted_at: r.get(28),
        created_at: r.get(29),
        updated_at: r.get(30),
        version: r.get(31),
        publicity_calendar: CalendarBasis::parse(&r.get::<String, _>(37))
            .unwrap_or(CalendarBasis::Official),
        increment_round: r.get(38),
        items: vec![],
        review_mode: code_opt(r, 32)?,
        review_mode_reason: r.get(33),
        high_level_reason: r.get(34),
        panel_conclusion: r.get(35),
        panel_override_reason: r.get(36),
    })
}

/// A stored 公示期 ("2026年12月03日至2026年12月09日", with the provisional note when it applies):
/// one format for every publicity period.
pub fn period_text(from: &str, until: &str, basis: CalendarBasis) -> String {
    let fmt = |d: &str| {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(|d| d.format("%Y年%m月%d日").to_string())
            .unwrap_or_else(|_| d.to_string())
    };
    format!("{}至{}{}", fmt(from), fmt(until), basis.note())
}

/// Restrict a query on applications (alias `a`) to what `scope` may see. Drafts are the
/// institution's own work: officers see an application once it is submitted.
/// The conditions of the filing list (also a source of the work queue, `crate::queue`).
pub(crate) fn filing_filter(w: &mut Where, scope: &Scope, f: &FilingFilter) {
    scope_filings(w, scope);
    w.search(&["i.name", "i.credit_code", "a.filing_no"], f.q.as_deref());
    w.eq_text("a.district_code", f.district.as_deref());
    w.eq_text("a.kind", f.kind.as_deref());
    w.eq_text("a.state", f.state.as_deref());
    if let Some(code) = f.occupation.as_deref().filter(|c| !c.trim().is_empty()) {
        let p = w.arg(Arg::Text(code.trim().to_string()));
        w.raw(format!("a.id IN (SELECT it.application_id FROM filing_items it JOIN occupations o ON o.id = it.occupation_id WHERE o.code = {p})"));
    }
    if let Some(c) = f.campaign {
        w.eq_int("a.campaign_id", c);
    }
}

/// The order of the filing list: oldest state first.
pub(crate) const FILING_ORDER: &str = "a.state_since, a.id";

pub(crate) fn scope_filings(w: &mut Where, scope: &Scope) {
    match scope {
        Scope::City => w.raw("a.state <> 'draft'"),
        Scope::District(d) => {
            let p = w.arg(Arg::Text(d.clone()));
            w.raw(format!("a.district_code = {p} AND a.state <> 'draft'"));
        }
        Scope::Institution(id) => w.eq_int("a.institution_id", *id),
        Scope::Assigned(uid) => {
            let p1 = w.arg(Arg::Int(*uid));
            let p2 = w.arg(Arg::Int(*uid));
            w.raw(format!(
                "(a.id IN (SELECT dm.application_id FROM draw_members dm JOIN experts e ON e.id = dm.expert_id JOIN expert_draws x ON x.id = dm.draw_id \
                 WHERE e.user_id = {p1} AND dm.status <> 'declined' AND x.status = 'drawn') \
                 OR a.id IN (SELECT fs.application_id FROM filing_supervisors fs WHERE fs.user_id = {p2} AND fs.status = 'dispatched'))"
            ));
        }
    }
}

async fn insert_items(tx: &mut WriteTx, id: i64, items: &[(i64, String)]) -> Result<()> {
    sqlx::query("DELETE FROM filing_items WHERE application_id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    // An occupation the institution already holds is 增级别 (一(四)): it adds levels, not an occupation.
    for (occ, levels) in items {
        sqlx::query(
            "INSERT INTO filing_items (application_id, occupation_id, levels, new_occupation) VALUES ($1, $2, $3, \
             CASE WHEN EXISTS (SELECT 1 FROM filed_occupations f JOIN filing_applications a ON a.institution_id = f.institution_id \
                               WHERE a.id = $4 AND f.occupation_id = $5 AND f.revoked_at IS NULL) THEN 0 ELSE 1 END)",
        )
        .bind(id)
        .bind(*occ)
        .bind(levels)
        .bind(id)
        .bind(*occ)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

impl Store {
    /// An active catalogue entry by code and kind (`occupation` | `special`).
    pub async fn occupation_by_code(
        &self,
        code: &str,
        kind: &str,
    ) -> Result<Option<(i64, String, String)>> {
        Ok(sqlx::query(
            "SELECT id, name, levels FROM occupations WHERE code = $1 AND kind = $2 AND active = 1 ORDER BY id LIMIT 1",
        )
        .bind(code.trim())
        .bind(kind)
        .fetch_optional(&self.db.pool)
        .await?
        .map(|r| (r.get(0), r.get(1), r.get(2))))
    }

    pub async fn create_filing(&self, actor: &Actor, new: &NewFiling) -> Result<i64> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO filing_applications (kind, route, institution_id, district_code, state, state_since, note, shared_resources, commitment, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(&new.kind)
        .bind(&new.route)
        .bind(new.institution_id)
        .bind(&new.district_code)
        .bind(&now)
        .bind(&new.note)
        .bind(&new.shared_resources)
        .bind(&new.commitment)
        .bind(&actor.username)
        .bind(&now)
        .bind(&now)
        .fetch_one(tx.conn())
        .await?
        .get(0);
        insert_items(&mut tx, id, &new.items).await?;
        event(&mut tx, actor, id, "filing.create", "", "draft", "", &[]).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Edit a draft or a returned application (the caller checked the state).
    pub async fn update_filing(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: i64,
        new: &NewFiling,
    ) -> Result<()> {
        let mut tx = self.db.write().await?;
        let n = sqlx::query("UPDATE filing_applications SET note = $1, shared_resources = $2, commitment = $3, updated_at = $4, version = version + 1 WHERE id = $5 AND version = $6 AND state IN ('draft', 'returned')")
            .bind(&new.note)
            .bind(&new.shared_resources)
            .bind(&new.commitment)
            .bind(now_text())
            .bind(id)
            .bind(expected_version)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        insert_items(&mut tx, id, &new.items).await?;
        let state: String = sqlx::query("SELECT state FROM filing_applications WHERE id = $1")
            .bind(id)
            .fetch_one(tx.conn())
            .await?
            .get(0);
        event(&mut tx, actor, id, "filing.edit", &state, &state, "", &[]).await?;
        tx.commit().await
    }

    /// Items of a page of applications in one query (ids are integers, inlined safely).
    /// One page of applications matching `w`, with their items, in one statement (a public
    /// page then costs one round trip, not two): the page's ids and ranks in a CTE, the items
    /// joined (one row per item), grouped back here in the page's order.
    pub(crate) async fn page_with_items(
        &self,
        w: &Where,
        order: &str,
        page: PageRequest,
    ) -> Result<Vec<FilingApp>> {
        let n = w.arg_count();
        let sql = format!(
            "WITH pg AS (SELECT a.id AS pid, ROW_NUMBER() OVER (ORDER BY {order}) AS pos FROM {FROM}{} ORDER BY {order} LIMIT ${} OFFSET ${}) \
             SELECT {COLUMNS}, {ITEM_COLUMNS} FROM {FROM} JOIN pg ON pg.pid = a.id \
             LEFT JOIN filing_items it ON it.application_id = a.id LEFT JOIN occupations o ON o.id = it.occupation_id \
             ORDER BY pg.pos, it.id",
            w.sql(),
            n + 1,
            n + 2
        );
        let rows = w
            .bind(sqlx::query(&sql))
            .bind(page.per_page)
            .bind(page.offset())
            .fetch_all(&self.db.pool)
            .await?;
        let mut apps: Vec<FilingApp> = vec![];
        for r in &rows {
            let id: i64 = r.get(0);
            if apps.last().is_none_or(|a| a.id != id) {
                apps.push(from_row(r)?);
            }
            if let Some(item) = item_row(r, COLUMN_COUNT)? {
                apps.last_mut().expect("pushed above").items.push(item);
            }
        }
        Ok(apps)
    }

    async fn load_items(&self, apps: &mut [FilingApp]) -> Result<()> {
        if apps.is_empty() {
            return Ok(());
        }
        let ids = apps
            .iter()
            .map(|a| a.id.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let rows = sqlx::query(&format!(
            "SELECT it.application_id, {ITEM_COLUMNS} FROM filing_items it JOIN occupations o ON o.id = it.occupation_id WHERE it.application_id IN ({ids}) ORDER BY it.id"
        ))
        .fetch_all(&self.db.pool)
        .await?;
        for r in &rows {
            let app_id: i64 = r.get(0);
            if let Some(a) = apps.iter_mut().find(|a| a.id == app_id) {
                a.items.extend(item_row(r, 1)?);
            }
        }
        Ok(())
    }

    /// One application if `scope` may see it; otherwise NotFound.
    pub async fn filing(&self, scope: &Scope, id: i64) -> Result<FilingApp> {
        let mut w = Where::new();
        w.eq_int("a.id", id);
        scope_filings(&mut w, scope);
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {COLUMNS} FROM {FROM}"),
                "a.id",
                PageRequest::new(Some(1), Some(1)),
            )
            .await?;
        let mut apps: Vec<FilingApp> = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        self.load_items(&mut apps).await?;
        apps.pop().ok_or(StoreError::NotFound)
    }

    pub async fn list_filings(
        &self,
        scope: &Scope,
        f: &FilingFilter,
        page: PageRequest,
    ) -> Result<Page<FilingApp>> {
        let mut w = Where::new();
        filing_filter(&mut w, scope, f);
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {COLUMNS} FROM {FROM}"),
                FILING_ORDER,
                page,
            )
            .await?;
        let total = w.total_after(&self.db, FROM, page, rows.len()).await?;
        let mut items: Vec<FilingApp> = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        self.load_items(&mut items).await?;
        Ok(Page {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    pub async fn filing_events(&self, id: i64) -> Result<Vec<FilingEvent>> {
        let rows = sqlx::query("SELECT id, action, from_state, to_state, actor, role, reason, attachments, at FROM filing_events WHERE application_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| FilingEvent {
                id: r.get(0),
                action: r.get(1),
                from_state: r.get(2),
                to_state: r.get(3),
                actor: r.get(4),
                role: r.get(5),
                reason: r.get(6),
                attachments: r.get(7),
                at: r.get(8),
            })
            .collect())
    }

    /// Institutions holding a slot for `occupation_id` in `district`, other than `institution_id`:
    /// filed institutions plus applications the district has accepted (past 初审, not finished).
    /// Drafts and applications awaiting 初审 do not count (see docs/notes/filing.md).
    /// Only filings of the quota kinds count (一(一): 社会培训评价组织), and filed institutions of
    /// the matching institution kinds.
    pub async fn quota_holders(
        &self,
        district: &str,
        occupation_id: i64,
        institution_id: i64,
        filing_kinds: &[String],
        institution_kinds: &[String],
    ) -> Result<i64> {
        let mut conn = self.db.pool.acquire().await?;
        quota_count(
            &mut conn,
            district,
            occupation_id,
            institution_id,
            filing_kinds,
            institution_kinds,
        )
        .await
    }

    /// 一(一): occupations of the applicant's other open (submitted, not withdrawn or rejected)
    /// filings of `filing_kinds`, and those it holds filed.
    pub async fn applicant_occupations(
        &self,
        institution_id: i64,
        except_app: Option<i64>,
        filing_kinds: &[String],
    ) -> Result<Vec<i64>> {
        let fk: Vec<&str> = domain::filing::FilingKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect();
        let rows = sqlx::query(&format!(
            "SELECT it.occupation_id FROM filing_items it JOIN filing_applications a ON a.id = it.application_id \
             WHERE a.institution_id = $1 AND a.id <> $2 AND a.kind IN ({}) AND a.state NOT IN ('draft', 'withdrawn', 'rejected') \
             AND NOT EXISTS ({USED_FOR}) \
             UNION SELECT f.occupation_id FROM filed_occupations f JOIN occupations o ON o.id = f.occupation_id \
             WHERE f.institution_id = $3 AND f.revoked_at IS NULL AND o.kind = 'occupation'",
            in_list(filing_kinds, &fk),
            USED_FOR = used_for("max_occupations_per_applicant"),
        ))
        .bind(institution_id)
        .bind(except_app.unwrap_or(-1))
        .bind(institution_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
    }

    /// 一(四): new occupations of the applicant's other increments in `round` (not drafts,
    /// withdrawn or rejected ones).
    pub async fn round_new_occupations(
        &self,
        institution_id: i64,
        round: &str,
        except_app: Option<i64>,
    ) -> Result<Vec<i64>> {
        let rows = sqlx::query(&format!(
            "SELECT DISTINCT it.occupation_id FROM filing_items it JOIN filing_applications a ON a.id = it.application_id \
             WHERE a.institution_id = $1 AND a.id <> $2 AND a.kind = 'increment' AND a.increment_round = $3 \
             AND it.new_occupation = 1 AND a.state NOT IN ('draft', 'withdrawn', 'rejected') AND NOT EXISTS ({})",
            used_for("increment_max_occupations")
        ))
        .bind(institution_id)
        .bind(except_app.unwrap_or(-1))
        .bind(round)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.iter().map(|r| r.get::<i64, _>(0)).collect())
    }

    /// Whether the institution holds filed occupations (catalogue of 职业（工种）): it adds more
    /// only through an increment (一(四)).
    pub async fn holds_filed_occupations(&self, institution_id: i64) -> Result<bool> {
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) FROM filed_occupations f JOIN occupations o ON o.id = f.occupation_id \
             WHERE f.institution_id = $1 AND f.revoked_at IS NULL AND o.kind = 'occupation'",
        )
        .bind(institution_id)
        .fetch_one(&self.db.pool)
        .await?
        .get(0);
        Ok(n > 0)
    }

    /// Whether `occupation_id` is filed for the institution (an increment item on it is 增级别).
    pub async fn holds_occupation(&self, institution_id: i64, occupation_id: i64) -> Result<bool> {
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) FROM filed_occupations WHERE institution_id = $1 AND occupation_id = $2 AND revoked_at IS NULL",
        )
        .bind(institution_id)
        .bind(occupation_id)
        .fetch_one(&self.db.pool)
        .await?
        .get(0);
        Ok(n > 0)
    }

    /// Exceptions application `app_id` (None: a new draft) of the institution may use on `today`.
    pub async fn usable_exceptions(
        &self,
        institution_id: i64,
        app_id: Option<i64>,
        today: NaiveDate,
    ) -> Result<Vec<domain::filing::GrantedException>> {
        let mut conn = self.db.pool.acquire().await?;
        usable_exceptions(&mut conn, institution_id, app_id, today).await
    }
}

/// Move an application to `to` if it is still at `expected_version` (optimistic check):
/// 0 rows means someone else acted first.
pub(crate) async fn advance_state(
    tx: &mut crate::WriteTx,
    app_id: i64,
    expected_version: i64,
    to: &str,
    now: &str,
) -> Result<()> {
    let n = sqlx::query("UPDATE filing_applications SET state = $1, state_since = $2, updated_at = $3, version = version + 1 WHERE id = $4 AND version = $5")
        .bind(to)
        .bind(now)
        .bind(now)
        .bind(app_id)
        .bind(expected_version)
        .execute(tx.conn())
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// `page_with_items` reads the item's columns right after `COLUMNS`.
    #[test]
    fn column_count_matches_the_columns() {
        assert_eq!(super::COLUMNS.split(',').count(), super::COLUMN_COUNT);
    }
}
