//! The pages of 档案保管: the due list (per district and for the city, printable, xlsx export),
//! a record with its holds and disposal keys, the forms of each step — with a confirmation page
//! before the irreversible one — and the paper register.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::retention::{self as dr, RetentionClass};
use domain::{Action, Scope};
use serde::Deserialize;
use store::{PageRequest, PaperFilter, RetentionFilter, RetentionRecord};

use super::PaperForm;
use crate::auth::Authed;
use crate::body::FormBody;
use crate::error::AppError;
use crate::pages::kit::{attach_error, ActionButton, Cell, DetailPage, Field, FormPage, ListPage};
use crate::pages::{beijing_time, list_base, render, render_status, Layout, Pager};
use crate::routing::Routes;
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/retention", Action::RetentionView, list_page)
        .get("/retention/export.xlsx", Action::RetentionView, export)
        .get("/retention/{id}", Action::RetentionView, detail_page)
        .get(
            "/retention/{id}/disposal",
            Action::RetentionApproveDisposal,
            propose_form,
        )
        .post(
            "/retention/{id}/disposal",
            Action::RetentionApproveDisposal,
            propose_post,
        )
        .post(
            "/retention/{id}/disposal/approve",
            Action::RetentionApproveDisposal,
            approve_post,
        )
        .post(
            "/retention/{id}/disposal/withdraw",
            Action::RetentionApproveDisposal,
            withdraw_post,
        )
        .get(
            "/retention/{id}/disposal/execute",
            Action::RetentionApproveDisposal,
            execute_form,
        )
        .post(
            "/retention/{id}/disposal/execute",
            Action::RetentionApproveDisposal,
            execute_post,
        )
        .get("/retention/{id}/hold", Action::RetentionHold, hold_form)
        .post("/retention/{id}/hold", Action::RetentionHold, hold_post)
        .get(
            "/retention/{id}/hold/lift",
            Action::RetentionHold,
            lift_form,
        )
        .post(
            "/retention/{id}/hold/lift",
            Action::RetentionHold,
            lift_post,
        )
        .get("/paper-records", Action::RetentionView, paper_list)
        .get(
            "/paper-records/new",
            Action::RetentionRegisterPaper,
            paper_form,
        )
        .post(
            "/paper-records/new",
            Action::RetentionRegisterPaper,
            paper_post,
        )
}

const STATES: &[(&str, &str)] = &[
    ("due", "已到期待销毁"),
    ("upcoming", "一年内到期"),
    ("kept", "全部在保"),
    ("held", "已冻结"),
    ("pending", "销毁审批中"),
    ("disposed", "已销毁（销毁记录）"),
    ("all", "全部"),
];

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    state: Option<String>,
    class: Option<String>,
    district: Option<String>,
    q: Option<String>,
    page: Option<i64>,
    msg: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> RetentionFilter {
        RetentionFilter {
            class: self.class.clone().filter(|c| !c.is_empty()),
            state: Some(
                self.state
                    .clone()
                    .filter(|s| STATES.iter().any(|(k, _)| *k == s.as_str()))
                    .unwrap_or_else(|| "due".into()),
            ),
            district: self.district.clone(),
            q: self.q.clone(),
        }
    }
}

fn class_options() -> Vec<(String, String)> {
    let mut v = vec![(String::new(), "全部类别".to_string())];
    v.extend(
        RetentionClass::ALL
            .iter()
            .filter(|c| **c != RetentionClass::Certificate)
            .map(|c| (c.as_str().to_string(), c.label().to_string())),
    );
    v
}

async fn district_options(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    let mut v = vec![
        (String::new(), "全市（含各区县）".to_string()),
        ("city".to_string(), "市级保管".to_string()),
    ];
    for d in state.store.divisions().await? {
        if d.kind != domain::reference::DivisionKind::City && d.active {
            v.push((d.code, d.name));
        }
    }
    Ok(v)
}

fn row(r: &RetentionRecord, today: chrono::NaiveDate) -> Vec<Cell> {
    vec![
        Cell::new(&r.class_label),
        Cell::link(&r.title, format!("/retention/{}", r.id)),
        Cell::new(&r.keeper_name),
        Cell::new(r.medium_label()),
        Cell::new(&r.closed_on).class("nowrap"),
        Cell::new(&r.due_on).class("nowrap"),
        Cell::new(r.status_label(today)).class("nowrap"),
    ]
}

