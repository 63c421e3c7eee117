//! 二维码: a QR code at error-correction level M, drawn as vector rectangles (one per run of
//! dark modules in a row), so it stays sharp at any print resolution.

use pdf_writer::Content;
pub use qrcodegen::{QrCode, QrCodeEcc};
use qrcodegen::{QrSegment, Version};

use crate::PdfError;

/// A run of digits at least this long goes in numeric mode (10 bits per 3 digits instead of 8 per
/// character); a shorter one is not worth the 38 bits of a mode switch and back.
const NUMERIC_RUN: usize = 9;

/// Segments for `text`: byte mode, with every long run of ASCII digits in numeric mode. Our QR
/// texts are a URL followed by a long digit string (the COSE payload in base 10), which this packs
/// as tightly as an optimal segmentation would.
fn segments(text: &str) -> Vec<QrSegment> {
    let mut segs = vec![];
    let b = text.as_bytes();
    let mut plain = 0; // start of the pending byte-mode run
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - start >= NUMERIC_RUN {
                if plain < start {
                    segs.push(QrSegment::make_bytes(&b[plain..start]));
                }
                segs.push(QrSegment::make_numeric(&text[start..i]));
                plain = i;
            }
        } else {
            i += 1;
        }
    }
    if plain < b.len() || segs.is_empty() {
        segs.push(QrSegment::make_bytes(&b[plain..]));
    }
    segs
}

/// Encodes `text` at level M in the smallest version, the mask chosen by the standard's penalty
/// rules. (qrcodegen rather than the `qrcode` crate: its mask selection took ≈ 3.7 ms of a
/// certificate's ≈ 15 ms, decision 131.)
pub fn qr_code(text: &str) -> Result<QrCode, PdfError> {
    QrCode::encode_segments_advanced(
        &segments(text),
        QrCodeEcc::Medium,
        Version::MIN,
        Version::MAX,
        None,
        false,
    )
    .map_err(|e| PdfError::Qr(format!("二维码内容无法编码（{e}）")))
}

/// The QR version (1–40) that `text` needs at level M.
pub fn qr_version(text: &str) -> Result<i16, PdfError> {
    Ok(qr_code(text)?.version().value() as i16)
}

/// Draws `code` with its lower-left corner at (x, y), `size` points wide (without the quiet
/// zone: keep 4 modules of white around it).
pub(crate) fn draw(c: &mut Content, code: &QrCode, x: f32, y: f32, size: f32) {
    let n = code.size() as usize;
    let m = size / n as f32;
    let dark = |row: usize, col: usize| code.get_module(col as i32, row as i32);
    c.save_state();
    c.set_fill_gray(0.0);
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if dark(row, col) {
                let start = col;
                while col < n && dark(row, col) {
                    col += 1;
                }
                // A hair wider and taller than the module so that neighbours never show seams.
                c.rect(
                    x + start as f32 * m,
                    y + (n - 1 - row) as f32 * m,
                    (col - start) as f32 * m + 0.02,
                    m + 0.02,
                );
            } else {
                col += 1;
            }
        }
    }
    c.fill_nonzero();
    c.restore_state();
}
