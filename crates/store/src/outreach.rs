//! 三(二) the district's enterprise register and 一(二) guidance notes; 二(二) institution
//! self-registration. Every change is one transaction with its audit event.

use domain::institution::{FilingStatus, RegistrationStatus};
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::sql::{Arg, Where};
use crate::{now_text, Page, PageRequest, Result, Store, StoreError};

// ---------------------------------------------------------------------------------------------
// Enterprise register (企业筛查台账)

/// One enterprise of a district's register. `institution_id`/`filing_id` link it to the
/// platform's institution with the same credit code and its latest filing application.
#[derive(Debug, Clone, Serialize)]
pub struct Enterprise {
    pub id: i64,
    pub district_code: String,
    pub district_name: String,
    pub name: String,
    pub credit_code: String,
    pub employees: i64,
    pub capital_yuan: i64,
    pub main_business: String,
    /// Recorded outreach status (domain::outreach::Outreach key).
    pub outreach: String,
    pub version: i64,
    pub updated_at: String,
    pub institution_id: Option<i64>,
    pub institution_filing_status: Option<FilingStatus>,
    pub filing_id: Option<i64>,
    pub guidance_count: i64,
}

/// A validated register row (the web layer validates with the domain).
#[derive(Debug, Clone)]
pub struct NewEnterprise {
    pub name: String,
    pub credit_code: String,
    pub employees: i64,
    pub capital_yuan: i64,
    pub main_business: String,
}

#[derive(Debug, Clone, Default)]
pub struct EnterpriseFilter {
    pub q: Option<String>,
    pub outreach: Option<String>,
    pub district: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Guidance {
    pub id: i64,
    pub note: String,
    pub author: String,
    pub at: String,
}

const ENTERPRISE_COLUMNS: &str = "e.id, e.district_code, d.name, e.name, e.credit_code, e.employees, e.capital_yuan, e.main_business, e.outreach, e.version, e.updated_at, i.id, i.filing_status, \
     (SELECT MAX(f.id) FROM filing_applications f WHERE f.institution_id = i.id), \
     (SELECT COUNT(*) FROM enterprise_guidance g WHERE g.enterprise_id = e.id)";
const ENTERPRISE_FROM: &str = "enterprise_register e JOIN divisions d ON d.code = e.district_code LEFT JOIN institutions i ON i.credit_code = e.credit_code";

fn enterprise_row(r: &AnyRow) -> Result<Enterprise> {
    Ok(Enterprise {
        id: r.get(0),
        district_code: r.get(1),
        district_name: r.get(2),
        name: r.get(3),
        credit_code: r.get(4),
        employees: r.get(5),
        capital_yuan: r.get(6),
        main_business: r.get(7),
        outreach: r.get(8),
        version: r.get(9),
        updated_at: r.get(10),
        institution_id: r.get(11),
        institution_filing_status: crate::sql::code_opt(r, 12)?,
        filing_id: r.get(13),
        guidance_count: r.get(14),
    })
}

/// The register is the districts' and the city's: a district sees its own rows only.
fn scope_register(w: &mut Where, scope: &Scope) {
    match scope {
        Scope::City => {}
        Scope::District(d) => {
            let p = w.arg(Arg::Text(d.clone()));
            w.raw(format!("e.district_code = {p}"));
        }
        Scope::Institution(_) | Scope::Assigned(_) => w.raw("1 = 0"),
    }
}

impl Store {
    pub async fn list_enterprises(
        &self,
        scope: &Scope,
        f: &EnterpriseFilter,
        page: PageRequest,
    ) -> Result<Page<Enterprise>> {
        let mut w = Where::new();
        scope_register(&mut w, scope);
        w.search(
            &["e.name", "e.credit_code", "e.main_business"],
            f.q.as_deref(),
        );
        w.eq_text("e.outreach", f.outreach.as_deref());
        w.eq_text("e.district_code", f.district.as_deref());
        w.fetch_page(
            &self.db,
            ENTERPRISE_COLUMNS,
            ENTERPRISE_FROM,
            "e.district_code, e.id",
            page,
            enterprise_row,
        )
        .await
    }

