//! Server-rendered pages in Simplified Chinese. One module per area; all share [`Layout`].

mod admin;
pub mod filing;
mod filing_review;
mod home;
mod institutions;
pub mod kit;
mod plans;
mod public;
mod statistics;
pub mod users;

pub use home::{attempt_login, session_cookie};

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use domain::{Action, Role};

use crate::auth::Authed;
use crate::error::AppError;
use crate::routing::Routes;
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .merge(home::router())
        .merge(institutions::router())
        .merge(users::router())
        .merge(admin::router())
        .merge(public::router())
        .merge(plans::router())
        .merge(filing::router())
        .merge(filing_review::router())
        .merge(statistics::router())
}

pub struct UserBadge {
    pub display_name: String,
    pub role_label: &'static str,
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// The visitor's menu.
const PUBLIC_NAV: &[(&str, &str)] = &[
    ("/", "首页"),
    ("/public/institutions", "已备案机构"),
    ("/public/filings", "备案公示"),
    ("/public/certificates", "证书查询"),
    ("/public/results", "结果公示"),
    ("/policy", "政策规则"),
    ("/register", "机构账号注册"),
];

/// One entry of the logged-in menu: shown when the permission table allows its action.
struct MenuEntry {
    href: &'static str,
    label: &'static str,
    action: Action,
    /// Shown only to this role (the same page under another name).
    only: Option<Role>,
    /// Hidden from this role although the table allows the action (it reaches the page otherwise).
    except: Option<Role>,
}

const fn menu(href: &'static str, label: &'static str, action: Action) -> MenuEntry {
    MenuEntry {
        href,
        label,
        action,
        only: None,
        except: None,
    }
}

/// The logged-in menu, in order; the permission table decides who sees which entry.
const MENU: &[MenuEntry] = &[
    menu("/dashboard", "工作台", Action::OwnAccount),
    MenuEntry {
        except: Some(Role::Institution),
        ..menu("/institutions", "评价机构", Action::InstitutionView)
    },
    MenuEntry {
        only: Some(Role::Institution),
        ..menu("/institutions", "本机构", Action::InstitutionView)
    },
    menu("/filings", "机构备案", Action::FilingView),
    menu("/filing-exceptions", "特殊情况申请", Action::ExceptionView),
    MenuEntry {
        except: Some(Role::Institution),
        ..menu("/increment-rounds", "增量批次", Action::IncrementRoundView)
    },
    menu("/experts", "专家库", Action::ExpertView),
    menu("/plans", "评价计划", Action::PlanView),
    menu("/efiling", "电子备案", Action::EfilingSubmit),
    MenuEntry {
        only: Some(Role::CityCenter),
        ..menu(
            "/certificates/issue",
            "生成证书数据",
            Action::CertificateIssue,
        )
    },
    menu("/certificates", "证书", Action::CertificateView),
    MenuEntry {
        only: Some(Role::District),
        ..menu("/efilings", "电子备案", Action::EfilingReview)
    },
    menu("/registrations", "账号注册确认", Action::RegistrationDecide),
    menu("/enterprises", "企业筛查", Action::EnterpriseView),
    menu("/supervision/relations", "督导回避", Action::RelationManage),
    menu("/province-reports", "报至上级", Action::ProvinceReport),
    MenuEntry {
        except: Some(Role::CityDivision),
        ..menu("/district-moves", "属地变更", Action::DistrictMoveView)
    },
    menu("/statistics", "统计分析", Action::StatisticsView),
    menu("/retention", "档案保管", Action::RetentionView),
    menu("/paper-records", "纸质档案", Action::RetentionView),
    menu("/users", "用户账号", Action::UserView),
    menu("/admin/divisions", "行政区划", Action::ReferenceManage),
    menu("/admin/occupations", "职业目录", Action::ReferenceManage),
    menu("/admin/calendar", "工作日历", Action::ReferenceManage),
    menu("/admin/tokens", "接口令牌", Action::TokenManage),
    menu("/admin/outbox", "消息外发", Action::OutboxView),
    menu("/audit", "审计日志", Action::AuditRead),
    menu("/public/institutions", "公开信息", Action::OwnAccount),
    menu("/policy", "政策规则", Action::OwnAccount),
];

/// What the frame of every page needs.
pub struct Layout {
    pub title: String,
    pub user: Option<UserBadge>,
    pub nav: Vec<NavItem>,
    pub demo: bool,
    pub flash: Option<String>,
    /// 演练日期: the configured `today`, shown on every page while it is pinned.
    pub pinned_today: Option<String>,
}

impl Layout {
    /// The frame for `user` (or a visitor), with the nav entry under `active` highlighted.
    pub fn new(
        state: &AppState,
        user: Option<&Authed>,
        title: impl Into<String>,
        active: &str,
    ) -> Layout {
        let nav: Vec<(&'static str, &'static str)> = match user {
            None => PUBLIC_NAV.to_vec(),
            Some(u) => MENU
                .iter()
                .filter(|m| u.can(m.action) && m.only.is_none_or(|r| r == u.role()))
                .filter(|m| m.except.is_none_or(|r| r != u.role()))
                .map(|m| (m.href, m.label))
                .collect(),
        };
        Layout {
            title: title.into(),
            user: user.map(|u| UserBadge {
                display_name: u.account.display_name.clone(),
                role_label: u.role().label(),
            }),
            nav: nav
                .into_iter()
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    active: href == active,
                })
                .collect(),
            demo: state.config.demo,
            flash: None,
            pinned_today: state
                .config
                .fixed_today
                .map(|d| d.format("%Y年%m月%d日").to_string()),
        }
    }

    pub fn with_flash(mut self, flash: Option<String>) -> Layout {
        self.flash = flash;
        self
    }
}

