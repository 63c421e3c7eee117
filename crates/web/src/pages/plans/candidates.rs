//! 考生与成绩：名单、录入、导入、完整证件号码、成绩、公示与报送。

use super::*;

pub(super) async fn candidates(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let (p, page) = ev::views::candidates(
        &state,
        &me,
        id,
        q.q.as_deref(),
        PageRequest::new(q.page, None),
    )
    .await?;
    let inst = me.role() == Role::Institution;
    let rows = page
        .items
        .iter()
        .map(|c| {
            let sc = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_else(|| "—".into());
            vec![
                Cell::new(&c.name),
                Cell::new(&c.id_type),
                Cell::link(
                    &c.id_masked,
                    format!("/plans/{id}/candidates/{}/id-number", c.id),
                )
                .class("mono"),
                Cell::new(&c.gender),
                Cell::new(c.level.to_string()),
                Cell::new(&c.dup_flag).class(if c.dup_flag.is_empty() { "" } else { "warn" }),
                Cell::new(sc(c.theory_score)),
                Cell::new(sc(c.skill_score)),
                Cell::new(sc(c.review_score)),
                match (inst, c.passed) {
                    (true, p) => Cell::link(
                        match p {
                            Some(true) => "合格",
                            Some(false) => "不合格",
                            None => "录入成绩",
                        },
                        format!("/plans/{id}/candidates/{}/score", c.id),
                    ),
                    (false, Some(true)) => Cell::new("合格"),
                    (false, Some(false)) => Cell::new("不合格"),
                    (false, None) => Cell::new("—"),
                },
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "考生与成绩", "/plans").with_flash(flash(q.msg.as_deref())),
        heading: format!("考生与成绩：{}", p.plan_no),
        intro: "证件号码已脱敏；点击可查看完整号码（每次查看均记入审计日志）。各科成绩≥60分为合格，综合评审仅适用于二级、一级。".into(),
        new_link: inst.then(|| (format!("/plans/{id}/candidates/import"), "新增/导入考生".to_string())),
        filters: vec![Field::text("q", "姓名或电话", q.q.clone().unwrap_or_default())],
        filter_action: format!("/plans/{id}/candidates"),
        headers: vec!["姓名", "证件类型", "证件号码", "性别", "等级", "重复提示", "理论", "技能", "综合评审", "结果"],
        rows,
        pager: Pager::from(&page),
        base: list_base(&format!("/plans/{id}/candidates"), &[("q", &q.q)]),
        empty: "尚无考生。",
        printable: true,
    }))
}

pub(super) fn candidate_page(
    state: &AppState,
    me: &Authed,
    id: i64,
    f: &CandidateForm,
    error: Option<(String, String)>,
) -> FormPage {
    let mut fields = vec![
        Field::text("name", "姓名", &f.name).required(),
        Field::text("id_type", "证件类型", &f.id_type)
            .select(
                ev::ID_TYPES
                    .iter()
                    .map(|t| (t.to_string(), t.to_string()))
                    .collect(),
            )
            .required(),
        Field::text("id_number", "证件号码", &f.id_number).required(),
        Field::text("gender", "性别", &f.gender)
            .select(vec![("男".into(), "男".into()), ("女".into(), "女".into())])
            .required(),
        Field::text("education", "文化程度", &f.education),
        Field::text("source", "考生来源", &f.source),
        Field::text("phone", "联系电话", &f.phone).kind("tel"),
        Field::text("level", "申报等级", &f.level)
            .hint("1–5，须为本计划的等级")
            .required(),
    ];
    let mut top = None;
    if let Some((field, msg)) = error {
        top = attach_error(&mut fields, &field, msg);
    }
    FormPage {
        layout: Layout::new(state, Some(me), "新增考生", "/plans"),
        heading: "新增考生".into(),
        crumbs: vec![
            ("/plans".into(), "评价工作计划".into()),
            (format!("/plans/{id}/candidates"), "考生与成绩".into()),
        ],
        intro: String::new(),
        action: format!("/plans/{id}/candidates"),
        fields,
        error: top,
        submit: "保存",
        cancel: format!("/plans/{id}/candidates"),
        confirm: None,
    }
}

