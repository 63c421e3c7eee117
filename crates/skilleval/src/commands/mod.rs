//! The commands of the skilleval binary, one module per area, and what they share: opening the
//! store and reading the policy.

pub mod audit;
pub mod bench;
pub mod database;
pub mod draw;
pub mod keys;
pub mod outbox;
pub mod retention;
pub mod serve;

use anyhow::Context;
use store::{PasswordParams, Store};

use crate::settings::Settings;

pub async fn open(s: &Settings) -> anyhow::Result<Store> {
    Store::open(
        &s.database,
        s.db_max_connections,
        PasswordParams::production(),
    )
    .await
    .with_context(|| format!("无法连接数据库 {}", store_redact(&s.database)))
    .and_then(|store| Ok(store.with_blobs(s.blobs()?)))
}

pub fn store_redact(url: &str) -> String {
    store::redact_url(url)
}

/// The policy of the settings (`policy` file) or the built-in Zhengzhou 2022 policy.
pub fn load_policy(s: &Settings) -> anyhow::Result<domain::policy::Policy> {
    Ok(match &s.policy {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("无法读取规则文件 {path}"))?;
            domain::policy::Policy::from_toml(&text)
                .map_err(|e| anyhow::anyhow!("规则文件有误: {e}"))?
        }
        None => domain::policy::Policy::zhengzhou_2022(),
    })
}
