//! Authentication: Basic, Bearer, and 401s.

use crate::support::*;

#[tokio::test]
async fn missing_or_wrong_credentials_are_401_taxii_errors_with_a_challenge() {
    let f = fixture();
    for uri in [
        "/taxii2/",
        "/intel/",
        &objects_path(SHARED),
        "/intel/status/x/",
    ] {
        let r = get(&f.app, uri, Who::Nobody).await;
        r.assert_taxii_error(401);
        let challenge = r.header("www-authenticate").unwrap();
        assert!(
            challenge.contains("Basic") && challenge.contains("Bearer"),
            "{challenge}"
        );
    }
    for header in [
        "Basic YWRtaW46d3Jvbmc=",             // admin:wrong
        "Basic bm9ib2R5OmFkbWluIHBhc3N3b3Jk", // nobody:admin password
        "Basic !!!",
        "Bearer accord_not-a-token",
        "Digest abc",
        "Bearer",
    ] {
        let r = request(
            &f.app,
            "GET",
            "/taxii2/",
            Who::Nobody,
            &[("authorization", header)],
            None,
        )
        .await;
        r.assert_taxii_error(401);
    }
}

#[tokio::test]
async fn basic_and_bearer_both_work_and_name_the_organisation() {
    let f = fixture();
    for who in [Who::Admin, Who::Ana, Who::Telco, Who::Police, Who::Cert] {
        assert_eq!(get(&f.app, "/taxii2/", who).await.status, 200);
    }
    // Twice more: the second Basic check is answered from the verification cache.
    assert_eq!(get(&f.app, "/intel/", Who::Ana).await.status, 200);
    assert_eq!(get(&f.app, "/intel/", Who::Ana).await.status, 200);
}
