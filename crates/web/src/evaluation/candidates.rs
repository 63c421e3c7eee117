//! 考生: the candidate and score templates, one candidate, photos and the background import.

use super::*;

pub const CANDIDATE_HEADERS: [&str; 8] = [
    "姓名",
    "证件类型",
    "证件号码",
    "性别",
    "文化程度",
    "考生来源",
    "联系电话",
    "申报等级",
];

/// The candidate template (crates/sheets): headers, hints and an example in 填写说明.
pub fn candidate_spec() -> sheets::SheetSpec {
    use sheets::Column;
    sheets::SheetSpec {
        title: "考生名单",
        columns: vec![
            Column::new("name", "姓名").required().example("张三"),
            Column::new("id_type", "证件类型")
                .hint("居民身份证、港澳台居民居住证、护照或其他；留空视为居民身份证")
                .example("居民身份证"),
            Column::new("id_number", "证件号码")
                .required()
                .hint("居民身份证须为18位并通过校验位检查（GB 11643）；请设为文本格式")
                .example("11010519491231002X"),
            Column::new("gender", "性别")
                .required()
                .hint("男或女，须与身份证号码一致")
                .example("女"),
            Column::new("education", "文化程度").example("高中"),
            Column::new("source", "考生来源").example("社会人员"),
            Column::new("phone", "联系电话")
                .hint("11位手机号码")
                .example("13800000000"),
            Column::new("level", "申报等级")
                .required()
                .hint("1至5（五级/初级工为5），须为本计划的等级")
                .example("4"),
        ],
        instructions: vec![
            "一行一名考生，不要修改表头；导入为“全部成功或全部不导入”。",
            "同一人在本计划中重复会被拒绝；已持有同职业同等级证书的考生会被标注。",
        ],
    }
}

/// The score template.
pub fn score_spec() -> sheets::SheetSpec {
    use sheets::Column;
    sheets::SheetSpec {
        title: "成绩",
        columns: vec![
            Column::new("name", "姓名"),
            Column::new("id_number", "证件号码").required(),
            Column::new("theory", "理论").hint("0至100的整数"),
            Column::new("skill", "技能").hint("0至100的整数"),
            Column::new("review", "综合评审").hint("仅二级、一级填写"),
        ],
        instructions: vec!["各项≥60分为合格；导入为“全部成功或全部不导入”。"],
    }
}
pub const ID_TYPES: [&str; 4] = ["居民身份证", "港澳台居民居住证", "护照", "其他"];

/// One candidate as entered in a form or a row of the template.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CandidateForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_type: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub gender: String,
    #[serde(default)]
    pub education: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub phone: String,
    /// 1..5 or "四级".
    #[serde(default)]
    pub level: String,
}

impl CandidateForm {
    pub fn from_row(r: &sheets::SheetRow) -> CandidateForm {
        let g = |k: &str| r.get(k).to_string();
        CandidateForm {
            name: g("name"),
            id_type: g("id_type"),
            id_number: g("id_number"),
            gender: g("gender"),
            education: g("education"),
            source: g("source"),
            phone: g("phone"),
            level: g("level"),
        }
    }
}

fn parse_level(s: &str) -> Option<Level> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u8>() {
        return Level::from_u8(n);
    }
    Level::ALL
        .into_iter()
        .find(|l| l.name() == s || l.name().starts_with(s) || l.name().split('/').any(|x| x == s))
}

