//! `skilleval bench soak` (issue 11 §6): a load generator for a mixed workload against a
//! running server. Phase 1 measures the peak rate of the mix closed-loop (a fixed number of
//! clients, each sending its next request when the last one is answered); phase 2 runs the same
//! mix open-loop at a fraction of that peak for N minutes — requests leave on schedule whether or
//! not earlier ones were answered, and latency counts from the scheduled time, so a server that
//! falls behind shows it — while the server's RSS is sampled every 10 s.

mod mix;
pub mod stats;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use mix::{Accounts, Workload, MIX};
use stats::{Outcome, Recorder};

#[derive(clap::Args)]
pub struct Args {
    /// The server, e.g. http://127.0.0.1:18380 (demo data loaded; a data set of bench-data).
    #[arg(long)]
    url: String,
    /// Certificates to query: the file of `bench-data --sample` (number, name, QR path).
    #[arg(long)]
    sample: std::path::PathBuf,
    /// The server's process id, to sample its RSS (VmRSS of /proc/<pid>/status).
    #[arg(long)]
    pid: Option<u32>,
    /// Minutes of phase 2.
    #[arg(long, default_value_t = 10)]
    minutes: u32,
    /// Seconds of phase 1 (peak, closed-loop); 0 skips it (then give --rate).
    #[arg(long, default_value_t = 20)]
    peak_seconds: u64,
    /// Clients of phase 1.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Phase 2 runs at this fraction of the peak.
    #[arg(long, default_value_t = 0.8)]
    fraction: f64,
    /// Phase 2's rate in requests per second (instead of a fraction of the measured peak).
    #[arg(long)]
    rate: Option<f64>,
    /// More requests than this in flight: the next ones are not sent and count as errors.
    #[arg(long, default_value_t = 2048)]
    max_in_flight: usize,
    /// District officers (comma-separated usernames).
    #[arg(
        long,
        default_value = "district-410105,district-410102,district-410103,district-410171,district-410182"
    )]
    districts: String,
    #[arg(long, default_value = "center")]
    center: String,
    #[arg(long, default_value = "inst-1")]
    institution: String,
    /// Draft plans the institution saves in turn (made at the start when it has fewer).
    #[arg(long, default_value_t = 8)]
    drafts: usize,
    #[arg(long, default_value = store::demo::DEMO_PASSWORD)]
    password: String,
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

