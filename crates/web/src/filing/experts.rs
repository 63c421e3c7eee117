//! 专家库：录入、查询、导入、不可用时段。

use super::*;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ExpertInput {
    pub name: String,
    pub id_number: String,
    #[serde(default)]
    pub employer: String,
    pub employer_credit_code: Option<String>,
    pub district: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub phone: String,
    pub username: Option<String>,
    pub occupations: Vec<String>,
}

pub async fn validate_expert(state: &AppState, e: &ExpertInput) -> Result<NewExpert, AppError> {
    if e.name.trim().is_empty() {
        return Err(AppError::invalid("name", "请填写专家姓名"));
    }
    let idn = domain::id_number::IdNumber::parse(&e.id_number)
        .map_err(|err| AppError::invalid("id_number", err.to_string()))?;
    let credit = match e
        .employer_credit_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(c) => Some(
            domain::credit_code::CreditCode::parse(c)
                .map_err(|err| AppError::invalid("employer_credit_code", err.to_string()))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let district = e
        .district
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(d) = district {
        if !state.store.districts().await?.iter().any(|x| x.code == d) {
            return Err(AppError::invalid("district", "所属区县无效"));
        }
    }
    let user_id = match e
        .username
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(u) => {
            let (acc, _) = state
                .store
                .account_by_username(u)
                .await?
                .ok_or_else(|| AppError::invalid("username", "关联的专家账号不存在"))?;
            if acc.role != Role::Expert {
                return Err(AppError::invalid("username", "关联账号的角色须为评审专家"));
            }
            Some(acc.id)
        }
        None => None,
    };
    if e.occupations.is_empty() {
        return Err(AppError::invalid(
            "occupations",
            "请至少填写一个可评审的职业（工种）",
        ));
    }
    let mut occ = vec![];
    for c in &e.occupations {
        let found = match state
            .store
            .occupation_by_code(c, ItemKind::Occupation.as_str())
            .await?
        {
            Some(x) => Some(x),
            None => {
                state
                    .store
                    .occupation_by_code(c, ItemKind::Special.as_str())
                    .await?
            }
        };
        let (id, _, _) = found.ok_or_else(|| {
            AppError::invalid(
                "occupations",
                format!("职业（工种）代码“{}”不在目录中", c.trim()),
            )
        })?;
        if !occ.contains(&id) {
            occ.push(id);
        }
    }
    Ok(NewExpert {
        name: e.name.trim().into(),
        id_number: idn.as_str().into(),
        id_masked: idn.masked(),
        employer: e.employer.trim().into(),
        employer_credit_code: credit,
        district_code: district.map(str::to_string),
        title: e.title.trim().into(),
        phone: e.phone.trim().into(),
        user_id,
        occupation_ids: occ,
    })
}

#[utoipa::path(post, path = "/api/v1/experts", tag = "专家库", operation_id = "create_expert", request_body = ExpertInput, responses((status = 201, body = store::Expert, description = "已入库的专家"), (status = 409, description = "证件号码已在库中"), (status = 422, description = "字段有误")))]
pub(super) async fn create_expert(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(e): JsonBody<ExpertInput>,
) -> Result<Response, AppError> {
    Ok((
        StatusCode::CREATED,
        Json(add_expert(&state, &me, &e).await?),
    )
        .into_response())
}

/// 专家入库: the center adds one expert to the city's library (专家库).
pub async fn add_expert(
    state: &AppState,
    me: &Authed,
    e: &ExpertInput,
) -> Result<store::Expert, AppError> {
    me.may(Action::ExpertManage)?;
    let new = validate_expert(state, e).await?;
    let id = state.store.create_expert(&me.actor(), &new).await?;
    Ok(state.store.expert(id).await?)
}

/// 专家库: the experts matching the filter (ID numbers masked).
pub async fn expert_library(
    state: &AppState,
    me: &Authed,
    f: &ExpertFilter,
    page: PageRequest,
) -> Result<store::Page<store::Expert>, AppError> {
    me.may(Action::ExpertView)?;
    Ok(state.store.list_experts(f, page).await?)
}

/// 专家: one expert of the library.
pub async fn expert(state: &AppState, me: &Authed, id: i64) -> Result<store::Expert, AppError> {
    me.may(Action::ExpertView)?;
    Ok(state.store.expert(id).await?)
}

