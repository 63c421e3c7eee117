//! The tests issue 9 names, for the signing crate.

use chrono::NaiveDate;
use rand::SeedableRng;

use crate::payload::sample;
use crate::*;

fn key(seed: u64) -> SigningKey {
    SigningKey::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed))
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn cert_signature_tamper_detected() {
    let k = key(1);
    let ring = KeyRing::new(vec![k.public()]);
    let p = sample();
    let cose = k.sign(&p);
    assert_eq!(ring.verify(&cose).unwrap(), p);
    // Signing is a pure function of key and payload.
    assert_eq!(cose, k.sign(&p));

    // Change one byte of the name inside the signed payload (GB 18030 there): "丰" → "forg".
    let (name, _, _) = encoding_rs::GB18030.encode("张三丰");
    let at = cose
        .windows(name.len())
        .position(|w| w == &name[..])
        .expect("name in payload");
    let mut altered = cose.clone();
    altered[at + 5] ^= 0x01;
    assert_eq!(ring.verify(&altered).unwrap_err(), VerifyError::Tampered);
    // Flip every payload/signature byte in turn: nothing but the original verifies.
    for i in 0..cose.len() {
        let mut b = cose.clone();
        b[i] ^= 0x20;
        assert!(ring.verify(&b).is_err(), "byte {i} altered but verified");
    }
    // A payload re-signed by another key (same kid forged) does not verify either.
    let other = key(2);
    let forged = other.sign(&p);
    assert!(matches!(
        ring.verify(&forged),
        Err(VerifyError::UnknownKey(_))
    ));
    // An impostor who puts our key id in the header and signs with its own key: tampered.
    let c = CoseSign1::parse(&forged).unwrap();
    let mut protected = vec![];
    let header = ciborium::Value::Map(vec![
        (
            ciborium::Value::Integer(1.into()),
            ciborium::Value::Integer((-8).into()),
        ),
        (
            ciborium::Value::Integer(4.into()),
            ciborium::Value::Bytes(k.kid().to_vec()),
        ),
    ]);
    ciborium::into_writer(&header, &mut protected).unwrap();
    let sig = other.sign_bytes(&crate::cose::sig_structure(&protected, &c.payload));
    let mut impostor = vec![];
    ciborium::into_writer(
        &ciborium::Value::Array(vec![
            ciborium::Value::Bytes(protected),
            ciborium::Value::Map(vec![]),
            ciborium::Value::Bytes(c.payload.clone()),
            ciborium::Value::Bytes(sig.to_vec()),
        ]),
        &mut impostor,
    )
    .unwrap();
    assert_eq!(CoseSign1::parse(&impostor).unwrap().kid, k.kid());
    assert_eq!(ring.verify(&impostor).unwrap_err(), VerifyError::Tampered);

    // Through the QR text: altered digits or an altered number in the URL are refused.
    let text = qr_text("https://pj.example.cn", &p.number, &cose);
    assert_eq!(ring.verify_qr(&text).unwrap(), p);
    let swapped = text.replacen("S000041000123265000001", "S000041000123265000002", 1);
    assert!(matches!(
        ring.verify_qr(&swapped),
        Err(VerifyError::NumberMismatch { .. })
    ));
    let mut digits: Vec<char> = text.chars().collect();
    let last = digits.len() - 40;
    digits[last] = if digits[last] == '1' { '2' } else { '1' };
    let e = ring
        .verify_qr(&digits.into_iter().collect::<String>())
        .unwrap_err();
    assert!(
        e.to_string().contains("篡改") || e.to_string().contains("格式错误"),
        "{e}"
    );
    assert!(ring
        .verify(b"not cbor")
        .unwrap_err()
        .to_string()
        .contains("格式错误"));
}

