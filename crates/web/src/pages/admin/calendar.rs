//! 工作日历的维护。

use super::*;

#[derive(Deserialize, Default)]
pub(super) struct CalQuery {
    pub(super) year: Option<i64>,
    pub(super) msg: Option<String>,
    pub(super) error: Option<String>,
}

pub(super) async fn calendar(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<CalQuery>,
) -> Result<Response, AppError> {
    let crate::reference::CalendarYear { years, year, days } =
        crate::reference::calendar(&state, &me, q.year).await?;
    let rows = days
        .iter()
        .map(|d| {
            vec![
                Cell::new(&d.day).class("mono"),
                Cell::new(d.kind.label()),
                Cell::new(&d.name),
            ]
        })
        .collect();
    let mut props = vec![(
        "已录入年度",
        years
            .iter()
            .map(|y| y.0.to_string())
            .collect::<Vec<_>>()
            .join("、"),
    )];
    if let Some((_, src)) = years.iter().find(|y| y.0 == year) {
        props.push(("依据", src.clone()));
    } else {
        props.push((
            "状态",
            format!("{year} 年节假日安排尚未录入：暂按临时日历（《全国年节及纪念日放假办法》法定节假日、周末及补休）推算，涉及该年度的日期均标注“临时日历”。请在国务院办公厅发布通知后录入正式安排。"),
        ));
    }
    props.push((
        "说明",
        "周六、周日为休息日，列为“调休上班”的除外；列为节假日的日期休息。".into(),
    ));
    let links = years
        .iter()
        .map(|(y, _)| (format!("/admin/calendar?year={y}"), format!("{y} 年")))
        .collect();
    let mut page = DetailPage {
        layout: Layout::new(&state, Some(&me), "工作日历", "/admin/calendar")
            .with_flash(flash_text(q.msg.as_deref())),
        heading: format!("工作日历：{year} 年"),
        crumbs: vec![],
        props,
        links,
        buttons: vec![],
        sections: vec![(
            format!("{year} 年节假日与调休"),
            vec!["日期", "类别", "名称"],
            rows,
        )],
    };
    if let Some(e) = q.error {
        page.layout.flash = None;
        page.props.insert(0, ("错误", e));
    }
    Ok(render_calendar(page, year))
}

#[derive(askama::Template)]
#[template(path = "calendar.html")]
pub(super) struct CalendarPage {
    pub(super) layout: super::super::Layout,
    pub(super) sheet: DetailPage,
    pub(super) next_year: i64,
}

pub(super) fn render_calendar(mut sheet: DetailPage, year: i64) -> Response {
    let layout = std::mem::replace(
        &mut sheet.layout,
        Layout {
            title: String::new(),
            user: None,
            nav: vec![],
            demo: false,
            flash: None,
            pinned_today: None,
        },
    );
    render(&CalendarPage {
        layout,
        sheet,
        next_year: year + 1,
    })
}

#[derive(Deserialize)]
pub(super) struct DayForm {
    #[serde(default)]
    pub(super) day: String,
    #[serde(default)]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) name: String,
}

pub(super) async fn calendar_day(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<DayForm>,
) -> Result<Response, AppError> {
    let year = crate::reference::set_calendar_day(&state, &me, &f.day, &f.kind, &f.name).await?;
    Ok(Redirect::to(&format!("/admin/calendar?year={year}&msg=saved")).into_response())
}

#[derive(Deserialize)]
pub(super) struct YearForm {
    #[serde(default)]
    pub(super) toml: String,
}

/// Add a year from the same TOML format as the shipped files (pasted or uploaded as text).
pub(super) async fn calendar_year(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<YearForm>,
) -> Result<Response, AppError> {
    let year = crate::reference::add_calendar_year(&state, &me, &f.toml).await?;
    Ok(Redirect::to(&format!("/admin/calendar?year={year}&msg=saved")).into_response())
}

// ---- API tokens (接口令牌) ----
