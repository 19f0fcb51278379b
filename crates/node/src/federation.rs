//! Federation: this node as a TAXII 2.1 client of its peers (other Accord nodes,
//! medallion, any TAXII 2.1 server), pulling what they release to it and pushing what
//! its gate releases to them.
//!
//! - **Peers** are kept in the store ([`Peer`] definition and [`PeerState`], one row
//!   each): a restart resumes from the persisted cursors.
//! - **Pull** pages through a remote collection with `added_after` (the persisted
//!   cursor, the `X-TAXII-Date-Added-Last` of the last stored page) and `next` (within
//!   a run), every version (`match[version]=all`, so revocations arrive as the new
//!   versions they are). Each object is validated by [`crate::ingest`] and stored with
//!   provenance: the peer's organisation as provider (whatever the object claims, so
//!   a peer cannot file data under another provider) and the channel
//!   `peer:NAME;agreement=ID@VERSION` (the peer organisation's agreement with this
//!   node in force when it arrived, or `none`). The store keeps one row per (id,
//!   version, provider): the same version from the same peer twice is a no-op.
//! - **Push** reads the local collection through the one door out
//!   ([`crate::egress::Egress`]) as the peer's organisation, so only what the gate
//!   releases to it leaves, recorded in the ledger, and POSTs it; it never sends an
//!   object back to the organisation that provided it. Its cursor is its own.
//! - **Deletions** travel both ways (`federation/deletions.rs`): pulled from an Accord peer's
//!   deletions resource (what it deleted of what it released to this node), pushed as
//!   TAXII `DELETE`s of what this node released to the peer and deleted since.
//! - **HTTPS** peers may name their own CA ([`Peer::ca_cert`], `federation/tls.rs`).
//! - **Onward sharing** is the gate's ([`accord_agreements::Gate::with_holder`]), not
//!   this module's.
//! - **Failures** retry with exponential backoff and honour `Retry-After`; each run's
//!   outcome (last success, counters, consecutive failures, last error in words) is in
//!   the state that `accord peer status` and `/metrics` show.
//!
//! A hostile peer is bounded by the constants below: a page larger than
//! [`MAX_PAGE_BYTES`] or with more than [`MAX_PAGE_OBJECTS`] objects, a response that
//! is not TAXII 2.1 JSON, a `next` that never ends ([`MAX_PAGES_PER_RUN`]) or a cursor
//! that does not advance all end the run with an error; invalid objects are counted
//! and skipped.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use accord_stix::Rejection;
use accord_stix::Timestamp;
use accord_store::{
    for_each_row, NewObject, ObjectQuery, Provenance, Scope, Store, StoreError, VersionFilter,
};
use accord_taxii::{headers, media, query::Query, Envelope};
use serde::{Deserialize, Serialize};

use crate::egress::{Egress, Recipient};

mod deletions;
mod tls;

use crate::ingest::{prepare, store_prepared, IngestOptions, ObjectResult};
pub use tls::{read_ca_certificates, MAX_CA_FILE_BYTES};

/// Largest response body read from a peer, in bytes; a larger page ends the run.
pub const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;
/// Most objects accepted in one page; more ends the run.
pub const MAX_PAGE_OBJECTS: usize = 10_000;
/// The `limit` asked of a peer per page: the largest page accepted (an Accord node's
/// default `max_page_size`; a server lowers it to its own maximum), so a pull costs as
/// few round trips, commits and cursor writes as it can.
pub const PAGE_LIMIT: usize = MAX_PAGE_OBJECTS;
/// Pages read ahead of the one being stored: the peer serves the next page while this
/// node stores the current one (at most this many more pages held in memory, each at
/// most [`MAX_PAGE_BYTES`]).
pub const PAGES_IN_FLIGHT: usize = 1;
/// Most pages read (or pushed) in one run: a `next` that never ends stops here, and
/// the next run continues from the persisted cursor.
pub const MAX_PAGES_PER_RUN: usize = 10_000;
/// Most pages in a row that bring no new object and do not advance the cursor while
/// claiming `more`: a peer that pages forever through nothing (or through the same
/// objects) ends the run here.
pub const MAX_STALE_PAGES: usize = 20;
/// Objects per push request.
pub const PUSH_BATCH: usize = 500;
/// Attempts per request before the run fails (connection errors, 429, 502-504).
pub const MAX_ATTEMPTS: u32 = 4;
/// The first backoff delay; each retry doubles it.
pub const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// Longest wait honoured from a `Retry-After` (or backoff); a longer one ends the run
/// (the next interval tries again).
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);
/// Timeout of one HTTP request, connection to last byte.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest error text kept in a peer's state, in bytes.
pub const MAX_ERROR_LEN: usize = 400;
/// Shortest sync interval.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Which way objects flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From the peer to this node.
    Pull,
    /// From this node to the peer.
    Push,
    /// Both.
    Both,
}

impl Direction {
    fn pulls(self) -> bool {
        matches!(self, Direction::Pull | Direction::Both)
    }
    fn pushes(self) -> bool {
        matches!(self, Direction::Push | Direction::Both)
    }
}

impl std::str::FromStr for Direction {
    type Err = FederationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pull" => Ok(Direction::Pull),
            "push" => Ok(Direction::Push),
            "both" => Ok(Direction::Both),
            _ => Err(FederationError::Invalid(format!(
                "direction '{s}': one of pull, push, both"
            ))),
        }
    }
}

/// How this node authenticates to the peer. Secrets are never stored: only the name
/// of the environment variable that holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Credentials {
    /// No authentication.
    None,
    /// HTTP Basic: a user name, the password in an environment variable.
    Basic {
        /// The user name.
        user: String,
        /// The environment variable holding the password.
        password_env: String,
    },
    /// A bearer token in an environment variable.
    Token {
        /// The environment variable holding the token.
        env: String,
    },
}

