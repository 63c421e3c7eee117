//! Certificates (职业技能等级证书): the records, the lists in scope, the public query (published
//! certificates only, personal data masked), the status list entries, the public-query rate limit
//! and the rows of the export to the province. Issuing and changes are in `cert_issue`.

use domain::certissue::CertState;
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::sql::{Arg, Where};
use crate::{now_text, time_text, Page, PageRequest, Result, Store, StoreError};

/// A certificate as the platform keeps it. The ID number is only masked here; its hash never
/// leaves the store.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Certificate {
    pub id: i64,
    /// 证书编号 (22 characters).
    pub cert_no: String,
    pub candidate_id: i64,
    pub plan_id: i64,
    pub batch_id: Option<i64>,
    pub institution_id: i64,
    /// 评价机构名称 (as filed).
    pub institution_name: String,
    pub district_code: String,
    pub site_code: String,
    pub occupation_code: String,
    pub occupation_name: String,
    /// 工种/职业方向 ("--" when none).
    pub work_type: String,
    pub level: i64,
    pub holder_name: String,
    pub id_type: String,
    /// First 4 + last 4 of the ID number.
    pub id_masked: String,
    pub photo_document_id: Option<i64>,
    /// 发证日期.
    pub issued_on: String,
    /// valid (有效) | revoked (已撤销) | corrected (已更正)
    pub state: CertState,
    /// Visible outside its batch (set when the batch completes).
    pub published: bool,
    pub revoke_reason: Option<String>,
    pub revoked_at: Option<String>,
    /// The certificate that replaced this one (correction or reissue).
    pub superseded_by: Option<i64>,
    /// The certificate this one replaced.
    pub reissue_of: Option<i64>,
    /// Index in the status list (W3C Bitstring Status List).
    pub status_index: i64,
    /// Signing time, unix seconds.
    pub signed_at: i64,
    /// Key id (hex) of the signing key.
    pub key_id: String,
    /// COSE_Sign1 bytes, base64.
    pub cose: String,
    pub version: i64,
    pub created_at: String,
}

impl Certificate {
    /// Chinese label of the state.
    pub fn state_label(&self) -> &'static str {
        self.state.label()
    }
    pub fn cose_bytes(&self) -> Result<Vec<u8>> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(&self.cose)
            .map_err(|e| StoreError::Other(format!("证书签名数据损坏: {e}")))
    }
}

pub(crate) const CERT_COLUMNS: &str = "c.id, c.cert_no, c.candidate_id, c.plan_id, c.batch_id, c.institution_id, c.institution_name, c.district_code, c.site_code, c.occupation_code, c.occupation_name, c.work_type, c.level, c.holder_name, c.id_type, c.id_masked, c.photo_document_id, c.issued_on, c.state, c.published, c.revoke_reason, c.revoked_at, c.superseded_by, c.reissue_of, c.status_index, c.signed_at, c.key_id, c.cose, c.version, c.created_at";

pub(crate) fn cert_row(r: &AnyRow) -> Result<Certificate> {
    Ok(Certificate {
        id: r.get(0),
        cert_no: r.get(1),
        candidate_id: r.get(2),
        plan_id: r.get(3),
        batch_id: r.get(4),
        institution_id: r.get(5),
        institution_name: r.get(6),
        district_code: r.get(7),
        site_code: r.get(8),
        occupation_code: r.get(9),
        occupation_name: r.get(10),
        work_type: r.get(11),
        level: r.get(12),
        holder_name: r.get(13),
        id_type: r.get(14),
        id_masked: r.get(15),
        photo_document_id: r.get(16),
        issued_on: r.get(17),
        state: crate::sql::code(r, 18)?,
        published: r.get::<i64, _>(19) != 0,
        revoke_reason: r.get(20),
        revoked_at: r.get(21),
        superseded_by: r.get(22),
        reissue_of: r.get(23),
        status_index: r.get(24),
        signed_at: r.get(25),
        key_id: r.get(26),
        cose: r.get(27),
        version: r.get(28),
        created_at: r.get(29),
    })
}

