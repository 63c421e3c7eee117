//! Public pages (no login): filed institutions, the certificate query, and the rules.
//! They show no personal data beyond what the notice makes public, and print cleanly.

use crate::routing::Routes;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use domain::Action;
use serde::Deserialize;
use store::PublicCertificate;

use super::{render, Layout};
use crate::auth::MaybeAuthed;
use crate::error::AppError;
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get(
            "/public/institutions",
            Action::PublicView,
            super::filing::public_institutions,
        )
        .get("/public/certificates", Action::PublicView, certificates)
        .get("/policy", Action::PublicView, policy)
}

#[derive(Deserialize, Default)]
struct CertQuery {
    cert_no: Option<String>,
    name: Option<String>,
}

#[derive(Template)]
#[template(path = "certificate_query.html")]
struct CertPage {
    layout: Layout,
    cert_no: String,
    name: String,
    searched: bool,
    error: Option<String>,
    found: Option<PublicCertificate>,
    level_name: String,
}

async fn certificates(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
    Query(q): Query<CertQuery>,
) -> Result<Response, AppError> {
    let cert_no = q.cert_no.clone().unwrap_or_default().trim().to_uppercase();
    let name = q.name.clone().unwrap_or_default().trim().to_string();
    let searched = q.cert_no.is_some() || q.name.is_some();
    let mut error = None;
    let mut found = None;
    if searched {
        if cert_no.len() != 22
            || !cert_no.starts_with(['S', 'Y'])
            || !cert_no[1..].chars().all(|c| c.is_ascii_digit())
        {
            error = Some("证书编号应为 22 位：首位 S 或 Y，后接 21 位数字".to_string());
        } else if name.is_empty() {
            error = Some("请填写持证人姓名".to_string());
        } else {
            found = state.store.find_certificate(&cert_no, &name).await?;
        }
    }
    let level_name = found
        .as_ref()
        .and_then(|c| domain::occupation::Level::from_u8(c.level as u8))
        .map(|l| l.name().to_string())
        .unwrap_or_default();
    Ok(render(&CertPage {
        layout: Layout::new(&state, me.as_ref(), "证书查询", "/public/certificates"),
        cert_no,
        name,
        searched,
        error,
        found,
        level_name,
    }))
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    layout: Layout,
    title: String,
    document: String,
    rules: Vec<domain::policy::RuleView>,
}

async fn policy(State(state): State<AppState>, MaybeAuthed(me): MaybeAuthed) -> Response {
    render(&PolicyPage {
        layout: Layout::new(&state, me.as_ref(), "政策规则", "/policy"),
        title: state.policy.title.clone(),
        document: state.policy.document.clone(),
        rules: state.policy.rules(),
    })
}
