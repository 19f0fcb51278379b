//! Accord's extension for deletions: TAXII 2.1 lets a client delete an object
//! (section 5.7) but gives readers no way to learn of it. An Accord server serves, per
//! collection, the deletions a reader may learn of at
//! `{api_root}/collections/{id}/x-accord-deletions/`, paged like objects: `added_after`
//! is a deletion time (exclusive), `limit` bounds the page, and the
//! `X-TAXII-Date-Added-First`/`-Last` headers give the deletion times of the page's
//! first and last entries. The body is [`DeletionPage`], as
//! `application/taxii+json;version=2.1`.

use serde::{Deserialize, Serialize};

/// The path segment under a collection (`…/collections/{id}/x-accord-deletions/`).
pub const DELETIONS_SEGMENT: &str = "x-accord-deletions";

/// One deleted object version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deletion {
    /// The object id (as the reader holds it).
    pub id: String,
    /// The deleted version (`modified`); absent for objects without versions (SCOs),
    /// whose one version is the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When it was deleted (a STIX timestamp, microseconds).
    pub date_deleted: String,
}

/// A page of deletions, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeletionPage {
    /// More deletions follow (continue with `added_after` = the last `date_deleted`).
    #[serde(default)]
    pub more: bool,
    /// The deletions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deletions: Vec<Deletion>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_read_and_write_their_members() {
        let page = DeletionPage {
            more: true,
            deletions: vec![Deletion {
                id: "ipv4-addr--1".into(),
                version: None,
                date_deleted: "2026-01-01T00:00:00.000001Z".into(),
            }],
        };
        let text = serde_json::to_string(&page).unwrap();
        assert_eq!(
            text,
            r#"{"more":true,"deletions":[{"id":"ipv4-addr--1","date_deleted":"2026-01-01T00:00:00.000001Z"}]}"#
        );
        assert_eq!(serde_json::from_str::<DeletionPage>(&text).unwrap(), page);
        assert_eq!(
            serde_json::from_str::<DeletionPage>("{}").unwrap(),
            DeletionPage::default()
        );
    }
}
