//! 企业筛查的页面。

use super::*;

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    pub(super) q: Option<String>,
    pub(super) outreach: Option<String>,
    pub(super) district: Option<String>,
    pub(super) page: Option<i64>,
    pub(super) msg: Option<String>,
}

impl ListQuery {
    pub(super) fn filter(&self) -> EnterpriseFilter {
        EnterpriseFilter {
            q: self.q.clone(),
            outreach: self.outreach.clone(),
            district: self.district.clone(),
        }
    }
}

pub(super) fn flash(code: Option<&str>) -> Option<String> {
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

pub(super) fn outreach_options(all: bool) -> Vec<(String, String)> {
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

pub(super) fn yuan(v: i64) -> String {
    if v >= 10_000 && v % 10_000 == 0 {
        format!("{} 万元", v / 10_000)
    } else {
        format!("{v} 元")
    }
}

pub(super) async fn list_page(
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
            crate::reference::districts(&state, &me)
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

pub(super) async fn totals_page(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Response, AppError> {
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
pub(super) async fn api_template(_me: Authed) -> Result<Response, AppError> {
    template().await
}

pub(super) async fn template() -> Result<Response, AppError> {
    crate::imports::template_response(&register_spec())
}

#[derive(Template)]
#[template(path = "enterprise_import.html")]
pub(super) struct ImportPage {
    pub(super) layout: Layout,
    pub(super) error: Option<String>,
    pub(super) rows: Vec<RowError>,
}

/// A blank form: the route's gate (`enterprises.manage`) is the check; nothing is loaded.
pub(super) async fn import_form(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Response, AppError> {
    Ok(render(&ImportPage {
        layout: Layout::new(&state, Some(&me), "导入企业筛查台账", "/enterprises"),
        error: None,
        rows: vec![],
    }))
}

pub(super) async fn import_page(
    State(state): State<AppState>,
    me: Authed,
    mp: Multipart,
) -> Result<Response, AppError> {
    // The route's gate refused other roles before the body was read; `import_register` checks again.
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

pub(super) async fn detail_page(
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
        if e.institution_filing_status != Some(domain::institution::FilingStatus::Filed) {
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
pub(super) struct OutreachForm {
    #[serde(default)]
    pub(super) outreach: String,
    pub(super) version: Option<String>,
}

pub(super) async fn outreach_page(
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
pub(super) struct GuidanceForm {
    #[serde(default)]
    pub(super) note: String,
}

pub(super) fn guidance_form_page(
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

pub(super) async fn guidance_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let e = enterprise_to_guide(&state, &me, id).await?;
    Ok(render(&guidance_form_page(&state, &me, &e, "", None)))
}

pub(super) async fn guidance_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<GuidanceForm>,
) -> Result<Response, AppError> {
    match add_guidance(&state, &me, id, &f.note).await {
        Ok(_) => Ok(Redirect::to(&format!("/enterprises/{id}?msg=noted")).into_response()),
        Err(AppError::Invalid { message, .. }) => {
            let e = enterprise_to_guide(&state, &me, id).await?;
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
pub(super) struct WorkPlanTemplate {
    pub(super) layout: Layout,
    pub(super) min_employees: u32,
    pub(super) min_capital: String,
}

/// 一(二): a printable 工作方案 template for enterprises (public: enterprises print it before
/// they have an account).
pub(super) async fn work_plan_template(
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
