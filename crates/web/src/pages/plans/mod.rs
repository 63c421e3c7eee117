//! Pages of 二、评价管理: electronic filing, plans with their two-step approval, the supervision
//! letter (printable, signed by three parties), candidates and results, the public results list.

use crate::routing::Routes;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::plan::{forms_label, EfilingStatus, Party, PlanCommand, PlanStatus};
use domain::Action;
use domain::Role;
use serde::Deserialize;
use store::{EfilingFilter, PageRequest, PlanFilter, UploadedFile};

use super::kit::{attach_error, ActionButton, Cell, DetailPage, Field, FormPage, ListPage};
use super::{beijing_time, list_base, render, render_status, Layout, Pager};
use crate::auth::{Authed, MaybeAuthed};
use crate::body::FormBody;
use crate::error::AppError;
use crate::evaluation::{self as ev, CandidateForm, ImportStart, PlanForm, ScoreForm};
use crate::AppState;

mod candidates;
mod detail;
mod efiling;
mod public;
mod supervision;
use candidates::*;
use detail::*;
use efiling::*;
use public::*;
use supervision::*;

pub fn router() -> Routes {
    Routes::new()
        .get("/plans", Action::PlanView, list)
        .post("/plans", Action::PlanEdit, create)
        .get("/plans/new", Action::PlanEdit, new_form)
        .get("/plans/{id}", Action::PlanView, show)
        .get("/plans/{id}/edit", Action::PlanEdit, edit_form)
        .post("/plans/{id}/edit", Action::PlanEdit, update)
        .get("/plans/{id}/act/{cmd}", Action::PlanAct, act_form)
        .post("/plans/{id}/act/{cmd}", Action::PlanAct, act)
        .post("/plans/{id}/supervisors", Action::SupervisorAssign, assign)
        .get("/plans/{id}/letter", Action::LetterView, letter)
        .get("/plans/{id}/letter.pdf", Action::LetterView, letter_pdf)
        .post("/plans/{id}/letter/sign", Action::LetterSign, sign)
        .get("/plans/{id}/report", Action::SupervisionReport, report_form)
        .upload("/plans/{id}/report", Action::SupervisionReport, report)
        .get("/plans/{id}/candidates", Action::CandidateView, candidates)
        .post(
            "/plans/{id}/candidates",
            Action::CandidateEnter,
            add_candidate,
        )
        .get(
            "/plans/{id}/candidates/new",
            Action::CandidateEnter,
            candidate_form,
        )
        .get(
            "/plans/{id}/candidates/import",
            Action::CandidateEnter,
            import_form,
        )
        .post(
            "/plans/{id}/candidates/import",
            Action::CandidateEnter,
            import,
        )
        .upload(
            "/plans/{id}/scores/import",
            Action::CandidateEnter,
            import_scores,
        )
        .get(
            "/plans/{id}/candidates/{cid}/id-number",
            Action::CandidateIdNumber,
            full_id,
        )
        .get(
            "/plans/{id}/candidates/{cid}/score",
            Action::CandidateEnter,
            score_form,
        )
        .post(
            "/plans/{id}/candidates/{cid}/score",
            Action::CandidateEnter,
            score,
        )
        .post(
            "/plans/{id}/results/{what}",
            Action::CandidateEnter,
            results_action,
        )
        .get("/efiling", Action::EfilingSubmit, efiling)
        .upload("/efiling", Action::EfilingSubmit, efiling_upload)
        .get("/efilings", Action::EfilingView, efilings)
        .get(
            "/efilings/{inst}/review",
            Action::EfilingReview,
            efiling_review_form,
        )
        .post(
            "/efilings/{inst}/review",
            Action::EfilingReview,
            efiling_review,
        )
        .get("/efilings/{inst}/file", Action::EfilingView, efiling_file)
        .get("/supervision/relations", Action::RelationManage, relations)
        .post(
            "/supervision/relations",
            Action::RelationManage,
            add_relation,
        )
        .get(
            "/supervision/relations/new",
            Action::RelationManage,
            relation_form,
        )
        .get("/public/results", Action::PublicView, public_results)
        .get("/public/results/{id}", Action::PublicView, public_result)
}

fn flash(code: Option<&str>) -> Option<String> {
    let t = match code? {
        "created" => "计划已保存为草稿。请确认最晚提交日期后提交区县。",
        "saved" => "已保存。",
        "done" => "操作已完成。",
        "signed" => "已签字。",
        "assigned" => "督导人员已派遣。",
        "uploaded" => "已上传，等待区县人社部门确认。",
        "imported" => "考生名单已全部导入。",
        _ => return super::flash_text(code),
    };
    Some(t.to_string())
}

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    page: Option<i64>,
    msg: Option<String>,
}

fn status_options() -> Vec<(String, String)> {
    let mut v = vec![(String::new(), "全部".to_string())];
    v.extend(
        PlanStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), s.label().to_string())),
    );
    v
}

