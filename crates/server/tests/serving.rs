//! The real server on a loopback socket: plain HTTP, TLS, graceful shutdown, reload.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

async fn raw_http<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    request: &str,
) -> String {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn get_request(path: &str, who: Who) -> String {
    let auth = authorization(who)
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n")
}

#[tokio::test]
async fn serves_on_a_socket_and_shuts_down_gracefully() {
    let f = fixture();
    let server = serve(f.state.clone()).await;
    let addr = server.addr;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let reply = raw_http(&mut stream, &get_request("/healthz", Who::Nobody)).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let reply = raw_http(&mut stream, &get_request("/taxii2/", Who::Telco)).await;
    assert!(
        reply.starts_with("HTTP/1.1 200") && reply.contains("http://localhost/intel/"),
        "{reply}"
    );
    server.stop().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn configuration_changes_are_picked_up_while_serving() {
    let f = fixture();
    let server = serve(f.state.clone()).await;
    let addr = server.addr;
    // Once serving, revoke cert's token by editing the file as `accord token revoke` would.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert!(raw_http(&mut stream, &get_request("/taxii2/", Who::Cert))
        .await
        .starts_with("HTTP/1.1 200"));
    let mut editor = accord_node::config::edit::ConfigEditor::open(&f.config_path()).unwrap();
    editor.remove_token("cert", "t").unwrap();
    editor.save().unwrap();
    let mut revoked = false;
    for _ in 0..50 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let reply = raw_http(&mut stream, &get_request("/taxii2/", Who::Cert)).await;
        if reply.starts_with("HTTP/1.1 401") {
            revoked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(revoked, "the revoked token still works");
    server.stop().await;
}

#[tokio::test]
async fn serves_https_with_the_configured_certificate() {
    use tokio_rustls::rustls::{self, pki_types::ServerName, ClientConfig, RootCertStore};

    accord_server::tls::install_ring_provider();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let tls = format!(
        "[server.tls]\ncertificate = \"{}\"\nkey = \"{}\"",
        dir.path().join("cert.pem").display(),
        dir.path().join("key.pem").display()
    );
    // [server.tls] must come after the plain [server] keys: append it at the end.
    let f = fixture();
    let text = std::fs::read_to_string(f.config_path()).unwrap() + "\n" + &tls + "\n";
    std::fs::write(f.config_path(), text).unwrap();
    let config = accord_node::config::Config::load(&f.config_path()).unwrap();
    let state = accord_server::AppState::new(config, f.state.store().clone()).unwrap();

    let server = serve(state).await;
    let addr = server.addr;

    let mut roots = RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let client =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut stream = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let reply = raw_http(&mut stream, &get_request("/taxii2/", Who::Telco)).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("https://localhost/intel/"), "{reply}");
    server.stop().await;
}

#[tokio::test]
async fn bad_tls_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.pem"), "").unwrap();
    let Err(e) =
        accord_server::tls::acceptor(&dir.path().join("empty.pem"), &dir.path().join("empty.pem"))
    else {
        panic!("an empty certificate file was accepted")
    };
    assert!(e.to_string().contains("no PEM certificate"), "{e}");
    let Err(e) =
        accord_server::tls::acceptor(&dir.path().join("missing.pem"), &dir.path().join("k.pem"))
    else {
        panic!("a missing certificate file was accepted")
    };
    assert!(e.to_string().contains("missing.pem"), "{e}");
}

/// Opens a connection and sends POST headers announcing a 100,000-byte body and the
/// first 10 bytes of it, then nothing more.
async fn stalled_upload(addr: std::net::SocketAddr, who: Who) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = authorization(who).unwrap();
    let head = format!(
        "POST /intel/collections/{INBOX}/objects/ HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: {auth}\r\nContent-Type: {TAXII}\r\nAccept: {TAXII}\r\n\
         Content-Length: 100000\r\n\r\n{{\"objects\""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Everything the server sends until it closes (or resets) the connection.
async fn response_of(stream: &mut tokio::net::TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0_u8; 4096];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `raw_http` on a fresh connection, answered within `within` or the test fails.
async fn answered_within(
    addr: std::net::SocketAddr,
    request: &str,
    within: Duration,
    what: &str,
) -> String {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        raw_http(&mut stream, request).await
    };
    tokio::time::timeout(within, exchange)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {within:?}"))
}

