//! The routes, and the layers around them: request log and metrics (outermost), the
//! concurrency limit, and authentication on every TAXII route.
//!
//! TAXII URLs end with `/`; each is also answered without it.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, MethodRouter};
use axum::Router;
use tower::limit::GlobalConcurrencyLimitLayer;

use crate::auth::{self, ServedTo};
use crate::handlers::{collections, discovery, object, objects, ops, receipts, status};
use crate::metrics::method_name;
use crate::state::AppState;

/// Every TAXII route (path templates as axum writes them).
pub const TAXII_ROUTES: [&str; 10] = [
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
];

fn both(router: Router<AppState>, path: &str, handler: MethodRouter<AppState>) -> Router<AppState> {
    let bare = path.trim_end_matches('/');
    router.route(path, handler.clone()).route(bare, handler)
}

/// The whole application.
pub fn router(state: AppState, max_concurrent_requests: usize) -> Router {
    let [discovery_path, root, status_path, list, one, objs, obj, versions, manifest, receipt] =
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
    let taxii = taxii.route_layer(middleware::from_fn_with_state(
        state.clone(),
        auth::authenticate,
    ));

    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .merge(taxii)
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(GlobalConcurrencyLimitLayer::new(max_concurrent_requests))
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
    let path = request.uri().path().to_string();
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
