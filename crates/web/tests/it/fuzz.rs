//! `fuzz_parsers_short` (issue 11 §5): property-based random inputs over every parser of outside
//! input — credit code, ID number, certificate number, the QR/COSE payload, xlsx import, upload
//! type sniffing, form and JSON bodies (the extractors, and every write route over HTTP) — with
//! zero panics and no 5xx allowed.
//!
//! Inputs come from `arbitrary` over seeded ChaCha bytes: strings built from a dictionary of the
//! formats' own pieces (digits, check letters, `/v/`, `?s=`, CJK, separators, JSON tokens),
//! random characters and bytes, and mutations (bit flips, insertions, deletions, splices,
//! truncations) of valid examples, so that the checks past the first one are reached too. The
//! default is a short pass for CI; `FUZZ_CASES=n` sets the cases per parser target,
//! `FUZZ_HTTP_CASES=n` the HTTP requests, `FUZZ_SEED` the seed, `FUZZ_ONLY=name` one target.
//! The long run's figures are in docs/performance.md.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use arbitrary::{Arbitrary, Unstructured};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::Method;

use crate::helpers::spawn_app;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn only(target: &str) -> bool {
    std::env::var("FUZZ_ONLY").map_or(true, |o| o.split(',').any(|t| t.trim() == target))
}

/// Pieces of the formats under test: combined, they reach past the first checks.
const DICT: &[&str] = &[
    "0",
    "1",
    "2",
    "4",
    "5",
    "9",
    "X",
    "x",
    "S",
    "Y",
    "Z",
    "41",
    "0000",
    "410105",
    "4101",
    "19900101",
    "2026",
    "26",
    "000001",
    "/v/",
    "?s=",
    "#s=",
    "&",
    "=",
    "%",
    "%E4%B8%AD",
    "%zz",
    "%",
    "..",
    "/",
    "\\",
    "\0",
    " ",
    "\t",
    "\n",
    "中",
    "郑州",
    "𠀀",
    "é",
    "\u{202e}",
    "\u{feff}",
    "-",
    "+",
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "null",
    "true",
    "false",
    "1e999",
    "-0",
    "0.5",
    "18446744073709551616",
    "-9223372036854775809",
    ".xlsx",
    ".pdf",
    ".jpg",
    ".png",
    ".docx",
    "CON",
    "name",
    "id",
    "level",
    "version",
    "reason",
    "91410100",
    "52410100",
    "MA",
];

/// Field names of the platform's forms and JSON bodies.
const FIELDS: &[&str] = &[
    "name",
    "credit_code",
    "kind",
    "district_code",
    "occupation_id",
    "levels",
    "level",
    "forms",
    "start_date",
    "end_date",
    "venue",
    "expected_candidates",
    "examiners",
    "internal_supervisor",
    "username",
    "password",
    "display_name",
    "role",
    "reason",
    "version",
    "cert_no",
    "id_number",
    "id_type",
    "site_code",
    "theory_score",
    "skill_score",
    "review_score",
    "q",
    "page",
    "per_page",
    "command",
    "corrections",
    "holder_name",
    "work_type",
    "confirm",
    "new_password",
    "current",
    "items",
    "occupation_ids",
    "contact_name",
    "contact_phone",
    "business_scope",
    "employees",
    "capital_yuan",
    "reg_address",
    "biz_address",
    "reg_district",
    "biz_district",
    "gender",
    "education",
    "source",
    "phone",
    "note",
    "paper_received_on",
    "reissue",
    "filing_no",
    "district",
    "date_from",
    "date_to",
    "title",
    "employer",
    "expires_days",
    "scopes",
];

#[derive(Arbitrary, Debug)]
enum Piece {
    Dict(u8),
    Char(char),
    Ascii(u8),
    Digits(u32),
}

#[derive(Arbitrary, Debug)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(Vec<Piece>),
    Array(Vec<Json>),
    Object(Vec<(u8, Json)>),
}

fn text_of(pieces: &[Piece]) -> String {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Dict(i) => s.push_str(DICT[*i as usize % DICT.len()]),
            Piece::Char(c) => s.push(*c),
            Piece::Ascii(b) => s.push((b % 128) as char),
            Piece::Digits(n) => s.push_str(&n.to_string()),
        }
    }
    s
}

