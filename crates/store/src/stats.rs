//! Statistics (统计): counts over the records, for a district (its own area) or the city.
//!
//! Every figure is a plain `GROUP BY` over the records the caller's scope reaches, so the test
//! `statistics_match_records` can count the same facts with its own SQL and compare.

use chrono::NaiveDate;
use domain::calendar::HolidayCalendar;
use domain::Scope;
use serde::Serialize;
use sqlx::Row;

use crate::sql::{Arg, Where};
use crate::{Result, Store};

/// One row of a statistics table (统计项): a label and its count, plus a second count where the
/// figure compares two things (合格人数, 已备案企业).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub key: String,
    pub label: String,
    pub count: i64,
    pub second: i64,
}

/// All figures of the statistics page (统计分析).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Statistics {
    /// 已备案机构（按区县）.
    pub institutions_by_district: Vec<Tally>,
    /// 已备案机构（按类型）.
    pub institutions_by_kind: Vec<Tally>,
    /// 已备案机构（按职业）: institutions filed for each occupation.
    pub institutions_by_occupation: Vec<Tally>,
    /// 备案申请（按状态）.
    pub filings_by_state: Vec<Tally>,
    /// 备案申请等待工作日数: working days from submission to the decision (办结), or to today for
    /// open applications, in the buckets of [`WAIT_BUCKETS`].
    pub filings_by_wait: Vec<Tally>,
    /// 评价计划（按开考月份）.
    pub plans_by_month: Vec<Tally>,
    /// 考生与合格人数（按职业和等级）: count = candidates, second = passed.
    pub candidates_by_occupation_level: Vec<Tally>,
    /// 企业筛查与备案（按区县）: count = screened, second = of them filed (三(二)).
    pub enterprises_by_district: Vec<Tally>,
    /// 证书（按发证月份）.
    pub certificates_by_month: Vec<Tally>,
}

/// The scope's restriction on a table's district column; a scope below the district sees nothing
/// here (statistics are for the human resources departments).
fn district_filter(w: &mut Where, scope: &Scope, col: &str) {
    match scope {
        Scope::City => {}
        Scope::District(d) => {
            let p = w.arg(Arg::Text(d.clone()));
            w.raw(format!("{col} = {p}"));
        }
        Scope::Institution(_) | Scope::Assigned(_) => w.raw("1 = 0"),
    }
}

/// The buckets of 备案申请等待工作日数: (key, label, most working days in the bucket).
pub const WAIT_BUCKETS: &[(&str, &str, i64)] = &[
    ("le5", "5个工作日以内", 5),
    ("6-10", "6–10个工作日", 10),
    ("11-20", "11–20个工作日", 20),
    ("gt20", "20个工作日以上", i64::MAX),
];

/// The bucket of a wait of `days` working days.
pub fn wait_bucket(days: i64) -> usize {
    WAIT_BUCKETS
        .iter()
        .position(|(_, _, max)| days <= *max)
        .unwrap_or(WAIT_BUCKETS.len() - 1)
}

/// Working days an application submitted at `submitted_at` waited: to its closing date, or to
/// `today` while open (never negative).
pub fn filing_wait(
    cal: &HolidayCalendar,
    submitted_at: &str,
    closed_on: Option<&str>,
    today: NaiveDate,
) -> i64 {
    let Some(from) = crate::retention::china_date(submitted_at) else {
        return 0;
    };
    let to = closed_on
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or(today);
    cal.working_days_between(from, to).unwrap_or(0).max(0)
}

fn level_label(level: i64) -> String {
    match level {
        1 => "一级/高级技师".into(),
        2 => "二级/技师".into(),
        3 => "三级/高级工".into(),
        4 => "四级/中级工".into(),
        5 => "五级/初级工".into(),
        n => format!("{n}级"),
    }
}

impl Store {
    /// `select` must yield (key TEXT, label TEXT, count, second) and may use `{where}`.
    async fn tallies(&self, w: &Where, select: &str) -> Result<Vec<Tally>> {
        let sql = select.replace("{where}", &w.sql());
        let rows = w.bind(sqlx::query(&sql)).fetch_all(&self.db.pool).await?;
        Ok(rows
            .iter()
            .map(|r| Tally {
                key: r.get::<String, _>(0),
                label: r.get::<String, _>(1),
                count: r.get::<i64, _>(2),
                second: r.get::<i64, _>(3),
            })
            .collect())
    }

