//! Work queues (待办): what waits for me, oldest first, with how many working days it has waited.
//! Each role's queue is a list of sources; later workflows add their own.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use domain::calendar::HolidayCalendar;
use domain::Role;
use store::{PageRequest, QueueRows, QueueSource, UserFilter};

use crate::auth::Authed;
use crate::error::AppError;
use crate::AppState;

pub struct WorkItem {
    pub title: String,
    pub detail: String,
    pub href: String,
    /// When it started waiting (RFC 3339), if known.
    pub since: Option<String>,
    /// Working days waited, if the calendar covers the period.
    pub waited: Option<i64>,
}

/// Today in Beijing time (+08:00), the date every rule of the notice speaks of. Only
/// `AppState::today` calls it, so that a pinned date (drills, tests) reaches every rule.
pub fn today_cn() -> NaiveDate {
    let cn = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    Utc::now().with_timezone(&cn).date_naive()
}

/// Working days from an RFC 3339 time (China date) to `today`.
pub fn waited_days(cal: &HolidayCalendar, since: &str, today: NaiveDate) -> Option<i64> {
    let cn = FixedOffset::east_opt(8 * 3600)?;
    let d = DateTime::parse_from_rfc3339(since)
        .ok()?
        .with_timezone(&cn)
        .date_naive();
    cal.working_days_between(d, today).ok()
}

/// 机构备案 sources: the applications waiting for this role (state + key not yet given); for
/// the city, also the 特殊情况申请 waiting for its key and the count of overdue filings.
fn filing_items(
    state: &AppState,
    me: &Authed,
    apps: Vec<store::QueueFiling>,
    exceptions: Vec<store::QueueException>,
    overdue: i64,
) -> Vec<WorkItem> {
    use domain::filing::{available, Command};
    let mut out = vec![];
    for a in apps {
        let st = &a.workflow;
        if st.state.is_terminal() {
            continue;
        }
        let cmds = available(&state.policy, st, me.role());
        let mine = match me.role() {
            Role::Institution => st.state.editable(),
            Role::Expert => st.state == domain::filing::FilingState::ExpertsDrawn,
            Role::Supervisor => false,
            _ => cmds
                .iter()
                .any(|c| !matches!(c, Command::Return | Command::Reject | Command::Object)),
        };
        if !mine {
            continue;
        }
        out.push(WorkItem {
            title: format!("{} · {}", a.institution_name, st.flow.kind.label()),
            detail: format!("状态：{}", st.state.label()),
            href: format!("/filings/{}", a.id),
            since: Some(a.state_since.clone()),
            waited: None,
        });
    }
    for e in exceptions {
        let given = if me.role() == Role::CityCenter {
            e.center_by.is_some()
        } else {
            e.division_by.is_some()
        };
        if !given {
            out.push(WorkItem {
                title: format!("特殊情况申请：{}", e.institution_name),
                detail: format!("{}（{}）", e.reason, e.occupation_name.unwrap_or_default()),
                href: format!("/filing-exceptions/{}", e.id),
                since: Some(e.raised_at),
                waited: None,
            });
        }
    }
    if overdue > 0 {
        out.push(WorkItem {
            title: format!("{overdue} 件移交备案已超过完成期限"),
            detail: "三(三)：区县应在期限前完成移交的申报备案评审及备案工作。".into(),
            href: "/filings/overdue".into(),
            since: None,
            waited: None,
        });
    }
    out
}

/// 节假日安排未录入提醒 for the admin and the city, from 1 November (see
/// `HolidayCalendar::missing_schedule_warning`).
async fn calendar_warning(state: &AppState) -> Result<Option<WorkItem>, AppError> {
    // Fresh, not the display cache: the reminder goes away as soon as the year is entered.
    let cal = state.store.holiday_calendar().await?;
    Ok(cal
        .missing_schedule_warning(state.today())
        .map(|year| WorkItem {
            title: format!("{year} 年节假日安排尚未录入"),
            detail: format!(
                "国务院办公厅通常于每年11月发布次年节假日安排。录入前，涉及 {year} 年的工作日按临时日历（法定节假日及周末）推算，并在页面、接口和审计记录中标注“临时日历”；请平台管理员尽快录入正式安排。"
            ),
            href: "/admin/calendar".into(),
            since: None,
            waited: None,
        }))
}

