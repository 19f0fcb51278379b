//! The rules a configuration must satisfy. Each problem is one sentence naming the key.

use std::collections::{BTreeMap, HashSet};

use super::model::{Config, MAX_TIMEOUT_SECONDS};

/// Path segments an API root may not take: the server's own routes.
pub const RESERVED_ROOT_NAMES: &[&str] = &["taxii2", "healthz", "metrics", "openapi.json"];

/// Longest name (organisation, user, token, API root, collection alias).
pub const MAX_NAME_LEN: usize = 64;

/// Is `name` usable as an organisation, user, token, API root or collection alias?
/// One to 64 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit: safe in URLs,
/// TOML keys, log lines and HTTP Basic user names (no `:`).
///
/// ```
/// use accord_node::config::validate::is_name;
/// assert!(is_name("cert-eu"));
/// assert!(!is_name("a:b"));
/// assert!(!is_name(".hidden"));
/// ```
pub fn is_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Is `id` a STIX identity identifier (`identity--<RFC 4122 UUID>`)?
pub fn is_identity_id(id: &str) -> bool {
    id.strip_prefix("identity--").is_some_and(is_uuid)
}

/// Is `s` a UUID in its canonical form (hyphenated, lowercase)?
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::parse_str(s).is_ok_and(|u| u.hyphenated().to_string() == s)
}

/// Every problem of `config`, in file order as far as possible; empty when it is valid.
pub fn problems(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    server(config, &mut out);
    organisations(config, &mut out);
    api_roots(config, &mut out);
    telemetry(config, &mut out);
    out
}

fn telemetry(config: &Config, out: &mut Vec<String>) {
    let Some(t) = &config.telemetry else { return };
    if accord_agreements::Span::parse(&t.window).is_none_or(|s| s.0 < 1_000_000) {
        out.push(format!(
            "telemetry.window: '{}' is not a span of at least one second (30s, 5m, 1h)",
            t.window
        ));
    }
    for cidr in &t.internal {
        if accord_detect::InternalNets::parse([cidr.as_str()]).is_err() {
            out.push(format!(
                "telemetry.internal: '{cidr}' is not a network (CIDR)"
            ));
        }
    }
    if let Some(c) = &t.collection {
        if let Err(e) = config.find_collection(None, c) {
            out.push(format!("telemetry.collection: {e}"));
        }
    }
    if let Some(d) = &t.dnstap {
        if let Err(e) = d.parse::<crate::dnstap::DnstapAddr>() {
            out.push(format!("telemetry.dnstap: {e}"));
        }
    }
    if let Err(e) = crate::dnstap::parse_senders(&t.dnstap_from) {
        out.push(format!("telemetry.dnstap_from: {e}"));
    }
    if !t.brands.is_empty() && t.dnstap.is_none() {
        out.push(
            "telemetry.brands: the look-alike detector needs names: set telemetry.dnstap".into(),
        );
    }
    if !t.allow.is_empty() && t.brands.is_empty() {
        out.push("telemetry.allow: an allow-list without telemetry.brands does nothing".into());
    }
}

fn server(config: &Config, out: &mut Vec<String>) {
    let s = &config.server;
    if !config.organisations.contains_key(&s.organisation) {
        out.push(format!(
            "server.organisation: '{}' is not declared under [organisations]",
            s.organisation
        ));
    }
    if !is_identity_id(&s.identity) {
        out.push(format!(
            "server.identity: '{}' is not a STIX identity id (identity--<uuid>)",
            s.identity
        ));
    }
    if s.max_content_length == 0 {
        out.push("server.max_content_length: must be at least 1".to_string());
    }
    if s.max_concurrent_requests == 0 {
        out.push("server.max_concurrent_requests: must be at least 1".to_string());
    }
    if s.max_connections == 0 {
        out.push("server.max_connections: must be at least 1".to_string());
    }
    if s.max_requests_per_organisation == 0 {
        out.push("server.max_requests_per_organisation: must be at least 1".to_string());
    }
    for (name, value) in [
        ("header_read_timeout", s.header_read_timeout),
        ("body_read_timeout", s.body_read_timeout),
        ("body_idle_timeout", s.body_idle_timeout),
    ] {
        if !(value > 0.0 && value <= MAX_TIMEOUT_SECONDS) {
            out.push(format!(
                "server.{name}: {value} is not a number of seconds above 0 and at most {MAX_TIMEOUT_SECONDS}"
            ));
        }
    }
    if s.page_size == 0 || s.page_size > s.max_page_size {
        out.push(format!(
            "server.page_size: must be between 1 and server.max_page_size ({})",
            s.max_page_size
        ));
    }
    if let Some(url) = &s.public_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            out.push(format!(
                "server.public_url: '{url}' must start with http:// or https://"
            ));
        }
    }
    if s.store.as_os_str().is_empty() {
        out.push("server.store: must name a file".to_string());
    }
}

