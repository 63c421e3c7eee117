//! The sweep that registers closed records in the register (档案登记), each once, with its due
//! date and clause.

use chrono::NaiveDate;
use domain::policy::Policy;
use domain::retention::RetentionClass;
use sqlx::Row;

use super::china_date;
use crate::audit::{append, Actor, NewEvent};
use crate::{now_text, Result, Store};

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
}
