//! 逾期事项、特殊情况申请与备案工作安排。

use super::*;

pub(super) async fn overdue(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let page =
        crate::filing::overdue_applications(&state, &me, PageRequest::new(q.page, None)).await?;
    let campaigns = crate::filing::campaign_list(&state, &me).await?;
    let rows = page
        .items
        .iter()
        .map(|a| {
            vec![
                Cell::link(format!("#{}", a.id), format!("/filings/{}", a.id)),
                Cell::new(&a.institution_name),
                Cell::new(&a.district_name),
                Cell::new(a.kind.label()),
                Cell::new(a.state.label()),
                Cell::new(a.campaign_deadline.clone().unwrap_or_default()),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "逾期未办结", "/filings"),
        heading: "超过完成期限的备案申请".into(),
        intro: format!(
            "依据 三(三)：区县（市）人社部门应在期限前完成市职业技能鉴定中心移交的申报备案评审及备案工作（默认期限 {}）。批次：{}",
            state.policy.transferred_filings_deadline.value,
            {
                let c = campaigns;
                if c.is_empty() {
                    "暂无".to_string()
                } else {
                    c.iter()
                        .map(|c| {
                            format!(
                                "{}（期限 {}，共 {} 件，未办结 {} 件）",
                                c.name, c.deadline, c.total, c.open
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("；")
                }
            }
        ),
        new_link: (me.role() == Role::CityCenter).then(|| {
            (
                "/filing-campaigns/new".to_string(),
                "设定移交批次期限".to_string(),
            )
        }),
        filters: vec![],
        filter_action: "/filings/overdue".into(),
        headers: vec!["编号", "机构", "属地", "类型", "状态", "完成期限"],
        rows,
        pager: (&page).into(),
        base: "/filings/overdue?".into(),
        empty: "没有逾期未办结的备案申请。",
        printable: true,
    }))
}

#[derive(Deserialize, Default)]
pub(super) struct ExcQuery {
    pub(super) status: Option<String>,
    pub(super) page: Option<i64>,
    pub(super) msg: Option<String>,
}

/// "2026年3月批次" or "市级另行开放批次 #2".
pub(super) fn round_label(r: &str) -> String {
    match r.strip_prefix("extra-") {
        Some(id) => format!("市级另行开放批次 #{id}"),
        None => r
            .split_once('-')
            .map(|(y, m)| format!("{y}年{}月批次", m.trim_start_matches('0')))
            .unwrap_or_else(|| r.to_string()),
    }
}

pub(super) fn rule_label(r: &str) -> &'static str {
    match r {
        "max_occupations_per_applicant" => "申报单位职业数（一(一)）",
        "increment_max_occupations" => "增量备案职业数（一(四)）",
        "max_institutions_per_occupation_per_district" => "同一职业同一区县机构数（一(一)）",
        _ => "其他",
    }
}

pub(super) async fn exceptions(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ExcQuery>,
) -> Result<Response, AppError> {
    let page = crate::filing::exceptions(
        &state,
        &me,
        q.status.as_deref().filter(|s| !s.is_empty()),
        PageRequest::new(q.page, None),
    )
    .await?;
    let rows = page
        .items
        .iter()
        .map(|x| {
            let status = x.status_label(state.today());
            let keys = format!(
                "中心：{}；职建处：{}",
                x.center_by.as_deref().unwrap_or("待审"),
                x.division_by.as_deref().unwrap_or("待审")
            );
            vec![
                Cell::link(format!("#{}", x.id), format!("/filing-exceptions/{}", x.id)),
                Cell::new(&x.institution_name),
                Cell::new(rule_label(&x.rule)),
                Cell::new(x.occupations_text()),
                Cell::new(&x.reason),
                Cell::new(status),
                Cell::new(keys),
                Cell::new(x.decision_reason.clone().unwrap_or_default()),
            ]
        })
        .collect();
    let mut intro = format!(
        "特殊情况申请由区县（市）人社部门为一家申报单位及其所列职业（工种）提出，经市鉴定中心与市人社局职建处共同审核（两方均同意方为同意，任一方不同意即不同意）；同意后{}天内有效，只能被一份申请使用一次，全程记入审计日志。",
        state.policy.exception_valid_days.value
    );
    if me.role().is_city_officer() {
        intro.push_str("点击编号进入审核。");
    }
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "特殊情况申请", "/filing-exceptions")
            .with_flash(flash_text(q.msg.as_deref())),
        heading: "特殊情况申请".into(),
        intro,
        new_link: (me.role() == Role::District).then(|| {
            (
                "/filing-exceptions/new".to_string(),
                "提出特殊情况申请".to_string(),
            )
        }),
        filters: vec![
            Field::text("status", "状态", q.status.clone().unwrap_or_default()).select(vec![
                ("".into(), "全部".into()),
                ("pending".into(), "待市级审核".into()),
                ("granted".into(), "已同意".into()),
                ("refused".into(), "不同意".into()),
            ]),
        ],
        filter_action: "/filing-exceptions".into(),
        headers: vec![
            "编号",
            "机构",
            "限制",
            "职业（工种）",
            "理由",
            "状态",
            "两方审核",
            "结论理由",
        ],
        rows,
        pager: (&page).into(),
        base: list_base("/filing-exceptions", &[("status", &q.status)]),
        empty: "暂无特殊情况申请。",
        printable: true,
    }))
}