/// Validate one candidate against the plan's levels.
pub fn validate_candidate(
    f: &CandidateForm,
    plan_levels: &[Level],
) -> Result<NewCandidate, domain::FieldError> {
    use domain::FieldError as E;
    let name = f.name.trim();
    let n = name.chars().count();
    if n == 0 || n > 50 {
        return Err(E::new("name", "请填写考生姓名（不超过50字）"));
    }
    let id_type = if f.id_type.trim().is_empty() {
        "居民身份证"
    } else {
        f.id_type.trim()
    };
    if !ID_TYPES.contains(&id_type) {
        return Err(E::new(
            "id_type",
            format!("证件类型“{id_type}”无效，应为{}", ID_TYPES.join("、")),
        ));
    }
    let gender = f.gender.trim();
    if !matches!(gender, "男" | "女") {
        return Err(E::new("gender", "性别应为“男”或“女”"));
    }
    let (id_number, id_masked) = if id_type == "居民身份证" {
        let id = IdNumber::parse(&f.id_number).map_err(|e| E::new("id_number", e.to_string()))?;
        if id.gender().name() != gender {
            return Err(E::new(
                "gender",
                format!("性别与身份证号码不符（号码显示为{}）", id.gender().name()),
            ));
        }
        (id.as_str().to_string(), id.masked())
    } else {
        let s = f.id_number.trim().to_uppercase();
        let ok =
            (5..=30).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return Err(E::new("id_number", "证件号码应为5至30位字母或数字"));
        }
        let masked = format!("{}****{}", &s[..2], &s[s.len() - 2..]);
        (s, masked)
    };
    let phone = f.phone.trim();
    if !phone.is_empty()
        && !(phone.len() == 11
            && phone.starts_with('1')
            && phone.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(E::new("phone", "联系电话应为11位手机号码"));
    }
    let level = parse_level(&f.level).ok_or_else(|| E::new("level", "申报等级应为1至5"))?;
    if !plan_levels.contains(&level) {
        return Err(E::new(
            "level",
            format!("本计划不含{}，不能报名该等级", level.name()),
        ));
    }
    if f.education.trim().chars().count() > 20 || f.source.trim().chars().count() > 50 {
        return Err(E::new("education", "文化程度或考生来源过长"));
    }
    Ok(NewCandidate {
        name: name.to_string(),
        id_type: id_type.to_string(),
        id_number,
        id_masked,
        gender: gender.to_string(),
        education: f.education.trim().to_string(),
        source: f.source.trim().to_string(),
        phone: phone.to_string(),
        level: level.number() as i64,
    })
}

/// A problem in one row of an import (row = spreadsheet row number, header = 1).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

pub const ROW_ERROR_HEADERS: [&str; 3] = ["行号", "字段", "问题"];

/// Plans of an evaluation that may take candidates: city-confirmed, results not yet published.
async fn plan_for_evaluation(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
) -> Result<Plan, AppError> {
    me.may(Action::CandidateEnter)?;
    let p = state.store.plan(&me.scope(), plan_id).await?;
    check_evaluation_may_start(p.status()).map_err(refused)?;
    if p.results_status != domain::plan::ResultsStatus::None {
        return Err(AppError::Conflict("成绩已公示，考生名单不能再变更".into()));
    }
    Ok(p)
}

pub async fn add_candidate(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    f: &CandidateForm,
) -> Result<String, AppError> {
    let p = plan_for_evaluation(state, me, plan_id).await?;
    let c = validate_candidate(f, &p.levels())?;
    let hash = state.store.id_hash(&c.id_number)?;
    if state
        .store
        .plan_candidate_hashes(p.id)
        .await?
        .contains(&hash)
    {
        return Err(AppError::invalid(
            "id_number",
            "该考生已在本计划中（同一人不能重复报名）",
        ));
    }
    let certified = state
        .store
        .certified_hashes(&p.occupation_code, &[c.level])
        .await?;
    let flag = if certified.contains(&(hash, c.level)) {
        "已持有同职业同等级证书".to_string()
    } else {
        String::new()
    };
    state
        .store
        .add_candidates(&me.actor(), &p, &[c], std::slice::from_ref(&flag), "form")
        .await?;
    Ok(flag)
}

