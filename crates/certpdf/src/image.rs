//! 照片: a JPEG (embedded as it is, DCTDecode) or a PNG (decoded, alpha flattened on white,
//! embedded Flate-compressed). An 8-bit RGB or gray PNG without interlacing is checked by
//! decoding it and then embedded with its own compressed data (PDF's Flate filter with PNG
//! predictors reads it as it is): deflating the pixels again took ≈ 1.2 ms a certificate.

use pdf_writer::{Filter, Pdf, Ref};

use crate::PdfError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoFormat {
    Jpeg,
    Png,
}

/// An image ready to embed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub format: PhotoFormat,
    pub width: u32,
    pub height: u32,
    /// JPEG: the file; PNG: 8-bit RGB or gray samples.
    data: Vec<u8>,
    components: u8,
    /// PNG whose zlib stream (its IDAT chunks joined) PDF can read as it is.
    png_stream: Option<Vec<u8>>,
}

/// The zlib stream of a PNG: its IDAT chunks' data, in order. `None` if the chunks are malformed.
fn png_idat(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![];
    let mut i = 8;
    while i + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[i..i + 4].try_into().ok()?) as usize;
        let kind = &bytes[i + 4..i + 8];
        let data = bytes.get(i + 8..(i + 8).checked_add(len)?)?;
        if kind == b"IDAT" {
            out.extend_from_slice(data);
        } else if kind == b"IEND" {
            break;
        }
        i = i.checked_add(12 + len)?;
    }
    (!out.is_empty()).then_some(out)
}

fn jpeg_size(b: &[u8]) -> Result<(u32, u32, u8), PdfError> {
    let bad = |m: &str| PdfError::Image(format!("JPEG 文件损坏：{m}"));
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return Err(bad("标记错误"));
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if (0xD0..=0xD9).contains(&marker) || marker == 0x01 {
            i += 2;
            continue;
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let s = b.get(i + 4..i + 9).ok_or_else(|| bad("缺少尺寸"))?;
            let h = u16::from_be_bytes([s[1], s[2]]) as u32;
            let w = u16::from_be_bytes([s[3], s[4]]) as u32;
            let n = *b.get(i + 9).ok_or_else(|| bad("缺少颜色分量"))?;
            if s[0] != 8 {
                return Err(PdfError::Image("照片应为8位 JPEG".into()));
            }
            if !matches!(n, 1 | 3) {
                return Err(PdfError::Image(
                    "照片应为彩色（RGB）或灰度 JPEG，不支持 CMYK".into(),
                ));
            }
            if w == 0 || h == 0 {
                return Err(bad("尺寸为0"));
            }
            return Ok((w, h, n));
        }
        i += 2 + len;
    }
    Err(bad("找不到图像尺寸"))
}

impl Photo {
    /// Reads a JPEG or PNG file, by its content (not its name).
    pub fn from_bytes(bytes: &[u8]) -> Result<Photo, PdfError> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            let (width, height, components) = jpeg_size(bytes)?;
            return Ok(Photo {
                format: PhotoFormat::Jpeg,
                width,
                height,
                data: bytes.to_vec(),
                components,
                png_stream: None,
            });
        }
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Self::png(bytes);
        }
        Err(PdfError::Image("照片应为 JPEG 或 PNG 格式".into()))
    }

    fn png(bytes: &[u8]) -> Result<Photo, PdfError> {
        let bad = |e: png::DecodingError| PdfError::Image(format!("PNG 文件损坏：{e}"));
        let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
        dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = dec.read_info().map_err(bad)?;
        let (w, h) = reader.info().size();
        let info = reader.info();
        let as_is = !info.interlaced
            && info.bit_depth == png::BitDepth::Eight
            && matches!(
                info.color_type,
                png::ColorType::Rgb | png::ColorType::Grayscale
            );
        if w == 0 || h == 0 || (w as u64) * (h as u64) > 40_000_000 {
            return Err(PdfError::Image("PNG 图像尺寸无效或过大".into()));
        }
        let mut buf = vec![
            0;
            reader
                .output_buffer_size()
                .ok_or_else(|| PdfError::Image("PNG 图像过大".into()))?
        ];
        let frame = reader.next_frame(&mut buf).map_err(bad)?;
        let px = &buf[..frame.buffer_size()];
        // Flatten any alpha onto white paper.
        let over_white =
            |v: u8, a: u8| ((v as u32 * a as u32 + 255 * (255 - a as u32)) / 255) as u8;
        let (data, components) = match frame.color_type {
            png::ColorType::Grayscale => (px.to_vec(), 1),
            png::ColorType::GrayscaleAlpha => {
                (px.chunks(2).map(|p| over_white(p[0], p[1])).collect(), 1)
            }
            png::ColorType::Rgb => (px.to_vec(), 3),
            png::ColorType::Rgba => (
                px.chunks(4)
                    .flat_map(|p| {
                        [
                            over_white(p[0], p[3]),
                            over_white(p[1], p[3]),
                            over_white(p[2], p[3]),
                        ]
                    })
                    .collect(),
                3,
            ),
            png::ColorType::Indexed => {
                return Err(PdfError::Image("PNG 调色板图像无法展开".into()))
            }
        };
        Ok(Photo {
            format: PhotoFormat::Png,
            width: w,
            height: h,
            data,
            components,
            png_stream: if as_is { png_idat(bytes) } else { None },
        })
    }

    /// Height over width (a one-inch photo, 25 × 35 mm, is 1.4).
    pub fn aspect(&self) -> f32 {
        self.height as f32 / self.width as f32
    }

    #[cfg(test)]
    pub(crate) fn data(&self) -> &[u8] {
        &self.data
    }

    /// What identifies the embedded image for the document ID: the stream written when it is the
    /// PNG's own (smaller than its pixels), else the samples or the JPEG file.
    pub(crate) fn hashed_bytes(&self) -> &[u8] {
        self.png_stream.as_deref().unwrap_or(&self.data)
    }

    pub(crate) fn write(&self, pdf: &mut Pdf, id: Ref, _alloc: &mut impl FnMut() -> Ref) {
        let compressed;
        let (bytes, filter) = match (self.format, &self.png_stream) {
            (PhotoFormat::Jpeg, _) => (&self.data[..], Filter::DctDecode),
            (PhotoFormat::Png, Some(stream)) => (&stream[..], Filter::FlateDecode),
            (PhotoFormat::Png, None) => {
                compressed = crate::writer::deflate(&self.data);
                (&compressed[..], Filter::FlateDecode)
            }
        };
        let mut img = pdf.image_xobject(id, bytes);
        img.filter(filter);
        if self.png_stream.is_some() {
            img.decode_parms()
                .predictor(pdf_writer::types::Predictor::PngOptimum)
                .colors(self.components as i32)
                .bits_per_component(8)
                .columns(self.width as i32);
        }
        img.width(self.width as i32)
            .height(self.height as i32)
            .bits_per_component(8);
        if self.components == 1 {
            img.color_space().device_gray();
        } else {
            img.color_space().device_rgb();
        }
    }
}