#[derive(Deserialize)]
pub(super) struct RaiseForm {
    pub(super) institution_id: i64,
    pub(super) rule: String,
    #[serde(default)]
    pub(super) occupation_code: String,
    #[serde(default)]
    pub(super) reason: String,
}

pub(super) async fn raise_exception(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<RaiseForm>,
) -> Result<Response, AppError> {
    crate::filing::raise_exception_for(
        &state,
        &me,
        &crate::filing::ExceptionInput {
            institution_id: f.institution_id,
            rule: f.rule,
            occupation_codes: vec![],
            occupation_code: Some(f.occupation_code),
            reason: f.reason,
        },
    )
    .await?;
    Ok(Redirect::to("/filing-exceptions?msg=created").into_response())
}

#[derive(Deserialize)]
pub(super) struct DecideForm {
    pub(super) approve: String,
    #[serde(default)]
    pub(super) reason: String,
}

pub(super) async fn decide_exception(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<DecideForm>,
) -> Result<Response, AppError> {
    crate::filing::decide_exception_for(
        &state,
        &me,
        id,
        &crate::filing::DecideInput {
            approve: f.approve == "true",
            reason: f.reason,
        },
    )
    .await?;
    Ok(Redirect::to("/filing-exceptions?msg=saved").into_response())
}

