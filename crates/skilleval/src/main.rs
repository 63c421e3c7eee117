//! skilleval: the skill-talent evaluation service platform (技能人才评价服务平台).

mod settings;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use settings::Settings;
use store::{PasswordParams, ReferenceFiles, Store};

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
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain; exits non-zero naming the first bad entry.
    Verify(settings::DbArgs),
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
    match cli.command {
        Command::Serve(args) => {
            let s = Settings::load(cli.config.as_deref(), &args.db, Some(&args))?;
            init_logging(&s.log);
            serve(s).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate(db) => {
            let s = Settings::load(cli.config.as_deref(), &db, None)?;
            init_logging(&s.log);
            let store = open(&s).await?;
            let n = store.db.migrate().await?;
            println!(
                "已应用 {n} 个迁移；当前版本 {:?}",
                store.db.applied_migrations().await?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify(db),
        } => {
            let s = Settings::load(cli.config.as_deref(), &db, None)?;
            let store = open(&s).await?;
            match store.db.verify_audit_chain().await? {
                Ok(r) => {
                    println!("审计链完整：共 {} 条，链头 {}", r.entries, r.head);
                    Ok(ExitCode::SUCCESS)
                }
                Err(b) => {
                    eprintln!("{b}");
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}

fn init_logging(filter: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into()),
        )
        .try_init();
}

async fn open(s: &Settings) -> anyhow::Result<Store> {
    Store::open(
        &s.database,
        s.db_max_connections,
        PasswordParams::production(),
    )
    .await
    .map(|store| {
        store.with_blobs(std::sync::Arc::new(store::LocalBlobStore::new(
            &s.blobs_dir,
        )))
    })
    .with_context(|| format!("无法连接数据库 {}", store_redact(&s.database)))
}

fn store_redact(url: &str) -> String {
    store::redact_url(url)
}

async fn serve(s: Settings) -> anyhow::Result<()> {
    let store = open(&s).await?;
    // SQLite has one app server: it migrates itself. PostgreSQL too, under an advisory lock,
    // so a fresh deployment works; `skilleval migrate` remains for controlled rollouts.
    let applied = store.db.migrate().await?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    let (d, o, c) = store.load_reference(&ReferenceFiles::builtin()).await?;
    if d + o + c > 0 {
        tracing::info!(
            divisions = d,
            occupations = o,
            calendar_years = c,
            "reference data loaded"
        );
    }
    if s.demo && store::demo::seed(&store).await? {
        tracing::info!("demo data created; every demo account uses the password demo-password");
    }
    let policy = match &s.policy {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("无法读取规则文件 {path}"))?;
            domain::policy::Policy::from_toml(&text)
                .map_err(|e| anyhow::anyhow!("规则文件有误: {e}"))?
        }
        None => domain::policy::Policy::zhengzhou_2022(),
    };
    let state = web::AppState::new(store, s.web_config(), policy);
    let listener = tokio::net::TcpListener::bind(&s.listen)
        .await
        .with_context(|| format!("无法监听 {}", s.listen))?;
    tracing::info!(listen = %s.listen, database = %store_redact(&s.database), demo = s.demo, "skilleval serving");
    println!(
        "技能人才评价服务平台已启动：http://{}",
        listener.local_addr()?
    );
    web::serve(listener, state).await?;
    Ok(())
}
