//! A small WHERE builder for the paginated, searchable lists: numbered `$n` placeholders work
//! on both backends.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::db::Db;
use crate::{like_pattern, PageRequest, Result};

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

#[derive(Debug, Default)]
pub(crate) struct Where {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    pub fn new() -> Where {
        Where::default()
    }

    /// Add an argument and return its placeholder.
    pub fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    /// How many arguments are bound so far (the next placeholder is one more).
    pub fn arg_count(&self) -> usize {
        self.args.len()
    }

    pub fn raw(&mut self, clause: impl Into<String>) {
        self.clauses.push(clause.into());
    }

    pub fn eq_text(&mut self, col: &str, val: Option<&str>) {
        if let Some(v) = val.filter(|v| !v.is_empty()) {
            let p = self.arg(Arg::Text(v.to_string()));
            self.clauses.push(format!("{col} = {p}"));
        }
    }

    pub fn eq_int(&mut self, col: &str, val: i64) {
        let p = self.arg(Arg::Int(val));
        self.clauses.push(format!("{col} = {p}"));
    }

    /// Case-insensitive substring search over several columns.
    pub fn search(&mut self, cols: &[&str], q: Option<&str>) {
        if let Some(q) = q.filter(|q| !q.trim().is_empty()) {
            let p = self.arg(Arg::Text(like_pattern(q)));
            let ors: Vec<String> = cols
                .iter()
                .map(|c| format!("LOWER({c}) LIKE {p} ESCAPE '\\'"))
                .collect();
            self.clauses.push(format!("({})", ors.join(" OR ")));
        }
    }

    /// The WHERE of the clauses added so far, which are then cleared while their arguments stay:
    /// the SELECTs of one statement (a UNION) number their arguments in one list.
    pub fn take_sql(&mut self) -> String {
        let s = self.sql();
        self.clauses.clear();
        s
    }

    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    pub(crate) fn bind<'q>(
        &'q self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.as_str()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }

    pub async fn count(&self, db: &Db, from: &str) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {from}{}", self.sql());
        Ok(self
            .bind(sqlx::query(&sql))
            .fetch_one(&db.pool)
            .await?
            .get(0))
    }

    /// The total of a list whose page `page` held `len` rows: a page that is not full ends the
    /// list, so its total is known without counting (most lists, and every work queue, fit on
    /// their first page: one query instead of two).
    pub async fn total_after(
        &self,
        db: &Db,
        from: &str,
        page: PageRequest,
        len: usize,
    ) -> Result<i64> {
        if (len as i64) < page.per_page && (len > 0 || page.page == 1) {
            Ok(page.offset() + len as i64)
        } else {
            self.count(db, from).await
        }
    }

    /// Count and fetch one page of `SELECT columns FROM from`, mapping each row: the shape of
    /// every paginated list.
    pub async fn fetch_page<T>(
        &self,
        db: &Db,
        columns: &str,
        from: &str,
        order: &str,
        page: PageRequest,
        map: impl Fn(&AnyRow) -> Result<T>,
    ) -> Result<crate::Page<T>> {
        let rows = self
            .page(db, &format!("SELECT {columns} FROM {from}"), order, page)
            .await?;
        let total = self.total_after(db, from, page, rows.len()).await?;
        Ok(crate::Page {
            items: rows.iter().map(map).collect::<Result<_>>()?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// `select` is "SELECT cols FROM table"; returns one page of rows.
    pub async fn page(
        &self,
        db: &Db,
        select: &str,
        order: &str,
        page: PageRequest,
    ) -> Result<Vec<AnyRow>> {
        let n = self.args.len();
        let sql = format!(
            "{select}{} ORDER BY {order} LIMIT ${} OFFSET ${}",
            self.sql(),
            n + 1,
            n + 2
        );
        Ok(self
            .bind(sqlx::query(&sql))
            .bind(page.per_page)
            .bind(page.offset())
            .fetch_all(&db.pool)
            .await?)
    }
}

/// A code column (state, kind, status) parsed into its domain enum: rows leave the store typed,
/// so nothing above it compares strings. The schema's CHECK constraints hold the same sets.
pub(crate) fn code<T: domain::Code>(r: &AnyRow, i: usize) -> Result<T> {
    let s: String = r.try_get(i)?;
    parse_code(&s)
}

/// [`code`] for a nullable column.
pub(crate) fn code_opt<T: domain::Code>(r: &AnyRow, i: usize) -> Result<Option<T>> {
    let s: Option<String> = r.try_get(i)?;
    s.map(|s| parse_code(&s)).transpose()
}

pub(crate) fn parse_code<T: domain::Code>(s: &str) -> Result<T> {
    T::from_code(s).ok_or_else(|| {
        crate::StoreError::Other(format!("数据库中的{}“{s}”不在允许的取值之内", T::WHAT))
    })
}

/// Bind placeholders for statements built at run time (multi-row INSERTs, `IN` lists), numbered
/// from 1. SQLite gets plain `?`, bound by position: for a `$n` it looks the name up in a list
/// per bind, which makes a statement with thousands of parameters quadratic (measured: a
/// 500-row INSERT of candidates was 4× slower than ten 50-row ones). A statement uses one
/// `Params` only: SQLite does not mix `?` with `$n`.
pub(crate) struct Params {
    backend: crate::Backend,
    n: usize,
}

impl Params {
    pub(crate) fn new(backend: crate::Backend) -> Params {
        Params { backend, n: 0 }
    }

    /// Append the next placeholder.
    pub(crate) fn push(&mut self, sql: &mut String) {
        self.n += 1;
        match self.backend {
            crate::Backend::Sqlite => sql.push('?'),
            crate::Backend::Postgres => {
                use std::fmt::Write;
                let _ = write!(sql, "${}", self.n);
            }
        }
    }

    /// Append `count` placeholders separated by commas.
    pub(crate) fn list(&mut self, sql: &mut String, count: usize) {
        for i in 0..count {
            if i > 0 {
                sql.push_str(", ");
            }
            self.push(sql);
        }
    }
}