const HEADERS: [&str; 7] = [
    "类别",
    "档案",
    "保管单位",
    "载体",
    "办结日期",
    "保存至",
    "状态",
];

async fn list_page(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let f = q.filter();
    let page = super::list(&state, &me, &f, PageRequest::new(q.page, None)).await?;
    let today = state.today();
    let city = me.scope() == Scope::City;
    let mut filters = vec![
        Field::text("state", "状态", f.state.clone().unwrap_or_default()).select(
            STATES
                .iter()
                .map(|(k, l)| (k.to_string(), l.to_string()))
                .collect(),
        ),
        Field::text("class", "类别", f.class.clone().unwrap_or_default()).select(class_options()),
    ];
    if city {
        filters.push(
            Field::text(
                "district",
                "保管单位",
                q.district.clone().unwrap_or_default(),
            )
            .select(district_options(&state).await?),
        );
    }
    filters.push(Field::text(
        "q",
        "档案名称",
        q.q.clone().unwrap_or_default(),
    ));
    let state_param = f.state.clone();
    let params: [(&str, &Option<String>); 4] = [
        ("state", &state_param),
        ("class", &q.class),
        ("district", &q.district),
        ("q", &q.q),
    ];
    let base = list_base("/retention", &params);
    let export = format!(
        "/retention/export.xlsx{}",
        base.trim_start_matches("/retention")
            .trim_end_matches(['&', '?'])
    );
    let rules = &state.policy;
    let intro = format!(
        "依据郑人社办〔2022〕87号 二(三)：纸质版材料保存{}年、电子版材料保存{}年，自办结之日起算；证书数据长期保存。{}到期的档案经两方同意（区县保管的：区县与市级；市级保管的：市鉴定中心与市人社局职建处）后方可销毁，冻结的档案解除前不得销毁。今天是 {}。",
        rules.retention_paper_years.value,
        rules.retention_electronic_years.value,
        if city {
            "市级可查看全市并按保管单位筛选。"
        } else {
            "区县查看本辖区保管的档案。"
        },
        today.format("%Y-%m-%d")
    );
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "档案保管", "/retention")
            .with_flash(flash(q.msg.as_deref())),
        heading: "档案保管与到期销毁".into(),
        intro,
        new_link: Some((export, "导出（xlsx）".into())),
        filters,
        filter_action: "/retention".into(),
        headers: HEADERS.to_vec(),
        rows: page.items.iter().map(|r| row(r, today)).collect(),
        pager: Pager::from(&page),
        base,
        empty:
            "当前筛选下没有档案。到期的档案会列在这里；可改选“一年内到期”或“全部在保”查看其他档案。",
        printable: true,
    }))
}

fn flash(code: Option<&str>) -> Option<String> {
    Some(
        match code? {
            "proposed" => "已提出销毁（第一把钥匙），待另一方确认。",
            "approved" => "双方已同意销毁，可执行销毁（或由每日的 retention run 执行）。",
            "withdrawn" => "销毁申请已撤回。",
            "disposed" => "已销毁：文件和个人信息已删除，保留销毁记录。",
            "held" => "已冻结：解除冻结前不得销毁。",
            "lifted" => "已解除冻结。",
            "paper" => "纸质档案已登记。",
            _ => return None,
        }
        .to_string(),
    )
}

