//! 工作日历: working days under the State Council holiday notices
//! (国务院办公厅关于部分节假日安排的通知), including 调休上班 make-up days.
//!
//! Weekends are rest days unless listed as `Work`; listed `Off` days are rest days.
//! The next year's official schedule is published each November and an admin enters it.
//! Until then the platform must not stop: a year without an official schedule gets a
//! **provisional** one (临时日历) built from 《全国年节及纪念日放假办法》 (2024 revision), and
//! every date computed on it says so ([`CalendarBasis`]). Years outside 2000–2100 are an error.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

mod provisional;

pub use provisional::{provisional_year, PROVISIONAL_SOURCE};

crate::code_enum! {
    /// Kind of a listed day.
    pub enum DayKind("日历日类别") {
        /// 放假: statutory holiday or the rest days around it.
        Off = "off", "休息（节假日）";
        /// 调休上班: a weekend day that is a working day.
        Work = "work", "调休上班";
    }
}

/// One listed day of a year's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// e.g. "春节" or "春节调休".
    pub name: String,
}

/// 年度节假日安排: the listed exceptions to the Monday–Friday rule for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct YearSchedule {
    pub year: i32,
    /// The notice it was copied from, shown next to computed deadlines.
    pub source: String,
    pub days: BTreeMap<NaiveDate, CalendarDay>,
    /// Built by [`provisional_year`], not copied from an official notice.
    #[serde(default)]
    pub provisional: bool,
}

/// 日历依据: whether a computed date rests on official schedules only, or on at least one
/// provisional year. Shown next to every computed date (page, API field `calendar`, audit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CalendarBasis {
    /// 正式日历: every year touched has its State Council schedule entered.
    Official,
    /// 临时日历: at least one year touched is provisional.
    Provisional,
}

impl CalendarBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            CalendarBasis::Official => "official",
            CalendarBasis::Provisional => "provisional",
        }
    }

    pub fn parse(s: &str) -> Option<CalendarBasis> {
        match s {
            "official" => Some(CalendarBasis::Official),
            "provisional" => Some(CalendarBasis::Provisional),
            _ => None,
        }
    }

    pub fn is_provisional(self) -> bool {
        self == CalendarBasis::Provisional
    }

    /// The note shown beside a date: empty for official dates.
    pub fn note(self) -> &'static str {
        match self {
            CalendarBasis::Official => "",
            CalendarBasis::Provisional => {
                "（按临时日历推算：该年度国务院节假日安排尚未录入，以正式安排为准）"
            }
        }
    }

    /// Both bases together: provisional if either is.
    pub fn and(self, other: CalendarBasis) -> CalendarBasis {
        if self.is_provisional() || other.is_provisional() {
            CalendarBasis::Provisional
        } else {
            CalendarBasis::Official
        }
    }
}

/// The years a working-day calendar can answer for; outside them is an explicit error.
pub const SUPPORTED_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{0} 年超出工作日历的支持范围（2000—2100 年）")]
    YearOutOfRange(i32),
    #[error("{0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: i32,
    source: String,
    #[serde(default)]
    holiday: Vec<RawHoliday>,
    #[serde(default)]
    workday: Vec<RawWorkday>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: String,
    from: String,
    to: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkday {
    name: String,
    date: String,
}

fn parse_date(s: &str, what: &str) -> Result<NaiveDate, CalendarError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| CalendarError::Invalid(format!("{what}日期“{s}”无效，应为 YYYY-MM-DD 格式")))
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

impl YearSchedule {
    /// Parses the `data/calendar/YYYY.toml` format:
    /// `year`, `source`, `[[holiday]] name from to` (inclusive) and `[[workday]] name date`.
    /// Every date must lie in `year`, no date may be listed twice, and a make-up working
    /// day must be a Saturday or Sunday (a weekday is a working day anyway: listing it is a typo).
    pub fn from_toml(text: &str) -> Result<YearSchedule, CalendarError> {
        let raw: RawYear = toml::from_str(text).map_err(|e| {
            CalendarError::Invalid(format!("节假日安排文件格式错误：{}", e.message()))
        })?;
        if !SUPPORTED_YEARS.contains(&raw.year) {
            return Err(CalendarError::Invalid(format!("年份“{}”无效", raw.year)));
        }
        if raw.source.trim().is_empty() {
            return Err(CalendarError::Invalid(
                "请填写节假日安排的来源（通知名称）".into(),
            ));
        }
        let mut days = BTreeMap::new();
        let mut put = |day: CalendarDay| -> Result<(), CalendarError> {
            if day.date.year() != raw.year {
                return Err(CalendarError::Invalid(format!(
                    "日期 {} 不属于 {} 年",
                    day.date, raw.year
                )));
            }
            if let Some(prev) = days.get(&day.date) {
                let prev: &CalendarDay = prev;
                return Err(CalendarError::Invalid(format!(
                    "日期 {} 重复出现（{}、{}）",
                    day.date, prev.name, day.name
                )));
            }
            days.insert(day.date, day);
            Ok(())
        };
        for h in &raw.holiday {
            let from = parse_date(&h.from, "放假开始")?;
            let to = parse_date(&h.to, "放假结束")?;
            if to < from {
                return Err(CalendarError::Invalid(format!(
                    "“{}”的放假结束日期 {} 早于开始日期 {}",
                    h.name, to, from
                )));
            }
            let mut d = from;
            while d <= to {
                put(CalendarDay {
                    date: d,
                    kind: DayKind::Off,
                    name: h.name.clone(),
                })?;
                d = d + Days::new(1);
            }
        }
        for w in &raw.workday {
            let date = parse_date(&w.date, "调休上班")?;
            if !is_weekend(date) {
                return Err(CalendarError::Invalid(format!(
                    "调休上班日 {}（{}）应为周六或周日",
                    date, w.name
                )));
            }
            put(CalendarDay {
                date,
                kind: DayKind::Work,
                name: w.name.clone(),
            })?;
        }
        Ok(YearSchedule {
            year: raw.year,
            source: raw.source,
            days,
            provisional: false,
        })
    }

