//! The routes, and the layers around them: request log and metrics (outermost); on
//! every TAXII route authentication, then admission (per-organisation slots, the body
//! read within its timeouts, the server's work slots: [`crate::admission`]); on the
//! operational routes their own small limit, so that they never wait behind TAXII
//! requests.
//!
//! TAXII URLs end with `/`; each is also answered without it.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, MethodRouter};
use axum::Router;
use tower::limit::GlobalConcurrencyLimitLayer;

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

/// Every TAXII route (path templates as axum writes them).
pub const TAXII_ROUTES: [&str; 13] = [
    "/taxii2/",
    "/{api_root}/",
    "/{api_root}/status/{status_id}/",
    "/{api_root}/collections/",
    "/{api_root}/collections/{id}/",
    "/{api_root}/collections/{id}/objects/",
    "/{api_root}/collections/{id}/objects/{object_id}/",
    "/{api_root}/collections/{id}/objects/{object_id}/versions/",
    "/{api_root}/collections/{id}/manifest/",
    "/{api_root}/ledger/receipts/{receipt_id}/",
    "/{api_root}/analytics/correlations/",
    "/{api_root}/analytics/trends/",
    "/{api_root}/collections/{id}/x-accord-deletions/",
];

fn both(router: Router<AppState>, path: &str, handler: MethodRouter<AppState>) -> Router<AppState> {
    let bare = path.trim_end_matches('/');
    router.route(path, handler.clone()).route(bare, handler)
}

/// The whole application. `max_concurrent_requests`: TAXII requests worked on at once
/// (the other limits are the configuration's).
pub fn router(state: AppState, max_concurrent_requests: usize) -> Router {
    let [discovery_path, root, status_path, list, one, objs, obj, versions, manifest, receipt, correlations, trends, deletions_path] =
        TAXII_ROUTES;
    let mut taxii = Router::new();
    taxii = both(taxii, discovery_path, get(discovery::discovery));
    taxii = both(taxii, root, get(discovery::api_root));
    taxii = both(taxii, status_path, get(status::get));
    taxii = both(taxii, list, get(collections::list));
    taxii = both(taxii, one, get(collections::one));
    taxii = both(taxii, objs, get(objects::get).post(objects::post));
    taxii = both(taxii, obj, get(object::get).delete(object::delete));
    taxii = both(taxii, versions, get(object::versions));
    taxii = both(taxii, manifest, get(objects::manifest));
    taxii = both(taxii, receipt, get(receipts::get));
    taxii = both(taxii, correlations, get(analytics::correlations));
    taxii = both(taxii, trends, get(analytics::trends_get));
    taxii = both(taxii, deletions_path, get(deletions::get));
    let admission = Arc::new(Admission::new(
        &state.access().config.server,
        max_concurrent_requests,
    ));
    // Layers added later run first: authentication, then admission.
    let taxii = taxii
        .route_layer(middleware::from_fn_with_state(admission, admission::admit))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    let ops = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route_layer(GlobalConcurrencyLimitLayer::new(
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
