//! Uploads and downloads of materials: content-type detection, names, size limits, versions
//! and jurisdiction.

use reqwest::multipart::{Form, Part};

use crate::helpers::{spawn_app, TestApp};

/// A tiny but real PDF.
pub const TINY_PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\nxref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \ntrailer<</Size 3/Root 1 0 R>>\nstartxref\n98\n%%EOF\n";

async fn inst_of(app: &TestApp, username: &str) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT institution_id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0)
}

fn form(kind: &str, filename: &str, bytes: Vec<u8>) -> Form {
    Form::new()
        .text("kind", kind.to_string())
        .part("file", Part::bytes(bytes).file_name(filename.to_string()))
}

async fn upload(
    app: &TestApp,
    c: &reqwest::Client,
    inst: i64,
    filename: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    c.post(app.url(&format!("/api/v1/institutions/{inst}/documents")))
        .multipart(form("business_license", filename, bytes))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn document_upload_ok_and_new_version() {
    let app = spawn_app().await;
    // Demo data may hold documents already (e.g. electronic filings): count from here.
    let (base_docs, base_blobs) = (
        app.count("SELECT COUNT(*) FROM documents").await,
        app.blob_files(),
    );
    let _ = (base_docs, base_blobs);
    // Upload events so far (the demo disposes of some documents, so not one per row left).
    let base_uploads = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'document.upload'")
        .await;
    let inst = inst_of(&app, "inst-1").await;
    let c = app.login("inst-1").await;
    let r = upload(&app, &c, inst, "营业执照.pdf", TINY_PDF.to_vec()).await;
    assert_eq!(r.status(), 201);
    let docs: serde_json::Value = r.json().await.unwrap();
    let id = docs[0]["id"].as_i64().unwrap();
    assert_eq!(docs[0]["version"], 1);
    assert_eq!(docs[0]["content_type"], "application/pdf");
    assert_eq!(app.blob_files() - base_blobs, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'document.upload'")
            .await
            - base_uploads,
        1
    );

    // The district of the institution downloads it.
    let d = app.login("district-410105").await;
    let r = d
        .get(app.url(&format!("/documents/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cd.starts_with("attachment;"), "{cd}");
    assert!(cd.contains("filename*=UTF-8''%E8%90%A5%E4%B8%9A"), "{cd}");
    assert_eq!(r.bytes().await.unwrap().as_ref(), TINY_PDF);

    // A re-upload of the same name is version 2; version 1 stays.
    let mut v2 = TINY_PDF.to_vec();
    v2.extend_from_slice(b"% second\n");
    let r = upload(&app, &c, inst, "营业执照.pdf", v2).await;
    assert_eq!(r.status(), 201);
    let docs: serde_json::Value = r.json().await.unwrap();
    assert_eq!(docs[0]["version"], 2);
    assert_eq!(app.blob_files() - base_blobs, 2);
    let list: serde_json::Value = c
        .get(app.url(&format!("/api/v1/institutions/{inst}/documents")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Other documents of the institution (its electronic filing in the demo data) list too.
    let mine: Vec<&serde_json::Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["latest"]["kind"] != "filing_materials")
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["latest"]["version"], 2);
    assert_eq!(mine[0]["older"][0]["version"], 1);
    let r = c
        .get(app.url(&format!("/documents/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        TINY_PDF,
        "version 1 unchanged"
    );

    // The page lists it.
    let html = c
        .get(app.url(&format!("/institutions/{inst}/documents")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("营业执照.pdf") && html.contains("第 2 版"));
}

#[tokio::test]
async fn document_exe_renamed_pdf_refused() {
    let app = spawn_app().await;
    // Demo data may hold documents already (e.g. electronic filings): count from here.
    let (base_docs, base_blobs) = (
        app.count("SELECT COUNT(*) FROM documents").await,
        app.blob_files(),
    );
    let _ = (base_docs, base_blobs);
    let inst = inst_of(&app, "inst-1").await;
    let c = app.login("inst-1").await;
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec();
    exe.extend_from_slice(&[0u8; 512]);
    let r = upload(&app, &c, inst, "营业执照.pdf", exe).await;
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["field"], "file");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("文件类型不受支持"),
        "{body}"
    );
    // A PDF named .docx: the content and the extension disagree.
    let r = upload(&app, &c, inst, "申请书.docx", TINY_PDF.to_vec()).await;
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("文件内容与扩展名不符"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM documents").await - base_docs,
        0
    );
    assert_eq!(app.blob_files() - base_blobs, 0);
}

#[tokio::test]
async fn document_dotdot_name_refused() {
    let app = spawn_app().await;
    // Demo data may hold documents already (e.g. electronic filings): count from here.
    let (base_docs, base_blobs) = (
        app.count("SELECT COUNT(*) FROM documents").await,
        app.blob_files(),
    );
    let _ = (base_docs, base_blobs);
    let inst = inst_of(&app, "inst-1").await;
    let c = app.login("inst-1").await;
    let r = upload(&app, &c, inst, "../../etc/x.pdf", TINY_PDF.to_vec()).await;
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains(".."), "{body}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM documents").await - base_docs,
        0
    );
    assert_eq!(app.blob_files() - base_blobs, 0);
}

#[tokio::test]
async fn document_oversized_refused_413_nothing_stored() {
    let app = spawn_app().await;
    // Demo data may hold documents already (e.g. electronic filings): count from here.
    let (base_docs, base_blobs) = (
        app.count("SELECT COUNT(*) FROM documents").await,
        app.blob_files(),
    );
    let _ = (base_docs, base_blobs);
    let inst = inst_of(&app, "inst-1").await;
    let c = app.login("inst-1").await;
    // 3 MB: over the general 2 MB limit but within the 20 MB upload limit.
    let mut big = TINY_PDF.to_vec();
    big.resize(3 * 1024 * 1024, b' ');
    let r = upload(&app, &c, inst, "大文件.pdf", big).await;
    assert_eq!(
        r.status(),
        201,
        "3 MB upload is accepted on an upload route"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM documents").await - base_docs,
        1
    );

    // 21 MB: refused with 413 and a Chinese message; nothing more stored.
    let mut huge = TINY_PDF.to_vec();
    huge.resize(21 * 1024 * 1024, b' ');
    let r = upload(&app, &c, inst, "超大文件.pdf", huge).await;
    assert_eq!(r.status(), 413);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("文件超过 20 MB 上限"),
        "{body}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM documents").await - base_docs,
        1
    );
    assert_eq!(app.blob_files() - base_blobs, 1);
}

#[tokio::test]
async fn non_upload_routes_keep_the_2mb_limit() {
    let app = spawn_app().await;
    // Demo data may hold documents already (e.g. electronic filings): count from here.
    let (base_docs, base_blobs) = (
        app.count("SELECT COUNT(*) FROM documents").await,
        app.blob_files(),
    );
    let _ = (base_docs, base_blobs);
    let c = app.client();
    let big = "x".repeat(3 * 1024 * 1024);
    let r = c
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({ "username": big, "password": "p" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

#[tokio::test]
async fn document_other_district_gets_404() {
    let app = spawn_app().await;
    // Demo data may hold documents already (e.g. electronic filings): count from here.
    let (base_docs, base_blobs) = (
        app.count("SELECT COUNT(*) FROM documents").await,
        app.blob_files(),
    );
    let _ = (base_docs, base_blobs);
    let inst = inst_of(&app, "inst-1").await;
    let c = app.login("inst-1").await;
    let r = upload(&app, &c, inst, "营业执照.pdf", TINY_PDF.to_vec()).await;
    let docs: serde_json::Value = r.json().await.unwrap();
    let id = docs[0]["id"].as_i64().unwrap();
    for other in ["district-410102", "inst-2", "expert-1"] {
        let o = app.login(other).await;
        let r = o
            .get(app.url(&format!("/documents/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{other}");
        // Nor may it upload to or list that institution.
        // (an expert uploads nothing at all: the permission table refuses it first)
        let r = upload(&app, &o, inst, "x.pdf", TINY_PDF.to_vec()).await;
        let expected = if other == "expert-1" { 403 } else { 404 };
        assert_eq!(r.status(), expected, "{other} upload");
    }
    let city = app.login("center").await;
    let r = city
        .get(app.url(&format!("/documents/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Unknown id and anonymous: no hint.
    let r = city.get(app.url("/documents/999999")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM documents").await - base_docs,
        1
    );
}

#[tokio::test]
async fn upload_of_200_mb_is_refused_before_reading() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    // Demo data may hold documents already: count from here.
    let (base_docs, base_blobs) = (
        app.count("SELECT COUNT(*) FROM documents").await,
        app.blob_files(),
    );
    let inst = inst_of(&app, "inst-1").await;
    // Declare 200 MB but send only the headers: the server answers without reading the body.
    let mut s = tokio::net::TcpStream::connect(&app.addr).await.unwrap();
    let req = format!(
        "POST /api/v1/institutions/{inst}/documents HTTP/1.1\r\nHost: {}\r\nOrigin: http://{}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.addr,
        app.addr,
        200 * 1024 * 1024
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("文件超过 20 MB 上限"), "{text}");
    assert_eq!(app.count("SELECT COUNT(*) FROM documents").await, base_docs);
    assert_eq!(app.blob_files(), base_blobs);
}

#[tokio::test]
async fn document_upload_through_the_page() {
    let app = spawn_app().await;
    let base_docs = app.count("SELECT COUNT(*) FROM documents").await;
    let inst = inst_of(&app, "inst-1").await;
    let c = app.login("inst-1").await;
    let page = app.url(&format!("/institutions/{inst}/documents"));
    let html = c.get(&page).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("enctype=\"multipart/form-data\"") && html.contains("材料类别"));
    let r = c
        .post(&page)
        .multipart(form(
            "filing_materials",
            "电子备案材料.pdf",
            TINY_PDF.to_vec(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/institutions/{inst}/documents?msg=uploaded")
    );
    // A refused file shows the form again with the reason.
    let r = c
        .post(&page)
        .multipart(form("filing_materials", "setup.pdf", b"MZ\x90\0".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("文件类型不受支持") && html.contains("电子备案材料.pdf"));
    // No kind chosen.
    let r = c
        .post(&page)
        .multipart(form("", "a.pdf", TINY_PDF.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("请选择材料类别"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM documents").await - base_docs,
        1
    );
    let html = c.get(&page).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("电子备案材料.pdf"));
}

#[tokio::test]
async fn infra_paths_are_in_openapi() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app
        .client()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, method) in [
        ("/api/v1/institutions/{id}/documents", "post"),
        ("/api/v1/jobs/{id}", "get"),
        ("/api/v1/notifications", "get"),
        ("/api/v1/notifications/{id}/read", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{path} {method}");
    }
    assert!(doc["paths"]["/api/v1/session"]["post"].is_object());
}
