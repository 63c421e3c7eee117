//! Pages of 二、评价管理: electronic filing, plans with their two-step approval, the supervision
//! letter (printable, signed by three parties), candidates and results, the public results list.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use domain::plan::{forms_label, EfilingStatus, Party, PlanCommand, PlanStatus};
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

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans", get(list).post(create))
        .route("/plans/new", get(new_form))
        .route("/plans/{id}", get(show))
        .route("/plans/{id}/edit", get(edit_form).post(update))
        .route("/plans/{id}/act/{cmd}", get(act_form).post(act))
        .route("/plans/{id}/supervisors", post(assign))
        .route("/plans/{id}/letter", get(letter))
        .route("/plans/{id}/letter.pdf", get(letter_pdf))
        .route("/plans/{id}/letter/sign", post(sign))
        .route(
            "/plans/{id}/report",
            get(report_form)
                .post(report)
                .layer(crate::upload::upload_limit_layer()),
        )
        .route(
            "/plans/{id}/candidates",
            get(candidates).post(add_candidate),
        )
        .route("/plans/{id}/candidates/new", get(candidate_form))
        .route(
            "/plans/{id}/candidates/import",
            get(import_form).post(import),
        )
        .route(
            "/plans/{id}/scores/import",
            post(import_scores).layer(crate::upload::upload_limit_layer()),
        )
        .route("/plans/{id}/candidates/{cid}/id-number", get(full_id))
        .route(
            "/plans/{id}/candidates/{cid}/score",
            get(score_form).post(score),
        )
        .route("/plans/{id}/results/{what}", post(results_action))
        .route(
            "/efiling",
            get(efiling)
                .post(efiling_upload)
                .layer(crate::upload::upload_limit_layer()),
        )
        .route("/efilings", get(efilings))
        .route(
            "/efilings/{inst}/review",
            get(efiling_review_form).post(efiling_review),
        )
        .route("/efilings/{inst}/file", get(efiling_file))
        .route("/supervision/relations", get(relations).post(add_relation))
        .route("/supervision/relations/new", get(relation_form))
        .route("/public/results", get(public_results))
        .route("/public/results/{id}", get(public_result))
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
    let page = state
        .store
        .list_plans(&me.scope(), &f, PageRequest::new(q.page, None))
        .await?;
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
    me.require(&[Role::Institution])?;
    let inst = me.account.institution_id.ok_or_else(AppError::forbidden)?;
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
    me.require(&[Role::Institution])?;
    let inst = me.account.institution_id.ok_or_else(AppError::forbidden)?;
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
    me.require(&[Role::Institution])?;
    let p = state.store.plan(&me.scope(), id).await?;
    if p.status().is_closed() || p.results_status != "none" {
        return Err(AppError::Conflict(format!(
            "计划当前状态为“{}”，不能再修改",
            if p.results_status != "none" {
                "成绩已公示"
            } else {
                p.status().label()
            }
        )));
    }
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
    let p = state.store.plan(&me.scope(), id).await?;
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

