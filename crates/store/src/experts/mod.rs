//! 市级技能人才评价专家库 and the expert draws (专家抽取) with their on-site opinions.

use chrono::NaiveDate;
use domain::draw::{self, Candidate, DrawRecord, Exclusion};
use domain::filing::Outcome;
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, record, Actor, NewEvent};
use crate::db::WriteTx;
use crate::filing::{event, FilingApp};
use crate::sql::{Arg, Where};
use crate::{now_text, Page, PageRequest, Result, Store, StoreError};

mod draws;
pub use draws::*;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Expert {
    pub id: i64,
    pub name: String,
    /// Masked (e.g. 4101**********1234); the full number is read through an audited call.
    pub id_masked: String,
    pub employer: String,
    pub employer_credit_code: Option<String>,
    pub district_code: Option<String>,
    pub title: String,
    pub phone: String,
    pub active: bool,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub occupations: Vec<(i64, String, String)>,
    pub unavailable: Vec<(String, String, String)>,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct NewExpert {
    pub name: String,
    pub id_number: String,
    pub id_masked: String,
    pub employer: String,
    pub employer_credit_code: Option<String>,
    pub district_code: Option<String>,
    pub title: String,
    pub phone: String,
    pub user_id: Option<i64>,
    pub occupation_ids: Vec<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ExpertFilter {
    pub q: Option<String>,
    pub occupation: Option<String>,
    pub district: Option<String>,
    pub active: Option<bool>,
}

const COLUMNS: &str = "e.id, e.name, e.id_masked, e.employer, e.employer_credit_code, e.district_code, e.title, e.phone, e.active, e.user_id, u.username, e.version";
const FROM: &str = "experts e LEFT JOIN users u ON u.id = e.user_id";

fn from_row(r: &AnyRow) -> Result<Expert> {
    Ok(Expert {
        id: r.get(0),
        name: r.get(1),
        id_masked: r.get(2),
        employer: r.get(3),
        employer_credit_code: r.get(4),
        district_code: r.get(5),
        title: r.get(6),
        phone: r.get(7),
        active: r.get::<i64, _>(8) != 0,
        user_id: r.get(9),
        username: r.get(10),
        occupations: vec![],
        unavailable: vec![],
        version: r.get(11),
    })
}

impl Store {
    pub async fn create_expert(&self, actor: &Actor, e: &NewExpert) -> Result<i64> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query("INSERT INTO experts (name, id_number, id_masked, employer, employer_credit_code, district_code, title, phone, user_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
            .bind(&e.name)
            .bind(&e.id_number)
            .bind(&e.id_masked)
            .bind(&e.employer)
            .bind(&e.employer_credit_code)
            .bind(&e.district_code)
            .bind(&e.title)
            .bind(&e.phone)
            .bind(e.user_id)
            .bind(&now)
            .bind(&now)
            .fetch_one(tx.conn())
            .await
            .map_err(|err| StoreError::unique(err, "该身份证号码的专家已在库中"))?
            .get(0);
        for o in &e.occupation_ids {
            sqlx::query(
                "INSERT INTO expert_occupations (expert_id, occupation_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(*o)
            .execute(tx.conn())
            .await?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "expert.create",
                object_type: "expert",
                object_id: id.to_string(),
                summary: serde_json::json!({ "name": e.name, "id_masked": e.id_masked, "employer": e.employer, "occupations": e.occupation_ids }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn expert_details(&self, e: &mut Expert) -> Result<()> {
        let rows = sqlx::query("SELECT o.id, o.code, o.name FROM expert_occupations eo JOIN occupations o ON o.id = eo.occupation_id WHERE eo.expert_id = $1 ORDER BY o.code")
            .bind(e.id)
            .fetch_all(&self.db.pool)
            .await?;
        e.occupations = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let rows = sqlx::query("SELECT date_from, date_to, reason FROM expert_unavailable WHERE expert_id = $1 ORDER BY date_from")
            .bind(e.id)
            .fetch_all(&self.db.pool)
            .await?;
        e.unavailable = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        Ok(())
    }

    pub async fn expert(&self, id: i64) -> Result<Expert> {
        let mut e = sqlx::query(&format!("SELECT {COLUMNS} FROM {FROM} WHERE e.id = $1"))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound)?;
        self.expert_details(&mut e).await?;
        Ok(e)
    }

    pub async fn list_experts(&self, f: &ExpertFilter, page: PageRequest) -> Result<Page<Expert>> {
        let mut w = Where::new();
        w.search(&["e.name", "e.employer", "e.title"], f.q.as_deref());
        w.eq_text("e.district_code", f.district.as_deref());
        if let Some(a) = f.active {
            w.eq_int("e.active", a as i64);
        }
        if let Some(code) = f.occupation.as_deref().filter(|c| !c.trim().is_empty()) {
            let p = w.arg(Arg::Text(code.trim().to_string()));
            w.raw(format!("e.id IN (SELECT eo.expert_id FROM expert_occupations eo JOIN occupations o ON o.id = eo.occupation_id WHERE o.code = {p})"));
        }
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {COLUMNS} FROM {FROM}"),
                "e.id",
                page,
            )
            .await?;
        let total = w.total_after(&self.db, FROM, page, rows.len()).await?;
        let mut items: Vec<Expert> = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        for e in items.iter_mut() {
            self.expert_details(e).await?;
        }
        Ok(Page {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// The full ID number: every read is audited.
    pub async fn expert_id_number(&self, actor: &Actor, id: i64) -> Result<String> {
        let n: String = sqlx::query("SELECT id_number FROM experts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or(StoreError::NotFound)?
            .get(0);
        record(
            &self.db,
            actor,
            NewEvent {
                action: "expert.read_id_number",
                object_type: "expert",
                object_id: id.to_string(),
                summary: serde_json::json!({ "purpose": "查看完整身份证号码" }),
            },
        )
        .await?;
        Ok(n)
    }

    pub async fn expert_id_by_number(&self, id_number: &str) -> Result<Option<i64>> {
        Ok(sqlx::query("SELECT id FROM experts WHERE id_number = $1")
            .bind(id_number)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| r.get(0)))
    }

    pub async fn add_unavailable(
        &self,
        actor: &Actor,
        id: i64,
        from: NaiveDate,
        to: NaiveDate,
        reason: &str,
    ) -> Result<()> {
        self.expert(id).await?;
        let mut tx = self.db.write().await?;
        sqlx::query("INSERT INTO expert_unavailable (expert_id, date_from, date_to, reason) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(from.to_string())
            .bind(to.to_string())
            .bind(reason)
            .execute(tx.conn())
            .await?;
        append(&mut tx, actor, NewEvent { action: "expert.unavailable", object_type: "expert", object_id: id.to_string(), summary: serde_json::json!({ "from": from.to_string(), "to": to.to_string(), "reason": reason }) }).await?;
        tx.commit().await
    }

    pub async fn set_expert_active(&self, actor: &Actor, id: i64, active: bool) -> Result<()> {
        let mut tx = self.db.write().await?;
        let n = sqlx::query(
            "UPDATE experts SET active = $1, version = version + 1, updated_at = $2 WHERE id = $3",
        )
        .bind(active as i64)
        .bind(now_text())
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: if active {
                    "expert.activate"
                } else {
                    "expert.deactivate"
                },
                object_type: "expert",
                object_id: id.to_string(),
                summary: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Every expert qualified for one of `occupation_ids`, with what the draw needs.
    pub async fn draw_candidates(&self, occupation_ids: &[i64]) -> Result<Vec<Candidate>> {
        let rows = sqlx::query("SELECT e.id, e.name, e.employer, e.employer_credit_code, e.active, u.institution_id FROM experts e LEFT JOIN users u ON u.id = e.user_id ORDER BY e.id")
            .fetch_all(&self.db.pool)
            .await?;
        let mut out = vec![];
        for r in rows {
            let id: i64 = r.get(0);
            let occ: Vec<i64> =
                sqlx::query("SELECT occupation_id FROM expert_occupations WHERE expert_id = $1")
                    .bind(id)
                    .fetch_all(&self.db.pool)
                    .await?
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
            if !occ.iter().any(|o| occupation_ids.contains(o)) {
                continue;
            }
            let unavailable = sqlx::query(
                "SELECT date_from, date_to FROM expert_unavailable WHERE expert_id = $1",
            )
            .bind(id)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .filter_map(|r| {
                let f = NaiveDate::parse_from_str(&r.get::<String, _>(0), "%Y-%m-%d").ok()?;
                let t = NaiveDate::parse_from_str(&r.get::<String, _>(1), "%Y-%m-%d").ok()?;
                Some((f, t))
            })
            .collect();
            let reviews = sqlx::query("SELECT a.institution_id, x.drawn_at FROM draw_members dm JOIN expert_draws x ON x.id = dm.draw_id JOIN filing_applications a ON a.id = dm.application_id WHERE dm.expert_id = $1 AND dm.status <> 'declined' AND x.status IN ('drawn', 'superseded') AND x.drawn_at IS NOT NULL")
                .bind(id)
                .fetch_all(&self.db.pool)
                .await?
                .iter()
                .filter_map(|r| {
                    let at: String = r.get(1);
                    let d = NaiveDate::parse_from_str(at.get(..10)?, "%Y-%m-%d").ok()?;
                    Some((r.get::<i64, _>(0), d))
                })
                .collect();
            out.push(Candidate {
                id,
                name: r.get(1),
                employer: r.get(2),
                employer_credit_code: r.get(3),
                occupation_ids: occ,
                active: r.get::<i64, _>(4) != 0,
                unavailable,
                reviews,
                staff_of: r.get(5),
            });
        }
        Ok(out)
    }
}
