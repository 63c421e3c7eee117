//! 机构备案 over HTTP: the JSON API (`/api/v1/filings…`, `/api/v1/experts…`) and the service
//! functions the pages share. Handlers translate; `domain::filing::decide` decides; the store
//! persists each transition in one version-checked transaction.

use crate::routing::guard;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use domain::draw;
use domain::filing::{
    self, Catalogue, Command, Facts, FilingError, FilingKind, FilingState, Flow, ItemFact,
    QuotaFact,
};
use domain::institution::InstitutionKind;
use domain::occupation::parse_levels;
use domain::reference::ItemKind;
use domain::Action;
use domain::Role;
use serde::Deserialize;
use serde_json::json;
use store::{
    ExpertFilter, FilingApp, FilingFilter, Institution, NewExpert, NewFiling, PageRequest,
    TransitionInput,
};

use crate::api::{with_upload_limit, ApiRouter};
use crate::auth::Authed;
use crate::body::JsonBody;
use crate::error::AppError;
use crate::AppState;
use utoipa_axum::routes;

mod api;
mod documents;
mod exceptions;
mod experts;
mod panel;
pub mod views;
mod workflow;
pub use api::*;
pub use documents::*;
pub use exceptions::*;
pub use experts::*;
pub use panel::*;
pub use views::*;
pub use workflow::*;

/// The filing routes with their documentation (see `api::v1`).
pub fn api_routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(Action::FilingView, routes!(list)))
        .routes(guard(Action::FilingApply, routes!(create)))
        .routes(guard(Action::FilingApply, routes!(eligibility)))
        .routes(guard(Action::FilingOverdue, routes!(overdue)))
        .routes(guard(Action::FilingView, routes!(detail)))
        .routes(guard(Action::FilingApply, routes!(update)))
        .routes(guard(Action::FilingAct, routes!(action)))
        .routes(guard(
            Action::FilingView,
            with_upload_limit(routes!(list_documents)),
        ))
        .routes(guard(
            Action::FilingDocumentUpload,
            with_upload_limit(routes!(upload_documents)),
        ))
        .routes(guard(Action::FilingView, routes!(download_document)))
        .routes(guard(Action::FilingReview, routes!(draw_experts)))
        .routes(guard(Action::DrawView, routes!(draw_inputs)))
        .routes(guard(Action::FilingReview, routes!(decline)))
        .routes(guard(Action::ExpertOpinion, routes!(opinion)))
        .routes(guard(Action::SupervisorDispatch, routes!(supervisor)))
        .routes(guard(Action::DrawView, routes!(verify_draw)))
        .routes(guard(Action::ExceptionView, routes!(list_exceptions)))
        .routes(guard(Action::ExceptionRaise, routes!(raise_exception)))
        .routes(guard(Action::ExceptionDecide, routes!(decide_exception)))
        .routes(guard(Action::CampaignView, routes!(campaigns)))
        .routes(guard(Action::CampaignCreate, routes!(create_campaign)))
        .routes(guard(Action::IncrementRoundView, routes!(increment_rounds)))
        .routes(guard(
            Action::IncrementRoundOpen,
            routes!(open_increment_round),
        ))
        .routes(guard(Action::ExpertView, routes!(list_experts)))
        .routes(guard(Action::ExpertManage, routes!(create_expert)))
        .routes(guard(Action::ExpertView, routes!(expert_template)))
        .routes(guard(
            Action::ExpertManage,
            with_upload_limit(routes!(api_import_experts)),
        ))
        .routes(guard(Action::ExpertView, routes!(get_expert)))
        .routes(guard(Action::ExpertManage, routes!(expert_id_number)))
        .routes(guard(Action::ExpertManage, routes!(expert_unavailable)))
}

/// A refusal of the state machine as an HTTP error: rules → 422 naming the clause,
/// wrong state → 409, wrong role → 403.
pub fn filing_error(e: FilingError) -> AppError {
    match e {
        FilingError::Forbidden(m) => AppError::Forbidden(m),
        FilingError::WrongState(m) => AppError::Conflict(m),
        FilingError::ReasonRequired(_) => AppError::invalid("reason", e.to_string()),
        FilingError::Rules(ref rs) => {
            AppError::invalid(rs.first().map(|r| r.rule).unwrap_or("rule"), e.to_string())
        }
        FilingError::Incomplete(m) => AppError::Conflict(m),
    }
}

fn conflict_text(app: &FilingApp) -> AppError {
    AppError::Conflict(format!(
        "该申请已被他人处理（当前状态：{}），您的操作未生效，请刷新后重试",
        app.state().label()
    ))
}

