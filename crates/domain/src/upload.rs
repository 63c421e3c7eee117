//! Uploaded materials (材料上传): the type of a file is detected from its content (magic bytes),
//! never from its name; the declared extension must agree with the content; names are
//! sanitised; sizes are limited. Pure functions, no I/O.
//!
//! Accepted: PDF, PNG, JPEG, Office Open XML (docx / xlsx / pptx) and legacy OLE Office files
//! (doc / xls / ppt). Refused: executables and anything not recognised.

use crate::account::FieldError;

/// The form field every upload error names.
pub const FIELD: &str = "file";

/// Longest stored file name, in characters (the extension is kept when shortening).
pub const MAX_FILENAME_CHARS: usize = 120;

/// A file type the platform accepts, detected from the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    Docx,
    Xlsx,
    Pptx,
    /// A zip with `[Content_Types].xml` whose part names did not say which Office program.
    OfficeOpenXml,
    /// OLE compound file (`D0 CF 11 E0`): doc, xls or ppt; the program is not distinguished.
    LegacyOffice,
}

impl FileKind {
    /// The MIME type sent back on download.
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            FileKind::OfficeOpenXml | FileKind::LegacyOffice => "application/octet-stream",
        }
    }

    /// Extensions (lower case, without the dot) that may carry this content.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileKind::Pdf => &["pdf"],
            FileKind::Png => &["png"],
            FileKind::Jpeg => &["jpg", "jpeg"],
            FileKind::Docx => &["docx"],
            FileKind::Xlsx => &["xlsx"],
            FileKind::Pptx => &["pptx"],
            FileKind::OfficeOpenXml => &["docx", "xlsx", "pptx"],
            FileKind::LegacyOffice => &["doc", "xls", "ppt"],
        }
    }

    /// Chinese name for messages.
    pub fn label(self) -> &'static str {
        match self {
            FileKind::Pdf => "PDF 文档",
            FileKind::Png => "PNG 图片",
            FileKind::Jpeg => "JPEG 图片",
            FileKind::Docx => "Word 文档（docx）",
            FileKind::Xlsx => "Excel 表格（xlsx）",
            FileKind::Pptx => "PowerPoint 演示文稿（pptx）",
            FileKind::OfficeOpenXml => "Office 文档",
            FileKind::LegacyOffice => "旧版 Office 文档（doc/xls/ppt）",
        }
    }
}

const ACCEPTED: &str = "仅接受 PDF、PNG、JPEG、Word、Excel、PowerPoint 文件";

fn unsupported(what: &str) -> FieldError {
    FieldError::new(FIELD, format!("文件类型不受支持：{what}（{ACCEPTED}）"))
}