/// 查看完整证件号码: each view is written to the audit trail.
pub async fn expert_full_id_number(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<String, AppError> {
    me.may(Action::ExpertManage)?;
    Ok(state.store.expert_id_number(&me.actor(), id).await?)
}

/// 登记不可参加评审的期间: the expert is left out of draws in that period.
pub async fn mark_unavailable(
    state: &AppState,
    me: &Authed,
    id: i64,
    u: &UnavailableInput,
) -> Result<store::Expert, AppError> {
    me.may(Action::ExpertManage)?;
    let from = NaiveDate::parse_from_str(u.from.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("from", "日期应为 YYYY-MM-DD"))?;
    let to = NaiveDate::parse_from_str(u.to.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("to", "日期应为 YYYY-MM-DD"))?;
    if to < from {
        return Err(AppError::invalid("to", "结束日期不能早于开始日期"));
    }
    state
        .store
        .add_unavailable(&me.actor(), id, from, to, u.reason.trim())
        .await?;
    Ok(state.store.expert(id).await?)
}

#[utoipa::path(get, path = "/api/v1/experts", tag = "专家库", operation_id = "list_experts", params(("q" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)), responses((status = 200, body = crate::api::schema::PageOf<store::Expert>, description = "市级专家库，证件号码已脱敏")))]
pub(super) async fn list_experts(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    let f = ExpertFilter {
        q: p.q,
        occupation: p.occupation,
        district: p.district,
        active: None,
    };
    Ok(
        Json(expert_library(&state, &me, &f, PageRequest::new(p.page, p.per_page)).await?)
            .into_response(),
    )
}

#[utoipa::path(get, path = "/api/v1/experts/{id}", tag = "专家库", operation_id = "get_expert", params(("id" = i64, Path)), responses((status = 200, body = store::Expert, description = "专家")))]
pub(super) async fn get_expert(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(Json(expert(&state, &me, id).await?).into_response())
}

#[utoipa::path(get, path = "/api/v1/experts/{id}/id-number", tag = "专家库", operation_id = "expert_id_number", params(("id" = i64, Path)), responses((status = 200, body = crate::api::schema::IdNumberView, description = "完整证件号码（每次查看记入审计日志）")))]
pub(super) async fn expert_id_number(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let n = expert_full_id_number(&state, &me, id).await?;
    Ok(Json(json!({ "id_number": n })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct UnavailableInput {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/experts/{id}/unavailable", tag = "专家库", operation_id = "expert_unavailable", params(("id" = i64, Path)), request_body = UnavailableInput, responses((status = 200, body = store::Expert, description = "登记不可参加评审的期间后的专家"), (status = 422, description = "日期有误")))]
pub(super) async fn expert_unavailable(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(u): JsonBody<UnavailableInput>,
) -> Result<Response, AppError> {
    Ok(Json(mark_unavailable(&state, &me, id, &u).await?).into_response())
}

/// The expert library's xlsx template: the same spec writes the template and reads imports.
pub fn expert_sheet() -> sheets::SheetSpec {
    use sheets::Column;
    sheets::SheetSpec {
        title: "市级技能人才评价专家库导入",
        columns: vec![
            Column::new("name", "姓名").required().example("张三"),
            Column::new("id_number", "身份证号码")
                .required()
                .hint("18位居民身份证号码")
                .example("11010519491231002X"),
            Column::new("employer", "工作单位").example("郑州职业技术学院"),
            Column::new("employer_credit_code", "单位统一社会信用代码")
                .hint("已知时填写，用于回避同单位")
                .example("91350100M000100Y43"),
            Column::new("district", "所属区县代码")
                .hint("如 410105；可空")
                .example("410105"),
            Column::new("title", "职称/职业资格").example("高级技师"),
            Column::new("phone", "联系电话").example("13800000000"),
            Column::new("username", "平台账号")
                .hint("专家已有平台账号时填写其用户名")
                .example("expert-1"),
            Column::new("occupations", "可评审职业（工种）代码")
                .required()
                .hint("多个用顿号或逗号分隔")
                .example("6-31-01-03、6-18-02-04"),
        ],
        instructions: vec![
            "每行一名专家；带 * 的列必填。",
            "身份证号码仅用于身份核验与回避，平台内脱敏显示，查看完整号码将记入审计日志。",
            "整批校验通过后才会导入；任何一行有误，将列出行号与原因，且不导入任何数据。",
        ],
    }
}

/// Import experts from an xlsx: every row validated first; nothing stored if any row fails.
pub async fn import_experts(
    state: &AppState,
    me: &Authed,
    bytes: &[u8],
) -> Result<usize, AppError> {
    me.may(Action::ExpertManage)?;
    let spec = expert_sheet();
    let rows = sheets::read(&spec, bytes).map_err(|e| AppError::invalid("file", e.to_string()))?;
    if rows.is_empty() {
        return Err(AppError::invalid("file", "表格中没有专家数据"));
    }
    let mut errors = vec![];
    let mut news = vec![];
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        let missing = r.missing_required(&spec);
        if !missing.is_empty() {
            errors.push(format!("第{}行：缺少{}", r.row, missing.join("、")));
            continue;
        }
        let input = ExpertInput {
            name: r.get("name").into(),
            id_number: r.get("id_number").into(),
            employer: r.get("employer").into(),
            employer_credit_code: Some(r.get("employer_credit_code").to_string()),
            district: Some(r.get("district").to_string()),
            title: r.get("title").into(),
            phone: r.get("phone").into(),
            username: Some(r.get("username").to_string()),
            occupations: r
                .get("occupations")
                .split(['、', ',', '，', ';', '；', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        };
        match validate_expert(state, &input).await {
            Ok(n) => {
                if !seen.insert(n.id_number.clone()) {
                    errors.push(format!("第{}行：身份证号码与前面的行重复", r.row));
                } else {
                    news.push(n);
                }
            }
            Err(e) => errors.push(format!("第{}行：{}", r.row, e)),
        }
    }
    for n in &news {
        let dup: Option<i64> = state.store.expert_id_by_number(&n.id_number).await?;
        if dup.is_some() {
            errors.push(format!("{}（{}）已在专家库中", n.name, n.id_masked));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::invalid(
            "file",
            format!("导入未执行：{}", errors.join("；")),
        ));
    }
    for n in &news {
        state.store.create_expert(&me.actor(), n).await?;
    }
    Ok(news.len())
}

#[utoipa::path(get, path = "/api/v1/experts/template.xlsx", tag = "专家库", operation_id = "expert_import_template", responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>, description = "专家导入模板")))]
pub async fn expert_template(me: Authed) -> Result<Response, AppError> {
    me.may(Action::ExpertView)?;
    let bytes = sheets::template(&expert_sheet()).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(crate::upload::send_bytes(
        "市级专家库导入模板.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
    ))
}

/// 专家导入 from an upload: the permission first, then the file (field `file`), then the rows.
pub async fn import_experts_upload(
    state: &AppState,
    me: &Authed,
    mp: axum::extract::Multipart,
) -> Result<usize, AppError> {
    me.may(Action::ExpertManage)?;
    let bytes = xlsx_of(state, mp).await?;
    import_experts(state, me, &bytes).await
}

/// The xlsx of a multipart request (field `file`).
pub async fn xlsx_of(state: &AppState, mp: axum::extract::Multipart) -> Result<Vec<u8>, AppError> {
    let parts = crate::upload::read_upload(mp, state.config.max_upload_bytes).await?;
    let f = crate::upload::files(&parts)
        .next()
        .ok_or_else(|| AppError::invalid("file", "请选择要导入的 Excel 文件"))?;
    crate::upload::check_file(f, state.config.max_upload_bytes)?;
    Ok(f.bytes.to_vec())
}

#[utoipa::path(post, path = "/api/v1/experts/import", tag = "专家库", operation_id = "import_experts", request_body(content_type = "multipart/form-data", description = "file=专家导入模板（xlsx）"), responses((status = 201, body = crate::api::schema::Imported, description = "全部导入"), (status = 422, description = "全部未导入，逐行报告")))]
pub(super) async fn api_import_experts(
    State(state): State<AppState>,
    me: Authed,
    mp: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let n = import_experts_upload(&state, &me, mp).await?;
    Ok((StatusCode::CREATED, Json(json!({ "imported": n }))).into_response())
}
