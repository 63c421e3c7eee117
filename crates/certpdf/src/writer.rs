//! The document builder under every PDF of the platform: pages of drawing operations, text
//! set in the [`Fonts`] (each used face embedded as a subset, CID-keyed, with a ToUnicode map
//! so text can be copied and searched), images, and a deterministic file: no dates, object
//! ids in a fixed order, the file ID a hash of the content.

use std::collections::BTreeMap;
use std::io::Write;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;

use crate::fonts::{FontFace, Fonts};
use crate::image::Photo;
use crate::PdfError;

/// Key of the document-information entry that carries a certificate's QR text, so that
/// `skilleval cert verify file.pdf` finds it without rendering.
pub const QR_INFO_KEY: &str = "SkillevalQR";

/// Streams are deflated at zlib's fastest level: PDFs are rendered on demand, not stored, and
/// level 6 took a fifth of a certificate's time for files ≈ 20 % smaller (decision 131).
pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(data).expect("write to Vec");
    z.finish().expect("zlib to Vec")
}

#[derive(Default)]
struct FontUse {
    remapper: GlyphRemapper,
    /// new glyph id → (character, advance in 1/1000 em)
    glyphs: BTreeMap<u16, (char, f32)>,
}

pub(crate) struct Page {
    pub content: Content,
    images: Vec<usize>,
    fonts: Vec<usize>,
}

/// A document being built.
pub(crate) struct Doc<'a> {
    faces: Vec<(&'a FontFace, ttf_parser::Face<'a>)>,
    used: Vec<FontUse>,
    pages: Vec<Page>,
    images: Vec<Photo>,
    title: String,
    qr_text: Option<String>,
}

/// A4 in points.
pub(crate) const A4: (f32, f32) = (595.276, 841.89);

impl<'a> Doc<'a> {
    pub fn new(fonts: &'a Fonts, title: &str) -> Self {
        let faces: Vec<_> = fonts.faces().iter().map(|f| (f, f.parse())).collect();
        let used = faces.iter().map(|_| FontUse::default()).collect();
        Doc {
            faces,
            used,
            pages: vec![],
            images: vec![],
            title: title.to_string(),
            qr_text: None,
        }
    }

    pub fn set_qr_text(&mut self, text: &str) {
        self.qr_text = Some(text.to_string());
    }

    pub fn add_page(&mut self) -> usize {
        self.pages.push(Page {
            content: Content::new(),
            images: vec![],
            fonts: vec![],
        });
        self.pages.len() - 1
    }

    pub fn content(&mut self, page: usize) -> &mut Content {
        &mut self.pages[page].content
    }

    /// The face and glyph for a character: the first font that has it.
    fn glyph(&self, c: char, text: &str) -> Result<(usize, ttf_parser::GlyphId), PdfError> {
        for (i, (_, face)) in self.faces.iter().enumerate() {
            if let Some(g) = face.glyph_index(c) {
                if g.0 != 0 {
                    return Ok((i, g));
                }
            }
        }
        Err(PdfError::MissingGlyph {
            ch: c,
            text: text.to_string(),
        })
    }

    fn advance(&self, font: usize, g: ttf_parser::GlyphId) -> f32 {
        let face = &self.faces[font].1;
        face.glyph_hor_advance(g).unwrap_or(0) as f32 * 1000.0 / face.units_per_em() as f32
    }

    /// Width of `text` at `size` points (with `spacing` points between characters).
    pub fn width(&self, text: &str, size: f32, spacing: f32) -> Result<f32, PdfError> {
        let mut w = 0.0;
        for c in text.chars() {
            let (f, g) = self.glyph(c, text)?;
            w += self.advance(f, g) * size / 1000.0 + spacing;
        }
        Ok(w)
    }

    /// Checks that every character of `text` can be set.
    pub fn check(&self, text: &str) -> Result<(), PdfError> {
        self.width(text, 1.0, 0.0).map(|_| ())
    }

    /// Sets `text` with its baseline starting at (x, y); returns its width.
    pub fn text(
        &mut self,
        page: usize,
        x: f32,
        y: f32,
        size: f32,
        text: &str,
    ) -> Result<f32, PdfError> {
        self.text_spaced(page, x, y, size, 0.0, text)
    }

    /// Like [`Doc::text`], with `spacing` points added after each character (for titles).
    pub fn text_spaced(
        &mut self,
        page: usize,
        x: f32,
        y: f32,
        size: f32,
        spacing: f32,
        text: &str,
    ) -> Result<f32, PdfError> {
        // Runs of characters from the same face.
        let mut runs: Vec<(usize, Vec<u8>)> = vec![];
        let mut width = 0.0;
        for c in text.chars() {
            let (f, g) = self.glyph(c, text)?;
            let adv = self.advance(f, g);
            width += adv * size / 1000.0 + spacing;
            let u = &mut self.used[f];
            let cid = u.remapper.remap(g.0);
            u.glyphs.entry(cid).or_insert((c, adv));
            match runs.last_mut() {
                Some((rf, bytes)) if *rf == f => bytes.extend_from_slice(&cid.to_be_bytes()),
                _ => runs.push((f, cid.to_be_bytes().to_vec())),
            }
        }
        let p = &mut self.pages[page];
        let c = &mut p.content;
        c.begin_text();
        // Character spacing is graphics state: it outlives ET, so every run sets its own.
        c.set_char_spacing(spacing);
        c.next_line(x, y);
        for (f, bytes) in &runs {
            if !p.fonts.contains(f) {
                p.fonts.push(*f);
            }
            c.set_font(Name(format!("F{f}").as_bytes()), size);
            c.show(Str(bytes));
        }
        c.end_text();
        Ok(width)
    }

