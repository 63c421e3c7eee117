//! The JSON API under `/api/v1`, its OpenAPI document and a viewer that needs no download.

pub mod account;
pub mod public;
pub mod schema;

use crate::routing::guard;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::Action;
use domain::Role;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{InstitutionFilter, OccupationFilter, PageRequest, UserFilter};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::accounts::UserForm;
use crate::auth::{Authed, RequestMeta};
use crate::body::JsonBody;
use crate::error::AppError;
use crate::forms::InstitutionForm;
use crate::AppState;
use schema::Security;

/// Every `/api/v1` route with its OpenAPI operation: the router and the document are built from
/// this one list (utoipa-axum's `routes!` reads each handler's `#[utoipa::path]`), so a route
/// cannot exist undocumented. Areas contribute their own lists.
pub type ApiRouter = OpenApiRouter<AppState>;

/// Upload routes lift the 2 MB body limit (see `upload`).
pub fn with_upload_limit(
    (schemas, paths, method): UtoipaMethodRouter<AppState>,
) -> UtoipaMethodRouter<AppState> {
    (
        schemas,
        paths,
        method.layer(crate::upload::upload_limit_layer()),
    )
}

/// The whole `/api/v1` surface.
pub fn v1() -> ApiRouter {
    ApiRouter::with_openapi(ApiDoc::openapi())
        .routes(guard(Action::PublicView, routes!(login)))
        .routes(guard(Action::PublicView, routes!(logout)))
        .routes(guard(Action::OwnAccount, routes!(session)))
        .routes(guard(Action::OwnAccount, routes!(me)))
        .routes(guard(Action::InstitutionView, routes!(list_institutions)))
        .routes(guard(
            Action::InstitutionRegister,
            routes!(create_institution),
        ))
        .routes(guard(Action::InstitutionView, routes!(get_institution)))
        .routes(guard(Action::InstitutionEdit, routes!(update_institution)))
        .routes(guard(Action::UserView, routes!(list_users)))
        .routes(guard(Action::UserCreate, routes!(create_user)))
        .routes(guard(Action::UserView, routes!(get_user)))
        .routes(guard(Action::ReferenceRead, routes!(divisions)))
        .routes(guard(Action::ReferenceRead, routes!(occupations)))
        .routes(guard(Action::AuditRead, routes!(audit_verify)))
        .merge(account::routes())
        .merge(public::routes())
        .merge(crate::evaluation::api::routes())
        .merge(crate::filing::api_routes())
        .merge(crate::review::api_routes())
        .merge(crate::documents::api_routes())
        .merge(crate::jobs::api_routes())
        .merge(crate::notifications::api_routes())
        .merge(crate::outbox::api_routes())
        .merge(crate::outreach::api_routes())
        .merge(crate::registration::api_routes())
        .merge(crate::certificates::api_routes())
        .merge(crate::retention::api_routes())
}

/// The API's routes, its document and a viewer.
pub fn router() -> Router<AppState> {
    let (router, _) = v1().split_for_parts();
    router
        .route("/api/openapi.json", get(openapi))
        .route("/api/docs", get(docs))
        .route("/api/docs.js", get(docs_js))
}

/// The OpenAPI document, built once: every 4xx/5xx carries the error schema, and every
/// operation names how it is authenticated.
pub fn openapi_document() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = v1().into_openapi();
        schema::finish(&mut doc);
        doc
    })
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "郑州市技能人才评价服务平台 API",
        version = "1",
        description = "认证：浏览器用会话 Cookie（skilleval_session，POST /api/v1/session 登录时设置；写操作须同源），其他系统用管理员签发的 Bearer 令牌（Authorization: Bearer sev_…，限定角色与区县，有有效期）。须修改密码的账号除修改密码、退出和查看会话外一律 403。错误统一为 {error, message, field?}，message 为中文并注明依据条款：角色无权 403，规则拒绝 422，版本或状态冲突 409。"
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security),
)]
struct ApiDoc;

/// Every error has this shape.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    error: String,
    message: String,
    field: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    id: i64,
    username: String,
    role: Role,
    district: Option<String>,
    institution_id: Option<i64>,
    display_name: String,
    /// The account must change its password before it may do anything else.
    must_change_password: bool,
}

impl From<&store::Account> for MeResponse {
    fn from(a: &store::Account) -> Self {
        MeResponse {
            id: a.id,
            username: a.username.clone(),
            role: a.role,
            district: a.district_code.clone(),
            institution_id: a.institution_id,
            display_name: a.display_name.clone(),
            must_change_password: a.must_change_password,
        }
    }
}

/// Schema mirror of the account form (the form type lives with the pages).
#[derive(ToSchema)]
#[allow(dead_code)]
struct UserFormSchema {
    username: String,
    display_name: String,
    role: Role,
    district: Option<String>,
    institution: Option<String>,
    employer: Option<String>,
    phone: Option<String>,
    password: String,
}

