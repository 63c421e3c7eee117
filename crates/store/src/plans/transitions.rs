//! A plan's transitions (提交区县, 纸质件收取, 区县审核, 平台填报确认, 市级认可 or 退回, 撤销): the new
//! status, the plan's event, the notifications to the next party and the audit event, in one
//! transaction.

use domain::plan::{PlanCommand, PlanStatus};
use domain::Scope;
use sqlx::Row;

use super::{snapshot, PaperReceipt, Plan};
use crate::audit::{append, Actor, NewEvent};
use crate::{now_text, Result, Store, StoreError};

impl Store {
    /// Apply a status change decided by the domain (`from` → `to` by `cmd`).
    #[allow(clippy::too_many_arguments)]
    pub async fn transition_plan(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: i64,
        expected_version: i64,
        from: PlanStatus,
        to: PlanStatus,
        cmd: PlanCommand,
        reason: &str,
        paper: Option<&PaperReceipt>,
        today: chrono::NaiveDate,
    ) -> Result<Plan> {
        let plan = self.plan(scope, id).await?;
        let now = now_text();
        let who = actor.username.clone();
        let mut tx = self.db.write().await?;
        let mut sets: Vec<(&str, String)> = vec![
            ("status", to.as_str().to_string()),
            ("status_since", now.clone()),
            ("updated_at", now.clone()),
        ];
        match cmd {
            PlanCommand::Submit => {
                sets.push(("submitted_at", now.clone()));
                sets.push(("last_reason", String::new()));
            }
            PlanCommand::RecordPaper => {
                sets.push(("paper_received_at", now.clone()));
                sets.push(("paper_received_by", who.clone()));
                if let Some(p) = paper {
                    sets.push(("paper_received_on", p.received_on.clone()));
                    sets.push(("paper_retention_until", p.retention_until.clone()));
                }
            }
            PlanCommand::DistrictApprove
            | PlanCommand::DistrictReturn
            | PlanCommand::DistrictReject => {
                sets.push(("district_decided_at", now.clone()));
                sets.push(("district_decided_by", who.clone()));
                sets.push(("last_reason", reason.to_string()));
            }
            PlanCommand::Enter => sets.push(("entered_at", now.clone())),
            PlanCommand::CityConfirm => {
                sets.push(("city_confirmed_at", now.clone()));
                sets.push(("city_confirmed_by", who.clone()));
            }
            PlanCommand::CityReturn | PlanCommand::Cancel => {
                sets.push(("last_reason", reason.to_string()))
            }
            PlanCommand::Edit | PlanCommand::Revise => {}
        }
        if to.is_closed() {
            sets.push(("closed_at", now.clone()));
            // 办结日期: the retention period of 二(三) runs from it (`domain::retention`).
            sets.push((
                "closed_on",
                crate::retention::closing_date(Some(today), &now),
            ));
        }
        let assignments: Vec<String> = sets
            .iter()
            .enumerate()
            .map(|(i, (c, _))| format!("{c} = ${}", i + 1))
            .collect();
        let k = sets.len();
        let sql = format!(
            "UPDATE plans SET {}, version = version + 1 WHERE id = ${} AND version = ${} AND status = ${}",
            assignments.join(", "),
            k + 1,
            k + 2,
            k + 3
        );
        let mut q = sqlx::query(&sql);
        for (_, v) in &sets {
            q = q.bind(v.as_str());
        }
        let n = q
            .bind(id)
            .bind(expected_version)
            .bind(from.as_str())
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        sqlx::query("INSERT INTO plan_events (plan_id, revision, action, from_status, to_status, actor_id, actor, reason, snapshot, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(id)
            .bind(plan.revision)
            .bind(cmd.as_str())
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(actor.user_id)
            .bind(&who)
            .bind(reason)
            .bind(if cmd == PlanCommand::Submit { snapshot(&plan) } else { String::new() })
            .bind(&now)
            .execute(tx.conn())
            .await?;
        // Tell the next party (infra notifications, same transaction).
        let title = format!("评价工作计划 {}：{}", plan.plan_no, to.label());
        let body = if reason.is_empty() {
            format!(
                "{}（{} {}）",
                plan.institution_name, plan.occupation_code, plan.occupation_name
            )
        } else {
            format!("理由：{reason}")
        };
        let link = format!("/plans/{id}");
        let recipients: Vec<i64> = match cmd {
            PlanCommand::Submit | PlanCommand::Cancel => sqlx::query("SELECT id FROM users WHERE role = 'district' AND district_code = $1 AND active = 1")
                .bind(&plan.district_code)
                .fetch_all(tx.conn())
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect(),
            PlanCommand::Enter => sqlx::query("SELECT id FROM users WHERE role IN ('city_center', 'city_division') AND active = 1")
                .fetch_all(tx.conn())
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect(),
            _ => vec![],
        };
        for uid in recipients {
            Store::notify(
                &mut tx,
                &crate::NewNotification {
                    recipient_user_id: Some(uid),
                    institution_id: None,
                    title: title.clone(),
                    body: body.clone(),
                    link: link.clone(),
                },
            )
            .await?;
        }
        if matches!(
            cmd,
            PlanCommand::RecordPaper
                | PlanCommand::DistrictApprove
                | PlanCommand::DistrictReturn
                | PlanCommand::DistrictReject
                | PlanCommand::CityConfirm
                | PlanCommand::CityReturn
        ) || (cmd == PlanCommand::Cancel && actor.role == "district")
        {
            Store::notify(
                &mut tx,
                &crate::NewNotification {
                    recipient_user_id: None,
                    institution_id: Some(plan.institution_id),
                    title: title.clone(),
                    body: body.clone(),
                    link: link.clone(),
                },
            )
            .await?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: &format!("plan.{}", cmd.as_str()),
                object_type: "plan",
                object_id: id.to_string(),
                summary: serde_json::json!({ "from": from.as_str(), "to": to.as_str(), "reason": reason, "revision": plan.revision, "paper_received_on": paper.map(|p| p.received_on.as_str()) }),
            },
        )
        .await?;
        tx.commit().await?;
        self.plan(scope, id).await
    }
}
