//! 督导 (二(三)): supervisors assigned, relations declared, the tripartite letter signed, reports filed.

use super::*;

/// The state of supervision of a plan, as pages and the API show it.
#[derive(Debug, Serialize)]
pub struct SupervisionView {
    pub assignments: Vec<store::Assignment>,
    pub letter: Option<Letter>,
    pub signatures: Vec<store::Signature>,
    pub evaluation_valid: bool,
    /// Why it is (not) valid, in Chinese, naming 二(三).
    pub validity: String,
    pub signatures_verified: bool,
}

pub async fn supervision_view(state: &AppState, p: &Plan) -> Result<SupervisionView, AppError> {
    let assignments = state.store.assignments(p.id).await?;
    let letter = state.store.current_letter(p.id).await?;
    let (signatures, verified) = match &letter {
        Some(l) => (
            state.store.signatures(l.id).await?,
            state.store.verify_letter(l).await?,
        ),
        None => (vec![], true),
    };
    let parties: Vec<Party> = signatures
        .iter()
        .filter_map(|s| Party::parse(&s.party))
        .collect();
    let (valid, validity) = match check_evaluation_valid(&parties) {
        Ok(()) if verified => (
            true,
            "督导责任书已经市级督导员、区县督导员和评价机构三方签字认可，本次评价过程有效（二(三)）"
                .to_string(),
        ),
        Ok(()) => (false, "签字校验失败：督导责任书或签字记录与存档不一致".into()),
        Err(r) => (false, r.to_string()),
    };
    Ok(SupervisionView {
        assignments,
        letter,
        signatures,
        evaluation_valid: valid,
        validity,
        signatures_verified: verified,
    })
}

async fn ensure_letter(state: &AppState, me: &Authed, p: &Plan) -> Result<(), AppError> {
    let a = state.store.assignments(p.id).await?;
    let name = |side: &str| {
        a.iter()
            .find(|x| x.side == side)
            .map(|x| x.supervisor_name.clone())
    };
    let (Some(city), Some(district)) = (name("city"), name("district")) else {
        return Ok(());
    };
    let levels = p
        .levels()
        .iter()
        .map(|l| l.name())
        .collect::<Vec<_>>()
        .join("、");
    let body = plan::supervision_letter_text(&plan::LetterFacts {
        plan_no: &p.plan_no,
        revision: p.revision,
        institution: &p.institution_name,
        occupation: &format!("{} {}", p.occupation_code, p.occupation_name),
        levels: &levels,
        forms: &forms_label(&p.forms()),
        start_date: &p.start_date,
        end_date: &p.end_date,
        venue: &p.venue,
        city_supervisor: &city,
        district_supervisor: &district,
        internal_supervisor: &p.internal_supervisor,
    });
    state
        .store
        .issue_letter(&me.actor(), p.id, p.revision, &body)
        .await?;
    Ok(())
}

/// City officers assign the city supervisor, the district the district supervisor.
pub async fn assign_supervisor(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    supervisor_id: i64,
) -> Result<(), AppError> {
    let side = match me.role() {
        Role::CityCenter | Role::CityDivision => Party::City,
        Role::District => Party::District,
        _ => return Err(AppError::forbidden()),
    };
    let p = state.store.plan(&me.scope(), plan_id).await?;
    check_evaluation_may_start(p.status()).map_err(refused)?;
    let pool = state
        .store
        .supervisor_pool(match side {
            Party::City => None,
            _ => Some(p.district_code.as_str()),
        })
        .await?;
    let Some(sup) = pool.iter().find(|a| a.id == supervisor_id) else {
        return Err(AppError::invalid(
            "supervisor_id",
            match side {
                Party::City => "请从市级督导组中选择督导人员",
                _ => "请从本区县督导人员中选择",
            },
        ));
    };
    let relations = state.store.relation_kinds(sup.id, p.institution_id).await?;
    check_supervisor_conflict(
        &SupervisorFacts {
            institution_id: sup.institution_id,
            employer: &sup.employer,
            relations: &relations,
        },
        p.institution_id,
        &p.institution_name,
    )
    .map_err(refused)?;
    state
        .store
        .assign_supervisor(&me.actor(), plan_id, side, supervisor_id)
        .await?;
    ensure_letter(state, me, &p).await
}

/// The city records a relation that excludes a supervisor from an institution (回避).
pub async fn record_relation(
    state: &AppState,
    me: &Authed,
    supervisor_id: i64,
    institution_id: i64,
    kind: &str,
    note: &str,
) -> Result<(), AppError> {
    me.may(Action::RelationManage)?;
    if !plan::RELATION_KINDS.contains(&kind) {
        return Err(AppError::invalid(
            "kind",
            "关系类型应为亲属、师生、师徒或同事",
        ));
    }
    state
        .store
        .institution(&me.scope(), institution_id)
        .await
        .map_err(|_| AppError::invalid("institution_id", "请选择机构"))?;
    let sup = state
        .store
        .account(&me.scope(), supervisor_id)
        .await
        .map_err(|_| AppError::invalid("supervisor_id", "请选择督导员"))?;
    if sup.role != Role::Supervisor {
        return Err(AppError::invalid("supervisor_id", "请选择督导人员账号"));
    }
    if note.chars().count() > 500 {
        return Err(AppError::invalid("note", "说明不能超过500字"));
    }
    Ok(state
        .store
        .add_relation(
            &me.actor(),
            supervisor_id,
            institution_id,
            kind,
            note.trim(),
        )
        .await?)
}

/// Sign the current letter as the party `me` represents.
pub async fn sign_letter(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
) -> Result<store::Signature, AppError> {
    let p = state.store.plan(&me.scope(), plan_id).await?;
    check_evaluation_may_start(p.status()).map_err(refused)?;
    let party = match me.role() {
        Role::Institution => Party::Institution,
        Role::Supervisor => {
            let a = state.store.assignments(p.id).await?;
            let side = a
                .iter()
                .find(|x| x.supervisor_id == me.account.id)
                .map(|x| x.side.clone())
                .ok_or_else(AppError::forbidden)?;
            Party::parse(&side).ok_or_else(AppError::forbidden)?
        }
        _ => return Err(AppError::forbidden()),
    };
    let letter = state.store.current_letter(p.id).await?.ok_or_else(|| {
        AppError::Conflict("市级与区县督导人员均派遣后才生成督导责任书，暂不能签字".into())
    })?;
    Ok(state
        .store
        .sign_letter(&me.actor(), &letter, party, &me.account.display_name)
        .await?)
}

pub async fn file_report(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    body: &str,
    attachment: Option<&UploadedFile>,
) -> Result<(), AppError> {
    me.may(Action::SupervisionReport)?;
    let p = state.store.plan(&me.scope(), plan_id).await?;
    check_evaluation_may_start(p.status()).map_err(refused)?;
    let side = state
        .store
        .assignments(p.id)
        .await?
        .into_iter()
        .find(|a| a.supervisor_id == me.account.id)
        .and_then(|a| Party::parse(&a.side))
        .ok_or_else(AppError::forbidden)?;
    let start = parse_date("start_date", "评价开始日期", &p.start_date)?;
    if state.today() < start {
        return Err(AppError::invalid(
            "body",
            format!("评价于{}开始，评价实施后方可提交督导报告", p.start_date),
        ));
    }
    if body.trim().chars().count() < 10 {
        return Err(AppError::invalid("body", "督导报告内容不少于10字"));
    }
    Ok(state
        .store
        .file_report(&me.actor(), &p, side, body.trim(), attachment)
        .await?)
}

// ---------------------------------------------------------------------------------------------
