//! The typed configuration, as read from TOML, with its defaults.
//!
//! Unknown keys are errors (`deny_unknown_fields`): a misspelt `max_content_lenght`
//! must not silently fall back to a default.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// Default listen address: loopback only, so a fresh node is not exposed by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9443";
/// Default TAXII `max_content_length`: 10 MiB per request body.
pub const DEFAULT_MAX_CONTENT_LENGTH: u64 = 10 * 1024 * 1024;
/// Default page size when a client gives no `limit`.
pub const DEFAULT_PAGE_SIZE: usize = 1000;
/// Default largest page a client may ask for; larger `limit`s are lowered to it.
pub const DEFAULT_MAX_PAGE_SIZE: usize = 10_000;
/// Default number of requests processed at once (further requests wait).
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 64;
/// Default number of open client connections (further connections wait to be accepted).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default number of requests of one organisation in progress at once (reading its body
/// included); further ones of that organisation wait. A quarter of the default
/// `max_concurrent_requests`: one partner cannot take every slot.
pub const DEFAULT_MAX_REQUESTS_PER_ORGANISATION: usize = 16;
/// Default seconds a client may take to send a request's headers; an idle kept-alive
/// connection is closed after as long.
pub const DEFAULT_HEADER_READ_TIMEOUT: f64 = 30.0;
/// Default seconds a request body may take to arrive in full (408 after): 10 MiB at
/// 1.4 Mbit/s.
pub const DEFAULT_BODY_READ_TIMEOUT: f64 = 60.0;
/// Default seconds a request body may pause without sending a byte (408 after).
pub const DEFAULT_BODY_IDLE_TIMEOUT: f64 = 10.0;
/// Longest timeout a configuration may set, in seconds (one day).
pub const MAX_TIMEOUT_SECONDS: f64 = 86_400.0;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the file was read from (set by [`Config::load`](super::Config::load)).
    #[serde(skip)]
    pub file: PathBuf,
    /// The node itself.
    pub server: Server,
    /// Organisations by name (the node's own among them).
    #[serde(default)]
    pub organisations: BTreeMap<String, Organisation>,
    /// TAXII API roots by name (the URL path segment).
    #[serde(default)]
    pub api_roots: BTreeMap<String, ApiRoot>,
    /// `[telemetry]`: the flow collector `accord serve` runs beside TAXII (absent: none).
    #[serde(default)]
    pub telemetry: Option<Telemetry>,
}

/// Default detection window of the collector in `accord serve`.
pub const DEFAULT_TELEMETRY_WINDOW: &str = "5m";

/// `[telemetry]`: NetFlow v5/v9 and IPFIX received on UDP while `accord serve` runs,
/// matched against the stored indicators in windows, sightings stored as each window
/// closes (what `accord collect` does).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Telemetry {
    /// UDP address and port to receive flows on, e.g. `0.0.0.0:2055`.
    pub listen: SocketAddr,
    /// Window of telemetry time per sighting (a span: `30s`, `5m`, `1h`; at least 1s).
    #[serde(default = "default_telemetry_window")]
    pub window: String,
    /// The operator's customer networks (CIDR): only counted, never written.
    #[serde(default)]
    pub internal: Vec<String>,
    /// Match only this collection's indicators, and store the sightings in it (id or
    /// alias); absent: every stored indicator, sightings in no collection.
    #[serde(default)]
    pub collection: Option<String>,
    /// Where resolvers stream dnstap: `unix:/path`, an absolute path, or
    /// `tcp:ADDR:PORT` (absent: no DNS intake).
    #[serde(default)]
    pub dnstap: Option<String>,
    /// Over TCP, resolvers allowed to stream dnstap besides loopback (CIDR or
    /// address): whoever writes dnstap chooses what the detectors see.
    #[serde(default)]
    pub dnstap_from: Vec<String>,
    /// Protected-brand files (relative to the configuration's folder): the look-alike
    /// detector runs over the DNS names.
    #[serde(default)]
    pub brands: Vec<PathBuf>,
    /// Allow-list files of the look-alike detector.
    #[serde(default)]
    pub allow: Vec<PathBuf>,
}

fn default_telemetry_window() -> String {
    DEFAULT_TELEMETRY_WINDOW.to_string()
}

