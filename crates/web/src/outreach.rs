//! 三(二) 企业筛查台账 and 一(二) 工作方案指导, shared by pages and the API: each function checks
//! the role and scope, asks the domain to decide and has the store persist.
//!
//! - the district imports its register from xlsx (all or nothing, per-row Chinese errors);
//! - 一(二)1 eligibility is computed for each row from the policy;
//! - the outreach status (未联系 / 已宣传 / 有意向 / 已申报 / 不符合) is tracked; a row whose
//!   credit code has a filing application links to it and shows 已申报;
//! - the district attaches guidance notes to enterprises that have not filed;
//! - the city sees totals by district.

use crate::api::with_upload_limit;
use crate::routing::guard;
use crate::routing::Routes;
use domain::Action;
use std::collections::{BTreeMap, HashSet};

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use domain::credit_code::CreditCode;
use domain::outreach::{
    check_guidance_allowed, register_eligibility, validate_guidance_note, Outreach,
};
use domain::Role;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{Enterprise, EnterpriseFilter, Guidance, NewEnterprise, PageRequest};

use crate::auth::{Authed, MaybeAuthed};
use crate::body::{FormBody, JsonBody};
use crate::error::AppError;
use crate::evaluation::{refused, RowError};
use crate::pages::kit::{ActionButton, Cell, DetailPage, Field, FormPage, ListPage};
use crate::pages::{beijing_time, list_base, render, render_status, Layout, Pager};
use crate::AppState;

/// The register template (crates/sheets).
pub fn register_spec() -> sheets::SheetSpec {
    use sheets::Column;
    sheets::SheetSpec {
        title: "企业筛查台账",
        columns: vec![
            Column::new("name", "企业名称")
                .required()
                .example("郑州示范餐饮管理有限公司"),
            Column::new("credit_code", "统一社会信用代码")
                .required()
                .hint("18位，GB 32100")
                .example("91410100MA44XXXXXX"),
            Column::new("employees", "员工人数")
                .required()
                .hint("整数")
                .example("180"),
            Column::new("capital_yuan", "注册资本（元）")
                .required()
                .hint("整数，单位元（300万元填 3000000）")
                .example("3000000"),
            Column::new("main_business", "主营业务")
                .required()
                .example("餐饮服务；餐饮管理"),
        ],
        instructions: vec![
            "依据郑人社办〔2022〕87号 三(二)：区县（市）人社部门要全面筛查辖区企业状况。",
            "每行一家企业；同一统一社会信用代码再次导入时更新名称、人数、资本和主营业务，宣传对接状态保留。",
            "导入为“全部成功或全部不导入”：任何一行有误，整个文件都不会导入，并列出每行的问题。",
            "是否符合一(二)1（员工150人以上或注册资本300万元以上）由平台按规则自动判断。",
        ],
    }
}

/// One register row as pages and the API show it: eligibility and the effective outreach.
#[derive(Debug, Clone, Serialize)]
pub struct EnterpriseView {
    #[serde(flatten)]
    pub row: Enterprise,
    pub eligible: bool,
    /// Why not (each naming its clause).
    pub eligibility_notes: Vec<String>,
    /// The status shown: 已申报 once a filing exists.
    pub outreach_effective: String,
    pub outreach_label: &'static str,
}

pub fn view(state: &AppState, e: Enterprise) -> EnterpriseView {
    let notes: Vec<String> = register_eligibility(
        &state.policy,
        e.employees.clamp(0, u32::MAX as i64) as u32,
        e.capital_yuan.max(0) as u64,
        &e.main_business,
    )
    .iter()
    .map(|r| r.to_string())
    .collect();
    let recorded = Outreach::parse(&e.outreach).unwrap_or(Outreach::Uncontacted);
    let eff = Outreach::effective(recorded, e.filing_id.is_some());
    EnterpriseView {
        eligible: notes.is_empty(),
        eligibility_notes: notes,
        outreach_effective: eff.as_str().into(),
        outreach_label: eff.label(),
        row: e,
    }
}

