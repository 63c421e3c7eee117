//! 证书版式: page 1 of a certificate, after the 人社部 template (人社鉴发〔2021〕1号): 证书名称 and
//! 正文, 姓名, 证件类型, 证件号码, 职业名称, 工种/职业方向, 等级, 证书编号, a one-inch photo, a QR
//! code, 评价机构名称, 发证日期 and the national query sites printed as text. 小四号 (12 pt).

use chrono::{Datelike, NaiveDate};

use crate::fonts::Fonts;
use crate::image::Photo;
use crate::writer::{Doc, A4};
use crate::PdfError;

/// 证书正文 of the template.
pub const DEFAULT_BODY: &str =
    "本证书表明持证人通过本评价机构组织的职业技能等级认定，具备该职业（工种）相应技能等级水平。";

/// The national query site, printed on every certificate (技能人才评价证书全国联网查询).
pub const NATIONAL_QUERY_SITES: &[&str] = &["技能人才评价证书全国联网查询：zscx.osta.org.cn"];

/// What page 1 shows. Text is printed as given (the caller masks nothing: the holder's copy
/// carries the full ID number, as the paper certificate does).
#[derive(Debug, Clone)]
pub struct Certificate {
    /// 证书名称, e.g. 职业技能等级证书 or 专项职业能力证书.
    pub title: String,
    /// 正文 ([`DEFAULT_BODY`]).
    pub body: String,
    pub name: String,
    pub id_type: String,
    pub id_number: String,
    pub occupation_name: String,
    /// 工种/职业方向; `None` prints "--".
    pub work_type: Option<String>,
    /// 等级 as written, e.g. "四级/中级工" (empty for certificates without levels).
    pub level: String,
    pub number: String,
    pub institution: String,
    pub issued_on: NaiveDate,
    pub photo: Photo,
    /// The signed QR text (`certsign::qr_text` form); also stored in the file's
    /// information dictionary for offline verification.
    pub qr_text: String,
    /// Query sites printed at the foot ([`NATIONAL_QUERY_SITES`] and the platform's own page).
    pub query_sites: Vec<String>,
}

const RED: (f32, f32, f32) = (0.62, 0.11, 0.09);
const INK: (f32, f32, f32) = (0.12, 0.12, 0.14);
const GREY: (f32, f32, f32) = (0.38, 0.38, 0.40);
const GOLD: (f32, f32, f32) = (0.72, 0.55, 0.25);

/// 2026年12月02日 → "2026年12月2日" as Chinese documents write it.
pub fn chinese_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// Checks every text of the certificate against the fonts before anything is drawn, so that
/// the error names the first missing character.
fn check_all(doc: &Doc<'_>, c: &Certificate) -> Result<(), PdfError> {
    for t in [
        &c.title,
        &c.body,
        &c.name,
        &c.id_type,
        &c.id_number,
        &c.occupation_name,
        c.work_type.as_ref().unwrap_or(&"--".to_string()),
        &c.level,
        &c.number,
        &c.institution,
    ] {
        doc.check(t)?;
    }
    for s in &c.query_sites {
        doc.check(s)?;
    }
    Ok(())
}

