//! 用户账号: signing in and out, the accounts officers keep (the city center creates district
//! accounts, 二(一); the admin the others), one's own password, and the API tokens the admin
//! issues. The use cases shared by the pages and the API: each checks the permission table and
//! loads accounts through the caller's scope (属地管理); the handlers only translate.

use chrono::Duration;
use domain::{Action, Role};
use serde::{Deserialize, Serialize};
use store::{
    Account, ApiToken, Division, Institution, InstitutionFilter, LoginOutcome, NewAccount, Page,
    PageRequest, PasswordParams, UserFilter,
};
use utoipa::ToSchema;

use crate::auth::{Authed, RequestMeta};
use crate::error::AppError;
use crate::AppState;

/// 登录 (a public use case: no caller yet), shared by the login page and `POST /api/v1/session`:
/// a message for each refusal; returns the account and the new session's token.
pub async fn login(
    state: &AppState,
    meta: &RequestMeta,
    username: &str,
    password: &str,
) -> Result<(store::Account, String), AppError> {
    if username.trim().is_empty() {
        return Err(AppError::invalid("username", "请填写用户名"));
    }
    if password.is_empty() {
        return Err(AppError::invalid("password", "请填写密码"));
    }
    let outcome = state
        .store
        .login(
            username.trim(),
            password,
            &meta.anonymous_actor(),
            state.config.login_limits,
        )
        .await?;
    let account = match outcome {
        LoginOutcome::Ok(a) => a,
        LoginOutcome::BadCredentials => return Err(AppError::Unauthorized),
        LoginOutcome::Locked { until } => {
            return Err(AppError::Forbidden(format!(
                "密码错误次数过多，账号已锁定至 {}（北京时间），请稍后再试或联系管理员解锁",
                crate::pages::beijing_time(&until)
            )))
        }
        LoginOutcome::Inactive => {
            return Err(AppError::Forbidden("该账号已停用，请联系管理员".into()))
        }
        LoginOutcome::Throttled => {
            return Err(AppError::TooManyRequests(
                "登录失败次数过多，请 15 分钟后再试".into(),
            ))
        }
    };
    let hours = state.config.session_hours;
    let (token, _) = state
        .store
        .create_session(
            account.id,
            Duration::hours(hours),
            &meta.client_addr,
            &meta.user_agent,
        )
        .await?;
    Ok((account, token))
}

/// A password change. `Debug` hides the passwords.
#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current: String,
    pub new_password: String,
    /// The new password typed again (pages); the API may omit it.
    #[serde(default)]
    pub confirm: Option<String>,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange")
            .field("current", &store::HIDDEN)
            .field("new_password", &store::HIDDEN)
            .field("confirm", &self.confirm.as_ref().map(|_| store::HIDDEN))
            .finish()
    }
}

/// Change the caller's own password: the current one must match; the new one must pass the
/// password rules, differ from the current one and (when given) match its confirmation.
/// Clears `must_change_password`; other sessions end, the caller's own session stays.
/// 修改密码; returns the account as it now is.
pub async fn change_password(
    state: &AppState,
    me: &Authed,
    input: &PasswordChange,
) -> Result<Account, AppError> {
    let (_, stored) = state
        .store
        .account_by_username(&me.account.username)
        .await?
        .ok_or(AppError::NotFound)?;
    let current = input.current.clone();
    let ok = tokio::task::spawn_blocking(move || PasswordParams::verify(&current, &stored))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if !ok {
        return Err(AppError::invalid("current", "当前密码不正确"));
    }
    domain::account::validate_password(&me.account.username, &input.new_password)
        .map_err(|e| AppError::invalid("new_password", e.message))?;
    if input
        .confirm
        .as_ref()
        .is_some_and(|c| *c != input.new_password)
    {
        return Err(AppError::invalid("confirm", "两次输入的新密码不一致"));
    }
    if input.new_password == input.current {
        return Err(AppError::invalid(
            "new_password",
            "新密码不能与当前密码相同",
        ));
    }
    let keep = me.session.as_ref().map(|s| s.token_hash.as_str());
    state
        .store
        .set_password(&me.actor(), me.account.id, &input.new_password, false, keep)
        .await?;
    let (account, _) = state
        .store
        .account_by_username(&me.account.username)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(account)
}

#[derive(Deserialize, Default, Clone)]
pub struct UserForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub district: String,
    #[serde(default)]
    pub institution: String,
    #[serde(default)]
    pub employer: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub password: String,
}