async fn show(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let p = state.store.plan(&me.scope(), id).await?;
    let sup = ev::supervision_view(&state, &p).await?;
    let latest = match chrono::NaiveDate::parse_from_str(&p.start_date, "%Y-%m-%d") {
        Ok(s) => match ev::latest_submission(&state, s).await {
            Ok((a, b, basis)) => format!(
                "纸质件最晚于 {} 送达区县（最后一个工作日为 {}）；平台提交须在开始日期之前{}",
                a,
                b,
                basis.note()
            ),
            Err(e) => e.to_string(),
        },
        Err(_) => "—".into(),
    };
    let levels = p
        .levels()
        .iter()
        .map(|l| l.name())
        .collect::<Vec<_>>()
        .join("、");
    let mut props: Vec<(&'static str, String)> = vec![
        ("状态", p.status().label().to_string()),
        ("版本", format!("第{}版", p.revision)),
        ("评价机构", p.institution_name.clone()),
        ("属地", p.district_name.clone()),
        (
            "职业（工种）",
            format!("{} {}", p.occupation_code, p.occupation_name),
        ),
        ("等级", levels),
        ("评价方式", forms_label(&p.forms())),
        ("评价时间", format!("{} 至 {}", p.start_date, p.end_date)),
        ("最晚提交日期", latest),
        ("评价场地", p.venue.clone()),
        ("预计考生人数", p.expected_candidates.to_string()),
        ("考评员", p.examiners.clone()),
        ("内部督导员", p.internal_supervisor.clone()),
        ("提交时间", opt_time(&p.submitted_at)),
        (
            "纸质件收取",
            match (&p.paper_received_by, &p.paper_received_at) {
                (Some(by), Some(at)) => match &p.paper_received_on {
                    Some(on) => format!("{on} 收取（{} 于 {} 登记）", by, beijing_time(at)),
                    None => format!("{} 于 {}", by, beijing_time(at)),
                },
                _ => "—".into(),
            },
        ),
        (
            "纸质件保存至",
            p.paper_retention_until
                .clone()
                .unwrap_or_else(|| "—".into()),
        ),
        (
            "区县审核",
            match (&p.district_decided_by, &p.district_decided_at) {
                (Some(by), Some(at)) => format!("{} 于 {}", by, beijing_time(at)),
                _ => "—".into(),
            },
        ),
        ("平台填报", opt_time(&p.entered_at)),
        (
            "市级认可",
            match (&p.city_confirmed_by, &p.city_confirmed_at) {
                (Some(by), Some(at)) => format!("{} 于 {}", by, beijing_time(at)),
                _ => "—".into(),
            },
        ),
        ("评价有效性", sup.validity.clone()),
        (
            "成绩",
            match p.results_status.as_str() {
                "publicised" => format!(
                    "公示中（{}）",
                    p.results_publicity_text().unwrap_or_default()
                ),
                "submitted" => format!("已上报市级（{}）", opt_time(&p.results_submitted_at)),
                _ => "未公示".into(),
            },
        ),
    ];
    if !p.last_reason.is_empty() {
        props.push(("退回/取消理由", p.last_reason.clone()));
    }
    let mut buttons = vec![];
    for cmd in ev::available_commands(&me, &p) {
        if has_form(cmd) {
            continue;
        }
        buttons.push(ActionButton {
            action: format!("/plans/{id}/act/{}", cmd.as_str()),
            label: cmd.label(),
            danger: false,
            confirm: Some(format!("确认“{}”？", cmd.label())),
            hidden: vec![("version", p.version.to_string())],
        });
    }
    let mut links = vec![];
    for cmd in ev::available_commands(&me, &p) {
        if has_form(cmd) {
            links.push((
                format!("/plans/{id}/act/{}", cmd.as_str()),
                cmd.label().to_string(),
            ));
        }
    }
    if me.role() == Role::Institution && !p.status().is_closed() && p.results_status == "none" {
        links.push((
            format!("/plans/{id}/edit"),
            if matches!(p.status(), PlanStatus::Draft | PlanStatus::Returned) {
                "修改".into()
            } else {
                "变更计划".into()
            },
        ));
    }
    if p.status() == PlanStatus::CityConfirmed {
        links.push((format!("/plans/{id}/letter"), "督导责任书".into()));
        links.push((format!("/plans/{id}/candidates"), "考生与成绩".into()));
        if me.role() == Role::Supervisor {
            links.push((format!("/plans/{id}/report"), "提交督导报告".into()));
        }
        // 证书: the institution uploads one-inch photos, the city issues after submission.
        if me.role() == Role::Institution {
            links.push((format!("/plans/{id}/photos"), "证书照片".into()));
        }
        if p.results_status == "submitted"
            && matches!(me.role(), Role::CityCenter | Role::CityDivision)
        {
            links.push((format!("/plans/{id}/certificates"), "生成证书数据".into()));
        }
        if p.results_status == "submitted" {
            links.push((format!("/certificates?plan={id}"), "本计划证书".into()));
        }
    }
    if me.role() == Role::Institution && p.status() == PlanStatus::CityConfirmed {
        if p.results_status == "none" && sup.evaluation_valid {
            buttons.push(ActionButton {
                action: format!("/plans/{id}/results/publish"),
                label: "公示成绩",
                danger: false,
                confirm: Some("成绩公示后不能再修改，确认公示？".into()),
                hidden: vec![("version", p.version.to_string())],
            });
        }
        if p.results_status == "publicised" {
            buttons.push(ActionButton {
                action: format!("/plans/{id}/results/submit"),
                label: "上报市级",
                danger: false,
                confirm: Some("确认将成绩上报市职业技能鉴定中心？".into()),
                hidden: vec![("version", p.version.to_string())],
            });
        }
    }
    // Supervisor assignment (city officers: city side, district: district side).
    let side = match me.role() {
        Role::CityCenter | Role::CityDivision => Some(None),
        Role::District => Some(Some(p.district_code.clone())),
        _ => None,
    };
    let mut sections = vec![];
    sections.push((
        "督导人员".to_string(),
        vec!["方", "督导员", "派遣时间"],
        sup.assignments
            .iter()
            .map(|a| {
                vec![
                    Cell::new(Party::parse(&a.side).map(|p| p.label()).unwrap_or("")),
                    Cell::new(&a.supervisor_name),
                    Cell::new(beijing_time(&a.assigned_at)),
                ]
            })
            .collect(),
    ));
    if let (Some(district), PlanStatus::CityConfirmed) = (side, p.status()) {
        if sup.signatures.is_empty() {
            for s in state.store.supervisor_pool(district.as_deref()).await? {
                buttons.push(ActionButton {
                    action: format!("/plans/{id}/supervisors"),
                    label: "派遣督导",
                    danger: false,
                    confirm: Some(format!("派遣 {} 担任本次评价的督导？", s.display_name)),
                    hidden: vec![("supervisor_id", s.id.to_string())],
                });
            }
        }
    }
    sections.push((
        "督导责任书签字".to_string(),
        vec!["方", "签字人", "时间", "文书摘要（SHA-256）"],
        sup.signatures
            .iter()
            .map(|s| {
                vec![
                    Cell::new(Party::parse(&s.party).map(|p| p.label()).unwrap_or("")),
                    Cell::new(&s.signer_name),
                    Cell::new(beijing_time(&s.signed_at)),
                    Cell::new(&s.doc_sha256[..16]).class("mono"),
                ]
            })
            .collect(),
    ));
    let events = state.store.plan_events(p.id).await?;
    sections.push((
        "流转记录".to_string(),
        vec!["时间", "操作", "版本", "状态", "操作人", "理由"],
        events
            .iter()
            .map(|e| {
                vec![
                    Cell::new(beijing_time(&e.at)),
                    Cell::new(PlanCommand::parse(&e.action).map(|c| c.label()).unwrap_or(
                        if e.action == "create" {
                            "创建"
                        } else {
                            "修改"
                        },
                    )),
                    Cell::new(e.revision.to_string()),
                    Cell::new(
                        PlanStatus::parse(&e.to_status)
                            .map(|s| s.label())
                            .unwrap_or(""),
                    ),
                    Cell::new(&e.actor),
                    Cell::new(&e.reason),
                ]
            })
            .collect(),
    ));
    let reports = state.store.reports(p.id).await?;
    sections.push((
        "督导报告".to_string(),
        vec!["督导员", "提交时间", "内容", "附件"],
        reports
            .iter()
            .map(|r| {
                vec![
                    Cell::new(&r.supervisor_name),
                    Cell::new(beijing_time(&r.filed_at)),
                    Cell::new(&r.body),
                    match r.document_id {
                        Some(d) => Cell::link(&r.attachment_name, format!("/documents/{d}")),
                        None => Cell::new("—"),
                    },
                ]
            })
            .collect(),
    ));
    Ok(render(&DetailPage {
        layout: Layout::new(&state, Some(&me), format!("计划 {}", p.plan_no), "/plans")
            .with_flash(flash(q.msg.as_deref())),
        heading: format!("评价工作计划 {}", p.plan_no),
        crumbs: vec![("/plans".into(), "评价工作计划".into())],
        props,
        links,
        buttons,
        sections,
    }))
}

