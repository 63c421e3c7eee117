//! Sign and verify rate of one certificate (`cargo bench -p skilleval-certsign`).
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use skilleval_certsign::{mask_id, CertificatePayload, KeyRing, SigningKey};

fn payload(i: u32) -> CertificatePayload {
    CertificatePayload {
        number: format!("S000041000123265{i:06}"),
        name: "张三丰".into(),
        id_type: "居民身份证".into(),
        id_masked: mask_id("11010519491231002X"),
        occupation_code: "6-31-01-03".into(),
        occupation_name: "电工".into(),
        work_type: None,
        level: 4,
        issued_on: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(),
        institution: "郑州市金水区技能人才评价服务中心".into(),
        status_index: i,
        signed_at: 1_796_169_600,
    }
}

fn bench(c: &mut Criterion) {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let ring = KeyRing::new(vec![key.public()]);
    let p = payload(1);
    let cose = key.sign(&p);
    let mut g = c.benchmark_group("certsign");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign", |b| b.iter(|| key.sign(std::hint::black_box(&p))));
    g.bench_function("verify", |b| {
        b.iter(|| ring.verify(std::hint::black_box(&cose)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
