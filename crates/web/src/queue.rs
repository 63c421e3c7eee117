//! Work queues (待办): what waits for me, oldest first, with how many working days it has waited.
//! Each role's queue is a list of sources; later workflows add their own.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use domain::calendar::HolidayCalendar;
use domain::Role;
use store::{InstitutionFilter, PageRequest, UserFilter};

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

/// Today in Beijing time (+08:00), the date every rule of the notice speaks of.
pub fn today_cn() -> NaiveDate {
    let cn = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    Utc::now().with_timezone(&cn).date_naive()
}

fn waited(cal: &HolidayCalendar, since: &str) -> Option<i64> {
    let cn = FixedOffset::east_opt(8 * 3600)?;
    let d = DateTime::parse_from_rfc3339(since)
        .ok()?
        .with_timezone(&cn)
        .date_naive();
    cal.working_days_between(d, today_cn()).ok()
}

pub async fn for_account(state: &AppState, me: &Authed) -> Result<Vec<WorkItem>, AppError> {
    let store = &state.store;
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
    match me.role() {
        Role::Admin => {
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
            let next_year = {
                use chrono::Datelike;
                today_cn().year() as i64 + 1
            };
            let loaded: Vec<i64> = store
                .calendar_years()
                .await?
                .into_iter()
                .map(|(y, _)| y)
                .collect();
            if !loaded.contains(&next_year) {
                items.push(WorkItem {
                    title: format!("录入 {next_year} 年节假日安排"),
                    detail:
                        "国务院办公厅每年11月前后发布次年安排；未录入前，跨年的工作日计算会报错。"
                            .into(),
                    href: "/admin/calendar".into(),
                    since: None,
                    waited: None,
                });
            }
        }
        Role::CityCenter => {
            // 二(一): the city center allocates each district's account.
            let accounts = store
                .list_accounts(
                    &me.scope(),
                    &UserFilter {
                        role: Some("district".into()),
                        ..Default::default()
                    },
                    PageRequest::new(Some(1), Some(200)),
                )
                .await?;
            for d in store.districts().await? {
                if !accounts
                    .items
                    .iter()
                    .any(|a| a.district_code.as_deref() == Some(d.code.as_str()))
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
        Role::District => {
            let incomplete = store
                .list_institutions(
                    &me.scope(),
                    &InstitutionFilter {
                        incomplete: true,
                        ..Default::default()
                    },
                    PageRequest::new(Some(1), Some(50)),
                )
                .await?
                .items;
            for i in incomplete {
                items.push(WorkItem {
                    title: format!("{} 信息不完整", i.name),
                    detail: "缺少联系电话或主营业务范围。属地管理：请督促机构完善。".into(),
                    href: format!("/institutions/{}", i.id),
                    since: Some(i.created_at.clone()),
                    waited: None,
                });
            }
        }
        Role::CityDivision | Role::Expert | Role::Supervisor => {}
    }
    let cal = state.display_calendar().await?;
    for it in &mut items {
        if let Some(s) = &it.since {
            it.waited = waited(&cal, s);
        }
    }
    // Oldest first; items without a start date after them.
    items.sort_by(|a, b| match (&a.since, &b.since) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    Ok(items)
}
