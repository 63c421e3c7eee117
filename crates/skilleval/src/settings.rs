//! Settings: defaults, then a TOML file, then `SKILLEVAL_*` environment variables, then flags.

use std::path::Path;

use clap::Args;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Args, Debug, Clone, Default)]
pub struct DbArgs {
    /// Database URL: sqlite://<file> (default <data-dir>/skilleval.db) or postgres://user@host/db.
    #[arg(long)]
    pub database: Option<String>,
    /// Directory for the embedded database and uploaded files.
    #[arg(long)]
    pub data_dir: Option<String>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Address to listen on.
    #[arg(long)]
    pub listen: Option<String>,
    /// Fill an empty database with demo data (password demo-password). Without configured keys
    /// the public demo keys are used.
    #[arg(long)]
    pub demo: bool,
    /// A policy file other than the built-in policy/zhengzhou-2022.toml.
    #[arg(long)]
    pub policy: Option<String>,
}

#[derive(Serialize, Deserialize, Clone)]
pub struct Settings {
    pub listen: String,
    pub data_dir: String,
    pub database: String,
    pub demo: bool,
    pub policy: Option<String>,
    pub db_max_connections: u32,
    pub trust_proxy: bool,
    pub secure_cookies: bool,
    pub session_hours: i64,
    pub max_body_mb: usize,
    /// Limit of one upload request (materials), in MB.
    pub max_upload_mb: usize,
    /// Directory of uploaded files; empty = `<data_dir>/blobs`. With several app servers it
    /// must be shared storage.
    pub blobs_dir: String,
    /// Where uploaded files live: `local` (the directory `blobs_dir`, the default) or `s3`
    /// (an S3-compatible bucket: `s3_*` below). Several app servers need `s3` or a shared
    /// directory.
    pub blob_store: String,
    pub s3_bucket: String,
    /// `http(s)://host:port` of an S3-compatible service (MinIO, Ceph, a cloud's OSS/COS S3
    /// endpoint); empty = AWS.
    pub s3_endpoint: String,
    pub s3_region: String,
    /// Empty = `AWS_ACCESS_KEY_ID` from the environment.
    pub s3_access_key_id: String,
    /// Secret: SKILLEVAL_S3_SECRET_ACCESS_KEY or AWS_SECRET_ACCESS_KEY in the environment; never
    /// shown.
    pub s3_secret_access_key: String,
    /// Key prefix inside the bucket, e.g. `skilleval`; empty = the bucket's root.
    pub s3_prefix: String,
    pub log: String,
    /// 演练日期 (`today`, YYYY-MM-DD): pin "today" for drills and training; every page then
    /// shows it in a banner. Empty = the real date in China time.
    pub today: String,
    /// The address users type, e.g. `https://pj.zzrs.gov.cn` (behind a reverse proxy). Form
    /// posts are accepted from this origin and certificate QR codes print it; empty = from the
    /// `Host` the request names.
    pub public_url: String,
    /// More origins whose pages may post here (another system's portal).
    pub trusted_origins: Vec<String>,
    /// 督导责任书签名密钥: "kid=base64,kid2=base64", the first signs (secret).
    pub letter_keys: String,
    /// 证件号码哈希密钥 (base64, secret).
    pub id_pepper: String,
    /// A TOML file holding `letter_keys` and `id_pepper` (made by `skilleval keys generate`).
    pub keys_file: String,
    /// PEM file (PKCS#8) of the Ed25519 certificate signing key. Empty: `--demo` uses the demo
    /// key; otherwise certificates cannot be issued. Never stored in the database.
    pub cert_signing_key: String,
    /// JSON file of the published public keys with their validity (current and retired keys).
    /// Empty: the signing key's public key alone.
    pub cert_public_keys: String,
    /// Public certificate queries per client address per minute (all app servers together).
    pub public_query_limit: u32,
    /// 证书字体: a font file (.otf/.ttf/.ttc) that overrides the built-in Noto Serif CJK SC
    /// subset, e.g. an official 仿宋 face. Empty = built-in.
    pub certificate_font: String,
    /// Family name of the face to use in a collection (.ttc), e.g. "Noto Serif CJK SC".
    pub certificate_font_family: String,
    /// 备用字体 for characters the main font lacks (rare name characters); empty = none.
    pub certificate_fallback_font: String,
    pub certificate_fallback_font_family: String,
    /// 审计锚点签名密钥: "kid=base64,kid2=base64", the first signs (secret).
    pub anchor_keys: String,
    /// Where anchors of the audit chain are appended (`anchors.jsonl`), outside the database;
    /// empty: `<data_dir>/anchors`.
    pub anchor_dir: String,
    /// Minutes between periodic anchors by the scheduler.
    pub anchor_every_minutes: u64,
    /// 邮件: the SMTP server; empty = no e-mail is sent (messages stay pending).
    pub smtp_host: String,
    /// 0 = the usual port of `smtp_tls` (25, 587, 465).
    pub smtp_port: u16,
    /// none | starttls | tls
    pub smtp_tls: String,
    pub smtp_username: String,
    /// Secret: set it in the environment (SKILLEVAL_SMTP_PASSWORD) or a file readable by the
    /// service only; never shown.
    pub smtp_password: String,
    /// The sender, e.g. "郑州市技能人才评价服务平台 <noreply@pj.zzrs.gov.cn>".
    pub smtp_from: String,
    /// 短信: Alibaba Cloud SMS (SendSms) endpoint.
    pub sms_url: String,
    /// Empty = no SMS is sent (messages stay pending).
    pub sms_access_key_id: String,
    /// Secret (SKILLEVAL_SMS_ACCESS_KEY_SECRET); never shown.
    pub sms_access_key_secret: String,
    /// 短信签名 as approved by the provider.
    pub sms_sign_name: String,
    pub sms_region: String,
    /// Message kind → template code: "filing_decision=SMS_1,default=SMS_2".
    pub sms_templates: String,
    /// Seconds between two runs of the outbox sender in each app server.
    pub outbox_every_seconds: u64,
    /// Attempts before a message is failed (发送失败).
    pub outbox_max_attempts: i64,
    /// Wait after the first failed attempt; it doubles after each further one ...
    pub outbox_first_retry_seconds: i64,
    /// ... up to this.
    pub outbox_max_retry_seconds: i64,
}

