//! TAXII 2.1 resources (section 4 onwards). Optional members are left out when absent
//! and lists when empty, as TAXII asks; unknown members are ignored when reading.

use serde::{Deserialize, Serialize};

/// `GET /taxii2/` (section 4.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Discovery {
    /// The server's title.
    pub title: String,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub description: Option<String>,
    /// Contact information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub contact: Option<String>,
    /// The default API root's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub default: Option<String>,
    /// URLs of the API roots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_roots: Vec<String>,
}

/// `GET /{api_root}/` (section 4.2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiRoot {
    /// The API root's title.
    pub title: String,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub description: Option<String>,
    /// TAXII versions spoken (media types).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub versions: Vec<String>,
    /// Largest request body accepted, in bytes.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub max_content_length: u64,
}

/// A collection (section 5.2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Collection {
    /// The collection id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub description: Option<String>,
    /// A short name usable in URLs in place of the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub alias: Option<String>,
    /// Whether the requester may read.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub can_read: bool,
    /// Whether the requester may write.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub can_write: bool,
    /// Media types of the objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_types: Vec<String>,
}

/// `GET /{api_root}/collections/` (section 5.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Collections {
    /// The collections; absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collections: Vec<Collection>,
}

/// One object's outcome in a status (section 4.3.1, `status-details`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusDetails {
    /// The object's id.
    pub id: String,
    /// Its version.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub version: String,
    /// Why (for failures) or a note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub message: Option<String>,
}

/// A status resource: the outcome of a POST (section 4.3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Status {
    /// The status id.
    pub id: String,
    /// `complete` or `pending`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(complete|pending)$"))]
    pub status: String,
    /// When the request was received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false, format = DateTime))]
    pub request_timestamp: Option<String>,
    /// Objects in the request.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub total_count: u64,
    /// Objects stored (or already present).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub success_count: u64,
    /// The objects stored (or already present), one entry each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub successes: Vec<StatusDetails>,
    /// Objects refused.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub failure_count: u64,
    /// The objects refused, each with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<StatusDetails>,
    /// Objects not yet processed.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pending_count: u64,
    /// The objects not yet processed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pendings: Vec<StatusDetails>,
}

/// One entry of a manifest (section 5.6.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ManifestRecord {
    /// The object's id.
    pub id: String,
    /// When the server added this version.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub date_added: String,
    /// The version (`modified`, or `created`, or `date_added` for unversioned objects).
    pub version: String,
    /// Its media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub media_type: Option<String>,
}

/// A manifest page (section 5.6.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Manifest {
    /// Whether more entries match.
    #[serde(default)]
    pub more: bool,
    /// The server's token for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub next: Option<String>,
    /// The entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ManifestRecord>,
}

/// An object's versions (section 5.8.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Versions {
    /// Whether more versions exist.
    #[serde(default)]
    pub more: bool,
    /// The server's token for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub next: Option<String>,
    /// The versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
}

/// An error message (section 3.6.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorMessage {
    /// A short human-readable summary.
    pub title: String,
    /// A longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub description: Option<String>,
    /// The server's error id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub error_id: Option<String>,
    /// An error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub error_code: Option<String>,
    /// The HTTP status, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub http_status: Option<String>,
    /// A URL with more about the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub external_details: Option<String>,
    /// Further details, server-defined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object, required = false))]
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_lists_and_absent_members_are_left_out() {
        let d = Discovery {
            title: "t".into(),
            ..Discovery::default()
        };
        assert_eq!(serde_json::to_string(&d).unwrap(), r#"{"title":"t"}"#);
        assert_eq!(
            serde_json::to_string(&Collections::default()).unwrap(),
            "{}"
        );
        let s = Status {
            id: "s".into(),
            status: "complete".into(),
            ..Status::default()
        };
        let text = serde_json::to_string(&s).unwrap();
        assert!(
            !text.contains("successes") && !text.contains("pendings"),
            "{text}"
        );
    }

    #[test]
    fn reads_other_servers_resources() {
        // medallion's collection, with a member Accord does not know.
        let c: Collection = serde_json::from_str(
            r#"{"id":"91a7b528-80eb-42ed-a74d-c6fbd5a26116","title":"High Value","can_read":true,
                "can_write":false,"media_types":["application/stix+json;version=2.1"],"x":1}"#,
        )
        .unwrap();
        assert!(c.can_read && !c.can_write);
    }
}
