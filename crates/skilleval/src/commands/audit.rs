//! The audit trail (审计日志): verifying its hash chain and anchoring its head.

use std::path::Path;
use std::process::ExitCode;

use super::open;
use crate::settings::{self, Settings};

/// `skilleval audit verify [--anchor FILE]`: exits 2 on a bad entry or anchor.
pub async fn verify(
    config: Option<&Path>,
    db: settings::DbArgs,
    anchor: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    let s = Settings::load(config, &db, None)?;
    let mut store = open(&s).await?;
    let mut bad = false;
    match store.db.verify_audit_chain().await? {
        Ok(r) => println!("审计链完整：共 {} 条，链头 {}", r.entries, r.head),
        Err(b) => {
            eprintln!("{b}");
            bad = true;
        }
    }
    if let Some(file) = anchor {
        let Some(keys) = s.keys()? else {
            anyhow::bail!("核对锚点需要审计锚点签名密钥：请配置 keys_file（含 anchor_keys）");
        };
        store = store.with_keys(keys);
        let anchors = store::anchor::read_anchors(&file)?;
        if anchors.is_empty() {
            anyhow::bail!("锚点文件 {} 中没有锚点", file.display());
        }
        for a in &anchors {
            match store.check_anchor(a).await {
                Ok(store::anchor::AnchorCheck::Holds { .. }) => {}
                Ok(c) => {
                    eprintln!("锚点（第 {} 条，{}）：{c}", a.seq, a.at);
                    bad = true;
                }
                Err(e) => {
                    eprintln!("{e}");
                    bad = true;
                }
            }
        }
        if !bad {
            println!("锚点一致：{} 个锚点均与数据库相符", anchors.len());
        }
    }
    Ok(if bad {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// `skilleval audit anchor`.
pub async fn anchor(config: Option<&Path>, db: settings::DbArgs) -> anyhow::Result<ExitCode> {
    let s = Settings::load(config, &db, None)?;
    let Some(keys) = s.keys()? else {
        anyhow::bail!("未配置密钥：请配置 keys_file（含 anchor_keys）");
    };
    let store = open(&s).await?.with_keys(keys);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let a = store
        .anchor_to(std::path::Path::new(&s.anchor_dir), &now)
        .await?;
    println!(
        "已锚定审计链头：第 {} 条 {}（{}）",
        a.seq, a.hash, s.anchor_dir
    );
    Ok(ExitCode::SUCCESS)
}