impl std::fmt::Debug for Settings {
    // The database URL may hold a password; keys are never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: &str| if v.is_empty() { "" } else { store::HIDDEN };
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("database", &store::redact_url(&self.database))
            .field("demo", &self.demo)
            .field("public_url", &self.public_url)
            .field("trusted_origins", &self.trusted_origins)
            .field("letter_keys", &shown(&self.letter_keys))
            .field("id_pepper", &shown(&self.id_pepper))
            .field("keys_file", &self.keys_file)
            .field("anchor_keys", &shown(&self.anchor_keys))
            .field("anchor_dir", &self.anchor_dir)
            .field("blob_store", &self.blob_store)
            .field("s3_bucket", &self.s3_bucket)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_access_key_id", &self.s3_access_key_id)
            .field("s3_secret_access_key", &shown(&self.s3_secret_access_key))
            .field("smtp_host", &self.smtp_host)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &shown(&self.smtp_password))
            .field("sms_url", &self.sms_url)
            .field("sms_access_key_id", &self.sms_access_key_id)
            .field("sms_access_key_secret", &shown(&self.sms_access_key_secret))
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            data_dir: "./data".into(),
            database: String::new(),
            demo: false,
            policy: None,
            db_max_connections: 8,
            trust_proxy: false,
            secure_cookies: false,
            session_hours: 12,
            max_body_mb: 2,
            max_upload_mb: 20,
            blobs_dir: String::new(),
            blob_store: "local".into(),
            s3_bucket: String::new(),
            s3_endpoint: String::new(),
            s3_region: "us-east-1".into(),
            s3_access_key_id: String::new(),
            s3_secret_access_key: String::new(),
            s3_prefix: String::new(),
            log: "info,sqlx=warn,tower_http=warn".into(),
            today: String::new(),
            public_url: String::new(),
            trusted_origins: Vec::new(),
            letter_keys: String::new(),
            id_pepper: String::new(),
            keys_file: String::new(),
            cert_signing_key: String::new(),
            cert_public_keys: String::new(),
            public_query_limit: 30,
            certificate_font: String::new(),
            certificate_font_family: String::new(),
            certificate_fallback_font: String::new(),
            certificate_fallback_font_family: String::new(),
            anchor_keys: String::new(),
            anchor_dir: String::new(),
            anchor_every_minutes: 60,
            smtp_host: String::new(),
            smtp_port: 0,
            smtp_tls: "starttls".into(),
            smtp_username: String::new(),
            smtp_password: String::new(),
            smtp_from: String::new(),
            sms_url: notify::DEFAULT_ENDPOINT.into(),
            sms_access_key_id: String::new(),
            sms_access_key_secret: String::new(),
            sms_sign_name: String::new(),
            sms_region: "cn-hangzhou".into(),
            sms_templates: String::new(),
            outbox_every_seconds: 30,
            outbox_max_attempts: 8,
            outbox_first_retry_seconds: 60,
            outbox_max_retry_seconds: 3600,
        }
    }
}

