//! The commented configuration `accord init` writes: one API root, one collection,
//! the node's own organisation with an administrator.

/// What varies between two starter configurations.
#[derive(Debug, Clone)]
pub struct Starter {
    /// The node's own organisation name.
    pub organisation: String,
    /// This node's STIX identity id (`identity--<uuid>`).
    pub identity: String,
    /// The administrator's user name.
    pub admin_user: String,
    /// The administrator's argon2id PHC password hash.
    pub admin_password_hash: String,
    /// The first collection's id (a UUID).
    pub collection_id: String,
    /// Address and port to listen on.
    pub listen: String,
}

impl Starter {
    /// Fresh random identifiers for `organisation`, with the given admin hash.
    pub fn new(organisation: &str, admin_password_hash: &str) -> Starter {
        Starter {
            organisation: organisation.to_string(),
            identity: format!("identity--{}", uuid::Uuid::new_v4()),
            admin_user: "admin".to_string(),
            admin_password_hash: admin_password_hash.to_string(),
            collection_id: uuid::Uuid::new_v4().to_string(),
            listen: super::DEFAULT_LISTEN.to_string(),
        }
    }
}

/// Render the starter configuration text.
///
/// ```
/// use accord_node::config::{starter::{render, Starter}, Config};
/// let hash = accord_node::accounts::hash_password("a good long password")?;
/// let text = render(&Starter::new("telco", &hash));
/// let config = Config::parse(&text, "accord.toml".as_ref()).unwrap();
/// assert_eq!(config.api_roots["intel"].collections["shared"].read, ["telco"]);
/// # Ok::<(), accord_node::accounts::AccountError>(())
/// ```
pub fn render(s: &Starter) -> String {
    TEMPLATE
        .replace("{organisation}", &toml_string(&s.organisation))
        .replace("{org_key}", &s.organisation)
        .replace("{identity}", &toml_string(&s.identity))
        .replace("{admin_user}", &s.admin_user)
        .replace("{admin_hash}", &toml_string(&s.admin_password_hash))
        .replace("{collection_id}", &toml_string(&s.collection_id))
        .replace("{listen}", &toml_string(&s.listen))
}

fn toml_string(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

const TEMPLATE: &str = r#"# Accord node configuration (TOML). See docs/taxii.md for every option.
# Relative paths are relative to the folder of this file.
# Change organisations, users, tokens and collections with the accord CLI
# (accord org|user|token|collection ...): it keeps these comments. A running
# `accord serve` picks up changes to users, tokens and rights within seconds.

[server]
# Address and port to listen on (accord serve --listen overrides it).
listen = {listen}
# The organisation that runs this node. Its users administer it and read
# everything the node holds.
organisation = {organisation}
# This node's STIX identity (used as where_sighted_refs in the sightings it makes).
identity = {identity}
# The store (SQLite file). ACCORD_DB or --db override it.
store = "accord.sqlite"
# Data exchange agreement files.
agreements_dir = "agreements"
# The key that signs the release ledger's tree heads (readable by its owner only;
# never share it). Partners and auditors verify with its public key:
# `accord ledger key` prints it.
ledger_key = "ledger.key"
# TAXII discovery information.
title = "Accord TAXII server"
# description = "Threat intelligence exchange"
# contact = "soc@example.net"
# The base URL clients use, if not the Host they connect to (e.g. behind a proxy).
# public_url = "https://taxii.example.net"
# Limits: largest request body (bytes), requests processed at once, open
# connections, requests of one organisation at once, default and largest page of
# objects.
max_content_length = 10485760
max_concurrent_requests = 64
max_connections = 1024
max_requests_per_organisation = 16
page_size = 1000
max_page_size = 10000
# Timeouts (seconds): request headers (and an idle kept-alive connection); a request
# body in full, and a pause within it (408 after either).
header_read_timeout = 30
body_read_timeout = 60
body_idle_timeout = 10
# Serve /metrics without credentials (otherwise only this node's users may read it).
metrics_public = false
# Keep every partner's trend cells beside its release views from the start, so that
# its first trends query answers from cells (some 450 bytes per object it may read);
# false: made at its first trends query, by a pass over what it may read.
keep_partner_trends = true

# HTTPS: uncomment and point to PEM files.
# [server.tls]
# certificate = "tls/fullchain.pem"
# key = "tls/key.pem"

# Flow collector: uncomment to have `accord serve` receive NetFlow v5/v9 and IPFIX
# on UDP, match the flows against the stored indicators and store one sighting per
# indicator and window (see docs/telemetry.md; `accord collect` does the same alone).
# [telemetry]
# listen = "0.0.0.0:2055"
# window = "5m"
# internal = ["10.0.0.0/8"]
# collection = "shared"
# dnstap = "unix:/run/accord/dnstap.sock"   # resolvers' answers (docs/telemetry.md)
# brands = ["brands.txt"]                    # look-alike domains among them

# Organisations: this node's own and its partners. Users log in with HTTP Basic
# (passwords are argon2id hashes); API tokens use HTTP Bearer (only the SHA-256
# of each token is kept). Add them with `accord user add` and `accord token create`.
[organisations.{org_key}]
title = "This node's organisation"

[organisations.{org_key}.users.{admin_user}]
password = {admin_hash}

# A partner, for example:
# [organisations.police]
# title = "Cybercrime centre"

# API roots are served at /<name>/; collections within them by their id.
# read / write list the organisations that may read or write a collection;
# a collection an organisation may not read does not exist for it (404).
[api_roots.intel]
title = "Threat intelligence"
description = "Indicators, observables and reports shared under agreements"
default = true

[api_roots.intel.collections.shared]
id = {collection_id}
title = "Shared intelligence"
description = "What this node shares with its partners"
read = [{organisation}]
write = [{organisation}]
"#;
