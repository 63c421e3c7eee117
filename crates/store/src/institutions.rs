//! Institutions (评价机构) within the actor's jurisdiction.

use domain::institution::{DistrictBasis, FilingStatus, InstitutionKind};
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::sql::{Arg, Where};
use crate::{now_text, Page, PageRequest, Result, Store, StoreError};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Institution {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
    pub kind: InstitutionKind,
    /// The district that manages it (属地), from its registered address.
    pub district_code: String,
    pub district_name: String,
    pub legal_person: bool,
    pub employees: i64,
    pub capital_yuan: i64,
    pub business_scope: String,
    pub reg_address: String,
    pub reg_district: String,
    pub biz_address: String,
    pub biz_district: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub filing_status: FilingStatus,
    pub filing_no: Option<String>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    /// 评价站点代码: the 6-digit code the province assigned (entered by the city); needed for
    /// certificate numbers.
    pub site_code: Option<String>,
}

/// Validated institution fields (the web layer validates; the store trusts them).
#[derive(Debug, Clone)]
pub struct InstitutionInput {
    pub name: String,
    pub credit_code: String,
    pub kind: String,
    pub legal_person: bool,
    pub employees: i64,
    pub capital_yuan: i64,
    pub business_scope: String,
    pub reg_address: String,
    pub reg_district: String,
    pub biz_address: String,
    pub biz_district: String,
    pub contact_name: String,
    pub contact_phone: String,
}

#[derive(Debug, Clone, Default)]
pub struct InstitutionFilter {
    pub q: Option<String>,
    pub district: Option<String>,
    pub kind: Option<String>,
    pub filing_status: Option<String>,
    /// Only institutions whose contact phone or business scope is missing.
    pub incomplete: bool,
}

const COLUMNS: &str = "i.id, i.name, i.credit_code, i.kind, i.district_code, d.name, i.legal_person, i.employees, i.capital_yuan, i.business_scope, i.reg_address, i.reg_district, i.biz_address, i.biz_district, i.contact_name, i.contact_phone, i.filing_status, i.filing_no, i.version, i.created_at, i.updated_at, i.site_code";
pub(crate) const FROM: &str = "institutions i JOIN divisions d ON d.code = i.district_code";