pub async fn run(a: Args) -> anyhow::Result<std::process::ExitCode> {
    let samples = mix::read_samples(&a.sample)?;
    let accounts = Accounts {
        districts: a
            .districts
            .split(',')
            .map(|s| s.trim().to_string())
            .collect(),
        center: a.center.clone(),
        institution: a.institution.clone(),
        password: a.password.clone(),
        drafts: a.drafts,
    };
    let w = Arc::new(Workload::prepare(&a.url, samples, &accounts).await?);
    println!("soak of {}: {}", a.url, w.describe());
    println!("mix (per 100 requests): {}", mix_text());
    println!(
        "load average before: {}; {}",
        crate::commands::bench::load_avg(),
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    );

    let rate = match a.rate {
        Some(r) => r,
        None if a.peak_seconds > 0 => {
            let (rec, secs) =
                closed_loop(&w, a.clients, Duration::from_secs(a.peak_seconds), a.seed).await;
            let all = stats::figures(&rec.total());
            let peak = all.requests as f64 / secs;
            println!(
                "\nphase 1 (peak, closed-loop, {} clients, {:.0} s): {} requests, {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, errors {}",
                a.clients, secs, all.requests, peak, all.p50_ms, all.p99_ms, all.errors
            );
            print_routes(&rec);
            print_errors(&rec);
            peak * a.fraction
        }
        None => anyhow::bail!("--peak-seconds 0 needs --rate"),
    };

    println!(
        "\nphase 2 (open-loop, {:.0} req/s = {:.0} % of peak, {} minutes, RSS every 10 s)",
        rate,
        a.fraction * 100.0,
        a.minutes
    );
    let rss = Arc::new(Mutex::new(Vec::<(f64, u64)>::new()));
    let rss_before = a.pid.and_then(read_rss_kb);
    println!("CPU pressure before: {}", cpu_pressure());
    let (rec, secs) = open_loop(
        &w,
        rate,
        Duration::from_secs(a.minutes as u64 * 60),
        a.max_in_flight,
        a.seed + 1,
        a.pid,
        rss.clone(),
    )
    .await;
    let rss = rss.lock().expect("rss samples").clone();

    println!("| minute | requests | req/s | p50 ms | p99 ms | errors | RSS MB (mean of the minute's samples) |");
    println!("|---|---|---|---|---|---|---|");
    for (i, b) in rec.minutes.iter().enumerate() {
        let f = stats::figures(b);
        let m = stats::minute_rss(&rss, i as u32 + 1)
            .map(|kb| format!("{:.1}", kb / 1024.0))
            .unwrap_or_else(|| "—".into());
        println!(
            "| {} | {} | {:.0} | {:.1} | {:.1} | {} | {} |",
            i + 1,
            f.requests,
            f.requests as f64 / 60.0,
            f.p50_ms,
            f.p99_ms,
            f.errors,
            m
        );
    }
    let all = stats::figures(&rec.total());
    println!(
        "total: {} requests in {:.0} s ({:.0} req/s, target {:.0}), p50 {:.1} ms, p99 {:.1} ms, errors {}",
        all.requests,
        secs,
        all.requests as f64 / secs,
        rate,
        all.p50_ms,
        all.p99_ms,
        all.errors
    );
    print_routes(&rec);
    print_errors(&rec);
    let change = stats::rss_change(&rss, 2, a.minutes);
    if let Some(kb) = rss_before {
        println!("server RSS before phase 2: {:.1} MB", kb as f64 / 1024.0);
    }
    match change {
        Some((from, to, pct)) => println!(
            "RSS minute 2 → minute {}: {:.1} MB → {:.1} MB ({:+.1} %; goal within ±10 %)",
            a.minutes,
            from / 1024.0,
            to / 1024.0,
            pct
        ),
        None => println!(
            "RSS change: not measured (no --pid, or fewer than {} minutes)",
            a.minutes.max(2)
        ),
    }
    println!("load average after: {}", crate::commands::bench::load_avg());
    let ok = all.errors == 0 && change.is_none_or(|(_, _, pct)| pct.abs() <= 10.0);
    println!(
        "verdict: {}",
        if ok {
            "PASS (0 errors, RSS within ±10 %)"
        } else {
            "FAIL"
        }
    );
    Ok(if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(2)
    })
}

