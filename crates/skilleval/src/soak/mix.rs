//! The soak's workload: what a mix of citizens, officers and institutions do, as HTTP requests
//! a browser would send (session cookie from the login form, `Origin` and `Sec-Fetch-Site` on
//! forms, redirects not followed), and the targets it needs, found once through the API.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::header::{HeaderMap, HeaderValue, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
use tokio::sync::Mutex;

use super::stats::Outcome;

/// One kind of request of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    QueryPage,
    QueryJson,
    QrLanding,
    PublicFilings,
    PublicInstitutions,
    Dashboard,
    PlanList,
    FilingList,
    InstitutionList,
    CertificateList,
    Detail,
    GuidanceNote,
    OutreachUpdate,
    PlanDraftSave,
}

/// The mix, in requests per 100 (docs/performance.md, "Soak"): public 55, logged-in pages 35,
/// writes 10.
pub const MIX: &[(Op, u32)] = &[
    (Op::QueryPage, 15),
    (Op::QueryJson, 12),
    (Op::QrLanding, 12),
    (Op::PublicFilings, 8),
    (Op::PublicInstitutions, 8),
    (Op::Dashboard, 10),
    (Op::PlanList, 5),
    (Op::FilingList, 5),
    (Op::InstitutionList, 4),
    (Op::CertificateList, 3),
    (Op::Detail, 8),
    (Op::GuidanceNote, 4),
    (Op::OutreachUpdate, 3),
    (Op::PlanDraftSave, 3),
];

pub fn weights() -> Vec<u32> {
    MIX.iter().map(|(_, w)| *w).collect()
}

/// A certificate of the sample written by `bench-data --sample`.
pub struct Sample {
    number: String,
    name: String,
    qr_path: String,
}

pub fn read_samples(path: &std::path::Path) -> anyhow::Result<Vec<Sample>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("无法读取样本 {}", path.display()))?;
    let samples: Vec<Sample> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some(Sample {
                number: f.next()?.to_string(),
                name: f.next()?.to_string(),
                qr_path: f.next()?.to_string(),
            })
        })
        .collect();
    if samples.is_empty() {
        bail!("样本文件 {} 没有证书", path.display());
    }
    Ok(samples)
}

/// A logged-in account: its session cookie.
struct Session {
    cookie: HeaderValue,
}

/// An enterprise whose outreach status the district officer updates; its version is kept here
/// (the form carries it, like the page's hidden field) and one update runs at a time.
struct Enterprise {
    id: i64,
    version: i64,
    flip: bool,
}