/// Attach an optional photo (JPEG/PNG) to a candidate.
pub async fn candidate_photo(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    candidate_id: i64,
    file: &UploadedFile,
) -> Result<i64, AppError> {
    let p = plan_for_evaluation(state, me, plan_id).await?;
    state
        .store
        .set_candidate_photo(&me.actor(), &p, candidate_id, file)
        .await
        .map_err(|e| match e {
            store::StoreError::Invalid(m) => AppError::invalid("photo", m),
            other => other.into(),
        })
}

/// Rows above this run as a background job with progress; below, the answer is immediate.
pub const BACKGROUND_ROWS: usize = 2_000;
pub const MAX_IMPORT_ROWS: usize = 200_000;

/// One row's verdict before the per-chunk database checks.
type Checked = Result<(NewCandidate, String), RowError>;

/// The first 128 bits of an ID hash (hex): the key of the in-file duplicate check, 16 bytes a
/// row instead of a 64-character string (a collision among 200,000 rows: ≈ 2⁻⁹³).
fn hash_key(h: &str) -> u128 {
    h.get(..32)
        .and_then(|p| u128::from_str_radix(p, 16).ok())
        .unwrap_or_default()
}

/// Import the rows of a workbook chunk by chunk as they are read: validate, check duplicates
/// (in the file, in the plan, certificates already held: one query per chunk), insert. All or
/// nothing: the rows go into one transaction, opened at the first valid chunk and committed at
/// the end; the first error rolls it back and the rest of the file is only checked, for a
/// per-row report (at most 1,000 errors).
pub async fn run_candidate_import(
    state: &AppState,
    actor: &store::Actor,
    p: &Plan,
    mut rows: crate::imports::RowStream,
    progress: Option<&crate::jobs::Progress>,
) -> Result<(usize, usize), Vec<RowError>> {
    let levels = p.levels();
    let store = &state.store;
    let mut errors: Vec<RowError> = vec![];
    // Rows of the file seen so far, by ID hash: the row number of the first occurrence.
    let mut seen: HashMap<u128, usize> = HashMap::new();
    let mut import: Option<store::CandidateImport> = None;
    let (mut done, mut flagged) = (0usize, 0usize);
    // Where the time goes (logged at debug): waiting for the reader, checking rows, the
    // duplicate queries, the inserts.
    let mut times = [std::time::Duration::ZERO; 4];
    let mut t = std::time::Instant::now();
    let mut lap = |i: usize, times: &mut [std::time::Duration; 4]| {
        times[i] += t.elapsed();
        t = std::time::Instant::now();
    };
    'chunks: while let Some(chunk) = rows.next_chunk().await {
        lap(0, &mut times);
        let chunk = chunk.map_err(|e| {
            vec![RowError {
                row: 0,
                field: String::new(),
                message: e.to_string(),
            }]
        })?;
        done += chunk.len();
        let checked: Vec<(usize, Checked)> = chunk
            .iter()
            .map(|r| {
                let row = r.row as usize;
                let v = match validate_candidate(&CandidateForm::from_row(r), &levels) {
                    Ok(c) => match store.id_hash(&c.id_number) {
                        Ok(h) => Ok((c, h)),
                        Err(e) => return Err(internal_row(e)),
                    },
                    Err(e) => Err(RowError {
                        row,
                        field: field_label(e.field).into(),
                        message: e.message,
                    }),
                };
                Ok((row, v))
            })
            .collect::<Result<_, RowError>>()
            .map_err(|e| vec![e])?;
        drop(chunk);
        lap(1, &mut times);
        let hashes: Vec<String> = checked
            .iter()
            .filter_map(|(_, v)| v.as_ref().ok().map(|(_, h)| h.clone()))
            .collect();
        let (in_plan, certified) = store
            .known_hashes(p, &hashes)
            .await
            .map_err(|e| vec![internal_row(e)])?;
        lap(2, &mut times);
        let mut list = Vec::with_capacity(hashes.len());
        let mut hashes = Vec::with_capacity(hashes.len());
        let mut flags = Vec::with_capacity(hashes.len());
        for (row, v) in checked {
            match v {
                Ok((c, h)) => {
                    let key = hash_key(&h);
                    if let Some(first) = seen.get(&key) {
                        errors.push(RowError {
                            row,
                            field: "证件号码".into(),
                            message: format!("与第{first}行为同一考生（同一人在本计划中重复）"),
                        });
                    } else if in_plan.contains(&h) {
                        errors.push(RowError {
                            row,
                            field: "证件号码".into(),
                            message: "该考生已在本计划中".into(),
                        });
                    } else {
                        seen.insert(key, row);
                        flags.push(if certified.contains(&(h.clone(), c.level)) {
                            "已持有同职业同等级证书".to_string()
                        } else {
                            String::new()
                        });
                        list.push(c);
                        hashes.push(h);
                    }
                }
                Err(e) => errors.push(e),
            }
            if errors.len() >= 1000 {
                errors.push(RowError {
                    row: 0,
                    field: String::new(),
                    message: "错误超过1000处，已停止检查，请修正后重新导入".into(),
                });
                break 'chunks;
            }
        }
        if errors.is_empty() {
            if import.is_none() {
                let tx = store.begin_candidate_import(p).await;
                import = Some(tx.map_err(|e| vec![internal_row(e)])?);
            }
            if let Some(tx) = import.as_mut() {
                tx.insert(&list, &hashes, &flags)
                    .await
                    .map_err(|e| vec![internal_row(e)])?;
            }
            flagged += flags.iter().filter(|f| !f.is_empty()).count();
            lap(3, &mut times);
        } else {
            // Nothing of this file will be kept: give the database back at once.
            import = None;
        }
        if let Some(pr) = progress {
            let msg = if errors.is_empty() {
                "正在导入"
            } else {
                "发现错误，正在检查其余各行"
            };
            pr.set(done as i64, rows.declared_rows().max(done) as i64, msg)
                .await;
        }
    }
    tracing::debug!(
        plan = p.id,
        rows = done,
        errors = errors.len(),
        wait_s = times[0].as_secs_f64(),
        check_s = times[1].as_secs_f64(),
        query_s = times[2].as_secs_f64(),
        insert_s = times[3].as_secs_f64(),
        "candidate import"
    );
    if !errors.is_empty() {
        return Err(errors);
    }
    let Some(import) = import else {
        return Err(vec![RowError {
            row: 0,
            field: String::new(),
            message: "模板中没有考生数据".into(),
        }]);
    };
    // A job ends in the import's own transaction: a crash after the commit never leaves the
    // rows imported under a job that looks interrupted.
    let done = progress.map(|pr| {
        let o = import_outcome(p.id, import.count(), flagged);
        store::JobDone {
            job_id: pr.job_id(),
            message: o.message,
            result: serde_json::Value::Object(o.result),
        }
    });
    let n = import
        .commit(actor, "xlsx", done.as_ref())
        .await
        .map_err(|e| vec![internal_row(e)])?;
    Ok((n, flagged))
}

