//! Public pages (no login): filed institutions and the rules (the certificate query is in
//! `certificates::public`).
//! They show no personal data beyond what the notice makes public, and print cleanly.

use crate::routing::Routes;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use domain::Action;

use super::{render, Layout};
use crate::auth::MaybeAuthed;
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get(
            "/public/institutions",
            Action::PublicView,
            super::filing::public_institutions,
        )
        .get("/policy", Action::PublicView, policy)
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
