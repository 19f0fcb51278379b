//! Federation across three Accord nodes started by the test, A → B → C: B pulls from
//! A (and pushes back to A), C pulls from B. Onward sharing is the gate's: B passes
//! on what A's agreement with B lets go onward, under B's agreement with C, and
//! nothing else; nothing returns to the node it came from; a second sync stores
//! nothing twice.

use std::sync::Arc;

use accord_node::accounts::new_token;

use crate::support;
use accord_node::config::Config;
use accord_node::egress::Recipient;
use accord_node::federation::{self, Credentials, Direction, Federation, Peer};
use accord_node::ingest::{ingest_batch, IngestOptions, ObjectResult};
use accord_server::AppState;
use accord_store::{ObjectQuery, Provenance, Scope, SqliteStore, Store};
use serde_json::json;
use tokio::net::TcpListener;

const COLLECTION: &str = "3f1c2c36-0f5e-4f43-9b7e-7d0a3c1f0a01";

struct Node {
    state: AppState,
    store: Arc<SqliteStore>,
    url: String,
    _dir: tempfile::TempDir,
    _server: support::Serving,
}

/// An agreement file of this node: its name (the agreement's id) and its text.
fn agreement(
    id: &str,
    provider: &str,
    recipient: &str,
    version: u32,
    onward: bool,
    types: &str,
) -> (String, String) {
    let text = format!(
        "id = \"{id}\"\nversion = {version}\nprovider = {{ id = \"{provider}\" }}\nrecipient = {{ id = \"{recipient}\" }}\n\
         purpose = \"Federation test\"\nlegal_basis = \"Test\"\n[obligations]\nonward_sharing = {onward}\n\
         [validity]\nfrom = 2026-0{version}-01T00:00:00Z\n[scope]\ntypes = [{types}]\nmax_tlp = \"AMBER\"\n"
    );
    (id.to_string(), text)
}

/// A node of organisation `me` whose collection everyone named may read and write,
/// with a token per other organisation (its secret in the environment variable
/// `FED_TOKEN_<ORG>_AT_<ME>`), these agreement files, serving on a free port.
async fn start(test: &str, me: &str, others: &[&str], agreements: &[(String, String)]) -> Node {
    start_with(test, me, others, agreements, None).await
}

/// [`start`], serving HTTPS with this certificate chain and key (PEM) when given.
async fn start_with(
    test: &str,
    me: &str,
    others: &[&str],
    agreements: &[(String, String)],
    tls: Option<(String, String)>,
) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let mut orgs = format!("[organisations.{me}]\n");
    for o in others {
        let token = new_token();
        std::env::set_var(env_name(test, o, me), &token.secret);
        orgs.push_str(&format!(
            "[organisations.{o}]\n[organisations.{o}.tokens.peer]\nsha256 = \"{}\"\n",
            token.sha256
        ));
    }
    let mut everyone: Vec<String> = others.iter().map(|o| format!("\"{o}\"")).collect();
    everyone.push(format!("\"{me}\""));
    let text = format!(
        "[server]\norganisation = \"{me}\"\nidentity = \"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"\n\
         title = \"{me}\"\npage_size = 2\nmax_page_size = 2\n\n{orgs}\n\
         [api_roots.api]\ntitle = \"API\"\ndefault = true\n\
         [api_roots.api.collections.shared]\nid = \"{COLLECTION}\"\ntitle = \"Shared\"\n\
         read = [{list}]\nwrite = [{list}]\n",
        list = everyone.join(", ")
    );
    let mut text = text;
    if let Some((cert, key)) = &tls {
        std::fs::write(dir.path().join("cert.pem"), cert).unwrap();
        std::fs::write(dir.path().join("key.pem"), key).unwrap();
        text.push_str(&format!(
            "\n[server.tls]\ncertificate = \"{}\"\nkey = \"{}\"\n",
            dir.path().join("cert.pem").display(),
            dir.path().join("key.pem").display()
        ));
    }
    std::fs::write(dir.path().join("accord.toml"), text).unwrap();
    std::fs::create_dir_all(dir.path().join("agreements")).unwrap();
    for (name, body) in agreements {
        std::fs::write(
            dir.path().join("agreements").join(format!("{name}.toml")),
            body,
        )
        .unwrap();
    }
    let config = Config::load(&dir.path().join("accord.toml")).unwrap();
    let gate = accord_node::agreements::load_node_gate(&config).unwrap();
    let store = Arc::new(SqliteStore::open(config.store_path()).unwrap());
    let state = AppState::new(config, store.clone()).unwrap();
    state.set_agreements(gate);
    let server = support::serve(state.clone()).await;
    let url = match tls {
        Some(_) => format!("https://localhost:{}/api/", server.addr.port()),
        None => format!("http://{}/api/", server.addr),
    };
    Node {
        state,
        store,
        url,
        _dir: dir,
        _server: server,
    }
}

