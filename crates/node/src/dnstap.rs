//! The dnstap intake of the collector: resolvers connect over a Unix or TCP socket and
//! stream their queries and answers (Frame Streams, bidirectional handshake as Unbound,
//! BIND and Knot speak it, or unidirectional); the frames reach the collector's one
//! pass, where matching, the C2 detector (DGA, names of destinations) and the
//! look-alike (phishing) detector see them as DNS records.
//!
//! One thread accepts, one thread per connection reads. Frames travel to the
//! collector in batches (a buffer of length-prefixed frames, at most
//! [`BATCH_BYTES`]) over a bounded channel of [`QUEUE_BATCHES`]; emptied buffers come
//! back through a second channel, so the steady state allocates nothing per frame.
//! When the collector falls behind, the resolver's connection is read more slowly (its
//! own dnstap queue then drops, as dnstap senders are designed to), never this
//! process's memory. Decoding is `accord_telemetry::dnstap`, in the collector's thread.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use accord_telemetry::dnstap::{self, ControlType, DnstapError, Frame};
use ipnet::IpNet;

/// Bytes of frames gathered before a batch goes to the collector.
pub const BATCH_BYTES: usize = 64 * 1024;

/// Batches waiting for the collector at most (with [`BATCH_BYTES`]: 4 MiB).
pub const QUEUE_BATCHES: usize = 64;

/// Resolver connections served at once; more are refused (closed) and counted.
pub const MAX_CONNECTIONS: usize = 64;

/// How often blocked reads and accepts look at the stop flag.
const POLL: Duration = Duration::from_millis(200);

/// Where the collector listens for dnstap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnstapAddr {
    /// A Unix stream socket (`unix:/run/accord/dnstap.sock`, or a bare absolute path).
    Unix(PathBuf),
    /// A TCP address (`tcp:127.0.0.1:6000`).
    Tcp(SocketAddr),
}

impl std::str::FromStr for DnstapAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(p) = s.strip_prefix("unix:") {
            return Ok(DnstapAddr::Unix(PathBuf::from(p)));
        }
        if let Some(a) = s.strip_prefix("tcp:") {
            return a
                .parse()
                .map(DnstapAddr::Tcp)
                .map_err(|e| format!("'{s}': {e}"));
        }
        if s.starts_with('/') {
            return Ok(DnstapAddr::Unix(PathBuf::from(s)));
        }
        Err(format!(
            "'{s}': expected unix:/path/to/socket, an absolute path, or tcp:ADDR:PORT"
        ))
    }
}

impl std::fmt::Display for DnstapAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DnstapAddr::Unix(p) => write!(f, "unix:{}", p.display()),
            DnstapAddr::Tcp(a) => write!(f, "tcp:{a}"),
        }
    }
}

/// Counters of the intake, shared with its threads.
#[derive(Debug, Default)]
pub struct DnstapCounters {
    /// Resolver connections accepted.
    pub connections: AtomicU64,
    /// Connections refused for [`MAX_CONNECTIONS`].
    pub refused_connections: AtomicU64,
    /// TCP connections refused: the sender is neither on loopback nor allowed.
    pub refused_senders: AtomicU64,
    /// Data frames received.
    pub frames: AtomicU64,
    /// Connections ended by a broken stream (a frame too long, a bad control frame, a
    /// content type other than dnstap's).
    pub broken_streams: AtomicU64,
}

/// The collector's end of the intake: batches of frames to decode.
#[derive(Debug)]
pub struct DnsFeed {
    batches: Receiver<Vec<u8>>,
    empties: Sender<Vec<u8>>,
    /// The intake's counters.
    pub counters: Arc<DnstapCounters>,
    /// The address listened on (a TCP port of 0 resolved).
    pub local: DnstapAddr,
}

impl DnsFeed {
    /// Calls `f` with every frame that has arrived, without waiting.
    pub fn drain(&self, mut f: impl FnMut(&[u8])) {
        while let Ok(mut batch) = self.batches.try_recv() {
            let mut at = 0;
            while let Some(len) = batch.get(at..at + 4) {
                let n = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
                if let Some(frame) = batch.get(at + 4..at + 4 + n) {
                    f(frame);
                }
                at += 4 + n;
            }
            batch.clear();
            let _ = self.empties.send(batch);
        }
    }
}