/// How a background candidate import that saved `n` rows (`flagged` of them flagged) ends.
fn import_outcome(plan_id: i64, n: usize, flagged: usize) -> crate::jobs::JobOutcome {
    crate::jobs::JobOutcome::new(format!(
        "已导入{n}名考生（{flagged}名已持有同职业同等级证书，已标注）"
    ))
    .link(format!("/plans/{plan_id}/candidates"))
    .with("imported", n as i64)
    .with("flagged", flagged as i64)
}

fn internal_row(e: store::StoreError) -> RowError {
    RowError {
        row: 0,
        field: String::new(),
        message: match e {
            store::StoreError::Duplicate(m) | store::StoreError::Invalid(m) => m,
            other => {
                tracing::error!(error = %other, "candidate import");
                "导入失败，全部数据未导入，请稍后重试".into()
            }
        },
    }
}

pub(super) fn field_label(f: &str) -> &'static str {
    match f {
        "name" => "姓名",
        "id_type" => "证件类型",
        "id_number" => "证件号码",
        "gender" => "性别",
        "education" => "文化程度",
        "phone" => "联系电话",
        "level" => "申报等级",
        "theory_score" => "理论",
        "skill_score" => "技能",
        "review_score" => "综合评审",
        _ => "其他",
    }
}