/// Detect the type from the first bytes (and, for zips, the part names). Executables and
/// anything unknown are refused with "文件类型不受支持：…".
pub fn detect(bytes: &[u8]) -> Result<FileKind, FieldError> {
    if bytes.is_empty() {
        return Err(FieldError::new(FIELD, "文件为空"));
    }
    if bytes.starts_with(b"%PDF-") {
        return Ok(FileKind::Pdf);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(FileKind::Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(FileKind::Jpeg);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Ok(FileKind::LegacyOffice);
    }
    if bytes.starts_with(b"MZ") {
        return Err(unsupported("Windows 可执行程序"));
    }
    if bytes.starts_with(b"\x7fELF") {
        return Err(unsupported("Linux 可执行程序"));
    }
    if bytes.starts_with(&[0xCF, 0xFA, 0xED, 0xFE]) || bytes.starts_with(&[0xFE, 0xED, 0xFA, 0xCF])
    {
        return Err(unsupported("macOS 可执行程序"));
    }
    if bytes.starts_with(b"#!") {
        return Err(unsupported("脚本文件"));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        let names = zip_entry_names(bytes);
        if !names.iter().any(|n| n == "[Content_Types].xml") {
            return Err(unsupported("ZIP 压缩包"));
        }
        let has = |prefix: &str| names.iter().any(|n| n.starts_with(prefix));
        return Ok(if has("word/") {
            FileKind::Docx
        } else if has("xl/") {
            FileKind::Xlsx
        } else if has("ppt/") {
            FileKind::Pptx
        } else {
            FileKind::OfficeOpenXml
        });
    }
    Err(unsupported("无法识别的文件内容"))
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// Names of the entries of a zip, read from the central directory (cheap: no decompression).
/// Falls back to walking the local headers when the central directory cannot be found. At most
/// 10,000 names; malformed input gives what could be read, never a panic.
fn zip_entry_names(b: &[u8]) -> Vec<String> {
    const LIMIT: usize = 10_000;
    let mut names = Vec::new();
    // End of central directory: signature PK\x05\x06 within the last 64 KiB + 22 bytes.
    let tail_start = b.len().saturating_sub(65_557);
    let eocd = (tail_start..b.len().saturating_sub(21))
        .rev()
        .find(|&i| b[i..].starts_with(b"PK\x05\x06"));
    if let Some(e) = eocd {
        if let (Some(count), Some(mut at)) = (u16_at(b, e + 10), u32_at(b, e + 16)) {
            for _ in 0..count.min(LIMIT) {
                if !b.get(at..).is_some_and(|s| s.starts_with(b"PK\x01\x02")) {
                    break;
                }
                let (Some(n), Some(x), Some(c)) =
                    (u16_at(b, at + 28), u16_at(b, at + 30), u16_at(b, at + 32))
                else {
                    break;
                };
                match b.get(at + 46..at + 46 + n) {
                    Some(name) => names.push(String::from_utf8_lossy(name).into_owned()),
                    None => break,
                }
                at += 46 + n + x + c;
            }
            if !names.is_empty() {
                return names;
            }
        }
    }
    // Local headers: stop at the first entry whose size is only in a data descriptor.
    let mut at = 0;
    while names.len() < LIMIT && b.get(at..).is_some_and(|s| s.starts_with(b"PK\x03\x04")) {
        let (Some(flags), Some(size), Some(n), Some(x)) = (
            u16_at(b, at + 6),
            u32_at(b, at + 18),
            u16_at(b, at + 26),
            u16_at(b, at + 28),
        ) else {
            break;
        };
        match b.get(at + 30..at + 30 + n) {
            Some(name) => names.push(String::from_utf8_lossy(name).into_owned()),
            None => break,
        }
        if flags & 0x08 != 0 {
            break;
        }
        at += 30 + n + x + size;
    }
    names
}

/// The lower-case extension of a file name, without the dot.
pub fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        return None;
    }
    Some(ext.to_lowercase())
}

/// Make a client-supplied file name safe to store and to send back: the directory part is
/// stripped (browsers on Windows may send `C:\…\a.pdf`), names containing `..` or control
/// characters are refused, characters Windows forbids become `_`, and long names are shortened
/// to 120 characters keeping the extension. Chinese is kept.
pub fn sanitize_filename(raw: &str) -> Result<String, FieldError> {
    if raw.contains("..") {
        return Err(FieldError::new(FIELD, "文件名不能包含“..”"));
    }
    if raw.chars().any(char::is_control) {
        return Err(FieldError::new(FIELD, "文件名不能包含控制字符"));
    }
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        return Err(FieldError::new(FIELD, "文件名不能为空"));
    }
    if cleaned.chars().count() <= MAX_FILENAME_CHARS {
        return Ok(cleaned);
    }
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && e.chars().count() <= 10 => (s.to_string(), e.to_string()),
        _ => (cleaned.clone(), String::new()),
    };
    let keep = MAX_FILENAME_CHARS
        - if ext.is_empty() {
            0
        } else {
            ext.chars().count() + 1
        };
    let mut short: String = stem.chars().take(keep).collect();
    if !ext.is_empty() {
        short.push('.');
        short.push_str(&ext);
    }
    Ok(short)
}

fn mb(bytes: u64) -> String {
    let v = bytes as f64 / (1024.0 * 1024.0);
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The message for a file over the limit: "文件超过 N MB 上限".
pub fn too_large_message(max_bytes: u64) -> String {
    format!("文件超过 {} MB 上限", mb(max_bytes))
}

/// Refuse a declared (or counted) length over `max_bytes`.
pub fn check_size(len: u64, max_bytes: u64) -> Result<(), FieldError> {
    if len > max_bytes {
        Err(FieldError::new(FIELD, too_large_message(max_bytes)))
    } else {
        Ok(())
    }
}

/// Counts the bytes of a stream as they arrive and refuses as soon as the limit is passed, so
/// an oversized upload is never held in memory.
#[derive(Debug, Clone, Copy)]
pub struct SizeCounter {
    pub max_bytes: u64,
    pub seen: u64,
}

impl SizeCounter {
    pub fn new(max_bytes: u64) -> SizeCounter {
        SizeCounter { max_bytes, seen: 0 }
    }

    /// Add a chunk's length; an error once the total exceeds the limit.
    pub fn add(&mut self, chunk_len: usize) -> Result<(), FieldError> {
        self.seen = self.seen.saturating_add(chunk_len as u64);
        check_size(self.seen, self.max_bytes)
    }
}

/// An upload that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedUpload {
    /// The sanitised name to store.
    pub filename: String,
    pub kind: FileKind,
}

