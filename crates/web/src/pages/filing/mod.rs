//! 机构备案 pages: the list (work queue with filters), the application form, the application
//! with its actions, the draw replay, the receipt, the expert library and the public 公示.

use crate::routing::Routes;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::filing::{self, Command, FilingKind, FilingState};
use domain::Action;
use domain::Role;
use serde::Deserialize;
use store::{ExpertFilter, FilingFilter, PageRequest};

use super::kit::{Cell, Field, FormPage, ListPage};
use super::{beijing_time, flash_text, list_base, render, render_status, Layout};
use crate::auth::{Authed, MaybeAuthed};
use crate::body::FormBody;
use crate::documents::DocumentsPanel;
use crate::error::AppError;
use crate::filing::{
    act, app_state, create_filing, do_draw, eligibility_of, record_opinion, replay,
    store_filing_uploads, ActionInput, DrawInput, FilingInput, ItemInput, OpinionInput,
    FILING_DOC_KINDS,
};
use crate::AppState;

mod acts;
mod detail;
mod exceptions;
mod experts;
mod public;
mod rounds;
use acts::*;
pub use detail::*;
use exceptions::*;
use experts::*;
pub use public::*;
use rounds::*;

pub fn router() -> Routes {
    Routes::new()
        .get("/filings", Action::FilingView, list)
        .get("/filings/new", Action::FilingApply, new_form)
        .post("/filings/new", Action::FilingApply, new_submit)
        .get("/filings/{id}", Action::FilingView, detail)
        .post("/filings/{id}/act", Action::FilingAct, action)
        .post("/filings/{id}/draw", Action::FilingReview, draw)
        .post("/filings/{id}/opinion", Action::ExpertOpinion, opinion)
        .post(
            "/filings/{id}/supervisor",
            Action::SupervisorDispatch,
            dispatch,
        )
        .post(
            "/filings/{id}/supervision-opinion",
            Action::SupervisionOpinion,
            supervision_opinion,
        )
        .post("/filings/{id}/decline", Action::FilingReview, decline)
        .get("/filings/overdue", Action::FilingOverdue, overdue)
        .get(
            "/filing-campaigns/new",
            Action::CampaignCreate,
            campaign_form,
        )
        .post("/filing-campaigns", Action::CampaignCreate, campaign_submit)
        .get("/increment-rounds", Action::IncrementRoundView, rounds)
        .post(
            "/increment-rounds",
            Action::IncrementRoundOpen,
            round_submit,
        )
        .get(
            "/increment-rounds/new",
            Action::IncrementRoundOpen,
            round_form,
        )
        .get("/filing-exceptions", Action::ExceptionView, exceptions)
        .post(
            "/filing-exceptions",
            Action::ExceptionRaise,
            raise_exception,
        )
        .get("/filing-exceptions/new", Action::ExceptionRaise, raise_form)
        .get(
            "/filing-exceptions/{id}",
            Action::ExceptionView,
            decide_form,
        )
        .post(
            "/filing-exceptions/{id}/decide",
            Action::ExceptionDecide,
            decide_exception,
        )
        .upload(
            "/filings/{id}/documents",
            Action::FilingDocumentUpload,
            upload,
        )
        .get("/filings/{id}/receipt", Action::FilingView, receipt)
        .get(
            "/filings/{id}/documents/{doc}",
            Action::FilingView,
            crate::filing::download_document,
        )
        .get("/draws/{id}", Action::DrawView, draw_page)
        .get("/experts", Action::ExpertView, experts)
        .get(
            "/experts/template.xlsx",
            Action::ExpertView,
            crate::filing::expert_template,
        )
        .get("/experts/import", Action::ExpertManage, import_page)
        .upload("/experts/import", Action::ExpertManage, import_submit)
        .get("/public/filings", Action::PublicView, public_filings)
}

fn state_label(s: &str) -> &'static str {
    FilingState::parse(s).map(|s| s.label()).unwrap_or("未知")
}

