//! Admission through the router (no sockets): per-organisation slots, the body's
//! deadlines, the operational routes' own slots.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::Request;
use http_body::Frame;
use tower::ServiceExt;

use crate::support::*;

/// A request body that never sends a byte nor ends: a client that stalled.
struct Stalled;

impl http_body::Body for Stalled {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Pending
    }
}

/// A POST of police's to its inbox whose body stalls after the headers.
fn stalled_post() -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(objects_path(INBOX))
        .header("host", "taxii.test")
        .header("authorization", authorization(Who::Police).unwrap())
        .header("content-type", TAXII)
        .header("accept", TAXII)
        .header("content-length", "100000")
        .body(Body::new(Stalled))
        .unwrap()
}

/// One slot per organisation, half a second for a body, one work slot: police's
/// stalled upload holds police's slot only. Telco and `/healthz` are served at once;
/// police's next request waits for its slot until the upload is refused (408).
#[tokio::test]
async fn a_stalled_upload_holds_only_its_organisations_slot() {
    let f = fixture_with(
        "max_concurrent_requests = 1\nmax_requests_per_organisation = 1\n\
         body_idle_timeout = 10\nbody_read_timeout = 0.5",
    );
    let started = Instant::now();
    let stalled = tokio::spawn(f.app.clone().oneshot(stalled_post()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Others: served at once, although the server has a single work slot.
    let fast = Duration::from_millis(400);
    let r = tokio::time::timeout(fast, get(&f.app, &objects_path(SHARED), Who::Telco))
        .await
        .expect("telco waited behind police's upload");
    assert_eq!(r.status, 200, "{}", r.body);
    let r = tokio::time::timeout(fast, get(&f.app, "/healthz", Who::Nobody))
        .await
        .expect("/healthz waited behind police's upload");
    assert_eq!(r.status, 200, "{}", r.body);
    // Police's own next request waits for police's slot.
    let r = get(&f.app, &objects_path(SHARED), Who::Police).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(started.elapsed() >= Duration::from_millis(450));
    let response = stalled.await.unwrap().unwrap();
    assert_eq!(response.status(), 408);
    assert_eq!(
        response.headers().get("connection").unwrap(),
        "close",
        "the rest of the body is not read: the connection must close"
    );
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("body_read_timeout"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// A body that pauses longer than body_idle_timeout is answered 408 before the total
/// deadline.
#[tokio::test]
async fn a_pause_in_a_body_is_408_naming_the_idle_timeout() {
    let f = fixture_with("body_idle_timeout = 0.2\nbody_read_timeout = 30");
    let started = Instant::now();
    let response = tokio::time::timeout(
        Duration::from_secs(5),
        f.app.clone().oneshot(stalled_post()),
    )
    .await
    .expect("the stalled body was waited for without end")
    .unwrap();
    assert_eq!(response.status(), 408);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&body).contains("body_idle_timeout"),
        "{body:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}
