//! `skilleval cert keygen` and `skilleval cert verify`, run as the built binary.

use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_skilleval"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().expect("run skilleval");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn key_in(dir: &Path) -> certsign::SigningKey {
    let pem = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pem"))
        .max_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .expect("a private key file");
    certsign::SigningKey::from_pkcs8_pem(&std::fs::read_to_string(pem).unwrap()).unwrap()
}

fn payload(signed_at: i64) -> certsign::CertificatePayload {
    certsign::CertificatePayload {
        number: "S000041000123264000007".into(),
        name: "李四".into(),
        id_type: "居民身份证".into(),
        id_masked: certsign::mask_id("410105199001011234"),
        occupation_code: "4-03-02-01".into(),
        occupation_name: "中式烹调师".into(),
        work_type: Some("中式面点".into()),
        level: 3,
        issued_on: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
        institution: "郑州市某某职业培训学校".into(),
        status_index: 42,
        signed_at,
    }
}

#[test]
fn cert_offline_verify_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = d.to_str().unwrap();
    let (code, out, err) = run(&["cert", "keygen", "--out", ds, "--valid-from", "2026-01-01"]);
    assert_eq!(code, 0, "{out}{err}");
    let keys = d.join("public-keys.json");
    let keys_s = keys.to_str().unwrap();
    assert!(keys.exists());
    let key = key_in(d);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let pem = d.join(format!("signing-key-{}.pem", hex::encode(key.kid())));
        assert_eq!(
            std::fs::metadata(pem).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    // A certificate signed on 2026-12-02 and rendered to PDF.
    let p = payload(1_796_169_600);
    let cose = key.sign(&p);
    let qr = certsign::qr_text("https://pj.zzrs.gov.cn", &p.number, &cose);
    let cert = certpdf::Certificate {
        title: "职业技能等级证书".into(),
        body: certpdf::DEFAULT_BODY.into(),
        name: p.name.clone(),
        id_type: p.id_type.clone(),
        id_number: "410105199001011234".into(),
        occupation_name: p.occupation_name.clone(),
        work_type: p.work_type.clone(),
        level: "三级/高级工".into(),
        number: p.number.clone(),
        institution: p.institution.clone(),
        issued_on: p.issued_on,
        photo: certpdf::Photo::from_bytes(&certpdf::demo_photo_png(1)).unwrap(),
        qr_text: qr.clone(),
        query_sites: vec![certpdf::NATIONAL_QUERY_SITES[0].into()],
    };
    let pdf_path = d.join("certificate.pdf");
    std::fs::write(
        &pdf_path,
        certpdf::render_certificate(&cert, &certpdf::Fonts::default()).unwrap(),
    )
    .unwrap();

    // From the PDF and from the QR text: valid, with the fields, the ID masked.
    for input in [pdf_path.to_str().unwrap(), qr.as_str()] {
        let (code, out, err) = run(&["cert", "verify", input, "--keys", keys_s]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.starts_with("有效"), "{out}");
        assert!(out.contains("证书编号：S000041000123264000007"), "{out}");
        assert!(
            out.contains("姓名：李四") && out.contains("证件号码：4101**********1234"),
            "{out}"
        );
        assert!(
            out.contains("等级：三级/高级工") && out.contains("工种/职业方向：中式面点"),
            "{out}"
        );
        assert!(
            !out.contains("410105199001011234"),
            "the full ID number is never printed"
        );
    }

    // An altered QR text: invalid, exit 2.
    let at = qr.len() - 30;
    let mut altered = qr.clone().into_bytes();
    altered[at] = if altered[at] == b'5' { b'6' } else { b'5' };
    let (code, out, _) = run(&[
        "cert",
        "verify",
        std::str::from_utf8(&altered).unwrap(),
        "--keys",
        keys_s,
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.starts_with("无效"), "{out}");

    // A PDF that is not ours, and a file that is no PDF.
    let letter = d.join("letter.pdf");
    std::fs::write(
        &letter,
        certpdf::text_document("督导责任书", "正文", "页脚"),
    )
    .unwrap();
    let (code, out, _) = run(&["cert", "verify", letter.to_str().unwrap(), "--keys", keys_s]);
    assert_eq!(code, 2);
    assert!(out.contains("不是本平台签发的证书"), "{out}");
    let txt = d.join("note.txt");
    std::fs::write(&txt, "hello").unwrap();
    let (code, out, _) = run(&["cert", "verify", txt.to_str().unwrap(), "--keys", keys_s]);
    assert_eq!(code, 2);
    assert!(out.contains("不是 PDF"), "{out}");

    // Revoked in a signed status list: invalid offline too.
    let mut list = certsign::StatusList::new(100);
    list.set(42, true);
    let status = d.join("status.json");
    std::fs::write(
        &status,
        list.to_credential(
            &key,
            "https://pj.zzrs.gov.cn/public/certificates/status",
            "https://pj.zzrs.gov.cn",
            "https://pj.zzrs.gov.cn/public/certificates/keys",
            1_796_256_000,
        ),
    )
    .unwrap();
    let (code, out, _) = run(&[
        "cert",
        "verify",
        &qr,
        "--keys",
        keys_s,
        "--status",
        status.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("已撤销"), "{out}");

    // Rotation: a new key from 2027-01-01; the old certificate still verifies with the new file,
    // and the old key no longer covers dates after its end.
    let (code, out, err) = run(&["cert", "keygen", "--out", ds, "--valid-from", "2027-01-01"]);
    assert_eq!(code, 0, "{out}{err}");
    let ring = certsign::KeyRing::from_json(&std::fs::read_to_string(&keys).unwrap()).unwrap();
    assert_eq!(ring.keys().len(), 2);
    assert_eq!(
        ring.keys()[0].valid_until,
        NaiveDate::from_ymd_opt(2026, 12, 31)
    );
    let (code, out, _) = run(&[
        "cert",
        "verify",
        pdf_path.to_str().unwrap(),
        "--keys",
        keys_s,
    ]);
    assert_eq!(code, 0, "{out}");
    let late = key.sign(&payload(1_830_000_000)); // 2027-12-28: after the old key's end
    let late_qr = certsign::qr_text("https://pj.zzrs.gov.cn", &p.number, &late);
    let (code, out, _) = run(&["cert", "verify", &late_qr, "--keys", keys_s]);
    assert_eq!(code, 2);
    assert!(out.contains("不在密钥"), "{out}");
    // A missing key file is an error, not a verdict.
    let (code, _, err) = run(&["cert", "verify", &qr, "--keys", "/nonexistent/keys.json"]);
    assert_eq!(code, 1);
    assert!(err.contains("无法读取公钥文件"), "{err}");
}
