//! 短信: Alibaba Cloud SMS (阿里云短信服务, dysmsapi) `SendSms`, RPC style, signature V1.
//!
//! One HTTPS `POST` per message to the endpoint (default `https://dysmsapi.aliyuncs.com/`),
//! body `application/x-www-form-urlencoded`:
//!
//! | parameter | value |
//! |---|---|
//! | `Action` | `SendSms` |
//! | `Version` | `2017-05-25` |
//! | `Format` | `JSON` |
//! | `RegionId` | `sms_region` (default `cn-hangzhou`) |
//! | `AccessKeyId` | `sms_access_key_id` |
//! | `SignatureMethod` / `SignatureVersion` | `HMAC-SHA1` / `1.0` |
//! | `SignatureNonce` | 32 random hex digits, new for every request |
//! | `Timestamp` | the sender's time, UTC, `YYYY-MM-DDThh:mm:ssZ` |
//! | `PhoneNumbers` | the recipient |
//! | `SignName` | `sms_sign_name` (the approved 短信签名) |
//! | `TemplateCode` | `sms_templates[kind]` (else `sms_templates[default]`) |
//! | `TemplateParam` | the message's variables as a JSON object of strings |
//! | `OutId` | the outbox row id (the provider's receipts name it) |
//! | `Signature` | see [`sign`] |
//!
//! The answer is JSON: `{"Code":"OK","Message":"OK","BizId":"…","RequestId":"…"}` on
//! acceptance; any other `Code` is a refusal (`isv.MOBILE_NUMBER_ILLEGAL`,
//! `isv.BUSINESS_LIMIT_CONTROL` …).

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use store::{Delivered, DeliveryError, OutboxRow};

/// The public endpoint of Alibaba Cloud SMS.
pub const DEFAULT_ENDPOINT: &str = "https://dysmsapi.aliyuncs.com/";

/// Longest value of one template variable: the provider refuses longer ones
/// (`isv.PARAM_LENGTH_LIMIT`), so longer values are cut and end in "…".
pub const PARAM_MAX_CHARS: usize = 35;

/// Refusals worth retrying: throttling and the provider's own trouble. Any other refusal
/// (a malformed number, an unknown template or signature, a wrong key) is permanent.
const TRANSIENT_CODES: &[&str] = &[
    "isv.BUSINESS_LIMIT_CONTROL",
    "isv.OUT_OF_SERVICE",
    "isp.SYSTEM_ERROR",
    "isp.GATEWAY_ERROR",
    "SignatureNonceUsed",
    "Throttling",
    "Throttling.User",
    "Throttling.Api",
    "ServiceUnavailable",
    "InternalError",
];

/// The SMS gateway's settings.
#[derive(Clone)]
pub struct SmsConfig {
    /// The endpoint (default [`DEFAULT_ENDPOINT`]; a local stub in tests).
    pub url: String,
    pub access_key_id: String,
    /// Secret: from configuration or the environment only; never logged.
    pub access_key_secret: String,
    /// 短信签名, e.g. 郑州人社.
    pub sign_name: String,
    pub region: String,
    /// Message kind → template code (`SMS_123456789`); `default` serves kinds without their own.
    pub templates: BTreeMap<String, String>,
    pub timeout: Duration,
}

impl std::fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsConfig")
            .field("url", &self.url)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &store::HIDDEN)
            .field("sign_name", &self.sign_name)
            .field("region", &self.region)
            .field("templates", &self.templates)
            .finish()
    }
}

impl SmsConfig {
    /// Templates from `"filing_decision=SMS_1,default=SMS_2"`.
    pub fn parse_templates(text: &str) -> Result<BTreeMap<String, String>, String> {
        let mut out = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((kind, code)) = part.split_once('=') else {
                return Err(format!(
                    "sms_templates 的“{part}”应写作 消息类型=模板代码，如 filing_decision=SMS_123456789"
                ));
            };
            let (kind, code) = (kind.trim(), code.trim());
            if kind.is_empty() || code.is_empty() {
                return Err(format!("sms_templates 的“{part}”缺少消息类型或模板代码"));
            }
            out.insert(kind.to_string(), code.to_string());
        }
        Ok(out)
    }
}

