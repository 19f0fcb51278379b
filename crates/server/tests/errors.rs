//! Media types, sizes, unknown resources and methods: always TAXII error bodies.

use crate::support::*;

/// `GET /taxii2/` as the telco, accepting `accept`.
async fn discovery_accepting(f: &Fixture, accept: &str) -> Reply {
    request(
        &f.app,
        "GET",
        "/taxii2/",
        Who::Telco,
        &[("accept", accept)],
        None,
    )
    .await
}

/// A POST of `body` to the shared collection's objects as the telco, with these headers
/// only.
async fn post_shared(f: &Fixture, headers: &[(&str, &str)], body: String) -> Reply {
    request(
        &f.app,
        "POST",
        &objects_path(SHARED),
        Who::Telco,
        headers,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn unacceptable_accept_is_406() {
    let f = fixture();
    for accept in [
        "application/json",
        "application/taxii+json;version=2.0",
        "text/html",
    ] {
        let r = discovery_accepting(&f, accept).await;
        r.assert_taxii_error(406);
    }
    for accept in ["*/*", "application/taxii+json", "application/*"] {
        let r = discovery_accepting(&f, accept).await;
        assert_eq!(r.status, 200, "{accept}");
    }
    let r = request(&f.app, "GET", "/taxii2/", Who::Telco, &[], None).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let f = fixture();
    let body =
        serde_json::json!({"objects": [identity(1, "2020-01-01T00:00:00.000Z")]}).to_string();
    for ct in [
        "application/json",
        "application/stix+json;version=2.1",
        "text/plain",
    ] {
        let r = post_shared(&f, &[("content-type", ct)], body.clone()).await;
        r.assert_taxii_error(415);
    }
    let r = post_shared(&f, &[], body).await;
    r.assert_taxii_error(415);
}

#[tokio::test]
async fn bodies_above_max_content_length_are_413() {
    let f = fixture_with("max_content_length = 1000");
    let big = serde_json::json!({"objects": (0..20).map(|i| identity(i, "2020-01-01T00:00:00.000Z")).collect::<Vec<_>>()}).to_string();
    assert!(big.len() > 1000);
    // With a Content-Length header...
    let len = big.len().to_string();
    let r = post_shared(
        &f,
        &[("content-type", TAXII), ("content-length", &len)],
        big.clone(),
    )
    .await;
    r.assert_taxii_error(413);
    // ... and without one (the body is counted as it is read).
    let r = post_shared(&f, &[("content-type", TAXII)], big).await;
    r.assert_taxii_error(413);
    assert_eq!(
        get(&f.app, "/intel/", Who::Telco).await.json()["max_content_length"],
        1000
    );
}

#[tokio::test]
async fn malformed_envelopes_and_filters_are_400() {
    let f = fixture();
    for body in ["not json", "{\"objects\": 5}", "[]"] {
        let r = post_shared(&f, &[("content-type", TAXII)], body.into()).await;
        r.assert_taxii_error(400);
    }
    for q in [
        "limit=0",
        "added_after=yesterday",
        "next=xyz",
        "match[version]=newest",
    ] {
        let r = get(&f.app, &format!("{}?{q}", objects_path(SHARED)), Who::Telco).await;
        r.assert_taxii_error(400);
        assert!(
            r.json()["description"]
                .as_str()
                .unwrap()
                .contains(q.split('=').next().unwrap()),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn unknown_paths_and_methods_are_taxii_errors() {
    let f = fixture();
    get(&f.app, "/intel/collections/x/y/z/w/", Who::Telco)
        .await
        .assert_taxii_error(404);
    get(&f.app, "/", Who::Nobody).await.assert_taxii_error(404);
    request(&f.app, "PUT", "/taxii2/", Who::Telco, &[], None)
        .await
        .assert_taxii_error(405);
    request(
        &f.app,
        "DELETE",
        &objects_path(SHARED),
        Who::Telco,
        &[],
        None,
    )
    .await
    .assert_taxii_error(405);
}

/// `next` tokens are sealed by the door: a token the server did not issue (forged, or
/// from before a restart) is a 400 TAXII error, not a silent jump to some position.
#[tokio::test]
async fn a_next_token_the_server_did_not_issue_is_400() {
    // A forged token opens to a plausible position with probability ~1/2000 (the
    // cursor module explains), so one of these may pass; two would be a bug.
    let f = fixture();
    let mut refused = 0;
    for token in ["1", "17a5b2c3d4e5f", "3fffffffffffffff", "2a2a2a2a2a2a"] {
        let path = format!("{}?next={token}", objects_path(SHARED));
        let r = request(&f.app, "GET", &path, Who::Telco, &[], None).await;
        if r.status == 400 {
            r.assert_taxii_error(400);
            refused += 1;
        }
    }
    assert!(refused >= 3, "{refused} of 4 forged tokens refused");
}

/// `match[id]` repeated until the query held 17,000 ids (each parameter within its 100
/// values) was a 500: the statement passed SQLite's limit of variables. The values of a
/// parameter add up over its repetitions, and the query string is bounded: both are
/// 400 TAXII errors naming the parameter (or the query string) and the limit. (Short
/// ids: a URI is at most 64 KiB, so 17,000 real ids cannot be sent in one.)
#[tokio::test]
async fn match_values_add_up_over_repetitions_and_are_capped() {
    use accord_server::params::{MAX_MATCH_VALUES, MAX_QUERY_LEN};
    let f = fixture();
    let hundred = |from: u32| {
        (from..from + 100)
            .map(identity_id)
            .collect::<Vec<_>>()
            .join(",")
    };
    let repeated = |times: u32| {
        (0..times)
            .map(|k| format!("match[id]={}", hundred(k * 100)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let short = format!("match[id]={}", vec!["a"; 100].join(","));
    let seventeen_thousand = vec![short; 170].join("&");
    let manifest = format!("/intel/collections/{SHARED}/manifest/");
    for path in [objects_path(SHARED), manifest] {
        // 17,000 ids: refused for the query string's length, before anything is parsed.
        let r = get(&f.app, &format!("{path}?{seventeen_thousand}"), Who::Telco).await;
        r.assert_taxii_error(400);
        let description = r.json()["description"].as_str().unwrap().to_string();
        assert!(
            description.contains("query string")
                && description.contains(&MAX_QUERY_LEN.to_string()),
            "{description}"
        );
        // 200 ids in two repetitions: a short query, refused for the count.
        let r = get(&f.app, &format!("{path}?{}", repeated(2)), Who::Telco).await;
        r.assert_taxii_error(400);
        let description = r.json()["description"].as_str().unwrap().to_string();
        assert!(
            description.contains("match[id]")
                && description.contains(&MAX_MATCH_VALUES.to_string()),
            "{description}"
        );
        // One repetition of 100 is within the limit.
        assert_eq!(
            get(&f.app, &format!("{path}?{}", repeated(1)), Who::Telco)
                .await
                .status,
            200
        );
    }
}
