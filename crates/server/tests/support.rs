//! A configured server over a temporary store, driven without sockets.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use accord_node::accounts::{hash_password, new_token, NewToken};
use accord_node::config::Config;
use accord_server::AppState;
use accord_store::SqliteStore;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt;

pub const SHARED: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
pub const INBOX: &str = "0b0b6f4e-4bd6-4d9c-8f57-5c0b2a1b7f10";
pub const PRIVATE: &str = "5e3c2a5b-7d3e-4c43-9a0f-2f1a6c2b9e77";
pub const TAXII: &str = "application/taxii+json;version=2.1";
pub const ADMIN_PASSWORD: &str = "admin password for tests";
pub const ANA_PASSWORD: &str = "ana password for tests";

/// Credentials of the test principals.
pub struct Credentials {
    pub admin_hash: String,
    pub ana_hash: String,
    pub telco: NewToken,
    pub police: NewToken,
    pub cert: NewToken,
}

/// Made once per test binary: argon2 is slow on purpose.
pub fn credentials() -> &'static Credentials {
    static C: OnceLock<Credentials> = OnceLock::new();
    C.get_or_init(|| Credentials {
        admin_hash: hash_password(ADMIN_PASSWORD).unwrap(),
        ana_hash: hash_password(ANA_PASSWORD).unwrap(),
        telco: new_token(),
        police: new_token(),
        cert: new_token(),
    })
}

/// The test configuration: telco (this node), police (reads shared, writes inbox),
/// cert (no rights). `extra_server` is appended to `[server]`.
pub fn config_text(extra_server: &str) -> String {
    let c = credentials();
    format!(
        r#"# test node
[server]
organisation = "telco"
identity = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
title = "Test node"
contact = "soc@example.net"
page_size = 3
max_page_size = 5
{extra_server}

[organisations.telco]
[organisations.telco.users.admin]
password = "{admin}"
[organisations.telco.tokens.robot]
sha256 = "{telco}"

[organisations.police]
[organisations.police.users.ana]
password = "{ana}"
[organisations.police.tokens.puller]
sha256 = "{police}"

[organisations.cert]
[organisations.cert.tokens.t]
sha256 = "{cert}"

[api_roots.intel]
title = "Intel"
description = "Threat intelligence"
default = true

[api_roots.intel.collections.shared]
id = "{SHARED}"
title = "Shared"
read = ["telco", "police"]
write = ["telco"]

[api_roots.intel.collections.inbox]
id = "{INBOX}"
title = "Inbox"
read = ["telco"]
write = ["telco", "police"]

[api_roots.intel.collections.private]
id = "{PRIVATE}"
title = "Private"
read = ["telco"]
write = ["telco"]

[api_roots.other]
title = "Other"
"#,
        admin = c.admin_hash,
        ana = c.ana_hash,
        telco = c.telco.sha256,
        police = c.police.sha256,
        cert = c.cert.sha256,
    )
}

pub struct Fixture {
    pub app: Router,
    pub state: AppState,
    pub dir: tempfile::TempDir,
}

pub fn fixture() -> Fixture {
    fixture_with("")
}

pub fn fixture_with(extra_server: &str) -> Fixture {
    fixture_from(config_text(extra_server))
}

/// A fixture on this configuration text (the test configuration, edited).
pub fn fixture_from(text: String) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accord.toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    let store = Arc::new(SqliteStore::open(config.store_path()).unwrap());
    let max_concurrent_requests = config.server.max_concurrent_requests;
    let state = AppState::new(config, store).unwrap();
    let app = accord_server::router(state.clone(), max_concurrent_requests);
    Fixture { app, state, dir }
}

impl Fixture {
    pub fn config_path(&self) -> std::path::PathBuf {
        self.dir.path().join("accord.toml")
    }
}

/// Who sends a request.
#[derive(Clone, Copy)]
pub enum Who {
    Nobody,
    Admin,
    Ana,
    Telco,
    Police,
    Cert,
}