fn district_of(me: &Authed) -> Result<String, AppError> {
    me.may(Action::EnterpriseManage)?;
    me.account
        .district_code
        .clone()
        .ok_or_else(AppError::forbidden)
}

fn whole(field: &str, s: &str) -> Result<i64, String> {
    let t = s.trim().replace([',', '，'], "");
    let t = t.strip_suffix(".0").unwrap_or(&t);
    t.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| format!("{field}应为不小于0的整数"))
}

/// Import the district's register: every row checked first; nothing stored if any fails.
pub async fn import_register(
    state: &AppState,
    me: &Authed,
    bytes: Vec<u8>,
) -> Result<Result<(usize, usize), Vec<RowError>>, AppError> {
    let district = district_of(me)?;
    let spec = register_spec();
    let rows = crate::imports::read_sheet(&spec, bytes).await?;
    if rows.is_empty() {
        return Err(AppError::invalid("file", "模板中没有企业数据"));
    }
    let mut errors = vec![];
    let mut ok = vec![];
    let mut seen = HashSet::new();
    for r in &rows {
        let row = r.row as usize;
        let mut err = |field: &str, message: String| {
            errors.push(RowError {
                row,
                field: field.into(),
                message,
            })
        };
        let missing = r.missing_required(&spec);
        if !missing.is_empty() {
            for l in missing {
                err(l, "必填项为空".into());
            }
            continue;
        }
        let name = r.get("name").trim().to_string();
        if name.chars().count() > 100 {
            err("企业名称", "企业名称不能超过100字".into());
            continue;
        }
        let code = match CreditCode::parse(r.get("credit_code")) {
            Ok(c) => c.as_str().to_string(),
            Err(e) => {
                err("统一社会信用代码", e.to_string());
                continue;
            }
        };
        if !seen.insert(code.clone()) {
            err(
                "统一社会信用代码",
                "同一统一社会信用代码在文件中出现了两次".into(),
            );
            continue;
        }
        let employees = match whole("员工人数", r.get("employees")) {
            Ok(n) => n,
            Err(m) => {
                err("员工人数", m);
                continue;
            }
        };
        let capital = match whole("注册资本", r.get("capital_yuan")) {
            Ok(n) => n,
            Err(m) => {
                err("注册资本（元）", m);
                continue;
            }
        };
        ok.push(NewEnterprise {
            name,
            credit_code: code,
            employees,
            capital_yuan: capital,
            main_business: r.get("main_business").trim().chars().take(500).collect(),
        });
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(state
        .store
        .import_enterprises(&me.actor(), &district, &ok)
        .await?))
}

pub async fn list(
    state: &AppState,
    me: &Authed,
    f: &EnterpriseFilter,
    page: Option<i64>,
) -> Result<store::Page<EnterpriseView>, AppError> {
    me.may(Action::EnterpriseView)?;
    let p = state
        .store
        .list_enterprises(&me.scope(), f, PageRequest::new(page, None))
        .await?;
    Ok(store::Page {
        items: p.items.into_iter().map(|e| view(state, e)).collect(),
        total: p.total,
        page: p.page,
        per_page: p.per_page,
    })
}

pub async fn detail(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<(EnterpriseView, Vec<Guidance>), AppError> {
    me.may(Action::EnterpriseView)?;
    let e = state.store.enterprise(&me.scope(), id).await?;
    let notes = state.store.guidance_notes(e.id).await?;
    Ok((view(state, e), notes))
}

pub async fn set_outreach(
    state: &AppState,
    me: &Authed,
    id: i64,
    version: Option<i64>,
    outreach: &str,
) -> Result<EnterpriseView, AppError> {
    me.may(Action::EnterpriseManage)?;
    let o = Outreach::parse(outreach).ok_or_else(|| {
        AppError::invalid(
            "outreach",
            "状态应为 未联系、已宣传、有意向、已申报 或 不符合",
        )
    })?;
    let e = state.store.enterprise(&me.scope(), id).await?;
    let e = state
        .store
        .set_outreach(
            &me.actor(),
            &me.scope(),
            id,
            version.unwrap_or(e.version),
            o.as_str(),
        )
        .await?;
    Ok(view(state, e))
}

/// 一(二): guidance notes for an enterprise that has not filed yet.
pub async fn add_guidance(
    state: &AppState,
    me: &Authed,
    id: i64,
    note: &str,
) -> Result<Guidance, AppError> {
    me.may(Action::EnterpriseManage)?;
    let e = state.store.enterprise(&me.scope(), id).await?;
    validate_guidance_note(note)?;
    check_guidance_allowed(e.institution_filing_status.as_deref() == Some("filed"))
        .map_err(refused)?;
    Ok(state
        .store
        .add_guidance(&me.actor(), &e, note.trim())
        .await?)
}

/// The city's totals by district (a district sees its own line).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DistrictTotals {
    pub district_code: String,
    pub district_name: String,
    pub total: i64,
    pub eligible: i64,
    /// Effective outreach key → count.
    pub by_outreach: BTreeMap<String, i64>,
    pub linked_to_filing: i64,
}

