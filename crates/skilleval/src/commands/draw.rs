//! Expert draws (专家抽取): replaying one from its commitment, pool and seed.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::open;
use crate::settings::{self, Settings};

/// `skilleval draw verify ID`: exits 2 on mismatch.
pub async fn verify(
    config: Option<&Path>,
    id: i64,
    db: settings::DbArgs,
) -> anyhow::Result<ExitCode> {
    let s = Settings::load(config, &db, None)?;
    let store = open(&s).await?;
    let d = store.draw_by_id(id).await.context("找不到该抽取记录")?;
    if d.status == domain::draw::DrawStatus::Committed {
        println!(
            "第{}次抽取尚未进行，仅公布了承诺值 {}",
            d.attempt, d.commitment
        );
        return Ok(ExitCode::SUCCESS);
    }
    let problems = domain::draw::verify(&d.record());
    println!(
        "申请 #{} 第{}次抽取：候选池 {} 人，种子 {}，结果 {:?}",
        d.application_id,
        d.attempt,
        d.pool.len(),
        d.seed,
        d.selected
    );
    if problems.is_empty() {
        println!("复核一致：承诺值、候选池哈希、种子与抽取结果均可重放");
        Ok(ExitCode::SUCCESS)
    } else {
        for p in problems {
            eprintln!("不一致：{p}");
        }
        Ok(ExitCode::from(2))
    }
}
