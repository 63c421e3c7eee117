//! 一(四) 增量批次。

use super::*;

// ---------------------------------------------------------------- 一(四) extra increment rounds

pub(super) async fn rounds(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<MsgQuery>,
) -> Result<Response, AppError> {
    let overview = crate::filing::increment_round_overview(&state, &me).await?;
    let items = overview.extra_rounds;
    let total = items.len() as i64;
    let page = store::Page {
        items,
        total,
        page: 1,
        per_page: total.max(1),
    };
    let current = overview.current;
    let rows = page
        .items
        .iter()
        .map(|r| {
            vec![
                Cell::new(format!("#{}", r.id)),
                Cell::new(format!("{} 至 {}", r.opens_on, r.closes_on)),
                Cell::new(&r.reason),
                Cell::new(&r.opened_by),
                Cell::new(beijing_time(&r.opened_at)),
            ]
        })
        .collect();
    let p = &state.policy;
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "增量增级别备案批次", "/filings")
            .with_flash(flash_text(q.msg.as_deref())),
        heading: "增量增级别备案批次".into(),
        intro: format!(
            "{}（{} {}）。当前：{}。市级可说明理由另行开放批次，开放记入审计日志；退回补正的增量申请，首次提交在批次内的，批次结束后仍可重新提交。",
            p.increment_months.text,
            p.document,
            p.increment_months.clause,
            current
                .as_deref()
                .map(round_label)
                .unwrap_or_else(|| "不在申报期内".into())
        ),
        new_link: me.role().is_city_officer().then(|| {
            (
                "/increment-rounds/new".to_string(),
                "另行开放批次".to_string(),
            )
        }),
        filters: vec![],
        filter_action: "/increment-rounds".into(),
        headers: vec!["编号", "开放期间", "理由", "开放人", "开放时间"],
        rows,
        pager: (&page).into(),
        base: list_base("/increment-rounds", &[]),
        empty: "市级尚未另行开放批次。",
        printable: true,
    }))
}

#[derive(Deserialize, Default)]
pub(super) struct RoundForm {
    #[serde(default)]
    pub(super) opens_on: String,
    #[serde(default)]
    pub(super) closes_on: String,
    #[serde(default)]
    pub(super) reason: String,
}

pub(super) fn round_page(
    state: &AppState,
    me: &Authed,
    f: &RoundForm,
    err: Option<AppError>,
) -> FormPage {
    let mut fields = vec![
        Field::text("opens_on", "开始日期", f.opens_on.clone())
            .kind("date")
            .required(),
        Field::text("closes_on", "结束日期", f.closes_on.clone())
            .kind("date")
            .required(),
        Field::text("reason", "另行开放的理由", f.reason.clone())
            .kind("textarea")
            .required(),
    ];
    let mut error = None;
    if let Some(e) = err {
        match e {
            AppError::Invalid { field, message } => {
                error = super::super::kit::attach_error(&mut fields, &field, message);
            }
            other => error = Some(other.to_string()),
        }
    }
    FormPage {
        layout: Layout::new(state, Some(me), "另行开放增量增级别备案批次", "/filings"),
        heading: "另行开放增量增级别备案批次".into(),
        crumbs: vec![("/increment-rounds".into(), "增量增级别备案批次".into())],
        intro: format!(
            "“{}”（{}）：3月、9月以外另行开放须说明理由。",
            state.policy.increment_months.text, state.policy.increment_months.clause
        ),
        action: "/increment-rounds".into(),
        fields,
        error,
        submit: "开放批次",
        cancel: "/increment-rounds".into(),
        confirm: Some("确认另行开放增量增级别备案批次？开放将记入审计日志。".into()),
    }
}

/// The form only shows; its route's gate (`IncrementRoundOpen`) is the permission, and
/// `open_round` checks it again when the form is sent.
pub(super) async fn round_form(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Response, AppError> {
    Ok(render(&round_page(
        &state,
        &me,
        &RoundForm::default(),
        None,
    )))
}

pub(super) async fn round_submit(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<RoundForm>,
) -> Result<Response, AppError> {
    let input = crate::filing::RoundInput {
        opens_on: f.opens_on.clone(),
        closes_on: f.closes_on.clone(),
        reason: f.reason.clone(),
    };
    match crate::filing::open_round(&state, &me, &input).await {
        Ok(_) => Ok(Redirect::to("/increment-rounds?msg=saved").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            let status = e.status();
            Ok(render_status(status, &round_page(&state, &me, &f, Some(e))))
        }
        Err(e) => Err(e),
    }
}