pub async fn totals(state: &AppState, me: &Authed) -> Result<Vec<DistrictTotals>, AppError> {
    me.may(Action::EnterpriseView)?;
    let mut out: BTreeMap<String, DistrictTotals> = BTreeMap::new();
    for e in state.store.all_enterprises(&me.scope()).await? {
        let v = view(state, e);
        let t = out
            .entry(v.row.district_code.clone())
            .or_insert_with(|| DistrictTotals {
                district_code: v.row.district_code.clone(),
                district_name: v.row.district_name.clone(),
                by_outreach: Outreach::ALL
                    .iter()
                    .map(|o| (o.as_str().to_string(), 0))
                    .collect(),
                ..Default::default()
            });
        t.total += 1;
        t.eligible += v.eligible as i64;
        t.linked_to_filing += v.row.filing_id.is_some() as i64;
        *t.by_outreach
            .entry(v.outreach_effective.clone())
            .or_default() += 1;
    }
    Ok(out.into_values().collect())
}

// ---------------------------------------------------------------------------------------------
// Pages

pub fn router() -> Routes {
    Routes::new()
        .get("/enterprises", Action::EnterpriseView, list_page)
        .get("/enterprises/totals", Action::EnterpriseView, totals_page)
        .get(
            "/enterprises/template.xlsx",
            Action::EnterpriseManage,
            template,
        )
        .get("/enterprises/import", Action::EnterpriseManage, import_form)
        .upload("/enterprises/import", Action::EnterpriseManage, import_page)
        .get("/enterprises/{id}", Action::EnterpriseView, detail_page)
        .post(
            "/enterprises/{id}/outreach",
            Action::EnterpriseManage,
            outreach_page,
        )
        .get(
            "/enterprises/{id}/guidance",
            Action::EnterpriseManage,
            guidance_form,
        )
        .post(
            "/enterprises/{id}/guidance",
            Action::EnterpriseManage,
            guidance_page,
        )
        .get(
            "/public/work-plan-template",
            Action::PublicView,
            work_plan_template,
        )
}

/// `/api/v1/enterprises…`: registered with their OpenAPI operations (see `api::v1`).
pub fn api_routes() -> crate::api::ApiRouter {
    use utoipa_axum::routes;
    crate::api::ApiRouter::new()
        .routes(guard(Action::EnterpriseView, routes!(api_list)))
        .routes(guard(Action::EnterpriseView, routes!(api_totals)))
        .routes(guard(Action::EnterpriseManage, routes!(api_template)))
        .routes(guard(
            Action::EnterpriseManage,
            with_upload_limit(routes!(api_import)),
        ))
        .routes(guard(Action::EnterpriseView, routes!(api_detail)))
        .routes(guard(Action::EnterpriseManage, routes!(api_outreach)))
        .routes(guard(Action::EnterpriseManage, routes!(api_guidance)))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    q: Option<String>,
    outreach: Option<String>,
    district: Option<String>,
    page: Option<i64>,
    msg: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> EnterpriseFilter {
        EnterpriseFilter {
            q: self.q.clone(),
            outreach: self.outreach.clone(),
            district: self.district.clone(),
        }
    }
}

