//! An S3-compatible [`BlobStore`] (AWS S3, MinIO, Ceph RGW, a cloud's OSS/COS S3 endpoint, moto
//! in tests), through the `object_store` crate. Kept in a crate of its own: its HTTP and TLS
//! stack is heavy and the store crate must not wait for it.
//!
//! Keys are the same content addresses as the local directory's (`ab/cd/<sha256>`, under an
//! optional prefix), so a directory copied into a bucket (`aws s3 sync blobs/ s3://bucket/`) is
//! found as it is. A blob is never overwritten: `put` asks whether the key exists first, and two
//! servers racing to store the same content write the same bytes.

use std::sync::Arc;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use store::blobs::{blob_key, sha256_hex, valid_key, BlobFuture, BlobStore, StoredBlob};
use store::StoreError;

/// Where the bucket is and how to reach it. Credentials come from configuration or the
/// environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, ...), never from the database;
/// `Debug` hides the secret.
#[derive(Clone, Default)]
pub struct S3Config {
    pub bucket: String,
    /// `http(s)://host:port` of an S3-compatible service; empty = AWS for `region`.
    pub endpoint: String,
    pub region: String,
    /// Empty = from the environment (`AWS_ACCESS_KEY_ID`).
    pub access_key_id: String,
    /// Empty = from the environment (`AWS_SECRET_ACCESS_KEY`). Secret.
    pub secret_access_key: String,
    /// Key prefix inside the bucket, e.g. `skilleval/`; empty = the bucket's root.
    pub prefix: String,
    /// Allow a plain `http://` endpoint (an intranet store or a test server).
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &if self.secret_access_key.is_empty() {
                    ""
                } else {
                    store::HIDDEN
                },
            )
            .field("prefix", &self.prefix)
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// Uploaded files in an S3 bucket.
pub struct S3BlobStore {
    inner: Arc<AmazonS3>,
    bucket: String,
    endpoint: String,
    prefix: String,
}

impl std::fmt::Debug for S3BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn other(what: &str, e: object_store::Error) -> StoreError {
    StoreError::Other(format!("对象存储{what}失败: {e}"))
}

impl S3BlobStore {
    /// Build the client (no request is made: see [`S3BlobStore::check`]).
    pub fn new(c: &S3Config) -> Result<S3BlobStore, StoreError> {
        if c.bucket.trim().is_empty() {
            return Err(StoreError::Invalid("未配置对象存储桶 s3_bucket".into()));
        }
        // The AWS_* environment first, then what the configuration names.
        let mut b = AmazonS3Builder::from_env().with_bucket_name(c.bucket.trim());
        if !c.region.trim().is_empty() {
            b = b.with_region(c.region.trim());
        }
        if !c.endpoint.trim().is_empty() {
            // Path-style requests (`endpoint/bucket/key`): what MinIO, Ceph and moto expect.
            b = b
                .with_endpoint(c.endpoint.trim().trim_end_matches('/'))
                .with_virtual_hosted_style_request(false);
        }
        if !c.access_key_id.trim().is_empty() {
            b = b.with_access_key_id(c.access_key_id.trim());
        }
        if !c.secret_access_key.is_empty() {
            b = b.with_secret_access_key(&c.secret_access_key);
        }
        if c.allow_http || c.endpoint.trim().starts_with("http://") {
            b = b.with_allow_http(true);
        }
        let inner = b.build().map_err(|e| {
            // The builder's message names settings, never secrets.
            StoreError::Invalid(format!("对象存储配置有误: {e}"))
        })?;
        let prefix = c.prefix.trim().trim_matches('/').to_string();
        Ok(S3BlobStore {
            inner: Arc::new(inner),
            bucket: c.bucket.trim().to_string(),
            endpoint: c.endpoint.trim().to_string(),
            prefix,
        })
    }

    fn path(&self, key: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        }
    }

    /// One request at start (a `LIST` of at most a page under the prefix), so a wrong bucket,
    /// endpoint or key stops `serve` with a message instead of failing the first upload.
    pub async fn check(&self) -> Result<(), StoreError> {
        use object_store::ObjectStore as _;
        let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        self.inner
            .list_with_delimiter(prefix.as_ref())
            .await
            .map(|_| ())
            .map_err(|e| other("连接", e))
    }
}

impl BlobStore for S3BlobStore {
    fn put<'a>(&'a self, bytes: &'a [u8]) -> BlobFuture<'a, StoredBlob> {
        Box::pin(async move {
            let sha256 = sha256_hex(bytes);
            let key = blob_key(&sha256);
            let stored = StoredBlob {
                key,
                sha256,
                size: bytes.len() as u64,
            };
            let path = self.path(&stored.key);
            match self.inner.head(&path).await {
                Ok(meta) if meta.size == stored.size => return Ok(stored),
                // A different size under a content address is a torn earlier write: replace it.
                Ok(_) => {}
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(other("读取", e)),
            }
            // A single PUT is atomic in S3: readers see the whole object or none.
            self.inner
                .put(&path, PutPayload::from(bytes.to_vec()))
                .await
                .map_err(|e| other("写入", e))?;
            Ok(stored)
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BlobFuture<'a, Vec<u8>> {
        Box::pin(async move {
            if !valid_key(key) {
                return Err(StoreError::NotFound);
            }
            match self.inner.get(&self.path(key)).await {
                Ok(r) => Ok(r.bytes().await.map_err(|e| other("读取", e))?.to_vec()),
                Err(object_store::Error::NotFound { .. }) => Err(StoreError::NotFound),
                Err(e) => Err(other("读取", e)),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            if !valid_key(key) {
                return Err(StoreError::Invalid(format!("文件标识无效：{key}")));
            }
            match self.inner.delete(&self.path(key)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(other("删除", e)),
            }
        })
    }

    fn describe(&self) -> String {
        let endpoint = if self.endpoint.is_empty() {
            "aws"
        } else {
            &self.endpoint
        };
        if self.prefix.is_empty() {
            format!("s3:{endpoint}/{}", self.bucket)
        } else {
            format!("s3:{endpoint}/{}/{}", self.bucket, self.prefix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let c = S3Config {
            bucket: "b".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG".into(),
            ..Default::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("wJalr"), "{shown}");
        assert!(shown.contains(store::HIDDEN), "{shown}");
    }

    #[test]
    fn a_bucket_is_required_and_describe_names_no_secret() {
        assert!(S3BlobStore::new(&S3Config::default()).is_err());
        let s = S3BlobStore::new(&S3Config {
            bucket: "files".into(),
            endpoint: "http://127.0.0.1:9000".into(),
            region: "us-east-1".into(),
            access_key_id: "k".into(),
            secret_access_key: "topsecret".into(),
            prefix: "/skilleval/".into(),
            allow_http: false,
        })
        .unwrap();
        assert_eq!(s.describe(), "s3:http://127.0.0.1:9000/files/skilleval");
        assert!(!format!("{s:?}").contains("topsecret"));
        assert_eq!(s.path("ab/cd/x").as_ref(), "skilleval/ab/cd/x");
    }
}
