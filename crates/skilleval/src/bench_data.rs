//! `skilleval bench-data`: a consistent dataset at size for benchmarks (issue 11 §1): filed
//! institutions with their filings and 备案范围, confirmed plans whose results were submitted,
//! candidates (valid GB 11643 numbers, peppered hashes), finished certificate batches, signed
//! certificates with real national numbers (`domain::certno`), a few revocations (two keys, as
//! the platform records them) and the serial and status-list counters that follow.
//!
//! Deterministic: the same seed, day and size give the same rows. Dates are relative to the
//! given day. It writes straight to the database in multi-row INSERTs of literal values (the
//! data is generated here, so nothing outside is interpolated), in a few large transactions;
//! signing runs on worker threads while the database inserts. Rows are generated in the order of
//! their unique keys (certificate number, ids, status index), so those indexes only append; the
//! two indexes on ID hashes (random keys) are dropped for the load and built again afterwards.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::Row;
use store::{Backend, IssueDraft, Store};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    pub certificates: u64,
    pub seed: u64,
    /// The day the data is relative to (issue dates fall in the four years before it).
    pub today: NaiveDate,
    /// Revoked certificates per 10,000.
    pub revoked_per_10k: u32,
    /// Signing threads.
    pub threads: usize,
    /// Certificates per transaction.
    pub per_tx: u64,
    /// Write (number, holder name, QR path) of every n-th certificate here, for load tests.
    pub sample: Option<(std::path::PathBuf, u64)>,
    /// False: plans with submitted results and passed candidates, but no batches and no
    /// certificates yet (what `bench issue-certificates` issues).
    pub issue: bool,
}

/// What was generated.
#[derive(Debug, Default)]
pub struct Report {
    pub institutions: u64,
    pub plans: u64,
    pub candidates: u64,
    pub certificates: u64,
    pub revoked: u64,
    pub seconds: f64,
    pub index_seconds: f64,
}

/// Candidates per certificate: about 5 % fail.
const PASS_PER_1000: u32 = 950;
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

/// One filed institution.
struct Inst {
    id: i64,
    name: String,
    kind: &'static str,
    district: String,
    site_code: String,
    /// (occupation index, levels filed)
    occupations: Vec<usize>,
}

struct Occ {
    id: i64,
    code: String,
    name: String,
    levels: Vec<u8>,
}

/// One plan and everything its rows need; ids are fixed before generation.
struct PlanSpec {
    id: i64,
    /// Certificates (passed candidates).
    certs: u32,
    inst: usize,
    occ: usize,
    level: u8,
    issued_on: NaiveDate,
    candidates: u32,
    first_candidate: i64,
    first_cert: i64,
    first_status: i64,
    first_serial: i64,
    batch_id: i64,
}

/// The rows of one plan, as VALUES tuples.
#[derive(Default)]
struct Unit {
    candidates: String,
    certificates: String,
    items: String,
    changes: String,
    certs: u64,
    revoked: u64,
    sample: Vec<String>,
}

fn q(out: &mut String, s: &str) {
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
}