pub(super) async fn candidate_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    ev::views::entry_plan(&state, &me, id).await?;
    Ok(render(&candidate_page(
        &state,
        &me,
        id,
        &CandidateForm::default(),
        None,
    )))
}

pub(super) async fn add_candidate(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<CandidateForm>,
) -> Result<Response, AppError> {
    match ev::add_candidate(&state, &me, id, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/plans/{id}/candidates?msg=saved")).into_response()),
        Err(e) => {
            let (status, err) = split_error(e)?;
            Ok(render_status(
                status,
                &candidate_page(&state, &me, id, &f, Some(err)),
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "plan_import.html")]
pub(super) struct ImportPage {
    pub(super) layout: Layout,
    pub(super) plan_id: i64,
    pub(super) plan_no: String,
    pub(super) error: Option<String>,
    pub(super) rows: Vec<ev::RowError>,
}

pub(super) async fn import_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = ev::views::entry_plan(&state, &me, id).await?;
    Ok(render(&ImportPage {
        layout: Layout::new(&state, Some(&me), "导入考生", "/plans"),
        plan_id: p.id,
        plan_no: p.plan_no,
        error: None,
        rows: vec![],
    }))
}

pub(super) async fn read_upload(
    state: &AppState,
    mp: Multipart,
    field: &str,
) -> Result<UploadedFile, AppError> {
    let parts = crate::upload::read_upload(mp, state.config.max_upload_bytes).await?;
    let f = parts
        .into_iter()
        .find(|p| p.field == field && p.is_file() && !p.bytes.is_empty())
        .ok_or_else(|| AppError::invalid(field, "请选择要上传的文件"))?;
    Ok(UploadedFile {
        name: f.filename,
        content_type: String::new(),
        bytes: f.bytes,
    })
}

pub(super) async fn import(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Result<Response, AppError> {
    let p = ev::views::entry_plan(&state, &me, id).await?;
    let file = read_upload(&state, mp, "file").await?;
    let page = |error: Option<String>, rows: Vec<ev::RowError>| ImportPage {
        layout: Layout::new(&state, Some(&me), "导入考生", "/plans"),
        plan_id: p.id,
        plan_no: p.plan_no.clone(),
        error,
        rows,
    };
    match ev::start_candidate_import(&state, &me, id, file.bytes.into()).await {
        Ok(ImportStart::Done { .. }) => {
            Ok(Redirect::to(&format!("/plans/{id}/candidates?msg=imported")).into_response())
        }
        Ok(ImportStart::Failed(rows)) => {
            // Keep the report downloadable: store it as a finished job.
            let msg = format!(
                "发现{}处错误，全部数据未导入。请修正后重新上传。",
                rows.len()
            );
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page(Some(msg), rows),
            ))
        }
        Ok(ImportStart::Background(job)) => {
            Ok(Redirect::to(&format!("/jobs/{job}")).into_response())
        }
        Err(AppError::Invalid { message, .. }) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(Some(message), vec![]),
        )),
        Err(e) => Err(e),
    }
}

pub(super) async fn import_scores(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Result<Response, AppError> {
    let p = ev::views::entry_plan(&state, &me, id).await?;
    let file = read_upload(&state, mp, "file").await?;
    let page = |error: String, rows: Vec<ev::RowError>| ImportPage {
        layout: Layout::new(&state, Some(&me), "导入成绩", "/plans"),
        plan_id: p.id,
        plan_no: p.plan_no.clone(),
        error: Some(error),
        rows,
    };
    match ev::import_scores(&state, &me, id, &file.bytes).await {
        Ok(Ok(_)) => Ok(Redirect::to(&format!("/plans/{id}/candidates?msg=saved")).into_response()),
        Ok(Err(rows)) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(format!("发现{}处错误，全部成绩未导入。", rows.len()), rows),
        )),
        Err(AppError::Invalid { message, .. }) | Err(AppError::Conflict(message)) => Ok(
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page(message, vec![])),
        ),
        Err(e) => Err(e),
    }
}

