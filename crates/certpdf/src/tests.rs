//! Tests of the renderer, including the two issue 9 names.

use chrono::NaiveDate;
use rand::SeedableRng;

use super::*;

pub(crate) fn sample_photo_png() -> Vec<u8> {
    demo_photo_png(0)
}

pub(crate) fn sample_certificate() -> Certificate {
    let key = certsign::SigningKey::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(7));
    let payload = certsign::CertificatePayload {
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
        status_index: 17,
        signed_at: 1_796_169_600,
    };
    let cose = key.sign(&payload);
    let qr = certsign::qr_text("https://pj.zzrs.gov.cn", &payload.number, &cose);
    Certificate {
        title: "职业技能等级证书".into(),
        body: DEFAULT_BODY.into(),
        name: payload.name.clone(),
        id_type: payload.id_type.clone(),
        id_number: "410105199001011234".into(),
        occupation_name: payload.occupation_name.clone(),
        work_type: None,
        level: "四级/中级工".into(),
        number: payload.number.clone(),
        institution: payload.institution.clone(),
        issued_on: payload.issued_on,
        photo: Photo::from_bytes(&sample_photo_png()).unwrap(),
        qr_text: qr,
        query_sites: vec![
            NATIONAL_QUERY_SITES[0].to_string(),
            "郑州市技能人才评价服务平台：pj.zzrs.gov.cn/v/S000041000123264000001".into(),
        ],
    }
}

#[test]
fn cert_pdf_embeds_subset_font() {
    let c = sample_certificate();
    let pdf = render_certificate(&c, &Fonts::default()).unwrap();
    // Reproducible: the same input gives the same bytes.
    assert_eq!(pdf, render_certificate(&c, &Fonts::default()).unwrap());
    assert!(pdf.len() < 120_000, "certificate is {} bytes", pdf.len());
    // Kept for a look: `pdftoppm -png -r 100 -f 1 -l 1 test-artifacts/certificate-sample.pdf`.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("certificate-sample.pdf"), &pdf);
    }

    let doc = lopdf::Document::load_mem(&pdf).expect("a PDF that lopdf parses");
    let pages = doc.get_pages();
    assert_eq!(pages.len(), 1);
    let mut found = 0;
    for (_, obj) in doc.objects.iter() {
        let Ok(d) = obj.as_dict() else { continue };
        if d.get(b"Type").and_then(|t| t.as_name()).ok() != Some(&b"Font"[..])
            || d.get(b"Subtype").and_then(|t| t.as_name()).ok() != Some(&b"Type0"[..])
        {
            continue;
        }
        found += 1;
        let base =
            String::from_utf8(d.get(b"BaseFont").unwrap().as_name().unwrap().to_vec()).unwrap();
        // Subset tag: six capital letters and a plus sign.
        let (tag, name) = base.split_once('+').expect("subset tag");
        assert!(
            tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()),
            "{base}"
        );
        assert!(name.starts_with("NotoSerifCJK"), "{base}");
        assert_eq!(
            d.get(b"Encoding").unwrap().as_name().unwrap(),
            b"Identity-H"
        );
        assert!(d.get(b"ToUnicode").is_ok(), "text stays searchable");
        let cid_ref = d.get(b"DescendantFonts").unwrap().as_array().unwrap()[0]
            .as_reference()
            .unwrap();
        let cid = doc.get_dictionary(cid_ref).unwrap();
        assert_eq!(
            cid.get(b"Subtype").unwrap().as_name().unwrap(),
            b"CIDFontType0"
        );
        let fd = doc
            .get_dictionary(cid.get(b"FontDescriptor").unwrap().as_reference().unwrap())
            .unwrap();
        assert_eq!(
            fd.get(b"FontName").unwrap().as_name().unwrap(),
            base.as_bytes()
        );
        let file = doc
            .get_object(fd.get(b"FontFile3").unwrap().as_reference().unwrap())
            .unwrap();
        let stream = file.as_stream().unwrap();
        assert_eq!(
            stream.dict.get(b"Subtype").unwrap().as_name().unwrap(),
            b"CIDFontType0C"
        );
        let cff = stream.decompressed_content().unwrap();
        // A subset: a few KB, not the 2 MB face (let alone the 26 MB collection).
        assert!(
            cff.len() > 1000 && cff.len() < 80_000,
            "embedded CFF is {} bytes",
            cff.len()
        );
        assert_eq!(cff[0], 1, "CFF major version 1");
    }
    assert_eq!(found, 1, "one embedded font");
    // The text is there as text: the ToUnicode map makes it extractable.
    let text = doc.extract_text(&[1]).unwrap();
    assert!(text.contains("张三丰"), "{text}");
    assert!(text.contains("S000041000123264000001"));
    assert!(text.contains("四级/中级工"));
    // No STSong-Light, no dates, and the QR text is in the information dictionary.
    let raw = String::from_utf8_lossy(&pdf);
    assert!(!raw.contains("STSong"));
    assert!(!raw.contains("CreationDate"));
    assert_eq!(extract_qr_text(&pdf).as_deref(), Some(c.qr_text.as_str()));
}