/// Validate a new account against what the creator may do.
async fn validate_new_account(
    state: &AppState,
    me: &Authed,
    f: &UserForm,
) -> Result<NewAccount, AppError> {
    let role = Role::parse(f.role.trim()).ok_or_else(|| AppError::invalid("role", "请选择角色"))?;
    if !me.role().may_create(role) {
        return Err(AppError::Forbidden(if role == Role::District {
            "区县账号由市职业技能鉴定中心分配（依据 二(一)）".into()
        } else {
            "您不能创建该角色的账号".into()
        }));
    }
    domain::account::validate_username(f.username.trim())?;
    let display_name = domain::account::required_text("display_name", "名称", &f.display_name, 60)?;
    domain::account::validate_password(f.username.trim(), &f.password)?;
    let districts = crate::reference::districts(state, me).await?;
    let district_code = match role {
        Role::District => Some(
            districts
                .iter()
                .find(|d| d.code == f.district.trim())
                .map(|d| d.code.clone())
                .ok_or_else(|| AppError::invalid("district", "请选择该账号所属的区县（市）"))?,
        ),
        Role::Supervisor if !f.district.trim().is_empty() => Some(
            districts
                .iter()
                .find(|d| d.code == f.district.trim())
                .map(|d| d.code.clone())
                .ok_or_else(|| AppError::invalid("district", "区县（市）不存在"))?,
        ),
        _ => None,
    };
    let institution_id = if role == Role::Institution {
        let id: i64 = f
            .institution
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("institution", "请选择所属评价机构"))?;
        state
            .store
            .institution(&me.scope(), id)
            .await
            .map_err(|_| AppError::invalid("institution", "所属评价机构不存在"))?;
        Some(id)
    } else {
        None
    };
    Ok(NewAccount {
        username: f.username.trim().to_string(),
        display_name,
        role,
        district_code,
        institution_id,
        employer: f.employer.trim().chars().take(100).collect(),
        phone: f.phone.trim().chars().take(20).collect(),
        password: f.password.clone(),
        must_change_password: true,
    })
}

/// A token to issue: it acts as `user_id`, in that account's role and district.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// What the token is for (the system that uses it).
    pub name: String,
    pub user_id: i64,
    /// The role the token acts in; must be the account's role.
    pub role: Option<Role>,
    /// The district the token is limited to; must be the account's district.
    pub district: Option<String>,
    /// Days until it expires (1–3650). The API requires it; the page may leave it open.
    pub valid_days: Option<i64>,
}

/// A token just issued: the plain token is shown once.
#[derive(Serialize, ToSchema)]
pub struct IssuedToken {
    pub token: String,
    pub record: ApiToken,
}

/// 签发接口令牌 (admin only). The token's scope is its account's role and district, checked
/// again at every use: when the account changes role or district, the token stops working.
pub async fn issue_token(
    state: &AppState,
    me: &Authed,
    req: &TokenRequest,
    require_expiry: bool,
) -> Result<IssuedToken, AppError> {
    me.may(Action::TokenManage)?;
    let name = domain::account::required_text("name", "令牌用途", &req.name, 60)?;
    let account = state
        .store
        .account(&me.scope(), req.user_id)
        .await
        .map_err(|_| AppError::invalid("user_id", "账号不存在"))?;
    if req.role.is_some_and(|r| r != account.role) {
        return Err(AppError::invalid(
            "role",
            format!("令牌只能以其账号的角色（{}）行事", account.role.label()),
        ));
    }
    let district = req
        .district
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if district.is_some() && district != account.district_code.as_deref() {
        return Err(AppError::invalid(
            "district",
            "令牌只能限定在其账号所属的区县（属地管理）",
        ));
    }
    let days = match req.valid_days {
        Some(d) if (1..=3650).contains(&d) => Some(d),
        Some(_) => {
            return Err(AppError::invalid(
                "valid_days",
                "有效天数须为 1–3650 的整数",
            ))
        }
        None if require_expiry => {
            return Err(AppError::invalid(
                "valid_days",
                "请填写有效天数（1–3650）：接口令牌须有有效期",
            ))
        }
        None => None,
    };
    let (token, id) = state
        .store
        .issue_api_token(&me.actor(), account.id, &name, days)
        .await?;
    let record = token_record(state, id).await?;
    Ok(IssuedToken { token, record })
}

async fn token_record(state: &AppState, id: i64) -> Result<ApiToken, AppError> {
    state
        .store
        .list_api_tokens()
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(AppError::NotFound)
}

