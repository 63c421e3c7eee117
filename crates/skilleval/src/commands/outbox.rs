//! The outbox of SMS and e-mail (消息外发): sending what is due from the command line.

use std::path::Path;
use std::process::ExitCode;

use super::open;
use crate::settings::{self, Settings};

/// `skilleval outbox send [--once]`.
pub async fn send(
    config: Option<&Path>,
    db: settings::DbArgs,
    once: bool,
) -> anyhow::Result<ExitCode> {
    let s = Settings::load(config, &db, None)?;
    crate::init_logging(&s.log);
    let Some(config) = s.outbox()? else {
        anyhow::bail!(
            "未配置发送通道：请配置 smtp_host（邮件）或 sms_access_key_id（短信），见 docs/operations.md；消息保持待发送"
        );
    };
    let store = open(&s).await?;
    let every = config.every;
    let sender = web::outbox::Sender::new(store, config, web::outbox::Sender::worker_name());
    loop {
        let r = sender.run_once(chrono::Utc::now()).await?;
        if once {
            println!(
                "已发送 {} 条；失败待重试 {} 条；发送失败 {} 条",
                r.sent, r.retrying, r.failed
            );
            return Ok(ExitCode::SUCCESS);
        }
        if r != web::outbox::SendReport::default() {
            tracing::info!(
                sent = r.sent,
                retrying = r.retrying,
                failed = r.failed,
                "outbox sent"
            );
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
        }
    }
}