/// What the public sees of a certificate: the ID number only masked, the live state.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicCertificate {
    pub cert_no: String,
    pub holder_name: String,
    pub id_type: String,
    /// First 4 + last 4 digits.
    pub id_number_masked: String,
    pub occupation_code: String,
    pub occupation_name: String,
    pub work_type: String,
    pub level: i64,
    /// As printed: "四级/中级工".
    pub level_name: String,
    pub institution_name: String,
    pub issued_on: String,
    pub status: CertState,
    /// 有效 / 已撤销 / 已更正
    pub status_label: String,
    pub revoke_reason: Option<String>,
    pub revoked_at: Option<String>,
    /// The number of the certificate that replaced it (correction).
    pub superseded_by: Option<String>,
}

/// Only the columns the public sees (not the 30 of [`Certificate`], whose signature alone is a
/// few hundred bytes), with the successor's number joined: the public query is one probe of the
/// unique index and one row.
const PUBLIC_COLUMNS: &str = "c.cert_no, c.holder_name, c.id_type, c.id_masked, c.occupation_code, c.occupation_name, c.work_type, c.level, c.institution_name, c.issued_on, c.state, c.revoke_reason, c.revoked_at, n.cert_no";
const PUBLIC_FROM: &str = "certificates c LEFT JOIN certificates n ON n.id = c.superseded_by";

fn public_row(r: &AnyRow) -> Result<PublicCertificate> {
    let level: i64 = r.get(7);
    let status: CertState = crate::sql::code(r, 10)?;
    Ok(PublicCertificate {
        cert_no: r.get(0),
        holder_name: r.get(1),
        id_type: r.get(2),
        id_number_masked: r.get(3),
        occupation_code: r.get(4),
        occupation_name: r.get(5),
        work_type: r.get(6),
        level,
        level_name: domain::occupation::Level::from_u8(level as u8)
            .map(|l| l.name().to_string())
            .unwrap_or_default(),
        institution_name: r.get(8),
        issued_on: r.get(9),
        status_label: status.label().into(),
        status,
        revoke_reason: r.get(11),
        revoked_at: r.get(12),
        superseded_by: r.get(13),
    })
}

/// Filters of the certificate list.
#[derive(Debug, Clone, Default)]
pub struct CertificateFilter {
    pub q: Option<String>,
    pub plan_id: Option<i64>,
    pub batch_id: Option<i64>,
    pub institution_id: Option<i64>,
    pub state: Option<String>,
    /// Issued on or after (YYYY-MM-DD).
    pub from: Option<String>,
    /// Issued on or before (YYYY-MM-DD).
    pub until: Option<String>,
}

fn scope_certificates(w: &mut Where, scope: &Scope) {
    match scope {
        Scope::City => {}
        Scope::District(d) => {
            let p = w.arg(Arg::Text(d.clone()));
            w.raw(format!("c.district_code = {p}"));
        }
        Scope::Institution(id) => w.eq_int("c.institution_id", *id),
        Scope::Assigned(_) => w.raw("1 = 0"),
    }
}

fn filter_certificates(w: &mut Where, f: &CertificateFilter) {
    w.search(
        &["c.cert_no", "c.holder_name", "c.occupation_name"],
        f.q.as_deref(),
    );
    if let Some(p) = f.plan_id {
        w.eq_int("c.plan_id", p);
    }
    if let Some(b) = f.batch_id {
        w.eq_int("c.batch_id", b);
    }
    if let Some(i) = f.institution_id {
        w.eq_int("c.institution_id", i);
    }
    w.eq_text("c.state", f.state.as_deref());
    if let Some(d) = f.from.as_deref().filter(|d| !d.is_empty()) {
        let p = w.arg(Arg::Text(d.to_string()));
        w.raw(format!("c.issued_on >= {p}"));
    }
    if let Some(d) = f.until.as_deref().filter(|d| !d.is_empty()) {
        let p = w.arg(Arg::Text(d.to_string()));
        w.raw(format!("c.issued_on <= {p}"));
    }
}