/// Render a template as a page; a template error is a 500 (logged), never a panic.
pub fn render<T: Template>(t: &T) -> Response {
    render_status(StatusCode::OK, t)
}

/// Marks a complete page, so the error middleware does not replace it (a form shown again
/// with its errors carries a 4xx status but is already the right page).
#[derive(Clone, Copy)]
pub struct RenderedPage;

pub fn render_status<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => {
            let mut r = (status, Html(html)).into_response();
            r.extensions_mut().insert(RenderedPage);
            r
        }
        Err(e) => AppError::Internal(format!("template: {e}")).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    message: String,
    status: u16,
    logged_in: bool,
}

/// The Chinese error page (used by the error middleware, which has no state or user).
pub fn error_page(status: StatusCode, message: &str, logged_in: bool) -> String {
    let heading = match status.as_u16() {
        403 => "无权访问",
        404 => "页面不存在",
        413 => "内容过大",
        429 => "请求过于频繁",
        400 | 409 | 422 => "无法处理该请求",
        _ if status.is_server_error() => "系统繁忙",
        _ => "出错了",
    };
    let page = ErrorPage {
        layout: Layout {
            title: heading.into(),
            user: None,
            nav: vec![
                NavItem {
                    href: "/",
                    label: "首页",
                    active: false,
                },
                NavItem {
                    href: "/public/certificates",
                    label: "证书查询",
                    active: false,
                },
            ],
            demo: false,
            flash: None,
            pinned_today: None,
        },
        heading,
        message: message.to_string(),
        status: status.as_u16(),
        logged_in,
    };
    page.render().unwrap_or_else(|_| message.to_string())
}

/// Flash messages travel in the redirect URL as a code, never as free text.
pub fn flash_text(code: Option<&str>) -> Option<String> {
    let text = match code? {
        "saved" => "已保存。",
        "created" => "已创建。",
        "password" => "密码已修改。",
        "reset" => "密码已重置，用户下次登录须修改密码。",
        "unlocked" => "账号已解锁。",
        "activated" => "账号已启用。",
        "deactivated" => "账号已停用，其会话已全部结束。",
        "revoked" => "令牌已吊销。",
        "loggedout" => "您已安全退出。",
        "uploaded" => "材料已上传。",
        "read" => "已标记为已读。",
        "requeued" => "已重新排队，发送器将尽快重新发送。",
        _ => return None,
    };
    Some(text.to_string())
}

/// Query string of a list page without its `page` parameter, ending in `&` or `?`.
pub fn list_base(path: &str, params: &[(&str, &Option<String>)]) -> String {
    let mut q: Vec<String> = vec![];
    for (k, v) in params {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            q.push(format!("{k}={}", urlencode(v)));
        }
    }
    if q.is_empty() {
        format!("{path}?")
    } else {
        format!("{path}?{}&", q.join("&"))
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// A page of a list as templates need it.
pub struct Pager {
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

impl<T> From<&store::Page<T>> for Pager {
    fn from(p: &store::Page<T>) -> Pager {
        Pager {
            total: p.total,
            page: p.page,
            pages: p.pages(),
        }
    }
}

/// An RFC 3339 UTC time shown in Beijing time.
pub fn beijing_time(t: &str) -> String {
    let cn = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&cn).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| t.to_string())
}
