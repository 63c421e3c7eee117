//! Candidates, certificates, batch items and revocations, plan by plan: signed on worker threads
//! while the database inserts them (multi-row statements with bound values, prepared once) in
//! large transactions.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::{Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use store::{IssueDraft, Store};

use super::bulk::{chunks, Chunk, Statements, Table, V};
use super::{at, day, Inst, Occ, Options, PlanSpec, Report};

static CANDIDATES: Table = Table {
    head: "INSERT INTO candidates (id, plan_id, institution_id, district_code, name, id_type, id_number, id_hash, id_masked, gender, education, source, phone, level, theory_score, skill_score, passed, scored_at, created_at, updated_at)",
    row: "(?, ?, ?, ?, ?, '居民身份证', ?, ?, ?, ?, '高中', '社会人员', ?, ?, ?, ?, ?, ?, ?, ?)",
    width: 17,
};
static CERTIFICATES: Table = Table {
    head: "INSERT INTO certificates (id, cert_no, candidate_id, plan_id, batch_id, institution_id, institution_name, district_code, site_code, occupation_code, occupation_name, work_type, level, holder_name, id_type, id_hash, id_masked, issued_on, state, published, revoke_reason, revoked_at, status_index, signed_at, key_id, cose, created_at)",
    row: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '--', ?, ?, '居民身份证', ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
    width: 24,
};
static ITEMS: Table = Table {
    head: "INSERT INTO cert_batch_items (batch_id, candidate_id)",
    row: "(?, ?)",
    width: 2,
};
static CHANGES: Table = Table {
    head: "INSERT INTO cert_changes (certificate_id, kind, reason, status, proposed_by, proposed_role, proposed_at, confirmed_by, confirmed_role, confirmed_at)",
    row: "(?, 'revoke', '考核舞弊，经查实撤销', 'applied', ?, 'city_center', ?, ?, 'city_division', ?)",
    width: 5,
};

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹",
    "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "萍", "红", "鹏", "辉", "建", "国", "文",
    "利", "斌", "宇", "浩", "凯", "晨", "欣", "怡", "佳", "雪", "琳", "晶", "颖", "倩", "婷", "博",
];
/// Birth regions of the generated ID numbers (Zhengzhou's districts and counties).
const REGIONS: &[&str] = &[
    "410102", "410103", "410104", "410105", "410106", "410108", "410122", "410181", "410182",
    "410183", "410184", "410185",
];

/// The rows of one plan: the bound values of each table, row after row, then cut into
/// statements (parents before children: PostgreSQL checks foreign keys per statement).
#[derive(Default)]
struct Unit {
    candidates: Vec<V>,
    certificates: Vec<V>,
    items: Vec<V>,
    changes: Vec<V>,
    chunks: Vec<Chunk>,
    certs: u64,
    revoked: u64,
    sample: Vec<String>,
}