/// A peer's definition (`accord peer add`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    /// Its name on this node.
    pub name: String,
    /// The peer's API root URL (`https://peer.example/api1/`).
    pub url: String,
    /// The remote collection id.
    pub collection: String,
    /// The organisation (of this node's configuration) the peer is: the provider of
    /// what is pulled, the recipient of what is pushed.
    pub organisation: String,
    /// The local collection id pulled into and pushed from.
    pub local_collection: String,
    /// Which way objects flow.
    pub direction: Direction,
    /// Seconds between runs inside `accord serve`.
    pub interval_secs: u64,
    /// Authentication.
    pub credentials: Credentials,
    /// A PEM file of the CA certificate(s) that sign the peer's HTTPS certificate:
    /// when set, only these are trusted for this peer (a private CA, a self-signed
    /// peer); when not, the system's roots. Read at each run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
}

impl Peer {
    /// Check the definition: a name of `A-Za-z0-9._-`, an http(s) URL, an interval of
    /// at least [`MIN_INTERVAL`].
    pub fn validate(&self) -> Result<(), FederationError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !name_ok {
            return Err(FederationError::Invalid(format!(
                "peer name '{}': 1-64 of A-Za-z0-9._-",
                self.name
            )));
        }
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(FederationError::Invalid(format!(
                "url '{}': an http:// or https:// API root URL",
                self.url
            )));
        }
        if self.collection.is_empty() || self.collection.contains('/') {
            return Err(FederationError::Invalid(format!(
                "collection '{}': a collection id",
                self.collection
            )));
        }
        if self.ca_cert.is_some() && !self.url.starts_with("https://") {
            return Err(FederationError::Invalid(format!(
                "ca-cert: applies to an https:// URL, not '{}'",
                self.url
            )));
        }
        if self.interval_secs < MIN_INTERVAL.as_secs() {
            return Err(FederationError::Invalid(
                "interval: at least 1s".to_string(),
            ));
        }
        Ok(())
    }

    fn collection_url(&self) -> String {
        format!(
            "{}/collections/{}/objects/",
            self.url.trim_end_matches('/'),
            accord_taxii::query::encode(&self.collection)
        )
    }
}

/// A peer's sync state, persisted after every page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeerState {
    /// Pull cursor: the remote `date_added` of the last object stored (`added_after`).
    pub pull_after: Option<String>,
    /// Push cursor: the local `date_added` (microseconds) of the last object pushed.
    pub push_after: i64,
    /// When the last run that succeeded ended.
    pub last_success: Option<String>,
    /// When the last run ended.
    pub last_attempt: Option<String>,
    /// Object versions stored from the peer (new ones only).
    pub objects_in: u64,
    /// Object versions the peer sent that were already held (no-ops).
    pub duplicates_in: u64,
    /// Objects the peer sent that failed validation (not stored).
    pub rejected_in: u64,
    /// Object versions the peer accepted from this node.
    pub objects_out: u64,
    /// Runs that failed since the last success.
    pub consecutive_failures: u32,
    /// The last failure, in words.
    pub last_error: Option<String>,
    /// Whether the last pull reached the end of the remote collection.
    pub caught_up: bool,
    /// Newest remote `date_added` seen (the header of the last page read).
    pub remote_newest: Option<String>,
    /// Deletions pull cursor: the `date_deleted` of the last deletion applied.
    pub deletions_after: Option<String>,
    /// Whether the peer tells of deletions (an Accord node: `Some(true)`; a server
    /// without Accord's deletions resource: `Some(false)`; not asked yet: `None`).
    pub deletion_feed: Option<bool>,
    /// Object versions removed here because the peer deleted them.
    pub deletions_in: u64,
    /// Deletions push cursor: the local deletion time of the last tombstone sent.
    pub push_deletions_after: i64,
    /// `DELETE`s the peer accepted from this node.
    pub deletions_out: u64,
}

impl PeerState {
    /// The pull lag in seconds: how far the newest remote `date_added` seen is ahead
    /// of the pull cursor (0 when caught up; `None` before any pull).
    pub fn lag_seconds(&self) -> Option<i64> {
        if self.caught_up {
            return Some(0);
        }
        let newest = Timestamp::parse(self.remote_newest.as_deref()?).ok()?;
        let cursor = self
            .pull_after
            .as_deref()
            .and_then(|t| Timestamp::parse(t).ok())
            .map_or(0, |t| t.as_micros());
        Some((newest.as_micros() - cursor).max(0) / 1_000_000)
    }
}

/// Why a federation operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FederationError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A definition or argument is invalid.
    #[error("{0}")]
    Invalid(String),
    /// No such peer.
    #[error("no peer '{0}'")]
    NoPeer(String),
    /// The peer misbehaved or could not be reached.
    #[error("peer {peer}: {detail}")]
    Peer {
        /// The peer.
        peer: String,
        /// What went wrong, in words.
        detail: String,
    },
}

/// A peer with its state.
#[derive(Debug, Clone)]
pub struct PeerEntry {
    /// The definition.
    pub peer: Peer,
    /// The state.
    pub state: PeerState,
}

/// Add (or replace) a peer. Its cursors are kept when it is replaced.
pub fn add_peer(store: &dyn Store, peer: &Peer) -> Result<(), FederationError> {
    peer.validate()?;
    let text = serde_json::to_string(peer).map_err(|e| FederationError::Invalid(e.to_string()))?;
    store.put_peer(&peer.name, &text)?;
    Ok(())
}

