//! Review stages of 机构备案 beside the state machine (API and the service functions the pages
//! share): the supervisor's 督导意见 (一(一)), the report of approved applications to the
//! provincial authority with its xlsx export ("按程序报至上级部门"), and the 属地 move of an
//! institution to the district of its premises (二(一)).

use crate::routing::guard;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use domain::filing::FilingState;
use domain::Action;
use serde::Deserialize;
use store::FilingApp;

use crate::api::{with_upload_limit, ApiRouter};
use crate::auth::Authed;
use crate::body::JsonBody;
use crate::error::AppError;
use crate::AppState;
use utoipa_axum::routes;

/// The review-stage routes with their documentation (see `api::v1`).
pub fn api_routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(
            Action::SupervisionOpinion,
            routes!(api_supervision_opinion),
        ))
        .routes(guard(
            Action::ProvinceReport,
            with_upload_limit(routes!(api_create_report)),
        ))
        .routes(guard(Action::ProvinceReport, routes!(api_report)))
        .routes(guard(Action::ProvinceReport, routes!(api_export)))
        .routes(guard(Action::DistrictMoveView, routes!(api_list_moves)))
        .routes(guard(
            Action::DistrictMoveRequest,
            routes!(api_request_move),
        ))
        .routes(guard(Action::DistrictMoveDecide, routes!(api_decide_move)))
}

/// The OpenAPI paths of this module (merged into `/api/openapi.json`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    api_supervision_opinion,
    api_create_report,
    api_report,
    api_export,
    api_request_move,
    api_list_moves,
    api_decide_move
))]
pub struct ApiDocs;

// ------------------------------------------------------------------ 督导意见

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SupervisionOpinionInput {
    pub opinion: String,
    /// Ids of documents of the application (uploaded with kind `supervision`).
    #[serde(default)]
    pub attachments: Vec<i64>,
}

/// The dispatched supervisor files its 督导意见 with attachments, before the city decides.
pub async fn file_supervision_opinion(
    state: &AppState,
    me: &Authed,
    id: i64,
    input: &SupervisionOpinionInput,
) -> Result<(), AppError> {
    me.may(Action::SupervisionOpinion)?;
    let app = state.store.filing(&me.scope(), id).await?;
    if !matches!(
        app.state(),
        FilingState::Submitted
            | FilingState::DistrictPassed
            | FilingState::ExpertsDrawn
            | FilingState::OnsiteReviewed
            | FilingState::CityReview
    ) {
        return Err(AppError::Conflict(format!(
            "当前状态为“{}”，不能再提交督导意见",
            app.state().label()
        )));
    }
    if input.opinion.trim().is_empty() {
        return Err(AppError::invalid("opinion", "请填写督导意见"));
    }
    for d in &input.attachments {
        let doc = state
            .store
            .document_of_owner("filing_application", id, *d)
            .await
            .map_err(|_| AppError::invalid("attachments", format!("附件 {d} 不是本申请的材料")))?;
        if doc.kind != "supervision" {
            return Err(AppError::invalid(
                "attachments",
                format!("附件“{}”不是督导意见附件", doc.filename),
            ));
        }
    }
    state
        .store
        .file_supervision_opinion(
            &me.actor(),
            &app,
            me.account.id,
            input.opinion.trim(),
            &input.attachments,
        )
        .await
        .map_err(|e| match e {
            store::StoreError::NotFound => {
                AppError::Conflict("您尚未被两个市级部门共同派遣为本申请的评审督导".into())
            }
            e => e.into(),
        })?;
    Ok(())
}

