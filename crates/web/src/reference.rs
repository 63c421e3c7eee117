//! 参考数据 (行政区划、职业目录、工作日历): the use cases shared by the pages and the API. Reading
//! is open to every signed-in role (`reference.read`); keeping the data is the admin's
//! (`reference.manage`). Each use case checks the permission table here; the handlers only
//! translate forms and JSON.

use chrono::{Datelike, NaiveDate};
use domain::calendar::{DayKind, YearSchedule};
use domain::Action;
use store::{CalendarDayRow, Division, Occupation, OccupationFilter, Page, PageRequest};

use crate::auth::Authed;
use crate::error::AppError;
use crate::AppState;

/// 行政区划: every division (the API's list and the admin's register).
pub async fn divisions(state: &AppState, me: &Authed) -> Result<Vec<Division>, AppError> {
    me.may(Action::ReferenceRead)?;
    Ok(state.store.divisions().await?)
}

/// 区县（市）: the districts a form offers (选择项), for every signed-in role.
pub async fn districts(state: &AppState, me: &Authed) -> Result<Vec<Division>, AppError> {
    me.may(Action::ReferenceRead)?;
    Ok(state.store.districts().await?)
}

/// 行政区划 by code, to edit (admin).
pub async fn division(state: &AppState, me: &Authed, code: &str) -> Result<Division, AppError> {
    me.may(Action::ReferenceManage)?;
    Ok(state.store.division(code).await?)
}

/// 新增区划 (admin).
pub async fn add_division(state: &AppState, me: &Authed, d: &Division) -> Result<(), AppError> {
    me.may(Action::ReferenceManage)?;
    Ok(state.store.save_division(&me.actor(), d, None).await?)
}

/// 修改区划 (admin), with the version check: `check` validates the input after the division is
/// found (a missing division is 404 before any field error).
pub async fn update_division(
    state: &AppState,
    me: &Authed,
    code: &str,
    check: impl FnOnce() -> Result<(Division, i64), AppError>,
) -> Result<(), AppError> {
    me.may(Action::ReferenceManage)?;
    state.store.division(code).await?;
    let (d, version) = check()?;
    Ok(state
        .store
        .save_division(&me.actor(), &d, Some(version))
        .await?)
}

/// 职业目录: one page of the catalogue (the API's list and the admin's register).
pub async fn occupations(
    state: &AppState,
    me: &Authed,
    filter: &OccupationFilter,
    page: PageRequest,
) -> Result<Page<Occupation>, AppError> {
    me.may(Action::ReferenceRead)?;
    Ok(state.store.list_occupations(filter, page).await?)
}

/// 职业目录条目, to edit (admin).
pub async fn occupation(state: &AppState, me: &Authed, id: i64) -> Result<Occupation, AppError> {
    me.may(Action::ReferenceManage)?;
    Ok(state.store.occupation(id).await?)
}

/// 保存职业目录条目 (admin): `id` 0 adds one; another id must exist (404 before any field
/// error). `check` validates the input.
pub async fn save_occupation(
    state: &AppState,
    me: &Authed,
    id: i64,
    check: impl FnOnce() -> Result<Occupation, AppError>,
) -> Result<i64, AppError> {
    if id != 0 {
        state.store.occupation(id).await?;
    }
    me.may(Action::ReferenceManage)?;
    let o = check()?;
    Ok(state.store.save_occupation(&me.actor(), &o).await?)
}

/// One year of the 工作日历 as the admin sees it.
pub struct CalendarYear {
    /// The years entered, with their source (国务院办公厅通知).
    pub years: Vec<(i64, String)>,
    pub year: i64,
    /// Holidays and 调休 days: the official ones, or the provisional schedule the platform
    /// computes with until the official one is entered.
    pub days: Vec<CalendarDayRow>,
}

/// 工作日历: one year (the latest entered one by default).
pub async fn calendar(
    state: &AppState,
    me: &Authed,
    year: Option<i64>,
) -> Result<CalendarYear, AppError> {
    me.may(Action::ReferenceManage)?;
    let years = state.store.calendar_years().await?;
    let year = year.or_else(|| years.last().map(|y| y.0)).unwrap_or(2026);
    let official = years.iter().any(|y| y.0 == year);
    let mut days = state.store.calendar_days(year).await?;
    if !official {
        if let Ok(p) = domain::calendar::provisional_year(year as i32) {
            days = p
                .days
                .values()
                .map(|d| CalendarDayRow {
                    day: d.date.to_string(),
                    kind: d.kind,
                    name: d.name.clone(),
                })
                .collect();
        }
    }
    Ok(CalendarYear { years, year, days })
}

/// 设置节假日或调休日 (`kind`: off, work, or remove); returns the day's year.
pub async fn set_calendar_day(
    state: &AppState,
    me: &Authed,
    day: &str,
    kind: &str,
    name: &str,
) -> Result<i32, AppError> {
    me.may(Action::ReferenceManage)?;
    let day = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("day", "日期格式应为 YYYY-MM-DD"))?;
    let kind = match kind {
        "remove" => None,
        k => Some(DayKind::parse(k).ok_or_else(|| AppError::invalid("kind", "请选择类别"))?),
    };
    if kind == Some(DayKind::Work) && day.weekday().number_from_monday() < 6 {
        return Err(AppError::invalid("kind", "调休上班日须为周六或周日"));
    }
    let name = name.trim().chars().take(30).collect::<String>();
    state
        .store
        .set_calendar_day(&me.actor(), day, kind, &name)
        .await?;
    Ok(day.year())
}

/// 录入年度节假日安排 from the TOML format of the shipped files; returns the year.
pub async fn add_calendar_year(state: &AppState, me: &Authed, toml: &str) -> Result<i32, AppError> {
    me.may(Action::ReferenceManage)?;
    let s = YearSchedule::from_toml(toml)
        .map_err(|e| AppError::invalid("toml", format!("节假日安排格式有误：{e}")))?;
    state.store.add_calendar_year(&me.actor(), &s).await?;
    Ok(s.year)
}
