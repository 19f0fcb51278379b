//! Organisations see only the collections they have rights on; 404, not 403, for a
//! collection they may not read.

use crate::support::*;

fn ids(j: &serde_json::Value) -> Vec<String> {
    j["collections"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn collection_lists_follow_rights() {
    let f = fixture();
    let police = get(&f.app, "/intel/collections/", Who::Police).await.json();
    let mut seen = ids(&police);
    seen.sort();
    let mut expected = vec![INBOX.to_string(), SHARED.to_string()];
    expected.sort();
    assert_eq!(seen, expected);
    let inbox = police["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == INBOX)
        .unwrap();
    assert_eq!(
        (inbox["can_read"].as_bool(), inbox["can_write"].as_bool()),
        (Some(false), Some(true))
    );
    // A user of the same organisation sees the same.
    assert_eq!(
        ids(&get(&f.app, "/intel/collections/", Who::Ana).await.json()).len(),
        2
    );
    // An organisation without rights sees nothing at all.
    assert_eq!(
        get(&f.app, "/intel/collections/", Who::Cert).await.json(),
        serde_json::json!({})
    );
}

#[tokio::test]
async fn unreadable_collections_answer_404_everywhere() {
    let f = fixture();
    let object = identity_id(1);
    for uri in [
        format!("/intel/collections/{PRIVATE}/"),
        format!("/intel/collections/{PRIVATE}/objects/"),
        format!("/intel/collections/{PRIVATE}/manifest/"),
        format!("/intel/collections/{PRIVATE}/objects/{object}/"),
        format!("/intel/collections/{PRIVATE}/objects/{object}/versions/"),
        // Write-only: listed, but its content does not exist for the writer.
        format!("/intel/collections/{INBOX}/objects/"),
        format!("/intel/collections/{INBOX}/manifest/"),
        format!("/intel/collections/{INBOX}/objects/{object}/"),
    ] {
        get(&f.app, &uri, Who::Police).await.assert_taxii_error(404);
    }
    for uri in [
        format!("/intel/collections/{SHARED}/"),
        format!("/intel/collections/{SHARED}/objects/"),
    ] {
        get(&f.app, &uri, Who::Cert).await.assert_taxii_error(404);
    }
    // Posting where one cannot even see the collection: 404; seen but read-only: 403.
    let obj = [identity(1, "2020-01-01T00:00:00.000Z")];
    post_objects(&f.app, PRIVATE, Who::Police, &obj)
        .await
        .assert_taxii_error(404);
    post_objects(&f.app, SHARED, Who::Police, &obj)
        .await
        .assert_taxii_error(403);
    // Write-only collection: posting works.
    assert_eq!(
        post_objects(&f.app, INBOX, Who::Police, &obj).await.status,
        202
    );
}

#[tokio::test]
async fn statuses_belong_to_the_posting_organisation() {
    let f = fixture();
    let r = post_objects(
        &f.app,
        INBOX,
        Who::Police,
        &[identity(2, "2020-01-01T00:00:00.000Z")],
    )
    .await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    let uri = format!("/intel/status/{id}/");
    assert_eq!(get(&f.app, &uri, Who::Police).await.status, 200);
    assert_eq!(get(&f.app, &uri, Who::Ana).await.status, 200);
    get(&f.app, &uri, Who::Telco).await.assert_taxii_error(404);
    get(&f.app, &uri, Who::Cert).await.assert_taxii_error(404);
    get(&f.app, &format!("/nope/status/{id}/"), Who::Police)
        .await
        .assert_taxii_error(404);
}

#[tokio::test]
async fn posted_objects_record_the_posting_organisation_as_provenance() {
    use accord_store::{ObjectQuery, Scope};
    let f = fixture();
    post_objects(
        &f.app,
        INBOX,
        Who::Police,
        &[identity(3, "2020-01-01T00:00:00.000Z")],
    )
    .await;
    post_objects(
        &f.app,
        INBOX,
        Who::Admin,
        &[identity(4, "2020-01-01T00:00:00.000Z")],
    )
    .await;
    let page = f
        .state
        .store()
        .query(&ObjectQuery::new(Scope::Collection(INBOX.into()), 10))
        .unwrap();
    let who: Vec<(&str, &str, &str)> = page
        .rows
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                r.provenance.organisation.as_str(),
                r.provenance.channel.as_str(),
            )
        })
        .collect();
    assert_eq!(
        who,
        [
            (identity_id(3).as_str(), "police", "taxii"),
            (identity_id(4).as_str(), "telco", "taxii")
        ]
    );
}

#[tokio::test]
async fn partners_delete_only_what_they_provided() {
    let f = fixture();
    // telco posts an object into the inbox; police (write + no read) cannot delete it.
    post_objects(
        &f.app,
        INBOX,
        Who::Telco,
        &[identity(5, "2020-01-01T00:00:00.000Z")],
    )
    .await;
    let uri = format!("/intel/collections/{INBOX}/objects/{}/", identity_id(5));
    request(&f.app, "DELETE", &uri, Who::Police, &[], None)
        .await
        .assert_taxii_error(404);
    // On shared, police can read but not write: 403.
    post_objects(
        &f.app,
        SHARED,
        Who::Telco,
        &[identity(6, "2020-01-01T00:00:00.000Z")],
    )
    .await;
    let uri = format!("/intel/collections/{SHARED}/objects/{}/", identity_id(6));
    request(&f.app, "DELETE", &uri, Who::Police, &[], None)
        .await
        .assert_taxii_error(403);
}

/// A partner's `match[version]=last` (or `first`) on DELETE is among its own versions:
/// the answer is the same whether or not another organisation holds a newer version of
/// the id (else DELETE would reveal what others hold).
#[tokio::test]
async fn a_partners_delete_does_not_depend_on_what_others_hold() {
    let text = config_text("").replacen(
        "read = [\"telco\", \"police\"]\nwrite = [\"telco\"]",
        "read = [\"telco\", \"police\"]\nwrite = [\"telco\", \"police\"]",
        1,
    );
    let f = fixture_from(text);
    for (n, telco_newer) in [(7, true), (8, false)] {
        post_objects(
            &f.app,
            SHARED,
            Who::Police,
            &[identity(n, "2020-01-01T00:00:00.000Z")],
        )
        .await;
        if telco_newer {
            post_objects(
                &f.app,
                SHARED,
                Who::Telco,
                &[identity(n, "2021-01-01T00:00:00.000Z")],
            )
            .await;
        }
        let uri = format!(
            "/intel/collections/{SHARED}/objects/{}/?match[version]=last",
            identity_id(n)
        );
        let r = request(&f.app, "DELETE", &uri, Who::Police, &[], None).await;
        assert_eq!(
            r.status.as_u16(),
            200,
            "telco holds a newer version: {telco_newer}"
        );
        // The partner's version is gone; the telco's stays.
        let uri = format!(
            "/intel/collections/{SHARED}/objects/{}/versions/",
            identity_id(n)
        );
        let r = request(&f.app, "GET", &uri, Who::Telco, &[], None).await;
        let versions = r.json()["versions"].clone();
        let want = if telco_newer {
            serde_json::json!(["2021-01-01T00:00:00.000Z"])
        } else {
            serde_json::Value::Null
        };
        assert_eq!(versions, want);
    }
}
