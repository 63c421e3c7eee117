//! 消息外发 (the outbox's delivery): its channels and states, the retry rule with exponential
//! back-off, and how a recipient is shown (masked: a phone number or an e-mail address is
//! personal data).
//!
//! Pure: the sender passes "now" in; nothing here reads a clock.

use chrono::{DateTime, Duration, Utc};

/// 发送渠道.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// 短信, through the SMS gateway.
    Sms,
    /// 电子邮件, over SMTP.
    Email,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Sms, Channel::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Sms => "短信",
            Channel::Email => "电子邮件",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// 发送状态 of one outgoing message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// 待发送: not yet delivered; retried after its back-off.
    Pending,
    /// 已发送: the SMTP server or the SMS gateway accepted it.
    Sent,
    /// 发送失败: given up (attempts exhausted or a permanent refusal); an admin may re-queue it.
    Failed,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 3] = [
        DeliveryState::Pending,
        DeliveryState::Sent,
        DeliveryState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DeliveryState::Pending => "待发送",
            DeliveryState::Sent => "已发送",
            DeliveryState::Failed => "发送失败",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        DeliveryState::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// 重试规则: after the n-th failed attempt the message waits `first_delay · 2^(n-1)`, at most
/// `max_delay`; after `max_attempts` attempts (or at once on a permanent refusal) it is failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: i64,
    pub first_delay_secs: i64,
    pub max_delay_secs: i64,
}

impl Default for RetryPolicy {
    /// 8 attempts over about two hours: 1, 2, 4, 8, 16, 32, 60 minutes apart — long enough to
    /// ride out a gateway's outage or throttling, short enough that a failure is seen the same day.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            first_delay_secs: 60,
            max_delay_secs: 3600,
        }
    }
}

/// What happens to a message after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Stays pending; not tried again before this time.
    RetryAt(DateTime<Utc>),
    /// 发送失败, for good until an admin re-queues it.
    GiveUp,
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failed attempt (1-based).
    pub fn delay(&self, attempts: i64) -> Duration {
        let first = self.first_delay_secs.max(1);
        let cap = self.max_delay_secs.max(first);
        // 2^(n-1), saturating long before an overflow.
        let exp = (attempts.max(1) - 1).min(30) as u32;
        Duration::seconds(first.saturating_mul(1i64 << exp).min(cap))
    }

    /// The rule: `attempts` counts the attempt that just failed; a permanent refusal (a wrong
    /// address, a template the gateway does not know) is not retried.
    pub fn after_failure(
        &self,
        attempts: i64,
        permanent: bool,
        now: DateTime<Utc>,
    ) -> AfterFailure {
        if permanent || attempts >= self.max_attempts.max(1) {
            AfterFailure::GiveUp
        } else {
            AfterFailure::RetryAt(now + self.delay(attempts))
        }
    }
}

/// A mobile number as lists show it: `138****8000` (the first 3 and last 4 digits).
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.trim().chars().collect();
    if digits.len() < 8 {
        return "*".repeat(digits.len().max(3));
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(digits.len() - 7))
}

/// An e-mail address as lists show it: `z***@example.com` (the first character of the local
/// part and the domain, which names an organisation rather than a person).
pub fn mask_email(address: &str) -> String {
    match address.trim().rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() => {
            let first = local.chars().next().expect("not empty");
            format!("{first}***@{domain}")
        }
        _ => "***".into(),
    }
}

/// The recipient of a message on `channel`, masked.
pub fn mask_recipient(channel: &str, recipient: &str) -> String {
    match Channel::parse(channel) {
        Some(Channel::Email) => mask_email(recipient),
        _ => mask_phone(recipient),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            first_delay_secs: 60,
            max_delay_secs: 600,
        };
        let secs: Vec<i64> = (1..=6).map(|n| p.delay(n).num_seconds()).collect();
        assert_eq!(secs, [60, 120, 240, 480, 600, 600]);
        assert_eq!(p.delay(1000).num_seconds(), 600, "no overflow");
    }

    #[test]
    fn retry_until_max_attempts_then_give_up() {
        let p = RetryPolicy {
            max_attempts: 3,
            first_delay_secs: 60,
            max_delay_secs: 3600,
        };
        assert_eq!(
            p.after_failure(1, false, t0()),
            AfterFailure::RetryAt(t0() + Duration::seconds(60))
        );
        assert_eq!(
            p.after_failure(2, false, t0()),
            AfterFailure::RetryAt(t0() + Duration::seconds(120))
        );
        assert_eq!(p.after_failure(3, false, t0()), AfterFailure::GiveUp);
    }

    #[test]
    fn permanent_refusal_is_not_retried() {
        assert_eq!(
            RetryPolicy::default().after_failure(1, true, t0()),
            AfterFailure::GiveUp
        );
    }

    #[test]
    fn recipients_are_masked() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("123"), "***");
        assert_eq!(mask_email("zhang.san@example.com"), "z***@example.com");
        assert_eq!(mask_email("nobody"), "***");
        assert_eq!(mask_recipient("sms", "13912345678"), "139****5678");
        assert_eq!(mask_recipient("email", "li@zz.gov.cn"), "l***@zz.gov.cn");
    }

    #[test]
    fn channels_and_states_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        for s in DeliveryState::ALL {
            assert_eq!(DeliveryState::parse(s.as_str()), Some(s));
        }
        assert_eq!(Channel::parse("fax"), None);
    }
}
