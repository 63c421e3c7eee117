//! 档案保管台账 (二(三)): the register of kept records with their due dates, paper records,
//! legal holds, two-key disposals and the tombstones they leave.
//!
//! Records close in their own workflows, which write the closing date (`closed_on`). A sweep
//! ([`Store::register_closed_records`], run by the scheduler, `skilleval retention run` and the
//! demo) registers each closed record once, with the due date its class and the policy give
//! (`domain::retention`), fixed with its clause. Paper records are registered by hand.
//!
//! Disposal removes the files and the personal data of a record in one transaction, leaves the
//! register row (state `disposed`) and the disposal (keys, reason, what was removed) as the
//! tombstone, and appends the audit event. Blob files are deleted after the commit, once no row
//! names them; a purge interrupted by a crash is done again by the next run.

use chrono::NaiveDate;
use domain::retention::{self as dr, RetentionClass};
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::db::WriteTx;
use crate::sql::{code, code_opt, Arg, Where};
use crate::{like_pattern, Page, PageRequest, Result, Store, StoreError};

mod disposal;
mod paper;
mod register;

pub use paper::{PaperFilter, PaperRecord};

/// drills), else the China date of the stored time `now`.
pub fn closing_date(today: Option<NaiveDate>, now: &str) -> String {
    today
        .or_else(|| china_date(now))
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// The China (+08:00) date of an RFC 3339 time.
pub fn china_date(t: &str) -> Option<NaiveDate> {
    let cn = chrono::FixedOffset::east_opt(8 * 3600)?;
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.with_timezone(&cn).date_naive())
}

/// One kept record (保管记录) of the register, with its hold and open disposal.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionRecord {
    pub id: i64,
    /// filing | plan | candidates | document | paper
    pub class: String,
    pub class_label: String,
    /// filing_application | plan | document | paper_record
    pub subject_type: String,
    pub subject_id: i64,
    pub title: String,
    /// The keeping district; `None`: the city keeps it (市级).
    pub district_code: Option<String>,
    pub keeper_name: String,
    pub institution_id: Option<i64>,
    /// paper | electronic
    pub medium: String,
    /// 办结日期.
    pub closed_on: String,
    /// 保存至: disposable from this day.
    pub due_on: String,
    /// The clause the due date rests on.
    pub clause: String,
    pub state: dr::RecordState,
    pub disposed_at: Option<String>,
    pub registered_at: String,
    pub version: i64,
    /// The reason of the oldest active legal hold (冻结), if any.
    pub hold: Option<String>,
    /// The open disposal (proposed or approved), if any.
    pub disposal_id: Option<i64>,
    pub disposal_status: Option<dr::DisposalStatus>,
    pub disposal_first_side: Option<String>,
}

impl RetentionRecord {
    pub fn class(&self) -> Option<RetentionClass> {
        RetentionClass::parse(&self.class)
    }

    pub fn keeper(&self) -> dr::Keeper {
        dr::Keeper::of(self.district_code.as_deref())
    }

    pub fn due_date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.due_on, "%Y-%m-%d").ok()
    }

    /// What the domain needs to decide on a disposal.
    pub fn facts(&self) -> Option<dr::RecordFacts> {
        Some(dr::RecordFacts {
            class: self.class()?,
            due_on: self.due_date()?,
            disposed: self.state == dr::RecordState::Disposed,
            hold: self.hold.clone(),
        })
    }

    pub fn medium_label(&self) -> &'static str {
        if self.medium == "paper" {
            "纸质"
        } else {
            "电子"
        }
    }

    /// 状态 as people read it.
    pub fn status_label(&self, today: NaiveDate) -> String {
        if self.state == dr::RecordState::Disposed {
            return "已销毁".into();
        }
        if self.hold.is_some() {
            return "已冻结".into();
        }
        if let Some(s) = self.disposal_status {
            return s.label().into();
        }
        match self.due_date() {
            Some(d) if d <= today => "已到期，待销毁审批".into(),
            _ => "保管中".into(),
        }
    }
}

