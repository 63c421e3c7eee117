//! Accounts: the city center creates district accounts (二(一)); the admin creates the others.
//! Officers see the accounts of their jurisdiction only.

use crate::routing::Routes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::Action;
use domain::Role;
use serde::Deserialize;
use store::{PageRequest, UserFilter};

use super::kit::{attach_error, ActionButton, Cell, DetailPage, Field, FormPage, ListPage};
use super::{beijing_time, flash_text, list_base, render, render_status, Layout};
use crate::auth::Authed;
use crate::body::FormBody;
use crate::error::AppError;
use crate::AppState;

pub use crate::accounts::UserForm;

pub fn router() -> Routes {
    Routes::new()
        .get("/users", Action::UserView, list)
        .post("/users", Action::UserCreate, create)
        .get("/users/new", Action::UserCreate, new_form)
        .get("/users/{id}", Action::UserView, show)
        .get(
            "/users/{id}/reset-password",
            Action::UserResetPassword,
            reset_form,
        )
        .post(
            "/users/{id}/reset-password",
            Action::UserResetPassword,
            reset_password,
        )
        .post("/users/{id}/state", Action::UserChangeState, change_state)
}

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    role: Option<String>,
    district: Option<String>,
    page: Option<i64>,
    msg: Option<String>,
}

fn role_options(roles: impl Iterator<Item = Role>, first: &str) -> Vec<(String, String)> {
    let mut v = vec![("".to_string(), first.to_string())];
    v.extend(roles.map(|r| (r.as_str().to_string(), r.label().to_string())));
    v
}

async fn list(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let filter = UserFilter {
        q: q.q.clone(),
        role: q.role.clone(),
        district: q.district.clone(),
        ..Default::default()
    };
    let page = crate::accounts::users(&state, &me, &filter, PageRequest::new(q.page, None)).await?;
    let districts = crate::reference::divisions(&state, &me).await?;
    let district_name = |code: &Option<String>| {
        code.as_ref()
            .and_then(|c| districts.iter().find(|d| &d.code == c))
            .map(|d| d.name.clone())
            .unwrap_or_else(|| "—".into())
    };
    let rows = page
        .items
        .iter()
        .map(|u| {
            let status = if !u.active {
                Cell::new("停用").class("muted")
            } else if u.is_locked() {
                Cell::new("已锁定")
            } else {
                Cell::new("正常")
            };
            vec![
                Cell::link(&u.username, format!("/users/{}", u.id)),
                Cell::new(&u.display_name),
                Cell::new(u.role.label()),
                Cell::new(district_name(&u.district_code)),
                status,
                Cell::new(beijing_time(&u.created_at)),
            ]
        })
        .collect();
    let may_create = Role::ALL.iter().any(|r| me.role().may_create(*r));
    let mut filters = vec![
        Field::text("q", "用户名/名称/单位", q.q.clone().unwrap_or_default()),
        Field::text("role", "角色", q.role.clone().unwrap_or_default())
            .select(role_options(Role::ALL.into_iter(), "全部角色")),
    ];
    if me.role() != Role::District {
        filters.push(
            Field::text(
                "district",
                "区县（市）",
                q.district.clone().unwrap_or_default(),
            )
            .select(super::institutions::district_options(
                &crate::reference::districts(&state, &me).await?,
                "全部",
            )),
        );
    }
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "用户账号", "/users")
            .with_flash(flash_text(q.msg.as_deref())),
        heading: "用户账号".into(),
        intro: match me.role() {
            Role::CityCenter => "依据 二(一)，市职业技能鉴定中心为各区县分配平台账号。".into(),
            Role::District => "本辖区的账号（只读）。如需新增或重置，请联系平台管理员。".into(),
            _ => String::new(),
        },
        new_link: may_create.then(|| ("/users/new".to_string(), "新建账号".to_string())),
        filters,
        filter_action: "/users".into(),
        headers: vec!["用户名", "名称", "角色", "区县（市）", "状态", "创建时间"],
        rows,
        pager: (&page).into(),
        base: list_base(
            "/users",
            &[("q", &q.q), ("role", &q.role), ("district", &q.district)],
        ),
        empty: "可调整查询条件。",
        printable: true,
    }))
}

