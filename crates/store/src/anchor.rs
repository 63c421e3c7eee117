//! 审计锚点 (anchors of the audit trail): the head of the hash chain (seq, hash, time), signed
//! and kept outside the database (an append-only JSON-lines file, the backup directory, a public
//! URL). The chain alone finds a row altered or removed in the middle; an anchor also finds rows
//! cut off its end: the table's last seq below the anchor's, or another hash at the anchor's seq.
//!
//! Signing goes through [`domain::signature::Signer`] (HMAC-SHA256 under `anchor_keys` today),
//! so an Ed25519/SM2 platform key can replace it without touching the format.

use std::io::Write;
use std::path::Path;

use domain::audit::GENESIS_HASH;
use domain::signature::Signer;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Result, Store, StoreError};

/// The anchors file inside `anchor_dir` (and inside a backup directory).
pub const ANCHORS_FILE: &str = "anchors.jsonl";

/// One anchor: the chain's head at `at`, signed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Anchor {
    /// The last seq of the chain (0: empty chain).
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// When it was anchored (RFC 3339, the caller's clock).
    pub at: String,
    pub key_id: String,
    pub algorithm: String,
    /// Hex signature of [`Anchor::message`].
    pub signature: String,
}

impl Anchor {
    /// The signed text: format tag, seq, hash, time, one per line.
    pub fn message(seq: i64, hash: &str, at: &str) -> String {
        format!("skilleval/audit-anchor/v1\n{seq}\n{hash}\n{at}")
    }
}

/// What an anchor says about the table (the signature checked first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorCheck {
    /// The row at the anchor's seq is there with the anchored hash.
    Holds { anchored: i64, last: i64 },
    /// Rows cut off the end: the table ends at `last` (< the anchor's seq).
    Truncated { anchored: i64, last: i64 },
    /// The row at the anchor's seq has another hash (rewritten chain).
    Differs { anchored: i64, found: String },
}

impl std::fmt::Display for AnchorCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnchorCheck::Holds { anchored, last } => {
                write!(f, "锚点第 {anchored} 条与数据库一致（数据库现有至第 {last} 条）")
            }
            AnchorCheck::Truncated { anchored, last } => write!(
                f,
                "审计记录被截断：锚点记录到第 {anchored} 条，数据库只到第 {last} 条，缺少第 {} 至 {anchored} 条",
                last + 1
            ),
            AnchorCheck::Differs { anchored, found } => write!(
                f,
                "审计链被改写：锚点第 {anchored} 条的哈希与数据库中的不同（数据库中为 {found}）"
            ),
        }
    }
}

impl Store {
    /// The chain's head: (last seq, its hash); (0, genesis) when empty.
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        let row = sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(row
            .map(|r| (r.get(0), r.get(1)))
            .unwrap_or((0, GENESIS_HASH.to_string())))
    }

    /// Sign the chain's current head at `at`.
    pub async fn make_anchor(&self, at: &str) -> Result<Anchor> {
        let signer = self.keys.anchor_signer().ok_or_else(|| {
            StoreError::Other(
                "未配置审计锚点签名密钥 anchor_keys：请在密钥文件中设置，见 docs/operations.md"
                    .into(),
            )
        })?;
        let (seq, hash) = self.audit_head().await?;
        Ok(sign(&signer, seq, hash, at))
    }

    /// Anchor the head now: append it to `dir/anchors.jsonl`.
    pub async fn anchor_to(&self, dir: &Path, at: &str) -> Result<Anchor> {
        let a = self.make_anchor(at).await?;
        append_anchor(dir, &a)?;
        Ok(a)
    }

    /// Check `a`'s signature, then the table against it.
    pub async fn check_anchor(&self, a: &Anchor) -> Result<AnchorCheck> {
        self.verify_anchor_signature(a)?;
        let (last, _) = self.audit_head().await?;
        if a.seq == 0 {
            return Ok(AnchorCheck::Holds { anchored: 0, last });
        }
        let at = sqlx::query("SELECT hash FROM audit_events WHERE seq = $1")
            .bind(a.seq)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(match at {
            None if last < a.seq => AnchorCheck::Truncated {
                anchored: a.seq,
                last,
            },
            None => AnchorCheck::Differs {
                anchored: a.seq,
                found: "（缺失）".into(),
            },
            Some(r) => {
                let found: String = r.get(0);
                if found == a.hash {
                    AnchorCheck::Holds {
                        anchored: a.seq,
                        last,
                    }
                } else {
                    AnchorCheck::Differs {
                        anchored: a.seq,
                        found,
                    }
                }
            }
        })
    }

    /// A wrong anchor (unknown key id, bad signature) is an error in Chinese.
    pub fn verify_anchor_signature(&self, a: &Anchor) -> Result<()> {
        let Some(v) = self.keys.anchor_verifier(&a.key_id) else {
            return Err(StoreError::Invalid(format!(
                "锚点（第 {} 条，{}）的签名密钥编号“{}”未知：anchor_keys 中没有这把密钥",
                a.seq, a.at, a.key_id
            )));
        };
        if a.algorithm != v.algorithm()
            || !v.verify(
                Anchor::message(a.seq, &a.hash, &a.at).as_bytes(),
                &a.signature,
            )
        {
            return Err(StoreError::Invalid(format!(
                "锚点（第 {} 条，{}）的签名无效：锚点被改动或不是本平台签发的",
                a.seq, a.at
            )));
        }
        Ok(())
    }
}

