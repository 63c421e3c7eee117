//! The audit chain (审计链): each event carries the hash of the one before it, so that an altered,
//! deleted or inserted row breaks the chain at a point `audit verify` can name.

use sha2::{Digest, Sha256};

/// The hash that the first event points back to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event as it is hashed. `seq` is gap-free: it is assigned under a lock as last + 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    /// RFC 3339 UTC, as stored.
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// A JSON summary of the change (never secrets).
    pub summary: String,
    pub request_id: String,
    pub client_addr: String,
    pub prev_hash: String,
}

impl AuditEntry {
    /// SHA-256 over a length-prefixed encoding of every field: no two different entries encode alike.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        let actor_id = self.actor_id.map(|v| v.to_string()).unwrap_or_default();
        let seq = self.seq.to_string();
        for field in [
            seq.as_str(),
            &self.at,
            &actor_id,
            &self.actor,
            &self.role,
            &self.action,
            &self.object_type,
            &self.object_id,
            &self.summary,
            &self.request_id,
            &self.client_addr,
            &self.prev_hash,
        ] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// Where and why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("审计链在第 {seq} 条处断裂：{reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Checks entries fed in `seq` order, one at a time, so a chain of millions needs no memory.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
        }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, entry: &AuditEntry, stored_hash: &str) -> Result<(), ChainBreak> {
        if entry.seq != self.expected_seq {
            return Err(ChainBreak {
                seq: self.expected_seq,
                reason: if entry.seq > self.expected_seq {
                    format!(
                        "缺少第 {} 条（下一条为第 {} 条），疑似被删除",
                        self.expected_seq, entry.seq
                    )
                } else {
                    format!("序号 {} 重复或顺序错乱", entry.seq)
                },
            });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainBreak {
                seq: entry.seq,
                reason: "前序哈希与上一条不符，疑似插入或删除".into(),
            });
        }
        if entry.hash() != stored_hash {
            return Err(ChainBreak {
                seq: entry.seq,
                reason: "内容与哈希不符，疑似被篡改".into(),
            });
        }
        self.expected_seq += 1;
        self.prev_hash = stored_hash.to_string();
        Ok(())
    }

    /// Number of entries verified so far.
    pub fn count(&self) -> i64 {
        self.expected_seq - 1
    }

    pub fn head(&self) -> &str {
        &self.prev_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<(AuditEntry, String)> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let e = AuditEntry {
                    seq,
                    at: format!("2026-01-01T00:00:0{seq}Z"),
                    actor_id: Some(1),
                    actor: "admin".into(),
                    role: "admin".into(),
                    action: "user.create".into(),
                    object_type: "user".into(),
                    object_id: seq.to_string(),
                    summary: "{}".into(),
                    request_id: "r".into(),
                    client_addr: "127.0.0.1".into(),
                    prev_hash: prev.clone(),
                };
                let h = e.hash();
                prev = h.clone();
                (e, h)
            })
            .collect()
    }

    fn verify(rows: &[(AuditEntry, String)]) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for (e, h) in rows {
            v.push(e, h)?;
        }
        Ok(v.count())
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
    }

    #[test]
    fn altered_entry_is_named() {
        let mut rows = chain(5);
        rows[2].0.summary = "{\"x\":1}".into();
        assert_eq!(verify(&rows).unwrap_err().seq, 3);
    }

    #[test]
    fn deleted_entry_is_named() {
        let mut rows = chain(5);
        rows.remove(1);
        assert_eq!(verify(&rows).unwrap_err().seq, 2);
    }

    #[test]
    fn rehashed_insertion_is_caught_by_the_next_link() {
        let mut rows = chain(3);
        // An attacker rewrites entry 2 and recomputes its hash; entry 3 still points at the old one.
        rows[1].0.actor = "mallory".into();
        rows[1].1 = rows[1].0.hash();
        let err = verify(&rows).unwrap_err();
        assert_eq!(err.seq, 3);
    }
}
