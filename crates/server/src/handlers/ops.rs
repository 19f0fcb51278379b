//! Operational endpoints (`/healthz`, `/metrics`, `/openapi.json`) and the fallbacks
//! that keep every error a TAXII error message.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::auth;
use crate::error::TaxiiError;
use crate::state::AppState;

/// The OpenAPI document of this server (hand-written, `docs/openapi.json`).
pub const OPENAPI: &str = include_str!("../../../../docs/openapi.json");

fn with_type(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<axum::body::Body>,
) -> Response {
    let mut response = (status, body.into()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `GET /healthz`: 200 once the server serves and its store answers, else 503.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    let probe = tokio::task::spawn_blocking(move || store.status("healthz", "")).await;
    match probe {
        Ok(Ok(_)) => with_type(StatusCode::OK, "application/json", r#"{"status":"ok"}"#),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check: the store failed");
            with_type(
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                r#"{"status":"store unavailable"}"#,
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "health check task failed");
            with_type(
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                r#"{"status":"unavailable"}"#,
            )
        }
    }
}

/// `GET /metrics`: Prometheus text. Needs credentials of the node's own organisation
/// unless `server.metrics_public` is set.
pub async fn metrics(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, TaxiiError> {
    let access = state.access();
    if !access.config.server.metrics_public {
        let who = auth::principal(&state, request.headers()).await?;
        if who.organisation != access.config.server.organisation {
            return Err(TaxiiError::forbidden(
                "Metrics are for this node's own organisation.",
            ));
        }
    }
    let mut text = state.metrics.render();
    let store = state.store.clone();
    let peers = tokio::task::spawn_blocking(move || accord_node::federation::peers(&*store))
        .await
        .map_err(TaxiiError::internal)?
        .map_err(TaxiiError::internal)?;
    if !peers.is_empty() {
        text.push_str(&accord_node::federation::render_metrics(&peers));
    }
    Ok(with_type(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        text,
    ))
}

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    with_type(StatusCode::OK, "application/json", OPENAPI)
}

/// Any path that is not a resource.
pub async fn not_found() -> TaxiiError {
    TaxiiError::not_found("No such resource.")
}

/// A resource asked for with a method it does not support.
pub async fn method_not_allowed() -> TaxiiError {
    TaxiiError::method_not_allowed()
}
