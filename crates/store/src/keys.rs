//! 密钥 (keys and secrets): they come from configuration, never from the database they protect.
//!
//! - letter keys (督导责任书签名密钥): HMAC-SHA256 keys with a key id; the first signs, the
//!   others still verify, so a key can be rotated without invalidating earlier signatures;
//! - the ID pepper (证件号码哈希密钥): `id_hash` is HMAC-SHA256 under it, so a stolen database
//!   does not let anyone recover ID numbers by trying every region + birth date + sequence.
//!
//! The database records only a fingerprint of each key (an HMAC of a fixed label), so a server
//! started with another pepper, or a key id reused for another secret, stops with a clear error.

use base64::Engine;
use domain::signature::{HmacSigner, Signer};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::{now_text, Result, Store, StoreError};

/// Key material: `Debug` shows its fingerprint only.
#[derive(Clone)]
struct Secret(Vec<u8>);

impl Secret {
    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC accepts any key length")
    }

    /// A public fingerprint: HMAC of a fixed label under the key, first 16 hex digits.
    fn fingerprint(&self) -> String {
        let mut m = self.mac();
        m.update(b"skilleval/key-fingerprint/v1");
        hex::encode(&m.finalize().into_bytes()[..8])
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<secret, fingerprint {}>", self.fingerprint())
    }
}

/// Shortest accepted key: 256 bits.
const MIN_KEY_BYTES: usize = 32;

/// A letter-signing key (责任书签名密钥) with its id.
#[derive(Clone, Debug)]
pub struct LetterKey {
    pub kid: String,
    secret: Secret,
}

impl LetterKey {
    pub fn fingerprint(&self) -> String {
        self.secret.fingerprint()
    }
    fn signer(&self) -> HmacSigner {
        HmacSigner::new(self.kid.clone(), self.secret.0.clone())
    }
}

/// The keys of one deployment (平台密钥). `Debug` shows key ids and fingerprints only.
#[derive(Clone, Debug, Default)]
pub struct Keys {
    /// The first signs; all verify.
    letter: Vec<LetterKey>,
    id_pepper: Option<Secret>,
    /// 审计锚点签名密钥: the first signs anchors of the audit chain's head, all verify.
    anchor: Vec<LetterKey>,
    /// The fixed, public demo keys (`serve --demo` without configured keys).
    pub demo: bool,
}

/// A malformed key setting (Chinese, names the setting, never the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

fn decode_secret(what: &str, text: &str) -> Result<Secret, KeyError> {
    let t = text.trim();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(t)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(t))
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t))
        .map_err(|_| KeyError(format!("{what} 不是有效的 base64 编码")))?;
    if bytes.len() < MIN_KEY_BYTES {
        return Err(KeyError(format!(
            "{what} 太短：至少需要 {MIN_KEY_BYTES} 字节（base64 编码后约 44 个字符），当前 {} 字节",
            bytes.len()
        )));
    }
    Ok(Secret(bytes))
}

fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= 40
        && kid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl Keys {
    /// Parse the settings `letter_keys` ("kid1=base64,kid2=base64", current first) and
    /// `id_pepper` (base64).
    pub fn parse(letter_keys: &str, id_pepper: &str) -> Result<Keys, KeyError> {
        let mut letter: Vec<LetterKey> = Vec::new();
        for part in letter_keys
            .split([',', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (kid, secret) = part.split_once('=').ok_or_else(|| {
                KeyError("letter_keys 的每一项应为 “密钥编号=base64密钥”，多项以逗号分隔".into())
            })?;
            let kid = kid.trim();
            if !valid_kid(kid) {
                return Err(KeyError(format!(
                    "letter_keys 中的密钥编号“{kid}”无效：只能使用字母、数字、-、_、.，不超过 40 个字符"
                )));
            }
            if letter.iter().any(|k| k.kid == kid) {
                return Err(KeyError(format!("letter_keys 中密钥编号“{kid}”重复")));
            }
            let secret = decode_secret(&format!("letter_keys 中“{kid}”的密钥"), secret)?;
            letter.push(LetterKey {
                kid: kid.to_string(),
                secret,
            });
        }
        if letter.is_empty() {
            return Err(KeyError(
                "未配置 letter_keys（督导责任书签名密钥）：请用 `skilleval keys generate` 生成密钥文件".into(),
            ));
        }
        if id_pepper.trim().is_empty() {
            return Err(KeyError(
                "未配置 id_pepper（证件号码哈希密钥）：请用 `skilleval keys generate` 生成密钥文件"
                    .into(),
            ));
        }
        let id_pepper = Some(decode_secret("id_pepper", id_pepper)?);
        Ok(Keys {
            letter,
            id_pepper,
            anchor: Vec::new(),
            demo: false,
        })
    }

    /// Add the setting `anchor_keys` ("kid1=base64,kid2=base64", current first): the keys that
    /// sign anchors of the audit chain (审计锚点). Empty text leaves anchoring unconfigured.
    pub fn with_anchor_keys(mut self, anchor_keys: &str) -> Result<Keys, KeyError> {
        let mut anchor: Vec<LetterKey> = Vec::new();
        for part in anchor_keys
            .split([',', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (kid, secret) = part.split_once('=').ok_or_else(|| {
                KeyError("anchor_keys 的每一项应为 “密钥编号=base64密钥”，多项以逗号分隔".into())
            })?;
            let kid = kid.trim();
            if !valid_kid(kid) || anchor.iter().any(|k| k.kid == kid) {
                return Err(KeyError(format!(
                    "anchor_keys 中的密钥编号“{kid}”无效或重复：只能使用字母、数字、-、_、.，不超过 40 个字符"
                )));
            }
            let secret = decode_secret(&format!("anchor_keys 中“{kid}”的密钥"), secret)?;
            anchor.push(LetterKey {
                kid: kid.to_string(),
                secret,
            });
        }
        self.anchor = anchor;
        Ok(self)
    }

    /// The key that signs new audit anchors.
    pub fn anchor_signer(&self) -> Option<HmacSigner> {
        self.anchor.first().map(LetterKey::signer)
    }

    /// The anchor key with id `kid`, current or retired.
    pub fn anchor_verifier(&self, kid: &str) -> Option<HmacSigner> {
        self.anchor
            .iter()
            .find(|k| k.kid == kid)
            .map(LetterKey::signer)
    }

    /// The demo keys: derived from fixed, published labels, so they protect nothing. Only for
    /// `serve --demo` and tests; a database that saw them refuses real keys later (fingerprints).
    pub fn demo() -> Keys {
        let derive = |label: &str| Secret(Sha256::digest(label.as_bytes()).to_vec());
        Keys {
            letter: vec![LetterKey {
                kid: "demo-letter-key".into(),
                secret: derive("skilleval DEMO letter key - public, never for real data"),
            }],
            id_pepper: Some(derive(
                "skilleval DEMO id pepper - public, never for real data",
            )),
            anchor: vec![LetterKey {
                kid: "demo-anchor-key".into(),
                secret: derive("skilleval DEMO audit anchor key - public, never for real data"),
            }],
            demo: true,
        }
    }

    /// A new key file (TOML, the settings `letter_keys` and `id_pepper`) with fresh random keys.
    pub fn generate_file() -> String {
        let kid = new_kid();
        let letter: [u8; 32] = rand::random();
        let pepper: [u8; 32] = rand::random();
        format!(
            "# skilleval 密钥文件：请妥善保管并备份（权限 0600）。丢失 id_pepper 将无法再比对已存的证件号码哈希。\n\
             # letter_keys：督导责任书签名密钥，第一项用于签名，其余仅用于验证旧签名。\n\
             letter_keys = \"{kid}={}\"\n\
             # id_pepper：证件号码哈希密钥，部署后不可更换。\n\
             id_pepper = \"{}\"\n\
             # anchor_keys：审计锚点签名密钥，第一项用于签名，其余仅用于验证旧锚点。\n\
             anchor_keys = \"{}={}\"\n",
            encode(&letter),
            encode(&pepper),
            new_kid().replace("letter-", "anchor-"),
            encode(&rand::random::<[u8; 32]>())
        )
    }

    /// `letter_keys` with a fresh key in front of `current` (rotation): the new key signs, the
    /// old ones keep verifying.
    pub fn rotated_letter_keys(current: &str) -> Result<String, KeyError> {
        // Validate what is there first (a dummy pepper: only the letter part is checked).
        Keys::parse(current, &encode(&[0u8; MIN_KEY_BYTES]))?;
        let letter: [u8; 32] = rand::random();
        Ok(format!(
            "{}={},{}",
            new_kid(),
            encode(&letter),
            current.trim()
        ))
    }

    /// The key that signs new letters.
    pub fn letter_signer(&self) -> Option<HmacSigner> {
        self.letter.first().map(LetterKey::signer)
    }

    /// The key with id `kid`, current or retired, to verify an earlier signature.
    pub fn letter_verifier(&self, kid: &str) -> Option<HmacSigner> {
        self.letter
            .iter()
            .find(|k| k.kid == kid)
            .map(LetterKey::signer)
    }

    pub fn letter_keys(&self) -> &[LetterKey] {
        &self.letter
    }

    pub fn id_pepper_fingerprint(&self) -> Option<String> {
        self.id_pepper.as_ref().map(Secret::fingerprint)
    }

    /// 证件号码哈希: HMAC-SHA256 under the pepper of the trimmed, upper-cased number (a check
    /// digit `x` and `X` are the same person). `None` without a pepper.
    pub fn id_hash(&self, id_number: &str) -> Option<String> {
        let pepper = self.id_pepper.as_ref()?;
        let mut m = pepper.mac();
        m.update(b"skilleval/id-number/v2:");
        m.update(id_number.trim().to_ascii_uppercase().as_bytes());
        Some(hex::encode(m.finalize().into_bytes()))
    }
}

// -- the store's use of the keys ---------------------------------------------------------------

fn unconfigured(what: &str) -> StoreError {
    StoreError::Other(format!(
        "未配置{what}：请在配置中设置 letter_keys 与 id_pepper（或 keys_file），见 docs/operations.md"
    ))
}

impl Store {
    /// Use `keys` (the binary passes the configured ones, `--demo` and tests [`Keys::demo`]).
    pub fn with_keys(mut self, keys: Keys) -> Store {
        self.keys = std::sync::Arc::new(keys);
        self
    }

    /// 证件号码哈希 under the configured pepper: the only way ID numbers are compared
    /// (duplicates within a plan, one certificate per person).
    pub fn id_hash(&self, id_number: &str) -> Result<String> {
        self.keys
            .id_hash(id_number)
            .ok_or_else(|| unconfigured("证件号码哈希密钥 id_pepper"))
    }

    pub(crate) fn letter_signer(&self) -> Result<HmacSigner> {
        self.keys
            .letter_signer()
            .ok_or_else(|| unconfigured("督导责任书签名密钥 letter_keys"))
    }

    /// Migrate the schema. Before migration 9 removes the signing key that earlier versions kept
    /// in the database (`platform_keys`), signatures made with it are checked with it and signed
    /// again with the configured current key, so they keep verifying.
    pub async fn migrate(&self) -> Result<usize> {
        self.resign_with_configured_key().await?;
        self.db.migrate().await
    }

    async fn resign_with_configured_key(&self) -> Result<()> {
        let applied = match self.db.applied_migrations().await {
            Ok(v) => v,
            Err(_) => return Ok(()), // an empty database
        };
        if !applied.contains(&4) || applied.contains(&9) {
            return Ok(());
        }
        let legacy: Vec<(String, String)> =
            sqlx::query("SELECT key_id, secret_hex FROM platform_keys")
                .fetch_all(&self.db.pool)
                .await?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
        if legacy.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.write().await?;
        let rows = sqlx::query(
            "SELECT id, key_id, doc_sha256, party, signer_id, signed_at, signature FROM letter_signatures",
        )
        .fetch_all(tx.conn())
        .await?;
        let mut resigned = 0;
        let mut invalid = 0;
        let mut signer = None;
        for r in &rows {
            let kid: String = r.get(1);
            let Some((_, hex_key)) = legacy.iter().find(|(k, _)| *k == kid) else {
                continue;
            };
            let old = HmacSigner::new(
                kid.clone(),
                hex::decode(hex_key)
                    .map_err(|e| StoreError::Other(format!("旧签名密钥损坏: {e}")))?,
            );
            let party = domain::plan::Party::parse(&r.get::<String, _>(3));
            let msg = party.map(|p| {
                domain::plan::signature_message(
                    &r.get::<String, _>(2),
                    p,
                    &r.get::<i64, _>(4).to_string(),
                    &r.get::<String, _>(5),
                )
            });
            let Some(msg) = msg.filter(|m| old.verify(m.as_bytes(), &r.get::<String, _>(6))) else {
                // A signature that did not verify before stays as it is: it still fails.
                invalid += 1;
                continue;
            };
            if signer.is_none() {
                signer = Some(self.letter_signer()?);
            }
            let s = signer.as_ref().expect("set above");
            sqlx::query("UPDATE letter_signatures SET key_id = $1, algorithm = $2, signature = $3 WHERE id = $4")
                .bind(s.key_id())
                .bind(s.algorithm())
                .bind(s.sign(msg.as_bytes()))
                .bind(r.get::<i64, _>(0))
                .execute(tx.conn())
                .await?;
            resigned += 1;
        }
        if resigned + invalid > 0 {
            append(
                &mut tx,
                &Actor::system("migrate"),
                NewEvent {
                    action: "keys.resign_letters",
                    object_type: "platform_key",
                    object_id: legacy
                        .iter()
                        .map(|(k, _)| k.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    summary: serde_json::json!({
                        "resigned": resigned, "not_valid_before": invalid,
                        "new_key_id": signer.as_ref().map(|s| s.key_id().to_string()),
                    }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        tracing::info!(
            resigned,
            invalid,
            "letter signatures moved to the configured key"
        );
        Ok(())
    }

    /// The startup check of the configured keys against the fingerprints the database keeps.
    /// The first start with a pepper records it and rehashes the candidates' ID numbers under it
    /// (they were plain SHA-256 before); a different pepper later, or a key id reused with
    /// another secret, is an error naming the setting. Safe when several servers start at once.
    pub async fn check_keys(&self) -> Result<()> {
        let pepper = self
            .keys
            .id_pepper_fingerprint()
            .ok_or_else(|| unconfigured("证件号码哈希密钥 id_pepper"))?;
        if self.keys.letter_keys().is_empty() {
            return Err(unconfigured("督导责任书签名密钥 letter_keys"));
        }
        let mut tx = self.db.write().await?;
        let mut recorded = serde_json::Map::new();
        let mut wanted = vec![("id_pepper".to_string(), pepper.clone())];
        for k in self.keys.letter_keys() {
            wanted.push((format!("letter:{}", k.kid), k.fingerprint()));
        }
        for (purpose, fingerprint) in &wanted {
            let new = sqlx::query(
                "INSERT INTO key_fingerprints (purpose, fingerprint, recorded_at) VALUES ($1, $2, $3) ON CONFLICT (purpose) DO NOTHING",
            )
            .bind(purpose)
            .bind(fingerprint)
            .bind(now_text())
            .execute(tx.conn())
            .await?
            .rows_affected()
                == 1;
            if new {
                recorded.insert(purpose.clone(), fingerprint.clone().into());
                continue;
            }
            let stored: String =
                sqlx::query("SELECT fingerprint FROM key_fingerprints WHERE purpose = $1")
                    .bind(purpose)
                    .fetch_one(tx.conn())
                    .await?
                    .get(0);
            if &stored != fingerprint {
                return Err(StoreError::Invalid(if purpose == "id_pepper" {
                    format!(
                        "配置的 id_pepper（证件号码哈希密钥）与此数据库使用的不同（数据库记录的指纹 {stored}，配置的指纹 {fingerprint}）。\
                         已存的证件号码哈希只能用原来的 id_pepper 比对：请恢复原来的密钥文件（见 docs/operations.md “密钥”一节）"
                    )
                } else {
                    format!(
                        "letter_keys 中的密钥编号“{}”在此数据库中对应另一把密钥（数据库记录的指纹 {stored}，配置的指纹 {fingerprint}）。\
                         轮换密钥时新密钥须使用新的编号，旧密钥原样保留",
                        purpose.trim_start_matches("letter:")
                    )
                }));
            }
        }
        let used: Vec<String> = sqlx::query("SELECT DISTINCT key_id FROM letter_signatures")
            .fetch_all(tx.conn())
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let missing: Vec<&String> = used
            .iter()
            .filter(|kid| self.keys.letter_verifier(kid).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(StoreError::Invalid(format!(
                "数据库中有用密钥 {missing:?} 签署的督导责任书签名，但 letter_keys 中没有这些密钥：轮换时请把旧密钥保留在 letter_keys 中（排在新密钥之后）"
            )));
        }
        if recorded.is_empty() {
            return Ok(());
        }
        let mut rehashed = 0;
        if recorded.contains_key("id_pepper") {
            let rows = sqlx::query("SELECT id, id_number FROM candidates")
                .fetch_all(tx.conn())
                .await?;
            for r in &rows {
                sqlx::query("UPDATE candidates SET id_hash = $1 WHERE id = $2")
                    .bind(self.id_hash(&r.get::<String, _>(1))?)
                    .bind(r.get::<i64, _>(0))
                    .execute(tx.conn())
                    .await?;
            }
            rehashed = rows.len();
        }
        append(
            &mut tx,
            &Actor::system("keys"),
            NewEvent {
                action: "keys.record",
                object_type: "platform_key",
                object_id: recorded.keys().cloned().collect::<Vec<_>>().join(","),
                summary: serde_json::json!({
                    "fingerprints": recorded, "rehashed_candidates": rehashed, "demo": self.keys.demo,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        if rehashed > 0 {
            tracing::info!(
                rehashed,
                "candidate ID hashes rehashed under the configured pepper"
            );
        }
        Ok(())
    }
}

fn new_kid() -> String {
    let b: [u8; 4] = rand::random();
    format!("letter-{}", hex::encode(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(b: u8) -> String {
        encode(&[b; 32])
    }

    #[test]
    fn keys_parse_rotation_order_and_errors() {
        let keys = Keys::parse(&format!("new={}, old={}", k(1), k(2)), &k(3)).unwrap();
        assert_eq!(keys.letter_signer().unwrap().key_id(), "new");
        assert!(keys.letter_verifier("old").is_some());
        assert!(keys.letter_verifier("gone").is_none());
        assert!(Keys::parse("", &k(3))
            .unwrap_err()
            .0
            .contains("letter_keys"));
        assert!(Keys::parse(&format!("a={}", k(1)), "")
            .unwrap_err()
            .0
            .contains("id_pepper"));
        assert!(Keys::parse("a=c2hvcnQ=", &k(3))
            .unwrap_err()
            .0
            .contains("太短"));
        assert!(Keys::parse(&format!("a b={}", k(1)), &k(3))
            .unwrap_err()
            .0
            .contains("无效"));
        assert!(Keys::parse(&format!("a={},a={}", k(1), k(2)), &k(3))
            .unwrap_err()
            .0
            .contains("重复"));
    }

    #[test]
    fn debug_never_shows_key_material() {
        let keys = Keys::parse(&format!("kid1={}", k(7)), &k(9)).unwrap();
        let shown = format!("{keys:?}");
        assert!(
            shown.contains("kid1") && shown.contains("fingerprint"),
            "{shown}"
        );
        for secret in [
            k(7),
            k(9),
            hex::encode([7u8; 32]),
            format!("{:?}", [7u8; 32]),
        ] {
            assert!(!shown.contains(&secret), "{shown}");
        }
    }

    #[test]
    fn id_hash_depends_on_the_pepper_and_normalises() {
        let a = Keys::parse(&format!("k={}", k(1)), &k(2)).unwrap();
        let b = Keys::parse(&format!("k={}", k(1)), &k(3)).unwrap();
        let id = "41010519900101123x";
        assert_ne!(a.id_hash(id), b.id_hash(id));
        assert_eq!(a.id_hash(id), a.id_hash(" 41010519900101123X "));
        assert_eq!(a.id_hash(id).unwrap().len(), 64);
        assert!(Keys::default().id_hash(id).is_none());
    }

    #[test]
    fn generated_files_parse_and_rotation_keeps_old_keys() {
        let file: toml::Table = toml::from_str(&Keys::generate_file()).unwrap();
        let letter = file["letter_keys"].as_str().unwrap();
        let keys = Keys::parse(letter, file["id_pepper"].as_str().unwrap()).unwrap();
        let old_kid = keys.letter_keys()[0].kid.clone();
        let rotated = Keys::rotated_letter_keys(letter).unwrap();
        let keys2 = Keys::parse(&rotated, file["id_pepper"].as_str().unwrap()).unwrap();
        assert_eq!(keys2.letter_keys().len(), 2);
        assert_ne!(keys2.letter_keys()[0].kid, old_kid);
        assert_eq!(keys2.letter_keys()[1].kid, old_kid);
        assert_eq!(
            keys2.letter_keys()[1].fingerprint(),
            keys.letter_keys()[0].fingerprint()
        );
    }
}
