//! Accord's TAXII 2.1 server: the HTTP edge of a node.
//!
//! Every TAXII 2.1 endpoint (discovery, API roots, status, collections, objects,
//! object, versions, manifest) with the specification's filtering, pagination, media
//! types and error messages; organisations, users (HTTP Basic, argon2id) and API
//! tokens (Bearer) with per-collection read/write rights from the node configuration;
//! request logs, Prometheus metrics, health, TLS, graceful shutdown. Objects leave
//! only through the node's egress door ([`accord_node::egress`]) and arrive only
//! through its ingest ([`accord_node::ingest`]).
//!
//! # Layout
//! - [`state`]: shared state, access rules (swapped whole on reload).
//! - [`router`]: routes and layers (log + metrics, authentication, admission).
//! - [`admission`]: per-organisation and server-wide slots, body read timeouts.
//! - [`handlers`]: one module per TAXII resource, plus health/metrics/OpenAPI.
//! - [`auth`]: Basic and Bearer authentication.
//! - [`params`]: `added_after`, `limit`, `next`, `match[...]`.
//! - [`envelope`]: response bodies for pages, written straight into one buffer.
//! - [`media`]: content negotiation (406, 415).
//! - [`error`]: TAXII error messages.
//! - [`metrics`]: the Prometheus exposition.
//! - [`openapi`]: the OpenAPI document, generated from the handlers and `accord_taxii`'s types.
//! - [`serve`]: the accept loop, TLS, connection cap, graceful shutdown.
//! - [`tls`]: rustls (ring) set-up.
//! - [`reload`]: configuration changes while serving.
//!
//! # Example
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use accord_node::config::Config;
//! let config = Config::load("accord-data/accord.toml".as_ref())?;
//! let store = Arc::new(accord_store::SqliteStore::open(config.store_path())?);
//! let state = accord_server::AppState::new(config, store)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9443").await?;
//! accord_server::run(listener, state, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admission;
pub mod auth;
pub mod envelope;
pub mod error;
pub mod handlers;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod reload;
pub mod router;
pub mod serve;
pub mod state;
pub mod tls;

use std::future::Future;

pub use error::TaxiiError;
pub use router::router;
pub use state::{AppState, StateError};

/// Serve `state` on `listener` (HTTPS when the configuration has `[server.tls]`) until
/// `shutdown` completes, then finish the requests in progress and return. While
/// serving, changes to the configuration file are picked up ([`reload`]).
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let access = state.access();
    let server = &access.config.server;
    let app = router(state.clone(), server.max_concurrent_requests);
    let (stop_watch, watch_stopped) = tokio::sync::oneshot::channel::<()>();
    let file = access.config.file.clone();
    if file.is_file() {
        let watched = state.clone();
        tokio::spawn(reload::watch(watched, file, async {
            let _ = watch_stopped.await;
        }));
    }
    let tls = state.tls.clone();
    let connections = serve::Connections {
        max: server.max_connections,
        header_read_timeout: server.header_read_timeout(),
    };
    let result = serve::serve(listener, app, tls, connections, shutdown).await;
    let _ = stop_watch.send(());
    result
}