/// The reason of a record's oldest active legal hold (alias `r`).
macro_rules! active_hold_reason {
    () => {
        "(SELECT h.reason FROM retention_holds h WHERE h.record_id = r.id AND h.lifted_at IS NULL ORDER BY h.id LIMIT 1)"
    };
}
pub(crate) const ACTIVE_HOLD_REASON: &str = active_hold_reason!();
const RECORD_COLUMNS: &str = concat!(
    "r.id, r.class, r.subject_type, r.subject_id, r.title, r.district_code, d.name, r.institution_id, r.medium, r.closed_on, r.due_on, r.clause, r.state, r.disposed_at, r.registered_at, r.version, ",
    active_hold_reason!(),
    ", x.id, x.status, x.first_side"
);
pub(crate) const RECORD_FROM: &str = "retention_records r LEFT JOIN divisions d ON d.code = r.district_code LEFT JOIN retention_disposals x ON x.record_id = r.id AND x.status IN ('proposed', 'approved')";

fn record_row(r: &AnyRow) -> Result<RetentionRecord> {
    let class: String = r.get(1);
    let district: Option<String> = r.get(5);
    let district_name: Option<String> = r.get(6);
    Ok(RetentionRecord {
        id: r.get(0),
        class_label: RetentionClass::parse(&class)
            .map(|c| c.label().to_string())
            .unwrap_or_else(|| class.clone()),
        class,
        subject_type: r.get(2),
        subject_id: r.get(3),
        title: r.get(4),
        keeper_name: match &district {
            Some(_) => district_name.unwrap_or_default(),
            None => "市级".into(),
        },
        district_code: district,
        institution_id: r.get(7),
        medium: r.get(8),
        closed_on: r.get(9),
        due_on: r.get(10),
        clause: r.get(11),
        state: code(r, 12)?,
        disposed_at: r.get(13),
        registered_at: r.get(14),
        version: r.get(15),
        hold: r.get(16),
        disposal_id: r.get(17),
        disposal_status: code_opt(r, 18)?,
        disposal_first_side: r.get(19),
    })
}

/// A disposal (销毁审批) with its two keys; once done, with the record, the tombstone.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Disposal {
    pub id: i64,
    pub record_id: i64,
    pub status: dr::DisposalStatus,
    /// 销毁原因.
    pub reason: String,
    /// district | city | center | bureau
    pub first_side: String,
    pub first_by: String,
    pub first_at: String,
    pub second_side: Option<String>,
    pub second_by: Option<String>,
    pub second_at: Option<String>,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<String>,
    /// Who carried it out (a key holder, or `system:retention-run`).
    pub executed_by: Option<String>,
    pub executed_at: Option<String>,
    /// What was removed (JSON object of counts).
    pub removed: String,
    pub blobs_purged_at: Option<String>,
}

impl Disposal {
    pub fn first(&self) -> Option<dr::KeySide> {
        dr::KeySide::parse(&self.first_side)
    }
}

const DISPOSAL_COLUMNS: &str = "id, record_id, status, reason, first_side, first_by, first_at, second_side, second_by, second_at, withdrawn_by, withdrawn_at, executed_by, executed_at, removed, blobs_purged_at";

fn disposal_row(r: &AnyRow) -> Result<Disposal> {
    Ok(Disposal {
        id: r.get(0),
        record_id: r.get(1),
        status: code(r, 2)?,
        reason: r.get(3),
        first_side: r.get(4),
        first_by: r.get(5),
        first_at: r.get(6),
        second_side: r.get(7),
        second_by: r.get(8),
        second_at: r.get(9),
        withdrawn_by: r.get(10),
        withdrawn_at: r.get(11),
        executed_by: r.get(12),
        executed_at: r.get(13),
        removed: r.get(14),
        blobs_purged_at: r.get(15),
    })
}

