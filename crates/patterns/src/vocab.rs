//! The STIX 2.1 vocabulary the semantic checks compare object paths with:
//! cyber-observable object types and their properties (STIX 2.1
//! specification, section 6), and the hash algorithm names of
//! `hash-algorithm-ov`.

/// Properties every cyber-observable object may have.
pub const COMMON_SCO_PROPERTIES: &[&str] = &[
    "type",
    "id",
    "spec_version",
    "object_marking_refs",
    "granular_markings",
    "defanged",
    "extensions",
];

/// STIX 2.1 cyber-observable object types with their specific properties.
pub const SCO_TYPES: &[(&str, &[&str])] = &[
    (
        "artifact",
        &[
            "mime_type",
            "payload_bin",
            "url",
            "hashes",
            "encryption_algorithm",
            "decryption_key",
        ],
    ),
    ("autonomous-system", &["number", "name", "rir"]),
    (
        "directory",
        &[
            "path",
            "path_enc",
            "ctime",
            "mtime",
            "atime",
            "contains_refs",
        ],
    ),
    ("domain-name", &["value", "resolves_to_refs"]),
    ("email-addr", &["value", "display_name", "belongs_to_ref"]),
    (
        "email-message",
        &[
            "is_multipart",
            "date",
            "content_type",
            "from_ref",
            "sender_ref",
            "to_refs",
            "cc_refs",
            "bcc_refs",
            "message_id",
            "subject",
            "received_lines",
            "additional_header_fields",
            "body",
            "body_multipart",
            "raw_email_ref",
        ],
    ),
    (
        "file",
        &[
            "hashes",
            "size",
            "name",
            "name_enc",
            "magic_number_hex",
            "mime_type",
            "ctime",
            "mtime",
            "atime",
            "parent_directory_ref",
            "contains_refs",
            "content_ref",
        ],
    ),
    (
        "ipv4-addr",
        &["value", "resolves_to_refs", "belongs_to_refs"],
    ),
    (
        "ipv6-addr",
        &["value", "resolves_to_refs", "belongs_to_refs"],
    ),
    ("mac-addr", &["value"]),
    ("mutex", &["name"]),
    (
        "network-traffic",
        &[
            "start",
            "end",
            "is_active",
            "src_ref",
            "dst_ref",
            "src_port",
            "dst_port",
            "protocols",
            "src_byte_count",
            "dst_byte_count",
            "src_packets",
            "dst_packets",
            "ipfix",
            "src_payload_ref",
            "dst_payload_ref",
            "encapsulates_refs",
            "encapsulated_by_ref",
        ],
    ),
    (
        "process",
        &[
            "is_hidden",
            "pid",
            "created_time",
            "cwd",
            "command_line",
            "environment_variables",
            "opened_connection_refs",
            "creator_user_ref",
            "image_ref",
            "parent_ref",
            "child_refs",
        ],
    ),
    (
        "software",
        &["name", "cpe", "swid", "languages", "vendor", "version"],
    ),
    ("url", &["value"]),
    (
        "user-account",
        &[
            "user_id",
            "credential",
            "account_login",
            "account_type",
            "display_name",
            "is_service_account",
            "is_privileged",
            "can_escalate_privs",
            "is_disabled",
            "account_created",
            "account_expires",
            "credential_last_changed",
            "account_first_login",
            "account_last_login",
        ],
    ),
    (
        "windows-registry-key",
        &[
            "key",
            "values",
            "modified_time",
            "creator_user_ref",
            "number_of_subkeys",
        ],
    ),
    (
        "x509-certificate",
        &[
            "is_self_signed",
            "hashes",
            "version",
            "serial_number",
            "signature_algorithm",
            "issuer",
            "validity_not_before",
            "validity_not_after",
            "subject",
            "subject_public_key_algorithm",
            "subject_public_key_modulus",
            "subject_public_key_exponent",
            "x509_v3_extensions",
        ],
    ),
];

/// `hash-algorithm-ov` (STIX 2.1, section 10.7).
pub const HASH_ALGORITHMS: &[&str] = &[
    "MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH",
];

/// The specific properties of a STIX 2.1 cyber-observable type.
///
/// ```
/// assert!(accord_patterns::vocab::sco_properties("file").unwrap().contains(&"hashes"));
/// assert!(accord_patterns::vocab::sco_properties("indicator").is_none());
/// ```
pub fn sco_properties(object_type: &str) -> Option<&'static [&'static str]> {
    SCO_TYPES
        .iter()
        .find(|(t, _)| *t == object_type)
        .map(|(_, p)| *p)
}
