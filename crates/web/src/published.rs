//! 公开信息: what the notice makes public — applications in 公示, filed institutions with their
//! occupations and levels, evaluation results in 公示 (names and ID numbers masked). These are
//! public views: no caller, no permission check, and they bypass the jurisdiction scope
//! explicitly (the whole city is public).

use domain::plan::ResultsStatus;
use domain::Scope;
use store::{FilingApp, Page, PageRequest, Plan, PlanFilter, PublicFiled, PublicResult};

use crate::error::AppError;
use crate::AppState;

/// 备案公示 (public view): applications in 公示 today, or paused by an objection.
pub async fn filings_in_publicity(
    state: &AppState,
    page: PageRequest,
) -> Result<Page<FilingApp>, AppError> {
    Ok(state.store.public_filings(state.today(), page).await?)
}

/// 已备案机构 (public view): filed institutions with their occupations, by district and search.
pub async fn filed_institutions(
    state: &AppState,
    district: Option<&str>,
    q: Option<&str>,
    page: PageRequest,
) -> Result<Page<PublicFiled>, AppError> {
    Ok(state.store.public_filed(district, q, page).await?)
}

/// 评价结果公示 (public view): the plans whose results are in 公示.
pub async fn results_in_publicity(
    state: &AppState,
    q: Option<String>,
    page: PageRequest,
) -> Result<Page<Plan>, AppError> {
    let filter = PlanFilter {
        q,
        results_status: Some("publicised".into()),
        // An ended 公示 is never shown as running.
        results_publicity_on: Some(state.today()),
        ..Default::default()
    };
    Ok(state.store.list_plans(&Scope::City, &filter, page).await?)
}

/// 评价结果公示 of one plan (public view), masked; a plan not in 公示 is "not found".
pub async fn plan_results(
    state: &AppState,
    id: i64,
) -> Result<(Plan, Vec<PublicResult>), AppError> {
    let p = state.store.plan(&Scope::City, id).await?;
    if p.results_status != ResultsStatus::Publicised {
        return Err(AppError::NotFound);
    }
    let results = state.store.public_results(id).await?;
    Ok((p, results))
}