/// A legal hold (冻结): active while `lifted_at` is empty.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hold {
    pub id: i64,
    pub record_id: i64,
    pub reason: String,
    pub placed_by: String,
    pub placed_role: String,
    pub placed_at: String,
    pub lifted_by: Option<String>,
    pub lift_reason: Option<String>,
    pub lifted_at: Option<String>,
}

impl Hold {
    pub fn active(&self) -> bool {
        self.lifted_at.is_none()
    }
    /// Placed by a city officer (only the city lifts it then).
    pub fn placed_by_city(&self) -> bool {
        domain::Role::parse(&self.placed_role).is_some_and(|r| r.is_city_officer())
    }
}

/// Filters of the register (台账) and the due list.
#[derive(Debug, Clone, Default)]
pub struct RetentionFilter {
    /// A class key.
    pub class: Option<String>,
    /// due (到期待销毁, the default view) | upcoming (一年内到期) | kept (在保) | held (冻结) |
    /// pending (销毁审批中) | disposed (已销毁) | all.
    pub state: Option<String>,
    /// The city may narrow to one district (`city`: the city's own records).
    pub district: Option<String>,
    /// Title search.
    pub q: Option<String>,
}

/// The register's days ahead for "upcoming".
pub const UPCOMING_DAYS: u64 = 365;

fn scope_filter(w: &mut Where, scope: &Scope, col: &str) {
    match scope {
        Scope::City => {}
        Scope::District(d) => {
            let p = w.arg(Arg::Text(d.clone()));
            w.raw(format!("{col} = {p}"));
        }
        Scope::Institution(_) | Scope::Assigned(_) => w.raw("1 = 0"),
    }
}

fn district_narrowing(w: &mut Where, scope: &Scope, col: &str, district: Option<&str>) {
    if *scope != Scope::City {
        return;
    }
    match district.filter(|d| !d.is_empty()) {
        Some("city") => w.raw(format!("{col} IS NULL")),
        Some(d) => {
            let p = w.arg(Arg::Text(d.to_string()));
            w.raw(format!("{col} = {p}"));
        }
        None => {}
    }
}

fn retention_where(scope: &Scope, f: &RetentionFilter, today: NaiveDate) -> Where {
    let mut w = Where::new();
    retention_filter(&mut w, scope, f, today);
    w
}

/// The conditions of the register (also a source of the work queue, `crate::queue`).
pub(crate) fn retention_filter(
    w: &mut Where,
    scope: &Scope,
    f: &RetentionFilter,
    today: NaiveDate,
) {
    scope_filter(w, scope, "r.district_code");
    district_narrowing(w, scope, "r.district_code", f.district.as_deref());
    w.eq_text("r.class", f.class.as_deref());
    if let Some(q) = f.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let p = w.arg(Arg::Text(like_pattern(q)));
        w.raw(format!("LOWER(r.title) LIKE {p} ESCAPE '\\'"));
    }
    let day = today.format("%Y-%m-%d").to_string();
    let active_hold =
        "EXISTS (SELECT 1 FROM retention_holds h WHERE h.record_id = r.id AND h.lifted_at IS NULL)";
    match f.state.as_deref().unwrap_or("due") {
        "upcoming" => {
            let until = (today + chrono::Days::new(UPCOMING_DAYS))
                .format("%Y-%m-%d")
                .to_string();
            let a = w.arg(Arg::Text(day));
            let b = w.arg(Arg::Text(until));
            w.raw(format!(
                "r.state = 'kept' AND r.due_on > {a} AND r.due_on <= {b}"
            ));
        }
        "kept" => w.raw("r.state = 'kept'"),
        "held" => w.raw(format!("r.state = 'kept' AND {active_hold}")),
        "pending" => w.raw("r.state = 'kept' AND x.id IS NOT NULL"),
        "disposed" => w.raw("r.state = 'disposed'"),
        "all" => {}
        // due: the period is over and the record is still kept (held ones included: the
        // list shows why they wait).
        _ => {
            let a = w.arg(Arg::Text(day));
            w.raw(format!("r.state = 'kept' AND r.due_on <= {a}"));
        }
    }
}