/// Generate and insert the rows of every plan; signing runs on `opts.threads` worker threads.
#[allow(clippy::too_many_arguments)]
pub(super) async fn load(
    conn: &mut sqlx::AnyConnection,
    store: &Store,
    key: Arc<certsign::SigningKey>,
    numbering: domain::certno::Numbering,
    opts: &Options,
    plans: Vec<PlanSpec>,
    insts: Vec<Inst>,
    occs: Vec<Occ>,
    center: &str,
    division: &str,
    report: &mut Report,
    t0: Instant,
) -> anyhow::Result<()> {
    let n = opts.certificates.max(1);
    let plans = Arc::new(plans);
    let insts = Arc::new(insts);
    let occs = Arc::new(occs);
    let numbering = Arc::new(numbering);
    let threads = opts.threads.max(1);
    let mut receivers = vec![];
    let mut handles = vec![];
    let ctx = Arc::new(Ctx {
        seed: opts.seed,
        revoked_per_10k: opts.revoked_per_10k,
        sample_every: opts.sample.as_ref().map(|(_, e)| *e).unwrap_or(0),
        issue: opts.issue,
        center: center.to_string(),
        division: division.to_string(),
    });
    for w in 0..threads {
        let (tx, rx) = tokio::sync::mpsc::channel::<anyhow::Result<Unit>>(3);
        receivers.push(rx);
        let (plans, insts, occs, numbering, key, ctx) = (
            plans.clone(),
            insts.clone(),
            occs.clone(),
            numbering.clone(),
            key.clone(),
            ctx.clone(),
        );
        let store = store.clone();
        handles.push(std::thread::spawn(move || {
            let mut k = w;
            while k < plans.len() {
                let unit = make_unit(&store, &ctx, &plans[k], &insts, &occs, &numbering, &key);
                let failed = unit.is_err();
                if tx.blocking_send(unit).is_err() || failed {
                    return;
                }
                k += threads;
            }
        }));
    }
    let mut sample = match &opts.sample {
        Some((path, _)) => Some(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("无法写入样本文件 {}", path.display()))?,
        )),
        None => None,
    };
    let backend = store.db.backend;
    let mut statements = Statements::default();
    sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
    let mut in_tx = 0u64;
    let mut last_print = Instant::now();
    for k in 0..plans.len() {
        let unit = receivers[k % threads]
            .recv()
            .await
            .context("签名线程意外退出")??;
        for chunk in unit.chunks {
            chunk.insert(&mut *conn, backend, &mut statements).await?;
        }
        report.candidates += plans[k].candidates as u64;
        report.certificates += unit.certs;
        report.revoked += unit.revoked;
        in_tx += unit.certs;
        if let Some(f) = sample.as_mut() {
            use std::io::Write;
            for line in &unit.sample {
                writeln!(f, "{line}")?;
            }
        }
        let last = k + 1 == plans.len();
        if in_tx >= opts.per_tx || last {
            sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
            in_tx = 0;
            if !last {
                sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
            }
        }
        if last_print.elapsed().as_secs() >= 10 {
            last_print = Instant::now();
            eprintln!(
                "  {} / {} certificates, {:.0} per second",
                report.certificates,
                n,
                report.certificates as f64 / t0.elapsed().as_secs_f64()
            );
        }
    }
    if plans.is_empty() {
        sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
    }
    for h in handles {
        let _ = h.join();
    }
    if let Some(mut f) = sample {
        use std::io::Write;
        f.flush()?;
    }
    Ok(())
}

struct Ctx {
    seed: u64,
    revoked_per_10k: u32,
    sample_every: u64,
    issue: bool,
    center: String,
    division: String,
}

/// The person behind global candidate number `g`: a unique, valid ID number.
fn id_number(g: u64) -> String {
    let region = REGIONS[(g % REGIONS.len() as u64) as usize];
    let rest = g / REGIONS.len() as u64;
    let birth =
        NaiveDate::from_ymd_opt(1966, 1, 1).expect("date") + Duration::days((rest % 14_600) as i64);
    let seq = (rest / 14_600) % 1_000;
    domain::id_number::with_check_digit(&format!("{region}{}{seq:03}", birth.format("%Y%m%d")))
        .expect("generated ID number")
}

