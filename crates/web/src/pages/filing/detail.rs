//! 一份备案申请的详情页与其上的操作按钮。

use super::*;

pub struct ActionView {
    pub(super) action: &'static str,
    pub(super) label: &'static str,
    pub(super) needs_reason: bool,
    pub(super) danger: bool,
    pub(super) upheld: bool,
}

#[derive(Template)]
#[template(path = "filing_detail.html")]
pub(super) struct DetailView {
    pub(super) layout: Layout,
    pub(super) heading: String,
    pub(super) id: i64,
    pub(super) version: i64,
    pub(super) error: Option<String>,
    pub(super) props: Vec<(&'static str, String)>,
    pub(super) links: Vec<(String, String)>,
    pub(super) eligibility: Vec<String>,
    pub(super) actions: Vec<ActionView>,
    pub(super) can_draw: bool,
    pub(super) redraw: bool,
    pub(super) next_commitment: String,
    pub(super) can_opine: bool,
    pub(super) can_dispatch: bool,
    pub(super) show_panel: bool,
    pub(super) supervisors: Vec<(String, String)>,
    pub(super) declinable: Vec<(i64, String)>,
    pub(super) sections: Vec<(String, Vec<&'static str>, Vec<Vec<Cell>>)>,
    pub(super) panel: DocumentsPanel,
    /// The city organises the review (统一组织开展): complete_onsite asks for the 评审方式.
    pub(super) city_route: bool,
    /// 三(一): accepting this first filing needs a reason for levels above 三级.
    pub(super) needs_level_reason: bool,
    /// The current panel's conclusion, shown with the 初评结果意见 form.
    pub(super) panel_summary: String,
    pub(super) panel_fail: bool,
    /// The dispatched supervisor may file its 督导意见.
    pub(super) can_supervise: bool,
}

#[derive(Deserialize, Default)]
pub(super) struct MsgQuery {
    pub(super) msg: Option<String>,
    pub(super) err: Option<String>,
}

pub(super) async fn detail_view(
    state: &AppState,
    me: &Authed,
    id: i64,
    flash: Option<String>,
    error: Option<String>,
) -> Result<DetailView, AppError> {
    let store = &state.store;
    // The same read as `GET /api/v1/filings/{id}`; the page adds what only it shows.
    let crate::filing::FilingDetail {
        application: app,
        events: event_rows,
        draws: drawn,
        supervisors: sup_rows,
        province_report,
        required_materials,
        exceptions_used,
        ..
    } = crate::filing::filing_detail(state, me, id).await?;
    let st = app.state();
    let mut props: Vec<(&'static str, String)> = vec![
        ("机构", app.institution_name.clone()),
        ("统一社会信用代码", app.credit_code.clone()),
        (
            "备案类型",
            format!("{}（{}）", app.kind.label(), app.kind.clause()),
        ),
        ("办理方式", app.route.label().to_string()),
        ("属地", app.district_name.clone()),
        ("状态", st.label().to_string()),
        ("职业（工种）及等级", items_text(&app)),
    ];
    if !app.shared_resources.is_empty() {
        props.push(("共享/租用/购买服务", app.shared_resources.clone()));
    }
    if !app.commitment.is_empty() {
        props.push(("书面承诺", app.commitment.clone()));
    }
    if app.waiver {
        props.push((
            "免于现场评估",
            format!(
                "是（批准人：{}；理由：{}）",
                app.waiver_by.clone().unwrap_or_default(),
                app.waiver_reason.clone().unwrap_or_default()
            ),
        ));
    }
    if let Some(r) = &app.high_level_reason {
        props.push(("高于三级的受理理由（三(一)）", r.clone()));
    }
    if let Some(m) = app.review_mode {
        props.push((
            "评审方式",
            format!(
                "{}（{}）",
                m.label(),
                app.review_mode_reason.clone().unwrap_or_default()
            ),
        ));
    }
    if let Some(c) = &app.panel_conclusion {
        props.push(("专家组结论", c.clone()));
    }
    if let Some(r) = &app.panel_override_reason {
        props.push(("多数专家不通过仍予报送的理由", r.clone()));
    }
    if let Some(o) = &app.district_opinion {
        props.push((
            if app.route == domain::filing::Route::City {
                "市级评审结论意见"
            } else {
                "区县初评结果意见"
            },
            o.clone(),
        ));
    }
    props.push((
        "市级审核",
        format!(
            "市鉴定中心：{}；市人社局职建处：{}",
            app.center_approved_by
                .as_deref()
                .map(|u| format!("已同意（{u}）"))
                .unwrap_or_else(|| "待审核".into()),
            app.division_approved_by
                .as_deref()
                .map(|u| format!("已同意（{u}）"))
                .unwrap_or_else(|| "待审核".into()),
        ),
    ));
    if let Some(t) = app.publicity_text() {
        props.push(("公示期", t));
    }
    if let Some(n) = &app.filing_no {
        props.push(("备案编号", n.clone()));
    }
    if let Some(r) = province_report {
        props.push((
            "报至上级部门",
            format!(
                "{}，文号：{}（报送批次 #{}）",
                r.reported_on, r.doc_no, r.id
            ),
        ));
    }
    if let Some(d) = &app.campaign_deadline {
        props.push(("完成期限（三(三)）", d.clone()));
    }
    if let Some(r) = &app.increment_round {
        props.push(("增量备案批次（一(四)）", round_label(r)));
    }
    for x in exceptions_used {
        props.push((
            "使用的特殊情况申请",
            format!(
                "#{}（{}：{}；{}；理由：{}）",
                x.id,
                rule_label(&x.rule),
                x.occupations_text(),
                x.status_label(state.today()),
                x.reason
            ),
        ));
    }
    props.push(("版本", app.version.to_string()));
    let mut links = vec![];
    if app.filing_no.is_some() {
        links.push((format!("/filings/{id}/receipt"), "备案回执".to_string()));
    }
    let eligibility =
        if app.kind == domain::filing::FilingKind::Enterprise && me.role() != Role::Expert {
            let inst = store
                .institution(&domain::Scope::City, app.institution_id)
                .await?;
            let e = eligibility_of(state, &inst).await;
            let mut v = vec![format!(
                "独立法人：{}；注册员工：{} 人；注册资金：{} 元",
                if inst.legal_person { "是" } else { "否" },
                inst.employees,
                inst.capital_yuan
            )];
            if e["eligible"] == true {
                v.push("满足 一(二)1(1)(2) 条件。".into());
            } else {
                for p in e["problems"].as_array().into_iter().flatten() {
                    v.push(p.as_str().unwrap_or("").to_string());
                }
            }
            v.push(e["business_scope_note"].as_str().unwrap_or("").to_string());
            v
        } else {
            vec![]
        };
    let st_machine = app_state(&app);
    let actions = filing::available(&state.policy, &st_machine, me.role())
        .into_iter()
        .map(|c| ActionView {
            action: c.as_str(),
            label: c.label(),
            needs_reason: c.needs_reason(),
            danger: matches!(
                c,
                Command::Reject
                    | Command::Withdraw
                    | Command::ResolveObjection { upheld: true }
                    | Command::Finish
            ),
            upheld: matches!(c, Command::ResolveObjection { upheld: true }),
        })
        .collect();
    let (draws, members): (Vec<store::DrawRow>, Vec<Vec<store::DrawMember>>) =
        drawn.into_iter().map(|x| (x.draw, x.members)).unzip();
    let organiser = st_machine.flow.organised_by(me.role());
    let can_draw = organiser
        && matches!(st, FilingState::DistrictPassed | FilingState::ExpertsDrawn)
        && st_machine.flow.onsite_review;
    let next_commitment = draws
        .iter()
        .find(|d| d.status == domain::draw::DrawStatus::Committed)
        .map(|d| d.commitment.clone())
        .unwrap_or_default();
    let mut can_opine = false;
    let mut declinable = vec![];
    let mut draw_rows = vec![];
    let mut member_rows = vec![];
    for (d, ms) in draws.iter().zip(&members) {
        let (ok, _) = replay(d);
        draw_rows.push(vec![
            Cell::link(format!("第{}次", d.attempt), format!("/draws/{}", d.id)),
            Cell::new(match d.status {
                domain::draw::DrawStatus::Committed => "已公布承诺值，未抽取",
                domain::draw::DrawStatus::Drawn => "有效",
                domain::draw::DrawStatus::Superseded => "已被重新抽取取代",
            }),
            Cell::new(&d.commitment).class("mono"),
            Cell::new(format!(
                "{} 人（排除 {} 人）",
                d.pool.len(),
                d.exclusions.len()
            )),
            Cell::new(if d.status == domain::draw::DrawStatus::Committed {
                "—".to_string()
            } else if ok {
                "一致".into()
            } else {
                "不一致".into()
            }),
            Cell::new(d.reason.clone()),
            Cell::new(d.drawn_at.as_deref().map(beijing_time).unwrap_or_default()),
        ]);
        if d.status == domain::draw::DrawStatus::Drawn {
            for m in ms {
                // Open (and changeable) until the 初评结果意见 is written.
                if me.role() == Role::Expert
                    && m.user_id == Some(me.account.id)
                    && m.status != domain::draw::MemberStatus::Declined
                    && matches!(st, FilingState::ExpertsDrawn | FilingState::OnsiteReviewed)
                {
                    can_opine = true;
                }
                if organiser
                    && m.status != domain::draw::MemberStatus::Declined
                    && m.opinion.is_none()
                    && st == FilingState::ExpertsDrawn
                {
                    declinable.push((m.expert_id, format!("{}（{}）", m.name, m.employer)));
                }
                member_rows.push(vec![
                    Cell::new(&m.name),
                    Cell::new(&m.employer),
                    Cell::new(match m.status {
                        domain::draw::MemberStatus::Selected => "抽中",
                        domain::draw::MemberStatus::Replacement => "递补",
                        domain::draw::MemberStatus::Declined => "谢绝",
                    }),
                    Cell::new(m.decline_reason.clone().unwrap_or_default()),
                    Cell::new(m.conclusion.clone().unwrap_or_else(|| "待提交".into())),
                    Cell::new(m.opinion.clone().unwrap_or_default()),
                ]);
            }
        }
    }
    let events = event_rows
        .into_iter()
        .map(|e| {
            vec![
                Cell::new(beijing_time(&e.at)),
                Cell::new(e.actor),
                Cell::new(e.action),
                Cell::new(format!(
                    "{} → {}",
                    state_label(&e.from_state),
                    state_label(&e.to_state)
                )),
                Cell::new(e.reason),
            ]
        })
        .collect();
    let can_supervise = me.role() == Role::Supervisor
        && sup_rows.iter().any(|s| {
            s.user_id == me.account.id && s.status == domain::filing::SupervisorStatus::Dispatched
        });
    let sups = sup_rows
        .into_iter()
        .map(|s| {
            let who = match &s.confirmed_by {
                Some(c) => format!("{}提出，{}会同确认", s.dispatched_by, c),
                None => format!("{}提出，待另一市级部门会同确认", s.dispatched_by),
            };
            vec![
                Cell::new(s.name),
                Cell::new(s.username),
                Cell::new(
                    if s.status == domain::filing::SupervisorStatus::Dispatched {
                        "已派遣"
                    } else {
                        "待会同确认"
                    },
                ),
                Cell::new(who),
                Cell::new(s.opinion.unwrap_or_else(|| "未提交".into())),
                Cell::new(
                    s.opinion_attachments
                        .iter()
                        .map(|d| format!("#{d}"))
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
            ]
        })
        .collect();
    let mut sections = vec![
        (
            "专家抽取记录（每次抽取均保留）".to_string(),
            vec![
                "次数",
                "状态",
                "承诺值",
                "候选池",
                "复核",
                "重抽理由",
                "抽取时间",
            ],
            draw_rows,
        ),
        (
            "评审专家与现场评审意见".to_string(),
            vec!["专家", "单位", "状态", "谢绝理由", "结论", "意见"],
            member_rows,
        ),
        (
            "评审督导".to_string(),
            vec!["督导员", "账号", "状态", "派遣", "督导意见", "附件"],
            sups,
        ),
        (
            "办理记录（每一步的办理人与理由）".to_string(),
            vec!["时间", "办理人", "操作", "状态变化", "理由/意见"],
            events,
        ),
    ];
    if draws.is_empty() {
        sections.remove(0);
        sections.remove(0);
    }
    let checklist = required_materials;
    if !checklist.is_empty() && !matches!(me.role(), Role::Expert | Role::Supervisor) {
        sections.insert(
            0,
            (
                format!(
                    "提交前须上传的材料（{}，依据：{}）",
                    app.kind.label(),
                    state.policy.required_materials.clause
                ),
                vec!["材料", "状态"],
                checklist
                    .into_iter()
                    .map(|c| {
                        vec![
                            Cell::new(c.label),
                            Cell::new(if c.present { "已上传" } else { "未上传" }),
                        ]
                    })
                    .collect(),
            ),
        );
    }
    let can_upload = match me.role() {
        Role::Institution => st.editable(),
        Role::District | Role::CityCenter | Role::CityDivision => !st.is_terminal(),
        Role::Supervisor => can_supervise && !st.is_terminal(),
        _ => false,
    };
    let docs = store.documents_of("filing_application", id).await?;
    if matches!(me.role(), Role::Expert | Role::Supervisor) {
        // Assigned roles download through the application (the general download refuses them).
        let rows = docs
            .iter()
            .map(|g| {
                vec![
                    Cell::new(crate::documents::kind_label(
                        FILING_DOC_KINDS,
                        &g.latest.kind,
                    )),
                    Cell::link(
                        &g.latest.filename,
                        format!("/filings/{id}/documents/{}", g.latest.id),
                    ),
                    Cell::new(format!("第 {} 版", g.latest.version)),
                ]
            })
            .collect();
        sections.push((
            "申请材料".to_string(),
            vec!["材料类别", "文件", "版本"],
            rows,
        ));
    }
    let panel = DocumentsPanel::new(
        if matches!(me.role(), Role::Expert | Role::Supervisor) {
            vec![]
        } else {
            docs
        },
        if me.role() == Role::Supervisor {
            &FILING_DOC_KINDS[FILING_DOC_KINDS
                .iter()
                .position(|(k, _)| *k == "supervision")
                .unwrap_or(0)..][..1]
        } else {
            FILING_DOC_KINDS
        },
        can_upload.then(|| format!("/filings/{id}/documents")),
        state.config.max_upload_bytes,
    );
    let can_dispatch = me.role().is_city_officer()
        && matches!(st, FilingState::DistrictPassed | FilingState::ExpertsDrawn);
    let supervisors = if can_dispatch {
        store
            .list_accounts(
                &me.scope(),
                &store::UserFilter {
                    role: Some("supervisor".into()),
                    ..Default::default()
                },
                PageRequest::new(Some(1), Some(200)),
            )
            .await?
            .items
            .into_iter()
            .filter(|a| a.district_code.is_none())
            .map(|a| (a.username, a.display_name))
            .collect()
    } else {
        vec![]
    };
    let panel_now = if st == FilingState::OnsiteReviewed && organiser {
        let c = store.panel_conclusions(id).await?;
        filing::Panel::of(c.iter().map(String::as_str))
    } else {
        filing::Panel::default()
    };
    let city_route = st_machine.flow.route == filing::Route::City;
    let needs_level_reason = city_route
        && organiser
        && st == FilingState::Submitted
        && app.kind != domain::filing::FilingKind::Increment
        && app.items.iter().any(|it| {
            domain::occupation::parse_levels(&it.levels)
                .unwrap_or_default()
                .iter()
                .any(|l| {
                    !state
                        .policy
                        .district_initial_levels
                        .value
                        .contains(&l.number())
                })
        });
    Ok(DetailView {
        city_route,
        needs_level_reason,
        panel_summary: panel_now.summary(),
        panel_fail: panel_now.fail_majority(),
        can_supervise,
        show_panel: !matches!(me.role(), Role::Expert) || can_supervise,
        can_dispatch,
        supervisors,
        declinable,
        layout: Layout::new(state, Some(me), format!("备案申请 #{id}"), "/filings")
            .with_flash(flash),
        heading: format!("{} · {}", app.institution_name, app.kind.label()),
        id,
        version: app.version,
        error,
        props,
        links,
        eligibility,
        actions,
        can_draw,
        redraw: st == FilingState::ExpertsDrawn,
        next_commitment,
        can_opine,
        sections,
        panel,
    })
}

pub(super) async fn detail(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let flash = match q.msg.as_deref() {
        Some("done") => Some("已办理。".to_string()),
        Some("drawn") => Some("专家已抽取，结果已记录。".to_string()),
        Some("opinion") => Some("评审意见已提交。".to_string()),
        Some("uploaded") => Some("材料已上传。".to_string()),
        other => flash_text(other),
    };
    let _ = q.err;
    Ok(render(&detail_view(&state, &me, id, flash, None).await?))
}
