//! The pages of each disposal step (销毁申请, 同意, 撤回, 执行) and of legal holds (冻结, 解除冻结),
//! with the confirmation page before the irreversible execution.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::retention as dr;
use domain::Action;
use serde::Deserialize;
use store::RetentionRecord;

use crate::auth::Authed;
use crate::body::FormBody;
use crate::error::AppError;
use crate::pages::kit::{attach_error, Field, FormPage};
use crate::pages::{render_status, Layout};
use crate::AppState;

#[derive(Deserialize, Default)]
pub(super) struct ReasonForm {
    version: Option<String>,
    #[serde(default)]
    reason: String,
    /// The hold to lift.
    hold: Option<String>,
    /// The confirmation checkbox of the irreversible step.
    confirm: Option<String>,
}

impl ReasonForm {
    fn version(&self) -> Option<i64> {
        self.version.as_deref().and_then(|v| v.trim().parse().ok())
    }
    fn hold(&self) -> Option<i64> {
        self.hold.as_deref().and_then(|v| v.trim().parse().ok())
    }
}

/// The three reason forms (提出销毁, 冻结, 解除冻结) and the confirmation of the irreversible step.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Propose,
    Hold,
    Lift,
    Execute,
}

impl Step {
    fn path(self, id: i64) -> String {
        match self {
            Step::Propose => format!("/retention/{id}/disposal"),
            Step::Hold => format!("/retention/{id}/hold"),
            Step::Lift => format!("/retention/{id}/hold/lift"),
            Step::Execute => format!("/retention/{id}/disposal/execute"),
        }
    }
}

fn step_page(
    state: &AppState,
    me: &Authed,
    step: Step,
    r: &RetentionRecord,
    hold: Option<i64>,
    reason: &str,
    error: Option<AppError>,
) -> Response {
    let (heading, intro, submit, confirm) = match step {
        Step::Propose => (
            "提出销毁（第一把钥匙）",
            format!(
                "“{}”已于 {} 保存期满（依据：{}）。提出后须由{}确认（第二把钥匙），再执行销毁。销毁时将{}。",
                r.title,
                r.due_on,
                r.clause,
                dr::key_side(&r.keeper(), me.role())
                    .map(|s| s.other().label())
                    .unwrap_or("另一方"),
                r.class().map_or("", |c| c.disposal_effect())
            ),
            "提出销毁",
            None,
        ),
        Step::Hold => (
            "冻结（法律保全）",
            format!(
                "冻结后“{}”不得销毁，直至解除冻结。请写明依据（如诉讼、信访、审计或调查的案号）。",
                r.title
            ),
            "冻结",
            None,
        ),
        Step::Lift => (
            "解除冻结",
            format!("解除后“{}”可按保管期限销毁。请写明解除的依据。", r.title),
            "解除冻结",
            None,
        ),
        Step::Execute => (
            "执行销毁",
            format!(
                "销毁“{}”（{}，保存至 {}）。销毁将{}。此操作不可恢复：销毁后只保留销毁记录（类别、编号、日期、审批人、原因）和审计记录。",
                r.title,
                r.class_label,
                r.due_on,
                r.class().map_or("", |c| c.disposal_effect())
            ),
            "执行销毁（不可恢复）",
            Some(format!("确认销毁“{}”？销毁后无法恢复。", r.title)),
        ),
    };
    let mut fields = vec![];
    if step == Step::Execute {
        fields.push(
            Field::text("confirm", "已核对上述内容，确认销毁（不可恢复）", "").kind("checkbox"),
        );
    } else {
        fields.push(
            Field::text("reason", "原因", reason)
                .kind("textarea")
                .required(),
        );
    }
    fields.push(Field::text("version", "", r.version.to_string()).kind("hidden"));
    if let Some(h) = hold {
        fields.push(Field::text("hold", "", h.to_string()).kind("hidden"));
    }
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status());
    let top = error.and_then(|e| match e {
        AppError::Invalid { field, message } => attach_error(&mut fields, &field, message),
        other => Some(other.to_string()),
    });
    render_status(
        status,
        &FormPage {
            layout: Layout::new(state, Some(me), heading, "/retention"),
            heading: heading.into(),
            crumbs: vec![
                ("/retention".into(), "档案保管".into()),
                (format!("/retention/{}", r.id), r.title.clone()),
            ],
            intro,
            action: step.path(r.id),
            fields,
            error: top,
            submit,
            cancel: format!("/retention/{}", r.id),
            confirm,
        },
    )
}