impl Store {
    /// Published certificates in `scope`, newest first.
    pub async fn list_certificates(
        &self,
        scope: &Scope,
        f: &CertificateFilter,
        page: PageRequest,
    ) -> Result<Page<Certificate>> {
        let mut w = Where::new();
        w.raw("c.published = 1");
        scope_certificates(&mut w, scope);
        filter_certificates(&mut w, f);
        w.fetch_page(
            &self.db,
            CERT_COLUMNS,
            "certificates c",
            "c.id DESC",
            page,
            cert_row,
        )
        .await
    }

    /// Every published certificate matching `f` in `scope`, in number order (exports, zips).
    pub async fn all_certificates(
        &self,
        scope: &Scope,
        f: &CertificateFilter,
    ) -> Result<Vec<Certificate>> {
        let mut all = vec![];
        let mut n = 1;
        loop {
            let mut w = Where::new();
            w.raw("c.published = 1");
            scope_certificates(&mut w, scope);
            filter_certificates(&mut w, f);
            let rows = w
                .page(
                    &self.db,
                    &format!("SELECT {CERT_COLUMNS} FROM certificates c"),
                    "c.cert_no",
                    PageRequest {
                        page: n,
                        per_page: 1000,
                    },
                )
                .await?;
            let len = rows.len();
            for r in &rows {
                all.push(cert_row(r)?);
            }
            if len < 1000 {
                return Ok(all);
            }
            n += 1;
        }
    }

    /// One certificate in scope (published or not: the center follows its batches).
    pub async fn certificate(&self, scope: &Scope, id: i64) -> Result<Certificate> {
        let mut w = Where::new();
        w.eq_int("c.id", id);
        scope_certificates(&mut w, scope);
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {CERT_COLUMNS} FROM certificates c"),
                "c.id",
                PageRequest::new(Some(1), Some(1)),
            )
            .await?;
        rows.first()
            .map(cert_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// The number of a certificate by id (links between a correction and its original).
    pub async fn cert_no_of(&self, id: i64) -> Result<Option<String>> {
        Ok(
            sqlx::query("SELECT cert_no FROM certificates WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.db.pool)
                .await?
                .map(|r| r.get(0)),
        )
    }

    /// Public query by number and holder name (both must match, so numbers cannot be enumerated
    /// to harvest names).
    pub async fn find_certificate(
        &self,
        cert_no: &str,
        holder_name: &str,
    ) -> Result<Option<PublicCertificate>> {
        let row = sqlx::query(&format!(
            "SELECT {PUBLIC_COLUMNS} FROM {PUBLIC_FROM} WHERE c.cert_no = $1 AND c.holder_name = $2 AND c.published = 1"
        ))
        .bind(cert_no)
        .bind(holder_name)
        .fetch_optional(&self.db.pool)
        .await?;
        row.as_ref().map(public_row).transpose()
    }

    /// What the public sees of a published certificate by number (the QR landing page, whose
    /// signed payload names the holder), live.
    pub async fn public_certificate_by_no(
        &self,
        cert_no: &str,
    ) -> Result<Option<PublicCertificate>> {
        let row = sqlx::query(&format!(
            "SELECT {PUBLIC_COLUMNS} FROM {PUBLIC_FROM} WHERE c.cert_no = $1 AND c.published = 1"
        ))
        .bind(cert_no)
        .fetch_optional(&self.db.pool)
        .await?;
        row.as_ref().map(public_row).transpose()
    }

    /// Public query by holder name and full ID number (the national query's pair). The ID number
    /// is compared by its hash only.
    pub async fn find_certificates_by_id(
        &self,
        holder_name: &str,
        id_number: &str,
    ) -> Result<Vec<PublicCertificate>> {
        let hash = self.id_hash(id_number)?;
        let rows = sqlx::query(&format!(
            "SELECT {PUBLIC_COLUMNS} FROM {PUBLIC_FROM} WHERE c.id_hash = $1 AND c.holder_name = $2 AND c.published = 1 ORDER BY c.issued_on DESC, c.id DESC"
        ))
        .bind(&hash)
        .bind(holder_name)
        .fetch_all(&self.db.pool)
        .await?;
        rows.iter().map(public_row).collect()
    }

    /// Status-list indexes of certificates no longer valid (revoked or corrected), and the
    /// highest index allocated so far.
    pub async fn status_list_entries(&self) -> Result<(Vec<i64>, i64)> {
        let revoked = sqlx::query("SELECT status_index FROM certificates WHERE published = 1 AND state <> 'valid' ORDER BY status_index")
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let last: i64 = sqlx::query("SELECT last_index FROM cert_status_counter WHERE id = 1")
            .fetch_one(&self.db.pool)
            .await?
            .get(0);
        Ok((revoked, last))
    }

    /// Count one public query of `client` and say whether it is within `limit` queries per
    /// `window_secs`. On PostgreSQL (several app servers) the hit is written first and counted
    /// after, so concurrent queries from several app servers can never exceed the limit. SQLite
    /// serves one app server: the window is kept in this process's memory, so a query does not
    /// take the single writer lock (measured: the database write made a query cost several
    /// times a health check).
    pub async fn public_query_allowed(
        &self,
        client: &str,
        limit: u32,
        window_secs: i64,
    ) -> Result<bool> {
        if self.db.backend == crate::Backend::Sqlite {
            return Ok(self.query_hits.hit(
                client,
                limit,
                std::time::Duration::from_secs(window_secs.max(1) as u64),
                std::time::Instant::now(),
            ));
        }
        let now = chrono::Utc::now();
        let since = time_text(now - chrono::Duration::seconds(window_secs));
        let mut tx = self.db.write().await?;
        sqlx::query("DELETE FROM public_query_hits WHERE client_addr = $1 AND at < $2")
            .bind(client)
            .bind(&since)
            .execute(tx.conn())
            .await?;
        sqlx::query("INSERT INTO public_query_hits (client_addr, at) VALUES ($1, $2)")
            .bind(client)
            .bind(time_text(now))
            .execute(tx.conn())
            .await?;
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) FROM public_query_hits WHERE client_addr = $1 AND at >= $2",
        )
        .bind(client)
        .bind(&since)
        .fetch_one(tx.conn())
        .await?
        .get(0);
        tx.commit().await?;
        Ok(n <= limit as i64)
    }

