//! 档案保管与销毁 (二(三) "纸质版材料保存三年、电子版材料保存五年"): the register of kept records
//! with their due dates, the paper register, legal holds, and disposal with two keys.
//!
//! One service function per use case, called by the pages (`pages`), the API (`api`) and the
//! CLI (`skilleval retention run`): check the action, load the record through the caller's
//! scope (another district's record is "not found"), let `domain::retention` decide, let the
//! store apply it in one transaction with its audit event.

mod api;
mod pages;

use domain::policy::Refusal;
use domain::retention::{self as dr, RetentionClass};
use domain::{Action, Role, Scope};
use serde::Serialize;
use store::{
    Actor, Disposal, Hold, Page, PageRequest, PaperFilter, PaperRecord, RetentionFilter,
    RetentionRecord,
};

use crate::api::ApiRouter;
use crate::auth::Authed;
use crate::error::AppError;
use crate::routing::Routes;
use crate::AppState;

pub fn router() -> Routes {
    pages::router()
}

pub fn api_routes() -> ApiRouter {
    api::routes()
}

/// A refusal of the retention rules as the web layer answers it: a role that turns no key is
/// 403, every other refusal (hold, period, missing key, state) is a 409 conflict with the record.
pub fn refused(r: Refusal) -> AppError {
    match r.rule {
        dr::RULE_KEY_ROLE => AppError::Forbidden(r.to_string()),
        _ => AppError::Conflict(r.to_string()),
    }
}

/// Register the records closed since the last sweep (scheduler, CLI, after demo seeding).
pub async fn sync(state: &AppState) -> Result<usize, AppError> {
    Ok(state.store.register_closed_records(&state.policy).await?)
}

/// The register through the caller's scope.
pub async fn list(
    state: &AppState,
    me: &Authed,
    f: &RetentionFilter,
    page: PageRequest,
) -> Result<Page<RetentionRecord>, AppError> {
    me.may(Action::RetentionView)?;
    Ok(state
        .store
        .list_retention(&me.scope(), f, state.today(), page)
        .await?)
}

/// A record with everything its page and the API show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordDetail {
    pub record: RetentionRecord,
    /// 状态 today.
    pub status_label: String,
    /// 保管期限 and what closes the record.
    pub period: String,
    pub closing: String,
    /// What a disposal removes.
    pub disposal_effect: String,
    pub holds: Vec<Hold>,
    /// Every disposal, the open one and the carried-out one (墓碑) included.
    pub disposals: Vec<Disposal>,
    /// The paper record, for the paper class.
    pub paper: Option<PaperRecord>,
}

pub async fn detail(state: &AppState, me: &Authed, id: i64) -> Result<RecordDetail, AppError> {
    me.may(Action::RetentionView)?;
    let record = state.store.retention_record(&me.scope(), id).await?;
    let class = record.class();
    let rule = class.map(|c| c.rule(&state.policy));
    let paper = if record.class == "paper" {
        Some(
            state
                .store
                .paper_record(&Scope::City, record.subject_id)
                .await?,
        )
    } else {
        None
    };
    Ok(RecordDetail {
        status_label: record.status_label(state.today()),
        period: rule
            .as_ref()
            .map(|r| format!("{}（{}）", r.period.label(), r.text))
            .unwrap_or_default(),
        closing: class.map(|c| c.closing().to_string()).unwrap_or_default(),
        disposal_effect: class
            .map(|c| c.disposal_effect().to_string())
            .unwrap_or_default(),
        holds: state.store.retention_holds(id).await?,
        disposals: state.store.retention_disposals(id).await?,
        paper,
        record,
    })
}

fn facts(r: &RetentionRecord) -> Result<dr::RecordFacts, AppError> {
    r.facts()
        .ok_or_else(|| AppError::Internal(format!("retention record {} unreadable", r.id)))
}

fn open_disposal(d: &[Disposal]) -> Option<&Disposal> {
    d.iter().rev().find(|d| d.status.is_open())
}