async fn user_form_page(
    state: &AppState,
    me: &Authed,
    f: &UserForm,
    err: Option<(String, String)>,
) -> Result<FormPage, AppError> {
    let (districts, institutions) = crate::accounts::account_form_choices(state, me).await?;
    let mut inst_options = vec![("".to_string(), "（仅机构账号需要）".to_string())];
    inst_options.extend(
        institutions
            .iter()
            .map(|i| (i.id.to_string(), i.name.clone())),
    );
    let mut fields = vec![
        Field::text("role", "角色", &f.role)
            .select(role_options(
                Role::ALL.into_iter().filter(|r| me.role().may_create(*r)),
                "请选择",
            ))
            .required(),
        Field::text("username", "用户名", &f.username)
            .required()
            .hint("3–40 位小写字母、数字、“-”“_”“.”，如 district-410105"),
        Field::text("display_name", "名称", &f.display_name)
            .required()
            .hint("单位或姓名，显示在页面右上角"),
        Field::text("district", "所属区县（市）", &f.district).select(
            super::institutions::district_options(&districts, "（区县账号、区县督导员需要）"),
        ),
        Field::text("institution", "所属评价机构", &f.institution).select(inst_options),
        Field::text("employer", "工作单位", &f.employer).hint("专家与督导员填写，用于回避"),
        Field::text("phone", "联系电话", &f.phone).kind("tel"),
        Field::text("password", "初始密码", "")
            .kind("password")
            .required()
            .hint("至少 10 位；用户首次登录后须修改"),
    ];
    let error = err.and_then(|(field, msg)| attach_error(&mut fields, &field, msg));
    Ok(FormPage {
        layout: Layout::new(state, Some(me), "新建账号", "/users"),
        heading: "新建账号".into(),
        crumbs: vec![("/users".into(), "用户账号".into())],
        intro: if me.role() == Role::CityCenter {
            "依据 二(一)，由市职业技能鉴定中心为区县人社部门分配平台账号。".into()
        } else {
            String::new()
        },
        action: "/users".into(),
        fields,
        error,
        submit: "创建账号",
        cancel: "/users".into(),
        confirm: None,
    })
}

async fn new_form(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<UserForm>,
) -> Result<Response, AppError> {
    Ok(render(&user_form_page(&state, &me, &q, None).await?))
}

