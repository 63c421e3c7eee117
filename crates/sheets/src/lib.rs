//! Excel (xlsx) templates, imports and reports. Offices live in Excel: every import has a
//! downloadable template made from the same [`SheetSpec`] that reads it back.
//!
//! - [`template`]: the data sheet (bold header row, widths, every column formatted as text so
//!   that 18-digit ID numbers and leading zeros survive) and a second sheet "填写说明" with the
//!   instructions and, per column, whether it is required, a hint and an example.
//! - [`read`]: the first sheet, headers matched by label, every cell as a trimmed string
//!   (numbers without ".0", dates as YYYY-MM-DD), empty rows skipped, 1-based Excel row numbers
//!   kept for error reports. Corrupt files, non-xlsx content and zip bombs give a Chinese
//!   [`SheetError`], never a panic.
//! - [`write_report`]: a one-sheet workbook (per-row error reports, exports).

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use calamine::{Data, DataRef, Reader, Xlsx, XlsxCellReader, XlsxError as CalamineError};
use rust_xlsxwriter::{Color, Format, FormatAlign, Workbook, XlsxError};

/// One column of a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Stable key used by code (e.g. `id_number`).
    pub key: &'static str,
    /// The Chinese header, as in the template (e.g. `身份证件号码`).
    pub label: &'static str,
    pub required: bool,
    /// How to fill it (shown in 填写说明).
    pub hint: &'static str,
    /// An example value (shown in 填写说明).
    pub example: &'static str,
}

impl Column {
    pub const fn new(key: &'static str, label: &'static str) -> Column {
        Column {
            key,
            label,
            required: false,
            hint: "",
            example: "",
        }
    }
    pub const fn required(mut self) -> Column {
        self.required = true;
        self
    }
    pub const fn hint(mut self, hint: &'static str) -> Column {
        self.hint = hint;
        self
    }
    pub const fn example(mut self, example: &'static str) -> Column {
        self.example = example;
        self
    }
}

/// A sheet: its title (sheet and file name), columns and general instructions.
#[derive(Debug, Clone)]
pub struct SheetSpec {
    pub title: &'static str,
    pub columns: Vec<Column>,
    pub instructions: Vec<&'static str>,
}

/// A data row: its 1-based Excel row number and its values by column key (trimmed; "" when empty).
///
/// Compact: the values of a row share one string, and the keys are shared by every row of a
/// read (a `BTreeMap` per row cost ≈ 1 KB for 8 columns; 100k rows held 100 MB).
#[derive(Clone, PartialEq, Eq)]
pub struct SheetRow {
    pub row: u32,
    keys: Arc<[&'static str]>,
    text: Box<str>,
    /// End of each value in `text`, in the order of `keys`.
    ends: Box<[u32]>,
}

impl SheetRow {
    /// A row from its values in the order of `keys` (`values.len() == keys.len()`).
    pub fn new<S: AsRef<str>>(row: u32, keys: Arc<[&'static str]>, values: &[S]) -> SheetRow {
        assert_eq!(keys.len(), values.len(), "one value per key");
        let mut text = String::with_capacity(values.iter().map(|v| v.as_ref().len()).sum());
        let ends = values
            .iter()
            .map(|v| {
                text.push_str(v.as_ref());
                text.len() as u32
            })
            .collect();
        SheetRow {
            row,
            keys,
            text: text.into_boxed_str(),
            ends,
        }
    }

    /// The value of a column ("" when empty or unknown).
    pub fn get(&self, key: &str) -> &str {
        match self.keys.iter().position(|k| *k == key) {
            Some(i) => self.value_at(i),
            None => "",
        }
    }

    fn value_at(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }

    /// The values by column key, in the order of the spec's columns.
    pub fn values(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, self.value_at(i)))
    }

    /// Labels of required columns left empty in this row.
    pub fn missing_required(&self, spec: &SheetSpec) -> Vec<&'static str> {
        spec.columns
            .iter()
            .filter(|c| c.required && self.get(c.key).is_empty())
            .map(|c| c.label)
            .collect()
    }
}

impl std::fmt::Debug for SheetRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SheetRow")
            .field("row", &self.row)
            .field("values", &self.values().collect::<Vec<_>>())
            .finish()
    }
}

/// Every failure, with a Chinese message for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetError {
    /// Not an xlsx file, corrupt, or suspicious (zip bomb).
    #[error("{0}")]
    Unreadable(String),
    /// The header row does not match the template.
    #[error("{0}")]
    Headers(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("生成 Excel 文件失败：{0}")]
    Write(String),
}

impl From<XlsxError> for SheetError {
    fn from(e: XlsxError) -> Self {
        SheetError::Write(e.to_string())
    }
}

/// Most data rows [`read`] accepts.
pub const MAX_ROWS: usize = 200_000;
/// Most uncompressed bytes the parts of an xlsx may declare.
pub const MAX_UNCOMPRESSED: u64 = 400 * 1024 * 1024;
/// A part larger than 10 MB may not be compressed more than this ratio.
pub const MAX_RATIO: u64 = 400;

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    let s: String = title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if s.trim().is_empty() {
        "Sheet1".into()
    } else {
        s
    }
}