fn flash(code: Option<&str>) -> Option<String> {
    Some(
        match code? {
            "imported" => "台账已导入。",
            "saved" => "已保存。",
            "noted" => "指导意见已记录。",
            _ => return None,
        }
        .into(),
    )
}

fn outreach_options(all: bool) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = if all {
        vec![(String::new(), "全部".into())]
    } else {
        vec![]
    };
    v.extend(
        Outreach::ALL
            .iter()
            .map(|o| (o.as_str().to_string(), o.label().to_string())),
    );
    v
}

fn yuan(v: i64) -> String {
    if v >= 10_000 && v % 10_000 == 0 {
        format!("{} 万元", v / 10_000)
    } else {
        format!("{v} 元")
    }
}

async fn list_page(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let page = list(&state, &me, &q.filter(), q.page).await?;
    let district = me.role() == Role::District;
    let rows = page
        .items
        .iter()
        .map(|v| {
            let e = &v.row;
            vec![
                Cell::link(&e.name, format!("/enterprises/{}", e.id)),
                Cell::new(&e.credit_code).class("mono"),
                Cell::new(&e.district_name),
                Cell::new(e.employees.to_string()),
                Cell::new(yuan(e.capital_yuan)),
                Cell::new(if v.eligible { "符合" } else { "不符合" }),
                Cell::new(v.outreach_label),
                match e.filing_id {
                    Some(f) => Cell::link(format!("备案申请 {f}"), format!("/filings/{f}")),
                    None => Cell::new("—"),
                },
            ]
        })
        .collect();
    let mut filters = vec![
        Field::text("q", "名称、代码或主营业务", q.q.clone().unwrap_or_default()),
        Field::text("outreach", "状态", q.outreach.clone().unwrap_or_default())
            .select(outreach_options(true)),
    ];
    if !district {
        let mut opts = vec![(String::new(), "全部区县".to_string())];
        opts.extend(
            state
                .store
                .districts()
                .await?
                .into_iter()
                .map(|d| (d.code, d.name)),
        );
        filters.push(
            Field::text("district", "区县", q.district.clone().unwrap_or_default()).select(opts),
        );
    }
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "企业筛查台账", "/enterprises")
            .with_flash(flash(q.msg.as_deref())),
        heading: "企业筛查台账".into(),
        intro: "三(二)：区县（市）人社部门要全面筛查辖区企业状况。是否符合一(二)1按规则自动判断；企业提交备案申请后自动关联并显示“已申报”。汇总：/enterprises/totals。".into(),
        new_link: district.then(|| ("/enterprises/import".to_string(), "导入台账".to_string())),
        filters,
        filter_action: "/enterprises".into(),
        headers: vec!["企业", "统一社会信用代码", "区县", "员工", "注册资本", "一(二)1", "状态", "备案"],
        rows,
        pager: Pager::from(&page),
        base: list_base(
            "/enterprises",
            &[("q", &q.q), ("outreach", &q.outreach), ("district", &q.district)],
        ),
        empty: "台账中尚无企业。请下载模板填写后导入。",
        printable: true,
    }))
}

async fn totals_page(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    let t = totals(&state, &me).await?;
    let rows = t
        .iter()
        .map(|d| {
            let mut r = vec![
                Cell::link(
                    &d.district_name,
                    format!("/enterprises?district={}", d.district_code),
                ),
                Cell::new(d.total.to_string()),
                Cell::new(d.eligible.to_string()),
            ];
            for o in Outreach::ALL {
                r.push(Cell::new(
                    d.by_outreach
                        .get(o.as_str())
                        .copied()
                        .unwrap_or(0)
                        .to_string(),
                ));
            }
            r.push(Cell::new(d.linked_to_filing.to_string()));
            r
        })
        .collect();
    let pager = Pager {
        total: t.len() as i64,
        page: 1,
        pages: 1,
    };
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "企业筛查汇总", "/enterprises"),
        heading: "企业筛查汇总（按区县）".into(),
        intro: "三(二)：各区县企业筛查台账的汇总。".into(),
        new_link: None,
        filters: vec![],
        filter_action: "/enterprises/totals".into(),
        headers: vec![
            "区县",
            "企业数",
            "符合一(二)1",
            "未联系",
            "已宣传",
            "有意向",
            "已申报",
            "不符合",
            "已关联备案",
        ],
        rows,
        pager,
        base: "/enterprises/totals".into(),
        empty: "尚无区县导入台账。",
        printable: true,
    }))
}

