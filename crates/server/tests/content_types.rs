//! Every TAXII answer, success or error, carries the TAXII media type; status
//! resources leave out empty lists (TAXII, like STIX, forbids them).

use serde_json::json;

use crate::support::*;

/// One request of every TAXII endpoint and of the common errors, after a POST whose
/// status is then read: each answer must say `Content-Type: application/taxii+json`.
#[tokio::test]
async fn every_taxii_answer_has_the_taxii_content_type() {
    let f = fixture();
    let posted = post_objects(
        &f.app,
        SHARED,
        Who::Telco,
        &[identity(1, "2020-01-01T00:00:00.000Z")],
    )
    .await;
    assert_eq!(posted.status, 202, "{}", posted.body);
    let status_id = posted.json()["id"].as_str().unwrap_or_default().to_string();
    let id1 = identity_id(1);
    let object = format!("/intel/collections/{SHARED}/objects/{id1}/");
    let accept = [("accept", TAXII)];
    let post_headers = [("accept", TAXII), ("content-type", TAXII)];
    type Case<'a> = (
        &'a str,
        String,
        Who,
        &'a [(&'a str, &'a str)],
        Option<String>,
        u16,
    );
    let cases: Vec<Case<'_>> = vec![
        ("GET", "/taxii2/".into(), Who::Telco, &accept, None, 200),
        ("GET", "/intel/".into(), Who::Telco, &accept, None, 200),
        (
            "GET",
            "/intel/collections/".into(),
            Who::Telco,
            &accept,
            None,
            200,
        ),
        (
            "GET",
            format!("/intel/collections/{SHARED}/"),
            Who::Telco,
            &accept,
            None,
            200,
        ),
        ("GET", objects_path(SHARED), Who::Telco, &accept, None, 200),
        (
            "GET",
            format!("/intel/collections/{SHARED}/manifest/"),
            Who::Telco,
            &accept,
            None,
            200,
        ),
        ("GET", object.clone(), Who::Telco, &accept, None, 200),
        (
            "GET",
            format!("{object}versions/"),
            Who::Telco,
            &accept,
            None,
            200,
        ),
        (
            "GET",
            format!("/intel/status/{status_id}/"),
            Who::Telco,
            &accept,
            None,
            200,
        ),
        (
            "POST",
            objects_path(SHARED),
            Who::Telco,
            &post_headers,
            Some(json!({"objects": []}).to_string()),
            202,
        ),
        ("DELETE", object.clone(), Who::Telco, &[], None, 200),
        // Errors.
        ("GET", objects_path(SHARED), Who::Nobody, &accept, None, 401),
        (
            "GET",
            objects_path(SHARED),
            Who::Telco,
            &[("accept", "text/html")],
            None,
            406,
        ),
        (
            "POST",
            objects_path(SHARED),
            Who::Telco,
            &[("accept", TAXII), ("content-type", "text/plain")],
            Some("{}".into()),
            415,
        ),
        (
            "POST",
            objects_path(SHARED),
            Who::Telco,
            &post_headers,
            Some("not json".into()),
            400,
        ),
        (
            "POST",
            objects_path(SHARED),
            Who::Police,
            &post_headers,
            Some(json!({"objects": []}).to_string()),
            403,
        ),
        (
            "GET",
            "/intel/collections/00000000-0000-4000-8000-000000000000/".into(),
            Who::Telco,
            &accept,
            None,
            404,
        ),
        ("GET", "/nowhere/".into(), Who::Telco, &accept, None, 404),
        ("DELETE", object.clone(), Who::Telco, &[], None, 404),
    ];
    for (method, uri, who, headers, body, status) in cases {
        let r = request(&f.app, method, &uri, who, headers, body).await;
        assert_eq!(r.status.as_u16(), status, "{method} {uri}: {}", r.body);
        let content_type = r.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/taxii+json"),
            "{method} {uri} ({status}) has Content-Type {content_type:?}"
        );
    }
}

/// A status with nothing pending, or nothing failed, or nothing stored, leaves the
/// empty list out (and its count says 0).
#[tokio::test]
async fn a_status_carries_no_empty_list() {
    let f = fixture();
    let all_good = post_objects(
        &f.app,
        SHARED,
        Who::Telco,
        &[identity(1, "2020-01-01T00:00:00.000Z")],
    )
    .await;
    let all_bad = post_objects(&f.app, SHARED, Who::Telco, &[json!({"type": "identity"})]).await;
    for posted in [all_good, all_bad] {
        assert_eq!(posted.status, 202, "{}", posted.body);
        let id = posted.json()["id"].as_str().unwrap_or_default().to_string();
        let read = get(&f.app, &format!("/intel/status/{id}/"), Who::Telco).await;
        for status in [posted.json(), read.json()] {
            assert_eq!(status["pending_count"], 0);
            for list in ["successes", "failures", "pendings"] {
                if let Some(value) = status.get(list) {
                    assert!(
                        value.as_array().is_some_and(|a| !a.is_empty()),
                        "{list} is empty: {status}"
                    );
                }
            }
            assert!(status.get("pendings").is_none(), "{status}");
        }
    }
    // A status stored by an earlier version, with its empty lists, is served without them.
    let old = r#"{"id":"6f1f0b8e-9b7a-4c1e-8d5e-2b9f3c4d5e6f","status":"complete","request_timestamp":"2026-01-01T00:00:00.000Z","total_count":0,"success_count":0,"successes":[],"failure_count":0,"failures":[],"pending_count":0,"pendings":[]}"#;
    f.state
        .store()
        .put_status(&accord_store::StatusRecord {
            id: "6f1f0b8e-9b7a-4c1e-8d5e-2b9f3c4d5e6f".into(),
            organisation: "telco".into(),
            json: old.into(),
        })
        .unwrap();
    let read = get(
        &f.app,
        "/intel/status/6f1f0b8e-9b7a-4c1e-8d5e-2b9f3c4d5e6f/",
        Who::Telco,
    )
    .await;
    assert_eq!(
        read.json(),
        json!({"id":"6f1f0b8e-9b7a-4c1e-8d5e-2b9f3c4d5e6f","status":"complete","request_timestamp":"2026-01-01T00:00:00.000Z","total_count":0,"success_count":0,"failure_count":0,"pending_count":0})
    );
}
