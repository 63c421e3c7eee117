//! 统计分析: the figures of the caller's jurisdiction (page and xlsx export). A district sees its
//! own area; the city all, or one district it picks.

use domain::{Action, Scope};
use store::Statistics;

use crate::auth::Authed;
use crate::error::AppError;
use crate::AppState;

/// The scope of the figures: a district its own; the city all, or one district it picked.
fn stats_scope(me: &Authed, district: Option<&str>) -> Scope {
    match me.scope() {
        Scope::City => match district.filter(|d| !d.is_empty()) {
            Some(d) => Scope::District(d.to_string()),
            None => Scope::City,
        },
        other => other,
    }
}

/// 统计分析: the figures on today's date and the scope they cover.
pub async fn statistics(
    state: &AppState,
    me: &Authed,
    district: Option<&str>,
) -> Result<(Scope, Statistics), AppError> {
    me.may(Action::StatisticsView)?;
    let scope = stats_scope(me, district);
    let cal = state.display_calendar().await?;
    let st = state.store.statistics(&scope, state.today(), &cal).await?;
    Ok((scope, st))
}