#[derive(Deserialize, Default)]
struct ActForm {
    version: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    paper_received_on: Option<String>,
}

fn page_cmd(s: &str) -> Result<PlanCommand, AppError> {
    PlanCommand::parse(s)
        .filter(|c| !matches!(c, PlanCommand::Edit | PlanCommand::Revise))
        .ok_or(AppError::NotFound)
}

/// Commands that open a form first: those that need a reason, and the paper receipt (its date).
fn has_form(cmd: PlanCommand) -> bool {
    cmd.needs_reason() || cmd == PlanCommand::RecordPaper
}

fn reason_form(
    state: &AppState,
    me: &Authed,
    id: i64,
    cmd: PlanCommand,
    p: &store::Plan,
    f: &ActForm,
    error: Option<(String, String)>,
) -> FormPage {
    let mut fields = vec![];
    if cmd == PlanCommand::RecordPaper {
        let on = f
            .paper_received_on
            .clone()
            .unwrap_or_else(|| state.today().format("%Y-%m-%d").to_string());
        fields.push(
            Field::text("paper_received_on", "纸质件收取日期", on)
                .kind("date")
                .required()
                .hint("默认今天；早于今天的须说明理由。提前3个工作日的规则按此日期计算（二(二)）"),
        );
        fields.push(
            Field::text("reason", "理由（收取日期早于今天时必填）", f.reason.clone())
                .kind("textarea"),
        );
    } else {
        fields.push(
            Field::text("reason", "理由", f.reason.clone())
                .kind("textarea")
                .required(),
        );
    }
    fields.push(Field::text("version", "", p.version.to_string()).kind("hidden"));
    let mut form_error = None;
    if let Some((field, message)) = error {
        match fields.iter_mut().find(|x| x.name == field) {
            Some(x) => x.error = Some(message),
            None => form_error = Some(message),
        }
    }
    FormPage {
        layout: Layout::new(state, Some(me), cmd.label(), "/plans"),
        heading: format!("{}：{}", cmd.label(), p.plan_no),
        crumbs: vec![
            ("/plans".into(), "评价工作计划".into()),
            (format!("/plans/{id}"), p.plan_no.clone()),
        ],
        intro: if cmd == PlanCommand::RecordPaper {
            "登记区县收到纸质版评价工作计划的日期，记入流转记录并通知机构。".into()
        } else {
            "理由将记入流转记录并通知机构。".into()
        },
        action: format!("/plans/{id}/act/{}", cmd.as_str()),
        fields,
        error: form_error,
        submit: cmd.label(),
        cancel: format!("/plans/{id}"),
        confirm: Some(format!("确认“{}”？此操作将记录在案。", cmd.label())),
    }
}

async fn act_form(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cmd)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    let cmd = page_cmd(&cmd)?;
    let p = state.store.plan(&me.scope(), id).await?;
    Ok(render(&reason_form(
        &state,
        &me,
        id,
        cmd,
        &p,
        &ActForm::default(),
        None,
    )))
}