#[test]
fn cert_key_rotation_old_still_verifies() {
    let old = key(10);
    let new = key(11);
    let mut old_pub = old.public();
    old_pub.valid_from = d(2025, 1, 1);
    old_pub.valid_until = Some(d(2026, 6, 30));
    let mut new_pub = new.public();
    new_pub.valid_from = d(2026, 7, 1);
    let ring = KeyRing::new(vec![old_pub, new_pub]);
    // The published file round-trips.
    let ring = KeyRing::from_json(&ring.to_json()).unwrap();
    assert_eq!(ring.keys().len(), 2);

    let mut before = sample();
    before.signed_at = 1_767_225_600; // 2026-01-01 08:00 CST
    let mut after = sample();
    after.signed_at = 1_796_169_600; // 2026-12-02 08:00 CST
    let old_cert = old.sign(&before);
    let new_cert = new.sign(&after);
    assert_eq!(
        ring.verify(&old_cert).unwrap(),
        before,
        "old certificate after rotation"
    );
    assert_eq!(ring.verify(&new_cert).unwrap(), after);

    // A certificate dated after the old key's retirement but signed with it is refused, and so
    // is one signed with the new key before its start.
    let late = old.sign(&after);
    assert!(matches!(
        ring.verify(&late),
        Err(VerifyError::OutsideValidity { .. })
    ));
    let early = new.sign(&before);
    let e = ring.verify(&early).unwrap_err();
    assert!(e.to_string().contains("不在密钥"), "{e}");
    // Boundaries are inclusive, in China Standard Time: 2026-06-30 23:59:59 +08:00.
    let mut last_day = sample();
    last_day.signed_at = 1_782_835_199;
    assert!(ring.verify(&old.sign(&last_day)).is_ok());
    last_day.signed_at += 1;
    assert!(ring.verify(&old.sign(&last_day)).is_err());

    // A ring without the old key cannot verify the old certificate: the key id is unknown.
    let only_new = KeyRing::new(vec![ring.keys()[1].clone()]);
    assert!(matches!(
        only_new.verify(&old_cert),
        Err(VerifyError::UnknownKey(_))
    ));

    // Keys survive PEM: a restored backup signs identically.
    let restored = SigningKey::from_pkcs8_pem(&old.to_pkcs8_pem()).unwrap();
    assert_eq!(restored.kid(), old.kid());
    assert_eq!(restored.sign(&before), old_cert);
    assert!(!format!("{old:?}").contains(&old.to_pkcs8_pem()[28..60]));
    assert!(SigningKey::from_pkcs8_pem("garbage").is_err());
}

#[test]
fn cert_status_list_signed() {
    let k = key(20);
    let mut pk = k.public();
    pk.valid_from = d(2026, 1, 1);
    let ring = KeyRing::new(vec![pk]);
    let mut list = StatusList::new(1000);
    list.set(7, true);
    list.set(1234, true);
    let issued_at = 1_796_169_600;
    let json = list.to_credential(
        &k,
        "https://pj.example.cn/public/certificates/status",
        "https://pj.example.cn",
        "https://pj.example.cn/public/certificates/keys",
        issued_at,
    );
    assert_eq!(
        json,
        list.to_credential(
            &k,
            "https://pj.example.cn/public/certificates/status",
            "https://pj.example.cn",
            "https://pj.example.cn/public/certificates/keys",
            issued_at,
        ),
        "deterministic"
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["type"][1], "BitstringStatusListCredential");
    assert_eq!(v["validFrom"], "2026-12-02T00:00:00Z");
    assert_eq!(v["proof"]["cryptosuite"], "eddsa-jcs-2022");
    assert!(v["credentialSubject"]["encodedList"]
        .as_str()
        .unwrap()
        .starts_with('u'));

    let c = StatusList::verify_credential(&json, &ring).unwrap();
    assert!(c.list.get(7) && c.list.get(1234) && !c.list.get(8));
    assert_eq!(c.issued_at, issued_at);
    assert_eq!(c.kid, k.kid());

    // Un-revoking someone in the published file breaks the signature.
    let mut cleared = list.clone();
    cleared.set(1234, false);
    let forged = json.replace(&list.encode(), &cleared.encode());
    assert_ne!(forged, json);
    assert_eq!(
        StatusList::verify_credential(&forged, &ring).unwrap_err(),
        VerifyError::Tampered
    );
    // So does changing its date.
    let redated = json.replace("\"validFrom\": \"2026-12-02", "\"validFrom\": \"2026-12-09");
    assert_ne!(redated, json);
    assert!(StatusList::verify_credential(&redated, &ring).is_err());
    // Another key's list is unknown.
    assert!(matches!(
        StatusList::verify_credential(&json, &KeyRing::new(vec![key(21).public()])),
        Err(VerifyError::UnknownKey(_))
    ));
}

