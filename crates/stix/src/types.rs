//! The catalogue of STIX 2.1 object types: for each type its kind, required
//! properties, ID contributing properties (SCOs), per-property value kinds and
//! predefined extensions. Validation is driven by these tables.
//!
//! Sources: the STIX 2.1 specification (OASIS Standard, 2021) sections 4-7, the
//! OASIS JSON schemas (`cti-stix2-json-schemas`, `schemas/`), and the ID
//! contributing properties of the OASIS `stix2` library (`v21/observables.py`).
//!
//! ```
//! use accord_stix::types::{self, ObjectKind};
//! let t = types::lookup("ipv4-addr").unwrap();
//! assert_eq!(t.kind, ObjectKind::Sco);
//! assert_eq!(t.id_contributing, ["value"]);
//! assert!(types::lookup("x-mitre-tactic").is_none());
//! ```

/// What kind of STIX object a type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// STIX Domain Object (section 4).
    Sdo,
    /// STIX Relationship Object (section 5).
    Sro,
    /// STIX Cyber-observable Object (section 6).
    Sco,
    /// Meta object: marking-definition, language-content, extension-definition (section 7).
    Meta,
    /// A type the specification does not define (custom object, e.g. `x-mitre-tactic`).
    Custom,
}

/// Which object types a reference may point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refs {
    /// Any type.
    Any,
    /// Only these types.
    Only(&'static [&'static str]),
    /// Any type except these.
    Not(&'static [&'static str]),
}

impl Refs {
    /// True when an identifier of `object_type` may be referenced.
    pub fn allows(&self, object_type: &str) -> bool {
        match self {
            Refs::Any => true,
            Refs::Only(t) => t.contains(&object_type),
            Refs::Not(t) => !t.contains(&object_type),
        }
    }
}

/// Required timestamp precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Any number of fraction digits.
    Any,
    /// At least millisecond precision (three or more fraction digits).
    Millis,
    /// Whole seconds (no fraction).
    Seconds,
}

/// The shape of an embedded object (an extension, a list item ...).
#[derive(Debug, PartialEq)]
pub struct Shape {
    /// Properties and their value kinds.
    pub properties: &'static [(&'static str, ValueKind)],
    /// Properties that must be present.
    pub required: &'static [&'static str],
    /// At least one of these must be present (empty: no such rule).
    pub at_least_one: &'static [&'static str],
}

/// What a property's value must be.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ValueKind {
    /// A string.
    String,
    /// `true` or `false`.
    Boolean,
    /// An integer within the inclusive bounds.
    Integer {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A number within the inclusive bounds.
    Number {
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// A timestamp with the given precision.
    Timestamp(Precision),
    /// An identifier of the allowed types.
    Identifier(Refs),
    /// A non-empty list of identifiers of the allowed types.
    IdentifierList(Refs),
    /// A non-empty list of strings.
    StringList,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// A non-empty list of strings, each one of these.
    EnumList(&'static [&'static str]),
    /// A hashes dictionary (section 2.7 / hash-algorithm-ov).
    Hashes,
    /// A dictionary (non-empty object with keys of `a-z A-Z 0-9 _ -`, at most 250 characters).
    Dictionary,
    /// Any JSON object.
    Object,
    /// Any non-empty list.
    List,
    /// `external_references`.
    ExternalReferences,
    /// `kill_chain_phases`.
    KillChainPhases,
    /// `granular_markings`.
    GranularMarkings,
    /// `object_marking_refs`.
    MarkingRefs,
    /// `extensions`.
    Extensions,
    /// `confidence`: integer 0-100.
    Confidence,
    /// An RFC 5646 language tag.
    LanguageTag,
    /// A non-empty list of RFC 5646 language tags.
    LanguageTagList,
    /// An IPv4 address or CIDR block.
    Ipv4OrCidr,
    /// An IPv6 address or CIDR block.
    Ipv6OrCidr,
    /// A MAC-48 address, lowercase, colon separated.
    MacAddr,
    /// An email address (addr-spec).
    EmailAddr,
    /// A domain name.
    DomainName,
    /// An absolute URI.
    Url,
    /// Base64 (RFC 4648) text.
    Binary,
    /// An even number of hex digits.
    Hex,
    /// A CPE 2.3 formatted string.
    Cpe,
    /// An IANA media type `type/subtype`.
    MimeType,
    /// An IANA character-set name.
    CharacterSet,
    /// A Windows registry key with its full hive name.
    RegistryKey,
    /// `relationship_type`: `a-z 0-9 -`.
    RelationshipType,
    /// An embedded object of the given shape.
    ObjectOf(&'static Shape),
    /// A non-empty list of embedded objects of the given shape.
    ListOf(&'static Shape),
    /// observed-data `objects` (deprecated embedded observables).
    ObservedObjects,
}

/// One object type of the catalogue.
#[derive(Debug, PartialEq)]
pub struct TypeDef {
    /// The `type` value.
    pub name: &'static str,
    /// Its kind.
    pub kind: ObjectKind,
    /// Required type-specific properties (common required ones are implied by the kind).
    pub required: &'static [&'static str],
    /// ID contributing properties, in the order the `stix2` library uses (SCOs only).
    pub id_contributing: &'static [&'static str],
    /// Type-specific properties and their value kinds.
    pub properties: &'static [(&'static str, ValueKind)],
    /// At least one of these must be present (empty: no such rule).
    pub at_least_one: &'static [&'static str],
    /// Predefined extensions of the type and their shapes.
    pub extensions: &'static [(&'static str, &'static Shape)],
}

