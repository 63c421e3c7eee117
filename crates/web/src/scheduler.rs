//! 到期处理: time moves the workflow. When a filing's 公示 ends without an objection, the
//! application is filed (备案) by itself. Every app server runs the sweep; the optimistic
//! version check in the store lets exactly one of them apply each transition, the others see
//! a conflict and skip it, so the sweep is safe with several servers.

use std::time::Duration;

use domain::filing::{self, Command};
use domain::Role;
use store::{Actor, StoreError, TransitionInput};

use crate::error::AppError;
use crate::filing::{app_state, facts};
use crate::AppState;

/// How often each server sweeps.
pub const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// One sweep on `state.today()`: returns how many records moved on.
pub async fn run_due(state: &AppState) -> Result<usize, AppError> {
    let actor = Actor::system("scheduler");
    let today = state.today();
    let mut moved = 0;
    for id in state.store.filings_publicity_over(today).await? {
        let app = state.store.filing(&domain::Scope::City, id).await?;
        let cmd = Command::Finish;
        let f = facts(state, &app, &cmd).await?;
        // The scheduler acts for the city center, whose command this is (公示期满，完成备案).
        let outcome = match filing::decide(
            &state.policy,
            &app_state(&app),
            Role::CityCenter,
            &cmd,
            "公示期满无异议，自动完成备案",
            &f,
        ) {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(application = id, error = %e, "publicity sweep: not finished");
                continue;
            }
        };
        let input = TransitionInput {
            reason: "公示期满无异议，自动完成备案".into(),
            attachments: vec![],
            today: Some(today),
            quota_recheck: None,
        };
        match state
            .store
            .apply_filing(&actor, &app, app.version, &outcome, &input)
            .await
        {
            Ok(_) => moved += 1,
            // Another server (or an officer) got there first.
            Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // Jobs and batches of a server that stopped (nobody holds their lease): jobs end as
    // interrupted, batches resume, at once (the sweep runs when a server starts).
    let interrupted = state.store.finish_interrupted_jobs().await?;
    if interrupted > 0 {
        tracing::warn!(interrupted, "jobs of a stopped server marked interrupted");
    }
    moved += resume_stalled_batches(state).await?;
    // 二(三): records closed since the last sweep enter the retention register with their due
    // dates (not counted as moved: nothing changed state).
    let registered = crate::retention::sync(state).await?;
    if registered > 0 {
        tracing::info!(registered, "closed records registered for retention");
    }
    Ok(moved)
}

/// Certificate batches whose server stopped mid-way (no job holds their lease) are resumed at
/// once: the candidates without a certificate are numbered
/// and signed, and the batch is published. Two servers resuming the same batch cannot duplicate a
/// certificate (one first certificate per candidate in the schema).
async fn resume_stalled_batches(state: &AppState) -> Result<usize, AppError> {
    if state.certs.signing.is_none() {
        return Ok(0);
    }
    let mut n = 0;
    for (b, lease) in state.store.stalled_cert_batches().await? {
        // The job runs as the account that started the batch (jobs need an owner).
        let Some((owner, _)) = state.store.account_by_username(&b.created_by).await? else {
            continue;
        };
        let actor = Actor {
            user_id: Some(owner.id),
            username: owner.username.clone(),
            role: owner.role.as_str().into(),
            request_id: String::new(),
            client_addr: "scheduler".into(),
        };
        crate::certificates::issue::run_batch(state, &actor, &b, Some(lease)).await?;
        tracing::info!(
            batch = b.id,
            "certificate batch resumed after an interruption"
        );
        n += 1;
    }
    Ok(n)
}

/// 审计锚点: append the chain's head, signed, to the anchor file (when configured and the
/// anchor key is there). Several servers may each anchor: the lines just repeat the head.
pub async fn anchor_now(state: &AppState) -> Result<Option<store::anchor::Anchor>, AppError> {
    let Some(dir) = &state.config.anchor_dir else {
        return Ok(None);
    };
    Ok(Some(state.store.anchor_to(dir, &store::now_text()).await?))
}

/// Run [`run_due`] now and then every [`SWEEP_EVERY`], for the life of the server.
pub fn spawn(state: AppState) {
    let sweep = state.clone();
    tokio::spawn(async move {
        let state = sweep;
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_due(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(moved = n, "publicity sweep"),
                Err(e) => tracing::warn!(error = %e, "publicity sweep failed"),
            }
        }
    });
    if state.config.anchor_dir.is_some() {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(state.config.anchor_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match anchor_now(&state).await {
                    Ok(Some(a)) => tracing::info!(seq = a.seq, "audit chain anchored"),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "audit anchor failed"),
                }
            }
        });
    }
}