async fn act(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cmd)): Path<(i64, String)>,
    FormBody(f): FormBody<ActForm>,
) -> Result<Response, AppError> {
    let cmd = page_cmd(&cmd)?;
    let version = f.version.as_deref().and_then(|v| v.trim().parse().ok());
    match ev::plan_action(
        &state,
        &me,
        id,
        version,
        cmd,
        &f.reason,
        f.paper_received_on.as_deref(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/plans/{id}?msg=done")).into_response()),
        Err(e @ AppError::Invalid { .. }) if has_form(cmd) => {
            let (status, err) = split_error(e)?;
            let p = state.store.plan(&me.scope(), id).await?;
            Ok(render_status(
                status,
                &reason_form(&state, &me, id, cmd, &p, &f, Some(err)),
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct AssignForm {
    supervisor_id: i64,
}

async fn assign(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<AssignForm>,
) -> Result<Response, AppError> {
    ev::assign_supervisor(&state, &me, id, f.supervisor_id).await?;
    Ok(Redirect::to(&format!("/plans/{id}?msg=assigned")).into_response())
}

#[derive(Template)]
#[template(path = "plan_letter.html")]
struct LetterPage {
    layout: Layout,
    plan_id: i64,
    plan_no: String,
    body: Option<String>,
    sha256: String,
    signatures: Vec<(String, String, String, String)>,
    valid: bool,
    validity: String,
    may_sign: bool,
}

async fn letter(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let p = state.store.plan(&me.scope(), id).await?;
    let sup = ev::supervision_view(&state, &p).await?;
    let signed_by_me = sup.signatures.iter().any(|s| s.signer_id == me.account.id)
        || (me.role() == Role::Institution
            && sup.signatures.iter().any(|s| s.party == "institution"));
    let may_sign = sup.letter.is_some()
        && !signed_by_me
        && (me.role() == Role::Institution
            || sup
                .assignments
                .iter()
                .any(|a| a.supervisor_id == me.account.id));
    Ok(render(&LetterPage {
        layout: Layout::new(&state, Some(&me), "督导责任书", "/plans")
            .with_flash(flash(q.msg.as_deref())),
        plan_id: p.id,
        plan_no: p.plan_no.clone(),
        body: sup.letter.as_ref().map(|l| l.body.clone()),
        sha256: sup
            .letter
            .as_ref()
            .map(|l| l.sha256.clone())
            .unwrap_or_default(),
        signatures: sup
            .signatures
            .iter()
            .map(|s| {
                (
                    Party::parse(&s.party)
                        .map(|p| p.label())
                        .unwrap_or("")
                        .to_string(),
                    s.signer_name.clone(),
                    beijing_time(&s.signed_at),
                    format!("{} {}…", s.algorithm, &s.signature[..16]),
                )
            })
            .collect(),
        valid: sup.evaluation_valid,
        validity: sup.validity,
        may_sign,
    }))
}

/// The 督导责任书 as an A4 PDF: the signed canonical text, its SHA-256 and the signatures so far.
async fn letter_pdf(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = state.store.plan(&me.scope(), id).await?;
    let sup = ev::supervision_view(&state, &p).await?;
    let letter = sup.letter.as_ref().ok_or(AppError::NotFound)?;
    let mut body = letter.body.clone();
    body.push_str("\n\n三方签字：\n");
    if sup.signatures.is_empty() {
        body.push_str("（尚无签字）\n");
    }
    for s in &sup.signatures {
        let party = Party::parse(&s.party).map(|p| p.label()).unwrap_or("");
        body.push_str(&format!(
            "{party}：{}，{}，{} 签名 {}\n",
            s.signer_name,
            beijing_time(&s.signed_at),
            s.algorithm,
            s.signature
        ));
    }
    body.push_str(&format!("\n{}", sup.validity));
    let pdf = certpdf::text_document(
        "督导责任书",
        &body,
        &format!("{} 文书摘要 SHA-256 {}", p.plan_no, letter.sha256),
    );
    Ok(crate::upload::send_bytes(
        &format!("督导责任书-{}.pdf", p.plan_no),
        "application/pdf",
        pdf,
    ))
}

async fn sign(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    ev::sign_letter(&state, &me, id).await?;
    Ok(Redirect::to(&format!("/plans/{id}/letter?msg=signed")).into_response())
}

async fn report_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    me.require(&[Role::Supervisor])?;
    let p = state.store.plan(&me.scope(), id).await?;
    Ok(render(&report_page(&state, &me, &p, None, String::new())))
}

#[derive(Template)]
#[template(path = "plan_report.html")]
struct ReportPage {
    layout: Layout,
    plan_id: i64,
    plan_no: String,
    error: Option<String>,
    body: String,
}

fn report_page(
    state: &AppState,
    me: &Authed,
    p: &store::Plan,
    error: Option<String>,
    body: String,
) -> ReportPage {
    ReportPage {
        layout: Layout::new(state, Some(me), "督导报告", "/plans"),
        plan_id: p.id,
        plan_no: p.plan_no.clone(),
        error,
        body,
    }
}

async fn report(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Result<Response, AppError> {
    me.require(&[Role::Supervisor])?;
    let p = state.store.plan(&me.scope(), id).await?;
    let parts = crate::upload::read_upload(mp, state.config.max_upload_bytes).await?;
    let body = crate::upload::text_field(&parts, "body").unwrap_or_default();
    let file = parts
        .into_iter()
        .find(|f| f.field == "attachment" && f.is_file() && !f.bytes.is_empty())
        .map(|f| UploadedFile {
            name: f.filename,
            content_type: String::new(),
            bytes: f.bytes,
        });
    match ev::file_report(&state, &me, id, &body, file.as_ref()).await {
        Ok(()) => Ok(Redirect::to(&format!("/plans/{id}?msg=done")).into_response()),
        Err(AppError::Invalid { message, .. }) | Err(AppError::Conflict(message)) => {
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &report_page(&state, &me, &p, Some(message), body),
            ))
        }
        Err(AppError::BadRequest(message)) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &report_page(&state, &me, &p, Some(message), body),
        )),
        Err(e) => Err(e),
    }
}

async fn candidates(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let p = state.store.plan(&me.scope(), id).await?;
    let page = state
        .store
        .list_candidates(p.id, q.q.as_deref(), PageRequest::new(q.page, None))
        .await?;
    let inst = me.role() == Role::Institution;
    let rows = page
        .items
        .iter()
        .map(|c| {
            let sc = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_else(|| "—".into());
            vec![
                Cell::new(&c.name),
                Cell::new(&c.id_type),
                Cell::link(
                    &c.id_masked,
                    format!("/plans/{id}/candidates/{}/id-number", c.id),
                )
                .class("mono"),
                Cell::new(&c.gender),
                Cell::new(c.level.to_string()),
                Cell::new(&c.dup_flag).class(if c.dup_flag.is_empty() { "" } else { "warn" }),
                Cell::new(sc(c.theory_score)),
                Cell::new(sc(c.skill_score)),
                Cell::new(sc(c.review_score)),
                match (inst, c.passed) {
                    (true, p) => Cell::link(
                        match p {
                            Some(true) => "合格",
                            Some(false) => "不合格",
                            None => "录入成绩",
                        },
                        format!("/plans/{id}/candidates/{}/score", c.id),
                    ),
                    (false, Some(true)) => Cell::new("合格"),
                    (false, Some(false)) => Cell::new("不合格"),
                    (false, None) => Cell::new("—"),
                },
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "考生与成绩", "/plans").with_flash(flash(q.msg.as_deref())),
        heading: format!("考生与成绩：{}", p.plan_no),
        intro: "证件号码已脱敏；点击可查看完整号码（每次查看均记入审计日志）。各科成绩≥60分为合格，综合评审仅适用于二级、一级。".into(),
        new_link: inst.then(|| (format!("/plans/{id}/candidates/import"), "新增/导入考生".to_string())),
        filters: vec![Field::text("q", "姓名或电话", q.q.clone().unwrap_or_default())],
        filter_action: format!("/plans/{id}/candidates"),
        headers: vec!["姓名", "证件类型", "证件号码", "性别", "等级", "重复提示", "理论", "技能", "综合评审", "结果"],
        rows,
        pager: Pager::from(&page),
        base: list_base(&format!("/plans/{id}/candidates"), &[("q", &q.q)]),
        empty: "尚无考生。",
        printable: true,
    }))
}

fn candidate_page(
    state: &AppState,
    me: &Authed,
    id: i64,
    f: &CandidateForm,
    error: Option<(String, String)>,
) -> FormPage {
    let mut fields = vec![
        Field::text("name", "姓名", &f.name).required(),
        Field::text("id_type", "证件类型", &f.id_type)
            .select(
                ev::ID_TYPES
                    .iter()
                    .map(|t| (t.to_string(), t.to_string()))
                    .collect(),
            )
            .required(),
        Field::text("id_number", "证件号码", &f.id_number).required(),
        Field::text("gender", "性别", &f.gender)
            .select(vec![("男".into(), "男".into()), ("女".into(), "女".into())])
            .required(),
        Field::text("education", "文化程度", &f.education),
        Field::text("source", "考生来源", &f.source),
        Field::text("phone", "联系电话", &f.phone).kind("tel"),
        Field::text("level", "申报等级", &f.level)
            .hint("1–5，须为本计划的等级")
            .required(),
    ];
    let mut top = None;
    if let Some((field, msg)) = error {
        top = attach_error(&mut fields, &field, msg);
    }
    FormPage {
        layout: Layout::new(state, Some(me), "新增考生", "/plans"),
        heading: "新增考生".into(),
        crumbs: vec![
            ("/plans".into(), "评价工作计划".into()),
            (format!("/plans/{id}/candidates"), "考生与成绩".into()),
        ],
        intro: String::new(),
        action: format!("/plans/{id}/candidates"),
        fields,
        error: top,
        submit: "保存",
        cancel: format!("/plans/{id}/candidates"),
        confirm: None,
    }
}

async fn candidate_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    state.store.plan(&me.scope(), id).await?;
    Ok(render(&candidate_page(
        &state,
        &me,
        id,
        &CandidateForm::default(),
        None,
    )))
}