async fn export(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    me.may(Action::RetentionView)?;
    let f = q.filter();
    let records = super::all(&state, &me.scope(), &f).await?;
    let today = state.today();
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.class_label.clone(),
                r.title.clone(),
                r.keeper_name.clone(),
                r.medium_label().to_string(),
                r.closed_on.clone(),
                r.due_on.clone(),
                r.clause.clone(),
                r.status_label(today),
                r.hold.clone().unwrap_or_default(),
                r.disposed_at
                    .as_deref()
                    .map(beijing_time)
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let bytes = sheets::write_report(
        "档案保管台账",
        &[
            "编号",
            "类别",
            "档案",
            "保管单位",
            "载体",
            "办结日期",
            "保存至",
            "依据",
            "状态",
            "冻结原因",
            "销毁时间",
        ],
        &rows,
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let name = format!("档案保管台账-{}.xlsx", today.format("%Y%m%d"));
    Ok(crate::upload::send_bytes(
        &name,
        sheets::XLSX_CONTENT_TYPE,
        bytes,
    ))
}

#[derive(Deserialize, Default)]
pub(super) struct MsgQuery {
    msg: Option<String>,
}

/// What a carried-out disposal removed, in words.
pub fn removed_text(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let n = |k: &str| v.get(k).and_then(|x| x.as_i64()).unwrap_or(0);
    let mut parts = vec![];
    if n("documents") > 0 {
        parts.push(format!("删除材料文件 {} 份", n("documents")));
    }
    if n("candidates_anonymised") > 0 {
        parts.push(format!(
            "清除 {} 名考生的个人信息",
            n("candidates_anonymised")
        ));
    }
    if n("certificate_holders_kept") > 0 {
        parts.push(format!(
            "{} 名持证人的证书数据随证书保留（仅清除联系方式等）",
            n("certificate_holders_kept")
        ));
    }
    if n("kept_for_certificates") > 0 {
        parts.push(format!(
            "{} 份证书照片随证书保留",
            n("kept_for_certificates")
        ));
    }
    if n("texts_cleared") > 0 {
        parts.push(format!(
            "清除含个人信息的记录文本 {} 处",
            n("texts_cleared")
        ));
    }
    if parts.is_empty() {
        "登记信息保留为销毁记录".into()
    } else {
        parts.join("；")
    }
}

/// A clause as people cite it: the notice's clauses with the notice's number.
fn clause_text(document: &str, clause: &str) -> String {
    if clause.contains('〔') || clause.starts_with("平台") || clause.starts_with("国家") {
        clause.to_string()
    } else {
        format!("{document} {clause}")
    }
}

fn side_label(s: &str) -> &'static str {
    dr::KeySide::parse(s).map_or("—", |k| k.label())
}