use ValueKind as V;

const ANY_TS: ValueKind = V::Timestamp(Precision::Any);
const fn int(min: i64, max: i64) -> ValueKind {
    V::Integer { min, max }
}
const INT: ValueKind = int(i64::MIN, i64::MAX);
const UINT: ValueKind = int(0, i64::MAX);
const fn only(t: &'static [&'static str]) -> ValueKind {
    V::Identifier(Refs::Only(t))
}
const fn only_list(t: &'static [&'static str]) -> ValueKind {
    V::IdentifierList(Refs::Only(t))
}

/// Types that are never the target of a relationship or sighting.
const NOT_RELATABLE: &[&str] = &[
    "relationship",
    "sighting",
    "bundle",
    "marking-definition",
    "language-content",
];

/// The 19 SDO type names.
pub const SDO_TYPES: &[&str] = &[
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
];

/// The 18 SCO type names.
pub const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// Common properties of SDOs, SROs, language-content and extension-definition
/// (besides `type`, `spec_version`, `id`, `created`, `modified`, which are
/// checked first).
pub const SDO_COMMON: &[(&str, ValueKind)] = &[
    ("created_by_ref", only(&["identity"])),
    ("revoked", V::Boolean),
    ("labels", V::StringList),
    ("confidence", V::Confidence),
    ("lang", V::LanguageTag),
    ("external_references", V::ExternalReferences),
    ("object_marking_refs", V::MarkingRefs),
    ("granular_markings", V::GranularMarkings),
    ("extensions", V::Extensions),
];

/// Common properties of SCOs (besides `type`, `spec_version`, `id`).
pub const SCO_COMMON: &[(&str, ValueKind)] = &[
    ("object_marking_refs", V::MarkingRefs),
    ("granular_markings", V::GranularMarkings),
    ("defanged", V::Boolean),
    ("extensions", V::Extensions),
];

/// Properties of marking-definition (besides `type`, `spec_version`, `id`, `created`).
pub const MARKING_COMMON: &[(&str, ValueKind)] = &[
    ("created_by_ref", only(&["identity"])),
    ("external_references", V::ExternalReferences),
    ("object_marking_refs", V::MarkingRefs),
    ("granular_markings", V::GranularMarkings),
    ("extensions", V::Extensions),
    ("name", V::String),
    ("definition_type", V::String),
    ("definition", V::Object),
];

/// Property names no object may use (STIX 2.1 section 3.1, reserved names).
pub const RESERVED_PROPERTIES: &[&str] = &["severity", "action", "username", "phone_numbers"];

/// Type names that are not objects: `bundle` is an envelope, `action` is reserved.
pub const RESERVED_TYPES: &[&str] = &["bundle", "action"];

/// A hash algorithm's name, shortest and longest value, and its alphabet.
pub type HashAlgorithm = (&'static str, usize, usize, fn(u8) -> bool);

/// Hash algorithms of hash-algorithm-ov with their value syntax (OASIS schema `hashes-type.json`).
pub const HASH_ALGORITHMS: &[HashAlgorithm] = &[
    ("MD5", 32, 32, is_hex),
    ("SHA-1", 40, 40, is_hex),
    ("SHA-256", 64, 64, is_hex),
    ("SHA-512", 128, 128, is_hex),
    ("SHA3-256", 64, 64, is_hex),
    ("SHA3-512", 128, 128, is_hex),
    ("SSDEEP", 1, 128, is_ssdeep),
    ("TLSH", 70, 70, is_alnum),
];

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}
fn is_ssdeep(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b':' | b'.')
}
fn is_alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// TLP 1.0 marking definitions (STIX 2.1 section 7.2.1.4).
pub mod tlp {
    /// TLP:WHITE.
    pub const WHITE: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
    /// TLP:GREEN.
    pub const GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
    /// TLP:AMBER.
    pub const AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
    /// TLP:RED.
    pub const RED: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
    /// The `created` of every TLP 1.0 marking definition.
    pub const CREATED: &str = "2017-01-20T00:00:00.000Z";
    /// (id, name, definition.tlp) of each TLP 1.0 marking definition.
    pub const ALL: [(&str, &str, &str); 4] = [
        (WHITE, "TLP:WHITE", "white"),
        (GREEN, "TLP:GREEN", "green"),
        (AMBER, "TLP:AMBER", "amber"),
        (RED, "TLP:RED", "red"),
    ];
}

const KILL_CHAIN: (&str, ValueKind) = ("kill_chain_phases", V::KillChainPhases);
const ALIASES: (&str, ValueKind) = ("aliases", V::StringList);
const FIRST_SEEN: (&str, ValueKind) = ("first_seen", ANY_TS);
const LAST_SEEN: (&str, ValueKind) = ("last_seen", ANY_TS);

const fn sdo(
    name: &'static str,
    required: &'static [&'static str],
    properties: &'static [(&'static str, ValueKind)],
) -> TypeDef {
    TypeDef {
        name,
        kind: ObjectKind::Sdo,
        required,
        id_contributing: &[],
        properties,
        at_least_one: &[],
        extensions: &[],
    }
}

const fn sco(
    name: &'static str,
    required: &'static [&'static str],
    id_contributing: &'static [&'static str],
    properties: &'static [(&'static str, ValueKind)],
) -> TypeDef {
    TypeDef {
        name,
        kind: ObjectKind::Sco,
        required,
        id_contributing,
        properties,
        at_least_one: &[],
        extensions: &[],
    }
}

