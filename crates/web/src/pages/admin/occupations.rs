//! 职业目录的维护。

use super::*;
use domain::reference::ItemKind;

#[derive(Deserialize, Default)]
pub(super) struct OccQuery {
    pub(super) q: Option<String>,
    pub(super) kind: Option<String>,
    pub(super) confirmed: Option<String>,
    pub(super) page: Option<i64>,
    pub(super) msg: Option<String>,
}

pub(super) async fn occupations(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<OccQuery>,
) -> Result<Response, AppError> {
    let filter = OccupationFilter {
        q: q.q.clone(),
        kind: q.kind.clone(),
        confirmed: match q.confirmed.as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
    };
    let page =
        crate::reference::occupations(&state, &me, &filter, PageRequest::new(q.page, None)).await?;
    let rows = page
        .items
        .iter()
        .map(|o| {
            vec![
                Cell::link(&o.code, format!("/admin/occupations/{}", o.id)).class("mono"),
                Cell::new(&o.name),
                Cell::new(o.kind.name()),
                Cell::new(if o.levels.is_empty() {
                    "—".into()
                } else {
                    o.levels.clone()
                }),
                Cell::new(if o.confirmed {
                    "已核对"
                } else {
                    "待核对"
                }),
                Cell::new(if o.active { "启用" } else { "停用" }),
            ]
        })
        .collect();
    let opts = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "职业目录", "/admin/occupations").with_flash(flash_text(q.msg.as_deref())),
        heading: "职业目录".into(),
        intro: "国家职业分类大典（2022年版）职业（工种）及专项职业能力项目。标为“待核对”的条目须由管理员对照大典确认。".into(),
        new_link: Some(("/admin/occupations/new".into(), "新增条目".into())),
        filters: vec![
            Field::text("q", "代码或名称", q.q.clone().unwrap_or_default()),
            Field::text("kind", "类别", q.kind.clone().unwrap_or_default()).select(opts(&[("", "全部"), ("occupation", "职业（工种）"), ("special", "专项职业能力")])),
            Field::text("confirmed", "核对状态", q.confirmed.clone().unwrap_or_default()).select(opts(&[("", "全部"), ("yes", "已核对"), ("no", "待核对")])),
        ],
        filter_action: "/admin/occupations".into(),
        headers: vec!["代码", "名称", "类别", "等级", "核对", "状态"],
        rows,
        pager: (&page).into(),
        base: list_base("/admin/occupations", &[("q", &q.q), ("kind", &q.kind), ("confirmed", &q.confirmed)]),
        empty: "可调整查询条件。",
        printable: true,
    }))
}

#[derive(Deserialize, Default)]
pub(super) struct OccForm {
    #[serde(default)]
    pub(super) code: String,
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) levels: String,
    pub(super) confirmed: Option<String>,
    pub(super) active: Option<String>,
    #[serde(default)]
    pub(super) version: String,
}

pub(super) fn occ_fields(f: &OccForm) -> Vec<Field> {
    vec![
        Field::text("kind", "类别", &f.kind).select(vec![
            ("occupation".into(), "职业（工种）".into()),
            ("special".into(), "专项职业能力".into()),
        ]),
        Field::text("code", "代码", &f.code)
            .required()
            .hint("职业代码格式如 4-03-02-01"),
        Field::text("name", "名称", &f.name).required(),
        Field::text("levels", "等级", &f.levels)
            .hint("如 5,4,3,2,1（五级至一级）；专项职业能力留空"),
        Field::text(
            "confirmed",
            "已对照大典核对",
            if f.confirmed.is_some() { "on" } else { "" },
        )
        .kind("checkbox"),
        Field::text("active", "启用", if f.active.is_some() { "on" } else { "" }).kind("checkbox"),
        Field::text("version", "", &f.version).kind("hidden"),
    ]
}