pub(super) async fn raise_form(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Response, AppError> {
    let insts = crate::filing::exception_institutions(&state, &me).await?;
    let page = FormPage {
        layout: Layout::new(&state, Some(&me), "提出特殊情况申请", "/filing-exceptions"),
        heading: "提出特殊情况申请".into(),
        crumbs: vec![("/filing-exceptions".into(), "特殊情况申请".into())],
        intro: "确有特殊情况需突破职业数或同一职业机构数限制的，由区县（市）人社部门提出，经市人社部门审核后统筹安排（一(一)、一(四)）。".into(),
        action: "/filing-exceptions".into(),
        fields: vec![
            Field::text("institution_id", "机构", "")
                .select(insts.iter().map(|i| (i.id.to_string(), i.name.clone())).collect())
                .required(),
            Field::text("rule", "突破的限制", "max_institutions_per_occupation_per_district")
                .select(vec![
                    ("max_institutions_per_occupation_per_district".into(), rule_label("max_institutions_per_occupation_per_district").into()),
                    ("max_occupations_per_applicant".into(), rule_label("max_occupations_per_applicant").into()),
                    ("increment_max_occupations".into(), rule_label("increment_max_occupations").into()),
                ])
                .required(),
            Field::text("occupation_code", "所涉职业（工种）代码", "").required().hint("本申请所列的职业（工种），多个用逗号分隔，如 6-31-01-03,6-18-02-04；只对这些职业有效"),
            Field::text("reason", "特殊情况说明", "").kind("textarea").required(),
        ],
        error: None,
        submit: "提交市级审核",
        cancel: "/filing-exceptions".into(),
        confirm: None,
    };
    Ok(render(&page))
}

pub(super) async fn decide_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let x = crate::filing::exception(&state, &me, id).await?;
    if !me.role().is_city_officer() || x.status != domain::filing::ExceptionStatus::Pending {
        return Ok(Redirect::to("/filing-exceptions").into_response());
    }
    let page = FormPage {
        layout: Layout::new(&state, Some(&me), "审核特殊情况申请", "/filing-exceptions"),
        heading: format!("审核特殊情况申请 #{id}"),
        crumbs: vec![("/filing-exceptions".into(), "特殊情况申请".into())],
        intro: format!(
            "{}：{}（{}）。理由：{}（提出人 {}）",
            x.institution_name,
            rule_label(&x.rule),
            x.occupations_text(),
            x.reason,
            x.raised_by
        ),
        action: format!("/filing-exceptions/{id}/decide"),
        fields: vec![
            Field::text("approve", "审核意见", "true")
                .select(vec![
                    ("true".into(), "同意".into()),
                    ("false".into(), "不同意".into()),
                ])
                .required(),
            Field::text("reason", "理由（不同意时必填）", "").kind("textarea"),
        ],
        error: None,
        submit: "提交审核",
        cancel: "/filing-exceptions".into(),
        confirm: Some("确认提交审核意见？提交后不可更改。".into()),
    };
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
pub(super) struct CampaignForm {
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) deadline: String,
    #[serde(default)]
    pub(super) applications: String,
}

pub(super) fn campaign_page(
    state: &AppState,
    me: &Authed,
    f: &CampaignForm,
    error: Option<String>,
) -> FormPage {
    FormPage {
        layout: Layout::new(state, Some(me), "设定移交批次期限", "/filings"),
        heading: "设定移交批次期限".into(),
        crumbs: vec![("/filings/overdue".into(), "逾期未办结".into())],
        intro: "三(三)：为市鉴定中心移交区县办理的一批备案申请设定完成期限，逾期未办结的将列入逾期清单。".into(),
        action: "/filing-campaigns".into(),
        fields: vec![
            Field::text("name", "批次名称", f.name.clone()).required(),
            Field::text("deadline", "完成期限", if f.deadline.is_empty() { state.policy.transferred_filings_deadline.value.to_string() } else { f.deadline.clone() }).kind("date").required(),
            Field::text("applications", "申请编号", f.applications.clone()).hint("多个编号用逗号分隔，如 12,15,18"),
        ],
        error,
        submit: "保存",
        cancel: "/filings/overdue".into(),
        confirm: None,
    }
}

/// The form only shows; its route's gate (`CampaignCreate`) is the permission, and
/// `create_campaign_for` checks it again when the form is sent.
pub(super) async fn campaign_form(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Response, AppError> {
    Ok(render(&campaign_page(
        &state,
        &me,
        &CampaignForm::default(),
        None,
    )))
}

pub(super) async fn campaign_submit(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<CampaignForm>,
) -> Result<Response, AppError> {
    let result = async {
        let mut ids = vec![];
        for part in f
            .applications
            .split([',', '，', ' ', '、'])
            .filter(|p| !p.trim().is_empty())
        {
            let id: i64 = part.trim().trim_start_matches('#').parse().map_err(|_| {
                AppError::invalid("applications", format!("申请编号“{part}”应为数字"))
            })?;
            ids.push(id);
        }
        let input = crate::filing::CampaignInput {
            name: f.name.clone(),
            deadline: f.deadline.clone(),
            application_ids: ids,
        };
        crate::filing::create_campaign_for(&state, &me, &input, |id| {
            AppError::invalid("applications", format!("申请 #{id} 不存在"))
        })
        .await
        .map(|_| ())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to("/filings/overdue?msg=saved").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            let status = e.status();
            Ok(render_status(
                status,
                &campaign_page(&state, &me, &f, Some(e.to_string())),
            ))
        }
        Err(e) => Err(e),
    }
}
