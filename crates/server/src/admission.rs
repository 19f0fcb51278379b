//! Admission: which requests are worked on at once, and how long a client may take to
//! send a body.
//!
//! A TAXII request passes, after authentication:
//! 1. its organisation's slots (`max_requests_per_organisation`): one partner's requests,
//!    slow uploads included, never take more than these, so other organisations are
//!    served whatever it does; a request that waits for one longer than
//!    `body_read_timeout` is answered 429;
//! 2. the reading of its body, whole, into memory: at most `max_content_length` bytes
//!    (413 above), by `body_read_timeout` after the request arrived (its wait for a
//!    slot included) and with no pause longer than `body_idle_timeout` (408 after
//!    either);
//! 3. the server's work slots (`max_concurrent_requests`), which bound the requests
//!    using the store and the CPU. A body is read before a work slot is taken: a client
//!    that sends its body slowly holds only its own organisation's slot.
//!
//! `/healthz`, `/metrics` and `/openapi.json` have their own slots
//! ([`OPS_MAX_CONCURRENT_REQUESTS`]) and never wait behind TAXII requests.
//!
//! Before any of this, hyper closes a connection whose request headers take longer
//! than `header_read_timeout` (also the longest a kept-alive connection stays idle).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use accord_node::accounts::Principal;
use accord_node::config::Server;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::error::TaxiiError;

/// `/healthz`, `/metrics` and `/openapi.json` served at once (further ones wait for one
/// of these, never for TAXII requests).
pub const OPS_MAX_CONCURRENT_REQUESTS: usize = 8;

/// How requests are admitted (shared by every clone of the router).
pub struct Admission {
    /// The server's work slots.
    work: Arc<Semaphore>,
    /// Slots per organisation.
    per_organisation: usize,
    /// Each organisation's slots, made on its first request. Organisations are
    /// authenticated names from the configuration, so the map stays small.
    organisations: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Largest body, in bytes.
    max_content_length: u64,
    /// The longest a body may take in full.
    body_read_timeout: Duration,
    /// The longest pause within a body.
    body_idle_timeout: Duration,
}

impl Admission {
    /// Admission with `max_concurrent_requests` work slots and the other limits of
    /// `server`.
    pub fn new(server: &Server, max_concurrent_requests: usize) -> Admission {
        Admission {
            work: Arc::new(Semaphore::new(max_concurrent_requests.max(1))),
            per_organisation: server.max_requests_per_organisation.max(1),
            organisations: Mutex::new(HashMap::new()),
            max_content_length: server.max_content_length,
            body_read_timeout: server.body_read_timeout(),
            body_idle_timeout: server.body_idle_timeout(),
        }
    }

