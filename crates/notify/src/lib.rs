//! 消息外发的通道: e-mail over SMTP (lettre) and SMS through Alibaba Cloud SMS (`SendSms`),
//! behind the store's [`store::Deliver`]. The web crate and the store know only that trait, so
//! TLS and the HTTP client stay in this crate; the binary builds [`Channels`] from its settings.

mod aliyun;
mod smtp;

use chrono::{DateTime, Utc};
use domain::outbox::Channel;
use store::{Deliver, DeliveryError, DeliveryFuture, OutboxRow};

pub use aliyun::{
    canonical_query, percent_encode, sign, AliyunSms, SmsConfig, DEFAULT_ENDPOINT, PARAM_MAX_CHARS,
};
pub use smtp::{SmtpConfig, SmtpMailer, TlsMode};

/// The configured channels; each row goes out through the one its `channel` names.
#[derive(Debug, Default)]
pub struct Channels {
    pub email: Option<SmtpMailer>,
    pub sms: Option<AliyunSms>,
}

impl Channels {
    /// Build what is configured; a channel whose settings are incomplete is an error naming
    /// the setting (better at start than at the first message).
    pub fn new(email: Option<SmtpConfig>, sms: Option<SmsConfig>) -> Result<Channels, String> {
        Ok(Channels {
            email: email.map(SmtpMailer::new).transpose()?,
            sms: sms.map(AliyunSms::new).transpose()?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.email.is_none() && self.sms.is_none()
    }
}

impl Deliver for Channels {
    fn channels(&self) -> Vec<Channel> {
        let mut v = vec![];
        if self.sms.is_some() {
            v.push(Channel::Sms);
        }
        if self.email.is_some() {
            v.push(Channel::Email);
        }
        v
    }

    fn deliver<'a>(&'a self, message: &'a OutboxRow, now: DateTime<Utc>) -> DeliveryFuture<'a> {
        Box::pin(async move {
            match (Channel::parse(&message.channel), &self.email, &self.sms) {
                (Some(Channel::Email), Some(m), _) => m.send(message, now).await,
                (Some(Channel::Sms), _, Some(g)) => g.send(message, now).await,
                // Not claimed unless configured; a claim from an older configuration waits.
                (Some(c), _, _) => {
                    Err(DeliveryError::transient(format!("{}通道未配置", c.label())))
                }
                (None, _, _) => Err(DeliveryError::permanent(format!(
                    "未知的发送渠道：{}",
                    message.channel
                ))),
            }
        })
    }
}