async fn detail_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let d = super::detail(&state, &me, id).await?;
    let r = &d.record;
    let today = state.today();
    let keeper = r.keeper();
    let kept = r.state == "kept";
    let side = dr::key_side(&keeper, me.role()).ok();
    let holds_key = me.can(Action::RetentionApproveDisposal) && side.is_some();
    let open = super::open_disposal(&d.disposals);
    let due = r.due_date().is_some_and(|due| due <= today);
    let mut props: Vec<(&'static str, String)> = vec![
        ("类别", format!("{}（{}）", r.class_label, r.medium_label())),
        ("档案", r.title.clone()),
        ("保管单位", r.keeper_name.clone()),
        ("办结日期", format!("{}（{}）", r.closed_on, d.closing)),
        ("保管期限", d.period.clone()),
        ("保存至", r.due_on.clone()),
        ("依据", clause_text(&state.policy.document, &r.clause)),
        ("状态", d.status_label.clone()),
    ];
    if let Some(p) = &d.paper {
        props.push(("存放地点", p.location.clone()));
        props.push(("保管人", p.custodian.clone()));
        props.push((
            "登记人",
            format!("{}（{}）", p.registered_by, beijing_time(&p.registered_at)),
        ));
        if !p.note.is_empty() {
            props.push(("备注", p.note.clone()));
        }
    }
    if let Some(h) = &r.hold {
        props.push(("冻结原因", h.clone()));
    }
    if kept {
        props.push(("销毁时将", d.disposal_effect.clone()));
    }
    if let Some(done) = d.disposals.iter().find(|x| x.status == "done") {
        props.push((
            "销毁记录",
            format!(
                "{} 由 {} 执行；原因：{}；两方同意：{}（{}）、{}（{}）；{}",
                done.executed_at
                    .as_deref()
                    .map(beijing_time)
                    .unwrap_or_default(),
                done.executed_by.clone().unwrap_or_default(),
                done.reason,
                side_label(&done.first_side),
                done.first_by,
                done.second_side.as_deref().map(side_label).unwrap_or("—"),
                done.second_by.clone().unwrap_or_default(),
                removed_text(&done.removed)
            ),
        ));
    }
    let mut links: Vec<(String, String)> = match r.subject_type.as_str() {
        "filing_application" => vec![(format!("/filings/{}", r.subject_id), "查看备案申请".into())],
        "plan" => vec![(format!("/plans/{}", r.subject_id), "查看评价计划".into())],
        _ => vec![],
    };
    let mut buttons: Vec<ActionButton> = vec![];
    let hidden = vec![("version", r.version.to_string())];
    if kept && holds_key && r.hold.is_none() {
        match open {
            None if due => links.push((
                format!("/retention/{id}/disposal"),
                "提出销毁（第一把钥匙）".into(),
            )),
            Some(o) if o.status == "proposed" => {
                let second = o
                    .first()
                    .is_some_and(|f| dr::second_key(&keeper, f, me.role()).is_ok());
                if second {
                    buttons.push(ActionButton {
                        action: format!("/retention/{id}/disposal/approve"),
                        label: "同意销毁（第二把钥匙）",
                        danger: true,
                        confirm: Some(format!(
                            "确认同意销毁“{}”？双方同意后即可执行销毁。",
                            r.title
                        )),
                        hidden: hidden.clone(),
                    });
                }
            }
            Some(o) if o.status == "approved" => links.push((
                format!("/retention/{id}/disposal/execute"),
                "执行销毁…".into(),
            )),
            _ => {}
        }
    }
    if kept && holds_key && open.is_some() {
        buttons.push(ActionButton {
            action: format!("/retention/{id}/disposal/withdraw"),
            label: "撤回销毁申请",
            danger: false,
            confirm: Some("确认撤回本销毁申请？".into()),
            hidden: hidden.clone(),
        });
    }
    if kept && me.can(Action::RetentionHold) {
        links.push((format!("/retention/{id}/hold"), "冻结（法律保全）".into()));
        for h in d.holds.iter().filter(|h| h.active()) {
            if dr::check_lift_hold(h.placed_by_city(), me.role()).is_ok() {
                links.push((
                    format!("/retention/{id}/hold/lift?hold={}", h.id),
                    "解除冻结".into(),
                ));
            }
        }
    }
    let holds = d
        .holds
        .iter()
        .map(|h| {
            vec![
                Cell::new(&h.reason),
                Cell::new(format!("{}（{}）", h.placed_by, beijing_time(&h.placed_at))),
                Cell::new(if h.active() {
                    "有效".to_string()
                } else {
                    format!(
                        "已由 {} 于 {} 解除：{}",
                        h.lifted_by.clone().unwrap_or_default(),
                        h.lifted_at.as_deref().map(beijing_time).unwrap_or_default(),
                        h.lift_reason.clone().unwrap_or_default()
                    )
                }),
            ]
        })
        .collect();
    let disposals = d
        .disposals
        .iter()
        .map(|x| {
            vec![
                Cell::new(x.status().map_or("—", |s| s.label())),
                Cell::new(&x.reason),
                Cell::new(format!(
                    "{} {}（{}）",
                    side_label(&x.first_side),
                    x.first_by,
                    beijing_time(&x.first_at)
                )),
                Cell::new(match (&x.second_side, &x.second_by, &x.second_at) {
                    (Some(s), Some(b), Some(a)) => {
                        format!("{} {}（{}）", side_label(s), b, beijing_time(a))
                    }
                    _ => "—".into(),
                }),
                Cell::new(match (&x.executed_by, &x.executed_at) {
                    (Some(b), Some(a)) => {
                        format!("{}（{}）：{}", b, beijing_time(a), removed_text(&x.removed))
                    }
                    _ => match (&x.withdrawn_by, &x.withdrawn_at) {
                        (Some(b), Some(a)) => format!("{} 于 {} 撤回", b, beijing_time(a)),
                        _ => "—".into(),
                    },
                }),
            ]
        })
        .collect();
    Ok(render(&DetailPage {
        layout: Layout::new(&state, Some(&me), "档案保管", "/retention")
            .with_flash(flash(q.msg.as_deref())),
        heading: r.title.clone(),
        crumbs: vec![("/retention".into(), "档案保管".into())],
        props,
        links,
        buttons,
        sections: vec![
            (
                "销毁审批（两把钥匙）".into(),
                vec!["状态", "原因", "第一把钥匙", "第二把钥匙", "执行"],
                disposals,
            ),
            ("冻结记录".into(), vec!["冻结原因", "设置", "状态"], holds),
        ],
    }))
}