pub(super) async fn full_id(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cid)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let p = ev::views::plan(&state, &me, id).await?;
    let n = ev::views::candidate_id_number(&state, &me, cid).await?;
    Ok(render(&DetailPage {
        layout: Layout::new(&state, Some(&me), "证件号码", "/plans"),
        heading: "完整证件号码".into(),
        crumbs: vec![(
            format!("/plans/{id}/candidates"),
            format!("考生与成绩：{}", p.plan_no),
        )],
        props: vec![("证件号码", n), ("说明", "本次查看已记入审计日志。".into())],
        links: vec![],
        buttons: vec![],
        sections: vec![],
    }))
}

pub(super) fn score_page(
    state: &AppState,
    me: &Authed,
    id: i64,
    c: &store::Candidate,
    f: &ScoreForm,
    error: Option<(String, String)>,
) -> FormPage {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let mut fields = vec![
        Field::text("theory", "理论", v(&f.theory)).kind("number"),
        Field::text("skill", "技能", v(&f.skill)).kind("number"),
        Field::text("review", "综合评审", v(&f.review))
            .kind("number")
            .hint("仅二级、一级填写"),
    ];
    let mut top = None;
    if let Some((field, msg)) = error {
        let field = field.trim_end_matches("_score").to_string();
        top = attach_error(&mut fields, &field, msg);
    }
    FormPage {
        layout: Layout::new(state, Some(me), "录入成绩", "/plans"),
        heading: format!("录入成绩：{}（{}，{}级）", c.name, c.id_masked, c.level),
        crumbs: vec![(format!("/plans/{id}/candidates"), "考生与成绩".into())],
        intro: "百分制，各项≥60分为合格。".into(),
        action: format!("/plans/{id}/candidates/{}/score", c.id),
        fields,
        error: top,
        submit: "保存成绩",
        cancel: format!("/plans/{id}/candidates"),
        confirm: None,
    }
}

pub(super) async fn score_form(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cid)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let (_, c) = ev::views::candidate(&state, &me, id, cid).await?;
    let s = |v: Option<i64>| v.map(|x| x.to_string());
    let f = ScoreForm {
        theory: s(c.theory_score),
        skill: s(c.skill_score),
        review: s(c.review_score),
    };
    Ok(render(&score_page(&state, &me, id, &c, &f, None)))
}

pub(super) async fn score(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cid)): Path<(i64, i64)>,
    FormBody(f): FormBody<ScoreForm>,
) -> Result<Response, AppError> {
    match ev::save_score(&state, &me, id, cid, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/plans/{id}/candidates?msg=saved")).into_response()),
        Err(e) => {
            let (status, err) = split_error(e)?;
            let (_, c) = ev::views::candidate(&state, &me, id, cid).await?;
            Ok(render_status(
                status,
                &score_page(&state, &me, id, &c, &f, Some(err)),
            ))
        }
    }
}

pub(super) async fn results_action(
    State(state): State<AppState>,
    me: Authed,
    Path((id, what)): Path<(i64, String)>,
    FormBody(f): FormBody<ActForm>,
) -> Result<Response, AppError> {
    let version = f.version.as_deref().and_then(|v| v.trim().parse().ok());
    match what.as_str() {
        "publish" => ev::publish_results(&state, &me, id, version).await?,
        "submit" => ev::submit_results(&state, &me, id, version).await?,
        _ => return Err(AppError::NotFound),
    };
    Ok(Redirect::to(&format!("/plans/{id}?msg=done")).into_response())
}

// -- electronic filing ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "efiling.html")]
pub(super) struct EfilingPage {
    pub(super) layout: Layout,
    pub(super) status_label: String,
    pub(super) may_upload: bool,
    pub(super) file: Option<(String, String, String)>,
    pub(super) reason: String,
    pub(super) error: Option<String>,
}