/// The register's xlsx template.
#[utoipa::path(get, path = "/api/v1/enterprises/template.xlsx", tag = "企业筛查", operation_id = "enterprise_register_template", responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>, description = "企业名录导入模板（xlsx）")))]
async fn api_template(_me: Authed) -> Result<Response, AppError> {
    template().await
}

async fn template() -> Result<Response, AppError> {
    crate::imports::template_response(&register_spec())
}

#[derive(Template)]
#[template(path = "enterprise_import.html")]
struct ImportPage {
    layout: Layout,
    error: Option<String>,
    rows: Vec<RowError>,
}

async fn import_form(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    me.may(Action::EnterpriseManage)?;
    Ok(render(&ImportPage {
        layout: Layout::new(&state, Some(&me), "导入企业筛查台账", "/enterprises"),
        error: None,
        rows: vec![],
    }))
}

async fn import_page(
    State(state): State<AppState>,
    me: Authed,
    mp: Multipart,
) -> Result<Response, AppError> {
    me.may(Action::EnterpriseManage)?;
    let parts = crate::upload::read_upload(mp, state.config.max_upload_bytes).await?;
    let file = crate::upload::files(&parts)
        .find(|p| !p.bytes.is_empty())
        .ok_or_else(|| AppError::invalid("file", "请选择要导入的 Excel 文件"))?;
    let page = |error: String, rows: Vec<RowError>| ImportPage {
        layout: Layout::new(&state, Some(&me), "导入企业筛查台账", "/enterprises"),
        error: Some(error),
        rows,
    };
    match import_register(&state, &me, file.bytes.clone()).await {
        Ok(Ok(_)) => Ok(Redirect::to("/enterprises?msg=imported").into_response()),
        Ok(Err(rows)) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(
                format!(
                    "发现{}处错误，全部数据未导入。请修正后重新上传。",
                    rows.len()
                ),
                rows,
            ),
        )),
        Err(AppError::Invalid { message, .. }) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(message, vec![]),
        )),
        Err(e) => Err(e),
    }
}

async fn detail_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let (v, notes) = detail(&state, &me, id).await?;
    let e = &v.row;
    let mut props: Vec<(&'static str, String)> = vec![
        ("企业名称", e.name.clone()),
        ("统一社会信用代码", e.credit_code.clone()),
        ("区县", e.district_name.clone()),
        ("员工人数", e.employees.to_string()),
        ("注册资本", yuan(e.capital_yuan)),
        ("主营业务", e.main_business.clone()),
        (
            "一(二)1 条件",
            if v.eligible {
                "符合".into()
            } else {
                v.eligibility_notes.join("；")
            },
        ),
        ("宣传对接状态", v.outreach_label.to_string()),
    ];
    props.push((
        "备案",
        match (e.filing_id, &e.institution_filing_status) {
            (Some(f), Some(s)) => format!("已申报（备案申请 {f}，机构状态 {s}）"),
            (Some(f), None) => format!("已申报（备案申请 {f}）"),
            _ => "尚未申报".into(),
        },
    ));
    let mut links = vec![(
        "/public/work-plan-template".to_string(),
        "工作方案模板（可打印）".to_string(),
    )];
    if let Some(f) = e.filing_id {
        links.push((format!("/filings/{f}"), "查看备案申请".into()));
    }
    let mut buttons = vec![];
    if me.role() == Role::District {
        if e.institution_filing_status.as_deref() != Some("filed") {
            links.push((
                format!("/enterprises/{id}/guidance"),
                "记录工作方案指导".into(),
            ));
        }
        for o in Outreach::ALL {
            if o.as_str() != e.outreach {
                buttons.push(ActionButton {
                    action: format!("/enterprises/{id}/outreach"),
                    label: o.label(),
                    danger: false,
                    confirm: None,
                    hidden: vec![
                        ("outreach", o.as_str().to_string()),
                        ("version", e.version.to_string()),
                    ],
                });
            }
        }
    }
    let sections = vec![(
        "工作方案指导记录（一(二)）".to_string(),
        vec!["时间", "指导人", "指导意见"],
        notes
            .iter()
            .map(|n| {
                vec![
                    Cell::new(beijing_time(&n.at)),
                    Cell::new(&n.author),
                    Cell::new(&n.note),
                ]
            })
            .collect(),
    )];
    Ok(render(&DetailPage {
        layout: Layout::new(&state, Some(&me), e.name.clone(), "/enterprises")
            .with_flash(flash(q.msg.as_deref())),
        heading: e.name.clone(),
        crumbs: vec![("/enterprises".into(), "企业筛查台账".into())],
        props,
        links,
        buttons,
        sections,
    }))
}

