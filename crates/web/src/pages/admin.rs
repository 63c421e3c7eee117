//! Reference data kept by the platform admin (divisions, occupations, the working-day calendar),
//! API tokens, and the audit trail with its chain verification.

use crate::routing::Routes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use domain::calendar::{DayKind, YearSchedule};
use domain::Action;
use serde::Deserialize;
use store::{AuditFilter, Division, Occupation, OccupationFilter, PageRequest, UserFilter};

use super::kit::{attach_error, Cell, DetailPage, Field, FormPage, ListPage};
use super::{beijing_time, flash_text, list_base, render, render_status, Layout, Pager};
use crate::auth::Authed;
use crate::body::FormBody;
use crate::error::AppError;
use crate::AppState;

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
    me.may(Action::ReferenceManage)?;
    let all = state.store.divisions().await?;
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
    if !["district", "county", "county_city", "dev_zone", "city"].contains(&f.kind.as_str()) {
        return Err(AppError::invalid("kind", "请选择类别"));
    }
    Ok(Division {
        code,
        name,
        kind: f.kind.clone(),
        official_code: (!official.is_empty()).then(|| official.to_string()),
        sort,
        active: f.active.is_some(),
        version: 0,
    })
}

async fn division_new(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    me.may(Action::ReferenceManage)?;
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
    me.may(Action::ReferenceManage)?;
    let r = async {
        let d = division_from_form(&f, f.code.trim().to_string())?;
        state
            .store
            .save_division(&me.actor(), &d, None)
            .await
            .map_err(AppError::from)
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
    me.may(Action::ReferenceManage)?;
    let d = state.store.division(&code).await?;
    let f = DivisionForm {
        code: d.code.clone(),
        name: d.name.clone(),
        kind: d.kind.clone(),
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
    me.may(Action::ReferenceManage)?;
    state.store.division(&code).await?;
    let r = async {
        let d = division_from_form(&f, code.clone())?;
        let v: i64 = f
            .version
            .parse()
            .map_err(|_| AppError::invalid("version", "版本号无效"))?;
        state
            .store
            .save_division(&me.actor(), &d, Some(v))
            .await
            .map_err(AppError::from)
    }
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

#[derive(Deserialize, Default)]
struct OccQuery {
    q: Option<String>,
    kind: Option<String>,
    confirmed: Option<String>,
    page: Option<i64>,
    msg: Option<String>,
}

fn kind_label(k: &str) -> &'static str {
    if k == "special" {
        "专项职业能力"
    } else {
        "职业（工种）"
    }
}

async fn occupations(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<OccQuery>,
) -> Result<Response, AppError> {
    me.may(Action::ReferenceManage)?;
    let filter = OccupationFilter {
        q: q.q.clone(),
        kind: q.kind.clone(),
        confirmed: match q.confirmed.as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
    };
    let page = state
        .store
        .list_occupations(&filter, PageRequest::new(q.page, None))
        .await?;
    let rows = page
        .items
        .iter()
        .map(|o| {
            vec![
                Cell::link(&o.code, format!("/admin/occupations/{}", o.id)).class("mono"),
                Cell::new(&o.name),
                Cell::new(kind_label(&o.kind)),
                Cell::new(if o.levels.is_empty() {
                    "—".into()
                } else {
                    o.levels.clone()
                }),
                Cell::new(if o.confirmed {
                    "已核对"
                } else {
                    "待核对"
                }),
                Cell::new(if o.active { "启用" } else { "停用" }),
            ]
        })
        .collect();
    let opts = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "职业目录", "/admin/occupations").with_flash(flash_text(q.msg.as_deref())),
        heading: "职业目录".into(),
        intro: "国家职业分类大典（2022年版）职业（工种）及专项职业能力项目。标为“待核对”的条目须由管理员对照大典确认。".into(),
        new_link: Some(("/admin/occupations/new".into(), "新增条目".into())),
        filters: vec![
            Field::text("q", "代码或名称", q.q.clone().unwrap_or_default()),
            Field::text("kind", "类别", q.kind.clone().unwrap_or_default()).select(opts(&[("", "全部"), ("occupation", "职业（工种）"), ("special", "专项职业能力")])),
            Field::text("confirmed", "核对状态", q.confirmed.clone().unwrap_or_default()).select(opts(&[("", "全部"), ("yes", "已核对"), ("no", "待核对")])),
        ],
        filter_action: "/admin/occupations".into(),
        headers: vec!["代码", "名称", "类别", "等级", "核对", "状态"],
        rows,
        pager: (&page).into(),
        base: list_base("/admin/occupations", &[("q", &q.q), ("kind", &q.kind), ("confirmed", &q.confirmed)]),
        empty: "可调整查询条件。",
        printable: true,
    }))
}

