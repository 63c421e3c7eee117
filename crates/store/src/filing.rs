//! 机构备案: applications, their items and events, exception requests (特殊情况申请),
//! campaign deadlines and the review supervisor. Transitions are decided in
//! `domain::filing::decide`; [`Store::apply_filing`] persists one in one transaction with an
//! optimistic version check, its event row and its audit event.

use chrono::NaiveDate;
use domain::calendar::CalendarBasis;
use domain::filing::{Effect, FilingState, Outcome};
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::db::WriteTx;
use crate::sql::{Arg, Where};
use crate::{now_text, Page, PageRequest, Result, Store, StoreError};

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
    #[cfg_attr(feature = "openapi", schema(value_type = domain::filing::FilingKind))]
    pub kind: String,
    pub route: String,
    pub institution_id: i64,
    pub institution_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = domain::institution::InstitutionKind))]
    pub institution_kind: String,
    pub credit_code: String,
    pub district_code: String,
    pub district_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = domain::filing::FilingState))]
    pub state: String,
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
    /// 评审方式 (`onsite` | `written`) and why.
    pub review_mode: Option<String>,
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
        FilingState::parse(&self.state).unwrap_or(FilingState::Draft)
    }
    pub fn publicity_end_date(&self) -> Option<NaiveDate> {
        self.publicity_end
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
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
    pub today: Option<NaiveDate>,
    pub retention_until: Option<String>,
    /// Re-check the per-district quota inside the transaction (初审 pass). Occupations named by
    /// an exception this application may use are skipped.
    pub quota_recheck: Option<QuotaRecheck>,
}

const COLUMNS: &str = "a.id, a.kind, a.route, a.institution_id, i.name, i.kind, i.credit_code, a.district_code, d.name, a.state, a.state_since, a.note, a.shared_resources, a.commitment, a.waiver, a.waiver_by, a.waiver_reason, a.district_opinion, a.center_approved_by, a.center_approved_at, a.division_approved_by, a.division_approved_at, a.publicity_start, a.publicity_end, a.filing_no, a.filed_on, a.campaign_id, c.deadline, a.submitted_at, a.created_at, a.updated_at, a.version, a.review_mode, a.review_mode_reason, a.high_level_reason, a.panel_conclusion, a.panel_override_reason, a.publicity_calendar, a.increment_round";
const FROM: &str = "filing_applications a JOIN institutions i ON i.id = a.institution_id JOIN divisions d ON d.code = a.district_code LEFT JOIN filing_campaigns c ON c.id = a.campaign_id";

