//! The pages of the paper register (纸质档案登记): the list and the registration form.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::retention as dr;
use domain::{Action, Scope};
use serde::Deserialize;
use store::{PageRequest, PaperFilter};

use super::{district_options, flash};
use crate::auth::Authed;
use crate::body::FormBody;
use crate::error::AppError;
use crate::pages::kit::{attach_error, Cell, Field, FormPage, ListPage};
use crate::pages::{list_base, render, render_status, Layout, Pager};
use crate::retention::PaperForm;
use crate::AppState;

#[derive(Deserialize, Default)]
pub(super) struct PaperQuery {
    kind: Option<String>,
    q: Option<String>,
    district: Option<String>,
    page: Option<i64>,
    msg: Option<String>,
}

fn paper_kinds(all: &str) -> Vec<(String, String)> {
    let mut v = vec![(String::new(), all.to_string())];
    v.extend(
        dr::PaperKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label().to_string())),
    );
    v
}

pub(super) async fn paper_list(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<PaperQuery>,
) -> Result<Response, AppError> {
    let f = PaperFilter {
        kind: q.kind.clone().filter(|k| !k.is_empty()),
        q: q.q.clone(),
        district: q.district.clone(),
    };
    let page =
        crate::retention::list_paper(&state, &me, &f, PageRequest::new(q.page, None)).await?;
    let today = state.today();
    let city = me.scope() == Scope::City;
    let mut filters = vec![
        Field::text("kind", "档案类别", q.kind.clone().unwrap_or_default())
            .select(paper_kinds("全部类别")),
    ];
    if city {
        filters.push(
            Field::text(
                "district",
                "保管单位",
                q.district.clone().unwrap_or_default(),
            )
            .select(district_options(&state).await?),
        );
    }
    filters.push(Field::text(
        "q",
        "名称、存放地点或保管人",
        q.q.clone().unwrap_or_default(),
    ));
    let rows = page
        .items
        .iter()
        .map(|p| {
            vec![
                Cell::new(&p.kind_label),
                Cell::link(&p.title, format!("/retention/{}", p.record_id)),
                Cell::new(&p.keeper_name),
                Cell::new(&p.location),
                Cell::new(&p.custodian),
                Cell::new(&p.closed_on).class("nowrap"),
                Cell::new(&p.due_on).class("nowrap"),
                Cell::new(p.status_label(today)),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "纸质档案登记", "/paper-records")
            .with_flash(flash(q.msg.as_deref())),
        heading: "纸质档案登记".into(),
        intro: format!(
            "二(三)：纸质版材料保存{}年，自办结（归档）之日起算。登记档案名称、存放地点、保管人和办结日期后，平台计算保存期限，并与电子档案一同列入到期销毁清单。",
            state.policy.retention_paper_years.value
        ),
        new_link: me
            .can(Action::RetentionRegisterPaper)
            .then(|| ("/paper-records/new".to_string(), "登记纸质档案".to_string())),
        filters,
        filter_action: "/paper-records".into(),
        headers: vec![
            "类别", "档案名称", "保管单位", "存放地点", "保管人", "办结日期", "保存至", "状态",
        ],
        rows,
        pager: Pager::from(&page),
        base: list_base(
            "/paper-records",
            &[("kind", &q.kind), ("district", &q.district), ("q", &q.q)],
        ),
        empty: "尚未登记纸质档案。纸质材料办结归档后，请在此登记存放地点和保管人。",
        printable: true,
    }))
}

fn paper_page(state: &AppState, me: &Authed, f: &PaperForm, error: Option<AppError>) -> Response {
    let mut fields = vec![
        Field::text("kind", "档案类别", &f.kind)
            .select(paper_kinds("请选择"))
            .required(),
        Field::text("title", "档案名称（内容）", &f.title)
            .required()
            .hint("如：××机构初次备案纸质材料、评价工作计划 JH2026000001（纸质）"),
        Field::text("location", "存放地点", &f.location)
            .required()
            .hint("如：区人社局档案室 3 号柜第 2 层"),
        Field::text("custodian", "保管人", &f.custodian).required(),
        Field::text("closed_on", "办结（归档）日期", &f.closed_on)
            .kind("date")
            .required()
            .hint("保存期限自此日起算，不能晚于今天"),
        Field::text("note", "备注", &f.note).kind("textarea"),
    ];
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status());
    let top = error.and_then(|e| match e {
        AppError::Invalid { field, message } => attach_error(&mut fields, &field, message),
        other => Some(other.to_string()),
    });
    render_status(
        status,
        &FormPage {
            layout: Layout::new(state, Some(me), "登记纸质档案", "/paper-records"),
            heading: "登记纸质档案".into(),
            crumbs: vec![("/paper-records".into(), "纸质档案登记".into())],
            intro: format!(
                "{}保管的纸质档案。保存{}年（二(三) 纸质版材料保存三年），到期后经两方同意方可销毁。",
                if me.role().is_city_officer() {
                    "市级"
                } else {
                    "本区县"
                },
                state.policy.retention_paper_years.value
            ),
            action: "/paper-records/new".into(),
            fields,
            error: top,
            submit: "登记",
            cancel: "/paper-records".into(),
            confirm: None,
        },
    )
}

pub(super) async fn paper_form(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Response, AppError> {
    // A blank form: the route's gate (RetentionRegisterPaper) is its permission check.
    Ok(paper_page(&state, &me, &PaperForm::default(), None))
}

pub(super) async fn paper_post(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<PaperForm>,
) -> Result<Response, AppError> {
    match crate::retention::register_paper(&state, &me, &f).await {
        Ok(p) => Ok(Redirect::to(&format!("/retention/{}?msg=paper", p.record_id)).into_response()),
        Err(e) if e.status().is_client_error() => Ok(paper_page(&state, &me, &f, Some(e))),
        Err(e) => Err(e),
    }
}
