//! 备案申请上的操作：流转、抽取、专家意见、材料、回执、派出督导、回避。

use super::*;

/// Re-show the application with the error, keeping the status.
/// After an action on application `id`: back to its page with a flash, or the page again with
/// the refusal shown (404/401/500 pass through).
pub(super) async fn back_to_filing<T>(
    state: &AppState,
    me: &Authed,
    id: i64,
    result: Result<T, AppError>,
    msg: &str,
) -> Result<Response, AppError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/filings/{id}?msg={msg}")).into_response()),
        Err(e) => with_error(state, me, id, e).await,
    }
}

pub(super) async fn with_error(
    state: &AppState,
    me: &Authed,
    id: i64,
    e: AppError,
) -> Result<Response, AppError> {
    match e {
        AppError::NotFound | AppError::Unauthorized | AppError::Internal(_) => Err(e),
        e => {
            let status = e.status();
            let view = detail_view(state, me, id, None, Some(e.to_string())).await?;
            Ok(render_status(status, &view))
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ActForm {
    pub(super) action: String,
    #[serde(default)]
    pub(super) reason: String,
    pub(super) version: i64,
    #[serde(default)]
    pub(super) upheld: Option<String>,
    #[serde(default)]
    pub(super) review_mode: Option<String>,
    #[serde(default)]
    pub(super) high_level_reason: String,
    #[serde(default)]
    pub(super) override_reason: String,
}

pub(super) async fn action(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ActForm>,
) -> Result<Response, AppError> {
    let input = ActionInput {
        action: f.action,
        reason: f.reason,
        version: f.version,
        upheld: f.upheld.as_deref() == Some("true"),
        attachments: vec![],
        review_mode: f.review_mode,
        high_level_reason: f.high_level_reason,
        override_reason: f.override_reason,
    };
    back_to_filing(&state, &me, id, act(&state, &me, id, &input).await, "done").await
}

#[derive(Deserialize)]
pub(super) struct DrawForm {
    pub(super) version: i64,
    #[serde(default)]
    pub(super) reason: String,
}

pub(super) async fn draw(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<DrawForm>,
) -> Result<Response, AppError> {
    let result = do_draw(
        &state,
        &me,
        id,
        &DrawInput {
            version: f.version,
            reason: f.reason,
        },
    )
    .await;
    back_to_filing(&state, &me, id, result, "drawn").await
}

#[derive(Deserialize)]
pub(super) struct OpinionForm {
    pub(super) conclusion: String,
    #[serde(default)]
    pub(super) opinion: String,
}

pub(super) async fn opinion(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<OpinionForm>,
) -> Result<Response, AppError> {
    let result = record_opinion(
        &state,
        &me,
        id,
        &OpinionInput {
            conclusion: f.conclusion,
            opinion: f.opinion,
        },
    )
    .await;
    back_to_filing(&state, &me, id, result, "opinion").await
}

pub(super) async fn upload(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Result<Response, AppError> {
    back_to_filing(
        &state,
        &me,
        id,
        store_filing_uploads(&state, &me, id, mp).await,
        "uploaded",
    )
    .await
}

#[derive(Template)]
#[template(path = "filing_receipt.html")]
pub(super) struct ReceiptView {
    pub(super) layout: Layout,
    pub(super) id: i64,
    pub(super) filing_no: String,
    pub(super) filed_on: String,
    pub(super) props: Vec<(&'static str, String)>,
    pub(super) items: Vec<(String, String, String)>,
}

pub(super) async fn receipt(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let app = crate::filing::filed_application(&state, &me, id).await?;
    let no = app.filing_no.clone().unwrap_or_default();
    Ok(render(&ReceiptView {
        layout: Layout::new(&state, Some(&me), "备案回执", "/filings"),
        id,
        filing_no: no,
        filed_on: app.filed_on.clone().unwrap_or_default(),
        props: vec![
            ("机构名称", app.institution_name.clone()),
            ("统一社会信用代码", app.credit_code.clone()),
            ("备案类型", app.kind.label().to_string()),
            ("属地", app.district_name.clone()),
        ],
        items: app
            .items
            .iter()
            .map(|i| {
                let levels = domain::occupation::parse_levels(&i.levels)
                    .unwrap_or_default()
                    .iter()
                    .map(|l| l.name())
                    .collect::<Vec<_>>()
                    .join("、");
                (
                    i.code.clone(),
                    i.name.clone(),
                    if levels.is_empty() {
                        "—".into()
                    } else {
                        levels
                    },
                )
            })
            .collect(),
    }))
}

pub(super) async fn dispatch(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<DispatchForm>,
) -> Result<Response, AppError> {
    back_to_filing(
        &state,
        &me,
        id,
        crate::filing::dispatch_supervisor(&state, &me, id, &f.username).await,
        "done",
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct SupervisionForm {
    #[serde(default)]
    pub(super) opinion: String,
}

/// The supervisor's 督导意见; its attachments are the 督导意见附件 it uploaded to the application.
pub(super) async fn supervision_opinion(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<SupervisionForm>,
) -> Result<Response, AppError> {
    let result =
        crate::review::file_supervision_opinion_with_uploads(&state, &me, id, f.opinion).await;
    back_to_filing(&state, &me, id, result, "done").await
}

#[derive(Deserialize)]
pub(super) struct DeclineForm {
    pub(super) expert_id: i64,
    #[serde(default)]
    pub(super) reason: String,
}

pub(super) async fn decline(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<DeclineForm>,
) -> Result<Response, AppError> {
    back_to_filing(
        &state,
        &me,
        id,
        crate::filing::decline_expert(&state, &me, id, f.expert_id, &f.reason).await,
        "done",
    )
    .await
}