fn sep(out: &mut String) {
    if !out.is_empty() {
        out.push(',');
    }
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn at(d: NaiveDate, hour: u32) -> String {
    format!("{}T{hour:02}:00:00.000000Z", day(d))
}

async fn max_id(conn: &mut sqlx::AnyConnection, table: &str) -> anyhow::Result<i64> {
    Ok(
        sqlx::query(&format!("SELECT COALESCE(MAX(id), 0) FROM {table}"))
            .fetch_one(&mut *conn)
            .await?
            .get(0),
    )
}

/// The indexes on random keys (ID hashes), built again after the load.
const RANDOM_INDEXES: &[(&str, &str)] = &[
    (
        "certificates_holder",
        "CREATE INDEX certificates_holder ON certificates (id_hash, occupation_code, level)",
    ),
    (
        "candidates_hash",
        "CREATE INDEX candidates_hash ON candidates (id_hash)",
    ),
];

/// Generate the dataset into `store` (migrated, reference data loaded).
pub async fn generate(
    store: &Store,
    key: Arc<certsign::SigningKey>,
    numbering: domain::certno::Numbering,
    opts: &Options,
) -> anyhow::Result<Report> {
    let t0 = Instant::now();
    let backend = store.db.backend;
    let mut conn = store.db.pool.acquire().await?;
    if backend == Backend::Sqlite {
        // A generator can start over after a crash: no fsync, a large cache.
        for p in [
            "PRAGMA synchronous=OFF",
            "PRAGMA cache_size=-262144",
            "PRAGMA temp_store=MEMORY",
        ] {
            sqlx::raw_sql(p).execute(&mut *conn).await?;
        }
    } else {
        sqlx::raw_sql("SET synchronous_commit = off")
            .execute(&mut *conn)
            .await?;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);

    // -- reference data and the ids already taken ------------------------------------------
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
    let inst_base = max_id(&mut conn, "institutions").await?;
    let app_base = max_id(&mut conn, "filing_applications").await?;
    let plan_base = max_id(&mut conn, "plans").await?;
    let cand_base = max_id(&mut conn, "candidates").await?;
    let cert_base = max_id(&mut conn, "certificates").await?;
    let batch_base = max_id(&mut conn, "cert_batches").await?;
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

    // -- layout: institutions, then plans in the order of their certificate numbers ----------
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

    // -- the small tables: institutions, filings, 备案范围 -----------------------------------
    let now = at(opts.today, 2);
    let filed_on = opts.today - Duration::days(1_500);
    let mut tx_sql = String::from("BEGIN;");
    for idx in RANDOM_INDEXES {
        let _ = write!(tx_sql, "DROP INDEX IF EXISTS {};", idx.0);
    }
    let mut inst_rows = String::new();
    let mut app_rows = String::new();
    let mut item_rows = String::new();
    let mut filed_rows = String::new();
    for (k, inst) in insts.iter().enumerate() {
        let app_id = app_base + 1 + k as i64;
        let filing_no = domain::filing::filing_number(filed_on.year(), app_id);
        let org = if inst.kind == "enterprise" {
            "91"
        } else {
            "52"
        };
        let credit = domain::credit_code::with_check_digit(&format!(
            "{org}410100{:08}X",
            70_000_000 + inst.id
        ))
        .context("统一社会信用代码")?;
        sep(&mut inst_rows);
        let _ = write!(inst_rows, "({},", inst.id);
        q(&mut inst_rows, &inst.name);
        inst_rows.push(',');
        q(&mut inst_rows, &credit);
        let _ = write!(inst_rows, ",'{}',", inst.kind);
        q(&mut inst_rows, &inst.district);
        let _ = write!(
            inst_rows,
            ",1,{},{},'职业技能培训与评价','郑州市示范路{}号',",
            50 + k % 400,
            1_000_000 + (k as i64 % 50) * 100_000,
            k + 1
        );
        q(&mut inst_rows, &inst.district);
        let _ = write!(inst_rows, ",'郑州市示范路{}号',", k + 1);
        q(&mut inst_rows, &inst.district);
        let _ = write!(
            inst_rows,
            ",'联系人{}','1380000{:04}','filed',",
            k + 1,
            k % 10_000
        );
        q(&mut inst_rows, &filing_no);
        let _ = write!(inst_rows, ",'{now}','{now}','{}')", inst.site_code);

        sep(&mut app_rows);
        let _ = write!(
            app_rows,
            "({app_id},'{}','district',{},'{}','filed','{}','{}','{}','{}','{}',",
            inst.kind,
            inst.id,
            inst.district,
            at(filed_on, 1),
            day(filed_on - Duration::days(10)),
            day(filed_on - Duration::days(1)),
            center,
            division
        );
        q(&mut app_rows, &filing_no);
        let _ = write!(
            app_rows,
            ",'{}','bench-data','{}','{}')",
            day(filed_on),
            at(filed_on - Duration::days(60), 1),
            at(filed_on, 1)
        );
        for o in &inst.occupations {
            let levels = occs[*o]
                .levels
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(",");
            sep(&mut item_rows);
            let _ = write!(item_rows, "({app_id},{},'{levels}')", occs[*o].id);
            sep(&mut filed_rows);
            let _ = write!(filed_rows, "({},{},'{levels}',", inst.id, occs[*o].id);
            q(&mut filed_rows, &filing_no);
            let _ = write!(filed_rows, ",'{}')", day(filed_on));
        }
    }
    let _ = write!(tx_sql, "INSERT INTO institutions (id, name, credit_code, kind, district_code, legal_person, employees, capital_yuan, business_scope, reg_address, reg_district, biz_address, biz_district, contact_name, contact_phone, filing_status, filing_no, created_at, updated_at, site_code) VALUES {inst_rows};");
    let _ = write!(tx_sql, "INSERT INTO filing_applications (id, kind, route, institution_id, district_code, state, state_since, publicity_start, publicity_end, center_approved_by, division_approved_by, filing_no, filed_on, created_by, created_at, updated_at) VALUES {app_rows};");
    let _ = write!(
        tx_sql,
        "INSERT INTO filing_items (application_id, occupation_id, levels) VALUES {item_rows};"
    );
    let _ = write!(tx_sql, "INSERT INTO filed_occupations (institution_id, occupation_id, levels, filing_no, filed_on) VALUES {filed_rows};");
    // Plans and batches (one finished batch per plan).
    for chunk in plans.chunks(500) {
        let mut rows = String::new();
        let mut batches = String::new();
        for p in chunk {
            let inst = &insts[p.inst];
            let start = p.issued_on - Duration::days(20);
            let end = start + Duration::days(1);
            let published = end + Duration::days(1);
            let until = published + Duration::days(7);
            sep(&mut rows);
            let _ = write!(
                rows,
                "({},'JH{}{:06}',{},'{}',{},'{}','theory,skill','{}','{}','郑州市示范路{}号实训楼',{},'考评员甲、考评员乙','内部督导员','city_confirmed','{}','{}','{}','{}','submitted','{}','{}','{}','{}','{}','{}')",
                p.id,
                start.year(),
                p.id,
                inst.id,
                inst.district,
                occs[p.occ].id,
                p.level,
                day(start),
                day(end),
                p.inst + 1,
                p.candidates,
                at(start - Duration::days(10), 1),
                center,
                at(start - Duration::days(10), 1),
                day(published),
                day(until),
                at(until, 3),
                at(start - Duration::days(30), 1),
                at(p.issued_on, 3),
                day(published + Duration::days(1)),
                day(start - Duration::days(12)),
            );
            sep(&mut batches);
            let certs = p.certs;
            let _ = write!(
                batches,
                "({},{},{},'done','{}',{certs},{certs},'已签发 {certs} 本证书','{}','{}','{}','{}')",
                p.batch_id,
                p.id,
                inst.id,
                day(p.issued_on),
                center,
                at(p.issued_on, 2),
                at(p.issued_on, 3),
                at(p.issued_on, 3)
            );
        }
        let _ = write!(tx_sql, "INSERT INTO plans (id, plan_no, institution_id, district_code, occupation_id, levels, forms, start_date, end_date, venue, expected_candidates, examiners, internal_supervisor, status, status_since, city_confirmed_by, city_confirmed_at, results_published_on, results_status, results_publicity_until, results_submitted_at, created_at, updated_at, results_publicity_from, paper_received_on) VALUES {rows};");
        if opts.issue {
            let _ = write!(tx_sql, "INSERT INTO cert_batches (id, plan_id, institution_id, status, issued_on, total, done, message, created_by, created_at, updated_at, finished_at) VALUES {batches};");
        }
    }
    tx_sql.push_str("COMMIT;");
    sqlx::raw_sql(&tx_sql).execute(&mut *conn).await?;
    drop(tx_sql);

    // -- candidates, certificates, batch items, revocations: signed on worker threads --------
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
        center: center.clone(),
        division: division.clone(),
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
    let mut report = Report {
        institutions: n_inst as u64,
        plans: n_plans as u64,
        ..Default::default()
    };
    let mut sample = match &opts.sample {
        Some((path, _)) => Some(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("无法写入样本文件 {}", path.display()))?,
        )),
        None => None,
    };
    let mut sql = String::from("BEGIN;");
    let mut in_tx = 0u64;
    let mut last_print = Instant::now();
    for k in 0..plans.len() {
        let unit = receivers[k % threads]
            .recv()
            .await
            .context("签名线程意外退出")??;
        let _ = write!(sql, "INSERT INTO candidates (id, plan_id, institution_id, district_code, name, id_type, id_number, id_hash, id_masked, gender, education, source, phone, level, theory_score, skill_score, passed, scored_at, created_at, updated_at) VALUES {};", unit.candidates);
        if !unit.items.is_empty() {
            let _ = write!(
                sql,
                "INSERT INTO cert_batch_items (batch_id, candidate_id) VALUES {};",
                unit.items
            );
        }
        if !unit.certificates.is_empty() {
            let _ = write!(sql, "INSERT INTO certificates (id, cert_no, candidate_id, plan_id, batch_id, institution_id, institution_name, district_code, site_code, occupation_code, occupation_name, work_type, level, holder_name, id_type, id_hash, id_masked, issued_on, state, published, revoke_reason, revoked_at, status_index, signed_at, key_id, cose, created_at) VALUES {};", unit.certificates);
        }
        if !unit.changes.is_empty() {
            let _ = write!(sql, "INSERT INTO cert_changes (certificate_id, kind, reason, status, proposed_by, proposed_role, proposed_at, confirmed_by, confirmed_role, confirmed_at) VALUES {};", unit.changes);
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
        if sql.len() > 4 << 20 || k + 1 == plans.len() {
            let commit = in_tx >= opts.per_tx || k + 1 == plans.len();
            if commit {
                sql.push_str("COMMIT;");
                in_tx = 0;
            }
            sqlx::raw_sql(&sql).execute(&mut *conn).await?;
            sql.clear();
            if commit && k + 1 < plans.len() {
                sql.push_str("BEGIN;");
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
    for h in handles {
        let _ = h.join();
    }
    if let Some(mut f) = sample {
        use std::io::Write;
        f.flush()?;
    }

    // -- counters, indexes, sequences, the audit event ---------------------------------------
    let t_index = Instant::now();
    let mut tail = String::from("BEGIN;");
    if !opts.issue {
        counters.clear();
        status = status_base;
    }
    for chunk in counters.chunks(1000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|(i, y, s)| format!("({i},{y},0,{s})"))
            .collect();
        let _ = write!(tail, "INSERT INTO cert_counters (institution_id, year, level, last_serial) VALUES {} ON CONFLICT (institution_id, year, level) DO UPDATE SET last_serial = CASE WHEN cert_counters.last_serial > excluded.last_serial THEN cert_counters.last_serial ELSE excluded.last_serial END;", rows.join(","));
    }
    let _ = write!(
        tail,
        "UPDATE cert_status_counter SET last_index = {} WHERE id = 1;",
        status - 1
    );
    for idx in RANDOM_INDEXES {
        let _ = write!(tail, "{};", idx.1);
    }
    if backend == Backend::Postgres {
        for t in [
            "institutions",
            "filing_applications",
            "plans",
            "candidates",
            "certificates",
            "cert_batches",
        ] {
            let _ = write!(
                tail,
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}));"
            );
        }
    }
    tail.push_str("COMMIT;");
    sqlx::raw_sql(&tail).execute(&mut *conn).await?;
    // Statistics for the planner, once the tables hold their rows (not before issuing: stale
    // statistics of a near-empty certificates table would make SQLite scan it later).
    match (backend, opts.issue) {
        // PostgreSQL re-plans after every (auto-)ANALYZE, so fresh statistics are safe.
        (Backend::Postgres, _) => {
            sqlx::raw_sql("ANALYZE").execute(&mut *conn).await?;
        }
        (Backend::Sqlite, true) => {
            sqlx::raw_sql("PRAGMA synchronous=NORMAL; ANALYZE")
                .execute(&mut *conn)
                .await?;
        }
        (Backend::Sqlite, false) => {
            sqlx::raw_sql("PRAGMA synchronous=NORMAL")
                .execute(&mut *conn)
                .await?;
        }
    }
    drop(conn);
    report.index_seconds = t_index.elapsed().as_secs_f64();
    let mut tx = store.db.write().await?;
    store::audit::append(
        &mut tx,
        &store::Actor::system("bench-data"),
        store::NewEvent {
            action: "bench_data.generate",
            object_type: "dataset",
            object_id: opts.seed.to_string(),
            summary: serde_json::json!({
                "seed": opts.seed, "today": day(opts.today), "institutions": report.institutions,
                "plans": report.plans, "candidates": report.candidates,
                "certificates": report.certificates, "revoked": report.revoked,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    report.seconds = t0.elapsed().as_secs_f64();
    Ok(report)
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
    let scored = at(p.issued_on - Duration::days(19), 9);
    let created = at(p.issued_on - Duration::days(30), 2);
    let issued = day(p.issued_on);
    let issued_at = at(p.issued_on, 3);
    let kid = hex::encode(key.kid());
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
        sep(&mut u.candidates);
        let _ = write!(
            u.candidates,
            "({cand_id},{},{},'{}','{name}','居民身份证','{id}','{hash}','{masked}','{gender}','高中','社会人员','1390000{:04}',{},{theory},{skill},{},'{scored}','{created}','{scored}')",
            p.id,
            inst.id,
            inst.district,
            cand_id % 10_000,
            p.level,
            passed as i64,
        );
        if !passed || !ctx.issue {
            continue;
        }
        sep(&mut u.items);
        let _ = write!(u.items, "({},{cand_id})", p.batch_id);
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
        sep(&mut u.certificates);
        let _ = write!(
            u.certificates,
            "({cert_id},'{no}',{cand_id},{},{},{},",
            p.id, p.batch_id, inst.id
        );
        q(&mut u.certificates, &inst.name);
        let _ = write!(
            u.certificates,
            ",'{}','{}','{}','{}','--',{},'{name}','居民身份证','{hash}','{masked}','{issued}',",
            inst.district, inst.site_code, occ.code, occ.name, p.level
        );
        if revoked {
            let when = at(p.issued_on + Duration::days(rng.gen_range(10..300)), 6);
            let _ = write!(
                u.certificates,
                "'revoked',1,'考核舞弊，经查实撤销','{when}',"
            );
            sep(&mut u.changes);
            let _ = write!(
                u.changes,
                "({cert_id},'revoke','考核舞弊，经查实撤销','applied','{}','city_center','{when}','{}','city_division','{when}')",
                ctx.center, ctx.division
            );
            u.revoked += 1;
        } else {
            u.certificates.push_str("'valid',1,NULL,NULL,");
        }
        let _ = write!(
            u.certificates,
            "{status},{},'{kid}','{}','{issued_at}')",
            signed.signed_at,
            base64::engine::general_purpose::STANDARD.encode(&signed.cose)
        );
        if ctx.sample_every > 0 && (cert_id as u64).is_multiple_of(ctx.sample_every) {
            u.sample.push(format!(
                "{no}\t{name}\t{}",
                certsign::qr_text("", &no, &signed.cose)
            ));
        }
        u.certs += 1;
        serial += 1;
        cert_id += 1;
        status += 1;
    }
    Ok(u)
}