async fn list(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let f = PlanFilter {
        q: q.q.clone(),
        status: q.status.clone(),
        ..Default::default()
    };
    let page = ev::views::plans(&state, &me, &f, PageRequest::new(q.page, None)).await?;
    let rows = page
        .items
        .iter()
        .map(|p| {
            vec![
                Cell::link(&p.plan_no, format!("/plans/{}", p.id)).class("mono"),
                Cell::new(&p.institution_name),
                Cell::new(format!("{} {}", p.occupation_code, p.occupation_name)),
                Cell::new(&p.levels),
                Cell::new(format!("{} 至 {}", p.start_date, p.end_date)),
                Cell::new(p.status().label()),
                Cell::new(format!("第{}版", p.revision)),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "评价工作计划", "/plans")
            .with_flash(flash(q.msg.as_deref())),
        heading: "评价工作计划".into(),
        intro: "依据郑人社办〔2022〕87号 二(二)：机构提前3个工作日向区县提交纸质版计划，区县审核通过后机构在平台填报，经市级认可方可开展评价。".into(),
        new_link: (me.role() == Role::Institution)
            .then(|| ("/plans/new".to_string(), "新建计划".to_string())),
        filters: vec![
            Field::text("q", "编号、机构或职业", q.q.clone().unwrap_or_default()),
            Field::text("status", "状态", q.status.clone().unwrap_or_default())
                .select(status_options()),
        ],
        filter_action: "/plans".into(),
        headers: vec!["计划编号", "评价机构", "职业（工种）", "等级", "评价时间", "状态", "版本"],
        rows,
        pager: Pager::from(&page),
        base: list_base("/plans", &[("q", &q.q), ("status", &q.status)]),
        empty: "尚无评价工作计划。",
        printable: true,
    }))
}

/// The plan form as the page posts it: forms are three checkboxes.
#[derive(Deserialize, Default, Clone)]
struct PlanPageForm {
    #[serde(default)]
    occupation_id: String,
    #[serde(default)]
    levels: String,
    #[serde(default)]
    form_theory: Option<String>,
    #[serde(default)]
    form_skill: Option<String>,
    #[serde(default)]
    form_review: Option<String>,
    #[serde(default)]
    start_date: String,
    #[serde(default)]
    end_date: String,
    #[serde(default)]
    venue: String,
    #[serde(default)]
    expected_candidates: String,
    #[serde(default)]
    examiners: String,
    #[serde(default)]
    internal_supervisor: String,
    #[serde(default)]
    version: Option<String>,
}

impl PlanPageForm {
    fn to_api(&self) -> PlanForm {
        let mut forms = vec![];
        if self.form_theory.is_some() {
            forms.push("theory");
        }
        if self.form_skill.is_some() {
            forms.push("skill");
        }
        if self.form_review.is_some() {
            forms.push("review");
        }
        PlanForm {
            occupation_id: self.occupation_id.clone(),
            levels: self.levels.clone(),
            forms: forms.join(","),
            start_date: self.start_date.clone(),
            end_date: self.end_date.clone(),
            venue: self.venue.clone(),
            expected_candidates: self.expected_candidates.clone(),
            examiners: self.examiners.clone(),
            internal_supervisor: self.internal_supervisor.clone(),
            version: self.version.as_deref().and_then(|v| v.trim().parse().ok()),
        }
    }
    fn from_api(f: &PlanForm) -> PlanPageForm {
        let has = |s: &str| f.forms.split(',').any(|x| x == s).then(|| "on".to_string());
        PlanPageForm {
            occupation_id: f.occupation_id.clone(),
            levels: f.levels.clone(),
            form_theory: has("theory"),
            form_skill: has("skill"),
            form_review: has("review"),
            start_date: f.start_date.clone(),
            end_date: f.end_date.clone(),
            venue: f.venue.clone(),
            expected_candidates: f.expected_candidates.clone(),
            examiners: f.examiners.clone(),
            internal_supervisor: f.internal_supervisor.clone(),
            version: f.version.map(|v| v.to_string()),
        }
    }
}

