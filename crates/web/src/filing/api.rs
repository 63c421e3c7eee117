//! 备案申请的接口：列表、新建、修改、详情、命令、企业资格。

use super::*;

#[derive(Deserialize, Default)]
pub struct ListParams {
    pub q: Option<String>,
    pub district: Option<String>,
    pub kind: Option<String>,
    pub state: Option<String>,
    pub occupation: Option<String>,
    pub campaign: Option<i64>,
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/filings", tag = "机构备案", operation_id = "list_filings", params(("q" = Option<String>, Query), ("district" = Option<String>, Query), ("kind" = Option<FilingKind>, Query), ("state" = Option<FilingState>, Query), ("occupation" = Option<String>, Query, description = "职业代码"), ("campaign" = Option<i64>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)), responses((status = 200, body = crate::api::schema::PageOf<store::FilingApp>, description = "分页列表，按等待时间排序，仅含本人辖区")))]
pub async fn list(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    let f = FilingFilter {
        q: p.q,
        district: p.district,
        kind: p.kind,
        state: p.state,
        occupation: p.occupation,
        campaign: p.campaign,
    };
    Ok(
        Json(applications(&state, &me, &f, PageRequest::new(p.page, p.per_page)).await?)
            .into_response(),
    )
}

#[utoipa::path(post, path = "/api/v1/filings", tag = "机构备案", operation_id = "create_filing", request_body = FilingInput, responses((status = 201, body = store::FilingApp, description = "草稿（含 id 与 version）"), (status = 422, description = "字段有误或规则拒绝（message 注明条款）")))]
pub async fn create(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(f): JsonBody<FilingInput>,
) -> Result<Response, AppError> {
    let app = create_filing(&state, &me, &f).await?;
    Ok((StatusCode::CREATED, Json(app)).into_response())
}

#[utoipa::path(put, path = "/api/v1/filings/{id}", tag = "机构备案", operation_id = "update_filing", params(("id" = i64, Path)), request_body = FilingInput, responses((status = 200, body = store::FilingApp, description = "已保存的草稿（含新版本号）"), (status = 409, description = "版本冲突"), (status = 422, description = "字段有误或规则拒绝（注明条款）")))]
pub(super) async fn update(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(f): JsonBody<FilingInput>,
) -> Result<Response, AppError> {
    Ok(Json(update_filing(&state, &me, id, &f).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/filings/{id}", tag = "机构备案", operation_id = "get_filing", params(("id" = i64, Path)), responses((status = 200, body = crate::api::schema::FilingDetail, description = "申请、办理记录、抽取记录、督导、可执行操作"), (status = 404, description = "不存在或不在辖区内")))]
pub async fn detail(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(Json(filing_detail(&state, &me, id).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/filings/{id}/actions", tag = "机构备案", operation_id = "filing_action", params(("id" = i64, Path)), request_body = ActionInput, responses((status = 200, body = store::FilingApp, description = "办理后的申请（新状态与版本号）"), (status = 403, description = "角色无权"), (status = 409, description = "状态不符或已被他人处理（版本冲突）"), (status = 422, description = "缺少理由或规则拒绝（注明条款）")))]
pub async fn action(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<ActionInput>,
) -> Result<Response, AppError> {
    Ok(Json(act(&state, &me, id, &input).await?).into_response())
}

/// Enterprise eligibility (一(二)1), shown to the applicant before it submits.
pub async fn eligibility_of(state: &AppState, inst: &Institution) -> serde_json::Value {
    let p = &state.policy;
    let checks = domain::policy::check_enterprise_eligibility(
        p,
        inst.legal_person,
        inst.employees.clamp(0, u32::MAX as i64) as u32,
        inst.capital_yuan.max(0) as u64,
    );
    let problems: Vec<String> = match &checks {
        Ok(()) => vec![],
        Err(rs) => rs.iter().map(|r| r.to_string()).collect(),
    };
    json!({
        "eligible": checks.is_ok(),
        "legal_person": inst.legal_person,
        "employees": inst.employees,
        "capital_yuan": inst.capital_yuan,
        "min_employees": p.enterprise_min_employees.value,
        "min_capital_yuan": p.enterprise_min_capital_yuan.value,
        "problems": problems,
        "business_scope": inst.business_scope,
        "business_scope_note": format!("申报职业（工种）应在企业主营业务范围内，由区县初审人员判断（依据：{} {}）", p.document, p.enterprise_occupation_in_business_scope.clause),
    })
}

#[utoipa::path(get, path = "/api/v1/filings/eligibility", tag = "机构备案", operation_id = "filing_eligibility", responses((status = 200, body = crate::api::schema::Eligibility, description = "本企业是否符合一(二)1 的条件")))]
pub(super) async fn eligibility(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Response, AppError> {
    let inst = my_institution(&state, &me).await?;
    Ok(Json(eligibility_of(&state, &inst).await).into_response())
}
