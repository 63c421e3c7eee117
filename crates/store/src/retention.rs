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
use domain::policy::Policy;
use domain::retention::{self as dr, RetentionClass};
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::db::WriteTx;
use crate::sql::{Arg, Where};
use crate::{like_pattern, now_text, Page, PageRequest, Result, Store, StoreError};

/// The closing date (办结日期, `YYYY-MM-DD`): the caller's today (China time, pinned in tests and
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
    /// kept | disposed
    pub state: String,
    pub disposed_at: Option<String>,
    pub registered_at: String,
    pub version: i64,
    /// The reason of the oldest active legal hold (冻结), if any.
    pub hold: Option<String>,
    /// The open disposal (proposed or approved), if any.
    pub disposal_id: Option<i64>,
    pub disposal_status: Option<String>,
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
            disposed: self.state == "disposed",
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
        if self.state == "disposed" {
            return "已销毁".into();
        }
        if self.hold.is_some() {
            return "已冻结".into();
        }
        if let Some(s) = self
            .disposal_status
            .as_deref()
            .and_then(dr::DisposalStatus::parse)
        {
            return s.label().into();
        }
        match self.due_date() {
            Some(d) if d <= today => "已到期，待销毁审批".into(),
            _ => "保管中".into(),
        }
    }
}

const RECORD_COLUMNS: &str = "r.id, r.class, r.subject_type, r.subject_id, r.title, r.district_code, d.name, r.institution_id, r.medium, r.closed_on, r.due_on, r.clause, r.state, r.disposed_at, r.registered_at, r.version, \
    (SELECT h.reason FROM retention_holds h WHERE h.record_id = r.id AND h.lifted_at IS NULL ORDER BY h.id LIMIT 1), \
    x.id, x.status, x.first_side";
const RECORD_FROM: &str = "retention_records r LEFT JOIN divisions d ON d.code = r.district_code LEFT JOIN retention_disposals x ON x.record_id = r.id AND x.status IN ('proposed', 'approved')";

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
        state: r.get(12),
        disposed_at: r.get(13),
        registered_at: r.get(14),
        version: r.get(15),
        hold: r.get(16),
        disposal_id: r.get(17),
        disposal_status: r.get(18),
        disposal_first_side: r.get(19),
    })
}

/// A disposal (销毁审批) with its two keys; once done, with the record, the tombstone.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Disposal {
    pub id: i64,
    pub record_id: i64,
    /// proposed | approved | withdrawn | done
    pub status: String,
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
    pub fn status(&self) -> Option<dr::DisposalStatus> {
        dr::DisposalStatus::parse(&self.status)
    }
    pub fn first(&self) -> Option<dr::KeySide> {
        dr::KeySide::parse(&self.first_side)
    }
}

const DISPOSAL_COLUMNS: &str = "id, record_id, status, reason, first_side, first_by, first_at, second_side, second_by, second_at, withdrawn_by, withdrawn_at, executed_by, executed_at, removed, blobs_purged_at";

fn disposal_row(r: &AnyRow) -> Disposal {
    Disposal {
        id: r.get(0),
        record_id: r.get(1),
        status: r.get(2),
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
    }
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

/// A registered paper record (纸质档案) with its register row.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaperRecord {
    pub id: i64,
    /// The keeping district; `None`: the city.
    pub district_code: Option<String>,
    pub keeper_name: String,
    /// filing | plan | process | other
    pub kind: String,
    pub kind_label: String,
    /// 档案名称.
    pub title: String,
    /// 存放地点.
    pub location: String,
    /// 保管人.
    pub custodian: String,
    /// 办结（归档）日期.
    pub closed_on: String,
    pub note: String,
    pub registered_by: String,
    pub registered_at: String,
    /// Its row in the register (台账).
    pub record_id: i64,
    pub due_on: String,
    /// kept | disposed
    pub state: String,
    /// Under an active legal hold (冻结).
    pub held: bool,
}