fn env_name(test: &str, org: &str, at: &str) -> String {
    format!(
        "FED_{test}_TOKEN_{}_AT_{}",
        org.to_uppercase(),
        at.to_uppercase()
    )
}

/// `at` syncs with `remote`, as the organisation `remote_org` of its configuration.
fn peer_of(test: &str, at: &str, remote: &Node, remote_org: &str, direction: Direction) -> Peer {
    Peer {
        name: remote_org.to_string(),
        url: remote.url.clone(),
        collection: COLLECTION.to_string(),
        organisation: remote_org.to_string(),
        local_collection: COLLECTION.to_string(),
        direction,
        interval_secs: 60,
        credentials: Credentials::Token {
            env: env_name(test, at, remote_org),
        },
        ca_cert: None,
    }
}

/// A run of the node's federation with `peer`, which must succeed.
async fn sync(node: &Node, peer: &str) -> federation::RunReport {
    try_sync(node, peer).await.unwrap()
}

/// A run of the node's federation with `peer`, as it ended.
async fn try_sync(
    node: &Node,
    peer: &str,
) -> Result<federation::RunReport, federation::FederationError> {
    let (store, egress) = (node.store.clone(), node.state.egress());
    let peer = peer.to_string();
    // The blocking client lives and dies off the async threads.
    tokio::task::spawn_blocking(move || Federation::new(store, egress).unwrap().sync(&peer))
        .await
        .unwrap()
}

/// Peer `a` at `url`, pulled from without credentials (a test's own server, not a node).
fn anonymous_peer(url: String) -> Peer {
    Peer {
        name: "a".into(),
        url,
        collection: COLLECTION.into(),
        organisation: "a".into(),
        local_collection: COLLECTION.into(),
        direction: Direction::Pull,
        interval_secs: 60,
        credentials: Credentials::None,
        ca_cert: None,
    }
}

/// Store these objects in the node's collection as provided by `provider`.
fn put<T: AsRef<str>>(node: &Node, provider: &str, texts: &[T]) -> Vec<ObjectResult> {
    ingest_batch(
        &*node.store,
        texts,
        &Provenance::new(provider, "test"),
        Some(COLLECTION),
        &IngestOptions::default(),
    )
    .unwrap()
}

fn object(kind: &str, n: u32, modified: &str) -> String {
    let id = format!("{kind}--00000000-0000-4000-8000-{n:012}");
    let mut v = json!({
        "type": kind, "spec_version": "2.1", "id": id,
        "created": "2026-02-01T00:00:00.000Z", "modified": modified,
        "name": format!("{kind} {n}"),
    });
    if kind == "indicator" {
        v["pattern"] = json!(format!("[ipv4-addr:value = '198.51.100.{n}']"));
        v["pattern_type"] = json!("stix");
        v["valid_from"] = json!("2026-02-01T00:00:00Z");
    } else {
        v["is_family"] = json!(false);
    }
    v.to_string()
}