#[test]
fn cert_missing_glyph_is_an_error() {
    let mut c = sample_certificate();
    // 𪚥 (U+2A6A5) is in no GB 2312 subset; the error names it and where it occurs.
    c.name = "王𪚥".into();
    let e = render_certificate(&c, &Fonts::default()).unwrap_err();
    assert_eq!(
        e,
        PdfError::MissingGlyph {
            ch: '𪚥',
            text: "王𪚥".into()
        }
    );
    let msg = e.to_string();
    assert!(
        msg.contains("𪚥") && msg.contains("U+2A6A5") && msg.contains("备用字体"),
        "{msg}"
    );
    // A rare character outside GB 2312 that the subset also carries renders.
    c.name = "李喆".into();
    assert!(render_certificate(&c, &Fonts::default()).is_ok());
    // A fallback font covers a character the main font lacks: the full Noto Serif CJK SC face.
    let ttc = std::path::Path::new("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc");
    if ttc.exists() {
        c.name = "王䶮".into(); // U+4DAE, CJK Extension A: not in GB 2312
        assert!(render_certificate(&c, &Fonts::default()).is_err());
        let fallback = FontFace::load(ttc, Some("Noto Serif CJK SC")).unwrap();
        assert_eq!(fallback.family(), "Noto Serif CJK SC");
        let fonts = Fonts::new(FontFace::builtin(), vec![fallback]);
        let pdf = render_certificate(&c, &fonts).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&pdf)
                .matches("/Subtype /Type0")
                .count(),
            2
        );
        let e = FontFace::load(ttc, Some("No Such Family")).unwrap_err();
        assert!(e.to_string().contains("Noto Serif CJK SC"), "{e}");
    }
}

#[test]
fn qr_code_of_a_certificate_is_version_12_or_less_at_level_m() {
    let c = sample_certificate();
    let v = qr_version(&c.qr_text).unwrap();
    assert!(v <= 12, "version {v} for {} characters", c.qr_text.len());
    assert_eq!(
        qr_code(&c.qr_text).unwrap().error_correction_level(),
        crate::qr::QrCodeEcc::Medium
    );
}

