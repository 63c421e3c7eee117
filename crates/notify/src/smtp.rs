//! 电子邮件 over SMTP with lettre: plain text, UTF-8 (subject encoded per RFC 2047), one
//! connection per message, TLS none / STARTTLS / implicit TLS.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use store::{Delivered, DeliveryError, OutboxRow};

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text (a relay on the same host or a closed network only).
    None,
    /// STARTTLS, required (port 587).
    StartTls,
    /// Implicit TLS from the first byte (port 465).
    Tls,
}

impl TlsMode {
    pub fn parse(s: &str) -> Result<TlsMode, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(TlsMode::None),
            "" | "starttls" => Ok(TlsMode::StartTls),
            "tls" | "ssl" => Ok(TlsMode::Tls),
            other => Err(format!(
                "smtp_tls 应为 none、starttls 或 tls，当前为“{other}”"
            )),
        }
    }

    /// The usual port of the mode.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::None => 25,
            TlsMode::StartTls => 587,
            TlsMode::Tls => 465,
        }
    }
}

/// The SMTP server's settings.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// Empty: no authentication.
    pub username: String,
    /// Secret: from configuration or the environment only; never logged.
    pub password: String,
    /// The sender, e.g. `郑州市技能人才评价服务平台 <noreply@pj.zzrs.gov.cn>`.
    pub from: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let password = if self.password.is_empty() {
            ""
        } else {
            store::HIDDEN
        };
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &password)
            .field("from", &self.from)
            .finish()
    }
}

/// The e-mail channel.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// For the Message-ID: the sender's domain.
    domain: String,
    host: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    pub fn new(c: SmtpConfig) -> Result<SmtpMailer, String> {
        let from: Mailbox = c
            .from
            .parse()
            .map_err(|e| format!("smtp_from 不是有效的发件地址（{}）：{e}", c.from))?;
        let tls = match c.tls {
            TlsMode::None => Tls::None,
            TlsMode::StartTls | TlsMode::Tls => {
                let params = TlsParameters::new(c.host.clone())
                    .map_err(|e| format!("SMTP 的 TLS 设置有误：{e}"))?;
                if c.tls == TlsMode::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host)
            .port(c.port)
            .tls(tls)
            .timeout(Some(c.timeout));
        if !c.username.is_empty() {
            builder = builder.credentials(Credentials::new(c.username.clone(), c.password.clone()));
        }
        let domain = from.email.domain().to_string();
        Ok(SmtpMailer {
            transport: builder.build(),
            from,
            domain,
            host: c.host,
        })
    }

    /// The message for `row`: the Message-ID names the outbox row, so a copy sent twice (a
    /// server that died after the server's "OK") carries the same id.
    pub fn message(&self, row: &OutboxRow, now: DateTime<Utc>) -> Result<Message, DeliveryError> {
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|e| DeliveryError::permanent(format!("收件地址无效：{e}")))?;
        let subject = if row.subject.trim().is_empty() {
            "郑州市技能人才评价服务平台通知"
        } else {
            row.subject.as_str()
        };
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<outbox-{}@{}>", row.id, self.domain)))
            .date(now.into())
            .header(ContentType::TEXT_PLAIN)
            .body(row.body.clone())
            .map_err(|e| DeliveryError::permanent(format!("邮件无法生成：{e}")))
    }

    pub async fn send(
        &self,
        row: &OutboxRow,
        now: DateTime<Utc>,
    ) -> Result<Delivered, DeliveryError> {
        let message = self.message(row, now)?;
        match self.transport.send(message).await {
            Ok(r) => Ok(Delivered {
                reference: format!("{} {}", r.code(), r.message().collect::<Vec<_>>().join(" ")),
            }),
            // 5xx: the server refuses for good (no such mailbox, authentication refused);
            // 4xx, timeouts, connection and TLS trouble may pass.
            Err(e) if e.is_permanent() => Err(DeliveryError::permanent(format!("SMTP {e}"))),
            Err(e) => Err(DeliveryError::transient(format!("SMTP {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_modes_and_ports() {
        assert_eq!(TlsMode::parse("").unwrap(), TlsMode::StartTls);
        assert_eq!(TlsMode::parse("TLS").unwrap().default_port(), 465);
        assert_eq!(TlsMode::parse("none").unwrap().default_port(), 25);
        assert!(TlsMode::parse("maybe").is_err());
    }

    #[test]
    fn the_password_is_not_shown() {
        let c = SmtpConfig {
            host: "smtp.example.org".into(),
            port: 587,
            tls: TlsMode::StartTls,
            username: "noreply".into(),
            password: "hunter2-secret".into(),
            from: "平台 <noreply@example.org>".into(),
            timeout: Duration::from_secs(5),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2-secret") && shown.contains("noreply"));
    }
}