fn items_text(app: &store::FilingApp) -> String {
    let increment = app.kind == FilingKind::Increment;
    app.items
        .iter()
        .map(|i| {
            // 一(四): on an occupation already filed an increment adds levels, not an occupation.
            let tag = match (increment, i.new_occupation) {
                (true, true) => "［增量］",
                (true, false) => "［增级别］",
                _ => "",
            };
            if i.levels.is_empty() {
                format!("{tag}{} {}", i.code, i.name)
            } else {
                format!(
                    "{tag}{} {}（{}级）",
                    i.code,
                    i.name,
                    i.levels.replace(',', "、")
                )
            }
        })
        .collect::<Vec<_>>()
        .join("；")
}

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    district: Option<String>,
    kind: Option<String>,
    state: Option<String>,
    occupation: Option<String>,
    page: Option<i64>,
    msg: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let f = FilingFilter {
        q: q.q.clone(),
        district: q.district.clone(),
        kind: q.kind.clone(),
        state: q.state.clone(),
        occupation: q.occupation.clone(),
        campaign: None,
    };
    let page = crate::filing::applications(&state, &me, &f, PageRequest::new(q.page, None)).await?;
    let cal = state.display_calendar().await?;
    let rows = page
        .items
        .iter()
        .map(|a| {
            let waited = crate::queue::waited_days(&cal, &a.state_since, state.today())
                .map(|d| format!("{d} 个工作日"))
                .unwrap_or_else(|| "—".into());
            vec![
                Cell::link(format!("#{}", a.id), format!("/filings/{}", a.id)),
                Cell::new(&a.institution_name),
                Cell::new(a.kind.label()),
                Cell::new(&a.district_name),
                Cell::new(items_text(a)),
                Cell::new(a.state.label()),
                Cell::new(waited),
            ]
        })
        .collect();
    let districts = state.display_districts().await?;
    let mut kinds = vec![("".to_string(), "全部类型".to_string())];
    kinds.extend(
        FilingKind::ALL
            .iter()
            .map(|k| (k.as_str().into(), k.label().into())),
    );
    let mut states = vec![("".to_string(), "全部状态".to_string())];
    states.extend(
        FilingState::ALL
            .iter()
            .map(|s| (s.as_str().into(), s.label().into())),
    );
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "备案申请", "/filings")
            .with_flash(flash_text(q.msg.as_deref())),
        heading: "机构备案申请".into(),
        intro: "按等待时间排列（最早的在前）。社会培训评价组织、企业由区县初审并组织专家现场评审；行业协会（学会）、专项职业能力、增量增级别备案由市级统一组织受理与专家评审。".into(),
        new_link: (me.role() == Role::Institution)
            .then(|| ("/filings/new".to_string(), "新建备案申请".to_string())),
        filters: vec![
            Field::text("q", "机构名称/信用代码", q.q.clone().unwrap_or_default()),
            Field::text("district", "区县（市）", q.district.clone().unwrap_or_default())
                .select(super::institutions::district_options(&districts, "全部区县")),
            Field::text("kind", "备案类型", q.kind.clone().unwrap_or_default()).select(kinds),
            Field::text("state", "状态", q.state.clone().unwrap_or_default()).select(states),
            Field::text("occupation", "职业代码", q.occupation.clone().unwrap_or_default()),
        ],
        filter_action: "/filings".into(),
        headers: vec!["编号", "机构", "类型", "属地", "职业（工种）及等级", "状态", "已等待"],
        rows,
        pager: (&page).into(),
        base: list_base(
            "/filings",
            &[
                ("q", &q.q),
                ("district", &q.district),
                ("kind", &q.kind),
                ("state", &q.state),
                ("occupation", &q.occupation),
            ],
        ),
        empty: "没有待办或符合条件的备案申请。",
        printable: true,
    }))
}

#[derive(Deserialize, Default, Clone)]
pub struct NewFilingForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    occ1: String,
    #[serde(default)]
    levels1: String,
    #[serde(default)]
    occ2: String,
    #[serde(default)]
    levels2: String,
    #[serde(default)]
    occ3: String,
    #[serde(default)]
    levels3: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    shared_resources: String,
    #[serde(default)]
    commitment: String,
}

