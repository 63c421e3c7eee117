//! 统计分析: the figures of the records as tables with server-side SVG bar charts, printable and
//! exported as xlsx. A district sees its own area; the city sees all and compares districts.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use domain::{Action, Scope};
use serde::Deserialize;
use store::{Statistics, Tally};

use super::{render, Layout};
use crate::auth::Authed;
use crate::error::AppError;
use crate::routing::Routes;
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/statistics", Action::StatisticsView, page)
        .get("/statistics/export.xlsx", Action::StatisticsView, export)
}

#[derive(Deserialize, Default)]
struct StatsQuery {
    /// The city may narrow to one district (区县代码); a district's own area is fixed.
    district: Option<String>,
}

/// One figure (统计表): its title, the column names and its rows, with the chart drawn from them.
pub struct Figure {
    pub title: &'static str,
    pub label_head: &'static str,
    pub count_head: &'static str,
    /// The second column (合格人数, 已备案), when the figure compares two counts.
    pub second_head: Option<&'static str>,
    pub rows: Vec<Tally>,
    pub svg: String,
}

impl Figure {
    fn new(
        title: &'static str,
        label_head: &'static str,
        count_head: &'static str,
        second_head: Option<&'static str>,
        rows: Vec<Tally>,
    ) -> Figure {
        let svg = bar_chart(title, &rows, second_head.map(|s| (count_head, s)));
        Figure {
            title,
            label_head,
            count_head,
            second_head,
            rows,
            svg,
        }
    }

    /// 合格率 / 备案率 of a row, as text ("—" when nothing to divide).
    pub fn rate(&self, t: &Tally) -> String {
        rate(t)
    }
}

fn rate(t: &Tally) -> String {
    if t.count == 0 {
        "—".into()
    } else {
        format!("{:.1}%", t.second as f64 * 100.0 / t.count as f64)
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart in SVG (no script, no inline style: presentation attributes and
/// classes only, which the CSP allows). With `legend` (the names of the two counts), a second,
/// darker bar shows the second count and a legend under the bars names both. A zero draws no
/// bar, only its value.
pub fn bar_chart(title: &str, rows: &[Tally], legend: Option<(&str, &str)>) -> String {
    const LABEL_W: i64 = 220;
    const BAR_W: i64 = 360;
    const ROW_H: i64 = 26;
    const LEGEND_H: i64 = 24;
    let paired = legend.is_some();
    let max = rows
        .iter()
        .map(|t| t.count.max(t.second))
        .max()
        .unwrap_or(0)
        .max(1);
    let bars_h = ROW_H * rows.len().max(1) as i64 + 10;
    let height = bars_h
        + if paired && !rows.is_empty() {
            LEGEND_H
        } else {
            0
        };
    let width = LABEL_W + BAR_W + 80;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\"><title>{}</title>",
        esc(title)
    );
    if rows.is_empty() {
        s.push_str("<text x=\"10\" y=\"20\" class=\"chart-empty\">暂无数据</text>");
    }
    for (i, t) in rows.iter().enumerate() {
        let y = 5 + ROW_H * i as i64;
        let w = t.count * BAR_W / max;
        // A small count still shows; a zero shows none.
        let w = if t.count > 0 { w.max(2) } else { 0 };
        let label: String = t.label.chars().take(16).collect();
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"chart-label\">{}</text>",
            LABEL_W - 8,
            y + 16,
            esc(&label)
        ));
        if w > 0 {
            s.push_str(&format!(
                "<rect x=\"{LABEL_W}\" y=\"{}\" width=\"{w}\" height=\"{}\" fill=\"#7aa6d6\" class=\"bar\"><title>{}：{}</title></rect>",
                y + 2,
                if paired { 10 } else { 20 },
                esc(&t.label),
                t.count
            ));
        }
        if paired && t.second > 0 {
            let w2 = (t.second * BAR_W / max).max(2);
            s.push_str(&format!(
                "<rect x=\"{LABEL_W}\" y=\"{}\" width=\"{w2}\" height=\"10\" fill=\"#1f4e8c\" class=\"bar second\"/>",
                y + 12,
            ));
        }
        let value = if paired {
            format!("{} / {}", t.count, t.second)
        } else {
            t.count.to_string()
        };
        s.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" class=\"chart-value\">{value}</text>",
            LABEL_W + w + 6,
            y + 16
        ));
    }
    if let Some((first, second)) = legend.filter(|_| !rows.is_empty()) {
        let y = bars_h + 4;
        s.push_str(&format!(
            "<g class=\"chart-legend\"><rect x=\"{LABEL_W}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"#7aa6d6\" class=\"legend-key\"/><text x=\"{}\" y=\"{}\" class=\"chart-label\">{}</text><rect x=\"{}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"#1f4e8c\" class=\"legend-key second\"/><text x=\"{}\" y=\"{}\" class=\"chart-label\">{}</text></g>",
            LABEL_W + 18,
            y + 11,
            esc(first),
            LABEL_W + 130,
            LABEL_W + 148,
            y + 11,
            esc(second)
        ));
    }
    s.push_str("</svg>");
    s
}