/// `[server]`: identity, addresses, files and limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Address and port to listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The organisation that runs this node; its users administer it.
    pub organisation: String,
    /// This node's STIX identity (`identity--<uuid>`), used as `where_sighted_refs`.
    pub identity: String,
    /// The store file, relative to the configuration's folder.
    #[serde(default = "default_store")]
    pub store: PathBuf,
    /// The folder of agreement files, relative to the configuration's folder.
    #[serde(default = "default_agreements_dir")]
    pub agreements_dir: PathBuf,
    /// The ledger signing key (Ed25519), relative to the configuration's folder:
    /// created by `accord init`, or on first use for a node made by an older build.
    #[serde(default = "default_ledger_key")]
    pub ledger_key: PathBuf,
    /// TAXII discovery `title`.
    #[serde(default = "default_title")]
    pub title: String,
    /// TAXII discovery `description`.
    #[serde(default)]
    pub description: Option<String>,
    /// TAXII discovery `contact`.
    #[serde(default)]
    pub contact: Option<String>,
    /// The base URL clients reach this server at (for discovery's API root URLs);
    /// default: taken from each request's `Host` header.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Largest request body accepted, in bytes (TAXII `max_content_length`).
    #[serde(default = "default_max_content_length")]
    pub max_content_length: u64,
    /// Requests processed at once; further requests wait their turn.
    #[serde(default = "default_max_concurrent_requests")]
    pub max_concurrent_requests: usize,
    /// Client connections open at once; further connections wait to be accepted.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Requests of one organisation in progress at once, the reading of their bodies
    /// included; further ones of that organisation wait (other organisations do not).
    #[serde(default = "default_max_requests_per_organisation")]
    pub max_requests_per_organisation: usize,
    /// Seconds a client may take to send a request's headers, and an idle kept-alive
    /// connection may wait for its next request; then the connection is closed.
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout: f64,
    /// Seconds a request body may take to arrive in full; 408 after.
    #[serde(default = "default_body_read_timeout")]
    pub body_read_timeout: f64,
    /// Seconds a request body may pause without a byte arriving; 408 after.
    #[serde(default = "default_body_idle_timeout")]
    pub body_idle_timeout: f64,
    /// Objects per page when the client gives no `limit`.
    #[serde(default = "default_page_size")]
    pub page_size: usize,
    /// Largest page; a larger `limit` is lowered to this.
    #[serde(default = "default_max_page_size")]
    pub max_page_size: usize,
    /// Serve `/metrics` without credentials (default: only the node's own users).
    #[serde(default)]
    pub metrics_public: bool,
    /// Keep every partner's trend cells beside its release views from the views'
    /// start, so that its first trends query reads cells too (default); `false`: a
    /// partner's cells are made at its first trends query (a pass over what it may
    /// read), which spares their memory for partners that never ask (docs/trends.md).
    #[serde(default = "default_true")]
    pub keep_partner_trends: bool,
    /// TLS (HTTPS); plain HTTP when absent.
    #[serde(default)]
    pub tls: Option<Tls>,
}

impl Server {
    /// `header_read_timeout` as a duration.
    pub fn header_read_timeout(&self) -> std::time::Duration {
        seconds(self.header_read_timeout)
    }

    /// `body_read_timeout` as a duration.
    pub fn body_read_timeout(&self) -> std::time::Duration {
        seconds(self.body_read_timeout)
    }

    /// `body_idle_timeout` as a duration.
    pub fn body_idle_timeout(&self) -> std::time::Duration {
        seconds(self.body_idle_timeout)
    }
}

/// A timeout setting as a duration. Validation keeps settings within (0,
/// [`MAX_TIMEOUT_SECONDS`]]; a value outside (a configuration built without it) is
/// clamped there rather than panicking.
fn seconds(value: f64) -> std::time::Duration {
    let value = if value.is_nan() { 0.0 } else { value };
    std::time::Duration::from_secs_f64(value.clamp(0.001, MAX_TIMEOUT_SECONDS))
}