fn json_of(j: &Json, depth: usize) -> serde_json::Value {
    use serde_json::Value;
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Int(i) => Value::from(*i),
        Json::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Json::Text(p) => Value::String(text_of(p)),
        Json::Array(v) if depth < 4 => {
            Value::Array(v.iter().map(|j| json_of(j, depth + 1)).collect())
        }
        Json::Object(v) if depth < 4 => Value::Object(
            v.iter()
                .map(|(k, j)| {
                    (
                        FIELDS[*k as usize % FIELDS.len()].to_string(),
                        json_of(j, depth + 1),
                    )
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// The random source: seeded ChaCha bytes read through `arbitrary`.
struct Gen {
    rng: ChaCha8Rng,
    buf: Vec<u8>,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen {
            rng: ChaCha8Rng::seed_from_u64(seed),
            buf: vec![],
        }
    }

    fn with<T>(&mut self, f: impl FnOnce(&mut Unstructured) -> T) -> T {
        let n = [16, 64, 256, 1024][self.rng.gen_range(0..4)];
        self.buf.resize(n, 0);
        self.rng.fill_bytes(&mut self.buf);
        f(&mut Unstructured::new(&self.buf))
    }

    fn text(&mut self) -> String {
        self.with(|u| text_of(&Vec::<Piece>::arbitrary(u).unwrap_or_default()))
    }

    fn bytes(&mut self) -> Vec<u8> {
        self.with(|u| Vec::<u8>::arbitrary(u).unwrap_or_default())
    }

    fn json(&mut self) -> serde_json::Value {
        self.with(|u| {
            Json::arbitrary(u)
                .map(|j| json_of(&j, 0))
                .unwrap_or(serde_json::Value::Null)
        })
    }

    /// A form body: random fields (mostly the platform's), random values, sometimes raw bytes.
    fn form(&mut self) -> Vec<u8> {
        if self.rng.gen_ratio(1, 8) {
            return self.bytes();
        }
        let n = self.rng.gen_range(0..8);
        let mut pairs = vec![];
        for _ in 0..n {
            let k = if self.rng.gen_ratio(7, 8) {
                FIELDS[self.rng.gen_range(0..FIELDS.len())].to_string()
            } else {
                self.text()
            };
            pairs.push((k, self.text()));
        }
        serde_urlencoded::to_string(&pairs)
            .unwrap_or_default()
            .into_bytes()
    }

    /// 1–4 random edits of `seed`: flips, overwrites, insertions, deletions, duplications,
    /// truncations.
    fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..self.rng.gen_range(1..=4) {
            let len = v.len();
            match self.rng.gen_range(0..6) {
                0 if len > 0 => {
                    let i = self.rng.gen_range(0..len);
                    v[i] ^= 1 << self.rng.gen_range(0..8);
                }
                1 if len > 0 => {
                    let i = self.rng.gen_range(0..len);
                    v[i] = self.rng.gen();
                }
                2 => {
                    let i = self.rng.gen_range(0..=len);
                    let ins = if self.rng.gen() {
                        DICT[self.rng.gen_range(0..DICT.len())].as_bytes().to_vec()
                    } else {
                        (0..self.rng.gen_range(1..8))
                            .map(|_| self.rng.gen())
                            .collect()
                    };
                    v.splice(i..i, ins);
                }
                3 if len > 0 => {
                    let i = self.rng.gen_range(0..len);
                    let j = self.rng.gen_range(i..=len.min(i + 16));
                    v.drain(i..j);
                }
                4 if len > 0 => {
                    let i = self.rng.gen_range(0..len);
                    let j = self.rng.gen_range(i..=len.min(i + 32));
                    let dup = v[i..j].to_vec();
                    v.splice(j..j, dup);
                }
                _ => {
                    let t = self.rng.gen_range(0..=len);
                    v.truncate(t);
                }
            }
        }
        v
    }

    fn mutate_text(&mut self, seed: &str) -> String {
        String::from_utf8_lossy(&self.mutate(seed.as_bytes())).into_owned()
    }

    /// Half random, half a mutation of one of `seeds`.
    fn text_like(&mut self, seeds: &[String]) -> String {
        if self.rng.gen() {
            self.text()
        } else {
            let s = &seeds[self.rng.gen_range(0..seeds.len())];
            self.mutate_text(s)
        }
    }
}

/// Inputs that made a parser panic, by target.
#[derive(Default)]
struct Findings {
    panics: Vec<String>,
    ran: Vec<(String, u64, f64)>,
}

impl Findings {
    /// Run `cases` inputs of `target`; `case` makes an input and feeds it to the parser,
    /// returning a description of the input for the report.
    fn run(
        &mut self,
        target: &str,
        cases: u64,
        gen: &mut Gen,
        mut case: impl FnMut(&mut Gen) -> String,
    ) {
        if !only(target) {
            return;
        }
        let t = Instant::now();
        for _ in 0..cases {
            let mut input = String::new();
            let r = catch_unwind(AssertUnwindSafe(|| input = case(gen)));
            if r.is_err() {
                self.panics.push(format!("{target}: panic on {input:?}"));
                if self.panics.len() > 20 {
                    break;
                }
            }
        }
        self.ran
            .push((target.to_string(), cases, t.elapsed().as_secs_f64()));
    }
}

/// A valid signed QR text and its parts, to mutate.
fn valid_qr() -> (String, Vec<u8>, certsign::KeyRing) {
    let key = store::cert_sign::demo_signing_key();
    let p = certsign::CertificatePayload {
        number: "S000041410105264000001".into(),
        name: "张三".into(),
        id_type: "居民身份证".into(),
        id_masked: "4101**********1234".into(),
        occupation_code: "4-03-02-01".into(),
        occupation_name: "中式烹调师".into(),
        work_type: None,
        level: 4,
        issued_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
        institution: "郑州市示范职业培训学校".into(),
        status_index: 7,
        signed_at: 1_796_000_000,
    };
    let cose = key.sign(&p);
    let mut pk = key.public();
    pk.valid_from = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let ring = certsign::KeyRing::new(vec![pk]);
    (
        certsign::qr_text("https://pj.example", &p.number, &cose),
        cose,
        ring,
    )
}

fn parser_targets(f: &mut Findings, cases: u64, seed: u64) {
    use domain::certno::CertNo;
    let mut g = Gen::new(seed);

    let credit = vec![
        domain::credit_code::with_check_digit("91410100MA0000000").unwrap(),
        domain::credit_code::with_check_digit("52410105070000000").unwrap(),
    ];
    f.run("credit_code", cases, &mut g, |g| {
        let s = g.text_like(&credit);
        let _ = domain::credit_code::CreditCode::parse(&s);
        s
    });

    let ids = vec![
        domain::id_number::with_check_digit("41010519900101123").unwrap(),
        domain::id_number::with_check_digit("41010220000229002").unwrap(),
    ];
    f.run("id_number", cases, &mut g, |g| {
        let s = g.text_like(&ids);
        if let Ok(id) = domain::id_number::IdNumber::parse(&s) {
            let _ = (id.masked(), id.birth_date(), id.gender());
        }
        s
    });

    let numbers = vec![
        "S000041410105264000001".to_string(),
        "Y000041600001233000095".to_string(),
        "Z00004141010526000001".to_string(),
    ];
    let numbering = domain::policy::Policy::zhengzhou_2022().numbering();
    f.run("cert_number", cases, &mut g, |g| {
        let s = g.text_like(&numbers);
        if let Ok(n) = s.parse::<CertNo>() {
            let _ = (n.kind(), n.site_code(), n.year(), n.level(), n.serial());
        }
        let _ = numbering.validate_any(&s);
        let pattern = g.text_like(&["Z0000{province}{site}{yy}0{serial:6}".to_string()]);
        if let Ok(scheme) = domain::certno::PatternScheme::new(&pattern, "41") {
            let _ = format!("{scheme:?}");
        }
        format!("{s} | {pattern}")
    });

    let (qr, cose, ring) = valid_qr();
    let qr_seeds = vec![qr.clone(), qr.replace('?', "#")];
    f.run("qr_cose", cases, &mut g, |g| {
        let text = g.text_like(&qr_seeds);
        let _ = ring.verify_qr(&text);
        let _ = certsign::parse_qr_text(&text);
        let bytes = if g.rng.gen() {
            g.mutate(&cose)
        } else {
            g.bytes()
        };
        if let Ok(c) = certsign::CoseSign1::parse(&bytes) {
            let _ = certsign::CertificatePayload::from_cbor(&c.payload);
        }
        let _ = certsign::CertificatePayload::from_cbor(&bytes);
        let _ = ring.verify(&bytes);
        let _ = certsign::StatusList::decode(&g.text());
        let _ = certsign::KeyRing::from_json(&g.json().to_string());
        format!("{text} | {}", hex::encode(&bytes))
    });

    let magics: Vec<Vec<u8>> = vec![
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj".to_vec(),
        vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0],
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\x27\0\0\x01\x9d".to_vec(),
        b"PK\x03\x04\x14\0\0\0\x08\0[Content_Types].xml".to_vec(),
        store::demo_certificates::DEMO_PHOTO_PNG[..200].to_vec(),
    ];
    let names = vec![
        "照片.png".to_string(),
        "材料.pdf".to_string(),
        "a.jpeg".to_string(),
    ];
    f.run("upload_sniffing", cases, &mut g, |g| {
        let bytes = if g.rng.gen() {
            let m = &magics[g.rng.gen_range(0..magics.len())];
            g.mutate(m)
        } else {
            g.bytes()
        };
        let name = g.text_like(&names);
        let _ = domain::upload::detect(&bytes);
        let _ = domain::upload::sanitize_filename(&name);
        let _ = domain::upload::extension(&name);
        let _ = domain::upload::check_upload(&name, &bytes, 1 << 20);
        let _ = domain::certissue::check_photo_proportions(&bytes);
        format!("{name} | {}", hex::encode(&bytes))
    });

    let spec = web::evaluation::candidate_spec();
    let rows: Vec<Vec<String>> = (0..3)
        .map(|i| {
            vec![
                format!("考生{i}"),
                "居民身份证".into(),
                ids[0].clone(),
                "男".into(),
                "高中".into(),
                "社会人员".into(),
                "13800000000".into(),
                "4".into(),
            ]
        })
        .collect();
    let xlsx =
        sheets::write_report("考生名单", &web::evaluation::CANDIDATE_HEADERS, &rows).unwrap();
    // xlsx files are costly to parse: a tenth of the cases.
    f.run("xlsx_import", (cases / 10).max(1), &mut g, |g| {
        let bytes = match g.rng.gen_range(0..4) {
            0 => g.bytes(),
            1 => {
                // Random cell text in a well-formed workbook.
                let rows: Vec<Vec<String>> = (0..g.rng.gen_range(0..4))
                    .map(|_| (0..8).map(|_| g.text()).collect())
                    .collect();
                let mut headers: Vec<String> = web::evaluation::CANDIDATE_HEADERS
                    .iter()
                    .map(|h| h.to_string())
                    .collect();
                if g.rng.gen() {
                    let i = g.rng.gen_range(0..headers.len());
                    headers[i] = g.text();
                }
                let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
                sheets::write_report("考生名单", &refs, &rows).unwrap_or_default()
            }
            _ => g.mutate(&xlsx),
        };
        let _ = sheets::read(&spec, &bytes);
        format!("{} bytes", bytes.len())
    });
}

/// Form and JSON extractors over the platform's request types.
async fn body_targets(f: &mut Findings, cases: u64, seed: u64) {
    use axum::extract::FromRequest;
    use web::body::{FormBody, JsonBody};
    if !only("bodies") {
        return;
    }
    let mut g = Gen::new(seed ^ 0xB0D1);
    let t = Instant::now();
    let mut panics = 0;
    for k in 0..cases {
        let json = k % 2 == 0;
        let body = if json {
            if g.rng.gen_ratio(1, 4) {
                g.bytes()
            } else {
                g.json().to_string().into_bytes()
            }
        } else {
            g.form()
        };
        let req = move || {
            axum::http::Request::builder()
                .method("POST")
                .header(
                    "content-type",
                    if json {
                        "application/json"
                    } else {
                        "application/x-www-form-urlencoded"
                    },
                )
                .body(axum::body::Body::from(body.clone()))
                .unwrap()
        };
        // A panic inside an extractor would unwind through this task: run each in its own.
        let r = tokio::spawn(async move {
            if json {
                let _ = JsonBody::<web::api::LoginRequest>::from_request(req(), &()).await;
                let _ =
                    JsonBody::<web::certificates::revoke::ChangeRequest>::from_request(req(), &())
                        .await;
                let _ =
                    JsonBody::<web::certificates::issue::IssueRequest>::from_request(req(), &())
                        .await;
                let _ = JsonBody::<serde_json::Value>::from_request(req(), &()).await;
            } else {
                let _ = FormBody::<web::forms::InstitutionForm>::from_request(req(), &()).await;
                let _ = FormBody::<web::evaluation::PlanForm>::from_request(req(), &()).await;
                let _ = FormBody::<web::evaluation::CandidateForm>::from_request(req(), &()).await;
                let _ = FormBody::<web::evaluation::ScoreForm>::from_request(req(), &()).await;
                let _ =
                    FormBody::<web::registration::RegistrationForm>::from_request(req(), &()).await;
            }
        })
        .await;
        if let Err(e) = r {
            panics += 1;
            f.panics.push(format!("bodies: panic {e}"));
            if panics > 20 {
                break;
            }
        }
    }
    f.ran
        .push(("bodies".into(), cases, t.elapsed().as_secs_f64()));
}

/// Every write route (pages and API) and every page's query string, over HTTP, as an account
/// the route's permission admits: random bodies must never make a 5xx.
async fn http_targets(f: &mut Findings, cases: u64, seed: u64) {
    if !only("http") || cases == 0 {
        return;
    }
    let app = spawn_app().await;
    let accounts = [
        (domain::Role::Admin, "admin"),
        (domain::Role::CityCenter, "center"),
        (domain::Role::CityDivision, "bureau"),
        (domain::Role::District, "district-410105"),
        (domain::Role::Institution, "inst-1"),
        (domain::Role::Expert, "expert-1"),
        (domain::Role::Supervisor, "sup-city-1"),
    ];
    let mut clients = vec![];
    for (role, user) in accounts {
        clients.push((role, app.login(user).await));
    }
    let public = app.client();
    let mut routes: Vec<(Method, String, domain::Action)> = web::page_routes()
        .entries()
        .iter()
        .map(|e| {
            (
                Method::from_bytes(e.method.as_str().as_bytes()).unwrap(),
                e.path.to_string(),
                e.action,
            )
        })
        .collect();
    let doc = serde_json::to_value(web::api::openapi_document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let (Ok(m), Some(action)) = (
                Method::from_bytes(method.to_uppercase().as_bytes()),
                op["x-permission"].as_str().and_then(domain::Action::parse),
            ) else {
                continue;
            };
            routes.push((m, path.clone(), action));
        }
    }
    // Logging out or changing passwords would end the sessions the run needs.
    routes.retain(|(_, p, _)| {
        !p.contains("logout") && !p.contains("password") && !p.contains("/session")
    });
    let mut g = Gen::new(seed ^ 0x4777);
    let t = Instant::now();
    let mut bad = 0;
    let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
    for _ in 0..cases {
        let (method, path, action) = routes[g.rng.gen_range(0..routes.len())].clone();
        let mut url = String::new();
        for seg in path.split('/').skip(1) {
            url.push('/');
            if seg.starts_with('{') {
                match g.rng.gen_range(0..4) {
                    0 => url.push_str(
                        &g.text()
                            .chars()
                            .filter(|c| *c != '/' && *c != '?' && *c != '#')
                            .collect::<String>(),
                    ),
                    _ => url.push_str(&g.rng.gen_range(1..8).to_string()),
                }
            } else {
                url.push_str(seg);
            }
        }
        if method == Method::GET {
            url.push('?');
            url.push_str(&String::from_utf8_lossy(&g.form()));
        }
        let client = clients
            .iter()
            .filter(|(r, _)| action.roles().contains(r))
            .map(|(_, c)| c)
            .next()
            .unwrap_or(&public);
        let mut req = client.request(method.clone(), app.url(&url));
        if method != Method::GET {
            req = if path.starts_with("/api/") {
                let body = if g.rng.gen_ratio(1, 5) {
                    g.bytes()
                } else {
                    g.json().to_string().into_bytes()
                };
                req.header("content-type", "application/json").body(body)
            } else {
                req.header("content-type", "application/x-www-form-urlencoded")
                    .body(g.form())
            };
        }
        let sent = req.send().await;
        if let Ok(r) = &sent {
            *statuses.entry(r.status().as_u16()).or_default() += 1;
        }
        match sent {
            Ok(r) if r.status().is_server_error() => {
                bad += 1;
                f.panics
                    .push(format!("http: {method} {url} answered {}", r.status()));
            }
            Ok(_) => {}
            Err(e) if e.is_builder() => {} // a URL reqwest itself refuses
            Err(e) => {
                bad += 1;
                f.panics.push(format!("http: {method} {url}: {e}"));
            }
        }
        if bad > 20 {
            break;
        }
    }
    eprintln!("fuzz http statuses: {statuses:?}");
    f.ran
        .push(("http".into(), cases, t.elapsed().as_secs_f64()));
}

#[tokio::test]
async fn fuzz_parsers_short() {
    let cases = env_u64("FUZZ_CASES").unwrap_or(20_000);
    let http = env_u64("FUZZ_HTTP_CASES").unwrap_or(2_000);
    let seed = env_u64("FUZZ_SEED").unwrap_or(0x5EED_2026);
    let mut f = Findings::default();
    parser_targets(&mut f, cases, seed);
    body_targets(&mut f, cases, seed).await;
    http_targets(&mut f, http, seed).await;
    for (t, n, s) in &f.ran {
        eprintln!("fuzz {t}: {n} cases in {s:.1} s");
    }
    assert!(
        f.panics.is_empty(),
        "{} failures (seed {seed}):\n{}",
        f.panics.len(),
        f.panics.join("\n")
    );
}
