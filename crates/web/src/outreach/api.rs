//! 企业筛查的接口。

use super::*;

#[derive(Deserialize, Default)]
pub(super) struct ApiQuery {
    pub(super) q: Option<String>,
    pub(super) outreach: Option<String>,
    pub(super) district: Option<String>,
    pub(super) page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/enterprises", tag = "企业筛查", operation_id = "enterprise_list", params(("q" = Option<String>, Query), ("outreach" = Option<String>, Query, description = "uncontacted|informed|interested|applied|ineligible"), ("district" = Option<String>, Query), ("page" = Option<i64>, Query)), responses((status = 200, body = crate::api::schema::Object, description = "{items:[{…, eligible, eligibility_notes, outreach_effective, filing_id}], total}"), (status = 403, description = "仅区县与市级")))]
pub(super) async fn api_list(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ApiQuery>,
) -> Result<Response, AppError> {
    let f = EnterpriseFilter {
        q: q.q,
        outreach: q.outreach,
        district: q.district,
    };
    let p = list(&state, &me, &f, q.page).await?;
    Ok(
        Json(json!({ "items": p.items, "total": p.total, "page": p.page, "per_page": p.per_page }))
            .into_response(),
    )
}

#[utoipa::path(get, path = "/api/v1/enterprises/totals", tag = "企业筛查", operation_id = "enterprise_totals", responses((status = 200, body = crate::api::schema::Object, description = "{districts:[{district_code, total, eligible, by_outreach, linked_to_filing}]}")))]
pub(super) async fn api_totals(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Response, AppError> {
    Ok(Json(json!({ "districts": totals(&state, &me).await? })).into_response())
}

#[utoipa::path(get, path = "/api/v1/enterprises/{id}", tag = "企业筛查", operation_id = "enterprise_detail", params(("id" = i64, Path)), responses((status = 200, body = crate::api::schema::Object, description = "{enterprise, guidance}"), (status = 404, description = "不存在或不在本区县")))]
pub(super) async fn api_detail(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (v, notes) = detail(&state, &me, id).await?;
    Ok(Json(json!({ "enterprise": v, "guidance": notes })).into_response())
}

/// Body: the xlsx file itself.
#[utoipa::path(post, path = "/api/v1/enterprises/import", tag = "企业筛查", operation_id = "enterprise_import", request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), responses((status = 200, body = crate::api::schema::Object, description = "{added, updated}"), (status = 422, description = "全部未导入：{message, rows:[{row, field, message}]}")))]
pub(super) async fn api_import(
    State(state): State<AppState>,
    me: Authed,
    body: Bytes,
) -> Result<Response, AppError> {
    Ok(match import_register(&state, &me, body.to_vec()).await? {
        Ok((added, updated)) => {
            Json(json!({ "state": "done", "added": added, "updated": updated })).into_response()
        }
        Err(rows) => crate::evaluation::api::rows_error(
            format!("发现{}处错误，全部数据未导入", rows.len()),
            &rows,
        ),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct OutreachBody {
    pub(super) outreach: String,
    pub(super) version: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/enterprises/{id}/outreach", tag = "企业筛查", operation_id = "enterprise_outreach", params(("id" = i64, Path)), request_body = OutreachBody, responses((status = 200, body = crate::api::schema::Object, description = "{enterprise}"), (status = 409, description = "版本冲突"), (status = 422, description = "状态无效")))]
pub(super) async fn api_outreach(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<OutreachBody>,
) -> Result<Response, AppError> {
    let v = set_outreach(&state, &me, id, b.version, &b.outreach).await?;
    Ok(Json(json!({ "enterprise": v })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct GuidanceBody {
    #[serde(default)]
    pub(super) note: String,
}

#[utoipa::path(post, path = "/api/v1/enterprises/{id}/guidance", tag = "企业筛查", operation_id = "enterprise_guidance", params(("id" = i64, Path)), request_body = GuidanceBody, responses((status = 201, body = crate::api::schema::Object, description = "{guidance}"), (status = 422, description = "已备案企业（一(二)）或内容长度不符")))]
pub(super) async fn api_guidance(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<GuidanceBody>,
) -> Result<Response, AppError> {
    let g = add_guidance(&state, &me, id, &b.note).await?;
    Ok((StatusCode::CREATED, Json(json!({ "guidance": g }))).into_response())
}