/// Rasterises `code` (4 px a module, a 4-module quiet zone) and reads it back with an
/// independent decoder.
fn decode(code: &crate::qr::QrCode) -> String {
    let n = code.size() as usize;
    let px = (n + 8) * 4;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(px, px, |x, y| {
        let (mx, my) = ((x / 4) as i32 - 4, (y / 4) as i32 - 4);
        if code.get_module(mx, my) {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code found");
    grids[0].decode().expect("QR code decodes").1
}

#[test]
fn qr_code_reads_back_with_an_independent_decoder() {
    let c = sample_certificate();
    assert_eq!(decode(&qr_code(&c.qr_text).unwrap()), c.qr_text);
    // Texts with digit runs shorter and longer than the numeric threshold, and none at all.
    for t in [
        "https://pj.zzrs.gov.cn/v/S000041000123264000001?s=12345678",
        "https://pj.zzrs.gov.cn/v/S000041000123264000001?s=123456789012345678901234567890",
        "12345678901234567890",
        "证书查询",
        "",
    ] {
        assert_eq!(decode(&qr_code(t).unwrap()), t, "{t}");
    }
}

/// A PNG datastream around `idat` (the image stream of a PDF) for `w`×`h` RGB, 8 bits.
fn png_around(w: u32, h: u32, idat: &[u8]) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", idat);
    chunk(b"IEND", &[]);
    out
}

#[test]
fn png_photo_is_embedded_with_its_own_stream_and_png_predictors() {
    let c = sample_certificate();
    let pdf = render_certificate(&c, &Fonts::default()).unwrap();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let image = doc
        .objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .find(|s| s.dict.get(b"Subtype").and_then(|n| n.as_name()).ok() == Some(b"Image"))
        .expect("an image XObject");
    let parms = image.dict.get(b"DecodeParms").unwrap().as_dict().unwrap();
    assert_eq!(parms.get(b"Predictor").unwrap().as_i64().unwrap(), 15);
    assert_eq!(parms.get(b"Colors").unwrap().as_i64().unwrap(), 3);
    assert_eq!(parms.get(b"Columns").unwrap().as_i64().unwrap(), 250);
    // The stream, read as a PNG's image data, gives the photo's pixels.
    let again = Photo::from_bytes(&png_around(250, 350, &image.content)).unwrap();
    assert_eq!(again.data(), c.photo.data());
    // A PNG that PDF cannot read as it is (here with alpha) is flattened and deflated.
    let mut rgba = vec![];
    {
        let mut enc = png::Encoder::new(&mut rgba, 2, 2);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header()
            .unwrap()
            .write_image_data(&[
                0, 0, 0, 0, 0, 0, 0, 255, 10, 20, 30, 128, 255, 255, 255, 255,
            ])
            .unwrap();
    }
    let p = Photo::from_bytes(&rgba).unwrap();
    assert_eq!(
        p.data(),
        &[255, 255, 255, 0, 0, 0, 132, 137, 142, 255, 255, 255]
    );
}

#[test]
fn photos_jpeg_and_png() {
    let p = Photo::from_bytes(&sample_photo_png()).unwrap();
    assert_eq!((p.format, p.width, p.height), (PhotoFormat::Png, 250, 350));
    assert!((p.aspect() - 1.4).abs() < 0.01);
    // A minimal JPEG header: SOI, APP0, SOF0 350 × 250, 3 components.
    let mut jpeg = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 17, 8, 1, 0x5E, 0, 0xFA, 3,
    ];
    jpeg.extend_from_slice(&[0; 9]);
    let j = Photo::from_bytes(&jpeg).unwrap();
    assert_eq!((j.format, j.width, j.height), (PhotoFormat::Jpeg, 250, 350));
    let e = Photo::from_bytes(b"GIF89a...").unwrap_err();
    assert!(e.to_string().contains("JPEG 或 PNG"), "{e}");
}

#[test]
fn letters_and_receipts_use_the_embedded_font() {
    let pdf = text_document("督导责任书", "评价机构：测试\n签字：", "SHA-256 abc");
    assert!(pdf.starts_with(b"%PDF-1.7"));
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    assert!(doc.extract_text(&[1]).unwrap().contains("督导责任书"));
    assert!(!String::from_utf8_lossy(&pdf).contains("STSong"));
    // Long bodies paginate, deterministically.
    let body = (1..=200)
        .map(|i| format!("第{i}行"))
        .collect::<Vec<_>>()
        .join("\n");
    let a = text_document("标题", &body, "f");
    assert_eq!(a, text_document("标题", &body, "f"));
    let doc = lopdf::Document::load_mem(&a).unwrap();
    assert!(doc.get_pages().len() >= 6);
    // A character no font has: an error from the fallible form, a visible code point otherwise.
    assert!(matches!(
        try_text_document("标题", "𪚥", "f"),
        Err(PdfError::MissingGlyph { ch: '𪚥', .. })
    ));
    let shown = lopdf::Document::load_mem(&text_document("标题", "𪚥", "f")).unwrap();
    assert!(shown.extract_text(&[1]).unwrap().contains("U+2A6A5"));

    let r = FilingReceipt {
        filing_no: "郑备〔2026〕001号".into(),
        filed_on: "2026年12月2日".into(),
        props: vec![
            ("机构名称".into(), "郑州市某某职业培训学校".into()),
            ("统一社会信用代码".into(), "91350100M000100Y43".into()),
        ],
        items: vec![("6-31-01-03".into(), "电工".into(), "五级/初级工、四级/中级工".into())],
        statement: "依据《关于进一步做好我市技能人才评价工作的通知》（郑人社办〔2022〕87号），经审核并公示无异议，准予备案。".into(),
        issuers: "郑州市职业技能鉴定中心\n郑州市人力资源和社会保障局职业能力建设处".into(),
    };
    let pdf = render_filing_receipt(&r, &Fonts::default()).unwrap();
    let text = lopdf::Document::load_mem(&pdf)
        .unwrap()
        .extract_text(&[1])
        .unwrap();
    assert!(text.contains("备案回执") && text.contains("电工"), "{text}");
    assert_eq!(
        extract_qr_text(&pdf),
        None,
        "only certificates carry a QR text"
    );
}

#[test]
fn wraps_by_width_and_keeps_line_breaks() {
    let lines = wrap("一二三四五\nabcdefgh", 3.0);
    assert_eq!(lines, vec!["一二三", "四五", "abcdef", "gh"]);
}

#[test]
fn foreign_pdfs_have_no_qr_text() {
    assert_eq!(
        extract_qr_text(b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF"),
        None
    );
    assert_eq!(extract_qr_text(b"not a pdf /SkillevalQR (x)"), None);
}

#[test]
fn jpeg_photo_is_embedded_unchanged() {
    let jpeg = include_bytes!("../tests/fixtures/demo-photo.jpg");
    let mut c = sample_certificate();
    c.photo = Photo::from_bytes(jpeg).unwrap();
    assert_eq!(
        (c.photo.format, c.photo.width, c.photo.height),
        (PhotoFormat::Jpeg, 300, 420)
    );
    let pdf = render_certificate(&c, &Fonts::default()).unwrap();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let images: Vec<_> = doc
        .objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .filter(|s| s.dict.get(b"Subtype").and_then(|t| t.as_name()).ok() == Some(&b"Image"[..]))
        .collect();
    assert_eq!(images.len(), 1);
    assert_eq!(
        images[0].dict.get(b"Filter").unwrap().as_name().unwrap(),
        b"DCTDecode"
    );
    assert_eq!(
        images[0].content,
        jpeg.to_vec(),
        "the JPEG is embedded byte for byte"
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("certificate-jpeg-photo.pdf"), &pdf);
    }
}