    /// Every row in scope (for the city's totals by district).
    pub async fn all_enterprises(&self, scope: &Scope) -> Result<Vec<Enterprise>> {
        let mut w = Where::new();
        scope_register(&mut w, scope);
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {ENTERPRISE_COLUMNS} FROM {ENTERPRISE_FROM}"),
                "e.district_code, e.id",
                PageRequest {
                    page: 1,
                    per_page: i64::from(i32::MAX),
                },
            )
            .await?;
        Ok(rows
            .iter()
            .map(enterprise_row)
            .collect::<Result<Vec<_>>>()?)
    }

    pub async fn enterprise(&self, scope: &Scope, id: i64) -> Result<Enterprise> {
        let mut w = Where::new();
        w.eq_int("e.id", id);
        scope_register(&mut w, scope);
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {ENTERPRISE_COLUMNS} FROM {ENTERPRISE_FROM}"),
                "e.id",
                PageRequest::new(Some(1), Some(1)),
            )
            .await?;
        rows.first()
            .map(enterprise_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// Import a district's register rows, all or nothing: a credit code already in the
    /// register is updated (its outreach status is kept), a new one is added.
    pub async fn import_enterprises(
        &self,
        actor: &Actor,
        district: &str,
        rows: &[NewEnterprise],
    ) -> Result<(usize, usize)> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        let (mut added, mut updated) = (0usize, 0usize);
        for r in rows {
            let n = sqlx::query("UPDATE enterprise_register SET name = $1, employees = $2, capital_yuan = $3, main_business = $4, version = version + 1, updated_at = $5 WHERE district_code = $6 AND credit_code = $7")
                .bind(&r.name)
                .bind(r.employees)
                .bind(r.capital_yuan)
                .bind(&r.main_business)
                .bind(&now)
                .bind(district)
                .bind(&r.credit_code)
                .execute(tx.conn())
                .await?
                .rows_affected();
            if n > 0 {
                updated += 1;
                continue;
            }
            sqlx::query("INSERT INTO enterprise_register (district_code, name, credit_code, employees, capital_yuan, main_business, outreach, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'uncontacted', $7, $8, $9)")
                .bind(district)
                .bind(&r.name)
                .bind(&r.credit_code)
                .bind(r.employees)
                .bind(r.capital_yuan)
                .bind(&r.main_business)
                .bind(actor.user_id)
                .bind(&now)
                .bind(&now)
                .execute(tx.conn())
                .await?;
            added += 1;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "enterprise_register.import",
                object_type: "enterprise_register",
                object_id: district.to_string(),
                summary: serde_json::json!({ "added": added, "updated": updated }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((added, updated))
    }

    pub async fn set_outreach(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: i64,
        expected_version: i64,
        outreach: &str,
    ) -> Result<Enterprise> {
        let before = self.enterprise(scope, id).await?;
        let mut tx = self.db.write().await?;
        let n = sqlx::query("UPDATE enterprise_register SET outreach = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4")
            .bind(outreach)
            .bind(now_text())
            .bind(id)
            .bind(expected_version)
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
                action: "enterprise_register.outreach",
                object_type: "enterprise_register",
                object_id: id.to_string(),
                summary: serde_json::json!({ "from": before.outreach, "to": outreach }),
            },
        )
        .await?;
        tx.commit().await?;
        self.enterprise(scope, id).await
    }

    pub async fn add_guidance(
        &self,
        actor: &Actor,
        e: &Enterprise,
        note: &str,
    ) -> Result<Guidance> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        let row = sqlx::query("INSERT INTO enterprise_guidance (enterprise_id, district_code, note, author_id, author, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(e.id)
            .bind(&e.district_code)
            .bind(note)
            .bind(actor.user_id)
            .bind(&actor.username)
            .bind(&now)
            .fetch_one(tx.conn())
            .await?;
        let id: i64 = row.get(0);
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "enterprise_register.guidance",
                object_type: "enterprise_register",
                object_id: e.id.to_string(),
                summary: serde_json::json!({ "guidance": id, "chars": note.chars().count() }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Guidance {
            id,
            note: note.to_string(),
            author: actor.username.clone(),
            at: now,
        })
    }

