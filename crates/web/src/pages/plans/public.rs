//! 评价结果公示（公开，无需登录）。

use super::*;

pub(super) async fn public_results(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let page =
        crate::published::results_in_publicity(&state, q.q.clone(), PageRequest::new(q.page, None))
            .await?;
    let rows = page
        .items
        .iter()
        .map(|p| {
            vec![
                Cell::link(&p.plan_no, format!("/public/results/{}", p.id)).class("mono"),
                Cell::new(&p.institution_name),
                Cell::new(format!("{} {}", p.occupation_code, p.occupation_name)),
                Cell::new(p.results_publicity_text().unwrap_or_default()),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, me.as_ref(), "评价结果公示", "/public/results"),
        heading: "评价结果公示".into(),
        intro: "评价结果公示5个工作日，个人信息已脱敏。对公示结果有异议的，请在公示期内向评价机构所在区县人社部门反映。".into(),
        new_link: None,
        filters: vec![Field::text("q", "机构或职业", q.q.clone().unwrap_or_default())],
        filter_action: "/public/results".into(),
        headers: vec!["计划编号", "评价机构", "职业（工种）", "公示期"],
        rows,
        pager: Pager::from(&page),
        base: list_base("/public/results", &[("q", &q.q)]),
        empty: "目前没有公示中的评价结果。",
        printable: true,
    }))
}

pub(super) async fn public_result(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (p, rows) = crate::published::plan_results(&state, id).await?;
    let sc = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_else(|| "—".into());
    Ok(render(&DetailPage {
        layout: Layout::new(&state, me.as_ref(), "评价结果公示", "/public/results"),
        heading: format!("评价结果公示：{}", p.plan_no),
        crumbs: vec![("/public/results".into(), "评价结果公示".into())],
        props: vec![
            ("评价机构", p.institution_name.clone()),
            (
                "职业（工种）",
                format!("{} {}", p.occupation_code, p.occupation_name),
            ),
            ("评价时间", format!("{} 至 {}", p.start_date, p.end_date)),
            ("公示期", p.results_publicity_text().unwrap_or_default()),
        ],
        links: vec![],
        buttons: vec![],
        sections: vec![(
            "评价结果".into(),
            vec![
                "姓名",
                "证件号码",
                "等级",
                "理论",
                "技能",
                "综合评审",
                "结果",
            ],
            rows.iter()
                .map(|r| {
                    vec![
                        Cell::new(&r.name_masked),
                        Cell::new(&r.id_masked).class("mono"),
                        Cell::new(r.level.to_string()),
                        Cell::new(sc(r.theory_score)),
                        Cell::new(sc(r.skill_score)),
                        Cell::new(sc(r.review_score)),
                        Cell::new(if r.passed { "合格" } else { "不合格" }),
                    ]
                })
                .collect(),
        )],
    }))
}

// -- 回避: relations between supervisors and institutions (recorded by the city) ------------------
