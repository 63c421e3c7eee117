//! 工作日历: working days under the State Council holiday notices
//! (国务院办公厅关于部分节假日安排的通知), including 调休上班 make-up days.
//!
//! Weekends are rest days unless listed as `Work`; listed `Off` days are rest days.
//! The next year's official schedule is published each November and an admin enters it.
//! Until then the platform must not stop: a year without an official schedule gets a
//! **provisional** one (临时日历) built from 《全国年节及纪念日放假办法》 (2024 revision), and
//! every date computed on it says so ([`CalendarBasis`]). Years outside 2000–2100 are an error.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Kind of a listed day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// 放假: statutory holiday or the rest days around it.
    Off,
    /// 调休上班: a weekend day that is a working day.
    Work,
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
    include_str!("../../../data/calendar/2024.toml"),
    include_str!("../../../data/calendar/2025.toml"),
    include_str!("../../../data/calendar/2026.toml"),
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

/// Source line of a provisional year.
pub const PROVISIONAL_SOURCE: &str =
    "依《全国年节及纪念日放假办法》（2024年修订）推算的临时日历（国务院办公厅该年度节假日安排尚未录入）";

/// 临时日历: the provisional schedule of `year` (2000–2100), built once and kept.
///
/// 《全国年节及纪念日放假办法》 (2024 revision) art. 2: 元旦 1 day (1/1); 春节 4 days (除夕 to
/// 正月初三); 清明节 1 day (the solar term); 劳动节 2 days (5/1–5/2); 端午节 1 day (五月初五);
/// 中秋节 1 day (八月十五); 国庆节 3 days (10/1–10/3). Art. 6: "全体公民放假的假日，如果适逢
/// 星期六、星期日，应当在工作日补假" — each holiday falling on a weekend is made up on the next
/// weekday that is not already a holiday (补休). No 调休上班 days: those exist only in the
/// State Council's yearly notice, which replaces this schedule once entered.
pub fn provisional_year(year: i32) -> Result<&'static YearSchedule, CalendarError> {
    use std::sync::OnceLock;
    static YEARS: OnceLock<BTreeMap<i32, YearSchedule>> = OnceLock::new();
    if !SUPPORTED_YEARS.contains(&year) {
        return Err(CalendarError::YearOutOfRange(year));
    }
    let years = YEARS.get_or_init(|| SUPPORTED_YEARS.map(|y| (y, build_provisional(y))).collect());
    Ok(&years[&year])
}

fn lunar(year: i32, month: u8, day: u8) -> NaiveDate {
    chinese_lunisolar_calendar::LunisolarDate::from_ymd(year as u16, month, false, day)
        .expect("lunar table covers 1901–2100")
        .to_naive_date()
}

/// 清明: the solar term, by the 寿星 formula for 2001–2100 (day = ⌊Y·0.2422 + 4.81⌋ − ⌊Y/4⌋,
/// Y = year − 2000), checked against the published dates 2008–2026 in the tests. 2100 is not
/// a leap year, so its leap correction stops at 24.
fn qingming(year: i32) -> NaiveDate {
    let y = (year - 2000) as f64;
    let leaps = ((year - 2000) / 4).min(24) as f64;
    let day = (y * 0.2422 + 4.81).floor() - leaps;
    NaiveDate::from_ymd_opt(year, 4, day as u32).expect("Qingming falls on April 4–6")
}

fn build_provisional(year: i32) -> YearSchedule {
    let ymd = |m, d| NaiveDate::from_ymd_opt(year, m, d).expect("valid date");
    let mut statutory: Vec<(NaiveDate, &str)> = vec![(ymd(1, 1), "元旦")];
    let new_year = lunar(year, 1, 1);
    let eve = new_year.pred_opt().expect("valid date");
    for i in 0..4 {
        statutory.push((eve + Days::new(i), "春节"));
    }
    statutory.push((qingming(year), "清明节"));
    statutory.push((ymd(5, 1), "劳动节"));
    statutory.push((ymd(5, 2), "劳动节"));
    statutory.push((lunar(year, 5, 5), "端午节"));
    statutory.push((lunar(year, 8, 15), "中秋节"));
    for d in 1..=3 {
        statutory.push((ymd(10, d), "国庆节"));
    }
    let mut days: BTreeMap<NaiveDate, CalendarDay> = BTreeMap::new();
    for (date, name) in &statutory {
        // 中秋 can fall inside 国庆: one day off either way.
        days.entry(*date).or_insert(CalendarDay {
            date: *date,
            kind: DayKind::Off,
            name: (*name).to_string(),
        });
    }
    // 补休: one weekday for each holiday on a weekend, after the run it belongs to.
    for (date, name) in &statutory {
        if !is_weekend(*date) {
            continue;
        }
        let mut d = *date;
        loop {
            d = d + Days::new(1);
            if d.year() != year {
                break;
            }
            if !is_weekend(d) && !days.contains_key(&d) {
                days.insert(
                    d,
                    CalendarDay {
                        date: d,
                        kind: DayKind::Off,
                        name: format!("{name}补休"),
                    },
                );
                break;
            }
        }
    }
    YearSchedule {
        year,
        source: PROVISIONAL_SOURCE.to_string(),
        days,
        provisional: true,
    }
}

