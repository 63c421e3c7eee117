//! Demo data for the submission rules of 一(一) and 一(四): the materials checklist filled in, an
//! exception used by its application, an expired one, a valid increment exception, an extra
//! increment round opened by the city and an increment returned after its round closed.

use chrono::{Days, NaiveDate};
use domain::filing::{decide, AppState, Command, Facts, Flow, ItemFact};
use domain::policy::Policy;
use domain::{Role, Scope};
use sqlx::Row;

use crate::{Actor, NewDocument, NewFiling, Result, Store, StoreError, TransitionInput};

const PDF: &[u8] = b"%PDF-1.4\n% demo filing materials\n";

/// Upload the materials the policy requires for the application's kind (demo data and tests).
pub async fn attach_required_materials(
    store: &Store,
    policy: &Policy,
    application_id: i64,
) -> Result<()> {
    let app = store.filing(&Scope::City, application_id).await.or(
        // Drafts are out of the city's scope: read through the institution.
        {
            let inst: i64 =
                sqlx::query("SELECT institution_id FROM filing_applications WHERE id = $1")
                    .bind(application_id)
                    .fetch_one(&store.db.pool)
                    .await?
                    .get(0);
            store
                .filing(&Scope::Institution(inst), application_id)
                .await
        },
    )?;
    let kind = app.kind;
    for (k, label) in policy.required_materials(kind) {
        attach(store, &app, k, label).await?;
    }
    Ok(())
}

async fn attach(store: &Store, app: &crate::FilingApp, kind: &str, label: &str) -> Result<()> {
    store
        .add_document(
            &Actor::system("demo"),
            NewDocument {
                owner_type: "filing_application".into(),
                owner_id: app.id,
                institution_id: Some(app.institution_id),
                district_code: Some(app.district_code.clone()),
                kind: kind.into(),
                filename: format!("{label}.pdf"),
                retention_until: None,
            },
            PDF,
        )
        .await?;
    Ok(())
}

async fn inst_of(store: &Store, user: &str) -> Result<Option<i64>> {
    Ok(store
        .account_by_username(user)
        .await?
        .and_then(|(a, _)| a.institution_id))
}

async fn occ(store: &Store, code: &str) -> Result<i64> {
    store
        .occupation_by_code(code, "occupation")
        .await?
        .map(|(id, _, _)| id)
        .ok_or(StoreError::NotFound)
}

/// Submit (or return) through the state machine with the facts the rules read.
async fn step(
    store: &Store,
    policy: &Policy,
    app_id: i64,
    role: Role,
    cmd: Command,
    reason: &str,
    today: NaiveDate,
    increment_round: Option<String>,
) -> Result<()> {
    let inst: i64 = sqlx::query("SELECT institution_id FROM filing_applications WHERE id = $1")
        .bind(app_id)
        .fetch_one(&store.db.pool)
        .await?
        .get(0);
    let app = store.filing(&Scope::Institution(inst), app_id).await?;
    let flow = Flow::of(app.kind, app.institution_kind);
    let elsewhere = if flow.increment_count {
        match &increment_round {
            Some(r) => store.round_new_occupations(inst, r, Some(app_id)).await?,
            None => vec![],
        }
    } else {
        store
            .applicant_occupations(inst, Some(app_id), &policy.quota_filing_kinds.value)
            .await?
    };
    let facts = Facts {
        today: Some(today),
        items: app
            .items
            .iter()
            .map(|i| ItemFact {
                occupation_id: i.occupation_id,
                name: i.name.clone(),
                new_occupation: i.new_occupation,
            })
            .collect(),
        occupations_elsewhere: elsewhere,
        exceptions: store.usable_exceptions(inst, Some(app_id), today).await?,
        legal_person: true,
        employees: 1000,
        capital_yuan: 10_000_000,
        increment_round,
        ..Facts::default()
    };
    let st = AppState {
        flow,
        state: app.state(),
        center_approved: app.center_approved_by.is_some(),
        division_approved: app.division_approved_by.is_some(),
        has_commitment: !app.commitment.is_empty(),
        publicity_end: app.publicity_end_date(),
    };
    let out = decide(policy, &st, role, &cmd, reason, &facts)
        .map_err(|e| StoreError::Other(format!("demo {cmd:?}: {e}")))?;
    store
        .apply_filing(
            &Actor::system("demo"),
            &app,
            app.version,
            &out,
            &TransitionInput {
                reason: reason.into(),
                today: Some(today),
                ..TransitionInput::default()
            },
        )
        .await?;
    Ok(())
}

