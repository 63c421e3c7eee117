//! Published certificate data (证书数据) for the public query. Issuance comes with the
//! certificate workflow; the query works on whatever has been published.

use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store};

/// What the public sees of a certificate: the ID number only masked.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicCertificate {
    pub cert_no: String,
    pub holder_name: String,
    pub id_type: String,
    pub id_number_masked: String,
    pub occupation_name: String,
    pub work_type: String,
    pub level: i64,
    pub institution_name: String,
    pub issued_on: String,
    pub status: String,
}

impl Store {
    /// Look a certificate up by number and holder name (both must match, so numbers cannot be
    /// enumerated to harvest names).
    pub async fn find_certificate(
        &self,
        cert_no: &str,
        holder_name: &str,
    ) -> Result<Option<PublicCertificate>> {
        let row = sqlx::query(
            "SELECT cert_no, holder_name, id_type, id_number_masked, occupation_name, work_type, level, institution_name, issued_on, status \
             FROM certificates WHERE cert_no = $1 AND holder_name = $2",
        )
        .bind(cert_no)
        .bind(holder_name)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(row.map(|r| PublicCertificate {
            cert_no: r.get(0),
            holder_name: r.get(1),
            id_type: r.get(2),
            id_number_masked: r.get(3),
            occupation_name: r.get(4),
            work_type: r.get(5),
            level: r.get(6),
            institution_name: r.get(7),
            issued_on: r.get(8),
            status: r.get(9),
        }))
    }
}
