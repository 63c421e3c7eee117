//! Serving the platform: keys, storage, migrations and reference data checked before listening.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::open;
use crate::settings::{self, Settings};

use store::ReferenceFiles;

use super::{load_policy, store_redact};

/// `skilleval serve`.
pub async fn run(config: Option<&Path>, args: settings::ServeArgs) -> anyhow::Result<ExitCode> {
    let s = Settings::load(config, &args.db, Some(&args))?;
    crate::init_logging(&s.log);
    serve(s).await?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(s: Settings) -> anyhow::Result<()> {
    // Certificate fonts are read once, before serving, so a wrong path stops the start.
    certpdf::install_fonts(
        certpdf::Fonts::from_config(&s.font_config()).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let keys = match s.keys()? {
        Some(k) => k,
        None if s.demo => {
            tracing::warn!("no keys configured: using the PUBLIC demo keys (--demo only, never for real data)");
            store::Keys::demo()
        }
        None => anyhow::bail!(
            "未配置密钥：请用 `skilleval keys generate --out /etc/skilleval/keys.toml` 生成密钥文件，\
             并在配置中设置 keys_file（或 letter_keys 与 id_pepper）；演示可用 --demo。见 docs/operations.md"
        ),
    };
    let store = open(&s).await?.with_keys(keys);
    // A wrong bucket, endpoint or key stops the start, not the first upload.
    if let Some(c) = s.s3()? {
        blobs_s3::S3BlobStore::new(&c)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .check()
            .await
            .map_err(|e| anyhow::anyhow!("{e}（{c:?}）"))?;
    }
    // Several app servers may start together on a fresh PostgreSQL database: migrations, key
    // fingerprints, reference data and demo data are prepared under one advisory lock, by the
    // first server; the others wait, then find them done. SQLite has one app server.
    // `skilleval migrate` remains for controlled rollouts.
    let startup = store.db.startup_lock().await?;
    let applied = store.migrate().await?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    // Keys against the fingerprints the database keeps (first start: record, rehash).
    store.check_keys().await?;
    let (d, o, c) = store.load_reference(&ReferenceFiles::builtin()).await?;
    if d + o + c > 0 {
        tracing::info!(
            divisions = d,
            occupations = o,
            calendar_years = c,
            "reference data loaded"
        );
    }
    let today = s.web_config().fixed_today.unwrap_or_else(web::today_cn);
    if s.demo && store::demo::seed(&store, today).await? {
        tracing::info!("demo data created; every demo account uses the password demo-password");
    }
    startup.release().await?;
    let policy = load_policy(&s)?;
    let (cert_signing_key, cert_public_keys) = s.cert_keys()?;
    if cert_signing_key.is_none() && !s.demo {
        tracing::warn!("no certificate signing key configured (cert_signing_key): certificates cannot be issued");
    }
    let config = web::WebConfig {
        cert_signing_key,
        cert_public_keys,
        outbox: s.outbox()?,
        ..s.web_config()
    };
    let blobs = store.blobs.describe();
    let state = web::AppState::new(store, config, policy);
    let listener = tokio::net::TcpListener::bind(&s.listen)
        .await
        .with_context(|| format!("无法监听 {}", s.listen))?;
    tracing::info!(listen = %s.listen, database = %store_redact(&s.database), blobs = %blobs, demo = s.demo, "skilleval serving");
    println!(
        "技能人才评价服务平台已启动：http://{}",
        listener.local_addr()?
    );
    web::serve(listener, state).await?;
    Ok(())
}
