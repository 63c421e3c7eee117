//! 证书状态列表: W3C Bitstring Status List v1.0 (revocation), published as a signed
//! `BitstringStatusListCredential` with a Data Integrity proof of cryptosuite `eddsa-jcs-2022`
//! (W3C Data Integrity EdDSA Cryptosuites v1.0): the JCS form of the proof options and of the
//! credential are hashed with SHA-256, the two hashes concatenated and signed with Ed25519; the
//! signature is `proofValue`, multibase base58btc (`z…`). The proof names the key as
//! `{keys_url}#{kid}`. Bit `i` (index 0 = the most significant bit of the first byte) is 1
//! when the certificate whose `status_index` is `i` is revoked (已撤销).

use std::io::{Read, Write};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::{date_of_unix, KeyRing, SigningKey, VerifyError};

/// A bitstring of revocation flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: Vec<u8>,
}

/// A verified status list credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListCredential {
    pub id: String,
    pub issuer: String,
    /// `validFrom`, unix seconds: when the list was made (发布时间).
    pub issued_at: i64,
    pub kid: [u8; 8],
    pub list: StatusList,
}

impl StatusList {
    /// The specification's minimum length (16 KiB), so that one index tells little about whom
    /// it belongs to (herd privacy).
    pub const MIN_BITS: usize = 131_072;

    /// An all-zero list with room for at least `len` entries (never fewer than [`Self::MIN_BITS`]).
    pub fn new(len: usize) -> Self {
        let bits = len.max(Self::MIN_BITS).div_ceil(8);
        StatusList {
            bits: vec![0; bits],
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.bits.len() * 8
    }

    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// Sets entry `index`; the list grows (in whole bytes) when needed.
    pub fn set(&mut self, index: u32, revoked: bool) {
        let i = index as usize;
        if i / 8 >= self.bits.len() {
            self.bits.resize(i / 8 + 1, 0);
        }
        let mask = 0x80u8 >> (i % 8);
        if revoked {
            self.bits[i / 8] |= mask;
        } else {
            self.bits[i / 8] &= !mask;
        }
    }

    /// Whether entry `index` is set; an index past the end is not.
    pub fn get(&self, index: u32) -> bool {
        let i = index as usize;
        self.bits
            .get(i / 8)
            .is_some_and(|b| b & (0x80u8 >> (i % 8)) != 0)
    }

    /// `encodedList`: multibase base64url (`u`) of the GZIP-compressed bitstring. Deterministic
    /// (no timestamp, no file name in the GZIP header).
    pub fn encode(&self) -> String {
        let mut gz = flate2::GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), flate2::Compression::best());
        gz.write_all(&self.bits).expect("write to Vec");
        let bytes = gz.finish().expect("gzip to Vec");
        format!("u{}", B64.encode(bytes))
    }

    /// Reads an `encodedList`.
    pub fn decode(encoded: &str) -> Result<Self, VerifyError> {
        let bad = |m: &str| VerifyError::Malformed(format!("状态列表：{m}"));
        let b64 = encoded
            .strip_prefix('u')
            .ok_or_else(|| bad("encodedList 应以 multibase 前缀 u 开头"))?;
        let gz = B64
            .decode(b64)
            .map_err(|_| bad("encodedList 不是 base64url"))?;
        let mut bits = vec![];
        flate2::read::GzDecoder::new(&gz[..])
            .take(64 * 1024 * 1024)
            .read_to_end(&mut bits)
            .map_err(|_| bad("encodedList 不是 GZIP 数据"))?;
        Ok(StatusList { bits })
    }

    /// The signed `BitstringStatusListCredential` (JSON). `list_url` is where it is published,
    /// `keys_url` where the public keys are; `issued_at` (unix seconds) is its `validFrom` and
    /// the proof's `created`: an input, never the clock.
    pub fn to_credential(
        &self,
        key: &SigningKey,
        list_url: &str,
        issuer: &str,
        keys_url: &str,
        issued_at: i64,
    ) -> String {
        let at = rfc3339(issued_at);
        let doc = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": list_url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": issuer,
            "validFrom": at,
            "credentialSubject": {
                "id": format!("{list_url}#list"),
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": self.encode(),
            }
        });
        let mut proof = json!({
            "@context": doc["@context"].clone(),
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": at,
            "verificationMethod": format!("{keys_url}#{}", hex::encode(key.kid())),
            "proofPurpose": "assertionMethod",
        });
        let sig = key.sign_bytes(&hash_data(&proof, &doc));
        let proof_obj = proof.as_object_mut().expect("object");
        proof_obj.remove("@context");
        proof_obj.insert(
            "proofValue".into(),
            Value::String(format!("z{}", base58btc(&sig))),
        );
        let mut doc = doc;
        doc["proof"] = proof;
        serde_json::to_string_pretty(&doc).expect("JSON") + "\n"
    }

    /// Checks a credential made by [`StatusList::to_credential`] against the published keys:
    /// signature, key id, and the key's validity on the day it was made.
    pub fn verify_credential(
        json: &str,
        keys: &KeyRing,
    ) -> Result<StatusListCredential, VerifyError> {
        let bad = |m: &str| VerifyError::Malformed(format!("状态列表凭证：{m}"));
        let mut doc: Value = serde_json::from_str(json).map_err(|_| bad("不是 JSON"))?;
        let mut proof = doc
            .as_object_mut()
            .and_then(|o| o.remove("proof"))
            .ok_or_else(|| bad("缺少 proof"))?;
        let p = proof.as_object_mut().ok_or_else(|| bad("proof 不是对象"))?;
        if p.get("cryptosuite").and_then(Value::as_str) != Some("eddsa-jcs-2022")
            || p.get("type").and_then(Value::as_str) != Some("DataIntegrityProof")
        {
            return Err(bad("proof 不是 eddsa-jcs-2022"));
        }
        let sig: [u8; 64] = p
            .remove("proofValue")
            .and_then(|v| v.as_str().map(str::to_string))
            .and_then(|v| v.strip_prefix('z').and_then(unbase58btc))
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| bad("proofValue 无效"))?;
        let vm = p
            .get("verificationMethod")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("缺少 verificationMethod"))?;
        let kid: [u8; 8] = vm
            .rsplit_once('#')
            .and_then(|(_, k)| hex::decode(k).ok())
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| bad("verificationMethod 中没有密钥标识"))?;
        let created = p
            .get("created")
            .and_then(Value::as_str)
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .ok_or_else(|| bad("created 无效"))?
            .timestamp();
        p.insert("@context".into(), doc["@context"].clone());
        let msg = hash_data(&proof, &doc);
        let candidates: Vec<_> = keys.find(&kid).collect();
        if candidates.is_empty() {
            return Err(VerifyError::UnknownKey(hex::encode(kid)));
        }
        if !candidates.iter().any(|k| k.verify_bytes(&msg, &sig)) {
            return Err(VerifyError::Tampered);
        }
        let day = date_of_unix(created).ok_or_else(|| bad("created 无效"))?;
        if !candidates.iter().any(|k| k.covers(day)) {
            return Err(VerifyError::OutsideValidity {
                kid: hex::encode(kid),
                signed_on: day.to_string(),
            });
        }
        let s = |v: &Value| v.as_str().map(str::to_string);
        let subject = &doc["credentialSubject"];
        if subject["type"] != "BitstringStatusList" || subject["statusPurpose"] != "revocation" {
            return Err(bad("不是撤销状态列表"));
        }
        let list = StatusList::decode(
            subject["encodedList"]
                .as_str()
                .ok_or_else(|| bad("缺少 encodedList"))?,
        )?;
        let issued_at = doc["validFrom"]
            .as_str()
            .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
            .ok_or_else(|| bad("validFrom 无效"))?
            .timestamp();
        Ok(StatusListCredential {
            id: s(&doc["id"]).ok_or_else(|| bad("缺少 id"))?,
            issuer: s(&doc["issuer"]).ok_or_else(|| bad("缺少 issuer"))?,
            issued_at,
            kid,
            list,
        })
    }
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// JSON Canonicalization Scheme (RFC 8785) for our documents: serde_json's `Value` keeps
/// object keys sorted (all our keys are ASCII, so UTF-8 order is UTF-16 order), writes no
/// whitespace and escapes strings as ECMAScript does; we use no floating-point numbers.
fn jcs(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("JSON")
}