/// Column width in Excel units from the display width of a text (CJK counts double).
fn width_of(texts: &[&str]) -> f64 {
    let w = texts
        .iter()
        .map(|t| {
            t.chars()
                .map(|c| if c.is_ascii() { 1.0 } else { 2.0 })
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    (w + 4.0).clamp(8.0, 60.0)
}

/// The downloadable template of `spec`.
pub fn template(spec: &SheetSpec) -> Result<Vec<u8>, SheetError> {
    let mut wb = Workbook::new();
    let text = Format::new().set_num_format("@");
    let header = Format::new()
        .set_bold()
        .set_num_format("@")
        .set_background_color(Color::RGB(0xDDE6F1))
        .set_align(FormatAlign::Center);
    let required_header = header.clone().set_font_color(Color::RGB(0xB71C1C));
    {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(spec.title))?;
        for (i, c) in spec.columns.iter().enumerate() {
            let col = i as u16;
            ws.set_column_width(col, width_of(&[c.label, c.example, "YYYY-MM-DD"]))?;
            // Text format for the whole column: ID numbers, phone numbers and codes stay as typed.
            ws.set_column_format(col, &text)?;
            let f = if c.required {
                &required_header
            } else {
                &header
            };
            ws.write_string_with_format(0, col, c.label, f)?;
        }
        ws.set_freeze_panes(1, 0)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("填写说明")?;
        let bold = Format::new().set_bold();
        let grey = Format::new()
            .set_font_color(Color::RGB(0x666666))
            .set_num_format("@");
        let wrap = Format::new().set_text_wrap();
        ws.set_column_width(0, 22)?;
        ws.set_column_width(1, 10)?;
        ws.set_column_width(2, 60)?;
        ws.set_column_width(3, 26)?;
        ws.write_string_with_format(0, 0, format!("{}：填写说明", spec.title), &bold)?;
        let mut r = 1u32;
        for line in &spec.instructions {
            ws.write_string_with_format(r, 0, *line, &wrap)?;
            r += 1;
        }
        ws.write_string_with_format(r, 0, "红色表头为必填列；请勿修改、删除或调整表头。第一张工作表从第 2 行起填写数据，本页不会被导入。", &wrap)?;
        r += 2;
        for (i, h) in ["列名", "是否必填", "填写要求", "示例"].iter().enumerate() {
            ws.write_string_with_format(r, i as u16, *h, &header)?;
        }
        for c in &spec.columns {
            r += 1;
            ws.write_string(r, 0, c.label)?;
            ws.write_string(r, 1, if c.required { "必填" } else { "选填" })?;
            ws.write_string_with_format(r, 2, c.hint, &wrap)?;
            ws.write_string_with_format(r, 3, c.example, &grey)?;
        }
    }
    Ok(wb.save_to_buffer()?)
}

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]) as u64)
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as u64)
}

/// Check the zip container cheaply before decompressing anything: an xlsx is a zip with a
/// central directory; the sizes it declares must stay within [`MAX_UNCOMPRESSED`] and
/// [`MAX_RATIO`].
fn check_container(b: &[u8]) -> Result<(), SheetError> {
    let not_xlsx = || {
        SheetError::Unreadable(
            "文件不是有效的 Excel（.xlsx）文件，请使用下载的模板填写后上传".into(),
        )
    };
    if !b.starts_with(b"PK\x03\x04") {
        if b.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            return Err(SheetError::Unreadable(
                "不支持旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 格式后上传".into(),
            ));
        }
        return Err(not_xlsx());
    }
    let tail_start = b.len().saturating_sub(65_557);
    let eocd = (tail_start..b.len().saturating_sub(21))
        .rev()
        .find(|&i| b[i..].starts_with(b"PK\x05\x06"))
        .ok_or_else(not_xlsx)?;
    let count = u16_at(b, eocd + 10).ok_or_else(not_xlsx)?;
    let mut at = u32_at(b, eocd + 16).ok_or_else(not_xlsx)? as usize;
    let mut total: u64 = 0;
    for _ in 0..count {
        if !b.get(at..).is_some_and(|s| s.starts_with(b"PK\x01\x02")) {
            return Err(not_xlsx());
        }
        let (Some(compressed), Some(size), Some(n), Some(x), Some(c)) = (
            u32_at(b, at + 20),
            u32_at(b, at + 24),
            u16_at(b, at + 28),
            u16_at(b, at + 30),
            u16_at(b, at + 32),
        ) else {
            return Err(not_xlsx());
        };
        if size == 0xFFFF_FFFF || compressed == 0xFFFF_FFFF {
            return Err(SheetError::TooLarge(
                "Excel 文件过大，请拆分后分批导入".into(),
            ));
        }
        total = total.saturating_add(size);
        if size > 10 * 1024 * 1024 && size > compressed.max(1).saturating_mul(MAX_RATIO) {
            return Err(SheetError::Unreadable(
                "Excel 文件结构异常（压缩比过高），已拒绝读取".into(),
            ));
        }
        at += 46 + (n + x + c) as usize;
    }
    if total > MAX_UNCOMPRESSED {
        return Err(SheetError::TooLarge(
            "Excel 文件解压后过大，请拆分后分批导入".into(),
        ));
    }
    Ok(())
}