impl PaperRecord {
    /// 状态 as people read it on `today`.
    pub fn status_label(&self, today: NaiveDate) -> &'static str {
        if self.state == "disposed" {
            "已销毁"
        } else if self.held {
            "已冻结"
        } else if self.due_on.as_str() <= today.format("%Y-%m-%d").to_string().as_str() {
            "已到期"
        } else {
            "保管中"
        }
    }
}

const PAPER_COLUMNS: &str = "p.id, p.district_code, d.name, p.kind, p.title, p.location, p.custodian, p.closed_on, p.note, p.registered_by, p.registered_at, r.id, r.due_on, r.state, \
    (SELECT COUNT(*) FROM retention_holds h WHERE h.record_id = r.id AND h.lifted_at IS NULL)";
const PAPER_FROM: &str = "paper_records p JOIN retention_records r ON r.class = 'paper' AND r.subject_id = p.id LEFT JOIN divisions d ON d.code = p.district_code";

fn paper_row(r: &AnyRow) -> Result<PaperRecord> {
    let kind: String = r.get(3);
    let district: Option<String> = r.get(1);
    let name: Option<String> = r.get(2);
    Ok(PaperRecord {
        id: r.get(0),
        keeper_name: match &district {
            Some(_) => name.unwrap_or_default(),
            None => "市级".into(),
        },
        district_code: district,
        kind_label: dr::PaperKind::parse(&kind)
            .map(|k| k.label().to_string())
            .unwrap_or_else(|| kind.clone()),
        kind,
        title: r.get(4),
        location: r.get(5),
        custodian: r.get(6),
        closed_on: r.get(7),
        note: r.get(8),
        registered_by: r.get(9),
        registered_at: r.get(10),
        record_id: r.get(11),
        due_on: r.get(12),
        state: r.get(13),
        held: r.get::<i64, _>(14) > 0,
    })
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

#[derive(Debug, Clone, Default)]
pub struct PaperFilter {
    pub kind: Option<String>,
    pub q: Option<String>,
    pub district: Option<String>,
}

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

/// A closed record found by the sweep.
struct Closed {
    class: RetentionClass,
    subject_type: &'static str,
    subject_id: i64,
    title: String,
    district: Option<String>,
    institution: Option<i64>,
    closed_on: Option<NaiveDate>,
}

/// What a disposal removed, for the tombstone and the audit event.
#[derive(Debug, Default, Serialize)]
struct Removed {
    documents: i64,
    kept_for_certificates: i64,
    candidates_anonymised: i64,
    certificate_holders_kept: i64,
    texts_cleared: i64,
}

impl Store {
    /// Register every closed record not registered yet (档案登记), with its due date and clause
    /// under `policy`. Idempotent and safe on several app servers at once. Returns how many.
    pub async fn register_closed_records(&self, policy: &Policy) -> Result<usize> {
        let mut found: Vec<Closed> = vec![];
        let rows = sqlx::query(
            "SELECT a.id, a.kind, a.route, a.district_code, a.institution_id, i.name, a.state, a.filing_no, a.closed_on, a.closed_at \
             FROM filing_applications a JOIN institutions i ON i.id = a.institution_id \
             WHERE a.closed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM retention_records r WHERE r.class = 'filing' AND r.subject_id = a.id) ORDER BY a.id",
        )
        .fetch_all(&self.db.pool)
        .await?;
        for r in &rows {
            let kind: String = r.get(1);
            let route: String = r.get(2);
            let state: String = r.get(6);
            let no: Option<String> = r.get(7);
            let closed_on: Option<String> = r.get(8);
            let closed_at: String = r.get(9);
            found.push(Closed {
                class: RetentionClass::Filing,
                subject_type: "filing_application",
                subject_id: r.get(0),
                title: format!(
                    "{}：{}（{}{}）",
                    r.get::<String, _>(5),
                    domain::filing::FilingKind::parse(&kind).map_or(kind.as_str(), |k| k.label()),
                    domain::filing::FilingState::parse(&state)
                        .map_or(state.as_str(), |s| s.label()),
                    no.map(|n| format!("，备案编号 {n}")).unwrap_or_default()
                ),
                // City-route applications are kept by the city (统一组织开展).
                district: (route != "city").then(|| r.get(3)),
                institution: Some(r.get(4)),
                closed_on: closed_on
                    .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
                    .or_else(|| china_date(&closed_at)),
            });
        }
        let rows = sqlx::query(
            "SELECT p.id, p.plan_no, p.district_code, p.institution_id, i.name, o.name, p.closed_on, p.closed_at, \
             (SELECT COUNT(*) FROM candidates c WHERE c.plan_id = p.id), \
             (SELECT COUNT(*) FROM retention_records r WHERE r.class = 'plan' AND r.subject_id = p.id), \
             (SELECT COUNT(*) FROM retention_records r WHERE r.class = 'candidates' AND r.subject_id = p.id) \
             FROM plans p JOIN institutions i ON i.id = p.institution_id JOIN occupations o ON o.id = p.occupation_id \
             WHERE p.closed_at IS NOT NULL ORDER BY p.id",
        )
        .fetch_all(&self.db.pool)
        .await?;
        for r in &rows {
            let id: i64 = r.get(0);
            let no: String = r.get(1);
            let closed_on: Option<String> = r.get(6);
            let closed_at: String = r.get(7);
            let closed_on = closed_on
                .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
                .or_else(|| china_date(&closed_at));
            let candidates: i64 = r.get(8);
            if r.get::<i64, _>(9) == 0 {
                found.push(Closed {
                    class: RetentionClass::Plan,
                    subject_type: "plan",
                    subject_id: id,
                    title: format!(
                        "评价工作计划 {no}（{}，{}）",
                        r.get::<String, _>(4),
                        r.get::<String, _>(5)
                    ),
                    district: Some(r.get(2)),
                    institution: Some(r.get(3)),
                    closed_on,
                });
            }
            if candidates > 0 && r.get::<i64, _>(10) == 0 {
                found.push(Closed {
                    class: RetentionClass::Candidates,
                    subject_type: "plan",
                    subject_id: id,
                    title: format!("考生信息与评价结果：评价工作计划 {no}（{candidates} 人）"),
                    district: Some(r.get(2)),
                    institution: Some(r.get(3)),
                    closed_on,
                });
            }
        }
        // An institution's material replaced by a newer version (the current 电子备案 copy and
        // anything a row still points to are left alone).
        let rows = sqlx::query(
            "SELECT d.id, d.filename, d.version, d.district_code, d.institution_id, \
             (SELECT MIN(n.uploaded_at) FROM documents n WHERE n.owner_type = d.owner_type AND n.owner_id = d.owner_id AND n.kind = d.kind AND n.filename = d.filename AND n.version > d.version) \
             FROM documents d WHERE d.owner_type = 'institution' \
             AND EXISTS (SELECT 1 FROM documents n WHERE n.owner_type = d.owner_type AND n.owner_id = d.owner_id AND n.kind = d.kind AND n.filename = d.filename AND n.version > d.version) \
             AND NOT EXISTS (SELECT 1 FROM efilings e WHERE e.document_id = d.id) \
             AND NOT EXISTS (SELECT 1 FROM retention_records r WHERE r.class = 'document' AND r.subject_id = d.id) ORDER BY d.id",
        )
        .fetch_all(&self.db.pool)
        .await?;
        for r in &rows {
            let replaced: String = r.get(5);
            found.push(Closed {
                class: RetentionClass::Document,
                subject_type: "document",
                subject_id: r.get(0),
                title: format!(
                    "机构材料旧版本：{}（第 {} 版）",
                    r.get::<String, _>(1),
                    r.get::<i64, _>(2)
                ),
                district: r.get(3),
                institution: r.get(4),
                closed_on: china_date(&replaced),
            });
        }
        if found.is_empty() {
            return Ok(0);
        }
        let now = now_text();
        let mut tx = self.db.write().await?;
        let mut n = 0usize;
        let mut by_class = std::collections::BTreeMap::<&str, usize>::new();
        for c in &found {
            let Some(closed_on) = c.closed_on else {
                continue;
            };
            let rule = c.class.rule(policy);
            // Certificates are the only permanent class, and they are not registered.
            let Some(due) = rule.due_on(closed_on) else {
                continue;
            };
            let added = sqlx::query(
                "INSERT INTO retention_records (class, subject_type, subject_id, title, district_code, institution_id, medium, closed_on, due_on, clause, registered_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (class, subject_id) DO NOTHING",
            )
            .bind(c.class.as_str())
            .bind(c.subject_type)
            .bind(c.subject_id)
            .bind(&c.title)
            .bind(&c.district)
            .bind(c.institution)
            .bind(c.class.medium().as_str())
            .bind(closed_on.format("%Y-%m-%d").to_string())
            .bind(due.format("%Y-%m-%d").to_string())
            .bind(&rule.clause)
            .bind(&now)
            .execute(tx.conn())
            .await?
            .rows_affected();
            if added > 0 {
                n += 1;
                *by_class.entry(c.class.as_str()).or_default() += 1;
            }
        }
        if n > 0 {
            append(
                &mut tx,
                &Actor::system("retention"),
                NewEvent {
                    action: "retention.register",
                    object_type: "retention_record",
                    object_id: String::new(),
                    summary: serde_json::json!({ "registered": n, "by_class": by_class }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Register a paper record (纸质档案登记) kept by `district` (`None`: the city), due on `due`.
    pub async fn register_paper_record(
        &self,
        actor: &Actor,
        district: Option<&str>,
        entry: &dr::PaperEntry,
        due: NaiveDate,
        clause: &str,
    ) -> Result<PaperRecord> {
        let now = now_text();
        let district: Option<String> = district.map(str::to_string);
        let closed = entry.closed_on.format("%Y-%m-%d").to_string();
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO paper_records (district_code, kind, title, location, custodian, closed_on, note, registered_by, registered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(&district)
        .bind(entry.kind.as_str())
        .bind(&entry.title)
        .bind(&entry.location)
        .bind(&entry.custodian)
        .bind(&closed)
        .bind(&entry.note)
        .bind(&actor.username)
        .bind(&now)
        .fetch_one(tx.conn())
        .await?
        .get(0);
        let record: i64 = sqlx::query(
            "INSERT INTO retention_records (class, subject_type, subject_id, title, district_code, medium, closed_on, due_on, clause, registered_at) \
             VALUES ('paper', 'paper_record', $1, $2, $3, 'paper', $4, $5, $6, $7) RETURNING id",
        )
        .bind(id)
        .bind(format!("{}：{}", entry.kind.label(), entry.title))
        .bind(&district)
        .bind(&closed)
        .bind(due.format("%Y-%m-%d").to_string())
        .bind(clause)
        .bind(&now)
        .fetch_one(tx.conn())
        .await?
        .get(0);
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "retention.paper_register",
                object_type: "paper_record",
                object_id: id.to_string(),
                summary: serde_json::json!({
                    "record_id": record, "kind": entry.kind.as_str(), "title": entry.title,
                    "location": entry.location, "custodian": entry.custodian,
                    "closed_on": closed, "due_on": due.to_string(), "district": district,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        self.paper_record(&Scope::City, id).await
    }

    pub async fn paper_record(&self, scope: &Scope, id: i64) -> Result<PaperRecord> {
        let mut w = Where::new();
        w.eq_int("p.id", id);
        scope_filter(&mut w, scope, "p.district_code");
        let sql = format!("SELECT {PAPER_COLUMNS} FROM {PAPER_FROM}{}", w.sql());
        w.bind(sqlx::query(&sql))
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| paper_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    pub async fn list_paper_records(
        &self,
        scope: &Scope,
        f: &PaperFilter,
        page: PageRequest,
    ) -> Result<Page<PaperRecord>> {
        let mut w = Where::new();
        scope_filter(&mut w, scope, "p.district_code");
        district_narrowing(&mut w, scope, "p.district_code", f.district.as_deref());
        w.eq_text("p.kind", f.kind.as_deref());
        w.search(&["p.title", "p.location", "p.custodian"], f.q.as_deref());
        w.fetch_page(
            &self.db,
            PAPER_COLUMNS,
            PAPER_FROM,
            "p.closed_on DESC, p.id DESC",
            page,
            paper_row,
        )
        .await
    }
}

fn retention_where(scope: &Scope, f: &RetentionFilter, today: NaiveDate) -> Where {
    let mut w = Where::new();
    scope_filter(&mut w, scope, "r.district_code");
    district_narrowing(&mut w, scope, "r.district_code", f.district.as_deref());
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
    w
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
        Ok(sqlx::query(&sql)
            .bind(record_id)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(disposal_row)
            .collect())
    }

    /// Disposals approved by both keys and not carried out yet, across the city (for the run).
    pub async fn approved_disposals(&self) -> Result<Vec<Disposal>> {
        let sql = format!(
            "SELECT {DISPOSAL_COLUMNS} FROM retention_disposals WHERE status = 'approved' ORDER BY id"
        );
        Ok(sqlx::query(&sql)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(disposal_row)
            .collect())
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
            .ok_or(StoreError::NotFound)
    }

    /// The first key (销毁申请): `side` agrees to dispose of the record for `reason`.
    pub async fn propose_disposal(
        &self,
        actor: &Actor,
        record: &RetentionRecord,
        expected_version: i64,
        side: dr::KeySide,
        reason: &str,
    ) -> Result<Disposal> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        Self::touch_record(&mut tx, record.id, expected_version).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO retention_disposals (record_id, status, reason, first_side, first_by, first_at) VALUES ($1, 'proposed', $2, $3, $4, $5) RETURNING id",
        )
        .bind(record.id)
        .bind(reason)
        .bind(side.as_str())
        .bind(&actor.username)
        .bind(&now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| StoreError::unique(e, "该档案已有待审批的销毁申请"))?
        .get(0);
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "retention.disposal_propose",
                object_type: "retention_record",
                object_id: record.id.to_string(),
                summary: serde_json::json!({ "disposal": id, "class": record.class, "subject_id": record.subject_id, "side": side.as_str(), "reason": reason, "due_on": record.due_on }),
            },
        )
        .await?;
        let d = Self::disposal_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(d)
    }

    /// The second key: `side` (the other office, decided by the domain) confirms.
    pub async fn approve_disposal(
        &self,
        actor: &Actor,
        record: &RetentionRecord,
        disposal_id: i64,
        expected_version: i64,
        side: dr::KeySide,
    ) -> Result<Disposal> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        Self::touch_record(&mut tx, record.id, expected_version).await?;
        let n = sqlx::query(
            "UPDATE retention_disposals SET status = 'approved', second_side = $1, second_by = $2, second_at = $3 WHERE id = $4 AND record_id = $5 AND status = 'proposed' AND first_side <> $1",
        )
        .bind(side.as_str())
        .bind(&actor.username)
        .bind(&now)
        .bind(disposal_id)
        .bind(record.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "retention.disposal_approve",
                object_type: "retention_record",
                object_id: record.id.to_string(),
                summary: serde_json::json!({ "disposal": disposal_id, "side": side.as_str() }),
            },
        )
        .await?;
        let d = Self::disposal_in(&mut tx, disposal_id).await?;
        tx.commit().await?;
        Ok(d)
    }

    /// Withdraw an open disposal (either key holder).
    pub async fn withdraw_disposal(
        &self,
        actor: &Actor,
        record: &RetentionRecord,
        disposal_id: i64,
        expected_version: i64,
    ) -> Result<Disposal> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        Self::touch_record(&mut tx, record.id, expected_version).await?;
        let n = sqlx::query(
            "UPDATE retention_disposals SET status = 'withdrawn', withdrawn_by = $1, withdrawn_at = $2 WHERE id = $3 AND record_id = $4 AND status IN ('proposed', 'approved')",
        )
        .bind(&actor.username)
        .bind(&now)
        .bind(disposal_id)
        .bind(record.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "retention.disposal_withdraw",
                object_type: "retention_record",
                object_id: record.id.to_string(),
                summary: serde_json::json!({ "disposal": disposal_id }),
            },
        )
        .await?;
        let d = Self::disposal_in(&mut tx, disposal_id).await?;
        tx.commit().await?;
        Ok(d)
    }

    /// Place a legal hold (冻结) on a kept record.
    pub async fn place_hold(
        &self,
        actor: &Actor,
        record: &RetentionRecord,
        expected_version: i64,
        reason: &str,
    ) -> Result<Hold> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        Self::touch_record(&mut tx, record.id, expected_version).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO retention_holds (record_id, reason, placed_by, placed_role, placed_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(record.id)
        .bind(reason)
        .bind(&actor.username)
        .bind(&actor.role)
        .bind(&now)
        .fetch_one(tx.conn())
        .await?
        .get(0);
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "retention.hold",
                object_type: "retention_record",
                object_id: record.id.to_string(),
                summary: serde_json::json!({ "hold": id, "reason": reason }),
            },
        )
        .await?;
        tx.commit().await?;
        self.retention_holds(record.id)
            .await?
            .into_iter()
            .find(|h| h.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// Lift a legal hold (解除冻结) with a reason.
    pub async fn lift_hold(
        &self,
        actor: &Actor,
        record: &RetentionRecord,
        hold_id: i64,
        expected_version: i64,
        reason: &str,
    ) -> Result<()> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        Self::touch_record(&mut tx, record.id, expected_version).await?;
        let n = sqlx::query(
            "UPDATE retention_holds SET lifted_by = $1, lift_reason = $2, lifted_at = $3 WHERE id = $4 AND record_id = $5 AND lifted_at IS NULL",
        )
        .bind(&actor.username)
        .bind(reason)
        .bind(&now)
        .bind(hold_id)
        .bind(record.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "retention.hold_lift",
                object_type: "retention_record",
                object_id: record.id.to_string(),
                summary: serde_json::json!({ "hold": hold_id, "reason": reason }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Carry out an approved disposal (销毁): in one transaction, remove the record's files and
    /// personal data, mark the record disposed (the tombstone) and append the audit event; then
    /// delete the blob files no row names any more. The caller has asked the domain
    /// (`check_disposable`, `check_execute`); the version check makes a hold placed meanwhile win.
    pub async fn execute_disposal(
        &self,
        actor: &Actor,
        record: &RetentionRecord,
        disposal_id: i64,
        expected_version: i64,
    ) -> Result<Disposal> {
        let class = record
            .class()
            .ok_or_else(|| StoreError::Other(format!("未知的保管类别 {}", record.class)))?;
        let now = now_text();
        let mut tx = self.db.write().await?;
        let n = sqlx::query(
            "UPDATE retention_records SET state = 'disposed', disposed_at = $1, version = version + 1 WHERE id = $2 AND version = $3 AND state = 'kept' \
             AND NOT EXISTS (SELECT 1 FROM retention_holds h WHERE h.record_id = retention_records.id AND h.lifted_at IS NULL)",
        )
        .bind(&now)
        .bind(record.id)
        .bind(expected_version)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        let mut removed = Removed::default();
        let mut blobs: Vec<String> = vec![];
        let sid = record.subject_id;
        match class {
            RetentionClass::Filing => {
                let docs = ids(
                    &mut tx,
                    "SELECT id FROM documents WHERE owner_type = 'filing_application' AND owner_id = $1",
                    sid,
                )
                .await?;
                remove_documents(&mut tx, &docs, &mut removed, &mut blobs).await?;
                removed.texts_cleared += exec(
                    &mut tx,
                    "UPDATE filing_events SET attachments = '[]' WHERE application_id = $1 AND attachments <> '[]'",
                    sid,
                )
                .await?;
                removed.texts_cleared += exec(
                    &mut tx,
                    "UPDATE filing_supervisors SET opinion_attachments = '[]' WHERE application_id = $1 AND opinion_attachments <> '[]'",
                    sid,
                )
                .await?;
            }
            RetentionClass::Plan => {
                let docs = ids(
                    &mut tx,
                    "SELECT id FROM documents WHERE owner_type IN ('plan', 'supervision_report') AND owner_id = $1",
                    sid,
                )
                .await?;
                remove_documents(&mut tx, &docs, &mut removed, &mut blobs).await?;
                // 考评员 and 内部督导员 are named in the plan and its snapshots; the 督导报告 text
                // is process material. The 督导责任书 stays: it proves the evaluation valid, and
                // with it the certificates (二(三)).
                removed.texts_cleared += exec(
                    &mut tx,
                    "UPDATE plans SET examiners = '', internal_supervisor = '' WHERE id = $1",
                    sid,
                )
                .await?;
                removed.texts_cleared += exec(
                    &mut tx,
                    "UPDATE plan_events SET snapshot = '' WHERE plan_id = $1 AND snapshot <> ''",
                    sid,
                )
                .await?;
                removed.texts_cleared += exec(
                    &mut tx,
                    "UPDATE supervision_reports SET body = '', attachment_name = '', document_id = NULL WHERE plan_id = $1",
                    sid,
                )
                .await?;
            }
            RetentionClass::Candidates => {
                // A certificate holder's name, ID number and photo are certificate data, kept
                // with the certificate (permanent); everyone else's personal data goes.
                let holder =
                    "EXISTS (SELECT 1 FROM certificates k WHERE k.candidate_id = candidates.id)";
                let docs = ids(
                    &mut tx,
                    &format!("SELECT photo_document_id FROM candidates WHERE plan_id = $1 AND photo_document_id IS NOT NULL AND NOT {holder}"),
                    sid,
                )
                .await?;
                let mut all = docs.clone();
                all.extend(
                    ids(
                        &mut tx,
                        &format!("SELECT d.id FROM documents d WHERE d.owner_type = 'candidate' AND d.owner_id IN (SELECT id FROM candidates WHERE plan_id = $1 AND NOT {holder})"),
                        sid,
                    )
                    .await?,
                );
                all.sort_unstable();
                all.dedup();
                sqlx::query(&format!(
                    "UPDATE candidates SET photo_document_id = NULL WHERE plan_id = $1 AND NOT {holder}"
                ))
                .bind(sid)
                .execute(tx.conn())
                .await?;
                remove_documents(&mut tx, &all, &mut removed, &mut blobs).await?;
                removed.candidates_anonymised = exec(
                    &mut tx,
                    &format!("UPDATE candidates SET name = '（已销毁）', id_number = '', id_masked = '', id_hash = 'disposed:' || CAST(id AS TEXT), gender = '', education = '', source = '', phone = '', dup_flag = '', version = version + 1, updated_at = $2 WHERE plan_id = $1 AND NOT {holder}"),
                    (sid, now.clone()),
                )
                .await?;
                removed.certificate_holders_kept = exec(
                    &mut tx,
                    &format!("UPDATE candidates SET education = '', source = '', phone = '', version = version + 1, updated_at = $2 WHERE plan_id = $1 AND {holder}"),
                    (sid, now.clone()),
                )
                .await?;
            }
            RetentionClass::Document => {
                remove_documents(&mut tx, &[sid], &mut removed, &mut blobs).await?;
            }
            RetentionClass::Paper | RetentionClass::Certificate => {}
        }
        blobs.sort();
        blobs.dedup();
        let removed_json = serde_json::to_string(&removed).unwrap_or_else(|_| "{}".into());
        let n = sqlx::query(
            "UPDATE retention_disposals SET status = 'done', executed_by = $1, executed_at = $2, removed = $3, blob_keys = $4 WHERE id = $5 AND record_id = $6 AND status = 'approved'",
        )
        .bind(&actor.username)
        .bind(&now)
        .bind(&removed_json)
        .bind(serde_json::to_string(&blobs).unwrap_or_else(|_| "[]".into()))
        .bind(disposal_id)
        .bind(record.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        let d = Self::disposal_in(&mut tx, disposal_id).await?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "retention.dispose",
                object_type: "retention_record",
                object_id: record.id.to_string(),
                summary: serde_json::json!({
                    "class": record.class, "subject_type": record.subject_type,
                    "subject_id": record.subject_id, "closed_on": record.closed_on,
                    "due_on": record.due_on, "reason": d.reason,
                    "keys": [
                        { "side": d.first_side, "by": d.first_by },
                        { "side": d.second_side, "by": d.second_by },
                    ],
                    "removed": removed, "files": blobs.len(),
                }),
            },
        )
        .await?;
        tx.commit().await?;
        // The files go after the commit: a failure leaves them for the next run's purge.
        if let Err(e) = self.purge_blobs_of(d.id).await {
            tracing::warn!(disposal = d.id, error = %e, "blob purge postponed");
        }
        let sql = format!("SELECT {DISPOSAL_COLUMNS} FROM retention_disposals WHERE id = $1");
        Ok(disposal_row(
            &sqlx::query(&sql)
                .bind(d.id)
                .fetch_one(&self.db.pool)
                .await?,
        ))
    }

    /// Delete the files of one carried-out disposal that no document row names any more.
    async fn purge_blobs_of(&self, disposal_id: i64) -> Result<usize> {
        let r = sqlx::query(
            "SELECT blob_keys FROM retention_disposals WHERE id = $1 AND status = 'done' AND blobs_purged_at IS NULL",
        )
        .bind(disposal_id)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(r) = r else { return Ok(0) };
        let keys: Vec<String> = serde_json::from_str(&r.get::<String, _>(0)).unwrap_or_default();
        let mut n = 0;
        for k in &keys {
            let used: i64 = sqlx::query("SELECT COUNT(*) FROM documents WHERE blob_key = $1")
                .bind(k)
                .fetch_one(&self.db.pool)
                .await?
                .get(0);
            if used == 0 {
                self.blobs.delete(k).await?;
                n += 1;
            }
        }
        sqlx::query("UPDATE retention_disposals SET blobs_purged_at = $1 WHERE id = $2")
            .bind(now_text())
            .bind(disposal_id)
            .execute(&self.db.pool)
            .await?;
        Ok(n)
    }

    /// Finish the file deletions of every carried-out disposal whose purge was interrupted.
    pub async fn purge_disposed_blobs(&self) -> Result<usize> {
        let ids: Vec<i64> = sqlx::query(
            "SELECT id FROM retention_disposals WHERE status = 'done' AND blobs_purged_at IS NULL ORDER BY id",
        )
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        let mut n = 0;
        for id in ids {
            n += self.purge_blobs_of(id).await?;
        }
        Ok(n)
    }
}

/// Binds of the small helper queries below.
trait Binds {
    fn bind_to<'q>(
        &'q self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;
}

impl Binds for i64 {
    fn bind_to<'q>(
        &'q self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        q.bind(*self)
    }
}

impl Binds for (i64, String) {
    fn bind_to<'q>(
        &'q self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        q.bind(self.0).bind(self.1.as_str())
    }
}

