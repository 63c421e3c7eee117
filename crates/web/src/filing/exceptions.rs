//! 特殊情况申请、增量批次、备案工作安排与逾期事项。

use super::*;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ExceptionInput {
    pub institution_id: i64,
    /// max_occupations_per_applicant | max_institutions_per_occupation_per_district | increment_max_occupations
    pub rule: String,
    /// The occupations it names (codes); `occupation_code` may hold one, or several separated by commas.
    #[serde(default)]
    pub occupation_codes: Vec<String>,
    pub occupation_code: Option<String>,
    pub reason: String,
}

/// The limits an exception may lift (一(一), 一(四)).
pub const EXCEPTION_RULES: [&str; 3] = [
    "max_occupations_per_applicant",
    "max_institutions_per_occupation_per_district",
    "increment_max_occupations",
];

/// 特殊情况申请: the district names one applicant of its area, the limit and the occupations.
pub async fn raise_exception_for(
    state: &AppState,
    me: &Authed,
    input: &ExceptionInput,
) -> Result<i64, AppError> {
    me.may(Action::ExceptionRaise)?;
    let inst = state
        .store
        .institution(&me.scope(), input.institution_id)
        .await?;
    let rule = input.rule.trim();
    if !EXCEPTION_RULES.contains(&rule) {
        return Err(AppError::invalid(
            "rule",
            "特殊情况申请只适用于职业数或机构数限制",
        ));
    }
    let codes: Vec<String> = input
        .occupation_codes
        .iter()
        .map(String::as_str)
        .chain(input.occupation_code.as_deref())
        .flat_map(|c| c.split([',', '，', '、', ';', '；', ' ']))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    if codes.is_empty() {
        return Err(AppError::invalid(
            "occupation_code",
            "请填写特殊情况申请所涉及的职业（工种）代码",
        ));
    }
    let mut occupation_ids = vec![];
    for code in &codes {
        let (id, _, _) = state
            .store
            .occupation_by_code(code, domain::reference::ItemKind::Occupation.as_str())
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    "occupation_code",
                    format!("职业（工种）代码“{code}”不在目录中"),
                )
            })?;
        if !occupation_ids.contains(&id) {
            occupation_ids.push(id);
        }
    }
    if input.reason.trim().is_empty() {
        return Err(AppError::invalid("reason", "请说明特殊情况"));
    }
    Ok(state
        .store
        .raise_exception(
            &me.actor(),
            inst.id,
            &inst.district_code,
            rule,
            &occupation_ids,
            input.reason.trim(),
        )
        .await?)
}

#[utoipa::path(post, path = "/api/v1/filing-exceptions", tag = "机构备案", operation_id = "raise_filing_exception", request_body = ExceptionInput, responses((status = 201, body = store::ExceptionRow, description = "区县提出的特殊情况申请"), (status = 422, description = "字段有误")))]
pub(super) async fn raise_exception(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(input): JsonBody<ExceptionInput>,
) -> Result<Response, AppError> {
    let id = raise_exception_for(&state, &me, &input).await?;
    Ok((StatusCode::CREATED, Json(exception(&state, &me, id).await?)).into_response())
}

