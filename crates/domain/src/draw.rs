//! 专家抽取: a verifiable random draw from the city expert library (市级专家库).
//!
//! Scheme (commit-reveal, see docs/notes/filing.md):
//! 1. Before a draw attempt, the server generates a random 32-byte secret and publishes only
//!    its commitment `SHA-256(secret)` (stored and written to the audit chain).
//! 2. At the draw, the pool is fixed (qualified experts minus exclusions, sorted by id) and
//!    `seed = SHA-256(secret || application id || attempt || pool hash)`.
//! 3. ChaCha20 seeded with `seed` shuffles the pool; the first N are drawn, and a declined
//!    expert is replaced by the next one of the same order. The secret is revealed at the draw.
//!
//! Anyone can replay: check the commitment, recompute the pool hash, the seed and the order.

use chrono::{Months, NaiveDate};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// An expert as the draw sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub name: String,
    pub employer: String,
    pub employer_credit_code: Option<String>,
    pub occupation_ids: Vec<i64>,
    pub active: bool,
    /// Inclusive periods in which the expert is unavailable.
    pub unavailable: Vec<(NaiveDate, NaiveDate)>,
    /// (institution id, date) of past reviews (drawn and not declined).
    pub reviews: Vec<(i64, NaiveDate)>,
    /// The expert's user account belongs to this institution (its own staff).
    pub staff_of: Option<i64>,
}

