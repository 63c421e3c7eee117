//! Home, login/logout, the dashboard with its work queue, and password change.

use crate::routing::Routes;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::Action;
use serde::Deserialize;

use super::{flash_text, render, render_status, Layout};
use crate::auth::{Authed, MaybeAuthed, RequestMeta, SESSION_COOKIE};
use crate::body::FormBody;
use crate::error::AppError;
use crate::queue::WorkItem;
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/", Action::PublicView, home)
        .get("/login", Action::PublicView, login_form)
        .post("/login", Action::PublicView, login)
        .post("/logout", Action::PublicView, logout)
        .get("/dashboard", Action::OwnAccount, dashboard)
        .get("/account/password", Action::OwnAccount, password_form)
        .post("/account/password", Action::OwnAccount, change_password)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    rules: Vec<domain::policy::RuleView>,
    logged_in: bool,
}

async fn home(State(state): State<AppState>, MaybeAuthed(me): MaybeAuthed) -> Response {
    let rules = state.policy.rules().into_iter().take(6).collect();
    render(&HomePage {
        layout: Layout::new(&state, me.as_ref(), "首页", "/"),
        rules,
        logged_in: me.is_some(),
    })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    error: Option<String>,
    username: String,
}

#[derive(Deserialize)]
struct MsgQuery {
    msg: Option<String>,
}

async fn login_form(State(state): State<AppState>, Query(q): Query<MsgQuery>) -> Response {
    render(&LoginPage {
        layout: Layout::new(&state, None, "登录", "/login")
            .with_flash(flash_text(q.msg.as_deref())),
        error: None,
        username: String::new(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// The session cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS.
pub fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .expect("cookie is ASCII")
}

pub use crate::accounts::login as attempt_login;

async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    FormBody(form): FormBody<LoginForm>,
) -> Response {
    match attempt_login(&state, &meta, &form.username, &form.password).await {
        Ok((_, token)) => {
            let mut r = Redirect::to("/dashboard").into_response();
            r.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&state, &token, state.config.session_hours * 3600),
            );
            r
        }
        Err(e) => {
            let status = e.status();
            let message = match e {
                AppError::Unauthorized => "用户名或密码错误".to_string(),
                other => other.to_string(),
            };
            render_status(
                status,
                &LoginPage {
                    layout: Layout::new(&state, None, "登录", "/login"),
                    error: Some(message),
                    username: form.username,
                },
            )
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
) -> Result<Response, AppError> {
    if let Some(me) = &me {
        crate::accounts::logout(&state, me).await?;
    }
    let mut r = Redirect::to("/login?msg=loggedout").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0));
    Ok(r)
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    greeting: String,
    role_label: &'static str,
    district_name: Option<String>,
    queue: Vec<WorkItem>,
    institution_count: i64,
    account_count: i64,
    today: String,
    /// (title, detail) of the missing-calendar warning, for the admin and the city.
    calendar_warning: Option<(String, String)>,
}

async fn dashboard(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    let crate::workbench::Workbench {
        queue,
        institution_count,
        account_count,
        district_name,
        calendar_warning,
    } = crate::workbench::workbench(&state, &me).await?;
    Ok(render(&DashboardPage {
        layout: Layout::new(&state, Some(&me), "工作台", "/dashboard"),
        greeting: me.account.display_name.clone(),
        role_label: me.role().label(),
        district_name,
        queue,
        institution_count,
        account_count,
        today: state.today().format("%Y年%m月%d日").to_string(),
        calendar_warning,
    }))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: Layout,
    error: Option<(String, String)>,
}

async fn password_form(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<MsgQuery>,
) -> Response {
    render(&PasswordPage {
        layout: Layout::new(&state, Some(&me), "修改密码", "")
            .with_flash(flash_text(q.msg.as_deref())),
        error: None,
    })
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<PasswordForm>,
) -> Result<Response, AppError> {
    let input = crate::accounts::PasswordChange {
        current: f.current.clone(),
        new_password: f.new_password.clone(),
        confirm: Some(f.confirm.clone()),
    };
    if let Err(e) = crate::accounts::change_password(&state, &me, &input).await {
        let AppError::Invalid { field, message } = e else {
            return Err(e);
        };
        return Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &PasswordPage {
                layout: Layout::new(&state, Some(&me), "修改密码", ""),
                error: Some((field, message)),
            },
        ));
    }
    Ok(Redirect::to("/account/password?msg=password").into_response())
}
