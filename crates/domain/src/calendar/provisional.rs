//! Provisional years (临时日历): a schedule built from 《全国年节及纪念日放假办法》 (2024 revision)
//! for a year whose official notice is not published yet.

use super::{is_weekend, CalendarDay, CalendarError, DayKind, YearSchedule, SUPPORTED_YEARS};
use chrono::{Datelike, Days, NaiveDate};
use std::collections::BTreeMap;

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
pub(super) fn qingming(year: i32) -> NaiveDate {
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
