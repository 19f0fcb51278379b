//! Authentication: every TAXII request carries HTTP Basic credentials (a user) or a
//! Bearer API token; the principal found is put in the request's extensions for the
//! handlers, and its organisation in the response's for the request log and metrics.
//! Anything else is a 401 with a `WWW-Authenticate` challenge and a TAXII error body.

use std::sync::Arc;

use accord_node::accounts::Principal;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crate::error::TaxiiError;
use crate::state::AppState;

/// Longest `Authorization` header value considered (longer ones are refused unread).
pub const MAX_AUTHORIZATION_LEN: usize = 4096;

/// The organisation a response was served to (for logs and metrics).
#[derive(Debug, Clone)]
pub struct ServedTo(pub String);

/// Middleware: authenticate, or answer 401.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    match principal(&state, request.headers()).await {
        Ok(who) => {
            let organisation = who.organisation.clone();
            request.extensions_mut().insert(who);
            let mut response = next.run(request).await;
            response.extensions_mut().insert(ServedTo(organisation));
            response
        }
        Err(e) => e.into_response(),
    }
}

/// Who the request's credentials name, if they are valid.
pub async fn principal(state: &AppState, headers: &HeaderMap) -> Result<Principal, TaxiiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= MAX_AUTHORIZATION_LEN)
        .ok_or_else(TaxiiError::unauthorized)?;
    let (scheme, rest) = value.split_once(' ').ok_or_else(TaxiiError::unauthorized)?;
    let rest = rest.trim();
    let access = state.access();
    if scheme.eq_ignore_ascii_case("bearer") {
        return access
            .accounts
            .verify_token(rest)
            .ok_or_else(TaxiiError::unauthorized);
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(TaxiiError::unauthorized());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(TaxiiError::unauthorized)?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(TaxiiError::unauthorized)?;
    if let Some(who) = access.accounts.cached_password(user, password) {
        return Ok(who);
    }
    // Argon2 is slow by design: run it off the async workers, a few at a time.
    let _permit = state
        .password_checks
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| TaxiiError::internal(format!("password check queue closed: {e}")))?;
    let (user, password) = (user.to_string(), password.to_string());
    let access = Arc::clone(&access);
    tokio::task::spawn_blocking(move || access.accounts.verify_password(&user, &password))
        .await
        .map_err(TaxiiError::internal)?
        .ok_or_else(TaxiiError::unauthorized)
}
