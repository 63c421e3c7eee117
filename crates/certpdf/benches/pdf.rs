//! Certificates per second against a bare pdf-writer page with the same text
//! (`cargo bench -p skilleval-certpdf --bench pdf`). Two bare pages: `bare_same_font`, the same
//! strings set in the same CJK font, subset and embedded as pdf-writer's own examples do (no
//! ToUnicode map, nothing compressed, no photo, no QR, no layout) — the least a legible page with
//! this text costs; and `bare_pdf_writer_page`, the strings as bytes in base-14 Helvetica (nothing
//! embedded, Chinese not legible): the floor of pdf-writer itself.
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use rand::SeedableRng;
use skilleval_certpdf::{
    demo_photo_png, render_certificate, Certificate, Fonts, Photo, DEFAULT_BODY,
    NATIONAL_QUERY_SITES,
};

fn certificate() -> Certificate {
    let key = certsign::SigningKey::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(1));
    let p = certsign::CertificatePayload {
        number: "S000041000123264000001".into(),
        name: "张三丰".into(),
        id_type: "居民身份证".into(),
        id_masked: certsign::mask_id("410105199001011234"),
        occupation_code: "6-31-01-03".into(),
        occupation_name: "电工".into(),
        work_type: None,
        level: 4,
        issued_on: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
        institution: "郑州市金水区技能人才评价服务中心".into(),
        status_index: 1,
        signed_at: 1_796_169_600,
    };
    let qr = certsign::qr_text("https://pj.zzrs.gov.cn", &p.number, &key.sign(&p));
    Certificate {
        title: "职业技能等级证书".into(),
        body: DEFAULT_BODY.into(),
        name: p.name,
        id_type: p.id_type,
        id_number: "410105199001011234".into(),
        occupation_name: p.occupation_name,
        work_type: None,
        level: "四级/中级工".into(),
        number: p.number,
        institution: p.institution,
        issued_on: p.issued_on,
        photo: Photo::from_bytes(&demo_photo_png(0)).unwrap(),
        qr_text: qr,
        query_sites: vec![NATIONAL_QUERY_SITES[0].into()],
    }
}

/// The same strings on one page in Helvetica: no font embedding, no photo, no QR code.
fn bare_page(c: &Certificate) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let (cat, pages, page, content, font) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
    );
    pdf.catalog(cat).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    let mut pg = pdf.page(page);
    pg.parent(pages)
        .media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
        .contents(content);
    pg.resources().fonts().pair(Name(b"F1"), font);
    pg.finish();
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    let mut k = Content::new();
    let mut y = 800.0;
    for t in texts(c) {
        k.begin_text()
            .set_font(Name(b"F1"), 12.0)
            .next_line(72.0, y)
            .show(Str(t.as_bytes()))
            .end_text();
        y -= 20.0;
    }
    pdf.stream(content, &k.finish());
    pdf.finish()
}

const FONT: &[u8] = include_bytes!("../fonts/NotoSerifCJKsc-Regular-GB2312.otf");

fn texts(c: &Certificate) -> [&str; 10] {
    [
        &c.title,
        &c.body,
        &c.name,
        &c.id_type,
        &c.id_number,
        &c.occupation_name,
        &c.level,
        &c.number,
        &c.institution,
        &c.qr_text,
    ]
}

/// The same strings in the same font: glyphs looked up, the font subset and embedded (CFF).
fn bare_same_font(c: &Certificate) -> Vec<u8> {
    let face = ttf_parser::Face::parse(FONT, 0).unwrap();
    let mut remapper = subsetter::GlyphRemapper::new();
    let mut k = Content::new();
    let mut y = 800.0;
    for t in texts(c) {
        let mut encoded = vec![];
        for ch in t.chars() {
            let g = face.glyph_index(ch).map_or(0, |g| g.0);
            encoded.extend_from_slice(&remapper.remap(g).to_be_bytes());
        }
        k.begin_text()
            .set_font(Name(b"F1"), 12.0)
            .next_line(72.0, y)
            .show(Str(&encoded))
            .end_text();
        y -= 20.0;
    }
    let subset = subsetter::subset(FONT, 0, &remapper).unwrap();
    let raw = ttf_parser::RawFace::parse(&subset, 0).unwrap();
    let cff = raw.table(ttf_parser::Tag::from_bytes(b"CFF ")).unwrap();
    let mut pdf = Pdf::new();
    let r = |i| Ref::new(i);
    pdf.catalog(r(1)).pages(r(2));
    pdf.pages(r(2)).kids([r(3)]).count(1);
    let mut pg = pdf.page(r(3));
    pg.parent(r(2))
        .media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
        .contents(r(4));
    pg.resources().fonts().pair(Name(b"F1"), r(5));
    pg.finish();
    pdf.type0_font(r(5))
        .base_font(Name(b"AAAAAA+NotoSerifCJKsc-Regular"))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(r(6));
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.cid_font(r(6))
        .subtype(CidFontType::Type0)
        .base_font(Name(b"AAAAAA+NotoSerifCJKsc-Regular"))
        .system_info(system)
        .font_descriptor(r(7))
        .default_width(1000.0);
    pdf.font_descriptor(r(7))
        .name(Name(b"AAAAAA+NotoSerifCJKsc-Regular"))
        .flags(FontFlags::SYMBOLIC | FontFlags::SERIF)
        .bbox(Rect::new(0.0, -120.0, 1000.0, 880.0))
        .italic_angle(0.0)
        .ascent(880.0)
        .descent(-120.0)
        .cap_height(733.0)
        .stem_v(80.0)
        .font_file3(r(8));
    pdf.stream(r(8), cff)
        .pair(Name(b"Subtype"), Name(b"CIDFontType0C"));
    pdf.stream(r(4), &k.finish());
    pdf.finish()
}

fn bench(cr: &mut Criterion) {
    let c = certificate();
    let fonts = Fonts::default();
    let size = render_certificate(&c, &fonts).unwrap().len();
    eprintln!("certificate PDF: {size} bytes");
    let mut g = cr.benchmark_group("pdf");
    g.throughput(Throughput::Elements(1));
    g.bench_function("certificate", |b| {
        b.iter(|| render_certificate(std::hint::black_box(&c), &fonts).unwrap())
    });
    g.bench_function("bare_same_font", |b| {
        b.iter(|| bare_same_font(std::hint::black_box(&c)))
    });
    g.bench_function("bare_pdf_writer_page", |b| {
        b.iter(|| bare_page(std::hint::black_box(&c)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