/// The sources of `me`'s queue read in the one statement of `Store::work_queue` (with the
/// dashboard's counts), by index.
struct Sources {
    list: Vec<QueueSource>,
}

impl Sources {
    fn add(&mut self, s: QueueSource) -> usize {
        self.list.push(s);
        self.list.len() - 1
    }

    fn add_if(&mut self, cond: bool, s: QueueSource) -> Option<usize> {
        cond.then(|| self.add(s))
    }
}

/// What the statement returned, taken out by index.
struct Rows(Vec<QueueRows>);

impl Rows {
    fn take(&mut self, i: usize) -> QueueRows {
        std::mem::replace(&mut self.0[i], QueueRows::Count(0))
    }
    fn plans(&mut self, i: usize) -> Vec<store::QueuePlan> {
        match self.take(i) {
            QueueRows::Plans(v) => v,
            _ => vec![],
        }
    }
    fn count(&mut self, i: usize) -> i64 {
        match self.take(i) {
            QueueRows::Count(n) => n,
            _ => 0,
        }
    }
}

fn plans_in(status: &str) -> QueueSource {
    QueueSource::Plans(store::PlanFilter {
        status: Some(status.into()),
        ..Default::default()
    })
}

/// City-confirmed plans still without a supervisor of `side` (the check happens in SQL).
fn unsupervised(side: &'static str) -> QueueSource {
    QueueSource::Plans(store::PlanFilter {
        status: Some("city_confirmed".into()),
        without_supervisor: Some(side),
        ..Default::default()
    })
}

/// A work queue and the counts of the caller's jurisdiction (one statement holds both).
pub struct Queue {
    pub items: Vec<WorkItem>,
    /// (title, detail) of the missing-calendar reminder (admin and city), also the queue's
    /// first item.
    pub calendar_warning: Option<(String, String)>,
    /// Institutions and accounts in the caller's scope.
    pub institution_count: i64,
    pub account_count: i64,
}

