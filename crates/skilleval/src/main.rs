//! skilleval: the skill-talent evaluation service platform (技能人才评价服务平台).

mod bench_data;
mod bench_issue;
mod cert;
mod commands;
mod settings;
mod soak;

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
    /// Soak (issue 11 §6): against a running server with demo data and a certificate sample,
    /// measure the peak rate of a mix of public queries, logged-in pages and writes
    /// (closed-loop), then run the mix open-loop at a fraction of it for N minutes, sampling the
    /// server's RSS; prints per-minute figures and errors by route. Exits 2 on any error or an
    /// RSS change beyond ±10 % between minute 2 and the last.
    Soak(soak::Args),
    /// Generate an xlsx of N candidates, import it into a confirmed demo plan (all or nothing,
    /// one transaction) and print wall time and peak RSS. Use an EMPTY database.
    ImportCandidates {
        #[command(flatten)]
        db: settings::DbArgs,
        #[arg(long, default_value_t = 100_000)]
        rows: u32,
        /// Only write the generated workbook (of level LEVEL) to this file and exit: the
        /// benchmark generates in a child process, so that the peak RSS it reports is the
        /// import's.
        #[arg(long, hide = true, requires = "level")]
        write_workbook: Option<std::path::PathBuf>,
        #[arg(long, hide = true)]
        level: Option<String>,
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
            command:
                BenchCommand::ImportCandidates {
                    rows,
                    write_workbook: Some(path),
                    level,
                    ..
                },
        } => commands::bench::write_candidates(&path, rows, level.as_deref().unwrap_or("4")),
        Command::Bench {
            command: BenchCommand::ImportCandidates { db, rows, .. },
        } => commands::bench::import_candidates(config, db, rows).await,
        Command::Bench {
            command: BenchCommand::Soak(a),
        } => soak::run(a).await,
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