/// Called at the end of [`crate::demo::seed`].
pub async fn seed_filing_rules(store: &Store, today: NaiveDate) -> Result<()> {
    let policy = Policy::zhengzhou_2022();
    let actor = Actor::system("demo");
    let (Some(i1), Some(i2), Some(i3), Some(i6)) = (
        inst_of(store, "inst-1").await?,
        inst_of(store, "inst-2").await?,
        inst_of(store, "inst-3").await?,
        inst_of(store, "inst-6").await?,
    ) else {
        return Ok(());
    };
    // Every demo application that left the draft stage carries its required materials; the
    // draft of inst-6 has one of three, so its checklist shows what is missing.
    let rows = sqlx::query("SELECT id, state, institution_id FROM filing_applications ORDER BY id")
        .fetch_all(&store.db.pool)
        .await?;
    for r in &rows {
        let (id, state, inst): (i64, String, i64) = (r.get(0), r.get(1), r.get(2));
        if state != "draft" {
            attach_required_materials(store, &policy, id).await?;
        } else if inst == i6 {
            let app = store.filing(&Scope::Institution(inst), id).await?;
            attach(store, &app, "application_form", "备案申请表").await?;
        }
    }
    let district = |id: i64| async move {
        store
            .institution(&Scope::City, id)
            .await
            .map(|i| i.district_code)
    };
    let new = |inst: i64, kind: &str, route: &str, district: String, items: Vec<(i64, String)>| {
        NewFiling {
            kind: kind.into(),
            route: route.into(),
            institution_id: inst,
            district_code: district,
            items,
            note: String::new(),
            shared_resources: String::new(),
            commitment: String::new(),
        }
    };
    let actor = &actor;
    let granted = |x: i64, expires: NaiveDate| async move {
        store
            .decide_exception(actor, x, true, true, "同意", expires)
            .await?;
        store
            .decide_exception(actor, x, false, true, "同意，统筹安排", expires)
            .await
    };

    // 一(一): inst-2 already applies for two occupations; 中原区 asks for two more, the city
    // agrees with both keys, and the new application uses the exception (shown on it).
    let (cook, pastry, beauty) = (
        occ(store, "4-03-02-01").await?,
        occ(store, "4-03-02-02").await?,
        occ(store, "4-10-03-01").await?,
    );
    let x1 = store
        .raise_exception(
            actor,
            i2,
            &district(i2).await?,
            "max_occupations_per_applicant",
            &[pastry, beauty],
            "该机构承接区内生活服务业定向培训，面点与美容两个职业确需同时备案",
        )
        .await?;
    granted(x1, policy.exception_expires_on(today)).await?;
    let a = store
        .create_filing(
            actor,
            &new(
                i2,
                "social_org",
                "district",
                district(i2).await?,
                vec![(pastry, "5,4".into()), (beauty, "5,4".into())],
            ),
        )
        .await?;
    attach_required_materials(store, &policy, a).await?;
    step(
        store,
        &policy,
        a,
        Role::Institution,
        Command::Submit,
        "",
        today,
        None,
    )
    .await?;

    // An exception granted long ago and never used: expired.
    let x2 = store
        .raise_exception(
            actor,
            i1,
            &district(i1).await?,
            "max_occupations_per_applicant",
            &[occ(store, "4-01-02-07").await?],
            "拟新增互联网营销师，申请统筹安排",
        )
        .await?;
    granted(x2, today - Days::new(1)).await?;

    // 一(四): an increment exception for inst-3, granted and still valid.
    let x3 = store
        .raise_exception(
            actor,
            i3,
            &district(i3).await?,
            "increment_max_occupations",
            &[occ(store, "4-10-01-06").await?],
            "企业新设家政服务事业部，本轮需新增第四个职业（工种）",
        )
        .await?;
    granted(x3, policy.exception_expires_on(today)).await?;

    // An extra round opened by the city, now closed; an increment first submitted in it was
    // returned for correction and can still be resubmitted.
    let round = store
        .open_increment_round(
            actor,
            today - Days::new(30),
            today - Days::new(10),
            "上一批次因系统升级顺延，另行开放一次",
        )
        .await?;
    let inc = store
        .create_filing(
            actor,
            &new(
                i3,
                "increment",
                "city",
                district(i3).await?,
                vec![(cook, "5,4,3".into())],
            ),
        )
        .await?;
    attach_required_materials(store, &policy, inc).await?;
    step(
        store,
        &policy,
        inc,
        Role::Institution,
        Command::Submit,
        "",
        today - Days::new(20),
        Some(format!("extra-{round}")),
    )
    .await?;
    step(
        store,
        &policy,
        inc,
        Role::CityCenter,
        Command::Return,
        "考评人员资格证明不全，请补正后重新提交",
        today - Days::new(15),
        None,
    )
    .await?;
    Ok(())
}
