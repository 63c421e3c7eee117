//! 机构备案 pages: the list (work queue with filters), the application form, the application
//! with its actions, the draw replay, the receipt, the expert library and the public 公示.

use crate::routing::Routes;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::filing::{self, Command, FilingKind, FilingState};
use domain::Action;
use domain::Role;
use serde::Deserialize;
use store::{ExpertFilter, FilingFilter, PageRequest};

use super::kit::{Cell, Field, FormPage, ListPage};
use super::{beijing_time, flash_text, list_base, render, render_status, Layout};
use crate::auth::{Authed, MaybeAuthed};
use crate::body::FormBody;
use crate::documents::DocumentsPanel;
use crate::error::AppError;
use crate::filing::{
    act, app_state, create_filing, do_draw, eligibility_of, record_opinion, replay,
    store_filing_uploads, ActionInput, DrawInput, FilingInput, ItemInput, OpinionInput,
    FILING_DOC_KINDS,
};
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/filings", Action::FilingView, list)
        .get("/filings/new", Action::FilingApply, new_form)
        .post("/filings/new", Action::FilingApply, new_submit)
        .get("/filings/{id}", Action::FilingView, detail)
        .post("/filings/{id}/act", Action::FilingAct, action)
        .post("/filings/{id}/draw", Action::FilingReview, draw)
        .post("/filings/{id}/opinion", Action::ExpertOpinion, opinion)
        .post(
            "/filings/{id}/supervisor",
            Action::SupervisorDispatch,
            dispatch,
        )
        .post(
            "/filings/{id}/supervision-opinion",
            Action::SupervisionOpinion,
            supervision_opinion,
        )
        .post("/filings/{id}/decline", Action::FilingReview, decline)
        .get("/filings/overdue", Action::FilingOverdue, overdue)
        .get(
            "/filing-campaigns/new",
            Action::CampaignCreate,
            campaign_form,
        )
        .post("/filing-campaigns", Action::CampaignCreate, campaign_submit)
        .get("/increment-rounds", Action::IncrementRoundView, rounds)
        .post(
            "/increment-rounds",
            Action::IncrementRoundOpen,
            round_submit,
        )
        .get(
            "/increment-rounds/new",
            Action::IncrementRoundOpen,
            round_form,
        )
        .get("/filing-exceptions", Action::ExceptionView, exceptions)
        .post(
            "/filing-exceptions",
            Action::ExceptionRaise,
            raise_exception,
        )
        .get("/filing-exceptions/new", Action::ExceptionRaise, raise_form)
        .get(
            "/filing-exceptions/{id}",
            Action::ExceptionView,
            decide_form,
        )
        .post(
            "/filing-exceptions/{id}/decide",
            Action::ExceptionDecide,
            decide_exception,
        )
        .upload(
            "/filings/{id}/documents",
            Action::FilingDocumentUpload,
            upload,
        )
        .get("/filings/{id}/receipt", Action::FilingView, receipt)
        .get(
            "/filings/{id}/documents/{doc}",
            Action::FilingView,
            crate::filing::download_document,
        )
        .get("/draws/{id}", Action::DrawView, draw_page)
        .get("/experts", Action::ExpertView, experts)
        .get(
            "/experts/template.xlsx",
            Action::ExpertView,
            crate::filing::expert_template,
        )
        .get("/experts/import", Action::ExpertManage, import_page)
        .upload("/experts/import", Action::ExpertManage, import_submit)
        .get("/public/filings", Action::PublicView, public_filings)
}

fn kind_label(k: &str) -> &'static str {
    FilingKind::parse(k).map(|k| k.label()).unwrap_or("未知")
}

fn state_label(s: &str) -> &'static str {
    FilingState::parse(s).map(|s| s.label()).unwrap_or("未知")
}

