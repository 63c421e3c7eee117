//! Institutions (评价机构) within the officer's jurisdiction; an institution sees only itself.

use crate::routing::Routes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::institution::InstitutionKind;
use domain::Action;
use domain::{Role, Scope};
use serde::Deserialize;
use store::{Division, InstitutionFilter, PageRequest};

use super::kit::{attach_error, Cell, DetailPage, Field, FormPage, ListPage};
use super::{beijing_time, flash_text, list_base, render, render_status, Layout};
use crate::auth::Authed;
use crate::body::FormBody;
use crate::error::AppError;
use crate::forms::InstitutionForm;
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/institutions", Action::InstitutionView, list)
        .post("/institutions", Action::InstitutionRegister, create)
        .get("/institutions/new", Action::InstitutionRegister, new_form)
        .get("/institutions/{id}", Action::InstitutionView, show)
        .get(
            "/institutions/{id}/edit",
            Action::InstitutionEdit,
            edit_form,
        )
        .post("/institutions/{id}/edit", Action::InstitutionEdit, update)
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    district: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    page: Option<i64>,
    msg: Option<String>,
}

pub fn kind_options(with_all: bool) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = if with_all {
        vec![("".into(), "全部类型".into())]
    } else {
        vec![("".into(), "请选择".into())]
    };
    v.extend(
        InstitutionKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label().to_string())),
    );
    v
}

pub fn district_options(districts: &[Division], first: &str) -> Vec<(String, String)> {
    let mut v = vec![("".to_string(), first.to_string())];
    v.extend(districts.iter().map(|d| (d.code.clone(), d.name.clone())));
    v
}

async fn list(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    if let Scope::Institution(id) = me.scope() {
        return Ok(Redirect::to(&format!("/institutions/{id}")).into_response());
    }
    let filter = InstitutionFilter {
        q: q.q.clone(),
        district: q.district.clone(),
        kind: q.kind.clone(),
        filing_status: q.status.clone(),
        ..Default::default()
    };
    let page =
        crate::institutions::institutions(&state, &me, &filter, PageRequest::new(q.page, None))
            .await?;
    let districts = crate::reference::districts(&state, &me).await?;
    let mut filters = vec![Field::text(
        "q",
        "名称/信用代码/联系人",
        q.q.clone().unwrap_or_default(),
    )];
    if me.scope() == Scope::City {
        filters.push(
            Field::text(
                "district",
                "区县（市）",
                q.district.clone().unwrap_or_default(),
            )
            .select(district_options(&districts, "全部区县")),
        );
    }
    filters.push(
        Field::text("kind", "机构类型", q.kind.clone().unwrap_or_default())
            .select(kind_options(true)),
    );
    filters.push(
        Field::text("status", "备案状态", q.status.clone().unwrap_or_default()).select(
            [
                ("", "全部"),
                ("unfiled", "未备案"),
                ("filing", "备案办理中"),
                ("filed", "已备案"),
                ("revoked", "已撤销"),
            ]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        ),
    );
    let rows = page
        .items
        .iter()
        .map(|i| {
            vec![
                Cell::link(&i.name, format!("/institutions/{}", i.id)),
                Cell::new(&i.credit_code).class("mono"),
                Cell::new(i.kind.label()),
                Cell::new(&i.district_name),
                Cell::new(i.filing_status.label()),
                Cell::new(beijing_time(&i.updated_at)),
            ]
        })
        .collect();
    let base = list_base(
        "/institutions",
        &[
            ("q", &q.q),
            ("district", &q.district),
            ("kind", &q.kind),
            ("status", &q.status),
        ],
    );
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "评价机构", "/institutions")
            .with_flash(flash_text(q.msg.as_deref())),
        heading: "评价机构".into(),
        intro: if me.role() == Role::District {
            "本辖区（属地管理）的评价机构。".into()
        } else {
            "全市评价机构。".into()
        },
        new_link: me
            .can(Action::InstitutionRegister)
            .then(|| ("/institutions/new".to_string(), "登记机构".to_string())),
        filters,
        filter_action: "/institutions".into(),
        headers: vec![
            "机构名称",
            "统一社会信用代码",
            "类型",
            "属地",
            "备案状态",
            "更新时间",
        ],
        rows,
        pager: (&page).into(),
        base,
        empty: "可调整查询条件，或登记新的评价机构。",
        printable: true,
    }))
}