/// The first key (提出销毁): the record's period is over, no hold, a reason.
pub async fn propose(
    state: &AppState,
    me: &Authed,
    id: i64,
    version: Option<i64>,
    reason: &str,
) -> Result<Disposal, AppError> {
    me.may(Action::RetentionApproveDisposal)?;
    let r = state.store.retention_record(&me.scope(), id).await?;
    let side = dr::key_side(&r.keeper(), me.role()).map_err(refused)?;
    dr::check_disposable(&state.policy, &facts(&r)?, state.today()).map_err(refused)?;
    if r.disposal_id.is_some() {
        return Err(AppError::Conflict(
            "该档案已有待审批的销毁申请，请在其上确认或撤回".into(),
        ));
    }
    let reason = dr::check_reason(reason, "销毁")?;
    Ok(state
        .store
        .propose_disposal(&me.actor(), &r, version.unwrap_or(r.version), side, &reason)
        .await?)
}

/// The second key (确认销毁): the other office agrees.
pub async fn approve(
    state: &AppState,
    me: &Authed,
    id: i64,
    version: Option<i64>,
) -> Result<Disposal, AppError> {
    me.may(Action::RetentionApproveDisposal)?;
    let r = state.store.retention_record(&me.scope(), id).await?;
    let keeper = r.keeper();
    dr::key_side(&keeper, me.role()).map_err(refused)?;
    let disposals = state.store.retention_disposals(id).await?;
    let Some(d) = open_disposal(&disposals).filter(|d| d.status == dr::DisposalStatus::Proposed)
    else {
        return Err(AppError::Conflict(
            "没有待确认的销毁申请：须先由一方提出销毁".into(),
        ));
    };
    dr::check_disposable(&state.policy, &facts(&r)?, state.today()).map_err(refused)?;
    let first = d
        .first()
        .ok_or_else(|| AppError::Internal("disposal side unreadable".into()))?;
    let side = dr::second_key(&keeper, first, me.role()).map_err(refused)?;
    Ok(state
        .store
        .approve_disposal(&me.actor(), &r, d.id, version.unwrap_or(r.version), side)
        .await?)
}

/// Withdraw the open disposal (either key holder).
pub async fn withdraw(
    state: &AppState,
    me: &Authed,
    id: i64,
    version: Option<i64>,
) -> Result<Disposal, AppError> {
    me.may(Action::RetentionApproveDisposal)?;
    let r = state.store.retention_record(&me.scope(), id).await?;
    dr::key_side(&r.keeper(), me.role()).map_err(refused)?;
    let disposals = state.store.retention_disposals(id).await?;
    let Some(d) = open_disposal(&disposals) else {
        return Err(AppError::Conflict("没有可撤回的销毁申请".into()));
    };
    Ok(state
        .store
        .withdraw_disposal(&me.actor(), &r, d.id, version.unwrap_or(r.version))
        .await?)
}

/// Carry out an approved disposal (执行销毁): both keys, no hold, the period over, and the
/// caller's explicit confirmation. `me` is `None` for `skilleval retention run`.
pub async fn execute(
    state: &AppState,
    me: Option<&Authed>,
    id: i64,
    version: Option<i64>,
    confirmed: bool,
) -> Result<Disposal, AppError> {
    let (scope, actor) = match me {
        Some(me) => {
            me.may(Action::RetentionApproveDisposal)?;
            (me.scope(), me.actor())
        }
        None => (Scope::City, Actor::system("retention-run")),
    };
    let r = state.store.retention_record(&scope, id).await?;
    if let Some(me) = me {
        dr::key_side(&r.keeper(), me.role()).map_err(refused)?;
    }
    if !confirmed {
        return Err(AppError::invalid(
            "confirm",
            "销毁不可恢复：请勾选“已核对，确认销毁”后再提交",
        ));
    }
    dr::check_disposable(&state.policy, &facts(&r)?, state.today()).map_err(refused)?;
    let disposals = state.store.retention_disposals(id).await?;
    let Some(d) = open_disposal(&disposals) else {
        return Err(refused(Refusal {
            rule: dr::RULE_TWO_KEYS,
            clause: dr::TWO_KEYS_CLAUSE.into(),
            message: "尚未提出销毁申请：销毁须经双方同意".into(),
        }));
    };
    let status = d.status;
    let first = d
        .first()
        .ok_or_else(|| AppError::Internal("disposal side unreadable".into()))?;
    dr::check_execute(status, first).map_err(refused)?;
    Ok(state
        .store
        .execute_disposal(&actor, &r, d.id, version.unwrap_or(r.version))
        .await?)
}

