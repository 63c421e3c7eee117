//! 二(二) "机构完成备案后，需在技能人才评价服务平台上注册评价机构账号": a filed institution
//! registers its own account (public page and API) with its credit code, its 备案编号 and a
//! contact phone; the account cannot log in until its district confirms the link to the
//! institution record. No admin is involved.

use crate::routing::guard;
use crate::routing::Routes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use domain::credit_code::CreditCode;
use domain::outreach::{registration_mismatch, validate_phone};
use domain::Action;
use domain::Role;
use serde::Deserialize;
use serde_json::json;
use store::{Actor, NewRegistration, PageRequest, Registration};

use crate::auth::{Authed, MaybeAuthed};
use crate::body::{FormBody, JsonBody};
use crate::error::AppError;
use crate::evaluation::refused;
use crate::pages::kit::{ActionButton, Cell, DetailPage, Field, FormPage, ListPage};
use crate::pages::{beijing_time, list_base, render, render_status, Layout, Pager};
use crate::AppState;

/// The self-registration form (page and API). `Debug` hides the password.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RegistrationForm {
    #[serde(default)]
    pub credit_code: String,
    /// 备案编号, e.g. 郑人社评备〔2026〕00001号.
    #[serde(default)]
    pub filing_no: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
}

impl std::fmt::Debug for RegistrationForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationForm")
            .field("credit_code", &self.credit_code)
            .field("filing_no", &self.filing_no)
            .field("contact_name", &self.contact_name)
            .field("contact_phone", &self.contact_phone)
            .field("username", &self.username)
            .field("password", &store::HIDDEN)
            .finish()
    }
}

/// Anyone may register; the account stays inactive until the district confirms.
pub async fn register(
    state: &AppState,
    actor_meta: Option<&Authed>,
    f: &RegistrationForm,
) -> Result<Registration, AppError> {
    let username = f.username.trim();
    domain::account::validate_username(username)?;
    domain::account::validate_password(username, &f.password)?;
    let code = CreditCode::parse(&f.credit_code)
        .map_err(|e| AppError::invalid("credit_code", e.to_string()))?;
    let filing_no = f.filing_no.trim();
    if filing_no.is_empty() {
        return Err(AppError::invalid("filing_no", "请填写备案编号"));
    }
    let contact_name =
        domain::account::required_text("contact_name", "联系人", &f.contact_name, 40)?;
    validate_phone("contact_phone", &f.contact_phone)?;
    let (institution_id, _) = state
        .store
        .filed_institution_by_codes(code.as_str(), filing_no)
        .await?
        .ok_or_else(|| refused(registration_mismatch()))?;
    let pending = state
        .store
        .list_registrations(
            &domain::Scope::Institution(institution_id),
            Some("pending"),
            PageRequest::new(Some(1), Some(1)),
        )
        .await?;
    if pending.total > 0 {
        return Err(AppError::Conflict(
            "该机构已有待区县确认的注册申请，请等待区县人社部门确认".into(),
        ));
    }
    let inst = state
        .store
        .institution(&domain::Scope::City, institution_id)
        .await?;
    let actor = actor_meta.map(|a| a.actor()).unwrap_or_else(|| Actor {
        user_id: None,
        username: format!("register:{username}"),
        role: "visitor".into(),
        request_id: String::new(),
        client_addr: String::new(),
    });
    Ok(state
        .store
        .register_institution(
            &actor,
            &NewRegistration {
                institution_id,
                username: username.to_string(),
                display_name: inst.name,
                password: f.password.clone(),
                credit_code: code.as_str().to_string(),
                filing_no: filing_no.to_string(),
                contact_name,
                contact_phone: f.contact_phone.trim().to_string(),
            },
        )
        .await?)
}

/// The district confirms the link (the account may log in) or refuses it with a reason.
pub async fn decide(
    state: &AppState,
    me: &Authed,
    id: i64,
    version: Option<i64>,
    confirm: bool,
    reason: &str,
) -> Result<Registration, AppError> {
    me.may(Action::RegistrationDecide)?;
    let r = state.store.registration(&me.scope(), id).await?;
    if r.status != domain::institution::RegistrationStatus::Pending {
        return Err(AppError::Conflict(format!(
            "该注册申请已处理（{}）",
            r.status.label()
        )));
    }
    let reason = reason.trim();
    if !confirm && reason.is_empty() {
        return Err(AppError::invalid("reason", "请填写不予确认的理由"));
    }
    Ok(state
        .store
        .decide_registration(
            &me.actor(),
            &me.scope(),
            id,
            version.unwrap_or(r.version),
            confirm,
            reason,
        )
        .await?)
}

