//! The pages of 档案保管: the due list (per district and for the city, printable, xlsx export),
//! a record with its holds and disposal keys, the forms of each step — with a confirmation page
//! before the irreversible one — and the paper register.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use domain::retention::{self as dr, RetentionClass};
use domain::{Action, Scope};
use serde::Deserialize;
use store::{PageRequest, RetentionFilter, RetentionRecord};

use crate::auth::Authed;
use crate::error::AppError;
use crate::pages::kit::{ActionButton, Cell, DetailPage, Field, ListPage};
use crate::pages::{beijing_time, list_base, render, Layout, Pager};
use crate::routing::Routes;
use crate::AppState;

mod paper;
mod steps;

use paper::{paper_form, paper_list, paper_post};
use steps::{
    approve_post, execute_form, execute_post, hold_form, hold_post, lift_form, lift_post,
    propose_form, propose_post, withdraw_post,
};

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
    let f = q.filter();
    let records = super::due_list(&state, &me, &f).await?;
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
    let kept = r.state == dr::RecordState::Kept;
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
    if let Some(done) = d
        .disposals
        .iter()
        .find(|x| x.status == dr::DisposalStatus::Done)
    {
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
            Some(o) if o.status == dr::DisposalStatus::Proposed => {
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
            Some(o) if o.status == dr::DisposalStatus::Approved => links.push((
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
                Cell::new(x.status.label()),
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
