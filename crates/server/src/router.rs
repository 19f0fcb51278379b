//! The routes, and the layers around them: request log and metrics (outermost); on
//! every TAXII route authentication, then admission (per-organisation slots, the body
//! read within its timeouts, the server's work slots: [`crate::admission`]); on the
//! operational routes their own small limit, so that they never wait behind TAXII
//! requests.
//!
//! TAXII URLs end with `/`; each is also answered without it.
//!
//! Routes are registered with their OpenAPI descriptions ([`routes`], utoipa-axum), so
//! what is served and what `/openapi.json` describes cannot drift apart.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower::limit::GlobalConcurrencyLimitLayer;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use crate::admission::{self, Admission, OPS_MAX_CONCURRENT_REQUESTS};
use crate::auth::{self, ServedTo};
use crate::error::clip;
use crate::handlers::{
    analytics, collections, deletions, discovery, object, objects, ops, receipts, status,
};
use crate::metrics::method_name;
use crate::state::AppState;

/// Longest request path written to the request log, in bytes (longer ones are cut): a
/// path is client input, up to hyper's header buffer in size.
pub const MAX_LOGGED_PATH: usize = 256;

/// Register `routes` (handlers with their `#[utoipa::path]` descriptions: the route
/// and its description go in together), and each path also without its trailing `/`
/// (an alias, not described separately).
fn both(
    router: OpenApiRouter<AppState>,
    routes: UtoipaMethodRouter<AppState>,
) -> OpenApiRouter<AppState> {
    let bare: Vec<String> = routes
        .1
        .paths
        .keys()
        .map(|p| p.trim_end_matches('/').to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let handlers = routes.2.clone();
    bare.iter().fold(router.routes(routes), |r, path| {
        r.route(path, handlers.clone())
    })
}

/// Every route, with its OpenAPI description, and no layers: the TAXII (authenticated)
/// routes and the operational ones. [`router`] serves them; [`crate::openapi`]
/// describes them. A route is added here, with `routes!` and a handler that carries
/// `#[utoipa::path]`, or it is not served (the test `openapi::every_route_is_described`
/// finds one added otherwise).
pub fn routes() -> (OpenApiRouter<AppState>, OpenApiRouter<AppState>) {
    let mut taxii = OpenApiRouter::new();
    taxii = both(taxii, routes!(discovery::discovery));
    taxii = both(taxii, routes!(discovery::api_root));
    taxii = both(taxii, routes!(status::get));
    taxii = both(taxii, routes!(collections::list));
    taxii = both(taxii, routes!(collections::one));
    taxii = both(taxii, routes!(objects::get, objects::post));
    taxii = both(taxii, routes!(object::get, object::delete));
    taxii = both(taxii, routes!(object::versions));
    taxii = both(taxii, routes!(objects::manifest));
    taxii = both(taxii, routes!(receipts::get));
    taxii = both(taxii, routes!(analytics::correlations));
    taxii = both(taxii, routes!(analytics::trends_get));
    taxii = both(taxii, routes!(deletions::get));
    let ops = OpenApiRouter::new()
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::openapi));
    (taxii, ops)
}

/// The whole application. `max_concurrent_requests`: TAXII requests worked on at once
/// (the other limits are the configuration's).
pub fn router(state: AppState, max_concurrent_requests: usize) -> Router {
    let (taxii, ops) = routes();
    let admission = Arc::new(Admission::new(
        &state.access().config.server,
        max_concurrent_requests,
    ));
    // Layers added later run first: authentication, then admission.
    let taxii = Router::from(taxii)
        .route_layer(middleware::from_fn_with_state(admission, admission::admit))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    let ops = Router::from(ops).route_layer(GlobalConcurrencyLimitLayer::new(
        OPS_MAX_CONCURRENT_REQUESTS,
    ));

    Router::new()
        .merge(ops)
        .merge(taxii)
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Log each request and count it in the metrics.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_name(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let path = clip(request.uri().path(), MAX_LOGGED_PATH).into_owned();
    state.metrics.started();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state
        .metrics
        .finished(&route, method, status, elapsed.as_secs_f64());
    let organisation = response
        .extensions()
        .get::<ServedTo>()
        .map_or("-", |s| s.0.as_str());
    tracing::info!(
        target: "accord::http",
        method,
        path,
        status,
        organisation,
        ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}