/// A draft plan an institution saves again and again: its fields and version.
struct Draft {
    id: i64,
    session: usize,
    fields: Vec<(&'static str, String)>,
    venue: String,
    version: i64,
    saves: u64,
}

pub struct Workload {
    client: Client,
    base: String,
    origin: HeaderValue,
    samples: Vec<Sample>,
    sessions: Vec<Session>,
    /// Session indexes of the district officers (dashboards, lists).
    districts: Vec<usize>,
    center: usize,
    institution: usize,
    /// (session, path) of records in that session's scope.
    details: Vec<(usize, String, &'static str)>,
    /// Enterprises of `guidance_session`'s district that may receive guidance notes.
    guidance: Vec<i64>,
    guidance_session: usize,
    outreach: Vec<Mutex<Enterprise>>,
    drafts: Vec<Mutex<Draft>>,
    notes: AtomicU64,
}

pub struct Accounts {
    pub districts: Vec<String>,
    pub center: String,
    pub institution: String,
    pub password: String,
    /// Draft plans the institution keeps saving (made at the start when it has fewer).
    pub drafts: usize,
}

impl Workload {
    /// Log in every account through the login form and find the records the mix visits.
    pub async fn prepare(
        base: &str,
        samples: Vec<Sample>,
        accounts: &Accounts,
    ) -> anyhow::Result<Workload> {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(1024)
            .build()?;
        let base = base.trim_end_matches('/').to_string();
        let origin = HeaderValue::from_str(&base)?;
        let mut w = Workload {
            client,
            base,
            origin,
            samples,
            sessions: vec![],
            districts: vec![],
            center: 0,
            institution: 0,
            details: vec![],
            guidance: vec![],
            guidance_session: 0,
            outreach: vec![],
            drafts: vec![],
            notes: AtomicU64::new(0),
        };
        for d in &accounts.districts {
            let s = w.login(d, &accounts.password).await?;
            w.districts.push(s);
        }
        w.center = w.login(&accounts.center, &accounts.password).await?;
        w.institution = w.login(&accounts.institution, &accounts.password).await?;

        for &s in &w.districts.clone() {
            for id in w.ids(s, "/api/v1/plans?per_page=100").await? {
                w.details
                    .push((s, format!("/plans/{id}"), "GET /plans/{id}"));
            }
            for id in w.ids(s, "/api/v1/filings?per_page=100").await? {
                w.details
                    .push((s, format!("/filings/{id}"), "GET /filings/{id}"));
            }
            for id in w.ids(s, "/api/v1/institutions?per_page=100").await? {
                w.details
                    .push((s, format!("/institutions/{id}"), "GET /institutions/{id}"));
            }
        }
        for id in w.ids(w.center, "/api/v1/certificates?per_page=100").await? {
            w.details.push((
                w.center,
                format!("/certificates/{id}"),
                "GET /certificates/{id}",
            ));
        }
        if w.details.is_empty() {
            bail!("没有可查看的记录（需要演示数据：serve --demo）");
        }

        // Writes of the district officer whose register holds enterprises.
        for &s in &w.districts.clone() {
            let list = w.get_json(s, "/api/v1/enterprises?per_page=100").await?;
            let items = list["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                continue;
            }
            w.guidance_session = s;
            for e in &items {
                let id = e["id"].as_i64().context("enterprise id")?;
                // Guidance is for enterprises that have not filed (一(二)); outreach updates
                // leave alone the one whose filing decides its status.
                if e["filing_id"].is_null() && e["institution_id"].is_null() {
                    w.guidance.push(id);
                    w.outreach.push(Mutex::new(Enterprise {
                        id,
                        version: e["version"].as_i64().context("enterprise version")?,
                        flip: false,
                    }));
                }
            }
            break;
        }
        if w.guidance.is_empty() {
            bail!("演示数据中没有可指导的企业（区县企业名录）");
        }

        // Drafts of the institution: its own, else one made now through the API.
        let inst = w.institution;
        let mut drafts = w
            .ids(inst, "/api/v1/plans?status=draft&per_page=20")
            .await?;
        while drafts.len() < accounts.drafts {
            drafts.push(w.create_draft(inst, drafts.len() as i64).await?);
        }
        for id in drafts {
            let p = w.get_json(inst, &format!("/api/v1/plans/{id}")).await?;
            let p = &p["plan"];
            let text = |k: &str| match &p[k] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                v => v.to_string(),
            };
            let mut fields = vec![];
            for (k, name) in [
                ("occupation_id", "occupation_id"),
                ("levels", "levels"),
                ("start_date", "start_date"),
                ("end_date", "end_date"),
                ("expected_candidates", "expected_candidates"),
                ("examiners", "examiners"),
                ("internal_supervisor", "internal_supervisor"),
            ] {
                fields.push((name, text(k)));
            }
            for f in text("forms").split(',') {
                match f.trim() {
                    "theory" => fields.push(("form_theory", "on".into())),
                    "skill" => fields.push(("form_skill", "on".into())),
                    "review" => fields.push(("form_review", "on".into())),
                    _ => {}
                }
            }
            w.drafts.push(Mutex::new(Draft {
                id,
                session: inst,
                fields,
                venue: text("venue"),
                version: p["version"].as_i64().context("plan version")?,
                saves: 0,
            }));
        }
        Ok(w)
    }

    pub fn describe(&self) -> String {
        format!(
            "{} certificates in the sample, {} sessions, {} detail pages, {} enterprises, {} draft plans",
            self.samples.len(),
            self.sessions.len(),
            self.details.len(),
            self.outreach.len(),
            self.drafts.len()
        )
    }

