//! 审计日志: reading the trail and verifying its hash chain (page and API). Each use case
//! checks the permission table (`audit.read`) here.

use domain::audit::ChainBreak;
use domain::Action;
use store::{AuditFilter, AuditRow, Page, PageRequest, VerifyReport};

use crate::auth::Authed;
use crate::error::AppError;
use crate::AppState;

/// 审计日志: one page of the trail, newest first.
pub async fn trail(
    state: &AppState,
    me: &Authed,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<Page<AuditRow>, AppError> {
    me.may(Action::AuditRead)?;
    Ok(state.store.db.list_audit(filter, page).await?)
}

/// 校验审计链: recompute the whole chain; the break, if any, is the inner error.
pub async fn verify(
    state: &AppState,
    me: &Authed,
) -> Result<Result<VerifyReport, ChainBreak>, AppError> {
    me.may(Action::AuditRead)?;
    Ok(state.store.db.verify_audit_chain().await?)
}
