//! 备案公示与已备案机构（公开，无需登录）。

use super::*;

pub(super) async fn public_filings(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let page =
        crate::published::filings_in_publicity(&state, PageRequest::new(q.page, None)).await?;
    let rows = page
        .items
        .iter()
        .map(|a| {
            vec![
                Cell::new(&a.institution_name),
                Cell::new(a.kind.label()),
                Cell::new(&a.district_name),
                Cell::new(items_text(a)),
                Cell::new(review_path_text(a)),
                Cell::new(a.publicity_text().unwrap_or_default()),
                Cell::new(if a.state == domain::filing::FilingState::PublicityPaused {
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
pub(super) fn review_path_text(a: &store::FilingApp) -> &'static str {
    if crate::review::went_through_district(a) {
        "经区县初审、专家评审，市级审核通过"
    } else {
        "市级统一组织专家评审，市级审核通过"
    }
}

#[derive(Deserialize, Default)]
pub struct PublicInstQuery {
    pub(super) q: Option<String>,
    pub(super) district: Option<String>,
    pub(super) page: Option<i64>,
}

/// `/public/institutions`: filed institutions with their occupations and levels, searchable by
/// district and occupation (name or code).
pub async fn public_institutions(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
    Query(q): Query<PublicInstQuery>,
) -> Result<Response, AppError> {
    let page = crate::published::filed_institutions(
        &state,
        q.district.as_deref(),
        q.q.as_deref(),
        PageRequest::new(q.page, None),
    )
    .await?;
    let districts = state.display_districts().await?;
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
                    if f.occupation_kind == domain::reference::ItemKind::Special {
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
            .select(super::super::institutions::district_options(
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
pub(super) struct ImportView {
    pub(super) layout: Layout,
    pub(super) error: Option<String>,
}