fn step(d: NaiveDate, forward: bool) -> Result<NaiveDate, CalendarError> {
    let next = if forward { d.succ_opt() } else { d.pred_opt() };
    next.ok_or_else(|| CalendarError::Invalid("日期超出范围".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn cal() -> HolidayCalendar {
        HolidayCalendar::builtin()
    }

    #[test]
    fn calendar_loads_shipped_years() {
        let c = cal();
        assert_eq!(c.loaded_years(), vec![2024, 2025, 2026]);
        assert_eq!(
            c.year(2026).unwrap().source,
            "国务院办公厅关于2026年部分节假日安排的通知"
        );
    }

    #[test]
    fn calendar_2026_national_day_period() {
        let c = cal();
        for day in 1..=7 {
            assert!(!c.is_working_day(d(2026, 10, day)).unwrap(), "10/{day}");
        }
        for day in 25..=27 {
            assert!(!c.is_working_day(d(2026, 9, day)).unwrap(), "9/{day}");
        }
        // 调休上班: Sunday 9/20 and Saturday 10/10 are working days.
        assert!(c.is_working_day(d(2026, 9, 20)).unwrap());
        assert!(c.is_working_day(d(2026, 10, 10)).unwrap());
        assert_eq!(c.day(d(2026, 10, 10)).unwrap().unwrap().name, "国庆节调休");
        // Ordinary days around it.
        assert!(c.is_working_day(d(2026, 10, 8)).unwrap());
        assert!(!c.is_working_day(d(2026, 10, 11)).unwrap());
        assert!(c.is_working_day(d(2026, 9, 30)).unwrap());
    }

    #[test]
    fn calendar_weekends_rest_unless_make_up_day() {
        let c = cal();
        assert!(!c.is_working_day(d(2026, 3, 14)).unwrap()); // Saturday
        assert!(c.is_working_day(d(2026, 2, 14)).unwrap()); // Saturday, 春节调休
        assert!(!c.is_working_day(d(2026, 2, 18)).unwrap()); // Wednesday, 春节
        assert!(c.is_working_day(d(2024, 2, 4)).unwrap()); // Sunday, 春节调休
        assert!(!c.is_working_day(d(2025, 10, 8)).unwrap()); // Wednesday, 国庆
    }

    #[test]
    fn calendar_provisional_year_is_marked() {
        let c = cal();
        // 2027 has no official schedule entered: the calendar answers from the statutory rules.
        assert!(!c.is_official(2027));
        let s = c.schedule(2027).unwrap();
        assert!(s.provisional);
        assert_eq!(s.source, PROVISIONAL_SOURCE);
        // 春节 2027: 除夕 is 2027-02-05 (正月初一 02-06); four days off.
        for day in 5..=8 {
            assert!(!c.is_working_day(d(2027, 2, day)).unwrap(), "2/{day}");
        }
        assert_eq!(c.day(d(2027, 2, 5)).unwrap().unwrap().name, "春节");
        // 初一 and 初二 fall on Saturday and Sunday: made up on 02-09 and 02-10 (补休).
        assert_eq!(c.day(d(2027, 2, 9)).unwrap().unwrap().name, "春节补休");
        assert!(!c.is_working_day(d(2027, 2, 10)).unwrap());
        assert!(c.is_working_day(d(2027, 2, 11)).unwrap());
        // 国庆 2027-10-01..03 (Fri–Sun): Sat and Sun are made up on Mon 10-04 and Tue 10-05.
        assert_eq!(c.day(d(2027, 10, 4)).unwrap().unwrap().name, "国庆节补休");
        assert!(!c.is_working_day(d(2027, 10, 5)).unwrap());
        assert!(c.is_working_day(d(2027, 10, 6)).unwrap());
        // Crossing into it works, and the basis says so.
        assert_eq!(
            c.add_working_days(d(2026, 12, 30), 5).unwrap(),
            d(2027, 1, 7)
        );
        assert_eq!(
            c.basis(d(2026, 12, 30), d(2027, 1, 7)),
            CalendarBasis::Provisional
        );
        assert_eq!(
            c.basis(d(2026, 3, 2), d(2026, 3, 9)),
            CalendarBasis::Official
        );
        assert_eq!(
            serde_json::to_string(&CalendarBasis::Provisional).unwrap(),
            "\"provisional\""
        );
        // Entering the official schedule replaces the provisional one.
        let mut c2 = c.clone();
        c2.insert_year(
            YearSchedule::from_toml(
                "year = 2027\nsource = \"国务院办公厅关于2027年部分节假日安排的通知\"\n",
            )
            .unwrap(),
        );
        assert!(c2.is_official(2027));
        assert_eq!(
            c2.basis(d(2026, 12, 30), d(2027, 1, 7)),
            CalendarBasis::Official
        );
        // Outside 2000–2100 remains an explicit error.
        let e = c.is_working_day(d(2101, 3, 1)).unwrap_err();
        assert_eq!(e, CalendarError::YearOutOfRange(2101));
        assert!(e.to_string().contains("2000—2100"), "{e}");
        assert!(c.is_working_day(d(1999, 12, 31)).is_err());
        assert!(c.add_working_days(d(2100, 12, 30), 5).is_err());
        assert!(HolidayCalendar::new().is_working_day(d(2026, 1, 5)).is_ok());
    }

    #[test]
    fn publicity_periods_counted_alike() {
        let c = cal();
        // Published Wednesday 2026-12-02, 5 working days, first day not counted: 12-03..12-09.
        let p = c.publicity_period(d(2026, 12, 2), 5, false).unwrap();
        assert_eq!((p.from, p.until), (d(2026, 12, 3), d(2026, 12, 9)));
        assert_eq!(c.working_days_between(p.published_on, p.until).unwrap(), 5);
        assert_eq!(p.text(), "2026年12月03日至2026年12月09日（5个工作日）");
        assert!(!p.is_over(d(2026, 12, 9)) && p.is_over(d(2026, 12, 10)));
        // Counting the first day: 12-02..12-08.
        let p = c.publicity_period(d(2026, 12, 2), 5, true).unwrap();
        assert_eq!((p.from, p.until), (d(2026, 12, 2), d(2026, 12, 8)));
        // Published on a holiday: the first counted day is the next working day either way.
        let p = c.publicity_period(d(2026, 10, 3), 5, true).unwrap();
        assert_eq!(p.from, d(2026, 10, 8));
        assert_eq!(p.until, d(2026, 10, 13)); // 10/8, 10/9, 10/10 (调休), 10/12, 10/13
                                              // Every period has exactly `n` working days from `from` to `until`, both included.
        let mut day = d(2026, 1, 2);
        while day < d(2026, 12, 20) {
            for first in [false, true] {
                let p = c.publicity_period(day, 5, first).unwrap();
                assert!(c.is_working_day(p.from).unwrap() && c.is_working_day(p.until).unwrap());
                assert_eq!(c.working_days_between(p.from, p.until).unwrap(), 4, "{day}");
                assert_eq!(p.basis, CalendarBasis::Official);
            }
            day = day.succ_opt().unwrap();
        }
        // Running into 2027 is marked provisional.
        let p = c.publicity_period(d(2026, 12, 28), 5, false).unwrap();
        assert_eq!(p.basis, CalendarBasis::Provisional);
        assert!(p.text().contains("临时日历"));
    }

    #[test]
    fn calendar_missing_next_year_warns_from_november() {
        let c = cal();
        // 2026 is official; 2027 is not: silent in October, warned from 1 November.
        assert_eq!(c.missing_schedule_warning(d(2026, 10, 31)), None);
        assert_eq!(c.missing_schedule_warning(d(2026, 11, 1)), Some(2027));
        assert_eq!(c.missing_schedule_warning(d(2026, 12, 31)), Some(2027));
        // Still missing once the year has begun: warned all year.
        assert_eq!(c.missing_schedule_warning(d(2027, 6, 1)), Some(2027));
        let mut c2 = c.clone();
        c2.insert_year(YearSchedule::from_toml("year = 2027\nsource = \"x\"\n").unwrap());
        assert_eq!(c2.missing_schedule_warning(d(2026, 11, 20)), None);
        assert_eq!(c2.missing_schedule_warning(d(2027, 11, 1)), Some(2028));
    }

    /// 春节 (正月初一) against the published almanac, 2027–2050.
    #[test]
    fn provisional_spring_festival_matches_almanac() {
        let cny = [
            (2027, 2, 6),
            (2028, 1, 26),
            (2029, 2, 13),
            (2030, 2, 3),
            (2031, 1, 23),
            (2032, 2, 11),
            (2033, 1, 31),
            (2034, 2, 19),
            (2035, 2, 8),
            (2036, 1, 28),
            (2037, 2, 15),
            (2038, 2, 4),
            (2039, 1, 24),
            (2040, 2, 12),
            (2041, 2, 1),
            (2042, 1, 22),
            (2043, 2, 10),
            (2044, 1, 30),
            (2045, 2, 17),
            (2046, 2, 6),
            (2047, 1, 26),
            (2048, 2, 14),
            (2049, 2, 2),
            (2050, 1, 23),
        ];
        for (y, m, day) in cny {
            let s = provisional_year(y).unwrap();
            let eve = d(y, m, day).pred_opt().unwrap();
            assert_eq!(s.days[&eve].name, "春节", "除夕 {y}");
            assert_eq!(s.days[&d(y, m, day)].name, "春节", "初一 {y}");
        }
        // 端午 and 中秋 of the next years.
        let p27 = provisional_year(2027).unwrap();
        assert_eq!(p27.days[&d(2027, 6, 9)].name, "端午节");
        assert_eq!(p27.days[&d(2027, 9, 15)].name, "中秋节");
        let p28 = provisional_year(2028).unwrap();
        assert_eq!(p28.days[&d(2028, 5, 28)].name, "端午节");
        // 中秋 2028 falls on 10-03, inside 国庆: one day off, not two.
        assert_eq!(p28.days[&d(2028, 10, 3)].name, "中秋节");
    }

    #[test]
    fn provisional_qingming_matches_published_dates() {
        let fifth = [2010, 2011, 2014, 2015, 2018, 2019, 2022, 2023, 2026];
        for y in 2008..=2026 {
            let expected = if fifth.contains(&y) { 5 } else { 4 };
            assert_eq!(qingming(y), d(y, 4, expected), "清明 {y}");
        }
        assert_eq!(qingming(2000), d(2000, 4, 4));
        for y in SUPPORTED_YEARS {
            assert!((4..=6).contains(&qingming(y).day()), "{y}");
        }
    }

    /// Under the 2024 revision (from 2025), every statutory day is a day off in the official
    /// schedules: the provisional years never call a holiday a working day.
    #[test]
    fn provisional_statutory_days_are_off_in_official_years() {
        let c = cal();
        for y in [2025, 2026] {
            let official = c.year(y).unwrap();
            for day in provisional_year(y).unwrap().days.values() {
                if day.name.ends_with("补休") {
                    continue;
                }
                assert_eq!(
                    official.days.get(&day.date).map(|o| o.kind),
                    Some(DayKind::Off),
                    "{} {}",
                    day.date,
                    day.name
                );
            }
        }
        // Every supported year builds, with at least the 13 statutory days.
        for y in SUPPORTED_YEARS {
            assert!(provisional_year(y).unwrap().days.len() >= 12, "{y}");
        }
    }

    #[test]
    fn calendar_add_working_days_skips_holidays_and_counts_make_up_days() {
        let c = cal();
        // Wed 2026-09-30 + 1 → 10/8 (10/1–10/7 off).
        assert_eq!(
            c.add_working_days(d(2026, 9, 30), 1).unwrap(),
            d(2026, 10, 8)
        );
        // 10/8 Thu, 10/9 Fri, 10/10 Sat (调休) → third is 10/10; 10/11 Sunday rests.
        assert_eq!(
            c.add_working_days(d(2026, 9, 30), 3).unwrap(),
            d(2026, 10, 10)
        );
        assert_eq!(
            c.add_working_days(d(2026, 9, 30), 4).unwrap(),
            d(2026, 10, 12)
        );
        assert_eq!(
            c.add_working_days(d(2026, 10, 8), -1).unwrap(),
            d(2026, 9, 30)
        );
        assert_eq!(
            c.add_working_days(d(2026, 10, 3), 0).unwrap(),
            d(2026, 10, 3)
        );
        // Across a loaded year boundary: 1/1–1/3 off, Sunday 1/4 is 调休上班.
        assert_eq!(
            c.add_working_days(d(2025, 12, 31), 1).unwrap(),
            d(2026, 1, 4)
        );
    }

    #[test]
    fn calendar_working_days_between_is_half_open() {
        let c = cal();
        // (9/30, 10/10]: 10/8, 10/9, 10/10.
        assert_eq!(
            c.working_days_between(d(2026, 9, 30), d(2026, 10, 10))
                .unwrap(),
            3
        );
        assert_eq!(
            c.working_days_between(d(2026, 10, 10), d(2026, 9, 30))
                .unwrap(),
            -3
        );
        assert_eq!(
            c.working_days_between(d(2026, 3, 16), d(2026, 3, 16))
                .unwrap(),
            0
        );
        // A normal week: (Mon, next Mon] = 5.
        assert_eq!(
            c.working_days_between(d(2026, 3, 16), d(2026, 3, 23))
                .unwrap(),
            5
        );
        assert_eq!(
            c.working_days_strictly_between(d(2026, 3, 16), d(2026, 3, 23))
                .unwrap(),
            4
        );
    }

    #[test]
    fn plan_deadline_three_full_working_days_before_start() {
        let c = cal();
        // Monday 2026-03-16 start: Wed, Thu, Fri must be free → Tuesday 03-10.
        let start = d(2026, 3, 16);
        assert_eq!(c.latest_submission_date(start, 3).unwrap(), d(2026, 3, 10));
        // Thursday 2026-03-19 start: Mon, Tue, Wed → Sunday 03-15; paper by Friday 03-13.
        let start = d(2026, 3, 19);
        assert_eq!(c.latest_submission_date(start, 3).unwrap(), d(2026, 3, 15));
        assert_eq!(
            c.latest_working_submission_date(start, 3).unwrap(),
            d(2026, 3, 13)
        );
        // Start 2026-10-12 (Mon): 10/8, 10/9, 10/10 (调休) count; the last calendar day is
        // 10/7 (holiday), so paper must reach the office by 9/30.
        assert_eq!(
            c.latest_submission_date(d(2026, 10, 12), 3).unwrap(),
            d(2026, 10, 7)
        );
        assert_eq!(
            c.latest_working_submission_date(d(2026, 10, 12), 3)
                .unwrap(),
            d(2026, 9, 30)
        );
    }

    #[test]
    fn plan_deadline_agrees_with_working_day_count() {
        let c = cal();
        let mut start = d(2026, 1, 10);
        while start < d(2026, 12, 20) {
            let last = c.latest_submission_date(start, 3).unwrap();
            assert!(
                c.working_days_strictly_between(last, start).unwrap() >= 3,
                "{start}"
            );
            let too_late = last.succ_opt().unwrap();
            assert!(
                c.working_days_strictly_between(too_late, start).unwrap() < 3,
                "{start}"
            );
            start = start.succ_opt().unwrap();
        }
    }

    #[test]
    fn calendar_schedule_rejects_bad_data() {
        let ok = "year = 2026\nsource = \"x\"\n";
        assert!(YearSchedule::from_toml(ok).unwrap().days.is_empty());
        let wrong_year = "year = 2026\nsource = \"x\"\n[[holiday]]\nname = \"元旦\"\nfrom = \"2027-01-01\"\nto = \"2027-01-01\"\n";
        let e = YearSchedule::from_toml(wrong_year).unwrap_err();
        assert!(e.to_string().contains("不属于 2026 年"), "{e}");
        let weekday_workday =
            "year = 2026\nsource = \"x\"\n[[workday]]\nname = \"调休\"\ndate = \"2026-03-16\"\n";
        let e = YearSchedule::from_toml(weekday_workday).unwrap_err();
        assert!(e.to_string().contains("应为周六或周日"), "{e}");
        let dup = "year = 2026\nsource = \"x\"\n[[holiday]]\nname = \"a\"\nfrom = \"2026-10-01\"\nto = \"2026-10-03\"\n[[holiday]]\nname = \"b\"\nfrom = \"2026-10-03\"\nto = \"2026-10-04\"\n";
        assert!(YearSchedule::from_toml(dup)
            .unwrap_err()
            .to_string()
            .contains("重复"));
        let reversed = "year = 2026\nsource = \"x\"\n[[holiday]]\nname = \"a\"\nfrom = \"2026-10-03\"\nto = \"2026-10-01\"\n";
        assert!(YearSchedule::from_toml(reversed)
            .unwrap_err()
            .to_string()
            .contains("早于"));
        let bad_date =
            "year = 2026\nsource = \"x\"\n[[workday]]\nname = \"a\"\ndate = \"2026-02-30\"\n";
        assert!(YearSchedule::from_toml(bad_date)
            .unwrap_err()
            .to_string()
            .contains("无效"));
    }

    #[test]
    fn calendar_schedule_round_trips_through_toml() {
        let c = cal();
        for y in c.loaded_years() {
            let s = c.year(y).unwrap();
            let again = YearSchedule::from_toml(&s.to_toml()).unwrap();
            assert_eq!(&again, s);
        }
        assert_eq!(
            c.year(2026).unwrap().days.len(),
            3 + 9 + 3 + 5 + 3 + 3 + 7 + 6
        );
    }
}
