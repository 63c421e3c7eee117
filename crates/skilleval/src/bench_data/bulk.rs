//! Multi-row INSERTs with bound parameters, prepared once per shape and reused (the connection's
//! statement cache): no literal SQL text to build and parse per row.
//!
//! On SQLite the marks are anonymous `?`: sqlx resolves a numbered mark (`$n`) by asking SQLite
//! for its name, and SQLite finds a name by walking the statement's list of names, so binding a
//! statement of n numbered marks costs n² — measured: 500-row statements ran slower than 50-row
//! ones. PostgreSQL needs `$n`.

use sqlx::any::AnyArguments;
use sqlx::AnyConnection;
use store::Backend;

/// One bound value of a generated row.
#[derive(Debug, Clone)]
pub(super) enum V {
    I(i64),
    T(String),
    /// A NULL text column.
    Null,
}

impl From<i64> for V {
    fn from(v: i64) -> V {
        V::I(v)
    }
}

impl From<String> for V {
    fn from(v: String) -> V {
        V::T(v)
    }
}

impl From<&str> for V {
    fn from(v: &str) -> V {
        V::T(v.to_string())
    }
}

/// A table loaded in bulk: the INSERT up to `VALUES`, one row with `?` where a value is bound
/// (constants stay literals), and how many values a row binds.
pub(super) struct Table {
    pub head: &'static str,
    pub row: &'static str,
    pub width: usize,
}

/// Statement sizes, largest first: a plan's rows go in the largest that fit, the rest in the
/// smaller ones, so every statement has one of a few shapes and stays prepared.
const SHAPES: [usize; 4] = [64, 16, 4, 1];

/// One statement's worth of rows with its bound values, made on a signing thread: the inserting
/// connection only sends it.
pub(super) struct Chunk {
    table: &'static Table,
    rows: usize,
    args: AnyArguments<'static>,
}

/// Cut the rows of `table` (values one row after the other) into chunks of the shapes.
pub(super) fn chunks(table: &'static Table, values: Vec<V>, out: &mut Vec<Chunk>) {
    use sqlx::Arguments;
    let w = table.width;
    assert_eq!(values.len() % w, 0, "{}", table.head);
    let mut rows = values.len() / w;
    let mut vals = values.into_iter();
    for shape in SHAPES {
        while rows >= shape {
            let mut args = AnyArguments::default();
            args.reserve(shape * w, 0);
            for v in vals.by_ref().take(shape * w) {
                let added = match v {
                    V::I(i) => args.add(i),
                    V::T(s) => args.add(s),
                    V::Null => args.add(None::<String>),
                };
                added.expect("a text or integer binds");
            }
            out.push(Chunk {
                table,
                rows: shape,
                args,
            });
            rows -= shape;
        }
    }
}

impl Chunk {
    pub async fn insert(
        self,
        conn: &mut AnyConnection,
        backend: Backend,
        sql: &mut Statements,
    ) -> anyhow::Result<()> {
        let text = sql.get(self.table, self.rows, backend);
        sqlx::query_with(text, self.args)
            .execute(&mut *conn)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.table.head))?;
        Ok(())
    }
}

/// The statement texts, made once per (table, shape). Leaked: a generator run makes a few dozen,
/// and sqlx's cache keys its prepared statements by this text.
#[derive(Default)]
pub(super) struct Statements {
    /// (table head, rows, text)
    made: Vec<(&'static str, usize, &'static str)>,
}

impl Statements {
    fn get(&mut self, table: &'static Table, rows: usize, backend: Backend) -> &'static str {
        let key = table.head;
        if let Some((_, _, s)) = self.made.iter().find(|(t, r, _)| *t == key && *r == rows) {
            return s;
        }
        let text: &'static str = Box::leak(statement(table, rows, backend).into_boxed_str());
        self.made.push((key, rows, text));
        text
    }
}

/// `head VALUES row, row, …` with the marks of the backend.
fn statement(table: &Table, rows: usize, backend: Backend) -> String {
    let mut out = String::with_capacity(table.head.len() + rows * (table.row.len() + 8));
    out.push_str(table.head);
    out.push_str(" VALUES ");
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            out.push(',');
        }
        for c in table.row.chars() {
            if c == '?' && backend == Backend::Postgres {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    static T: Table = Table {
        head: "INSERT INTO t (a, b, c)",
        row: "(?, 'x', ?)",
        width: 2,
    };

    #[test]
    fn marks_are_anonymous_on_sqlite_and_numbered_on_postgres() {
        assert_eq!(
            statement(&T, 2, Backend::Sqlite),
            "INSERT INTO t (a, b, c) VALUES (?, 'x', ?),(?, 'x', ?)"
        );
        assert_eq!(
            statement(&T, 2, Backend::Postgres),
            "INSERT INTO t (a, b, c) VALUES ($1, 'x', $2),($3, 'x', $4)"
        );
    }
}