async fn show(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let crate::institutions::InstitutionSheet {
        institution: i,
        by_premises,
        accounts: users,
    } = crate::institutions::sheet(&state, &me, id).await?;
    let yuan = |n: i64| format!("{n} 元");
    let mut links = vec![];
    if me.can(Action::InstitutionEdit) {
        links.push((format!("/institutions/{id}/edit"), "修改信息".to_string()));
    }
    links.push((
        format!("/institutions/{id}/documents"),
        "机构材料".to_string(),
    ));
    if matches!(me.role(), Role::CityCenter | Role::CityDivision) {
        links.push((
            format!("/institutions/{id}/site-code"),
            "评价站点代码".to_string(),
        ));
    }
    let user_rows = users
        .iter()
        .map(|u| {
            let cell = if me.can(Action::UserView) {
                Cell::link(&u.username, format!("/users/{}", u.id))
            } else {
                Cell::new(&u.username)
            };
            vec![
                cell,
                Cell::new(&u.display_name),
                Cell::new(if u.active { "启用" } else { "停用" }),
            ]
        })
        .collect();
    let mut page = DetailPage {
        layout: Layout::new(&state, Some(&me), i.name.clone(), "/institutions")
            .with_flash(flash_text(q.msg.as_deref())),
        heading: i.name.clone(),
        crumbs: if me.role() == Role::Institution {
            vec![]
        } else {
            vec![("/institutions".into(), "评价机构".into())]
        },
        props: vec![
            ("统一社会信用代码", i.credit_code.clone()),
            ("机构类型", i.kind.label().to_string()),
            (
                "属地（管理区县）",
                // 二(一): registered address by default; premises after a move the city agreed to.
                if by_premises {
                    format!("{}（经市级同意，按经营场所所在地划归）", i.district_name)
                } else {
                    format!("{}（按注册地）", i.district_name)
                },
            ),
            (
                "独立法人",
                if i.legal_person { "是" } else { "否" }.to_string(),
            ),
            ("在册职工人数", format!("{} 人", i.employees)),
            ("注册资本", yuan(i.capital_yuan)),
            ("主营业务范围", i.business_scope.clone()),
            ("注册地址", i.reg_address.clone()),
            ("经营地址", i.biz_address.clone()),
            ("联系人", i.contact_name.clone()),
            ("联系电话", i.contact_phone.clone()),
            (
                "评价站点代码",
                i.site_code
                    .clone()
                    .unwrap_or_else(|| "未登记（市级录入后方可生成证书编号）".into()),
            ),
            ("备案状态", i.filing_status.label().to_string()),
            (
                "备案编号",
                i.filing_no.clone().unwrap_or_else(|| "—".into()),
            ),
            ("登记时间", beijing_time(&i.created_at)),
        ],
        links,
        buttons: vec![],
        sections: vec![("机构账号".into(), vec!["用户名", "名称", "状态"], user_rows)],
    };
    if me.role() == Role::Institution {
        page.layout
            .nav
            .iter_mut()
            .for_each(|n| n.active = n.href == "/institutions");
    }
    Ok(render(&page))
}