#[derive(Deserialize, Default)]
struct OutreachForm {
    #[serde(default)]
    outreach: String,
    version: Option<String>,
}

async fn outreach_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<OutreachForm>,
) -> Result<Response, AppError> {
    let version = f.version.as_deref().and_then(|v| v.trim().parse().ok());
    set_outreach(&state, &me, id, version, &f.outreach).await?;
    Ok(Redirect::to(&format!("/enterprises/{id}?msg=saved")).into_response())
}

#[derive(Deserialize, Default)]
struct GuidanceForm {
    #[serde(default)]
    note: String,
}

fn guidance_form_page(
    state: &AppState,
    me: &Authed,
    e: &Enterprise,
    note: &str,
    error: Option<String>,
) -> FormPage {
    let mut field = Field::text("note", "指导意见", note)
        .kind("textarea")
        .required()
        .hint("如：工作方案应写明评价职业（工种）与等级、场地设施（可共享、租用或购买服务）、考评员、质量督导等");
    field.error = error;
    FormPage {
        layout: Layout::new(state, Some(me), "工作方案指导", "/enterprises"),
        heading: format!("工作方案指导：{}", e.name),
        crumbs: vec![
            ("/enterprises".into(), "企业筛查台账".into()),
            (format!("/enterprises/{}", e.id), e.name.clone()),
        ],
        intro: "一(二)：区县（市）人社部门要指导未备案企业制定工作方案，最大程度简化流程，尽可能减少需提交材料。可打印工作方案模板：/public/work-plan-template。".into(),
        action: format!("/enterprises/{}/guidance", e.id),
        fields: vec![field],
        error: None,
        submit: "记录",
        cancel: format!("/enterprises/{}", e.id),
        confirm: None,
    }
}

async fn guidance_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    me.may(Action::EnterpriseManage)?;
    let e = state.store.enterprise(&me.scope(), id).await?;
    Ok(render(&guidance_form_page(&state, &me, &e, "", None)))
}

