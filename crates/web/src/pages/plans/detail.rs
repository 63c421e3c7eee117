//! 一份评价计划的详情页与计划上的命令。

use super::*;

pub(super) async fn show(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let d = ev::views::plan_detail(&state, &me, id).await?;
    let (p, sup) = (&d.plan, &d.supervision);
    let latest = match chrono::NaiveDate::parse_from_str(&p.start_date, "%Y-%m-%d") {
        Ok(s) => match ev::latest_submission(&state, s).await {
            Ok((a, b, basis)) => format!(
                "纸质件最晚于 {} 送达区县（最后一个工作日为 {}）；平台提交须在开始日期之前{}",
                a,
                b,
                basis.note()
            ),
            Err(e) => e.to_string(),
        },
        Err(_) => "—".into(),
    };
    let levels = p
        .levels()
        .iter()
        .map(|l| l.name())
        .collect::<Vec<_>>()
        .join("、");
    let mut props: Vec<(&'static str, String)> = vec![
        ("状态", p.status().label().to_string()),
        ("版本", format!("第{}版", p.revision)),
        ("评价机构", p.institution_name.clone()),
        ("属地", p.district_name.clone()),
        (
            "职业（工种）",
            format!("{} {}", p.occupation_code, p.occupation_name),
        ),
        ("等级", levels),
        ("评价方式", forms_label(&p.forms())),
        ("评价时间", format!("{} 至 {}", p.start_date, p.end_date)),
        ("最晚提交日期", latest),
        ("评价场地", p.venue.clone()),
        ("预计考生人数", p.expected_candidates.to_string()),
        ("考评员", p.examiners.clone()),
        ("内部督导员", p.internal_supervisor.clone()),
        ("提交时间", opt_time(&p.submitted_at)),
        (
            "纸质件收取",
            match (&p.paper_received_by, &p.paper_received_at) {
                (Some(by), Some(at)) => match &p.paper_received_on {
                    Some(on) => format!("{on} 收取（{} 于 {} 登记）", by, beijing_time(at)),
                    None => format!("{} 于 {}", by, beijing_time(at)),
                },
                _ => "—".into(),
            },
        ),
        (
            "纸质件保存至",
            p.paper_retention_until
                .clone()
                .unwrap_or_else(|| "—".into()),
        ),
        (
            "区县审核",
            match (&p.district_decided_by, &p.district_decided_at) {
                (Some(by), Some(at)) => format!("{} 于 {}", by, beijing_time(at)),
                _ => "—".into(),
            },
        ),
        ("平台填报", opt_time(&p.entered_at)),
        (
            "市级认可",
            match (&p.city_confirmed_by, &p.city_confirmed_at) {
                (Some(by), Some(at)) => format!("{} 于 {}", by, beijing_time(at)),
                _ => "—".into(),
            },
        ),
        ("评价有效性", sup.validity.clone()),
        (
            "成绩",
            match p.results_status.as_str() {
                "publicised" => format!(
                    "公示中（{}）",
                    p.results_publicity_text().unwrap_or_default()
                ),
                "submitted" => format!("已上报市级（{}）", opt_time(&p.results_submitted_at)),
                _ => "未公示".into(),
            },
        ),
    ];
    if !p.last_reason.is_empty() {
        props.push(("退回/取消理由", p.last_reason.clone()));
    }
    let mut buttons = vec![];
    for cmd in ev::available_commands(&me, &p) {
        if has_form(cmd) {
            continue;
        }
        buttons.push(ActionButton {
            action: format!("/plans/{id}/act/{}", cmd.as_str()),
            label: cmd.label(),
            danger: false,
            confirm: Some(format!("确认“{}”？", cmd.label())),
            hidden: vec![("version", p.version.to_string())],
        });
    }
    let mut links = vec![];
    for cmd in ev::available_commands(&me, &p) {
        if has_form(cmd) {
            links.push((
                format!("/plans/{id}/act/{}", cmd.as_str()),
                cmd.label().to_string(),
            ));
        }
    }
    if me.role() == Role::Institution
        && !p.status().is_closed()
        && p.results_status == domain::plan::ResultsStatus::None
    {
        links.push((
            format!("/plans/{id}/edit"),
            if matches!(p.status(), PlanStatus::Draft | PlanStatus::Returned) {
                "修改".into()
            } else {
                "变更计划".into()
            },
        ));
    }
    if p.status() == PlanStatus::CityConfirmed {
        links.push((format!("/plans/{id}/letter"), "督导责任书".into()));
        links.push((format!("/plans/{id}/candidates"), "考生与成绩".into()));
        if me.role() == Role::Supervisor {
            links.push((format!("/plans/{id}/report"), "提交督导报告".into()));
        }
        // 证书: the institution uploads one-inch photos, the city issues after submission.
        if me.can(Action::PhotoUpload) {
            links.push((format!("/plans/{id}/photos"), "证书照片".into()));
        }
        if p.results_status == domain::plan::ResultsStatus::Submitted
            && me.can(Action::CertificatePrepare)
        {
            links.push((format!("/plans/{id}/certificates"), "生成证书数据".into()));
        }
        if p.results_status == domain::plan::ResultsStatus::Submitted {
            links.push((format!("/certificates?plan={id}"), "本计划证书".into()));
        }
    }
    if me.role() == Role::Institution && p.status() == PlanStatus::CityConfirmed {
        if p.results_status == domain::plan::ResultsStatus::None && sup.evaluation_valid {
            buttons.push(ActionButton {
                action: format!("/plans/{id}/results/publish"),
                label: "公示成绩",
                danger: false,
                confirm: Some("成绩公示后不能再修改，确认公示？".into()),
                hidden: vec![("version", p.version.to_string())],
            });
        }
        if p.results_status == domain::plan::ResultsStatus::Publicised {
            buttons.push(ActionButton {
                action: format!("/plans/{id}/results/submit"),
                label: "上报市级",
                danger: false,
                confirm: Some("确认将成绩上报市职业技能鉴定中心？".into()),
                hidden: vec![("version", p.version.to_string())],
            });
        }
    }
    let mut sections = vec![];
    sections.push((
        "督导人员".to_string(),
        vec!["方", "督导员", "派遣时间"],
        sup.assignments
            .iter()
            .map(|a| {
                vec![
                    Cell::new(Party::parse(&a.side).map(|p| p.label()).unwrap_or("")),
                    Cell::new(&a.supervisor_name),
                    Cell::new(beijing_time(&a.assigned_at)),
                ]
            })
            .collect(),
    ));
    // Supervisor assignment: the service lists whom the caller may dispatch now.
    for s in &d.assignable {
        buttons.push(ActionButton {
            action: format!("/plans/{id}/supervisors"),
            label: "派遣督导",
            danger: false,
            confirm: Some(format!("派遣 {} 担任本次评价的督导？", s.display_name)),
            hidden: vec![("supervisor_id", s.id.to_string())],
        });
    }
    sections.push((
        "督导责任书签字".to_string(),
        vec!["方", "签字人", "时间", "文书摘要（SHA-256）"],
        sup.signatures
            .iter()
            .map(|s| {
                vec![
                    Cell::new(Party::parse(&s.party).map(|p| p.label()).unwrap_or("")),
                    Cell::new(&s.signer_name),
                    Cell::new(beijing_time(&s.signed_at)),
                    Cell::new(&s.doc_sha256[..16]).class("mono"),
                ]
            })
            .collect(),
    ));
    let events = &d.events;
    sections.push((
        "流转记录".to_string(),
        vec!["时间", "操作", "版本", "状态", "操作人", "理由"],
        events
            .iter()
            .map(|e| {
                vec![
                    Cell::new(beijing_time(&e.at)),
                    Cell::new(PlanCommand::parse(&e.action).map(|c| c.label()).unwrap_or(
                        if e.action == "create" {
                            "创建"
                        } else {
                            "修改"
                        },
                    )),
                    Cell::new(e.revision.to_string()),
                    Cell::new(
                        PlanStatus::parse(&e.to_status)
                            .map(|s| s.label())
                            .unwrap_or(""),
                    ),
                    Cell::new(&e.actor),
                    Cell::new(&e.reason),
                ]
            })
            .collect(),
    ));
    let reports = &d.reports;
    sections.push((
        "督导报告".to_string(),
        vec!["督导员", "提交时间", "内容", "附件"],
        reports
            .iter()
            .map(|r| {
                vec![
                    Cell::new(&r.supervisor_name),
                    Cell::new(beijing_time(&r.filed_at)),
                    Cell::new(&r.body),
                    match r.document_id {
                        Some(d) => Cell::link(&r.attachment_name, format!("/documents/{d}")),
                        None => Cell::new("—"),
                    },
                ]
            })
            .collect(),
    ));
    Ok(render(&DetailPage {
        layout: Layout::new(&state, Some(&me), format!("计划 {}", p.plan_no), "/plans")
            .with_flash(flash(q.msg.as_deref())),
        heading: format!("评价工作计划 {}", p.plan_no),
        crumbs: vec![("/plans".into(), "评价工作计划".into())],
        props,
        links,
        buttons,
        sections,
    }))
}