/// 督导意见 from the page: its attachments are the 督导意见附件 this supervisor uploaded to
/// the application (the permission and the scope first, as `file_supervision_opinion` does).
pub async fn file_supervision_opinion_with_uploads(
    state: &AppState,
    me: &Authed,
    id: i64,
    opinion: String,
) -> Result<(), AppError> {
    me.may(Action::SupervisionOpinion)?;
    state.store.filing(&me.scope(), id).await?;
    let mine: Vec<i64> = state
        .store
        .documents_of("filing_application", id)
        .await?
        .into_iter()
        .filter(|g| g.latest.kind == "supervision" && g.latest.uploaded_by == Some(me.account.id))
        .map(|g| g.latest.id)
        .collect();
    file_supervision_opinion(
        state,
        me,
        id,
        &SupervisionOpinionInput {
            opinion,
            attachments: mine,
        },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/filings/{id}/supervision-opinion", tag = "机构备案", operation_id = "file_supervision_opinion", params(("id" = i64, Path)), request_body = SupervisionOpinionInput, responses((status = 204, description = "督导意见已提交"), (status = 409, description = "不在评审阶段")))]
async fn api_supervision_opinion(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<SupervisionOpinionInput>,
) -> Result<Response, AppError> {
    file_supervision_opinion(&state, &me, id, &input).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ------------------------------------------------------------------ 报至上级部门

/// What the report form carries besides the attachment.
#[derive(Debug, Default)]
pub struct ReportInput {
    pub reported_on: String,
    pub doc_no: String,
    pub note: String,
    /// Comma-separated application ids; empty = every approved, unreported application.
    pub application_ids: String,
}

/// Record the report of a batch of applications past the two keys to the provincial authority:
/// date, document number and attachment (required), one transaction.
pub async fn record_report(
    state: &AppState,
    me: &Authed,
    input: &ReportInput,
    file: Option<&crate::upload::UploadedFile>,
) -> Result<i64, AppError> {
    me.may(Action::ProvinceReport)?;
    let reported_on = NaiveDate::parse_from_str(input.reported_on.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("reported_on", "报送日期应为 YYYY-MM-DD"))?;
    if reported_on > state.today() {
        return Err(AppError::invalid("reported_on", "报送日期不能晚于今天"));
    }
    if input.doc_no.trim().is_empty() {
        return Err(AppError::invalid("doc_no", "请填写报送文号"));
    }
    let file = file.ok_or_else(|| AppError::invalid("file", "请上传报送文件（附件）"))?;
    let checked = crate::upload::check_file(file, state.config.max_upload_bytes)?;
    let mut ids = vec![];
    for part in input
        .application_ids
        .split([',', '，', ' ', '、'])
        .filter(|s| !s.trim().is_empty())
    {
        let id: i64 = part
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("application_ids", format!("申请编号“{part}”无效")))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let apps: Vec<FilingApp> = if ids.is_empty() {
        state.store.approved_unreported().await?
    } else {
        let mut v = vec![];
        for id in ids {
            v.push(state.store.filing(&me.scope(), id).await?);
        }
        v
    };
    if apps.is_empty() {
        return Err(AppError::invalid(
            "application_ids",
            "没有待报送的审核通过申请",
        ));
    }
    for a in &apps {
        // "审核通过后，按程序报至上级部门": only after both city keys.
        if a.center_approved_by.is_none()
            || a.division_approved_by.is_none()
            || !matches!(
                a.state(),
                FilingState::Publicity | FilingState::PublicityPaused | FilingState::Filed
            )
        {
            return Err(AppError::Conflict(format!(
                "申请 #{}（{}）尚未经市鉴定中心与市人社局职建处审核通过，不能报至上级部门（一(一)）",
                a.id,
                a.state().label()
            )));
        }
    }
    let blob = state.store.blobs.put(&file.bytes).await?;
    let doc = store::NewDocument {
        owner_type: "province_report".into(),
        owner_id: 0,
        institution_id: None,
        district_code: None,
        kind: "province_report".into(),
        filename: checked.filename.clone(),
        retention_until: None,
    };
    state
        .store
        .record_province_report(
            &me.actor(),
            reported_on,
            input.doc_no.trim(),
            input.note.trim(),
            &apps,
            Some((doc, checked, blob)),
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Duplicate(m) => AppError::Conflict(m),
            e => e.into(),
        })
}

/// Read the multipart report form (fields reported_on, doc_no, note, application_ids, file).
pub async fn report_from_multipart(
    state: &AppState,
    me: &Authed,
    mp: Multipart,
) -> Result<i64, AppError> {
    me.may(Action::ProvinceReport)?;
    let parts = crate::upload::read_upload(mp, state.config.max_upload_bytes).await?;
    let field = |n: &str| crate::upload::text_field(&parts, n).unwrap_or_default();
    let input = ReportInput {
        reported_on: field("reported_on"),
        doc_no: field("doc_no"),
        note: field("note"),
        application_ids: field("application_ids"),
    };
    let file = crate::upload::files(&parts).next();
    record_report(state, me, &input, file).await
}

#[utoipa::path(post, path = "/api/v1/province-reports", tag = "机构备案", operation_id = "create_province_report", request_body(content_type = "multipart/form-data", description = "reported_on, doc_no, note?, application_ids?（逗号分隔；空则全部已审核未报送）, file=报送文件"), responses((status = 201, body = store::ProvinceReport, description = "报送记录"), (status = 422, description = "字段有误或缺少附件")))]
async fn api_create_report(
    State(state): State<AppState>,
    me: Authed,
    mp: Multipart,
) -> Result<Response, AppError> {
    let id = report_from_multipart(&state, &me, mp).await?;
    Ok((
        StatusCode::CREATED,
        Json(province_report(&state, &me, id).await?),
    )
        .into_response())
}

/// 报送记录: one report to the provincial authority (报至上级部门).
pub async fn province_report(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<store::ProvinceReport, AppError> {
    me.may(Action::ProvinceReport)?;
    Ok(state.store.province_report(id).await?)
}

#[utoipa::path(get, path = "/api/v1/province-reports/{id}", tag = "机构备案", operation_id = "get_province_report", params(("id" = i64, Path)), responses((status = 200, body = store::ProvinceReport, description = "报送记录")))]
async fn api_report(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(Json(province_report(&state, &me, id).await?).into_response())
}

/// The columns of the approved-batch export, as documented in docs/interchange.md.
pub const EXPORT_HEADERS: [&str; 16] = [
    "序号",
    "申请编号",
    "备案类型",
    "机构名称",
    "统一社会信用代码",
    "属地区县",
    "办理方式",
    "职业（工种）/项目代码",
    "职业（工种）/项目名称",
    "申报等级",
    "评审方式",
    "市鉴定中心审核",
    "市人社局职建处审核",
    "公示期",
    "备案编号",
    "报送文号",
];

/// 报至上级部门: the approved applications not yet reported and the reports recorded so far.
pub struct ReportOverview {
    pub pending: Vec<FilingApp>,
    pub reports: Vec<store::ProvinceReport>,
}

/// 报至上级部门: what waits to be reported (past both city keys) and what was reported.
pub async fn report_overview(state: &AppState, me: &Authed) -> Result<ReportOverview, AppError> {
    me.may(Action::ProvinceReport)?;
    Ok(ReportOverview {
        pending: state.store.approved_unreported().await?,
        reports: state.store.province_reports().await?,
    })
}

/// One row per occupation of each application.
pub async fn export_rows(
    state: &AppState,
    apps: &[FilingApp],
) -> Result<Vec<Vec<String>>, AppError> {
    let mut rows = vec![];
    for a in apps {
        let doc_no = state
            .store
            .province_report_of(a.id)
            .await?
            .map(|r| r.doc_no)
            .unwrap_or_default();
        for it in &a.items {
            let levels = domain::occupation::parse_levels(&it.levels)
                .unwrap_or_default()
                .iter()
                .map(|l| l.name())
                .collect::<Vec<_>>()
                .join("、");
            rows.push(vec![
                (rows.len() + 1).to_string(),
                a.id.to_string(),
                a.kind.label().to_string(),
                a.institution_name.clone(),
                a.credit_code.clone(),
                a.district_name.clone(),
                a.route.label().to_string(),
                it.code.clone(),
                it.name.clone(),
                if levels.is_empty() {
                    "—".into()
                } else {
                    levels
                },
                a.review_mode
                    .map(|m| m.label().to_string())
                    .unwrap_or_else(|| "免于现场评估".into()),
                format!(
                    "{} {}",
                    a.center_approved_by.clone().unwrap_or_default(),
                    a.center_approved_at
                        .as_deref()
                        .and_then(|t| t.get(..10))
                        .unwrap_or("")
                ),
                format!(
                    "{} {}",
                    a.division_approved_by.clone().unwrap_or_default(),
                    a.division_approved_at
                        .as_deref()
                        .and_then(|t| t.get(..10))
                        .unwrap_or("")
                ),
                format!(
                    "{} 至 {}",
                    a.publicity_start.clone().unwrap_or_default(),
                    a.publicity_end.clone().unwrap_or_default()
                ),
                a.filing_no.clone().unwrap_or_default(),
                doc_no.clone(),
            ]);
        }
    }
    Ok(rows)
}

#[derive(Deserialize, Default)]
pub struct ExportParams {
    /// A recorded report's batch; without it, the approved applications not yet reported.
    pub report: Option<i64>,
}

/// The approved batch as xlsx (docs/interchange.md).
pub async fn export_batch(
    state: &AppState,
    me: &Authed,
    p: &ExportParams,
) -> Result<Response, AppError> {
    me.may(Action::ProvinceReport)?;
    let apps = match p.report {
        Some(r) => {
            let rep = state.store.province_report(r).await?;
            let mut v = vec![];
            for id in rep.application_ids {
                v.push(state.store.filing(&me.scope(), id).await?);
            }
            v
        }
        None => state.store.approved_unreported().await?,
    };
    let rows = export_rows(state, &apps).await?;
    let bytes = sheets::write_report("备案审核通过批次", &EXPORT_HEADERS, &rows)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let name = match p.report {
        Some(r) => format!("备案审核通过批次-报送{r}.xlsx"),
        None => format!("备案审核通过批次-{}.xlsx", state.today()),
    };
    Ok(crate::upload::send_bytes(
        &name,
        sheets::XLSX_CONTENT_TYPE,
        bytes,
    ))
}

#[utoipa::path(get, path = "/api/v1/province-reports/export.xlsx", tag = "机构备案", operation_id = "export_province_batch", params(("report" = Option<i64>, Query, description = "报送记录；空则导出未报送的已审核申请")), responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>, description = "审核通过批次（xlsx）")))]
async fn api_export(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ExportParams>,
) -> Result<Response, AppError> {
    export_batch(&state, &me, &p).await
}

// ------------------------------------------------------------------ 二(一) 属地

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MoveInput {
    pub reason: String,
}

/// The institution asks to belong to the district of its premises (经营场所所在地).
pub async fn request_move(
    state: &AppState,
    me: &Authed,
    input: &MoveInput,
) -> Result<i64, AppError> {
    me.may(Action::DistrictMoveRequest)?;
    let id = me
        .account
        .institution_id
        .ok_or_else(|| AppError::Forbidden("您的账号未关联评价机构".into()))?;
    let inst = state.store.institution(&me.scope(), id).await?;
    if input.reason.trim().is_empty() {
        return Err(AppError::invalid(
            "reason",
            "请说明申请划归经营场所所在区县的理由",
        ));
    }
    if inst.biz_district == inst.district_code {
        return Err(AppError::invalid(
            "reason",
            "经营场所与当前所属区县相同，无需变更属地（二(一)）",
        ));
    }
    state
        .store
        .request_district_move(
            &me.actor(),
            inst.id,
            &inst.district_code,
            &inst.biz_district,
            input.reason.trim(),
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Invalid(m) => AppError::Conflict(m),
            e => e.into(),
        })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct MoveDecision {
    pub approve: bool,
    #[serde(default)]
    pub reason: String,
    pub version: i64,
}

/// The city (市职业技能鉴定中心, which assigns institutions to districts) agrees or refuses.
pub async fn decide_move(
    state: &AppState,
    me: &Authed,
    id: i64,
    input: &MoveDecision,
) -> Result<store::DistrictMove, AppError> {
    me.may(Action::DistrictMoveDecide)?;
    if input.reason.trim().is_empty() {
        return Err(AppError::invalid("reason", "请填写审核意见"));
    }
    state
        .store
        .decide_district_move(
            &me.actor(),
            id,
            input.version,
            input.approve,
            input.reason.trim(),
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Invalid(m) => AppError::Conflict(m),
            store::StoreError::Conflict => AppError::Conflict(
                "该申请或机构信息已被他人修改，您的操作未生效，请刷新后重试".into(),
            ),
            e => e.into(),
        })
}

#[utoipa::path(post, path = "/api/v1/district-moves", tag = "机构备案", operation_id = "request_district_move", request_body = MoveInput, responses((status = 201, body = store::DistrictMove, description = "属地变更申请"), (status = 422, description = "字段有误")))]
async fn api_request_move(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(input): JsonBody<MoveInput>,
) -> Result<Response, AppError> {
    let id = request_move(&state, &me, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(district_move(&state, &me, id).await?),
    )
        .into_response())
}

/// 属地变更申请: one request, if the caller's scope covers it.
pub async fn district_move(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<store::DistrictMove, AppError> {
    me.may(Action::DistrictMoveView)?;
    Ok(state.store.district_move(&me.scope(), id).await?)
}

/// 属地变更申请列表: the requests in scope, by status.
pub async fn district_moves(
    state: &AppState,
    me: &Authed,
    status: Option<&str>,
) -> Result<Vec<store::DistrictMove>, AppError> {
    me.may(Action::DistrictMoveView)?;
    Ok(state.store.district_moves(&me.scope(), status).await?)
}

#[derive(Deserialize, Default)]
pub struct MoveParams {
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/district-moves", tag = "机构备案", operation_id = "list_district_moves", params(("status" = Option<String>, Query)), responses((status = 200, body = Vec<store::DistrictMove>, description = "属地变更申请，仅含本人辖区")))]
async fn api_list_moves(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<MoveParams>,
) -> Result<Response, AppError> {
    Ok(Json(district_moves(&state, &me, p.status.as_deref()).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/district-moves/{id}/decide", tag = "机构备案", operation_id = "decide_district_move", params(("id" = i64, Path)), request_body = MoveDecision, responses((status = 200, body = store::DistrictMove, description = "审核结果"), (status = 409, description = "已审核")))]
async fn api_decide_move(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<MoveDecision>,
) -> Result<Response, AppError> {
    Ok(Json(decide_move(&state, &me, id, &input).await?).into_response())
}

/// 本机构的属地: an institution account's current district and the district of its premises
/// (经营场所所在地), with the premises' name; none for other roles.
pub async fn my_premises(
    state: &AppState,
    me: &Authed,
) -> Result<Option<(store::Institution, String)>, AppError> {
    me.may(Action::DistrictMoveView)?;
    match (me.role(), me.account.institution_id) {
        (domain::Role::Institution, Some(id)) => {
            let inst = state.store.institution(&me.scope(), id).await?;
            let premises = state.store.division(&inst.biz_district).await?.name;
            Ok(Some((inst, premises)))
        }
        _ => Ok(None),
    }
}

/// Whether a filing went through a district (公示 wording "经区县初审").
pub fn went_through_district(app: &FilingApp) -> bool {
    app.route == domain::filing::Route::District
}
