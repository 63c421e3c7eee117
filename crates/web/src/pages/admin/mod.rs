//! Reference data kept by the platform admin (divisions, occupations, the working-day calendar),
//! API tokens, and the audit trail with its chain verification.

use crate::routing::Routes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use domain::Action;
use serde::Deserialize;
use store::{AuditFilter, Division, Occupation, OccupationFilter, PageRequest, UserFilter};

use super::kit::{attach_error, Cell, DetailPage, Field, FormPage, ListPage};
use super::{beijing_time, flash_text, list_base, render, render_status, Layout, Pager};
use crate::auth::Authed;
use crate::body::FormBody;
use crate::error::AppError;
use crate::AppState;

mod audit;
mod calendar;
mod occupations;
mod tokens;
use audit::*;
use calendar::*;
use occupations::*;
use tokens::*;

pub fn router() -> Routes {
    Routes::new()
        .get("/admin/divisions", Action::ReferenceManage, divisions)
        .get(
            "/admin/divisions/new",
            Action::ReferenceManage,
            division_new,
        )
        .post(
            "/admin/divisions/new",
            Action::ReferenceManage,
            division_create,
        )
        .get(
            "/admin/divisions/{code}",
            Action::ReferenceManage,
            division_edit,
        )
        .post(
            "/admin/divisions/{code}",
            Action::ReferenceManage,
            division_update,
        )
        .get("/admin/occupations", Action::ReferenceManage, occupations)
        .get(
            "/admin/occupations/new",
            Action::ReferenceManage,
            occupation_new,
        )
        .post(
            "/admin/occupations/new",
            Action::ReferenceManage,
            occupation_save_new,
        )
        .get(
            "/admin/occupations/{id}",
            Action::ReferenceManage,
            occupation_edit,
        )
        .post(
            "/admin/occupations/{id}",
            Action::ReferenceManage,
            occupation_save,
        )
        .get("/admin/calendar", Action::ReferenceManage, calendar)
        .post("/admin/calendar/day", Action::ReferenceManage, calendar_day)
        .post(
            "/admin/calendar/year",
            Action::ReferenceManage,
            calendar_year,
        )
        .get("/admin/tokens", Action::TokenManage, tokens)
        .post("/admin/tokens", Action::TokenManage, token_issue)
        .post(
            "/admin/tokens/{id}/revoke",
            Action::TokenManage,
            token_revoke,
        )
        .get("/audit", Action::AuditRead, audit)
}

#[derive(Deserialize, Default)]
struct MsgQuery {
    msg: Option<String>,
}

fn form_frame(
    state: &AppState,
    me: &Authed,
    heading: String,
    crumbs: Vec<(String, String)>,
    action: String,
    cancel: &str,
    mut fields: Vec<Field>,
    err: Option<(String, String)>,
) -> FormPage {
    let error = err.and_then(|(f, m)| attach_error(&mut fields, &f, m));
    FormPage {
        layout: Layout::new(
            state,
            Some(me),
            heading.clone(),
            crumbs.first().map(|c| c.0.as_str()).unwrap_or(""),
        ),
        heading,
        crumbs,
        intro: String::new(),
        action,
        fields,
        error,
        submit: "保存",
        cancel: cancel.into(),
        confirm: None,
    }
}

fn reshow(
    e: AppError,
    page: impl FnOnce(Option<(String, String)>) -> FormPage,
) -> Result<Response, AppError> {
    match e {
        AppError::Invalid { field, message } => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(Some((field, message))),
        )),
        AppError::Conflict(m) => Ok(render_status(
            StatusCode::CONFLICT,
            &page(Some((String::new(), m))),
        )),
        AppError::BadRequest(m) => Ok(render_status(
            StatusCode::BAD_REQUEST,
            &page(Some((String::new(), m))),
        )),
        other => Err(other),
    }
}

// ---- divisions (行政区划) ----

async fn divisions(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let all = crate::reference::divisions(&state, &me).await?;
    let rows = all
        .iter()
        .map(|d| {
            vec![
                Cell::link(&d.code, format!("/admin/divisions/{}", d.code)).class("mono"),
                Cell::new(&d.name),
                Cell::new(d.kind_label()),
                Cell::new(
                    d.official_code
                        .clone()
                        .unwrap_or_else(|| "（无官方代码）".into()),
                ),
                Cell::new(if d.active { "启用" } else { "停用" }),
            ]
        })
        .collect();
    let total = all.len() as i64;
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "行政区划", "/admin/divisions")
            .with_flash(flash_text(q.msg.as_deref())),
        heading: "行政区划".into(),
        intro: "郑州市辖区、县（市）与开发区。郑东新区无官方区划代码，使用内部代码。".into(),
        new_link: Some(("/admin/divisions/new".into(), "新增区划".into())),
        filters: vec![],
        filter_action: "/admin/divisions".into(),
        headers: vec!["代码", "名称", "类别", "官方代码", "状态"],
        rows,
        pager: Pager {
            total,
            page: 1,
            pages: 1,
        },
        base: "/admin/divisions?".into(),
        empty: "尚未载入区划数据。",
        printable: true,
    }))
}