/// All checks in order: size, name, content type, extension agreement.
pub fn check_upload(
    raw_name: &str,
    bytes: &[u8],
    max_bytes: u64,
) -> Result<CheckedUpload, FieldError> {
    check_size(bytes.len() as u64, max_bytes)?;
    let filename = sanitize_filename(raw_name)?;
    let kind = detect(bytes)?;
    let ext = extension(&filename).ok_or_else(|| {
        FieldError::new(
            FIELD,
            format!(
                "文件内容与扩展名不符：内容为{}，文件名缺少扩展名",
                kind.label()
            ),
        )
    })?;
    if !kind.extensions().contains(&ext.as_str()) {
        return Err(FieldError::new(
            FIELD,
            format!(
                "文件内容与扩展名不符：内容为{}，扩展名为 .{ext}",
                kind.label()
            ),
        ));
    }
    Ok(CheckedUpload { filename, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    const MB20: u64 = 20 * 1024 * 1024;

    /// A minimal stored (uncompressed) zip with the given entry names, with a central directory.
    fn zip(names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for name in names {
            let offset = out.len() as u32;
            let data = b"x";
            let mut local = b"PK\x03\x04".to_vec();
            local.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method, time, date
            local.extend_from_slice(&0u32.to_le_bytes()); // crc (unchecked here)
            local.extend_from_slice(&(data.len() as u32).to_le_bytes());
            local.extend_from_slice(&(data.len() as u32).to_le_bytes());
            local.extend_from_slice(&(name.len() as u16).to_le_bytes());
            local.extend_from_slice(&0u16.to_le_bytes());
            local.extend_from_slice(name.as_bytes());
            local.extend_from_slice(data);
            out.extend_from_slice(&local);
            let mut c = b"PK\x01\x02".to_vec();
            c.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            c.extend_from_slice(&0u32.to_le_bytes());
            c.extend_from_slice(&(data.len() as u32).to_le_bytes());
            c.extend_from_slice(&(data.len() as u32).to_le_bytes());
            c.extend_from_slice(&(name.len() as u16).to_le_bytes());
            c.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // extra, comment, disk, attrs
            c.extend_from_slice(&offset.to_le_bytes());
            c.extend_from_slice(name.as_bytes());
            central.extend_from_slice(&c);
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    #[test]
    fn detects_pdf_png_jpeg() {
        assert_eq!(detect(PDF).unwrap(), FileKind::Pdf);
        assert_eq!(
            detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap(),
            FileKind::Png
        );
        assert_eq!(
            detect(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]).unwrap(),
            FileKind::Jpeg
        );
    }

    #[test]
    fn detects_office_open_xml_by_part_names() {
        let docx = zip(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]);
        let xlsx = zip(&["[Content_Types].xml", "xl/workbook.xml"]);
        let pptx = zip(&["[Content_Types].xml", "ppt/presentation.xml"]);
        assert_eq!(detect(&docx).unwrap(), FileKind::Docx);
        assert_eq!(detect(&xlsx).unwrap(), FileKind::Xlsx);
        assert_eq!(detect(&pptx).unwrap(), FileKind::Pptx);
        assert_eq!(
            detect(&zip(&["[Content_Types].xml", "other/x.xml"])).unwrap(),
            FileKind::OfficeOpenXml
        );
    }

    #[test]
    fn plain_zip_is_refused() {
        let e = detect(&zip(&["readme.txt", "setup.exe"])).unwrap_err();
        assert!(e.message.starts_with("文件类型不受支持：ZIP"), "{e}");
    }

    #[test]
    fn detects_legacy_office() {
        let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
        assert_eq!(detect(&ole).unwrap(), FileKind::LegacyOffice);
        assert!(check_upload("旧表.xls", &ole, MB20).is_ok());
        assert!(check_upload("旧文.doc", &ole, MB20).is_ok());
    }

    #[test]
    fn executables_and_unknown_are_refused() {
        for bytes in [
            &b"MZ\x90\0\x03\0\0\0"[..],
            &b"\x7fELF\x02\x01\x01"[..],
            &b"hello, plain text"[..],
            &b"#!/bin/sh\nrm -rf /"[..],
        ] {
            let e = detect(bytes).unwrap_err();
            assert_eq!(e.field, FIELD);
            assert!(e.message.starts_with("文件类型不受支持："), "{e}");
        }
        assert_eq!(detect(b"").unwrap_err().message, "文件为空");
    }

    #[test]
    fn exe_renamed_pdf_is_refused() {
        let e = check_upload("营业执照.pdf", b"MZ\x90\0\x03", MB20).unwrap_err();
        assert!(e.message.contains("文件类型不受支持"), "{e}");
        // A real PDF named .docx: the content decides, and the name must agree.
        let e = check_upload("申请书.docx", PDF, MB20).unwrap_err();
        assert!(e.message.starts_with("文件内容与扩展名不符"), "{e}");
        let e = check_upload("申请书", PDF, MB20).unwrap_err();
        assert!(e.message.starts_with("文件内容与扩展名不符"), "{e}");
        let ok = check_upload("申请书.PDF", PDF, MB20).unwrap();
        assert_eq!(ok.kind, FileKind::Pdf);
        assert_eq!(ok.filename, "申请书.PDF");
    }

    #[test]
    fn sanitize_strips_directories_and_keeps_chinese() {
        assert_eq!(
            sanitize_filename("C:\\Users\\张三\\营业执照 副本.pdf").unwrap(),
            "营业执照 副本.pdf"
        );
        assert_eq!(sanitize_filename("/tmp/a/b.pdf").unwrap(), "b.pdf");
        assert_eq!(sanitize_filename("a<b>?.pdf").unwrap(), "a_b__.pdf");
    }

    #[test]
    fn sanitize_refuses_dotdot_control_and_empty() {
        assert!(sanitize_filename("../../etc/passwd")
            .unwrap_err()
            .message
            .contains(".."));
        assert!(sanitize_filename("..\\x.pdf").is_err());
        assert!(sanitize_filename("a\nb.pdf")
            .unwrap_err()
            .message
            .contains("控制字符"));
        assert!(sanitize_filename("a\0.pdf").is_err());
        assert_eq!(sanitize_filename("").unwrap_err().message, "文件名不能为空");
        assert!(sanitize_filename("  ").is_err());
        assert!(sanitize_filename("dir/").is_err());
    }

    #[test]
    fn sanitize_shortens_to_120_chars_keeping_extension() {
        let long = format!("{}.pdf", "材".repeat(300));
        let s = sanitize_filename(&long).unwrap();
        assert_eq!(s.chars().count(), MAX_FILENAME_CHARS);
        assert!(s.ends_with(".pdf"));
    }

    #[test]
    fn size_limit_message() {
        let e = check_size(MB20 + 1, MB20).unwrap_err();
        assert_eq!(e.message, "文件超过 20 MB 上限");
        assert!(check_size(MB20, MB20).is_ok());
        assert!(check_upload("a.pdf", PDF, 10).is_err());
    }

    #[test]
    fn upload_of_200_mb_is_refused_without_holding_it() {
        // The declared length alone is enough to refuse.
        assert!(check_size(200 * 1024 * 1024, MB20).is_err());
        // Streaming: count 200 chunks of 1 MB from one reused buffer; refused at the 21st chunk.
        let chunk = vec![0u8; 1024 * 1024];
        let mut counter = SizeCounter::new(MB20);
        let mut refused_at = None;
        for i in 1..=200 {
            if let Err(e) = counter.add(chunk.len()) {
                assert_eq!(e.message, "文件超过 20 MB 上限");
                refused_at = Some(i);
                break;
            }
        }
        assert_eq!(refused_at, Some(21));
    }

    #[test]
    fn malformed_zip_never_panics() {
        let mut z = zip(&["[Content_Types].xml", "word/document.xml"]);
        let n = z.len();
        // Corrupt the central-directory offset and count.
        z[n - 6..n - 2].copy_from_slice(&u32::MAX.to_le_bytes());
        let _ = detect(&z);
        for cut in 0..z.len() {
            let _ = detect(&z[..cut]);
        }
        let _ = detect(b"PK\x03\x04\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff");
    }
}