async fn add_candidate(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<CandidateForm>,
) -> Result<Response, AppError> {
    match ev::add_candidate(&state, &me, id, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/plans/{id}/candidates?msg=saved")).into_response()),
        Err(e) => {
            let (status, err) = split_error(e)?;
            Ok(render_status(
                status,
                &candidate_page(&state, &me, id, &f, Some(err)),
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "plan_import.html")]
struct ImportPage {
    layout: Layout,
    plan_id: i64,
    plan_no: String,
    error: Option<String>,
    rows: Vec<ev::RowError>,
}

async fn import_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = state.store.plan(&me.scope(), id).await?;
    Ok(render(&ImportPage {
        layout: Layout::new(&state, Some(&me), "导入考生", "/plans"),
        plan_id: p.id,
        plan_no: p.plan_no,
        error: None,
        rows: vec![],
    }))
}

async fn read_upload(
    state: &AppState,
    mp: Multipart,
    field: &str,
) -> Result<UploadedFile, AppError> {
    let parts = crate::upload::read_upload(mp, state.config.max_upload_bytes).await?;
    let f = parts
        .into_iter()
        .find(|p| p.field == field && p.is_file() && !p.bytes.is_empty())
        .ok_or_else(|| AppError::invalid(field, "请选择要上传的文件"))?;
    Ok(UploadedFile {
        name: f.filename,
        content_type: String::new(),
        bytes: f.bytes,
    })
}

async fn import(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Result<Response, AppError> {
    let p = state.store.plan(&me.scope(), id).await?;
    let file = read_upload(&state, mp, "file").await?;
    let page = |error: Option<String>, rows: Vec<ev::RowError>| ImportPage {
        layout: Layout::new(&state, Some(&me), "导入考生", "/plans"),
        plan_id: p.id,
        plan_no: p.plan_no.clone(),
        error,
        rows,
    };
    match ev::start_candidate_import(&state, &me, id, &file.bytes).await {
        Ok(ImportStart::Done { .. }) => {
            Ok(Redirect::to(&format!("/plans/{id}/candidates?msg=imported")).into_response())
        }
        Ok(ImportStart::Failed(rows)) => {
            // Keep the report downloadable: store it as a finished job.
            let msg = format!(
                "发现{}处错误，全部数据未导入。请修正后重新上传。",
                rows.len()
            );
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(Some(msg), rows),
            ))
        }
        Ok(ImportStart::Background(job)) => {
            Ok(Redirect::to(&format!("/jobs/{job}")).into_response())
        }
        Err(AppError::Invalid { message, .. }) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(Some(message), vec![]),
        )),
        Err(e) => Err(e),
    }
}

async fn import_scores(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Result<Response, AppError> {
    let p = state.store.plan(&me.scope(), id).await?;
    let file = read_upload(&state, mp, "file").await?;
    let page = |error: String, rows: Vec<ev::RowError>| ImportPage {
        layout: Layout::new(&state, Some(&me), "导入成绩", "/plans"),
        plan_id: p.id,
        plan_no: p.plan_no.clone(),
        error: Some(error),
        rows,
    };
    match ev::import_scores(&state, &me, id, &file.bytes).await {
        Ok(Ok(_)) => Ok(Redirect::to(&format!("/plans/{id}/candidates?msg=saved")).into_response()),
        Ok(Err(rows)) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(format!("发现{}处错误，全部成绩未导入。", rows.len()), rows),
        )),
        Err(AppError::Invalid { message, .. }) | Err(AppError::Conflict(message)) => Ok(
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page(message, vec![])),
        ),
        Err(e) => Err(e),
    }
}