impl Settings {
    pub fn load(
        config: Option<&Path>,
        db: &DbArgs,
        serve: Option<&ServeArgs>,
    ) -> anyhow::Result<Settings> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        match config {
            Some(p) => {
                if !p.exists() {
                    anyhow::bail!("配置文件不存在: {}", p.display());
                }
                fig = fig.merge(Toml::file(p));
            }
            None => fig = fig.merge(Toml::file("skilleval.toml")),
        }
        fig = fig.merge(Env::prefixed("SKILLEVAL_"));
        let mut s: Settings = fig
            .extract()
            .map_err(|e| anyhow::anyhow!("配置有误: {e}"))?;
        if let Some(d) = &db.data_dir {
            s.data_dir = d.clone();
        }
        if let Some(u) = &db.database {
            s.database = u.clone();
        }
        if let Some(a) = serve {
            if let Some(l) = &a.listen {
                s.listen = l.clone();
            }
            if a.demo {
                s.demo = true;
            }
            if let Some(p) = &a.policy {
                s.policy = Some(p.clone());
            }
        }
        if s.database.is_empty() {
            s.database = format!("sqlite://{}/skilleval.db", s.data_dir.trim_end_matches('/'));
        }
        if s.anchor_dir.is_empty() {
            s.anchor_dir = format!("{}/anchors", s.data_dir.trim_end_matches('/'));
        }
        if s.blobs_dir.is_empty() {
            s.blobs_dir = format!("{}/blobs", s.data_dir.trim_end_matches('/'));
        }
        if !s.today.trim().is_empty()
            && chrono::NaiveDate::parse_from_str(s.today.trim(), "%Y-%m-%d").is_err()
        {
            anyhow::bail!(
                "配置项 today 应为 YYYY-MM-DD 格式的日期，当前为“{}”",
                s.today
            );
        }
        for (name, v) in std::iter::once(("public_url", &s.public_url))
            .filter(|(_, v)| !v.trim().is_empty())
            .chain(s.trusted_origins.iter().map(|v| ("trusted_origins", v)))
        {
            web::middleware::normalize_origin(v)
                .map_err(|e| anyhow::anyhow!("配置项 {name} 有误：{e}"))?;
        }
        // SQLite has one writer; a small pool avoids lock churn.
        if s.database.starts_with("sqlite:") {
            s.db_max_connections = s.db_max_connections.min(4);
        }
        Ok(s)
    }

    /// The S3 settings when `blob_store = "s3"`, `None` for the local directory.
    pub fn s3(&self) -> anyhow::Result<Option<blobs_s3::S3Config>> {
        match self.blob_store.trim() {
            "" | "local" => Ok(None),
            "s3" => {
                if self.s3_bucket.trim().is_empty() {
                    anyhow::bail!(
                        "blob_store = \"s3\" 需要配置 s3_bucket（见 docs/operations.md）"
                    );
                }
                Ok(Some(blobs_s3::S3Config {
                    bucket: self.s3_bucket.trim().to_string(),
                    endpoint: self.s3_endpoint.trim().to_string(),
                    region: self.s3_region.trim().to_string(),
                    access_key_id: self.s3_access_key_id.trim().to_string(),
                    secret_access_key: self.s3_secret_access_key.clone(),
                    prefix: self.s3_prefix.trim().to_string(),
                    allow_http: false,
                }))
            }
            other => anyhow::bail!("配置项 blob_store 应为 local 或 s3，当前为“{other}”"),
        }
    }

    /// The configured blob store: the local directory or the S3 bucket.
    pub fn blobs(&self) -> anyhow::Result<std::sync::Arc<dyn store::BlobStore>> {
        Ok(match self.s3()? {
            None => std::sync::Arc::new(store::LocalBlobStore::new(&self.blobs_dir)),
            Some(c) => std::sync::Arc::new(
                blobs_s3::S3BlobStore::new(&c).map_err(|e| anyhow::anyhow!("{e}"))?,
            ),
        })
    }

    pub fn font_config(&self) -> certpdf::FontConfig {
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        certpdf::FontConfig {
            path: opt(&self.certificate_font).map(Into::into),
            family: opt(&self.certificate_font_family),
            fallbacks: opt(&self.certificate_fallback_font)
                .map(|p| (p.into(), opt(&self.certificate_fallback_font_family)))
                .into_iter()
                .collect(),
        }
    }

    pub fn web_config(&self) -> web::WebConfig {
        web::WebConfig {
            demo: self.demo,
            trust_proxy: self.trust_proxy,
            secure_cookies: self.secure_cookies,
            session_hours: self.session_hours,
            max_body_bytes: self.max_body_mb * 1024 * 1024,
            max_upload_bytes: self.max_upload_mb * 1024 * 1024,
            fixed_today: chrono::NaiveDate::parse_from_str(self.today.trim(), "%Y-%m-%d").ok(),
            public_url: Some(self.public_url.trim().trim_end_matches('/').to_string())
                .filter(|u| !u.is_empty()),
            trusted_origins: self.trusted_origins.clone(),
            public_query_limit: self.public_query_limit.max(1),
            anchor_dir: Some(std::path::PathBuf::from(&self.anchor_dir)),
            anchor_every: std::time::Duration::from_secs(self.anchor_every_minutes.max(1) * 60),
            ..Default::default()
        }
    }

    /// The outbox sender: the configured channels (SMTP, SMS gateway) and the retry rule.
    /// `None` when no channel is configured; an incomplete channel is an error naming the setting.
    pub fn outbox(&self) -> anyhow::Result<Option<web::outbox::OutboxConfig>> {
        let timeout = std::time::Duration::from_secs(20);
        let email = match self.smtp_host.trim() {
            "" => None,
            host => {
                let tls = notify::TlsMode::parse(&self.smtp_tls).map_err(|e| anyhow::anyhow!(e))?;
                if self.smtp_from.trim().is_empty() {
                    anyhow::bail!("已配置 smtp_host，但缺少发件地址 smtp_from");
                }
                Some(notify::SmtpConfig {
                    host: host.to_string(),
                    port: if self.smtp_port == 0 {
                        tls.default_port()
                    } else {
                        self.smtp_port
                    },
                    tls,
                    username: self.smtp_username.trim().to_string(),
                    password: self.smtp_password.clone(),
                    from: self.smtp_from.trim().to_string(),
                    timeout,
                })
            }
        };
        let sms = match self.sms_access_key_id.trim() {
            "" => None,
            key => Some(notify::SmsConfig {
                url: self.sms_url.trim().to_string(),
                access_key_id: key.to_string(),
                access_key_secret: self.sms_access_key_secret.clone(),
                sign_name: self.sms_sign_name.trim().to_string(),
                region: self.sms_region.trim().to_string(),
                templates: notify::SmsConfig::parse_templates(&self.sms_templates)
                    .map_err(|e| anyhow::anyhow!(e))?,
                timeout,
            }),
        };
        let channels = notify::Channels::new(email, sms).map_err(|e| anyhow::anyhow!(e))?;
        if channels.is_empty() {
            return Ok(None);
        }
        if self.outbox_max_attempts < 1 || self.outbox_first_retry_seconds < 1 {
            anyhow::bail!("outbox_max_attempts 与 outbox_first_retry_seconds 须为正整数");
        }
        Ok(Some(web::outbox::OutboxConfig {
            deliver: std::sync::Arc::new(channels),
            retry: domain::outbox::RetryPolicy {
                max_attempts: self.outbox_max_attempts,
                first_delay_secs: self.outbox_first_retry_seconds,
                max_delay_secs: self.outbox_max_retry_seconds,
            },
            every: std::time::Duration::from_secs(self.outbox_every_seconds.max(1)),
        }))
    }

    /// The configured keys: `letter_keys` and `id_pepper` from the settings or from
    /// `keys_file` (not both). `None` when none are configured.
    pub fn keys(&self) -> anyhow::Result<Option<store::Keys>> {
        let (mut letter, mut pepper) = (self.letter_keys.clone(), self.id_pepper.clone());
        let mut anchor = self.anchor_keys.clone();
        if !self.keys_file.trim().is_empty() {
            let path = self.keys_file.trim();
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("无法读取密钥文件 {path}: {e}"))?;
            let file: KeyFile = Figment::from(Toml::string(&text))
                .extract()
                .map_err(|e| anyhow::anyhow!("密钥文件 {path} 有误: {e}"))?;
            if !letter.is_empty() || !pepper.is_empty() {
                anyhow::bail!(
                    "密钥只能来自一处：已设置 keys_file，就不要再设置 letter_keys / id_pepper"
                );
            }
            (letter, pepper) = (file.letter_keys, file.id_pepper);
            if anchor.trim().is_empty() {
                anchor = file.anchor_keys;
            }
        }
        if letter.trim().is_empty() && pepper.trim().is_empty() {
            return Ok(None);
        }
        Ok(Some(
            store::Keys::parse(&letter, &pepper)
                .and_then(|k| k.with_anchor_keys(&anchor))
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ))
    }

    /// The certificate keys from their files (never from the database): the signing key and
    /// the published key ring. The signing key must be in the ring when both are given.
    #[allow(clippy::type_complexity)]
    pub fn cert_keys(
        &self,
    ) -> anyhow::Result<(
        Option<std::sync::Arc<certsign::SigningKey>>,
        Option<std::sync::Arc<certsign::KeyRing>>,
    )> {
        let read = |p: &str, what: &str| {
            std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("无法读取{what} {p}: {e}"))
        };
        let key = match self.cert_signing_key.trim() {
            "" => None,
            p => Some(
                certsign::SigningKey::from_pkcs8_pem(&read(p, "证书签名私钥")?)
                    .map_err(|e| anyhow::anyhow!("证书签名私钥 {p} 有误: {e}"))?,
            ),
        };
        let ring = match self.cert_public_keys.trim() {
            "" => None,
            p => Some(
                certsign::KeyRing::from_json(&read(p, "证书公钥文件")?)
                    .map_err(|e| anyhow::anyhow!("证书公钥文件 {p} 有误: {e}"))?,
            ),
        };
        if let (Some(k), Some(r)) = (&key, &ring) {
            if r.find(&k.kid()).next().is_none() {
                anyhow::bail!(
                    "证书签名私钥（密钥标识 {}）不在公钥文件中，请先发布其公钥",
                    hex::encode(k.kid())
                );
            }
        }
        Ok((key.map(std::sync::Arc::new), ring.map(std::sync::Arc::new)))
    }
}

