//! Signatures over document hashes, behind a small trait so that SM2 (or ed25519 with keys
//! held by each party) can replace the platform HMAC later without touching the workflows.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub trait Signer: Send + Sync {
    /// e.g. "HMAC-SHA256".
    fn algorithm(&self) -> &'static str;
    /// Identifies the key (never the key itself).
    fn key_id(&self) -> &str;
    /// Hex-encoded signature of `message`.
    fn sign(&self, message: &[u8]) -> String;
    fn verify(&self, message: &[u8], signature_hex: &str) -> bool;
}

/// A platform key: the platform attests that an authenticated account performed the signing.
pub struct HmacSigner {
    key_id: String,
    key: Vec<u8>,
}

impl HmacSigner {
    pub fn new(key_id: impl Into<String>, key: Vec<u8>) -> HmacSigner {
        HmacSigner {
            key_id: key_id.into(),
            key,
        }
    }
    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC accepts any key length")
    }
}

impl Signer for HmacSigner {
    fn algorithm(&self) -> &'static str {
        "HMAC-SHA256"
    }
    fn key_id(&self) -> &str {
        &self.key_id
    }
    fn sign(&self, message: &[u8]) -> String {
        let mut m = self.mac();
        m.update(message);
        hex::encode(m.finalize().into_bytes())
    }
    fn verify(&self, message: &[u8], signature_hex: &str) -> bool {
        let Ok(sig) = hex::decode(signature_hex) else {
            return false;
        };
        let mut m = self.mac();
        m.update(message);
        m.verify_slice(&sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_signature_verifies_and_detects_tampering() {
        let s = HmacSigner::new("k1", b"secret key".to_vec());
        let sig = s.sign(b"letter hash");
        assert!(s.verify(b"letter hash", &sig));
        assert!(!s.verify(b"letter hash!", &sig));
        assert!(!s.verify(b"letter hash", "zz"));
        let other = HmacSigner::new("k2", b"other".to_vec());
        assert!(!other.verify(b"letter hash", &sig));
    }
}
