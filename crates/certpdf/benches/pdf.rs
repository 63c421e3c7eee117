//! Certificates per second against a bare pdf-writer page with the same text
//! (`cargo bench -p skilleval-certpdf --bench pdf`). The bare page uses a base-14 font (nothing
//! embedded, no photo, no QR): the floor that pdf-writer itself sets.
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
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
    let texts = [
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
    ];
    let mut y = 800.0;
    for t in texts {
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

fn bench(cr: &mut Criterion) {
    let c = certificate();
    let fonts = Fonts::default();
    let mut g = cr.benchmark_group("pdf");
    g.throughput(Throughput::Elements(1));
    g.bench_function("certificate", |b| {
        b.iter(|| render_certificate(std::hint::black_box(&c), &fonts).unwrap())
    });
    g.bench_function("bare_pdf_writer_page", |b| {
        b.iter(|| bare_page(std::hint::black_box(&c)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
