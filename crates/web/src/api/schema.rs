//! Pieces of the OpenAPI document that no single handler owns: authentication, the error schema
//! on every refusal, and the shapes of responses that handlers assemble from several records.
//! The shapes here describe JSON built in handlers; records the store returns document
//! themselves (their types derive `ToSchema`).

use serde::Serialize;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};
use utoipa::{Modify, ToSchema};

/// Bearer tokens for systems, the session cookie for browsers.
pub struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "管理员签发的接口令牌（sev_…），限定角色与区县，有有效期；见 /api/v1/api-tokens",
                    ))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "浏览器会话（POST /api/v1/session 登录后设置）；写操作须同源",
            ))),
        );
        doc.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

/// Every refusal (4xx, 5xx) answers with [`super::ErrorBody`]; authenticated operations may
/// answer 401 (not logged in) and 403 (wrong role, or a password that must be changed first).
pub fn finish(doc: &mut OpenApi) {
    let error = || Content::new(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody"))));
    for item in doc.paths.paths.values_mut() {
        for op in operations(item) {
            let public = op.security.as_ref().is_some_and(|s| {
                s.iter()
                    .all(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({})))
            });
            if !public {
                for (code, text) in [
                    ("401", "未登录或令牌无效"),
                    ("403", "角色无权，或须先修改密码"),
                ] {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| RefOr::T(Response::new(text)));
                }
            }
            for (code, resp) in op.responses.responses.iter_mut() {
                if code.starts_with('2') || code.starts_with('3') {
                    continue;
                }
                if let RefOr::T(r) = resp {
                    r.content
                        .entry("application/json".into())
                        .or_insert_with(error);
                }
            }
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<&mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Any JSON object (used for free-form parts such as audit summaries).
pub type Object = serde_json::Map<String, serde_json::Value>;

/// A page of a list.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct PageOf<T: ToSchema> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// A record just created, named by its id.
#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// A full identity number (each view is audited).
#[derive(Serialize, ToSchema)]
pub struct IdNumberView {
    pub id_number: String,
}

/// How many rows an import stored.
#[derive(Serialize, ToSchema)]
pub struct Imported {
    pub imported: i64,
}

/// A draw and the experts it drew.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct DrawWithMembers {
    pub draw: store::DrawRow,
    pub members: Vec<store::DrawMember>,
}

/// One required material and whether it is present.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct MaterialCheck {
    pub kind: String,
    pub label: String,
    pub present: bool,
}

/// A filing application with everything its page shows.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct FilingDetail {
    pub application: store::FilingApp,
    pub state_label: String,
    pub events: Vec<store::FilingEvent>,
    pub draws: Vec<DrawWithMembers>,
    pub supervisors: Vec<store::FilingSupervisor>,
    pub province_report: Option<store::ProvinceReport>,
    /// Actions the caller may take now.
    pub available_actions: Vec<String>,
    pub required_materials: Vec<MaterialCheck>,
    pub exceptions_used: Vec<store::ExceptionRow>,
}

/// 一(二)1 enterprise eligibility as the applicant sees it.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Eligibility {
    pub eligible: bool,
    pub legal_person: bool,
    pub employees: i64,
    pub capital_yuan: i64,
    pub min_employees: i64,
    pub min_capital_yuan: i64,
    pub problems: Vec<String>,
    pub business_scope: String,
    pub business_scope_note: String,
}

/// The replacement drawn for a declined expert.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Replacement {
    pub replacement: Option<i64>,
}

/// What a dispatch call did.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct DispatchResult {
    pub dispatch: store::Dispatch,
}

/// A replayed draw.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct DrawCheck {
    pub ok: bool,
    pub problems: Vec<String>,
    pub draw: store::DrawRow,
}

/// The current 一(四) round and the extra rounds the city opened.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Rounds {
    pub current: Option<String>,
    pub extra_rounds: Vec<store::IncrementRound>,
}

/// The audit chain check.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct AuditCheck {
    pub ok: bool,
    pub entries: Option<i64>,
    pub head: Option<String>,
    pub seq: Option<i64>,
    pub reason: Option<String>,
}