fn from_row(r: &AnyRow) -> Result<Institution> {
    Ok(Institution {
        id: r.get(0),
        name: r.get(1),
        credit_code: r.get(2),
        kind: crate::sql::code(r, 3)?,
        district_code: r.get(4),
        district_name: r.get(5),
        legal_person: r.get::<i64, _>(6) != 0,
        employees: r.get(7),
        capital_yuan: r.get(8),
        business_scope: r.get(9),
        reg_address: r.get(10),
        reg_district: r.get(11),
        biz_address: r.get(12),
        biz_district: r.get(13),
        contact_name: r.get(14),
        contact_phone: r.get(15),
        filing_status: crate::sql::code(r, 16)?,
        filing_no: r.get(17),
        version: r.get(18),
        created_at: r.get(19),
        updated_at: r.get(20),
        site_code: r.get(21),
    })
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Bind the 14 profile columns in the order both the INSERT and the UPDATE list them ($1..$14).
fn bind_profile<'q>(q: AnyQuery<'q>, input: &'q InstitutionInput) -> AnyQuery<'q> {
    q.bind(&input.name)
        .bind(&input.credit_code)
        .bind(&input.kind)
        .bind(&input.reg_district)
        .bind(input.legal_person as i64)
        .bind(input.employees)
        .bind(input.capital_yuan)
        .bind(&input.business_scope)
        .bind(&input.reg_address)
        .bind(&input.reg_district)
        .bind(&input.biz_address)
        .bind(&input.biz_district)
        .bind(&input.contact_name)
        .bind(&input.contact_phone)
}

/// The conditions of the institution list (also a source of the work queue, `crate::queue`).
pub(crate) fn institution_filter(w: &mut Where, scope: &Scope, f: &InstitutionFilter) {
    scope_institutions(w, scope);
    w.search(
        &["i.name", "i.credit_code", "i.contact_name"],
        f.q.as_deref(),
    );
    w.eq_text("i.district_code", f.district.as_deref());
    w.eq_text("i.kind", f.kind.as_deref());
    w.eq_text("i.filing_status", f.filing_status.as_deref());
    if f.incomplete {
        w.raw("(i.contact_phone = '' OR i.business_scope = '')");
    }
}

/// The conditions of [`Store::count_institutions`].
pub(crate) fn institution_count_filter(w: &mut Where, scope: &Scope, f: &InstitutionFilter) {
    scope_institutions(w, scope);
    w.eq_text("i.district_code", f.district.as_deref());
    w.eq_text("i.filing_status", f.filing_status.as_deref());
}

/// Restrict a query on institutions (alias `i`) to what `scope` may see.
pub(crate) fn scope_institutions(w: &mut Where, scope: &Scope) {
    match scope {
        Scope::City => {}
        Scope::District(d) => {
            let p = w.arg(Arg::Text(d.clone()));
            w.raw(format!("i.district_code = {p}"));
        }
        Scope::Institution(id) => w.eq_int("i.id", *id),
        // Experts and supervisors see institutions only through their assignments (later issues).
        Scope::Assigned(_) => w.raw("1 = 0"),
    }
}

impl Store {
    pub async fn create_institution(
        &self,
        actor: &Actor,
        input: &InstitutionInput,
    ) -> Result<Institution> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        let id: i64 = bind_profile(sqlx::query(
            "INSERT INTO institutions (name, credit_code, kind, district_code, legal_person, employees, capital_yuan, business_scope, reg_address, reg_district, biz_address, biz_district, contact_name, contact_phone, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
        ), input)
        .bind(&now)
        .bind(&now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| StoreError::unique(e, "该统一社会信用代码已登记"))?
        .get(0);
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "institution.create",
                object_type: "institution",
                object_id: id.to_string(),
                summary: serde_json::json!({ "name": input.name, "credit_code": input.credit_code, "district": input.reg_district }),
            },
        )
        .await?;
        tx.commit().await?;
        self.institution(&Scope::City, id).await
    }

    /// One institution, if `scope` may see it; otherwise NotFound (a 404, never a hint).
    pub async fn institution(&self, scope: &Scope, id: i64) -> Result<Institution> {
        let mut w = Where::new();
        w.eq_int("i.id", id);
        scope_institutions(&mut w, scope);
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {COLUMNS} FROM {FROM}"),
                "i.id",
                PageRequest::new(Some(1), Some(1)),
            )
            .await?;
        rows.first()
            .map(from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    pub async fn list_institutions(
        &self,
        scope: &Scope,
        f: &InstitutionFilter,
        page: PageRequest,
    ) -> Result<Page<Institution>> {
        let mut w = Where::new();
        institution_filter(&mut w, scope, f);
        w.fetch_page(&self.db, COLUMNS, FROM, "i.id", page, from_row)
            .await
    }

    /// How many institutions `scope` sees that match `f` (for dashboards: no rows fetched).
    pub async fn count_institutions(&self, scope: &Scope, f: &InstitutionFilter) -> Result<i64> {
        let mut w = Where::new();
        institution_count_filter(&mut w, scope, f);
        w.count(&self.db, FROM).await
    }

    /// Update the profile, if in scope and unchanged since `expected_version` was read.
    pub async fn update_institution(
        &self,
        actor: &Actor,
        scope: &Scope,
        id: i64,
        expected_version: i64,
        input: &InstitutionInput,
    ) -> Result<Institution> {
        let before = self.institution(scope, id).await?;
        let mut tx = self.db.write().await?;
        let n = bind_profile(sqlx::query(
            "UPDATE institutions SET name = $1, credit_code = $2, kind = $3, district_code = $4, legal_person = $5, employees = $6, capital_yuan = $7, business_scope = $8, \
             reg_address = $9, reg_district = $10, biz_address = $11, biz_district = $12, contact_name = $13, contact_phone = $14, version = version + 1, updated_at = $15 \
             WHERE id = $16 AND version = $17",
        ), input)
        .bind(now_text())
        .bind(id)
        .bind(expected_version)
        .execute(tx.conn())
        .await
        .map_err(|e| StoreError::unique(e, "该统一社会信用代码已登记"))?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        // 二(一): after the city agreed to a move, the institution belongs to its premises' district.
        sqlx::query("UPDATE institutions SET district_code = biz_district WHERE id = $1 AND district_basis = 'business'")
            .bind(id)
            .execute(tx.conn())
            .await?;
        let mut changed = serde_json::Map::new();
        let pairs = [
            ("name", &before.name, &input.name),
            ("credit_code", &before.credit_code, &input.credit_code),
            ("kind", &before.kind.as_str().to_string(), &input.kind),
            ("reg_district", &before.reg_district, &input.reg_district),
            ("reg_address", &before.reg_address, &input.reg_address),
            ("biz_address", &before.biz_address, &input.biz_address),
            ("contact_name", &before.contact_name, &input.contact_name),
            ("contact_phone", &before.contact_phone, &input.contact_phone),
        ];
        for (k, a, b) in pairs {
            if a != b {
                changed.insert(k.into(), serde_json::json!([a, b]));
            }
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "institution.update",
                object_type: "institution",
                object_id: id.to_string(),
                summary: serde_json::Value::Object(changed),
            },
        )
        .await?;
        tx.commit().await?;
        self.institution(&Scope::City, id).await
    }

    /// Record the 评价站点代码 the province assigned (the city enters it; `None` clears it).
    /// A code belongs to one institution.
    pub async fn set_site_code(
        &self,
        actor: &Actor,
        id: i64,
        site_code: Option<&str>,
    ) -> Result<Institution> {
        let before = self.institution(&Scope::City, id).await?;
        let mut tx = self.db.write().await?;
        sqlx::query("UPDATE institutions SET site_code = $1, version = version + 1, updated_at = $2 WHERE id = $3")
            .bind(site_code)
            .bind(now_text())
            .bind(id)
            .execute(tx.conn())
            .await
            .map_err(|e| StoreError::unique(e, "该评价站点代码已登记给其他机构"))?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "institution.site_code",
                object_type: "institution",
                object_id: id.to_string(),
                summary: serde_json::json!({ "from": before.site_code, "to": site_code }),
            },
        )
        .await?;
        tx.commit().await?;
        self.institution(&Scope::City, id).await
    }

    /// 二(一): `registered` (default) or `business` (moved to its premises' district by the city).
    pub async fn institution_district_basis(&self, id: i64) -> Result<DistrictBasis> {
        let row = sqlx::query("SELECT district_basis FROM institutions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        crate::sql::code(&row, 0)
    }

    pub(crate) async fn institution_district(&self, id: i64) -> Result<String> {
        sqlx::query("SELECT district_code FROM institutions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| r.get(0))
            .ok_or(StoreError::Invalid("所属机构不存在".into()))
    }
}