fn figures(st: Statistics) -> Vec<Figure> {
    vec![
        Figure::new(
            "已备案机构（按区县）",
            "区县",
            "机构数",
            None,
            st.institutions_by_district,
        ),
        Figure::new(
            "已备案机构（按类型）",
            "机构类型",
            "机构数",
            None,
            st.institutions_by_kind,
        ),
        Figure::new(
            "已备案机构（按职业）",
            "职业（工种）",
            "机构数",
            None,
            st.institutions_by_occupation,
        ),
        Figure::new(
            "备案申请（按状态）",
            "状态",
            "申请数",
            None,
            st.filings_by_state,
        ),
        Figure::new(
            "备案申请（按等待工作日数：提交至办结，未办结的至今日）",
            "等待工作日数",
            "申请数",
            None,
            st.filings_by_wait,
        ),
        Figure::new(
            "评价计划（按开考月份）",
            "月份",
            "计划数",
            None,
            st.plans_by_month,
        ),
        Figure::new(
            "考生与合格率（按职业和等级）",
            "职业（等级）",
            "考生数",
            Some("合格人数"),
            st.candidates_by_occupation_level,
        ),
        Figure::new(
            "企业筛查与备案（按区县，三(二)）",
            "区县",
            "筛查企业数",
            Some("已备案"),
            st.enterprises_by_district,
        ),
        Figure::new(
            "证书（按发证月份）",
            "月份",
            "证书数",
            None,
            st.certificates_by_month,
        ),
    ]
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct StatisticsPage {
    layout: Layout,
    today: String,
    area: String,
    city: bool,
    districts: Vec<(String, String, bool)>,
    figures: Vec<Figure>,
}

async fn page(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<StatsQuery>,
) -> Result<Response, AppError> {
    let (scope, st) = crate::statistics::statistics(&state, &me, q.district.as_deref()).await?;
    let divisions = crate::reference::divisions(&state, &me).await?;
    let area = match &scope {
        Scope::District(d) => divisions
            .iter()
            .find(|v| &v.code == d)
            .map(|v| v.name.clone())
            .unwrap_or_else(|| d.clone()),
        _ => "全市".to_string(),
    };
    let city = me.scope() == Scope::City;
    let districts = divisions
        .iter()
        .filter(|v| v.kind != domain::reference::DivisionKind::City && v.active)
        .map(|v| {
            let sel = q.district.as_deref() == Some(v.code.as_str());
            (v.code.clone(), v.name.clone(), sel)
        })
        .collect();
    Ok(render(&StatisticsPage {
        layout: Layout::new(&state, Some(&me), "统计分析", "/statistics"),
        today: state.today().format("%Y-%m-%d").to_string(),
        area,
        city,
        districts,
        figures: figures(st),
    }))
}

async fn export(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<StatsQuery>,
) -> Result<Response, AppError> {
    let (_, st) = crate::statistics::statistics(&state, &me, q.district.as_deref()).await?;
    let mut rows = vec![];
    for f in figures(st) {
        for t in &f.rows {
            rows.push(vec![
                f.title.to_string(),
                t.label.clone(),
                t.count.to_string(),
                f.second_head
                    .map(|_| t.second.to_string())
                    .unwrap_or_default(),
                f.second_head.map(|_| rate(t)).unwrap_or_default(),
            ]);
        }
    }
    let bytes = sheets::write_report(
        "统计分析",
        &["统计表", "项目", "数量", "对比数量（合格/已备案）", "比率"],
        &rows,
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let name = format!("统计分析-{}.xlsx", state.today().format("%Y%m%d"));
    Ok(crate::upload::send_bytes(
        &name,
        sheets::XLSX_CONTENT_TYPE,
        bytes,
    ))
}