/// Remove a peer; `false` when there was none.
pub fn remove_peer(store: &dyn Store, name: &str) -> Result<bool, FederationError> {
    Ok(store.remove_peer(name)?)
}

/// Every peer with its state, in order of name. A definition that does not read is an
/// error naming the peer.
pub fn peers(store: &dyn Store) -> Result<Vec<PeerEntry>, FederationError> {
    store
        .peers()?
        .into_iter()
        .map(|r| {
            let peer: Peer = serde_json::from_str(&r.definition).map_err(|e| {
                FederationError::Invalid(format!("peer '{}': stored definition: {e}", r.name))
            })?;
            let state: PeerState = serde_json::from_str(&r.state).unwrap_or_default();
            Ok(PeerEntry { peer, state })
        })
        .collect()
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// New object versions stored.
    pub pulled: u64,
    /// Versions already held.
    pub duplicates: u64,
    /// Invalid objects skipped.
    pub rejected: u64,
    /// Object versions the peer accepted.
    pub pushed: u64,
    /// Pages read or posted.
    pub pages: u64,
    /// Object versions removed here because the peer deleted them.
    pub deleted: u64,
    /// `DELETE`s the peer accepted from this node.
    pub deletions_pushed: u64,
}

/// One page read from a peer, waiting to be stored: its envelope's `more` and `next`,
/// its `X-TAXII-Date-Added-First`/`-Last` headers, and where each object's text lies in
/// the body.
struct RemotePage {
    more: bool,
    next: Option<String>,
    first_added: Option<Timestamp>,
    last_added: Option<Timestamp>,
    objects: Vec<std::ops::Range<usize>>,
    body: String,
}

impl RemotePage {
    /// Validate every object of the page (the page's body is dropped: what is kept is
    /// the store's view of each object).
    fn validate(self, options: &IngestOptions) -> ValidatedPage {
        let prepared = self
            .objects
            .iter()
            .map(|range| match self.body.get(range.clone()) {
                Some(text) => prepare(text, options),
                None => prepare("", options),
            })
            .collect();
        ValidatedPage {
            more: self.more,
            first_added: self.first_added,
            last_added: self.last_added,
            prepared,
        }
    }
}

/// A page whose objects are validated, waiting to be stored.
struct ValidatedPage {
    more: bool,
    first_added: Option<Timestamp>,
    last_added: Option<Timestamp>,
    prepared: Vec<Result<NewObject, Rejection>>,
}

/// Runs syncs for one node: its store and its door out.
pub struct Federation {
    store: Arc<dyn Store>,
    egress: Arc<Egress>,
    client: reqwest::blocking::Client,
    /// Clients of peers with their own CA (`Peer::ca_cert`), by peer name, with the
    /// PEM they were made from (a changed file makes a new client).
    peer_clients: tls::PeerClients,
}