#[derive(Deserialize, Default)]
struct OccForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    levels: String,
    confirmed: Option<String>,
    active: Option<String>,
    #[serde(default)]
    version: String,
}

fn occ_fields(f: &OccForm) -> Vec<Field> {
    vec![
        Field::text("kind", "类别", &f.kind).select(vec![
            ("occupation".into(), "职业（工种）".into()),
            ("special".into(), "专项职业能力".into()),
        ]),
        Field::text("code", "代码", &f.code)
            .required()
            .hint("职业代码格式如 4-03-02-01"),
        Field::text("name", "名称", &f.name).required(),
        Field::text("levels", "等级", &f.levels)
            .hint("如 5,4,3,2,1（五级至一级）；专项职业能力留空"),
        Field::text(
            "confirmed",
            "已对照大典核对",
            if f.confirmed.is_some() { "on" } else { "" },
        )
        .kind("checkbox"),
        Field::text("active", "启用", if f.active.is_some() { "on" } else { "" }).kind("checkbox"),
        Field::text("version", "", &f.version).kind("hidden"),
    ]
}

fn occupation_from_form(f: &OccForm, id: i64) -> Result<Occupation, AppError> {
    let name = domain::account::required_text("name", "名称", &f.name, 60)?;
    let code = f.code.trim().to_string();
    let kind = if f.kind == "special" {
        "special"
    } else {
        "occupation"
    };
    let levels = if kind == "occupation" {
        domain::occupation::OccupationCode::parse(&code)
            .map_err(|e| AppError::invalid("code", e.to_string()))?;
        let levels = domain::occupation::parse_levels(&f.levels)
            .map_err(|e| AppError::invalid("levels", e.to_string()))?;
        if levels.is_empty() {
            return Err(AppError::invalid("levels", "请填写该职业开展评价的等级"));
        }
        levels
            .iter()
            .map(|l| l.number().to_string())
            .collect::<Vec<_>>()
            .join(",")
    } else {
        if code.is_empty() || code.len() > 20 {
            return Err(AppError::invalid("code", "请填写项目代码（不超过 20 位）"));
        }
        String::new()
    };
    let version = if id == 0 {
        0
    } else {
        f.version
            .parse()
            .map_err(|_| AppError::invalid("version", "版本号无效"))?
    };
    Ok(Occupation {
        id,
        code,
        name,
        kind: kind.into(),
        levels,
        confirmed: f.confirmed.is_some(),
        active: f.active.is_some(),
        version,
    })
}

async fn occupation_new(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    me.may(Action::ReferenceManage)?;
    let f = OccForm {
        kind: "occupation".into(),
        levels: "5,4,3,2,1".into(),
        active: Some("on".into()),
        ..Default::default()
    };
    Ok(render(&form_frame(
        &state,
        &me,
        "新增职业目录条目".into(),
        vec![("/admin/occupations".into(), "职业目录".into())],
        "/admin/occupations/new".into(),
        "/admin/occupations",
        occ_fields(&f),
        None,
    )))
}

async fn occupation_save_new(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<OccForm>,
) -> Result<Response, AppError> {
    save_occupation(state, me, 0, f).await
}

