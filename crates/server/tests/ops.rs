//! Health and metrics (the OpenAPI document: `openapi.rs`).

use crate::support::*;

#[tokio::test]
async fn healthz_answers_without_credentials() {
    let f = fixture();
    let r = get(&f.app, "/healthz", Who::Nobody).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
}

#[tokio::test]
async fn metrics_count_requests_and_objects_per_organisation() {
    let f = fixture();
    post_objects(
        &f.app,
        INBOX,
        Who::Police,
        &[identity(1, "2020-01-01T00:00:00.000Z")],
    )
    .await;
    get(&f.app, &objects_path(SHARED), Who::Telco).await;
    post_objects(
        &f.app,
        SHARED,
        Who::Telco,
        &[identity(2, "2020-01-01T00:00:00.000Z")],
    )
    .await;
    get(&f.app, &objects_path(SHARED), Who::Telco).await;
    get(&f.app, "/metrics", Who::Nobody)
        .await
        .assert_taxii_error(401);
    get(&f.app, "/metrics", Who::Police)
        .await
        .assert_taxii_error(403);
    let r = get(&f.app, "/metrics", Who::Admin).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = r.body;
    for line in [
        "accord_taxii_objects_in_total{organisation=\"police\",outcome=\"stored\"} 1",
        "accord_taxii_objects_in_total{organisation=\"telco\",outcome=\"stored\"} 1",
        "accord_taxii_objects_out_total{organisation=\"telco\"} 1",
        "accord_http_requests_total{route=\"/{api_root}/collections/{id}/objects/\",method=\"POST\",status=\"202\"} 2",
        "accord_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"401\"} 1",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(text.contains("accord_http_request_duration_seconds_count{route=\"/{api_root}/collections/{id}/objects/\"} 4"));
}

#[tokio::test]
async fn metrics_can_be_public() {
    let f = fixture_with("metrics_public = true");
    assert_eq!(get(&f.app, "/metrics", Who::Nobody).await.status, 200);
}