/// What an import request answers.
pub enum ImportStart {
    Done {
        imported: usize,
        flagged: usize,
    },
    Failed(Vec<RowError>),
    /// A background job (crate::jobs): progress at /jobs/{id} and GET /api/v1/jobs/{id}.
    Background(i64),
}

pub async fn start_candidate_import(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    bytes: axum::body::Bytes,
) -> Result<ImportStart, AppError> {
    let p = plan_for_evaluation(state, me, plan_id).await?;
    let invalid = |e: sheets::SheetError| AppError::invalid("file", e.to_string());
    let mut rows = crate::imports::stream_sheet(&candidate_spec(), bytes, MAX_IMPORT_ROWS)
        .await
        .map_err(invalid)?;
    // The first rows decide: a file that ends within BACKGROUND_ROWS is imported at once, a
    // longer one by a background job that reads on from there.
    let (held, ended) = rows.read_ahead(BACKGROUND_ROWS).await.map_err(invalid)?;
    if held == 0 {
        return Err(AppError::invalid("file", "模板中没有考生数据"));
    }
    if ended && held < BACKGROUND_ROWS {
        return Ok(
            match run_candidate_import(state, &me.actor(), &p, rows, None).await {
                Ok((imported, flagged)) => ImportStart::Done { imported, flagged },
                Err(errors) => ImportStart::Failed(errors),
            },
        );
    }
    let st = state.clone();
    let actor = me.actor();
    let job = crate::jobs::spawn_job(
        &state.store,
        &me.actor(),
        "candidate_import",
        Some(p.institution_id),
        move |progress| async move {
            match run_candidate_import(&st, &actor, &p, rows, Some(&progress)).await {
                Ok((n, f)) => Ok(import_outcome(p.id, n, f)),
                Err(errors) => {
                    let mut out = crate::jobs::JobOutcome::new(format!(
                        "发现{}处错误，全部数据未导入",
                        errors.len()
                    ))
                    .with("errors", errors.len() as i64);
                    // The per-row report becomes a document of the plan, downloadable from the job page.
                    if let Ok(bytes) = error_report_xlsx(&errors) {
                        let doc = st
                            .store
                            .add_document(
                                &actor,
                                store::NewDocument {
                                    owner_type: "plan".into(),
                                    owner_id: p.id,
                                    institution_id: Some(p.institution_id),
                                    district_code: Some(p.district_code.clone()),
                                    kind: "import_report".into(),
                                    filename: "考生导入错误报告.xlsx".into(),
                                    retention_until: None,
                                },
                                &bytes,
                            )
                            .await;
                        if let Ok(d) = doc {
                            out = out.report_url(format!("/documents/{}", d.id));
                        }
                    }
                    Err(out)
                }
            }
        },
    )
    .await?;
    Ok(ImportStart::Background(job))
}

pub fn error_report_xlsx(errors: &[RowError]) -> Result<Vec<u8>, AppError> {
    let rows: Vec<Vec<String>> = errors
        .iter()
        .map(|e| {
            vec![
                if e.row == 0 {
                    "-".into()
                } else {
                    e.row.to_string()
                },
                e.field.clone(),
                e.message.clone(),
            ]
        })
        .collect();
    sheets::write_report("错误报告", &ROW_ERROR_HEADERS, &rows)
        .map_err(|e| AppError::Internal(e.to_string()))
}

pub fn candidate_template() -> Result<Vec<u8>, AppError> {
    sheets::template(&candidate_spec()).map_err(|e| AppError::Internal(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