pub(super) fn occupation_from_form(f: &OccForm, id: i64) -> Result<Occupation, AppError> {
    let name = domain::account::required_text("name", "名称", &f.name, 60)?;
    let code = f.code.trim().to_string();
    let kind = if f.kind == ItemKind::Special.as_str() {
        ItemKind::Special
    } else {
        ItemKind::Occupation
    };
    let levels = if kind == ItemKind::Occupation {
        domain::occupation::OccupationCode::parse(&code)
            .map_err(|e| AppError::invalid("code", e.to_string()))?;
        let levels = domain::occupation::parse_levels(&f.levels)
            .map_err(|e| AppError::invalid("levels", e.to_string()))?;
        if levels.is_empty() {
            return Err(AppError::invalid("levels", "请填写该职业开展评价的等级"));
        }
        levels
            .iter()
            .map(|l| l.number().to_string())
            .collect::<Vec<_>>()
            .join(",")
    } else {
        if code.is_empty() || code.len() > 20 {
            return Err(AppError::invalid("code", "请填写项目代码（不超过 20 位）"));
        }
        String::new()
    };
    let version = if id == 0 {
        0
    } else {
        f.version
            .parse()
            .map_err(|_| AppError::invalid("version", "版本号无效"))?
    };
    Ok(Occupation {
        id,
        code,
        name,
        kind,
        levels,
        confirmed: f.confirmed.is_some(),
        active: f.active.is_some(),
        version,
    })
}

/// A blank form: the route's gate (`reference.manage`) is the check; nothing is loaded.
pub(super) async fn occupation_new(
    State(state): State<AppState>,
    me: Authed,
) -> Result<Response, AppError> {
    let f = OccForm {
        kind: "occupation".into(),
        levels: "5,4,3,2,1".into(),
        active: Some("on".into()),
        ..Default::default()
    };
    Ok(render(&form_frame(
        &state,
        &me,
        "新增职业目录条目".into(),
        vec![("/admin/occupations".into(), "职业目录".into())],
        "/admin/occupations/new".into(),
        "/admin/occupations",
        occ_fields(&f),
        None,
    )))
}

pub(super) async fn occupation_save_new(
    State(state): State<AppState>,
    me: Authed,
    FormBody(f): FormBody<OccForm>,
) -> Result<Response, AppError> {
    save_occupation(state, me, 0, f).await
}

pub(super) async fn occupation_edit(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let o = crate::reference::occupation(&state, &me, id).await?;
    let f = OccForm {
        code: o.code.clone(),
        name: o.name.clone(),
        kind: o.kind.as_str().into(),
        levels: o.levels.clone(),
        confirmed: o.confirmed.then(|| "on".into()),
        active: o.active.then(|| "on".into()),
        version: o.version.to_string(),
    };
    Ok(render(&form_frame(
        &state,
        &me,
        format!("修改：{} {}", o.code, o.name),
        vec![("/admin/occupations".into(), "职业目录".into())],
        format!("/admin/occupations/{id}"),
        "/admin/occupations",
        occ_fields(&f),
        None,
    )))
}

pub(super) async fn occupation_save(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<OccForm>,
) -> Result<Response, AppError> {
    save_occupation(state, me, id, f).await
}

pub(super) async fn save_occupation(
    state: AppState,
    me: Authed,
    id: i64,
    f: OccForm,
) -> Result<Response, AppError> {
    let r =
        crate::reference::save_occupation(&state, &me, id, || occupation_from_form(&f, id)).await;
    let action = if id == 0 {
        "/admin/occupations/new".to_string()
    } else {
        format!("/admin/occupations/{id}")
    };
    match r {
        Ok(_) => Ok(Redirect::to("/admin/occupations?msg=saved").into_response()),
        Err(e) => reshow(e, |err| {
            form_frame(
                &state,
                &me,
                "职业目录条目".into(),
                vec![("/admin/occupations".into(), "职业目录".into())],
                action,
                "/admin/occupations",
                occ_fields(&f),
                err,
            )
        }),
    }
}

// ---- calendar (工作日历) ----