/// 机构账号注册申请列表: the registrations of the caller's area, by status.
pub async fn registrations(
    state: &AppState,
    me: &Authed,
    status: Option<&str>,
    page: PageRequest,
) -> Result<store::Page<Registration>, AppError> {
    me.may(Action::RegistrationView)?;
    Ok(state
        .store
        .list_registrations(&me.scope(), status, page)
        .await?)
}

/// 机构账号注册申请: one registration, if the caller's scope covers it.
pub async fn registration(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<Registration, AppError> {
    me.may(Action::RegistrationView)?;
    Ok(state.store.registration(&me.scope(), id).await?)
}

/// 不予确认: the registration the district is about to refuse (its form and its error path).
pub async fn registration_to_decide(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<Registration, AppError> {
    me.may(Action::RegistrationDecide)?;
    Ok(state.store.registration(&me.scope(), id).await?)
}

// ---------------------------------------------------------------------------------------------
// Pages and API

pub fn router() -> Routes {
    Routes::new()
        .get("/register", Action::PublicView, register_form)
        .post("/register", Action::PublicView, register_page)
        .get("/registrations", Action::RegistrationView, list_page)
        .get("/registrations/{id}", Action::RegistrationView, detail_page)
        .get(
            "/registrations/{id}/refuse",
            Action::RegistrationDecide,
            refuse_form,
        )
        .post(
            "/registrations/{id}/refuse",
            Action::RegistrationDecide,
            refuse_page,
        )
        .post(
            "/registrations/{id}/confirm",
            Action::RegistrationDecide,
            confirm_page,
        )
}

/// The OpenAPI paths of this module (merged into `/api/openapi.json`).
/// `/api/v1/registrations…`: registered with their OpenAPI operations (see `api::v1`).
pub fn api_routes() -> crate::api::ApiRouter {
    use utoipa_axum::routes;
    crate::api::ApiRouter::new()
        .routes(guard(Action::RegistrationView, routes!(api_list)))
        .routes(guard(Action::PublicView, routes!(api_register)))
        .routes(guard(Action::RegistrationDecide, routes!(api_decide)))
}

fn form_page(
    state: &AppState,
    me: Option<&Authed>,
    f: &RegistrationForm,
    error: Option<(String, String)>,
) -> FormPage {
    let mut fields = vec![
        Field::text("credit_code", "统一社会信用代码", &f.credit_code).required(),
        Field::text("filing_no", "备案编号", &f.filing_no)
            .required()
            .hint("备案通过后取得，如 郑人社评备〔2026〕00001号"),
        Field::text("contact_name", "联系人", &f.contact_name).required(),
        Field::text("contact_phone", "联系电话", &f.contact_phone)
            .kind("tel")
            .required(),
        Field::text("username", "用户名", &f.username)
            .required()
            .hint("3–40 位小写字母、数字、“-”“_”或“.”"),
        Field::text("password", "密码", "")
            .kind("password")
            .required()
            .hint("至少10位，包含字母、数字、符号中的至少两类"),
    ];
    let mut form_error = None;
    if let Some((field, message)) = error {
        match fields.iter_mut().find(|x| x.name == field) {
            Some(x) => x.error = Some(message),
            None => form_error = Some(message),
        }
    }
    FormPage {
        layout: Layout::new(state, me, "评价机构账号注册", "/register"),
        heading: "评价机构账号注册".into(),
        crumbs: vec![],
        intro: "依据郑人社办〔2022〕87号 二(二)：机构完成备案后，需在技能人才评价服务平台上注册评价机构账号并上传备案材料电子版完成电子备案。注册后须经属地区县（市）人社部门确认，确认后方可登录。".into(),
        action: "/register".into(),
        fields,
        error: form_error,
        submit: "提交注册",
        cancel: "/".into(),
        confirm: None,
    }
}

async fn register_form(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
) -> Result<Response, AppError> {
    Ok(render(&form_page(
        &state,
        me.as_ref(),
        &RegistrationForm::default(),
        None,
    )))
}

async fn register_page(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
    FormBody(f): FormBody<RegistrationForm>,
) -> Result<Response, AppError> {
    match register(&state, me.as_ref(), &f).await {
        Ok(r) => Ok(render(&DetailPage {
            layout: Layout::new(&state, me.as_ref(), "注册已提交", "/register"),
            heading: "注册已提交，待区县确认".into(),
            crumbs: vec![],
            props: vec![
                ("评价机构", r.institution_name.clone()),
                ("备案编号", r.filing_no.clone()),
                ("用户名", r.username.clone()),
                ("状态", r.status.label().into()),
            ],
            links: vec![("/login".into(), "返回登录".into())],
            buttons: vec![],
            sections: vec![],
        })),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            let status = if matches!(e, AppError::Conflict(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let err = match e {
                AppError::Invalid { field, message } => (field, message),
                other => (String::new(), other.to_string()),
            };
            Ok(render_status(
                status,
                &form_page(&state, me.as_ref(), &f, Some(err)),
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    status: Option<String>,
    page: Option<i64>,
    msg: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let page = registrations(
        &state,
        &me,
        q.status.as_deref(),
        PageRequest::new(q.page, None),
    )
    .await?;
    let rows = page
        .items
        .iter()
        .map(|r| {
            vec![
                Cell::link(&r.institution_name, format!("/registrations/{}", r.id)),
                Cell::new(&r.filing_no),
                Cell::new(&r.username),
                Cell::new(format!("{} {}", r.contact_name, r.contact_phone)),
                Cell::new(beijing_time(&r.created_at)),
                Cell::new(r.status.label()),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "机构账号注册", "/registrations").with_flash(
            match q.msg.as_deref() {
                Some("confirmed") => Some("已确认，机构账号可以登录。".into()),
                Some("refused") => Some("已不予确认。".into()),
                _ => None,
            },
        ),
        heading: "评价机构账号注册确认".into(),
        intro: "二(二)：已备案机构自行注册评价机构账号；请核对统一社会信用代码、备案编号与联系人后确认。确认前账号不能登录。".into(),
        new_link: None,
        filters: vec![Field::text("status", "状态", q.status.clone().unwrap_or_default()).select(vec![
            (String::new(), "全部".into()),
            ("pending".into(), "待区县确认".into()),
            ("confirmed".into(), "已确认".into()),
            ("refused".into(), "未确认".into()),
        ])],
        filter_action: "/registrations".into(),
        headers: vec!["评价机构", "备案编号", "用户名", "联系人", "注册时间", "状态"],
        rows,
        pager: Pager::from(&page),
        base: list_base("/registrations", &[("status", &q.status)]),
        empty: "尚无注册申请。",
        printable: false,
    }))
}

async fn detail_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let r = registration(&state, &me, id).await?;
    let pending =
        r.status == domain::institution::RegistrationStatus::Pending && me.role() == Role::District;
    Ok(render(&DetailPage {
        layout: Layout::new(&state, Some(&me), "机构账号注册", "/registrations"),
        heading: format!("账号注册：{}", r.institution_name),
        crumbs: vec![("/registrations".into(), "机构账号注册".into())],
        props: vec![
            ("评价机构", r.institution_name.clone()),
            ("统一社会信用代码", r.credit_code.clone()),
            ("备案编号", r.filing_no.clone()),
            ("联系人", r.contact_name.clone()),
            ("联系电话", r.contact_phone.clone()),
            ("用户名", r.username.clone()),
            ("注册时间", beijing_time(&r.created_at)),
            ("状态", r.status.label().into()),
            ("理由", r.reason.clone()),
        ],
        links: if pending {
            vec![
                (
                    format!("/institutions/{}", r.institution_id),
                    "核对机构信息".into(),
                ),
                (format!("/registrations/{id}/refuse"), "不予确认".into()),
            ]
        } else {
            vec![(
                format!("/institutions/{}", r.institution_id),
                "机构信息".into(),
            )]
        },
        buttons: if pending {
            vec![ActionButton {
                action: format!("/registrations/{id}/confirm"),
                label: "确认关联本机构",
                danger: false,
                confirm: Some("确认该账号属于本机构？确认后账号即可登录。".into()),
                hidden: vec![("version", r.version.to_string())],
            }]
        } else {
            vec![]
        },
        sections: vec![],
    }))
}

#[derive(Deserialize, Default)]
struct DecisionForm {
    version: Option<String>,
    #[serde(default)]
    reason: String,
}

async fn confirm_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<DecisionForm>,
) -> Result<Response, AppError> {
    let version = f.version.as_deref().and_then(|v| v.trim().parse().ok());
    decide(&state, &me, id, version, true, &f.reason).await?;
    Ok(Redirect::to("/registrations?msg=confirmed").into_response())
}

fn refuse_form_page(
    state: &AppState,
    me: &Authed,
    r: &Registration,
    error: Option<String>,
) -> FormPage {
    let mut reason = Field::text("reason", "理由", "")
        .kind("textarea")
        .required();
    reason.error = error;
    FormPage {
        layout: Layout::new(state, Some(me), "不予确认", "/registrations"),
        heading: format!("不予确认：{}", r.institution_name),
        crumbs: vec![("/registrations".into(), "机构账号注册".into())],
        intro: "理由将记入审计记录。".into(),
        action: format!("/registrations/{}/refuse", r.id),
        fields: vec![
            reason,
            Field::text("version", "", r.version.to_string()).kind("hidden"),
        ],
        error: None,
        submit: "不予确认",
        cancel: format!("/registrations/{}", r.id),
        confirm: None,
    }
}

async fn refuse_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let r = registration_to_decide(&state, &me, id).await?;
    Ok(render(&refuse_form_page(&state, &me, &r, None)))
}

async fn refuse_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<DecisionForm>,
) -> Result<Response, AppError> {
    let version = f.version.as_deref().and_then(|v| v.trim().parse().ok());
    match decide(&state, &me, id, version, false, &f.reason).await {
        Ok(_) => Ok(Redirect::to("/registrations?msg=refused").into_response()),
        Err(AppError::Invalid { message, .. }) => {
            let r = registration_to_decide(&state, &me, id).await?;
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &refuse_form_page(&state, &me, &r, Some(message)),
            ))
        }
        Err(e) => Err(e),
    }
}