fn items_text(app: &store::FilingApp) -> String {
    let increment = app.kind == FilingKind::Increment.as_str();
    app.items
        .iter()
        .map(|i| {
            // 一(四): on an occupation already filed an increment adds levels, not an occupation.
            let tag = match (increment, i.new_occupation) {
                (true, true) => "［增量］",
                (true, false) => "［增级别］",
                _ => "",
            };
            if i.levels.is_empty() {
                format!("{tag}{} {}", i.code, i.name)
            } else {
                format!(
                    "{tag}{} {}（{}级）",
                    i.code,
                    i.name,
                    i.levels.replace(',', "、")
                )
            }
        })
        .collect::<Vec<_>>()
        .join("；")
}

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    district: Option<String>,
    kind: Option<String>,
    state: Option<String>,
    occupation: Option<String>,
    page: Option<i64>,
    msg: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let f = FilingFilter {
        q: q.q.clone(),
        district: q.district.clone(),
        kind: q.kind.clone(),
        state: q.state.clone(),
        occupation: q.occupation.clone(),
        campaign: None,
    };
    let page = state
        .store
        .list_filings(&me.scope(), &f, PageRequest::new(q.page, None))
        .await?;
    let cal = state.store.holiday_calendar().await?;
    let rows = page
        .items
        .iter()
        .map(|a| {
            let waited = crate::queue::waited_days(&cal, &a.state_since, state.today())
                .map(|d| format!("{d} 个工作日"))
                .unwrap_or_else(|| "—".into());
            vec![
                Cell::link(format!("#{}", a.id), format!("/filings/{}", a.id)),
                Cell::new(&a.institution_name),
                Cell::new(kind_label(&a.kind)),
                Cell::new(&a.district_name),
                Cell::new(items_text(a)),
                Cell::new(state_label(&a.state)),
                Cell::new(waited),
            ]
        })
        .collect();
    let districts = state.store.districts().await?;
    let mut kinds = vec![("".to_string(), "全部类型".to_string())];
    kinds.extend(
        FilingKind::ALL
            .iter()
            .map(|k| (k.as_str().into(), k.label().into())),
    );
    let mut states = vec![("".to_string(), "全部状态".to_string())];
    states.extend(
        FilingState::ALL
            .iter()
            .map(|s| (s.as_str().into(), s.label().into())),
    );
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "备案申请", "/filings")
            .with_flash(flash_text(q.msg.as_deref())),
        heading: "机构备案申请".into(),
        intro: "按等待时间排列（最早的在前）。社会培训评价组织、企业由区县初审并组织专家现场评审；行业协会（学会）、专项职业能力、增量增级别备案由市级统一组织受理与专家评审。".into(),
        new_link: (me.role() == Role::Institution)
            .then(|| ("/filings/new".to_string(), "新建备案申请".to_string())),
        filters: vec![
            Field::text("q", "机构名称/信用代码", q.q.clone().unwrap_or_default()),
            Field::text("district", "区县（市）", q.district.clone().unwrap_or_default())
                .select(super::institutions::district_options(&districts, "全部区县")),
            Field::text("kind", "备案类型", q.kind.clone().unwrap_or_default()).select(kinds),
            Field::text("state", "状态", q.state.clone().unwrap_or_default()).select(states),
            Field::text("occupation", "职业代码", q.occupation.clone().unwrap_or_default()),
        ],
        filter_action: "/filings".into(),
        headers: vec!["编号", "机构", "类型", "属地", "职业（工种）及等级", "状态", "已等待"],
        rows,
        pager: (&page).into(),
        base: list_base(
            "/filings",
            &[
                ("q", &q.q),
                ("district", &q.district),
                ("kind", &q.kind),
                ("state", &q.state),
                ("occupation", &q.occupation),
            ],
        ),
        empty: "没有待办或符合条件的备案申请。",
        printable: true,
    }))
}

#[derive(Deserialize, Default, Clone)]
pub struct NewFilingForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    occ1: String,
    #[serde(default)]
    levels1: String,
    #[serde(default)]
    occ2: String,
    #[serde(default)]
    levels2: String,
    #[serde(default)]
    occ3: String,
    #[serde(default)]
    levels3: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    shared_resources: String,
    #[serde(default)]
    commitment: String,
}

async fn form_page(
    state: &AppState,
    me: &Authed,
    f: &NewFilingForm,
    err: Option<AppError>,
) -> Result<FormPage, AppError> {
    let occs = state
        .store
        .list_occupations(
            &store::OccupationFilter::default(),
            PageRequest::new(Some(1), Some(200)),
        )
        .await?;
    let mut options = vec![("".to_string(), "请选择".to_string())];
    options.extend(occs.items.iter().filter(|o| o.active).map(|o| {
        let tag = if o.kind == "special" {
            "［专项］"
        } else {
            ""
        };
        (o.code.clone(), format!("{tag}{} {}", o.code, o.name))
    }));
    let kinds: Vec<(String, String)> = FilingKind::ALL
        .iter()
        .map(|k| {
            (
                k.as_str().to_string(),
                format!("{}（{}）", k.label(), k.clause()),
            )
        })
        .collect();
    let mut fields = vec![
        Field::text("kind", "备案类型", f.kind.clone())
            .select(kinds)
            .required(),
        Field::text("occ1", "职业（工种）1", f.occ1.clone())
            .select(options.clone())
            .required(),
        Field::text("levels1", "申报等级 1", f.levels1.clone())
            .hint("如 5,4,3；区县受理的初次备案限五、四、三级（三(一)）；专项职业能力不填"),
        Field::text("occ2", "职业（工种）2", f.occ2.clone()).select(options.clone()),
        Field::text("levels2", "申报等级 2", f.levels2.clone()),
        Field::text("occ3", "职业（工种）3", f.occ3.clone()).select(options),
        Field::text("levels3", "申报等级 3", f.levels3.clone())
            .hint("每次申报不超过3个职业（工种）（一(一)）"),
        Field::text(
            "shared_resources",
            "场地、设施、试题、考评员的共享/租用/购买服务情况",
            f.shared_resources.clone(),
        )
        .kind("textarea"),
        Field::text(
            "commitment",
            "书面承诺（企业可凭书面承诺及佐证材料免于现场评估）",
            f.commitment.clone(),
        )
        .kind("textarea"),
        Field::text("note", "备注", f.note.clone()).kind("textarea"),
    ];
    let mut error = None;
    if let Some(e) = err {
        match e {
            AppError::Invalid { field, message } => {
                let target = match field.as_str() {
                    "occupations" => "occ1",
                    "levels" => "levels1",
                    f => f,
                };
                error = super::kit::attach_error(&mut fields, target, message);
            }
            other => error = Some(other.to_string()),
        }
    }
    Ok(FormPage {
        layout: Layout::new(state, Some(me), "新建备案申请", "/filings"),
        heading: "新建备案申请".into(),
        crumbs: vec![("/filings".into(), "备案申请".into())],
        intro: "保存后为草稿，可上传材料，确认无误后提交。".into(),
        action: "/filings/new".into(),
        fields,
        error,
        submit: "保存草稿",
        cancel: "/filings".into(),
        confirm: None,
    })
}

