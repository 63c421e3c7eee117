//! skilleval: the skill-talent evaluation service platform (技能人才评价服务平台).

mod bench_data;
mod bench_issue;
mod cert;
mod commands;
mod settings;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
// The benchmark reports' figures, for `bench_issue`.
use commands::bench::{load_avg, peak_rss_kb};

#[derive(Parser)]
#[command(name = "skilleval", version, about = "郑州市技能人才评价服务平台")]
struct Cli {
    /// Configuration file (TOML). Defaults to ./skilleval.toml when present.
    #[arg(long, global = true)]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the platform (migrates SQLite by itself, loads reference data on first start).
    Serve(settings::ServeArgs),
    /// Apply pending migrations (safe when several app servers start at once).
    Migrate(settings::DbArgs),
    /// Audit trail operations.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Benchmarks (print wall time and peak memory; not tests).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Generate a consistent dataset at size for benchmarks: filed institutions, filings, plans,
    /// candidates, results, signed certificates with real numbers, a few revocations. Into an
    /// empty database (with `--demo`: demo data first, for logging in). Deterministic per seed.
    BenchData(BenchDataArgs),
    /// Certificate signing keys and offline verification (证书).
    Cert {
        #[command(subcommand)]
        command: cert::CertCommand,
    },
    /// Expert draws of the filing workflow.
    Draw {
        #[command(subcommand)]
        command: DrawCommand,
    },
    /// Back up the embedded (SQLite) database and the uploaded files it names, with a checksummed
    /// manifest, while the server runs. PostgreSQL: pg_dump (docs/operations.md).
    Backup {
        #[command(flatten)]
        db: settings::DbArgs,
        /// An absent or empty directory.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Restore a backup made by `backup` into the configured database file (which must not exist)
    /// and blob directory; a damaged or incomplete backup is refused before anything is written.
    Restore {
        #[command(flatten)]
        db: settings::DbArgs,
        #[arg(long)]
        from: std::path::PathBuf,
    },
    /// 档案保管与销毁 (二(三)): the register of kept records and their disposal.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Keys and secrets (密钥): made here, kept in configuration, never in the database.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The outbox of SMS and e-mail (消息外发); `serve` sends it too.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Send what is due through the configured SMTP server and SMS gateway, with retries and
    /// back-off; safe next to running servers (rows are claimed). Runs until stopped.
    Send {
        #[command(flatten)]
        db: settings::DbArgs,
        /// One pass over what is due now, then exit.
        #[arg(long)]
        once: bool,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Register the records closed since the last sweep, list what is due (period over, still
    /// kept) and carry out every disposal approved by both keys; a due record without two keys,
    /// or under a legal hold, is never disposed. "Today" is the `today` setting or the date in
    /// China.
    Run {
        #[command(flatten)]
        db: settings::DbArgs,
        /// List what is due and what would be disposed; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Write a new key file (letter-signing key, ID pepper, anchor key) with permissions 0600.
    Generate {
        /// Where to write it (refuses to overwrite); without it, print to standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Put a new letter-signing key in front of a key file's `letter_keys`; the old keys stay
    /// to verify earlier signatures. Restart the servers afterwards.
    RotateLetterKey {
        /// The key file to change.
        #[arg(long)]
        keys_file: std::path::PathBuf,
    },
    /// Show the key ids and fingerprints of the configured keys (never the keys).
    Show,
}

#[derive(clap::Args)]
struct BenchDataArgs {
    #[command(flatten)]
    db: settings::DbArgs,
    /// How many certificates.
    #[arg(long, default_value_t = 100_000)]
    certificates: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The day the data is relative to (YYYY-MM-DD); default: the `today` setting, else today.
    #[arg(long)]
    today: Option<chrono::NaiveDate>,
    /// Seed the demo data first (accounts with the password demo-password).
    #[arg(long)]
    demo: bool,
    /// Revoked certificates per 10,000.
    #[arg(long, default_value_t = 10)]
    revoked_per_10k: u32,
    /// Signing threads (default: the number of cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Certificates per transaction.
    #[arg(long, default_value_t = 500_000)]
    per_tx: u64,
    /// Write "number<TAB>name<TAB>/v/… QR path" of every `--sample-every`-th certificate here.
    #[arg(long)]
    sample: Option<std::path::PathBuf>,
    #[arg(long, default_value_t = 1000)]
    sample_every: u64,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Issue N certificates through the real path (batches per plan: serials from the counter
    /// rows, Ed25519 signature, insert, audit, publication) and, in the same run, sign and insert
    /// the same rows bare into a table with the same indexes; prints both rates and the ratio.
    /// Use an EMPTY database.
    IssueCertificates {
        #[command(flatten)]
        db: settings::DbArgs,
        #[arg(long, default_value_t = 100_000)]
        certificates: u64,
    },
    /// Add N evaluation plans of the demo's inst-1 whose results are submitted to the city and
    /// not yet issued, M candidates each (all pass): work for concurrent certificate issuance
    /// (bench/multi_server.sh). Needs the demo data (`serve --demo` first). Prints the plan ids.
    SubmittedPlans {
        #[command(flatten)]
        db: settings::DbArgs,
        #[arg(long, default_value_t = 3)]
        plans: u32,
        #[arg(long, default_value_t = 5)]
        candidates: u32,
        /// Seed of the candidates' ID numbers (use another one for each call on a database).
        #[arg(long, default_value_t = 900)]
        seed: u32,
    },
    /// Generate an xlsx of N candidates, import it into a confirmed demo plan (all or nothing,
    /// one transaction) and print wall time and peak RSS. Use an EMPTY database.
    ImportCandidates {
        #[command(flatten)]
        db: settings::DbArgs,
        #[arg(long, default_value_t = 100_000)]
        rows: u32,
    },
}

#[derive(Subcommand)]
enum DrawCommand {
    /// Replay an expert draw (专家抽取) from its stored commitment, pool and seed; exits 2 on mismatch.
    Verify {
        /// The draw id (shown on the application page and the draw page).
        id: i64,
        #[command(flatten)]
        db: settings::DbArgs,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain; exits non-zero naming the first bad entry. With `--anchor`,
    /// also check the table against every anchor in the file (truncation, rewritten head).
    Verify {
        #[command(flatten)]
        db: settings::DbArgs,
        /// An anchors file (`anchors.jsonl` from `anchor_dir`, a backup or the public URL).
        #[arg(long)]
        anchor: Option<std::path::PathBuf>,
    },
    /// Anchor the chain's head now: append it, signed, to `anchor_dir/anchors.jsonl`.
    Anchor(settings::DbArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("无法启动运行时: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::Cert { command } => cert::run(command),
        Command::Serve(args) => commands::serve::run(config, args).await,
        Command::Keys { command } => commands::keys::run(config, command),
        Command::Outbox {
            command: OutboxCommand::Send { db, once },
        } => commands::outbox::send(config, db, once).await,
        Command::Retention {
            command: RetentionCommand::Run { db, dry_run },
        } => commands::retention::run(config, db, dry_run).await,
        Command::Migrate(db) => commands::database::migrate(config, db).await,
        Command::Bench {
            command: BenchCommand::ImportCandidates { db, rows },
        } => commands::bench::import_candidates(config, db, rows).await,
        Command::BenchData(a) => commands::bench::data(config, a).await,
        Command::Bench {
            command:
                BenchCommand::SubmittedPlans {
                    db,
                    plans,
                    candidates,
                    seed,
                },
        } => commands::bench::submitted_plans(config, db, plans, candidates, seed).await,
        Command::Bench {
            command: BenchCommand::IssueCertificates { db, certificates },
        } => commands::bench::issue_certificates(config, db, certificates).await,
        Command::Draw {
            command: DrawCommand::Verify { id, db },
        } => commands::draw::verify(config, id, db).await,
        Command::Backup { db, to } => commands::database::backup(config, db, to).await,
        Command::Restore { db, from } => commands::database::restore(config, db, from).await,
        Command::Audit {
            command: AuditCommand::Verify { db, anchor },
        } => commands::audit::verify(config, db, anchor).await,
        Command::Audit {
            command: AuditCommand::Anchor(db),
        } => commands::audit::anchor(config, db).await,
    }
}

fn init_logging(filter: &str) {
    // Logs go to standard error: standard output carries the command's own answer.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours for a terminal only: log files and journald get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into()),
        )
        .try_init();
}
<<<<<<< HEAD
=======

async fn open(s: &Settings) -> anyhow::Result<Store> {
    Store::open(
        &s.database,
        s.db_max_connections,
        PasswordParams::production(),
    )
    .await
    .with_context(|| format!("无法连接数据库 {}", store_redact(&s.database)))
    .and_then(|store| Ok(store.with_blobs(s.blobs()?)))
}

fn store_redact(url: &str) -> String {
    store::redact_url(url)
}

fn keys_command(
    config: Option<&std::path::Path>,
    command: KeysCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::Generate { out } => {
            let text = store::Keys::generate_file();
            match out {
                None => print!("{text}"),
                Some(path) => {
                    write_private(&path, &text, false)?;
                    println!("已生成密钥文件 {}（权限 0600）；请在配置中设置 keys_file 指向它，并另行备份", path.display());
                }
            }
        }
        KeysCommand::RotateLetterKey { keys_file } => {
            let text = std::fs::read_to_string(&keys_file)
                .with_context(|| format!("无法读取密钥文件 {}", keys_file.display()))?;
            let mut out = String::new();
            let mut done = false;
            for line in text.lines() {
                match line.split_once('=') {
                    Some((k, v)) if k.trim() == "letter_keys" && !done => {
                        let current = v.trim().trim_matches('"');
                        let rotated = store::Keys::rotated_letter_keys(current)
                            .map_err(|e| anyhow::anyhow!("{e}"))?;
                        out.push_str(&format!("letter_keys = \"{rotated}\"\n"));
                        done = true;
                    }
                    _ => {
                        out.push_str(line);
                        out.push('\n');
                    }
                }
            }
            if !done {
                anyhow::bail!("密钥文件 {} 中没有 letter_keys 一行", keys_file.display());
            }
            write_private(&keys_file, &out, true)?;
            println!("已在 {} 中加入新的签名密钥（排在最前，用于新签名；旧密钥保留用于验证）。请重启各应用服务器", keys_file.display());
        }
        KeysCommand::Show => {
            let s = Settings::load(config, &settings::DbArgs::default(), None)?;
            match s.keys()? {
                None => println!("未配置密钥（letter_keys / id_pepper / keys_file）"),
                Some(k) => {
                    for (i, l) in k.letter_keys().iter().enumerate() {
                        let role = if i == 0 { "签名" } else { "仅验证" };
                        println!("letter_keys  {}  指纹 {}  ({role})", l.kid, l.fingerprint());
                    }
                    println!(
                        "id_pepper    指纹 {}",
                        k.id_pepper_fingerprint().unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Write a secret file readable by its owner only; `replace` swaps it in atomically.
fn write_private(path: &std::path::Path, text: &str, replace: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let target = if replace {
        path.with_extension("tmp")
    } else {
        path.to_path_buf()
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(&target)
        .with_context(|| format!("无法创建 {}（已存在？）", target.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    if replace {
        std::fs::rename(&target, path)?;
    }
    Ok(())
}

async fn serve(s: Settings) -> anyhow::Result<()> {
    // Certificate fonts are read once, before serving, so a wrong path stops the start.
    certpdf::install_fonts(
        certpdf::Fonts::from_config(&s.font_config()).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let keys = match s.keys()? {
        Some(k) => k,
        None if s.demo => {
            tracing::warn!("no keys configured: using the PUBLIC demo keys (--demo only, never for real data)");
            store::Keys::demo()
        }
        None => anyhow::bail!(
            "未配置密钥：请用 `skilleval keys generate --out /etc/skilleval/keys.toml` 生成密钥文件，\
             并在配置中设置 keys_file（或 letter_keys 与 id_pepper）；演示可用 --demo。见 docs/operations.md"
        ),
    };
    let store = open(&s).await?.with_keys(keys);
    // A wrong bucket, endpoint or key stops the start, not the first upload.
    if let Some(c) = s.s3()? {
        blobs_s3::S3BlobStore::new(&c)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .check()
            .await
            .map_err(|e| anyhow::anyhow!("{e}（{c:?}）"))?;
    }
    // Several app servers may start together on a fresh PostgreSQL database: migrations, key
    // fingerprints, reference data and demo data are prepared under one advisory lock, by the
    // first server; the others wait, then find them done. SQLite has one app server.
    // `skilleval migrate` remains for controlled rollouts.
    let startup = store.db.startup_lock().await?;
    let applied = store.migrate().await?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    // Keys against the fingerprints the database keeps (first start: record, rehash).
    store.check_keys().await?;
    let (d, o, c) = store.load_reference(&ReferenceFiles::builtin()).await?;
    if d + o + c > 0 {
        tracing::info!(
            divisions = d,
            occupations = o,
            calendar_years = c,
            "reference data loaded"
        );
    }
    let today = s.web_config().fixed_today.unwrap_or_else(web::today_cn);
    if s.demo && store::demo::seed(&store, today).await? {
        tracing::info!("demo data created; every demo account uses the password demo-password");
    }
    startup.release().await?;
    let policy = load_policy(&s)?;
    let (cert_signing_key, cert_public_keys) = s.cert_keys()?;
    if cert_signing_key.is_none() && !s.demo {
        tracing::warn!("no certificate signing key configured (cert_signing_key): certificates cannot be issued");
    }
    let config = web::WebConfig {
        cert_signing_key,
        cert_public_keys,
        outbox: s.outbox()?,
        ..s.web_config()
    };
    let blobs = store.blobs.describe();
    let state = web::AppState::new(store, config, policy);
    let listener = tokio::net::TcpListener::bind(&s.listen)
        .await
        .with_context(|| format!("无法监听 {}", s.listen))?;
    tracing::info!(listen = %s.listen, database = %store_redact(&s.database), blobs = %blobs, demo = s.demo, "skilleval serving");
    println!(
        "技能人才评价服务平台已启动：http://{}",
        listener.local_addr()?
    );
    web::serve(listener, state).await?;
    Ok(())
}

/// The policy of the settings (`policy` file) or the built-in Zhengzhou 2022 policy.
fn load_policy(s: &Settings) -> anyhow::Result<domain::policy::Policy> {
    Ok(match &s.policy {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("无法读取规则文件 {path}"))?;
            domain::policy::Policy::from_toml(&text)
                .map_err(|e| anyhow::anyhow!("规则文件有误: {e}"))?
        }
        None => domain::policy::Policy::zhengzhou_2022(),
    })
}

/// `skilleval retention run [--dry-run]`: see docs/operations.md (档案到期处理).
async fn retention_run(s: &Settings, dry_run: bool) -> anyhow::Result<ExitCode> {
    let store = open(s).await?;
    let applied = store.db.applied_migrations().await.unwrap_or_default();
    if applied.len() < store::MIGRATIONS.len() {
        anyhow::bail!("数据库尚未迁移到当前版本：请先运行 skilleval migrate");
    }
    let state = web::AppState::new(
        store,
        web::WebConfig {
            scheduler: false,
            ..s.web_config()
        },
        load_policy(s)?,
    );
    let today = state.today();
    let report = web::retention::run(&state, dry_run)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "档案到期处理（{}{}）",
        today.format("%Y-%m-%d"),
        if dry_run {
            "，演练：不做任何更改"
        } else {
            ""
        }
    );
    if !dry_run {
        println!("新登记办结档案 {} 件", report.registered);
    }
    println!("已到期待销毁 {} 件：", report.due.len());
    for r in &report.due {
        println!(
            "  #{}\t{}\t{}\t{}\t办结 {}\t保存至 {}\t{}",
            r.id,
            r.class_label,
            r.keeper_name,
            r.title,
            r.closed_on,
            r.due_on,
            r.status_label(today)
        );
    }
    if dry_run {
        let approved = report
            .due
            .iter()
            .filter(|r| r.disposal_status == Some(domain::retention::DisposalStatus::Approved) && r.hold.is_none())
            .count();
        println!("去掉 --dry-run 将销毁双方已同意的 {approved} 件；其余到期档案须先经两方同意");
        return Ok(ExitCode::SUCCESS);
    }
    for (r, d) in &report.disposed {
        println!(
            "已销毁 #{} {}（{}；两方：{} 与 {}）",
            r.id,
            r.title,
            d.reason,
            d.first_by,
            d.second_by.clone().unwrap_or_default()
        );
    }
    for (r, why) in &report.skipped {
        eprintln!("未销毁 #{} {}：{why}", r.id, r.title);
    }
    println!(
        "本次销毁 {} 件，未销毁 {} 件，清理遗留文件 {} 个",
        report.disposed.len(),
        report.skipped.len(),
        report.purged
    );
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
    let t0 = Instant::now();
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
                level.clone(),
            ]
        })
        .collect();
    let xlsx = sheets::write_report("考生名单", &web::evaluation::CANDIDATE_HEADERS, &data)?;
    drop(data);
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
    let t1 = Instant::now();
    let parsed = sheets::read(&web::evaluation::candidate_spec(), &xlsx)?;
    let read_s = t1.elapsed().as_secs_f64();
    let result = web::evaluation::run_candidate_import(&state, &actor, &plan, parsed, None).await;
    let total = t1.elapsed().as_secs_f64();
    match result {
        Ok((n, _)) => println!(
            "imported={n} read_xlsx_s={read_s:.2} import_total_s={total:.2} peak_rss={}",
            peak_rss_kb()
        ),
        Err(e) => anyhow::bail!("import failed: {} errors, first: {:?}", e.len(), e.first()),
    }
    Ok(())
}
>>>>>>> typed2