    /// Sets `text` centred on `cx`.
    pub fn text_centered(
        &mut self,
        page: usize,
        cx: f32,
        y: f32,
        size: f32,
        spacing: f32,
        text: &str,
    ) -> Result<f32, PdfError> {
        let w = self.width(text, size, spacing)? - spacing;
        self.text_spaced(page, cx - w / 2.0, y, size, spacing, text)
    }

    /// Sets `text` ending at `right`.
    pub fn text_right(
        &mut self,
        page: usize,
        right: f32,
        y: f32,
        size: f32,
        text: &str,
    ) -> Result<f32, PdfError> {
        let w = self.width(text, size, 0.0)?;
        self.text(page, right - w, y, size, text)
    }

    /// Breaks `text` into lines no wider than `max` points (by character: Chinese has no
    /// spaces; explicit line breaks are kept).
    pub fn wrap(&self, text: &str, size: f32, max: f32) -> Result<Vec<String>, PdfError> {
        let mut out = vec![];
        for para in text.lines() {
            let mut line = String::new();
            let mut w = 0.0;
            for c in para.chars() {
                let cw = self.width(c.encode_utf8(&mut [0; 4]), size, 0.0)?;
                // Closing punctuation stays on its line (禁则: no line starts with it).
                let closing = "，。、；：？！）》」』”’".contains(c);
                if w + cw > max && !line.is_empty() && !closing {
                    out.push(std::mem::take(&mut line));
                    w = 0.0;
                }
                line.push(c);
                w += cw;
            }
            out.push(line);
        }
        Ok(out)
    }

    pub fn add_image(&mut self, photo: Photo) -> usize {
        self.images.push(photo);
        self.images.len() - 1
    }

    /// Draws image `img` into the rectangle (x, y, w, h).
    pub fn draw_image(&mut self, page: usize, img: usize, x: f32, y: f32, w: f32, h: f32) {
        let p = &mut self.pages[page];
        if !p.images.contains(&img) {
            p.images.push(img);
        }
        p.content
            .save_state()
            .transform([w, 0.0, 0.0, h, x, y])
            .x_object(Name(format!("Im{img}").as_bytes()))
            .restore_state();
    }

    /// The finished file.
    pub fn finish(self) -> Result<Vec<u8>, PdfError> {
        let mut pdf = Pdf::new();
        pdf.set_version(1, 7);
        let mut next = 1;
        let mut alloc = || {
            let r = Ref::new(next);
            next += 1;
            r
        };
        let catalog = alloc();
        let tree = alloc();
        let info = alloc();
        let mut hash = Sha256::new();
        hash.update(self.title.as_bytes());

        let page_refs: Vec<(Ref, Ref)> = self.pages.iter().map(|_| (alloc(), alloc())).collect();
        let image_refs: Vec<Ref> = self.images.iter().map(|_| alloc()).collect();
        // Fonts: Type0, CIDFont, descriptor, font file, ToUnicode.
        let font_refs: Vec<[Ref; 5]> = self
            .used
            .iter()
            .map(|_| [alloc(), alloc(), alloc(), alloc(), alloc()])
            .collect();

        pdf.catalog(catalog).pages(tree).lang(TextStr("zh-CN"));
        pdf.pages(tree)
            .kids(page_refs.iter().map(|(p, _)| *p))
            .count(self.pages.len() as i32);

        for (i, page) in self.pages.into_iter().enumerate() {
            let (pref, cref) = page_refs[i];
            let mut pg = pdf.page(pref);
            pg.parent(tree)
                .media_box(Rect::new(0.0, 0.0, A4.0, A4.1))
                .contents(cref);
            let mut res = pg.resources();
            {
                let mut fonts = res.fonts();
                let mut fs = page.fonts.clone();
                fs.sort();
                for f in fs {
                    fonts.pair(Name(format!("F{f}").as_bytes()), font_refs[f][0]);
                }
            }
            {
                let mut xo = res.x_objects();
                let mut is = page.images.clone();
                is.sort();
                for im in is {
                    xo.pair(Name(format!("Im{im}").as_bytes()), image_refs[im]);
                }
            }
            res.finish();
            pg.finish();
            let raw = page.content.finish();
            hash.update(raw.as_slice());
            pdf.stream(cref, &deflate(&raw)).filter(Filter::FlateDecode);
        }

        for (i, photo) in self.images.iter().enumerate() {
            hash.update(photo.hashed_bytes());
            photo.write(&mut pdf, image_refs[i], &mut alloc);
        }

        for (i, u) in self.used.iter().enumerate() {
            if u.glyphs.is_empty() {
                continue;
            }
            let (face_src, face) = &self.faces[i];
            write_font(&mut pdf, face_src, face, u, font_refs[i], &mut hash)?;
        }

        let digest = hash.finalize();
        let mut di = pdf.document_info(info);
        di.title(TextStr(&self.title))
            .creator(TextStr("skilleval"))
            .producer(TextStr("skilleval-certpdf (pdf-writer)"));
        if let Some(q) = &self.qr_text {
            di.pair(Name(QR_INFO_KEY.as_bytes()), Str(q.as_bytes()));
        }
        di.finish();
        let id = digest[..16].to_vec();
        pdf.set_file_id((id.clone(), id));
        Ok(pdf.finish())
    }
}