    pub async fn guidance_notes(&self, enterprise_id: i64) -> Result<Vec<Guidance>> {
        Ok(sqlx::query(
            "SELECT id, note, author, at FROM enterprise_guidance WHERE enterprise_id = $1 ORDER BY id",
        )
        .bind(enterprise_id)
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(|r| Guidance {
            id: r.get(0),
            note: r.get(1),
            author: r.get(2),
            at: r.get(3),
        })
        .collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Institution self-registration (二(二))

#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    pub id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub district_code: String,
    pub user_id: i64,
    pub username: String,
    pub credit_code: String,
    pub filing_no: String,
    pub contact_name: String,
    pub contact_phone: String,
    /// pending | confirmed | refused
    pub status: RegistrationStatus,
    pub reason: String,
    pub decided_at: Option<String>,
    pub version: i64,
    pub created_at: String,
}

/// A validated self-registration. `Debug` hides the password.
#[derive(Clone)]
pub struct NewRegistration {
    pub institution_id: i64,
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub credit_code: String,
    pub filing_no: String,
    pub contact_name: String,
    pub contact_phone: String,
}

impl std::fmt::Debug for NewRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewRegistration")
            .field("institution_id", &self.institution_id)
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("password", &crate::HIDDEN)
            .field("credit_code", &self.credit_code)
            .field("filing_no", &self.filing_no)
            .field("contact_name", &self.contact_name)
            .field("contact_phone", &self.contact_phone)
            .finish()
    }
}

const REG_COLUMNS: &str = "r.id, r.institution_id, i.name, r.district_code, r.user_id, u.username, r.credit_code, r.filing_no, r.contact_name, r.contact_phone, r.status, r.reason, r.decided_at, r.version, r.created_at";
pub(crate) const REG_ORDER: &str = "r.id DESC";
pub(crate) const REG_FROM: &str = "institution_registrations r JOIN institutions i ON i.id = r.institution_id JOIN users u ON u.id = r.user_id";

fn reg_row(r: &AnyRow) -> Result<Registration> {
    Ok(Registration {
        id: r.get(0),
        institution_id: r.get(1),
        institution_name: r.get(2),
        district_code: r.get(3),
        user_id: r.get(4),
        username: r.get(5),
        credit_code: r.get(6),
        filing_no: r.get(7),
        contact_name: r.get(8),
        contact_phone: r.get(9),
        status: crate::sql::code(r, 10)?,
        reason: r.get(11),
        decided_at: r.get(12),
        version: r.get(13),
        created_at: r.get(14),
    })
}

/// The conditions of the registration list (also a source of the work queue).
pub(crate) fn registration_filter(w: &mut Where, scope: &Scope, status: Option<&str>) {
    scope_registrations(w, scope);
    w.eq_text("r.status", status);
}

fn scope_registrations(w: &mut Where, scope: &Scope) {
    match scope {
        Scope::City => {}
        Scope::District(d) => {
            let p = w.arg(Arg::Text(d.clone()));
            w.raw(format!("r.district_code = {p}"));
        }
        Scope::Institution(id) => w.eq_int("r.institution_id", *id),
        Scope::Assigned(_) => w.raw("1 = 0"),
    }
}