/// (id, version, provider) of every version in the node's collection.
fn held(node: &Node) -> Vec<(String, String, String)> {
    let mut query = ObjectQuery::new(Scope::Collection(COLLECTION.into()), 1_000);
    query.versions.all = true;
    query.versions.last = false;
    let mut out: Vec<_> = node
        .store
        .query(&query)
        .unwrap()
        .rows
        .into_iter()
        .map(|r| (r.id, r.version, r.provenance.organisation))
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_only_what_each_hop_allows() {
    let a = start(
        "t",
        "a",
        &["b"],
        &[agreement("a-to-b", "a", "b", 1, true, "\"*\"")],
    )
    .await;
    let b = start(
        "t",
        "b",
        &["a", "c"],
        &[
            agreement("a-to-b", "a", "b", 1, true, "\"*\""),
            agreement("b-to-c", "b", "c", 1, false, "\"indicator\""),
        ],
    )
    .await;
    let c = start(
        "t",
        "c",
        &["b"],
        &[agreement("b-to-c", "b", "c", 1, false, "\"indicator\"")],
    )
    .await;
    federation::add_peer(&*b.store, &peer_of("t", "b", &a, "a", Direction::Both)).unwrap();
    federation::add_peer(&*c.store, &peer_of("t", "c", &b, "b", Direction::Pull)).unwrap();

    // A holds three indicators (one in two versions, the second revoking it) and a malware.
    let texts = [
        object("indicator", 1, "2026-02-01T00:00:00.000Z"),
        object("indicator", 2, "2026-02-01T00:00:00.000Z"),
        object("indicator", 3, "2026-02-01T00:00:00.000Z"),
        object("malware", 4, "2026-02-01T00:00:00.000Z"),
    ];
    let mut revoked: serde_json::Value = serde_json::from_str(&texts[0]).unwrap();
    revoked["modified"] = json!("2026-02-02T00:00:00.000Z");
    revoked["revoked"] = json!(true);
    let texts: Vec<String> = texts.into_iter().chain([revoked.to_string()]).collect();
    let results = put(&a, "a", &texts);
    assert!(results.iter().all(|r| r.is_stored()));

    // B pulls all five versions in pages of two (added_after and next), as A's.
    let report = sync(&b, "a").await;
    assert_eq!(
        (report.pulled, report.duplicates, report.rejected),
        (5, 0, 0),
        "{report:?}"
    );
    let at_b = held(&b);
    assert_eq!(at_b.len(), 5);
    assert!(at_b.iter().all(|(_, _, p)| p == "a"), "{at_b:?}");
    // Nothing went back to A (B pushes only what is not A's own).
    assert_eq!(report.pushed, 0);
    assert!(held(&a).iter().all(|(_, _, p)| p == "a"), "{:?}", held(&a));
    // Provenance names the peer and the agreement.
    let state = &federation::peers(&*b.store).unwrap()[0].state;
    assert_eq!(state.objects_in, 5);
    assert!(state.caught_up && state.last_error.is_none(), "{state:?}");

    // A pulling from B gets its own objects back (B releases them to their owner):
    // versions A holds are no-ops, not new entries filed as B's.
    federation::add_peer(&*a.store, &peer_of("t", "a", &b, "b", Direction::Pull)).unwrap();
    let back = sync(&a, "b").await;
    assert_eq!((back.pulled, back.duplicates), (0, 5), "{back:?}");
    assert_eq!(held(&a).len(), 5);

    // Exactly once: a second run stores nothing, whether from the cursor or a reset one.
    let again = sync(&b, "a").await;
    assert_eq!((again.pulled, again.duplicates), (0, 0), "{again:?}");
    let mut reset = federation::peers(&*b.store).unwrap().remove(0);
    reset.state.pull_after = None;
    b.store
        .put_peer_state("a", &serde_json::to_string(&reset.state).unwrap())
        .unwrap();
    let replay = sync(&b, "a").await;
    assert_eq!((replay.pulled, replay.duplicates), (0, 5), "{replay:?}");
    assert_eq!(held(&b).len(), 5);

    // C gets A's indicators (every version, the revocation too) through B, not the
    // malware: B's agreement with C covers indicators only.
    let report = sync(&c, "b").await;
    assert_eq!(report.pulled, 4, "{report:?}");
    let at_c = held(&c);
    assert!(
        at_c.iter()
            .all(|(id, _, p)| id.starts_with("indicator--") && p == "b"),
        "{at_c:?}"
    );

    // A's agreement with B now forbids onward sharing: C receives nothing more.
    let (name, forbidden) = agreement("a-to-b", "a", "b", 2, false, "\"*\"");
    std::fs::write(
        b._dir.path().join(format!("agreements/{name}.toml")),
        forbidden,
    )
    .unwrap();
    let config = Config::load(&b._dir.path().join("accord.toml")).unwrap();
    b.state
        .set_agreements(accord_node::agreements::load_node_gate(&config).unwrap());
    put(
        &a,
        "a",
        &[object("indicator", 5, "2026-02-01T00:00:00.000Z")],
    );
    assert_eq!(sync(&b, "a").await.pulled, 1);
    let report = sync(&c, "b").await;
    assert_eq!(report.pulled, 0, "{report:?}");
    assert_eq!(held(&c).len(), 4);

    // Deletions propagate A → B → C: A deletes indicator 2 (every version), the
    // revoking version of indicator 1, and the malware C never received.
    let (ind1, ind2, mal4) = (
        id_of("indicator", 1),
        id_of("indicator", 2),
        id_of("malware", 4),
    );
    delete(&a, &ind2, None);
    delete(&a, &ind1, Some("2026-02-02T00:00:00.000Z"));
    delete(&a, &mal4, None);
    let report = sync(&b, "a").await;
    assert_eq!((report.deleted, report.pulled), (3, 0), "{report:?}");
    // B's own deletions of A's objects are not pushed back to A.
    assert_eq!(report.deletions_pushed, 0, "{report:?}");
    let at_b = held(&b);
    assert!(
        !at_b.iter().any(|(id, _, _)| *id == ind2 || *id == mal4),
        "{at_b:?}"
    );
    assert_eq!(versions_of(&at_b, &ind1), ["2026-02-01T00:00:00.000Z"]);
    let state = &federation::peers(&*b.store).unwrap()[0].state;
    assert_eq!((state.deletion_feed, state.deletions_in), (Some(true), 3));
    // C learns of the two deletions of what it received through B, not of the malware's
    // (B never released it to C: its tombstone is not C's to see).
    let told = b
        .state
        .egress()
        .deletions(&Recipient::new("c"), COLLECTION, i64::MIN, 100)
        .unwrap();
    let told: Vec<&str> = told.deletions.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(told, [ind2.as_str(), ind1.as_str()]);
    // Over TAXII, the date headers give the first and the last deletion's time.
    let feed = format!("collections/{COLLECTION}/x-accord-deletions/");
    let answer = get_as("t", &b, "c", "b", &feed).await;
    let page: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    let times: Vec<Option<String>> = page["deletions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date_deleted"].as_str().map(str::to_string))
        .collect();
    assert_eq!(times.len(), 2, "{answer:?}");
    assert_ne!(times[0], times[1]);
    assert_eq!(answer.added, [times[0].clone(), times[1].clone()]);
    let report = sync(&c, "b").await;
    assert_eq!((report.deleted, report.pulled), (2, 0), "{report:?}");
    let at_c = held(&c);
    assert!(!at_c.iter().any(|(id, _, _)| *id == ind2), "{at_c:?}");
    assert_eq!(versions_of(&at_c, &ind1), ["2026-02-01T00:00:00.000Z"]);
    assert_eq!(at_c.len(), 2, "{at_c:?}");
    // Exactly once: a second run deletes nothing more.
    assert_eq!(sync(&c, "b").await.deleted, 0);
    assert_eq!(sync(&b, "a").await.deleted, 0);
}

