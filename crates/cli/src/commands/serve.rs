//! `accord serve`: the TAXII 2.1 server.
//!
//! With no configuration given and none at `./accord-data/accord.toml`, it first
//! initialises `./accord-data` (as `accord init` would) and then serves it, so a
//! newcomer's first run is one command.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use accord_node::config::Config;
use accord_server::AppState;
use anyhow::Context as _;

use super::init::{config_path, initialise, report};
use crate::context::{GlobalArgs, DEFAULT_DATA_DIR};

/// Serve TAXII 2.1 until interrupted (Ctrl-C or SIGTERM: requests in progress finish).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  accord serve\n  accord serve --config /srv/accord/accord.toml --listen 0.0.0.0:9443\n\nLogs: RUST_LOG=debug accord serve"
)]
pub struct ServeArgs {
    /// Address and port to listen on [default: the configuration's server.listen]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
}

pub fn run(global: &GlobalArgs, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let path = config_path(global);
    if global.config.is_none() && !path.exists() {
        let made = initialise(
            Path::new(DEFAULT_DATA_DIR),
            "local",
            accord_node::config::DEFAULT_LISTEN,
            global.db.as_deref(),
        )?;
        report(&made);
    }
    let config = Config::load(&path)?;
    let listen = args.listen.unwrap_or(config.server.listen);
    let store_path = global.db.clone().unwrap_or_else(|| config.store_path());
    let store = accord_store::SqliteStore::open(&store_path)
        .with_context(|| format!("opening the store {}", store_path.display()))?;
    crate::context::refresh_facts(&store, &store_path)?;
    crate::context::backfill_analytics(&store, &store_path)?;
    let agreements_dir = config.agreements_dir();
    let gate = accord_node::agreements::load_node_gate(&config).map_err(|e| {
        anyhow::anyhow!(
            "loading the agreements in {}:\n{e}",
            agreements_dir.display()
        )
    })?;
    let agreements = gate.agreements().len();
    let store: Arc<dyn accord_store::Store> = Arc::new(store);
    accord_node::agreements::publish_obligations(
        &*store,
        &gate,
        &config.server.organisation,
        &crate::context::collection_ids(&config),
    )
    .context("storing the agreements' obligation markings")?;
    // `[telemetry]`: the flow collector, on its own thread until the server stops.
    let collector_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let collector =
        accord_node::collector::spawn_for_serve(&config, &store_path, collector_stop.clone())?;
    let (enrich_store, enrich_config) = (store.clone(), config.clone());
    let state = AppState::new(config, store.clone()).context("setting up the server")?;
    state.set_agreements(gate);
    // Federation: every peer on its interval, on its own thread, through the server's
    // door out (the same gate, the same ledger).
    let federation_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let federation = {
        let fed = accord_node::federation::Federation::new(store, state.egress())
            .context("starting federation")?;
        let stop = federation_stop.clone();
        std::thread::Builder::new()
            .name("federation".into())
            .spawn(move || fed.run_scheduled(&stop))
            .context("starting the federation thread")?
    };
    // Every partner's release views kept decided, so that a request's wait does not
    // measure what the collection holds beyond what it may read.
    let views_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let views = {
        let egress = state.egress();
        let stop = views_stop.clone();
        std::thread::Builder::new()
            .name("release-views".into())
            .spawn(move || accord_node::egress::keep_views_fresh(&egress, &stop))
            .context("starting the release views thread")?
    };
    // The hub's enrichment kept current (a store `accord enrich` named databases for).
    let enrich_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let enricher = {
        let egress = state.egress();
        let store = enrich_store;
        let config = enrich_config;
        let stop = enrich_stop.clone();
        std::thread::Builder::new()
            .name("enrichment".into())
            .spawn(move || {
                accord_node::enrich_keeper::keep_enriched(&*store, &egress, &config, &stop)
            })
            .context("starting the enrichment thread")?
    };
    tracing::info!(agreements, dir = %agreements_dir.display(), "agreements loaded");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let scheme = if state.access().config.tls_paths().is_some() { "https" } else { "http" };
        let bound = listener.local_addr().unwrap_or(listen);
        tracing::info!(config = %path.display(), store = %store_path.display(), "accord serve: {scheme}://{bound}/taxii2/");
        eprintln!("Serving TAXII 2.1 at {scheme}://{bound}/taxii2/ (Ctrl-C to stop)");
        accord_server::run(listener, state, shutdown_signal()).await.context("serving")
    });
    // The collector finishes its open window and stores it before the process ends.
    collector_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(handle) = collector {
        let _ = handle.join();
    }
    federation_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = federation.join();
    views_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = views.join();
    enrich_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = enricher.join();
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Log lines to standard error; `RUST_LOG` chooses what (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Completes on Ctrl-C or (on Unix) SIGTERM (`accord serve`, and the collector's
/// signal thread).
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown requested");
}
