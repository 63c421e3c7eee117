//! 专家评审与督导：抽取、回避、意见、派出督导、抽取的独立核验。

use super::*;

#[utoipa::path(post, path = "/api/v1/filings/{id}/draws", tag = "专家抽取", operation_id = "draw_experts", params(("id" = i64, Path)), request_body = DrawInput, responses((status = 201, body = store::DrawRow, description = "抽取记录：承诺值、随机数、候选池及哈希、种子、结果"), (status = 409, description = "状态不符或版本冲突"), (status = 422, description = "专家不足或未说明重新抽取的理由")))]
pub async fn draw_experts(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<DrawInput>,
) -> Result<Response, AppError> {
    let d = do_draw(&state, &me, id, &input).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DeclineInput {
    pub expert_id: i64,
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/filings/{id}/draws/decline", tag = "专家抽取", operation_id = "decline_expert", params(("id" = i64, Path)), request_body = DeclineInput, responses((status = 200, body = crate::api::schema::Replacement, description = "按同一顺序递补的专家"), (status = 409, description = "该专家不在本次抽取结果中")))]
pub(super) async fn decline(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<DeclineInput>,
) -> Result<Response, AppError> {
    let repl = decline_expert(&state, &me, id, input.expert_id, &input.reason).await?;
    Ok(Json(json!({ "replacement": repl })).into_response())
}

pub async fn decline_expert(
    state: &AppState,
    me: &Authed,
    id: i64,
    expert_id: i64,
    reason: &str,
) -> Result<Option<i64>, AppError> {
    me.may(Action::FilingReview)?;
    if reason.trim().is_empty() {
        return Err(AppError::invalid("reason", "请填写专家谢绝的理由"));
    }
    let app = state.store.filing(&me.scope(), id).await?;
    if !app_state(&app).flow.organised_by(me.role()) {
        return Err(AppError::forbidden());
    }
    if app.state() != FilingState::ExpertsDrawn {
        return Err(AppError::Conflict(format!(
            "当前状态为“{}”，不能登记专家谢绝",
            app.state().label()
        )));
    }
    Ok(state
        .store
        .decline_expert(&me.actor(), &app, expert_id, reason.trim())
        .await
        .map_err(|e| match e {
            store::StoreError::Invalid(m) => AppError::Conflict(m),
            e => e.into(),
        })?)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct OpinionInput {
    /// 通过 | 不通过 | 整改后通过.
    pub conclusion: String,
    pub opinion: String,
}

pub async fn record_opinion(
    state: &AppState,
    me: &Authed,
    id: i64,
    input: &OpinionInput,
) -> Result<(), AppError> {
    me.may(Action::ExpertOpinion)?;
    let app = state.store.filing(&me.scope(), id).await?;
    // Open until the 初评结果意见 is written; final afterwards.
    if !matches!(
        app.state(),
        FilingState::ExpertsDrawn | FilingState::OnsiteReviewed
    ) {
        return Err(AppError::Conflict(format!(
            "当前状态为“{}”，不能提交或修改评审意见（初评结果意见出具后专家意见即定稿）",
            app.state().label()
        )));
    }
    if !["通过", "不通过", "整改后通过"].contains(&input.conclusion.trim()) {
        return Err(AppError::invalid(
            "conclusion",
            "评审结论应为“通过”“不通过”或“整改后通过”",
        ));
    }
    if input.opinion.trim().is_empty() {
        return Err(AppError::invalid("opinion", "请填写现场评审意见"));
    }
    state
        .store
        .record_opinion(
            &me.actor(),
            &app,
            me.account.id,
            input.conclusion.trim(),
            input.opinion.trim(),
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Invalid(m) => AppError::Conflict(m),
            e => e.into(),
        })?;
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/filings/{id}/opinions", tag = "专家抽取", operation_id = "record_expert_opinion", params(("id" = i64, Path)), request_body = OpinionInput, responses((status = 204, description = "已记录专家意见"), (status = 409, description = "不在评审阶段")))]
pub(super) async fn opinion(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<OpinionInput>,
) -> Result<Response, AppError> {
    record_opinion(&state, &me, id, &input).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SupervisorInput {
    pub username: String,
}

#[utoipa::path(post, path = "/api/v1/filings/{id}/supervisors", tag = "机构备案", operation_id = "dispatch_review_supervisor", params(("id" = i64, Path)), request_body = SupervisorInput, responses((status = 200, body = crate::api::schema::DispatchResult, description = "已提议或已派遣（市鉴定中心会同职建处，一(一)）"), (status = 409, description = "不在现场评审阶段"), (status = 422, description = "账号不存在或不是督导员")))]
pub(super) async fn supervisor(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<SupervisorInput>,
) -> Result<Response, AppError> {
    let d = dispatch_supervisor(&state, &me, id, &input.username).await?;
    Ok(Json(json!({ "dispatch": d })).into_response())
}

/// One city role's part of the joint dispatch of a review supervisor (一(一)).
pub async fn dispatch_supervisor(
    state: &AppState,
    me: &Authed,
    id: i64,
    username: &str,
) -> Result<store::Dispatch, AppError> {
    me.may(Action::SupervisorDispatch)?;
    let app = state.store.filing(&me.scope(), id).await?;
    if !matches!(
        app.state(),
        FilingState::DistrictPassed | FilingState::ExpertsDrawn
    ) {
        return Err(AppError::Conflict(
            "只能在专家现场评审阶段派遣评审督导".into(),
        ));
    }
    let (acc, _) = state
        .store
        .account_by_username(username.trim())
        .await?
        .ok_or_else(|| AppError::invalid("username", "督导员账号不存在"))?;
    if acc.role != Role::Supervisor {
        return Err(AppError::invalid("username", "该账号不是督导员"));
    }
    state
        .store
        .dispatch_supervisor(
            &me.actor(),
            &app,
            acc.id,
            &acc.username,
            state.policy.review_supervision_joint_dispatch.value,
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Invalid(m) => AppError::Conflict(m),
            e => e.into(),
        })
}

/// The inputs of a draw, enough to recompute it without this platform (docs/draw.md,
/// docs/draw_verify.py): the revealed secret, the application, the attempt, the sorted pool,
/// the number drawn and the declined experts, with the values the platform derived from them.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DrawInputs {
    /// `skilleval-draw-1`: SHA-256 commit-reveal seed, ChaCha20 (rand_chacha 0.3, 20 rounds),
    /// rand 0.8 Fisher–Yates shuffle of the ascending pool (docs/draw.md).
    pub scheme: String,
    pub draw_id: i64,
    pub application_id: i64,
    pub attempt: i64,
    /// Hex of the 32-byte secret revealed at the draw.
    pub secret: String,
    /// SHA-256 of the secret, published before the draw.
    pub commitment: String,
    /// Expert ids in ascending order.
    pub pool: Vec<i64>,
    pub pool_hash: String,
    pub seed: String,
    /// How many experts the draw names.
    pub size: i64,
    /// Experts who declined, each replaced by the next of the order.
    pub declined: Vec<i64>,
    /// What the platform recorded: the first `size + declined` of the order.
    pub selected: Vec<i64>,
}

#[utoipa::path(get, path = "/api/v1/draws/{id}/inputs", tag = "专家抽取", operation_id = "draw_inputs", params(("id" = i64, Path)), responses((status = 200, body = DrawInputs, description = "抽取的全部输入，供 docs/draw_verify.py 等独立程序重算"), (status = 409, description = "尚未抽取（只公布了承诺值）")))]
pub async fn draw_inputs(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(Json(draw_inputs_of(&state, &me, id).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/draws/{id}/verify", tag = "专家抽取", operation_id = "verify_draw", params(("id" = i64, Path)), responses((status = 200, body = crate::api::schema::DrawCheck, description = "{ok, problems, draw}：按公开的随机数重算")))]
pub async fn verify_draw(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let d = draw(&state, &me, id).await?;
    let (ok, problems) = replay(&d);
    Ok(Json(json!({ "ok": ok, "problems": problems, "draw": d })).into_response())
}
