//! Several app servers behind nginx on PostgreSQL with S3 files (issue 11 §3), the short form
//! of `bench/multi_server.sh`: this test runs that script with the `skilleval` binary cargo
//! built, so the script and CI prove the same thing. It needs PostgreSQL (`SKILLEVAL_TEST_PG`),
//! nginx and moto (`pip install "moto[server]"`); without them it says SKIPPED and passes,
//! unless `SKILLEVAL_REQUIRE_MULTI=1` (CI installs them and sets it).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn found(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn multi_server_sessions_and_jobs() {
    let pg = std::env::var("SKILLEVAL_TEST_PG").unwrap_or_default();
    let moto = std::env::var("SKILLEVAL_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    let mut missing = Vec::new();
    if pg.is_empty() {
        missing.push("PostgreSQL (SKILLEVAL_TEST_PG)");
    }
    if !found("nginx") && !std::path::Path::new("/usr/sbin/nginx").exists() {
        missing.push("nginx (apt-get install nginx)");
    }
    if !found(&moto) {
        missing.push("moto_server (pip install \"moto[server]\")");
    }
    for tool in ["curl", "psql", "python3"] {
        if !found(tool) {
            missing.push(tool);
        }
    }
    if !missing.is_empty() {
        let what = format!(
            "multi_server_sessions_and_jobs: needs {}",
            missing.join(", ")
        );
        if std::env::var("SKILLEVAL_REQUIRE_MULTI").is_ok_and(|v| v == "1") {
            panic!("{what} (SKILLEVAL_REQUIRE_MULTI=1)");
        }
        store::testing::announce_skipped(&what);
        return;
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut path = std::env::var("PATH").unwrap_or_default();
    if !path.split(':').any(|p| p == "/usr/sbin") {
        path.push_str(":/usr/sbin");
    }
    let mut child = Command::new("bash")
        .arg(root.join("bench/multi_server.sh"))
        .arg("--short")
        .current_dir(&root)
        .env("SKILLEVAL_BIN", env!("CARGO_BIN_EXE_skilleval"))
        .env("PG_SERVER", pg.trim_end_matches('/'))
        .env("MOTO_SERVER", &moto)
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bench/multi_server.sh");
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            // The script's EXIT trap stops the servers, nginx and moto it started.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            std::thread::sleep(Duration::from_secs(3));
            let _ = child.kill();
            panic!("bench/multi_server.sh --short took more than 300 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let stdout = reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    println!("{stdout}");
    assert!(
        status.success(),
        "bench/multi_server.sh --short failed ({status}):\n{stdout}\n{stderr}"
    );
    for proof in [
        "3 servers started together on the fresh database",
        "loaded once",
        "every server stores files in S3",
        "scheduler: 3 servers restarted together",
        "works on all three servers",
        "form posts through nginx",
        "downloads identically from all three servers",
        "numbers unique, one batch per plan",
        "background work ran once",
        "audit chain verifies",
        "multi-server: all checks passed",
    ] {
        assert!(stdout.contains(proof), "missing “{proof}” in:\n{stdout}");
    }
    assert!(!stdout.contains("FAIL"), "{stdout}");
}