async fn guidance_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<GuidanceForm>,
) -> Result<Response, AppError> {
    match add_guidance(&state, &me, id, &f.note).await {
        Ok(_) => Ok(Redirect::to(&format!("/enterprises/{id}?msg=noted")).into_response()),
        Err(AppError::Invalid { message, .. }) => {
            let e = state.store.enterprise(&me.scope(), id).await?;
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &guidance_form_page(&state, &me, &e, &f.note, Some(message)),
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "work_plan_template.html")]
struct WorkPlanTemplate {
    layout: Layout,
    min_employees: u32,
    min_capital: String,
}

/// 一(二): a printable 工作方案 template for enterprises (public: enterprises print it before
/// they have an account).
async fn work_plan_template(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
) -> Result<Response, AppError> {
    Ok(render(&WorkPlanTemplate {
        layout: Layout::new(&state, me.as_ref(), "企业技能等级认定工作方案（模板）", ""),
        min_employees: state.policy.enterprise_min_employees.value,
        min_capital: yuan(state.policy.enterprise_min_capital_yuan.value as i64),
    }))
}

// ---------------------------------------------------------------------------------------------
// API

/// The OpenAPI paths of this module (merged into `/api/openapi.json`).

#[derive(Deserialize, Default)]
struct ApiQuery {
    q: Option<String>,
    outreach: Option<String>,
    district: Option<String>,
    page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/enterprises", tag = "企业筛查", operation_id = "enterprise_list", params(("q" = Option<String>, Query), ("outreach" = Option<String>, Query, description = "uncontacted|informed|interested|applied|ineligible"), ("district" = Option<String>, Query), ("page" = Option<i64>, Query)), responses((status = 200, body = crate::api::schema::Object, description = "{items:[{…, eligible, eligibility_notes, outreach_effective, filing_id}], total}"), (status = 403, description = "仅区县与市级")))]
async fn api_list(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ApiQuery>,
) -> Result<Response, AppError> {
    let f = EnterpriseFilter {
        q: q.q,
        outreach: q.outreach,
        district: q.district,
    };
    let p = list(&state, &me, &f, q.page).await?;
    Ok(
        Json(json!({ "items": p.items, "total": p.total, "page": p.page, "per_page": p.per_page }))
            .into_response(),
    )
}

#[utoipa::path(get, path = "/api/v1/enterprises/totals", tag = "企业筛查", operation_id = "enterprise_totals", responses((status = 200, body = crate::api::schema::Object, description = "{districts:[{district_code, total, eligible, by_outreach, linked_to_filing}]}")))]
async fn api_totals(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    Ok(Json(json!({ "districts": totals(&state, &me).await? })).into_response())
}

#[utoipa::path(get, path = "/api/v1/enterprises/{id}", tag = "企业筛查", operation_id = "enterprise_detail", params(("id" = i64, Path)), responses((status = 200, body = crate::api::schema::Object, description = "{enterprise, guidance}"), (status = 404, description = "不存在或不在本区县")))]
async fn api_detail(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (v, notes) = detail(&state, &me, id).await?;
    Ok(Json(json!({ "enterprise": v, "guidance": notes })).into_response())
}

/// Body: the xlsx file itself.
#[utoipa::path(post, path = "/api/v1/enterprises/import", tag = "企业筛查", operation_id = "enterprise_import", request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), responses((status = 200, body = crate::api::schema::Object, description = "{added, updated}"), (status = 422, description = "全部未导入：{message, rows:[{row, field, message}]}")))]
async fn api_import(
    State(state): State<AppState>,
    me: Authed,
    body: Bytes,
) -> Result<Response, AppError> {
    Ok(match import_register(&state, &me, body.to_vec()).await? {
        Ok((added, updated)) => {
            Json(json!({ "state": "done", "added": added, "updated": updated })).into_response()
        }
        Err(rows) => crate::api::plans::rows_error(
            format!("发现{}处错误，全部数据未导入", rows.len()),
            &rows,
        ),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
struct OutreachBody {
    outreach: String,
    version: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/enterprises/{id}/outreach", tag = "企业筛查", operation_id = "enterprise_outreach", params(("id" = i64, Path)), request_body = OutreachBody, responses((status = 200, body = crate::api::schema::Object, description = "{enterprise}"), (status = 409, description = "版本冲突"), (status = 422, description = "状态无效")))]
async fn api_outreach(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<OutreachBody>,
) -> Result<Response, AppError> {
    let v = set_outreach(&state, &me, id, b.version, &b.outreach).await?;
    Ok(Json(json!({ "enterprise": v })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct GuidanceBody {
    #[serde(default)]
    note: String,
}

#[utoipa::path(post, path = "/api/v1/enterprises/{id}/guidance", tag = "企业筛查", operation_id = "enterprise_guidance", params(("id" = i64, Path)), request_body = GuidanceBody, responses((status = 201, body = crate::api::schema::Object, description = "{guidance}"), (status = 422, description = "已备案企业（一(二)）或内容长度不符")))]
async fn api_guidance(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<GuidanceBody>,
) -> Result<Response, AppError> {
    let g = add_guidance(&state, &me, id, &b.note).await?;
    Ok((StatusCode::CREATED, Json(json!({ "guidance": g }))).into_response())
}
