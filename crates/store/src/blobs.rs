//! Blob storage for uploaded materials, behind one small trait so that an S3-compatible store
//! can be added later without touching callers.
//!
//! Blobs are content-addressed by SHA-256: the key of a blob is `ab/cd/<64 hex>` where `ab`
//! and `cd` are the first two byte pairs of the hash. The same content is stored once; a stored
//! blob is never overwritten. Rows that point to blobs (documents) are written only after the
//! blob is safely stored, so a crash leaves at most an unreferenced blob, never a dangling row.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use sha2::{Digest, Sha256};

use crate::{Result, StoreError};

/// The future type of [`BlobStore`] methods (boxed, so the trait stays object safe).
pub type BlobFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// What `put` returns: where the blob is and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// `ab/cd/<sha256>`.
    pub key: String,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    pub size: u64,
}

/// Where uploaded bytes live.
pub trait BlobStore: Send + Sync {
    /// Store `bytes` (idempotent: storing the same content again returns the same key and
    /// leaves the existing blob untouched).
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BlobFuture<'a, StoredBlob>;
    /// The bytes under `key`; `StoreError::NotFound` when absent.
    fn get<'a>(&'a self, key: &'a str) -> BlobFuture<'a, Vec<u8>>;
    /// Remove the blob under `key` (销毁, after the last row naming it is gone). Removing an
    /// absent blob succeeds, so an interrupted purge can simply run again.
    fn delete<'a>(&'a self, key: &'a str) -> BlobFuture<'a, ()>;
    /// For logs and `skilleval` diagnostics.
    fn describe(&self) -> String;
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The content address of a hash: `ab/cd/<hash>`.
pub fn blob_key(sha256: &str) -> String {
    format!("{}/{}/{}", &sha256[0..2], &sha256[2..4], sha256)
}

/// Accept only keys of the form `ab/cd/<64 lower hex>` whose prefix matches: no path tricks.
pub fn valid_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split('/').collect();
    let hex64 = |s: &str| {
        s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    parts.len() == 3
        && hex64(parts[2])
        && parts[0] == &parts[2][0..2]
        && parts[1] == &parts[2][2..4]
}

/// A local directory (default `<data-dir>/blobs`).
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
}