fn id_of(kind: &str, n: u32) -> String {
    format!("{kind}--00000000-0000-4000-8000-{n:012}")
}

/// The node's own organisation deletes versions of `id` from the collection (what the
/// TAXII DELETE handler does for it).
fn delete(node: &Node, id: &str, version: Option<&str>) {
    let versions = match version {
        Some(v) => accord_store::VersionFilter {
            exact: vec![accord_stix::Timestamp::parse(v).unwrap().as_micros()],
            ..Default::default()
        },
        None => accord_store::VersionFilter::all(),
    };
    assert!(
        node.store
            .remove_from_collection(COLLECTION, id, &versions, None)
            .unwrap()
            > 0,
        "nothing of {id} to delete"
    );
}

fn versions_of<'a>(held: &'a [(String, String, String)], id: &str) -> Vec<&'a str> {
    held.iter()
        .filter(|(i, _, _)| i == id)
        .map(|(_, v, _)| v.as_str())
        .collect()
}

/// What a GET answered.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    /// `X-TAXII-Date-Added-First` and `-Last`.
    added: [Option<String>; 2],
    body: String,
}

/// A GET of `path` under the node's API root as `org` (its token at the node), from a
/// blocking thread.
async fn get_as(test: &str, node: &Node, org: &str, at: &str, path: &str) -> Answer {
    let url = format!("{}{path}", node.url);
    let token = std::env::var(env_name(test, org, at)).unwrap();
    tokio::task::spawn_blocking(move || {
        let response = reqwest::blocking::Client::new()
            .get(&url)
            .header("accept", support::TAXII)
            .bearer_auth(token)
            .send()
            .unwrap();
        let header = |name: &str| {
            let value = response.headers().get(name)?;
            Some(value.to_str().unwrap().to_string())
        };
        let added = [
            header("x-taxii-date-added-first"),
            header("x-taxii-date-added-last"),
        ];
        Answer {
            status: response.status().as_u16(),
            added,
            body: response.text().unwrap(),
        }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_never_learns_of_the_deletion_of_what_it_could_not_read() {
    // A releases indicators to B, nothing to C (no agreement); both may read the
    // collection.
    let a = start(
        "w",
        "a",
        &["b", "c"],
        &[agreement("a-to-b", "a", "b", 1, false, "\"indicator\"")],
    )
    .await;
    let texts = [
        object("indicator", 1, "2026-02-01T00:00:00.000Z"),
        object("malware", 2, "2026-02-01T00:00:00.000Z"),
    ];
    put(&a, "a", &texts);
    let feed = format!("collections/{COLLECTION}/x-accord-deletions/");
    // What B and C see before anything is deleted.
    let before_c = get_as("w", &a, "c", "a", &feed).await;
    assert_eq!(before_c.status, 200, "{before_c:?}");
    assert_eq!(before_c.added, [None, None]);
    // B reads the collection: the indicator is released to it (recorded in the
    // ledger), the malware withheld.
    let page = get_as(
        "w",
        &a,
        "b",
        "a",
        &format!("collections/{COLLECTION}/objects/"),
    )
    .await
    .body;
    assert!(
        page.contains(&id_of("indicator", 1)) && !page.contains(&id_of("malware", 2)),
        "{page}"
    );
    delete(&a, &id_of("malware", 2), None);
    // Nobody but the node learns of the malware's deletion: B's and C's answers are
    // exactly what they were before it (no entry, no date header, no `more`).
    let after_b = get_as("w", &a, "b", "a", &feed).await;
    assert_eq!(after_b, before_c);
    let after_c = get_as("w", &a, "c", "a", &feed).await;
    assert_eq!(after_c, before_c);
    assert!(!after_b.body.contains("malware"), "{after_b:?}");
    delete(&a, &id_of("indicator", 1), None);
    // B held the indicator: it learns of its deletion; C, which never received it, does not.
    let told_b = get_as("w", &a, "b", "a", &feed).await;
    let page: serde_json::Value = serde_json::from_str(&told_b.body).unwrap();
    assert_eq!(
        page["deletions"].as_array().map(Vec::len),
        Some(1),
        "{told_b:?}"
    );
    assert_eq!(page["deletions"][0]["id"], json!(id_of("indicator", 1)));
    assert_eq!(
        page["deletions"][0]["version"],
        json!("2026-02-01T00:00:00.000Z")
    );
    assert_eq!(page["more"], json!(false));
    let told_c = get_as("w", &a, "c", "a", &feed).await;
    assert_eq!(told_c, before_c);
    // Paged by added_after: nothing after the indicator's deletion, whose time the
    // date headers give.
    let after = page["deletions"][0]["date_deleted"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(told_b.added, [Some(after.clone()), Some(after.clone())]);
    let rest = get_as("w", &a, "b", "a", &format!("{feed}?added_after={after}")).await;
    assert!(!rest.body.contains("indicator--"), "{rest:?}");
    // The node's own view lists both.
    let all = a
        .state
        .egress()
        .deletions(&Recipient::new("a"), COLLECTION, i64::MIN, 10)
        .unwrap();
    assert_eq!(all.deletions.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_peer_is_visible_in_its_state() {
    let b = start("f", "b", &["a"], &[]).await;
    let peer = anonymous_peer("http://127.0.0.1:9/api/".into());
    federation::add_peer(&*b.store, &peer).unwrap();
    let err = try_sync(&b, "a").await.unwrap_err();
    assert!(err.to_string().contains("peer a"), "{err}");
    let state = &federation::peers(&*b.store).unwrap()[0].state;
    assert_eq!(state.consecutive_failures, 1);
    assert!(
        state
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("attempts")),
        "{state:?}"
    );
    assert!(state.last_success.is_none());
    let metrics = federation::render_metrics(&federation::peers(&*b.store).unwrap());
    assert!(
        metrics.contains("accord_peer_consecutive_failures{peer=\"a\"} 1"),
        "{metrics}"
    );
}

/// How the hostile peer answers.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    /// A JSON page declared as text/html.
    WrongMediaType,
    /// `more` forever, a fresh `next` each time, no objects, no date header.
    EndlessNext,
    /// The same `next` token forever.
    SameNext,
    /// More objects than a page may hold.
    HugePage,
    /// Valid objects claiming another provider (created_by_ref), and invalid ones.
    Impostor,
    /// 429 with a Retry-After longer than honoured.
    SlowDown,
    /// 503 with a Retry-After HTTP-date far beyond the longest wait honoured.
    SlowDownUntil,
}

/// Serve `app` (a stand-in for a peer) on a free port: the URL of its API root `api`.
async fn serve_stand_in(app: axum::Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn hostile_peer(mode: Hostile) -> String {
    use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let handler = move || {
        let counter = counter.clone();
        async move {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(support::TAXII),
            );
            let body = match mode {
                Hostile::WrongMediaType => {
                    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
                    json!({"more": false}).to_string()
                }
                Hostile::EndlessNext => json!({"more": true, "next": format!("t{n}")}).to_string(),
                Hostile::SameNext => json!({"more": true, "next": "again"}).to_string(),
                Hostile::HugePage => {
                    let objects = vec![json!({}); federation::MAX_PAGE_OBJECTS + 1];
                    json!({"more": false, "objects": objects}).to_string()
                }
                Hostile::Impostor => {
                    let mut claimed: serde_json::Value =
                        serde_json::from_str(&object("indicator", 7, "2026-02-01T00:00:00.000Z"))
                            .unwrap();
                    claimed["created_by_ref"] =
                        json!("identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
                    headers.insert(
                        "x-taxii-date-added-last",
                        HeaderValue::from_static("2026-03-01T00:00:00.000000Z"),
                    );
                    json!({"more": false, "objects": [claimed, {"type": "indicator", "id": "nonsense"}]})
                        .to_string()
                }
                Hostile::SlowDown => {
                    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("86400"));
                    return (StatusCode::TOO_MANY_REQUESTS, headers, String::new()).into_response();
                }
                Hostile::SlowDownUntil => {
                    headers.insert(
                        header::RETRY_AFTER,
                        HeaderValue::from_static("Fri, 01 Jan 2100 00:00:00 GMT"),
                    );
                    return (StatusCode::SERVICE_UNAVAILABLE, headers, String::new())
                        .into_response();
                }
            };
            (StatusCode::OK, headers, body).into_response()
        }
    };
    let app = axum::Router::new().route(
        &format!("/api/collections/{COLLECTION}/objects/"),
        axum::routing::get(handler),
    );
    serve_stand_in(app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_peer_ends_the_run_with_an_error_and_misfiles_nothing() {
    let b = start("h", "b", &["a"], &[]).await;
    for (mode, expected) in [
        (Hostile::WrongMediaType, "not application/taxii+json"),
        (
            Hostile::EndlessNext,
            "pages in a row that bring nothing new",
        ),
        (Hostile::SameNext, "pages in a row that bring nothing new"),
        (Hostile::HugePage, "at most 10000 are accepted"),
        (Hostile::SlowDown, "longer than the 60s honoured"),
        (Hostile::SlowDownUntil, "longer than the 60s honoured"),
    ] {
        let peer = anonymous_peer(hostile_peer(mode).await);
        federation::add_peer(&*b.store, &peer).unwrap();
        let result = try_sync(&b, "a").await;
        let err = result.expect_err(&format!("{mode:?} must fail"));
        assert!(err.to_string().contains(expected), "{mode:?}: {err}");
        assert!(held(&b).is_empty(), "{mode:?}");
    }
    // Objects are filed under the peer's organisation, whatever they claim; invalid
    // ones are counted and skipped.
    let mut peer = federation::peers(&*b.store).unwrap().remove(0).peer;
    peer.url = hostile_peer(Hostile::Impostor).await;
    federation::add_peer(&*b.store, &peer).unwrap();
    let report = sync(&b, "a").await;
    assert_eq!((report.pulled, report.rejected), (1, 1), "{report:?}");
    let at_b = held(&b);
    assert_eq!(at_b.len(), 1);
    assert_eq!(at_b[0].2, "a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_is_pushed_to_the_peer_that_received_the_object() {
    let a = start("p", "a", &["b"], &[]).await;
    let b = start(
        "p",
        "b",
        &["a"],
        &[agreement("b-to-a", "b", "a", 1, true, "\"indicator\"")],
    )
    .await;
    federation::add_peer(&*b.store, &peer_of("p", "b", &a, "a", Direction::Push)).unwrap();
    let texts = [
        object("indicator", 1, "2026-02-01T00:00:00.000Z"),
        object("indicator", 2, "2026-02-01T00:00:00.000Z"),
    ];
    put(&b, "b", &texts);
    let (ind1, ind2) = (id_of("indicator", 1), id_of("indicator", 2));
    let report = sync(&b, "a").await;
    assert!(report.pushed >= 2, "{report:?}");
    let ids =
        |node: &Node| -> Vec<String> { held(node).into_iter().map(|(id, _, _)| id).collect() };
    assert!(ids(&a).contains(&ind1) && ids(&a).contains(&ind2));
    // B deletes indicator 1: the next push sends A a TAXII DELETE for that version.
    delete(&b, &ind1, None);
    let report = sync(&b, "a").await;
    assert_eq!(
        (report.deletions_pushed, report.pushed),
        (1, 0),
        "{report:?}"
    );
    assert!(!ids(&a).contains(&ind1), "{:?}", held(&a));
    assert!(ids(&a).contains(&ind2));
    let state = &federation::peers(&*b.store).unwrap()[0].state;
    assert_eq!(state.deletions_out, 1);
    assert_eq!(sync(&b, "a").await.deletions_pushed, 0);
}

/// A CA (its PEM) and a certificate for `localhost` it signed (PEM chain and key).
fn test_ca(name: &str) -> (String, String, String) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} test CA"));
    let ca =
        rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    (ca.pem(), leaf.pem(), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_peer_is_trusted_through_its_configured_ca_only() {
    accord_server::tls::install_ring_provider();
    let (ca, cert, key) = test_ca("a");
    let (other_ca, _, _) = test_ca("other");
    let a = start_with(
        "s",
        "a",
        &["b"],
        &[agreement("a-to-b", "a", "b", 1, true, "\"*\"")],
        Some((cert, key)),
    )
    .await;
    assert!(a.url.starts_with("https://localhost:"), "{}", a.url);
    let b = start("s", "b", &["a"], &[]).await;
    put(
        &a,
        "a",
        &[object("indicator", 1, "2026-02-01T00:00:00.000Z")],
    );
    let files = tempfile::tempdir().unwrap();
    let (ca_file, other_file) = (files.path().join("ca.pem"), files.path().join("other.pem"));
    std::fs::write(&ca_file, &ca).unwrap();
    std::fs::write(&other_file, &other_ca).unwrap();
    let mut peer = peer_of("s", "b", &a, "a", Direction::Pull);

    // Trusting a CA that did not sign the peer's certificate: refused at once (no
    // retries), the reason in words in the peer's state.
    peer.ca_cert = Some(other_file.display().to_string());
    federation::add_peer(&*b.store, &peer).unwrap();
    let started = std::time::Instant::now();
    let err = try_sync(&b, "a").await.unwrap_err().to_string();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "retried a refused certificate"
    );
    let state = federation::peers(&*b.store).unwrap().remove(0).state;
    let last = state.last_error.unwrap_or_default();
    assert!(
        last.contains("certificate") && last.contains("does not verify against the CA in"),
        "{last}"
    );
    assert!(last.contains(&other_file.display().to_string()), "{last}");
    assert!(err.contains("certificate"), "{err}");
    assert!(held(&b).is_empty());

    // Without a CA of its own the system's roots apply: refused too, with the hint.
    peer.ca_cert = None;
    federation::add_peer(&*b.store, &peer).unwrap();
    let err = try_sync(&b, "a").await.unwrap_err().to_string();
    assert!(err.contains("--ca-cert"), "{err}");

    // Trusting the CA that signed it: the pull goes through HTTPS.
    peer.ca_cert = Some(ca_file.display().to_string());
    federation::add_peer(&*b.store, &peer).unwrap();
    let report = sync(&b, "a").await;
    assert_eq!(report.pulled, 1, "{report:?}");
    assert_eq!(held(&b).len(), 1);
    let state = federation::peers(&*b.store).unwrap().remove(0).state;
    assert!(
        state.last_error.is_none() && state.consecutive_failures == 0,
        "{state:?}"
    );
    // A file that holds no certificate is refused when the peer is defined.
    std::fs::write(&ca_file, "not a certificate").unwrap();
    assert!(federation::read_ca_certificates(&ca_file.display().to_string()).is_err());
}

/// A peer that serves no objects and this page of deletions.
async fn deleting_peer(page: serde_json::Value) -> String {
    use axum::http::header;
    let objects = || async {
        (
            [(header::CONTENT_TYPE, support::TAXII)],
            json!({"more": false}).to_string(),
        )
    };
    let deletions = move || {
        let page = page.clone();
        async move { ([(header::CONTENT_TYPE, support::TAXII)], page.to_string()) }
    };
    let app = axum::Router::new()
        .route(
            &format!("/api/collections/{COLLECTION}/objects/"),
            axum::routing::get(objects),
        )
        .route(
            &format!("/api/collections/{COLLECTION}/x-accord-deletions/"),
            axum::routing::get(deletions),
        );
    serve_stand_in(app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_deletes_only_what_it_provided() {
    let b = start("d", "b", &["a", "x"], &[]).await;
    // B holds its own indicator 1, indicator 2 from x, and indicator 3 from a in two
    // versions.
    for (provider, text) in [
        ("b", object("indicator", 1, "2026-02-01T00:00:00.000Z")),
        ("x", object("indicator", 2, "2026-02-01T00:00:00.000Z")),
        ("a", object("indicator", 3, "2026-02-01T00:00:00.000Z")),
        ("a", object("indicator", 3, "2026-02-02T00:00:00.000Z")),
    ] {
        put(&b, provider, &[text]);
    }
    let deletion = |n: u32, version: Option<&str>, at: &str| {
        let mut d = json!({"id": id_of("indicator", n), "date_deleted": at});
        if let Some(v) = version {
            d["version"] = json!(v);
        }
        d
    };
    // Peer a claims deletions of everything: only its own version named goes.
    let url = deleting_peer(json!({"more": false, "deletions": [
        deletion(1, None, "2026-03-01T00:00:00.000001Z"),
        deletion(2, Some("2026-02-01T00:00:00.000Z"), "2026-03-01T00:00:00.000002Z"),
        deletion(3, Some("2026-02-01T00:00:00.000Z"), "2026-03-01T00:00:00.000003Z"),
        {"id": "", "date_deleted": "2026-03-01T00:00:00.000004Z"},
    ]}))
    .await;
    federation::add_peer(&*b.store, &anonymous_peer(url)).unwrap();
    let report = sync(&b, "a").await;
    assert_eq!(report.deleted, 1, "{report:?}");
    let at_b = held(&b);
    assert_eq!(at_b.len(), 3, "{at_b:?}");
    assert_eq!(
        versions_of(&at_b, &id_of("indicator", 3)),
        ["2026-02-02T00:00:00.000Z"]
    );
    // Deletions out of order (not after the cursor) end the run.
    let mut peer = federation::peers(&*b.store).unwrap().remove(0).peer;
    peer.url = deleting_peer(json!({"more": false, "deletions": [
        deletion(3, None, "2026-03-01T00:00:00.000001Z"),
    ]}))
    .await;
    federation::add_peer(&*b.store, &peer).unwrap();
    let err = try_sync(&b, "a").await.unwrap_err();
    assert!(err.to_string().contains("not after added_after"), "{err}");
    assert_eq!(held(&b).len(), 3);
}
