//! The work queue's one statement (`Store::work_queue`) returns, source by source, what the lists
//! it replaced return: the same rows in the same order through the same scope. On the demo data,
//! on SQLite and (with SKILLEVAL_TEST_PG) on PostgreSQL.

extern crate skilleval_store as store;

use domain::Scope;
use store::{
    FilingFilter, InstitutionFilter, PageRequest, PlanFilter, QueueRows, QueueSource,
    RetentionFilter, UserFilter,
};

fn page(n: i64) -> PageRequest {
    PageRequest::new(Some(1), Some(n))
}

fn plans(status: &str) -> PlanFilter {
    PlanFilter {
        status: Some(status.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn work_queue_returns_what_the_lists_return() {
    let dir = tempfile::tempdir().unwrap();
    let url = store::testing::fresh_database_url(dir.path()).await;
    let s = store::testing::demo_store(&url).await;
    let today = store::testing::today();
    let some_institution = s
        .list_institutions(&Scope::City, &InstitutionFilter::default(), page(1))
        .await
        .unwrap()
        .items[0]
        .id;
    let plan_filters = [
        plans("draft"),
        plans("submitted"),
        plans("paper_received"),
        plans("entered"),
        plans("city_confirmed"),
        PlanFilter {
            status: Some("city_confirmed".into()),
            without_supervisor: Some("district"),
            ..Default::default()
        },
        PlanFilter {
            status: Some("city_confirmed".into()),
            without_supervisor: Some("city"),
            ..Default::default()
        },
        PlanFilter {
            status: Some("city_confirmed".into()),
            certificates_waiting: true,
            ..Default::default()
        },
    ];
    let mut compared = 0;
    for scope in [
        Scope::City,
        Scope::District("410105".into()),
        Scope::District("410102".into()),
        Scope::Institution(some_institution),
    ] {
        let mut sources: Vec<QueueSource> = plan_filters
            .iter()
            .cloned()
            .map(QueueSource::Plans)
            .collect();
        sources.extend([
            QueueSource::IncompleteInstitutions,
            QueueSource::SubmittedEfilings,
            QueueSource::Filings,
            QueueSource::PendingRegistrations,
            QueueSource::DueRetention,
            QueueSource::InstitutionCount,
            QueueSource::AccountCount,
            QueueSource::DistrictAccounts,
            QueueSource::PendingExceptions,
            QueueSource::OverdueFilingCount,
            QueueSource::ProposedCertChanges,
        ]);
        let rows = s.work_queue(&scope, today, &sources).await.unwrap();
        assert_eq!(rows.len(), sources.len());
        for (source, got) in sources.iter().zip(rows) {
            let what = format!("{source:?} through {scope:?}");
            match (source, got) {
                (QueueSource::Plans(f), QueueRows::Plans(got)) => {
                    let want = s.list_plans(&scope, f, page(200)).await.unwrap().items;
                    let ids = |v: &[i64]| v.to_vec();
                    assert_eq!(
                        ids(&got.iter().map(|p| p.id).collect::<Vec<_>>()),
                        want.iter().map(|p| p.id).collect::<Vec<_>>(),
                        "{what}"
                    );
                    for (g, w) in got.iter().zip(&want) {
                        assert_eq!(
                            (
                                &g.plan_no,
                                &g.institution_name,
                                &g.district_name,
                                &g.start_date,
                                &g.last_reason,
                                g.results_status,
                                &g.results_publicity_until,
                                &g.results_submitted_at,
                                &g.status_since
                            ),
                            (
                                &w.plan_no,
                                &w.institution_name,
                                &w.district_name,
                                &w.start_date,
                                &w.last_reason,
                                w.results_status,
                                &w.results_publicity_until,
                                &w.results_submitted_at,
                                &w.status_since
                            ),
                            "{what}"
                        );
                        if f.certificates_waiting {
                            let waiting = s
                                .issue_candidates(w.id)
                                .await
                                .unwrap()
                                .iter()
                                .filter(|c| c.issued.is_none())
                                .count() as i64;
                            assert_eq!(g.certificates_waiting, Some(waiting), "{what}");
                        } else {
                            assert_eq!(g.certificates_waiting, None, "{what}");
                        }
                    }
                    compared += got.len();
                }
                (QueueSource::IncompleteInstitutions, QueueRows::Institutions(got)) => {
                    let f = InstitutionFilter {
                        incomplete: true,
                        ..Default::default()
                    };
                    let want = s.list_institutions(&scope, &f, page(50)).await.unwrap();
                    let want: Vec<_> = want
                        .items
                        .iter()
                        .map(|i| (i.id, i.name.clone(), i.created_at.clone()))
                        .collect();
                    let got: Vec<_> = got
                        .into_iter()
                        .map(|i| (i.id, i.name, i.created_at))
                        .collect();
                    assert_eq!(got, want, "{what}");
                    compared += got.len();
                }
                (QueueSource::SubmittedEfilings, QueueRows::Efilings(got)) => {
                    let f = store::EfilingFilter {
                        q: None,
                        status: Some("submitted".into()),
                    };
                    let want = s.list_efilings(&scope, &f, page(200)).await.unwrap();
                    let want: Vec<_> = want
                        .items
                        .iter()
                        .map(|e| {
                            (
                                e.institution_id,
                                e.institution_name.clone(),
                                e.submitted_at.clone(),
                            )
                        })
                        .collect();
                    let got: Vec<_> = got
                        .into_iter()
                        .map(|e| (e.institution_id, e.institution_name, e.submitted_at))
                        .collect();
                    assert_eq!(got, want, "{what}");
                    compared += got.len();
                }
                (QueueSource::Filings, QueueRows::Filings(got)) => {
                    let want = s
                        .list_filings(&scope, &FilingFilter::default(), page(200))
                        .await
                        .unwrap()
                        .items;
                    assert_eq!(got.len(), want.len(), "{what}");
                    for (g, w) in got.iter().zip(&want) {
                        assert_eq!(g.id, w.id, "{what}");
                        assert_eq!(g.institution_name, w.institution_name, "{what}");
                        assert_eq!(g.state_since, w.state_since, "{what}");
                        assert_eq!(g.workflow, w.workflow_state(), "{what}");
                    }
                    compared += got.len();
                }
                (QueueSource::PendingRegistrations, QueueRows::Registrations(got)) => {
                    let want = s
                        .list_registrations(&scope, Some("pending"), page(100))
                        .await
                        .unwrap();
                    let want: Vec<_> = want
                        .items
                        .iter()
                        .map(|r| {
                            (
                                r.id,
                                r.institution_name.clone(),
                                r.filing_no.clone(),
                                r.username.clone(),
                                r.created_at.clone(),
                            )
                        })
                        .collect();
                    let got: Vec<_> = got
                        .into_iter()
                        .map(|r| {
                            (
                                r.id,
                                r.institution_name,
                                r.filing_no,
                                r.username,
                                r.created_at,
                            )
                        })
                        .collect();
                    assert_eq!(got, want, "{what}");
                    compared += got.len();
                }
                (QueueSource::DueRetention, QueueRows::Retention(got)) => {
                    let f = RetentionFilter {
                        state: Some("due".into()),
                        ..Default::default()
                    };
                    let want = s
                        .list_retention(&scope, &f, today, page(10_000))
                        .await
                        .unwrap();
                    let want: Vec<_> = want
                        .items
                        .iter()
                        .map(|r| {
                            (
                                r.id,
                                r.title.clone(),
                                r.district_code.clone(),
                                r.due_on.clone(),
                                r.hold.clone(),
                                r.disposal_status,
                                r.disposal_first_side.clone(),
                            )
                        })
                        .collect();
                    let got: Vec<_> = got
                        .into_iter()
                        .map(|r| {
                            (
                                r.id,
                                r.title,
                                r.district_code,
                                r.due_on,
                                r.hold,
                                r.disposal_status,
                                r.disposal_first_side,
                            )
                        })
                        .collect();
                    assert_eq!(got, want, "{what}");
                    compared += got.len();
                }
                (QueueSource::InstitutionCount, QueueRows::Count(n)) => {
                    let want = s
                        .count_institutions(&scope, &InstitutionFilter::default())
                        .await
                        .unwrap();
                    assert_eq!(n, want, "{what}");
                }
                (QueueSource::AccountCount, QueueRows::Count(n)) => {
                    assert_eq!(n, s.count_accounts_in(&scope).await.unwrap(), "{what}");
                    assert!(n > 0 || matches!(scope, Scope::Institution(_)), "{what}");
                }
                (QueueSource::DistrictAccounts, QueueRows::Districts(got)) => {
                    let f = UserFilter {
                        role: Some("district".into()),
                        ..Default::default()
                    };
                    let want = s.list_accounts(&scope, &f, page(200)).await.unwrap();
                    let want: Vec<_> = want.items.iter().map(|a| a.district_code.clone()).collect();
                    assert_eq!(got, want, "{what}");
                    compared += got.len();
                }
                (QueueSource::PendingExceptions, QueueRows::Exceptions(got)) => {
                    let want = s
                        .list_exceptions(&scope, Some("pending"), page(200))
                        .await
                        .unwrap();
                    let want: Vec<_> = want
                        .items
                        .iter()
                        .map(|e| {
                            (
                                e.id,
                                e.institution_name.clone(),
                                e.reason.clone(),
                                e.occupation_name.clone(),
                                e.raised_at.clone(),
                                e.center_by.clone(),
                                e.division_by.clone(),
                            )
                        })
                        .collect();
                    let got: Vec<_> = got
                        .into_iter()
                        .map(|e| {
                            (
                                e.id,
                                e.institution_name,
                                e.reason,
                                e.occupation_name,
                                e.raised_at,
                                e.center_by,
                                e.division_by,
                            )
                        })
                        .collect();
                    assert_eq!(got, want, "{what}");
                    compared += got.len();
                }
                (QueueSource::OverdueFilingCount, QueueRows::Count(n)) => {
                    let want = s.overdue_filings(&scope, today, page(1)).await.unwrap();
                    assert_eq!(n, want.total, "{what}");
                }
                (QueueSource::ProposedCertChanges, QueueRows::CertChanges(got)) => {
                    let want = s.cert_changes(None).await.unwrap();
                    let want: Vec<_> = want
                        .iter()
                        .map(|x| {
                            (
                                x.certificate_id,
                                x.cert_no.clone(),
                                x.kind_label(),
                                x.reason.clone(),
                                x.proposed_by.clone(),
                                x.proposed_role.clone(),
                                x.proposed_at.clone(),
                            )
                        })
                        .collect();
                    let got: Vec<_> = got
                        .into_iter()
                        .map(|x| {
                            (
                                x.certificate_id,
                                x.cert_no,
                                x.kind_label,
                                x.reason,
                                x.proposed_by,
                                x.proposed_role,
                                x.proposed_at,
                            )
                        })
                        .collect();
                    assert_eq!(got, want, "{what}");
                    compared += got.len();
                }
                (source, got) => panic!("{source:?} answered {got:?}"),
            }
        }
    }
    // The demo data gives the comparison something to compare.
    assert!(compared >= 20, "only {compared} rows compared");
}