fn institution_fields(f: &InstitutionForm, districts: &[Division]) -> Vec<Field> {
    vec![
        Field::text("name", "机构名称", &f.name).required(),
        Field::text("credit_code", "统一社会信用代码", &f.credit_code)
            .required()
            .hint("18 位，按 GB 32100-2015 校验"),
        Field::text("kind", "机构类型", &f.kind)
            .select(kind_options(false))
            .required(),
        Field::text(
            "legal_person",
            "具有独立法人资格",
            if f.legal_person.is_some() { "on" } else { "" },
        )
        .kind("checkbox"),
        Field::text("employees", "在册职工人数", &f.employees).kind("number"),
        Field::text("capital_yuan", "注册资本（元）", &f.capital_yuan).kind("number"),
        Field::text("business_scope", "主营业务范围", &f.business_scope).kind("textarea"),
        Field::text("reg_address", "注册地址", &f.reg_address).required(),
        Field::text("reg_district", "注册地址所在区县（市）", &f.reg_district)
            .select(district_options(districts, "请选择"))
            .required()
            .hint("决定由哪个区县属地管理"),
        Field::text("biz_address", "经营地址", &f.biz_address),
        Field::text("biz_district", "经营地址所在区县（市）", &f.biz_district)
            .select(district_options(districts, "同注册地址")),
        Field::text("contact_name", "联系人", &f.contact_name),
        Field::text("contact_phone", "联系电话", &f.contact_phone).kind("tel"),
        Field::text("version", "", &f.version).kind("hidden"),
    ]
}

fn form_page(
    state: &AppState,
    me: &Authed,
    heading: String,
    action: String,
    cancel: String,
    f: &InstitutionForm,
    districts: &[Division],
    err: Option<(String, String)>,
) -> FormPage {
    let mut fields = institution_fields(f, districts);
    let error = err.and_then(|(field, msg)| attach_error(&mut fields, &field, msg));
    FormPage {
        layout: Layout::new(state, Some(me), heading.clone(), "/institutions"),
        heading,
        crumbs: vec![("/institutions".into(), "评价机构".into())],
        intro: String::new(),
        action,
        fields,
        error,
        submit: "保存",
        cancel,
        confirm: None,
    }
}

async fn new_form(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    let districts = crate::institutions::register_form(&state, &me).await?;
    let mut f = InstitutionForm::default();
    if let Some(d) = &me.account.district_code {
        f.reg_district = d.clone();
    }
    Ok(render(&form_page(
        &state,
        &me,
        "登记评价机构".into(),
        "/institutions".into(),
        "/institutions".into(),
        &f,
        &districts,
        None,
    )))
}

async fn create(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<InstitutionForm>,
) -> Result<Response, AppError> {
    match crate::institutions::register(&state, &me, &f).await {
        Ok(i) => Ok(Redirect::to(&format!("/institutions/{}?msg=created", i.id)).into_response()),
        Err(e) => {
            form_error(
                &state,
                &me,
                e,
                "登记评价机构".into(),
                "/institutions".into(),
                "/institutions".into(),
                &f,
            )
            .await
        }
    }
}

/// Show the form again with the error on its field; other errors pass through.
async fn form_error(
    state: &AppState,
    me: &Authed,
    e: AppError,
    heading: String,
    action: String,
    cancel: String,
    f: &InstitutionForm,
) -> Result<Response, AppError> {
    let (status, err) = match e {
        AppError::Invalid { field, message } => {
            (StatusCode::UNPROCESSABLE_ENTITY, (field, message))
        }
        AppError::Conflict(m) => (StatusCode::CONFLICT, (String::new(), m)),
        other => return Err(other),
    };
    let districts = crate::reference::districts(state, me).await?;
    Ok(render_status(
        status,
        &form_page(state, me, heading, action, cancel, f, &districts, Some(err)),
    ))
}

async fn edit_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (i, districts) = crate::institutions::edit_form(&state, &me, id).await?;
    let f = InstitutionForm::from(&i);
    Ok(render(&form_page(
        &state,
        &me,
        format!("修改：{}", i.name),
        format!("/institutions/{id}/edit"),
        format!("/institutions/{id}"),
        &f,
        &districts,
        None,
    )))
}

async fn update(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<InstitutionForm>,
) -> Result<Response, AppError> {
    match crate::institutions::update(&state, &me, id, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/institutions/{id}?msg=saved")).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            // The heading names the record as it is (the same read as the form's).
            let current = crate::institutions::institution(&state, &me, id).await?;
            form_error(
                &state,
                &me,
                e,
                format!("修改：{}", current.name),
                format!("/institutions/{id}/edit"),
                format!("/institutions/{id}"),
                &f,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
