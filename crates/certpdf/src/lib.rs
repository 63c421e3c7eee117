//! Minimal, dependency-free PDF writer for Chinese text documents (督导责任书 and the like).
//!
//! Text uses the standard Adobe-GB1 CID font `STSong-Light` with the `UniGB-UCS2-H` encoding,
//! which every conforming reader supplies, so no font is embedded and the file stays small.
//! Output is deterministic: the same input gives the same bytes. Certificates, which need an
//! embedded font, a photo and a QR code, will get a richer renderer in this crate.

use std::fmt::Write;

const PAGE_W: f32 = 595.0; // A4 in points
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 72.0;
const BODY_SIZE: f32 = 12.0;
const LEADING: f32 = 20.0;
const TITLE_SIZE: f32 = 20.0;

/// Width of a character in em: CJK and full-width forms are 1, ASCII is 1/2.
fn char_em(c: char) -> f32 {
    if (c as u32) < 0x80 {
        0.5
    } else {
        1.0
    }
}

/// Break `text` into lines no wider than `max_em`, keeping explicit line breaks.
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

/// UTF-16BE hex string for a PDF text operand. Characters outside the BMP (none in practice)
/// are replaced by a full-width question mark rather than dropped silently.
fn hex_ucs2(s: &str) -> String {
    let mut h = String::with_capacity(s.len() * 4 + 2);
    h.push('<');
    for c in s.chars() {
        let code = if (c as u32) <= 0xFFFF {
            c as u32
        } else {
            0xFF1F
        };
        let _ = write!(h, "{code:04X}");
    }
    h.push('>');
    h
}

/// A one-column A4 document: a centred title and body text, paginated, with a footer line on
/// every page (e.g. the document hash) and page numbers.
pub fn text_document(title: &str, body: &str, footer: &str) -> Vec<u8> {
    let max_em = (PAGE_W - 2.0 * MARGIN) / BODY_SIZE;
    let lines = wrap(body, max_em);
    let first_top = PAGE_H - MARGIN - TITLE_SIZE - 24.0;
    let per_first = ((first_top - MARGIN - 30.0) / LEADING) as usize;
    let per_page = ((PAGE_H - 2.0 * MARGIN - 30.0) / LEADING) as usize;
    let mut pages: Vec<Vec<String>> = vec![];
    let mut rest = &lines[..];
    let mut cap = per_first;
    while !rest.is_empty() || pages.is_empty() {
        let n = rest.len().min(cap.max(1));
        pages.push(rest[..n].to_vec());
        rest = &rest[n..];
        cap = per_page;
    }
    let total = pages.len();
    let mut streams = vec![];
    for (i, page) in pages.iter().enumerate() {
        let mut s = String::new();
        s.push_str("BT\n");
        let mut top = PAGE_H - MARGIN;
        if i == 0 {
            let title_w: f32 = title.chars().map(char_em).sum::<f32>() * TITLE_SIZE;
            let x = ((PAGE_W - title_w) / 2.0).max(MARGIN);
            let _ = writeln!(
                s,
                "/F1 {TITLE_SIZE} Tf 1 0 0 1 {x:.1} {:.1} Tm {} Tj",
                top - TITLE_SIZE,
                hex_ucs2(title)
            );
            top = first_top;
        }
        let _ = writeln!(
            s,
            "/F1 {BODY_SIZE} Tf {LEADING} TL 1 0 0 1 {MARGIN} {top:.1} Tm"
        );
        for line in page {
            let _ = writeln!(s, "{} Tj T*", hex_ucs2(line));
        }
        let foot = format!("{footer}    第 {} 页 / 共 {total} 页", i + 1);
        let _ = writeln!(
            s,
            "/F1 8 Tf 1 0 0 1 {MARGIN} {:.1} Tm {} Tj",
            MARGIN - 30.0,
            hex_ucs2(&foot)
        );
        s.push_str("ET\n");
        streams.push(s);
    }
    assemble(&streams)
}

fn assemble(streams: &[String]) -> Vec<u8> {
    // Objects: 1 catalog, 2 pages, 3 font, 4 CID font, 5 descriptor, then (page, content) pairs.
    let n = streams.len();
    let page_ids: Vec<usize> = (0..n).map(|i| 6 + 2 * i).collect();
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {n} >>",
            page_ids.iter().map(|id| format!("{id} 0 R")).collect::<Vec<_>>().join(" ")
        ),
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [4 0 R] >>".into(),
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 5 0 R /DW 1000 /W [1 95 500 814 939 500] >>".into(),
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>".into(),
    ];
    for (i, s) in streams.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            page_ids[i] + 1
        ));
        objects.push(format!("<< /Length {} >>\nstream\n{s}endstream", s.len()));
    }
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = vec![];
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let mut x = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        let _ = writeln!(x, "{off:010} 00000 n ");
    }
    let _ = write!(
        x,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(x.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_by_width_and_keeps_line_breaks() {
        let lines = wrap("一二三四五\nabcdefgh", 3.0);
        assert_eq!(lines, vec!["一二三", "四五", "abcdef", "gh"]);
    }

    #[test]
    fn document_is_a_well_formed_pdf() {
        let pdf = text_document("督导责任书", "评价机构：测试\n签字：", "SHA-256 abc");
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/STSong-Light"));
        // 督 = U+7763 appears UTF-16 encoded in the title.
        assert!(text.contains("<77635BFC8D234EFB4E66>"));
        // The xref offset points at the xref table.
        let tail = &text[text.rfind("startxref\n").unwrap() + 10..];
        let off: usize = tail.lines().next().unwrap().parse().unwrap();
        assert!(pdf[off..].starts_with(b"xref"));
    }

    #[test]
    fn long_bodies_paginate_and_are_deterministic() {
        let body = (1..=200)
            .map(|i| format!("第{i}行"))
            .collect::<Vec<_>>()
            .join("\n");
        let a = text_document("标题", &body, "f");
        assert_eq!(a, text_document("标题", &body, "f"));
        let text = String::from_utf8_lossy(&a);
        assert!(
            text.contains("/Count 6") || text.contains("/Count 7"),
            "several pages"
        );
    }
}
