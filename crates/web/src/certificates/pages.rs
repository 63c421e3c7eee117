//! The certificates of an area (city, district, institution): list, detail with its changes and
//! keys, the PDF (and a batch's PDFs as a zip), and the 评价站点代码 the city enters on an
//! institution.

use crate::routing::{guard, Routes};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use domain::Action;
use domain::Role;
use serde::{Deserialize, Serialize};
use store::{CertChange, Certificate, CertificateFilter, PageRequest};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::api::schema::PageOf;
use crate::api::ApiRouter;
use crate::auth::Authed;
use crate::body::{FormBody, JsonBody};
use crate::error::AppError;
use crate::pages::kit::{Cell, Field, FormPage, ListPage};
use crate::pages::{flash_text, list_base, render, render_status, Layout, Pager};
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/certificates", Action::CertificateView, list_page)
        .get("/certificates/{id}", Action::CertificateView, detail_page)
        .get("/certificates/{id}/pdf", Action::CertificateView, pdf)
        .get(
            "/cert-batches/{id}/pdfs.zip",
            Action::CertificateExport,
            batch_zip,
        )
        .get(
            "/institutions/{id}/site-code",
            Action::SiteCodeEdit,
            site_code_page,
        )
        .post(
            "/institutions/{id}/site-code",
            Action::SiteCodeEdit,
            site_code_form,
        )
}

pub fn api_routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(Action::CertificateView, routes!(api_list)))
        .routes(guard(Action::CertificateView, routes!(api_detail)))
        .routes(guard(Action::SiteCodeEdit, routes!(api_site_code)))
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    pub q: Option<String>,
    pub state: Option<String>,
    pub plan: Option<i64>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn filter_of(p: &ListParams) -> CertificateFilter {
    CertificateFilter {
        q: p.q.clone(),
        state: p.state.clone().filter(|s| !s.is_empty()),
        plan_id: p.plan,
        ..Default::default()
    }
}

/// Service: the certificates in the caller's area (证书查询), filtered and paged.
pub async fn list(
    state: &AppState,
    me: &Authed,
    p: &ListParams,
) -> Result<store::Page<Certificate>, AppError> {
    me.may(Action::CertificateView)?;
    Ok(state
        .store
        .list_certificates(
            &me.scope(),
            &filter_of(p),
            PageRequest::new(p.page, p.per_page),
        )
        .await?)
}

async fn list_page(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    let page = list(&state, &me, &p).await?;
    let rows = page
        .items
        .iter()
        .map(|c| {
            vec![
                Cell::link(c.cert_no.clone(), format!("/certificates/{}", c.id)).class("mono"),
                Cell::new(c.holder_name.clone()),
                Cell::new(c.id_masked.clone()).class("mono"),
                Cell::new(format!("{} {}", c.occupation_code, c.occupation_name)),
                Cell::new(super::level_name(c.level)),
                Cell::new(c.institution_name.clone()),
                Cell::new(c.issued_on.clone()),
                Cell::new(c.state_label()),
            ]
        })
        .collect();
    let states = vec![
        ("".to_string(), "全部".to_string()),
        ("valid".into(), "有效".into()),
        ("revoked".into(), "已撤销".into()),
        ("corrected".into(), "已更正".into()),
    ];
    let city = matches!(me.role(), Role::CityCenter | Role::CityDivision);
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "证书", "/certificates"),
        heading: "职业技能等级证书".into(),
        intro: if city {
            "已签发并公开查询的证书。证书数据可导出报送省级、国家平台：/exports/certificates（xlsx，加 ?format=csv 为 CSV）与 /exports/institutions（备案评价机构名单）。".into()
        } else {
            "本辖区已签发并公开查询的证书。".into()
        },
        new_link: city.then(|| {
            (
                "/certificates/issue".to_string(),
                "生成证书数据".to_string(),
            )
        }),
        filters: vec![
            Field::text("q", "编号、姓名或职业", p.q.clone().unwrap_or_default()),
            Field::text("state", "状态", p.state.clone().unwrap_or_default()).select(states),
        ],
        filter_action: "/certificates".into(),
        headers: vec![
            "证书编号",
            "姓名",
            "证件号码",
            "职业",
            "等级",
            "评价机构",
            "发证日期",
            "状态",
        ],
        rows,
        pager: Pager::from(&page),
        base: list_base("/certificates", &[("q", &p.q), ("state", &p.state)]),
        empty: "暂无证书",
        printable: true,
    }))
}

/// A certificate with its changes and its QR text.
#[derive(Serialize, ToSchema)]
pub struct CertificateDetail {
    pub certificate: Certificate,
    pub state_label: String,
    pub level_name: String,
    pub changes: Vec<CertChange>,
    /// The QR text printed on the certificate (verification URL with the signature).
    pub qr_text: String,
    pub superseded_by_no: Option<String>,
    pub reissue_of_no: Option<String>,
}