#[test]
fn qr_version_at_most_12_m_for_a_long_certificate() {
    // Measured in the certpdf crate with the real encoder; here the byte budget: the COSE of a
    // long-named certificate packs into digits that fit with a 40-byte base URL.
    let k = key(30);
    let mut p = sample();
    p.institution = "郑州市金水区某某职业技能培训学校有限公司".into();
    p.occupation_name = "中式烹调师".into();
    p.work_type = Some("中式面点".into());
    let cose = k.sign(&p);
    // A 22-character base URL; each further character costs 8 bits (see docs).
    let text = qr_text("https://pj.zzrs.gov.cn", &p.number, &cose);
    let (prefix, digits) = text.split_once("?s=").unwrap();
    // Bits at version 10–26: byte segment 4+16+8n, numeric 4+12+⌈10d/3⌉.
    let bits = 4 + 16 + 8 * (prefix.len() + 3) + 4 + 12 + (10 * digits.len()).div_ceil(3);
    assert!(
        bits <= 2320,
        "{} bits for {} COSE bytes: over version 12-M",
        bits,
        cose.len()
    );
}

/// The format is pinned: a fixed key and payload give these exact bytes. A change here breaks
/// every printed certificate and `static/verify.js`; the vector is also written to
/// test-artifacts/cert-vector.json for the JavaScript verifier's check.
#[test]
fn format_vector_is_pinned() {
    use sha2::Digest;
    let k = key(2026);
    let mut pk = k.public();
    pk.valid_from = d(2026, 1, 1);
    let ring = KeyRing::new(vec![pk]);
    let mut p = sample();
    p.work_type = Some("维修电工".into());
    let cose = k.sign(&p);
    let text = qr_text("https://pj.zzrs.gov.cn", &p.number, &cose);
    let mut tampered = p.clone();
    tampered.name = "张三".into();
    let forged = {
        // Same signature over different content: what an edit of the payload gives.
        let good = CoseSign1::parse(&cose).unwrap();
        let mut out = vec![];
        ciborium::into_writer(
            &ciborium::Value::Array(vec![
                ciborium::Value::Bytes(good.protected.clone()),
                ciborium::Value::Map(vec![]),
                ciborium::Value::Bytes(tampered.to_cbor()),
                ciborium::Value::Bytes(good.signature.to_vec()),
            ]),
            &mut out,
        )
        .unwrap();
        qr_text("https://pj.zzrs.gov.cn", &p.number, &out)
    };
    assert_eq!(ring.verify_qr(&forged).unwrap_err(), VerifyError::Tampered);
    let vector = serde_json::json!({
        "keys": serde_json::from_str::<serde_json::Value>(&ring.to_json()).unwrap(),
        "qr_text": text,
        "tampered_qr_text": forged,
        "payload": p,
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(
            dir.join("cert-vector.json"),
            serde_json::to_string_pretty(&vector).unwrap(),
        );
    }
    assert_eq!(hex::encode(sha2::Sha256::digest(&cose)), PINNED);
}

const PINNED: &str = "e3581599dc54f91e0326e90cc2444db671abd6531ecb66ff6d7b154529882e95";