/// 64 connections of one partner that send POST headers and then stall (or trickle)
/// their bodies once took every request slot: `/healthz`, `/metrics` and every other
/// organisation waited for 90 s and more. Now a partner's requests hold only its own
/// slots, a body is read before a work slot is taken, the operational routes have slots
/// of their own, and a body that stalls or trickles past its timeouts is answered 408.
/// (Short timeouts and few slots, so that the test takes seconds.)
#[tokio::test]
async fn slow_uploads_of_one_partner_stall_nobody_else() {
    let f = fixture_with(
        "max_concurrent_requests = 8\nmax_requests_per_organisation = 4\n\
         body_idle_timeout = 0.5\nbody_read_timeout = 1.5\nheader_read_timeout = 1\n\
         metrics_public = true",
    );
    let server = serve(f.state.clone()).await;
    let addr = server.addr;
    let started = std::time::Instant::now();
    // Police stalls 16 uploads (twice the server's work slots) and trickles 2 more, a
    // byte every 100 ms: never idle long enough, but never done.
    let mut stalled = Vec::new();
    for _ in 0..16 {
        stalled.push(stalled_upload(addr, Who::Police).await);
    }
    let mut tricklers = Vec::new();
    for _ in 0..2 {
        let mut stream = stalled_upload(addr, Who::Police).await;
        tricklers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            let mut buf = [0_u8; 4096];
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tokio::select! {
                    read = stream.read(&mut buf) => match read {
                        Ok(0) | Err(_) => break,
                        Ok(n) => out.extend_from_slice(&buf[..n]),
                    },
                    _ = tick.tick() => { let _ = stream.write_all(b" ").await; }
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Meanwhile everyone else is served at once.
    let bound = Duration::from_secs(3);
    let health = answered_within(
        addr,
        &get_request("/healthz", Who::Nobody),
        bound,
        "/healthz",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let metrics = answered_within(
        addr,
        &get_request("/metrics", Who::Nobody),
        bound,
        "/metrics",
    )
    .await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    let path = objects_path(SHARED);
    let taxii_get = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nAccept: {TAXII}\r\n\
         Connection: close\r\n\r\n",
        authorization(Who::Telco).unwrap()
    );
    let reply = answered_within(addr, &taxii_get, bound, "telco's GET").await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let body =
        serde_json::json!({"objects": [identity(7, "2020-01-01T00:00:00.000Z")]}).to_string();
    let taxii_post = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nAccept: {TAXII}\r\n\
         Content-Type: {TAXII}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        authorization(Who::Telco).unwrap(),
        body.len()
    );
    let reply = answered_within(addr, &taxii_post, bound, "telco's POST").await;
    assert!(reply.starts_with("HTTP/1.1 202"), "{reply}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the others waited {:?}",
        started.elapsed()
    );
    // The stalled uploads are refused, 4 at a time (police's slots), each after its
    // 0.5 s pause (408), or 429 when they waited for a slot past body_read_timeout; the
    // tricklers 408 after 1.5 s in all (or 429 likewise).
    let refused = async {
        let mut replies = Vec::new();
        for stream in &mut stalled {
            replies.push(response_of(stream).await);
        }
        for trickler in tricklers {
            replies.push(trickler.await.unwrap());
        }
        replies
    };
    let replies = tokio::time::timeout(Duration::from_secs(15), refused)
        .await
        .expect("the slow uploads were not refused in time");
    let status = |reply: &String| reply.get(9..12).unwrap_or("").to_string();
    for reply in &replies {
        let code = status(reply);
        assert!(code == "408" || code == "429", "{reply}");
        assert!(
            reply.contains(&format!("\"http_status\":\"{code}\"")),
            "{reply}"
        );
    }
    let idle = replies[..16]
        .iter()
        .filter(|r| status(r) == "408" && r.contains("body_idle_timeout"))
        .count();
    assert!(idle >= 4, "{replies:?}");
    assert!(
        replies[16..]
            .iter()
            .all(|r| r.contains("body_read_timeout")),
        "{replies:?}"
    );
    // A connection that never sends its headers is closed after header_read_timeout.
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), response_of(&mut silent)).await;
    assert!(closed.is_ok(), "a silent connection stayed open");
    server.stop().await;
}
