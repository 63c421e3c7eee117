//! Every route names its [`Action`] from the one permission table (`domain::permission`).
//!
//! Pages are registered through [`Routes`], API operations through [`guard`]; both put the same
//! gate in front of the handler, which refuses a role the table does not list (403) before the
//! request body is read, so a role that may not act gets 403 whatever it sent. The service
//! functions then ask the table again for the command they run and load records through the
//! caller's scope. The list of routes with their actions is kept for the test that walks it.

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use domain::{Action, Reach};
use utoipa_axum::router::UtoipaMethodRouter;

use crate::error::AppError;
use crate::AppState;

/// One registered page route.
#[derive(Debug, Clone)]
pub struct RouteEntry {
    pub method: Method,
    pub path: &'static str,
    pub action: Action,
}

/// A page router that remembers which action each route needs.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    entries: Vec<RouteEntry>,
}

impl Routes {
    pub fn new() -> Routes {
        Routes::default()
    }

    pub fn get<H, T>(self, path: &'static str, action: Action, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.method(Method::GET, path, action, get(handler))
    }

    pub fn post<H, T>(self, path: &'static str, action: Action, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.method(Method::POST, path, action, post(handler))
    }

    /// A POST that takes files: the upload body limit instead of the form limit.
    pub fn upload<H, T>(self, path: &'static str, action: Action, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let route = post(handler).layer(crate::upload::upload_limit_layer());
        self.method(Method::POST, path, action, route)
    }

    /// A route whose method router carries its own layers (the upload limit, say).
    pub fn method(
        mut self,
        method: Method,
        path: &'static str,
        action: Action,
        route: MethodRouter<AppState>,
    ) -> Routes {
        self.router = self.router.route(path, gated(action, route));
        self.entries.push(RouteEntry {
            method,
            path,
            action,
        });
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.entries.extend(other.entries);
        self
    }

    pub fn entries(&self) -> &[RouteEntry] {
        &self.entries
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// An API operation (utoipa-axum) gated by `action`; the action and its roles are written into
/// the operation as `x-permission` and `x-roles`, so integrators read them from the document.
pub fn guard(
    action: Action,
    (schemas, mut paths, method): UtoipaMethodRouter<AppState>,
) -> UtoipaMethodRouter<AppState> {
    let roles: Vec<&str> = action.roles().iter().map(|r| r.as_str()).collect();
    for item in paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let ext = utoipa::openapi::extensions::ExtensionsBuilder::new()
                .add("x-permission", action.key())
                .add("x-roles", serde_json::json!(roles))
                .build();
            match &mut op.extensions {
                Some(e) => e.merge(ext),
                None => op.extensions = Some(ext),
            }
        }
    }
    (schemas, paths, gated(action, method))
}

fn gated(action: Action, route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    if action.reach() == Reach::Public {
        return route;
    }
    // route_layer: an unrouted method still answers 405, not a login prompt.
    route.route_layer(axum::middleware::from_fn(
        move |req: Request, next: Next| gate(action, req, next),
    ))
}

/// The gate: who is asking, and may that role take `action` at all.
async fn gate(action: Action, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let Some(state) = parts.extensions.get::<AppState>().cloned() else {
        return AppError::Internal("application state missing from the request".into())
            .into_response();
    };
    match crate::auth::resolve(&mut parts, &state).await {
        Err(e) => e.into_response(),
        Ok(None) => AppError::Unauthorized.into_response(),
        Ok(Some(me)) => match me.may(action) {
            Ok(()) => next.run(Request::from_parts(parts, body)).await,
            Err(e) => e.into_response(),
        },
    }
}
