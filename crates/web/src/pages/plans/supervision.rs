//! 督导：选派、责任书（页面与 PDF）、签署、督导报告；督导回避关系。

use super::*;

pub(super) async fn assign(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<AssignForm>,
) -> Result<Response, AppError> {
    ev::assign_supervisor(&state, &me, id, f.supervisor_id).await?;
    Ok(Redirect::to(&format!("/plans/{id}?msg=assigned")).into_response())
}

#[derive(Template)]
#[template(path = "plan_letter.html")]
pub(super) struct LetterPage {
    pub(super) layout: Layout,
    pub(super) plan_id: i64,
    pub(super) plan_no: String,
    pub(super) body: Option<String>,
    pub(super) sha256: String,
    pub(super) signatures: Vec<(String, String, String, String)>,
    pub(super) valid: bool,
    pub(super) validity: String,
    pub(super) may_sign: bool,
}

pub(super) async fn letter(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let (p, sup) = ev::views::plan_supervision(&state, &me, id).await?;
    let signed_by_me = sup.signatures.iter().any(|s| s.signer_id == me.account.id)
        || (me.role() == Role::Institution
            && sup.signatures.iter().any(|s| s.party == "institution"));
    let may_sign = sup.letter.is_some()
        && !signed_by_me
        && (me.role() == Role::Institution
            || sup
                .assignments
                .iter()
                .any(|a| a.supervisor_id == me.account.id));
    Ok(render(&LetterPage {
        layout: Layout::new(&state, Some(&me), "督导责任书", "/plans")
            .with_flash(flash(q.msg.as_deref())),
        plan_id: p.id,
        plan_no: p.plan_no.clone(),
        body: sup.letter.as_ref().map(|l| l.body.clone()),
        sha256: sup
            .letter
            .as_ref()
            .map(|l| l.sha256.clone())
            .unwrap_or_default(),
        signatures: sup
            .signatures
            .iter()
            .map(|s| {
                (
                    Party::parse(&s.party)
                        .map(|p| p.label())
                        .unwrap_or("")
                        .to_string(),
                    s.signer_name.clone(),
                    beijing_time(&s.signed_at),
                    format!("{} {}…", s.algorithm, &s.signature[..16]),
                )
            })
            .collect(),
        valid: sup.evaluation_valid,
        validity: sup.validity,
        may_sign,
    }))
}

/// The 督导责任书 as an A4 PDF: the signed canonical text, its SHA-256 and the signatures so far.
pub(super) async fn letter_pdf(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (p, sup) = ev::views::plan_supervision(&state, &me, id).await?;
    let letter = sup.letter.as_ref().ok_or(AppError::NotFound)?;
    let mut body = letter.body.clone();
    body.push_str("\n\n三方签字：\n");
    if sup.signatures.is_empty() {
        body.push_str("（尚无签字）\n");
    }
    for s in &sup.signatures {
        let party = Party::parse(&s.party).map(|p| p.label()).unwrap_or("");
        body.push_str(&format!(
            "{party}：{}，{}，{} 签名 {}\n",
            s.signer_name,
            beijing_time(&s.signed_at),
            s.algorithm,
            s.signature
        ));
    }
    body.push_str(&format!("\n{}", sup.validity));
    let pdf = certpdf::text_document(
        "督导责任书",
        &body,
        &format!("{} 文书摘要 SHA-256 {}", p.plan_no, letter.sha256),
    );
    Ok(crate::upload::send_bytes(
        &format!("督导责任书-{}.pdf", p.plan_no),
        "application/pdf",
        pdf,
    ))
}

pub(super) async fn sign(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    ev::sign_letter(&state, &me, id).await?;
    Ok(Redirect::to(&format!("/plans/{id}/letter?msg=signed")).into_response())
}

pub(super) async fn report_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = ev::views::report_plan(&state, &me, id).await?;
    Ok(render(&report_page(&state, &me, &p, None, String::new())))
}

#[derive(Template)]
#[template(path = "plan_report.html")]
pub(super) struct ReportPage {
    pub(super) layout: Layout,
    pub(super) plan_id: i64,
    pub(super) plan_no: String,
    pub(super) error: Option<String>,
    pub(super) body: String,
}

pub(super) fn report_page(
    state: &AppState,
    me: &Authed,
    p: &store::Plan,
    error: Option<String>,
    body: String,
) -> ReportPage {
    ReportPage {
        layout: Layout::new(state, Some(me), "督导报告", "/plans"),
        plan_id: p.id,
        plan_no: p.plan_no.clone(),
        error,
        body,
    }
}