/// Place a legal hold (冻结) with its reason.
pub async fn place_hold(
    state: &AppState,
    me: &Authed,
    id: i64,
    version: Option<i64>,
    reason: &str,
) -> Result<Hold, AppError> {
    me.may(Action::RetentionHold)?;
    let r = state.store.retention_record(&me.scope(), id).await?;
    if r.state != dr::RecordState::Kept {
        return Err(AppError::Conflict("该档案已销毁，不能再冻结".into()));
    }
    let reason = dr::check_reason(reason, "冻结")?;
    Ok(state
        .store
        .place_hold(&me.actor(), &r, version.unwrap_or(r.version), &reason)
        .await?)
}

/// Lift a legal hold (解除冻结) with its reason; a district cannot lift the city's hold.
pub async fn lift_hold(
    state: &AppState,
    me: &Authed,
    id: i64,
    hold_id: Option<i64>,
    version: Option<i64>,
    reason: &str,
) -> Result<(), AppError> {
    me.may(Action::RetentionHold)?;
    let r = state.store.retention_record(&me.scope(), id).await?;
    let holds = state.store.retention_holds(id).await?;
    let hold = holds
        .iter()
        .filter(|h| h.active())
        .find(|h| hold_id.is_none_or(|want| h.id == want))
        .ok_or_else(|| AppError::Conflict("该档案没有有效的冻结".into()))?;
    dr::check_lift_hold(hold.placed_by_city(), me.role()).map_err(refused)?;
    let reason = dr::check_reason(reason, "解除冻结")?;
    Ok(state
        .store
        .lift_hold(
            &me.actor(),
            &r,
            hold.id,
            version.unwrap_or(r.version),
            &reason,
        )
        .await?)
}

/// The paper register as the form sends it.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct PaperForm {
    /// filing | plan | process | other
    #[serde(default)]
    pub kind: String,
    /// 档案名称（内容）.
    #[serde(default)]
    pub title: String,
    /// 存放地点.
    #[serde(default)]
    pub location: String,
    /// 保管人.
    #[serde(default)]
    pub custodian: String,
    /// 办结（归档）日期 YYYY-MM-DD.
    #[serde(default)]
    pub closed_on: String,
    #[serde(default)]
    pub note: String,
}

/// 纸质档案登记: kept by the caller's district, or by the city for city officers.
pub async fn register_paper(
    state: &AppState,
    me: &Authed,
    f: &PaperForm,
) -> Result<PaperRecord, AppError> {
    me.may(Action::RetentionRegisterPaper)?;
    let district = match me.role() {
        Role::District => Some(
            me.account
                .district_code
                .clone()
                .ok_or_else(AppError::forbidden)?,
        ),
        r if r.is_city_officer() => None,
        _ => return Err(AppError::forbidden()),
    };
    let (entry, due) = dr::check_paper_entry(
        &state.policy,
        &f.kind,
        &f.title,
        &f.location,
        &f.custodian,
        &f.closed_on,
        &f.note,
        state.today(),
    )?;
    let clause = RetentionClass::Paper.rule(&state.policy).clause;
    Ok(state
        .store
        .register_paper_record(&me.actor(), district.as_deref(), &entry, due, &clause)
        .await?)
}

pub async fn list_paper(
    state: &AppState,
    me: &Authed,
    f: &PaperFilter,
    page: PageRequest,
) -> Result<Page<PaperRecord>, AppError> {
    me.may(Action::RetentionView)?;
    Ok(state.store.list_paper_records(&me.scope(), f, page).await?)
}

/// 档案到期清单 for the export: every record of the caller's area matching `f`.
pub async fn due_list(
    state: &AppState,
    me: &Authed,
    f: &RetentionFilter,
) -> Result<Vec<RetentionRecord>, AppError> {
    me.may(Action::RetentionView)?;
    all(state, &me.scope(), f).await
}

/// A record of the register that the caller is about to act on with `action` (its form).
pub async fn record_for(
    state: &AppState,
    me: &Authed,
    action: Action,
    id: i64,
) -> Result<RetentionRecord, AppError> {
    me.may(action)?;
    Ok(state.store.retention_record(&me.scope(), id).await?)
}

