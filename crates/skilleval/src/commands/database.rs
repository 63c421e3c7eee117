//! The database as a whole: migrations, backup (备份) and restore (恢复).

use std::path::Path;
use std::process::ExitCode;

use super::open;
use crate::settings::{self, Settings};

/// `skilleval migrate`.
pub async fn migrate(config: Option<&Path>, db: settings::DbArgs) -> anyhow::Result<ExitCode> {
    let s = Settings::load(config, &db, None)?;
    crate::init_logging(&s.log);
    let store = open(&s).await?;
    // Keys are needed only to move signatures off a key earlier versions kept in the
    // database; `serve` checks them in full.
    let store = match s.keys()? {
        Some(k) => store.with_keys(k),
        None => store,
    };
    let n = store.migrate().await?;
    println!(
        "已应用 {n} 个迁移；当前版本 {:?}",
        store.db.applied_migrations().await?
    );
    Ok(ExitCode::SUCCESS)
}

/// `skilleval backup --to DIR`.
pub async fn backup(
    config: Option<&Path>,
    db: settings::DbArgs,
    to: std::path::PathBuf,
) -> anyhow::Result<ExitCode> {
    let s = Settings::load(config, &db, None)?;
    if s.s3()?.is_some() {
        anyhow::bail!("backup 只备份嵌入式数据库与本地文件目录；文件在对象存储（blob_store = \"s3\"）时请用 pg_dump 与对象存储自身的复制（见 docs/operations.md）");
    }
    let mut store = open(&s).await?;
    // With anchor keys, the backup carries a signed anchor of its audit head.
    if let Some(keys) = s.keys()? {
        store = store.with_keys(keys);
    }
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let m = store
        .backup_to(&s.database, std::path::Path::new(&s.blobs_dir), &to, &now)
        .await?;
    println!(
        "备份完成：{}（数据库 {} 字节，上传文件 {} 个，审计链头 {} 号 {}）",
        to.display(),
        m.database.size,
        m.blobs.len(),
        m.audit_seq,
        m.audit_head
    );
    Ok(ExitCode::SUCCESS)
}

/// `skilleval restore --from DIR`.
pub async fn restore(
    config: Option<&Path>,
    db: settings::DbArgs,
    from: std::path::PathBuf,
) -> anyhow::Result<ExitCode> {
    let s = Settings::load(config, &db, None)?;
    let Some(file) = store::backup::sqlite_path(&s.database) else {
        anyhow::bail!(
            "恢复只支持内置 SQLite 数据库；PostgreSQL 请按 docs/operations.md 使用 pg_restore"
        );
    };
    let m = store::backup::restore(&from, &file, std::path::Path::new(&s.blobs_dir)).await?;
    println!(
        "已恢复到 {}：上传文件 {} 个，审计链头 {} 号；请运行 skilleval audit verify 核对",
        file.display(),
        m.blobs.len(),
        m.audit_seq
    );
    Ok(ExitCode::SUCCESS)
}
