//! PDF documents of the platform: certificates (职业技能等级证书), the 督导责任书 and the
//! 备案回执, all set by one renderer on `pdf-writer` with an embedded subset CJK font
//! (`subsetter` + `ttf-parser`). Output is byte-for-byte reproducible: the same input gives
//! the same file (no dates, deterministic ids and subset tags).

mod certificate;
mod demo;
mod fonts;
mod image;
mod qr;
mod writer;

pub use certificate::{
    chinese_date, render_certificate, Certificate, DEFAULT_BODY, NATIONAL_QUERY_SITES,
};
pub use demo::demo_photo_png;
pub use fonts::{fonts, install_fonts, FontConfig, FontFace, Fonts};
pub use image::{Photo, PhotoFormat};
pub use qr::{qr_code, qr_version};
pub use writer::QR_INFO_KEY;

use writer::{Doc, A4};

/// Why a document could not be made. Messages are Chinese and name the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// A character in none of the configured fonts: never printed as a box or "？".
    #[error("字体中没有字符“{ch}”（U+{code:04X}，见“{text}”）：请在设置中配置包含该字的备用字体（certificate_fallback_font）", code = *ch as u32)]
    MissingGlyph { ch: char, text: String },
    #[error("字体错误：{0}")]
    Font(String),
    #[error("照片错误：{0}")]
    Image(String),
    #[error("二维码错误：{0}")]
    Qr(String),
}

const MARGIN: f32 = 72.0;
const BODY_SIZE: f32 = 12.0;
const LEADING: f32 = 20.0;
const TITLE_SIZE: f32 = 20.0;

/// Width of a character in em for [`wrap`]: CJK and full-width forms are 1, ASCII is 1/2.
fn char_em(c: char) -> f32 {
    if (c as u32) < 0x80 {
        0.5
    } else {
        1.0
    }
}

/// Break `text` into lines no wider than `max_em` (estimated widths), keeping explicit line
/// breaks. The renderer wraps by the font's real widths; this stays for plain-text callers.
pub fn wrap(text: &str, max_em: f32) -> Vec<String> {
    let mut out = vec![];
    for para in text.lines() {
        let mut line = String::new();
        let mut width = 0.0;
        for c in para.chars() {
            let w = char_em(c);
            if width + w > max_em && !line.is_empty() {
                out.push(std::mem::take(&mut line));
                width = 0.0;
            }
            line.push(c);
            width += w;
        }
        out.push(line);
    }
    out
}

/// A one-column A4 document: a centred title and body text, paginated, with a footer line
/// on every page (e.g. the document hash) and page numbers; set in the process fonts.
pub fn try_text_document(title: &str, body: &str, footer: &str) -> Result<Vec<u8>, PdfError> {
    text_document_with(fonts(), title, body, footer)
}

/// [`try_text_document`] with the given fonts.
pub fn text_document_with(
    fonts: &Fonts,
    title: &str,
    body: &str,
    footer: &str,
) -> Result<Vec<u8>, PdfError> {
    let (pw, ph) = A4;
    let mut doc = Doc::new(fonts, title);
    doc.check(title)?;
    doc.check(footer)?;
    let lines = doc.wrap(body, BODY_SIZE, pw - 2.0 * MARGIN)?;
    let first_top = ph - MARGIN - TITLE_SIZE - 24.0;
    let per_first = ((first_top - MARGIN - 30.0) / LEADING) as usize;
    let per_page = ((ph - 2.0 * MARGIN - 30.0) / LEADING) as usize;
    let mut pages: Vec<&[String]> = vec![];
    let mut rest = &lines[..];
    let mut cap = per_first;
    while !rest.is_empty() || pages.is_empty() {
        let n = rest.len().min(cap.max(1));
        pages.push(&rest[..n]);
        rest = &rest[n..];
        cap = per_page;
    }
    let total = pages.len();
    for (i, lines) in pages.iter().enumerate() {
        let p = doc.add_page();
        let mut top = ph - MARGIN;
        if i == 0 {
            doc.text_centered(p, pw / 2.0, top - TITLE_SIZE, TITLE_SIZE, 0.0, title)?;
            top = first_top;
        }
        for (n, line) in lines.iter().enumerate() {
            doc.text(p, MARGIN, top - n as f32 * LEADING, BODY_SIZE, line)?;
        }
        let foot = format!("{footer}    第 {} 页 / 共 {total} 页", i + 1);
        doc.text(p, MARGIN, MARGIN - 30.0, 8.0, &foot)?;
    }
    doc.finish()
}