/// Every record of the register matching `f`, for the export and the run (at most 10 000).
pub async fn all(
    state: &AppState,
    scope: &Scope,
    f: &RetentionFilter,
) -> Result<Vec<RetentionRecord>, AppError> {
    let mut out = vec![];
    for page in 1.. {
        let p = state
            .store
            .list_retention(
                scope,
                f,
                state.today(),
                PageRequest::new(Some(page), Some(200)),
            )
            .await?;
        let last = p.page >= p.pages() || p.items.is_empty();
        out.extend(p.items);
        if last || out.len() >= 10_000 {
            break;
        }
    }
    Ok(out)
}

/// What `skilleval retention run` did (or, with `--dry-run`, would consider).
#[derive(Debug, Default)]
pub struct RunReport {
    /// Closed records newly registered (0 on a dry run, which writes nothing).
    pub registered: usize,
    /// Records due today (period over, still kept), with their status.
    pub due: Vec<RetentionRecord>,
    /// Disposals carried out.
    pub disposed: Vec<(RetentionRecord, Disposal)>,
    /// Approved disposals not carried out, with why (a hold placed since, …).
    pub skipped: Vec<(RetentionRecord, String)>,
    /// Files deleted by interrupted purges finished now.
    pub purged: usize,
}

/// 到期处理: register closed records, list what is due, and (unless `dry_run`) carry out every
/// disposal approved by both keys. Nothing else is disposed: a due record without two keys
/// stays, however long ago it fell due.
pub async fn run(state: &AppState, dry_run: bool) -> Result<RunReport, AppError> {
    let mut report = RunReport::default();
    if !dry_run {
        report.registered = sync(state).await?;
    }
    report.due = all(
        state,
        &Scope::City,
        &RetentionFilter {
            state: Some("due".into()),
            ..Default::default()
        },
    )
    .await?;
    if dry_run {
        return Ok(report);
    }
    for d in state.store.approved_disposals().await? {
        let r = state
            .store
            .retention_record(&Scope::City, d.record_id)
            .await?;
        match execute(state, None, r.id, Some(r.version), true).await {
            Ok(done) => report.disposed.push((r, done)),
            Err(e) => report.skipped.push((r, e.to_string())),
        }
    }
    report.purged = state.store.purge_disposed_blobs().await?;
    Ok(report)
}

/// 我的待办: due records waiting for a first key, disposals waiting for the caller's second key,
/// and disposals both keys approved (held records wait for nothing).
/// `due`: the records due today through the caller's scope (`QueueSource::DueRetention`).
pub(crate) fn queue_items(
    me: &Authed,
    due: &[store::QueueRetention],
) -> Vec<crate::queue::WorkItem> {
    let (mut first, mut approved, mut out) = (0, 0, vec![]);
    for r in due.iter().filter(|r| r.hold.is_none()) {
        let Ok(side) = dr::key_side(&r.keeper(), me.role()) else {
            continue;
        };
        match r.disposal_status {
            None => first += 1,
            Some(dr::DisposalStatus::Approved) => approved += 1,
            Some(_) => {
                let first_side = r
                    .disposal_first_side
                    .as_deref()
                    .and_then(dr::KeySide::parse);
                if first_side.is_some_and(|f| f != side) {
                    out.push(crate::queue::WorkItem {
                        title: format!("销毁待确认：{}", r.title),
                        detail: format!(
                            "{}已同意销毁（保存至 {}），请核对后确认（第二把钥匙）。",
                            first_side.map_or("另一方", |f| f.label()),
                            r.due_on
                        ),
                        href: format!("/retention/{}", r.id),
                        since: None,
                        waited: None,
                    });
                }
            }
        }
    }
    if first > 0 {
        out.push(crate::queue::WorkItem {
            title: format!("{first} 件档案保存期满，待提出销毁"),
            detail: "二(三)：纸质版材料保存三年、电子版材料保存五年；期满的档案经两方同意后销毁。"
                .into(),
            href: "/retention".into(),
            since: None,
            waited: None,
        });
    }
    if approved > 0 {
        out.push(crate::queue::WorkItem {
            title: format!("{approved} 件档案双方已同意销毁，待执行"),
            detail: "可在档案页执行销毁，或由每日的 skilleval retention run 执行。".into(),
            href: "/retention?state=pending".into(),
            since: None,
            waited: None,
        });
    }
    out
}