fn from_row(r: &AnyRow) -> FilingApp {
    FilingApp {
        id: r.get(0),
        kind: r.get(1),
        route: r.get(2),
        institution_id: r.get(3),
        institution_name: r.get(4),
        institution_kind: r.get(5),
        credit_code: r.get(6),
        district_code: r.get(7),
        district_name: r.get(8),
        state: r.get(9),
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
        review_mode: r.get(32),
        review_mode_reason: r.get(33),
        high_level_reason: r.get(34),
        panel_conclusion: r.get(35),
        panel_override_reason: r.get(36),
    }
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

/// Quoted list of known keys for an `IN (...)` (the keys are checked against a fixed set).
fn in_list(keys: &[String], known: &[&str]) -> String {
    let v: Vec<String> = keys
        .iter()
        .filter(|k| known.contains(&k.as_str()))
        .map(|k| format!("'{k}'"))
        .collect();
    if v.is_empty() {
        "''".into()
    } else {
        v.join(", ")
    }
}

fn quota_sql(filing_kinds: &[String], institution_kinds: &[String]) -> String {
    let states: Vec<String> = FilingState::ALL
        .into_iter()
        .filter(|s| s.holds_quota_slot())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let fk: Vec<&str> = domain::filing::FilingKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    let ik: Vec<&str> = domain::institution::InstitutionKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    format!(
        "SELECT COUNT(DISTINCT t.inst) FROM ( \
           SELECT f.institution_id AS inst FROM filed_occupations f JOIN institutions i ON i.id = f.institution_id \
           WHERE i.district_code = $1 AND f.occupation_id = $2 AND f.revoked_at IS NULL AND i.kind IN ({}) \
           UNION \
           SELECT a.institution_id AS inst FROM filing_applications a JOIN filing_items it ON it.application_id = a.id \
           WHERE a.district_code = $3 AND it.occupation_id = $4 AND a.state IN ({}) AND a.kind IN ({}) \
         ) t WHERE t.inst <> $5",
        in_list(institution_kinds, &ik),
        states.join(", "),
        in_list(filing_kinds, &fk),
    )
}

async fn quota_count(
    conn: &mut sqlx::AnyConnection,
    district: &str,
    occupation_id: i64,
    institution_id: i64,
    filing_kinds: &[String],
    institution_kinds: &[String],
) -> Result<i64> {
    Ok(sqlx::query(&quota_sql(filing_kinds, institution_kinds))
        .bind(district)
        .bind(occupation_id)
        .bind(district)
        .bind(occupation_id)
        .bind(institution_id)
        .fetch_one(&mut *conn)
        .await?
        .get(0))
}

/// An item (`it`) of application `a` let through by an exception that application used: the
/// exception raised the applicant's allowance, so the occupation does not count again.
fn used_for(rule: &str) -> String {
    format!(
        "SELECT 1 FROM filing_exceptions x JOIN filing_exception_occupations xo ON xo.exception_id = x.id \
         WHERE x.used_by_application = a.id AND x.rule = '{rule}' AND xo.occupation_id = it.occupation_id"
    )
}

/// Exceptions usable by application `app_id` of `institution_id` on `today`: granted, and either
/// unused and not expired, or already used by this application.
const USABLE_EXCEPTIONS: &str = "SELECT x.id, x.rule FROM filing_exceptions x WHERE x.institution_id = $1 AND x.status = 'granted' \
     AND ((x.used_by_application IS NULL AND (x.expires_on IS NULL OR x.expires_on >= $2)) OR x.used_by_application = $3) ORDER BY x.id";

async fn usable_exceptions(
    conn: &mut sqlx::AnyConnection,
    institution_id: i64,
    app_id: Option<i64>,
    today: NaiveDate,
) -> Result<Vec<domain::filing::GrantedException>> {
    let rows = sqlx::query(USABLE_EXCEPTIONS)
        .bind(institution_id)
        .bind(today.to_string())
        .bind(app_id.unwrap_or(-1))
        .fetch_all(&mut *conn)
        .await?;
    let mut out = vec![];
    for r in &rows {
        let id: i64 = r.get(0);
        let occupations = sqlx::query(
            "SELECT occupation_id FROM filing_exception_occupations WHERE exception_id = $1 ORDER BY occupation_id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect();
        out.push(domain::filing::GrantedException {
            id,
            rule: r.get(1),
            occupations,
        });
    }
    Ok(out)
}

/// Key for `pg_advisory_xact_lock`, serialising quota re-checks of one district and occupation.
fn quota_lock_key(district: &str, occupation_id: i64) -> i64 {
    let mut h: i64 = 0x7175_6f74_6100_0000;
    for b in district.bytes() {
        h = h.wrapping_mul(31).wrapping_add(b as i64);
    }
    h.wrapping_mul(1_000_003).wrapping_add(occupation_id)
}

pub(crate) async fn event(
    tx: &mut WriteTx,
    actor: &Actor,
    application_id: i64,
    action: &str,
    from: &str,
    to: &str,
    reason: &str,
    attachments: &[String],
) -> Result<()> {
    sqlx::query("INSERT INTO filing_events (application_id, action, from_state, to_state, actor_id, actor, role, reason, attachments, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(application_id)
        .bind(action)
        .bind(from)
        .bind(to)
        .bind(actor.user_id)
        .bind(&actor.username)
        .bind(&actor.role)
        .bind(reason)
        .bind(serde_json::to_string(attachments).unwrap_or_else(|_| "[]".into()))
        .bind(now_text())
        .execute(tx.conn())
        .await?;
    append(
        tx,
        actor,
        NewEvent {
            action,
            object_type: "filing_application",
            object_id: application_id.to_string(),
            summary: serde_json::json!({ "from": from, "to": to, "reason": reason, "attachments": attachments }),
        },
    )
    .await?;
    Ok(())
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
            "SELECT it.application_id, o.id, o.code, o.name, o.kind, it.levels, it.new_occupation FROM filing_items it JOIN occupations o ON o.id = it.occupation_id WHERE it.application_id IN ({ids}) ORDER BY it.id"
        ))
        .fetch_all(&self.db.pool)
        .await?;
        for r in &rows {
            let app_id: i64 = r.get(0);
            if let Some(a) = apps.iter_mut().find(|a| a.id == app_id) {
                a.items.push(FilingItem {
                    occupation_id: r.get(1),
                    code: r.get(2),
                    name: r.get(3),
                    kind: r.get(4),
                    levels: r.get(5),
                    new_occupation: r.get::<i64, _>(6) != 0,
                });
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
        let mut apps: Vec<FilingApp> = rows.iter().map(from_row).collect();
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
        scope_filings(&mut w, scope);
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
        let total = w.count(&self.db, FROM).await?;
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {COLUMNS} FROM {FROM}"),
                "a.state_since, a.id",
                page,
            )
            .await?;
        let mut items: Vec<FilingApp> = rows.iter().map(from_row).collect();
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

    /// Persist a decided transition: one transaction, optimistic version check, event row, audit.
    pub async fn apply_filing(
        &self,
        actor: &Actor,
        app: &FilingApp,
        expected_version: i64,
        outcome: &Outcome,
        input: &TransitionInput,
    ) -> Result<FilingApp> {
        if app.version != expected_version {
            return Err(StoreError::Conflict);
        }
        let now = now_text();
        let mut tx = self.db.write().await?;
        crate::filing::advance_state(&mut tx, app.id, expected_version, outcome.to.as_str(), &now)
            .await?;
        // The quota is taken at 初审: re-count inside the transaction, serialised per district
        // and occupation (PostgreSQL advisory lock; SQLite writers are serialised already), so two
        // districts officers passing at once cannot both take the last slot.
        if let Some(q) = &input.quota_recheck {
            let today = input
                .today
                .ok_or_else(|| StoreError::Other("quota re-check needs today".into()))?;
            let exceptions =
                usable_exceptions(tx.conn(), app.institution_id, Some(app.id), today).await?;
            for it in &app.items {
                if tx.backend == crate::Backend::Postgres {
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(quota_lock_key(&app.district_code, it.occupation_id))
                        .execute(tx.conn())
                        .await?;
                }
                if exceptions.iter().any(|x| {
                    x.rule == "max_institutions_per_occupation_per_district"
                        && x.occupations.contains(&it.occupation_id)
                }) {
                    continue;
                }
                let n = quota_count(
                    tx.conn(),
                    &app.district_code,
                    it.occupation_id,
                    app.institution_id,
                    &q.filing_kinds,
                    &q.institution_kinds,
                )
                .await?;
                if n >= q.limit {
                    return Err(StoreError::Invalid(format!(
                        "“{}”：{}（已有{n}家）",
                        it.name, q.message
                    )));
                }
            }
        }
        let set = |sql: &'static str| sql;
        for e in &outcome.effects {
            match e {
                Effect::CenterKey => {
                    sqlx::query(set("UPDATE filing_applications SET center_approved_by = $1, center_approved_at = $2 WHERE id = $3"))
                        .bind(&actor.username).bind(&now).bind(app.id).execute(tx.conn()).await?;
                }
                Effect::DivisionKey => {
                    sqlx::query(set("UPDATE filing_applications SET division_approved_by = $1, division_approved_at = $2 WHERE id = $3"))
                        .bind(&actor.username).bind(&now).bind(app.id).execute(tx.conn()).await?;
                }
                Effect::ClearKeys => {
                    sqlx::query("UPDATE filing_applications SET center_approved_by = NULL, center_approved_at = NULL, division_approved_by = NULL, division_approved_at = NULL WHERE id = $1")
                        .bind(app.id).execute(tx.conn()).await?;
                }
                Effect::Waiver => {
                    sqlx::query("UPDATE filing_applications SET waiver = 1, waiver_by = $1, waiver_reason = $2 WHERE id = $3")
                        .bind(&actor.username).bind(&input.reason).bind(app.id).execute(tx.conn()).await?;
                }
                Effect::StartPublicity { period } => {
                    // A resumed publicity keeps its first day and gets a new end.
                    sqlx::query("UPDATE filing_applications SET publicity_start = COALESCE(publicity_start, $1), publicity_end = $2, publicity_calendar = $3 WHERE id = $4")
                        .bind(period.from.to_string()).bind(period.until.to_string()).bind(period.basis.as_str()).bind(app.id).execute(tx.conn()).await?;
                    append(
                        &mut tx,
                        actor,
                        NewEvent {
                            action: "filing.publicity_period",
                            object_type: "filing_application",
                            object_id: app.id.to_string(),
                            summary: serde_json::json!({
                                "published_on": period.published_on.to_string(),
                                "from": period.from.to_string(),
                                "until": period.until.to_string(),
                                "working_days": period.working_days,
                                "calendar": period.basis.as_str(),
                            }),
                        },
                    )
                    .await?;
                }
                Effect::SaveOpinion => {
                    sqlx::query(
                        "UPDATE filing_applications SET district_opinion = $1 WHERE id = $2",
                    )
                    .bind(&input.reason)
                    .bind(app.id)
                    .execute(tx.conn())
                    .await?;
                }
                Effect::RecordReviewMode(mode) => {
                    sqlx::query("UPDATE filing_applications SET review_mode = $1, review_mode_reason = $2 WHERE id = $3")
                        .bind(mode.as_str()).bind(&input.reason).bind(app.id).execute(tx.conn()).await?;
                }
                Effect::HighLevelReason(r) => {
                    sqlx::query(
                        "UPDATE filing_applications SET high_level_reason = $1 WHERE id = $2",
                    )
                    .bind(r)
                    .bind(app.id)
                    .execute(tx.conn())
                    .await?;
                }
                Effect::PanelConclusion {
                    summary,
                    override_reason,
                } => {
                    sqlx::query("UPDATE filing_applications SET panel_conclusion = $1, panel_override_reason = $2 WHERE id = $3")
                        .bind(summary).bind(override_reason).bind(app.id).execute(tx.conn()).await?;
                }
                Effect::MarkSubmitted => {
                    sqlx::query("UPDATE filing_applications SET submitted_at = COALESCE(submitted_at, $1) WHERE id = $2")
                        .bind(&now).bind(app.id).execute(tx.conn()).await?;
                    sqlx::query("UPDATE institutions SET filing_status = 'filing' WHERE id = $1 AND filing_status = 'unfiled'")
                        .bind(app.institution_id).execute(tx.conn()).await?;
                }
                Effect::UseException(x) => {
                    let by: Option<i64> = sqlx::query(
                        "SELECT used_by_application FROM filing_exceptions WHERE id = $1",
                    )
                    .bind(*x)
                    .fetch_one(tx.conn())
                    .await?
                    .get(0);
                    if by == Some(app.id) {
                        continue;
                    }
                    // Once, by this application: another application that used it first wins.
                    let n = sqlx::query("UPDATE filing_exceptions SET used_by_application = $1, used_at = $2, version = version + 1 WHERE id = $3 AND status = 'granted' AND used_by_application IS NULL")
                        .bind(app.id).bind(&now).bind(*x).execute(tx.conn()).await?.rows_affected();
                    if n == 0 {
                        return Err(StoreError::Conflict);
                    }
                    append(
                        &mut tx,
                        actor,
                        NewEvent {
                            action: "filing_exception.use",
                            object_type: "filing_exception",
                            object_id: x.to_string(),
                            summary: serde_json::json!({ "application_id": app.id, "command": outcome.action }),
                        },
                    )
                    .await?;
                }
                Effect::EnterRound(round) => {
                    sqlx::query("UPDATE filing_applications SET increment_round = COALESCE(increment_round, $1) WHERE id = $2")
                        .bind(round).bind(app.id).execute(tx.conn()).await?;
                }
                Effect::AssignFilingNo => {
                    let today = input
                        .today
                        .unwrap_or_else(|| chrono::Utc::now().date_naive());
                    use chrono::Datelike;
                    let no = domain::filing::filing_number(today.year(), app.id);
                    sqlx::query("UPDATE filing_applications SET filing_no = $1, filed_on = $2 WHERE id = $3")
                        .bind(&no).bind(today.to_string()).bind(app.id).execute(tx.conn()).await?;
                    for it in &app.items {
                        crate::filed::record_in_tx(
                            &mut tx,
                            actor,
                            app.institution_id,
                            it.occupation_id,
                            &it.levels,
                            &no,
                            &today.to_string(),
                            &app.kind,
                        )
                        .await?;
                    }
                }
            }
        }
        if outcome.to == FilingState::DistrictPassed {
            crate::experts::commit_next(&mut tx, actor, app.id).await?;
        }
        if outcome.to.is_terminal() {
            sqlx::query(
                "UPDATE filing_applications SET closed_at = $1, retention_until = $2 WHERE id = $3",
            )
            .bind(&now)
            .bind(&input.retention_until)
            .bind(app.id)
            .execute(tx.conn())
            .await?;
        }
        event(
            &mut tx,
            actor,
            app.id,
            &outcome.action,
            &app.state,
            outcome.to.as_str(),
            &input.reason,
            &input.attachments,
        )
        .await?;
        // The institution sees every decision with its reason (in the platform, and by SMS
        // through the outbox when a contact phone is on file).
        // Demo data and CLI runs (role "system") send nothing.
        if actor.role != "institution" && actor.role != "system" {
            let title = format!("备案申请 #{}：{}", app.id, outcome.to.label());
            let body = if input.reason.is_empty() {
                format!("{}（{}）", outcome.to.label(), actor.username)
            } else {
                format!("{}。理由/意见：{}", outcome.to.label(), input.reason)
            };
            Store::notify(
                &mut tx,
                &crate::NewNotification::to_institution(app.institution_id, &title, &body)
                    .link(format!("/filings/{}", app.id)),
            )
            .await?;
            let phone: String = sqlx::query("SELECT contact_phone FROM institutions WHERE id = $1")
                .bind(app.institution_id)
                .fetch_one(tx.conn())
                .await?
                .get(0);
            if !phone.trim().is_empty()
                && !matches!(
                    outcome.to,
                    FilingState::CityReview
                        | FilingState::ExpertsDrawn
                        | FilingState::OnsiteReviewed
                )
            {
                Store::enqueue_outbox(
                    &mut tx,
                    &crate::OutboxMessage::sms(phone, format!("【郑州技能评价】{title}。{body}")),
                )
                .await?;
            }
        }
        tx.commit().await?;
        self.filing(&Scope::City, app.id)
            .await
            .or_else(|_| Err(StoreError::NotFound))
    }

    /// Set the publicity end directly (tests and the city's period correction); audited.
    pub async fn set_publicity_end(
        &self,
        actor: &Actor,
        id: i64,
        end: NaiveDate,
        reason: &str,
    ) -> Result<()> {
        let mut tx = self.db.write().await?;
        let state: String = sqlx::query("SELECT state FROM filing_applications WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::NotFound)?
            .get(0);
        sqlx::query("UPDATE filing_applications SET publicity_end = $1, version = version + 1 WHERE id = $2")
            .bind(end.to_string())
            .bind(id)
            .execute(tx.conn())
            .await?;
        event(
            &mut tx,
            actor,
            id,
            "filing.publicity_period",
            &state,
            &state,
            reason,
            &[],
        )
        .await?;
        tx.commit().await
    }

    // ---- 特殊情况申请 ----

    /// 特殊情况申请 raised by the district: one applicant, the limit, the occupations it names.
    pub async fn raise_exception(
        &self,
        actor: &Actor,
        institution_id: i64,
        district: &str,
        rule: &str,
        occupation_ids: &[i64],
        reason: &str,
    ) -> Result<i64> {
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query("INSERT INTO filing_exceptions (institution_id, district_code, rule, occupation_id, reason, raised_by, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(institution_id)
            .bind(district)
            .bind(rule)
            .bind(occupation_ids.first().copied())
            .bind(reason)
            .bind(&actor.username)
            .bind(now_text())
            .fetch_one(tx.conn())
            .await?
            .get(0);
        for o in occupation_ids {
            sqlx::query("INSERT INTO filing_exception_occupations (exception_id, occupation_id) VALUES ($1, $2)")
                .bind(id)
                .bind(*o)
                .execute(tx.conn())
                .await?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "filing_exception.raise",
                object_type: "filing_exception",
                object_id: id.to_string(),
                summary: serde_json::json!({ "institution_id": institution_id, "rule": rule, "occupation_ids": occupation_ids, "reason": reason }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Fill in the names of the occupations each exception names.
    async fn load_exception_occupations(&self, xs: &mut [ExceptionRow]) -> Result<()> {
        for x in xs.iter_mut() {
            x.occupations = sqlx::query("SELECT o.id, o.code, o.name FROM filing_exception_occupations xo JOIN occupations o ON o.id = xo.occupation_id WHERE xo.exception_id = $1 ORDER BY o.code")
                .bind(x.id)
                .fetch_all(&self.db.pool)
                .await?
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect();
        }
        Ok(())
    }

    /// The exceptions an application used (shown on the application).
    pub async fn exceptions_used_by(&self, application_id: i64) -> Result<Vec<ExceptionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {EXC_COLUMNS} FROM {EXC_FROM} WHERE x.used_by_application = $1 ORDER BY x.id"
        ))
        .bind(application_id)
        .fetch_all(&self.db.pool)
        .await?;
        let mut xs: Vec<ExceptionRow> = rows.iter().map(exc_from_row).collect();
        self.load_exception_occupations(&mut xs).await?;
        Ok(xs)
    }

    pub async fn list_exceptions(
        &self,
        scope: &Scope,
        status: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<ExceptionRow>> {
        let mut w = Where::new();
        match scope {
            Scope::City => {}
            Scope::District(d) => w.eq_text("x.district_code", Some(d)),
            Scope::Institution(i) => w.eq_int("x.institution_id", *i),
            Scope::Assigned(_) => w.raw("1 = 0"),
        }
        w.eq_text("x.status", status);
        let mut p = w
            .fetch_page(
                &self.db,
                EXC_COLUMNS,
                EXC_FROM,
                "x.id DESC",
                page,
                exc_from_row,
            )
            .await?;
        self.load_exception_occupations(&mut p.items).await?;
        Ok(p)
    }

    pub async fn exception(&self, scope: &Scope, id: i64) -> Result<ExceptionRow> {
        let p = self
            .list_exceptions(scope, None, PageRequest::new(Some(1), Some(200)))
            .await?;
        // Small table per scope; a direct query keeps the scope logic in one place.
        if let Some(x) = p.items.into_iter().find(|x| x.id == id) {
            return Ok(x);
        }
        let r = sqlx::query(&format!(
            "SELECT {EXC_COLUMNS} FROM {EXC_FROM} WHERE x.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .map(|r| exc_from_row(&r))
        .ok_or(StoreError::NotFound)?;
        if scope.covers(Some(&r.district_code), Some(r.institution_id)) {
            let mut v = vec![r];
            self.load_exception_occupations(&mut v).await?;
            Ok(v.remove(0))
        } else {
            Err(StoreError::NotFound)
        }
    }

    /// One key of the city's two-key decision. `approve=false` refuses at once; both keys grant,
    /// usable until `expires_on` (unless used by then).
    pub async fn decide_exception(
        &self,
        actor: &Actor,
        id: i64,
        center: bool,
        approve: bool,
        reason: &str,
        expires_on: NaiveDate,
    ) -> Result<ExceptionRow> {
        let x = self.exception(&Scope::City, id).await?;
        if x.status != "pending" {
            return Err(StoreError::Invalid("该特殊情况申请已有结论".into()));
        }
        let already = if center {
            x.center_by.is_some()
        } else {
            x.division_by.is_some()
        };
        if already && approve {
            return Err(StoreError::Invalid("本方已审核同意，等待另一方审核".into()));
        }
        let now = now_text();
        let mut tx = self.db.write().await?;
        let key_sql = if center {
            "UPDATE filing_exceptions SET center_by = $1, center_at = $2, version = version + 1 WHERE id = $3 AND version = $4"
        } else {
            "UPDATE filing_exceptions SET division_by = $1, division_at = $2, version = version + 1 WHERE id = $3 AND version = $4"
        };
        let n = sqlx::query(key_sql)
            .bind(&actor.username)
            .bind(&now)
            .bind(id)
            .bind(x.version)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        let other = if center {
            x.division_by.is_some()
        } else {
            x.center_by.is_some()
        };
        let status = if !approve {
            "refused"
        } else if other {
            "granted"
        } else {
            "pending"
        };
        if status != "pending" {
            sqlx::query("UPDATE filing_exceptions SET status = $1, decision_reason = $2, decided_at = $3, expires_on = $4 WHERE id = $5")
                .bind(status)
                .bind(reason)
                .bind(&now)
                .bind((status == "granted").then(|| expires_on.to_string()))
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
        if status != "pending" && actor.role != "system" {
            let verdict = if status == "granted" {
                "市级审核同意"
            } else {
                "市级审核不同意"
            };
            Store::notify(
                &mut tx,
                &crate::NewNotification::to_institution(
                    x.institution_id,
                    format!("特殊情况申请 #{id}：{verdict}"),
                    format!("{verdict}。{}", reason),
                ),
            )
            .await?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: if approve { "filing_exception.approve" } else { "filing_exception.refuse" },
                object_type: "filing_exception",
                object_id: id.to_string(),
                summary: serde_json::json!({ "key": if center { "center" } else { "division" }, "status": status, "reason": reason }),
            },
        )
        .await?;
        tx.commit().await?;
        self.exception(&Scope::City, id).await
    }

    // ---- 一(四) extra increment rounds ----

    /// The city opens an extra increment round (原则上每年3月和9月: another needs a reason); audited.
    pub async fn open_increment_round(
        &self,
        actor: &Actor,
        opens_on: NaiveDate,
        closes_on: NaiveDate,
        reason: &str,
    ) -> Result<i64> {
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query("INSERT INTO increment_rounds (opens_on, closes_on, reason, opened_by, opened_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(opens_on.to_string())
            .bind(closes_on.to_string())
            .bind(reason)
            .bind(&actor.username)
            .bind(now_text())
            .fetch_one(tx.conn())
            .await?
            .get(0);
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "increment_round.open",
                object_type: "increment_round",
                object_id: id.to_string(),
                summary: serde_json::json!({ "opens_on": opens_on.to_string(), "closes_on": closes_on.to_string(), "reason": reason }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Extra rounds, newest first.
    pub async fn increment_rounds(&self) -> Result<Vec<IncrementRound>> {
        let rows = sqlx::query("SELECT id, opens_on, closes_on, reason, opened_by, opened_at FROM increment_rounds ORDER BY opens_on DESC, id DESC")
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| IncrementRound {
                id: r.get(0),
                opens_on: r.get(1),
                closes_on: r.get(2),
                reason: r.get(3),
                opened_by: r.get(4),
                opened_at: r.get(5),
            })
            .collect())
    }

    /// The extra round open on `date`, if any.
    pub async fn increment_round_on(&self, date: NaiveDate) -> Result<Option<IncrementRound>> {
        let d = date.to_string();
        Ok(self
            .increment_rounds()
            .await?
            .into_iter()
            .find(|r| r.opens_on <= d && d <= r.closes_on))
    }

    // ---- campaigns (三(三)) ----

    pub async fn create_campaign(
        &self,
        actor: &Actor,
        name: &str,
        deadline: NaiveDate,
        clause: &str,
        application_ids: &[i64],
    ) -> Result<i64> {
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query("INSERT INTO filing_campaigns (name, deadline, clause, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(name)
            .bind(deadline.to_string())
            .bind(clause)
            .bind(&actor.username)
            .bind(now_text())
            .fetch_one(tx.conn())
            .await?
            .get(0);
        for a in application_ids {
            sqlx::query("UPDATE filing_applications SET campaign_id = $1 WHERE id = $2")
                .bind(id)
                .bind(*a)
                .execute(tx.conn())
                .await?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "filing_campaign.create",
                object_type: "filing_campaign",
                object_id: id.to_string(),
                summary: serde_json::json!({ "name": name, "deadline": deadline.to_string(), "applications": application_ids }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn campaigns(&self) -> Result<Vec<Campaign>> {
        let rows = sqlx::query("SELECT c.id, c.name, c.deadline, c.clause, (SELECT COUNT(*) FROM filing_applications a WHERE a.campaign_id = c.id), (SELECT COUNT(*) FROM filing_applications a WHERE a.campaign_id = c.id AND a.state NOT IN ('filed', 'rejected', 'withdrawn')) FROM filing_campaigns c ORDER BY c.deadline, c.id")
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| Campaign {
                id: r.get(0),
                name: r.get(1),
                deadline: r.get(2),
                clause: r.get(3),
                total: r.get(4),
                open: r.get(5),
            })
            .collect())
    }

    /// Applications of a campaign still open after its deadline (`today` in China time).
    pub async fn overdue_filings(
        &self,
        scope: &Scope,
        today: NaiveDate,
        page: PageRequest,
    ) -> Result<Page<FilingApp>> {
        let mut w = Where::new();
        scope_filings(&mut w, scope);
        let p = w.arg(Arg::Text(today.to_string()));
        w.raw(format!(
            "c.deadline < {p} AND a.state NOT IN ('filed', 'rejected', 'withdrawn')"
        ));
        let total = w.count(&self.db, FROM).await?;
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {COLUMNS} FROM {FROM}"),
                "c.deadline, a.id",
                page,
            )
            .await?;
        let mut items: Vec<FilingApp> = rows.iter().map(from_row).collect();
        self.load_items(&mut items).await?;
        Ok(Page {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// Ids of applications whose 公示 ended before `today` without an objection: due to be filed.
    pub async fn filings_publicity_over(&self, today: NaiveDate) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT id FROM filing_applications WHERE state = 'publicity' AND publicity_end < $1 ORDER BY publicity_end, id")
            .bind(today.to_string())
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Applications in 公示 on `today` (public page: no personal data). A period that has
    /// ended is never shown as 公示中, even before the scheduler has moved the record on.
    pub async fn public_filings(
        &self,
        today: NaiveDate,
        page: PageRequest,
    ) -> Result<Page<FilingApp>> {
        let mut w = Where::new();
        let t = w.arg(Arg::Text(today.to_string()));
        w.raw(&format!(
            "(a.state = 'publicity_paused' OR (a.state = 'publicity' AND a.publicity_end >= {t}))"
        ));
        let total = w.count(&self.db, FROM).await?;
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {COLUMNS} FROM {FROM}"),
                "a.publicity_end, a.id",
                page,
            )
            .await?;
        let mut items: Vec<FilingApp> = rows.iter().map(from_row).collect();
        self.load_items(&mut items).await?;
        Ok(Page {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// Public list of filed institutions with their scope, searchable by district and occupation.
    pub async fn public_filed(
        &self,
        district: Option<&str>,
        occupation_q: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<PublicFiled>> {
        let mut w = Where::new();
        w.raw("f.revoked_at IS NULL");
        w.eq_text("i.district_code", district);
        w.search(&["o.code", "o.name", "i.name"], occupation_q);
        let from = "filed_occupations f JOIN institutions i ON i.id = f.institution_id JOIN occupations o ON o.id = f.occupation_id JOIN divisions d ON d.code = i.district_code";
        let total = w.count(&self.db, from).await?;
        let rows = w
            .page(&self.db, &format!("SELECT i.name, d.name, o.code, o.name, o.kind, f.levels, f.filing_no, f.filed_on FROM {from}"), "d.sort, i.name, o.code", page)
            .await?;
        Ok(Page {
            items: rows
                .iter()
                .map(|r| PublicFiled {
                    institution: r.get(0),
                    district: r.get(1),
                    occupation_code: r.get(2),
                    occupation_name: r.get(3),
                    occupation_kind: r.get(4),
                    levels: r.get(5),
                    filing_no: r.get(6),
                    filed_on: r.get(7),
                })
                .collect(),
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicFiled {
    pub institution: String,
    pub district: String,
    pub occupation_code: String,
    pub occupation_name: String,
    pub occupation_kind: String,
    pub levels: String,
    pub filing_no: String,
    pub filed_on: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub deadline: String,
    pub clause: String,
    pub total: i64,
    pub open: i64,
}

/// An extra increment round opened by the city (一(四) 原则上).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncrementRound {
    pub id: i64,
    pub opens_on: String,
    pub closes_on: String,
    pub reason: String,
    pub opened_by: String,
    pub opened_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExceptionRow {
    pub id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub district_code: String,
    pub rule: String,
    pub occupation_id: Option<i64>,
    pub occupation_name: Option<String>,
    pub reason: String,
    pub status: String,
    pub raised_by: String,
    pub raised_at: String,
    pub center_by: Option<String>,
    pub division_by: Option<String>,
    pub decision_reason: Option<String>,
    pub version: i64,
    /// Last day a granted, unused exception may be used.
    pub expires_on: Option<String>,
    /// The application that used it (once).
    pub used_by_application: Option<i64>,
    pub used_at: Option<String>,
    /// The occupations it names: (id, code, name).
    pub occupations: Vec<(i64, String, String)>,
}

impl ExceptionRow {
    /// 待市级审核 / 已同意（有效期至…）/ 已使用 / 已失效 / 不同意, on `today`.
    pub fn status_label(&self, today: NaiveDate) -> String {
        match self.status.as_str() {
            "granted" => match (self.used_by_application, self.expires_on.as_deref()) {
                (Some(a), _) => format!("已由申请 #{a} 使用"),
                (None, Some(e)) if e < today.to_string().as_str() => {
                    format!("已失效（{e}前未使用）")
                }
                (None, Some(e)) => format!("已同意，{e}前有效"),
                (None, None) => "已同意".into(),
            },
            "refused" => "不同意".into(),
            _ => "待市级审核".into(),
        }
    }

    /// The occupations it names, as text.
    pub fn occupations_text(&self) -> String {
        if self.occupations.is_empty() {
            return "—".into();
        }
        self.occupations
            .iter()
            .map(|(_, c, n)| format!("{c} {n}"))
            .collect::<Vec<_>>()
            .join("、")
    }
}

const EXC_COLUMNS: &str = "x.id, x.institution_id, i.name, x.district_code, x.rule, x.occupation_id, o.name, x.reason, x.status, x.raised_by, x.raised_at, x.center_by, x.division_by, x.decision_reason, x.version, x.expires_on, x.used_by_application, x.used_at";
const EXC_FROM: &str = "filing_exceptions x JOIN institutions i ON i.id = x.institution_id LEFT JOIN occupations o ON o.id = x.occupation_id";

fn exc_from_row(r: &AnyRow) -> ExceptionRow {
    ExceptionRow {
        id: r.get(0),
        institution_id: r.get(1),
        institution_name: r.get(2),
        district_code: r.get(3),
        rule: r.get(4),
        occupation_id: r.get(5),
        occupation_name: r.get(6),
        reason: r.get(7),
        status: r.get(8),
        raised_by: r.get(9),
        raised_at: r.get(10),
        center_by: r.get(11),
        division_by: r.get(12),
        decision_reason: r.get(13),
        version: r.get(14),
        expires_on: r.get(15),
        used_by_application: r.get(16),
        used_at: r.get(17),
        occupations: vec![],
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
