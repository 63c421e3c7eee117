//! xlsx imports, all or nothing, with a per-row error report and a progress bar. Glue between
//! `skilleval-sheets`, uploads and background jobs:
//!
//! ```ignore
//! // GET …/template
//! imports::template_response(&spec())
//! // POST …/import (route with .layer(upload::upload_limit_layer()))
//! let parts = upload::read_upload(mp, state.config.max_upload_bytes).await?;
//! let file = upload::files(&parts).next().ok_or_else(|| AppError::invalid("file", "请选择要导入的 Excel 文件"))?;
//! let rows = imports::read_sheet(&spec(), file.bytes.clone()).await?;   // bad headers: 422 at once
//! let existing = state.store.…;                                        // preload what checks need
//! let store = state.store.clone();
//! let id = jobs::spawn_job(&state.store, &me.actor(), "candidate_import", Some(inst), move |p| async move {
//!     let valid = imports::validate_rows(&p, &spec(), &rows, |row| check(row, &existing)).await?;
//!     store.insert_all(valid).await.map_err(|e| JobOutcome::new(format!("保存失败：{e}")))?;  // one transaction
//!     Ok(JobOutcome::new(format!("已导入 {} 行", rows.len())).link("/…"))
//! }).await?;
//! Ok(Redirect::to(&format!("/jobs/{id}")))
//! ```

use axum::response::Response;
use sheets::{SheetError, SheetRow, SheetSpec, XLSX_CONTENT_TYPE};

use crate::error::AppError;
use crate::jobs::{JobOutcome, Progress};
use crate::upload::send_bytes;

/// The template of `spec` as a download named `<title>导入模板.xlsx`.
pub fn template_response(spec: &SheetSpec) -> Result<Response, AppError> {
    let bytes = sheets::template(spec).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(send_bytes(
        &format!("{}导入模板.xlsx", spec.title),
        XLSX_CONTENT_TYPE,
        bytes,
    ))
}

/// Read an uploaded workbook (on a blocking thread). A wrong header row, a corrupt or non-xlsx
/// file is a 422 naming the field `file` with the Chinese message of [`SheetError`]; too many
/// rows is a 413.
pub async fn read_sheet(spec: &SheetSpec, bytes: Vec<u8>) -> Result<Vec<SheetRow>, AppError> {
    let spec = spec.clone();
    let result = tokio::task::spawn_blocking(move || sheets::read(&spec, &bytes))
        .await
        .map_err(|e| AppError::Internal(format!("sheet reader: {e}")))?;
    result.map_err(|e| match e {
        SheetError::TooLarge(m) => AppError::TooLarge(m),
        SheetError::Write(m) => AppError::Internal(m),
        other => AppError::invalid("file", other.to_string()),
    })
}

/// The rows of an uploaded workbook, read on a blocking thread and handed over in chunks as
/// they are read: the sheet is never held whole, and reading overlaps with what the caller
/// does with the rows (validate, insert). A file or header error comes at once, from
/// [`stream_sheet`]; an error further down (a corrupt cell, too many rows) ends the stream.
pub struct RowStream {
    /// Rows read ahead ([`RowStream::read_ahead`]), handed out first.
    ahead: std::collections::VecDeque<Vec<SheetRow>>,
    rx: tokio::sync::mpsc::Receiver<Result<Vec<SheetRow>, SheetError>>,
    declared_rows: usize,
    ended: bool,
}

/// Rows per chunk of a [`RowStream`].
pub const CHUNK_ROWS: usize = 1_000;

/// Open `bytes` against `spec` (at most `max_rows` data rows) and stream its rows. Dropping
/// the stream stops the reader.
pub async fn stream_sheet(
    spec: &SheetSpec,
    bytes: impl Into<axum::body::Bytes>,
    max_rows: usize,
) -> Result<RowStream, SheetError> {
    let spec = spec.clone();
    let bytes = bytes.into();
    let (head_tx, head_rx) = tokio::sync::oneshot::channel();
    // Two chunks in flight: the reader stays ahead without piling rows up.
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::task::spawn_blocking(move || {
        let mut wb = match sheets::open(&bytes) {
            Ok(wb) => wb,
            Err(e) => {
                let _ = head_tx.send(Err(e));
                return;
            }
        };
        let rows = match wb.rows(&spec) {
            Ok(rows) => rows.max_rows(max_rows),
            Err(e) => {
                let _ = head_tx.send(Err(e));
                return;
            }
        };
        if head_tx.send(Ok(rows.declared_rows())).is_err() {
            return;
        }
        let mut chunk = Vec::with_capacity(CHUNK_ROWS);
        for row in rows {
            match row {
                Ok(row) => chunk.push(row),
                Err(e) => {
                    // The rows before the error first: they are reported on as usual.
                    if !chunk.is_empty() && tx.blocking_send(Ok(chunk)).is_err() {
                        return;
                    }
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
            if chunk.len() == CHUNK_ROWS {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS));
                if tx.blocking_send(Ok(full)).is_err() {
                    return; // the import stopped listening
                }
            }
        }
        if !chunk.is_empty() {
            let _ = tx.blocking_send(Ok(chunk));
        }
    });
    let declared_rows = head_rx
        .await
        .map_err(|_| SheetError::Unreadable("无法读取 Excel 文件，文件可能已损坏".into()))??;
    Ok(RowStream {
        ahead: Default::default(),
        rx,
        declared_rows,
        ended: false,
    })
}

