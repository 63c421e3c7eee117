//! Reporting upward (报至省级、国家平台): certificate data and the approved-institution list as
//! xlsx and CSV, in the layout of `docs/province-export.md`. Every export is recorded (when, by
//! whom, what, how many rows) in the audit trail. City roles only.

use crate::routing::{guard, Routes};
use axum::extract::{Query, State};
use axum::response::Response;
use domain::Action;
use serde::Deserialize;
use utoipa_axum::routes;

use crate::api::ApiRouter;
use crate::auth::Authed;
use crate::error::AppError;
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get(
            "/exports/certificates",
            Action::CertificateExport,
            certificates_file,
        )
        .get(
            "/exports/institutions",
            Action::CertificateExport,
            institutions_file,
        )
}

pub fn api_routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(Action::CertificateExport, routes!(api_certificates)))
        .routes(guard(Action::CertificateExport, routes!(api_institutions)))
}

/// Columns of the certificate export (docs/province-export.md).
pub const CERT_HEADERS: [&str; 19] = [
    "序号",
    "证书编号",
    "证书类别",
    "姓名",
    "证件类型",
    "证件号码",
    "职业编码",
    "职业名称",
    "工种/职业方向",
    "等级",
    "评价机构名称",
    "统一社会信用代码",
    "评价站点代码",
    "发证日期",
    "证书状态",
    "撤销/更正原因",
    "撤销/更正日期",
    "更正后证书编号",
    "签名密钥标识",
];

/// Columns of the approved-institution export (docs/province-export.md).
pub const INSTITUTION_HEADERS: [&str; 12] = [
    "序号",
    "机构名称",
    "统一社会信用代码",
    "机构类别",
    "属地区县",
    "评价站点代码",
    "职业（工种）/项目代码",
    "职业（工种）/项目名称",
    "类别",
    "备案等级",
    "备案编号",
    "备案日期",
];

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// xlsx (default) | csv
    pub format: Option<String>,
    /// 发证日期起 (YYYY-MM-DD)
    pub from: Option<String>,
    /// 发证日期止 (YYYY-MM-DD)
    pub until: Option<String>,
}

fn date_param(field: &'static str, v: &Option<String>) -> Result<Option<String>, AppError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(|d| Some(d.to_string()))
            .map_err(|_| AppError::invalid(field, "日期格式应为 YYYY-MM-DD")),
    }
}

fn is_csv(p: &ExportParams) -> Result<bool, AppError> {
    match p.format.as_deref().unwrap_or("xlsx") {
        "xlsx" => Ok(false),
        "csv" => Ok(true),
        _ => Err(AppError::invalid("format", "导出格式应为 xlsx 或 csv")),
    }
}

/// RFC 4180 CSV in UTF-8 with a byte-order mark (so Excel opens Chinese text correctly), CRLF.
pub fn csv(headers: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = String::from("\u{feff}");
    out.push_str(
        &headers
            .iter()
            .map(|h| field(h))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str("\r\n");
    for r in rows {
        out.push_str(&r.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// Service: the rows of the certificate export.
pub async fn certificate_rows(
    state: &AppState,
    from: Option<&str>,
    until: Option<&str>,
) -> Result<Vec<Vec<String>>, AppError> {
    let rows = state.store.certificate_export_rows(from, until).await?;
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(i, (c, id_number, credit_code, next))| {
            vec![
                (i + 1).to_string(),
                c.cert_no.clone(),
                if c.cert_no.starts_with('Z') {
                    "专项职业能力证书"
                } else {
                    "职业技能等级证书"
                }
                .to_string(),
                c.holder_name.clone(),
                c.id_type.clone(),
                id_number,
                c.occupation_code.clone(),
                c.occupation_name.clone(),
                c.work_type.clone(),
                super::level_name(c.level),
                c.institution_name.clone(),
                credit_code,
                c.site_code.clone(),
                c.issued_on.clone(),
                c.state_label().to_string(),
                c.revoke_reason.clone().unwrap_or_default(),
                c.revoked_at
                    .as_deref()
                    .map(crate::pages::beijing_time)
                    .map(|t| t.chars().take(10).collect())
                    .unwrap_or_default(),
                next.unwrap_or_default(),
                c.key_id.clone(),
            ]
        })
        .collect())
}

/// Service: the rows of the approved-institution export.
pub async fn institution_rows(state: &AppState) -> Result<Vec<Vec<String>>, AppError> {
    Ok(state
        .store
        .approved_institution_rows()
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let kind = domain::institution::InstitutionKind::parse(&r[2])
                .map(|k| k.label().to_string())
                .unwrap_or_else(|| r[2].clone());
            let levels = domain::occupation::parse_levels(&r[8])
                .map(|ls| ls.iter().map(|l| l.name()).collect::<Vec<_>>().join("、"))
                .unwrap_or_else(|_| r[8].clone());
            let occ_kind = if r[7] == "special" {
                "专项职业能力"
            } else {
                "职业（工种）"
            };
            vec![
                (i + 1).to_string(),
                r[0].clone(),
                r[1].clone(),
                kind,
                r[3].clone(),
                r[4].clone(),
                r[5].clone(),
                r[6].clone(),
                occ_kind.to_string(),
                if r[7] == "special" {
                    "—".to_string()
                } else {
                    levels
                },
                r[9].clone(),
                r[10].clone(),
            ]
        })
        .collect())
}

/// Service: one export file, recorded in the audit trail.
pub async fn export(
    state: &AppState,
    me: &Authed,
    what: &str,
    p: &ExportParams,
) -> Result<Response, AppError> {
    me.may(Action::CertificateExport)?;
    let csv_out = is_csv(p)?;
    let from = date_param("from", &p.from)?;
    let until = date_param("until", &p.until)?;
    let (title, headers, rows): (&str, &[&str], Vec<Vec<String>>) = match what {
        "certificates" => (
            "证书数据",
            &CERT_HEADERS,
            certificate_rows(state, from.as_deref(), until.as_deref()).await?,
        ),
        _ => (
            "备案评价机构名单",
            &INSTITUTION_HEADERS,
            institution_rows(state).await?,
        ),
    };
    let format = if csv_out { "csv" } else { "xlsx" };
    state
        .store
        .record_export(&me.actor(), what, format, rows.len())
        .await?;
    let name = format!("{title}-{}.{format}", state.today());
    Ok(if csv_out {
        crate::upload::send_bytes(&name, "text/csv; charset=utf-8", csv(headers, &rows))
    } else {
        let bytes = sheets::write_report(title, headers, &rows)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        crate::upload::send_bytes(&name, sheets::XLSX_CONTENT_TYPE, bytes)
    })
}

async fn certificates_file(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    export(&state, &me, "certificates", &p).await
}

async fn institutions_file(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    export(&state, &me, "institutions", &p).await
}

#[utoipa::path(get, path = "/api/v1/exports/certificates", tag = "证书", operation_id = "export_certificates", params(ExportParams),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>, description = "证书数据（xlsx，或 format=csv 时为 UTF-8 CSV），格式见 docs/province-export.md；导出记入审计"),
        (status = 403, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
async fn api_certificates(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    export(&state, &me, "certificates", &p).await
}

#[utoipa::path(get, path = "/api/v1/exports/institutions", tag = "证书", operation_id = "export_approved_institutions", params(ExportParams),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>, description = "备案评价机构名单（xlsx 或 csv），格式见 docs/province-export.md；导出记入审计"),
        (status = 403, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
async fn api_institutions(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    export(&state, &me, "institutions", &p).await
}