async fn full_id(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cid)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let p = state.store.plan(&me.scope(), id).await?;
    let n = state
        .store
        .candidate_id_number(&me.actor(), &me.scope(), cid)
        .await?;
    Ok(render(&DetailPage {
        layout: Layout::new(&state, Some(&me), "证件号码", "/plans"),
        heading: "完整证件号码".into(),
        crumbs: vec![(
            format!("/plans/{id}/candidates"),
            format!("考生与成绩：{}", p.plan_no),
        )],
        props: vec![("证件号码", n), ("说明", "本次查看已记入审计日志。".into())],
        links: vec![],
        buttons: vec![],
        sections: vec![],
    }))
}

fn score_page(
    state: &AppState,
    me: &Authed,
    id: i64,
    c: &store::Candidate,
    f: &ScoreForm,
    error: Option<(String, String)>,
) -> FormPage {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let mut fields = vec![
        Field::text("theory", "理论", v(&f.theory)).kind("number"),
        Field::text("skill", "技能", v(&f.skill)).kind("number"),
        Field::text("review", "综合评审", v(&f.review))
            .kind("number")
            .hint("仅二级、一级填写"),
    ];
    let mut top = None;
    if let Some((field, msg)) = error {
        let field = field.trim_end_matches("_score").to_string();
        top = attach_error(&mut fields, &field, msg);
    }
    FormPage {
        layout: Layout::new(state, Some(me), "录入成绩", "/plans"),
        heading: format!("录入成绩：{}（{}，{}级）", c.name, c.id_masked, c.level),
        crumbs: vec![(format!("/plans/{id}/candidates"), "考生与成绩".into())],
        intro: "百分制，各项≥60分为合格。".into(),
        action: format!("/plans/{id}/candidates/{}/score", c.id),
        fields,
        error: top,
        submit: "保存成绩",
        cancel: format!("/plans/{id}/candidates"),
        confirm: None,
    }
}

async fn score_form(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cid)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let p = state.store.plan(&me.scope(), id).await?;
    let c = state
        .store
        .all_candidates(p.id)
        .await?
        .into_iter()
        .find(|c| c.id == cid)
        .ok_or(AppError::NotFound)?;
    let s = |v: Option<i64>| v.map(|x| x.to_string());
    let f = ScoreForm {
        theory: s(c.theory_score),
        skill: s(c.skill_score),
        review: s(c.review_score),
    };
    Ok(render(&score_page(&state, &me, id, &c, &f, None)))
}

async fn score(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cid)): Path<(i64, i64)>,
    FormBody(f): FormBody<ScoreForm>,
) -> Result<Response, AppError> {
    match ev::save_score(&state, &me, id, cid, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/plans/{id}/candidates?msg=saved")).into_response()),
        Err(e) => {
            let (status, err) = split_error(e)?;
            let p = state.store.plan(&me.scope(), id).await?;
            let c = state
                .store
                .all_candidates(p.id)
                .await?
                .into_iter()
                .find(|c| c.id == cid)
                .ok_or(AppError::NotFound)?;
            Ok(render_status(
                status,
                &score_page(&state, &me, id, &c, &f, Some(err)),
            ))
        }
    }
}

async fn results_action(
    State(state): State<AppState>,
    me: Authed,
    Path((id, what)): Path<(i64, String)>,
    FormBody(f): FormBody<ActForm>,
) -> Result<Response, AppError> {
    let version = f.version.as_deref().and_then(|v| v.trim().parse().ok());
    match what.as_str() {
        "publish" => ev::publish_results(&state, &me, id, version).await?,
        "submit" => ev::submit_results(&state, &me, id, version).await?,
        _ => return Err(AppError::NotFound),
    };
    Ok(Redirect::to(&format!("/plans/{id}?msg=done")).into_response())
}

// -- electronic filing ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "efiling.html")]
struct EfilingPage {
    layout: Layout,
    status_label: String,
    may_upload: bool,
    file: Option<(String, String, String)>,
    reason: String,
    error: Option<String>,
}

async fn efiling_page(
    state: &AppState,
    me: &Authed,
    error: Option<String>,
    msg: Option<&str>,
) -> Result<EfilingPage, AppError> {
    me.require(&[Role::Institution])?;
    let inst = me.account.institution_id.ok_or_else(AppError::forbidden)?;
    let e = state.store.efiling(&me.scope(), inst).await?;
    let status = EfilingStatus::parse(e.as_ref().map(|e| e.status.as_str()).unwrap_or("missing"));
    Ok(EfilingPage {
        layout: Layout::new(state, Some(me), "电子备案", "/efiling").with_flash(flash(msg)),
        status_label: status.label().into(),
        may_upload: status != EfilingStatus::Confirmed && status != EfilingStatus::Submitted,
        file: e.as_ref().map(|e| {
            (
                e.file_name.clone(),
                format!("{} 字节", e.file_size),
                e.file_sha256.clone(),
            )
        }),
        reason: e.map(|e| e.review_reason).unwrap_or_default(),
        error,
    })
}

async fn efiling(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    Ok(render(
        &efiling_page(&state, &me, None, q.msg.as_deref()).await?,
    ))
}

async fn efiling_upload(
    State(state): State<AppState>,
    me: Authed,
    mp: Multipart,
) -> Result<Response, AppError> {
    let file = read_upload(&state, mp, "file").await;
    let r = match file {
        Ok(f) => ev::submit_efiling(&state, &me, "", &f).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(Redirect::to("/efiling?msg=uploaded").into_response()),
        Err(AppError::Invalid { message, .. }) | Err(AppError::BadRequest(message)) => {
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &efiling_page(&state, &me, Some(message), None).await?,
            ))
        }
        Err(e) => Err(e),
    }
}