async fn form_page(
    state: &AppState,
    me: &Authed,
    f: &NewFilingForm,
    err: Option<AppError>,
) -> Result<FormPage, AppError> {
    let occs = crate::filing::filing_occupations(state, me).await?;
    let mut options = vec![("".to_string(), "请选择".to_string())];
    options.extend(occs.iter().filter(|o| o.active).map(|o| {
        let tag = if o.kind == domain::reference::ItemKind::Special {
            "［专项］"
        } else {
            ""
        };
        (o.code.clone(), format!("{tag}{} {}", o.code, o.name))
    }));
    let kinds: Vec<(String, String)> = FilingKind::ALL
        .iter()
        .map(|k| {
            (
                k.as_str().to_string(),
                format!("{}（{}）", k.label(), k.clause()),
            )
        })
        .collect();
    let mut fields = vec![
        Field::text("kind", "备案类型", f.kind.clone())
            .select(kinds)
            .required(),
        Field::text("occ1", "职业（工种）1", f.occ1.clone())
            .select(options.clone())
            .required(),
        Field::text("levels1", "申报等级 1", f.levels1.clone())
            .hint("如 5,4,3；区县受理的初次备案限五、四、三级（三(一)）；专项职业能力不填"),
        Field::text("occ2", "职业（工种）2", f.occ2.clone()).select(options.clone()),
        Field::text("levels2", "申报等级 2", f.levels2.clone()),
        Field::text("occ3", "职业（工种）3", f.occ3.clone()).select(options),
        Field::text("levels3", "申报等级 3", f.levels3.clone())
            .hint("每次申报不超过3个职业（工种）（一(一)）"),
        Field::text(
            "shared_resources",
            "场地、设施、试题、考评员的共享/租用/购买服务情况",
            f.shared_resources.clone(),
        )
        .kind("textarea"),
        Field::text(
            "commitment",
            "书面承诺（企业可凭书面承诺及佐证材料免于现场评估）",
            f.commitment.clone(),
        )
        .kind("textarea"),
        Field::text("note", "备注", f.note.clone()).kind("textarea"),
    ];
    let mut error = None;
    if let Some(e) = err {
        match e {
            AppError::Invalid { field, message } => {
                let target = match field.as_str() {
                    "occupations" => "occ1",
                    "levels" => "levels1",
                    f => f,
                };
                error = super::kit::attach_error(&mut fields, target, message);
            }
            other => error = Some(other.to_string()),
        }
    }
    Ok(FormPage {
        layout: Layout::new(state, Some(me), "新建备案申请", "/filings"),
        heading: "新建备案申请".into(),
        crumbs: vec![("/filings".into(), "备案申请".into())],
        intro: "保存后为草稿，可上传材料，确认无误后提交。".into(),
        action: "/filings/new".into(),
        fields,
        error,
        submit: "保存草稿",
        cancel: "/filings".into(),
        confirm: None,
    })
}

/// The form only shows; its route's gate (`FilingApply`) is the permission, and
/// `create_filing` checks it again when the form is sent.
async fn new_form(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    let f = NewFilingForm {
        kind: "social_org".into(),
        levels1: "5,4,3".into(),
        ..Default::default()
    };
    Ok(render(&form_page(&state, &me, &f, None).await?))
}

fn parse_levels_text(s: &str) -> Result<Vec<u8>, AppError> {
    domain::occupation::parse_levels(s)
        .map(|v| v.iter().map(|l| l.number()).collect())
        .map_err(|e| AppError::invalid("levels", e.to_string()))
}

async fn new_submit(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<NewFilingForm>,
) -> Result<Response, AppError> {
    let mut items = vec![];
    let mut bad = None;
    for (o, l) in [
        (&f.occ1, &f.levels1),
        (&f.occ2, &f.levels2),
        (&f.occ3, &f.levels3),
    ] {
        if o.trim().is_empty() {
            continue;
        }
        match parse_levels_text(l) {
            Ok(levels) => items.push(ItemInput {
                code: o.clone(),
                levels,
            }),
            Err(e) => bad = Some(e),
        }
    }
    let result = match bad {
        Some(e) => Err(e),
        None => {
            create_filing(
                &state,
                &me,
                &FilingInput {
                    kind: f.kind.clone(),
                    occupations: items,
                    note: f.note.clone(),
                    shared_resources: f.shared_resources.clone(),
                    commitment: f.commitment.clone(),
                    version: None,
                },
            )
            .await
        }
    };
    match result {
        Ok(app) => Ok(Redirect::to(&format!("/filings/{}?msg=created", app.id)).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::BadRequest(_))) => {
            let status = e.status();
            Ok(render_status(
                status,
                &form_page(&state, &me, &f, Some(e)).await?,
            ))
        }
        Err(e) => Err(e),
    }
}