async fn new_form(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    me.may(Action::FilingApply)?;
    let f = NewFilingForm {
        kind: "social_org".into(),
        levels1: "5,4,3".into(),
        ..Default::default()
    };
    Ok(render(&form_page(&state, &me, &f, None).await?))
}

fn parse_levels_text(s: &str) -> Result<Vec<u8>, AppError> {
    domain::occupation::parse_levels(s)
        .map(|v| v.iter().map(|l| l.number()).collect())
        .map_err(|e| AppError::invalid("levels", e.to_string()))
}

async fn new_submit(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<NewFilingForm>,
) -> Result<Response, AppError> {
    me.may(Action::FilingApply)?;
    let mut items = vec![];
    let mut bad = None;
    for (o, l) in [
        (&f.occ1, &f.levels1),
        (&f.occ2, &f.levels2),
        (&f.occ3, &f.levels3),
    ] {
        if o.trim().is_empty() {
            continue;
        }
        match parse_levels_text(l) {
            Ok(levels) => items.push(ItemInput {
                code: o.clone(),
                levels,
            }),
            Err(e) => bad = Some(e),
        }
    }
    let result = match bad {
        Some(e) => Err(e),
        None => {
            create_filing(
                &state,
                &me,
                &FilingInput {
                    kind: f.kind.clone(),
                    occupations: items,
                    note: f.note.clone(),
                    shared_resources: f.shared_resources.clone(),
                    commitment: f.commitment.clone(),
                    version: None,
                },
            )
            .await
        }
    };
    match result {
        Ok(app) => Ok(Redirect::to(&format!("/filings/{}?msg=created", app.id)).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::BadRequest(_))) => {
            let status = e.status();
            Ok(render_status(
                status,
                &form_page(&state, &me, &f, Some(e)).await?,
            ))
        }
        Err(e) => Err(e),
    }
}

pub struct ActionView {
    action: &'static str,
    label: &'static str,
    needs_reason: bool,
    danger: bool,
    upheld: bool,
}