    /// Writes the same format back (consecutive `Off` days with one name become one range),
    /// so an admin can download, edit and re-upload a year.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "year = {}", self.year);
        let _ = writeln!(out, "source = {}", toml_str(&self.source));
        let mut ranges: Vec<(String, NaiveDate, NaiveDate)> = Vec::new();
        for d in self.days.values().filter(|d| d.kind == DayKind::Off) {
            match ranges.last_mut() {
                Some((name, _, to)) if *name == d.name && *to + Days::new(1) == d.date => {
                    *to = d.date
                }
                _ => ranges.push((d.name.clone(), d.date, d.date)),
            }
        }
        for (name, from, to) in ranges {
            let _ = write!(
                out,
                "\n[[holiday]]\nname = {}\nfrom = \"{from}\"\nto = \"{to}\"\n",
                toml_str(&name)
            );
        }
        for d in self.days.values().filter(|d| d.kind == DayKind::Work) {
            let _ = write!(
                out,
                "\n[[workday]]\nname = {}\ndate = \"{}\"\n",
                toml_str(&d.name),
                d.date
            );
        }
        out
    }
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The official years entered, with provisional years filling every gap in 2000–2100.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayCalendar {
    years: BTreeMap<i32, YearSchedule>,
}

const BUILTIN: [&str; 3] = [
    include_str!("../../../../data/calendar/2024.toml"),
    include_str!("../../../../data/calendar/2025.toml"),
    include_str!("../../../../data/calendar/2026.toml"),
];

impl HolidayCalendar {
    pub fn new() -> Self {
        HolidayCalendar::default()
    }

    /// The schedules shipped in `data/calendar/` (2024–2026), for seeding and tests.
    pub fn builtin() -> Self {
        let mut c = HolidayCalendar::new();
        for text in BUILTIN {
            c.insert_year(YearSchedule::from_toml(text).expect("shipped calendar data is valid"));
        }
        c
    }

    /// Replaces the year if it is already loaded.
    pub fn insert_year(&mut self, s: YearSchedule) {
        self.years.insert(s.year, s);
    }

    /// The years whose official schedule has been entered.
    pub fn loaded_years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    /// The official schedule of a year, if entered.
    pub fn year(&self, year: i32) -> Option<&YearSchedule> {
        self.years.get(&year)
    }

    /// The schedule the calendar uses for a year: the official one, else the provisional one.
    pub fn schedule(&self, year: i32) -> Result<&YearSchedule, CalendarError> {
        match self.years.get(&year) {
            Some(s) => Ok(s),
            None => provisional_year(year),
        }
    }