/// 特殊情况申请: one request, if the caller's scope covers it.
pub async fn exception(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<store::ExceptionRow, AppError> {
    me.may(Action::ExceptionView)?;
    Ok(state.store.exception(&me.scope(), id).await?)
}

/// 特殊情况申请列表: the requests in scope, by status (pending | granted | refused).
pub async fn exceptions(
    state: &AppState,
    me: &Authed,
    status: Option<&str>,
    page: PageRequest,
) -> Result<store::Page<store::ExceptionRow>, AppError> {
    me.may(Action::ExceptionView)?;
    Ok(state
        .store
        .list_exceptions(&me.scope(), status, page)
        .await?)
}

/// 提出特殊情况申请: the institutions of the district's area it may name.
pub async fn exception_institutions(
    state: &AppState,
    me: &Authed,
) -> Result<Vec<Institution>, AppError> {
    me.may(Action::ExceptionRaise)?;
    Ok(state
        .store
        .list_institutions(
            &me.scope(),
            &store::InstitutionFilter::default(),
            PageRequest::new(Some(1), Some(200)),
        )
        .await?
        .items)
}

#[utoipa::path(get, path = "/api/v1/filing-exceptions", tag = "机构备案", operation_id = "list_filing_exceptions", params(("status" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)), responses((status = 200, body = crate::api::schema::PageOf<store::ExceptionRow>, description = "特殊情况申请，仅含本人辖区")))]
pub(super) async fn list_exceptions(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    Ok(Json(
        exceptions(
            &state,
            &me,
            p.status.as_deref(),
            PageRequest::new(p.page, p.per_page),
        )
        .await?,
    )
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DecideInput {
    pub approve: bool,
    #[serde(default)]
    pub reason: String,
}

pub async fn decide_exception_for(
    state: &AppState,
    me: &Authed,
    id: i64,
    input: &DecideInput,
) -> Result<store::ExceptionRow, AppError> {
    me.may(Action::ExceptionDecide)?;
    if !input.approve && input.reason.trim().is_empty() {
        return Err(AppError::invalid("reason", "不同意须说明理由"));
    }
    state
        .store
        .decide_exception(
            &me.actor(),
            id,
            me.role() == Role::CityCenter,
            input.approve,
            input.reason.trim(),
            state.policy.exception_expires_on(state.today()),
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Invalid(m) => AppError::Conflict(m),
            e => e.into(),
        })
}

#[utoipa::path(post, path = "/api/v1/filing-exceptions/{id}/decide", tag = "机构备案", operation_id = "decide_filing_exception", params(("id" = i64, Path)), request_body = DecideInput, responses((status = 200, body = store::ExceptionRow, description = "审核结果"), (status = 409, description = "已审核"), (status = 422, description = "不同意须说明理由")))]
pub(super) async fn decide_exception(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<DecideInput>,
) -> Result<Response, AppError> {
    Ok(Json(decide_exception_for(&state, &me, id, &input).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RoundInput {
    pub opens_on: String,
    pub closes_on: String,
    #[serde(default)]
    pub reason: String,
}

/// 一(四) "原则上每年3月和9月各开展一次": the city opens an extra round, with a reason; audited.
pub async fn open_round(
    state: &AppState,
    me: &Authed,
    input: &RoundInput,
) -> Result<store::IncrementRound, AppError> {
    me.may(Action::IncrementRoundOpen)?;
    let date = |field: &'static str, v: &str| {
        NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::invalid(field, "日期应为 YYYY-MM-DD"))
    };
    let opens = date("opens_on", &input.opens_on)?;
    let closes = date("closes_on", &input.closes_on)?;
    if closes < opens {
        return Err(AppError::invalid("closes_on", "结束日期不能早于开始日期"));
    }
    if input.reason.trim().is_empty() {
        return Err(AppError::invalid(
            "reason",
            format!(
                "增量增级别备案原则上每年{}开展，另行开放须说明理由（依据：{} {}）",
                state
                    .policy
                    .increment_months
                    .value
                    .iter()
                    .map(|m| format!("{m}月"))
                    .collect::<Vec<_>>()
                    .join("和"),
                state.policy.document,
                state.policy.increment_months.clause
            ),
        ));
    }
    let id = state
        .store
        .open_increment_round(&me.actor(), opens, closes, input.reason.trim())
        .await?;
    state
        .store
        .increment_rounds()
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/increment-rounds", tag = "机构备案", operation_id = "open_increment_round", request_body = RoundInput, responses((status = 201, body = store::IncrementRound, description = "另行开放的轮次"), (status = 422, description = "日期有误或未说明理由")))]
pub(super) async fn open_increment_round(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(input): JsonBody<RoundInput>,
) -> Result<Response, AppError> {
    let r = open_round(&state, &me, &input).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(get, path = "/api/v1/increment-rounds", tag = "机构备案", operation_id = "list_increment_rounds", responses((status = 200, body = crate::api::schema::Rounds, description = "当前轮次与另行开放的轮次（一(四)）")))]
pub(super) async fn increment_rounds(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Response, AppError> {
    Ok(Json(increment_round_overview(&state, &me).await?).into_response())
}

/// 一(四) 增量批次: the round open today and the extra rounds the city opened.
#[derive(serde::Serialize)]
pub struct RoundOverview {
    /// "2026-03" (a window month), "extra-2" (an extra round) or none.
    pub current: Option<String>,
    pub extra_rounds: Vec<store::IncrementRound>,
}

/// 增量增级别备案批次: the current round and the extra rounds (一(四)).
pub async fn increment_round_overview(
    state: &AppState,
    me: &Authed,
) -> Result<RoundOverview, AppError> {
    me.may(Action::IncrementRoundView)?;
    Ok(RoundOverview {
        current: current_round(state).await?,
        extra_rounds: state.store.increment_rounds().await?,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CampaignInput {
    pub name: String,
    pub deadline: String,
    #[serde(default)]
    pub application_ids: Vec<i64>,
}

#[utoipa::path(post, path = "/api/v1/filing-campaigns", tag = "机构备案", operation_id = "create_filing_campaign", request_body = CampaignInput, responses((status = 201, body = store::Campaign, description = "已建立的批次"), (status = 422, description = "字段有误")))]
pub(super) async fn create_campaign(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(input): JsonBody<CampaignInput>,
) -> Result<Response, AppError> {
    let made = create_campaign_for(&state, &me, &input, |_| AppError::NotFound).await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// 移交备案批次（三(三)）: the center sets a deadline for a batch of applications in its scope;
/// `missing` says how an application out of scope is refused (404 in the API, a form error on
/// the page).
pub async fn create_campaign_for(
    state: &AppState,
    me: &Authed,
    input: &CampaignInput,
    missing: impl Fn(i64) -> AppError,
) -> Result<store::Campaign, AppError> {
    me.may(Action::CampaignCreate)?;
    let deadline = NaiveDate::parse_from_str(input.deadline.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("deadline", "期限应为 YYYY-MM-DD 格式的日期"))?;
    if input.name.trim().is_empty() {
        return Err(AppError::invalid("name", "请填写批次名称"));
    }
    for a in &input.application_ids {
        state
            .store
            .filing(&me.scope(), *a)
            .await
            .map_err(|_| missing(*a))?;
    }
    let id = state
        .store
        .create_campaign(
            &me.actor(),
            input.name.trim(),
            deadline,
            &state.policy.transferred_filings_deadline.clause,
            &input.application_ids,
        )
        .await?;
    campaign_list(state, me)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(AppError::NotFound)
}

/// 移交备案批次: every batch with its deadline and how many are still open.
pub async fn campaign_list(
    state: &AppState,
    me: &Authed,
) -> Result<Vec<store::Campaign>, AppError> {
    me.may(Action::CampaignView)?;
    Ok(state.store.campaigns().await?)
}

#[utoipa::path(get, path = "/api/v1/filing-campaigns", tag = "机构备案", operation_id = "list_filing_campaigns", responses((status = 200, body = Vec<store::Campaign>, description = "移交备案批次")))]
pub(super) async fn campaigns(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Response, AppError> {
    Ok(Json(campaign_list(&state, &me).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/filings/overdue", tag = "机构备案", operation_id = "overdue_filings", params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)), responses((status = 200, body = crate::api::schema::PageOf<store::FilingApp>, description = "超过办理期限的申请")))]
pub(super) async fn overdue(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    Ok(
        Json(overdue_applications(&state, &me, PageRequest::new(p.page, p.per_page)).await?)
            .into_response(),
    )
}