#[derive(Deserialize, Default)]
pub(super) struct ReasonForm {
    version: Option<String>,
    #[serde(default)]
    reason: String,
    /// The hold to lift.
    hold: Option<String>,
    /// The confirmation checkbox of the irreversible step.
    confirm: Option<String>,
}

impl ReasonForm {
    fn version(&self) -> Option<i64> {
        self.version.as_deref().and_then(|v| v.trim().parse().ok())
    }
    fn hold(&self) -> Option<i64> {
        self.hold.as_deref().and_then(|v| v.trim().parse().ok())
    }
}

/// The three reason forms (提出销毁, 冻结, 解除冻结) and the confirmation of the irreversible step.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Propose,
    Hold,
    Lift,
    Execute,
}

impl Step {
    fn path(self, id: i64) -> String {
        match self {
            Step::Propose => format!("/retention/{id}/disposal"),
            Step::Hold => format!("/retention/{id}/hold"),
            Step::Lift => format!("/retention/{id}/hold/lift"),
            Step::Execute => format!("/retention/{id}/disposal/execute"),
        }
    }
}

fn step_page(
    state: &AppState,
    me: &Authed,
    step: Step,
    r: &RetentionRecord,
    hold: Option<i64>,
    reason: &str,
    error: Option<AppError>,
) -> Response {
    let (heading, intro, submit, confirm) = match step {
        Step::Propose => (
            "提出销毁（第一把钥匙）",
            format!(
                "“{}”已于 {} 保存期满（依据：{}）。提出后须由{}确认（第二把钥匙），再执行销毁。销毁时将{}。",
                r.title,
                r.due_on,
                r.clause,
                dr::key_side(&r.keeper(), me.role())
                    .map(|s| s.other().label())
                    .unwrap_or("另一方"),
                r.class().map_or("", |c| c.disposal_effect())
            ),
            "提出销毁",
            None,
        ),
        Step::Hold => (
            "冻结（法律保全）",
            format!(
                "冻结后“{}”不得销毁，直至解除冻结。请写明依据（如诉讼、信访、审计或调查的案号）。",
                r.title
            ),
            "冻结",
            None,
        ),
        Step::Lift => (
            "解除冻结",
            format!("解除后“{}”可按保管期限销毁。请写明解除的依据。", r.title),
            "解除冻结",
            None,
        ),
        Step::Execute => (
            "执行销毁",
            format!(
                "销毁“{}”（{}，保存至 {}）。销毁将{}。此操作不可恢复：销毁后只保留销毁记录（类别、编号、日期、审批人、原因）和审计记录。",
                r.title,
                r.class_label,
                r.due_on,
                r.class().map_or("", |c| c.disposal_effect())
            ),
            "执行销毁（不可恢复）",
            Some(format!("确认销毁“{}”？销毁后无法恢复。", r.title)),
        ),
    };
    let mut fields = vec![];
    if step == Step::Execute {
        fields.push(
            Field::text("confirm", "已核对上述内容，确认销毁（不可恢复）", "").kind("checkbox"),
        );
    } else {
        fields.push(
            Field::text("reason", "原因", reason)
                .kind("textarea")
                .required(),
        );
    }
    fields.push(Field::text("version", "", r.version.to_string()).kind("hidden"));
    if let Some(h) = hold {
        fields.push(Field::text("hold", "", h.to_string()).kind("hidden"));
    }
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status());
    let top = error.and_then(|e| match e {
        AppError::Invalid { field, message } => attach_error(&mut fields, &field, message),
        other => Some(other.to_string()),
    });
    render_status(
        status,
        &FormPage {
            layout: Layout::new(state, Some(me), heading, "/retention"),
            heading: heading.into(),
            crumbs: vec![
                ("/retention".into(), "档案保管".into()),
                (format!("/retention/{}", r.id), r.title.clone()),
            ],
            intro,
            action: step.path(r.id),
            fields,
            error: top,
            submit,
            cancel: format!("/retention/{}", r.id),
            confirm,
        },
    )
}

