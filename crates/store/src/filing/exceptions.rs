//! 特殊情况申请（一(二)1 的例外）：提出、查询、审批。

use super::*;
use domain::filing::ExceptionStatus;

impl Store {
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
        let mut xs: Vec<ExceptionRow> =
            rows.iter().map(exc_from_row).collect::<Result<Vec<_>>>()?;
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
        exception_filter(&mut w, scope, status);
        let mut p = w
            .fetch_page(
                &self.db,
                EXC_COLUMNS,
                EXC_FROM,
                EXC_ORDER,
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
        .transpose()?
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
        if x.status != ExceptionStatus::Pending {
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
    pub status: ExceptionStatus,
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
pub(crate) const EXC_ORDER: &str = "x.id DESC";

/// The conditions of the exception list (also a source of the city's work queue).
pub(crate) fn exception_filter(w: &mut Where, scope: &Scope, status: Option<&str>) {
    match scope {
        Scope::City => {}
        Scope::District(d) => w.eq_text("x.district_code", Some(d)),
        Scope::Institution(i) => w.eq_int("x.institution_id", *i),
        Scope::Assigned(_) => w.raw("1 = 0"),
    }
    w.eq_text("x.status", status);
}

pub(crate) const EXC_FROM: &str = "filing_exceptions x JOIN institutions i ON i.id = x.institution_id LEFT JOIN occupations o ON o.id = x.occupation_id";

pub(super) fn exc_from_row(r: &AnyRow) -> Result<ExceptionRow> {
    Ok(ExceptionRow {
        id: r.get(0),
        institution_id: r.get(1),
        institution_name: r.get(2),
        district_code: r.get(3),
        rule: r.get(4),
        occupation_id: r.get(5),
        occupation_name: r.get(6),
        reason: r.get(7),
        status: crate::sql::code(r, 8)?,
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
    })
}