pub async fn for_account(state: &AppState, me: &Authed) -> Result<Queue, AppError> {
    let store = &state.store;
    let role = me.role();
    // Every list-shaped source of this role and the two counts: one round trip.
    let mut src = Sources { list: vec![] };
    let n_inst = src.add(QueueSource::InstitutionCount);
    let n_acc = src.add(QueueSource::AccountCount);
    let incomplete = src.add_if(role == Role::District, QueueSource::IncompleteInstitutions);
    let plans: Vec<usize> = match role {
        Role::Institution => ["draft", "returned", "district_approved", "city_confirmed"]
            .into_iter()
            .map(|s| src.add(plans_in(s)))
            .collect(),
        Role::District => vec![
            src.add(plans_in("submitted")),
            src.add(plans_in("paper_received")),
            src.add(unsupervised("district")),
        ],
        Role::CityCenter | Role::CityDivision => {
            let mut v = vec![src.add(plans_in("entered")), src.add(unsupervised("city"))];
            if role == Role::CityCenter {
                v.push(src.add(QueueSource::Plans(store::PlanFilter {
                    status: Some("city_confirmed".into()),
                    certificates_waiting: true,
                    ..Default::default()
                })));
            }
            v
        }
        Role::Supervisor => vec![src.add(plans_in("city_confirmed"))],
        Role::Admin | Role::Expert => vec![],
    };
    let efilings = src.add_if(role == Role::District, QueueSource::SubmittedEfilings);
    // A supervisor's turn never comes in a filing (see `filing_items`).
    let filings = src.add_if(role != Role::Supervisor, QueueSource::Filings);
    let registrations = src.add_if(role == Role::District, QueueSource::PendingRegistrations);
    let due = src.add_if(
        me.can(domain::Action::RetentionApproveDisposal),
        QueueSource::DueRetention,
    );
    let city = matches!(role, Role::CityCenter | Role::CityDivision);
    let district_accounts = src.add_if(role == Role::CityCenter, QueueSource::DistrictAccounts);
    let exceptions = src.add_if(city, QueueSource::PendingExceptions);
    let overdue = src.add_if(city, QueueSource::OverdueFilingCount);
    let changes = src.add_if(city, QueueSource::ProposedCertChanges);
    let mut rows = Rows(
        store
            .work_queue(&me.scope(), state.today(), &src.list)
            .await?,
    );

    let mut items = vec![];
    if me.account.must_change_password {
        items.push(WorkItem {
            title: "修改初始密码".into(),
            detail: "您的密码由管理员设置，请先修改为只有您知道的密码。".into(),
            href: "/account/password".into(),
            since: Some(me.account.created_at.clone()),
            waited: None,
        });
    }
    if role == Role::Admin {
        let locked = store
            .list_accounts(
                &me.scope(),
                &UserFilter {
                    locked: true,
                    ..Default::default()
                },
                PageRequest::new(Some(1), Some(50)),
            )
            .await?
            .items;
        for a in locked {
            items.push(WorkItem {
                title: format!("账号 {} 已被锁定", a.username),
                detail: "连续多次密码错误，核实身份后可解锁。".into(),
                href: format!("/users/{}", a.id),
                since: a.locked_until.clone(),
                waited: None,
            });
        }
        let unconfirmed = store.count_unconfirmed_occupations().await?;
        if unconfirmed > 0 {
            items.push(WorkItem {
                title: format!("{unconfirmed} 个职业（工种）待核对"),
                detail: "初始目录中未经确认的职业代码与等级，请对照《国家职业分类大典（2022年版）》核对。".into(),
                href: "/admin/occupations?confirmed=no".into(),
                since: None,
                waited: None,
            });
        }
    }
    let mut warning = None;
    if matches!(role, Role::Admin | Role::CityCenter | Role::CityDivision) {
        if let Some(item) = calendar_warning(state).await? {
            warning = Some((item.title.clone(), item.detail.clone()));
            items.insert(0, item);
        }
    }
    match role {
        Role::CityCenter => {
            // 二(一): the city center allocates each district's account.
            let accounts = match district_accounts.map(|i| rows.take(i)) {
                Some(QueueRows::Districts(v)) => v,
                _ => vec![],
            };
            for d in state.display_districts().await?.iter() {
                if !accounts
                    .iter()
                    .any(|a| a.as_deref() == Some(d.code.as_str()))
                {
                    items.push(WorkItem {
                        title: format!("为{}分配区县账号", d.name),
                        detail: "依据 二(一)，由市职业技能鉴定中心为各区县分配平台账号。".into(),
                        href: format!("/users/new?role=district&district={}", d.code),
                        since: None,
                        waited: None,
                    });
                }
            }
        }
        Role::Institution => {
            if let Some(id) = me.account.institution_id {
                let inst = store.institution(&me.scope(), id).await?;
                if inst.contact_phone.is_empty() || inst.business_scope.is_empty() {
                    items.push(WorkItem {
                        title: "完善机构信息".into(),
                        detail: "联系人电话与主营业务范围是备案审核的必要信息。".into(),
                        href: format!("/institutions/{id}/edit"),
                        since: Some(inst.created_at.clone()),
                        waited: None,
                    });
                }
            }
        }
        _ => {}
    }
    if let Some(QueueRows::Institutions(incomplete)) = incomplete.map(|i| rows.take(i)) {
        for i in incomplete {
            items.push(WorkItem {
                title: format!("{} 信息不完整", i.name),
                detail: "缺少联系电话或主营业务范围。属地管理：请督促机构完善。".into(),
                href: format!("/institutions/{}", i.id),
                since: Some(i.created_at),
                waited: None,
            });
        }
    }
    let plans: Vec<Vec<store::QueuePlan>> = plans.into_iter().map(|i| rows.plans(i)).collect();
    let efilings = match efilings.map(|i| rows.take(i)) {
        Some(QueueRows::Efilings(v)) => v,
        _ => vec![],
    };
    let changes = match changes.map(|i| rows.take(i)) {
        Some(QueueRows::CertChanges(v)) => v,
        _ => vec![],
    };
    items.extend(plan_items(state, me, plans, efilings, changes).await?);
    if let Some(QueueRows::Filings(apps)) = filings.map(|i| rows.take(i)) {
        let exceptions = match exceptions.map(|i| rows.take(i)) {
            Some(QueueRows::Exceptions(v)) => v,
            _ => vec![],
        };
        let overdue = overdue.map_or(0, |i| rows.count(i));
        items.extend(filing_items(state, me, apps, exceptions, overdue));
    }
    if let Some(QueueRows::Registrations(regs)) = registrations.map(|i| rows.take(i)) {
        items.extend(crate::registration::queue_items(regs));
    }
    if let Some(QueueRows::Retention(due)) = due.map(|i| rows.take(i)) {
        items.extend(crate::retention::queue_items(me, &due));
    }
    let cal = state.display_calendar().await?;
    let today = state.today();
    for it in &mut items {
        if let Some(s) = &it.since {
            it.waited = waited_days(&cal, s, today);
        }
    }
    // Oldest first; items without a start date after them.
    items.sort_by(|a, b| match (&a.since, &b.since) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Ok(Queue {
        items,
        calendar_warning: warning,
        institution_count: rows.count(n_inst),
        account_count: rows.count(n_acc),
    })
}

/// 二、评价管理: what waits for each role in electronic filing, plans, supervision and results.
/// `plans` holds the rows of the role's plan sources, in the order `for_account` asked them.
async fn plan_items(
    state: &AppState,
    me: &Authed,
    plans: Vec<Vec<store::QueuePlan>>,
    efilings: Vec<store::QueueEfiling>,
    changes: Vec<store::QueueCertChange>,
) -> Result<Vec<WorkItem>, AppError> {
    use domain::plan::EfilingStatus;
    let store = &state.store;
    let mut plans = plans.into_iter();
    let mut next = || plans.next().unwrap_or_default();
    let mut items = vec![];
    let item = |title: String, detail: String, href: String, since: &str| WorkItem {
        title,
        detail,
        href,
        since: Some(since.to_string()),
        waited: None,
    };
    match me.role() {
        Role::Institution => {
            if let Some(inst) = me.account.institution_id {
                let status = store.efiling_status(inst).await?;
                if matches!(status, EfilingStatus::Missing | EfilingStatus::Returned) {
                    items.push(WorkItem {
                        title: "完成电子备案".into(),
                        detail: "二(二)：上传备案材料电子版并经区县确认后，方可提交评价工作计划。"
                            .into(),
                        href: "/efiling".into(),
                        since: None,
                        waited: None,
                    });
                }
            }
            for p in next() {
                items.push(item(
                    format!("提交评价工作计划 {}", p.plan_no),
                    format!("评价于{}开始，须至少提前3个工作日提交区县。", p.start_date),
                    format!("/plans/{}", p.id),
                    &p.status_since,
                ));
            }
            for p in next() {
                items.push(item(
                    format!("修改被退回的计划 {}", p.plan_no),
                    format!("退回理由：{}", p.last_reason),
                    format!("/plans/{}", p.id),
                    &p.status_since,
                ));
            }
            for p in next() {
                items.push(item(
                    format!("在平台填报计划 {}", p.plan_no),
                    "区县已审核通过，填报后报市级认可。".into(),
                    format!("/plans/{}", p.id),
                    &p.status_since,
                ));
            }
            for p in next() {
                let signed = store.signed_parties(p.id).await?;
                let has_letter = store.current_letter(p.id).await?.is_some();
                if has_letter && !signed.contains(&domain::plan::Party::Institution) {
                    items.push(item(
                        format!("签署督导责任书 {}", p.plan_no),
                        "三方签字后本次评价方为有效（二(三)）。".into(),
                        format!("/plans/{}/letter", p.id),
                        &p.status_since,
                    ));
                }
                if p.results_status == domain::plan::ResultsStatus::Publicised
                    && p.results_publicity_until
                        .as_deref()
                        .is_some_and(|u| u < state.today().format("%Y-%m-%d").to_string().as_str())
                {
                    items.push(item(
                        format!("上报评价结果 {}", p.plan_no),
                        "公示期已满，请将成绩上报市级。".into(),
                        format!("/plans/{}", p.id),
                        &p.status_since,
                    ));
                }
            }
        }
        Role::District => {
            for p in next() {
                items.push(item(
                    format!("收取纸质计划 {}", p.plan_no),
                    format!("{}，评价于{}开始。", p.institution_name, p.start_date),
                    format!("/plans/{}", p.id),
                    &p.status_since,
                ));
            }
            for p in next() {
                items.push(item(
                    format!("审核评价工作计划 {}", p.plan_no),
                    format!("{}，评价于{}开始。", p.institution_name, p.start_date),
                    format!("/plans/{}", p.id),
                    &p.status_since,
                ));
            }
            for p in next() {
                items.push(item(
                    format!("派遣区县督导员 {}", p.plan_no),
                    "二(三)：区县派遣一名督导人员。".into(),
                    format!("/plans/{}", p.id),
                    &p.status_since,
                ));
            }
            for e in efilings {
                items.push(item(
                    format!("确认电子备案：{}", e.institution_name),
                    "核对备案材料电子版后确认或退回。".into(),
                    format!("/efilings/{}/review", e.institution_id),
                    e.submitted_at.as_deref().unwrap_or_default(),
                ));
            }
        }
        Role::CityCenter | Role::CityDivision => {
            for p in next() {
                items.push(item(
                    format!("认可评价工作计划 {}", p.plan_no),
                    format!(
                        "{}（{}），评价于{}开始。",
                        p.institution_name, p.district_name, p.start_date
                    ),
                    format!("/plans/{}", p.id),
                    &p.status_since,
                ));
            }
            for p in next() {
                items.push(item(
                    format!("派遣市级督导员 {}", p.plan_no),
                    "二(三)：市级督导组派遣一名督导人员。".into(),
                    format!("/plans/{}", p.id),
                    &p.status_since,
                ));
            }
            // Results submitted, no batch finished yet (a plan whose batch left blocked
            // candidates behind is on the issue page, /certificates/issue); the center only.
            for p in next() {
                let waiting = p.certificates_waiting.unwrap_or(0);
                if waiting > 0 {
                    items.push(item(
                        format!("生成证书数据 {}", p.plan_no),
                        format!("机构已上报评价结果，{waiting} 名通过的考生尚未发证（二(三)）。"),
                        format!("/plans/{}/certificates", p.id),
                        p.results_submitted_at.as_deref().unwrap_or(&p.status_since),
                    ));
                }
            }
            // 证书撤销、更正: the other city role's key waits.
            for x in changes {
                if x.proposed_role != me.role().as_str() {
                    items.push(item(
                        format!("确认证书{}：{}", x.kind_label, x.cert_no),
                        format!("{}提出，原因：{}", x.proposed_by, x.reason),
                        format!("/certificates/{}", x.certificate_id),
                        &x.proposed_at,
                    ));
                }
            }
        }
        Role::Supervisor => {
            for p in next() {
                let letter = store.current_letter(p.id).await?;
                if let Some(l) = letter {
                    let sigs = store.signatures(l.id).await?;
                    if !sigs.iter().any(|s| s.signer_id == me.account.id) {
                        items.push(item(
                            format!("签署督导责任书 {}", p.plan_no),
                            format!("{}，评价于{}开始。", p.institution_name, p.start_date),
                            format!("/plans/{}/letter", p.id),
                            &p.status_since,
                        ));
                    }
                }
                if p.start_date.as_str() <= state.today().format("%Y-%m-%d").to_string().as_str()
                    && !store
                        .reports(p.id)
                        .await?
                        .iter()
                        .any(|r| r.supervisor_name == me.account.display_name)
                {
                    items.push(item(
                        format!("提交督导报告 {}", p.plan_no),
                        "评价实施后提交督导报告。".into(),
                        format!("/plans/{}/report", p.id),
                        &p.status_since,
                    ));
                }
            }
        }
        Role::Admin | Role::Expert => {}
    }
    Ok(items)
}
