//! Backups and restore of an embedded (SQLite) deployment: the database and the uploaded files
//! it names, with a manifest of checksums (二(三): "电子版材料保存五年").
//!
//! `VACUUM INTO` writes a consistent copy while the server keeps writing (it reads one snapshot);
//! the list of blobs is read from that copy, so the files match the database exactly. A restore
//! checks every checksum first and refuses a damaged or incomplete backup before touching anything.
//! PostgreSQL deployments use `pg_dump`/`pg_restore` (docs/operations.md) plus the same blob copy.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sqlx::{Connection, Row};

use crate::blobs::{blob_key, sha256_hex};
use crate::db::Backend;
use crate::Store;

/// The manifest's format tag.
pub const FORMAT: &str = "skilleval-backup-1";
/// File names inside a backup directory.
pub const MANIFEST: &str = "manifest.json";
pub const DATABASE: &str = "database.sqlite3";
pub const BLOBS: &str = "blobs";

/// What a backup holds, with checksums.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    /// When it was made (RFC 3339, the caller's clock).
    pub created_at: String,
    pub database: FileEntry,
    pub blobs: Vec<FileEntry>,
    /// The head of the audit chain inside the copy: seq and hash.
    pub audit_seq: i64,
    pub audit_head: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// Path inside the backup directory (`database.sqlite3`, `blobs/ab/cd/<sha256>`).
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// Why a backup or restore was refused (messages in Chinese, for the operator).
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("备份只支持内置 SQLite 数据库；PostgreSQL 请按 docs/operations.md 使用 pg_dump")]
    NotSqlite,
    #[error("目标目录 {0} 已存在且不为空，不会覆盖")]
    TargetNotEmpty(PathBuf),
    #[error("备份目录缺少清单 manifest.json 或清单无法解析：{0}")]
    BadManifest(String),
    #[error("备份已损坏：{path} 的校验值不符（应为 {expected}，实为 {actual}）")]
    Checksum {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("备份不完整：缺少文件 {0}")]
    Missing(String),
    #[error("备份不完整：数据库引用的文件 {0} 不在清单中")]
    Unlisted(String),
    #[error("上传文件 {0} 在文件库中不存在或内容不符，无法备份")]
    BlobMissing(String),
    #[error("目标数据库 {0} 已存在，不会覆盖")]
    TargetExists(PathBuf),
    #[error("数据库错误：{0}")]
    Db(#[from] sqlx::Error),
    #[error("文件错误：{0}")]
    Io(#[from] std::io::Error),
}

type Result<T> = std::result::Result<T, BackupError>;

/// The SQLite file behind a `sqlite://` URL.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn dir_is_empty(dir: &Path) -> Result<bool> {
    Ok(!dir.exists() || std::fs::read_dir(dir)?.next().is_none())
}

fn file_entry(root: &Path, rel: &str) -> Result<FileEntry> {
    let bytes = std::fs::read(root.join(rel))?;
    Ok(FileEntry {
        path: rel.to_string(),
        sha256: sha256_hex(&bytes),
        size: bytes.len() as u64,
    })
}

/// Blob keys the database at `db_file` names, and its audit head.
async fn referenced(db_file: &Path) -> Result<(BTreeSet<String>, i64, String)> {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", db_file.display());
    let mut conn = sqlx::AnyConnection::connect(&url).await?;
    let keys = sqlx::query("SELECT DISTINCT blob_key FROM documents")
        .fetch_all(&mut conn)
        .await?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    let head = sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut conn)
        .await?
        .map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1)))
        .unwrap_or((0, String::new()));
    conn.close().await?;
    Ok((keys, head.0, head.1))
}

