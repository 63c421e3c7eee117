//! 机构备案的查询用例 (read use cases shared by the pages and the API): each checks the
//! permission table, loads the records through the caller's scope (属地管理: out of scope is
//! "not found") and returns typed results; the handlers only render them as HTML or JSON.

use super::*;
use store::{Document, DocumentVersions, DrawMember, DrawRow, Page};

/// 备案申请: one application, if the caller's scope covers it.
pub async fn application(state: &AppState, me: &Authed, id: i64) -> Result<FilingApp, AppError> {
    me.may(Action::FilingView)?;
    Ok(state.store.filing(&me.scope(), id).await?)
}

/// 新建备案申请: the active catalogue's occupations (first 200) the form offers.
pub async fn filing_occupations(
    state: &AppState,
    me: &Authed,
) -> Result<Vec<store::Occupation>, AppError> {
    me.may(Action::FilingApply)?;
    Ok(state
        .store
        .list_occupations(
            &store::OccupationFilter::default(),
            PageRequest::new(Some(1), Some(200)),
        )
        .await?
        .items)
}

/// 备案申请列表: the applications in scope matching the filter, oldest waiting first.
pub async fn applications(
    state: &AppState,
    me: &Authed,
    f: &FilingFilter,
    page: PageRequest,
) -> Result<Page<FilingApp>, AppError> {
    me.may(Action::FilingView)?;
    Ok(state.store.list_filings(&me.scope(), f, page).await?)
}

/// 备案回执: a filed application (one without a 备案编号 has no receipt: 409).
pub async fn filed_application(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<FilingApp, AppError> {
    let app = application(state, me, id).await?;
    if app.filing_no.is_none() {
        return Err(AppError::Conflict("该申请尚未完成备案，没有回执".into()));
    }
    Ok(app)
}

/// One draw attempt with the experts it named.
#[derive(serde::Serialize)]
pub struct DrawWithMembers {
    pub draw: DrawRow,
    pub members: Vec<DrawMember>,
}

/// One required material (申报材料) and whether it is present.
#[derive(serde::Serialize)]
pub struct MaterialCheck {
    pub kind: &'static str,
    pub label: &'static str,
    pub present: bool,
}

/// An application with its history, draws, supervisors, report and the caller's actions.
#[derive(serde::Serialize)]
pub struct FilingDetail {
    pub application: FilingApp,
    pub state_label: &'static str,
    pub events: Vec<store::FilingEvent>,
    pub draws: Vec<DrawWithMembers>,
    pub supervisors: Vec<store::FilingSupervisor>,
    pub province_report: Option<store::ProvinceReport>,
    pub available_actions: Vec<&'static str>,
    pub required_materials: Vec<MaterialCheck>,
    pub exceptions_used: Vec<store::ExceptionRow>,
}

/// 备案申请详情: the application in scope with everything around it (办理记录、抽取、督导、报送).
pub async fn filing_detail(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<FilingDetail, AppError> {
    let app = application(state, me, id).await?;
    let events = state.store.filing_events(id).await?;
    let mut draws = vec![];
    for d in state.store.draws(id).await? {
        let members = state.store.draw_members(d.id).await?;
        draws.push(DrawWithMembers { draw: d, members });
    }
    let supervisors = state.store.filing_supervisors(id).await?;
    let required_materials = materials_checklist(state, &app)
        .await?
        .into_iter()
        .map(|(kind, label, present)| MaterialCheck {
            kind,
            label,
            present,
        })
        .collect();
    let exceptions_used = state.store.exceptions_used_by(id).await?;
    let available_actions = filing::available(&state.policy, &app_state(&app), me.role())
        .iter()
        .map(|c| c.as_str())
        .collect();
    Ok(FilingDetail {
        state_label: app.state().label(),
        events,
        draws,
        supervisors,
        province_report: state.store.province_report_of(id).await?,
        available_actions,
        required_materials,
        exceptions_used,
        application: app,
    })
}

/// 申请材料: the materials of an application in scope, newest version first.
pub async fn materials(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<Vec<DocumentVersions>, AppError> {
    application(state, me, id).await?;
    Ok(state.store.documents_of("filing_application", id).await?)
}

/// 下载申请材料: for anyone who may see the application — drawn experts and the dispatched
/// supervisor included, whom the general `/documents/{id}` refuses.
pub async fn material(
    state: &AppState,
    me: &Authed,
    id: i64,
    doc: i64,
) -> Result<(Document, Vec<u8>), AppError> {
    application(state, me, id).await?;
    let d = state
        .store
        .document_of_owner("filing_application", id, doc)
        .await?;
    Ok(state
        .store
        .document_bytes(&domain::Scope::City, d.id)
        .await?)
}

/// 抽取记录: one draw attempt, if the caller's scope covers its application.
pub async fn draw(state: &AppState, me: &Authed, id: i64) -> Result<DrawRow, AppError> {
    me.may(Action::DrawView)?;
    Ok(state.store.draw_in_scope(&me.scope(), id).await?)
}

/// 抽取输入: what an independent program needs to recompute a draw (only once it was drawn).
pub async fn draw_inputs_of(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<DrawInputs, AppError> {
    let d = draw(state, me, id).await?;
    if d.status == domain::draw::DrawStatus::Committed {
        return Err(AppError::Conflict(
            "该次抽取尚未进行（仅公布了承诺值），随机数揭示后方可重算".into(),
        ));
    }
    Ok(DrawInputs {
        scheme: "skilleval-draw-1".into(),
        draw_id: d.id,
        application_id: d.application_id,
        attempt: d.attempt,
        secret: d.secret,
        commitment: d.commitment,
        pool: d.pool,
        pool_hash: d.pool_hash,
        seed: d.seed,
        size: d.size,
        declined: d.declined,
        selected: d.selected,
    })
}

/// 逾期未办结: applications in scope past their deadline (三(三)).
pub async fn overdue_applications(
    state: &AppState,
    me: &Authed,
    page: PageRequest,
) -> Result<Page<FilingApp>, AppError> {
    me.may(Action::FilingOverdue)?;
    Ok(state
        .store
        .overdue_filings(&me.scope(), state.today(), page)
        .await?)
}