impl RowStream {
    /// The number of data rows the sheet declares: an estimate for progress bars.
    pub fn declared_rows(&self) -> usize {
        self.declared_rows
    }

    /// The next chunk of rows, `None` at the end.
    pub async fn next_chunk(&mut self) -> Option<Result<Vec<SheetRow>, SheetError>> {
        if let Some(c) = self.ahead.pop_front() {
            return Some(Ok(c));
        }
        if self.ended {
            return None;
        }
        let next = self.rx.recv().await;
        self.ended = !matches!(next, Some(Ok(_)));
        next
    }

    /// Read ahead until `rows` rows are held or the sheet ends; they are still handed out by
    /// [`RowStream::next_chunk`]. Returns the rows held and whether the sheet ended.
    pub async fn read_ahead(&mut self, rows: usize) -> Result<(usize, bool), SheetError> {
        let mut held: usize = self.ahead.iter().map(Vec::len).sum();
        while held < rows && !self.ended {
            match self.rx.recv().await {
                Some(Ok(chunk)) => {
                    held += chunk.len();
                    self.ahead.push_back(chunk);
                }
                Some(Err(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                None => self.ended = true,
            }
        }
        Ok((held, self.ended))
    }
}

/// One problem in a row: the column label ("" for the whole row) and a Chinese message.
pub type CellError = (String, String);

/// Check every row (required columns first, then `check`), reporting progress. If any row
/// fails, nothing should be imported: an xlsx error report (行号, 列, 错误说明) is stored and
/// the returned `Err` carries `report_url` (`/jobs/{id}/report`) for the progress page. With
/// no errors, returns the checked values in row order.
pub async fn validate_rows<T, F>(
    progress: &Progress,
    spec: &SheetSpec,
    rows: &[SheetRow],
    mut check: F,
) -> Result<Vec<T>, JobOutcome>
where
    F: FnMut(&SheetRow) -> Result<T, Vec<CellError>>,
{
    let total = rows.len() as i64;
    if rows.is_empty() {
        return Err(JobOutcome::new(
            "表格中没有数据行：请从第 2 行起填写后重新上传",
        ));
    }
    let mut ok = Vec::with_capacity(rows.len());
    let mut report: Vec<Vec<String>> = Vec::new();
    let mut bad_rows = 0usize;
    for (i, row) in rows.iter().enumerate() {
        let missing = row.missing_required(spec);
        let errors: Vec<CellError> = if !missing.is_empty() {
            missing
                .into_iter()
                .map(|l| (l.to_string(), "必填项为空".to_string()))
                .collect()
        } else {
            match check(row) {
                Ok(v) => {
                    ok.push(v);
                    vec![]
                }
                Err(e) => e,
            }
        };
        if !errors.is_empty() {
            bad_rows += 1;
            for (col, msg) in errors {
                report.push(vec![row.row.to_string(), col, msg]);
            }
        }
        progress
            .set(i as i64 + 1, total, &format!("正在校验第 {} 行", row.row))
            .await;
    }
    if bad_rows == 0 {
        return Ok(ok);
    }
    let message = format!(
        "共 {total} 行，其中 {bad_rows} 行有误，未导入任何记录。请下载错误报告，修改后重新上传。"
    );
    match progress.save_report(&report).await {
        Ok((url, key)) => Err(JobOutcome::new(message)
            .report_url(url)
            .with("report_key", key)
            .with("error_rows", bad_rows as i64)),
        Err(e) => {
            tracing::error!(job = progress.job_id(), error = %e, "could not store the error report");
            let first: Vec<String> = report
                .iter()
                .take(5)
                .map(|r| format!("第 {} 行 {}：{}", r[0], r[1], r[2]))
                .collect();
            Err(JobOutcome::new(format!(
                "{message}（{}）",
                first.join("；")
            )))
        }
    }
}