pub(crate) fn sign(signer: &dyn Signer, seq: i64, hash: String, at: &str) -> Anchor {
    let signature = signer.sign(Anchor::message(seq, &hash, at).as_bytes());
    Anchor {
        seq,
        hash,
        at: at.to_string(),
        key_id: signer.key_id().to_string(),
        algorithm: signer.algorithm().to_string(),
        signature,
    }
}

/// Append one anchor as a JSON line to `dir/anchors.jsonl` (created if missing), synced.
pub fn append_anchor(dir: &Path, a: &Anchor) -> Result<()> {
    let io =
        |e: std::io::Error| StoreError::Other(format!("无法写入锚点文件 {}：{e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let path = dir.join(ANCHORS_FILE);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(&path)
        .map_err(io)?;
    let mut line = serde_json::to_string(a).expect("an anchor serialises");
    line.push('\n');
    // A process killed mid-append may have left a line without its end: start on a new line,
    // so the torn tail stays alone (and `read_anchors` leaves it out) instead of spoiling this one.
    if torn_tail(&mut f).map_err(io)? {
        line.insert(0, '\n');
    }
    // One write: the line and its end together.
    f.write_all(line.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(())
}

/// Whether a non-empty file does not end with a line end.
fn torn_tail(f: &mut std::fs::File) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let len = f.metadata()?.len();
    if len == 0 {
        return Ok(false);
    }
    f.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// The anchors in a JSON-lines file, oldest first. A malformed line is an error naming it; a
/// torn one (cut short by a crash) is left out.
pub fn read_anchors(path: &Path) -> Result<Vec<Anchor>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| StoreError::Invalid(format!("无法读取锚点文件 {}：{e}", path.display())))?;
    // A line that stops short (a JSON prefix: the append of a process killed mid-write) is no
    // anchor and is left out; any other malformed line is an error naming it.
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .filter(|(_, l)| !serde_json::from_str::<Anchor>(l).is_err_and(|e| e.is_eof()))
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| {
                StoreError::Invalid(format!(
                    "锚点文件 {} 第 {} 行不是有效的锚点：{e}",
                    path.display(),
                    i + 1
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod crash_tests {
    use super::*;

    /// An append cut short by a crash (a line without its end) spoils neither the anchors before
    /// it nor the next append.
    #[test]
    fn a_torn_append_leaves_the_other_anchors_readable() {
        let dir = tempfile::tempdir().unwrap();
        let signer = crate::Keys::demo()
            .anchor_signer()
            .expect("demo anchor key");
        let a = |seq| sign(&signer, seq, format!("{seq:064}"), "2026-12-02T00:00:00Z");
        append_anchor(dir.path(), &a(1)).unwrap();
        let file = dir.path().join(ANCHORS_FILE);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap();
        f.write_all(br#"{"seq":2,"hash":"00"#).unwrap();
        drop(f);
        assert_eq!(
            read_anchors(&file).unwrap().len(),
            1,
            "the torn tail is left out"
        );
        append_anchor(dir.path(), &a(3)).unwrap();
        let seqs: Vec<i64> = read_anchors(&file)
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(|x| x.seq)
            .collect();
        assert_eq!(
            seqs,
            vec![1, 3],
            "{}",
            std::fs::read_to_string(&file).unwrap()
        );
    }
}