#[derive(Debug, Deserialize, Clone, utoipa::ToSchema)]
pub struct ItemInput {
    pub code: String,
    #[serde(default)]
    pub levels: Vec<u8>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FilingInput {
    pub kind: String,
    pub occupations: Vec<ItemInput>,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub shared_resources: String,
    #[serde(default)]
    pub commitment: String,
    pub version: Option<i64>,
}

pub fn flow_of(kind: &str, inst_kind: InstitutionKind) -> Result<Flow, AppError> {
    let k = FilingKind::parse(kind).ok_or_else(|| {
        AppError::invalid(
            "kind",
            "备案类型无效，应为 social_org、enterprise、special_ability 或 increment",
        )
    })?;
    Ok(Flow::of(k, inst_kind))
}

/// Validate the occupations: known codes of the right catalogue, levels offered, count limit.
pub async fn validate_items(
    state: &AppState,
    flow: &Flow,
    institution_id: i64,
    items: &[ItemInput],
) -> Result<Vec<(i64, String)>, AppError> {
    if items.is_empty() {
        return Err(AppError::invalid(
            "occupations",
            "请至少选择一个职业（工种）",
        ));
    }
    let kind = match flow.catalogue {
        Catalogue::Occupation => ItemKind::Occupation,
        Catalogue::Special => ItemKind::Special,
    };
    let mut out: Vec<(i64, String)> = vec![];
    for it in items {
        let Some((id, name, offered)) = state
            .store
            .occupation_by_code(&it.code, kind.as_str())
            .await?
        else {
            let what = if kind == ItemKind::Special {
                "专项职业能力项目"
            } else {
                "职业（工种）"
            };
            return Err(AppError::invalid(
                "occupations",
                format!("{what}代码“{}”不在目录中", it.code.trim()),
            ));
        };
        if out.iter().any(|(o, _)| *o == id) {
            return Err(AppError::invalid(
                "occupations",
                format!("“{name}”重复申报"),
            ));
        }
        let levels: Vec<u8> = if kind == ItemKind::Special {
            vec![]
        } else {
            if it.levels.is_empty() {
                return Err(AppError::invalid(
                    "levels",
                    format!("请选择“{name}”的申报等级"),
                ));
            }
            let offered = parse_levels(&offered).unwrap_or_default();
            let mut ls = vec![];
            for l in &it.levels {
                let lv = domain::occupation::Level::from_u8(*l).ok_or_else(|| {
                    AppError::invalid("levels", format!("等级“{l}”无效，应为1至5之间的数字"))
                })?;
                if !offered.is_empty() && !offered.contains(&lv) {
                    return Err(AppError::invalid(
                        "levels",
                        format!("“{name}”不设{}", lv.name()),
                    ));
                }
                if !ls.contains(l) {
                    ls.push(*l);
                }
            }
            ls.sort_unstable_by(|a, b| b.cmp(a));
            // 增级别 (一(四)): on an occupation already filed, only levels not yet filed.
            if flow.kind == FilingKind::Increment {
                if let Some(f) = state
                    .store
                    .filed_occupations(institution_id)
                    .await?
                    .into_iter()
                    .find(|f| f.occupation_id == id)
                {
                    let held = parse_levels(&f.levels).unwrap_or_default();
                    if ls.iter().all(|l| held.iter().any(|h| h.number() == *l)) {
                        return Err(AppError::invalid(
                            "levels",
                            format!(
                                "“{name}”已备案{}，增级别备案请选择尚未备案的等级（一(四)）",
                                f.levels.replace(',', "、") + "级"
                            ),
                        ));
                    }
                }
            }
            ls
        };
        let text = levels
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(",");
        out.push((id, text));
    }
    Ok(out)
}

async fn my_institution(state: &AppState, me: &Authed) -> Result<Institution, AppError> {
    me.may(Action::FilingApply)?;
    let id = me
        .account
        .institution_id
        .ok_or_else(|| AppError::Forbidden("您的账号未关联评价机构".into()))?;
    Ok(state.store.institution(&me.scope(), id).await?)
}

pub async fn create_filing(
    state: &AppState,
    me: &Authed,
    f: &FilingInput,
) -> Result<FilingApp, AppError> {
    let inst = my_institution(state, me).await?;
    let flow = flow_of(&f.kind, inst.kind)?.under(&state.policy);
    let ik = inst.kind;
    Flow::kind_allowed(flow.kind, ik).map_err(|m| AppError::invalid("kind", m))?;
    if flow.kind == FilingKind::Increment
        && inst.filing_status != domain::institution::FilingStatus::Filed
    {
        return Err(AppError::invalid(
            "kind",
            "增量增级别备案仅限已备案机构申报（一(四)）",
        ));
    }
    let items = validate_items(state, &flow, inst.id, &f.occupations).await?;
    check_draft_limits(state, &flow, inst.id, None, &items).await?;
    let id = state
        .store
        .create_filing(
            &me.actor(),
            &NewFiling {
                kind: flow.kind.as_str().into(),
                route: flow.route.as_str().into(),
                institution_id: inst.id,
                district_code: inst.district_code.clone(),
                items,
                note: f.note.trim().into(),
                shared_resources: f.shared_resources.trim().into(),
                commitment: f.commitment.trim().into(),
            },
        )
        .await?;
    Ok(state.store.filing(&me.scope(), id).await?)
}

pub async fn update_filing(
    state: &AppState,
    me: &Authed,
    id: i64,
    f: &FilingInput,
) -> Result<FilingApp, AppError> {
    let inst = my_institution(state, me).await?;
    let app = state.store.filing(&me.scope(), id).await?;
    if !app.state().editable() {
        return Err(AppError::Conflict(format!(
            "当前状态为“{}”，不能修改",
            app.state().label()
        )));
    }
    let flow = Flow::of(app.kind, inst.kind);
    let items = validate_items(state, &flow, inst.id, &f.occupations).await?;
    check_draft_limits(state, &flow, inst.id, Some(&app), &items).await?;
    let version = f
        .version
        .ok_or_else(|| AppError::invalid("version", "请提供版本号 version"))?;
    state
        .store
        .update_filing(
            &me.actor(),
            id,
            version,
            &NewFiling {
                kind: app.kind.as_str().into(),
                route: app.route.as_str().into(),
                institution_id: inst.id,
                district_code: inst.district_code.clone(),
                items,
                note: f.note.trim().into(),
                shared_resources: f.shared_resources.trim().into(),
                commitment: f.commitment.trim().into(),
            },
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict => conflict_text(&app),
            e => e.into(),
        })?;
    Ok(state.store.filing(&me.scope(), id).await?)
}

