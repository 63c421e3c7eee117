//! 档案保管与销毁: the sweep that registers closed records and carries out approved disposals.

use std::path::Path;
use std::process::ExitCode;

use super::open;
use crate::settings::{self, Settings};

use super::load_policy;

pub async fn run(
    config: Option<&Path>,
    db: settings::DbArgs,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let s = Settings::load(config, &db, None)?;
    crate::init_logging(&s.log);
    sweep(&s, dry_run).await
}

/// `skilleval retention run [--dry-run]`: see docs/operations.md (档案到期处理).
async fn sweep(s: &Settings, dry_run: bool) -> anyhow::Result<ExitCode> {
    let store = open(s).await?;
    let applied = store.db.applied_migrations().await.unwrap_or_default();
    if applied.len() < store::MIGRATIONS.len() {
        anyhow::bail!("数据库尚未迁移到当前版本：请先运行 skilleval migrate");
    }
    let state = web::AppState::new(
        store,
        web::WebConfig {
            scheduler: false,
            ..s.web_config()
        },
        load_policy(s)?,
    );
    let today = state.today();
    let report = web::retention::run(&state, dry_run)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "档案到期处理（{}{}）",
        today.format("%Y-%m-%d"),
        if dry_run {
            "，演练：不做任何更改"
        } else {
            ""
        }
    );
    if !dry_run {
        println!("新登记办结档案 {} 件", report.registered);
    }
    println!("已到期待销毁 {} 件：", report.due.len());
    for r in &report.due {
        println!(
            "  #{}\t{}\t{}\t{}\t办结 {}\t保存至 {}\t{}",
            r.id,
            r.class_label,
            r.keeper_name,
            r.title,
            r.closed_on,
            r.due_on,
            r.status_label(today)
        );
    }
    if dry_run {
        let approved = report
            .due
            .iter()
            .filter(|r| {
                r.disposal_status == Some(domain::retention::DisposalStatus::Approved)
                    && r.hold.is_none()
            })
            .count();
        println!("去掉 --dry-run 将销毁双方已同意的 {approved} 件；其余到期档案须先经两方同意");
        return Ok(ExitCode::SUCCESS);
    }
    for (r, d) in &report.disposed {
        println!(
            "已销毁 #{} {}（{}；两方：{} 与 {}）",
            r.id,
            r.title,
            d.reason,
            d.first_by,
            d.second_by.clone().unwrap_or_default()
        );
    }
    for (r, why) in &report.skipped {
        eprintln!("未销毁 #{} {}：{why}", r.id, r.title);
    }
    println!(
        "本次销毁 {} 件，未销毁 {} 件，清理遗留文件 {} 个",
        report.disposed.len(),
        report.skipped.len(),
        report.purged
    );
    Ok(ExitCode::SUCCESS)
}
