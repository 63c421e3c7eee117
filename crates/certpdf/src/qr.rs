//! 二维码: a QR code at error-correction level M, drawn as vector rectangles (one per run of
//! dark modules in a row), so it stays sharp at any print resolution.

use pdf_writer::Content;
use qrcode::{Color, EcLevel, QrCode, Version};

use crate::PdfError;

/// Encodes `text` at level M in the smallest version (the encoder picks byte, alphanumeric and
/// numeric segments optimally: the long digit string of our QR texts goes in numeric mode).
pub fn qr_code(text: &str) -> Result<QrCode, PdfError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| PdfError::Qr(format!("二维码内容无法编码（{e}）")))
}

/// The QR version (1–40) that `text` needs at level M.
pub fn qr_version(text: &str) -> Result<i16, PdfError> {
    match qr_code(text)?.version() {
        Version::Normal(v) => Ok(v),
        Version::Micro(v) => Ok(v),
    }
}

/// Draws `code` with its lower-left corner at (x, y), `size` points wide (without the quiet
/// zone: keep 4 modules of white around it).
pub(crate) fn draw(c: &mut Content, code: &QrCode, x: f32, y: f32, size: f32) {
    let n = code.width();
    let m = size / n as f32;
    let colors = code.to_colors();
    c.save_state();
    c.set_fill_gray(0.0);
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if colors[row * n + col] == Color::Dark {
                let start = col;
                while col < n && colors[row * n + col] == Color::Dark {
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