impl Federation {
    /// Sync over `store`, sending only through `egress` (whose local organisation is
    /// this node's; its gate names the agreements recorded as provenance).
    ///
    /// Safe to call anywhere, an async runtime's worker included: the blocking HTTP
    /// client is built on a short-lived thread of its own (building one waits for its
    /// internal runtime, which panics on a runtime's worker). Syncing blocks: run
    /// [`Federation::sync`] on a thread of its own (or `spawn_blocking`).
    pub fn new(store: Arc<dyn Store>, egress: Arc<Egress>) -> Result<Self, FederationError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let build = || {
            reqwest::blocking::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("accord/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| FederationError::Invalid(format!("HTTP client: {e}")))
        };
        let client = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("federation-client".into())
                .spawn_scoped(scope, build)
                .map_err(|e| FederationError::Invalid(format!("HTTP client thread: {e}")))?
                .join()
                .map_err(|_| {
                    FederationError::Invalid("HTTP client: its construction panicked".into())
                })?
        })?;
        Ok(Self {
            store,
            egress,
            client,
            peer_clients: tls::PeerClients::default(),
        })
    }

    /// Run one sync of `name` now (pull, then push, as its direction says) and record
    /// the outcome in its state.
    pub fn sync(&self, name: &str) -> Result<RunReport, FederationError> {
        let entry = peers(&*self.store)?
            .into_iter()
            .find(|e| e.peer.name == name)
            .ok_or_else(|| FederationError::NoPeer(name.to_string()))?;
        let mut state = entry.state.clone();
        let mut report = RunReport::default();
        let mut result = Ok(());
        // Deletions before objects, each way (see `deletions`).
        if entry.peer.direction.pulls() {
            result = self
                .pull_deletions(&entry.peer, &mut state, &mut report)
                .and_then(|()| self.pull(&entry.peer, &mut state, &mut report));
        }
        if result.is_ok() && entry.peer.direction.pushes() {
            result = self
                .push_deletions(&entry.peer, &mut state, &mut report)
                .and_then(|()| self.push(&entry.peer, &mut state, &mut report));
        }
        let now = Timestamp::now().as_str().to_string();
        state.last_attempt = Some(now.clone());
        match &result {
            Ok(()) => {
                state.last_success = Some(now);
                state.consecutive_failures = 0;
                state.last_error = None;
            }
            Err(e) => {
                state.consecutive_failures = state.consecutive_failures.saturating_add(1);
                state.last_error = Some(clip(&e.to_string()));
            }
        }
        self.save(&entry.peer, &state)?;
        result.map(|()| report)
    }

    fn save(&self, peer: &Peer, state: &PeerState) -> Result<(), FederationError> {
        let text =
            serde_json::to_string(state).map_err(|e| FederationError::Invalid(e.to_string()))?;
        self.store.put_peer_state(&peer.name, &text)?;
        Ok(())
    }

    fn fail(peer: &Peer, detail: impl Into<String>) -> FederationError {
        FederationError::Peer {
            peer: peer.name.clone(),
            detail: detail.into(),
        }
    }

    /// The provenance of what arrives from `peer`: its organisation, and the channel
    /// naming the peer and its organisation's agreement in force with this node.
    fn provenance(&self, peer: &Peer) -> Provenance {
        let gate = self.egress.gate();
        let holder = self.egress.local_organisation();
        let now = accord_agreements::UtcMicros(Timestamp::now().as_micros());
        let agreement = gate
            .agreements()
            .iter()
            .filter(|a| {
                a.provider().id == peer.organisation
                    && a.recipient().id == holder
                    && a.is_active(now)
            })
            .max_by_key(|a| (a.id().to_string(), a.version()))
            .map_or_else(
                || "none".to_string(),
                |a| format!("{}@{}", a.id(), a.version()),
            );
        Provenance::new(
            peer.organisation.clone(),
            format!("peer:{};agreement={agreement}", peer.name),
        )
    }

    fn request(
        &self,
        peer: &Peer,
        build: impl Fn() -> reqwest::blocking::RequestBuilder,
    ) -> Result<reqwest::blocking::Response, FederationError> {
        let mut delay = BACKOFF_BASE;
        let mut last = String::new();
        for attempt in 1..=MAX_ATTEMPTS {
            let mut request = build().header(reqwest::header::ACCEPT, media::TAXII_MEDIA_TYPE);
            request = match &peer.credentials {
                Credentials::None => request,
                Credentials::Basic { user, password_env } => {
                    request.basic_auth(user, std::env::var(password_env).ok())
                }
                Credentials::Token { env } => match std::env::var(env) {
                    Ok(token) => request.bearer_auth(token),
                    Err(_) => {
                        return Err(Self::fail(
                            peer,
                            format!("the token variable {env} is not set"),
                        ))
                    }
                },
            };
            let wait = match request.send() {
                Ok(response) => {
                    let status = response.status().as_u16();
                    if !matches!(status, 429 | 502 | 503 | 504) {
                        return Ok(response);
                    }
                    last = format!("HTTP {status}");
                    retry_after(&response).unwrap_or(delay)
                }
                Err(e) => {
                    last = with_causes(&e);
                    // A refused certificate is not a passing trouble: no retry.
                    if tls::is_certificate_error(&last) {
                        return Err(Self::fail(peer, tls::with_hint(peer, last)));
                    }
                    delay
                }
            };
            if attempt == MAX_ATTEMPTS {
                break;
            }
            if wait > MAX_RETRY_WAIT {
                return Err(Self::fail(
                    peer,
                    format!(
                        "{last}; asked to retry after {}s, longer than the {}s honoured",
                        wait.as_secs(),
                        MAX_RETRY_WAIT.as_secs()
                    ),
                ));
            }
            std::thread::sleep(wait);
            delay = (delay * 2).min(MAX_RETRY_WAIT);
        }
        Err(Self::fail(
            peer,
            format!("{last} (after {MAX_ATTEMPTS} attempts)"),
        ))
    }

    /// Pull every page after the cursor. Three stages, so that the peer serves page n+2
    /// while this node validates page n+1 and stores page n: a reader thread requests
    /// and reads the pages (it follows `next`, or `added_after` from the pages'
    /// headers), a validator thread validates their objects ([`prepare`], the checks of
    /// every ingest), and this thread stores them in order (the exactly-once lookup and
    /// the insert, one transaction a page), advancing and persisting the cursor page by
    /// page. At most [`PAGES_IN_FLIGHT`] pages wait between two stages; an error in any
    /// stage ends the run (the stages before it stop at their next page).
    fn pull(
        &self,
        peer: &Peer,
        state: &mut PeerState,
        report: &mut RunReport,
    ) -> Result<(), FederationError> {
        let provenance = self.provenance(peer);
        let options = IngestOptions::default();
        state.caught_up = false;
        let (pages, received) = std::sync::mpsc::sync_channel(PAGES_IN_FLIGHT);
        let (validated, to_store) = std::sync::mpsc::sync_channel(PAGES_IN_FLIGHT);
        let start_after = state.pull_after.clone();
        let options = &options;
        std::thread::scope(|scope| {
            let reader = std::thread::Builder::new()
                .name("federation-reader".into())
                .spawn_scoped(scope, move || self.read_pages(peer, start_after, &pages))
                .map_err(|e| Self::fail(peer, format!("starting the page reader: {e}")))?;
            let validator = std::thread::Builder::new()
                .name("federation-validator".into())
                .spawn_scoped(scope, move || {
                    for page in received {
                        let page = page.map(|p| p.validate(options));
                        if validated.send(page).is_err() {
                            return;
                        }
                    }
                })
                .map_err(|e| Self::fail(peer, format!("starting the validator: {e}")))?;
            let result = self.store_pages(peer, state, report, to_store, &provenance);
            // `to_store` is gone: the validator's next send fails and it stops, and
            // with it `received`, so the reader's next send fails too.
            let _ = validator.join();
            let _ = reader.join();
            result
        })
    }

    /// The reader stage of [`Federation::pull`]: request pages until the last one (or an
    /// error, sent as the last item), or until the storing side hangs up.
    fn read_pages(
        &self,
        peer: &Peer,
        start_after: Option<String>,
        pages: &std::sync::mpsc::SyncSender<Result<RemotePage, FederationError>>,
    ) {
        let mut next: Option<String> = None;
        // With `next`, a server (medallion) wants the parameters of the first request
        // again: `added_after` stays where the run started; without `next`, the next
        // request starts after the newest `date_added` read.
        let mut query_after = start_after;
        let mut newest: Option<Timestamp> = None;
        for _ in 0..MAX_PAGES_PER_RUN {
            let page = match self.read_page(peer, query_after.as_deref(), next.as_deref()) {
                Ok(page) => page,
                Err(e) => {
                    let _ = pages.send(Err(e));
                    return;
                }
            };
            let (more, token, last_added) = (page.more, page.next.clone(), page.last_added.clone());
            if let Some(t) = &last_added {
                if newest
                    .as_ref()
                    .is_none_or(|n| t.as_micros() > n.as_micros())
                {
                    newest = Some(t.clone());
                }
            }
            if pages.send(Ok(page)).is_err() || !more {
                return;
            }
            let continuation = match token {
                // medallion gives the same token for every page of a request.
                Some(token) if token.len() <= 4096 => Ok(Some(token)),
                Some(_) => Err("a next token longer than 4096 bytes"),
                None if last_added.is_some() => {
                    query_after = newest.as_ref().map(|c| c.as_str().to_string());
                    Ok(None)
                }
                None => {
                    Err("more=true without next or X-TAXII-Date-Added-Last: no way to continue")
                }
            };
            match continuation {
                Ok(token) => next = token,
                Err(e) => {
                    let _ = pages.send(Err(Self::fail(peer, e)));
                    return;
                }
            }
        }
        let _ = pages.send(Err(Self::fail(
            peer,
            format!("more than {MAX_PAGES_PER_RUN} pages in one run; continuing next run"),
        )));
    }

    /// Request one page and read it whole (bounded), its envelope checked.
    fn read_page(
        &self,
        peer: &Peer,
        added_after: Option<&str>,
        next: Option<&str>,
    ) -> Result<RemotePage, FederationError> {
        let query = Query {
            added_after: added_after.map(str::to_string),
            limit: Some(PAGE_LIMIT),
            next: next.map(str::to_string),
            versions: Some("all".into()),
            ..Query::default()
        };
        let url = format!("{}?{}", peer.collection_url(), query.to_query_string());
        let client = self.client_for(peer)?;
        let response = self.request(peer, || client.get(&url))?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|t| Timestamp::parse(t).ok())
        };
        let (first_added, last_added) = (
            header(headers::DATE_ADDED_FIRST),
            header(headers::DATE_ADDED_LAST),
        );
        let body = read_taxii(peer, response)?;
        if !status.is_success() {
            return Err(Self::fail(
                peer,
                format!("HTTP {}: {}", status.as_u16(), error_title(&body)),
            ));
        }
        let body = String::from_utf8(body)
            .map_err(|e| Self::fail(peer, format!("the page is not a TAXII envelope: {e}")))?;
        let envelope: Envelope<'_> = serde_json::from_str(&body)
            .map_err(|e| Self::fail(peer, format!("the page is not a TAXII envelope: {e}")))?;
        if envelope.objects.len() > MAX_PAGE_OBJECTS {
            return Err(Self::fail(
                peer,
                format!(
                    "a page of {} objects; at most {MAX_PAGE_OBJECTS} are accepted",
                    envelope.objects.len()
                ),
            ));
        }
        // Where each object's text lies in the body: the page travels as one buffer.
        let base = body.as_ptr() as usize;
        let objects = envelope
            .objects
            .iter()
            .map(|raw| {
                let start = (raw.get().as_ptr() as usize).wrapping_sub(base);
                start..start.saturating_add(raw.get().len())
            })
            .collect();
        Ok(RemotePage {
            more: envelope.more,
            next: envelope.next,
            first_added,
            last_added,
            objects,
            body,
        })
    }

    /// The storing stage of [`Federation::pull`]: each page's objects validated and
    /// stored (exactly once), then the cursor advanced and persisted.
    fn store_pages(
        &self,
        peer: &Peer,
        state: &mut PeerState,
        report: &mut RunReport,
        received: std::sync::mpsc::Receiver<Result<ValidatedPage, FederationError>>,
        provenance: &Provenance,
    ) -> Result<(), FederationError> {
        let mut stale_pages = 0;
        let mut candidate: Option<Timestamp> = None;
        for page in received {
            let page = page?;
            report.pages += 1;
            let before = (report.pulled, report.duplicates, report.rejected);
            let empty = page.prepared.is_empty();
            if !empty {
                self.store_page(peer, page.prepared, provenance, report)?;
            }
            state.objects_in += report.pulled - before.0;
            state.duplicates_in += report.duplicates - before.1;
            state.rejected_in += report.rejected - before.2;
            // The cursor persisted is the newest `date_added` known to have been read in
            // full: a page's last one is, once a later page starts after it (servers
            // may give several objects one `date_added`, and `added_after` excludes it).
            let cursor = state
                .pull_after
                .as_deref()
                .and_then(|c| Timestamp::parse(c).ok())
                .map(|c| c.as_micros());
            if let Some(t) = &page.last_added {
                if cursor.is_some_and(|c| t.as_micros() < c) && !empty {
                    return Err(Self::fail(
                        peer,
                        "the page's X-TAXII-Date-Added-Last is before added_after",
                    ));
                }
                if let (Some(c), Some(f)) = (&candidate, &page.first_added) {
                    if f.as_micros() > c.as_micros() {
                        state.pull_after = Some(c.as_str().to_string());
                    }
                }
                if candidate
                    .as_ref()
                    .is_none_or(|c| t.as_micros() > c.as_micros())
                {
                    candidate = Some(t.clone());
                }
                state.remote_newest = Some(t.as_str().to_string());
            }
            if !page.more {
                if let Some(c) = &candidate {
                    state.pull_after = Some(c.as_str().to_string());
                }
                state.caught_up = true;
                self.save(peer, state)?;
                return Ok(());
            }
            self.save(peer, state)?;
            let advanced = state
                .pull_after
                .as_deref()
                .and_then(|c| Timestamp::parse(c).ok())
                .map(|c| c.as_micros())
                != cursor;
            let fresh = report.pulled > before.0;
            stale_pages = if fresh || advanced {
                0
            } else {
                stale_pages + 1
            };
            if stale_pages >= MAX_STALE_PAGES {
                return Err(Self::fail(
                    peer,
                    format!(
                        "{MAX_STALE_PAGES} pages in a row that bring nothing new, each claiming more"
                    ),
                ));
            }
        }
        Err(Self::fail(
            peer,
            "the page reader stopped without a last page",
        ))
    }

    /// Validate and store one page's objects. A version the local collection already
    /// holds, from any provider (this node's own object coming back from the peer it
    /// was pushed to, or the same object from another peer), is a no-op: one version,
    /// one entry, whichever way it arrives.
    fn store_page(
        &self,
        peer: &Peer,
        prepared: Vec<Result<NewObject, Rejection>>,
        provenance: &Provenance,
        report: &mut RunReport,
    ) -> Result<(), FederationError> {
        let mut ids: Vec<String> = prepared
            .iter()
            .filter_map(|p| p.as_ref().ok().map(|o| o.id.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        let mut held = std::collections::HashSet::new();
        let mut held_ids = std::collections::HashSet::new();
        if !ids.is_empty() {
            let mut query =
                ObjectQuery::new(Scope::Collection(peer.local_collection.clone()), PAGE_LIMIT);
            query.ids = ids;
            query.versions = VersionFilter {
                all: true,
                ..VersionFilter::default()
            };
            for_each_row(&*self.store, query, |row| {
                held_ids.insert(row.id.clone());
                held.insert((row.id, row.version_micros));
                true
            })?;
        }
        let mut fresh = Vec::with_capacity(prepared.len());
        for item in prepared {
            match item {
                Ok(o) => {
                    // Unversioned objects (SCOs) never change: the id is the object.
                    let known = match &o.version {
                        Some(v) => held.contains(&(o.id.clone(), v.micros)),
                        None => held_ids.contains(&o.id),
                    };
                    if known {
                        report.duplicates += 1;
                    } else {
                        fresh.push(Ok(o));
                    }
                }
                Err(rejection) => fresh.push(Err(rejection)),
            }
        }
        let results = store_prepared(
            &*self.store,
            fresh,
            provenance,
            Some(&peer.local_collection),
        )?;
        for r in &results {
            match r {
                ObjectResult::Stored {
                    already_present: false,
                    ..
                } => report.pulled += 1,
                ObjectResult::Stored { .. } => report.duplicates += 1,
                ObjectResult::Rejected { rejection, .. } => {
                    report.rejected += 1;
                    tracing::warn!(target: "accord::federation", peer = %peer.name, %rejection, "object rejected");
                }
            }
        }
        Ok(())
    }

    fn push(
        &self,
        peer: &Peer,
        state: &mut PeerState,
        report: &mut RunReport,
    ) -> Result<(), FederationError> {
        let recipient = Recipient::new(peer.organisation.clone());
        let mut query =
            ObjectQuery::new(Scope::Collection(peer.local_collection.clone()), PUSH_BATCH);
        query.versions = VersionFilter {
            all: true,
            ..VersionFilter::default()
        };
        query.added_after = Some(state.push_after);
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES_PER_RUN {
            let page = self
                .egress
                .objects(&recipient, &query, next.as_deref())
                .map_err(|e| Self::fail(peer, format!("reading what the gate releases: {e}")))?;
            // Never back to the organisation it came from (no loops).
            let outgoing: Vec<&str> = page
                .objects
                .iter()
                .filter(|o| o.provider != peer.organisation)
                .map(|o| o.json.as_str())
                .collect();
            if !outgoing.is_empty() {
                let mut body = String::new();
                accord_taxii::envelope::write_envelope(&mut body, None, outgoing.iter().copied());
                let url = peer.collection_url();
                let client = self.client_for(peer)?;
                let response = self.request(peer, || {
                    client
                        .post(&url)
                        .header(reqwest::header::CONTENT_TYPE, media::TAXII_MEDIA_TYPE)
                        .body(body.clone())
                })?;
                let status = response.status();
                let text = read_taxii(peer, response)?;
                if !status.is_success() {
                    return Err(Self::fail(
                        peer,
                        format!("HTTP {} to a push: {}", status.as_u16(), error_title(&text)),
                    ));
                }
                let result: accord_taxii::Status = serde_json::from_slice(&text).map_err(|e| {
                    Self::fail(peer, format!("the push's answer is not a status: {e}"))
                })?;
                report.pushed += result.success_count;
                state.objects_out += result.success_count;
                report.pages += 1;
            }
            if let Some(last) = page.objects.last() {
                state.push_after = state.push_after.max(last.date_added);
            }
            self.save(peer, state)?;
            match (page.more, page.next) {
                (true, Some(token)) => next = Some(token),
                _ => return Ok(()),
            }
        }
        Ok(())
    }
}

/// The wait a 429/503 asks for: its `Retry-After`, in seconds or as an HTTP-date
/// ([`retry_wait`]); `None` when absent or unreadable (the backoff applies).
fn retry_after(response: &reqwest::blocking::Response) -> Option<Duration> {
    let text = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    retry_wait(text, std::time::SystemTime::now())
}

/// The wait a `Retry-After` value asks for at `now` (RFC 9110 section 10.2.3): a
/// number of seconds, or an HTTP-date (IMF-fixdate, and the obsolete RFC 850 and
/// asctime forms a recipient must accept), a date in the past meaning "now". `None`
/// for anything else. The caller bounds the wait by [`MAX_RETRY_WAIT`]; a huge value
/// saturates rather than overflows.
pub fn retry_wait(text: &str, now: std::time::SystemTime) -> Option<Duration> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(text.parse::<u64>().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Read a TAXII response body: at most [`MAX_PAGE_BYTES`], and only TAXII 2.1 JSON
/// (an error body of another type is read, bounded, for its words).
fn read_taxii(
    peer: &Peer,
    response: reqwest::blocking::Response,
) -> Result<Vec<u8>, FederationError> {
    let taxii = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(media::is_taxii_21);
    let success = response.status().is_success();
    if let Some(length) = response.content_length() {
        if length > MAX_PAGE_BYTES {
            return Err(Federation::fail(
                peer,
                format!("a response of {length} bytes; at most {MAX_PAGE_BYTES} are read"),
            ));
        }
    }
    let mut body = Vec::new();
    response
        .take(MAX_PAGE_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|e| Federation::fail(peer, format!("reading the response: {e}")))?;
    if body.len() as u64 > MAX_PAGE_BYTES {
        return Err(Federation::fail(
            peer,
            format!("a response over {MAX_PAGE_BYTES} bytes"),
        ));
    }
    if success && !taxii {
        return Err(Federation::fail(
            peer,
            "the response is not application/taxii+json;version=2.1",
        ));
    }
    Ok(body)
}

/// An error and its causes in one line ("error sending request …: connection refused").
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let words = cause.to_string();
        if !text.contains(&words) {
            text.push_str(": ");
            text.push_str(&words);
        }
        source = cause.source();
    }
    text
}

