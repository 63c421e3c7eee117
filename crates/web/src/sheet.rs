//! Minimal xlsx read/write for the evaluation imports (templates, per-row error reports).
//! To be replaced by the shared `crates/sheets` when it lands on main.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook};

/// Read the first worksheet: checks the header row against `expected` and returns the data rows
/// (as trimmed text, header excluded). Errors are Chinese and name the problem.
pub fn read_xlsx(bytes: &[u8], expected: &[&str]) -> Result<Vec<Vec<String>>, String> {
    if bytes.len() < 4 || &bytes[..2] != b"PK" {
        return Err(
            "上传的文件不是 xlsx 工作簿（文件格式不符或已损坏），请下载模板填写后上传".into(),
        );
    }
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e| format!("无法读取 xlsx 工作簿（文件可能已损坏）：{e}"))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| "工作簿中没有工作表".to_string())?
        .map_err(|e| format!("无法读取第一个工作表（文件可能已损坏）：{e}"))?;
    let mut rows = range.rows();
    let header: Vec<String> = match rows.next() {
        Some(r) => r.iter().map(cell_text).collect(),
        None => return Err("工作表为空：第1行应为表头".into()),
    };
    for (i, want) in expected.iter().enumerate() {
        let got = header.get(i).map(String::as_str).unwrap_or("");
        if got != *want {
            return Err(format!(
                "表头不正确：第{}列应为“{}”，实际为“{}”。请使用平台提供的模板",
                i + 1,
                want,
                got
            ));
        }
    }
    let mut out = vec![];
    for r in rows {
        let cells: Vec<String> = (0..expected.len())
            .map(|i| r.get(i).map(cell_text).unwrap_or_default())
            .collect();
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        out.push(cells);
    }
    Ok(out)
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        other => other.to_string().trim().to_string(),
    }
}

/// A workbook with one sheet: a bold header row, text-formatted columns (so ID numbers keep
/// every digit), and `rows`.
pub fn write_xlsx(sheet: &str, headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(|e| e.to_string())?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (c, h) in headers.iter().enumerate() {
        ws.set_column_format(c as u16, &text)
            .map_err(|e| e.to_string())?;
        ws.set_column_width(c as u16, 18)
            .map_err(|e| e.to_string())?;
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(|e| e.to_string())?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string((r + 1) as u32, c as u16, v)
                .map_err(|e| e.to_string())?;
        }
    }
    wb.save_to_buffer().map_err(|e| e.to_string())
}