/// Days from the Excel epoch (1899-12-30, the 1900 system) to a date.
fn excel_date(serial: f64) -> Option<String> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let d = base.checked_add_days(chrono::Days::new(serial.floor() as u64))?;
    let secs = ((serial.fract()) * 86_400.0).round() as u32;
    if secs == 0 || secs == 86_400 {
        Some(d.format("%Y-%m-%d").to_string())
    } else {
        let t = chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs.min(86_399), 0)?;
        Some(format!("{} {}", d.format("%Y-%m-%d"), t.format("%H:%M:%S")))
    }
}

/// A number as people write it: integers without ".0".
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// A cell as a trimmed string.
pub fn cell_text(d: &Data) -> String {
    let r = match d {
        Data::Empty => DataRef::Empty,
        Data::String(s) => DataRef::SharedString(s),
        Data::Int(i) => DataRef::Int(*i),
        Data::Float(f) => DataRef::Float(*f),
        Data::Bool(b) => DataRef::Bool(*b),
        Data::DateTime(dt) => DataRef::DateTime(*dt),
        Data::DateTimeIso(s) => DataRef::DateTimeIso(s.clone()),
        Data::DurationIso(s) => DataRef::DurationIso(s.clone()),
        Data::Error(e) => DataRef::Error(e.clone()),
    };
    let mut out = String::new();
    push_cell_text(&mut out, &r);
    out
}

/// Append a cell as a trimmed string (numbers without ".0", dates as YYYY-MM-DD).
fn push_cell_text(out: &mut String, d: &DataRef<'_>) {
    use std::fmt::Write;
    match d {
        DataRef::Empty => {}
        DataRef::String(s) => out.push_str(s.trim()),
        DataRef::SharedString(s) => out.push_str(s.trim()),
        DataRef::Int(i) => {
            let _ = write!(out, "{i}");
        }
        DataRef::Float(f) => out.push_str(&number_text(*f)),
        DataRef::Bool(b) => out.push_str(if *b { "是" } else { "否" }),
        DataRef::DateTime(dt) if dt.is_datetime() => {
            out.push_str(&excel_date(dt.as_f64()).unwrap_or_else(|| number_text(dt.as_f64())))
        }
        DataRef::DateTime(dt) => out.push_str(&number_text(dt.as_f64())),
        DataRef::DateTimeIso(s) => {
            let s = s.trim();
            match s.split_once('T') {
                Some((d, t))
                    if t.trim_start_matches('0').trim_start_matches(':').is_empty()
                        || t.starts_with("00:00:00") =>
                {
                    out.push_str(d)
                }
                _ => out.push_str(s),
            }
        }
        DataRef::DurationIso(s) => out.push_str(s.trim()),
        DataRef::Error(e) => {
            let _ = write!(out, "#{e}");
        }
    }
}

/// Normalise a header: trim, drop a required marker (`*`, `＊`) and inner spaces.
fn header_key(s: &str) -> String {
    s.trim()
        .trim_start_matches(['*', '＊'])
        .trim_end_matches(['*', '＊'])
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

fn corrupt() -> SheetError {
    SheetError::Unreadable("无法读取 Excel 文件，文件可能已损坏".into())
}

fn sheet_error(e: CalamineError) -> SheetError {
    SheetError::Unreadable(format!(
        "无法读取 Excel 文件的第一张工作表，文件可能已损坏（{e}）"
    ))
}

fn empty_sheet() -> SheetError {
    SheetError::Headers("表格为空：请使用下载的模板，在第一张工作表第 1 行保留表头".into())
}

/// An opened xlsx file (its container checked, shared strings and styles loaded); its first
/// sheet is read row by row with [`Book::rows`].
pub struct Book<'b> {
    xlsx: Xlsx<Cursor<&'b [u8]>>,
}

/// Open `bytes` as an xlsx file. Corrupt files, non-xlsx content and zip bombs give a Chinese
/// [`SheetError`], never a panic.
pub fn open(bytes: &[u8]) -> Result<Book<'_>, SheetError> {
    check_container(bytes)?;
    // calamine is robust, but a malformed file must never take the server down.
    let xlsx = catch_unwind(|| Xlsx::new(Cursor::new(bytes)))
        .map_err(|_| corrupt())?
        .map_err(|e| {
            SheetError::Unreadable(format!("无法读取 Excel 文件，文件可能已损坏（{e}）"))
        })?;
    Ok(Book { xlsx })
}

