//! The review stages of 机构备案 around the state machine: 评审督导 dispatched jointly by the two
//! city roles with the supervisor's 督导意见, the report to the provincial authority
//! (报至上级部门) of a batch of approved applications, and the 属地 move of an institution to the
//! district of its premises (二(一)).

use domain::filing::{MoveStatus, SupervisorStatus};
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::filing::{event, FilingApp};
use crate::{now_text, Result, Store, StoreError};

/// A review supervisor (评审督导) of an application.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FilingSupervisor {
    pub user_id: i64,
    pub username: String,
    pub name: String,
    /// `proposed` (one city role) or `dispatched` (both).
    pub status: SupervisorStatus,
    pub dispatched_by: String,
    /// Role of the proposer (`city_center` | `city_division`).
    pub proposed_role: String,
    pub confirmed_by: Option<String>,
    /// 督导意见.
    pub opinion: Option<String>,
    /// Document ids of the application attached to the opinion.
    pub opinion_attachments: Vec<i64>,
    pub opinion_at: Option<String>,
}

/// A report to the provincial authority of a batch of approved applications.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvinceReport {
    pub id: i64,
    pub reported_on: String,
    pub doc_no: String,
    pub document_id: Option<i64>,
    pub note: String,
    pub created_by: String,
    pub created_at: String,
    pub application_ids: Vec<i64>,
}

/// A request to move an institution to the district of its premises.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DistrictMove {
    pub id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub from_district: String,
    pub to_district: String,
    pub reason: String,
    pub status: MoveStatus,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub version: i64,
}

const MOVE_COLUMNS: &str = "m.id, m.institution_id, i.name, m.from_district, m.to_district, m.reason, m.status, m.requested_by, m.requested_at, m.decided_by, m.decision_reason, m.version";

fn move_from_row(r: &AnyRow) -> Result<DistrictMove> {
    Ok(DistrictMove {
        id: r.get(0),
        institution_id: r.get(1),
        institution_name: r.get(2),
        from_district: r.get(3),
        to_district: r.get(4),
        reason: r.get(5),
        status: crate::sql::code(r, 6)?,
        requested_by: r.get(7),
        requested_at: r.get(8),
        decided_by: r.get(9),
        decision_reason: r.get(10),
        version: r.get(11),
    })
}

/// What a dispatch call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Dispatch {
    /// The first city role proposed; the other must confirm.
    Proposed,
    /// Dispatched (both roles took part, or the policy lets one role act alone).
    Dispatched,
}