/// A failed step is shown again on its form (a 4xx with the Chinese message); a server error
/// goes to the error page.
async fn step_result<T>(
    state: &AppState,
    me: &Authed,
    step: Step,
    id: i64,
    f: &ReasonForm,
    result: Result<T, AppError>,
    msg: &str,
) -> Result<Response, AppError> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/retention/{id}?msg={msg}")).into_response()),
        Err(e) if e.status().is_client_error() && !matches!(e, AppError::NotFound) => {
            let r = state.store.retention_record(&me.scope(), id).await?;
            Ok(step_page(state, me, step, &r, f.hold(), &f.reason, Some(e)))
        }
        Err(e) => Err(e),
    }
}

async fn show_step(
    state: &AppState,
    me: &Authed,
    step: Step,
    id: i64,
    hold: Option<i64>,
) -> Result<Response, AppError> {
    let r = state.store.retention_record(&me.scope(), id).await?;
    Ok(step_page(state, me, step, &r, hold, "", None))
}

async fn propose_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    me.may(Action::RetentionApproveDisposal)?;
    show_step(&state, &me, Step::Propose, id, None).await
}

async fn propose_post(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ReasonForm>,
) -> Result<Response, AppError> {
    let r = super::propose(&state, &me, id, f.version(), &f.reason).await;
    step_result(&state, &me, Step::Propose, id, &f, r, "proposed").await
}

async fn approve_post(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ReasonForm>,
) -> Result<Response, AppError> {
    super::approve(&state, &me, id, f.version()).await?;
    Ok(Redirect::to(&format!("/retention/{id}?msg=approved")).into_response())
}

async fn withdraw_post(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ReasonForm>,
) -> Result<Response, AppError> {
    super::withdraw(&state, &me, id, f.version()).await?;
    Ok(Redirect::to(&format!("/retention/{id}?msg=withdrawn")).into_response())
}

async fn execute_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    me.may(Action::RetentionApproveDisposal)?;
    show_step(&state, &me, Step::Execute, id, None).await
}

async fn execute_post(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ReasonForm>,
) -> Result<Response, AppError> {
    let confirmed = matches!(f.confirm.as_deref(), Some("on" | "true" | "1"));
    let r = super::execute(&state, Some(&me), id, f.version(), confirmed).await;
    step_result(&state, &me, Step::Execute, id, &f, r, "disposed").await
}

async fn hold_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    me.may(Action::RetentionHold)?;
    show_step(&state, &me, Step::Hold, id, None).await
}

async fn hold_post(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ReasonForm>,
) -> Result<Response, AppError> {
    let r = super::place_hold(&state, &me, id, f.version(), &f.reason).await;
    step_result(&state, &me, Step::Hold, id, &f, r, "held").await
}

#[derive(Deserialize, Default)]
pub(super) struct LiftQuery {
    hold: Option<i64>,
}

async fn lift_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<LiftQuery>,
) -> Result<Response, AppError> {
    me.may(Action::RetentionHold)?;
    show_step(&state, &me, Step::Lift, id, q.hold).await
}

async fn lift_post(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<ReasonForm>,
) -> Result<Response, AppError> {
    let r = super::lift_hold(&state, &me, id, f.hold(), f.version(), &f.reason).await;
    step_result(&state, &me, Step::Lift, id, &f, r, "lifted").await
}

#[derive(Deserialize, Default)]
pub(super) struct PaperQuery {
    kind: Option<String>,
    q: Option<String>,
    district: Option<String>,
    page: Option<i64>,
    msg: Option<String>,
}

fn paper_kinds(all: &str) -> Vec<(String, String)> {
    let mut v = vec![(String::new(), all.to_string())];
    v.extend(
        dr::PaperKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), k.label().to_string())),
    );
    v
}