async fn occupation_edit(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    me.may(Action::ReferenceManage)?;
    let o = state.store.occupation(id).await?;
    let f = OccForm {
        code: o.code.clone(),
        name: o.name.clone(),
        kind: o.kind.clone(),
        levels: o.levels.clone(),
        confirmed: o.confirmed.then(|| "on".into()),
        active: o.active.then(|| "on".into()),
        version: o.version.to_string(),
    };
    Ok(render(&form_frame(
        &state,
        &me,
        format!("修改：{} {}", o.code, o.name),
        vec![("/admin/occupations".into(), "职业目录".into())],
        format!("/admin/occupations/{id}"),
        "/admin/occupations",
        occ_fields(&f),
        None,
    )))
}

async fn occupation_save(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<OccForm>,
) -> Result<Response, AppError> {
    state.store.occupation(id).await?;
    save_occupation(state, me, id, f).await
}

async fn save_occupation(
    state: AppState,
    me: Authed,
    id: i64,
    f: OccForm,
) -> Result<Response, AppError> {
    me.may(Action::ReferenceManage)?;
    let r = async {
        let o = occupation_from_form(&f, id)?;
        state
            .store
            .save_occupation(&me.actor(), &o)
            .await
            .map_err(AppError::from)
    }
    .await;
    let action = if id == 0 {
        "/admin/occupations/new".to_string()
    } else {
        format!("/admin/occupations/{id}")
    };
    match r {
        Ok(_) => Ok(Redirect::to("/admin/occupations?msg=saved").into_response()),
        Err(e) => reshow(e, |err| {
            form_frame(
                &state,
                &me,
                "职业目录条目".into(),
                vec![("/admin/occupations".into(), "职业目录".into())],
                action,
                "/admin/occupations",
                occ_fields(&f),
                err,
            )
        }),
    }
}

// ---- calendar (工作日历) ----

#[derive(Deserialize, Default)]
struct CalQuery {
    year: Option<i64>,
    msg: Option<String>,
    error: Option<String>,
}

async fn calendar(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<CalQuery>,
) -> Result<Response, AppError> {
    me.may(Action::ReferenceManage)?;
    let years = state.store.calendar_years().await?;
    let year = q.year.or_else(|| years.last().map(|y| y.0)).unwrap_or(2026);
    let official = years.iter().any(|y| y.0 == year);
    let mut days = state.store.calendar_days(year).await?;
    if !official {
        // Show the provisional schedule the platform computes with until the official one is entered.
        if let Ok(p) = domain::calendar::provisional_year(year as i32) {
            days = p
                .days
                .values()
                .map(|d| store::CalendarDayRow {
                    day: d.date.to_string(),
                    kind: "off".into(),
                    name: d.name.clone(),
                })
                .collect();
        }
    }
    let rows = days
        .iter()
        .map(|d| {
            vec![
                Cell::new(&d.day).class("mono"),
                Cell::new(if d.kind == "work" {
                    "调休上班"
                } else {
                    "休息（节假日）"
                }),
                Cell::new(&d.name),
            ]
        })
        .collect();
    let mut props = vec![(
        "已录入年度",
        years
            .iter()
            .map(|y| y.0.to_string())
            .collect::<Vec<_>>()
            .join("、"),
    )];
    if let Some((_, src)) = years.iter().find(|y| y.0 == year) {
        props.push(("依据", src.clone()));
    } else {
        props.push((
            "状态",
            format!("{year} 年节假日安排尚未录入：暂按临时日历（《全国年节及纪念日放假办法》法定节假日、周末及补休）推算，涉及该年度的日期均标注“临时日历”。请在国务院办公厅发布通知后录入正式安排。"),
        ));
    }
    props.push((
        "说明",
        "周六、周日为休息日，列为“调休上班”的除外；列为节假日的日期休息。".into(),
    ));
    let links = years
        .iter()
        .map(|(y, _)| (format!("/admin/calendar?year={y}"), format!("{y} 年")))
        .collect();
    let mut page = DetailPage {
        layout: Layout::new(&state, Some(&me), "工作日历", "/admin/calendar")
            .with_flash(flash_text(q.msg.as_deref())),
        heading: format!("工作日历：{year} 年"),
        crumbs: vec![],
        props,
        links,
        buttons: vec![],
        sections: vec![(
            format!("{year} 年节假日与调休"),
            vec!["日期", "类别", "名称"],
            rows,
        )],
    };
    if let Some(e) = q.error {
        page.layout.flash = None;
        page.props.insert(0, ("错误", e));
    }
    Ok(render_calendar(page, year))
}