impl Store {
    /// One city role's part of dispatching `user_id` as review supervisor of `app`
    /// ("市人社局职建处会同市职业技能鉴定中心派遣评审督导"). With `joint`, the first role proposes
    /// and the other confirms, in either order; the same role twice is refused.
    pub async fn dispatch_supervisor(
        &self,
        actor: &Actor,
        app: &FilingApp,
        user_id: i64,
        username: &str,
        joint: bool,
    ) -> Result<Dispatch> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        let row = sqlx::query("SELECT status, proposed_role FROM filing_supervisors WHERE application_id = $1 AND user_id = $2")
            .bind(app.id)
            .bind(user_id)
            .fetch_optional(tx.conn())
            .await?;
        let (outcome, text) = match row {
            None => {
                let status = if joint { "proposed" } else { "dispatched" };
                sqlx::query("INSERT INTO filing_supervisors (application_id, user_id, dispatched_by, dispatched_at, status, proposed_role) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(app.id)
                    .bind(user_id)
                    .bind(&actor.username)
                    .bind(&now)
                    .bind(status)
                    .bind(&actor.role)
                    .execute(tx.conn())
                    .await
                    .map_err(|e| StoreError::unique(e, "该督导员已派遣到本申请"))?;
                if joint {
                    (
                        Dispatch::Proposed,
                        format!("提出派遣评审督导：{username}（待另一市级部门会同确认）"),
                    )
                } else {
                    (Dispatch::Dispatched, format!("派遣评审督导：{username}"))
                }
            }
            Some(r) => {
                let (status, role): (String, String) = (r.get(0), r.get(1));
                if status == "dispatched" {
                    return Err(StoreError::Invalid("该督导员已派遣到本申请".into()));
                }
                if role == actor.role {
                    return Err(StoreError::Invalid(
                        "本部门已提出派遣，须由另一市级部门会同确认".into(),
                    ));
                }
                let n = sqlx::query("UPDATE filing_supervisors SET status = 'dispatched', confirmed_by = $1, confirmed_at = $2 WHERE application_id = $3 AND user_id = $4 AND status = 'proposed'")
                    .bind(&actor.username)
                    .bind(&now)
                    .bind(app.id)
                    .bind(user_id)
                    .execute(tx.conn())
                    .await?
                    .rows_affected();
                if n == 0 {
                    return Err(StoreError::Conflict);
                }
                (
                    Dispatch::Dispatched,
                    format!("会同确认派遣评审督导：{username}"),
                )
            }
        };
        event(
            &mut tx,
            actor,
            app.id,
            "filing.dispatch_supervisor",
            app.state.as_str(),
            app.state.as_str(),
            &text,
            &[],
        )
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    pub async fn filing_supervisors(&self, application_id: i64) -> Result<Vec<FilingSupervisor>> {
        let rows = sqlx::query("SELECT u.id, u.username, u.display_name, fs.status, fs.dispatched_by, fs.proposed_role, fs.confirmed_by, fs.opinion, fs.opinion_attachments, fs.opinion_at FROM filing_supervisors fs JOIN users u ON u.id = fs.user_id WHERE fs.application_id = $1 ORDER BY fs.id")
            .bind(application_id)
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| -> Result<FilingSupervisor> {
                Ok(FilingSupervisor {
                    user_id: r.get(0),
                    username: r.get(1),
                    name: r.get(2),
                    status: crate::sql::code(r, 3)?,
                    dispatched_by: r.get(4),
                    proposed_role: r.get(5),
                    confirmed_by: r.get(6),
                    opinion: r.get(7),
                    opinion_attachments: serde_json::from_str(&r.get::<String, _>(8))
                        .unwrap_or_default(),
                    opinion_at: r.get(9),
                })
            })
            .collect::<Result<Vec<_>>>()?)
    }

    /// Dispatched supervisors of `application_id` without a 督导意见.
    pub async fn supervision_opinions_missing(&self, application_id: i64) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM filing_supervisors WHERE application_id = $1 AND status = 'dispatched' AND opinion IS NULL")
            .bind(application_id)
            .fetch_one(&self.db.pool)
            .await?
            .get(0))
    }

    /// The dispatched supervisor files (or amends, before the city's decision) its 督导意见.
    pub async fn file_supervision_opinion(
        &self,
        actor: &Actor,
        app: &FilingApp,
        user_id: i64,
        opinion: &str,
        attachments: &[i64],
    ) -> Result<()> {
        let mut tx = self.db.write().await?;
        let n = sqlx::query("UPDATE filing_supervisors SET opinion = $1, opinion_attachments = $2, opinion_at = $3 WHERE application_id = $4 AND user_id = $5 AND status = 'dispatched'")
            .bind(opinion)
            .bind(serde_json::to_string(attachments).unwrap_or_else(|_| "[]".into()))
            .bind(now_text())
            .bind(app.id)
            .bind(user_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        let names: Vec<String> = attachments.iter().map(|a| a.to_string()).collect();
        event(
            &mut tx,
            actor,
            app.id,
            "filing.supervision_opinion",
            app.state.as_str(),
            app.state.as_str(),
            &format!("督导意见：{opinion}"),
            &names,
        )
        .await?;
        tx.commit().await
    }

    // ---- 报至上级部门 ----

    /// Record the report of a batch of approved applications to the provincial authority, with
    /// its attachment (checked and stored as a blob by the caller), in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_province_report(
        &self,
        actor: &Actor,
        reported_on: chrono::NaiveDate,
        doc_no: &str,
        note: &str,
        apps: &[FilingApp],
        attachment: Option<(
            crate::NewDocument,
            domain::upload::CheckedUpload,
            crate::StoredBlob,
        )>,
    ) -> Result<i64> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query("INSERT INTO province_reports (reported_on, doc_no, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(reported_on.to_string())
            .bind(doc_no)
            .bind(note)
            .bind(&actor.username)
            .bind(&now)
            .fetch_one(tx.conn())
            .await?
            .get(0);
        let mut doc_id = None;
        if let Some((mut doc, checked, blob)) = attachment {
            doc.owner_id = id;
            let d = self
                .add_document_in(&mut tx, actor, doc, &checked, &blob)
                .await?;
            sqlx::query("UPDATE province_reports SET document_id = $1 WHERE id = $2")
                .bind(d)
                .bind(id)
                .execute(tx.conn())
                .await?;
            doc_id = Some(d);
        }
        for a in apps {
            sqlx::query(
                "INSERT INTO province_report_items (report_id, application_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(a.id)
            .execute(tx.conn())
            .await
            .map_err(|e| StoreError::unique(e, "该批次中有申请已报送过上级部门"))?;
            event(
                &mut tx,
                actor,
                a.id,
                "filing.province_report",
                a.state.as_str(),
                a.state.as_str(),
                &format!("已于{reported_on}报至上级部门（{doc_no}）"),
                &doc_id.map(|d| vec![d.to_string()]).unwrap_or_default(),
            )
            .await?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "province_report.create",
                object_type: "province_report",
                object_id: id.to_string(),
                summary: serde_json::json!({ "reported_on": reported_on.to_string(), "doc_no": doc_no, "document_id": doc_id, "applications": apps.iter().map(|a| a.id).collect::<Vec<_>>() }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn province_report(&self, id: i64) -> Result<ProvinceReport> {
        let r = sqlx::query("SELECT id, reported_on, doc_no, document_id, note, created_by, created_at FROM province_reports WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let ids = sqlx::query(
            "SELECT application_id FROM province_report_items WHERE report_id = $1 ORDER BY application_id",
        )
        .bind(id)
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        Ok(ProvinceReport {
            id: r.get(0),
            reported_on: r.get(1),
            doc_no: r.get(2),
            document_id: r.get(3),
            note: r.get(4),
            created_by: r.get(5),
            created_at: r.get(6),
            application_ids: ids,
        })
    }

    /// Every report, newest first.
    pub async fn province_reports(&self) -> Result<Vec<ProvinceReport>> {
        let ids: Vec<i64> = sqlx::query("SELECT id FROM province_reports ORDER BY id DESC")
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut out = vec![];
        for id in ids {
            out.push(self.province_report(id).await?);
        }
        Ok(out)
    }

    /// The report an application was part of, if any.
    pub async fn province_report_of(&self, application_id: i64) -> Result<Option<ProvinceReport>> {
        let id: Option<i64> =
            sqlx::query("SELECT report_id FROM province_report_items WHERE application_id = $1")
                .bind(application_id)
                .fetch_optional(&self.db.pool)
                .await?
                .map(|r| r.get(0));
        match id {
            Some(id) => Ok(Some(self.province_report(id).await?)),
            None => Ok(None),
        }
    }

    /// Applications past the city's two keys and not yet reported to the province.
    pub async fn approved_unreported(&self) -> Result<Vec<FilingApp>> {
        let ids: Vec<i64> = sqlx::query("SELECT a.id FROM filing_applications a WHERE a.center_approved_by IS NOT NULL AND a.division_approved_by IS NOT NULL AND a.state IN ('publicity', 'publicity_paused', 'filed') AND a.id NOT IN (SELECT application_id FROM province_report_items) ORDER BY a.id")
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut out = vec![];
        for id in ids {
            out.push(self.filing(&Scope::City, id).await?);
        }
        Ok(out)
    }

    // ---- 二(一) 属地 ----

    /// The institution asks to belong to the district of its premises.
    pub async fn request_district_move(
        &self,
        actor: &Actor,
        institution_id: i64,
        from: &str,
        to: &str,
        reason: &str,
    ) -> Result<i64> {
        let mut tx = self.db.write().await?;
        let pending: i64 = sqlx::query("SELECT COUNT(*) FROM institution_district_moves WHERE institution_id = $1 AND status = 'pending'")
            .bind(institution_id)
            .fetch_one(tx.conn())
            .await?
            .get(0);
        if pending > 0 {
            return Err(StoreError::Invalid("已有待市级审核的属地变更申请".into()));
        }
        let id: i64 = sqlx::query("INSERT INTO institution_district_moves (institution_id, from_district, to_district, reason, requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(institution_id)
            .bind(from)
            .bind(to)
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
                action: "institution.district_move_request",
                object_type: "institution",
                object_id: institution_id.to_string(),
                summary: serde_json::json!({ "move": id, "from": from, "to": to, "reason": reason }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn district_moves(
        &self,
        scope: &Scope,
        status: Option<&str>,
    ) -> Result<Vec<DistrictMove>> {
        let mut w = crate::sql::Where::new();
        match scope {
            Scope::City => {}
            Scope::District(d) => {
                let p1 = w.arg(crate::sql::Arg::Text(d.clone()));
                let p2 = w.arg(crate::sql::Arg::Text(d.clone()));
                w.raw(format!("(m.from_district = {p1} OR m.to_district = {p2})"));
            }
            Scope::Institution(i) => w.eq_int("m.institution_id", *i),
            Scope::Assigned(_) => w.raw("1 = 0"),
        }
        w.eq_text("m.status", status);
        let page = w
            .fetch_page(
                &self.db,
                MOVE_COLUMNS,
                "institution_district_moves m JOIN institutions i ON i.id = m.institution_id",
                "m.id DESC",
                crate::PageRequest::new(Some(1), Some(200)),
                move_from_row,
            )
            .await?;
        Ok(page.items)
    }

    pub async fn district_move(&self, scope: &Scope, id: i64) -> Result<DistrictMove> {
        self.district_moves(scope, None)
            .await?
            .into_iter()
            .find(|m| m.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// The city agrees (the institution moves; recorded and audited) or refuses.
    pub async fn decide_district_move(
        &self,
        actor: &Actor,
        id: i64,
        expected_version: i64,
        approve: bool,
        reason: &str,
    ) -> Result<DistrictMove> {
        let m = self.district_move(&Scope::City, id).await?;
        if m.status != MoveStatus::Pending {
            return Err(StoreError::Invalid("该属地变更申请已有结论".into()));
        }
        let now = now_text();
        let mut tx = self.db.write().await?;
        let n = sqlx::query("UPDATE institution_district_moves SET status = $1, decided_by = $2, decided_at = $3, decision_reason = $4, version = version + 1 WHERE id = $5 AND version = $6 AND status = 'pending'")
            .bind(if approve { "approved" } else { "refused" })
            .bind(&actor.username)
            .bind(&now)
            .bind(reason)
            .bind(id)
            .bind(expected_version)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        if approve {
            let n = sqlx::query("UPDATE institutions SET district_code = $1, district_basis = 'business', version = version + 1, updated_at = $2 WHERE id = $3 AND district_code = $4 AND biz_district = $5")
                .bind(&m.to_district)
                .bind(&now)
                .bind(m.institution_id)
                .bind(&m.from_district)
                .bind(&m.to_district)
                .execute(tx.conn())
                .await?
                .rows_affected();
            if n == 0 {
                // The profile changed since the request: decide again on the current data.
                return Err(StoreError::Conflict);
            }
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: if approve {
                    "institution.district_move"
                } else {
                    "institution.district_move_refused"
                },
                object_type: "institution",
                object_id: m.institution_id.to_string(),
                summary: serde_json::json!({ "move": id, "from": m.from_district, "to": m.to_district, "reason": reason }),
            },
        )
        .await?;
        // Demo data (role "system") notifies nobody.
        if actor.role != "system" {
            Store::notify(
                &mut tx,
                &crate::NewNotification::to_institution(
                    m.institution_id,
                    if approve {
                        "属地变更申请：市级同意"
                    } else {
                        "属地变更申请：市级不同意"
                    },
                    reason.to_string(),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        self.district_move(&Scope::City, id).await
    }
}
