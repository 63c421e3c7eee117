//! Demo data (`serve --demo` only): every role, every district, a few institutions of each kind.
//! All accounts use the password `demo-password`.

use domain::credit_code::with_check_digit;
use domain::Role;

use crate::audit::Actor;
use crate::{InstitutionInput, NewAccount, Result, Store};

pub use crate::demo_filing::seed_filing;
pub use crate::demo_plans::seed_plans;

pub const DEMO_PASSWORD: &str = "demo-password";

/// (name, kind, district, employees, capital in yuan, business scope)
const INSTITUTIONS: &[(&str, &str, &str, i64, i64, &str)] = &[
    (
        "郑州市金水区华信职业培训学校",
        "social_org",
        "410105",
        45,
        500_000,
        "职业技能培训；职业技能等级认定",
    ),
    (
        "郑州中原匠心职业技能培训中心",
        "social_org",
        "410102",
        30,
        300_000,
        "职业技能培训",
    ),
    (
        "郑州宇辰重工机械有限公司",
        "enterprise",
        "410171",
        860,
        120_000_000,
        "工程机械制造；焊接；机械加工",
    ),
    (
        "荥阳市豫味餐饮管理有限公司",
        "enterprise",
        "410182",
        210,
        5_000_000,
        "餐饮服务；中式烹调；面点制作",
    ),
    (
        "郑州市家政服务业协会",
        "association",
        "410105",
        12,
        100_000,
        "家政服务行业自律与培训",
    ),
    (
        "郑州市电工技术学会",
        "society",
        "410103",
        8,
        50_000,
        "电工技术交流与培训",
    ),
];

const EXPERT_EMPLOYERS: &[&str] = &[
    "郑州职业技术学院",
    "河南工业职业技术学院",
    "郑州宇辰重工机械有限公司",
    "郑州市技师学院",
    "河南省烹饪协会",
    "郑州铁路职业技术学院",
];

/// Fill an empty database with demo data laid out around `today` (so the demo works in any
/// year). Does nothing when accounts exist already.
pub async fn seed(store: &Store, today: chrono::NaiveDate) -> Result<bool> {
    if store.count_accounts().await? > 0 {
        return Ok(false);
    }
    let actor = Actor::system("demo");
    let account = |username: &str, display: &str, role: Role| NewAccount {
        username: username.into(),
        display_name: display.into(),
        role,
        district_code: None,
        institution_id: None,
        employer: String::new(),
        phone: String::new(),
        password: DEMO_PASSWORD.into(),
        must_change_password: false,
    };
    store
        .create_account(&actor, account("admin", "平台管理员", Role::Admin))
        .await?;
    store
        .create_account(
            &actor,
            account("center", "市职业技能鉴定中心", Role::CityCenter),
        )
        .await?;
    store
        .create_account(
            &actor,
            account("bureau", "市人社局职建处", Role::CityDivision),
        )
        .await?;
    store
        .create_account(
            &actor,
            account("sup-city-1", "市督导组 王建国", Role::Supervisor),
        )
        .await?;
    store
        .create_account(
            &actor,
            account("sup-city-2", "市督导组 李秀英", Role::Supervisor),
        )
        .await?;
    for d in store.districts().await? {
        store
            .create_account(
                &actor,
                NewAccount {
                    district_code: Some(d.code.clone()),
                    ..account(
                        &format!("district-{}", d.code),
                        &format!("{}人社局", d.name),
                        Role::District,
                    )
                },
            )
            .await?;
        store
            .create_account(
                &actor,
                NewAccount {
                    district_code: Some(d.code.clone()),
                    ..account(
                        &format!("sup-{}-1", d.code),
                        &format!("{}督导员", d.name),
                        Role::Supervisor,
                    )
                },
            )
            .await?;
    }
    for (n, (name, kind, district, employees, capital, scope)) in INSTITUTIONS.iter().enumerate() {
        let n = n + 1;
        let district_name = store.division(district).await?.name;
        let prefix = if *kind == "enterprise" { "91" } else { "52" };
        let code = with_check_digit(&format!("{prefix}{}MA{:07}", &district[..6], n * 7919))
            .expect("demo credit code");
        let inst = store
            .create_institution(
                &actor,
                &InstitutionInput {
                    name: (*name).into(),
                    credit_code: code,
                    kind: (*kind).into(),
                    legal_person: true,
                    employees: *employees,
                    capital_yuan: *capital,
                    business_scope: (*scope).into(),
                    reg_address: format!("郑州市{district_name}示范路{}号", 10 + n),
                    reg_district: (*district).into(),
                    biz_address: format!("郑州市{district_name}示范路{}号", 10 + n),
                    biz_district: (*district).into(),
                    contact_name: "张老师".into(),
                    // The association has not completed its contacts yet: a work-queue item for its district.
                    contact_phone: if *kind == "association" {
                        String::new()
                    } else {
                        format!("1380371{:04}", n)
                    },
                },
            )
            .await?;
        store
            .create_account(
                &actor,
                NewAccount {
                    institution_id: Some(inst.id),
                    ..account(&format!("inst-{n}"), name, Role::Institution)
                },
            )
            .await?;
    }
    for n in 1..=12 {
        store
            .create_account(
                &actor,
                NewAccount {
                    employer: EXPERT_EMPLOYERS[n % EXPERT_EMPLOYERS.len()].into(),
                    ..account(&format!("expert-{n}"), &format!("专家{n}"), Role::Expert)
                },
            )
            .await?;
    }
    seed_filing(store, today).await?;
    seed_plans(store, today).await?;
    crate::demo_filing_review::seed_filing_review(store, today).await?;
    crate::demo_filing_rules::seed_filing_rules(store, today).await?;
    crate::demo_inst_plans::seed_inst_plans(store, today).await?;
    crate::demo_certificates::seed_certificates(store, today).await?;
    store.seed_outbox_demo(today).await?;
    crate::demo_retention::seed_retention(store, today).await?;
    Ok(true)
}