/// The 督导责任书 and other letters (signature kept from the first renderer). A character that
/// no font has cannot be printed; rather than hide it, it is written as its code point
/// "[U+XXXX]" — callers that can report errors use [`try_text_document`].
pub fn text_document(title: &str, body: &str, footer: &str) -> Vec<u8> {
    match try_text_document(title, body, footer) {
        Ok(pdf) => pdf,
        Err(_) => {
            let f = fonts();
            let doc = Doc::new(f, title);
            let visible = |s: &str| -> String {
                s.chars()
                    .map(|c| {
                        if c == '\n' || doc.check(c.encode_utf8(&mut [0; 4])).is_ok() {
                            c.to_string()
                        } else {
                            format!("[U+{:04X}]", c as u32)
                        }
                    })
                    .collect()
            };
            text_document_with(f, &visible(title), &visible(body), &visible(footer))
                .expect("every character is now printable")
        }
    }
}

/// 备案回执: what the receipt page shows, as a PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilingReceipt {
    pub filing_no: String,
    /// 备案日期, as shown (e.g. 2026年12月2日).
    pub filed_on: String,
    /// (label, value): 机构名称, 统一社会信用代码, 备案类型, 属地.
    pub props: Vec<(String, String)>,
    /// (code, name, levels) of each filed occupation.
    pub items: Vec<(String, String, String)>,
    /// The closing statement (legal basis) and the issuing offices.
    pub statement: String,
    pub issuers: String,
}

/// Renders the 备案回执 as a one-page A4 PDF (more pages when it has many occupations).
pub fn render_filing_receipt(r: &FilingReceipt, fonts: &Fonts) -> Result<Vec<u8>, PdfError> {
    let (pw, ph) = A4;
    let title = "职业技能等级评价机构备案回执";
    let mut doc = Doc::new(fonts, &format!("{title} {}", r.filing_no));
    let mut p = doc.add_page();
    let left = MARGIN;
    let right = pw - MARGIN;
    let mut y = ph - MARGIN - 20.0;
    doc.text_centered(p, pw / 2.0, y, 20.0, 2.0, title)?;
    y -= 28.0;
    doc.text_centered(
        p,
        pw / 2.0,
        y,
        11.0,
        0.0,
        &format!("备案编号：{}", r.filing_no),
    )?;
    y -= 36.0;
    for (k, v) in &r.props {
        doc.text(p, left, y, BODY_SIZE, &format!("{k}："))?;
        let lw = doc.width("统一社会信用代码：", BODY_SIZE, 0.0)?;
        doc.text(p, left + lw, y, BODY_SIZE, v)?;
        y -= LEADING + 2.0;
    }
    y -= 10.0;
    // Table of occupations with ruled rows.
    let cols = [left, left + 130.0, left + 300.0, right];
    let header = ["职业（工种）/项目代码", "名称", "备案等级"];
    let row = |doc: &mut Doc<'_>, p: usize, y: f32, cells: [&str; 3]| -> Result<(), PdfError> {
        for (i, t) in cells.iter().enumerate() {
            let max = cols[i + 1] - cols[i] - 8.0;
            let w = doc.width(t, 11.0, 0.0)?;
            let s = if w > max { 11.0 * max / w } else { 11.0 };
            doc.text(p, cols[i] + 4.0, y, s, t)?;
        }
        let k = doc.content(p);
        k.save_state();
        k.set_line_width(0.5).set_stroke_gray(0.4);
        k.move_to(left, y - 7.0).line_to(right, y - 7.0).stroke();
        k.restore_state();
        Ok(())
    };
    {
        let k = doc.content(p);
        k.save_state();
        k.set_line_width(0.8).set_stroke_gray(0.2);
        k.move_to(left, y + 14.0).line_to(right, y + 14.0).stroke();
        k.restore_state();
    }
    row(&mut doc, p, y, header)?;
    y -= 22.0;
    for (c, n, l) in &r.items {
        if y < MARGIN + 120.0 {
            p = doc.add_page();
            y = ph - MARGIN;
        }
        row(&mut doc, p, y, [c, n, l])?;
        y -= 22.0;
    }
    y -= 16.0;
    let body = format!("\u{3000}\u{3000}{}", r.statement.trim());
    for line in doc.wrap(&body, BODY_SIZE, right - left)? {
        doc.text(p, left, y, BODY_SIZE, &line)?;
        y -= LEADING;
    }
    y -= 24.0;
    for line in r.issuers.lines() {
        doc.text_right(p, right, y, BODY_SIZE, line)?;
        y -= LEADING;
    }
    doc.text_right(p, right, y, BODY_SIZE, &r.filed_on)?;
    doc.finish()
}

/// The QR text stored in a certificate PDF made here (the `/SkillevalQR` entry of its
/// information dictionary), or `None` for any other PDF.
pub fn extract_qr_text(pdf: &[u8]) -> Option<String> {
    if !pdf.starts_with(b"%PDF-") {
        return None;
    }
    let key = format!("/{QR_INFO_KEY} (");
    let at = pdf.windows(key.len()).rposition(|w| w == key.as_bytes())?;
    let rest = &pdf[at + key.len()..];
    let end = rest.iter().position(|b| *b == b')')?;
    let text = std::str::from_utf8(&rest[..end]).ok()?;
    // Our QR texts are plain URLs: no escapes, no parentheses.
    (!text.contains('\\') && !text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests;