async fn create(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<UserForm>,
) -> Result<Response, AppError> {
    match crate::accounts::create_account(&state, &me, &f).await {
        Ok(a) => Ok(Redirect::to(&format!("/users/{}?msg=created", a.id)).into_response()),
        Err(AppError::Invalid { field, message }) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &user_form_page(&state, &me, &f, Some((field, message))).await?,
        )),
        Err(AppError::Conflict(m)) => Ok(render_status(
            StatusCode::CONFLICT,
            &user_form_page(&state, &me, &f, Some(("username".into(), m))).await?,
        )),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct MsgQuery {
    msg: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let u = crate::accounts::user(&state, &me, id).await?;
    let district = match &u.district_code {
        Some(c) => crate::reference::divisions(&state, &me)
            .await?
            .into_iter()
            .find(|d| &d.code == c)
            .map(|d| d.name)
            .unwrap_or_default(),
        None => "—".into(),
    };
    let mut buttons = vec![];
    if crate::accounts::may_change_state(&me, &u) {
        buttons.push(ActionButton {
            action: format!("/users/{id}/state"),
            label: if u.active {
                "停用账号"
            } else {
                "启用账号"
            },
            danger: u.active,
            confirm: Some(if u.active {
                format!("确认停用账号 {}？其所有会话将立即结束。", u.username)
            } else {
                format!("确认启用账号 {}？", u.username)
            }),
            hidden: vec![
                ("version", u.version.to_string()),
                ("active", (!u.active).to_string()),
            ],
        });
        if u.is_locked() {
            buttons.push(ActionButton {
                action: format!("/users/{id}/state"),
                label: "解除锁定",
                danger: false,
                confirm: None,
                hidden: vec![
                    ("version", u.version.to_string()),
                    ("unlock", "true".into()),
                ],
            });
        }
    }
    let mut links = vec![];
    if me.role() == Role::Admin && me.account.id != u.id {
        links.push((
            format!("/users/{id}/reset-password"),
            "重置密码".to_string(),
        ));
    }
    let page = DetailPage {
        layout: Layout::new(&state, Some(&me), u.username.clone(), "/users")
            .with_flash(flash_text(q.msg.as_deref())),
        heading: format!("账号：{}", u.username),
        crumbs: vec![("/users".into(), "用户账号".into())],
        props: vec![
            ("用户名", u.username.clone()),
            ("名称", u.display_name.clone()),
            ("角色", u.role.label().to_string()),
            ("所属区县（市）", district),
            (
                "所属机构",
                u.institution_id
                    .map(|i| format!("#{i}"))
                    .unwrap_or_else(|| "—".into()),
            ),
            (
                "工作单位",
                if u.employer.is_empty() {
                    "—".into()
                } else {
                    u.employer.clone()
                },
            ),
            (
                "状态",
                if !u.active {
                    "停用".into()
                } else if u.is_locked() {
                    format!(
                        "锁定至 {}",
                        beijing_time(u.locked_until.as_deref().unwrap_or(""))
                    )
                } else {
                    "正常".into()
                },
            ),
            (
                "须修改密码",
                if u.must_change_password { "是" } else { "否" }.to_string(),
            ),
            ("创建时间", beijing_time(&u.created_at)),
        ],
        links,
        buttons,
        sections: vec![],
    };
    Ok(render(&page))
}

#[derive(Deserialize)]
struct StateForm {
    version: String,
    active: Option<String>,
    unlock: Option<String>,
}

async fn change_state(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<StateForm>,
) -> Result<Response, AppError> {
    let active = f.active.as_deref().map(|v| v == "true");
    let unlock = f.unlock.as_deref() == Some("true");
    crate::accounts::set_account_state(&state, &me, id, &f.version, active, unlock).await?;
    let msg = match (active, unlock) {
        (Some(true), _) => "activated",
        (Some(false), _) => "deactivated",
        _ => "unlocked",
    };
    Ok(Redirect::to(&format!("/users/{id}?msg={msg}")).into_response())
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    password: String,
}

fn reset_page(
    state: &AppState,
    me: &Authed,
    u: &store::Account,
    error: Option<String>,
) -> FormPage {
    let mut fields = vec![Field::text("password", "新的初始密码", "")
        .kind("password")
        .required()
        .hint("至少 10 位；用户下次登录后须修改")];
    fields[0].error = error;
    FormPage {
        layout: Layout::new(state, Some(me), "重置密码", "/users"),
        heading: format!("重置密码：{}", u.username),
        crumbs: vec![
            ("/users".into(), "用户账号".into()),
            (format!("/users/{}", u.id), u.username.clone()),
        ],
        intro: "重置后，该用户的所有登录会话立即结束。".into(),
        action: format!("/users/{}/reset-password", u.id),
        fields,
        error: None,
        submit: "重置密码",
        cancel: format!("/users/{}", u.id),
        confirm: Some(format!("确认重置 {} 的密码？", u.username)),
    }
}

async fn reset_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let u = crate::accounts::account_to_reset(&state, &me, id).await?;
    Ok(render(&reset_page(&state, &me, &u, None)))
}

async fn reset_password(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ResetForm>,
) -> Result<Response, AppError> {
    if let Err(e) = crate::accounts::reset_password(&state, &me, id, &f.password).await {
        let AppError::Invalid { message, .. } = e else {
            return Err(e);
        };
        let u = crate::accounts::account_to_reset(&state, &me, id).await?;
        return Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &reset_page(&state, &me, &u, Some(message)),
        ));
    }
    Ok(Redirect::to(&format!("/users/{id}?msg=reset")).into_response())
}