#[derive(Deserialize, Default)]
pub(super) struct ActForm {
    pub(super) version: Option<String>,
    #[serde(default)]
    pub(super) reason: String,
    #[serde(default)]
    pub(super) paper_received_on: Option<String>,
}

pub(super) fn page_cmd(s: &str) -> Result<PlanCommand, AppError> {
    PlanCommand::parse(s)
        .filter(|c| !matches!(c, PlanCommand::Edit | PlanCommand::Revise))
        .ok_or(AppError::NotFound)
}

/// Commands that open a form first: those that need a reason, and the paper receipt (its date).
pub(super) fn has_form(cmd: PlanCommand) -> bool {
    cmd.needs_reason() || cmd == PlanCommand::RecordPaper
}

pub(super) fn reason_form(
    state: &AppState,
    me: &Authed,
    id: i64,
    cmd: PlanCommand,
    p: &store::Plan,
    f: &ActForm,
    error: Option<(String, String)>,
) -> FormPage {
    let mut fields = vec![];
    if cmd == PlanCommand::RecordPaper {
        let on = f
            .paper_received_on
            .clone()
            .unwrap_or_else(|| state.today().format("%Y-%m-%d").to_string());
        fields.push(
            Field::text("paper_received_on", "纸质件收取日期", on)
                .kind("date")
                .required()
                .hint("默认今天；早于今天的须说明理由。提前3个工作日的规则按此日期计算（二(二)）"),
        );
        fields.push(
            Field::text("reason", "理由（收取日期早于今天时必填）", f.reason.clone())
                .kind("textarea"),
        );
    } else {
        fields.push(
            Field::text("reason", "理由", f.reason.clone())
                .kind("textarea")
                .required(),
        );
    }
    fields.push(Field::text("version", "", p.version.to_string()).kind("hidden"));
    let mut form_error = None;
    if let Some((field, message)) = error {
        match fields.iter_mut().find(|x| x.name == field) {
            Some(x) => x.error = Some(message),
            None => form_error = Some(message),
        }
    }
    FormPage {
        layout: Layout::new(state, Some(me), cmd.label(), "/plans"),
        heading: format!("{}：{}", cmd.label(), p.plan_no),
        crumbs: vec![
            ("/plans".into(), "评价工作计划".into()),
            (format!("/plans/{id}"), p.plan_no.clone()),
        ],
        intro: if cmd == PlanCommand::RecordPaper {
            "登记区县收到纸质版评价工作计划的日期，记入流转记录并通知机构。".into()
        } else {
            "理由将记入流转记录并通知机构。".into()
        },
        action: format!("/plans/{id}/act/{}", cmd.as_str()),
        fields,
        error: form_error,
        submit: cmd.label(),
        cancel: format!("/plans/{id}"),
        confirm: Some(format!("确认“{}”？此操作将记录在案。", cmd.label())),
    }
}

pub(super) async fn act_form(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cmd)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    let cmd = page_cmd(&cmd)?;
    let p = ev::views::plan(&state, &me, id).await?;
    Ok(render(&reason_form(
        &state,
        &me,
        id,
        cmd,
        &p,
        &ActForm::default(),
        None,
    )))
}

pub(super) async fn act(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cmd)): Path<(i64, String)>,
    FormBody(f): FormBody<ActForm>,
) -> Result<Response, AppError> {
    let cmd = page_cmd(&cmd)?;
    let version = f.version.as_deref().and_then(|v| v.trim().parse().ok());
    match ev::plan_action(
        &state,
        &me,
        id,
        version,
        cmd,
        &f.reason,
        f.paper_received_on.as_deref(),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/plans/{id}?msg=done")).into_response()),
        Err(e @ AppError::Invalid { .. }) if has_form(cmd) => {
            let (status, err) = split_error(e)?;
            let p = ev::views::plan(&state, &me, id).await?;
            Ok(render_status(
                status,
                &reason_form(&state, &me, id, cmd, &p, &f, Some(err)),
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub(super) struct AssignForm {
    pub(super) supervisor_id: i64,
}
