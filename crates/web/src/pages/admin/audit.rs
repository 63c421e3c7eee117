//! 审计日志。

use super::*;

#[derive(Deserialize, Default)]
pub(super) struct AuditQuery {
    pub(super) q: Option<String>,
    pub(super) action: Option<String>,
    pub(super) object_type: Option<String>,
    pub(super) object_id: Option<String>,
    pub(super) page: Option<i64>,
    pub(super) verify: Option<String>,
}

pub(super) async fn audit(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let filter = AuditFilter {
        q: q.q.clone(),
        action: q.action.clone(),
        object_type: q.object_type.clone(),
        object_id: q.object_id.clone(),
    };
    let page =
        crate::audit::trail(&state, &me, &filter, PageRequest::new(q.page, Some(50))).await?;
    let intro = if q.verify.is_some() {
        match crate::audit::verify(&state, &me).await? {
            Ok(r) => format!(
                "审计链校验通过：共 {} 条，链头哈希 {}。",
                r.entries,
                &r.head[..16]
            ),
            Err(b) => format!("审计链校验失败：{b}"),
        }
    } else {
        "每条记录含上一条的哈希值，任何修改、删除或插入都会使校验失败。".into()
    };
    let rows = page
        .items
        .iter()
        .map(|e| {
            vec![
                Cell::new(e.seq.to_string()).class("num"),
                Cell::new(beijing_time(&e.at)),
                Cell::new(format!("{}（{}）", e.actor, e.role)),
                Cell::new(&e.action).class("mono"),
                Cell::new(format!("{} {}", e.object_type, e.object_id)),
                Cell::new(&e.summary).class("mono"),
                Cell::new(&e.client_addr),
                Cell::new(&e.hash[..12]).class("mono"),
            ]
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(&state, Some(&me), "审计日志", "/audit"),
        heading: "审计日志".into(),
        intro,
        new_link: Some(("/audit?verify=1".into(), "校验审计链".into())),
        filters: vec![
            Field::text("q", "操作人/动作/内容", q.q.clone().unwrap_or_default()),
            Field::text("action", "动作", q.action.clone().unwrap_or_default()),
            Field::text(
                "object_type",
                "对象类型",
                q.object_type.clone().unwrap_or_default(),
            ),
            Field::text(
                "object_id",
                "对象编号",
                q.object_id.clone().unwrap_or_default(),
            ),
        ],
        filter_action: "/audit".into(),
        headers: vec![
            "序号",
            "时间",
            "操作人",
            "动作",
            "对象",
            "摘要",
            "来源地址",
            "哈希",
        ],
        rows,
        pager: (&page).into(),
        base: list_base(
            "/audit",
            &[
                ("q", &q.q),
                ("action", &q.action),
                ("object_type", &q.object_type),
                ("object_id", &q.object_id),
            ],
        ),
        empty: "没有符合条件的审计记录。",
        printable: true,
    }))
}