async fn ids(tx: &mut WriteTx, sql: &str, id: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query(sql)
        .bind(id)
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

async fn exec(tx: &mut WriteTx, sql: &str, binds: impl Binds) -> Result<i64> {
    Ok(binds
        .bind_to(sqlx::query(sql))
        .execute(tx.conn())
        .await?
        .rows_affected() as i64)
}

/// Delete document rows (keeping those a certificate shows: its photo is certificate data),
/// unlinking the rows that point to them, and collect their blob keys.
async fn remove_documents(
    tx: &mut WriteTx,
    ids: &[i64],
    removed: &mut Removed,
    blobs: &mut Vec<String>,
) -> Result<()> {
    for &id in ids {
        let used_by_certificate: i64 =
            sqlx::query("SELECT COUNT(*) FROM certificates WHERE photo_document_id = $1")
                .bind(id)
                .fetch_one(tx.conn())
                .await?
                .get(0);
        if used_by_certificate > 0 {
            removed.kept_for_certificates += 1;
            continue;
        }
        let Some(key) = sqlx::query("SELECT blob_key FROM documents WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .map(|r| r.get::<String, _>(0))
        else {
            continue;
        };
        for sql in [
            "UPDATE candidates SET photo_document_id = NULL WHERE photo_document_id = $1",
            "UPDATE supervision_reports SET document_id = NULL WHERE document_id = $1",
            "UPDATE efilings SET document_id = NULL WHERE document_id = $1",
            "UPDATE province_reports SET document_id = NULL WHERE document_id = $1",
            "DELETE FROM documents WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(tx.conn()).await?;
        }
        removed.documents += 1;
        blobs.push(key);
    }
    Ok(())
}
