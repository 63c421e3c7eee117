//! A minimal WebDriver client (W3C protocol over HTTP) driving Debian's chromedriver + chromium.
//! Small enough to own; no TLS stack or extra crates needed.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

pub struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    driver: Child,
    /// URLs the test visits expecting an HTTP error status (a 404 page): Chromium logs the
    /// failed load, which is then no console error of ours.
    expected_errors: std::sync::Mutex<Vec<String>>,
}

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where screenshots go: `<workspace>/test-artifacts/`.
pub fn artifacts_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Browser {
    /// Start chromedriver and a headless Chromium, or `None` (with a note) when they are not
    /// installed. With SKILLEVAL_REQUIRE_BROWSER=1 (CI) a missing browser is a failure.
    pub async fn start() -> Option<Browser> {
        let driver_bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(driver_bin) = driver_bin else {
            if std::env::var("SKILLEVAL_REQUIRE_BROWSER").is_ok() {
                panic!("chromedriver not installed but SKILLEVAL_REQUIRE_BROWSER is set");
            }
            store::testing::announce_skipped(
                "browser tests (headless Chromium): chromedriver/chromium not installed (apt-get install chromium chromium-driver fonts-noto-cjk)",
            );
            return None;
        };
        let port = free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap().keep();
        // The console log (CSP refusals, failed loads, script errors) is read after every page.
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--no-first-run", "--disable-quic", "--window-size=1280,900", "--lang=zh-CN",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let v: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Some(Browser {
            http,
            base,
            session,
            driver,
            expected_errors: std::sync::Mutex::default(),
        })
    }

    /// The browser console's SEVERE entries since the last call (chromedriver's log endpoint
    /// drains what it returns), minus failed loads of pages expected to fail.
    pub async fn console_errors(&self) -> Vec<String> {
        let v: Value = self
            .http
            .post(format!("{}/session/{}/se/log", self.base, self.session))
            .json(&json!({ "type": "browser" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let expected = self.expected_errors.lock().unwrap().clone();
        v["value"]
            .as_array()
            .unwrap_or_else(|| panic!("browser log: {v}"))
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
            .filter(|m| {
                !(m.contains("Failed to load resource")
                    && expected.iter().any(|u| m.starts_with(u.as_str())))
            })
            .collect()
    }

    /// Fail on any console error of the pages shown so far.
    pub async fn assert_no_console_errors(&self, context: &str) {
        let errors = self.console_errors().await;
        assert!(
            errors.is_empty(),
            "console errors ({context}):\n{}",
            errors.join("\n")
        );
    }

    /// The next visit of `url` answers with an error status on purpose (e.g. the 404 page).
    pub fn expect_error_status(&self, url: &str) {
        self.expected_errors.lock().unwrap().push(url.to_string());
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if let Some(err) = v["value"].get("error") {
            panic!("webdriver {path}: {err} {}", v["value"]["message"]);
        }
        v["value"].clone()
    }

    /// Open `url`; fails on any console error of the previous pages or this one.
    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
        self.assert_no_console_errors(url).await;
    }

    pub async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("find {css}: {v}"))
            .to_string()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Set an input's value directly and fire `change` (date inputs take keystrokes in the OS
    /// locale's order, which differs between machines).
    #[allow(dead_code)]
    pub async fn set_value(&self, css: &str, value: &str) {
        let id = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({
                "script": "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
                "args": [{ ELEMENT_KEY: id }, value],
            })),
        )
        .await;
    }

    /// Resize the window (a tall one screenshots a whole long page).
    #[allow(dead_code)]
    pub async fn resize(&self, width: u32, height: u32) {
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await;
    }

    /// Run `script` in the page (`return …;`) and give its value.
    #[allow(dead_code)]
    pub async fn eval(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.cmd(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn current_url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Save a PNG screenshot under test-artifacts/ and return its path.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        use base64::Engine;
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        let path = artifacts_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Save a PNG screenshot of the element `css` (the n-th match, from 0) under test-artifacts/.
    #[allow(dead_code)]
    pub async fn screenshot_element(
        &self,
        css: &str,
        nth: usize,
        name: &str,
    ) -> std::path::PathBuf {
        use base64::Engine;
        let found = self
            .cmd(
                reqwest::Method::POST,
                "/elements",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        let id = found[nth][ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("find {css} #{nth}: {found}"))
            .to_string();
        let v = self
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{id}/screenshot"),
                None,
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        let path = artifacts_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Accept a `window.confirm` dialog (our confirmation before irreversible actions).
    #[allow(dead_code)]
    pub async fn accept_alert(&self) {
        self.cmd(reqwest::Method::POST, "/alert/accept", Some(json!({})))
            .await;
    }

    /// Wait until the URL contains `part` (after a form submit).
    pub async fn wait_for_url(&self, part: &str) {
        for _ in 0..50 {
            if self.current_url().await.contains(part) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("URL never contained {part}: {}", self.current_url().await);
    }

    /// End the session; fails on any console error not yet reported (the last pages).
    pub async fn quit(mut self) {
        // Late entries (the favicon, scripts after load) of the last page.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let errors = self.console_errors().await;
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        assert!(
            errors.is_empty(),
            "console errors (last pages):\n{}",
            errors.join("\n")
        );
    }
}

impl Drop for Browser {
    // A failed test must leave neither Chromium nor chromedriver running: end the session
    // (Chromium with it) with a blocking request, then stop the driver.
    fn drop(&mut self) {
        if let Ok(None) = self.driver.try_wait() {
            use std::io::{Read, Write};
            let host = self.base.trim_start_matches("http://");
            if let Ok(mut s) = std::net::TcpStream::connect(host) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = write!(
                    s,
                    "DELETE /session/{} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                    self.session
                );
                let _ = s.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