async fn efilings(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    me.require(&[
        Role::District,
        Role::CityCenter,
        Role::CityDivision,
        Role::Admin,
    ])?;
    let page = state
        .store
        .list_efilings(
            &me.scope(),
            &EfilingFilter {
                q: q.q.clone(),
                status: q.status.clone(),
            },
            PageRequest::new(q.page, None),
        )
        .await?;
    let district = me.role() == Role::District;
    let mut rows = vec![];
    for e in &page.items {
        let mut r = vec![
            Cell::link(
                &e.institution_name,
                format!("/institutions/{}", e.institution_id),
            ),
            Cell::new(&e.file_name),
            Cell::new(&e.file_sha256[..16.min(e.file_sha256.len())]).class("mono"),
            Cell::new(opt_time(&e.submitted_at)),
            Cell::new(EfilingStatus::parse(&e.status).label()),
        ];
        r.push(if district && e.status == "submitted" {
            Cell::link(
                "确认 / 退回",
                format!("/efilings/{}/review", e.institution_id),
            )
        } else {
            Cell::new(&e.review_reason)
        });
        rows.push(r);
    }
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "电子备案", "/efilings").with_flash(flash(q.msg.as_deref())),
        heading: "机构电子备案".into(),
        intro: "二(二)：机构完成备案后在平台上传备案材料电子版，经区县确认后方可提交评价工作计划。确认：POST /efilings/{机构}/review。".into(),
        new_link: None,
        filters: vec![
            Field::text("q", "机构名称", q.q.clone().unwrap_or_default()),
            Field::text("status", "状态", q.status.clone().unwrap_or_default()).select(vec![
                (String::new(), "全部".into()),
                ("submitted".into(), "待区县确认".into()),
                ("confirmed".into(), "已完成".into()),
                ("returned".into(), "已退回".into()),
            ]),
        ],
        filter_action: "/efilings".into(),
        headers: vec!["机构", "文件", "摘要", "上传时间", "状态", "操作/理由"],
        rows,
        pager: Pager::from(&page),
        base: list_base("/efilings", &[("q", &q.q), ("status", &q.status)]),
        empty: "暂无电子备案。",
        printable: true,
    }))
}

#[derive(Deserialize)]
struct EfilingReviewForm {
    decision: String,
    version: i64,
    #[serde(default)]
    reason: String,
}

async fn efiling_review_form(
    State(state): State<AppState>,
    me: Authed,
    Path(inst): Path<i64>,
) -> Result<Response, AppError> {
    me.require(&[Role::District])?;
    let e = state
        .store
        .efiling(&me.scope(), inst)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(render(&FormPage {
        layout: Layout::new(&state, Some(&me), "确认电子备案", "/efilings"),
        heading: format!("确认电子备案：{}", e.institution_name),
        crumbs: vec![("/efilings".into(), "机构电子备案".into())],
        intro: format!(
            "文件：{}（{} 字节，SHA-256 {}）。下载核对：/efilings/{}/file",
            e.file_name, e.file_size, e.file_sha256, inst
        ),
        action: format!("/efilings/{inst}/review"),
        fields: vec![
            Field::text("decision", "审核意见", "confirm")
                .select(vec![
                    ("confirm".into(), "确认，完成电子备案".into()),
                    ("return".into(), "退回补正".into()),
                ])
                .required(),
            Field::text("reason", "理由（退回时必填）", "").kind("textarea"),
            Field::text("version", "", e.version.to_string()).kind("hidden"),
        ],
        error: None,
        submit: "提交",
        cancel: "/efilings".into(),
        confirm: Some("确认提交审核意见？".into()),
    }))
}

async fn efiling_file(
    State(state): State<AppState>,
    me: Authed,
    Path(inst): Path<i64>,
) -> Result<Response, AppError> {
    let e = state
        .store
        .efiling(&me.scope(), inst)
        .await?
        .ok_or(AppError::NotFound)?;
    let doc = e.document_id.ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/documents/{doc}")).into_response())
}

async fn efiling_review(
    State(state): State<AppState>,
    me: Authed,
    Path(inst): Path<i64>,
    FormBody(f): FormBody<EfilingReviewForm>,
) -> Result<Response, AppError> {
    ev::review_efiling(
        &state,
        &me,
        inst,
        f.version,
        f.decision == "confirm",
        &f.reason,
    )
    .await?;
    Ok(Redirect::to("/efilings?msg=done").into_response())
}

// -- public results ------------------------------------------------------------------------------

async fn public_results(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let page = state
        .store
        .list_plans(
            &domain::Scope::City,
            &PlanFilter {
                q: q.q.clone(),
                results_status: Some("publicised".into()),
                // An ended 公示 is never shown as running.
                results_publicity_on: Some(state.today()),
                ..Default::default()
            },
            PageRequest::new(q.page, None),
        )
        .await?;
    let rows = page
        .items
        .iter()
        .map(|p| {
            vec![
                Cell::link(&p.plan_no, format!("/public/results/{}", p.id)).class("mono"),
                Cell::new(&p.institution_name),
                Cell::new(format!("{} {}", p.occupation_code, p.occupation_name)),
                Cell::new(p.results_publicity_text().unwrap_or_default()),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, me.as_ref(), "评价结果公示", "/public/results"),
        heading: "评价结果公示".into(),
        intro: "评价结果公示5个工作日，个人信息已脱敏。对公示结果有异议的，请在公示期内向评价机构所在区县人社部门反映。".into(),
        new_link: None,
        filters: vec![Field::text("q", "机构或职业", q.q.clone().unwrap_or_default())],
        filter_action: "/public/results".into(),
        headers: vec!["计划编号", "评价机构", "职业（工种）", "公示期"],
        rows,
        pager: Pager::from(&page),
        base: list_base("/public/results", &[("q", &q.q)]),
        empty: "目前没有公示中的评价结果。",
        printable: true,
    }))
}

