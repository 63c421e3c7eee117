//! 工作台: what the dashboard shows a signed-in user — the work waiting for them (`queue`) and
//! the counts of their jurisdiction.

use domain::Action;

use crate::auth::Authed;
use crate::error::AppError;
use crate::queue::{self, WorkItem};
use crate::AppState;

/// 工作台 as one user sees it.
pub struct Workbench {
    pub queue: Vec<WorkItem>,
    /// Institutions and accounts in the caller's scope.
    pub institution_count: i64,
    pub account_count: i64,
    /// The caller's district, by name.
    pub district_name: Option<String>,
    /// (title, detail) of the missing-calendar warning, for the admin and the city.
    pub calendar_warning: Option<(String, String)>,
}

/// 工作台: the caller's queue and the counts of their jurisdiction.
pub async fn workbench(state: &AppState, me: &Authed) -> Result<Workbench, AppError> {
    me.may(Action::OwnAccount)?;
    let queue::Queue {
        items: queue,
        calendar_warning,
        institution_count,
        account_count,
    } = queue::for_account(state, me).await?;
    let district_name = match &me.account.district_code {
        Some(code) => Some(district_name(state, code).await?),
        None => None,
    };
    Ok(Workbench {
        queue,
        institution_count,
        account_count,
        district_name,
        calendar_warning,
    })
}

/// A district's name: reference data, from the display cache when it holds the code.
async fn district_name(state: &AppState, code: &str) -> Result<String, AppError> {
    if let Some(d) = state
        .display_districts()
        .await?
        .iter()
        .find(|d| d.code == code)
    {
        return Ok(d.name.clone());
    }
    Ok(state.store.division(code).await?.name)
}