const fn shape(
    properties: &'static [(&'static str, ValueKind)],
    required: &'static [&'static str],
    at_least_one: &'static [&'static str],
) -> Shape {
    Shape {
        properties,
        required,
        at_least_one,
    }
}

// ---- embedded shapes -------------------------------------------------------

static ALTERNATE_DATA_STREAM: Shape = shape(
    &[("name", V::String), ("hashes", V::Hashes), ("size", UINT)],
    &["name"],
    &[],
);
static NTFS_EXT: Shape = shape(
    &[
        ("sid", V::String),
        ("alternate_data_streams", V::ListOf(&ALTERNATE_DATA_STREAM)),
    ],
    &[],
    &["sid", "alternate_data_streams"],
);
static RASTER_IMAGE_EXT: Shape = shape(
    &[
        ("image_height", INT),
        ("image_width", INT),
        ("bits_per_pixel", INT),
        ("exif_tags", V::Dictionary),
    ],
    &[],
    &["image_height", "image_width", "bits_per_pixel", "exif_tags"],
);
static PDF_EXT: Shape = shape(
    &[
        ("version", V::String),
        ("is_optimized", V::Boolean),
        ("document_info_dict", V::Dictionary),
        ("pdfid0", V::String),
        ("pdfid1", V::String),
    ],
    &[],
    &[
        "version",
        "is_optimized",
        "document_info_dict",
        "pdfid0",
        "pdfid1",
    ],
);
static ARCHIVE_EXT: Shape = shape(
    &[
        (
            "contains_refs",
            V::IdentifierList(Refs::Only(&["file", "directory"])),
        ),
        ("comment", V::String),
    ],
    &["contains_refs"],
    &[],
);
static PE_OPTIONAL_HEADER: Shape = shape(
    &[
        ("magic_hex", V::Hex),
        ("major_linker_version", INT),
        ("minor_linker_version", INT),
        ("size_of_code", UINT),
        ("size_of_initialized_data", UINT),
        ("size_of_uninitialized_data", UINT),
        ("address_of_entry_point", INT),
        ("base_of_code", INT),
        ("base_of_data", INT),
        ("image_base", INT),
        ("section_alignment", INT),
        ("file_alignment", INT),
        ("major_os_version", INT),
        ("minor_os_version", INT),
        ("major_image_version", INT),
        ("minor_image_version", INT),
        ("major_subsystem_version", INT),
        ("minor_subsystem_version", INT),
        ("win32_version_value_hex", V::Hex),
        ("size_of_image", UINT),
        ("size_of_headers", UINT),
        ("checksum_hex", V::Hex),
        ("subsystem_hex", V::Hex),
        ("dll_characteristics_hex", V::Hex),
        ("size_of_stack_reserve", UINT),
        ("size_of_stack_commit", UINT),
        ("size_of_heap_reserve", UINT),
        ("size_of_heap_commit", UINT),
        ("loader_flags_hex", V::Hex),
        ("number_of_rva_and_sizes", INT),
        ("hashes", V::Hashes),
    ],
    &[],
    &[
        "magic_hex",
        "major_linker_version",
        "minor_linker_version",
        "size_of_code",
        "size_of_initialized_data",
        "size_of_uninitialized_data",
        "address_of_entry_point",
        "base_of_code",
        "base_of_data",
        "image_base",
        "section_alignment",
        "file_alignment",
        "major_os_version",
        "minor_os_version",
        "major_image_version",
        "minor_image_version",
        "major_subsystem_version",
        "minor_subsystem_version",
        "win32_version_value_hex",
        "size_of_image",
        "size_of_headers",
        "checksum_hex",
        "subsystem_hex",
        "dll_characteristics_hex",
        "size_of_stack_reserve",
        "size_of_stack_commit",
        "size_of_heap_reserve",
        "size_of_heap_commit",
        "loader_flags_hex",
        "number_of_rva_and_sizes",
        "hashes",
    ],
);
static PE_SECTION: Shape = shape(
    &[
        ("name", V::String),
        ("size", UINT),
        (
            "entropy",
            V::Number {
                min: f64::MIN,
                max: f64::MAX,
            },
        ),
        ("hashes", V::Hashes),
    ],
    &["name"],
    &[],
);
static WINDOWS_PEBINARY_EXT: Shape = shape(
    &[
        ("pe_type", V::String),
        ("imphash", V::String),
        ("machine_hex", V::Hex),
        ("number_of_sections", UINT),
        ("time_date_stamp", V::Timestamp(Precision::Seconds)),
        ("pointer_to_symbol_table_hex", V::Hex),
        ("number_of_symbols", UINT),
        ("size_of_optional_header", UINT),
        ("characteristics_hex", V::Hex),
        ("file_header_hashes", V::Hashes),
        ("optional_header", V::ObjectOf(&PE_OPTIONAL_HEADER)),
        ("sections", V::ListOf(&PE_SECTION)),
    ],
    &["pe_type"],
    &[],
);
static HTTP_REQUEST_EXT: Shape = shape(
    &[
        ("request_method", V::String),
        ("request_value", V::String),
        ("request_version", V::String),
        ("request_header", V::Dictionary),
        ("message_body_length", INT),
        ("message_body_data_ref", only(&["artifact"])),
    ],
    &["request_method", "request_value"],
    &[],
);
static ICMP_EXT: Shape = shape(
    &[("icmp_type_hex", V::Hex), ("icmp_code_hex", V::Hex)],
    &["icmp_type_hex", "icmp_code_hex"],
    &[],
);
/// The values of a `socket-ext`'s `address_family` (STIX 2.1
/// `network-socket-address-family-enum`). Public so that converters (MISP's
/// `network-socket` object) accept the same values validation does.
pub const SOCKET_ADDRESS_FAMILIES: &[&str] = &[
    "AF_UNSPEC",
    "AF_INET",
    "AF_IPX",
    "AF_APPLETALK",
    "AF_NETBIOS",
    "AF_INET6",
    "AF_IRDA",
    "AF_BTH",
];
/// The values of a `socket-ext`'s `socket_type` (STIX 2.1 `network-socket-type-enum`).
pub const SOCKET_TYPES: &[&str] = &[
    "SOCK_STREAM",
    "SOCK_DGRAM",
    "SOCK_RAW",
    "SOCK_RDM",
    "SOCK_SEQPACKET",
];
static SOCKET_EXT: Shape = shape(
    &[
        ("address_family", V::Enum(SOCKET_ADDRESS_FAMILIES)),
        ("is_blocking", V::Boolean),
        ("is_listening", V::Boolean),
        ("options", V::Dictionary),
        ("socket_type", V::Enum(SOCKET_TYPES)),
        ("socket_descriptor", UINT),
        ("socket_handle", INT),
    ],
    &["address_family"],
    &[],
);
static TCP_EXT: Shape = shape(
    &[("src_flags_hex", V::Hex), ("dst_flags_hex", V::Hex)],
    &[],
    &["src_flags_hex", "dst_flags_hex"],
);
static WINDOWS_PROCESS_EXT: Shape = shape(
    &[
        ("aslr_enabled", V::Boolean),
        ("dep_enabled", V::Boolean),
        ("priority", V::String),
        ("owner_sid", V::String),
        ("window_title", V::String),
        ("startup_info", V::Dictionary),
        (
            "integrity_level",
            V::Enum(&["low", "medium", "high", "system"]),
        ),
    ],
    &[],
    &[
        "aslr_enabled",
        "dep_enabled",
        "priority",
        "owner_sid",
        "window_title",
        "startup_info",
        "integrity_level",
    ],
);
static WINDOWS_SERVICE_EXT: Shape = shape(
    &[
        ("service_name", V::String),
        ("descriptions", V::StringList),
        ("display_name", V::String),
        ("group_name", V::String),
        (
            "start_type",
            V::Enum(&[
                "SERVICE_AUTO_START",
                "SERVICE_BOOT_START",
                "SERVICE_DEMAND_START",
                "SERVICE_DISABLED",
                "SERVICE_SYSTEM_ALERT",
            ]),
        ),
        ("service_dll_refs", only_list(&["file"])),
        (
            "service_type",
            V::Enum(&[
                "SERVICE_KERNEL_DRIVER",
                "SERVICE_FILE_SYSTEM_DRIVER",
                "SERVICE_WIN32_OWN_PROCESS",
                "SERVICE_WIN32_SHARE_PROCESS",
            ]),
        ),
        (
            "service_status",
            V::Enum(&[
                "SERVICE_CONTINUE_PENDING",
                "SERVICE_PAUSE_PENDING",
                "SERVICE_PAUSED",
                "SERVICE_RUNNING",
                "SERVICE_START_PENDING",
                "SERVICE_STOP_PENDING",
                "SERVICE_STOPPED",
            ]),
        ),
    ],
    &[],
    &[
        "service_name",
        "descriptions",
        "display_name",
        "group_name",
        "start_type",
        "service_dll_refs",
        "service_type",
        "service_status",
    ],
);
static UNIX_ACCOUNT_EXT: Shape = shape(
    &[
        ("gid", INT),
        ("groups", V::StringList),
        ("home_dir", V::String),
        ("shell", V::String),
    ],
    &[],
    &["gid", "groups", "home_dir", "shell"],
);
static MIME_PART: Shape = shape(
    &[
        ("body", V::String),
        ("body_raw_ref", only(&["artifact", "file"])),
        ("content_type", V::String),
        ("content_disposition", V::String),
    ],
    &[],
    &["body", "body_raw_ref"],
);
static REGISTRY_VALUE: Shape = shape(
    &[
        ("name", V::String),
        ("data", V::String),
        (
            "data_type",
            V::Enum(&[
                "REG_NONE",
                "REG_SZ",
                "REG_EXPAND_SZ",
                "REG_BINARY",
                "REG_DWORD",
                "REG_DWORD_BIG_ENDIAN",
                "REG_DWORD_LITTLE_ENDIAN",
                "REG_LINK",
                "REG_MULTI_SZ",
                "REG_RESOURCE_LIST",
                "REG_FULL_RESOURCE_DESCRIPTION",
                "REG_RESOURCE_REQUIREMENTS_LIST",
                "REG_QWORD",
                "REG_INVALID_TYPE",
            ]),
        ),
    ],
    &[],
    &["name", "data", "data_type"],
);
static X509_V3_EXTENSIONS: Shape = shape(
    &[
        ("basic_constraints", V::String),
        ("name_constraints", V::String),
        ("policy_constraints", V::String),
        ("key_usage", V::String),
        ("extended_key_usage", V::String),
        ("subject_key_identifier", V::String),
        ("authority_key_identifier", V::String),
        ("subject_alternative_name", V::String),
        ("issuer_alternative_name", V::String),
        ("subject_directory_attributes", V::String),
        ("crl_distribution_points", V::String),
        ("inhibit_any_policy", V::String),
        ("private_key_usage_period_not_before", ANY_TS),
        ("private_key_usage_period_not_after", ANY_TS),
        ("certificate_policies", V::String),
        ("policy_mappings", V::String),
    ],
    &[],
    &[
        "basic_constraints",
        "name_constraints",
        "policy_constraints",
        "key_usage",
        "extended_key_usage",
        "subject_key_identifier",
        "authority_key_identifier",
        "subject_alternative_name",
        "issuer_alternative_name",
        "subject_directory_attributes",
        "crl_distribution_points",
        "inhibit_any_policy",
        "private_key_usage_period_not_before",
        "private_key_usage_period_not_after",
        "certificate_policies",
        "policy_mappings",
    ],
);