/// eddsa-jcs-2022 hashData: SHA-256(JCS(proof options)) ‖ SHA-256(JCS(document)).
fn hash_data(proof_options: &Value, doc: &Value) -> Vec<u8> {
    let mut out = Sha256::digest(jcs(proof_options)).to_vec();
    out.extend_from_slice(&Sha256::digest(jcs(doc)));
    out
}

const B58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn base58btc(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    let mut digits: Vec<u8> = vec![]; // little-endian base-58
    for &b in &bytes[zeros..] {
        let mut carry = b as u32;
        for d in digits.iter_mut() {
            carry += (*d as u32) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    std::iter::repeat_n('1', zeros)
        .chain(digits.iter().rev().map(|d| B58[*d as usize] as char))
        .collect()
}

fn unbase58btc(s: &str) -> Option<Vec<u8>> {
    let zeros = s.bytes().take_while(|b| *b == b'1').count();
    let mut bytes: Vec<u8> = vec![]; // little-endian base-256
    for c in s.bytes().skip(zeros) {
        let mut carry = B58.iter().position(|x| *x == c)? as u32;
        for b in bytes.iter_mut() {
            carry += (*b as u32) * 58;
            *b = carry as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push(carry as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0; zeros];
    out.extend(bytes.iter().rev());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58_round_trip() {
        assert_eq!(base58btc(b"Hello World!"), "2NEpo7TZRRrLZSi2U");
        assert_eq!(base58btc(&[0, 0, 1]), "112");
        for v in [vec![], vec![0u8], vec![0, 255, 3], (0..64u8).collect()] {
            assert_eq!(unbase58btc(&base58btc(&v)).unwrap(), v);
        }
    }

    #[test]
    fn bits_are_msb_first_and_encoding_is_deterministic() {
        let mut l = StatusList::new(10);
        assert_eq!(l.len(), StatusList::MIN_BITS);
        l.set(0, true);
        l.set(9, true);
        assert_eq!(&l.bits[..2], &[0x80, 0x40]);
        assert!(l.get(9) && !l.get(8) && !l.get(u32::MAX));
        assert_eq!(l.encode(), l.clone().encode());
        assert_eq!(StatusList::decode(&l.encode()).unwrap(), l);
        l.set(200_000, true);
        assert!(l.get(200_000) && l.len() > StatusList::MIN_BITS);
    }
}
