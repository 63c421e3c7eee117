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

pub fn flow_of(kind: &str, inst_kind: &str) -> Result<Flow, AppError> {
    let k = FilingKind::parse(kind).ok_or_else(|| {
        AppError::invalid(
            "kind",
            "备案类型无效，应为 social_org、enterprise、special_ability 或 increment",
        )
    })?;
    let ik = InstitutionKind::parse(inst_kind).unwrap_or(InstitutionKind::SocialOrg);
    Ok(Flow::of(k, ik))
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
        Catalogue::Occupation => "occupation",
        Catalogue::Special => "special",
    };
    let mut out: Vec<(i64, String)> = vec![];
    for it in items {
        let Some((id, name, offered)) = state.store.occupation_by_code(&it.code, kind).await?
        else {
            let what = if kind == "special" {
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
        let levels: Vec<u8> = if kind == "special" {
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
    let flow = flow_of(&f.kind, &inst.kind)?.under(&state.policy);
    let ik = InstitutionKind::parse(&inst.kind).unwrap_or(InstitutionKind::SocialOrg);
    Flow::kind_allowed(flow.kind, ik).map_err(|m| AppError::invalid("kind", m))?;
    if flow.kind == FilingKind::Increment && inst.filing_status != "filed" {
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
    let flow = flow_of(&app.kind, &inst.kind)?;
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
                kind: app.kind.clone(),
                route: app.route.clone(),
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
    let Some(kind) = FilingKind::parse(&app.kind) else {
        return Ok(vec![]);
    };
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
    filing::AppState {
        flow: flow_of(&app.kind, &app.institution_kind)
            .unwrap_or(Flow::of(FilingKind::SocialOrg, InstitutionKind::SocialOrg)),
        state: app.state(),
        center_approved: app.center_approved_by.is_some(),
        division_approved: app.division_approved_by.is_some(),
        has_commitment: !app.commitment.trim().is_empty(),
        publicity_end: app.publicity_end_date(),
    }
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActionInput {
    pub action: String,
    #[serde(default)]
    pub reason: String,
    pub version: i64,
    /// For resolve_objection: the objection is upheld (→ rejected).
    #[serde(default)]
    pub upheld: bool,
    #[serde(default)]
    pub attachments: Vec<String>,
    /// complete_onsite on the city route: `onsite` | `written` (评审方式; the reason says why).
    #[serde(default)]
    pub review_mode: Option<String>,
    /// pass on the city route with levels above 三级 at a first filing (三(一)).
    #[serde(default)]
    pub high_level_reason: String,
    /// opinion when most experts said 不通过: why the application goes on.
    #[serde(default)]
    pub override_reason: String,
}

/// The one generic transition entry point (API and pages).
pub async fn act(
    state: &AppState,
    me: &Authed,
    id: i64,
    input: &ActionInput,
) -> Result<FilingApp, AppError> {
    let app = state.store.filing(&me.scope(), id).await?;
    let cmd = Command::parse(&input.action, input.upheld)
        .ok_or_else(|| AppError::invalid("action", format!("未知操作“{}”", input.action)))?;
    if app.version != input.version {
        return Err(conflict_text(&app));
    }
    let mut f = facts(state, &app, &cmd).await?;
    f.review_mode = match input
        .review_mode
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        Some(m) => Some(filing::ReviewMode::parse(m).ok_or_else(|| {
            AppError::invalid(
                "review_mode",
                "评审方式应为 onsite（现场评审）或 written（书面评审）",
            )
        })?),
        None => None,
    };
    f.high_level_reason = input.high_level_reason.clone();
    f.panel_override_reason = input.override_reason.clone();
    let outcome = filing::decide(
        &state.policy,
        &app_state(&app),
        me.role(),
        &cmd,
        &input.reason,
        &f,
    )
    .map_err(filing_error)?;
    let retention = outcome.to.is_terminal().then(|| {
        state
            .policy
            .retention_until(true, state.today())
            .to_string()
    });
    let attachments: Vec<String> = input
        .attachments
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    for a in &attachments {
        if a.contains("..") || a.contains('/') || a.contains('\\') {
            return Err(AppError::invalid(
                "attachments",
                "附件名称不能包含路径（如 ../）",
            ));
        }
    }
    state
        .store
        .apply_filing(
            &me.actor(),
            &app,
            input.version,
            &outcome,
            &TransitionInput {
                reason: input.reason.trim().to_string(),
                attachments,
                today: Some(state.today()),
                retention_until: retention,
                quota_recheck: (cmd == Command::Pass
                    && state.policy.quota_applies(app_state(&app).flow.kind))
                .then(|| {
                    let r = &state.policy.max_institutions_per_occupation_per_district;
                    store::QuotaRecheck {
                        limit: r.value as i64,
                        message: domain::policy::Refusal {
                            rule: "max_institutions_per_occupation_per_district",
                            clause: r.clause.clone(),
                            message: format!(
                                "同一职业（工种）在同一区县（市）备案不多于{}家",
                                r.value
                            ),
                        }
                        .to_string(),
                        filing_kinds: state.policy.quota_filing_kinds.value.clone(),
                        institution_kinds: quota_institution_kinds(state),
                    }
                }),
            },
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict => conflict_text(&app),
            store::StoreError::Invalid(m) => {
                AppError::invalid("max_institutions_per_occupation_per_district", m)
            }
            e => e.into(),
        })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DrawInput {
    pub version: i64,
    /// Required for a second or later attempt.
    #[serde(default)]
    pub reason: String,
}

pub async fn do_draw(
    state: &AppState,
    me: &Authed,
    id: i64,
    input: &DrawInput,
) -> Result<store::DrawRow, AppError> {
    let app = state.store.filing(&me.scope(), id).await?;
    if app.version != input.version {
        return Err(conflict_text(&app));
    }
    let outcome = filing::decide(
        &state.policy,
        &app_state(&app),
        me.role(),
        &Command::RecordDraw,
        "",
        &Facts::default(),
    )
    .map_err(filing_error)?;
    if app.state() == FilingState::ExpertsDrawn && input.reason.trim().is_empty() {
        return Err(AppError::invalid(
            "reason",
            "重新抽取须说明理由；每次抽取均留痕并报市级可见",
        ));
    }
    let inst = state
        .store
        .institution(&domain::Scope::City, app.institution_id)
        .await?;
    let occ: Vec<i64> = app.items.iter().map(|i| i.occupation_id).collect();
    let candidates = state.store.draw_candidates(&occ).await?;
    let (pool, excl) = draw::pool(
        &candidates,
        &draw::Applicant {
            institution_id: inst.id,
            name: inst.name.clone(),
            credit_code: inst.credit_code.clone(),
            occupation_ids: occ,
            date: state.today(),
            recent_months: state.policy.expert_recent_review_months.value,
        },
    );
    let size = state.policy.expert_draw_size.value as usize;
    if pool.len() < size {
        return Err(AppError::Conflict(format!(
            "符合条件的专家仅{}名，少于应抽取的{}名；请市鉴定中心补充专家库后再抽取",
            pool.len(),
            size
        )));
    }
    state
        .store
        .make_draw(
            &me.actor(),
            &app,
            input.version,
            &outcome,
            &pool,
            &excl,
            size,
            input.reason.trim(),
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict => conflict_text(&app),
            e => e.into(),
        })
}

/// Replay a draw; (matches, problems).
pub fn replay(d: &store::DrawRow) -> (bool, Vec<String>) {
    if d.status == "committed" {
        return (false, vec!["该次抽取尚未进行（仅公布了承诺值）".into()]);
    }
    let bad = draw::verify(&d.record());
    (bad.is_empty(), bad)
}

// ---------------------------------------------------------------- API handlers

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
    Ok(Json(
        state
            .store
            .list_filings(&me.scope(), &f, PageRequest::new(p.page, p.per_page))
            .await?,
    )
    .into_response())
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
async fn update(
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
    let app = state.store.filing(&me.scope(), id).await?;
    let events = state.store.filing_events(id).await?;
    let mut draws = vec![];
    for d in state.store.draws(id).await? {
        let members = state.store.draw_members(d.id).await?;
        draws.push(json!({ "draw": d, "members": members }));
    }
    let supervisors = state.store.filing_supervisors(id).await?;
    let materials: Vec<_> = materials_checklist(&state, &app)
        .await?
        .into_iter()
        .map(|(k, label, present)| json!({ "kind": k, "label": label, "present": present }))
        .collect();
    let exceptions = state.store.exceptions_used_by(id).await?;
    let available: Vec<&str> = filing::available(&state.policy, &app_state(&app), me.role())
        .iter()
        .map(|c| c.as_str())
        .collect();
    Ok(Json(json!({
        "application": app,
        "state_label": app.state().label(),
        "events": events,
        "draws": draws,
        "supervisors": supervisors,
        "province_report": state.store.province_report_of(id).await?,
        "available_actions": available,
        "required_materials": materials,
        "exceptions_used": exceptions,
    }))
    .into_response())
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
async fn eligibility(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    let inst = my_institution(&state, &me).await?;
    Ok(Json(eligibility_of(&state, &inst).await).into_response())
}

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
async fn decline(
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
async fn opinion(
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
async fn supervisor(
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
    let d = state.store.draw_in_scope(&me.scope(), id).await?;
    if d.status == "committed" {
        return Err(AppError::Conflict(
            "该次抽取尚未进行（仅公布了承诺值），随机数揭示后方可重算".into(),
        ));
    }
    Ok(Json(DrawInputs {
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
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/draws/{id}/verify", tag = "专家抽取", operation_id = "verify_draw", params(("id" = i64, Path)), responses((status = 200, body = crate::api::schema::DrawCheck, description = "{ok, problems, draw}：按公开的随机数重算")))]
pub async fn verify_draw(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let d = state.store.draw_in_scope(&me.scope(), id).await?;
    let (ok, problems) = replay(&d);
    Ok(Json(json!({ "ok": ok, "problems": problems, "draw": d })).into_response())
}

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
            .occupation_by_code(code, "occupation")
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
async fn raise_exception(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(input): JsonBody<ExceptionInput>,
) -> Result<Response, AppError> {
    let id = raise_exception_for(&state, &me, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.store.exception(&me.scope(), id).await?),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/filing-exceptions", tag = "机构备案", operation_id = "list_filing_exceptions", params(("status" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)), responses((status = 200, body = crate::api::schema::PageOf<store::ExceptionRow>, description = "特殊情况申请，仅含本人辖区")))]
async fn list_exceptions(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    Ok(Json(
        state
            .store
            .list_exceptions(
                &me.scope(),
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
async fn decide_exception(
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
async fn open_increment_round(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(input): JsonBody<RoundInput>,
) -> Result<Response, AppError> {
    let r = open_round(&state, &me, &input).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(get, path = "/api/v1/increment-rounds", tag = "机构备案", operation_id = "list_increment_rounds", responses((status = 200, body = crate::api::schema::Rounds, description = "当前轮次与另行开放的轮次（一(四)）")))]
async fn increment_rounds(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    me.may(Action::IncrementRoundView)?;
    Ok(Json(json!({
        "current": current_round(&state).await?,
        "extra_rounds": state.store.increment_rounds().await?,
    }))
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CampaignInput {
    pub name: String,
    pub deadline: String,
    #[serde(default)]
    pub application_ids: Vec<i64>,
}

#[utoipa::path(post, path = "/api/v1/filing-campaigns", tag = "机构备案", operation_id = "create_filing_campaign", request_body = CampaignInput, responses((status = 201, body = store::Campaign, description = "已建立的批次"), (status = 422, description = "字段有误")))]
async fn create_campaign(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(input): JsonBody<CampaignInput>,
) -> Result<Response, AppError> {
    me.may(Action::CampaignCreate)?;
    let deadline = NaiveDate::parse_from_str(input.deadline.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("deadline", "期限应为 YYYY-MM-DD 格式的日期"))?;
    if input.name.trim().is_empty() {
        return Err(AppError::invalid("name", "请填写批次名称"));
    }
    for a in &input.application_ids {
        state.store.filing(&me.scope(), *a).await?;
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
    let made = state
        .store
        .campaigns()
        .await?
        .into_iter()
        .find(|c| c.id == id);
    Ok((StatusCode::CREATED, Json(made.ok_or(AppError::NotFound)?)).into_response())
}

#[utoipa::path(get, path = "/api/v1/filing-campaigns", tag = "机构备案", operation_id = "list_filing_campaigns", responses((status = 200, body = Vec<store::Campaign>, description = "移交备案批次")))]
async fn campaigns(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    me.may(Action::CampaignView)?;
    Ok(Json(state.store.campaigns().await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/filings/overdue", tag = "机构备案", operation_id = "overdue_filings", params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)), responses((status = 200, body = crate::api::schema::PageOf<store::FilingApp>, description = "超过办理期限的申请")))]
async fn overdue(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    me.may(Action::FilingOverdue)?;
    Ok(Json(
        state
            .store
            .overdue_filings(
                &me.scope(),
                state.today(),
                PageRequest::new(p.page, p.per_page),
            )
            .await?,
    )
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ExpertInput {
    pub name: String,
    pub id_number: String,
    #[serde(default)]
    pub employer: String,
    pub employer_credit_code: Option<String>,
    pub district: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub phone: String,
    pub username: Option<String>,
    pub occupations: Vec<String>,
}

pub async fn validate_expert(state: &AppState, e: &ExpertInput) -> Result<NewExpert, AppError> {
    if e.name.trim().is_empty() {
        return Err(AppError::invalid("name", "请填写专家姓名"));
    }
    let idn = domain::id_number::IdNumber::parse(&e.id_number)
        .map_err(|err| AppError::invalid("id_number", err.to_string()))?;
    let credit = match e
        .employer_credit_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(c) => Some(
            domain::credit_code::CreditCode::parse(c)
                .map_err(|err| AppError::invalid("employer_credit_code", err.to_string()))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let district = e
        .district
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(d) = district {
        if !state.store.districts().await?.iter().any(|x| x.code == d) {
            return Err(AppError::invalid("district", "所属区县无效"));
        }
    }
    let user_id = match e
        .username
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(u) => {
            let (acc, _) = state
                .store
                .account_by_username(u)
                .await?
                .ok_or_else(|| AppError::invalid("username", "关联的专家账号不存在"))?;
            if acc.role != Role::Expert {
                return Err(AppError::invalid("username", "关联账号的角色须为评审专家"));
            }
            Some(acc.id)
        }
        None => None,
    };
    if e.occupations.is_empty() {
        return Err(AppError::invalid(
            "occupations",
            "请至少填写一个可评审的职业（工种）",
        ));
    }
    let mut occ = vec![];
    for c in &e.occupations {
        let found = match state.store.occupation_by_code(c, "occupation").await? {
            Some(x) => Some(x),
            None => state.store.occupation_by_code(c, "special").await?,
        };
        let (id, _, _) = found.ok_or_else(|| {
            AppError::invalid(
                "occupations",
                format!("职业（工种）代码“{}”不在目录中", c.trim()),
            )
        })?;
        if !occ.contains(&id) {
            occ.push(id);
        }
    }
    Ok(NewExpert {
        name: e.name.trim().into(),
        id_number: idn.as_str().into(),
        id_masked: idn.masked(),
        employer: e.employer.trim().into(),
        employer_credit_code: credit,
        district_code: district.map(str::to_string),
        title: e.title.trim().into(),
        phone: e.phone.trim().into(),
        user_id,
        occupation_ids: occ,
    })
}

#[utoipa::path(post, path = "/api/v1/experts", tag = "专家库", operation_id = "create_expert", request_body = ExpertInput, responses((status = 201, body = store::Expert, description = "已入库的专家"), (status = 409, description = "证件号码已在库中"), (status = 422, description = "字段有误")))]
async fn create_expert(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(e): JsonBody<ExpertInput>,
) -> Result<Response, AppError> {
    me.may(Action::ExpertManage)?;
    let new = validate_expert(&state, &e).await?;
    let id = state.store.create_expert(&me.actor(), &new).await?;
    Ok((StatusCode::CREATED, Json(state.store.expert(id).await?)).into_response())
}

#[utoipa::path(get, path = "/api/v1/experts", tag = "专家库", operation_id = "list_experts", params(("q" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)), responses((status = 200, body = crate::api::schema::PageOf<store::Expert>, description = "市级专家库，证件号码已脱敏")))]
async fn list_experts(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    me.may(Action::ExpertView)?;
    let f = ExpertFilter {
        q: p.q,
        occupation: p.occupation,
        district: p.district,
        active: None,
    };
    Ok(Json(
        state
            .store
            .list_experts(&f, PageRequest::new(p.page, p.per_page))
            .await?,
    )
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/experts/{id}", tag = "专家库", operation_id = "get_expert", params(("id" = i64, Path)), responses((status = 200, body = store::Expert, description = "专家")))]
async fn get_expert(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    me.may(Action::ExpertView)?;
    Ok(Json(state.store.expert(id).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/experts/{id}/id-number", tag = "专家库", operation_id = "expert_id_number", params(("id" = i64, Path)), responses((status = 200, body = crate::api::schema::IdNumberView, description = "完整证件号码（每次查看记入审计日志）")))]
async fn expert_id_number(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    me.may(Action::ExpertManage)?;
    let n = state.store.expert_id_number(&me.actor(), id).await?;
    Ok(Json(json!({ "id_number": n })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UnavailableInput {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/experts/{id}/unavailable", tag = "专家库", operation_id = "expert_unavailable", params(("id" = i64, Path)), request_body = UnavailableInput, responses((status = 200, body = store::Expert, description = "登记不可参加评审的期间后的专家"), (status = 422, description = "日期有误")))]
async fn expert_unavailable(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(u): JsonBody<UnavailableInput>,
) -> Result<Response, AppError> {
    me.may(Action::ExpertManage)?;
    let from = NaiveDate::parse_from_str(u.from.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("from", "日期应为 YYYY-MM-DD"))?;
    let to = NaiveDate::parse_from_str(u.to.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("to", "日期应为 YYYY-MM-DD"))?;
    if to < from {
        return Err(AppError::invalid("to", "结束日期不能早于开始日期"));
    }
    state
        .store
        .add_unavailable(&me.actor(), id, from, to, u.reason.trim())
        .await?;
    Ok(Json(state.store.expert(id).await?).into_response())
}

/// Material kinds of a filing application (key, label).
pub const FILING_DOC_KINDS: &[(&str, &str)] = domain::filing::MATERIAL_KINDS;

/// Store the files of a multipart request as materials of the application; all files are
/// checked (type from content, size, name) before any is stored.
pub async fn store_filing_uploads(
    state: &AppState,
    me: &Authed,
    id: i64,
    mp: axum::extract::Multipart,
) -> Result<Vec<store::Document>, AppError> {
    let app = state.store.filing(&me.scope(), id).await?;
    match me.role() {
        Role::Institution if app.state().editable() => {}
        Role::Institution => {
            return Err(AppError::Conflict(format!(
                "当前状态为“{}”，不能再上传材料",
                app.state().label()
            )))
        }
        Role::District | Role::CityCenter | Role::CityDivision if !app.state().is_terminal() => {}
        // The dispatched supervisor attaches to its 督导意见 (its scope shows dispatched ones only).
        Role::Supervisor if !app.state().is_terminal() => {}
        _ => return Err(AppError::forbidden()),
    }
    let max = state.config.max_upload_bytes;
    let parts = crate::upload::read_upload(mp, max).await?;
    let kind = crate::upload::text_field(&parts, "kind").unwrap_or_default();
    if !FILING_DOC_KINDS.iter().any(|(k, _)| *k == kind) {
        return Err(AppError::invalid("kind", "请选择材料类别"));
    }
    if me.role() == Role::Supervisor && kind != "supervision" {
        return Err(AppError::invalid("kind", "督导员只能上传督导意见附件"));
    }
    let uploads: Vec<_> = crate::upload::files(&parts).collect();
    if uploads.is_empty() {
        return Err(AppError::invalid("file", "请选择要上传的文件"));
    }
    for f in &uploads {
        crate::upload::check_file(f, max)?;
    }
    let mut out = vec![];
    for f in uploads {
        out.push(
            state
                .store
                .add_document(
                    &me.actor(),
                    store::NewDocument {
                        owner_type: "filing_application".into(),
                        owner_id: app.id,
                        institution_id: Some(app.institution_id),
                        district_code: Some(app.district_code.clone()),
                        kind: kind.clone(),
                        filename: f.filename.clone(),
                        retention_until: None,
                    },
                    &f.bytes,
                )
                .await?,
        );
    }
    Ok(out)
}

#[utoipa::path(post, path = "/api/v1/filings/{id}/documents", tag = "机构备案", operation_id = "upload_filing_documents", params(("id" = i64, Path)), request_body(content_type = "multipart/form-data", description = "kind=材料类别，file=一个或多个文件"), responses((status = 201, body = Vec<store::Document>, description = "已上传的文件"), (status = 413, description = "文件超过上限"), (status = 422, description = "类型不受支持或内容与扩展名不符")))]
async fn upload_documents(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    mp: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let docs = store_filing_uploads(&state, &me, id, mp).await?;
    Ok((StatusCode::CREATED, Json(docs)).into_response())
}

#[utoipa::path(get, path = "/api/v1/filings/{id}/documents", tag = "机构备案", operation_id = "list_filing_documents", params(("id" = i64, Path)), responses((status = 200, body = Vec<store::DocumentVersions>, description = "申请材料，最新版本在前")))]
async fn list_documents(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    state.store.filing(&me.scope(), id).await?;
    Ok(Json(state.store.documents_of("filing_application", id).await?).into_response())
}

/// The expert library's xlsx template: the same spec writes the template and reads imports.
pub fn expert_sheet() -> sheets::SheetSpec {
    use sheets::Column;
    sheets::SheetSpec {
        title: "市级技能人才评价专家库导入",
        columns: vec![
            Column::new("name", "姓名").required().example("张三"),
            Column::new("id_number", "身份证号码")
                .required()
                .hint("18位居民身份证号码")
                .example("11010519491231002X"),
            Column::new("employer", "工作单位").example("郑州职业技术学院"),
            Column::new("employer_credit_code", "单位统一社会信用代码")
                .hint("已知时填写，用于回避同单位")
                .example("91350100M000100Y43"),
            Column::new("district", "所属区县代码")
                .hint("如 410105；可空")
                .example("410105"),
            Column::new("title", "职称/职业资格").example("高级技师"),
            Column::new("phone", "联系电话").example("13800000000"),
            Column::new("username", "平台账号")
                .hint("专家已有平台账号时填写其用户名")
                .example("expert-1"),
            Column::new("occupations", "可评审职业（工种）代码")
                .required()
                .hint("多个用顿号或逗号分隔")
                .example("6-31-01-03、6-18-02-04"),
        ],
        instructions: vec![
            "每行一名专家；带 * 的列必填。",
            "身份证号码仅用于身份核验与回避，平台内脱敏显示，查看完整号码将记入审计日志。",
            "整批校验通过后才会导入；任何一行有误，将列出行号与原因，且不导入任何数据。",
        ],
    }
}

/// Import experts from an xlsx: every row validated first; nothing stored if any row fails.
pub async fn import_experts(
    state: &AppState,
    me: &Authed,
    bytes: &[u8],
) -> Result<usize, AppError> {
    me.may(Action::ExpertManage)?;
    let spec = expert_sheet();
    let rows = sheets::read(&spec, bytes).map_err(|e| AppError::invalid("file", e.to_string()))?;
    if rows.is_empty() {
        return Err(AppError::invalid("file", "表格中没有专家数据"));
    }
    let mut errors = vec![];
    let mut news = vec![];
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        let missing = r.missing_required(&spec);
        if !missing.is_empty() {
            errors.push(format!("第{}行：缺少{}", r.row, missing.join("、")));
            continue;
        }
        let input = ExpertInput {
            name: r.get("name").into(),
            id_number: r.get("id_number").into(),
            employer: r.get("employer").into(),
            employer_credit_code: Some(r.get("employer_credit_code").to_string()),
            district: Some(r.get("district").to_string()),
            title: r.get("title").into(),
            phone: r.get("phone").into(),
            username: Some(r.get("username").to_string()),
            occupations: r
                .get("occupations")
                .split(['、', ',', '，', ';', '；', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        };
        match validate_expert(state, &input).await {
            Ok(n) => {
                if !seen.insert(n.id_number.clone()) {
                    errors.push(format!("第{}行：身份证号码与前面的行重复", r.row));
                } else {
                    news.push(n);
                }
            }
            Err(e) => errors.push(format!("第{}行：{}", r.row, e)),
        }
    }
    for n in &news {
        let dup: Option<i64> = state.store.expert_id_by_number(&n.id_number).await?;
        if dup.is_some() {
            errors.push(format!("{}（{}）已在专家库中", n.name, n.id_masked));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::invalid(
            "file",
            format!("导入未执行：{}", errors.join("；")),
        ));
    }
    for n in &news {
        state.store.create_expert(&me.actor(), n).await?;
    }
    Ok(news.len())
}

#[utoipa::path(get, path = "/api/v1/experts/template.xlsx", tag = "专家库", operation_id = "expert_import_template", responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>, description = "专家导入模板")))]
pub async fn expert_template(me: Authed) -> Result<Response, AppError> {
    me.may(Action::ExpertView)?;
    let bytes = sheets::template(&expert_sheet()).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(crate::upload::send_bytes(
        "市级专家库导入模板.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    ))
}

/// The xlsx of a multipart request (field `file`).
pub async fn xlsx_of(state: &AppState, mp: axum::extract::Multipart) -> Result<Vec<u8>, AppError> {
    let parts = crate::upload::read_upload(mp, state.config.max_upload_bytes).await?;
    let f = crate::upload::files(&parts)
        .next()
        .ok_or_else(|| AppError::invalid("file", "请选择要导入的 Excel 文件"))?;
    crate::upload::check_file(f, state.config.max_upload_bytes)?;
    Ok(f.bytes.to_vec())
}

#[utoipa::path(post, path = "/api/v1/experts/import", tag = "专家库", operation_id = "import_experts", request_body(content_type = "multipart/form-data", description = "file=专家导入模板（xlsx）"), responses((status = 201, body = crate::api::schema::Imported, description = "全部导入"), (status = 422, description = "全部未导入，逐行报告")))]
async fn api_import_experts(
    State(state): State<AppState>,
    me: Authed,
    mp: axum::extract::Multipart,
) -> Result<Response, AppError> {
    me.may(Action::ExpertManage)?;
    let bytes = xlsx_of(&state, mp).await?;
    let n = import_experts(&state, &me, &bytes).await?;
    Ok((StatusCode::CREATED, Json(json!({ "imported": n }))).into_response())
}

/// Download a material of an application for anyone who may see the application — including
/// drawn experts and the dispatched supervisor, whom the general `/documents/{id}` refuses.
#[utoipa::path(get, path = "/api/v1/filings/{id}/documents/{doc}", tag = "机构备案", operation_id = "download_filing_document", params(("id" = i64, Path), ("doc" = i64, Path)), responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>, description = "文件内容")))]
pub async fn download_document(
    State(state): State<AppState>,
    me: Authed,
    Path((id, doc)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    state.store.filing(&me.scope(), id).await?;
    let d = state
        .store
        .document_of_owner("filing_application", id, doc)
        .await?;
    let (d, bytes) = state
        .store
        .document_bytes(&domain::Scope::City, d.id)
        .await?;
    Ok(crate::upload::download_response(&d, bytes))
}