impl Store {
    /// The filed institution named by a credit code and its 备案编号, if any.
    pub async fn filed_institution_by_codes(
        &self,
        credit_code: &str,
        filing_no: &str,
    ) -> Result<Option<(i64, String)>> {
        Ok(sqlx::query("SELECT id, district_code FROM institutions WHERE credit_code = $1 AND filing_no = $2 AND filing_status = 'filed'")
            .bind(credit_code)
            .bind(filing_no)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| (r.get(0), r.get(1))))
    }

    /// Create the inactive account and the pending registration in one transaction, and
    /// tell the district.
    pub async fn register_institution(
        &self,
        actor: &Actor,
        new: &NewRegistration,
    ) -> Result<Registration> {
        let hash = {
            let params = self.passwords;
            let pw = new.password.clone();
            tokio::task::spawn_blocking(move || params.hash(&pw))
                .await
                .map_err(|e| StoreError::Other(e.to_string()))?
        };
        let district = self.institution_district(new.institution_id).await?;
        let now = now_text();
        let mut tx = self.db.write().await?;
        let pending: i64 = sqlx::query("SELECT COUNT(*) FROM institution_registrations WHERE institution_id = $1 AND status = 'pending'")
            .bind(new.institution_id)
            .fetch_one(tx.conn())
            .await?
            .get(0);
        if pending > 0 {
            return Err(StoreError::Invalid(
                "该机构已有待区县确认的注册申请，请等待区县人社部门确认".into(),
            ));
        }
        let user_id: i64 = sqlx::query(
            "INSERT INTO users (username, display_name, role, district_code, institution_id, phone, password_hash, must_change_password, active, created_at, updated_at) \
             VALUES ($1, $2, 'institution', $3, $4, $5, $6, 0, 0, $7, $8) RETURNING id",
        )
        .bind(&new.username)
        .bind(&new.display_name)
        .bind(&district)
        .bind(new.institution_id)
        .bind(&new.contact_phone)
        .bind(&hash)
        .bind(&now)
        .bind(&now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| StoreError::unique(e, "该用户名已被使用"))?
        .get(0);
        let id: i64 = sqlx::query(
            "INSERT INTO institution_registrations (institution_id, district_code, user_id, credit_code, filing_no, contact_name, contact_phone, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9) RETURNING id",
        )
        .bind(new.institution_id)
        .bind(&district)
        .bind(user_id)
        .bind(&new.credit_code)
        .bind(&new.filing_no)
        .bind(&new.contact_name)
        .bind(&new.contact_phone)
        .bind(&now)
        .bind(&now)
        .fetch_one(tx.conn())
        .await?
        .get(0);
        let officers: Vec<i64> = sqlx::query(
            "SELECT id FROM users WHERE role = 'district' AND district_code = $1 AND active = 1",
        )
        .bind(&district)
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        for uid in officers {
            Store::notify(
                &mut tx,
                &crate::NewNotification {
                    recipient_user_id: Some(uid),
                    institution_id: None,
                    title: "评价机构账号注册待确认".into(),
                    body: format!("备案编号 {}，账号 {}", new.filing_no, new.username),
                    link: "/registrations".into(),
                },
            )
            .await?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "institution_registration.submit",
                object_type: "institution_registration",
                object_id: id.to_string(),
                summary: serde_json::json!({ "institution": new.institution_id, "user": user_id, "username": new.username, "filing_no": new.filing_no }),
            },
        )
        .await?;
        tx.commit().await?;
        self.registration(&Scope::City, id).await
    }

    pub async fn registration(&self, scope: &Scope, id: i64) -> Result<Registration> {
        let mut w = Where::new();
        w.eq_int("r.id", id);
        scope_registrations(&mut w, scope);
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {REG_COLUMNS} FROM {REG_FROM}"),
                "r.id",
                PageRequest::new(Some(1), Some(1)),
            )
            .await?;
        rows.first()
            .map(reg_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    pub async fn list_registrations(
        &self,
        scope: &Scope,
        status: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Registration>> {
        let mut w = Where::new();
        registration_filter(&mut w, scope, status);
        w.fetch_page(&self.db, REG_COLUMNS, REG_FROM, REG_ORDER, page, reg_row)
            .await
    }

    /// The district confirms (the account becomes active) or refuses (it stays inactive).
    pub async fn decide_registration(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: i64,
        expected_version: i64,
        confirm: bool,
        reason: &str,
    ) -> Result<Registration> {
        let r = self.registration(scope, id).await?;
        let now = now_text();
        let status = if confirm { "confirmed" } else { "refused" };
        let mut tx = self.db.write().await?;
        let n = sqlx::query("UPDATE institution_registrations SET status = $1, reason = $2, decided_by = $3, decided_at = $4, updated_at = $5, version = version + 1 WHERE id = $6 AND version = $7 AND status = 'pending'")
            .bind(status)
            .bind(reason)
            .bind(actor.user_id)
            .bind(&now)
            .bind(&now)
            .bind(id)
            .bind(expected_version)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        if confirm {
            sqlx::query(
                "UPDATE users SET active = 1, version = version + 1, updated_at = $1 WHERE id = $2",
            )
            .bind(&now)
            .bind(r.user_id)
            .execute(tx.conn())
            .await?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: if confirm {
                    "institution_registration.confirm"
                } else {
                    "institution_registration.refuse"
                },
                object_type: "institution_registration",
                object_id: id.to_string(),
                summary: serde_json::json!({ "institution": r.institution_id, "user": r.user_id, "reason": reason }),
            },
        )
        .await?;
        tx.commit().await?;
        self.registration(scope, id).await
    }
}