/// Read the first sheet of `bytes` against `spec`, all rows at once (small imports; large
/// ones read [`Book::rows`] as they go).
pub fn read(spec: &SheetSpec, bytes: &[u8]) -> Result<Vec<SheetRow>, SheetError> {
    open(bytes)?.rows(spec)?.collect()
}

impl<'b> Book<'b> {
    /// The data rows of the first sheet, read as they are needed (calamine's cell reader: the
    /// sheet is never held whole). The header row — the first row with a cell — is checked
    /// here: missing or unknown columns are an error before any row is read.
    pub fn rows(&mut self, spec: &SheetSpec) -> Result<Rows<'_, 'b>, SheetError> {
        let Some(name) = self.xlsx.sheet_names().first().cloned() else {
            return Err(SheetError::Unreadable("Excel 文件中没有工作表".into()));
        };
        let xlsx = &mut self.xlsx;
        let open_sheet = move || {
            let xlsx = xlsx; // moved in: the reader borrows the workbook beyond the closure
            xlsx.worksheet_cells_reader(&name)
        };
        let cells = match catch_unwind(AssertUnwindSafe(open_sheet)).map_err(|_| corrupt())? {
            Ok(c) => c,
            // A chart sheet first: as calamine's range reader, nothing to read.
            Err(CalamineError::NotAWorksheet(_)) => return Err(empty_sheet()),
            Err(e) => return Err(sheet_error(e)),
        };
        let dim = cells.dimensions();
        let mut rows = Rows {
            cells,
            keys: spec.columns.iter().map(|c| c.key).collect(),
            slots: Vec::new(),
            current: None,
            last: 0,
            values: vec![String::new(); spec.columns.len()],
            carry: None,
            eof: false,
            declared_rows: dim.end.0.saturating_sub(dim.start.0) as usize,
            emitted: 0,
            max_rows: MAX_ROWS,
            done: false,
        };
        rows.read_header(spec)?;
        Ok(rows)
    }
}

/// The data rows of a sheet, in order: an iterator of [`SheetRow`] or, once, the error that
/// ends the read (a corrupt cell, more than [`MAX_ROWS`] rows).
pub struct Rows<'w, 'b> {
    cells: XlsxCellReader<'w, Cursor<&'b [u8]>>,
    keys: Arc<[&'static str]>,
    /// For each sheet column (0-based), the spec column it fills.
    slots: Vec<Option<usize>>,
    /// The sheet row being assembled (0-based) and its values by spec column.
    current: Option<u32>,
    /// The last sheet row seen (0-based): rows come in order.
    last: u32,
    values: Vec<String>,
    /// A cell already read that belongs to the next row.
    carry: Option<(u32, u32, String)>,
    /// The cell reader reached `</sheetData>` (it must not be called again).
    eof: bool,
    declared_rows: usize,
    emitted: usize,
    max_rows: usize,
    done: bool,
}

impl Rows<'_, '_> {
    /// The number of data rows the sheet declares (its `dimension`, which writers may omit or
    /// overstate): an estimate for progress, never a limit.
    pub fn declared_rows(&self) -> usize {
        self.declared_rows
    }

    /// Refuse more than `max` data rows (default [`MAX_ROWS`]): the read stops at the first
    /// row over the limit, without reading the rest of the sheet.
    pub fn max_rows(mut self, max: usize) -> Self {
        self.max_rows = max;
        self
    }

    /// The next non-empty cell as (row, column, text), in the sheet's order.
    fn next_cell(&mut self) -> Result<Option<(u32, u32, String)>, SheetError> {
        if let Some(c) = self.carry.take() {
            return Ok(Some(c));
        }
        if self.eof {
            return Ok(None);
        }
        let (cells, eof) = (&mut self.cells, &mut self.eof);
        catch_unwind(AssertUnwindSafe(|| loop {
            match cells.next_cell() {
                Ok(Some(c)) if matches!(c.get_value(), DataRef::Empty) => continue,
                Ok(Some(c)) => {
                    let (r, col) = c.get_position();
                    let mut text = String::new();
                    push_cell_text(&mut text, c.get_value());
                    return Ok(Some((r, col, text)));
                }
                Ok(None) => {
                    *eof = true;
                    return Ok(None);
                }
                Err(e) => return Err(sheet_error(e)),
            }
        }))
        .map_err(|_| corrupt())?
    }

