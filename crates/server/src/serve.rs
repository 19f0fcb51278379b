//! The accept loop: plain TCP or TLS, HTTP/1.1, a cap on open connections, and a
//! graceful shutdown that stops accepting, lets requests in progress finish (up to
//! [`SHUTDOWN_GRACE`]) and then returns.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

/// How long requests in progress get to finish after shutdown is asked for.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How long a TLS handshake may take.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Limits on connections.
#[derive(Debug, Clone, Copy)]
pub struct Connections {
    /// Open connections at once; further ones wait in the listen backlog.
    pub max: usize,
    /// How long a client may take to send a request's headers, and an idle kept-alive
    /// connection may wait for its next request (slow clients hold a connection slot).
    pub header_read_timeout: Duration,
}

/// Serve `app` on `listener` until `shutdown` completes, then drain.
///
/// `tls`: speak HTTPS with this acceptor.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    limits: Connections,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max.max(1)));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait, then go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let watcher = graceful.watcher();
        let (app, tls) = (app.clone(), tls.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let timeout = limits.header_read_timeout;
            if let Err(e) = connection(stream, app, tls, timeout, watcher).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "shutting down: draining connections"
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!("shutdown grace period over; closing"),
    }
    Ok(())
}

async fn connection(
    stream: TcpStream,
    app: Router,
    tls: Option<TlsAcceptor>,
    header_read_timeout: Duration,
    watcher: hyper_util::server::graceful::Watcher,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let service = TowerToHyperService::new(app);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    match tls {
        None => {
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            watcher.watch(conn).await?;
        }
        Some(acceptor) => {
            let stream =
                tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await??;
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            watcher.watch(conn).await?;
        }
    }
    Ok(())
}