impl Store {
    /// The register (台账) through `scope`, filtered; the default view is what is due on `today`.
    pub async fn list_retention(
        &self,
        scope: &Scope,
        f: &RetentionFilter,
        today: NaiveDate,
        page: PageRequest,
    ) -> Result<Page<RetentionRecord>> {
        let w = retention_where(scope, f, today);
        let order = if f.state.as_deref() == Some("disposed") {
            "r.disposed_at DESC, r.id DESC"
        } else {
            "r.due_on, r.id"
        };
        w.fetch_page(
            &self.db,
            RECORD_COLUMNS,
            RECORD_FROM,
            order,
            page,
            record_row,
        )
        .await
    }

    /// One kept record through `scope` (`NotFound` outside it, like a missing one).
    pub async fn retention_record(&self, scope: &Scope, id: i64) -> Result<RetentionRecord> {
        let mut w = Where::new();
        w.eq_int("r.id", id);
        scope_filter(&mut w, scope, "r.district_code");
        let sql = format!("SELECT {RECORD_COLUMNS} FROM {RECORD_FROM}{}", w.sql());
        w.bind(sqlx::query(&sql))
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| record_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// The register row of a subject (e.g. a plan's candidates), if registered.
    pub async fn retention_record_of(
        &self,
        class: RetentionClass,
        subject_id: i64,
    ) -> Result<Option<RetentionRecord>> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM {RECORD_FROM} WHERE r.class = $1 AND r.subject_id = $2"
        );
        sqlx::query(&sql)
            .bind(class.as_str())
            .bind(subject_id)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| record_row(&r))
            .transpose()
    }

    pub async fn retention_holds(&self, record_id: i64) -> Result<Vec<Hold>> {
        let rows = sqlx::query("SELECT id, record_id, reason, placed_by, placed_role, placed_at, lifted_by, lift_reason, lifted_at FROM retention_holds WHERE record_id = $1 ORDER BY id")
            .bind(record_id)
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| Hold {
                id: r.get(0),
                record_id: r.get(1),
                reason: r.get(2),
                placed_by: r.get(3),
                placed_role: r.get(4),
                placed_at: r.get(5),
                lifted_by: r.get(6),
                lift_reason: r.get(7),
                lifted_at: r.get(8),
            })
            .collect())
    }

    pub async fn retention_disposals(&self, record_id: i64) -> Result<Vec<Disposal>> {
        let sql = format!(
            "SELECT {DISPOSAL_COLUMNS} FROM retention_disposals WHERE record_id = $1 ORDER BY id"
        );
        sqlx::query(&sql)
            .bind(record_id)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(disposal_row)
            .collect()
    }

    /// Disposals approved by both keys and not carried out yet, across the city (for the run).
    pub async fn approved_disposals(&self) -> Result<Vec<Disposal>> {
        let sql = format!(
            "SELECT {DISPOSAL_COLUMNS} FROM retention_disposals WHERE status = 'approved' ORDER BY id"
        );
        sqlx::query(&sql)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(disposal_row)
            .collect()
    }

    /// Bump the record's version under the caller's expectation: every change to a record's
    /// holds or disposal goes through here, so concurrent decisions conflict instead of racing.
    async fn touch_record(tx: &mut WriteTx, record_id: i64, expected_version: i64) -> Result<()> {
        let n = sqlx::query(
            "UPDATE retention_records SET version = version + 1 WHERE id = $1 AND version = $2 AND state = 'kept'",
        )
        .bind(record_id)
        .bind(expected_version)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    async fn disposal_in(tx: &mut WriteTx, id: i64) -> Result<Disposal> {
        let sql = format!("SELECT {DISPOSAL_COLUMNS} FROM retention_disposals WHERE id = $1");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .map(|r| disposal_row(&r))
            .ok_or(StoreError::NotFound)?
    }
}
