//! Benchmark commands (not tests): generated data at size, issuing and importing, with wall time
//! and peak memory.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::open;
use crate::settings::{self, Settings};

use store::{PasswordParams, ReferenceFiles, Store};

use super::store_redact;
use crate::{bench_data, bench_issue};

/// `skilleval bench import-candidates`.
pub async fn import_candidates(
    config: Option<&Path>,
    db: settings::DbArgs,
    rows: u32,
) -> anyhow::Result<ExitCode> {
    let s = Settings::load(config, &db, None)?;
    crate::init_logging(&s.log);
    let store = Store::open(
        &s.database,
        s.db_max_connections,
        PasswordParams::fast_for_tests(),
    )
    .await
    .with_context(|| format!("无法连接数据库 {}", store_redact(&s.database)))?
    .with_blobs(std::sync::Arc::new(store::LocalBlobStore::new(
        &s.blobs_dir,
    )))
    // An empty benchmark database holds demo data only.
    .with_keys(store::Keys::demo());
    bench_import(store, rows).await?;
    Ok(ExitCode::SUCCESS)
}

/// `skilleval bench-data`.
pub async fn data(config: Option<&Path>, a: crate::BenchDataArgs) -> anyhow::Result<ExitCode> {
    let s = Settings::load(config, &a.db, None)?;
    crate::init_logging(&s.log);
    let (store, key) = bench_store(&s).await?;
    let today = a
        .today
        .or(s.web_config().fixed_today)
        .unwrap_or_else(web::today_cn);
    if a.demo && store::demo::seed(&store, today).await? {
        println!("demo data created (password demo-password)");
    }
    let opts = bench_data::Options {
        certificates: a.certificates,
        seed: a.seed,
        today,
        revoked_per_10k: a.revoked_per_10k,
        threads: a
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        per_tx: a.per_tx,
        sample: a.sample.map(|p| (p, a.sample_every.max(1))),
        issue: true,
    };
    let policy = domain::policy::Policy::zhengzhou_2022();
    let r = bench_data::generate(&store, key, policy.numbering(), &opts).await?;
    println!(
        "backend={:?} institutions={} plans={} candidates={} certificates={} revoked={} seconds={:.1} (indexes and counters {:.1}) certificates_per_second={:.0} load_avg={}",
        store.db.backend,
        r.institutions,
        r.plans,
        r.candidates,
        r.certificates,
        r.revoked,
        r.seconds,
        r.index_seconds,
        r.certificates as f64 / r.seconds,
        load_avg()
    );
    Ok(ExitCode::SUCCESS)
}

/// `skilleval bench submitted-plans`: prints the plan ids.
pub async fn submitted_plans(
    config: Option<&Path>,
    db: settings::DbArgs,
    plans: u32,
    candidates: u32,
    seed: u32,
) -> anyhow::Result<ExitCode> {
    let s = Settings::load(config, &db, None)?;
    let keys = s.keys()?.unwrap_or_else(store::Keys::demo);
    let store = open(&s).await?.with_keys(keys);
    let today = s.web_config().fixed_today.unwrap_or_else(web::today_cn);
    let mut ids = Vec::new();
    for p in 0..plans {
        let names: Vec<String> = (0..candidates)
            .map(|i| format!("并发考生{}号{}", seed + p, i + 1))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let plan =
            store::demo_certificates::submitted_plan(&store, today, 30, &refs, &[], &[], seed + p)
                .await?;
        ids.push(plan.id.to_string());
    }
    println!("{}", ids.join(" "));
    Ok(ExitCode::SUCCESS)
}

/// `skilleval bench issue-certificates`.
pub async fn issue_certificates(
    config: Option<&Path>,
    db: settings::DbArgs,
    certificates: u64,
) -> anyhow::Result<ExitCode> {
    let s = Settings::load(config, &db, None)?;
    let (store, key) = bench_store(&s).await?;
    bench_issue::run(store, key, certificates).await?;
    Ok(ExitCode::SUCCESS)
}

/// A store for the benchmark commands: migrated, reference data loaded, with the configured keys
/// (or the public demo keys when none are configured: benchmark data proves nothing), and the
/// certificate signing key (configured, else the demo key).
async fn bench_store(
    s: &Settings,
) -> anyhow::Result<(Store, std::sync::Arc<certsign::SigningKey>)> {
    let keys = s.keys()?.unwrap_or_else(store::Keys::demo);
    let store = Store::open(
        &s.database,
        s.db_max_connections,
        PasswordParams::fast_for_tests(),
    )
    .await
    .with_context(|| format!("无法连接数据库 {}", store_redact(&s.database)))?
    .with_blobs(std::sync::Arc::new(store::LocalBlobStore::new(
        &s.blobs_dir,
    )))
    .with_keys(keys);
    store.migrate().await?;
    store.check_keys().await?;
    store.load_reference(&ReferenceFiles::builtin()).await?;
    let key = match s.cert_keys()?.0 {
        Some(k) => k,
        None => std::sync::Arc::new(store::cert_sign::demo_signing_key()),
    };
    Ok((store, key))
}