    /// The header row: the row of the first cell, matched by label against `spec`.
    fn read_header(&mut self, spec: &SheetSpec) -> Result<(), SheetError> {
        let Some(first) = self.next_cell()? else {
            return Err(empty_sheet());
        };
        let header_row = first.0;
        self.last = header_row;
        let mut header: Vec<String> = Vec::new();
        let mut cell = Some(first);
        while let Some((r, c, text)) = cell {
            if r != header_row {
                self.carry = Some((r, c, text));
                break;
            }
            let c = c as usize;
            if c >= header.len() {
                header.resize(c + 1, String::new());
            }
            header[c] = header_key(&text);
            cell = self.next_cell()?;
        }
        let mut missing = Vec::new();
        self.slots = vec![None; header.len()];
        for (slot, c) in spec.columns.iter().enumerate() {
            match header.iter().position(|h| *h == header_key(c.label)) {
                Some(i) => self.slots[i] = Some(slot),
                None => missing.push(c.label),
            }
        }
        let unknown: Vec<&String> = header
            .iter()
            .filter(|h| !h.is_empty())
            .filter(|h| !spec.columns.iter().any(|c| header_key(c.label) == **h))
            .collect();
        if missing.is_empty() && unknown.is_empty() {
            return Ok(());
        }
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!(
                "缺少{}列",
                missing
                    .iter()
                    .map(|l| format!("“{l}”"))
                    .collect::<Vec<_>>()
                    .join("、")
            ));
        }
        if !unknown.is_empty() {
            parts.push(format!(
                "无法识别{}列",
                unknown
                    .iter()
                    .map(|l| format!("“{l}”"))
                    .collect::<Vec<_>>()
                    .join("、")
            ));
        }
        Err(SheetError::Headers(format!(
            "表头不正确：{}（请使用下载的模板，不要修改表头）",
            parts.join("；")
        )))
    }

    /// The row assembled so far, if any of its columns has a value (empty rows are skipped).
    fn take_row(&mut self) -> Option<SheetRow> {
        let r = self.current.take()?;
        let row = self
            .values
            .iter()
            .any(|v| !v.is_empty())
            // Excel rows are 1-based.
            .then(|| SheetRow::new(r + 1, self.keys.clone(), &self.values));
        self.values.iter_mut().for_each(String::clear);
        row
    }

    fn next_row(&mut self) -> Result<Option<SheetRow>, SheetError> {
        loop {
            let Some((r, c, text)) = self.next_cell()? else {
                return Ok(self.take_row());
            };
            if r < self.last {
                return Err(SheetError::Unreadable(
                    "Excel 文件结构异常（工作表的行顺序错乱），请在 Excel 中打开后重新保存".into(),
                ));
            }
            self.last = r;
            if self.current != Some(r) {
                if let Some(row) = self.take_row() {
                    self.carry = Some((r, c, text));
                    return Ok(Some(row));
                }
                self.current = Some(r);
            }
            if let Some(Some(slot)) = self.slots.get(c as usize) {
                self.values[*slot] = text;
            }
        }
    }
}

impl Iterator for Rows<'_, '_> {
    type Item = Result<SheetRow, SheetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = match self.next_row() {
            Ok(Some(_)) if self.emitted >= self.max_rows => Err(SheetError::TooLarge(format!(
                "数据超过 {} 行，请拆分后分批导入",
                self.max_rows
            ))),
            Ok(Some(row)) => {
                self.emitted += 1;
                Ok(row)
            }
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => Err(e),
        };
        self.done = item.is_err();
        Some(item)
    }
}

