//! Reference data: divisions (区划), occupations (职业/工种) and special-ability items (专项职业能力),
//! and the working-day calendar. Loaded from the files under `data/` on first start; then an admin
//! keeps them in the UI, and every edit is audited.

use domain::reference::{DivisionKind, ItemKind};
use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::calendar::{CalendarDay, DayKind, HolidayCalendar, YearSchedule};
use domain::reference::{parse_divisions, parse_occupations};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::sql::Where;
use crate::{now_text, Page, PageRequest, Result, Store, StoreError};

/// The text of the reference files (embedded in the binary by default).
#[derive(Debug, Clone, Default)]
pub struct ReferenceFiles {
    pub divisions: String,
    pub occupations: Vec<String>,
    pub calendars: Vec<String>,
}

impl ReferenceFiles {
    /// The files under `data/`, compiled into the binary so that it starts anywhere.
    pub fn builtin() -> ReferenceFiles {
        ReferenceFiles {
            divisions: include_str!("../../../data/divisions.toml").into(),
            occupations: vec![
                include_str!("../../../data/occupations.csv").into(),
                include_str!("../../../data/special_abilities.csv").into(),
            ],
            calendars: vec![
                include_str!("../../../data/calendar/2024.toml").into(),
                include_str!("../../../data/calendar/2025.toml").into(),
                include_str!("../../../data/calendar/2026.toml").into(),
            ],
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Division {
    pub code: String,
    pub name: String,
    pub kind: DivisionKind,
    pub official_code: Option<String>,
    pub sort: i64,
    pub active: bool,
    pub version: i64,
}

impl Division {
    pub fn kind_label(&self) -> &'static str {
        match self.kind {
            DivisionKind::City => "市",
            DivisionKind::District => "市辖区",
            DivisionKind::County => "县",
            DivisionKind::CountyCity => "县级市",
            DivisionKind::DevZone => "开发区",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Occupation {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// 职业（工种） or 专项职业能力.
    pub kind: ItemKind,
    /// Levels offered, "5,4,3,2,1".
    pub levels: String,
    pub confirmed: bool,
    pub active: bool,
    pub version: i64,
}

#[derive(Debug, Clone, Default)]
pub struct OccupationFilter {
    pub q: Option<String>,
    pub kind: Option<String>,
    pub confirmed: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarDayRow {
    pub day: String,
    pub kind: DayKind,
    pub name: String,
}

fn division_from_row(r: &AnyRow) -> Result<Division> {
    Ok(Division {
        code: r.get(0),
        name: r.get(1),
        kind: crate::sql::code(r, 2)?,
        official_code: r.get(3),
        sort: r.get(4),
        active: r.get::<i64, _>(5) != 0,
        version: r.get(6),
    })
}

fn occupation_from_row(r: &AnyRow) -> Result<Occupation> {
    Ok(Occupation {
        id: r.get(0),
        code: r.get(1),
        name: r.get(2),
        kind: crate::sql::code(r, 3)?,
        levels: r.get(4),
        confirmed: r.get::<i64, _>(5) != 0,
        active: r.get::<i64, _>(6) != 0,
        version: r.get(7),
    })
}

const DIVISION_COLUMNS: &str = "code, name, kind, official_code, sort, active, version";
const OCCUPATION_COLUMNS: &str = "id, code, name, kind, levels, confirmed, active, version";

fn day_kind_str(k: &DayKind) -> &'static str {
    k.as_str()
}

/// `pg_advisory_xact_lock` key of reference-data loading ("skilref" in ASCII).
const REFERENCE_LOCK_KEY: i64 = 0x736b_696c_7265_66;

impl Store {
    /// Fill empty reference tables from the files; add calendar years not yet loaded.
    /// Returns (divisions, occupations, calendar years) added.
    pub async fn load_reference(&self, files: &ReferenceFiles) -> Result<(usize, usize, usize)> {
        let actor = Actor::system("reference");
        let divisions =
            parse_divisions(&files.divisions).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut occupations = vec![];
        for text in &files.occupations {
            occupations
                .extend(parse_occupations(text).map_err(|e| StoreError::Invalid(e.to_string()))?);
        }
        let mut schedules = vec![];
        for text in &files.calendars {
            schedules.push(
                YearSchedule::from_toml(text).map_err(|e| StoreError::Invalid(e.to_string()))?,
            );
        }
        let now = now_text();
        let mut tx = self.db.write().await?;
        // Several app servers may start together on a fresh database: the first loads, the
        // others wait for it here and then find the tables filled (SQLite writers are
        // serialised already).
        if tx.backend == crate::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(REFERENCE_LOCK_KEY)
                .execute(tx.conn())
                .await?;
        }
        let mut added = (0, 0, 0);
        let have_divisions: i64 = sqlx::query("SELECT COUNT(*) FROM divisions")
            .fetch_one(tx.conn())
            .await?
            .get(0);
        if have_divisions == 0 {
            for d in &divisions {
                sqlx::query("INSERT INTO divisions (code, name, kind, official_code, sort, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(&d.code)
                    .bind(&d.name)
                    .bind(d.kind.as_str())
                    .bind(&d.official_code)
                    .bind(d.sort)
                    .bind(&now)
                    .execute(tx.conn())
                    .await?;
            }
            added.0 = divisions.len();
        }
        let have_occupations: i64 = sqlx::query("SELECT COUNT(*) FROM occupations")
            .fetch_one(tx.conn())
            .await?
            .get(0);
        if have_occupations == 0 {
            for o in &occupations {
                let levels: Vec<String> = o.levels.iter().map(|l| l.number().to_string()).collect();
                sqlx::query("INSERT INTO occupations (code, name, kind, levels, confirmed, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(&o.code)
                    .bind(&o.name)
                    .bind(o.kind.as_str())
                    .bind(levels.join(","))
                    .bind(o.confirmed as i64)
                    .bind(&now)
                    .execute(tx.conn())
                    .await?;
            }
            added.1 = occupations.len();
        }
        for s in &schedules {
            let exists = sqlx::query("SELECT 1 FROM calendar_years WHERE year = $1")
                .bind(s.year as i64)
                .fetch_optional(tx.conn())
                .await?
                .is_some();
            if exists {
                continue;
            }
            insert_year(&mut tx, s, &now).await?;
            added.2 += 1;
        }
        if added != (0, 0, 0) {
            append(
                &mut tx,
                &actor,
                NewEvent {
                    action: "reference.load",
                    object_type: "reference",
                    object_id: "files".into(),
                    summary: serde_json::json!({ "divisions": added.0, "occupations": added.1, "calendar_years": added.2 }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    // ---- divisions ----

    pub async fn divisions(&self) -> Result<Vec<Division>> {
        let rows = sqlx::query(&format!(
            "SELECT {DIVISION_COLUMNS} FROM divisions ORDER BY sort, code"
        ))
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .iter()
            .map(division_from_row)
            .collect::<Result<Vec<_>>>()?)
    }

    /// Districts that take filings (everything but the city itself), active only.
    pub async fn districts(&self) -> Result<Vec<Division>> {
        Ok(self
            .divisions()
            .await?
            .into_iter()
            .filter(|d| d.kind != DivisionKind::City && d.active)
            .collect())
    }

    pub async fn division(&self, code: &str) -> Result<Division> {
        sqlx::query(&format!(
            "SELECT {DIVISION_COLUMNS} FROM divisions WHERE code = $1"
        ))
        .bind(code)
        .fetch_optional(&self.db.pool)
        .await?
        .map(|r| division_from_row(&r))
        .transpose()?
        .ok_or(StoreError::NotFound)
    }

    pub async fn save_division(
        &self,
        actor: &Actor,
        d: &Division,
        expected_version: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.db.write().await?;
        let now = now_text();
        match expected_version {
            None => {
                sqlx::query("INSERT INTO divisions (code, name, kind, official_code, sort, active, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(&d.code)
                    .bind(&d.name)
                    .bind(d.kind.as_str())
                    .bind(&d.official_code)
                    .bind(d.sort)
                    .bind(d.active as i64)
                    .bind(&now)
                    .execute(tx.conn())
                    .await
                    .map_err(|e| StoreError::unique(e, "该区划代码已存在"))?;
            }
            Some(v) => {
                let n = sqlx::query("UPDATE divisions SET name = $1, kind = $2, official_code = $3, sort = $4, active = $5, updated_at = $6, version = version + 1 WHERE code = $7 AND version = $8")
                    .bind(&d.name)
                    .bind(d.kind.as_str())
                    .bind(&d.official_code)
                    .bind(d.sort)
                    .bind(d.active as i64)
                    .bind(&now)
                    .bind(&d.code)
                    .bind(v)
                    .execute(tx.conn())
                    .await?
                    .rows_affected();
                if n == 0 {
                    return Err(StoreError::Conflict);
                }
            }
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: if expected_version.is_some() { "division.update" } else { "division.create" },
                object_type: "division",
                object_id: d.code.clone(),
                summary: serde_json::json!({ "name": d.name, "kind": d.kind, "official_code": d.official_code, "active": d.active }),
            },
        )
        .await?;
        tx.commit().await
    }

    // ---- occupations ----

    pub async fn list_occupations(
        &self,
        f: &OccupationFilter,
        page: PageRequest,
    ) -> Result<Page<Occupation>> {
        let mut w = Where::new();
        w.search(&["code", "name"], f.q.as_deref());
        w.eq_text("kind", f.kind.as_deref());
        if let Some(c) = f.confirmed {
            w.eq_int("confirmed", c as i64);
        }
        w.fetch_page(
            &self.db,
            OCCUPATION_COLUMNS,
            "occupations",
            "kind, code, name",
            page,
            occupation_from_row,
        )
        .await
    }

    pub async fn occupation(&self, id: i64) -> Result<Occupation> {
        sqlx::query(&format!(
            "SELECT {OCCUPATION_COLUMNS} FROM occupations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .map(|r| occupation_from_row(&r))
        .transpose()?
        .ok_or(StoreError::NotFound)
    }

    /// Create (`o.id == 0`) or update an occupation with a version check.
    pub async fn save_occupation(&self, actor: &Actor, o: &Occupation) -> Result<i64> {
        let mut tx = self.db.write().await?;
        let now = now_text();
        let id = if o.id == 0 {
            sqlx::query("INSERT INTO occupations (code, name, kind, levels, confirmed, active, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                .bind(&o.code)
                .bind(&o.name)
                .bind(o.kind.as_str())
                .bind(&o.levels)
                .bind(o.confirmed as i64)
                .bind(o.active as i64)
                .bind(&now)
                .fetch_one(tx.conn())
                .await
                .map_err(|e| StoreError::unique(e, "该代码与名称的职业已存在"))?
                .get(0)
        } else {
            let n = sqlx::query("UPDATE occupations SET code = $1, name = $2, kind = $3, levels = $4, confirmed = $5, active = $6, updated_at = $7, version = version + 1 WHERE id = $8 AND version = $9")
                .bind(&o.code)
                .bind(&o.name)
                .bind(o.kind.as_str())
                .bind(&o.levels)
                .bind(o.confirmed as i64)
                .bind(o.active as i64)
                .bind(&now)
                .bind(o.id)
                .bind(o.version)
                .execute(tx.conn())
                .await
                .map_err(|e| StoreError::unique(e, "该代码与名称的职业已存在"))?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict);
            }
            o.id
        };
        append(
            &mut tx,
            actor,
            NewEvent {
                action: if o.id == 0 { "occupation.create" } else { "occupation.update" },
                object_type: "occupation",
                object_id: id.to_string(),
                summary: serde_json::json!({ "code": o.code, "name": o.name, "levels": o.levels, "confirmed": o.confirmed, "active": o.active }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn count_unconfirmed_occupations(&self) -> Result<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM occupations WHERE confirmed = 0 AND active = 1")
                .fetch_one(&self.db.pool)
                .await?
                .get(0),
        )
    }

    // ---- calendar ----

    pub async fn calendar_years(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT year, source FROM calendar_years ORDER BY year")
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub async fn calendar_days(&self, year: i64) -> Result<Vec<CalendarDayRow>> {
        let rows =
            sqlx::query("SELECT day, kind, name FROM calendar_days WHERE year = $1 ORDER BY day")
                .bind(year)
                .fetch_all(&self.db.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(CalendarDayRow {
                    day: r.get(0),
                    kind: crate::sql::code(r, 1)?,
                    name: r.get(2),
                })
            })
            .collect()
    }

    /// Add a year's schedule (from the UI form or an imported file); refuses a year already loaded.
    pub async fn add_calendar_year(&self, actor: &Actor, s: &YearSchedule) -> Result<()> {
        let mut tx = self.db.write().await?;
        let exists = sqlx::query("SELECT 1 FROM calendar_years WHERE year = $1")
            .bind(s.year as i64)
            .fetch_optional(tx.conn())
            .await?
            .is_some();
        if exists {
            return Err(StoreError::Duplicate(format!(
                "{} 年节假日安排已录入，请逐日修改",
                s.year
            )));
        }
        insert_year(&mut tx, s, &now_text()).await?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "calendar.year_add",
                object_type: "calendar_year",
                object_id: s.year.to_string(),
                summary: serde_json::json!({ "source": s.source, "days": s.days.len() }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Set (or with `kind == None` remove) one listed day of a loaded year.
    pub async fn set_calendar_day(
        &self,
        actor: &Actor,
        day: NaiveDate,
        kind: Option<DayKind>,
        name: &str,
    ) -> Result<()> {
        use chrono::Datelike;
        let year = day.year() as i64;
        let mut tx = self.db.write().await?;
        let loaded = sqlx::query("SELECT 1 FROM calendar_years WHERE year = $1")
            .bind(year)
            .fetch_optional(tx.conn())
            .await?
            .is_some();
        if !loaded {
            return Err(StoreError::Invalid(format!(
                "{year} 年节假日安排尚未录入，请先新增该年度"
            )));
        }
        let d = day.format("%Y-%m-%d").to_string();
        sqlx::query("DELETE FROM calendar_days WHERE day = $1")
            .bind(&d)
            .execute(tx.conn())
            .await?;
        if let Some(k) = &kind {
            sqlx::query(
                "INSERT INTO calendar_days (day, year, kind, name) VALUES ($1, $2, $3, $4)",
            )
            .bind(&d)
            .bind(year)
            .bind(day_kind_str(k))
            .bind(name)
            .execute(tx.conn())
            .await?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "calendar.day_set",
                object_type: "calendar_day",
                object_id: d,
                summary: serde_json::json!({ "kind": kind.as_ref().map(day_kind_str), "name": name }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// The calendar as the domain uses it, built from the stored years.
    pub async fn holiday_calendar(&self) -> Result<HolidayCalendar> {
        let years = self.calendar_years().await?;
        let rows = sqlx::query("SELECT day, kind, name, year FROM calendar_days ORDER BY day")
            .fetch_all(&self.db.pool)
            .await?;
        let mut by_year: BTreeMap<i64, YearSchedule> = years
            .into_iter()
            .map(|(y, source)| {
                (
                    y,
                    YearSchedule {
                        year: y as i32,
                        source,
                        days: BTreeMap::new(),
                        provisional: false,
                    },
                )
            })
            .collect();
        for r in &rows {
            let day: String = r.get(0);
            let kind: DayKind = crate::sql::code(r, 1)?;
            let year: i64 = r.get(3);
            let Ok(date) = NaiveDate::parse_from_str(&day, "%Y-%m-%d") else {
                continue;
            };
            if let Some(s) = by_year.get_mut(&year) {
                s.days.insert(
                    date,
                    CalendarDay {
                        date,
                        kind,
                        name: r.get(2),
                    },
                );
            }
        }
        let mut cal = HolidayCalendar::new();
        for (_, s) in by_year {
            cal.insert_year(s);
        }
        Ok(cal)
    }
}

async fn insert_year(tx: &mut crate::WriteTx, s: &YearSchedule, now: &str) -> Result<()> {
    sqlx::query("INSERT INTO calendar_years (year, source, updated_at) VALUES ($1, $2, $3)")
        .bind(s.year as i64)
        .bind(&s.source)
        .bind(now)
        .execute(tx.conn())
        .await?;
    for day in s.days.values() {
        sqlx::query("INSERT INTO calendar_days (day, year, kind, name) VALUES ($1, $2, $3, $4)")
            .bind(day.date.format("%Y-%m-%d").to_string())
            .bind(s.year as i64)
            .bind(day_kind_str(&day.kind))
            .bind(&day.name)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}
