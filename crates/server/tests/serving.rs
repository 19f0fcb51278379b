//! The real server on a loopback socket: plain HTTP, TLS, graceful shutdown, reload.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

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
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(accord_server::run(listener, f.state.clone(), async {
        let _ = stopped.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let reply = raw_http(&mut stream, &get_request("/healthz", Who::Nobody)).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let reply = raw_http(&mut stream, &get_request("/taxii2/", Who::Telco)).await;
    assert!(
        reply.starts_with("HTTP/1.1 200") && reply.contains("http://localhost/intel/"),
        "{reply}"
    );
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn configuration_changes_are_picked_up_while_serving() {
    let f = fixture();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(accord_server::run(listener, f.state.clone(), async {
        let _ = stopped.await;
    }));
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
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
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

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(accord_server::run(listener, state, async {
        let _ = stopped.await;
    }));

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
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
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