/// Service: one certificate in scope.
pub async fn detail(
    state: &AppState,
    me: &Authed,
    headers: &HeaderMap,
    id: i64,
) -> Result<CertificateDetail, AppError> {
    me.may(Action::CertificateView)?;
    let c = state.store.certificate(&me.scope(), id).await?;
    let qr_text = certsign::qr_text(
        &super::base_url(state, headers),
        &c.cert_no,
        &c.cose_bytes()?,
    );
    Ok(CertificateDetail {
        state_label: c.state_label().into(),
        level_name: super::level_name(c.level),
        changes: state.store.cert_changes(Some(c.id)).await?,
        superseded_by_no: match c.superseded_by {
            Some(x) => state.store.cert_no_of(x).await?,
            None => None,
        },
        reissue_of_no: match c.reissue_of {
            Some(x) => state.store.cert_no_of(x).await?,
            None => None,
        },
        qr_text,
        certificate: c,
    })
}

#[derive(Template)]
#[template(path = "cert_detail.html")]
struct DetailPage {
    layout: Layout,
    d: CertificateDetail,
    city_key: bool,
    role: String,
}

#[derive(Deserialize, Default)]
struct MsgQuery {
    msg: Option<String>,
}

async fn detail_page(
    State(state): State<AppState>,
    me: Authed,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let d = detail(&state, &me, &headers, id).await?;
    Ok(render(&DetailPage {
        layout: Layout::new(
            &state,
            Some(&me),
            format!("证书 {}", d.certificate.cert_no),
            "/certificates",
        )
        .with_flash(flash_text(q.msg.as_deref())),
        city_key: domain::certissue::is_city_key(me.role()),
        role: me.role().as_str().to_string(),
        d,
    }))
}

/// Service: the PDF of a certificate (institution in scope, district, city). It prints the full
/// ID number: each download is audited as a personal-data read.
pub async fn certificate_pdf(
    state: &AppState,
    me: &Authed,
    headers: &HeaderMap,
    id: i64,
) -> Result<(String, Vec<u8>), AppError> {
    me.may(Action::CertificateView)?;
    let c = state.store.certificate(&me.scope(), id).await?;
    if !c.published {
        return Err(AppError::Conflict("本证书所在批次尚未完成签发".into()));
    }
    let base = super::base_url(state, headers);
    let bytes = render_pdf(state, &c, &base).await?;
    store::audit::record(
        &state.store.db,
        &me.actor(),
        store::NewEvent {
            action: "certificate.pdf",
            object_type: "certificate",
            object_id: c.id.to_string(),
            summary: serde_json::json!({ "cert_no": c.cert_no }),
        },
    )
    .await?;
    Ok((format!("{}.pdf", c.cert_no), bytes))
}

/// Render a certificate with the certificate renderer: its photo, full ID number and QR text.
pub async fn render_pdf(
    state: &AppState,
    c: &Certificate,
    base: &str,
) -> Result<Vec<u8>, AppError> {
    let doc = c
        .photo_document_id
        .ok_or_else(|| AppError::Conflict(format!("证书 {} 没有照片", c.cert_no)))?;
    let photo = state
        .store
        .document_bytes(&domain::Scope::City, doc)
        .await?
        .1;
    let id_number = state.store.certificate_id_number(c.id).await?;
    let qr = certsign::qr_text(base, &c.cert_no, &c.cose_bytes()?);
    super::pdf::render(c, &id_number, &photo, &qr, base)
}

async fn pdf(
    State(state): State<AppState>,
    me: Authed,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (name, bytes) = certificate_pdf(&state, &me, &headers, id).await?;
    Ok(crate::upload::send_bytes(&name, "application/pdf", bytes))
}

/// Service: every certificate of a batch as PDFs in one zip (stored, fixed times: the same batch
/// gives the same bytes).
pub async fn batch_zip_bytes(
    state: &AppState,
    me: &Authed,
    headers: &HeaderMap,
    batch_id: i64,
) -> Result<Vec<u8>, AppError> {
    me.may(Action::CertificateExport)?;
    let b = state.store.cert_batch(batch_id).await?;
    let base = super::base_url(state, headers);
    let mut files = vec![];
    for c in state.store.batch_certificates(b.id).await? {
        if c.published {
            files.push((
                format!("{}.pdf", c.cert_no),
                render_pdf(state, &c, &base).await?,
            ));
        }
    }
    if files.is_empty() {
        return Err(AppError::Conflict("本批次尚无已公开的证书".into()));
    }
    store::audit::record(
        &state.store.db,
        &me.actor(),
        store::NewEvent {
            action: "certificate.batch_zip",
            object_type: "cert_batch",
            object_id: b.id.to_string(),
            summary: serde_json::json!({ "count": files.len() }),
        },
    )
    .await?;
    zip_stored(&files)
}

/// A zip of `files`, stored (PDFs do not compress), with a fixed timestamp.
pub fn zip_stored(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, AppError> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, bytes) in files {
        w.start_file(name.as_str(), opts)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        w.write_all(bytes)
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    Ok(w.finish()
        .map_err(|e| AppError::Internal(e.to_string()))?
        .into_inner())
}