pub fn authorization(who: Who) -> Option<String> {
    use base64::Engine as _;
    let c = credentials();
    let basic = |u: &str, p: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    };
    match who {
        Who::Nobody => None,
        Who::Admin => Some(basic("admin", ADMIN_PASSWORD)),
        Who::Ana => Some(basic("ana", ANA_PASSWORD)),
        Who::Telco => Some(format!("Bearer {}", c.telco.secret)),
        Who::Police => Some(format!("Bearer {}", c.police.secret)),
        Who::Cert => Some(format!("Bearer {}", c.cert.secret)),
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a TAXII error message with this status.
    pub fn assert_taxii_error(&self, status: u16) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.header("content-type"), Some(TAXII), "{}", self.body);
        let j = self.json();
        assert!(j["title"].is_string(), "{}", self.body);
        assert_eq!(j["http_status"], status.to_string(), "{}", self.body);
    }
}

pub async fn request(
    app: &Router,
    method: &str,
    uri: &str,
    who: Who,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Reply {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "taxii.test");
    if let Some(a) = authorization(who) {
        builder = builder.header("authorization", a);
    }
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let request = builder
        .body(body.map_or_else(Body::empty, Body::from))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub async fn get(app: &Router, uri: &str, who: Who) -> Reply {
    request(app, "GET", uri, who, &[("accept", TAXII)], None).await
}

pub async fn post_objects(
    app: &Router,
    collection: &str,
    who: Who,
    objects: &[serde_json::Value],
) -> Reply {
    let body = serde_json::json!({ "objects": objects }).to_string();
    request(
        app,
        "POST",
        &format!("/intel/collections/{collection}/objects/"),
        who,
        &[("accept", TAXII), ("content-type", TAXII)],
        Some(body),
    )
    .await
}

/// A valid STIX 2.1 identity, version `modified`.
pub fn identity(uuid_suffix: u32, modified: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": format!("identity--00000000-0000-4000-8000-{uuid_suffix:012}"),
        "created": "2020-01-01T00:00:00.000Z",
        "modified": modified,
        "name": format!("Org {uuid_suffix}"),
        "identity_class": "organization"
    })
}

pub fn identity_id(uuid_suffix: u32) -> String {
    format!("identity--00000000-0000-4000-8000-{uuid_suffix:012}")
}

pub fn objects_path(collection: &str) -> String {
    format!("/intel/collections/{collection}/objects/")
}

#[allow(dead_code)]
pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// Telco's `objects` stored in the shared collection, and an agreement
/// `telco-police` (the given version, every type up to TLP:CLEAR, onward sharing
/// allowed, the given `[protections]` lines) releasing them to police: the set-up of
/// the tests of what a partner's answers leave in the ledger.
pub fn telco_shares_with_police(f: &Fixture, objects: &[String], version: u32, protections: &str) {
    let store = f.state.store().clone();
    let results = accord_node::ingest::ingest_batch(
        &*store,
        objects,
        &accord_store::Provenance::new("telco", "test"),
        Some(SHARED),
        &accord_node::ingest::IngestOptions::default(),
    )
    .unwrap();
    assert!(results.iter().all(|r| r.is_stored()));
    // A partner's correlations read the index as it stands: have it hold these.
    accord_store::Store::settle_correlation(&*store).unwrap();
    let agreement = accord_agreements::Agreement::from_toml(&format!(
        "id = \"telco-police\"\nversion = {version}\nprovider = {{ id = \"telco\" }}\nrecipient = {{ id = \"police\" }}\n\
         purpose = \"Tests\"\nlegal_basis = \"MoU\"\n[validity]\nfrom = 2020-01-01T00:00:00Z\n\
         [scope]\ntypes = [\"*\"]\nmax_tlp = \"CLEAR\"\nunmarked_tlp = \"CLEAR\"\n[protections]\n{protections}[obligations]\nonward_sharing = true\n",
    ))
    .unwrap();
    f.state
        .set_agreements(accord_agreements::Gate::new([agreement]).unwrap());
}

/// How long a server stopped by [`Serving::stop`] may take to finish.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// A server running on a loopback socket, as `accord serve` runs it. Dropping it stops
/// it too (the shutdown signal's sender goes).
pub struct Serving {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Serving {
    /// Shuts it down gracefully: it must end, without error, within [`SHUTDOWN_WAIT`].
    pub async fn stop(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(SHUTDOWN_WAIT, self.task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
}

/// Serves `state` on a free loopback port.
pub async fn serve(state: AppState) -> Serving {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(accord_server::run(listener, state, async {
        let _ = stopped.await;
    }));
    Serving { addr, stop, task }
}
