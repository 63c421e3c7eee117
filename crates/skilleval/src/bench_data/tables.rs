//! The small tables, in one transaction: institutions, their filings and 备案范围, plans and
//! their finished batches.

use std::fmt::Write as _;

use anyhow::Context;
use chrono::{Datelike, Duration};

use super::layout::Existing;
use super::{at, day, q, sep, Inst, Options, PlanSpec, RANDOM_INDEXES};

/// Insert the institutions, filings, 备案范围, plans and batches, dropping the indexes on random
/// keys first.
pub(super) async fn write(
    conn: &mut sqlx::AnyConnection,
    opts: &Options,
    ex: &Existing,
    insts: &[Inst],
    plans: &[PlanSpec],
) -> anyhow::Result<()> {
    let (occs, app_base, center, division) = (&ex.occs, ex.app_base, &ex.center, &ex.division);
    let now = at(opts.today, 2);
    let filed_on = opts.today - Duration::days(1_500);
    let mut tx_sql = String::from("BEGIN;");
    for idx in RANDOM_INDEXES {
        let _ = write!(tx_sql, "DROP INDEX IF EXISTS {};", idx.0);
    }
    let mut inst_rows = String::new();
    let mut app_rows = String::new();
    let mut item_rows = String::new();
    let mut filed_rows = String::new();
    for (k, inst) in insts.iter().enumerate() {
        let app_id = app_base + 1 + k as i64;
        let filing_no = domain::filing::filing_number(filed_on.year(), app_id);
        let org = if inst.kind == "enterprise" {
            "91"
        } else {
            "52"
        };
        let credit = domain::credit_code::with_check_digit(&format!(
            "{org}410100{:08}X",
            70_000_000 + inst.id
        ))
        .context("统一社会信用代码")?;
        sep(&mut inst_rows);
        let _ = write!(inst_rows, "({},", inst.id);
        q(&mut inst_rows, &inst.name);
        inst_rows.push(',');
        q(&mut inst_rows, &credit);
        let _ = write!(inst_rows, ",'{}',", inst.kind);
        q(&mut inst_rows, &inst.district);
        let _ = write!(
            inst_rows,
            ",1,{},{},'职业技能培训与评价','郑州市示范路{}号',",
            50 + k % 400,
            1_000_000 + (k as i64 % 50) * 100_000,
            k + 1
        );
        q(&mut inst_rows, &inst.district);
        let _ = write!(inst_rows, ",'郑州市示范路{}号',", k + 1);
        q(&mut inst_rows, &inst.district);
        let _ = write!(
            inst_rows,
            ",'联系人{}','1380000{:04}','filed',",
            k + 1,
            k % 10_000
        );
        q(&mut inst_rows, &filing_no);
        let _ = write!(inst_rows, ",'{now}','{now}','{}')", inst.site_code);

        sep(&mut app_rows);
        let _ = write!(
            app_rows,
            "({app_id},'{}','district',{},'{}','filed','{}','{}','{}','{}','{}',",
            inst.kind,
            inst.id,
            inst.district,
            at(filed_on, 1),
            day(filed_on - Duration::days(10)),
            day(filed_on - Duration::days(1)),
            center,
            division
        );
        q(&mut app_rows, &filing_no);
        let _ = write!(
            app_rows,
            ",'{}','bench-data','{}','{}')",
            day(filed_on),
            at(filed_on - Duration::days(60), 1),
            at(filed_on, 1)
        );
        for o in &inst.occupations {
            let levels = occs[*o]
                .levels
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(",");
            sep(&mut item_rows);
            let _ = write!(item_rows, "({app_id},{},'{levels}')", occs[*o].id);
            sep(&mut filed_rows);
            let _ = write!(filed_rows, "({},{},'{levels}',", inst.id, occs[*o].id);
            q(&mut filed_rows, &filing_no);
            let _ = write!(filed_rows, ",'{}')", day(filed_on));
        }
    }
    let _ = write!(tx_sql, "INSERT INTO institutions (id, name, credit_code, kind, district_code, legal_person, employees, capital_yuan, business_scope, reg_address, reg_district, biz_address, biz_district, contact_name, contact_phone, filing_status, filing_no, created_at, updated_at, site_code) VALUES {inst_rows};");
    let _ = write!(tx_sql, "INSERT INTO filing_applications (id, kind, route, institution_id, district_code, state, state_since, publicity_start, publicity_end, center_approved_by, division_approved_by, filing_no, filed_on, created_by, created_at, updated_at) VALUES {app_rows};");
    let _ = write!(
        tx_sql,
        "INSERT INTO filing_items (application_id, occupation_id, levels) VALUES {item_rows};"
    );
    let _ = write!(tx_sql, "INSERT INTO filed_occupations (institution_id, occupation_id, levels, filing_no, filed_on) VALUES {filed_rows};");
    // Plans and batches (one finished batch per plan).
    for chunk in plans.chunks(500) {
        let mut rows = String::new();
        let mut batches = String::new();
        for p in chunk {
            let inst = &insts[p.inst];
            let start = p.issued_on - Duration::days(20);
            let end = start + Duration::days(1);
            let published = end + Duration::days(1);
            let until = published + Duration::days(7);
            sep(&mut rows);
            let _ = write!(
                rows,
                "({},'JH{}{:06}',{},'{}',{},'{}','theory,skill','{}','{}','郑州市示范路{}号实训楼',{},'考评员甲、考评员乙','内部督导员','city_confirmed','{}','{}','{}','{}','submitted','{}','{}','{}','{}','{}','{}')",
                p.id,
                start.year(),
                p.id,
                inst.id,
                inst.district,
                occs[p.occ].id,
                p.level,
                day(start),
                day(end),
                p.inst + 1,
                p.candidates,
                at(start - Duration::days(10), 1),
                center,
                at(start - Duration::days(10), 1),
                day(published),
                day(until),
                at(until, 3),
                at(start - Duration::days(30), 1),
                at(p.issued_on, 3),
                day(published + Duration::days(1)),
                day(start - Duration::days(12)),
            );
            sep(&mut batches);
            let certs = p.certs;
            let _ = write!(
                batches,
                "({},{},{},'done','{}',{certs},{certs},'已签发 {certs} 本证书','{}','{}','{}','{}')",
                p.batch_id,
                p.id,
                inst.id,
                day(p.issued_on),
                center,
                at(p.issued_on, 2),
                at(p.issued_on, 3),
                at(p.issued_on, 3)
            );
        }
        let _ = write!(tx_sql, "INSERT INTO plans (id, plan_no, institution_id, district_code, occupation_id, levels, forms, start_date, end_date, venue, expected_candidates, examiners, internal_supervisor, status, status_since, city_confirmed_by, city_confirmed_at, results_published_on, results_status, results_publicity_until, results_submitted_at, created_at, updated_at, results_publicity_from, paper_received_on) VALUES {rows};");
        if opts.issue {
            let _ = write!(tx_sql, "INSERT INTO cert_batches (id, plan_id, institution_id, status, issued_on, total, done, message, created_by, created_at, updated_at, finished_at) VALUES {batches};");
        }
    }
    tx_sql.push_str("COMMIT;");
    sqlx::raw_sql(&tx_sql).execute(&mut *conn).await?;
    Ok(())
}