/// Six capital letters from the glyph set: the subset tag of the PDF specification (9.6.4),
/// deterministic so that the same document gives the same bytes.
fn subset_tag(ps_name: &str, glyphs: &BTreeMap<u16, (char, f32)>) -> String {
    let mut h = Sha256::new();
    h.update(ps_name.as_bytes());
    for (g, (c, _)) in glyphs {
        h.update(g.to_be_bytes());
        h.update((*c as u32).to_be_bytes());
    }
    h.finalize()[..6]
        .iter()
        .map(|b| (b'A' + b % 26) as char)
        .collect()
}

fn write_font(
    pdf: &mut Pdf,
    src: &FontFace,
    face: &ttf_parser::Face<'_>,
    u: &FontUse,
    [type0, cid, desc, file, cmap]: [Ref; 5],
    hash: &mut Sha256,
) -> Result<(), PdfError> {
    let subset = subsetter::subset(src.data(), src.index(), &u.remapper)
        .map_err(|e| PdfError::Font(format!("字体子集化失败：{e}")))?;
    let base = format!(
        "{}+{}",
        subset_tag(src.postscript_name(), &u.glyphs),
        src.postscript_name()
    );
    let scale = 1000.0 / face.units_per_em() as f32;
    let bb = face.global_bounding_box();

    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(type0)
        .base_font(Name(base.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);

    let mut cf = pdf.cid_font(cid);
    cf.subtype(if src.cff {
        CidFontType::Type0
    } else {
        CidFontType::Type2
    })
    .base_font(Name(base.as_bytes()))
    .system_info(system)
    .font_descriptor(desc)
    .default_width(1000.0);
    if !src.cff {
        cf.cid_to_gid_map_predefined(Name(b"Identity"));
    }
    // Widths of every glyph in the subset (new ids are dense from 0).
    let notdef = face
        .glyph_hor_advance(ttf_parser::GlyphId(0))
        .unwrap_or(1000) as f32
        * scale;
    let count = u.remapper.num_gids();
    let widths: Vec<f32> = (0..count)
        .map(|g| u.glyphs.get(&g).map_or(notdef, |(_, w)| *w))
        .collect();
    cf.widths().consecutive(0, widths);
    cf.finish();

    let flags = FontFlags::SYMBOLIC | FontFlags::SERIF;
    let mut fd = pdf.font_descriptor(desc);
    fd.name(Name(base.as_bytes()))
        .flags(flags)
        .bbox(Rect::new(
            bb.x_min as f32 * scale,
            bb.y_min as f32 * scale,
            bb.x_max as f32 * scale,
            bb.y_max as f32 * scale,
        ))
        .italic_angle(0.0)
        .ascent(face.ascender() as f32 * scale)
        .descent(face.descender() as f32 * scale)
        .cap_height(face.capital_height().unwrap_or(face.ascender()) as f32 * scale)
        .stem_v(80.0);
    if src.cff {
        fd.font_file3(file);
    } else {
        fd.font_file2(file);
    }
    fd.finish();

    if src.cff {
        let raw = ttf_parser::RawFace::parse(&subset, 0)
            .map_err(|_| PdfError::Font("字体子集无法读取".into()))?;
        let cff = raw
            .table(ttf_parser::Tag::from_bytes(b"CFF "))
            .ok_or_else(|| PdfError::Font("字体子集中没有 CFF 表".into()))?;
        hash.update(cff);
        pdf.stream(file, &deflate(cff))
            .filter(Filter::FlateDecode)
            .pair(Name(b"Subtype"), Name(b"CIDFontType0C"));
    } else {
        hash.update(&subset);
        pdf.stream(file, &deflate(&subset))
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), subset.len() as i32);
    }

    let mut map = pdf_writer::types::UnicodeCmap::new(
        Name(b"Custom"),
        SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"UCS"),
            supplement: 0,
        },
    );
    for (g, (c, _)) in &u.glyphs {
        map.pair(*g, *c);
    }
    let map = map.finish();
    pdf.cmap(cmap, &deflate(&map)).filter(Filter::FlateDecode);
    Ok(())
}
