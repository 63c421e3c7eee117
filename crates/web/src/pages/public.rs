//! Public pages (no login): filed institutions and the rules (the certificate query is in
//! `certificates::public`).
//! They show no personal data beyond what the notice makes public, and print cleanly.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::{render, Layout};
use crate::auth::MaybeAuthed;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/public/institutions",
            get(super::filing::public_institutions),
        )
        .route("/policy", get(policy))
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