    pub fn is_official(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// Whether every year from `a` to `b` (either order, both included) is official.
    pub fn basis(&self, a: NaiveDate, b: NaiveDate) -> CalendarBasis {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        if (lo.year()..=hi.year()).all(|y| self.is_official(y)) {
            CalendarBasis::Official
        } else {
            CalendarBasis::Provisional
        }
    }

    /// 明年节假日安排未录入提醒: from 1 November, the year whose official schedule is missing
    /// (next year; or this year, if it is still missing). `None` when nothing is missing.
    pub fn missing_schedule_warning(&self, today: NaiveDate) -> Option<i32> {
        if !self.is_official(today.year()) {
            return Some(today.year());
        }
        let next = today.year() + 1;
        (today.month() >= 11 && !self.is_official(next)).then_some(next)
    }

    /// The listed entry for a date, if any (for showing "春节" next to a date).
    pub fn day(&self, d: NaiveDate) -> Result<Option<&CalendarDay>, CalendarError> {
        Ok(self.schedule(d.year())?.days.get(&d))
    }

    pub fn is_working_day(&self, d: NaiveDate) -> Result<bool, CalendarError> {
        Ok(match self.day(d)? {
            Some(day) => day.kind == DayKind::Work,
            None => !is_weekend(d),
        })
    }

    /// The `n`-th working day strictly after `d` (n > 0) or strictly before `d` (n < 0);
    /// `d` itself when n = 0. Errors only when the walk leaves 2000–2100.
    pub fn add_working_days(&self, d: NaiveDate, n: i64) -> Result<NaiveDate, CalendarError> {
        let mut cur = d;
        let mut left = n.unsigned_abs();
        while left > 0 {
            cur = step(cur, n > 0)?;
            if self.is_working_day(cur)? {
                left -= 1;
            }
        }
        Ok(cur)
    }

    /// Working days in the half-open interval (`from`, `to`]: strictly after `from`, up to and
    /// including `to`. Equal dates give 0; `to` before `from` gives the negated count of
    /// (`to`, `from`], so `add_working_days(d, working_days_between(d, e))` lands on or before `e`.
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<i64, CalendarError> {
        if to < from {
            return self.working_days_between(to, from).map(|n| -n);
        }
        let mut n = 0;
        let mut cur = from;
        while cur < to {
            cur = step(cur, true)?;
            if self.is_working_day(cur)? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Working days strictly between the two dates (both excluded); 0 if none or if `to <= from`.
    pub fn working_days_strictly_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<i64, CalendarError> {
        if to <= from {
            return Ok(0);
        }
        let before_to = to
            .pred_opt()
            .ok_or_else(|| CalendarError::Invalid("日期超出范围".into()))?;
        self.working_days_between(from, before_to)
    }

    /// 评价工作计划 deadline for 二(二) "提前3个工作日": the last calendar day on which a plan
    /// for an evaluation starting on `start` may be submitted.
    ///
    /// Reading: at least `min_working_days` **full** working days must lie strictly between the
    /// submission day and the start day — neither the submission day (the paper may arrive late
    /// in the day) nor the start day (the evaluation is already running) leaves the district a
    /// day to review. For a Monday start with 3 days, Wed–Thu–Fri must be free: the deadline is
    /// the Tuesday before.
    ///
    /// Invariant: a submission on `s` is in time iff `s <= latest_submission_date(start, n)` iff
    /// `working_days_strictly_between(s, start) >= n`. The result may fall on a rest day (e.g.
    /// a Sunday before a Thursday start); [`Self::latest_working_submission_date`] gives the last
    /// working day on or before it, for paper handed in at an office. With 0 required days the
    /// result is the day before `start` (a plan always precedes its evaluation).
    pub fn latest_submission_date(
        &self,
        start: NaiveDate,
        min_working_days: u32,
    ) -> Result<NaiveDate, CalendarError> {
        let earliest_needed = self.add_working_days(start, -(min_working_days as i64))?;
        // With 0 required days, submitting on the day before the start is the latest.
        let anchor = if min_working_days == 0 {
            start
        } else {
            earliest_needed
        };
        anchor
            .pred_opt()
            .ok_or_else(|| CalendarError::Invalid("日期超出范围".into()))
    }

    /// The last working day on or before [`Self::latest_submission_date`].
    pub fn latest_working_submission_date(
        &self,
        start: NaiveDate,
        min_working_days: u32,
    ) -> Result<NaiveDate, CalendarError> {
        let last = self.latest_submission_date(start, min_working_days)?;
        if self.is_working_day(last)? {
            Ok(last)
        } else {
            self.add_working_days(last, -1)
        }
    }
}

/// 公示期: one rule for every publicity period (filings, results).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicityPeriod {
    /// The day it was published (发布之日).
    pub published_on: NaiveDate,
    /// The first day that counts.
    pub from: NaiveDate,
    /// The last day (inclusive): the `working_days`-th counted working day.
    pub until: NaiveDate,
    pub working_days: u32,
    pub basis: CalendarBasis,
}

impl PublicityPeriod {
    /// "2026年12月03日至2026年12月09日（5个工作日）", the same text on pages, API and print.
    pub fn text(&self) -> String {
        format!(
            "{}至{}（{}个工作日）{}",
            self.from.format("%Y年%m月%d日"),
            self.until.format("%Y年%m月%d日"),
            self.working_days,
            self.basis.note()
        )
    }

    /// Over (and the record may move on) from the day after `until`.
    pub fn is_over(&self, today: NaiveDate) -> bool {
        today > self.until
    }
}

impl HolidayCalendar {
    /// The publicity period for something published on `published_on`: `working_days` working
    /// days, counted from the publication day itself when `first_day_counts` and it is a working
    /// day, else from the next working day (民法典第二百零一条: 开始的当日不计入).
    pub fn publicity_period(
        &self,
        published_on: NaiveDate,
        working_days: u32,
        first_day_counts: bool,
    ) -> Result<PublicityPeriod, CalendarError> {
        let n = working_days.max(1) as i64;
        let from = if first_day_counts && self.is_working_day(published_on)? {
            published_on
        } else {
            self.add_working_days(published_on, 1)?
        };
        let until = self.add_working_days(from, n - 1)?;
        Ok(PublicityPeriod {
            published_on,
            from,
            until,
            working_days: n as u32,
            basis: self.basis(published_on, until),
        })
    }
}

fn step(d: NaiveDate, forward: bool) -> Result<NaiveDate, CalendarError> {
    let next = if forward { d.succ_opt() } else { d.pred_opt() };
    next.ok_or_else(|| CalendarError::Invalid("日期超出范围".into()))
}

#[cfg(test)]
mod tests;
