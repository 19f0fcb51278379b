//! TAXII error messages: every failure the server reports has the TAXII 2.1
//! error-message body (`accord_taxii::ErrorMessage`: `title`, `http_status`, ...) and
//! the TAXII media type.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::media::TAXII_MEDIA_TYPE;

/// The challenge sent with 401 answers: both schemes this server accepts.
pub const WWW_AUTHENTICATE: &str =
    "Basic realm=\"accord\", charset=\"UTF-8\", Bearer realm=\"accord\"";

/// Longest failure detail written to the log by [`TaxiiError::internal`], in bytes. A
/// detail may carry client input (a database error quotes its whole SQL statement, which
/// holds every filter value); one log line must not grow with it.
pub const MAX_LOGGED_DETAIL: usize = 1024;

/// `text` cut to at most `max` bytes at a character boundary, with `…(N bytes)` naming
/// the full length when cut: for anything from a client that is logged or quoted back.
pub fn clip(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…({} bytes)", &text[..end], text.len()))
}

/// A failed request, rendered as a TAXII error message.
#[derive(Debug, Clone)]
pub struct TaxiiError {
    status: StatusCode,
    title: &'static str,
    description: Option<String>,
}

impl TaxiiError {
    /// An error with an HTTP status, a short title and an optional explanation.
    pub fn new(status: StatusCode, title: &'static str, description: Option<String>) -> Self {
        Self {
            status,
            title,
            description,
        }
    }

    /// 400: the request is malformed (a bad filter, an unreadable body).
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "Bad request",
            Some(description.into()),
        )
    }

    /// 401: no or invalid credentials.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Authentication required",
            Some(
                "Present valid credentials: HTTP Basic (user and password) or Bearer (API token)."
                    .into(),
            ),
        )
    }

    /// 403: the organisation may see the resource but not do this to it.
    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", Some(description.into()))
    }

    /// 404: no such resource, or not one the requester may see.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", Some(description.into()))
    }

    /// 405: the resource exists but not with this method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            Some("This resource does not support the request's HTTP method.".into()),
        )
    }

    /// 406: the client does not accept the TAXII media type.
    pub fn not_acceptable() -> Self {
        Self::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            Some(format!(
                "This server answers in {TAXII_MEDIA_TYPE}; the Accept header excludes it."
            )),
        )
    }

    /// 413: the body is larger than `max_content_length`.
    pub fn too_large(max: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request entity too large",
            Some(format!(
                "The request body exceeds max_content_length ({max} bytes)."
            )),
        )
    }

    /// 415: the body is not of the TAXII media type.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            Some(format!("The request body must be {TAXII_MEDIA_TYPE}.")),
        )
    }

    /// 500: the server failed; the detail is logged (cut to [`MAX_LOGGED_DETAIL`]
    /// bytes), not sent.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let detail = detail.to_string();
        tracing::error!(error = %clip(&detail, MAX_LOGGED_DETAIL), "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            Some("The server could not complete the request; the failure is in its log.".into()),
        )
    }

    /// 408: the request body did not arrive in time.
    pub fn request_timeout(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "Request timeout",
            Some(description.into()),
        )
    }

    /// 429: the requester's organisation has too many requests in progress.
    pub fn too_many_requests(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            Some(description.into()),
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = accord_taxii::ErrorMessage {
            title: self.title.to_string(),
            description: self.description,
            http_status: Some(self.status.as_u16().to_string()),
            ..accord_taxii::ErrorMessage::default()
        };
        let text = serde_json::to_string(&body).unwrap_or_default();
        let mut response = (self.status, text).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(TAXII_MEDIA_TYPE),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(WWW_AUTHENTICATE),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_cuts_at_a_character_boundary_and_names_the_length() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("abcdef", 3), "abc…(6 bytes)");
        // 'é' is two bytes: a cut inside it moves back before it.
        assert_eq!(clip("aéb", 2), "a…(4 bytes)");
    }
}