/// Renders the certificate as a one-page A4 PDF.
pub fn render_certificate(c: &Certificate, fonts: &Fonts) -> Result<Vec<u8>, PdfError> {
    let (w, h) = A4;
    let mut doc = Doc::new(fonts, &format!("{} {}", c.title, c.number));
    check_all(&doc, c)?;
    let code = crate::qr::qr_code(&c.qr_text)?;
    doc.set_qr_text(&c.qr_text);
    let p = doc.add_page();

    // Frame: a heavy outer rule and a fine inner rule with corner marks, in seal red and gold.
    {
        let k = doc.content(p);
        k.save_state();
        k.set_stroke_rgb(RED.0, RED.1, RED.2).set_line_width(2.4);
        k.rect(30.0, 30.0, w - 60.0, h - 60.0).stroke();
        k.set_stroke_rgb(GOLD.0, GOLD.1, GOLD.2).set_line_width(0.8);
        k.rect(38.0, 38.0, w - 76.0, h - 76.0).stroke();
        k.set_line_width(0.5);
        k.rect(42.0, 42.0, w - 84.0, h - 84.0).stroke();
        k.set_fill_rgb(RED.0, RED.1, RED.2);
        for (x, y) in [
            (38.0, 38.0),
            (w - 38.0, 38.0),
            (38.0, h - 38.0),
            (w - 38.0, h - 38.0),
        ] {
            k.rect(x - 5.0, y - 5.0, 10.0, 10.0).fill_nonzero();
        }
        k.restore_state();
    }

    // Title and the rule under it.
    let cx = w / 2.0;
    doc.content(p).set_fill_rgb(RED.0, RED.1, RED.2);
    let title_size = 34.0;
    doc.text_centered(p, cx, h - 128.0, title_size, 10.0, &c.title)?;
    {
        let k = doc.content(p);
        k.save_state();
        k.set_stroke_rgb(GOLD.0, GOLD.1, GOLD.2).set_line_width(1.2);
        k.move_to(cx - 170.0, h - 150.0)
            .line_to(cx + 170.0, h - 150.0)
            .stroke();
        k.set_line_width(0.5);
        k.move_to(cx - 150.0, h - 155.0)
            .line_to(cx + 150.0, h - 155.0)
            .stroke();
        k.restore_state();
    }

    // 正文, indented two characters, 小四号.
    let left = 92.0;
    let right = w - 92.0;
    let size = 12.0;
    doc.content(p).set_fill_rgb(INK.0, INK.1, INK.2);
    let mut y = h - 215.0;
    let body = format!("\u{3000}\u{3000}{}", c.body.trim());
    for line in doc.wrap(&body, 13.0, right - left)? {
        doc.text(p, left, y, 13.0, &line)?;
        y -= 24.0;
    }

    // Fields on the left, the photo on the right.
    let photo_w = 25.0 / 25.4 * 72.0; // one inch: 25 × 35 mm
    let photo_h = 35.0 / 25.4 * 72.0;
    let photo_x = right - photo_w;
    let top = y - 34.0;
    let none = "--".to_string();
    let fields: [(&str, &str); 7] = [
        ("姓\u{3000}\u{3000}名", &c.name),
        ("证件类型", &c.id_type),
        ("证件号码", &c.id_number),
        ("职业名称", &c.occupation_name),
        (
            "工种/职业方向",
            c.work_type
                .as_ref()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or(&none),
        ),
        (
            "等\u{3000}\u{3000}级",
            if c.level.is_empty() { "--" } else { &c.level },
        ),
        ("证书编号", &c.number),
    ];
    let label_w = doc.width("工种/职业方向：", size, 0.0)?;
    let value_x = left + label_w + 4.0;
    let value_max = photo_x - 18.0 - value_x;
    let mut fy = top;
    for (label, value) in fields {
        doc.content(p).set_fill_rgb(GREY.0, GREY.1, GREY.2);
        doc.text_right(p, left + label_w, fy, size, &format!("{label}："))?;
        doc.content(p).set_fill_rgb(INK.0, INK.1, INK.2);
        // Long values shrink to fit the line rather than run into the photo.
        let vw = doc.width(value, 14.0, 0.0)?;
        let vs = if vw > value_max {
            14.0 * value_max / vw
        } else {
            14.0
        };
        doc.text(p, value_x + 2.0, fy, vs, value)?;
        let k = doc.content(p);
        k.save_state();
        k.set_stroke_rgb(GOLD.0, GOLD.1, GOLD.2).set_line_width(0.4);
        k.move_to(value_x, fy - 5.0)
            .line_to(photo_x - 18.0, fy - 5.0)
            .stroke();
        k.restore_state();
        fy -= 42.0;
    }

    // Photo, fitted into the one-inch box (centre crop by scaling to cover is left to the
    // uploader: the web layer checks the proportion), with a thin frame.
    let img = doc.add_image(c.photo.clone());
    let photo_y = top + 14.0 - photo_h;
    let (iw, ih) = {
        let a = c.photo.aspect();
        if a >= photo_h / photo_w {
            (photo_h / a, photo_h)
        } else {
            (photo_w, photo_w * a)
        }
    };
    doc.draw_image(
        p,
        img,
        photo_x + (photo_w - iw) / 2.0,
        photo_y + (photo_h - ih) / 2.0,
        iw,
        ih,
    );
    {
        let k = doc.content(p);
        k.save_state();
        k.set_stroke_rgb(GREY.0, GREY.1, GREY.2).set_line_width(0.6);
        k.rect(photo_x - 3.0, photo_y - 3.0, photo_w + 6.0, photo_h + 6.0)
            .stroke();
        k.restore_state();
    }

    // QR code at the lower left, institution and date at the lower right.
    let qr_size = 108.0;
    let qr_x = left;
    let qr_y = 128.0;
    crate::qr::draw(doc.content(p), &code, qr_x, qr_y, qr_size);
    doc.content(p).set_fill_rgb(GREY.0, GREY.1, GREY.2);
    doc.text_centered(
        p,
        qr_x + qr_size / 2.0,
        qr_y - 16.0,
        9.0,
        0.0,
        "扫码查验证书真伪",
    )?;

    doc.content(p).set_fill_rgb(INK.0, INK.1, INK.2);
    let inst_label = "评价机构：";
    let inst_max = right - (qr_x + qr_size + 30.0) - doc.width(inst_label, size, 0.0)?;
    let iw = doc.width(&c.institution, 13.0, 0.0)?;
    let is = if iw > inst_max {
        13.0 * inst_max / iw
    } else {
        13.0
    };
    let inst_w = doc.width(&c.institution, is, 0.0)?;
    doc.content(p).set_fill_rgb(GREY.0, GREY.1, GREY.2);
    doc.text_right(p, right - inst_w, 200.0, size, inst_label)?;
    doc.content(p).set_fill_rgb(INK.0, INK.1, INK.2);
    doc.text_right(p, right, 200.0, is, &c.institution)?;
    let date = chinese_date(c.issued_on);
    let dw = doc.width(&date, 13.0, 0.0)?;
    doc.content(p).set_fill_rgb(GREY.0, GREY.1, GREY.2);
    doc.text_right(p, right - dw, 172.0, size, "发证日期：")?;
    doc.content(p).set_fill_rgb(INK.0, INK.1, INK.2);
    doc.text_right(p, right, 172.0, 13.0, &date)?;

    // Query sites, printed as text at the foot.
    doc.content(p).set_fill_rgb(GREY.0, GREY.1, GREY.2);
    let mut fy = 86.0;
    for s in &c.query_sites {
        let sw = doc.width(s, 8.5, 0.0)?;
        let ss = if sw > right - left {
            8.5 * (right - left) / sw
        } else {
            8.5
        };
        doc.text_centered(p, cx, fy, ss, 0.0, s)?;
        fy -= 13.0;
    }
    doc.finish()
}
