//! The S3 blob store against a real S3 protocol server: moto's (`pip install "moto[server]"`),
//! started here on a free port. Without `moto_server` the test says SKIPPED and passes, unless
//! `SKILLEVAL_REQUIRE_S3=1` (CI installs moto and sets it).

use std::process::{Child, Command, Stdio};

use skilleval_blobs_s3::{S3BlobStore, S3Config};
use store::blobs::{blob_key, sha256_hex, BlobStore};
use store::StoreError;

struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_command() -> String {
    std::env::var("SKILLEVAL_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into())
}

async fn start_moto() -> Option<Moto> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = match Command::new(moto_command())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            let what = format!(
                "s3_blob_store_round_trip: moto_server not found ({e}); pip install \"moto[server]\" to run it"
            );
            if std::env::var("SKILLEVAL_REQUIRE_S3").is_ok_and(|v| v == "1") {
                panic!("{what} (SKILLEVAL_REQUIRE_S3=1)");
            }
            store::testing::announce_skipped(&what);
            return None;
        }
    };
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    for _ in 0..150 {
        if http.get(&moto.endpoint).send().await.is_ok() {
            return Some(moto);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("moto_server did not answer on {}", moto.endpoint);
}

#[tokio::test]
async fn s3_blob_store_round_trip() {
    let Some(moto) = start_moto().await else {
        return;
    };
    // moto takes any credentials; a bucket is made with a plain PUT.
    let created = reqwest::Client::new()
        .put(format!("{}/skilleval-files", moto.endpoint))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{:?}", created.status());
    let config = S3Config {
        bucket: "skilleval-files".into(),
        endpoint: moto.endpoint.clone(),
        region: "us-east-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        prefix: "blobs".into(),
        allow_http: true,
    };
    let s = S3BlobStore::new(&config).unwrap();
    s.check().await.unwrap();
    assert!(s.describe().starts_with("s3:http://127.0.0.1:"));

    // put: content-addressed key, hash and size.
    let body = "郑州市职业技能等级证书 材料".repeat(1000).into_bytes();
    let a = s.put(&body).await.unwrap();
    assert_eq!(a.sha256, sha256_hex(&body));
    assert_eq!(a.key, blob_key(&a.sha256));
    assert_eq!(a.size, body.len() as u64);
    // get: the same bytes back.
    assert_eq!(s.get(&a.key).await.unwrap(), body);
    // The object sits under the prefix, at the content address.
    {
        use object_store::ObjectStore;
        let direct = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name("skilleval-files")
            .with_endpoint(&moto.endpoint)
            .with_region("us-east-1")
            .with_access_key_id("testing")
            .with_secret_access_key("testing")
            .with_allow_http(true)
            .build()
            .unwrap();
        let raw = direct
            .get(&object_store::path::Path::from(format!("blobs/{}", a.key)))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(raw.as_ref(), body.as_slice());
    }

    // Idempotent put: the same key, the same bytes.
    let again = s.put(&body).await.unwrap();
    assert_eq!(again, a);
    assert_eq!(s.get(&a.key).await.unwrap(), body);
    // Another content, another key; an empty blob works.
    let b = s.put(b"").await.unwrap();
    assert_ne!(b.key, a.key);
    assert_eq!(s.get(&b.key).await.unwrap(), b"");

    // Not found: absent keys and keys that are not content addresses.
    let missing = blob_key(&sha256_hex(b"never stored"));
    assert!(matches!(s.get(&missing).await, Err(StoreError::NotFound)));
    for bad in ["../etc/passwd", "ab/cd/ef", ""] {
        assert!(
            matches!(s.get(bad).await, Err(StoreError::NotFound)),
            "{bad}"
        );
    }

    // delete: gone, and deleting again succeeds (an interrupted purge can run again).
    s.delete(&a.key).await.unwrap();
    assert!(matches!(s.get(&a.key).await, Err(StoreError::NotFound)));
    s.delete(&a.key).await.unwrap();
    assert!(s.delete("../etc/passwd").await.is_err());
    // The other blob is untouched.
    assert_eq!(s.get(&b.key).await.unwrap(), b"");

    // A wrong bucket is refused at start, naming the failure.
    let wrong = S3BlobStore::new(&S3Config {
        bucket: "no-such-bucket".into(),
        ..config
    })
    .unwrap();
    assert!(wrong.check().await.is_err());
}