/// Binds `addr` and starts accepting resolvers until `stop` is set. A Unix socket
/// path left by an earlier run is replaced, and the new one is readable and writable
/// by its owner and group only. Over TCP, only resolvers on loopback or in `senders`
/// are served: whoever can write dnstap can make the detectors see DNS answers that
/// never happened, so the door is closed by default; others are closed at once and
/// counted ([`DnstapCounters::refused_senders`]).
pub fn listen(
    addr: &DnstapAddr,
    senders: Vec<IpNet>,
    stop: Arc<AtomicBool>,
) -> io::Result<(DnsFeed, JoinHandle<()>)> {
    let (batch_tx, batch_rx) = mpsc::sync_channel(QUEUE_BATCHES);
    let (empty_tx, empty_rx) = mpsc::channel();
    let counters = Arc::new(DnstapCounters::default());
    let shared = Shared {
        batches: batch_tx,
        empties: Arc::new(std::sync::Mutex::new(empty_rx)),
        counters: counters.clone(),
        stop,
        open: Arc::new(AtomicU64::new(0)),
    };
    let (local, handle) = match addr {
        DnstapAddr::Unix(path) => {
            if path.exists() {
                std::fs::remove_file(path)?;
            }
            let l = UnixListener::bind(path)?;
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
            }
            l.set_nonblocking(true)?;
            let handle = std::thread::spawn(move || {
                accept_loop(&shared, || match l.accept() {
                    Ok((s, _)) => Ok(Some(Conn::Unix(s))),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
                    Err(e) => Err(e),
                })
            });
            (addr.clone(), handle)
        }
        DnstapAddr::Tcp(a) => {
            let l = TcpListener::bind(a)?;
            l.set_nonblocking(true)?;
            let local = DnstapAddr::Tcp(l.local_addr()?);
            let counters = shared.counters.clone();
            let handle = std::thread::spawn(move || {
                accept_loop(&shared, || match l.accept() {
                    Ok((s, peer)) => {
                        if sender_allowed(peer.ip(), &senders) {
                            Ok(Some(Conn::Tcp(s)))
                        } else {
                            counters.refused_senders.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(%peer, "dnstap: a sender outside --dnstap-from refused");
                            Ok(None)
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
                    Err(e) => Err(e),
                })
            });
            (local, handle)
        }
    };
    Ok((
        DnsFeed {
            batches: batch_rx,
            empties: empty_tx,
            counters,
            local,
        },
        handle,
    ))
}

/// Whether a TCP sender at `ip` may stream dnstap: loopback, or inside `senders`.
pub fn sender_allowed(ip: std::net::IpAddr, senders: &[IpNet]) -> bool {
    let ip = ip.to_canonical();
    ip.is_loopback() || senders.iter().any(|n| n.contains(&ip))
}

/// Parses `--dnstap-from` / `dnstap_from` values: networks in CIDR notation, or single
/// addresses.
pub fn parse_senders<S: AsRef<str>>(values: &[S]) -> Result<Vec<IpNet>, String> {
    values
        .iter()
        .map(|v| {
            let v = v.as_ref().trim();
            v.parse::<IpNet>()
                .or_else(|_| v.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("'{v}' is not an address or a network (CIDR)"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_and_listed_senders_may_stream() {
        let senders = parse_senders(&["192.0.2.0/24", "2001:db8::53"]).unwrap_or_default();
        assert!(sender_allowed([127, 0, 0, 1].into(), &[]));
        assert!(sender_allowed("::1".parse().unwrap_or([0; 4].into()), &[]));
        assert!(
            !sender_allowed([192, 0, 2, 7].into(), &[]),
            "closed by default"
        );
        assert!(sender_allowed([192, 0, 2, 7].into(), &senders));
        assert!(sender_allowed(
            "::ffff:192.0.2.7".parse().unwrap_or([0; 4].into()),
            &senders
        ));
        assert!(!sender_allowed([198, 51, 100, 7].into(), &senders));
        assert!(sender_allowed(
            "2001:db8::53".parse().unwrap_or([0; 4].into()),
            &senders
        ));
        assert!(parse_senders(&["nowhere"]).is_err());
    }
}

#[derive(Clone)]
struct Shared {
    batches: SyncSender<Vec<u8>>,
    empties: Arc<std::sync::Mutex<Receiver<Vec<u8>>>>,
    counters: Arc<DnstapCounters>,
    stop: Arc<AtomicBool>,
    open: Arc<AtomicU64>,
}

enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    fn prepare(&self) -> io::Result<()> {
        match self {
            Conn::Unix(s) => {
                s.set_nonblocking(false)?;
                s.set_read_timeout(Some(POLL))
            }
            Conn::Tcp(s) => {
                s.set_nonblocking(false)?;
                s.set_read_timeout(Some(POLL))
            }
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.write(buf),
            Conn::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.flush(),
            Conn::Tcp(s) => s.flush(),
        }
    }
}

fn accept_loop(shared: &Shared, mut accept: impl FnMut() -> io::Result<Option<Conn>>) {
    while !shared.stop.load(Ordering::Relaxed) {
        match accept() {
            Ok(Some(conn)) => {
                if shared.open.load(Ordering::Relaxed) >= MAX_CONNECTIONS as u64 {
                    shared
                        .counters
                        .refused_connections
                        .fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                shared.counters.connections.fetch_add(1, Ordering::Relaxed);
                shared.open.fetch_add(1, Ordering::Relaxed);
                let s = shared.clone();
                std::thread::spawn(move || {
                    if let Err(e) = serve(conn, &s) {
                        s.counters.broken_streams.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!("dnstap: connection ended: {e}");
                    }
                    s.open.fetch_sub(1, Ordering::Relaxed);
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                tracing::warn!("dnstap: accept failed: {e}");
                std::thread::sleep(POLL);
            }
        }
    }
}

/// Why a connection ended early.
#[derive(Debug, thiserror::Error)]
enum StreamError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Frame(#[from] DnstapError),
    #[error("the sender offers no `protobuf:dnstap.Dnstap` content type")]
    ContentType,
}

/// Reads one resolver's stream: the handshake (READY → ACCEPT in bidirectional mode),
/// data frames into batches, STOP → FINISH.
fn serve(mut conn: Conn, shared: &Shared) -> Result<(), StreamError> {
    conn.prepare()?;
    let mut buf: Vec<u8> = Vec::with_capacity(dnstap::MAX_FRAME + 8);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut batch = fresh_batch(shared);
    let mut reply = Vec::new();
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            send(shared, &mut batch);
            return Ok(());
        }
        let n = match conn.read(&mut chunk) {
            Ok(0) => {
                send(shared, &mut batch);
                return Ok(());
            }
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                send(shared, &mut batch);
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        let mut at = 0;
        while let Some((frame, used)) = dnstap::frame(buf.get(at..).unwrap_or(&[]))? {
            at += used;
            match frame {
                Frame::Data(d) => {
                    shared.counters.frames.fetch_add(1, Ordering::Relaxed);
                    batch.extend_from_slice(&(d.len() as u32).to_be_bytes());
                    batch.extend_from_slice(d);
                    if batch.len() >= BATCH_BYTES {
                        send(shared, &mut batch);
                    }
                }
                Frame::Control { kind, dnstap } => match kind {
                    ControlType::Ready | ControlType::Start if !dnstap => {
                        return Err(StreamError::ContentType)
                    }
                    ControlType::Ready => {
                        reply.clear();
                        dnstap::control_frame(ControlType::Accept, &mut reply);
                        conn.write_all(&reply)?;
                    }
                    ControlType::Stop => {
                        send(shared, &mut batch);
                        reply.clear();
                        dnstap::control_frame(ControlType::Finish, &mut reply);
                        // A unidirectional sender does not read: a failed write is fine.
                        let _ = conn.write_all(&reply);
                        return Ok(());
                    }
                    _ => {}
                },
            }
        }
        buf.drain(..at);
    }
}

fn fresh_batch(shared: &Shared) -> Vec<u8> {
    shared
        .empties
        .lock()
        .ok()
        .and_then(|r| r.try_recv().ok())
        .unwrap_or_else(|| Vec::with_capacity(BATCH_BYTES + dnstap::MAX_FRAME))
}

/// Hands a non-empty batch to the collector, waiting while its queue is full (the
/// resolver's connection is then read more slowly).
fn send(shared: &Shared, batch: &mut Vec<u8>) {
    if batch.is_empty() {
        return;
    }
    let mut full = std::mem::replace(batch, fresh_batch(shared));
    loop {
        match shared.batches.try_send(full) {
            Ok(()) => return,
            Err(TrySendError::Full(b)) => {
                if shared.stop.load(Ordering::Relaxed) {
                    return;
                }
                full = b;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(TrySendError::Disconnected(_)) => return,
        }
    }
}
