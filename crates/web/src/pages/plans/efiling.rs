//! 电子备案：机构提交、区县审核、文件下载。

use super::*;

pub(super) async fn efiling_page(
    state: &AppState,
    me: &Authed,
    error: Option<String>,
    msg: Option<&str>,
) -> Result<EfilingPage, AppError> {
    let e = ev::views::own_efiling(state, me).await?;
    let status = e
        .as_ref()
        .map(|e| e.status)
        .unwrap_or(EfilingStatus::Missing);
    Ok(EfilingPage {
        layout: Layout::new(state, Some(me), "电子备案", "/efiling").with_flash(flash(msg)),
        status_label: status.label().into(),
        may_upload: status != EfilingStatus::Confirmed && status != EfilingStatus::Submitted,
        file: e.as_ref().map(|e| {
            (
                e.file_name.clone(),
                format!("{} 字节", e.file_size),
                e.file_sha256.clone(),
            )
        }),
        reason: e.map(|e| e.review_reason).unwrap_or_default(),
        error,
    })
}

pub(super) async fn efiling(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    Ok(render(
        &efiling_page(&state, &me, None, q.msg.as_deref()).await?,
    ))
}

pub(super) async fn efiling_upload(
    State(state): State<AppState>,
    me: Authed,
    mp: Multipart,
) -> Result<Response, AppError> {
    let file = read_upload(&state, mp, "file").await;
    let r = match file {
        Ok(f) => ev::submit_efiling(&state, &me, "", &f).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(Redirect::to("/efiling?msg=uploaded").into_response()),
        Err(AppError::Invalid { message, .. }) | Err(AppError::BadRequest(message)) => {
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &efiling_page(&state, &me, Some(message), None).await?,
            ))
        }
        Err(e) => Err(e),
    }
}

pub(super) async fn efilings(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let page = ev::views::efilings(
        &state,
        &me,
        &EfilingFilter {
            q: q.q.clone(),
            status: q.status.clone(),
        },
        PageRequest::new(q.page, None),
    )
    .await?;
    let district = me.role() == Role::District;
    let mut rows = vec![];
    for e in &page.items {
        let mut r = vec![
            Cell::link(
                &e.institution_name,
                format!("/institutions/{}", e.institution_id),
            ),
            Cell::new(&e.file_name),
            Cell::new(&e.file_sha256[..16.min(e.file_sha256.len())]).class("mono"),
            Cell::new(opt_time(&e.submitted_at)),
            Cell::new(e.status.label()),
        ];
        r.push(
            if district && e.status == domain::plan::EfilingStatus::Submitted {
                Cell::link(
                    "确认 / 退回",
                    format!("/efilings/{}/review", e.institution_id),
                )
            } else {
                Cell::new(&e.review_reason)
            },
        );
        rows.push(r);
    }
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "电子备案", "/efilings").with_flash(flash(q.msg.as_deref())),
        heading: "机构电子备案".into(),
        intro: "二(二)：机构完成备案后在平台上传备案材料电子版，经区县确认后方可提交评价工作计划。确认：POST /efilings/{机构}/review。".into(),
        new_link: None,
        filters: vec![
            Field::text("q", "机构名称", q.q.clone().unwrap_or_default()),
            Field::text("status", "状态", q.status.clone().unwrap_or_default()).select(vec![
                (String::new(), "全部".into()),
                ("submitted".into(), "待区县确认".into()),
                ("confirmed".into(), "已完成".into()),
                ("returned".into(), "已退回".into()),
            ]),
        ],
        filter_action: "/efilings".into(),
        headers: vec!["机构", "文件", "摘要", "上传时间", "状态", "操作/理由"],
        rows,
        pager: Pager::from(&page),
        base: list_base("/efilings", &[("q", &q.q), ("status", &q.status)]),
        empty: "暂无电子备案。",
        printable: true,
    }))
}

#[derive(Deserialize)]
pub(super) struct EfilingReviewForm {
    pub(super) decision: String,
    pub(super) version: i64,
    #[serde(default)]
    pub(super) reason: String,
}

pub(super) async fn efiling_review_form(
    State(state): State<AppState>,
    me: Authed,
    Path(inst): Path<i64>,
) -> Result<Response, AppError> {
    let e = ev::views::efiling_to_review(&state, &me, inst).await?;
    Ok(render(&FormPage {
        layout: Layout::new(&state, Some(&me), "确认电子备案", "/efilings"),
        heading: format!("确认电子备案：{}", e.institution_name),
        crumbs: vec![("/efilings".into(), "机构电子备案".into())],
        intro: format!(
            "文件：{}（{} 字节，SHA-256 {}）。下载核对：/efilings/{}/file",
            e.file_name, e.file_size, e.file_sha256, inst
        ),
        action: format!("/efilings/{inst}/review"),
        fields: vec![
            Field::text("decision", "审核意见", "confirm")
                .select(vec![
                    ("confirm".into(), "确认，完成电子备案".into()),
                    ("return".into(), "退回补正".into()),
                ])
                .required(),
            Field::text("reason", "理由（退回时必填）", "").kind("textarea"),
            Field::text("version", "", e.version.to_string()).kind("hidden"),
        ],
        error: None,
        submit: "提交",
        cancel: "/efilings".into(),
        confirm: Some("确认提交审核意见？".into()),
    }))
}

pub(super) async fn efiling_file(
    State(state): State<AppState>,
    me: Authed,
    Path(inst): Path<i64>,
) -> Result<Response, AppError> {
    let e = ev::views::efiling(&state, &me, inst).await?;
    let doc = e.document_id.ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/documents/{doc}")).into_response())
}

pub(super) async fn efiling_review(
    State(state): State<AppState>,
    me: Authed,
    Path(inst): Path<i64>,
    FormBody(f): FormBody<EfilingReviewForm>,
) -> Result<Response, AppError> {
    ev::review_efiling(
        &state,
        &me,
        inst,
        f.version,
        f.decision == "confirm",
        &f.reason,
    )
    .await?;
    Ok(Redirect::to("/efilings?msg=done").into_response())
}

// -- public results ------------------------------------------------------------------------------
