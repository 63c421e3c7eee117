use super::provisional::qingming;
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
