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

mod api;
mod pages;
use api::*;
use pages::*;

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

/// 指导记录 form: the enterprise in the caller's register, to record guidance on.
pub async fn enterprise_to_guide(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<Enterprise, AppError> {
    me.may(Action::EnterpriseManage)?;
    Ok(state.store.enterprise(&me.scope(), id).await?)
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
    check_guidance_allowed(
        e.institution_filing_status == Some(domain::institution::FilingStatus::Filed),
    )
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
