//! The center's pages for issuing (生成证书数据): plans waiting, a plan's preview, a batch and its
//! progress, resuming or abandoning it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::Action;
use serde::Deserialize;
use store::{CertBatch, Plan};

use crate::auth::Authed;
use crate::body::FormBody;
use crate::error::AppError;
use crate::pages::{flash_text, render, Layout};
use crate::routing::Routes;
use crate::AppState;

use super::{
    abandon, batch_with_certificates, plans_awaiting, preview, resume, start_issue, AbandonForm,
    Preview,
};

pub fn router() -> Routes {
    Routes::new()
        .get(
            "/certificates/issue",
            Action::CertificatePrepare,
            plans_page,
        )
        .get(
            "/plans/{id}/certificates",
            Action::CertificatePrepare,
            preview_page,
        )
        .post(
            "/plans/{id}/certificates/issue",
            Action::CertificateIssue,
            issue_form,
        )
        .get("/cert-batches/{id}", Action::CertificatePrepare, batch_page)
        .post(
            "/cert-batches/{id}/resume",
            Action::CertificateIssue,
            resume_form,
        )
        .post(
            "/cert-batches/{id}/abandon",
            Action::CertificateIssue,
            abandon_form,
        )
}

#[derive(Deserialize, Default)]
struct IssueQuery {
    reissue: Option<String>,
    msg: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "cert_plans.html")]
struct PlansPage {
    layout: Layout,
    /// (plan, certificates issued, running batch)
    plans: Vec<(Plan, i64, bool)>,
}

async fn plans_page(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<IssueQuery>,
) -> Result<Response, AppError> {
    let plans = plans_awaiting(&state, &me, q.page).await?;
    Ok(render(&PlansPage {
        layout: Layout::new(&state, Some(&me), "生成证书数据", "/certificates/issue")
            .with_flash(flash_text(q.msg.as_deref())),
        plans,
    }))
}

#[derive(Template)]
#[template(path = "cert_preview.html")]
struct PreviewPage {
    layout: Layout,
    p: Preview,
    may_issue: bool,
}

async fn preview_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<IssueQuery>,
) -> Result<Response, AppError> {
    let p = preview(&state, &me, id, q.reissue.is_some()).await?;
    Ok(render(&PreviewPage {
        layout: Layout::new(&state, Some(&me), "生成证书数据", "/certificates/issue"),
        may_issue: me.can(Action::CertificateIssue),
        p,
    }))
}

#[derive(Deserialize, Default)]
struct IssueForm {
    #[serde(default)]
    reissue: Option<String>,
}

async fn issue_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<IssueForm>,
) -> Result<Response, AppError> {
    let s = start_issue(&state, &me, id, f.reissue.is_some()).await?;
    Ok(match s.job_id {
        Some(j) => Redirect::to(&format!("/jobs/{j}")),
        None => Redirect::to(&format!("/cert-batches/{}", s.batch.id)),
    }
    .into_response())
}

#[derive(Template)]
#[template(path = "cert_batch.html")]
struct BatchPage {
    layout: Layout,
    b: CertBatch,
    certs: Vec<store::Certificate>,
    may_act: bool,
}

async fn batch_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (b, certs) = batch_with_certificates(&state, &me, id).await?;
    Ok(render(&BatchPage {
        layout: Layout::new(&state, Some(&me), "证书批次", "/certificates/issue"),
        certs,
        may_act: me.can(Action::CertificateIssue)
            && b.status == domain::certissue::BatchStatus::Running,
        b,
    }))
}

async fn resume_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let j = resume(&state, &me, id).await?;
    Ok(Redirect::to(&match j {
        Some(j) => format!("/jobs/{j}"),
        None => format!("/cert-batches/{id}"),
    })
    .into_response())
}

async fn abandon_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<AbandonForm>,
) -> Result<Response, AppError> {
    abandon(&state, &me, id, &f.reason).await?;
    Ok(Redirect::to(&format!("/cert-batches/{id}")).into_response())
}
