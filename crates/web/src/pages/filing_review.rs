//! Pages of the review stages beside the application page: the report of approved applications
//! to the province (报至上级部门) and the 属地 moves (二(一)). They call the same service
//! functions as the API (`crate::review`).

use crate::routing::Routes;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::Action;
use domain::Role;
use serde::Deserialize;

use super::{flash_text, render, render_status, Layout};
use crate::auth::Authed;
use crate::body::FormBody;
use crate::error::AppError;
use crate::review::{decide_move, report_from_multipart, request_move, MoveDecision, MoveInput};
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/province-reports", Action::ProvinceReport, reports)
        .upload("/province-reports", Action::ProvinceReport, create_report)
        .get("/district-moves", Action::DistrictMoveView, moves)
        .post("/district-moves", Action::DistrictMoveRequest, request)
        .post(
            "/district-moves/{id}/decide",
            Action::DistrictMoveDecide,
            decide,
        )
}

#[derive(Deserialize, Default)]
struct MsgQuery {
    msg: Option<String>,
}

#[derive(Template)]
#[template(path = "province_reports.html")]
struct ReportsView {
    layout: Layout,
    error: Option<String>,
    today: String,
    /// (id, institution, kind, route, state)
    pending: Vec<(i64, String, String, String, String)>,
    reports: Vec<store::ProvinceReport>,
}

async fn reports_view(
    state: &AppState,
    me: &Authed,
    flash: Option<String>,
    error: Option<String>,
) -> Result<ReportsView, AppError> {
    let overview = crate::review::report_overview(state, me).await?;
    let pending = overview
        .pending
        .into_iter()
        .map(|a| {
            (
                a.id,
                a.institution_name.clone(),
                a.kind.label().to_string(),
                a.route.label().to_string(),
                a.state().label().to_string(),
            )
        })
        .collect();
    Ok(ReportsView {
        layout: Layout::new(state, Some(me), "报至上级部门", "/province-reports").with_flash(flash),
        error,
        today: state.today().to_string(),
        pending,
        reports: overview.reports,
    })
}

async fn reports(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let flash = match q.msg.as_deref() {
        Some("reported") => Some("报送已登记。".to_string()),
        other => flash_text(other),
    };
    Ok(render(&reports_view(&state, &me, flash, None).await?))
}

/// A refusal shown on the page it came from (404/401/500 pass through).
fn shown<T: Template>(
    e: AppError,
    view: impl FnOnce(String) -> Result<T, AppError>,
) -> Result<Response, AppError> {
    match e {
        AppError::NotFound | AppError::Unauthorized | AppError::Internal(_) => Err(e),
        e => {
            let status = e.status();
            Ok(render_status(status, &view(e.to_string())?))
        }
    }
}

async fn create_report(
    State(state): State<AppState>,
    me: Authed,
    mp: Multipart,
) -> Result<Response, AppError> {
    match report_from_multipart(&state, &me, mp).await {
        Ok(_) => Ok(Redirect::to("/province-reports?msg=reported").into_response()),
        Err(e) => {
            let view = reports_view(&state, &me, None, Some(e.to_string())).await;
            shown(e, |_| view)
        }
    }
}

#[derive(Template)]
#[template(path = "district_moves.html")]
struct MovesView {
    layout: Layout,
    error: Option<String>,
    can_request: bool,
    can_decide: bool,
    current: String,
    premises: String,
    moves: Vec<store::DistrictMove>,
}

async fn moves_view(
    state: &AppState,
    me: &Authed,
    flash: Option<String>,
    error: Option<String>,
) -> Result<MovesView, AppError> {
    let (mut current, mut premises, mut can_request) = (String::new(), String::new(), false);
    if let Some((inst, name)) = crate::review::my_premises(state, me).await? {
        premises = name;
        current = inst.district_name.clone();
        can_request = inst.biz_district != inst.district_code;
    }
    Ok(MovesView {
        layout: Layout::new(state, Some(me), "属地变更", "/district-moves").with_flash(flash),
        error,
        can_request,
        can_decide: me.role() == Role::CityCenter,
        current,
        premises,
        moves: crate::review::district_moves(state, me, None).await?,
    })
}

async fn moves(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let flash = flash_text(q.msg.as_deref());
    Ok(render(&moves_view(&state, &me, flash, None).await?))
}

#[derive(Deserialize)]
struct RequestForm {
    #[serde(default)]
    reason: String,
}

async fn request(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<RequestForm>,
) -> Result<Response, AppError> {
    match request_move(&state, &me, &MoveInput { reason: f.reason }).await {
        Ok(_) => Ok(Redirect::to("/district-moves?msg=saved").into_response()),
        Err(e) => {
            let view = moves_view(&state, &me, None, Some(e.to_string())).await;
            shown(e, |_| view)
        }
    }
}

#[derive(Deserialize)]
struct DecideForm {
    approve: String,
    #[serde(default)]
    reason: String,
    version: i64,
}

async fn decide(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<DecideForm>,
) -> Result<Response, AppError> {
    let input = MoveDecision {
        approve: f.approve == "true",
        reason: f.reason,
        version: f.version,
    };
    match decide_move(&state, &me, id, &input).await {
        Ok(_) => Ok(Redirect::to("/district-moves?msg=saved").into_response()),
        Err(e) => {
            let view = moves_view(&state, &me, None, Some(e.to_string())).await;
            shown(e, |_| view)
        }
    }
}