impl Store {
    /// Write a consistent backup of this (SQLite) store and the blobs it names to `to`, which must
    /// be absent or empty. Safe while the server runs and writes.
    ///
    /// Crash-safe: everything is written into `<to>.incomplete` (a leftover of an interrupted run
    /// is removed first), each file synced, the manifest last, and only then renamed to `to`. So
    /// `to` exists only complete; an interrupted run leaves no manifest anywhere, and `restore`
    /// refuses what has none.
    pub async fn backup_to(
        &self,
        db_url: &str,
        blobs_root: &Path,
        to: &Path,
        now: &str,
    ) -> Result<Manifest> {
        if self.db.backend != Backend::Sqlite || sqlite_path(db_url).is_none() {
            return Err(BackupError::NotSqlite);
        }
        if !dir_is_empty(to)? {
            return Err(BackupError::TargetNotEmpty(to.to_path_buf()));
        }
        let stage = staging_dir(to)?;
        if stage.exists() {
            std::fs::remove_dir_all(&stage)?;
        }
        std::fs::create_dir_all(&stage)?;
        let db_file = stage.join(DATABASE);
        // One snapshot, written by SQLite itself; single quotes doubled for the literal.
        let target = db_file.display().to_string().replace('\'', "''");
        sqlx::query(&format!("VACUUM INTO '{target}'"))
            .execute(&self.db.pool)
            .await?;
        std::fs::File::open(&db_file)?.sync_all()?;
        let (keys, audit_seq, audit_head) = referenced(&db_file).await?;
        let mut blobs = vec![];
        for key in &keys {
            let src = blobs_root.join(key);
            let bytes = std::fs::read(&src).map_err(|_| BackupError::BlobMissing(key.clone()))?;
            // A blob's name is its hash: a file that does not match is not the blob.
            let sha = sha256_hex(&bytes);
            if blob_key(&sha) != *key {
                return Err(BackupError::BlobMissing(key.clone()));
            }
            let rel = format!("{BLOBS}/{key}");
            let dst = stage.join(&rel);
            std::fs::create_dir_all(dst.parent().expect("blob keys have directories"))?;
            write_synced(&dst, &bytes)?;
            blobs.push(FileEntry {
                path: rel,
                sha256: sha,
                size: bytes.len() as u64,
            });
        }
        let manifest = Manifest {
            format: FORMAT.into(),
            created_at: now.to_string(),
            database: file_entry(&stage, DATABASE)?,
            blobs,
            audit_seq,
            audit_head,
        };
        // 审计锚点: the copy's head, signed, next to it (when anchor keys are configured).
        if let Some(signer) = self.keys.anchor_signer() {
            let a = crate::anchor::sign(
                &signer,
                manifest.audit_seq,
                manifest.audit_head.clone(),
                now,
            );
            crate::anchor::append_anchor(&stage, &a)
                .map_err(|e| BackupError::Io(std::io::Error::other(e.to_string())))?;
        }
        let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
        // The manifest is written last: a backup without one is visibly unfinished.
        write_synced(&stage.join(MANIFEST), &json)?;
        sync_dir(&stage)?;
        if to.exists() {
            // Empty (checked above): rename needs it gone.
            std::fs::remove_dir(to)?;
        }
        std::fs::rename(&stage, to)?;
        if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        Ok(manifest)
    }
}

/// Where a backup to `to` is built: `<to>.incomplete`, beside it (same file system, so the final
/// rename is atomic).
pub fn staging_dir(to: &Path) -> Result<PathBuf> {
    let name = to.file_name().ok_or_else(|| {
        BackupError::Io(std::io::Error::other(format!(
            "备份目录 {} 无效",
            to.display()
        )))
    })?;
    let mut staged = name.to_os_string();
    staged.push(".incomplete");
    Ok(to.with_file_name(staged))
}

/// Write a file and flush it to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Flush a directory's entries (new names, renames) to disk.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Check a backup directory: the manifest, every checksum, and that every blob the database
/// copy names is in it.
pub async fn verify_backup(dir: &Path) -> Result<Manifest> {
    let text =
        std::fs::read(dir.join(MANIFEST)).map_err(|e| BackupError::BadManifest(e.to_string()))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| BackupError::BadManifest(e.to_string()))?;
    if manifest.format != FORMAT {
        return Err(BackupError::BadManifest(format!(
            "未知格式 {}",
            manifest.format
        )));
    }
    for entry in std::iter::once(&manifest.database).chain(&manifest.blobs) {
        if entry.path.contains("..") || entry.path.starts_with('/') {
            return Err(BackupError::BadManifest(format!("非法路径 {}", entry.path)));
        }
        let Ok(bytes) = std::fs::read(dir.join(&entry.path)) else {
            return Err(BackupError::Missing(entry.path.clone()));
        };
        let actual = sha256_hex(&bytes);
        if actual != entry.sha256 {
            return Err(BackupError::Checksum {
                path: entry.path.clone(),
                expected: entry.sha256.clone(),
                actual,
            });
        }
    }
    let (keys, _, _) = referenced(&dir.join(DATABASE)).await?;
    let listed: BTreeSet<&str> = manifest
        .blobs
        .iter()
        .filter_map(|b| b.path.strip_prefix("blobs/"))
        .collect();
    if let Some(k) = keys.iter().find(|k| !listed.contains(k.as_str())) {
        return Err(BackupError::Unlisted(k.clone()));
    }
    Ok(manifest)
}

/// Restore a verified backup into `db_file` (which must not exist) and `blobs_root` (blobs are
/// content-addressed, so existing ones are kept).
pub async fn restore(from: &Path, db_file: &Path, blobs_root: &Path) -> Result<Manifest> {
    let manifest = verify_backup(from).await?;
    if db_file.exists() {
        return Err(BackupError::TargetExists(db_file.to_path_buf()));
    }
    for b in &manifest.blobs {
        let key = b.path.trim_start_matches("blobs/");
        let dst = blobs_root.join(key);
        if !dst.exists() {
            std::fs::create_dir_all(dst.parent().expect("blob keys have directories"))?;
            std::fs::copy(from.join(&b.path), &dst)?;
        }
    }
    if let Some(parent) = db_file.parent() {
        std::fs::create_dir_all(parent)?;
    }
    // Copy under a temporary name, then rename: a crash never leaves a half database.
    let tmp = db_file.with_extension("restoring");
    std::fs::copy(from.join(DATABASE), &tmp)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, db_file)?;
    if let Some(parent) = db_file.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(manifest)
}