#[utoipa::path(post, path = "/api/v1/registrations", tag = "机构账号注册", operation_id = "registration_register", request_body = RegistrationForm, responses((status = 201, body = crate::api::schema::Object, description = "{registration}：待区县确认，确认前不能登录"), (status = 409, description = "已有待确认的注册"), (status = 422, description = "代码与备案编号不符（二(二)）或字段有误")))]
async fn api_register(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
    JsonBody(f): JsonBody<RegistrationForm>,
) -> Result<Response, AppError> {
    let r = register(&state, me.as_ref(), &f).await?;
    Ok((StatusCode::CREATED, Json(json!({ "registration": r }))).into_response())
}

#[utoipa::path(get, path = "/api/v1/registrations", tag = "机构账号注册", operation_id = "registration_list", params(("status" = Option<String>, Query, description = "pending|confirmed|refused"), ("page" = Option<i64>, Query)), responses((status = 200, body = crate::api::schema::Object, description = "{items, total}")))]
async fn api_list(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let p = registrations(
        &state,
        &me,
        q.status.as_deref(),
        PageRequest::new(q.page, None),
    )
    .await?;
    Ok(Json(json!({ "items": p.items, "total": p.total })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct DecisionBody {
    /// confirm | refuse
    decision: String,
    version: Option<i64>,
    #[serde(default)]
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/registrations/{id}/decision", tag = "机构账号注册", operation_id = "registration_decide", params(("id" = i64, Path)), request_body = DecisionBody, responses((status = 200, body = crate::api::schema::Object, description = "{registration}"), (status = 403, description = "仅区县"), (status = 404, description = "不在本区县"), (status = 409, description = "已处理或版本冲突")))]
async fn api_decide(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<DecisionBody>,
) -> Result<Response, AppError> {
    let confirm = match b.decision.as_str() {
        "confirm" => true,
        "refuse" => false,
        _ => {
            return Err(AppError::invalid(
                "decision",
                "decision 应为 confirm 或 refuse",
            ));
        }
    };
    let r = decide(&state, &me, id, b.version, confirm, &b.reason).await?;
    Ok(Json(json!({ "registration": r })).into_response())
}

/// The district's work queue: registrations waiting for confirmation.
pub(crate) fn queue_items(pending: Vec<store::QueueRegistration>) -> Vec<crate::queue::WorkItem> {
    pending
        .into_iter()
        .map(|r| crate::queue::WorkItem {
            title: format!("{} 注册评价机构账号待确认", r.institution_name),
            detail: format!(
                "备案编号 {}，用户名 {}。依据 二(二)，确认后该账号方可登录。",
                r.filing_no, r.username
            ),
            href: format!("/registrations/{}", r.id),
            since: Some(r.created_at),
            waited: None,
        })
        .collect()
}