#[derive(askama::Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    layout: super::Layout,
    sheet: DetailPage,
    next_year: i64,
}

fn render_calendar(mut sheet: DetailPage, year: i64) -> Response {
    let layout = std::mem::replace(
        &mut sheet.layout,
        Layout {
            title: String::new(),
            user: None,
            nav: vec![],
            demo: false,
            flash: None,
            pinned_today: None,
        },
    );
    render(&CalendarPage {
        layout,
        sheet,
        next_year: year + 1,
    })
}

#[derive(Deserialize)]
struct DayForm {
    #[serde(default)]
    day: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

async fn calendar_day(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<DayForm>,
) -> Result<Response, AppError> {
    me.may(Action::ReferenceManage)?;
    let day = NaiveDate::parse_from_str(f.day.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("day", "日期格式应为 YYYY-MM-DD"))?;
    let kind = match f.kind.as_str() {
        "off" => Some(DayKind::Off),
        "work" => Some(DayKind::Work),
        "remove" => None,
        _ => return Err(AppError::invalid("kind", "请选择类别")),
    };
    use chrono::Datelike;
    if kind == Some(DayKind::Work) && day.weekday().number_from_monday() < 6 {
        return Err(AppError::invalid("kind", "调休上班日须为周六或周日"));
    }
    let name = f.name.trim().chars().take(30).collect::<String>();
    state
        .store
        .set_calendar_day(&me.actor(), day, kind, &name)
        .await?;
    Ok(Redirect::to(&format!("/admin/calendar?year={}&msg=saved", day.year())).into_response())
}

#[derive(Deserialize)]
struct YearForm {
    #[serde(default)]
    toml: String,
}

/// Add a year from the same TOML format as the shipped files (pasted or uploaded as text).
async fn calendar_year(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<YearForm>,
) -> Result<Response, AppError> {
    me.may(Action::ReferenceManage)?;
    let s = YearSchedule::from_toml(&f.toml)
        .map_err(|e| AppError::invalid("toml", format!("节假日安排格式有误：{e}")))?;
    state.store.add_calendar_year(&me.actor(), &s).await?;
    Ok(Redirect::to(&format!("/admin/calendar?year={}&msg=saved", s.year)).into_response())
}

// ---- API tokens (接口令牌) ----

#[derive(Deserialize, Default)]
struct TokenQuery {
    msg: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<store::ApiToken>,
    users: Vec<(String, String)>,
    new_token: Option<String>,
    error: Option<String>,
}

async fn tokens_page(
    state: &AppState,
    me: &Authed,
    new_token: Option<String>,
    error: Option<String>,
    flash: Option<String>,
) -> Result<TokensPage, AppError> {
    let accounts = state
        .store
        .list_accounts(
            &me.scope(),
            &UserFilter::default(),
            PageRequest::new(Some(1), Some(200)),
        )
        .await?;
    Ok(TokensPage {
        layout: Layout::new(state, Some(me), "接口令牌", "/admin/tokens").with_flash(flash),
        tokens: state.store.list_api_tokens().await?,
        users: accounts
            .items
            .iter()
            .map(|a| {
                (
                    a.id.to_string(),
                    format!("{}（{}）", a.username, a.role.label()),
                )
            })
            .collect(),
        new_token,
        error,
    })
}

async fn tokens(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    me.may(Action::TokenManage)?;
    Ok(render(
        &tokens_page(&state, &me, None, None, flash_text(q.msg.as_deref())).await?,
    ))
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    days: String,
}

async fn token_issue(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<TokenForm>,
) -> Result<Response, AppError> {
    me.may(Action::TokenManage)?;
    let r = async {
        let user_id: i64 = f
            .user_id
            .parse()
            .map_err(|_| AppError::invalid("user_id", "请选择令牌代表的账号"))?;
        let valid_days = match f.days.trim() {
            "" => None,
            d => Some(
                d.parse::<i64>()
                    .map_err(|_| AppError::invalid("days", "有效天数须为 1–3650 的整数"))?,
            ),
        };
        let req = crate::api::account::TokenRequest {
            name: f.name.clone(),
            user_id,
            role: None,
            district: None,
            valid_days,
        };
        Ok::<_, AppError>(
            crate::api::account::issue_token(&state, &me, &req, false)
                .await?
                .token,
        )
    }
    .await;
    match r {
        Ok(token) => Ok(render(
            &tokens_page(&state, &me, Some(token), None, None).await?,
        )),
        Err(AppError::Invalid { message, .. }) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &tokens_page(&state, &me, None, Some(message), None).await?,
        )),
        Err(e) => Err(e),
    }
}

