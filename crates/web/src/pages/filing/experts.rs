//! 专家库与抽取记录页面。

use super::*;

pub(super) async fn draw_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let d = crate::filing::draw(&state, &me, id).await?;
    let (ok, problems) = replay(&d);
    let verdict = if d.status == domain::draw::DrawStatus::Committed {
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
    let page = super::super::kit::DetailPage {
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
pub(super) struct ExpertQuery {
    pub(super) q: Option<String>,
    pub(super) occupation: Option<String>,
    pub(super) page: Option<i64>,
}

pub(super) async fn experts(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<ExpertQuery>,
) -> Result<Response, AppError> {
    let page = crate::filing::expert_library(
        &state,
        &me,
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
pub(super) struct PageQuery {
    pub(super) page: Option<i64>,
}

/// The form only shows; its route's gate (`ExpertManage`) is the permission, and
/// `import_experts_upload` checks it again when the file is sent.
pub(super) async fn import_page(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Response, AppError> {
    Ok(render(&ImportView {
        layout: Layout::new(&state, Some(&me), "导入专家", "/experts"),
        error: None,
    }))
}

pub(super) async fn import_submit(
    State(state): State<AppState>,
    me: Authed,
    mp: Multipart,
) -> Result<Response, AppError> {
    let result = crate::filing::import_experts_upload(&state, &me, mp).await;
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
pub(super) struct DispatchForm {
    pub(super) username: String,
}