    /// The full ID number printed on a certificate (from its candidate). The caller audits the read.
    pub async fn certificate_id_number(&self, certificate_id: i64) -> Result<String> {
        sqlx::query("SELECT k.id_number FROM certificates c JOIN candidates k ON k.id = c.candidate_id WHERE c.id = $1")
            .bind(certificate_id)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| r.get(0))
            .ok_or(StoreError::NotFound)
    }

    /// The photo document of a candidate the scope covers (`NotFound` outside it).
    pub async fn candidate_photo_document(
        &self,
        scope: &Scope,
        candidate_id: i64,
    ) -> Result<Option<i64>> {
        let r = sqlx::query(
            "SELECT photo_document_id, institution_id, district_code FROM candidates WHERE id = $1",
        )
        .bind(candidate_id)
        .fetch_optional(&self.db.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let district: String = r.get(2);
        if !scope.covers(Some(&district), Some(r.get(1))) {
            return Err(StoreError::NotFound);
        }
        Ok(r.get(0))
    }

    /// Certificate rows for the export to the province: every published certificate issued in
    /// [from, until] (all when empty), in number order, with the full ID number (the national
    /// query takes 姓名 + 证件号码) and the institution's credit code. City use only; the caller
    /// records the export.
    pub async fn certificate_export_rows(
        &self,
        from: Option<&str>,
        until: Option<&str>,
    ) -> Result<Vec<(Certificate, String, String, Option<String>)>> {
        let mut w = Where::new();
        w.raw("c.published = 1");
        if let Some(d) = from.filter(|d| !d.is_empty()) {
            let p = w.arg(Arg::Text(d.to_string()));
            w.raw(format!("c.issued_on >= {p}"));
        }
        if let Some(d) = until.filter(|d| !d.is_empty()) {
            let p = w.arg(Arg::Text(d.to_string()));
            w.raw(format!("c.issued_on <= {p}"));
        }
        let mut out = vec![];
        let mut n = 1;
        loop {
            let rows = w
                .page(
                    &self.db,
                    &format!("SELECT {CERT_COLUMNS}, k.id_number, i.credit_code, s.cert_no FROM certificates c JOIN candidates k ON k.id = c.candidate_id JOIN institutions i ON i.id = c.institution_id LEFT JOIN certificates s ON s.id = c.superseded_by"),
                    "c.cert_no",
                    PageRequest { page: n, per_page: 1000 },
                )
                .await?;
            let len = rows.len();
            out.extend(
                rows.iter()
                    .map(|r| Ok((cert_row(r)?, r.get(30), r.get(31), r.get(32))))
                    .collect::<Result<Vec<_>>>()?,
            );
            if len < 1000 {
                return Ok(out);
            }
            n += 1;
        }
    }

    /// The approved (filed) institutions with their occupations, levels and site codes: one row
    /// per institution and occupation. (name, credit code, kind, district, site code, occupation
    /// code, occupation name, occupation kind, levels, filing no, filed on)
    pub async fn approved_institution_rows(&self) -> Result<Vec<Vec<String>>> {
        let rows = sqlx::query("SELECT i.name, i.credit_code, i.kind, d.name, COALESCE(i.site_code, ''), o.code, o.name, o.kind, f.levels, f.filing_no, f.filed_on \
             FROM filed_occupations f JOIN institutions i ON i.id = f.institution_id JOIN occupations o ON o.id = f.occupation_id JOIN divisions d ON d.code = i.district_code \
             WHERE f.revoked_at IS NULL ORDER BY d.sort, i.name, o.code")
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| (0..11).map(|i| r.get::<String, _>(i)).collect())
            .collect())
    }

    /// Record an export to the province (what, how many rows, which format): when and by whom.
    pub async fn record_export(
        &self,
        actor: &Actor,
        what: &str,
        format: &str,
        rows: usize,
    ) -> Result<()> {
        let mut tx = self.db.write().await?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "export.province",
                object_type: "export",
                object_id: what.to_string(),
                summary: serde_json::json!({ "what": what, "format": format, "rows": rows, "at": now_text() }),
            },
        )
        .await?;
        tx.commit().await
    }
}