/// The occupation limits (一(一), 一(四)) and the filed-institution rule, checked already when a
/// draft is saved so that the applicant hears of them early; submission checks them again.
async fn check_draft_limits(
    state: &AppState,
    flow: &Flow,
    institution_id: i64,
    app: Option<&FilingApp>,
    items: &[(i64, String)],
) -> Result<(), AppError> {
    if matches!(flow.kind, FilingKind::SocialOrg | FilingKind::Enterprise)
        && state.store.holds_filed_occupations(institution_id).await?
    {
        return Err(AppError::invalid(
            "kind",
            format!(
                "本机构已备案，新增职业（工种）或等级须通过增量增级别备案申报（依据：{} {}）",
                state.policy.document, state.policy.increment_months.clause
            ),
        ));
    }
    let mut item_facts = vec![];
    for (occ, _) in items {
        item_facts.push(ItemFact {
            occupation_id: *occ,
            name: String::new(),
            new_occupation: !state.store.holds_occupation(institution_id, *occ).await?,
        });
    }
    let round = match app.and_then(|a| a.increment_round.clone()) {
        Some(r) => Some(r),
        None => current_round(state).await?,
    };
    let f = Facts {
        items: item_facts,
        occupations_elsewhere: occupations_elsewhere(
            state,
            flow,
            institution_id,
            app.map(|a| a.id),
            round.as_deref(),
        )
        .await?,
        exceptions: state
            .store
            .usable_exceptions(institution_id, app.map(|a| a.id), state.today())
            .await?,
        ..Facts::default()
    };
    filing::occupation_limit(&state.policy, flow, &f)
        .map(|_| ())
        .map_err(|r| AppError::invalid("occupations", r.to_string()))
}

/// Occupations counted together with an application's own (一(一): the applicant's other open
/// and filed initial filings of the quota kinds; 一(四): new occupations of its other increments
/// in the same round).
async fn occupations_elsewhere(
    state: &AppState,
    flow: &Flow,
    institution_id: i64,
    app_id: Option<i64>,
    round: Option<&str>,
) -> Result<Vec<i64>, AppError> {
    if flow.increment_count {
        return Ok(match round {
            Some(r) => {
                state
                    .store
                    .round_new_occupations(institution_id, r, app_id)
                    .await?
            }
            None => vec![],
        });
    }
    if !state.policy.quota_applies(flow.kind) {
        return Ok(vec![]);
    }
    Ok(state
        .store
        .applicant_occupations(
            institution_id,
            app_id,
            &state.policy.quota_filing_kinds.value,
        )
        .await?)
}

/// 一(四): the increment round open today: the window month ("2026-03") or an extra round
/// opened by the city ("extra-2"); None outside every round.
pub async fn current_round(state: &AppState) -> Result<Option<String>, AppError> {
    use chrono::Datelike;
    let today = state.today();
    if state.policy.increment_months.value.contains(&today.month()) {
        return Ok(Some(format!("{}-{:02}", today.year(), today.month())));
    }
    Ok(state
        .store
        .increment_round_on(today)
        .await?
        .map(|r| format!("extra-{}", r.id)))
}