async fn plan_form_page(
    state: &AppState,
    me: &Authed,
    heading: String,
    action: String,
    cancel: String,
    f: &PlanPageForm,
    error: Option<(String, String)>,
    institution_id: i64,
) -> Result<FormPage, AppError> {
    let filed = state.store.filed_occupations(institution_id).await?;
    let mut occ = vec![(String::new(), "请选择已备案的职业（工种）".to_string())];
    occ.extend(filed.iter().map(|o| {
        (
            o.occupation_id.to_string(),
            format!(
                "{} {}（已备案等级 {}）",
                o.occupation_code, o.occupation_name, o.levels
            ),
        )
    }));
    let check = |v: &Option<String>| if v.is_some() { "on" } else { "" };
    let mut fields = vec![
        Field::text("occupation_id", "职业（工种）", &f.occupation_id)
            .select(occ)
            .required(),
        Field::text("levels", "等级", &f.levels)
            .hint("填写等级数字，多个用逗号分隔，如 5,4；只能选择已备案的等级")
            .required(),
        Field::text("form_theory", "理论知识考试", check(&f.form_theory)).kind("checkbox"),
        Field::text("form_skill", "操作技能考核", check(&f.form_skill)).kind("checkbox"),
        Field::text("form_review", "综合评审（仅二级、一级）", check(&f.form_review))
            .kind("checkbox"),
        Field::text("start_date", "评价开始日期", &f.start_date)
            .kind("date")
            .hint("纸质版计划须至少提前3个工作日送达区县（按国务院节假日安排，含调休上班日）；选择日期后显示最晚提交日期")
            .required(),
        Field::text("end_date", "评价结束日期", &f.end_date)
            .kind("date")
            .required(),
        Field::text("venue", "评价场地", &f.venue).required(),
        Field::text("expected_candidates", "预计考生人数", &f.expected_candidates)
            .kind("number")
            .required(),
        Field::text("examiners", "考评员", &f.examiners)
            .kind("textarea")
            .hint("姓名及考评员证号，多人用顿号分隔")
            .required(),
        Field::text("internal_supervisor", "内部督导员", &f.internal_supervisor).required(),
        Field::text("version", "", f.version.clone().unwrap_or_default()).kind("hidden"),
    ];
    let mut top = None;
    if let Some((field, msg)) = error {
        let field = match field.as_str() {
            "occupation" => "occupation_id".to_string(),
            "forms" => "form_theory".to_string(),
            other => other.to_string(),
        };
        top = attach_error(&mut fields, &field, msg);
    }
    Ok(FormPage {
        layout: Layout::new(state, Some(me), heading.clone(), "/plans"),
        heading,
        crumbs: vec![("/plans".into(), "评价工作计划".into())],
        intro: "计划内容：职业（工种）、等级、评价方式、时间、场地、预计人数、考评员和内部督导员（二(二)3）。".into(),
        action,
        fields,
        error: top,
        submit: "保存",
        cancel,
        confirm: None,
    })
}

fn split_error(e: AppError) -> Result<(StatusCode, (String, String)), AppError> {
    match e {
        AppError::Invalid { field, message } => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, (field, message)))
        }
        AppError::Conflict(m) => Ok((StatusCode::CONFLICT, (String::new(), m))),
        other => Err(other),
    }
}

async fn new_form(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    let inst = ev::views::own_institution_for_plan(&me)?;
    let f = PlanPageForm {
        form_theory: Some("on".into()),
        form_skill: Some("on".into()),
        ..Default::default()
    };
    let page = plan_form_page(
        &state,
        &me,
        "新建评价工作计划".into(),
        "/plans".into(),
        "/plans".into(),
        &f,
        None,
        inst,
    )
    .await?;
    Ok(render(&page))
}

async fn create(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<PlanPageForm>,
) -> Result<Response, AppError> {
    let inst = ev::views::own_institution_for_plan(&me)?;
    match ev::create_plan(&state, &me, &f.to_api()).await {
        Ok(p) => Ok(Redirect::to(&format!("/plans/{}?msg=created", p.id)).into_response()),
        Err(e) => {
            let (status, err) = split_error(e)?;
            let page = plan_form_page(
                &state,
                &me,
                "新建评价工作计划".into(),
                "/plans".into(),
                "/plans".into(),
                &f,
                Some(err),
                inst,
            )
            .await?;
            Ok(render_status(status, &page))
        }
    }
}

async fn edit_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = ev::views::editable_plan(&state, &me, id).await?;
    let f = PlanPageForm::from_api(&PlanForm::from_plan(&p));
    let heading = if matches!(p.status(), PlanStatus::Draft | PlanStatus::Returned) {
        format!("修改计划 {}", p.plan_no)
    } else {
        format!("变更计划 {}（变更后须重新审核）", p.plan_no)
    };
    let page = plan_form_page(
        &state,
        &me,
        heading,
        format!("/plans/{id}/edit"),
        format!("/plans/{id}"),
        &f,
        None,
        p.institution_id,
    )
    .await?;
    Ok(render(&page))
}

async fn update(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<PlanPageForm>,
) -> Result<Response, AppError> {
    let p = ev::views::plan(&state, &me, id).await?;
    match ev::update_plan(&state, &me, id, &f.to_api()).await {
        Ok(_) => Ok(Redirect::to(&format!("/plans/{id}?msg=saved")).into_response()),
        Err(e) => {
            let (status, err) = split_error(e)?;
            let page = plan_form_page(
                &state,
                &me,
                format!("修改计划 {}", p.plan_no),
                format!("/plans/{id}/edit"),
                format!("/plans/{id}"),
                &f,
                Some(err),
                p.institution_id,
            )
            .await?;
            Ok(render_status(status, &page))
        }
    }
}

#[derive(Deserialize, Default)]
struct MsgQuery {
    msg: Option<String>,
    q: Option<String>,
    page: Option<i64>,
}

fn opt_time(t: &Option<String>) -> String {
    t.as_deref().map(beijing_time).unwrap_or_else(|| "—".into())
}
