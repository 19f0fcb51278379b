//! TAXII 2.1 resources (section 4 onwards). Optional members are left out when absent
//! and lists when empty, as TAXII asks; unknown members are ignored when reading.

use serde::{Deserialize, Serialize};

/// Declares a resource struct whose members follow TAXII's rules, each rule written once
/// here instead of as the same attributes on every member that has it:
/// - `optional name: Option<T>`: left out when absent (and not `null` in the schema:
///   TAXII leaves optional members out instead);
/// - `list name: Vec<T>`: left out when empty (TAXII forbids empty lists);
/// - `required name: T`: required by TAXII (and in the schema), yet read as `T`'s default
///   when another server leaves it out, so that its resource still reads;
/// - `pub name: T` with any attributes: as written.
///
/// Every resource is `Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize`, and
/// a `utoipa::ToSchema` with the `openapi` feature.
macro_rules! resource {
    ($(#[$meta:meta])* pub struct $name:ident { $($members:tt)* }) => {
        resource!(@member [$(#[$meta])* pub struct $name] [] $($members)*);
    };
    (@member $head:tt [$($done:tt)*]
        $(#[$meta:meta])* optional $member:ident: Option<$ty:ident>, $($rest:tt)*) => {
        resource!(@member $head [$($done)*
            $(#[$meta])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[cfg_attr(feature = "openapi", schema(nullable = false))]
            pub $member: Option<$ty>,
        ] $($rest)*);
    };
    (@member $head:tt [$($done:tt)*]
        $(#[$meta:meta])* list $member:ident: Vec<$ty:ident>, $($rest:tt)*) => {
        resource!(@member $head [$($done)*
            $(#[$meta])*
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub $member: Vec<$ty>,
        ] $($rest)*);
    };
    (@member $head:tt [$($done:tt)*]
        $(#[$meta:meta])* required $member:ident: $ty:ident $(<$arg:ident>)?, $($rest:tt)*) => {
        resource!(@member $head [$($done)*
            $(#[$meta])*
            #[serde(default)]
            #[cfg_attr(feature = "openapi", schema(required = true))]
            pub $member: $ty $(<$arg>)?,
        ] $($rest)*);
    };
    (@member $head:tt [$($done:tt)*]
        $(#[$meta:meta])* pub $member:ident: $ty:ty, $($rest:tt)*) => {
        resource!(@member $head [$($done)* $(#[$meta])* pub $member: $ty,] $($rest)*);
    };
    (@member [$($head:tt)*] [$($done:tt)*]) => {
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        $($head)* { $($done)* }
    };
}

resource! {
    /// `GET /taxii2/` (section 4.1.1).
    pub struct Discovery {
        /// The server's title.
        pub title: String,
        /// A description.
        optional description: Option<String>,
        /// Contact information.
        optional contact: Option<String>,
        /// The default API root's URL.
        optional default: Option<String>,
        /// URLs of the API roots.
        list api_roots: Vec<String>,
    }
}

resource! {
    /// `GET /{api_root}/` (section 4.2.1).
    pub struct ApiRoot {
        /// The API root's title.
        pub title: String,
        /// A description.
        optional description: Option<String>,
        /// TAXII versions spoken (media types).
        required versions: Vec<String>,
        /// Largest request body accepted, in bytes.
        required max_content_length: u64,
    }
}

resource! {
    /// A collection (section 5.2.1).
    pub struct Collection {
        /// The collection id.
        pub id: String,
        /// Its title.
        pub title: String,
        /// A description.
        optional description: Option<String>,
        /// A short name usable in URLs in place of the id.
        optional alias: Option<String>,
        /// Whether the requester may read.
        required can_read: bool,
        /// Whether the requester may write.
        required can_write: bool,
        /// Media types of the objects.
        list media_types: Vec<String>,
    }
}

resource! {
    /// `GET /{api_root}/collections/` (section 5.1.1).
    pub struct Collections {
        /// The collections; absent when there are none.
        list collections: Vec<Collection>,
    }
}

resource! {
    /// One object's outcome in a status (section 4.3.1, `status-details`).
    pub struct StatusDetails {
        /// The object's id.
        pub id: String,
        /// Its version.
        required version: String,
        /// Why (for failures) or a note.
        optional message: Option<String>,
    }
}

resource! {
    /// A status resource: the outcome of a POST (section 4.3.1).
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
        required total_count: u64,
        /// Objects stored (or already present).
        required success_count: u64,
        /// The objects stored (or already present), one entry each.
        list successes: Vec<StatusDetails>,
        /// Objects refused.
        required failure_count: u64,
        /// The objects refused, each with the reason.
        list failures: Vec<StatusDetails>,
        /// Objects not yet processed.
        required pending_count: u64,
        /// The objects not yet processed.
        list pendings: Vec<StatusDetails>,
    }
}

resource! {
    /// One entry of a manifest (section 5.6.1).
    pub struct ManifestRecord {
        /// The object's id.
        pub id: String,
        /// When the server added this version.
        #[cfg_attr(feature = "openapi", schema(format = DateTime))]
        pub date_added: String,
        /// The version (`modified`, or `created`, or `date_added` for unversioned objects).
        pub version: String,
        /// Its media type.
        optional media_type: Option<String>,
    }
}

resource! {
    /// A manifest page (section 5.6.1).
    pub struct Manifest {
        /// Whether more entries match.
        #[serde(default)]
        pub more: bool,
        /// The server's token for the next page.
        optional next: Option<String>,
        /// The entries.
        list objects: Vec<ManifestRecord>,
    }
}

resource! {
    /// An object's versions (section 5.8.1).
    pub struct Versions {
        /// Whether more versions exist.
        #[serde(default)]
        pub more: bool,
        /// The server's token for the next page.
        optional next: Option<String>,
        /// The versions.
        list versions: Vec<String>,
    }
}

resource! {
    /// An error message (section 3.6.1).
    pub struct ErrorMessage {
        /// A short human-readable summary.
        pub title: String,
        /// A longer description.
        optional description: Option<String>,
        /// The server's error id.
        optional error_id: Option<String>,
        /// An error code.
        optional error_code: Option<String>,
        /// The HTTP status, as text.
        optional http_status: Option<String>,
        /// A URL with more about the error.
        optional external_details: Option<String>,
        /// Further details, server-defined.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(value_type = Object, required = false))]
        pub details: Option<serde_json::Map<String, serde_json::Value>>,
    }
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