/// The policy's checklist for the application's kind: (label, present).
pub async fn materials_checklist(
    state: &AppState,
    app: &FilingApp,
) -> Result<Vec<(&'static str, &'static str, bool)>, AppError> {
    let kind = app.kind;
    let docs = state
        .store
        .documents_of("filing_application", app.id)
        .await?;
    Ok(state
        .policy
        .required_materials(kind)
        .into_iter()
        .map(|(k, label)| (k, label, docs.iter().any(|d| d.latest.kind == k)))
        .collect())
}

pub fn app_state(app: &FilingApp) -> filing::AppState {
    app.workflow_state()
}

/// Gather the facts the checks of a command need.
pub async fn facts(state: &AppState, app: &FilingApp, cmd: &Command) -> Result<Facts, AppError> {
    let store = &state.store;
    let inst = store
        .institution(&domain::Scope::City, app.institution_id)
        .await?;
    let today = state.today();
    let mut levels = vec![];
    for it in &app.items {
        for l in parse_levels(&it.levels).unwrap_or_default() {
            if !levels.contains(&l) {
                levels.push(l);
            }
        }
    }
    let flow = app_state(app).flow;
    let mut quota = vec![];
    let quota_kinds = &state.policy.quota_filing_kinds.value;
    let inst_kinds = quota_institution_kinds(state);
    if matches!(cmd, Command::Submit | Command::Pass) && state.policy.quota_applies(flow.kind) {
        for it in &app.items {
            let n = store
                .quota_holders(
                    &app.district_code,
                    it.occupation_id,
                    app.institution_id,
                    quota_kinds,
                    &inst_kinds,
                )
                .await?;
            quota.push(QuotaFact {
                name: it.name.clone(),
                occupation_id: it.occupation_id,
                holders: n as u32,
            });
        }
    }
    let publicity = match cmd {
        Command::Approve | Command::ResolveObjection { .. } => {
            let cal = store.holiday_calendar().await?;
            Some(
                state
                    .policy
                    .publicity_period(&cal, today, &state.policy.filing_publicity_days)
                    .map_err(|e| AppError::invalid("publicity", e.to_string()))?,
            )
        }
        _ => None,
    };
    let opinions_complete = if *cmd == Command::CompleteOnsite {
        store.opinions_complete(app.id).await?
    } else {
        false
    };
    let panel = if *cmd == Command::DistrictOpinion {
        let c = store.panel_conclusions(app.id).await?;
        filing::Panel::of(c.iter().map(String::as_str))
    } else {
        filing::Panel::default()
    };
    let supervision_opinions_missing = if *cmd == Command::Approve {
        store.supervision_opinions_missing(app.id).await? as usize
    } else {
        0
    };
    let submit = *cmd == Command::Submit;
    // 一(四): a correction comes back in the round of its first submission, even after it closed.
    let increment_round = if flow.window && submit {
        match (&app.increment_round, app.state()) {
            (Some(r), FilingState::Returned) => Some(r.clone()),
            _ => current_round(state).await?,
        }
    } else {
        None
    };
    let (occupations_elsewhere, missing_materials, filed_institution) = if submit {
        (
            occupations_elsewhere(
                state,
                &flow,
                app.institution_id,
                Some(app.id),
                increment_round.as_deref(),
            )
            .await?,
            materials_checklist(state, app)
                .await?
                .into_iter()
                .filter(|(_, _, present)| !present)
                .map(|(_, label, _)| label.to_string())
                .collect(),
            store.holds_filed_occupations(app.institution_id).await?,
        )
    } else {
        (vec![], vec![], false)
    };
    Ok(Facts {
        today: Some(today),
        items: app
            .items
            .iter()
            .map(|i| ItemFact {
                occupation_id: i.occupation_id,
                name: i.name.clone(),
                new_occupation: i.new_occupation,
            })
            .collect(),
        occupations_elsewhere,
        exceptions: store
            .usable_exceptions(app.institution_id, Some(app.id), today)
            .await?,
        levels,
        legal_person: inst.legal_person,
        employees: inst.employees.clamp(0, u32::MAX as i64) as u32,
        capital_yuan: inst.capital_yuan.max(0) as u64,
        quota,
        filed_institution,
        increment_round,
        missing_materials,
        opinions_complete,
        publicity,
        panel,
        supervision_opinions_missing,
        ..Facts::default()
    })
}

/// Institution kinds whose filed occupations count against the per-district quota.
fn quota_institution_kinds(state: &AppState) -> Vec<String> {
    state
        .policy
        .quota_filing_kinds
        .value
        .iter()
        .filter_map(|k| FilingKind::parse(k))
        .flat_map(|k| k.institution_kinds().iter().map(|i| i.as_str().to_string()))
        .collect()
}
