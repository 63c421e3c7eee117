//! 接口令牌的签发与吊销。

use super::*;

#[derive(Deserialize, Default)]
pub(super) struct TokenQuery {
    pub(super) msg: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "tokens.html")]
pub(super) struct TokensPage {
    pub(super) layout: Layout,
    pub(super) tokens: Vec<store::ApiToken>,
    pub(super) users: Vec<(String, String)>,
    pub(super) new_token: Option<String>,
    pub(super) error: Option<String>,
}

pub(super) async fn tokens_page(
    state: &AppState,
    me: &Authed,
    new_token: Option<String>,
    error: Option<String>,
    flash: Option<String>,
) -> Result<TokensPage, AppError> {
    let tokens = crate::accounts::tokens(state, me).await?;
    let accounts = crate::accounts::users(
        state,
        me,
        &UserFilter::default(),
        PageRequest::new(Some(1), Some(200)),
    )
    .await?;
    Ok(TokensPage {
        layout: Layout::new(state, Some(me), "接口令牌", "/admin/tokens").with_flash(flash),
        tokens,
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

pub(super) async fn tokens(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    Ok(render(
        &tokens_page(&state, &me, None, None, flash_text(q.msg.as_deref())).await?,
    ))
}

#[derive(Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) user_id: String,
    #[serde(default)]
    pub(super) days: String,
}

pub(super) async fn token_issue(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<TokenForm>,
) -> Result<Response, AppError> {
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
        let req = crate::accounts::TokenRequest {
            name: f.name.clone(),
            user_id,
            role: None,
            district: None,
            valid_days,
        };
        Ok::<_, AppError>(
            crate::accounts::issue_token(&state, &me, &req, false)
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

pub(super) async fn token_revoke(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    crate::accounts::revoke_token(&state, &me, id).await?;
    Ok(Redirect::to("/admin/tokens?msg=revoked").into_response())
}

// ---- audit (审计日志) ----