#[derive(Template)]
#[template(path = "filing_detail.html")]
struct DetailView {
    layout: Layout,
    heading: String,
    id: i64,
    version: i64,
    error: Option<String>,
    props: Vec<(&'static str, String)>,
    links: Vec<(String, String)>,
    eligibility: Vec<String>,
    actions: Vec<ActionView>,
    can_draw: bool,
    redraw: bool,
    next_commitment: String,
    can_opine: bool,
    can_dispatch: bool,
    show_panel: bool,
    supervisors: Vec<(String, String)>,
    declinable: Vec<(i64, String)>,
    sections: Vec<(String, Vec<&'static str>, Vec<Vec<Cell>>)>,
    panel: DocumentsPanel,
    /// The city organises the review (统一组织开展): complete_onsite asks for the 评审方式.
    city_route: bool,
    /// 三(一): accepting this first filing needs a reason for levels above 三级.
    needs_level_reason: bool,
    /// The current panel's conclusion, shown with the 初评结果意见 form.
    panel_summary: String,
    panel_fail: bool,
    /// The dispatched supervisor may file its 督导意见.
    can_supervise: bool,
}

#[derive(Deserialize, Default)]
struct MsgQuery {
    msg: Option<String>,
    err: Option<String>,
}

async fn detail_view(
    state: &AppState,
    me: &Authed,
    id: i64,
    flash: Option<String>,
    error: Option<String>,
) -> Result<DetailView, AppError> {
    let store = &state.store;
    let app = store.filing(&me.scope(), id).await?;
    let st = app.state();
    let mut props: Vec<(&'static str, String)> = vec![
        ("机构", app.institution_name.clone()),
        ("统一社会信用代码", app.credit_code.clone()),
        (
            "备案类型",
            format!(
                "{}（{}）",
                kind_label(&app.kind),
                FilingKind::parse(&app.kind)
                    .map(|k| k.clause())
                    .unwrap_or("")
            ),
        ),
        (
            "办理方式",
            domain::filing::Route::parse(&app.route)
                .map(|r| r.label())
                .unwrap_or("")
                .to_string(),
        ),
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
    if let Some(m) = app
        .review_mode
        .as_deref()
        .and_then(domain::filing::ReviewMode::parse)
    {
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
            if app.route == "city" {
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
    if let Some(r) = store.province_report_of(id).await? {
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
    for x in store.exceptions_used_by(id).await? {
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
    let eligibility = if app.kind == "enterprise" && me.role() != Role::Expert {
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
    let draws = store.draws(id).await?;
    let organiser = st_machine.flow.organised_by(me.role());
    let can_draw = organiser
        && matches!(st, FilingState::DistrictPassed | FilingState::ExpertsDrawn)
        && st_machine.flow.onsite_review;
    let next_commitment = draws
        .iter()
        .find(|d| d.status == "committed")
        .map(|d| d.commitment.clone())
        .unwrap_or_default();
    let mut can_opine = false;
    let mut declinable = vec![];
    let mut draw_rows = vec![];
    let mut member_rows = vec![];
    for d in &draws {
        let (ok, _) = replay(d);
        draw_rows.push(vec![
            Cell::link(format!("第{}次", d.attempt), format!("/draws/{}", d.id)),
            Cell::new(match d.status.as_str() {
                "committed" => "已公布承诺值，未抽取",
                "drawn" => "有效",
                _ => "已被重新抽取取代",
            }),
            Cell::new(&d.commitment).class("mono"),
            Cell::new(format!(
                "{} 人（排除 {} 人）",
                d.pool.len(),
                d.exclusions.len()
            )),
            Cell::new(if d.status == "committed" {
                "—".to_string()
            } else if ok {
                "一致".into()
            } else {
                "不一致".into()
            }),
            Cell::new(d.reason.clone()),
            Cell::new(d.drawn_at.as_deref().map(beijing_time).unwrap_or_default()),
        ]);
        if d.status == "drawn" {
            for m in store.draw_members(d.id).await? {
                // Open (and changeable) until the 初评结果意见 is written.
                if me.role() == Role::Expert
                    && m.user_id == Some(me.account.id)
                    && m.status != "declined"
                    && matches!(st, FilingState::ExpertsDrawn | FilingState::OnsiteReviewed)
                {
                    can_opine = true;
                }
                if organiser
                    && m.status != "declined"
                    && m.opinion.is_none()
                    && st == FilingState::ExpertsDrawn
                {
                    declinable.push((m.expert_id, format!("{}（{}）", m.name, m.employer)));
                }
                member_rows.push(vec![
                    Cell::new(&m.name),
                    Cell::new(&m.employer),
                    Cell::new(match m.status.as_str() {
                        "selected" => "抽中",
                        "replacement" => "递补",
                        _ => "谢绝",
                    }),
                    Cell::new(m.decline_reason.clone().unwrap_or_default()),
                    Cell::new(m.conclusion.clone().unwrap_or_else(|| "待提交".into())),
                    Cell::new(m.opinion.clone().unwrap_or_default()),
                ]);
            }
        }
    }
    let events = store
        .filing_events(id)
        .await?
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
    let sup_rows = store.filing_supervisors(id).await?;
    let can_supervise = me.role() == Role::Supervisor
        && sup_rows
            .iter()
            .any(|s| s.user_id == me.account.id && s.status == "dispatched");
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
                Cell::new(if s.status == "dispatched" {
                    "已派遣"
                } else {
                    "待会同确认"
                }),
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
    let checklist = crate::filing::materials_checklist(state, &app).await?;
    if !checklist.is_empty() && !matches!(me.role(), Role::Expert | Role::Supervisor) {
        sections.insert(
            0,
            (
                format!(
                    "提交前须上传的材料（{}，依据：{}）",
                    kind_label(&app.kind),
                    state.policy.required_materials.clause
                ),
                vec!["材料", "状态"],
                checklist
                    .into_iter()
                    .map(|(_, label, present)| {
                        vec![
                            Cell::new(label),
                            Cell::new(if present { "已上传" } else { "未上传" }),
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
        && app.kind != "increment"
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
        heading: format!("{} · {}", app.institution_name, kind_label(&app.kind)),
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

async fn detail(
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

/// Re-show the application with the error, keeping the status.
/// After an action on application `id`: back to its page with a flash, or the page again with
/// the refusal shown (404/401/500 pass through).
async fn back_to_filing<T>(
    state: &AppState,
    me: &Authed,
    id: i64,
    result: Result<T, AppError>,
    msg: &str,
) -> Result<Response, AppError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/filings/{id}?msg={msg}")).into_response()),
        Err(e) => with_error(state, me, id, e).await,
    }
}

async fn with_error(
    state: &AppState,
    me: &Authed,
    id: i64,
    e: AppError,
) -> Result<Response, AppError> {
    match e {
        AppError::NotFound | AppError::Unauthorized | AppError::Internal(_) => Err(e),
        e => {
            let status = e.status();
            let view = detail_view(state, me, id, None, Some(e.to_string())).await?;
            Ok(render_status(status, &view))
        }
    }
}

#[derive(Deserialize)]
struct ActForm {
    action: String,
    #[serde(default)]
    reason: String,
    version: i64,
    #[serde(default)]
    upheld: Option<String>,
    #[serde(default)]
    review_mode: Option<String>,
    #[serde(default)]
    high_level_reason: String,
    #[serde(default)]
    override_reason: String,
}

async fn action(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ActForm>,
) -> Result<Response, AppError> {
    let input = ActionInput {
        action: f.action,
        reason: f.reason,
        version: f.version,
        upheld: f.upheld.as_deref() == Some("true"),
        attachments: vec![],
        review_mode: f.review_mode,
        high_level_reason: f.high_level_reason,
        override_reason: f.override_reason,
    };
    back_to_filing(&state, &me, id, act(&state, &me, id, &input).await, "done").await
}

#[derive(Deserialize)]
struct DrawForm {
    version: i64,
    #[serde(default)]
    reason: String,
}

async fn draw(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<DrawForm>,
) -> Result<Response, AppError> {
    let result = do_draw(
        &state,
        &me,
        id,
        &DrawInput {
            version: f.version,
            reason: f.reason,
        },
    )
    .await;
    back_to_filing(&state, &me, id, result, "drawn").await
}

#[derive(Deserialize)]
struct OpinionForm {
    conclusion: String,
    #[serde(default)]
    opinion: String,
}

async fn opinion(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<OpinionForm>,
) -> Result<Response, AppError> {
    let result = record_opinion(
        &state,
        &me,
        id,
        &OpinionInput {
            conclusion: f.conclusion,
            opinion: f.opinion,
        },
    )
    .await;
    back_to_filing(&state, &me, id, result, "opinion").await
}

async fn upload(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    mp: Multipart,
) -> Result<Response, AppError> {
    back_to_filing(
        &state,
        &me,
        id,
        store_filing_uploads(&state, &me, id, mp).await,
        "uploaded",
    )
    .await
}

#[derive(Template)]
#[template(path = "filing_receipt.html")]
struct ReceiptView {
    layout: Layout,
    id: i64,
    filing_no: String,
    filed_on: String,
    props: Vec<(&'static str, String)>,
    items: Vec<(String, String, String)>,
}

async fn receipt(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let app = state.store.filing(&me.scope(), id).await?;
    let Some(no) = app.filing_no.clone() else {
        return Err(AppError::Conflict("该申请尚未完成备案，没有回执".into()));
    };
    Ok(render(&ReceiptView {
        layout: Layout::new(&state, Some(&me), "备案回执", "/filings"),
        id,
        filing_no: no,
        filed_on: app.filed_on.clone().unwrap_or_default(),
        props: vec![
            ("机构名称", app.institution_name.clone()),
            ("统一社会信用代码", app.credit_code.clone()),
            ("备案类型", kind_label(&app.kind).to_string()),
            ("属地", app.district_name.clone()),
        ],
        items: app
            .items
            .iter()
            .map(|i| {
                let levels = domain::occupation::parse_levels(&i.levels)
                    .unwrap_or_default()
                    .iter()
                    .map(|l| l.name())
                    .collect::<Vec<_>>()
                    .join("、");
                (
                    i.code.clone(),
                    i.name.clone(),
                    if levels.is_empty() {
                        "—".into()
                    } else {
                        levels
                    },
                )
            })
            .collect(),
    }))
}

async fn draw_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let d = state.store.draw_in_scope(&me.scope(), id).await?;
    let (ok, problems) = replay(&d);
    let verdict = if d.status == "committed" {
        "尚未抽取".to_string()
    } else if ok {
        "一致：按公开的承诺值、候选池和种子重放，结果与记录相同".to_string()
    } else {
        format!("不一致：{}", problems.join("；"))
    };
    let excl = d
        .exclusions
        .iter()
        .map(|e| vec![Cell::new(e.expert_id.to_string()), Cell::new(&e.reason)])
        .collect();
    let page = super::kit::DetailPage {
        layout: Layout::new(&state, Some(&me), "抽取复核", "/filings"),
        heading: format!(
            "专家抽取复核 · 申请 #{} 第{}次",
            d.application_id, d.attempt
        ),
        crumbs: vec![
            ("/filings".into(), "备案申请".into()),
            (
                format!("/filings/{}", d.application_id),
                format!("申请 #{}", d.application_id),
            ),
        ],
        props: vec![
            ("复核结论", verdict),
            ("承诺值 SHA-256(secret)", d.commitment.clone()),
            ("平台随机数 secret（抽取后公开）", d.secret.clone()),
            ("候选池（专家编号）", format!("{:?}", d.pool)),
            ("候选池哈希", d.pool_hash.clone()),
            ("随机种子", d.seed.clone()),
            ("抽取人数", d.size.to_string()),
            ("抽取结果（含递补）", format!("{:?}", d.selected)),
            ("谢绝", format!("{:?}", d.declined)),
            ("重新抽取理由", d.reason.clone()),
            ("抽取人", d.drawn_by.clone().unwrap_or_default()),
            ("命令行复核", format!("skilleval draw verify {}", d.id)),
        ],
        links: vec![],
        buttons: vec![],
        sections: vec![("排除的专家及理由".into(), vec!["专家编号", "理由"], excl)],
    };
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
struct ExpertQuery {
    q: Option<String>,
    occupation: Option<String>,
    page: Option<i64>,
}

async fn experts(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ExpertQuery>,
) -> Result<Response, AppError> {
    me.may(Action::ExpertView)?;
    let page = state
        .store
        .list_experts(
            &ExpertFilter {
                q: q.q.clone(),
                occupation: q.occupation.clone(),
                district: None,
                active: None,
            },
            PageRequest::new(q.page, None),
        )
        .await?;
    let rows = page
        .items
        .iter()
        .map(|e| {
            vec![
                Cell::new(e.id.to_string()),
                Cell::new(&e.name),
                Cell::new(&e.id_masked).class("mono"),
                Cell::new(&e.employer),
                Cell::new(&e.title),
                Cell::new(
                    e.occupations
                        .iter()
                        .map(|o| o.2.clone())
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
                Cell::new(if e.active { "在库" } else { "停用" }),
                Cell::new(e.username.clone().unwrap_or_else(|| "—".into())),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "专家库", "/experts"),
        heading: "市级技能人才评价专家库".into(),
        intro: "由市职业技能鉴定中心维护。身份证号码脱敏显示；查看完整号码须经接口并记入审计日志。"
            .into(),
        new_link: (me.role() == Role::CityCenter)
            .then(|| ("/experts/import".to_string(), "从 Excel 导入".to_string())),
        filters: vec![
            Field::text("q", "姓名/单位/职称", q.q.clone().unwrap_or_default()),
            Field::text(
                "occupation",
                "可评审职业代码",
                q.occupation.clone().unwrap_or_default(),
            ),
        ],
        filter_action: "/experts".into(),
        headers: vec![
            "编号",
            "姓名",
            "身份证号码",
            "工作单位",
            "职称",
            "可评审职业（工种）",
            "状态",
            "平台账号",
        ],
        rows,
        pager: (&page).into(),
        base: list_base("/experts", &[("q", &q.q), ("occupation", &q.occupation)]),
        empty: "专家库暂无符合条件的专家。",
        printable: true,
    }))
}

#[derive(Deserialize, Default)]
struct PageQuery {
    page: Option<i64>,
}

async fn public_filings(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let page = state
        .store
        .public_filings(state.today(), PageRequest::new(q.page, None))
        .await?;
    let rows = page
        .items
        .iter()
        .map(|a| {
            vec![
                Cell::new(&a.institution_name),
                Cell::new(kind_label(&a.kind)),
                Cell::new(&a.district_name),
                Cell::new(items_text(a)),
                Cell::new(review_path_text(a)),
                Cell::new(a.publicity_text().unwrap_or_default()),
                Cell::new(if a.state == "publicity_paused" {
                    "异议处理中（公示暂停）"
                } else {
                    "公示中"
                }),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, me.as_ref(), "备案公示", "/public/filings"),
        heading: "评价机构备案公示".into(),
        intro: "以下机构经市职业技能鉴定中心会同市人社局职建处审核通过（评审经过见各行），现予公示。如有异议，请在公示期内以书面形式（署真实姓名和联系方式）向市职业技能鉴定中心反映，联系电话 0371-67185925、67185140；异议受理期间公示暂停，处理结果将书面答复。".into(),
        new_link: None,
        filters: vec![],
        filter_action: "/public/filings".into(),
        headers: vec![
            "机构名称",
            "备案类型",
            "属地",
            "职业（工种）及等级",
            "评审经过",
            "公示期",
            "状态",
        ],
        rows,
        pager: (&page).into(),
        base: "/public/filings?".into(),
        empty: "目前没有正在公示的备案申请。",
        printable: true,
    }))
}

/// 二(一)/一(一): "经区县初审" only for filings that went through a district.
fn review_path_text(a: &store::FilingApp) -> &'static str {
    if crate::review::went_through_district(a) {
        "经区县初审、专家评审，市级审核通过"
    } else {
        "市级统一组织专家评审，市级审核通过"
    }
}

#[derive(Deserialize, Default)]
pub struct PublicInstQuery {
    q: Option<String>,
    district: Option<String>,
    page: Option<i64>,
}

/// `/public/institutions`: filed institutions with their occupations and levels, searchable by
/// district and occupation (name or code).
pub async fn public_institutions(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
    Query(q): Query<PublicInstQuery>,
) -> Result<Response, AppError> {
    let page = state
        .store
        .public_filed(
            q.district.as_deref(),
            q.q.as_deref(),
            PageRequest::new(q.page, None),
        )
        .await?;
    let districts = state.store.districts().await?;
    let rows = page
        .items
        .iter()
        .map(|f| {
            let levels = domain::occupation::parse_levels(&f.levels)
                .unwrap_or_default()
                .iter()
                .map(|l| l.name())
                .collect::<Vec<_>>()
                .join("、");
            vec![
                Cell::new(&f.institution),
                Cell::new(&f.district),
                Cell::new(format!(
                    "{} {}{}",
                    f.occupation_code,
                    f.occupation_name,
                    if f.occupation_kind == "special" {
                        "（专项职业能力）"
                    } else {
                        ""
                    }
                )),
                Cell::new(if levels.is_empty() {
                    "—".into()
                } else {
                    levels
                }),
                Cell::new(&f.filing_no).class("mono"),
                Cell::new(&f.filed_on),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(
            &state,
            me.as_ref(),
            "已备案评价机构",
            "/public/institutions",
        ),
        heading: "已备案评价机构".into(),
        intro: "经专家评审、市职业技能鉴定中心会同市人社局职建处审核并公示无异议后备案的评价机构及其备案职业（工种）和等级（社会培训评价组织、企业经区县初审；行业协会（学会）、专项职业能力、增量增级别由市级统一组织评审）。"
            .into(),
        new_link: None,
        filters: vec![
            Field::text(
                "q",
                "职业（工种）或机构名称",
                q.q.clone().unwrap_or_default(),
            ),
            Field::text(
                "district",
                "区县（市）",
                q.district.clone().unwrap_or_default(),
            )
            .select(super::institutions::district_options(
                &districts,
                "全部区县",
            )),
        ],
        filter_action: "/public/institutions".into(),
        headers: vec![
            "机构名称",
            "属地",
            "职业（工种）",
            "备案等级",
            "备案编号",
            "备案日期",
        ],
        rows,
        pager: (&page).into(),
        base: list_base(
            "/public/institutions",
            &[("q", &q.q), ("district", &q.district)],
        ),
        empty: "目前尚无完成备案的评价机构。备案完成并公示期满后，机构将列在这里。",
        printable: true,
    }))
}

#[derive(Template)]
#[template(path = "experts_import.html")]
struct ImportView {
    layout: Layout,
    error: Option<String>,
}

async fn import_page(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    me.may(Action::ExpertManage)?;
    Ok(render(&ImportView {
        layout: Layout::new(&state, Some(&me), "导入专家", "/experts"),
        error: None,
    }))
}

async fn import_submit(
    State(state): State<AppState>,
    me: Authed,
    mp: Multipart,
) -> Result<Response, AppError> {
    me.may(Action::ExpertManage)?;
    let result = match crate::filing::xlsx_of(&state, mp).await {
        Ok(bytes) => crate::filing::import_experts(&state, &me, &bytes).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/experts?msg=created").into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::BadRequest(_) | AppError::TooLarge(_))) => {
            let status = e.status();
            Ok(render_status(
                status,
                &ImportView {
                    layout: Layout::new(&state, Some(&me), "导入专家", "/experts"),
                    error: Some(e.to_string()),
                },
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct DispatchForm {
    username: String,
}

async fn dispatch(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<DispatchForm>,
) -> Result<Response, AppError> {
    back_to_filing(
        &state,
        &me,
        id,
        crate::filing::dispatch_supervisor(&state, &me, id, &f.username).await,
        "done",
    )
    .await
}

#[derive(Deserialize)]
struct SupervisionForm {
    #[serde(default)]
    opinion: String,
}

/// The supervisor's 督导意见; its attachments are the 督导意见附件 it uploaded to the application.
async fn supervision_opinion(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<SupervisionForm>,
) -> Result<Response, AppError> {
    let mine: Vec<i64> = state
        .store
        .documents_of("filing_application", id)
        .await?
        .into_iter()
        .filter(|g| g.latest.kind == "supervision" && g.latest.uploaded_by == Some(me.account.id))
        .map(|g| g.latest.id)
        .collect();
    let result = crate::review::file_supervision_opinion(
        &state,
        &me,
        id,
        &crate::review::SupervisionOpinionInput {
            opinion: f.opinion,
            attachments: mine,
        },
    )
    .await;
    back_to_filing(&state, &me, id, result, "done").await
}

#[derive(Deserialize)]
struct DeclineForm {
    expert_id: i64,
    #[serde(default)]
    reason: String,
}

async fn decline(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<DeclineForm>,
) -> Result<Response, AppError> {
    back_to_filing(
        &state,
        &me,
        id,
        crate::filing::decline_expert(&state, &me, id, f.expert_id, &f.reason).await,
        "done",
    )
    .await
}

async fn overdue(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    me.may(Action::FilingOverdue)?;
    let page = state
        .store
        .overdue_filings(&me.scope(), state.today(), PageRequest::new(q.page, None))
        .await?;
    let rows = page
        .items
        .iter()
        .map(|a| {
            vec![
                Cell::link(format!("#{}", a.id), format!("/filings/{}", a.id)),
                Cell::new(&a.institution_name),
                Cell::new(&a.district_name),
                Cell::new(kind_label(&a.kind)),
                Cell::new(state_label(&a.state)),
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
                let c = state.store.campaigns().await?;
                if c.is_empty() {
                    "暂无".to_string()
                } else {
                    c.iter()
                        .map(|c| format!("{}（期限 {}，共 {} 件，未办结 {} 件）", c.name, c.deadline, c.total, c.open))
                        .collect::<Vec<_>>()
                        .join("；")
                }
            }
        ),
        new_link: (me.role() == Role::CityCenter)
            .then(|| ("/filing-campaigns/new".to_string(), "设定移交批次期限".to_string())),
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
struct ExcQuery {
    status: Option<String>,
    page: Option<i64>,
    msg: Option<String>,
}

/// "2026年3月批次" or "市级另行开放批次 #2".
fn round_label(r: &str) -> String {
    match r.strip_prefix("extra-") {
        Some(id) => format!("市级另行开放批次 #{id}"),
        None => r
            .split_once('-')
            .map(|(y, m)| format!("{y}年{}月批次", m.trim_start_matches('0')))
            .unwrap_or_else(|| r.to_string()),
    }
}

fn rule_label(r: &str) -> &'static str {
    match r {
        "max_occupations_per_applicant" => "申报单位职业数（一(一)）",
        "increment_max_occupations" => "增量备案职业数（一(四)）",
        "max_institutions_per_occupation_per_district" => "同一职业同一区县机构数（一(一)）",
        _ => "其他",
    }
}

async fn exceptions(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ExcQuery>,
) -> Result<Response, AppError> {
    me.may(Action::ExceptionView)?;
    let page = state
        .store
        .list_exceptions(
            &me.scope(),
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
    let mut intro = format!("特殊情况申请由区县（市）人社部门为一家申报单位及其所列职业（工种）提出，经市鉴定中心与市人社局职建处共同审核（两方均同意方为同意，任一方不同意即不同意）；同意后{}天内有效，只能被一份申请使用一次，全程记入审计日志。", state.policy.exception_valid_days.value);
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
struct RaiseForm {
    institution_id: i64,
    rule: String,
    #[serde(default)]
    occupation_code: String,
    #[serde(default)]
    reason: String,
}

async fn raise_exception(
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
struct DecideForm {
    approve: String,
    #[serde(default)]
    reason: String,
}

async fn decide_exception(
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

async fn raise_form(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    me.may(Action::ExceptionRaise)?;
    let insts = state
        .store
        .list_institutions(
            &me.scope(),
            &store::InstitutionFilter::default(),
            PageRequest::new(Some(1), Some(200)),
        )
        .await?;
    let page = FormPage {
        layout: Layout::new(&state, Some(&me), "提出特殊情况申请", "/filing-exceptions"),
        heading: "提出特殊情况申请".into(),
        crumbs: vec![("/filing-exceptions".into(), "特殊情况申请".into())],
        intro: "确有特殊情况需突破职业数或同一职业机构数限制的，由区县（市）人社部门提出，经市人社部门审核后统筹安排（一(一)、一(四)）。".into(),
        action: "/filing-exceptions".into(),
        fields: vec![
            Field::text("institution_id", "机构", "")
                .select(insts.items.iter().map(|i| (i.id.to_string(), i.name.clone())).collect())
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

async fn decide_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    me.may(Action::ExceptionView)?;
    let x = state.store.exception(&me.scope(), id).await?;
    if !me.role().is_city_officer() || x.status != "pending" {
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
struct CampaignForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    deadline: String,
    #[serde(default)]
    applications: String,
}

fn campaign_page(
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

async fn campaign_form(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    me.may(Action::CampaignCreate)?;
    Ok(render(&campaign_page(
        &state,
        &me,
        &CampaignForm::default(),
        None,
    )))
}

async fn campaign_submit(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<CampaignForm>,
) -> Result<Response, AppError> {
    me.may(Action::CampaignCreate)?;
    let result: Result<(), AppError> = async {
        let deadline = chrono::NaiveDate::parse_from_str(f.deadline.trim(), "%Y-%m-%d")
            .map_err(|_| AppError::invalid("deadline", "期限应为 YYYY-MM-DD 格式的日期"))?;
        if f.name.trim().is_empty() {
            return Err(AppError::invalid("name", "请填写批次名称"));
        }
        let mut ids = vec![];
        for part in f
            .applications
            .split([',', '，', ' ', '、'])
            .filter(|p| !p.trim().is_empty())
        {
            let id: i64 = part.trim().trim_start_matches('#').parse().map_err(|_| {
                AppError::invalid("applications", format!("申请编号“{part}”应为数字"))
            })?;
            state
                .store
                .filing(&me.scope(), id)
                .await
                .map_err(|_| AppError::invalid("applications", format!("申请 #{id} 不存在")))?;
            ids.push(id);
        }
        state
            .store
            .create_campaign(
                &me.actor(),
                f.name.trim(),
                deadline,
                &state.policy.transferred_filings_deadline.clause,
                &ids,
            )
            .await?;
        Ok(())
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

// ---------------------------------------------------------------- 一(四) extra increment rounds

async fn rounds(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    me.may(Action::IncrementRoundView)?;
    let items = state.store.increment_rounds().await?;
    let total = items.len() as i64;
    let page = store::Page {
        items,
        total,
        page: 1,
        per_page: total.max(1),
    };
    let current = crate::filing::current_round(&state).await?;
    let rows = page
        .items
        .iter()
        .map(|r| {
            vec![
                Cell::new(format!("#{}", r.id)),
                Cell::new(format!("{} 至 {}", r.opens_on, r.closes_on)),
                Cell::new(&r.reason),
                Cell::new(&r.opened_by),
                Cell::new(beijing_time(&r.opened_at)),
            ]
        })
        .collect();
    let p = &state.policy;
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "增量增级别备案批次", "/filings")
            .with_flash(flash_text(q.msg.as_deref())),
        heading: "增量增级别备案批次".into(),
        intro: format!(
            "{}（{} {}）。当前：{}。市级可说明理由另行开放批次，开放记入审计日志；退回补正的增量申请，首次提交在批次内的，批次结束后仍可重新提交。",
            p.increment_months.text,
            p.document,
            p.increment_months.clause,
            current
                .as_deref()
                .map(round_label)
                .unwrap_or_else(|| "不在申报期内".into())
        ),
        new_link: me.role().is_city_officer().then(|| {
            (
                "/increment-rounds/new".to_string(),
                "另行开放批次".to_string(),
            )
        }),
        filters: vec![],
        filter_action: "/increment-rounds".into(),
        headers: vec!["编号", "开放期间", "理由", "开放人", "开放时间"],
        rows,
        pager: (&page).into(),
        base: list_base("/increment-rounds", &[]),
        empty: "市级尚未另行开放批次。",
        printable: true,
    }))
}

#[derive(Deserialize, Default)]
struct RoundForm {
    #[serde(default)]
    opens_on: String,
    #[serde(default)]
    closes_on: String,
    #[serde(default)]
    reason: String,
}

fn round_page(state: &AppState, me: &Authed, f: &RoundForm, err: Option<AppError>) -> FormPage {
    let mut fields = vec![
        Field::text("opens_on", "开始日期", f.opens_on.clone())
            .kind("date")
            .required(),
        Field::text("closes_on", "结束日期", f.closes_on.clone())
            .kind("date")
            .required(),
        Field::text("reason", "另行开放的理由", f.reason.clone())
            .kind("textarea")
            .required(),
    ];
    let mut error = None;
    if let Some(e) = err {
        match e {
            AppError::Invalid { field, message } => {
                error = super::kit::attach_error(&mut fields, &field, message);
            }
            other => error = Some(other.to_string()),
        }
    }
    FormPage {
        layout: Layout::new(state, Some(me), "另行开放增量增级别备案批次", "/filings"),
        heading: "另行开放增量增级别备案批次".into(),
        crumbs: vec![("/increment-rounds".into(), "增量增级别备案批次".into())],
        intro: format!(
            "“{}”（{}）：3月、9月以外另行开放须说明理由。",
            state.policy.increment_months.text, state.policy.increment_months.clause
        ),
        action: "/increment-rounds".into(),
        fields,
        error,
        submit: "开放批次",
        cancel: "/increment-rounds".into(),
        confirm: Some("确认另行开放增量增级别备案批次？开放将记入审计日志。".into()),
    }
}

async fn round_form(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    me.may(Action::IncrementRoundOpen)?;
    Ok(render(&round_page(
        &state,
        &me,
        &RoundForm::default(),
        None,
    )))
}

async fn round_submit(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<RoundForm>,
) -> Result<Response, AppError> {
    let input = crate::filing::RoundInput {
        opens_on: f.opens_on.clone(),
        closes_on: f.closes_on.clone(),
        reason: f.reason.clone(),
    };
    match crate::filing::open_round(&state, &me, &input).await {
        Ok(_) => Ok(Redirect::to("/increment-rounds?msg=saved").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            let status = e.status();
            Ok(render_status(status, &round_page(&state, &me, &f, Some(e))))
        }
        Err(e) => Err(e),
    }
}