    /// The figures `scope` may see (a district: its own area; the city: all, per district), on
    /// `today` with the working-day calendar `cal` (for the waiting times).
    pub async fn statistics(
        &self,
        scope: &Scope,
        today: NaiveDate,
        cal: &HolidayCalendar,
    ) -> Result<Statistics> {
        let filed_inst = |col: &str| {
            let mut w = Where::new();
            w.raw("i.filing_status = 'filed'");
            district_filter(&mut w, scope, col);
            w
        };
        let w = filed_inst("i.district_code");
        let institutions_by_district = self
            .tallies(
                &w,
                "SELECT d.code, d.name, COUNT(*), 0 FROM institutions i JOIN divisions d ON d.code = i.district_code{where} GROUP BY d.code, d.name ORDER BY d.code",
            )
            .await?;
        let mut institutions_by_kind = self
            .tallies(
                &w,
                "SELECT i.kind, i.kind, COUNT(*), 0 FROM institutions i{where} GROUP BY i.kind ORDER BY i.kind",
            )
            .await?;
        for t in &mut institutions_by_kind {
            if let Some(k) = domain::institution::InstitutionKind::parse(&t.key) {
                t.label = k.label().to_string();
            }
        }
        let mut w = filed_inst("i.district_code");
        w.raw("f.revoked_at IS NULL");
        let institutions_by_occupation = self
            .tallies(
                &w,
                "SELECT o.code, o.name, COUNT(DISTINCT i.id), 0 FROM filed_occupations f JOIN institutions i ON i.id = f.institution_id JOIN occupations o ON o.id = f.occupation_id{where} GROUP BY o.code, o.name ORDER BY COUNT(DISTINCT i.id) DESC, o.code",
            )
            .await?;

        let mut w = Where::new();
        district_filter(&mut w, scope, "a.district_code");
        // Drafts are the institution's own work: officers count an application once submitted.
        w.raw("a.state <> 'draft'");
        let mut filings_by_state = self
            .tallies(
                &w,
                "SELECT a.state, a.state, COUNT(*), 0 FROM filing_applications a{where} GROUP BY a.state ORDER BY a.state",
            )
            .await?;
        for t in &mut filings_by_state {
            if let Some(s) = domain::filing::FilingState::parse(&t.key) {
                t.label = s.label().to_string();
            }
        }

        let mut w = Where::new();
        district_filter(&mut w, scope, "a.district_code");
        w.raw("a.state <> 'draft'");
        w.raw("a.submitted_at IS NOT NULL");
        let sql = format!(
            "SELECT a.submitted_at, a.closed_on FROM filing_applications a{}",
            w.sql()
        );
        let mut filings_by_wait: Vec<Tally> = WAIT_BUCKETS
            .iter()
            .map(|(k, l, _)| Tally {
                key: (*k).into(),
                label: (*l).into(),
                count: 0,
                second: 0,
            })
            .collect();
        for r in w.bind(sqlx::query(&sql)).fetch_all(&self.db.pool).await? {
            let submitted: String = r.get(0);
            let closed: Option<String> = r.get(1);
            let days = filing_wait(cal, &submitted, closed.as_deref(), today);
            filings_by_wait[wait_bucket(days)].count += 1;
        }

        let mut w = Where::new();
        district_filter(&mut w, scope, "p.district_code");
        w.raw("p.status <> 'draft'");
        let plans_by_month = self
            .tallies(
                &w,
                "SELECT SUBSTR(p.start_date, 1, 7), SUBSTR(p.start_date, 1, 7), COUNT(*), 0 FROM plans p{where} GROUP BY SUBSTR(p.start_date, 1, 7) ORDER BY SUBSTR(p.start_date, 1, 7)",
            )
            .await?;

        let mut w = Where::new();
        district_filter(&mut w, scope, "c.district_code");
        let mut candidates_by_occupation_level = self
            .tallies(
                &w,
                "SELECT o.code || '-' || CAST(c.level AS TEXT), o.name, COUNT(*), CAST(COALESCE(SUM(CASE WHEN c.passed = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) FROM candidates c JOIN plans p ON p.id = c.plan_id JOIN occupations o ON o.id = p.occupation_id{where} GROUP BY o.code, o.name, c.level ORDER BY o.code, c.level",
            )
            .await?;
        for t in &mut candidates_by_occupation_level {
            let level = t
                .key
                .rsplit('-')
                .next()
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            t.label = format!("{}（{}）", t.label, level_label(level));
        }

        let mut w = Where::new();
        district_filter(&mut w, scope, "e.district_code");
        let enterprises_by_district = self
            .tallies(
                &w,
                "SELECT d.code, d.name, COUNT(*), CAST(COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM institutions i WHERE i.credit_code = e.credit_code AND i.filing_status = 'filed') THEN 1 ELSE 0 END), 0) AS BIGINT) FROM enterprise_register e JOIN divisions d ON d.code = e.district_code{where} GROUP BY d.code, d.name ORDER BY d.code",
            )
            .await?;

        let mut w = Where::new();
        district_filter(&mut w, scope, "i.district_code");
        let certificates_by_month = self
            .tallies(
                &w,
                "SELECT SUBSTR(c.issued_on, 1, 7), SUBSTR(c.issued_on, 1, 7), COUNT(*), 0 FROM certificates c JOIN institutions i ON i.id = c.institution_id{where} GROUP BY SUBSTR(c.issued_on, 1, 7) ORDER BY SUBSTR(c.issued_on, 1, 7)",
            )
            .await?;

        Ok(Statistics {
            institutions_by_district,
            institutions_by_kind,
            institutions_by_occupation,
            filings_by_state,
            filings_by_wait,
            plans_by_month,
            candidates_by_occupation_level,
            enterprises_by_district,
            certificates_by_month,
        })
    }
}