/// The application the draw is for.
#[derive(Debug, Clone)]
pub struct Applicant {
    pub institution_id: i64,
    pub name: String,
    pub credit_code: String,
    pub occupation_ids: Vec<i64>,
    pub date: NaiveDate,
    pub recent_months: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Exclusion {
    pub expert_id: i64,
    pub reason: String,
}

/// Pool (sorted ids) and every excluded expert with its reason. Experts not qualified for any
/// applied occupation are not listed (they were never candidates).
pub fn pool(candidates: &[Candidate], a: &Applicant) -> (Vec<i64>, Vec<Exclusion>) {
    let mut pool = vec![];
    let mut excl = vec![];
    let since = a
        .date
        .checked_sub_months(Months::new(a.recent_months))
        .unwrap_or(NaiveDate::MIN);
    for c in candidates {
        if !c
            .occupation_ids
            .iter()
            .any(|o| a.occupation_ids.contains(o))
        {
            continue;
        }
        let reason = if !c.active {
            Some("已停用".to_string())
        } else if c.staff_of == Some(a.institution_id) {
            Some("申报机构本单位人员".to_string())
        } else if norm(&c.employer) == norm(&a.name)
            || c.employer_credit_code
                .as_deref()
                .is_some_and(|cc| !cc.is_empty() && cc.eq_ignore_ascii_case(&a.credit_code))
        {
            Some("与申报机构同一单位（名称或统一社会信用代码相同）".to_string())
        } else if let Some((_, d)) = c
            .reviews
            .iter()
            .find(|(i, d)| *i == a.institution_id && *d >= since)
        {
            Some(format!(
                "{}个月内评审过该机构（{}）",
                a.recent_months,
                d.format("%Y-%m-%d")
            ))
        } else if let Some((f, t)) = c
            .unavailable
            .iter()
            .find(|(f, t)| *f <= a.date && a.date <= *t)
        {
            Some(format!(
                "不可参加评审期间（{} 至 {}）",
                f.format("%Y-%m-%d"),
                t.format("%Y-%m-%d")
            ))
        } else {
            None
        };
        match reason {
            Some(reason) => excl.push(Exclusion {
                expert_id: c.id,
                reason,
            }),
            None => pool.push(c.id),
        }
    }
    pool.sort_unstable();
    excl.sort_by_key(|e| e.expert_id);
    (pool, excl)
}

fn norm(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Hash of the pool: SHA-256 of the sorted ids joined by ",".
pub fn pool_hash(pool: &[i64]) -> String {
    let text = pool
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Commitment published before the draw: SHA-256 of the secret (hex in, hex out).
pub fn commitment(secret_hex: &str) -> String {
    let bytes = hex::decode(secret_hex).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// seed = SHA-256(secret || application id (8 bytes BE) || attempt (8 bytes BE) || pool hash (hex text)).
pub fn seed(secret_hex: &str, application_id: i64, attempt: i64, pool_hash: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(hex::decode(secret_hex).unwrap_or_default());
    h.update(application_id.to_be_bytes());
    h.update(attempt.to_be_bytes());
    h.update(pool_hash.as_bytes());
    h.finalize().into()
}

/// The full draw order of the pool under `seed` (ChaCha20 Fisher–Yates).
pub fn order(pool: &[i64], seed: [u8; 32]) -> Vec<i64> {
    let mut v = pool.to_vec();
    v.sort_unstable();
    let mut rng = ChaCha20Rng::from_seed(seed);
    v.shuffle(&mut rng);
    v
}

/// A complete draw record, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawRecord {
    pub application_id: i64,
    pub attempt: i64,
    pub commitment: String,
    pub secret: String,
    pub pool: Vec<i64>,
    pub pool_hash: String,
    pub seed: String,
    pub size: usize,
    /// Selected in order, then replacements appended as experts decline.
    pub selected: Vec<i64>,
    /// Experts who declined (each replaced by the next of the order).
    pub declined: Vec<i64>,
}

/// Make a draw: the first `size` of the order.
pub fn make(
    application_id: i64,
    attempt: i64,
    secret_hex: &str,
    pool: &[i64],
    size: usize,
) -> DrawRecord {
    let ph = pool_hash(pool);
    let s = seed(secret_hex, application_id, attempt, &ph);
    let ord = order(pool, s);
    DrawRecord {
        application_id,
        attempt,
        commitment: commitment(secret_hex),
        secret: secret_hex.to_string(),
        pool: {
            let mut p = pool.to_vec();
            p.sort_unstable();
            p
        },
        pool_hash: ph,
        seed: hex::encode(s),
        size,
        selected: ord.into_iter().take(size).collect(),
        declined: vec![],
    }
}

/// The replacement for a declined expert: the next of the order not drawn yet.
pub fn replacement(r: &DrawRecord) -> Option<i64> {
    let s: [u8; 32] = hex::decode(&r.seed).ok()?.try_into().ok()?;
    order(&r.pool, s)
        .into_iter()
        .find(|id| !r.selected.contains(id))
}

/// Replay a stored draw: every derived value must match. Returns the list of mismatches.
pub fn verify(r: &DrawRecord) -> Vec<String> {
    let mut bad = vec![];
    if commitment(&r.secret) != r.commitment {
        bad.push("承诺值与公开的随机数不符".to_string());
    }
    let ph = pool_hash(&r.pool);
    if ph != r.pool_hash {
        bad.push("候选池哈希不符".to_string());
    }
    let s = seed(&r.secret, r.application_id, r.attempt, &ph);
    if hex::encode(s) != r.seed {
        bad.push("随机种子不符".to_string());
    }
    let ord = order(&r.pool, s);
    let expected: Vec<i64> = ord
        .iter()
        .copied()
        .take(r.size + r.declined.len())
        .collect();
    let got: Vec<i64> = r.selected.clone();
    if expected != got {
        bad.push(format!(
            "抽取结果不符：按种子应为 {:?}，记录为 {:?}",
            expected, got
        ));
    }
    for d in &r.declined {
        if !r.selected.contains(d) {
            bad.push(format!("谢绝的专家 {d} 不在抽取结果中"));
        }
    }
    bad
}

crate::code_enum! {
    /// 专家抽取状态: one draw attempt.
    pub enum DrawStatus("专家抽取状态") {
        /// 已承诺: the commitment is published, the draw not yet made.
        Committed = "committed", "已承诺，待抽取";
        /// 已抽取.
        Drawn = "drawn", "已抽取";
        /// 已作废: a later attempt replaced it.
        Superseded = "superseded", "已作废（已重新抽取）";
    }
}
crate::code_enum! {
    /// 抽取专家状态: one expert of a draw.
    pub enum MemberStatus("抽取专家状态") {
        /// 抽中.
        Selected = "selected", "抽中";
        /// 递补: drawn in place of one who declined.
        Replacement = "replacement", "递补";
        /// 回避/谢绝.
        Declined = "declined", "已回避";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn cand(id: i64) -> Candidate {
        Candidate {
            id,
            name: format!("专家{id}"),
            employer: "郑州职业技术学院".into(),
            employer_credit_code: None,
            occupation_ids: vec![1],
            active: true,
            unavailable: vec![],
            reviews: vec![],
            staff_of: None,
        }
    }
    fn applicant() -> Applicant {
        Applicant {
            institution_id: 7,
            name: "郑州某培训学校".into(),
            credit_code: "91350100M000100Y43".into(),
            occupation_ids: vec![1, 2],
            date: d(2026, 5, 6),
            recent_months: 12,
        }
    }
    const SECRET: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn draw_excludes_conflicts() {
        let mut c = vec![];
        for id in 1..=10 {
            c.push(cand(id));
        }
        c[0].active = false;
        c[1].employer = "郑州某培训学校".into();
        c[2].employer_credit_code = Some("91350100M000100Y43".into());
        c[3].reviews = vec![(7, d(2025, 9, 1))];
        c[4].reviews = vec![(7, d(2024, 1, 1))]; // long ago: stays
        c[5].unavailable = vec![(d(2026, 5, 1), d(2026, 5, 10))];
        c[6].occupation_ids = vec![99]; // not qualified: not a candidate at all
        c[7].staff_of = Some(7);
        let (pool, excl) = pool(&c, &applicant());
        assert_eq!(pool, vec![5, 9, 10]);
        let ids: Vec<i64> = excl.iter().map(|e| e.expert_id).collect();
        assert_eq!(ids, vec![1, 2, 3, 4, 6, 8]);
        assert!(excl[3].reason.contains("12个月内评审过"));
        assert!(excl[1].reason.contains("同一单位"));
    }

    /// The same vectors come out of docs/draw_verify.py (Python, standard library only): the
    /// order is ChaCha20 as rand_chacha 0.3 and the shuffle as rand 0.8, nothing platform-specific.
    #[test]
    fn draw_order_matches_reference_vectors() {
        assert_eq!(
            order(&(1..=30).collect::<Vec<_>>(), [7; 32]),
            vec![
                5, 17, 18, 29, 25, 10, 7, 20, 19, 2, 13, 3, 12, 11, 27, 16, 30, 26, 22, 14, 6, 9,
                4, 28, 23, 1, 24, 21, 8, 15
            ]
        );
        let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
        assert_eq!(order(&[100, 3, 77, 10, 42], seed), vec![3, 100, 77, 10, 42]);
    }

    #[test]
    fn draw_replays_identically() {
        let pool: Vec<i64> = (1..=20).collect();
        let a = make(5, 1, SECRET, &pool, 3);
        let b = make(5, 1, SECRET, &pool, 3);
        assert_eq!(a, b);
        assert_eq!(a.selected.len(), 3);
        assert!(verify(&a).is_empty());
        // Another attempt gives another seed.
        let c = make(5, 2, SECRET, &pool, 3);
        assert_ne!(a.seed, c.seed);
        // Tampering is detected.
        let mut t = a.clone();
        t.selected[0] = if t.selected[0] == 1 { 2 } else { 1 };
        assert!(!verify(&t).is_empty());
        let mut t = a.clone();
        t.pool.push(99);
        assert!(!verify(&t).is_empty());
    }

    #[test]
    fn draw_decline_redraw_recorded() {
        let pool: Vec<i64> = (1..=6).collect();
        let mut r = make(9, 1, SECRET, &pool, 3);
        let first = r.selected[0];
        let next = replacement(&r).unwrap();
        assert!(!r.selected.contains(&next));
        r.declined.push(first);
        r.selected.push(next);
        assert!(verify(&r).is_empty(), "{:?}", verify(&r));
        let ord = order(&r.pool, hex::decode(&r.seed).unwrap().try_into().unwrap());
        assert_eq!(next, ord[3]);
        // Pool exhausted: no replacement.
        let mut small = make(9, 1, SECRET, &[1, 2], 2);
        assert_eq!(replacement(&small), None);
        small.size = 2;
    }
}