pub(super) async fn report(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Result<Response, AppError> {
    let p = ev::views::report_plan(&state, &me, id).await?;
    let parts = crate::upload::read_upload(mp, state.config.max_upload_bytes).await?;
    let body = crate::upload::text_field(&parts, "body").unwrap_or_default();
    let file = parts
        .into_iter()
        .find(|f| f.field == "attachment" && f.is_file() && !f.bytes.is_empty())
        .map(|f| UploadedFile {
            name: f.filename,
            content_type: String::new(),
            bytes: f.bytes,
        });
    match ev::file_report(&state, &me, id, &body, file.as_ref()).await {
        Ok(()) => Ok(Redirect::to(&format!("/plans/{id}?msg=done")).into_response()),
        Err(AppError::Invalid { message, .. }) | Err(AppError::Conflict(message)) => {
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &report_page(&state, &me, &p, Some(message), body),
            ))
        }
        Err(AppError::BadRequest(message)) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &report_page(&state, &me, &p, Some(message), body),
        )),
        Err(e) => Err(e),
    }
}

pub(super) async fn relations(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let page =
        ev::views::relations(&state, &me, q.q.as_deref(), PageRequest::new(q.page, None)).await?;
    let rows = page
        .items
        .iter()
        .map(|r| {
            vec![
                Cell::new(&r.supervisor_name),
                Cell::link(
                    &r.institution_name,
                    format!("/institutions/{}", r.institution_id),
                ),
                Cell::new(&r.kind),
                Cell::new(&r.note),
                Cell::new(beijing_time(&r.recorded_at)),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "督导回避关系", "/supervision/relations")
            .with_flash(flash(q.msg.as_deref())),
        heading: "督导回避关系".into(),
        intro: "督导人员不得督导与其存在亲属、师生、师徒或同事关系的机构；派遣时自动检查。".into(),
        new_link: Some(("/supervision/relations/new".into(), "登记关系".into())),
        filters: vec![Field::text(
            "q",
            "督导员、机构或关系",
            q.q.clone().unwrap_or_default(),
        )],
        filter_action: "/supervision/relations".into(),
        headers: vec!["督导员", "机构", "关系", "说明", "登记时间"],
        rows,
        pager: Pager::from(&page),
        base: list_base("/supervision/relations", &[("q", &q.q)]),
        empty: "尚未登记回避关系。",
        printable: true,
    }))
}

#[derive(Deserialize, Default)]
pub(super) struct RelationForm {
    #[serde(default)]
    pub(super) supervisor_id: String,
    #[serde(default)]
    pub(super) institution_id: String,
    #[serde(default)]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) note: String,
}

pub(super) async fn relation_page(
    state: &AppState,
    me: &Authed,
    f: &RelationForm,
    error: Option<(String, String)>,
) -> Result<FormPage, AppError> {
    let (sups, insts) = ev::views::relation_choices(state, me).await?;
    let mut sup_opts = vec![(String::new(), "请选择".to_string())];
    sup_opts.extend(
        sups.iter()
            .map(|a| (a.id.to_string(), a.display_name.clone())),
    );
    let mut inst_opts = vec![(String::new(), "请选择".to_string())];
    inst_opts.extend(insts.iter().map(|i| (i.id.to_string(), i.name.clone())));
    let mut fields = vec![
        Field::text("supervisor_id", "督导员", &f.supervisor_id)
            .select(sup_opts)
            .required(),
        Field::text("institution_id", "机构", &f.institution_id)
            .select(inst_opts)
            .required(),
        Field::text("kind", "关系", &f.kind)
            .select(
                domain::plan::RELATION_KINDS
                    .iter()
                    .map(|k| (k.to_string(), k.to_string()))
                    .collect(),
            )
            .required(),
        Field::text("note", "说明", &f.note).kind("textarea"),
    ];
    let mut top = None;
    if let Some((field, msg)) = error {
        top = attach_error(&mut fields, &field, msg);
    }
    Ok(FormPage {
        layout: Layout::new(state, Some(me), "登记回避关系", "/supervision/relations"),
        heading: "登记回避关系".into(),
        crumbs: vec![("/supervision/relations".into(), "督导回避关系".into())],
        intro: String::new(),
        action: "/supervision/relations".into(),
        fields,
        error: top,
        submit: "登记",
        cancel: "/supervision/relations".into(),
        confirm: None,
    })
}

pub(super) async fn relation_form(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Response, AppError> {
    Ok(render(
        &relation_page(&state, &me, &RelationForm::default(), None).await?,
    ))
}

pub(super) async fn add_relation(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<RelationForm>,
) -> Result<Response, AppError> {
    let result = async {
        let sup: i64 = f
            .supervisor_id
            .parse()
            .map_err(|_| AppError::invalid("supervisor_id", "请选择督导员"))?;
        let inst: i64 = f
            .institution_id
            .parse()
            .map_err(|_| AppError::invalid("institution_id", "请选择机构"))?;
        ev::record_relation(&state, &me, sup, inst, &f.kind, &f.note).await
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to("/supervision/relations?msg=created").into_response()),
        Err(e) => {
            let (status, err) = split_error(e)?;
            Ok(render_status(
                status,
                &relation_page(&state, &me, &f, Some(err)).await?,
            ))
        }
    }
}
