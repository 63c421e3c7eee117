//! xlsx imports through a background job: all or nothing, per-row error report, progress.

use std::time::Duration;

use domain::id_number::{with_check_digit, IdNumber};
use sheets::{Column, SheetSpec};
use web::imports::{read_sheet, validate_rows};
use web::jobs::{spawn_job, JobOutcome};

use crate::helpers::{spawn_app, TestApp};

fn spec() -> SheetSpec {
    SheetSpec {
        title: "考生名单",
        columns: vec![
            Column::new("name", "姓名").required(),
            Column::new("id_number", "身份证件号码").required(),
        ],
        instructions: vec![],
    }
}

fn workbook(rows: &[[&str; 2]]) -> Vec<u8> {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect();
    sheets::write_report("考生名单", &["姓名", "身份证件号码"], &rows).unwrap()
}

async fn wait(app: &TestApp, c: &reqwest::Client, id: i64) -> serde_json::Value {
    for _ in 0..200 {
        let j: serde_json::Value = c
            .get(app.url(&format!("/api/v1/jobs/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if j["finished"] == true {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("job {id} did not finish");
}

async fn run(app: &TestApp, bytes: Vec<u8>) -> i64 {
    let rows = read_sheet(&spec(), bytes).await.unwrap();
    let actor = store::Actor {
        user_id: Some(app.user_id("inst-1").await),
        username: "inst-1".into(),
        role: "institution".into(),
        ..Default::default()
    };
    spawn_job(
        &app.store,
        &actor,
        "candidate_import",
        None,
        move |p| async move {
            let valid = validate_rows(&p, &spec(), &rows, |row| {
                IdNumber::parse(row.get("id_number"))
                    .map(|id| (row.get("name").to_string(), id))
                    .map_err(|e| vec![("身份证件号码".to_string(), e.to_string())])
            })
            .await?;
            Ok(JobOutcome::new(format!("已导入 {} 名考生", valid.len())).link("/dashboard"))
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn import_with_errors_imports_nothing_and_reports_rows() {
    let app = spawn_app().await;
    let good = with_check_digit("41010519900101123").unwrap();
    let bytes = workbook(&[
        ["张三", &good],
        ["", &good],
        ["李四", "410105199001011230"],
        ["王五", &good],
    ]);
    let id = run(&app, bytes).await;
    let c = app.login("inst-1").await;
    let j = wait(&app, &c, id).await;
    assert_eq!(j["status"], "failed");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("2 行有误，未导入任何记录"),
        "{j}"
    );
    assert_eq!(j["result"]["report_url"], format!("/jobs/{id}/report"));

    // The report lists row 3 (empty name) and row 4 (bad ID number).
    let r = c
        .get(app.url(&format!("/jobs/{id}/report")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let report = r.bytes().await.unwrap();
    let report_spec = SheetSpec {
        title: "错误报告",
        columns: vec![
            Column::new("row", "行号"),
            Column::new("col", "列"),
            Column::new("msg", "错误说明"),
        ],
        instructions: vec![],
    };
    let lines = sheets::read(&report_spec, &report).unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!((lines[0].get("row"), lines[0].get("col")), ("3", "姓名"));
    assert_eq!(lines[1].get("row"), "4");
    assert!(!lines[1].get("msg").is_empty());

    // Someone else cannot fetch the report.
    let other = app.login("inst-2").await;
    let r = other
        .get(app.url(&format!("/jobs/{id}/report")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn import_of_valid_rows_succeeds() {
    let app = spawn_app().await;
    let good = with_check_digit("41010519900101123").unwrap();
    let id = run(&app, workbook(&[["张三", &good], ["王五", &good]])).await;
    let c = app.login("inst-1").await;
    let j = wait(&app, &c, id).await;
    assert_eq!(j["status"], "succeeded", "{j}");
    assert_eq!(j["message"], "已导入 2 名考生");
    assert_eq!(j["done"], 2);
    assert_eq!(j["total"], 2);
}

#[tokio::test]
async fn import_with_wrong_headers_is_refused_at_once() {
    let bytes = sheets::write_report("x", &["姓名", "身份证号"], &[]).unwrap();
    match read_sheet(&spec(), bytes).await {
        Err(web::AppError::Invalid { field, message }) => {
            assert_eq!(field, "file");
            assert!(message.contains("缺少“身份证件号码”列"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match read_sheet(&spec(), b"not a workbook".to_vec()).await {
        Err(web::AppError::Invalid { message, .. }) => assert!(message.contains("Excel")),
        other => panic!("{other:?}"),
    }
}