/// The SMS gateway adapter.
#[derive(Debug)]
pub struct AliyunSms {
    config: SmsConfig,
    client: reqwest::Client,
}

/// RFC 3986 percent-encoding as the signature needs it: `A–Z a–z 0–9 - _ . ~` stay, every
/// other byte of the UTF-8 text is `%XY` (a space is `%20`, never `+`).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The canonical query: parameters sorted by name, each name and value percent-encoded,
/// `name=value` joined by `&`. `Signature` itself is left out.
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(k, _)| k.as_str() != "Signature")
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Signature V1: `Base64(HMAC-SHA1(secret + "&", method + "&%2F&" + encode(canonical query)))`.
pub fn sign(method: &str, params: &BTreeMap<String, String>, secret: &str) -> String {
    let string_to_sign = format!(
        "{method}&{}&{}",
        percent_encode("/"),
        percent_encode(&canonical_query(params))
    );
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The template variables: a JSON object whose values are sent as text, each cut to
/// [`PARAM_MAX_CHARS`].
fn template_param(params: &str) -> Result<String, DeliveryError> {
    let value: serde_json::Value = serde_json::from_str(params)
        .map_err(|_| DeliveryError::permanent("短信模板参数不是有效的 JSON"))?;
    let Some(obj) = value.as_object() else {
        return Err(DeliveryError::permanent("短信模板参数须为 JSON 对象"));
    };
    let mut out = serde_json::Map::new();
    for (k, v) in obj {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        let cut = if text.chars().count() > PARAM_MAX_CHARS {
            let mut t: String = text.chars().take(PARAM_MAX_CHARS - 1).collect();
            t.push('…');
            t
        } else {
            text
        };
        out.insert(k.clone(), serde_json::Value::String(cut));
    }
    Ok(serde_json::Value::Object(out).to_string())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: Option<String>,
    message: Option<String>,
    biz_id: Option<String>,
}

impl AliyunSms {
    pub fn new(config: SmsConfig) -> Result<AliyunSms, String> {
        if !(config.url.starts_with("https://") || config.url.starts_with("http://")) {
            return Err(format!("sms_url 应以 https:// 开头：{}", config.url));
        }
        for (name, v) in [
            ("sms_access_key_id", &config.access_key_id),
            ("sms_access_key_secret", &config.access_key_secret),
            ("sms_sign_name", &config.sign_name),
        ] {
            if v.trim().is_empty() {
                return Err(format!("已配置短信网关，但缺少 {name}"));
            }
        }
        if config.templates.is_empty() {
            return Err("已配置短信网关，但缺少 sms_templates（消息类型=模板代码）".into());
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| format!("无法创建短信网关的 HTTP 客户端：{e}"))?;
        Ok(AliyunSms { config, client })
    }

    /// Every parameter of the request for `row` at `now`, signed.
    pub fn request(
        &self,
        row: &OutboxRow,
        now: DateTime<Utc>,
        nonce: &str,
    ) -> Result<BTreeMap<String, String>, DeliveryError> {
        let c = &self.config;
        let template = c
            .templates
            .get(&row.kind)
            .or_else(|| c.templates.get("default"))
            .ok_or_else(|| {
                DeliveryError::permanent(format!(
                    "未配置消息类型“{}”的短信模板（配置项 sms_templates）",
                    row.kind
                ))
            })?;
        let mut p: BTreeMap<String, String> = [
            ("Action", "SendSms".to_string()),
            ("Version", "2017-05-25".into()),
            ("Format", "JSON".into()),
            ("RegionId", c.region.clone()),
            ("AccessKeyId", c.access_key_id.clone()),
            ("SignatureMethod", "HMAC-SHA1".into()),
            ("SignatureVersion", "1.0".into()),
            ("SignatureNonce", nonce.to_string()),
            ("Timestamp", now.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            ("PhoneNumbers", row.recipient.clone()),
            ("SignName", c.sign_name.clone()),
            ("TemplateCode", template.clone()),
            ("TemplateParam", template_param(&row.params)?),
            ("OutId", row.id.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let signature = sign("POST", &p, &c.access_key_secret);
        p.insert("Signature".into(), signature);
        Ok(p)
    }

    pub async fn send(
        &self,
        row: &OutboxRow,
        now: DateTime<Utc>,
    ) -> Result<Delivered, DeliveryError> {
        let nonce = format!("{:032x}", rand::random::<u128>());
        let params = self.request(row, now, &nonce)?;
        let body = params
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        // reqwest's errors name the URL only; the key and signature travel in the body.
        let resp = self
            .client
            .post(&self.config.url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| DeliveryError::transient(format!("短信网关不可达：{e}")))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| DeliveryError::transient(format!("短信网关应答中断：{e}")))?;
        let answer: Option<Answer> = serde_json::from_str(&text).ok();
        if status.is_server_error() || (answer.is_none() && !status.is_success()) {
            return Err(DeliveryError::transient(format!(
                "短信网关 HTTP {}",
                status.as_u16()
            )));
        }
        let Some(a) = answer else {
            return Err(DeliveryError::transient(format!(
                "短信网关应答无法识别（HTTP {}）",
                status.as_u16()
            )));
        };
        let code = a.code.unwrap_or_default();
        if code == "OK" {
            return Ok(Delivered {
                reference: a.biz_id.unwrap_or_default(),
            });
        }
        let message = format!("短信网关拒绝：{code} {}", a.message.unwrap_or_default());
        Err(if TRANSIENT_CODES.contains(&code.as_str()) {
            DeliveryError::transient(message)
        } else {
            DeliveryError::permanent(message)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Alibaba Cloud's SMS signature documentation (GET).
    #[test]
    fn signature_matches_the_providers_example() {
        let p: BTreeMap<String, String> = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            sign("GET", &p, "testSecret"),
            "zJDF+Lrzhj/ThnlvIToysFRq6t4="
        );
    }

    #[test]
    fn percent_encoding_follows_rfc3986() {
        assert_eq!(percent_encode("a b*~-_."), "a%20b%2A~-_.");
        assert_eq!(percent_encode("/=&+"), "%2F%3D%26%2B");
        assert_eq!(percent_encode("派"), "%E6%B4%BE");
    }

    #[test]
    fn template_values_are_text_and_bounded() {
        let long = "很".repeat(50);
        let t = template_param(&serde_json::json!({"id": 12, "reason": long}).to_string()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        assert_eq!(v["id"], "12");
        assert_eq!(
            v["reason"].as_str().unwrap().chars().count(),
            PARAM_MAX_CHARS
        );
        assert!(template_param("[1]").unwrap_err().permanent);
    }

    #[test]
    fn templates_parse_and_the_secret_is_not_shown() {
        let t = SmsConfig::parse_templates("filing_decision=SMS_1, default=SMS_2").unwrap();
        assert_eq!(t["filing_decision"], "SMS_1");
        assert_eq!(t["default"], "SMS_2");
        assert!(SmsConfig::parse_templates("SMS_1").is_err());
        let c = SmsConfig {
            url: DEFAULT_ENDPOINT.into(),
            access_key_id: "LTAI-id".into(),
            access_key_secret: "very-secret-value".into(),
            sign_name: "郑州人社".into(),
            region: "cn-hangzhou".into(),
            templates: t,
            timeout: Duration::from_secs(5),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("very-secret-value") && shown.contains("LTAI-id"));
    }
}
