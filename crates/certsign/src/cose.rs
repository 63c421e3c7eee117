//! COSE_Sign1 (RFC 9052 §4.2) with EdDSA (alg −8) over the payload of [`CertificatePayload`].
//!
//! ```text
//! COSE_Sign1 = [ protected: bstr .cbor {1: -8, 4: kid(8 bytes)}, unprotected: {}, payload: bstr, signature: bstr(64) ]
//! Sig_structure = ["Signature1", protected, h'', payload]
//! ```
//! We write the untagged form (the context is known: a QR code of ours); a reader also accepts
//! tag 18.

use ciborium::Value;

use crate::{CertificatePayload, SigningKey, VerifyError};

const ALG_EDDSA: i64 = -8;
const TAG_COSE_SIGN1: u64 = 18;

/// A parsed COSE_Sign1 structure, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoseSign1 {
    /// The protected header exactly as it was serialised (it is covered by the signature).
    pub protected: Vec<u8>,
    pub kid: [u8; 8],
    pub payload: Vec<u8>,
    pub signature: [u8; 64],
}

/// Reads exactly one CBOR item; trailing bytes are an error (they would ride along unsigned).
pub(crate) fn read_one(bytes: &[u8]) -> Result<Value, VerifyError> {
    let mut cursor = std::io::Cursor::new(bytes);
    let v: Value = ciborium::from_reader(&mut cursor)
        .map_err(|_| VerifyError::Malformed("不是有效的 CBOR 数据".into()))?;
    if cursor.position() as usize != bytes.len() {
        return Err(VerifyError::Malformed("数据末尾有多余内容".into()));
    }
    Ok(v)
}

fn protected_header(kid: &[u8; 8]) -> Vec<u8> {
    let h = Value::Map(vec![
        (Value::Integer(1.into()), Value::Integer(ALG_EDDSA.into())),
        (Value::Integer(4.into()), Value::Bytes(kid.to_vec())),
    ]);
    let mut out = vec![];
    ciborium::into_writer(&h, &mut out).expect("CBOR into Vec");
    out
}

/// The bytes that are signed: Sig_structure with an empty external AAD.
pub(crate) fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let s = Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(vec![]),
        Value::Bytes(payload.to_vec()),
    ]);
    let mut out = Vec::with_capacity(payload.len() + 40);
    ciborium::into_writer(&s, &mut out).expect("CBOR into Vec");
    out
}

/// Signs a payload: the COSE_Sign1 bytes. Same as [`SigningKey::sign`].
pub fn sign_payload(key: &SigningKey, payload: &CertificatePayload) -> Vec<u8> {
    let protected = protected_header(&key.kid());
    let body = payload.to_cbor();
    let signature = key.sign_bytes(&sig_structure(&protected, &body));
    let v = Value::Array(vec![
        Value::Bytes(protected),
        Value::Map(vec![]),
        Value::Bytes(body),
        Value::Bytes(signature.to_vec()),
    ]);
    let mut out = Vec::with_capacity(256);
    ciborium::into_writer(&v, &mut out).expect("CBOR into Vec");
    out
}

impl CoseSign1 {
    /// Parses the structure and its protected header; checks the algorithm is EdDSA.
    pub fn parse(bytes: &[u8]) -> Result<Self, VerifyError> {
        let bad = |m: &str| VerifyError::Malformed(m.to_string());
        let v = match read_one(bytes)? {
            Value::Tag(TAG_COSE_SIGN1, inner) => *inner,
            Value::Tag(..) => return Err(bad("不是 COSE_Sign1 结构")),
            v => v,
        };
        let Value::Array(items) = v else {
            return Err(bad("不是 COSE_Sign1 结构"));
        };
        let [protected, unprotected, payload, signature]: [Value; 4] = items
            .try_into()
            .map_err(|_| bad("COSE_Sign1 应有四个元素"))?;
        let (
            Value::Bytes(protected),
            Value::Map(unprotected),
            Value::Bytes(payload),
            Value::Bytes(signature),
        ) = (protected, unprotected, payload, signature)
        else {
            return Err(bad("COSE_Sign1 元素类型错误"));
        };
        if !unprotected.is_empty() {
            // Nothing unsigned may travel with the certificate.
            return Err(bad("不接受未受保护的头部参数"));
        }
        let signature: [u8; 64] = signature
            .try_into()
            .map_err(|_| bad("签名长度应为64字节"))?;
        let Value::Map(header) = read_one(&protected)? else {
            return Err(bad("受保护头部不是映射"));
        };
        let mut alg = None;
        let mut kid = None;
        for (k, v) in header {
            match (k, v) {
                (Value::Integer(k), Value::Integer(a)) if i128::from(k) == 1 => {
                    alg = Some(i128::from(a))
                }
                (Value::Integer(k), Value::Bytes(b)) if i128::from(k) == 4 => kid = Some(b),
                _ => return Err(bad("受保护头部含有未知参数")),
            }
        }
        if alg != Some(ALG_EDDSA as i128) {
            return Err(bad("签名算法不是 EdDSA"));
        }
        let kid: [u8; 8] = kid
            .ok_or_else(|| bad("缺少密钥标识"))?
            .try_into()
            .map_err(|_| bad("密钥标识应为8字节"))?;
        Ok(CoseSign1 {
            protected,
            kid,
            payload,
            signature,
        })
    }

    /// The bytes the signature covers.
    pub fn signed_bytes(&self) -> Vec<u8> {
        sig_structure(&self.protected, &self.payload)
    }
}