// ---- the catalogue ---------------------------------------------------------

/// Every type of the specification, sorted by name (for binary search).
pub static TYPES: &[TypeDef] = &[
    sco(
        "artifact",
        &[],
        &["hashes", "payload_bin"],
        &[
            ("mime_type", V::MimeType),
            ("payload_bin", V::Binary),
            ("url", V::Url),
            ("hashes", V::Hashes),
            (
                "encryption_algorithm",
                V::Enum(&["AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated"]),
            ),
            ("decryption_key", V::String),
        ],
    ),
    sdo(
        "attack-pattern",
        &["name"],
        &[
            ("name", V::String),
            ("description", V::String),
            ALIASES,
            KILL_CHAIN,
        ],
    ),
    sco(
        "autonomous-system",
        &["number"],
        &["number"],
        &[("number", INT), ("name", V::String), ("rir", V::String)],
    ),
    sdo(
        "campaign",
        &["name"],
        &[
            ("name", V::String),
            ("description", V::String),
            ALIASES,
            FIRST_SEEN,
            LAST_SEEN,
            ("objective", V::String),
        ],
    ),
    sdo(
        "course-of-action",
        &["name"],
        &[("name", V::String), ("description", V::String)],
    ),
    sco(
        "directory",
        &["path"],
        &["path"],
        &[
            ("path", V::String),
            ("path_enc", V::CharacterSet),
            ("ctime", ANY_TS),
            ("mtime", ANY_TS),
            ("atime", ANY_TS),
            ("contains_refs", only_list(&["file", "directory"])),
        ],
    ),
    sco(
        "domain-name",
        &["value"],
        &["value"],
        &[
            ("value", V::DomainName),
            (
                "resolves_to_refs",
                only_list(&["ipv4-addr", "ipv6-addr", "domain-name"]),
            ),
        ],
    ),
    sco(
        "email-addr",
        &["value"],
        &["value"],
        &[
            ("value", V::EmailAddr),
            ("display_name", V::String),
            ("belongs_to_ref", only(&["user-account"])),
        ],
    ),
    sco(
        "email-message",
        &["is_multipart"],
        &["from_ref", "subject", "body"],
        &[
            ("is_multipart", V::Boolean),
            ("date", ANY_TS),
            ("content_type", V::String),
            ("from_ref", only(&["email-addr"])),
            ("sender_ref", only(&["email-addr"])),
            ("to_refs", only_list(&["email-addr"])),
            ("cc_refs", only_list(&["email-addr"])),
            ("bcc_refs", only_list(&["email-addr"])),
            ("message_id", V::String),
            ("subject", V::String),
            ("received_lines", V::StringList),
            ("additional_header_fields", V::Dictionary),
            ("body", V::String),
            ("body_multipart", V::ListOf(&MIME_PART)),
            ("raw_email_ref", only(&["artifact"])),
        ],
    ),
    TypeDef {
        name: "extension-definition",
        kind: ObjectKind::Meta,
        required: &[
            "created_by_ref",
            "name",
            "schema",
            "version",
            "extension_types",
        ],
        id_contributing: &[],
        properties: &[
            ("name", V::String),
            ("description", V::String),
            ("schema", V::String),
            ("version", V::String),
            (
                "extension_types",
                V::EnumList(&[
                    "new-sdo",
                    "new-sco",
                    "new-sro",
                    "property-extension",
                    "toplevel-property-extension",
                ]),
            ),
            ("extension_properties", V::StringList),
        ],
        at_least_one: &[],
        extensions: &[],
    },
    TypeDef {
        name: "file",
        kind: ObjectKind::Sco,
        required: &[],
        id_contributing: &["hashes", "name", "parent_directory_ref", "extensions"],
        properties: &[
            ("hashes", V::Hashes),
            ("size", UINT),
            ("name", V::String),
            ("name_enc", V::CharacterSet),
            ("magic_number_hex", V::Hex),
            ("mime_type", V::String),
            ("ctime", ANY_TS),
            ("mtime", ANY_TS),
            ("atime", ANY_TS),
            ("parent_directory_ref", only(&["directory"])),
            ("contains_refs", V::IdentifierList(Refs::Any)),
            ("content_ref", only(&["artifact"])),
        ],
        at_least_one: &["hashes", "name"],
        extensions: &[
            ("ntfs-ext", &NTFS_EXT),
            ("raster-image-ext", &RASTER_IMAGE_EXT),
            ("pdf-ext", &PDF_EXT),
            ("archive-ext", &ARCHIVE_EXT),
            ("windows-pebinary-ext", &WINDOWS_PEBINARY_EXT),
        ],
    },
    sdo(
        "grouping",
        &["context", "object_refs"],
        &[
            ("name", V::String),
            ("description", V::String),
            ("context", V::String),
            ("object_refs", V::IdentifierList(Refs::Any)),
        ],
    ),
    sdo(
        "identity",
        &["name"],
        &[
            ("name", V::String),
            ("description", V::String),
            ("roles", V::StringList),
            ("identity_class", V::String),
            ("sectors", V::StringList),
            ("contact_information", V::String),
        ],
    ),
    sdo(
        "incident",
        &["name"],
        &[("name", V::String), ("description", V::String), KILL_CHAIN],
    ),
    sdo(
        "indicator",
        &["pattern", "pattern_type", "valid_from"],
        &[
            ("name", V::String),
            ("description", V::String),
            ("indicator_types", V::StringList),
            ("pattern", V::String),
            ("pattern_type", V::String),
            ("pattern_version", V::String),
            ("valid_from", ANY_TS),
            ("valid_until", ANY_TS),
            KILL_CHAIN,
        ],
    ),
    sdo(
        "infrastructure",
        &["name"],
        &[
            ("name", V::String),
            ("description", V::String),
            ("infrastructure_types", V::StringList),
            ALIASES,
            KILL_CHAIN,
            FIRST_SEEN,
            LAST_SEEN,
        ],
    ),
    sdo(
        "intrusion-set",
        &["name"],
        &[
            ("name", V::String),
            ("description", V::String),
            ALIASES,
            FIRST_SEEN,
            LAST_SEEN,
            ("goals", V::StringList),
            ("resource_level", V::String),
            ("primary_motivation", V::String),
            ("secondary_motivations", V::StringList),
        ],
    ),
    sco(
        "ipv4-addr",
        &["value"],
        &["value"],
        &[
            ("value", V::Ipv4OrCidr),
            ("resolves_to_refs", only_list(&["mac-addr"])),
            ("belongs_to_refs", only_list(&["autonomous-system"])),
        ],
    ),
    sco(
        "ipv6-addr",
        &["value"],
        &["value"],
        &[
            ("value", V::Ipv6OrCidr),
            ("resolves_to_refs", only_list(&["mac-addr"])),
            ("belongs_to_refs", only_list(&["autonomous-system"])),
        ],
    ),
    TypeDef {
        name: "language-content",
        kind: ObjectKind::Meta,
        required: &["object_ref", "contents"],
        id_contributing: &[],
        properties: &[
            (
                "object_ref",
                V::Identifier(Refs::Not(&["bundle", "language-content"])),
            ),
            ("object_modified", ANY_TS),
            ("contents", V::Object),
        ],
        at_least_one: &[],
        extensions: &[],
    },
    TypeDef {
        name: "location",
        kind: ObjectKind::Sdo,
        required: &[],
        id_contributing: &[],
        properties: &[
            ("name", V::String),
            ("description", V::String),
            (
                "latitude",
                V::Number {
                    min: -90.0,
                    max: 90.0,
                },
            ),
            (
                "longitude",
                V::Number {
                    min: -180.0,
                    max: 180.0,
                },
            ),
            (
                "precision",
                V::Number {
                    min: f64::MIN,
                    max: f64::MAX,
                },
            ),
            ("region", V::String),
            ("country", V::String),
            ("administrative_area", V::String),
            ("city", V::String),
            ("street_address", V::String),
            ("postal_code", V::String),
        ],
        at_least_one: &["region", "country", "latitude"],
        extensions: &[],
    },
    sco("mac-addr", &["value"], &["value"], &[("value", V::MacAddr)]),
    sdo(
        "malware",
        &["is_family"],
        &[
            ("name", V::String),
            ("description", V::String),
            ("malware_types", V::StringList),
            ("is_family", V::Boolean),
            ALIASES,
            KILL_CHAIN,
            FIRST_SEEN,
            LAST_SEEN,
            ("operating_system_refs", only_list(&["software"])),
            ("architecture_execution_envs", V::StringList),
            ("implementation_languages", V::StringList),
            ("capabilities", V::StringList),
            ("sample_refs", only_list(&["file", "artifact"])),
        ],
    ),
    TypeDef {
        name: "malware-analysis",
        kind: ObjectKind::Sdo,
        required: &["product"],
        id_contributing: &[],
        properties: &[
            ("product", V::String),
            ("version", V::String),
            ("host_vm_ref", only(&["software"])),
            ("operating_system_ref", only(&["software"])),
            ("installed_software_refs", only_list(&["software"])),
            ("configuration_version", V::String),
            ("modules", V::StringList),
            ("analysis_engine_version", V::String),
            ("analysis_definition_version", V::String),
            ("submitted", ANY_TS),
            ("analysis_started", ANY_TS),
            ("analysis_ended", ANY_TS),
            ("result_name", V::String),
            ("result", V::String),
            ("analysis_sco_refs", V::IdentifierList(Refs::Any)),
            ("sample_ref", only(&["file", "artifact", "network-traffic"])),
        ],
        at_least_one: &["result", "analysis_sco_refs"],
        extensions: &[],
    },
    TypeDef {
        name: "marking-definition",
        kind: ObjectKind::Meta,
        required: &[],
        id_contributing: &[],
        properties: &[],
        at_least_one: &[],
        extensions: &[],
    },
    sco("mutex", &["name"], &["name"], &[("name", V::String)]),
    TypeDef {
        name: "network-traffic",
        kind: ObjectKind::Sco,
        required: &["protocols"],
        id_contributing: &[
            "start",
            "end",
            "src_ref",
            "dst_ref",
            "src_port",
            "dst_port",
            "protocols",
            "extensions",
        ],
        properties: &[
            ("start", ANY_TS),
            ("end", ANY_TS),
            ("is_active", V::Boolean),
            (
                "src_ref",
                only(&["ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"]),
            ),
            (
                "dst_ref",
                only(&["ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"]),
            ),
            ("src_port", int(0, 65535)),
            ("dst_port", int(0, 65535)),
            ("protocols", V::StringList),
            ("src_byte_count", UINT),
            ("dst_byte_count", UINT),
            ("src_packets", UINT),
            ("dst_packets", UINT),
            ("ipfix", V::Dictionary),
            ("src_payload_ref", only(&["artifact"])),
            ("dst_payload_ref", only(&["artifact"])),
            ("encapsulates_refs", only_list(&["network-traffic"])),
            ("encapsulated_by_ref", only(&["network-traffic"])),
        ],
        at_least_one: &["src_ref", "dst_ref"],
        extensions: &[
            ("http-request-ext", &HTTP_REQUEST_EXT),
            ("icmp-ext", &ICMP_EXT),
            ("socket-ext", &SOCKET_EXT),
            ("tcp-ext", &TCP_EXT),
        ],
    },
    sdo(
        "note",
        &["content", "object_refs"],
        &[
            ("abstract", V::String),
            ("content", V::String),
            ("authors", V::StringList),
            ("object_refs", V::IdentifierList(Refs::Any)),
        ],
    ),
    sdo(
        "observed-data",
        &["first_observed", "last_observed", "number_observed"],
        &[
            ("first_observed", ANY_TS),
            ("last_observed", ANY_TS),
            ("number_observed", int(1, 999_999_999)),
            ("objects", V::ObservedObjects),
            ("object_refs", V::IdentifierList(Refs::Not(SDO_TYPES))),
        ],
    ),
    sdo(
        "opinion",
        &["opinion", "object_refs"],
        &[
            ("explanation", V::String),
            ("authors", V::StringList),
            (
                "opinion",
                V::Enum(&[
                    "strongly-disagree",
                    "disagree",
                    "neutral",
                    "agree",
                    "strongly-agree",
                ]),
            ),
            ("object_refs", V::IdentifierList(Refs::Any)),
        ],
    ),
    TypeDef {
        name: "process",
        kind: ObjectKind::Sco,
        required: &[],
        id_contributing: &[],
        properties: &[
            ("is_hidden", V::Boolean),
            ("pid", INT),
            ("created_time", ANY_TS),
            ("cwd", V::String),
            ("command_line", V::String),
            ("environment_variables", V::Dictionary),
            ("opened_connection_refs", only_list(&["network-traffic"])),
            ("creator_user_ref", only(&["user-account"])),
            ("image_ref", only(&["file"])),
            ("parent_ref", only(&["process"])),
            ("child_refs", only_list(&["process"])),
        ],
        at_least_one: &[
            "extensions",
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
        extensions: &[
            ("windows-process-ext", &WINDOWS_PROCESS_EXT),
            ("windows-service-ext", &WINDOWS_SERVICE_EXT),
        ],
    },
    TypeDef {
        name: "relationship",
        kind: ObjectKind::Sro,
        required: &["relationship_type", "source_ref", "target_ref"],
        id_contributing: &[],
        properties: &[
            ("relationship_type", V::RelationshipType),
            ("description", V::String),
            ("source_ref", V::Identifier(Refs::Not(NOT_RELATABLE))),
            ("target_ref", V::Identifier(Refs::Not(NOT_RELATABLE))),
            ("start_time", ANY_TS),
            ("stop_time", ANY_TS),
        ],
        at_least_one: &[],
        extensions: &[],
    },
    sdo(
        "report",
        &["name", "published", "object_refs"],
        &[
            ("name", V::String),
            ("description", V::String),
            ("report_types", V::StringList),
            ("published", ANY_TS),
            ("object_refs", V::IdentifierList(Refs::Any)),
        ],
    ),
    TypeDef {
        name: "sighting",
        kind: ObjectKind::Sro,
        required: &["sighting_of_ref"],
        id_contributing: &[],
        properties: &[
            ("description", V::String),
            FIRST_SEEN,
            LAST_SEEN,
            ("count", int(0, 999_999_999)),
            ("sighting_of_ref", V::Identifier(Refs::Not(NOT_RELATABLE))),
            ("observed_data_refs", only_list(&["observed-data"])),
            ("where_sighted_refs", only_list(&["identity", "location"])),
            ("summary", V::Boolean),
        ],
        at_least_one: &[],
        extensions: &[],
    },
    sco(
        "software",
        &["name"],
        &["name", "cpe", "swid", "vendor", "version"],
        &[
            ("name", V::String),
            ("cpe", V::Cpe),
            ("swid", V::String),
            ("languages", V::LanguageTagList),
            ("vendor", V::String),
            ("version", V::String),
        ],
    ),
    sdo(
        "threat-actor",
        &["name"],
        &[
            ("name", V::String),
            ("description", V::String),
            ("threat_actor_types", V::StringList),
            ALIASES,
            FIRST_SEEN,
            LAST_SEEN,
            ("roles", V::StringList),
            ("goals", V::StringList),
            ("sophistication", V::String),
            ("resource_level", V::String),
            ("primary_motivation", V::String),
            ("secondary_motivations", V::StringList),
            ("personal_motivations", V::StringList),
        ],
    ),
    sdo(
        "tool",
        &["name"],
        &[
            ("name", V::String),
            ("description", V::String),
            ("tool_types", V::StringList),
            ALIASES,
            KILL_CHAIN,
            ("tool_version", V::String),
        ],
    ),
    sco("url", &["value"], &["value"], &[("value", V::Url)]),
    TypeDef {
        name: "user-account",
        kind: ObjectKind::Sco,
        required: &[],
        id_contributing: &["account_type", "user_id", "account_login"],
        properties: &[
            ("user_id", V::String),
            ("credential", V::String),
            ("account_login", V::String),
            ("account_type", V::String),
            ("display_name", V::String),
            ("is_service_account", V::Boolean),
            ("is_privileged", V::Boolean),
            ("can_escalate_privs", V::Boolean),
            ("is_disabled", V::Boolean),
            ("account_created", ANY_TS),
            ("account_expires", ANY_TS),
            ("credential_last_changed", ANY_TS),
            ("account_first_login", ANY_TS),
            ("account_last_login", ANY_TS),
        ],
        at_least_one: &[
            "extensions",
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
        extensions: &[("unix-account-ext", &UNIX_ACCOUNT_EXT)],
    },
    sdo(
        "vulnerability",
        &["name"],
        &[("name", V::String), ("description", V::String)],
    ),
    TypeDef {
        name: "windows-registry-key",
        kind: ObjectKind::Sco,
        required: &[],
        id_contributing: &["key", "values"],
        properties: &[
            ("key", V::RegistryKey),
            ("values", V::ListOf(&REGISTRY_VALUE)),
            ("modified_time", ANY_TS),
            ("creator_user_ref", only(&["user-account"])),
            ("number_of_subkeys", INT),
        ],
        at_least_one: &[
            "key",
            "values",
            "modified_time",
            "creator_user_ref",
            "number_of_subkeys",
        ],
        extensions: &[],
    },
    TypeDef {
        name: "x509-certificate",
        kind: ObjectKind::Sco,
        required: &[],
        id_contributing: &["hashes", "serial_number"],
        properties: &[
            ("is_self_signed", V::Boolean),
            ("hashes", V::Hashes),
            ("version", V::String),
            ("serial_number", V::String),
            ("signature_algorithm", V::String),
            ("issuer", V::String),
            ("validity_not_before", ANY_TS),
            ("validity_not_after", ANY_TS),
            ("subject", V::String),
            ("subject_public_key_algorithm", V::String),
            ("subject_public_key_modulus", V::String),
            ("subject_public_key_exponent", INT),
            ("x509_v3_extensions", V::ObjectOf(&X509_V3_EXTENSIONS)),
        ],
        at_least_one: &[
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
        extensions: &[],
    },
];

/// The catalogue entry of a type defined by the specification.
pub fn lookup(type_name: &str) -> Option<&'static TypeDef> {
    TYPES
        .binary_search_by(|t| t.name.cmp(type_name))
        .ok()
        .map(|i| &TYPES[i])
}

/// The kind of a type name (`Custom` for types the specification does not define).
///
/// ```
/// use accord_stix::{types::kind_of, ObjectKind};
/// assert_eq!(kind_of("relationship"), ObjectKind::Sro);
/// assert_eq!(kind_of("marking-definition"), ObjectKind::Meta);
/// assert_eq!(kind_of("x-mitre-tactic"), ObjectKind::Custom);
/// ```
pub fn kind_of(type_name: &str) -> ObjectKind {
    lookup(type_name).map_or(ObjectKind::Custom, |t| t.kind)
}

/// The value kind of a property defined for `def` (type-specific or common).
pub fn property_kind(def: &TypeDef, name: &str) -> Option<ValueKind> {
    let common = match def.kind {
        ObjectKind::Sco => SCO_COMMON,
        ObjectKind::Meta if def.name == "marking-definition" => MARKING_COMMON,
        _ => SDO_COMMON,
    };
    // Length and first byte first: most names differ there.
    let first = name.as_bytes().first();
    def.properties
        .iter()
        .chain(common)
        .find(|(n, _)| n.len() == name.len() && n.as_bytes().first() == first && *n == name)
        .map(|(_, k)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_sorted_and_complete() {
        assert!(TYPES.windows(2).all(|w| w[0].name < w[1].name));
        let count = |k| TYPES.iter().filter(|t| t.kind == k).count();
        assert_eq!(count(ObjectKind::Sdo), 19);
        assert_eq!(count(ObjectKind::Sro), 2);
        assert_eq!(count(ObjectKind::Sco), 18);
        assert_eq!(count(ObjectKind::Meta), 3);
        for t in SDO_TYPES {
            assert_eq!(kind_of(t), ObjectKind::Sdo, "{t}");
        }
        for t in SCO_TYPES {
            assert_eq!(kind_of(t), ObjectKind::Sco, "{t}");
        }
    }

    #[test]
    fn id_contributing_properties_are_defined() {
        for t in TYPES {
            for p in t.id_contributing {
                assert!(property_kind(t, p).is_some(), "{}.{p}", t.name);
            }
            for p in t.required.iter().chain(t.at_least_one) {
                assert!(property_kind(t, p).is_some(), "{}.{p}", t.name);
            }
        }
    }
}