/// 退出登录: end the caller's session (a token caller has none to end).
pub async fn logout(state: &AppState, me: &Authed) -> Result<(), AppError> {
    if let Some(s) = &me.session {
        state.store.end_session(&me.actor(), &s.token_hash).await?;
    }
    Ok(())
}

/// 用户账号: one page of the accounts in the caller's jurisdiction.
pub async fn users(
    state: &AppState,
    me: &Authed,
    filter: &UserFilter,
    page: PageRequest,
) -> Result<Page<Account>, AppError> {
    me.may(Action::UserView)?;
    Ok(state.store.list_accounts(&me.scope(), filter, page).await?)
}

/// 账号: one account, if the caller's scope covers it (otherwise "not found").
pub async fn user(state: &AppState, me: &Authed, id: i64) -> Result<Account, AppError> {
    me.may(Action::UserView)?;
    Ok(state.store.account(&me.scope(), id).await?)
}

/// What the 新建账号 form offers: the districts and the institutions in the caller's scope.
pub async fn account_form_choices(
    state: &AppState,
    me: &Authed,
) -> Result<(Vec<Division>, Vec<Institution>), AppError> {
    if !Role::ALL.iter().any(|r| me.role().may_create(*r)) {
        return Err(AppError::forbidden());
    }
    let districts = crate::reference::districts(state, me).await?;
    let institutions = state
        .store
        .list_institutions(
            &me.scope(),
            &InstitutionFilter::default(),
            PageRequest::new(Some(1), Some(200)),
        )
        .await?;
    Ok((districts, institutions.items))
}

/// 新建账号: the creator's role decides which roles it may create (二(一)).
pub async fn create_account(
    state: &AppState,
    me: &Authed,
    f: &UserForm,
) -> Result<Account, AppError> {
    let new = validate_new_account(state, me, f).await?;
    Ok(state.store.create_account(&me.actor(), new).await?)
}

/// 停用、启用或解除锁定: the admin any account, the city center the district accounts; never
/// one's own. `active`/`unlock` as the form sends them.
pub async fn set_account_state(
    state: &AppState,
    me: &Authed,
    id: i64,
    version: &str,
    active: Option<bool>,
    unlock: bool,
) -> Result<(), AppError> {
    let u = state.store.account(&me.scope(), id).await?;
    if !may_change_state(me, &u) {
        return Err(AppError::forbidden());
    }
    if u.id == me.account.id {
        return Err(AppError::BadRequest("不能停用自己的账号".into()));
    }
    let version: i64 = version
        .parse()
        .map_err(|_| AppError::invalid("version", "版本号无效"))?;
    state
        .store
        .update_account_state(&me.actor(), id, version, active, unlock)
        .await?;
    Ok(())
}

/// Whether the caller may deactivate, activate or unlock this account (drives the buttons).
pub fn may_change_state(me: &Authed, u: &Account) -> bool {
    me.role() == Role::Admin || (me.role() == Role::CityCenter && u.role == Role::District)
}

/// The account whose password the admin is about to reset (重置密码 form).
pub async fn account_to_reset(state: &AppState, me: &Authed, id: i64) -> Result<Account, AppError> {
    me.may(Action::UserResetPassword)?;
    Ok(state.store.account(&me.scope(), id).await?)
}

/// 重置密码: a new initial password, to change at the next login; its sessions end. A password
/// the rules refuse is `Invalid` on `password`.
pub async fn reset_password(
    state: &AppState,
    me: &Authed,
    id: i64,
    password: &str,
) -> Result<(), AppError> {
    let u = account_to_reset(state, me, id).await?;
    domain::account::validate_password(&u.username, password)
        .map_err(|e| AppError::invalid("password", e.message))?;
    state
        .store
        .set_password(&me.actor(), id, password, true, None)
        .await?;
    Ok(())
}

/// 接口令牌: every token (not the tokens themselves), newest first.
pub async fn tokens(state: &AppState, me: &Authed) -> Result<Vec<ApiToken>, AppError> {
    me.may(Action::TokenManage)?;
    Ok(state.store.list_api_tokens().await?)
}

/// 吊销接口令牌; returns the revoked token's record.
pub async fn revoke_token(state: &AppState, me: &Authed, id: i64) -> Result<ApiToken, AppError> {
    me.may(Action::TokenManage)?;
    state.store.revoke_api_token(&me.actor(), id).await?;
    token_record(state, id).await
}