/// A one-sheet workbook: a bold header row and the rows as text (error reports, exports).
pub fn write_report(
    title: &str,
    headers: &[&str],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, SheetError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(title))?;
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDE6F1));
    let text = Format::new().set_num_format("@");
    for (i, h) in headers.iter().enumerate() {
        let col = i as u16;
        let mut samples: Vec<&str> = vec![h];
        samples.extend(
            rows.iter()
                .take(200)
                .filter_map(|r| r.get(i))
                .map(String::as_str),
        );
        ws.set_column_width(col, width_of(&samples))?;
        ws.write_string_with_format(0, col, *h, &header)?;
    }
    for (ri, r) in rows.iter().enumerate() {
        for (ci, v) in r.iter().enumerate() {
            // Excel cells hold at most 32,767 characters.
            let v: String = v.chars().take(32_000).collect();
            ws.write_string_with_format(ri as u32 + 1, ci as u16, v, &text)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(wb.save_to_buffer()?)
}

/// The MIME type of xlsx files.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SheetSpec {
        SheetSpec {
            title: "考生名单",
            columns: vec![
                Column::new("name", "姓名").required().example("张三"),
                Column::new("id_number", "身份证件号码")
                    .required()
                    .hint("18 位居民身份证号码")
                    .example("410105199001011234"),
                Column::new("phone", "手机号码").example("13800000000"),
                Column::new("exam_date", "考试日期").example("2026-05-01"),
                Column::new("score", "成绩"),
            ],
            instructions: vec!["每行一名考生。"],
        }
    }

    /// Fill the template's first sheet by re-creating it with data (as a user would in Excel).
    fn filled(rows: &[Vec<Cell>]) -> Vec<u8> {
        let s = spec();
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name(s.title).unwrap();
        for (i, c) in s.columns.iter().enumerate() {
            ws.write_string(0, i as u16, c.label).unwrap();
        }
        let date = Format::new().set_num_format("yyyy-mm-dd");
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r, c) = (r as u32 + 1, c as u16);
                match v {
                    Cell::S(s) => {
                        ws.write_string(r, c, *s).unwrap();
                    }
                    Cell::N(n) => {
                        ws.write_number(r, c, *n).unwrap();
                    }
                    Cell::D(y, m, d) => {
                        let dt = rust_xlsxwriter::ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                        ws.write_datetime_with_format(r, c, &dt, &date).unwrap();
                    }
                    Cell::E => {}
                }
            }
        }
        wb.save_to_buffer().unwrap()
    }

    enum Cell {
        S(&'static str),
        N(f64),
        D(u16, u8, u8),
        E,
    }

    #[test]
    fn template_round_trip() {
        let s = spec();
        let t = template(&s).unwrap();
        // The empty template reads as no rows, with correct headers.
        assert_eq!(read(&s, &t).unwrap(), vec![]);
        let bytes = filled(&[
            vec![
                Cell::S(" 张三 "),
                Cell::S("410105199001011234"),
                Cell::N(13800000000.0),
                Cell::D(2026, 5, 1),
                Cell::N(88.0),
            ],
            vec![Cell::E, Cell::E, Cell::E, Cell::E, Cell::E],
            vec![
                Cell::S("李四"),
                Cell::E,
                Cell::E,
                Cell::S("2026-05-02"),
                Cell::N(59.5),
            ],
        ]);
        let rows = read(&s, &bytes).unwrap();
        assert_eq!(rows.len(), 2, "the empty row is skipped");
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].get("name"), "张三");
        assert_eq!(rows[0].get("id_number"), "410105199001011234");
        assert_eq!(rows[0].get("phone"), "13800000000");
        assert_eq!(rows[0].get("exam_date"), "2026-05-01");
        assert_eq!(rows[0].get("score"), "88");
        assert_eq!(rows[1].row, 4);
        assert_eq!(rows[1].get("score"), "59.5");
        assert_eq!(rows[1].missing_required(&s), vec!["身份证件号码"]);
        assert!(rows[0].missing_required(&s).is_empty());
    }

    #[test]
    fn template_has_instructions_sheet() {
        let t = template(&spec()).unwrap();
        let mut wb = Xlsx::new(Cursor::new(&t[..])).unwrap();
        assert_eq!(wb.sheet_names(), vec!["考生名单", "填写说明"]);
        let r = wb.worksheet_range("填写说明").unwrap();
        let all: Vec<String> = r.rows().flat_map(|r| r.iter().map(cell_text)).collect();
        assert!(all.iter().any(|s| s == "18 位居民身份证号码"));
        assert!(all.iter().any(|s| s == "410105199001011234"));
        assert!(all.iter().any(|s| s == "必填"));
    }

    #[test]
    fn wrong_headers_are_named() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "姓名").unwrap();
        ws.write_string(0, 1, "身份证号").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let e = read(&spec(), &bytes).unwrap_err();
        let m = e.to_string();
        assert!(m.starts_with("表头不正确："), "{m}");
        assert!(m.contains("缺少“身份证件号码”"), "{m}");
        assert!(m.contains("无法识别“身份证号”"), "{m}");
        assert!(matches!(e, SheetError::Headers(_)));
    }

    #[test]
    fn required_marker_in_header_is_tolerated() {
        let s = SheetSpec {
            title: "t",
            columns: vec![Column::new("name", "姓名").required()],
            instructions: vec![],
        };
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "*姓名").unwrap();
        ws.write_string(1, 0, "王五").unwrap();
        let rows = read(&s, &wb.save_to_buffer().unwrap()).unwrap();
        assert_eq!(rows[0].get("name"), "王五");
    }

    #[test]
    fn corrupted_bytes_are_refused_in_chinese() {
        let s = spec();
        for bytes in [
            &b""[..],
            &b"hello"[..],
            &b"%PDF-1.4"[..],
            &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1][..],
        ] {
            let e = read(&s, bytes).unwrap_err();
            assert!(matches!(e, SheetError::Unreadable(_)), "{e:?}");
        }
        // A real xlsx, truncated or with bytes flipped: an error, never a panic.
        let good = template(&s).unwrap();
        for cut in [10, good.len() / 3, good.len() / 2, good.len() - 30] {
            assert!(read(&s, &good[..cut]).is_err());
        }
        let mut flipped = good.clone();
        for i in (200..flipped.len() - 200).step_by(97) {
            flipped[i] ^= 0x5A;
        }
        let _ = read(&s, &flipped);
    }

    #[test]
    fn zip_bomb_is_refused() {
        // A central directory that declares a 1 GB part compressed into 1 KB.
        let mut z = b"PK\x03\x04".to_vec();
        z.extend_from_slice(&[0u8; 60]);
        let cd = z.len() as u32;
        let mut c = b"PK\x01\x02".to_vec();
        c.extend_from_slice(&[0u8; 16]);
        c.extend_from_slice(&1024u32.to_le_bytes());
        c.extend_from_slice(&(1024u32 * 1024 * 1024).to_le_bytes());
        c.extend_from_slice(&1u16.to_le_bytes());
        c.extend_from_slice(&[0u8; 12]);
        c.extend_from_slice(&0u32.to_le_bytes());
        c.push(b'x');
        z.extend_from_slice(&c);
        z.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
        z.extend_from_slice(&(c.len() as u32).to_le_bytes());
        z.extend_from_slice(&cd.to_le_bytes());
        z.extend_from_slice(&[0, 0]);
        let e = read(&spec(), &z).unwrap_err();
        assert!(
            e.to_string().contains("压缩比过高") || e.to_string().contains("过大"),
            "{e}"
        );
    }

    #[test]
    fn reads_100000_rows() {
        let s = spec();
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (i, c) in s.columns.iter().enumerate() {
            ws.write_string(0, i as u16, c.label).unwrap();
        }
        for r in 1..=100_000u32 {
            ws.write_string(r, 0, format!("考生{r}")).unwrap();
            ws.write_string(r, 1, "410105199001011234").unwrap();
            ws.write_number(r, 4, (r % 100) as f64).unwrap();
        }
        let bytes = wb.save_to_buffer().unwrap();
        let rows = read(&s, &bytes).unwrap();
        assert_eq!(rows.len(), 100_000);
        assert_eq!(rows[99_999].row, 100_001);
        assert_eq!(rows[99_999].get("name"), "考生100000");
        assert_eq!(rows[99_999].get("score"), "0");
    }

    #[test]
    fn report_is_readable() {
        let bytes = write_report(
            "导入错误报告",
            &["行号", "错误"],
            &[vec!["3".into(), "身份证件号码校验位错误".into()]],
        )
        .unwrap();
        let mut wb = Xlsx::new(Cursor::new(&bytes[..])).unwrap();
        let r = wb.worksheet_range_at(0).unwrap().unwrap();
        let rows: Vec<Vec<String>> = r
            .rows()
            .map(|r| r.iter().map(cell_text).collect())
            .collect();
        assert_eq!(rows[1], vec!["3", "身份证件号码校验位错误"]);
    }

    /// The reader before streaming (calamine's whole-sheet `Range`), kept as the reference the
    /// streaming reader must match.
    fn read_via_range(spec: &SheetSpec, bytes: &[u8]) -> Result<Vec<SheetRow>, SheetError> {
        let mut wb =
            Xlsx::new(Cursor::new(bytes)).map_err(|e| SheetError::Unreadable(e.to_string()))?;
        let range = wb
            .worksheet_range_at(0)
            .unwrap()
            .map_err(|e| SheetError::Unreadable(e.to_string()))?;
        let (start_row, _) = range.start().unwrap_or((0, 0));
        let mut rows = range.rows();
        let header: Vec<String> = match rows.next() {
            Some(r) => r.iter().map(|c| header_key(&cell_text(c))).collect(),
            None => return Err(empty_sheet()),
        };
        let index: Vec<Option<usize>> = spec
            .columns
            .iter()
            .map(|c| header.iter().position(|h| *h == header_key(c.label)))
            .collect();
        if index.iter().any(Option::is_none) {
            return Err(SheetError::Headers("missing".into()));
        }
        let keys: Arc<[&'static str]> = spec.columns.iter().map(|c| c.key).collect();
        let mut out = Vec::new();
        for (i, r) in rows.enumerate() {
            let values: Vec<String> = index
                .iter()
                .map(|ci| r.get(ci.unwrap()).map(cell_text).unwrap_or_default())
                .collect();
            if values.iter().all(String::is_empty) {
                continue;
            }
            out.push(SheetRow::new(
                start_row + 2 + i as u32,
                keys.clone(),
                &values,
            ));
        }
        Ok(out)
    }

    /// A small deterministic generator (no rand in this crate).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    /// Workbooks with the header away from A1, blank rows and cells, numbers, dates, booleans,
    /// padded strings, columns without a header and columns in another order: the streaming
    /// reader gives exactly what the whole-sheet reader gave.
    #[test]
    fn streaming_reads_as_the_range_reader_did() {
        let s = spec();
        let date = Format::new().set_num_format("yyyy-mm-dd");
        let mut g = Lcg(20261203);
        for case in 0..40 {
            let mut wb = Workbook::new();
            let ws = wb.add_worksheet();
            let (r0, c0) = (g.next(4) as u32, g.next(3) as u16);
            // Columns in a shuffled order, one header with a required marker, one column
            // without a header (ignored) beyond the last.
            let mut order: Vec<usize> = (0..s.columns.len()).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, g.next(i as u64 + 1) as usize);
            }
            for (pos, &ci) in order.iter().enumerate() {
                let label = if case % 3 == 0 && ci == 0 {
                    format!("*{}", s.columns[ci].label)
                } else {
                    s.columns[ci].label.to_string()
                };
                ws.write_string(r0, c0 + pos as u16, label).unwrap();
            }
            let extra = c0 + order.len() as u16;
            for r in 1..=g.next(60) as u32 {
                if g.next(7) == 0 {
                    continue; // a blank row
                }
                let row = r0 + r;
                for pos in 0..=order.len() as u16 {
                    let col = c0 + pos;
                    match g.next(8) {
                        0 => {}
                        1 => {
                            ws.write_number(row, col, g.next(100_000) as f64).unwrap();
                        }
                        2 => {
                            ws.write_number(row, col, g.next(10_000) as f64 / 8.0)
                                .unwrap();
                        }
                        3 => {
                            let dt = rust_xlsxwriter::ExcelDateTime::from_ymd(
                                2000 + g.next(30) as u16,
                                1 + g.next(12) as u8,
                                1 + g.next(28) as u8,
                            )
                            .unwrap();
                            ws.write_datetime_with_format(row, col, &dt, &date).unwrap();
                        }
                        4 => {
                            ws.write_boolean(row, col, g.next(2) == 1).unwrap();
                        }
                        5 => {
                            ws.write_string(row, col, "  ").unwrap();
                        }
                        _ => {
                            ws.write_string(row, col, format!(" 值{} ", g.next(1000)))
                                .unwrap();
                        }
                    }
                }
                if g.next(5) == 0 {
                    ws.write_string(row, extra + 2, "无表头").unwrap();
                }
            }
            let bytes = wb.save_to_buffer().unwrap();
            let want = read_via_range(&s, &bytes).unwrap();
            assert_eq!(read(&s, &bytes).unwrap(), want, "case {case}");
        }
    }

    /// Replace the first sheet's XML of a workbook (rust_xlsxwriter writes `sheet1.xml`).
    fn with_sheet_xml(bytes: &[u8], edit: impl Fn(&str) -> String) -> Vec<u8> {
        use std::io::{Read, Write};
        let mut src = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..src.len() {
            let mut f = src.by_index(i).unwrap();
            let name = f.name().unwrap().to_string();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            if name == "xl/worksheets/sheet1.xml" {
                data = edit(std::str::from_utf8(&data).unwrap()).into_bytes();
            }
            out.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            out.write_all(&data).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    /// Rows are handed out as they are read: the rows before a corrupt cell come first, then
    /// the error; and a read over its row limit stops there, never reaching the corrupt cell.
    #[test]
    fn rows_are_read_as_they_go() {
        let s = spec();
        let rows: Vec<Vec<Cell>> = (0..20)
            .map(|_| vec![Cell::S("张三"), Cell::S("410105199001011234")])
            .collect();
        let good = filled(&rows);
        // The sheet's XML ends in the middle of a cell after row 21.
        let bad = with_sheet_xml(&good, |x| {
            let end = x.find("</sheetData>").unwrap();
            format!("{}<row r=\"30\"><c r=\"A30\"><v>1", &x[..end])
        });
        // The whole-sheet reader knew only the error.
        assert!(read_via_range(&s, &bad).is_err());
        let mut wb = open(&bad).unwrap();
        let got: Vec<Result<SheetRow, SheetError>> = wb.rows(&s).unwrap().collect();
        // Rows 2 to 20, then the error (row 21 was still open when it came: it may be the
        // broken one, so it is not handed out).
        assert_eq!(got.len(), 20);
        assert!(got[..19].iter().all(Result::is_ok));
        assert_eq!(got[18].as_ref().unwrap().row, 20);
        assert!(
            matches!(&got[19], Err(SheetError::Unreadable(m)) if m.contains("损坏")),
            "{:?}",
            got[19]
        );
        // Over the limit: refused at the first row too many, before the corrupt cell.
        let mut wb = open(&bad).unwrap();
        let got: Vec<Result<SheetRow, SheetError>> = wb.rows(&s).unwrap().max_rows(10).collect();
        assert_eq!(got.len(), 11);
        assert!(
            matches!(&got[10], Err(SheetError::TooLarge(m)) if m.contains("数据超过 10 行")),
            "{:?}",
            got[10]
        );
        // Rows out of order are refused, not silently reordered.
        let shuffled = with_sheet_xml(&good, |x| {
            x.replace(
                "</sheetData>",
                r#"<row r="5"><c r="A5" t="inlineStr"><is><t>李四</t></is></c></row></sheetData>"#,
            )
        });
        let e = read(&s, &shuffled).unwrap_err();
        assert!(e.to_string().contains("行顺序"), "{e}");
        // The declared size is only an estimate, read from the sheet's dimension.
        let mut wb = open(&good).unwrap();
        assert_eq!(wb.rows(&s).unwrap().declared_rows(), 20);
    }

    #[test]
    fn numbers_and_dates_as_text() {
        assert_eq!(number_text(88.0), "88");
        assert_eq!(number_text(59.5), "59.5");
        assert_eq!(excel_date(46143.0).unwrap(), "2026-05-01");
        assert_eq!(
            cell_text(&Data::DateTimeIso("2026-05-01T00:00:00".into())),
            "2026-05-01"
        );
    }
}