async fn token_revoke(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    me.may(Action::TokenManage)?;
    state.store.revoke_api_token(&me.actor(), id).await?;
    Ok(Redirect::to("/admin/tokens?msg=revoked").into_response())
}

// ---- audit (审计日志) ----

#[derive(Deserialize, Default)]
struct AuditQuery {
    q: Option<String>,
    action: Option<String>,
    object_type: Option<String>,
    object_id: Option<String>,
    page: Option<i64>,
    verify: Option<String>,
}

async fn audit(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    me.may(Action::AuditRead)?;
    let filter = AuditFilter {
        q: q.q.clone(),
        action: q.action.clone(),
        object_type: q.object_type.clone(),
        object_id: q.object_id.clone(),
    };
    let page = state
        .store
        .db
        .list_audit(&filter, PageRequest::new(q.page, Some(50)))
        .await?;
    let intro = if q.verify.is_some() {
        match state.store.db.verify_audit_chain().await? {
            Ok(r) => format!(
                "审计链校验通过：共 {} 条，链头哈希 {}。",
                r.entries,
                &r.head[..16]
            ),
            Err(b) => format!("审计链校验失败：{b}"),
        }
    } else {
        "每条记录含上一条的哈希值，任何修改、删除或插入都会使校验失败。".into()
    };
    let rows = page
        .items
        .iter()
        .map(|e| {
            vec![
                Cell::new(e.seq.to_string()).class("num"),
                Cell::new(beijing_time(&e.at)),
                Cell::new(format!("{}（{}）", e.actor, e.role)),
                Cell::new(&e.action).class("mono"),
                Cell::new(format!("{} {}", e.object_type, e.object_id)),
                Cell::new(&e.summary).class("mono"),
                Cell::new(&e.client_addr),
                Cell::new(&e.hash[..12]).class("mono"),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "审计日志", "/audit"),
        heading: "审计日志".into(),
        intro,
        new_link: Some(("/audit?verify=1".into(), "校验审计链".into())),
        filters: vec![
            Field::text("q", "操作人/动作/内容", q.q.clone().unwrap_or_default()),
            Field::text("action", "动作", q.action.clone().unwrap_or_default()),
            Field::text(
                "object_type",
                "对象类型",
                q.object_type.clone().unwrap_or_default(),
            ),
            Field::text(
                "object_id",
                "对象编号",
                q.object_id.clone().unwrap_or_default(),
            ),
        ],
        filter_action: "/audit".into(),
        headers: vec![
            "序号",
            "时间",
            "操作人",
            "动作",
            "对象",
            "摘要",
            "来源地址",
            "哈希",
        ],
        rows,
        pager: (&page).into(),
        base: list_base(
            "/audit",
            &[
                ("q", &q.q),
                ("action", &q.action),
                ("object_type", &q.object_type),
                ("object_id", &q.object_id),
            ],
        ),
        empty: "没有符合条件的审计记录。",
        printable: true,
    }))
}