/// `[server.tls]`: PEM files, relative to the configuration's folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// The certificate chain (leaf first).
    pub certificate: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// `[organisations.<name>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// A human name.
    #[serde(default)]
    pub title: Option<String>,
    /// Users (HTTP Basic) by user name; names are unique across organisations.
    #[serde(default)]
    pub users: BTreeMap<String, User>,
    /// API tokens (HTTP Bearer) by token name.
    #[serde(default)]
    pub tokens: BTreeMap<String, Token>,
    /// Countries (ISO 3166-1 alpha-2) this organisation is responsible for: the hub
    /// routes it the objects located there (`accord route`).
    #[serde(default)]
    pub countries: Vec<String>,
    /// Autonomous systems this organisation is responsible for (`accord route`).
    #[serde(default)]
    pub asns: Vec<u32>,
}

impl Organisation {
    /// Whether the hub routes anything to it (it is responsible for a country or ASN).
    pub fn is_responsible(&self) -> bool {
        !self.countries.is_empty() || !self.asns.is_empty()
    }
}

/// `[organisations.<org>.users.<name>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The argon2id PHC string of the password (`$argon2id$v=19$...`).
    pub password: String,
}

/// `[organisations.<org>.tokens.<name>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    /// SHA-256 of the token text, lowercase hex (the token itself is shown once).
    pub sha256: String,
    /// When it was created (informational).
    #[serde(default)]
    pub created: Option<String>,
}

/// `[api_roots.<name>]`: served at `/<name>/`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiRoot {
    /// TAXII `title`.
    pub title: String,
    /// TAXII `description`.
    #[serde(default)]
    pub description: Option<String>,
    /// Discovery's `default` API root.
    #[serde(default)]
    pub default: bool,
    /// Collections by alias (a short name for the CLI).
    #[serde(default)]
    pub collections: BTreeMap<String, Collection>,
}

/// `[api_roots.<root>.collections.<alias>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Collection {
    /// The TAXII collection id (a UUID), unique across API roots.
    pub id: String,
    /// TAXII `title`.
    pub title: String,
    /// TAXII `description`.
    #[serde(default)]
    pub description: Option<String>,
    /// Organisations that may read (GET objects, manifest, versions).
    #[serde(default)]
    pub read: Vec<String>,
    /// Organisations that may write (POST objects, DELETE an object).
    #[serde(default)]
    pub write: Vec<String>,
    /// The organisation this collection is the routed collection of (`accord route
    /// --deliver taxii` keeps it equal to that organisation's routing: what is located
    /// in its countries and ASNs, with what explains it). Only that organisation reads
    /// it and nobody writes it (checked at load): the door decides every read under
    /// its agreements, as for any collection.
    #[serde(default)]
    pub routed_to: Option<String>,
}

impl Collection {
    /// May `organisation` read this collection?
    pub fn can_read(&self, organisation: &str) -> bool {
        self.read.iter().any(|o| o == organisation)
    }

    /// May `organisation` write to this collection?
    pub fn can_write(&self, organisation: &str) -> bool {
        self.write.iter().any(|o| o == organisation)
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9443))
}
fn default_store() -> PathBuf {
    PathBuf::from("accord.sqlite")
}
fn default_agreements_dir() -> PathBuf {
    PathBuf::from("agreements")
}
fn default_ledger_key() -> PathBuf {
    PathBuf::from(crate::ledger_key::LEDGER_KEY_FILE)
}
fn default_title() -> String {
    "Accord TAXII server".to_string()
}
fn default_max_content_length() -> u64 {
    DEFAULT_MAX_CONTENT_LENGTH
}
fn default_max_concurrent_requests() -> usize {
    DEFAULT_MAX_CONCURRENT_REQUESTS
}
fn default_max_connections() -> usize {
    DEFAULT_MAX_CONNECTIONS
}
fn default_max_requests_per_organisation() -> usize {
    DEFAULT_MAX_REQUESTS_PER_ORGANISATION
}
fn default_header_read_timeout() -> f64 {
    DEFAULT_HEADER_READ_TIMEOUT
}
fn default_body_read_timeout() -> f64 {
    DEFAULT_BODY_READ_TIMEOUT
}
fn default_body_idle_timeout() -> f64 {
    DEFAULT_BODY_IDLE_TIMEOUT
}
fn default_true() -> bool {
    true
}
fn default_page_size() -> usize {
    DEFAULT_PAGE_SIZE
}
fn default_max_page_size() -> usize {
    DEFAULT_MAX_PAGE_SIZE
}
