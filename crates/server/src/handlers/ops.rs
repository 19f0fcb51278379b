//! Operational endpoints (`/healthz`, `/metrics`, `/openapi.json`) and the fallbacks
//! that keep every error a TAXII error message.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use accord_taxii::{ErrorMessage, TAXII_MEDIA_TYPE};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth;
use crate::error::TaxiiError;
use crate::openapi::OpsErrors;
use crate::state::AppState;

/// The body of `/healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `store unavailable` or `unavailable`.
    pub status: &'static str,
}

fn health(status: StatusCode, words: &'static str) -> Response {
    let body = serde_json::to_string(&Health { status: words }).unwrap_or_default();
    with_type(status, "application/json", body)
}

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
#[utoipa::path(get, path = "/healthz", tag = "Operations", operation_id = "health", security(()),
    summary = "Liveness and readiness: 200 once serving and the store answers",
    responses(
        (status = 200, description = "Ready", body = Health, content_type = "application/json"),
        (status = 503, description = "The store does not answer", body = Health, content_type = "application/json"),
        OpsErrors))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    let probe = tokio::task::spawn_blocking(move || store.status("healthz", "")).await;
    match probe {
        Ok(Ok(_)) => health(StatusCode::OK, "ok"),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check: the store failed");
            health(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
        Err(e) => {
            tracing::error!(error = %e, "health check task failed");
            health(StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    }
}

/// `GET /metrics`: Prometheus text. Needs credentials of the node's own organisation
/// unless `server.metrics_public` is set.
#[utoipa::path(get, path = "/metrics", tag = "Operations", operation_id = "metrics",
    summary = "Prometheus metrics (credentials of the node's own organisation unless metrics_public)",
    responses(
        (status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 401, description = "No or invalid credentials.", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE),
        (status = 403, description = "Not the node's own organisation.", body = ErrorMessage, content_type = TAXII_MEDIA_TYPE),
        OpsErrors))]
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

/// `GET /openapi.json`: this server's OpenAPI document, generated from its code
/// ([`crate::openapi`]).
#[utoipa::path(get, path = "/openapi.json", tag = "Operations", operation_id = "openapi", security(()),
    summary = "This document (OpenAPI 3.1)",
    responses((status = 200, description = "OpenAPI 3.1", body = Object, content_type = "application/json"), OpsErrors))]
pub async fn openapi() -> Response {
    with_type(StatusCode::OK, "application/json", crate::openapi::json())
}

/// Any path that is not a resource.
pub async fn not_found() -> TaxiiError {
    TaxiiError::not_found("No such resource.")
}

/// A resource asked for with a method it does not support.
pub async fn method_not_allowed() -> TaxiiError {
    TaxiiError::method_not_allowed()
}