    /// Send the request of `op`; `pick` chooses the certificate, account, page or record.
    pub async fn run(&self, op: Op, pick: u64) -> (&'static str, Outcome) {
        let n = |len: usize| (pick % len.max(1) as u64) as usize;
        // A second, independent choice from the same draw (page numbers, search terms).
        let m = (pick >> 32) as usize;
        let district = self.districts[n(self.districts.len())];
        match op {
            Op::QueryPage => {
                let c = &self.samples[n(self.samples.len())];
                let url = self.url_with(
                    "/public/certificates",
                    &[("cert_no", &c.number), ("name", &c.name)],
                );
                let r = self.get(None, url, "GET /public/certificates?cert_no&name");
                r.await
            }
            Op::QueryJson => {
                let c = &self.samples[n(self.samples.len())];
                let url = self.url_with(
                    &format!("/api/v1/public/certificates/{}", c.number),
                    &[("name", &c.name)],
                );
                self.get(None, url, "GET /api/v1/public/certificates/{number}")
                    .await
            }
            Op::QrLanding => {
                let c = &self.samples[n(self.samples.len())];
                let url = format!("{}{}", self.base, c.qr_path);
                self.get(None, url, "GET /v/{number}?s").await
            }
            Op::PublicFilings => {
                let url = format!("{}/public/filings?page={}", self.base, 1 + m % 2);
                self.get(None, url, "GET /public/filings").await
            }
            Op::PublicInstitutions => {
                let q = ["", "烹调", "焊工", "郑州"][m % 4];
                let url = self.url_with("/public/institutions", &[("q", q)]);
                self.get(None, url, "GET /public/institutions?q").await
            }
            Op::Dashboard => {
                // District officers mostly; now and then the institution.
                let s = if m % 6 == 0 {
                    self.institution
                } else {
                    district
                };
                let url = format!("{}/dashboard", self.base);
                self.get(Some(s), url, "GET /dashboard").await
            }
            Op::PlanList => {
                let q = ["", "", "烹调", "2026"][m % 4];
                let url = self.url_with(
                    "/plans",
                    &[("q", q), ("page", &(1 + (m >> 4) % 2).to_string())],
                );
                self.get(Some(district), url, "GET /plans?q&page").await
            }
            Op::FilingList => {
                let q = ["", "", "培训", "协会"][m % 4];
                let url = self.url_with(
                    "/filings",
                    &[("q", q), ("page", &(1 + (m >> 4) % 2).to_string())],
                );
                self.get(Some(district), url, "GET /filings?q&page").await
            }
            Op::InstitutionList => {
                let q = ["", "", "职业", "公司"][m % 4];
                let url = self.url_with("/institutions", &[("q", q)]);
                self.get(Some(district), url, "GET /institutions?q").await
            }
            Op::CertificateList => {
                // The center searches by a certificate number or a holder's name.
                let c = &self.samples[(m % self.samples.len().max(1)) % self.samples.len()];
                let q = if pick % 2 == 0 { &c.number } else { &c.name };
                let page = (1 + (m >> 8) % 3).to_string();
                let params: [(&str, &str); 2] = if pick % 3 == 0 {
                    [("q", ""), ("page", &page)]
                } else {
                    [("q", q), ("page", "1")]
                };
                let url = self.url_with("/certificates", &params);
                self.get(Some(self.center), url, "GET /certificates?q&page (center)")
                    .await
            }
            Op::Detail => {
                let (s, path, label) = &self.details[n(self.details.len())];
                let url = format!("{}{}", self.base, path);
                self.get(Some(*s), url, label).await
            }
            Op::GuidanceNote => {
                let id = self.guidance[n(self.guidance.len())];
                let k = self.notes.fetch_add(1, Ordering::Relaxed);
                let note = format!(
                    "压测指导意见第 {k} 条：工作方案应写明评价职业（工种）与等级、场地设施与考评员安排。"
                );
                self.post_form(
                    self.guidance_session,
                    &format!("/enterprises/{id}/guidance"),
                    &[("note", note)],
                    "POST /enterprises/{id}/guidance",
                )
                .await
            }
            Op::OutreachUpdate => {
                let mut e = free_one(&self.outreach, n(self.outreach.len())).await;
                let status = if e.flip { "interested" } else { "informed" };
                let label = "POST /enterprises/{id}/outreach";
                let r = self
                    .post_form(
                        self.guidance_session,
                        &format!("/enterprises/{}/outreach", e.id),
                        &[
                            ("outreach", status.into()),
                            ("version", e.version.to_string()),
                        ],
                        label,
                    )
                    .await;
                match r.1 {
                    Outcome::Ok => {
                        e.version += 1;
                        e.flip = !e.flip;
                    }
                    // Someone else changed it: read the version again (still an error).
                    Outcome::Status(409) => {
                        let path = format!("/api/v1/enterprises/{}", e.id);
                        if let Ok(v) = self.get_json(self.guidance_session, &path).await {
                            if let Some(v) = v["enterprise"]["version"].as_i64() {
                                e.version = v;
                            }
                        }
                    }
                    _ => {}
                }
                r
            }
            Op::PlanDraftSave => {
                let mut d = free_one(&self.drafts, n(self.drafts.len())).await;
                // Two venues in turn: every save changes the plan, the data does not grow.
                let venue = if d.saves % 2 == 0 {
                    format!("{}（第二考场）", d.venue)
                } else {
                    d.venue.clone()
                };
                let mut form = d.fields.clone();
                form.push(("venue", venue));
                form.push(("version", d.version.to_string()));
                let r = self
                    .post_form(
                        d.session,
                        &format!("/plans/{}/edit", d.id),
                        &form,
                        "POST /plans/{id}/edit",
                    )
                    .await;
                match r.1 {
                    Outcome::Ok => {
                        d.version += 1;
                        d.saves += 1;
                    }
                    Outcome::Status(409) => {
                        let path = format!("/api/v1/plans/{}", d.id);
                        if let Ok(v) = self.get_json(d.session, &path).await {
                            if let Some(v) = v["plan"]["version"].as_i64() {
                                d.version = v;
                            }
                        }
                    }
                    _ => {}
                }
                r
            }
        }
    }

