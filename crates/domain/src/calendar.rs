//! 工作日历: working days under the State Council holiday notices
//! (国务院办公厅关于部分节假日安排的通知), including 调休上班 make-up days.
//!
//! Weekends are rest days unless listed as `Work`; listed `Off` days are rest days.
//! A year whose schedule is not loaded is an error, never a guess: the next year's
//! schedule is published each November and an admin enters it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Kind of a listed day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// 放假: statutory holiday or the rest days around it.
    Off,
    /// 调休上班: a weekend day that is a working day.
    Work,
}

/// One listed day of a year's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// e.g. "春节" or "春节调休".
    pub name: String,
}

/// 年度节假日安排: the listed exceptions to the Monday–Friday rule for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearSchedule {
    pub year: i32,
    /// The notice it was copied from, shown next to computed deadlines.
    pub source: String,
    pub days: BTreeMap<NaiveDate, CalendarDay>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("{0} 年节假日安排尚未录入")]
    YearNotLoaded(i32),
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
        if !(2000..=2100).contains(&raw.year) {
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

/// The loaded years; answers working-day questions only inside them.
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

    pub fn loaded_years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    pub fn year(&self, year: i32) -> Option<&YearSchedule> {
        self.years.get(&year)
    }

    /// The listed entry for a date, if any (for showing "春节" next to a date).
    pub fn day(&self, d: NaiveDate) -> Result<Option<&CalendarDay>, CalendarError> {
        let y = self
            .years
            .get(&d.year())
            .ok_or(CalendarError::YearNotLoaded(d.year()))?;
        Ok(y.days.get(&d))
    }

    pub fn is_working_day(&self, d: NaiveDate) -> Result<bool, CalendarError> {
        Ok(match self.day(d)? {
            Some(day) => day.kind == DayKind::Work,
            None => !is_weekend(d),
        })
    }

    /// The `n`-th working day strictly after `d` (n > 0) or strictly before `d` (n < 0);
    /// `d` itself when n = 0. Errors as soon as the walk reaches a year not loaded.
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
    fn calendar_unknown_year_is_an_error() {
        let c = cal();
        let e = c.is_working_day(d(2027, 3, 1)).unwrap_err();
        assert_eq!(e, CalendarError::YearNotLoaded(2027));
        assert_eq!(e.to_string(), "2027 年节假日安排尚未录入");
        // Walking across the year boundary fails too, rather than guessing.
        assert_eq!(
            c.add_working_days(d(2026, 12, 30), 5).unwrap_err(),
            CalendarError::YearNotLoaded(2027)
        );
        assert!(c
            .working_days_between(d(2023, 12, 1), d(2024, 1, 5))
            .is_err());
        assert!(HolidayCalendar::new()
            .is_working_day(d(2026, 1, 5))
            .is_err());
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
