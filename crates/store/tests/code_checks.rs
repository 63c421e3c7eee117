//! The schema and the domain hold the same closed sets of codes: every code of every enum the
//! store parses is accepted by its column, and a value outside the set is refused by the
//! database itself (CHECK on PostgreSQL, triggers on SQLite; migrations 16 and 17).

extern crate skilleval_store as store;

use domain::Code;

/// Set `table.column` of one demo row to `value` inside a transaction that is rolled back;
/// whether the database accepted it.
async fn accepts(s: &store::Store, table: &str, column: &str, value: &str) -> bool {
    let mut tx = s.db.pool.begin().await.expect("begin");
    let sql = format!("UPDATE {table} SET {column} = $1 WHERE id = (SELECT MIN(id) FROM {table})");
    let outcome = sqlx::query(&sql).bind(value).execute(&mut *tx).await;
    tx.rollback().await.expect("rollback");
    match outcome {
        Ok(done) => {
            assert_eq!(done.rows_affected(), 1, "{table} has a demo row to update");
            true
        }
        Err(_) => false,
    }
}

async fn check<T: Code>(s: &store::Store, table: &str, column: &str) {
    for code in T::ALL {
        assert!(
            accepts(s, table, column, code.code()).await,
            "{table}.{column} refuses {} ({}), a member of the domain's set",
            code.code(),
            T::WHAT
        );
    }
    assert!(
        !accepts(s, table, column, "no_such_code").await,
        "{table}.{column} accepts a value outside the set of {}",
        T::WHAT
    );
}

#[tokio::test]
async fn schema_checks_match_domain_enums() {
    let dir = tempfile::tempdir().unwrap();
    let url = store::testing::fresh_database_url(dir.path()).await;
    let s = store::testing::demo_store(&url).await;
    use domain::{certissue, draw, filing, institution, plan, retention};
    check::<filing::FilingKind>(&s, "filing_applications", "kind").await;
    check::<filing::Route>(&s, "filing_applications", "route").await;
    check::<filing::FilingState>(&s, "filing_applications", "state").await;
    check::<filing::ReviewMode>(&s, "filing_applications", "review_mode").await;
    check::<filing::ExceptionStatus>(&s, "filing_exceptions", "status").await;
    check::<filing::MoveStatus>(&s, "institution_district_moves", "status").await;
    check::<institution::InstitutionKind>(&s, "institutions", "kind").await;
    check::<institution::FilingStatus>(&s, "institutions", "filing_status").await;
    check::<institution::RegistrationStatus>(&s, "institution_registrations", "status").await;
    check::<institution::DistrictBasis>(&s, "institutions", "district_basis").await;
    check::<plan::PlanStatus>(&s, "plans", "status").await;
    check::<plan::ResultsStatus>(&s, "plans", "results_status").await;
    check::<plan::EfilingStatus>(&s, "efilings", "status").await;
    check::<draw::DrawStatus>(&s, "expert_draws", "status").await;
    check::<draw::MemberStatus>(&s, "draw_members", "status").await;
    check::<domain::Role>(&s, "users", "role").await;
    check::<certissue::CertState>(&s, "certificates", "state").await;
    check::<certissue::ChangeKind>(&s, "cert_changes", "kind").await;
    check::<certissue::ChangeStatus>(&s, "cert_changes", "status").await;
    check::<certissue::BatchStatus>(&s, "cert_batches", "status").await;
    check::<retention::RecordState>(&s, "retention_records", "state").await;
    check::<retention::DisposalStatus>(&s, "retention_disposals", "status").await;
    check::<domain::reference::ItemKind>(&s, "occupations", "kind").await;
}
