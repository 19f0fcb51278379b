//! Server discovery (`GET /taxii2/`) and API root information (`GET /{api_root}/`).

use accord_node::accounts::Principal;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde_json::json;

use super::{require_root, taxii_json, TaxiiPath};
use crate::error::TaxiiError;
use crate::media::{require_taxii_accept, TAXII_MEDIA_TYPE};
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
    let mut body = serde_json::Map::new();
    body.insert("title".into(), server.title.clone().into());
    if let Some(d) = &server.description {
        body.insert("description".into(), d.clone().into());
    }
    if let Some(c) = &server.contact {
        body.insert("contact".into(), c.clone().into());
    }
    if let Some(d) = access.config.default_api_root() {
        body.insert("default".into(), format!("{base}/{d}/").into());
    }
    if !roots.is_empty() {
        body.insert("api_roots".into(), roots.into());
    }
    Ok(taxii_json(
        StatusCode::OK,
        serde_json::Value::Object(body).to_string(),
    ))
}

/// `GET /{api_root}/`.
pub async fn api_root(
    State(state): State<AppState>,
    Extension(_who): Extension<Principal>,
    TaxiiPath(root): TaxiiPath<String>,
    headers: HeaderMap,
) -> Result<Response, TaxiiError> {
    require_taxii_accept(&headers)?;
    let access = state.access();
    require_root(&access, &root)?;
    let r = &access.config.api_roots[&root];
    let mut body = json!({
        "title": r.title,
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": state.max_content_length,
    });
    if let (Some(d), Some(map)) = (&r.description, body.as_object_mut()) {
        map.insert("description".into(), d.clone().into());
    }
    Ok(taxii_json(StatusCode::OK, body.to_string()))
}