/// The key file written by `skilleval keys generate`.
#[derive(Deserialize, Default)]
struct KeyFile {
    #[serde(default)]
    letter_keys: String,
    #[serde(default)]
    id_pepper: String,
    #[serde(default)]
    anchor_keys: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_settings_hide_the_secret_and_need_a_bucket() {
        let mut s = Settings {
            blob_store: "s3".into(),
            s3_endpoint: "http://127.0.0.1:9000".into(),
            s3_access_key_id: "AKIDEXAMPLE".into(),
            s3_secret_access_key: "wJalrXUtnFEMI-secret".into(),
            ..Settings::default()
        };
        assert!(s.s3().unwrap_err().to_string().contains("s3_bucket"));
        s.s3_bucket = "files".into();
        let c = s.s3().unwrap().unwrap();
        assert_eq!(c.bucket, "files");
        assert_eq!(c.secret_access_key, "wJalrXUtnFEMI-secret");
        for shown in [format!("{s:?}"), format!("{c:?}")] {
            assert!(!shown.contains("wJalr"), "{shown}");
            assert!(shown.contains(store::HIDDEN), "{shown}");
        }
        assert!(s
            .blobs()
            .unwrap()
            .describe()
            .starts_with("s3:http://127.0.0.1:9000/files"));
        s.blob_store = "local".into();
        assert!(s.s3().unwrap().is_none());
        assert!(s.blobs().unwrap().describe().starts_with("local:"));
        s.blob_store = "ftp".into();
        assert!(s.s3().is_err());
    }
}