impl LocalBlobStore {
    /// Use (and create on first write) the directory `root`.
    pub fn new(root: impl Into<PathBuf>) -> LocalBlobStore {
        LocalBlobStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn put_blocking(root: &Path, bytes: &[u8]) -> Result<StoredBlob> {
        let sha256 = sha256_hex(bytes);
        let key = blob_key(&sha256);
        let path = root.join(&key);
        let stored = StoredBlob {
            key,
            sha256,
            size: bytes.len() as u64,
        };
        if path.exists() {
            return Ok(stored);
        }
        let io = |what: &str, e: std::io::Error| {
            StoreError::Other(format!("文件存储失败（{what}）: {e}"))
        };
        let dir = path.parent().expect("key has a directory");
        std::fs::create_dir_all(dir).map_err(|e| io("创建目录", e))?;
        let tmp_dir = root.join("tmp");
        std::fs::create_dir_all(&tmp_dir).map_err(|e| io("创建临时目录", e))?;
        let tmp = tmp_dir.join(format!("{}.{}.part", stored.sha256, rand::random::<u64>()));
        let result = (|| {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(|e| io("写入", e))?;
            f.write_all(bytes).map_err(|e| io("写入", e))?;
            f.sync_all().map_err(|e| io("写入", e))?;
            // A hard link never replaces an existing file: if another writer stored the same
            // content first, theirs stays and ours is discarded.
            match std::fs::hard_link(&tmp, &path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                Err(e) => Err(io("保存", e)),
            }
        })();
        let _ = std::fs::remove_file(&tmp);
        result.map(|_| stored)
    }
}

impl BlobStore for LocalBlobStore {
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BlobFuture<'a, StoredBlob> {
        Box::pin(async move {
            let root = self.root.clone();
            // The copy keeps the blocking thread independent of the caller's borrow.
            let owned = bytes.to_vec();
            tokio::task::spawn_blocking(move || LocalBlobStore::put_blocking(&root, &owned))
                .await
                .map_err(|e| StoreError::Other(format!("文件存储失败: {e}")))?
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BlobFuture<'a, Vec<u8>> {
        Box::pin(async move {
            if !valid_key(key) {
                return Err(StoreError::NotFound);
            }
            match tokio::fs::read(self.root.join(key)).await {
                Ok(b) => Ok(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound),
                Err(e) => Err(StoreError::Other(format!("文件读取失败: {e}"))),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            if !valid_key(key) {
                return Err(StoreError::Invalid(format!("文件标识无效：{key}")));
            }
            match tokio::fs::remove_file(self.root.join(key)).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(StoreError::Other(format!("文件删除失败: {e}"))),
            }
        })
    }

    fn describe(&self) -> String {
        format!("local:{}", self.root.display())
    }
}

/// The default of [`crate::Store::open`]: refuses to store anything until a real store is set
/// with [`crate::Store::with_blobs`], so that files never land in a surprising place.
#[derive(Debug, Clone, Default)]
pub struct UnconfiguredBlobStore;

impl BlobStore for UnconfiguredBlobStore {
    fn put<'a>(&'a self, _bytes: &'a [u8]) -> BlobFuture<'a, StoredBlob> {
        Box::pin(async { Err(StoreError::Other("未配置文件存储目录".into())) })
    }
    fn get<'a>(&'a self, _key: &'a str) -> BlobFuture<'a, Vec<u8>> {
        Box::pin(async { Err(StoreError::Other("未配置文件存储目录".into())) })
    }
    fn delete<'a>(&'a self, _key: &'a str) -> BlobFuture<'a, ()> {
        Box::pin(async { Err(StoreError::Other("未配置文件存储目录".into())) })
    }
    fn describe(&self) -> String {
        "unconfigured".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn content_addressed_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalBlobStore::new(dir.path().join("blobs"));
        let a = s.put(b"hello").await.unwrap();
        assert_eq!(a.sha256, sha256_hex(b"hello"));
        assert_eq!(a.key, blob_key(&a.sha256));
        assert!(a
            .key
            .starts_with(&format!("{}/{}/", &a.sha256[..2], &a.sha256[2..4])));
        let again = s.put(b"hello").await.unwrap();
        assert_eq!(a, again);
        assert_eq!(s.get(&a.key).await.unwrap(), b"hello");
        // No temp files left behind.
        let tmp: Vec<_> = std::fs::read_dir(dir.path().join("blobs/tmp"))
            .unwrap()
            .collect();
        assert!(tmp.is_empty());
    }

    #[tokio::test]
    async fn bad_keys_are_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalBlobStore::new(dir.path());
        for key in ["../etc/passwd", "ab/cd/ef", "", "/etc/passwd"] {
            assert!(
                matches!(s.get(key).await, Err(StoreError::NotFound)),
                "{key}"
            );
        }
        let missing = blob_key(&sha256_hex(b"never stored"));
        assert!(matches!(s.get(&missing).await, Err(StoreError::NotFound)));
    }

    #[tokio::test]
    async fn delete_removes_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalBlobStore::new(dir.path());
        let a = s.put(b"to be disposed").await.unwrap();
        s.delete(&a.key).await.unwrap();
        assert!(matches!(s.get(&a.key).await, Err(StoreError::NotFound)));
        s.delete(&a.key).await.unwrap();
        assert!(s.delete("../etc/passwd").await.is_err());
    }

    #[tokio::test]
    async fn unconfigured_refuses() {
        assert!(UnconfiguredBlobStore.put(b"x").await.is_err());
    }
}