async fn public_result(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = state.store.plan(&domain::Scope::City, id).await?;
    if p.results_status != "publicised" {
        return Err(AppError::NotFound);
    }
    let rows = state.store.public_results(id).await?;
    let sc = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_else(|| "—".into());
    Ok(render(&DetailPage {
        layout: Layout::new(&state, me.as_ref(), "评价结果公示", "/public/results"),
        heading: format!("评价结果公示：{}", p.plan_no),
        crumbs: vec![("/public/results".into(), "评价结果公示".into())],
        props: vec![
            ("评价机构", p.institution_name.clone()),
            (
                "职业（工种）",
                format!("{} {}", p.occupation_code, p.occupation_name),
            ),
            ("评价时间", format!("{} 至 {}", p.start_date, p.end_date)),
            ("公示期", p.results_publicity_text().unwrap_or_default()),
        ],
        links: vec![],
        buttons: vec![],
        sections: vec![(
            "评价结果".into(),
            vec![
                "姓名",
                "证件号码",
                "等级",
                "理论",
                "技能",
                "综合评审",
                "结果",
            ],
            rows.iter()
                .map(|r| {
                    vec![
                        Cell::new(&r.name_masked),
                        Cell::new(&r.id_masked).class("mono"),
                        Cell::new(r.level.to_string()),
                        Cell::new(sc(r.theory_score)),
                        Cell::new(sc(r.skill_score)),
                        Cell::new(sc(r.review_score)),
                        Cell::new(if r.passed { "合格" } else { "不合格" }),
                    ]
                })
                .collect(),
        )],
    }))
}

// -- 回避: relations between supervisors and institutions (recorded by the city) ------------------

const CITY: &[Role] = &[Role::CityCenter, Role::CityDivision];

async fn relations(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    me.require(CITY)?;
    let page = state
        .store
        .list_relations(PageRequest::new(q.page, None), q.q.as_deref())
        .await?;
    let rows = page
        .items
        .iter()
        .map(|r| {
            vec![
                Cell::new(&r.supervisor_name),
                Cell::link(
                    &r.institution_name,
                    format!("/institutions/{}", r.institution_id),
                ),
                Cell::new(&r.kind),
                Cell::new(&r.note),
                Cell::new(beijing_time(&r.recorded_at)),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "督导回避关系", "/supervision/relations")
            .with_flash(flash(q.msg.as_deref())),
        heading: "督导回避关系".into(),
        intro: "督导人员不得督导与其存在亲属、师生、师徒或同事关系的机构；派遣时自动检查。".into(),
        new_link: Some(("/supervision/relations/new".into(), "登记关系".into())),
        filters: vec![Field::text(
            "q",
            "督导员、机构或关系",
            q.q.clone().unwrap_or_default(),
        )],
        filter_action: "/supervision/relations".into(),
        headers: vec!["督导员", "机构", "关系", "说明", "登记时间"],
        rows,
        pager: Pager::from(&page),
        base: list_base("/supervision/relations", &[("q", &q.q)]),
        empty: "尚未登记回避关系。",
        printable: true,
    }))
}

#[derive(Deserialize, Default)]
struct RelationForm {
    #[serde(default)]
    supervisor_id: String,
    #[serde(default)]
    institution_id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    note: String,
}

async fn relation_page(
    state: &AppState,
    me: &Authed,
    f: &RelationForm,
    error: Option<(String, String)>,
) -> Result<FormPage, AppError> {
    let sups = state
        .store
        .list_accounts(
            &me.scope(),
            &store::UserFilter {
                role: Some("supervisor".into()),
                ..Default::default()
            },
            PageRequest::new(Some(1), Some(200)),
        )
        .await?;
    let insts = state
        .store
        .list_institutions(
            &me.scope(),
            &store::InstitutionFilter::default(),
            PageRequest::new(Some(1), Some(200)),
        )
        .await?;
    let mut sup_opts = vec![(String::new(), "请选择".to_string())];
    sup_opts.extend(
        sups.items
            .iter()
            .map(|a| (a.id.to_string(), a.display_name.clone())),
    );
    let mut inst_opts = vec![(String::new(), "请选择".to_string())];
    inst_opts.extend(
        insts
            .items
            .iter()
            .map(|i| (i.id.to_string(), i.name.clone())),
    );
    let mut fields = vec![
        Field::text("supervisor_id", "督导员", &f.supervisor_id)
            .select(sup_opts)
            .required(),
        Field::text("institution_id", "机构", &f.institution_id)
            .select(inst_opts)
            .required(),
        Field::text("kind", "关系", &f.kind)
            .select(
                domain::plan::RELATION_KINDS
                    .iter()
                    .map(|k| (k.to_string(), k.to_string()))
                    .collect(),
            )
            .required(),
        Field::text("note", "说明", &f.note).kind("textarea"),
    ];
    let mut top = None;
    if let Some((field, msg)) = error {
        top = attach_error(&mut fields, &field, msg);
    }
    Ok(FormPage {
        layout: Layout::new(state, Some(me), "登记回避关系", "/supervision/relations"),
        heading: "登记回避关系".into(),
        crumbs: vec![("/supervision/relations".into(), "督导回避关系".into())],
        intro: String::new(),
        action: "/supervision/relations".into(),
        fields,
        error: top,
        submit: "登记",
        cancel: "/supervision/relations".into(),
        confirm: None,
    })
}

async fn relation_form(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    me.require(CITY)?;
    Ok(render(
        &relation_page(&state, &me, &RelationForm::default(), None).await?,
    ))
}

async fn add_relation(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<RelationForm>,
) -> Result<Response, AppError> {
    me.require(CITY)?;
    let result = async {
        let sup: i64 = f
            .supervisor_id
            .parse()
            .map_err(|_| AppError::invalid("supervisor_id", "请选择督导员"))?;
        let inst: i64 = f
            .institution_id
            .parse()
            .map_err(|_| AppError::invalid("institution_id", "请选择机构"))?;
        ev::record_relation(&state, &me, sup, inst, &f.kind, &f.note).await
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to("/supervision/relations?msg=created").into_response()),
        Err(e) => {
            let (status, err) = split_error(e)?;
            Ok(render_status(
                status,
                &relation_page(&state, &me, &f, Some(err)).await?,
            ))
        }
    }
}