fn error_title(body: &[u8]) -> String {
    serde_json::from_slice::<accord_taxii::ErrorMessage>(body)
        .map(|e| match e.description {
            Some(d) => format!("{}: {d}", e.title),
            None => e.title,
        })
        .unwrap_or_else(|_| clip(&String::from_utf8_lossy(body)))
}

fn clip(text: &str) -> String {
    if text.len() <= MAX_ERROR_LEN {
        return text.to_string();
    }
    let mut end = MAX_ERROR_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// How often the scheduler looks for peers that are due.
pub const SCHEDULER_TICK: Duration = Duration::from_millis(500);

impl Federation {
    /// Run every peer on its interval until `stop` is set (inside `accord serve`, on
    /// its own thread). A peer is due when its last attempt is older than its interval
    /// (or it never ran); a failure is retried on the next interval, so a sync that
    /// stops working shows in `accord peer status` and `/metrics` within one interval.
    pub fn run_scheduled(&self, stop: &std::sync::atomic::AtomicBool) {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let now = Timestamp::now().as_micros();
            match peers(&*self.store) {
                Ok(entries) => {
                    for entry in entries {
                        if stop.load(std::sync::atomic::Ordering::Relaxed) {
                            return;
                        }
                        let last = entry
                            .state
                            .last_attempt
                            .as_deref()
                            .and_then(|t| Timestamp::parse(t).ok())
                            .map(|t| t.as_micros());
                        let interval = i64::try_from(entry.peer.interval_secs)
                            .unwrap_or(i64::MAX)
                            .saturating_mul(1_000_000);
                        if last.is_none_or(|l| now.saturating_sub(l) >= interval) {
                            match self.sync(&entry.peer.name) {
                                Ok(r) => {
                                    tracing::info!(target: "accord::federation", peer = %entry.peer.name, pulled = r.pulled, duplicates = r.duplicates, rejected = r.rejected, pushed = r.pushed, "sync")
                                }
                                Err(e) => {
                                    tracing::warn!(target: "accord::federation", peer = %entry.peer.name, error = %e, "sync failed")
                                }
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(target: "accord::federation", error = %e, "reading the peers")
                }
            }
            std::thread::sleep(SCHEDULER_TICK);
        }
    }
}

/// One metric: name, type, help, and its value from a peer's state.
type Series = (
    &'static str,
    &'static str,
    &'static str,
    fn(&PeerState) -> Option<f64>,
);

/// The peers' state as Prometheus text (appended to `/metrics`): per peer, the time of
/// the last success, objects in and out, rejected objects, the pull lag, consecutive
/// failures, and whether the last run failed (its error is in `accord peer status`).
pub fn render_metrics(entries: &[PeerEntry]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let series: [Series; 9] = [
        (
            "accord_peer_last_success_seconds",
            "gauge",
            "Unix time of the peer's last successful sync.",
            |s| {
                s.last_success
                    .as_deref()
                    .and_then(|t| Timestamp::parse(t).ok())
                    .map(|t| t.as_micros() as f64 / 1e6)
            },
        ),
        (
            "accord_peer_objects_in_total",
            "counter",
            "Object versions stored from the peer.",
            |s| Some(s.objects_in as f64),
        ),
        (
            "accord_peer_duplicates_in_total",
            "counter",
            "Object versions the peer sent that were already held.",
            |s| Some(s.duplicates_in as f64),
        ),
        (
            "accord_peer_rejected_in_total",
            "counter",
            "Objects from the peer that failed validation.",
            |s| Some(s.rejected_in as f64),
        ),
        (
            "accord_peer_objects_out_total",
            "counter",
            "Object versions the peer accepted from this node.",
            |s| Some(s.objects_out as f64),
        ),
        (
            "accord_peer_deletions_in_total",
            "counter",
            "Object versions removed here because the peer deleted them.",
            |s| Some(s.deletions_in as f64),
        ),
        (
            "accord_peer_deletions_out_total",
            "counter",
            "DELETEs the peer accepted from this node.",
            |s| Some(s.deletions_out as f64),
        ),
        (
            "accord_peer_lag_seconds",
            "gauge",
            "How far the newest remote date_added seen is ahead of the pull cursor.",
            |s| s.lag_seconds().map(|l| l as f64),
        ),
        (
            "accord_peer_consecutive_failures",
            "gauge",
            "Sync runs that failed since the last success.",
            |s| Some(f64::from(s.consecutive_failures)),
        ),
    ];
    for (name, kind, help, value) in series {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for e in entries {
            if let Some(v) = value(&e.state) {
                let _ = writeln!(out, "{name}{{peer=\"{}\"}} {v}", e.peer.name);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> Peer {
        Peer {
            name: "cert-b".into(),
            url: "https://b.example/api1/".into(),
            collection: "91a7b528-80eb-42ed-a74d-c6fbd5a26116".into(),
            organisation: "cert-b".into(),
            local_collection: "c".into(),
            direction: Direction::Both,
            interval_secs: 300,
            credentials: Credentials::Token { env: "T".into() },
            ca_cert: None,
        }
    }

    #[test]
    fn definitions_are_checked() {
        assert!(peer().validate().is_ok());
        for bad in [
            Peer {
                name: "a b".into(),
                ..peer()
            },
            Peer {
                url: "ftp://b.example/".into(),
                ..peer()
            },
            Peer {
                collection: "../x/".into(),
                ..peer()
            },
            Peer {
                interval_secs: 0,
                ..peer()
            },
            Peer {
                url: "http://b.example/api1/".into(),
                ca_cert: Some("/etc/ca.pem".into()),
                ..peer()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        assert_eq!(
            peer().collection_url(),
            "https://b.example/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/objects/"
        );
    }

    #[test]
    fn lag_is_how_far_the_remote_is_ahead_of_the_cursor() {
        let mut s = PeerState::default();
        assert_eq!(s.lag_seconds(), None);
        s.remote_newest = Some("2026-01-01T00:10:00Z".into());
        s.pull_after = Some("2026-01-01T00:00:00Z".into());
        assert_eq!(s.lag_seconds(), Some(600));
        s.caught_up = true;
        assert_eq!(s.lag_seconds(), Some(0));
    }

    #[test]
    fn metrics_name_each_peer() {
        let entry = PeerEntry {
            peer: peer(),
            state: PeerState {
                objects_in: 7,
                consecutive_failures: 2,
                ..PeerState::default()
            },
        };
        let text = render_metrics(&[entry]);
        assert!(
            text.contains("accord_peer_objects_in_total{peer=\"cert-b\"} 7"),
            "{text}"
        );
        assert!(
            text.contains("accord_peer_consecutive_failures{peer=\"cert-b\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("accord_peer_deletions_in_total{peer=\"cert-b\"} 0"),
            "{text}"
        );
        assert!(
            !text.contains("accord_peer_last_success_seconds{"),
            "{text}"
        );
    }

    /// `accord serve` and the tests make a `Federation` where they like, an async
    /// runtime's worker included: construction must not panic there (the blocking
    /// client waits for its internal runtime, which tokio forbids on a worker).
    #[test]
    fn construction_is_safe_on_an_async_worker() {
        let store: Arc<dyn Store> = Arc::new(accord_store::SqliteStore::open_in_memory().unwrap());
        let egress = Arc::new(Egress::new(store.clone(), "telco"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let made = runtime.block_on(async move {
            tokio::spawn(async move {
                // Made and dropped on the worker.
                Federation::new(store, egress).is_ok()
            })
            .await
        });
        assert!(matches!(made, Ok(true)), "{made:?}");
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        use std::time::{SystemTime, UNIX_EPOCH};
        // 1994-11-06T08:49:37Z, the date of RFC 9110's examples.
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(retry_wait("120", now), Some(Duration::from_secs(120)));
        assert_eq!(retry_wait(" 0 ", now), Some(Duration::ZERO));
        // The three forms of HTTP-date, 30 s ahead of now.
        for date in [
            "Sun, 06 Nov 1994 08:50:07 GMT",
            "Sunday, 06-Nov-94 08:50:07 GMT",
            "Sun Nov  6 08:50:07 1994",
        ] {
            assert_eq!(
                retry_wait(date, now),
                Some(Duration::from_secs(30)),
                "{date}"
            );
        }
        // A date in the past: retry now. A day ahead: longer than honoured.
        assert_eq!(
            retry_wait("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert!(retry_wait("Mon, 07 Nov 1994 08:49:37 GMT", now).unwrap() > MAX_RETRY_WAIT);
        // Huge numbers saturate; anything else is not a wait.
        assert!(retry_wait("99999999999999999999999", now).unwrap() > MAX_RETRY_WAIT);
        for bad in ["", "-5", "1.5", "soon", "Sun, 06 Nov 1994 25:00:00 GMT"] {
            assert_eq!(retry_wait(bad, now), None, "{bad:?}");
        }
        assert!(
            retry_wait("Sun, 06 Nov 1994 08:49:37 GMT", SystemTime::now()) == Some(Duration::ZERO)
        );
    }

    #[test]
    fn errors_are_clipped_on_a_character_boundary() {
        let long = "é".repeat(MAX_ERROR_LEN);
        let clipped = clip(&long);
        assert!(clipped.len() <= MAX_ERROR_LEN + "…".len());
    }
}
