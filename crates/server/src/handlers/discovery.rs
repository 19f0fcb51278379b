//! Server discovery (`GET /taxii2/`) and API root information (`GET /{api_root}/`).

use accord_node::accounts::Principal;
use accord_taxii::{ApiRoot, Discovery};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;

use super::{require_root, taxii_json, to_json, RootPath, TaxiiPath};
use crate::error::TaxiiError;
use crate::media::{require_taxii_accept, TAXII_MEDIA_TYPE};
use crate::openapi::TaxiiErrors;
use crate::state::AppState;

/// The base URL API root URLs are built on: `server.public_url`, else the scheme the
/// server speaks and the request's `Host`, else nothing (relative URLs).
fn base_url(state: &AppState, public_url: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(url) = public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'\\')
        });
    match host {
        Some(host) => format!(
            "{}://{host}",
            if state.tls.is_some() { "https" } else { "http" }
        ),
        None => String::new(),
    }
}

/// `GET /taxii2/`.
#[utoipa::path(get, path = "/taxii2/", tag = "TAXII", operation_id = "getDiscovery",
    summary = "Server discovery",
    responses((status = 200, description = "OK", body = Discovery, content_type = TAXII_MEDIA_TYPE), TaxiiErrors))]
pub async fn discovery(
    State(state): State<AppState>,
    Extension(_who): Extension<Principal>,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    require_taxii_accept(&headers)?;
    let access = state.access();
    let server = &access.config.server;
    let base = base_url(&state, server.public_url.as_deref(), &headers);
    let roots: Vec<String> = access
        .config
        .api_roots
        .keys()
        .map(|r| format!("{base}/{r}/"))
        .collect();
    let body = Discovery {
        title: server.title.clone(),
        description: server.description.clone(),
        contact: server.contact.clone(),
        default: access
            .config
            .default_api_root()
            .map(|d| format!("{base}/{d}/")),
        api_roots: roots,
    };
    Ok(taxii_json(StatusCode::OK, to_json(&body)?))
}

/// `GET /{api_root}/`.
#[utoipa::path(get, path = "/{api_root}/", tag = "TAXII", operation_id = "getApiRoot",
    summary = "API root information", params(RootPath),
    responses((status = 200, description = "OK", body = ApiRoot, content_type = TAXII_MEDIA_TYPE), TaxiiErrors))]
pub async fn api_root(
    State(state): State<AppState>,
    Extension(_who): Extension<Principal>,
    TaxiiPath(RootPath { api_root: root }): TaxiiPath<RootPath>,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    require_taxii_accept(&headers)?;
    let access = state.access();
    require_root(&access, &root)?;
    let r = &access.config.api_roots[&root];
    let body = ApiRoot {
        title: r.title.clone(),
        description: r.description.clone(),
        versions: vec![TAXII_MEDIA_TYPE.to_string()],
        max_content_length: state.max_content_length,
    };
    Ok(taxii_json(StatusCode::OK, to_json(&body)?))
}