fn organisations(config: &Config, out: &mut Vec<String>) {
    let mut users: BTreeMap<&str, &str> = BTreeMap::new();
    let mut digests: HashSet<&str> = HashSet::new();
    for (org, o) in &config.organisations {
        if !is_name(org) {
            out.push(format!(
                "organisations.{org}: not a valid name (1-64 of A-Z a-z 0-9 . _ -)"
            ));
        }
        for (user, u) in &o.users {
            let key = format!("organisations.{org}.users.{user}");
            if !is_name(user) {
                out.push(format!(
                    "{key}: not a valid user name (1-64 of A-Z a-z 0-9 . _ -)"
                ));
            }
            if let Some(other) = users.insert(user, org) {
                out.push(format!(
                    "{key}: the user name is already used in organisation '{other}'"
                ));
            }
            if let Err(why) = crate::accounts::check_password_hash(&u.password) {
                out.push(format!("{key}.password: {why}"));
            }
        }
        for (token, t) in &o.tokens {
            let key = format!("organisations.{org}.tokens.{token}");
            if !is_name(token) {
                out.push(format!(
                    "{key}: not a valid token name (1-64 of A-Z a-z 0-9 . _ -)"
                ));
            }
            let well_formed = t.sha256.len() == 64
                && t.sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !well_formed {
                out.push(format!("{key}.sha256: must be 64 lowercase hex digits"));
            } else if !digests.insert(&t.sha256) {
                out.push(format!("{key}.sha256: the same token is declared twice"));
            }
        }
    }
}

fn api_roots(config: &Config, out: &mut Vec<String>) {
    let mut ids: BTreeMap<&str, String> = BTreeMap::new();
    let mut routed_seen: BTreeMap<String, String> = BTreeMap::new();
    let defaults = config.api_roots.values().filter(|r| r.default).count();
    if defaults > 1 {
        out.push("api_roots: at most one API root may be marked default = true".to_string());
    }
    for (root, r) in &config.api_roots {
        if !is_name(root) || RESERVED_ROOT_NAMES.contains(&root.as_str()) {
            out.push(format!(
                "api_roots.{root}: not a valid API root name (1-64 of A-Z a-z 0-9 . _ -, \
                 not one of {RESERVED_ROOT_NAMES:?})"
            ));
        }
        for (alias, c) in &r.collections {
            let key = format!("api_roots.{root}.collections.{alias}");
            if !is_name(alias) {
                out.push(format!(
                    "{key}: not a valid collection alias (1-64 of A-Z a-z 0-9 . _ -)"
                ));
            }
            if !is_uuid(&c.id) {
                out.push(format!("{key}.id: '{}' is not a UUID", c.id));
            } else if let Some(other) = ids.insert(&c.id, key.clone()) {
                out.push(format!(
                    "{key}.id: the id {} is already used by {other}",
                    c.id
                ));
            }
            if let Some(org) = &c.routed_to {
                routed(config, &key, org, c, &mut routed_seen, out);
            }
            for (list, orgs) in [("read", &c.read), ("write", &c.write)] {
                for org in orgs {
                    if !config.organisations.contains_key(org) {
                        out.push(format!(
                            "{key}.{list}: organisation '{org}' is not declared under [organisations]"
                        ));
                    }
                }
            }
        }
    }
}

/// A routed collection (`routed_to`): read by its organisation only (what is routed to
/// one country's CERT says where it is responsible, and other readers would hold that
/// organisation's package), written by nobody (only routing fills it), one per
/// organisation.
fn routed(
    config: &Config,
    key: &str,
    org: &str,
    c: &super::model::Collection,
    seen: &mut BTreeMap<String, String>,
    out: &mut Vec<String>,
) {
    if !config.organisations.contains_key(org) {
        out.push(format!(
            "{key}.routed_to: organisation '{org}' is not declared under [organisations]"
        ));
    }
    if c.read.iter().any(|r| r != org) || !c.read.iter().any(|r| r == org) {
        out.push(format!(
            "{key}.read: a collection routed to '{org}' is read by '{org}' only (read = [\"{org}\"])"
        ));
    }
    if !c.write.is_empty() {
        out.push(format!(
            "{key}.write: a collection routed to '{org}' is written by routing only (write = [])"
        ));
    }
    if let Some(other) = seen.insert(org.to_string(), key.to_string()) {
        out.push(format!(
            "{key}.routed_to: '{org}' already has a routed collection ({other})"
        ));
    }
}