/// The sliding window of public queries per client address, in memory (SQLite: one app
/// server). Each client keeps the times of its last `limit + 1` queries at most, refused ones
/// included (as in the database), so memory stays bounded by the limit; idle clients are swept.
#[derive(Default)]
pub(crate) struct QueryHits {
    inner: std::sync::Mutex<QueryHitsInner>,
}

#[derive(Default)]
struct QueryHitsInner {
    clients: std::collections::HashMap<String, std::collections::VecDeque<std::time::Instant>>,
    calls: u64,
}

impl QueryHits {
    /// Record a query at `now`; true while the window holds at most `limit` queries.
    pub(crate) fn hit(
        &self,
        client: &str,
        limit: u32,
        window: std::time::Duration,
        now: std::time::Instant,
    ) -> bool {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.calls += 1;
        if g.calls.is_multiple_of(4096) {
            g.clients.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < window)
            });
        }
        let q = match g.clients.get_mut(client) {
            Some(q) => q,
            None => g.clients.entry(client.to_string()).or_default(),
        };
        while q
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            q.pop_front();
        }
        q.push_back(now);
        let cap = limit as usize + 1;
        while q.len() > cap {
            q.pop_front();
        }
        q.len() <= limit as usize
    }
}

#[cfg(test)]
mod tests {
    use super::QueryHits;
    use std::time::{Duration, Instant};

    #[test]
    fn query_window_counts_refused_queries_and_forgets_old_ones() {
        let h = QueryHits::default();
        let t0 = Instant::now();
        let w = Duration::from_secs(60);
        for i in 0..3 {
            assert!(h.hit("a", 3, w, t0 + Duration::from_secs(i)), "query {i}");
        }
        assert!(!h.hit("a", 3, w, t0 + Duration::from_secs(3)));
        // Another client has its own window.
        assert!(h.hit("b", 3, w, t0 + Duration::from_secs(3)));
        // Still refused while more than 3 queries lie in the last minute (refused ones count).
        assert!(!h.hit("a", 3, w, t0 + Duration::from_secs(59)));
        // A minute after the burst, the window is free again.
        assert!(h.hit("a", 3, w, t0 + Duration::from_secs(125)));
    }
}