async fn batch_zip(
    State(state): State<AppState>,
    me: Authed,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let bytes = batch_zip_bytes(&state, &me, &headers, id).await?;
    Ok(crate::upload::send_bytes(
        &format!("证书批次{id}.zip"),
        "application/zip",
        bytes,
    ))
}

// -- site code ---------------------------------------------------------------------------------

/// The 评价站点代码 the province assigned (the city enters it).
#[derive(Deserialize, Default, ToSchema)]
pub struct SiteCodeForm {
    /// Six digits; empty clears it.
    #[serde(default)]
    pub site_code: String,
}

/// Service: the institution whose site code (评价站点代码) the caller may record.
pub async fn site_code_institution(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<store::Institution, AppError> {
    me.may(Action::SiteCodeEdit)?;
    Ok(state.store.institution(&me.scope(), id).await?)
}

/// Service: record an institution's site code (city center and division).
pub async fn set_site_code(
    state: &AppState,
    me: &Authed,
    id: i64,
    f: &SiteCodeForm,
) -> Result<store::Institution, AppError> {
    site_code_institution(state, me, id).await?;
    let code = match f.site_code.trim() {
        "" => None,
        s => Some(domain::certissue::parse_site_code(s)?),
    };
    Ok(state
        .store
        .set_site_code(&me.actor(), id, code.as_deref())
        .await?)
}

fn site_code_fields(value: &str) -> Vec<Field> {
    vec![Field::text("site_code", "评价站点代码", value)
        .hint("省级部门分配的 6 位数字，证书编号第 8–13 位（人社鉴发〔2019〕2号）；留空为清除")]
}

async fn site_code_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let inst = site_code_institution(&state, &me, id).await?;
    Ok(render(&site_code_form_page(&state, &me, &inst, None)))
}

fn site_code_form_page(
    state: &AppState,
    me: &Authed,
    inst: &store::Institution,
    error: Option<(String, String)>,
) -> FormPage {
    let mut fields = site_code_fields(inst.site_code.as_deref().unwrap_or(""));
    let mut top = None;
    if let Some((field, msg)) = error {
        top = crate::pages::kit::attach_error(&mut fields, &field, msg);
    }
    FormPage {
        layout: Layout::new(state, Some(me), "评价站点代码", "/institutions"),
        heading: format!("{} · 评价站点代码", inst.name),
        crumbs: vec![
            ("/institutions".into(), "评价机构".into()),
            (format!("/institutions/{}", inst.id), inst.name.clone()),
        ],
        intro: "生成证书编号须有评价站点代码；未登记的机构不能签发证书。".into(),
        action: format!("/institutions/{}/site-code", inst.id),
        fields,
        error: top,
        submit: "保存",
        cancel: format!("/institutions/{}", inst.id),
        confirm: None,
    }
}

async fn site_code_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<SiteCodeForm>,
) -> Result<Response, AppError> {
    match set_site_code(&state, &me, id, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/institutions/{id}?msg=saved")).into_response()),
        Err(AppError::Invalid { field, message }) => {
            let mut inst = site_code_institution(&state, &me, id).await?;
            inst.site_code = Some(f.site_code.clone());
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &site_code_form_page(&state, &me, &inst, Some((field, message))),
            ))
        }
        Err(AppError::Conflict(message)) => {
            let inst = site_code_institution(&state, &me, id).await?;
            Ok(render_status(
                StatusCode::CONFLICT,
                &site_code_form_page(&state, &me, &inst, Some(("site_code".into(), message))),
            ))
        }
        Err(e) => Err(e),
    }
}

// -- API ---------------------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/certificates", tag = "证书", operation_id = "list_certificates",
    params(("q" = Option<String>, Query), ("state" = Option<String>, Query, description = "valid | revoked | corrected"), ("plan" = Option<i64>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = PageOf<Certificate>, description = "辖区内已公开的证书")))]
async fn api_list(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    Ok(Json(list(&state, &me, &p).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/certificates/{id}", tag = "证书", operation_id = "certificate_detail", params(("id" = i64, Path)),
    responses((status = 200, body = CertificateDetail, description = "证书、撤销/更正记录与二维码内容"), (status = 404, body = crate::api::ErrorBody)))]
async fn api_detail(
    State(state): State<AppState>,
    me: Authed,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<CertificateDetail>, AppError> {
    Ok(Json(detail(&state, &me, &headers, id).await?))
}

#[utoipa::path(put, path = "/api/v1/institutions/{id}/site-code", tag = "评价机构", operation_id = "set_site_code", params(("id" = i64, Path)), request_body = SiteCodeForm,
    responses((status = 200, body = store::Institution, description = "已保存"), (status = 409, body = crate::api::ErrorBody, description = "代码已登记给其他机构"), (status = 422, body = crate::api::ErrorBody, description = "不是 6 位数字")))]
async fn api_site_code(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(f): JsonBody<SiteCodeForm>,
) -> Result<Json<store::Institution>, AppError> {
    Ok(Json(set_site_code(&state, &me, id, &f).await?))
}