fn make_unit(
    store: &Store,
    ctx: &Ctx,
    p: &PlanSpec,
    insts: &[Inst],
    occs: &[Occ],
    numbering: &domain::certno::Numbering,
    key: &certsign::SigningKey,
) -> anyhow::Result<Unit> {
    use base64::Engine;
    let mut rng =
        ChaCha8Rng::seed_from_u64(ctx.seed ^ (p.id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let inst = &insts[p.inst];
    let occ = &occs[p.occ];
    let mut u = Unit::default();
    // Texts every row of the plan repeats.
    let shared = |s: &str| V::from(s);
    let scored = shared(&at(p.issued_on - Duration::days(19), 9));
    let created = shared(&at(p.issued_on - Duration::days(30), 2));
    let issued = day(p.issued_on);
    let issued_v = shared(&issued);
    let issued_at = shared(&at(p.issued_on, 3));
    let kid = shared(&hex::encode(key.kid()));
    let (inst_name, district, site) = (
        shared(&inst.name),
        shared(&inst.district),
        shared(&inst.site_code),
    );
    let (occ_code, occ_name) = (shared(&occ.code), shared(&occ.name));
    let mut serial = p.first_serial;
    let mut cert_id = p.first_cert;
    let mut status = p.first_status;
    // Exactly the planned number pass.
    let want = p.candidates - p.certs;
    let mut fails = std::collections::BTreeSet::new();
    while (fails.len() as u32) < want {
        fails.insert(rng.gen_range(0..p.candidates));
    }
    for c in 0..p.candidates {
        let cand_id = p.first_candidate + c as i64;
        let id = id_number(cand_id as u64);
        let parsed = domain::id_number::IdNumber::parse(&id).expect("generated ID valid");
        let hash = store.id_hash(&id)?;
        let masked = parsed.masked();
        let gender = parsed.gender().name();
        let name = format!(
            "{}{}{}",
            SURNAMES[rng.gen_range(0..SURNAMES.len())],
            GIVEN[rng.gen_range(0..GIVEN.len())],
            if rng.gen_bool(0.6) {
                GIVEN[rng.gen_range(0..GIVEN.len())]
            } else {
                ""
            }
        );
        let passed = !fails.contains(&c);
        let (theory, skill) = if passed {
            (rng.gen_range(60..=98), rng.gen_range(60..=98))
        } else {
            (rng.gen_range(30..=59), rng.gen_range(40..=90))
        };
        u.candidates.extend([
            V::I(cand_id),
            V::I(p.id),
            V::I(inst.id),
            district.clone(),
            V::from(name.as_str()),
            V::from(id),
            V::from(hash.as_str()),
            V::from(masked.as_str()),
            V::from(gender),
            V::T(format!("1390000{:04}", cand_id % 10_000)),
            V::I(p.level as i64),
            V::I(theory),
            V::I(skill),
            V::I(passed as i64),
            scored.clone(),
            created.clone(),
            scored.clone(),
        ]);
        if !passed || !ctx.issue {
            continue;
        }
        u.items.extend([V::I(p.batch_id), V::I(cand_id)]);
        let draft = IssueDraft {
            candidate_id: cand_id,
            plan_id: p.id,
            institution_id: inst.id,
            institution_name: inst.name.clone(),
            institution_kind: inst.kind.into(),
            district_code: inst.district.clone(),
            site_code: inst.site_code.clone(),
            occupation_code: occ.code.clone(),
            occupation_name: occ.name.clone(),
            occupation_kind: "occupation".into(),
            work_type: "--".into(),
            level: p.level as i64,
            holder_name: name.clone(),
            id_type: "居民身份证".into(),
            id_hash: hash.clone(),
            id_masked: masked.clone(),
            photo_document_id: None,
            issued_on: issued.clone(),
            replaces_id: None,
        };
        let no = store::cert_sign::compose_number(numbering, &draft, serial)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let signed = store::cert_sign::sign_draft(key, &draft, &no, status)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let revoked = ctx.revoked_per_10k > 0 && rng.gen_range(0..10_000) < ctx.revoked_per_10k;
        let (state, reason, revoked_at) = if revoked {
            let when = at(p.issued_on + Duration::days(rng.gen_range(10..300)), 6);
            u.changes.extend([
                V::I(cert_id),
                V::from(ctx.center.as_str()),
                V::from(when.as_str()),
                V::from(ctx.division.as_str()),
                V::from(when.as_str()),
            ]);
            u.revoked += 1;
            (
                V::from("revoked"),
                V::from("考核舞弊，经查实撤销"),
                V::T(when),
            )
        } else {
            (V::from("valid"), V::Null, V::Null)
        };
        if ctx.sample_every > 0 && (cert_id as u64).is_multiple_of(ctx.sample_every) {
            u.sample.push(format!(
                "{no}\t{name}\t{}",
                certsign::qr_text("", &no, &signed.cose)
            ));
        }
        u.certificates.extend([
            V::I(cert_id),
            V::T(no),
            V::I(cand_id),
            V::I(p.id),
            V::I(p.batch_id),
            V::I(inst.id),
            inst_name.clone(),
            district.clone(),
            site.clone(),
            occ_code.clone(),
            occ_name.clone(),
            V::I(p.level as i64),
            V::T(name),
            V::T(hash),
            V::T(masked),
            issued_v.clone(),
            state,
            reason,
            revoked_at,
            V::I(status),
            V::I(signed.signed_at),
            kid.clone(),
            V::T(base64::engine::general_purpose::STANDARD.encode(&signed.cose)),
            issued_at.clone(),
        ]);
        u.certs += 1;
        serial += 1;
        cert_id += 1;
        status += 1;
    }
    for (table, values) in [
        (&CANDIDATES, std::mem::take(&mut u.candidates)),
        (&ITEMS, std::mem::take(&mut u.items)),
        (&CERTIFICATES, std::mem::take(&mut u.certificates)),
        (&CHANGES, std::mem::take(&mut u.changes)),
    ] {
        chunks(table, values, &mut u.chunks);
    }
    Ok(u)
}