async fn paper_list(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<PaperQuery>,
) -> Result<Response, AppError> {
    let f = PaperFilter {
        kind: q.kind.clone().filter(|k| !k.is_empty()),
        q: q.q.clone(),
        district: q.district.clone(),
    };
    let page = super::list_paper(&state, &me, &f, PageRequest::new(q.page, None)).await?;
    let today = state.today();
    let city = me.scope() == Scope::City;
    let mut filters = vec![
        Field::text("kind", "档案类别", q.kind.clone().unwrap_or_default())
            .select(paper_kinds("全部类别")),
    ];
    if city {
        filters.push(
            Field::text(
                "district",
                "保管单位",
                q.district.clone().unwrap_or_default(),
            )
            .select(district_options(&state).await?),
        );
    }
    filters.push(Field::text(
        "q",
        "名称、存放地点或保管人",
        q.q.clone().unwrap_or_default(),
    ));
    let rows = page
        .items
        .iter()
        .map(|p| {
            vec![
                Cell::new(&p.kind_label),
                Cell::link(&p.title, format!("/retention/{}", p.record_id)),
                Cell::new(&p.keeper_name),
                Cell::new(&p.location),
                Cell::new(&p.custodian),
                Cell::new(&p.closed_on).class("nowrap"),
                Cell::new(&p.due_on).class("nowrap"),
                Cell::new(p.status_label(today)),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "纸质档案登记", "/paper-records")
            .with_flash(flash(q.msg.as_deref())),
        heading: "纸质档案登记".into(),
        intro: format!(
            "二(三)：纸质版材料保存{}年，自办结（归档）之日起算。登记档案名称、存放地点、保管人和办结日期后，平台计算保存期限，并与电子档案一同列入到期销毁清单。",
            state.policy.retention_paper_years.value
        ),
        new_link: me
            .can(Action::RetentionRegisterPaper)
            .then(|| ("/paper-records/new".to_string(), "登记纸质档案".to_string())),
        filters,
        filter_action: "/paper-records".into(),
        headers: vec![
            "类别", "档案名称", "保管单位", "存放地点", "保管人", "办结日期", "保存至", "状态",
        ],
        rows,
        pager: Pager::from(&page),
        base: list_base(
            "/paper-records",
            &[("kind", &q.kind), ("district", &q.district), ("q", &q.q)],
        ),
        empty: "尚未登记纸质档案。纸质材料办结归档后，请在此登记存放地点和保管人。",
        printable: true,
    }))
}

fn paper_page(state: &AppState, me: &Authed, f: &PaperForm, error: Option<AppError>) -> Response {
    let mut fields = vec![
        Field::text("kind", "档案类别", &f.kind)
            .select(paper_kinds("请选择"))
            .required(),
        Field::text("title", "档案名称（内容）", &f.title)
            .required()
            .hint("如：××机构初次备案纸质材料、评价工作计划 JH2026000001（纸质）"),
        Field::text("location", "存放地点", &f.location)
            .required()
            .hint("如：区人社局档案室 3 号柜第 2 层"),
        Field::text("custodian", "保管人", &f.custodian).required(),
        Field::text("closed_on", "办结（归档）日期", &f.closed_on)
            .kind("date")
            .required()
            .hint("保存期限自此日起算，不能晚于今天"),
        Field::text("note", "备注", &f.note).kind("textarea"),
    ];
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status());
    let top = error.and_then(|e| match e {
        AppError::Invalid { field, message } => attach_error(&mut fields, &field, message),
        other => Some(other.to_string()),
    });
    render_status(
        status,
        &FormPage {
            layout: Layout::new(state, Some(me), "登记纸质档案", "/paper-records"),
            heading: "登记纸质档案".into(),
            crumbs: vec![("/paper-records".into(), "纸质档案登记".into())],
            intro: format!(
                "{}保管的纸质档案。保存{}年（二(三) 纸质版材料保存三年），到期后经两方同意方可销毁。",
                if me.role().is_city_officer() {
                    "市级"
                } else {
                    "本区县"
                },
                state.policy.retention_paper_years.value
            ),
            action: "/paper-records/new".into(),
            fields,
            error: top,
            submit: "登记",
            cancel: "/paper-records".into(),
            confirm: None,
        },
    )
}

async fn paper_form(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    me.may(Action::RetentionRegisterPaper)?;
    Ok(paper_page(&state, &me, &PaperForm::default(), None))
}

async fn paper_post(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<PaperForm>,
) -> Result<Response, AppError> {
    match super::register_paper(&state, &me, &f).await {
        Ok(p) => Ok(Redirect::to(&format!("/retention/{}?msg=paper", p.record_id)).into_response()),
        Err(e) if e.status().is_client_error() => Ok(paper_page(&state, &me, &f, Some(e))),
        Err(e) => Err(e),
    }
}