    fn organisation(&self, name: &str) -> Arc<Semaphore> {
        // A poisoned lock only means a panic while inserting an Arc; the map is whole.
        let mut map = self.organisations.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(name.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_organisation)))
            .clone()
    }

    /// Read `body` whole: 413 past `max_content_length`, 408 when it does not arrive by
    /// `deadline` or pauses too long, 400 when the client breaks it off.
    async fn read_body(
        &self,
        mut body: Body,
        declared: Option<u64>,
        deadline: Instant,
    ) -> Result<Bytes, TaxiiError> {
        let max = self.max_content_length;
        if declared.is_some_and(|n| n > max) {
            return Err(TaxiiError::too_large(max));
        }
        // Grown as bytes arrive, not sized from the claimed length: a client that
        // claims 10 MiB and sends nothing must not cost 10 MiB.
        let mut bytes = Vec::new();
        loop {
            let pause_ends = Instant::now() + self.body_idle_timeout;
            let frame = match tokio::time::timeout_at(deadline.min(pause_ends), body.frame()).await
            {
                Ok(frame) => frame,
                Err(_) if Instant::now() >= deadline => {
                    return Err(TaxiiError::request_timeout(format!(
                        "The request body did not arrive within body_read_timeout ({} s).",
                        self.body_read_timeout.as_secs_f64()
                    )))
                }
                Err(_) => {
                    return Err(TaxiiError::request_timeout(format!(
                        "No byte of the request body arrived for body_idle_timeout ({} s).",
                        self.body_idle_timeout.as_secs_f64()
                    )))
                }
            };
            match frame {
                None => return Ok(Bytes::from(bytes)),
                Some(Err(e)) => {
                    return Err(TaxiiError::bad_request(format!(
                        "the request body could not be read: {e}"
                    )))
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if (bytes.len() + data.len()) as u64 > max {
                            return Err(TaxiiError::too_large(max));
                        }
                        bytes.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

/// Middleware (after authentication): the organisation's slot, the body, a work slot,
/// then the handler.
pub async fn admit(
    State(admission): State<Arc<Admission>>,
    request: Request,
    next: Next,
) -> Response {
    let organisation = request
        .extensions()
        .get::<Principal>()
        .map_or_else(String::new, |p| p.organisation.clone());
    // The request's whole wait for its body, from here: a partner that queues
    // hundreds of stalled uploads behind its own slots sees each one answered within
    // this, and does not hold its connections for longer.
    let deadline = Instant::now() + admission.body_read_timeout;
    let has_body = !request.body().is_end_stream();
    let slots = admission.organisation(&organisation);
    let _organisation_slot = match tokio::time::timeout_at(deadline, slots.acquire_owned()).await {
        Ok(Ok(slot)) => slot,
        Ok(Err(_)) => return TaxiiError::internal("organisation slots closed").into_response(),
        Err(_) => {
            let refusal = TaxiiError::too_many_requests(format!(
                "Organisation '{organisation}' has had max_requests_per_organisation ({}) \
                 requests in progress for body_read_timeout ({} s); try again later.",
                admission.per_organisation,
                admission.body_read_timeout.as_secs_f64()
            ));
            return if has_body {
                closing(refusal)
            } else {
                refusal.into_response()
            };
        }
    };
    let (parts, body) = request.into_parts();
    let request = if !has_body {
        Request::from_parts(parts, body)
    } else {
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        match admission.read_body(body, declared, deadline).await {
            Ok(bytes) => Request::from_parts(parts, Body::from(bytes)),
            Err(e) => return closing(e),
        }
    };
    let Ok(_work_slot) = admission.work.clone().acquire_owned().await else {
        return TaxiiError::internal("work slots closed").into_response();
    };
    next.run(request).await
}

/// `error` as the answer to a request whose body is left unread: the connection cannot
/// carry another request, so the answer says that it closes.
fn closing(error: TaxiiError) -> Response {
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use accord_node::config::Config;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    /// A request that waits for its organisation's slot past body_read_timeout (its
    /// organisation's requests are all busy working) is answered 429, naming the limit.
    #[tokio::test]
    async fn a_request_waiting_too_long_for_its_organisations_slot_is_429() {
        let text = "[server]\norganisation = \"telco\"\n\
                    identity = \"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"\n\
                    max_requests_per_organisation = 1\nbody_read_timeout = 0.2\n\
                    [organisations.telco]\n";
        let config = Config::parse(text, Path::new("accord.toml")).unwrap();
        let admission = Arc::new(Admission::new(&config.server, 4));
        let app = Router::new().route("/", get(|| async { "ok" })).layer(
            axum::middleware::from_fn_with_state(admission.clone(), admit),
        );
        // No principal: the request counts as organisation "", whose slot is taken.
        let busy = admission.organisation("").acquire_owned().await.unwrap();
        let started = std::time::Instant::now();
        let request = Request::builder().uri("/").body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 429);
        assert!(started.elapsed() >= Duration::from_millis(200));
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("max_requests_per_organisation (1)"), "{body}");
        drop(busy);
        let request = Request::builder().uri("/").body(Body::empty()).unwrap();
        assert_eq!(app.oneshot(request).await.unwrap().status(), 200);
    }
}