/// The machine's load average (1, 5, 15 minutes), for benchmark reports.
pub fn load_avg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|t| t.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

pub fn peak_rss_kb() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The benchmark's workbook: `rows` candidates of `level` with valid, distinct ID numbers.
fn candidates_workbook(rows: u32, level: &str) -> anyhow::Result<Vec<u8>> {
    let data: Vec<Vec<String>> = (0..rows)
        .map(|i| {
            let seq = i % 1000;
            let day = 1 + (i / 1000) % 28;
            let month = 1 + (i / 28000) % 12;
            let year = 1960 + (i / 336000) % 40;
            let id = domain::id_number::with_check_digit(&format!(
                "410105{year}{month:02}{day:02}{seq:03}"
            ))
            .expect("id");
            let male = seq % 2 == 1;
            vec![
                format!("考生{i}"),
                "居民身份证".into(),
                id,
                if male { "男" } else { "女" }.into(),
                "高中".into(),
                "社会人员".into(),
                "13800000000".into(),
                level.to_string(),
            ]
        })
        .collect();
    Ok(sheets::write_report(
        "考生名单",
        &web::evaluation::CANDIDATE_HEADERS,
        &data,
    )?)
}

/// `skilleval bench import-candidates --write-workbook PATH --level L` (the child process).
pub fn write_candidates(path: &Path, rows: u32, level: &str) -> anyhow::Result<ExitCode> {
    std::fs::write(path, candidates_workbook(rows, level)?)
        .with_context(|| format!("无法写入 {}", path.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// Reset the process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0), so that the peak
/// reported after the import is the import's own.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

async fn bench_import(store: Store, rows: u32) -> anyhow::Result<()> {
    use std::time::Instant;
    store.migrate().await?;
    store.check_keys().await?;
    store.load_reference(&ReferenceFiles::builtin()).await?;
    store::demo::seed(&store, web::today_cn()).await?;
    let plans = store
        .list_plans(
            &domain::Scope::City,
            &store::PlanFilter {
                status: Some("city_confirmed".into()),
                results_status: Some("none".into()),
                ..Default::default()
            },
            store::PageRequest::new(Some(1), Some(50)),
        )
        .await?;
    let mut target = None;
    for p in plans.items {
        if store.all_candidates(p.id).await?.is_empty() {
            target = Some(p);
            break;
        }
    }
    let plan = target.context("需要一个空的数据库（找不到无考生的已认可演示计划）")?;
    let level = plan.levels.split(',').next().unwrap_or("4").to_string();
    // Generated by a child process: its memory is not this process's.
    let t0 = Instant::now();
    let path = std::env::temp_dir().join(format!("skilleval-bench-{}.xlsx", std::process::id()));
    let status = std::process::Command::new(std::env::current_exe()?)
        .args(["bench", "import-candidates", "--rows", &rows.to_string()])
        .args(["--level", &level, "--write-workbook"])
        .arg(&path)
        .status()?;
    anyhow::ensure!(status.success(), "generating the workbook failed");
    let xlsx = std::fs::read(&path)?;
    let _ = std::fs::remove_file(&path);
    println!(
        "backend={:?} rows={rows} xlsx_bytes={} generate_s={:.2}",
        store.db.backend,
        xlsx.len(),
        t0.elapsed().as_secs_f64()
    );
    let state = web::AppState::new(
        store.clone(),
        web::WebConfig::default(),
        domain::policy::Policy::zhengzhou_2022(),
    );
    let actor = store::Actor::system("bench");
    let spec = web::evaluation::candidate_spec();
    let max = web::evaluation::MAX_IMPORT_ROWS;
    // Reading alone, for reference (the import reads while it inserts).
    let t1 = Instant::now();
    let mut read = web::imports::stream_sheet(&spec, xlsx.clone(), max).await?;
    let mut n = 0;
    while let Some(chunk) = read.next_chunk().await {
        n += chunk?.len();
    }
    let read_s = t1.elapsed().as_secs_f64();
    anyhow::ensure!(n == rows as usize, "read {n} rows of {rows}");
    let reset = reset_peak_rss();
    let t2 = Instant::now();
    let stream = web::imports::stream_sheet(&spec, xlsx, max).await?;
    let result = web::evaluation::run_candidate_import(&state, &actor, &plan, stream, None).await;
    let total = t2.elapsed().as_secs_f64();
    match result {
        Ok((n, _)) => println!(
            "imported={n} read_xlsx_s={read_s:.2} import_total_s={total:.2} peak_rss={}{}",
            peak_rss_kb(),
            if reset {
                " (of the import)"
            } else {
                " (of the process)"
            }
        ),
        Err(e) => anyhow::bail!("import failed: {} errors, first: {:?}", e.len(), e.first()),
    }
    Ok(())
}