fn mix_text() -> String {
    MIX.iter()
        .map(|(op, w)| format!("{op:?} {w}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Draw the next request of the mix: the operation and the number that picks its target.
fn draw(rng: &mut ChaCha8Rng, weights: &[u32], total: u32) -> (mix::Op, u64) {
    let i = stats::pick_weighted(weights, rng.gen_range(0..total));
    (MIX[i].0, rng.gen())
}

async fn closed_loop(
    w: &Arc<Workload>,
    clients: usize,
    dur: Duration,
    seed: u64,
) -> (Recorder, f64) {
    let rec = Arc::new(Mutex::new(Recorder::default()));
    let t0 = Instant::now();
    let mut tasks = vec![];
    for c in 0..clients {
        let (w, rec) = (w.clone(), rec.clone());
        tasks.push(tokio::spawn(async move {
            let weights = mix::weights();
            let total = weights.iter().sum();
            let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1000) + c as u64);
            while t0.elapsed() < dur {
                let (op, pick) = draw(&mut rng, &weights, total);
                let start = Instant::now();
                let (route, o) = w.run(op, pick).await;
                let us = start.elapsed().as_micros().min(u32::MAX as u128) as u32;
                rec.lock().expect("recorder").record(0, route, us, o);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = t0.elapsed().as_secs_f64();
    let rec = std::mem::take(&mut *rec.lock().expect("recorder"));
    (rec, secs)
}

async fn open_loop(
    w: &Arc<Workload>,
    rate: f64,
    dur: Duration,
    max_in_flight: usize,
    seed: u64,
    pid: Option<u32>,
    rss: Arc<Mutex<Vec<(f64, u64)>>>,
) -> (Recorder, f64) {
    let rec = Arc::new(Mutex::new(Recorder::default()));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let t0 = tokio::time::Instant::now();
    // Every 10 s: the server's RSS, and a progress line (so that a stall shows when it happened,
    // with the machine's load at that moment).
    let sampler = {
        let (rss, rec, in_flight) = (rss.clone(), rec.clone(), in_flight.clone());
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval_at(t0 + Duration::from_secs(10), Duration::from_secs(10));
            loop {
                let at = tick.tick().await;
                let t = (at - t0).as_secs_f64();
                let kb = pid.and_then(read_rss_kb);
                if let Some(kb) = kb {
                    rss.lock().expect("rss").push((t, kb));
                }
                let (done, errors) = {
                    let r = rec.lock().expect("recorder");
                    r.minutes
                        .iter()
                        .fold((0, 0), |(d, e), b| (d + b.requests(), e + b.errors))
                };
                eprintln!(
                    "  {t:>4.0} s: answered {done}, errors {errors}, in flight {}, RSS {} MB, load {}, CPU pressure {}",
                    in_flight.load(Ordering::Relaxed),
                    kb.map_or("—".into(), |kb| format!("{:.1}", kb as f64 / 1024.0)),
                    crate::commands::bench::load_avg(),
                    cpu_pressure()
                );
            }
        })
    };
    let weights = mix::weights();
    let total = weights.iter().sum();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sent: u64 = 0;
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let elapsed = t0.elapsed();
        if elapsed >= dur {
            break;
        }
        let due = stats::due_count(elapsed, rate);
        while sent < due {
            let offset = stats::send_offset(sent, rate);
            let minute = (offset.as_secs() / 60) as usize;
            let (op, pick) = draw(&mut rng, &weights, total);
            sent += 1;
            if in_flight.load(Ordering::Relaxed) >= max_in_flight {
                rec.lock().expect("recorder").record(
                    minute,
                    "(not sent: too many in flight)",
                    0,
                    Outcome::Overload,
                );
                continue;
            }
            in_flight.fetch_add(1, Ordering::Relaxed);
            let (w, rec, in_flight) = (w.clone(), rec.clone(), in_flight.clone());
            let intended = t0 + offset;
            tasks.spawn(async move {
                let (route, o) = w.run(op, pick).await;
                // From the scheduled time: waiting to be sent is part of the latency.
                let us = intended.elapsed().as_micros().min(u32::MAX as u128) as u32;
                rec.lock().expect("recorder").record(minute, route, us, o);
                in_flight.fetch_sub(1, Ordering::Relaxed);
            });
        }
        // Reap what finished so the set stays small.
        while tasks.try_join_next().is_some() {}
        tokio::time::sleep_until(t0 + stats::send_offset(sent, rate)).await;
    }
    while tasks.join_next().await.is_some() {}
    sampler.abort();
    let secs = t0.elapsed().as_secs_f64();
    let rec = std::mem::take(&mut *rec.lock().expect("recorder"));
    (rec, secs.min(dur.as_secs_f64()).max(1.0))
}

fn print_routes(rec: &Recorder) {
    println!("| route | requests | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|");
    for (route, b) in &rec.route_latencies {
        let f = stats::figures(b);
        println!(
            "| {route} | {} | {:.1} | {:.1} | {} |",
            f.requests, f.p50_ms, f.p99_ms, f.errors
        );
    }
}

fn print_errors(rec: &Recorder) {
    let errors = rec.errors();
    if errors.is_empty() {
        println!("errors: none");
        return;
    }
    println!("errors by route:");
    for (route, o, n) in errors {
        let what = match o {
            Outcome::Status(s) => format!("status {s}"),
            Outcome::Transport(k) => format!("no answer ({k})"),
            Outcome::Overload => "not sent".into(),
            Outcome::Ok => unreachable!(),
        };
        println!("  {route}: {what} ×{n}");
    }
}

/// The share of the last 10 s in which some task waited for a CPU (/proc/pressure/cpu).
fn cpu_pressure() -> String {
    std::fs::read_to_string("/proc/pressure/cpu")
        .ok()
        .and_then(|t| {
            let avg = t
                .lines()
                .next()?
                .split_whitespace()
                .nth(1)?
                .strip_prefix("avg10=")?;
            Some(format!("{avg} %"))
        })
        .unwrap_or_else(|| "—".into())
}

fn read_rss_kb(pid: u32) -> Option<u64> {
    let t = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    t.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