    fn url_with(&self, path: &str, params: &[(&str, &str)]) -> String {
        let mut u = reqwest::Url::parse(&format!("{}{}", self.base, path)).expect("base URL");
        {
            let mut q = u.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k, v);
            }
        }
        u.to_string()
    }

    fn headers(&self, session: Option<usize>, form: bool) -> HeaderMap {
        let mut h = HeaderMap::new();
        // What a browser sends on a navigation of the same site.
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        if let Some(s) = session {
            h.insert(COOKIE, self.sessions[s].cookie.clone());
        }
        if form {
            h.insert(ORIGIN, self.origin.clone());
        }
        h
    }

    async fn get(
        &self,
        session: Option<usize>,
        url: String,
        label: &'static str,
    ) -> (&'static str, Outcome) {
        let req = self
            .client
            .request(Method::GET, url)
            .headers(self.headers(session, false));
        (label, outcome(req.send().await, StatusCode::OK).await)
    }

    /// A form post as a browser sends it; success is the redirect (303) to the record.
    async fn post_form(
        &self,
        session: usize,
        path: &str,
        form: &[(&str, String)],
        label: &'static str,
    ) -> (&'static str, Outcome) {
        let req = self
            .client
            .post(format!("{}{}", self.base, path))
            .headers(self.headers(Some(session), true))
            .form(form);
        (
            label,
            outcome(req.send().await, StatusCode::SEE_OTHER).await,
        )
    }

    async fn login(&mut self, username: &str, password: &str) -> anyhow::Result<usize> {
        let r = self
            .client
            .post(format!("{}/login", self.base))
            .headers(self.headers(None, true))
            .form(&[("username", username), ("password", password)])
            .send()
            .await?;
        if r.status() != StatusCode::SEE_OTHER {
            bail!("{username} 登录失败: {}", r.status());
        }
        let cookie = r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("skilleval_session="))
            .and_then(|v| v.split(';').next())
            .with_context(|| format!("{username}: 没有会话 cookie"))?;
        self.sessions.push(Session {
            cookie: HeaderValue::from_str(cookie)?,
        });
        Ok(self.sessions.len() - 1)
    }

    async fn get_json(&self, session: usize, path: &str) -> anyhow::Result<Value> {
        let r = self
            .client
            .get(format!("{}{}", self.base, path))
            .headers(self.headers(Some(session), false))
            .send()
            .await?;
        let status = r.status();
        let text = r.text().await?;
        if status != StatusCode::OK {
            bail!("GET {path}: {status} {text}");
        }
        Ok(serde_json::from_str(&text)?)
    }

    async fn ids(&self, session: usize, path: &str) -> anyhow::Result<Vec<i64>> {
        let v = self.get_json(session, path).await?;
        Ok(v["items"]
            .as_array()
            .map(|a| a.iter().filter_map(|i| i["id"].as_i64()).collect())
            .unwrap_or_default())
    }

    /// A draft plan for the institution, for an occupation it has filed, starting in 60 days
    /// (plus `k` weeks, so that drafts differ).
    async fn create_draft(&self, session: usize, k: i64) -> anyhow::Result<i64> {
        let me = self.get_json(session, "/api/v1/me").await?;
        let inst = me["institution_id"]
            .as_i64()
            .or_else(|| me["account"]["institution_id"].as_i64())
            .context("机构账号没有机构")?;
        let occ = self
            .get_json(session, &format!("/api/v1/institutions/{inst}/occupations"))
            .await?;
        let first = occ
            .as_array()
            .and_then(|a| a.first())
            .or_else(|| occ["items"].as_array().and_then(|a| a.first()))
            .context("机构没有已备案职业")?
            .clone();
        let occupation_id = first["occupation_id"]
            .as_i64()
            .or_else(|| first["id"].as_i64())
            .context("occupation id")?;
        let level = first["levels"]
            .as_str()
            .and_then(|l| l.split(',').next())
            .unwrap_or("4")
            .to_string();
        let start = chrono::Utc::now().date_naive() + chrono::Duration::days(60 + 7 * k);
        let body = serde_json::json!({
            "occupation_id": occupation_id.to_string(),
            "levels": level,
            "forms": "theory,skill",
            "start_date": start.to_string(),
            "end_date": (start + chrono::Duration::days(1)).to_string(),
            "venue": "郑州市金水区示范路 11 号实训楼",
            "expected_candidates": "40",
            "examiners": "张考评、李考评",
            "internal_supervisor": "王督导",
        });
        let r = self
            .client
            .post(format!("{}/api/v1/plans", self.base))
            .headers(self.headers(Some(session), true))
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let v: Value = serde_json::from_str(&r.text().await?)?;
        if !status.is_success() {
            bail!("无法建立计划草稿: {status} {v}");
        }
        v["id"]
            .as_i64()
            .or_else(|| v["plan"]["id"].as_i64())
            .context("plan id")
    }
}

/// The first record from `start` on that nobody is editing (a person edits a record in one tab
/// at a time); when all are busy, wait for the one at `start`.
async fn free_one<T>(records: &[Mutex<T>], start: usize) -> tokio::sync::MutexGuard<'_, T> {
    for i in 0..records.len() {
        if let Ok(g) = records[(start + i) % records.len()].try_lock() {
            return g;
        }
    }
    records[start].lock().await
}

async fn outcome(r: reqwest::Result<reqwest::Response>, expected: StatusCode) -> Outcome {
    match r {
        Ok(r) => {
            let status = r.status();
            // Read the whole body: its transfer is part of the answer.
            match r.bytes().await {
                Ok(_) if status == expected => Outcome::Ok,
                Ok(_) => Outcome::Status(status.as_u16()),
                Err(e) => Outcome::Transport(kind(&e)),
            }
        }
        Err(e) => Outcome::Transport(kind(&e)),
    }
}

fn kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect".into()
    } else if e.is_body() || e.is_decode() {
        "body".into()
    } else {
        "request".into()
    }
}
