//! The dataset's layout: the reference data and ids the database holds already, then the
//! institutions and their plans, placed in the order of their certificate numbers.

use chrono::{Datelike, Duration, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use sqlx::Row;

use super::{max_id, Inst, Occ, Options, PlanSpec};

/// Candidates per certificate: about 5 % fail.
const PASS_PER_1000: u32 = 950;
/// What the database holds already: reference data, the ids taken, the accounts that sign.
pub(super) struct Existing {
    pub districts: Vec<String>,
    pub occs: Vec<Occ>,
    pub taken_sites: std::collections::HashSet<String>,
    pub inst_base: i64,
    pub app_base: i64,
    pub plan_base: i64,
    pub cand_base: i64,
    pub cert_base: i64,
    pub batch_base: i64,
    pub status_base: i64,
    pub center: String,
    pub division: String,
}

/// The institutions and plans to generate, the serial counters they leave and the next free
/// status-list index.
pub(super) struct Layout {
    pub insts: Vec<Inst>,
    pub plans: Vec<PlanSpec>,
    /// (institution, year, last serial)
    pub counters: Vec<(i64, i64, i64)>,
    pub status: i64,
}

/// Read the reference data and the ids already taken.
pub(super) async fn existing(conn: &mut sqlx::AnyConnection) -> anyhow::Result<Existing> {
    let districts: Vec<String> = sqlx::query(
        "SELECT code FROM divisions WHERE kind <> 'city' AND active = 1 ORDER BY sort, code",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    anyhow::ensure!(!districts.is_empty(), "没有区县参考数据");
    let occs: Vec<Occ> = sqlx::query(
        "SELECT id, code, name, levels FROM occupations WHERE kind = 'occupation' AND active = 1 AND levels <> '' ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Occ {
        id: r.get(0),
        code: r.get(1),
        name: r.get(2),
        levels: r
            .get::<String, _>(3)
            .split(',')
            .filter_map(|l| l.trim().parse().ok())
            .collect(),
    })
    .filter(|o: &Occ| !o.levels.is_empty())
    .collect();
    anyhow::ensure!(!occs.is_empty(), "没有职业参考数据");
    let taken_sites: std::collections::HashSet<String> =
        sqlx::query("SELECT site_code FROM institutions WHERE site_code IS NOT NULL")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    let inst_base = max_id(conn, "institutions").await?;
    let app_base = max_id(conn, "filing_applications").await?;
    let plan_base = max_id(conn, "plans").await?;
    let cand_base = max_id(conn, "candidates").await?;
    let cert_base = max_id(conn, "certificates").await?;
    let batch_base = max_id(conn, "cert_batches").await?;
    let status_base: i64 = sqlx::query("SELECT last_index FROM cert_status_counter WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?
        .get::<i64, _>(0)
        + 1;
    let center: String =
        sqlx::query("SELECT username FROM users WHERE role = 'city_center' ORDER BY id LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| r.get(0))
            .unwrap_or_else(|| "bench-data".into());
    let division: String =
        sqlx::query("SELECT username FROM users WHERE role = 'city_division' ORDER BY id LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| r.get(0))
            .unwrap_or_else(|| "bench-data".into());
    Ok(Existing {
        districts,
        occs,
        taken_sites,
        inst_base,
        app_base,
        plan_base,
        cand_base,
        cert_base,
        batch_base,
        status_base,
        center,
        division,
    })
}

/// Place the institutions, then the plans in the order of their certificate numbers.
pub(super) fn layout(ex: &Existing, opts: &Options, rng: &mut ChaCha8Rng) -> Layout {
    let (districts, occs, taken_sites) = (&ex.districts, &ex.occs, &ex.taken_sites);
    let (inst_base, plan_base, cand_base, cert_base, batch_base, status_base) = (
        ex.inst_base,
        ex.plan_base,
        ex.cand_base,
        ex.cert_base,
        ex.batch_base,
        ex.status_base,
    );
    let n = opts.certificates.max(1);
    let n_inst = (n / 5_000).clamp(4, 20_000) as usize;
    let mut insts: Vec<Inst> = Vec::with_capacity(n_inst);
    let mut site = 600_000u32;
    for k in 0..n_inst {
        // Social organisations (S) first, then employers (Y): number order is id order.
        let kind = if k < n_inst * 3 / 4 {
            "social_org"
        } else {
            "enterprise"
        };
        let site_code = loop {
            site += 1;
            let s = format!("{site:06}");
            if !taken_sites.contains(&s) {
                break s;
            }
        };
        let district = districts[k % districts.len()].clone();
        let n_occ = rng.gen_range(1..=3usize).min(occs.len());
        let mut occupations: Vec<usize> = vec![];
        while occupations.len() < n_occ {
            let o = rng.gen_range(0..occs.len());
            if !occupations.contains(&o) {
                occupations.push(o);
            }
        }
        insts.push(Inst {
            id: inst_base + 1 + k as i64,
            name: format!(
                "郑州市{}职业技能培训评价中心{:05}",
                ["华业", "中原", "众诚", "嵩山", "黄河", "商都", "绿城", "金鼎"][k % 8],
                k + 1
            ),
            kind,
            district,
            site_code,
            occupations,
        });
    }
    // Certificates per plan: 40–160; plans spread over the institutions.
    let mut sizes: Vec<u32> = vec![];
    let mut left = n;
    while left > 0 {
        let s = (rng.gen_range(40..=160u64)).min(left);
        sizes.push(s as u32);
        left -= s;
    }
    let n_plans = sizes.len();
    let mut per_inst: Vec<Vec<(NaiveDate, u8, usize, u32)>> = vec![vec![]; n_inst];
    for (k, certs) in sizes.iter().enumerate() {
        let i = k % n_inst;
        let o = insts[i].occupations[rng.gen_range(0..insts[i].occupations.len())];
        let lv = &occs[o].levels;
        // Mostly 五级/四级/三级, as in practice.
        let level = *lv
            .iter()
            .filter(|l| **l >= 3)
            .nth(rng.gen_range(0..3usize))
            .unwrap_or(&lv[rng.gen_range(0..lv.len())]);
        let issued_on = opts.today - Duration::days(rng.gen_range(20..1_460));
        per_inst[i].push((issued_on, level, o, *certs));
    }
    let mut plans: Vec<PlanSpec> = Vec::with_capacity(n_plans);
    let (mut cand, mut cert, mut status) = (cand_base + 1, cert_base + 1, status_base);
    // (institution, year) → last serial
    let mut counters: Vec<(i64, i64, i64)> = vec![];
    for (i, list) in per_inst.iter_mut().enumerate() {
        list.sort_by_key(|(d, l, _, _)| (d.year(), *l, *d));
        let mut year = 0;
        let mut serial = 0i64;
        for (issued_on, level, occ, certs) in list.iter() {
            if issued_on.year() != year {
                if year != 0 {
                    counters.push((insts[i].id, year as i64, serial));
                }
                year = issued_on.year();
                serial = 0;
            }
            let candidates = (*certs as u64 * 1000).div_ceil(PASS_PER_1000 as u64) as u32;
            let k = plans.len() as i64;
            plans.push(PlanSpec {
                id: plan_base + 1 + k,
                certs: *certs,
                inst: i,
                occ: *occ,
                level: *level,
                issued_on: *issued_on,
                candidates,
                first_candidate: cand,
                first_cert: cert,
                first_status: status,
                first_serial: serial + 1,
                batch_id: batch_base + 1 + k,
            });
            cand += candidates as i64;
            cert += *certs as i64;
            status += *certs as i64;
            serial += *certs as i64;
        }
        if year != 0 {
            counters.push((insts[i].id, year as i64, serial));
        }
    }
    Layout {
        insts,
        plans,
        counters,
        status,
    }
}