#[derive(Deserialize, Default)]
struct DivisionForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    official_code: String,
    #[serde(default)]
    sort: String,
    active: Option<String>,
    #[serde(default)]
    version: String,
}

fn division_fields(f: &DivisionForm, new: bool) -> Vec<Field> {
    let kinds = [
        ("district", "市辖区"),
        ("county", "县"),
        ("county_city", "县级市"),
        ("dev_zone", "开发区"),
        ("city", "市"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let mut v = vec![];
    if new {
        v.push(
            Field::text("code", "代码", &f.code)
                .required()
                .hint("官方区划代码，或无官方代码时的内部代码（小写字母）"),
        );
    }
    v.extend([
        Field::text("name", "名称", &f.name).required(),
        Field::text("kind", "类别", &f.kind).select(kinds),
        Field::text("official_code", "官方代码", &f.official_code)
            .hint("民政部或统计用区划代码；没有则留空"),
        Field::text("sort", "排序", &f.sort).kind("number"),
        Field::text("active", "启用", if f.active.is_some() { "on" } else { "" }).kind("checkbox"),
        Field::text("version", "", &f.version).kind("hidden"),
    ]);
    v
}

fn division_from_form(f: &DivisionForm, code: String) -> Result<Division, AppError> {
    let name = domain::account::required_text("name", "名称", &f.name, 40)?;
    if !code
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        || code.is_empty()
        || code.len() > 12
    {
        return Err(AppError::invalid("code", "代码须为 1–12 位数字或小写字母"));
    }
    let official = f.official_code.trim();
    if !official.is_empty()
        && !(official.len() == 6 && official.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(AppError::invalid("official_code", "官方代码须为 6 位数字"));
    }
    let sort = if f.sort.trim().is_empty() {
        0
    } else {
        f.sort
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("sort", "排序须为整数"))?
    };
    let Some(kind) = domain::reference::DivisionKind::parse(&f.kind) else {
        return Err(AppError::invalid("kind", "请选择类别"));
    };
    Ok(Division {
        code,
        name,
        kind,
        official_code: (!official.is_empty()).then(|| official.to_string()),
        sort,
        active: f.active.is_some(),
        version: 0,
    })
}

/// A blank form: the route's gate (`reference.manage`) is the check; nothing is loaded.
async fn division_new(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    let f = DivisionForm {
        active: Some("on".into()),
        kind: "district".into(),
        ..Default::default()
    };
    Ok(render(&form_frame(
        &state,
        &me,
        "新增区划".into(),
        vec![("/admin/divisions".into(), "行政区划".into())],
        "/admin/divisions/new".into(),
        "/admin/divisions",
        division_fields(&f, true),
        None,
    )))
}

async fn division_create(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<DivisionForm>,
) -> Result<Response, AppError> {
    let r = async {
        let d = division_from_form(&f, f.code.trim().to_string())?;
        crate::reference::add_division(&state, &me, &d).await
    }
    .await;
    match r {
        Ok(()) => Ok(Redirect::to("/admin/divisions?msg=created").into_response()),
        Err(e) => reshow(e, |err| {
            form_frame(
                &state,
                &me,
                "新增区划".into(),
                vec![("/admin/divisions".into(), "行政区划".into())],
                "/admin/divisions/new".into(),
                "/admin/divisions",
                division_fields(&f, true),
                err,
            )
        }),
    }
}

async fn division_edit(
    State(state): State<AppState>,
    me: Authed,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let d = crate::reference::division(&state, &me, &code).await?;
    let f = DivisionForm {
        code: d.code.clone(),
        name: d.name.clone(),
        kind: d.kind.as_str().into(),
        official_code: d.official_code.clone().unwrap_or_default(),
        sort: d.sort.to_string(),
        active: d.active.then(|| "on".into()),
        version: d.version.to_string(),
    };
    Ok(render(&form_frame(
        &state,
        &me,
        format!("修改区划：{}", d.name),
        vec![("/admin/divisions".into(), "行政区划".into())],
        format!("/admin/divisions/{code}"),
        "/admin/divisions",
        division_fields(&f, false),
        None,
    )))
}

async fn division_update(
    State(state): State<AppState>,
    me: Authed,
    Path(code): Path<String>,
    FormBody(f): FormBody<DivisionForm>,
) -> Result<Response, AppError> {
    let r = crate::reference::update_division(&state, &me, &code, || {
        let d = division_from_form(&f, code.clone())?;
        let v: i64 = f
            .version
            .parse()
            .map_err(|_| AppError::invalid("version", "版本号无效"))?;
        Ok((d, v))
    })
    .await;
    match r {
        Ok(()) => Ok(Redirect::to("/admin/divisions?msg=saved").into_response()),
        Err(e) => reshow(e, |err| {
            form_frame(
                &state,
                &me,
                "修改区划".into(),
                vec![("/admin/divisions".into(), "行政区划".into())],
                format!("/admin/divisions/{code}"),
                "/admin/divisions",
                division_fields(&f, false),
                err,
            )
        }),
    }
}

// ---- occupations (职业目录) ----
