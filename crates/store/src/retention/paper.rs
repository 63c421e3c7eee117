//! Paper records (纸质档案): registered by hand, kept in the register like the electronic ones.

use chrono::NaiveDate;
use domain::retention as dr;
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{district_narrowing, scope_filter};
use crate::audit::{append, Actor, NewEvent};
use crate::sql::Where;
use crate::{now_text, Page, PageRequest, Result, Store, StoreError};

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
    pub state: dr::RecordState,
    /// Under an active legal hold (冻结).
    pub held: bool,
}

impl PaperRecord {
    /// 状态 as people read it on `today`.
    pub fn status_label(&self, today: NaiveDate) -> &'static str {
        if self.state == dr::RecordState::Disposed {
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
        state: crate::sql::code(r, 13)?,
        held: r.get::<i64, _>(14) > 0,
    })
}

#[derive(Debug, Clone, Default)]
pub struct PaperFilter {
    pub kind: Option<String>,
    pub q: Option<String>,
    pub district: Option<String>,
}

impl Store {
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