#[derive(Deserialize, Default)]
struct ListParams {
    q: Option<String>,
    district: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    role: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/session", request_body = LoginRequest, tag = "会话", operation_id = "login", security(()),
    responses((status = 200, body = MeResponse, description = "已登录，设置会话 Cookie"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "账号锁定或停用"), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Response, AppError> {
    let (account, token) =
        crate::accounts::login(&state, &meta, &req.username, &req.password).await?;
    let mut r = Json(MeResponse::from(&account)).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        crate::pages::session_cookie(&state, &token, state.config.session_hours * 3600),
    );
    Ok(r)
}

#[utoipa::path(delete, path = "/api/v1/session", tag = "会话", operation_id = "logout", responses((status = 204, description = "已退出")))]
async fn logout(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    crate::accounts::logout(&state, &me).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        crate::pages::session_cookie(&state, "", 0),
    );
    Ok(r)
}

#[utoipa::path(get, path = "/api/v1/session", tag = "会话", operation_id = "read_session", responses((status = 200, body = MeResponse, description = "当前会话的账号")))]
async fn session(me: Authed) -> Json<MeResponse> {
    Json(MeResponse::from(&me.account))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "会话", operation_id = "me", responses((status = 200, body = MeResponse)))]
async fn me(me: Authed) -> Json<MeResponse> {
    Json(MeResponse::from(&me.account))
}

#[utoipa::path(get, path = "/api/v1/institutions", tag = "评价机构",
    params(("q" = Option<String>, Query, description = "名称、信用代码或联系人"), ("district" = Option<String>, Query), ("kind" = Option<String>, Query), ("status" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = schema::PageOf<store::Institution>, description = "分页列表，仅含本人辖区")))]
async fn list_institutions(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    let filter = InstitutionFilter {
        q: p.q,
        district: p.district,
        kind: p.kind,
        filing_status: p.status,
        ..Default::default()
    };
    let page = PageRequest::new(p.page, p.per_page);
    Ok(Json(crate::institutions::institutions(&state, &me, &filter, page).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/institutions/{id}", tag = "评价机构", params(("id" = i64, Path)),
    responses((status = 200, body = store::Institution, description = "机构详情"), (status = 404, body = ErrorBody, description = "不存在或不在辖区内")))]
async fn get_institution(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(Json(crate::institutions::institution(&state, &me, id).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/institutions", tag = "评价机构", request_body = InstitutionForm,
    responses((status = 201, body = store::Institution, description = "已登记的机构（含 id 与 version）"), (status = 422, body = ErrorBody, description = "字段有误，field 指明字段")))]
async fn create_institution(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(f): JsonBody<InstitutionForm>,
) -> Result<Response, AppError> {
    let inst = crate::institutions::register(&state, &me, &f).await?;
    Ok((StatusCode::CREATED, Json(inst)).into_response())
}

#[utoipa::path(put, path = "/api/v1/institutions/{id}", tag = "评价机构", params(("id" = i64, Path)), request_body = InstitutionForm,
    responses((status = 200, body = store::Institution, description = "已保存"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "版本冲突"), (status = 422, body = ErrorBody)))]
async fn update_institution(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(f): JsonBody<InstitutionForm>,
) -> Result<Response, AppError> {
    Ok(Json(crate::institutions::update(&state, &me, id, &f).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/users", tag = "用户账号",
    params(("q" = Option<String>, Query), ("role" = Option<String>, Query), ("district" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = schema::PageOf<store::Account>, description = "分页列表，仅含本人辖区"), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    let filter = UserFilter {
        q: p.q,
        role: p.role,
        district: p.district,
        ..Default::default()
    };
    let page = PageRequest::new(p.page, p.per_page);
    Ok(Json(crate::accounts::users(&state, &me, &filter, page).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "用户账号", params(("id" = i64, Path)),
    responses((status = 200, body = store::Account, description = "账号"), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(Json(crate::accounts::user(&state, &me, id).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/users", tag = "用户账号", request_body = UserFormSchema,
    responses((status = 201, body = store::Account, description = "已创建"), (status = 403, body = ErrorBody, description = "区县账号只能由市鉴定中心创建"), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(f): JsonBody<UserForm>,
) -> Result<Response, AppError> {
    let a = crate::accounts::create_account(&state, &me, &f).await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

#[utoipa::path(get, path = "/api/v1/divisions", tag = "参考数据", responses((status = 200, body = Vec<store::Division>, description = "行政区划")))]
async fn divisions(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    Ok(Json(crate::reference::divisions(&state, &me).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/occupations", tag = "参考数据",
    params(("q" = Option<String>, Query), ("kind" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = schema::PageOf<store::Occupation>, description = "职业目录分页列表")))]
async fn occupations(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    let f = OccupationFilter {
        q: p.q,
        kind: p.kind,
        confirmed: None,
    };
    let page = PageRequest::new(p.page, p.per_page);
    Ok(Json(crate::reference::occupations(&state, &me, &f, page).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "审计", responses((status = 200, body = schema::AuditCheck, description = "{ok, entries, head} 或 {ok:false, seq, reason}"), (status = 403, body = ErrorBody)))]
async fn audit_verify(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    Ok(Json(match crate::audit::verify(&state, &me).await? {
        Ok(r) => json!({ "ok": true, "entries": r.entries, "head": r.head }),
        Err(b) => json!({ "ok": false, "seq": b.seq, "reason": b.reason }),
    })
    .into_response())
}

async fn openapi() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(openapi_document())
}

async fn docs() -> Html<&'static str> {
    Html(include_str!("../../static/apidocs.html"))
}

async fn docs_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/apidocs.js"),
    )
}