/// A failed step is shown again on its form (a 4xx with the Chinese message); a server error
/// goes to the error page.
async fn step_result<T>(
    state: &AppState,
    me: &Authed,
    step: Step,
    id: i64,
    f: &ReasonForm,
    result: Result<T, AppError>,
    msg: &str,
) -> Result<Response, AppError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/retention/{id}?msg={msg}")).into_response()),
        Err(e) if e.status().is_client_error() && !matches!(e, AppError::NotFound) => {
            let r = crate::retention::record_for(state, me, Action::RetentionView, id).await?;
            Ok(step_page(state, me, step, &r, f.hold(), &f.reason, Some(e)))
        }
        Err(e) => Err(e),
    }
}

async fn show_step(
    state: &AppState,
    me: &Authed,
    action: Action,
    step: Step,
    id: i64,
    hold: Option<i64>,
) -> Result<Response, AppError> {
    let r = crate::retention::record_for(state, me, action, id).await?;
    Ok(step_page(state, me, step, &r, hold, "", None))
}

pub(super) async fn propose_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    show_step(
        &state,
        &me,
        Action::RetentionApproveDisposal,
        Step::Propose,
        id,
        None,
    )
    .await
}

pub(super) async fn propose_post(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ReasonForm>,
) -> Result<Response, AppError> {
    let r = crate::retention::propose(&state, &me, id, f.version(), &f.reason).await;
    step_result(&state, &me, Step::Propose, id, &f, r, "proposed").await
}

pub(super) async fn approve_post(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ReasonForm>,
) -> Result<Response, AppError> {
    crate::retention::approve(&state, &me, id, f.version()).await?;
    Ok(Redirect::to(&format!("/retention/{id}?msg=approved")).into_response())
}

pub(super) async fn withdraw_post(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ReasonForm>,
) -> Result<Response, AppError> {
    crate::retention::withdraw(&state, &me, id, f.version()).await?;
    Ok(Redirect::to(&format!("/retention/{id}?msg=withdrawn")).into_response())
}

pub(super) async fn execute_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    show_step(
        &state,
        &me,
        Action::RetentionApproveDisposal,
        Step::Execute,
        id,
        None,
    )
    .await
}

pub(super) async fn execute_post(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ReasonForm>,
) -> Result<Response, AppError> {
    let confirmed = matches!(f.confirm.as_deref(), Some("on" | "true" | "1"));
    let r = crate::retention::execute(&state, Some(&me), id, f.version(), confirmed).await;
    step_result(&state, &me, Step::Execute, id, &f, r, "disposed").await
}

pub(super) async fn hold_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    show_step(&state, &me, Action::RetentionHold, Step::Hold, id, None).await
}

pub(super) async fn hold_post(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ReasonForm>,
) -> Result<Response, AppError> {
    let r = crate::retention::place_hold(&state, &me, id, f.version(), &f.reason).await;
    step_result(&state, &me, Step::Hold, id, &f, r, "held").await
}

#[derive(Deserialize, Default)]
pub(super) struct LiftQuery {
    hold: Option<i64>,
}

pub(super) async fn lift_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<LiftQuery>,
) -> Result<Response, AppError> {
    show_step(&state, &me, Action::RetentionHold, Step::Lift, id, q.hold).await
}

pub(super) async fn lift_post(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ReasonForm>,
) -> Result<Response, AppError> {
    let r = crate::retention::lift_hold(&state, &me, id, f.hold(), f.version(), &f.reason).await;
    step_result(&state, &me, Step::Lift, id, &f, r, "lifted").await
}
